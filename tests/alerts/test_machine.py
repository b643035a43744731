"""The per-window drop-alert state machine, driven by a fake clock (``now`` is a parameter).

Each test walks one (campaign, window) through the observations a real floor would produce and
checks what a supervisor would see: which Slack changes go out, when, with which incident key.
With 1000 answered calls, ``dropped`` reads directly as tenths of a percent (26 → 2.60 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.alerts.machine import (
    Observation,
    Track,
    WindowPolicy,
    incident_key,
    next_deadline,
    step,
)
from wallboard.alerts.types import Action, Kind, Level, Notification
from wallboard.windows import DropWindow, Thresholds, drops_remaining

LIMITS = Thresholds(limit=0.03, warn_at=0.025, critical_at=0.028, min_answered=50)
POLICY = WindowPolicy(LIMITS, pending=120.0, clear_margin=0.002, repeat=1800.0)
T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
DAY = date(2026, 11, 25)

# Ratios at 1000 answered, in tenths of a percent.
OK_LOW = 10  # 1.0 %: far below everything
BELOW_CLEAR = 22  # 2.2 %: below warn_at − clear_margin (2.3 %): clears
IN_WARN_MARGIN = 24  # 2.4 %: below warn_at, inside its clear margin
WARN = 26  # 2.6 %
IN_CRIT_MARGIN = 27  # 2.7 %: below critical_at, inside its clear margin
EASE = 25  # 2.5 %: below critical_at − clear_margin (2.6 %), still ≥ warn_at
CRIT = 29  # 2.9 %


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def obs(
    dropped: int,
    *,
    answered: int = 1000,
    window: str = "today",
    day: date = DAY,
    trusted: bool = True,
    active: bool | None = True,
    quiet: bool = False,
) -> Observation:
    return Observation(
        campaign="SALES1",
        window=window,
        day=day,
        calls=answered * 2,
        answered=answered,
        dropped=dropped,
        drops_remaining=drops_remaining(DropWindow(answered=answered, dropped=dropped), 0.03),
        trusted=trusted,
        active=active,
        quiet=quiet,
    )


@dataclass
class Window:
    """One window's track, advanced by hand; remembers every notification it produced."""

    policy: WindowPolicy = POLICY
    track: Track = field(default_factory=Track)
    sent: list[Notification] = field(default_factory=list)

    def feed(self, seconds: float, observation: Observation) -> list[Notification]:
        result = step(self.track, observation, self.policy, at(seconds))
        self.track = result.track
        self.sent.extend(result.notifications)
        return list(result.notifications)

    def actions(self) -> list[Action]:
        return [note.action for note in self.sent]

    def level(self) -> Level:
        return self.track.level


def opened_warning(policy: WindowPolicy = POLICY) -> Window:
    """A window whose warning incident opened at T0+120 s."""
    window = Window(policy)
    window.feed(0, obs(WARN))
    assert window.feed(120, obs(WARN))[0].action is Action.OPENED
    return window


def opened_critical(policy: WindowPolicy = POLICY) -> Window:
    """A window whose critical incident opened at T0+120 s."""
    window = Window(policy)
    window.feed(0, obs(CRIT))
    assert window.feed(120, obs(CRIT))[0].action is Action.OPENED
    assert window.level() is Level.CRITICAL
    return window


# --- raising ------------------------------------------------------------------------------


def test_a_warning_is_pending_until_it_has_held_for_pending_then_opens_once() -> None:
    window = Window()
    assert window.feed(0, obs(WARN)) == []
    assert window.level() is Level.PENDING
    assert window.track.pending_since == at(0)
    assert window.feed(60, obs(WARN)) == []
    assert window.feed(119, obs(WARN)) == []
    assert window.level() is Level.PENDING

    [note] = window.feed(120, obs(WARN))
    assert note.action is Action.OPENED
    assert note.created_at == at(120)
    incident = note.incident
    assert incident.kind is Kind.DROP
    assert (incident.campaign, incident.window) == ("SALES1", "today")
    assert incident.severity is Level.WARNING
    assert incident.opened_at == incident.updated_at == at(120)
    assert incident.open
    assert incident.figures is not None
    assert incident.figures.threshold == LIMITS.warn_at
    assert (incident.figures.answered, incident.figures.dropped) == (1000, 26)
    assert incident.figures.drops_remaining == 4
    assert "2.60 %" in incident.summary
    assert "2.50 %" in incident.summary  # the threshold it crossed
    assert note.text.startswith("WARNING")
    assert window.level() is Level.WARNING
    assert window.track.incident == incident

    # Still warning a minute later: the figures refresh, nothing is sent.
    assert window.feed(180, obs(WARN)) == []
    assert window.actions() == [Action.OPENED]


