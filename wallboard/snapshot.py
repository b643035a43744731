"""The snapshot: one frozen picture of the floor that every reader shares.

The poller is the only writer; it composes a new :class:`Snapshot` after each poll and the
cache hands it to readers. Frozen dataclasses make ``==`` the change test, so TVs and the
alert engine are only woken when something they could show or act on actually changed.

Freshness is *not* baked in as a number: a snapshot carries each source's last success (wall
time), and ``age``/``stale`` are computed by the reader at read time (``now`` is a parameter),
so a TV keeps counting the age up honestly even when no new snapshot arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

AGENT_STATES = ("waiting", "incall", "paused", "dispo", "dead", "dial")

#: A source is stale after this many missed poll intervals (CONTRACT §4 / issue 5).
STALE_AFTER_INTERVALS = 3


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
class DropWindow:
    """Calls, human answers and drops over one compliance window (today or 30 days)."""

    calls: int = 0
    answered: int = 0
    dropped: int = 0
    days: int = 1

    @property
    def drop_ratio(self) -> float:
        """VICIdial's ``drops_answers_today_pct`` as a ratio: drops / human-answered."""
        return self.dropped / self.answered if self.answered else 0.0

    def drops_remaining(self, limit: float) -> int:
        """Drops this window can still take before reaching ``limit`` (never below 0)."""
        # The tiny epsilon keeps 0.03 * 100 (= 3.0000000000000004) from becoming 3 by luck
        # and 0.07 * 100 (= 7.000000000000001) from flooring wrong the other way.
        allowed = int(limit * self.answered + 1e-9)
        return max(0, allowed - self.dropped)


@dataclass(frozen=True, slots=True)
class CampaignView:
    """One campaign as the board, metrics and alerts see it."""

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


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """Health of one polled VICIdial function."""

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
        """No good answer within ``STALE_AFTER_INTERVALS`` intervals (or never)."""
        age = self.age(now)
        return age is None or age > STALE_AFTER_INTERVALS * self.interval


@dataclass(frozen=True, slots=True)
class DialerInfo:
    """What ``version`` told us: build and the dialer's clock (for VICIdial's day boundary)."""

    version: str = ""
    build: str = ""
    utc_offset_hours: float | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything readers need, composed from the latest result of each source."""

    taken_at: datetime
    local_date: date
    campaigns: tuple[CampaignView, ...] = ()
    agents: tuple[AgentView, ...] = ()
    sources: tuple[SourceStatus, ...] = ()
    inbound_calls_waiting: int = 0
    dialer: DialerInfo = field(default_factory=DialerInfo)
    leader: str = ""

    def source(self, function: str) -> SourceStatus | None:
        for status in self.sources:
            if status.function == function:
                return status
        return None

    def campaign(self, campaign_id: str) -> CampaignView | None:
        for campaign in self.campaigns:
            if campaign.id == campaign_id:
                return campaign
        return None

    @property
    def counts_known(self) -> bool:
        """Whether ``call_status_stats`` ever answered: until then call counts are unknown,
        and readers must show them as unknown, never as a reassuring 0."""
        stats = self.source("call_status_stats")
        return stats is not None and stats.last_success is not None

    def age_seconds(self, now: datetime) -> float | None:
        """Age of the oldest data on show: the least recently refreshed source."""
        ages = [status.age(now) for status in self.sources]
        if not ages or any(age is None for age in ages):
            return None
        return max(age for age in ages if age is not None)

    def stale(self, now: datetime) -> bool:
        """True when any source has missed ``STALE_AFTER_INTERVALS`` polls."""
        return not self.sources or any(status.stale(now) for status in self.sources)

    def stale_sources(self, now: datetime) -> list[str]:
        return [status.function for status in self.sources if status.stale(now)]


def utcnow() -> datetime:
    """The wall clock, aware UTC (the one place non-pure code reads it)."""
    return datetime.now(UTC)
