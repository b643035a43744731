"""The alert engine end to end: real simulator steered through a campaign's drop ratio, the
real daemon, the local Slack stand-in. Time is the daemon's fake clock, advanced by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import DaemonHandle, FakeClock, daemon_settings, running_daemon
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.slack_server import SlackStandIn, running_slack
from tests.support.waiting import eventually
from wallboard.alerts.runtime import AlertRuntime
from wallboard.daemon import ALERTS

CHANNEL = "C0FLOOR001"  # the stand-in's #floor


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator(seed=11) as handle:
        yield handle


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with running_slack() as stand_in:
        yield stand_in


def alert_settings(sim: SimHandle, slack: SlackStandIn, tmp_path: Path, **alerts: Any) -> Any:
    return daemon_settings(
        sim.base_url,
        tmp_path,
        vicidial={"campaigns": ["SALES1", "SALES2"]},
        boards=[{"name": "floor", "title": "Floor", "campaigns": ["SALES1", "SALES2"]}],
        slack={"token": slack.token, "channel": "#floor", "base_url": slack.base_url},
        alerts={"pending": "10s", "min_answered": 50, "windows": ["today"], **alerts},
    )


async def set_ratio(
    daemon: DaemonHandle, sim: SimHandle, campaign: str, answered: int, dropped: int
) -> None:
    """Steer the dialer's counts, poll them, and evaluate the alerts once."""
    await sim.steer(campaign, answered_today=answered, dropped_today=dropped)
    await daemon.poller.poll("call_status_stats")
    await runtime(daemon).engine.evaluate_now()


def runtime(daemon: DaemonHandle) -> AlertRuntime:
    return daemon.app[ALERTS]


async def test_a_campaign_rising_and_falling_makes_one_slack_thread(
    sim: SimHandle, slack: SlackStandIn, tmp_path: Path
) -> None:
    clock = FakeClock(DEFAULT_START)
    async with running_daemon(alert_settings(sim, slack, tmp_path), clock=clock) as daemon:
        await daemon.wait_started()
        await set_ratio(daemon, sim, "SALES2", 1000, 5)  # a calm neighbour: never alerts
        await set_ratio(daemon, sim, "SALES1", 1000, 26)  # 2.6 %: over warn, pending
        assert slack.parents(CHANNEL) == [], "pending: nothing is sent yet"
        clock.advance(11)
        await runtime(daemon).engine.evaluate_now()  # held for pending: the warning opens
        clock.advance(30)
        await set_ratio(daemon, sim, "SALES1", 1000, 29)  # 2.9 %: critical, same incident
        document = await daemon.snapshot()
        [alert] = document["alerts"]
        assert (alert["campaign"], alert["severity"], alert["kind"]) == (
            "SALES1",
            "critical",
            "drop",
        )
        sales1 = next(c for c in document["campaigns"] if c["id"] == "SALES1")
        assert sales1["windows"]["today"]["alert_state"] == "critical"
        async with daemon.session.get(daemon.url + "/metrics") as response:
            assert 'wallboard_alerts_firing{campaign="SALES1",severity="critical"} 1.0' in (
                await response.text()
            )
        clock.advance(60)
        await set_ratio(daemon, sim, "SALES1", 1000, 26)  # 2.6 %: inside the clear margin
        clock.advance(60)
        await set_ratio(daemon, sim, "SALES1", 1000, 20)  # 2.0 %: below warn − margin
        await runtime(daemon).outbox.drain()

        def delivered() -> bool:
            parents = slack.parents(CHANNEL)
            return len(parents) == 1 and len(slack.replies(parents[0].ts)) >= 2

        await eventually(delivered, within=10, what="the thread in Slack")
        [parent] = slack.parents(CHANNEL)
        replies = [r.text for r in slack.replies(parent.ts)]
        # 2.6 % is inside critical_at − clear_margin: it stays critical and sends nothing.
        expected = ["escalated to CRITICAL", "resolved after 2 min"]
        assert len(replies) == len(expected), replies
        for reply, words in zip(replies, expected, strict=True):
            assert words in reply, replies
        assert "resolved" in parent.text.lower()
        assert "2.90 % at the last message" in parent.text, "the trend since the last message"
        assert slack.calls("chat.update"), "the parent is updated in place"
        assert all(c.params.get("channel") == CHANNEL for c in slack.calls("chat.update"))
        assert (await daemon.snapshot())["alerts"] == []
        for call in slack.requests:
            assert slack.token not in str(call.params)


