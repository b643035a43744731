"""The compose demo's two parts that run here without Docker: the simulator's start-up script
(contrib/compose/demo_simulator.py) and the demo daemons' config (contrib/compose/demo.toml),
against a real simulator started the way the script starts it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.deploy.compose_file import ROOT
from tests.deploy.demo_simulator import demo_module
from tests.support.sim import running_simulator
from wallboard.check import run_checks
from wallboard.cli import _parser
from wallboard.config import load_config

DEMO = demo_module()
DEMO_CONFIG = ROOT / "contrib" / "compose" / "demo.toml"
INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)


@given(INSTANTS)
def test_the_simulated_dialer_is_at_mid_morning_whatever_the_hour(now: datetime) -> None:
    offset = DEMO.mid_morning_offset(now)
    assert offset in DEMO.OFFSETS
    local = DEMO.local_time_of_day(now, offset)
    assert abs(local - DEMO.TARGET) <= timedelta(minutes=30), (now, offset, local)


def test_the_local_time_follows_the_simulators_us_daylight_saving_time() -> None:
    # 15:00 UTC is 10:00 at -5 in winter, and 11:00 at -5 (+1 DST) in summer.
    winter, summer = datetime(2026, 1, 15, 15, tzinfo=UTC), datetime(2026, 7, 15, 15, tzinfo=UTC)
    assert DEMO.local_time_of_day(winter, -5) == timedelta(hours=10)
    assert DEMO.local_time_of_day(summer, -5) == timedelta(hours=11)
    assert DEMO.mid_morning_offset(summer) == -6


def test_the_script_calls_wallboard_simulate_with_valid_arguments() -> None:
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    argv = DEMO.simulate_arguments(now, ["--seed", "7"])
    args = _parser().parse_args(argv)
    assert args.command == "simulate"
    assert (args.host, args.port) == ("0.0.0.0", DEMO.PORT)
    assert args.gmt_offset == DEMO.mid_morning_offset(now)
    assert args.seed == 7


async def test_the_demo_config_passes_wallboard_check_against_the_demo_simulator(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    async with running_simulator(
        start=now, speed=1.0, gmt_offset=DEMO.mid_morning_offset(now)
    ) as sim:
        # The simulator's container name becomes this machine's address, and the container's
        # paths a temporary directory; nothing else of the file changes (`check` does not use
        # Redis, so redis:6379 stays as it is).
        settings = load_config(
            DEMO_CONFIG,
            environ={
                "WALLBOARD_VICIDIAL__URL": sim.base_url,
                "WALLBOARD_STATE__PATH": str(tmp_path / "wallboard.db"),
                "WALLBOARD_WEB__LISTEN": "127.0.0.1:0",
            },
        )
        out = io.StringIO()
        report = await run_checks(settings, out=out)
        assert report.exit_code == 0, out.getvalue()
        # A busy floor, which is the point of the mid-morning offset.
        agents = sim.world.state()["agents"]
        assert isinstance(agents, list)
        assert len(agents) >= 10, f"only {len(agents)} agents logged in at {now}"
