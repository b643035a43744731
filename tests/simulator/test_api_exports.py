"""Every export function over real HTTP: exact headers, delimiters, column counts, world values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from tests.support.sim import SimHandle, running_simulator
from wallboard.simulator.types import SimAgent

# (stage parameter or None for "not sent", the delimiter VICIdial uses for it)
STAGES = [("csv", ","), ("tab", "\t"), ("pipe", "|"), ("json", "|"), (None, "|")]
HEADERS = [True, False]
HOPPER_HEADER_AS_DOCUMENTED = (
    "hopper_order,priority,lead_id,list_id,phone_number,phone_code,state,status,count,"
    "gmt_offset,rank,alt,hopper_source,vendor_lead_code,source_id,age_days,last_call_time"
)


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator() as handle:
        yield handle


def stage_params(stage: str | None, header: bool) -> dict[str, str]:
    params = {"header": "YES"} if header else {}
    if stage is not None:
        params["stage"] = stage
    return params


def split_lines(text: str, delimiter: str) -> list[list[str]]:
    assert text.endswith("\n"), repr(text[-20:])
    return [line.split(delimiter) for line in text[:-1].split("\n")]


def agent_fields(agent: SimAgent) -> list[str]:
    return [
        agent.user,
        agent.campaign_id,
        agent.session_id,
        agent.status,
        str(agent.lead_id),
        agent.callerid,
        str(agent.calls_today),
        agent.full_name,
        agent.user_group,
        str(agent.user_level),
    ]


async def test_version_matches_the_api_md_simulator_sample(sim: SimHandle) -> None:
    text = await sim.call("version", user="", **{"pass": ""})
    assert text == (
        "VERSION: 2.14-202|BUILD: 250720-1841|DATE: 2025-09-03 10:37:13|EPOCH: 1756910233|"
        "DST: 1|TZ: -5.00|TZNOW: -4|\n"
    )


async def test_version_of_the_legacy_build() -> None:
    async with running_simulator(legacy_build=True) as sim:
        text = await sim.call("version")
    assert text.startswith("VERSION: 2.14-120|BUILD: 230601-1200|DATE: 2025-09-03 10:37:13|")


async def test_answers_are_html_content_type_and_200(sim: SimHandle) -> None:
    answer = await sim.raw("logged_in_agents")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    error = await sim.raw("logged_in_agents", source="")
    assert error.status == 200


@pytest.mark.parametrize(("stage", "delimiter"), STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_logged_in_agents(
    sim: SimHandle, stage: str | None, delimiter: str, header: bool
) -> None:
    lines = split_lines(
        await sim.call("logged_in_agents", **stage_params(stage, header)), delimiter
    )
    if header:
        assert lines.pop(0) == [
            "user", "campaign_id", "session_id", "status", "lead_id", "callerid", "calls_today",
            "full_name", "user_group", "user_level",
        ]  # fmt: skip
    agents = list(sim.world.agents.values())
    assert len(agents) > 5
    assert lines == [agent_fields(a) for a in agents]


@pytest.mark.parametrize(("stage", "delimiter"), STAGES)
async def test_logged_in_agents_sub_status_and_filters(
    sim: SimHandle, stage: str | None, delimiter: str
) -> None:
    params = stage_params(stage, True) | {"show_sub_status": "YES", "campaigns": "SALES1|SALES3"}
    lines = split_lines(await sim.call("logged_in_agents", **params), delimiter)
    assert lines.pop(0)[-3:] == ["user_level", "pause_code", "sub_status"]
    wanted = [a for a in sim.world.agents.values() if a.campaign_id in ("SALES1", "SALES3")]
    assert wanted
    assert lines == [[*agent_fields(a), a.pause_code, a.sub_status] for a in wanted]
    by_group = await sim.call("logged_in_agents", user_groups="NOBODY")
    assert by_group == "ERROR: logged_in_agents NO LOGGED IN AGENTS: wallboard|\n"


@pytest.mark.parametrize(("stage", "delimiter"), STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_campaigns_list(
    sim: SimHandle, stage: str | None, delimiter: str, header: bool
) -> None:
    lines = split_lines(await sim.call("campaigns_list", **stage_params(stage, header)), delimiter)
    if header:
        assert lines.pop(0) == [
            "campaign_id", "campaign_name", "active", "user_group", "dial_method", "dial_level",
            "lead_order", "dial_statuses", "dial_timeout", "dial_prefix", "manual_dial_prefix",
            "three_way_dial_prefix",
        ]  # fmt: skip
    campaigns = list(sim.world.campaigns.values())
    assert [row[0] for row in lines] == [c.campaign_id for c in campaigns]
    for row, campaign in zip(lines, campaigns, strict=True):
        assert len(row) == 12
        assert row[1:5] == [
            campaign.campaign_name,
            "Y" if campaign.active else "N",
            campaign.user_group,
            campaign.dial_method,
        ]
        assert float(row[5]) == pytest.approx(campaign.dial_level, abs=0.0005)
        assert row[8] == str(campaign.dial_timeout)


async def test_campaigns_list_filter_and_legacy_width(sim: SimHandle) -> None:
    one = split_lines(await sim.call("campaigns_list", campaign_id="SALES2"), "|")
    assert [row[0] for row in one] == ["SALES2"]
    assert await sim.call("campaigns_list", campaign_id="NOPE") == (
        "ERROR: campaigns_list THIS USER HAS NO VIEWABLE CAMPAIGNS: wallboard|\n"
    )
    async with running_simulator(legacy_build=True) as legacy:
        lines = split_lines(await legacy.call("campaigns_list", header="YES", stage="csv"), ",")
    assert lines[0][-1] == "dial_statuses"
    assert {len(row) for row in lines} == {8}


@pytest.mark.parametrize(("stage", "delimiter"), STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_hopper_list(sim: SimHandle, stage: str | None, delimiter: str, header: bool) -> None:
    params = stage_params(stage, header) | {"campaign_id": "SALES1"}
    lines = split_lines(await sim.call("hopper_list", **params), delimiter)
    if header:
        # API.md prints this header comma-joined; the code joins it with the stage delimiter
        assert delimiter.join(lines.pop(0)) == HOPPER_HEADER_AS_DOCUMENTED.replace(",", delimiter)
    leads = sim.world.hopper("SALES1")
    assert leads
    assert len(lines) == len(leads)
    for row, lead in zip(lines, leads, strict=True):
        assert len(row) == 17
        assert (row[0], row[2], row[4], row[7]) == (
            str(lead.hopper_order),
            str(lead.lead_id),
            lead.phone_number,
            lead.status,
        )


def hours_and_statuses(line: str) -> tuple[str, list[str], str, str]:
    code, _calls, _human, hours, statuses, tail = line.split("|")
    return code, hours.split(","), statuses, tail


async def test_call_status_stats_dash_list_matches_day_stats(sim: SimHandle) -> None:
    text = await sim.call("call_status_stats", campaigns="SALES2-SALES1-NOPE", stage="csv")
    world = sim.world
    today = world.local_today()
    ingroups = sorted(
        {g for cid in ("SALES1", "SALES2") for g in world.campaigns[cid].closer_campaigns}
    )
    lines = text.removesuffix("\n").split("\n")
    assert [line.split("|")[0] for line in lines] == ["SALES1", "SALES2", *ingroups]
    for line in lines:
        code, hours, statuses, tail = hours_and_statuses(line)
        stats = world.day_stats(code, today)
        assert line.split("|")[1:3] == [str(stats.calls), str(stats.human_answered)]
        assert hours == [f"{h:02d}-{n}" for h, n in enumerate(stats.hourly)]
        assert statuses == ",".join(f"{s}-{n}" for s, n in sorted(stats.statuses.items()))
        assert tail == ""
    assert "DROP" in text


@pytest.mark.parametrize("everything", ["---ALL---", "ALLCAMPAIGNS", "SALES1-ALLCAMPAIGNS"])
async def test_call_status_stats_all_campaigns(sim: SimHandle, everything: str) -> None:
    text = await sim.call("call_status_stats", campaigns=everything)
    codes = [line.split("|")[0] for line in text.splitlines()]
    assert codes[: len(sim.world.campaigns)] == sorted(sim.world.campaigns)
    assert set(codes[len(sim.world.campaigns) :]) == set(sim.world.ingroups)


async def test_call_status_stats_past_day_and_explicit_ingroups(sim: SimHandle) -> None:
    past: date = sim.world.local_today() - timedelta(days=3)
    text = await sim.call(
        "call_status_stats", campaigns="SALES1", ingroups="SUPPORT", query_date=past.isoformat()
    )
    first, second = text.splitlines()
    history = sim.world.day_stats("SALES1", past)
    assert history.calls > 0
    assert first.startswith(f"SALES1|{history.calls}|{history.human_answered}|00-")
    assert second.startswith("SUPPORT|")
    assert text.endswith("|\n")
    today = await sim.call("call_status_stats", campaigns="SALES1", ingroups="SUPPORT")
    assert today != text


@pytest.mark.parametrize(("stage", "delimiter"), STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_user_group_status(
    sim: SimHandle, stage: str | None, delimiter: str, header: bool
) -> None:
    params = stage_params(stage, header) | {"user_groups": "AGENTS|ADMIN"}
    lines = split_lines(await sim.call("user_group_status", **params), delimiter)
    if header:
        assert lines.pop(0) == [
            "usergroups", "calls_waiting", "agents_logged_in", "agents_in_calls", "agents_waiting",
            "agents_paused", "agents_in_dead_calls", "agents_in_dispo", "agents_in_dial",
        ]  # fmt: skip
    [row] = lines
    world = sim.world
    in_groups = [a for a in world.agents.values() if a.user_group in ("AGENTS", "ADMIN")]
    waiting = sum(g.calls_waiting for g in world.ingroups.values())
    waiting += sum(c.calls_waiting for c in world.campaigns.values())
    assert row[:3] == ["AGENTS ADMIN", str(waiting), str(len(in_groups))]
    assert sum(int(n) for n in row[3:8]) <= len(in_groups)


@pytest.mark.parametrize(("stage", "delimiter"), STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_in_group_status(
    sim: SimHandle, stage: str | None, delimiter: str, header: bool
) -> None:
    params = stage_params(stage, header) | {"in_groups": "SALESLINE|SUPPORT"}
    lines = split_lines(await sim.call("in_group_status", **params), delimiter)
    if header:
        assert lines.pop(0) == [
            "ingroups", "total_calls", "calls_waiting", "agents_logged_in", "agents_in_calls",
            "agents_waiting", "agents_paused", "agents_in_dispo", "agents_in_dial",
        ]  # fmt: skip
    [row] = lines
    groups = [sim.world.ingroups["SALESLINE"], sim.world.ingroups["SUPPORT"]]
    users = {u for g in groups for u in g.agent_users}
    assert row[:4] == [
        "SALESLINE SUPPORT",
        str(sum(g.total_calls for g in groups)),
        str(sum(g.calls_waiting for g in groups)),
        str(len(users)),
    ]
    assert len(row) == 9


@pytest.mark.parametrize(("stage", "delimiter"), STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_agent_status(
    sim: SimHandle, stage: str | None, delimiter: str, header: bool
) -> None:
    agent = next(a for a in sim.world.agents.values() if a.status == "INCALL")
    params = stage_params(stage, header) | {"agent_user": agent.user}
    lines = split_lines(await sim.call("agent_status", **params), delimiter)
    if header:
        assert lines.pop(0) == [
            "status", "callerid", "lead_id", "campaign_id", "calls_today", "full_name",
            "user_group", "user_level", "pause_code", "real_time_sub_status", "phone_number",
            "vendor_lead_code", "session_id",
        ]  # fmt: skip
    assert lines == [
        [
            agent.status, agent.callerid, str(agent.lead_id), agent.campaign_id,
            str(agent.calls_today), agent.full_name, agent.user_group, str(agent.user_level),
            agent.pause_code, agent.sub_status, agent.phone_number, agent.vendor_lead_code,
            agent.session_id,
        ]
    ]  # fmt: skip


async def test_agent_status_errors_and_legacy_header(sim: SimHandle) -> None:
    assert await sim.call("agent_status") == (
        "ERROR: agent_status INVALID SEARCH PARAMETERS: wallboard|\n"
    )
    assert await sim.call("agent_status", agent_user="9999") == (
        "ERROR: agent_status AGENT NOT FOUND: wallboard|9999\n"
    )
    async with running_simulator(legacy_build=True) as legacy:
        user = next(iter(legacy.world.agents))
        header, row = split_lines(
            await legacy.call("agent_status", agent_user=user, header="YES"), "|"
        )
    assert (len(header), len(row)) == (8, 13)


@pytest.mark.parametrize(("stage", "delimiter"), STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_agent_stats_export(
    sim: SimHandle, stage: str | None, delimiter: str, header: bool
) -> None:
    day = sim.world.local_today().isoformat()
    params = stage_params(stage, header) | {
        "datetime_start": f"{day}+00:00:00",
        "datetime_end": f"{day}+23:59:59",
    }
    lines = split_lines(await sim.call("agent_stats_export", **params), delimiter)
    if header:
        assert lines.pop(0) == [
            "user", "full_name", "user_group", "calls", "login_time", "total_talk_time",
            "avg_talk_time", "avg_wait_time", "pct_of_queue", "pause_time", "sessions",
            "avg_session", "pauses", "avg_pause_time", "pause_pct", "pauses_per_session",
            "wait_time", "talk_time", "dispo_time", "dead_time",
        ]  # fmt: skip
    assert lines
    assert {len(row) for row in lines} == {20}
    for row in lines:
        assert row[8].endswith("%")
        assert row[14].endswith("%")
        assert row[9].isdigit()  # pause_time is raw seconds
        assert row[4].count(":") == 2  # HF is h:mm:ss
        if row[0] in sim.world.agents:
            assert row[1] == sim.world.agents[row[0]].full_name


async def test_agent_stats_export_options_and_errors(sim: SimHandle) -> None:
    day = sim.world.local_today().isoformat()
    window = {"datetime_start": f"{day}+00:00:00", "datetime_end": f"{day}+23:59:59"}
    grouped = split_lines(
        await sim.call("agent_stats_export", group_by_campaign="YES", time_format="S", **window),
        "|",
    )
    assert {len(row) for row in grouped} == {21}
    assert all(row[0].startswith("SALES") and row[5].isdigit() for row in grouped)
    minutes = split_lines(await sim.call("agent_stats_export", time_format="M", **window), "|")
    assert all(row[4].count(":") == 1 for row in minutes)
    assert await sim.call("agent_stats_export", datetime_start="2025-09-03") == (
        "ERROR: agent_stats_export INVALID SEARCH PARAMETERS: wallboard||2025-09-03||\n"
    )
    assert await sim.call("agent_stats_export", agent_user="9999", **window) == (
        "ERROR: agent_stats_export NO RECORDS FOUND - "
        f"wallboard|9999|{day} 00:00:00|{day} 23:59:59|\n"
    )


async def test_get_parameters_win_over_post(sim: SimHandle) -> None:
    url = f"{sim.api_url}?function=campaigns_list&stage=csv"
    form = {"function": "version", "stage": "tab", "user": sim.user, "pass": sim.password}
    form["source"] = "test"
    async with sim.session.post(url, data=form) as response:
        text = await response.text()
    assert text.startswith("SALES1,")
    assert await sim.call("version", method="POST") == await sim.call("version")


async def test_same_seed_same_start_same_answers() -> None:
    functions = [
        ("logged_in_agents", {"show_sub_status": "YES"}),
        ("campaigns_list", {}),
        ("hopper_list", {"campaign_id": "SALES2"}),
        ("call_status_stats", {"campaigns": "---ALL---"}),
        ("user_group_status", {"user_groups": "AGENTS"}),
        ("in_group_status", {"in_groups": "SALESLINE"}),
        ("version", {}),
    ]
    answers: list[list[str]] = []
    for _ in range(2):
        async with running_simulator(seed=7) as sim:
            seen = []
            for step in (0, 90, 3600):
                await sim.advance(step)
                seen += [await sim.call(name, **params) for name, params in functions]
            answers.append(seen)
    assert answers[0] == answers[1]
    async with running_simulator(seed=8) as other:
        different = [await other.call(name, **params) for name, params in functions[:3]]
    assert different != answers[0][:3]