async def test_too_few_answers_never_alert(
    sim: SimHandle, slack: SlackStandIn, tmp_path: Path
) -> None:
    clock = FakeClock(DEFAULT_START)
    settings = alert_settings(sim, slack, tmp_path, min_answered=100)
    async with running_daemon(settings, clock=clock) as daemon:
        await daemon.wait_started()
        await set_ratio(daemon, sim, "SALES2", 1000, 5)
        for _ in range(5):
            await set_ratio(daemon, sim, "SALES1", 60, 6)  # 10 %, but only 60 answered
            clock.advance(60)
        await runtime(daemon).engine.evaluate_now()
        await runtime(daemon).outbox.drain()
        assert (await daemon.snapshot())["alerts"] == []
        assert slack.calls("chat.postMessage") == []


@pytest.mark.parametrize("dry_run", [False, True])
async def test_auto_pause_pauses_an_allowed_campaign_once_and_nothing_else(
    sim: SimHandle, slack: SlackStandIn, tmp_path: Path, dry_run: bool
) -> None:
    clock = FakeClock(DEFAULT_START)
    settings = alert_settings(
        sim,
        slack,
        tmp_path,
        auto_pause={"campaigns": ["SALES1"], "at": 0.029, "dry_run": dry_run},
    )
    async with running_daemon(settings, clock=clock) as daemon:
        await daemon.wait_started()
        await set_ratio(daemon, sim, "SALES2", 1000, 40)  # 4 %: critical, but not allowed
        await set_ratio(daemon, sim, "SALES1", 1000, 25)  # 2.5 %: under `at`
        clock.advance(11)
        await runtime(daemon).engine.evaluate_now()
        await set_ratio(daemon, sim, "SALES1", 1000, 31)  # 3.1 %: at or above `at` ...
        clock.advance(5)
        await runtime(daemon).engine.evaluate_now()  # ... but not yet for `pending`
        assert (await sim.requests())["update_campaign"] == []
        for _ in range(4):  # held for pending, then for much longer: still one pause
            clock.advance(10)
            await set_ratio(daemon, sim, "SALES1", 1000, 31)
        calls = (await sim.requests())["update_campaign"]
        if dry_run:
            assert calls == [], "dry run never calls VICIdial"
        else:
            assert [(c["campaign_id"], c["active"]) for c in calls] == [("SALES1", "N")]
        state = {c["id"]: c["active"] for c in (await sim.state())["campaigns"]}
        assert state["SALES1"] is dry_run, "paused for real unless dry run"
        assert state["SALES2"] is True, "never a campaign that is not listed"
        document = await daemon.snapshot()
        pause = next(a for a in document["alerts"] if a["campaign"] == "SALES1")["auto_pause"]
        assert pause["outcome"] == ("would_pause" if dry_run else "paused")
        await runtime(daemon).outbox.drain()
        parent = next(p for p in slack.parents(CHANNEL) if "SALES1" in p.text)
        replies = " ".join(r.text for r in slack.replies(parent.ts))
        assert ("would set SALES1 inactive" if dry_run else "SALES1 set inactive") in replies
        async with daemon.session.get(daemon.url + "/metrics") as response:
            outcome = "would_pause" if dry_run else "paused"
            assert (
                f'wallboard_auto_pauses_total{{campaign="SALES1",outcome="{outcome}"}} 1.0'
                in await response.text()
            )
