"""Server-Sent Events to TVs: one snapshot event at connect and after every change.

A slow or frozen TV must never hold up the others or grow memory: each client has a single
"latest" slot (an :class:`asyncio.Event`), not a queue. A change only sets the event; the
client's own task reads the newest snapshot when it gets to it, so intermediate snapshots are
skipped, never buffered. Comment pings keep proxies and the browser's EventSource from timing
out, and on shutdown every stream is closed so the process exits promptly.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp_sse import EventSourceResponse

log = logging.getLogger(__name__)

#: Comment pings; CONTRACT §4 asks for one at least every 15 s.
PING_SECONDS = 10.0


class StreamHub:
    """Tracks open SSE responses and wakes them on change."""

    def __init__(self) -> None:
        self._clients: dict[EventSourceResponse, asyncio.Event] = {}
        self._closing = False

    def __len__(self) -> int:
        return len(self._clients)

    def notify(self) -> None:
        """Mark every client's slot dirty (called from the cache's change callback)."""
        for event in self._clients.values():
            event.set()

    async def serve(
        self, request: web.Request, render: Callable[[], str | None]
    ) -> web.StreamResponse:
        """Stream ``render()`` (the JSON of the latest snapshot) until the client goes."""
        response = EventSourceResponse(ping_interval=PING_SECONDS, send_timeout=10.0, sep="\n")
        await response.prepare(request)
        changed = asyncio.Event()
        changed.set()  # the first event goes out at connect
        self._clients[response] = changed
        # One watcher per client for its whole life: it ends when the ping task finds the TV
        # gone (or shutdown stops the stream). Never cancelled mid-stream, because cancelling
        # it would cancel the ping task with it.
        closed = asyncio.ensure_future(response.wait())
        try:
            while not self._closing:
                waiter = asyncio.ensure_future(changed.wait())
                done, _ = await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
                if waiter not in done:
                    waiter.cancel()
                    break
                if self._closing:
                    break
                changed.clear()
                data = render()
                if data is not None:
                    await response.send(data, event="snapshot")
        except (ConnectionResetError, TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self._clients.pop(response, None)
            closed.cancel()
            response.stop_streaming()
        return response

    async def close(self) -> None:
        """Close every stream (aiohttp ``on_shutdown``): TVs reconnect to the next process."""
        self._closing = True
        for response, event in list(self._clients.items()):
            event.set()
            response.stop_streaming()
        self._clients.clear()


def dumps(document: object) -> str:
    """Compact JSON for the wire (non-ASCII names stay readable)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
