"""The drop-alert state machine for one (campaign, window): pure, ``now`` is a parameter.

``ok → pending → warning → critical → ok``:

* a window whose ratio reaches ``warn_at`` (or ``critical_at``) is *pending*; if it holds for
  ``pending`` the incident opens at the level it has reached (one odd poll alerts nobody);
* an open warning escalates to critical as soon as the ratio reaches ``critical_at`` (the same
  incident: critical supersedes its warning); a critical one eases back to warning only below
  ``critical_at − clear_margin``, and the incident resolves only below ``warn_at −
  clear_margin``, so a ratio flapping around a threshold sends nothing new;
* ``insufficient`` data (fewer than ``min_answered`` human answers) and data that cannot be
  vouched for (``call_status_stats`` stale or failing; for ``30d`` also the day history
  incomplete) neither raise nor clear: the window is frozen as it was;
* while critical, a reminder every ``repeat``, except while the campaign is inactive (one
  "inactive since hh:mm" reply instead; reminders resume if it is re-activated while still
  critical);
* quiet hours hold warnings (the incident opens when they end, if still due), never critical;
* a ``today`` incident is keyed by the dialer date and closes at the dialer's midnight as
  "day ended at X %", never as resolved.

The engine feeds one :class:`Observation` per window per evaluation and turns the returned
notifications into Slack messages; the state (:class:`Track`) is plain data it keeps durably.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from wallboard.alerts.types import Action, Figures, Incident, Kind, Level, Notification, worse
from wallboard.windows import DropWindow, Thresholds

#: Ratios are compared with the windows module's tolerance: 0.028 − 0.002 is
#: 0.026000000000000002 in floating point, and exactly 2.60 % must not count as below it.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    """The rule for one (campaign, window), as plain values (seconds)."""

    thresholds: Thresholds
    pending: float = 120.0
    clear_margin: float = 0.002
    repeat: float = 1800.0


@dataclass(frozen=True, slots=True)
class Observation:
    """One window of one campaign at one evaluation."""

    campaign: str
    window: str
    day: date  # the dialer's date (the ``today`` incident key)
    calls: int
    answered: int
    dropped: int
    drops_remaining: int
    trusted: bool  # the sources behind this window are fresh and their last poll succeeded
    active: bool | None  # the campaign's active flag (None: unknown)
    quiet: bool = False  # inside quiet hours: warnings are held
    weight: float = 1.0  # what one drop counts for (below 1 only in UK Ofcom mode)
    forecast: str = ""  # where today's ratio is heading, in words (empty: no forecast)

    @property
    def ratio(self) -> float:
        return DropWindow(
            answered=self.answered, dropped=self.dropped, drop_weight=self.weight
        ).drop_ratio


@dataclass(frozen=True, slots=True)
class Track:
    """The machine's memory for one (campaign, window)."""

    level: Level = Level.OK
    pending_since: datetime | None = None
    incident: Incident | None = None  # the open incident, if any
    day: date | None = None  # the dialer date a pending ``today`` track belongs to
    last_reminder: datetime | None = None  # critical since / last reminder
    inactive_since: datetime | None = None  # set once the "inactive" reply went out
    notified_ratio: float | None = None  # the ratio at the incident's last message (trend)


@dataclass(frozen=True, slots=True)
class Step:
    track: Track
    notifications: tuple[Notification, ...] = ()


def incident_key(campaign: str, window: str, day: date, opened_at: datetime) -> str:
    """A key per opening: a ``today`` incident that resolves and opens again on the same
    dialer day is a new incident (its own Slack thread, its own auto-pause decision), so the
    key carries the opening moment as well as the dialer date it belongs to. A key sharing the
    day would overwrite the first incident's record and hide the second one's messages."""
    if window == "today":
        return f"{Kind.DROP}:{campaign}:today:{day.isoformat()}@{opened_at:%H:%M:%S}Z"
    return f"{Kind.DROP}:{campaign}:{window}:{opened_at.isoformat()}"


