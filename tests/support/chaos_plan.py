"""The soak's schedule: what goes wrong, where and when, drawn from a seed. Pure: no I/O, no clock.

A soak is only worth its figures if it can be repeated, so every random choice (which fault,
on which function, when the leader dies) comes from one ``random.Random(seed)`` and the
schedule is plain data: times in seconds from the start of the chaos. The runner
(:mod:`tests.support.chaos`) carries it out; the verdict (:mod:`tests.support.chaos_verdict`)
reads the same plan to know what had to be seen.

The daemon's own clock runs at real speed, so the schedule is built around its timing
(:class:`Timing`), which the config cannot make arbitrarily short: poll intervals are at least
5 s (a source is stale after three of them, 15 s), ``vicidial.login_retry`` at least 30 s and
``vicidial.lock_retry`` at least 15 minutes. So a login error is followed by a blackout of one
probe period (the bench waits it out and checks the recovery), and ``LOCK`` comes last (its
probe is 15 minutes away: the run checks that nothing is sent meanwhile and that every screen
says so). The simulator runs ``speed`` times faster than the wall clock, so the dialer day
moves on through the drop story while the daemon polls at its real cadence.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

T = TypeVar("T")

#: The sources the poller polls, as VICIdial function names (``version`` is not a floor source).
FLOOR_FUNCTIONS = (
    "logged_in_agents",
    "call_status_stats",
    "campaigns_list",
    "hopper_list",
    "in_group_status",
)
POLLED_FUNCTIONS = ("version", *FLOOR_FUNCTIONS)
#: Request-level failures (``POST /_sim/faults`` kinds) that a poll meets and survives.
REQUEST_KINDS = (
    "timeout",
    "http_500",
    "html",
    "garbage",
    "truncated",
    "truncated_row",
    "no_newline",
    "endless",
    "error",
    "reset",
    "slow",
)
#: The kinds that refuse the login: they stop every authenticated request for a probe period.
LOGIN_KINDS = ("login", "lock")
ALL_KINDS = REQUEST_KINDS + LOGIN_KINDS

CAMPAIGNS = ("SALES1", "SALES2", "SALES3", "SALES4")
INGROUPS = ("SALESLINE", "SUPPORT")
#: The campaign ``[alerts.auto_pause]`` lists (``dry_run = false``); the story's other one is not.
PAUSED_CAMPAIGN = "SALES1"
STORY_CAMPAIGNS = ("SALES1", "SALES2")
CALM_CAMPAIGNS = ("SALES3", "SALES4")

SlackKind = Literal["ratelimited", "server_error", "drop", "hang"]
Phase = Literal["calm", "warning", "critical", "recovered"]


@dataclass(frozen=True)
class Timing:
    """The daemon's timing as configured for the soak (seconds), and the thresholds.

    Each value is the shortest the config accepts or close to it (``wallboard/config.py``):
    intervals ≥ 5 s, ``login_retry`` ≥ 30 s, ``lock_retry`` ≥ 15 min, ``repeat`` ≥ 1 min,
    ``stale_after`` > the longest interval plus jitter, ``timeout`` < the shortest interval.
    """

    interval: float = 5.0  # every poll.*_interval
    jitter: float = 1.0
    timeout: float = 2.0  # vicidial.timeout: no retry inside a poll (retry_budget → 0)
    login_retry: float = 30.0
    lock_retry: float = 900.0
    lock_ttl: float = 3.0  # cache.lock_ttl: how long a dead leader's lock outlives it
    stale_after: float = 8.0  # alerts.stale_after (the data_stale incident)
    pending: float = 2.0  # alerts.pending (and the auto-pause's hold)
    repeat: float = 60.0
    #: Recovery may take one poll interval after the fault clears, plus this: the client's
    #: timeout of a request still in flight, and scheduling on a loaded two-core machine.
    tolerance: float = 5.0
    warn_at: float = 0.025
    critical_at: float = 0.028
    limit: float = 0.03
    pause_at: float = 0.029
    clear_margin: float = 0.002
    min_answered: int = 50

    @property
    def stale_threshold(self) -> float:
        """A source is stale after three intervals without a good answer (snapshot.py)."""
        return 3 * self.interval

    @property
    def stale_tolerance(self) -> float:
        """How long after a source stops answering every screen must say stale: the
        threshold plus one poll (the last good answer may be up to a poll old)."""
        return self.stale_threshold + self.interval

    @property
    def recovery_bound(self) -> float:
        """A cleared fault is answered well by the next poll: one interval plus tolerance."""
        return self.interval + self.tolerance

    @property
    def login_recovery_bound(self) -> float:
        """After a login error the breaker probes once per ``login_retry``."""
        return self.login_retry + self.tolerance

    def story_ratio(self, phase: Phase) -> float:
        """Today's drop ratio the story holds a campaign at in each phase."""
        return {
            "calm": self.warn_at - self.clear_margin - 0.008,  # 1.5 %
            "warning": (self.warn_at + self.critical_at) / 2,  # 2.65 %
            "critical": (self.pause_at + self.limit) / 2,  # 2.95 %: over the auto-pause line
            "recovered": self.warn_at - self.clear_margin - 0.005,  # 1.8 %
        }[phase]


