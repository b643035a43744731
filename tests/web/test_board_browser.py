"""The TV page in real headless Chromium: live figures, honest staleness, a visible lost
connection, nothing external.

Screenshots (1920x1080) are written to ``$WALLBOARD_SCREENSHOTS`` (default: the test's tmp dir)
so a person can look at what the floor sees.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon import DaemonHandle, FakeClock, daemon_settings, running_daemon
from tests.support.serving import serving
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.system import require_binary
from tests.support.waiting import eventually
from tests.web.floor import COMPLIANCE_NOW, FakeStore, compliance_snapshot, floor_snapshot
from wallboard.snapshot import DropWindow, LoginBlock
from wallboard.web.app import build_web_app
from wallboard.web.keys import Board, WebContext
from wallboard.web.sse import HEARTBEAT_ENV

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: A short heartbeat so "no event for two periods" happens within a test's patience.
HEARTBEAT = 0.5

#: What the page may call a source; the API's function names must never reach the screen.
FUNCTIONS = ("logged_in_agents", "call_status_stats", "campaigns_list", "hopper_list")
SEVERITY_WORDS = {"ok": "OK", "warning": "WARNING", "critical": "CRITICAL"}


@pytest.fixture
async def browser_page(tmp_path: Path) -> AsyncIterator[Any]:
    chromium = require_binary("chromium", "/usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = await browser.new_page(
            viewport={"width": 1920, "height": 1080}, timezone_id="UTC", locale="en-GB"
        )
        yield page
        await browser.close()


@pytest.fixture
async def stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[SimHandle, DaemonHandle, FakeClock]]:
    monkeypatch.setenv(HEARTBEAT_ENV, str(HEARTBEAT))
    clock = FakeClock(DEFAULT_START)
    async with running_simulator(seed=3) as sim:
        settings = daemon_settings(sim.base_url, tmp_path)
        async with running_daemon(settings, clock=clock) as daemon:
            await daemon.wait_started()
            yield sim, daemon, clock


def screenshot_dir(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("WALLBOARD_SCREENSHOTS", tmp_path))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


async def _has_text(locator: Any, text: str) -> bool:
    return text in await locator.inner_text()


async def test_board_shows_live_figures_and_loads_nothing_external(
    stack: tuple[SimHandle, DaemonHandle, FakeClock], browser_page: Any, tmp_path: Path
) -> None:
    sim, daemon, _ = stack
    page = browser_page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(daemon.url + "/boards/floor")
    await page.wait_for_selector("article.card")
    document = await daemon.snapshot()
    for campaign in document["campaigns"]:
        card = page.locator(f'article.card[data-campaign="{campaign["id"]}"]')
        text = await card.inner_text()
        assert f"{campaign['drop_ratio'] * 100:.2f}%" in text
        assert f"{campaign['calls_today']:,}" in text
        # the colour is the daemon's verdict, shown with its word, never decided by the page
        severity = campaign["windows"]["today"]["severity"]
        assert await card.get_attribute("data-severity") == severity
        if severity in SEVERITY_WORDS:
            assert SEVERITY_WORDS[severity] in text
    assert await page.locator("#stale-banner").is_hidden()
    assert await page.locator("#conn-banner").is_hidden()
    assert await page.locator(".agent").count() == len(document["agents"])
    # time-in-state known only as a lower bound is shown as one
    lower_bounds = sum(1 for agent in document["agents"] if agent["state_since_exact"] is False)
    assert await page.locator(".agent .since", has_text="≥").count() == lower_bounds
    assert all(url.startswith(daemon.url) for url in requested), requested
    await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-fresh.png"))

    # a change reaches the open page by itself (SSE), no reload, graded by the daemon
    await sim.steer("SALES1", answered_today=1000, dropped_today=29)
    await daemon.poller.poll("call_status_stats")
    sales1 = page.locator('article.card[data-campaign="SALES1"]')
    await eventually(
        lambda: _has_text(sales1, "2.90%"), within=5, what="pushed update reaches the page"
    )
    assert "✖ CRITICAL" in await sales1.inner_text(), "icon and word, not colour alone"


async def test_time_in_state_counts_from_the_servers_clock(
    stack: tuple[SimHandle, DaemonHandle, FakeClock], browser_page: Any
) -> None:
    """The TV's own clock plays no part: the server's clock jumps, and so do the tiles."""
    _, daemon, clock = stack
    page = browser_page
    await page.goto(daemon.url + "/boards/floor")
    await page.wait_for_selector(".agent .since")
    clock.advance(3600 + 2 * 60)  # the next heartbeat carries the new `now`
    # the agents are polled at the new time: while they are stale the tiles show the time in
    # state as of their last poll, which is another test's business
    await daemon.poller.poll("logged_in_agents")
    document = await daemon.snapshot()
    agent = document["agents"][0]
    since = datetime.fromisoformat(agent["state_since"].replace("Z", "+00:00"))
    expected = clock() - since
    assert expected > timedelta(hours=1), "the same state, now for over an hour"
    tile = page.locator(f'.agent[data-user="{agent["user"]}"] .since')

    async def shows_the_server_time() -> bool:
        parts = [int(part) for part in (await tile.inner_text()).lstrip("≥ ").split(":")]
        hours, minutes, seconds = [0] * (3 - len(parts)) + parts
        elapsed = timedelta(hours=hours, minutes=minutes, seconds=seconds)
        return abs(elapsed - expected) < timedelta(seconds=5)

    await eventually(shows_the_server_time, within=5, what="tile follows the server's now")


async def test_board_says_plainly_when_data_is_stale(
    stack: tuple[SimHandle, DaemonHandle, FakeClock], browser_page: Any, tmp_path: Path
) -> None:
    sim, daemon, clock = stack
    page = browser_page
    await page.goto(daemon.url + "/boards/floor")
    await page.wait_for_selector("article.card")
    before = await page.locator("#campaigns").inner_text()

    await sim.add_fault("*", "http_500", times=1000)
    clock.advance(45 * 60)
    await daemon.poller.poll("logged_in_agents")
    banner = page.locator("#stale-banner")
    await banner.wait_for(state="visible", timeout=5000)
    text = await banner.inner_text()
    assert "not updating for 45:" in text  # the age, minutes:seconds, from the server's clock
    assert "agents" in text
    assert "call counts" in text
    assert not [name for name in FUNCTIONS if name in text], "human words, not API names"
    # the failing source's cause, in words, as soon as a heartbeat carries its error
    await eventually(
        lambda: _has_text(banner, "agents not updating for 45:0"), within=5, what="cause named"
    )
    text = await banner.inner_text()
    assert "agents not updating for 45:0" in text
    assert "— VICIdial unreachable" in text, text
    assert not [name for name in FUNCTIONS if name in text], "human words, not API names"
    assert await page.locator("#conn-banner").is_hidden(), "stale data is not a lost connection"
    assert await page.locator("#campaigns").inner_text() == before, "last good figures stay"
    await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-stale.png"))


async def test_index_lists_boards_and_unknown_board_is_404(
    stack: tuple[SimHandle, DaemonHandle, FakeClock],
) -> None:
    _, daemon, _ = stack
    async with daemon.session.get(daemon.url + "/", allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/boards/floor"
    async with daemon.session.get(daemon.url + "/boards/nope") as response:
        assert response.status == 404
    async with daemon.session.get(daemon.url + "/boards/floor") as response:
        page = await response.text()
    assert "http://" not in page, "self-contained: no external URL"
    assert "https://" not in page, "self-contained: no external URL"


async def test_board_with_the_dialer_down_from_the_start_shows_dashes(
    browser_page: Any, tmp_path: Path
) -> None:
    async with running_simulator(seed=3) as sim:
        await sim.add_fault("*", "http_500", times=10_000)
        settings = daemon_settings(
            sim.base_url, tmp_path, vicidial={"campaigns": ["SALES1", "SALES2"]}
        )
        async with running_daemon(settings, clock=FakeClock(DEFAULT_START)) as daemon:
            await eventually(
                lambda: all(s.last_error for s in daemon.poller.statuses.values()),
                within=15,
                what="every source failed once",
            )
            page = browser_page
            await page.goto(daemon.url + "/boards/floor")
            await page.wait_for_selector("article.card")
            await page.locator("#stale-banner").wait_for(state="visible", timeout=5000)
            card = page.locator('article.card[data-campaign="SALES1"]')
            text = await card.inner_text()
            assert "–" in text
            assert "0.00%" not in text
            assert await card.get_attribute("data-severity") == "", "no verdict on no data"
            await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-never-fetched.png"))


# ------------------------------------------------------------------ a real process, killed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_config(path: Path, sim: SimHandle, port: int) -> Path:
    path.write_text(
        f"""
