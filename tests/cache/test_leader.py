"""Leader election on a real redis-server: one leader, fast handover, takeover after a crash."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually
from wallboard.cache import LeaderElection, SoloLeadership, connect_redis

LOCK = "wb-test:leader"
TTL = 1.0

#: The handover tests' TTL: long enough that its ttl/3 rhythm dwarfs scheduling noise.
HANDOVER_TTL = 1.5
#: How late after the dead leader's lock expired a follower may still be taking over: its retry
#: margin plus round trips and scheduling on a loaded 2-core box. The old "try every ttl/3"
#: follower was up to ttl/3 (here 0.5 s) late, and 0.25 s or more in both set-ups below.
HANDOVER_SLACK = 0.15

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Candidate:
    """An election plus the transitions it reported, with when they happened."""

    election: LeaderElection
    changes: list[tuple[bool, float]]

    def when(self, is_leader: bool) -> float:
        return next(at for value, at in self.changes if value is is_leader)


CandidateFactory = Callable[..., Awaitable[Candidate]]


@pytest.fixture
async def candidate(redis_server: RedisServer) -> AsyncIterator[CandidateFactory]:
    """Start elections (each on its own client, optionally via another URL); close them after."""
    started: list[tuple[Candidate, Redis]] = []

    async def make(*, url: str | None = None, ttl: float = TTL) -> Candidate:
        client = connect_redis(url or redis_server.url, timeout=0.2)
        changes: list[tuple[bool, float]] = []
        election = LeaderElection(
            client, LOCK, ttl, on_change=lambda value: changes.append((value, time.monotonic()))
        )
        entry = Candidate(election, changes)
        started.append((entry, client))
        await entry.election.start()
        return entry

    yield make
    for entry, client in reversed(started):
        await entry.election.close()
        await client.aclose()


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = connect_redis(redis_server.url)
    yield client
    await client.aclose()


async def test_two_candidates_elect_exactly_one_leader(candidate: CandidateFactory) -> None:
    first = await candidate()
    second = await candidate()

    assert first.election.is_leader  # a lone instance leads right after start()
    assert not second.election.is_leader
    assert [value for value, _ in first.changes] == [True]
    assert second.changes == []
    assert first.election.fencing_token is not None
    assert second.election.fencing_token is None


async def test_the_leader_keeps_its_lock_beyond_the_ttl(
    candidate: CandidateFactory, redis: Redis
) -> None:
    ttl = 0.5
    first = await candidate(ttl=ttl)
    second = await candidate(ttl=ttl)
    started = time.monotonic()

    # Without renewal the lock would have expired after one TTL and changed hands.
    await eventually(lambda: time.monotonic() - started > 2 * ttl, within=3 * ttl)

    assert first.election.is_leader
    assert not second.election.is_leader
    assert [value for value, _ in first.changes] == [True]
    assert await redis.get(LOCK) == first.election.fencing_token


async def test_closing_the_leader_hands_over_within_one_ttl(candidate: CandidateFactory) -> None:
    first = await candidate()
    second = await candidate()

    closed_at = time.monotonic()
    await first.election.close()

    assert [value for value, _ in first.changes] == [True, False]
    took = await eventually(lambda: second.election.is_leader, within=TTL)
    assert took < TTL
    assert second.when(True) >= closed_at


async def test_a_partitioned_leader_steps_down_and_another_takes_over_after_the_ttl(
    candidate: CandidateFactory, redis_server: RedisServer, redis: Redis
) -> None:
    async with TcpProxy("127.0.0.1", redis_server.port) as proxy:
        cut_off = await candidate(url=proxy.url)
        other = await candidate()
        assert cut_off.election.is_leader
        token = cut_off.election.fencing_token

        severed_at = time.monotonic()
        await proxy.sever()  # the leader vanishes without releasing its lock

        await eventually(lambda: not cut_off.election.is_leader, within=TTL)
        await eventually(lambda: other.election.is_leader, within=2 * TTL)

    # Never two leaders: the old one stepped down before the lock could expire...
    assert cut_off.when(False) < other.when(True)
    # ...and the new one waited for it to expire (the lock was renewed at most ttl/3 ago).
    assert other.when(True) - severed_at > TTL * 2 / 3 - 0.05
    assert await redis.get(LOCK) == other.election.fencing_token != token


async def test_a_leader_whose_lock_was_taken_steps_down(
    candidate: CandidateFactory, redis: Redis
) -> None:
    leader = await candidate()
    await redis.set(LOCK, b"somebody-else", px=int(10 * TTL * 1000))

    await eventually(lambda: not leader.election.is_leader, within=TTL)

    assert [value for value, _ in leader.changes] == [True, False]
    assert leader.election.fencing_token is None
    assert await redis.get(LOCK) == b"somebody-else"  # stepping down never deletes theirs


async def test_a_candidate_started_while_redis_is_down_leads_once_it_is_back(
    candidate: CandidateFactory, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wallboard.cache.leader")
    redis_server.kill()

    late = await candidate()  # must not raise
    assert not late.election.is_leader

    redis_server.start()
    await eventually(lambda: late.election.is_leader, within=2 * TTL)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("cannot reach Redis" in m for m in messages) == 1
    assert sum("reaches Redis again" in m for m in messages) == 1


async def test_a_failing_on_change_callback_is_logged_and_leadership_still_works(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(is_leader: bool) -> None:
        raise RuntimeError("poller bug")

    client = connect_redis(redis_server.url)
    election = LeaderElection(client, LOCK, TTL, on_change=broken)
    try:
        with caplog.at_level(logging.ERROR):
            await election.start()
        assert election.is_leader
        assert any("leadership subscriber" in r.getMessage() for r in caplog.records)
    finally:
        await election.close()
        await client.aclose()
    assert not election.is_leader


def test_a_non_positive_ttl_is_rejected(redis_server: RedisServer) -> None:
    client = connect_redis(redis_server.url)
    with pytest.raises(ValueError, match="ttl"):
        LeaderElection(client, LOCK, 0, on_change=None)


async def test_solo_leadership_leads_from_start_to_close() -> None:
    changes: list[bool] = []
    solo = SoloLeadership(on_change=changes.append)
    assert not solo.is_leader

    await solo.start()
    assert solo.is_leader
    await solo.close()

    assert not solo.is_leader
    assert changes == [True, False]


async def test_a_dead_holders_lock_is_taken_just_after_it_expires(
    candidate: CandidateFactory, redis: Redis
) -> None:
    # A holder that renewed 0.25 s ago and then died: its lock has 1.25 s left. A follower
    # trying every ttl/3 from now would test at +1.0 s (too early) and +1.5 s (0.25 s late).
    left = HANDOVER_TTL - 0.25
    before = time.monotonic()
    await redis.set(LOCK, b"dead-leader", px=int(left * 1000))
    follower = await candidate(ttl=HANDOVER_TTL)
    assert not follower.election.is_leader

    await eventually(lambda: follower.election.is_leader, within=2 * HANDOVER_TTL)

    assert follower.when(True) >= before + left  # never before the lock expired...
    assert follower.when(True) - (before + left) < HANDOVER_SLACK  # ...and just after it


async def test_a_killed_leader_is_replaced_within_one_ttl_of_its_last_renewal(
    candidate: CandidateFactory, redis_server: RedisServer, redis: Redis
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.cache.leader_process",
        redis_server.url,
        LOCK,
        str(HANDOVER_TTL),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            assert await process.stdout.readline() == b"leading\n"

        # Start the follower out of step with the leader's renewals (a quarter of the lock's
        # life gone), where trying every ttl/3 would be the furthest behind the expiry.
        async def quarter_gone() -> bool:
            return int(await redis.pttl(LOCK)) < HANDOVER_TTL * 1000 * 5 / 6

        await eventually(quarter_gone, within=HANDOVER_TTL, what="the lock ages")
        follower = await candidate(ttl=HANDOVER_TTL)
        assert not follower.election.is_leader
    finally:
        if process.returncode is None:
            process.kill()  # SIGKILL: nothing is released, the lock must expire
        await process.wait()

    remaining = int(await redis.pttl(LOCK))
    expired_by = time.monotonic() + remaining / 1000 + 0.001  # PTTL has ms resolution
    assert remaining > 0  # the dead leader's lock outlives it
    last_renewal = expired_by - HANDOVER_TTL

    await eventually(lambda: follower.election.is_leader, within=2 * HANDOVER_TTL)

    assert follower.when(True) - last_renewal < HANDOVER_TTL + HANDOVER_SLACK
    assert await redis.get(LOCK) == follower.election.fencing_token


async def test_leadership_is_followable_by_several_components(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = connect_redis(redis_server.url)
    election = LeaderElection(client, LOCK, TTL)
    poller: list[bool] = []
    alerts: list[bool] = []
    dropped: list[bool] = []

    def broken(is_leader: bool) -> None:
        raise RuntimeError("subscriber bug")

    election.subscribe(poller.append)
    election.subscribe(broken)
    unsubscribe = election.subscribe(dropped.append)
    election.subscribe(alerts.append)
    try:
        with caplog.at_level(logging.ERROR):
            await election.start()
            assert election.is_leader
            unsubscribe()
            unsubscribe()
            late: list[bool] = []
            election.subscribe(late.append)
            assert late == []  # no replay: a late subscriber reads is_leader
            await election.close()
    finally:
        await election.close()
        await client.aclose()

    assert poller == alerts == [True, False]
    assert dropped == [True]
    assert late == [False]
    assert sum("leadership subscriber" in r.getMessage() for r in caplog.records) == 2


async def test_solo_leadership_is_followable_without_replay() -> None:
    solo = SoloLeadership()
    await solo.start()
    seen: list[bool] = []

    solo.subscribe(seen.append)
    assert seen == []
    await solo.close()

    assert seen == [False]
