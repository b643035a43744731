"""Where the alert engine publishes its :class:`~wallboard.alerts.types.AlertView`.

The leader's engine writes it; every instance's TVs, ``/api/snapshot`` and ``/metrics`` read
it. It is a second snapshot store, generic like the first: in-process for the memory backend;
for Redis a second key (``{prefix}:alerts:snapshot``) written under the *same* leader
election as the floor snapshot, so the view and the figures are always written by one
instance.
"""

from __future__ import annotations

from typing import TypeVar

from wallboard.alerts.codec import dumps, loads, view_from_dict, view_to_dict
from wallboard.alerts.types import AlertView
from wallboard.cache.base import SnapshotStore
from wallboard.cache.factory import CacheSettings, connect_redis
from wallboard.cache.memory import MemorySnapshotStore
from wallboard.cache.redis_backend import RedisSnapshotStore


class AlertViewCodec:
    """Lossless bytes for the Redis store (the alert codec's JSON)."""

    def encode(self, view: AlertView) -> bytes:
        return dumps(view_to_dict(view))

    def decode(self, data: bytes) -> AlertView:
        return view_from_dict(loads(data))


T = TypeVar("T")


def create_alert_view_store(
    cache_config: CacheSettings, snapshots: SnapshotStore[T]
) -> SnapshotStore[AlertView]:
    """The view store beside ``snapshots`` (sharing its election on Redis)."""
    if isinstance(snapshots, RedisSnapshotStore):
        ttl = cache_config.lock_ttl.total_seconds()
        return RedisSnapshotStore(
            connect_redis(cache_config.redis_url, timeout=max(0.1, min(5.0, ttl / 3))),
            AlertViewCodec(),
            prefix=f"{cache_config.key_prefix}:alerts",
            lock_ttl=ttl,
            election=snapshots.election,
        )
    return MemorySnapshotStore()
