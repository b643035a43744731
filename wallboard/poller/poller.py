"""The one poller: APScheduler jobs that call VICIdial and publish snapshots. The only writer.

Every reader (TV pages, SSE streams, ``/metrics``, the alert engine) reads the cache, so ten
TVs, Grafana and the alert engine cost the dialer exactly what one poller costs.

This module schedules and decides; the pieces it uses each do one job: :mod:`.plan` (what and
how often, and the request budget's shares), :mod:`.budget` (the sliding-minute pacing),
:mod:`.health` (per-source status and retry backoff), :mod:`.breaker` (the login circuit
breaker), :mod:`.agent_states` (durable time-in-state), :mod:`.backfill` (the 30-day window's
past days) and :mod:`wallboard.compose` (the snapshot itself).

Scheduling is deliberate (STYLE.md): one job per source with ``max_instances=1``,
``coalesce=True``, ``misfire_grace_time`` equal to the interval, and jitter (APScheduler 3
adds ``uniform(0, jitter)``, so the interval is shortened by ``jitter/2`` to keep the mean).
A failing source is retried on a short backoff instead of its full interval. ``hopper_list``
(one request per campaign) is spread: one campaign per tick, the cycle stretched by the
request budget on large floors.

Every poll stores the new health in the cache even when the figures did not change; the cache
notifies readers only when the content changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from wallboard.cache.base import SnapshotStore
from wallboard.cache.history import HistoryStore, HistoryStoreError
from wallboard.compose import DatedStats, SourceResults, compose_snapshot, tracked_campaign_ids
from wallboard.day_record import record_day_settings
from wallboard.poller.agent_states import StateSinceTracker
from wallboard.poller.backfill import HistoryBackfill
from wallboard.poller.breaker import NO_LOGIN_SOURCES, BreakerState, LoginBreaker, Permit
from wallboard.poller.budget import RequestBudget
from wallboard.poller.compliance_state import ComplianceState
from wallboard.poller.dialer_clock import DialerClock
from wallboard.poller.health import SourceHealth
from wallboard.poller.plan import BudgetPlan, PollPlan, budget_plan
from wallboard.snapshot import STALE_AFTER_INTERVALS, LoginBlock, Snapshot, SourceStatus, utcnow
from wallboard.vicidial.client import VicidialClient
from wallboard.vicidial.errors import LoginError, VicidialError
from wallboard.vicidial.models import agent_state

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: The scheduler job that fills the 30-day window's past days.
HISTORY_JOB = "history"
#: The one-shot job that sends the login breaker's probe when it is due.
PROBE_JOB = "login-probe"
#: The source whose request doubles as the login probe (one cheap call).
PROBE_SOURCE = "campaigns_list"

#: Durable keys (history store's key-value table).
BREAKER_KEY = "login-breaker"
AGENT_STATES_KEY = "agent-states"

#: Sources whose request waits for the budget's slow share (``hopper_list`` paces each of
#: its own requests).
SLOW_SOURCES = frozenset({"version"})


#: Marks a campaign whose hopper was tried but never answered (so it is not retried in a
#: burst at every tick, yet has no age).
_NEVER = datetime.min.replace(tzinfo=UTC)


class LoginBlocked(Exception):
    """Raised by the slow gate while the login breaker is open (nothing was sent)."""


class Deferred(Exception):
    """The budget has no room for this tick's request: nothing was sent, nothing failed."""


