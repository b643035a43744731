"""Tells readers the moment a source turns stale or fresh, without waiting for a poll.

Staleness is computed at read time from each source's ``last_success`` and the clock, so a
reader that asks gets the truth. But push readers (SSE heartbeats, the alert engine's dead-man
switch) must *hear* that a source crossed its threshold while nothing is being published: a
dead dialer publishes nothing. This watcher runs on every instance (followers included, so a
killed leader still turns every TV's banner red), checks the latest snapshot on a short tick,
and calls its listeners when the set of stale floor sources changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from wallboard.cache.base import Subscribers, Unsubscribe, cancel_and_wait
from wallboard.snapshot import Snapshot

log = logging.getLogger(__name__)

#: How often the watcher looks: a crossing is announced at most this late.
TICK_SECONDS = 1.0

StaleSet = frozenset[str]


class FreshnessWatch:
    """Calls ``subscribe``d listeners with the new stale set whenever it changes."""

    def __init__(
        self,
        latest: Callable[[], Snapshot | None],
        clock: Callable[[], datetime],
        *,
        tick: float = TICK_SECONDS,
    ) -> None:
        self._latest = latest
        self._clock = clock
        self._tick = tick
        self._stale: StaleSet | None = None
        self._listeners: Subscribers[StaleSet] = Subscribers()
        self._task: asyncio.Task[None] | None = None

    @property
    def stale(self) -> StaleSet | None:
        """The stale floor sources at the last check (None before any snapshot)."""
        return self._stale

    def subscribe(self, callback: Callable[[StaleSet], None]) -> Unsubscribe:
        return self._listeners.add(callback)

    def check(self) -> bool:
        """Look once; notify and return True if the stale set changed."""
        snapshot = self._latest()
        if snapshot is None:
            return False
        stale = frozenset(snapshot.stale_sources(self._clock()))
        if stale == self._stale:
            return False
        previous, self._stale = self._stale, stale
        if previous is not None:
            turned = sorted(stale - previous)
            back = sorted(previous - stale)
            if turned:
                log.warning("stale now: %s", ", ".join(turned))
            if back:
                log.info("fresh again: %s", ", ".join(back))
        self._listeners.notify(stale)
        return True

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="freshness-watch")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            # Cancelled until done: on Python 3.11 a wait_for() (ours, or redis-py's) can
            # swallow one cancellation, and a single cancel() would then hang here forever.
            await cancel_and_wait(task)

    async def _run(self) -> None:
        while True:
            try:
                self.check()
            except Exception:
                log.exception("freshness check failed")
            await asyncio.sleep(self._tick)
