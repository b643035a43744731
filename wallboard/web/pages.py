"""The HTML pages: the board index and the TV page shell (self-contained, no external URLs)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from importlib.resources import files

from wallboard.web.keys import Board


def _static(name: str) -> str:
    return files("wallboard.web").joinpath("static", name).read_text(encoding="utf-8")


def index_page(boards: Sequence[Board]) -> str:
    """A plain list of boards, for the operator setting up a TV."""
    items = "\n".join(
        f'<li><a href="/boards/{html.escape(b.name)}">{html.escape(b.title)}</a></li>'
        for b in boards
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Wallboards</title><style>body{font:24px system-ui,sans-serif;margin:2em;"
        "background:#0b1020;color:#e8ecf5}a{color:#7cc4ff}</style></head>"
        f"<body><h1>Wallboards</h1><ul>{items}</ul></body></html>"
    )


def board_page(name: str, title: str, *, heartbeat_seconds: float) -> str:
    """The TV page: inline CSS and JS, fed by ``/api/events?board=<name>``.

    The heartbeat period is in the page because the page must know it before any event
    arrives: "no event for two periods" is how it tells a dead server from a quiet floor.
    """
    page = _static("board.html")
    return (
        page.replace("{{TITLE}}", html.escape(title))
        .replace("{{BOARD}}", html.escape(name))
        .replace("{{HEARTBEAT}}", f"{heartbeat_seconds:g}")
        .replace("/*{{CSS}}*/", _static("board.css"))
        .replace("/*{{JS}}*/", _static("board.js"))
    )
