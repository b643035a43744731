"""One evaluation over a whole snapshot: which windows may be trusted, the dead-man switch in
place of drop alerts, what readers are shown, and when auto-pause is due.

Snapshots are built by hand (campaign counts and each source's last answer at a fake moment),
rules are a plain object implementing the engine's ``AlertPolicy``; time is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from wallboard.alerts.evaluate import (
    EngineState,
    Evaluation,
    PauseRule,
    alert_view,
    evaluate,
    next_deadline,
)
from wallboard.alerts.machine import WindowPolicy
from wallboard.alerts.types import Action, AutoPauseOutcome, Kind, Level, Notification
from wallboard.snapshot import (
    CampaignView,
    DialerInfo,
    DropWindow,
    LoginBlock,
    Snapshot,
    SourceStatus,
)
from wallboard.windows import Thresholds

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
DAY = date(2026, 11, 25)
HISTORY_DAYS = 30
PENDING = 120.0
INTERVALS = {
    "logged_in_agents": 30.0,
    "call_status_stats": 60.0,
    "campaigns_list": 60.0,
    "hopper_list": 120.0,
    "in_group_status": 30.0,
    "version": 600.0,
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Rules:
    """A minimal ``AlertPolicy``: the same thresholds everywhere, optional quiet hours."""

    stale_after: float = 180.0
    windows: tuple[str, ...] = ("today", "30d")
    pending: float = PENDING
    quiet_from: time | None = None
    quiet_to: time | None = None

    def windows_for(self, campaign: str) -> tuple[str, ...]:
        return self.windows

    def policy(self, campaign: str, window: str) -> WindowPolicy:
        return WindowPolicy(Thresholds(), pending=self.pending, clear_margin=0.002, repeat=1800.0)

    def quiet(self, campaign: str, local: time) -> bool:
        if self.quiet_from is None or self.quiet_to is None:
            return False
        if self.quiet_from <= self.quiet_to:
            return self.quiet_from <= local < self.quiet_to
        return local >= self.quiet_from or local < self.quiet_to


RULES = Rules()

#: The ways ``call_status_stats`` can leave the call counts without a voucher.
UNTRUSTED = ["stats-stale", "stats-failing", "stats-never-answered"]


def campaign(
    cid: str = "SALES1",
    today: int = 10,
    *,
    answered: int = 1000,
    d30: int = 10,
    days: int = HISTORY_DAYS,
    active: bool | None = True,
) -> CampaignView:
    """A campaign with ``today`` and ``d30`` drops per 1000 answered (tenths of a percent)."""
    return CampaignView(
        id=cid,
        active=active,
        today=DropWindow(calls=answered * 2, answered=answered, dropped=today),
        last_30d=DropWindow(calls=30_000 * 2, answered=30_000, dropped=d30 * 30, days=days),
    )


def snap(
    seconds: float,
    *campaigns: CampaignView,
    stale: tuple[str, ...] = (),
    failing: tuple[str, ...] = (),
    never: tuple[str, ...] = (),
    how: str = "",
    offset: float | None = None,
    login: LoginBlock | None = None,
) -> Snapshot:
    """The floor at ``seconds``: every source answered just now, except the ``stale`` ones
    (last answer 30 min ago), the ``failing`` ones (answered just now, then the last poll
    failed) and the ``never`` ones. ``how`` names one of :data:`UNTRUSTED` for the call
    counts."""
    stale += ("call_status_stats",) if how == "stats-stale" else ()
    failing += ("call_status_stats",) if how == "stats-failing" else ()
    never += ("call_status_stats",) if how == "stats-never-answered" else ()
    sources = []
    for name, interval in INTERVALS.items():
        if name in never:
            sources.append(SourceStatus(name, interval))
            continue
        answered = at(seconds - 1800) if name in stale else at(seconds)
        bad = name in stale or name in failing
        sources.append(
            SourceStatus(
                name,
                interval,
                ok=not bad,
                last_success=answered,
                last_error="ERROR: timeout" if bad else None,
                failing_since=answered if bad else None,
            )
        )
    return Snapshot(
        taken_at=at(seconds),
        local_date=DAY,
        campaigns=campaigns or (campaign(),),
        sources=tuple(sources),
        dialer=DialerInfo(utc_offset_hours=offset),
        login_block=login,
    )


@dataclass
class Engine:
    """The engine's state carried from one evaluation to the next, as the runner does."""

    rules: Rules = RULES
    pause: PauseRule | None = None
    history_days: int = HISTORY_DAYS

    def __post_init__(self) -> None:
        self.state = EngineState(started=T0)
        self.sent: list[Notification] = []

    def run(self, seconds: float, snapshot: Snapshot) -> Evaluation:
        result = evaluate(
            self.state,
            snapshot,
            at(seconds),
            self.rules,
            history_days=self.history_days,
            pause=self.pause,
        )
        self.state = result.state
        self.sent.extend(result.notifications)
        return result

    def level(self, cid: str, window: str) -> Level:
        return alert_view(self.state).state(cid, window)


