"""``/metrics`` over real HTTP from hand-built snapshots: the snapshot families are rendered
once per content and format, the daemon's own families on every scrape, in the format the
scraper negotiates."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

import aiohttp
import pytest
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import parser as openmetrics_parser
from prometheus_client.parser import text_string_to_metric_families

from tests.support.daemon import FakeClock
from tests.support.serving import serving
from tests.web.floor import COMPLIANCE_NOW, FakeStore, compliance_snapshot
from wallboard.metrics import DaemonMetrics, legacy_names_encoder
from wallboard.snapshot import AgentView, IngroupView, Snapshot, SourceStatus
from wallboard.web.app import build_web_app
from wallboard.web.keys import WebContext

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
TEXT_1 = "text/plain;version=1.0.0"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def floor() -> Snapshot:
    """The compliance floor with two in-groups."""
    return replace(
        compliance_snapshot(),
        ingroups=(IngroupView("SALESLINE", 4, 9), IngroupView("SUPPORT", 0, 2)),
    )


@dataclass
class Site:
    url: str
    http: aiohttp.ClientSession
    store: FakeStore
    clock: FakeClock
    metrics: DaemonMetrics
    clients: list[int] = field(default_factory=lambda: [0])

    async def scrape(self, accept: str | None = None) -> tuple[str, bytes]:
        headers = {} if accept is None else {"Accept": accept}
        async with self.http.get(self.url + "/metrics", headers=headers) as response:
            assert response.status == 200
            return response.headers["Content-Type"], await response.read()

    async def samples(self, accept: str | None = None) -> Samples:
        _, body = await self.scrape(accept)
        return samples_of(body.decode())


def openmetrics_families(text: str) -> list[Metric]:
    """prometheus-client's strict OpenMetrics parser: raises on anything invalid."""
    return list(openmetrics_parser.text_string_to_metric_families(text))  # type: ignore[no-untyped-call]


