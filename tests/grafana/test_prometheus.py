"""A real Prometheus scrapes two daemons sharing one Redis; the dashboard and the rules run on it.

One Prometheus (1 s scrapes and rule evaluations) for the whole module: a leader and a follower
on one real ``redis-server`` against the simulator, SALES1 steered to 3.1 % until the daemon opens
a critical incident and (dry-run) auto-pauses it. Every dashboard query then has data for SALES1
and agrees with ``/api/snapshot``, though Prometheus holds each cached figure twice (once per
instance); the rules file loads and its records agree too. The leader is scraped through a
recording pass-through, which shows the scrape negotiated OpenMetrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import hdrs, web

from tests.grafana.layout import RULES, dashboard_queries, load_yaml
from tests.grafana.promql_shape import metric_uses
from tests.support.daemon import DaemonHandle, FakeClock, daemon_settings, running_daemon
from tests.support.redis_server import free_port, running_redis_server
from tests.support.serving import serving
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.system import require_binary
from tests.support.waiting import eventually
from wallboard.config import Settings
from wallboard.daemon import ALERTS

pytestmark = pytest.mark.asyncio(loop_scope="module")

KNOWN = "SALES1"
#: Grafana's variables as the test sends them: one campaign, windows that hold several scrapes.
VARIABLES = {"$campaign": KNOWN, "$__rate_interval": "1m", "$__range": "5m"}
#: Sources polled again once Prometheus is scraping, so request and poll rates are above zero.
POLLED = ("logged_in_agents", "call_status_stats", "campaigns_list")
OPENMETRICS = "application/openmetrics-text"


def substituted(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


@dataclass
class ScrapeRecorder:
    """A pass-through to one daemon's ``/metrics`` that notes what each scrape negotiated."""

    target: str
    accepts: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        accept = request.headers.get(hdrs.ACCEPT, "")
        self.accepts.append(accept)
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.target + "/metrics", headers={hdrs.ACCEPT: accept}) as answer,
        ):
            body = await answer.read()
            content_type = answer.headers.get(hdrs.CONTENT_TYPE, "")
        self.content_types.append(content_type)
        return web.Response(
            status=answer.status, body=body, headers={hdrs.CONTENT_TYPE: content_type}
        )


@dataclass
class Stack:
    base: str
    session: aiohttp.ClientSession
    leader: DaemonHandle
    follower: DaemonHandle
    recorder: ScrapeRecorder
    instances: dict[str, str]  # Prometheus `instance` label -> "leader" / "follower"
    log: Path

    async def query(self, expr: str) -> list[dict[str, Any]]:
        async with self.session.get(self.base + "/api/v1/query", params={"query": expr}) as r:
            answer: dict[str, Any] = await r.json()
        assert answer["status"] == "success", (expr, answer, self.log_tail())
        results: list[dict[str, Any]] = answer["data"]["result"]
        return results

    async def api(self, path: str) -> Any:
        async with self.session.get(self.base + path) as response:
            return (await response.json())["data"]

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
        return ""


def settings(sim: SimHandle, redis_url: str, state: Path) -> Settings:
    state.mkdir()
    return daemon_settings(
        sim.base_url,
        state,
        cache={"backend": "redis", "redis_url": redis_url, "lock_ttl": "5s"},
        alerts={
            "pending": "10s",
            "auto_pause": {"campaigns": [KNOWN], "at": 0.029, "dry_run": True},
        },
    )


async def open_a_critical_incident(sim: SimHandle, leader: DaemonHandle, clock: FakeClock) -> None:
    """SALES1 at 3.1 % for longer than ``pending``: critical, a dry-run pause, a notification."""
    runtime = leader.app[ALERTS]
    await sim.steer(KNOWN, answered_today=1000, dropped_today=31)
    for _ in range(4):
        await leader.poller.poll("call_status_stats")
        await runtime.engine.evaluate_now()
        clock.advance(10)
    await runtime.outbox.drain()
    alerts = (await leader.snapshot())["alerts"]
    [alert] = [a for a in alerts if a["campaign"] == KNOWN and a["window"] == "today"]
    assert alert["severity"] == "critical", alerts
    assert alert["auto_pause"]["outcome"] == "would_pause", alerts


async def same_snapshot(leader: DaemonHandle, follower: DaemonHandle) -> bool:
    (sa, a), (sb, b) = (
        await leader.get_json("/api/snapshot"),
        await follower.get_json("/api/snapshot"),
    )
    return sa == sb == 200 and a["taken_at"] == b["taken_at"] and a["alerts"] == b["alerts"]