def test_a_dip_below_warn_at_during_pending_starts_the_wait_again() -> None:
    window = Window()
    window.feed(0, obs(WARN))
    window.feed(60, obs(IN_WARN_MARGIN))  # below warn_at: pending is over
    assert window.track == Track()
    window.feed(90, obs(WARN))
    assert window.track.pending_since == at(90)
    assert window.feed(180, obs(WARN)) == [], "only 90 s since the dip: the 0 s start is gone"
    assert window.level() is Level.PENDING
    [note] = window.feed(210, obs(WARN))
    assert note.action is Action.OPENED
    assert note.incident.opened_at == at(210)


def test_pending_zero_opens_at_the_first_observation() -> None:
    window = Window(replace(POLICY, pending=0.0))
    [note] = window.feed(0, obs(WARN))
    assert note.action is Action.OPENED
    assert window.level() is Level.WARNING


def test_it_opens_directly_at_critical_when_the_ratio_reached_critical_at() -> None:
    window = Window()
    window.feed(0, obs(WARN))
    window.feed(60, obs(CRIT))  # rose further while pending: the wait does not restart
    [note] = window.feed(120, obs(CRIT))
    assert note.action is Action.OPENED
    assert note.incident.severity is Level.CRITICAL
    assert note.incident.figures is not None
    assert note.incident.figures.threshold == LIMITS.critical_at
    assert note.text.startswith("CRITICAL")
    assert window.level() is Level.CRITICAL
    assert window.actions() == [Action.OPENED], "no separate warning, no escalation"


def test_a_ratio_below_warn_at_never_raises_however_long_it_lasts() -> None:
    window = Window()
    for minute in range(0, 600, 5):
        assert window.feed(minute * 60, obs(IN_WARN_MARGIN)) == []
    assert window.track == Track()


# --- escalating, easing, resolving ------------------------------------------------------------


def test_a_warning_escalates_to_critical_at_once_in_the_same_incident() -> None:
    window = opened_warning()
    key = window.track.incident.key if window.track.incident else ""
    [note] = window.feed(130, obs(28))  # exactly critical_at
    assert note.action is Action.ESCALATED
    assert note.incident.key == key
    assert note.incident.severity is Level.CRITICAL
    assert note.incident.opened_at == at(120), "critical supersedes the same incident's warning"
    assert "CRITICAL" in note.text
    assert window.level() is Level.CRITICAL
    # Staying critical sends nothing more (until a reminder is due).
    assert window.feed(140, obs(CRIT)) == []
    assert window.feed(600, obs(30)) == []
    assert window.actions() == [Action.OPENED, Action.ESCALATED]


def test_critical_eases_to_warning_only_below_critical_at_minus_the_margin() -> None:
    window = opened_critical()
    key = window.track.incident.key if window.track.incident else ""
    assert window.feed(200, obs(IN_CRIT_MARGIN)) == []  # 2.7 %: below critical_at, in margin
    assert window.level() is Level.CRITICAL
    [note] = window.feed(260, obs(EASE))  # 2.5 %: below 2.6 %
    assert note.action is Action.EASED
    assert note.incident.key == key
    assert note.incident.severity is Level.WARNING
    assert note.incident.figures is not None
    assert note.incident.figures.threshold == LIMITS.warn_at
    assert window.level() is Level.WARNING


def test_it_resolves_only_below_warn_at_minus_the_margin_and_says_how_long_it_lasted() -> None:
    window = opened_warning()
    assert window.feed(300, obs(IN_WARN_MARGIN)) == []  # 2.4 %: below warn_at, in the margin
    assert window.feed(400, obs(23)) == []  # exactly warn_at − margin is not below it
    assert window.level() is Level.WARNING
    [note] = window.feed(120 + 12 * 60, obs(BELOW_CLEAR))
    assert note.action is Action.RESOLVED
    assert "resolved after 12 min" in note.text
    assert "2.20 %" in note.text
    assert note.incident.closed_at == at(120 + 12 * 60)
    assert note.incident.close_reason == "resolved"
    assert not note.incident.open
    assert window.track == Track()


