"""VICIdial API load per minute for 1, 10 and 100 viewers: our daemon vs. naive polling.

Ours: every viewer (a TV) keeps an SSE stream open and re-reads ``/api/snapshot`` as often as
the naive viewer polls; only the daemon's poller talks to VICIdial.
Naive: every viewer polls VICIdial itself, the way the widely copied blog script (and VICIdial's
own real-time report, per browser tab) does: ``logged_in_agents`` + ``call_status_stats`` +
``campaigns_list`` + one ``hopper_list`` per campaign, every 30 s.

To finish in about two minutes, time is compressed: every cadence (ours and the naive one) runs
``SCALE`` times faster than its default, and each figure is reported both as measured and as
requests per minute at the default cadences (measured / SCALE). Requests are counted by the
simulator itself (``/_sim/requests``), on real HTTP over loopback.

The second part is the request budget on a large floor: 100 campaigns (``hopper_list`` is one
request per campaign, 50 a minute at the configured 120 s) with the 30-day backfill running
from an empty store. Measured from start-up, retries and backfill included, the daemon must
stay under ``poll.max_requests_per_minute`` (20 at default cadences; scaled with the clock).

Usage: ``python bench/api_load.py [--window SECONDS]``. Exits 1 if ours is not flat or the
large floor exceeds the budget.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from wallboard.config import Settings, load_default_config
from wallboard.daemon import POLLER, build_daemon_app
from wallboard.simulator.server import SimulatorOptions, start_simulator
from wallboard.vicidial.client import VicidialClient

SCALE = 6  # 30 s agents cadence -> 5 s, the shortest the config allows
VIEWERS = (1, 10, 100)
NAIVE_REFRESH = 30 / SCALE


async def total_requests(session: aiohttp.ClientSession, base_url: str) -> int:
    async with session.get(f"{base_url}/_sim/requests") as response:
        return int((await response.json())["total"])


async def our_viewer(session: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> None:
    async with session.get(f"{url}/api/events") as stream:

        async def drain() -> None:
            with contextlib.suppress(aiohttp.ClientError, asyncio.CancelledError):
                async for _ in stream.content.iter_any():
                    pass

        reader = asyncio.create_task(drain())
        while not stop.is_set():
            async with session.get(f"{url}/api/snapshot") as response:
                await response.read()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), NAIVE_REFRESH)
        reader.cancel()


async def naive_viewer(client: VicidialClient, campaigns: list[str], stop: asyncio.Event) -> None:
    while not stop.is_set():
        await client.fetch_agents()
        await client.fetch_call_stats(campaigns)
        await client.fetch_campaigns()
        for campaign in campaigns:
            await client.fetch_hopper(campaign)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), NAIVE_REFRESH)


async def measure(
    session: aiohttp.ClientSession, sim_url: str, window: float, viewers: list[Any]
) -> float:
    """Requests per minute (compressed time) while the viewer coroutines run for ``window``."""
    stop = asyncio.Event()
    before = await total_requests(session, sim_url)
    tasks = [asyncio.create_task(viewer(stop)) for viewer in viewers]
    await asyncio.sleep(window)  # the measurement window itself
    after = await total_requests(session, sim_url)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return (after - before) * 60 / window


def compressed_settings(
    sim_url: str, state_dir: Path, *, history_days: int, stale_after: str
) -> Settings:
    """The demo config with every cadence and the request budget ``SCALE`` times faster."""
    return load_default_config(
        {
            "vicidial": {"url": sim_url, "timeout": "2s", "ingroups": []},
            "web": {"listen": "127.0.0.1:0"},
            "state": {"path": str(state_dir / "wb.db")},
            "poll": {
                "agents_interval": "5s",
                "stats_interval": "10s",
                "campaigns_interval": "10s",
                "hopper_interval": "20s",
                "jitter": "0s",
                "history_days": history_days,
                "history_throttle": "0s",
                "max_requests_per_minute": 20 * SCALE,
            },
            "alerts": {"stale_after": stale_after},
        }
    )


async def large_floor(window: float, campaigns: int = 100) -> tuple[float, float, float]:
    """(requests/min at default cadences, budget, hopper cycle s) for a large floor."""
    simulator = await start_simulator(
        SimulatorOptions(seed=5, speed=1.0, campaigns=campaigns, agents=500), "127.0.0.1", 0
    )
    with tempfile.TemporaryDirectory() as state_dir:
        settings = compressed_settings(
            simulator.base_url, Path(state_dir), history_days=30, stale_after="60m"
        )
        app = build_daemon_app(settings)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as session:
                before = await total_requests(session, simulator.base_url)
                await site.start()
                await asyncio.sleep(window)
                after = await total_requests(session, simulator.base_url)
                cycle = app[POLLER].budget.hopper_interval * SCALE
        finally:
            await runner.cleanup()
            await simulator.close()
    return (after - before) * 60 / window / SCALE, 20.0, cycle


async def main(window: float) -> int:
    simulator = await start_simulator(SimulatorOptions(seed=5, speed=1.0), "127.0.0.1", 0)
    campaigns = ["SALES1", "SALES2", "SALES3", "SALES4"]
    with tempfile.TemporaryDirectory() as state_dir:
        settings = compressed_settings(
            simulator.base_url, Path(state_dir), history_days=1, stale_after="60s"
        )
        app = build_daemon_app(settings)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=0)
        rows: list[tuple[int, float, float]] = []
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                while app.get(POLLER) is None or not app[POLLER].running:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1)  # let the start-up round finish before measuring
                client = VicidialClient(
                    session,
                    url=simulator.base_url,
                    user="wallboard",
                    password="wallboard-demo-pass",
                    timeout=5,
                )
                for count in VIEWERS:
                    ours = await measure(
                        session,
                        simulator.base_url,
                        window,
                        [lambda stop: our_viewer(session, url, stop)] * count,
                    )
                    naive = await measure(
                        session,
                        simulator.base_url,
                        window,
                        [lambda stop: naive_viewer(client, campaigns, stop)] * count,
                    )
                    rows.append((count, ours, naive))
        finally:
            await runner.cleanup()
            await simulator.close()

    print(f"VICIdial API requests per minute (window {window:g} s, time compressed x{SCALE})")
    print(
        f"{'viewers':>8} {'ours':>10} {'naive':>10} {'ours@default':>13} "
        f"{'naive@default':>14} {'naive/ours':>11}"
    )
    for count, ours, naive in rows:
        ratio = naive / ours if ours else float("inf")
        print(
            f"{count:>8} {ours:>10.1f} {naive:>10.1f} {ours / SCALE:>13.1f} "
            f"{naive / SCALE:>14.1f} {ratio:>10.1f}x"
        )
    ours_rates = [ours for _, ours, _ in rows]
    flat = max(ours_rates) <= min(ours_rates) * 1.25 + 6
    print("ours is flat across viewer counts" if flat else "FAIL: ours grows with viewers")

    rate, budget, cycle = await large_floor(max(window * 3, 60.0))
    print(
        f"\n100 campaigns, 500 agents, 30-day backfill from an empty store: {rate:.1f} "
        f"VICIdial requests/min at default cadences (budget {budget:g}/min, retries and "
        f"backfill included); hopper cycle stretched to {cycle:.0f} s"
    )
    within = rate <= budget
    print("within the request budget" if within else "FAIL: over the request budget")
    return 0 if flat and within else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=20.0, help="seconds per measurement")
    sys.exit(asyncio.run(main(parser.parse_args().window)))