def prometheus_config(targets: list[str]) -> str:
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "wallboard", "static_configs": [{"targets": targets}]}],
    }
    return json.dumps(config)  # JSON is YAML


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    binary = require_binary("prometheus", "/usr/bin/prometheus")
    root = tmp_path_factory.mktemp("prometheus-stack")
    clock = FakeClock(DEFAULT_START)  # one wall clock for both instances, as on one host
    with running_redis_server(root) as redis:
        async with (
            running_simulator(seed=9) as sim,
            contextlib.AsyncExitStack() as resources,
        ):
            a = settings(sim, redis.url, root / "a")
            leader = await resources.enter_async_context(
                running_daemon(a, clock=clock, instance="a")
            )
            await leader.wait_started()
            await open_a_critical_incident(sim, leader, clock)
            b = settings(sim, redis.url, root / "b")
            follower = await resources.enter_async_context(
                running_daemon(b, clock=clock, instance="b")
            )
            await eventually(
                lambda: same_snapshot(leader, follower), within=15, what="the follower's copy"
            )
            assert not follower.poller.running, "one poller for the two instances"
            recorder = ScrapeRecorder(leader.url)
            via_recorder = await resources.enter_async_context(serving(recorder.app()))
            # One TV on the follower: stream clients are per instance, not a shared figure.
            stream = await resources.enter_async_context(
                follower.session.get(follower.url + "/api/events")
            )
            assert stream.status == 200
            targets = [via_recorder.removeprefix("http://"), follower.url.removeprefix("http://")]
            config = root / "prometheus.yml"
            config.write_text(prometheus_config(targets))
            log = root / "prometheus.log"
            port = free_port()
            with log.open("wb") as log_file:
                process = await asyncio.create_subprocess_exec(
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={root / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=log_file,
                )
            session = await resources.enter_async_context(aiohttp.ClientSession())
            stack = Stack(
                f"http://127.0.0.1:{port}",
                session,
                leader,
                follower,
                recorder,
                dict(zip(targets, ("leader", "follower"), strict=True)),
                log,
            )
            try:
                await warm_up(stack)
                yield stack
            finally:
                process.terminate()
                await process.wait()


async def warm_up(stack: Stack) -> None:
    """Until both instances are scraped, the leader has polled again, and the rules ran."""

    async def scraped_twice() -> bool:
        try:
            results = await stack.query('count_over_time(up{job="wallboard"}[1m])')
        except (aiohttp.ClientError, AssertionError):
            return False
        return len(results) == 2 and all(float(r["value"][1]) >= 2 for r in results)

    await eventually(scraped_twice, within=60, what=f"two scrapes of each\n{stack.log_tail()}")
    for function in POLLED:
        await stack.leader.poller.poll(function)
    await eventually(
        lambda: same_snapshot(stack.leader, stack.follower), within=15, what="the new copy"
    )
    copied = time.time()

    async def scraped_since() -> bool:
        results = await stack.query('timestamp(up{job="wallboard"})')
        return len(results) == 2 and all(float(r["value"][1]) > copied for r in results)

    await eventually(scraped_since, within=30, what="a scrape of each after the new polls")

    async def rates_seen() -> bool:
        results = await stack.query(
            "sum by (function) (increase(wallboard_api_requests_total[1m])) > 0"
        )
        return {r["metric"]["function"] for r in results} >= set(POLLED)

    await eventually(rates_seen, within=30, what="the new polls in the request rates")

    async def recorded() -> bool:
        return bool(await stack.query("campaign_window:vicidial_campaign_drop_ratio:max"))

    await eventually(recorded, within=30, what="the recording rules' first evaluation")


def labelled(results: list[dict[str, Any]]) -> dict[frozenset[tuple[str, str]], float]:
    return {
        frozenset((k, v) for k, v in r["metric"].items() if k != "__name__"): float(r["value"][1])
        for r in results
    }


async def test_prometheus_scrapes_both_daemons_and_negotiates_openmetrics(stack: Stack) -> None:
    up = await stack.query('up{job="wallboard"}')
    assert {r["metric"]["instance"]: r["value"][1] for r in up} == dict.fromkeys(
        stack.instances, "1"
    )
    assert stack.recorder.accepts, "the leader was scraped through the recorder"
    assert all(a.startswith(OPENMETRICS) for a in stack.recorder.accepts), stack.recorder.accepts
    assert stack.recorder.content_types
    assert all(c.startswith(OPENMETRICS) for c in stack.recorder.content_types), (
        "the daemon answered Prometheus in the text format, not OpenMetrics",
        set(stack.recorder.content_types),
    )


async def test_every_dashboard_query_returns_data_for_a_known_campaign(stack: Stack) -> None:
    empty = []
    for title, expr in dashboard_queries():
        results = await stack.query(substituted(expr))
        if not results:
            empty.append((title, expr))
        for result in results:
            assert result["metric"].get("campaign", KNOWN) in (KNOWN, ""), (title, result)
    assert empty == [], f"no data:\n{stack.log_tail()}"


async def test_each_instance_exports_every_figure_and_the_dashboard_shows_it_once(
    stack: Stack,
) -> None:
    raw = await stack.query(f'vicidial_campaign_calls_today{{campaign="{KNOWN}"}}')
    assert {r["metric"]["instance"] for r in raw} == set(stack.instances)
    [(title, expr)] = [q for q in dashboard_queries() if "vicidial_campaign_calls_today" in q[1]]
    assert len(await stack.query(substituted(expr))) == 1, title


def snapshot_series(
    metric: str, snapshot: dict[str, Any], instances: dict[str, str]
) -> list[tuple[dict[str, str], float]]:
    """What the daemon should export for ``metric`` according to ``/api/snapshot``: one copy
    (Prometheus has one per instance; the dashboard's ``max by`` folds them), with ``job``."""
    campaigns = [*snapshot["campaigns"], *snapshot["drop_groups"]]
    fields = {
        "vicidial_campaign_calls_today": "calls_today",
        "vicidial_campaign_answered_calls_today": "answered_today",
        "vicidial_campaign_dropped_calls_today": "dropped_today",
        "vicidial_campaign_dial_level": "dial_level",
        "vicidial_campaign_hopper_leads": "hopper_leads",
    }
    series: list[tuple[dict[str, str], float]] = []
    if metric in fields:
        series = [
            ({"campaign": c["id"]}, float(c[fields[metric]]))
            for c in campaigns
            if c.get(fields[metric]) is not None
        ]
    elif metric in ("vicidial_campaign_drop_ratio", "vicidial_campaign_drops_remaining"):
        key = "ratio" if metric.endswith("ratio") else "drops_remaining"
        series = [
            ({"campaign": c["id"], "window": name}, float(window[key]))
            for c in campaigns
            for name, window in c["windows"].items()
        ]
    elif metric == "vicidial_campaign_agents":
        series = [
            ({"campaign": c["id"], "state": state}, float(count))
            for c in snapshot["campaigns"]
            for state, count in c["agents"].items()
        ]
    elif metric == "vicidial_ingroup_calls_waiting":
        series = [({"ingroup": i["id"]}, float(i["calls_waiting"])) for i in snapshot["ingroups"]]
    elif metric == "wallboard_alerts_firing":
        counts = Counter((a["campaign"] or "", a["severity"]) for a in snapshot["alerts"])
        series = [
            ({"campaign": campaign, "severity": severity}, float(n))
            for (campaign, severity), n in counts.items()
        ]
    elif metric == "vicidial_up":
        series = [({}, float(all(s["ok"] for s in snapshot["sources"].values())))]
    elif metric == "wallboard_source_up":
        series = [({"function": f}, float(s["ok"])) for f, s in snapshot["sources"].items()]
    elif metric == "wallboard_data_age_seconds":
        series = [({"instance": i}, float(snapshot["age_seconds"])) for i in instances]
    elif metric == "wallboard_stream_clients":
        series = [({"instance": i}, float(role == "follower")) for i, role in instances.items()]
    else:
        raise AssertionError(f"no expectation for {metric}: add one to this test")
    return [({"job": "wallboard", **labels}, value) for labels, value in series]


def matches(expr: str, labels: dict[str, str]) -> bool:
    """Whether the selector's label matchers in ``expr`` keep a series with ``labels``."""
    for name, operator, value in re.findall(r'(\w+)\s*(=~|=)\s*"([^"]*)"', expr):
        actual = labels.get(name, "")
        if not (re.fullmatch(value, actual) if operator == "=~" else actual == value):
            return False
    return True


def aggregate(expr: str, series: list[tuple[dict[str, str], float]]) -> dict[Any, float]:
    """Apply the outermost ``sum by`` / ``max by`` of ``expr`` to ``series``."""
    outer = re.match(r"(sum|max) by \(([^)]*)\)", expr)
    assert outer, expr
    keep = [label.strip() for label in outer.group(2).split(",")]
    grouped: dict[frozenset[tuple[str, str]], list[float]] = {}
    for labels, value in series:
        if matches(expr, labels):
            key = frozenset((k, labels[k]) for k in keep if labels.get(k))
            grouped.setdefault(key, []).append(value)
    combine = sum if outer.group(1) == "sum" else max
    return {key: float(combine(values)) for key, values in grouped.items()}


async def test_dashboard_figures_agree_with_the_snapshot(stack: Stack) -> None:
    snapshot = await stack.leader.snapshot()
    checked = []
    for title, template in dashboard_queries():
        expr = substituted(template)
        got = labelled(await stack.query(expr))
        metric = metric_uses(expr)[0].metric
        if metric.endswith(("_total", "_bucket")):
            # Per-process counters: their own test below. A quantile of no polls is NaN.
            assert all(math.isnan(v) or v >= 0 for v in got.values()), (title, got)
            checked.append(metric)
            continue
        expected = aggregate(expr, snapshot_series(metric, snapshot, stack.instances))
        assert got.keys() == expected.keys(), (title, expr, got, expected)
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, abs=1e-6 if value < 1 else 0.5), (title, key)
        checked.append(metric)
    assert len(checked) == len(dashboard_queries())


