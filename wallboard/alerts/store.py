"""The alert engine's durable state: incidents, engine memory, the outbox, Slack threads, audit.

Everything the leader must not forget across a restart, a ``kill -9`` or a change of leader:

* **incidents** by key, open and closed (Slack updates the same parent message, the audit
  and ``wallboard ledger`` name them: :meth:`AlertStore.all_incidents` is the whole record);
* **engine memory**: opaque bytes per key (the state machine's state per (campaign, window),
  as JSON), so ``pending`` timers and reminders carry on where they were;
* the **outbox**: notifications numbered with an increasing ``seq`` when stored, handed to
  the Slack sender in that order until it marks them delivered, then never again;
* **Slack threads**: where each incident's parent message is (channel ID and ``ts``; ``ts`` is
  ``""`` while a post's outcome is unknown);
* the **auto-pause audit trail** that ``wallboard audit`` prints.

:meth:`AlertStore.commit` writes incident changes, the notifications they cause, the engine
memory that produced them and any audit records **in one transaction**: a ``kill -9`` can stop
the daemon before or after an evaluation's writes, never between them, so after a restart a
change is neither sent twice (the memory says it was already made) nor lost (its notification
is in the outbox). Exactly-once *delivery* is then the sender's part: mark a notification
delivered once Slack has it, and look up a post whose outcome is unknown before posting again.

Two implementations, chosen with the cache backend like the history store:

* :class:`SqliteAlertStore`: its own ``alert_*`` tables in the ``state.path`` file the history
  store uses (WAL mode, ``synchronous = FULL`` so a committed change survives even a power cut,
  each write one ``BEGIN IMMEDIATE`` transaction). Its schema version is kept in its own
  ``alert_meta`` table, because ``PRAGMA user_version`` belongs to the history store.
  ``read_only=True`` opens the file without writing to it, for ``wallboard audit`` while the
  daemon runs (or after it stopped, or before it ever ran: then every answer is empty).
* :class:`RedisAlertStore`: keys ``{prefix}:alerts:*`` shared by every instance, so a new
  leader carries on the same incidents and messages. A commit is one Lua script, which Redis
  runs atomically and writes to its append-only file as one ``MULTI``/``EXEC`` block: a Redis
  killed mid-way restarts with all of it or none. It is only as durable as the server's
  persistence: run Redis with ``appendonly yes``.

Every I/O failure (disk, schema, Redis down, an unreadable entry) surfaces as
:class:`AlertStoreError`; Redis calls fail within the client's socket timeout, never hang.
"""

from __future__ import annotations

import abc
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from wallboard.alerts import codec
from wallboard.alerts.types import AutoPauseOutcome, Incident, Notification, SlackThread
from wallboard.cache.factory import CacheSettings, connect_redis
from wallboard.cache.sqlite_file import (
    ThreadedConnection,
    open_read_only,
    open_writable,
    transaction,
)

log = logging.getLogger(__name__)

R = TypeVar("R")
V = TypeVar("V")
P = ParamSpec("P")


class AlertStoreError(Exception):
    """The alert store could not be read or written (disk, schema, Redis, unreadable entry)."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One auto-pause decision in the audit trail: what was done (or would have been, in dry
    run) to which campaign, for which incident, at what ratio. ``seq`` is assigned by the store
    (0 until stored) and orders records made at the same instant."""

    outcome: AutoPauseOutcome
    incident_key: str
    window: str
    ratio: float | None
    seq: int = 0

    @property
    def campaign(self) -> str:
        return self.outcome.campaign

    @property
    def at(self) -> datetime:
        return self.outcome.at


