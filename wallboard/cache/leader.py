"""Who polls VICIdial: exactly one daemon instance at a time.

Several daemons may serve the same floor (for redundancy); only one of them must poll the
dialer, or VICIdial would see N times the load. They elect that one with a Redis lock that has a
time-to-live: the leader renews it every ``ttl / 3`` seconds, so if the leader dies (or loses
Redis) the key expires and another instance takes over within one TTL. A leader that shuts down
cleanly releases the lock so a follower takes over at its next attempt.

Safety before liveness: every Redis call is bounded by ``ttl / 3``, and any failure to renew
(lock gone, taken, Redis unreachable, timeout) makes this instance step down at once. The lock
therefore cannot expire while we still believe we lead, unless the clock of the Redis server and
ours disagree about how long a second is. The snapshot store additionally fences its writes on
:attr:`LeaderElection.fencing_token`, so even then a deposed leader cannot overwrite the new
leader's snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import LockNotOwnedError, RedisError

from wallboard.cache.base import call_leadership_callback, cancel_and_wait

log = logging.getLogger(__name__)


class SoloLeadership:
    """Leadership for a single process (the memory backend): leader from start to close."""

    def __init__(self, *, on_change: Callable[[bool], None] | None = None) -> None:
        self._on_change = on_change
        self._is_leader = False

    @property
    def is_leader(self) -> bool:
        return self._is_leader

    async def start(self) -> None:
        if not self._is_leader:
            self._is_leader = True
            call_leadership_callback(self._on_change, True)

    async def close(self) -> None:
        if self._is_leader:
            self._is_leader = False
            call_leadership_callback(self._on_change, False)


class LeaderElection:
    """Leader election on a redis-py :class:`~redis.asyncio.lock.Lock` with a TTL.

    ``on_change(is_leader)`` runs on the event loop on every transition (exceptions are
    logged). The background task tries to acquire every ``ttl / 3`` seconds and, while leader,
    resets the TTL (``reacquire``) at the same cadence.
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
        self._name = name
        self._ttl = ttl
        self._interval = ttl / 3
        self._lock = redis.lock(name, timeout=ttl, blocking=False, thread_local=False)
        self._on_change = on_change
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

    async def start(self) -> None:
        """Try once right away (a lone instance leads at once), then keep trying in background."""
        if self._task is not None:
            return
        await self._attempt()
        self._task = asyncio.create_task(self._run(), name=f"leader-election {self._name}")

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

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self._attempt()

    async def _attempt(self) -> None:
        """One round: renew if leader, else try to acquire. Never raises (except cancel)."""
        async with self._attempt_lock:
            await self._attempt_unlocked()

    async def _attempt_unlocked(self) -> None:
        try:
            async with asyncio.timeout(self._interval):
                if self._is_leader:
                    await self._lock.reacquire()
                else:
                    token = uuid.uuid4().hex.encode()
                    if await self._lock.acquire(blocking=False, token=token):
                        self._token = token
                        self._set_leader(True)
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

    def _set_leader(self, is_leader: bool) -> None:
        if is_leader == self._is_leader:
            return
        self._is_leader = is_leader
        if not is_leader:
            self._token = None
        log.info("%s leader lock %s", "acquired" if is_leader else "no longer hold", self._name)
        call_leadership_callback(self._on_change, is_leader)

    def _redis_unreachable(self, error: BaseException) -> None:
        if not self._redis_failing:
            self._redis_failing = True
            detail = str(error) or type(error).__name__
            log.warning("leader election cannot reach Redis (%s); not leading", detail)

    def _redis_reachable(self) -> None:
        if self._redis_failing:
            self._redis_failing = False
            log.info("leader election reaches Redis again")
