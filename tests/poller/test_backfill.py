"""The 30-day window's past days: fetched once, paced, and never stored from a cut answer."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.support.sim import running_simulator
from wallboard.cache import SqliteHistoryStore
from wallboard.poller.backfill import HistoryBackfill
from wallboard.vicidial.client import VicidialClient
from wallboard.vicidial.errors import ParseError

TODAY = date(2025, 9, 3)  # the simulator's default day
NOON = timedelta(hours=12)


async def test_past_days_are_paced_by_the_throttle_and_the_budget_gate(tmp_path: Path) -> None:
    slept: list[float] = []
    gates: list[int] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def gate() -> None:
        gates.append(1)

    async with running_simulator(seed=4) as sim, aiohttp.ClientSession() as session:
        client = VicidialClient(session, url=sim.base_url, user=sim.user, password=sim.password)
        store = SqliteHistoryStore(tmp_path / "h.db")
        try:
            backfill = HistoryBackfill(client, store, days=4, gate=gate, throttle=0.5, sleep=sleep)
            assert await backfill.refresh(["SALES1", "SALES2"], TODAY, NOON) == 3
            assert slept == [0.5, 0.5], "a pause between two past days, none before the first"
            assert len(gates) == 3, "every request asks the budget (and the login breaker)"
            assert backfill.day == TODAY
            assert backfill.windows["SALES1"].days == 3
            assert await backfill.refresh(["SALES1", "SALES2"], TODAY, NOON) == 0
        finally:
            await store.close()


async def test_a_past_day_cut_at_a_row_boundary_is_not_stored(tmp_path: Path) -> None:
    async def gate() -> None:
        return None

    async with running_simulator(seed=4) as sim, aiohttp.ClientSession() as session:
        client = VicidialClient(
            session, url=sim.base_url, user=sim.user, password=sim.password, retries=0
        )
        store = SqliteHistoryStore(tmp_path / "h.db")
        try:
            campaigns = [c["id"] for c in (await sim.state())["campaigns"]]
            backfill = HistoryBackfill(client, store, days=2, gate=gate)
            await sim.add_fault("call_status_stats", "truncated_row")
            with pytest.raises(ParseError):
                await backfill.refresh(campaigns, TODAY, NOON)
            yesterday = TODAY - timedelta(days=1)
            missing = await store.missing_days(campaigns, yesterday, yesterday)
            assert missing == [yesterday], "nothing of the cut answer was kept as zeros"
            assert await backfill.refresh(campaigns, TODAY, NOON) == 1, "fetched again, whole"
        finally:
            await store.close()
