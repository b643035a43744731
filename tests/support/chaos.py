"""The chaos soak: a bad day for the wallboard, carried out and judged. Shared by
``bench/soak.py`` (five minutes and more) and ``tests/soak/test_soak.py`` (half a minute).

:func:`run_soak` starts the parts (:mod:`.chaos_rig`), watches every surface
(:mod:`.chaos_watch`), carries out the seeded schedule (:mod:`.chaos_plan`): faults of every
kind on every VICIdial function, a leader ``kill -9``ed and restarted, Redis restarted, Slack
rate-limiting, failing and away, two campaigns steered through warning, critical and recovery
(one of them auto-paused for real), then drains Slack, stops everything, gathers the ground
truth and returns the :class:`~.chaos_verdict.Verdict`.

Every wait has a deadline, and everything started is stopped, even when the soak fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.chaos_plan import (
    CALM_CAMPAIGNS,
    CAMPAIGNS,
    STORY_CAMPAIGNS,
    SlackFault,
    SoakPlan,
)
from tests.support.chaos_rig import (
    KEY_PREFIX,
    DaemonProcess,
    Secrets,
    SimProcess,
    make_secrets,
    run_cli,
    write_config,
)
from tests.support.chaos_verdict import (
    KillDone,
    LoginDone,
    Observed,
    RedisDone,
    Verdict,
    WindowDone,
    judge,
)
from tests.support.chaos_watch import (
    RequestCount,
    RssSample,
    Sampler,
    SecretScanner,
    TvStream,
    sweep,
    watch_requests,
    watch_rss,
)
from tests.support.redis_server import RedisServer, free_port, running_redis_server
from tests.support.slack_server import SlackStandIn, running_slack
from tests.support.waiting import eventually
from wallboard.alerts.store import RedisAlertStore
from wallboard.cache import connect_redis
from wallboard.vicidial.parsers import parse_call_status_stats

#: Answered calls a steered campaign has at least, so one drop moves its ratio by 0.1 % at most.
ANSWERED_FLOOR = 1000
#: How often the story re-applies its ratio (seconds; the simulator's calls keep coming).
STEER_EVERY = 1.0
#: Until the first snapshot with the whole 30-day window, on a loaded machine.
WARM_WITHIN = 90.0
#: Starts of one daemon before giving up on finding it a free port.
START_ATTEMPTS = 3
#: Faults a window queues: far more than any window's requests.
WINDOW_TIMES = 100_000

Log = Callable[[str], None]


async def run_soak(plan: SoakPlan, workdir: Path, *, log: Log = print) -> Verdict:
    """Carry out ``plan`` in ``workdir`` (logs, configs, Redis) and judge it."""
    soak = _Soak(plan, workdir, make_secrets(), log)
    return await soak.run()


class _Soak:
    def __init__(self, plan: SoakPlan, workdir: Path, secrets: Secrets, log: Log) -> None:
        self.plan = plan
        self.dir = workdir
        self.secrets = secrets
        self.log = log
        self.scanner = SecretScanner(secrets.named())
        self.our_requests: Counter[str] = Counter()
        self.t0 = 0.0
        self.rss: list[RssSample] = []
        self.counts: list[RequestCount] = []
        self.windows: list[WindowDone] = []
        self.logins: list[LoginDone] = []
        self.kills: list[KillDone] = []
        self.redis_done: list[RedisDone] = []
        self.slack_faults: Counter[str] = Counter()
        self.errors: list[str] = []
        self.daemons: list[DaemonProcess] = []
        self.samplers: list[Sampler] = []
        self._marks: list[tuple[str, float]] = []

    # -- the whole run ----------------------------------------------------------------------

    async def run(self) -> Verdict:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._mark("start-up")
        async with AsyncExitStack() as stack:
            slack = await stack.enter_async_context(running_slack(self.secrets.slack_token))
            redis = stack.enter_context(running_redis_server(self.dir))
            sim = SimProcess(self.plan, self.secrets, self.dir / "simulator.log")
            stack.push_async_callback(sim.stop)
            await sim.start()
            http = await stack.enter_async_context(aiohttp.ClientSession())
            background = _Background(self.errors)
            stack.push_async_callback(background.stop)
            stack.push_async_callback(self._stop_daemons)
            background.start(self._steer(sim))
            await self._start_daemons(sim, redis, slack, http)
            self._watch(http, sim, background)
            self._mark("warm-up")
            await self._warm_up(http)
            self._mark("chaos")
            self.log(f"soak: warmed up; {self.plan.seconds:.0f}s of chaos begins")
            dialer_start = (await sim.state())["now"]
            self.t0 = time.time()
            await self._chaos(sim, redis, slack)
            t_end = time.time()
            dialer_end = (await sim.state())["now"]
            self._mark("drain")
            self.log("soak: chaos over; draining Slack")
            await sim.clear_faults()
            await self._drain(redis)
            final = await self._final_snapshot(http)
            finished = time.time()
            await background.stop()
            # Stopped before anything is counted: a daemon still running could open one more
            # incident (a login blackout keeps data going stale) after the store was read.
            self._mark("stop")
            await asyncio.gather(*(daemon.terminate() for daemon in self.daemons))
            stopped = time.time()
            self._mark("gather")
            observed = await self._gather(sim, redis, slack, final)
            observed.t_end, observed.finished, observed.stopped = t_end, finished, stopped
            observed.dialer_seconds = _seconds_between(dialer_start, dialer_end)
            observed.exit_codes = {d.name: list(d.exit_codes) for d in self.daemons}
            observed.crashes = [c for d in self.daemons for c in d.crashes]
            for daemon in self.daemons:
                text = daemon.log_text()
                observed.logs[f"daemon {daemon.name}"] = text
                self.scanner.scan(f"log daemon-{daemon.name}", text)
            observed.openings_logged = sum(
                text.count("wallboard.alerts.engine: alert opened:")
                for text in observed.logs.values()
            )
            observed.secret_hits = list(self.scanner.hits)
            observed.scanned_items, observed.scanned_bytes = (
                self.scanner.items,
                self.scanner.bytes,
            )
            observed.harness_errors = list(self.errors)
            self._mark("teardown")
        self._mark("end")
        self.log(f"soak: stopped; timings {self._phases()}")
        _dump(observed, self.dir / "observed.json")
        return judge(observed)

    def _phases(self) -> str:
        marks = self._marks
        return ", ".join(
            f"{name} {later - earlier:.1f}s"
            for (name, earlier), (_, later) in itertools.pairwise(marks)
        )

    def _mark(self, name: str) -> None:
        self._marks.append((name, time.time()))

    # -- parts ------------------------------------------------------------------------------

    async def _start_daemons(
        self, sim: SimProcess, redis: RedisServer, slack: SlackStandIn, http: aiohttp.ClientSession
    ) -> None:
        """Both instances, each on a port of its own that it keeps across restarts. A port the
        OS just called free can be taken by another process before the daemon binds it; that
        start (and only that) is tried again on a new port."""

        def configure(name: str, port: int) -> DaemonProcess:
            config = write_config(
                self.dir / f"daemon-{name}.toml",
                timing=self.plan.timing,
                sim_url=sim.url,
                redis_url=redis.url,
                slack_base_url=slack.base_url,
                secrets=self.secrets,
                port=port,
            )
            return DaemonProcess(name, config, port, self.dir)

        async def start(name: str) -> DaemonProcess:
            for _ in range(START_ATTEMPTS):
                daemon = configure(name, free_port())
                await daemon.start()

                async def up(daemon: DaemonProcess = daemon) -> bool:
                    return daemon.pid is None or await daemon.answers(http)

                with contextlib.suppress(AssertionError):
                    await eventually(up, within=WARM_WITHIN / 3, what=f"daemon {name} answers")
                if daemon.pid is not None or "cannot start" not in daemon.log_text():
                    return daemon
            raise RuntimeError(f"daemon {name} could not bind a port: {daemon.log_text()[-500:]}")

        self.daemons.extend(await asyncio.gather(start("A"), start("B")))

    async def _stop_daemons(self) -> None:
        for daemon in self.daemons:
            if daemon.pid is not None:
                await daemon.terminate()

    def _watch(self, http: aiohttp.ClientSession, sim: SimProcess, bg: _Background) -> None:
        for daemon in self.daemons:
            tv = TvStream(daemon.url, http, self.scanner)
            sampler = Sampler(
                daemon.name, daemon.url, http, self.scanner, tv, CAMPAIGNS, self.our_requests
            )
            self.samplers.append(sampler)
            bg.start(tv.run())
            bg.start(sampler.run())
            bg.start(sweep(sampler))
        bg.start(watch_rss(lambda: {d.name: d.pid for d in self.daemons}, self.rss))
        bg.start(watch_requests(sim.requests, self.counts))

    async def _warm_up(self, http: aiohttp.ClientSession) -> None:
        """Both instances answer, one leads with every source fresh and the whole 30-day
        window, and each TV stream is connected."""

        def warm() -> bool:
            for daemon in self.daemons:
                if daemon.crashes:
                    raise AssertionError("\n".join(daemon.crashes))
            latest = [s.samples[-1] for s in self.samplers if s.samples]
            return len(latest) == len(self.daemons) and all(
                s.snapshot_stale is False
                and s.readyz == 200
                and s.tv is False
                and len(s.days_30d) == len(CAMPAIGNS)
                and all(days == 30 for days in s.days_30d.values())
                for s in latest
            )

        await eventually(warm, within=WARM_WITHIN, what="both daemons warm, fresh, TVs on")

    # -- the chaos --------------------------------------------------------------------------

    async def _chaos(self, sim: SimProcess, redis: RedisServer, slack: SlackStandIn) -> None:
        plan = self.plan
        steps: list[Awaitable[None]] = []
        for blip in plan.blips:
            steps.append(self._at(blip.at, sim.fault(blip.function, blip.kind, blip.times)))
        for window in plan.windows:
            steps.append(self._at(window.start, self._window(sim, window.function, window.kind,
                                                             window.end)))  # fmt: skip
        for login in plan.logins:
            steps.append(self._at(login.at, self._login(sim, login.kind, login.recover)))
        for kill in plan.kills:
            steps.append(self._at(kill.at, self._kill_leader(kill.restart_after)))
        for restart in plan.redis:
            steps.append(self._at(restart.at, self._restart_redis(redis, restart.down)))
        for fault in plan.slack_faults:
            steps.append(self._at(fault.at, self._slack_fault(slack, fault)))
        for outage in plan.slack_outages:
            steps.append(self._at(outage.start, self._slack_outage(slack, outage.end)))
        for again in plan.reactivations:
            steps.append(self._at(again.at, sim.steer(again.campaign, active=True)))
        steps.append(self._at(plan.seconds, _nothing()))
        for outcome in await asyncio.gather(*steps, return_exceptions=True):
            if isinstance(outcome, BaseException):
                self.errors.append(f"{type(outcome).__name__}: {outcome}")

    async def _at(self, offset: float, step: Awaitable[None]) -> None:
        await asyncio.sleep(max(0.0, self.t0 + offset - time.time()))
        await step

    async def _window(self, sim: SimProcess, function: str, kind: str, end: float) -> None:
        start = time.time()
        await sim.fault(function, kind, WINDOW_TIMES)
        await asyncio.sleep(max(0.0, self.t0 + end - time.time()))
        await sim.end_window(function, kind)
        self.windows.append(WindowDone(start, time.time(), function, kind))

    async def _login(self, sim: SimProcess, kind: str, recover: bool) -> None:
        self.logins.append(LoginDone(time.time(), kind, recover))
        await sim.fault("*", kind, 1)

    async def _leader(self) -> tuple[DaemonProcess | None, str]:
        """Which process leads now (from ``leader`` in ``/api/snapshot``: host:pid:suffix)."""
        async with aiohttp.ClientSession() as http:
            for daemon in self.daemons:
                try:
                    async with http.get(daemon.url + "/api/snapshot") as response:
                        leader = str((await response.json()).get("leader") or "")
                except (aiohttp.ClientError, OSError, ValueError):
                    continue
                parts = leader.split(":")
                pid = int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else None
                for candidate in self.daemons:
                    if pid is not None and candidate.pid == pid:
                        return candidate, leader
        return None, ""

    async def _kill_leader(self, restart_after: float) -> None:
        daemon, instance = await self._leader()
        if daemon is None:
            self.errors.append("no leader to kill")
            return
        at = time.time()
        await daemon.kill()
        await asyncio.sleep(restart_after)
        await daemon.start()
        self.kills.append(KillDone(at, daemon.name, instance, time.time()))
        self.log(f"soak: +{at - self.t0:.0f}s killed leader {daemon.name} ({instance})")

    async def _restart_redis(self, redis: RedisServer, down: float) -> None:
        at = time.time()
        await asyncio.to_thread(redis.kill)
        await asyncio.sleep(down)
        await asyncio.to_thread(redis.start)
        self.redis_done.append(RedisDone(at, time.time()))
        self.log(f"soak: +{at - self.t0:.0f}s Redis restarted after {down:g}s")

    async def _slack_fault(self, slack: SlackStandIn, fault: SlackFault) -> None:
        """Slack fails the next ``count`` calls for ``lasts`` seconds; what no call used by
        then is forgotten (faults never overlap: the plan spaces them)."""
        slack.fail_next(fault.kind, fault.count, retry_after=fault.retry_after)
        before = len(slack.requests)
        await asyncio.sleep(fault.lasts)
        slack.clear_faults()
        self.slack_faults[fault.kind] += min(fault.count, len(slack.requests) - before)

    async def _slack_outage(self, slack: SlackStandIn, end: float) -> None:
        await slack.go_down("refuse")
        self.slack_faults["outage"] += 1
        await asyncio.sleep(max(0.0, self.t0 + end - time.time()))
        await slack.come_back()

    async def _steer(self, sim: SimProcess) -> None:
        """The drop story: today's ratio of each story campaign held where the plan says (calm
        before the chaos begins); the other campaigns calmed once."""
        state = await sim.state()
        calm = self.plan.timing.story_ratio("calm")
        for campaign in state["campaigns"]:
            if campaign["id"] in CALM_CAMPAIGNS:
                answered = max(int(campaign["answered_today"]), ANSWERED_FLOOR)
                await sim.steer(campaign["id"], drop_ratio=0.004, answered_today=answered,
                                dropped_today=round(0.012 * answered))  # fmt: skip
            elif campaign["id"] in STORY_CAMPAIGNS:
                await sim.steer(campaign["id"], drop_ratio=0.0)
        while True:
            try:
                await self._steer_once(sim, calm)
            except (aiohttp.ClientError, OSError, TimeoutError, RuntimeError) as error:
                self.errors.append(f"steering failed: {type(error).__name__}: {error}")
            await asyncio.sleep(STEER_EVERY)

    async def _steer_once(self, sim: SimProcess, calm: float) -> None:
        state = await sim.state()
        offset = time.time() - self.t0 if self.t0 else -1.0
        for campaign in state["campaigns"]:
            if campaign["id"] not in STORY_CAMPAIGNS:
                continue
            ratio = calm if offset < 0 else self.plan.ratio_at(campaign["id"], offset)
            if ratio is None:
                continue
            answered = max(int(campaign["answered_today"]), ANSWERED_FLOOR)
            await sim.steer(campaign["id"], answered_today=answered,
                            dropped_today=round(ratio * answered))  # fmt: skip

    # -- afterwards -------------------------------------------------------------------------

    async def _drain(self, redis: RedisServer) -> None:
        """Until the outbox has been empty for a few seconds (the engine ticks every 2 s and
        the outbox may be backing off after the outage, up to a minute)."""
        within = 150.0 if self.plan.scale.name == "bench" else 40.0
        store = RedisAlertStore(connect_redis(redis.url), KEY_PREFIX)
        empty_since: list[float] = []
        try:

            async def drained() -> bool:
                pending = await store.pending(1)
                now = time.time()
                if pending:
                    empty_since.clear()
                    return False
                empty_since.append(now)
                return now - empty_since[0] >= 4.0

            with contextlib.suppress(AssertionError):
                await eventually(drained, within=within, what="the Slack outbox drained")
        finally:
            await store.close()

    async def _final_snapshot(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        """The last ``/api/snapshot`` of a live instance (its 30-day windows are checked)."""
        for daemon in self.daemons:
            with contextlib.suppress(aiohttp.ClientError, OSError, ValueError):
                async with http.get(daemon.url + "/api/snapshot") as response:
                    if response.status == 200:
                        document: dict[str, Any] = await response.json()
                        return document
        self.errors.append("no daemon answered /api/snapshot after the chaos")
        return {}

    async def _gather(
        self, sim: SimProcess, redis: RedisServer, slack: SlackStandIn, final: dict[str, Any]
    ) -> Observed:
        o = Observed(plan=self.plan, t0=self.t0, t_end=0.0, finished=0.0)
        o.injections = list(sim.injections)
        o.windows, o.logins, o.kills, o.redis = (
            self.windows,
            self.logins,
            self.kills,
            self.redis_done,
        )
        o.slack_faults = self.slack_faults
        o.samples = sorted((s for x in self.samplers for s in x.samples), key=lambda s: s.at)
        o.rss, o.requests = self.rss, self.counts
        o.server_errors = [e for x in self.samplers for e in x.server_errors]
        o.our_requests = self.our_requests
        store = RedisAlertStore(connect_redis(redis.url), KEY_PREFIX)
        try:
            o.incidents = await store.all_incidents()
            o.audits = await store.audit_since(None)
            o.pending = [
                (n.created_at.timestamp(), n.incident.key) for n in await store.pending(1000)
            ]
            client = connect_redis(redis.url)
            try:
                o.seq_total = int(await client.get(store.key("seq")) or 0)
                await self._scan_redis(client)
            finally:
                await client.aclose()
        finally:
            await store.close()
        o.slack_messages = list(slack.messages)
        o.slack_updates = len(slack.calls("chat.update"))
        o.slack_requests = len(slack.requests)
        for call in slack.requests:
            self.scanner.scan(f"slack {call.method}", json.dumps(call.params, default=str))
        for message in slack.messages:
            self.scanner.scan("slack message", json.dumps(message.__dict__, default=str))
        requests = await sim.requests()
        o.sim_total = int(requests["total"])
        o.sim_pauses = list(requests["update_campaign"])
        await self._ledger(o, sim, final)
        return o

    async def _ledger(self, o: Observed, sim: SimProcess, document: dict[str, Any]) -> None:
        """``wallboard ledger`` and ``wallboard audit`` as an auditor runs them, against the
        dialer's own figures for each past day, and the final 30-day windows."""
        if not document:
            return
        today = date.fromisoformat(document["local_date"])
        o.final_windows = {
            c["id"]: c["windows"] for c in document["campaigns"] if c["id"] in CAMPAIGNS
        }
        days = [today - timedelta(days=n) for n in range(29, 0, -1)]
        o.past_days = [day.isoformat() for day in days]
        for day in days:
            text = await sim.api(
                "call_status_stats", campaigns="-".join(CAMPAIGNS), query_date=day.isoformat()
            )
            for line in parse_call_status_stats(text, expected=CAMPAIGNS):
                if line.code in CAMPAIGNS:
                    o.truth[(line.code, day.isoformat())] = (
                        line.calls,
                        line.human_answered,
                        line.drops,
                    )
        config = str(self.daemons[0].config)
        (ledger_exit, ledger), (audit_exit, audit) = await asyncio.gather(
            run_cli("ledger", "--config", config, "--from", days[0].isoformat(),
                    "--to", days[-1].isoformat(), "--format", "json"),
            run_cli("audit", "--config", config),
        )  # fmt: skip
        self.scanner.scan("cli ledger", ledger)
        self.scanner.scan("cli audit", audit)
        o.ledger_exit, o.audit_exit = ledger_exit, audit_exit
        o.audit_lines = audit.splitlines()
        try:
            rows, _ = json.JSONDecoder().raw_decode(ledger[ledger.index("[") :])
            o.ledger_rows = list(rows)
        except ValueError:
            self.errors.append(f"wallboard ledger printed no JSON: {ledger[-500:]}")

    async def _scan_redis(self, client: Any) -> None:
        """Everything the daemons stored, at rest: no secret in Redis either."""
        async for key in client.scan_iter(match=f"{KEY_PREFIX}:*"):
            kind = (await client.type(key)).decode()
            if kind == "string":
                values = [await client.get(key)]
            elif kind == "hash":
                values = list((await client.hgetall(key)).values())
            elif kind in ("set", "zset"):
                values = list(
                    await (client.smembers(key) if kind == "set" else client.zrange(key, 0, -1))
                )
            else:
                values = []
            for value in values:
                if value is not None:
                    self.scanner.scan(f"redis {key.decode()}", value)


