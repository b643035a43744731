"""What the soak sees of the daemons while they suffer: every surface an operator looks at.

Three surfaces say whether the floor's figures can be trusted, and the soak watches all three
on every daemon instance, all the time: ``/api/snapshot`` (``stale``), ``/readyz`` (503) and the
TV's Server-Sent Events stream (the ``heartbeat`` event's ``stale``). A :class:`Sampler` reads
the first two about once a second and remembers what the TV stream last said at that moment;
the verdict compares these samples with the fault timeline. The samples also carry each
source's ``ok`` and ``last_success`` (when the daemon last got a good answer, by its own clock),
the open alerts and today's drop ratio of the steered campaigns, which is all the recovery,
Slack and auto-pause checks need.

Everything read here, and every other page the daemon serves, goes through the
:class:`SecretScanner`: the VICIdial password and the Slack token must appear nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

#: Seconds between two samples of one daemon (the faults last seconds, the polls 5 s).
SAMPLE_EVERY = 1.0
#: Seconds between two sweeps over the other pages (index, board, metrics, bad requests).
SWEEP_EVERY = 4.0
#: Seconds between two reads of a daemon's resident memory.
RSS_EVERY = 1.0
_TIMEOUT = aiohttp.ClientTimeout(total=5.0)


def epoch(text: str | None) -> float | None:
    """An API timestamp (``2026-11-25T15:04:05Z``) as seconds since the epoch."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class Hit:
    """A secret found: which one, where, and the text around it with the secret masked."""

    secret: str  # the secret's name, never its value
    where: str
    excerpt: str


class SecretScanner:
    """Looks for each secret's value in everything it is given; counts what it looked at."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self._secrets = {name: value for name, value in secrets.items() if value}
        self.hits: list[Hit] = []
        self.items = 0
        self.bytes = 0
        self.by_source: Counter[str] = Counter()

    def scan(self, where: str, data: bytes | str) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        self.items += 1
        self.bytes += len(text)
        self.by_source[where.split(" ", 1)[0]] += 1
        for name, value in self._secrets.items():
            found = text.find(value)
            if found >= 0:
                excerpt = text[max(0, found - 60) : found + len(value) + 60]
                for other in self._secrets.values():
                    excerpt = excerpt.replace(other, f"<{name}>")
                self.hits.append(Hit(name, where, excerpt.replace("\n", " ")))


@dataclass(frozen=True)
class AlertSeen:
    """One open incident as ``/api/snapshot`` showed it."""

    key: str
    since: str
    kind: str
    campaign: str
    window: str
    severity: str
    pause: str | None  # the auto-pause outcome, if any


@dataclass(frozen=True)
class Sample:
    """One daemon as seen at ``at`` (wall clock). ``None`` fields: that surface did not answer
    (the process is down) or, for ``tv``, no stream was connected."""

    daemon: str
    at: float
    snapshot_stale: bool | None
    stale_sources: tuple[str, ...] = ()
    readyz: int | None = None
    readyz_login: str | None = None
    tv: bool | None = None
    tv_sources: tuple[str, ...] = ()
    leader: str = ""
    login: str | None = None
    taken_at: float | None = None
    ok: Mapping[str, bool] = field(default_factory=dict)
    last_success: Mapping[str, float | None] = field(default_factory=dict)
    alerts: tuple[AlertSeen, ...] = ()
    #: campaign → (today's ratio, answered) for the steered campaigns
    today: Mapping[str, tuple[float, int]] = field(default_factory=dict)
    days_30d: Mapping[str, int] = field(default_factory=dict)
    #: campaigns whose call counts the page shows as unknown (``calls_today`` null), and the
    #: number of agents listed: the last good figures must stay on screen through a failure
    blank: tuple[str, ...] = ()
    agents: int = 0


@dataclass
class TvState:
    """What one daemon's SSE stream last said (a TV on the floor)."""

    connected: bool = False
    stale: bool | None = None
    stale_sources: tuple[str, ...] = ()
    heartbeats: int = 0
    snapshots: int = 0
    connects: int = 0
    bytes: int = 0


class TvStream:
    """One TV: ``GET /api/events``, parsed event by event, reconnecting whenever it drops."""

    def __init__(self, url: str, http: aiohttp.ClientSession, scanner: SecretScanner) -> None:
        self._url = url
        self._http = http
        self._scanner = scanner
        self.state = TvState()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError, ValueError):
                await self._follow()
            self.state.connected = False
            self.state.stale = None
            await asyncio.sleep(0.3)

    async def _follow(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=2.0, sock_read=30.0)
        async with self._http.get(self._url + "/api/events", timeout=timeout) as response:
            if response.status != 200:
                return
            self.state.connects += 1
            event, data = "", []
            async for raw in response.content:
                self.state.bytes += len(raw)
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line:
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip())
                    continue
                if data:
                    self._dispatch(event, "\n".join(data))
                event, data = "", []

    def _dispatch(self, event: str, data: str) -> None:
        self._scanner.scan(f"sse {event}", data)
        document = json.loads(data)
        self.state.connected = True
        if event == "heartbeat":
            self.state.heartbeats += 1
            self.state.stale = bool(document.get("stale"))
            self.state.stale_sources = tuple(document.get("stale_sources") or ())
        elif event == "snapshot":
            self.state.snapshots += 1