def test_critical_resolves_straight_from_critical_and_long_incidents_read_in_hours() -> None:
    window = opened_critical()
    [note] = window.feed(120 + 65 * 60 + 30, obs(OK_LOW, active=False))
    assert note.action is Action.RESOLVED
    assert "resolved after 1 h 05 min" in note.text
    assert note.incident.severity is Level.CRITICAL, "closed as it last stood"
    assert window.track == Track()


def test_a_ratio_flapping_inside_the_clear_margins_sends_nothing_new() -> None:
    window = opened_warning()
    for i, dropped in enumerate([24, 26, 23, 25, 24, 27, 24, 26] * 5):
        assert window.feed(130 + i * 10, obs(dropped)) == [], f"step {i} at {dropped / 10} %"
    window.feed(600, obs(28))  # escalates once
    for i, dropped in enumerate([27, 29, 27, 28, 27, 30] * 5):
        assert window.feed(610 + i * 10, obs(dropped)) == [], f"step {i} at {dropped / 10} %"
    assert window.actions() == [Action.OPENED, Action.ESCALATED]


def test_a_ratio_exactly_at_critical_at_minus_the_margin_is_not_below_it() -> None:
    window = opened_critical()
    assert window.feed(200, obs(26)) == [], "2.6 % is not below 2.8 % − 0.2 %"
    assert window.level() is Level.CRITICAL


# --- frozen: too few answers, untrusted data ------------------------------------------------


@pytest.mark.parametrize(
    "frozen",
    [
        pytest.param(obs(0, answered=49), id="insufficient"),
        pytest.param(obs(0, trusted=False), id="untrusted"),
    ],
)
def test_frozen_data_never_clears_an_open_incident_nor_sends_anything(
    frozen: Observation,
) -> None:
    window = opened_critical()
    before = window.track
    for minute in range(3, 3 * 60, 5):  # three hours: reminders would be due, they wait too
        assert window.feed(minute * 60, frozen) == []
    assert window.track == before, "frozen exactly as it was"
    assert window.track.incident is not None
    assert window.track.incident.open
    # Good data again: the machine picks up where it was (still critical, reminder overdue).
    [note] = window.feed(3 * 3600, obs(CRIT))
    assert note.action is Action.REMINDER


@pytest.mark.parametrize(
    "frozen",
    [
        pytest.param(obs(10, answered=49), id="insufficient"),  # 20 %, but 49 answers
        pytest.param(obs(CRIT, trusted=False), id="untrusted"),
    ],
)
def test_frozen_data_never_raises(frozen: Observation) -> None:
    window = Window()
    for minute in range(0, 120, 5):
        assert window.feed(minute * 60, frozen) == []
    assert window.track == Track()


def test_fewer_than_min_answered_never_alerts_and_exactly_min_answered_does() -> None:
    few = Window(replace(POLICY, pending=0.0))
    assert few.feed(0, obs(5, answered=49)) == []  # 10.2 %
    exact = Window(replace(POLICY, pending=0.0))
    [note] = exact.feed(0, obs(5, answered=50))  # 10 %
    assert note.incident.severity is Level.CRITICAL


# --- reminders and inactive campaigns ---------------------------------------------------------


def test_a_reminder_every_repeat_while_critical() -> None:
    window = opened_critical()  # critical since 120 s
    assert window.feed(120 + 1799, obs(CRIT)) == []
    [first] = window.feed(120 + 1800, obs(CRIT))
    assert first.action is Action.REMINDER
    assert first.text.startswith("still CRITICAL")
    assert window.feed(120 + 1800 + 1799, obs(CRIT)) == []
    [second] = window.feed(120 + 3600 + 30, obs(CRIT))  # a late tick: counted from here on
    assert second.action is Action.REMINDER
    assert window.feed(120 + 3600 + 30 + 1799, obs(CRIT)) == []
    assert window.feed(120 + 5400 + 30, obs(CRIT))[0].action is Action.REMINDER
    assert {n.incident.key for n in window.sent} == {window.sent[0].incident.key}


def test_no_reminder_for_a_warning() -> None:
    window = opened_warning()
    for hour in range(1, 6):
        assert window.feed(hour * 3600, obs(WARN)) == []


