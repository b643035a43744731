"""Server-Sent Events to TVs: the same bytes for every screen, a heartbeat for all of them.

Events (CONTRACT §4): ``snapshot`` at connect and after every content change, never when
nothing changed; ``heartbeat`` (server time and freshness) every ``heartbeat_seconds`` and at
once when the set of stale sources changes, so a page can tell "quiet" from "connection lost"
and compute every age from the server's clock.

Work is per change, not per client. The frames come from a :class:`FrameSource` that renders
each board once per content version and each heartbeat once per tick; every stream writes
those same ``bytes`` objects. A slow or frozen TV must never hold up the others or grow
memory: each stream has one "wake" flag, not a queue. A wake-up makes the stream's own task
write the *newest* frames it has not sent yet, so a TV that falls behind skips intermediate
versions. A TV that takes nothing of what it was sent for ``send_timeout`` is dropped (it
reconnects by itself), with one log line: a write blocked that long, or, checked at every
wake-up, bytes waiting for it in asyncio's buffer or the kernel's send queue with none of
them acknowledged since the check that found them. So what a stream holds beyond the shared
frames is what aiohttp keeps for one write in flight: the frame being written plus its 64 KB
write buffer, however slow the client and however many changes it misses
(tests/hostile/test_slow_streams.py measures two thousand clients that read slowly or never).

aiohttp-sse is no longer used: its ``send`` splits and encodes every event per client, which
is exactly the cost this module removes, and its per-client ping timer is replaced by the
hub's one heartbeat. What it did besides (event-stream headers, dropping a hung peer) is the
dozen lines of :meth:`StreamHub.serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import struct
import termios
from typing import Protocol

from aiohttp import web

from wallboard.cache.base import cancel_and_wait

log = logging.getLogger(__name__)

#: CONTRACT §4 asks for a heartbeat at least every 15 s.
HEARTBEAT_SECONDS = 10.0

#: A hidden hook for tests that run a real ``wallboard run`` process and want to see the
#: page's "connection lost" banner within seconds instead of within 20 s.
HEARTBEAT_ENV = "WALLBOARD_TEST_HEARTBEAT_SECONDS"

#: A write that has not completed after this long means a hung TV: drop it.
SEND_TIMEOUT = 10.0

#: A new stream gets a freshly rendered heartbeat unless the shared one is younger than this.
FRESH_HEARTBEAT_SECONDS = 1.0

_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass events through, do not buffer them
}
#: Sent once at connect: how long the browser waits before reconnecting after a drop.
_RETRY = b"retry: 2000\n\n"


def heartbeat_seconds_from_environment() -> float:
    """The heartbeat period: :data:`HEARTBEAT_SECONDS` unless a test sets :data:`HEARTBEAT_ENV`."""
    text = os.environ.get(HEARTBEAT_ENV, "")
    try:
        seconds = float(text)
    except ValueError:
        return HEARTBEAT_SECONDS
    return seconds if 0 < seconds <= 15 else HEARTBEAT_SECONDS


class FrameSource(Protocol):
    """Where the hub gets its frames (:class:`~wallboard.web.render.BoardDocuments`)."""

    @property
    def version(self) -> int: ...

    def changed(self) -> None: ...

    def snapshot_frame(self, board: str | None) -> tuple[int, bytes] | None: ...

    def heartbeat_frame(self) -> bytes: ...


class _Stream:
    """One connected TV: what it shows, what it has been sent and whether it takes it."""

    __slots__ = (
        "acknowledged",
        "board",
        "sent_beat",
        "sent_version",
        "stuck_since",
        "wake",
        "written",
    )

    def __init__(self, board: str | None) -> None:
        self.board = board
        self.wake = asyncio.Event()
        self.sent_version = -1
        self.sent_beat = -1
        self.written = 0  # bytes handed to the connection
        self.acknowledged = 0  # of those, bytes the client has taken, as of the last check
        self.stuck_since: float | None = None  # bytes wait and none were taken since then


class _Stalled(Exception):
    """The client took nothing of what it was sent for the send timeout."""


class StreamHub:
    """Open SSE streams, woken on a content change and on every heartbeat."""

    def __init__(
        self,
        frames: FrameSource,
        *,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        self._frames = frames
        self.heartbeat_seconds = heartbeat_seconds
        self._send_timeout = send_timeout
        self._streams: set[_Stream] = set()
        self._beat = b""
        self._beat_version = 0
        self._beat_at = float("-inf")
        self._ticker: asyncio.Task[None] | None = None
        self._closing = False

    def __len__(self) -> int:
        return len(self._streams)

    def notify(self) -> None:
        """The content changed (the store's change callback): every stream sends it once."""
        self._frames.changed()
        self._wake_all()

    def notify_freshness(self) -> None:
        """The set of stale sources changed: send every stream a heartbeat now, not at the
        next tick, so TVs show (or clear) the stale banner the moment it becomes true."""
        if self._streams:  # with nobody listening, the next stream renders its own
            self._new_heartbeat()
            self._wake_all()

    def start(self) -> None:
        """Begin the heartbeat ticker (aiohttp ``on_startup``)."""
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="sse-heartbeat")

    async def close(self) -> None:
        """Stop the ticker and end every stream (aiohttp ``on_shutdown``): TVs reconnect to
        the next process."""
        self._closing = True
        if self._ticker is not None:
            await cancel_and_wait(self._ticker)  # repeated: a wait_for may swallow one cancel
            self._ticker = None
        self._wake_all()

    async def serve(self, request: web.Request, board: str | None) -> web.StreamResponse:
        """Stream ``board`` to this client until it goes or the server stops.

        ``HEAD`` gets the stream's headers and nothing more: a bodiless answer that stayed
        open would hold a connection and count as a screen for as long as the client liked.
        """
        response = web.StreamResponse(headers=_HEADERS)
        response.force_close()  # never reuse this connection for another request
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        # The kernel's own limit is the backstop, well after the checks below would drop a
        # stalled TV (within send timeout + 2 heartbeats of its first unread byte) with a log
        # line: a connection the kernel aborts says nothing about why.
        _drop_hung_peer_after(request, 2 * (self._send_timeout + self.heartbeat_seconds))
        stream = _Stream(board)
        if asyncio.get_running_loop().time() - self._beat_at > FRESH_HEARTBEAT_SECONDS:
            self._new_heartbeat()  # the first ages a TV shows must be right, not 10 s old
        self._streams.add(stream)
        try:
            await self._write(response, stream, _RETRY)
            while not self._closing:
                self._check_taken(stream, request)
                for frame in self._pending(stream):
                    await self._write(response, stream, frame)
                await stream.wake.wait()
                stream.wake.clear()
        except (_Stalled, TimeoutError):
            self._dropped(request, stream)
        except ConnectionError as error:
            # The kernel gave up on it (TCP_USER_TIMEOUT, the backstop, won the race with the
            # checks on a busy loop) or it left: report it if it had stopped taking data.
            if isinstance(error.__cause__, TimeoutError) or stream.stuck_since is not None:
                self._dropped(request, stream)
            else:
                _abort(request)  # the client went away: nothing to report
        finally:
            self._streams.discard(stream)
        return response

    def _dropped(self, request: web.Request, stream: _Stream) -> None:
        """The one line per dropped screen: a TV (or anything else) that stopped reading."""
        stuck = stream.stuck_since
        seconds = self._send_timeout if stuck is None else _loop_time() - stuck
        log.warning(
            "event stream to %s dropped: it took nothing it was sent for %.1f s (a client "
            "that stopped reading or vanished; a TV reconnects by itself)",
            request.remote,
            seconds,
        )
        _abort(request)

    def _check_taken(self, stream: _Stream, request: web.Request) -> None:
        """Raise :class:`_Stalled` when bytes have waited for this client for the send timeout
        with none of them taken (acknowledged) since; a client that takes anything is kept."""
        waiting = _unacknowledged(request.transport)
        if waiting is None:
            return  # this system cannot say: the write timeout and the kernel's still hold
        now = _loop_time()
        taken = stream.written - waiting
        if waiting == 0 or taken > stream.acknowledged:
            stream.acknowledged = taken
            stream.stuck_since = None if waiting == 0 else now
        elif stream.stuck_since is None:
            stream.stuck_since = now
        elif now - stream.stuck_since >= self._send_timeout:
            raise _Stalled

    def _pending(self, stream: _Stream) -> list[bytes]:
        """The newest frames this stream has not had: snapshot first, then the heartbeat."""
        frames = []
        if stream.sent_version != self._frames.version:
            rendered = self._frames.snapshot_frame(stream.board)
            if rendered is None:  # no data yet: the first snapshot will be a change
                stream.sent_version = self._frames.version
            else:
                stream.sent_version, frame = rendered
                frames.append(frame)
        if stream.sent_beat != self._beat_version:
            stream.sent_beat = self._beat_version
            frames.append(self._beat)
        return frames

    async def _write(self, response: web.StreamResponse, stream: _Stream, frame: bytes) -> None:
        stream.written += len(frame)
        async with asyncio.timeout(self._send_timeout):
            await response.write(frame)

    def _new_heartbeat(self) -> None:
        self._beat = self._frames.heartbeat_frame()
        self._beat_version += 1
        self._beat_at = asyncio.get_running_loop().time()

    def _wake_all(self) -> None:
        for stream in self._streams:
            stream.wake.set()

    async def _tick(self) -> None:
        """A heartbeat every period, rendered once for all streams (none when nobody listens)."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due = max(due + self.heartbeat_seconds, loop.time())
            await asyncio.sleep(due - loop.time())
            if self._streams:
                try:
                    self._new_heartbeat()
                except Exception:  # a bad render must not end heartbeats for good
                    log.exception("heartbeat render failed")
                    continue
                self._wake_all()


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def _unacknowledged(transport: asyncio.BaseTransport | None) -> int | None:
    """Bytes written to this connection that the peer has not acknowledged yet: asyncio's
    write buffer plus the kernel's send queue (``TIOCOUTQ``: unsent and unacknowledged);
    ``None`` where the kernel does not say (not Linux, not TCP, already closed)."""
    if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
        return None
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (OSError, AttributeError):
        return None
    queued: int = struct.unpack("i", raw)[0]
    return transport.get_write_buffer_size() + queued


def _abort(request: web.Request) -> None:
    """Close at once, discarding what is still buffered for the client (never wait on it)."""
    if request.transport is not None:
        request.transport.abort()


def _drop_hung_peer_after(request: web.Request, seconds: float) -> None:
    """Let the kernel abort the connection when sent data stays unacknowledged this long
    (Linux ``TCP_USER_TIMEOUT``): a TV that vanished without a FIN is noticed even where the
    hub's own check cannot see the kernel's queue, instead of when its socket buffer finally
    fills up, which may take days."""
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    transport = request.transport
    sock = None if transport is None else transport.get_extra_info("socket")
    if option is None or sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, option, int(seconds * 1000))
