"""The ``wallboard`` command as an operator runs it: real processes, real simulator and Slack."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.sim import SimHandle, running_simulator
from tests.support.slack_server import running_slack
from tests.support.waiting import eventually


async def wallboard(*args: str, limit: float = 60) -> tuple[int, str]:
    """Run ``python -m wallboard ARGS``; return (exit code, stdout + stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wallboard",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), limit)
    finally:
        if process.returncode is None:  # timed out (or cancelled): never leave it running
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode()


def write_config(
    path: Path, base_url: str, *, password: str = "wallboard-demo-pass", extra: str = ""
) -> Path:
    path.write_text(
        f"""
[vicidial]
url = "{base_url}"
user = "wallboard"
pass = "{password}"
campaigns = ["SALES1", "SALES2"]
timeout = "3s"

[web]
listen = "127.0.0.1:0"

[state]
path = "{path.parent / "state.db"}"
{extra}
"""
    )
    return path


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator() as handle:
        yield handle


async def test_check_passes_against_a_well_configured_dialer(
    sim: SimHandle, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "wb.toml", sim.base_url)
    code, out = await wallboard("check", "--config", str(config))
    assert code == 0, out
    for name in (
        "config",
        "version",
        "logged_in_agents",
        "call_status_stats",
        "campaigns_list",
        "hopper_list",
    ):
        assert any(line.startswith("OK") and f" {name}" in line for line in out.splitlines()), name
    assert "2.14-202" in out
    assert sim.password not in out


async def test_check_names_the_missing_user_level(tmp_path: Path) -> None:
    async with running_simulator(user_level=7) as sim:
        config = write_config(tmp_path / "wb.toml", sim.base_url)
        code, out = await wallboard("check", "--config", str(config))
    assert code == 1, out
    failing = {line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("FAIL")}
    assert {"call_status_stats", "campaigns_list", "hopper_list"} <= failing
    stats_line = next(line for line in out.splitlines() if "call_status_stats" in line)
    assert "user level 9" in stats_line
    assert "View Reports" in stats_line
    assert any(line.startswith("OK") and "logged_in_agents" in line for line in out.splitlines())
    assert sim.password not in out


async def test_check_names_the_denied_function(tmp_path: Path) -> None:
    async with running_simulator(deny=("call_status_stats",)) as sim:
        config = write_config(tmp_path / "wb.toml", sim.base_url)
        code, out = await wallboard("check", "--config", str(config))
    assert code == 1, out
    line = next(line for line in out.splitlines() if line.startswith("FAIL"))
    assert "call_status_stats" in line
    assert "Allowed Functions" in line


async def test_check_with_a_wrong_password_says_so_without_echoing_it(
    sim: SimHandle, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "wb.toml", sim.base_url, password="Not-The-Pass-99")
    code, out = await wallboard("check", "--config", str(config))
    assert code == 1, out
    assert "login" in out.lower()
    assert "Not-The-Pass-99" not in out


async def test_check_probes_update_campaign_only_with_auto_pause(
    sim: SimHandle, tmp_path: Path
) -> None:
    extra = '[alerts.auto_pause]\ncampaigns = ["SALES1"]\nat = 0.029\ndry_run = true\n'
    config = write_config(tmp_path / "wb.toml", sim.base_url, extra=extra)
    code, out = await wallboard("check", "--config", str(config))
    assert code == 0, out
    line = next(line for line in out.splitlines() if "update_campaign SALES1" in line)
    assert line.startswith("OK   update_campaign SALES1: may pause this campaign")
    assert "probed without changing anything" in line
    # the probe changed nothing
    assert all(c["active"] for c in (await sim.state())["campaigns"])
    assert [entry["campaign_id"] for entry in (await sim.requests())["update_campaign"]] == [
        "SALES1"
    ]

    config = write_config(tmp_path / "plain.toml", sim.base_url)
    code, out = await wallboard("check", "--config", str(config))
    assert code == 0, out
    assert "OK   update_campaign: not needed" in out
    assert len((await sim.requests())["update_campaign"]) == 1  # no probe without auto-pause


async def test_check_slack_auth_test(sim: SimHandle, tmp_path: Path) -> None:
    async with running_slack() as slack:
        good = (
            f'[slack]\ntoken = "{slack.token}"\nchannel = "#floor"\nbase_url = "{slack.base_url}"\n'
        )
        config = write_config(tmp_path / "good.toml", sim.base_url, extra=good)
        code, out = await wallboard("check", "--config", str(config))
        assert code == 0, out
        assert "OK   slack: token verified (auth.test" in out
        assert "nothing was posted" in out
        assert slack.token not in out

        bad = good.replace(slack.token, "xoxb-wrong-token-5678")
        config = write_config(tmp_path / "bad.toml", sim.base_url, extra=bad)
        code, out = await wallboard("check", "--config", str(config))
        assert code == 1, out
        assert "invalid_auth" in out
        assert "xoxb-wrong-token-5678" not in out


async def test_bad_config_lists_every_error_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        """
[vicidial]
url = "ftp://dialer"
user = "wallboard"
pass = "Secret-123"
pasword = "oops"

[alerts]
warn_at = 0.5
"""
    )
    for command in ("check", "run"):
        code, out = await wallboard(command, "--config", str(config))
        assert code == 2, out
        assert "vicidial.url" in out
        assert "vicidial.pasword" in out
        assert "Traceback" not in out
        assert "Secret-123" not in out


