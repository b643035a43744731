"""A local Slack-Web-API-compatible server that slack-sdk reaches through its ``base_url``.

It implements what the daemon calls, with Slack's own answer shapes and error codes:
``auth.test``, ``conversations.list`` (cursor-paged), ``conversations.history`` and
``conversations.replies`` (message ``metadata`` only with ``include_all_metadata``),
``chat.postMessage`` (a channel ID, ``#name`` or ``name``) and ``chat.update`` (a channel *ID*
only, as Slack wants: a name gets ``channel_not_found``; an unknown ``ts`` gets
``message_not_found``). Tokens are checked like Slack does (``Authorization: Bearer`` or a
``token`` parameter), and every request is recorded without the token, stamped with the
stand-in's clock, so tests can assert what was sent and when.

Faults are chosen by the test, the way a real Slack fails:

* :meth:`SlackStandIn.fail_next` — the next ``count`` matching requests get a 429 with
  ``Retry-After``, a 500, ``invalid_auth``, are *accepted then dropped* (the message is stored
  but the client never hears back: the unknown-outcome case), or are accepted and never
  answered (the client times out);
* :meth:`SlackStandIn.go_down` / :meth:`SlackStandIn.come_back` — a full outage: connections
  refused (the port closed), or every request answered 503, optionally for ``seconds`` of the
  stand-in's clock so a two-minute outage needs no two minutes of waiting.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

DEFAULT_TOKEN = "xoxb-test-token-1234"

#: Channels every stand-in has; ``floor`` is on the second ``conversations.list`` page, so
#: name resolution must follow the cursor. ``C0LOBBY`` is a channel the bot is not in.
DEFAULT_CHANNELS: tuple[tuple[str, str], ...] = (
    ("C0GENERAL1", "general"),
    ("C0RANDOM01", "random"),
    ("C0LOBBY001", "lobby"),
    ("C0FLOOR001", "floor"),
    ("C0OPS00001", "ops"),
)
NOT_A_MEMBER = frozenset({"C0LOBBY001"})

FaultKind = Literal["ratelimited", "server_error", "invalid_auth", "drop", "hang"]


@dataclass(frozen=True)
class Call:
    """One request as the stand-in saw it: the method, its parameters (never the token), and
    the stand-in's clock when it arrived."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Message:
    """One stored message: a parent (``thread_ts`` None) or a thread reply."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None
    metadata: dict[str, Any] | None
    thread_ts: str | None
    updates: int = 0

    def as_slack(self, *, with_metadata: bool) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "type": "message",
            "user": "U0001",
            "bot_id": "B0001",
            "ts": self.ts,
            "text": self.text,
        }
        if self.blocks is not None:
            shown["blocks"] = self.blocks
        if self.thread_ts is not None:
            shown["thread_ts"] = self.thread_ts
        if self.updates:
            shown["edited"] = {"user": "U0001", "ts": self.ts}
        if with_metadata and self.metadata is not None:
            shown["metadata"] = self.metadata
        return shown


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int
    methods: frozenset[str] | None
    retry_after: int


@dataclass
class SlackStandIn:
    token: str
    clock: Callable[[], float] = time.monotonic
    #: Largest page ``conversations.list`` / ``conversations.history`` return whatever the
    #: ``limit`` asked (Slack may return fewer than asked): small, so cursors are exercised.
    list_page_size: int = 2
    history_page_size: int = 100
    requests: list[Call] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))
    not_a_member: set[str] = field(default_factory=lambda: set(NOT_A_MEMBER))
    base_url: str = ""
    port: int = 0
    _faults: list[_Fault] = field(default_factory=list)
    _down: Literal["refuse", "503"] | None = None
    _down_until: float | None = None
    _last_ts: float = 0.0
    _hung: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    _site: web.TCPSite | None = None

    # --- what tests read -------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """The recorded requests, all or one method's, in arrival order."""
        return [c for c in self.requests if method is None or c.method == method]

    def parents(self, channel: str = "C0FLOOR001") -> list[Message]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts is None]

    def replies(self, parent_ts: str) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == parent_ts]

    def add_channel(self, channel_id: str, name: str, *, member: bool = True) -> None:
        self.channels[channel_id] = name
        if not member:
            self.not_a_member.add(channel_id)

    # --- faults the test chooses -----------------------------------------------------------

    def fail_next(
        self,
        kind: FaultKind,
        count: int = 1,
        *,
        methods: Iterable[str] | None = None,
        retry_after: int = 1,
    ) -> None:
        """The next ``count`` requests (of ``methods``, or any) fail as ``kind``.

        ``drop`` and ``hang`` do the work first (a message is stored) and then close the
        connection without an answer, or never answer: what a timeout looks like to a client.
        """
        chosen = None if methods is None else frozenset(methods)
        self._faults.append(_Fault(kind, count, chosen, retry_after))

    def clear_faults(self) -> None:
        """Forget the faults not yet used up."""
        self._faults.clear()

    async def go_down(
        self, how: Literal["refuse", "503"] = "503", *, seconds: float | None = None
    ) -> None:
        """A full outage: the port closed (``refuse``), or 503 for everything.

        A ``503`` outage with ``seconds`` ends by itself once the stand-in's clock has moved
        that far, so a test with a fake clock can have a long outage without waiting for it.
        """
        if how == "refuse" and seconds is not None:
            raise ValueError("a refused-connection outage ends with come_back(), not by time")
        self._down = how
        self._down_until = None if seconds is None else self.clock() + seconds
        if how == "refuse" and self._site is not None:
            await self._site.stop()
            self._site = None

    async def come_back(self) -> None:
        self._down, self._down_until = None, None
        if self._site is None and self._runner is not None:
            self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            await self._site.start()

    def release_hung(self) -> None:
        """Let requests held by a ``hang`` fault finish (their clients have long given up)."""
        self._hung.set()

    # --- the HTTP side ---------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._dispatch)
        return app

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        token = params.pop("token", None)
        self.requests.append(Call(method, params, self.clock()))
        if self._down == "503" and (self._down_until is None or self.clock() < self._down_until):
            return _html(503, "Service Unavailable")
        fault = self._take_fault(method)
        if fault is not None and fault.kind == "ratelimited":
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault is not None and fault.kind == "server_error":
            return _html(500, "Internal Server Error")
        if fault is not None and fault.kind == "invalid_auth":
            return _error("invalid_auth")
        bearer = request.headers.get("Authorization", "")
        if not bearer and token is None:
            return _error("not_authed")
        if bearer != f"Bearer {self.token}" and token != self.token:
            return _error("invalid_auth")
        handler = _HANDLERS.get(method)
        if handler is None:
            return _error("unknown_method")
        answer = handler(self, params)
        if fault is not None and fault.kind == "drop":
            # The work is done (the message is stored); the client never hears about it.
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        if fault is not None and fault.kind == "hang":
            await self._hung.wait()
        return web.json_response(answer)

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and (fault.methods is None or method in fault.methods):
                fault.remaining -= 1
                return fault
        return None

    # --- the methods -----------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://floor.slack.example/",
            "team": "Floor",
            "user": "wallboard",
            "team_id": "T0001",
            "user_id": "U0001",
            "bot_id": "B0001",
        }

    def _conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        listed = list(self.channels.items())
        start = int(params.get("cursor") or 0)
        size = min(int(params.get("limit") or 100), self.list_page_size)
        page = listed[start : start + size]
        following = start + size if start + size < len(listed) else None
        return {
            "ok": True,
            "channels": [
                {
                    "id": cid,
                    "name": name,
                    "is_channel": True,
                    "is_archived": False,
                    "is_member": cid not in self.not_a_member,
                }
                for cid, name in page
            ],
            "response_metadata": {"next_cursor": "" if following is None else str(following)},
        }

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_a_member:
            return {"ok": False, "error": "not_in_channel"}
        oldest = float(params.get("oldest") or 0)
        newest_first = [
            m
            for m in reversed(self.messages)
            if m.channel == channel and m.thread_ts is None and float(m.ts) >= oldest
        ]
        start = int(params.get("cursor") or 0)
        size = min(int(params.get("limit") or 100), self.history_page_size)
        page = newest_first[start : start + size]
        more = start + size < len(newest_first)
        with_metadata = _flag(params.get("include_all_metadata"))
        shown = []
        for message in page:
            one = message.as_slack(with_metadata=with_metadata)
            thread = self.replies(message.ts)
            if thread:
                one.update(thread_ts=message.ts, reply_count=len(thread))
            shown.append(one)
        return {
            "ok": True,
            "messages": shown,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""},
        }

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        parent = self._find(channel, str(params.get("ts", "")))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        thread = [parent, *self.replies(parent.ts)]
        start = int(params.get("cursor") or 0)
        size = min(int(params.get("limit") or 100), self.history_page_size)
        page = thread[start : start + size]
        more = start + size < len(thread)
        with_metadata = _flag(params.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [m.as_slack(with_metadata=with_metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""},
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_by_id_or_name(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_a_member:
            return {"ok": False, "error": "not_in_channel"}
        text, blocks = str(params.get("text") or ""), _json_field(params.get("blocks"))
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None and self._find(channel, str(thread_ts)) is None:
            return {"ok": False, "error": "thread_not_found"}
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            metadata=_json_field(params.get("metadata")),
            thread_ts=None if thread_ts is None else str(thread_ts),
        )
        self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": message.as_slack(with_metadata=False),
        }

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.channels:  # Slack's chat.update takes IDs only
            return {"ok": False, "error": "channel_not_found"}
        message = self._find(channel, str(params.get("ts", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if "text" in params:
            message.text = str(params["text"])
        if "blocks" in params:
            message.blocks = _json_field(params["blocks"])
        if "metadata" in params:
            message.metadata = _json_field(params["metadata"])
        message.updates += 1
        return {"ok": True, "channel": channel, "ts": message.ts, "text": message.text}

    def _channel_by_id_or_name(self, given: str) -> str | None:
        if given in self.channels:
            return given
        name = given.removeprefix("#")
        return next((cid for cid, n in self.channels.items() if n == name), None)

    def _find(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def _next_ts(self) -> str:
        """Slack's ``ts``: wall-clock seconds with six decimals, unique and increasing."""
        self._last_ts = max(round(time.time(), 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"


_HANDLERS: dict[str, Callable[[SlackStandIn, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": SlackStandIn._auth_test,
    "conversations.list": SlackStandIn._conversations_list,
    "conversations.history": SlackStandIn._conversations_history,
    "conversations.replies": SlackStandIn._conversations_replies,
    "chat.postMessage": SlackStandIn._chat_post_message,
    "chat.update": SlackStandIn._chat_update,
}


async def _params(request: web.Request) -> dict[str, Any]:
    """Query string plus body (JSON or form), as Slack reads them."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update(await request.post())
    return params


def _json_field(value: Any) -> Any:
    """Slack takes ``blocks``/``metadata`` as JSON objects or as JSON-encoded strings."""
    if isinstance(value, str) and value:
        return json.loads(value)
    return value or None


def _flag(value: Any) -> bool:
    return str(value).lower() in {"1", "true"}


def _error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})


def _html(status: int, reason: str) -> web.Response:
    return web.Response(
        status=status, text=f"<html><body>{reason}</body></html>", content_type="text/html"
    )


@asynccontextmanager
async def running_slack(
    token: str = DEFAULT_TOKEN, *, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[SlackStandIn]:
    """A stand-in on 127.0.0.1 with an OS-assigned port; ``base_url`` ends in ``/api/``."""
    slack = SlackStandIn(token=token, clock=clock)
    runner = web.AppRunner(slack.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        slack.port = int(runner.addresses[0][1])
        slack._runner, slack._site = runner, site
        slack.base_url = f"http://127.0.0.1:{slack.port}/api/"
        yield slack
    finally:
        slack.release_hung()
        await runner.cleanup()
