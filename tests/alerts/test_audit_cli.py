"""``wallboard audit`` as an operator runs it: a real process, beside a running daemon or not,
on the SQLite state file or on Redis."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from tests.support.redis_server import RedisServer
from tests.support.sim import SimHandle, running_simulator
from tests.support.waiting import eventually
from tests.test_cli import answers, start_run, wallboard
from wallboard.alerts.store import AlertStore, RedisAlertStore, SqliteAlertStore
from wallboard.alerts.types import AutoPauseOutcome
from wallboard.cache import connect_redis

PREFIX = "wb-audit"


def write_config(tmp_path: Path, base_url: str = "http://127.0.0.1:9", *, extra: str = "") -> Path:
    config = tmp_path / "wb.toml"
    config.write_text(
        f"""
[vicidial]
url = "{base_url}"
user = "wallboard"
pass = "wallboard-demo-pass"
campaigns = ["SALES1", "SALES2"]
timeout = "3s"
timezone = "America/New_York"

[web]
listen = "127.0.0.1:0"

[state]
path = "{tmp_path / "state.db"}"
{extra}
"""
    )
    return config


async def record_trail(store: AlertStore) -> None:
    """Three decisions: the evening before (dialer time), a dry run, and a refused real one."""
    trail = [
        (datetime(2026, 11, 25, 4, 30, tzinfo=UTC), "SALES2", True, "would_pause", 0.0291),
        (datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC), "SALES1", True, "would_pause", 0.0294),
        (datetime(2026, 11, 25, 16, 0, tzinfo=UTC), "SALES1", False, "refused", None),
    ]
    for at, campaign, dry_run, outcome, ratio in trail:
        detail = (
            "dry run: nothing sent to VICIdial"
            if dry_run
            else "ERROR: update_campaign USER DOES NOT HAVE PERMISSION TO UPDATE CAMPAIGNS\n"
            "fix: give the API user 'Modify Campaigns'"
        )
        await store.add_audit(
            AutoPauseOutcome(campaign, at, dry_run, outcome, detail),
            incident_key=f"drop:{campaign}:today:{at.date()}",
            ratio=ratio,
            window="today",
        )


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def trail_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("2026-")]


def assert_full_trail(out: str) -> None:
    lines = trail_lines(out)
    assert len(lines) == 3, out
    evening, dry, refused = lines
    assert evening.startswith("2026-11-24 23:30:00-05:00  SALES2  today  ratio 2.91 %  dry-run")
    assert dry == (
        "2026-11-25 10:04:05-05:00  SALES1  today  ratio 2.94 %  dry-run  would_pause  "
        "VICIdial: dry run: nothing sent to VICIdial  (incident drop:SALES1:today:2026-11-25)"
    )
    assert refused.startswith("2026-11-25 11:00:00-05:00  SALES1  today  ratio ?  real  refused")
    assert "USER DOES NOT HAVE PERMISSION TO UPDATE CAMPAIGNS fix: give the API user" in refused


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator() as handle:
        yield handle


async def test_an_empty_trail_says_so_and_creates_no_state_file(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code, out = await wallboard("audit", "--config", str(config))
    assert code == 0, out
    assert out.strip() == (
        f"no auto-pause actions recorded (state file {tmp_path / 'state.db'} does not exist yet)"
    )
    assert not (tmp_path / "state.db").exists()

    code, out = await wallboard("audit", "--config", str(config), "--since", "2026-11-25")
    assert code == 0, out
    assert out.startswith("no auto-pause actions recorded since 2026-11-25 (")


async def test_the_trail_prints_while_the_daemon_runs_and_after_it_stopped(
    sim: SimHandle, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sim.base_url)
    process, url = await start_run(config)
    try:
        async with aiohttp.ClientSession() as session:
            await eventually(
                lambda: answers(session, url + "/readyz"), within=30, what="wallboard run is ready"
            )
        writer = SqliteAlertStore(tmp_path / "state.db")  # stands in for the leader's engine
        try:
            await record_trail(writer)
            code, out = await wallboard("audit", "--config", str(config))
            assert code == 0, out
            assert_full_trail(out)

            # --since is a dialer date: the evening before (04:30 UTC) is not on the 25th
            code, out = await wallboard("audit", "--config", str(config), "--since", "2026-11-25")
            assert code == 0, out
            assert [line.split("  ")[1] for line in trail_lines(out)] == ["SALES1", "SALES1"]
        finally:
            await writer.close()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
    assert process.returncode == 0
    files = listing(tmp_path)
    code, out = await wallboard("audit", "--config", str(config))
    assert code == 0, out
    assert_full_trail(out)
    assert sim.password not in out
    assert listing(tmp_path) == files  # read, nothing written


async def test_the_trail_is_read_from_redis_with_the_redis_backend(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    extra = (
        f'[cache]\nbackend = "redis"\nredis_url = "{redis_server.url}"\nkey_prefix = "{PREFIX}"\n'
    )
    config = write_config(tmp_path, extra=extra)
    code, out = await wallboard("audit", "--config", str(config))
    assert code == 0, out
    assert out.strip() == f"no auto-pause actions recorded (Redis keys {PREFIX}:alerts:*)"

    store = RedisAlertStore(connect_redis(redis_server.url), PREFIX)
    try:
        await record_trail(store)
    finally:
        await store.close()
    code, out = await wallboard("audit", "--config", str(config))
    assert code == 0, out
    assert_full_trail(out)
    assert not (tmp_path / "state.db").exists()

    redis_server.kill()
    code, out = await wallboard("audit", "--config", str(config), limit=30)
    assert code == 1, out
    assert out.startswith("wallboard: cannot read the audit trail: alert store in Redis:"), out
    assert "Traceback" not in out


async def test_bad_config_or_date_exits_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra='[alerts]\nlimit = "lots"\n')
    code, out = await wallboard("audit", "--config", str(config))
    assert code == 2, out
    assert "alerts.limit" in out
    assert "Traceback" not in out

    config = write_config(tmp_path)
    code, out = await wallboard("audit", "--config", str(config), "--since", "25/11/2026")
    assert code == 2, out
    assert "'25/11/2026' is not a date (YYYY-MM-DD)" in out
    code, out = await wallboard("audit")
    assert code == 2, out
