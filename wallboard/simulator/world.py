"""The simulated dialer floor: campaigns dialing, agents cycling, counters growing through the day.

The wallboard, its metrics and its drop-rate alerts are only tested for real if the numbers
behind the simulator move the way a VICIdial floor moves (``shared/vicidial/DIALER-MODEL.md``):
the dialer places ``dial_level x waiting agents - ringing`` calls, a human answer with no free
agent within ``drop_call_seconds`` becomes a ``DROP``, adaptive campaigns chase their drop limit,
hoppers drain and refill, agents log in, talk, wrap up, pause and go home.

The model is a deterministic discrete-time simulation in one-second ticks. All randomness comes
from one ``random.Random(seed)`` consumed in a fixed order, plus per-(seed, key, day) generators
for figures that must exist without simulating (shifts, past days, the morning before a mid-day
start), so the same seed and the same sequence of ``advance()`` times give the same state. Time
only enters through ``now`` arguments; nothing here reads a clock.

Counting follows ``vicidial_log``: a call is counted when its outcome is known (the end of
ringing); a human-answered call is counted as ``INCALL`` and re-labelled with the agent's
disposition (or ``DROP``) later, so calls and human-answered only ever grow within a day, and an
inactive campaign's ``calls`` stop growing once its ringing calls end.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from wallboard.simulator import history
from wallboard.simulator.history import DISPO_MIX, MACHINE_MIX, UNANSWERED_MIX, DayShape
from wallboard.simulator.roster import (
    AREAS,
    CONVERSATIONS_PER_AGENT_HOUR,
    DAY_SECONDS,
    HOUR,
    INGROUP_STYLES,
    STYLES,
    CampaignStyle,
    InGroupStyle,
    RosterEntry,
    ScheduledPause,
    Shift,
    build_roster,
    make_lead,
    shift_for,
)
from wallboard.simulator.types import (
    AgentDayLog,
    DayStats,
    HopperLead,
    SimAgent,
    SimCampaign,
    SimInGroup,
)

# A single catch-up (e.g. after the host slept) ticks at most this much; older time is jumped.
CATCH_UP_LIMIT = 6 * HOUR
MAX_LOG_DAYS = 400
DEAD_CALL_SHARE = 0.05
STUCK_DEAD_SHARE = 0.02  # of dead calls: the agent forgets to hang up for minutes
MICRO_PAUSE_SHARE = 0.015
PAUSE_GRACE = 5 * 60  # a break that is due waits this long for the current call to end
BUSINESS_START, BUSINESS_END = 8 * HOUR, 20 * HOUR
USER_GROUPS = ["ADMIN", "AGENTS", "SUPERVISORS"]
BUCKETS = ("waiting", "incall", "paused", "dispo", "dead", "dial")


def us_dst(day: date) -> bool:
    """US rule: from the second Sunday of March to the first Sunday of November."""
    if not 3 <= day.month <= 11:
        return False
    if 3 < day.month < 11:
        return True
    first = date(day.year, day.month, 1)
    first_sunday = 1 + (6 - first.weekday()) % 7
    if day.month == 3:
        return day.day >= first_sunday + 7
    return day.day < first_sunday


def agent_bucket(agent: SimAgent) -> str:
    """The ``user_group_status`` bucket an agent counts in (API.md §5.4 counting rules)."""
    if agent.status in ("PAUSED", "READY") and agent.lead_id > 0:
        return "dispo"
    if agent.status == "INCALL" and agent.sub_status == "DEAD":
        return "dead"
    if agent.status in ("INCALL", "QUEUE"):
        return "incall"
    if agent.status in ("READY", "CLOSER"):
        return "waiting"
    if agent.status == "PAUSED":
        return "paused"
    return "dial" if agent.sub_status == "DIAL" else "incall"


@dataclass(eq=False)
class _Call:
    """One ``vicidial_auto_calls`` row: ringing, waiting for an agent, or with one."""

    code: str  # campaign or in-group id
    inbound: bool
    lead_id: int
    phone_number: str
    vendor_lead_code: str
    placed: int
    human: bool = False
    outcome: str = ""  # status of a call that reached no human
    deadline: int = 0
    routable: int = 0  # inbound: when the greeting ends and agents can take it
    drop_status: str = "DROP"
    stats: DayStats | None = None  # the day it was counted in (it may end after midnight)
    hour: int = 0


@dataclass(eq=False)
class _Seat:
    """An agent's place on the floor, logged in or not, with the model's private state."""

    entry: RosterEntry
    shift: Shift
    log: AgentDayLog
    agent: SimAgent | None = None
    phase: str = "out"  # out, login, ready, talk, dead, dispo, pause
    since: int = 0
    version: int = 0
    call: _Call | None = None
    next_pause: int = 0
    pending: ScheduledPause | None = None
    leaving: bool = False
    calls_today: int = 0


@dataclass(eq=False)
class _Desk:
    """A campaign's dialer state."""

    campaign: SimCampaign
    style: CampaignStyle
    next_lead: int
    list_id: int
    today: DayStats = field(default_factory=DayStats)
    ready: dict[str, _Seat] = field(default_factory=dict)
    hopper: deque[HopperLead] = field(default_factory=deque)
    waiting: deque[_Call] = field(default_factory=deque)
    lines: list[_Line] = field(default_factory=list)
    ringing: int = 0
    talking: int = 0
    pool_left: int | None = None
    ready_samples: int = 0
    sample_ticks: int = 0
    minute_calls: int = 0
    minute_drops: int = 0


