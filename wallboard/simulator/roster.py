"""Who and what is on the simulated floor: campaign styles, lead rows, agents and their shifts.

A wallboard is only convincing if the floor fills up in the morning, thins out over lunch and
empties in the evening, and if each campaign dials in its own way. This module holds that fixed
setup. The roster is fixed per seed (names, campaign, shift kind); each agent's shift on a
given local day comes from its own ``Random(seed, user, day)``. That makes shifts reproducible
for *any* day without simulating it, so the live model (which logs agents in and out) and the
synthetic history (which turns staffing into call volume) agree on who worked when.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from wallboard.simulator.types import HopperLead

DAY_SECONDS = 86_400
HOUR = 3_600
# Agents handle about this many conversations per hour of non-paused time (talk ~150 s,
# wrap-up ~27 s, a short wait); it turns staffing into call volume for synthetic figures.
CONVERSATIONS_PER_AGENT_HOUR = 15.0

_FIRST_NAMES = (
    "Jane", "John", "Ann", "Bo", "Maria", "Wei", "Aisha", "Liam", "Olivia", "Noah",
    "Emma", "Lucas", "Mia", "Ethan", "Sofia", "Mason", "Chloe", "Diego", "Grace", "Omar",
    "Hannah", "Ravi", "Zoe", "Caleb", "Lena", "Isaac", "Nora", "Tariq", "Ruby", "Felix",
)  # fmt: skip
_LAST_NAMES = (
    "Doe", "Roe", "Poe", "Loe", "Garcia", "Chen", "Khan", "Smith", "Johnson", "Brown",
    "Miller", "Davis", "Lopez", "Wilson", "Moore", "Taylor", "Clark", "Lewis", "Walker", "Young",
    "King", "Wright", "Hill", "Scott", "Green", "Adams", "Baker", "Nelson", "Carter", "Perez",
)  # fmt: skip
# One name outside ASCII so every layer (CSV, HTML, SSE, Slack) is exercised with UTF-8.
_NON_ASCII_NAME = "José Núñez"
_NON_ASCII_INDEX = 3

# Shift kinds and their share of the roster: most work days, some cover the evening, a few the
# night, so the floor is busy 08-20 local and nearly empty outside.
SHIFT_KINDS: tuple[tuple[str, float], ...] = (("day", 0.7), ("late", 0.2), ("night", 0.1))
ABSENCE_RATE = 0.04


@dataclass(frozen=True)
class RosterEntry:
    """One agent's fixed identity: a ``vicidial_users`` row plus the campaign they log into."""

    index: int
    user: str
    full_name: str
    campaign_id: str
    session_id: str
    shift_kind: str
    # Agents who disposition while PAUSED (pause-after-each-call) versus READY.
    dispo_paused: bool


@dataclass(frozen=True)
class ScheduledPause:
    """A planned break: taken at the first idle moment after ``start`` (local second of day)."""

    start: int
    seconds: int
    code: str


@dataclass(frozen=True)
class Shift:
    """One agent's logged-in time on one local day, as [start, end) seconds of the day."""

    segments: tuple[tuple[int, int], ...]
    pauses: tuple[ScheduledPause, ...]

    def contains(self, second: int) -> bool:
        return any(start <= second < end for start, end in self.segments)

    def segment_start(self, second: int) -> int | None:
        """Start of the segment covering ``second``, or None when off shift."""
        for start, end in self.segments:
            if start <= second < end:
                return start
        return None

    @property
    def login_seconds(self) -> int:
        return sum(end - start for start, end in self.segments)

    def login_seconds_between(self, start: int, end: int) -> int:
        """Logged-in seconds of this shift inside [start, end)."""
        return sum(max(0, min(end, b) - max(start, a)) for a, b in self.segments)

    def active_hours(self) -> list[float]:
        """Per local hour, hours logged in and not on a scheduled pause (staffing for volume)."""
        hours = [0.0] * 24
        for hour in range(24):
            lo, hi = hour * HOUR, (hour + 1) * HOUR
            busy = self.login_seconds_between(lo, hi)
            for pause in self.pauses:
                busy -= max(0, min(hi, pause.start + pause.seconds) - max(lo, pause.start))
            hours[hour] = max(0, busy) / HOUR
        return hours