@dataclass(frozen=True)
class Blip:
    """The next ``times`` requests of ``function`` (``*``: any) fail as ``kind``."""

    at: float
    function: str
    kind: str
    times: int = 1


@dataclass(frozen=True)
class Window:
    """Every request of ``function`` fails as ``kind`` from ``start`` to ``end``."""

    start: float
    end: float
    function: str
    kind: str


@dataclass(frozen=True)
class LoginFault:
    """One login refusal (``login``: wrong password, ``lock``: VICIdial's LOCK) at ``at``.

    ``recover``: the run lasts beyond the next probe, so the recovery is checked; otherwise
    only that nothing was sent and that every surface said so until the end.
    """

    at: float
    kind: str
    recover: bool


@dataclass(frozen=True)
class LeaderKill:
    """``kill -9`` the leader at ``at``; start it again ``restart_after`` seconds later."""

    at: float
    restart_after: float


@dataclass(frozen=True)
class RedisRestart:
    """``redis-server`` killed at ``at`` and started again (same port, same AOF) after ``down``."""

    at: float
    down: float


@dataclass(frozen=True)
class SlackFault:
    """The stand-in's next ``count`` requests fail as ``kind`` (429s say ``retry_after``), if
    they come within ``lasts`` seconds: a real Slack fails for a while, not for the next N
    calls whenever they come (faults left waiting would meet the outbox's backoff one by
    one, a minute apart)."""

    at: float
    kind: SlackKind
    count: int = 1
    retry_after: int = 1
    lasts: float = 10.0


@dataclass(frozen=True)
class SlackOutage:
    """Slack refuses connections from ``start`` to ``end``."""

    start: float
    end: float


@dataclass(frozen=True)
class StoryPhase:
    """``campaign``'s drop ratio today is held at ``ratio`` from ``start`` to ``end``."""

    campaign: str
    start: float
    end: float
    phase: Phase
    ratio: float


@dataclass(frozen=True)
class Reactivation:
    """An operator sets ``campaign`` active again (a pause is never undone by the daemon)."""

    at: float
    campaign: str


@dataclass(frozen=True)
class SoakScale:
    """How big a soak is: the bench's five minutes, or the test suite's half minute."""

    name: str
    seconds: float  # wall time of the chaos
    speed: float  # simulated seconds per real second
    windows: int
    window_seconds: float
    blip_gap: float
    leader_kills: int
    redis_restarts: int
    redis_down: float
    slack_outage: float
    slack_outage_at: float  # share of the run before the outage begins
    slack_faults: int
    slack_faults_span: tuple[float, float]  # shares of the run the Slack faults fall in
    story_cycle: float
    login_recovery: bool  # a login error whose probe period fits in the run
    end_fault: str  # "lock" or "login": the refusal the run ends with
    end_hold: float  # seconds the run goes on after it
    wildcard_window: bool  # one window fails every function at once

    @property
    def dialer_seconds(self) -> float:
        return self.seconds * self.speed


