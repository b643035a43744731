"""Hand-written edge cases for the VICIdial answer parsers.

The samples are copied verbatim from ``shared/vicidial/API.md`` (doc samples and "Simulator
sample" blocks), never from the simulator's code: the two are written independently so that a
wrong column in one is caught by the other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from wallboard.vicidial.errors import (
    ApiError,
    HtmlResponseError,
    IncompleteAnswer,
    LoginCause,
    LoginError,
    ParseError,
    PermissionDenied,
    VicidialError,
)
from wallboard.vicidial.models import (
    AgentState,
    AgentStatus,
    CallStatusStats,
    CampaignInfo,
    CampaignUpdate,
    HopperCount,
    InGroupStatus,
    LoggedInAgent,
    StatusCounts,
    UserGroupStatus,
    VersionInfo,
    agent_state,
)
from wallboard.vicidial.parsers import (
    REQUIRED_PERMISSIONS,
    Answer,
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

# Every parser as ``text -> model`` with the function name VICIdial knows it by.
PARSERS: dict[str, Callable[[str], object]] = {
    "version": parse_version,
    "logged_in_agents": parse_logged_in_agents,
    "agent_status": parse_agent_status,
    "user_group_status": parse_user_group_status,
    "in_group_status": parse_in_group_status,
    "campaigns_list": parse_campaigns_list,
    "hopper_list": lambda text: parse_hopper_list(text, "TESTCAMP"),
    "call_status_stats": parse_call_status_stats,
    "update_campaign": parse_update_campaign,
}
DELIMITERS = {"pipe": "|", "csv": ",", "tab": "\t"}

# --- API.md samples, verbatim ----------------------------------------------------------------

VERSION_CURRENT = (
    "VERSION: 2.14-202|BUILD: 250720-1841|DATE: 2025-09-03 10:37:13|EPOCH: 1756910233|"
    "DST: 1|TZ: -5.00|TZNOW: -4|\n"
)
VERSION_2011 = (
    "VERSION: 2.4-34|BUILD: 110424-0854|DATE: 2011-05-29 12:19:22|EPOCH: 1306685962|"
    "DST: 1|TZ: -5|TZNOW: -4|\n"
)
VERSION_AGENT_API = (
    "VERSION: 2.14-82|BUILD: 250122-1010|DATE: 2025-09-03 10:37:13|EPOCH: 1756910233\n"
)

AGENTS_DOC_PIPE = """\
user|campaign_id|session_id|status|lead_id|callerid|calls_today|full_name|user_group|user_level
6666|TESTCAMP|8600051|PAUSED|1079409||1|Admin|ADMIN|9
"""
AGENTS_DOC_CSV = """\
user,campaign_id,session_id,status,lead_id,callerid,calls_today,full_name,user_group,user_level,pause_code,sub_status
6666,TESTCAMP,8600051,INCALL,1079409,M2260919190001079409,1,Admin,ADMIN,9,LOGIN,DEAD
4545,TESTCAMP,8600052,PAUSED,0,,0,4545,MIKESGROUP,8,LOGIN,
"""
AGENTS_SIMULATOR_CSV = """\
user,campaign_id,session_id,status,lead_id,callerid,calls_today,full_name,user_group,user_level,pause_code,sub_status
1001,SALES1,8600051,INCALL,1079409,V9031437130001079409,14,Jane Doe,AGENTS,1,LOGIN,
1002,SALES1,8600052,READY,0,,11,John Roe,AGENTS,1,LOGIN,
1003,SALES1,8600053,PAUSED,0,,6,Ann Poe,AGENTS,1,BREAK,
1004,SALES1,8600054,PAUSED,1079410,,9,Bo Loe,AGENTS,1,LOGIN,DISPO
"""
SIMULATOR_AGENTS = (
    LoggedInAgent(
        "1001", "SALES1", "8600051", "INCALL", 1079409, "V9031437130001079409", 14,
        "Jane Doe", "AGENTS", 1, "LOGIN", "",
    ),
    LoggedInAgent(
        "1002", "SALES1", "8600052", "READY", 0, "", 11, "John Roe", "AGENTS", 1, "LOGIN", "",
    ),
    LoggedInAgent(
        "1003", "SALES1", "8600053", "PAUSED", 0, "", 6, "Ann Poe", "AGENTS", 1, "BREAK", "",
    ),
    LoggedInAgent(
        "1004", "SALES1", "8600054", "PAUSED", 1079410, "", 9, "Bo Loe", "AGENTS", 1, "LOGIN",
        "DISPO",
    ),
)  # fmt: skip

AGENT_STATUS_DOC = """\
status,call_id,lead_id,campaign_id,calls_today,full_name,user_group,user_level,pause_code,real_time_sub_status,phone_number,vendor_lead_code,session_id,computer_ip
INCALL,M4050908070000012345,12345,TESTCAMP,1,Test Agent,AGENTS,3,LOGIN,,7275551212,123456,8600051,192.168.1.205
"""  # noqa: E501 (verbatim sample)
AGENT_STATUS_SIMULATOR = """\
status,callerid,lead_id,campaign_id,calls_today,full_name,user_group,user_level,pause_code,real_time_sub_status,phone_number,vendor_lead_code,session_id
INCALL,M4050908070000012345,12345,TESTCAMP,1,Test Agent,AGENTS,3,LOGIN,,7275551212,123456,8600051
"""
USER_GROUP_STATUS_DOC = """\
usergroups|calls_waiting|agents_logged_in|agents_in_calls|agents_waiting|agents_paused|agents_in_dead_calls|agents_in_dispo|agents_in_dial
ADMIN AGENT|0|1|0|1|0|0|0|0
"""
IN_GROUP_STATUS_DOC = """\
ingroups,total_calls,calls_waiting,agents_logged_in,agents_in_calls,agents_waiting,agents_paused,agents_in_dispo,agents_in_dial
SALESLINE SUPPORT,31,0,75,54,0,20,1,0
"""
CALL_STATUS_STATS_DOC = """\
TESTCAMP|26|26|00-0,01-1,02-1,03-0,04-0,05-0,06-0,07-0,08-0,09-0,10-0,11-3,12-4,13-2,14-4,15-1,16-0,17-2,18-0,19-0,20-0,21-6,22-1,23-1|NP-4,TD-22|
AGENTDIRECT|2|2|00-0,01-0,02-0,03-0,04-0,05-0,06-0,07-0,08-0,09-0,10-0,11-1,12-1,13-0,14-0,15-0,16-0,17-0,18-0,19-0,20-0,21-0,22-0,23-0|TD-2|
"""
CAMPAIGNS_LIST_DOC = """\
campaign_id|campaign_name|active|user_group|dial_method|dial_level|lead_order|dial_statuses|dial_timeout|dial_prefix|manual_dial_prefix|three_way_dial_prefix
TESTCAMP|Test Campaign|Y|---ALL---|INBOUND_MAN|1|DOWN|PDROP DROP B NEW|65|9|9|9
"""
HOPPER_HEADER = (
    "hopper_order,priority,lead_id,list_id,phone_number,phone_code,state,status,count,"
    "gmt_offset,rank,alt,hopper_source,vendor_lead_code,source_id,age_days,last_call_time"
)
HOPPER_DOC_ROW = "0,0,796292,107,9999001095,1,NY,PDROP,7,-4.00,0,,S,1001095,A321,2681,1 YEARS"

HTML_PAGE = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>
"""


