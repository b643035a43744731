"""One SQLite file used from asyncio: the connection scaffolding both durable stores share.

The history store (:mod:`wallboard.cache.history`) and the alert store
(:mod:`wallboard.alerts.store`) keep different tables and version their schemas differently,
but they open, lock and read the same ``state.path`` the same way, so that part lives here once:

* :class:`ThreadedConnection`: ``sqlite3`` blocks, so every operation runs in a worker thread
  (``asyncio.to_thread``), serialised by a thread lock so a cancelled await can never let two
  threads share the connection; SQLite and OS errors come out as the store's own error type.
* :func:`open_writable`: WAL, autocommit (transactions are explicit: :func:`transaction`).
* :func:`open_read_only`: the file as it is, never created or written (``wallboard audit``,
  ``wallboard ledger``). A WAL database opened read-only makes SQLite create its ``-wal`` and
  ``-shm`` files when they are missing, owned by whoever reads (``sudo wallboard audit``), which
  would then lock the daemon's user out of its own state file. They are missing only when no
  daemon has the file open, so then it is read as ``immutable`` (no locks, no side files);
  while a daemon runs, the reader joins its WAL and sees every committed write.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

R = TypeVar("R")

#: How long a statement waits for another connection's lock before failing.
BUSY_TIMEOUT_MS = 5000


class ThreadedConnection:
    """A lazily opened connection, used one operation at a time from worker threads.

    ``opener`` runs in the worker thread on first use; ``error`` turns a message into the
    store's exception (``"<what> <path>: <sqlite's message>"``).
    """

    def __init__(
        self,
        opener: Callable[[], sqlite3.Connection],
        *,
        what: str,
        error: Callable[[str], Exception],
    ) -> None:
        self._opener = opener
        self._what = what
        self._error = error
        self._connection: sqlite3.Connection | None = None
        self._thread_lock = threading.Lock()
        self._closed = False

    async def run(self, operation: Callable[[sqlite3.Connection], R]) -> R:
        return await asyncio.to_thread(self._locked, operation)

    async def close(self) -> None:
        def close_connection() -> None:
            with self._thread_lock:
                self._closed = True
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None

        await asyncio.to_thread(close_connection)

    def _locked(self, operation: Callable[[sqlite3.Connection], R]) -> R:
        with self._thread_lock:
            if self._closed:
                raise self._error(f"{self._what} is closed")
            try:
                if self._connection is None:
                    self._connection = self._opener()
                return operation(self._connection)
            except (sqlite3.Error, OSError) as error:
                raise self._error(f"{self._what}: {error}") from error


def open_writable(path: Path, *, synchronous: str) -> sqlite3.Connection:
    """The file for writing (created with its directory when missing): WAL, autocommit,
    ``synchronous`` as the store needs it (``FULL`` where a lost commit would resend a Slack
    message, ``NORMAL`` where a lost day is fetched again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {synchronous}")
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
    except BaseException:
        connection.close()
        raise
    return connection


def open_read_only(path: Path) -> sqlite3.Connection | None:
    """The file as it is, never written (see the module docstring); ``None`` when it does not
    exist. Schema checks are the caller's."""
    if not path.exists():
        return None
    in_use = Path(f"{path}-wal").exists()
    uri = f"{path.absolute().as_uri()}?mode=ro{'' if in_use else '&immutable=1'}"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
    except BaseException:
        connection.close()
        raise
    return connection


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (autocommit connections)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
