"""Shared bits of the cache tests: a stand-in snapshot and its codec."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Board:
    """A stand-in snapshot: frozen, so ``==`` decides whether it changed.

    ``polled`` plays the per-source health (``last_success``): it moves on every poll but is
    left out of ``==``, so a poll that only refreshes it is not a change.
    """

    title: str
    calls: int
    polled: int = field(default=0, compare=False)


class BoardCodec:
    """Board ↔ JSON bytes (health included: followers take their freshness from the bytes)."""

    def encode(self, snapshot: Board) -> bytes:
        return json.dumps(
            {"title": snapshot.title, "calls": snapshot.calls, "polled": snapshot.polled}
        ).encode()

    def decode(self, data: bytes) -> Board:
        document = json.loads(data)
        return Board(
            title=document["title"],
            calls=int(document["calls"]),
            polled=int(document.get("polled", 0)),
        )


def contents(boards: list[Board]) -> list[tuple[str, int, int]]:
    """Every field, health too (``==`` on Board ignores ``polled``)."""
    return [(board.title, board.calls, board.polled) for board in boards]
