"""Durable per-day, per-campaign call totals for the 30-day drop-rate window.

A past day never changes, so each one is fetched from VICIdial once and kept here for good:
restarting the daemon must not cost the dialer 30 ``call_status_stats`` requests. A day that was
fetched and had no calls is stored as zeros, which is how :meth:`HistoryStore.missing_days`
tells "nothing happened" from "never asked".

Two implementations, chosen with the snapshot cache backend:

* :class:`SqliteHistoryStore`: a local file (stdlib ``sqlite3`` in a worker thread, WAL mode,
  schema versioned with ``PRAGMA user_version``). For a single daemon. ``read_only=True`` is
  for ``wallboard ledger``, beside a running daemon or after it stopped: it never creates,
  migrates or writes the file (an auditor, perhaps another user, must not leave a state file at
  a mistyped path nor side files the daemon's user cannot open).
* :class:`RedisHistoryStore`: one hash per campaign, ``{prefix}:history:{campaign}``, field =
  ISO day, value = ``"calls,answered,dropped"``. Shared by all instances so a new leader does
  not refetch; it is only as durable as the Redis server's persistence (RDB/AOF) settings.

The daemon asks for named campaigns and days (:meth:`HistoryStore.get`); an audit asks for
everything (:meth:`HistoryStore.stored_days`): the campaign list when ``vicidial.campaigns =
"all"``, and the first stored day of a campaign whose regulatory period start is derived.

Both also hold a small key-value area (:meth:`HistoryStore.get_value` / ``set_value`` /
``delete_value``) for other durable state that must survive a restart and, with Redis, follow
leadership to another instance: agents' time in state, the login breaker, the alert engine's
outbox. Values are opaque bytes (small JSON blobs, up to a few hundred KB: each write replaces
the whole value atomically, so write them when they change, not on every poll). Every backend
failure surfaces as :class:`HistoryStoreError`.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT

from wallboard.cache.sqlite_file import (
    ThreadedConnection,
    open_read_only,
    open_writable,
    transaction,
)

log = logging.getLogger(__name__)

R = TypeVar("R")


class HistoryStoreError(Exception):
    """The history store could not be read or written (disk, schema, Redis)."""


@dataclass(frozen=True)
class DayTotals:
    """One campaign's totals for one past day, as ``call_status_stats`` reported them."""

    campaign_id: str
    day: date
    calls: int
    answered: int
    dropped: int

    def __post_init__(self) -> None:
        if not self.campaign_id:
            raise ValueError("DayTotals needs a campaign_id")
        for name in ("calls", "answered", "dropped"):
            if getattr(self, name) < 0:
                raise ValueError(f"DayTotals.{name} must not be negative")


