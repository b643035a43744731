"""Exactly-once alerting across the failures the issue names: ``kill -9`` with undelivered
messages, a Slack post whose answer is lost, a leader killed mid-incident on a shared Redis,
and a two-minute Slack outage.

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
            try:
                async with self.http.get(self.url + "/readyz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(answers, within=START_WITHIN, what=f"{self.url} is ready\n{self.tail()}")

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
    sim: SimHandle, slack: SlackStandIn, tmp_path: Path
) -> None:
    await sim.steer("SALES2", answered_today=1000, dropped_today=5)  # calm: never alerts
    await sim.steer("SALES1", answered_today=1000, dropped_today=5)
    port = _free_port()
    config = write_run_config(tmp_path / "wb.toml", sim=sim, slack=slack, port=port)
    state = tmp_path / "state.db"
    await slack.go_down("refuse")

    async with wallboard_run(config, port, tmp_path / "first.log") as first:
        await first.ready()
        await sim.steer("SALES1", answered_today=1000, dropped_today=26)  # 2.6 %: warning
        await eventually(
            severity_is(first, "SALES1", "warning"), within=CHANGE_WITHIN, what="warning"
        )
        await sim.steer("SALES1", answered_today=1000, dropped_today=29)  # 2.9 %: critical
        await eventually(
            severity_is(first, "SALES1", "critical"), within=CHANGE_WITHIN, what="critical"
        )
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
        await eventually(
            lambda: outbox_empty(state), within=START_WITHIN, what="the outbox is delivered"
        )
        parent = the_parent(slack, key)
        assert_replies(reply_texts(slack, parent), ["escalated to CRITICAL"])
        assert "CRITICAL" in parent.text, "the parent shows the state the incident is in now"
        document = await second.snapshot()
        assert alert_of(document, "SALES1") is not None
        assert alert_of(document, "SALES1")["key"] == key  # type: ignore[index]

        await sim.steer("SALES1", answered_today=1000, dropped_today=10)  # 1.0 %: resolved

        async def resolved() -> bool:
            return alert_of(await second.snapshot(), "SALES1") is None and await outbox_empty(
                state
            )

        await eventually(resolved, within=CHANGE_WITHIN, what="resolved and delivered")
        log = second.tail() + first.tail()

    parent = the_parent(slack, key)
    assert_replies(reply_texts(slack, parent), ["escalated to CRITICAL", "resolved after"])
    assert "resolved" in parent.text.lower()
    assert len(parent_posts(slack)) == 1, "the parent was posted once, never again"
    assert len(slack.parents(CHANNEL)) == 1, "SALES2 stayed calm"
    assert slack.token not in log


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
        await eventually(lambda: outbox_empty(state), within=15, what="the opening delivered")
        parent = the_parent(slack, key)
        assert len(parent_posts(slack)) == 1, "the lost post was looked up, not repeated"
        assert slack.calls("conversations.history"), "looked up by metadata"
        assert updates_of(slack, parent.ts) == 1, "then brought up to date in place"

        # The same for a thread reply: stored, answer lost, found by its seq, not repeated.
        slack.fail_next("drop", methods=["chat.postMessage"])
        clock.advance(60)
        await set_ratio(daemon, sim, "SALES1", 1000, 10)  # 1.0 %: resolved
        await eventually(lambda: outbox_empty(state), within=15, what="the resolution delivered")

    assert_replies(reply_texts(slack, the_parent(slack, key)), ["resolved after 1 min"])
    assert len(slack.parents(CHANNEL)) == 1
    assert slack.calls("conversations.replies"), "the thread was read before replying again"


# --- 3. two instances on one Redis, the leader killed mid-incident -----------------------------


@pytest.mark.parametrize("pauser", ["leader", "successor"])
async def test_a_leader_killed_mid_incident_leaves_one_thread_and_one_pause(
    sim: SimHandle, slack: SlackStandIn, tmp_path: Path, redis_url: str, pauser: str
) -> None:
    """A (a real process) leads and posts; ``kill -9``; B (in-process) carries the same
    incident on from what Redis kept. ``pauser`` says who reaches the auto-pause: A before it
    dies (B must not pause again), or B after it took over (A's intent never happened)."""
    await sim.steer("SALES2", answered_today=2000, dropped_today=10)
    await sim.steer("SALES1", answered_today=2000, dropped_today=10)
    port = _free_port()
    cache = f'[cache]\nbackend = "redis"\nredis_url = "{redis_url}"\nlock_ttl = "3s"\n'
    auto_pause = '[alerts.auto_pause]\ncampaigns = ["SALES1"]\nat = 0.029\ndry_run = false\n'
    config = write_run_config(
        tmp_path / "a.toml", sim=sim, slack=slack, port=port, cache=cache, auto_pause=auto_pause
    )
    settings_b = daemon_settings(
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

    async def update_campaign_calls() -> list[tuple[str, str]]:
        return [(c["campaign_id"], c["active"]) for c in (await sim.requests())["update_campaign"]]

    async with wallboard_run(config, port, tmp_path / "a.log") as a:
        await a.ready()
        async with running_daemon(settings_b, instance="b") as b:
            await eventually(lambda: POLLER in b.app, within=10, what="b started")
            assert not b.poller.running, "b follows while a leads"
            # 2.85 %: critical, but under the auto-pause threshold (2.9 %).
            await sim.steer("SALES1", answered_today=2000, dropped_today=57)
            await eventually(
                lambda: len(slack.parents(CHANNEL)) == 1,
                within=CHANGE_WITHIN,
                what=f"a posts the parent\n{a.tail()}",
            )
            if pauser == "leader":
                await sim.steer("SALES1", answered_today=2000, dropped_today=70)  # 3.5 %

                async def a_paused() -> bool:
                    alert = alert_of(await a.snapshot(), "SALES1")
                    return alert is not None and (alert["auto_pause"] or {}).get(
                        "outcome"
                    ) == "paused"

                await eventually(a_paused, within=CHANGE_WITHIN, what=f"a paused\n{a.tail()}")
                assert await update_campaign_calls() == [("SALES1", "N")]
            seen_by_a = alert_of(await a.snapshot(), "SALES1")
            assert seen_by_a is not None

            async def b_shows(alert: dict[str, Any]) -> bool:
                return alert_of(await b.snapshot(), "SALES1") == alert

            await eventually(lambda: b_shows(seen_by_a), within=5, what="b shows a's alert")
            await a.kill()

            await eventually(lambda: b.poller.running, within=10, what="b takes over")
            await b.wait_started()
            if pauser == "successor":
                await sim.steer("SALES1", answered_today=2000, dropped_today=70)  # 3.5 %
                await b.poller.poll("call_status_stats")
                # the ratio must hold for `pending` (1 s of the real clock) on b's engine
                await eventually(
                    lambda: update_campaign_calls_nonempty(sim), within=10, what="b pauses"
                )
            await b.poller.poll("campaigns_list")  # SALES1 is inactive now
            b_alert = alert_of(await b.snapshot(), "SALES1")
            assert b_alert is not None
            assert b_alert["key"] == seen_by_a["key"], "the same incident, not a new one"

            def thread_has(words: str) -> Callable[[], bool]:
                def check() -> bool:
                    parents = slack.parents(CHANNEL)
                    return bool(parents) and any(
                        words in r.text for r in slack.replies(parents[0].ts)
                    )

                return check

            await eventually(thread_has("is inactive since"), within=10, what="inactive reply")
            await sim.steer("SALES1", answered_today=2000, dropped_today=20)  # 1.0 %
            await b.poller.poll("call_status_stats")
            await eventually(thread_has("resolved after"), within=10, what="resolved reply")
            await runtime(b).outbox.drain()
            assert alert_of(await b.snapshot(), "SALES1") is None

    parent = the_parent(slack, seen_by_a["key"])
    assert_replies(
        reply_texts(slack, parent),
        ["SALES1 set inactive", "is inactive since", "resolved after"],
    )
    assert len(parent_posts(slack)) == 1, "one parent for the incident, whoever led"
    assert len(slack.parents(CHANNEL)) == 1
    assert await update_campaign_calls() == [("SALES1", "N")], "paused exactly once"


async def update_campaign_calls_nonempty(sim: SimHandle) -> bool:
    return bool((await sim.requests())["update_campaign"])


# --- 4. a two-minute Slack outage --------------------------------------------------------------


@asynccontextmanager
async def slack_on(clock: FakeClock) -> AsyncIterator[SlackStandIn]:
    """A stand-in on the daemon's fake clock: a timed outage ends when the test says so."""
    async with running_slack(clock=lambda: clock.now.timestamp()) as stand_in:
        yield stand_in


async def test_a_two_minute_slack_outage_loses_and_duplicates_nothing(
    sim: SimHandle, tmp_path: Path
) -> None:
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
            assert key is not None and "SALES1" in key

            await slack.go_down("503", seconds=120)
            clock.advance(20)
            await set_ratio(daemon, sim, "SALES1", 1000, 29)  # 2.9 %: escalated
            clock.advance(30)
            await set_ratio(daemon, sim, "SALES1", 1000, 25)  # 2.5 %: eased to warning
            clock.advance(30)
            await set_ratio(daemon, sim, "SALES1", 1000, 18)  # 1.8 %: resolved
            clock.advance(30)
            with pytest.raises(Unavailable):  # 110 s into the outage: still down
                await runtime(daemon).outbox.drain()
            assert slack.replies(parent.ts) == [], "nothing got through during the outage"
            assert "WARNING" in parent.text
            clock.advance(15)  # the outage is over
            ended = len(slack.requests)
            await runtime(daemon).outbox.drain()
            await eventually(lambda: outbox_empty(tmp_path / "wallboard.db"), within=10)

    assert_replies(
        reply_texts(slack, parent),
        ["escalated to CRITICAL", "eased to WARNING", "resolved after 1 min"],
    )
    assert updates_of(slack, parent.ts, since=ended) == 1, "updated once, to the current state"
    assert "resolved" in parent.text.lower()
    assert len(slack.parents(CHANNEL)) == 1
    assert len(parent_posts(slack)) == 1
