"""Both history stores (SQLite file, real Redis): upsert, ranges, missing days, reopening."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer
from wallboard.cache import (
    DayTotals,
    HistoryStore,
    HistoryStoreError,
    RedisHistoryStore,
    SqliteHistoryStore,
    connect_redis,
)

PREFIX = "wb-test"
Opener = Callable[[], Awaitable[HistoryStore]]

D1, D2, D3, D4 = (date(2026, 11, day) for day in (1, 2, 3, 4))


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens (and reopens) a store over the same durable data; closes them all after."""
    opened: list[HistoryStore] = []
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")

        async def open_redis() -> HistoryStore:
            return RedisHistoryStore(connect_redis(server.url), PREFIX)

        opener = open_redis
    else:

        async def open_sqlite() -> HistoryStore:
            return SqliteHistoryStore(tmp_path / "state" / "wallboard.db")

        opener = open_sqlite

    async def open_and_start() -> HistoryStore:
        store = await opener()
        opened.append(store)
        await store.start()
        return store

    yield open_and_start
    for store in opened:
        await store.close()


async def test_get_returns_the_inclusive_range_for_the_asked_campaigns(open_store: Opener) -> None:
    store = await open_store()
    await store.put(
        [
            DayTotals("SALES1", D1, 100, 40, 1),
            DayTotals("SALES1", D2, 110, 44, 2),
            DayTotals("SALES2", D2, 50, 20, 0),
            DayTotals("SALES1", D4, 90, 30, 3),
            DayTotals("OTHER", D2, 1, 1, 1),
        ]
    )

    rows = await store.get(["SALES2", "SALES1"], D1, D3)

    assert rows == [
        DayTotals("SALES1", D1, 100, 40, 1),
        DayTotals("SALES1", D2, 110, 44, 2),
        DayTotals("SALES2", D2, 50, 20, 0),
    ]
    assert await store.get([], D1, D4) == []
    assert await store.get(["SALES1"], D3, D1) == []


async def test_put_replaces_an_existing_day(open_store: Opener) -> None:
    store = await open_store()
    await store.put([DayTotals("SALES1", D1, 100, 40, 1)])
    await store.put([DayTotals("SALES1", D1, 120, 50, 2)])

    assert await store.get(["SALES1"], D1, D1) == [DayTotals("SALES1", D1, 120, 50, 2)]


async def test_missing_days_are_those_where_any_campaign_lacks_a_row(open_store: Opener) -> None:
    store = await open_store()
    await store.put(
        [
            DayTotals("SALES1", D1, 100, 40, 1),
            DayTotals("SALES2", D1, 80, 30, 0),
            DayTotals("SALES1", D2, 100, 40, 1),  # SALES2 lacks D2
            DayTotals("SALES1", D3, 0, 0, 0),  # fetched, nobody called: not missing
            DayTotals("SALES2", D3, 0, 0, 0),
        ]
    )

    assert await store.missing_days(["SALES1", "SALES2"], D1, D4) == [D2, D4]
    assert await store.missing_days(["SALES1"], D1, D3) == []
    assert await store.missing_days(["NEW"], D1, D2) == [D1, D2]
    assert await store.missing_days([], D1, D4) == []
    assert await store.missing_days(["SALES1"], D4, D1) == []


async def test_days_and_values_survive_reopening(open_store: Opener) -> None:
    first = await open_store()
    await first.put([DayTotals("SALES1", D1, 100, 40, 1), DayTotals("SALES1", D2, 0, 0, 0)])
    await first.set_value("alerts/outbox", b"\x00pending\xff")
    await first.close()

    reopened = await open_store()

    assert await reopened.get(["SALES1"], D1, D2) == [
        DayTotals("SALES1", D1, 100, 40, 1),
        DayTotals("SALES1", D2, 0, 0, 0),
    ]
    assert await reopened.missing_days(["SALES1"], D1, D2) == []
    assert await reopened.get_value("alerts/outbox") == b"\x00pending\xff"


async def test_values_are_set_replaced_and_absent_as_none(open_store: Opener) -> None:
    store = await open_store()
    assert await store.get_value("nothing") is None

    await store.set_value("state", b"one")
    await store.set_value("state", b"two")

    assert await store.get_value("state") == b"two"


