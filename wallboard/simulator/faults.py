"""Injected failures: what tests ask for (``POST /_sim/faults``) and what each failure looks like.

A real VICIdial fails in more ways than ``ERROR:`` lines: the PHP dies half-way, a proxy answers
with its own HTML page, the connection drops, or the database is slow. Tests queue those failures
here, chosen by request input (the API function), and the API endpoint consumes them in order.
This module holds the queue and the bodies; applying a fault to a live connection is the
endpoint's job.

The kinds (``POST /_sim/faults {"function", "kind", "times", "seconds"?}``):

``timeout``
    no answer at all; the request is held until the client gives up or the server stops.
``http_500``
    a PHP fatal-error page with HTTP 500.
``html``
    a reverse proxy's (nginx) 502 page.
``garbage``
    HTTP 200 with random bytes (seeded, so the same seed gives the same bytes).
``truncated``
    HTTP 200, the real body cut near its middle, never at a line end: the PHP died while
    printing a row.
``truncated_row``
    HTTP 200, the real body cut at a row boundary: whole lines only, the final newline kept,
    about half of them (an answer of two lines keeps the first: a one-row answer with its
    header is cut to the header alone; a one-line answer becomes empty). The cut no format
    check can see unless the parser knows which rows must come.
``no_newline``
    HTTP 200, the real body without its final ``\n`` (every row whole).
``endless``
    HTTP 200, the real body's header and rows, then its rows again and again, streamed with
    back-pressure until the client disconnects or the server stops; the simulator holds one
    chunk at a time, never the body.
``error``
    HTTP 200, the function's real ``ERROR:`` text (its permission error).
``login``
    HTTP 200, the real login error, which echoes the password (API.md §3).
``lock``
    HTTP 200, the real lock-out text, ``ERROR: Too many login attempts, try again in 15
    minutes: |<user>|LOCK|`` (API.md §3), without counting towards the real lock-out.
``reset``
    the connection is closed without an answer.
``slow``
    the real answer, after ``seconds`` (default: twice the client timeout the server was
    started with).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """How one API request fails (CONTRACT §7)."""

    TIMEOUT = "timeout"  # never answers; held until the client gives up or the server stops
    HTTP_500 = "http_500"  # PHP fatal error page, HTTP 500
    HTML = "html"  # a reverse proxy's 502 page
    GARBAGE = "garbage"  # HTTP 200, random bytes
    TRUNCATED = "truncated"  # HTTP 200, the real body cut mid-line
    TRUNCATED_ROW = "truncated_row"  # HTTP 200, the real body cut after a whole line
    NO_NEWLINE = "no_newline"  # HTTP 200, the real body without its final newline
    ENDLESS = "endless"  # HTTP 200, rows streamed until the client hangs up
    ERROR = "error"  # HTTP 200, the function's real ERROR: text
    LOGIN = "login"  # HTTP 200, the real login error (password echoed)
    LOCK = "lock"  # HTTP 200, the real "Too many login attempts ... |LOCK|" text
    RESET = "reset"  # connection closed without an answer
    SLOW = "slow"  # the real answer, late


class FaultRequestError(ValueError):
    """A ``POST /_sim/faults`` body that does not describe a fault."""


@dataclass(frozen=True)
class FaultSpec:
    """One queued failure: ``times`` matching requests fail with ``kind``.

    ``function`` is ``*`` (any function) or a function name. ``seconds`` overrides the delay of
    ``slow``; ``None`` means the server's default.
    """

    function: str
    kind: FaultKind
    times: int = 1
    seconds: float | None = None

    def matches(self, function: str) -> bool:
        return self.function in ("*", function)


def parse_fault(data: object) -> FaultSpec:
    """Validate a JSON body ``{"function", "kind", "times"?, "seconds"?}``."""
    if not isinstance(data, Mapping):
        raise FaultRequestError("expected a JSON object")
    unknown = set(data) - {"function", "kind", "times", "seconds"}
    if unknown:
        raise FaultRequestError(f"unknown fields: {', '.join(sorted(unknown))}")
    function = data.get("function", "*")
    if not isinstance(function, str) or not function:
        raise FaultRequestError("'function' must be '*' or a function name")
    kind_value = data.get("kind")
    try:
        kind = FaultKind(str(kind_value))
    except ValueError:
        choices = ", ".join(k.value for k in FaultKind)
        raise FaultRequestError(f"unknown kind {kind_value!r}; one of: {choices}") from None
    times = data.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise FaultRequestError("'times' must be a positive integer")
    seconds = data.get("seconds")
    if seconds is not None and (
        not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0
    ):
        raise FaultRequestError("'seconds' must be a non-negative number")
    return FaultSpec(function, kind, times, None if seconds is None else float(seconds))


@dataclass
class _Queued:
    spec: FaultSpec
    remaining: int


class FaultQueue:
    """Queued faults, consumed first-in first-out among those matching a request's function."""

    def __init__(self) -> None:
        self._entries: list[_Queued] = []

    def add(self, spec: FaultSpec) -> None:
        self._entries.append(_Queued(spec, spec.times))

    def clear(self) -> None:
        self._entries.clear()

    def take(self, function: str) -> FaultSpec | None:
        """Consume one use of the oldest fault matching ``function``, if any."""
        for entry in self._entries:
            if entry.spec.matches(function):
                entry.remaining -= 1
                if entry.remaining <= 0:
                    self._entries.remove(entry)
                return entry.spec
        return None

    def pending(self) -> list[dict[str, object]]:
        """What is still queued, for the control API."""
        return [
            {"function": e.spec.function, "kind": e.spec.kind.value, "remaining": e.remaining}
            for e in self._entries
        ]


