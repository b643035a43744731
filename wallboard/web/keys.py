"""Typed ``web.AppKey``s for what the web handlers read (aiohttp's recommended app state)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from wallboard.config import BoardConfig
from wallboard.snapshot import Snapshot
from wallboard.web.sse import StreamHub


class SnapshotSource(Protocol):
    """All the web layer may do with the cache: read the latest snapshot."""

    def latest(self) -> Snapshot | None: ...


@dataclass(frozen=True)
class WebContext:
    """Everything the handlers need, fixed at start-up."""

    store: SnapshotSource
    limit: float
    warn_at: float | None = None
    critical_at: float | None = None
    boards: Sequence[BoardConfig] = ()
    clock: Callable[[], datetime] = field(default=datetime.now)
    alerts: Callable[[], Sequence[dict[str, Any]]] = field(default=lambda: ())
    metrics: Callable[[], bytes] | None = None


CONTEXT = web.AppKey("context", WebContext)
HUB = web.AppKey("hub", StreamHub)
