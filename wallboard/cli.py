"""The ``wallboard`` command (CONTRACT §2): ``demo``, ``run``, ``simulate``, ``check``, ``audit``,
``ledger``.

Exit codes: 0 success, 1 runtime failure, 2 bad usage or config. A bad config never starts the
daemon: every error is printed with its key path, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from wallboard import __version__

if TYPE_CHECKING:
    from wallboard.config import Settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    from wallboard.demo import add_demo_arguments
    from wallboard.simulator.server import add_simulate_arguments

    parser = argparse.ArgumentParser(
        prog="wallboard",
        description="Real-time VICIdial wallboard and drop-rate alerting daemon.",
    )
    parser.add_argument("--version", action="version", version=f"wallboard {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="simulator + daemon with the built-in config; prints the board URL",
        allow_abbrev=False,  # --slack-token must never pass for --slack-token-file
    )
    add_demo_arguments(demo)

    run = commands.add_parser("run", help="the daemon")
    run.add_argument("--config", type=Path, required=True, help="TOML config file")

    simulate = commands.add_parser("simulate", help="the VICIdial simulator alone")
    add_simulate_arguments(simulate)

    check = commands.add_parser(
        "check", help="validate the config and preflight every VICIdial function it needs"
    )
    check.add_argument("--config", type=Path, required=True, help="TOML config file")

    audit = commands.add_parser(
        "audit", help="print the auto-pause audit trail (works while the daemon runs)"
    )
    audit.add_argument("--config", type=Path, required=True, help="TOML config file")
    audit.add_argument(
        "--since",
        type=_day,
        metavar="YYYY-MM-DD",
        help="only decisions from this day on (the dialer's clock); default: all",
    )
    _add_ledger(commands)
    return parser


def _add_ledger(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ledger = commands.add_parser(
        "ledger",
        help="one row per campaign per closed dialer day, for audits (works while the daemon runs)",
        description=(
            "The evidence ledger: for each campaign (and drop group) and each dialer day in the "
            "durable store, the day's calls, human answers and drops, its drop ratio, the "
            "rolling 30-day and period ratios as of that day, the thresholds in force, the "
            "alerts raised and the auto-pause decisions. Closed days only: a day enters the "
            "store after VICIdial's midnight, so today is never listed. A day missing from the "
            "store is shown with empty figures (never zeros) and days_30d/days_period count "
            "the days that had figures. Reads the store read-only: works beside a running "
            "daemon and after it stopped."
        ),
    )
    ledger.add_argument("--config", type=Path, required=True, help="TOML config file")
    ledger.add_argument(
        "--from",
        dest="first",
        type=_day,
        required=True,
        metavar="YYYY-MM-DD",
        help="first dialer day (inclusive)",
    )
    ledger.add_argument(
        "--to",
        dest="last",
        type=_day,
        required=True,
        metavar="YYYY-MM-DD",
        help="last dialer day (inclusive; days not yet closed are simply absent)",
    )
    ledger.add_argument(
        "--campaign",
        action="append",
        default=[],
        metavar="ID",
        help="only this campaign, or group:NAME for a [[drop_groups]] group (repeatable); "
        'default: the configured campaigns (every stored one for "all") and every group',
    )
    ledger.add_argument(
        "--format",
        dest="output_format",
        choices=["csv", "json"],
        default="csv",
        help="csv (a header line, empty = unknown) or json (a list of objects, null = "
        "unknown); default csv",
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and EXIT_USAGE
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # APScheduler logs every job run at INFO; our poller logs what matters (transitions).
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        if args.command == "simulate":
            from wallboard.simulator.server import options_from_args, run_simulator

            run_simulator(options_from_args(args), args.host, args.port)
            return EXIT_OK
        if args.command == "demo":
            from wallboard.demo import demo_options_from_args, run_demo

            return run_demo(demo_options_from_args(args))
        settings = _load(args.config)
        if settings is None:
            return EXIT_USAGE
        if args.command == "check":
            from wallboard.check import run_checks

            return asyncio.run(run_checks(settings)).exit_code
        if args.command == "ledger":
            from wallboard.ledger import run_ledger

            return asyncio.run(
                run_ledger(
                    settings,
                    first=args.first,
                    last=args.last,
                    campaigns=args.campaign,
                    output_format=args.output_format,
                )
            )
        if args.command == "audit":
            from wallboard.alerts.audit import run_audit

            return asyncio.run(run_audit(settings, since=args.since))
        from wallboard.config import check_state_path

        problem = check_state_path(settings)
        if problem is not None:
            print(f"wallboard: {problem}", file=sys.stderr)
            return EXIT_USAGE
        from wallboard.daemon import run_daemon

        return run_daemon(settings)
    except KeyboardInterrupt:
        return EXIT_OK


def _load(path: Path) -> Settings | None:
    """Load the config, printing every error with its key path (no traceback)."""
    from wallboard.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as error:
        print(f"wallboard: invalid configuration in {path}:", file=sys.stderr)
        print(str(error), file=sys.stderr)
        return None
