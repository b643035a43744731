"""Drop-window maths: exact headroom, grading that looks one drop ahead, window sums.

Severity and ``drops_remaining`` are checked against a reference written in exact rational
arithmetic (``fractions.Fraction``), so a float rounding slip in the module (``0.03 * 100``
flooring to 2, a ratio a hair under a threshold graded over it) shows up as a counterexample.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wallboard.windows import (
    DropWindow,
    Severity,
    Thresholds,
    WindowFigures,
    drops_remaining,
    figures,
    grade_all,
    past_days_by_campaign,
    rolling,
    severity,
    total,
)

DEFAULTS = Thresholds()  # limit 3 %, warn 2.5 %, critical 2.8 %, min_answered 50
RANK = {Severity.INSUFFICIENT: -1, Severity.OK: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}

#: Below a million answers a ratio that misses a per-mille threshold misses it by more than the
#: module's 1e-9 tolerance, so the float grading must agree exactly with the rational one.
MAX_ANSWERED = 500_000


def window(answered: int, dropped: int, calls: int | None = None) -> DropWindow:
    return DropWindow(
        calls=answered if calls is None else calls, answered=answered, dropped=dropped
    )


@st.composite
def answered_and_dropped(draw: st.DrawFn, max_answered: int = MAX_ANSWERED) -> tuple[int, int]:
    answered = draw(st.integers(0, max_answered))
    # Realistic drop counts cluster near the thresholds; also draw anywhere up to answered.
    near = draw(st.integers(0, max(0, answered * 4 // 100)))
    anywhere = draw(st.integers(0, answered))
    return answered, draw(st.sampled_from([near, anywhere]))


@st.composite
def per_mille_thresholds(draw: st.DrawFn) -> tuple[Thresholds, Fraction, Fraction, Fraction]:
    """Thresholds given in whole per mille, with their exact values for the reference."""
    warn = draw(st.integers(1, 100))
    critical = draw(st.integers(warn, 120))
    limit = draw(st.integers(critical, 150))
    min_answered = draw(st.integers(0, 200))
    thresholds = Thresholds(
        limit=limit / 1000,
        warn_at=warn / 1000,
        critical_at=critical / 1000,
        min_answered=min_answered,
    )
    return thresholds, Fraction(limit, 1000), Fraction(warn, 1000), Fraction(critical, 1000)


def reference_severity(
    answered: int, dropped: int, warn: Fraction, critical: Fraction, min_answered: int
) -> Severity:
    if answered < min_answered:
        return Severity.INSUFFICIENT
    ratio = Fraction(dropped, answered) if answered else Fraction(0)
    if ratio >= critical:
        return Severity.CRITICAL
    if ratio >= warn or Fraction(dropped + 1, answered + 1) >= warn:
        return Severity.WARNING
    return Severity.OK


# --- the example ----------------------------------------------------------------------


def test_a_campaign_at_2_28_percent_with_one_drop_left_is_a_warning_not_ok() -> None:
    # 5 drops of 219 answers: 2.28 %, under warn_at (2.5 %); floor(3 % x 219) = 6, one left.
    at_risk = window(answered=219, dropped=5)
    assert round(at_risk.drop_ratio * 100, 2) == 2.28
    assert at_risk.drop_ratio < DEFAULTS.warn_at
    assert drops_remaining(at_risk, DEFAULTS.limit) == 1
    # The next drop takes it to 6 / 220 = 2.73 %, past warn_at: the floor must know now.
    assert severity(at_risk, DEFAULTS) is Severity.WARNING


def test_the_look_ahead_only_warns_when_the_next_drop_would_reach_warn_at() -> None:
    # 4 / 219 = 1.83 %; one more: 5 / 220 = 2.27 %, still under 2.5 %: genuinely ok.
    assert severity(window(answered=219, dropped=4), DEFAULTS) is Severity.OK
    # 4 / 200 = 2.0 %; one more: 5 / 201 = 2.49 %: ok, just.
    assert severity(window(answered=200, dropped=4), DEFAULTS) is Severity.OK
    # 4 / 199 = 2.01 %; one more: 5 / 200 = 2.5 % exactly, which reaches warn_at.
    assert severity(window(answered=199, dropped=4), DEFAULTS) is Severity.WARNING


# --- severity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answered", "dropped", "expected"),
    [
        (49, 49, Severity.INSUFFICIENT),  # one short of min_answered: no verdict, however bad
        (0, 0, Severity.INSUFFICIENT),
        (50, 0, Severity.OK),  # exactly min_answered is graded
        (1000, 28, Severity.CRITICAL),  # exactly critical_at
        (1000, 27, Severity.WARNING),  # 2.7 %: past warn_at, under critical_at
        (1000, 25, Severity.WARNING),  # exactly warn_at
        (1000, 24, Severity.OK),  # 2.4 %; one more: 25 / 1001 = 2.4975 %, still under
        (999, 24, Severity.WARNING),  # 2.4 %; one more: 25 / 1000 = exactly warn_at
        (100, 3, Severity.CRITICAL),  # exactly the legal limit is past critical
    ],
)
def test_severity_boundaries(answered: int, dropped: int, expected: Severity) -> None:
    assert severity(window(answered, dropped), DEFAULTS) is expected


@given(answered_and_dropped(), per_mille_thresholds())
def test_severity_agrees_with_exact_rational_arithmetic(
    counts: tuple[int, int], graded: tuple[Thresholds, Fraction, Fraction, Fraction]
) -> None:
    answered, dropped = counts
    thresholds, _, warn, critical = graded
    expected = reference_severity(answered, dropped, warn, critical, thresholds.min_answered)
    assert severity(window(answered, dropped), thresholds) is expected


@given(st.integers(0, MAX_ANSWERED), st.data())
def test_severity_is_monotone_in_dropped_for_fixed_answered(
    answered: int, data: st.DataObject
) -> None:
    low = data.draw(st.integers(0, answered))
    high = data.draw(st.integers(low, answered))
    assert (
        RANK[severity(window(answered, low), DEFAULTS)]
        <= RANK[severity(window(answered, high), DEFAULTS)]
    )


@given(st.integers(DEFAULTS.min_answered, MAX_ANSWERED), st.data())
def test_severity_never_worsens_with_more_answers_for_fixed_drops(
    answered: int, data: st.DataObject
) -> None:
    dropped = data.draw(st.integers(0, answered))
    more = data.draw(st.integers(answered, MAX_ANSWERED))
    assert (
        RANK[severity(window(more, dropped), DEFAULTS)]
        <= RANK[severity(window(answered, dropped), DEFAULTS)]
    )


@given(answered_and_dropped())
def test_ok_means_the_next_drop_stays_under_warn_at(counts: tuple[int, int]) -> None:
    answered, dropped = counts
    if severity(window(answered, dropped), DEFAULTS) is Severity.OK:
        assert Fraction(dropped + 1, answered + 1) < Fraction(25, 1000)


@given(answered_and_dropped())
def test_on_a_real_day_one_drop_left_is_never_green(counts: tuple[int, int]) -> None:
    # From 205 answers up, floor(3 %) - 1 drops put the next one past 2.5 % (see the module's
    # docstring): a board must never show green with the last drop of headroom.
    answered, dropped = counts
    assume(answered >= 205)
    if drops_remaining(window(answered, dropped), DEFAULTS.limit) <= 1:
        assert severity(window(answered, dropped), DEFAULTS) is not Severity.OK


# --- drops_remaining --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answered", "dropped", "expected"),
    [
        (100, 0, 3),  # 0.03 * 100 = 3.0000000000000004 in floats: floor is 3
        (100, 3, 0),
        (100, 4, 0),  # past the limit: never negative
        (99, 0, 2),
        (0, 0, 0),
        (219, 5, 1),
        (1000, 0, 30),
        (3400, 0, 102),
    ],
)
def test_drops_remaining_examples(answered: int, dropped: int, expected: int) -> None:
    assert drops_remaining(window(answered, dropped), 0.03) == expected
    assert window(answered, dropped).drops_remaining(0.03) == expected


@given(answered_and_dropped(max_answered=10_000_000))
def test_drops_remaining_is_exact_integer_arithmetic_at_3_percent(counts: tuple[int, int]) -> None:
    answered, dropped = counts
    assert drops_remaining(window(answered, dropped), 0.03) == max(0, 3 * answered // 100 - dropped)


@pytest.mark.parametrize(
    ("answered", "limit", "allowed"),
    [
        (3000, 0.009, 27),  # 0.009 * 3000 = 26.999999999999996 in floats
        (1500, 0.018, 27),
        (7000, 0.009, 63),
        (100, 0.07, 7),  # 7.000000000000001: must not round the other way either
    ],
)
def test_drops_remaining_survives_float_rounding_of_limit_times_answered(
    answered: int, limit: float, allowed: int
) -> None:
    assert drops_remaining(window(answered, 0), limit) == allowed


@given(answered_and_dropped(max_answered=MAX_ANSWERED), st.integers(1, 150))
def test_drops_remaining_is_exact_for_any_per_mille_limit(
    counts: tuple[int, int], per_mille: int
) -> None:
    answered, dropped = counts
    expected = max(0, per_mille * answered // 1000 - dropped)
    assert drops_remaining(window(answered, dropped), per_mille / 1000) == expected


@given(answered_and_dropped())
def test_drops_remaining_drops_more_keeps_the_ratio_within_the_limit(
    counts: tuple[int, int],
) -> None:
    # The meaning, not the formula: taking exactly the remaining drops (at the same answered
    # count) stays within 3 %, and one more would exceed it.
    answered, dropped = counts
    left = drops_remaining(window(answered, dropped), 0.03)
    if left > 0:
        assert Fraction(dropped + left, answered) <= Fraction(3, 100)
        assert Fraction(dropped + left + 1, answered) > Fraction(3, 100)


# --- figures ----------------------------------------------------------------------------------


def test_figures_carry_counts_ratio_headroom_and_grade() -> None:
    day = DropWindow(calls=400, answered=219, dropped=5, days=1)
    assert figures(day, DEFAULTS) == WindowFigures(
        calls=400,
        answered=219,
        dropped=5,
        ratio=5 / 219,
        drops_remaining=1,
        severity=Severity.WARNING,
        days=1,
    )


def test_figures_of_an_empty_window_have_a_zero_ratio_and_no_verdict() -> None:
    empty = figures(DropWindow(days=0), DEFAULTS)
    assert empty.ratio == 0.0
    assert empty.drops_remaining == 0
    assert empty.severity is Severity.INSUFFICIENT
    assert empty.days == 0


def test_grade_all_grades_each_named_window_with_the_same_thresholds() -> None:
    today = DropWindow(calls=300, answered=219, dropped=5)
    month = DropWindow(calls=9000, answered=6000, dropped=200, days=30)
    graded = grade_all({"today": today, "30d": month}, DEFAULTS)
    assert list(graded) == ["today", "30d"]
    assert graded["today"] == figures(today, DEFAULTS)
    assert graded["30d"] == figures(month, DEFAULTS)
    assert graded["30d"].severity is Severity.CRITICAL  # 3.33 %
    assert graded["30d"].drops_remaining == 0


# --- sums ---------------------------------------------------------------------------------------

windows_st = st.builds(
    DropWindow,
    calls=st.integers(0, 10_000),
    answered=st.integers(0, 10_000),
    dropped=st.integers(0, 1_000),
    days=st.integers(0, 3),
)


@given(st.lists(windows_st, max_size=40))
def test_total_sums_every_field(windows: list[DropWindow]) -> None:
    summed = total(windows)
    assert summed.calls == sum(w.calls for w in windows)
    assert summed.answered == sum(w.answered for w in windows)
    assert summed.dropped == sum(w.dropped for w in windows)
    assert summed.days == sum(w.days for w in windows)


def test_total_of_nothing_is_an_empty_zero_day_window() -> None:
    assert total([]) == DropWindow(calls=0, answered=0, dropped=0, days=0)


@given(st.lists(windows_st, max_size=20), st.lists(windows_st, max_size=20))
def test_total_is_associative(first: list[DropWindow], second: list[DropWindow]) -> None:
    assert total(first + second) == total([total(first), total(second)])


@given(windows_st, windows_st)
def test_rolling_adds_today_to_the_past_days(today: DropWindow, past: DropWindow) -> None:
    assert rolling(today, past) == total([today, past])
    assert rolling(today, past).days == today.days + past.days


def test_rolling_without_past_days_is_today_alone_and_says_one_day() -> None:
    today = DropWindow(calls=10, answered=8, dropped=1, days=1)
    assert rolling(today, None) == today
    assert rolling(today, None).days == 1


def test_rolling_30_days_from_29_stored_days_and_today() -> None:
    past = total([DropWindow(calls=100, answered=80, dropped=2)] * 29)
    month = rolling(DropWindow(calls=50, answered=40, dropped=1), past)
    assert month == DropWindow(calls=2950, answered=2360, dropped=59, days=30)


@given(st.lists(st.tuples(st.sampled_from(["SALES1", "SALES2", "SURVEY"]), windows_st)))
def test_past_days_by_campaign_sums_each_campaigns_days(days: list[tuple[str, DropWindow]]) -> None:
    sums = past_days_by_campaign(days)
    assert set(sums) == {campaign for campaign, _ in days}
    for campaign, summed in sums.items():
        assert summed == total(w for c, w in days if c == campaign)
    # Order of the stored rows does not matter.
    assert past_days_by_campaign(reversed(days)) == sums


def test_past_days_by_campaign_of_nothing_is_empty() -> None:
    assert past_days_by_campaign([]) == {}