def rewrite(text: str, delimiter: str, *, header: bool = True) -> str:
    """A comma or pipe sample re-rendered with another delimiter, with or without header."""
    lines = text.splitlines()
    source = "," if "," in lines[0] else "|"
    rendered = [line.replace(source, delimiter) for line in lines]
    return "\n".join(rendered if header else rendered[1:]) + "\n"


# --- classify_answer -------------------------------------------------------------------------


@pytest.mark.parametrize("function", sorted(PARSERS))
@pytest.mark.parametrize("text", ["", "\n", "  \r\n\n \n", "\ufeff"])
def test_empty_answer_is_a_parse_error(function: str, text: str) -> None:
    with pytest.raises(ParseError, match="empty answer") as caught:
        PARSERS[function](text)
    assert caught.type is ParseError
    assert caught.value.function == function


@pytest.mark.parametrize("function", sorted(PARSERS))
@pytest.mark.parametrize(
    "page",
    [
        HTML_PAGE,
        "\n\n<HTML><BODY>Service Unavailable</BODY></HTML>",
        "<head><meta charset=utf-8></head>",
        "<body>Fatal error</body>",
        "\ufeff<!doctype html><title>x</title>",
    ],
)
def test_html_page_is_an_html_response_error(function: str, page: str) -> None:
    with pytest.raises(HtmlResponseError) as caught:
        PARSERS[function](page)
    assert caught.value.kind == "html"
    assert caught.value.function == function


def test_html_error_names_the_page_title() -> None:
    with pytest.raises(HtmlResponseError, match="502 Bad Gateway"):
        classify_answer("logged_in_agents", HTML_PAGE)


PASSWORD = "Xq7pLm2Wz9"


@pytest.mark.parametrize("function", sorted(PARSERS))
def test_login_error_never_carries_the_echoed_password(function: str) -> None:
    text = f"ERROR: Login incorrect, please try again: |wallboard|{PASSWORD}|BAD|\n"
    with pytest.raises(LoginError) as caught:
        PARSERS[function](text)
    error = caught.value
    assert str(error).startswith("login incorrect for user 'wallboard' (")
    assert PASSWORD not in str(error)
    assert PASSWORD not in repr(error)
    assert all(PASSWORD not in str(arg) for arg in error.args)
    assert error.function == function
    assert error.kind == "login"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"ERROR: Login incorrect, please try again: |wallboard|{PASSWORD}|2FA|",
            "two-factor authentication is required",
        ),
        (
            "ERROR: Too many login attempts, try again in 15 minutes: |wallboard|LOCK|",
            "too many failed logins for user 'wallboard'",
        ),
        (
            "ERROR: Your IP Address is not allowed: 10.9.8.7: ||IPBLOCK|",
            r"address \(10.9.8.7\): check the user group's API IP list",
        ),
        (
            f"ERROR: Invalid Username/Password: |wallboard|{PASSWORD}|0|0|bad|",
            "login incorrect for user 'wallboard'",
        ),
        # Cut mid-password, or without the leading "|": still a login error, still no password.
        (f"ERROR: Login incorrect, please try again: |wallboard|{PASSWORD[:5]}", "login incorrect"),
        (
            f"ERROR: Login incorrect, please try again: wallboard|{PASSWORD}|BAD|",
            r"login incorrect for user \(not shown\)",
        ),
    ],
)
def test_login_error_shapes(text: str, expected: str) -> None:
    with pytest.raises(LoginError, match=expected) as caught:
        classify_answer("campaigns_list", text)
    assert PASSWORD not in str(caught.value)
    assert PASSWORD[:5] not in str(caught.value)


@pytest.mark.parametrize(
    ("function", "text", "fix"),
    [
        (
            "call_status_stats",
            "ERROR: call_status_stats USER DOES NOT HAVE PERMISSION TO VIEW STATS: |6666|0|",
            "call_status_stats needs user level 9 and View Reports",
        ),
        (
            # call_dispo_report's error text is mislabelled in VICIdial; the fix follows the
            # function we asked for.
            "call_dispo_report",
            "ERROR: call_status_stats USER DOES NOT HAVE PERMISSION TO VIEW STATS: |6666|0|",
            "call_dispo_report needs user level 9 and View Reports",
        ),
        (
            "update_campaign",
            "ERROR: update_campaign USER DOES NOT HAVE PERMISSION TO UPDATE CAMPAIGNS: |6666|0",
            "update_campaign needs user level 8, Modify Campaigns and Agent API Access",
        ),
        (
            "logged_in_agents",
            "ERROR: logged_in_agents USER DOES NOT HAVE PERMISSION TO GET AGENT INFO: |6666|0|",
            "logged_in_agents needs user level 7, View Reports and Agent API Access",
        ),
        (
            "hopper_list",
            "ERROR: hopper_list USER DOES NOT HAVE PERMISSION TO GET CAMPAIGN INFO: |6666|0|",
            "hopper_list needs user level 8, View Reports and Agent API Access",
        ),
        (
            "call_status_stats",
            "ERROR: auth USER DOES NOT HAVE PERMISSION TO USE THIS FUNCTION: "
            "|6666|call_status_stats|",
            "add call_status_stats to the user's API Allowed Functions",
        ),
    ],
)
def test_permission_errors_name_the_setting_to_fix(function: str, text: str, fix: str) -> None:
    with pytest.raises(PermissionDenied) as caught:
        classify_answer(function, text + "\n")
    assert fix in str(caught.value)
    assert caught.value.kind == "permission"


def test_required_permissions_cover_every_parsed_function() -> None:
    for function in PARSERS:
        assert REQUIRED_PERMISSIONS[function].startswith(function)
    with pytest.raises(TypeError):
        REQUIRED_PERMISSIONS["version"] = "x"  # type: ignore[index]


