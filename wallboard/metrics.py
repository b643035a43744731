"""Prometheus exposition: a custom collector over the cached snapshot, plus daemon counters.

The collector reads the latest snapshot synchronously in ``collect()`` — no I/O, no VICIdial
request — so a Prometheus scrape every 5 s costs the dialer nothing. Staleness is exported as
gauges (``wallboard_data_age_seconds``, ``wallboard_source_up``), never as sample timestamps,
per the prometheus/client_python guidance for exporters. Our own ``CollectorRegistry`` keeps
the output to the names of CONTRACT §5.

Every drop window the snapshot holds is a ``window`` label value on the ratio and the drops
remaining, so a Grafana panel picks the figure it means by name. Drop-rate groups are exported
as ``campaign="group:NAME"`` with their drop figures only (today's calls, answers and drops, and
every window): their agents, hopper and dial level are nothing but their campaigns' again. A
``sum()`` of today's counts over campaigns must therefore leave out ``campaign=~"group:.*"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from wallboard.snapshot import AGENT_STATES, Snapshot
from wallboard.windows import drops_remaining
from wallboard.windows.names import PACE_1H, PACE_15M, PERIOD, ROLLING_30D, TODAY, TODAY_OFCOM

#: What each ``window`` label value means, in the HELP text: a ratio without its window is the
#: figure a regulator and a supervisor would argue about.
_WINDOW_MEANINGS = {
    TODAY: "since the dialer's midnight, VICIdial's own figure",
    ROLLING_30D: "the last 30 dialer days, today included",
    PERIOD: "since the first day of the current 30-day regulatory period",
    TODAY_OFCOM: (
        "UK mode only: Ofcom calendar-day rate, drops reduced by the agent-answered "
        "answering-machine share"
    ),
    PACE_15M: "pacing over the last 15 minutes observed (less right after a start or midnight)",
    PACE_1H: "pacing over the last hour observed (less right after a start or midnight)",
}
_WINDOW_HELP = (
    "Label window: "
    + "; ".join(f"{name} = {meaning}" for name, meaning in _WINDOW_MEANINGS.items())
    + ". A drop-rate group is campaign=group:NAME"
)
_GROUP_SUM = " (campaign=group:NAME: the sum over a drop-rate group's campaigns)"


class SnapshotCollector(Collector):
    """Turns the latest snapshot into gauges at scrape time.

    ``limit_for`` gives a campaign's (or ``group:NAME``'s) own limit for its drops remaining
    (``[alerts.campaigns.X] limit``); without it every target uses ``limit``.
    """

    def __init__(
        self,
        latest: Callable[[], Snapshot | None],
        clock: Callable[[], datetime],
        *,
        limit: float,
        agents_interval: float,
        stats_interval: float,
        alerts_firing: Callable[[], list[tuple[str, str, int]]] = list,
        stream_clients: Callable[[], int] = lambda: 0,
        limit_for: Callable[[str], float] | None = None,
    ) -> None:
        self._latest = latest
        self._clock = clock
        self._limit = limit
        self._limit_for: Callable[[str], float] = limit_for or (lambda _target: limit)
        self._agents_note = f" (from a cache refreshed every {agents_interval:g} s)"
        self._stats_note = f" (from a cache refreshed every {stats_interval:g} s)"
        self._alerts_firing = alerts_firing
        self.stream_clients = stream_clients

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self._latest()
        now = self._clock()
        yield from self._campaign_families(snapshot)
        yield from self._daemon_families(snapshot, now)

    def _gauge(self, name: str, doc: str, labels: list[str], note: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc + note, labels=labels)

    def _campaign_families(self, snapshot: Snapshot | None) -> Iterator[GaugeMetricFamily]:
        s, a = self._stats_note, self._agents_note
        active = self._gauge(
            "vicidial_campaign_active", "1 if the campaign is active", ["campaign"], s
        )
        level = self._gauge("vicidial_campaign_dial_level", "Current dial level", ["campaign"], s)
        hopper = self._gauge(
            "vicidial_campaign_hopper_leads", "Leads in the campaign's hopper", ["campaign"], s
        )
        calls = self._gauge(
            "vicidial_campaign_calls_today", "Calls placed today" + _GROUP_SUM, ["campaign"], s
        )
        answered = self._gauge(
            "vicidial_campaign_answered_calls_today",
            "Human-answered calls today (drops included, as VICIdial counts them)" + _GROUP_SUM,
            ["campaign"],
            s,
        )
        dropped = self._gauge(
            "vicidial_campaign_dropped_calls_today",
            "DROP + XDROP calls today" + _GROUP_SUM,
            ["campaign"],
            s,
        )
        ratio = self._gauge(
            "vicidial_campaign_drop_ratio",
            "Dropped / human-answered calls (0..1) over the window. " + _WINDOW_HELP,
            ["campaign", "window"],
            s,
        )
        remaining = self._gauge(
            "vicidial_campaign_drops_remaining",
            "Drops the window can still take at its current human-answered count before "
            f"reaching the limit ({self._limit:.1%} unless set per campaign). " + _WINDOW_HELP,
            ["campaign", "window"],
            s,
        )
        waiting = self._gauge(
            "vicidial_campaign_calls_waiting", "Calls waiting for an agent", ["campaign"], a
        )
        agents = self._gauge(
            "vicidial_campaign_agents", "Logged-in agents by state", ["campaign", "state"], a
        )
        agent_calls = self._gauge(
            "vicidial_agent_calls_today", "Calls the agent handled today", ["user", "campaign"], a
        )
        # Never-fetched counts are absent, not 0: a 0 % drop ratio must mean "no drops".
        have_stats = snapshot is not None and snapshot.counts_known
        for c in snapshot.campaigns if snapshot else ():
            if c.active is not None:
                active.add_metric([c.id], 1.0 if c.active else 0.0)
            if c.dial_level is not None:
                level.add_metric([c.id], c.dial_level)
            if c.hopper_leads is not None:
                hopper.add_metric([c.id], c.hopper_leads)
            if c.calls_waiting is not None:
                waiting.add_metric([c.id], c.calls_waiting)
            for state in AGENT_STATES:
                agents.add_metric([c.id, state], getattr(c.agents, state))
        # Groups export drop figures only: their agents, hopper and dial level would be a
        # second copy of their campaigns' and double any sum over the campaign label.
        for target in snapshot.drop_targets if snapshot and have_stats else ():
            limit = self._limit_for(target.id)
            calls.add_metric([target.id], target.today.calls)
            answered.add_metric([target.id], target.today.answered)
            dropped.add_metric([target.id], target.today.dropped)
            for name, window in target.windows.items():
                ratio.add_metric([target.id, name], window.drop_ratio)
                remaining.add_metric([target.id, name], drops_remaining(window, limit))
        for agent in snapshot.agents if snapshot else ():
            agent_calls.add_metric([agent.user, agent.campaign], agent.calls_today)
        yield from (active, level, hopper, calls, answered, dropped, ratio, remaining, waiting)
        yield from (agents, agent_calls)

    def _daemon_families(
        self, snapshot: Snapshot | None, now: datetime
    ) -> Iterator[GaugeMetricFamily]:
        sources = snapshot.sources if snapshot else ()
        up = GaugeMetricFamily(
            "vicidial_up", "1 when the last poll of every VICIdial source succeeded"
        )
        up.add_metric([], 1.0 if sources and all(s.ok for s in sources) else 0.0)
        source_up = GaugeMetricFamily(
            "wallboard_source_up",
            "1 when the last poll of this source succeeded",
            labels=["function"],
        )
        last = GaugeMetricFamily(
            "wallboard_source_last_success_timestamp_seconds",
            "Unix time of this source's last successful poll",
            labels=["function"],
        )
        for status in sources:
            source_up.add_metric([status.function], 1.0 if status.ok else 0.0)
            if status.last_success is not None:
                last.add_metric([status.function], status.last_success.timestamp())
        age = GaugeMetricFamily(
            "wallboard_data_age_seconds",
            "Age of the live figures: the older of agents and call counts (seconds)",
        )
        value = snapshot.age_seconds(now) if snapshot else None
        age.add_metric([], value if value is not None else float("nan"))
        firing = GaugeMetricFamily(
            "wallboard_alerts_firing",
            "Open alert incidents by campaign and severity (campaign empty: daemon-level, "
            "such as data_stale or login)",
            labels=["campaign", "severity"],
        )
        for campaign, severity, count in self._alerts_firing():
            firing.add_metric([campaign, severity], float(count))
        clients = GaugeMetricFamily("wallboard_stream_clients", "Open SSE streams (TVs)")
        clients.add_metric([], self.stream_clients())
        yield from (up, source_up, last, age, firing, clients)


class DaemonMetrics:
    """The registry of one daemon: the snapshot collector plus request/poll instruments."""

    def __init__(
        self,
        *,
        latest: Callable[[], Snapshot | None],
        clock: Callable[[], datetime],
        limit: float,
        agents_interval: float,
        stats_interval: float,
        alerts_firing: Callable[[], list[tuple[str, str, int]]] = list,
        limit_for: Callable[[str], float] | None = None,
    ) -> None:
        # ``*_created`` series only double the exposition; Grafana and alerts never use them.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = SnapshotCollector(
            latest,
            clock,
            limit=limit,
            agents_interval=agents_interval,
            stats_interval=stats_interval,
            alerts_firing=alerts_firing,
            limit_for=limit_for,
        )
        self.registry.register(self.collector)
        self.requests = Counter(
            "wallboard_api_requests",
            "VICIdial API requests by function and outcome",
            ["function", "outcome"],
            registry=self.registry,
        )
        self.poll_duration = Histogram(
            "wallboard_poll_duration_seconds",
            "Duration of one poll of a source, retries included",
            ["function"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.notifications = Counter(
            "wallboard_notifications",
            "Slack notifications by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.auto_pauses = Counter(
            "wallboard_auto_pauses",
            "Auto-pause actions by campaign and outcome",
            ["campaign", "outcome"],
            registry=self.registry,
        )

    @property
    def stream_clients(self) -> Callable[[], int]:
        return self.collector.stream_clients

    @stream_clients.setter
    def stream_clients(self, value: Callable[[], int]) -> None:
        self.collector.stream_clients = value

    def observe_request(self, function: str, outcome: str, seconds: float) -> None:
        self.requests.labels(function=function, outcome=outcome).inc()

    def observe_poll(self, function: str, outcome: str, seconds: float) -> None:
        self.poll_duration.labels(function=function).observe(seconds)

    def observe_notification(self, outcome: str) -> None:
        """One alert notification: ``sent`` (Slack), ``logged`` (no Slack), ``retry``,
        ``rejected``."""
        self.notifications.labels(outcome=outcome).inc()

    def observe_auto_pause(self, campaign: str, outcome: str) -> None:
        """One auto-pause: ``paused``, ``would_pause`` (dry run), ``refused``, ``failed``."""
        self.auto_pauses.labels(campaign=campaign, outcome=outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
