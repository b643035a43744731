"""One evaluation of every alert: snapshot + engine state + ``now`` → new state + notifications.

Pure (no I/O, time is a parameter), so the whole engine's behaviour is testable without a
clock. The runner (:mod:`.engine`) calls :func:`evaluate` on every snapshot change and on its
own tick, stores the result durably, sends the notifications and performs auto-pauses.

What each window may trust (inhibition): a drop window freezes only while the data behind it
cannot be vouched for: ``call_status_stats`` stale or failing its last poll; for ``30d`` and
``period`` also a past day missing from the window (not loaded yet, or a hole in the store);
for a pacing window (``15m``, ``1h``) a span observed shorter than its name. Another failing
source (hoppers, agents) does not silence compliance alerts; it raises ``data_stale`` after
``stale_after`` instead. Drop-rate groups (``group:NAME``) are alerted like campaigns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Protocol

from wallboard.alerts import machine
from wallboard.alerts.daemon_incidents import data_stale_step, login_step
from wallboard.alerts.machine import Observation, Track, WindowPolicy
from wallboard.alerts.types import AlertView, Incident, Level, Notification
from wallboard.forecast_text import forecast_sentence
from wallboard.snapshot import CampaignView, Snapshot
from wallboard.windows import DropWindow, drops_remaining
from wallboard.windows.names import PACING_SPANS, PERIOD, ROLLING_30D, TODAY

#: A pacing window alerts only once it has observed this share of its span.
PACING_COVERAGE = 0.9

WindowKey = tuple[str, str]  # (campaign, window)


class AlertPolicy(Protocol):
    """The rules the engine applies, as plain values (built from ``[alerts]``)."""

    @property
    def stale_after(self) -> float: ...

    def windows_for(self, campaign: str) -> tuple[str, ...]: ...

    def policy(self, campaign: str, window: str) -> WindowPolicy: ...

    def quiet(self, campaign: str, local: time) -> bool: ...


@dataclass(frozen=True, slots=True)
class PauseRule:
    """``[alerts.auto_pause]`` as plain values."""

    campaigns: frozenset[str]
    at: float
    dry_run: bool
    windows: tuple[str, ...] = ("today",)


@dataclass(frozen=True, slots=True)
class PauseRequest:
    """Auto-pause is due for this incident (the runner does it, at most once)."""

    incident: Incident
    campaign: str
    window: str
    ratio: float


@dataclass(frozen=True)
class EngineState:
    """Everything the engine remembers between evaluations (kept durably)."""

    started: datetime
    tracks: Mapping[WindowKey, Track] = field(default_factory=dict)
    data_stale: Incident | None = None
    login: Incident | None = None
    pause_since: Mapping[WindowKey, datetime] = field(default_factory=dict)

    def incidents(self) -> tuple[Incident, ...]:
        found = [t.incident for t in self.tracks.values() if t.incident is not None]
        found += [i for i in (self.data_stale, self.login) if i is not None]
        return tuple(sorted(found, key=lambda i: (i.campaign, i.window, i.opened_at)))


@dataclass(frozen=True)
class Evaluation:
    state: EngineState
    notifications: tuple[Notification, ...]
    pauses: tuple[PauseRequest, ...] = ()


def evaluate(
    state: EngineState,
    snapshot: Snapshot,
    now: datetime,
    rules: AlertPolicy,
    *,
    history_days: int,
    pause: PauseRule | None = None,
) -> Evaluation:
    """Advance every alert by one evaluation."""
    notes: list[Notification] = []
    tracks = dict(state.tracks)
    pause_since = dict(state.pause_since)
    pauses: list[PauseRequest] = []
    stats = snapshot.source("call_status_stats")
    stats_trusted = stats is not None and stats.ok and not stats.stale(now)
    local = _dialer_time(snapshot, now)
    for campaign in snapshot.drop_targets:
        for window in rules.windows_for(campaign.id):
            key = (campaign.id, window)
            drop = _window(campaign, window)
            if drop is None:
                continue
            policy = rules.policy(campaign.id, window)
            trusted = (
                stats_trusted
                and snapshot.counts_known
                and _complete(campaign, window, snapshot.local_date, history_days)
            )
            obs = Observation(
                campaign=campaign.id,
                window=window,
                day=snapshot.local_date,
                calls=drop.calls,
                answered=drop.answered,
                dropped=drop.dropped,
                drops_remaining=drops_remaining(drop, policy.thresholds.limit),
                trusted=trusted,
                active=campaign.active,
                quiet=rules.quiet(campaign.id, local),
                weight=drop.drop_weight,
                forecast=_forecast_words(campaign, window, snapshot),
            )
            result = machine.step(tracks.get(key, Track()), obs, policy, now)
            tracks[key] = result.track
            notes.extend(result.notifications)
            request = _pause_due(key, obs, policy, result.track, now, pause, pause_since)
            if request is not None:
                pauses.append(request)
    data_stale, stale_notes = data_stale_step(
        state.data_stale, snapshot, now, started=state.started, stale_after=rules.stale_after
    )
    login, login_notes = login_step(state.login, snapshot, now)
    notes.extend(stale_notes)
    notes.extend(login_notes)
    tracks = {key: track for key, track in tracks.items() if track != Track()}
    new_state = replace(
        state, tracks=tracks, data_stale=data_stale, login=login, pause_since=pause_since
    )
    return Evaluation(new_state, tuple(notes), tuple(pauses))


def _window(campaign: CampaignView, window: str) -> DropWindow | None:
    return campaign.windows.get(window)


def _complete(campaign: CampaignView, window: str, today: date, history_days: int) -> bool:
    """Whether ``window`` holds every day (or the whole span) its name promises."""
    if window == ROLLING_30D:
        return campaign.last_30d.days >= history_days
    extra = campaign.extra_window(window)
    if window == PERIOD:
        return (
            extra is not None
            and extra.since is not None
            and extra.window.days >= (today - extra.since).days + 1
        )
    if window in PACING_SPANS:
        span = extra.span_seconds if extra is not None else None
        return span is not None and span >= PACING_SPANS[window] * PACING_COVERAGE
    return True


def _forecast_words(campaign: CampaignView, window: str, snapshot: Snapshot) -> str:
    """The forecast sentence for a ``today`` incident (the forecast is about today)."""
    if window != TODAY or campaign.forecast is None:
        return ""
    return forecast_sentence(
        campaign.forecast, snapshot.dialer.utc_offset_hours, subject=campaign.id
    )


def _dialer_time(snapshot: Snapshot, now: datetime) -> time:
    offset = snapshot.dialer.utc_offset_hours or 0.0
    return (now + timedelta(hours=offset)).time()


def _pause_due(
    key: WindowKey,
    obs: Observation,
    policy: WindowPolicy,
    track: Track,
    now: datetime,
    rule: PauseRule | None,
    pause_since: dict[WindowKey, datetime],
) -> PauseRequest | None:
    """Guarded auto-pause: an allowed campaign and window, trusted data with enough answers,
    the ratio at or above ``at`` for ``pending`` without a break, an open incident that has
    not been auto-paused yet. One odd poll never pauses a campaign."""
    if (
        rule is None
        or obs.campaign not in rule.campaigns
        or obs.window not in rule.windows
        or not obs.trusted
        or obs.answered < policy.thresholds.min_answered
    ):
        pause_since.pop(key, None)
        return None
    if obs.ratio < rule.at:
        pause_since.pop(key, None)
        return None
    since = pause_since.setdefault(key, now)
    incident = track.incident
    if incident is None or incident.auto_pause is not None:
        return None
    if (now - since).total_seconds() < policy.pending:
        return None
    return PauseRequest(incident, obs.campaign, obs.window, obs.ratio)


def alert_view(state: EngineState) -> AlertView:
    """What the readers show, from the engine's state."""
    levels = tuple(
        (campaign, window, track.level)
        for (campaign, window), track in sorted(state.tracks.items())
        if track.level is not Level.OK
    )
    return AlertView(incidents=state.incidents(), window_states=levels)


def next_deadline(state: EngineState, rules: AlertPolicy) -> datetime | None:
    """The earliest pending/reminder deadline (the runner also ticks, so this is a hint)."""
    deadlines = [
        deadline
        for (campaign, window), track in state.tracks.items()
        if (deadline := machine.next_deadline(track, rules.policy(campaign, window))) is not None
    ]
    return min(deadlines, default=None)
