"""Assemble the daemon: one aiohttp app whose ``cleanup_ctx`` owns every resource.

Order matters and is reversed on shutdown: the HTTP session to VICIdial, the durable history
store, the snapshot store (with leader election on Redis), the freshness watch (every
instance: it turns TVs stale even when the leader is dead), then the poller, which runs only
while this instance is the leader (it follows the store's leadership). SIGTERM/SIGINT stop
the site, close the SSE streams, let an in-flight poll finish (or cancel it after a short
grace), close everything and exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import aiohttp
from aiohttp import web

from wallboard.alerts.rules import rules_from_config
from wallboard.alerts.runtime import AlertRuntime, firing_counts
from wallboard.alerts.slack import SlackSender
from wallboard.alerts.store import create_alert_store
from wallboard.alerts.view_store import create_alert_view_store
from wallboard.cache import create_history_store, create_snapshot_store, instance_name
from wallboard.cache.base import cancel_and_wait
from wallboard.config import Settings
from wallboard.freshness import FreshnessWatch
from wallboard.metrics import DaemonMetrics, source_intervals
from wallboard.poller import Poller, plan_from_config
from wallboard.poller.budget import RequestBudget
from wallboard.snapshot import utcnow
from wallboard.snapshot_json import SnapshotJsonCodec
from wallboard.vicidial.client import VicidialClient
from wallboard.web.app import build_web_app
from wallboard.web.boards import boards_from_config
from wallboard.web.keys import HUB, WebContext
from wallboard.windows import Thresholds

log = logging.getLogger(__name__)

# APScheduler warns on every tick it skips because the previous run of that job is still going
# (a slow dialer): with ``max_instances=1`` and ``coalesce`` that is the intended behaviour,
# and a warning per tick would drown the one line per transition the poller logs itself.
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)

POLLER = web.AppKey("poller", Poller)
ALERTS = web.AppKey("alerts", AlertRuntime)

#: Seconds a shutdown may take before aiohttp gives up on open connections.
SHUTDOWN_TIMEOUT = 3.0


def build_daemon_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    instance: str | None = None,
) -> web.Application:
    """The daemon's web app with every resource tied to its lifetime."""
    name = instance or instance_name()
    # Building the store does no I/O (Redis connects lazily); starting it is the
    # cleanup_ctx's job. Leadership changes reach the poller through this queue.
    leadership: asyncio.Queue[bool] = asyncio.Queue()
    store = create_snapshot_store(settings.cache, SnapshotJsonCodec())
    store.leadership.subscribe(leadership.put_nowait)
    views = create_alert_view_store(settings.cache, store)
    rules = rules_from_config(settings)

    def stream_clients() -> int:
        # Read at scrape time: scrapes arrive through ``app``, built just below.
        return len(app[HUB])

    metrics = DaemonMetrics(
        latest=store.latest,
        clock=clock,
        limit=settings.alerts.limit,
        limit_for=lambda target: rules.thresholds_for(target).limit,
        intervals=source_intervals(settings.poll.intervals),
        alerts_firing=lambda: firing_counts(views.latest()),
        stream_clients=stream_clients,
        agent_series=settings.metrics.agent_series,
        auto_pause_campaigns=(
            settings.alerts.auto_pause.campaigns if settings.alerts.auto_pause else ()
        ),
    )
    boards = boards_from_config(settings.boards)
    context = WebContext(
        store=store,
        limit=settings.alerts.limit,
        warn_at=settings.alerts.warn_at,
        critical_at=settings.alerts.critical_at,
        boards=boards,
        token=settings.web.token_value(),
        clock=clock,
        metrics=metrics,
        thresholds=thresholds_from_config(settings),
        thresholds_for=rules.thresholds_for,
        alert_view=views.latest,
    )
    app = build_web_app(context)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        vicidial = settings.vicidial
        session = aiohttp.ClientSession(
            headers={"User-Agent": "vicidial-wallboard"},
            connector=aiohttp.TCPConnector(limit=4),
        )
        history = create_history_store(settings.cache, settings.state.path)
        plan = plan_from_config(settings)
        budget = RequestBudget(1.0)  # the poller sets its share from the plan

        def observe_request(function: str, outcome: str, seconds: float) -> None:
            budget.record()
            metrics.observe_request(function, outcome, seconds)

        client = VicidialClient(
            session,
            url=str(vicidial.url),
            user=vicidial.user,
            password=vicidial.password(),
            source=vicidial.source,
            timeout=vicidial.timeout.total_seconds(),
            retries=retry_budget(
                vicidial.timeout.total_seconds(),
                settings.poll.shortest_interval[1].total_seconds(),
            ),
            verify_tls=vicidial.verify_tls,
            max_response_bytes=vicidial.max_response_bytes,
            observer=observe_request,
        )
        poller = Poller(
            client,
            store,
            history,
            plan,
            clock=clock,
            instance=name,
            on_poll=metrics.observe_poll,
            budget=budget,
        )
        app[POLLER] = poller
        alerts = AlertRuntime(
            rules=rules,
            store=create_alert_store(settings.cache, settings.state.path),
            snapshots=store,
            view_store=views,
            client=client,
            clock=clock,
            history_days=settings.poll.history_days,
            slack=_slack_sender(settings),
            on_notification=metrics.observe_notification,
            on_pause=metrics.observe_auto_pause,
        )
        app[ALERTS] = alerts
        hub = app[HUB]
        unsubscribe = store.subscribe(lambda _snapshot: hub.notify())
        unsubscribe_views = views.subscribe(lambda _view: hub.notify())  # alerts are content
        freshness = FreshnessWatch(store.latest, clock)
        unsubscribe_freshness = freshness.subscribe(lambda _stale: hub.notify_freshness())
        await alerts.open()
        follower = asyncio.create_task(_follow_leadership(leadership, poller, alerts))
        await views.start()
        await store.start()  # leadership (memory: at once) reaches the poller via the queue
        await freshness.start()
        log.info("daemon started (instance %s, cache %s)", name, settings.cache.backend)
        # Everything built so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise cost ~45 ms each on a large floor
        # (bench/compliance.py) and land in the p99 of a publish or a scrape.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await cancel_and_wait(follower)
            await alerts.follow()
            await poller.stop()
            await freshness.close()
            unsubscribe_freshness()
            unsubscribe_views()
            unsubscribe()
            await alerts.close()
            await views.close()
            await store.close()
            await history.close()
            await session.close()
            log.info("daemon stopped")

    app.cleanup_ctx.append(resources)
    return app


