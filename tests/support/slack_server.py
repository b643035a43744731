"""A local Slack-Web-API-compatible server that slack-sdk reaches through its ``base_url``.

It implements what the daemon calls, with Slack's own answer shapes: ``auth.test`` for now.
Tokens are checked like Slack does (``Authorization: Bearer``), and every call is recorded
(without the token) so tests can assert what was sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.serving import serving


@dataclass
class SlackStandIn:
    token: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    base_url: str = ""

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"Bearer {self.token}"

    async def auth_test(self, request: web.Request) -> web.Response:
        self.calls.append(("auth.test", {}))
        if not self._authorised(request):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(
            {
                "ok": True,
                "url": "https://floor.slack.example/",
                "team": "Floor",
                "user": "wallboard",
                "team_id": "T0001",
                "user_id": "U0001",
                "bot_id": "B0001",
            }
        )


@asynccontextmanager
async def running_slack(token: str = "xoxb-test-token-1234") -> AsyncIterator[SlackStandIn]:
    slack = SlackStandIn(token=token)
    app = web.Application()
    app.router.add_post("/api/auth.test", slack.auth_test)
    async with serving(app) as url:
        slack.base_url = f"{url}/api/"
        yield slack
