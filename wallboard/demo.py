"""``wallboard demo``: the simulator, a steered story and the daemon in one process.

The simulator listens on a free loopback port with its clock at a busy mid-morning (today at
10:30 in its zone unless ``--start`` says otherwise) and runs at real speed from there; the
daemon uses the embedded default config pointed at it, with its state in a temporary
directory, and follows the simulator's clock so both agree on the dialer's day. A
:class:`~wallboard.simulator.scenario.ScenarioRunner` steers one campaign through warning to
critical and back every few minutes, so the alerts can be seen working within two minutes.
Ctrl-C stops everything.

Slack is opt-in: ``--slack-channel`` with the bot token from ``WALLBOARD_SLACK__TOKEN`` or
``--slack-token-file``. There is deliberately no ``--slack-token``: a token on the command line
is readable by every local user in ``ps`` and stays in the shell history.

Heavy imports (the daemon, the simulator) happen inside the functions that run them, so
building the ``wallboard`` argument parser stays cheap for every other command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wallboard.config import Settings
    from wallboard.simulator.scenario import ScenarioRunner
    from wallboard.simulator.world import World

log = logging.getLogger(__name__)

#: The one place the demo reads the environment: the Slack bot token, never an argument.
SLACK_TOKEN_ENV = "WALLBOARD_SLACK__TOKEN"  # noqa: S105 - a variable name, not a token

#: What the demo changes in the embedded default config, besides addresses and state. Stats
#: are polled every 10 s (not 60 s) so each step of the two-minute story reaches the board and
#: the alert engine; the VICIdial timeout is shorter than that poll, as the config requires;
#: the request budget is raised because the only dialer here is the in-process simulator.
DEMO_SETTINGS: Mapping[str, Mapping[str, Any]] = {
    "vicidial": {"timeout": "3s"},
    "poll": {"stats_interval": "10s", "jitter": "2s", "max_requests_per_minute": 120},
    # The compliance windows on show: a shift that ends at 21:00 (the forecast's horizon),
    # SALES3 in UK mode beside VICIdial's own figure, SALES1 and SALES2 pooled as a group.
    "alerts": {
        "pending": "15s",
        "shift_end": "21:00",
        "campaigns": {"SALES3": {"uk_ofcom": True}},
    },
}

#: Drop-rate groups of the demo (``[[drop_groups]]``).
DEMO_DROP_GROUPS: tuple[Mapping[str, Any], ...] = (
    {"name": "outbound", "campaigns": ["SALES1", "SALES2"]},
)

_EXIT_OK, _EXIT_FAILURE, _EXIT_USAGE = 0, 1, 2  # wallboard.cli's exit codes (CONTRACT §2)


class DemoUsageError(Exception):
    """The demo's arguments cannot work together; the message says what to do (exit 2)."""


@dataclass(frozen=True)
class DemoOptions:
    """``wallboard demo``'s arguments. ``start`` is the raw ``--start`` text (None: 10:30 today)."""

    host: str = "127.0.0.1"
    port: int = 8080
    speed: float = 1.0
    seed: int = 1
    start: str | None = None
    slack_channel: str | None = None
    slack_token_file: Path | None = None


