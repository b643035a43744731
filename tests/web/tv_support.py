"""What the TV page tests share: a busy floor built by hand, the real web app serving it on
port 0, and real Chromium looking at it.

The floor is built as a :class:`~wallboard.snapshot.Snapshot` (no poller in the way), so each
test chooses exactly what the screen must show: long and hostile agent names, every state at
every age VICIdial colours differently, an empty and a nearly empty hopper, a trend for the
sparkline, 8 campaigns and 150 agents for the small-screen test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.daemon import FakeClock
from tests.support.serving import serving
from tests.support.system import require_binary
from tests.support.waiting import eventually
from tests.web.floor import COMPLIANCE_NOW, DIALER, SHIFT_END, SOURCES
from wallboard.alerts.types import AlertView
from wallboard.snapshot import (
    AgentCounts,
    AgentView,
    CampaignView,
    DropWindow,
    ExtraWindow,
    Snapshot,
    SourceStatus,
)
from wallboard.web.app import DOCUMENTS, build_web_app
from wallboard.web.keys import HUB, Board, WebContext
from wallboard.windows import Thresholds
from wallboard.windows.forecast import forecast
from wallboard.windows.trend import TrendPoint

#: 10:04:05 on the dialer's clock (New York), a weekday morning.
NOW = COMPLIANCE_NOW
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FULL_HD = {"width": 1920, "height": 1080}
SMALL = {"width": 1280, "height": 720}
UHD = {"width": 3840, "height": 2160}

#: The agent whose name is markup: it must show as these characters, never run.
XSS_NAME = "<img src=x onerror=alert(1)>"
LONG_NAME = "José Núñez-García de la Fuente"
NAMES = (
    LONG_NAME,
    "Ana Lima",
    "Bob Okafor",
    XSS_NAME,
    "Chen Wei",
    "Maximiliana Fernández-Castellanos",
    "Dmitri Ivanov",
    "Eve O'Brien",
    "Fatima Zahra",
    "Grace Hopper",
    "Hiro Tanaka",
    "Ines Moreau",
)
#: (state, seconds in it, pause code): every colour of VICIdial's real-time report, and ours.
STATES: tuple[tuple[str, int, str], ...] = (
    ("waiting", 20, ""),
    ("incall", 5, ""),
    ("incall", 30, ""),
    ("paused", 75, "LUNCH"),
    ("waiting", 90, ""),
    ("incall", 150, ""),
    ("paused", 4, "BRK"),
    ("waiting", 420, ""),
    ("incall", 700, ""),
    ("paused", 20, "TRAIN"),
    ("paused", 900, "MEET"),
    ("dispo", 12, ""),
    ("dead", 40, ""),
    ("dial", 3, ""),
)
#: Today's (answered, dropped) per campaign: ok, warning, critical, then ordinary figures.
COUNTS = ((1000, 12), (900, 23), (1000, 29), (400, 5), (1500, 20), (700, 9), (820, 11), (60, 1))
HOPPERS = (350, 0, 12, 140, 500, 90, 210, 75)


def agent_views(now: datetime, campaigns: Sequence[str], count: int) -> tuple[AgentView, ...]:
    """``count`` agents spread over ``campaigns``, cycling through :data:`STATES`; every
    fifth one was first seen already in its state (a lower bound)."""
    agents = []
    for n in range(count):
        state, seconds, code = STATES[n % len(STATES)]
        name = NAMES[n % len(NAMES)] if n < len(NAMES) else f"{NAMES[n % len(NAMES)]} {n}"
        agents.append(
            AgentView(
                user=f"{1000 + n}",
                name=name,
                campaign=campaigns[n % len(campaigns)],
                state=state,
                status="PAUSED" if state == "paused" else state.upper(),
                sub_status=code,
                pause_code=code,
                calls_today=n % 23,
                # the first round exact (clear of every colour step), then a little spread
                state_since=now - timedelta(seconds=seconds + (n // len(STATES)) % 3),
                state_since_exact=n % 5 != 4,
            )
        )
    return tuple(agents)


def trend_points(answered: int, dropped: int, now_second: int) -> tuple[TrendPoint, ...]:
    """Today's counters every 5 minutes from 08:00 dialer time, rising to today's figures."""
    start = 8 * 3600
    steps = max(1, (now_second - start) // 300)
    points = []
    for k in range(steps + 1):
        share = k / steps
        wobble = 1.0 + 0.25 * ((k * 7) % 5 - 2) / 2 * (1 - share)
        points.append(
            TrendPoint(
                start + k * 300,
                max(1, round(answered * share)),
                min(round(answered * share), max(0, round(dropped * share * wobble))),
            )
        )
    return tuple(points)


def tv_floor(
    now: datetime = NOW,
    *,
    campaigns: int = 3,
    agents: int = 36,
    with_group: bool = True,
    trend: bool = True,
) -> Snapshot:
    """A floor as a busy morning shows it: SALES1 fine, SALES2 at a warning with an empty
    hopper, SALES3 critical and nearly out of leads; every window, a forecast and a trend."""
    ids = tuple(f"SALES{n + 1}" for n in range(campaigns))
    people = agent_views(now, ids, agents)
    local = now + timedelta(hours=DIALER.utc_offset_hours or 0.0)  # the dialer's wall clock
    now_second = local.hour * 3600 + local.minute * 60 + local.second
    thresholds = Thresholds()
    views = []
    for n, campaign in enumerate(ids):
        answered, dropped = COUNTS[n % len(COUNTS)]
        today = DropWindow(calls=answered * 2 + 37, answered=answered, dropped=dropped)
        hour = DropWindow(calls=300, answered=150, dropped=max(1, dropped // 4))
        counts = AgentCounts(
            **{
                state: sum(1 for a in people if a.campaign == campaign and a.state == state)
                for state in ("waiting", "incall", "paused", "dispo", "dead", "dial")
            }
        )
        views.append(
            CampaignView(
                id=campaign,
                name=f"Outbound {campaign.title()}",
                active=True,
                dial_method="RATIO",
                dial_level=2.5 + n * 0.25,
                hopper_leads=HOPPERS[n % len(HOPPERS)],
                today=today,
                last_30d=DropWindow(calls=50000, answered=20000, dropped=380 + 10 * n, days=30),
                agents=counts,
                calls_waiting=n % 3,
                extra_windows=(
                    ExtraWindow(
                        "period",
                        DropWindow(calls=25000, answered=10000, dropped=210 + 5 * n, days=16),
                        since=date(2026, 11, 10),
                    ),
                    ExtraWindow("1h", hour, span_seconds=3600.0),
                ),
                forecast=forecast(today, hour, 3600.0, now, SHIFT_END, thresholds),
                trend=trend_points(answered, dropped, now_second) if trend else (),
            )
        )
    groups: tuple[CampaignView, ...] = ()
    if with_group and campaigns >= 2:
        today = DropWindow(calls=3800, answered=1900, dropped=35)
        groups = (
            CampaignView(
                id="group:EAST",
                name="EAST",
                members=ids[:2],
                today=today,
                last_30d=DropWindow(calls=90000, answered=40000, dropped=790, days=30),
                trend=trend_points(1900, 35, now_second) if trend else (),
            ),
        )
    polled = now - timedelta(seconds=2)
    return Snapshot(
        taken_at=polled,
        local_date=now.date(),
        campaigns=tuple(views),
        groups=groups,
        agents=people,
        inbound_calls_waiting=3,
        dialer=DIALER,
        sources=tuple(
            SourceStatus(function=f, interval=i, ok=True, last_success=polled)
            for f, i in SOURCES.items()
        ),
    )


class MutableStore:
    """The one method the web layer may call on the cache, over a snapshot a test replaces."""

    def __init__(self, snapshot: Snapshot | None) -> None:
        self.snapshot = snapshot

    def latest(self) -> Snapshot | None:
        return self.snapshot


@dataclass
class Served:
    """The real web app on 127.0.0.1:<port>, with what a test may change under it."""

    url: str
    app: web.Application
    store: MutableStore
    clock: FakeClock

    def change(self, snapshot: Snapshot) -> None:
        """A new snapshot, announced the way the store's change callback does."""
        self.store.snapshot = snapshot
        self.app[HUB].notify()

    def deploy(self, version: str) -> None:
        """A new deployment as the heartbeat reports it, sent to every TV now."""
        self.app[DOCUMENTS].deployment = version
        self.app[HUB].notify_freshness()


