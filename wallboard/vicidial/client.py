"""The VICIdial Non-Agent API client: the only place that sends HTTP to the dialer.

One ``aiohttp.ClientSession`` (owned by the caller, so the daemon's ``cleanup_ctx`` closes it),
``GET <base>/vicidial/non_agent_api.php`` with ``source``/``user``/``pass``/``function``.

Failure policy (see :mod:`wallboard.vicidial.errors` for the exception tree):

* transport failures (refused, reset, DNS, TLS), timeouts and HTTP 5xx are retried a bounded
  number of times with exponential backoff and full jitter, because they are usually a dialer
  web server restarting or a proxy hiccup;
* an ``ERROR:`` answer, a login failure or a parse error is **never** retried: asking again
  would only add load to the dialer's database (and count towards VICIdial's 10-failed-logins
  lock-out) without changing the answer; nor is an answer over ``max_response_bytes``.

Bounded reads: the body is read in chunks and abandoned (connection closed) the moment it
passes ``max_response_bytes``, or before reading at all when ``Content-Length`` says it will;
a runaway or endless body costs at most about that much memory. Decoding and parsing an answer
over :data:`OFF_LOOP_BYTES` runs in a worker thread, so a 20 MB answer does not stall the event
loop (and with it ``/healthz`` and every SSE client) for the seconds it takes.

Complete answers: ``header=YES`` is requested from every function that prints one, so the
parsers can hold each row to the header's width, and the ``expected`` campaigns of
:meth:`VicidialClient.fetch_campaigns` and :meth:`VicidialClient.fetch_call_stats` turn an
answer cut at a row boundary into an :class:`~wallboard.vicidial.errors.IncompleteAnswer`.

Secrets: the password travels in the query string, and aiohttp puts the full URL into its
exception texts. So no aiohttp exception ever escapes (``raise ... from None``); every message is
built from the endpoint URL without its query, and server text is passed through
:func:`~wallboard.vicidial.errors.redact` because VICIdial's login error echoes the password.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import TypeVar

import aiohttp

from wallboard.vicidial import parsers
from wallboard.vicidial._text import shorten
from wallboard.vicidial.errors import (
    HtmlResponseError,
    RequestTimeout,
    ResponseTooLarge,
    TransportError,
    VicidialError,
    redact,
)
from wallboard.vicidial.models import (
    AgentStatus,
    CallStatusStats,
    CampaignInfo,
    CampaignUpdate,
    HopperCount,
    InGroupStatus,
    LoggedInAgent,
    UserGroupStatus,
    VersionInfo,
)

API_PATH = "/vicidial/non_agent_api.php"
log = logging.getLogger(__name__)

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""16 MiB: about 10,000 agents' ``logged_in_agents`` rows (~150 bytes each) with room to spare;
the largest answer the daemon asks for. ``vicidial.max_response_bytes`` overrides it."""

OFF_LOOP_BYTES = 256 * 1024
"""Answers above this are decoded and parsed in a worker thread (``asyncio.to_thread``).

Below it parsing takes well under a millisecond and a thread hop would cost more than it saves;
above it (a few thousand agents and up) the parse is long enough to delay other tasks."""

_CHUNK_BYTES = 64 * 1024

#: The functions that print a header line with ``header=YES`` and a ``stage`` delimiter
#: (API.md §2.4); ``call_status_stats`` ignores both, ``version`` and ``update_campaign``
#: print status lines.
_TABULAR = frozenset(
    {
        "logged_in_agents",
        "agent_status",
        "user_group_status",
        "in_group_status",
        "campaigns_list",
        "hopper_list",
    }
)

T = TypeVar("T")

#: Called after every HTTP attempt with (function, outcome, seconds); feeds the metrics.
RequestObserver = Callable[[str, str, float], None]
Sleep = Callable[[float], Awaitable[None]]


