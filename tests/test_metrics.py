"""``/metrics`` against a running daemon: contract names and cached values (promtool and the
strict parsers: ``test_metrics_exposition.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.daemon import DaemonHandle, FakeClock, daemon_settings, running_daemon
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator

CONTRACT_NAMES = {
    "vicidial_campaign_active",
    "vicidial_campaign_dial_level",
    "vicidial_campaign_hopper_leads",
    "vicidial_campaign_calls_today",
    "vicidial_campaign_answered_calls_today",
    "vicidial_campaign_dropped_calls_today",
    "vicidial_campaign_drop_ratio",
    "vicidial_campaign_drops_remaining",
    "vicidial_campaign_agents",
    "vicidial_agent_calls_today",
    "vicidial_ingroup_calls_waiting",
    "vicidial_up",
    "wallboard_source_up",
    "wallboard_source_last_success_timestamp_seconds",
    "wallboard_data_age_seconds",
    "wallboard_poll_duration_seconds",
    "wallboard_api_requests",
    "wallboard_stream_clients",
}


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[tuple[SimHandle, DaemonHandle]]:
    async with running_simulator(seed=5) as sim:
        settings = daemon_settings(sim.base_url, tmp_path)
        async with running_daemon(settings, clock=FakeClock(DEFAULT_START)) as handle:
            await handle.wait_started()
            yield sim, handle


async def scrape(handle: DaemonHandle) -> str:
    async with handle.session.get(handle.url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return await response.text()


async def test_metrics_carry_the_contract_names_and_cached_values(
    daemon: tuple[SimHandle, DaemonHandle],
) -> None:
    sim, handle = daemon
    text = await scrape(handle)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) >= CONTRACT_NAMES
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    for campaign in (await sim.state())["campaigns"]:
        label = (("campaign", campaign["id"]),)
        assert samples[("vicidial_campaign_calls_today", label)] == campaign["calls_today"]
        assert (
            samples[("vicidial_campaign_dropped_calls_today", label)] == campaign["dropped_today"]
        )
        ratio = samples[
            ("vicidial_campaign_drop_ratio", (("campaign", campaign["id"]), ("window", "today")))
        ]
        assert ratio == pytest.approx(campaign["drop_ratio"])
        for state, count in campaign["agents"].items():
            key = ("vicidial_campaign_agents", (("campaign", campaign["id"]), ("state", state)))
            assert samples[key] == count
    assert samples[("vicidial_up", ())] == 1
    assert "HELP vicidial_campaign_calls_today" in text
    assert "refreshed every" in text
    assert sim.password not in text


async def test_scrapes_cost_the_dialer_nothing(daemon: tuple[SimHandle, DaemonHandle]) -> None:
    sim, handle = daemon
    before = (await sim.requests())["total"]
    await asyncio.gather(*(scrape(handle) for _ in range(20)))
    assert (await sim.requests())["total"] == before
