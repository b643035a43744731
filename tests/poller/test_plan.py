"""The poll plan and the request budget: live sources never slowed, hoppers stretched to fit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.config import load_default_config
from wallboard.poller.plan import (
    PRIORITY_SOURCES,
    SLOW_HEADROOM,
    BudgetPlan,
    PollPlan,
    budget_plan,
    plan_from_config,
)

#: The stock intervals with no in-groups: agents 30 s, stats 60 s, campaigns 60 s.
STOCK = PollPlan(campaigns=None)


def requests_per_minute(plan: PollPlan, shared: BudgetPlan, campaigns: int) -> float:
    """What the daemon sends per minute in steady state with this plan (no retries)."""
    hoppers = 60.0 * max(1, campaigns) / shared.hopper_interval
    return shared.priority_per_minute + hoppers + 60.0 / plan.version_interval


# --- PollPlan ---------------------------------------------------------------------------------


def test_intervals_name_every_source_and_in_groups_only_when_configured() -> None:
    assert STOCK.intervals() == {
        "version": 600.0,
        "logged_in_agents": 30.0,
        "call_status_stats": 60.0,
        "campaigns_list": 60.0,
        "hopper_list": 120.0,
    }
    with_ingroups = PollPlan(campaigns=None, ingroups=("SALESLINE",), ingroups_interval=15.0)
    assert with_ingroups.intervals()["in_group_status"] == 15.0
    assert with_ingroups.shortest_interval == 15.0
    assert STOCK.shortest_interval == 30.0


def test_plan_from_the_default_config() -> None:
    plan = plan_from_config(load_default_config())
    assert plan == PollPlan(
        campaigns=None,  # campaigns = "all"
        ingroups=("SALESLINE", "SUPPORT"),
        agents_interval=30.0,
        stats_interval=60.0,
        campaigns_interval=60.0,
        hopper_interval=120.0,
        ingroups_interval=30.0,
        version_interval=600.0,
        jitter=5.0,
        history_days=30,
        history_throttle=1.0,
        utc_offset_hours=None,
        timezone="",
        max_requests_per_minute=20.0,
        login_retry=120.0,
        lock_retry=900.0,
    )


def test_plan_from_config_takes_every_value_from_the_config() -> None:
    settings = load_default_config(
        {
            "vicidial": {
                "campaigns": ["SALES1", "SALES2"],
                "ingroups": [],
                "login_retry": "5m",
                "lock_retry": "20m",
                "utc_offset": -5,
            },
            "poll": {
                "max_requests_per_minute": 40,
                "agents_interval": "15s",
                "jitter": "0s",
                "history_days": 7,
                "history_throttle": "2s",
            },
        }
    )
    plan = plan_from_config(settings)
    assert plan.campaigns == ("SALES1", "SALES2")
    assert plan.ingroups == ()
    assert "in_group_status" not in plan.intervals()
    assert plan.agents_interval == 15.0
    assert plan.jitter == 0.0
    assert plan.history_days == 7
    assert plan.history_throttle == 2.0
    assert plan.utc_offset_hours == -5.0
    assert plan.max_requests_per_minute == 40.0
    assert plan.login_retry == 300.0
    assert plan.lock_retry == 1200.0


def test_plan_from_config_takes_the_time_zone_name() -> None:
    plan = plan_from_config(load_default_config({"vicidial": {"timezone": "America/New_York"}}))
    assert plan.timezone == "America/New_York"
    assert plan.utc_offset_hours is None


# --- the budget -------------------------------------------------------------------------------


def test_a_large_floor_stretches_the_hopper_cycle_to_fit_the_budget() -> None:
    shared = budget_plan(STOCK, 100)
    assert shared.priority_per_minute == 4.0  # 2 + 1 + 1: agents, stats, campaigns
    assert shared.budget_per_minute == 20.0
    assert shared.slow_per_minute == 16.0
    assert not shared.over_budget
    # 100 hoppers at 120 s would be 50 requests a minute; stretched, they fit.
    assert shared.hopper_interval > 120.0
    assert requests_per_minute(STOCK, shared, 100) <= 20.0
    # ...with the headroom left for the 30-day backfill and retries.
    assert requests_per_minute(STOCK, shared, 100) <= 20.0 - SLOW_HEADROOM * 16.0 + 1e-9
    assert shared.hopper_interval == pytest.approx(6000 / 12.7)  # 16 x 0.8 - 0.1 for version


def test_the_default_config_with_100_campaigns_stays_under_20_a_minute() -> None:
    plan = plan_from_config(load_default_config())
    shared = budget_plan(plan, 100)
    # agents 2 + stats 1 + campaigns 1, and each of the two in-groups asked alone every 30 s
    assert shared.priority_per_minute == 8.0
    assert not shared.over_budget
    assert requests_per_minute(plan, shared, 100) <= 20.0


def test_each_in_group_is_one_request_of_the_live_budget() -> None:
    three = PollPlan(campaigns=None, ingroups=("A", "B", "C"), ingroups_interval=30.0)
    assert three.requests_per_round("in_group_status") == 3
    assert three.requests_per_round("logged_in_agents") == 1
    assert budget_plan(three, 4).priority_per_minute == 4.0 + 6.0


def test_a_small_floor_keeps_the_configured_hopper_interval() -> None:
    shared = budget_plan(STOCK, 4)
    assert shared.hopper_interval == 120.0
    assert shared.hopper_spacing == 30.0
    assert not shared.over_budget
    assert requests_per_minute(STOCK, shared, 4) <= 20.0


def test_when_the_live_sources_alone_exceed_the_budget_it_says_so_and_still_plans() -> None:
    fast = PollPlan(
        campaigns=None, ingroups=("SALESLINE",), agents_interval=5.0, ingroups_interval=5.0
    )
    shared = budget_plan(fast, 10)
    assert shared.priority_per_minute == 26.0  # 12 + 1 + 1 + 12 (one in-group)
    assert shared.over_budget
    # The floor's figures come first: nothing about them is slowed, and hoppers still move.
    assert shared.slow_per_minute == 1.0
    assert shared.hopper_interval >= fast.hopper_interval
    assert shared.hopper_spacing * 10 == pytest.approx(shared.hopper_interval)


def test_no_campaigns_plans_as_if_one() -> None:
    assert budget_plan(STOCK, 0) == budget_plan(STOCK, 1)


def test_describe_names_the_figures_an_operator_checks() -> None:
    text = budget_plan(STOCK, 100).describe()
    assert "4.0 requests/min" in text
    assert "hoppers every 472 s" in text
    assert "budget 20/min" in text


intervals_st = st.sampled_from([5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 300.0])


@st.composite
def plans(draw: st.DrawFn) -> PollPlan:
    return PollPlan(
        campaigns=None,
        ingroups=draw(st.sampled_from([(), ("SALESLINE",)])),
        agents_interval=draw(intervals_st),
        stats_interval=draw(intervals_st),
        campaigns_interval=draw(intervals_st),
        hopper_interval=draw(intervals_st),
        ingroups_interval=draw(intervals_st),
        max_requests_per_minute=float(draw(st.integers(5, 200))),
    )


@given(plans(), st.integers(0, 10_000))
def test_the_budget_never_slows_a_priority_source(plan: PollPlan, campaigns: int) -> None:
    shared = budget_plan(plan, campaigns)
    intervals = plan.intervals()
    configured = sum(60.0 / intervals[name] for name in PRIORITY_SOURCES if name in intervals)
    assert shared.priority_per_minute == pytest.approx(configured)
    if configured > plan.max_requests_per_minute:
        assert shared.over_budget, "the live sources alone exceed it: say so"


@given(plans(), st.integers(0, 10_000))
def test_hoppers_are_never_polled_faster_than_configured_and_evenly_spread(
    plan: PollPlan, campaigns: int
) -> None:
    shared = budget_plan(plan, campaigns)
    assert shared.hopper_interval >= plan.hopper_interval
    assert shared.hopper_spacing * max(1, campaigns) == pytest.approx(shared.hopper_interval)
    assert shared.slow_per_minute >= 1.0


@given(plans(), st.integers(0, 10_000))
def test_whatever_the_campaign_count_the_total_fits_when_the_live_sources_leave_room(
    plan: PollPlan, campaigns: int
) -> None:
    shared = budget_plan(plan, campaigns)
    if plan.max_requests_per_minute - shared.priority_per_minute >= 1.0:
        total = requests_per_minute(plan, shared, campaigns)
        assert total <= plan.max_requests_per_minute + 1e-9
        # Retries and the 30-day backfill keep their share of the slow budget.
        assert total <= (
            plan.max_requests_per_minute - SLOW_HEADROOM * shared.slow_per_minute + 1e-9
        )


@pytest.mark.parametrize("campaigns", [1, 100])
def test_over_budget_is_reported_whenever_the_plan_cannot_fit(campaigns: int) -> None:
    # agents 5 s (12) + stats 10 s (6) + campaigns 40 s (1.5) = 19.5 of 20.
    plan = PollPlan(
        campaigns=None, agents_interval=5.0, stats_interval=10.0, campaigns_interval=40.0
    )
    shared = budget_plan(plan, campaigns)
    assert shared.over_budget or requests_per_minute(plan, shared, campaigns) <= 20.0
