"""Exactly-once alerting across the failures the issue names: ``kill -9`` with undelivered
messages, a Slack post whose answer is lost, a leader killed mid-incident on a shared Redis,
a two-minute Slack outage, and a daemon (or a dialer) failing in the middle of an auto-pause.

Real ``wallboard run`` processes where the failure is a ``kill -9`` (nothing in-process can
stand in for a process that loses its memory between two instructions), the in-process daemon
with its fake clock elsewhere. The simulator runs at speed 0 and is steered through
``/_sim/campaigns``; Slack is the local stand-in. Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon import DaemonHandle, FakeClock, daemon_settings, running_daemon
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.slack_server import Message, SlackStandIn, running_slack
from tests.support.waiting import eventually
from wallboard.alerts.outbox import Unavailable
from wallboard.alerts.runtime import AlertRuntime
from wallboard.alerts.slack_blocks import INCIDENT_EVENT
from wallboard.alerts.store import SqliteAlertStore
from wallboard.daemon import ALERTS, POLLER

CHANNEL = "C0FLOOR001"  # the stand-in's #floor
#: How long a real process may take to import, start and finish its first poll round.
START_WITHIN = 30.0
#: The engine ticks every 2 s and the processes poll every 5 s: a change shows within this.
CHANGE_WITHIN = 20.0


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator(seed=11) as handle:
        yield handle


@pytest.fixture
async def live_sim() -> AsyncIterator[SimHandle]:
    """A simulator on the real clock (frozen at this moment), for daemons that run on the real
    clock: they ask ``call_status_stats`` for the dialer's date of *their* now. Its UTC offset
    puts the dialer near noon, so no test ever runs across the dialer's midnight (which would
    close a ``today`` incident as "day ended")."""
    now = datetime.now(UTC)
    offset = 12 - now.hour  # -11 ... +12: always a real zone
    async with running_simulator(seed=11, start=now, gmt_offset=float(offset)) as handle:
        yield handle


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with running_slack() as stand_in:
        yield stand_in


# --- real `wallboard run` processes ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_run_config(
    path: Path,
    *,
    sim: SimHandle,
    slack: SlackStandIn,
    port: int,
    cache: str = "",
    auto_pause: str = "",
) -> Path:
    """A ``wallboard run`` config: polls every 5 s, alerts after 1 s, today's window only."""
    path.write_text(
        f"""
[vicidial]
url = "{sim.base_url}"
user = "{sim.user}"
pass = "{sim.password}"
campaigns = ["SALES1", "SALES2"]
timeout = "1s"

[poll]
agents_interval = "5s"
stats_interval = "5s"
campaigns_interval = "5s"
hopper_interval = "5s"
ingroups_interval = "5s"
jitter = "0s"
max_requests_per_minute = 1000
history_days = 2
history_throttle = "0s"

[alerts]
pending = "1s"
min_answered = 50
windows = ["today"]
stale_after = "1m"
{auto_pause}
{cache}
[web]
listen = "127.0.0.1:{port}"

[slack]
token = "{slack.token}"
channel = "#floor"
base_url = "{slack.base_url}"

[state]
path = "{path.parent / "state.db"}"
"""
    )
    return path


