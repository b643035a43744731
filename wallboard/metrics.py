"""Prometheus exposition: the snapshot's families rendered once per content, the daemon's live.

Nothing here does I/O or asks VICIdial: a scrape reads the latest snapshot, so a Prometheus
scrape every 5 s costs the dialer nothing. Staleness is exported as gauges
(``wallboard_data_age_seconds``, ``wallboard_source_up``), never as sample timestamps, per the
prometheus/client_python guidance for exporters. Our own ``CollectorRegistry`` keeps the output
to the names of CONTRACT §5.

A scrape is two parts. The *snapshot families* (campaigns, agents, in-groups) change only when
a poll brings new figures, yet formatting them is most of a large floor's scrape (2,000 agents:
tens of milliseconds of prometheus-client's per-sample formatting). They are rendered once per
(snapshot content, content type) and the bytes reused until the content changes, so a scrape on
a quiet floor is a lookup; and since each poll publishes its own snapshot, they are cached in
groups by the source they come from (:class:`FamilyGroup`), so a poll of the agents renders the
agent families again and leaves the call counts' bytes as they were. The *daemon families*
(``vicidial_up``, ``wallboard_*``: ages, source health, counters, the poll histogram, alerts,
stream clients) move with the clock and with every request; they are small and rendered on
every scrape, then appended, so nothing freezes. Both parts are formatted by prometheus-client
with the encoder :func:`choose_encoder` picks from the scrape's ``Accept`` header (text 0.0.4
or 1.0.0, OpenMetrics); OpenMetrics' ``# EOF`` closes the daemon part only, so it appears once,
at the end. ``bench/metrics.py`` measures both parts on a floor of 2,000 agents.

Every drop window the snapshot holds is a ``window`` label value on the ratio and the drops
remaining, so a Grafana panel picks the figure it means by name. Drop-rate groups are exported
as ``campaign="group:NAME"`` with their drop figures only (today's calls, answers and drops, and
every window): their agents, hopper and dial level are nothing but their campaigns' again. A
``sum()`` of today's counts over campaigns must therefore leave out ``campaign=~"group:.*"``.
Each HELP text says how often its figures are refreshed: the source's effective interval
(the request budget may stretch the hoppers' on a large floor), else the configured one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import ALLOWUTF8
from prometheus_client.registry import Collector

from wallboard.snapshot import AGENT_STATES, Snapshot
from wallboard.windows import drops_remaining
from wallboard.windows.names import PACE_1H, PACE_15M, PERIOD, ROLLING_30D, TODAY, TODAY_OFCOM

AGENTS = "logged_in_agents"
STATS = "call_status_stats"
CAMPAIGNS = "campaigns_list"
HOPPERS = "hopper_list"
INGROUPS = "in_group_status"

#: The configured poll interval of each source the snapshot families come from, by the
#: ``[poll]`` key that sets it (:attr:`wallboard.config.PollConfig.intervals`).
SOURCE_OF_INTERVAL_KEY = {
    "agents_interval": AGENTS,
    "stats_interval": STATS,
    "campaigns_interval": CAMPAIGNS,
    "hopper_interval": HOPPERS,
    "ingroups_interval": INGROUPS,
}

#: The ``[poll]`` defaults, by source: what HELP says when no interval is passed in.
DEFAULT_INTERVALS: Mapping[str, float] = {
    AGENTS: 30.0,
    STATS: 60.0,
    CAMPAIGNS: 60.0,
    HOPPERS: 120.0,
    INGROUPS: 30.0,
}

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

#: OpenMetrics' last line; only the last part of a scrape may carry it.
_EOF = b"# EOF\n"

#: A group key no snapshot has: the first snapshot renders every group.
_UNSET = object()

#: Rendered bodies kept per content: a Prometheus and a person with curl need two; a client
#: cycling through made-up versions in ``Accept`` must not grow the cache without bound.
_MAX_CONTENT_TYPES = 4


def source_intervals(poll_intervals: Mapping[str, timedelta]) -> dict[str, float]:
    """``[poll]`` intervals by key (``PollConfig.intervals``) → seconds by VICIdial source."""
    return {
        SOURCE_OF_INTERVAL_KEY[key]: interval.total_seconds()
        for key, interval in poll_intervals.items()
        if key in SOURCE_OF_INTERVAL_KEY
    }


# What each family group reads from a snapshot (its cache key): cheap next to rendering.


def _campaign_settings(snapshot: Snapshot) -> object:
    return tuple((c.id, c.active, c.dial_level) for c in snapshot.campaigns)


def _hoppers(snapshot: Snapshot) -> object:
    return tuple((c.id, c.hopper_leads) for c in snapshot.campaigns)


def _drop_figures(snapshot: Snapshot) -> object:
    # ``windows`` is today, 30d and the extras; ``counts_known`` reads the sources, which
    # snapshot equality leaves out.
    targets = tuple((t.id, t.today, t.last_30d, t.extra_windows) for t in snapshot.drop_targets)
    return snapshot.counts_known, targets


def _agent_counts(snapshot: Snapshot) -> object:
    return tuple((c.id, c.agents) for c in snapshot.campaigns)


def _ingroups(snapshot: Snapshot) -> object:
    return snapshot.ingroups


def _agent_calls(snapshot: Snapshot) -> object:
    return tuple((a.user, a.campaign, a.calls_today) for a in snapshot.agents)


class FamilyGroup(NamedTuple):
    """Snapshot families that come from one source and are rendered (and cached) together.

    ``key`` is everything ``build`` reads from the snapshot: while it compares equal, the
    group's bytes are reused, so a poll of the agents leaves the call counts' bytes alone.
    ``build`` takes the snapshot and the HELP note of ``source``'s cadence.
    """

    source: str
    key: Callable[[Snapshot], object]
    build: Callable[[Snapshot, str], list[Metric]]


class SnapshotCollector(Collector):
    """Turns a snapshot into families: the cacheable ones and the daemon's live ones.

    ``intervals`` are the configured poll intervals by VICIdial source (``logged_in_agents``,
    ``call_status_stats``, ``campaigns_list``, ``hopper_list``, ``in_group_status``; missing
    ones default to :data:`DEFAULT_INTERVALS`) for the HELP texts. ``limit_for`` gives a
    campaign's (or ``group:NAME``'s) own limit for its drops remaining (``[alerts.campaigns.X]
    limit``); without it every target uses ``limit``. ``agent_series = False`` leaves out the
    per-agent series (``vicidial_agent_calls_today``), for floors too large to want them.

    ``collect()`` yields everything, freshly built, for use in any registry;
    :class:`DaemonMetrics` instead caches the rendering of each of :attr:`groups`.
    """

    def __init__(
        self,
        latest: Callable[[], Snapshot | None],
        clock: Callable[[], datetime],
        *,
        limit: float,
        intervals: Mapping[str, float] = DEFAULT_INTERVALS,
        alerts_firing: Callable[[], list[tuple[str, str, int]]] = list,
        stream_clients: Callable[[], int] = lambda: 0,
        limit_for: Callable[[str], float] | None = None,
        agent_series: bool = True,
    ) -> None:
        self._latest = latest
        self._clock = clock
        self._limit = limit
        self._limit_for: Callable[[str], float] = limit_for or (lambda _target: limit)
        self._intervals = {**DEFAULT_INTERVALS, **intervals}
        self._alerts_firing = alerts_firing
        self._stream_clients = stream_clients
        groups = [
            FamilyGroup(CAMPAIGNS, _campaign_settings, self._campaign_families),
            FamilyGroup(HOPPERS, _hoppers, self._hopper_family),
            FamilyGroup(STATS, _drop_figures, self._drop_families),
            FamilyGroup(AGENTS, _agent_counts, self._agent_count_family),
            FamilyGroup(INGROUPS, _ingroups, self._ingroup_family),
        ]
        if agent_series:
            groups.append(FamilyGroup(AGENTS, _agent_calls, self._agent_family))
        #: The snapshot families, in exposition order.
        self.groups: tuple[FamilyGroup, ...] = tuple(groups)

    def collect(self) -> Iterator[Metric]:
        snapshot = self._latest()
        yield from self.snapshot_families(snapshot)
        yield from self.daemon_families(snapshot, self._clock())

    def cadence(self, snapshot: Snapshot, function: str) -> float:
        """Seconds between two polls of ``function``: the effective interval the snapshot
        reports (stretched by the request budget), else the configured one."""
        status = snapshot.source(function)
        return status.interval if status is not None else self._intervals[function]

    def group_key(self, group: FamilyGroup, snapshot: Snapshot) -> object:
        """What ``group``'s families depend on: its key, and its source's cadence (HELP)."""
        return self.cadence(snapshot, group.source), group.key(snapshot)

    def group_families(self, group: FamilyGroup, snapshot: Snapshot) -> list[Metric]:
        """``group``'s families; those without a sample are left out."""
        note = f" (from a cache refreshed every {self.cadence(snapshot, group.source):g} s)"
        return [family for family in group.build(snapshot, note) if family.samples]

    def snapshot_families(self, snapshot: Snapshot | None) -> list[Metric]:
        """The campaign, in-group and agent families (none before the first snapshot)."""
        if snapshot is None:
            return []
        return [family for group in self.groups for family in self.group_families(group, snapshot)]

    def _campaign_families(self, snapshot: Snapshot, note: str) -> list[Metric]:
        active = GaugeMetricFamily(
            "vicidial_campaign_active", "1 if the campaign is active" + note, labels=["campaign"]
        )
        level = GaugeMetricFamily(
            "vicidial_campaign_dial_level", "Current dial level" + note, labels=["campaign"]
        )
        for c in snapshot.campaigns:
            if c.active is not None:
                active.add_metric([c.id], 1.0 if c.active else 0.0)
            if c.dial_level is not None:
                level.add_metric([c.id], c.dial_level)
        return [active, level]

    def _hopper_family(self, snapshot: Snapshot, note: str) -> list[Metric]:
        hopper = GaugeMetricFamily(
            "vicidial_campaign_hopper_leads",
            "Leads in the campaign's hopper" + note,
            labels=["campaign"],
        )
        for c in snapshot.campaigns:
            if c.hopper_leads is not None:
                hopper.add_metric([c.id], c.hopper_leads)
        return [hopper]

    def _drop_families(self, snapshot: Snapshot, note: str) -> list[Metric]:
        calls = GaugeMetricFamily(
            "vicidial_campaign_calls_today",
            "Calls placed today" + _GROUP_SUM + note,
            labels=["campaign"],
        )
        answered = GaugeMetricFamily(
            "vicidial_campaign_answered_calls_today",
            "Human-answered calls today (drops included, as VICIdial counts them)"
            + _GROUP_SUM
            + note,
            labels=["campaign"],
        )
        dropped = GaugeMetricFamily(
            "vicidial_campaign_dropped_calls_today",
            "DROP + XDROP calls today" + _GROUP_SUM + note,
            labels=["campaign"],
        )
        ratio = GaugeMetricFamily(
            "vicidial_campaign_drop_ratio",
            "Dropped / human-answered calls (0..1) over the window. " + _WINDOW_HELP + note,
            labels=["campaign", "window"],
        )
        remaining = GaugeMetricFamily(
            "vicidial_campaign_drops_remaining",
            "Drops the window can still take at its current human-answered count before "
            f"reaching the limit ({self._limit:.1%} unless set per campaign). "
            + _WINDOW_HELP
            + note,
            labels=["campaign", "window"],
        )
        # Never-fetched counts are absent, not 0: a 0 % drop ratio must mean "no drops".
        # Groups export drop figures only: their agents, hopper and dial level would be a
        # second copy of their campaigns' and double any sum over the campaign label.
        for target in snapshot.drop_targets if snapshot.counts_known else ():
            limit = self._limit_for(target.id)
            calls.add_metric([target.id], target.today.calls)
            answered.add_metric([target.id], target.today.answered)
            dropped.add_metric([target.id], target.today.dropped)
            for name, window in target.windows.items():
                ratio.add_metric([target.id, name], window.drop_ratio)
                remaining.add_metric([target.id, name], drops_remaining(window, limit))
        return [calls, answered, dropped, ratio, remaining]

    def _agent_count_family(self, snapshot: Snapshot, note: str) -> list[Metric]:
        agents = GaugeMetricFamily(
            "vicidial_campaign_agents",
            "Logged-in agents by state" + note,
            labels=["campaign", "state"],
        )
        for c in snapshot.campaigns:
            for state in AGENT_STATES:
                agents.add_metric([c.id, state], getattr(c.agents, state))
        return [agents]

    def _ingroup_family(self, snapshot: Snapshot, note: str) -> list[Metric]:
        # VICIdial counts waiting calls per in-group, not per campaign: a per-campaign
        # figure would be a made-up 0, so only in-groups carry one.
        waiting = GaugeMetricFamily(
            "vicidial_ingroup_calls_waiting",
            "Answered calls waiting in the in-group's queue for an agent" + note,
            labels=["ingroup"],
        )
        for ingroup in snapshot.ingroups:
            waiting.add_metric([ingroup.id], ingroup.calls_waiting)
        return [waiting]

    def _agent_family(self, snapshot: Snapshot, note: str) -> list[Metric]:
        agent_calls = GaugeMetricFamily(
            "vicidial_agent_calls_today",
            "Calls the agent handled today" + note,
            labels=["user", "campaign"],
        )
        for agent in snapshot.agents:
            agent_calls.add_metric([agent.user, agent.campaign], agent.calls_today)
        return [agent_calls]

    def daemon_families(self, snapshot: Snapshot | None, now: datetime) -> list[Metric]:
        """The families that move with the clock and the daemon's own state, whatever the
        snapshot's content: rendered on every scrape."""
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
        clients.add_metric([], self._stream_clients())
        return [up, source_up, last, age, firing, clients]


