"""The factories pick the backend named in ``[cache]``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.cache.helpers import Board, BoardCodec
from tests.support.redis_server import RedisServer
from wallboard.cache import (
    MemorySnapshotStore,
    RedisHistoryStore,
    RedisSnapshotStore,
    SqliteHistoryStore,
    create_history_store,
    create_snapshot_store,
)


@dataclass(frozen=True)
class Settings:
    backend: str
    redis_url: str = "redis://127.0.0.1:1/0"
    key_prefix: str = "wb-test"
    lock_ttl: timedelta = timedelta(seconds=1)


async def test_memory_backend_gives_an_in_process_store_and_sqlite_history(
    tmp_path: Path,
) -> None:
    changes: list[bool] = []
    store = create_snapshot_store(
        Settings("memory"), BoardCodec(), on_leadership_change=changes.append
    )
    history = create_history_store(Settings("memory"), tmp_path / "wallboard.db")

    assert isinstance(store, MemorySnapshotStore)
    assert isinstance(history, SqliteHistoryStore)
    assert history.path == tmp_path / "wallboard.db"
    await store.start()
    assert changes == [True]
    await store.close()
    await history.close()


async def test_redis_backend_shares_snapshots_and_history(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    settings = Settings("redis", redis_url=redis_server.url)
    changes: list[bool] = []
    store = create_snapshot_store(settings, BoardCodec(), on_leadership_change=changes.append)
    history = create_history_store(settings, tmp_path / "unused.db")
    assert isinstance(store, RedisSnapshotStore)
    assert isinstance(history, RedisHistoryStore)
    try:
        await store.start()
        assert changes == [True]
        assert store.is_writer
        assert await store.publish(Board("floor", 1)) is True
        await history.set_value("k", b"v")
        assert await history.get_value("k") == b"v"
    finally:
        await store.close()
        await history.close()
    assert changes == [True, False]
    assert not (tmp_path / "unused.db").exists()


def test_an_unknown_backend_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="memcached"):
        create_snapshot_store(Settings("memcached"), BoardCodec())
    with pytest.raises(ValueError, match="memcached"):
        create_history_store(Settings("memcached"), tmp_path / "x.db")
