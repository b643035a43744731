"""What every cache backend promises: one writer, many readers, notify only on change.

The poller is the only writer; TV streams, the Prometheus collector and the alert engine only
read. Readers call :meth:`SnapshotStore.latest` (synchronous, no I/O, so ``collect()`` can use
it) and :meth:`SnapshotStore.subscribe` to hear about changes. They never cause a VICIdial
request. The store is generic over the snapshot type and never looks inside it: ``==`` on the
(frozen) snapshot decides whether anything changed, and a :class:`SnapshotCodec` turns it into
bytes for backends that share it between processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")

Unsubscribe = Callable[[], None]

log = logging.getLogger(__name__)


class SnapshotCodec(Protocol[T]):
    """Turns a snapshot into bytes and back (for stores shared through Redis)."""

    def encode(self, snapshot: T) -> bytes: ...

    def decode(self, data: bytes) -> T: ...


class SnapshotStore(Protocol[T]):
    """The latest snapshot plus change notification; see the module docstring."""

    async def start(self) -> None:
        """Load whatever is already shared and begin following changes / seeking leadership."""

    async def close(self) -> None:
        """Stop background work; a leader hands leadership over immediately."""

    def latest(self) -> T | None:
        """The last good snapshot, or ``None`` before the first one. Never does I/O."""

    async def publish(self, snapshot: T) -> bool:
        """Writer only: store ``snapshot``; return True (and notify) only if it changed."""

    def subscribe(self, callback: Callable[[T], None]) -> Unsubscribe:
        """Call ``callback(snapshot)`` on the event loop after every change.

        Callbacks must not block. One that raises is logged and never stops the others.
        Returns a function that removes the subscription (calling it twice is harmless).
        """

    @property
    def is_writer(self) -> bool:
        """True while this instance may publish (memory: always; Redis: while leader)."""


class Leadership(Protocol):
    """Whether this instance is the one that polls VICIdial.

    The poller starts its jobs when ``on_change(True)`` fires and stops them on ``False``.
    """

    @property
    def is_leader(self) -> bool: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class Subscribers(Generic[T]):
    """The callbacks of one store. A failing callback is logged and never starves the others."""

    def __init__(self) -> None:
        # Keyed by a fresh token so the same callable can be subscribed twice and each
        # unsubscribe removes exactly its own entry.
        self._callbacks: dict[object, Callable[[T], None]] = {}

    def add(self, callback: Callable[[T], None]) -> Unsubscribe:
        token = object()
        self._callbacks[token] = callback

        def unsubscribe() -> None:
            self._callbacks.pop(token, None)

        return unsubscribe

    def notify(self, snapshot: T) -> None:
        # A copy: callbacks may (un)subscribe while we iterate.
        for callback in tuple(self._callbacks.values()):
            try:
                callback(snapshot)
            except Exception:
                log.exception("snapshot subscriber %s failed", _describe(callback))

    def __len__(self) -> int:
        return len(self._callbacks)


def call_leadership_callback(callback: Callable[[bool], None] | None, is_leader: bool) -> None:
    """Run a leadership callback, logging (not propagating) what it raises."""
    if callback is None:
        return
    try:
        callback(is_leader)
    except Exception:
        log.exception("leadership callback %s failed", _describe(callback))


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel a background task and wait until it has finished.

    Cancels again until it is done: on Python 3.11, ``asyncio.wait_for`` (which redis-py uses
    while connecting) swallows a cancellation that arrives just as its inner future completes,
    so a single ``cancel()`` can leave a Redis loop running forever.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.1)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("background task %s had failed", task.get_name(), exc_info=error)


def _describe(callback: Callable[..., object]) -> str:
    return getattr(callback, "__qualname__", None) or type(callback).__name__
