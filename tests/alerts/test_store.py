"""Both alert stores (SQLite file, real Redis): incidents, memory, outbox, threads, audit;
atomic commits, exactly-once outbox semantics, ``kill -9`` of a writer and of Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.alerts import store_writer
from tests.support.redis_server import RedisServer, free_port
from tests.support.system import require_binary
from tests.support.waiting import eventually
from wallboard.alerts.store import (
    AlertStore,
    AlertStoreError,
    AuditRecord,
    RedisAlertStore,
    SqliteAlertStore,
    create_alert_store,
)
from wallboard.alerts.types import (
    Action,
    AutoPauseOutcome,
    Figures,
    Incident,
    Kind,
    Level,
    Notification,
    SlackThread,
)
from wallboard.cache import SqliteHistoryStore, connect_redis

PREFIX = "wb-test"
Opener = Callable[[], Awaitable[AlertStore]]
T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
EASTERN = timezone(timedelta(hours=-5))


def incident(campaign: str = "SALES1", minute: int = 0) -> Incident:
    at = T0 + timedelta(minutes=minute)
    return Incident(
        key=f"drop:{campaign}:today:2026-11-25",
        kind=Kind.DROP,
        campaign=campaign,
        window="today",
        severity=Level.WARNING,
        opened_at=at,
        updated_at=at,
        summary=f"{campaign} today 2.61 % (warning at 2.50 %)",
        figures=Figures(0.0261, 400, 10, 2, 0.025, 0.03),
    )


def note(inc: Incident, action: Action = Action.OPENED, text: str = "") -> Notification:
    return Notification(inc, action, text or f"{action.value} {inc.campaign}", inc.updated_at)


def outcome(campaign: str, at: datetime, *, dry_run: bool = True) -> AutoPauseOutcome:
    return AutoPauseOutcome(
        campaign=campaign,
        at=at,
        dry_run=dry_run,
        outcome="would_pause" if dry_run else "paused",
        detail="dry run: nothing sent" if dry_run else "SUCCESS: update_campaign - SALES1",
    )


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens (and reopens) a store over the same durable data; closes them all after."""
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


# -- incidents, memory, threads ----------------------------------------------------------------


async def test_incidents_are_upserted_by_key_and_closed_ones_leave_the_open_list(
    open_store: Opener,
) -> None:
    store = await open_store()
    assert await store.open_incidents() == []
    assert await store.get_incident("drop:SALES1:today:2026-11-25") is None
    later = incident("SALES2", minute=5)
    first = incident("SALES1", minute=1)
    await store.put_incident(later)
    await store.put_incident(first)
    assert await store.open_incidents() == [first, later]  # oldest first

    escalated = replace(first, severity=Level.CRITICAL, updated_at=T0 + timedelta(minutes=9))
    await store.put_incident(escalated)
    assert await store.get_incident(first.key) == escalated
    closed = replace(escalated, closed_at=T0 + timedelta(hours=1), close_reason="resolved")
    await store.put_incident(closed)
    assert await store.open_incidents() == [later]
    assert await store.get_incident(first.key) == closed  # kept for the audit and ledger

    reopened = await open_store()
    assert await reopened.open_incidents() == [later]
    assert await reopened.get_incident(first.key) == closed


async def test_memory_values_are_set_replaced_and_absent_as_none(open_store: Opener) -> None:
    store = await open_store()
    assert await store.get_value("engine") is None
    await store.set_value("engine", b'{"round": 1}')
    await store.set_value("engine", b'{"round": 2}')
    await store.set_value("other", bytes(range(256)))
    reopened = await open_store()
    assert await reopened.get_value("engine") == b'{"round": 2}'
    assert await reopened.get_value("other") == bytes(range(256))


async def test_threads_start_unknown_and_are_replaced_once_posted(open_store: Opener) -> None:
    store = await open_store()
    key = incident().key
    assert await store.get_thread(key) is None
    await store.put_thread(SlackThread(key, "C0123", ""))  # sent; outcome unknown
    assert await store.get_thread(key) == SlackThread(key, "C0123", "")
    await store.put_thread(SlackThread(key, "C0123", "1764082800.000100"))
    reopened = await open_store()
    assert await reopened.get_thread(key) == SlackThread(key, "C0123", "1764082800.000100")
    assert await reopened.get_thread("other") is None


# -- the outbox --------------------------------------------------------------------------------