class AlertStore(Protocol):
    """The alert engine's durable state; see the module docstring."""

    async def start(self) -> None:
        """Open eagerly so a bad path, schema or Redis fails at startup (operations open
        lazily too)."""

    async def commit(
        self,
        incidents: Sequence[Incident] = (),
        notifications: Sequence[Notification] = (),
        values: Mapping[str, bytes] | None = None,
        audits: Sequence[AuditRecord] = (),
    ) -> list[Notification]:
        """In one transaction: upsert ``incidents`` (by key), append ``notifications`` to the
        outbox, replace ``values`` (engine memory) and append ``audits``. Returns the
        notifications as stored, in the given order, with their new increasing ``seq``."""

    async def put_incident(self, incident: Incident) -> None:
        """Insert or replace one incident (by key)."""

    async def get_incident(self, key: str) -> Incident | None:
        """The incident with this key, open or closed, or None."""

    async def open_incidents(self) -> list[Incident]:
        """Every open incident, oldest first (by ``opened_at``, then key)."""

    async def all_incidents(self) -> list[Incident]:
        """Every stored incident, open or closed, oldest first (by ``opened_at``, then key):
        the evidence ``wallboard ledger`` lists per dialer day."""

    async def get_value(self, key: str) -> bytes | None:
        """Engine memory stored under ``key``, or None."""

    async def set_value(self, key: str, value: bytes) -> None:
        """Replace the engine memory under ``key`` in one atomic write."""

    async def enqueue(self, notifications: Sequence[Notification]) -> list[Notification]:
        """Append to the outbox (``commit(notifications=...)``); returns them with ``seq``."""

    async def pending(self, limit: int = 100) -> list[Notification]:
        """Up to ``limit`` undelivered notifications, lowest ``seq`` first."""

    async def mark_delivered(self, seqs: Iterable[int]) -> None:
        """These notifications are delivered: never returned by :meth:`pending` again.
        Unknown or already delivered ``seq`` s are ignored."""

    async def get_thread(self, incident_key: str) -> SlackThread | None:
        """Where the incident's Slack parent message is, or None if nothing was posted."""

    async def put_thread(self, thread: SlackThread) -> None:
        """Insert or replace the incident's thread (``ts=""``: post outcome unknown)."""

    async def add_audit(
        self, outcome: AutoPauseOutcome, *, incident_key: str, ratio: float | None, window: str
    ) -> None:
        """Append one auto-pause decision to the audit trail (``commit(audits=...)``)."""

    async def audit_since(self, since: datetime | None) -> list[AuditRecord]:
        """Audit records at or after ``since`` (timezone-aware; None: all), oldest first."""

    async def close(self) -> None: ...


def create_alert_store(
    cache_config: CacheSettings, state_path: str | Path, *, read_only: bool = False
) -> AlertStore:
    """SQLite at ``state_path`` for the memory backend; Redis (shared) for the redis backend.

    ``read_only`` (SQLite only; Redis readers never write anyway) is for ``wallboard audit``.
    """
    if cache_config.backend == "memory":
        return SqliteAlertStore(state_path, read_only=read_only)
    if cache_config.backend == "redis":
        timeout = max(0.1, min(5.0, cache_config.lock_ttl.total_seconds() / 3))
        return RedisAlertStore(
            connect_redis(cache_config.redis_url, timeout=timeout), cache_config.key_prefix
        )
    raise ValueError(f"unknown cache backend {cache_config.backend!r} (memory or redis)")


def _check_audit(record: AuditRecord) -> None:
    if record.outcome.at.utcoffset() is None:
        raise ValueError("an audit record's time must be timezone-aware")


def _check_since(since: datetime | None) -> None:
    if since is not None and since.utcoffset() is None:
        raise ValueError("audit_since needs a timezone-aware datetime")


