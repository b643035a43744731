"""The in-process store: notify only on a content change, health still moves, leadership."""

from __future__ import annotations

import logging

import pytest

from tests.cache.helpers import Board, contents
from wallboard.cache import MemorySnapshotStore


async def test_publish_notifies_only_when_the_snapshot_changes() -> None:
    store: MemorySnapshotStore[Board] = MemorySnapshotStore()
    seen: list[Board] = []
    store.subscribe(seen.append)
    assert store.latest() is None

    assert await store.publish(Board("floor", 1)) is True
    assert await store.publish(Board("floor", 1)) is False  # equal, though another object
    assert await store.publish(Board("floor", 2)) is True

    assert seen == [Board("floor", 1), Board("floor", 2)]
    assert store.latest() == Board("floor", 2)


async def test_health_only_updates_become_latest_but_notify_nobody() -> None:
    store: MemorySnapshotStore[Board] = MemorySnapshotStore()
    seen: list[Board] = []
    store.subscribe(seen.append)

    assert await store.publish(Board("floor", 1, polled=1)) is True
    assert await store.publish(Board("floor", 1, polled=2)) is False
    health_only = Board("floor", 1, polled=3)
    assert await store.publish(health_only) is False
    assert store.latest() is health_only  # the newest health, though nothing "changed"
    assert await store.publish(Board("floor", 2, polled=4)) is True
    assert await store.publish(Board("floor", 2, polled=5)) is False

    assert contents(seen) == [("floor", 1, 1), ("floor", 2, 4)]  # once per content change
    latest = store.latest()
    assert latest is not None
    assert latest.polled == 5


async def test_unsubscribe_stops_notifications_and_is_idempotent() -> None:
    store: MemorySnapshotStore[Board] = MemorySnapshotStore()
    kept: list[Board] = []
    dropped: list[Board] = []
    store.subscribe(kept.append)
    unsubscribe = store.subscribe(dropped.append)

    await store.publish(Board("floor", 1))
    unsubscribe()
    unsubscribe()
    await store.publish(Board("floor", 2))

    assert dropped == [Board("floor", 1)]
    assert kept == [Board("floor", 1), Board("floor", 2)]


async def test_the_same_callback_twice_is_two_subscriptions() -> None:
    store: MemorySnapshotStore[Board] = MemorySnapshotStore()
    seen: list[Board] = []
    first = store.subscribe(seen.append)
    store.subscribe(seen.append)

    await store.publish(Board("floor", 1))
    first()
    await store.publish(Board("floor", 2))

    assert seen == [Board("floor", 1), Board("floor", 1), Board("floor", 2)]


async def test_a_failing_callback_is_logged_and_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store: MemorySnapshotStore[Board] = MemorySnapshotStore()
    before: list[Board] = []
    after: list[Board] = []

    def broken(snapshot: Board) -> None:
        raise RuntimeError("subscriber bug")

    store.subscribe(before.append)
    store.subscribe(broken)
    store.subscribe(after.append)

    with caplog.at_level(logging.ERROR):
        assert await store.publish(Board("floor", 1)) is True

    assert before == after == [Board("floor", 1)]
    assert store.latest() == Board("floor", 1)
    failures = [r for r in caplog.records if "subscriber" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None


async def test_a_callback_may_unsubscribe_itself_while_being_notified() -> None:
    store: MemorySnapshotStore[Board] = MemorySnapshotStore()
    once: list[Board] = []
    others: list[Board] = []

    def first_only(snapshot: Board) -> None:
        once.append(snapshot)
        unsubscribe()

    unsubscribe = store.subscribe(first_only)
    store.subscribe(others.append)
    await store.publish(Board("floor", 1))
    await store.publish(Board("floor", 2))

    assert once == [Board("floor", 1)]
    assert others == [Board("floor", 1), Board("floor", 2)]


async def test_memory_store_is_always_the_writer_and_reports_leadership() -> None:
    changes: list[bool] = []
    store: MemorySnapshotStore[Board] = MemorySnapshotStore(on_leadership_change=changes.append)
    assert store.is_writer

    await store.start()
    await store.start()
    assert changes == [True]
    await store.close()
    assert changes == [True, False]


async def test_memory_leadership_is_followable_by_several_components(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store: MemorySnapshotStore[Board] = MemorySnapshotStore()
    poller: list[bool] = []
    alerts: list[bool] = []

    def broken(is_leader: bool) -> None:
        raise RuntimeError("subscriber bug")

    store.leadership.subscribe(poller.append)
    store.leadership.subscribe(broken)
    unsubscribe = store.leadership.subscribe(alerts.append)
    assert not store.leadership.is_leader

    with caplog.at_level(logging.ERROR):
        await store.start()
    assert store.leadership.is_leader
    unsubscribe()
    await store.close()

    assert poller == [True, False]
    assert alerts == [True]
    assert sum("leadership subscriber" in r.getMessage() for r in caplog.records) == 2


async def test_subscribing_to_leadership_does_not_replay_the_current_state() -> None:
    store: MemorySnapshotStore[Board] = MemorySnapshotStore()
    await store.start()
    late: list[bool] = []

    store.leadership.subscribe(late.append)

    assert late == []  # the caller reads is_leader instead
    assert store.leadership.is_leader
    await store.close()
    assert late == [False]
