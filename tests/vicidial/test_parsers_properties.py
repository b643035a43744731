"""Property tests for the parsers: totality on any text, and render → parse round trips.

Totality is what keeps the poll job simple: whatever a proxy, a truncated body or a future
VICIdial sends, a parser returns its model or raises a :class:`VicidialError`, never a bare
``ValueError``/``IndexError``. The round trips render models the way API.md §5 says VICIdial
prints them (with each delimiter, with and without header) and check nothing is lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.vicidial._text import Layout
from wallboard.vicidial.errors import VicidialError
from wallboard.vicidial.layouts import (
    CAMPAIGNS_LIST,
    HOPPER_LIST,
    IN_GROUP_STATUS,
    LOGGED_IN_AGENTS,
    USER_GROUP_STATUS,
)
from wallboard.vicidial.models import (
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
from wallboard.vicidial.parsers import (
    classify_answer,
    parse_agent_status,
    parse_call_status_stats,
    parse_campaigns_list,
    parse_hopper_list,
    parse_in_group_status,
    parse_logged_in_agents,
    parse_update_campaign,
    parse_user_group_status,
    parse_version,
)

EXAMPLES = settings(max_examples=200, deadline=None)

PARSERS: dict[str, tuple[Callable[[str, str | None], object], type | tuple[type, ...]]] = {
    "version": (lambda text, d: parse_version(text, delimiter=d), VersionInfo),
    "logged_in_agents": (lambda text, d: parse_logged_in_agents(text, delimiter=d), tuple),
    "agent_status": (lambda text, d: parse_agent_status(text, delimiter=d), AgentStatus),
    "user_group_status": (
        lambda text, d: parse_user_group_status(text, delimiter=d),
        UserGroupStatus,
    ),
    "in_group_status": (lambda text, d: parse_in_group_status(text, delimiter=d), InGroupStatus),
    "campaigns_list": (lambda text, d: parse_campaigns_list(text, delimiter=d), tuple),
    "hopper_list": (lambda text, d: parse_hopper_list(text, "C", delimiter=d), HopperCount),
    "call_status_stats": (lambda text, d: parse_call_status_stats(text, delimiter=d), tuple),
    "update_campaign": (lambda text, d: parse_update_campaign(text, delimiter=d), CampaignUpdate),
}
DELIMITER = st.sampled_from(["|", ",", "\t"])


def assert_total(function: str, text: str, delimiter: str | None) -> None:
    """The parser returns its model or raises a VicidialError; nothing else escapes."""
    parse, model = PARSERS[function]
    failure: VicidialError | None = None
    try:
        result = parse(text, delimiter)
    except VicidialError as error:
        failure = error
    if failure is not None:
        assert failure.function == function
    else:
        assert isinstance(result, model)


# --- totality --------------------------------------------------------------------------------

FUNCTION = st.sampled_from(sorted(PARSERS))
FIELD = st.one_of(
    st.integers(-5, 10**6).map(str),
    st.sampled_from(
        [
            "",
            "Y",
            "N",
            "INCALL",
            "READY",
            "PAUSED",
            "DEAD",
            "LOGIN",
            "1.5",
            "nan",
            "1e999",
            "00-1,23-4",
            "24-1,-1-5,99-0",
            "DROP-2,XDROP-1",
            "A-,-3,B--2",
            "VERSION: 2.14",
            "EPOCH: 1",
            " ",
            "-",
            "\ufeff",
            "\r",
        ]
    ),
    st.text(max_size=8),
)
PREFIX = st.sampled_from(
    ["", "", "ERROR: ", "NOTICE: ", "SUCCESS: ", "VERSION: ", "<html>", "\ufeff", "  "]
)
HEADER = st.sampled_from(
    [
        "",
        "user|campaign_id|session_id|status|lead_id|callerid|calls_today|full_name",
        "user,campaign_id,session_id,status",
        "status\tcall_id\tlead_id",
        "usergroups|calls_waiting|x",
        "ingroups,total_calls",
        "campaign_id|campaign_name|active",
        "hopper_order,priority,lead_id",
    ]
)


@st.composite
def structured_text(draw: st.DrawFn) -> str:
    """Lines of delimiter-joined plausible fields, sometimes headed or prefixed like a status."""
    delimiter = draw(DELIMITER)
    lines = [draw(HEADER)]
    for _ in range(draw(st.integers(0, 4))):
        fields = draw(st.lists(FIELD, min_size=0, max_size=15))
        lines.append(draw(PREFIX) + delimiter.join(fields))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from(["", "\n", "\n\n  \n"]))


@EXAMPLES
@given(function=FUNCTION, text=st.text(), delimiter=st.none() | DELIMITER)
def test_any_text_gives_a_model_or_a_vicidial_error(
    function: str, text: str, delimiter: str | None
) -> None:
    assert_total(function, text, delimiter)


@EXAMPLES
@given(function=FUNCTION, text=structured_text(), delimiter=st.none() | DELIMITER)
def test_structured_text_gives_a_model_or_a_vicidial_error(
    function: str, text: str, delimiter: str | None
) -> None:
    assert_total(function, text, delimiter)


# One valid answer per function (API.md samples); the fuzzer below breaks them a little.
VALID: dict[str, str] = {
    "version": "VERSION: 2.14-202|BUILD: 250720-1841|DATE: 2025-09-03 10:37:13|"
    "EPOCH: 1756910233|DST: 1|TZ: -5.00|TZNOW: -4|\n",
    "logged_in_agents": "user|campaign_id|session_id|status|lead_id|callerid|calls_today|"
    "full_name|user_group|user_level|pause_code|sub_status\n"
    "1001|SALES1|8600051|INCALL|1079409|V9031437130001079409|14|Jane Doe|AGENTS|1|LOGIN|\n"
    "1004|SALES1|8600054|PAUSED|1079410||9|Bo Loe|AGENTS|1|LOGIN|DISPO\n",
    "agent_status": "INCALL|M4050908070000012345|12345|TESTCAMP|1|Test Agent|AGENTS|3|LOGIN||"
    "7275551212|123456|8600051\n",
    "user_group_status": "usergroups|calls_waiting|agents_logged_in\nADMIN AGENT|0|1|0|1|0|0|0|0\n",
    "in_group_status": "SALESLINE SUPPORT|31|0|75|54|0|20|1|0\n",
    "campaigns_list": "TESTCAMP|Test Campaign|Y|---ALL---|INBOUND_MAN|1|DOWN|PDROP DROP B NEW|"
    "65|9|9|9\nSALES1|Sales One|N|AGENTS|ADAPT_TAPERED|2.75|RANDOM|NEW NA\n",
    "hopper_list": "0|0|796292|107|9999001095|1|NY|PDROP|7|-4.00|0||S|1001095|A321|2681|1 YEARS\n"
    "1|0|796293|107|9999001096|1|NY|NEW|0|-4.00|0||S|1001096|A321|2681|1 YEARS\n",
    "call_status_stats": "TESTCAMP|26|26|00-0,01-1,11-3,12-4,21-6,22-1,23-1|NP-4,TD-22|\n"
    "AGENTDIRECT|2|2|11-1,12-1|TD-2|\n",
    "update_campaign": "SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - 6666|TESTCAMP\n"
    "NOTICE: update_campaign HOPPER HAS BEEN RESET - 6666|TESTCAMP|\n",
}


@st.composite
def broken(draw: st.DrawFn, valid: str) -> str:
    """``valid`` with one to three small breakages: the shapes a truncated or garbled body,
    a different build or a stray character produce."""
    lines = [line.split("|") for line in valid.splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        row = lines[draw(st.integers(0, len(lines) - 1))]
        if not row:  # an earlier breakage deleted its last field
            continue
        position = draw(st.integers(0, len(row) - 1))
        action = draw(
            st.sampled_from(["replace", "perturb", "delete", "insert", "split", "duplicate"])
        )
        if action == "replace":
            row[position] = draw(FIELD)
        elif action == "perturb" and row[position]:
            field = row[position]
            at = draw(st.integers(0, len(field) - 1))
            new = draw(st.sampled_from(["9", "-", ",", "x", "", " ", ":", "99", "-1"]))
            row[position] = field[:at] + new + field[at + 1 :]
        elif action == "delete":
            del row[position]
        elif action == "insert":
            row.insert(position, draw(FIELD))
        elif action == "split":
            cut = draw(st.integers(0, len(row[position])))
            row[position : position + 1] = [row[position][:cut], row[position][cut:]]
        elif action == "duplicate":
            lines.append(list(row))
    text = "\n".join("|".join(row) for row in lines) + "\n"
    return text[: draw(st.integers(0, len(text)))] if draw(st.booleans()) else text


@EXAMPLES
@given(answers=st.fixed_dictionaries({name: broken(text) for name, text in VALID.items()}))
def test_broken_answers_give_a_model_or_a_vicidial_error(answers: dict[str, str]) -> None:
    for function, text in answers.items():
        assert_total(function, text, "|")


# How many columns each tabular function prints (every layout a build may use).
SHAPES: dict[str, tuple[int, ...]] = {
    "logged_in_agents": (10, 12),
    "agent_status": (13, 14),
    "user_group_status": (9,),
    "in_group_status": (9,),
    "campaigns_list": (8, 12),
    "hopper_list": (17,),
}
HOUR_ITEMS = st.lists(
    st.builds("{:02d}-{}".format, st.integers(-30, 60), st.integers(-5, 100)), max_size=5
).map(",".join)
STATUS_ITEMS = st.lists(
    st.builds("{}-{}".format, st.sampled_from(["DROP", "", "A-B", "-"]), FIELD), max_size=4
).map(",".join)
NUMBER = st.integers(-5, 10**6).map(str)


@EXAMPLES
@given(
    lines=st.lists(
        st.tuples(
            FIELD | st.just("SALES1"),
            NUMBER | FIELD,
            NUMBER | FIELD,
            HOUR_ITEMS | FIELD,
            STATUS_ITEMS | FIELD,
        ).map(lambda fields: "|".join(fields) + "|"),
        min_size=1,
        max_size=3,
    )
)
def test_call_status_stats_fields_give_a_model_or_a_vicidial_error(lines: list[str]) -> None:
    assert_total("call_status_stats", "\n".join(lines), None)


@EXAMPLES
@given(data=st.data(), function=st.sampled_from(sorted(SHAPES)))
def test_right_shape_wrong_values_give_a_model_or_a_vicidial_error(
    data: st.DataObject, function: str
) -> None:
    """Rows with exactly the column count the parser expects, filled with any values."""
    columns = data.draw(st.sampled_from(SHAPES[function]))
    rows = data.draw(st.lists(st.lists(FIELD, min_size=columns, max_size=columns), max_size=3))
    text = "".join("|".join(row) + "\n" for row in rows)
    assert_total(function, text, "|")


@EXAMPLES
@given(
    function=FUNCTION,
    lines=st.lists(
        st.tuples(st.sampled_from(["ERROR:", "NOTICE:", "SUCCESS:"]), st.text(max_size=60)),
        min_size=1,
        max_size=3,
    ),
)
def test_status_lines_give_a_model_or_a_vicidial_error(
    function: str, lines: list[tuple[str, str]]
) -> None:
    assert_total(function, "\n".join(prefix + rest for prefix, rest in lines), None)


PASS_ALPHABET = "abcxyzABCXYZ0123456789-_"


def login_outcome(text: str) -> tuple[str, str]:
    try:
        classify_answer("logged_in_agents", text)
    except VicidialError as error:
        return type(error).__name__, str(error)
    return "data", ""


@EXAMPLES
@given(
    user=st.text(PASS_ALPHABET, min_size=1, max_size=12),
    password=st.text(PASS_ALPHABET, min_size=6, max_size=20),
    code=st.sampled_from(["BAD", "2FA"]),
    cut=st.integers(0, 200),
)
def test_login_error_message_does_not_depend_on_the_password(
    user: str, password: str, code: str, cut: int
) -> None:
    """Same answer with the password swapped for filler: same error, same message."""

    def answer(secret: str) -> str:
        full = f"ERROR: Login incorrect, please try again: |{user}|{secret}|{code}|\n"
        return full[: max(len(full) - cut, 0)]

    kind, message = login_outcome(answer(password))
    assert (kind, message) == login_outcome(answer("#" * len(password)))
    if kind == "LoginError" and password not in user and password not in message.lower():
        assert password not in message


# --- round trips -----------------------------------------------------------------------------

# Field text as VICIdial prints it: no delimiter, no newline, no surrounding whitespace, and
# (for the first column) nothing that looks like a header name or a status line.
WORD = st.text("abcdeXYZ0123456789-.'ÑéüßЖжψ山田…", min_size=1, max_size=10)
MAYBE_EMPTY = st.just("") | WORD
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
COUNT = st.integers(0, 10**9)
NEWLINE = st.sampled_from(["\n", "\r\n"])


def header_of(layout: Layout, width: int | None = None) -> str:
    """The current header line of ``layout`` (its first ``width`` columns), pipe-joined."""
    return "|".join(column[0] for column in layout.columns[:width])


def render(rows: list[list[str]], header: str | None, delimiter: str, newline: str = "\n") -> str:
    lines = [header.replace("|", delimiter)] if header is not None else []
    lines += [delimiter.join(row) for row in rows]
    return newline.join(lines) + newline


@st.composite
def logged_in_agents(draw: st.DrawFn) -> list[LoggedInAgent]:
    with_sub_status = draw(st.booleans())
    agent = st.builds(
        LoggedInAgent,
        user=WORD,
        campaign_id=WORD,
        session_id=WORD,
        status=st.sampled_from(["READY", "QUEUE", "INCALL", "PAUSED", "CLOSER", "MQUEUE"]),
        lead_id=COUNT,
        callerid=MAYBE_EMPTY,
        calls_today=COUNT,
        full_name=NAME,
        user_group=WORD,
        user_level=st.integers(1, 9),
        pause_code=MAYBE_EMPTY if with_sub_status else st.none(),
        sub_status=MAYBE_EMPTY if with_sub_status else st.none(),
    )
    return draw(st.lists(agent, max_size=6))


@EXAMPLES
@given(
    agents=logged_in_agents(),
    delimiter=DELIMITER,
    header=st.booleans(),
    newline=NEWLINE,
    bom=st.booleans(),
)
def test_logged_in_agents_round_trip(
    agents: list[LoggedInAgent], delimiter: str, header: bool, newline: str, bom: bool
) -> None:
    rows = [
        [str(value) for value in dataclasses.astuple(agent) if value is not None]
        for agent in agents
    ]
    width = len(rows[0]) if rows else len(LOGGED_IN_AGENTS.columns)
    names = "|".join(column[0] for column in LOGGED_IN_AGENTS.columns[:width])
    text = render(rows, names if header else None, delimiter, newline)
    if bom:
        text = "\ufeff" + text
    if not agents:  # VICIdial prints its error, never a header without rows
        text = "ERROR: logged_in_agents NO LOGGED IN AGENTS: 6666|\n"
    assert parse_logged_in_agents(text, delimiter=delimiter) == tuple(agents)


AGENT_STATUS = st.builds(
    AgentStatus,
    status=WORD,
    callerid=MAYBE_EMPTY,
    lead_id=COUNT,
    campaign_id=WORD,
    calls_today=COUNT,
    full_name=NAME,
    user_group=WORD,
    user_level=st.integers(1, 9),
    pause_code=MAYBE_EMPTY,
    real_time_sub_status=MAYBE_EMPTY,
    phone_number=MAYBE_EMPTY,
    vendor_lead_code=MAYBE_EMPTY,
    session_id=WORD,
    computer_ip=st.none() | WORD,
)


@EXAMPLES
@given(status=AGENT_STATUS, delimiter=DELIMITER, header=st.booleans(), newline=NEWLINE)
def test_agent_status_round_trip(
    status: AgentStatus, delimiter: str, header: bool, newline: str
) -> None:
    row = [str(value) for value in dataclasses.astuple(status) if value is not None]
    names = "status|callerid|lead_id|campaign_id|calls_today|full_name|user_group|user_level"
    text = render([row], names if header else None, delimiter, newline)
    assert parse_agent_status(text, delimiter=delimiter) == status


GROUPS = st.lists(WORD, min_size=1, max_size=4).map(tuple)


@EXAMPLES
@given(
    users=st.builds(UserGroupStatus, GROUPS, *[COUNT] * 8),
    ingroups=st.builds(InGroupStatus, GROUPS, *[COUNT] * 8),
    delimiter=DELIMITER,
    header=st.booleans(),
)
def test_group_status_round_trip(
    users: UserGroupStatus, ingroups: InGroupStatus, delimiter: str, header: bool
) -> None:
    def row(model: UserGroupStatus | InGroupStatus) -> list[str]:
        first, *counts = dataclasses.astuple(model)
        return [" ".join(first), *map(str, counts)]

    user_text = render([row(users)], header_of(USER_GROUP_STATUS) if header else None, delimiter)
    group_text = render([row(ingroups)], header_of(IN_GROUP_STATUS) if header else None, delimiter)
    assert parse_user_group_status(user_text, delimiter=delimiter) == users
    assert parse_in_group_status(group_text, delimiter=delimiter) == ingroups


@st.composite
def campaigns(draw: st.DrawFn) -> list[CampaignInfo]:
    legacy = draw(st.booleans())
    extra = st.none() if legacy else MAYBE_EMPTY
    campaign = st.builds(
        CampaignInfo,
        campaign_id=WORD,
        campaign_name=NAME,
        active=st.booleans(),
        user_group=WORD,
        dial_method=WORD,
        dial_level=st.floats(0, 10, allow_nan=False),
        lead_order=WORD,
        dial_statuses=st.lists(WORD.filter(lambda word: word != "-"), max_size=5).map(tuple),
        dial_timeout=st.none() if legacy else st.none() | st.integers(1, 120),
        dial_prefix=extra,
        manual_dial_prefix=extra,
        three_way_dial_prefix=extra,
    )
    return draw(st.lists(campaign, min_size=1, max_size=4))


def campaign_row(campaign: CampaignInfo) -> list[str]:
    row = [
        campaign.campaign_id,
        campaign.campaign_name,
        "Y" if campaign.active else "N",
        campaign.user_group,
        campaign.dial_method,
        repr(campaign.dial_level),
        campaign.lead_order,
        " ".join(campaign.dial_statuses),
    ]
    if campaign.dial_prefix is not None:
        timeout = "" if campaign.dial_timeout is None else str(campaign.dial_timeout)
        row += [timeout, campaign.dial_prefix]
        row += [campaign.manual_dial_prefix or "", campaign.three_way_dial_prefix or ""]
    return row


@EXAMPLES
@given(campaigns=campaigns(), delimiter=DELIMITER, header=st.booleans(), newline=NEWLINE)
def test_campaigns_list_round_trip(
    campaigns: list[CampaignInfo], delimiter: str, header: bool, newline: str
) -> None:
    rows = [campaign_row(campaign) for campaign in campaigns]
    names = header_of(CAMPAIGNS_LIST, len(rows[0]))
    text = render(rows, names if header else None, delimiter, newline)
    assert parse_campaigns_list(text, delimiter=delimiter) == tuple(campaigns)
    ids = [campaign.campaign_id for campaign in campaigns]
    assert parse_campaigns_list(text, delimiter=delimiter, expected=ids) == tuple(campaigns)


@EXAMPLES
@given(rows=st.integers(1, 30), delimiter=DELIMITER, header=st.booleans())
def test_hopper_list_round_trip(rows: int, delimiter: str, header: bool) -> None:
    row = "0,0,796292,107,9999001095,1,NY,PDROP,7,-4.00,0,,S,1001095,A321,2681,1 YEARS"
    names = header_of(HOPPER_LIST)
    text = render([row.split(",")] * rows, names if header else None, delimiter, "\n")
    assert parse_hopper_list(text, "SALES1", delimiter=delimiter) == HopperCount("SALES1", rows)


STATUS_CODE = st.text("ABCDNPTX0123-", max_size=6)


@st.composite
def call_status_stats(draw: st.DrawFn) -> list[CallStatusStats]:
    stats = st.builds(
        CallStatusStats,
        code=WORD,
        calls=COUNT,
        human_answered=COUNT,
        hourly=st.lists(COUNT, min_size=24, max_size=24).map(tuple),
        statuses=st.dictionaries(STATUS_CODE, COUNT, max_size=6).map(StatusCounts),
    )
    return draw(st.lists(stats, min_size=1, max_size=4))


@EXAMPLES
@given(stats=call_status_stats(), newline=NEWLINE, drop_hours=st.booleans())
def test_call_status_stats_round_trip(
    stats: list[CallStatusStats], newline: str, drop_hours: bool
) -> None:
    lines = []
    for line in stats:
        # VICIdial prints all 24 hours in order; hours with 0 calls may also be left out.
        hours = ",".join(
            f"{hour:02d}-{count}"
            for hour, count in enumerate(line.hourly)
            if count or not drop_hours
        )
        statuses = ",".join(f"{status}-{count}" for status, count in line.statuses.items())
        lines.append(f"{line.code}|{line.calls}|{line.human_answered}|{hours}|{statuses}|")
    text = newline.join(lines) + newline
    assert parse_call_status_stats(text) == tuple(stats)
    codes = [line.code for line in stats]
    assert parse_call_status_stats(text, expected=codes) == tuple(stats)


@EXAMPLES
@given(
    info=st.builds(
        VersionInfo,
        version=WORD,
        build=WORD,
        date=NAME,
        epoch=COUNT,
        dst=st.none() | st.booleans(),
        tz=st.none() | st.floats(-12, 14, allow_nan=False),
        tz_now=st.none() | st.floats(-12, 14, allow_nan=False),
    )
)
def test_version_round_trip(info: VersionInfo) -> None:
    fields = [
        f"VERSION: {info.version}",
        f"BUILD: {info.build}",
        f"DATE: {info.date}",
        f"EPOCH: {info.epoch}",
    ]
    if info.dst is not None:
        fields.append(f"DST: {int(info.dst)}")
    if info.tz is not None:
        fields.append(f"TZ: {info.tz!r}")
    if info.tz_now is not None:
        fields.append(f"TZNOW: {info.tz_now!r}")
    assert parse_version("|".join(fields) + "|\n") == info


@EXAMPLES
@given(
    user=WORD,
    campaign=WORD,
    updated=st.booleans(),
    reset=st.booleans(),
    newline=NEWLINE,
)
def test_update_campaign_round_trip(
    user: str, campaign: str, updated: bool, reset: bool, newline: str
) -> None:
    lines = [
        f"SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - {user}|{campaign}"
        if updated
        else f"NOTICE: update_campaign NO UPDATES DEFINED: |{user}|"
    ]
    if reset:
        lines.append(f"NOTICE: update_campaign HOPPER HAS BEEN RESET - {user}|{campaign}|")
    outcome: UpdateOutcome = "updated" if updated else "hopper_reset" if reset else "no_updates"
    expected = CampaignUpdate(
        outcome=outcome,
        user=user,
        campaign_id=campaign if updated or reset else None,
        hopper_reset=reset,
        lines=tuple(lines),
    )
    assert parse_update_campaign(newline.join(lines) + newline) == expected
