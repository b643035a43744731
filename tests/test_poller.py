"""The poller alone: only writer, warm-up before the first publish, errors kept per source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon import FakeClock
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from wallboard.cache import MemorySnapshotStore, SqliteHistoryStore
from wallboard.poller import Poller, PollPlan
from wallboard.snapshot import Snapshot
from wallboard.vicidial.client import VicidialClient


@pytest.fixture
async def parts(
    tmp_path: Path,
) -> AsyncIterator[tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]]]:
    async with running_simulator(seed=2) as sim, aiohttp.ClientSession() as session:
        client = VicidialClient(
            session, url=sim.base_url, user=sim.user, password=sim.password, timeout=1, retries=0
        )
        store: MemorySnapshotStore[Snapshot] = MemorySnapshotStore()
        history = SqliteHistoryStore(tmp_path / "h.db")
        plan = PollPlan(campaigns=("SALES1", "SALES2"), history_days=3, history_throttle=0)
        poller = Poller(client, store, history, plan, clock=FakeClock(DEFAULT_START))
        try:
            yield sim, poller, store
        finally:
            await history.close()


async def test_nothing_is_published_until_every_source_was_tried(
    parts: tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]],
) -> None:
    _, poller, store = parts
    names = list(poller.statuses)
    for name in names[:-1]:
        await poller.poll(name)
        assert store.latest() is None, f"published a half-built snapshot after {name}"
    await poller.poll(names[-1])
    snapshot = store.latest()
    assert snapshot is not None
    assert [c.id for c in snapshot.campaigns] == ["SALES1", "SALES2"]
    assert all(s.ok for s in snapshot.sources)


async def test_changes_are_published_only_when_the_snapshot_changed(
    parts: tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]],
) -> None:
    sim, poller, store = parts
    await poller.poll_all()
    seen: list[Snapshot] = []
    store.subscribe(seen.append)
    assert await poller.publish() is False, "same data, same clock: no change, no push"
    assert seen == []
    await sim.steer("SALES1", answered_today=500, dropped_today=20)
    await poller.poll("call_status_stats")
    assert len(seen) == 1
    sales1 = seen[0].campaign("SALES1")
    assert sales1 is not None
    assert (sales1.today.answered, sales1.today.dropped) == (500, 20)


async def test_the_history_is_fetched_once_per_missing_day(
    parts: tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]],
) -> None:
    _, poller, _ = parts
    await poller.poll_all()
    assert await poller.refresh_history() == 2  # history_days=3: two past days
    assert await poller.refresh_history() == 0
    snapshot = poller.compose()
    sales2 = snapshot.campaign("SALES2")
    assert sales2 is not None
    assert sales2.last_30d.days == 3
