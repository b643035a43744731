"""Our routes under bad input, against the real daemon on 127.0.0.1:0 over raw sockets.

What a scanner, a broken TV browser or a curious colleague sends: requests the HTTP parser
refuses (a TLS hello on the plain port, junk in the request line, a NUL in the path, a 20 KB
URL or header, smuggling-shaped headers), paths that try to climb out (``../``, ``%2e%2e``,
``%00``), unicode and invalid UTF-8 in paths and queries, bad ``Accept`` headers on
``/metrics`` and ``/api/*``, wrong and malformed access tokens, every method.

The promises: the daemon never answers 500 and never stops answering; every answer, aiohttp's
own ``400`` included, carries the security headers and no software version; a request the
parser refuses is exactly one WARNING line (who, what status, why; never a traceback, never
the token); a request the application answers (``404``, ``401``, ``405``) logs nothing at all
(the daemon keeps no access log), so a scan leaves one line per refused request at most.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.hostile.conftest import assert_no_tracebacks, floor_daemon, refused_lines
from tests.hostile.raw_http import RawAnswer, assert_hardened, exchange, get
from wallboard.web.keys import HUB

TOKEN = "hostile-floor-Tk_9x.~Zq3"

#: Requests aiohttp's parser refuses; each must be one 400, hardened, one log line.
REFUSED = {
    "TLS hello on the plain port": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"x" * 64,
    "binary junk": bytes(range(1, 32)) + b"\r\n\r\n",
    "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "junk after the version": get("/boards/floor").replace(b"HTTP/1.1", b"HTTP/1.1 junk", 1),
    "unknown version": get("/").replace(b"HTTP/1.1", b"HTTP/9.9", 1),
    "lower-case method": get("/", method=b"get"),
    "NUL in the path": get(b"/boards/\x00"),
    "raw UTF-8 in the path": get("/boards/é<script>".encode()),
    "raw invalid UTF-8 in the path": get(b"/boards/\xff\xfe"),
    "space in the path": get(b"/boards/a b"),
    "20 KB URL": get("/api/snapshot?" + "a=1&" * 5000),
    "20 KB URL with the token": get(f"/api/snapshot?token={TOKEN}&pad={'p' * 20_000}"),
    "20 KB header": get("/", b"X-Pad: " + b"p" * 20_000),
    "20 KB cookie": get("/", b"Cookie: wallboard_token=" + b"c" * 20_000),
    "2,000 headers": get("/", *(b"X-H%d: 1" % i for i in range(2000))),
    "header without a colon": get("/", b"Just a line"),
    "space in a header name": get("/", b"Bad Header: 1"),
    "NUL in a header value": get("/", b"Accept: text/\x00html"),
    "DEL in a cookie": get("/", b'Cookie: wallboard_token="\x7f"'),
    "folded header": get("/", b"X-A: 1", b" folded"),
    "Content-Length and Transfer-Encoding": get(
        "/", b"Content-Length: 3", b"Transfer-Encoding: chunked", method=b"POST"
    )
    + b"0\r\n\r\n",
    "two Content-Lengths": get("/", b"Content-Length: 1", b"Content-Length: 2", method=b"POST"),
    "Content-Length not a number": get("/", b"Content-Length: 1e3", method=b"POST"),
    "bad chunk size": get("/", b"Transfer-Encoding: chunked", method=b"POST") + b"zz\r\n",
    "bare LF line ends": b"GET / HTTP/1.1\nHost: x\n\n",
}


async def test_every_request_the_parser_refuses_is_a_hardened_400_and_one_line(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    async with floor_daemon(tmp_path, web={"token": TOKEN}) as daemon:
        for what, request in REFUSED.items():
            logs.clear()
            answer = await exchange(daemon.url, request)
            assert answer.status == 400, (what, answer.status)
            assert_hardened(answer, what)
            (line,) = refused_lines(logs)
            assert line.levelno == logging.WARNING, what
            message = line.getMessage()
            assert message.startswith("bad HTTP request from 127.0.0.1 answered 400: "), message
            assert message.isprintable(), message  # no line break, no terminal escape
            assert len(message) < 250, message
            assert TOKEN not in message, what
            assert_no_tracebacks(logs)
        assert (await exchange(daemon.url, get("/healthz"))).status == 200, "still serving"


def assert_answered(answer: RawAnswer, what: object) -> None:
    """An answer of the application's own: never a 5xx, always hardened."""
    assert answer.status < 500, (what, answer.status, answer.body[:300])
    assert_hardened(answer, what)


