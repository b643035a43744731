"""The cache between the poller (the only writer) and every reader; see ``base``."""

from wallboard.cache.base import Leadership, SnapshotCodec, SnapshotStore, Unsubscribe
from wallboard.cache.factory import (
    CacheSettings,
    connect_redis,
    create_history_store,
    create_snapshot_store,
)
from wallboard.cache.history import (
    DayTotals,
    HistoryStore,
    HistoryStoreError,
    RedisHistoryStore,
    SqliteHistoryStore,
)
from wallboard.cache.identity import instance_name
from wallboard.cache.leader import LeaderElection, SoloLeadership
from wallboard.cache.memory import MemorySnapshotStore
from wallboard.cache.redis_backend import RedisSnapshotStore

__all__ = [
    "CacheSettings",
    "DayTotals",
    "HistoryStore",
    "HistoryStoreError",
    "LeaderElection",
    "Leadership",
    "MemorySnapshotStore",
    "RedisHistoryStore",
    "RedisSnapshotStore",
    "SnapshotCodec",
    "SnapshotStore",
    "SoloLeadership",
    "SqliteHistoryStore",
    "Unsubscribe",
    "connect_redis",
    "create_history_store",
    "create_snapshot_store",
    "instance_name",
]