def test_unknown_function_is_an_api_error_naming_it() -> None:
    with pytest.raises(ApiError) as caught:
        classify_answer("campaign_stats", "ERROR: NO FUNCTION SPECIFIED\n")
    assert caught.type is ApiError
    assert str(caught.value) == "this VICIdial does not know function campaign_stats"


def test_other_errors_are_api_errors_with_the_first_line() -> None:
    with pytest.raises(ApiError) as caught:
        parse_agent_status("ERROR: agent_status AGENT NOT LOGGED IN: 6666|1234\n")
    assert caught.type is ApiError
    assert str(caught.value) == "ERROR: agent_status AGENT NOT LOGGED IN: 6666|1234"


def test_long_error_lines_are_truncated() -> None:
    with pytest.raises(ApiError) as caught:
        classify_answer("campaigns_list", "ERROR: " + "X" * 5000 + "\n")
    assert len(str(caught.value)) <= 210


@pytest.mark.parametrize("function", sorted(PARSERS))
@pytest.mark.parametrize(
    "text",
    [
        "ERROR: hopper_list THERE ARE NO LEADS IN THE HOPPER FOR THIS CAMPAIGN: 6666|X",
        "ERROR: logged_in_agents NO LOGGED IN AGENTS: 6666|",
        "ERROR: campaigns_list USER DOES NOT HAVE PERMISSION TO GET CAMPAIGN INFO: |6666|0|",
        "NOTICE: update_campaign NO UPDATES DEFINED: |6666|",
        "SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - 6666|X",
        VERSION_CURRENT.rstrip("\n"),
        AGENTS_DOC_PIPE.rstrip("\n"),
        "ERROR: " + "X" * 5000,
    ],
)
def test_an_answer_without_its_final_newline_is_cut_off(function: str, text: str) -> None:
    """VICIdial ends every line with a newline: without it even a "nothing here" is untrusted."""
    with pytest.raises(ParseError, match="answer cut off: no final newline") as caught:
        PARSERS[function](text)
    assert caught.type is ParseError
    assert caught.value.function == function
    assert caught.value.line == text.count("\n") + 1
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (f"ERROR: Login incorrect, please try again: |wallboard|{PASSWORD}|BAD|\n", "bad"),
        (f"ERROR: Login incorrect, please try again: |wallboard|{PASSWORD}|2FA|\n", "2fa"),
        ("ERROR: Too many login attempts, try again in 15 minutes: |wallboard|LOCK|\n", "lock"),
        ("ERROR: Your IP Address is not allowed: 10.9.8.7: ||IPBLOCK|\n", "ip"),
    ],
)
def test_login_errors_keep_their_cause_when_cut_anywhere_after_the_reason(
    text: str, cause: str
) -> None:
    """A cut login refusal is still a refusal: the breaker must see it, not a parse error."""
    causes = {
        "bad": LoginCause.BAD_CREDENTIALS,
        "2fa": LoginCause.TWO_FACTOR,
        "lock": LoginCause.LOCKED,
        "ip": LoginCause.IP_BLOCKED,
    }
    reason_end = max(
        text.find(marker) + len(marker) for marker in ("incorrect", "attempts", "allowed")
    )
    for cut in range(reason_end, len(text) + 1):
        with pytest.raises(LoginError) as caught:
            classify_answer("campaigns_list", text[:cut])
        # 2FA is only trusted from the whole "|user|pass|2FA|"; a cut one reads as BAD.
        expected = causes[cause]
        if cause == "2fa" and not text[:cut].endswith(("|2FA|", "|2FA|\n")):
            expected = LoginCause.BAD_CREDENTIALS
        assert caught.value.cause is expected, text[:cut]
        assert PASSWORD not in str(caught.value)


def test_invalid_source_explains_the_rule() -> None:
    text = "ERROR: Invalid Source - a\nERROR: Invalid Source: |a|\n"
    with pytest.raises(ApiError, match="at least 2 letters or digits"):
        parse_campaigns_list(text)


def test_notice_is_an_error_except_for_update_campaign() -> None:
    notice = "NOTICE: update_campaign NO UPDATES DEFINED: |6666|\n"
    with pytest.raises(ApiError):
        classify_answer("campaigns_list", notice)
    assert classify_answer("update_campaign", notice) is Answer.DATA


def test_no_data_markers_belong_to_their_function() -> None:
    no_agents = "ERROR: logged_in_agents NO LOGGED IN AGENTS: 6666|\n"
    assert classify_answer("logged_in_agents", no_agents) is Answer.NO_DATA
    with pytest.raises(ApiError):
        classify_answer("agent_status", no_agents)
    no_leads = "ERROR: hopper_list THERE ARE NO LEADS IN THE HOPPER FOR THIS CAMPAIGN: 6666|X\n"
    assert classify_answer("hopper_list", no_leads) is Answer.NO_DATA


def test_data_is_data() -> None:
    assert classify_answer("logged_in_agents", AGENTS_DOC_PIPE) is Answer.DATA


# --- version ---------------------------------------------------------------------------------


def test_version_current_build() -> None:
    assert parse_version(VERSION_CURRENT) == VersionInfo(
        version="2.14-202",
        build="250720-1841",
        date="2025-09-03 10:37:13",
        epoch=1756910233,
        dst=True,
        tz=-5.0,
        tz_now=-4.0,
    )


def test_version_2011_doc_sample() -> None:
    info = parse_version(VERSION_2011)
    assert (info.version, info.build, info.epoch, info.dst, info.tz, info.tz_now) == (
        "2.4-34",
        "110424-0854",
        1306685962,
        True,
        -5.0,
        -4.0,
    )


