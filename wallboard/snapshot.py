"""The snapshot: one frozen picture of the floor that every reader shares.

The poller is the only writer; it composes a new :class:`Snapshot` after each poll and the
cache hands it to readers. Frozen dataclasses make ``==`` the change test, so TVs and the
alert engine are only woken when something they could show or act on actually changed.

Freshness is *not* baked in as a number: a snapshot carries each source's last success (wall
time), and ``age``/``stale`` are computed by the reader at read time (``now`` is a parameter),
so a TV keeps counting the age up honestly even when no new snapshot arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from wallboard.windows import DropWindow
from wallboard.windows.forecast import Forecast
from wallboard.windows.names import ROLLING_30D, TODAY
from wallboard.windows.trend import TrendPoint

__all__ = [
    "AGENT_STATES",
    "FLOOR_SOURCES",
    "LIVE_SOURCES",
    "STALE_AFTER_INTERVALS",
    "AgentCounts",
    "AgentView",
    "CampaignView",
    "DialerInfo",
    "DropWindow",
    "ExtraWindow",
    "LoginBlock",
    "Snapshot",
    "SourceStatus",
    "utcnow",
]

AGENT_STATES = ("waiting", "incall", "paused", "dispo", "dead", "dial")

#: A source is stale when it has had no good answer for this many effective intervals. One
#: rule for every reader: the TV, ``stale``, ``/readyz``, the metrics and the alert engine.
STALE_AFTER_INTERVALS = 3

#: The sources whose figures are on the floor's screens; ``version`` (the dialer's build and
#: clock, polled every 10 minutes) is not one of them, so it neither ages nor stales the board.
FLOOR_SOURCES = frozenset(
    {"logged_in_agents", "call_status_stats", "campaigns_list", "hopper_list", "in_group_status"}
)

#: The live figures: agents and call counts. Top-level ``age_seconds`` is the older of these.
LIVE_SOURCES = ("logged_in_agents", "call_status_stats")


@dataclass(frozen=True, slots=True)
class AgentCounts:
    """Agents of one campaign by normalised state (the buckets of ``user_group_status``)."""

    waiting: int = 0
    incall: int = 0
    paused: int = 0
    dispo: int = 0
    dead: int = 0
    dial: int = 0

    @property
    def logged_in(self) -> int:
        return self.waiting + self.incall + self.paused + self.dispo + self.dead + self.dial

    def as_dict(self) -> dict[str, int]:
        return {state: getattr(self, state) for state in AGENT_STATES}


@dataclass(frozen=True, slots=True)
class ExtraWindow:
    """A drop window beyond ``today`` and ``30d`` (``period``, ``today_ofcom``, ``15m``,
    ``1h``), with what bounds it: ``since`` is the first day of a period window,
    ``span_seconds`` the span a pacing window actually observed (shorter than its name says
    for the first minutes after a start or after midnight)."""

    name: str
    window: DropWindow
    since: date | None = None
    #: Not content: a quiet floor's window grows by a poll's worth of span each poll, which
    #: is no news for a TV (the counts in ``window`` are).
    span_seconds: float | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class CampaignView:
    """One campaign (or drop-rate group, ``id = "group:NAME"`` with its ``members``) as the
    board, metrics and alerts see it."""

    id: str
    name: str = ""
    active: bool | None = None
    dial_method: str = ""
    dial_level: float | None = None
    hopper_leads: int | None = None
    today: DropWindow = field(default_factory=DropWindow)
    last_30d: DropWindow = field(default_factory=lambda: DropWindow(days=0))
    agents: AgentCounts = field(default_factory=AgentCounts)
    calls_waiting: int | None = None  # None: VICIdial does not tell us
    extra_windows: tuple[ExtraWindow, ...] = ()
    forecast: Forecast | None = None  # today's ratio at the current pace (None: too little)
    members: tuple[str, ...] = ()  # a drop-rate group's campaigns (empty for a campaign)
    trend: tuple[TrendPoint, ...] = ()  # today's ratio every few minutes (the sparkline)

    @property
    def is_group(self) -> bool:
        return bool(self.members)

    @property
    def windows(self) -> Mapping[str, DropWindow]:
        """The drop windows by their public name (``/api/snapshot``, ``/metrics``, alerts)."""
        found = {TODAY: self.today, ROLLING_30D: self.last_30d}
        found.update((extra.name, extra.window) for extra in self.extra_windows)
        return found

    def extra_window(self, name: str) -> ExtraWindow | None:
        """The extra window called ``name``, with its bounds (None: not computed)."""
        for extra in self.extra_windows:
            if extra.name == name:
                return extra
        return None


@dataclass(frozen=True, slots=True)
class AgentView:
    """One logged-in agent; ``state_since`` is tracked across polls by the poller."""

    user: str
    name: str
    campaign: str
    state: str
    status: str
    sub_status: str
    pause_code: str
    calls_today: int
    state_since: datetime
    #: False when the daemon first saw the agent already in this state (at start-up, or
    #: after the agent's record was lost): ``state_since`` is then a lower bound, not a fact.
    state_since_exact: bool = True


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """Health of one polled VICIdial function.

    ``interval`` is the *effective* interval: the configured one, or longer when the request
    budget stretches a slow source (hoppers on a large floor). Staleness follows it.
    """

    function: str
    interval: float
    ok: bool = False
    last_success: datetime | None = None
    last_error: str | None = None
    error_kind: str | None = None
    failing_since: datetime | None = None

    def age(self, now: datetime) -> float | None:
        """Seconds since the last good answer, or None when there never was one."""
        if self.last_success is None:
            return None
        return max(0.0, (now - self.last_success).total_seconds())

    def stale(self, now: datetime) -> bool:
        """No good answer within ``STALE_AFTER_INTERVALS`` effective intervals (or never)."""
        age = self.age(now)
        return age is None or age > STALE_AFTER_INTERVALS * self.interval

    def stale_at(self) -> datetime | None:
        """The first moment this source is stale unless it answers again (None: never
        answered). :meth:`stale` is strict, so this is a microsecond past the threshold."""
        if self.last_success is None:
            return None
        threshold = timedelta(seconds=STALE_AFTER_INTERVALS * self.interval)
        return self.last_success + threshold + timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class LoginBlock:
    """The login circuit breaker is open: no source that needs a login is polled.

    ``cause`` is the :class:`~wallboard.vicidial.errors.LoginError` cause, ``fix`` one
    sentence for the operator, ``next_probe`` when one authenticated request will try again.
    """

    cause: str
    fix: str
    since: datetime
    next_probe: datetime


@dataclass(frozen=True, slots=True)
class DialerInfo:
    """What ``version`` told us (build), and the dialer's clock as the poller keeps it:
    ``utc_offset_hours`` is the offset in force at the snapshot (from ``vicidial.timezone``
    when set, DST included, else ``version``'s TZNOW), ``timezone`` the IANA name if any."""

    version: str = ""
    build: str = ""
    utc_offset_hours: float | None = None
    timezone: str = ""


@dataclass(frozen=True, slots=True)
class IngroupView:
    """One in-group's calls right now (``in_group_status`` asked for that in-group alone):
    ``calls_waiting`` are answered calls no agent has taken yet, ``total_calls`` every live
    call of the in-group. VICIdial sums a pipe list of in-groups into one line, so the poller
    asks per in-group to let each board and each metric series count its own queues."""

    id: str
    calls_waiting: int
    total_calls: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything readers need, composed from the latest result of each source.

    ``==`` compares content only (what a reader could show or act on): ``taken_at`` and the
    per-source health (``sources``) are excluded, so a poll that brings the same figures is
    not a change and wakes no TV, while the store still keeps the newer health so ages and
    staleness stay true.
    """

    taken_at: datetime = field(compare=False)
    local_date: date
    campaigns: tuple[CampaignView, ...] = ()
    groups: tuple[CampaignView, ...] = ()  # drop-rate groups, ``id = "group:NAME"``
    agents: tuple[AgentView, ...] = ()
    sources: tuple[SourceStatus, ...] = field(default=(), compare=False)
    inbound_calls_waiting: int = 0  # the sum over ``ingroups``
    ingroups: tuple[IngroupView, ...] = ()
    dialer: DialerInfo = field(default_factory=DialerInfo)
    leader: str = ""
    login_block: LoginBlock | None = None

    def source(self, function: str) -> SourceStatus | None:
        for status in self.sources:
            if status.function == function:
                return status
        return None

    def campaign(self, campaign_id: str) -> CampaignView | None:
        """A campaign, or a drop-rate group by its ``group:NAME``."""
        for campaign in (*self.campaigns, *self.groups):
            if campaign.id == campaign_id:
                return campaign
        return None

    @property
    def drop_targets(self) -> tuple[CampaignView, ...]:
        """Everything with drop windows: the campaigns, then the drop-rate groups."""
        return (*self.campaigns, *self.groups)

    @property
    def counts_known(self) -> bool:
        """Whether ``call_status_stats`` ever answered: until then call counts are unknown,
        and readers must show them as unknown, never as a reassuring 0."""
        stats = self.source("call_status_stats")
        return stats is not None and stats.last_success is not None

    def age_seconds(self, now: datetime) -> float | None:
        """Age of the live figures: the older of ``logged_in_agents`` and ``call_status_stats``
        (``None`` until both have answered once). Slow sources have their own ages."""
        ages = [status.age(now) for status in self.sources if status.function in LIVE_SOURCES]
        if not ages or any(age is None for age in ages):
            return None
        return max(age for age in ages if age is not None)

    def floor_sources(self) -> tuple[SourceStatus, ...]:
        return tuple(status for status in self.sources if status.function in FLOOR_SOURCES)

    def stale(self, now: datetime) -> bool:
        """True when any floor source is past its own stale threshold (or none is known)."""
        floor = self.floor_sources()
        return not floor or any(status.stale(now) for status in floor)

    def stale_sources(self, now: datetime) -> list[str]:
        """The floor sources past their stale threshold, in poll order."""
        return [status.function for status in self.floor_sources() if status.stale(now)]

    def next_stale_change(self, now: datetime) -> datetime | None:
        """When the next fresh floor source turns stale if nothing is polled (None: never)."""
        deadlines = [
            status.stale_at()
            for status in self.floor_sources()
            if status.last_success is not None and not status.stale(now)
        ]
        return min((d for d in deadlines if d is not None), default=None)


def utcnow() -> datetime:
    """The wall clock, aware UTC (the one place non-pure code reads it)."""
    return datetime.now(UTC)