[vicidial]
url = "{sim.base_url}"
user = "{sim.user}"
pass = "{sim.password}"
timeout = "2s"
[poll]
agents_interval = "5s"
stats_interval = "5s"
campaigns_interval = "5s"
hopper_interval = "5s"
jitter = "0s"
max_requests_per_minute = 600
history_days = 2
history_throttle = "0s"
[web]
listen = "127.0.0.1:{port}"
[state]
path = "{path.parent / "wallboard.db"}"
"""
    )
    return path


async def _start(config: Path) -> asyncio.subprocess.Process:
    """``wallboard run`` as a real process, with a short SSE heartbeat."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wallboard", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, HEARTBEAT_ENV: str(HEARTBEAT)},
    )  # fmt: skip


async def _serves_figures(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url + "/api/snapshot") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def test_a_killed_daemon_shows_connection_lost_and_the_page_recovers(
    browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # the real process reads the real clock: the simulated dialer lives in the same day
    live = running_simulator(seed=3, start=datetime.now(UTC), speed=1.0)
    async with live as sim, aiohttp.ClientSession() as http:
        config = _run_config(tmp_path / "wallboard.toml", sim, port)
        process = await _start(config)
        try:
            await eventually(lambda: _serves_figures(http, url), within=30, what="daemon up")
            await page.goto(url + "/boards/floor")
            await page.wait_for_selector("article.card")
            lost = page.locator("#conn-banner")
            assert await lost.is_hidden()
            async with http.get(url + "/api/snapshot") as response:
                offset = (await response.json())["dialer"]["utc_offset_hours"]
            dialer = timezone(timedelta(hours=offset))  # times on the page are the dialer's

            process.send_signal(signal.SIGKILL)  # no goodbye: exactly a crash
            await process.wait()
            killed = time.monotonic()
            await lost.wait_for(state="visible", timeout=10_000)
            took = time.monotonic() - killed
            # two silent heartbeat periods, plus the page's half-period check and slack
            assert took <= 2 * HEARTBEAT + 2.0, f"banner after {took:.1f}s"
            text = await lost.inner_text()
            match = re.search(r"CONNECTION LOST — figures from (\d\d):(\d\d):(\d\d)", text)
            assert match, text
            shown = datetime.now(dialer).replace(
                hour=int(match[1]), minute=int(match[2]), second=int(match[3]), microsecond=0
            )
            assert timedelta(0) <= datetime.now(dialer) - shown < timedelta(seconds=30), text
            assert "lost" in (await page.get_attribute("body", "class") or ""), "figures dimmed"
            assert await page.locator("#stale-banner").is_hidden(), "one banner, the true one"
            assert await page.locator("article.card").count() > 0, "last figures stay on show"
            await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-connection-lost.png"))

            process = await _start(config)  # same port: the page must find it by itself
            await lost.wait_for(state="hidden", timeout=30_000)
            assert "lost" not in (await page.get_attribute("body", "class") or "")
            await page.wait_for_selector("article.card")
            sales1 = await page.locator('article.card[data-campaign="SALES1"]').inner_text()
            assert re.search(r"\d+\.\d\d%", sales1), sales1
            await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-reconnected.png"))
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


# ------------------------------------------------------- the daemon's verdicts, as the page shows


async def test_the_page_shows_the_daemons_verdicts_and_a_blocked_login(
    browser_page: Any, tmp_path: Path
) -> None:
    now = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
    floor = floor_snapshot(now, agents_per_campaign=2)
    counts = {"SALES1": (1000, 29), "SALES2": (1000, 25), "SALES3": (10, 1)}
    campaigns = tuple(
        replace(c, today=DropWindow(calls=2000, answered=counts[c.id][0], dropped=counts[c.id][1]))
        for c in floor.campaigns
    )
    first, *others = floor.agents
    lower_bound = replace(first, state_since=now - timedelta(seconds=247), state_since_exact=False)
    block = LoginBlock(
        cause="locked",
        fix="it unlocks by itself 15 minutes after the last failure",
        since=now,
        next_probe=now + timedelta(minutes=15),
    )
    store = FakeStore(
        replace(floor, campaigns=campaigns, agents=(lower_bound, *others), login_block=block)
    )
    boards = (Board(name="all", title="All campaigns"),)
    app = build_web_app(WebContext(store=store, limit=0.03, clock=FakeClock(now), boards=boards))
    async with serving(app) as url:
        async with aiohttp.ClientSession() as http, http.get(url + "/api/snapshot") as answer:
            document = await answer.json()  # the API says what the page must show
        severities = {c["id"]: c["windows"]["today"]["severity"] for c in document["campaigns"]}
        assert severities == {"SALES1": "critical", "SALES2": "warning", "SALES3": "insufficient"}
        page = browser_page
        await page.goto(url + "/boards/all")
        await page.wait_for_selector("article.card")
        for campaign, words in (
            ("SALES1", "✖ CRITICAL"),
            ("SALES2", "⚠ WARNING"),
            ("SALES3", "· TOO FEW CALLS"),
        ):
            card = page.locator(f'article.card[data-campaign="{campaign}"]')
            assert words in await card.inner_text()
            assert await card.get_attribute("data-severity") == severities[campaign]
        tiles = page.locator(".agent .since")
        assert await tiles.first.inner_text() == "≥ 4:07", "a lower bound, said as one"
        assert await page.locator(".agent .since", has_text="≥").count() == 1
        banner = page.locator("#stale-banner")
        await banner.wait_for(state="visible", timeout=5000)
        text = await banner.inner_text()
        assert "VICIdial locked the wallboard's API user" in text
        assert block.fix in text
        pill = page.locator("#freshness")
        assert "✓" not in await pill.inner_text(), "no green tick above a blocked login"
        assert await pill.get_attribute("class") == "stale"
        await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-login-blocked.png"))


async def test_the_page_shows_the_alert_engines_incidents_as_a_banner(
    browser_page: Any, tmp_path: Path
) -> None:
    from wallboard.alerts.types import AlertView, AutoPauseOutcome, Figures, Incident, Kind, Level

    now = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
    floor = floor_snapshot(now, agents_per_campaign=2)
    incident = Incident(
        key="drop:SALES1:today:2026-11-25",
        kind=Kind.DROP,
        campaign="SALES1",
        window="today",
        severity=Level.CRITICAL,
        opened_at=now,
        updated_at=now,
        summary="SALES1 today drop rate 2.90 %",
        figures=Figures(0.029, 1000, 29, 1, 0.028, 0.03),
        auto_pause=AutoPauseOutcome("SALES1", now, True, "would_pause", "dry run"),
    )
    view = AlertView(incidents=(incident,), window_states=(("SALES1", "today", Level.CRITICAL),))
    boards = (Board(name="all", title="All campaigns"),)
    context = WebContext(
        store=FakeStore(floor),
        limit=0.03,
        clock=FakeClock(now),
        boards=boards,
        alert_view=lambda: view,
    )
    async with serving(build_web_app(context)) as url:
        page = browser_page
        await page.goto(url + "/boards/all")
        banner = page.locator("#alert-banner")
        await banner.wait_for(state="visible", timeout=5000)
        text = await banner.inner_text()
        assert "✖ CRITICAL" in text
        assert "SALES1 Today 2.90%" in text, "the window as the daemon labels it"
        assert "1 drop left" in text
        assert "auto-pause (dry run): would pause" in text
        card = page.locator('article.card[data-campaign="SALES1"]')
        # the engine's critical outranks the window's own grade (a quiet 0.x % floor)
        assert await card.get_attribute("data-severity") == "critical"
        await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-alert.png"))


# ------------------------------------------------------- every window, labelled; groups; forecast


async def test_the_page_labels_every_legal_window_the_forecast_and_groups(
    browser_page: Any, tmp_path: Path
) -> None:
    from wallboard.alerts.types import AlertView, Figures, Incident, Kind, Level

    incident = Incident(
        key="drop:SALES1:today_ofcom:2026-11-25",
        kind=Kind.DROP,
        campaign="SALES1",
        window="today_ofcom",
        severity=Level.WARNING,
        opened_at=COMPLIANCE_NOW,
        updated_at=COMPLIANCE_NOW,
        summary="SALES1 Ofcom 2.12 %",
        figures=Figures(0.021154, 1000, 22, 9, 0.02, 0.03),
    )
    view = AlertView(
        incidents=(incident,), window_states=(("SALES1", "today_ofcom", Level.WARNING),)
    )
    boards = (Board(name="all", title="All campaigns"),)
    context = WebContext(
        store=FakeStore(compliance_snapshot()),
        limit=0.03,
        clock=FakeClock(COMPLIANCE_NOW),
        boards=boards,
        alert_view=lambda: view,
    )
    async with serving(build_web_app(context)) as url:
        page = browser_page
        await page.goto(url + "/boards/all")
        await page.wait_for_selector('article.card[data-campaign="group:EAST"]')
        sales1 = page.locator('article.card[data-campaign="SALES1"]')
        text = await sales1.inner_text()
        assert "DROP RATE · TODAY" in text  # the labels are upper-cased by the style
        assert "2.20%" in text

        async def cell(card: Any, window: str) -> str:
            text = await card.locator(f'.win[data-window="{window}"]').inner_text()
            return str(text).replace("\u00a0", " ")  # a note's words never wrap apart

        expected = {
            "30d": ("30 DAYS", "1.90%", "220 drops left"),
            "period": ("PERIOD", "2.10%", "since 10 Nov", "90 drops left"),
            "today_ofcom": ("TODAY (OFCOM)", "2.12%", "21.136 adj. drops", "9 drops left"),
        }
        for window, parts in expected.items():
            shown = await cell(sales1, window)
            assert [part for part in parts if part not in shown] == [], (window, shown)
        ofcom = await cell(sales1, "today_ofcom")
        assert "⚠ WARNING" in ofcom, "the engine's state for that window, in words"
        assert await sales1.locator('.win[data-window="15m"]').count() == 0, "pacing: forecast"
        forecast = sales1.locator(".forecast")
        said = (await forecast.inner_text()).replace("\u00a0", " ")
        assert "at this pace passes 3 % around 15:24" in said
        assert "tone-critical" in (await forecast.get_attribute("class") or "")

        sales2 = page.locator('article.card[data-campaign="SALES2"]')
        assert "12 of 30 days" in await cell(sales2, "30d"), "a short history says so"
        assert "since 20 Nov" in await cell(sales2, "period")
        assert await sales2.locator('.win[data-window="today_ofcom"]').count() == 0
        assert await sales2.locator(".forecast").count() == 0, "no forecast: no line"

        group = page.locator('article.card[data-campaign="group:EAST"]')
        group_text = (await group.inner_text()).replace("\u00a0", " ")
        for part in (
            "GROUP",
            "EAST",
            "SALES1 + SALES2",
            "1.78%",
            "3,600",
            "at this pace stays under 3 % until 21:00",
        ):
            assert part in group_text
        assert await group.locator(".bar").count() == 0, "a group has no agents of its own"
        assert await group.get_attribute("data-severity") == "ok"

        clipped = await page.evaluate(
            """() => [...document.querySelectorAll('.card .wins *, .card .forecast')]
                .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)"""
        )
        assert clipped == [], "every label and note is readable, none cut off"
        banner = page.locator("#alert-banner")
        await banner.wait_for(state="visible", timeout=5000)
        assert "SALES1 Today (Ofcom) 2.12%" in await banner.inner_text(), "the label, not the key"
        await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-windows.png"))
