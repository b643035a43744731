"""Turning an answer body into numbered lines and delimited rows, shared by every parser.

VICIdial's export functions print one header line (with ``header=YES``) and rows joined by the
``stage`` delimiter, with no quoting at all (API.md §2.4). So a row is just ``line.split(d)``;
``csv`` would only add cost and would misread a stray quote in a name. This module does the
parts every parser needs and nothing function-specific:

* drop a UTF-8 BOM, accept ``\\r\\n``, ignore blank lines and surrounding whitespace, while
  keeping the 1-based line numbers of the original text for error messages;
* recognise a header line, take the delimiter from it, and check its column names against the
  ones we map by position (the header is only a check: old builds print short headers);
* hold every row of one answer to one width (:class:`RowWidth`), so an answer cut short, or
  a row cut to what happens to be another layout's width, is an error and not fewer figures;
* insist on the final newline VICIdial ends every answer with (:func:`require_final_newline`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

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
class Widths:
    """The row widths (column counts) one function prints, over every build we know.

    ``exact`` are the fixed layouts (e.g. 10 for ``logged_in_agents`` without sub-statuses);
    ``at_least`` opens the range from the current layout up, for a newer build that appends
    columns (they are ignored). ``description`` is the phrase error messages use.
    """

    exact: frozenset[int]
    at_least: int | None
    description: str

    def accepts(self, count: int) -> bool:
        return count in self.exact or (self.at_least is not None and count >= self.at_least)


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns of one function's rows, in the order VICIdial prints them.

    ``columns[i]`` holds the header names accepted at position ``i``; the first is VICIdial's
    current name, any others are spellings seen in older builds or in the documentation.
    ``widths`` are the row widths VICIdial prints; a header of width ``h`` normally means every
    row has ``h`` columns, except where ``header_quirks[h]`` lists the widths a known build
    prints under that header (the 2021 ``agent_status``: an 8-column header over 13 columns).
    """

    function: str
    columns: tuple[tuple[str, ...], ...]
    widths: Widths
    header_quirks: Mapping[int, frozenset[int]] = field(
        default_factory=lambda: MappingProxyType({})
    )

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


class RowWidth:
    """Holds every data row of one answer to one width, set by the header or the first row.

    VICIdial prints every row of an answer with the same columns. So with a header, every row
    must be as wide as the header (or match the layout's header quirk); without one, the first
    row must be one of the layout's widths and every later row as wide as it. A row that is
    narrower was cut short; one that is wider is not this answer's layout. Both are a
    :class:`ParseError` naming the line, never a row read as another layout.
    """

    __slots__ = ("_allowed", "_layout", "_origin")

    def __init__(self, layout: Layout, table: Table) -> None:
        self._layout = layout
        self._allowed: frozenset[int] | None = None
        self._origin = "the header"
        if table.header is not None:
            width = len(table.header)
            quirk = layout.header_quirks.get(width)
            if quirk is not None:
                self._allowed = quirk
            elif layout.widths.accepts(width):
                self._allowed = frozenset((width,))
            else:
                raise ParseError(
                    f"header has {width} columns, expected {layout.widths.description}",
                    function=layout.function,
                    line=table.first_line - 1,
                )

    @property
    def allowed(self) -> frozenset[int] | None:
        """The widths every row must have; ``None`` until a headerless answer's first row."""
        return self._allowed

    def check(self, count: int, line: int) -> None:
        """Accept a row of ``count`` columns on ``line``, or raise :class:`ParseError`."""
        allowed = self._allowed
        if allowed is None:
            if not self._layout.widths.accepts(count):
                raise ParseError(
                    f"row has {count} column{'s' if count != 1 else ''}, "
                    f"expected {self._layout.widths.description}",
                    function=self._layout.function,
                    line=line,
                )
            self._allowed = frozenset((count,))
            self._origin = f"line {line}"
        elif count not in allowed:
            expected = " or ".join(str(width) for width in sorted(allowed))
            raise ParseError(
                f"row has {count} column{'s' if count != 1 else ''}, expected {expected} "
                f"as on {self._origin} (a row cut short, or a mixed answer)",
                function=self._layout.function,
                line=line,
            )


def require_final_newline(function: str, text: str) -> None:
    """Raise :class:`ParseError` unless ``text`` ends in the newline VICIdial always sends.

    Every line VICIdial prints ends in ``\\n`` (API.md §2.1), the last one included. An answer
    without it stopped mid-line: the PHP died, a proxy or the connection cut it. Whatever
    such a body seems to contain (fewer rows, a short last row that fits another layout), it
    is not the whole answer.
    """
    if not text.endswith("\n"):
        raise ParseError(
            "answer cut off: no final newline", function=function, line=text.count("\n") + 1
        )


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
    """``line`` for an error message: unquoted, on one line, at most ``limit`` characters.

    The line is the dialer's (or a proxy's) text, and the message goes into log lines and
    ``/readyz``: a terminal escape, NUL, carriage return or line separator copied raw would
    rewrite the operator's terminal or forge a log line. So what is not printable is written
    as Python writes it (``\\x1b``, ``\\r``, ``\\u2028``), and ``limit`` counts the escaped
    text, never splitting an escape. Printable text, backslashes included, is left as it is:
    the client masks the VICIdial password in the finished message (``redacted``), which only
    matches the password as sent, and a password is letters, digits, ``-`` and ``_``.
    """
    head = line[: limit + 1]
    if head.isprintable():
        return line[:limit] + "..." if len(line) > limit else line
    shown_parts: list[str] = []
    size = 0
    for character in line:
        part = character if character.isprintable() else ascii(character)[1:-1]
        if size + len(part) > limit:
            return "".join(shown_parts) + "..."
        shown_parts.append(part)
        size += len(part)
    return "".join(shown_parts)
