"""Shared bits of the cache tests: a stand-in snapshot and its codec."""

from __future__ import annotations

import json
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
