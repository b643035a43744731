"""``wallboard demo``: the simulator and the daemon in one process, nothing else needed.

The simulator listens on a free loopback port; the daemon uses the embedded default config
pointed at it, with its state in a temporary directory, and prints the board URL. Ctrl-C stops
both.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

from wallboard.config import load_default_config
from wallboard.daemon import serve
from wallboard.simulator.server import SimulatorOptions, start_simulator

log = logging.getLogger(__name__)


async def _demo(host: str, port: int, speed: float, seed: int) -> None:
    simulator = await start_simulator(SimulatorOptions(seed=seed, speed=speed), "127.0.0.1", 0)
    try:
        with tempfile.TemporaryDirectory(prefix="wallboard-demo-") as state_dir:
            settings = load_default_config(
                {
                    "vicidial": {"url": simulator.base_url},
                    "web": {"listen": f"{host}:{port}"},
                    "state": {"path": str(Path(state_dir) / "wallboard.db")},
                }
            )

            def ready(url: str) -> None:
                print(f"\n  Wallboard demo running: {url}/", file=sys.stderr)
                print(f"  Simulated VICIdial:     {simulator.base_url}", file=sys.stderr)
                print("  Press Ctrl-C to stop.\n", file=sys.stderr, flush=True)

            await serve(settings, on_ready=ready)
    finally:
        await simulator.close()


def run_demo(
    *, host: str = "127.0.0.1", port: int = 8080, speed: float = 1.0, seed: int = 1
) -> int:
    """Run until Ctrl-C; 0 on a clean stop, 1 if the board port is taken."""
    try:
        asyncio.run(_demo(host, port, speed, seed))
    except OSError as error:
        log.error("cannot start the demo: %s (try --port)", error)
        return 1
    return 0