def step(track: Track, obs: Observation, policy: WindowPolicy, now: datetime) -> Step:
    """Advance one window by one evaluation."""
    day_end = _day_ended(track, obs, policy, now)
    if day_end is not None:
        return day_end
    if (
        obs.window == "today"
        and track.incident is None
        and track.pending_since is not None
        and track.day != obs.day
    ):
        track = Track()  # yesterday's pending never counts towards today
    if not obs.trusted or obs.answered < policy.thresholds.min_answered:
        return Step(track)  # frozen: neither raise nor clear (reminders wait too)
    t = policy.thresholds
    ratio = obs.ratio
    margin = policy.clear_margin
    incident = track.incident
    if incident is None:
        return _closed_step(track, obs, policy, now, ratio)
    if track.level is Level.CRITICAL:
        if ratio + _EPSILON < t.warn_at - margin:
            return _resolve(track, obs, policy, now)
        if ratio + _EPSILON < t.critical_at - margin:
            return _change(track, obs, policy, now, Level.WARNING, Action.EASED)
        return _critical_upkeep(track, obs, policy, now)
    # warning
    if ratio + _EPSILON >= t.critical_at:
        return _change(track, obs, policy, now, Level.CRITICAL, Action.ESCALATED)
    if ratio + _EPSILON < t.warn_at - margin:
        return _resolve(track, obs, policy, now)
    return Step(replace(track, incident=_refreshed(incident, obs, policy, now, Level.WARNING)))


def _closed_step(
    track: Track, obs: Observation, policy: WindowPolicy, now: datetime, ratio: float
) -> Step:
    t = policy.thresholds
    if ratio + _EPSILON < t.warn_at:
        return Step(Track())  # below warn: nothing pending
    target = Level.CRITICAL if ratio + _EPSILON >= t.critical_at else Level.WARNING
    since = track.pending_since or now
    held = (now - since).total_seconds() >= policy.pending
    if not held or (target is Level.WARNING and obs.quiet):
        return Step(Track(level=Level.PENDING, pending_since=since, day=track.day or obs.day))
    incident = Incident(
        key=incident_key(obs.campaign, obs.window, obs.day, now),
        kind=Kind.DROP,
        campaign=obs.campaign,
        window=obs.window,
        severity=target,
        opened_at=now,
        updated_at=now,
        summary=_summary(obs, target, policy),
        figures=_figures(obs, target, policy, None),
    )
    opened = Track(
        level=target,
        incident=incident,
        last_reminder=now if target is Level.CRITICAL else None,
        notified_ratio=obs.ratio,
    )
    text = f"{_word(target)}: {incident.summary}"
    return Step(opened, (Notification(incident, Action.OPENED, text, now),))


def _change(
    track: Track,
    obs: Observation,
    policy: WindowPolicy,
    now: datetime,
    level: Level,
    action: Action,
) -> Step:
    assert track.incident is not None
    incident = _refreshed(track.incident, obs, policy, now, level, track.notified_ratio)
    changed = replace(
        track,
        level=level,
        incident=incident,
        last_reminder=now if level is Level.CRITICAL else None,
        inactive_since=None,
        notified_ratio=obs.ratio,
    )
    verb = "escalated to CRITICAL" if action is Action.ESCALATED else "eased to WARNING"
    return Step(changed, (Notification(incident, action, f"{verb}: {incident.summary}", now),))


def _critical_upkeep(track: Track, obs: Observation, policy: WindowPolicy, now: datetime) -> Step:
    """Still critical: refresh the figures; remind every ``repeat`` while the campaign dials."""
    assert track.incident is not None
    incident = _refreshed(track.incident, obs, policy, now, Level.CRITICAL)
    track = replace(track, incident=incident)
    if obs.active is False:
        if track.inactive_since is not None:
            return Step(track)
        text = f"{obs.campaign} is inactive since {now:%H:%M} UTC: no reminders while it is"
        return Step(
            replace(track, inactive_since=now),
            (Notification(incident, Action.INACTIVE, text, now),),
        )
    if track.inactive_since is not None:  # re-activated while still critical
        return Step(replace(track, inactive_since=None, last_reminder=now))
    last = track.last_reminder or now
    if (now - last).total_seconds() < policy.repeat:
        return Step(track)
    incident = _refreshed(incident, obs, policy, now, Level.CRITICAL, track.notified_ratio)
    text = f"still CRITICAL: {incident.summary}"
    reminded = replace(track, incident=incident, last_reminder=now, notified_ratio=obs.ratio)
    return Step(reminded, (Notification(incident, Action.REMINDER, text, now),))