def _utc_text(moment: datetime) -> str:
    """Fixed-width UTC text: sorts as the instants do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _incident_order(incident: Incident) -> tuple[float, str]:
    return incident.opened_at.timestamp(), incident.key


def _audit_order(record: AuditRecord) -> tuple[datetime, int]:
    return record.at, record.seq


def _audit_document(record: AuditRecord) -> bytes:
    return codec.dumps(
        {
            "outcome": codec.outcome_to_dict(record.outcome),
            "incident_key": record.incident_key,
            "window": record.window,
            "ratio": record.ratio,
        }
    )


def _audit_record(data: bytes | str, seq: int) -> AuditRecord:
    document = codec.loads(data)
    outcome = document.get("outcome")
    incident_key = document.get("incident_key")
    window = document.get("window")
    ratio = document.get("ratio")
    if not isinstance(outcome, dict):
        raise codec.CodecError("outcome: expected an object")
    if not isinstance(incident_key, str) or not isinstance(window, str):
        raise codec.CodecError("incident_key and window: expected strings")
    if ratio is not None and (not isinstance(ratio, int | float) or isinstance(ratio, bool)):
        raise codec.CodecError("ratio: expected a number or null")
    return AuditRecord(
        outcome=codec.outcome_from_dict(outcome),
        incident_key=incident_key,
        window=window,
        ratio=None if ratio is None else float(ratio),
        seq=seq,
    )


def _decode(what: str, decode: Callable[P, V], *args: P.args, **kwargs: P.kwargs) -> V:
    """Decode one stored entry; an unreadable one is an :class:`AlertStoreError` naming it."""
    try:
        return decode(*args, **kwargs)
    except codec.CodecError as error:
        raise AlertStoreError(f"alert store: unreadable {what}: {error}") from None


def _incident(data: bytes | str) -> Incident:
    return codec.incident_from_dict(codec.loads(data))


def _notification(data: bytes | str) -> Notification:
    return codec.notification_from_dict(codec.loads(data))


def _thread(data: bytes | str) -> SlackThread:
    return codec.thread_from_dict(codec.loads(data))


def _incident_bytes(incident: Incident) -> bytes:
    return codec.dumps(codec.incident_to_dict(incident))


def _notification_bytes(notification: Notification) -> bytes:
    return codec.dumps(codec.notification_to_dict(notification))


class _Shared(abc.ABC):
    """What both backends build on one atomic write, :meth:`_write`."""

    async def commit(
        self,
        incidents: Sequence[Incident] = (),
        notifications: Sequence[Notification] = (),
        values: Mapping[str, bytes] | None = None,
        audits: Sequence[AuditRecord] = (),
    ) -> list[Notification]:
        for record in audits:
            _check_audit(record)
        values = values or {}
        if not (incidents or notifications or values or audits):
            return []
        seqs = await self._write(incidents, notifications, values, audits)
        return [replace(n, seq=seq) for n, seq in zip(notifications, seqs, strict=True)]

    async def put_incident(self, incident: Incident) -> None:
        await self.commit(incidents=[incident])

    async def set_value(self, key: str, value: bytes) -> None:
        await self.commit(values={key: value})

    async def enqueue(self, notifications: Sequence[Notification]) -> list[Notification]:
        return await self.commit(notifications=notifications)

    async def add_audit(
        self, outcome: AutoPauseOutcome, *, incident_key: str, ratio: float | None, window: str
    ) -> None:
        record = AuditRecord(outcome, incident_key=incident_key, window=window, ratio=ratio)
        await self.commit(audits=[record])

    @abc.abstractmethod
    async def _write(
        self,
        incidents: Sequence[Incident],
        notifications: Sequence[Notification],
        values: Mapping[str, bytes],
        audits: Sequence[AuditRecord],
    ) -> list[int]:
        """All of it in one transaction; returns the notifications' new seqs."""


# -- SQLite -----------------------------------------------------------------------------------

SCHEMA_VERSION = 1
_SCHEMA_KEY = "schema_version"

# Index i migrates from version i to i + 1; each runs in one transaction with the version bump.
_MIGRATIONS = (
    """
    CREATE TABLE alert_incidents (
        key TEXT PRIMARY KEY,
        is_open INTEGER NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX alert_incidents_open ON alert_incidents (is_open);
    CREATE TABLE alert_values (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    CREATE TABLE alert_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc TEXT NOT NULL
    );
    CREATE TABLE alert_threads (
        incident_key TEXT PRIMARY KEY,
        doc TEXT NOT NULL
    );
    CREATE TABLE alert_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_utc TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX alert_audit_at ON alert_audit (at_utc);
    """,
)