def legacy_names_encoder(
    encoder: Callable[[Collector], bytes],
) -> Callable[[Collector], bytes]:
    """The same encoder with the cheapest name escaping, for families whose metric and label
    names are all in the legacy Prometheus character set, as every name here is.

    Escaping schemes differ only for names outside that set (label values are escaped alike
    by all), so the bytes are the same; but prometheus-client (0.26) applies ``underscores``
    escaping, OpenMetrics' default, to each sample's name one character at a time: over half
    of a large floor's OpenMetrics render. ``allow-utf-8`` checks the name with one regular
    expression instead. ``tests/test_metrics_cache.py`` holds the bytes equal.
    """
    if isinstance(encoder, partial) and "escaping" in encoder.keywords:
        return partial(encoder, escaping=ALLOWUTF8)
    return encoder


class Exposition(NamedTuple):
    """One scrape's answer: the body and the ``Content-Type`` it was encoded for."""

    body: bytes
    content_type: str


class _Families(Collector):
    """Fixed families, for prometheus-client's encoders (they take anything with collect())."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


class _Live(Collector):
    """The daemon families of the latest snapshot at the current time."""

    def __init__(
        self,
        collector: SnapshotCollector,
        latest: Callable[[], Snapshot | None],
        clock: Callable[[], datetime],
    ) -> None:
        self._collector = collector
        self._latest = latest
        self._clock = clock

    def collect(self) -> Iterable[Metric]:
        return self._collector.daemon_families(self._latest(), self._clock())


class RenderedSnapshots:
    """The snapshot families' bytes per content type, each group kept while its key holds.

    The store hands out the same snapshot object until the next poll, so a scrape usually
    costs one identity test and a dictionary lookup. A new snapshot costs each group's key
    (cheap tuples of what it reads) and the rendering of the groups whose key changed only:
    a poll of the agents leaves the call counts' bytes alone, and a snapshot with the same
    content renders nothing. ``renders`` counts group renderings (tests, bench).
    """

    def __init__(self, collector: SnapshotCollector) -> None:
        self._collector = collector
        self._snapshot: Snapshot | None = None
        self._keys: list[object] = [_UNSET] * len(collector.groups)
        self._bodies: list[dict[str, bytes]] = [{} for _ in collector.groups]
        self._joined: dict[str, bytes] = {}
        self.renders = 0

    def body(
        self,
        snapshot: Snapshot | None,
        encoder: Callable[[Collector], bytes],
        content_type: str,
    ) -> bytes:
        """The snapshot families encoded by ``encoder`` for ``content_type``, without any
        OpenMetrics ``# EOF``: another part follows."""
        if snapshot is None:
            return b""
        if snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._follow(snapshot)
        joined = self._joined.get(content_type)
        if joined is None:
            joined = b"".join(
                self._group_body(index, snapshot, encoder, content_type)
                for index in range(len(self._keys))
            )
            _remember(self._joined, content_type, joined)
        return joined

    @property
    def content_types(self) -> frozenset[str]:
        """The formats whose bytes are held for the current snapshot."""
        return frozenset(self._joined)

    def _follow(self, snapshot: Snapshot) -> None:
        """Forget the bytes of every group whose key changed with ``snapshot``."""
        for index, group in enumerate(self._collector.groups):
            key = self._collector.group_key(group, snapshot)
            if key != self._keys[index]:
                self._keys[index] = key
                self._bodies[index].clear()
                self._joined.clear()

    def _group_body(
        self,
        index: int,
        snapshot: Snapshot,
        encoder: Callable[[Collector], bytes],
        content_type: str,
    ) -> bytes:
        body = self._bodies[index].get(content_type)
        if body is None:
            families = self._collector.group_families(self._collector.groups[index], snapshot)
            body = encoder(_Families(families)).removesuffix(_EOF)
            _remember(self._bodies[index], content_type, body)
            self.renders += 1
        return body


