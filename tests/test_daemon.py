"""The daemon end to end: real simulator, real HTTP, one poller, one cache, many readers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon import DaemonHandle, FakeClock, daemon_settings, running_daemon
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.waiting import eventually
from wallboard.daemon import POLLER

FAULT_KINDS = [
    "timeout",
    "http_500",
    "html",
    "garbage",
    "truncated",
    "error",
    "login",
    "reset",
    "slow",
]


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator(seed=11) as handle:
        yield handle


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DEFAULT_START)


@pytest.fixture
async def daemon(sim: SimHandle, clock: FakeClock, tmp_path: Path) -> AsyncIterator[DaemonHandle]:
    settings = daemon_settings(sim.base_url, tmp_path, vicidial={"timeout": "1s"})
    async with running_daemon(settings, clock=clock) as handle:
        await handle.wait_started()
        yield handle


async def _next_event(response: aiohttp.ClientResponse, name: str) -> bytes:
    """The next SSE frame of event ``name`` (skipping ``retry:``, heartbeats, comments)."""
    while True:
        frame = await response.content.readuntil(b"\n\n")
        if frame.startswith(b"event: " + name.encode() + b"\n"):
            return frame


async def total_requests(sim: SimHandle) -> int:
    return int((await sim.requests())["total"])


async def test_snapshot_numbers_equal_the_simulated_world(
    sim: SimHandle, daemon: DaemonHandle
) -> None:
    document = await daemon.snapshot()
    state = await sim.state()
    assert document["local_date"] == state["local_date"]
    assert document["stale"] is False
    campaigns = {c["id"]: c for c in document["campaigns"]}
    assert set(campaigns) == {c["id"] for c in state["campaigns"]}
    for expected in state["campaigns"]:
        got = campaigns[expected["id"]]
        for key in (
            "name",
            "active",
            "dial_level",
            "hopper_leads",
            "calls_today",
            "answered_today",
            "dropped_today",
            "agents",
        ):
            assert got[key] == expected[key], (expected["id"], key)
        assert got["drop_ratio"] == pytest.approx(expected["drop_ratio"], abs=1e-6)
        assert got["drops_remaining"] == max(
            0, int(0.03 * expected["answered_today"] + 1e-9) - expected["dropped_today"]
        )
    agents = {a["user"]: a for a in document["agents"]}
    assert set(agents) == {a["user"] for a in state["agents"]}
    for expected in state["agents"]:
        got = agents[expected["user"]]
        assert (got["name"], got["campaign"], got["state"], got["calls_today"]) == (
            expected["name"],
            expected["campaign"],
            expected["state"],
            expected["calls_today"],
        )


async def test_thirty_day_window_adds_past_days_from_the_dialer(
    sim: SimHandle, daemon: DaemonHandle
) -> None:
    document = await daemon.snapshot()
    world = sim.world
    today = world.local_today()
    for campaign in document["campaigns"]:
        days = [today.fromordinal(today.toordinal() - n) for n in range(1, 5)]
        past = [world.day_stats(campaign["id"], day) for day in days]
        assert campaign["days_30d"] == 5
        assert campaign["answered_30d"] == campaign["answered_today"] + sum(
            d.human_answered for d in past
        )
        assert campaign["dropped_30d"] == campaign["dropped_today"] + sum(d.drops for d in past)


async def test_data_follows_the_dialer(
    sim: SimHandle, daemon: DaemonHandle, clock: FakeClock
) -> None:
    before = {c["id"]: c for c in (await daemon.snapshot())["campaigns"]}
    await sim.advance(600)
    clock.advance(600)
    await daemon.poller.poll("call_status_stats")
    after = {c["id"]: c for c in (await daemon.snapshot())["campaigns"]}
    state = {c["id"]: c for c in (await sim.state())["campaigns"]}
    grew = [cid for cid in after if after[cid]["calls_today"] > before[cid]["calls_today"]]
    assert grew, "ten simulated minutes placed no calls"
    for cid, campaign in after.items():
        assert campaign["calls_today"] == state[cid]["calls_today"]


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_a_failing_source_keeps_its_data_and_turns_stale(
    sim: SimHandle, daemon: DaemonHandle, clock: FakeClock, kind: str
) -> None:
    good = await daemon.snapshot()
    await sim.add_fault("logged_in_agents", kind, times=10, seconds=3.0)
    clock.advance(1)
    await daemon.poller.poll("logged_in_agents")
    failing = await daemon.snapshot()
    source = failing["sources"]["logged_in_agents"]
    assert source["ok"] is False
    assert source["error"], "the error is recorded"
    assert sim.password not in source["error"]
    assert failing["agents"] == good["agents"], "the last good data stays"

    # 3 missed 10-minute intervals later the source is stale, with its age; others are fresh.
    clock.advance(31 * 60)
    for name in daemon.poller.statuses:
        if name != "logged_in_agents":
            await daemon.poller.poll_round(name)
    stale = await daemon.snapshot()
    assert stale["stale"] is True
    assert stale["stale_sources"] == ["logged_in_agents"]
    assert stale["sources"]["logged_in_agents"]["age_seconds"] == pytest.approx(31 * 60 + 1, abs=2)
    assert stale["age_seconds"] == pytest.approx(31 * 60 + 1, abs=2)
    assert stale["agents"] == good["agents"]
    status, ready = await daemon.get_json("/readyz")
    assert status == 503
    assert "logged_in_agents" in ready["sources"]

    await sim.clear_faults()
    await daemon.poller.poll("logged_in_agents")
    if kind == "login":
        # The breaker's first accepted probe (a poll above) resumes every source at once,
        # logged_in_agents included; that poll may still have met the fault and tripped the
        # breaker again. Then the next probe, one login_retry later, brings it back.
        async def back() -> bool:
            if daemon.poller.statuses["logged_in_agents"].ok:
                return True
            clock.advance(121)
            await daemon.poller.poll("campaigns_list")
            await daemon.poller.poll("logged_in_agents")
            return daemon.poller.statuses["logged_in_agents"].ok

        await eventually(back, within=10, what="logged_in_agents after the login recovered")
    recovered = await daemon.snapshot()
    assert recovered["stale"] is False
    assert recovered["sources"]["logged_in_agents"]["ok"] is True
    assert recovered["sources"]["logged_in_agents"]["error"] is None
    status, _ = await daemon.get_json("/readyz")
    assert status == 200


async def test_readers_never_cause_a_vicidial_request(sim: SimHandle, daemon: DaemonHandle) -> None:
    before = await total_requests(sim)

    async def read_snapshot() -> int:
        async with daemon.session.get(daemon.url + "/api/snapshot") as response:
            await response.read()
            return response.status

    async def read_stream(opened: asyncio.Event) -> str:
        async with (
            aiohttp.ClientSession() as own,
            own.get(daemon.url + "/api/events") as response,
        ):
            assert response.headers["Content-Type"].startswith("text/event-stream")
            first = await _next_event(response, "snapshot")
            opened.set()
            return first.decode()

    statuses = await asyncio.gather(*(read_snapshot() for _ in range(100)))
    assert statuses == [200] * 100
    events = [asyncio.Event() for _ in range(50)]
    firsts = await asyncio.gather(*(read_stream(e) for e in events))
    assert all(first.startswith("event: snapshot\ndata: {") for first in firsts)
    for _ in range(3):
        assert (await daemon.session.get(daemon.url + "/metrics")).status == 200
    assert await total_requests(sim) == before


async def test_sse_pushes_a_snapshot_after_every_change(
    sim: SimHandle, daemon: DaemonHandle, clock: FakeClock
) -> None:
    async with daemon.session.get(daemon.url + "/api/events") as response:
        first = await _next_event(response, "snapshot")
        await sim.advance(300)
        clock.advance(300)
        await daemon.poller.poll("call_status_stats")
        second = await asyncio.wait_for(_next_event(response, "snapshot"), 5)
        assert second != first


async def test_secrets_never_reach_readers_or_logs(
    sim: SimHandle, daemon: DaemonHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await sim.add_fault("*", "login", times=10)
    for name in ("logged_in_agents", "call_status_stats", "campaigns_list"):
        await daemon.poller.poll_round(name)
    for path in ("/api/snapshot", "/metrics", "/readyz", "/healthz", "/boards/floor", "/"):
        async with daemon.session.get(daemon.url + path) as response:
            body = await response.text()
        assert sim.password not in body, path
    assert "login" in caplog.text.lower(), "the failure itself is logged"
    assert sim.password not in caplog.text


async def test_board_filter_and_unknown_board(daemon: DaemonHandle) -> None:
    status, document = await daemon.get_json("/api/snapshot?board=floor")
    assert status == 200
    assert document["campaigns"]
    status, _ = await daemon.get_json("/api/snapshot?board=nope")
    assert status == 404


async def test_restart_keeps_history_without_refetching(
    sim: SimHandle, clock: FakeClock, tmp_path: Path
) -> None:
    settings = daemon_settings(sim.base_url, tmp_path)

    async def stats_requests() -> int:
        return int((await sim.requests())["by_function"].get("call_status_stats", 0))

    start = await stats_requests()
    async with running_daemon(settings, clock=clock) as first:
        await first.wait_started()
        window = [
            (c["id"], c["answered_30d"] - c["answered_today"])
            for c in (await first.snapshot())["campaigns"]
        ]
    first_run = await stats_requests() - start
    assert first_run == 1 + 4  # today + four missing past days

    async with running_daemon(settings, clock=clock) as second:
        await second.wait_started()
        again = [
            (c["id"], c["answered_30d"] - c["answered_today"])
            for c in (await second.snapshot())["campaigns"]
        ]
    assert await stats_requests() - start - first_run == 1  # today only
    assert again == window


async def test_time_in_state_survives_a_daemon_restart(
    sim: SimHandle, clock: FakeClock, tmp_path: Path
) -> None:
    settings = daemon_settings(sim.base_url, tmp_path)
    async with running_daemon(settings, clock=clock) as first:
        await first.wait_started()
        before = {a["user"]: a for a in (await first.snapshot())["agents"]}
    assert before
    assert not any(a["state_since_exact"] for a in before.values()), "a lower bound at start"
    clock.advance(20)  # restarted 20 s later, same state file, same floor
    async with running_daemon(settings, clock=clock) as second:
        await second.wait_started()
        after = {a["user"]: a for a in (await second.snapshot())["agents"]}
    assert {
        u: (a["state"], a["state_since"], a["state_since_exact"]) for u, a in after.items()
    } == {u: (a["state"], a["state_since"], a["state_since_exact"]) for u, a in before.items()}


async def test_two_instances_on_one_redis_share_one_poller(
    sim: SimHandle, tmp_path: Path, redis_url: str
) -> None:
    cache: dict[str, Any] = {"backend": "redis", "redis_url": redis_url, "lock_ttl": "5s"}
    settings = daemon_settings(sim.base_url, tmp_path, cache=cache)
    async with running_daemon(settings, instance="a") as a:
        await a.wait_started()
        async with running_daemon(settings, instance="b") as b:
            # b follows a's snapshots from Redis and does not poll
            await _until_same_snapshot(a, b)
            assert a.poller.running
            assert not b.poller.running
            requests = await total_requests(sim)
            await a.poller.poll("call_status_stats")
            await _until_same_snapshot(a, b)
            assert await total_requests(sim) == requests + 1
            before = {x["user"]: x["state_since"] for x in (await b.snapshot())["agents"]}
            await a.app.shutdown()  # a goes away: its lock is released on the way out
            await a.app.cleanup()
            await _eventually_running(b)
            from tests.support.waiting import eventually

            async def b_leads() -> bool:
                return (await b.snapshot())["leader"] == "b"

            await eventually(b_leads, within=10, what="b publishes after its first round")
            after = {x["user"]: x["state_since"] for x in (await b.snapshot())["agents"]}
            # the simulated floor stood still, so every agent keeps its time-in-state
            assert after == before


async def test_a_new_leader_with_vicidial_failing_keeps_the_figures_on_screen(
    sim: SimHandle, tmp_path: Path, redis_url: str
) -> None:
    """The leader goes while VICIdial fails: the successor's first round fails, and it must
    show the previous figures with its own errors and their true ages, never blanks."""
    cache: dict[str, Any] = {"backend": "redis", "redis_url": redis_url, "lock_ttl": "5s"}
    settings = daemon_settings(sim.base_url, tmp_path, cache=cache)
    async with running_daemon(settings, instance="a") as a:
        await a.wait_started()
        async with running_daemon(settings, instance="b") as b:
            await _until_same_snapshot(a, b)
            good = await b.snapshot()
            await sim.add_fault("*", "html", times=100_000)
            await a.app.shutdown()
            await a.app.cleanup()
            await _eventually_running(b)

            async def b_reports_its_failures() -> bool:
                document = await b.snapshot()
                return document["leader"] == "b" and not any(
                    source["ok"] for name, source in document["sources"].items()
                    if name in ("logged_in_agents", "call_status_stats")
                )  # fmt: skip

            await eventually(b_reports_its_failures, within=10, what="b's failing first round")
            now = await b.snapshot()
            assert now["agents"] == good["agents"], "the last good agents stay"
            for before, after in zip(good["campaigns"], now["campaigns"], strict=True):
                assert after["calls_today"] == before["calls_today"] is not None
                assert after["drop_ratio"] == before["drop_ratio"]
            agents = now["sources"]["logged_in_agents"]
            assert agents["last_success"] == good["sources"]["logged_in_agents"]["last_success"]
            assert agents["error"], "its own error, not the old leader's health"
            await sim.clear_faults()
            await b.poller.poll_round("logged_in_agents")
            await b.poller.poll_round("call_status_stats")
            await b.poller.poll_round("campaigns_list")
            fresh = await b.snapshot()
            assert fresh["sources"]["logged_in_agents"]["ok"] is True
            assert len(fresh["agents"]) == len(good["agents"])


async def _until_same_snapshot(a: DaemonHandle, b: DaemonHandle) -> None:

    async def same() -> bool:
        sa, sb = await a.get_json("/api/snapshot"), await b.get_json("/api/snapshot")
        return sa[0] == sb[0] == 200 and sa[1]["taken_at"] == sb[1]["taken_at"]

    await eventually(same, within=10, what="follower shows the leader's snapshot")


async def _eventually_running(handle: DaemonHandle) -> None:

    await eventually(lambda: handle.poller.running, within=10, what="follower takes over")


async def test_vicidial_midnight_rolls_today_into_the_thirty_day_window(
    sim: SimHandle, daemon: DaemonHandle, clock: FakeClock
) -> None:

    before = await daemon.snapshot()
    yesterday = sim.world.local_today()
    hours_to_midnight = 24 - sim.world.local_now.hour
    await sim.advance(hours_to_midnight * 3600)
    clock.advance(hours_to_midnight * 3600)
    await daemon.poller.poll("version")
    await daemon.poller.poll("call_status_stats")
    new_day = sim.world.local_today()
    assert new_day != yesterday
    await eventually(
        lambda: daemon.poller.history_day == new_day, within=10, what="history after midnight"
    )
    after = await daemon.snapshot()
    assert after["local_date"] == new_day.isoformat() != before["local_date"]
    finished = sim.world.day_stats("SALES1", yesterday)
    sales1_before = next(c for c in before["campaigns"] if c["id"] == "SALES1")
    sales1 = next(c for c in after["campaigns"] if c["id"] == "SALES1")
    # today restarted from zero-ish; yesterday (now complete) is in the 30-day window
    assert sales1["calls_today"] < sales1_before["calls_today"]
    assert finished.calls >= sales1_before["calls_today"]
    past = [
        sim.world.day_stats("SALES1", new_day.fromordinal(new_day.toordinal() - n))
        for n in range(1, 5)
    ]
    assert sales1["answered_30d"] == sales1["answered_today"] + sum(d.human_answered for d in past)
    assert sales1["days_30d"] == 5

    # Fetched within the first hour after midnight, yesterday is settled once more later on;
    # after that it is final and never fetched again.
    await sim.advance(3600)
    clock.advance(3600)
    assert await daemon.poller.refresh_history() == 1
    assert await daemon.poller.refresh_history() == 0


async def test_a_killed_leader_is_replaced_within_one_lock_ttl(
    sim: SimHandle, tmp_path: Path, redis_url: str
) -> None:
    """Instance A (a real ``wallboard run`` process) leads; SIGKILL it; B takes over."""
    import signal
    import socket
    import sys
    import time

    ttl = 3.0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "a.toml"
    config.write_text(
        f"""
