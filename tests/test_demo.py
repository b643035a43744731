"""``wallboard demo``: the steered story, its settings, its Slack options and the real process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.sim import running_simulator
from tests.support.waiting import eventually
from wallboard.config import load_default_config
from wallboard.demo import (
    SLACK_TOKEN_ENV,
    DemoUsageError,
    demo_overrides,
    slack_section,
)
from wallboard.simulator.scenario import (
    ANSWERED_FLOOR,
    DropStory,
    ScenarioRunner,
    default_start,
    parse_start,
    steered_counts,
)
from wallboard.simulator.server import CLOCK_KEY
from wallboard.simulator.world import World
from wallboard.windows import DropWindow, Severity, Thresholds, severity

THRESHOLDS = Thresholds()  # the demo config's: warn 2.5 %, critical 2.8 %, limit 3 %, 50 answered
CLEAR_MARGIN = 0.002
CLEARED = THRESHOLDS.warn_at - CLEAR_MARGIN  # a warning clears only below this
SECRET = "xoxb-demo-secret-4242"


# --- the story as a pure function of time ----------------------------------------------------


def crossings(story: DropStory, cycle_start: float) -> tuple[float, float, float]:
    """Seconds into one cycle when the ratio first reaches warn, then critical, then clears."""
    warned = critical = cleared = None
    for tenth in range(int(story.period * 10)):
        at = tenth / 10
        ratio = story.ratio_at(cycle_start + at)
        if warned is None and ratio >= THRESHOLDS.warn_at:
            warned = at
        if warned is not None and critical is None and ratio >= THRESHOLDS.critical_at:
            critical = at
        if critical is not None and cleared is None and ratio < CLEARED:
            cleared = at
    assert warned is not None
    assert critical is not None
    assert cleared is not None
    return warned, critical, cleared


def test_the_story_rises_through_warning_to_critical_and_clears_within_two_minutes() -> None:
    story = DropStory.for_thresholds(THRESHOLDS, CLEAR_MARGIN)
    warned, critical, cleared = crossings(story, 0)
    assert 0 < warned < critical < cleared <= 125
    # Each state holds long enough for a 10 s stats poll (+2 s jitter) and a 15 s pending.
    assert critical - warned >= 30
    assert story.ratio_at(0) < CLEARED  # it starts calm, below the clear line
    peak = max(story.ratio_at(tenth / 10) for tenth in range(int(story.period * 10)))
    assert THRESHOLDS.critical_at < peak <= THRESHOLDS.limit
    held_critical = sum(
        story.ratio_at(tenth / 10) >= THRESHOLDS.critical_at
        for tenth in range(int(story.period * 10))
    )
    assert held_critical / 10 >= 30
    calm_after = [story.ratio_at(t) for t in range(130, int(story.period))]
    assert max(calm_after) < CLEARED  # then quiet until the next cycle


def test_the_story_repeats_every_few_minutes() -> None:
    story = DropStory.for_thresholds()
    assert 120 < story.period <= 600
    for cycle in (1, 2, 7):
        assert crossings(story, cycle * story.period) == crossings(story, 0)
    for second in range(0, 2 * int(story.period), 7):
        assert story.ratio_at(second + story.period) == pytest.approx(story.ratio_at(second))


def test_the_story_follows_other_thresholds() -> None:
    strict = Thresholds(limit=0.02, warn_at=0.012, critical_at=0.016)
    story = DropStory.for_thresholds(strict, 0.001)
    ratios = [story.ratio_at(t) for t in range(int(story.period))]
    assert ratios[0] < strict.warn_at - 0.001
    assert strict.critical_at < max(ratios) <= strict.limit


def test_steered_counts_keep_the_answered_calls_and_a_floor() -> None:
    assert steered_counts(0.02, 10) == (ANSWERED_FLOOR, 20)
    assert steered_counts(0.029, 1234) == (1234, 36)
    assert steered_counts(1.5, 1234) == (1234, 1234)  # never more drops than answers


# --- the mid-morning clock ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("real_now", "expected"),
    [
        # 04:22 UTC is still the previous evening at GMT-5 (winter): that day, 10:30.
        (datetime(2026, 12, 2, 4, 22, tzinfo=UTC), "2026-12-01T10:30:00-05:00"),
        # Summer: daylight saving time, 10:30 at -04:00.
        (datetime(2026, 7, 15, 20, 0, tzinfo=UTC), "2026-07-15T10:30:00-04:00"),
        # Late at night local time: still that day's mid-morning (the clock only moves forward
        # from the start, so the demo begins with the morning already counted).
        (datetime(2026, 3, 4, 4, 59, tzinfo=UTC), "2026-03-03T10:30:00-05:00"),
    ],
)
def test_the_demo_starts_at_half_past_ten_on_the_simulators_clock(
    real_now: datetime, expected: str
) -> None:
    start = default_start(real_now)
    assert start.isoformat() == expected
    world = World(now=start)
    assert world.local_now.time().isoformat() == "10:30:00"
    assert world.local_today() == start.date()


def test_start_accepts_local_time_or_an_offset_and_refuses_garbage() -> None:
    assert parse_start("2026-07-15T10:30").isoformat() == "2026-07-15T10:30:00-04:00"
    assert parse_start("2026-11-25T09:00").utcoffset() == timedelta(hours=-5)
    given = parse_start("2026-11-25T10:30:00+01:00")
    assert given.utcoffset() == timedelta(hours=1)
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_start("half past ten")


# --- the story on a real simulator --------------------------------------------------------------


async def test_the_story_drives_the_simulated_campaign_through_every_severity() -> None:
    """Frozen simulated clock advanced by hand; figures read back through ``/_sim/state``."""
    start = datetime(2026, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=-5)))
    async with running_simulator(start=start) as sim:
        clock = sim.simulator.app[CLOCK_KEY]
        runner = ScenarioRunner(sim.world, clock.now)
        story = runner.story
        seen: list[tuple[float, Severity, float]] = []
        others: set[Severity] = set()
        for _ in range(int(2 * story.period / 5)):
            steered = runner.step()
            state = await sim.state()
            by_id = {campaign["id"]: campaign for campaign in state["campaigns"]}
            sales1 = by_id["SALES1"]
            window = DropWindow(answered=sales1["answered_today"], dropped=sales1["dropped_today"])
            assert (window.answered, window.dropped) == (steered.answered, steered.dropped)
            seen.append((steered.elapsed, severity(window, THRESHOLDS), window.drop_ratio))
            for campaign_id, campaign in by_id.items():
                if campaign_id != "SALES1":
                    other = DropWindow(
                        answered=campaign["answered_today"], dropped=campaign["dropped_today"]
                    )
                    others.add(severity(other, THRESHOLDS))
            await sim.advance(5)

    assert all(grade is not Severity.INSUFFICIENT for _, grade, _ in seen)
    for cycle in range(2):
        offset = cycle * story.period
        in_cycle = [(t - offset, g, r) for t, g, r in seen if offset <= t < offset + story.period]
        grades = [grade for _, grade, _ in in_cycle]
        collapsed = [g for i, g in enumerate(grades) if i == 0 or g != grades[i - 1]]
        assert collapsed == [
            Severity.OK,
            Severity.WARNING,
            Severity.CRITICAL,
            Severity.WARNING,
            Severity.OK,
        ], in_cycle
        first_critical = next(t for t, g, _ in in_cycle if g is Severity.CRITICAL)
        assert next(t for t, g, _ in in_cycle if g is Severity.WARNING) <= 35
        assert first_critical <= 75
        cleared = next(t for t, _, r in in_cycle if t > first_critical and r < CLEARED)
        assert cleared <= 130
    # The rest of the floor was calmed so only the story alerts.
    assert others <= {Severity.OK}


async def test_the_story_refuses_an_unknown_campaign() -> None:
    async with running_simulator(campaigns=1) as sim:
        clock = sim.simulator.app[CLOCK_KEY]
        with pytest.raises(ValueError, match="SALES2"):
            ScenarioRunner(sim.world, clock.now, campaign_id="SALES2")


# --- the demo's settings -------------------------------------------------------------------------


def demo_settings(slack: dict[str, str] | None, tmp_path: Path) -> Any:
    return load_default_config(
        demo_overrides(
            simulator_url="http://127.0.0.1:40000",
            listen="127.0.0.1:0",
            state_path=tmp_path / "wallboard.db",
            slack=slack,
        )
    )


def test_the_demo_config_alerts_after_15_seconds_and_polls_stats_often(tmp_path: Path) -> None:
    settings = demo_settings(None, tmp_path)
    assert settings.alerts.pending == timedelta(seconds=15)
    assert settings.alerts.min_answered == 50
    assert settings.poll.stats_interval <= timedelta(seconds=10)
    assert settings.slack is None
    assert settings.vicidial.url == "http://127.0.0.1:40000"


def test_slack_comes_from_the_environment_or_a_file_never_the_command_line(
    tmp_path: Path,
) -> None:
    assert slack_section(None, None, {SLACK_TOKEN_ENV: SECRET}) is None
    from_env = slack_section("C0DEMO", None, {SLACK_TOKEN_ENV: SECRET})
    settings = demo_settings(from_env, tmp_path)
    assert settings.slack.channel == "C0DEMO"
    assert settings.slack.token_value() == SECRET
    assert SECRET not in repr(settings)

    token_file = tmp_path / "slack-token"
    token_file.write_text("xoxb-from-a-file\n")
    from_file = slack_section("#alerts", token_file, {SLACK_TOKEN_ENV: SECRET})
    settings = demo_settings(from_file, tmp_path)
    assert settings.slack.token_value() == "xoxb-from-a-file"  # the file beats the environment

    with pytest.raises(DemoUsageError, match=SLACK_TOKEN_ENV):
        slack_section("C0DEMO", None, {})
    with pytest.raises(DemoUsageError, match="--slack-channel"):
        slack_section(None, token_file, {})


# --- the real command ----------------------------------------------------------------------------


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALLBOARD_")}
    env["PYTHONWARNINGS"] = "ignore"
    env.update(extra)
    return env


async def wallboard(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``python -m wallboard ARGS`` to completion; (exit code, stdout + stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wallboard", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=env or _environment(),
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:  # timed out: never leave it running
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_slack_channel_without_a_token_exits_2_and_says_where_the_token_goes() -> None:
    code, out = await wallboard("demo", "--port", "0", "--slack-channel", "C0DEMO")
    assert code == 2
    assert SLACK_TOKEN_ENV in out
    assert "--slack-token-file" in out
    assert "Wallboard demo running" not in out


async def test_there_is_no_slack_token_option_and_the_token_is_never_echoed() -> None:
    code, out = await wallboard("demo", "--help")
    assert code == 0
    assert "--slack-channel" in out
    assert "--slack-token-file" in out
    assert "--slack-token " not in out.replace("--slack-token-file", "")
    for args in (
        ("--slack-token", SECRET),
        (f"--slack-token={SECRET}",),
        ("--slack-channel", "C0DEMO", "--slack-token", SECRET),
    ):
        code, out = await wallboard("demo", "--port", "0", *args)
        assert code == 2, out
        assert SECRET not in out
        assert SLACK_TOKEN_ENV in out


async def test_bad_demo_arguments_exit_2(tmp_path: Path) -> None:
    code, out = await wallboard("demo", "--port", "0", "--start", "half past ten")
    assert code == 2
    assert "ISO 8601" in out
    code, out = await wallboard("demo", "--slack-token-file", str(tmp_path / "token"))
    assert code == 2
    assert "--slack-channel" in out
    missing = tmp_path / "no-such-token"
    code, out = await wallboard(
        "demo", "--port", "0", "--slack-channel", "C0DEMO", "--slack-token-file", str(missing)
    )
    assert code == 2
    assert "slack.token_file: cannot read the file named there" in out
    assert str(missing) not in out, "the path is never echoed (it may be the secret itself)"


async def _read_banner(stream: asyncio.StreamReader, output: list[str]) -> str:
    """Read the start-up output up to the banner's last line; return the board URL."""
    url = ""
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError("the demo exited before its banner:\n" + "".join(output))
        output.append(line)
        if "Wallboard demo running:" in line:
            url = line.split("Wallboard demo running:", 1)[1].strip().rstrip("/")
        if "Press Ctrl-C to stop." in line:
            assert url, "".join(output)
            return url