def samples_of(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@asynccontextmanager
async def site(snapshot: Snapshot | None = None, **options: object) -> AsyncIterator[Site]:
    store = FakeStore(floor() if snapshot is None else snapshot)
    clock = FakeClock(COMPLIANCE_NOW)
    clients = [0]
    metrics = DaemonMetrics(
        latest=store.latest,
        clock=clock,
        limit=0.03,
        stream_clients=lambda: clients[0],
        **options,  # type: ignore[arg-type]
    )
    context = WebContext(store=store, limit=0.03, metrics=metrics, clock=clock)
    async with serving(build_web_app(context)) as url, aiohttp.ClientSession() as http:
        yield Site(url, http, store, clock, metrics, clients)


def with_stats_polled(snapshot: Snapshot, polled: datetime) -> Snapshot:
    """The same content, every source's health newer (what an unchanged poll publishes)."""
    return replace(
        snapshot, sources=tuple(replace(s, last_success=polled) for s in snapshot.sources)
    )


async def test_a_cached_scrape_is_the_same_bytes_without_rendering_again() -> None:
    async with site() as s:
        first = await s.scrape()
        renders = s.metrics.renders
        assert renders > 0
        for _ in range(3):
            assert await s.scrape() == first
        assert s.metrics.renders == renders


async def test_the_daemon_families_move_on_cached_scrapes() -> None:
    async with site() as s:
        before = await s.samples()
        renders = s.metrics.renders
        s.clock.advance(42)
        s.clients[0] = 7
        s.metrics.observe_request("logged_in_agents", "ok", 0.1)
        s.metrics.observe_poll("logged_in_agents", "ok", 0.2)
        after = await s.samples()
        assert s.metrics.renders == renders, "only the daemon's own families were rendered"
        age = ("wallboard_data_age_seconds", ())
        assert after[age] == before[age] + 42
        assert before[("wallboard_stream_clients", ())] == 0
        assert after[("wallboard_stream_clients", ())] == 7
        requests = (
            "wallboard_api_requests_total",
            (("function", "logged_in_agents"), ("outcome", "ok")),
        )
        assert after[requests] == 1
        count = ("wallboard_poll_duration_seconds_count", (("function", "logged_in_agents"),))
        assert after[count] == 1
        calls = ("vicidial_campaign_calls_today", (("campaign", "SALES1"),))
        assert after[calls] == before[calls] == 2000


async def test_a_content_change_renders_again_and_only_what_changed() -> None:
    async with site() as s:
        await s.scrape()
        renders = s.metrics.renders
        snapshot = s.store.snapshot
        assert snapshot is not None
        sales1 = snapshot.campaigns[0]
        changed = replace(sales1, today=replace(sales1.today, calls=2001))
        s.store.snapshot = replace(snapshot, campaigns=(changed, *snapshot.campaigns[1:]))
        found = await s.samples()
        assert found[("vicidial_campaign_calls_today", (("campaign", "SALES1"),))] == 2001
        assert s.metrics.renders == renders + 1, "the call counts alone, not agents or hoppers"


async def test_an_agents_change_leaves_the_drop_figures_cached() -> None:
    async with site() as s:
        await s.scrape()
        renders = s.metrics.renders
        snapshot = s.store.snapshot
        assert snapshot is not None
        agent = snapshot.agents[0]
        s.store.snapshot = replace(
            snapshot, agents=(replace(agent, calls_today=99), *snapshot.agents[1:])
        )
        found = await s.samples()
        key = ("vicidial_agent_calls_today", (("campaign", agent.campaign), ("user", agent.user)))
        assert found[key] == 99
        assert s.metrics.renders == renders + 1


async def test_the_same_content_with_newer_health_is_not_rendered_again() -> None:
    async with site() as s:
        first = await s.samples()
        renders = s.metrics.renders
        snapshot = s.store.snapshot
        assert snapshot is not None
        newer = with_stats_polled(snapshot, COMPLIANCE_NOW)
        assert newer == snapshot
        assert newer is not snapshot
        s.store.snapshot = newer
        found = await s.samples()
        assert s.metrics.renders == renders
        age = ("wallboard_data_age_seconds", ())
        assert found[age] == 0 < first[age]


async def test_counts_fetched_for_the_first_time_render_the_drop_figures() -> None:
    # Snapshot equality leaves the sources out, but whether call counts were ever fetched
    # decides whether drop figures are shown: it is part of the cache key.
    never = replace(
        floor(),
        sources=(SourceStatus("call_status_stats", 60.0, last_error="HTTP 500"),),
    )
    async with site(never) as s:
        assert "vicidial_campaign_drop_ratio" not in {name for name, _ in await s.samples()}
        fetched = with_stats_polled(never, COMPLIANCE_NOW)
        assert fetched == never
        s.store.snapshot = fetched
        found = await s.samples()
        ratio = ("vicidial_campaign_drop_ratio", (("campaign", "SALES1"), ("window", "today")))
        assert found[ratio] == 0.022


async def test_openmetrics_when_asked_with_one_eof_and_the_same_samples() -> None:
    async with site() as s:
        s.metrics.observe_request("logged_in_agents", "ok", 0.1)
        s.metrics.observe_notification("sent")
        content_type, body = await s.scrape(OPENMETRICS)
        assert content_type.startswith("application/openmetrics-text; version=1.0.0")
        text = body.decode()
        assert text.endswith("\n# EOF\n")
        assert text.count("# EOF") == 1
        families = {f.name: f for f in openmetrics_families(text)}  # strict: raises if invalid
        # OpenMetrics counters are named without _total; their samples carry it.
        assert families["wallboard_api_requests"].type == "counter"
        assert families["wallboard_notifications"].type == "counter"
        assert families["wallboard_poll_duration_seconds"].type == "histogram"
        om = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in families.values()
            for sample in family.samples
        }
        plain_type, plain = await s.scrape()
        assert plain_type == "text/plain; version=0.0.4; charset=utf-8"
        text_samples = samples_of(plain.decode())
        assert om.keys() == text_samples.keys()
        for key, value in om.items():
            assert value == text_samples[key] or (
                math.isnan(value) and math.isnan(text_samples[key])
            )