async def test_enqueued_notifications_get_increasing_seqs_and_come_back_in_order(
    open_store: Opener,
) -> None:
    store = await open_store()
    a, b = incident("SALES1"), incident("SALES2")
    first = await store.enqueue([note(a), note(b)])
    second = await store.enqueue([note(a, Action.ESCALATED)])
    assert [n.seq for n in first + second] == sorted({n.seq for n in first + second})
    assert first[0].seq >= 1
    assert [replace(n, seq=0) for n in first] == [note(a), note(b)]
    assert await store.pending() == first + second
    assert await store.pending(2) == first
    assert await store.pending(0) == []
    assert await store.enqueue([]) == []


async def test_delivered_notifications_are_never_returned_again_even_after_reopening(
    open_store: Opener,
) -> None:
    store = await open_store()
    a = incident()
    stored = await store.enqueue([note(a, action) for action in Action])
    await store.mark_delivered([stored[0].seq, stored[2].seq])
    await store.mark_delivered([stored[0].seq, 999_999])  # again, and unknown: harmless
    await store.mark_delivered([])
    rest = [stored[1], *stored[3:]]
    assert await store.pending() == rest

    reopened = await open_store()
    assert await reopened.pending() == rest  # undelivered ones survive a restart
    await reopened.mark_delivered(n.seq for n in rest)
    assert await reopened.pending() == []
    # seqs are never reused, even once the outbox is empty and the store reopened
    again = await (await open_store()).enqueue([note(a)])
    assert again[0].seq > stored[-1].seq


async def test_pending_and_mark_delivered_deliver_each_notification_exactly_once(
    open_store: Opener,
) -> None:
    """A sender loop (take a batch, mark it) while the engine keeps committing: every
    notification is handed out once, in seq order, none skipped."""
    store = await open_store()
    producer_done = asyncio.Event()
    produced: list[int] = []
    delivered: list[int] = []

    async def produce() -> None:
        for round_ in range(40):
            inc = incident(f"C{round_ % 3}", minute=round_)
            produced.extend(n.seq for n in await store.commit([inc], [note(inc), note(inc)]))
        producer_done.set()

    async def deliver() -> None:
        while True:
            batch = await store.pending(7)
            if not batch and producer_done.is_set():
                return
            delivered.extend(n.seq for n in batch)
            await store.mark_delivered(n.seq for n in batch)
            await asyncio.sleep(0)

    await asyncio.gather(produce(), deliver())
    assert delivered == produced
    assert delivered == sorted(set(delivered))


# -- commit: one transaction -------------------------------------------------------------------


async def test_commit_writes_incidents_notifications_memory_and_audit_together(
    open_store: Opener,
) -> None:
    store = await open_store()
    inc = incident()
    record = AuditRecord(outcome("SALES1", T0), incident_key=inc.key, window="today", ratio=0.03)
    stored = await store.commit([inc], [note(inc)], {"engine": b"{}"}, [record])
    assert stored == [replace(note(inc), seq=stored[0].seq)]
    assert await store.commit() == []
    reopened = await open_store()
    assert await reopened.open_incidents() == [inc]
    assert await reopened.pending() == stored
    assert await reopened.get_value("engine") == b"{}"
    assert [replace(r, seq=0) for r in await reopened.audit_since(None)] == [record]


async def test_sqlite_commit_that_fails_half_way_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    store = SqliteAlertStore(path)
    await store.start()
    with sqlite3.connect(path) as raw:  # the last write of the transaction will fail
        raw.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON alert_values"
            " BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    inc = incident()
    try:
        with pytest.raises(AlertStoreError, match="disk says no"):
            await store.commit([inc], [note(inc)], {"engine": b"{}"})
        assert await store.open_incidents() == []
        assert await store.pending() == []
        assert await store.get_value("engine") is None
    finally:
        await store.close()


async def test_redis_commit_that_would_fail_half_way_writes_nothing(
    redis_server: RedisServer,
) -> None:
    client = connect_redis(redis_server.url)
    store = RedisAlertStore(client, PREFIX)
    await client.set(store.key("values"), b"someone else's string")  # HSET there would fail
    inc = incident()
    try:
        with pytest.raises(AlertStoreError, match="WRONGTYPE"):
            await store.commit([inc], [note(inc)], {"engine": b"{}"})
        assert await store.open_incidents() == []
        assert await store.pending() == []
        assert await client.get(store.key("seq")) is None
    finally:
        await store.close()


# -- audit -------------------------------------------------------------------------------------