BOARDS = (
    Board(name="floor", title="Sales floor"),
    Board(name="team2", title="Team 2", campaigns=("SALES2",)),
)


@asynccontextmanager
async def serve(
    snapshot: Snapshot,
    *,
    alert_view: Callable[[], AlertView | None] = lambda: None,
    now: datetime = NOW,
    heartbeat_seconds: float = 1.0,
    boards: Sequence[Board] = BOARDS,
) -> AsyncIterator[Served]:
    store = MutableStore(snapshot)
    clock = FakeClock(now)
    context = WebContext(
        store=store,
        limit=0.03,
        boards=boards,
        clock=clock,
        alert_view=alert_view,
        heartbeat_seconds=heartbeat_seconds,
    )
    app = build_web_app(context)
    async with serving(app) as url:
        yield Served(url, app, store, clock)


@asynccontextmanager
async def chromium(viewport: dict[str, int] = FULL_HD) -> AsyncIterator[Any]:
    """A real headless Chromium page (the TV), skipped when Chromium is not installed."""
    executable = require_binary("chromium", "/usr/bin/chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport=viewport, timezone_id="UTC", locale="en-GB")
            yield page
        finally:
            await browser.close()


def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``$WALLBOARD_SCREENSHOTS``, else the test's temporary directory."""
    directory = Path(os.environ.get("WALLBOARD_SCREENSHOTS", tmp_path))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def watch(page: Any) -> list[str]:
    """Everything that went wrong in the page: script errors, console errors (a CSP violation
    is one), and any dialog (an ``alert()`` would mean injected markup ran)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )

    async def dialog(d: Any) -> None:
        problems.append(f"dialog: {d.message}")
        await d.dismiss()

    page.on("dialog", dialog)
    return problems


async def agent_pages(page: Any, within: float = 30.0) -> list[list[dict[str, str]]]:
    """Every page of agent tiles the TV shows, in order, by watching it page by itself."""

    read = """() => ({page: Number(document.getElementById('agents').dataset.page || 0),
        pages: Number(document.getElementById('agents').dataset.pages || 0),
        tiles: [...document.querySelectorAll('#agents .agent')].map((t) => ({
            user: t.dataset.user, name: t.querySelector('.name').textContent,
            since: t.querySelector('.since').textContent}))})"""
    seen: dict[int, list[dict[str, str]]] = {}

    async def every_page_seen() -> bool:
        state = await page.evaluate(read)
        if state["page"]:
            seen[state["page"]] = state["tiles"]
        return bool(state["pages"]) and len(seen) >= state["pages"]

    await eventually(every_page_seen, within=within, what="every page of agents")
    return [seen[k] for k in sorted(seen)]


def with_trend(snapshot: Snapshot, trend: tuple[TrendPoint, ...], target: str) -> Snapshot:
    """``snapshot`` with ``target``'s trend points replaced."""
    return replace(
        snapshot,
        campaigns=tuple(
            replace(c, trend=trend) if c.id == target else c for c in snapshot.campaigns
        ),
    )
