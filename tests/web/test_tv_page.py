"""The TV page as a floor sees it, in real headless Chromium against the real web app.

What a wallboard must get right from across the room: the same numbers as the API, the key
figures big enough to read at 5 m, nothing cut or overlapping on a small screen, every agent
shown (paged when they do not fit), VICIdial's colours for time in state, the dialer's clock,
staleness and alerts in words, and a screen that looks after itself (theme, drift, rotation,
reload on a new deployment).

Screenshots (1920x1080 unless named otherwise) go to ``$WALLBOARD_SCREENSHOTS``, else the
test's temporary directory.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.waiting import eventually
from tests.web.tv_support import (
    FULL_HD,
    LONG_NAME,
    NOW,
    SMALL,
    STATES,
    UHD,
    XSS_NAME,
    agent_pages,
    chromium,
    serve,
    shots,
    tv_floor,
    watch,
    with_trend,
)
from wallboard.alerts.types import AlertView, AutoPauseOutcome, Figures, Incident, Kind, Level
from wallboard.web.app import DOCUMENTS
from wallboard.web.keys import Board
from wallboard.windows.trend import TrendPoint

FUNCTIONS = ("logged_in_agents", "call_status_stats", "campaigns_list", "hopper_list")
SEVERITY_WORDS = {
    "ok": "✓ OK",
    "warning": "⚠ WARNING",
    "critical": "✖ CRITICAL",
    "insufficient": "· TOO FEW CALLS",
}
#: VICIdial's real-time report (and ours for what it leaves open): (state, seconds) → colour.
COLOURS = {
    ("waiting", 20): (173, 216, 230),  # lightblue
    ("waiting", 90): (0, 0, 255),  # blue
    ("waiting", 420): (25, 25, 112),  # midnightblue
    ("incall", 5): (230, 230, 250),  # lavender: the first seconds
    ("incall", 30): (216, 191, 216),  # thistle
    ("incall", 150): (238, 130, 238),  # violet
    ("incall", 700): (128, 0, 128),  # purple
    ("paused", 4): (255, 250, 205),  # lemonchiffon: the first seconds
    ("paused", 20): (240, 230, 140),  # khaki
    ("paused", 75): (255, 255, 0),  # yellow
    ("paused", 900): (128, 128, 0),  # olive
    ("dispo", 12): (102, 205, 170),
    ("dead", 40): (0, 0, 0),
    ("dial", 3): (255, 160, 122),
}


def _text(value: str) -> str:
    return value.replace("\u00a0", " ").strip()


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(float(part)) for part in re.findall(r"[\d.]+", css)[:3])


def _luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def _document(url: str, board: str = "floor") -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/snapshot?board={board}") as r:
        assert r.status == 200
        document: dict[str, Any] = await r.json()
        return document


async def _open(page: Any, url: str) -> None:
    await page.goto(url)
    await page.wait_for_selector("article.card")
    await page.wait_for_selector("#agents .agent")


async def _until(page: Any, expression: str, what: str, within: float = 10.0) -> None:
    """Wait for a page expression to be true (``wait_for_function`` evaluates strings with
    ``eval``, which the page's CSP rightly refuses)."""

    async def holds() -> bool:
        try:
            return bool(await page.evaluate(expression))
        except Exception:  # navigating: the old document is gone, the new one not ready
            return False

    await eventually(holds, within=within, what=what)


# ------------------------------------------------------------------------------ the figures


async def test_the_page_shows_the_same_numbers_as_the_api(tmp_path: Path) -> None:
    async with serve(tv_floor()) as served, chromium() as page:
        problems = watch(page)
        await _open(page, served.url + "/boards/floor")
        document = await _document(served.url)
        for target in (*document["campaigns"], *document["drop_groups"]):
            card = page.locator(f'article.card[data-campaign="{target["id"]}"]')
            text = _text(await card.inner_text())
            figure = await card.locator(".left").inner_text()
            assert figure == f"{target['drops_remaining']:,}", target["id"]
            assert await card.locator(".drop").inner_text() == f"{target['drop_ratio'] * 100:.2f}%"
            severity = target["windows"]["today"]["severity"]
            assert await card.get_attribute("data-severity") == severity
            assert SEVERITY_WORDS[severity] in text, "icon and word, never colour alone"
            for name in ("30d", "period"):
                window = target["windows"].get(name)
                if window is None:
                    continue
                row = _text(await card.locator(f'.win[data-window="{name}"]').inner_text())
                assert window["label"].upper() in row
                assert f"{window['ratio'] * 100:.2f}%" in row
                left = window["drops_remaining"]
                assert f"{left} drop{'' if left == 1 else 's'} left" in row
            calls = _text(await card.locator(".stat.calls b").inner_text())
            assert calls == f"{target['calls_today']:,}"
            if target["forecast"]:
                said = _text(await card.locator(".forecast").inner_text())
                assert target["forecast"]["summary"] in said
            points = await card.locator(".spark-box").get_attribute("data-points")
            assert points == str(len(target["sparkline"]["points"])), "every trend point drawn"
            if target["is_group"]:
                continue
            assert _text(await card.locator(".stat.waiting b").inner_text()) == str(
                target["calls_waiting"]
            )
            assert await card.locator(".stat.dial b").inner_text() == f"{target['dial_level']:.2f}"
            for state in ("waiting", "incall", "paused", "dispo", "dead"):
                chip = card.locator(f'.chip[data-state="{state}"] b')
                assert await chip.inner_text() == str(target["agents"][state]), state
        hoppers = {c["id"]: c["hopper_leads"] for c in document["campaigns"]}
        assert hoppers == {"SALES1": 350, "SALES2": 0, "SALES3": 12}
        for campaign, flag, figure, word in (
            ("SALES2", "empty", "⚠ 0", "EMPTY"),
            ("SALES3", "low", "⚠ 12", "LOW"),
        ):
            hopper = page.locator(f'article.card[data-campaign="{campaign}"] .stat.hopper')
            assert await hopper.get_attribute("data-hopper") == flag
            assert _text(await hopper.locator("b").inner_text()) == figure, "with an icon"
            assert _text(await hopper.locator(".flag").inner_text()) == word, "and a word"
        sales1 = page.locator('article.card[data-campaign="SALES1"] .stat.hopper')
        assert await sales1.get_attribute("data-hopper") == "ok"

        # the dialer's clock (New York), and how old the figures are in its time
        assert await page.locator("#inbound").inner_text() == str(document["inbound_calls_waiting"])
        assert await page.locator("#clock").inner_text() == "10:04"
        assert await page.locator("#clock-zone").text_content() == "New York time"
        assert await page.locator("#freshness").inner_text() == "✓ figures as of 10:04:03"

        await page.screenshot(path=str(shots(tmp_path) / "tv-fresh.png"))

        # every agent is on screen, on one page or another
        pages = await agent_pages(page)
        users = [tile["user"] for tiles in pages for tile in tiles]
        assert sorted(users) == sorted(a["user"] for a in document["agents"])
        assert await page.locator(".agent.more, .more").count() == 0, "never a +N more tile"
        assert problems == []


async def test_key_figures_are_readable_from_across_the_room() -> None:
    """At 1920x1080 the figures a supervisor acts on are at least 48 px tall, and whole."""
    async with serve(tv_floor()) as served, chromium(FULL_HD) as page:
        await _open(page, served.url + "/boards/floor")
        sizes = await page.evaluate(
            """() => [...document.querySelectorAll('.card .left, .card .drop, #clock')]
                .map((e) => ({text: e.textContent, size: parseFloat(getComputedStyle(e).fontSize),
                              cut: e.scrollWidth > e.clientWidth + 1}))"""
        )
        assert len(sizes) == 2 * 4 + 1
        assert [s for s in sizes if s["size"] < 48 and s["text"] != "10:04"] == []
        assert [s for s in sizes if s["cut"]] == []
        # drops remaining is the loudest number of its card
        loudest = await page.evaluate(
            """() => [...document.querySelectorAll('article.card')].every((card) => {
                const left = parseFloat(getComputedStyle(card.querySelector('.left')).fontSize);
                return [...card.querySelectorAll('*')].every((e) => e.closest('.left') ||
                    parseFloat(getComputedStyle(e).fontSize) < left);
            })"""
        )
        assert loudest
        names = await page.evaluate(
            """() => [...document.querySelectorAll('.agent .name')]
                .map((e) => parseFloat(getComputedStyle(e).fontSize))"""
        )
        assert min(names) >= 16, "agent names are meant to be read, not guessed"


async def test_an_alert_is_a_banner_with_what_the_auto_pause_did(tmp_path: Path) -> None:
    paused = Incident(
        key="drop:SALES3:today:2026-11-25",
        kind=Kind.DROP,
        campaign="SALES3",
        window="today",
        severity=Level.CRITICAL,
        opened_at=NOW - timedelta(minutes=2),
        updated_at=NOW,
        summary="SALES3 today drop rate 2.90 %",
        figures=Figures(0.029, 1000, 29, 1, 0.028, 0.03),
        auto_pause=AutoPauseOutcome("SALES3", NOW - timedelta(minutes=1), False, "paused", "ok"),
    )
    warning = Incident(
        key="drop:SALES2:today:2026-11-25",
        kind=Kind.DROP,
        campaign="SALES2",
        window="today",
        severity=Level.WARNING,
        opened_at=NOW - timedelta(minutes=9),
        updated_at=NOW,
        summary="SALES2 today drop rate 2.56 %",
        figures=Figures(0.025556, 900, 23, 4, 0.025, 0.03),
    )
    view = AlertView(
        incidents=(warning, paused),
        window_states=(("SALES3", "today", Level.CRITICAL), ("SALES2", "today", Level.WARNING)),
    )
    floor = tv_floor()
    floor = replace(
        floor,
        campaigns=tuple(replace(c, active=c.id != "SALES3") for c in floor.campaigns),
    )
    async with serve(floor, alert_view=lambda: view) as served, chromium() as page:
        problems = watch(page)
        await _open(page, served.url + "/boards/floor")
        banner = page.locator("#alert-banner")
        await banner.wait_for(state="visible", timeout=5000)
        lines = [_text(line) for line in await banner.locator(".alert").all_inner_texts()]
        assert len(lines) == 2
        first, second = lines
        assert first.startswith("✖ CRITICAL SALES3 Today 2.90% · 1 drop left"), "worst first"
        assert "since 10:02" in first, "the dialer's time"
        assert "■ auto-pause: SALES3 PAUSED at 10:03 — resume it in VICIdial" in first
        assert second.startswith("⚠ WARNING SALES2 Today 2.56% · 4 drops left")
        card = page.locator('article.card[data-campaign="SALES3"]')
        assert await card.get_attribute("data-severity") == "critical"
        assert "■ INACTIVE" in await card.locator(".sub").inner_text()
        cut = await card.locator(".inactive-tag").evaluate(
            "(e) => e.getBoundingClientRect().right > e.parentElement.getBoundingClientRect().right"
        )
        assert not cut, "a stopped campaign says so in full"
        assert problems == []
        await page.screenshot(path=str(shots(tmp_path) / "tv-warning-alert.png"))


async def test_stale_figures_say_what_stopped_for_how_long_and_why(tmp_path: Path) -> None:
    floor = tv_floor()
    failing = {"logged_in_agents": "transport", "hopper_list": "permission"}
    ages = {"logged_in_agents": 130, "hopper_list": 400}  # stale after 90 s and 360 s
    sources = tuple(
        replace(
            status,
            ok=False,
            last_success=NOW - timedelta(seconds=ages[status.function]),
            last_error="HTTP 500 from http://dialer/vicidial/non_agent_api.php",
            error_kind=failing[status.function],
            failing_since=NOW - timedelta(seconds=100),
        )
        if status.function in failing
        else status
        for status in floor.sources
    )
    async with serve(replace(floor, sources=sources)) as served, chromium() as page:
        await _open(page, served.url + "/boards/floor")
        banner = page.locator("#stale-banner")
        await banner.wait_for(state="visible", timeout=5000)
        text = _text(await banner.inner_text())
        assert "agents not updating for 2:10 — VICIdial unreachable" in text
        assert "hoppers not updating for 6:40" in text
        assert "the wallboard's VICIdial user lacks a permission" in text
        assert not [name for name in FUNCTIONS if name in text], "words, not API names"
        assert "HTTP 500" not in text, "no raw error text"
        assert "http://" not in text, "no raw error text"
        pill = page.locator("#freshness")
        assert await pill.get_attribute("class") == "stale"
        assert await pill.inner_text() == "⚠ figures as of 10:01:55", "the older live figure"
        assert await page.locator("#conn-banner").is_hidden()
        # time in state as of the agents' last good poll (420 s then 130 s ago), not ticking on
        waiting = page.locator('.agent[data-user="1007"]')
        assert STATES[7] == ("waiting", 420, "")
        assert await waiting.locator(".since").inner_text() == "4:50"
        assert "t2" in (await waiting.get_attribute("class") or ""), "blue, not midnight blue"
        await page.screenshot(path=str(shots(tmp_path) / "tv-stale.png"))


# ------------------------------------------------------------------------------- the agents


async def test_agent_names_are_text_and_never_cut() -> None:
    async with serve(tv_floor(campaigns=3, agents=14)) as served, chromium() as page:
        problems = watch(page)
        await _open(page, served.url + "/boards/floor")
        names = await page.locator("#agents .agent .name").all_inner_texts()
        assert XSS_NAME in names, "markup in a name is shown as its characters"
        assert LONG_NAME in [_text(name).replace("\n", " ") for name in names]
        assert await page.locator("#agents img, #campaigns img").count() == 0
        cut = await page.evaluate(
            """() => [...document.querySelectorAll('.agent .name, .agent .since, .agent .state')]
                .filter((e) => e.scrollHeight > e.clientHeight + 1
                               || e.scrollWidth > e.clientWidth + 1)
                .map((e) => e.textContent)"""
        )
        assert cut == [], "a long name wraps or shrinks; nothing ends in an ellipsis"
        assert problems == [], "no script ran from a name"


async def test_tiles_take_vicidials_colours_for_state_and_time() -> None:
    async with serve(tv_floor(campaigns=3, agents=len(STATES))) as served, chromium() as page:
        await _open(page, served.url + "/boards/floor")
        document = await _document(served.url)
        page_background = _rgb(
            await page.evaluate("getComputedStyle(document.body).backgroundColor")
        )
        timers = set()
        for agent, (state, seconds, code) in zip(document["agents"], STATES, strict=True):
            tile = page.locator(f'.agent[data-user="{agent["user"]}"]')
            style = await tile.evaluate(
                """(e) => { const s = getComputedStyle(e);
                    return {bg: s.backgroundColor, fg: s.color, border: s.borderTopColor,
                            width: parseFloat(s.borderTopWidth)}; }"""
            )
            background = _rgb(style["bg"])
            assert background == COLOURS[(state, seconds)], (state, seconds, style)
            assert _contrast(background, _rgb(style["fg"])) >= 4.5, (state, seconds, style)
            # the tile stands out from the page: by its fill, or (dark fills) by its border
            edge = max(
                _contrast(background, page_background),
                _contrast(_rgb(style["border"]), page_background),
            )
            assert edge >= 3, (state, seconds, style)
            assert style["width"] >= 2, (state, seconds, style)
            word = _text(await tile.locator(".state").inner_text())
            assert word == (
                code or {"incall": "IN CALL", "dial": "DIALING"}.get(state, state.upper())
            )
            since = await tile.locator(".since").inner_text()
            bound = "≥ " if agent["state_since_exact"] is False else ""
            assert since.startswith(bound)
            minutes, secs = divmod(seconds, 60)
            assert since.removeprefix(bound) in (
                f"{minutes}:{secs:02d}",
                f"{minutes}:{secs + 1:02d}",
            )
            timers.add(since)
        assert len(timers) == len(STATES), "each agent's own time, not one shared value"
        legend = _text(await page.locator("#legend").inner_text())
        for words in ("Waiting", "In call", "Paused", "dispo", "dialing", "dead call", "≥"):
            assert words in legend


async def test_agents_page_through_when_they_do_not_fit() -> None:
    floor = tv_floor(campaigns=4, agents=150)
    async with serve(floor) as served, chromium() as page:
        await _open(page, served.url + "/boards/floor?page_every=1s")
        pages = await agent_pages(page)
        assert len(pages) > 1
        users = [tile["user"] for tiles in pages for tile in tiles]
        assert len(users) == len(set(users)) == 150, "each agent once, nobody left out"
        assert all(len(tiles) == len(pages[0]) for tiles in pages[:-1]), "full pages"
        pager = await page.locator("#pager").inner_text()
        assert re.fullmatch(rf"page \d+/{len(pages)} · agents \d+–\d+ of 150", pager), pager
        overflow = await page.evaluate(
            "(() => { const a = document.getElementById('agents');"
            " return a.scrollHeight - a.clientHeight; })()"
        )
        assert overflow <= 1, "a page fits its area: no tile hangs off the screen"


# --------------------------------------------------------------------------- screen sizes


#: Boxes that leave the screen or their card, text cut off, and blocks that overlap.
LAYOUT_FAULTS = """() => {
    const out = [];
    const box = (e) => e.getBoundingClientRect();
    const visible = (e) => { const r = box(e); return r.width > 0 && r.height > 0; };
    const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1
        && a.top < b.bottom - 1 && b.top < a.bottom - 1;
    const name = (e) => (e.className || e.tagName) + ' "' + e.textContent.slice(0, 30) + '"';
    const pairs = (list, what) => {
        for (let i = 0; i < list.length; i++) {
            for (let j = i + 1; j < list.length; j++) {
                if (overlap(box(list[i]), box(list[j]))) {
                    out.push(what + name(list[i]) + ' / ' + name(list[j]));
                }
            }
        }
    };
    const key = ['#top > *', '#top b', '#clock', '.card .left', '.card .drop', '.card h2',
        '.badge', '.win .wv', '.stat b', '.chip', '.forecast', '.agent .name', '.agent .since',
        '.agent .state', '#pager', '.alert'].join(', ');
    for (const e of document.querySelectorAll(key)) {
        if (!visible(e)) continue;
        const r = box(e);
        if (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1) {
            out.push('off screen: ' + name(e));
        }
        if (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1) {
            out.push(`cut ${e.scrollWidth}x${e.scrollHeight} in `
                + `${e.clientWidth}x${e.clientHeight}: ` + name(e));
        }
    }
    for (const card of document.querySelectorAll('article.card')) {
        const c = box(card);
        const parts = [...card.children].filter(visible);
        for (const p of parts) {
            const r = box(p);
            if (r.left < c.left - 1 || r.right > c.right + 1
                || r.top < c.top - 1 || r.bottom > c.bottom + 1) {
                out.push('outside its card: ' + name(p));
            }
        }
        pairs(parts, 'overlap in a card: ');
    }
    const blocks = '#top, .banner, #alert-banner, article.card, #agents-head, .agent';
    pairs([...document.querySelectorAll(blocks)].filter(visible), 'overlap: ');
    return out;
}"""


async def _layout_faults(page: Any) -> list[str]:
    faults: list[str] = await page.evaluate(LAYOUT_FAULTS)
    return faults


@pytest.mark.parametrize(
    ("viewport", "campaigns", "agents", "least"),
    [(SMALL, 8, 150, 24.0), (FULL_HD, 8, 150, 48.0), (FULL_HD, 3, 36, 48.0), (UHD, 3, 36, 96.0)],
    ids=["1280x720-8x150", "1920x1080-8x150", "1920x1080-3x36", "3840x2160-3x36"],
)
async def test_nothing_overlaps_or_is_cut(
    viewport: dict[str, int], campaigns: int, agents: int, least: float, tmp_path: Path
) -> None:
    floor = tv_floor(campaigns=campaigns, agents=agents)
    async with serve(floor) as served, chromium(viewport) as page:
        await _open(page, served.url + "/boards/floor")
        document = await _document(served.url)
        for target in (*document["campaigns"], *document["drop_groups"]):
            card = page.locator(f'article.card[data-campaign="{target["id"]}"]')
            assert await card.is_visible(), f"{target['id']} is on the screen, not paged away"
            for part in (".left", ".drop"):
                figure = card.locator(part)
                assert await figure.is_visible()
                size = await figure.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)")
                assert size >= least, (target["id"], part, size)
        assert await page.locator("#agents .agent").count() > 0, "the agents never collapse"
        assert await _layout_faults(page) == []
        width, height = viewport["width"], viewport["height"]
        if (width, campaigns) in ((1280, 8), (1920, 3)):
            await page.screenshot(path=str(shots(tmp_path) / f"tv-{width}x{height}.png"))


