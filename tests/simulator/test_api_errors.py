"""The gate and the refusals over real HTTP: login, lock, unknown functions, source, permissions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.sim import SimHandle, running_simulator

EXPORTS = [
    "logged_in_agents",
    "campaigns_list",
    "hopper_list",
    "user_group_status",
    "in_group_status",
    "agent_status",
    "agent_stats_export",
    "update_campaign",
]


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator() as handle:
        yield handle


async def test_bad_password_is_echoed_back(sim: SimHandle) -> None:
    text = await sim.call("logged_in_agents", **{"pass": "wrong-pass"})
    assert text == "ERROR: Login incorrect, please try again: |wallboard|wrong-pass|BAD|\n"


async def test_credentials_are_sanitised_before_the_check(sim: SimHandle) -> None:
    # a quote is stripped from the user name, so this still logs in
    ok = await sim.call("campaigns_list", user="wall'board")
    assert ok.startswith("SALES1|")
    # characters outside [-_0-9a-zA-Z] are stripped from the password too: junk around the
    # right password still matches, and a password made of them fails showing what was left
    text = await sim.call("campaigns_list", **{"pass": "wallboard-demo-pass!?"})
    assert text.startswith("SALES1|")
    text = await sim.call("campaigns_list", **{"pass": "p@ss word"})
    assert text == "ERROR: Login incorrect, please try again: |wallboard|pssword|BAD|\n"


async def test_ten_failures_lock_the_user_for_fifteen_simulated_minutes(sim: SimHandle) -> None:
    for _ in range(10):
        assert "Login incorrect" in await sim.call("version2", **{"pass": "nope"})
    locked = "ERROR: Too many login attempts, try again in 15 minutes: |wallboard|LOCK|\n"
    assert await sim.call("campaigns_list") == locked
    await sim.advance(14 * 60)
    assert await sim.call("campaigns_list") == locked
    await sim.advance(61)
    assert (await sim.call("campaigns_list")).startswith("SALES1|")


@pytest.mark.parametrize("function", ["campaign_stats", "agent_stats", "campaign_status", ""])
async def test_unknown_functions_with_valid_credentials(sim: SimHandle, function: str) -> None:
    assert await sim.call(function) == "ERROR: NO FUNCTION SPECIFIED\n"


async def test_unknown_function_with_bad_credentials_is_a_login_error(sim: SimHandle) -> None:
    text = await sim.call("campaign_stats", **{"pass": "x"})
    assert text == "ERROR: Login incorrect, please try again: |wallboard|x|BAD|\n"


@pytest.mark.parametrize(("source", "shown"), [("", ""), ("a", "a"), ("_", ""), ("a;", "a")])
@pytest.mark.parametrize("function", EXPORTS)
async def test_invalid_source_two_line_form(
    sim: SimHandle, function: str, source: str, shown: str
) -> None:
    text = await sim.call(function, source=source)
    assert text == f"ERROR: Invalid Source - {shown}\nERROR: Invalid Source: |{shown}|\n"


async def test_source_is_stripped_to_alphanumerics(sim: SimHandle) -> None:
    assert (await sim.call("campaigns_list", source="my_daemon")).startswith("SALES1|")


async def test_call_status_stats_checks_campaigns_not_source(sim: SimHandle) -> None:
    assert (await sim.call("call_status_stats", source="", campaigns="SALES1")).startswith(
        "SALES1|"
    )
    assert await sim.call("call_status_stats", source="my_daemon") == (
        "ERROR: call_status_stats INVALID OR MISSING CAMPAIGNS - mydaemon\n"
        "ERROR: Invalid Source: |mydaemon|\n"
    )


@pytest.mark.parametrize("function", [*EXPORTS, "call_status_stats"])
async def test_denied_function_is_refused_by_api_allowed_functions(function: str) -> None:
    async with running_simulator(deny=(function,)) as sim:
        text = await sim.call(function, campaigns="SALES1")
        assert text == (
            "ERROR: auth USER DOES NOT HAVE PERMISSION TO USE THIS FUNCTION: "
            f"|wallboard|{function}|\n"
        )
        # everything else still works, and unknown functions are still "not specified"
        assert (await sim.call("version")).startswith("VERSION: ")
        assert await sim.call("campaign_stats") == "ERROR: NO FUNCTION SPECIFIED\n"
        other = "logged_in_agents" if function != "logged_in_agents" else "campaigns_list"
        assert "PERMISSION" not in await sim.call(other)


PERMISSION_ERRORS = {
    "logged_in_agents": "logged_in_agents USER DOES NOT HAVE PERMISSION TO GET AGENT INFO: |",
    "campaigns_list": "campaigns_list USER DOES NOT HAVE PERMISSION TO GET CAMPAIGN INFO: |",
    "hopper_list": "hopper_list USER DOES NOT HAVE PERMISSION TO GET CAMPAIGN INFO: |",
    "call_status_stats": "call_status_stats USER DOES NOT HAVE PERMISSION TO VIEW STATS: |",
    "update_campaign": "update_campaign USER DOES NOT HAVE PERMISSION TO UPDATE CAMPAIGNS: |",
}


@pytest.mark.parametrize(
    ("level", "refused"),
    [
        (7, {"campaigns_list", "hopper_list", "call_status_stats", "update_campaign"}),
        (8, {"call_status_stats"}),
    ],
)
async def test_permission_errors_by_user_level(level: int, refused: set[str]) -> None:
    async with running_simulator(user_level=level) as sim:
        for function, prefix in PERMISSION_ERRORS.items():
            text = await sim.call(function, campaigns="SALES1", campaign_id="SALES1")
            if function in refused:
                tail = "0" if function == "update_campaign" else "0|"
                assert text == f"ERROR: {prefix}wallboard|{tail}\n"
            else:
                assert not text.startswith("ERROR:"), text


async def test_level_six_cannot_log_in_at_all() -> None:
    async with running_simulator(user_level=6) as sim:
        assert await sim.call("logged_in_agents") == (
            "ERROR: Login incorrect, please try again: |wallboard|wallboard-demo-pass|BAD|\n"
        )
        assert (await sim.call("version")).startswith("VERSION: ")


async def test_required_parameters(sim: SimHandle) -> None:
    assert await sim.call("user_group_status") == (
        "ERROR: user_group_status INVALID SEARCH PARAMETERS: wallboard|\n"
    )
    assert await sim.call("in_group_status") == (
        "ERROR: in_group_status INVALID SEARCH PARAMETERS: wallboard|\n"
    )
    assert await sim.call("hopper_list") == (
        "ERROR: hopper_list THIS CAMPAIGN DOES NOT EXIST: |wallboard|\n"
    )
    assert await sim.call("hopper_list", campaign_id="NOPE") == (
        "ERROR: hopper_list THIS CAMPAIGN DOES NOT EXIST: |wallboard|NOPE\n"
    )
    assert await sim.call("update_campaign") == (
        "ERROR: update_campaign YOU MUST USE ALL REQUIRED FIELDS: |wallboard|||\n"
    )
    assert await sim.call("agent_stats_export") == (
        "ERROR: agent_stats_export INVALID SEARCH PARAMETERS: wallboard||||\n"
    )