async def test_audit_trail_is_ordered_by_time_and_filtered_by_instant(open_store: Opener) -> None:
    store = await open_store()
    early = outcome("SALES1", T0.astimezone(EASTERN))  # 10:00 -05:00 = 15:00 UTC
    late = outcome("SALES2", T0 + timedelta(hours=2), dry_run=False)
    middle = outcome("SALES3", T0 + timedelta(hours=1))
    for item, ratio in ((late, 0.031), (early, None), (middle, 0.0295)):
        await store.add_audit(item, incident_key=f"k-{item.campaign}", ratio=ratio, window="today")
    trail = await store.audit_since(None)
    assert [r.outcome for r in trail] == [early, middle, late]
    assert [r.ratio for r in trail] == [None, 0.0295, 0.031]
    assert trail[0].campaign == "SALES1"
    assert trail[0].at == early.at
    assert trail[0].outcome.at.utcoffset() == timedelta(hours=-5)  # as written, not converted
    assert len({r.seq for r in trail}) == 3

    # the bound is an instant: 10:30 in New York is 15:30 UTC
    since = datetime(2026, 11, 25, 10, 30, tzinfo=EASTERN)
    assert [r.campaign for r in await store.audit_since(since)] == ["SALES3", "SALES2"]
    assert [r.campaign for r in await store.audit_since(middle.at)] == ["SALES3", "SALES2"]
    assert await store.audit_since(T0 + timedelta(days=1)) == []
    assert await (await open_store()).audit_since(None) == trail


