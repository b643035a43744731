"""Per-source health: transitions logged once, failing sources retried soon, ages kept."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.poller.health import SourceHealth
from wallboard.snapshot import SourceStatus

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
INTERVALS = {"version": 600.0, "logged_in_agents": 30.0, "hopper_list": 120.0}
SHORTEST = 30.0
LOGGER = "wallboard.poller.health"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def health() -> SourceHealth:
    return SourceHealth(INTERVALS, shortest=SHORTEST)


def records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


# --- statuses ---------------------------------------------------------------------------------


def test_every_source_starts_unknown_with_its_interval() -> None:
    h = health()
    assert h.statuses() == tuple(
        SourceStatus(function=name, interval=interval) for name, interval in INTERVALS.items()
    )
    assert "version" in h
    assert "in_group_status" not in h
    assert h.get("logged_in_agents").last_success is None
    assert h.get("logged_in_agents").stale(at(0)), "never answered is stale"


def test_success_records_the_time_and_clears_the_error() -> None:
    h = health()
    h.failure("logged_in_agents", "timeout", "no answer in 10 s", at(0))
    h.success("logged_in_agents", at(5))
    assert h.get("logged_in_agents") == SourceStatus(
        function="logged_in_agents", interval=30.0, ok=True, last_success=at(5)
    )


def test_a_composite_source_can_report_an_older_success() -> None:
    h = health()
    h.success("hopper_list", at(100), last_success=at(40))  # the oldest hopper count
    assert h.get("hopper_list").ok
    assert h.get("hopper_list").last_success == at(40)


def test_failure_keeps_the_last_success_and_the_first_failing_moment() -> None:
    h = health()
    h.success("logged_in_agents", at(0))
    h.failure("logged_in_agents", "timeout", "first", at(30))
    h.failure("logged_in_agents", "parse", "second", at(60))
    status = h.get("logged_in_agents")
    assert not status.ok
    assert status.last_success == at(0), "the last good data stays, with its age"
    assert status.failing_since == at(30)
    assert status.error_kind == "parse"
    assert status.last_error == "second"


def test_set_last_success_moves_the_age_but_not_ok() -> None:
    h = health()
    h.failure("hopper_list", "timeout", "x", at(0))
    h.set_last_success("hopper_list", at(-50))
    assert h.get("hopper_list").last_success == at(-50)
    assert not h.get("hopper_list").ok
    h.success("hopper_list", at(10))
    h.set_last_success("hopper_list", None)
    assert h.get("hopper_list").ok
    assert h.get("hopper_list").last_success is None


def test_set_interval_moves_the_stale_threshold() -> None:
    h = health()
    h.success("hopper_list", at(0))
    assert h.get("hopper_list").stale(at(361))  # 3 x 120 s
    h.set_interval("hopper_list", 470.0)  # stretched by the request budget
    status = h.get("hopper_list")
    assert status.interval == 470.0
    assert status.ok
    assert status.last_success == at(0)
    assert not status.stale(at(361))
    assert status.stale(at(3 * 470 + 1))


def test_blocked_marks_the_source_failed_without_a_retry_backoff(
    logs: pytest.LogCaptureFixture,
) -> None:
    h = health()
    h.success("logged_in_agents", at(0))
    h.blocked("logged_in_agents", "login", "not polled while VICIdial refuses the login", at(30))
    h.blocked("logged_in_agents", "login", "not polled while VICIdial refuses the login", at(60))
    status = h.get("logged_in_agents")
    assert not status.ok
    assert status.error_kind == "login"
    assert status.failing_since == at(30)
    assert status.last_success == at(0)
    assert h.retry_delay("logged_in_agents", 30.0) is None, "the breaker decides, not a backoff"
    assert records(logs) == [], "the breaker logs the cause once; sources do not repeat it"


# --- logging transitions ----------------------------------------------------------------------


def test_one_error_when_a_source_starts_failing_none_while_it_keeps_failing(
    logs: pytest.LogCaptureFixture,
) -> None:
    h = health()
    h.success("logged_in_agents", at(0))
    for poll in range(1, 20):
        h.failure("logged_in_agents", "timeout", f"attempt {poll}", at(30 * poll))
    assert [level for level, _ in records(logs)] == [logging.ERROR]
    assert "logged_in_agents" in records(logs)[0][1]
    assert "timeout" in records(logs)[0][1]


def test_one_info_on_recovery_and_none_for_ordinary_successes(
    logs: pytest.LogCaptureFixture,
) -> None:
    h = health()
    h.success("logged_in_agents", at(0))  # the first success is not a recovery
    h.success("logged_in_agents", at(30))
    h.failure("logged_in_agents", "timeout", "x", at(60))
    h.failure("logged_in_agents", "timeout", "x", at(90))
    h.success("logged_in_agents", at(120))
    h.success("logged_in_agents", at(150))
    assert records(logs) == [
        (logging.ERROR, "logged_in_agents: failing (timeout): x; keeping the last good data"),
        (logging.INFO, "logged_in_agents: recovered"),
    ]


def test_a_different_kind_of_failure_is_a_new_transition(logs: pytest.LogCaptureFixture) -> None:
    h = health()
    h.failure("version", "timeout", "a", at(0))
    h.failure("version", "timeout", "b", at(30))
    h.failure("version", "parse", "c", at(60))
    h.failure("version", "parse", "d", at(90))
    assert [message for _, message in records(logs)] == [
        "version: failing (timeout): a; keeping the last good data",
        "version: failing (parse): c; keeping the last good data",
    ]


def test_each_source_has_its_own_transitions(logs: pytest.LogCaptureFixture) -> None:
    h = health()
    h.failure("version", "timeout", "x", at(0))
    h.failure("hopper_list", "timeout", "x", at(0))
    h.failure("version", "timeout", "x", at(30))
    h.success("hopper_list", at(60))
    assert [(level, message.split(":")[0]) for level, message in records(logs)] == [
        (logging.ERROR, "version"),
        (logging.ERROR, "hopper_list"),
        (logging.INFO, "hopper_list"),
    ]


def test_a_source_failing_again_after_recovery_logs_again(logs: pytest.LogCaptureFixture) -> None:
    h = health()
    for cycle in range(3):
        h.failure("version", "timeout", "x", at(100 * cycle))
        h.failure("version", "timeout", "x", at(100 * cycle + 10))
        h.success("version", at(100 * cycle + 20))
    assert [level for level, _ in records(logs)] == [logging.ERROR, logging.INFO] * 3


# --- retry backoff ----------------------------------------------------------------------------


def test_a_healthy_source_has_no_retry() -> None:
    h = health()
    assert h.retry_delay("version", 600.0) is None
    h.success("version", at(0))
    assert h.retry_delay("version", 600.0) is None


def test_retries_start_at_half_the_shortest_interval_and_double_up_to_the_interval() -> None:
    h = health()
    delays = []
    for attempt in range(8):
        h.failure("version", "timeout", "x", at(attempt))
        delays.append(h.retry_delay("version", 600.0))
    assert delays == [15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 600.0, 600.0]


def test_success_resets_the_backoff() -> None:
    h = health()
    for attempt in range(5):
        h.failure("hopper_list", "timeout", "x", at(attempt))
    h.success("hopper_list", at(10))
    assert h.retry_delay("hopper_list", 120.0) is None
    h.failure("hopper_list", "timeout", "x", at(20))
    assert h.retry_delay("hopper_list", 120.0) == 15.0


def test_a_source_with_the_shortest_interval_is_retried_within_it() -> None:
    h = health()
    h.failure("logged_in_agents", "timeout", "x", at(0))
    assert h.retry_delay("logged_in_agents", 30.0) == 15.0
    h.failure("logged_in_agents", "timeout", "x", at(15))
    assert h.retry_delay("logged_in_agents", 30.0) == 30.0
    h.failure("logged_in_agents", "timeout", "x", at(45))
    assert h.retry_delay("logged_in_agents", 30.0) == 30.0, "never later than its own schedule"


@given(
    shortest=st.floats(5, 120),
    stretch=st.floats(1, 100),
    failures=st.integers(1, 60),
)
def test_retry_delays_are_short_first_monotone_and_capped(
    shortest: float, stretch: float, failures: int
) -> None:
    interval = shortest * stretch
    h = SourceHealth({"hopper_list": interval}, shortest=shortest)
    delays: list[float] = []
    for attempt in range(failures):
        h.failure("hopper_list", "timeout", "x", at(attempt))
        delay = h.retry_delay("hopper_list", interval)
        assert delay is not None
        delays.append(delay)
    assert delays[0] <= shortest, "the first retry comes within the shortest poll interval"
    assert all(0 < d <= interval for d in delays)
    assert delays == sorted(delays)
    assert isinstance(delays[-1], float)


def test_a_dialer_down_all_night_still_gets_a_retry_delay() -> None:
    h = health()
    for attempt in range(1100):  # 30 s apart: a little over nine hours
        h.failure("logged_in_agents", "timeout", "x", at(30 * attempt))
        assert h.retry_delay("logged_in_agents", 30.0) == (15.0 if attempt == 0 else 30.0)