class HistoryStore(Protocol):
    """Durable past-day totals plus a small key-value area; see the module docstring."""

    async def start(self) -> None:
        """Open eagerly so a bad path or schema fails at startup (operations open lazily too)."""

    async def get(self, campaign_ids: Sequence[str], since: date, until: date) -> list[DayTotals]:
        """Stored rows for these campaigns, ``since`` to ``until`` inclusive, by day then id."""

    async def put(self, totals: Sequence[DayTotals]) -> None:
        """Insert or replace these rows."""

    async def missing_days(
        self, campaign_ids: Sequence[str], since: date, until: date
    ) -> list[date]:
        """Days in the inclusive range where any of the campaigns has no row, ascending."""

    async def stored_days(self, until: date) -> list[DayTotals]:
        """Every stored row of every campaign up to ``until`` inclusive, by day then id."""

    async def get_value(self, key: str) -> bytes | None:
        """The value stored under ``key``, or None if there is none."""

    async def set_value(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key``, replacing any previous value in one atomic write."""

    async def delete_value(self, key: str) -> None:
        """Forget ``key`` (nothing happens if it is absent)."""

    async def close(self) -> None: ...


def days_between(since: date, until: date) -> list[date]:
    """Every day from ``since`` to ``until`` inclusive (empty when ``since > until``)."""
    return [since + timedelta(days=offset) for offset in range((until - since).days + 1)]


def _missing(
    campaign_ids: Sequence[str], days: Sequence[date], present: set[tuple[str, date]]
) -> list[date]:
    return [day for day in days if any((cid, day) not in present for cid in campaign_ids)]


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- SQLite -----------------------------------------------------------------------------------

SCHEMA_VERSION = 1

# Index i migrates from user_version i to i + 1; each runs in one transaction.
_MIGRATIONS = (
    """
    CREATE TABLE day_totals (
        campaign_id TEXT NOT NULL,
        day TEXT NOT NULL,
        calls INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        dropped INTEGER NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (campaign_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
)


class SqliteHistoryStore:
    """:class:`HistoryStore` in a local SQLite file.

    ``sqlite3`` blocks, so every operation runs in a worker thread (``asyncio.to_thread``),
    serialised by a thread lock: a cancelled await cannot let two threads share the connection.

    ``read_only=True`` opens the file as it is (see :meth:`_open_read_only`); a missing file or
    one without this schema version is a :class:`HistoryStoreError` saying what to check, and so
    is every write.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], datetime] = _utcnow,
        read_only: bool = False,
    ) -> None:
        self._path = Path(path)
        self._clock = clock
        self._read_only = read_only
        self._file = ThreadedConnection(
            self._open_read_only if read_only else self._open_writable,
            what=f"history store {self._path}",
            error=HistoryStoreError,
        )

    @property
    def path(self) -> Path:
        return self._path

    @property
    def read_only(self) -> bool:
        return self._read_only

    async def start(self) -> None:
        await self._run(lambda connection: None)

    async def get(self, campaign_ids: Sequence[str], since: date, until: date) -> list[DayTotals]:
        if not campaign_ids or since > until:
            return []
        return await self._run(lambda c: list(self._select(c, campaign_ids, since, until)))

    async def stored_days(self, until: date) -> list[DayTotals]:
        def read(connection: sqlite3.Connection) -> list[DayTotals]:
            cursor = connection.execute(
                "SELECT campaign_id, day, calls, answered, dropped FROM day_totals"
                " WHERE day <= ? ORDER BY day, campaign_id",
                (until.isoformat(),),
            )
            return [
                DayTotals(str(cid), date.fromisoformat(day), calls, answered, dropped)
                for cid, day, calls, answered, dropped in cursor
            ]

        return await self._run(read)

    async def put(self, totals: Sequence[DayTotals]) -> None:
        self._check_writable()
        if not totals:
            return
        fetched_at = self._clock().isoformat()
        rows = [
            (t.campaign_id, t.day.isoformat(), t.calls, t.answered, t.dropped, fetched_at)
            for t in totals
        ]

        def write(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                connection.executemany(
                    "INSERT INTO day_totals"
                    " (campaign_id, day, calls, answered, dropped, fetched_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (campaign_id, day) DO UPDATE SET"
                    " calls = excluded.calls, answered = excluded.answered,"
                    " dropped = excluded.dropped, fetched_at = excluded.fetched_at",
                    rows,
                )

        await self._run(write)

    async def missing_days(
        self, campaign_ids: Sequence[str], since: date, until: date
    ) -> list[date]:
        days = days_between(since, until)
        if not campaign_ids or not days:
            return []
        rows = await self.get(campaign_ids, since, until)
        return _missing(campaign_ids, days, {(row.campaign_id, row.day) for row in rows})

    async def get_value(self, key: str) -> bytes | None:
        def read(connection: sqlite3.Connection) -> bytes | None:
            row = connection.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            return None if row is None else bytes(row[0])

        return await self._run(read)

    async def set_value(self, key: str, value: bytes) -> None:
        self._check_writable()
        updated_at = self._clock().isoformat()

        def write(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                connection.execute(
                    "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET"
                    " value = excluded.value, updated_at = excluded.updated_at",
                    (key, value, updated_at),
                )

        await self._run(write)

    async def delete_value(self, key: str) -> None:
        self._check_writable()

        def delete(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                connection.execute("DELETE FROM kv WHERE key = ?", (key,))

        await self._run(delete)

    async def close(self) -> None:
        await self._file.close()

    def _check_writable(self) -> None:
        """Refuse a write up front, even an empty one: writing to a read-only store is a bug."""
        if self._read_only:
            raise HistoryStoreError(f"history store {self._path} is open read-only")

    # -- in the worker thread ---------------------------------------------------------------

    async def _run(self, operation: Callable[[sqlite3.Connection], R]) -> R:
        return await self._file.run(operation)

    def _open_writable(self) -> sqlite3.Connection:
        # NORMAL: a commit lost in a power cut is one day fetched again, not a wrong figure.
        connection = open_writable(self._path, synchronous="NORMAL")
        try:
            self._migrate(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _open_read_only(self) -> sqlite3.Connection:
        """The file as it is (:func:`~wallboard.cache.sqlite_file.open_read_only`): never
        created, migrated or written; a missing file or schema is an error, since a reader of
        the history has nothing to read then."""
        path = self._path
        connection = open_read_only(path)
        if connection is None:
            raise HistoryStoreError(
                f"state file {path} does not exist: nothing was recorded there "
                "(is state.path right? has the daemon run with this config?)"
            )
        try:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        except BaseException:
            connection.close()
            raise
        if version == SCHEMA_VERSION:
            return connection
        connection.close()
        if version == 0:
            raise HistoryStoreError(
                f"state file {path} holds no day history (the daemon has not stored one yet)"
            )
        raise HistoryStoreError(
            f"history store {path} has schema version {version}, this wallboard reads "
            f"{SCHEMA_VERSION}; run the matching wallboard version"
        )

    def _migrate(self, connection: sqlite3.Connection) -> None:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise HistoryStoreError(
                f"history store {self._path} has schema version {version}, newer than this "
                f"wallboard understands ({SCHEMA_VERSION}); upgrade wallboard or use another path"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with transaction(connection):
                for statement in _MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {target:d}")
            log.info("history store %s migrated to schema version %d", self._path, target)

    @staticmethod
    def _select(
        connection: sqlite3.Connection, campaign_ids: Sequence[str], since: date, until: date
    ) -> Iterator[DayTotals]:
        placeholders = ", ".join("?" * len(campaign_ids))
        cursor = connection.execute(
            "SELECT campaign_id, day, calls, answered, dropped FROM day_totals"  # noqa: S608 (only placeholders are interpolated)
            f" WHERE campaign_id IN ({placeholders}) AND day BETWEEN ? AND ?"
            " ORDER BY day, campaign_id",
            (*campaign_ids, since.isoformat(), until.isoformat()),
        )
        for campaign_id, day, calls, answered, dropped in cursor:
            yield DayTotals(campaign_id, date.fromisoformat(day), calls, answered, dropped)


# -- Redis ------------------------------------------------------------------------------------


class RedisHistoryStore:
    """:class:`HistoryStore` in Redis, shared by every daemon instance. Owns ``redis``."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def start(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as error:
            raise HistoryStoreError(f"history store in Redis: {error}") from error

    async def get(self, campaign_ids: Sequence[str], since: date, until: date) -> list[DayTotals]:
        days = days_between(since, until)
        if not campaign_ids or not days:
            return []
        fields = [day.isoformat() for day in days]
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for campaign_id in campaign_ids:
                    pipe.hmget(self._history_key(campaign_id), fields)
                replies: list[list[bytes | None]] = await pipe.execute()
        except (RedisError, OSError) as error:
            raise HistoryStoreError(f"history store in Redis: {error}") from error
        rows = [
            row
            for campaign_id, values in zip(campaign_ids, replies, strict=True)
            for day, value in zip(days, values, strict=True)
            if value is not None and (row := self._parse(campaign_id, day, value)) is not None
        ]
        rows.sort(key=lambda row: (row.day, row.campaign_id))
        return rows

    async def put(self, totals: Sequence[DayTotals]) -> None:
        by_campaign: dict[str, dict[EncodableT, EncodableT]] = defaultdict(dict)
        for t in totals:
            by_campaign[t.campaign_id][t.day.isoformat()] = f"{t.calls},{t.answered},{t.dropped}"
        if not by_campaign:
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for campaign_id, mapping in by_campaign.items():
                    pipe.hset(self._history_key(campaign_id), mapping=mapping)
                await pipe.execute()
        except (RedisError, OSError) as error:
            raise HistoryStoreError(f"history store in Redis: {error}") from error

    async def missing_days(
        self, campaign_ids: Sequence[str], since: date, until: date
    ) -> list[date]:
        days = days_between(since, until)
        if not campaign_ids or not days:
            return []
        rows = await self.get(campaign_ids, since, until)
        return _missing(campaign_ids, days, {(row.campaign_id, row.day) for row in rows})

    async def stored_days(self, until: date) -> list[DayTotals]:
        """A ``SCAN`` of ``{prefix}:history:*`` (never ``KEYS``: it would block a shared Redis),
        then every matching hash in one pipeline."""
        head = self._history_key("")
        try:
            keys = [
                bytes(key)
                async for key in self._redis.scan_iter(match=_glob_escape(head) + "*", count=500)
            ]
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hgetall(key)
                replies: list[dict[bytes, bytes]] = await pipe.execute()
        except (RedisError, OSError) as error:
            raise HistoryStoreError(f"history store in Redis: {error}") from error
        rows: list[DayTotals] = []
        for key, fields in zip(keys, replies, strict=True):
            campaign_id = key.decode(errors="replace")[len(head) :]
            for field, value in fields.items():
                try:
                    day = date.fromisoformat(field.decode())
                except (UnicodeDecodeError, ValueError):
                    continue  # not a day field: nothing the history store wrote
                if day <= until and (row := self._parse(campaign_id, day, value)) is not None:
                    rows.append(row)
        rows.sort(key=lambda row: (row.day, row.campaign_id))
        return rows

    async def get_value(self, key: str) -> bytes | None:
        try:
            value: Any = await self._redis.get(self._value_key(key))
        except (RedisError, OSError) as error:
            raise HistoryStoreError(f"history store in Redis: {error}") from error
        return None if value is None else bytes(value)

    async def set_value(self, key: str, value: bytes) -> None:
        try:
            await self._redis.set(self._value_key(key), value)
        except (RedisError, OSError) as error:
            raise HistoryStoreError(f"history store in Redis: {error}") from error

    async def delete_value(self, key: str) -> None:
        try:
            await self._redis.delete(self._value_key(key))
        except (RedisError, OSError) as error:
            raise HistoryStoreError(f"history store in Redis: {error}") from error

    async def close(self) -> None:
        await self._redis.aclose()

    def _history_key(self, campaign_id: str) -> str:
        return f"{self._prefix}:history:{campaign_id}"

    def _value_key(self, key: str) -> str:
        return f"{self._prefix}:kv:{key}"

    def _parse(self, campaign_id: str, day: date, value: bytes) -> DayTotals | None:
        """A stored row, or None (logged; the day is then refetched) if it is unreadable."""
        try:
            calls, answered, dropped = (int(part) for part in value.split(b","))
            return DayTotals(campaign_id, day, calls, answered, dropped)
        except ValueError:
            log.warning(
                "unreadable history entry %s %s: %r; it will be fetched again",
                self._history_key(campaign_id),
                day.isoformat(),
                value[:40],
            )
            return None


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis ``MATCH`` pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
