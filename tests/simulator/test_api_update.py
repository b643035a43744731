"""``update_campaign`` over HTTP: its texts, its effect on the world, and the request log."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.sim import SimHandle, running_simulator


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator() as handle:
        yield handle


async def test_active_n_stops_the_campaign_and_is_logged_without_the_password(
    sim: SimHandle,
) -> None:
    assert sim.world.campaigns["SALES2"].active
    text = await sim.call("update_campaign", campaign_id="SALES2", active="N")
    assert text == "SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - wallboard|SALES2\n"
    assert not sim.world.campaigns["SALES2"].active
    listed = await sim.call("campaigns_list", campaign_id="SALES2", stage="csv")
    assert listed.split(",")[2] == "N"
    state = await sim.state()
    assert next(c for c in state["campaigns"] if c["id"] == "SALES2")["active"] is False

    log = await sim.requests()
    assert log["update_campaign"] == [
        {
            "campaign_id": "SALES2",
            "active": "N",
            "at": "2025-09-03T14:37:13+00:00",
            "result": "SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - wallboard|SALES2",
        }
    ]
    assert sim.password not in str(log)

    assert (await sim.call("update_campaign", campaign_id="SALES2", active="Y")).startswith(
        "SUCCESS:"
    )
    assert sim.world.campaigns["SALES2"].active


async def test_lowercase_active_is_stripped_to_no_update(sim: SimHandle) -> None:
    text = await sim.call("update_campaign", campaign_id="SALES1", active="n")
    assert text == "NOTICE: update_campaign NO UPDATES DEFINED: |wallboard|\n"
    assert sim.world.campaigns["SALES1"].active
    log = await sim.requests()
    assert [(e["active"], e["result"]) for e in log["update_campaign"]] == [
        ("", "NOTICE: update_campaign NO UPDATES DEFINED: |wallboard|")
    ]


async def test_update_campaign_errors(sim: SimHandle) -> None:
    assert await sim.call("update_campaign", campaign_id="NOPE", active="N") == (
        "ERROR: update_campaign CAMPAIGN DOES NOT EXIST: |wallboard|NOPE\n"
    )
    assert await sim.call("update_campaign", campaign_id="S", campaign_name="Short") == (
        "ERROR: update_campaign YOU MUST USE ALL REQUIRED FIELDS: |wallboard|S|Short|S\n"
    )
    assert await sim.call("update_campaign", campaign_id="SALES1", active="MAYBE") == (
        "ERROR: update_campaign ACTIVE MUST BE Y OR N, THIS IS AN OPTIONAL FIELD: "
        "|wallboard|MAYBE\n"
    )
    assert await sim.call("update_campaign", campaign_id="SALES1", auto_dial_level="4.5") == (
        "ERROR: update_campaign AUTO DIAL LEVEL MUST BE FROM 0 TO 4.001, "
        "THIS IS AN OPTIONAL FIELD: |wallboard|4.5\n"
    )
    assert await sim.call("update_campaign", campaign_id="SALES1", dial_method="PREDICTIVE") == (
        "ERROR: update_campaign DIAL METHOD IS NOT VALID, THIS IS AN OPTIONAL FIELD: "
        "|wallboard|PREDICTIVE\n"
    )
    assert all(c.active for c in sim.world.campaigns.values())


async def test_update_campaign_by_post_and_request_counts(sim: SimHandle) -> None:
    text = await sim.call("update_campaign", method="POST", campaign_id="SALES3", active="N")
    assert text.startswith("SUCCESS:")
    assert not sim.world.campaigns["SALES3"].active
    await sim.call("campaigns_list")
    await sim.call("campaigns_list", **{"pass": "bad"})
    log = await sim.requests()
    assert log["total"] == 3
    assert log["by_function"] == {"update_campaign": 1, "campaigns_list": 2}
    # a login failure never reaches the update_campaign log (its answer echoes the password)
    await sim.call("update_campaign", campaign_id="SALES3", active="Y", **{"pass": "bad"})
    assert len((await sim.requests())["update_campaign"]) == 1
