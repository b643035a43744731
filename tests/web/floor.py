"""Synthetic floors for the web tests: snapshots built directly, no poller in the way."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import aiohttp

from wallboard.snapshot import (
    AGENT_STATES,
    AgentCounts,
    AgentView,
    CampaignView,
    DialerInfo,
    DropWindow,
    ExtraWindow,
    Snapshot,
    SourceStatus,
)
from wallboard.windows import Thresholds, total
from wallboard.windows.forecast import forecast
from wallboard.windows.ofcom import OfcomCounts

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


#: The compliance floor's moment: 10:04:05 on the dialer's clock (New York, UTC-5).
COMPLIANCE_NOW = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
DIALER = DialerInfo(
    version="2.14-917a", build="240718-1208", utc_offset_hours=-5.0, timezone="America/New_York"
)
#: The end of the shift: 21:00 in New York is 02:00 UTC the next day.
SHIFT_END = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
#: SALES1's UK-mode counts: 978 agent-answered people, 40 agent-answered machines, 22 drops.
OFCOM = OfcomCounts(calls=2000, people=978, machines=40, drops=22)


def compliance_snapshot(now: datetime = COMPLIANCE_NOW) -> Snapshot:
    """Two campaigns and a drop-rate group with every kind of window, hand-computed:

    * SALES1: today 22/1000 (2.2 %), 30 days 380/20000 (1.9 %), period since 10 Nov
      210/10000 (2.1 %), Ofcom 22 x (1 - 40/1018) = 21.136 adjusted drops (2.115 %); paced
      at 6 drops per 150 answers an hour, it passes 2.5 % at 16:24 UTC (11:24 dialer) and
      3 % at 20:24 UTC (15:24 dialer);
    * SALES2: today 10/800, 30 days over 12 days only, period since 20 Nov, no forecast;
    * group:EAST (SALES1 + SALES2), pooled, staying under 3 % until the shift ends.
    """
    floor = floor_snapshot(now, campaigns=("SALES1", "SALES2", "SALES3"), agents_per_campaign=3)
    thresholds = Thresholds()
    sales1_today = DropWindow(calls=2000, answered=1000, dropped=22)
    sales1_hour = DropWindow(calls=300, answered=150, dropped=6)
    sales1 = replace(
        floor.campaigns[0],
        today=sales1_today,
        last_30d=DropWindow(calls=50000, answered=20000, dropped=380, days=30),
        extra_windows=(
            ExtraWindow(
                "period",
                DropWindow(calls=25000, answered=10000, dropped=210, days=16),
                since=date(2026, 11, 10),
            ),
            ExtraWindow("today_ofcom", OFCOM.window()),
            ExtraWindow("15m", DropWindow(calls=70, answered=36, dropped=2), span_seconds=900.0),
            ExtraWindow("1h", sales1_hour, span_seconds=3600.0),
        ),
        forecast=forecast(sales1_today, sales1_hour, 3600.0, now, SHIFT_END, thresholds),
    )
    sales2_today = DropWindow(calls=1600, answered=800, dropped=10)
    sales2 = replace(
        floor.campaigns[1],
        today=sales2_today,
        last_30d=DropWindow(calls=20000, answered=8000, dropped=120, days=12),
        extra_windows=(
            ExtraWindow(
                "period",
                DropWindow(calls=9000, answered=3600, dropped=50, days=6),
                since=date(2026, 11, 20),
            ),
            ExtraWindow("15m", DropWindow(calls=0, answered=0, dropped=0), span_seconds=240.0),
        ),
    )
    group_today = replace(total((sales1_today, sales2_today)), days=1)
    group_hour = DropWindow(calls=500, answered=250, dropped=4)
    group = CampaignView(
        id="group:EAST",
        name="EAST",
        members=("SALES1", "SALES2"),
        today=group_today,
        last_30d=replace(total((sales1.last_30d, sales2.last_30d)), days=30),
        extra_windows=(ExtraWindow("1h", group_hour, span_seconds=3600.0),),
        forecast=forecast(group_today, group_hour, 3600.0, now, SHIFT_END, thresholds),
    )
    return replace(
        floor, campaigns=(sales1, sales2, floor.campaigns[2]), groups=(group,), dialer=DIALER
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
