"""``/api/snapshot`` and the SSE ``snapshot`` event with every drop window, the forecast and
drop-rate groups, over real HTTP from hand-built snapshots (no poller in the way)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp

from tests.support.daemon import FakeClock
from tests.support.serving import serving
from tests.web.floor import (
    COMPLIANCE_NOW,
    EventStream,
    FakeStore,
    compliance_snapshot,
)
from wallboard.alerts.types import AlertView, Figures, Incident, Kind, Level
from wallboard.snapshot import Snapshot, SourceStatus
from wallboard.snapshot_json import api_document
from wallboard.web.app import build_web_app
from wallboard.web.keys import Board, WebContext
from wallboard.windows import Thresholds
from wallboard.windows.names import LABELS

BOARDS = (
    Board(name="all", title="All"),
    Board(name="south", title="South", campaigns=("SALES2",)),
    Board(name="west", title="West", campaigns=("SALES3",)),
)
WINDOW_KEYS = {
    "label",
    "formula",
    "calls",
    "answered",
    "dropped",
    "ratio",
    "drops_remaining",
    "severity",
    "alert_state",
    "days",
    "since",
    "span_seconds",
}


def group_incident() -> Incident:
    return Incident(
        key="drop:group:EAST:today:2026-11-25",
        kind=Kind.DROP,
        campaign="group:EAST",
        window="today",
        severity=Level.WARNING,
        opened_at=COMPLIANCE_NOW,
        updated_at=COMPLIANCE_NOW,
        summary="group:EAST today drop rate 2.60 %",
        figures=Figures(0.026, 1800, 32, 22, 0.025, 0.03),
    )


@asynccontextmanager
async def serving_floor(snapshot: Snapshot, **context: Any) -> AsyncIterator[str]:
    app = build_web_app(
        WebContext(
            store=FakeStore(snapshot),
            limit=0.03,
            clock=FakeClock(COMPLIANCE_NOW),
            boards=BOARDS,
            **context,
        )
    )
    async with serving(app) as url:
        yield url


async def get_document(url: str, board: str | None = None) -> dict[str, Any]:
    query = "" if board is None else f"?board={board}"
    async with aiohttp.ClientSession() as http, http.get(url + "/api/snapshot" + query) as answer:
        assert answer.status == 200
        document: dict[str, Any] = await answer.json()
        return document


async def test_every_window_says_what_it_is_and_what_it_covers() -> None:
    async with serving_floor(compliance_snapshot()) as url:
        document = await get_document(url)
    sales1 = document["campaigns"][0]
    windows = sales1["windows"]
    assert list(windows) == ["today", "30d", "period", "today_ofcom", "15m", "1h"]
    for name, window in windows.items():
        assert set(window) >= WINDOW_KEYS, name
        assert window["label"] == LABELS[name].label
        assert window["formula"] == LABELS[name].formula
    figures = {k: v for k, v in windows["today"].items() if k not in ("label", "formula")}
    assert figures == {
        "calls": 2000,
        "answered": 1000,
        "dropped": 22,
        "ratio": 0.022,
        "drops_remaining": 8,
        "severity": "ok",
        "alert_state": "ok",
        "days": 1,
        "since": None,
        "span_seconds": None,
    }
    assert windows["period"]["since"] == "2026-11-10"
    assert windows["period"]["days"] == 16
    assert windows["period"]["ratio"] == 0.021
    assert windows["30d"]["days"] == 30
    assert (windows["15m"]["span_seconds"], windows["1h"]["span_seconds"]) == (900.0, 3600.0)
    assert document["campaigns"][1]["windows"]["15m"]["span_seconds"] == 240.0, "observed span"
    ofcom = windows["today_ofcom"]
    assert ofcom["dropped"] == 22, "the raw drops stay as VICIdial counts them"
    assert ofcom["adjusted_dropped"] == 21.136  # 22 x (1 - 40/1018), DECIMAL(12,3)
    assert ofcom["ratio"] == round(21.13556 / (978 + 21.13556), 6)
    assert ofcom["drops_remaining"] == 9
    assert "adjusted_dropped" not in windows["today"]
    # the legacy flat keys are still there, from today and the 30 days
    assert (sales1["drop_ratio"], sales1["drops_remaining"]) == (0.022, 8)
    assert (sales1["drop_ratio_30d"], sales1["drops_remaining_30d"]) == (0.019, 220)
    assert document["dialer"]["timezone"] == "America/New_York"
    assert document["dialer"]["utc_offset_hours"] == -5.0


async def test_the_forecast_is_in_dialer_time_with_a_sentence() -> None:
    async with serving_floor(compliance_snapshot()) as url:
        document = await get_document(url)
    sales1, sales2, _ = document["campaigns"]
    forecast = sales1["forecast"]
    assert forecast["horizon"] == "2026-11-26T02:00:00Z"
    assert forecast["horizon_local"] == "21:00"
    assert forecast["answered_per_hour"] == 150.0
    assert forecast["drops_per_hour"] == 6.0
    assert forecast["basis_minutes"] == 60.0
    # 0.03 x (1000 + 150 h) = 22 + 6 h at h = 16/3: 5 h 20 min after 15:04:05 UTC
    assert forecast["crossings"]["limit"] == {
        "ratio": 0.03,
        "at": "2026-11-25T20:24:05Z",
        "at_local": "15:24",
        "already": False,
    }
    assert forecast["crossings"]["warn"]["at_local"] == "11:24"  # 3 x 3600 / 2.25 s later
    assert forecast["summary"] == "at this pace passes 3 % around 15:24"
    hours = (10 * 3600 + 55 * 60 + 55) / 3600  # 15:04:05 to 02:00 UTC
    assert forecast["ratio_at_horizon"] == round((22 + 6 * hours) / (1000 + 150 * hours), 6)
    assert sales2["forecast"] is None, "too little pace: no forecast, not a guess"


async def test_groups_are_shown_on_boards_listing_any_member() -> None:
    view = AlertView(
        incidents=(group_incident(),), window_states=(("group:EAST", "today", Level.WARNING),)
    )
    snapshot = compliance_snapshot()
    async with serving_floor(snapshot, alert_view=lambda: view) as url:
        everything = await get_document(url)
        south = await get_document(url, "south")
        west = await get_document(url, "west")
    (group,) = everything["drop_groups"]
    assert group["id"] == "group:EAST"
    assert group["name"] == "EAST"
    assert group["is_group"] is True
    assert group["members"] == ["SALES1", "SALES2"]
    assert (group["calls_today"], group["answered_today"], group["dropped_today"]) == (
        3600,
        1800,
        32,
    )
    assert group["drop_ratio"] == round(32 / 1800, 6)
    assert group["drops_remaining"] == 22  # floor(0.03 x 1800) - 32
    assert list(group["windows"]) == ["today", "30d", "1h"]
    assert group["windows"]["today"]["alert_state"] == "warning", "the engine's state"
    assert group["forecast"]["summary"] == "at this pace stays under 3 % until 21:00"
    assert not {"agents", "hopper_leads", "dial_level"} & set(group), "not a group's to show"
    assert all(c["is_group"] is False for c in everything["campaigns"])

    assert [g["id"] for g in south["drop_groups"]] == ["group:EAST"], "SALES2 is a member"
    assert [a["campaign"] for a in south["alerts"]] == ["group:EAST"]
    assert west["drop_groups"] == [], "SALES3 is no member"
    assert west["alerts"] == []


async def test_groups_are_graded_by_their_own_thresholds() -> None:
    def thresholds_for(target: str) -> Thresholds:
        if target == "group:EAST":
            return Thresholds(limit=0.02, warn_at=0.015, critical_at=0.018)
        return Thresholds()

    async with serving_floor(compliance_snapshot(), thresholds_for=thresholds_for) as url:
        document = await get_document(url)
    (group,) = document["drop_groups"]
    assert group["drops_remaining"] == 4  # floor(0.02 x 1800) - 32
    assert group["windows"]["today"]["severity"] == "warning"  # 1.78 % >= 1.5 %
    assert document["campaigns"][0]["windows"]["today"]["drops_remaining"] == 8


async def test_unknown_counts_show_no_windows_and_no_forecast() -> None:
    never = replace(
        compliance_snapshot(),
        sources=(SourceStatus("call_status_stats", 60.0, last_error="HTTP 500"),),
    )
    async with serving_floor(never) as url:
        document = await get_document(url)
    for target in (*document["campaigns"], *document["drop_groups"]):
        assert target["windows"] is None
        assert target["forecast"] is None
        assert target["drop_ratio"] is None
        assert target["calls_today"] is None


async def test_the_snapshot_event_carries_the_same_windows_and_groups() -> None:
    snapshot = compliance_snapshot()
    async with (
        serving_floor(snapshot) as url,
        aiohttp.ClientSession() as http,
        http.get(url + "/api/events?board=south") as response,
    ):
        event = await EventStream(response).next()
    assert event.name == "snapshot"
    expected = api_document(snapshot, COMPLIANCE_NOW, limit=0.03, campaigns=["SALES2"])
    got = json.loads(event.data)
    assert got == json.loads(json.dumps(expected))
    assert got["drop_groups"][0]["forecast"]["summary"] == (
        "at this pace stays under 3 % until 21:00"
    )
    assert got["campaigns"][0]["windows"]["period"]["since"] == "2026-11-20"