def drop_notes(result: Evaluation) -> list[Notification]:
    return [n for n in result.notifications if n.incident.kind is Kind.DROP]


# --- drop windows through a whole snapshot ----------------------------------------------------


def test_each_alerted_window_is_its_own_incident() -> None:
    engine = Engine()
    both = campaign(today=29, d30=26)
    assert engine.run(0, snap(0, both)).notifications == ()
    assert engine.level("SALES1", "today") is Level.PENDING
    assert engine.level("SALES1", "30d") is Level.PENDING
    result = engine.run(PENDING, snap(PENDING, both))
    opened = {n.incident.window: n for n in result.notifications}
    assert {n.action for n in opened.values()} == {Action.OPENED}
    assert opened["today"].incident.severity is Level.CRITICAL
    assert opened["today"].incident.key.startswith("drop:SALES1:today:2026-11-25@")
    assert opened["30d"].incident.severity is Level.WARNING
    assert opened["30d"].incident.key == f"drop:SALES1:30d:{at(PENDING).isoformat()}"
    figures = opened["today"].incident.figures
    assert figures is not None
    assert (figures.answered, figures.dropped, figures.drops_remaining) == (1000, 29, 1)


def test_only_the_configured_windows_are_alerted() -> None:
    engine = Engine(Rules(windows=("today",)))
    engine.run(0, snap(0, campaign(today=10, d30=40)))
    result = engine.run(PENDING, snap(PENDING, campaign(today=10, d30=40)))
    assert result.notifications == ()
    assert alert_view(engine.state).window_states == ()


def test_a_window_the_snapshot_does_not_have_is_skipped() -> None:
    engine = Engine(Rules(windows=("today", "period")))
    engine.run(0, snap(0, campaign(today=29)))
    result = engine.run(PENDING, snap(PENDING, campaign(today=29)))
    assert [n.incident.window for n in result.notifications] == ["today"]


def test_resolved_windows_leave_no_state_behind() -> None:
    engine = Engine()
    engine.run(0, snap(0, campaign(today=29)))
    engine.run(PENDING, snap(PENDING, campaign(today=29)))
    result = engine.run(600, snap(600, campaign(today=10)))
    assert [n.action for n in result.notifications] == [Action.RESOLVED]
    assert engine.state.tracks == {}
    assert alert_view(engine.state).incidents == ()


# --- inhibition: what freezes a window --------------------------------------------------------


@pytest.mark.parametrize("how", UNTRUSTED)
def test_untrusted_call_counts_freeze_every_drop_window(how: str) -> None:
    # Open incidents stay open when the figures under them cannot be vouched for...
    engine = Engine()
    high = campaign(today=29, d30=29)
    engine.run(0, snap(0, high))
    engine.run(PENDING, snap(PENDING, high))
    open_before = alert_view(engine.state).incidents
    assert len(open_before) == 2
    low = campaign(today=0, d30=0)
    for seconds in range(200, 1200, 60):
        result = engine.run(seconds, snap(seconds, low, how=how))
        assert drop_notes(result) == []
    assert [i.key for i in alert_view(engine.state).incidents if i.kind is Kind.DROP] == [
        i.key for i in open_before
    ]
    # ...and nothing rises on them either.
    fresh = Engine()
    for seconds in range(0, 1200, 60):
        result = fresh.run(seconds, snap(seconds, high, how=how))
        assert drop_notes(result) == []
    assert fresh.level("SALES1", "today") is Level.OK
    assert fresh.level("SALES1", "30d") is Level.OK