def test_version_agent_api_has_no_time_zone() -> None:
    info = parse_version(VERSION_AGENT_API)
    assert info.version == "2.14-82"
    assert info.date == "2025-09-03 10:37:13"
    assert (info.dst, info.tz, info.tz_now) == (None, None, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("VERSION: 2.14|BUILD: 1|DATE: d|", "missing EPOCH"),
        ("VERSION: 2.14|BUILD: 1|DATE: d|EPOCH: soon|", "EPOCH is not a whole number"),
        ("VERSION: 2.14|BUILD: 1|DATE: d|EPOCH: 1|DST: yes|", "DST is 'yes'"),
        ("VERSION: 2.14|BUILD: 1|DATE: d|EPOCH: 1|TZ: east|", "TZ is not a number"),
        ("VERSION: 2.14|BUILD: 1|garbage|DATE: d|EPOCH: 1|", "not 'KEY: value'"),
        ("\n\nhello world\n", "expected 'VERSION: ...'"),
    ],
)
def test_version_garbage(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_version(text if text.endswith("\n") else text + "\n")
    assert caught.value.line is not None


# --- logged_in_agents ------------------------------------------------------------------------


def test_logged_in_agents_doc_sample_without_sub_status() -> None:
    assert parse_logged_in_agents(AGENTS_DOC_PIPE) == (
        LoggedInAgent("6666", "TESTCAMP", "8600051", "PAUSED", 1079409, "", 1, "Admin", "ADMIN", 9),
    )


def test_logged_in_agents_doc_sample_with_sub_status() -> None:
    first, second = parse_logged_in_agents(AGENTS_DOC_CSV)
    assert first.callerid == "M2260919190001079409"
    assert (first.pause_code, first.sub_status) == ("LOGIN", "DEAD")
    assert second == LoggedInAgent(
        "4545", "TESTCAMP", "8600052", "PAUSED", 0, "", 0, "4545", "MIKESGROUP", 8, "LOGIN", ""
    )


def test_logged_in_agents_simulator_sample() -> None:
    agents = parse_logged_in_agents(AGENTS_SIMULATOR_CSV)
    assert agents == SIMULATOR_AGENTS
    assert [agent_state(agent) for agent in agents] == ["incall", "waiting", "paused", "dispo"]


@pytest.mark.parametrize("stage", sorted(DELIMITERS))
@pytest.mark.parametrize("header", [True, False])
def test_logged_in_agents_every_stage_with_and_without_header(stage: str, header: bool) -> None:
    delimiter = DELIMITERS[stage]
    text = rewrite(AGENTS_SIMULATOR_CSV, delimiter, header=header)
    # With a header the delimiter is read from it; without, the caller says what it asked for.
    given = None if header else delimiter
    assert parse_logged_in_agents(text, delimiter=given) == SIMULATOR_AGENTS


def test_header_delimiter_wins_over_the_argument() -> None:
    assert parse_logged_in_agents(AGENTS_SIMULATOR_CSV, delimiter="|") == SIMULATOR_AGENTS


def test_without_header_the_default_delimiter_is_pipe() -> None:
    text = rewrite(AGENTS_SIMULATOR_CSV, "|", header=False)
    assert parse_logged_in_agents(text) == SIMULATOR_AGENTS


def test_tab_rows_keep_their_empty_last_column() -> None:
    text = rewrite(AGENTS_SIMULATOR_CSV, "\t", header=False)
    assert text.splitlines()[0].endswith("LOGIN\t")
    agents = parse_logged_in_agents(text, delimiter="\t")
    assert agents[0].sub_status == ""


def test_crlf_bom_blank_lines_and_surrounding_whitespace() -> None:
    body = AGENTS_SIMULATOR_CSV.replace("\n", "\r\n")
    text = "\ufeff\r\n  \r\n" + body.replace("1002,", "  1002,") + "\r\n\r\n   \n"
    assert parse_logged_in_agents(text) == SIMULATOR_AGENTS


def test_blank_lines_in_the_middle_are_skipped_and_line_numbers_kept() -> None:
    lines = AGENTS_SIMULATOR_CSV.splitlines()
    text = "\n".join([lines[0], lines[1], "", lines[2], "1005,SALES1,860005"]) + "\n"
    with pytest.raises(ParseError) as caught:
        parse_logged_in_agents(text)
    assert caught.value.line == 5


def test_non_ascii_names() -> None:
    text = (
        "1001|SALES1|8600051|READY|0||3|José Müller-Ñúñez|AGENTS|1|LOGIN|\n"
        "1002|SALES1|8600052|READY|0||4|山田 太郎|AGENTS|1|LOGIN|\n"
        "1003|SALES1|8600053|READY|0||5|Ольга Петрова…|AGENTS|1|LOGIN|\n"
    )
    names = [agent.full_name for agent in parse_logged_in_agents(text)]
    assert names == ["José Müller-Ñúñez", "山田 太郎", "Ольга Петрова…"]


def test_no_logged_in_agents_is_empty() -> None:
    assert parse_logged_in_agents("ERROR: logged_in_agents NO LOGGED IN AGENTS: 6666|\n") == ()


def test_a_header_without_rows_is_a_cut_answer() -> None:
    """With no agents VICIdial prints its error, never a bare header: this one lost its rows."""
    header_only = AGENTS_SIMULATOR_CSV.splitlines()[0] + "\n"
    with pytest.raises(ParseError, match="no data line under it") as caught:
        parse_logged_in_agents(header_only)
    assert caught.value.line == 1


def test_truncated_row_names_its_line() -> None:
    text = AGENTS_SIMULATOR_CSV + "1005,SALES1,8600055,READY,0"
    with pytest.raises(ParseError) as caught:
        parse_logged_in_agents(text)
    assert caught.type is ParseError
    assert caught.value.line == 6
    assert str(caught.value) == "logged_in_agents: answer cut off: no final newline (line 6)"


def test_short_first_row_without_header_names_the_layouts() -> None:
    with pytest.raises(ParseError) as caught:
        parse_logged_in_agents("1005,SALES1,8600055,READY,0\n", delimiter=",")
    assert str(caught.value) == (
        "logged_in_agents: row has 5 columns, expected 10, or 12 with show_sub_status (line 1)"
    )


def test_a_row_cut_to_the_short_layout_is_not_an_agent_without_sub_status() -> None:
    """The bug this guards: a 12-column row cut after user_level parsed as the 10-column form."""
    cut = AGENTS_SIMULATOR_CSV.splitlines()[2].rsplit(",", 2)[0]
    assert cut.count(",") == 9
    text = AGENTS_SIMULATOR_CSV + cut + "\n"
    with pytest.raises(ParseError) as caught:
        parse_logged_in_agents(text)
    assert caught.value.line == 6
    assert "row has 10 columns, expected 12 as on the header" in str(caught.value)
    headerless = rewrite(AGENTS_SIMULATOR_CSV, ",", header=False) + cut + "\n"
    with pytest.raises(ParseError, match="expected 12 as on line 1") as caught:
        parse_logged_in_agents(headerless, delimiter=",")
    assert caught.value.line == 5


def test_mixed_widths_without_header_are_an_error() -> None:
    short = "1001|SALES1|8600051|READY|0||3|Jane|AGENTS|1\n"
    full = "1002|SALES1|8600052|READY|0||4|John|AGENTS|1|LOGIN|\n"
    assert len(parse_logged_in_agents(short + short)) == 2
    assert len(parse_logged_in_agents(full + full)) == 2
    with pytest.raises(ParseError, match="row has 12 columns, expected 10 as on line 1"):
        parse_logged_in_agents(short + full)


@pytest.mark.parametrize("width", [9, 11])
def test_a_header_of_no_known_width_is_an_error(width: str) -> None:
    names = AGENTS_DOC_CSV.splitlines()[0].split(",")[: int(width)]
    row = ",".join(["1001", "S", "1", "READY", "0", "", "3", "J", "G", "1", "L"][: int(width)])
    with pytest.raises(ParseError, match=f"header has {width} columns, expected 10, or 12"):
        parse_logged_in_agents(",".join(names) + "\n" + row + "\n")


def test_eleven_columns_is_neither_layout() -> None:
    text = "1001|SALES1|8600051|READY|0||3|Jane|AGENTS|1|LOGIN\n"
    with pytest.raises(ParseError, match="row has 11 columns"):
        parse_logged_in_agents(text)


def test_extra_trailing_columns_are_ignored() -> None:
    text = "1001|SALES1|8600051|READY|0||3|Jane|AGENTS|1|LOGIN||future|more\n"
    (agent,) = parse_logged_in_agents(text)
    assert (agent.pause_code, agent.sub_status, agent.user_level) == ("LOGIN", "", 1)


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("1001|SALES1|8600051|READY|x||3|Jane|AGENTS|1", "lead_id"),
        ("1001|SALES1|8600051|READY|0||many|Jane|AGENTS|1", "calls_today"),
        ("1001|SALES1|8600051|READY|0||3|Jane|AGENTS|", "user_level"),
    ],
)
def test_non_numeric_counts_name_the_column(row: str, column: str) -> None:
    with pytest.raises(ParseError, match=f"{column} is not a whole number") as caught:
        parse_logged_in_agents("\n" + row + "\n")
    assert caught.value.line == 2


