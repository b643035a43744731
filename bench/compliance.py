"""What the compliance windows (issue 10) cost on a large floor, per publish and per change.

Every publish composes the ``period``, ``today_ofcom``, ``15m`` and ``1h`` windows, the drop-rate
groups and the forecast of every campaign; every change renders them into each board's document
and the Redis encoding, and every scrape into ``/metrics``. On a small floor none of that shows;
this measures it on a large one, built in-process from the real pure functions and types (no
simulator, no HTTP): 100 campaigns, 2,000 agents, 10 drop-rate groups of 10 campaigns, UK mode
on 20 campaigns, 30 stored days per campaign (in a real SQLite history store, anchors fixed from
it as the poller does), and an hour of pacing samples at one stats answer a minute.

Each cost is measured with and without ``windows=`` (the same floor; the snapshot without them
has only ``today`` and ``30d``), the two runs interleaved so a burst of load from the rest of a
small machine slows both alike. Figures are p50/p99 in ms. Nothing here is a pass/fail target:
it exits 1 only when the floor did not get the windows it should have (then it would be
measuring something else). Run as ``python bench/compliance.py [--runs 300]`` (about 30 s on
a 2-core box).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sys
import tempfile
import time as clock
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path

from prometheus_client import generate_latest

from wallboard.cache.history import DayTotals, SqliteHistoryStore
from wallboard.compliance import CampaignCompliance, ComplianceSettings, DropGroup
from wallboard.compose import (
    AgentState,
    DatedStats,
    SourceResults,
    compose_snapshot,
)
from wallboard.compose_windows import WindowInputs
from wallboard.metrics import DaemonMetrics
from wallboard.poller.compliance_state import ComplianceState
from wallboard.poller.dialer_clock import DialerClock
from wallboard.snapshot import Snapshot, SourceStatus
from wallboard.snapshot_json import SnapshotJsonCodec
from wallboard.vicidial.models import (
    CallStatusStats,
    CampaignInfo,
    LoggedInAgent,
    StatusCounts,
    VersionInfo,
    agent_state,
)
from wallboard.web.keys import Board, WebContext
from wallboard.web.render import BoardDocuments
from wallboard.windows import DropWindow, Thresholds, total
from wallboard.windows.names import PACE_1H, PACE_15M, PERIOD, TODAY_OFCOM

CAMPAIGNS = 100
AGENTS = 2_000
GROUP_SIZE = 10  # 10 groups of 10 campaigns
UK_CAMPAIGNS = 20
STORED_DAYS = 30
WARM_MINUTES = 90  # observed untimed: more than the 65 min of samples the tracker keeps
TIMED_MINUTES = 120  # then observed and timed, up to NOW: observe() in its steady state
TIMEZONE = "Europe/London"
NOW = datetime(2025, 3, 12, 14, 0, tzinfo=UTC)  # 14:00 in London (GMT), shift ends 21:00
SHIFT_END = time(21, 0)
STATUSES = ("SALE", "NI", "CALLBK", "DNC", "NA", "B", "DC", "AA", "A", "DROP", "XDROP", "PDROP")
AGENT_STATUSES = ("INCALL", "READY", "PAUSED", "QUEUE", "CLOSER", "INCALL", "INCALL")
SUB_STATUSES = ("", "", "DEAD", "DISPO", "")
SOURCES = (
    ("logged_in_agents", 30.0),
    ("call_status_stats", 60.0),
    ("campaigns_list", 60.0),
    ("hopper_list", 240.0),
    ("in_group_status", 30.0),
    ("version", 600.0),
)


# --------------------------------------------------------------------------- the floor


@dataclass(frozen=True)
class Campaign:
    """One campaign's dialing pace: today's counters are a pure function of the minute."""

    id: str
    calls_per_minute: float
    answer_share: float
    drop_share: float  # drops per human answer

    def counters(self, minute: int) -> tuple[int, int, int]:
        """Today's (calls, human answered, drops) at dialer minute ``minute``, non-decreasing."""
        dialing = max(0, minute - 8 * 60)  # the floor starts dialing at 08:00
        calls = int(self.calls_per_minute * dialing)
        answered = int(calls * self.answer_share)
        return calls, answered, int(answered * self.drop_share)

    def stats_line(self, minute: int) -> CallStatusStats:
        calls, answered, drops = self.counters(minute)
        hours = [0] * 24
        for hour in range(8, minute // 60 + 1):
            hours[hour] = self.counters(min(minute, (hour + 1) * 60))[0] - sum(hours)
        machines = int((calls - answered) * 0.4)
        others = answered - drops
        statuses = {
            "SALE": others // 8,
            "NI": others // 3,
            "CALLBK": others // 10,
            "DNC": others // 40,
            "NA": (calls - answered - machines) // 2,
            "B": (calls - answered - machines) // 4,
            "DC": (calls - answered - machines) // 8,
            "AA": machines // 2,
            "A": machines - machines // 2,
            "DROP": drops - drops // 10,
            "XDROP": drops // 10,
            "PDROP": drops // 20,
        }
        return CallStatusStats(
            code=self.id,
            calls=calls,
            human_answered=answered,
            hourly=tuple(hours),
            statuses=StatusCounts({status: statuses[status] for status in STATUSES}),
        )


@dataclass(frozen=True)
class Floor:
    """Everything the poller would hold at ``NOW``."""

    campaigns: tuple[Campaign, ...]
    settings: ComplianceSettings
    dialer: DialerClock
    local_date: date
    results: SourceResults
    statuses: tuple[SourceStatus, ...]
    agent_states: Mapping[str, AgentState]
    past_days: Mapping[str, Mapping[date, DropWindow]]
    history: Mapping[str, DropWindow]

    @property
    def ids(self) -> list[str]:
        return [campaign.id for campaign in self.campaigns]

    def horizon(self, shift_end: time | None) -> datetime:
        return self.dialer.horizon(NOW, shift_end, None)


def build_settings(ids: Sequence[str], today: date) -> ComplianceSettings:
    """UK mode on the first 20 campaigns; a configured ``period_start`` on every 10th (the
    rest are anchored from the store); a shift end at 21:00; groups of 10 consecutive ones."""
    default = CampaignCompliance(shift_end=SHIFT_END)
    targets: dict[str, CampaignCompliance] = {}
    for index, campaign in enumerate(ids):
        uk = index < UK_CAMPAIGNS
        start = today - timedelta(days=45 + index) if index % 10 == 5 else None
        if uk or start is not None:
            targets[campaign] = CampaignCompliance(
                thresholds=Thresholds(), period_start=start, uk_ofcom=uk, shift_end=SHIFT_END
            )
    groups = tuple(
        DropGroup(name=f"TEAM{number + 1}", campaigns=tuple(ids[start : start + GROUP_SIZE]))
        for number, start in enumerate(range(0, len(ids), GROUP_SIZE))
    )
    return ComplianceSettings(default=default, targets=targets, groups=groups)


def build_agents(ids: Sequence[str], rng: random.Random) -> tuple[LoggedInAgent, ...]:
    first = ["Jane", "John", "Maria", "Ahmed", "Li", "Olga", "Pierre", "Ana", "Tom", "Fatima"]
    last = ["Doe", "Smith", "García", "Khan", "Wang", "Ivanova", "Martin", "Silva", "Brown"]
    agents = []
    for number in range(AGENTS):
        status = rng.choice(AGENT_STATUSES)
        lead_id = 1_079_409 + number if status == "INCALL" else 0
        agents.append(
            LoggedInAgent(
                user=str(10_000 + number),
                campaign_id=ids[number % len(ids)],
                session_id=str(8_600_051 + number),
                status=status,
                lead_id=lead_id,
                callerid=f"V{903143713000 + number:012d}{lead_id:09d}" if lead_id else "",
                calls_today=rng.randint(0, 80),
                full_name=f"{rng.choice(first)} {rng.choice(last)}",
                user_group="AGENTS",
                user_level=1,
                pause_code=rng.choice(["", "", "BREAK", "LUNCH"]) if status == "PAUSED" else "",
                sub_status=rng.choice(SUB_STATUSES),
            )
        )
    return tuple(agents)


async def stored_days(
    campaigns: Sequence[Campaign], today: date, rng: random.Random, directory: Path
) -> tuple[dict[str, dict[date, DropWindow]], SqliteHistoryStore]:
    """30 past days per campaign written to and read back from a real SQLite history store
    (as the backfill does); a quarter of the campaigns started dialing within those days and
    have zero rows before, which is what moves their period anchors."""
    store = SqliteHistoryStore(directory / "history.sqlite3")
    await store.start()
    rows = []
    for index, campaign in enumerate(campaigns):
        started = rng.randint(5, STORED_DAYS - 1) if index % 4 == 3 else STORED_DAYS
        for back in range(1, STORED_DAYS + 1):
            day = today - timedelta(days=back)
            calls, answered, drops = campaign.counters(21 * 60) if back <= started else (0, 0, 0)
            jitter = rng.uniform(0.8, 1.2)
            rows.append(
                DayTotals(
                    campaign.id,
                    day,
                    int(calls * jitter),
                    int(answered * jitter),
                    int(drops * jitter),
                )
            )
    await store.put(rows)
    days: dict[str, dict[date, DropWindow]] = {}
    for row in await store.get(
        [c.id for c in campaigns], today - timedelta(days=STORED_DAYS), today
    ):
        days.setdefault(row.campaign_id, {})[row.day] = DropWindow(
            row.calls, row.answered, row.dropped, 1
        )
    return days, store


def build_floor(
    seed: int, directory: Path
) -> tuple[Floor, ComplianceState, list[tuple[datetime, tuple[CallStatusStats, ...]]]]:
    """The floor at ``NOW``; a :class:`ComplianceState` with the period anchors fixed from
    the store and a stats answer a minute observed for :data:`WARM_MINUTES` (so it holds
    the full hour its pacing windows keep); and the answers of the last
    :data:`TIMED_MINUTES` minutes up to ``NOW``, still to observe (timed by the caller)."""
    rng = random.Random(seed)
    dialer = DialerClock(timezone=TIMEZONE)
    today = dialer.local_date(NOW, None)
    local = dialer.local(NOW, None)
    minute = local.hour * 60 + local.minute
    campaigns = tuple(
        Campaign(
            id=f"CAMP{number:03d}",
            calls_per_minute=rng.uniform(4.0, 20.0),
            answer_share=rng.uniform(0.25, 0.45),
            drop_share=rng.uniform(0.008, 0.04),
        )
        for number in range(1, CAMPAIGNS + 1)
    )
    ids = [c.id for c in campaigns]
    settings = build_settings(ids, today)

    async def history() -> tuple[dict[str, dict[date, DropWindow]], ComplianceState]:
        days, store = await stored_days(campaigns, today, rng, directory)
        state = ComplianceState(settings)
        await state.fix_anchors(store, ids, days)
        await store.close()
        return days, state

    past_days, state = asyncio.run(history())
    pending = []
    for at_minute in range(minute - WARM_MINUTES - TIMED_MINUTES, minute + 1):
        answer = tuple(c.stats_line(at_minute) for c in campaigns)
        at = NOW - timedelta(minutes=minute - at_minute)
        if at_minute < minute - TIMED_MINUTES:
            state.observe(today, at, answer, ids)
        else:
            pending.append((at, answer))
    agents = build_agents(ids, rng)
    since = {
        agent.user: AgentState(
            state=agent_state(agent).value,
            since=NOW - timedelta(seconds=rng.randint(0, 1800)),
            exact=rng.random() < 0.9,
        )
        for agent in agents
    }
    infos = tuple(
        CampaignInfo(
            campaign_id=c.id,
            campaign_name=f"Outbound campaign {c.id}",
            active=True,
            user_group="ADMIN",
            dial_method="RATIO",
            dial_level=2.5,
            lead_order="DOWN",
            dial_statuses=("NEW", "NA", "B"),
            dial_timeout=26,
        )
        for c in campaigns
    )
    results = SourceResults(
        agents=agents,
        call_stats=DatedStats(today, tuple(c.stats_line(minute) for c in campaigns)),
        campaigns=infos,
        hoppers={c.id: rng.randint(50, 500) for c in campaigns},
        version=VersionInfo("2.14-917a", "240718-1133", "", 0, False, 0.0, 0.0),
    )
    statuses = tuple(
        SourceStatus(function=name, interval=interval, ok=True, last_success=NOW)
        for name, interval in SOURCES
    )
    floor = Floor(
        campaigns=campaigns,
        settings=settings,
        dialer=dialer,
        local_date=today,
        results=results,
        statuses=statuses,
        agent_states=since,
        past_days=past_days,
        history={campaign: total(days.values()) for campaign, days in past_days.items()},
    )
    return floor, state, pending


def compose(floor: Floor, windows: WindowInputs | None) -> Snapshot:
    return compose_snapshot(
        now=NOW,
        local_date=floor.local_date,
        campaign_ids=floor.ids,
        results=floor.results,
        statuses=floor.statuses,
        history=floor.history,
        agent_states=floor.agent_states,
        leader="bench",
        windows=windows,
        dialer_offset_hours=floor.dialer.offset_hours(NOW, None),
        dialer_timezone=TIMEZONE,
    )


def check_windows(snapshot: Snapshot) -> list[str]:
    """What is missing from the composed floor (empty: every window the settings ask for)."""
    problems = []
    if len(snapshot.groups) != CAMPAIGNS // GROUP_SIZE:
        problems.append(f"{len(snapshot.groups)} drop-rate groups")
    for target in snapshot.drop_targets:
        wanted = {PERIOD, PACE_15M, PACE_1H}
        if target.id in {c.id for c in snapshot.campaigns[:UK_CAMPAIGNS]}:
            wanted.add(TODAY_OFCOM)
        missing = wanted - set(target.windows)
        if missing or target.forecast is None:
            problems.append(f"{target.id}: missing {sorted(missing)} forecast {target.forecast}")
    return problems


# --------------------------------------------------------------------------- measuring
# --------------------------------------------------------------------------- measuring


@dataclass
class Timing:
    """Milliseconds per run as measured (``raw``), and net of the cyclic GC's pauses that
    fell inside each run (``net``): the collector runs whenever allocations pass its
    thresholds, and a full (gen 2) collection walks the whole heap, imports included, so it
    lands on whichever run happened to allocate last. Both are shown: ``raw`` is what the
    daemon lives with, ``net`` is what the code itself costs."""

    raw: list[float] = field(default_factory=list)
    net: list[float] = field(default_factory=list)


class Stopwatch:
    """Times runs with ``perf_counter`` and keeps track of GC pauses (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.paused = 0.0  # seconds spent in the collector so far
        self.full_pauses: list[float] = []  # ms of each gen-2 collection while timing
        self.timing = False
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        now = clock.perf_counter()
        if phase == "start":
            self._started = now
            return
        self.paused += now - self._started
        if self.timing and info["generation"] == 2:
            self.full_pauses.append((now - self._started) * 1000)

    def time(self, run: Callable[[], object], into: Timing) -> None:
        paused = self.paused
        self.timing = True
        started = clock.perf_counter()
        run()
        elapsed = clock.perf_counter() - started
        self.timing = False
        into.raw.append(elapsed * 1000)
        into.net.append((elapsed - (self.paused - paused)) * 1000)

    def interleaved(self, runs: Sequence[Callable[[], object]], repeats: int) -> list[Timing]:
        """Each run ``repeats`` times, alternating between the runs."""
        found = [Timing() for _ in runs]
        for _ in range(repeats):
            for run, timing in zip(runs, found, strict=True):
                self.time(run, timing)
        return found


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def spread(timing: Timing) -> str:
    return (
        f"p50 {percentile(timing.raw, 0.5):6.2f} ms  p99 {percentile(timing.raw, 0.99):6.2f} ms"
        f"  (net of GC: p99 {percentile(timing.net, 0.99):6.2f})"
    )


def versus(label: str, timings: Sequence[Timing], sizes: tuple[str, str] = ("", "")) -> None:
    """Two lines: the figure without and with the windows (and sizes), what the windows add."""
    without, with_ = timings
    added = percentile(with_.raw, 0.5) - percentile(without.raw, 0.5)
    ratio = percentile(with_.raw, 0.5) / percentile(without.raw, 0.5)
    print(f"  {label}")
    print(f"    without windows  {spread(without)}  {sizes[0]}")
    print(f"    with windows     {spread(with_)}  {sizes[1]}  +{added:.2f} ms p50, x{ratio:.2f}")


def kib(data: bytes) -> str:
    return f"{len(data) / 1024:6.1f} KiB"


class FixedStore:
    """The web layer's view of the cache: always the same snapshot."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def latest(self) -> Snapshot | None:
        return self._snapshot


def documents_for(snapshot: Snapshot, floor: Floor) -> BoardDocuments:
    team = floor.settings.groups[0].campaigns
    context = WebContext(
        store=FixedStore(snapshot),
        limit=0.03,
        warn_at=0.025,
        critical_at=0.028,
        boards=(Board("floor", "Floor"), Board("team", "Team 1", team)),
        clock=lambda: NOW + timedelta(seconds=5),
        thresholds=Thresholds(),
        thresholds_for=lambda target: floor.settings.for_target(target).thresholds,
    )
    return BoardDocuments(context)


def render(documents: BoardDocuments, board: str) -> bytes:
    documents.changed()  # one content change: the next read renders
    rendered = documents.rendered(board)
    assert rendered is not None
    return rendered.frame


def metrics_for(snapshot: Snapshot, floor: Floor) -> DaemonMetrics:
    return DaemonMetrics(
        latest=lambda: snapshot,
        clock=lambda: NOW + timedelta(seconds=5),
        limit=0.03,
        limit_for=lambda target: floor.settings.for_target(target).thresholds.limit,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=300, help="timed runs of the cheap steps")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave start-up objects to the collector (the daemon freezes them: gc.freeze)",
    )
    args = parser.parse_args()
    runs, heavy = args.runs, max(20, args.runs // 2)  # heavy: renders, scrapes, decodes
    watch = Stopwatch()

    with tempfile.TemporaryDirectory(prefix="bench-compliance-") as directory:
        floor, state, pending = build_floor(args.seed, Path(directory))
    observe = Timing()
    for at, answer in pending:  # the day's last answers, up to NOW, in the steady state
        watch.time(partial(state.observe, floor.local_date, at, answer, floor.ids), observe)
    inputs = state.inputs(floor.horizon, floor.past_days, floor.ids)
    plain, full = compose(floor, None), compose(floor, inputs)
    if not args.no_freeze:  # as the daemon does once started (wallboard/daemon.py)
        gc.collect()
        gc.freeze()
    problems = check_windows(full)
    if problems:
        print("the floor lacks windows it should have:", *problems[:10], sep="\n  ")
        return 1
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"compliance windows: {CAMPAIGNS} campaigns, {AGENTS:,} agents, {len(full.groups)} "
        f"drop-rate groups of {GROUP_SIZE}, UK mode on {UK_CAMPAIGNS}, {STORED_DAYS} stored days"
        f" per campaign, a stats answer every 60 s; "
        f"{sum(len(t.windows) for t in full.drop_targets)} windows on {len(full.drop_targets)} "
        f"targets (load average {load})"
    )

    # (a) compose, as every publish does
    versus(
        f"compose_snapshot ({runs} runs each)",
        watch.interleaved([lambda: compose(floor, None), lambda: compose(floor, inputs)], runs),
    )
    publish = watch.interleaved(
        [lambda: compose(floor, state.inputs(floor.horizon, floor.past_days, floor.ids))], heavy
    )[0]
    print(f"    inputs + compose {spread(publish)}  one publish, {heavy} runs")

    # (b) the poller's compliance state
    inputs_ms = watch.interleaved(
        [lambda: state.inputs(floor.horizon, floor.past_days, floor.ids)], runs
    )[0]
    print(f"  ComplianceState ({CAMPAIGNS} campaigns + {len(full.groups)} groups)")
    print(f"    observe          {spread(observe)}  one stats answer, {len(pending)} runs")
    print(f"    inputs           {spread(inputs_ms)}  {runs} runs")

    # (c) the Redis encoding, and each board's document as the web layer renders it per change
    codec = SnapshotJsonCodec()
    encoded = codec.encode(plain), codec.encode(full)
    versus(
        f"SnapshotJsonCodec.encode ({runs} runs each)",
        watch.interleaved([lambda: codec.encode(plain), lambda: codec.encode(full)], runs),
        (kib(encoded[0]), kib(encoded[1])),
    )
    versus(
        f"SnapshotJsonCodec.decode (a follower; {heavy} runs each)",
        watch.interleaved(
            [lambda: codec.decode(encoded[0]), lambda: codec.decode(encoded[1])], heavy
        ),
    )
    boards = documents_for(plain, floor), documents_for(full, floor)
    for board, shows in (("floor", "every campaign and group"), ("team", "10 campaigns, 1 group")):
        frames = render(boards[0], board), render(boards[1], board)
        versus(
            f"board '{board}' render ({shows}; api_document + SSE frame; {heavy} runs each)",
            watch.interleaved(
                [partial(render, boards[0], board), partial(render, boards[1], board)],
                heavy,
            ),
            (kib(frames[0]), kib(frames[1])),
        )

    # (d) one /metrics scrape
    registries = metrics_for(plain, floor), metrics_for(full, floor)
    pages = registries[0].render(), registries[1].render()
    series = [sum(1 for line in page.splitlines() if not line.startswith(b"#")) for page in pages]
    # The collector itself renders every family each time: the cost of the first scrape after
    # a change (later scrapes of the same content are a cached lookup, bench/metrics.py).
    versus(
        f"/metrics full render (generate_latest of the collector; {heavy} runs each)",
        watch.interleaved(
            [
                lambda: generate_latest(registries[0].collector),
                lambda: generate_latest(registries[1].collector),
            ],
            heavy,
        ),
        (f"{kib(pages[0])}, {series[0]:,} series", f"{kib(pages[1])}, {series[1]:,} series"),
    )
    pauses = watch.full_pauses
    if pauses:
        print(
            f"  GC: {len(pauses)} full collections fell inside timed runs, median"
            f" {percentile(pauses, 0.5):.1f} ms (max {max(pauses):.1f})"
            + ("" if not args.no_freeze else ": without gc.freeze they are the p99 tails")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
