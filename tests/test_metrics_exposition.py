"""``/metrics`` of a running daemon against the simulator, in each format a scraper may ask
for: valid for the strict parsers and promtool, cached between polls while the daemon's own
figures keep moving, switchable per agent, and never carrying the VICIdial password."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import parser as openmetrics_parser
from prometheus_client.parser import text_string_to_metric_families

from tests.support.daemon import DaemonHandle, FakeClock, daemon_settings, running_daemon
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.system import promtool_check_metrics
from tests.support.waiting import eventually
from wallboard.metrics import DaemonMetrics
from wallboard.web.keys import CONTEXT

#: What Prometheus 3 sends by default.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;q=0.5,"
    "application/openmetrics-text;version=0.0.1;q=0.4,"
    "text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator(seed=11) as handle:
        world: Any = handle.world
        world.ingroups["SALESLINE"].calls_waiting = 3
        world.ingroups["SUPPORT"].calls_waiting = 1
        yield handle


def started(
    sim: SimHandle, tmp_path: Path, clock: FakeClock, **sections: Any
) -> AbstractAsyncContextManager[DaemonHandle]:
    return running_daemon(daemon_settings(sim.base_url, tmp_path, **sections), clock=clock)


@pytest.fixture
async def daemon(sim: SimHandle, tmp_path: Path) -> AsyncIterator[tuple[DaemonHandle, FakeClock]]:
    clock = FakeClock(DEFAULT_START)
    async with started(sim, tmp_path, clock) as handle:
        await handle.wait_started()
        yield handle, clock


async def scrape(handle: DaemonHandle, accept: str | None = None) -> tuple[str, str]:
    headers = {} if accept is None else {"Accept": accept}
    async with handle.session.get(handle.url + "/metrics", headers=headers) as response:
        assert response.status == 200
        return response.headers["Content-Type"], await response.text()


def text_samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def openmetrics_families(text: str) -> list[Metric]:
    return list(openmetrics_parser.text_string_to_metric_families(text))  # type: ignore[no-untyped-call]


def metrics_of(handle: DaemonHandle) -> DaemonMetrics:
    metrics = handle.app[CONTEXT].metrics
    assert isinstance(metrics, DaemonMetrics)
    return metrics


async def test_prometheus_gets_strict_openmetrics_with_the_text_formats_figures(
    daemon: tuple[DaemonHandle, FakeClock],
) -> None:
    handle, _ = daemon
    content_type, text = await scrape(handle, PROMETHEUS_ACCEPT)
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    assert text.endswith("\n# EOF\n")
    assert text.count("# EOF") == 1
    families = {family.name: family for family in openmetrics_families(text)}
    assert families["wallboard_api_requests"].type == "counter"
    assert {"vicidial_campaign_drop_ratio", "vicidial_agent_calls_today", "vicidial_up"} <= set(
        families
    )
    plain_type, plain = await scrape(handle)
    assert plain_type == "text/plain; version=0.0.4; charset=utf-8"
    figures = text_samples(plain)
    for family in families.values():
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            if not sample.name.startswith("wallboard_data_age"):  # NaN != NaN aside, equal
                assert figures[key] == sample.value, key


async def test_promtool_accepts_the_live_text_exposition(
    daemon: tuple[DaemonHandle, FakeClock],
) -> None:
    handle, _ = daemon
    for accept in (None, "text/plain;version=1.0.0"):
        _, text = await scrape(handle, accept)
        await promtool_check_metrics(text)
        assert "_created" not in text, "no *_created series: they only double the exposition"


async def test_scrapes_between_polls_reuse_the_render_while_the_daemon_figures_move(
    daemon: tuple[DaemonHandle, FakeClock],
) -> None:
    handle, clock = daemon
    metrics = metrics_of(handle)
    before = text_samples((await scrape(handle))[1])
    renders = metrics.renders
    clock.advance(30)
    async with aiohttp.ClientSession() as tv, tv.get(handle.url + "/api/events") as stream:
        assert stream.status == 200

        async def one_client() -> bool:
            found = text_samples((await scrape(handle))[1])
            return found[("wallboard_stream_clients", ())] == 1

        await eventually(one_client, what="the TV's stream counted")
        during = text_samples((await scrape(handle))[1])
    assert metrics.renders == renders, "no poll, no new render"
    age = ("wallboard_data_age_seconds", ())
    assert during[age] == pytest.approx(before[age] + 30)
    assert before[("wallboard_stream_clients", ())] == 0
    agents = [key for key in before if key[0] == "vicidial_agent_calls_today"]
    assert agents
    assert all(during[key] == before[key] for key in agents)


async def test_a_poll_that_changes_the_figures_is_rendered_at_the_next_scrape(
    sim: SimHandle, daemon: tuple[DaemonHandle, FakeClock]
) -> None:
    handle, clock = daemon
    metrics = metrics_of(handle)
    await scrape(handle)
    renders = metrics.renders
    await sim.advance(600)
    clock.advance(600)
    await handle.poller.poll("call_status_stats")
    found = text_samples((await scrape(handle))[1])
    assert metrics.renders > renders
    for campaign in (await sim.state())["campaigns"]:
        key = ("vicidial_campaign_calls_today", (("campaign", campaign["id"]),))
        assert found[key] == campaign["calls_today"]


async def test_calls_waiting_are_exported_per_ingroup_only(
    daemon: tuple[DaemonHandle, FakeClock],
) -> None:
    handle, _ = daemon
    _, text = await scrape(handle)
    found = text_samples(text)
    assert found[("vicidial_ingroup_calls_waiting", (("ingroup", "SALESLINE"),))] == 3
    assert found[("vicidial_ingroup_calls_waiting", (("ingroup", "SUPPORT"),))] == 1
    assert "vicidial_campaign_calls_waiting" not in text
    assert "# HELP vicidial_ingroup_calls_waiting" in text


async def test_agent_series_off_leaves_no_agent_family(sim: SimHandle, tmp_path: Path) -> None:
    clock = FakeClock(DEFAULT_START)
    async with started(sim, tmp_path, clock, metrics={"agent_series": False}) as handle:
        await handle.wait_started()
        for accept in (None, PROMETHEUS_ACCEPT):
            _, text = await scrape(handle, accept)
            assert "vicidial_agent_" not in text
            assert "vicidial_campaign_agents{" in text


async def test_the_password_appears_nowhere_in_metrics(
    sim: SimHandle, daemon: tuple[DaemonHandle, FakeClock]
) -> None:
    handle, _ = daemon
    # VICIdial's login error echoes the password: the sources fail with it in hand.
    await sim.add_fault("*", "login", times=10)
    for name in ("logged_in_agents", "call_status_stats", "campaigns_list"):
        await handle.poller.poll_round(name)
    for accept in (None, PROMETHEUS_ACCEPT, "text/plain;version=1.0.0"):
        _, text = await scrape(handle, accept)
        assert "wallboard_source_up" in text
        assert sim.password not in text