async def test_counter_panels_see_the_leaders_events(stack: Stack) -> None:
    """Counters are summed over instances: the leader's polls, pause and notification show."""
    found: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for _, template in dashboard_queries():
        expr = substituted(template)
        metric = metric_uses(expr)[0].metric
        if metric.endswith(("_total", "_bucket")):
            found[metric] = labelled(await stack.query(expr))
    for function in POLLED:
        per_minute = found["wallboard_api_requests_total"]
        assert per_minute[frozenset({("function", function), ("outcome", "ok")})] > 0
        p95 = found["wallboard_poll_duration_seconds_bucket"][frozenset({("function", function)})]
        assert 0 < p95 < 30, function
    # Every outcome exists at 0 from the daemon's start (so increase() counts a first event),
    # for the auto-pause campaigns only. The pause here came before the first scrape.
    assert set(found["wallboard_auto_pauses_total"]) == {
        frozenset({("campaign", KNOWN), ("outcome", outcome)})
        for outcome in ("paused", "would_pause", "refused", "failed", "unknown")
    }
    assert set(found["wallboard_notifications_total"]) == {
        frozenset({("outcome", outcome)}) for outcome in ("sent", "logged", "retry", "rejected")
    }


def rule_names() -> Iterator[tuple[str, str]]:
    for group in load_yaml(RULES)["groups"]:
        for rule in group["rules"]:
            yield group["name"], rule.get("record") or rule["alert"]


