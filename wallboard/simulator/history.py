"""What a dialer day looks like in numbers, for days (or parts of days) the model did not tick.

The daemon's 30-day window asks ``call_status_stats`` for past days, and a simulator started at
15:00 must show a real afternoon at once. Ticking weeks of calls one second at a time would be
slow, so those figures are drawn here instead: per local hour, call volume follows staffing and
is split into statuses with the same outcome mix the live model uses (``OUTCOME_MIX``), with a
drop ratio chosen per (campaign, day). Everything takes an explicit ``random.Random`` so the
caller decides the seeding (``(seed, code, day)`` for history).

Status vocabulary follows VICIdial's defaults: ``human_answered='Y'`` for the sales
dispositions, ``INCALL`` (a call still with an agent) and ``DROP``/``XDROP``; ``NA``, ``B``,
``DC``, ``A`` and ``AA`` are not human.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from wallboard.simulator.roster import HOUR, Shift, apportion_counts
from wallboard.simulator.types import AgentDayLog, DayStats

HUMAN_STATUSES = frozenset(
    {"SALE", "NI", "CALLBK", "DNC", "NP", "DEC", "XFER", "INCALL", "DROP", "XDROP"}
)
DROP_STATUSES = ("DROP", "XDROP")
# What agents pick after a conversation, and how often.
DISPO_MIX: tuple[tuple[str, float], ...] = (
    ("SALE", 0.10),
    ("NI", 0.40),
    ("CALLBK", 0.12),
    ("DNC", 0.04),
    ("NP", 0.14),
    ("DEC", 0.20),
)
MACHINE_MIX: tuple[tuple[str, float], ...] = (("AA", 0.55), ("A", 0.45))
# Calls that reach neither a human nor a machine.
UNANSWERED_MIX: tuple[tuple[str, float], ...] = (("NA", 0.6), ("B", 0.25), ("DC", 0.15))

# Agent time per handled call (seconds), shared with the live model's distributions.
TALK_MEAN = 150.0
DISPO_MEAN = 27.5
DEAD_SHARE = 0.05
DEAD_MEAN = 8.5


def stochastic_round(rng: random.Random, value: float) -> int:
    """Round so that the expected result equals ``value`` (keeps small rates unbiased)."""
    if value <= 0:
        return 0
    whole = int(value)
    return whole + (1 if rng.random() < value - whole else 0)


def _apportion_random(rng: random.Random, total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` by ``weights``: floors, then the remainder drawn by weight."""
    weight_sum = sum(weights)
    parts = [int(total * w / weight_sum) for w in weights]
    for _ in range(total - sum(parts)):
        parts[rng.choices(range(len(weights)), weights=weights)[0]] += 1
    return parts


def _add(counts: dict[str, int], mix: Sequence[tuple[str, float]], parts: Sequence[int]) -> None:
    for (status, _), n in zip(mix, parts, strict=True):
        if n:
            counts[status] = counts.get(status, 0) + n


def split_calls(
    rng: random.Random,
    calls: int,
    *,
    human_rate: float,
    machine_rate: float,
    drop_ratio: float,
    xdrop_share: float = 0.0,
) -> dict[str, int]:
    """Statuses for ``calls`` finished calls with the given outcome rates."""
    if calls <= 0:
        return {}
    if human_rate >= 1.0:  # inbound: every call reached a person
        human = calls
    else:
        human = min(calls, stochastic_round(rng, calls * human_rate * rng.uniform(0.9, 1.1)))
    machine = min(
        calls - human, stochastic_round(rng, calls * machine_rate * rng.uniform(0.9, 1.1))
    )
    drops = min(human, stochastic_round(rng, human * drop_ratio * rng.uniform(0.7, 1.3)))
    xdrops = min(drops, stochastic_round(rng, drops * xdrop_share))
    counts: dict[str, int] = {}
    _add(counts, (("DROP", 1.0), ("XDROP", 1.0)), (drops - xdrops, xdrops))
    _add(counts, DISPO_MIX, _apportion_random(rng, human - drops, [w for _, w in DISPO_MIX]))
    _add(counts, MACHINE_MIX, _apportion_random(rng, machine, [w for _, w in MACHINE_MIX]))
    rest = calls - human - machine
    _add(counts, UNANSWERED_MIX, _apportion_random(rng, rest, [w for _, w in UNANSWERED_MIX]))
    return counts


