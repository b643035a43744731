"""Each board's JSON rendered once per change, as bytes every reader shares.

A thousand TVs on one floor must cost one render per change, not a thousand: rendering
``api_document`` for 500 agents and encoding it is the expensive part of a push, and doing it
per client (then re-splitting and re-encoding it per client) made the last TV wait seconds.
So :class:`BoardDocuments` keeps, per board and per content version, the encoded document and
the complete SSE frame (``event: snapshot`` + ``data:`` + blank line), and every stream writes
that same ``bytes`` object.

Content and freshness are kept apart. The content only changes when the store says so
(:meth:`BoardDocuments.changed`, driven by the store's change notification), but freshness
moves with every poll and every second. So the time-dependent keys of the API document
(:data:`FRESHNESS_KEYS`) are encoded separately and spliced in front of the cached content:
``/api/snapshot`` splices them as of the request, while the SSE snapshot frame carries them as
of its render and is followed by ``heartbeat`` events that carry the current ones. A page
never takes an age from a cached document; it computes ages from the heartbeat's ``now``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

import orjson

from wallboard import __version__
from wallboard.snapshot import Snapshot
from wallboard.snapshot_json import api_document, iso
from wallboard.web.boards import find_board
from wallboard.web.keys import Board, WebContext

#: The keys of :func:`~wallboard.snapshot_json.api_document` that depend on the moment of
#: reading rather than on the snapshot's content. Any new time-dependent key belongs here.
FRESHNESS_KEYS = ("taken_at", "generated_at", "age_seconds", "stale", "stale_sources", "sources")

#: A board's name, or ``None`` for every configured campaign (``/api/...`` without ``?board``).
BoardKey = str | None


class UnknownBoard(LookupError):
    """``?board=NAME`` names no configured board."""


def dumps(document: object) -> bytes:
    """Compact UTF-8 JSON (orjson: an order of magnitude faster than ``json.dumps`` here).

    It never emits a raw newline, which is what lets a document be one SSE ``data:`` line.
    """
    return orjson.dumps(document)


def sse_frame(event: str, data: bytes) -> bytes:
    """One complete SSE event; ``data`` must be one line (compact JSON is)."""
    return b"".join((b"event: ", event.encode(), b"\ndata: ", data, b"\n\n"))


@cache
def deployment_version() -> str:
    """What a TV compares to decide it runs an old page: the package version plus a digest of
    the page's own files (``0.1.0+3f2a9c1d``).

    Sent in every heartbeat; a page that sees it change reloads itself, so a floor of TVs
    picks up a new deployment without anyone touching a remote. The digest makes a rebuilt
    page count as new even when the version number was not bumped.
    """
    digest = hashlib.sha256()
    static = files("wallboard.web").joinpath("static")
    for item in sorted(static.iterdir(), key=lambda entry: entry.name):
        if item.is_file():
            digest.update(item.name.encode())
            digest.update(item.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:8]}"


def _splice(head: bytes, body: bytes) -> bytes:
    """Two non-empty JSON objects with disjoint keys as one: ``{a}`` + ``{b}`` → ``{a,b}``."""
    return b"".join((memoryview(head)[:-1], b",", memoryview(body)[1:]))


@dataclass(frozen=True, slots=True)
class Rendered:
    """One board at one content version: the content JSON and the SSE frame built from it."""

    version: int
    body: bytes  # a JSON object: the API document without FRESHNESS_KEYS
    frame: bytes  # event: snapshot, the full document as of the render


class BoardDocuments:
    """Per-board documents and frames, re-rendered only after a content change.

    ``renders`` and ``heartbeats`` count actual renders (for tests and for profiling).
    ``deployment`` is the version every heartbeat carries (:func:`deployment_version`).
    """

    def __init__(self, context: WebContext, *, deployment: str | None = None) -> None:
        self._context = context
        self.deployment = deployment_version() if deployment is None else deployment
        self._version = 0
        self._cache: dict[BoardKey, Rendered] = {}
        self.renders = 0
        self.heartbeats = 0

    @property
    def version(self) -> int:
        """Bumped by every content change; a stream that sent this version is up to date."""
        return self._version

    def changed(self) -> None:
        """The store's content changed (or the alerts did): drop every cached render."""
        self._version += 1
        self._cache.clear()

    def campaigns(self, board: BoardKey) -> list[str] | None:
        """The campaigns a board shows (None: all); :class:`UnknownBoard` for a bad name."""
        found = self._board(board)
        return None if found is None or found.campaigns is None else list(found.campaigns)

    def _board(self, board: BoardKey) -> Board | None:
        """The configured board (None: the whole floor); :class:`UnknownBoard` for a bad name."""
        if board is None:
            return None
        found = find_board(self._context.boards, board)
        if found is None:
            raise UnknownBoard(board)
        return found

    def rendered(self, board: BoardKey) -> Rendered | None:
        """The board at the current content version (rendered now if not yet); None before
        the first snapshot."""
        cached = self._cache.get(board)
        if cached is not None and cached.version == self._version:
            return cached
        snapshot = self._context.store.latest()
        if snapshot is None:
            return None
        found = self._board(board)
        document = self._document(
            snapshot,
            self._context.clock(),
            None if found is None or found.campaigns is None else found.campaigns,
            None if found is None else found.ingroups,
        )
        freshness = {key: document.pop(key) for key in FRESHNESS_KEYS if key in document}
        body = dumps(document)
        frame = sse_frame("snapshot", _splice(dumps(freshness), body))
        self.renders += 1
        rendered = Rendered(self._version, body, frame)
        self._cache[board] = rendered
        return rendered

    def snapshot_frame(self, board: BoardKey) -> tuple[int, bytes] | None:
        """The SSE frame for a board and the content version it shows (the hub's interface)."""
        rendered = self.rendered(board)
        return None if rendered is None else (rendered.version, rendered.frame)

    def document(self, board: BoardKey) -> bytes | None:
        """``/api/snapshot``: the cached content with freshness computed at request time."""
        rendered = self.rendered(board)
        snapshot = self._context.store.latest()
        if rendered is None or snapshot is None:
            return None
        # An empty campaign filter renders only the small top-level part: its freshness keys
        # are exactly api_document's, for the newest health the store holds.
        now = self._context.clock()
        small = self._document(snapshot, now, (), ())
        freshness = {key: small[key] for key in FRESHNESS_KEYS if key in small}
        return _splice(dumps(freshness), rendered.body)

    def heartbeat_frame(self) -> bytes:
        """The ``heartbeat`` event (CONTRACT §4), rendered once for every stream."""
        self.heartbeats += 1
        document = heartbeat_document(
            self._context.store.latest(), self._context.clock(), version=self.deployment
        )
        return sse_frame("heartbeat", dumps(document))

    def _document(
        self,
        snapshot: Snapshot,
        now: datetime,
        campaigns: Sequence[str] | None,
        ingroups: Sequence[str] | None,
    ) -> dict[str, Any]:
        context = self._context
        return api_document(
            snapshot,
            now,
            limit=context.limit,
            alerts=context.alerts(),
            campaigns=campaigns,
            ingroups=ingroups,
            warn_at=context.warn_at,
            critical_at=context.critical_at,
            thresholds=context.thresholds,
            alert_view=context.alert_view(),
            thresholds_for=context.thresholds_for,
        )


def heartbeat_document(
    snapshot: Snapshot | None, now: datetime, *, version: str = ""
) -> dict[str, Any]:
    """Server time, freshness and the deployment: all a page needs to compute every age
    itself, say why figures stopped, and notice it should reload.

    ``age_seconds`` is the age of the live figures at ``now``; the page adds the time since it
    received this event, and takes per-source ages from ``now - last_success``. Each source's
    ``error_kind`` (``transport``, ``timeout``, ``login``...) is here, not only in the snapshot,
    because a failing dialer changes no figure: no snapshot event would bring the cause.
    """
    if snapshot is None:
        return {"now": iso(now), "stale": True, "stale_sources": [], "age_seconds": None,
                "sources": {}, "version": version}  # fmt: skip
    age = snapshot.age_seconds(now)
    return {
        "now": iso(now),
        "stale": snapshot.stale(now),
        "stale_sources": snapshot.stale_sources(now),
        "age_seconds": None if age is None else round(age, 1),
        "sources": {
            status.function: {
                "last_success": iso(status.last_success),
                "stale": status.stale(now),
                "error_kind": status.error_kind,
            }
            for status in snapshot.sources
        },
        "version": version,
    }
