"""``AlertStore.all_incidents`` (SQLite file, real Redis): every incident, open or closed, oldest
first, as ``wallboard ledger`` lists them; and the SQLite store read-only beside a writer."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer
from wallboard.alerts.store import (
    AlertStore,
    AlertStoreError,
    RedisAlertStore,
    SqliteAlertStore,
)
from wallboard.alerts.types import Incident, Kind, Level
from wallboard.cache import connect_redis

PREFIX = "wb-test"
Opener = Callable[[], Awaitable[AlertStore]]
T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def files_in(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def incident(campaign: str, minute: int, *, closed_after: int | None = None) -> Incident:
    at = T0 + timedelta(minutes=minute)
    opened = Incident(
        key=f"drop:{campaign}:today:2026-11-25",
        kind=Kind.DROP,
        campaign=campaign,
        window="today",
        severity=Level.WARNING,
        opened_at=at,
        updated_at=at,
        summary=f"{campaign} today 2.61 % (warning at 2.50 %)",
        peak=Level.WARNING,  # explicit, as the engine stores it: the codec writes the peak
    )
    if closed_after is None:
        return opened
    closed_at = at + timedelta(minutes=closed_after)
    return replace(opened, updated_at=closed_at, closed_at=closed_at, close_reason="resolved")


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens a writable store over one durable place; closes them all after."""
    opened: list[AlertStore] = []

    async def open_and_start() -> AlertStore:
        store: AlertStore
        if request.param == "redis":
            server: RedisServer = request.getfixturevalue("redis_server")
            store = RedisAlertStore(connect_redis(server.url), PREFIX)
        else:
            store = SqliteAlertStore(tmp_path / "state" / "wallboard.db")
        opened.append(store)
        await store.start()
        return store

    yield open_and_start
    for store in opened:
        await store.close()


async def test_all_incidents_are_open_and_closed_ones_oldest_first(open_store: Opener) -> None:
    store = await open_store()
    assert await store.all_incidents() == []
    late_open = incident("SALES3", minute=30)
    early_closed = incident("SALES1", minute=1, closed_after=10)
    tie_b = incident("SALESB", minute=5)
    tie_a = incident("SALESA", minute=5, closed_after=1)  # same instant: by key
    await store.commit(incidents=[late_open, tie_b])
    await store.commit(incidents=[early_closed, tie_a])

    assert await store.all_incidents() == [early_closed, tie_a, tie_b, late_open]
    assert await store.open_incidents() == [tie_b, late_open]  # unchanged: open ones only


async def test_all_incidents_hold_each_incident_as_last_stored(open_store: Opener) -> None:
    store = await open_store()
    first = incident("SALES1", minute=1)
    await store.put_incident(first)
    escalated = replace(first, severity=Level.CRITICAL, peak=Level.CRITICAL)
    closed = replace(escalated, closed_at=T0 + timedelta(hours=1), close_reason="day_ended")
    await store.put_incident(escalated)
    await store.put_incident(closed)

    assert await store.all_incidents() == [closed]
    assert await store.open_incidents() == []


async def test_an_unreadable_incident_is_an_error_naming_it_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    store = SqliteAlertStore(path)
    try:
        await store.put_incident(incident("SALES1", minute=1))
        writer = sqlite3.connect(path)
        with writer:
            writer.execute(
                "INSERT INTO alert_incidents (key, is_open, doc) VALUES ('drop:BAD', 0, '{')"
            )
        writer.close()
        with pytest.raises(AlertStoreError, match="unreadable incident drop:BAD"):
            await store.all_incidents()
    finally:
        await store.close()


async def test_an_unreadable_incident_is_an_error_naming_it_redis(
    redis_server: RedisServer,
) -> None:
    store = RedisAlertStore(connect_redis(redis_server.url), PREFIX)
    raw = connect_redis(redis_server.url)
    try:
        await store.put_incident(incident("SALES1", minute=1))
        await raw.hset(store.key("incidents"), "drop:BAD", b"not json")
        with pytest.raises(AlertStoreError, match="unreadable incident drop:BAD"):
            await store.all_incidents()
    finally:
        await raw.aclose()
        await store.close()


async def test_read_only_beside_a_writer_sees_every_committed_incident(tmp_path: Path) -> None:
    """The daemon holds the file open (its ``-wal`` is there): the reader joins the WAL, so
    incidents committed after it opened show too, and its own writes are refused."""
    path = tmp_path / "wallboard.db"
    writer = SqliteAlertStore(path)
    reader = SqliteAlertStore(path, read_only=True)
    try:
        first = incident("SALES1", minute=1)
        await writer.put_incident(first)
        assert (tmp_path / "wallboard.db-wal").exists()
        assert await reader.all_incidents() == [first]

        closed = replace(first, closed_at=T0 + timedelta(minutes=9), close_reason="resolved")
        second = incident("SALES2", minute=2)
        await writer.commit(incidents=[closed, second])
        assert await reader.all_incidents() == [closed, second]

        with pytest.raises(AlertStoreError, match="is open read-only"):
            await reader.put_incident(incident("SALES3", minute=3))
        assert await writer.all_incidents() == [closed, second]
    finally:
        await reader.close()
        await writer.close()


async def test_read_only_on_a_missing_file_reads_no_incidents_and_creates_nothing(
    tmp_path: Path,
) -> None:
    """Nothing recorded is an empty trail for the alert store (the history store is the one
    that tells the operator the path is wrong)."""
    store = SqliteAlertStore(tmp_path / "typo" / "wallboard.db", read_only=True)
    try:
        assert await store.all_incidents() == []
    finally:
        await store.close()
    assert files_in(tmp_path) == set()  # not even the directory
