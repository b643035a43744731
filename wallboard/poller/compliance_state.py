"""What the poller remembers for the compliance windows: pacing samples and period anchors.

Both are durable (the history store's key-value area, so with Redis they follow leadership):

* the pacing samples of the last hour (``pacing``), so a restart or a new leader does not
  show a 15-minute window measured over 30 seconds;
* each campaign's period anchor (``period-anchors``) for campaigns without a configured
  ``period_start``: the first day with calls in the durable store, fixed the first time it is
  found and never moved afterwards (periods that jumped with the data would not be periods).

Pure apart from the store calls; the poller calls :meth:`observe` on every good
``call_status_stats`` answer and :meth:`fix_anchors` after each history refresh.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from wallboard.cache.history import HistoryStore, HistoryStoreError
from wallboard.compliance import ComplianceSettings
from wallboard.compose_windows import Horizon, WindowInputs
from wallboard.vicidial.models import CallStatusStats
from wallboard.windows import DropWindow, total
from wallboard.windows.pacing import PaceTracker
from wallboard.windows.period import first_active_day, pooled_days
from wallboard.windows.trend import TrendTracker

log = logging.getLogger(__name__)

PACING_KEY = "pacing"
ANCHORS_KEY = "period-anchors"
TREND_KEY = "trend"


class ComplianceState:
    """Pacing samples and period anchors, restored at start and saved as they change."""

    def __init__(self, settings: ComplianceSettings) -> None:
        self._settings = settings
        self._pace = PaceTracker()
        self._trend = TrendTracker()
        self._trend_dirty = False
        self._anchors: dict[str, date] = {}
        self._anchors_dirty = False
        # Until the stored days were looked at, a campaign's first day is not known: today
        # must not become the anchor of a campaign that dialed last week.
        self._history_checked = False
        self._group_days_of: object = None
        self._group_days_cache: dict[str, dict[date, DropWindow]] = {}

    @property
    def anchors(self) -> Mapping[str, date]:
        return self._anchors

    async def restore(self, store: HistoryStore) -> None:
        """Load what a previous leader saved; anything unreadable starts afresh (logged)."""
        try:
            pacing = await store.get_value(PACING_KEY)
            anchors = await store.get_value(ANCHORS_KEY)
            trend = await store.get_value(TREND_KEY)
        except HistoryStoreError as error:
            log.warning("cannot read pacing samples and period anchors (%s)", error)
            return
        try:
            if pacing is not None:
                self._pace.load(json.loads(pacing))
            if trend is not None:
                self._trend.load(json.loads(trend))
            if anchors is not None:
                self._anchors = {
                    str(campaign): date.fromisoformat(day)
                    for campaign, day in dict(json.loads(anchors)).items()
                }
        except (ValueError, TypeError) as error:
            log.warning("stored pacing samples or period anchors unreadable (%s); afresh", error)

    def observe(
        self,
        day: date,
        at: datetime,
        lines: Sequence[CallStatusStats],
        campaign_ids: Sequence[str],
        second: int = 0,
    ) -> None:
        """Record today's counters of every campaign and group from a good stats answer
        (``second``: seconds since the dialer's midnight, for the day's trend)."""
        wanted = set(campaign_ids)
        lines = [line for line in lines if line.code in wanted]
        counters = {
            line.code: DropWindow(line.calls, line.human_answered, line.drops) for line in lines
        }
        for group in self._settings.groups:
            members = [counters[member] for member in group.campaigns if member in counters]
            if len(members) == len(group.campaigns):
                counters[group.key] = total(members)
        self._pace.observe(day, at, counters)
        if self._trend.observe(day, second, counters):
            self._trend_dirty = True
        for line in lines:  # a brand-new campaign's first day with calls starts its periods
            if line.calls > 0 and self._needs_anchor(line.code) and self._history_checked:
                self._set_anchor(line.code, day)

    async def save_pacing(self, store: HistoryStore) -> None:
        """The pacing samples (every answer) and, when a point was added, the day's trend."""
        try:
            await store.set_value(PACING_KEY, json.dumps(self._pace.dump()).encode())
            if self._trend_dirty:
                await store.set_value(TREND_KEY, json.dumps(self._trend.dump()).encode())
                self._trend_dirty = False
        except HistoryStoreError as error:
            log.debug("cannot store pacing samples or the trend (%s)", error)

    async def fix_anchors(
        self,
        store: HistoryStore,
        campaign_ids: Sequence[str],
        past_days: Mapping[str, Mapping[date, DropWindow]],
    ) -> None:
        """After a history refresh: fix the anchor of each campaign that has none yet, from
        its first stored day with calls, and save any new one."""
        for campaign in campaign_ids:
            if not self._needs_anchor(campaign):
                continue
            first = first_active_day(past_days.get(campaign, {}).items())
            if first is not None:
                self._set_anchor(campaign, first)
        self._history_checked = True
        await self.save_anchors(store)

    async def save_anchors(self, store: HistoryStore) -> None:
        if not self._anchors_dirty:
            return
        document = {campaign: day.isoformat() for campaign, day in sorted(self._anchors.items())}
        try:
            await store.set_value(ANCHORS_KEY, json.dumps(document).encode())
        except HistoryStoreError as error:
            log.debug("cannot store period anchors (%s)", error)
            return
        self._anchors_dirty = False

    def inputs(
        self,
        horizon: Horizon,
        past_days: Mapping[str, Mapping[date, DropWindow]] | None,
        target_ids: Sequence[str],
    ) -> WindowInputs:
        """The compose inputs (``horizon``: shift end to instant, for today; asked once per
        distinct shift end, not once per campaign)."""
        targets = [*target_ids, *(group.key for group in self._settings.groups)]
        return WindowInputs(
            compliance=self._settings,
            horizon=functools.cache(horizon),
            past_days=past_days,
            group_days=self._group_days(past_days),
            anchors=dict(self._anchors),
            pace={target: self._pace.windows(target) for target in targets},
            trend={target: self._trend.points(target) for target in targets},
        )

    def _group_days(
        self, past_days: Mapping[str, Mapping[date, DropWindow]] | None
    ) -> Mapping[str, Mapping[date, DropWindow]] | None:
        """Each group's pooled past days, recomputed only when the stored days were reloaded
        (a history refresh hands over a new mapping), not on every publish."""
        if past_days is None:
            return None
        if self._group_days_of is not past_days:
            self._group_days_cache = {
                group.key: pooled_days([past_days.get(m, {}) for m in group.campaigns])
                for group in self._settings.groups
            }
            self._group_days_of = past_days
        return self._group_days_cache

    def _needs_anchor(self, campaign: str) -> bool:
        return (
            self._settings.for_target(campaign).period_start is None
            and campaign not in self._anchors
        )

    def _set_anchor(self, campaign: str, day: date) -> None:
        self._anchors[campaign] = day
        self._anchors_dirty = True
        log.info("%s: regulatory periods run in 30-day steps from %s", campaign, day)