async def test_prometheus_loads_the_rules_and_they_evaluate_on_the_live_figures(
    stack: Stack,
) -> None:
    loaded = await stack.api("/api/v1/rules")
    seen = {
        (group["name"], rule["name"]): (rule["health"], rule.get("lastError", ""))
        for group in loaded["groups"]
        for rule in group["rules"]
    }
    assert set(seen) == set(rule_names())
    assert all(health == ("ok", "") for health in seen.values()), seen

    snapshot = await stack.leader.snapshot()
    [sales1] = [c for c in snapshot["campaigns"] if c["id"] == KNOWN]
    ratio = await stack.query(
        f'campaign_window:vicidial_campaign_drop_ratio:max{{campaign="{KNOWN}", window="today"}}'
    )
    assert [float(r["value"][1]) for r in ratio] == [
        pytest.approx(sales1["windows"]["today"]["ratio"], abs=1e-6)
    ]
    answered = await stack.query("campaign:vicidial_campaign_answered_calls_today:max")
    assert labelled(answered)[frozenset({("campaign", KNOWN)})] == sales1["answered_today"]
    assert [r["value"][1] for r in await stack.query("job:vicidial_up:max")] == ["1"]

    # 3.1 % over 1,000 answers: the critical rule holds SALES1 (pending: its `for` is minutes).
    alerts = await stack.api("/api/v1/alerts")
    held = Counter(
        (a["labels"]["alertname"], a["labels"].get("campaign"), a["labels"].get("window"))
        for a in alerts["alerts"]
    )
    assert held[("VicidialDropRatioCritical", KNOWN, "today")] == 1, "once for two instances"
    assert not any(name.startswith("Wallboard") or name == "VicidialDown" for name, *_ in held)