@dataclass(frozen=True)
class DayShape:
    """A synthetic day: statuses per local hour, and the lead pool it was drawn against."""

    hours: tuple[dict[str, int], ...]
    lead_pool: int | None = None


def synthetic_day(
    rng: random.Random,
    expected_calls: Sequence[float],
    *,
    human_rate: float,
    machine_rate: float,
    drop_ratio: float,
    xdrop_share: float = 0.0,
    lead_pool: int | None = None,
) -> DayShape:
    """Per-hour statuses around ``expected_calls``; dialing stops once ``lead_pool`` is used."""
    hours: list[dict[str, int]] = []
    left = lead_pool
    for expected in expected_calls:
        calls = stochastic_round(rng, expected * rng.lognormvariate(0.0, 0.08))
        if left is not None:
            calls = min(calls, left)
            left -= calls
        hours.append(
            split_calls(
                rng,
                calls,
                human_rate=human_rate,
                machine_rate=machine_rate,
                drop_ratio=drop_ratio,
                xdrop_share=xdrop_share,
            )
        )
    return DayShape(hours=tuple(hours), lead_pool=lead_pool)


def count(stats: DayStats, status: str, hour: int, n: int = 1) -> None:
    """Add ``n`` finished calls with ``status`` in local ``hour``."""
    stats.calls += n
    stats.hourly[hour] += n
    stats.statuses[status] = stats.statuses.get(status, 0) + n
    if status in HUMAN_STATUSES:
        stats.human_answered += n


def restatus(stats: DayStats, old: str, new: str, hour: int) -> None:
    """Move one call from ``old`` to ``new`` (an agent's disposition replacing ``INCALL``).

    If ``old`` is no longer there (``steer`` rewrote the counters meanwhile) the call is counted
    afresh, so the sums stay consistent.
    """
    if stats.statuses.get(old, 0) <= 0:
        count(stats, new, hour)
        return
    stats.statuses[old] -= 1
    if stats.statuses[old] == 0:
        del stats.statuses[old]
    stats.statuses[new] = stats.statuses.get(new, 0) + 1
    stats.human_answered += (new in HUMAN_STATUSES) - (old in HUMAN_STATUSES)


def portion(shape: DayShape, start: int, end: int) -> DayStats:
    """The calls of ``shape`` that finished in [start, end) local seconds (pro rata per hour)."""
    stats = DayStats()
    for hour, counts in enumerate(shape.hours):
        overlap = max(0, min(end, (hour + 1) * HOUR) - max(start, hour * HOUR))
        if overlap <= 0:
            continue
        for status, n in counts.items():
            part = n * overlap // HOUR
            if part:
                count(stats, status, hour, part)
    return stats


def merge_into(target: DayStats, extra: DayStats) -> None:
    """Add ``extra``'s calls to ``target``."""
    target.calls += extra.calls
    target.human_answered += extra.human_answered
    for hour, n in enumerate(extra.hourly):
        target.hourly[hour] += n
    for status, n in extra.statuses.items():
        target.statuses[status] = target.statuses.get(status, 0) + n


def copy_stats(stats: DayStats) -> DayStats:
    return DayStats(
        calls=stats.calls,
        human_answered=stats.human_answered,
        hourly=list(stats.hourly),
        statuses=dict(stats.statuses),
    )


def rescale(values: Sequence[int], total: int) -> list[int]:
    """``values`` scaled to sum to ``total``, keeping their proportions (largest remainder)."""
    if sum(values) <= 0:
        return [total] + [0] * (len(values) - 1) if values else []
    return apportion_counts(total, [float(v) for v in values])


def set_answered_and_drops(
    stats: DayStats, answered: int | None, dropped: int | None, hour: int
) -> None:
    """Rewrite today's human-answered and drop counts (``steer``), keeping every sum consistent.

    Drops become ``DROP``; the other human statuses are scaled to ``answered - dropped``;
    machine and unanswered statuses are kept, so calls = those + ``answered``. The hourly
    shape is scaled to the new total (any growth lands in ``hour``).
    """
    if answered is None:
        answered = stats.human_answered
    if dropped is None:
        dropped = min(stats.drops, answered)
    if answered < 0 or dropped < 0 or dropped > answered:
        raise ValueError("need 0 <= dropped_today <= answered_today")
    kept = {s: n for s, n in stats.statuses.items() if s not in HUMAN_STATUSES}
    talked = [(s, n) for s, n in stats.statuses.items() if s in HUMAN_STATUSES]
    talked = [(s, n) for s, n in talked if s not in DROP_STATUSES] or [("NI", 0)]
    scaled = rescale([n for _, n in talked], answered - dropped)
    for (status, _), n in zip(talked, scaled, strict=True):
        if n:
            kept[status] = n
    if dropped:
        kept["DROP"] = dropped
    calls = sum(kept.values())
    if calls >= stats.calls:
        stats.hourly[hour] += calls - stats.calls
    else:
        stats.hourly = rescale(stats.hourly, calls)
    stats.statuses = kept
    stats.calls = calls
    stats.human_answered = answered


