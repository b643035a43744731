"""SSE fan-out: 1,000 TVs on a 20-campaign floor of 500 agents; publish → last TV, RSS, CPU.

The daemon side runs in its own process (``--serve``): the real web app (``build_web_app``)
over the real in-memory store, wired like the daemon (``store.subscribe → hub.notify``), fed
synthetic snapshots built directly (no poller, no simulator: this measures the fan-out alone).
Each change moves some agents between states and adds calls, as a poll would.

This process is the TVs: raw asyncio protocols (no HTTP client library, so the clients cost
as little CPU as possible and do not distort the figures) each holding one
``/api/events?board=floor`` stream. For every change it records, per client, when the end of
the new ``snapshot`` event arrived, against the wall-clock moment the server published it
(both processes read the same clock). RSS and CPU are the server process's own.

Targets (issue 8): publish → last client p99 < 250 ms, RSS < 150 MB.
Usage: ``python bench/fanout.py [--clients 1000] [--agents 500] [--campaigns 20]
[--changes 20]``. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

RSS_TARGET_MB = 150.0
P99_TARGET_MS = 250.0
MARK = b'"leader":"bench-'  # the snapshot's `leader` carries the change's sequence number
SEQ_DIGITS = 6
SELF = os.path.abspath(__file__)


# --------------------------------------------------------------------------- the server side


def build_floor(agents: int, campaigns: int, seed: int) -> Any:
    """A realistic floor: names, pause codes, per-campaign counts, every source healthy."""
    from wallboard.snapshot import (
        AGENT_STATES,
        AgentCounts,
        AgentView,
        CampaignView,
        DropWindow,
        Snapshot,
        SourceStatus,
    )

    rng = random.Random(seed)
    now = datetime.now(UTC)
    ids = [f"CAMP{n:02d}" for n in range(1, campaigns + 1)]
    first = ["Jane", "John", "Maria", "Ahmed", "Li", "Olga", "Pierre", "Ana", "Tom", "Fatima"]
    last = ["Doe", "Smith", "García", "Khan", "Wang", "Ivanova", "Martin", "Silva", "Brown"]
    people = tuple(
        AgentView(
            user=str(1000 + n),
            name=f"{rng.choice(first)} {rng.choice(last)}",
            campaign=ids[n % campaigns],
            state=rng.choice(AGENT_STATES[:4]),
            status="INCALL",
            sub_status="",
            pause_code=rng.choice(["", "", "BREAK", "LUNCH"]),
            calls_today=rng.randint(0, 80),
            state_since=now - timedelta(seconds=rng.randint(0, 900)),
        )
        for n in range(agents)
    )
    views = tuple(
        CampaignView(
            id=cid,
            name=f"Outbound campaign {cid}",
            active=True,
            dial_method="RATIO",
            dial_level=2.5,
            hopper_leads=rng.randint(50, 500),
            today=DropWindow(calls=4000, answered=1500, dropped=30),
            last_30d=DropWindow(calls=90000, answered=40000, dropped=800, days=30),
            agents=AgentCounts(waiting=8, incall=12, paused=3, dispo=2),
        )
        for cid in ids
    )
    sources = tuple(
        SourceStatus(function=name, interval=interval, ok=True, last_success=now)
        for name, interval in (
            ("logged_in_agents", 30.0),
            ("call_status_stats", 60.0),
            ("campaigns_list", 60.0),
            ("hopper_list", 120.0),
            ("in_group_status", 30.0),
            ("version", 600.0),
        )
    )
    return Snapshot(
        taken_at=now,
        local_date=now.date(),
        campaigns=views,
        agents=people,
        sources=sources,
        leader=f"bench-{0:0{SEQ_DIGITS}d}",
    )


def next_floor(snapshot: Any, seq: int, rng: random.Random) -> Any:
    """What one poll brings: a tenth of the agents change state, a few calls per campaign."""
    from wallboard.snapshot import AGENT_STATES

    now = datetime.now(UTC)
    agents = list(snapshot.agents)
    for index in rng.sample(range(len(agents)), k=max(1, len(agents) // 10)):
        agents[index] = replace(agents[index], state=rng.choice(AGENT_STATES[:4]), state_since=now)
    campaigns = tuple(
        replace(c, today=replace(c.today, calls=c.today.calls + 7, answered=c.today.answered + 3))
        for c in snapshot.campaigns
    )
    sources = tuple(replace(s, last_success=now) for s in snapshot.sources)
    return replace(
        snapshot,
        taken_at=now,
        agents=tuple(agents),
        campaigns=campaigns,
        sources=sources,
        leader=f"bench-{seq:0{SEQ_DIGITS}d}",
    )


def _proc_status_kb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return float(line.split()[1])
    return 0.0


async def serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    from wallboard.cache.memory import MemorySnapshotStore
    from wallboard.web.app import DOCUMENTS, build_web_app
    from wallboard.web.keys import HUB, Board, WebContext

    store: Any = MemorySnapshotStore()
    await store.start()
    rng = random.Random(args.seed)
    current = build_floor(args.agents, args.campaigns, args.seed)
    await store.publish(current)
    context = WebContext(
        store=store,
        limit=0.03,
        warn_at=0.025,
        critical_at=0.028,
        boards=(Board(name="floor", title="Floor"),),
    )
    app = build_web_app(context)
    store.subscribe(lambda _snapshot: app[HUB].notify())
    state = {"seq": 0, "snapshot": current}

    async def publish(request: web.Request) -> web.Response:
        state["seq"] = seq = int(state["seq"]) + 1
        snapshot = next_floor(state["snapshot"], seq, rng)  # the poller's work, not timed
        state["snapshot"] = snapshot
        published = time.time()
        await store.publish(snapshot)
        return web.json_response({"seq": seq, "t0": published})

    async def stats(request: web.Request) -> web.Response:
        times = os.times()
        rendered = app[DOCUMENTS].rendered("floor")
        return web.json_response(
            {
                "rss_mb": _proc_status_kb("VmRSS") / 1024,
                "peak_rss_mb": _proc_status_kb("VmHWM") / 1024,
                "cpu_seconds": times.user + times.system,
                "clients": len(app[HUB]),
                "renders": app[DOCUMENTS].renders,
                "frame_bytes": 0 if rendered is None else len(rendered.frame),
            }
        )

    app.router.add_post("/_bench/publish", publish)
    app.router.add_get("/_bench/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    try:
        await asyncio.Event().wait()  # until the parent kills us
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- the TVs


def _blank_line(buffer: bytes, start: int) -> int:
    """Where ``\\n\\n`` (the end of an event) starts, or -1. Compact JSON has no newline, so
    hopping from newline to newline (memchr) is far cheaper than ``find(b"\\n\\n")``."""
    position = buffer.find(b"\n", start)
    while position >= 0:
        if buffer[position + 1 : position + 2] == b"\n":
            return position
        position = buffer.find(b"\n", position + 1)
    return -1


class TV(asyncio.Protocol):
    """One SSE stream: notes when each snapshot event (by sequence number) fully arrived."""

    def __init__(self, arrivals: dict[int, list[float]], on_arrival: asyncio.Event) -> None:
        self.arrivals = arrivals
        self.on_arrival = on_arrival
        self.pending: int | None = None
        self.tail = b""
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(
            b"GET /api/events?board=floor HTTP/1.1\r\nHost: bench\r\n"
            b"Accept: text/event-stream\r\n\r\n"
        )

    def data_received(self, data: bytes) -> None:
        buffer = self.tail + data if self.tail else data
        position = 0
        while True:
            if self.pending is None:
                found = buffer.find(MARK, position)
                if found < 0 or found + len(MARK) + SEQ_DIGITS > len(buffer):
                    keep = found if found >= 0 else max(position, len(buffer) - len(MARK))
                    break
                start = found + len(MARK)
                self.pending = int(buffer[start : start + SEQ_DIGITS])
                position = start + SEQ_DIGITS
            end = _blank_line(buffer, position)
            if end < 0:
                keep = max(position, len(buffer) - 1)
                break
            self.arrivals.setdefault(self.pending, []).append(time.time())
            self.on_arrival.set()
            self.pending = None
            position = end + 2
        self.tail = buffer[keep:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def wait_for_arrivals(
    arrivals: dict[int, list[float]], seq: int, clients: int, event: asyncio.Event, within: float
) -> None:
    deadline = time.monotonic() + within
    while len(arrivals.get(seq, ())) < clients:
        event.clear()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"change {seq}: {len(arrivals.get(seq, ()))}/{clients} clients")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), remaining)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(args: argparse.Namespace) -> int:
    import aiohttp

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.clients * 2 + 256)), hard))
    server = await asyncio.create_subprocess_exec(
        sys.executable, SELF, "--serve",
        "--agents", str(args.agents), "--campaigns", str(args.campaigns), "--seed", str(args.seed),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert server.stdout is not None
    line = (await asyncio.wait_for(server.stdout.readline(), 30)).decode()
    port = int(line.split()[1])
    base = f"http://127.0.0.1:{port}"
    loop = asyncio.get_running_loop()
    arrivals: dict[int, list[float]] = {}
    arrived = asyncio.Event()
    transports: list[asyncio.BaseTransport] = []
    try:
        async with aiohttp.ClientSession() as http:

            async def server_stats() -> dict[str, Any]:
                async with http.get(base + "/_bench/stats") as response:
                    result: dict[str, Any] = await response.json()
                    return result

            idle = await server_stats()
            for start in range(0, args.clients, 100):
                batch = await asyncio.gather(
                    *(
                        loop.create_connection(lambda: TV(arrivals, arrived), "127.0.0.1", port)
                        for _ in range(start, min(args.clients, start + 100))
                    )
                )
                transports.extend(transport for transport, _ in batch)
            await wait_for_arrivals(arrivals, 0, args.clients, arrived, 120)
            connected = await server_stats()
            deliveries: list[float] = []
            last_client: list[float] = []
            client_cpu = time.process_time()
            for _ in range(args.changes):
                async with http.post(base + "/_bench/publish") as response:
                    published = await response.json()
                seq, t0 = published["seq"], published["t0"]
                await wait_for_arrivals(arrivals, seq, args.clients, arrived, 120)
                latencies = [(t - t0) * 1000 for t in arrivals[seq]]
                deliveries.extend(latencies)
                last_client.append(max(latencies))
                await asyncio.sleep(args.gap)  # let the floor settle, as between real polls
            client_cpu = time.process_time() - client_cpu
            done = await server_stats()
    finally:
        for transport in transports:
            transport.close()
        server.kill()
        await server.wait()

    cpu_per_change = (done["cpu_seconds"] - connected["cpu_seconds"]) / args.changes
    p99_last = percentile(last_client, 0.99)
    print(f"fan-out: {args.clients} SSE clients, {args.campaigns} campaigns,"
          f" {args.agents} agents, {args.changes} changes;"
          f" snapshot event {done['frame_bytes'] / 1024:.0f} KiB")  # fmt: skip
    print(f"  publish -> client     p50 {percentile(deliveries, 0.5):7.1f} ms"
          f"   p99 {percentile(deliveries, 0.99):7.1f} ms   (every delivery)")  # fmt: skip
    print(f"  publish -> last client p50 {percentile(last_client, 0.5):7.1f} ms"
          f"   p99 {p99_last:7.1f} ms   max {max(last_client):7.1f} ms"
          f"   (target p99 < {P99_TARGET_MS:g} ms)")  # fmt: skip
    print(f"  server RSS: idle {idle['rss_mb']:.0f} MB, {args.clients} clients connected"
          f" {connected['rss_mb']:.0f} MB, after the changes {done['rss_mb']:.0f} MB,"
          f" peak {done['peak_rss_mb']:.0f} MB   (target < {RSS_TARGET_MB:g} MB)")  # fmt: skip
    print(f"  server CPU per change: {cpu_per_change * 1000:.0f} ms;"
          f" renders: {done['renders']} for {args.changes + 1} versions"
          f" (the TVs' own process: {client_cpu / args.changes * 1000:.0f} ms)")  # fmt: skip
    ok = p99_last < P99_TARGET_MS and done["peak_rss_mb"] < RSS_TARGET_MB
    print("  targets met" if ok else "  TARGET MISSED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between changes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args))
        return 0
    return asyncio.run(measure(args))


if __name__ == "__main__":
    sys.exit(main())