@dataclass(eq=False)
class _Line:
    """An in-group's queue."""

    group: SimInGroup
    style: InGroupStyle
    desks: list[_Desk]
    today: DayStats = field(default_factory=DayStats)
    queue: list[_Call] = field(default_factory=list)
    talking: int = 0
    arrival_chance: list[float] = field(default_factory=lambda: [0.0] * 24)


_PHASE_BUCKET = {
    "login": "pause_sec",
    "pause": "pause_sec",
    "ready": "wait_sec",
    "talk": "talk_sec",
    "dead": "dead_sec",
    "dispo": "dispo_sec",
}


def _cumulative(mix: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    total, out = 0.0, []
    for status, weight in mix:
        total += weight
        out.append((status, total))
    return tuple((s, c / total) for s, c in out)


def _pick(rng: random.Random, cumulative: tuple[tuple[str, float], ...]) -> str:
    u = rng.random()
    for status, edge in cumulative:
        if u < edge:
            return status
    return cumulative[-1][0]


_DISPO_CUM = _cumulative(DISPO_MIX)
_MACHINE_CUM = _cumulative(MACHINE_MIX)
_UNANSWERED_CUM = _cumulative(UNANSWERED_MIX)


def _fresh_log(entry: RosterEntry) -> AgentDayLog:
    return AgentDayLog(user=entry.user, campaign_id=entry.campaign_id, sessions=0)


class World:
    """A deterministic VICIdial floor that the simulator's HTTP layer reads and steers."""

    def __init__(
        self,
        *,
        seed: int = 1,
        campaigns: int = 4,
        agents: int = 40,
        now: datetime,
        gmt_offset: float = -5.0,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        if campaigns < 1 or agents < 0:
            raise ValueError("need at least one campaign and a non-negative agent count")
        self._seed = seed
        self._rng = random.Random(seed)
        self._gmt_seconds = round(gmt_offset * 3600)
        self._now = now.astimezone(UTC)
        self._t = int(self._now.timestamp())
        self._seq = 0
        self._timers: list[tuple[int, int, _Seat, int]] = []
        self._ringing: list[tuple[int, int, _Call]] = []
        self._history: dict[tuple[str, date], DayStats] = {}
        self._log_history: dict[tuple[str, date], AgentDayLog] = {}
        self._plans: dict[date, dict[str, DayShape]] = {}
        self._shifts: dict[date, list[Shift]] = {}
        self._inbound_leads = 5_000_000
        self._std_day = -1
        self._offset = 0
        self.user_groups: list[str] = list(USER_GROUPS)

        self._desks: list[_Desk] = []
        self.campaigns: dict[str, SimCampaign] = {}
        for i in range(campaigns):
            style = STYLES[i % len(STYLES)]
            campaign = SimCampaign(
                campaign_id=f"SALES{i + 1}",
                campaign_name=f"Sales Floor {i + 1}",
                active=True,
                user_group="---ALL---",
                dial_method=style.dial_method,
                dial_level=style.dial_level,
                hopper_level=style.hopper_level,
                closer_campaigns=style.closer_campaigns,
            )
            self.campaigns[campaign.campaign_id] = campaign
            self._desks.append(
                _Desk(
                    campaign=campaign,
                    style=style,
                    next_lead=(i + 1) * 1_000_000 + 79_409,
                    list_id=100 + 10 * (i + 1),
                )
            )
        self._desk_by_id = {d.campaign.campaign_id: d for d in self._desks}
        self._lines: list[_Line] = []
        self.ingroups: dict[str, SimInGroup] = {}
        for style_in in INGROUP_STYLES:
            serving = [d for d in self._desks if style_in.group_id in d.style.closer_campaigns]
            line = _Line(
                group=SimInGroup(group_id=style_in.group_id), style=style_in, desks=serving
            )
            for desk in serving:
                desk.lines.append(line)
            self._lines.append(line)
            self.ingroups[style_in.group_id] = line.group
        self._line_by_id = {line.group.group_id: line for line in self._lines}

        roster = build_roster(
            seed,
            [d.campaign.campaign_id for d in self._desks],
            [d.style.agent_weight for d in self._desks],
            agents,
        )
        self.agents: dict[str, SimAgent] = {}
        empty = Shift(segments=(), pauses=())
        self._seats = [_Seat(entry=e, shift=empty, log=_fresh_log(e)) for e in roster]

        local = self._t + self._local_offset(self._t)
        self._day_num = local // DAY_SECONDS
        self._day = date.fromordinal(date(1970, 1, 1).toordinal() + self._day_num)
        self._sod = local - self._day_num * DAY_SECONDS
        self._hour = self._sod // HOUR
        self._open_day(prefilled_until=self._sod)
        self._place_agents()
        for desk in self._desks:
            self._refill(desk)
        self._sync_public()

    # ----------------------------------------------------------------- clock
    def _local_offset(self, t: int) -> int:
        std_day = (t + self._gmt_seconds) // DAY_SECONDS
        if std_day != self._std_day:
            self._std_day = std_day
            day = date.fromordinal(date(1970, 1, 1).toordinal() + std_day)
            self._offset = self._gmt_seconds + (HOUR if us_dst(day) else 0)
        return self._offset

    @property
    def now(self) -> datetime:
        return self._now

    @property
    def dst(self) -> bool:
        return self._local_offset(self._t) != self._gmt_seconds

    @property
    def local_now(self) -> datetime:
        local = self._now + timedelta(seconds=self._local_offset(self._t))
        return local.replace(tzinfo=None)

    def local_today(self) -> date:
        return self._day

    def _local_datetime(self, t: int) -> datetime:
        return datetime.fromtimestamp(t + self._local_offset(t), UTC).replace(tzinfo=None)

    def advance(self, now: datetime) -> None:
        """Run the floor up to ``now`` in one-second ticks (no-op if ``now`` is not later)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        now = now.astimezone(UTC)
        if now <= self._now:
            return
        target = int(now.timestamp())
        if target - self._t > CATCH_UP_LIMIT:
            self._jump(target - CATCH_UP_LIMIT)
        while self._t < target:
            self._tick()
        self._now = now
        self._sync_public()

    # ------------------------------------------------------------- the tick
    def _tick(self) -> None:
        self._t += 1
        t = self._t
        local = t + self._local_offset(t)
        day_num = local // DAY_SECONDS
        if day_num > self._day_num:
            self._roll_day(day_num)
        self._sod = max(0, local - self._day_num * DAY_SECONDS)
        self._hour = min(23, self._sod // HOUR)
        if self._sod % 60 == 0:
            self._each_minute()
        timers = self._timers
        while timers and timers[0][0] <= t:
            _, _, seat, version = heapq.heappop(timers)
            if version == seat.version:
                self._phase_done(seat)
        ringing = self._ringing
        while ringing and ringing[0][0] <= t:
            self._ring_done(heapq.heappop(ringing)[2])
        for desk in self._desks:
            if desk.waiting:
                self._serve_waiting(desk)
        for line in self._lines:
            self._inbound_tick(line)
        for desk in self._desks:
            self._dial(desk)

    def _each_minute(self) -> None:
        for seat in self._seats:
            self._check_shift(seat)
        for desk in self._desks:
            self._refill(desk)
            self._adapt(desk)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ------------------------------------------------------------- dialing
    def _dial(self, desk: _Desk) -> None:
        waiting_agents = len(desk.ready)
        desk.ready_samples += waiting_agents
        desk.sample_ticks += 1
        campaign = desk.campaign
        if (
            not campaign.active
            or not desk.hopper
            or not campaign.dial_method.startswith(("RATIO", "ADAPT_"))
        ):
            return
        wanted = int(campaign.dial_level * waiting_agents + 0.5) - desk.ringing
        for _ in range(min(wanted, len(desk.hopper))):
            self._place_call(desk, desk.hopper.popleft())

    def _place_call(self, desk: _Desk, lead: HopperLead) -> None:
        rng, style = self._rng, desk.style
        call = _Call(
            code=desk.campaign.campaign_id,
            inbound=False,
            lead_id=lead.lead_id,
            phone_number=lead.phone_number,
            vendor_lead_code=lead.vendor_lead_code,
            placed=self._t,
        )
        u = rng.random()
        if u < style.human_rate:
            call.human = True
            seconds = rng.randint(4, 20)
        elif u < style.human_rate + style.machine_rate:
            call.outcome = _pick(rng, _MACHINE_CUM)
            seconds = rng.randint(8, 22)
        else:
            call.outcome = _pick(rng, _UNANSWERED_CUM)
            if call.outcome == "NA":
                seconds = desk.campaign.dial_timeout
            elif call.outcome == "B":
                seconds = rng.randint(2, 6)
            else:
                seconds = rng.randint(1, 4)
        desk.ringing += 1
        heapq.heappush(self._ringing, (self._t + seconds, self._next_seq(), call))

    def _ring_done(self, call: _Call) -> None:
        desk = self._desk_by_id[call.code]
        desk.ringing -= 1
        desk.minute_calls += 1
        if not call.human:
            history.count(desk.today, call.outcome, self._hour)
            return
        forced = desk.campaign.forced_drop_ratio
        if forced is not None and self._rng.random() < forced:
            history.count(desk.today, "DROP", self._hour)
            desk.minute_drops += 1
            return
        history.count(desk.today, "INCALL", self._hour)
        call.stats, call.hour = desk.today, self._hour
        # Steered campaigns drop only by the forced ratio; the rest wait for an agent.
        wait = desk.campaign.drop_call_seconds if forced is None else DAY_SECONDS
        call.deadline = self._t + wait
        if desk.ready:
            self._connect(self._pop_ready(desk), call)
        else:
            desk.waiting.append(call)

    def _serve_waiting(self, desk: _Desk) -> None:
        while desk.waiting and desk.ready:
            self._connect(self._pop_ready(desk), desk.waiting.popleft())
        if desk.waiting and any(c.deadline <= self._t for c in desk.waiting):
            kept: deque[_Call] = deque()
            for call in desk.waiting:
                if call.deadline <= self._t:
                    self._drop(call)
                    desk.minute_drops += 1
                else:
                    kept.append(call)
            desk.waiting = kept

    def _drop(self, call: _Call) -> None:
        if call.stats is not None:
            history.restatus(call.stats, "INCALL", call.drop_status, call.hour)

    def _refill(self, desk: _Desk) -> None:
        """``AST_VDhopper.pl``: top active campaigns' hoppers up to ``hopper_level``."""
        if not desk.campaign.active:
            return
        need = desk.campaign.hopper_level - len(desk.hopper)
        if desk.pool_left is not None:
            need = min(need, desk.pool_left)
            desk.pool_left -= max(0, need)
        for _ in range(need):
            desk.hopper.append(self._new_lead(desk))

    def _new_lead(self, desk: _Desk) -> HopperLead:
        lead = make_lead(desk.next_lead, desk.list_id, dst=self.dst)
        desk.next_lead += 1
        return lead

    def _adapt(self, desk: _Desk) -> None:
        """``AST_VDadapt.pl`` in brief: chase the drop limit about once a minute."""
        samples = desk.ready_samples / max(1, desk.sample_ticks)
        minute_calls, minute_drops = desk.minute_calls, desk.minute_drops
        desk.ready_samples = desk.sample_ticks = desk.minute_calls = desk.minute_drops = 0
        campaign, today = desk.campaign, desk.today
        method = campaign.dial_method
        if not method.startswith("ADAPT_") or today.calls <= 50:
            return
        pct = today.drops * 100 / today.human_answered if today.human_answered else 0.0
        limit = campaign.adaptive_dropped_percentage
        if method == "ADAPT_TAPERED":
            # More room early in the business day, the plain limit by its end.
            elapsed = min(
                1.0, max(0.0, (self._sod - BUSINESS_START) / (BUSINESS_END - BUSINESS_START))
            )
            limit *= 1.0 + 0.5 * (1.0 - elapsed)
        level = campaign.dial_level
        if minute_calls > 20 and minute_drops * 2 > minute_calls:
            level /= 2
        elif pct >= limit:
            if method == "ADAPT_HARD_LIMIT":
                level = 1.0
            elif method == "ADAPT_AVERAGE":
                level /= 2
            else:
                level -= 0.5
        elif pct < desk.style.drop_target * limit:
            if samples >= 0.5:
                level += 0.1
        else:
            level -= 0.05
        campaign.dial_level = round(min(max(level, 1.0), desk.style.max_level), 3)

    # ------------------------------------------------------------- inbound
    def _inbound_tick(self, line: _Line) -> None:
        """Callers arrive, hear the greeting, wait for an agent or give up."""
        t = self._t
        if self._rng.random() < line.arrival_chance[self._hour]:
            self._inbound_leads += 1
            lead_id = self._inbound_leads
            area, _, _ = AREAS[lead_id % len(AREAS)]
            call = _Call(
                code=line.group.group_id,
                inbound=True,
                lead_id=lead_id,
                phone_number=f"{area}555{(lead_id * 7919) % 10_000:04d}",
                vendor_lead_code="",
                placed=t,
                routable=t + self._rng.randint(5, 15),
            )
            history.count(line.today, "INCALL", self._hour)
            call.stats, call.hour = line.today, self._hour
            # Some hang up during the greeting; patient ones overflow (XDROP) after 3 minutes.
            patience = self._rng.randint(3, 300)
            call.deadline = t + min(patience, 180)
            call.drop_status = "XDROP" if patience > 180 else "DROP"
            line.queue.append(call)
        if not line.queue:
            return
        for call in list(line.queue):
            if call.deadline <= t:
                line.queue.remove(call)
                self._drop(call)
            elif call.routable <= t:
                desk = next((d for d in line.desks if d.ready), None)
                if desk is not None:
                    line.queue.remove(call)
                    self._connect(self._pop_ready(desk), call)

    # -------------------------------------------------------------- agents
    def _pop_ready(self, desk: _Desk) -> _Seat:
        user = next(iter(desk.ready))
        return desk.ready.pop(user)

    def _flush(self, seat: _Seat) -> None:
        """Book the time spent in the current phase into the agent's day log."""
        elapsed = self._t - seat.since
        if seat.agent is not None and elapsed > 0:
            log = seat.log
            log.login_sec += elapsed
            bucket = _PHASE_BUCKET[seat.phase]
            setattr(log, bucket, getattr(log, bucket) + elapsed)
        seat.since = self._t

    def _enter(self, seat: _Seat, phase: str, seconds: int | None) -> None:
        self._flush(seat)
        seat.phase = phase
        seat.version += 1
        if seconds is not None:
            heapq.heappush(self._timers, (self._t + seconds, self._next_seq(), seat, seat.version))

    def _login(self, seat: _Seat) -> SimAgent:
        entry = seat.entry
        agent = SimAgent(
            user=entry.user,
            full_name=entry.full_name,
            user_group="AGENTS",
            user_level=1,
            campaign_id=entry.campaign_id,
            session_id=entry.session_id,
            status="PAUSED",
            calls_today=seat.calls_today,
            pause_code="LOGIN",
        )
        seat.agent = agent
        self.agents[entry.user] = agent
        seat.phase = "login"
        seat.since = self._t
        seat.leaving = False
        seat.log.sessions += 1
        if seat.log.first_login is None:
            seat.log.first_login = self._local_datetime(self._t)
        return agent

    def _logout(self, seat: _Seat) -> None:
        self._flush(seat)
        self._desk_by_id[seat.entry.campaign_id].ready.pop(seat.entry.user, None)
        self.agents.pop(seat.entry.user, None)
        seat.agent = None
        seat.phase = "out"
        seat.version += 1
        seat.leaving = False
        seat.pending = None

    def _connect(self, seat: _Seat, call: _Call) -> None:
        agent = seat.agent
        assert agent is not None
        agent.status = "INCALL"
        agent.sub_status = ""
        agent.lead_id = call.lead_id
        agent.callerid = self._callerid(call)
        agent.phone_number = call.phone_number
        agent.vendor_lead_code = call.vendor_lead_code
        seat.call = call
        if call.inbound:
            self._line_by_id[call.code].talking += 1
        else:
            self._desk_by_id[call.code].talking += 1
        self._enter(seat, "talk", int(self._rng.triangular(60, 300, 90)))

    def _callerid(self, call: _Call) -> str:
        """``VmddhhmmssLLLLLLLLLL`` (``Y`` for inbound): one month digit, as VICIdial prints."""
        when = self._local_datetime(call.placed)
        stamp = f"{when.month % 10}{when.day:02d}{when.hour:02d}{when.minute:02d}{when.second:02d}"
        return f"{'Y' if call.inbound else 'V'}{stamp}{call.lead_id % 10**10:010d}"

    def _phase_done(self, seat: _Seat) -> None:
        agent = seat.agent
        assert agent is not None
        phase = seat.phase
        if phase in ("login", "pause"):
            self._become_ready(seat)
        elif phase == "talk":
            call = seat.call
            assert call is not None
            seat.calls_today += 1
            agent.calls_today = seat.calls_today
            seat.log.calls += 1
            if call.inbound:
                self._line_by_id[call.code].talking -= 1
            else:
                self._desk_by_id[call.code].talking -= 1
            if self._rng.random() < DEAD_CALL_SHARE:
                agent.sub_status = "DEAD"
                stuck = self._rng.random() < STUCK_DEAD_SHARE
                seconds = self._rng.randint(120, 480) if stuck else self._rng.randint(2, 15)
                self._enter(seat, "dead", seconds)
            else:
                self._start_dispo(seat)
        elif phase == "dead":
            self._start_dispo(seat)
        elif phase == "dispo":
            self._finish_call(seat)

    def _start_dispo(self, seat: _Seat) -> None:
        agent = seat.agent
        assert agent is not None
        agent.status = "PAUSED" if seat.entry.dispo_paused else "READY"
        agent.sub_status = "DISPO"
        agent.callerid = ""
        self._enter(seat, "dispo", self._rng.randint(10, 45))

    def _finish_call(self, seat: _Seat) -> None:
        agent, call = seat.agent, seat.call
        assert agent is not None
        assert call is not None
        if call.stats is not None:
            history.restatus(call.stats, "INCALL", _pick(self._rng, _DISPO_CUM), call.hour)
        seat.call = None
        agent.lead_id = 0
        agent.sub_status = ""
        agent.pause_code = ""  # a new vicidial_agent_log row starts after each call
        agent.phone_number = agent.vendor_lead_code = ""
        if seat.leaving or not seat.shift.contains(self._sod):
            self._logout(seat)
        elif seat.pending is not None:
            self._take_pending(seat)
        elif self._rng.random() < MICRO_PAUSE_SHARE:
            self._pause(seat, "BREAK", self._rng.randint(60, 240))
        else:
            self._become_ready(seat)

    def _pause(self, seat: _Seat, code: str, seconds: int) -> None:
        agent = seat.agent
        assert agent is not None
        self._desk_by_id[seat.entry.campaign_id].ready.pop(seat.entry.user, None)
        agent.status = "PAUSED"
        agent.sub_status = ""
        agent.lead_id = 0
        agent.callerid = ""
        agent.pause_code = code
        seat.log.pauses += 1
        self._enter(seat, "pause", seconds)

    def _take_pending(self, seat: _Seat) -> None:
        pending = seat.pending
        assert pending is not None
        seat.pending = None
        self._pause(seat, pending.code, pending.seconds)

    def _become_ready(self, seat: _Seat) -> None:
        agent = seat.agent
        assert agent is not None
        if seat.leaving or not seat.shift.contains(self._sod):
            self._logout(seat)
            return
        if seat.pending is not None and self._sod - seat.pending.start >= PAUSE_GRACE:
            self._take_pending(seat)
            return
        agent.status = "READY"
        agent.sub_status = ""
        agent.lead_id = 0
        desk = self._desk_by_id[seat.entry.campaign_id]
        if desk.waiting:
            self._connect(seat, desk.waiting.popleft())
            return
        for line in desk.lines:
            for call in line.queue:
                if call.routable <= self._t:
                    line.queue.remove(call)
                    self._connect(seat, call)
                    return
        self._enter(seat, "ready", None)
        desk.ready[seat.entry.user] = seat

    def _check_shift(self, seat: _Seat) -> None:
        """Once a minute: log in or out with the shift, and notice breaks that are due."""
        sod, shift = self._sod, seat.shift
        on_shift = shift.contains(sod)
        if seat.agent is None:
            if on_shift:
                self._login(seat)
                self._enter(seat, "login", self._rng.randint(15, 90))
            return
        if not on_shift:
            if seat.phase in ("ready", "pause", "login"):
                self._logout(seat)
            else:
                seat.leaving = True
            return
        pauses = shift.pauses
        while seat.next_pause < len(pauses) and pauses[seat.next_pause].start <= sod:
            due = pauses[seat.next_pause]
            seat.next_pause += 1
            if due.start + due.seconds > sod:
                seat.pending = due
        # Agents start a break at the end of a call; one who has had no call for a while goes
        # from READY (which can orphan a call the dialer placed for them: a real source of drops).
        pending = seat.pending
        if pending is not None and seat.phase == "ready" and sod - pending.start >= PAUSE_GRACE:
            self._take_pending(seat)

    # ------------------------------------------------------------ the day
    def _day_shifts(self, day: date) -> list[Shift]:
        shifts = self._shifts.get(day)
        if shifts is None:
            shifts = [shift_for(self._seed, s.entry, day) for s in self._seats]
            self._shifts[day] = shifts
            while len(self._shifts) > 64:
                del self._shifts[next(iter(self._shifts))]
        return shifts

    def _day_plan(self, day: date) -> dict[str, DayShape]:
        """Synthetic statuses per hour for every campaign and in-group on ``day``."""
        plan = self._plans.get(day)
        if plan is not None:
            return plan
        shifts = self._day_shifts(day)
        staffing: dict[str, list[float]] = {d.campaign.campaign_id: [0.0] * 24 for d in self._desks}
        floor = [0.0] * 24
        for seat, shift in zip(self._seats, shifts, strict=True):
            for hour, present in enumerate(shift.active_hours()):
                staffing[seat.entry.campaign_id][hour] += present
                floor[hour] += present
        plan = {}
        for desk in self._desks:
            code, style = desk.campaign.campaign_id, desk.style
            rng = random.Random(f"day:{self._seed}:{code}:{day.isoformat()}")
            expected = [present * style.calls_per_agent_hour for present in staffing[code]]
            pool = None
            if style.lead_pool_share is not None:
                pool = int(sum(expected) * rng.uniform(*style.lead_pool_share))
            plan[code] = history.synthetic_day(
                rng,
                expected,
                human_rate=style.human_rate,
                machine_rate=style.machine_rate,
                drop_ratio=rng.uniform(*style.drop_range) / 100,
                lead_pool=pool,
            )
        busiest = max(floor) or 1.0
        for line in self._lines:
            code = line.group.group_id
            rng = random.Random(f"day:{self._seed}:{code}:{day.isoformat()}")
            served = any(line.desks)
            expected = [line.style.peak_per_hour * f / busiest if served else 0.0 for f in floor]
            plan[code] = history.synthetic_day(
                rng,
                expected,
                human_rate=1.0,
                machine_rate=0.0,
                drop_ratio=rng.uniform(*line.style.abandon_range) / 100,
                xdrop_share=0.3,
            )
        self._plans[day] = plan
        while len(self._plans) > 64:
            del self._plans[next(iter(self._plans))]
        return plan

    def _open_day(self, prefilled_until: int) -> None:
        """Start ``self._day``: counters hold the synthetic calls before ``prefilled_until``."""
        day = self._day
        plan = self._day_plan(day)
        for desk in self._desks:
            shape = plan[desk.campaign.campaign_id]
            desk.today = history.portion(shape, 0, prefilled_until)
            if shape.lead_pool is not None:
                desk.pool_left = max(0, shape.lead_pool - desk.today.calls)
            else:
                desk.pool_left = None
        for line in self._lines:
            shape = plan[line.group.group_id]
            line.today = history.portion(shape, 0, prefilled_until)
            line.arrival_chance = [sum(h.values()) / HOUR for h in shape.hours]
        for seat, shift in zip(self._seats, self._day_shifts(day), strict=True):
            seat.shift = shift
            seat.next_pause = 0
            seat.log = _fresh_log(seat.entry)
            seat.calls_today = 0
            if prefilled_until > 0:
                self._prefill_agent(seat, prefilled_until)
            if seat.agent is not None:
                seat.agent.calls_today = seat.calls_today
                seat.log.sessions = 1
                seat.log.first_login = self._local_datetime(self._t)

    def _prefill_agent(self, seat: _Seat, until: int) -> None:
        worked = seat.shift.login_seconds_between(0, until)
        if worked <= 0:
            return
        entry = seat.entry
        full = history.synthetic_agent_log(
            random.Random(f"agent:{self._seed}:{entry.user}:{self._day.isoformat()}"),
            user=entry.user,
            campaign_id=entry.campaign_id,
            day=self._day,
            shift=seat.shift,
            calls_per_active_hour=CONVERSATIONS_PER_AGENT_HOUR,
        )
        if full is None:
            return
        part = history.scaled_log(full, worked / seat.shift.login_seconds)
        part.sessions = sum(1 for start, _ in seat.shift.segments if start < until)
        seat.log = part
        seat.calls_today = part.calls

    def _roll_day(self, day_num: int) -> None:
        """Local midnight: today becomes history and every today counter starts from zero."""
        old = self._day
        for desk in self._desks:
            self._history[(desk.campaign.campaign_id, old)] = desk.today
        for line in self._lines:
            self._history[(line.group.group_id, old)] = line.today
        for seat in self._seats:
            self._flush(seat)
            if seat.log.login_sec > 0:
                self._log_history[(seat.entry.user, old)] = seat.log
        self._forget_old(old)
        self._day_num = day_num
        self._day = date.fromordinal(date(1970, 1, 1).toordinal() + day_num)
        self._open_day(prefilled_until=0)

    def _forget_old(self, today: date) -> None:
        horizon = today - timedelta(days=MAX_LOG_DAYS)
        for store in (self._history, self._log_history):
            for key in [k for k in store if k[1] < horizon]:
                del store[key]

    def _place_agents(self) -> None:
        """Put the agents on shift into plausible states, as if the floor had been running."""
        rng, sod = self._rng, self._sod
        for seat in self._seats:
            shift = seat.shift
            seat.next_pause = 0
            while (
                seat.next_pause < len(shift.pauses) and shift.pauses[seat.next_pause].start <= sod
            ):
                seat.next_pause += 1
            start = shift.segment_start(sod)
            if start is None:
                continue
            agent = self._login(seat)
            seat.log.sessions = max(1, seat.log.sessions - 1)
            current = [p for p in shift.pauses[: seat.next_pause] if p.start + p.seconds > sod]
            u = rng.random()
            if current:
                self._pause(seat, current[-1].code, current[-1].start + current[-1].seconds - sod)
            elif sod - start < 120:
                self._enter(seat, "login", rng.randint(15, 90))
            elif u < 0.77:
                desk = self._desk_by_id[seat.entry.campaign_id]
                call = self._call_in_progress(desk)
                if u < 0.62:
                    self._connect(seat, call)
                    seat.version += 1
                    heapq.heappush(
                        self._timers,
                        (self._t + rng.randint(5, 200), self._next_seq(), seat, seat.version),
                    )
                else:
                    agent.status, agent.lead_id, seat.call = "INCALL", call.lead_id, call
                    self._start_dispo(seat)
            elif u < 0.82:
                self._pause(seat, "BREAK", rng.randint(30, 300))
            else:
                self._become_ready(seat)

    def _call_in_progress(self, desk: _Desk) -> _Call:
        """A conversation that started before the model did, counted as ``INCALL`` now."""
        lead = self._new_lead(desk)
        call = _Call(
            code=desk.campaign.campaign_id,
            inbound=False,
            lead_id=lead.lead_id,
            phone_number=lead.phone_number,
            vendor_lead_code=lead.vendor_lead_code,
            placed=self._t - self._rng.randint(30, 200),
            human=True,
        )
        history.count(desk.today, "INCALL", self._hour)
        call.stats, call.hour = desk.today, self._hour
        return call

    def _jump(self, to_t: int) -> None:
        """Skip a long gap: settle calls, fill the counters synthetically, re-seat the floor."""
        for seat in self._seats:
            if seat.call is not None and seat.call.stats is not None:
                history.restatus(seat.call.stats, "INCALL", "NI", seat.call.hour)
            seat.call = None
        for desk in self._desks:
            for call in desk.waiting:
                self._drop(call)
            desk.waiting.clear()
            desk.ready.clear()
            desk.ringing = desk.talking = 0
        for line in self._lines:
            for call in line.queue:
                self._drop(call)
            line.queue.clear()
            line.talking = 0
        self._ringing.clear()
        self._timers.clear()
        for seat in self._seats:
            if seat.agent is not None:
                self._logout(seat)
        old_day, old_sod = self._day, self._sod
        self._t = to_t
        local = to_t + self._local_offset(to_t)
        day_num = local // DAY_SECONDS
        sod = local - day_num * DAY_SECONDS
        if day_num > self._day_num:
            plan = self._day_plan(old_day)
            for code, stats in self._today_stats().items():
                history.merge_into(stats, history.portion(plan[code], old_sod, DAY_SECONDS))
            self._roll_day(day_num)
            self._sod, self._hour = sod, sod // HOUR
            self._open_day(prefilled_until=sod)
        else:
            self._sod, self._hour = sod, sod // HOUR
            plan = self._day_plan(self._day)
            for code, stats in self._today_stats().items():
                extra = history.portion(plan[code], old_sod, sod)
                history.merge_into(stats, extra)
                dialer = self._desk_by_id.get(code)
                if dialer is not None and dialer.pool_left is not None:
                    dialer.pool_left = max(0, dialer.pool_left - extra.calls)
        self._place_agents()
        for desk in self._desks:
            self._refill(desk)

    def _today_stats(self) -> dict[str, DayStats]:
        stats = {d.campaign.campaign_id: d.today for d in self._desks}
        stats.update({line.group.group_id: line.today for line in self._lines})
        return stats

    def _sync_public(self) -> None:
        """Copy the live call counts into the public records the HTTP layer reads."""
        users = list(self.agents)
        if users != sorted(users):  # keep ``agents`` in user order, in place
            ordered = {user: self.agents[user] for user in sorted(users)}
            self.agents.clear()
            self.agents.update(ordered)
        for desk in self._desks:
            desk.campaign.calls_waiting = len(desk.waiting)
            desk.campaign.total_calls = desk.ringing + len(desk.waiting) + desk.talking
        for line in self._lines:
            line.group.calls_waiting = len(line.queue)
            line.group.total_calls = len(line.queue) + line.talking
            serving = {d.campaign.campaign_id for d in line.desks}
            line.group.agent_users = sorted(
                user for user, agent in self.agents.items() if agent.campaign_id in serving
            )
        for seat in self._seats:
            if seat.agent is not None:
                seat.agent.state_since = datetime.fromtimestamp(seat.since, UTC)

    # ------------------------------------------------------------ public API
    def day_stats(self, code: str, day: date) -> DayStats:
        """``call_status_stats`` figures for a campaign or in-group on a local day."""
        if code not in self._desk_by_id and code not in self._line_by_id:
            return DayStats()
        if day == self._day:
            return history.copy_stats(self._today_stats()[code])
        if day > self._day:
            return DayStats()
        stored = self._history.get((code, day))
        if stored is not None:
            return history.copy_stats(stored)
        return history.portion(self._day_plan(day)[code], 0, DAY_SECONDS)

    def hopper(self, campaign_id: str) -> list[HopperLead]:
        desk = self._desk_by_id.get(campaign_id)
        if desk is None:
            return []
        return [dataclasses.replace(lead, hopper_order=i) for i, lead in enumerate(desk.hopper)]

    def set_active(self, campaign_id: str, active: bool) -> None:
        """``update_campaign active=Y/N``: no new calls from the next tick; agents stay."""
        self.campaigns[campaign_id].active = active

    def steer(
        self,
        campaign_id: str,
        *,
        drop_ratio: float | None = None,
        answered_today: int | None = None,
        dropped_today: int | None = None,
        clear_drop_ratio: bool = False,
    ) -> None:
        """Force a drop probability and/or set today's answered and dropped counts."""
        desk = self._desk_by_id[campaign_id]
        if drop_ratio is not None:
            if not 0.0 <= drop_ratio <= 1.0:
                raise ValueError("drop_ratio must be between 0 and 1")
            desk.campaign.forced_drop_ratio = drop_ratio
        elif clear_drop_ratio:
            desk.campaign.forced_drop_ratio = None
        if answered_today is not None or dropped_today is not None:
            history.set_answered_and_drops(desk.today, answered_today, dropped_today, self._hour)

    def agent_day_logs(self, start: datetime, end: datetime) -> list[AgentDayLog]:
        """Per-agent totals for naive local [start, end), pro rata per day of work."""
        totals: dict[str, AgentDayLog] = {}
        day = start.date()
        last = min(end.date(), self._day)
        for _ in range(MAX_LOG_DAYS):
            if day > last:
                break
            midnight = datetime.combine(day, time())
            lo = max(0, int((start - midnight).total_seconds()))
            hi = min(DAY_SECONDS, int((end - midnight).total_seconds()))
            if hi > lo:
                for seat, shift in zip(self._seats, self._day_shifts(day), strict=True):
                    self._add_day_log(totals, seat, shift, day, lo, hi, start)
            day += timedelta(days=1)
        return [totals[user] for user in sorted(totals)]

    def _add_day_log(
        self,
        totals: dict[str, AgentDayLog],
        seat: _Seat,
        shift: Shift,
        day: date,
        lo: int,
        hi: int,
        start: datetime,
    ) -> None:
        entry = seat.entry
        until = DAY_SECONDS
        if day == self._day:
            self._flush(seat)
            log: AgentDayLog | None = seat.log
            until = self._sod
        else:
            log = self._log_history.get((entry.user, day))
            if log is None:
                log = history.synthetic_agent_log(
                    random.Random(f"agent:{self._seed}:{entry.user}:{day.isoformat()}"),
                    user=entry.user,
                    campaign_id=entry.campaign_id,
                    day=day,
                    shift=shift,
                    calls_per_active_hour=CONVERSATIONS_PER_AGENT_HOUR,
                )
        if log is None or log.login_sec <= 0:
            return
        worked = shift.login_seconds_between(0, until)
        if worked > 0:
            fraction = shift.login_seconds_between(lo, min(hi, until)) / worked
        else:
            fraction = 1.0 if lo == 0 and hi >= until else 0.0
        if fraction <= 0:
            return
        part = history.scaled_log(log, fraction)
        if part.first_login is not None and part.first_login < start:
            part.first_login = start
        total = totals.get(entry.user)
        if total is None:
            totals[entry.user] = part
        else:
            history.add_log(total, part)

    def state(self) -> dict[str, object]:
        """The whole floor as JSON-able data (``GET /_sim/state``)."""
        buckets_by_campaign = {code: dict.fromkeys(BUCKETS, 0) for code in self.campaigns}
        agents = []
        for user in sorted(self.agents):
            agent = self.agents[user]
            bucket = agent_bucket(agent)
            if agent.campaign_id in buckets_by_campaign:
                buckets_by_campaign[agent.campaign_id][bucket] += 1
            agents.append(
                {
                    "user": agent.user,
                    "name": agent.full_name,
                    "campaign": agent.campaign_id,
                    "status": agent.status,
                    "sub_status": agent.sub_status,
                    "pause_code": agent.pause_code,
                    "lead_id": agent.lead_id,
                    "calls_today": agent.calls_today,
                    "state": bucket,
                }
            )
        campaigns = []
        for desk in self._desks:
            c, today = desk.campaign, desk.today
            campaigns.append(
                {
                    "id": c.campaign_id,
                    "name": c.campaign_name,
                    "active": c.active,
                    "dial_method": c.dial_method,
                    "dial_level": c.dial_level,
                    "hopper_leads": len(desk.hopper),
                    "calls_today": today.calls,
                    "answered_today": today.human_answered,
                    "dropped_today": today.drops,
                    "drop_ratio": today.drops / today.human_answered
                    if today.human_answered
                    else 0.0,
                    "calls_waiting": c.calls_waiting,
                    "total_calls": c.total_calls,
                    "agents": buckets_by_campaign[c.campaign_id],
                }
            )
        ingroups = []
        for line in self._lines:
            group, today = line.group, line.today
            counts = dict.fromkeys(BUCKETS, 0)
            for user in group.agent_users:
                bucket = agent_bucket(self.agents[user])
                counts["incall" if bucket == "dead" else bucket] += 1  # no DEAD detection here
            ingroups.append(
                {
                    "id": group.group_id,
                    "total_calls": group.total_calls,
                    "calls_waiting": group.calls_waiting,
                    "calls_today": today.calls,
                    "answered_today": today.human_answered,
                    "dropped_today": today.drops,
                    "agents": counts,
                }
            )
        return {
            "now": self._now.isoformat(),
            "local_now": self.local_now.isoformat(timespec="seconds"),
            "local_date": self._day.isoformat(),
            "dst": self.dst,
            "campaigns": campaigns,
            "agents": agents,
            "ingroups": ingroups,
        }


__all__ = [
    "BUCKETS",
    "CATCH_UP_LIMIT",
    "World",
    "agent_bucket",
    "us_dst",
]
