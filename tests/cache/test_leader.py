"""Leader election on a real redis-server: one leader, fast handover, takeover after a crash."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually
from wallboard.cache import LeaderElection, SoloLeadership, connect_redis

LOCK = "wb-test:leader"
TTL = 1.0


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
        assert any("leadership callback" in r.getMessage() for r in caplog.records)
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