def _slack_sender(settings: Settings) -> SlackSender | None:
    """The Slack sender when ``[slack]`` is configured; without it alerts go to the log."""
    slack = settings.slack
    if slack is None:
        log.info("alerts: no [slack] section; alerts show on the boards, the API and the log")
        return None
    return SlackSender(token=slack.token_value(), channel=slack.channel, base_url=slack.base_url)


def thresholds_from_config(settings: Settings) -> Thresholds:
    """The ``[alerts]`` ratios as the windows module grades them (plain values for readers)."""
    alerts = settings.alerts
    return Thresholds(
        limit=alerts.limit,
        warn_at=alerts.warn_at,
        critical_at=alerts.critical_at,
        min_answered=alerts.min_answered,
    )


def retry_budget(timeout: float, shortest_interval: float, *, most: int = 2) -> int:
    """Retries that still fit in one poll interval, so a struggling dialer never makes polls
    overlap (APScheduler would then skip runs): every attempt may take the whole timeout, and
    the backoff between attempts needs a couple of seconds."""
    attempts = int((shortest_interval - 2.0) // timeout)
    return max(0, min(most, attempts - 1))


async def _follow_leadership(
    changes: asyncio.Queue[bool], poller: Poller, alerts: AlertRuntime
) -> None:
    """Start polling and alerting when this instance becomes the leader, stop both when it
    loses the lock (the new leader carries on from what the store kept)."""
    while True:
        leader = await changes.get()
        if leader and not poller.running:
            log.info("leadership acquired: polling VICIdial and evaluating alerts")
            await poller.start()
            await alerts.lead()
        elif not leader and poller.running:
            log.info("leadership lost: following the leader's snapshots and alerts")
            await alerts.follow()
            await poller.stop()


async def serve(
    settings: Settings,
    *,
    on_ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
    instance: str | None = None,
) -> None:
    """Run the daemon until ``stop`` is set or SIGTERM/SIGINT arrives."""
    app = build_daemon_app(settings, clock=clock, instance=instance)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    site = web.TCPSite(runner, settings.web.host, settings.web.port)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await site.start()
        if on_ready is not None:
            on_ready(_site_url(site, settings))
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
        await runner.cleanup()


def _site_url(site: web.TCPSite, settings: Settings) -> str:
    server = site._server  # the bound socket tells the real port when listen used port 0
    port = settings.web.port
    if isinstance(server, asyncio.base_events.Server) and server.sockets:
        port = server.sockets[0].getsockname()[1]
    host = settings.web.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a display URL, not a bind
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def run_daemon(settings: Settings) -> int:
    """``wallboard run``: serve until SIGTERM; exit 0 on a clean stop, 1 on a failure."""
    try:
        asyncio.run(serve(settings, on_ready=lambda url: log.info("serving on %s", url)))
    except OSError as error:
        log.error("cannot start: %s", error)
        return 1
    return 0
