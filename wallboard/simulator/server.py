"""Running the simulator: options, the simulated clock, the aiohttp app and the CLI entry.

One :class:`SimClock` drives everything: the world is advanced to ``clock.now()`` before each
API or control request, so a simulator at ``speed=0`` only moves when a test posts to
``/_sim/clock`` and two simulators with the same seed, start and advances answer identically.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from wallboard.simulator.api import API_PATH, ApiEndpoint, RequestLog, VicidialApi
from wallboard.simulator.auth import NEEDED_FUNCTIONS, LoginGate, api_user
from wallboard.simulator.control import ControlRoutes
from wallboard.simulator.faults import FaultQueue
from wallboard.simulator.world import World

DEFAULT_CLIENT_TIMEOUT = 10.0  # the daemon's default [vicidial] timeout


@dataclass(frozen=True)
class SimulatorOptions:
    """Everything that shapes one simulator run. ``password`` never appears in ``repr``.

    ``start`` is the simulated start time (aware; default: the real current time); ``speed``
    is simulated seconds per real second (0 freezes the clock between ``/_sim/clock`` posts);
    ``slow_seconds`` is how late a ``slow`` fault answers unless the fault says otherwise.
    """

    seed: int = 1
    campaigns: int = 4
    agents: int = 40
    speed: float = 1.0
    user: str = "wallboard"
    password: str = field(default="wallboard-demo-pass", repr=False)
    user_level: int = 9
    deny: tuple[str, ...] = ()
    legacy_build: bool = False
    start: datetime | None = None
    gmt_offset: float = -5.0
    slow_seconds: float = 2 * DEFAULT_CLIENT_TIMEOUT


class SimClock:
    """Simulated now = start + real monotonic elapsed × speed + manual advances."""

    def __init__(
        self,
        start: datetime,
        speed: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated start time must be timezone-aware")
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()
        self._advanced = 0.0

    def now(self) -> datetime:
        elapsed = (self._monotonic() - self._origin) * self._speed + self._advanced
        return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> None:
        """Jump forward (never back) by ``seconds`` simulated seconds."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        self._advanced += seconds


WORLD_KEY = web.AppKey("simulator_world", World)
CLOCK_KEY = web.AppKey("simulator_clock", SimClock)
OPTIONS_KEY = web.AppKey("simulator_options", SimulatorOptions)


def build_simulator_app(options: SimulatorOptions) -> web.Application:
    """The whole simulator as one aiohttp application (API endpoint plus ``/_sim``)."""
    clock = SimClock(options.start or datetime.now(UTC), options.speed)
    world = World(
        seed=options.seed,
        campaigns=options.campaigns,
        agents=options.agents,
        now=clock.now(),
        gmt_offset=options.gmt_offset,
    )
    user = api_user(
        options.user, options.password, user_level=options.user_level, deny=options.deny
    )
    requests = RequestLog()
    faults = FaultQueue()
    stopping = asyncio.Event()
    api = VicidialApi(
        world,
        LoginGate([user]),
        requests,
        legacy_build=options.legacy_build,
        gmt_offset=options.gmt_offset,
    )
    endpoint = ApiEndpoint(
        api,
        world,
        clock.now,
        faults,
        requests,
        stopping,
        seed=options.seed,
        slow_seconds=options.slow_seconds,
    )
    app = web.Application()
    app[WORLD_KEY] = world
    app[CLOCK_KEY] = clock
    app[OPTIONS_KEY] = options
    app.router.add_route("GET", API_PATH, endpoint.handle)
    app.router.add_route("POST", API_PATH, endpoint.handle)
    control = ControlRoutes(world, clock.now, clock.advance, faults, requests)
    app.add_subapp("/_sim", control.application())

    async def release_held_requests(_: web.Application) -> None:
        stopping.set()  # held ``timeout``/``slow`` faults drop their connections now

    app.on_shutdown.append(release_held_requests)
    return app


@dataclass
class RunningSimulator:
    """A simulator serving on a real socket; ``await close()`` stops it."""

    runner: web.AppRunner
    host: str
    port: int
    options: SimulatorOptions

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH

    @property
    def app(self) -> web.Application:
        return self.runner.app

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_simulator(
    options: SimulatorOptions, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Serve a new simulator on ``host:port`` (0 = any free port) and return its handle.

    A client that gives up on a held request cancels its handler (``handler_cancellation``),
    and shutdown releases the rest, so closing never waits for the shutdown timeout.
    """
    runner = web.AppRunner(
        build_simulator_app(options),
        handler_cancellation=True,
        shutdown_timeout=5.0,
        access_log=None,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    return RunningSimulator(runner=runner, host=host, port=bound_port, options=options)


def run_simulator(options: SimulatorOptions, host: str = "127.0.0.1", port: int = 8081) -> None:
    """Serve until Ctrl-C (or SIGTERM), printing the base URL and the demo credentials."""
    asyncio.run(_serve_forever(options, host, port))


async def _serve_forever(options: SimulatorOptions, host: str, port: int) -> None:
    simulator = await start_simulator(options, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    print(f"VICIdial simulator on {simulator.base_url}", flush=True)
    print(f"  API:  {simulator.api_url}", flush=True)
    print(f"  user: {options.user}  pass: {options.password}", flush=True)
    print(f"  control: {simulator.base_url}/_sim/state (loopback only)", flush=True)
    try:
        await stop.wait()
    finally:
        await simulator.close()


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``wallboard simulate`` options (``--host``/``--port`` included)."""
    defaults = SimulatorOptions()
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="listen port (default 8081)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="world seed")
    parser.add_argument("--campaigns", type=int, default=defaults.campaigns, help="campaigns")
    parser.add_argument("--agents", type=int, default=defaults.agents, help="agents on the roster")
    parser.add_argument(
        "--speed",
        type=float,
        default=defaults.speed,
        help="simulated seconds per real second (0 = only /_sim/clock moves time)",
    )
    parser.add_argument(
        "--user-level",
        type=int,
        default=defaults.user_level,
        help="API user's user_level (7/8 reproduce permission errors, <=6 login errors)",
    )
    parser.add_argument(
        "--deny",
        action="append",
        default=[],
        choices=NEEDED_FUNCTIONS,
        metavar="FUNCTION",
        help="remove FUNCTION from the API user's api_allowed_functions (repeatable)",
    )
    parser.add_argument(
        "--legacy-build",
        action="store_true",
        help="answer as a build before 240718 (8-column campaigns_list)",
    )
    parser.add_argument(
        "--start",
        type=_aware_datetime,
        default=None,
        help="simulated start time, ISO 8601 with offset (default: now)",
    )
    parser.add_argument(
        "--gmt-offset", type=float, default=defaults.gmt_offset, help="server local_gmt"
    )
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=defaults.slow_seconds,
        help="delay of a 'slow' fault that gives no seconds of its own",
    )


def _aware_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a UTC offset, e.g. 2025-09-03T14:00:00+00:00")
    return value


def options_from_args(ns: argparse.Namespace) -> SimulatorOptions:
    """Options from a namespace filled by :func:`add_simulate_arguments`."""
    return SimulatorOptions(
        seed=ns.seed,
        campaigns=ns.campaigns,
        agents=ns.agents,
        speed=ns.speed,
        user_level=ns.user_level,
        deny=tuple(ns.deny),
        legacy_build=ns.legacy_build,
        start=ns.start,
        gmt_offset=ns.gmt_offset,
        slow_seconds=ns.slow_seconds,
    )
