"""Grading: the one place that sums windows, counts drops remaining and grades them.

Every reader (the TV page through the JSON API, ``/metrics``, and the alert engine) and the
poller use these functions, so a campaign can never be amber on the TV, green in Grafana and
silent in Slack at the same time. Pure: numbers in, numbers out, no clock, no I/O.

Definitions (VICIdial's own, API.md §8): the drop ratio is ``(DROP + XDROP) / human-answered``
where human-answered already includes the drops; ``drops_remaining`` is how many more drops the
window can take before reaching the legal ``limit`` at the current answered count.

A window may weigh its drops (``drop_weight``, 1 for every figure but the UK's): Ofcom's
calendar-day rate counts each drop only by the share of agent-answered calls that were people,
not machines, and divides by agent-answered people plus those adjusted drops
(:mod:`wallboard.windows.ofcom`). With a weight of 1 every formula here is VICIdial's own.

Severity looks one drop ahead: a campaign at 2.28 % with one drop left is not "ok" just
because the ratio is below ``warn_at``. The next drop would take it to ``(dropped + 1) /
(answered + 1)``; if that reaches ``warn_at``, the floor needs to know now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

#: Keeps 0.03 * 100 (= 3.0000000000000004) from flooring to 3 by luck, and 0.07 * 100
#: (= 7.000000000000001) from flooring wrong the other way.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class DropWindow:
    """Calls, human answers and drops over one window (a day, 30 days, a period).

    ``answered`` includes the drops (VICIdial's human-answered). ``drop_weight`` is what one
    drop counts for (1 except in UK Ofcom mode, where it is 1 - the agent-answered machine
    share); ``days`` how many dialer days the window holds figures for.
    """

    calls: int = 0
    answered: int = 0
    dropped: int = 0
    days: int = 1
    drop_weight: float = 1.0

    @property
    def weighted_drops(self) -> float:
        """The drops as the ratio counts them (fractional in UK Ofcom mode)."""
        return self.dropped * self.drop_weight

    @property
    def denominator(self) -> float:
        """Answered people that were not dropped, plus the weighted drops."""
        return self.answered - self.dropped + self.weighted_drops

    @property
    def drop_ratio(self) -> float:
        """VICIdial's ``drops_answers_today_pct`` as a ratio: drops / human-answered (with
        weighted drops over the adjusted denominator in UK Ofcom mode)."""
        if self.drop_weight == 1.0:
            return self.dropped / self.answered if self.answered else 0.0
        denominator = self.denominator
        return self.weighted_drops / denominator if denominator > 0 else 0.0

    def drops_remaining(self, limit: float) -> int:
        """Drops this window can still take before reaching ``limit`` (never below 0)."""
        return drops_remaining(self, limit)


class Severity(StrEnum):
    """How close a window is to the limit, as the daemon grades it (never the page)."""

    INSUFFICIENT = "insufficient"  # fewer than min_answered human answers: no verdict
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The ratios a window is graded against (``[alerts]``, per campaign in a later issue)."""

    limit: float = 0.03
    warn_at: float = 0.025
    critical_at: float = 0.028
    min_answered: int = 50


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """One window as readers show it: the counts, the ratio, the headroom and the grade."""

    calls: int
    answered: int
    dropped: int
    ratio: float
    drops_remaining: int
    severity: Severity
    days: int


def drops_remaining(window: DropWindow, limit: float) -> int:
    """``floor(limit × answered) − dropped``, never below 0.

    Weighted (UK Ofcom), at the same fixed answered count ``A``: ``D`` drops of weight ``w``
    give ``D·w / (A − D + D·w)``, which stays within ``limit`` while
    ``D ≤ limit·A / (w + limit·(1 − w))``; with ``w = 1`` that is ``limit·A`` again. A weight
    of 0 (every agent-answered call a machine) is counted as 1, the cautious reading.
    """
    weight = window.drop_weight
    if weight == 1.0 or weight <= _EPSILON:
        allowed = int(limit * window.answered + _EPSILON)
        return max(0, allowed - window.dropped)
    allowed_drops = limit * window.answered / (weight + limit * (1.0 - weight))
    return max(0, int(allowed_drops + _EPSILON) - window.dropped)


def severity(window: DropWindow, thresholds: Thresholds) -> Severity:
    """Grade ``window``: insufficient, critical, warning (now or after one more drop), ok."""
    if window.answered < thresholds.min_answered:
        return Severity.INSUFFICIENT
    if window.drop_ratio + _EPSILON >= thresholds.critical_at:
        return Severity.CRITICAL
    if window.drop_ratio + _EPSILON >= thresholds.warn_at:
        return Severity.WARNING
    one_more = DropWindow(
        answered=window.answered + 1, dropped=window.dropped + 1, drop_weight=window.drop_weight
    ).drop_ratio
    if one_more + _EPSILON >= thresholds.warn_at:
        return Severity.WARNING
    return Severity.OK


def figures(window: DropWindow, thresholds: Thresholds) -> WindowFigures:
    """Everything a reader shows about ``window``, computed once."""
    return WindowFigures(
        calls=window.calls,
        answered=window.answered,
        dropped=window.dropped,
        ratio=window.drop_ratio,
        drops_remaining=drops_remaining(window, thresholds.limit),
        severity=severity(window, thresholds),
        days=window.days,
    )


def total(windows: Iterable[DropWindow]) -> DropWindow:
    """The sum of several unweighted windows (days into 30 days; campaigns into a group).
    Weighted windows are pooled from their counts instead (:mod:`wallboard.windows.ofcom`)."""
    calls = answered = dropped = days = 0
    for window in windows:
        calls += window.calls
        answered += window.answered
        dropped += window.dropped
        days += window.days
    return DropWindow(calls=calls, answered=answered, dropped=dropped, days=days)


def rolling(today: DropWindow, past: DropWindow | None) -> DropWindow:
    """A rolling window: the stored past days plus today's live counts.

    ``past`` is ``None`` (no past day stored yet) for a new install: the window is then today
    alone, and its ``days`` says so, so nobody mistakes one day for thirty.
    """
    return total((today, past)) if past is not None else today


def past_days_by_campaign(
    days: Iterable[tuple[str, DropWindow]],
) -> dict[str, DropWindow]:
    """Sum stored day totals (``(campaign_id, one day's window)``) per campaign."""
    sums: dict[str, list[DropWindow]] = {}
    for campaign_id, window in days:
        sums.setdefault(campaign_id, []).append(window)
    return {campaign_id: total(windows) for campaign_id, windows in sums.items()}


def grade_all(
    windows: Mapping[str, DropWindow], thresholds: Thresholds
) -> dict[str, WindowFigures]:
    """:func:`figures` for each named window (``today``, ``30d``, ...)."""
    return {name: figures(window, thresholds) for name, window in windows.items()}