def _resolve(track: Track, obs: Observation, policy: WindowPolicy, now: datetime) -> Step:
    assert track.incident is not None
    incident = replace(
        _refreshed(track.incident, obs, policy, now, track.incident.severity, track.notified_ratio),
        closed_at=now,
        close_reason="resolved",
    )
    lasted = _duration(now - incident.opened_at)
    text = f"resolved after {lasted}: {obs.campaign} {obs.window} at {_pct(obs.ratio)}"
    return Step(Track(), (Notification(incident, Action.RESOLVED, text, now),))


def _incident_day(key: str) -> str:
    """The dialer date a ``today`` key belongs to (``drop:X:today:DATE@HH:MM:SSZ``; keys
    stored before the opening time was added end with the date)."""
    return key.rsplit(":today:", 1)[-1].split("@", 1)[0]


def _day_ended(track: Track, obs: Observation, policy: WindowPolicy, now: datetime) -> Step | None:
    """A ``today`` incident belongs to its dialer date: at midnight it closes as such."""
    incident = track.incident
    if incident is None or obs.window != "today":
        return None
    if _incident_day(incident.key) == obs.day.isoformat():
        return None
    figures = incident.figures
    last = _pct(figures.ratio) if figures is not None and figures.ratio is not None else "?"
    closed = replace(incident, updated_at=now, closed_at=now, close_reason="day_ended")
    text = f"day ended at {last} ({incident.campaign} {incident.window})"
    return Step(Track(), (Notification(closed, Action.DAY_ENDED, text, now),))


def _refreshed(
    incident: Incident,
    obs: Observation,
    policy: WindowPolicy,
    now: datetime,
    level: Level,
    previous: float | None = None,
) -> Incident:
    """The incident with today's figures; ``previous`` (the ratio at the last message) is the
    trend a message shows, kept from the incident when no message is being sent."""
    if previous is None and incident.figures is not None:
        previous = incident.figures.previous_ratio
    return replace(
        incident,
        severity=level,
        peak=worse(incident.peak_severity, level),
        updated_at=now,
        summary=_summary(obs, level, policy),
        figures=_figures(obs, level, policy, previous),
    )


def _figures(
    obs: Observation, level: Level, policy: WindowPolicy, previous: float | None
) -> Figures:
    t = policy.thresholds
    return Figures(
        ratio=obs.ratio,
        answered=obs.answered,
        dropped=obs.dropped,
        drops_remaining=obs.drops_remaining,
        threshold=t.critical_at if level is Level.CRITICAL else t.warn_at,
        limit=t.limit,
        previous_ratio=previous,
        forecast=obs.forecast,
    )


def _summary(obs: Observation, level: Level, policy: WindowPolicy) -> str:
    t = policy.thresholds
    threshold = t.critical_at if level is Level.CRITICAL else t.warn_at
    left = obs.drops_remaining
    return (
        f"{obs.campaign} {obs.window} drop rate {_pct(obs.ratio)} "
        f"({level.value} at {_pct(threshold)}, limit {_pct(t.limit)}); "
        f"{obs.dropped} drops of {obs.answered} answered, {left} drop{'' if left == 1 else 's'} "
        "left before the limit"
    )


def _word(level: Level) -> str:
    return level.value.upper()


def _pct(ratio: float | None) -> str:
    return "?" if ratio is None else f"{ratio * 100:.2f} %"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def next_deadline(track: Track, policy: WindowPolicy) -> datetime | None:
    """When this window needs an evaluation even if no data changes (pending, reminder)."""
    if track.level is Level.PENDING and track.pending_since is not None:
        return track.pending_since + timedelta(seconds=policy.pending)
    if track.level is Level.CRITICAL and track.last_reminder is not None:
        return track.last_reminder + timedelta(seconds=policy.repeat)
    return None