def bench_scale(minutes: float = 5.0) -> SoakScale:
    """The bench: ``minutes`` of wall time at speed 8 (five minutes are 40 dialer minutes)."""
    seconds = minutes * 60.0
    return SoakScale(
        name="bench",
        seconds=seconds,
        speed=8.0,
        windows=max(2, round(5 * minutes / 5)),
        window_seconds=26.0,
        blip_gap=3.0,
        leader_kills=max(2, round(3 * minutes / 5)),
        redis_restarts=max(1, round(2 * minutes / 5)),
        redis_down=4.0,
        slack_outage=120.0,
        slack_outage_at=0.12,
        slack_faults=max(4, round(10 * minutes / 5)),
        slack_faults_span=(0.0, 0.9),
        story_cycle=100.0,
        login_recovery=True,
        end_fault="lock",
        end_hold=30.0,
        wildcard_window=True,
    )


#: The test suite's soak: the same kinds of trouble, once each, in about half a minute.
SHORT = SoakScale(
    name="short",
    seconds=34.0,
    speed=8.0,
    windows=1,
    window_seconds=25.0,
    blip_gap=2.0,
    leader_kills=1,
    redis_restarts=1,
    redis_down=2.0,
    slack_outage=8.0,  # the bench's 2 minutes, scaled down
    slack_outage_at=0.45,  # after the first messages: their updates wait for Slack
    slack_faults=3,
    # One of each, queued before the first incidents are posted (a fault waits for traffic)
    # and forgotten when the outage begins: after it, several meeting the outbox in a row
    # would stretch its backoff (2 s doubling to 60 s) past the test's drain.
    slack_faults_span=(0.15, 0.15),
    story_cycle=34.0,
    login_recovery=False,
    end_fault="login",
    end_hold=5.0,
    wildcard_window=False,
)