async def test_each_format_is_cached_on_its_own() -> None:
    async with site() as s:
        _, plain = await s.scrape()
        renders = s.metrics.renders
        _, om = await s.scrape(OPENMETRICS)
        assert s.metrics.renders > renders, "OpenMetrics is rendered once"
        renders = s.metrics.renders
        assert (await s.scrape(OPENMETRICS))[1] == om
        assert (await s.scrape())[1] == plain
        content_type, text_1 = await s.scrape(TEXT_1)
        assert content_type == "text/plain; version=1.0.0; charset=utf-8; escaping=underscores"
        assert s.metrics.renders > renders
        assert samples_of(text_1.decode()).keys() == samples_of(plain.decode()).keys()


async def test_both_formats_parse_before_the_first_poll() -> None:
    async with site() as s:
        s.store.snapshot = None
        _, body = await s.scrape(OPENMETRICS)
        families = {f.name for f in openmetrics_families(body.decode())}
        assert "vicidial_up" in families
        assert not any(name.startswith("vicidial_campaign") for name in families)
        _, body = await s.scrape()
        assert samples_of(body.decode())[("vicidial_up", ())] == 0


@pytest.mark.parametrize("accept", [OPENMETRICS, TEXT_1, "*/*"])
def test_the_fast_escaping_writes_the_very_same_bytes(accept: str) -> None:
    # Label values that every escaping must treat alike: quotes, backslashes, newlines, UTF-8.
    snapshot = floor()
    odd = AgentView(
        user='o"dd\\user\nnext',
        name="Zoë",
        campaign="ÇAMPAIGN",
        state="incall",
        status="INCALL",
        sub_status="",
        pause_code="",
        calls_today=3,
        state_since=COMPLIANCE_NOW,
    )
    snapshot = replace(snapshot, agents=(*snapshot.agents, odd))
    metrics = DaemonMetrics(latest=lambda: snapshot, clock=lambda: COMPLIANCE_NOW, limit=0.03)
    metrics.observe_request("logged_in_agents", "ok", 0.1)
    encoder, _ = choose_encoder(accept)
    for part in (metrics.registry, _families(metrics, snapshot)):
        assert legacy_names_encoder(encoder)(part) == encoder(part)


class _All:
    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def _families(metrics: DaemonMetrics, snapshot: Snapshot) -> _All:
    return _All(metrics.collector.snapshot_families(snapshot))


async def test_no_vicidial_agent_family_without_agent_series() -> None:
    async with site(agent_series=False) as s:
        for accept in (None, OPENMETRICS):
            _, body = await s.scrape(accept)
            assert b"vicidial_agent_" not in body
            assert b"vicidial_campaign_agents{" in body


async def test_waiting_calls_are_per_ingroup_and_never_a_fake_campaign_zero() -> None:
    async with site() as s:
        _, body = await s.scrape()
        found = samples_of(body.decode())
        assert found[("vicidial_ingroup_calls_waiting", (("ingroup", "SALESLINE"),))] == 4
        assert found[("vicidial_ingroup_calls_waiting", (("ingroup", "SUPPORT"),))] == 0
        assert b"vicidial_campaign_calls_waiting" not in body
        s.store.snapshot = replace(floor(), ingroups=())
        _, body = await s.scrape()
        assert b"vicidial_ingroup_calls_waiting" not in body, "no in-groups: no family at all"


def helps(body: bytes) -> dict[str, str]:
    return {
        line.split()[2]: line for line in body.decode().splitlines() if line.startswith("# HELP ")
    }