class SqliteAlertStore(_Shared):
    """:class:`AlertStore` in a local SQLite file (the ``state.path`` the history store uses).

    ``sqlite3`` blocks, so every operation runs in a worker thread (``asyncio.to_thread``),
    serialised by a thread lock: a cancelled await cannot let two threads share the connection.
    The outbox ``seq`` is an ``AUTOINCREMENT`` key: never reused, even after delivered rows are
    deleted.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self._path = Path(path)
        self._read_only = read_only
        self._file = ThreadedConnection(
            self._open_read_only if read_only else self._open_writable,
            what=f"alert store {self._path}",
            error=AlertStoreError,
        )

    @property
    def path(self) -> Path:
        return self._path

    async def start(self) -> None:
        await self._run(lambda connection: None)

    async def _write(
        self,
        incidents: Sequence[Incident],
        notifications: Sequence[Notification],
        values: Mapping[str, bytes],
        audits: Sequence[AuditRecord],
    ) -> list[int]:
        incident_rows = [
            (incident.key, int(incident.open), _incident_bytes(incident).decode())
            for incident in incidents
        ]
        notification_docs = [_notification_bytes(n).decode() for n in notifications]
        value_rows = [(key, bytes(value)) for key, value in values.items()]
        audit_rows = [(_utc_text(r.at), _audit_document(r).decode()) for r in audits]

        def write(connection: sqlite3.Connection) -> list[int]:
            with transaction(connection):
                connection.executemany(
                    "INSERT INTO alert_incidents (key, is_open, doc) VALUES (?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET"
                    " is_open = excluded.is_open, doc = excluded.doc",
                    incident_rows,
                )
                seqs = [
                    _returned_seq(
                        connection, "INSERT INTO alert_outbox (doc) VALUES (?) RETURNING seq", doc
                    )
                    for doc in notification_docs
                ]
                connection.executemany(
                    "INSERT INTO alert_values (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    value_rows,
                )
                connection.executemany(
                    "INSERT INTO alert_audit (at_utc, doc) VALUES (?, ?)", audit_rows
                )
                return seqs

        return await self._run(write, writes=True)

    async def get_incident(self, key: str) -> Incident | None:
        def read(connection: sqlite3.Connection) -> str | None:
            row = connection.execute(
                "SELECT doc FROM alert_incidents WHERE key = ?", (key,)
            ).fetchone()
            return None if row is None else str(row[0])

        doc = await self._run(read)
        return None if doc is None else _decode(f"incident {key}", _incident, doc)

    async def open_incidents(self) -> list[Incident]:
        return await self._incidents("SELECT key, doc FROM alert_incidents WHERE is_open = 1")

    async def all_incidents(self) -> list[Incident]:
        return await self._incidents("SELECT key, doc FROM alert_incidents")

    async def _incidents(self, query: str) -> list[Incident]:
        """The incidents a constant ``query`` (key, doc) selects, oldest first."""

        def read(connection: sqlite3.Connection) -> list[tuple[str, str]]:
            return [(str(key), str(doc)) for key, doc in connection.execute(query)]

        rows = await self._run(read)
        incidents = [_decode(f"incident {key}", _incident, doc) for key, doc in rows]
        return sorted(incidents, key=_incident_order)

    async def get_value(self, key: str) -> bytes | None:
        def read(connection: sqlite3.Connection) -> bytes | None:
            row = connection.execute(
                "SELECT value FROM alert_values WHERE key = ?", (key,)
            ).fetchone()
            return None if row is None else bytes(row[0])

        return await self._run(read)

    async def pending(self, limit: int = 100) -> list[Notification]:
        if limit < 1:
            return []

        def read(connection: sqlite3.Connection) -> list[tuple[int, str]]:
            return [
                (int(seq), str(doc))
                for seq, doc in connection.execute(
                    "SELECT seq, doc FROM alert_outbox ORDER BY seq LIMIT ?", (limit,)
                )
            ]

        rows = await self._run(read)
        return [
            replace(_decode(f"notification {seq}", _notification, doc), seq=seq)
            for seq, doc in rows
        ]

    async def mark_delivered(self, seqs: Iterable[int]) -> None:
        rows = [(int(seq),) for seq in seqs]
        if not rows:
            return

        def write(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                connection.executemany("DELETE FROM alert_outbox WHERE seq = ?", rows)

        await self._run(write, writes=True)

    async def get_thread(self, incident_key: str) -> SlackThread | None:
        def read(connection: sqlite3.Connection) -> str | None:
            row = connection.execute(
                "SELECT doc FROM alert_threads WHERE incident_key = ?", (incident_key,)
            ).fetchone()
            return None if row is None else str(row[0])

        doc = await self._run(read)
        return None if doc is None else _decode(f"thread {incident_key}", _thread, doc)

    async def put_thread(self, thread: SlackThread) -> None:
        row = (thread.incident_key, codec.dumps(codec.thread_to_dict(thread)).decode())

        def write(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                connection.execute(
                    "INSERT INTO alert_threads (incident_key, doc) VALUES (?, ?)"
                    " ON CONFLICT (incident_key) DO UPDATE SET doc = excluded.doc",
                    row,
                )

        await self._run(write, writes=True)

    async def audit_since(self, since: datetime | None) -> list[AuditRecord]:
        _check_since(since)
        bound = "" if since is None else _utc_text(since)

        def read(connection: sqlite3.Connection) -> list[tuple[int, str]]:
            return [
                (int(seq), str(doc))
                for seq, doc in connection.execute(
                    "SELECT seq, doc FROM alert_audit WHERE at_utc >= ? ORDER BY at_utc, seq",
                    (bound,),
                )
            ]

        rows = await self._run(read)
        records = [_decode(f"audit record {seq}", _audit_record, doc, seq) for seq, doc in rows]
        return sorted(records, key=_audit_order)

    async def close(self) -> None:
        await self._file.close()

    # -- in the worker thread ---------------------------------------------------------------

    async def _run(
        self, operation: Callable[[sqlite3.Connection], R], *, writes: bool = False
    ) -> R:
        if writes and self._read_only:
            raise AlertStoreError(f"alert store {self._path} is open read-only")
        return await self._file.run(operation)

    def _open_writable(self) -> sqlite3.Connection:
        # FULL: a commit lost in a power cut could send a Slack message twice.
        connection = open_writable(self._path, synchronous="FULL")
        try:
            self._migrate(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _open_read_only(self) -> sqlite3.Connection:
        """The file as it is (:func:`~wallboard.cache.sqlite_file.open_read_only`), never
        written; a file or schema that does not exist yet reads as an empty store (an in-memory
        one), since nothing was ever recorded in it."""
        connection = open_read_only(self._path)
        if connection is not None:
            try:
                version = _schema_version(connection)
            except BaseException:
                connection.close()
                raise
            if version == SCHEMA_VERSION:
                return connection
            connection.close()
            if version > SCHEMA_VERSION:
                raise self._too_new(version)
            if version > 0:  # an older schema with data in it: only a writer may upgrade it
                raise AlertStoreError(
                    f"alert store {self._path} has schema version {version}; start the daemon "
                    f"once to upgrade it to {SCHEMA_VERSION}"
                )
        empty = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._migrate(empty)
        return empty

    def _migrate(self, connection: sqlite3.Connection) -> None:
        with transaction(connection):
            connection.execute(
                "CREATE TABLE IF NOT EXISTS alert_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            version = _schema_version(connection)
            if version > SCHEMA_VERSION:
                raise self._too_new(version)
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(
                    "INSERT INTO alert_meta (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (_SCHEMA_KEY, str(target)),
                )
        if version < SCHEMA_VERSION and not self._read_only:
            log.info("alert store %s migrated to schema version %d", self._path, SCHEMA_VERSION)

    def _too_new(self, version: int) -> AlertStoreError:
        return AlertStoreError(
            f"alert store {self._path} has schema version {version}, newer than this "
            f"wallboard understands ({SCHEMA_VERSION}); upgrade wallboard or use another path"
        )


def _schema_version(connection: sqlite3.Connection) -> int:
    """The alert tables' schema version; 0 when they were never created."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alert_meta'"
    ).fetchone()
    if exists is None:
        return 0
    row = connection.execute(
        "SELECT value FROM alert_meta WHERE key = ?", (_SCHEMA_KEY,)
    ).fetchone()
    if row is None:
        return 0
    try:
        return int(row[0])
    except ValueError:
        raise AlertStoreError(f"alert store: unreadable schema version {row[0]!r}") from None


