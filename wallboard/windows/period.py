"""Day-based windows: the rolling 30 days and the regulatory period, as of any dialer day.

The US rule (FTC Telemarketing Sales Rule, 16 CFR 310.4(b)(4)(i)) measures abandoned calls
"per day per calling campaign" or over "a 30-day period or such part thereof that the campaign
continues", which is read as successive 30-day periods from the campaign's start: day 1-30,
31-60, ... The rolling window (the last 30 days) is what most dashboards show; the period is
what an auditor computes. Both are sums of stored day totals (plus today's live counts for the
current day), so they are pure functions of ``{day: DropWindow}``.

A day with no stored row is missing, not zero: ``days`` counts the days that have figures, so a
window with a hole says so instead of passing for a full one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from wallboard.windows.grading import DropWindow, total
from wallboard.windows.names import PERIOD_DAYS


def period_start(anchor: date, day: date, length: int = PERIOD_DAYS) -> date | None:
    """The first day of the period ``day`` falls in, periods being ``length`` days from
    ``anchor`` on (``None`` before the anchor: no period has begun)."""
    if day < anchor:
        return None
    return anchor + timedelta(days=((day - anchor).days // length) * length)


def sum_days(days: Mapping[date, DropWindow], first: date, last: date) -> DropWindow:
    """The days from ``first`` to ``last`` inclusive that have figures, summed (``days`` is
    how many had figures: 0 when none did)."""
    present = [window for day, window in days.items() if first <= day <= last]
    if not present:
        return DropWindow(days=0)
    return total(present)


def rolling_as_of(
    days: Mapping[date, DropWindow], day: date, length: int = PERIOD_DAYS
) -> DropWindow:
    """The rolling window ending with ``day``: ``day`` and the ``length - 1`` days before."""
    return sum_days(days, day - timedelta(days=length - 1), day)


def period_as_of(
    days: Mapping[date, DropWindow], anchor: date, day: date, length: int = PERIOD_DAYS
) -> tuple[date, DropWindow] | None:
    """The period window as of ``day`` (its first day, and the days from there to ``day``
    summed), or ``None`` before ``anchor``."""
    first = period_start(anchor, day, length)
    if first is None:
        return None
    return first, sum_days(days, first, day)


def pooled_days(members: Sequence[Mapping[date, DropWindow]]) -> dict[date, DropWindow]:
    """A drop-rate group's days: the members' sums, for the days *every* member has figures
    for (a day missing for one member is missing for the group, never a smaller sum)."""
    if not members:
        return {}
    pooled: dict[date, DropWindow] = {}
    for day in sorted(set(members[0]).intersection(*members[1:])):
        summed = total(member[day] for member in members)
        pooled[day] = DropWindow(summed.calls, summed.answered, summed.dropped, days=1)
    return pooled


def first_active_day(days: Iterable[tuple[date, DropWindow]]) -> date | None:
    """The first day that had any call: a campaign's start when no ``period_start`` is
    configured (days stored as zeros before the campaign dialed do not count)."""
    active = [day for day, window in days if window.calls > 0]
    return min(active, default=None)