async def test_audit_refuses_naive_times(open_store: Opener) -> None:
    store = await open_store()
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.add_audit(
            outcome("SALES1", datetime(2026, 11, 25, 10)), incident_key="k", ratio=0.03, window=""
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.audit_since(datetime(2026, 11, 25))
    assert await store.audit_since(None) == []


# -- SQLite specifics --------------------------------------------------------------------------


async def test_sqlite_shares_the_state_file_with_the_history_store(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    history = SqliteHistoryStore(path)
    alerts = SqliteAlertStore(path)
    try:
        await alerts.start()  # either may create the file first
        await history.start()
        await history.set_value("breaker", b"open")
        await alerts.set_value("breaker", b"alerts' own")
        assert await history.get_value("breaker") == b"open"
        assert await alerts.get_value("breaker") == b"alerts' own"
    finally:
        await history.close()
        await alerts.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1  # the history store's
        version = raw.execute("SELECT value FROM alert_meta WHERE key = 'schema_version'")
        assert version.fetchone()[0] == "1"


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    store = SqliteAlertStore(path)
    await store.start()
    await store.close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE alert_meta SET value = '99' WHERE key = 'schema_version'")
    for read_only in (False, True):
        store = SqliteAlertStore(path, read_only=read_only)
        try:
            with pytest.raises(AlertStoreError, match="newer than this wallboard"):
                await store.start()
        finally:
            await store.close()


async def test_sqlite_errors_and_unreadable_rows_surface_as_alert_store_errors(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = SqliteAlertStore(blocker / "wallboard.db")
    with pytest.raises(AlertStoreError):
        await store.start()
    await store.close()
    with pytest.raises(AlertStoreError, match="closed"):
        await store.pending()

    path = tmp_path / "wallboard.db"
    store = SqliteAlertStore(path)
    try:
        await store.enqueue([note(incident())])
        with sqlite3.connect(path) as raw:
            raw.execute("UPDATE alert_outbox SET doc = '{\"incident\": 1}'")
        with pytest.raises(AlertStoreError, match="unreadable notification 1: incident"):
            await store.pending()
    finally:
        await store.close()


async def test_sqlite_read_only_sees_a_running_writer_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "wallboard.db"
    missing = SqliteAlertStore(tmp_path / "nothing-here.db", read_only=True)
    try:
        assert await missing.audit_since(None) == []
        assert await missing.pending() == []
        assert not (tmp_path / "nothing-here.db").exists()
    finally:
        await missing.close()

    writer = SqliteAlertStore(path)
    reader = SqliteAlertStore(path, read_only=True)
    try:
        await writer.add_audit(outcome("SALES1", T0), incident_key="k", ratio=0.03, window="today")
        assert [r.campaign for r in await reader.audit_since(None)] == ["SALES1"]
        await writer.add_audit(outcome("SALES2", T0), incident_key="k2", ratio=None, window="30d")
        assert [r.campaign for r in await reader.audit_since(None)] == ["SALES1", "SALES2"]
        with pytest.raises(AlertStoreError, match="read-only"):
            await reader.set_value("x", b"y")
    finally:
        await reader.close()
        await writer.close()  # the last connection: SQLite removes -wal and -shm

    # with no writer about, reading leaves no -wal/-shm behind (another user's would lock the
    # daemon out of its own file)
    files = listing(tmp_path)
    assert files == ["wallboard.db"]
    reader = SqliteAlertStore(path, read_only=True)
    try:
        assert [r.campaign for r in await reader.audit_since(None)] == ["SALES1", "SALES2"]
    finally:
        await reader.close()
    assert listing(tmp_path) == files


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


async def test_factory_follows_the_cache_backend(tmp_path: Path, redis_url: str) -> None:
    url = redis_url

    @dataclass(frozen=True)
    class Cache:
        backend: str
        redis_url: str = url
        key_prefix: str = PREFIX
        lock_ttl: timedelta = timedelta(seconds=15)

    sqlite_store = create_alert_store(Cache("memory"), tmp_path / "wallboard.db")
    redis_store = create_alert_store(Cache("redis"), tmp_path / "unused.db")
    try:
        assert isinstance(sqlite_store, SqliteAlertStore)
        assert isinstance(redis_store, RedisAlertStore)
        await redis_store.set_value("engine", b"1")
        probe = connect_redis(redis_url)
        assert await probe.hget(f"{PREFIX}:alerts:values", "engine") == b"1"
        await probe.aclose()
        assert not (tmp_path / "unused.db").exists()
    finally:
        await sqlite_store.close()
        await redis_store.close()
    with pytest.raises(ValueError, match="unknown cache backend"):
        create_alert_store(Cache("memcached"), tmp_path / "x.db")


# -- Redis specifics ---------------------------------------------------------------------------


async def test_redis_keys_live_under_the_cache_prefix(redis_server: RedisServer) -> None:
    client = connect_redis(redis_server.url)
    store = RedisAlertStore(connect_redis(redis_server.url), PREFIX)
    try:
        inc = incident()
        await store.commit([inc], [note(inc)], {"engine": b"{}"})
        await store.put_thread(SlackThread(inc.key, "C1", "1.2"))
        await store.add_audit(outcome("SALES1", T0), incident_key=inc.key, ratio=0.03, window="")
        keys = sorted(k.decode() if isinstance(k, bytes) else k for k in await client.keys("*"))
        assert keys == sorted(
            f"{PREFIX}:alerts:{name}"
            for name in (
                "audit",
                "audit_seq",
                "incidents",
                "open",
                "outbox",
                "pending",
                "seq",
                "threads",
                "values",
            )
        )
    finally:
        await store.close()
        await client.aclose()


async def test_redis_down_surfaces_as_alert_store_error_not_a_hang(
    redis_server: RedisServer,
) -> None:
    store = RedisAlertStore(connect_redis(redis_server.url, timeout=0.2), PREFIX)
    redis_server.kill()
    inc = incident()
    operations: list[Callable[[], Awaitable[object]]] = [
        store.start,
        lambda: store.commit([inc], [note(inc)], {"engine": b"{}"}),
        lambda: store.put_incident(inc),
        lambda: store.get_incident(inc.key),
        store.open_incidents,
        lambda: store.get_value("engine"),
        lambda: store.set_value("engine", b"{}"),
        lambda: store.enqueue([note(inc)]),
        store.pending,
        lambda: store.mark_delivered([1]),
        lambda: store.get_thread(inc.key),
        lambda: store.put_thread(SlackThread(inc.key, "C1", "")),
        lambda: store.add_audit(outcome("S", T0), incident_key="k", ratio=None, window=""),
        lambda: store.audit_since(None),
    ]
    try:
        for operation in operations:
            async with asyncio.timeout(5):
                with pytest.raises(AlertStoreError, match="alert store in Redis"):
                    await operation()
    finally:
        await store.close()


# -- kill -9 -----------------------------------------------------------------------------------


def start_writer(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.store_writer", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


class Progress:
    """Reads a writer's ``committed n`` lines in a thread, so waiting never blocks the loop."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.last = -1
        self.commits = 0
        self.lines: list[str] = []
        self._task = asyncio.create_task(asyncio.to_thread(self._read, process))

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip())
            if line.startswith("committed "):
                self.last = int(line.split()[1])
                self.commits += 1

    async def finished(self) -> None:
        await asyncio.wait_for(self._task, 10)


@pytest.fixture
def killed_on_exit() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


async def test_sqlite_writer_killed_mid_commit_leaves_nothing_half_written(
    tmp_path: Path, killed_on_exit: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "wallboard.db"
    for attempt in range(3):  # three kills land at three different points of the loop
        writer = start_writer("sqlite", str(path))
        killed_on_exit.append(writer)
        progress = Progress(writer)
        await eventually(
            lambda: progress.commits >= 25 or writer.poll() is not None,  # noqa: B023
            within=60,
            what="the writer commits",
        )
        writer.kill()
        writer.wait(10)
        await progress.finished()
        assert progress.commits >= 25, progress.lines[-5:]
        store = SqliteAlertStore(path)
        try:
            last = await store_writer.check_consistent(store)
        finally:
            await store.close()
        assert last >= progress.last, (attempt, last, progress.last)
        assert last <= progress.last + 1  # at most the round it was killed in


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO alert_incidents",
        "INSERT INTO alert_outbox",
        "INSERT INTO alert_values",
        "COMMIT",
    ],
)
async def test_sqlite_writer_killed_inside_the_transaction_loses_the_whole_round(
    tmp_path: Path, statement: str, killed_on_exit: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "wallboard.db"
    writer = start_writer("sqlite", str(path), "5", statement)
    killed_on_exit.append(writer)
    progress = Progress(writer)
    code = await asyncio.to_thread(writer.wait, 60)
    await progress.finished()
    assert code == -signal.SIGKILL, progress.lines[-5:]
    assert progress.last == 4
    store = SqliteAlertStore(path)
    try:
        assert await store_writer.check_consistent(store) == 4  # round 5 left no trace
        assert [n.seq for n in await store.enqueue([note(incident())])] == [2 * 5 + 1]
    finally:
        await store.close()


class DurableRedis(RedisServer):
    """``redis-server`` with the append-only file on and fsync on every write, as the alert
    state needs in production; restarting it reloads what it acknowledged."""

    def start(self) -> None:
        if self.process is not None:
            raise RuntimeError("redis-server is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "yes", "--appendfsync", "always"),
                *("--dir", str(self.directory), "--logfile", str(self.log_path)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.kill()
            raise


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    binary = require_binary("redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server")
    server = DurableRedis(binary=binary, directory=tmp_path / "durable", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()


async def test_redis_killed_while_a_writer_commits_restarts_with_whole_commits_only(
    durable_redis: RedisServer, killed_on_exit: list[subprocess.Popen[str]]
) -> None:
    for attempt in range(3):
        writer = start_writer("redis", durable_redis.url, PREFIX)
        killed_on_exit.append(writer)
        progress = Progress(writer)
        await eventually(
            lambda: progress.commits >= 25 or writer.poll() is not None,  # noqa: B023
            within=60,
            what="the writer commits",
        )
        durable_redis.kill()  # mid-loop: the writer's next call fails
        await asyncio.to_thread(writer.wait, 10)
        await progress.finished()
        assert writer.returncode == 3, progress.lines[-5:]  # it saw an AlertStoreError
        durable_redis.start()
        store = RedisAlertStore(connect_redis(durable_redis.url), PREFIX)
        try:
            last = await store_writer.check_consistent(store)
        finally:
            await store.close()
        assert last >= progress.last, (attempt, last, progress.last)
        assert last <= progress.last + 1


async def test_redis_writer_killed_leaves_nothing_half_written(
    redis_server: RedisServer, killed_on_exit: list[subprocess.Popen[str]]
) -> None:
    writer = start_writer("redis", redis_server.url, PREFIX)
    killed_on_exit.append(writer)
    progress = Progress(writer)
    await eventually(lambda: progress.last >= 25, within=60, what="the writer commits")
    writer.kill()
    writer.wait(10)
    await progress.finished()
    store = RedisAlertStore(connect_redis(redis_server.url), PREFIX)
    try:
        last = await store_writer.check_consistent(store)
    finally:
        await store.close()
    assert progress.last <= last <= progress.last + 1
    # a new writer (a new leader) carries on after the last whole round
    successor = RedisAlertStore(connect_redis(redis_server.url), PREFIX)
    try:
        stored = await successor.enqueue([note(incident())])
    finally:
        await successor.close()
    assert stored[0].seq == 2 * (last + 1) + 1
