"""The configured boards as the web layer uses them, and what a board's URL options mean.

The page's options live in its query string (``?rotate=floor,team2&every=30s``,
``?theme=light``, ``?agents=off``) so a TV is set up by its URL alone. The page's script
reads them; the server passes the query through untouched and only adds, on ``<body>``, what
the script cannot know by itself: which boards exist, so a rotation never sends a TV to a
board that is not there (an unknown name is dropped and named, never navigated to).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wallboard.config import ALL, BoardConfig
from wallboard.web.keys import Board

#: The themes the page has; anything else in ``?theme=`` means the default.
THEMES = ("dark", "light")


def boards_from_config(configs: Iterable[BoardConfig]) -> tuple[Board, ...]:
    """``[[boards]]`` as plain :class:`Board` values (``"all"`` becomes ``None``)."""
    return tuple(
        Board(
            name=config.name,
            title=config.title,
            campaigns=None if config.campaigns == ALL else tuple(config.campaigns),
            ingroups=None if config.ingroups == ALL else tuple(config.ingroups),
            panels=tuple(config.panels),
        )
        for config in configs
    )


def find_board(boards: Sequence[Board], name: str) -> Board | None:
    """The board called ``name``, or None."""
    return next((board for board in boards if board.name == name), None)


@dataclass(frozen=True, slots=True)
class Rotation:
    """``?rotate=`` split into the boards that exist (in the given order) and those that do
    not; a name given twice counts once."""

    known: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def rotation(value: str | None, boards: Sequence[Board]) -> Rotation:
    """Parse ``?rotate=a,b`` against the configured boards."""
    if not value:
        return Rotation()
    names = {board.name for board in boards}
    known: list[str] = []
    unknown: list[str] = []
    for name in (part.strip() for part in value.split(",")):
        if not name or name in known or name in unknown:
            continue
        (known if name in names else unknown).append(name)
    return Rotation(tuple(known), tuple(unknown))


def theme(value: str | None) -> str:
    """``?theme=``: one of :data:`THEMES`, the first (dark) for anything else."""
    return value if value in THEMES else THEMES[0]