def test_escalation_restarts_the_reminder_clock() -> None:
    window = opened_warning()
    window.feed(1000, obs(CRIT))  # escalated at 1000 s
    assert window.feed(1000 + 1799, obs(CRIT)) == []
    assert window.feed(1000 + 1800, obs(CRIT))[0].action is Action.REMINDER


def test_an_inactive_campaign_gets_one_reply_and_no_reminders_until_reactivated() -> None:
    window = opened_critical()  # 15:02 UTC
    [note] = window.feed(180, obs(CRIT, active=False))
    assert note.action is Action.INACTIVE
    assert "inactive since 15:03" in note.text
    assert note.incident.open
    for minute in range(4, 4 * 60, 5):  # four hours inactive: silence
        assert window.feed(minute * 60, obs(CRIT, active=False)) == []
    reactivated = 4 * 3600
    assert window.feed(reactivated, obs(CRIT)) == [], "re-activation itself sends nothing"
    assert window.feed(reactivated + 1799, obs(CRIT)) == []
    [reminder] = window.feed(reactivated + 1800, obs(CRIT))
    assert reminder.action is Action.REMINDER
    # Inactive a second time: a second (single) reply.
    [again] = window.feed(reactivated + 1900, obs(CRIT, active=False))
    assert again.action is Action.INACTIVE
    assert window.feed(reactivated + 9000, obs(CRIT, active=False)) == []
    assert window.actions() == [
        Action.OPENED,
        Action.INACTIVE,
        Action.REMINDER,
        Action.INACTIVE,
    ]


def test_an_unknown_active_flag_keeps_the_reminders_going() -> None:
    window = opened_critical()
    assert window.feed(120 + 1800, obs(CRIT, active=None))[0].action is Action.REMINDER


# --- quiet hours ------------------------------------------------------------------------------


def test_quiet_hours_hold_a_warning_until_they_end_if_it_is_still_due() -> None:
    window = Window()
    for minute in range(0, 60, 5):
        assert window.feed(minute * 60, obs(WARN, quiet=True)) == []
        assert window.level() is Level.PENDING
    [note] = window.feed(3600, obs(WARN))  # quiet hours over, long past pending
    assert note.action is Action.OPENED
    assert note.incident.severity is Level.WARNING
    assert note.incident.opened_at == at(3600)


def test_a_held_warning_that_fell_during_quiet_hours_never_opens() -> None:
    window = Window()
    window.feed(0, obs(WARN, quiet=True))
    window.feed(600, obs(BELOW_CLEAR, quiet=True))
    assert window.feed(3600, obs(BELOW_CLEAR)) == []
    assert window.sent == []


def test_quiet_hours_never_hold_critical() -> None:
    window = Window()
    window.feed(0, obs(CRIT, quiet=True))
    [note] = window.feed(120, obs(CRIT, quiet=True))
    assert note.action is Action.OPENED
    assert note.incident.severity is Level.CRITICAL


def test_quiet_hours_do_not_hold_an_escalation() -> None:
    window = opened_warning()
    [note] = window.feed(200, obs(CRIT, quiet=True))
    assert note.action is Action.ESCALATED


# --- incident keys and the dialer's day -------------------------------------------------------


def test_the_today_key_carries_the_dialer_date() -> None:
    window = opened_warning()
    assert window.sent[0].incident.key == "drop:SALES1:today:2026-11-25@15:02:00Z"
    # The dialer's date, not the UTC one: an evening in New York is the next day in UTC.
    late = Window(replace(POLICY, pending=0.0))
    [note] = late.feed(10 * 3600, obs(WARN, day=date(2026, 11, 25)))  # 01:00 UTC on the 26th
    assert note.incident.key.startswith("drop:SALES1:today:2026-11-25@")


def test_a_today_incident_opened_again_the_same_day_is_a_new_incident() -> None:
    """Resolved, then over the threshold again before midnight: a new key, so its messages
    and its auto-pause decision are its own, never folded into the first incident's record."""
    window = Window(replace(POLICY, pending=0.0))
    [first] = window.feed(0, obs(WARN))
    [resolved] = window.feed(600, obs(10))
    assert resolved.action is Action.RESOLVED
    [again] = window.feed(1200, obs(WARN))
    assert again.action is Action.OPENED
    assert again.incident.key != first.incident.key
    assert again.incident.key.startswith("drop:SALES1:today:2026-11-25@")
    # ...and it still belongs to its dialer day: midnight closes it as day_ended.
    [ended] = window.feed(12 * 3600, obs(WARN, day=date(2026, 11, 26)))
    assert ended.action is Action.DAY_ENDED
    assert ended.incident.key == again.incident.key


