"""The alert engine: runs on the leader only, evaluates, stores, sends and auto-pauses.

It evaluates (:func:`~wallboard.alerts.evaluate.evaluate`) on every snapshot change and on its
own tick (every :data:`TICK_SECONDS`, so ``pending``, reminders, the dead-man switch and the
dialer's midnight work on a quiet floor, at most a tick late). Each evaluation's incidents and
notifications are committed to the durable store in one transaction *before* anything is
sent; a separate outbox task delivers them in order (Slack, or the log when no Slack is
configured), so a slow or rate-limited Slack never delays evaluation and a restart or a new
leader sends what was not delivered, once. The engine's memory (pending timers, reminders)
is kept durably too and rebuilt from the open incidents if it was lost.

Auto-pause is guarded (see :mod:`.evaluate`) and exactly-once: the intent is committed with
the incident before VICIdial is called; an intent found after a restart is never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from wallboard.alerts.evaluate import (
    AlertPolicy,
    EngineState,
    PauseRequest,
    PauseRule,
    alert_view,
    evaluate,
)
from wallboard.alerts.machine import Track
from wallboard.alerts.state_codec import dump_engine_state, load_engine_state
from wallboard.alerts.store import AuditRecord
from wallboard.alerts.types import (
    Action,
    AlertView,
    AutoPauseOutcome,
    Incident,
    Kind,
    Notification,
)
from wallboard.cache.base import cancel_and_wait
from wallboard.snapshot import Snapshot

log = logging.getLogger(__name__)

#: The engine's own evaluation tick: deadlines are met at most this late.
TICK_SECONDS = 2.0
#: Durable key of the engine's memory.
STATE_KEY = "alert-engine"


class EngineStore(Protocol):
    """What the engine needs from the durable alert store."""

    async def commit(
        self,
        incidents: Sequence[Incident] = (),
        notifications: Sequence[Notification] = (),
        values: Mapping[str, bytes] | None = None,
        audits: Sequence[AuditRecord] = (),
    ) -> list[Notification]: ...

    async def open_incidents(self) -> list[Incident]: ...

    async def get_value(self, key: str) -> bytes | None: ...


#: Performs a pause: ``campaign`` → (outcome, detail). Only called when not in dry run.
Pauser = Callable[[str], Awaitable[tuple[str, str]]]


class AlertEngine:
    """Evaluate on change and on a tick; publish the alert view; wake the outbox."""

    def __init__(
        self,
        *,
        latest: Callable[[], Snapshot | None],
        store: EngineStore,
        rules: AlertPolicy,
        history_days: int,
        clock: Callable[[], datetime],
        publish_view: Callable[[AlertView], Awaitable[None]],
        wake_outbox: Callable[[], None],
        pause_rule: PauseRule | None = None,
        pauser: Pauser | None = None,
        observe_pause: Callable[[str, str], None] = lambda _campaign, _outcome: None,
        tick: float = TICK_SECONDS,
    ) -> None:
        self._latest = latest
        self._store = store
        self._rules = rules
        self._history_days = history_days
        self._clock = clock
        self._publish_view = publish_view
        self._wake_outbox = wake_outbox
        self._pause_rule = pause_rule
        self._pauser = pauser
        self._observe_pause = observe_pause
        self._tick = tick
        self._state: EngineState | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._store_failing = False

    @property
    def running(self) -> bool:
        return self._task is not None

    def wake(self) -> None:
        """The snapshot changed: evaluate now (called from the cache's change callback)."""
        self._changed.set()

    async def start(self) -> None:
        """Become the engine (this instance leads): restore, then evaluate on change/tick."""
        if self._task is not None:
            return
        self._state = await self._restore()
        await self._publish_view(alert_view(self._state))
        await self._settle_interrupted_pauses()
        self._wake_outbox()
        self._task = asyncio.create_task(self._run(), name="alert-engine")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            # Cancelled until done: on Python 3.11 a wait_for() (ours, or redis-py's) can
            # swallow one cancellation, and a single cancel() would then hang here forever.
            await cancel_and_wait(task)

    async def _restore(self) -> EngineState:
        now = self._clock()
        try:
            saved = await self._store.get_value(STATE_KEY)
            incidents = await self._store.open_incidents()
        except Exception as error:  # the store's own error class; never crash the leader
            log.error("alerts: cannot read the durable state (%s); starting empty", error)
            return EngineState(started=now)
        state = load_engine_state(saved, now) if saved else EngineState(started=now)
        return _reconciled(state, incidents)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self._tick)
            self._changed.clear()
            try:
                await self.evaluate_now()
            except Exception:
                log.exception("alerts: evaluation failed; trying again at the next tick")

    async def evaluate_now(self) -> tuple[Notification, ...]:
        """One evaluation; returns the notifications it committed (tests call this)."""
        async with self._lock:
            snapshot = self._latest()
            if snapshot is None or self._state is None:
                return ()
            now = self._clock()
            result = evaluate(
                self._state,
                snapshot,
                now,
                self._rules,
                history_days=self._history_days,
                pause=self._pause_rule,
            )
            state = result.state
            notes = list(result.notifications)
            # The evaluation's changes are durable before any pause is attempted: a daemon
            # that dies while VICIdial is being asked loses no announcement.
            if (notes or state != self._state) and not await self._commit(state, notes):
                return ()
            await self._adopt(state, notes)
            for request in result.pauses:
                state, pause_notes, audits = await self._auto_pause(state, request, now)
                if pause_notes and await self._commit(state, pause_notes, audits):
                    await self._adopt(state, pause_notes)
                    notes.extend(pause_notes)
            return tuple(notes)

    async def _adopt(self, state: EngineState, notes: Sequence[Notification]) -> None:
        """Committed: make ``state`` current, publish the view if it changed, log, send."""
        previous_view = alert_view(self._state) if self._state is not None else None
        self._state = state
        view = alert_view(state)
        if view != previous_view:
            await self._publish_view(view)
        for note in notes:
            log.info("alert %s: %s", note.action.value, note.text)
        if notes:
            self._wake_outbox()

    async def _settle_interrupted_pauses(self) -> None:
        """A pause intent found at start-up was interrupted (the daemon died while VICIdial
        was being asked): never send it again, say its outcome is unknown, audit it."""
        state = self._state
        if state is None:
            return
        now = self._clock()
        for (campaign, window), track in state.tracks.items():
            incident = track.incident
            if incident is None or incident.auto_pause is None:
                continue
            if incident.auto_pause.outcome != "pending":
                continue
            outcome = replace(
                incident.auto_pause,
                outcome="unknown",
                detail=(
                    "the daemon stopped while VICIdial was being asked to pause; not sent again: "
                    f"check {campaign}'s Active setting in VICIdial"
                ),
            )
            request = PauseRequest(incident, campaign, window, _ratio(incident))
            settled = _with_pause(state, request, outcome)
            note = Notification(
                _incident_of(settled, request),
                Action.AUTO_PAUSE,
                _pause_text(outcome, request),
                now,
            )
            audit = AuditRecord(
                outcome, incident_key=incident.key, window=window, ratio=request.ratio
            )
            if await self._commit(settled, [note], [audit]):
                self._observe_pause(campaign, outcome.outcome)
                await self._adopt(settled, [note])
                state = settled

    async def _commit(
        self, state: EngineState, notes: list[Notification], audits: Sequence[AuditRecord] = ()
    ) -> bool:
        """Incidents, their notifications, the engine's memory and any audit record: one
        transaction, so a kill -9 can never leave one ahead of the other."""
        incidents = {n.incident.key: n.incident for n in notes}
        for incident in state.incidents():
            incidents.setdefault(incident.key, incident)
        try:
            await self._store.commit(
                list(incidents.values()),
                notes,
                values={STATE_KEY: dump_engine_state(state)},
                audits=audits,
            )
        except Exception as error:
            if not self._store_failing:
                self._store_failing = True
                log.error("alerts: cannot store alert state (%s); retrying every tick", error)
            return False
        if self._store_failing:
            self._store_failing = False
            log.info("alerts: alert state stored again")
        return True

    async def _auto_pause(
        self, state: EngineState, request: PauseRequest, now: datetime
    ) -> tuple[EngineState, list[Notification], list[AuditRecord]]:
        """Pause (or, in dry run, say what would be paused) once for this incident."""
        rule = self._pause_rule
        assert rule is not None
        intent = AutoPauseOutcome(
            campaign=request.campaign,
            at=now,
            dry_run=rule.dry_run,
            outcome="would_pause" if rule.dry_run else "pending",
            detail="dry run: nothing sent to VICIdial" if rule.dry_run else "",
        )
        state = _with_pause(state, request, intent)
        if not rule.dry_run:
            # The intent is durable before VICIdial is called: a restart in between never
            # pauses twice (it reports the outcome as unknown instead).
            if not await self._commit(state, []):
                return self._state or state, [], []
            outcome, detail = await self._pause(request.campaign)
            intent = replace(intent, outcome=outcome, detail=detail)
            state = _with_pause(state, request, intent)
        incident = _incident_of(state, request)
        text = _pause_text(intent, request)
        self._observe_pause(request.campaign, intent.outcome)
        audit = AuditRecord(
            intent, incident_key=incident.key, window=request.window, ratio=request.ratio
        )
        return state, [Notification(incident, Action.AUTO_PAUSE, text, now)], [audit]

    async def _pause(self, campaign: str) -> tuple[str, str]:
        if self._pauser is None:
            return "failed", "no VICIdial client to pause with"
        try:
            return await self._pauser(campaign)
        except Exception as error:
            return "failed", f"{type(error).__name__}: {error}"


