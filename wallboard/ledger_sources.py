"""What ``wallboard ledger`` reads, opened read-only: every stored day and every incident.

The ledger must work beside a running daemon and after it stopped, and must never write: an
auditor running it (perhaps as another user) must not create a state file at a mistyped path
nor leave SQLite side files the daemon's user cannot open. The stores' own interfaces answer
"these campaigns, these days" and "the open incidents"; an audit needs *every* stored day (the
campaign list when ``vicidial.campaigns = "all"``, the first day of a campaign whose period
start was derived) and every incident, open or closed. The readers here add exactly that to the
stores, reusing their connections, locks and error types:

* :class:`ReadOnlySqliteHistory`: the state file opened ``mode=ro`` (``immutable`` when no
  daemon has it open, exactly as :class:`~wallboard.alerts.store.SqliteAlertStore` does in
  read-only mode), plus :meth:`~ReadOnlySqliteHistory.stored_days`;
* :class:`LedgerRedisHistory`: the shared hashes, plus ``stored_days`` (a ``SCAN`` of
  ``{prefix}:history:*``);
* :class:`SqliteIncidentReader` / :class:`RedisIncidentReader`: the alert store (read-only for
  SQLite) plus :meth:`all_incidents`.

They lean on the stores' internals (the SQLite connection, the Redis client and key names);
if the stores grow these methods, this module shrinks to :func:`open_ledger_sources`.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from redis.exceptions import RedisError

from wallboard.alerts import codec
from wallboard.alerts.store import (
    AlertStore,
    AlertStoreError,
    RedisAlertStore,
    SqliteAlertStore,
)
from wallboard.alerts.types import Incident
from wallboard.cache.factory import CacheSettings, connect_redis
from wallboard.cache.history import (
    SCHEMA_VERSION,
    DayTotals,
    HistoryStore,
    HistoryStoreError,
    RedisHistoryStore,
    SqliteHistoryStore,
)

__all__ = [
    "DayHistory",
    "IncidentHistory",
    "LedgerRedisHistory",
    "ReadOnlySqliteHistory",
    "RedisIncidentReader",
    "SqliteIncidentReader",
    "open_ledger_sources",
]


class DayHistory(HistoryStore, Protocol):
    """The history store, plus every stored day at once."""

    async def stored_days(self, until: date) -> list[DayTotals]:
        """Every stored row of every campaign up to ``until`` inclusive, by day then id."""


class IncidentHistory(AlertStore, Protocol):
    """The alert store, plus every incident at once."""

    async def all_incidents(self) -> list[Incident]:
        """Every stored incident, open or closed, oldest first."""


def open_ledger_sources(
    cache: CacheSettings, state_path: Path
) -> tuple[DayHistory, IncidentHistory]:
    """The history and the alert store for this config, read-only (nothing opens until the
    first read; close both)."""
    if cache.backend == "memory":
        return ReadOnlySqliteHistory(state_path), SqliteIncidentReader(state_path, read_only=True)
    if cache.backend == "redis":
        return (
            LedgerRedisHistory(connect_redis(cache.redis_url), cache.key_prefix),
            RedisIncidentReader(connect_redis(cache.redis_url), cache.key_prefix),
        )
    raise ValueError(f"unknown cache backend {cache.backend!r} (memory or redis)")


# -- history ----------------------------------------------------------------------------------


class ReadOnlySqliteHistory(SqliteHistoryStore):
    """The SQLite history opened read-only; a missing file is an error (nothing to audit)."""

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

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._open_read_only()
        return self._connection

    def _open_read_only(self) -> sqlite3.Connection:
        path = self.path
        if not path.exists():
            raise HistoryStoreError(
                f"state file {path} does not exist: nothing was recorded there "
                "(is state.path right? has the daemon run with this config?)"
            )
        # No -wal file: no daemon has it open, so read it as immutable (no locks, no side
        # files created by whoever runs the ledger); otherwise join the daemon's WAL.
        in_use = Path(f"{path}-wal").exists()
        uri = f"{path.absolute().as_uri()}?mode=ro{'' if in_use else '&immutable=1'}"
        connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout = 5000")
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


class LedgerRedisHistory(RedisHistoryStore):
    """The Redis history (readers never write), plus every stored day."""

    async def stored_days(self, until: date) -> list[DayTotals]:
        head = f"{self._prefix}:history:"
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


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis ``MATCH`` pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


# -- incidents --------------------------------------------------------------------------------


def _decoded(key: str, doc: bytes | str) -> Incident:
    try:
        return codec.incident_from_dict(codec.loads(doc))
    except codec.CodecError as error:
        raise AlertStoreError(f"alert store: unreadable incident {key}: {error}") from None


def _oldest_first(incidents: list[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda i: (i.opened_at.timestamp(), i.key))


class SqliteIncidentReader(SqliteAlertStore):
    """The SQLite alert store (open it with ``read_only=True``), plus every incident."""

    async def all_incidents(self) -> list[Incident]:
        def read(connection: sqlite3.Connection) -> list[tuple[str, str]]:
            return [
                (str(key), str(doc))
                for key, doc in connection.execute("SELECT key, doc FROM alert_incidents")
            ]

        rows = await self._run(read)
        return _oldest_first([_decoded(key, doc) for key, doc in rows])


class RedisIncidentReader(RedisAlertStore):
    """The Redis alert store, plus every incident."""

    async def all_incidents(self) -> list[Incident]:
        docs: Any = await self._call(self._redis.hgetall(self.key("incidents")))
        return _oldest_first(
            [_decoded(key.decode(errors="replace"), doc) for key, doc in docs.items()]
        )
