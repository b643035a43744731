"""The soak's VICIdial simulator, in a process of its own, telling when it injected each fault.

``python -m tests.support.chaos_sim --seed N --speed X --start ISO --gmt-offset H
--slow-seconds S`` serves the simulator on a free loopback port and writes JSON lines to
stdout: first ``{"url": ...}`` once it listens, then one ``{"at", "function", "kind"}`` per
injected fault, ``at`` being this machine's wall clock (``time.time()``), the clock the daemons
stamp their polls with. The soak compares the two: a fault queued with ``POST /_sim/faults``
only happens when a request consumes it, and only this line says when that was.

Why a process of its own: the soak's observer samples the daemons several times a second and
must not slow the dialer's answers down (a slow answer is itself a fault, timed by the daemon).
The password comes from the environment (``CHAOS_SIM_PASSWORD``), never the command line,
where ``ps`` would show it; the soak then checks it appears nowhere the daemon writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from datetime import datetime

from wallboard.simulator.server import SimulatorOptions, start_simulator

PASSWORD_ENV = "CHAOS_SIM_PASSWORD"
#: The simulator's log line for an injected fault: ``simulator: injecting %s fault into %s``.
_INJECTING = "simulator: injecting"


class _InjectionReporter(logging.Handler):
    """Turns the simulator's "injecting" log records into JSON lines with the wall time."""

    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith(_INJECTING) or len(record.args or ()) != 2:
            return
        kind, function = record.args  # type: ignore[misc]
        line = {"at": record.created, "function": str(function), "kind": str(kind)}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


async def serve(options: SimulatorOptions) -> None:
    simulator = await start_simulator(options, "127.0.0.1", 0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    sys.stdout.write(json.dumps({"url": simulator.base_url, "at": time.time()}) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await simulator.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=8.0)
    parser.add_argument("--start", type=datetime.fromisoformat, required=True)
    parser.add_argument("--gmt-offset", type=float, default=-5.0)
    parser.add_argument("--slow-seconds", type=float, default=4.0)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--campaigns", type=int, default=4)
    args = parser.parse_args()
    api_log = logging.getLogger("wallboard.simulator.api")
    api_log.setLevel(logging.INFO)
    api_log.addHandler(_InjectionReporter())
    api_log.propagate = False
    options = SimulatorOptions(
        seed=args.seed,
        campaigns=args.campaigns,
        agents=args.agents,
        speed=args.speed,
        password=os.environ.get(PASSWORD_ENV, SimulatorOptions().password),
        start=args.start,
        gmt_offset=args.gmt_offset,
        slow_seconds=args.slow_seconds,
    )
    asyncio.run(serve(options))


if __name__ == "__main__":
    main()