NGINX_502_PAGE = (
    "<html>\r\n"
    "<head><title>502 Bad Gateway</title></head>\r\n"
    "<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n"
    "</body>\r\n"
    "</html>\r\n"
)

PHP_FATAL_PAGE = (
    "<br />\n"
    "<b>Fatal error</b>:  Uncaught mysqli_sql_exception: Too many connections in "
    "/srv/www/htdocs/vicidial/dbconnect_mysqli.php:29\n"
    "Stack trace:\n"
    "#0 /srv/www/htdocs/vicidial/dbconnect_mysqli.php(29): mysqli_connect('127.0.0.1', 'cron', "
    "Object(SensitiveParameterValue), 'asterisk', '3306')\n"
    "#1 /srv/www/htdocs/vicidial/non_agent_api.php(241): require('/srv/www/htdocs...')\n"
    "#2 {main}\n"
    "  thrown in <b>/srv/www/htdocs/vicidial/dbconnect_mysqli.php</b> on line <b>29</b><br />\n"
)


def garbage_body(seed: int, serial: int) -> bytes:
    """Random bytes, the same for the same simulator seed and the same n-th garbage answer."""
    rng = random.Random(f"{seed}:garbage:{serial}")
    return rng.randbytes(rng.randint(64, 512))


def truncate(full: bytes) -> bytes:
    """The body cut near its middle, never at a line end: the PHP died while printing."""
    cut = max(1, len(full) // 2)
    while cut > 1 and full[cut - 1 : cut] == b"\n":
        cut -= 1
    return full[:cut]


def truncate_rows(full: bytes) -> bytes:
    """The body cut after a whole line, about half way, keeping the final newline.

    ``n`` lines keep ``ceil(n / 2)`` when ``n > 1`` (so two lines keep one: a header and its
    single row become the header alone), and a one-line body keeps nothing. Every kept line is
    exactly as VICIdial printed it, so only a parser that knows what must come can tell.
    """
    lines = full.splitlines(keepends=True)
    keep = (len(lines) + 1) // 2 if len(lines) > 1 else 0
    return b"".join(lines[:keep])


def without_final_newline(full: bytes) -> bytes:
    """The body with its last ``\\n`` (and a ``\\r`` before it) removed."""
    return full.removesuffix(b"\n").removesuffix(b"\r")


ENDLESS_CHUNK_BYTES = 64 * 1024


def endless_chunks(full: bytes) -> Iterator[bytes]:
    """An endless body made of ``full``: all of it once, then its rows again, forever.

    The rows are every line but the first when there are several (the first may be a header),
    or the one line itself. Chunks are about :data:`ENDLESS_CHUNK_BYTES`, so the sender holds
    one chunk at a time. A body without any line (empty) repeats nothing but newlines.
    """
    lines = full.splitlines(keepends=True) or [b"\n"]
    rows = lines[1:] if len(lines) > 1 else lines
    block = b"".join(rows)
    repeat = max(1, ENDLESS_CHUNK_BYTES // len(block))
    chunk = block * repeat
    yield full
    while True:
        yield chunk