class _NoTokenOnCommandLine(argparse.Action):
    """``--slack-token`` is refused with the way to do it instead, never echoing the value."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            "there is no --slack-token: a token on the command line is visible in ps and the "
            f"shell history; set {SLACK_TOKEN_ENV} or use --slack-token-file FILE"
        )


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``wallboard demo`` options (create the subparser with ``allow_abbrev=False``, so
    ``--slack-token`` can never be read as an abbreviation of ``--slack-token-file``)."""
    parser.add_argument("--port", type=int, default=8080, help="port for the board (default 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="address for the board")
    parser.add_argument(
        "--start",
        metavar="ISO-8601",
        help="the dialer clock's start, e.g. 2026-11-25T10:30 (the simulator's local time) or "
        "2026-11-25T10:30:00-05:00 (default: today at 10:30 in the simulator's zone)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1; the daemon follows this clock)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the simulated floor's seed")
    parser.add_argument(
        "--slack-channel",
        metavar="CHANNEL",
        help=f"also send the alerts to this Slack channel (token from {SLACK_TOKEN_ENV} or "
        "--slack-token-file)",
    )
    parser.add_argument(
        "--slack-token-file",
        type=Path,
        metavar="FILE",
        help="file holding the Slack bot token (xoxb-...), with --slack-channel",
    )
    parser.add_argument(
        "--slack-token", nargs="?", action=_NoTokenOnCommandLine, help=argparse.SUPPRESS
    )


def demo_options_from_args(ns: argparse.Namespace) -> DemoOptions:
    """Options from a namespace filled by :func:`add_demo_arguments`."""
    return DemoOptions(
        host=ns.host,
        port=ns.port,
        speed=ns.speed,
        seed=ns.seed,
        start=ns.start,
        slack_channel=ns.slack_channel,
        slack_token_file=ns.slack_token_file,
    )


def slack_section(
    channel: str | None, token_file: Path | None, environ: Mapping[str, str]
) -> dict[str, str] | None:
    """The ``[slack]`` overrides for the demo, or None for no Slack.

    The file wins over the environment (the command line is the more deliberate choice).
    Raises :class:`DemoUsageError` for a token source without a channel or a channel without
    a token; the message never contains a token.
    """
    if channel is None:
        if token_file is not None:
            raise DemoUsageError("--slack-token-file needs --slack-channel CHANNEL")
        return None
    if token_file is not None:
        return {"channel": channel, "token_file": str(token_file)}
    token = environ.get(SLACK_TOKEN_ENV, "")
    if not token:
        raise DemoUsageError(
            f"--slack-channel needs the bot token: set {SLACK_TOKEN_ENV} or give "
            "--slack-token-file FILE (never the token itself on the command line)"
        )
    return {"channel": channel, "token": token}


def demo_overrides(
    *,
    simulator_url: str,
    listen: str,
    state_path: Path,
    slack: Mapping[str, str] | None,
) -> dict[str, Any]:
    """Everything the demo sets over the embedded default config (for ``load_default_config``)."""
    overrides: dict[str, Any] = {section: dict(keys) for section, keys in DEMO_SETTINGS.items()}
    overrides["vicidial"]["url"] = simulator_url
    overrides["web"] = {"listen": listen}
    overrides["state"] = {"path": str(state_path)}
    overrides["drop_groups"] = [dict(group) for group in DEMO_DROP_GROUPS]
    if slack is not None:
        overrides["slack"] = dict(slack)
    return overrides


def _listen(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _banner(url: str, simulator_url: str, start: datetime, settings: Settings, story: str) -> None:
    alerts = settings.alerts
    if settings.slack is None:
        where = (
            "on the board and in this log (no Slack: add --slack-channel CHANNEL with "
            f"{SLACK_TOKEN_ENV} or --slack-token-file FILE)"
        )
    else:
        where = f"on the board, in this log and in Slack {settings.slack.channel}"
    lines = (
        f"Wallboard demo running: {url}/",
        f"Simulated VICIdial:     {simulator_url}",
        f"Dialer clock:           started at {start.isoformat(timespec='minutes')}",
        f"Story:                  {story}",
        f"Alerts:                 {where}; warning at {alerts.warn_at:.1%}, "
        f"critical at {alerts.critical_at:.1%}, after {alerts.pending.total_seconds():g} s",
        "Press Ctrl-C to stop.",
    )
    print("\n" + "\n".join(f"  {line}" for line in lines) + "\n", file=sys.stderr, flush=True)


def _story(world: World, now: Callable[[], datetime], settings: Settings) -> ScenarioRunner:
    """The steering of the demo's campaign, placed around the configured alert lines."""
    from wallboard.simulator.scenario import DropStory, ScenarioRunner
    from wallboard.windows import Thresholds

    alerts = settings.alerts
    thresholds = Thresholds(
        limit=alerts.limit,
        warn_at=alerts.warn_at,
        critical_at=alerts.critical_at,
        min_answered=alerts.min_answered,
    )
    return ScenarioRunner(world, now, DropStory.for_thresholds(thresholds, alerts.clear_margin))


async def _demo(options: DemoOptions, start: datetime, slack: Mapping[str, str] | None) -> int:
    from wallboard.config import ConfigError, load_default_config
    from wallboard.daemon import serve
    from wallboard.simulator.server import (
        CLOCK_KEY,
        WORLD_KEY,
        SimulatorOptions,
        start_simulator,
    )

    simulator = await start_simulator(
        SimulatorOptions(seed=options.seed, speed=options.speed, start=start), "127.0.0.1", 0
    )
    steering: asyncio.Task[None] | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="wallboard-demo-") as state_dir:
            try:
                settings = load_default_config(
                    demo_overrides(
                        simulator_url=simulator.base_url,
                        listen=_listen(options.host, options.port),
                        state_path=Path(state_dir) / "wallboard.db",
                        slack=slack,
                    )
                )
            except ConfigError as error:
                print(f"wallboard demo: invalid settings:\n{error}", file=sys.stderr)
                return _EXIT_USAGE
            clock = simulator.app[CLOCK_KEY]
            runner = _story(simulator.app[WORLD_KEY], clock.now, settings)
            runner.step()  # the floor is calm and the story under way before the first poll
            steering = asyncio.create_task(runner.run(), name="demo-story")
            story = (
                f"{runner.campaign_id}'s drop rate today climbs through warning to critical "
                f"and recovers within about 2 minutes, every "
                f"{runner.story.period / 60:g} minutes"
            )

            def ready(url: str) -> None:
                _banner(url, simulator.base_url, start, settings, story)

            await serve(settings, on_ready=ready, clock=clock.now)
    finally:
        if steering is not None:
            steering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await steering
        await simulator.close()
    return _EXIT_OK


def run_demo(options: DemoOptions, *, environ: Mapping[str, str] | None = None) -> int:
    """Run until Ctrl-C: 0 on a clean stop, 1 if the board port is taken, 2 on bad arguments."""
    from wallboard.simulator.scenario import default_start, parse_start
    from wallboard.simulator.server import SimulatorOptions

    environ = os.environ if environ is None else environ
    zone = SimulatorOptions().gmt_offset
    try:
        slack = slack_section(options.slack_channel, options.slack_token_file, environ)
        if options.start is None:
            start = default_start(datetime.now(UTC), zone)
        else:
            start = parse_start(options.start, zone)
    except (DemoUsageError, ValueError) as error:
        print(f"wallboard demo: {error}", file=sys.stderr)
        return _EXIT_USAGE
    try:
        return asyncio.run(_demo(options, start, slack))
    except OSError as error:
        log.error("cannot start the demo: %s (try --port)", error)
        return _EXIT_FAILURE