async def test_values_are_deleted_and_deleting_an_absent_one_is_harmless(
    open_store: Opener,
) -> None:
    store = await open_store()
    await store.set_value("agents/state_since", b"{}")
    await store.set_value("vicidial/login_breaker", b'{"cause": "locked"}')

    await store.delete_value("vicidial/login_breaker")
    await store.delete_value("vicidial/login_breaker")
    await store.delete_value("never-set")

    assert await store.get_value("vicidial/login_breaker") is None
    assert await store.get_value("agents/state_since") == b"{}"
    reopened = await open_store()  # the delete is durable too
    assert await reopened.get_value("vicidial/login_breaker") is None


async def test_a_few_hundred_kilobytes_of_json_round_trip_and_are_replaced_whole(
    open_store: Opener,
) -> None:
    # The time-in-state map of a large floor: ~10,000 agents, a few hundred KB of JSON.
    states = {
        f"agent{n:05d}": ["incall", f"2026-11-04T10:{n % 60:02d}:00+00:00"] for n in range(10_000)
    }
    big = json.dumps(states).encode()
    assert len(big) > 300_000
    store = await open_store()

    await store.set_value("agents/state_since", big)
    await store.set_value("agents/state_since", big[:-1] + b" }")  # replaced, not appended
    await store.set_value("agents/state_since", big)
    reopened = await open_store()

    assert await reopened.get_value("agents/state_since") == big
    assert json.loads(await reopened.get_value("agents/state_since") or b"") == states


def test_day_totals_reject_negative_counts_and_empty_ids() -> None:
    with pytest.raises(ValueError, match="dropped"):
        DayTotals("SALES1", D1, 10, 5, -1)
    with pytest.raises(ValueError, match="campaign_id"):
        DayTotals("", D1, 10, 5, 1)


# -- SQLite specifics -------------------------------------------------------------------------


async def test_sqlite_uses_wal_and_records_its_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    store = SqliteHistoryStore(path)
    await store.start()
    await store.put([DayTotals("SALES1", D1, 1, 1, 0)])
    await store.close()

    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
        (fetched_at,) = connection.execute("SELECT fetched_at FROM day_totals").fetchone()
        assert fetched_at.endswith("+00:00")
    finally:
        connection.close()


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()

    store = SqliteHistoryStore(path)
    with pytest.raises(HistoryStoreError, match="schema version 99"):
        await store.start()
    await store.close()


async def test_sqlite_errors_surface_as_history_store_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    store = SqliteHistoryStore(blocker / "wallboard.db")

    with pytest.raises(HistoryStoreError):
        await store.get(["SALES1"], D1, D2)

    await store.close()
    with pytest.raises(HistoryStoreError, match="closed"):
        await store.get(["SALES1"], D1, D2)


# -- Redis specifics --------------------------------------------------------------------------


async def test_redis_layout_is_one_hash_per_campaign(redis_server: RedisServer) -> None:
    store = RedisHistoryStore(connect_redis(redis_server.url), PREFIX)
    observer = connect_redis(redis_server.url)
    try:
        await store.put([DayTotals("SALES1", D1, 100, 40, 1)])
        assert await observer.hgetall(f"{PREFIX}:history:SALES1") == {b"2026-11-01": b"100,40,1"}
    finally:
        await observer.aclose()
        await store.close()


async def test_redis_unreadable_entry_counts_as_missing(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisHistoryStore(connect_redis(redis_server.url), PREFIX)
    observer = connect_redis(redis_server.url)
    try:
        await store.put([DayTotals("SALES1", D1, 100, 40, 1)])
        await observer.hset(f"{PREFIX}:history:SALES1", "2026-11-02", "garbage")
        with caplog.at_level(logging.WARNING):
            assert await store.missing_days(["SALES1"], D1, D2) == [D2]
        assert any("fetched again" in r.getMessage() for r in caplog.records)
    finally:
        await observer.aclose()
        await store.close()


async def test_redis_down_surfaces_as_history_store_error(redis_server: RedisServer) -> None:
    store = RedisHistoryStore(connect_redis(redis_server.url, timeout=0.2), PREFIX)
    redis_server.kill()
    try:
        with pytest.raises(HistoryStoreError):
            await store.start()
        with pytest.raises(HistoryStoreError):
            await store.put([DayTotals("SALES1", D1, 1, 1, 0)])
        with pytest.raises(HistoryStoreError):
            await store.get_value("state")
        with pytest.raises(HistoryStoreError):
            await store.set_value("state", b"{}")
        with pytest.raises(HistoryStoreError):
            await store.delete_value("state")
    finally:
        await store.close()