def synthetic_agent_log(
    rng: random.Random,
    *,
    user: str,
    campaign_id: str,
    day: date,
    shift: Shift,
    calls_per_active_hour: float,
) -> AgentDayLog | None:
    """A plausible ``vicidial_agent_log`` day for an agent who worked ``shift``."""
    login = shift.login_seconds
    if login <= 0:
        return None
    pauses = len(shift.pauses) + 1 + stochastic_round(rng, login / HOUR * 0.3)
    pause = sum(p.seconds for p in shift.pauses) + rng.randint(20, 90)
    pause += int(login * rng.uniform(0.01, 0.03))
    pause = min(pause, login)
    active = login - pause
    calls = stochastic_round(rng, active / HOUR * calls_per_active_hour * rng.uniform(0.85, 1.15))
    talk = int(calls * TALK_MEAN * rng.uniform(0.9, 1.1))
    dead = int(calls * DEAD_SHARE * DEAD_MEAN * rng.uniform(0.6, 1.4))
    dispo = int(calls * DISPO_MEAN * rng.uniform(0.85, 1.15))
    busy = min(active, talk + dead + dispo)
    if busy < talk + dead + dispo:  # a short shift: scale the parts down to fit
        factor = busy / (talk + dead + dispo)
        talk, dead, dispo = int(talk * factor), int(dead * factor), int(dispo * factor)
    return AgentDayLog(
        user=user,
        campaign_id=campaign_id,
        calls=calls,
        login_sec=login,
        talk_sec=talk,
        wait_sec=active - talk - dead - dispo,
        pause_sec=pause,
        dispo_sec=dispo,
        dead_sec=dead,
        sessions=len(shift.segments),
        pauses=pauses,
        first_login=datetime.combine(day, time()) + timedelta(seconds=shift.segments[0][0]),
    )


def scaled_log(log: AgentDayLog, fraction: float) -> AgentDayLog:
    """``log`` pro rata, for the part of a day a time window covers."""
    fraction = min(1.0, max(0.0, fraction))
    return AgentDayLog(
        user=log.user,
        campaign_id=log.campaign_id,
        calls=round(log.calls * fraction),
        login_sec=round(log.login_sec * fraction),
        talk_sec=round(log.talk_sec * fraction),
        wait_sec=round(log.wait_sec * fraction),
        pause_sec=round(log.pause_sec * fraction),
        dispo_sec=round(log.dispo_sec * fraction),
        dead_sec=round(log.dead_sec * fraction),
        sessions=log.sessions,
        pauses=round(log.pauses * fraction),
        first_login=log.first_login,
    )


def add_log(total: AgentDayLog, part: AgentDayLog) -> None:
    """Accumulate ``part`` into ``total`` (sessions add up; the earliest login wins)."""
    total.calls += part.calls
    total.login_sec += part.login_sec
    total.talk_sec += part.talk_sec
    total.wait_sec += part.wait_sec
    total.pause_sec += part.pause_sec
    total.dispo_sec += part.dispo_sec
    total.dead_sec += part.dead_sec
    total.sessions += part.sessions
    total.pauses += part.pauses
    if part.first_login is not None and (
        total.first_login is None or part.first_login < total.first_login
    ):
        total.first_login = part.first_login


__all__ = [
    "DISPO_MIX",
    "DROP_STATUSES",
    "HUMAN_STATUSES",
    "MACHINE_MIX",
    "UNANSWERED_MIX",
    "DayShape",
    "add_log",
    "copy_stats",
    "count",
    "merge_into",
    "portion",
    "rescale",
    "restatus",
    "scaled_log",
    "set_answered_and_drops",
    "split_calls",
    "stochastic_round",
    "synthetic_agent_log",
    "synthetic_day",
]