def _returned_seq(connection: sqlite3.Connection, sql: str, *parameters: str) -> int:
    return int(connection.execute(sql, parameters).fetchone()[0])


# -- Redis ------------------------------------------------------------------------------------

# KEYS: 1 incidents (hash key → doc), 2 open (set of keys), 3 outbox seq counter, 4 outbox
# (hash seq → doc), 5 pending (zset seq by seq), 6 values (hash), 7 audit (hash seq → doc),
# 8 audit seq counter. ARGV: four counted groups, in that order: incidents (key, doc, "1" if
# open else "0"), notifications (doc), values (key, value), audit records (doc).
# Returns the notifications' seqs.
#
# Redis runs a script atomically but does not roll back one that fails half-way, so every key
# is checked before the first write: a key of the wrong type (someone else's data under our
# prefix) fails the whole commit, never a part of it. The shebang makes Redis (7+) refuse the
# script up front when it is out of memory, rather than failing at some write inside it.
_COMMIT_SCRIPT = """#!lua
local types = {'hash', 'set', 'string', 'hash', 'zset', 'hash', 'hash', 'string'}
for k = 1, #KEYS do
  local found = redis.call('TYPE', KEYS[k])['ok']
  if found ~= 'none' and found ~= types[k] then
    return redis.error_reply('WRONGTYPE ' .. KEYS[k] .. ' holds a ' .. found)
  end
  if found == 'string' and not tonumber(redis.call('GET', KEYS[k])) then
    return redis.error_reply('ERR ' .. KEYS[k] .. ' is not a counter')
  end
end
local i = 1
local function count()
  local n = tonumber(ARGV[i])
  i = i + 1
  return n
end
for _ = 1, count() do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] == '1' then
    redis.call('SADD', KEYS[2], ARGV[i])
  else
    redis.call('SREM', KEYS[2], ARGV[i])
  end
  i = i + 3
end
local seqs = {}
for _ = 1, count() do
  local seq = redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[4], seq, ARGV[i])
  redis.call('ZADD', KEYS[5], seq, seq)
  seqs[#seqs + 1] = seq
  i = i + 1
end
for _ = 1, count() do
  redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for _ = 1, count() do
  redis.call('HSET', KEYS[7], redis.call('INCR', KEYS[8]), ARGV[i])
  i = i + 1
end
return seqs
"""


