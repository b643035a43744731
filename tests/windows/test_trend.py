"""Today's trend points: one per step at most, none for a quiet floor, a new day starts over,
and only well-formed stored points are restored."""

from __future__ import annotations

from datetime import date

import pytest

from wallboard.windows.grading import DropWindow
from wallboard.windows.trend import TrendPoint, TrendTracker

DAY = date(2026, 11, 25)


def counters(answered: int, dropped: int) -> dict[str, DropWindow]:
    return {"SALES1": DropWindow(answered * 3, answered, dropped)}


def test_a_point_per_step_at_most_and_none_when_nothing_moved() -> None:
    trend = TrendTracker(step=300)
    assert trend.observe(DAY, 36_000, counters(100, 2))  # 10:00, first point
    assert not trend.observe(DAY, 36_060, counters(110, 3))  # a minute later: within the step
    assert trend.observe(DAY, 36_300, counters(120, 3))  # 10:05
    assert not trend.observe(DAY, 36_900, counters(120, 3))  # 10:15, nothing happened
    assert trend.observe(DAY, 37_200, counters(150, 6))  # 10:20
    points = trend.points("SALES1")
    assert points == (
        TrendPoint(36_000, 100, 2),
        TrendPoint(36_300, 120, 3),
        TrendPoint(37_200, 150, 6),
    )
    # By hand: 2/100, 3/120, 6/150.
    assert [p.ratio for p in points] == [0.02, 0.025, 0.04]
    assert trend.points("OTHER") == ()


def test_a_new_dialer_day_starts_the_line_again() -> None:
    trend = TrendTracker()
    trend.observe(DAY, 80_000, counters(900, 20))
    trend.observe(date(2026, 11, 26), 60, counters(1, 0))
    assert trend.points("SALES1") == (TrendPoint(60, 1, 0),)


def test_dump_and_load_round_trip() -> None:
    trend = TrendTracker()
    trend.observe(DAY, 36_000, counters(100, 2))
    trend.observe(DAY, 36_600, counters(130, 4))
    again = TrendTracker()
    again.load(trend.dump())
    assert again.points("SALES1") == trend.points("SALES1")
    assert not again.observe(DAY, 36_700, counters(140, 4)), "the step counts from restored"


@pytest.mark.parametrize(
    "document",
    [
        [],
        None,
        {"day": "2026-11-25"},
        {"day": "2026-11-25", "points": {"S": [[600, 10, 1], [300, 10, 1]]}},  # out of order
        {"day": "2026-11-25", "points": {"S": [[300, 10, 11]]}},  # more drops than answers
        {"day": "2026-11-25", "points": {"S": [[300, -1, 0]]}},
        {"day": "yesterday", "points": {}},
    ],
)
def test_malformed_stored_points_are_refused(document: object) -> None:
    trend = TrendTracker()
    with pytest.raises(ValueError, match="bad trend points"):
        trend.load(document)
