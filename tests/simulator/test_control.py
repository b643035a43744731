"""The ``/_sim`` control routes: loopback rule, state, steering, request log, clock."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from wallboard.simulator.control import is_loopback
from wallboard.simulator.server import SimulatorOptions, start_simulator


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator() as handle:
        yield handle


@pytest.mark.parametrize(
    ("remote", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("192.168.1.5", False),
        ("::ffff:10.0.0.1", False),
        ("2001:db8::1", False),
        ("fe80::1%eth0", False),
        ("", False),
        (None, False),
        ("not-an-ip", False),
    ],
)
def test_is_loopback(remote: str | None, loopback: bool) -> None:
    assert is_loopback(remote) is loopback


def non_loopback_ipv4() -> str | None:
    """This machine's outward IPv4 address (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


async def test_control_routes_refuse_non_loopback_clients_but_the_api_answers() -> None:
    address = non_loopback_ipv4()
    if address is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    simulator = await start_simulator(SimulatorOptions(speed=0, start=DEFAULT_START), address, 0)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{simulator.base_url}/_sim/state") as response:
                assert response.status == 403
                assert "loopback" in (await response.json())["error"]
            async with session.post(
                f"{simulator.base_url}/_sim/faults", json={"kind": "reset"}
            ) as response:
                assert response.status == 403
            async with session.get(simulator.api_url, params={"function": "version"}) as response:
                assert (await response.text()).startswith("VERSION: ")
    finally:
        await simulator.close()


async def test_state_is_the_worlds_state(sim: SimHandle) -> None:
    state = await sim.state()
    assert state == sim.world.state()
    assert [c["id"] for c in state["campaigns"]] == list(sim.world.campaigns)
    assert len(state["agents"]) == len(sim.world.agents)


async def test_steer_drop_ratio_counts_and_active(sim: SimHandle) -> None:
    applied = await sim.steer("SALES1", drop_ratio=0.04)
    assert applied == {"campaign_id": "SALES1", "applied": {"drop_ratio": 0.04}}
    assert sim.world.campaigns["SALES1"].forced_drop_ratio == 0.04

    await sim.steer("SALES2", answered_today=500, dropped_today=20)
    line = await sim.call("call_status_stats", campaigns="SALES2")
    fields = line.split("|")
    assert fields[2] == "500"
    statuses = dict(item.split("-") for item in fields[4].split(","))
    assert int(statuses.get("DROP", 0)) + int(statuses.get("XDROP", 0)) == 20
    campaign = next(c for c in (await sim.state())["campaigns"] if c["id"] == "SALES2")
    assert (campaign["answered_today"], campaign["dropped_today"]) == (500, 20)

    await sim.steer("SALES3", active=False)
    assert not sim.world.campaigns["SALES3"].active
    assert (await sim.call("campaigns_list", campaign_id="SALES3")).split("|")[2] == "N"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"drop_ratio": 1.5},
        {"drop_ratio": "high"},
        {"answered_today": -1},
        {"answered_today": 10, "dropped_today": 11},
        {"active": "no"},
        {"paused": True},
        {"dial_timeout": 0},
        {"dial_timeout": 121},
        {"dial_timeout": 12.5},
    ],
)
async def test_steer_rejects_bad_bodies(sim: SimHandle, body: dict[str, object]) -> None:
    async with sim.session.post(f"{sim.base_url}/_sim/campaigns/SALES1", json=body) as response:
        assert response.status == 400
        assert (await response.json())["error"]


async def test_steer_dial_timeout_shows_in_campaigns_list(sim: SimHandle) -> None:
    await sim.steer("SALES2", dial_timeout=12)
    row = (await sim.call("campaigns_list", campaign_id="SALES2")).split("|")
    assert row[8] == "12"  # dial_timeout, the ninth column (API.md §5.8)


async def test_steer_unknown_campaign_is_404(sim: SimHandle) -> None:
    async with sim.session.post(
        f"{sim.base_url}/_sim/campaigns/NOPE", json={"active": False}
    ) as response:
        assert response.status == 404


async def test_requests_counts_by_function(sim: SimHandle) -> None:
    assert await sim.requests() == {"total": 0, "by_function": {}, "update_campaign": []}
    await sim.call("version")
    await sim.call("logged_in_agents")
    await sim.call("logged_in_agents")
    await sim.call("")
    log = await sim.requests()
    assert log["total"] == 4
    assert log["by_function"] == {"version": 1, "logged_in_agents": 2, "(none)": 1}


async def test_clock_advances_the_simulated_time(sim: SimHandle) -> None:
    before = await sim.call("version")
    now = await sim.advance(3600)
    assert now == DEFAULT_START.replace(hour=15)
    after = await sim.call("version")
    assert "DATE: 2025-09-03 10:37:13|" in before
    assert "DATE: 2025-09-03 11:37:13|EPOCH: 1756913833|" in after
    assert (await sim.state())["now"].startswith("2025-09-03T15:37:13")
    async with sim.session.post(
        f"{sim.base_url}/_sim/clock", json={"advance_seconds": -5}
    ) as response:
        assert response.status == 400
