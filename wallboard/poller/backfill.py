"""The 30-day window's past days: fetched once each, kept durably, summed with today's counts.

One ``call_status_stats&query_date=D`` per missing day, ``poll.history_throttle`` apart and
paced by the request budget's slow share, stored in the history store (SQLite, or Redis for
several instances), so a restart refetches nothing. Yesterday is special: calls still ringing
or being dispositioned at midnight land in its figures a little later, so a yesterday fetched
within :data:`SETTLE_AFTER_MIDNIGHT` of midnight is fetched once more afterwards, then final.

VICIdial prints a line for every requested campaign, even one with no calls (API.md §5.7); the
client rejects an answer that lacks one, so a cut answer is never stored as a day of zeros.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta

from wallboard.cache.history import DayTotals, HistoryStore
from wallboard.vicidial.client import VicidialClient
from wallboard.windows import DropWindow, past_days_by_campaign

SETTLE_AFTER_MIDNIGHT = timedelta(hours=1)

#: Called before each request: waits for the budget, raises if the login breaker is open.
Gate = Callable[[], Awaitable[None]]


class HistoryBackfill:
    """Keeps each campaign's past days of the window, summed, for one dialer day."""

    def __init__(
        self,
        client: VicidialClient,
        store: HistoryStore,
        *,
        days: int,
        gate: Gate,
        throttle: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._store = store
        self._days = days
        self._gate = gate
        self._throttle = throttle  # poll.history_throttle: a pause between two past days
        self._sleep = sleep
        self.windows: dict[str, DropWindow] = {}
        #: Each campaign's stored past days of the window (the period window needs them).
        self.days: dict[str, dict[date, DropWindow]] = {}
        self.day: date | None = None  # the dialer day ``windows`` was completed for

    async def refresh(
        self, campaign_ids: Sequence[str], today: date, time_of_day: timedelta
    ) -> int:
        """Fetch what is missing, recompute the sums; returns the requests made."""
        if not campaign_ids:
            return 0
        first = today - timedelta(days=self._days - 1)
        yesterday = today - timedelta(days=1)
        settled = time_of_day >= SETTLE_AFTER_MIDNIGHT
        requests = 0
        if self._days > 1:
            days = await self._store.missing_days(campaign_ids, first, yesterday)
            final_key = f"history-final:{yesterday.isoformat()}"
            if settled and yesterday not in days and await self._store.get_value(final_key) is None:
                days.append(yesterday)  # fetched too soon after midnight: settle it once
            for day in days:
                if requests and self._throttle > 0:
                    await self._sleep(self._throttle)
                await self._gate()
                await self._store_day(campaign_ids, day)
                requests += 1
                if day == yesterday and settled:
                    await self._store.set_value(final_key, b"1")
        totals = await self._store.get(campaign_ids, first, yesterday)
        self.windows = past_days_by_campaign(
            (t.campaign_id, DropWindow(t.calls, t.answered, t.dropped, 1)) for t in totals
        )
        stored: dict[str, dict[date, DropWindow]] = {}
        for t in totals:
            stored.setdefault(t.campaign_id, {})[t.day] = DropWindow(
                t.calls, t.answered, t.dropped, 1
            )
        self.days = stored
        self.day = today
        return requests

    async def _store_day(self, campaign_ids: Sequence[str], day: date) -> None:
        lines = await self._client.fetch_call_stats(campaign_ids, query_date=day)
        by_code = {line.code: line for line in lines}
        await self._store.put(
            [
                DayTotals(
                    campaign_id=campaign_id,
                    day=day,
                    calls=by_code[campaign_id].calls,
                    answered=by_code[campaign_id].human_answered,
                    dropped=by_code[campaign_id].drops,
                )
                for campaign_id in campaign_ids
                if campaign_id in by_code
            ]
        )
