"""The alert state machine and the whole evaluation under random floors, clocks and outages.

``tests/alerts/test_machine.py`` walks one policy through trusted data on one dialer day. Here
hypothesis draws the policy too (thresholds, ``clear_margin``, ``pending``, ``repeat``,
``min_answered``), and the sequence mixes what a bad day brings: untrusted and insufficient
data, quiet hours, an inactive campaign, midnight, ratios sitting exactly on every threshold
and margin, evaluations in the same instant. A small reference model runs beside the machine
and states CONTRACT §6 as invariants:

* a window moves only along ok → pending → warning → critical → ok (critical may ease back to
  warning; pending may drop back to ok; a zero ``pending`` skips it);
* data that cannot be vouched for (untrusted or below ``min_answered``) never raises, never
  clears, never reminds: the window is frozen exactly (only midnight ends a ``today``
  incident);
* an incident opens only after its condition held for ``pending`` on trusted data, and clears
  (or eases) only below its threshold minus ``clear_margin``;
* an incident is never duplicated: one open incident per window, no second OPENED while it is
  open, every change addressed to the open incident, no change after it closed.

At the level of :func:`evaluate` (a whole snapshot with its sources' freshness), a stale or
failing ``call_status_stats`` never raises or clears a drop alert and raises ``data_stale``
instead; auto-pause is asked for at most once per incident and only on trusted data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.alerts.test_evaluate import INTERVALS, Rules, campaign, snap
from wallboard.alerts.evaluate import EngineState, PauseRule, evaluate
from wallboard.alerts.machine import Observation, Track, WindowPolicy, step
from wallboard.alerts.types import Action, AutoPauseOutcome, Kind, Level, Notification
from wallboard.windows import DropWindow, Thresholds, drops_remaining

EXAMPLES = settings(max_examples=200, deadline=None)
T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
DAY = date(2026, 11, 25)
EPS = 1e-9
ANSWERED = 10_000  # ratios in steps of 0.01 %: every threshold and margin is hit exactly

#: The level changes one evaluation may make (CONTRACT §6; easing and pending's fall back are
#: the hysteresis' two ways down).
ALLOWED = {
    Level.OK: {Level.OK, Level.PENDING, Level.WARNING, Level.CRITICAL},
    Level.PENDING: {Level.OK, Level.PENDING, Level.WARNING, Level.CRITICAL},
    Level.WARNING: {Level.WARNING, Level.CRITICAL, Level.OK},
    Level.CRITICAL: {Level.CRITICAL, Level.WARNING, Level.OK},
}


@st.composite
def policies(draw: st.DrawFn) -> WindowPolicy:
    warn = draw(st.integers(5, 60)) / 1000
    critical = warn + draw(st.integers(1, 30)) / 1000
    limit = critical + draw(st.integers(0, 20)) / 1000
    return WindowPolicy(
        Thresholds(
            limit=limit,
            warn_at=warn,
            critical_at=critical,
            min_answered=draw(st.sampled_from([0, 1, 50, 500])),
        ),
        pending=draw(st.sampled_from([0.0, 30.0, 120.0, 600.0])),
        clear_margin=draw(st.sampled_from([0.0, 0.0005, 0.002, 0.005])),
        repeat=draw(st.sampled_from([60.0, 1800.0])),
    )


@dataclass(frozen=True)
class Tick:
    """One evaluation: how long after the last, and what the window shows."""

    seconds: float
    dropped: int
    answered: int
    trusted: bool
    active: bool | None
    quiet: bool
    next_day: bool


@st.composite
def ticks(draw: st.DrawFn, policy: WindowPolicy) -> list[Tick]:
    t = policy.thresholds
    margin = policy.clear_margin
    # Ratios right on, just under and just over every edge the machine compares against.
    edges = [0.0, t.warn_at, t.critical_at, t.limit, t.warn_at - margin, t.critical_at - margin]
    ratio = st.sampled_from(edges).flatmap(
        lambda edge: st.sampled_from([-2, -1, 0, 1, 2]).map(lambda d: max(0.0, edge + d / ANSWERED))
    ) | st.floats(0, 0.2)
    tick = st.builds(
        Tick,
        seconds=st.sampled_from([0.0, 1.0, 29.0, 30.0, 60.0, 119.0, 120.0, 600.0, 1800.0, 3600.0]),
        dropped=ratio.map(lambda r: round(r * ANSWERED)),
        answered=st.sampled_from([ANSWERED, ANSWERED, ANSWERED, 0, 1, 49, 499]),
        trusted=st.sampled_from([True, True, True, False]),
        active=st.sampled_from([True, True, False, None]),
        quiet=st.booleans(),
        next_day=st.sampled_from([False] * 15 + [True]),
    )
    return draw(st.lists(tick, min_size=1, max_size=80))


@dataclass
class Reference:
    """What CONTRACT §6 says the machine must remember: since when the condition holds."""

    policy: WindowPolicy
    window: str
    pending_since: datetime | None = None
    open_key: str | None = None
    closed: set[str] = field(default_factory=set)
    opened: list[str] = field(default_factory=list)
    last_critical_clock: datetime | None = None


def observation(tick: Tick, day: date, window: str, policy: WindowPolicy) -> Observation:
    answered = tick.answered
    dropped = min(tick.dropped, answered) if answered else 0
    window_counts = DropWindow(answered=answered, dropped=dropped)
    return Observation(
        campaign="SALES1",
        window=window,
        day=day,
        calls=answered * 2,
        answered=answered,
        dropped=dropped,
        drops_remaining=drops_remaining(window_counts, policy.thresholds.limit),
        trusted=tick.trusted,
        active=tick.active,
        quiet=tick.quiet,
    )


def check_step(
    ref: Reference,
    before: Track,
    after: Track,
    notes: tuple[Notification, ...],
    obs: Observation,
    now: datetime,
) -> None:
    t = ref.policy.thresholds
    margin = ref.policy.clear_margin
    frozen = not obs.trusted or obs.answered < t.min_answered
    day_ended = [n for n in notes if n.action is Action.DAY_ENDED]

    assert after.level in ALLOWED[before.level], (before.level, after.level)
    assert (after.incident is not None) == (after.level in (Level.WARNING, Level.CRITICAL))
    assert len(notes) <= 1, [n.action for n in notes]

    if day_ended:  # midnight closes a today incident whatever the data says
        assert ref.window == "today"
        assert before.incident is not None
        assert day_ended[0].incident.key == ref.open_key
        assert after == Track()
        ref.closed.add(ref.open_key or "")
        ref.open_key, ref.pending_since, ref.last_critical_clock = None, None, None
        return
    if ref.window == "today" and before.incident is None and before.day not in (None, obs.day):
        ref.pending_since = None  # yesterday's pending never counts towards today
        before = Track()

    if frozen:  # neither raise nor clear nor remind: exactly as it was
        assert notes == ()
        assert after == before, "untrusted or insufficient data changed the window"
        return

    ratio = obs.ratio
    if before.incident is None:
        if ratio + EPS < t.warn_at:
            ref.pending_since = None
            assert after == Track()
            assert notes == ()
            return
        ref.pending_since = ref.pending_since or now
        held = (now - ref.pending_since).total_seconds() >= ref.policy.pending
        critical = ratio + EPS >= t.critical_at
        if held and (critical or not obs.quiet):
            (note,) = notes
            assert note.action is Action.OPENED
            assert note.incident.key not in (ref.open_key,), "a second OPENED while open"
            assert note.incident.severity is (Level.CRITICAL if critical else Level.WARNING)
            if ref.window != "today":  # keyed by the opening moment, so never reused
                assert note.incident.key.endswith(now.isoformat()), note.incident.key
            ref.open_key = note.incident.key
            ref.opened.append(note.incident.key)
            ref.closed.discard(note.incident.key)  # a today key comes back the same day
            ref.pending_since = None
            ref.last_critical_clock = now if critical else None
        else:
            assert notes == ()
            assert after.level is Level.PENDING
            assert after.pending_since == ref.pending_since, "pending restarted on frozen data"
        return

    # an open incident: every change is addressed to it
    for note in notes:
        assert note.incident.key == ref.open_key, "a change addressed to another incident"
        assert note.action is not Action.OPENED, "an incident opened twice"
    actions = {note.action for note in notes}
    if Action.RESOLVED in actions:
        assert ratio < t.warn_at - margin + EPS, "cleared inside the clear margin"
        assert after == Track()
        ref.closed.add(ref.open_key or "")
        ref.open_key, ref.last_critical_clock = None, None
        return
    assert after.incident is not None
    assert after.incident.key == ref.open_key
    if ratio >= t.warn_at - margin + EPS:
        assert after.incident.open, "still over warn_at − clear_margin: must stay open"
    if Action.EASED in actions:
        assert before.level is Level.CRITICAL
        assert ratio < t.critical_at - margin + EPS, "eased inside the clear margin"
        ref.last_critical_clock = None
    if before.level is Level.CRITICAL and ratio >= t.critical_at - margin + EPS:
        assert after.level is Level.CRITICAL, "eased inside the clear margin"
    if Action.ESCALATED in actions:
        assert before.level is Level.WARNING
        assert ratio + EPS >= t.critical_at, "escalated below critical_at"
        ref.last_critical_clock = now
    if Action.REMINDER in actions:
        assert ref.last_critical_clock is not None
        assert (now - ref.last_critical_clock).total_seconds() >= ref.policy.repeat
        assert obs.active is not False
        ref.last_critical_clock = now
    if before.level is Level.CRITICAL and before.inactive_since is not None and obs.active:
        ref.last_critical_clock = now  # re-activated: the reminder clock starts again


@EXAMPLES
@given(data=st.data(), policy=policies(), window=st.sampled_from(["today", "30d", "15m"]))
def test_random_policies_and_bad_days_keep_the_machines_promises(
    data: st.DataObject, policy: WindowPolicy, window: str
) -> None:
    sequence = data.draw(ticks(policy))
    ref = Reference(policy, window)
    track = Track()
    now, day = T0, DAY
    for tick in sequence:
        now += timedelta(seconds=tick.seconds)
        if tick.next_day:
            day += timedelta(days=1)
        obs = observation(tick, day, window, policy)
        result = step(track, obs, policy, now)
        closed = set(ref.closed)
        for note in result.notifications:
            if note.action is not Action.OPENED:
                assert note.incident.key not in closed, "a change to a closed incident"
        check_step(ref, track, result.track, result.notifications, obs, now)
        track = result.track


# --- a whole evaluation: sources going stale, failing, never answering -------------------------

STATS = ["fresh", "stale", "failing", "never"]
OTHERS = sorted(set(INTERVALS) - {"call_status_stats", "version"})


@dataclass(frozen=True)
class Floor:
    seconds: float
    stats: str
    stale_others: tuple[str, ...]
    today: dict[str, int]


FLOORS = st.lists(
    st.builds(
        Floor,
        seconds=st.sampled_from([1.0, 30.0, 60.0, 150.0, 600.0, 1800.0]),
        stats=st.sampled_from(STATS),
        stale_others=st.lists(st.sampled_from(OTHERS), max_size=2, unique=True).map(tuple),
        today=st.fixed_dictionaries(
            {cid: st.sampled_from([0, 10, 24, 25, 26, 28, 29, 40]) for cid in ("SALES1", "SALES2")}
        ),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(floors=FLOORS, pending=st.sampled_from([0.0, 120.0]))
def test_stale_or_failing_counts_never_raise_or_clear_and_pauses_come_once(
    floors: list[Floor], pending: float
) -> None:
    rules = Rules(pending=pending, stale_after=180.0)
    pause = PauseRule(frozenset({"SALES1"}), at=0.029, dry_run=True)
    state = EngineState(started=T0)
    elapsed = 0.0
    open_keys: set[str] = set()
    paused: set[tuple[str, datetime]] = set()
    for floor in floors:
        elapsed += floor.seconds
        snapshot = snap(
            elapsed,
            *(campaign(cid, dropped) for cid, dropped in floor.today.items()),
            stale=floor.stale_others,
            how=""
            if floor.stats == "fresh"
            else f"stats-{floor.stats}"
            if floor.stats != "never"
            else "stats-never-answered",
        )
        now = T0 + timedelta(seconds=elapsed)
        before = state
        result = evaluate(before, snapshot, now, rules, history_days=30, pause=pause)
        state = result.state
        trusted = floor.stats == "fresh"

        drop_notes = [n for n in result.notifications if n.incident.kind is Kind.DROP]
        if not trusted:
            assert drop_notes == [], "a drop alert moved on untrusted counts"
            assert state.tracks == before.tracks, "untrusted counts changed a drop window"
            assert result.pauses == (), "auto-pause on untrusted counts"
        for note in result.notifications:
            if note.action is Action.OPENED:
                assert note.incident.key not in open_keys, "an incident opened twice"
                open_keys.add(note.incident.key)
            else:
                assert note.incident.key in open_keys, f"{note.action} for no open incident"
            if note.action in (Action.RESOLVED, Action.DAY_ENDED):
                open_keys.discard(note.incident.key)
        keys = [incident.key for incident in state.incidents()]
        assert len(keys) == len(set(keys)), keys
        assert set(keys) == open_keys, "the state's incidents are the open ones"
        for request in result.pauses:  # the runner's part: it records the outcome at once
            # One incident is its key and its opening: a today incident that resolved and
            # came back the same dialer day reuses the day's key (a new incident all the same).
            incident = (request.incident.key, request.incident.opened_at)
            assert incident not in paused, "auto-pause asked twice for one incident"
            paused.add(incident)
            outcome = AutoPauseOutcome("SALES1", now, True, "would_pause", "dry run")
            track = state.tracks[(request.campaign, request.window)]
            assert track.incident is not None
            tracks = dict(state.tracks)
            tracks[(request.campaign, request.window)] = replace(
                track, incident=replace(track.incident, auto_pause=outcome)
            )
            state = replace(state, tracks=tracks)
        stale_for = _stale_for(floors, floor, elapsed)
        if stale_for >= rules.stale_after:
            assert state.data_stale is not None, "a floor source stale past stale_after"


def _stale_for(floors: list[Floor], current: Floor, elapsed: float) -> float:
    """A lower bound of how long some floor source has been stale: ``snap`` dates a stale
    source's last answer 30 minutes back, so a stale source is at least that overdue."""
    if current.stats in ("stale",) or current.stale_others:
        return 1800.0 - max(INTERVALS.values())
    return 0.0
