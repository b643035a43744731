"""Freshness: one staleness rule (3 x the effective interval), ages of the live figures only,
and a watcher that announces each crossing the moment it happens, with time as a parameter."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.waiting import eventually
from wallboard.freshness import FreshnessWatch, StaleSet
from wallboard.snapshot import (
    FLOOR_SOURCES,
    STALE_AFTER_INTERVALS,
    Snapshot,
    SourceStatus,
)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LOGGER = "wallboard.freshness"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def status(name: str, interval: float, answered: float | None) -> SourceStatus:
    """A source that last answered ``answered`` seconds after T0 (None: never)."""
    return SourceStatus(
        function=name,
        interval=interval,
        ok=answered is not None,
        last_success=None if answered is None else at(answered),
    )


def snapshot(*sources: SourceStatus) -> Snapshot:
    return Snapshot(taken_at=T0, local_date=date(2026, 11, 25), sources=sources)


def healthy(answered: float = 0.0, *, version: float | None = 0.0) -> Snapshot:
    """Every stock source answered at ``answered`` (``version`` separately)."""
    sources = [
        status("logged_in_agents", 30, answered),
        status("call_status_stats", 60, answered),
        status("campaigns_list", 60, answered),
        status("hopper_list", 120, answered),
        status("in_group_status", 30, answered),
        status("version", 600, version),
    ]
    return snapshot(*sources)


# --- SourceStatus -----------------------------------------------------------------------------


def test_a_source_turns_stale_just_after_three_intervals() -> None:
    agents = status("logged_in_agents", 30, 0)
    assert STALE_AFTER_INTERVALS == 3
    assert agents.stale_at() == at(90) + timedelta(microseconds=1)
    assert not agents.stale(at(90)), "exactly 3 intervals old is still fresh"
    assert agents.stale(at(90) + timedelta(microseconds=1)), "stale_at is the first stale moment"
    assert agents.stale(at(90.001))
    assert agents.age(at(45)) == 45.0


def test_a_source_that_never_answered_is_stale_with_no_deadline() -> None:
    never = status("hopper_list", 120, None)
    assert never.stale(at(0))
    assert never.age(at(0)) is None
    assert never.stale_at() is None


def test_an_answer_from_a_clock_ahead_of_ours_has_age_zero_not_negative() -> None:
    assert status("logged_in_agents", 30, 10).age(at(0)) == 0.0


@given(st.floats(5, 3600), st.floats(0, 20_000))
def test_stale_at_is_where_stale_flips(interval: float, elapsed: float) -> None:
    source = status("hopper_list", interval, 0)
    deadline = source.stale_at()
    assert deadline is not None
    assert source.stale(at(elapsed)) == (at(elapsed) >= deadline)


# --- Snapshot ---------------------------------------------------------------------------------


def test_age_is_the_older_of_agents_and_stats_never_version() -> None:
    snap = snapshot(
        status("logged_in_agents", 30, 100),
        status("call_status_stats", 60, 70),
        status("hopper_list", 120, 0),
        status("version", 600, -500),  # polled every 10 minutes: must not age the board
    )
    assert snap.age_seconds(at(110)) == 40.0


def test_age_is_unknown_until_both_live_sources_answered() -> None:
    assert snapshot().age_seconds(at(0)) is None
    snap = snapshot(status("logged_in_agents", 30, 0), status("call_status_stats", 60, None))
    assert snap.age_seconds(at(10)) is None


def test_a_healthy_daemon_reports_the_age_of_its_last_agents_poll() -> None:
    # The issue: version-driven ages of 450-560 s on a healthy daemon. Now: seconds.
    snap = healthy(answered=0, version=-540)
    assert snap.age_seconds(at(25)) == 25.0
    assert not snap.stale(at(25))


def test_a_stale_version_does_not_make_the_board_stale() -> None:
    snap = healthy(answered=0, version=-3600)
    assert snap.source("version") is not None
    assert snap.stale_sources(at(10)) == []
    assert not snap.stale(at(10))


def test_a_version_that_never_answered_does_not_make_the_board_stale() -> None:
    assert not healthy(answered=0, version=None).stale(at(10))


@pytest.mark.parametrize(
    ("elapsed", "stale"),
    [
        (90, []),
        (91, ["logged_in_agents", "in_group_status"]),  # 3 x 30 s
        (181, ["logged_in_agents", "call_status_stats", "campaigns_list", "in_group_status"]),
        (
            361,
            [
                "logged_in_agents",
                "call_status_stats",
                "campaigns_list",
                "hopper_list",
                "in_group_status",
            ],
        ),
    ],
)
def test_each_floor_source_stales_on_its_own_interval(elapsed: float, stale: list[str]) -> None:
    snap = healthy(answered=0, version=None)
    assert snap.stale_sources(at(elapsed)) == stale
    assert snap.stale(at(elapsed)) == bool(stale)


def test_a_floor_source_that_never_answered_makes_the_board_stale() -> None:
    snap = snapshot(
        status("logged_in_agents", 30, 0),
        status("call_status_stats", 60, 0),
        status("hopper_list", 120, None),
    )
    assert snap.stale_sources(at(1)) == ["hopper_list"]
    assert snap.stale(at(1))


def test_a_snapshot_without_floor_sources_is_stale() -> None:
    assert snapshot().stale(at(0))
    assert snapshot(status("version", 600, 0)).stale(at(0))


def test_a_stretched_hopper_interval_moves_its_threshold() -> None:
    # Hoppers stretched by the request budget to 472.4 s: not stale at 3 x the configured 120 s.
    hoppers = status("hopper_list", 472.4, 0)
    snap = snapshot(status("logged_in_agents", 30, 1400), hoppers)
    assert snap.stale_sources(at(361)) == []
    assert snap.stale_sources(at(1417)) == []
    assert snap.stale_sources(at(1418)) == ["hopper_list"]


def test_next_stale_change_is_the_earliest_deadline_of_a_fresh_floor_source() -> None:
    snap = healthy(answered=0, version=-10_000)
    tick = timedelta(microseconds=1)  # stale is strict: the first stale moment is just after
    assert snap.next_stale_change(at(0)) == at(90) + tick  # agents and in-groups: 3 x 30 s
    # Once those are stale, the next one to turn is stats/campaigns at 3 x 60 s.
    assert snap.next_stale_change(at(100)) == at(180) + tick
    assert snap.next_stale_change(at(200)) == at(360) + tick
    assert snap.next_stale_change(at(400)) is None, "nothing left to turn stale"


def test_next_stale_change_ignores_version_and_sources_that_never_answered() -> None:
    snap = snapshot(
        status("logged_in_agents", 30, None),
        status("call_status_stats", 60, 0),
        status("version", 600, -1700),  # would be "next" at 100 s if version counted
    )
    assert snap.next_stale_change(at(0)) == at(180) + timedelta(microseconds=1)


def test_health_is_not_content() -> None:
    # Equality ignores the sources: a poll that only refreshed health is no change.
    assert healthy(answered=0) == healthy(answered=30)


# --- FreshnessWatch ---------------------------------------------------------------------------


class Floor:
    """The latest snapshot and the wall clock, both under the test's control."""

    def __init__(self, snap: Snapshot | None) -> None:
        self.snap = snap
        self.now = T0
        self.seen: list[StaleSet] = []

    def latest(self) -> Snapshot | None:
        return self.snap

    def clock(self) -> datetime:
        return self.now

    def watch(self, tick: float = 1.0) -> FreshnessWatch:
        watch = FreshnessWatch(self.latest, self.clock, tick=tick)
        watch.subscribe(self.seen.append)
        return watch