async def test_more_campaigns_than_rows_page_through_too() -> None:
    """A board that lists more campaigns than a screen has rows shows them a page at a time,
    each still whole (a big floor should be split into boards; the TV must not fail it)."""
    async with serve(tv_floor(campaigns=16, agents=60)) as served, chromium(SMALL) as page:
        await _open(page, served.url + "/boards/floor?page_every=1s")
        document = await _document(served.url)
        wanted = {c["id"] for c in (*document["campaigns"], *document["drop_groups"])}
        seen: set[str] = set()
        pages: set[str] = set()

        async def every_campaign_shown() -> bool:
            found = await page.evaluate(
                """() => ({ids: [...document.querySelectorAll('article.card')]
                    .map((c) => c.dataset.campaign),
                    pager: document.querySelector('.camp-pager')?.textContent || ''})"""
            )
            seen.update(found["ids"])
            pages.add(found["pager"])
            assert await _layout_faults(page) == []
            return seen == wanted

        await eventually(every_campaign_shown, within=20, what="every campaign on some page")
        assert all(re.fullmatch(r"campaigns page \d/\d", pager) for pager in pages), pages
        assert len(pages) > 1


# ----------------------------------------------------------------------------- sparklines


async def test_the_sparkline_draws_todays_trend_against_the_limits() -> None:
    floor = tv_floor()
    floor = with_trend(floor, (TrendPoint(9 * 3600, 400, 9),), "SALES2")
    floor = with_trend(floor, (), "SALES3")
    async with serve(floor) as served, chromium() as page:
        problems = watch(page)
        await _open(page, served.url + "/boards/floor")
        document = await _document(served.url)
        sparks = {c["id"]: c["sparkline"] for c in document["campaigns"]}
        assert sparks["SALES3"] is None
        assert len(sparks["SALES2"]["points"]) == 1

        def spark(campaign: str) -> Any:
            return page.locator(f'article.card[data-campaign="{campaign}"] svg.sparkline')

        drawn = await spark("SALES1").evaluate(
            """(svg) => ({
                points: svg.querySelector('polyline.trend').getAttribute('points').trim()
                    .split(/\\s+/).length,
                warn: +svg.querySelector('.th-warn').getAttribute('y1'),
                critical: +svg.querySelector('.th-critical').getAttribute('y1'),
                limit: +svg.querySelector('.th-limit').getAttribute('y1'),
                last: +svg.querySelector('circle.dot').getAttribute('cy'),
                height: svg.getBoundingClientRect().height})"""
        )
        assert drawn["points"] == len(sparks["SALES1"]["points"])
        assert drawn["limit"] < drawn["critical"] < drawn["warn"] < drawn["height"], drawn
        caption = page.locator('article.card[data-campaign="SALES1"] .spark .label')
        assert await caption.text_content() == "Drop rate today · limit 3%"
        # SALES1 ends at 1.2 %: its last point sits below the warn line (larger y)
        assert drawn["last"] > drawn["warn"]
        one = spark("SALES2")
        assert await one.locator("line.trend").count() == 1, "one point still reads as a value"
        assert await one.locator("circle.dot").count() == 1
        none = spark("SALES3")
        assert await none.locator(".trend, circle").count() == 0
        assert await none.locator("text.none").text_content() == "trend not available yet"
        assert await none.locator(".th-limit").count() == 1, "the limit is drawn even so"
        assert problems == []