#: Paths that try to leave the routes, or to get reflected into a page.
PATHS = [
    "/../../../etc/passwd",
    "/static/..%2f..%2fconfig_loader.py",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%5c..%5cetc%5cpasswd",
    "/static/board.js%00.png",
    "/static/.",
    "/static/",
    "/boards/%00",
    "/boards/%2e%2e",
    "/boards/floor%2f..%2f..%2fapi",
    "/boards/%ff%fe%fd",
    "/boards/%ED%A0%80",  # an encoded lone surrogate
    "/boards/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/boards/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E",
    "/boards/" + "%C3%A9" * 1300,
    "/" + "a" * 8000,
    "//boards//floor",
    "/boards/floor/",
    "/boards/FLOOR",
    "/boards/\uff46loor".encode().decode("latin-1"),
    "/api/snapshot/..",
    "/api/snapshot?board=%00",
    "/api/snapshot?board=%ff",
    "/api/snapshot?board=%3Cscript%3E",
    "/api/snapshot?board=floor&board=nope",
    "/api/events?board=%ED%A0%80",
    "/boards/floor?rotate=%00,%ff,floor&every=-1s&page_every=1e999s&theme=%3Cx%3E&agents=%00",
    "/boards/floor?rotate=" + ",".join(["floor"] * 1000),
    "/?" + "&".join(f"k{i}=v" for i in range(1500)),
    "/?%=%&&&==&%zz=%",
    "/readyz?token=%00",
    "/favicon.ico/..",
    "/metrics/../metrics",
    "*",
    "http://evil.example/boards/floor",
]
#: What must never come back, whatever the path: a file's content or unescaped markup.
NEVER = (b"root:", b"[vicidial]", b"import ", b"<script>alert", b"<img src=x")


