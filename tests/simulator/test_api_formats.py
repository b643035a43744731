"""Pure rendering and access rules of the simulator's API layer (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wallboard.simulator import formats
from wallboard.simulator.auth import (
    PERMISSIONS,
    ApiUser,
    AuthResult,
    LoginGate,
    api_user,
    sanitize,
)
from wallboard.simulator.types import AgentDayLog, DayStats, SimAgent, SimCampaign


def agent(user: str, status: str, **kw: object) -> SimAgent:
    fields: dict[str, object] = {
        "full_name": f"Agent {user}",
        "user_group": "AGENTS",
        "user_level": 1,
        "campaign_id": "SALES1",
        "session_id": "8600051",
    }
    fields.update(kw)
    return SimAgent(user=user, status=status, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stage", "delimiter"),
    [("csv", ","), ("tab", "\t"), ("pipe", "|"), ("json", "|"), ("", "|"), ("CSV", "|")],
)
def test_stage_picks_delimiter_and_unknown_falls_back_to_pipe(stage: str, delimiter: str) -> None:
    assert formats.delimiter_for(stage) == delimiter


def test_header_only_with_exact_yes() -> None:
    rows = [["a", "b"], ["c", "d"]]
    assert formats.render_table(("x", "y"), rows, stage="csv", header="YES") == "x,y\na,b\nc,d\n"
    assert formats.render_table(("x", "y"), rows, stage="csv", header="yes") == "a,b\nc,d\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-4.0, "-4"),
        (-5, "-5"),
        (16.7, "16.7"),
        (100.0, "100"),
        (0.1 + 0.2, "0.3"),
        (4.001, "4.001"),
    ],
)
def test_php_number_prints_like_php_echo(value: float, text: str) -> None:
    assert formats.php_number(value) == text


def test_php_round_is_half_away_from_zero() -> None:
    assert formats.php_round(2.5) == 3.0
    assert formats.php_round(0.5) == 1.0
    assert formats.php_round(16.65, 1) == 16.7


@pytest.mark.parametrize(
    ("seconds", "time_format", "text"),
    [
        (112, "HF", "0:01:52"),
        (112, "H", "0:01:52"),
        (3725, "H", "1:02:05"),
        (112, "M", "1:52"),
        (3725, "M", "62:05"),
        (54, "S", "54"),
        (0, "HF", "0:00:00"),
        (0, "M", "0:00"),
        (0, "S", "0"),
        (54, "X", "54"),
    ],
)
def test_sec_convert(seconds: int, time_format: str, text: str) -> None:
    assert formats.sec_convert(seconds, time_format) == text


def test_campaign_row_has_12_columns_or_8_for_legacy() -> None:
    campaign = SimCampaign("SALES1", "Sales One", True, "---ALL---", "RATIO", 2.5)
    row = formats.campaign_row(campaign, legacy=False)
    assert row == [
        "SALES1", "Sales One", "Y", "---ALL---", "RATIO", "2.5", "DOWN", "NEW NA B A", "26", "9",
        "", "",
    ]  # fmt: skip
    assert len(formats.campaigns_list_columns(legacy=False)) == 12
    assert formats.campaign_row(campaign, legacy=True) == row[:8]
    assert formats.campaigns_list_columns(legacy=True)[-1] == "dial_statuses"


def test_campaign_dial_statuses_are_trimmed_like_the_php() -> None:
    campaign = SimCampaign("S", "S", False, "ADMIN", "MANUAL", 0.0, dial_statuses=" NEW NA -")
    assert formats.campaign_row(campaign, legacy=True)[2:8] == [
        "N", "ADMIN", "MANUAL", "0", "DOWN", "NEW NA",
    ]  # fmt: skip


def test_agent_counts_follow_the_php_rewrites() -> None:
    agents = [
        agent("1", "READY"),
        agent("2", "READY", lead_id=5),  # READY with a lead: dispo
        agent("3", "PAUSED", lead_id=7, sub_status="DISPO"),
        agent("4", "PAUSED"),
        agent("5", "INCALL", lead_id=9),
        agent("6", "INCALL", lead_id=10, sub_status="DEAD"),
        agent("7", "INCALL", sub_status="DIAL"),
        agent("8", "CLOSER"),
        agent("9", "QUEUE"),
    ]
    ug = formats.count_agents(agents, detect_calls=True)
    assert ug == formats.AgentCounts(
        logged_in=9, in_calls=3, waiting=2, paused=1, dead=1, dispo=2, in_dial=1
    )
    ig = formats.count_agents(agents, detect_calls=False)
    assert ig == formats.AgentCounts(
        logged_in=9, in_calls=4, waiting=2, paused=1, dead=0, dispo=2, in_dial=0
    )


def test_call_status_line_shape() -> None:
    stats = DayStats(calls=3, human_answered=2, statuses={"SALE": 1, "DROP": 1, "NA": 1})
    stats.hourly[9] = 3
    line = formats.call_status_line("SALES1", stats)
    code, calls, human, hours, statuses, tail = line.split("|")
    assert (code, calls, human, statuses, tail) == ("SALES1", "3", "2", "DROP-1,NA-1,SALE-1", "")
    assert hours.split(",")[0] == "00-0"
    assert hours.split(",")[9] == "09-3"
    assert len(hours.split(",")) == 24
    empty = formats.call_status_line("SALES2", DayStats())
    assert empty == "SALES2|0|0|" + ",".join(f"{h:02d}-0" for h in range(24)) + "||"


def test_agent_stats_rows_compute_like_the_php() -> None:
    logs = [
        AgentDayLog("1001", "SALES1", calls=1, login_sec=112, talk_sec=20, wait_sec=18,
                    pause_sec=54, dispo_sec=20, dead_sec=4, sessions=3, pauses=5),
        AgentDayLog("1002", "SALES1", calls=5, login_sec=600, talk_sec=300, wait_sec=100,
                    pause_sec=0, dispo_sec=100, dead_sec=0, sessions=1, pauses=0),
    ]  # fmt: skip
    people = {"1001": ("Jane Doe", "AGENTS")}
    rows = formats.agent_stats_rows(logs, people, time_format="HF", group_by_campaign=False)
    assert rows[0] == [
        "1001", "Jane Doe", "AGENTS", "1", "0:01:52", "0:00:16", "0:00:16", "0:00:18", "16.7%",
        "54", "3", "0:00:37", "5", "0:00:11", "48.2%", "2", "0:00:18", "0:00:20", "0:00:20",
        "0:00:04",
    ]  # fmt: skip
    # unknown user: empty name fields; no pauses: pause_pct is 100%
    assert rows[1][:4] == ["1002", "", "", "5"]
    assert rows[1][14] == "100%"
    assert all(len(r) == len(formats.AGENT_STATS_COLUMNS) for r in rows)
    grouped = formats.agent_stats_rows(logs, people, time_format="S", group_by_campaign=True)
    assert grouped[0][:2] == ["SALES1", "1001"]
    assert grouped[0][5] == "112"
    assert formats.agent_stats_columns(group_by_campaign=True)[0] == "campaign_id"


@pytest.mark.parametrize(
    ("name", "raw", "clean"),
    [
        ("user", "wall'board", "wallboard"),
        ("pass", "p@ss word-1_", "pssword-1_"),
        ("source", "my_daemon", "mydaemon"),
        ("function", "logged_in_agents;", "logged_in_agents"),
        ("stage", "csv ", "csv"),
        ("header", "YES!", "YES"),
        ("active", "n", ""),
        ("active", "N", "N"),
        ("campaigns", "SALES1|SALES2 x", "SALES1|SALES2x"),
        ("datetime_start", "2025-01-01+00:00:00", "2025-01-01+00:00:00"),
        ("unmodelled", "a'b", "a'b"),
    ],
)
def test_sanitize(name: str, raw: str, clean: str) -> None:
    assert sanitize(name, raw) == clean


def test_api_user_deny_replaces_all_functions_with_an_explicit_list() -> None:
    full = api_user("wallboard", "pw")
    assert full.api_allowed_functions == " ALL_FUNCTIONS "
    assert full.may_use("anything")
    denied = api_user("wallboard", "pw", deny=["hopper_list"])
    assert "ALL_FUNCTIONS" not in denied.api_allowed_functions
    assert not denied.may_use("hopper_list")
    assert denied.may_use("logged_in_agents")
    assert denied.may_use("call_status_stats")


def test_api_user_repr_hides_password() -> None:
    assert "s3cret" not in repr(api_user("wallboard", "s3cret"))


@pytest.mark.parametrize(
    ("level", "denied"),
    [
        (9, set()),
        (8, {"call_status_stats"}),
        (7, {"call_status_stats", "campaigns_list", "hopper_list", "update_campaign"}),
    ],
)
def test_permission_matrix_by_level(level: int, denied: set[str]) -> None:
    account = api_user("u", "p", user_level=level)
    refused = {name for name, perm in PERMISSIONS.items() if not perm.allows(account)}
    assert refused == denied


def test_permission_flags_and_error_texts() -> None:
    no_reports = ApiUser("u", "p", view_reports=False)
    assert not PERMISSIONS["logged_in_agents"].allows(no_reports)
    assert PERMISSIONS["update_campaign"].allows(no_reports)
    no_agent_api = ApiUser("u", "p", vdc_agent_api_access=False)
    assert PERMISSIONS["call_status_stats"].allows(no_agent_api)
    assert not PERMISSIONS["campaigns_list"].allows(no_agent_api)
    assert PERMISSIONS["in_group_status"].error("6666") == (
        "ERROR: in_group_status USER DOES NOT HAVE PERMISSION TO GET IN-GROUP INFO: |6666|0|"
    )
    assert PERMISSIONS["update_campaign"].error("6666") == (
        "ERROR: update_campaign USER DOES NOT HAVE PERMISSION TO UPDATE CAMPAIGNS: |6666|0"
    )


def test_login_gate_levels_activity_and_lock() -> None:
    t0 = datetime(2025, 9, 3, 14, 0, tzinfo=UTC)
    users = [ApiUser("ok", "pw"), ApiUser("low", "pw", user_level=6)]
    gate = LoginGate([*users, ApiUser("off", "pw", active=False)])
    assert gate.check("ok", "pw", t0)[0] is AuthResult.GOOD
    assert gate.check("low", "pw", t0) == (AuthResult.BAD, None)
    assert gate.check("off", "pw", t0) == (AuthResult.BAD, None)
    assert gate.check("nobody", "pw", t0) == (AuthResult.BAD, None)
    for i in range(10):
        assert gate.check("ok", "wrong", t0 + timedelta(seconds=i))[0] is AuthResult.BAD
    # the 11th attempt is locked even with the right password...
    assert gate.check("ok", "pw", t0 + timedelta(minutes=1))[0] is AuthResult.LOCK
    # ...until the failures are 15 minutes old
    assert gate.check("ok", "pw", t0 + timedelta(minutes=15, seconds=10))[0] is AuthResult.GOOD
    # unknown users are never locked
    for _ in range(12):
        assert gate.check("nobody", "x", t0)[0] is AuthResult.BAD
