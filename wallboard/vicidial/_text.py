"""Turning an answer body into numbered lines and delimited rows, shared by every parser.

VICIdial's export functions print one header line (with ``header=YES``) and rows joined by the
``stage`` delimiter, with no quoting at all (API.md §2.4). So a row is just ``line.split(d)``;
``csv`` would only add cost and would misread a stray quote in a name. This module does the
parts every parser needs and nothing function-specific:

* drop a UTF-8 BOM, accept ``\\r\\n``, ignore blank lines and surrounding whitespace, while
  keeping the 1-based line numbers of the original text for error messages;
* recognise a header line, take the delimiter from it, and check its column names against the
  ones we map by position (the header is only a check: old builds print short headers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ParseError

DELIMITERS = ("|", ",", "\t")
"""What ``stage=pipe``, ``stage=csv`` and ``stage=tab`` print between fields."""

DEFAULT_DELIMITER = "|"
"""An unknown or missing ``stage`` falls back to pipe on the server, so we do too."""

_WHITESPACE = " \t\r\n\x0b\x0c"
_BOM = "\ufeff"
_SHOWN_VALUE_CHARS = 40
_SHOWN_LINE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns of one function's rows, in the order VICIdial prints them.

    ``columns[i]`` holds the header names accepted at position ``i``; the first is VICIdial's
    current name, any others are spellings seen in older builds or in the documentation.
    """

    function: str
    columns: tuple[tuple[str, ...], ...]

    def name(self, position: int) -> str:
        """The current name of the column at ``position`` (0-based)."""
        return self.columns[position][0]


@dataclass(frozen=True, slots=True)
class Table:
    """An answer split into its optional header and its data lines.

    ``lines`` are not split yet, so a parser can do all per-row work in one tight loop; line
    ``lines[i]`` is line ``first_line + i`` of the original text and may be blank.
    """

    delimiter: str
    header: tuple[str, ...] | None
    first_line: int
    lines: Sequence[str]

    @property
    def strip_chars(self) -> str:
        """The whitespace to strip around a line: all of it except the delimiter itself.

        A tab-delimited row can end in an empty field (``...\\tLOGIN\\t``); stripping the tab
        would lose that column.
        """
        return _WHITESPACE.replace(self.delimiter, "")


def content_lines(text: str) -> tuple[int, list[str]]:
    """Split ``text`` into lines without the blank ones at either end.

    Returns the 1-based number of the first kept line and the kept lines (unstripped, blank
    lines in the middle included). A BOM at the start is dropped, ``\\r\\n`` counts as one
    line break. Lone ``\\r``, ``\\x85`` or ``\\u2028`` are *not* line breaks: they can occur
    inside a name and VICIdial only ever ends lines with ``\\n``.
    """
    if text.startswith(_BOM):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    start = 0
    end = len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start + 1, lines[start:end]


def first_content_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped; ``""`` when there is none."""
    if text.startswith(_BOM):
        text = text[1:]
    position = 0
    while True:
        end = text.find("\n", position)
        line = text[position:] if end < 0 else text[position:end]
        stripped = line.strip()
        if stripped or end < 0:
            return stripped
        position = end + 1


def read_table(text: str, layout: Layout, delimiter: str | None) -> Table:
    """Find the header (if any), the delimiter and the data lines of ``text``.

    The first line is a header when it starts with the layout's first two column names joined
    by one of :data:`DELIMITERS`; that delimiter then wins over ``delimiter``. Otherwise every
    line is data, split on ``delimiter`` (default pipe). A header whose known columns carry
    other names means the answer is not what we think it is: :class:`ParseError`.
    """
    first, lines = content_lines(text)
    if not lines:
        raise ParseError("empty answer", function=layout.function)
    header_line = lines[0].strip(_WHITESPACE)
    found = _header_delimiter(header_line, layout)
    if found is None:
        return Table(
            delimiter=delimiter or DEFAULT_DELIMITER, header=None, first_line=first, lines=lines
        )
    names = tuple(header_line.split(found))
    for position, name in enumerate(names[: len(layout.columns)]):
        if name not in layout.columns[position]:
            raise ParseError(
                f"header column {position + 1} is {shown(name)}, expected "
                f"{layout.name(position)!r}",
                function=layout.function,
                line=first,
            )
    return Table(delimiter=found, header=names, first_line=first + 1, lines=lines[1:])


def _header_delimiter(line: str, layout: Layout) -> str | None:
    """The delimiter of ``line`` if it is this layout's header line, else ``None``."""
    if len(layout.columns) < 2:
        return None
    for delimiter in DELIMITERS:
        fields = line.split(delimiter, 2)
        if len(fields) >= 2 and fields[0] in layout.columns[0] and fields[1] in layout.columns[1]:
            return delimiter
    return None


def shown(value: str, limit: int = _SHOWN_VALUE_CHARS) -> str:
    """``value`` quoted and shortened for an error message."""
    if len(value) > limit:
        return repr(value[:limit]) + "..."
    return repr(value)


def shorten(line: str, limit: int = _SHOWN_LINE_CHARS) -> str:
    """``line`` cut to ``limit`` characters for an error message (no quoting)."""
    if len(line) > limit:
        return line[:limit] + "..."
    return line
