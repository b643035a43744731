"""The alert engine's vocabulary: incidents, what happened to them, and what is sent.

Everything here is plain frozen data shared by the pieces of :mod:`wallboard.alerts`: the
pure state machine (:mod:`.machine`) turns snapshots into :class:`Notification` s, the durable
store keeps incidents, the outbox and Slack threads, the Slack sender renders an
:class:`Incident` as its parent message and a :class:`Notification` as a thread reply, and
readers (API, metrics, TV) show :class:`AlertView`.

Incident keys are stable strings, so a restart or a new leader continues the same incident
and updates the same Slack message:

* ``drop:<campaign>:today:<dialer date>`` — closed at the dialer's midnight as "day ended";
* ``drop:<campaign>:<window>:<opened at, ISO>`` — rolling windows such as ``30d``;
* ``data_stale::<opened at>`` and ``login::<opened at>`` — daemon-level, ``campaign`` empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    """What an incident is about."""

    DROP = "drop"  # a campaign's drop ratio in one window
    DATA_STALE = "data_stale"  # the dead-man switch: a floor source stale too long
    LOGIN = "login"  # the login circuit breaker is open


class Level(StrEnum):
    """The engine's state for one (campaign, window): CONTRACT §4 ``alert_state``."""

    OK = "ok"
    PENDING = "pending"  # over a threshold, not yet for ``pending``
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order of badness (ok < pending < warning < critical)."""
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.OK: 0, Level.PENDING: 1, Level.WARNING: 2, Level.CRITICAL: 3}


def worse(first: Level, second: Level) -> Level:
    """The worse of two levels."""
    return first if first.rank >= second.rank else second


class Action(StrEnum):
    """One change of an incident; each is one notification (a thread reply in Slack)."""

    OPENED = "opened"  # the parent message is posted
    ESCALATED = "escalated"  # warning → critical
    EASED = "eased"  # critical → warning (below critical_at − clear_margin, still ≥ warn)
    REMINDER = "reminder"  # still critical after ``repeat``
    INACTIVE = "inactive"  # critical, but the campaign was set inactive: reminders pause
    RESOLVED = "resolved"  # below the threshold − clear_margin (or the source recovered)
    DAY_ENDED = "day_ended"  # a ``today`` incident at the dialer's midnight: never "resolved"
    AUTO_PAUSE = "auto_pause"  # the auto-pause result (or, in dry run, what it would do)


@dataclass(frozen=True, slots=True)
class Figures:
    """The numbers a message shows for a drop incident (``None`` ratio: unknown)."""

    ratio: float | None
    answered: int
    dropped: int
    drops_remaining: int
    threshold: float  # the threshold of the incident's current severity
    limit: float
    previous_ratio: float | None = None  # the ratio at the incident's previous message (trend)
    forecast: str = ""  # "at this pace SALES1 passes 3 % around 14:40" (today's window only)


@dataclass(frozen=True, slots=True)
class AutoPauseOutcome:
    """What auto-pause did (or would have done in dry run) for one incident."""

    campaign: str
    at: datetime
    dry_run: bool
    outcome: str  # "paused", "would_pause", "refused", "failed"
    detail: str  # VICIdial's answer or the error, with the fix when refused


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as of its latest change (what the Slack parent message shows)."""

    key: str
    kind: Kind
    campaign: str  # "" for daemon-level incidents
    window: str  # "" for daemon-level incidents
    severity: Level  # WARNING or CRITICAL while open; the last one once closed
    opened_at: datetime
    updated_at: datetime
    summary: str  # one line for people: "SALES1 today 2.61 % (warning at 2.50 %)"
    figures: Figures | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None  # "resolved" or "day_ended"
    auto_pause: AutoPauseOutcome | None = None
    #: The worst severity the incident reached (``None``: its ``severity``): an incident that
    #: was critical and eased is still, for an audit, an incident that went critical.
    peak: Level | None = None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def peak_severity(self) -> Level:
        return self.severity if self.peak is None else worse(self.peak, self.severity)


@dataclass(frozen=True, slots=True)
class Notification:
    """One change to send, in order. ``incident`` is the incident *after* the change."""

    incident: Incident
    action: Action
    text: str  # the thread reply (plain text): "escalated to CRITICAL: 2.84 % ..."
    created_at: datetime
    seq: int = 0  # assigned by the outbox when stored: the delivery order


@dataclass(frozen=True, slots=True)
class SlackThread:
    """Where an incident's parent message is: Slack's channel *ID* (``chat.update`` wants
    IDs) and the message ``ts``. ``ts`` is ``""`` while a post's outcome is unknown (sent,
    no answer recorded): look it up by the incident key in message metadata before posting
    again."""

    incident_key: str
    channel_id: str
    ts: str


@dataclass(frozen=True, slots=True)
class AlertView:
    """What every reader shows: the open incidents and each (campaign, window)'s state.

    Published by the leader's engine under its own cache key, so every instance's TVs,
    ``/api/snapshot`` and ``/metrics`` show the same alerts.
    """

    incidents: tuple[Incident, ...] = ()
    window_states: tuple[tuple[str, str, Level], ...] = field(default=())  # (campaign, window)

    def state(self, campaign: str, window: str) -> Level:
        for c, w, level in self.window_states:
            if c == campaign and w == window:
                return level
        return Level.OK