@pytest.mark.parametrize("other", ["hopper_list", "logged_in_agents", "campaigns_list"])
def test_another_failing_source_does_not_silence_drop_alerts(other: str) -> None:
    engine = Engine()
    high = campaign(today=29)
    engine.run(0, snap(0, high, failing=(other,)))
    result = engine.run(PENDING, snap(PENDING, high, stale=(other,)))
    assert [n.action for n in drop_notes(result)] == [Action.OPENED]
    result = engine.run(600, snap(600, campaign(today=10), stale=(other,)))
    assert [n.action for n in drop_notes(result)] == [Action.RESOLVED]


def test_the_30d_window_is_frozen_until_the_day_history_is_complete() -> None:
    engine = Engine()
    partial = campaign(today=10, d30=40, days=HISTORY_DAYS - 1)
    for seconds in range(0, 1200, 60):
        assert engine.run(seconds, snap(seconds, partial)).notifications == ()
    assert engine.level("SALES1", "30d") is Level.OK
    # Today's window is not held back by the history.
    today_high = campaign(today=29, d30=40, days=1)
    engine.run(1200, snap(1200, today_high))
    result = engine.run(1200 + PENDING, snap(1200 + PENDING, today_high))
    assert [n.incident.window for n in result.notifications] == ["today"]
    # History complete: the 30d window alerts too.
    complete = campaign(today=29, d30=40, days=HISTORY_DAYS)
    engine.run(2000, snap(2000, complete))
    result = engine.run(2000 + PENDING, snap(2000 + PENDING, complete))
    assert [(n.incident.window, n.action) for n in result.notifications] == [("30d", Action.OPENED)]


def test_an_open_30d_incident_is_not_cleared_by_an_incomplete_history() -> None:
    engine = Engine()
    engine.run(0, snap(0, campaign(d30=29)))
    engine.run(PENDING, snap(PENDING, campaign(d30=29)))
    assert engine.level("SALES1", "30d") is Level.CRITICAL
    result = engine.run(900, snap(900, campaign(d30=0, days=HISTORY_DAYS - 2)))
    assert result.notifications == ()
    assert engine.level("SALES1", "30d") is Level.CRITICAL


def test_a_stale_stats_source_raises_data_stale_instead_of_a_drop_alert() -> None:
    engine = Engine()
    high = campaign(today=40, d30=40)
    actions: list[tuple[Kind, Action]] = []
    for seconds in range(0, 900, 30):
        result = engine.run(seconds, snap(seconds, high, stale=("call_status_stats",)))
        actions += [(n.incident.kind, n.action) for n in result.notifications]
    assert actions == [(Kind.DATA_STALE, Action.OPENED)]
    view = alert_view(engine.state)
    [incident] = view.incidents
    assert incident.kind is Kind.DATA_STALE
    assert incident.campaign == ""
    assert view.window_states == ()
    # Recovery: data_stale resolves, and only now does the drop alert start its pending.
    result = engine.run(900, snap(900, high))
    assert [(n.incident.kind, n.action) for n in result.notifications] == [
        (Kind.DATA_STALE, Action.RESOLVED)
    ]
    assert engine.level("SALES1", "today") is Level.PENDING
    assert engine.state.data_stale is None


def test_the_login_breaker_raises_its_incident_through_evaluate() -> None:
    engine = Engine()
    block = LoginBlock(
        cause="bad_credentials", fix="check the pass", since=at(0), next_probe=at(120)
    )
    result = engine.run(1, snap(1, login=block))
    [note] = result.notifications
    assert (note.incident.kind, note.action) == (Kind.LOGIN, Action.OPENED)
    assert engine.state.login is not None
    result = engine.run(300, snap(300))
    assert [(n.incident.kind, n.action) for n in result.notifications] == [
        (Kind.LOGIN, Action.RESOLVED)
    ]
    assert engine.state.login is None


# --- quiet hours use the dialer's clock -------------------------------------------------------