# ------------------------------------------------------------------------- always-on screens


async def test_the_screen_has_no_chrome_and_drifts_against_burn_in() -> None:
    async with serve(tv_floor()) as served, chromium() as page:
        await _open(page, served.url + "/boards/floor")
        found = await page.evaluate(
            """() => ({
                interactive: document.querySelectorAll('button, input, select, textarea, a[href]')
                    .length,
                cursor: getComputedStyle(document.body).cursor,
                scroll: document.scrollingElement.scrollHeight - innerHeight,
                animation: getComputedStyle(document.getElementById('frame')).animationName,
                period: parseFloat(
                    getComputedStyle(document.getElementById('frame')).animationDuration),
                theme: document.documentElement.classList.contains('light'),
                background: getComputedStyle(document.body).backgroundColor})"""
        )
        assert found["interactive"] == 0
        assert found["cursor"] == "none"
        assert found["scroll"] <= 0, "no scrollbars"
        assert found["animation"] == "drift"
        assert found["period"] >= 300, "slow: a pixel a minute at most"
        assert found["theme"] is False
        assert _luminance(_rgb(found["background"])) < 0.05, "dark by default"
        frames = await page.evaluate(
            """() => [...document.styleSheets].flatMap((s) => [...s.cssRules])
                .filter((r) => r.type === CSSRule.KEYFRAMES_RULE && r.name === 'drift')
                .flatMap((r) => [...r.cssRules].map((k) => k.style.transform))"""
        )
        steps = [tuple(int(v) for v in re.findall(r"-?\d+", f)) for f in frames]
        assert steps
        assert max(abs(v) for step in steps for v in step) <= 4, steps


