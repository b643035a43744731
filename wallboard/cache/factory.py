"""Build the configured cache: the snapshot store and the history store for one backend.

``backend = "memory"``: an in-process snapshot store (always the writer) and SQLite history in
the state file. ``backend = "redis"``: both shared through Redis, with leader election, so
several daemon instances serve one floor while only the leader polls VICIdial.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from wallboard.cache.base import SnapshotCodec, SnapshotStore, T
from wallboard.cache.history import HistoryStore, RedisHistoryStore, SqliteHistoryStore
from wallboard.cache.memory import MemorySnapshotStore
from wallboard.cache.redis_backend import RedisSnapshotStore


class CacheSettings(Protocol):
    """The part of the ``[cache]`` config section the factories read."""

    @property
    def backend(self) -> str: ...

    @property
    def redis_url(self) -> str: ...

    @property
    def key_prefix(self) -> str: ...

    @property
    def lock_ttl(self) -> timedelta: ...


def connect_redis(url: str, *, timeout: float = 5.0) -> Redis:
    """A Redis client that fails fast: our own loops retry, with backoff and one log line.

    Replies stay bytes (snapshots are bytes). The client connects lazily, on first use.
    """
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(ExponentialBackoff(cap=timeout / 4, base=0.05), retries=1),
        decode_responses=False,
    )


def create_snapshot_store(
    cache_config: CacheSettings,
    codec: SnapshotCodec[T],
    *,
    on_leadership_change: Callable[[bool], None] | None = None,
) -> SnapshotStore[T]:
    """The snapshot store for ``cache_config.backend``.

    Its ``leadership`` says whether this instance is the writer (memory: from ``start()`` to
    ``close()``); leader-only components subscribe to it. ``on_leadership_change``, when given,
    is one more such subscription, made before ``start()`` so it hears the first transition.
    """
    if cache_config.backend == "memory":
        return MemorySnapshotStore(on_leadership_change=on_leadership_change)
    if cache_config.backend == "redis":
        ttl = cache_config.lock_ttl.total_seconds()
        return RedisSnapshotStore(
            connect_redis(cache_config.redis_url, timeout=_redis_timeout(ttl)),
            codec,
            prefix=cache_config.key_prefix,
            lock_ttl=ttl,
            on_leadership_change=on_leadership_change,
        )
    raise ValueError(f"unknown cache backend {cache_config.backend!r} (memory or redis)")


def create_history_store(cache_config: CacheSettings, state_path: str | Path) -> HistoryStore:
    """SQLite at ``state_path`` for the memory backend; Redis (shared) for the redis backend."""
    if cache_config.backend == "memory":
        return SqliteHistoryStore(state_path)
    if cache_config.backend == "redis":
        ttl = cache_config.lock_ttl.total_seconds()
        return RedisHistoryStore(
            connect_redis(cache_config.redis_url, timeout=_redis_timeout(ttl)),
            cache_config.key_prefix,
        )
    raise ValueError(f"unknown cache backend {cache_config.backend!r} (memory or redis)")


def _redis_timeout(lock_ttl: float) -> float:
    # A leader must notice a dead Redis well before its lock could expire.
    return max(0.1, min(5.0, lock_ttl / 3))