async def test_help_states_each_familys_own_cadence() -> None:
    configured = {
        "logged_in_agents": 15.0,
        "call_status_stats": 45.0,
        "campaigns_list": 90.0,
        "hopper_list": 150.0,
        "in_group_status": 20.0,
    }
    no_health = replace(floor(), sources=())
    async with site(no_health, intervals=configured) as s:
        found = helps((await s.scrape())[1])
        expected = {
            "vicidial_campaign_active": 90,
            "vicidial_campaign_dial_level": 90,
            "vicidial_campaign_hopper_leads": 150,
            "vicidial_campaign_agents": 15,
            "vicidial_agent_calls_today": 15,
            "vicidial_ingroup_calls_waiting": 20,
        }
        for name, seconds in expected.items():
            assert found[name].endswith(f"(from a cache refreshed every {seconds} s)"), name
        # The request budget stretches the hoppers on a large floor: HELP follows the
        # effective interval the snapshot reports, and the stale bytes are not reused.
        stretched = replace(
            floor(),
            sources=(
                SourceStatus("hopper_list", 600.0, ok=True, last_success=COMPLIANCE_NOW),
                SourceStatus("call_status_stats", 45.0, ok=True, last_success=COMPLIANCE_NOW),
            ),
        )
        s.store.snapshot = stretched
        found = helps((await s.scrape())[1])
        assert found["vicidial_campaign_hopper_leads"].endswith("refreshed every 600 s)")
        assert found["vicidial_campaign_active"].endswith("refreshed every 90 s)")
        assert found["vicidial_campaign_calls_today"].endswith("refreshed every 45 s)")


async def test_a_plain_callable_is_still_served_as_text() -> None:
    context = WebContext(store=FakeStore(None), limit=0.03, metrics=lambda: b"up 1\n")
    async with (
        serving(build_web_app(context)) as url,
        aiohttp.ClientSession() as http,
        http.get(url + "/metrics", headers={"Accept": OPENMETRICS}) as response,
    ):
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert await response.read() == b"up 1\n"


async def test_made_up_versions_do_not_grow_the_cache_or_break_the_answer() -> None:
    async with site() as s:
        for minor in range(12):
            content_type, body = await s.scrape(f"application/openmetrics-text;version=1.{minor}.0")
            assert f"version=1.{minor}.0" in content_type
            assert body.endswith(b"# EOF\n")
            assert body.count(b"# EOF") == 1
        assert len(s.metrics.rendered.content_types) <= 4
        assert (await s.scrape())[0].startswith("text/plain; version=0.0.4")


async def test_no_metrics_is_a_404() -> None:
    context = WebContext(store=FakeStore(None), limit=0.03, metrics=None)
    async with (
        serving(build_web_app(context)) as url,
        aiohttp.ClientSession() as http,
        http.get(url + "/metrics") as response,
    ):
        assert response.status == 404


def test_counters_that_can_move_exist_at_zero_from_the_start() -> None:
    """Prometheus never sees the first increment of a counter born at 1; every outcome (and
    every auto-pause campaign's) is there at 0 before anything happened."""
    metrics = DaemonMetrics(
        latest=lambda: None,
        clock=FakeClock(COMPLIANCE_NOW),
        limit=0.03,
        auto_pause_campaigns=("SALES1",),
    )
    found = samples_of(metrics.render().decode())
    for outcome in ("sent", "logged", "retry", "rejected"):
        assert found[("wallboard_notifications_total", (("outcome", outcome),))] == 0.0
    for outcome in ("paused", "would_pause", "refused", "failed", "unknown"):
        key = (("campaign", "SALES1"), ("outcome", outcome))
        assert found[("wallboard_auto_pauses_total", key)] == 0.0
    assert not [name for name, labels in found if name == "wallboard_auto_pauses_total"
                and ("campaign", "SALES2") in labels], "only auto-pause campaigns"  # fmt: skip
    metrics.observe_auto_pause("SALES1", "paused")
    after = samples_of(metrics.render().decode())
    assert after[("wallboard_auto_pauses_total", (("campaign", "SALES1"), ("outcome", "paused")))]