async def _drain(stream: asyncio.StreamReader, output: list[str]) -> None:
    """Keep reading so a chatty log never fills the pipe and blocks the demo."""
    while line := await stream.readline():
        output.append(line.decode())


async def test_the_demo_serves_the_story_from_the_chosen_start_and_stops_on_ctrl_c() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wallboard", "demo", "--port", "0",
        "--start", "2026-03-04T10:30",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=_environment(),
    )  # fmt: skip
    assert process.stdout is not None
    output: list[str] = []
    drain: asyncio.Task[None] | None = None
    try:
        url = await asyncio.wait_for(_read_banner(process.stdout, output), 60)
        drain = asyncio.create_task(_drain(process.stdout, output))
        banner = "".join(output)
        assert "2026-03-04T10:30-05:00" in banner
        assert "on the board and in this log" in banner
        snapshot: dict[str, Any] = {}

        async def story_on_the_board() -> bool:
            async with session.get(url + "/api/snapshot") as response:
                if response.status != 200:  # 503 until the first snapshot is taken
                    return False
                snapshot.update(await response.json())
            by_id = {campaign["id"]: campaign for campaign in snapshot.get("campaigns", [])}
            sales1 = by_id.get("SALES1")
            return sales1 is not None and sales1["answered_today"] >= ANSWERED_FLOOR

        async with aiohttp.ClientSession() as session:
            await eventually(story_on_the_board, within=30, what="SALES1 steered on the board")
        # The daemon follows the simulator's clock: the snapshot is taken on the chosen day.
        assert snapshot["taken_at"].startswith("2026-03-04T15:3")
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 15)
        await asyncio.wait_for(drain, 5)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if drain is not None:
            drain.cancel()
    log = "".join(output)
    assert code == 0, log
    assert "demo story: SALES1 calm" in log
    assert "Traceback" not in log
