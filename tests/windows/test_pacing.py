"""Pacing windows (15 minutes, one hour) from observed deltas of today's counters.

Expected deltas and spans are worked out by hand beside each row. Time is a parameter: every
instant is built from ``T0``, nothing reads a clock.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.windows.grading import DropWindow
from wallboard.windows.pacing import CounterSample, PaceTracker, PaceWindow, pace_window

T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
DAY = date(2026, 11, 25)
NEXT_DAY = date(2026, 11, 26)
MIN_15 = 15 * 60.0
HOUR = 3600.0


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sample(minutes: float, calls: int, answered: int, dropped: int) -> CounterSample:
    return CounterSample(at(minutes), calls, answered, dropped)


def counts(calls: int, answered: int, dropped: int) -> DropWindow:
    return DropWindow(calls=calls, answered=answered, dropped=dropped)


def delta(calls: int, answered: int, dropped: int, span: float, as_of_minutes: float) -> PaceWindow:
    """A pacing window as the module reports it (its ``days`` is 0: not a dialer day), up to
    the newest sample (``as_of_minutes`` after ``T0``)."""
    return PaceWindow(
        DropWindow(calls=calls, answered=answered, dropped=dropped, days=0),
        span,
        at(as_of_minutes),
    )


#: Today's counters every five minutes (minute: calls, answered, dropped).
FIVE_MINUTELY = (
    sample(0, 100, 40, 1),
    sample(5, 130, 52, 1),
    sample(10, 160, 65, 2),
    sample(15, 190, 80, 3),
    sample(20, 220, 90, 3),
)


# -- pace_window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "span", "expected"),
    [
        # 15 min back from the newest sample (minute 20): cutoff minute 5, base = minute 5:
        # 220-130 = 90 calls, 90-52 = 38 answered, 3-1 = 2 drops over 900 s
        pytest.param(FIVE_MINUTELY, MIN_15, delta(90, 38, 2, 900, 20), id="15m-exact"),
        # 1 h: cutoff minute -40, nothing that old -> base = the oldest (minute 0):
        # 220-100 = 120, 90-40 = 50, 3-1 = 2 over the 20 minutes observed (1200 s)
        pytest.param(FIVE_MINUTELY, HOUR, delta(120, 50, 2, 1200, 20), id="1h-shorter-span"),
        # 10 min: cutoff 10 -> base 10: 220-160 = 60, 90-65 = 25, 3-2 = 1 over 600 s
        pytest.param(FIVE_MINUTELY, 600.0, delta(60, 25, 1, 600, 20), id="10m"),
        # 14 min: cutoff 6 -> the newest sample at least 14 min older is minute 5:
        # 90, 38, 2 over 900 s (more than the nominal 840 s when polls do not line up)
        pytest.param(FIVE_MINUTELY, 14 * 60.0, delta(90, 38, 2, 900, 20), id="14m"),
        # 16 min: cutoff 4 -> minute 0: 120, 50, 2 over 1200 s
        pytest.param(FIVE_MINUTELY, 16 * 60.0, delta(120, 50, 2, 1200, 20), id="16m"),
        # only two samples, 20 minutes apart: cutoff 5 -> base 0: (30, 10, 2) over 1200 s
        pytest.param(
            (sample(0, 10, 5, 0), sample(20, 40, 15, 2)),
            MIN_15,
            delta(30, 10, 2, 1200, 20),
            id="two-samples",
        ),
        # nothing moved: zero deltas, still a window (a quiet quarter hour is news too)
        pytest.param(
            (sample(0, 10, 5, 0), sample(15, 10, 5, 0)),
            MIN_15,
            delta(0, 0, 0, 900, 15),
            id="quiet",
        ),
        # one sample: a window of nothing over 0 s (observed, and honest about it)
        pytest.param((sample(7, 10, 5, 0),), MIN_15, delta(0, 0, 0, 0, 7), id="one-sample"),
    ],
)
def test_pace_window(samples: tuple[CounterSample, ...], span: float, expected: PaceWindow) -> None:
    assert pace_window(samples, span) == expected


def test_pace_window_without_samples_is_none() -> None:
    assert pace_window((), MIN_15) is None


# -- PaceTracker -------------------------------------------------------------------------------


def feed_every_five_minutes(tracker: PaceTracker, last_minute: int) -> None:
    """Minute m (0, 5, ..., last_minute): calls 10m, answered 4m, dropped m // 10."""
    for minute in range(0, last_minute + 1, 5):
        tracker.observe(DAY, at(minute), {"SALES1": counts(10 * minute, 4 * minute, minute // 10)})


def test_both_windows_after_seventy_minutes() -> None:
    tracker = PaceTracker()
    feed_every_five_minutes(tracker, 70)
    # Newest (minute 70): calls 700, answered 280, dropped 7.
    # 15m: cutoff 55 -> base 55 (550, 220, 5): 150, 60, 2 over 900 s.
    # 1h: cutoff 10 -> base 10 (100, 40, 1): 600, 240, 6 over 3600 s.
    assert tracker.windows("SALES1") == {
        "15m": delta(150, 60, 2, 900, 70),
        "1h": delta(600, 240, 6, 3600, 70),
    }
    assert tracker.day == DAY


def test_old_samples_are_dropped_but_the_hour_keeps_its_base() -> None:
    tracker = PaceTracker()
    feed_every_five_minutes(tracker, 70)
    # Kept for 65 minutes (an hour + 5): at minute 70 a sample goes when its successor is at
    # most minute 5: minute 0 goes (its successor, 5, is <= 5), minute 5 stays (its successor,
    # 10, is newer) -> 14 samples, minutes 5..70.
    kept = tracker.dump()["samples"]["SALES1"]
    assert [row[0] for row in kept] == [at(m).isoformat() for m in range(5, 71, 5)]


def test_right_after_start_the_windows_cover_what_was_observed() -> None:
    tracker = PaceTracker()
    tracker.observe(DAY, at(0), {"SALES1": counts(100, 40, 1)})
    # one sample: a window of nothing over 0 s
    assert tracker.windows("SALES1") == {
        "15m": delta(0, 0, 0, 0, 0),
        "1h": delta(0, 0, 0, 0, 0),
    }
    tracker.observe(DAY, at(5), {"SALES1": counts(130, 52, 2)})
    # Both windows: (30, 12, 1) over the 300 s observed, not pretending to 15 min or an hour.
    assert tracker.windows("SALES1") == {
        "15m": delta(30, 12, 1, 300, 5),
        "1h": delta(30, 12, 1, 300, 5),
    }


@pytest.mark.parametrize(
    "shrunk",
    [
        counts(20, 8, 0),  # every counter restarted (VICIdial's day began under us)
        counts(140, 56, 0),  # only the drops went down (a re-count): still a restart
        counts(140, 50, 1),  # only the answers went down
        counts(120, 56, 1),  # only the calls went down
    ],
)
def test_counters_that_shrink_reset_the_samples(shrunk: DropWindow) -> None:
    tracker = PaceTracker()
    tracker.observe(DAY, at(0), {"SALES1": counts(100, 40, 1)})
    tracker.observe(DAY, at(5), {"SALES1": counts(130, 52, 1)})
    tracker.observe(DAY, at(10), {"SALES1": shrunk})
    # Only the shrunk sample is left: nothing over 0 s (never negative, never stitched).
    assert tracker.window("SALES1", MIN_15) == delta(0, 0, 0, 0, 10)
    tracker.observe(
        DAY,
        at(15),
        {"SALES1": counts(shrunk.calls + 30, shrunk.answered + 12, shrunk.dropped + 1)},
    )
    # From the shrunk sample on: +30 calls, +12 answered, +1 drop over 300 s.
    assert tracker.window("SALES1", MIN_15) == delta(30, 12, 1, 300, 15)


def test_a_new_day_resets_every_campaign() -> None:
    tracker = PaceTracker()
    # minutes after T0 (14:00 UTC): 590 = 23:50, 595 = 23:55, 601 = 00:01 the next day
    tracker.observe(DAY, at(590), {"SALES1": counts(900, 400, 9), "SALES2": counts(50, 20, 0)})
    tracker.observe(DAY, at(595), {"SALES1": counts(910, 404, 9), "SALES2": counts(60, 24, 1)})
    assert tracker.window("SALES1", MIN_15) == delta(10, 4, 0, 300, 595)
    # The dialer's midnight: even counters that grew are not a delta across two days.
    tracker.observe(NEXT_DAY, at(601), {"SALES1": counts(920, 410, 10)})
    assert tracker.day == NEXT_DAY
    assert tracker.window("SALES1", MIN_15) == delta(0, 0, 0, 0, 601)
    assert tracker.window("SALES2", MIN_15) is None  # not observed since midnight
    assert tracker.windows("SALES2") == {}
    tracker.observe(NEXT_DAY, at(606), {"SALES1": counts(925, 412, 10)})
    # From the first sample of the new day: +5, +2, +0 over 300 s.
    assert tracker.window("SALES1", MIN_15) == delta(5, 2, 0, 300, 606)


@pytest.mark.parametrize(
    "stale",
    [
        counts(999, 999, 99),  # an answer not newer than the last one kept: ignored
        counts(0, 0, 0),  # and even when its counters are lower, it is no restart
    ],
)
@pytest.mark.parametrize("minute", [5, 10], ids=["older", "same-instant"])
def test_an_answer_not_newer_than_the_last_is_ignored(stale: DropWindow, minute: int) -> None:
    tracker = PaceTracker()
    tracker.observe(DAY, at(0), {"SALES1": counts(100, 40, 1)})
    tracker.observe(DAY, at(10), {"SALES1": counts(160, 65, 2)})
    tracker.observe(DAY, at(minute), {"SALES1": stale})
    # Unchanged: (60, 25, 1) over the 600 s between minute 0 and minute 10.
    assert tracker.window("SALES1", MIN_15) == delta(60, 25, 1, 600, 10)


def test_campaigns_are_independent() -> None:
    tracker = PaceTracker()
    tracker.observe(DAY, at(0), {"SALES1": counts(100, 40, 1), "SALES2": counts(500, 200, 5)})
    tracker.observe(DAY, at(5), {"SALES1": counts(130, 52, 2), "SALES2": counts(10, 4, 0)})
    assert tracker.window("SALES1", MIN_15) == delta(30, 12, 1, 300, 5)  # unaffected
    assert tracker.window("SALES2", MIN_15) == delta(0, 0, 0, 0, 5)  # SALES2 restarted


def test_an_unknown_campaign_has_no_window() -> None:
    tracker = PaceTracker()
    feed_every_five_minutes(tracker, 20)
    assert tracker.window("NOPE", MIN_15) is None
    assert tracker.windows("NOPE") == {}


def test_spans_are_real_seconds_across_a_dst_change() -> None:
    # New York falls back at 2026-11-01 06:00 UTC (02:00 EDT -> 01:00 EST): samples 10 minutes
    # either side are 20 real minutes apart, whatever the wall clock says.
    before = datetime(2026, 11, 1, 5, 50, tzinfo=UTC)
    after = before + timedelta(minutes=20)
    tracker = PaceTracker()
    tracker.observe(date(2026, 11, 1), before, {"SALES1": counts(100, 40, 1)})
    tracker.observe(date(2026, 11, 1), after, {"SALES1": counts(160, 64, 2)})
    assert tracker.window("SALES1", HOUR) == PaceWindow(
        DropWindow(calls=60, answered=24, dropped=1, days=0), 1200.0, after
    )


# -- dump / load -------------------------------------------------------------------------------


def test_dump_and_load_keep_the_windows_across_a_restart() -> None:
    tracker = PaceTracker()
    feed_every_five_minutes(tracker, 70)
    tracker.observe(DAY, at(70), {"SALES2": counts(30, 10, 0)})
    restored = PaceTracker()
    restored.load(json.loads(json.dumps(tracker.dump())))
    assert restored.day == DAY
    # Same as before the restart (see test_both_windows_after_seventy_minutes).
    assert restored.windows("SALES1") == {
        "15m": delta(150, 60, 2, 900, 70),
        "1h": delta(600, 240, 6, 3600, 70),
    }
    assert restored.windows("SALES2") == {
        "15m": delta(0, 0, 0, 0, 70),
        "1h": delta(0, 0, 0, 0, 70),
    }
    # And it goes on from there: minute 75 -> (750, 300, 7); 15m base 60 (600, 240, 6).
    restored.observe(DAY, at(75), {"SALES1": counts(750, 300, 7)})
    assert restored.window("SALES1", MIN_15) == delta(150, 60, 1, 900, 75)


def test_an_empty_tracker_round_trips() -> None:
    restored = PaceTracker()
    restored.load(PaceTracker().dump())
    assert restored.day is None
    assert restored.windows("SALES1") == {}


GOOD_ROW = [T0.isoformat(), 10, 5, 0]


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"day": DAY.isoformat()}, id="no-samples"),
        pytest.param({"day": DAY.isoformat(), "samples": None}, id="samples-null"),
        pytest.param({"day": "25/11/2026", "samples": {}}, id="bad-day"),
        pytest.param({"day": 20261125, "samples": {}}, id="day-not-text"),
        pytest.param(
            {"day": None, "samples": {"SALES1": [["2026-11-25T14:00:00", 10, 5, 0]]}},
            id="naive-time",
        ),
        pytest.param({"day": None, "samples": {"SALES1": [["yesterday", 10, 5, 0]]}}, id="time"),
        pytest.param({"day": None, "samples": {"SALES1": [[T0.isoformat(), 10, 5]]}}, id="short"),
        pytest.param(
            {"day": None, "samples": {"SALES1": [[*GOOD_ROW, 1]]}},
            id="long-row",
        ),
        pytest.param(
            {"day": None, "samples": {"SALES1": [[T0.isoformat(), 10, -5, 0]]}}, id="negative"
        ),
        pytest.param(
            {"day": None, "samples": {"SALES1": [[T0.isoformat(), "ten", 5, 0]]}}, id="not-int"
        ),
        pytest.param({"day": None, "samples": {"SALES1": 7}}, id="rows-not-a-list"),
        pytest.param({"day": None, "samples": {"SALES1": [7]}}, id="row-not-a-list"),
        pytest.param({"day": None, "samples": {"SALES1": [[1, 10, 5, 0]]}}, id="time-not-text"),
        # rows a dump never writes: the tracker keeps samples in time order and clears them
        # when counters shrink, so restoring these would give negative deltas and spans
        # (newest 14:00 (10, 5, 0) minus base 14:10 (160, 65, 2) = (-150, -60, -2) over -600 s)
        pytest.param(
            {"day": None, "samples": {"SALES1": [[at(10).isoformat(), 160, 65, 2], GOOD_ROW]}},
            id="out-of-order",
        ),
        pytest.param(
            {"day": None, "samples": {"SALES1": [GOOD_ROW, [at(5).isoformat(), 8, 4, 0]]}},
            id="counters-shrink",
        ),
        pytest.param(
            {"day": None, "samples": {"SALES1": [GOOD_ROW, GOOD_ROW]}},
            id="same-instant-twice",
        ),
    ],
)
def test_load_rejects_anything_malformed_and_keeps_what_it_had(document: dict[str, Any]) -> None:
    tracker = PaceTracker()
    feed_every_five_minutes(tracker, 70)
    with pytest.raises(ValueError, match="bad pacing samples"):
        tracker.load(document)
    assert tracker.day == DAY
    assert tracker.window("SALES1", MIN_15) == delta(150, 60, 2, 900, 70)