class RedisAlertStore(_Shared):
    """:class:`AlertStore` in Redis, shared by every daemon instance. Owns ``redis``.

    Keys (all under ``{prefix}:alerts:``): ``incidents`` (hash key → JSON), ``open`` (set of
    open keys), ``seq`` and ``outbox`` (hash seq → JSON) with ``pending`` (sorted set of
    undelivered seqs), ``values`` (hash), ``threads`` (hash incident key → JSON), ``audit``
    (hash seq → JSON) and ``audit_seq``.
    """

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._base = f"{prefix}:alerts"
        self._commit_script = redis.register_script(_COMMIT_SCRIPT)

    def key(self, name: str) -> str:
        """The full Redis key of one of this store's structures (for operators and tests)."""
        return f"{self._base}:{name}"

    async def start(self) -> None:
        await self._call(self._redis.ping())

    async def _write(
        self,
        incidents: Sequence[Incident],
        notifications: Sequence[Notification],
        values: Mapping[str, bytes],
        audits: Sequence[AuditRecord],
    ) -> list[int]:
        args: list[bytes | str | int] = [len(incidents)]
        for incident in incidents:
            args += [incident.key, _incident_bytes(incident), "1" if incident.open else "0"]
        args.append(len(notifications))
        args += [_notification_bytes(n) for n in notifications]
        args.append(len(values))
        for key, value in values.items():
            args += [key, bytes(value)]
        args.append(len(audits))
        args += [_audit_document(r) for r in audits]
        names = ("incidents", "open", "seq", "outbox", "pending", "values", "audit", "audit_seq")
        reply = await self._call(
            self._commit_script(keys=[self.key(name) for name in names], args=args)
        )
        return [int(seq) for seq in reply]

    async def get_incident(self, key: str) -> Incident | None:
        doc: Any = await self._call(self._redis.hget(self.key("incidents"), key))
        return None if doc is None else _decode(f"incident {key}", _incident, doc)

    async def open_incidents(self) -> list[Incident]:
        keys: Any = await self._call(self._redis.smembers(self.key("open")))
        if not keys:
            return []
        ordered = sorted(keys)
        docs: Any = await self._call(self._redis.hmget(self.key("incidents"), ordered))
        incidents = [
            _decode(f"incident {key.decode(errors='replace')}", _incident, doc)
            for key, doc in zip(ordered, docs, strict=True)
            if doc is not None
        ]
        return sorted((i for i in incidents if i.open), key=_incident_order)

    async def all_incidents(self) -> list[Incident]:
        docs: Any = await self._call(self._redis.hgetall(self.key("incidents")))
        incidents = [
            _decode(f"incident {key.decode(errors='replace')}", _incident, doc)
            for key, doc in docs.items()
        ]
        return sorted(incidents, key=_incident_order)

    async def get_value(self, key: str) -> bytes | None:
        value: Any = await self._call(self._redis.hget(self.key("values"), key))
        return None if value is None else bytes(value)

    async def pending(self, limit: int = 100) -> list[Notification]:
        if limit < 1:
            return []
        members: Any = await self._call(self._redis.zrange(self.key("pending"), 0, limit - 1))
        if not members:
            return []
        seqs = [int(member) for member in members]
        docs: Any = await self._call(self._redis.hmget(self.key("outbox"), seqs))
        # A seq delivered between the two reads has no document any more: it is not pending.
        return [
            replace(_decode(f"notification {seq}", _notification, doc), seq=seq)
            for seq, doc in zip(seqs, docs, strict=True)
            if doc is not None
        ]

    async def mark_delivered(self, seqs: Iterable[int]) -> None:
        members = [int(seq) for seq in seqs]
        if not members:
            return

        async def write() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self.key("pending"), *members)
                pipe.hdel(self.key("outbox"), *members)
                await pipe.execute()

        await self._call(write())

    async def get_thread(self, incident_key: str) -> SlackThread | None:
        doc: Any = await self._call(self._redis.hget(self.key("threads"), incident_key))
        return None if doc is None else _decode(f"thread {incident_key}", _thread, doc)

    async def put_thread(self, thread: SlackThread) -> None:
        doc = codec.dumps(codec.thread_to_dict(thread))
        await self._call(self._redis.hset(self.key("threads"), thread.incident_key, doc))

    async def audit_since(self, since: datetime | None) -> list[AuditRecord]:
        _check_since(since)
        entries: Any = await self._call(self._redis.hgetall(self.key("audit")))
        records = [
            _decode(f"audit record {int(seq)}", _audit_record, doc, int(seq))
            for seq, doc in entries.items()
        ]
        return sorted((r for r in records if since is None or r.at >= since), key=_audit_order)

    async def close(self) -> None:
        await self._redis.aclose()

    async def _call(self, operation: Awaitable[Any]) -> Any:
        try:
            return await operation
        except (RedisError, OSError) as error:
            raise AlertStoreError(f"alert store in Redis: {error}") from error