async def test_field_missing_and_cross_field_errors_are_printed_together(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        """
[vicidial]
url = "ftp://dialer"
user = "wallboard"

[alerts]
warn_at = 0.029
critical_at = 0.028
"""
    )
    for command in ("check", "run"):
        code, out = await wallboard(command, "--config", str(config))
        assert code == 2, out
        assert "vicidial.url: must be an http:// or https:// URL" in out
        assert "vicidial.pass: required (or give pass_file)" in out
        assert "alerts.warn_at: must be below critical_at (0.028)" in out


async def test_check_exits_2_on_an_unusable_state_path(sim: SimHandle, tmp_path: Path) -> None:
    config = write_config(tmp_path / "wb.toml", sim.base_url)
    config.write_text(config.read_text().replace(str(tmp_path / "state.db"), str(tmp_path)))

    code, out = await wallboard("check", "--config", str(config))

    assert code == 2, out
    assert f"FAIL state.path: {tmp_path} is a directory" in out
    assert "OK   call_status_stats" in out  # every other check still ran


async def test_run_refuses_an_unusable_state_path_at_once(sim: SimHandle, tmp_path: Path) -> None:
    config = write_config(tmp_path / "wb.toml", sim.base_url)
    missing = tmp_path / "no-such-dir" / "state.db"
    config.write_text(config.read_text().replace(str(tmp_path / "state.db"), str(missing)))

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wallboard", "run", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:  # it kept running: the bug this test is about
            process.kill()
            await process.wait()
    code, out = process.returncode, output.decode()

    assert code == 2, out
    assert f"state.path: directory {missing.parent} does not exist" in out
    assert "Traceback" not in out


async def test_usage_errors_exit_2() -> None:
    code, _ = await wallboard("frobnicate")
    assert code == 2
    code, _ = await wallboard("run")
    assert code == 2


async def start_run(config: Path) -> tuple[asyncio.subprocess.Process, str]:
    """``wallboard run`` on a free port; returns the process and its base URL."""
    port = _free_port()
    _listen_on(config, port)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wallboard", "run", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


async def answers(session: aiohttp.ClientSession, url: str, status: int = 200) -> bool:
    try:
        async with session.get(url) as response:
            return response.status == status
    except aiohttp.ClientError:
        return False


async def test_run_stops_cleanly_on_sigterm(sim: SimHandle, tmp_path: Path) -> None:
    process, url = await start_run(write_config(tmp_path / "wb.toml", sim.base_url))
    async with aiohttp.ClientSession() as session:
        await eventually(
            lambda: answers(session, url + "/readyz"), within=30, what="wallboard run is ready"
        )
        async with session.get(url + "/api/events") as stream:
            await stream.content.readuntil(b"\n\n")
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(stream.content.read(), 5)  # the stream is closed
            code = await asyncio.wait_for(process.wait(), 5)
            elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 5
    assert isinstance(rest, bytes)
    assert process.stdout is not None
    log = (await process.stdout.read()).decode()
    assert "daemon stopped" in log
    assert sim.password not in log


async def test_sigterm_during_a_hanging_poll_still_exits_promptly(
    sim: SimHandle, tmp_path: Path
) -> None:
    await sim.add_fault("*", "timeout", times=1000)  # the dialer accepts and never answers
    process, url = await start_run(write_config(tmp_path / "wb.toml", sim.base_url))
    async with aiohttp.ClientSession() as session:
        await eventually(
            lambda: answers(session, url + "/healthz"), within=30, what="wallboard run serves"
        )
        assert await answers(session, url + "/readyz", status=503)
    await eventually(
        lambda: _requests_seen(sim), within=10, what="a poll is in flight at the dialer"
    )
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), 5)
    assert code == 0
    assert time.monotonic() - started < 5
    assert process.stdout is not None
    log = (await process.stdout.read()).decode()
    assert "Traceback" not in log
    assert "daemon stopped" in log


async def _requests_seen(sim: SimHandle) -> bool:
    return int((await sim.requests())["total"]) > 0


def _listen_on(config: Path, port: int) -> None:
    text = config.read_text().replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
    config.write_text(text)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
