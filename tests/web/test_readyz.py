"""``/readyz``: 200 only when every floor source is fresh; a blocked login says its fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from tests.support.daemon import FakeClock
from tests.support.serving import serving
from tests.web.floor import FakeStore, floor_snapshot
from wallboard.snapshot import LoginBlock
from wallboard.web.app import build_web_app
from wallboard.web.keys import WebContext

NOW = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)


async def test_ready_stale_and_login_blocked() -> None:
    clock = FakeClock(NOW)
    store = FakeStore()
    app = build_web_app(WebContext(store=store, limit=0.03, clock=clock))
    async with serving(app) as url, aiohttp.ClientSession() as http:

        async def ready() -> tuple[int, Any]:
            async with http.get(url + "/readyz") as response:
                return response.status, await response.json()

        assert (await ready())[0] == 503, "no snapshot yet"
        store.snapshot = floor_snapshot(NOW)
        status, body = await ready()
        assert status == 200, body

        clock.advance(95)  # agents (30 s) past 3 intervals; version (600 s) is no floor source
        status, body = await ready()
        assert status == 503
        assert body["reason"] == "stale sources"
        assert set(body["sources"]) == {"logged_in_agents", "in_group_status"}

        clock.advance(-95)
        block = LoginBlock(
            cause="locked",
            fix="VICIdial locked the API user; fix vicidial.user/pass first",
            since=NOW,
            next_probe=NOW + timedelta(minutes=15),
        )
        store.snapshot = replace(floor_snapshot(NOW), login_block=block)
        status, body = await ready()
        assert status == 503, "a blocked login is not ready, even with fresh figures"
        assert "locked" in str(body["reason"])
        assert block.fix in str(body["reason"])
        assert body["login"] == {
            "cause": "locked",
            "fix": block.fix,
            "next_probe": "2026-11-25T15:19:05Z",
        }