def test_quiet_hours_are_read_on_the_dialers_clock() -> None:
    rules = Rules(quiet_from=time(22, 0), quiet_to=time(7, 0))
    warn = campaign(today=26)
    # 15:00 UTC is 10:00 at UTC−5: not quiet, the warning opens.
    day = Engine(rules)
    day.run(0, snap(0, warn, offset=-5.0))
    assert day.run(PENDING, snap(PENDING, warn, offset=-5.0)).notifications != ()
    # 15:00 UTC is 23:00 at UTC+8: quiet, the warning is held.
    night = Engine(rules)
    night.run(0, snap(0, warn, offset=8.0))
    assert night.run(3600, snap(3600, warn, offset=8.0)).notifications == ()
    assert night.level("SALES1", "today") is Level.PENDING
    # Critical is never held: pending has long elapsed, it opens at once.
    result = night.run(3700, snap(3700, campaign(today=29), offset=8.0))
    assert [n.incident.severity for n in result.notifications] == [Level.CRITICAL]


# --- what readers are shown -------------------------------------------------------------------


def test_alert_view_lists_every_non_ok_window_and_the_open_incidents() -> None:
    engine = Engine()
    engine.run(
        0, snap(0, campaign("SALES1", today=29), campaign("SALES2", today=26), campaign("X"))
    )
    engine.run(
        PENDING,
        snap(
            PENDING,
            campaign("SALES1", today=29, d30=26),
            campaign("SALES2", today=26),
            campaign("X"),
        ),
    )
    view = alert_view(engine.state)
    assert view.window_states == (
        ("SALES1", "30d", Level.PENDING),
        ("SALES1", "today", Level.CRITICAL),
        ("SALES2", "today", Level.WARNING),
    )
    assert view.state("X", "today") is Level.OK
    assert view.state("SALES1", "today") is Level.CRITICAL
    assert [(i.campaign, i.window, i.severity) for i in view.incidents] == [
        ("SALES1", "today", Level.CRITICAL),
        ("SALES2", "today", Level.WARNING),
    ]
    assert all(i.open for i in view.incidents)


def test_alert_view_puts_daemon_level_incidents_first_with_an_empty_campaign() -> None:
    engine = Engine()
    high = campaign(today=29)
    engine.run(0, snap(0, high))
    engine.run(PENDING, snap(PENDING, high))
    engine.run(PENDING + 1, snap(PENDING + 1, high, never=("in_group_status",)))
    engine.run(600, snap(600, high, never=("in_group_status",)))
    kinds = [(i.kind, i.campaign) for i in alert_view(engine.state).incidents]
    assert kinds == [(Kind.DATA_STALE, ""), (Kind.DROP, "SALES1")]


def test_next_deadline_is_the_earliest_pending_end() -> None:
    engine = Engine()
    assert next_deadline(engine.state, RULES) is None
    engine.run(0, snap(0, campaign("SALES1", today=26)))
    engine.run(50, snap(50, campaign("SALES1", today=26), campaign("SALES2", today=26)))
    assert next_deadline(engine.state, RULES) == at(PENDING)


# --- guarded auto-pause -----------------------------------------------------------------------

PAUSE = PauseRule(campaigns=frozenset({"SALES1"}), at=0.029, dry_run=True)
AT = 29  # the pause threshold in tenths of a percent
BELOW_AT = 28  # critical, but under `at`


def paused_engine(pause: PauseRule = PAUSE) -> Engine:
    """SALES1 with a critical incident open (2.8 %, under ``at``) since T0+120 s."""
    engine = Engine(pause=pause)
    engine.run(0, snap(0, campaign(today=BELOW_AT)))
    result = engine.run(PENDING, snap(PENDING, campaign(today=BELOW_AT)))
    assert [n.action for n in result.notifications] == [Action.OPENED]
    assert result.pauses == ()
    return engine


def test_auto_pause_is_due_only_after_the_ratio_held_at_or_above_at_for_pending() -> None:
    engine = paused_engine()
    assert engine.run(200, snap(200, campaign(today=AT))).pauses == ()
    assert engine.run(200 + PENDING - 1, snap(200 + PENDING - 1, campaign(today=AT))).pauses == ()
    [request] = engine.run(200 + PENDING, snap(200 + PENDING, campaign(today=AT))).pauses
    assert (request.campaign, request.window) == ("SALES1", "today")
    assert request.ratio == pytest.approx(0.029)
    assert request.incident.key.startswith("drop:SALES1:today:2026-11-25@")
    assert request.incident.open


