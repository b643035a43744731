"""The HTML pages: the TV page shell, the board index, and the 404 and 401 pages.

No page holds inline script or style (the CSP forbids both): the board links its CSS and JS,
the index and 404 pages link ``pages.css``, all from the daemon's own ``/static`` by content
hash (:mod:`wallboard.web.assets`). Every value put into HTML is escaped, including in
attributes. The 401 page links nothing, since ``/static`` is behind the token it asks for.

The board's ``<body>`` carries what its script needs before any event arrives, as ``data-*``
attributes (lists are space-separated, so CSS can match them with ``~=``):

==========================  ==================================================================
``data-board``              this board's name (the ``?board=`` of ``/api/events``)
``data-title``              its title
``data-heartbeat``          the SSE heartbeat period in seconds (how long "quiet" may last)
``data-panels``             the panels it shows (:data:`~wallboard.web.panels.PANELS`)
``data-boards``             every board's name
``data-catalog``            every board as JSON ``[{"name", "title", "panels"}]``
``data-rotate``             ``?rotate=`` reduced to boards that exist, in order
``data-rotate-unknown``     the ``?rotate=`` names that match no board (to say so on screen)
``data-theme``              ``dark`` or ``light`` (``?theme=``), set before the script runs
``data-version``            the deployment the page came with (heartbeats name the current one)
==========================  ==================================================================
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files

from wallboard.web.assets import Assets
from wallboard.web.boards import Rotation
from wallboard.web.keys import Board

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


def _template(name: str) -> str:
    return files("wallboard.web").joinpath("static", name).read_text(encoding="utf-8")


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace every ``{{NAME}}`` in one pass (a title containing ``{{BOARD}}`` stays text)."""
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _shell(title: str, stylesheet: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<link rel="icon" href="/favicon.ico">\n'
        f'<link rel="stylesheet" href="{_attr(stylesheet)}">\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _board_list(boards: Sequence[Board]) -> str:
    items = "\n".join(
        f'<li><a href="/boards/{_attr(b.name)}">{html.escape(b.title)}</a>'
        f" <code>/boards/{html.escape(b.name)}</code></li>"
        for b in boards
    )
    return f'<ul class="boards">\n{items}\n</ul>'


class Pages:
    """The pages, with the board template and the asset URLs read once at start-up."""

    def __init__(self, assets: Assets) -> None:
        self._board_template = _template("board.html")
        self._css = assets.url("board.css")
        self._js = assets.url("board.js")
        self._pages_css = assets.url("pages.css")

    def board(
        self,
        board: Board,
        boards: Sequence[Board],
        *,
        heartbeat_seconds: float,
        rotation: Rotation,
        theme: str,
        version: str = "",
    ) -> str:
        """The TV page for ``board``, fed by ``/api/events?board=<name>``.

        The heartbeat period is in the page because the page must know it before any event
        arrives: "no event for two periods" is how it tells a dead server from a quiet floor.
        """
        catalog = [{"name": b.name, "title": b.title, "panels": list(b.panels)} for b in boards]
        values = {
            "TITLE": html.escape(board.title),
            "BOARD": _attr(board.name),
            "HEARTBEAT": f"{heartbeat_seconds:g}",
            "PANELS": _attr(" ".join(board.panels)),
            "BOARDS": _attr(" ".join(b.name for b in boards)),
            "CATALOG": _attr(json.dumps(catalog, ensure_ascii=False, separators=(",", ":"))),
            "ROTATE": _attr(" ".join(rotation.known)),
            "ROTATE_UNKNOWN": _attr(" ".join(rotation.unknown)),
            "THEME": _attr(theme),
            "VERSION": _attr(version),
            "CSS_URL": _attr(self._css),
            "JS_URL": _attr(self._js),
        }
        return _fill(self._board_template, values)

    def index(self, boards: Sequence[Board]) -> str:
        """A plain list of boards, for the operator setting up a TV."""
        body = (
            "<main>\n<h1>Wallboards</h1>\n"
            f"{_board_list(boards)}\n"
            '<p class="hint">Options: <code>?theme=light</code>, <code>?agents=off</code>, '
            "<code>?rotate=a,b&amp;every=30s</code>, <code>?page_every=8s</code>.</p>\n</main>"
        )
        return _shell("Wallboards", self._pages_css, body)

    def unknown_board(self, name: str, boards: Sequence[Board]) -> str:
        """404 for ``/boards/<name>``: says which name was wrong and lists the right ones."""
        body = (
            "<main>\n<h1>No board here</h1>\n"
            f"<p>There is no board named <strong>{html.escape(name)}</strong>. "
            "Boards on this wallboard:</p>\n"
            f"{_board_list(boards)}\n"
            '<p class="hint">Boards are the <code>[[boards]]</code> tables of the '
            "configuration; a board's name is its URL.</p>\n</main>"
        )
        return _shell("No such board", self._pages_css, body)


def unauthorized_page(why: str) -> str:
    """401 for a person: how to open a board with the token (links nothing: no stylesheet
    can load without the token this page asks for)."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        # dark like the boards without a stylesheet: the browser's own dark defaults
        '<meta name="color-scheme" content="dark">\n'
        "<title>Access token needed</title>\n</head>\n<body>\n"
        f"<h1>Access token needed</h1>\n<p>{html.escape(why.capitalize())}.</p>\n"
        "<p>Open this page once as <code>…?token=&lt;web.token&gt;</code>: the browser keeps "
        "a cookie and goes back to the plain address.</p>\n</body>\n</html>\n"
    )
