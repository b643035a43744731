"""The request budget: slow calls paced per rolling minute, live calls never held back.

A fake clock stands in for ``time.monotonic`` and its ``sleep`` advances that clock, so a
minute of pacing takes microseconds and every wait is exact and observable.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.poller.budget import WINDOW_SECONDS, RequestBudget


class FakeClock:
    """``monotonic`` and an ``asyncio.sleep`` stand-in that moves it forward, never back."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0, "a zero or negative wait would spin"
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other waiters run, as a real sleep would

    def budget(self, slow_per_minute: float) -> RequestBudget:
        return RequestBudget(slow_per_minute, monotonic=self.monotonic, sleep=self.sleep)


def in_last_minute(times: list[float], now: float) -> int:
    return sum(1 for t in times if now - WINDOW_SECONDS < t <= now)


async def test_slow_calls_under_the_limit_go_at_once() -> None:
    clock = FakeClock()
    budget = clock.budget(3)
    for _ in range(3):
        assert budget.slow_wait() == 0.0
        await budget.wait_slow()
    assert clock.sleeps == []


async def test_the_next_slow_call_waits_until_the_oldest_leaves_the_minute() -> None:
    clock = FakeClock()
    budget = clock.budget(3)
    first = clock.now
    await budget.wait_slow()
    clock.now += 10
    await budget.wait_slow()
    await budget.wait_slow()
    assert budget.slow_wait() == pytest.approx(first + WINDOW_SECONDS - clock.now + 0.01)
    await budget.wait_slow()
    assert clock.now == pytest.approx(first + WINDOW_SECONDS + 0.01)
    assert len(clock.sleeps) == 1, "one exact wait, not a polling loop"


async def test_priority_requests_never_wait_and_never_eat_the_slow_share() -> None:
    clock = FakeClock()
    budget = clock.budget(2)
    await budget.wait_slow()
    await budget.wait_slow()
    for _ in range(500):  # agents, stats, campaigns, in-groups, retries: all just recorded
        budget.record()
    assert clock.sleeps == []
    assert budget.per_minute() == 500
    # The slow share counts slow calls only: 500 live requests do not delay the next hopper
    # more than the two slow calls already do.
    assert budget.slow_wait() == pytest.approx(WINDOW_SECONDS + 0.01)


async def test_per_minute_counts_every_request_in_the_last_minute_only() -> None:
    assert WINDOW_SECONDS == 60.0, "the budget is per minute, as poll.max_requests_per_minute"
    clock = FakeClock()
    budget = clock.budget(5)
    start = clock.now
    budget.record()
    clock.now += 30
    budget.record()
    budget.record()
    assert budget.per_minute() == 3
    clock.now = start + WINDOW_SECONDS - 0.001
    assert budget.per_minute() == 3
    clock.now = start + WINDOW_SECONDS  # the first one is exactly a minute old: gone
    assert budget.per_minute() == 2
    clock.now = start + 30 + WINDOW_SECONDS
    assert budget.per_minute() == 0


async def test_a_slow_call_is_counted_by_record_not_by_wait_slow() -> None:
    # wait_slow() takes a slot in the slow share; the HTTP attempt itself (and each retry) is
    # what record() counts, so a slow call with one retry shows as 2 requests, not 3.
    clock = FakeClock()
    budget = clock.budget(5)
    await budget.wait_slow()
    assert budget.per_minute() == 0
    budget.record()
    budget.record()
    assert budget.per_minute() == 2


async def test_raising_the_slow_limit_lets_the_next_call_go_at_once() -> None:
    clock = FakeClock()
    budget = clock.budget(2)
    await budget.wait_slow()
    await budget.wait_slow()
    assert budget.slow_wait() > 0
    budget.set_slow_limit(4)
    assert budget.slow_wait() == 0.0
    await budget.wait_slow()
    await budget.wait_slow()
    assert clock.sleeps == []


async def test_lowering_the_slow_limit_holds_calls_until_under_the_new_share() -> None:
    clock = FakeClock()
    budget = clock.budget(5)
    sent = []
    for _ in range(5):
        await budget.wait_slow()
        sent.append(clock.now)
        clock.now += 1
    budget.set_slow_limit(2)
    await budget.wait_slow()
    sent.append(clock.now)
    assert in_last_minute(sent, clock.now) <= 2
    assert clock.now == pytest.approx(sent[3] + WINDOW_SECONDS + 0.01)


@pytest.mark.parametrize("limit", [0.0, -3.0, 0.4])
async def test_the_slow_share_is_never_below_one_call_a_minute(limit: float) -> None:
    clock = FakeClock()
    budget = clock.budget(limit)
    await budget.wait_slow()  # hoppers and the 30-day history must still move
    assert clock.sleeps == []
    await budget.wait_slow()
    assert clock.sleeps == [pytest.approx(WINDOW_SECONDS + 0.01)]
    budget.set_slow_limit(0)
    assert budget.slow_wait() > 0
    clock.now += WINDOW_SECONDS
    assert budget.slow_wait() == 0.0


steps = st.lists(
    st.tuples(
        st.floats(0, 90, allow_nan=False),  # time passing before the step
        st.integers(0, 6),  # slow calls asked for in a row
        st.integers(0, 10),  # live requests recorded
    ),
    max_size=30,
)


@given(st.integers(1, 12), steps)
async def test_slow_calls_never_exceed_the_limit_in_any_rolling_minute(
    limit: int, script: list[tuple[float, int, int]]
) -> None:
    clock = FakeClock()
    budget = clock.budget(limit)
    slow: list[float] = []
    every: list[float] = []
    for gap, slow_calls, live in script:
        clock.now += gap
        for _ in range(live):
            before = clock.now
            budget.record()
            every.append(clock.now)
            assert clock.now == before, "a live request never waits"
        for _ in range(slow_calls):
            asked = clock.now
            earliest = asked
            if in_last_minute(slow, asked) >= limit:
                # It fits once the limit-th most recent slow call has left the minute.
                earliest = max(asked, slow[-limit] + WINDOW_SECONDS)
            await budget.wait_slow()
            slow.append(clock.now)
            assert in_last_minute(slow, clock.now) <= limit
            # ...and it is not held longer than needed (one 10 ms margin per wait).
            assert earliest <= clock.now <= earliest + 0.011
        assert budget.per_minute() == in_last_minute(every, clock.now)


@given(st.integers(1, 6), st.integers(1, 25))
async def test_concurrent_slow_callers_share_the_limit(limit: int, callers: int) -> None:
    clock = FakeClock()
    budget = clock.budget(limit)
    sent: list[float] = []

    async def one_call() -> None:
        await budget.wait_slow()
        sent.append(clock.now)
        assert in_last_minute(sent, clock.now) <= limit

    await asyncio.gather(*(one_call() for _ in range(callers)))
    assert len(sent) == callers


async def test_a_fractional_slow_share_is_not_rounded_up() -> None:
    clock = FakeClock()
    budget = clock.budget(2.5)  # budget 20, live sources 17.5/min (e.g. agents every 8 s)
    sent = []
    for _ in range(3):
        await budget.wait_slow()
        sent.append(clock.now)
    assert in_last_minute(sent, clock.now) <= 2.5