def test_empty_user_is_an_error() -> None:
    with pytest.raises(ParseError, match="user is empty"):
        parse_logged_in_agents("|SALES1|8600051|READY|0||3|Jane|AGENTS|1\n")


def test_header_with_other_column_names_is_an_error() -> None:
    text = AGENTS_DOC_PIPE.replace("|status|", "|state|")
    with pytest.raises(ParseError, match="header column 4 is 'state', expected 'status'") as err:
        parse_logged_in_agents(text)
    assert err.value.line == 1


def test_parsed_agents_are_real_frozen_instances() -> None:
    agents = parse_logged_in_agents(AGENTS_SIMULATOR_CSV)
    for parsed, expected in zip(agents, SIMULATOR_AGENTS, strict=True):
        assert type(parsed) is LoggedInAgent
        assert parsed == expected
        assert hash(parsed) == hash(expected)
        assert repr(parsed) == repr(expected)
        assert dataclasses.asdict(parsed) == dataclasses.asdict(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        agents[0].status = "READY"  # type: ignore[misc]


# --- agent_state -----------------------------------------------------------------------------


def agent(status: str, lead_id: int = 0, sub_status: str | None = None) -> LoggedInAgent:
    return LoggedInAgent("1", "C", "8600051", status, lead_id, "", 0, "N", "G", 1, "", sub_status)


@pytest.mark.parametrize(
    ("status", "lead_id", "sub_status", "state"),
    [
        ("PAUSED", 5, None, AgentState.DISPO),  # rule 1: paused with a lead
        ("READY", 5, "", AgentState.DISPO),
        ("PAUSED", 5, "DEAD", AgentState.DISPO),  # rule 1 beats everything after it
        ("INCALL", 5, "DISPO", AgentState.DISPO),  # rule 2
        ("INCALL", 5, "DEAD", AgentState.DEAD),  # rule 3
        ("PAUSED", 0, "DEAD", AgentState.PAUSED),  # DEAD only counts for INCALL
        ("INCALL", 5, "DIAL", AgentState.DIAL),  # rule 4
        ("PAUSED", 0, "DIAL", AgentState.DIAL),
        ("INCALL", 5, "", AgentState.INCALL),  # rule 5
        ("QUEUE", 5, None, AgentState.INCALL),
        ("MQUEUE", 0, None, AgentState.INCALL),
        ("PAUSED", 0, "PARK", AgentState.INCALL),
        ("INCALL", 5, "3-WAY", AgentState.INCALL),
        ("READY", 0, "", AgentState.WAITING),  # rule 6
        ("CLOSER", 0, None, AgentState.WAITING),
        ("READY", 0, "RING", AgentState.WAITING),
        ("PAUSED", 0, "", AgentState.PAUSED),  # rule 7
        ("PAUSED", 0, "PREVIEW", AgentState.PAUSED),
        ("SOMETHINGNEW", 0, None, AgentState.PAUSED),  # unknown: neither available nor talking
    ],
)
def test_agent_state_rules(
    status: str, lead_id: int, sub_status: str | None, state: AgentState
) -> None:
    assert agent_state(agent(status, lead_id, sub_status)) is state


def test_agent_states_are_the_contract_strings() -> None:
    assert sorted(AgentState) == sorted(["waiting", "incall", "paused", "dispo", "dead", "dial"])


# --- agent_status ----------------------------------------------------------------------------

SIMULATOR_AGENT_STATUS = AgentStatus(
    status="INCALL",
    callerid="M4050908070000012345",
    lead_id=12345,
    campaign_id="TESTCAMP",
    calls_today=1,
    full_name="Test Agent",
    user_group="AGENTS",
    user_level=3,
    pause_code="LOGIN",
    real_time_sub_status="",
    phone_number="7275551212",
    vendor_lead_code="123456",
    session_id="8600051",
)


def test_agent_status_doc_sample_with_call_id_header_and_ip() -> None:
    assert parse_agent_status(AGENT_STATUS_DOC) == dataclasses.replace(
        SIMULATOR_AGENT_STATUS, computer_ip="192.168.1.205"
    )


def test_agent_status_simulator_sample() -> None:
    assert parse_agent_status(AGENT_STATUS_SIMULATOR) == SIMULATOR_AGENT_STATUS


@pytest.mark.parametrize("stage", sorted(DELIMITERS))
@pytest.mark.parametrize("header", [True, False])
def test_agent_status_every_stage(stage: str, header: bool) -> None:
    delimiter = DELIMITERS[stage]
    text = rewrite(AGENT_STATUS_SIMULATOR, delimiter, header=header)
    assert parse_agent_status(text, delimiter=delimiter) == SIMULATOR_AGENT_STATUS


def test_agent_status_short_legacy_header() -> None:
    header = "status|call_id|lead_id|campaign_id|calls_today|full_name|user_group|user_level"
    data = AGENT_STATUS_SIMULATOR.splitlines()[1].replace(",", "|")
    assert parse_agent_status(f"{header}\n{data}\n") == SIMULATOR_AGENT_STATUS


def test_agent_status_needs_13_columns_and_one_line() -> None:
    data = AGENT_STATUS_SIMULATOR.splitlines()[1]
    with pytest.raises(ParseError, match="row has 12 columns, expected at least 13") as caught:
        parse_agent_status(data.rsplit(",", 1)[0] + "\n", delimiter=",")
    assert caught.value.line == 1
    with pytest.raises(ParseError, match="expected one data line, got 2") as caught:
        parse_agent_status(AGENT_STATUS_SIMULATOR + data + "\n")
    assert caught.value.line == 3
    with pytest.raises(ParseError, match="no data line"):
        parse_agent_status(AGENT_STATUS_SIMULATOR.splitlines()[0] + "\n")
    with pytest.raises(ParseError, match="answer cut off"):
        parse_agent_status(AGENT_STATUS_SIMULATOR.splitlines()[0])


def test_agent_status_row_must_match_its_header() -> None:
    header, data = AGENT_STATUS_SIMULATOR.splitlines()
    with pytest.raises(ParseError, match="row has 14 columns, expected 13 as on the header"):
        parse_agent_status(f"{header}\n{data},10.0.0.1\n")
    # A header naming computer_ip over a row without one: VICIdial found no IP.
    assert parse_agent_status(f"{header},computer_ip\n{data}\n") == SIMULATOR_AGENT_STATUS
    legacy = ",".join(header.split(",")[:8])
    with pytest.raises(ParseError, match="expected 13 or 14 as on the header"):
        parse_agent_status(f"{legacy}\n{data.rsplit(',', 1)[0]}\n")
    with pytest.raises(ParseError, match="header has 10 columns, expected at least 13"):
        parse_agent_status(",".join(header.split(",")[:10]) + f"\n{data}\n")


# --- user_group_status / in_group_status -----------------------------------------------------


def test_user_group_status_doc_sample() -> None:
    assert parse_user_group_status(USER_GROUP_STATUS_DOC) == UserGroupStatus(
        ("ADMIN", "AGENT"), 0, 1, 0, 1, 0, 0, 0, 0
    )


def test_in_group_status_doc_sample() -> None:
    status = parse_in_group_status(IN_GROUP_STATUS_DOC)
    assert status == InGroupStatus(("SALESLINE", "SUPPORT"), 31, 0, 75, 54, 0, 20, 1, 0)
    assert status.total_calls == 31


@pytest.mark.parametrize("stage", sorted(DELIMITERS))
@pytest.mark.parametrize("header", [True, False])
def test_group_status_every_stage(stage: str, header: bool) -> None:
    delimiter = DELIMITERS[stage]
    users = rewrite(USER_GROUP_STATUS_DOC, delimiter, header=header)
    groups = rewrite(IN_GROUP_STATUS_DOC, delimiter, header=header)
    assert parse_user_group_status(users, delimiter=delimiter).agents_logged_in == 1
    assert parse_in_group_status(groups, delimiter=delimiter).agents_in_calls == 54


def test_group_status_errors() -> None:
    with pytest.raises(ParseError, match="agents_paused is not a whole number") as caught:
        parse_in_group_status("SALESLINE,31,0,75,54,0,lots,1,0\n", delimiter=",")
    assert caught.value.line == 1
    with pytest.raises(ParseError, match="row has 8 columns, expected at least 9"):
        parse_user_group_status("ADMIN|0|1|0|1|0|0|0\n")
    with pytest.raises(ApiError, match="INVALID SEARCH PARAMETERS"):
        parse_user_group_status("ERROR: user_group_status INVALID SEARCH PARAMETERS: 6666|\n")


# --- campaigns_list --------------------------------------------------------------------------

TESTCAMP = CampaignInfo(
    campaign_id="TESTCAMP",
    campaign_name="Test Campaign",
    active=True,
    user_group="---ALL---",
    dial_method="INBOUND_MAN",
    dial_level=1.0,
    lead_order="DOWN",
    dial_statuses=("PDROP", "DROP", "B", "NEW"),
    dial_timeout=65,
    dial_prefix="9",
    manual_dial_prefix="9",
    three_way_dial_prefix="9",
)


def test_campaigns_list_doc_sample() -> None:
    assert parse_campaigns_list(CAMPAIGNS_LIST_DOC) == (TESTCAMP,)


@pytest.mark.parametrize("stage", sorted(DELIMITERS))
@pytest.mark.parametrize("header", [True, False])
def test_campaigns_list_every_stage(stage: str, header: bool) -> None:
    delimiter = DELIMITERS[stage]
    text = rewrite(CAMPAIGNS_LIST_DOC, delimiter, header=header)
    assert parse_campaigns_list(text, delimiter=delimiter) == (TESTCAMP,)


@pytest.mark.parametrize("header", [True, False])
def test_campaigns_list_legacy_eight_columns(header: bool) -> None:
    lines = [
        "campaign_id|campaign_name|active|user_group|dial_method|dial_level|lead_order|dial_statuses",
        "SALES1|Sales One|N|AGENTS|ADAPT_TAPERED|2.75|RANDOM| NEW NA -",
    ]
    text = "\n".join(lines if header else lines[1:]) + "\n"
    (campaign,) = parse_campaigns_list(text)
    assert campaign == CampaignInfo(
        "SALES1", "Sales One", False, "AGENTS", "ADAPT_TAPERED", 2.75, "RANDOM", ("NEW", "NA")
    )
    assert campaign.three_way_dial_prefix is None


def test_campaigns_list_empty_timeout_and_extra_columns() -> None:
    row = "SALES1|Sales|Y|AGENTS|RATIO|1.5|DOWN|NEW||||X|extra\n"
    (campaign,) = parse_campaigns_list(row)
    assert (campaign.dial_timeout, campaign.dial_prefix, campaign.three_way_dial_prefix) == (
        None,
        "",
        "X",
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("SALES1|Sales|Y|AGENTS|RATIO|1.5|DOWN|NEW|60|9", "row has 10 columns, expected 12 as"),
        ("SALES1|Sales|Y|AGENTS|RATIO|1.5|DOWN|NEW", "row has 8 columns, expected 12 as on the"),
        ("SALES1|Sales|y|AGENTS|RATIO|1.5|DOWN|NEW||||", "active is 'y', expected 'Y' or 'N'"),
        ("SALES1|Sales|Y|AGENTS|RATIO|fast|DOWN|NEW||||", "dial_level is not a number"),
        ("SALES1|Sales|Y|AGENTS|RATIO|nan|DOWN|NEW||||", "dial_level is not a number"),
        ("SALES1|Sales|Y|AGENTS|RATIO|1|DOWN|NEW|soon|9|9|9", "dial_timeout is not a whole number"),
        ("|Sales|Y|AGENTS|RATIO|1|DOWN|NEW||||", "campaign_id is empty"),
    ],
)
def test_campaigns_list_errors(row: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_campaigns_list(CAMPAIGNS_LIST_DOC + row + "\n")
    assert caught.value.line == 3


def test_campaigns_list_legacy_rows_are_checked_too() -> None:
    legacy = "SALES1|Sales|Y|AGENTS|RATIO|1|DOWN|NEW\n"
    with pytest.raises(ParseError, match="active is 'y'") as caught:
        parse_campaigns_list(legacy + legacy.replace("|Y|", "|y|"))
    assert caught.value.line == 2


def test_campaigns_list_a_row_cut_to_the_legacy_width_is_an_error() -> None:
    """A 12-column row cut after dial_statuses must not pass for a pre-240718 row."""
    cut = "SALES1|Sales One|N|AGENTS|RATIO|2|DOWN|NEW\n"
    with pytest.raises(ParseError, match="row has 8 columns, expected 12") as caught:
        parse_campaigns_list(CAMPAIGNS_LIST_DOC + cut)
    assert caught.value.line == 3


def test_campaigns_list_expected_campaigns_must_all_be_listed() -> None:
    text = CAMPAIGNS_LIST_DOC
    assert parse_campaigns_list(text, expected=["TESTCAMP"]) == (TESTCAMP,)
    assert parse_campaigns_list(text, expected=[]) == (TESTCAMP,)
    with pytest.raises(IncompleteAnswer) as caught:
        parse_campaigns_list(text, expected=["SALES3", "TESTCAMP", "SALES9", "SALES3"])
    assert caught.value.missing == ("SALES3", "SALES9")
    assert caught.value.kind == "parse"
    assert isinstance(caught.value, ParseError)
    assert str(caught.value) == (
        "campaigns_list: SALES3, SALES9 missing from the answer "
        "(cut off, or not viewable by the API user)"
    )


def test_campaigns_list_header_without_rows_is_a_cut_answer() -> None:
    with pytest.raises(ParseError, match="no data line under it"):
        parse_campaigns_list(CAMPAIGNS_LIST_DOC.splitlines()[0] + "\n")


def test_campaigns_list_no_viewable_campaigns_is_an_api_error() -> None:
    with pytest.raises(ApiError, match="NO VIEWABLE CAMPAIGNS"):
        parse_campaigns_list("ERROR: campaigns_list THIS USER HAS NO VIEWABLE CAMPAIGNS: 6666|\n")


# --- hopper_list -----------------------------------------------------------------------------


def test_hopper_list_doc_sample() -> None:
    text = f"{HOPPER_HEADER}\n{HOPPER_DOC_ROW}\n"
    assert parse_hopper_list(text, "TESTCAMP") == HopperCount("TESTCAMP", 1)


@pytest.mark.parametrize("stage", sorted(DELIMITERS))
@pytest.mark.parametrize("header", [True, False])
def test_hopper_list_every_stage(stage: str, header: bool) -> None:
    delimiter = DELIMITERS[stage]
    text = rewrite("\n".join([HOPPER_HEADER] + [HOPPER_DOC_ROW] * 3), delimiter, header=header)
    assert parse_hopper_list(text, "X", delimiter=delimiter).leads == 3


def test_hopper_list_empty() -> None:
    no_leads = (
        "ERROR: hopper_list THERE ARE NO LEADS IN THE HOPPER FOR THIS CAMPAIGN: 6666|SALES1\n"
    )
    assert parse_hopper_list(no_leads, "SALES1") == HopperCount("SALES1", 0)


def test_hopper_list_header_without_rows_is_a_cut_answer() -> None:
    """An empty hopper is VICIdial's NO LEADS error, never a header alone."""
    with pytest.raises(ParseError, match="no data line under it") as caught:
        parse_hopper_list(HOPPER_HEADER + "\r\n\r\n", "SALES1")
    assert caught.value.line == 1


def test_hopper_list_errors() -> None:
    with pytest.raises(ApiError, match="THIS CAMPAIGN DOES NOT EXIST"):
        parse_hopper_list("ERROR: hopper_list THIS CAMPAIGN DOES NOT EXIST: |6666|X\n", "X")
    bad_lead = HOPPER_DOC_ROW.replace(",796292,", ",lead,")
    with pytest.raises(ParseError, match="lead_id is not a whole number") as caught:
        parse_hopper_list(f"{HOPPER_HEADER}\n{HOPPER_DOC_ROW}\n{bad_lead}\n", "X")
    assert caught.value.line == 3
    with pytest.raises(ParseError, match="row has 2 columns, expected 17 as on line 1") as caught:
        parse_hopper_list(f"{HOPPER_DOC_ROW}\n0,0\n", "X", delimiter=",")
    assert caught.value.line == 2
    with pytest.raises(ParseError, match="row has 3 columns, expected 17 as on the header"):
        parse_hopper_list(f"{HOPPER_HEADER}\n{HOPPER_DOC_ROW}\n0,0,1\n", "X")


# --- call_status_stats -----------------------------------------------------------------------


def test_call_status_stats_doc_sample() -> None:
    testcamp, agentdirect = parse_call_status_stats(CALL_STATUS_STATS_DOC)
    assert (testcamp.code, testcamp.calls, testcamp.human_answered) == ("TESTCAMP", 26, 26)
    assert testcamp.hourly == (
        0,
        1,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        3,
        4,
        2,
        4,
        1,
        0,
        2,
        0,
        0,
        0,
        6,
        1,
        1,
    )
    assert sum(testcamp.hourly) == 26
    assert testcamp.statuses == {"NP": 4, "TD": 22}
    assert (testcamp.drops, testcamp.drop_ratio) == (0, 0.0)
    assert agentdirect == CallStatusStats(
        "AGENTDIRECT", 2, 2, (0,) * 11 + (1, 1) + (0,) * 11, StatusCounts({"TD": 2})
    )


def test_call_status_stats_campaign_without_calls() -> None:
    hours = ",".join(f"{hour:02d}-0" for hour in range(24))
    (stats,) = parse_call_status_stats(f"SALES1|0|0|{hours}||\n")
    assert stats == CallStatusStats("SALES1", 0, 0, (0,) * 24, StatusCounts())
    assert stats.drop_ratio == 0.0


def test_call_status_stats_drops_and_ratio() -> None:
    (stats,) = parse_call_status_stats("SALES1|100|40|09-60,10-40|SALE-10,DROP-2,A-50,XDROP-1|\n")
    assert stats.drops == 3
    assert stats.drop_ratio == pytest.approx(3 / 40)
    assert stats.hourly[9] == 60
    assert stats.hourly[10] == 40


def test_call_status_stats_reads_hours_by_label() -> None:
    (stats,) = parse_call_status_stats("X|6|0|23-5,00-1|A-6|\r\n\r\n")
    assert stats.hourly[0] == 1
    assert stats.hourly[23] == 5
    assert sum(stats.hourly) == 6


def test_call_status_stats_ignores_the_delimiter_and_crlf_bom() -> None:
    text = "\ufeff" + CALL_STATUS_STATS_DOC.replace("\n", "\r\n")
    assert parse_call_status_stats(text, delimiter=",") == parse_call_status_stats(
        CALL_STATUS_STATS_DOC
    )


def test_call_status_stats_is_hashable_and_immutable() -> None:
    first = parse_call_status_stats(CALL_STATUS_STATS_DOC)
    second = parse_call_status_stats(CALL_STATUS_STATS_DOC)
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(TypeError):
        first[0].statuses["DROP"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("SALES1|10|2|00-10", "line has 4 fields"),
        ("SALES1|10|2|00-10|A-10", "line has 5 fields"),
        ("SALES1|10|2|00-10|A-10|x|", "line has 7 fields"),
        ("SALES1|10|2|00-10|A-10|x", "line has 6 fields"),
        ("SALES1|ten|2|00-10|A-10|", "call counts are not whole numbers"),
        ("SALES1|10|2|24-10|A-10|", "hour entry '24-10'"),
        ("SALES1|10|2|00:10|A-10|", "hour entry '00:10'"),
        ("SALES1|10|2|00-10|A10|", "status entry 'A10'"),
        ("SALES1|10|2|00-10|A-x|", "status entry 'A-x'"),
        ("|10|2|00-10|A-10|", "code is empty"),
    ],
)
def test_call_status_stats_errors(line: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_call_status_stats(CALL_STATUS_STATS_DOC + line + "\n")
    assert caught.value.line == 3
    assert caught.value.function == "call_status_stats"


def test_call_status_stats_every_requested_campaign_needs_its_line() -> None:
    """A campaign without calls still prints a line, so a missing line is a cut answer."""
    assert len(parse_call_status_stats(CALL_STATUS_STATS_DOC, expected=["TESTCAMP"])) == 2
    with pytest.raises(IncompleteAnswer) as caught:
        parse_call_status_stats(CALL_STATUS_STATS_DOC, expected=["TESTCAMP", "SALES2"])
    assert caught.value.missing == ("SALES2",)
    assert caught.value.function == "call_status_stats"
    assert "SALES2 missing from the answer (cut off" in str(caught.value)


def test_call_status_stats_invalid_campaigns_is_an_api_error() -> None:
    text = "ERROR: call_status_stats INVALID OR MISSING CAMPAIGNS - x\nERROR: Invalid Source: |x|\n"
    with pytest.raises(ApiError, match="INVALID OR MISSING CAMPAIGNS"):
        parse_call_status_stats(text)


# --- StatusCounts ----------------------------------------------------------------------------


def test_status_counts_is_an_immutable_mapping() -> None:
    counts = StatusCounts([("DROP", 2), ("SALE", 5), ("DROP", 1)])
    assert counts == {"DROP": 3, "SALE": 5}
    assert list(counts) == ["DROP", "SALE"]
    assert len(counts) == 2
    assert counts.get("XDROP", 0) == 0
    assert hash(counts) == hash(StatusCounts({"SALE": 5, "DROP": 3}))
    assert repr(counts) == "StatusCounts({'DROP': 3, 'SALE': 5})"
    assert not hasattr(counts, "__setitem__")


# --- update_campaign -------------------------------------------------------------------------


def test_update_campaign_success() -> None:
    line = "SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - 6666|TESTCAMP"
    assert parse_update_campaign(line + "\n") == CampaignUpdate(
        outcome="updated", user="6666", campaign_id="TESTCAMP", hopper_reset=False, lines=(line,)
    )


def test_update_campaign_no_updates_is_a_result() -> None:
    result = parse_update_campaign("NOTICE: update_campaign NO UPDATES DEFINED: |6666|\n")
    assert (result.outcome, result.user, result.campaign_id) == ("no_updates", "6666", None)


def test_update_campaign_with_hopper_reset() -> None:
    text = (
        "SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - 6666|TESTCAMP\r\n"
        "NOTICE: update_campaign HOPPER HAS BEEN RESET - 6666|TESTCAMP|\r\n"
    )
    result = parse_update_campaign(text)
    assert (result.outcome, result.hopper_reset, len(result.lines)) == ("updated", True, 2)
    only_reset = (
        "NOTICE: update_campaign NO UPDATES DEFINED: |6666|\n"
        "NOTICE: update_campaign HOPPER HAS BEEN RESET - 6666|TESTCAMP|\n"
    )
    result = parse_update_campaign(only_reset)
    assert (result.outcome, result.campaign_id, result.hopper_reset) == (
        "hopper_reset",
        "TESTCAMP",
        True,
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("ERROR: update_campaign CAMPAIGN DOES NOT EXIST: |6666|BADCAMP\n", ApiError),
        (
            "ERROR: update_campaign ACTIVE MUST BE Y OR N, THIS IS AN OPTIONAL FIELD: |6666|X\n",
            ApiError,
        ),
        (
            "ERROR: update_campaign USER DOES NOT HAVE PERMISSION TO UPDATE CAMPAIGNS: |6666|0\n",
            PermissionDenied,
        ),
        ("SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - 6666|X\nERROR: later\n", ApiError),
        ("SUCCESS: something else entirely\n", ParseError),
        ("campaign updated\n", ParseError),
    ],
)
def test_update_campaign_errors(text: str, error: type[VicidialError]) -> None:
    with pytest.raises(error) as caught:
        parse_update_campaign(text)
    assert caught.type is error
