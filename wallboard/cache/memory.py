"""The in-process snapshot store: one daemon, no Redis.

Everything lives in this process, so this instance is always the writer (its leadership is a
:class:`~wallboard.cache.leader.SoloLeadership` that says "leader" from ``start()`` to
``close()``), and "shared" state is just an attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic

from wallboard.cache.base import Leadership, Subscribers, T, Unsubscribe
from wallboard.cache.leader import SoloLeadership


class MemorySnapshotStore(Generic[T]):
    """Keeps the latest snapshot in memory; notifies subscribers when its content changes.

    ``on_leadership_change`` is a subscription to :attr:`leadership` made at construction.
    """

    def __init__(self, *, on_leadership_change: Callable[[bool], None] | None = None) -> None:
        self._leadership = SoloLeadership(on_change=on_leadership_change)
        self._latest: T | None = None
        self._subscribers: Subscribers[T] = Subscribers()

    async def start(self) -> None:
        await self._leadership.start()

    async def close(self) -> None:
        await self._leadership.close()

    def latest(self) -> T | None:
        return self._latest

    async def publish(self, snapshot: T) -> bool:
        # Always the newest (its health moves on), but only a content change wakes anyone.
        previous, self._latest = self._latest, snapshot
        if snapshot == previous:
            return False
        self._subscribers.notify(snapshot)
        return True

    def subscribe(self, callback: Callable[[T], None]) -> Unsubscribe:
        return self._subscribers.add(callback)

    @property
    def is_writer(self) -> bool:
        return True

    @property
    def leadership(self) -> Leadership:
        return self._leadership