[vicidial]
url = "{sim.base_url}"
user = "{sim.user}"
pass = "{sim.password}"
timeout = "2s"
[poll]
agents_interval = "5s"
stats_interval = "5s"
campaigns_interval = "5s"
hopper_interval = "5s"
jitter = "0s"
max_requests_per_minute = 200
history_days = 2
history_throttle = "0s"
[alerts]
stale_after = "1m"
[cache]
backend = "redis"
redis_url = "{redis_url}"
lock_ttl = "{ttl:g}s"
[web]
listen = "127.0.0.1:{port}"
[state]
path = "{tmp_path / "a.db"}"
"""
    )
    leader = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wallboard", "run", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:

            async def leader_ready() -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(leader_ready, within=30, what="process A leads and is ready")
            cache: dict[str, Any] = {"backend": "redis", "redis_url": redis_url, "lock_ttl": "3s"}
            settings = daemon_settings(sim.base_url, tmp_path, cache=cache)
            async with running_daemon(settings, instance="b") as follower:
                status, document = await follower.get_json("/api/snapshot")
                await eventually(lambda: POLLER in follower.app, within=5, what="b started")
                assert status == 200, document
                assert not follower.poller.running, "b must follow while a leads"
                leader.send_signal(signal.SIGKILL)
                await leader.wait()
                killed = time.monotonic()
                await eventually(
                    lambda: follower.poller.running, within=ttl * 3, what="b takes over"
                )
                took = time.monotonic() - killed

                async def b_publishes() -> bool:
                    return (await follower.snapshot())["leader"] == "b"

                await eventually(b_publishes, within=10, what="b publishes its own snapshots")
        assert took <= ttl + ttl / 3 + 1.0, f"takeover took {took:.1f}s with a {ttl:g}s lock"
    finally:
        if leader.returncode is None:
            leader.kill()
            await leader.wait()


async def test_a_dialer_down_from_the_start_shows_unknown_not_zero(
    sim: SimHandle, clock: FakeClock, tmp_path: Path
) -> None:
    await sim.add_fault("*", "http_500", times=10_000)
    settings = daemon_settings(sim.base_url, tmp_path, vicidial={"campaigns": ["SALES1", "SALES2"]})
    async with running_daemon(settings, clock=clock) as handle:
        from tests.support.waiting import eventually

        def all_failed() -> bool:
            poller = handle.app.get(POLLER)
            return poller is not None and all(s.last_error for s in poller.statuses.values())

        await eventually(all_failed, within=15, what="every source tried and failed")
        document = await handle.snapshot()
        assert document["stale"] is True
        assert [c["id"] for c in document["campaigns"]] == ["SALES1", "SALES2"]
        for campaign in document["campaigns"]:
            assert campaign["drop_ratio"] is None
            assert campaign["calls_today"] is None
            assert campaign["drops_remaining"] is None
        assert all(not s["ok"] for s in document["sources"].values())
        assert all("HTTP 500" in s["error"] for s in document["sources"].values())
        async with handle.session.get(handle.url + "/metrics") as response:
            metrics = await response.text()
        assert "vicidial_up 0.0" in metrics
        assert "vicidial_campaign_drop_ratio{" not in metrics
        status, ready = await handle.get_json("/readyz")
        assert status == 503
        assert set(ready["sources"]) == set(document["sources"]) - {"version"}


async def test_a_static_dialer_sends_one_snapshot_event_while_ages_stay_true(
    sim: SimHandle, daemon: DaemonHandle, clock: FakeClock
) -> None:
    """Five times the longest interval of a frozen floor: ``/readyz`` 200 throughout, ages that
    follow the polls, and ``snapshot`` events only for news: the one at connect, and once 15
    minutes of pace have been observed the forecast appearing (with the alerts the engine then
    evaluates); nothing at all in the 30 minutes after that."""
    frames: list[bytes] = []

    async with daemon.session.get(daemon.url + "/api/events") as response:

        async def collect() -> None:
            while True:
                frames.append(await response.content.readuntil(b"\n\n"))

        reader = asyncio.create_task(collect())
        try:
            await eventually(
                lambda: any(f.startswith(b"event: snapshot") for f in frames),
                within=5,
                what="the snapshot at connect",
            )
            longest = 600.0  # daemon_settings polls every source each 10 minutes
            quiet_from = 0
            for minute in range(1, int(5 * longest / 60) + 1):
                if minute == 20:
                    await eventually(
                        lambda: (
                            any(b'"forecast":{' in f for f in frames)
                            and any(b'"alerts":[{' in f for f in frames)
                        ),
                        within=5,
                        what="the forecast (15 minutes of pace observed) and the alerts",
                    )
                    quiet_from = len(frames)
                clock.advance(60)
                await daemon.poller.poll_all()
                status, ready = await daemon.get_json("/readyz")
                assert status == 200, ready
                document = await daemon.snapshot()
                assert document["age_seconds"] == 0.0, "every source answered just now"
                assert document["stale"] is False
            await daemon.poller.publish()
        finally:
            reader.cancel()
    snapshots = [f for f in frames[quiet_from:] if f.startswith(b"event: snapshot")]
    assert snapshots == [], f"{len(snapshots)} snapshot events for a floor that never moved"
