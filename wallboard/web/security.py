"""Response headers every answer carries, and log lines that never carry a secret.

The daemon faces a floor LAN, and its pages run on TVs nobody watches. So every response
(pages, JSON, SSE, errors, redirects) gets a strict Content-Security-Policy: scripts, styles,
images and connections from the daemon itself only, no inline code, no framing. With no
``'unsafe-inline'``, an agent name that slipped past the page's escaping still cannot run.
``Server`` names the product, not the aiohttp and Python versions an attacker would look up.

Two log filters sit on aiohttp's own loggers, so they hold however the runner is set up:

* ``aiohttp.server``: a request the HTTP parser rejects (a garbage request line, a 100 KB
  header) is logged by aiohttp as an ERROR with a full traceback, one per request: a scanner
  on the LAN would bury the log. It becomes one WARNING line saying who and why.
* ``aiohttp.access`` (when an access log is on): the request line includes the query string,
  so ``?token=`` would be written to disk. It is redacted, as is any ``Bearer`` credential.

Requests the parser rejects never reach the application, so their ``400`` carries aiohttp's
own headers; everything the application answers carries the ones below.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

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


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: runs for every response the application answers."""
    response.headers.update(SECURITY_HEADERS)


def redact(text: str) -> str:
    """``text`` with every ``token=`` value and ``Bearer`` credential replaced."""
    for pattern in _SECRETS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


def one_line_reason(error: HttpProcessingError) -> str:
    """The parser's message on one line, redacted and cut short (it quotes the request)."""
    lines = (line.strip() for line in str(error.message).splitlines())
    text = " ".join(line for line in lines if line and set(line) != {"^"})
    text = redact(text)
    if len(text) > _REASON_CHARS:
        text = text[: _REASON_CHARS - 1] + "…"
    return text or type(error).__name__


class BadRequestFilter(logging.Filter):
    """On ``aiohttp.server``: a parser-rejected request as one line, not a traceback.

    Other errors (a handler that raised) keep their traceback: those are our bugs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            return True
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.msg = "bad HTTP request from %s answered %s: %s"
        record.args = (remote, error.code, one_line_reason(error))
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


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