def test_a_dip_under_at_restarts_the_auto_pause_wait() -> None:
    engine = paused_engine()
    engine.run(200, snap(200, campaign(today=AT)))
    engine.run(260, snap(260, campaign(today=BELOW_AT)))  # one good poll breaks the run
    engine.run(290, snap(290, campaign(today=30)))
    assert engine.run(200 + PENDING, snap(200 + PENDING, campaign(today=30))).pauses == ()
    assert engine.run(290 + PENDING - 1, snap(290 + PENDING - 1, campaign(today=30))).pauses == ()
    assert len(engine.run(290 + PENDING, snap(290 + PENDING, campaign(today=30))).pauses) == 1


def test_one_odd_poll_never_pauses_even_with_pending_elapsed_since_the_incident() -> None:
    engine = paused_engine()
    assert engine.run(3600, snap(3600, campaign(today=40))).pauses == ()


def test_auto_pause_only_for_the_listed_campaigns() -> None:
    engine = Engine(pause=PAUSE)
    both = (campaign("SALES1", today=40), campaign("SALES2", today=40))
    engine.run(0, snap(0, *both))
    result = engine.run(PENDING, snap(PENDING, *both))
    assert {n.incident.campaign for n in result.notifications} == {"SALES1", "SALES2"}
    assert [p.campaign for p in result.pauses] == ["SALES1"]


def test_auto_pause_only_for_the_listed_windows() -> None:
    engine = Engine(pause=PAUSE)
    only_30d = campaign(today=10, d30=40)
    engine.run(0, snap(0, only_30d))
    result = engine.run(PENDING, snap(PENDING, only_30d))
    assert [n.incident.window for n in result.notifications] == ["30d"]
    assert result.pauses == ()
    listed = Engine(pause=replace(PAUSE, windows=("today", "30d")))
    listed.run(0, snap(0, only_30d))
    assert [p.window for p in listed.run(PENDING, snap(PENDING, only_30d)).pauses] == ["30d"]


def test_no_auto_pause_without_a_pause_rule() -> None:
    engine = Engine(pause=None)
    engine.run(0, snap(0, campaign(today=40)))
    assert engine.run(PENDING, snap(PENDING, campaign(today=40))).pauses == ()


@pytest.mark.parametrize("how", UNTRUSTED)
def test_no_auto_pause_on_untrusted_data_and_the_wait_restarts_after(
    how: str,
) -> None:
    engine = paused_engine()
    engine.run(200, snap(200, campaign(today=40)))
    for seconds in range(260, 900, 60):
        bad = snap(seconds, campaign(today=40), how=how)
        assert engine.run(seconds, bad).pauses == ()
    assert engine.run(900, snap(900, campaign(today=40))).pauses == (), "the wait starts over"
    assert len(engine.run(900 + PENDING, snap(900 + PENDING, campaign(today=40))).pauses) == 1


def test_no_auto_pause_below_min_answered() -> None:
    engine = paused_engine()
    few = campaign(today=5, answered=49)  # 10 %, but 49 answers
    for seconds in range(200, 1200, 60):
        assert engine.run(seconds, snap(seconds, few)).pauses == ()


def test_no_auto_pause_once_the_incident_has_one() -> None:
    engine = paused_engine()
    engine.run(200, snap(200, campaign(today=40)))
    [request] = engine.run(200 + PENDING, snap(200 + PENDING, campaign(today=40))).pauses
    # The runner records what it did on the incident (as it does, durably).
    key = ("SALES1", "today")
    track = engine.state.tracks[key]
    assert track.incident is not None
    done = AutoPauseOutcome("SALES1", at(200 + PENDING), True, "would_pause", "dry run")
    paused_track = replace(track, incident=replace(track.incident, auto_pause=done))
    engine.state = replace(engine.state, tracks={**engine.state.tracks, key: paused_track})
    for seconds in range(400, 4000, 60):
        assert engine.run(seconds, snap(seconds, campaign(today=40))).pauses == ()
    still = engine.state.tracks[key].incident
    assert still is not None
    assert still.auto_pause == done  # kept across refreshes
    assert still.key == request.incident.key


def test_no_auto_pause_without_an_open_incident() -> None:
    # `at` under warn_at: the ratio holds over `at` for an hour, but no incident is open.
    engine = Engine(pause=replace(PAUSE, at=0.02))
    for seconds in range(0, 3600, 60):
        result = engine.run(seconds, snap(seconds, campaign(today=22)))
        assert result.pauses == ()
        assert result.notifications == ()
