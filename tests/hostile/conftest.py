"""A real daemon for the hostile-input tests: the simulator behind it, 127.0.0.1:0 in front."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import DaemonHandle, daemon_settings, running_daemon
from tests.support.sim import running_simulator


@asynccontextmanager
async def floor_daemon(state_dir: Path, **sections: Any) -> AsyncIterator[DaemonHandle]:
    """``wallboard run`` in-process against a simulated floor, its first poll round done."""
    async with running_simulator(seed=5) as sim:
        settings = daemon_settings(sim.base_url, state_dir, **sections)
        async with running_daemon(settings) as daemon:
            await daemon.wait_started()
            yield daemon


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record, DEBUG included: what aiohttp logs below WARNING must be seen too."""
    caplog.set_level(logging.DEBUG)
    return caplog


def refused_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The lines that report a request the HTTP parser refused."""
    return [
        record
        for record in caplog.records
        if record.name == "aiohttp.server" and record.levelno >= logging.INFO
    ]


def assert_no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing the clients sent made the daemon log an error or a traceback."""
    bad = [
        f"{record.levelname} {record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.exc_info or record.exc_text or record.levelno >= logging.ERROR
    ]
    assert bad == [], bad
