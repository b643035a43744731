"""The Redis-shared store against a real redis-server: leader writes, followers follow."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.cache.helpers import Board, BoardCodec, contents
from tests.support.redis_server import RedisServer
from tests.support.waiting import eventually
from wallboard.cache import RedisSnapshotStore, connect_redis

PREFIX = "wb-test"
StoreFactory = Callable[..., Awaitable[RedisSnapshotStore[Board]]]


@pytest.fixture
async def make_store(redis_server: RedisServer) -> AsyncIterator[StoreFactory]:
    """Start stores on the test server (each with its own client); close them all afterwards."""
    stores: list[RedisSnapshotStore[Board]] = []

    async def make(
        *, lock_ttl: float = 1.0, resync_interval: float = 30.0
    ) -> RedisSnapshotStore[Board]:
        store = RedisSnapshotStore(
            connect_redis(redis_server.url, timeout=0.3),
            BoardCodec(),
            prefix=PREFIX,
            lock_ttl=lock_ttl,
            resync_interval=resync_interval,
            min_backoff=0.05,
            max_backoff=0.2,
        )
        stores.append(store)
        await store.start()
        return store

    yield make
    for store in reversed(stores):
        await store.close()


async def test_the_leader_publishes_and_a_follower_receives_it_through_pubsub(
    make_store: StoreFactory,
) -> None:
    leader = await make_store()
    follower = await make_store()
    assert leader.is_writer
    assert not follower.is_writer
    seen: list[Board] = []
    follower.subscribe(seen.append)

    assert await leader.publish(Board("floor", 1)) is True

    # resync_interval is 30 s, so arriving within 2 s means the change signal carried it.
    await eventually(lambda: follower.latest() == Board("floor", 1), within=2)
    assert seen == [Board("floor", 1)]
    assert leader.latest() == follower.latest()
    assert follower.last_remote_update is not None


async def test_followers_are_notified_only_on_change(make_store: StoreFactory) -> None:
    leader = await make_store()
    follower = await make_store()
    leader_seen: list[Board] = []
    follower_seen: list[Board] = []
    leader.subscribe(leader_seen.append)
    follower.subscribe(follower_seen.append)

    assert await leader.publish(Board("floor", 1)) is True
    await eventually(lambda: follower.latest() == Board("floor", 1), within=2)
    assert await leader.publish(Board("floor", 1)) is False
    assert await leader.publish(Board("floor", 2)) is True
    await eventually(lambda: follower.latest() == Board("floor", 2), within=2)

    # Messages arrive in order, so the equal publish in between would have shown up here.
    assert follower_seen == [Board("floor", 1), Board("floor", 2)]
    assert leader_seen == [Board("floor", 1), Board("floor", 2)]


async def test_health_only_updates_reach_every_latest_but_notify_once_per_change(
    make_store: StoreFactory,
) -> None:
    leader = await make_store()
    follower = await make_store()
    leader_seen: list[Board] = []
    follower_seen: list[Board] = []
    leader.subscribe(leader_seen.append)
    follower.subscribe(follower_seen.append)

    for polled, calls in enumerate([1, 1, 1, 2, 2], start=1):
        changed = await leader.publish(Board("floor", calls, polled=polled))
        assert changed is (polled in (1, 4))
        assert _polled(leader) == polled
        # resync_interval is 30 s: the doorbell rang for a health-only update too.
        await _wait_for_polled(follower, polled)

    assert contents(leader_seen) == [("floor", 1, 1), ("floor", 2, 4)]
    assert contents(follower_seen) == [("floor", 1, 1), ("floor", 2, 4)]
    late = await make_store()  # Redis holds the newest health, not the last content change
    assert _polled(late) == 5


async def test_the_bell_rings_only_when_the_bytes_change(
    make_store: StoreFactory, redis_server: RedisServer
) -> None:
    leader = await make_store()
    observer = connect_redis(redis_server.url)
    pubsub = observer.pubsub()
    rings: list[bytes] = []
    try:
        await pubsub.subscribe(f"{PREFIX}:changed")

        async def heard_two() -> bool:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.01)
            if message is not None:
                rings.append(message["data"])
            return len(rings) >= 2

        await leader.publish(Board("floor", 1, polled=1))
        await leader.publish(Board("floor", 1, polled=1))  # the very same bytes: no write
        await leader.publish(Board("floor", 1, polled=2))  # health moved: written, bell rung
        await eventually(heard_two, within=2)
        # Messages arrive in order, so a ring for the repeat would have come before the 2nd.
        assert len(rings) == 2
        assert await observer.get(f"{PREFIX}:snapshot") == BoardCodec().encode(
            Board("floor", 1, polled=2)
        )
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await observer.aclose()


async def test_a_follower_cannot_publish(make_store: StoreFactory) -> None:
    leader = await make_store()
    follower = await make_store()
    await leader.publish(Board("floor", 1))

    assert await follower.publish(Board("impostor", 99)) is False

    late = await make_store()  # loads the key: proves the impostor never reached Redis
    assert late.latest() == Board("floor", 1)


async def test_a_follower_loads_the_existing_snapshot_at_start(make_store: StoreFactory) -> None:
    leader = await make_store()
    await leader.publish(Board("floor", 7))

    late = await make_store()

    assert late.latest() == Board("floor", 7)  # right after start(), no waiting


async def test_a_deposed_leader_cannot_overwrite_the_snapshot(
    make_store: StoreFactory, redis_server: RedisServer
) -> None:
    # A long TTL: the leader does not renew (and notice) during the test.
    leader = await make_store(lock_ttl=30.0)
    await leader.publish(Board("floor", 1))
    observer = connect_redis(redis_server.url)
    try:
        await observer.set(f"{PREFIX}:leader", b"someone-else")

        assert leader.is_writer  # it does not know yet...
        assert await leader.publish(Board("stale", 2)) is False  # ...but the write is fenced
        assert await observer.get(f"{PREFIX}:snapshot") == BoardCodec().encode(Board("floor", 1))
        assert not leader.is_writer  # and the fenced write made it step down at once
        assert leader.latest() == Board("floor", 1)
    finally:
        await observer.aclose()


async def test_closing_the_leader_hands_over_to_a_follower(make_store: StoreFactory) -> None:
    leader = await make_store()
    follower = await make_store()
    await leader.publish(Board("floor", 1))
    await eventually(lambda: follower.latest() == Board("floor", 1), within=2)

    await leader.close()

    await eventually(lambda: follower.is_writer, within=1.0)
    assert await follower.publish(Board("floor", 2)) is True


async def test_an_undecodable_snapshot_keeps_the_last_good_one(
    make_store: StoreFactory, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    leader = await make_store(lock_ttl=30.0)
    follower = await make_store(lock_ttl=30.0)
    await leader.publish(Board("floor", 1))
    await eventually(lambda: follower.latest() == Board("floor", 1), within=2)
    intruder = connect_redis(redis_server.url)
    try:
        with caplog.at_level(logging.ERROR, logger="wallboard.cache.redis_backend"):
            await intruder.set(f"{PREFIX}:snapshot", b"not json")
            await intruder.publish(f"{PREFIX}:changed", b"intruder:1")
            await intruder.publish(f"{PREFIX}:changed", b"intruder:2")
            await eventually(lambda: _count(caplog, logging.ERROR) >= 1, within=2)
    finally:
        await intruder.aclose()

    assert follower.latest() == Board("floor", 1)
    await leader.publish(Board("floor", 2))
    await eventually(lambda: follower.latest() == Board("floor", 2), within=2)
    assert _count(caplog, logging.ERROR) == 1  # logged once, not per message


async def test_the_stores_survive_a_redis_restart(
    make_store: StoreFactory, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wallboard.cache.redis_backend")
    first = await make_store(resync_interval=0.2)
    second = await make_store(resync_interval=0.2)
    await first.publish(Board("floor", 1))
    await eventually(lambda: second.latest() == Board("floor", 1), within=2)

    redis_server.kill()
    await eventually(lambda: not first.connected and not second.connected, within=3)
    assert first.latest() == second.latest() == Board("floor", 1)  # the last good snapshot
    redis_server.start()  # same port, empty: no snapshot, no lock

    await eventually(lambda: first.connected and second.connected, within=3)
    writer = await _wait_for_real_leader(redis_server, first, second)
    reader = second if writer is first else first
    assert await writer.publish(Board("floor", 2)) is True
    await eventually(lambda: reader.latest() == Board("floor", 2), within=2)

    # One ERROR per store when Redis went away, one INFO per store when it came back.
    assert _count(caplog, logging.ERROR) == 2
    recoveries = [r for r in caplog.records if "reachable again" in r.getMessage()]
    assert len(recoveries) == 2


async def test_a_leader_rewrites_its_snapshot_when_redis_lost_it(
    make_store: StoreFactory, redis_server: RedisServer
) -> None:
    leader = await make_store()
    await leader.publish(Board("floor", 1))
    redis_server.restart()  # the key and the lock are gone
    await _wait_for_real_leader(redis_server, leader)

    # The same snapshot again: unchanged for local readers, but Redis lost it, so it is written.
    assert await leader.publish(Board("floor", 1)) is False
    late = await make_store()
    assert late.latest() == Board("floor", 1)


async def test_redis_leadership_is_followable_and_the_constructor_callback_still_works(
    make_store: StoreFactory, redis_server: RedisServer
) -> None:
    leader = await make_store()
    legacy: list[bool] = []
    follower = RedisSnapshotStore(
        connect_redis(redis_server.url, timeout=0.3),
        BoardCodec(),
        prefix=PREFIX,
        lock_ttl=1.0,
        on_leadership_change=legacy.append,
    )
    poller: list[bool] = []
    alerts: list[bool] = []
    follower.leadership.subscribe(poller.append)
    follower.leadership.subscribe(alerts.append)
    try:
        await follower.start()
        assert not follower.leadership.is_leader
        assert leader.leadership.is_leader

        await leader.close()
        await eventually(lambda: follower.leadership.is_leader, within=1.0)
        assert follower.is_writer
    finally:
        await follower.close()

    assert legacy == poller == alerts == [True, False]


async def _wait_for_real_leader(
    redis_server: RedisServer, *stores: RedisSnapshotStore[Board], within: float = 3.0
) -> RedisSnapshotStore[Board]:
    """The store whose token is the lock's value in Redis (not merely one that believes it)."""
    observer = connect_redis(redis_server.url)
    found: list[RedisSnapshotStore[Board]] = []

    async def someone_holds_it() -> bool:
        holder = await observer.get(f"{PREFIX}:leader")
        found[:] = [s for s in stores if holder is not None and s.election.fencing_token == holder]
        return bool(found)

    try:
        await eventually(someone_holds_it, within=within, what="a store holds the leader lock")
    finally:
        await observer.aclose()
    return found[0]


async def _wait_for_polled(store: RedisSnapshotStore[Board], polled: int) -> None:
    await eventually(lambda: _polled(store) == polled, within=2, what=f"polled == {polled}")


def _polled(store: RedisSnapshotStore[Board]) -> int | None:
    latest = store.latest()
    return None if latest is None else latest.polled


def _count(caplog: pytest.LogCaptureFixture, level: int) -> int:
    return sum(
        1
        for record in caplog.records
        if record.levelno == level and record.name == "wallboard.cache.redis_backend"
    )
