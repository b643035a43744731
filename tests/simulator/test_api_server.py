"""Running the simulator: the simulated clock, the CLI options and the blocking entry point."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from wallboard.simulator.server import (
    SimClock,
    SimulatorOptions,
    add_simulate_arguments,
    options_from_args,
)

START = datetime(2025, 9, 3, 14, 0, tzinfo=UTC)


class FakeMonotonic:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


def test_clock_runs_at_speed_plus_manual_advances() -> None:
    mono = FakeMonotonic()
    clock = SimClock(START, 60.0, mono)
    assert clock.now() == START
    mono.value += 2.0
    assert clock.now() == START + timedelta(minutes=2)
    clock.advance(30)
    assert clock.now() == START + timedelta(minutes=2, seconds=30)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_speed_zero_only_moves_by_advances() -> None:
    mono = FakeMonotonic()
    clock = SimClock(START, 0.0, mono)
    mono.value += 1000
    assert clock.now() == START
    clock.advance(5)
    assert clock.now() == START + timedelta(seconds=5)


def test_clock_rejects_naive_start_and_negative_speed() -> None:
    with pytest.raises(ValueError, match="aware"):
        SimClock(START.replace(tzinfo=None), 1.0)
    with pytest.raises(ValueError, match="speed"):
        SimClock(START, -1.0)


def test_cli_arguments_become_options() -> None:
    parser = argparse.ArgumentParser()
    add_simulate_arguments(parser)
    ns = parser.parse_args(
        [
            "--port", "9000", "--seed", "3", "--campaigns", "2", "--agents", "12",
            "--speed", "0", "--user-level", "8", "--deny", "hopper_list",
            "--deny", "update_campaign", "--legacy-build", "--start", "2025-09-03T14:00:00+00:00",
        ]
    )  # fmt: skip
    assert (ns.host, ns.port) == ("127.0.0.1", 9000)
    options = options_from_args(ns)
    assert options == SimulatorOptions(
        seed=3,
        campaigns=2,
        agents=12,
        speed=0.0,
        user_level=8,
        deny=("hopper_list", "update_campaign"),
        legacy_build=True,
        start=START,
    )
    assert "wallboard-demo-pass" not in repr(options)
    defaults = options_from_args(parser.parse_args([]))
    assert defaults == SimulatorOptions()
    with pytest.raises(SystemExit):
        parser.parse_args(["--deny", "campaign_stats"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--start", "2025-09-03T14:00:00"])


async def test_run_simulator_prints_its_url_and_stops_on_sigint() -> None:
    code = (
        "from wallboard.simulator.server import SimulatorOptions, run_simulator;"
        "run_simulator(SimulatorOptions(speed=0), '127.0.0.1', 0)"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        base_url = first.decode().rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        rest = b"".join([await process.stdout.readline() for _ in range(3)]).decode()
        assert "user: wallboard  pass: wallboard-demo-pass" in rest
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{base_url}/vicidial/non_agent_api.php", params={"function": "version"}
            ) as response,
        ):
            assert (await response.text()).startswith("VERSION: 2.14-202|")
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
