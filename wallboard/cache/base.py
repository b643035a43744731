"""What every cache backend promises: one writer, many readers, notify only on a content change.

The poller is the only writer; TV streams, the Prometheus collector and the alert engine only
read. Readers call :meth:`SnapshotStore.latest` (synchronous, no I/O, so ``collect()`` can use
it) and :meth:`SnapshotStore.subscribe` to hear about changes. They never cause a VICIdial
request. The store is generic over the snapshot type and never looks inside it.

Two notions of "new" meet here, and the store keeps them apart on purpose:

* **Content** decides notification. ``==`` on the (frozen) snapshot is the change test, and a
  snapshot type leaves out of ``==`` what no reader would redraw or act on (``taken_at``,
  per-source health such as ``last_success``: ``field(compare=False)``). So a static dialer
  wakes no TV and no alert rule, however often it is polled.
* **Freshness** must move anyway: readers compute ages at read time from ``last_success``, so
  every published snapshot becomes :meth:`~SnapshotStore.latest` (in this process and, for a
  shared store, in every instance) even when it is ``==`` to the previous one.

A :class:`SnapshotCodec` turns snapshots into bytes for backends shared between processes.
Who may write is a :class:`Leadership` that several components follow (the poller, the alert
engine): ``is_leader`` to read, ``subscribe`` to hear transitions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
V = TypeVar("V")

Unsubscribe = Callable[[], None]

log = logging.getLogger(__name__)


class SnapshotCodec(Protocol[T]):
    """Turns a snapshot into bytes and back (for stores shared through Redis).

    ``encode`` must carry the fields left out of ``==`` too (health, ``taken_at``): followers
    take their freshness from these bytes.
    """

    def encode(self, snapshot: T) -> bytes: ...

    def decode(self, data: bytes) -> T: ...


class Leadership(Protocol):
    """Whether this instance is the one that polls VICIdial (and acts on the floor).

    Every component that must run on the leader only follows this one object: it reads
    :attr:`is_leader` once when it starts, then :meth:`subscribe` tells it about every
    transition. Subscribing does *not* replay the current state (a replay would run the
    callback from inside ``subscribe``, before the caller has finished setting up): read
    ``is_leader`` after subscribing.
    """

    @property
    def is_leader(self) -> bool: ...

    def subscribe(self, callback: Callable[[bool], None]) -> Unsubscribe:
        """Call ``callback(is_leader)`` on the event loop at every transition.

        Callbacks must not block (hand real work to a task or a queue). One that raises is
        logged and never stops the others. Returns a function that removes the subscription
        (calling it twice is harmless).
        """
        ...


class SnapshotStore(Protocol[T]):
    """The latest snapshot plus change notification; see the module docstring."""

    async def start(self) -> None:
        """Load whatever is already shared and begin following changes / seeking leadership."""

    async def close(self) -> None:
        """Stop background work; a leader hands leadership over immediately."""

    def latest(self) -> T | None:
        """The last published snapshot, or ``None`` before the first one. Never does I/O.

        Always the most recent one, even when it only differs in health (not in ``==``), so
        ages computed from it are right.
        """

    async def publish(self, snapshot: T) -> bool:
        """Writer only: make ``snapshot`` the latest; notify and return True iff content changed.

        "Changed" means ``snapshot != previous latest``. An equal snapshot still replaces the
        previous one (its health and ``taken_at`` are newer) and is shared with the other
        instances, but wakes nobody. A store that is not the writer ignores the call and
        returns False.
        """

    def subscribe(self, callback: Callable[[T], None]) -> Unsubscribe:
        """Call ``callback(snapshot)`` on the event loop after every content change.

        Not called for a snapshot that is ``==`` to the previous one (read :meth:`latest` for
        the freshest health). Callbacks must not block. One that raises is logged and never
        stops the others. Returns a function that removes the subscription (calling it twice
        is harmless).
        """

    @property
    def is_writer(self) -> bool:
        """True while this instance may publish (memory: always; Redis: while leader)."""

    @property
    def leadership(self) -> Leadership:
        """Who polls: follow it to run leader-only work (memory: leader from start to close)."""


class Subscribers(Generic[V]):
    """Callbacks of one kind. A failing callback is logged and never starves the others."""

    def __init__(self, kind: str = "snapshot subscriber") -> None:
        self._kind = kind
        # Keyed by a fresh token so the same callable can be subscribed twice and each
        # unsubscribe removes exactly its own entry.
        self._callbacks: dict[object, Callable[[V], None]] = {}

    def add(self, callback: Callable[[V], None]) -> Unsubscribe:
        token = object()
        self._callbacks[token] = callback

        def unsubscribe() -> None:
            self._callbacks.pop(token, None)

        return unsubscribe

    def notify(self, value: V) -> None:
        # A copy: callbacks may (un)subscribe while we iterate.
        for callback in tuple(self._callbacks.values()):
            try:
                callback(value)
            except Exception:
                log.exception("%s %s failed", self._kind, _describe(callback))

    def __len__(self) -> int:
        return len(self._callbacks)


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