def stale_records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


def test_nothing_to_say_before_the_first_snapshot() -> None:
    floor = Floor(None)
    watch = floor.watch()
    assert watch.check() is False
    assert watch.stale is None
    assert floor.seen == []


def test_the_first_check_announces_the_current_set_quietly(logs: pytest.LogCaptureFixture) -> None:
    floor = Floor(healthy(answered=0))
    watch = floor.watch()
    assert watch.check() is True
    assert floor.seen == [frozenset()]
    assert watch.stale == frozenset()
    assert stale_records(logs) == [], "a start is not a transition"


def test_listeners_hear_each_crossing_once_and_nothing_in_between(
    logs: pytest.LogCaptureFixture,
) -> None:
    floor = Floor(healthy(answered=0, version=None))
    watch = floor.watch()
    watch.check()
    for second in range(1, 91):  # up to exactly 3 x 30 s: still fresh
        floor.now = at(second)
        assert watch.check() is False
    floor.now = at(90.5)
    assert watch.check() is True
    floor.now = at(120)
    assert watch.check() is False
    floor.now = at(180.5)
    assert watch.check() is True
    assert floor.seen == [
        frozenset(),
        frozenset({"logged_in_agents", "in_group_status"}),
        frozenset({"logged_in_agents", "in_group_status", "call_status_stats", "campaigns_list"}),
    ]
    assert stale_records(logs) == [
        (logging.WARNING, "stale now: in_group_status, logged_in_agents"),
        (logging.WARNING, "stale now: call_status_stats, campaigns_list"),
    ]


def test_recovery_is_announced_when_a_new_snapshot_brings_fresh_answers(
    logs: pytest.LogCaptureFixture,
) -> None:
    floor = Floor(healthy(answered=0, version=None))
    watch = floor.watch()
    watch.check()
    floor.now = at(100)
    watch.check()
    floor.snap = healthy(answered=100, version=None)  # the dialer is back
    assert watch.check() is True
    assert floor.seen[-1] == frozenset()
    assert stale_records(logs)[-1] == (
        logging.INFO,
        "fresh again: in_group_status, logged_in_agents",
    )
    assert watch.check() is False


