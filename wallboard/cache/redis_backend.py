"""The snapshot store shared by several daemon instances through Redis.

One instance (the leader, see :mod:`wallboard.cache.leader`) polls VICIdial and writes the
snapshot to the key ``{prefix}:snapshot``; then it publishes the snapshot's version on the
channel ``{prefix}:changed``. The key is the truth, the channel only a doorbell: every instance
reads the key when the bell rings, when it (re)subscribes, and every ``resync_interval`` seconds
of silence, so a missed message, a Redis restart or a new instance all converge on the key's
content. Writes are fenced: a Lua script stores the snapshot only if the leader lock still holds
this instance's token, so a deposed leader cannot overwrite its successor.

Health moves, notifications follow content (see :mod:`wallboard.cache.base`): the leader writes
the key whenever the encoded snapshot differs from what it last wrote (in practice every poll,
since ``last_success`` moves) and rings the bell; a follower takes every new byte string as its
latest, and notifies its subscribers only when the decoded snapshot is ``!=`` its previous one.

When Redis goes away, :meth:`RedisSnapshotStore.latest` keeps returning the last good snapshot
(never blank the TV), the follower loop reconnects with capped exponential backoff, and the
outage is logged once (ERROR) with one INFO on recovery.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Generic

from redis.asyncio import Redis
from redis.exceptions import RedisError

from wallboard.cache.base import (
    Leadership,
    SnapshotCodec,
    Subscribers,
    T,
    Unsubscribe,
    cancel_and_wait,
)
from wallboard.cache.leader import LeaderElection

log = logging.getLogger(__name__)

# KEYS[1] leader lock, KEYS[2] snapshot key; ARGV[1] our lock token, ARGV[2] snapshot bytes,
# ARGV[3] channel, ARGV[4] version. Returns 1 when written, 0 when we no longer hold the lock.
_PUBLISH_IF_LEADER = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('set', KEYS[2], ARGV[2])
redis.call('publish', ARGV[3], ARGV[4])
return 1
"""

_REDIS_ERRORS = (RedisError, OSError, TimeoutError)