async def test_bad_paths_and_queries_get_an_answer_never_a_crash(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    async with floor_daemon(tmp_path) as daemon:
        for path in PATHS:
            logs.clear()
            answer = await exchange(daemon.url, get(path))
            assert_answered(answer, path)
            assert not any(bad in answer.body for bad in NEVER), (path, answer.body[:300])
            # the parser refuses a few (raw non-ASCII, 8 KB lines, "*"): one line each; what
            # the application answers itself logs nothing
            assert len(refused_lines(logs)) == (answer.status == 400), (path, answer.status)
            assert_no_tracebacks(logs)


ACCEPTS = [
    b"",
    b"*/*;q=nan",
    b"*/*;q=1e999, text/plain;q=-1",
    b"application/openmetrics-text; version=9.9.9; charset=utf-8",
    b"application/openmetrics-text;version=1.0.0;escaping=evil",
    b"application/openmetrics-text; version=",
    b"text/plain;version=0.0.4;q=0",
    b"text/plain; version=99",
    b"application/json;q=0, */*;q=0",
    b";;;,,,=,=;",
    b"\xff\xfe/\xfd",
    b"text/html, " * 700,
    b"a" * 7000,
]


@pytest.mark.parametrize("path", ["/metrics", "/api/snapshot", "/readyz", "/boards/floor"])
async def test_bad_accept_headers_are_answered(
    tmp_path: Path, logs: pytest.LogCaptureFixture, path: str
) -> None:
    async with floor_daemon(tmp_path) as daemon:
        for accept in ACCEPTS:
            answer = await exchange(daemon.url, get(path, b"Accept: " + accept))
            assert_answered(answer, (path, accept[:40]))
            assert answer.status in (200, 406, 503), (path, accept[:40], answer.status)
            if path == "/metrics" and answer.status == 200:
                content_type = answer.headers["Content-Type"]
                assert content_type.startswith(("text/plain", "application/openmetrics-text"))
                assert b"vicidial_up" in answer.body
            if path == "/api/snapshot":
                json.loads(answer.body)
        assert_no_tracebacks(logs)


BAD_CREDENTIALS = [
    (b"Authorization: Bearer " + TOKEN.encode() + b"x",),
    (b"Authorization: Bearer " + TOKEN.encode()[:-1],),
    (b"Authorization: Bearer \xff\xfe\xc3\x28",),
    (b"Authorization: Bearer " + b"t" * 7000,),
    (b"Authorization: Bearer",),
    (b"Authorization: Bearer\t" + TOKEN.encode() + b"\tjunk",),
    (b"Authorization: Basic " + TOKEN.encode(),),
    (b"Authorization: " + TOKEN.encode(),),
    (b"Authorization: Bearer x", b"Authorization: Bearer " + TOKEN.encode()),
    (b"Cookie: wallboard_token=" + TOKEN.encode(),),  # the token is not the cookie's value
    (b"Cookie: wallboard_token=\xc3\xa9\xc3\xa9",),
    (b'Cookie: wallboard_token="' + b"a" * 64 + b'"',),
    (b"Cookie: " + b"; ".join(b"c%d=v" % i for i in range(300)),),
    (b"Cookie: wallboard_token=a; wallboard_token=b",),
    (b"Cookie: ;;;===;;",),
]
BAD_QUERIES = [
    f"?token={TOKEN}x",
    "?token=",
    "?token=%00",
    "?token=%C3%A9",
    "?token=%ff",
    f"?token={TOKEN}&token=",
    f"?token={TOKEN * 100}",
    "?TOKEN=x",
    "?token[]=x",
]


async def test_wrong_and_malformed_tokens_are_refused_and_never_echoed(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    async with floor_daemon(tmp_path, web={"token": TOKEN}) as daemon:
        answers: list[tuple[object, RawAnswer]] = []
        for path in ("/api/snapshot", "/metrics", "/boards/floor", "/api/events"):
            for headers in BAD_CREDENTIALS:
                answers.append((headers, await exchange(daemon.url, get(path, *headers))))
            for query in BAD_QUERIES:
                answers.append((query, await exchange(daemon.url, get(path + query))))
        for what, answer in answers:
            assert_answered(answer, what)
            # ?TOKEN= is not the token parameter: no credential, the same 401
            assert answer.status == 401, (what, answer.status)
            assert TOKEN.encode() not in answer.body, what
            assert all(TOKEN not in value for value in answer.headers.values()), what
            assert "Set-Cookie" not in answer.headers, what
        good = await exchange(
            daemon.url, get("/api/snapshot", b"Authorization: Bearer " + TOKEN.encode())
        )
        assert good.status == 200
    assert_no_tracebacks(logs)
    assert all(TOKEN not in record.getMessage() for record in logs.records)


METHODS = [b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"TRACE", b"CONNECT", b"PROPFIND"]


async def test_other_methods_are_refused_with_our_headers(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    async with floor_daemon(tmp_path) as daemon:
        for method in METHODS:
            for path in ("/", "/api/snapshot", "/api/events", "/metrics", "/boards/floor"):
                request = get(path, b"Content-Length: 5", method=method) + b"hello"
                answer = await exchange(daemon.url, request)
                assert_answered(answer, (method, path))
                # CONNECT takes an authority, not a path: aiohttp finds no route for it
                assert answer.status in (400, 404, 405), (method, path, answer.status)
        assert_no_tracebacks(logs)


async def test_head_on_the_event_stream_answers_and_ends(tmp_path: Path) -> None:
    """A bodiless stream that stayed open would hold a connection and count as a screen."""
    async with floor_daemon(tmp_path) as daemon:
        answer = await exchange(daemon.url, get("/api/events", method=b"HEAD"))
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/event-stream"
        assert answer.body == b""
        assert_hardened(answer, "HEAD /api/events")
        assert len(daemon.app[HUB]) == 0
