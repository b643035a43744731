"""Run the daemon in-process on 127.0.0.1:0 against a simulator, with a controllable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.serving import serving
from tests.support.waiting import eventually
from wallboard.config import Settings, load_default_config
from wallboard.daemon import POLLER, build_daemon_app
from wallboard.poller import Poller


class FakeClock:
    """The daemon's wall clock, advanced by tests instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def daemon_settings(base_url: str, state_dir: Path, **sections: Any) -> Settings:
    """The embedded default config pointed at a simulator, with quiet test cadences.

    Intervals are long so nothing polls on its own during a test beyond the start-up round;
    tests call ``poller.poll(name)`` to poll when they choose.
    """
    overrides: dict[str, Any] = {
        "vicidial": {"url": base_url, "timeout": "2s"},
        "web": {"listen": "127.0.0.1:0"},
        "state": {"path": str(state_dir / "wallboard.db")},
        "poll": {
            "agents_interval": "10m",
            "stats_interval": "10m",
            "campaigns_interval": "10m",
            "hopper_interval": "10m",
            "ingroups_interval": "10m",
            "jitter": "0s",
            "history_days": 5,
            "history_throttle": "0s",
            # Tests poll by hand as fast as they like (the fake clock moves, the budget's
            # minute is real): the request budget has its own tests and bench.
            "max_requests_per_minute": 100_000,
        },
        "alerts": {"stale_after": "40m"},
    }
    for section, values in sections.items():
        if isinstance(values, dict):
            overrides.setdefault(section, {}).update(values)
        else:  # an array of tables such as [[boards]] replaces the default
            overrides[section] = values
    return load_default_config(overrides)


@dataclass
class DaemonHandle:
    url: str
    app: web.Application
    session: aiohttp.ClientSession

    @property
    def poller(self) -> Poller:
        return self.app[POLLER]

    async def get_json(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.url + path) as response:
            return response.status, await response.json()

    async def snapshot(self) -> Any:
        status, document = await self.get_json("/api/snapshot")
        assert status == 200, document
        return document

    async def wait_started(self, *, within: float = 15.0) -> None:
        """Until the start-up round of every source and the history window are done."""

        def started() -> bool:
            poller = self.app.get(POLLER)
            if poller is None or not poller.running or poller.history_day is None:
                return False
            return all(s.last_success or s.last_error for s in poller.statuses.values())

        await eventually(started, within=within, what="daemon start-up round")


@asynccontextmanager
async def running_daemon(
    settings: Settings, *, clock: FakeClock | None = None, instance: str | None = None
) -> AsyncIterator[DaemonHandle]:
    kwargs: dict[str, Any] = {"instance": instance}
    if clock is not None:
        kwargs["clock"] = clock
    app = build_daemon_app(settings, **kwargs)
    async with serving(app) as url, aiohttp.ClientSession() as session:
        yield DaemonHandle(url, app, session)
