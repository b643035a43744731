"""The rolling 30 days and the regulatory 30-day period, against hand-computed tables.

Every expected figure below is worked out by hand in the comment beside it (never by calling
the code under test): the period boundary (day 30 vs day 31 from the anchor, across a month,
a year and a leap day), an anchor in the future and an anchor today, a campaign younger than
30 days and a day with no stored row (missing, not zero).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.windows.grading import DropWindow
from wallboard.windows.period import (
    first_active_day,
    period_as_of,
    period_start,
    rolling_as_of,
    sum_days,
)

NOV_1 = date(2026, 11, 1)


def day_of(answered: int, dropped: int) -> DropWindow:
    """One stored dialer day: twice as many calls as human answers."""
    return DropWindow(calls=2 * answered, answered=answered, dropped=dropped, days=1)


def campaign_store(*, missing: tuple[date, ...] = ()) -> dict[date, DropWindow]:
    """A campaign that started on 2026-11-01 and has figures up to 2026-12-05 (35 days):

    * 2026-11-01 .. 2026-11-30 (its first period, 30 days): 100 answered, 1 drop a day;
    * 2026-12-01 .. 2026-12-05 (days 31-35, its second period): 100 answered, 4 drops a day.
    """
    store = {}
    for offset in range(35):
        day = NOV_1 + timedelta(days=offset)
        store[day] = day_of(100, 1 if day.month == 11 else 4)
    for day in missing:
        del store[day]
    return store


# -- period_start ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "day", "expected"),
    [
        # anchor today: day 1 of the first period
        (date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 1)),
        # day 30: Nov 30 - Nov 1 = 29 days, 29 // 30 = 0 -> still the first period
        (date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 1)),
        # day 31: Dec 1 - Nov 1 = 30 days, 30 // 30 = 1 -> Nov 1 + 30 days = Dec 1
        (date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 1)),
        # day 60: 59 days -> 1 period -> Dec 1
        (date(2026, 11, 1), date(2026, 12, 30), date(2026, 12, 1)),
        # day 61: 60 days -> 2 periods -> Nov 1 + 60 days = Dec 31
        (date(2026, 11, 1), date(2026, 12, 31), date(2026, 12, 31)),
        # anchor in the future (tomorrow): no period has begun
        (date(2026, 11, 1), date(2026, 10, 31), None),
        # anchor far in the future
        (date(2027, 1, 1), date(2026, 11, 25), None),
        # across the new year: Dec 15 -> Jan 13 = 16 + 13 = 29 days (day 30)
        (date(2026, 12, 15), date(2027, 1, 13), date(2026, 12, 15)),
        # Dec 15 -> Jan 14 = 30 days (day 31) -> Dec 15 + 30 = Jan 14
        (date(2026, 12, 15), date(2027, 1, 14), date(2027, 1, 14)),
        # leap year: Feb 1 -> Mar 1 2028 = 29 days (February has 29) -> day 30
        (date(2028, 2, 1), date(2028, 3, 1), date(2028, 2, 1)),
        # Feb 1 -> Mar 2 2028 = 30 days -> day 31 -> Mar 2
        (date(2028, 2, 1), date(2028, 3, 2), date(2028, 3, 2)),
        # common year: Feb 1 -> Mar 2 2027 = 28 + 1 = 29 days -> day 30
        (date(2027, 2, 1), date(2027, 3, 2), date(2027, 2, 1)),
        # Feb 1 -> Mar 3 2027 = 30 days -> day 31 -> Mar 3
        (date(2027, 2, 1), date(2027, 3, 3), date(2027, 3, 3)),
        # a year in: Jan 1 -> Dec 31 2026 = 364 days, 364 // 30 = 12 -> 360 days after Jan 1
        # = day-of-year 361 = Dec 27
        (date(2026, 1, 1), date(2026, 12, 31), date(2026, 12, 27)),
    ],
)
def test_period_start(anchor: date, day: date, expected: date | None) -> None:
    assert period_start(anchor, day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 7), date(2026, 11, 1)),  # 6 days after a 7-day anchor: first period
        (date(2026, 11, 8), date(2026, 11, 8)),  # 7 days: second period begins
        (date(2026, 11, 21), date(2026, 11, 15)),  # 20 days: 20 // 7 = 2 -> Nov 1 + 14
    ],
)
def test_period_start_with_another_length(day: date, expected: date) -> None:
    assert period_start(NOV_1, day, length=7) == expected


# -- period_as_of ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "day", "missing", "first", "calls", "answered", "dropped", "days"),
    [
        # day 30 of the first period: Nov 1..30 = 30 days x (100 answered, 1 drop)
        (NOV_1, date(2026, 11, 30), (), NOV_1, 6000, 3000, 30, 30),
        # day 31: a new period of one day, Dec 1 alone (100 answered, 4 drops)
        (NOV_1, date(2026, 12, 1), (), date(2026, 12, 1), 200, 100, 4, 1),
        # day 35: Dec 1..5 = 5 x (100, 4)
        (NOV_1, date(2026, 12, 5), (), date(2026, 12, 1), 1000, 500, 20, 5),
        # Dec 3 missing: Dec 1, 2, 4, 5 = 4 x (100, 4); the window says 4 days, not 5
        (NOV_1, date(2026, 12, 5), (date(2026, 12, 3),), date(2026, 12, 1), 800, 400, 16, 4),
        # a young period (day 10): Nov 1..10 = 10 x (100, 1)
        (NOV_1, date(2026, 11, 10), (), NOV_1, 2000, 1000, 10, 10),
        # anchor today: the period is today alone (Dec 5: 100, 4)
        (date(2026, 12, 5), date(2026, 12, 5), (), date(2026, 12, 5), 200, 100, 4, 1),
        # anchor mid-store (Nov 20): Nov 20..Dec 5 = 11 Nov days (11 drops) + 5 Dec days (20)
        (date(2026, 11, 20), date(2026, 12, 5), (), date(2026, 11, 20), 3200, 1600, 31, 16),
        # days after `day` never count: as of Nov 15, Nov 1..15 = 15 x (100, 1)
        (NOV_1, date(2026, 11, 15), (), NOV_1, 3000, 1500, 15, 15),
    ],
)
def test_period_as_of(
    anchor: date,
    day: date,
    missing: tuple[date, ...],
    first: date,
    calls: int,
    answered: int,
    dropped: int,
    days: int,
) -> None:
    found = period_as_of(campaign_store(missing=missing), anchor, day)
    assert found == (
        first,
        DropWindow(calls=calls, answered=answered, dropped=dropped, days=days),
    )


def test_period_as_of_with_the_anchor_in_the_future_is_none() -> None:
    # The configured period starts on Dec 10; on Dec 5 no period has begun.
    assert period_as_of(campaign_store(), date(2026, 12, 10), date(2026, 12, 5)) is None


def test_period_as_of_with_no_stored_day_in_the_period_is_empty_not_zero_days_of_data() -> None:
    # Anchor Nov 1, as of Dec 31 (day 61: a period of its own starting Dec 31): nothing stored.
    found = period_as_of(campaign_store(), NOV_1, date(2026, 12, 31))
    assert found == (date(2026, 12, 31), DropWindow(calls=0, answered=0, dropped=0, days=0))


# -- rolling_as_of -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "missing", "calls", "answered", "dropped", "days"),
    [
        # a campaign younger than 30 days: as of Nov 10 only Nov 1..10 exist (10 x (100, 1))
        (date(2026, 11, 10), (), 2000, 1000, 10, 10),
        # its first day: Nov 1 alone
        (NOV_1, (), 200, 100, 1, 1),
        # exactly 30 days: Nov 1..30
        (date(2026, 11, 30), (), 6000, 3000, 30, 30),
        # day 31: Nov 2..Dec 1 = 29 x (100, 1) + (100, 4) -> 3000 answered, 33 drops
        (date(2026, 12, 1), (), 6000, 3000, 33, 30),
        # Dec 5: Nov 6..30 = 25 x (100, 1) + Dec 1..5 = 5 x (100, 4) -> 25 + 20 = 45 drops
        (date(2026, 12, 5), (), 6000, 3000, 45, 30),
        # Dec 5 with Nov 20 and Dec 2 missing: 24 Nov days (24) + 4 Dec days (16) = 40 drops
        (date(2026, 12, 5), (date(2026, 11, 20), date(2026, 12, 2)), 5600, 2800, 40, 28),
        # past the end of the store: Dec 10 covers Nov 11..Dec 10, stored Nov 11..30 (20 days,
        # 20 drops) and Dec 1..5 (5 days, 20 drops) -> 25 days, 2500 answered, 40 drops
        (date(2026, 12, 10), (), 5000, 2500, 40, 25),
        # long after: Jan 30 2027 covers Jan 1..30 2027, nothing stored
        (date(2027, 1, 30), (), 0, 0, 0, 0),
        # before the first day: nothing
        (date(2026, 10, 31), (), 0, 0, 0, 0),
    ],
)
def test_rolling_as_of(
    day: date,
    missing: tuple[date, ...],
    calls: int,
    answered: int,
    dropped: int,
    days: int,
) -> None:
    found = rolling_as_of(campaign_store(missing=missing), day)
    assert found == DropWindow(calls=calls, answered=answered, dropped=dropped, days=days)


def test_a_young_campaign_window_says_how_many_days_it_holds_and_its_ratio() -> None:
    # Nov 1..10: 1000 answered, 10 drops -> 1 %, over 10 days (not passed off as 30).
    window = rolling_as_of(campaign_store(), date(2026, 11, 10))
    assert window.days == 10
    assert window.drop_ratio == pytest.approx(0.01)


def test_rolling_with_another_length() -> None:
    # 7 days as of Dec 3: Nov 27..30 = 4 x (100, 1) + Dec 1..3 = 3 x (100, 4) -> 700, 16
    found = rolling_as_of(campaign_store(), date(2026, 12, 3), length=7)
    assert found == DropWindow(calls=1400, answered=700, dropped=16, days=7)


# -- sum_days ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "answered", "dropped", "days"),
    [
        (date(2026, 11, 29), date(2026, 12, 2), 400, 10, 4),  # 2 x (100, 1) + 2 x (100, 4)
        (date(2026, 12, 5), date(2026, 12, 5), 100, 4, 1),  # one day, both bounds inclusive
        (date(2026, 12, 2), date(2026, 12, 1), 0, 0, 0),  # an empty range
        (date(2026, 10, 1), date(2026, 10, 31), 0, 0, 0),  # no stored day in range
    ],
)
def test_sum_days(first: date, last: date, answered: int, dropped: int, days: int) -> None:
    found = sum_days(campaign_store(), first, last)
    assert found == DropWindow(calls=2 * answered, answered=answered, dropped=dropped, days=days)


# -- first_active_day --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # zero rows stored before the campaign dialed do not count: it started Nov 1
        (
            [
                (date(2026, 10, 30), DropWindow()),
                (date(2026, 10, 31), DropWindow(calls=0, answered=0, dropped=0)),
                (date(2026, 11, 1), day_of(100, 1)),
                (date(2026, 11, 2), day_of(100, 1)),
            ],
            date(2026, 11, 1),
        ),
        # order does not matter
        (
            [(date(2026, 11, 3), day_of(100, 1)), (date(2026, 11, 2), day_of(50, 0))],
            date(2026, 11, 2),
        ),
        # calls without a human answer are still activity
        (
            [(date(2026, 11, 5), DropWindow(calls=12)), (date(2026, 11, 6), day_of(100, 1))],
            date(2026, 11, 5),
        ),
        # a gap after the start keeps the first day
        (
            [(date(2026, 11, 1), day_of(10, 0)), (date(2026, 11, 9), day_of(10, 0))],
            date(2026, 11, 1),
        ),
        ([(date(2026, 11, 1), DropWindow())], None),  # never dialed
        ([], None),  # nothing stored
    ],
)
def test_first_active_day(rows: list[tuple[date, DropWindow]], expected: date | None) -> None:
    assert first_active_day(rows) == expected


# -- properties --------------------------------------------------------------------------------

DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


@given(anchor=DATES, offset=st.integers(0, 20_000))
def test_period_start_is_a_multiple_of_30_days_from_the_anchor_and_holds_the_day(
    anchor: date, offset: int
) -> None:
    day = anchor + timedelta(days=offset)
    first = period_start(anchor, day)
    assert first is not None
    assert (first - anchor).days % 30 == 0
    assert first <= day < first + timedelta(days=30)


@given(
    anchor=st.dates(min_value=date(2026, 10, 1), max_value=date(2026, 12, 31)),
    day=st.dates(min_value=date(2026, 10, 1), max_value=date(2027, 1, 31)),
    missing=st.sets(st.integers(0, 34), max_size=10),
)
def test_the_period_never_holds_more_than_the_rolling_window(
    anchor: date, day: date, missing: set[int]
) -> None:
    """The period runs from at most 29 days before ``day`` to ``day``: inside the rolling
    window ending with ``day``, so none of its sums can exceed the rolling one's."""
    store = campaign_store(missing=tuple(NOV_1 + timedelta(days=m) for m in missing))
    found = period_as_of(store, anchor, day)
    if day < anchor:
        assert found is None
        return
    assert found is not None
    first, period = found
    rolling = rolling_as_of(store, day)
    assert day - timedelta(days=29) <= first <= day
    assert period.days <= rolling.days
    assert period.answered <= rolling.answered
    assert period.dropped <= rolling.dropped
    assert period.calls <= rolling.calls
