"""Who polls VICIdial: exactly one daemon instance at a time.

Several daemons may serve the same floor (for redundancy); only one of them must poll the
dialer, or VICIdial would see N times the load. They elect that one with a Redis lock that has a
time-to-live: the leader renews it every ``ttl / 3`` seconds. A follower that finds the lock
taken reads how long it still lives (``PTTL``) and tries again just after it expires (at the
latest after ``ttl / 3``), so when the leader dies (or loses Redis) another instance leads within
one TTL of the dead leader's last renewal, a few milliseconds more at most. A leader that shuts
down cleanly releases the lock so a follower takes over at its next attempt (within ``ttl / 3``).

Safety before liveness: every Redis call is bounded by ``ttl / 3``, and any failure to renew
(lock gone, taken, Redis unreachable, timeout) makes this instance step down at once. The lock
therefore cannot expire while we still believe we lead, unless the clock of the Redis server and
ours disagree about how long a second is, or this process stalls (a blocked event loop) for two
thirds of a TTL. The snapshot store additionally fences its writes on
:attr:`LeaderElection.fencing_token`, so even then a deposed leader cannot overwrite the new
leader's snapshot.

Both classes here are a :class:`~wallboard.cache.base.Leadership`: components that must run on
the leader only read ``is_leader`` and subscribe to transitions.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import LockNotOwnedError, RedisError

from wallboard.cache.base import Subscribers, Unsubscribe, cancel_and_wait

log = logging.getLogger(__name__)

#: How long after the lock's reported expiry a follower tries again. Redis expires keys to the
#: millisecond and the PTTL reply reaches us after the server read it, so a few ms is enough.
EXPIRY_MARGIN = 0.005

#: The shortest pause between two attempts: no busy loop, even when the lock's key vanishes
#: between a failed acquire and the PTTL that follows it.
MIN_RETRY = 0.005


class SoloLeadership:
    """Leadership for a single process (the memory backend): leader from start to close.

    ``on_change`` is a subscription made at construction (kept for callers that predate
    :meth:`subscribe`).
    """

    def __init__(self, *, on_change: Callable[[bool], None] | None = None) -> None:
        self._subscribers: Subscribers[bool] = Subscribers("leadership subscriber")
        if on_change is not None:
            self._subscribers.add(on_change)
        self._is_leader = False

    @property
    def is_leader(self) -> bool:
        return self._is_leader

    def subscribe(self, callback: Callable[[bool], None]) -> Unsubscribe:
        """Hear every transition (no replay of the current state: read :attr:`is_leader`)."""
        return self._subscribers.add(callback)

    async def start(self) -> None:
        if not self._is_leader:
            self._is_leader = True
            self._subscribers.notify(True)

    async def close(self) -> None:
        if self._is_leader:
            self._is_leader = False
            self._subscribers.notify(False)


class LeaderElection:
    """Leader election on a redis-py :class:`~redis.asyncio.lock.Lock` with a TTL.

    While leader, the background task resets the TTL (``reacquire``) every ``ttl / 3``; while
    follower, it tries to acquire every ``ttl / 3`` or just after the holder's lock expires,
    whichever comes first. Transitions go to :meth:`subscribe` callbacks, on the event loop;
    ``on_change`` is a subscription made at construction.
    """

    def __init__(
        self,
        redis: Redis,
        name: str,
        ttl: float,
        *,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"leader lock ttl must be positive, got {ttl!r}")
        self._redis = redis
        self._name = name
        self._ttl = ttl
        self._interval = ttl / 3
        self._lock = redis.lock(name, timeout=ttl, blocking=False, thread_local=False)
        self._subscribers: Subscribers[bool] = Subscribers("leadership subscriber")
        if on_change is not None:
            self._subscribers.add(on_change)
        self._token: bytes | None = None
        self._is_leader = False
        self._redis_failing = False
        self._task: asyncio.Task[None] | None = None
        self._attempt_lock = asyncio.Lock()

    @property
    def name(self) -> str:
        """The Redis key of the lock."""
        return self._name

    @property
    def ttl(self) -> float:
        return self._ttl

    @property
    def is_leader(self) -> bool:
        return self._is_leader

    @property
    def fencing_token(self) -> bytes | None:
        """The lock's value while we lead (writers check it atomically in Redis), else None."""
        return self._token if self._is_leader else None

    def subscribe(self, callback: Callable[[bool], None]) -> Unsubscribe:
        """Hear every transition (no replay of the current state: read :attr:`is_leader`)."""
        return self._subscribers.add(callback)

    async def start(self) -> None:
        """Try once right away (a lone instance leads at once), then keep trying in background."""
        if self._task is not None:
            return
        delay = await self._attempt()
        self._task = asyncio.create_task(self._run(delay), name=f"leader-election {self._name}")

    async def close(self) -> None:
        """Stop campaigning; release the lock if held so a follower takes over immediately."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        if not self._is_leader:
            return
        try:
            async with asyncio.timeout(self._interval):
                await self._lock.release()
        except (RedisError, OSError, TimeoutError) as error:
            log.warning(
                "could not release leader lock %s (%s); another instance takes over "
                "when it expires in at most %.1fs",
                self._name,
                error,
                self._ttl,
            )
        self._set_leader(False)

    async def recheck(self) -> None:
        """Renew (or try to acquire) now rather than at the next tick.

        For a writer that found the lock no longer holds its token: step down at once.
        """
        await self._attempt()

    async def _run(self, delay: float) -> None:
        while True:
            await asyncio.sleep(delay)
            delay = await self._attempt()

    async def _attempt(self) -> float:
        """One round (see :meth:`_attempt_unlocked`), never two at once."""
        async with self._attempt_lock:
            return await self._attempt_unlocked()

    async def _attempt_unlocked(self) -> float:
        """Renew if leader, else try to acquire; return the seconds until the next round.

        Never raises (except cancellation).
        """
        delay = self._interval
        try:
            async with asyncio.timeout(self._interval):
                if self._is_leader:
                    await self._lock.reacquire()
                else:
                    token = uuid.uuid4().hex.encode()
                    if await self._lock.acquire(blocking=False, token=token):
                        self._token = token
                        self._set_leader(True)
                    else:
                        delay = self._until_expiry(await self._redis.pttl(self._name))
        except LockNotOwnedError:
            self._redis_reachable()
            log.warning("leader lock %s expired or was taken over; stepping down", self._name)
            self._set_leader(False)
        except (RedisError, OSError, TimeoutError) as error:
            self._redis_unreachable(error)
            self._set_leader(False)
        except Exception:
            log.exception("leader election round failed unexpectedly; not leading")
            self._set_leader(False)
        else:
            self._redis_reachable()
        return delay

    def _until_expiry(self, pttl: int) -> float:
        """When a follower should try again, from the held lock's remaining life in ms.

        Just after the lock expires, so a dead leader is replaced within one TTL of its last
        renewal; at the latest after the usual interval (a live leader renews meanwhile).
        """
        if pttl == -2:  # released or expired since our acquire failed: try again now
            return MIN_RETRY
        if pttl < 0:  # -1: a lock without expiry (set by hand); keep the usual pace
            return self._interval
        return max(MIN_RETRY, min(self._interval, pttl / 1000 + EXPIRY_MARGIN))

    def _set_leader(self, is_leader: bool) -> None:
        if is_leader == self._is_leader:
            return
        self._is_leader = is_leader
        if not is_leader:
            self._token = None
        log.info("%s leader lock %s", "acquired" if is_leader else "no longer hold", self._name)
        self._subscribers.notify(is_leader)

    def _redis_unreachable(self, error: BaseException) -> None:
        if not self._redis_failing:
            self._redis_failing = True
            detail = str(error) or type(error).__name__
            log.warning("leader election cannot reach Redis (%s); not leading", detail)

    def _redis_reachable(self) -> None:
        if self._redis_failing:
            self._redis_failing = False
            log.info("leader election reaches Redis again")
