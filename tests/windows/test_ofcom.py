"""UK mode: Ofcom's calendar-day rate with the answering-machine correction, and the weighted
window figures (ratio, drops remaining, severity) it feeds.

VICIdial's documented worked example is the anchor: 29 drops, 9 agent-answered people and 7
agent-answered machines give a machine share of 7/16, 29 x 9/16 = 16.3125 adjusted drops and
16.3125 / (9 + 16.3125) = 64.44 %. Every other expected value is worked out by hand beside it,
as an exact fraction where one exists.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.windows.grading import (
    DropWindow,
    Severity,
    Thresholds,
    drops_remaining,
    figures,
    severity,
)
from wallboard.windows.ofcom import (
    DEFAULT_MACHINE_STATUSES,
    OfcomCounts,
    OfcomStatuses,
    ofcom_counts,
    pooled,
)

WORKED = OfcomCounts(calls=120, people=9, machines=7, drops=29)


# -- the worked example ------------------------------------------------------------------------


def test_vicidials_worked_example_is_64_44_percent() -> None:
    assert WORKED.machine_share == pytest.approx(7 / 16)  # 7 / (9 + 7) = 0.4375
    assert WORKED.adjusted_drops == pytest.approx(16.3125)  # 29 x (1 - 0.4375) = 29 x 9/16
    # 16.3125 / (9 + 16.3125) = 16.3125 / 25.3125 = 261/405 = 29/45 = 0.64444...
    assert WORKED.ratio == pytest.approx(29 / 45)
    assert f"{WORKED.ratio * 100:.2f}" == "64.44"  # VICIdial prints %.2f


def test_the_worked_example_as_a_weighted_window() -> None:
    window = WORKED.window()
    # answered = people + drops = 9 + 29 = 38 (VICIdial's human-answered includes the drops);
    # each drop weighs 1 - 7/16 = 9/16 = 0.5625.
    assert (window.calls, window.answered, window.dropped, window.days) == (120, 38, 29, 1)
    assert window.drop_weight == pytest.approx(0.5625)
    assert window.weighted_drops == pytest.approx(16.3125)  # 29 x 0.5625
    assert window.denominator == pytest.approx(25.3125)  # 38 - 29 + 16.3125
    assert window.drop_ratio == pytest.approx(29 / 45)
    # Graded with the defaults: 38 answered is under min_answered (50), so no verdict yet,
    # but the figure and the headroom are still shown (64.44 % is far over 3 %: 0 left).
    graded = figures(window, Thresholds())
    assert graded.ratio == pytest.approx(29 / 45)
    assert graded.drops_remaining == 0
    assert graded.severity is Severity.INSUFFICIENT
    # With no minimum it is critical.
    assert severity(window, Thresholds(min_answered=0)) is Severity.CRITICAL


def test_a_weighted_window_given_directly_gives_the_same_figure() -> None:
    window = DropWindow(calls=120, answered=38, dropped=29, drop_weight=0.5625)
    assert window.drop_ratio == pytest.approx(29 / 45)


# -- OfcomCounts.ratio -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("people", "machines", "drops", "share", "adjusted", "ratio"),
    [
        (9, 7, 29, Fraction(7, 16), Fraction(261, 16), Fraction(29, 45)),  # worked example
        # no machine: share 0, the drops unadjusted: 30 / (970 + 30) = 3 %
        (970, 0, 30, Fraction(0), Fraction(30), Fraction(3, 100)),
        # share 100 / 1000 = 1/10; 20 x 9/10 = 18; 18 / (900 + 18) = 18/918 = 1/51
        (900, 100, 20, Fraction(1, 10), Fraction(18), Fraction(1, 51)),
        # share 100 / 400 = 1/4; 12 x 3/4 = 9; 9 / (300 + 9) = 3/103
        (300, 100, 12, Fraction(1, 4), Fraction(9), Fraction(3, 103)),
        # nothing at all: 0, not a division by zero
        (0, 0, 0, Fraction(0), Fraction(0), Fraction(0)),
        # only machines answered by agents: share 1, every drop adjusted away: 0 / 0 -> 0
        (0, 5, 3, Fraction(1), Fraction(0), Fraction(0)),
        # only drops: share 0 (no agent-answered call), 4 / (0 + 4) = 100 %
        (0, 0, 4, Fraction(0), Fraction(4), Fraction(1)),
    ],
)
def test_ofcom_ratio(
    people: int,
    machines: int,
    drops: int,
    share: Fraction,
    adjusted: Fraction,
    ratio: Fraction,
) -> None:
    counts = OfcomCounts(calls=1000, people=people, machines=machines, drops=drops)
    assert counts.machine_share == pytest.approx(float(share))
    assert counts.adjusted_drops == pytest.approx(float(adjusted))
    assert counts.ratio == pytest.approx(float(ratio))
    assert counts.window().drop_ratio == pytest.approx(float(ratio))


# -- ofcom_counts ------------------------------------------------------------------------------

STATUSES = {"DROP": 9, "XDROP": 1, "A": 50, "AA": 80, "AM": 7, "SALE": 20, "NI": 300, "NA": 500}


@pytest.mark.parametrize(
    ("human_answered", "statuses", "which", "expected"),
    [
        # defaults: drops DROP + XDROP = 10; people = human-answered - drops = 400 - 10 = 390;
        # machines = "A" only = 50 (AA/AM are AMD's, no agent on the call)
        pytest.param(400, STATUSES, OfcomStatuses(), OfcomCounts(1000, 390, 50, 10), id="defaults"),
        # configured: people SALE + NI = 320, machines A + AM = 57
        pytest.param(
            400,
            STATUSES,
            OfcomStatuses(people=("SALE", "NI"), machines=("A", "AM")),
            OfcomCounts(1000, 320, 57, 10),
            id="configured",
        ),
        # a status the line does not have counts 0: people XFER -> 0, machines AL -> 0
        pytest.param(
            400,
            STATUSES,
            OfcomStatuses(people=("XFER",), machines=("AL",)),
            OfcomCounts(1000, 0, 0, 10),
            id="absent-statuses",
        ),
        # no status line at all: 100 people, nothing else
        pytest.param(100, {}, OfcomStatuses(), OfcomCounts(1000, 100, 0, 0), id="no-statuses"),
        # more drops than human answers (a torn read): people never below 0 (5 - 8 -> 0)
        pytest.param(
            5, {"DROP": 8}, OfcomStatuses(), OfcomCounts(1000, 0, 0, 8), id="never-negative"
        ),
        # the worked example from a status line: 38 human-answered (9 + 29 drops), 7 "A"
        pytest.param(
            38,
            {"DROP": 20, "XDROP": 9, "A": 7, "SALE": 4, "NI": 5},
            OfcomStatuses(),
            OfcomCounts(1000, 9, 7, 29),
            id="worked-example",
        ),
    ],
)
def test_ofcom_counts(
    human_answered: int, statuses: dict[str, int], which: OfcomStatuses, expected: OfcomCounts
) -> None:
    assert ofcom_counts(1000, human_answered, statuses, which) == expected


def test_vicidials_default_machine_status_is_the_agent_disposition_a() -> None:
    assert DEFAULT_MACHINE_STATUSES == ("A",)
    assert OfcomStatuses() == OfcomStatuses(people=(), machines=("A",))


def test_the_worked_example_from_a_status_line_is_64_44_percent() -> None:
    counts = ofcom_counts(120, 38, {"DROP": 29, "A": 7, "SALE": 9}, OfcomStatuses())
    assert f"{counts.ratio * 100:.2f}" == "64.44"


# -- pooled ------------------------------------------------------------------------------------


def test_a_group_pools_the_counts_not_the_ratios() -> None:
    other = OfcomCounts(calls=3000, people=991, machines=9, drops=10)
    group = pooled([WORKED, other])
    # 120 + 3000 calls; 9 + 991 = 1000 people; 7 + 9 = 16 machines; 29 + 10 = 39 drops.
    assert group == OfcomCounts(calls=3120, people=1000, machines=16, drops=39)
    # share 16/1016 = 2/127; adjusted 39 x 125/127 = 4875/127;
    # ratio 4875 / (127000 + 4875) = 4875/131875 = 39/1055 = 3.6967 %
    assert group.ratio == pytest.approx(39 / 1055)
    # ... which is not the mean of the two ratios (64.44 % and 9.91 / 1000.91 = 0.99 %).
    assert group.ratio != pytest.approx((WORKED.ratio + other.ratio) / 2)


def test_pooling_nothing_is_zero_and_pooling_one_is_itself() -> None:
    assert pooled([]) == OfcomCounts(0, 0, 0, 0)
    assert pooled([]).ratio == 0.0
    assert pooled([WORKED]) == WORKED


# -- weighted drops remaining ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answered", "dropped", "weight", "expected"),
    [
        # weight 1 is VICIdial's floor(0.03 x answered) - dropped:
        (1000, 20, 1.0, 10),  # floor(30) - 20
        (999, 0, 1.0, 29),  # floor(29.97)
        (1000, 30, 1.0, 0),  # at the limit
        (1000, 35, 1.0, 0),  # over it: never below 0
        # weight 0 (every agent-answered call a machine) is counted as 1: floor(3) - 1
        (100, 1, 0.0, 2),
        # the worked example: far over the limit
        (38, 29, 0.5625, 0),
        # people 900, machines 100 (weight 0.9), 20 drops, answered 920. At fixed answered,
        # n drops give 0.9n / (920 - n + 0.9n) <= 0.03  <=>  0.9n <= 27.6 - 0.003n
        # <=> n <= 27.6 / 0.903 = 30.56 -> n = 30: 10 more.
        # (30: 27 / 917 = 2.944 %; 31: 27.9 / 916.9 = 3.043 %.)
        (920, 20, 0.9, 10),
        # weight 0.5, answered 1000, no drop yet. At fixed answered, n drops give
        # 0.5n / (1000 - 0.5n) <= 0.03  <=>  0.5n <= 30 - 0.015n
        # <=> n <= 30 / 0.515 = 58.25 -> 58.
        # (58: 29 / 971 = 2.987 %; 59: 29.5 / 970.5 = 3.040 %; 60: 30 / 970 = 3.093 %.)
        (1000, 0, 0.5, 58),
        # weight 0.8 (people 1000, machines 250), answered 1030, 30 drops. At fixed answered:
        # 0.8n / (1030 - 0.2n) <= 0.03  <=>  0.8n <= 30.9 - 0.006n
        # <=> n <= 30.9 / 0.806 = 38.34 -> 38: 8 more.
        # (38: 30.4 / 1022.4 = 2.973 %; 39: 31.2 / 1022.2 = 3.052 %.)
        (1030, 30, 0.8, 8),
    ],
)
def test_weighted_drops_remaining(
    answered: int, dropped: int, weight: float, expected: int
) -> None:
    window = DropWindow(answered=answered, dropped=dropped, drop_weight=weight)
    assert drops_remaining(window, 0.03) == expected
    assert window.drops_remaining(0.03) == expected


# -- weighted severity: the one-more-drop rule -------------------------------------------------


@pytest.mark.parametrize(
    ("people", "dropped", "weight", "expected"),
    [
        # unweighted, people 1950: 48 drops -> 48/1998 = 2.402 %, one more 49/1999 = 2.451 %
        (1950, 48, 1.0, Severity.OK),
        # 49 drops -> 49/1999 = 2.451 %, one more 50/2000 = 2.5 % = warn_at -> warning now
        (1950, 49, 1.0, Severity.WARNING),
        # weight 0.8, people 1000: 31 drops -> 24.8 / 1024.8 = 2.420 %;
        # one more 25.6 / 1025.6 = 2.496 % < 2.5 % -> ok
        (1000, 31, 0.8, Severity.OK),
        # 32 drops -> 25.6 / 1025.6 = 2.496 %; one more 26.4 / 1026.4 = 2.572 % -> warning
        (1000, 32, 0.8, Severity.WARNING),
        # 33 drops -> 26.4 / 1026.4 = 2.572 % -> warning on the ratio itself
        (1000, 33, 0.8, Severity.WARNING),
        # 36 drops -> 28.8 / 1028.8 = 2.7994 % (0.028 x 1028.8 = 28.806 > 28.8) -> warning
        (1000, 36, 0.8, Severity.WARNING),
        # 37 drops -> 29.6 / 1029.6 = 2.875 % -> critical
        (1000, 37, 0.8, Severity.CRITICAL),
        # the same 32 drops unweighted: 32 / 1032 = 3.10 % -> critical (the weight matters)
        (1000, 32, 1.0, Severity.CRITICAL),
        # fewer than 50 human answers (people 40 + 5 drops = 45): no verdict
        (40, 5, 0.8, Severity.INSUFFICIENT),
        # exactly 50 (45 + 5): graded; 5 x 0.8 = 4 / 49 = 8.2 % -> critical
        (45, 5, 0.8, Severity.CRITICAL),
    ],
)
def test_weighted_severity(people: int, dropped: int, weight: float, expected: Severity) -> None:
    window = DropWindow(answered=people + dropped, dropped=dropped, drop_weight=weight)
    assert severity(window, Thresholds()) is expected


# -- properties --------------------------------------------------------------------------------

LIMIT = Fraction(3, 100)


def exact_ratio(answered: int, dropped: int, weight: Fraction) -> Fraction:
    """The weighted ratio in exact arithmetic: weighted drops over the people (answered -
    dropped) plus the weighted drops."""
    weighted = dropped * weight
    denominator = answered - dropped + weighted
    return weighted / denominator if denominator > 0 else Fraction(0)


WEIGHTS = st.one_of(
    st.just(1.0),
    st.floats(min_value=0.01, max_value=1.0),
    # weights as UK mode makes them: 1 - machines / (people + machines)
    st.builds(
        lambda people, machines: 1.0 - machines / (people + machines),
        st.integers(1, 5000),
        st.integers(0, 5000),
    ),
)


@given(answered=st.integers(1, 200_000), drop_share=st.floats(0, 0.06), weight=WEIGHTS)
def test_drops_remaining_is_exactly_the_headroom_at_fixed_answered(
    answered: int, drop_share: float, weight: float
) -> None:
    """Adding exactly ``drops_remaining`` drops at the same answered count keeps the ratio at
    or under the limit; one more takes it over (for any weight in (0, 1])."""
    dropped = int(answered * drop_share)
    left = drops_remaining(DropWindow(answered=answered, dropped=dropped, drop_weight=weight), 0.03)
    exact_weight = Fraction(weight)  # the float's exact value: no rounding in the reference
    assert left >= 0
    if left > 0:
        assert exact_ratio(answered, dropped + left, exact_weight) <= LIMIT
    if dropped + left + 1 <= answered:
        assert exact_ratio(answered, dropped + left + 1, exact_weight) > LIMIT


@given(
    people=st.integers(0, 100_000),
    machines=st.integers(0, 100_000),
    drops=st.integers(0, 10_000),
)
def test_the_correction_never_raises_the_rate_and_the_window_agrees(
    people: int, machines: int, drops: int
) -> None:
    counts = OfcomCounts(
        calls=people + machines + drops, people=people, machines=machines, drops=drops
    )
    unadjusted = drops / (people + drops) if people + drops else 0.0
    assert 0.0 <= counts.ratio <= unadjusted + 1e-12
    assert counts.window().drop_ratio == pytest.approx(counts.ratio, abs=1e-12)
