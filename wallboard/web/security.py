"""Response headers every answer carries, and log lines that never carry a secret.

The daemon faces a floor LAN, and its pages run on TVs nobody watches. So every response
(pages, JSON, SSE, errors, redirects) gets a strict Content-Security-Policy: scripts, styles,
images and connections from the daemon itself only, no inline code, no framing. With no
``'unsafe-inline'``, an agent name that slipped past the page's escaping still cannot run.
``Server`` names the product, not the aiohttp and Python versions an attacker would look up.

"Every response" includes the ``400`` aiohttp sends by itself when its HTTP parser refuses a
request (a garbage request line, a 100 KB header, TLS on the plain port). Such a request
never reaches the router, so the ``on_response_prepare`` signal, which aiohttp sends only for
routed requests, never runs for it (aio-libs/aiohttp#6463: there is no public hook). The one
step every answer goes through is the request's ``_prepare_hook``, called when the response's
headers are about to be written; :func:`harden` makes the app build its requests as
:class:`HardenedRequest`, whose hook hardens what the router never saw. That is two private
names of aiohttp (``Application._make_request`` and ``_prepare_hook``); the hostile-input
tests (tests/hostile) fail loudly if an upgrade moves either.

Logging, on aiohttp's own loggers so it holds however the runner is set up:

* a request the parser refused is **one WARNING line** saying who and why, written by that
  same hook. aiohttp's own record of it (an ERROR with a full traceback, or a DEBUG line for
  a first request with a bad method, which a daemon logging at INFO would never show) is
  dropped: a scanner on the LAN can neither bury the log in tracebacks nor go unseen.
* ``aiohttp.access`` (when an access log is on): the request line includes the query string,
  so ``?token=`` would be written to disk. It is redacted, as is any ``Bearer`` credential.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

#: CSP for every response. ``img-src data:`` lets the page draw with data URIs; the
#: sparklines are inline SVG elements, which need nothing. ``base-uri``/``form-action`` are not
#: covered by ``default-src``, so they are closed explicitly.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
SERVER = "wallboard"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # frame-ancestors for the browsers of older smart TVs, which know only this header.
    "X-Frame-Options": "DENY",
    "Server": SERVER,
}

REDACTED = "<redacted>"
_SECRETS = (
    re.compile(r"(token=)[^&\s'\"\\;]+", re.IGNORECASE),  # ?token=, wallboard_token= cookies
    re.compile(r"(bearer\s+)[^\s'\"\\,]+", re.IGNORECASE),
)
#: Longest reason kept from a parser error (it quotes the client's bytes).
_REASON_CHARS = 160

#: Where a refused request is reported: the logger aiohttp itself reports them on, so an
#: operator's log settings for the HTTP server cover them.
server_log = logging.getLogger("aiohttp.server")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: runs for every response to a routed request."""
    response.headers.update(SECURITY_HEADERS)


def redact(text: str) -> str:
    """``text`` with every ``token=`` value and ``Bearer`` credential replaced."""
    for pattern in _SECRETS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


def one_line(message: str) -> str:
    """A parser's message on one line, redacted and cut short (it quotes the request):
    aiohttp's messages span lines and end with a caret line pointing at the bad byte."""
    lines = (line.strip() for line in message.splitlines())
    text = " ".join(line for line in lines if line and set(line) != {"^"})
    # the client's bytes, escaped: no terminal escape or carriage return reaches the log
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in redact(text))
    if len(text) > _REASON_CHARS:
        text = text[: _REASON_CHARS - 1] + "…"
    return text


class HardenedRequest(web.Request):
    """The app's requests: a response to one the router never saw is hardened here.

    aiohttp builds the answer to a request its parser refused itself, outside the router,
    middlewares and signals; this hook is the one place that answer passes through before
    its headers go out. Routed requests carry on as usual (``on_response_prepare``).
    """

    async def _prepare_hook(self, response: web.StreamResponse) -> None:
        if self._match_info is None:
            response.headers.update(SECURITY_HEADERS)
            _report_refused(self, response)
        await super()._prepare_hook(response)


def _report_refused(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """The one line for a refused request; the reason is the parser's message, which
    aiohttp puts in the answer's body."""
    body = response.body if isinstance(response, web.Response) else None
    message = bytes(body).decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else ""
    server_log.warning(
        "bad HTTP request from %s answered %s: %s",
        request.remote or "?",
        response.status,
        one_line(message) or response.reason,
    )


def harden(app: web.Application) -> None:
    """Security headers on every answer of ``app``, including aiohttp's own ``400``s.

    Call before the app is served (the runner takes the request factory when it starts).
    """
    app.on_response_prepare.append(add_security_headers)
    make_request = app._make_request

    def hardened_request(
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.Request:
        return make_request(message, payload, protocol, writer, task, _cls=HardenedRequest)

    # object.__setattr__: aiohttp's debug mode warns on any new attribute of an Application;
    # this one is deliberate and documented above.
    object.__setattr__(app, "_make_request", hardened_request)


class BadRequestFilter(logging.Filter):
    """On ``aiohttp.server``: drop aiohttp's own record of a refused request.

    :class:`HardenedRequest` writes the one line for it; aiohttp's record is a traceback
    (or, for a bad method, a DEBUG line). Other errors (a handler that raised) keep their
    traceback: those are our bugs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError)


#: The attributes every record has; anything else came from ``extra`` (the access logger
#: puts the request line and headers there for structured handlers).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class RedactingFilter(logging.Filter):
    """On ``aiohttp.access``: the line and its ``extra`` fields without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _redact_value(value))
        return True


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    return value


_FILTERS: tuple[tuple[str, type[logging.Filter]], ...] = (
    ("aiohttp.server", BadRequestFilter),
    ("aiohttp.access", RedactingFilter),
)


def install_log_filters() -> None:
    """Attach the filters to aiohttp's loggers (once per process, however many apps)."""
    for name, kind in _FILTERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, kind) for existing in logger.filters):
            logger.addFilter(kind())
