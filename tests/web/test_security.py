"""Web hardening over real sockets: security headers on every response, the access token's
three ways in (and every way it is refused), secrets kept out of logs and answers, bad
requests logged as one line, and the board in real Chromium under its CSP with nothing
loaded from anywhere but the daemon."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy
from yarl import URL

from tests.support.daemon import FakeClock, daemon_settings, running_daemon
from tests.support.serving import serving
from tests.support.sim import running_simulator
from tests.support.system import require_binary
from tests.support.waiting import eventually
from tests.web.floor import COMPLIANCE_NOW, FakeStore, compliance_snapshot, floor_snapshot
from wallboard.config import ConfigError, load_default_config
from wallboard.web.app import build_web_app
from wallboard.web.auth import COOKIE
from wallboard.web.keys import HUB, Board, WebContext

NOW = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
TOKEN = "tv-floor-3f9Kq_7uLm.x~Zp2"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
BOARDS = (Board("floor", "Floor"), Board("east", "East", ("SALES1",)))


# --- helpers ---------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass
class Site:
    """A web app on 127.0.0.1:0 and a client that records every answer it gets."""

    url: str
    app: web.Application
    http: aiohttp.ClientSession
    answers: list[Answer] = field(default_factory=list)

    async def get(self, path: str, **kwargs: Any) -> Answer:
        kwargs.setdefault("allow_redirects", False)
        async with self.http.get(self.url + path, **kwargs) as response:
            if response.headers.get("Content-Type") == "text/event-stream":
                body = b""  # a stream never ends: its headers are the answer
            else:
                body = await response.read()
        answer = Answer(response.status, response.headers, body)
        self.answers.append(answer)
        return answer


def _context(token: str | None = None, **overrides: Any) -> WebContext:
    values: dict[str, Any] = {
        "store": FakeStore(floor_snapshot(NOW)),
        "limit": 0.03,
        "boards": BOARDS,
        "clock": FakeClock(NOW),
        "metrics": lambda: b"wallboard_stream_clients 0\n",
        "token": token,
    }
    values.update(overrides)
    return WebContext(**values)


@asynccontextmanager
async def running_site(context: WebContext) -> AsyncIterator[Site]:
    app = build_web_app(context)
    # unsafe: the daemon's cookie is for 127.0.0.1, and aiohttp keeps no IP cookies otherwise
    jar = aiohttp.CookieJar(unsafe=True)
    async with serving(app) as url, aiohttp.ClientSession(cookie_jar=jar) as http:
        yield Site(url, app, http)


def assert_hardened(answer: Answer, what: str) -> None:
    headers = answer.headers
    assert headers.get("Content-Security-Policy") == CSP, what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "no-referrer", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Server") == "wallboard", what
    versions = [f"{k}: {v}" for k, v in headers.items() if re.search("aiohttp|python", v, re.I)]
    assert versions == [], what


def assert_never_shows(token: str, answers: list[Answer]) -> None:
    for answer in answers:
        assert token.encode() not in answer.body
        for name, value in answer.headers.items():
            assert token not in value, name


# --- headers ---------------------------------------------------------------------------------

OPEN_ROUTES = {
    "/": 200,
    "/boards/floor?theme=light": 200,
    "/boards/nope": 404,
    "/static/board.js": 200,
    "/static/nope.js": 404,
    "/favicon.ico": 200,
    "/api/snapshot": 200,
    "/api/snapshot?board=nope": 404,
    "/api/events?board=floor": 200,
    "/metrics": 200,
    "/healthz": 200,
    "/readyz": 200,
    "/no/such/path": 404,
}


async def test_every_response_is_hardened() -> None:
    async with running_site(_context()) as site:
        for path, status in OPEN_ROUTES.items():
            answer = await site.get(path)
            assert answer.status == status, path
            assert_hardened(answer, path)
        etag = (await site.get("/static/board.css")).headers["ETag"]
        answer = await site.get("/static/board.css", headers={"If-None-Match": etag})
        assert answer.status == 304
        assert_hardened(answer, "304")

    async with running_site(_context(store=FakeStore())) as site:  # before the first poll
        for path in ("/api/snapshot", "/readyz"):
            answer = await site.get(path)
            assert answer.status == 503, path
            assert_hardened(answer, path)


# --- the token -------------------------------------------------------------------------------


async def test_without_a_token_configured_nothing_asks_for_one() -> None:
    async with running_site(_context(token=None)) as site:
        for path in ("/boards/floor", "/static/board.js", "/api/snapshot", "/metrics"):
            assert (await site.get(path)).status == 200, path
        answer = await site.get("/boards/floor?token=anything")
        assert answer.status == 200, "no token configured: the parameter means nothing"
        assert "Set-Cookie" not in answer.headers


async def test_a_token_guards_boards_static_api_and_metrics() -> None:
    async with running_site(_context(token=TOKEN)) as site:
        for path in ("/api/snapshot", "/api/events?board=floor", "/metrics"):
            answer = await site.get(path)
            assert answer.status == 401, path
            assert answer.headers["Content-Type"].startswith("application/json"), path
            assert answer.headers["WWW-Authenticate"] == 'Bearer realm="wallboard"'
            assert "Authorization: Bearer" in (await _json(answer))["error"]
            assert_hardened(answer, path)
        for path in ("/", "/boards/floor", "/boards/nope", "/static/board.js", "/no/such/path"):
            answer = await site.get(path)
            assert answer.status == 401, path
            assert answer.headers["Content-Type"].startswith("text/html"), path
            assert b"?token=" in answer.body, "the page says how to get in"
            assert_hardened(answer, path)
        # probes and the browser's icon request stay open
        for path in ("/healthz", "/readyz", "/favicon.ico"):
            assert (await site.get(path)).status == 200, path
        assert site.http.cookie_jar.filter_cookies(URL(site.url)).get(COOKIE) is None
        assert_never_shows(TOKEN, site.answers)


async def _json(answer: Answer) -> Any:
    import json

    return json.loads(answer.body)


async def test_bearer_token_for_programs() -> None:
    async with running_site(_context(token=TOKEN)) as site:
        good = {"Authorization": f"Bearer {TOKEN}"}
        for path in ("/api/snapshot", "/metrics", "/boards/floor", "/static/board.css"):
            assert (await site.get(path, headers=good)).status == 200, path
        assert (
            await site.get("/metrics", headers={"Authorization": f"bearer  {TOKEN}"})
        ).status == 200
        wrong = (
            f"Bearer {TOKEN}x",
            f"Bearer {TOKEN[:-1]}",
            "Bearer ",
            f"Basic {TOKEN}",
            TOKEN,
            f"Bearer {TOKEN} extra",
        )
        for value in wrong:
            answer = await site.get("/metrics", headers={"Authorization": value})
            assert answer.status == 401, value
        assert_never_shows(TOKEN, site.answers)


async def test_query_token_sets_a_cookie_once_and_the_tv_keeps_a_bare_url() -> None:
    async with running_site(_context(token=TOKEN)) as site:
        answer = await site.get(f"/boards/floor?rotate=floor,east&token={TOKEN}&theme=light")
        assert answer.status == 303
        assert answer.headers["Location"] == "/boards/floor?rotate=floor,east&theme=light"
        assert answer.headers["Cache-Control"] == "no-store"
        assert_hardened(answer, "the redirect")
        cookie = answer.headers["Set-Cookie"]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "samesite", "path", "max-age"} <= attributes
        assert "SameSite=Strict" in cookie
        assert "Path=/;" in cookie or cookie.endswith("Path=/")
        assert "secure" not in attributes, "plain HTTP on the LAN: a Secure cookie never returns"
        jar = site.http.cookie_jar.filter_cookies(URL(site.url))
        assert jar[COOKIE].value not in ("", TOKEN), "the cookie holds a derived value"

        # with the cookie: the page, its files, its event stream, the API
        for path in ("/boards/floor", "/boards/east", "/static/board.js", "/api/snapshot", "/"):
            assert (await site.get(path)).status == 200, path
        stream = await site.get("/api/events?board=floor")
        assert stream.status == 200
        assert stream.headers["Content-Type"] == "text/event-stream"

        # a credential presented must be right, even next to a good cookie
        assert (await site.get(f"/boards/floor?token={TOKEN}-old")).status == 401
        assert (await site.get("/boards/floor?token=")).status == 401
        bad = {"Authorization": "Bearer nope-nope-nope-nope"}
        assert (await site.get("/api/snapshot", headers=bad)).status == 401
        assert (await site.get(f"/boards/floor?token={TOKEN}&token=x")).status == 401
        assert_never_shows(TOKEN, site.answers)

    async with running_site(_context(token=TOKEN)) as site:
        answer = await site.get("/boards/floor?token=wrong-token-for-this-floor")
        assert answer.status == 401
        assert "Set-Cookie" not in answer.headers, "a wrong token earns no cookie"
        forged = {"Cookie": f"{COOKIE}={TOKEN}"}
        assert (await site.get("/boards/floor", headers=forged)).status == 401
        # another token's cookie (the token was changed) is refused too
        async with running_site(_context(token=TOKEN + "-new")) as other:
            await other.get(f"/?token={TOKEN}-new")
            old_cookie = other.http.cookie_jar.filter_cookies(URL(other.url))[COOKIE].value
        answer = await site.get("/boards/floor", headers={"Cookie": f"{COOKIE}={old_cookie}"})
        assert answer.status == 401


def test_token_config_is_a_secret_with_a_usable_shape(tmp_path: Path) -> None:
    settings = load_default_config({"web": {"token": TOKEN}})
    assert settings.web.token_value() == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.web)
    assert load_default_config({"web": {"token": ""}}).web.token_value() is None

    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    from_file = load_default_config({"web": {"token_file": str(secret)}})
    assert from_file.web.token_value() == TOKEN
    assert TOKEN not in repr(from_file)
    assert load_default_config({"web": {"token": "", "token_file": str(secret)}}).web.token_value()

    def errors(web: dict[str, str]) -> list[str]:
        with pytest.raises(ConfigError) as caught:
            load_default_config({"web": web})
        assert all(TOKEN not in error for error in caught.value.errors)
        return caught.value.errors

    (short,) = errors({"token": "short"})
    assert short.startswith("web.token: must be at least 16 characters")
    assert "secrets.token_urlsafe" in short
    (spaced,) = errors({"token": "has spaces in it, sixteen+"})
    assert spaced.startswith("web.token: must be at least 16 characters of letters")
    assert errors({"token": TOKEN, "token_file": str(secret)}) == [
        "web.token: give either token or token_file, not both"
    ]
    assert load_default_config({}).web.listen == "127.0.0.1:8080", "loopback by default"


# --- logs ------------------------------------------------------------------------------------


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured record as a handler would print it, traceback included."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return [formatter.format(record) for record in caplog.records]


async def _raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


BAD_REQUESTS = {
    "bad request line": f"GET /boards/floor?token={TOKEN} HTTP/1.1 junk\r\nHost: x\r\n\r\n",
    "100 KB header": "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 100_000 + "\r\n\r\n",
    "header name": "GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    "too long URL": f"GET /?token={TOKEN}&pad={'p' * 10_000} HTTP/1.1\r\nHost: x\r\n\r\n",
}


async def test_bad_requests_are_one_line_each_without_secrets(
    logs: pytest.LogCaptureFixture,
) -> None:
    async with running_site(_context(token=TOKEN)) as site:
        for what, request in BAD_REQUESTS.items():
            logs.clear()
            answer = await _raw(site.url, request.encode())
            assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), what
            server = [r for r in logs.records if r.name == "aiohttp.server"]
            assert len(server) == 1, (what, _lines(logs))
            (record,) = server
            assert record.levelno == logging.WARNING, what
            assert record.exc_info is None, what
            assert record.exc_text is None, what
            line = record.getMessage()
            assert line.startswith("bad HTTP request from 127.0.0.1 answered 400: "), line
            assert "\n" not in line, line
            assert len(line) < 250, line
            assert all("Traceback" not in text for text in _lines(logs)), what
            assert all(TOKEN not in text for text in _lines(logs)), what
        # the server is still there for everyone else
        assert (await site.get("/healthz")).status == 200


async def test_a_handler_bug_keeps_its_traceback(logs: pytest.LogCaptureFixture) -> None:
    """The one-line treatment is for the client's garbage, never for our own errors."""

    def broken() -> bytes:
        raise RuntimeError("collector bug")

    async with running_site(_context(metrics=broken)) as site:
        assert (await site.get("/metrics")).status == 500
    errors = [r for r in logs.records if r.name == "aiohttp.server" and r.exc_info]
    assert len(errors) == 1
    assert "Traceback" in _lines(logs)[logs.records.index(errors[0])]