class _Background:
    """Tasks that run until the soak stops them (samplers, TV streams, the story); one that
    fails on its own is a failure of the soak, not something to lose silently."""

    def __init__(self, errors: list[str]) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        self._errors = errors

    def start(self, coroutine: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coroutine
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._errors.append(f"background task failed: {type(error).__name__}: {error}")

        self._tasks.append(asyncio.create_task(run()))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _nothing() -> None:
    return None


def _dump(observed: Observed, path: Path) -> None:
    """What was recorded, for a post-mortem of a failed soak (no secret is in any of it)."""
    document = {
        "t0": observed.t0,
        "injections": [dataclasses.asdict(i) for i in observed.injections],
        "windows": [dataclasses.asdict(w) for w in observed.windows],
        "logins": [dataclasses.asdict(x) for x in observed.logins],
        "kills": [dataclasses.asdict(k) for k in observed.kills],
        "redis": [dataclasses.asdict(r) for r in observed.redis],
        "samples": [dataclasses.asdict(s) for s in observed.samples],
        "incidents": [
            {"key": i.key, "kind": i.kind.value, "severity": i.severity.value,
             "opened_at": i.opened_at.isoformat(), "closed": i.closed_at is not None,
             "pause": None if i.auto_pause is None else i.auto_pause.outcome}
            for i in observed.incidents
        ],
        "slack": [
            {"ts": m.ts, "thread_ts": m.thread_ts, "text": m.text[:200],
             "metadata": m.metadata, "updates": m.updates}
            for m in observed.slack_messages
        ],
        "audits": [
            {"key": a.incident_key, "outcome": a.outcome.outcome, "at": a.at.isoformat()}
            for a in observed.audits
        ],
        "sim_pauses": observed.sim_pauses,
        "seq_total": observed.seq_total,
    }  # fmt: skip
    path.write_text(json.dumps(document, indent=1, default=str))


def _seconds_between(first: str, last: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