@dataclass(frozen=True)
class SoakPlan:
    """Everything the soak does, in seconds from the start of the chaos."""

    seed: int
    scale: SoakScale
    timing: Timing
    blips: tuple[Blip, ...] = ()
    windows: tuple[Window, ...] = ()
    logins: tuple[LoginFault, ...] = ()
    kills: tuple[LeaderKill, ...] = ()
    redis: tuple[RedisRestart, ...] = ()
    slack_faults: tuple[SlackFault, ...] = ()
    slack_outages: tuple[SlackOutage, ...] = ()
    story: tuple[StoryPhase, ...] = ()
    reactivations: tuple[Reactivation, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def seconds(self) -> float:
        return self.scale.seconds

    def ratio_at(self, campaign: str, at: float) -> float | None:
        """The story's ratio for ``campaign`` at ``at`` (None: not steered then)."""
        for phase in self.story:
            if phase.campaign == campaign and phase.start <= at < phase.end:
                return phase.ratio
        return None

    def blackouts(self) -> list[tuple[float, float]]:
        """When the login breaker keeps every authenticated request back (planned)."""
        spans = []
        for login in self.logins:
            wait = self.timing.lock_retry if login.kind == "lock" else self.timing.login_retry
            spans.append((login.at, min(self.seconds, login.at + wait + self.timing.tolerance)))
        return spans


def make_plan(scale: SoakScale, seed: int, timing: Timing | None = None) -> SoakPlan:
    """Draw a schedule for ``scale`` from ``seed`` (the same seed gives the same plan)."""
    timing = timing or Timing()
    rng = random.Random(f"soak:{scale.name}:{seed}")
    total = scale.seconds
    story, reactivations = _story(scale, timing)
    end_at = total - scale.end_hold
    logins = [LoginFault(end_at, scale.end_fault, recover=False)]
    blackout: tuple[float, float] | None = None
    if scale.login_recovery:
        at = round(total * 0.45, 1)
        logins.insert(0, LoginFault(at, "login", recover=True))
        blackout = (at, at + timing.login_retry + timing.tolerance)
    protected = _first_critical(story)
    windows = _windows(scale, rng, end_at, blackout, protected)
    blips = _blips(scale, rng, end_at, blackout, windows, protected)
    blips = _every_function(blips, windows, protected)
    kills = _spread(
        rng, scale.leader_kills - (blackout is not None), total, end_at,
        lambda at: LeaderKill(at, 0.5), phase=0.55,
    )  # fmt: skip
    if blackout is not None:  # the breaker must survive the leader: no early probe
        kills = [_outside(kill, blackout) for kill in kills]
        kills.append(LeaderKill(blackout[0] + 12.0, 0.5))
    kills.sort(key=lambda kill: kill.at)
    redis = _spread(
        rng, scale.redis_restarts, total, end_at, lambda at: RedisRestart(at, scale.redis_down),
        phase=1.1,
    )  # fmt: skip
    redis = [_away_from(r, kills) for r in redis]
    outage_start = round(total * scale.slack_outage_at, 1)
    outage = SlackOutage(outage_start, outage_start + scale.slack_outage)
    slack = _slack_faults(scale, rng, outage, end_at)
    return SoakPlan(
        seed=seed,
        scale=scale,
        timing=timing,
        blips=tuple(blips),
        windows=tuple(windows),
        logins=tuple(logins),
        kills=tuple(kills),
        redis=tuple(redis),
        slack_faults=tuple(slack),
        slack_outages=(outage,),
        story=tuple(story),
        reactivations=tuple(reactivations),
    )


def _story(scale: SoakScale, timing: Timing) -> tuple[list[StoryPhase], list[Reactivation]]:
    """Each story campaign: calm, warning, critical (over the auto-pause line), recovered;
    again every ``story_cycle`` seconds. The second campaign runs a little later, so the two
    incidents interleave in Slack. The paused campaign is re-activated at each new cycle."""
    shares: tuple[tuple[Phase, float], ...] = (
        ("calm", 0.1),
        ("warning", 0.28),
        ("critical", 0.3),
        ("recovered", 0.32),
    )
    phases: list[StoryPhase] = []
    reactivations: list[Reactivation] = []
    cycle = scale.story_cycle
    for index, campaign in enumerate(STORY_CAMPAIGNS):
        start = 0.0 if scale.seconds <= cycle else index * cycle * 0.4
        first = True
        while start < scale.seconds:
            if campaign == PAUSED_CAMPAIGN and not first:
                reactivations.append(Reactivation(start, campaign))
            at = start
            for phase, share in shares:
                end = min(scale.seconds, at + cycle * share)
                if end > at:
                    phases.append(StoryPhase(campaign, at, end, phase, timing.story_ratio(phase)))
                at = end
            start += cycle
            first = False
    return phases, reactivations


def _first_critical(story: list[StoryPhase]) -> tuple[float, float]:
    """The paused campaign's first warning and critical phases: the drop data must flow then,
    or the run might never show a warning posted, escalated in place and auto-paused."""
    warning = [p for p in story if p.campaign == PAUSED_CAMPAIGN and p.phase == "warning"]
    critical = [p for p in story if p.campaign == PAUSED_CAMPAIGN and p.phase == "critical"]
    if not warning or not critical:
        return 0.0, 0.0
    return warning[0].start, critical[0].end


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _windows(
    scale: SoakScale,
    rng: random.Random,
    end_at: float,
    blackout: tuple[float, float] | None,
    protected: tuple[float, float],
) -> list[Window]:
    """Long failures, one at a time, outside the login blackout; the stats source (and the
    wildcard) never during the paused campaign's first critical phase."""
    gap = 6.0
    segments = [(2.0, end_at - 2.0)]
    if blackout is not None:
        segments = [(2.0, blackout[0] - gap), (blackout[1] + gap, end_at - 2.0)]
    slots: list[tuple[float, float]] = []
    length = scale.window_seconds
    for first, last in segments:
        at = first
        while at + length <= last:
            slots.append((at, at + length))
            at += length + gap
    chosen = sorted(rng.sample(slots, min(scale.windows, len(slots))))
    # Not ``truncated_row``: a whole-row cut of logged_in_agents or a hopper is a shorter but
    # well-formed answer no parser can tell from the truth (the fault's own docstring says
    # so), so it cannot make a source stale; it is a short fault instead.
    kinds = [kind for kind in REQUEST_KINDS if kind != "truncated_row"]
    rng.shuffle(kinds)
    windows: list[Window] = []
    wildcard_left = scale.wildcard_window
    for index, (start, end) in enumerate(chosen):
        stats_allowed = not _overlaps((start, end), protected)
        if wildcard_left and stats_allowed:
            function = "*"
            wildcard_left = False
        else:
            choices = [f for f in FLOOR_FUNCTIONS if stats_allowed or f != "call_status_stats"]
            function = rng.choice(choices)
        windows.append(Window(start, end, function, kinds[index % len(kinds)]))
    return windows


def _blips(
    scale: SoakScale,
    rng: random.Random,
    end_at: float,
    blackout: tuple[float, float] | None,
    windows: list[Window],
    protected: tuple[float, float],
) -> list[Blip]:
    """Short faults every ``blip_gap`` seconds or so, every request kind in turn (reshuffled
    each round, so each kind appears), each on a random polled function or on ``*``. None
    inside a wildcard window or the login blackout, none on a function failing already, none
    on the drop figures (stats or ``*``) while the first story plays."""
    blips: list[Blip] = []
    kinds: list[str] = []
    functions: list[str] = []
    at = 1.0
    while at < end_at - 1.0:
        # A long fault's source gets its recovery time in peace before the next fault.
        busy = [w for w in windows if w.start - 1.0 <= at <= w.end + 10.0]
        blocked = blackout is not None and blackout[0] - 1.0 <= at <= blackout[1]
        if not blocked and not any(w.function == "*" for w in busy):
            if not kinds:
                kinds = list(REQUEST_KINDS)
                rng.shuffle(kinds)
            allowed = [f for f in (*POLLED_FUNCTIONS, "*") if f not in {w.function for w in busy}]
            if busy:
                allowed = [f for f in allowed if f != "*"]
            if protected[0] - 1.0 <= at <= protected[1]:
                allowed = [f for f in allowed if f not in ("*", "call_status_stats")]
            # The functions in turn (reshuffled each round): a source meets its next fault
            # several faults later, after it had the time to recover from this one.
            if not any(f in allowed for f in functions):
                functions = list(allowed)
                rng.shuffle(functions)
            function = next(f for f in functions if f in allowed)
            functions.remove(function)
            times = 2 if rng.random() < 0.2 else 1
            blips.append(Blip(round(at, 2), function, kinds.pop(), times))
        at += scale.blip_gap * rng.uniform(0.6, 1.4)
    return blips


def _every_function(
    blips: list[Blip], windows: list[Window], protected: tuple[float, float]
) -> list[Blip]:
    """Each polled function gets a fault of its own: one without a long fault gets a short one,
    which takes the
    place of a fault on the most-hit function (or on ``*``), where the rules allow it (never
    inside or just after a long fault on the same function, never on the stats while the
    first story plays)."""
    blips = list(blips)
    for function in POLLED_FUNCTIONS:
        if any(b.function == function for b in blips) or any(
            w.function == function for w in windows
        ):
            continue
        counts = {f: sum(b.function == f for b in blips) for f in {b.function for b in blips}}
        for index in sorted(range(len(blips)), key=lambda i: -counts[blips[i].function]):
            blip = blips[index]
            guarded = protected[0] - 1.0 <= blip.at <= protected[1]
            windowed = any(
                w.function in ("*", function) and w.start - 1.0 <= blip.at <= w.end + 10.0
                for w in windows
            )
            if (
                counts[blip.function] > 1
                and not windowed
                and not (guarded and function == "call_status_stats")
            ):
                blips[index] = Blip(blip.at, function, blip.kind, blip.times)
                break
    return blips


def _spread(
    rng: random.Random,
    count: int,
    total: float,
    end_at: float,
    make: Callable[[float], T],
    *,
    phase: float = 1.0,
) -> list[T]:
    """``count`` events spread evenly over the run (with a little jitter), before ``end_at``."""
    events = []
    for index in range(count):
        at = total * (index + phase) / (count + 1)
        at += rng.uniform(-0.04, 0.04) * total
        events.append(make(round(min(max(at, 3.0), end_at - 4.0), 1)))
    return events


def _outside(kill: LeaderKill, blackout: tuple[float, float]) -> LeaderKill:
    """A kill near the login blackout moves after it: the one kill inside is placed apart."""
    if blackout[0] - 10.0 <= kill.at <= blackout[1] + 10.0:
        return LeaderKill(blackout[1] + 12.0, kill.restart_after)
    return kill


def _away_from(restart: RedisRestart, kills: list[LeaderKill]) -> RedisRestart:
    """Keep a Redis restart and a leader kill apart, so each recovery is timed on its own."""
    at = restart.at
    for kill in kills:
        if abs(kill.at - at) < 8.0:
            at = kill.at + 8.0
    return RedisRestart(at, restart.down)


def _slack_faults(
    scale: SoakScale, rng: random.Random, outage: SlackOutage, end_at: float
) -> list[SlackFault]:
    """429s (with ``Retry-After``), 500s and lost answers outside the outage, one at a time,
    each for up to 10 s; the bench also gets a request Slack never answers (the client's 10 s
    timeout). A span of no width (the short run) queues one of each at once, waiting for the
    first incidents' messages until the outage begins."""
    kinds: list[SlackKind] = ["ratelimited", "server_error", "drop"]
    if scale.login_recovery:
        kinds.append("hang")
    first, last = (scale.seconds * share for share in scale.slack_faults_span)
    if first == last:
        lasts = max(1.0, outage.start - 0.5 - first)
        return [SlackFault(round(first, 1), kind, 1, retry_after=1, lasts=lasts) for kind in kinds]
    lasts = 10.0
    spaced: list[float] = []
    for candidate in sorted(rng.uniform(max(1.0, first), min(end_at, last)) for _ in range(200)):
        if outage.start - lasts - 1.0 <= candidate <= outage.end + 1.0:
            continue
        if spaced and candidate < spaced[-1] + lasts:
            continue  # one fault at a time: the next one begins when this one has ended
        spaced.append(candidate)
    times = sorted(rng.sample(spaced, min(scale.slack_faults, len(spaced))))
    faults = []
    for index, at in enumerate(times):
        kind = kinds[index % len(kinds)]
        count = rng.randint(1, 3) if kind in ("ratelimited", "server_error") else 1
        faults.append(
            SlackFault(round(at, 1), kind, count, retry_after=rng.randint(1, 3), lasts=lasts)
        )
    return faults


def describe(plan: SoakPlan) -> list[str]:
    """The plan in a few lines, for the bench's output."""
    scale = plan.scale
    kinds = sorted({b.kind for b in plan.blips} | {w.kind for w in plan.windows})
    return [
        f"seed {plan.seed}: {scale.seconds:.0f} s of chaos at speed {scale.speed:g} "
        f"({scale.dialer_seconds / 60:.0f} dialer minutes)",
        f"  {len(plan.blips)} short faults, {len(plan.windows)} long ones "
        f"({', '.join(f'{w.function} {w.kind} {w.start:.0f}-{w.end:.0f}s' for w in plan.windows)})",
        f"  request kinds planned: {', '.join(kinds)}",
        f"  login refusals: {', '.join(f'{x.kind} at {x.at:.0f}s' for x in plan.logins)}",
        f"  leader kills at {', '.join(f'{k.at:.0f}s' for k in plan.kills)}; Redis restarts at "
        f"{', '.join(f'{r.at:.0f}s ({r.down:g}s down)' for r in plan.redis)}",
        f"  Slack outage {plan.slack_outages[0].start:.0f}-{plan.slack_outages[0].end:.0f}s; "
        f"{', '.join(f'{f.kind}x{f.count} at {f.at:.0f}s' for f in plan.slack_faults)}",
    ]
