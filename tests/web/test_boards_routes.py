"""Boards over real HTTP: the index, one page per ``[[boards]]`` table, the unknown-board 404,
the page's ``data-*`` contract with its script, its static files and the icon; and the
``[[boards]]`` keys (``ingroups``, ``panels``) as the configuration validates them."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.serving import serving
from tests.web.floor import FakeStore, floor_snapshot
from wallboard.config import ConfigError, load_config, load_default_config
from wallboard.web.boards import boards_from_config
from wallboard.web.keys import Board, WebContext
from wallboard.web.panels import PANELS
from wallboard.web.render import deployment_version

NOW = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
BOARDS = (
    Board("north", "North floor", ("SALES1",), panels=("campaigns", "alerts")),
    Board("south", "South <b>& co</b> {{BOARD}}", ("SALES2", "SALES3"), ingroups=()),
)


# --- the configuration -----------------------------------------------------------------------


def _boards(*tables: dict[str, Any], ingroups: list[str] | None = None) -> Any:
    overrides: dict[str, Any] = {"boards": list(tables)}
    if ingroups is not None:
        overrides["vicidial"] = {"ingroups": ingroups}
    return load_default_config(overrides).boards


def _errors(*tables: dict[str, Any], ingroups: list[str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _boards(*tables, ingroups=ingroups)
    return caught.value.errors


def test_board_defaults_show_every_panel_and_every_polled_ingroup() -> None:
    (board,) = _boards({"name": "floor"})
    assert (board.ingroups, board.panels) == ("all", PANELS)
    assert boards_from_config([board]) == (Board("floor", "floor", None, None, PANELS),)


def test_board_ingroups_and_panels_as_written() -> None:
    north, south = _boards(
        {"name": "north", "campaigns": ["SALES1"], "ingroups": ["SUPPORT"], "panels": ["agents"]},
        {"name": "south", "ingroups": [], "panels": "alerts, campaigns"},
        ingroups=["SALESLINE", "SUPPORT"],
    )
    assert (north.ingroups, north.panels) == (("SUPPORT",), ("agents",))
    assert (south.ingroups, south.panels) == ((), ("alerts", "campaigns"))
    assert boards_from_config([north, south]) == (
        Board("north", "north", ("SALES1",), ("SUPPORT",), ("agents",)),
        Board("south", "south", None, (), ("alerts", "campaigns")),
    )


def test_board_panels_must_be_known_named_once_and_some() -> None:
    errors = _errors(
        {"name": "a", "panels": ["agents", "clock"]},
        {"name": "b", "panels": ["agents", "agents"]},
        {"name": "c", "panels": []},
    )
    assert errors == [
        "boards.0.panels: unknown panel 'clock'; the panels are campaigns, agents, alerts, inbound",
        "boards.1.panels: names a panel twice",
        "boards.2.panels: must name at least one panel of campaigns, agents, alerts, inbound",
    ]


def test_board_ingroups_must_be_polled(tmp_path: Path) -> None:
    errors = _errors(
        {"name": "a", "ingroups": ["SUPPORT", "NIGHTLINE"]},
        {"name": "b", "ingroups": ["bad id!"]},
        ingroups=["SUPPORT"],
    )
    assert len(errors) == 2
    assert "boards.0.ingroups: NIGHTLINE not in vicidial.ingroups, so never polled" in errors
    assert any(e.startswith("boards.1.ingroups: in-group ID 'bad id!' must be") for e in errors)

    # the same from a file and the environment (a whole [[boards]] array as JSON)
    path = tmp_path / "wallboard.toml"
    path.write_text(
        '[vicidial]\nurl = "http://127.0.0.1"\nuser = "api"\npass = "secret-pass"\n'
        'ingroups = ["SUPPORT"]\n'
    )
    environ = {"WALLBOARD_BOARDS": '[{"name": "x", "ingroups": ["SUPPORT"], "panels": ["agents"]}]'}
    (board,) = load_config(path, environ=environ).boards
    assert (board.ingroups, board.panels) == (("SUPPORT",), ("agents",))


# --- the routes ------------------------------------------------------------------------------


@dataclass
class Site:
    url: str
    http: aiohttp.ClientSession

    async def get(self, path: str, **kwargs: Any) -> tuple[aiohttp.ClientResponse, bytes]:
        async with self.http.get(self.url + path, allow_redirects=False, **kwargs) as response:
            return response, await response.read()


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    from wallboard.web.app import build_web_app

    context = WebContext(
        store=FakeStore(floor_snapshot(NOW)), limit=0.03, boards=BOARDS, heartbeat_seconds=7.5
    )
    async with serving(build_web_app(context)) as url, aiohttp.ClientSession() as http:
        yield Site(url, http)


class _Page(HTMLParser):
    """What a test needs from a page: body attributes, scripts, styles, links, text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.stylesheets: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.inline_styles = 0
        self.style_attributes = 0
        self.text: list[str] = []
        self._href: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "style" in attributes:
            self.style_attributes += 1
        if tag == "body":
            self.body = {key: value or "" for key, value in attributes.items()}
        elif tag == "script":
            self.scripts.append(attributes)
        elif tag == "style":
            self.inline_styles += 1
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"] or "")
        elif tag == "a":
            self._href = attributes.get("href")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._href is not None:
            self.links.append((self._href, data))
            self._href = None


def _static_version(name: str) -> str:
    body = files("wallboard.web").joinpath("static", name).read_bytes()
    return hashlib.sha256(body).hexdigest()[:16]


