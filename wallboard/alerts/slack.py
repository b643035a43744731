"""Delivers an incident's notifications to Slack: one parent message, updated in place, and a
short thread reply per change. Called by the outbox task, never on the alert path.

Exactly once, although Slack gives no help: ``chat.postMessage`` has no idempotency key, so

* each parent carries its incident key in message metadata, and before a parent is posted the
  caller's ``record`` is told the post's outcome is unknown (``ts == ""``); a later delivery
  that finds ``ts == ""`` looks the parent up in ``conversations.history`` before posting;
* each reply carries its outbox ``seq`` in metadata, and a delivery into an existing thread
  first reads the thread (``conversations.replies``) and skips what is already there, so a
  crash (or a lost answer) between a reply and the outbox's bookkeeping sends nothing twice.

For the same reason the client has no connection-error retry handler (slack-sdk's default):
a dropped connection after Slack stored the message would post it again. Only a 429, which
Slack guarantees was not acted on, is retried in place (slack-sdk's
``AsyncRateLimitErrorRetryHandler``, waiting ``Retry-After`` through the injected ``sleep``).

The exception tree, caught by the outbox loop:

* :class:`SlackUnavailable` — outage, 5xx, timeout, 429 beyond what is retried in place; keep
  the notifications and try again after ``retry_after`` (when Slack said) or a backoff;
* :class:`SlackRejected` — a configuration problem (bad token, unknown channel, bot not in
  the channel, missing scope); keep the notifications, say it once, fix the config.

Writes are paced to one per second per channel (Slack's ``chat.postMessage`` limit). No
message, log line or exception ever contains the token.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from wallboard.alerts.slack_blocks import (
    INCIDENT_EVENT,
    NOTIFICATION_EVENT,
    incident_metadata,
    notification_metadata,
    parent_message,
    reply_text,
)
from wallboard.alerts.types import Action, Incident, Notification, SlackThread

__all__ = [
    "Delivered",
    "Record",
    "SlackError",
    "SlackRejected",
    "SlackSender",
    "SlackUnavailable",
]

log = logging.getLogger(__name__)

Record = Callable[[SlackThread], Awaitable[None]]
Delivered = Callable[[Notification], Awaitable[None]]

#: Slack channel, group and DM IDs; anything else is a name to resolve.
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
#: Answers that mean "this configuration cannot work": retrying will not help.
_REJECTED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "team_access_not_granted",
        "ekm_access_denied",
    }
)
#: Answers that mean "Slack is having trouble": try again later.
_TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_FIX = {
    "invalid_auth": "check [slack] token (a bot token, xoxb-...)",
    "not_authed": "set [slack] token",
    "token_revoked": "the token was revoked: reinstall the Slack app and use its new token",
    "missing_scope": "add the bot scopes listed in the README and reinstall the app",
    "channel_not_found": "check [slack] channel, and invite the bot to it",
    "not_in_channel": "invite the bot to the channel (/invite @<bot>)",
    "is_archived": "the channel is archived: choose another [slack] channel",
}


class SlackError(Exception):
    """A delivery did not complete; the notifications stay in the outbox."""


class SlackUnavailable(SlackError):
    """Slack could not be reached or asked us to wait: retry later, drop nothing."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SlackRejected(SlackError):
    """Slack refused the configuration (token, channel, scopes): retrying will not help."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class _MessageGone(Exception):
    """``chat.update`` found no message: somebody deleted the parent."""


class SlackSender:
    """Delivers one incident's pending notifications at a time (see the module docstring).

    ``clock``/``sleep`` are the monotonic clock and the sleep used for pacing and for
    ``Retry-After`` waits, injectable so tests neither sleep nor race. A ``Retry-After`` up to
    ``max_inline_wait`` is waited here (up to ``rate_limit_retries`` times per call); a longer
    one is raised as :class:`SlackUnavailable` with its ``retry_after`` for the outbox.
    ``history_limit`` bounds how many recent messages are searched for a lost parent.
    """

    def __init__(
        self,
        *,
        token: str,
        channel: str,
        base_url: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout: float = 10.0,
        min_interval: float = 1.0,
        max_inline_wait: float = 30.0,
        rate_limit_retries: int = 2,
        history_limit: int = 1000,
    ) -> None:
        self._token = token
        self._channel = channel
        self._base_url = base_url
        self._timeout = timeout
        self._history_limit = history_limit
        self._pacer = _Pacer(clock, sleep, min_interval)
        self._rate_limit = _RetryAfter(
            max_retry_count=rate_limit_retries, max_wait=max_inline_wait, sleep=sleep
        )
        self._channel_id: str | None = channel if _CHANNEL_ID.match(channel) else None
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

    def __repr__(self) -> str:
        return f"SlackSender(channel={self._channel!r}, base_url={self._base_url!r})"

    async def __aenter__(self) -> SlackSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session (the daemon's cleanup context calls this)."""
        session, self._session, self._client = self._session, None, None
        if session is not None:
            await session.close()

    # --- public --------------------------------------------------------------------------

    async def resolve_channel(self) -> str:
        """The configured channel's ID: an ID as given, a ``#name`` via ``conversations.list``
        (cached: a channel's ID never changes, and ``chat.update`` accepts nothing else)."""
        if self._channel_id is not None:
            return self._channel_id
        wanted = self._channel.removeprefix("#").lower()
        cursor: str | None = None
        while True:
            answer = await self._call(
                "conversations.list",
                self._web_client().conversations_list(
                    cursor=cursor,
                    limit=200,
                    exclude_archived=True,
                    types="public_channel,private_channel",
                ),
            )
            for channel in answer.get("channels") or ():
                if str(channel.get("name", "")).lower() == wanted:
                    self._channel_id = str(channel["id"])
                    return self._channel_id
            cursor = _next_cursor(answer)
            if cursor is None:
                raise SlackRejected(
                    f"conversations.list: no channel named #{wanted} is visible to the bot "
                    f"({_FIX['channel_not_found']})",
                    code="channel_not_found",
                )

    async def deliver(
        self,
        batch: Sequence[Notification],
        thread: SlackThread | None,
        *,
        record: Record,
        delivered: Delivered | None = None,
    ) -> SlackThread:
        """Bring one incident's Slack thread up to date with ``batch`` (its pending
        notifications, oldest first); return where the parent message is.

        ``record`` is awaited with the thread before a parent is posted (``ts=""``: outcome
        unknown) and again with its real ``ts``; store it durably before returning. The
        optional ``delivered`` is awaited for each notification as soon as it is in Slack, so
        an interrupted delivery resumes where it stopped. Raises :class:`SlackUnavailable` or
        :class:`SlackRejected`; what was not delivered stays the caller's to retry.

        Replies already in the thread (same incident key and ``seq`` in their metadata) are
        not posted again, so ``seq`` must be the outbox's (0 means unknown: always posted).
        One delivery per incident at a time; deliveries of different incidents may overlap
        (writes to a channel are serialised and paced).
        """
        if not batch:
            raise ValueError("deliver() needs at least one notification")
        key = batch[0].incident.key
        if any(n.incident.key != key for n in batch):
            raise ValueError("deliver() takes one incident's notifications at a time")
        newest = batch[-1].incident
        already: frozenset[int] = frozenset()
        if thread is not None and thread.ts:
            try:
                await self._update_parent(thread, newest)
                already = await self._replies_seen(thread)
            except _MessageGone:
                log.warning("Slack: the message of incident %s was deleted; posting it again", key)
                thread = await self._post_parent(thread.channel_id, newest, record)
        else:
            channel_id = thread.channel_id if thread else await self.resolve_channel()
            found = await self._find_parent(channel_id, key)
            if found is None:
                thread = await self._post_parent(channel_id, newest, record)
            else:
                log.info("Slack: found incident %s's message by its metadata; not reposting", key)
                thread = SlackThread(key, channel_id, found)
                await record(thread)
                await self._update_parent(thread, newest)
                already = await self._replies_seen(thread)
        for notification in batch:
            if notification.action is not Action.OPENED and notification.seq not in already:
                await self._reply(thread, notification)
            if delivered is not None:
                await delivered(notification)
        return thread

    # --- the steps -----------------------------------------------------------------------

    async def _post_parent(
        self, channel_id: str, incident: Incident, record: Record
    ) -> SlackThread:
        await record(SlackThread(incident.key, channel_id, ""))
        text, blocks = parent_message(incident)
        answer = await self._write(
            "chat.postMessage",
            channel_id,
            lambda c: c.chat_postMessage(
                channel=channel_id,
                text=text,
                blocks=blocks,
                metadata=incident_metadata(incident.key),
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        thread = SlackThread(
            incident.key, str(answer.get("channel") or channel_id), str(answer["ts"])
        )
        await record(thread)
        log.info("Slack: posted incident %s (%s %s)", incident.key, thread.channel_id, thread.ts)
        return thread

    async def _update_parent(self, thread: SlackThread, incident: Incident) -> None:
        text, blocks = parent_message(incident)
        try:
            await self._write(
                "chat.update",
                thread.channel_id,
                lambda c: c.chat_update(
                    channel=thread.channel_id,
                    ts=thread.ts,
                    text=text,
                    blocks=blocks,
                    metadata=incident_metadata(incident.key),
                ),
            )
        except SlackRejected as rejected:
            if rejected.code == "message_not_found":
                raise _MessageGone from None
            raise

    async def _reply(self, thread: SlackThread, notification: Notification) -> None:
        await self._write(
            "chat.postMessage",
            thread.channel_id,
            lambda c: c.chat_postMessage(
                channel=thread.channel_id,
                thread_ts=thread.ts,
                text=reply_text(notification),
                metadata=notification_metadata(notification),
                unfurl_links=False,
                unfurl_media=False,
            ),
        )

    async def _find_parent(self, channel_id: str, key: str) -> str | None:
        """The ``ts`` of this incident's parent among the channel's recent messages, if a
        post whose answer was lost did reach Slack."""
        seen, cursor = 0, None
        while seen < self._history_limit:
            answer = await self._call(
                "conversations.history",
                self._web_client().conversations_history(
                    channel=channel_id,
                    cursor=cursor,
                    limit=min(200, self._history_limit - seen),
                    include_all_metadata=True,
                ),
            )
            messages = answer.get("messages") or []
            for message in messages:
                if _metadata_of(message, INCIDENT_EVENT).get("key") == key:
                    return str(message["ts"])
            seen += len(messages)
            cursor = _next_cursor(answer)
            if cursor is None or not messages:
                return None
        return None

    async def _replies_seen(self, thread: SlackThread) -> frozenset[int]:
        """The outbox ``seq`` of every reply already in the thread."""
        seqs: set[int] = set()
        cursor: str | None = None
        while True:
            answer = await self._call(
                "conversations.replies",
                self._web_client().conversations_replies(
                    channel=thread.channel_id,
                    ts=thread.ts,
                    cursor=cursor,
                    limit=200,
                    include_all_metadata=True,
                ),
            )
            for message in answer.get("messages") or ():
                payload = _metadata_of(message, NOTIFICATION_EVENT)
                if payload.get("key") == thread.incident_key and isinstance(
                    payload.get("seq"), int
                ):
                    seqs.add(payload["seq"])
            cursor = _next_cursor(answer)
            if cursor is None:
                # seq 0 is "not assigned": never treat it as already sent.
                return frozenset(seqs - {0})

    # --- transport -----------------------------------------------------------------------

    async def _write(
        self,
        method: str,
        channel_id: str,
        send: Callable[[AsyncWebClient], Awaitable[Any]],
    ) -> dict[str, Any]:
        """A paced write: one per ``min_interval`` per channel, counted from the end of the
        previous one (so a write retried after a 429 still leaves a gap before the next)."""
        async with self._pacer.turn(channel_id):
            try:
                return await self._call(method, send(self._web_client()))
            except SlackUnavailable as unavailable:
                if unavailable.retry_after is not None:
                    self._pacer.hold(channel_id, unavailable.retry_after)
                raise

    async def _call(self, method: str, sending: Awaitable[Any]) -> dict[str, Any]:
        """One API call, its failures turned into our two exceptions (built from the method
        name and Slack's error code only: slack-sdk's own errors carry the request)."""
        try:
            response = await sending
        except SlackApiError as error:
            raise _classify(method, error) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            what = "no answer from" if isinstance(error, TimeoutError) else "cannot reach"
            raise SlackUnavailable(
                f"{method}: {what} Slack at {self._base_url} ({type(error).__name__})"
            ) from None
        data = response.data
        return data if isinstance(data, dict) else {}

    def _web_client(self) -> AsyncWebClient:
        if self._client is None:
            # force_close: a fresh connection per call, so an idle connection the server has
            # closed can never turn a harmless call into an "unknown outcome".
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                connector=aiohttp.TCPConnector(force_close=True),
            )
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                session=self._session,
                timeout=max(1, math.ceil(self._timeout)),
                retry_handlers=[self._rate_limit],
            )
        return self._client


