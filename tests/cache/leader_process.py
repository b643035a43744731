"""A leader in a process of its own, for tests that kill it the hard way (SIGKILL).

``python -m tests.cache.leader_process REDIS_URL LOCK_NAME TTL`` campaigns for the lock, prints
``leading`` or ``following`` once its first attempt is done, then keeps renewing until killed.
A killed process releases nothing: its lock expires on its own, as after a real crash.
"""

from __future__ import annotations

import asyncio
import sys

from wallboard.cache import LeaderElection, connect_redis


async def campaign(url: str, name: str, ttl: float) -> None:
    client = connect_redis(url, timeout=max(0.1, ttl / 3))
    election = LeaderElection(client, name, ttl)
    await election.start()
    print("leading" if election.is_leader else "following", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(campaign(sys.argv[1], sys.argv[2], float(sys.argv[3])))
