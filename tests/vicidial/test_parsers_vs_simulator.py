"""Our parsers against the simulator's real answers, in every stage, with and without header.

The two sides were written separately from API.md and share no format code, so this is where
a wrong column in either one shows up: each parsed field is compared with the simulated world's
own records, not with the other side's text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.sim import SimHandle, running_simulator
from wallboard.simulator.world import agent_bucket
from wallboard.vicidial import parsers
from wallboard.vicidial.errors import ApiError
from wallboard.vicidial.models import agent_state

STAGES = ["csv", "tab", "pipe", "bogus"]
HEADERS = ["YES", "NO"]


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator(seed=21) as handle:
        yield handle


def delimiter_for(stage: str) -> str:
    return {"csv": ",", "tab": "\t"}.get(stage, "|")


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("header", HEADERS)
@pytest.mark.parametrize("sub_status", ["YES", "NO"])
async def test_logged_in_agents(sim: SimHandle, stage: str, header: str, sub_status: str) -> None:
    text = await sim.call(
        "logged_in_agents", stage=stage, header=header, show_sub_status=sub_status
    )
    agents = parsers.parse_logged_in_agents(text, delimiter=delimiter_for(stage))
    world = sim.world.agents
    assert {a.user for a in agents} == set(world)
    for agent in agents:
        expected = world[agent.user]
        assert (agent.campaign_id, agent.session_id, agent.status) == (
            expected.campaign_id,
            expected.session_id,
            expected.status,
        )
        assert (agent.lead_id, agent.calls_today, agent.user_level) == (
            expected.lead_id,
            expected.calls_today,
            expected.user_level,
        )
        assert (agent.full_name, agent.user_group, agent.callerid) == (
            expected.full_name,
            expected.user_group,
            expected.callerid,
        )
        if sub_status == "YES":
            assert (agent.pause_code, agent.sub_status) == (
                expected.pause_code,
                expected.sub_status,
            )
            # the daemon's buckets equal the simulator's (both from API.md §5.4)
            assert agent_state(agent).value == agent_bucket(expected)
        else:
            assert agent.pause_code is None
            assert agent.sub_status is None


async def test_logged_in_agents_campaign_filter(sim: SimHandle) -> None:
    text = await sim.call("logged_in_agents", campaigns="SALES2|SALES3", header="YES")
    agents = parsers.parse_logged_in_agents(text)
    assert agents
    assert {a.campaign_id for a in agents} <= {"SALES2", "SALES3"}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("header", HEADERS)
@pytest.mark.parametrize("legacy", [False, True])
async def test_campaigns_list(stage: str, header: str, legacy: bool) -> None:
    async with running_simulator(seed=21, legacy_build=legacy) as sim:
        text = await sim.call("campaigns_list", stage=stage, header=header)
        campaigns = parsers.parse_campaigns_list(text, delimiter=delimiter_for(stage))
        world = sim.world.campaigns
    assert [c.campaign_id for c in campaigns] == list(world)
    for campaign in campaigns:
        expected = world[campaign.campaign_id]
        assert campaign.campaign_name == expected.campaign_name
        assert campaign.active == expected.active
        assert campaign.dial_method == expected.dial_method
        assert campaign.dial_level == pytest.approx(expected.dial_level)
        assert campaign.user_group == expected.user_group
        assert campaign.dial_statuses == tuple(expected.dial_statuses.split())
        if legacy:
            assert campaign.dial_timeout is None
        else:
            assert campaign.dial_timeout == expected.dial_timeout
            assert campaign.dial_prefix == expected.dial_prefix


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_hopper_list(sim: SimHandle, stage: str, header: str) -> None:
    for campaign_id in sim.world.campaigns:
        text = await sim.call("hopper_list", campaign_id=campaign_id, stage=stage, header=header)
        count = parsers.parse_hopper_list(text, campaign_id, delimiter=delimiter_for(stage))
        assert count.leads == len(sim.world.hopper(campaign_id))


async def test_call_status_stats_today_and_past(sim: SimHandle) -> None:
    today = sim.world.local_today()
    past = today.fromordinal(today.toordinal() - 7)
    for day in (today, past):
        text = await sim.call(
            "call_status_stats", campaigns="---ALL---", query_date=day.isoformat()
        )
        lines = {line.code: line for line in parsers.parse_call_status_stats(text)}
        for code in [*sim.world.campaigns, *sim.world.ingroups]:
            expected = sim.world.day_stats(code, day)
            line = lines[code]
            assert (line.calls, line.human_answered, line.drops) == (
                expected.calls,
                expected.human_answered,
                expected.drops,
            )
            assert list(line.hourly) == expected.hourly
            assert dict(line.statuses) == {k: v for k, v in expected.statuses.items() if v}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_in_group_status(sim: SimHandle, stage: str, header: str) -> None:
    groups = list(sim.world.ingroups)
    text = await sim.call("in_group_status", in_groups="|".join(groups), stage=stage, header=header)
    status = parsers.parse_in_group_status(text, delimiter=delimiter_for(stage))
    assert status.ingroups == tuple(groups)
    assert status.total_calls == sum(g.total_calls for g in sim.world.ingroups.values())
    assert status.calls_waiting == sum(g.calls_waiting for g in sim.world.ingroups.values())


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_user_group_status(sim: SimHandle, stage: str, header: str) -> None:
    text = await sim.call("user_group_status", user_groups="AGENTS", stage=stage, header=header)
    status = parsers.parse_user_group_status(text, delimiter=delimiter_for(stage))
    agents = [a for a in sim.world.agents.values() if a.user_group == "AGENTS"]
    buckets = [agent_bucket(a) for a in agents]
    assert status.usergroups == ("AGENTS",)
    assert status.agents_logged_in == len(agents)
    assert status.agents_waiting == buckets.count("waiting")
    assert status.agents_paused == buckets.count("paused")
    assert status.agents_in_dispo == buckets.count("dispo")
    assert status.agents_in_dead_calls == buckets.count("dead")


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("header", HEADERS)
async def test_agent_status(sim: SimHandle, stage: str, header: str) -> None:
    user, expected = next(iter(sim.world.agents.items()))
    text = await sim.call("agent_status", agent_user=user, stage=stage, header=header)
    status = parsers.parse_agent_status(text, delimiter=delimiter_for(stage))
    assert (status.status, status.campaign_id, status.lead_id) == (
        expected.status,
        expected.campaign_id,
        expected.lead_id,
    )
    assert (status.calls_today, status.full_name, status.session_id) == (
        expected.calls_today,
        expected.full_name,
        expected.session_id,
    )


async def test_version(sim: SimHandle) -> None:
    version = parsers.parse_version(await sim.call("version"))
    assert version.version == "2.14-202"
    assert version.tz == -5.0
    assert version.dst is sim.world.dst
    assert version.tz_now == (-4.0 if sim.world.dst else -5.0)


async def test_update_campaign_answers(sim: SimHandle) -> None:
    updated = parsers.parse_update_campaign(
        await sim.call("update_campaign", campaign_id="SALES3", active="N")
    )
    assert updated.outcome == "updated"
    assert updated.campaign_id == "SALES3"
    unchanged = parsers.parse_update_campaign(
        await sim.call("update_campaign", campaign_id="SALES3", active="n")
    )
    assert unchanged.outcome == "no_updates"
    with pytest.raises(ApiError):
        parsers.parse_update_campaign(
            await sim.call("update_campaign", campaign_id="NOPE", active="N")
        )
