"""Hypothesis-built requests to every route of the real daemon: no 5xx, no traceback, ever.

``test_bad_requests.py`` lists the shapes we thought of; here hypothesis builds request
targets from the real routes plus any text (percent-encoded, as a client would send it),
queries with the parameters the routes read (``board``, ``rotate``, ``every``, ``page_every``,
``theme``, ``agents``, ``token``) and headers the handlers or the token check look at
(``Accept``, ``Authorization``, ``Cookie``, ``If-None-Match``, ``Accept-Encoding``, ``Range``),
with any value a header can carry. One daemon serves every example.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.conftest import assert_no_tracebacks, floor_daemon, refused_lines
from tests.hostile.raw_http import assert_hardened, exchange, get
from tests.support.daemon import DaemonHandle

TOKEN = "fuzz-floor-Tk_9x.~Zq3abc"

ROUTES = st.sampled_from(
    [
        "/",
        "/boards/floor",
        "/boards/",
        "/api/snapshot",
        "/api/events",
        "/metrics",
        "/healthz",
        "/readyz",
        "/static/board.js",
        "/static/",
        "/favicon.ico",
        "/",
    ]
)
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
SEGMENT = ANY_TEXT | st.sampled_from(["..", ".", "%", "%00", "floor", "board.css", "~"])
PARAMETER = st.sampled_from(
    ["board", "rotate", "every", "page_every", "theme", "agents", "token", "x", ""]
)
VALUE = ANY_TEXT | st.sampled_from(
    ["floor", "floor,floor", "light", "dark", "off", "30s", "0s", "-1s", "1e999s", "nan", TOKEN]
)
#: What a header value can be on the wire: latin-1 bytes without CR, LF or NUL.
HEADER_VALUE = st.binary(max_size=60).map(
    lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
) | st.sampled_from(
    [
        b"*/*",
        b"application/openmetrics-text; version=1.0.0",
        b"Bearer " + TOKEN.encode(),
        b"wallboard_token=" + b"0" * 64,
        b'W/"x"',
        b"bytes=0-1",
        b"gzip, br, zstd",
        b"",
    ]
)
HEADER_NAME = st.sampled_from(
    [
        b"Accept",
        b"Authorization",
        b"Cookie",
        b"If-None-Match",
        b"Accept-Encoding",
        b"Range",
        b"X-Forwarded-For",
        b"Origin",
    ]
)


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    path = draw(ROUTES) + "/".join(quote(s, safe="") for s in draw(st.lists(SEGMENT, max_size=3)))
    pairs = draw(st.lists(st.tuples(PARAMETER, VALUE), max_size=4))
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe=',')}" for k, v in pairs)
    target = path + ("?" + query if pairs else "")
    if path.startswith("/api/events"):
        method = b"HEAD"  # a GET would stream for ever; the head of it is what can break
    else:
        method = draw(st.sampled_from([b"GET", b"GET", b"HEAD"]))
    headers = [
        name + b": " + value
        for name, value in draw(st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=4))
    ]
    return get(target, *headers, method=method)


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[DaemonHandle]:
    async with floor_daemon(tmp_path, web={"token": TOKEN}) as handle:
        yield handle


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(request=requests())
async def test_any_request_to_any_route_is_answered_hardened_without_a_traceback(
    daemon: DaemonHandle, logs: pytest.LogCaptureFixture, request: bytes
) -> None:
    logs.clear()
    answer = await exchange(daemon.url, request)
    assert answer.status < 500, (request[:300], answer.status, answer.body[:300])
    assert_hardened(answer, request[:300])
    assert len(refused_lines(logs)) == (answer.status == 400), (request[:300], answer.status)
    assert_no_tracebacks(logs)
    assert TOKEN.encode() not in answer.body or answer.status == 400, "token echoed"