@pytest.mark.parametrize("stored", ["[]", "null", '"text"', "5", "[[1, 2]]"])
def test_load_rejects_a_document_that_is_not_an_object(stored: str) -> None:
    # What the durable store gave back, decoded: not the object dump() writes.
    tracker = PaceTracker()
    feed_every_five_minutes(tracker, 70)
    with pytest.raises(ValueError, match="bad pacing samples"):
        tracker.load(json.loads(stored))
    assert tracker.window("SALES1", MIN_15) == delta(150, 60, 2, 900, 70)


# -- property ----------------------------------------------------------------------------------

STEPS = st.lists(
    st.tuples(
        st.integers(-120, 1200),  # seconds since the previous answer (<= 0: stale or repeated)
        st.integers(-20, 60),  # change of calls (negative: a restart)
        st.integers(-10, 30),  # change of answers
        st.integers(-2, 3),  # change of drops
        st.booleans(),  # the dialer's day changes
    ),
    max_size=60,
)


@given(steps=STEPS)
def test_pacing_windows_are_never_negative_and_never_exceed_todays_counters(
    steps: list[tuple[int, int, int, int, bool]],
) -> None:
    tracker = PaceTracker()
    moment, day = T0, DAY
    calls = answered = dropped = 0
    latest: tuple[datetime, DropWindow] | None = None  # the newest answer the tracker kept
    for seconds, more_calls, more_answered, more_dropped, new_day in steps:
        moment += timedelta(seconds=seconds)
        if new_day:
            day += timedelta(days=1)
            latest = None
        calls = max(0, calls + more_calls)
        answered = max(0, min(calls, answered + more_answered))
        dropped = max(0, min(answered, dropped + more_dropped))
        tracker.observe(day, moment, {"SALES1": counts(calls, answered, dropped)})
        if latest is None or moment > latest[0]:
            latest = (moment, counts(calls, answered, dropped))
        newest_at, newest = latest
        found = tracker.windows("SALES1")
        assert set(found) == {"15m", "1h"}
        for pace in found.values():
            window = pace.window
            assert pace.as_of == newest_at
            assert min(window.calls, window.answered, window.dropped) >= 0
            assert pace.span_seconds >= 0
            if pace.span_seconds == 0:
                assert (window.calls, window.answered, window.dropped) == (0, 0, 0)
            # A delta of today's counters is at most today's counters.
            assert window.calls <= newest.calls
            assert window.answered <= newest.answered
            assert window.dropped <= newest.dropped


def test_a_drop_restatused_from_an_earlier_answer_never_takes_the_ratio_past_one() -> None:
    # 1000 answered / 20 drops, then three earlier answers re-dispositioned as DROP and one new
    # answer: +1 answered, +3 drops. By hand: the 3 drops are human answers of today too, so
    # the window counts 3 answered, 3 dropped: 100 %, not 300 %.
    start = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    samples = [
        CounterSample(start, 4000, 1000, 20),
        CounterSample(start + timedelta(minutes=5), 4010, 1001, 23),
    ]
    found = pace_window(samples, 900.0)
    assert found is not None
    assert (found.window.answered, found.window.dropped) == (3, 3)
    assert found.window.drop_ratio == 1.0
