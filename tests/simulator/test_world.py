"""The simulator's dialer model: deterministic, internally consistent, and moving like a floor."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.simulator import history
from wallboard.simulator.history import HUMAN_STATUSES
from wallboard.simulator.roster import build_roster
from wallboard.simulator.types import DayStats
from wallboard.simulator.world import BUCKETS, World, agent_bucket, us_dst

# 2025-09-03 is a Wednesday; the dialer's local time is EDT (UTC-4).
START = datetime(2025, 9, 3, 19, 0, tzinfo=UTC)  # 15:00 local
MORNING = datetime(2025, 9, 3, 11, 30, tzinfo=UTC)  # 07:30 local
LATE_EVENING = datetime(2025, 9, 4, 2, 30, tzinfo=UTC)  # 22:30 local
PAUSE_CODES = {"LOGIN", "BREAK", "LUNCH", "TRAIN"}
CALLERID = re.compile(r"^[VY]\d{9}(\d{10})$")


def step(world: World, seconds: float) -> None:
    world.advance(world.now + timedelta(seconds=seconds))


def codes(world: World) -> list[str]:
    return [*world.campaigns, *world.ingroups]


def assert_consistent(stats: DayStats) -> None:
    assert 0 <= stats.drops <= stats.human_answered <= stats.calls
    assert sum(stats.hourly) == stats.calls
    assert len(stats.hourly) == 24
    assert sum(stats.statuses.values()) == stats.calls
    assert all(n > 0 for n in stats.statuses.values())
    human = sum(n for status, n in stats.statuses.items() if status in HUMAN_STATUSES)
    assert stats.human_answered == human


def drop_ratio(stats: DayStats) -> float:
    return stats.drops / stats.human_answered if stats.human_answered else 0.0


def test_same_seed_and_advances_give_the_same_world() -> None:
    def run(seed: int) -> World:
        world = World(seed=seed, now=START)
        for minutes in (1, 7, 30, 61, 90):
            world.advance(START + timedelta(minutes=minutes, seconds=0.25))
        return world

    first, second = run(3), run(3)
    assert first.state() == second.state()
    assert first.hopper("SALES1") == second.hopper("SALES1")
    today = first.local_today()
    for code in codes(first):
        assert first.day_stats(code, today) == second.day_stats(code, today)
    assert run(4).state() != first.state()


def test_counters_stay_consistent_and_only_grow_through_a_morning() -> None:
    world = World(seed=2, now=MORNING)
    previous: dict[str, DayStats] = {}
    calls_today: dict[str, int] = {}
    for _ in range(48):  # four hours in five-minute steps
        step(world, 300)
        today = world.local_today()
        for code in codes(world):
            stats = world.day_stats(code, today)
            assert_consistent(stats)
            before = previous.get(code)
            if before is not None:
                assert stats.calls >= before.calls
                assert stats.human_answered >= before.human_answered
                assert stats.drops >= before.drops
                assert all(
                    now >= then for now, then in zip(stats.hourly, before.hourly, strict=True)
                )
            previous[code] = stats
        for user, agent in world.agents.items():
            assert agent.calls_today >= calls_today.get(user, 0)
            calls_today[user] = agent.calls_today
        assert world.campaigns["SALES2"].dial_level == 2.0  # RATIO never adapts
    assert previous["SALES1"].calls > 1000
    assert previous["SALESLINE"].calls > 0


def test_local_midnight_resets_today_and_keeps_the_finished_day() -> None:
    world = World(seed=1, now=LATE_EVENING)
    first_day = world.local_today()
    last_seen: dict[str, DayStats] = {}
    while world.local_today() == first_day:
        last_seen = {code: world.day_stats(code, first_day) for code in codes(world)}
        step(world, 600)
    new_day = world.local_today()
    assert new_day == first_day + timedelta(days=1)
    assert world.local_now.hour == 0
    for code in codes(world):
        finished = world.day_stats(code, first_day)
        assert_consistent(finished)
        assert finished.calls >= last_seen[code].calls
        assert finished == world.day_stats(code, first_day)  # stored, not re-drawn
        fresh = world.day_stats(code, new_day)
        assert_consistent(fresh)
        assert fresh.calls < finished.calls
        assert sum(fresh.hourly[1:]) == 0
    assert all(agent.calls_today < 10 for agent in world.agents.values())
    step(world, 1800)
    for code in codes(world):
        assert_consistent(world.day_stats(code, new_day))


def test_agents_cycle_through_every_state_along_allowed_transitions() -> None:
    world = World(seed=1, now=START)
    allowed = {
        ("waiting", "incall"),
        ("waiting", "paused"),
        ("incall", "dead"),
        ("incall", "dispo"),
        ("dead", "dispo"),
        ("dispo", "waiting"),
        ("dispo", "paused"),
        ("dispo", "incall"),
        ("paused", "waiting"),
        ("paused", "incall"),
    }
    seen: set[str] = set()
    pause_codes: set[str] = set()
    previous: dict[str, str] = {}
    for _ in range(900):
        step(world, 1)
        current = {user: agent_bucket(agent) for user, agent in world.agents.items()}
        for user, bucket in current.items():
            agent = world.agents[user]
            if bucket == "incall":
                match = CALLERID.match(agent.callerid)
                assert match is not None
                assert int(match.group(1)) == agent.lead_id
            elif bucket == "dispo":
                assert agent.sub_status == "DISPO"
                assert agent.callerid == ""
            elif bucket == "paused":
                assert agent.pause_code in PAUSE_CODES
                pause_codes.add(agent.pause_code)
            elif bucket == "waiting":
                assert agent.lead_id == 0
            old = previous.get(user)
            if old is not None and old != bucket:
                assert (old, bucket) in allowed
        seen.update(current.values())
        previous = current
    assert {"waiting", "incall", "dispo", "paused", "dead"} <= seen
    assert "BREAK" in pause_codes or "LUNCH" in pause_codes


def test_inactive_campaign_stops_dialing_while_its_agents_stay() -> None:
    world = World(seed=1, now=START)
    step(world, 60)
    campaign = world.campaigns["SALES1"]
    world.set_active("SALES1", False)
    step(world, campaign.dial_timeout + 1)  # every call still ringing has ended by now
    today = world.local_today()
    stopped = world.day_stats("SALES1", today).calls
    other = world.day_stats("SALES2", today).calls
    hopper = len(world.hopper("SALES1"))
    for _ in range(10):
        step(world, 60)
        assert world.day_stats("SALES1", today).calls == stopped
        assert len(world.hopper("SALES1")) == hopper
    assert any(a.campaign_id == "SALES1" for a in world.agents.values())
    assert world.day_stats("SALES2", today).calls > other
    world.set_active("SALES1", True)
    step(world, 120)
    assert world.day_stats("SALES1", today).calls > stopped
    with pytest.raises(KeyError):
        world.set_active("NOSUCH", False)


def test_steering_the_drop_ratio_raises_todays_drop_rate() -> None:
    world = World(seed=1, now=START)
    today = world.local_today()
    before = world.day_stats("SALES1", today)
    world.steer("SALES1", drop_ratio=0.3)
    assert world.campaigns["SALES1"].forced_drop_ratio == 0.3
    for _ in range(12):
        step(world, 300)
    after = world.day_stats("SALES1", today)
    assert_consistent(after)
    steered = (after.drops - before.drops) / (after.human_answered - before.human_answered)
    assert 0.2 < steered < 0.4
    assert drop_ratio(after) > drop_ratio(before) + 0.02
    world.steer("SALES1", clear_drop_ratio=True)
    assert world.campaigns["SALES1"].forced_drop_ratio is None
    with pytest.raises(ValueError, match="drop_ratio"):
        world.steer("SALES1", drop_ratio=1.5)


def test_steering_todays_counts_sets_them_exactly() -> None:
    world = World(seed=1, now=START)
    today = world.local_today()
    world.steer("SALES2", answered_today=500, dropped_today=40)
    stats = world.day_stats("SALES2", today)
    assert (stats.human_answered, stats.drops, stats.statuses["DROP"]) == (500, 40, 40)
    assert stats.calls >= 500
    assert_consistent(stats)
    world.steer("SALES2", dropped_today=10)
    stats = world.day_stats("SALES2", today)
    assert (stats.human_answered, stats.drops) == (500, 10)
    assert_consistent(stats)
    step(world, 600)
    later = world.day_stats("SALES2", today)
    assert_consistent(later)
    assert later.human_answered >= 500
    with pytest.raises(ValueError, match="dropped_today"):
        world.steer("SALES2", answered_today=5, dropped_today=6)
    with pytest.raises(KeyError):
        world.steer("NOSUCH", answered_today=1)


def test_hard_limit_cuts_the_dial_level_when_drops_cross_the_limit() -> None:
    world = World(seed=1, now=START)
    world.steer("SALES1", answered_today=2000, dropped_today=70)  # 3.5 %
    step(world, 120)
    assert world.campaigns["SALES1"].dial_level == 1.0


def test_adaptive_level_rises_while_agents_wait_and_drops_are_low() -> None:
    world = World(seed=1, now=START)
    world.campaigns["SALES1"].dial_level = 1.0
    world.steer("SALES1", answered_today=2000, dropped_today=0)
    step(world, 900)
    assert world.campaigns["SALES1"].dial_level > 1.0


def test_hoppers_drain_and_the_small_list_runs_dry() -> None:
    world = World(seed=1, now=datetime(2025, 9, 3, 16, 0, 30, tzinfo=UTC))  # 12:00:30 local
    today = world.local_today()
    rows = world.hopper("SALES1")
    assert [row.hopper_order for row in rows] == list(range(len(rows)))
    assert len({row.lead_id for row in rows}) == len(rows)
    for row in rows:
        assert re.fullmatch(r"\d{10}", row.phone_number)
        assert row.status in world.campaigns["SALES1"].dial_statuses.split()
        assert re.fullmatch(r"-\d\.\d\d", row.gmt_offset)
    sales1_sizes, sales4_sizes, sales4_calls = [], [], []
    for _ in range(8 * 60):  # until 20:00 local, sampled mid-minute
        step(world, 60)
        sales1_sizes.append(len(world.hopper("SALES1")))
        sales4_sizes.append(len(world.hopper("SALES4")))
        sales4_calls.append(world.day_stats("SALES4", today).calls)
    assert min(sales1_sizes) < world.campaigns["SALES1"].hopper_level
    dry_from = next(i for i in range(len(sales4_sizes)) if not any(sales4_sizes[i:]))
    assert dry_from < len(sales4_sizes) - 60  # dry for at least the last hour
    assert sales4_calls[dry_from + 1] == sales4_calls[-1]
    assert world.hopper("NOSUCH") == []


def test_past_days_are_deterministic_and_plausible() -> None:
    first, second = World(seed=5, now=START), World(seed=5, now=START)
    other = World(seed=6, now=START)
    today = first.local_today()
    differs = False
    for days_ago in range(1, 31):
        day = today - timedelta(days=days_ago)
        for code in codes(first):
            stats = first.day_stats(code, day)
            assert_consistent(stats)
            assert stats == second.day_stats(code, day)
            differs = differs or stats != other.day_stats(code, day)
        sales1 = first.day_stats("SALES1", day)
        assert sales1.calls > 2000
        assert 0.015 < drop_ratio(sales1) < 0.035
        assert sum(sales1.hourly[9:17]) > 5 * sum(sales1.hourly[0:7])
        assert {"SALE", "NI", "NA", "A", "AA", "B", "DC", "DROP"} <= set(sales1.statuses)
        for code in ("SALES2", "SALES3", "SALES4"):
            assert drop_ratio(first.day_stats(code, day)) < 0.035
        inbound = first.day_stats("SALESLINE", day)
        assert inbound.human_answered == inbound.calls > 0
    assert differs
    assert first.day_stats("SALES1", today + timedelta(days=1)) == DayStats()
    assert first.day_stats("NOSUCH", today - timedelta(days=1)) == DayStats()


def test_a_mid_day_start_looks_like_a_real_afternoon() -> None:
    world = World(seed=1, now=START)
    today = world.local_today()
    assert world.local_now == datetime(2025, 9, 3, 15, 0)
    sales1 = world.day_stats("SALES1", today)
    assert_consistent(sales1)
    assert sales1.calls > 3000
    assert 0.005 < drop_ratio(sales1) < 0.035
    assert sum(sales1.hourly[16:]) == 0
    assert sales1.hourly[14] > sales1.hourly[3]
    assert len(world.agents) >= 0.6 * 40
    calls = [agent.calls_today for agent in world.agents.values()]
    assert sum(calls) > 10 * len(calls)
    assert max(calls) < 200
    assert list(world.agents) == sorted(world.agents)
    for agent in world.agents.values():
        assert (agent.user_group, agent.user_level) == ("AGENTS", 1)
        assert re.fullmatch(r"86\d{5}", agent.session_id)


def test_state_agrees_with_the_agent_list_and_the_counters() -> None:
    world = World(seed=1, now=START)
    step(world, 450)
    state = world.state()
    json.dumps(state)
    today = world.local_today()
    assert state["local_date"] == today.isoformat()
    agents = state["agents"]
    campaigns = state["campaigns"]
    ingroups = state["ingroups"]
    assert isinstance(agents, list)
    assert isinstance(campaigns, list)
    assert isinstance(ingroups, list)
    assert [a["user"] for a in agents] == sorted(world.agents)
    for row in agents:
        assert row["state"] == agent_bucket(world.agents[row["user"]])
    assert [c["id"] for c in campaigns] == list(world.campaigns)
    for campaign in campaigns:
        counted = Counter(a["state"] for a in agents if a["campaign"] == campaign["id"])
        assert campaign["agents"] == {bucket: counted.get(bucket, 0) for bucket in BUCKETS}
        stats = world.day_stats(campaign["id"], today)
        assert campaign["calls_today"] == stats.calls
        assert campaign["answered_today"] == stats.human_answered
        assert campaign["dropped_today"] == stats.drops
        assert campaign["hopper_leads"] == len(world.hopper(campaign["id"]))
        assert campaign["total_calls"] >= campaign["calls_waiting"] >= 0
    assert {g["id"] for g in ingroups} == set(world.ingroups)
    for group in ingroups:
        assert group["total_calls"] >= group["calls_waiting"] >= 0
        assert sum(group["agents"].values()) == len(world.ingroups[group["id"]].agent_users)


def test_local_time_follows_the_us_dst_rule() -> None:
    winter = World(now=datetime(2025, 1, 15, 17, 0, tzinfo=UTC))
    assert (winter.local_now, winter.dst) == (datetime(2025, 1, 15, 12, 0), False)
    summer = World(now=datetime(2025, 7, 15, 16, 0, tzinfo=UTC))
    assert (summer.local_now, summer.dst) == (datetime(2025, 7, 15, 12, 0), True)
    assert summer.local_today() == date(2025, 7, 15)
    assert [us_dst(date(2025, 3, d)) for d in (8, 9)] == [False, True]
    assert [us_dst(date(2025, 11, d)) for d in (1, 2)] == [True, False]
    with pytest.raises(ValueError, match="timezone-aware"):
        World(now=datetime(2025, 1, 15, 17, 0))  # naive: the mistake under test


def test_advance_ignores_the_past_and_jumps_long_gaps() -> None:
    world = World(seed=1, now=START)
    step(world, 60)
    before = world.state()
    world.advance(START)
    assert world.state() == before
    first_day = world.local_today()
    seen = world.day_stats("SALES1", first_day).calls
    world.advance(START + timedelta(days=2, hours=3))
    assert world.local_today() == first_day + timedelta(days=2)
    assert world.day_stats("SALES1", first_day).calls > seen
    for day in (first_day, first_day + timedelta(days=1), world.local_today()):
        for code in codes(world):
            assert_consistent(world.day_stats(code, day))
    assert world.agents


def test_agent_day_logs_cover_today_and_past_days() -> None:
    world = World(seed=1, now=START)
    step(world, 1800)
    today = world.local_today()
    logs = world.agent_day_logs(datetime.combine(today, time()), datetime.combine(today, time(23)))
    assert logs
    assert [log.user for log in logs] == sorted(log.user for log in logs)
    for log in logs:
        parts = log.talk_sec + log.wait_sec + log.pause_sec + log.dispo_sec + log.dead_sec
        assert log.login_sec > 0
        assert abs(parts - log.login_sec) <= 6
        assert log.calls >= 0
    yesterday = today - timedelta(days=1)
    window = (datetime.combine(yesterday, time(9)), datetime.combine(yesterday, time(17)))
    past = world.agent_day_logs(*window)
    assert past == World(seed=1, now=START).agent_day_logs(*window)
    assert sum(log.calls for log in past) > 100
    for log in past:
        assert log.first_login is not None
        assert log.first_login >= window[0]
    assert world.agent_day_logs(window[1], window[0]) == []


def test_roster_has_real_names_and_puts_most_agents_on_sales1() -> None:
    roster = build_roster(1, ["SALES1", "SALES2", "SALES3", "SALES4"], [0.4, 0.2, 0.25, 0.15], 40)
    assert [e.user for e in roster] == [str(1001 + i) for i in range(40)]
    assert len({e.full_name for e in roster}) == 40
    assert "José Núñez" in {e.full_name for e in roster}
    per_campaign = Counter(e.campaign_id for e in roster)
    assert per_campaign.most_common(1)[0][0] == "SALES1"
    assert all(per_campaign[c] > 0 for c in ("SALES1", "SALES2", "SALES3", "SALES4"))


_STATUS = st.sampled_from(["SALE", "NI", "NA", "A", "AA", "B", "DC", "DROP", "INCALL", "XDROP"])


@settings(max_examples=150, deadline=None)
@given(
    calls=st.lists(st.tuples(_STATUS, st.integers(0, 23), st.integers(1, 50)), max_size=20),
    answered=st.integers(0, 3000),
    dropped=st.integers(0, 3000),
    hour=st.integers(0, 23),
)
def test_setting_answered_and_drops_keeps_every_sum(
    calls: list[tuple[str, int, int]], answered: int, dropped: int, hour: int
) -> None:
    stats = DayStats()
    for status, call_hour, n in calls:
        history.count(stats, status, call_hour, n)
    if dropped > answered:
        with pytest.raises(ValueError, match="dropped_today"):
            history.set_answered_and_drops(stats, answered, dropped, hour)
        return
    history.set_answered_and_drops(stats, answered, dropped, hour)
    assert (stats.human_answered, stats.drops) == (answered, dropped)
    assert_consistent(stats)
    history.restatus(stats, "INCALL", "SALE", hour)  # a call ending after the rewrite
    assert_consistent(stats)
