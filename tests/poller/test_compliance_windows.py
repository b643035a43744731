"""The compliance windows as the poller composes them from a real simulator and a real store.

Every expected figure comes from the simulator's own world (``day_stats``, ``/_sim/state``),
never from our client's parse of the same answer, so a wrong column in either is caught.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon import FakeClock
from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from wallboard.cache import MemorySnapshotStore, SqliteHistoryStore
from wallboard.compliance import CampaignCompliance, ComplianceSettings, DropGroup
from wallboard.poller import Poller, PollPlan
from wallboard.snapshot import CampaignView, Snapshot
from wallboard.snapshot_json import api_document
from wallboard.vicidial.client import VicidialClient
from wallboard.windows import Thresholds

GROUP = DropGroup(name="outbound", campaigns=("SALES1", "SALES2"))


@asynccontextmanager
async def poller_with(
    tmp_path: Path, compliance: ComplianceSettings, *, history_days: int = 12
) -> AsyncIterator[tuple[SimHandle, Poller, MemorySnapshotStore[Snapshot], FakeClock]]:
    clock = FakeClock(DEFAULT_START)
    plan = PollPlan(
        campaigns=("SALES1", "SALES2"),
        history_days=history_days,
        history_throttle=0,
        compliance=compliance,
    )
    async with running_simulator(seed=2) as sim, aiohttp.ClientSession() as session:
        client = VicidialClient(
            session, url=sim.base_url, user=sim.user, password=sim.password, timeout=2, retries=0
        )
        store: MemorySnapshotStore[Snapshot] = MemorySnapshotStore()
        history = SqliteHistoryStore(tmp_path / "h.db")
        poller = Poller(client, store, history, plan, clock=clock)
        try:
            yield sim, poller, store, clock
        finally:
            await poller.stop()
            await history.close()


async def floor(poller: Poller, store: MemorySnapshotStore[Snapshot]) -> Snapshot:
    await poller.poll_all()
    await poller.refresh_history()
    snapshot = store.latest()
    assert snapshot is not None
    return snapshot


def view(snapshot: Snapshot, target: str) -> CampaignView:
    found = snapshot.campaign(target)
    assert found is not None, target
    return found


async def test_period_ofcom_and_group_windows_match_the_dialers_own_days(tmp_path: Path) -> None:
    today_guess = DEFAULT_START.date()
    anchor = today_guess - timedelta(days=40)  # periods: -40..-11, -10..+19 → since = -10
    compliance = ComplianceSettings(
        targets={"SALES1": CampaignCompliance(period_start=anchor, uk_ofcom=True)},
        groups=(GROUP,),
    )
    async with poller_with(tmp_path, compliance) as (sim, poller, store, _):
        snapshot = await floor(poller, store)
        today = snapshot.local_date
        assert today == sim.world.local_today()
        world = sim.world

        # SALES1: the configured period began 10 days ago (30 days after the anchor).
        sales1 = view(snapshot, "SALES1")
        period = sales1.extra_window("period")
        assert period is not None
        since = anchor + timedelta(days=30)
        assert period.since == since
        days = [since + timedelta(days=n) for n in range((today - since).days + 1)]
        truth = [world.day_stats("SALES1", day) for day in days]
        assert period.window.days == len(days) == 11
        assert period.window.calls == sum(t.calls for t in truth)
        assert period.window.answered == sum(t.human_answered for t in truth)
        assert period.window.dropped == sum(t.drops for t in truth)

        # SALES1 in UK mode: Ofcom's formula over the dialer's own status counts, today only.
        ofcom = sales1.extra_window("today_ofcom")
        assert ofcom is not None
        stats = world.day_stats("SALES1", today)
        people = stats.human_answered - stats.drops
        machines = stats.statuses.get("A", 0)
        assert machines > 0, "the seed must exercise the correction"
        assert stats.drops > 0, "the seed must exercise the correction"
        adjusted = Fraction(stats.drops) * (1 - Fraction(machines, people + machines))
        expected = adjusted / (people + adjusted)
        assert abs(ofcom.window.drop_ratio - float(expected)) < 1e-12
        assert sales1.today.drop_ratio == stats.drops / stats.human_answered  # untouched

        # SALES2 has no period_start: its periods run from its first stored day with calls,
        # which the 12 fetched days make 11 days ago; no UK window.
        sales2 = view(snapshot, "SALES2")
        period2 = sales2.extra_window("period")
        assert period2 is not None
        first = today - timedelta(days=11)
        assert world.day_stats("SALES2", first).calls > 0
        assert period2.since == first
        assert period2.window.days == 12
        assert sales2.extra_window("today_ofcom") is None

        # The group pools its members' counts (then takes the ratio).
        group = view(snapshot, "group:outbound")
        assert group.members == ("SALES1", "SALES2")
        assert group.today.calls == sales1.today.calls + sales2.today.calls
        assert group.today.dropped == sales1.today.dropped + sales2.today.dropped
        assert group.last_30d.answered == sales1.last_30d.answered + sales2.last_30d.answered
        assert group.last_30d.days == 12
        group_period = group.extra_window("period")
        assert group_period is not None
        assert group_period.since == since  # from the earliest member start: SALES1's anchor
        assert group_period.window.days == 11
        assert group_period.window.calls == period.window.calls + sum(
            world.day_stats("SALES2", day).calls for day in days
        )
        assert [c.id for c in snapshot.drop_targets][-1] == "group:outbound"

        # One stats answer so far: the pacing windows exist and say they cover nothing yet.
        pace = sales1.extra_window("15m")
        assert pace is not None
        assert (pace.window.answered, pace.span_seconds) == (0, 0.0)
        assert sales1.forecast is None  # too little pace to project


async def test_anchor_and_pacing_survive_a_restart(tmp_path: Path) -> None:
    compliance = ComplianceSettings(groups=(GROUP,))
    async with poller_with(tmp_path, compliance) as (sim, poller, store, clock):
        snapshot = await floor(poller, store)
        since = view(snapshot, "SALES2").extra_window("period")
        assert since is not None
        for _ in range(5):
            clock.advance(60)
            await sim.advance(60)
            await poller.poll("call_status_stats")
        history = poller._history
        restarted = Poller(
            poller._client, store, history, poller._plan, clock=clock
        )  # same durable store, as a restart or a new leader would have
        await restarted._restore()
        clock.advance(60)
        await sim.advance(60)
        await restarted.poll_all()
        await restarted.refresh_history()
        await restarted.publish()
        again = store.latest()
        assert again is not None
        period = view(again, "SALES2").extra_window("period")
        assert period is not None
        assert period.since == since.since
        pace = view(again, "SALES1").extra_window("15m")
        assert pace is not None
        assert pace.span_seconds == 6 * 60.0, "the samples from before the restart count"
        await restarted.stop()


async def test_the_forecast_follows_a_steered_campaign(tmp_path: Path) -> None:
    thresholds = Thresholds(limit=0.03, warn_at=0.025, critical_at=0.028, min_answered=50)
    compliance = ComplianceSettings(
        targets={"SALES1": CampaignCompliance(thresholds=thresholds, shift_end=time(23, 30))}
    )
    async with poller_with(tmp_path, compliance, history_days=2) as (sim, poller, store, clock):
        await sim.steer("SALES1", answered_today=2000, dropped_today=40, drop_ratio=0.25)
        await floor(poller, store)
        seen: list[tuple[datetime, int, int]] = []

        async def observe() -> None:
            state = next(c for c in (await sim.state())["campaigns"] if c["id"] == "SALES1")
            seen.append((clock.now, state["answered_today"], state["dropped_today"]))

        await observe()
        for _ in range(20):  # 20 minutes of dialing, a stats answer every minute
            clock.advance(60)
            await sim.advance(60)
            await poller.poll("call_status_stats")
            await observe()
        await poller.publish()
        snapshot = store.latest()
        assert snapshot is not None
        forecast = view(snapshot, "SALES1").forecast
        assert forecast is not None

        # By hand: the pace of the whole 20 minutes observed (under the hour), projected from
        # the newest counts.
        (t0, a0, d0), (t1, a1, d1) = seen[0], seen[-1]
        seconds = (t1 - t0).total_seconds()
        assert forecast.basis_seconds == seconds
        answered_rate, drop_rate = (a1 - a0) / seconds, (d1 - d0) / seconds
        assert abs(forecast.answered_per_hour - answered_rate * 3600) < 1e-9
        assert abs(forecast.drops_per_hour - drop_rate * 3600) < 1e-9
        assert drop_rate > 0.03 * answered_rate, "a 25 % drop pace must head for the limit"
        gap = 0.03 * a1 - d1
        assert gap > 0, "still under the limit now"
        crossing = t1 + timedelta(seconds=gap / (drop_rate - 0.03 * answered_rate))
        limit = forecast.crossing("limit")
        assert limit is not None
        assert limit.at is not None
        assert abs((limit.at - crossing).total_seconds()) < 1e-3
        offset = snapshot.dialer.utc_offset_hours
        assert offset is not None
        local_day = (t1 + timedelta(hours=offset)).date()
        horizon = datetime.combine(local_day, time(23, 30), tzinfo=t1.tzinfo) - timedelta(
            hours=offset
        )
        assert forecast.horizon == horizon
        remaining = (horizon - t1).total_seconds()
        at_horizon = (d1 + drop_rate * remaining) / (a1 + answered_rate * remaining)
        assert abs(forecast.ratio_at_horizon - at_horizon) < 1e-12

        # The day's trend: a point every 5 minutes of dialer time, from the same answers.
        trend = view(snapshot, "SALES1").trend
        by_time = {at: (answered, dropped) for at, answered, dropped in seen}
        assert len(trend) == 5  # minutes 0, 5, 10, 15 and 20 of the 20 observed
        for point, moment in zip(trend, sorted(by_time)[::5], strict=True):
            assert (point.answered, point.dropped) == by_time[moment]
        assert [b.second - a.second for a, b in itertools.pairwise(trend)] == [300] * 4
        document = api_document(snapshot, t1, limit=0.03, thresholds=thresholds)
        sparkline = next(c for c in document["campaigns"] if c["id"] == "SALES1")["sparkline"]
        assert sparkline["points"][-1] == [trend[-1].second, round(d1 / a1, 6)]
        assert (sparkline["warn_at"], sparkline["limit"]) == (0.025, 0.03)


def test_the_horizon_is_the_shift_end_or_the_dialers_midnight() -> None:
    from datetime import UTC

    from wallboard.poller.dialer_clock import DialerClock

    new_york = DialerClock(timezone="America/New_York")
    # 2026-11-01 is the day New York leaves DST (EDT -4 until 02:00, then EST -5).
    morning = datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert new_york.horizon(morning, time(21, 0), None) == datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    assert new_york.horizon(morning, None, None) == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    late = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # 22:00 EST: the shift is over
    assert new_york.horizon(late, time(21, 0), None) == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    fixed = DialerClock(utc_offset_hours=-4.0)  # does not follow DST
    assert fixed.horizon(morning, time(21, 0), None) == datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    assert replace(fixed, utc_offset_hours=None).horizon(morning, None, 1.0) == datetime(
        2026, 11, 1, 23, 0, tzinfo=UTC
    )
    assert date(2026, 11, 1) == new_york.local_date(morning, None)


async def test_the_thresholds_in_force_are_recorded_for_the_ledger(tmp_path: Path) -> None:
    from wallboard.day_record import read_day_settings

    strict = Thresholds(limit=0.03, warn_at=0.02, critical_at=0.025, min_answered=80)
    compliance = ComplianceSettings(
        targets={"SALES2": CampaignCompliance(thresholds=strict)}, groups=(GROUP,)
    )
    async with poller_with(tmp_path, compliance, history_days=2) as (_, poller, store, _clock):
        snapshot = await floor(poller, store)
        recorded = await read_day_settings(poller._history, snapshot.local_date)
        assert recorded is not None
        assert recorded.thresholds == {
            "SALES1": Thresholds(),
            "SALES2": strict,
            "group:outbound": Thresholds(),
        }
        assert recorded.utc_offset_hours == snapshot.dialer.utc_offset_hours


async def test_a_group_with_a_member_off_the_floor_is_left_out_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ghost = DropGroup(name="ghost", campaigns=("SALES1", "SALES9"))
    compliance = ComplianceSettings(groups=(GROUP, ghost))
    async with poller_with(tmp_path, compliance, history_days=2) as (_, poller, store, _clock):
        with caplog.at_level("WARNING"):
            snapshot = await floor(poller, store)
        assert [group.id for group in snapshot.groups] == ["group:outbound"]
        assert "drop-rate group ghost left out: SALES9 not among VICIdial's campaigns" in (
            caplog.text
        )
