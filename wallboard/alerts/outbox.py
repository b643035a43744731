"""The outbox: delivers committed notifications in order, off the alert path, never losing one.

The engine commits notifications to the durable store and rings :meth:`Outbox.wake`; this
task reads what is pending (in ``seq`` order), groups it per incident and hands each group to
the sender (Slack), then marks it delivered. A Slack outage or 429 storm only delays delivery:
the notifications stay pending (also across restarts and leader changes) and go out in order
once Slack answers; after an outage the parent message is updated once to the newest state and
the missed changes follow as thread replies. Without Slack, notifications are only in the log
(the engine writes one line per change) and are marked delivered, so the outbox never grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from wallboard.alerts.types import Notification, SlackThread
from wallboard.cache.base import cancel_and_wait

log = logging.getLogger(__name__)

#: How long to wait before retrying after a failure without a Retry-After (doubling, capped).
RETRY_FIRST = 2.0
RETRY_MAX = 60.0
#: Look for pending notifications at least this often (a missed wake costs at most this).
POLL_SECONDS = 5.0


class OutboxStore(Protocol):
    async def pending(self, limit: int = 100) -> list[Notification]: ...

    async def mark_delivered(self, seqs: Sequence[int]) -> None: ...

    async def get_thread(self, incident_key: str) -> SlackThread | None: ...

    async def put_thread(self, thread: SlackThread) -> None: ...


class Sender(Protocol):
    async def deliver(
        self,
        batch: Sequence[Notification],
        thread: SlackThread | None,
        *,
        record: Callable[[SlackThread], Awaitable[None]],
    ) -> SlackThread: ...


class Unavailable(Exception):
    """The sender could not deliver now; try again after ``retry_after`` (None: back off)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


#: Maps a sender's own exceptions to :class:`Unavailable` (retry) or re-raises (rejected).
Classify = Callable[[Exception], Unavailable | None]


class Outbox:
    """One delivery task on the leader."""

    def __init__(
        self,
        store: OutboxStore,
        sender: Sender | None,
        *,
        classify: Classify,
        observe: Callable[[str], None] = lambda _outcome: None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._sender = sender
        self._classify = classify
        self._observe = observe
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._draining = asyncio.Lock()  # one delivery at a time, or a batch goes out twice
        self._task: asyncio.Task[None] | None = None
        self._failing: str | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="alert-outbox")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            # Cancelled until done: on Python 3.11 a wait_for() (ours, or redis-py's) can
            # swallow one cancellation, and a single cancel() would then hang here forever.
            await cancel_and_wait(task)

    async def _run(self) -> None:
        delay = RETRY_FIRST
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            try:
                await self.drain()
            except Unavailable as error:
                wait = error.retry_after if error.retry_after is not None else delay
                delay = min(RETRY_MAX, delay * 2)
                self._note_failure(f"Slack unavailable ({error}); retrying in {wait:g} s")
                await self._sleep(wait)
                self._wake.set()
            except Exception as error:
                self._note_failure(f"cannot deliver alerts ({error}); retrying in {RETRY_MAX} s")
                await self._sleep(RETRY_MAX)
                self._wake.set()
            else:
                delay = RETRY_FIRST
                if self._failing is not None:
                    self._failing = None
                    log.info("alerts: delivering again")

    async def drain(self) -> int:
        """Deliver everything pending, in order; returns how many were delivered."""
        delivered = 0
        async with self._draining:
            while batch := await self._store.pending(100):
                for group in _by_incident(batch):
                    await self._deliver(group)
                    delivered += len(group)
        return delivered

    async def _deliver(self, group: list[Notification]) -> None:
        seqs = [n.seq for n in group]
        if self._sender is None:
            # The engine already logged each change once (INFO); no second line per alert.
            for note in group:
                log.debug("alert (no Slack configured) %s: %s", note.action.value, note.text)
            await self._store.mark_delivered(seqs)
            self._observe_all(group, "logged")
            return
        key = group[0].incident.key
        thread = await self._store.get_thread(key)
        try:
            await self._sender.deliver(group, thread, record=self._store.put_thread)
        except Exception as error:
            unavailable = self._classify(error)
            self._observe("retry" if unavailable is not None else "rejected")
            if unavailable is not None:
                raise unavailable from None
            raise
        await self._store.mark_delivered(seqs)
        self._observe_all(group, "sent")

    def _observe_all(self, group: list[Notification], outcome: str) -> None:
        for _ in group:
            self._observe(outcome)

    def _note_failure(self, message: str) -> None:
        if self._failing != message.split(";")[0]:
            self._failing = message.split(";")[0]
            log.error("alerts: %s", message)


def _by_incident(batch: Sequence[Notification]) -> list[list[Notification]]:
    """One group per incident, each in ``seq`` order, the groups ordered by their first
    change: after an outage each parent is updated once, to its newest state, and its missed
    changes follow in order, however the incidents' changes interleaved."""
    groups: dict[str, list[Notification]] = {}
    for note in sorted(batch, key=lambda n: n.seq):
        groups.setdefault(note.incident.key, []).append(note)
    return list(groups.values())
