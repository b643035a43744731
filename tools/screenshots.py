"""``make screenshots``: the TV board as the README shows it, regenerated the same way each time.

A simulator frozen at a fixed dialer time and seed, the daemon on the simulator's clock (so
every age, timer and "figures as of" is the same on each run), and headless Chromium at
1920x1080 and 1280x720:

* ``fresh.png``: a normal mid-morning floor, after an hour of it has been polled (so the
  sparklines and the forecast have something to show);
* ``warning.png``: SALES1 steered to 2.7 % until the warning alert opens (banner on);
* ``stale.png``: every VICIdial answer failing for two minutes of dialer time;
* ``small.png``: the fresh floor again at 1280x720.

Run with ``make screenshots`` (writes ``docs/screenshots/``). Needs ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from wallboard.config import load_default_config
from wallboard.daemon import serve
from wallboard.demo import demo_overrides
from wallboard.simulator.server import CLOCK_KEY, WORLD_KEY, SimulatorOptions, start_simulator

#: 09:40 at the simulator's default UTC-5; an hour and two minutes of warm-up make it 10:42.
START = datetime(2026, 11, 25, 14, 40, tzinfo=UTC)
WARM_UP_STEPS = 12
#: The last minutes before the shots in small steps, so agents' timers differ as on a real floor.
SETTLE_STEPS = (23, 41, 17, 36)
#: A calm morning for ``fresh.png``: each campaign's answered and dropped so far, and the drop
#: probability it keeps during the warm-up (well under every threshold).
CALM = {
    "SALES1": (520, 8, 0.012),
    "SALES2": (310, 3, 0.008),
    "SALES3": (240, 4, 0.014),
    "SALES4": (180, 1, 0.006),
}
CHROMIUM = "/usr/bin/chromium"
#: Fast cadences, so the whole run takes a minute or two of real time.
FAST = {
    "vicidial": {"timeout": "2s"},
    "poll": {
        "agents_interval": "5s",
        "stats_interval": "5s",
        "campaigns_interval": "5s",
        "hopper_interval": "10s",
        "ingroups_interval": "5s",
        "jitter": "0s",
        "history_throttle": "0s",
        "max_requests_per_minute": 1000,
    },
    "alerts": {"pending": "5s", "stale_after": "1m"},
}


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"screenshots: gave up waiting for {what}")
        await asyncio.sleep(0.5)


async def main(out: Path) -> int:
    from playwright.async_api import async_playwright

    simulator = await start_simulator(
        SimulatorOptions(seed=1, speed=0.0, start=START), "127.0.0.1", 0
    )
    clock, world = simulator.app[CLOCK_KEY], simulator.app[WORLD_KEY]
    for campaign, (answered, dropped, ratio) in CALM.items():
        world.steer(campaign, answered_today=answered, dropped_today=dropped, drop_ratio=ratio)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    with tempfile.TemporaryDirectory(prefix="wallboard-shots-") as state:
        overrides = demo_overrides(
            simulator_url=simulator.base_url,
            listen="127.0.0.1:0",
            state_path=Path(state) / "wallboard.db",
            slack=None,
        )
        for section, keys in FAST.items():
            overrides.setdefault(section, {}).update(keys)
        settings = load_default_config(overrides)
        daemon = asyncio.create_task(
            serve(settings, on_ready=ready.set_result, stop=stop, clock=clock.now)
        )
        try:
            url = await asyncio.wait_for(ready, 30)
            async with aiohttp.ClientSession() as session:

                async def snapshot() -> dict[str, Any]:
                    async with session.get(f"{url}/api/snapshot") as response:
                        return dict(await response.json())

                async def ready_status() -> int:
                    async with session.get(f"{url}/readyz") as response:
                        return response.status

                async def history_loaded() -> bool:
                    campaigns = (await snapshot()).get("campaigns") or []
                    return bool(campaigns) and all(c.get("days_30d") == 30 for c in campaigns)

                async def fresh() -> bool:
                    return await ready_status() == 200

                await until(fresh, "a fresh floor")
                await until(history_loaded, "the 30 stored days")
                # An hour of the morning, five minutes at a time, each seen by a stats poll:
                # the sparklines get their points and the forecast its pace.
                for step in (300,) * WARM_UP_STEPS + SETTLE_STEPS:
                    clock.advance(step)
                    target = clock.now()

                    async def polled(target: datetime = target) -> bool:
                        taken = (await snapshot()).get("taken_at") or ""
                        return datetime.fromisoformat(taken.replace("Z", "+00:00")) >= target

                    await until(polled, "a poll after the clock moved")
                    await until(fresh, "a fresh floor")
                async with async_playwright() as playwright:
                    browser = await playwright.chromium.launch(executable_path=CHROMIUM)
                    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
                    await page.goto(f"{url}/boards/floor")
                    await page.wait_for_timeout(3000)
                    await page.screenshot(path=str(out / "fresh.png"))

                    world.steer("SALES1", answered_today=1000, dropped_today=27)
                    clock.advance(5)

                    async def alerted() -> bool:
                        clock.advance(2)
                        return bool((await snapshot()).get("alerts"))

                    await until(alerted, "the warning alert")
                    await page.wait_for_timeout(3000)
                    await page.screenshot(path=str(out / "warning.png"))

                    async with session.post(
                        f"{simulator.base_url}/_sim/faults",
                        json={"function": "*", "kind": "http_500", "times": 100_000},
                    ):
                        pass

                    async def stale() -> bool:
                        clock.advance(10)
                        return await ready_status() == 503

                    await until(stale, "stale figures")
                    clock.advance(120 - 10)
                    await page.wait_for_timeout(12_000)  # one SSE heartbeat carries it
                    await page.screenshot(path=str(out / "stale.png"))

                    async with session.delete(f"{simulator.base_url}/_sim/faults"):
                        pass
                    await until(fresh, "recovery")
                    small = await browser.new_page(viewport={"width": 1280, "height": 720})
                    await small.goto(f"{url}/boards/floor")
                    await small.wait_for_timeout(3000)
                    await small.screenshot(path=str(out / "small.png"))
                    await browser.close()
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await daemon
            await simulator.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshots"))
    target = parser.parse_args().out
    target.mkdir(parents=True, exist_ok=True)
    code = asyncio.run(main(target))
    print(json.dumps(sorted(p.name for p in target.glob("*.png"))))
    sys.exit(code)
