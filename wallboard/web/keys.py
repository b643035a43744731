"""Typed ``web.AppKey``s for what the web handlers read (aiohttp's recommended app state)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from wallboard.alerts.types import AlertView
from wallboard.snapshot import Snapshot, utcnow
from wallboard.web.panels import PANELS
from wallboard.web.sse import StreamHub, heartbeat_seconds_from_environment
from wallboard.windows import Thresholds


@dataclass(frozen=True, slots=True)
class Board:
    """One TV page as the web layer sees it: plain values, not the pydantic config.

    ``campaigns`` is ``None`` for every campaign the daemon polls, ``ingroups`` ``None`` for
    every in-group it polls (``()``: none). ``panels`` are the parts of the page it shows
    (names from :data:`~wallboard.web.panels.PANELS`).
    """

    name: str
    title: str
    campaigns: tuple[str, ...] | None = None
    ingroups: tuple[str, ...] | None = None
    panels: tuple[str, ...] = PANELS


class SnapshotSource(Protocol):
    """All the web layer may do with the cache: read the latest snapshot."""

    def latest(self) -> Snapshot | None: ...


@dataclass(frozen=True)
class WebContext:
    """Everything the handlers need, fixed at start-up.

    ``clock`` is the server's wall clock (aware UTC): every age on a page is computed from
    the heartbeat's ``now``, so tests inject a fake clock here. ``heartbeat_seconds`` is the
    SSE heartbeat period (at most 15 s, CONTRACT §4); the page learns it from its HTML.
    ``token`` (``web.token``) guards everything but ``/healthz``, ``/readyz`` and the icon.
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
    #: ``web.token`` in clear (None: no token needed). Kept out of the repr, so a context
    #: printed in a traceback or a test failure never shows it.
    token: str | None = field(default=None, repr=False)


CONTEXT = web.AppKey("context", WebContext)
HUB = web.AppKey("hub", StreamHub)
