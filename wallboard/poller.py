"""The one poller: APScheduler jobs that call VICIdial and publish snapshots. The only writer.

Every reader (TV pages, SSE streams, ``/metrics``, the alert engine) reads the cache, so ten
TVs, Grafana and the alert engine cost the dialer exactly what one poller costs.

Scheduling is deliberate (see STYLE.md): one job per source with ``max_instances=1`` (a slow
dialer never stacks requests), ``coalesce=True`` (after a stall, one catch-up run, not a burst),
``misfire_grace_time`` equal to the interval, and jitter. APScheduler 3 adds ``uniform(0,
jitter)`` to each run, which lengthens the mean period by ``jitter/2``; the interval is shortened
by that much so the configured interval stays the real mean. First runs happen at start-up.

Every job catches every client error, records it on its source (redacted: the client never lets
the password into a message) and keeps the previous data, so the board shows the last good
numbers marked stale with their age instead of going blank. Transitions are logged once: one
ERROR when a source starts failing, one INFO when it recovers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from wallboard.cache.base import SnapshotStore
from wallboard.cache.history import DayTotals, HistoryStore, HistoryStoreError
from wallboard.compose import (
    DatedStats,
    SourceResults,
    StateSinceTracker,
    compose_snapshot,
    local_date_at,
    tracked_campaign_ids,
)
from wallboard.config import Settings
from wallboard.snapshot import DropWindow, Snapshot, SourceStatus, utcnow
from wallboard.vicidial.client import VicidialClient
from wallboard.vicidial.errors import VicidialError
from wallboard.vicidial.models import agent_state

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: The scheduler job that fills the 30-day window's past days.
HISTORY_JOB = "history"

#: Calls still ringing or being dispositioned at midnight land in yesterday's figures a little
#: later; a yesterday fetched sooner than this after midnight is fetched once more.
SETTLE_AFTER_MIDNIGHT = timedelta(hours=1)


@dataclass(frozen=True)
class PollPlan:
    """What to poll and how often (seconds); built from the config by :func:`plan_from_config`."""

    campaigns: tuple[str, ...] | None  # None = every campaign VICIdial lists
    ingroups: tuple[str, ...] = ()
    agents_interval: float = 30.0
    stats_interval: float = 60.0
    campaigns_interval: float = 60.0
    hopper_interval: float = 120.0
    ingroups_interval: float = 30.0
    version_interval: float = 600.0
    jitter: float = 5.0
    history_days: int = 30
    history_interval: float = 600.0
    history_throttle: float = 1.0
    utc_offset_hours: float | None = None  # overrides version's TZNOW when set

    def intervals(self) -> dict[str, float]:
        """Source name (the VICIdial function) → poll interval."""
        sources = {
            "version": self.version_interval,
            "logged_in_agents": self.agents_interval,
            "call_status_stats": self.stats_interval,
            "campaigns_list": self.campaigns_interval,
            "hopper_list": self.hopper_interval,
        }
        if self.ingroups:
            sources["in_group_status"] = self.ingroups_interval
        return sources


def plan_from_config(settings: Settings) -> PollPlan:
    """Translate the validated config into a :class:`PollPlan`."""
    vicidial = settings.vicidial
    poll = settings.poll
    campaigns = None if vicidial.campaigns == "all" else tuple(vicidial.campaigns)
    return PollPlan(
        campaigns=campaigns,
        ingroups=tuple(vicidial.ingroups),
        agents_interval=poll.agents_interval.total_seconds(),
        stats_interval=poll.stats_interval.total_seconds(),
        campaigns_interval=poll.campaigns_interval.total_seconds(),
        hopper_interval=poll.hopper_interval.total_seconds(),
        ingroups_interval=poll.ingroups_interval.total_seconds(),
        jitter=poll.jitter.total_seconds(),
        history_days=poll.history_days,
        history_throttle=poll.history_throttle.total_seconds(),
        utc_offset_hours=vicidial.utc_offset,
    )


class Poller:
    """Owns the scheduler, the latest result per source, and composing snapshots."""

    def __init__(
        self,
        client: VicidialClient,
        store: SnapshotStore[Snapshot],
        history: HistoryStore,
        plan: PollPlan,
        *,
        clock: Clock = utcnow,
        instance: str = "",
        on_poll: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._history = history
        self._plan = plan
        self._clock = clock
        self._instance = instance
        self._on_poll = on_poll
        self._results = SourceResults()
        self._statuses = {
            name: SourceStatus(function=name, interval=interval)
            for name, interval in plan.intervals().items()
        }
        self._tracker = StateSinceTracker()
        self._history_windows: dict[str, DropWindow] = {}
        self._history_day: date | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._starting = False
        self._history_running = False
        # Sources polled since start(): until each has been tried once, publishing would
        # replace a good snapshot (the previous leader's) with a half-empty one.
        self._attempted: set[str] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._publish_lock = asyncio.Lock()
        self._fetchers: dict[str, Callable[[], Awaitable[None]]] = {
            "version": self._fetch_version,
            "logged_in_agents": self._fetch_agents,
            "call_status_stats": self._fetch_call_stats,
            "campaigns_list": self._fetch_campaigns,
            "hopper_list": self._fetch_hoppers,
            "in_group_status": self._fetch_ingroups,
        }

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    async def start(self) -> None:
        """Poll ``version`` (the day boundary) and ``campaigns_list`` (what to track) first,
        then schedule every source, the rest starting at once."""
        if self._scheduler is not None or self._starting:
            return
        self._starting = True
        self._attempted.clear()
        previous = self._store.latest()
        if previous is not None:  # taking over: keep the agents' time-in-state going
            self._tracker.seed({a.user: (a.state, a.state_since) for a in previous.agents})
        try:
            await self.poll("version")
            await self.poll("campaigns_list")
            scheduler = AsyncIOScheduler(timezone=UTC)
            now = datetime.now(UTC)
            for name, interval in self._plan.intervals().items():
                polled = name in ("version", "campaigns_list")
                first = now + timedelta(seconds=interval) if polled else now
                self._add_job(scheduler, name, interval, self._job(name), first)
            self._add_job(
                scheduler, HISTORY_JOB, self._plan.history_interval, self._history_job, now
            )
            self._scheduler = scheduler
            scheduler.start()
        finally:
            self._starting = False

    def _add_job(
        self,
        scheduler: AsyncIOScheduler,
        name: str,
        interval: float,
        func: Callable[[], Awaitable[None]],
        first_run: datetime,
    ) -> None:
        jitter = min(self._plan.jitter, interval / 2)
        scheduler.add_job(
            self._tracked(func),
            trigger=IntervalTrigger(seconds=max(1.0, interval - jitter / 2), jitter=jitter or None),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(interval)),
            next_run_time=first_run,
        )

    async def stop(self, grace: float = 2.0) -> None:
        """Stop scheduling; give in-flight polls ``grace`` seconds, then cancel them."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    def _tracked(self, func: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Wrap a job so shutdown can find (and finish or cancel) the poll in flight."""

        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            try:
                await func()
            except asyncio.CancelledError:
                # Shutdown cancelled a poll past its grace period. Ending quietly here keeps
                # APScheduler from logging a traceback for an orderly stop.
                log.debug("poll cancelled at shutdown")
            finally:
                if task is not None:
                    self._inflight.discard(task)

        return run

    def _job(self, name: str) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            await self.poll(name)

        return job

    # -- polling --------------------------------------------------------------------------

    async def poll(self, name: str) -> None:
        """Poll one source now, record the outcome, publish a new snapshot. Never raises."""
        fetch = self._fetchers[name]
        started = time.perf_counter()
        outcome = "ok"
        try:
            await fetch()
        except VicidialError as error:
            outcome = error.kind
            self._record_failure(name, error.kind, str(error))
        except Exception as error:  # a bug must not kill the job or leak a traceback loop
            outcome = "internal"
            log.exception("%s: unexpected error while polling", name)
            self._record_failure(name, "internal", f"internal error: {type(error).__name__}")
        else:
            self._record_success(name)
        finally:
            self._attempted.add(name)
            if self._on_poll is not None:
                self._on_poll(name, outcome, time.perf_counter() - started)
        self._refresh_history_if_outdated()
        await self.publish()

    def _refresh_history_if_outdated(self) -> None:
        """After VICIdial's midnight (or once campaigns are known), run the history job now."""
        scheduler = self._scheduler
        if scheduler is None or self._history_running or self._history_day == self.local_date():
            return
        if self._history_day is None and not self._campaign_ids():
            return
        job = scheduler.get_job(HISTORY_JOB)
        if job is not None and job.next_run_time is not None:
            soon = datetime.now(UTC)
            if job.next_run_time > soon + timedelta(seconds=5):
                job.modify(next_run_time=soon)

    async def poll_all(self) -> None:
        """Poll every source once, ``version`` first (tests and start-up use this)."""
        for name in self._plan.intervals():
            await self.poll(name)

    def _record_success(self, name: str) -> None:
        status = self._statuses[name]
        if not status.ok and status.last_error is not None:
            log.info("%s: recovered", name)
        self._statuses[name] = replace(
            status,
            ok=True,
            last_success=self._clock(),
            last_error=None,
            error_kind=None,
            failing_since=None,
        )

    def _record_failure(self, name: str, kind: str, message: str) -> None:
        status = self._statuses[name]
        now = self._clock()
        if status.ok or status.failing_since is None:
            log.error("%s: failing (%s): %s; keeping the last good data", name, kind, message)
        self._statuses[name] = replace(
            status,
            ok=False,
            last_error=message,
            error_kind=kind,
            failing_since=status.failing_since or now,
        )

    # -- sources --------------------------------------------------------------------------

    def _utc_offset(self) -> float:
        if self._plan.utc_offset_hours is not None:
            return self._plan.utc_offset_hours
        version = self._results.version
        if version is not None and version.tz_now is not None:
            return version.tz_now
        return 0.0

    def _offset_known(self) -> bool:
        version = self._results.version
        return self._plan.utc_offset_hours is not None or (
            version is not None and version.tz_now is not None
        )

    def local_date(self) -> date:
        """VICIdial's current day, in the dialer's time zone."""
        return local_date_at(self._clock(), self._utc_offset())

    def _campaign_ids(self) -> list[str]:
        return tracked_campaign_ids(self._plan.campaigns, self._results, self._plan.ingroups)

    async def _fetch_version(self) -> None:
        version = await self._client.version()
        self._results = replace(self._results, version=version)

    async def _fetch_agents(self) -> None:
        agents = await self._client.fetch_agents(self._plan.campaigns)
        self._results = replace(self._results, agents=agents)

    async def _fetch_call_stats(self) -> None:
        day = self.local_date()
        # Until the dialer's offset is known, ask for the server's own "today".
        query_date = day if self._offset_known() else None
        lines = await self._client.fetch_call_stats(self._plan.campaigns, query_date=query_date)
        self._results = replace(self._results, call_stats=DatedStats(day=day, lines=lines))

    async def _fetch_campaigns(self) -> None:
        campaigns = await self._client.fetch_campaigns()
        if self._plan.campaigns is not None:
            wanted = set(self._plan.campaigns)
            campaigns = tuple(c for c in campaigns if c.campaign_id in wanted)
        self._results = replace(self._results, campaigns=campaigns)

    async def _fetch_hoppers(self) -> None:
        """One ``hopper_list`` per campaign; keeps the counts it got even if one fails."""
        counts = dict(self._results.hoppers)
        failure: VicidialError | None = None
        for campaign_id in self._campaign_ids():
            try:
                counts[campaign_id] = (await self._client.fetch_hopper(campaign_id)).leads
            except VicidialError as error:
                failure = failure or error
        self._results = replace(self._results, hoppers=counts)
        if failure is not None:
            raise failure

    async def _fetch_ingroups(self) -> None:
        status = await self._client.fetch_ingroups(self._plan.ingroups)
        self._results = replace(self._results, ingroups=status)

    # -- the 30-day window ------------------------------------------------------------------

    async def _history_job(self) -> None:
        self._history_running = True
        try:
            await self.refresh_history()
        except (VicidialError, HistoryStoreError) as error:
            log.warning("history: %s; will retry at the next run", error)
        except Exception:
            log.exception("history: unexpected error")
        finally:
            self._history_running = False

    async def refresh_history(self) -> int:
        """Fetch each missing past day once (throttled), then recompute the 30-day sums.

        Returns the number of ``call_status_stats`` requests made. Days already in the
        durable store are never fetched again, so a restart costs the dialer nothing. The one
        exception is yesterday: fetched in the first :data:`SETTLE_AFTER_MIDNIGHT` of today,
        it may miss calls still being dispositioned at midnight, so it is fetched once more
        after that and only then marked final.
        """
        campaign_ids = self._campaign_ids()
        if not campaign_ids:
            return 0
        today = self.local_date()
        first = today - timedelta(days=self._plan.history_days - 1)
        yesterday = today - timedelta(days=1)
        settled = self._local_time_of_day() >= SETTLE_AFTER_MIDNIGHT
        requests = 0
        if self._plan.history_days > 1:
            days = await self._history.missing_days(campaign_ids, first, yesterday)
            final_key = f"history-final:{yesterday.isoformat()}"
            if (
                settled
                and yesterday not in days
                and await self._history.get_value(final_key) is None
            ):
                days.append(yesterday)  # fetched too soon after midnight: settle it once
            for day in days:
                if requests:
                    await asyncio.sleep(self._plan.history_throttle)
                await self._store_day(campaign_ids, day)
                requests += 1
                if day == yesterday and settled:
                    await self._history.set_value(final_key, b"1")
        totals = await self._history.get(campaign_ids, first, yesterday)
        self._history_windows = _sum_windows(totals)
        self._history_day = today
        await self.publish()
        return requests

    async def _store_day(self, campaign_ids: Sequence[str], day: date) -> None:
        """One past day's totals for every campaign (zeros where VICIdial printed no line)."""
        lines = await self._client.fetch_call_stats(campaign_ids, query_date=day)
        by_code = {line.code: line for line in lines}
        zero = DayTotals(campaign_id="-", day=day, calls=0, answered=0, dropped=0)
        await self._history.put(
            [
                DayTotals(
                    campaign_id=campaign_id,
                    day=day,
                    calls=by_code[campaign_id].calls,
                    answered=by_code[campaign_id].human_answered,
                    dropped=by_code[campaign_id].drops,
                )
                if campaign_id in by_code
                else replace(zero, campaign_id=campaign_id)
                for campaign_id in campaign_ids
            ]
        )

    def _local_time_of_day(self) -> timedelta:
        """How long ago VICIdial's day began (its midnight, in the dialer's time zone)."""
        local = self._clock() + timedelta(hours=self._utc_offset())
        return timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)

    # -- publishing -------------------------------------------------------------------------

    def compose(self) -> Snapshot:
        """The snapshot for the current results (pure apart from the clock)."""
        now = self._clock()
        today = self.local_date()
        agents = self._results.agents or ()
        state_since = self._tracker.update({a.user: agent_state(a).value for a in agents}, now)
        history = self._history_windows if self._history_day == today else {}
        return compose_snapshot(
            now=now,
            local_date=today,
            campaign_ids=self._campaign_ids(),
            results=self._results,
            statuses=list(self._statuses.values()),
            history=history,
            state_since=state_since,
            leader=self._instance,
        )

    @property
    def warmed_up(self) -> bool:
        """Every source has been tried at least once since :meth:`start`."""
        return self._attempted >= set(self._statuses)

    async def publish(self) -> bool:
        """Compose and hand the snapshot to the cache (which notifies only on change).

        Nothing is published before every source has been tried once: readers keep the
        previous snapshot (or "no data yet") rather than a half-built one.
        """
        if not self.warmed_up:
            return False
        async with self._publish_lock:
            return await self._store.publish(self.compose())

    @property
    def history_day(self) -> date | None:
        """The dialer day the 30-day window was last completed for (None: not yet)."""
        return self._history_day

    @property
    def statuses(self) -> Mapping[str, SourceStatus]:
        return dict(self._statuses)


def _sum_windows(totals: Sequence[DayTotals]) -> dict[str, DropWindow]:
    windows: dict[str, DropWindow] = {}
    for day in totals:
        window = windows.get(day.campaign_id, DropWindow(days=0))
        windows[day.campaign_id] = DropWindow(
            calls=window.calls + day.calls,
            answered=window.answered + day.answered,
            dropped=window.dropped + day.dropped,
            days=window.days + 1,
        )
    return windows
