"""The forecast sentence (TV, API, Slack): dialer time, the limit, and nothing guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wallboard.forecast_text import forecast_sentence, local_clock, percent
from wallboard.windows import DropWindow, Thresholds
from wallboard.windows.forecast import Crossing, Forecast, forecast

NOW = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
#: 21:00 in New York (UTC-5) is 02:00 UTC the next day.
SHIFT_END = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def made(*crossings: Crossing, horizon: datetime = SHIFT_END, ratio: float = 0.02) -> Forecast:
    return Forecast(
        horizon=horizon,
        ratio_at_horizon=ratio,
        answered_per_hour=150.0,
        drops_per_hour=6.0,
        basis_seconds=3600.0,
        crossings=crossings,
    )


def test_a_crossing_is_said_in_dialer_time_with_the_limit() -> None:
    at = datetime(2026, 11, 25, 19, 40, 59, tzinfo=UTC)  # 14:40:59 in New York
    passing = made(
        Crossing("warn", 0.025, NOW + timedelta(minutes=10)),
        Crossing("critical", 0.028, at - timedelta(minutes=20)),
        Crossing("limit", 0.03, at),
    )
    assert forecast_sentence(passing, -5.0) == "at this pace passes 3 % around 14:40"
    assert (
        forecast_sentence(passing, -5.0, subject="SALES1")
        == "at this pace SALES1 passes 3 % around 14:40"
    )


def test_staying_under_names_the_end_of_the_shift_or_midnight() -> None:
    under = made(Crossing("warn", 0.025, None), Crossing("limit", 0.03, None))
    assert forecast_sentence(under, -5.0) == "at this pace stays under 3 % until 21:00"
    assert (
        forecast_sentence(under, -5.0, subject="SALES1")
        == "at this pace SALES1 stays under 3 % until 21:00"
    )
    midnight = made(Crossing("limit", 0.03, None), horizon=datetime(2026, 11, 26, 5, tzinfo=UTC))
    assert forecast_sentence(midnight, -5.0) == "at this pace stays under 3 % until midnight"


def test_already_over_says_so_without_a_time() -> None:
    over = made(Crossing("warn", 0.025, NOW, already=True), Crossing("limit", 0.03, NOW, True))
    assert forecast_sentence(over, -5.0) == "already over 3 %"
    assert forecast_sentence(over, -5.0, subject="SALES1") == "SALES1 is already over 3 %"


def test_the_limit_is_named_as_configured() -> None:
    at = datetime(2026, 11, 25, 16, 5, tzinfo=UTC)
    assert forecast_sentence(made(Crossing("limit", 0.025, at)), 0.0) == (
        "at this pace passes 2.5 % around 16:05"
    )
    assert percent(0.03) == "3 %"  # 0.03 * 100 is 3.0000000000000004
    assert percent(0.0275) == "2.75 %"


def test_an_unknown_dialer_offset_is_said_as_utc_not_passed_off_as_local() -> None:
    at = datetime(2026, 11, 25, 19, 40, tzinfo=UTC)
    assert forecast_sentence(made(Crossing("limit", 0.03, at)), None) == (
        "at this pace passes 3 % around 19:40 UTC"
    )
    assert local_clock(at, None) is None


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(5.5, "01:10"), (-3.5, "16:10"), (0.0, "19:40"), (-5.0, "14:40"), (13.0, "08:40")],
)
def test_local_clock_follows_the_offset_across_midnight(offset: float, expected: str) -> None:
    assert local_clock(datetime(2026, 11, 25, 19, 40, 30, tzinfo=UTC), offset) == expected


def test_without_any_threshold_it_says_where_the_ratio_ends() -> None:
    assert forecast_sentence(made(ratio=0.0123), -5.0) == "at this pace ends near 1.23 % at 21:00"


def test_the_sentence_of_a_real_forecast() -> None:
    """The forecast module's own arithmetic, read out: 22 drops in 1000 answers, 6 drops per
    150 answers an hour, so 3 % is reached when 0.03 x (1000 + 150 h) = 22 + 6 h: h = 16/3,
    5 h 20 min after 15:04:05 UTC, 15:24 in New York."""
    projected = forecast(
        DropWindow(calls=2000, answered=1000, dropped=22),
        DropWindow(calls=300, answered=150, dropped=6),
        3600.0,
        NOW,
        SHIFT_END,
        Thresholds(),
    )
    assert projected is not None
    assert forecast_sentence(projected, -5.0, subject="SALES1") == (
        "at this pace SALES1 passes 3 % around 15:24"
    )