async def test_the_light_theme(tmp_path: Path) -> None:
    async with serve(tv_floor()) as served, chromium() as page:
        await _open(page, served.url + "/boards/floor?theme=light")
        colours = await page.evaluate(
            """() => ({body: getComputedStyle(document.body).backgroundColor,
                text: getComputedStyle(document.body).color,
                card: getComputedStyle(document.querySelector('article.card')).backgroundColor})"""
        )
        assert _luminance(_rgb(colours["body"])) > 0.7
        assert _luminance(_rgb(colours["card"])) > 0.9
        assert _contrast(_rgb(colours["card"]), _rgb(colours["text"])) >= 7
        await page.screenshot(path=str(shots(tmp_path) / "tv-light.png"))


async def test_agents_off_leaves_the_campaigns_the_whole_screen() -> None:
    boards = (
        Board(name="floor", title="Sales floor"),
        Board(name="wall", title="Wall", panels=("campaigns", "alerts")),
    )
    async with serve(tv_floor(), boards=boards) as served:
        for path in ("/boards/floor?agents=off", "/boards/wall"):
            async with chromium() as page:
                await page.goto(served.url + path)
                await page.wait_for_selector("article.card")
                assert await page.locator("#agents-panel").is_hidden(), path
                assert await page.locator("#agents .agent").count() == 0
                height = await page.evaluate(
                    "document.getElementById('campaigns').getBoundingClientRect().bottom"
                )
                assert height > 0.8 * FULL_HD["height"], "the cards fill what agents left"
                assert await _layout_faults(page) == []


