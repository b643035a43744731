"""Measure leader handover after a crash with a real TTL (default 15 s): a manual check.

``python -m tests.cache.measure_handover [TTL]`` starts a private redis-server, a leader in its
own process and a follower here, SIGKILLs the leader just after one of its renewals (the worst
moment: its lock has a whole TTL left), and prints how long the follower took, from the kill and
from the lock's expiry. Not a unit test: it takes about one TTL.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from tests.support.redis_server import running_redis_server
from wallboard.cache import LeaderElection, connect_redis

LOCK = "measure:leader"
REPO_ROOT = Path(__file__).resolve().parents[2]


async def measure(url: str, ttl: float) -> None:
    leader = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.cache.leader_process",
        url,
        LOCK,
        str(ttl),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    assert leader.stdout is not None
    assert await leader.stdout.readline() == b"leading\n"
    observer = connect_redis(url)
    client = connect_redis(url, timeout=max(0.1, min(5.0, ttl / 3)))
    took_over = asyncio.Event()

    def on_change(is_leader: bool) -> None:
        if is_leader:
            took_over.set()

    follower = LeaderElection(client, LOCK, ttl, on_change=on_change)
    await follower.start()
    # Wait for a renewal (PTTL jumps back up), then kill at once: a full TTL left.
    previous = await observer.pttl(LOCK)
    while (current := await observer.pttl(LOCK)) <= previous:
        previous = current
        await asyncio.sleep(0.001)
    leader.kill()
    killed = time.monotonic()
    await leader.wait()
    remaining = await observer.pttl(LOCK)
    expires = time.monotonic() + remaining / 1000
    await took_over.wait()
    led = time.monotonic()
    print(
        f"ttl {ttl:g} s: new leader {led - killed:.3f} s after the kill, "
        f"{led - (expires - ttl):.3f} s after the last renewal, "
        f"{(led - expires) * 1000:.0f} ms after the lock expired"
    )
    await follower.close()
    await client.aclose()
    await observer.aclose()


def main() -> None:
    ttl = float(sys.argv[1]) if len(sys.argv) > 1 else 15.0
    with tempfile.TemporaryDirectory() as directory, running_redis_server(Path(directory)) as rs:
        asyncio.run(measure(rs.url, ttl))


if __name__ == "__main__":
    main()
