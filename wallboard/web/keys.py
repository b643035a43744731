"""Typed ``web.AppKey``s for what the web handlers read (aiohttp's recommended app state)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from wallboard.alerts.types import AlertView
from wallboard.snapshot import Snapshot, utcnow
from wallboard.web.sse import StreamHub, heartbeat_seconds_from_environment
from wallboard.windows import Thresholds


@dataclass(frozen=True, slots=True)
class Board:
    """One TV page as the web layer sees it: plain values, not the pydantic config.

    ``campaigns`` is ``None`` for every campaign the daemon polls.
    """

    name: str
    title: str
    campaigns: tuple[str, ...] | None = None


class SnapshotSource(Protocol):
    """All the web layer may do with the cache: read the latest snapshot."""

    def latest(self) -> Snapshot | None: ...


@dataclass(frozen=True)
class WebContext:
    """Everything the handlers need, fixed at start-up.

    ``clock`` is the server's wall clock (aware UTC): every age on a page is computed from
    the heartbeat's ``now``, so tests inject a fake clock here. ``heartbeat_seconds`` is the
    SSE heartbeat period (at most 15 s, CONTRACT §4); the page learns it from its HTML.
    ``thresholds`` grade each drop window (severity is the daemon's verdict, never the
    page's); without it ``limit``/``warn_at``/``critical_at`` and the default ``min_answered``.
    """

    store: SnapshotSource
    limit: float
    warn_at: float | None = None
    critical_at: float | None = None
    boards: Sequence[Board] = ()
    clock: Callable[[], datetime] = field(default=utcnow)
    alerts: Callable[[], Sequence[dict[str, Any]]] = field(default=lambda: ())
    #: The alert engine's view (shared through the cache); when it gives one, ``alerts`` and
    #: each window's ``alert_state`` come from it. Its changes must call ``hub.notify()``.
    alert_view: Callable[[], AlertView | None] = field(default=lambda: None)
    #: Per-campaign thresholds (``[alerts.campaigns.X]``); None: ``thresholds`` for all.
    thresholds_for: Callable[[str], Thresholds] | None = None
    metrics: Callable[[], bytes] | None = None
    heartbeat_seconds: float = field(default_factory=heartbeat_seconds_from_environment)
    thresholds: Thresholds | None = None


CONTEXT = web.AppKey("context", WebContext)
HUB = web.AppKey("hub", StreamHub)