async def test_index_lists_every_board_with_its_title(site: Site) -> None:
    response, body = await site.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = _Page(body.decode())
    assert page.links == [("/boards/north", "North floor"), ("/boards/south", BOARDS[1].title)]
    assert b"<b>&" not in body, "titles are escaped"
    assert page.stylesheets == [f"/static/pages.css?v={_static_version('pages.css')}"]
    assert (page.inline_styles, page.style_attributes, page.scripts) == (0, 0, [])


async def test_one_board_opens_directly_with_its_options() -> None:
    from wallboard.web.app import build_web_app

    context = WebContext(store=FakeStore(), limit=0.03, boards=(Board("floor", "Floor"),))
    async with (
        serving(build_web_app(context)) as url,
        aiohttp.ClientSession() as http,
        http.get(url + "/?theme=light&agents=off", allow_redirects=False) as response,
    ):
        assert response.status == 302
        assert response.headers["Location"] == "/boards/floor?theme=light&agents=off"


async def test_board_page_carries_what_its_script_needs(site: Site) -> None:
    query = "?rotate=south,nope,north,south,,%3Cx%3E&every=30s&theme=light&agents=off"
    response, body = await site.get("/boards/south" + query)
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-cache", "a new deployment means a new page"
    text = body.decode()
    page = _Page(text)
    assert page.body == {
        "data-board": "south",
        "data-title": BOARDS[1].title,  # unescaped by the parser: it was escaped in the HTML
        "data-heartbeat": "7.5",
        "data-panels": " ".join(PANELS),
        "data-boards": "north south",
        "data-catalog": page.body["data-catalog"],
        "data-rotate": "south north",
        "data-rotate-unknown": "nope <x>",
        "data-theme": "light",
        "data-version": deployment_version(),  # what the heartbeats say while nothing changed
    }
    assert json.loads(page.body["data-catalog"]) == [
        {"name": "north", "title": "North floor", "panels": ["campaigns", "alerts"]},
        {"name": "south", "title": BOARDS[1].title, "panels": list(PANELS)},
    ]
    # every placeholder filled; the title's own braces stay text (<title>, <h1>, data-title
    # and data-catalog)
    assert re.findall(r"\{\{[A-Z_]+\}\}", text) == ["{{BOARD}}"] * 4
    assert "<b>&" not in text, "everything put into HTML is escaped"
    assert "&lt;x&gt;" in text
    # no inline code: the CSP allows only the daemon's own files
    assert (page.inline_styles, page.style_attributes) == (0, 0)
    assert page.scripts == [{"src": f"/static/board.js?v={_static_version('board.js')}"}]
    assert page.stylesheets == [f"/static/board.css?v={_static_version('board.css')}"]
    assert "http://" not in text, "self-contained"
    assert "https://" not in text

    _, plain = await site.get("/boards/north?theme=sepia")
    attributes = _Page(plain.decode()).body
    assert attributes["data-panels"] == "campaigns alerts"
    assert attributes["data-theme"] == "dark", "an unknown theme means the default"
    assert (attributes["data-rotate"], attributes["data-rotate-unknown"]) == ("", "")


async def test_unknown_board_is_a_404_page_listing_the_boards(site: Site) -> None:
    response, body = await site.get("/boards/%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert response.status == 404
    assert response.content_type == "text/html"
    text = body.decode()
    page = _Page(text)
    assert "<img" not in text, "the wrong name is shown as text"
    assert "There is no board named <img src=x onerror=alert(1)>." in "".join(page.text)
    assert page.links == [("/boards/north", "North floor"), ("/boards/south", BOARDS[1].title)]
    assert (page.inline_styles, page.style_attributes, page.scripts) == (0, 0, [])
    assert "http://" not in text
    assert "https://" not in text


async def test_static_files_are_cached_by_content_and_revalidated_otherwise(site: Site) -> None:
    version = _static_version("board.js")
    response, body = await site.get(f"/static/board.js?v={version}")
    assert response.status == 200
    assert response.content_type == "text/javascript"
    assert body == files("wallboard.web").joinpath("static", "board.js").read_bytes()
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{version}"'

    # an old page's URL (or none): the browser must ask again, and an unchanged file is a 304
    response, _ = await site.get("/static/board.js?v=0123456789abcdef")
    assert response.headers["Cache-Control"] == "no-cache"
    response, body = await site.get("/static/board.js", headers={"If-None-Match": f'"{version}"'})
    assert (response.status, body) == (304, b"")
    response, _ = await site.get("/static/board.js", headers={"If-None-Match": '"stale"'})
    assert response.status == 200

    response, _ = await site.get(f"/static/board.css?v={_static_version('board.css')}")
    assert (response.status, response.content_type) == (200, "text/css")
    for path in ("/static/board.html", "/static/nope.js", "/static/..%2Fapp.py", "/static/"):
        response, _ = await site.get(path)
        assert response.status == 404, path


async def test_favicon_is_a_32_pixel_icon(site: Site) -> None:
    response, body = await site.get("/favicon.ico")
    assert response.status == 200
    assert response.content_type == "image/x-icon"
    reserved, kind, count = struct.unpack_from("<HHH", body)
    assert (reserved, kind, count) == (0, 1, 1)
    width, height, _, _, planes, bits, size, offset = struct.unpack_from("<BBBBHHII", body, 6)
    assert (width, height, planes, bits) == (32, 32, 1, 32)
    assert offset + size == len(body)
    header_size, bmp_width, bmp_height = struct.unpack_from("<Iii", body, offset)
    assert (header_size, bmp_width, bmp_height) == (40, 32, 64)
    pixels = body[offset + 40 : offset + 40 + 32 * 32 * 4]
    assert len({pixels[i : i + 4] for i in range(0, len(pixels), 4)}) >= 4, "a picture, not a fill"