class Sampler:
    """Reads ``/api/snapshot`` and ``/readyz`` of one daemon about once a second."""

    def __init__(
        self,
        name: str,
        url: str,
        http: aiohttp.ClientSession,
        scanner: SecretScanner,
        tv: TvStream,
        campaigns: tuple[str, ...],
        requests: Counter[str],
    ) -> None:
        self.name = name
        self._url = url
        self._http = http
        self._scanner = scanner
        self._tv = tv
        self._campaigns = campaigns
        self._requests = requests
        self.samples: list[Sample] = []
        self.server_errors: list[str] = []

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            self.samples.append(await self.sample())
            await asyncio.sleep(max(0.0, SAMPLE_EVERY - (time.monotonic() - started)))

    async def get(self, path: str) -> tuple[int, bytes] | None:
        """One GET, counted and scanned; ``None`` when the daemon does not answer."""
        self._requests[path.split("?", 1)[0]] += 1
        try:
            async with self._http.get(self._url + path, timeout=_TIMEOUT) as response:
                body = await response.read()
        except (aiohttp.ClientError, OSError, TimeoutError):
            return None
        self._scanner.scan(f"http {path}", body)
        if response.status >= 500 and path.split("?", 1)[0] not in ("/readyz", "/api/snapshot"):
            self.server_errors.append(f"{self.name} {path} -> {response.status}")
        return response.status, body

    async def sample(self) -> Sample:
        snapshot, ready = await asyncio.gather(self.get("/api/snapshot"), self.get("/readyz"))
        at = time.time()
        tv = self._tv.state
        shown_tv = tv.stale if tv.connected else None
        if snapshot is None or ready is None:
            return Sample(self.name, at, None)
        ready_login = None
        if ready[0] == 503:
            login = json.loads(ready[1]).get("login")
            ready_login = login.get("cause") if isinstance(login, dict) else None
        if snapshot[0] != 200:
            return Sample(self.name, at, None, readyz=ready[0], readyz_login=ready_login)
        document = json.loads(snapshot[1])
        return _sample_of(
            self.name, at, document, ready[0], ready_login, shown_tv, tv, self._campaigns
        )


def _sample_of(
    name: str,
    at: float,
    document: dict[str, Any],
    ready: int,
    ready_login: str | None,
    tv_stale: bool | None,
    tv: TvState,
    campaigns: tuple[str, ...],
) -> Sample:
    sources = document.get("sources") or {}
    login = document.get("login")
    today: dict[str, tuple[float, int]] = {}
    days: dict[str, int] = {}
    blank = tuple(
        str(c.get("id")) for c in document.get("campaigns") or () if c.get("calls_today") is None
    )
    for campaign in document.get("campaigns") or ():
        windows = campaign.get("windows") or {}
        if campaign.get("id") in campaigns and "today" in windows:
            window = windows["today"]
            today[campaign["id"]] = (float(window["ratio"]), int(window["answered"]))
        if "30d" in windows:
            days[campaign["id"]] = int(windows["30d"].get("days") or 0)
    alerts = tuple(
        AlertSeen(
            key=str(alert.get("key")),
            since=str(alert.get("since")),
            kind=str(alert.get("kind")),
            campaign=str(alert.get("campaign")),
            window=str(alert.get("window")),
            severity=str(alert.get("severity")),
            pause=None if not alert.get("auto_pause") else str(alert["auto_pause"]["outcome"]),
        )
        for alert in document.get("alerts") or ()
    )
    return Sample(
        daemon=name,
        at=at,
        snapshot_stale=bool(document.get("stale")),
        stale_sources=tuple(document.get("stale_sources") or ()),
        readyz=ready,
        readyz_login=ready_login,
        tv=tv_stale,
        tv_sources=tv.stale_sources if tv_stale is not None else (),
        leader=str(document.get("leader") or ""),
        login=login.get("cause") if isinstance(login, dict) else None,
        taken_at=epoch(document.get("taken_at")),
        ok={name: bool(status.get("ok")) for name, status in sources.items()},
        last_success={name: epoch(status.get("last_success")) for name, status in sources.items()},
        alerts=alerts,
        today=today,
        days_30d=days,
        blank=blank,
        agents=len(document.get("agents") or ()),
    )


#: Pages swept for secrets besides the sampled ones: every route of ours, bad requests too.
SWEEP_PATHS = (
    "/",
    "/boards/floor",
    "/api/snapshot?board=floor",
    "/metrics",
    "/healthz",
    "/boards/no-such-board",
    "/api/snapshot?board=no-such-board",
    "/no/such/page?pass=x",
)


async def sweep(sampler: Sampler) -> None:
    """Every other route, every few seconds: scanned for secrets, 5xx answers recorded."""
    while True:
        for path in SWEEP_PATHS:
            await sampler.get(path)
        await asyncio.sleep(SWEEP_EVERY)


@dataclass(frozen=True)
class RssSample:
    daemon: str
    pid: int
    at: float
    rss_kb: int


def rss_kb(pid: int) -> int | None:
    """Resident memory of ``pid`` from ``/proc`` (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


async def watch_rss(pids: Callable[[], Mapping[str, int | None]], samples: list[RssSample]) -> None:
    """Every daemon process's RSS, once a second, for the memory verdict."""
    while True:
        now = time.time()
        for name, pid in pids().items():
            if pid is not None and (kb := rss_kb(pid)) is not None:
                samples.append(RssSample(name, pid, now, kb))
        await asyncio.sleep(RSS_EVERY)


@dataclass(frozen=True)
class RequestCount:
    """The simulator's request counters at ``at`` (``GET /_sim/requests``)."""

    at: float
    total: int
    by_function: Mapping[str, int]


async def watch_requests(
    read: Callable[[], Any], counts: list[RequestCount], every: float = 0.5
) -> None:
    """The simulator's counters twice a second: the verdict needs to know that nothing at all
    was sent while the login breaker was open."""
    while True:
        with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
            document = await read()
            counts.append(
                RequestCount(time.time(), int(document["total"]), dict(document["by_function"]))
            )
        await asyncio.sleep(every)
