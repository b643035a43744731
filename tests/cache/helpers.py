"""Shared bits of the cache tests: a stand-in snapshot, its codec, and waiting with a deadline."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Board:
    """A stand-in snapshot: frozen, so ``==`` decides whether it changed."""

    title: str
    calls: int


class BoardCodec:
    """Board ↔ JSON bytes."""

    def encode(self, snapshot: Board) -> bytes:
        return json.dumps({"title": snapshot.title, "calls": snapshot.calls}).encode()

    def decode(self, data: bytes) -> Board:
        document = json.loads(data)
        return Board(title=document["title"], calls=int(document["calls"]))


async def wait_until(condition: Callable[[], bool], *, within: float = 5.0) -> float:
    """Poll ``condition`` until true; return the seconds it took, or fail after ``within`` s."""
    started = time.monotonic()
    deadline = started + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.01)  # polling interval, not a wait for the outcome
    return time.monotonic() - started
