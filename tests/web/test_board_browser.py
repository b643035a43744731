"""The TV page in real headless Chromium: live figures, honest staleness, nothing external.

Screenshots (1920x1080) are written to ``$WALLBOARD_SCREENSHOTS`` (default: the test's tmp dir)
so a person can look at what the floor sees.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import DaemonHandle, FakeClock, daemon_settings, running_daemon
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.system import require_binary
from tests.support.waiting import eventually

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser_page(tmp_path: Path) -> AsyncIterator[Any]:
    chromium = require_binary("chromium", "/usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1920, "height": 1080})
        yield page
        await browser.close()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[SimHandle, DaemonHandle, FakeClock]]:
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
    banner_hidden = await page.locator("#stale-banner").is_hidden()
    assert banner_hidden
    assert await page.locator(".agent").count() == len(document["agents"])
    assert all(url.startswith(daemon.url) for url in requested), requested
    await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-fresh.png"))

    # a change reaches the open page by itself (SSE), no reload
    await sim.steer("SALES1", answered_today=1000, dropped_today=29)
    await daemon.poller.poll("call_status_stats")
    sales1 = page.locator('article.card[data-campaign="SALES1"]')
    await eventually(
        lambda: _has_text(sales1, "2.90%"), within=5, what="pushed update reaches the page"
    )


async def _has_text(locator: Any, text: str) -> bool:
    return text in await locator.inner_text()


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
    assert "DATA NOT UPDATING" in text
    assert "logged_in_agents" in text
    assert "45:" in text  # the age, minutes:seconds
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
            card = await page.locator('article.card[data-campaign="SALES1"]').inner_text()
            assert "–" in card
            assert "0.00%" not in card
            await page.screenshot(path=str(screenshot_dir(tmp_path) / "board-never-fetched.png"))