class _Pacer:
    """At most one write per ``interval`` per channel, and none before a ``Retry-After``."""

    def __init__(
        self,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        interval: float,
    ) -> None:
        self._clock, self._sleep, self._interval = clock, sleep, interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def turn(self, channel: str) -> _Turn:
        return _Turn(self, channel, self._locks.setdefault(channel, asyncio.Lock()))

    def hold(self, channel: str, seconds: float) -> None:
        until = self._clock() + seconds
        self._next[channel] = max(self._next.get(channel, until), until)

    async def _wait(self, channel: str) -> None:
        delay = self._next.get(channel, 0.0) - self._clock()
        if delay > 0:
            await self._sleep(delay)

    def _done(self, channel: str) -> None:
        self._next[channel] = max(self._next.get(channel, 0.0), self._clock() + self._interval)


class _Turn:
    """``async with pacer.turn(channel)``: wait for the channel's slot, write, mark it."""

    def __init__(self, pacer: _Pacer, channel: str, lock: asyncio.Lock) -> None:
        self._pacer, self._channel, self._lock = pacer, channel, lock

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        try:
            await self._pacer._wait(self._channel)
        except BaseException:
            self._lock.release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._pacer._done(self._channel)
        self._lock.release()


class _RetryAfter(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, waiting exactly ``Retry-After`` through our ``sleep`` (tests
    inject a fake one), and only for short waits: a long one is the outbox's to schedule."""

    def __init__(
        self, *, max_retry_count: int, max_wait: float, sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._max_wait = max_wait
        self._wait = sleep

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _retry_after(response.headers) <= self._max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        seconds = 1.0 if response is None else _retry_after(response.headers)
        log.info(
            "Slack: rate limited on %s; retrying in %.0f s", request.url.rsplit("/")[-1], seconds
        )
        await self._wait(seconds)
        state.increment_current_attempt()


def _classify(method: str, error: SlackApiError) -> SlackError:
    status = int(getattr(error.response, "status_code", 0) or 0)
    data = getattr(error.response, "data", None)
    code = str(data.get("error") or "") if isinstance(data, dict) else ""
    headers = getattr(error.response, "headers", None) or {}
    if status == 429 or code == "ratelimited":
        seconds = _retry_after({k: v for k, v in headers.items()})
        return SlackUnavailable(f"{method}: rate limited for {seconds:.0f} s", retry_after=seconds)
    if status >= 500 or code in _TRANSIENT:
        retry = headers.get("Retry-After")
        return SlackUnavailable(
            f"{method}: Slack is unavailable (HTTP {status}{', ' + code if code else ''})",
            retry_after=None if retry is None else _retry_after({"Retry-After": retry}),
        )
    code = code or f"http_{status}"
    fix = _FIX.get(code)
    message = f"{method}: Slack refused ({code})" + (f": {fix}" if fix else "")
    return SlackRejected(message, code=code)


def _retry_after(headers: Any) -> float:
    """Seconds from a ``Retry-After`` header (slack-sdk lists values; aiohttp does not)."""
    for name, value in dict(headers).items():
        if name.lower() == "retry-after":
            first = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(str(first)))
            except ValueError:
                break
    return 1.0


def _metadata_of(message: Any, event_type: str) -> dict[str, Any]:
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != event_type:
        return {}
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, dict) else {}


def _next_cursor(answer: dict[str, Any]) -> str | None:
    cursor = (answer.get("response_metadata") or {}).get("next_cursor")
    return str(cursor) if cursor else None
