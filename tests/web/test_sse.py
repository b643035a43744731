"""The SSE hub over real HTTP: one render per change, the same bytes for every TV, heartbeats
on time with the server's (injected) clock."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.support.daemon import FakeClock
from tests.support.serving import serving
from tests.support.waiting import eventually
from tests.web.floor import Event, EventStream, FakeStore, floor_snapshot
from wallboard.snapshot_json import api_document, iso
from wallboard.web.app import DOCUMENTS, build_web_app
from wallboard.web.keys import HUB, Board, WebContext
from wallboard.web.render import BoardDocuments
from wallboard.web.sse import (
    HEARTBEAT_ENV,
    HEARTBEAT_SECONDS,
    StreamHub,
    heartbeat_seconds_from_environment,
)

NOW = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
BOARDS = (
    Board(name="north", title="North", campaigns=("SALES1",)),
    Board(name="south", title="South", campaigns=("SALES2", "SALES3")),
)


class Floor:
    """A web app on a real port over a fake store, and the handles a test steers it by."""

    def __init__(
        self, url: str, store: FakeStore, clock: FakeClock, app: web.Application, agents: int
    ) -> None:
        self.url = url
        self.store = store
        self.clock = clock
        self.app = app
        self.agents = agents

    @property
    def hub(self) -> StreamHub:
        return self.app[HUB]

    @property
    def documents(self) -> BoardDocuments:
        return self.app[DOCUMENTS]

    def change(self, answered: int) -> None:
        """New content in the store, announced the way the daemon does (store → hub)."""
        self.store.snapshot = floor_snapshot(
            self.clock(), answered=answered, agents_per_campaign=self.agents
        )
        self.hub.notify()


@asynccontextmanager
async def running_floor(
    *, heartbeat_seconds: float = 15.0, send_timeout: float | None = None, agents: int = 4
) -> AsyncIterator[Floor]:
    clock = FakeClock(NOW)
    store = FakeStore(floor_snapshot(NOW, agents_per_campaign=agents))
    context = WebContext(
        store=store, limit=0.03, boards=BOARDS, clock=clock, heartbeat_seconds=heartbeat_seconds
    )
    app = build_web_app(context)
    if send_timeout is not None:
        app[HUB] = StreamHub(
            app[DOCUMENTS], heartbeat_seconds=heartbeat_seconds, send_timeout=send_timeout
        )
    async with serving(app) as url:
        yield Floor(url, store, clock, app, agents)


@asynccontextmanager
async def streams(url: str, count: int) -> AsyncIterator[list[EventStream]]:
    """``count`` independent SSE clients (one connection each, like TVs)."""
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(count):
            session = await stack.enter_async_context(aiohttp.ClientSession())
            response = await stack.enter_async_context(session.get(url))
            assert response.headers["Content-Type"] == "text/event-stream"
            clients.append(EventStream(response))
        yield clients


async def events(clients: list[EventStream]) -> list[Event]:
    return await asyncio.wait_for(asyncio.gather(*(client.next() for client in clients)), 5)


async def test_every_client_gets_the_same_bytes_rendered_once_per_change() -> None:
    async with (
        running_floor() as floor,
        streams(floor.url + "/api/events?board=north", 24) as north,
        streams(floor.url + "/api/events?board=south", 12) as south,
    ):
        # at connect: the board's snapshot, then the current heartbeat
        for group in (north, south):
            firsts = await events(group)
            assert {e.name for e in firsts} == {"snapshot"}
            assert len({e.frame for e in firsts}) == 1, "byte-identical for every client"
            beats = await events(group)
            assert {e.name for e in beats} == {"heartbeat"}
        assert floor.documents.renders == 2, "one render per board, not per client"

        for round_, answered in enumerate((500, 600, 700), start=1):
            floor.change(answered)
            got_north, got_south = await events(north), await events(south)
            for got, campaigns in ((got_north, ["SALES1"]), (got_south, ["SALES2", "SALES3"])):
                assert {e.name for e in got} == {"snapshot"}
                assert len({e.frame for e in got}) == 1, "byte-identical for every client"
                document = json.loads(got[0].data)
                assert [c["id"] for c in document["campaigns"]] == campaigns
                assert {c["answered_today"] for c in document["campaigns"]} == {answered}
            assert floor.documents.renders == 2 + 2 * round_, "one render per board per change"
        assert len(floor.hub) == 36


async def test_the_snapshot_event_is_the_api_document() -> None:
    async with running_floor() as floor, streams(floor.url + "/api/events", 1) as (stream,):
        event = await stream.next()
        snapshot = floor.store.latest()
        assert snapshot is not None
        expected = api_document(snapshot, NOW, limit=0.03)
        assert json.loads(event.data) == json.loads(json.dumps(expected))


async def test_a_client_behind_skips_to_the_newest_version() -> None:
    """One latest-value slot per client: changes made while a TV is busy are not queued."""
    async with running_floor() as floor, streams(floor.url + "/api/events", 3) as clients:
        await events(clients)  # snapshot
        await events(clients)  # heartbeat
        renders = floor.documents.renders
        for answered in range(501, 506):  # five changes before any stream task runs
            floor.change(answered)
        newest = await events(clients)
        assert {e.name for e in newest} == {"snapshot"}
        assert {json.loads(e.data)["campaigns"][0]["answered_today"] for e in newest} == {505}
        assert floor.documents.renders == renders + 1, "intermediate versions never rendered"
        floor.hub.notify_freshness()
        after = await events(clients)
        assert {e.name for e in after} == {"heartbeat"}, "no queued snapshot behind it"


async def test_heartbeats_keep_time_and_carry_the_servers_clock() -> None:
    period = 0.25
    async with (
        running_floor(heartbeat_seconds=period) as floor,
        streams(floor.url + "/api/events", 4) as clients,
    ):
        assert (await events(clients))[0].name == "snapshot"
        first = await events(clients)
        assert json.loads(first[0].data)["now"] == iso(NOW)
        arrivals = []
        for tick in range(1, 7):
            floor.clock.advance(100)  # the server's clock, not the test's, dates each beat
            beats = await events(clients)
            arrivals.append(time.monotonic())
            assert {e.name for e in beats} == {"heartbeat"}, "nothing changed: no snapshot"
            assert len({e.frame for e in beats}) == 1, "one render for every client"
            beat = json.loads(beats[0].data)
            assert beat["now"] == iso(floor.clock())
            # the sources were polled 2 s before NOW; a beat is rendered after the advance
            assert beat["age_seconds"] == pytest.approx(2.0 + 100 * tick)
            assert beat["sources"]["logged_in_agents"]["last_success"] is not None
            assert beat["stale"] is (2.0 + 100 * tick > 3 * 30)
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert all(period * 0.4 < gap < period * 3 for gap in gaps), gaps
        assert sum(gaps) / len(gaps) == pytest.approx(period, rel=0.5)
        heartbeats = floor.documents.heartbeats
        assert heartbeats <= 1 + 1 + 7, "rendered once per tick, not per client"


async def test_a_freshness_change_is_sent_at_once() -> None:
    async with (
        running_floor(heartbeat_seconds=15) as floor,
        streams(floor.url + "/api/events", 5) as clients,
    ):
        await events(clients)
        await events(clients)
        floor.clock.advance(200)  # past 3 x 30 s: agents are stale now
        started = time.monotonic()
        floor.hub.notify_freshness()
        beats = await events(clients)
        assert time.monotonic() - started < 2, "not at the next 15 s tick"
        beat = json.loads(beats[0].data)
        assert beat["stale"] is True
        assert "logged_in_agents" in beat["stale_sources"]
        assert "version" not in beat["stale_sources"], "version is no floor source"


async def test_api_snapshot_reuses_the_render_but_ages_at_request_time() -> None:
    async with running_floor() as floor, aiohttp.ClientSession() as http:

        async def get(path: str) -> Any:
            async with http.get(floor.url + path) as response:
                assert response.status == 200
                assert response.content_type == "application/json"
                return await response.json()

        first = await get("/api/snapshot?board=south")
        assert first["age_seconds"] == 2.0
        renders = floor.documents.renders
        floor.clock.advance(10)
        second = await get("/api/snapshot?board=south")
        assert second["age_seconds"] == 12.0
        assert second["generated_at"] == iso(NOW.replace(second=15))
        assert floor.documents.renders == renders, "content reused"
        snapshot = floor.store.latest()
        assert snapshot is not None
        expected = api_document(snapshot, floor.clock(), limit=0.03, campaigns=["SALES2", "SALES3"])
        assert second == json.loads(json.dumps(expected)), "same JSON as api_document"
        floor.change(900)
        third = await get("/api/snapshot?board=south")
        assert {c["answered_today"] for c in third["campaigns"]} == {900}


async def test_no_data_yet_and_unknown_boards() -> None:
    async with running_floor() as floor, aiohttp.ClientSession() as http:
        for path in ("/api/snapshot?board=nope", "/api/events?board=nope"):
            async with http.get(floor.url + path) as response:
                assert response.status == 404, path
                assert "nope" in (await response.json())["error"]
        floor.store.snapshot = None
        floor.hub.notify()
        async with http.get(floor.url + "/api/snapshot") as response:
            assert response.status == 503
        async with http.get(floor.url + "/api/events") as response:
            stream = EventStream(response)
            beat = await asyncio.wait_for(stream.next(), 5)
            assert beat.name == "heartbeat", "no snapshot before there is one"
            assert json.loads(beat.data)["stale"] is True
            floor.change(400)
            assert (await asyncio.wait_for(stream.next(), 5)).name == "snapshot"


async def test_the_board_page_knows_the_heartbeat_period() -> None:
    async with running_floor(heartbeat_seconds=2.5) as floor, aiohttp.ClientSession() as http:
        async with http.get(floor.url + "/boards/north") as response:
            page = await response.text()
        assert 'data-heartbeat="2.5"' in page
        assert 'data-board="north"' in page


async def test_a_stalled_tv_never_holds_up_the_others() -> None:
    """A TV that stops reading fills its socket, then is dropped; the others never wait."""
    async with (
        running_floor(send_timeout=1.0, agents=2000) as floor,
        streams(floor.url + "/api/events", 3) as tvs,
    ):
        host, port = floor.url.removeprefix("http://").split(":")
        _, stalled = await asyncio.open_connection(host, int(port))
        stalled.write(b"GET /api/events HTTP/1.1\r\nHost: tv\r\n\r\n")  # and never reads
        await eventually(lambda: len(floor.hub) == 4, within=5, what="the stalled TV connected")
        await events(tvs)
        await events(tvs)
        size = 0
        for answered in range(501, 521):  # 1.3 MB a change: far more than socket buffers hold
            floor.change(answered)
            got = await events(tvs)
            assert {e.name for e in got} == {"snapshot"}, "each change reaches the others"
            size += len(got[0].frame)
        assert size > 20_000_000
        await eventually(lambda: len(floor.hub) == 3, within=10, what="the stalled TV dropped")
        stalled.close()


def test_the_heartbeat_period_comes_from_a_hidden_test_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(HEARTBEAT_ENV, raising=False)
    assert heartbeat_seconds_from_environment() == HEARTBEAT_SECONDS == 10
    for text, expected in (("0.5", 0.5), ("15", 15.0), ("16", 10.0), ("0", 10.0), ("x", 10.0)):
        monkeypatch.setenv(HEARTBEAT_ENV, text)
        assert heartbeat_seconds_from_environment() == expected, text
