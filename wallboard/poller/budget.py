"""The VICIdial request budget: a sliding one-minute window over every HTTP request we send.

Every attempt (retries included) is recorded through the client's request observer. The
live sources (agents, stats, campaigns, in-groups) never wait: the floor's figures come first.
Everything else (``hopper_list``, ``version``, the 30-day backfill) asks :meth:`wait_slow`
first and goes only while the slow calls of the last minute are under their share, so the
total stays under ``poll.max_requests_per_minute`` whatever the campaign count. Time is a
parameter (``monotonic`` and ``sleep`` are injectable) so tests need no real minute.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW_SECONDS = 60.0


class RequestBudget:
    """Counts requests in the last minute and paces the slow ones."""

    def __init__(
        self,
        slow_per_minute: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._slow_limit = max(1.0, slow_per_minute)
        self._monotonic = monotonic
        self._sleep = sleep
        self._all: deque[float] = deque()
        self._slow: deque[float] = deque()

    def set_slow_limit(self, slow_per_minute: float) -> None:
        """The campaign count changed (``campaigns = "all"``): re-share the budget."""
        self._slow_limit = max(1.0, slow_per_minute)

    def record(self) -> None:
        """One HTTP request went out (any source, any attempt)."""
        now = self._monotonic()
        self._all.append(now)
        self._trim(now)

    def per_minute(self) -> int:
        """Requests sent in the last minute."""
        self._trim(self._monotonic())
        return len(self._all)

    def slow_wait(self) -> float:
        """Seconds until one more slow request fits in its share (0: now)."""
        now = self._monotonic()
        self._trim(now)
        if len(self._slow) + 1 <= self._slow_limit:
            return 0.0
        oldest = self._slow[0] if self._slow else now
        return max(0.0, oldest + WINDOW_SECONDS - now) + 0.01

    async def wait_slow(self) -> None:
        """Wait for room for one slow call, then count it against the slow share.

        The slow share counts calls (a hopper, a past day); :meth:`record` counts every HTTP
        attempt, so client retries show in :meth:`per_minute` without being double-counted.
        """
        while (delay := self.slow_wait()) > 0:
            await self._sleep(delay)
        self._slow.append(self._monotonic())

    def _trim(self, now: float) -> None:
        horizon = now - WINDOW_SECONDS
        for queue in (self._all, self._slow):
            while queue and queue[0] <= horizon:
                queue.popleft()
