"""What ``wallboard ledger`` reads: the daemon's durable stores for this config, opened so that
the ledger never writes.

The ledger must work beside a running daemon and after it stopped, and must never write: an
auditor running it (perhaps as another user) must not create a state file at a mistyped path
nor leave SQLite side files the daemon's user cannot open. So the SQLite stores are opened
``read_only`` (which also makes a missing state file an error that names ``state.path``);
Redis readers never write anyway. Everything an audit needs beyond the daemon's own reads
(:meth:`~wallboard.cache.history.HistoryStore.stored_days`,
:meth:`~wallboard.alerts.store.AlertStore.all_incidents`) is part of the stores themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

from wallboard.alerts.store import AlertStore, RedisAlertStore, SqliteAlertStore
from wallboard.cache.factory import CacheSettings, connect_redis
from wallboard.cache.history import HistoryStore, RedisHistoryStore, SqliteHistoryStore

__all__ = ["DayHistory", "IncidentHistory", "open_ledger_sources"]

#: The history as the ledger reads it: every stored day (``stored_days``) and the recorded
#: day settings and period anchors (``get_value``).
DayHistory: TypeAlias = HistoryStore
#: The alert store as the ledger reads it: every incident (``all_incidents``) and the audit.
IncidentHistory: TypeAlias = AlertStore


def open_ledger_sources(
    cache: CacheSettings, state_path: Path
) -> tuple[DayHistory, IncidentHistory]:
    """The history and the alert store for this config, read-only (nothing opens until the
    first read; close both)."""
    if cache.backend == "memory":
        return (
            SqliteHistoryStore(state_path, read_only=True),
            SqliteAlertStore(state_path, read_only=True),
        )
    if cache.backend == "redis":
        return (
            RedisHistoryStore(connect_redis(cache.redis_url), cache.key_prefix),
            RedisAlertStore(connect_redis(cache.redis_url), cache.key_prefix),
        )
    raise ValueError(f"unknown cache backend {cache.backend!r} (memory or redis)")
