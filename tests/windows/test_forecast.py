"""The forecast: today's ratio carried forward at the last hour's pace, against hand-computed
crossing times and end-of-shift ratios.

The main table starts from the issue's example: today 1000 answered / 20 drops (2.0 %), a pace
of 300 answered and 12 drops an hour, at 12:00. Projected ratio after ``h`` hours:
``(20 + 12h) / (1000 + 300h)``. A threshold ``θ`` is reached when ``20 + 12h = θ(1000 + 300h)``,
that is ``h = (1000θ - 20) / (12 - 300θ)``:

* warn 2.5 %: (25 - 20) / (12 - 7.5) = 5 / 4.5 = 1.1111 h = 4000 s -> 13:06:40
* critical 2.8 %: (28 - 20) / (12 - 8.4) = 8 / 3.6 = 2.2222 h = 8000 s -> 14:13:20
* limit 3 %: (30 - 20) / (12 - 9) = 10 / 3 = 3.3333 h = 12000 s -> 15:20:00

and at 21:00 (9 h): (20 + 108) / (1000 + 2700) = 128 / 3700 = 3.459 %.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wallboard.windows.forecast import MIN_BASIS, Crossing, forecast
from wallboard.windows.grading import DropWindow, Thresholds

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DEFAULTS = Thresholds()  # warn 2.5 %, critical 2.8 %, limit 3 %
ALREADY = "already"


def clock(hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return NOON.replace(hour=hh, minute=mm, second=ss)


def window(answered: int, dropped: int) -> DropWindow:
    return DropWindow(calls=2 * answered, answered=answered, dropped=dropped)


Expected = datetime | str | None  # a crossing instant, ALREADY, or None (not before horizon)


@pytest.mark.parametrize(
    ("today", "pace", "basis", "horizon", "ratio", "warn", "critical", "limit"),
    [
        pytest.param(
            window(1000, 20),
            window(300, 12),
            3600.0,
            clock(21),
            Fraction(128, 3700),
            clock(13, 6, 40),
            clock(14, 13, 20),
            clock(15, 20),
            id="issue-example-to-21h",
        ),
        # Horizon 14:00 (2 h): (20 + 24) / (1000 + 600) = 44 / 1600 = 2.75 %; warn at 13:06:40,
        # critical (14:13:20) and limit (15:20) are after the horizon.
        pytest.param(
            window(1000, 20),
            window(300, 12),
            3600.0,
            clock(14),
            Fraction(44, 1600),
            clock(13, 6, 40),
            None,
            None,
            id="horizon-cuts-critical-and-limit",
        ),
        # Half an hour observed (150 answered, 6 drops): the same hourly pace, the same times.
        pytest.param(
            window(1000, 20),
            window(150, 6),
            1800.0,
            clock(21),
            Fraction(128, 3700),
            clock(13, 6, 40),
            clock(14, 13, 20),
            clock(15, 20),
            id="half-hour-basis",
        ),
        # A pace of 6 drops / 300 answered = 2 % an hour: the ratio stays at 2 % and never
        # reaches any threshold: (20 + 54) / (1000 + 2700) = 74 / 3700 = 2 % at 21:00.
        pytest.param(
            window(1000, 20),
            window(300, 6),
            3600.0,
            clock(21),
            Fraction(74, 3700),
            None,
            None,
            None,
            id="never-gets-there",
        ),
        # A pace of 26 / 1000 = 2.6 % an hour drifts towards 2.6 %: warn when
        # 20 + 26h = 0.025 (1000 + 1000h) -> 20 + 26h = 25 + 25h -> h = 5 -> 17:00;
        # never critical (2.8 %) nor limit. At 21:00: (20 + 234) / (1000 + 9000) = 254 / 10000.
        pytest.param(
            window(1000, 20),
            window(1000, 26),
            3600.0,
            clock(21),
            Fraction(254, 10000),
            clock(17),
            None,
            None,
            id="drifts-to-2.6-percent",
        ),
        # Already at 3 % (30 / 1000): every threshold already passed (at now).
        # At 21:00: (30 + 108) / 3700 = 138 / 3700.
        pytest.param(
            window(1000, 30),
            window(300, 12),
            3600.0,
            clock(21),
            Fraction(138, 3700),
            ALREADY,
            ALREADY,
            ALREADY,
            id="already-above-all",
        ),
        # Exactly at warn now (25 / 1000 = 2.5 %): warn already; critical when
        # 25 + 12h = 0.028 (1000 + 300h) -> 3 = 3.6h -> h = 0.8333 = 3000 s -> 12:50;
        # limit: 25 + 12h = 30 + 9h -> h = 5/3 = 6000 s -> 13:40. At 21:00: 133 / 3700.
        pytest.param(
            window(1000, 25),
            window(300, 12),
            3600.0,
            clock(21),
            Fraction(133, 3700),
            ALREADY,
            clock(12, 50),
            clock(13, 40),
            id="exactly-at-warn",
        ),
        # 2.6 % now: warn already; critical: 26 + 12h = 28 + 8.4h -> h = 2 / 3.6 = 2000 s
        # -> 12:33:20; limit: 26 + 12h = 30 + 9h -> h = 4/3 = 4800 s -> 13:20. At 21:00:
        # (26 + 108) / 3700 = 134 / 3700.
        pytest.param(
            window(1000, 26),
            window(300, 12),
            3600.0,
            clock(21),
            Fraction(134, 3700),
            ALREADY,
            clock(12, 33, 20),
            clock(13, 20),
            id="between-warn-and-critical",
        ),
        # Above the limit now but the pace is clean (0 drops): "already" for all three, and the
        # ratio falls to (40 + 0) / (1000 + 2700) = 40 / 3700 = 1.08 % by 21:00.
        pytest.param(
            window(1000, 40),
            window(300, 0),
            3600.0,
            clock(21),
            Fraction(40, 3700),
            ALREADY,
            ALREADY,
            ALREADY,
            id="above-but-recovering",
        ),
        # A quiet hour (nothing answered): the ratio stays 20 / 1000 = 2 %, nothing crossed.
        pytest.param(
            window(1000, 20),
            window(0, 0),
            3600.0,
            clock(21),
            Fraction(20, 1000),
            None,
            None,
            None,
            id="quiet-hour",
        ),
        # Nothing answered yet today and a pace of 4 %: from the first answers on the ratio is
        # 4 %, so every threshold is reached at once (now), not "already". At 21:00:
        # 108 / 2700 = 4 %.
        pytest.param(
            window(0, 0),
            window(300, 12),
            3600.0,
            clock(21),
            Fraction(108, 2700),
            NOON,
            NOON,
            NOON,
            id="start-of-day",
        ),
        # The horizon exactly at the critical crossing (14:13:20): (20 + 26.667) / (1000 +
        # 666.67) = 46.667 / 1666.67 = 2.8 % exactly at the horizon: reached, on the horizon.
        pytest.param(
            window(1000, 20),
            window(300, 12),
            3600.0,
            clock(14, 13, 20),
            Fraction(28, 1000),
            clock(13, 6, 40),
            clock(14, 13, 20),
            None,
            id="critical-on-the-horizon",
        ),
    ],
)
def test_forecast(
    today: DropWindow,
    pace: DropWindow,
    basis: float,
    horizon: datetime,
    ratio: Fraction,
    warn: Expected,
    critical: Expected,
    limit: Expected,
) -> None:
    found = forecast(today, pace, basis, NOON, horizon, DEFAULTS)
    assert found is not None
    assert found.horizon == horizon
    assert found.basis_seconds == basis
    assert found.ratio_at_horizon == pytest.approx(float(ratio))
    assert [c.name for c in found.crossings] == ["warn", "critical", "limit"]
    for name, threshold, expected in (
        ("warn", 0.025, warn),
        ("critical", 0.028, critical),
        ("limit", 0.03, limit),
    ):
        crossing = found.crossing(name)
        assert crossing is not None
        assert crossing.ratio == threshold
        if expected == ALREADY:
            assert (crossing.already, crossing.at) == (True, None), name  # no instant ahead to time
        elif expected is None:
            assert (crossing.already, crossing.at) == (False, None), name
        else:
            assert not crossing.already, name
            assert isinstance(expected, datetime)
            assert crossing.at is not None, name
            assert abs((crossing.at - expected).total_seconds()) < 0.01, name


def test_the_pace_is_reported_per_hour() -> None:
    # 150 answered and 6 drops over 30 minutes = 300 and 12 an hour.
    found = forecast(window(1000, 20), window(150, 6), 1800.0, NOON, clock(21), DEFAULTS)
    assert found is not None
    assert found.answered_per_hour == pytest.approx(300)
    assert found.drops_per_hour == pytest.approx(12)


def test_other_thresholds_and_a_pace_exactly_at_one() -> None:
    # warn 3 %, critical 4 %, limit 5 %; today 20 / 1000, pace 12 / 300 = exactly 4 % an hour.
    # warn: 20 + 12h = 30 + 9h -> h = 10/3 -> 15:20; critical: 20 + 12h = 40 + 12h never
    # (the ratio only approaches 4 %); limit: 20 + 12h = 50 + 15h never. At 21:00 128 / 3700.
    thresholds = Thresholds(limit=0.05, warn_at=0.03, critical_at=0.04)
    found = forecast(window(1000, 20), window(300, 12), 3600.0, NOON, clock(21), thresholds)
    assert found is not None
    assert found.ratio_at_horizon == pytest.approx(128 / 3700)
    warn = found.crossing("warn")
    assert warn is not None
    assert warn.at is not None
    assert abs((warn.at - clock(15, 20)).total_seconds()) < 0.01
    assert found.crossing("critical") == Crossing("critical", 0.04, None)
    assert found.crossing("limit") == Crossing("limit", 0.05, None)
    assert found.crossing("nope") is None


@pytest.mark.parametrize(
    ("basis", "horizon", "pace"),
    [
        pytest.param(3600.0, NOON, window(300, 12), id="horizon-is-now"),
        pytest.param(3600.0, clock(11, 59), window(300, 12), id="horizon-passed"),
        pytest.param(899.0, clock(21), window(75, 3), id="basis-too-short"),
        pytest.param(0.0, clock(21), window(0, 0), id="no-basis"),
        pytest.param(3600.0, clock(21), DropWindow(answered=-5, dropped=0), id="negative-pace"),
        pytest.param(3600.0, clock(21), DropWindow(answered=5, dropped=-1), id="negative-drops"),
    ],
)
def test_no_forecast(basis: float, horizon: datetime, pace: DropWindow) -> None:
    assert forecast(window(1000, 20), pace, basis, NOON, horizon, DEFAULTS) is None


def test_fifteen_minutes_of_pace_is_enough() -> None:
    # 75 answered and 3 drops in 900 s = 300 and 12 an hour: the issue example again.
    assert MIN_BASIS == 900.0
    found = forecast(window(1000, 20), window(75, 3), 900.0, NOON, clock(21), DEFAULTS)
    assert found is not None
    assert found.ratio_at_horizon == pytest.approx(128 / 3700)


def test_the_minimum_basis_is_a_parameter() -> None:
    args = (window(1000, 20), window(10, 1), 300.0, NOON, clock(21), DEFAULTS)
    assert forecast(*args) is None
    assert forecast(*args, min_basis=300.0) is not None


# -- property ----------------------------------------------------------------------------------


@given(
    answered=st.integers(0, 20_000),
    dropped_per_mille=st.integers(0, 60),
    pace_answered=st.integers(0, 3_000),
    pace_per_mille=st.integers(0, 80),
    basis=st.integers(900, 7200),
    remaining=st.integers(1, 16 * 3600),
)
def test_crossings_agree_with_the_ratio_at_the_horizon(
    answered: int,
    dropped_per_mille: int,
    pace_answered: int,
    pace_per_mille: int,
    basis: int,
    remaining: int,
) -> None:
    """A threshold is reported reached before the horizon exactly when the projected ratio at
    the horizon is at or over it (the ratio moves monotonically towards the pace's), and lower
    thresholds are reached no later than higher ones."""
    dropped = answered * dropped_per_mille // 1000
    pace_dropped = pace_answered * pace_per_mille // 1000
    horizon = NOON + timedelta(seconds=remaining)
    found = forecast(
        window(answered, dropped),
        window(pace_answered, pace_dropped),
        basis,
        NOON,
        horizon,
        DEFAULTS,
    )
    assert found is not None
    end_answered = answered + Fraction(pace_answered * remaining, basis)
    end_dropped = dropped + Fraction(pace_dropped * remaining, basis)
    exact = end_dropped / end_answered if end_answered else Fraction(0)
    assert found.ratio_at_horizon == pytest.approx(float(exact), abs=1e-12)
    reached: list[datetime] = []
    for name, threshold in (("warn", "0.025"), ("critical", "0.028"), ("limit", "0.03")):
        theta = Fraction(threshold)
        assume(abs(exact - theta) > Fraction(1, 10**9))  # no float tie at the horizon
        crossing = found.crossing(name)
        assert crossing is not None
        if answered and Fraction(dropped, answered) >= theta:
            assert crossing.already
            continue
        assert not crossing.already
        assert (crossing.at is not None) == (exact > theta), name
        if crossing.at is not None:
            assert NOON <= crossing.at <= horizon
            reached.append(crossing.at)
    assert reached == sorted(reached)