def test_other_windows_are_keyed_by_their_opening_moment() -> None:
    window = Window()
    window.feed(0, obs(WARN, window="30d"))
    [note] = window.feed(120, obs(WARN, window="30d"))
    assert note.incident.key == f"drop:SALES1:30d:{at(120).isoformat()}"
    assert note.incident.key == incident_key("SALES1", "30d", DAY, at(120))
    # A rolling window does not end at midnight.
    assert window.feed(9 * 3600, obs(WARN, window="30d", day=date(2026, 11, 26))) == []
    assert window.track.incident is not None
    assert window.track.incident.key == note.incident.key


@pytest.mark.parametrize("level_dropped", [WARN, CRIT])
def test_at_the_dialers_midnight_a_today_incident_ends_as_day_ended_never_resolved(
    level_dropped: int,
) -> None:
    window = Window()
    window.feed(0, obs(level_dropped))
    window.feed(120, obs(level_dropped))
    key = window.sent[0].incident.key
    window.feed(3600, obs(level_dropped + 1))  # the last figures of the day
    # Midnight: the new day starts with its own (insufficient) counts.
    [note] = window.feed(9 * 3600, obs(0, answered=0, day=date(2026, 11, 26)))
    assert note.action is Action.DAY_ENDED  # never RESOLVED
    assert f"day ended at {(level_dropped + 1) / 10:.2f} %" in note.text
    assert note.incident.key == key
    assert note.incident.close_reason == "day_ended"
    assert note.incident.closed_at == at(9 * 3600)
    assert window.track == Track()
    # The next day's incident is a new one with the new date.
    window.feed(10 * 3600, obs(WARN, day=date(2026, 11, 26)))
    [fresh] = window.feed(10 * 3600 + 120, obs(WARN, day=date(2026, 11, 26)))
    assert fresh.action is Action.OPENED
    assert fresh.incident.key.startswith("drop:SALES1:today:2026-11-26@")
    assert Action.RESOLVED not in window.actions()


def test_midnight_ends_the_today_incident_even_when_the_new_days_data_is_untrusted() -> None:
    window = opened_warning()
    [note] = window.feed(9 * 3600, obs(WARN, trusted=False, day=date(2026, 11, 26)))
    assert note.action is Action.DAY_ENDED


def test_pending_from_yesterday_does_not_count_towards_today() -> None:
    window = Window()
    window.feed(0, obs(WARN))  # pending since 15:00 on the 25th
    window.feed(60, obs(WARN))
    tomorrow = date(2026, 11, 26)
    window.feed(9 * 3600, obs(0, answered=0, day=tomorrow))  # midnight: too few answers
    # Next morning: the first poll with enough answers is over warn_at. It has held for 0 s.
    assert window.feed(18 * 3600, obs(2, answered=60, day=tomorrow)) == []
    assert window.level() is Level.PENDING


# --- deadlines --------------------------------------------------------------------------------


def test_next_deadline_is_the_pending_end_then_the_next_reminder() -> None:
    window = Window()
    assert next_deadline(window.track, POLICY) is None
    window.feed(0, obs(WARN))
    assert next_deadline(window.track, POLICY) == at(120)
    window.feed(120, obs(WARN))
    assert next_deadline(window.track, POLICY) is None, "a warning has no timer of its own"
    window.feed(300, obs(CRIT))
    assert next_deadline(window.track, POLICY) == at(300 + 1800)
    window.feed(300 + 1800, obs(CRIT))  # the reminder
    assert next_deadline(window.track, POLICY) == at(300 + 3600)
    window.feed(4000, obs(BELOW_CLEAR))
    assert next_deadline(window.track, POLICY) is None


# --- properties over random ratio sequences ---------------------------------------------------

EPS = 1e-9