async def test_a_new_deployment_reloads_the_page() -> None:
    async with serve(tv_floor(), heartbeat_seconds=0.3) as served, chromium() as page:
        await _open(page, served.url + "/boards/floor")
        first = served.app[DOCUMENTS].deployment
        await _until(page, f"document.body.dataset.version === {first!r}", "first heartbeat")
        await page.evaluate("window.__before_deploy = true")
        beats = served.app[DOCUMENTS].heartbeats
        await eventually(
            lambda: served.app[DOCUMENTS].heartbeats >= beats + 3, within=5, what="3 heartbeats"
        )
        assert await page.evaluate("window.__before_deploy === true"), "same version: no reload"

        served.deploy("9.9.9+test")
        await _until(page, "document.body.dataset.version === '9.9.9+test'", "reloaded")
        assert await page.evaluate("window.__before_deploy === undefined"), "a fresh page"
        await page.wait_for_selector("article.card")


async def test_rotation_moves_between_boards_with_the_same_options() -> None:
    async with serve(tv_floor()) as served, chromium() as page:
        options = "?rotate=floor,nowhere,team2&every=2s&theme=light"
        await page.goto(served.url + "/boards/floor" + options)
        await page.wait_for_selector("article.card")
        note = await page.locator("#setup-note").inner_text()
        assert "nowhere" in note, "a name that is no board is said, not navigated to"
        await page.wait_for_url(served.url + "/boards/team2" + options, timeout=10_000)
        await page.wait_for_selector('article.card[data-campaign="SALES2"]')
        assert await page.locator("article.card").count() == 2, "team2: SALES2 and its group"
        assert await page.evaluate("document.documentElement.classList.contains('light')")
        await page.wait_for_url(served.url + "/boards/floor" + options, timeout=10_000)


async def test_the_page_requests_nothing_outside_the_daemon() -> None:
    async with serve(tv_floor()) as served, chromium() as page:
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        problems = watch(page)
        await _open(page, served.url + "/boards/floor?theme=light")
        assert requested
        assert all(url.startswith(served.url) for url in requested), requested
        assert problems == [], "no CSP violation, no script error"