class VicidialClient:
    """Typed access to the Non-Agent API functions the daemon needs.

    Each ``fetch_*`` method is one HTTP request (plus retries), batched as far as VICIdial
    allows, so the poller's cost to the dialer is predictable.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        url: str,
        user: str,
        password: str,
        source: str = "wallboard",
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.5,
        backoff_max: float = 8.0,
        verify_tls: bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        observer: RequestObserver | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._session = session
        self._endpoint = url.rstrip("/") + API_PATH
        self._user = user
        self._password = password
        self._source = source
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = max(0, retries)
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._ssl: bool = verify_tls  # True = default verification; False = off (lab only)
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes must be at least 1")
        self._max_bytes = max_response_bytes
        self._observer = observer
        self._sleep = sleep
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"VicidialClient(endpoint={self._endpoint!r}, user={self._user!r}, pass=***)"

    @property
    def endpoint(self) -> str:
        """The API URL without any query (safe to print)."""
        return self._endpoint

    @property
    def max_response_bytes(self) -> int:
        """The largest answer body read; a larger one raises :class:`ResponseTooLarge`."""
        return self._max_bytes

    # -- transport -----------------------------------------------------------------------

    async def request(
        self, function: str, params: Mapping[str, str] | None = None, *, retry: bool = True
    ) -> str:
        """Call ``function`` and return the body text, after retries for transport failures.

        ``retry=False`` for a request that changes the dialer (``update_campaign``): a timeout
        does not mean it did not happen, so it is never sent twice.
        Raises only :class:`VicidialError` subclasses. The answer is not classified here;
        ``fetch_*`` methods hand it to the matching parser, which raises API errors.
        """
        body = await self._request_bytes(function, params, retries=None if retry else 0)
        if len(body) > OFF_LOOP_BYTES:
            return await asyncio.to_thread(_decode, body)
        return _decode(body)

    async def _request_bytes(
        self, function: str, params: Mapping[str, str] | None, *, retries: int | None = None
    ) -> bytearray:
        """The raw body of a successful (HTTP 200) answer, after retries (``retries`` None:
        the client's own number)."""
        allowed = self._retries if retries is None else retries
        query: dict[str, str] = {
            "source": self._source,
            "user": self._user,
            "pass": self._password,
            "function": function,
        }
        if params:
            query.update(params)
        attempt = 0
        while True:
            try:
                return await self._attempt(function, query)
            except TransportError as error:
                if attempt >= allowed or not _retryable(error):
                    raise
                delay = self._backoff_delay(attempt)
                log.debug(
                    "%s; retry %d/%d in %.2fs",
                    error,
                    attempt + 1,
                    self._retries,
                    delay,
                )
                attempt += 1
                await self._sleep(delay)

    def _backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter (AWS architecture blog's recommendation)."""
        ceiling = min(self._backoff_max, self._backoff * (2**attempt))
        return self._rng.uniform(ceiling / 2, ceiling)

    async def _attempt(self, function: str, query: Mapping[str, str]) -> bytearray:
        started = time.perf_counter()
        outcome = "transport_error"
        try:
            async with self._session.get(
                self._endpoint, params=query, timeout=self._timeout, ssl=self._ssl
            ) as response:
                body = await self._read_bounded(function, response)
                status = response.status
            if status != 200:
                outcome = f"http_{status // 100}xx"
                raise self._status_error(function, status, _decode(body))
            outcome = "ok"
            return body
        except ResponseTooLarge:
            outcome = "too_large"
            raise
        except TimeoutError:
            outcome = "timeout"
            raise RequestTimeout(
                f"{function}: no answer from {self._endpoint} within {self._timeout.total:g}s",
                function=function,
            ) from None
        except aiohttp.ClientError as error:
            raise TransportError(
                f"{function}: request to {self._endpoint} failed: {_describe(error)}",
                function=function,
            ) from None
        finally:
            if self._observer is not None:
                self._observer(function, outcome, time.perf_counter() - started)

    async def _read_bounded(self, function: str, response: aiohttp.ClientResponse) -> bytearray:
        """The body, read chunk by chunk and abandoned as soon as it passes the cap.

        ``Content-Length`` above the cap fails before reading a byte; otherwise (chunked or an
        honest length) the running total decides. Either way the connection is closed, not
        drained: draining an endless body would never end.
        """
        limit = self._max_bytes
        announced = response.content_length
        if announced is not None and announced > limit:
            response.close()
            raise self._too_large(function, f"it announced {announced} bytes")
        # One growing buffer, decoded in place later: no list of chunks joined into a copy.
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
            if len(body) + len(chunk) > limit:
                del body[:]
                response.close()
                raise self._too_large(function, "reading stopped there")
            body += chunk
        return body

    def _too_large(self, function: str, detail: str) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"{function}: answer from {self._endpoint} is larger than "
            f"vicidial.max_response_bytes ({self._max_bytes} bytes); {detail}",
            function=function,
            limit=self._max_bytes,
        )

    def _status_error(self, function: str, status: int, text: str) -> TransportError:
        # Mask before cutting (a password straddling the cut would show its first half), then
        # escape what is not printable: this line goes into logs and /readyz.
        head = text[: 2000 + len(self._password)]
        snippet = shorten(redact(" ".join(head.split()), self._password), 120)
        if _looks_like_html(text):
            snippet = "an HTML page (proxy or web server error)"
        return TransportError(
            f"{function}: HTTP {status} from {self._endpoint}: {snippet}",
            function=function,
            status=status,
        )

    def _parse(self, function: str, parse: Callable[[str], T], text: str) -> T:
        """Run a parser, masking the password in whatever error it raises."""
        try:
            return parse(text)
        except VicidialError as error:
            raise error.redacted(self._password) from None

    def _decode_and_parse(self, function: str, parse: Callable[[str], T], body: bytearray) -> T:
        return self._parse(function, parse, _decode(body))

    async def _call(self, function: str, params: Mapping[str, str], parse: Callable[[str], T]) -> T:
        """One request and its parse; a large answer is decoded and parsed off the loop."""
        if function in _TABULAR:
            params = {"stage": "pipe", "header": "YES", **params}
        body = await self._request_bytes(function, params)
        if len(body) > OFF_LOOP_BYTES:
            return await asyncio.to_thread(self._decode_and_parse, function, parse, body)
        return self._decode_and_parse(function, parse, body)

    # -- functions -----------------------------------------------------------------------

    async def version(self) -> VersionInfo:
        """``version``: reachability, build and the dialer's time zone (no auth needed)."""
        return await self._call("version", {}, parsers.parse_version)

    async def fetch_agents(
        self, campaigns: Sequence[str] | None = None
    ) -> tuple[LoggedInAgent, ...]:
        """All logged-in agents, in one ``logged_in_agents`` call with sub-statuses."""
        params = {"show_sub_status": "YES"}
        if campaigns:
            params["campaigns"] = "|".join(campaigns)
        return await self._call("logged_in_agents", params, parsers.parse_logged_in_agents)

    async def fetch_call_stats(
        self, campaigns: Sequence[str] | None = None, query_date: date | None = None
    ) -> tuple[CallStatusStats, ...]:
        """Today's (or ``query_date``'s) calls per campaign, in one ``call_status_stats`` call.

        ``call_status_stats`` takes a dash-separated list (not pipes) or ``---ALL---``. With
        ``campaigns`` given, each must have its line (VICIdial prints one even for a campaign
        without calls), or :class:`~wallboard.vicidial.errors.IncompleteAnswer` names the
        missing ones; in-group lines follow and cannot be checked.
        """
        params = {"campaigns": "-".join(campaigns) if campaigns else "---ALL---"}
        if query_date is not None:
            params["query_date"] = query_date.isoformat()
        expected = tuple(campaigns) if campaigns else None

        def parse(text: str) -> tuple[CallStatusStats, ...]:
            return parsers.parse_call_status_stats(text, expected=expected)

        return await self._call("call_status_stats", params, parse)

    async def fetch_campaigns(
        self, expected: Sequence[str] | None = None
    ) -> tuple[CampaignInfo, ...]:
        """Every viewable campaign's active flag, dial method and live dial level.

        ``expected`` (the configured campaigns) must all be listed, or
        :class:`~wallboard.vicidial.errors.IncompleteAnswer` names the missing ones: the
        answer was cut after a whole row, or the campaign is gone from the dialer (or from the
        API user's allowed campaigns). Either way the list is not the floor the board shows.
        """
        wanted = tuple(expected) if expected else None

        def parse(text: str) -> tuple[CampaignInfo, ...]:
            return parsers.parse_campaigns_list(text, expected=wanted)

        return await self._call("campaigns_list", {}, parse)

    async def fetch_hopper(self, campaign_id: str) -> HopperCount:
        """Leads in one campaign's hopper (VICIdial has no all-campaigns form)."""

        def parse(text: str) -> HopperCount:
            return parsers.parse_hopper_list(text, campaign_id)

        return await self._call("hopper_list", {"campaign_id": campaign_id}, parse)

    async def fetch_ingroups(self, ingroups: Sequence[str]) -> InGroupStatus:
        """Live and waiting calls over the given in-groups (one aggregate line)."""
        return await self._call(
            "in_group_status", {"in_groups": "|".join(ingroups)}, parsers.parse_in_group_status
        )

    async def fetch_user_groups(self, user_groups: Sequence[str]) -> UserGroupStatus:
        """Agent counts over the given user groups (one aggregate line)."""
        return await self._call(
            "user_group_status",
            {"user_groups": "|".join(user_groups)},
            parsers.parse_user_group_status,
        )

    async def fetch_agent_status(self, agent_user: str) -> AgentStatus:
        """One agent's live status."""
        return await self._call(
            "agent_status", {"agent_user": agent_user}, parsers.parse_agent_status
        )

    async def set_campaign_active(self, campaign_id: str, active: bool) -> CampaignUpdate:
        """Stop (``active=N``) or resume (``active=Y``) a campaign via ``update_campaign``.

        VICIdial has no PAUSED state; ``active`` must be uppercase or it is silently ignored.
        """
        text = await self.request(
            "update_campaign",
            {"campaign_id": campaign_id, "active": "Y" if active else "N"},
            retry=False,  # it may have happened even if the answer never came
        )
        return self._parse("update_campaign", parsers.parse_update_campaign, text)


def _decode(body: bytes | bytearray) -> str:
    """VICIdial prints UTF-8 (or ASCII); a stray byte becomes U+FFFD rather than an error."""
    return body.decode("utf-8", errors="replace")


def _retryable(error: TransportError) -> bool:
    """Retry timeouts, connection failures and 5xx; a 4xx will not improve by asking again,
    and an oversized answer would only be streamed again."""
    if isinstance(error, HtmlResponseError | ResponseTooLarge):
        return False
    return error.status is None or error.status >= 500


def _describe(error: aiohttp.ClientError) -> str:
    """A URL-free description of an aiohttp error (their ``str`` may embed the full URL)."""
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "server closed the connection without an answer"
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"cannot connect ({error.os_error.strerror or type(error.os_error).__name__})"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "answer cut off mid-transfer"
    if isinstance(error, aiohttp.ClientOSError):
        return f"connection error ({error.strerror or 'reset'})"
    return type(error).__name__


def _looks_like_html(text: str) -> bool:
    head = text[:512].lstrip().lower()
    return head.startswith(("<!doctype", "<html", "<head", "<body")) or "<html" in head