@dataclass
class RunningProcess:
    """One ``wallboard run``: its process, base URL and log file (read on failure)."""

    process: asyncio.subprocess.Process
    url: str
    log: Path
    http: aiohttp.ClientSession

    async def snapshot(self) -> dict[str, Any] | None:
        """``/api/snapshot``, or None while the process does not answer."""
        try:
            async with self.http.get(self.url + "/api/snapshot") as response:
                if response.status != 200:
                    return None
                document: dict[str, Any] = await response.json()
                return document
        except aiohttp.ClientError:
            return None

    async def ready(self) -> None:
        async def answers() -> bool:
            if self.process.returncode is not None:
                raise AssertionError(f"wallboard run exited with {self.process.returncode}")
            try:
                async with self.http.get(self.url + "/readyz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await self.until(answers, within=START_WITHIN, what="wallboard run is ready")

    async def until(
        self, condition: Callable[[], Any], *, within: float = CHANGE_WITHIN, what: str
    ) -> None:
        """:func:`eventually`, with this process's log in the failure."""
        try:
            await eventually(condition, within=within, what=what)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- {self.log.name} ---\n{self.tail()}") from None

    async def kill(self) -> None:
        """``kill -9``: no shutdown hook, no flush, nothing after the last instruction."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


@asynccontextmanager
async def wallboard_run(config: Path, port: int, log: Path) -> AsyncIterator[RunningProcess]:
    """Start ``python -m wallboard run``; never leave it running."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "wallboard", "run", "--config", str(config),
            stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            yield RunningProcess(process, f"http://127.0.0.1:{port}", log, http)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def alert_of(document: dict[str, Any] | None, campaign: str) -> dict[str, Any] | None:
    if document is None:
        return None
    return next((a for a in document["alerts"] if a["campaign"] == campaign), None)


def severity_is(target: RunningProcess, campaign: str, severity: str) -> Callable[[], Any]:
    async def check() -> bool:
        alert = alert_of(await target.snapshot(), campaign)
        return alert is not None and alert["severity"] == severity

    return check


# --- what Slack received -----------------------------------------------------------------------


def parent_posts(slack: SlackStandIn) -> list[Any]:
    """``chat.postMessage`` requests that were parents (no ``thread_ts``), answered or not."""
    return [c for c in slack.calls("chat.postMessage") if not c.params.get("thread_ts")]


def incident_key_of(message: Message) -> str | None:
    metadata = message.metadata or {}
    if metadata.get("event_type") != INCIDENT_EVENT:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return None if key is None else str(key)


def the_parent(slack: SlackStandIn, key: str) -> Message:
    """The one parent message of incident ``key`` (fails if there are none or several)."""
    found = [m for m in slack.parents(CHANNEL) if incident_key_of(m) == key]
    assert len(found) == 1, [(m.text, incident_key_of(m)) for m in slack.parents(CHANNEL)]
    return found[0]


def reply_texts(slack: SlackStandIn, parent: Message) -> list[str]:
    return [r.text for r in slack.replies(parent.ts)]


def assert_replies(replies: list[str], expected: list[str]) -> None:
    """Exactly these replies, in this order (each identified by words it must contain)."""
    assert len(replies) == len(expected), replies
    for reply, words in zip(replies, expected, strict=True):
        assert words in reply, replies


def updates_of(slack: SlackStandIn, ts: str, since: int = 0) -> int:
    return sum(
        1
        for c in slack.requests[since:]
        if c.method == "chat.update" and str(c.params.get("ts")) == ts
    )


async def pending_in(state_path: Path) -> list[str]:
    """The undelivered notifications in a daemon's SQLite outbox (read-only, as
    ``wallboard audit`` reads it: safe while the daemon writes)."""
    store = SqliteAlertStore(state_path, read_only=True)
    try:
        return [f"{n.seq} {n.action.value} {n.incident.key}" for n in await store.pending()]
    finally:
        await store.close()


async def outbox_empty(state_path: Path) -> bool:
    return await pending_in(state_path) == []


# --- 1. kill -9 with undelivered messages ------------------------------------------------------


async def test_kill_9_with_undelivered_alerts_then_restart_delivers_each_exactly_once(
    live_sim: SimHandle, slack: SlackStandIn, tmp_path: Path
) -> None:
    sim = live_sim
    await sim.steer("SALES2", answered_today=1000, dropped_today=5)  # calm: never alerts
    await sim.steer("SALES1", answered_today=1000, dropped_today=26)  # 2.6 %: warning
    port = _free_port()
    config = write_run_config(tmp_path / "wb.toml", sim=sim, slack=slack, port=port)
    state = tmp_path / "state.db"
    await slack.go_down("refuse")

    async with wallboard_run(config, port, tmp_path / "first.log") as first:
        await first.ready()
        await first.until(severity_is(first, "SALES1", "warning"), what="the warning opens")
        await sim.steer("SALES1", answered_today=1000, dropped_today=29)  # 2.9 %: critical
        await first.until(severity_is(first, "SALES1", "critical"), what="it escalates")
        alert = alert_of(await first.snapshot(), "SALES1")
        assert alert is not None
        key = alert["key"]
        await first.kill()

    undelivered = await pending_in(state)
    assert [line.split()[1:] for line in undelivered] == [
        ["opened", key],
        ["escalated", key],
    ], "both changes were committed to the outbox before the kill"
    assert slack.requests == [], "Slack was unreachable: nothing can have arrived"
    await slack.come_back()

    async with wallboard_run(config, port, tmp_path / "second.log") as second:
        await second.until(
            lambda: outbox_empty(state), within=START_WITHIN, what="the outbox is delivered"
        )
        parent = the_parent(slack, key)
        assert_replies(reply_texts(slack, parent), ["escalated to CRITICAL"])
        assert "CRITICAL" in parent.text, "the parent shows the state the incident is in now"
        alert = alert_of(await second.snapshot(), "SALES1")
        assert alert is not None
        assert alert["key"] == key, "the same incident carries on"

        await sim.steer("SALES1", answered_today=1000, dropped_today=10)  # 1.0 %: resolved

        async def resolved() -> bool:
            gone = alert_of(await second.snapshot(), "SALES1") is None
            return gone and await outbox_empty(state)

        await second.until(resolved, what="resolved and delivered")

    parent = the_parent(slack, key)
    assert_replies(reply_texts(slack, parent), ["escalated to CRITICAL", "resolved after"])
    assert "resolved" in parent.text.lower()
    assert len(parent_posts(slack)) == 1, "the parent was posted once, never again"
    assert len(slack.parents(CHANNEL)) == 1, "SALES2 stayed calm"
    for run in (first, second):
        assert slack.token not in run.log.read_text(errors="replace")


# --- 2. accept, then drop the connection -------------------------------------------------------


def alert_settings(sim: SimHandle, slack: SlackStandIn, tmp_path: Path, **alerts: Any) -> Any:
    return daemon_settings(
        sim.base_url,
        tmp_path,
        vicidial={"campaigns": ["SALES1", "SALES2"]},
        boards=[{"name": "floor", "title": "Floor", "campaigns": ["SALES1", "SALES2"]}],
        slack={"token": slack.token, "channel": "#floor", "base_url": slack.base_url},
        alerts={"pending": "10s", "min_answered": 50, "windows": ["today"], **alerts},
    )


def runtime(daemon: DaemonHandle) -> AlertRuntime:
    return daemon.app[ALERTS]


async def set_ratio(
    daemon: DaemonHandle, sim: SimHandle, campaign: str, answered: int, dropped: int
) -> None:
    """Steer the dialer's counts, poll them, and evaluate the alerts once."""
    await sim.steer(campaign, answered_today=answered, dropped_today=dropped)
    await daemon.poller.poll("call_status_stats")
    await runtime(daemon).engine.evaluate_now()


async def deliver_now(daemon: DaemonHandle, *, attempts: int = 3) -> None:
    """Drain the outbox now instead of waiting out its task's retry backoff. The task races
    this call (as it would in production): whichever drain meets the injected fault, a later
    one delivers, and both go through the outbox's one-at-a-time lock."""
    for _ in range(attempts):
        try:
            await runtime(daemon).outbox.drain()
        except Unavailable:
            continue
        return
    raise AssertionError(f"the outbox still cannot deliver after {attempts} drains")


async def test_a_post_accepted_then_dropped_is_found_by_its_metadata_not_reposted(
    sim: SimHandle, slack: SlackStandIn, tmp_path: Path
) -> None:
    clock = FakeClock(DEFAULT_START)
    state = tmp_path / "wallboard.db"
    async with running_daemon(alert_settings(sim, slack, tmp_path), clock=clock) as daemon:
        await daemon.wait_started()
        # Slack stores the parent, then the connection drops: the daemon never learns its ts.
        slack.fail_next("drop", methods=["chat.postMessage"])
        await set_ratio(daemon, sim, "SALES2", 1000, 5)
        await set_ratio(daemon, sim, "SALES1", 1000, 29)  # 2.9 %: critical, pending
        clock.advance(11)
        await runtime(daemon).engine.evaluate_now()  # the incident opens
        key = (await daemon.snapshot())["alerts"][0]["key"]
        await deliver_now(daemon)
        assert await outbox_empty(state)
        parent = the_parent(slack, key)
        assert len(parent_posts(slack)) == 1, "the lost post was looked up, not repeated"
        assert slack.calls("conversations.history"), "looked up by metadata"
        assert updates_of(slack, parent.ts) == 1, "then brought up to date in place"

        # The same for a thread reply: stored, answer lost, found by its seq, not repeated.
        slack.fail_next("drop", methods=["chat.postMessage"])
        clock.advance(60)
        await set_ratio(daemon, sim, "SALES1", 1000, 10)  # 1.0 %: resolved
        await deliver_now(daemon)
        assert await outbox_empty(state)

    assert_replies(reply_texts(slack, the_parent(slack, key)), ["resolved after 1 min"])
    assert len(slack.parents(CHANNEL)) == 1
    assert slack.calls("conversations.replies"), "the thread was read before replying again"


# --- 3. two instances on one Redis, the leader killed mid-incident -----------------------------


def paused_in(target: RunningProcess | DaemonHandle) -> Callable[[], Any]:
    """The instance's ``/api/snapshot`` says SALES1 was auto-paused."""

    async def check() -> bool:
        document = await target.snapshot()
        alert = alert_of(document, "SALES1")
        return alert is not None and (alert["auto_pause"] or {}).get("outcome") == "paused"

    return check


def thread_has(slack: SlackStandIn, words: str) -> Callable[[], bool]:
    def check() -> bool:
        parents = slack.parents(CHANNEL)
        return bool(parents) and any(words in r.text for r in slack.replies(parents[0].ts))

    return check


@pytest.mark.parametrize("pauser", ["leader", "successor"])
async def test_a_leader_killed_mid_incident_leaves_one_thread_and_one_pause(
    live_sim: SimHandle, slack: SlackStandIn, tmp_path: Path, redis_url: str, pauser: str
) -> None:
    """A (a real process) leads and posts; ``kill -9``; B (in-process) carries the same
    incident on from what Redis kept. ``pauser`` says who pauses: A, as the incident opens,
    before it dies (B must not pause again), or B after it took over.

    Deterministic whatever the timing: the ratio stays under the auto-pause threshold until
    the chosen instance leads, and every later step waits for the state it needs."""
    sim = live_sim
    await sim.steer("SALES2", answered_today=2000, dropped_today=10)
    # 3.5 % (over the auto-pause threshold, 2.9 %): a opens the incident and pauses at once;
    # 2.85 %: critical, but nobody pauses until the test raises it.
    dropped = 70 if pauser == "leader" else 57
    await sim.steer("SALES1", answered_today=2000, dropped_today=dropped)
    port = _free_port()
    cache = f'[cache]\nbackend = "redis"\nredis_url = "{redis_url}"\nlock_ttl = "3s"\n'
    auto_pause = '[alerts.auto_pause]\ncampaigns = ["SALES1"]\nat = 0.029\ndry_run = false\n'
    config = write_run_config(
        tmp_path / "a.toml", sim=sim, slack=slack, port=port, cache=cache, auto_pause=auto_pause
    )
    settings_b = daemon_settings(  # polls only when the test says (its intervals are 10 min)
        sim.base_url,
        tmp_path,
        vicidial={"campaigns": ["SALES1", "SALES2"], "timeout": "1s"},
        cache={"backend": "redis", "redis_url": redis_url, "lock_ttl": "3s"},
        slack={"token": slack.token, "channel": "#floor", "base_url": slack.base_url},
        alerts={
            "pending": "1s",
            "min_answered": 50,
            "windows": ["today"],
            "auto_pause": {"campaigns": ["SALES1"], "at": 0.029, "dry_run": False},
        },
    )

    async def pauses() -> list[tuple[str, str]]:
        return [(c["campaign_id"], c["active"]) for c in (await sim.requests())["update_campaign"]]

    async with wallboard_run(config, port, tmp_path / "a.log") as a:
        await a.ready()
        async with running_daemon(settings_b, instance="b") as b:
            await eventually(lambda: POLLER in b.app, within=10, what="b started")
            await a.until(lambda: len(slack.parents(CHANNEL)) == 1, what="a posts the parent")
            assert not b.poller.running, "b follows while a leads"
            if pauser == "leader":
                await a.until(paused_in(a), what="a pauses SALES1")
            seen_by_a = alert_of(await a.snapshot(), "SALES1")
            assert seen_by_a is not None

            async def b_shows_the_same() -> bool:
                return alert_of(await b.snapshot(), "SALES1") == seen_by_a

            await eventually(b_shows_the_same, within=5, what="b shows a's alert")
            await a.kill()

            await eventually(lambda: b.poller.running, within=10, what="b takes over")
            await b.wait_started()
            if pauser == "successor":
                assert await pauses() == [], "a never reached the threshold"
                await sim.steer("SALES1", answered_today=2000, dropped_today=70)  # 3.5 %
                await b.poller.poll("call_status_stats")
                await eventually(paused_in(b), within=10, what="b pauses SALES1")  # 1 s held
            await b.poller.poll("campaigns_list")  # SALES1 is inactive now
            await eventually(thread_has(slack, "is inactive since"), what="inactive reply")
            alert = alert_of(await b.snapshot(), "SALES1")
            assert alert is not None
            assert alert["key"] == seen_by_a["key"], "the same incident, not a new one"
            assert alert["auto_pause"]["outcome"] == "paused"

            await sim.steer("SALES1", answered_today=2000, dropped_today=20)  # 1.0 %
            await b.poller.poll("call_status_stats")
            await eventually(thread_has(slack, "resolved after"), what="resolved reply")
            await runtime(b).outbox.drain()
            assert alert_of(await b.snapshot(), "SALES1") is None

    parent = the_parent(slack, seen_by_a["key"])
    assert_replies(
        reply_texts(slack, parent),
        ["SALES1 set inactive", "is inactive since", "resolved after"],
    )
    assert len(parent_posts(slack)) == 1, "one parent for the incident, whoever led"
    assert len(slack.parents(CHANNEL)) == 1
    assert await pauses() == [("SALES1", "N")], "paused exactly once"


# --- 4. a two-minute Slack outage --------------------------------------------------------------


@asynccontextmanager
async def slack_on(clock: FakeClock) -> AsyncIterator[SlackStandIn]:
    """A stand-in on the daemon's fake clock: a timed outage ends when the test says so."""
    async with running_slack(clock=lambda: clock.now.timestamp()) as stand_in:
        yield stand_in


@pytest.mark.parametrize("neighbour", [False, True], ids=["one-incident", "interleaved-incidents"])
async def test_a_two_minute_slack_outage_loses_and_duplicates_nothing(
    sim: SimHandle, tmp_path: Path, neighbour: bool
) -> None:
    """SALES1's parent is in Slack; then Slack answers 503 for two minutes (of the daemon's
    and the stand-in's fake clock) while SALES1 escalates, eases and resolves (and, with
    ``neighbour``, SALES2 opens in between). Afterwards: SALES1's parent updated once, to
    the current state, its missed changes as replies in order; SALES2 posted once."""
    clock = FakeClock(DEFAULT_START)
    async with slack_on(clock) as slack:
        settings = alert_settings(sim, slack, tmp_path)
        async with running_daemon(settings, clock=clock) as daemon:
            await daemon.wait_started()
            await set_ratio(daemon, sim, "SALES2", 1000, 5)
            await set_ratio(daemon, sim, "SALES1", 1000, 26)  # 2.6 %: warning, pending
            clock.advance(11)
            await runtime(daemon).engine.evaluate_now()
            await runtime(daemon).outbox.drain()
            [parent] = slack.parents(CHANNEL)
            key = incident_key_of(parent)
            assert key is not None
            assert "SALES1" in key

            await slack.go_down("503", seconds=120)
            clock.advance(20)
            await set_ratio(daemon, sim, "SALES1", 1000, 29)  # 2.9 %: escalated
            if neighbour:
                await set_ratio(daemon, sim, "SALES2", 1000, 26)  # 2.6 %: pending
            clock.advance(15)
            await runtime(daemon).engine.evaluate_now()  # SALES2 opens (held 15 s)
            clock.advance(15)
            await set_ratio(daemon, sim, "SALES1", 1000, 25)  # 2.5 %: eased to warning
            clock.advance(30)
            await set_ratio(daemon, sim, "SALES1", 1000, 18)  # 1.8 %: resolved
            clock.advance(30)
            with pytest.raises(Unavailable):  # 110 s into the outage: still down
                await runtime(daemon).outbox.drain()
            assert slack.replies(parent.ts) == [], "nothing got through during the outage"
            assert "WARNING" in parent.text
            assert len(slack.parents(CHANNEL)) == 1
            clock.advance(15)  # the outage is over
            ended = len(slack.requests)
            await runtime(daemon).outbox.drain()
            await eventually(lambda: outbox_empty(tmp_path / "wallboard.db"), within=10)

    assert_replies(
        reply_texts(slack, parent),
        ["escalated to CRITICAL", "eased to WARNING", "resolved after 1 min"],
    )
    assert "resolved" in parent.text.lower()
    parents = slack.parents(CHANNEL)
    assert len(parents) == len(parent_posts(slack)) == (2 if neighbour else 1)
    if neighbour:
        [other] = [p for p in parents if p is not parent]
        assert "SALES2" in (incident_key_of(other) or "")
        assert reply_texts(slack, other) == []
    assert updates_of(slack, parent.ts, since=ended) == 1, "updated once, to the current state"


# --- auto-pause and restarts -------------------------------------------------------------------


def pausing_settings(sim: SimHandle, slack: SlackStandIn, tmp_path: Path) -> Any:
    auto_pause = {"campaigns": ["SALES1"], "at": 0.029, "dry_run": False}
    return alert_settings(sim, slack, tmp_path, auto_pause=auto_pause)


async def test_a_daemon_dying_during_the_pause_call_loses_neither_alert_nor_pause(
    sim: SimHandle, slack: SlackStandIn, tmp_path: Path
) -> None:
    """The ratio jumps straight over ``at``: the incident opens and the pause is due in the
    same evaluation. The dialer never answers ``update_campaign``; the daemon stops while it
    waits (its cleanup cancels the call, leaving the durable state a ``kill -9`` would leave).
    The next daemon must still announce the incident, and say the pause's outcome is unknown
    rather than forget it (and never send it again)."""
    clock = FakeClock(DEFAULT_START)
    settings = pausing_settings(sim, slack, tmp_path)
    await sim.add_fault("update_campaign", "timeout", times=100)

    async def pause_sent() -> bool:
        return bool((await sim.requests())["by_function"].get("update_campaign"))

    async with running_daemon(settings, clock=clock) as first:
        await first.wait_started()
        await set_ratio(first, sim, "SALES2", 1000, 5)
        await set_ratio(first, sim, "SALES1", 1000, 35)  # 3.5 %: critical and over `at`
        clock.advance(11)
        runtime(first).engine.wake()  # the engine's own task opens the incident and pauses
        await eventually(pause_sent, within=10, what="update_campaign reached the dialer")
    await sim.clear_faults()

    async with running_daemon(settings, clock=clock) as second:
        await second.wait_started()
        await eventually(lambda: runtime(second).engine.running, within=5, what="b leads")
        clock.advance(5)
        await runtime(second).engine.evaluate_now()
        await runtime(second).outbox.drain()
        alert = alert_of(await second.snapshot(), "SALES1")
        assert alert is not None, "the incident carries on"
        assert (await sim.requests())["by_function"]["update_campaign"] == 1, "never twice"
        assert alert["auto_pause"]["outcome"] != "pending", "the interrupted pause is settled"
        parents = slack.parents(CHANNEL)
        assert len(parents) == 1, "the incident's opening was announced"
        [reply] = reply_texts(slack, parents[0])
        assert "auto-pause" in reply
        assert "unknown" in reply.lower(), "says plainly that nobody knows if it was paused"
    audit = SqliteAlertStore(tmp_path / "wallboard.db", read_only=True)
    try:
        [record] = await audit.audit_since(None)
    finally:
        await audit.close()
    assert record.campaign == "SALES1"
    assert record.outcome.outcome == alert["auto_pause"]["outcome"]


async def test_a_slow_answer_to_the_pause_never_sends_it_twice(
    sim: SimHandle, slack: SlackStandIn, tmp_path: Path
) -> None:
    clock = FakeClock(DEFAULT_START)
    # The dialer pauses the campaign, then answers after the client's 2 s timeout.
    await sim.add_fault("update_campaign", "slow", times=1, seconds=3)
    async with running_daemon(pausing_settings(sim, slack, tmp_path), clock=clock) as daemon:
        await daemon.wait_started()
        await set_ratio(daemon, sim, "SALES2", 1000, 5)
        await set_ratio(daemon, sim, "SALES1", 1000, 35)  # 3.5 %: critical and over `at`
        clock.advance(11)
        await runtime(daemon).engine.evaluate_now()  # opens, pauses (and waits for VICIdial)
        state = {c["id"]: c["active"] for c in (await sim.state())["campaigns"]}
        assert state["SALES1"] is False, "the dialer did pause it"
        calls = (await sim.requests())["update_campaign"]
    assert [(c["campaign_id"], c["active"]) for c in calls] == [("SALES1", "N")]