async def test_access_log_redacts_the_token(logs: pytest.LogCaptureFixture) -> None:
    """aiohttp's access log writes the request line with its query string: with an access
    log switched on, ``?token=`` and ``Bearer`` values are still never written."""
    app = build_web_app(_context(token=TOKEN))
    runner = web.AppRunner(
        app,
        access_log=logging.getLogger("aiohttp.access"),
        access_log_format='%a "%r" %s "%{Referer}i" "%{Authorization}i"',
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with aiohttp.ClientSession() as http:
            headers = {"Referer": f"{url}/boards/floor?token={TOKEN}"}
            async with http.get(f"{url}/boards/floor?a=1&token={TOKEN}", headers=headers):
                pass
            async with http.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}):
                pass
    finally:
        await runner.cleanup()
    access = [r for r in logs.records if r.name == "aiohttp.access"]
    assert len(access) >= 3, _lines(logs)  # the redirect, the page it led to, /metrics
    assert '"GET /boards/floor?a=1&token=<redacted> HTTP/1.1" 303' in access[0].getMessage()
    assert '"Bearer <redacted>"' in access[-1].getMessage()
    for record in access:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(vars(record)), "nor in the fields structured handlers get"


# --- the daemon ------------------------------------------------------------------------------


async def test_daemon_with_a_token_never_logs_or_answers_it(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    """The real daemon (``web.token`` from the config) against the simulator: every way in
    and every way refused, a bad request carrying the token, and not one log line with it."""
    async with running_simulator(seed=3) as sim:
        settings = daemon_settings(sim.base_url, tmp_path, web={"token": TOKEN})
        async with running_daemon(settings) as daemon:
            await daemon.wait_started()
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                site = Site(daemon.url, daemon.app, http)
                assert (await site.get("/api/snapshot")).status == 401
                assert (await site.get("/metrics")).status == 401
                auth = {"Authorization": f"Bearer {TOKEN}"}
                assert (await site.get("/metrics", headers=auth)).status == 200
                assert (await site.get(f"/boards/floor?token={TOKEN}")).status == 303
                assert (await site.get("/boards/floor")).status == 200
                assert (await site.get("/api/snapshot")).status == 200
                assert (await site.get("/healthz")).status == 200
                assert (await site.get(f"/?token={TOKEN}x")).status == 401
                for answer in site.answers:
                    assert_hardened(answer, "daemon")
                assert_never_shows(TOKEN, site.answers)
            await _raw(daemon.url, BAD_REQUESTS["bad request line"].encode())
    lines = _lines(logs)
    assert any(line.startswith("WARNING aiohttp.server bad HTTP request") for line in lines)
    assert [line for line in lines if TOKEN in line] == []


# --- a real browser --------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Runs before any page script (injected by the browser, so not subject to the page's CSP):
#: every CSP violation the page causes is recorded where the test can read it.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    executable = require_binary("chromium", "/usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def test_board_in_chromium_under_the_csp_loads_only_from_the_daemon(
    chromium: Any, tmp_path: Path
) -> None:
    context = _context(
        token=TOKEN,
        store=FakeStore(compliance_snapshot()),
        clock=FakeClock(COMPLIANCE_NOW),
        heartbeat_seconds=1.0,
    )
    async with running_site(context) as site:
        page = await chromium.new_page(
            viewport={"width": 1920, "height": 1080}, timezone_id="UTC", locale="en-GB"
        )
        await page.add_init_script(RECORD_VIOLATIONS)
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))

        response = await page.goto(f"{site.url}/boards/east?theme=light&token={TOKEN}")
        assert page.url == f"{site.url}/boards/east?theme=light", "the TV keeps a bare URL"
        assert response.status == 200
        assert response.headers["content-security-policy"] == CSP
        # the page runs: its script opened the event stream and drew the pushed figures
        await eventually(lambda: len(site.app[HUB]) == 1, within=10, what="the page's stream")
        await eventually(
            lambda: _shows(page, "SALES1"), within=10, what="the pushed snapshot on screen"
        )
        await page.screenshot(path=str(tmp_path / "board-under-csp.png"))

        violations = await page.evaluate("window.__violations")
        assert violations == [], violations
        csp_messages = [text for text in console if "Content Security Policy" in text]
        assert csp_messages == [], csp_messages
        assert [text for text in console if text.startswith("pageerror")] == []
        assert [url for url in requested if not url.startswith(site.url + "/")] == []
        loaded = {url.removeprefix(site.url).split("?")[0] for url in requested}
        assert {"/boards/east", "/static/board.css", "/static/board.js"} <= loaded
        assert any(url.startswith(f"{site.url}/api/events?board=east") for url in requested)
        assert all(TOKEN not in url for url in requested[1:]), "only the first URL had it"

        # the recorder sees a violation when there is one: inline code is refused
        await page.evaluate(
            """document.body.insertAdjacentHTML("beforeend",
                 '<div style="color:red"></div><img src="data:," onload="window.__ran = 1">')"""
        )
        await eventually(
            lambda: _violated(page, 2), within=5, what="the CSP refuses inline style and code"
        )
        assert await page.evaluate("window.__ran") is None


async def _shows(page: Any, text: str) -> bool:
    return text in await page.inner_text("body")


async def _violated(page: Any, count: int) -> bool:
    return len(await page.evaluate("window.__violations")) >= count
