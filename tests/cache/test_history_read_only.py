"""The history store as ``wallboard ledger`` reads it: every stored day (SQLite file, real
Redis), and the SQLite file opened read-only (never created, migrated or written, beside a
daemon holding it open or after it stopped)."""

from __future__ import annotations

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


def files_in(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


async def written_file(path: Path, totals: list[DayTotals]) -> None:
    """A state file as a stopped daemon leaves it (closed: no ``-wal`` beside it)."""
    writer = SqliteHistoryStore(path)
    try:
        await writer.put(totals)
        await writer.set_value("anchors", b"{}")
    finally:
        await writer.close()


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens a writable store over one durable place; closes them all after."""
    opened: list[HistoryStore] = []

    async def open_and_start() -> HistoryStore:
        store: HistoryStore
        if request.param == "redis":
            server: RedisServer = request.getfixturevalue("redis_server")
            store = RedisHistoryStore(connect_redis(server.url), PREFIX)
        else:
            store = SqliteHistoryStore(tmp_path / "state" / "wallboard.db")
        opened.append(store)
        await store.start()
        return store

    yield open_and_start
    for store in opened:
        await store.close()


# -- stored_days on both backends --------------------------------------------------------------


async def test_stored_days_are_every_campaign_up_to_the_day_by_day_then_id(
    open_store: Opener,
) -> None:
    store = await open_store()
    assert await store.stored_days(D4) == []
    await store.put(
        [
            DayTotals("SALES2", D2, 50, 20, 0),
            DayTotals("SALES1", D4, 90, 30, 3),
            DayTotals("SALES1", D2, 110, 44, 2),
            DayTotals("OTHER", D1, 1, 1, 1),
            DayTotals("SALES1", D1, 100, 40, 1),
            DayTotals("SALES1", D3, 0, 0, 0),  # fetched, no calls: still a stored day
        ]
    )
    await store.set_value("period_anchors", b'{"SALES1": "2026-11-01"}')  # not a day row

    assert await store.stored_days(D3) == [
        DayTotals("OTHER", D1, 1, 1, 1),
        DayTotals("SALES1", D1, 100, 40, 1),
        DayTotals("SALES1", D2, 110, 44, 2),
        DayTotals("SALES2", D2, 50, 20, 0),
        DayTotals("SALES1", D3, 0, 0, 0),
    ]
    assert [row.day for row in await store.stored_days(D4)][-1] == D4  # inclusive
    assert await store.stored_days(date(2026, 10, 31)) == []


async def test_redis_stored_days_read_only_this_prefix_even_one_with_glob_characters(
    redis_server: RedisServer,
) -> None:
    """The SCAN pattern is the prefix taken literally: ``wb*`` must not read ``wbX``'s days."""
    ours = RedisHistoryStore(connect_redis(redis_server.url), "wb*")
    theirs = RedisHistoryStore(connect_redis(redis_server.url), "wbX")
    try:
        await ours.put([DayTotals("SALES1", D1, 10, 5, 0)])
        await theirs.put([DayTotals("SALES9", D1, 99, 9, 9)])
        assert await ours.stored_days(D4) == [DayTotals("SALES1", D1, 10, 5, 0)]
        assert await theirs.stored_days(D4) == [DayTotals("SALES9", D1, 99, 9, 9)]
    finally:
        await ours.close()
        await theirs.close()


async def test_redis_stored_days_skip_what_the_store_did_not_write(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisHistoryStore(connect_redis(redis_server.url), PREFIX)
    raw = connect_redis(redis_server.url)
    try:
        await store.put([DayTotals("SALES1", D1, 10, 5, 0), DayTotals("SALES1", D2, 20, 6, 1)])
        await raw.hset(f"{PREFIX}:history:SALES1", "note", "by hand")
        await raw.hset(f"{PREFIX}:history:SALES1", D2.isoformat(), "garbled")
        with caplog.at_level(logging.WARNING, logger="wallboard.cache.history"):
            assert await store.stored_days(D4) == [DayTotals("SALES1", D1, 10, 5, 0)]
        assert "unreadable history entry" in caplog.text
    finally:
        await raw.aclose()
        await store.close()


async def test_redis_stored_days_fail_as_a_history_error_when_redis_is_down(
    redis_server: RedisServer,
) -> None:
    store = RedisHistoryStore(connect_redis(redis_server.url, timeout=0.5), PREFIX)
    try:
        redis_server.kill()
        with pytest.raises(HistoryStoreError, match="history store in Redis"):
            await store.stored_days(D4)
    finally:
        await store.close()


# -- SQLite read-only ---------------------------------------------------------------------------


async def test_read_only_on_a_missing_file_says_what_to_check_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "typo" / "wallboard.db"
    store = SqliteHistoryStore(path, read_only=True)
    try:
        with pytest.raises(HistoryStoreError, match="does not exist") as raised:
            await store.stored_days(D4)
        assert "is state.path right?" in str(raised.value)
        with pytest.raises(HistoryStoreError, match="does not exist"):
            await store.start()
    finally:
        await store.close()
    assert files_in(tmp_path) == set()  # not even the directory


async def test_read_only_on_a_file_without_day_history_says_so_and_does_not_migrate(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wallboard.db"
    with sqlite3.connect(path) as connection:  # e.g. only another store's tables so far
        connection.execute("CREATE TABLE other (x)")
    connection.close()
    before = path.read_bytes()
    store = SqliteHistoryStore(path, read_only=True)
    try:
        with pytest.raises(HistoryStoreError, match="holds no day history"):
            await store.stored_days(D4)
    finally:
        await store.close()
    assert path.read_bytes() == before
    assert files_in(tmp_path) == {"wallboard.db"}


async def test_read_only_on_a_newer_schema_names_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    await written_file(path, [DayTotals("SALES1", D1, 10, 5, 0)])
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 7")
    connection.close()
    store = SqliteHistoryStore(path, read_only=True)
    try:
        with pytest.raises(HistoryStoreError, match="schema version 7, this wallboard reads 1"):
            await store.get(["SALES1"], D1, D1)
    finally:
        await store.close()


async def test_read_only_reads_a_stopped_daemons_file_without_side_files(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    await written_file(path, [DayTotals("SALES1", D2, 20, 6, 1), DayTotals("SALES1", D1, 10, 5, 0)])
    before = path.read_bytes()
    store = SqliteHistoryStore(path, read_only=True)
    try:
        await store.start()
        assert await store.stored_days(D4) == [
            DayTotals("SALES1", D1, 10, 5, 0),
            DayTotals("SALES1", D2, 20, 6, 1),
        ]
        assert await store.get(["SALES1"], D2, D2) == [DayTotals("SALES1", D2, 20, 6, 1)]
        assert await store.missing_days(["SALES1"], D1, D3) == [D3]
        assert await store.get_value("anchors") == b"{}"
        assert files_in(tmp_path) == {"wallboard.db"}  # no -wal / -shm left by the reader
    finally:
        await store.close()
    assert path.read_bytes() == before


async def test_every_write_on_a_read_only_store_fails_clearly_and_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wallboard.db"
    await written_file(path, [DayTotals("SALES1", D1, 10, 5, 0)])
    before = path.read_bytes()
    store = SqliteHistoryStore(path, read_only=True)
    try:
        assert store.read_only
        writes: list[Callable[[], Awaitable[None]]] = [
            lambda: store.put([DayTotals("SALES1", D2, 1, 1, 1)]),
            lambda: store.put([]),
            lambda: store.set_value("anchors", b"changed"),
            lambda: store.delete_value("anchors"),
        ]
        for write in writes:
            with pytest.raises(HistoryStoreError, match="is open read-only"):
                await write()
        assert await store.stored_days(D4) == [DayTotals("SALES1", D1, 10, 5, 0)]
        assert await store.get_value("anchors") == b"{}"
    finally:
        await store.close()
    assert path.read_bytes() == before
    assert files_in(tmp_path) == {"wallboard.db"}


async def test_read_only_beside_a_writer_holding_the_file_sees_every_committed_row(
    tmp_path: Path,
) -> None:
    """A running daemon keeps its connection (and so the ``-wal``) open: the reader joins the
    WAL instead of reading the file as immutable, so rows committed after it opened show too."""
    path = tmp_path / "wallboard.db"
    writer = SqliteHistoryStore(path)
    reader = SqliteHistoryStore(path, read_only=True)
    try:
        await writer.put([DayTotals("SALES1", D1, 10, 5, 0)])
        assert (tmp_path / "wallboard.db-wal").exists()
        assert await reader.stored_days(D4) == [DayTotals("SALES1", D1, 10, 5, 0)]

        await writer.put([DayTotals("SALES2", D1, 7, 3, 0), DayTotals("SALES1", D2, 20, 6, 1)])
        await writer.set_value("anchors", b'{"SALES1": "2026-11-01"}')
        assert await reader.stored_days(D4) == [
            DayTotals("SALES1", D1, 10, 5, 0),
            DayTotals("SALES2", D1, 7, 3, 0),
            DayTotals("SALES1", D2, 20, 6, 1),
        ]
        assert await reader.get_value("anchors") == b'{"SALES1": "2026-11-01"}'
    finally:
        await reader.close()
        await writer.close()