class RedisSnapshotStore(Generic[T]):
    """A :class:`~wallboard.cache.base.SnapshotStore` shared through Redis.

    The store owns ``redis`` (closes it in :meth:`close`); the client must return bytes
    (``decode_responses=False``). ``lock_ttl`` is the leader lock's time-to-live in seconds.
    ``on_leadership_change`` is a subscription to :attr:`leadership` made at construction.

    ``election`` shares another store's leader election instead of holding its own: a second
    value (the alert engine's view) written by the same leader, fenced by the same lock, so
    the two can never be written by different instances. Its owner starts and closes it.
    """

    def __init__(
        self,
        redis: Redis,
        codec: SnapshotCodec[T],
        *,
        prefix: str,
        lock_ttl: float,
        on_leadership_change: Callable[[bool], None] | None = None,
        election: LeaderElection | None = None,
        resync_interval: float = 5.0,
        min_backoff: float = 0.1,
        max_backoff: float = 10.0,
    ) -> None:
        self._redis = redis
        self._codec = codec
        self._key = f"{prefix}:snapshot"
        self._channel = f"{prefix}:changed"
        self._instance = uuid.uuid4().hex[:12]
        self._versions = itertools.count(1)
        # Our own hook first: it must run before any subscriber could publish as the new leader.
        self._owns_election = election is None
        if election is None:
            election = LeaderElection(
                redis, f"{prefix}:leader", lock_ttl, on_change=self._leadership_changed
            )
        else:
            election.subscribe(self._leadership_changed)
        self._election = election
        if on_leadership_change is not None:
            self._election.subscribe(on_leadership_change)
        self._publish_script = redis.register_script(_PUBLISH_IF_LEADER)
        self._resync_interval = resync_interval
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._subscribers: Subscribers[T] = Subscribers()
        self._latest: T | None = None
        self._latest_bytes: bytes | None = None  # the encoded form of _latest, when known
        self._remote_behind = True  # Redis may not hold our latest (new leader, failed write)
        self._publish_lock = asyncio.Lock()
        self._follow_task: asyncio.Task[None] | None = None
        self._redis_failing = False
        self._decode_failing = False
        self._last_remote_update: float | None = None

    # -- SnapshotStore ----------------------------------------------------------------------

    async def start(self) -> None:
        """Load the shared snapshot, follow the change channel, then seek leadership."""
        if self._follow_task is not None:
            return
        try:
            async with asyncio.timeout(self._election.ttl):
                await self._sync_from_redis()
        except _REDIS_ERRORS as error:
            self._redis_unreachable(error)
        self._follow_task = asyncio.create_task(self._follow(), name=f"follow {self._channel}")
        if self._owns_election:
            await self._election.start()

    async def close(self) -> None:
        """Hand over leadership at once, stop following, close the Redis client."""
        if self._owns_election:
            await self._election.close()
        task, self._follow_task = self._follow_task, None
        if task is not None:
            await cancel_and_wait(task)
        await self._redis.aclose()

    def latest(self) -> T | None:
        return self._latest

    async def publish(self, snapshot: T) -> bool:
        """Leader only (returns False otherwise): store and share it; notify if it changed.

        Writes the key and rings the bell whenever the bytes differ from the last written
        (health moves every poll) or Redis may have lost them; an unchanged content notifies
        nobody, here or on the followers.
        """
        async with self._publish_lock:
            token = self._election.fencing_token
            if token is None:
                log.debug("not the leader: snapshot not published")
                return False
            data = self._codec.encode(snapshot)
            if data != self._latest_bytes or self._remote_behind:
                try:
                    written = await self._publish_script(
                        keys=[self._election.name, self._key],
                        args=[token, data, self._channel, self._next_version()],
                    )
                except _REDIS_ERRORS as error:
                    # Our readers still get the fresh data; Redis gets it at the next publish.
                    self._redis_unreachable(error)
                    self._remote_behind = True
                else:
                    self._redis_reachable()
                    if not written:
                        log.warning("leader lock lost before publishing; stepping down")
                        await self._election.recheck()
                        return False
                    self._remote_behind = False
                    self._last_remote_update = time.monotonic()
            self._latest_bytes = data
            return self._replace(snapshot)

    def subscribe(self, callback: Callable[[T], None]) -> Unsubscribe:
        return self._subscribers.add(callback)

    @property
    def is_writer(self) -> bool:
        return self._election.is_leader

    @property
    def leadership(self) -> Leadership:
        return self._election

    # -- extras -----------------------------------------------------------------------------

    @property
    def election(self) -> LeaderElection:
        """The leader election this store writes under (who leads, with which token)."""
        return self._election

    @property
    def connected(self) -> bool:
        """False from the first failed Redis call until the next successful one."""
        return not self._redis_failing

    @property
    def last_remote_update(self) -> float | None:
        """``time.monotonic()`` of the last snapshot exchanged with Redis (read or written)."""
        return self._last_remote_update

    # -- following --------------------------------------------------------------------------

    async def _follow(self) -> None:
        """Follow the change channel forever, reconnecting with capped exponential backoff."""
        delay = self._min_backoff
        while True:
            try:
                await self._follow_channel()
            except _REDIS_ERRORS as error:
                if self._redis_unreachable(error):
                    delay = self._min_backoff
            except Exception:
                log.exception("snapshot follower failed unexpectedly; restarting it")
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _follow_channel(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            while True:
                message = await pubsub.get_message(timeout=self._resync_interval)
                if message is None:
                    await self._sync_from_redis()  # quiet: check anyway (also a liveness probe)
                elif message["type"] == "subscribe":
                    await self._sync_from_redis()  # (re)subscribed: catch up on what we missed
                elif message["type"] == "message" and not self._is_own(message["data"]):
                    await self._sync_from_redis()
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _sync_from_redis(self) -> None:
        data = await self._redis.get(self._key)
        self._redis_reachable()
        if isinstance(data, str):  # a client with decode_responses=True; snapshots are bytes
            data = data.encode()
        if self.is_writer:
            # The leader is the source of truth: a GET that raced with our own publish must
            # not roll the snapshot back. But if Redis lost it, write it again next time.
            if data != self._latest_bytes:
                self._remote_behind = True
            return
        if data is None:
            return
        self._last_remote_update = time.monotonic()
        if data == self._latest_bytes:
            return
        try:
            snapshot = self._codec.decode(data)
        except Exception:
            if not self._decode_failing:
                self._decode_failing = True
                log.exception(
                    "cannot decode the snapshot in %s; keeping the last good one", self._key
                )
            return
        if self._decode_failing:
            self._decode_failing = False
            log.info("snapshot in %s decodes again", self._key)
        self._latest_bytes = data
        self._replace(snapshot)

    # -- helpers ----------------------------------------------------------------------------

    def _replace(self, snapshot: T) -> bool:
        """Make ``snapshot`` the latest; notify and return True iff its content changed."""
        previous, self._latest = self._latest, snapshot
        if snapshot == previous:
            return False
        self._subscribers.notify(snapshot)
        return True

    def _leadership_changed(self, is_leader: bool) -> None:
        if is_leader:
            # The key may be missing (Redis restarted) or older than our latest: write the
            # next snapshot even if its bytes equal our latest's.
            self._remote_behind = True

    def _next_version(self) -> str:
        return f"{self._instance}:{next(self._versions)}"

    def _is_own(self, version: Any) -> bool:
        return isinstance(version, bytes) and version.startswith(f"{self._instance}:".encode())

    def _redis_unreachable(self, error: BaseException) -> bool:
        """Record a failure; return True (and log once) if Redis was fine until now."""
        if self._redis_failing:
            return False
        self._redis_failing = True
        detail = str(error) or type(error).__name__
        log.error("Redis unreachable (%s); serving the last good snapshot", detail)
        return True

    def _redis_reachable(self) -> None:
        if self._redis_failing:
            self._redis_failing = False
            log.info("Redis reachable again; snapshot sharing resumed")
