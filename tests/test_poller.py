"""The poller alone: only writer, warm-up before the first publish, errors kept per source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon import FakeClock
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.waiting import eventually
from wallboard.cache import MemorySnapshotStore, SqliteHistoryStore
from wallboard.poller import Poller, PollPlan
from wallboard.snapshot import Snapshot, utcnow
from wallboard.vicidial.client import VicidialClient


@asynccontextmanager
async def poller_on(
    tmp_path: Path,
    plan: PollPlan,
    *,
    clock: FakeClock | None = None,
    every_campaign: bool = False,
) -> AsyncIterator[tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]]]:
    """A poller over real HTTP to a fresh simulator, with a SQLite history in ``tmp_path``.

    ``every_campaign`` tracks all the simulator's campaigns instead of ``plan.campaigns``;
    without ``clock`` the poller reads the real one (for tests that run the scheduler).
    """
    async with running_simulator(seed=2) as sim, aiohttp.ClientSession() as session:
        client = VicidialClient(
            session, url=sim.base_url, user=sim.user, password=sim.password, timeout=1, retries=0
        )
        if every_campaign:
            campaigns = tuple(c["id"] for c in (await sim.state())["campaigns"])
            plan = replace(plan, campaigns=campaigns)
        store: MemorySnapshotStore[Snapshot] = MemorySnapshotStore()
        history = SqliteHistoryStore(tmp_path / "h.db")
        poller = Poller(client, store, history, plan, clock=clock or utcnow)
        try:
            yield sim, poller, store
        finally:
            await poller.stop()
            await history.close()


@pytest.fixture
async def parts(
    tmp_path: Path,
) -> AsyncIterator[tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]]]:
    plan = PollPlan(campaigns=("SALES1", "SALES2"), history_days=3, history_throttle=0)
    async with poller_on(tmp_path, plan, clock=FakeClock(DEFAULT_START)) as parts:
        yield parts


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


# -- issue 8: trustworthy data ----------------------------------------------------------------

CUT_KINDS = ["truncated", "no_newline"]
CUT_SOURCES = ["logged_in_agents", "call_status_stats", "campaigns_list", "hopper_list"]


@pytest.mark.parametrize("kind", CUT_KINDS)
@pytest.mark.parametrize("function", CUT_SOURCES)
async def test_a_cut_answer_is_rejected_and_the_last_good_data_kept(
    parts: tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]], function: str, kind: str
) -> None:
    sim, poller, store = parts
    await _cut_is_rejected(sim, poller, store, function, kind)


@pytest.mark.parametrize("function", ["call_status_stats", "campaigns_list"])
async def test_an_answer_cut_at_a_row_boundary_is_caught_where_the_format_allows(
    tmp_path: Path, function: str
) -> None:
    """Every campaign must have its line: half the lines missing is an error, not fewer
    campaigns. (A ``logged_in_agents`` or ``hopper_list`` cut after a whole row cannot be
    told from a smaller floor: nothing in those formats says how many rows must come.)"""
    plan = PollPlan(campaigns=(), history_days=1)
    clock = FakeClock(DEFAULT_START)
    async with poller_on(tmp_path, plan, clock=clock, every_campaign=True) as parts:
        await _cut_is_rejected(*parts, function, "truncated_row")


async def _cut_is_rejected(
    sim: SimHandle,
    poller: Poller,
    store: MemorySnapshotStore[Snapshot],
    function: str,
    kind: str,
) -> None:
    await poller.poll_all()
    before = store.latest()
    assert before is not None
    await sim.add_fault(function, kind)
    await poller.poll(function)
    status = poller.statuses[function]
    assert not status.ok, f"a {kind} {function} answer passed as good data"
    assert status.error_kind == "parse", status.last_error
    after = store.latest()
    assert after is not None
    assert after == before, "the figures on show must be the last good ones"


async def test_a_rejected_login_stops_every_source_until_one_probe_succeeds(
    tmp_path: Path,
) -> None:
    plan = PollPlan(campaigns=("SALES1", "SALES2"), login_retry=120, lock_retry=900)
    clock = FakeClock(DEFAULT_START)
    async with poller_on(tmp_path, plan, clock=clock) as (sim, poller, store):
        await poller.poll_all()
        await sim.add_fault("logged_in_agents", "login")
        await poller.poll("logged_in_agents")
        snapshot = store.latest()
        assert snapshot is not None
        assert snapshot.login_block is not None
        assert snapshot.login_block.cause == "bad_credentials"
        assert sim.password not in repr(snapshot)
        sent = await _authenticated_requests(sim)
        for _ in range(3):  # 90 s of every schedule: nothing authenticated goes out
            clock.advance(30)
            await poller.poll_all()
        assert await _authenticated_requests(sim) == sent, "only version may be polled"
        assert all(s.error_kind == "login" for n, s in poller.statuses.items() if n != "version")
        # A restarted poller remembers the breaker and does not probe early.
        again = Poller(poller._client, store, poller._history, plan, clock=clock)
        await again._restore()
        assert again.compose().login_block is not None
        clock.advance(31)  # 121 s after the login error: one probe is due
        sent = (await sim.requests())["total"]
        await poller.poll("call_status_stats")
        await poller.poll("logged_in_agents")
        assert (await sim.requests())["total"] - sent == 2, "probe, then resumed"
        snapshot = store.latest()
        assert snapshot is not None
        assert snapshot.login_block is None
        assert poller.statuses["logged_in_agents"].ok


async def _authenticated_requests(sim: SimHandle) -> int:
    """API requests that need a login (every function but ``version``)."""
    counts = await sim.requests()
    return int(counts["total"]) - int(counts["by_function"].get("version", 0))


async def test_the_lock_answer_waits_for_the_lock_to_expire(tmp_path: Path) -> None:
    plan = PollPlan(campaigns=("SALES1",), login_retry=120, lock_retry=900)
    clock = FakeClock(DEFAULT_START)
    async with poller_on(tmp_path, plan, clock=clock) as (sim, poller, store):
        await poller.poll_all()
        await sim.add_fault("call_status_stats", "lock")
        await poller.poll("call_status_stats")
        snapshot = store.latest()
        assert snapshot is not None
        assert snapshot.login_block is not None
        assert snapshot.login_block.cause == "locked"
        assert snapshot.login_block.next_probe == clock.now + timedelta(seconds=900)
        clock.advance(600)
        sent = (await sim.requests())["total"]
        await poller.poll("campaigns_list")
        assert (await sim.requests())["total"] == sent, "no probe before the lock expires"


async def test_a_static_dialer_publishes_one_change_while_health_moves(
    parts: tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]],
) -> None:
    _, poller, store = parts
    await poller.poll_all()
    changes: list[Snapshot] = []
    store.subscribe(changes.append)
    clock = poller._clock
    assert isinstance(clock, FakeClock)
    first = store.latest()
    assert first is not None
    for _ in range(20):  # 10 minutes of a frozen world, every source polled each 30 s
        clock.advance(30)
        await poller.poll_all()
    assert changes == [], "nothing changed on the floor: no reader is woken"
    latest = store.latest()
    assert latest is not None
    assert latest.taken_at == clock.now, "the health still moved"
    assert latest.age_seconds(clock.now) == 0
    assert not latest.stale(clock.now)


async def test_time_in_state_survives_a_restart(
    parts: tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot]], tmp_path: Path
) -> None:
    _, poller, _ = parts
    clock = poller._clock
    assert isinstance(clock, FakeClock)
    await poller.poll_all()
    clock.advance(30)
    await poller.poll("logged_in_agents")
    before = {a.user: (a.state_since, a.state_since_exact) for a in poller.compose().agents}
    assert before
    assert not any(exact for _, exact in before.values()), (
        "agents already in their state at start-up have a lower bound, not a fact"
    )
    clock.advance(20)  # the daemon restarts 20 s later: same history store, new poller
    again = Poller(
        poller._client, MemorySnapshotStore(), poller._history, poller._plan, clock=clock
    )
    await again._restore()
    await again.poll_all()
    after = {a.user: (a.state_since, a.state_since_exact) for a in again.compose().agents}
    assert after == before


async def test_a_stretched_hopper_cycle_stays_fresh(tmp_path: Path) -> None:
    plan = PollPlan(campaigns=tuple(f"C{i}" for i in range(100)))
    async with aiohttp.ClientSession() as session:
        client = VicidialClient(session, url="http://127.0.0.1:9", user="u", password="p")
        poller = Poller(client, MemorySnapshotStore(), SqliteHistoryStore(tmp_path / "h.db"), plan)
        budget = poller.budget
        hopper_per_minute = 60 / budget.hopper_spacing
        assert budget.priority_per_minute + hopper_per_minute + 0.1 <= 20
        assert poller.statuses["hopper_list"].interval == budget.hopper_interval


async def test_a_slow_source_that_failed_at_start_up_is_retried_soon(tmp_path: Path) -> None:
    """``version`` (every 10 minutes) and a hopper that fail in a dialer blip at start-up are
    retried within the shortest poll interval, not after their own."""
    plan = PollPlan(
        campaigns=("SALES1",),
        agents_interval=2,
        stats_interval=600,
        campaigns_interval=600,
        hopper_interval=600,
        version_interval=600,
        jitter=0,
        history_days=1,
    )
    async with poller_on(tmp_path, plan) as (sim, poller, _):
        await sim.add_fault("version", "http_500")
        await sim.add_fault("hopper_list", "reset")
        await poller.start()
        assert not poller.statuses["version"].ok

        def recovered() -> bool:
            return poller.statuses["version"].ok and poller.statuses["hopper_list"].ok

        # The shortest interval is 2 s: the first retry comes within it, not in 10 minutes.
        await eventually(recovered, within=2.0 + 1.5, what="version and hopper retried")