def _remember(bodies: dict[str, bytes], content_type: str, body: bytes) -> None:
    if len(bodies) >= _MAX_CONTENT_TYPES:
        bodies.clear()
    bodies[content_type] = body


#: ``wallboard_notifications_total`` outcomes (see :meth:`DaemonMetrics.observe_notification`).
NOTIFICATION_OUTCOMES = ("sent", "logged", "retry", "rejected")
#: ``wallboard_auto_pauses_total`` outcomes (``unknown``: the daemon died mid-pause).
AUTO_PAUSE_OUTCOMES = ("paused", "would_pause", "refused", "failed", "unknown")


class DaemonMetrics:
    """The registry of one daemon: the snapshot families (rendered once per content), the
    daemon's live gauges, and the request/poll/notification instruments.

    :meth:`exposition` answers a scrape with the format its ``Accept`` header asks for;
    calling the object renders the text format (``WebContext.metrics``).
    """

    def __init__(
        self,
        *,
        latest: Callable[[], Snapshot | None],
        clock: Callable[[], datetime],
        limit: float,
        intervals: Mapping[str, float] = DEFAULT_INTERVALS,
        alerts_firing: Callable[[], list[tuple[str, str, int]]] = list,
        stream_clients: Callable[[], int] = lambda: 0,
        limit_for: Callable[[str], float] | None = None,
        agent_series: bool = True,
        auto_pause_campaigns: Sequence[str] = (),
    ) -> None:
        # ``*_created`` series only double the exposition; Grafana and alerts never use them.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self._latest = latest
        self.collector = SnapshotCollector(
            latest,
            clock,
            limit=limit,
            intervals=intervals,
            alerts_firing=alerts_firing,
            stream_clients=stream_clients,
            limit_for=limit_for,
            agent_series=agent_series,
        )
        self.rendered = RenderedSnapshots(self.collector)
        #: Everything rendered on every scrape: the live gauges, then the instruments.
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Live(self.collector, latest, clock))
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
        # Every series that can move exists at 0 from the start: Prometheus never sees the
        # first increment of a counter born at 1, so increase() would miss the first pause.
        for outcome in NOTIFICATION_OUTCOMES:
            self.notifications.labels(outcome=outcome)
        for campaign in auto_pause_campaigns:
            for outcome in AUTO_PAUSE_OUTCOMES:
                self.auto_pauses.labels(campaign=campaign, outcome=outcome)

    @property
    def renders(self) -> int:
        """How often the snapshot families were actually rendered (not served from cache)."""
        return self.rendered.renders

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

    def exposition(self, accept: str | None = None) -> Exposition:
        """The scrape's answer in the format ``accept`` (an HTTP ``Accept`` header) asks for,
        as prometheus-client negotiates it (no header: text 0.0.4)."""
        encoder, content_type = choose_encoder(accept or "")
        encoder = legacy_names_encoder(encoder)
        cached = self.rendered.body(self._latest(), encoder, content_type)
        return Exposition(cached + encoder(self.registry), content_type)

    def render(self, accept: str | None = None) -> bytes:
        """The body alone (text 0.0.4 unless ``accept`` asks for another format)."""
        return self.exposition(accept).body

    def __call__(self) -> bytes:
        return self.render()
