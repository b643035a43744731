"""Pure parsers: VICIdial Non-Agent API answer text in, typed model or a precise error out.

VICIdial answers HTTP 200 to everything and puts the outcome in the body: data rows, or an
``ERROR:``/``NOTICE:``/``SUCCESS:`` line, or (through a proxy) an HTML page. Every parser here
therefore starts with :func:`~wallboard.vicidial.answers.classify_answer`, which turns the
failure shapes into the exception tree of :mod:`wallboard.vicidial.errors` and recognises the
two "nothing here" errors that are really results (no logged-in agents, an empty hopper). Then
it maps columns **by position** (the layouts of :mod:`wallboard.vicidial.layouts`; API.md §10:
old builds print short headers), converts them, and raises
:class:`ParseError` naming the function and the 1-based line for anything else. No
``ValueError``/``IndexError`` ever leaks: the poll job catches :class:`VicidialError` only.

An answer is complete or rejected, never read as fewer figures: it must end in VICIdial's
final newline; every row must be as wide as the header (or, without one, as the first row, in
one of the layout's widths), so a row cut short never passes for an older layout; a header
with no row under it is a cut answer (VICIdial prints its "nothing here" error instead); and
where the request says which rows must come back (``expected``), a missing one is an
:class:`~wallboard.vicidial.errors.IncompleteAnswer`. What no format can reveal is an answer
cut exactly after a whole row of ``logged_in_agents`` or ``hopper_list``.

Formats are taken from ``shared/vicidial/API.md`` §3-§5 (the code's form where the doc and
code disagree), independently of the simulator, so a wrong column in one is caught by the
other's tests.

Speed matters for ``logged_in_agents`` (thousands of rows every 30 s): rows are cut with
``str.split`` in one loop per parser, no regular expression runs per row.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Final

from ._text import (
    DEFAULT_DELIMITER,
    Layout,
    RowWidth,
    Table,
    content_lines,
    read_table,
    shorten,
    shown,
)
from .answers import REQUIRED_PERMISSIONS, Answer, classify_answer
from .errors import ApiError, IncompleteAnswer, ParseError
from .layouts import (
    AGENT_STATUS,
    CAMPAIGNS_LIST,
    HOPPER_LIST,
    IN_GROUP_STATUS,
    LOGGED_IN_AGENTS,
    USER_GROUP_STATUS,
)
from .models import (
    AgentStatus,
    CallStatusStats,
    CampaignInfo,
    CampaignUpdate,
    HopperCount,
    InGroupStatus,
    LoggedInAgent,
    StatusCounts,
    UpdateOutcome,
    UserGroupStatus,
    VersionInfo,
)

__all__ = [
    "REQUIRED_PERMISSIONS",
    "Answer",
    "classify_answer",
    "parse_agent_status",
    "parse_call_status_stats",
    "parse_campaigns_list",
    "parse_hopper_list",
    "parse_in_group_status",
    "parse_logged_in_agents",
    "parse_update_campaign",
    "parse_user_group_status",
    "parse_version",
]

# --------------------------------------------------------------------------------------------
# Row shapes the parsers accept (API.md §5)
# --------------------------------------------------------------------------------------------

# Row widths are in the layouts (wallboard.vicidial.layouts); these name the ones a parser
# branches on.
_AGENTS_BASIC: Final = 10  # without show_sub_status
_CAMPAIGNS_LEGACY: Final = 8  # builds before 240718
_AGENT_STATUS_COLUMNS: Final = 13  # computer_ip is the optional 14th
_CALL_STATUS_STATS_FIELDS: Final = 6  # five fields, then the empty one after the final "|"
_HOURS: Final = 24


# --------------------------------------------------------------------------------------------
# Shared row helpers (never on the per-row fast path unless a row is bad)
# --------------------------------------------------------------------------------------------


def _numbered_rows(table: Table, layout: Layout | None = None) -> list[tuple[int, list[str]]]:
    """The non-blank data lines of ``table`` split into fields, with their line numbers.

    With ``layout``, every row is held to one width (:class:`RowWidth`).
    """
    strip = table.strip_chars
    delimiter = table.delimiter
    width = None if layout is None else RowWidth(layout, table)
    rows: list[tuple[int, list[str]]] = []
    for offset, raw in enumerate(table.lines):
        line = raw.strip(strip)
        if line:
            fields = line.split(delimiter)
            if width is not None:
                width.check(len(fields), table.first_line + offset)
            rows.append((table.first_line + offset, fields))
    return rows


def _header_only_error(layout: Layout, table: Table) -> ParseError:
    """A header with no row under it: VICIdial prints its "nothing here" error instead."""
    return ParseError(
        "a header with no data line under it (answer cut off after the header)",
        function=layout.function,
        line=table.first_line - 1,
    )


def _missing(
    function: str, expected: Sequence[str] | None, found: set[str], why: str
) -> IncompleteAnswer | None:
    """The error for ``expected`` codes not in ``found`` (in the caller's order), if any."""
    if not expected:
        return None
    missing = tuple(dict.fromkeys(code for code in expected if code not in found))
    if not missing:
        return None
    names = ", ".join(missing)
    return IncompleteAnswer(
        f"{names} missing from the answer ({why})", function=function, missing=missing
    )


def _number_error(
    layout: Layout, fields: Sequence[str], line: int, positions: Sequence[int]
) -> ParseError:
    """The error for the first of ``positions`` that is not an integer."""
    for position in positions:
        try:
            int(fields[position])
        except ValueError:
            return ParseError(
                f"{layout.name(position)} is not a whole number: {shown(fields[position])}",
                function=layout.function,
                line=line,
            )
    return ParseError("row has a value that is not a number", function=layout.function, line=line)


def _ints(layout: Layout, fields: Sequence[str], line: int, positions: Sequence[int]) -> list[int]:
    try:
        return [int(fields[position]) for position in positions]
    except ValueError:
        raise _number_error(layout, fields, line, positions) from None


def _finite_float(layout: Layout, value: str, line: int, position: int) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ParseError(
            f"{layout.name(position)} is not a number: {shown(value)}",
            function=layout.function,
            line=line,
        )
    return number


def _one_row(layout: Layout, table: Table) -> tuple[int, list[str]]:
    """The single data row of a one-line answer (agent_status, *_group_status)."""
    rows = _numbered_rows(table, layout)
    if not rows:
        raise ParseError("no data line in the answer", function=layout.function)
    if len(rows) > 1:
        raise ParseError(
            f"expected one data line, got {len(rows)}", function=layout.function, line=rows[1][0]
        )
    return rows[0]


def _empty_error(layout: Layout, line: int, position: int) -> ParseError:
    return ParseError(f"{layout.name(position)} is empty", function=layout.function, line=line)


def _mutable_twin(frozen: type[Any]) -> type[Any]:
    """A plain slotted dataclass with exactly the slots of the frozen dataclass ``frozen``.

    A frozen dataclass's ``__init__`` stores every field through ``object.__setattr__``, about
    four times the cost of a plain slot store; for ``logged_in_agents`` (thousands of rows every
    poll) that was most of the parse time. The twin's ``__init__`` stores slots directly, and
    assigning ``__class__ = frozen`` afterwards is allowed because both classes have the same
    slot layout: from then on the object *is* a frozen instance (same ``==``, hash, repr,
    immutability). The tests check that for every parsed row.
    """
    names = [field.name for field in dataclasses.fields(frozen)]
    twin: type[Any] = dataclasses.make_dataclass(
        f"_{frozen.__name__}Builder", names, slots=True, eq=False, repr=False, match_args=False
    )
    if twin.__slots__ != frozen.__slots__:  # pragma: no cover - a dataclasses change
        raise TypeError(f"{frozen.__name__} is not a plain slotted dataclass")
    return twin


_LOGGED_IN_AGENT_BUILDER: Final = _mutable_twin(LoggedInAgent)


# --------------------------------------------------------------------------------------------
# The parsers
# --------------------------------------------------------------------------------------------


def parse_logged_in_agents(text: str, *, delimiter: str | None = None) -> tuple[LoggedInAgent, ...]:
    """Parse ``logged_in_agents``: 10 columns, or 12 with ``show_sub_status=YES``.

    ``NO LOGGED IN AGENTS`` is an empty tuple. Every row has the header's width (without a
    header, the first row's: 10 or 12+), so a 12-column row cut to 10 is an error, not an agent
    without sub-status. More than 12 columns: the extra ones are ignored (a newer build).
    """
    layout = LOGGED_IN_AGENTS
    if classify_answer(layout.function, text) is Answer.NO_DATA:
        return ()
    table = read_table(text, layout, delimiter)
    delimiter_found = table.delimiter
    strip = table.strip_chars
    # One width for the whole answer: the header's, else the first row's (set in the loop).
    # The checker only runs when a row differs from it, to raise or to set the first width.
    checker = RowWidth(layout, table)
    allowed = checker.allowed
    width = next(iter(allowed)) if allowed is not None and len(allowed) == 1 else -1
    agents: list[LoggedInAgent] = []
    append = agents.append
    line = table.first_line - 1
    build = _LOGGED_IN_AGENT_BUILDER
    # The hot loop: one split, one width compare, three int() and one constructor per row.
    for raw in table.lines:
        line += 1
        stripped = raw.strip(strip)
        if not stripped:
            continue
        f = stripped.split(delimiter_found)
        count = len(f)
        if count != width:
            checker.check(count, line)  # raises, unless this is a headerless answer's first row
            width = count
        try:
            lead_id = int(f[4])
            calls_today = int(f[6])
            user_level = int(f[9])
        except ValueError:
            raise _number_error(layout, f, line, (4, 6, 9)) from None
        if not f[0]:
            raise _empty_error(layout, line, 0)
        if count == _AGENTS_BASIC:
            pause_code = sub_status = None
        else:
            pause_code = f[10]
            sub_status = f[11]
        agent = build(
            f[0], f[1], f[2], f[3], lead_id, f[5], calls_today, f[7], f[8], user_level,
            pause_code, sub_status,
        )  # fmt: skip
        agent.__class__ = LoggedInAgent  # now exactly a frozen LoggedInAgent
        append(agent)
    if not agents:
        raise _header_only_error(layout, table)
    return tuple(agents)


def parse_agent_status(text: str, *, delimiter: str | None = None) -> AgentStatus:
    """Parse ``agent_status``: one line of 13 columns, plus ``computer_ip`` when found.

    The header of 2021 builds stops after 8 columns while the data has 13; that whole-answer
    layout is accepted (the header is only checked, never used to map columns), as is a
    14-column header over a row without ``computer_ip``. Otherwise the row has the header's
    width.
    """
    layout = AGENT_STATUS
    classify_answer(layout.function, text)
    table = read_table(text, layout, delimiter)
    line, f = _one_row(layout, table)
    lead_id, calls_today, user_level = _ints(layout, f, line, (2, 4, 7))
    computer_ip = f[13] if len(f) > _AGENT_STATUS_COLUMNS and f[13] else None
    return AgentStatus(
        status=f[0],
        callerid=f[1],
        lead_id=lead_id,
        campaign_id=f[3],
        calls_today=calls_today,
        full_name=f[5],
        user_group=f[6],
        user_level=user_level,
        pause_code=f[8],
        real_time_sub_status=f[9],
        phone_number=f[10],
        vendor_lead_code=f[11],
        session_id=f[12],
        computer_ip=computer_ip,
    )


def _group_counts(layout: Layout, text: str, delimiter: str | None) -> tuple[list[str], int]:
    """Shared by the two *_group_status parsers: the row (9+ columns) and its line number."""
    classify_answer(layout.function, text)
    table = read_table(text, layout, delimiter)
    line, f = _one_row(layout, table)
    return f, line


def parse_user_group_status(text: str, *, delimiter: str | None = None) -> UserGroupStatus:
    """Parse ``user_group_status``: the group list (space-joined) and eight counts."""
    layout = USER_GROUP_STATUS
    f, line = _group_counts(layout, text, delimiter)
    counts = _ints(layout, f, line, range(1, 9))
    return UserGroupStatus(tuple(f[0].split()), *counts)


def parse_in_group_status(text: str, *, delimiter: str | None = None) -> InGroupStatus:
    """Parse ``in_group_status``: the in-group list (space-joined) and eight counts."""
    layout = IN_GROUP_STATUS
    f, line = _group_counts(layout, text, delimiter)
    counts = _ints(layout, f, line, range(1, 9))
    return InGroupStatus(tuple(f[0].split()), *counts)


def parse_campaigns_list(
    text: str, *, delimiter: str | None = None, expected: Sequence[str] | None = None
) -> tuple[CampaignInfo, ...]:
    """Parse ``campaigns_list``: 12 columns, or the 8 of builds before 240718.

    Every row has the header's width (without a header, the first row's). ``expected`` are
    campaign ids that must be listed: one missing is an
    :class:`~wallboard.vicidial.errors.IncompleteAnswer`, because an answer cut after a whole
    row would otherwise make the campaigns after it vanish from the board.
    """
    layout = CAMPAIGNS_LIST
    classify_answer(layout.function, text)
    table = read_table(text, layout, delimiter)
    campaigns: list[CampaignInfo] = []
    for line, f in _numbered_rows(table, layout):
        if not f[0]:
            raise _empty_error(layout, line, 0)
        active = _yes_no(layout, f[2], line, 2)
        dial_level = _finite_float(layout, f[5], line, 5)
        statuses = tuple(status for status in f[7].split() if status != "-")
        if len(f) == _CAMPAIGNS_LEGACY:
            campaigns.append(
                CampaignInfo(f[0], f[1], active, f[3], f[4], dial_level, f[6], statuses)
            )
            continue
        timeout = _ints(layout, f, line, (8,))[0] if f[8] else None
        campaigns.append(
            CampaignInfo(
                f[0], f[1], active, f[3], f[4], dial_level, f[6], statuses, timeout, *f[9:12]
            )
        )
    if not campaigns:
        raise _header_only_error(layout, table)
    missing = _missing(
        layout.function,
        expected,
        {campaign.campaign_id for campaign in campaigns},
        "cut off, or not viewable by the API user",
    )
    if missing is not None:
        raise missing
    return tuple(campaigns)


def _yes_no(layout: Layout, value: str, line: int, position: int) -> bool:
    if value == "Y":
        return True
    if value == "N":
        return False
    raise ParseError(
        f"{layout.name(position)} is {shown(value)}, expected 'Y' or 'N'",
        function=layout.function,
        line=line,
    )


def parse_hopper_list(text: str, campaign_id: str, *, delimiter: str | None = None) -> HopperCount:
    """Count the leads in one campaign's hopper: the number of ``hopper_list`` data rows.

    ``THERE ARE NO LEADS IN THE HOPPER`` is 0 leads; a header alone is a cut answer. Each row
    has the header's width (without a header, the first row's, at least through ``lead_id``)
    with a whole number as ``lead_id``, so a garbled body is an error rather than a lead count.
    """
    layout = HOPPER_LIST
    if classify_answer(layout.function, text) is Answer.NO_DATA:
        return HopperCount(campaign_id=campaign_id, leads=0)
    table = read_table(text, layout, delimiter)
    leads = 0
    for line, f in _numbered_rows(table, layout):
        _ints(layout, f, line, (2,))
        leads += 1
    if not leads:
        raise _header_only_error(layout, table)
    return HopperCount(campaign_id=campaign_id, leads=leads)


def parse_call_status_stats(
    text: str, *, delimiter: str | None = None, expected: Sequence[str] | None = None
) -> tuple[CallStatusStats, ...]:
    """Parse ``call_status_stats``: ``code|calls|answered|00-n,...,23-n|STATUS-n,...|`` lines.

    This function ignores ``stage`` on the server, so ``delimiter`` is ignored too (always
    pipe) and there is never a header. Every line has the five fields and the final ``|``.
    Hours are read by their label, not their position; an hour that is not printed counts 0.
    The status list may be empty. ``expected`` are the requested campaigns: VICIdial prints a
    line for each, calls or not (API.md §5.7), so one without a line means the answer was cut
    (:class:`~wallboard.vicidial.errors.IncompleteAnswer`).
    """
    function = "call_status_stats"
    classify_answer(function, text)
    first, lines = content_lines(text)
    table = Table(delimiter=DEFAULT_DELIMITER, header=None, first_line=first, lines=lines)
    stats: list[CallStatusStats] = []
    for line, f in _numbered_rows(table):
        if len(f) != _CALL_STATUS_STATS_FIELDS or f[5]:
            raise ParseError(
                f"line has {len(f)} fields, expected code|calls|answered|hours|statuses| "
                "(five, then the final |)",
                function=function,
                line=line,
            )
        if not f[0]:
            raise ParseError("campaign or in-group code is empty", function=function, line=line)
        try:
            calls = int(f[1])
            answered = int(f[2])
        except ValueError:
            raise ParseError(
                f"call counts are not whole numbers: {shown(f[1])}, {shown(f[2])}",
                function=function,
                line=line,
            ) from None
        stats.append(
            CallStatusStats(
                code=f[0],
                calls=calls,
                human_answered=answered,
                hourly=_hourly(f[3], line),
                statuses=_status_counts(f[4], line),
            )
        )
    missing = _missing(
        function,
        expected,
        {line.code for line in stats},
        "cut off, or not a campaign the API user can see",
    )
    if missing is not None:
        raise missing
    return tuple(stats)


def _hourly(field: str, line: int) -> tuple[int, ...]:
    hours = [0] * _HOURS
    for item in field.split(","):
        if not item:
            continue
        label, dash, count = item.partition("-")
        try:
            hour = int(label)
            calls = int(count)
        except ValueError:
            hour = -1
            calls = 0
        if not dash or not 0 <= hour < _HOURS:
            raise ParseError(
                f"hour entry {shown(item)} is not HH-count with HH 00-23",
                function="call_status_stats",
                line=line,
            )
        hours[hour] += calls
    return tuple(hours)


def _status_counts(field: str, line: int) -> StatusCounts:
    pairs: list[tuple[str, int]] = []
    for item in field.split(","):
        if not item:
            continue
        status, dash, count = item.rpartition("-")
        try:
            number = int(count)
        except ValueError:
            dash = ""
            number = 0
        if not dash:
            raise ParseError(
                f"status entry {shown(item)} is not STATUS-count",
                function="call_status_stats",
                line=line,
            )
        pairs.append((status, number))
    return StatusCounts(pairs)


_VERSION_KEYS: Final = ("VERSION", "BUILD", "DATE", "EPOCH")


def parse_version(text: str, *, delimiter: str | None = None) -> VersionInfo:
    """Parse ``version``: ``VERSION: v|BUILD: b|DATE: d|EPOCH: e|DST: 1|TZ: -5.00|TZNOW: -4|``.

    Keys are read by name, so the 2011 format, the current one and the Agent API's (no DST/TZ
    fields, no trailing ``|``) all parse; the missing fields are ``None``.
    """
    function = "version"
    classify_answer(function, text)
    first, lines = content_lines(text)
    line = lines[0].strip()
    if not line.startswith("VERSION:"):
        raise ParseError(
            f"expected 'VERSION: ...', got {shown(line)}", function=function, line=first
        )
    values: dict[str, str] = {}
    for item in line.split("|"):
        key, colon, value = item.partition(":")
        if colon:
            values[key.strip().upper()] = value.strip()
        elif item.strip():
            raise ParseError(
                f"field {shown(item)} is not 'KEY: value'", function=function, line=first
            )
    missing = [key for key in _VERSION_KEYS if key not in values]
    if missing:
        raise ParseError(f"missing {', '.join(missing)}", function=function, line=first)
    try:
        epoch = int(values["EPOCH"])
    except ValueError:
        raise ParseError(
            f"EPOCH is not a whole number: {shown(values['EPOCH'])}", function=function, line=first
        ) from None
    return VersionInfo(
        version=values["VERSION"],
        build=values["BUILD"],
        date=values["DATE"],
        epoch=epoch,
        dst=_version_dst(values.get("DST"), first),
        tz=_version_offset("TZ", values.get("TZ"), first),
        tz_now=_version_offset("TZNOW", values.get("TZNOW"), first),
    )


def _version_dst(value: str | None, line: int) -> bool | None:
    if value is None or value == "":
        return None
    if value in ("0", "1"):
        return value == "1"
    raise ParseError(f"DST is {shown(value)}, expected 0 or 1", function="version", line=line)


def _version_offset(key: str, value: str | None, line: int) -> float | None:
    if value is None or value == "":
        return None
    try:
        offset = float(value)
    except ValueError:
        offset = math.nan
    if not math.isfinite(offset):
        raise ParseError(f"{key} is not a number: {shown(value)}", function="version", line=line)
    return offset


_UPDATED: Final = "CAMPAIGN HAS BEEN UPDATED"
_NO_UPDATES: Final = "NO UPDATES DEFINED"
_HOPPER_RESET: Final = "HOPPER HAS BEEN RESET"


def parse_update_campaign(text: str, *, delimiter: str | None = None) -> CampaignUpdate:
    """Parse ``update_campaign``'s one or two status lines (API.md §5.10).

    ``SUCCESS: ... CAMPAIGN HAS BEEN UPDATED - user|campaign``, then optionally
    ``NOTICE: ... HOPPER HAS BEEN RESET - user|campaign|``; or ``NOTICE: ... NO UPDATES
    DEFINED: |user|`` (a result, not an error: nothing changed). Validation errors are
    ``ERROR:`` lines and raise :class:`ApiError` via :func:`classify_answer`.
    """
    function = "update_campaign"
    classify_answer(function, text)
    first, lines = content_lines(text)
    updated = hopper_reset = no_updates = False
    user = ""
    campaign_id: str | None = None
    kept: list[str] = []
    for offset, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("ERROR:"):
            raise ApiError(shorten(line), function=function)
        if line.startswith("SUCCESS:") and _UPDATED in line:
            updated = True
            fields = _status_payload(line, _UPDATED)
        elif line.startswith("NOTICE:") and _HOPPER_RESET in line:
            hopper_reset = True
            fields = _status_payload(line, _HOPPER_RESET)
        elif line.startswith("NOTICE:") and _NO_UPDATES in line:
            no_updates = True
            fields = _status_payload(line, _NO_UPDATES)
        else:
            raise ParseError(
                f"not an update_campaign status line: {shown(line, 80)}",
                function=function,
                line=first + offset,
            )
        if not kept:
            user = fields[0]
        if campaign_id is None and len(fields) > 1 and fields[1]:
            campaign_id = fields[1]
        kept.append(line)
    outcome: UpdateOutcome
    if updated:
        outcome = "updated"
    elif hopper_reset:
        outcome = "hopper_reset"
    else:
        assert no_updates  # the loop saw at least one line and accepted it
        outcome = "no_updates"
    return CampaignUpdate(
        outcome=outcome,
        user=user,
        campaign_id=campaign_id,
        hopper_reset=hopper_reset,
        lines=tuple(kept),
    )


def _status_payload(line: str, marker: str) -> list[str]:
    """The ``|``-separated data after a status message (``- 6666|X`` or ``: |6666|``)."""
    rest = line[line.index(marker) + len(marker) :]
    for separator in (" - ", ": ", ":"):
        if rest.startswith(separator):
            rest = rest[len(separator) :]
            break
    return rest.removeprefix("|").split("|")