@st.composite
def floors(draw: st.DrawFn) -> tuple[int, list[tuple[float, int, int, bool | None, bool]]]:
    """A pending setting and a sequence of (seconds later, answered, dropped, active, quiet)
    with answered always ≥ min_answered and ratios clustered around the thresholds."""
    pending = draw(st.sampled_from([0, 30, 120]))
    answered = draw(st.integers(LIMITS.min_answered, 3000))
    steps = []
    for _ in range(draw(st.integers(1, 60))):
        answered += draw(st.integers(0, 40))
        per_mille = draw(st.integers(0, 40))  # 0 .. 4 %, all thresholds inside
        dropped = min(answered, answered * per_mille // 1000 + draw(st.integers(0, 2)))
        dt = draw(st.sampled_from([0.0, 1.0, 5.0, 30.0, 60.0, 119.0, 120.0, 600.0, 1800.0]))
        active = draw(st.sampled_from([True, True, True, False, None]))
        quiet = draw(st.booleans())
        steps.append((dt, answered, dropped, active, quiet))
    return pending, steps


@given(floors(), st.sampled_from(["today", "30d"]))
def test_random_floors_never_storm_and_every_incident_resolves(
    floor: tuple[int, list[tuple[float, int, int, bool | None, bool]]], window_name: str
) -> None:
    pending, steps = floor
    policy = replace(POLICY, pending=float(pending))
    t = policy.thresholds
    margin = policy.clear_margin
    track = Track()
    now = T0
    open_key: str | None = None
    critical_clock: datetime | None = None  # when critical began / last reminder went out
    inactive_replied = False
    for dt, answered, dropped, active, quiet in steps:
        now += timedelta(seconds=dt)
        o = obs(dropped, answered=answered, window=window_name, active=active, quiet=quiet)
        before = track
        result = step(track, o, policy, now)
        track = result.track
        notes = result.notifications
        ratio = dropped / answered

        assert len(notes) <= 1, "at most one notification per window per evaluation"
        # One incident at a time, and its state agrees with the track's level.
        assert (track.incident is not None) == (track.level in (Level.WARNING, Level.CRITICAL))
        if track.incident is not None:
            assert track.incident.open
            assert track.incident.severity is track.level
        if track.level is Level.CRITICAL:
            assert ratio >= t.critical_at - margin - EPS, "critical below critical_at − margin"
        if before.incident is not None and track.incident is not None:
            assert track.incident.key == before.incident.key, "the key is stable"

        for note in notes:
            action = note.action
            if action is Action.OPENED:
                assert open_key is None, "an OPENED while an incident is open"
                assert before.incident is None
                assert ratio >= t.warn_at
                open_key = note.incident.key
                assert track.incident is not None
                assert track.incident.key == open_key
                if note.incident.severity is Level.CRITICAL:
                    critical_clock = now
            else:
                assert open_key is not None, f"{action} without an open incident"
                assert note.incident.key == open_key
            if action is Action.ESCALATED:
                assert before.level is Level.WARNING
                assert ratio >= t.critical_at
                critical_clock = now
            if action is Action.EASED:
                assert before.level is Level.CRITICAL
                assert ratio < t.critical_at - margin + EPS
            if action is Action.REMINDER:
                assert critical_clock is not None
                assert (now - critical_clock).total_seconds() >= policy.repeat
                assert active is not False
                critical_clock = now
            if action is Action.INACTIVE:
                assert not inactive_replied, "a second INACTIVE reply in one inactive stretch"
                assert active is False
                inactive_replied = True
            if action is Action.RESOLVED:
                assert ratio < t.warn_at - margin + EPS
                assert not note.incident.open
                open_key = None
                critical_clock = None
                inactive_replied = False  # the next incident may say "inactive" once itself
            assert action is not Action.DAY_ENDED, "one dialer date throughout"
        if active is not False:
            inactive_replied = False
        if track.level is not Level.CRITICAL:
            critical_clock = None
        assert (open_key is None) == (track.incident is None)

    # Drive the ratio down and keep it there: whatever was open resolves, exactly once.
    final = steps[-1][1] * 2
    settle = step(track, obs(0, answered=final, window=window_name), policy, now)
    if track.incident is not None:
        [note] = settle.notifications
        assert note.action is Action.RESOLVED
        assert note.incident.key == track.incident.key
    else:
        assert settle.notifications == ()
    assert settle.track == Track()
    later = step(settle.track, obs(0, answered=final, window=window_name), policy, now)
    assert later.notifications == ()