def _full_name(index: int) -> str:
    if index == _NON_ASCII_INDEX:
        return _NON_ASCII_NAME
    first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
    last = _LAST_NAMES[(index // len(_FIRST_NAMES) + 7 * index) % len(_LAST_NAMES)]
    return f"{first} {last}"


def apportion_counts(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def build_roster(
    seed: int, campaign_ids: Sequence[str], campaign_weights: Sequence[float], agents: int
) -> list[RosterEntry]:
    """Assign ``agents`` users to campaigns (by weight) and to shift kinds, reproducibly."""
    rng = random.Random(f"roster:{seed}")
    per_campaign = apportion_counts(agents, campaign_weights)
    # Every campaign gets at least one agent when there are enough to go round.
    for i, count in enumerate(per_campaign):
        if count == 0 and agents >= len(campaign_ids):
            donor = max(range(len(per_campaign)), key=lambda j: per_campaign[j])
            per_campaign[donor] -= 1
            per_campaign[i] = 1
    kinds = [
        kind
        for kind, count in zip(
            (k for k, _ in SHIFT_KINDS),
            apportion_counts(agents, [share for _, share in SHIFT_KINDS]),
            strict=True,
        )
        for _ in range(count)
    ]
    rng.shuffle(kinds)
    entries: list[RosterEntry] = []
    index = 0
    for campaign_id, count in zip(campaign_ids, per_campaign, strict=True):
        for _ in range(count):
            entries.append(
                RosterEntry(
                    index=index,
                    user=str(1001 + index),
                    full_name=_full_name(index),
                    campaign_id=campaign_id,
                    session_id=str(8600051 + index),
                    shift_kind=kinds[index],
                    dispo_paused=rng.random() < 0.8,
                )
            )
            index += 1
    return entries


def _minute(rng: random.Random, lo_hours: float, hi_hours: float) -> int:
    """A random time between two hours of the day, on a whole minute."""
    return int(rng.uniform(lo_hours, hi_hours) * 60) * 60


def shift_for(seed: int, entry: RosterEntry, day: date) -> Shift:
    """The shift ``entry`` works on local ``day``; the same for every call with these inputs."""
    rng = random.Random(f"shift:{seed}:{entry.user}:{day.isoformat()}")
    if rng.random() < ABSENCE_RATE:
        return Shift(segments=(), pauses=())
    pauses: list[ScheduledPause] = []

    def add_break(start: int) -> None:
        pauses.append(ScheduledPause(start, rng.randint(10, 15) * 60, "BREAK"))

    if entry.shift_kind == "night":
        early_end = _minute(rng, 4.0, 6.5)
        late_start = _minute(rng, 20.0, 22.0)
        segments: tuple[tuple[int, int], ...] = ((0, early_end), (late_start, DAY_SECONDS))
        add_break(_minute(rng, 1.5, 3.0))
        add_break(late_start + _minute(rng, 0.75, 1.25))
    else:
        if entry.shift_kind == "day":
            start = _minute(rng, 7.5, 9.0)
            end = start + _minute(rng, 8.5, 10.5)
            lunch = _minute(rng, 11.5, 13.5)
        else:  # late
            start = _minute(rng, 10.5, 12.5)
            end = min(start + _minute(rng, 8.5, 9.5), 23 * HOUR + 30 * 60)
            lunch = start + _minute(rng, 4.0, 5.0)
        segments = ((start, end),)
        add_break(start + _minute(rng, 1.75, 2.5))
        pauses.append(ScheduledPause(lunch, rng.randint(30, 60) * 60, "LUNCH"))
        add_break(end - _minute(rng, 1.5, 2.5))
        if rng.random() < 0.25:
            train = _minute(rng, start / HOUR + 3.0, max(start / HOUR + 3.0, end / HOUR - 3.0))
            pauses.append(ScheduledPause(train, rng.randint(15, 30) * 60, "TRAIN"))
    return Shift(segments=segments, pauses=tuple(sorted(pauses, key=lambda p: p.start)))


AREAS = (  # area code, state, standard GMT offset; numbers use fictional 555
    ("212", "NY", -5.0),
    ("305", "FL", -5.0),
    ("404", "GA", -5.0),
    ("617", "MA", -5.0),
    ("312", "IL", -6.0),
    ("214", "TX", -6.0),
    ("303", "CO", -7.0),
    ("602", "AZ", -7.0),
    ("213", "CA", -8.0),
    ("206", "WA", -8.0),
)
_LEAD_STATUSES = (("NEW", 55), ("NA", 25), ("B", 8), ("A", 12))


@dataclass(frozen=True)
class CampaignStyle:
    """How one kind of campaign dials and what its calls turn into."""

    dial_method: str
    dial_level: float
    max_level: float
    hopper_level: int
    human_rate: float
    machine_rate: float
    agent_weight: float
    drop_range: tuple[float, float]  # percent, for synthetic days
    # Adaptive pacing stops raising the level above this share of the drop limit, so SALES1
    # lives just under 3 % while the others settle lower.
    drop_target: float = 0.8
    closer_campaigns: tuple[str, ...] = ()
    # A limited lead list: the share of a day's expected calls it can feed (then it runs dry).
    lead_pool_share: tuple[float, float] | None = None

    @property
    def calls_per_agent_hour(self) -> float:
        return CONVERSATIONS_PER_AGENT_HOUR / self.human_rate


# SALES1 busy and hard-limited near 3 %, SALES2 fixed RATIO, SALES3 tapered and blended with
# inbound, SALES4 average with a small hopper and a lead list that runs out; more campaigns
# cycle through these.
STYLES = (
    CampaignStyle(
        dial_method="ADAPT_HARD_LIMIT",
        dial_level=2.5,
        max_level=3.0,
        hopper_level=200,
        human_rate=0.20,
        machine_rate=0.22,
        agent_weight=0.40,
        drop_range=(2.2, 2.7),
        drop_target=0.85,
        closer_campaigns=("SALESLINE",),
    ),
    CampaignStyle(
        dial_method="RATIO",
        dial_level=2.0,
        max_level=2.0,
        hopper_level=100,
        human_rate=0.12,
        machine_rate=0.25,
        agent_weight=0.20,
        drop_range=(1.0, 2.4),
    ),
    CampaignStyle(
        dial_method="ADAPT_TAPERED",
        dial_level=2.2,
        max_level=3.0,
        hopper_level=150,
        human_rate=0.22,
        machine_rate=0.20,
        agent_weight=0.25,
        drop_range=(0.8, 2.4),
        drop_target=0.55,
        closer_campaigns=("SUPPORT",),
    ),
    CampaignStyle(
        dial_method="ADAPT_AVERAGE",
        dial_level=1.8,
        max_level=2.5,
        hopper_level=25,
        human_rate=0.16,
        machine_rate=0.24,
        agent_weight=0.15,
        drop_range=(0.5, 1.8),
        drop_target=0.5,
        lead_pool_share=(0.45, 0.7),
    ),
)


@dataclass(frozen=True)
class InGroupStyle:
    """An inbound line: a trickle of callers that blended campaigns' agents answer."""

    group_id: str
    peak_per_hour: float
    abandon_range: tuple[float, float]  # percent of calls dropped (caller gave up / overflow)


INGROUP_STYLES = (
    InGroupStyle("SALESLINE", 14.0, (2.0, 6.0)),
    InGroupStyle("SUPPORT", 9.0, (3.0, 8.0)),
)


def make_lead(lead_id: int, list_id: int, *, dst: bool) -> HopperLead:
    """A plausible ``vicidial_hopper`` row; its details hash from the lead id (no RNG use)."""
    h = (lead_id * 2_654_435_761) & 0xFFFFFFFF
    area, state, gmt = AREAS[h % len(AREAS)]
    if dst and state != "AZ":
        gmt += 1
    pick, status = (h >> 16) % 100, "NEW"
    for name, share in _LEAD_STATUSES:
        if pick < share:
            status = name
            break
        pick -= share
    called = 0 if status == "NEW" else 1 + (h >> 20) % 6
    return HopperLead(
        hopper_order=0,
        priority=0,
        lead_id=lead_id,
        list_id=list_id + (h >> 24) % 2,
        phone_number=f"{area}555{(h >> 8) % 10_000:04d}",
        phone_code="1",
        state=state,
        status=status,
        count=called,
        gmt_offset=f"{gmt:.2f}",
        rank=0,
        alt="",
        hopper_source="S",
        vendor_lead_code=f"{lead_id % 10_000_000:07d}",
        source_id=f"A{(h >> 4) % 1000:03d}",
        age_days=1 + (h >> 12) % 400,
        last_call_time="" if called == 0 else f"{1 + (h >> 6) % 30} DAYS",
    )


__all__ = [
    "AREAS",
    "CONVERSATIONS_PER_AGENT_HOUR",
    "DAY_SECONDS",
    "HOUR",
    "INGROUP_STYLES",
    "STYLES",
    "CampaignStyle",
    "InGroupStyle",
    "RosterEntry",
    "ScheduledPause",
    "Shift",
    "apportion_counts",
    "build_roster",
    "make_lead",
    "shift_for",
]
