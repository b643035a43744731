"""Synthetic floors for the web tests: snapshots built directly, no poller in the way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp

from wallboard.snapshot import (
    AGENT_STATES,
    AgentCounts,
    AgentView,
    CampaignView,
    DropWindow,
    Snapshot,
    SourceStatus,
)

SOURCES = {
    "logged_in_agents": 30.0,
    "call_status_stats": 60.0,
    "campaigns_list": 60.0,
    "hopper_list": 120.0,
    "in_group_status": 30.0,
    "version": 600.0,
}


def floor_snapshot(
    now: datetime,
    *,
    campaigns: tuple[str, ...] = ("SALES1", "SALES2", "SALES3"),
    agents_per_campaign: int = 4,
    answered: int = 400,
    dropped: int = 5,
    polled_ago: float = 2.0,
) -> Snapshot:
    """A floor whose content is set by ``answered``/``dropped``; every source polled
    ``polled_ago`` seconds before ``now``."""
    agents = tuple(
        AgentView(
            user=f"{c}-{n}",
            name=f"Agent {c} {n}",
            campaign=c,
            state=AGENT_STATES[n % 3],
            status="READY",
            sub_status="",
            pause_code="",
            calls_today=n,
            state_since=now - timedelta(seconds=60 * n + 7),
        )
        for c in campaigns
        for n in range(agents_per_campaign)
    )
    views = tuple(
        CampaignView(
            id=c,
            name=f"Campaign {c}",
            active=True,
            dial_method="RATIO",
            dial_level=2.0,
            hopper_leads=100,
            today=DropWindow(calls=answered * 2, answered=answered, dropped=dropped),
            agents=AgentCounts(waiting=2, incall=1, paused=1),
        )
        for c in campaigns
    )
    polled = now - timedelta(seconds=polled_ago)
    return Snapshot(
        taken_at=polled,
        local_date=now.date(),
        campaigns=views,
        agents=agents,
        sources=tuple(
            SourceStatus(function=f, interval=i, ok=True, last_success=polled)
            for f, i in SOURCES.items()
        ),
    )


class FakeStore:
    """The one method the web layer may call on the cache."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self.snapshot = snapshot

    def latest(self) -> Snapshot | None:
        return self.snapshot


@dataclass(frozen=True)
class Event:
    name: str
    data: bytes
    frame: bytes  # the raw bytes as received, for byte-for-byte comparisons


class EventStream:
    """Named SSE events from one stream, however large (aiohttp's ``readuntil`` caps lines)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self._buffer = b""

    async def next(self) -> Event:
        """The next named event (the ``retry:`` preamble is skipped)."""
        while True:
            end = self._buffer.find(b"\n\n")
            while end < 0:
                chunk = await self.response.content.readany()
                if not chunk:
                    raise EOFError("the stream ended")
                self._buffer += chunk
                end = self._buffer.find(b"\n\n")
            frame, self._buffer = self._buffer[: end + 2], self._buffer[end + 2 :]
            fields = dict(line.split(b": ", 1) for line in frame.strip(b"\n").split(b"\n"))
            if b"event" in fields:
                return Event(fields[b"event"].decode(), fields[b"data"], frame)