def _with_pause(
    state: EngineState, request: PauseRequest, outcome: AutoPauseOutcome
) -> EngineState:
    key = (request.campaign, request.window)
    track = state.tracks.get(key)
    if track is None or track.incident is None:
        return state
    incident = replace(track.incident, auto_pause=outcome)
    tracks = dict(state.tracks)
    tracks[key] = replace(track, incident=incident)
    return replace(state, tracks=tracks)


def _incident_of(state: EngineState, request: PauseRequest) -> Incident:
    track = state.tracks.get((request.campaign, request.window))
    if track is not None and track.incident is not None:
        return track.incident
    return request.incident


def _pause_text(outcome: AutoPauseOutcome, request: PauseRequest) -> str:
    ratio = f"{request.ratio * 100:.2f} %"
    if outcome.dry_run:
        return (
            f"auto-pause (dry run): would set {request.campaign} inactive "
            f"(update_campaign active=N) at {ratio}; nothing was sent to VICIdial"
        )
    if outcome.outcome == "paused":
        return (
            f"auto-pause: {request.campaign} set inactive (update_campaign active=N) at "
            f"{ratio}; it is never re-activated automatically"
        )
    if outcome.outcome == "unknown":
        return f"auto-pause of {request.campaign}: outcome UNKNOWN: {outcome.detail}"
    return f"auto-pause of {request.campaign} FAILED at {ratio}: {outcome.detail}"


def _ratio(incident: Incident) -> float:
    figures = incident.figures
    return figures.ratio if figures is not None and figures.ratio is not None else 0.0


def _reconciled(state: EngineState, incidents: Sequence[Incident]) -> EngineState:
    """Open incidents the stored memory does not know (lost between commit and save) are
    taken back, so a restart continues them rather than opening duplicates."""
    known = {i.key for i in state.incidents()}
    tracks = dict(state.tracks)
    data_stale, login = state.data_stale, state.login
    for incident in incidents:
        if incident.key in known:
            continue
        if incident.kind is Kind.DROP:
            tracks[(incident.campaign, incident.window)] = Track(
                level=incident.severity, incident=incident, last_reminder=incident.updated_at
            )
        elif incident.kind is Kind.DATA_STALE:
            data_stale = incident
        elif incident.kind is Kind.LOGIN:
            login = incident
    return replace(state, tracks=tracks, data_stale=data_stale, login=login)


def describe(view: AlertView) -> str:
    """A log-friendly one-liner of the open incidents."""
    return json.dumps([i.key for i in view.incidents])