def test_one_source_recovering_as_another_turns_stale_logs_both(
    logs: pytest.LogCaptureFixture,
) -> None:
    floor = Floor(
        snapshot(status("logged_in_agents", 30, 0), status("call_status_stats", 60, -200))
    )
    watch = floor.watch()
    watch.check()
    assert floor.seen == [frozenset({"call_status_stats"})]
    floor.snap = snapshot(status("logged_in_agents", 30, 0), status("call_status_stats", 60, 95))
    floor.now = at(95)
    assert watch.check() is True
    assert floor.seen[-1] == frozenset({"logged_in_agents"})
    assert stale_records(logs) == [
        (logging.WARNING, "stale now: logged_in_agents"),
        (logging.INFO, "fresh again: call_status_stats"),
    ]


def test_version_never_wakes_the_listeners(logs: pytest.LogCaptureFixture) -> None:
    floor = Floor(snapshot(status("logged_in_agents", 30, 0), status("version", 600, 0)))
    watch = floor.watch()
    watch.check()
    floor.snap = snapshot(status("logged_in_agents", 30, 1800), status("version", 600, 0))
    floor.now = at(1800)  # version is 3 x 600 s old, agents fresh
    assert watch.check() is False
    floor.now = at(1801)  # version past its threshold: still not a floor matter
    assert watch.check() is False
    assert floor.seen == [frozenset()]
    assert stale_records(logs) == []


def test_a_new_snapshot_with_the_same_stale_set_is_not_a_change() -> None:
    floor = Floor(healthy(answered=0, version=None))
    watch = floor.watch()
    watch.check()
    for poll in range(1, 10):
        floor.now = at(30 * poll)
        floor.snap = healthy(answered=30 * poll, version=None)
        assert watch.check() is False
    assert floor.seen == [frozenset()]


def test_unsubscribed_listeners_hear_nothing_more() -> None:
    floor = Floor(healthy(answered=0))
    watch = floor.watch()
    late: list[StaleSet] = []
    unsubscribe = watch.subscribe(late.append)
    watch.check()
    unsubscribe()
    floor.now = at(100)
    watch.check()
    assert late == [frozenset()]
    assert len(floor.seen) == 2


def test_a_failing_listener_does_not_starve_the_others(caplog: pytest.LogCaptureFixture) -> None:
    floor = Floor(healthy(answered=0))
    watch = FreshnessWatch(floor.latest, floor.clock)

    def broken(_: StaleSet) -> None:
        raise RuntimeError("listener bug")

    watch.subscribe(broken)
    watch.subscribe(floor.seen.append)
    with caplog.at_level(logging.ERROR):
        assert watch.check() is True
    assert floor.seen == [frozenset()]
    assert "listener bug" in caplog.text


@given(st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=40))
def test_listeners_are_called_exactly_when_the_stale_set_changes(steps: list[float]) -> None:
    snap = healthy(answered=0, version=0)
    floor = Floor(snap)
    watch = floor.watch()
    previous: frozenset[str] | None = None
    calls = 0
    for step in steps:
        floor.now += timedelta(seconds=step)
        # The rule, restated: floor sources (never version) past 3 x their interval.
        expected = frozenset(
            source.function
            for source in snap.sources
            if source.function in FLOOR_SOURCES
            and (floor.now - T0).total_seconds() > 3 * source.interval
        )
        changed = watch.check()
        assert changed == (expected != previous)
        calls += changed
        previous = expected
        assert watch.stale == expected
    assert len(floor.seen) == calls


# --- the timer task ---------------------------------------------------------------------------


async def test_the_running_watch_announces_a_crossing_without_any_poll() -> None:
    floor = Floor(healthy(answered=0))
    watch = floor.watch(tick=0.01)
    await watch.start()
    try:
        await eventually(lambda: floor.seen == [frozenset()], within=5, what="first check")
        floor.now = at(91)  # the dialer died: no new snapshot, only time passes
        await eventually(lambda: len(floor.seen) == 2, within=5, what="crossing announced")
        assert floor.seen[-1] == {"logged_in_agents", "in_group_status"}
    finally:
        await watch.close()


async def test_the_running_watch_survives_a_failing_check(
    caplog: pytest.LogCaptureFixture,
) -> None:
    floor = Floor(healthy(answered=0))
    failures = 3

    def latest() -> Snapshot | None:
        nonlocal failures
        if failures:
            failures -= 1
            raise RuntimeError("store unreadable")
        return floor.snap

    watch = FreshnessWatch(latest, floor.clock, tick=0.01)
    watch.subscribe(floor.seen.append)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        await watch.start()
        try:
            await eventually(lambda: floor.seen == [frozenset()], within=5, what="recovered")
        finally:
            await watch.close()
    assert caplog.text.count("freshness check failed") == 3


async def test_start_twice_runs_one_task_and_close_stops_it() -> None:
    floor = Floor(healthy(answered=0))
    watch = floor.watch(tick=0.01)
    await watch.start()
    await watch.start()
    tasks = [t for t in asyncio.all_tasks() if t.get_name() == "freshness-watch"]
    assert len(tasks) == 1
    await watch.close()
    assert tasks[0].done()
    await watch.close()  # closing twice is harmless
