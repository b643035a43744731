"""Shared test set-up: hypothesis profiles and a real redis-server per test.

The Redis fixture skips when redis-server is missing, or fails when
WALLBOARD_REQUIRE_SYSTEM_DEPS=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.redis_server import RedisServer, running_redis_server

# CI runs the same examples every time (a red CI must be reproducible and never a coin toss);
# local runs keep exploring new ones. No deadlines: a loaded 2-core CI box is not a bug.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url