#: The sources whose figures a new leader keeps from the previous snapshot until its own poll
#: of them succeeds (hoppers and ``version`` are slow and show as unknown for a moment).
INHERITED_UNTIL_POLLED = frozenset(
    {"logged_in_agents", "call_status_stats", "campaigns_list", "in_group_status"}
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
        budget: RequestBudget | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._history = history
        self._plan = plan
        self._clock = clock
        self._instance = instance
        self._on_poll = on_poll
        self._dialer = DialerClock(plan.timezone, plan.utc_offset_hours)
        self._results = SourceResults()
        self._budget_plan = budget_plan(plan, len(plan.campaigns or ()) or 1)
        # None: no pacing (tests that poll by hand); the daemon always passes one, fed by the
        # client's request observer.
        self._budget = budget
        if budget is not None:
            budget.set_slow_limit(self._budget_plan.slow_per_minute)
        self._health = SourceHealth(self._effective_intervals(), shortest=plan.shortest_interval)
        self._breaker = LoginBreaker(login_retry=plan.login_retry, lock_retry=plan.lock_retry)
        self._tracker = StateSinceTracker()
        self._compliance = ComplianceState(plan.compliance)
        self._incomplete_groups: set[str] = set()
        self._backfill = HistoryBackfill(
            client,
            history,
            days=plan.history_days,
            gate=self._slow_login_gate,
            throttle=plan.history_throttle,
        )
        self._history_failing = False
        self._history_published: date | None = None
        self._history_retry_at: datetime | None = None
        self._history_failures = 0
        self._hopper_cursor = 0
        self._hopper_polled: dict[str, datetime] = {}
        self._hopper_errors: dict[str, VicidialError] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._starting = False
        self._history_running = False
        # Sources polled since start(): until each has been tried once, publishing would
        # replace a good snapshot (the previous leader's) with a half-empty one.
        self._attempted: set[str] = set()
        # A new leader (or a restart on a shared store) starts from the snapshot the store
        # already holds: until its own polls of the floor sources have succeeded, it publishes
        # those figures with its own health (errors, ages, login block), never blanks them.
        self._inherited: Snapshot | None = None
        self._succeeded: set[str] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._publish_lock = asyncio.Lock()
        self._fetchers: dict[str, Callable[[], Awaitable[None]]] = {
            "version": self._fetch_version,
            "logged_in_agents": self._fetch_agents,
            "call_status_stats": self._fetch_call_stats,
            "campaigns_list": self._fetch_campaigns,
            "hopper_list": self._fetch_next_hopper,
            "in_group_status": self._fetch_ingroups,
        }

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    @property
    def budget(self) -> BudgetPlan:
        """How the request budget is shared for the current campaign count."""
        return self._budget_plan

    async def start(self) -> None:
        """Restore durable state, poll ``version`` and ``campaigns_list`` first, then
        schedule every source, the rest starting at once."""
        if self._scheduler is not None or self._starting:
            return
        self._starting = True
        self._attempted.clear()
        self._succeeded.clear()
        try:
            await self._restore()
            self._inherit(self._store.latest())
            await self.poll("version")
            await self.poll("campaigns_list")
            scheduler = AsyncIOScheduler(timezone=UTC)
            now = datetime.now(UTC)
            for name, interval in self._job_intervals().items():
                first = now
                if name in ("version", "campaigns_list"):  # just polled: next one later,
                    # soon if it failed (a dialer blip at start-up must not cost 10 minutes)
                    delay = self._health.retry_delay(name, interval) or interval
                    first = now + timedelta(seconds=delay)
                self._add_job(scheduler, name, interval, self._job(name), first)
            self._add_job(
                scheduler, HISTORY_JOB, self._plan.history_interval, self._history_job, now
            )
            self._scheduler = scheduler
            scheduler.start()
            self._schedule_probe()
            log.info("request budget: %s", self._budget_plan.describe())
            if self._budget_plan.over_budget:
                log.warning(
                    "the polls need more than poll.max_requests_per_minute = %g (%.1f/min for "
                    "agents, stats, campaigns and in-groups, which are never slowed, plus the "
                    "least hoppers and version need): raise the budget or the intervals",
                    self._budget_plan.budget_per_minute,
                    self._budget_plan.priority_per_minute,
                )
        finally:
            self._starting = False

    async def _restore(self) -> None:
        """Breaker and time-in-state from the durable store (a restart or a new leader)."""
        now = self._clock()
        try:
            breaker = await self._history.get_value(BREAKER_KEY)
            agents = await self._history.get_value(AGENT_STATES_KEY)
        except HistoryStoreError as error:
            log.warning("cannot read the durable state (%s); starting afresh", error)
            return
        self._breaker.load(breaker)
        state = self._breaker.state
        if state is not None:
            log.error(
                "login breaker still open (%s): %s; next probe at %s",
                state.cause,
                state.fix,
                state.next_probe.isoformat(timespec="seconds"),
            )
        gap = timedelta(seconds=STALE_AFTER_INTERVALS * self._plan.agents_interval)
        self._tracker.restore(agents, now, gap)
        await self._compliance.restore(self._history)

    def _inherit(self, previous: Snapshot | None) -> None:
        """Take over the figures and per-source ages a previous leader published."""
        self._inherited = previous
        if previous is None:
            return
        polled = set(self._plan.intervals())
        for status in previous.sources:
            if status.function in polled and status.last_success is not None:
                self._health.set_last_success(status.function, status.last_success)

    def _still_inheriting(self) -> bool:
        """Whether some floor source the inherited snapshot had figures for has not yet
        succeeded here (its figures would be blank in a snapshot of our own results)."""
        inherited = self._inherited
        if inherited is None:
            return False
        needed = {
            status.function
            for status in inherited.sources
            if status.function in INHERITED_UNTIL_POLLED and status.last_success is not None
        } & set(self._plan.intervals())
        if needed <= self._succeeded:
            self._inherited = None  # our own results cover everything it showed
            return False
        return True

    def _effective_intervals(self) -> dict[str, float]:
        intervals = self._plan.intervals()
        intervals["hopper_list"] = self._budget_plan.hopper_interval
        return intervals

    def _job_intervals(self) -> dict[str, float]:
        intervals = self._plan.intervals()
        intervals["hopper_list"] = self._budget_plan.hopper_spacing
        return intervals

    def _add_job(
        self,
        scheduler: AsyncIOScheduler,
        name: str,
        interval: float,
        func: Callable[[], Awaitable[None]],
        first_run: datetime,
    ) -> None:
        scheduler.add_job(
            self._tracked(func),
            trigger=self._trigger(interval),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(interval)),
            next_run_time=first_run,
        )

    def _trigger(self, interval: float) -> IntervalTrigger:
        jitter = min(self._plan.jitter, interval / 2)
        return IntervalTrigger(seconds=max(1.0, interval - jitter / 2), jitter=jitter or None)

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

    def _run_soon(self, job_id: str, delay: float = 0.0) -> None:
        """Move a job's next run to ``delay`` seconds from now (only ever earlier)."""
        scheduler = self._scheduler
        job = scheduler.get_job(job_id) if scheduler is not None else None
        if job is None:
            return
        when = datetime.now(UTC) + timedelta(seconds=delay)
        if job.next_run_time is None or job.next_run_time > when:
            job.modify(next_run_time=when)

    # -- polling --------------------------------------------------------------------------

    async def poll(self, name: str) -> None:
        """Poll one source now, record the outcome, publish. Never raises."""
        needs_login = name not in NO_LOGIN_SOURCES
        permit = self._breaker.permit(self._clock()) if needs_login else Permit.GO
        if permit is Permit.BLOCKED:
            self._record_blocked(name)
            self._attempted.add(name)
            await self.publish()
            return
        started = time.perf_counter()
        outcome = "ok"
        try:
            if name in SLOW_SOURCES and self._budget is not None:
                await self._budget.wait_slow()
            await self._fetchers[name]()
        except Deferred:
            # The budget paces the spread hopper ticks: a tick without room is skipped (the
            # next one comes soon), never queued, so a slow tick cannot pile up behind it.
            outcome = "deferred"
            if permit is Permit.PROBE:
                self._breaker.cancel_probe()  # nothing was sent: the next tick probes
            return
        except LoginError as error:
            outcome = error.kind
            await self._login_failed(name, error)
        except VicidialError as error:
            outcome = error.kind
            if permit is Permit.PROBE:
                await self._probe_failed()
            self._record_failure(name, error.kind, str(error))
        except Exception as error:  # a bug must not kill the job or leak a traceback loop
            outcome = "internal"
            log.exception("%s: unexpected error while polling", name)
            if permit is Permit.PROBE:
                await self._probe_failed()
            self._record_failure(name, "internal", f"internal error: {type(error).__name__}")
        else:
            if needs_login and self._breaker.succeeded():
                await self._login_recovered()
            self._record_success(name)
            self._succeeded.add(name)
        finally:
            self._attempted.add(name)
            if self._on_poll is not None:
                self._on_poll(name, outcome, time.perf_counter() - started)
        self._refresh_history_if_outdated()
        await self.publish()

    async def poll_all(self) -> None:
        """Poll every source once, ``version`` first (tests and start-up use this).

        ``hopper_list`` gets a whole round: every campaign once.
        """
        for name in self._plan.intervals():
            await self.poll_round(name)

    async def poll_round(self, name: str) -> None:
        """One poll of ``name``; for ``hopper_list`` one per campaign (what one effective
        interval of the schedule does)."""
        rounds = len(self._campaign_ids()) if name == "hopper_list" else 1
        for _ in range(max(1, rounds)):
            await self.poll(name)

    def _record_success(self, name: str) -> None:
        now = self._clock()
        if name == "hopper_list":
            self._record_hopper_outcome(now)
            return
        self._health.success(name, now)

    def _record_failure(self, name: str, kind: str, message: str) -> None:
        now = self._clock()
        if name == "hopper_list":
            self._record_hopper_outcome(now)
            return
        self._health.failure(name, kind, message, now)
        self._schedule_retry(name)

    def _record_blocked(self, name: str) -> None:
        state = self._breaker.state
        fix = state.fix if state is not None else "login refused"
        self._health.blocked(name, "login", f"not polled while VICIdial refuses the login: {fix}",
                             self._clock())  # fmt: skip

    def _schedule_retry(self, name: str) -> None:
        """A failing source is retried soon, not after its full interval."""
        interval = self._job_intervals().get(name)
        if interval is None:
            return
        delay = self._health.retry_delay(name, interval)
        if delay is not None:
            self._run_soon(name, delay)

    # -- the login breaker ------------------------------------------------------------------

    async def _login_failed(self, name: str, error: LoginError) -> None:
        state = await self._trip_breaker(error)
        self._health.failure(name, "login", f"{state.fix} ({error})", self._clock())

    async def _trip_breaker(self, error: LoginError) -> BreakerState:
        """Open the breaker (or keep it open), say why once per cause, persist, plan a probe."""
        now = self._clock()
        cause = str(getattr(error, "cause", "") or "bad_credentials")
        previous = self._breaker.state
        state = self._breaker.trip(cause, now, str(getattr(error, "fix", "") or ""))
        if previous is None or previous.cause != state.cause:
            log.error(
                "VICIdial refused the login (%s): %s. Every source that needs a login is "
                "stopped; one probe at %s",
                cause,
                state.fix,
                state.next_probe.isoformat(timespec="seconds"),
            )
        await self._save_breaker()
        self._schedule_probe()
        return state

    async def _probe_failed(self) -> None:
        """The probe got no verdict on the login (timeout, 5xx, a bug): try again later."""
        self._breaker.probe_failed(self._clock())
        await self._save_breaker()
        self._schedule_probe()

    async def _login_recovered(self) -> None:
        log.info("VICIdial accepts the login again; resuming every source")
        await self._save_breaker()
        for name in self._plan.intervals():
            if name not in NO_LOGIN_SOURCES:
                self._run_soon(name)
        self._run_soon(HISTORY_JOB)

    def _schedule_probe(self) -> None:
        """One-shot job at the breaker's next probe (one authenticated request)."""
        scheduler = self._scheduler
        state = self._breaker.state
        if scheduler is None or state is None:
            return
        delay = max(0.0, (state.next_probe - self._clock()).total_seconds())
        scheduler.add_job(
            self._tracked(self._job(PROBE_SOURCE)),
            trigger="date",
            run_date=datetime.now(UTC) + timedelta(seconds=delay + 0.01),
            id=PROBE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _save_breaker(self) -> None:
        try:
            await self._history.set_value(BREAKER_KEY, self._breaker.dump())
        except HistoryStoreError as error:
            log.warning("cannot store the login breaker state (%s)", error)

    async def _slow_login_gate(self) -> None:
        """Before each backfill request: the breaker must be closed, the budget have room."""
        if self._breaker.is_open:
            raise LoginBlocked
        if self._budget is not None:
            await self._budget.wait_slow()

    # -- sources --------------------------------------------------------------------------

    def _version_offset(self) -> float | None:
        version = self._results.version
        return version.tz_now if version is not None else None

    def local_date(self) -> date:
        """VICIdial's current day, in the dialer's time zone."""
        return self._dialer.local_date(self._clock(), self._version_offset())

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
        known = self._dialer.known(self._version_offset())
        lines = await self._client.fetch_call_stats(
            self._plan.campaigns, query_date=day if known else None
        )
        self._results = replace(self._results, call_stats=DatedStats(day=day, lines=lines))
        now = self._clock()
        second = int(self._dialer.time_of_day(now, self._version_offset()).total_seconds())
        self._compliance.observe(day, now, lines, self._campaign_ids(), second)
        await self._compliance.save_pacing(self._history)
        await self._compliance.save_anchors(self._history)

    async def _fetch_campaigns(self) -> None:
        campaigns = await self._client.fetch_campaigns(expected=self._plan.campaigns)
        if self._plan.campaigns is not None:
            wanted = set(self._plan.campaigns)
            campaigns = tuple(c for c in campaigns if c.campaign_id in wanted)
        self._results = replace(self._results, campaigns=campaigns)
        self._replan_budget()
        self._check_groups()

    def _check_groups(self) -> None:
        """Say once per group when a member is not on the floor: the group is then left out
        (a partial sum would pass for the group's figure)."""
        tracked = set(self._campaign_ids())
        for group in self._plan.compliance.groups:
            missing = [member for member in group.campaigns if member not in tracked]
            if missing and group.key not in self._incomplete_groups:
                log.warning(
                    "drop-rate group %s left out: %s not among VICIdial's campaigns",
                    group.name,
                    ", ".join(missing),
                )
            if missing:
                self._incomplete_groups.add(group.key)
            else:
                self._incomplete_groups.discard(group.key)

    def _replan_budget(self) -> None:
        """With ``campaigns = "all"`` the campaign count (and so the hopper cycle) can change."""
        plan = budget_plan(self._plan, len(self._campaign_ids()) or 1)
        if plan == self._budget_plan:
            return
        self._budget_plan = plan
        if self._budget is not None:
            self._budget.set_slow_limit(plan.slow_per_minute)
        self._health.set_interval("hopper_list", plan.hopper_interval)
        scheduler = self._scheduler
        job = scheduler.get_job("hopper_list") if scheduler is not None else None
        if job is not None:  # running (start() logs the first plan itself)
            job.reschedule(trigger=self._trigger(plan.hopper_spacing))
            log.info("request budget: %s", plan.describe())

    async def _fetch_next_hopper(self) -> None:
        """One campaign's hopper per tick, round robin: spread, never a burst of N.

        Campaigns whose hopper was never fetched (start-up, a new campaign) go first, and
        while there are such campaigns the tick also takes as many more as the budget allows
        right now, then comes back as soon as it allows another: every hopper shows as soon as
        the budget permits, without one poll holding up the start-up.
        """
        campaign_ids = self._campaign_ids()
        if not campaign_ids:
            return
        unknown = [c for c in campaign_ids if c not in self._hopper_polled]
        if not unknown:
            campaign_id = campaign_ids[self._hopper_cursor % len(campaign_ids)]
            self._hopper_cursor += 1
            await self._fetch_hopper(campaign_id)
            return
        failure: VicidialError | None = None
        for index, campaign_id in enumerate(unknown):
            if index and self._budget is not None and self._budget.slow_wait() > 0:
                break  # the next tick goes on with the rest
            try:
                await self._fetch_hopper(campaign_id)
            except (LoginError, Deferred):
                raise
            except VicidialError as error:
                failure = failure or error
        if failure is not None:
            raise failure

    async def _fetch_hopper(self, campaign_id: str) -> None:
        if self._budget is not None:
            if self._budget.slow_wait() > 0:
                raise Deferred
            await self._budget.wait_slow()
        try:
            count = await self._client.fetch_hopper(campaign_id)
        except VicidialError as error:
            self._hopper_errors[campaign_id] = error
            self._hopper_polled.setdefault(campaign_id, _NEVER)
            raise
        self._hopper_errors.pop(campaign_id, None)
        self._hopper_polled[campaign_id] = self._clock()
        hoppers = dict(self._results.hoppers)
        hoppers[campaign_id] = count.leads
        self._results = replace(self._results, hoppers=hoppers)

    def _record_hopper_outcome(self, now: datetime) -> None:
        """``hopper_list`` health over every campaign: its age is the oldest count's, and it
        is failing while any campaign's last poll failed."""
        tracked = set(self._campaign_ids())
        for stale_id in set(self._hopper_errors) - tracked:
            del self._hopper_errors[stale_id]
        times = [t for c, t in self._hopper_polled.items() if c in tracked and t is not _NEVER]
        oldest = min(times) if times else None
        if self._hopper_errors:
            campaign_id, error = next(iter(self._hopper_errors.items()))
            self._health.failure("hopper_list", error.kind, f"{campaign_id}: {error}", now)
            self._health.set_last_success("hopper_list", oldest)
            self._schedule_retry("hopper_list")
        elif oldest is not None:
            self._health.success("hopper_list", now, last_success=oldest)

    async def _fetch_ingroups(self) -> None:
        """One ``in_group_status`` request per in-group: VICIdial sums a pipe list into one
        line, and each board and each metric series needs its own in-groups' figures. The
        set is all or nothing: a failure keeps every in-group's last good figures (one
        source, one age), rather than a mix of fresh and old queues summed on a board."""
        statuses = {
            ingroup: await self._client.fetch_ingroups((ingroup,))
            for ingroup in self._plan.ingroups
        }
        self._results = replace(self._results, ingroups=statuses)

    # -- the 30-day window ------------------------------------------------------------------

    def _refresh_history_if_outdated(self) -> None:
        """After VICIdial's midnight (or once campaigns are known), run the history job now,
        unless it is backing off after a failure."""
        if self._scheduler is None or self._history_running:
            return
        if self._backfill.day == self.local_date():
            return
        if self._backfill.day is None and not self._campaign_ids():
            return
        retry_at = self._history_retry_at
        if retry_at is not None and self._clock() < retry_at:
            return
        self._run_soon(HISTORY_JOB, 0.0 if self._backfill.day is None else 1.0)

    async def _history_job(self) -> None:
        self._history_running = True
        try:
            await self.refresh_history()
        except (VicidialError, HistoryStoreError, LoginBlocked) as error:
            if isinstance(error, LoginError):
                await self._trip_breaker(error)
            self._history_failed(error)
        except Exception:
            log.exception("history: unexpected error")
        finally:
            self._history_running = False

    def _history_failed(self, error: Exception) -> None:
        self._history_failures += 1
        delay = min(self._plan.history_interval, self._plan.shortest_interval * 2 ** min(
            self._history_failures - 1, 10))  # fmt: skip
        self._history_retry_at = self._clock() + timedelta(seconds=delay)
        if not self._history_failing:
            self._history_failing = True
            detail = "login breaker open" if isinstance(error, LoginBlocked) else str(error)
            log.warning("history: %s; retrying with backoff, keeping what is stored", detail)

    async def refresh_history(self) -> int:
        """Fetch each missing past day once, then recompute the 30-day sums; returns the
        number of ``call_status_stats`` requests made."""
        now = self._clock()
        offset = self._version_offset()
        campaign_ids = self._campaign_ids()
        requests = await self._backfill.refresh(
            campaign_ids,
            self._dialer.local_date(now, offset),
            self._dialer.time_of_day(now, offset),
        )
        await self._compliance.fix_anchors(self._history, campaign_ids, self._backfill.days)
        await self._record_day_settings(now, campaign_ids)
        if self._history_failing:
            log.info("history: recovered")
        self._history_failing = False
        self._history_failures = 0
        self._history_retry_at = None
        await self.publish()
        self._history_published = self._backfill.day
        return requests

    async def _record_day_settings(self, now: datetime, campaign_ids: Sequence[str]) -> None:
        """The thresholds in force today and the dialer's clock, for ``wallboard ledger``
        (one read when nothing changed)."""
        compliance = self._plan.compliance
        targets = [*campaign_ids, *(group.key for group in compliance.groups)]
        offset = self._version_offset()
        try:
            await record_day_settings(
                self._history,
                self._dialer.local_date(now, offset),
                {target: compliance.for_target(target).thresholds for target in targets},
                utc_offset_hours=self._dialer.offset_hours(now, offset),
                timezone=self._plan.timezone,
            )
        except HistoryStoreError as error:
            log.warning("cannot record today's thresholds for the ledger (%s)", error)

    # -- publishing -------------------------------------------------------------------------

    def compose(self) -> Snapshot:
        """The snapshot for the current results (pure apart from the clock)."""
        now = self._clock()
        today = self.local_date()
        agents = self._results.agents or ()
        states = self._tracker.update({a.user: agent_state(a).value for a in agents}, now)
        loaded = self._backfill.day == today
        history = self._backfill.windows if loaded else None
        breaker = self._breaker.state
        offset = self._version_offset()
        campaign_ids = self._campaign_ids()
        windows = self._compliance.inputs(
            lambda shift_end: self._dialer.horizon(now, shift_end, offset),
            self._backfill.days if loaded else None,
            campaign_ids,
        )
        return compose_snapshot(
            now=now,
            local_date=today,
            campaign_ids=campaign_ids,
            results=self._results,
            statuses=self._health.statuses(),
            history=history,
            agent_states=states,
            leader=self._instance,
            login_block=None
            if breaker is None
            else LoginBlock(
                cause=breaker.cause,
                fix=breaker.fix,
                since=breaker.opened_at,
                next_probe=breaker.next_probe,
            ),
            windows=windows,
            dialer_offset_hours=self._dialer.offset_hours(now, offset),
            dialer_timezone=self._plan.timezone,
        )

    @property
    def warmed_up(self) -> bool:
        """Every source has been tried at least once since :meth:`start`."""
        return self._attempted >= set(self._plan.intervals())

    async def publish(self) -> bool:
        """Compose and hand the snapshot to the cache (which notifies only on change).

        Nothing is published before every source has been tried once: readers keep the
        previous snapshot (or "no data yet") rather than a half-built one.
        """
        if not self.warmed_up:
            return False
        async with self._publish_lock:
            snapshot = self.compose()
            if self._still_inheriting() and self._inherited is not None:
                snapshot = replace(
                    self._inherited,
                    taken_at=snapshot.taken_at,
                    sources=snapshot.sources,
                    login_block=snapshot.login_block,
                    leader=snapshot.leader,
                )
            changed = await self._store.publish(snapshot)
            await self._save_agent_states(snapshot.taken_at)
            return changed

    async def _save_agent_states(self, now: datetime) -> None:
        """Write time-in-state to the durable store when an agent's state changed."""
        if not self._tracker.needs_save(now, timedelta(seconds=self._plan.agents_interval)):
            return
        try:
            await self._history.set_value(AGENT_STATES_KEY, self._tracker.dump(now))
        except HistoryStoreError as error:
            log.debug("cannot store agents' time-in-state (%s)", error)
            return
        self._tracker.mark_saved(now)

    @property
    def history_day(self) -> date | None:
        """The dialer day the 30-day window was last completed *and published* for (None:
        not yet): once it is today's, readers see the whole window."""
        return self._history_published

    @property
    def statuses(self) -> Mapping[str, SourceStatus]:
        return {status.function: status for status in self._health.statuses()}
