"""Where today's drop ratio is heading: the projection to the end of the shift, and when each
threshold would be crossed at the current pace.

"At this pace" is the last hour's observed answers and drops per second (the ``1h`` pacing
window, at least :data:`MIN_BASIS` of it observed), carried forward from today's counts::

    ratio(t) = (dropped + drops_per_s x t) / (answered + answered_per_s x t)

A threshold ``θ`` is crossed at ``t = (θ x answered - dropped) / (drops_per_s - θ x
answered_per_s)`` when that is positive and before the horizon (the end of the shift, else the
dialer's midnight): with the drops growing slower than ``θ`` of the answers the ratio drifts
towards ``drops_per_s / answered_per_s`` and never gets there. Pure: every instant is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wallboard.windows.grading import DropWindow, Thresholds

#: The least observed pace a forecast is made from: a few minutes of calls is noise.
MIN_BASIS = 15 * 60.0

_EPSILON = 1e-12


@dataclass(frozen=True, slots=True)
class Crossing:
    """When ``ratio`` (the threshold called ``name``) is reached at the current pace.

    ``at`` is ``None`` when it is not reached before the horizon, or when ``already`` (today's
    ratio is at or above it now: there is no crossing ahead to time).
    """

    name: str  # "warn", "critical", "limit"
    ratio: float
    at: datetime | None
    already: bool = False


@dataclass(frozen=True, slots=True)
class Forecast:
    """Today's ratio projected to ``horizon`` at the pace of the last ``basis_seconds``."""

    horizon: datetime
    ratio_at_horizon: float
    answered_per_hour: float
    drops_per_hour: float
    #: Not content (see ``ExtraWindow.span_seconds``): the rates and crossings are.
    basis_seconds: float = field(compare=False)
    crossings: tuple[Crossing, ...] = ()

    def crossing(self, name: str) -> Crossing | None:
        for crossing in self.crossings:
            if crossing.name == name:
                return crossing
        return None


def forecast(
    today: DropWindow,
    pace: DropWindow,
    basis_seconds: float,
    now: datetime,
    horizon: datetime,
    thresholds: Thresholds,
    *,
    min_basis: float = MIN_BASIS,
) -> Forecast | None:
    """The forecast, or ``None`` when there is too little pace to go on or the shift is over."""
    if basis_seconds < min_basis or horizon <= now or pace.answered < 0 or pace.dropped < 0:
        return None
    answered_rate = pace.answered / basis_seconds
    drop_rate = pace.dropped / basis_seconds
    remaining = (horizon - now).total_seconds()
    end_answered = today.answered + answered_rate * remaining
    end_dropped = today.dropped + drop_rate * remaining
    ratio_at_horizon = end_dropped / end_answered if end_answered > 0 else 0.0
    crossings = tuple(
        _crossing(name, ratio, today, answered_rate, drop_rate, now, remaining)
        for name, ratio in (
            ("warn", thresholds.warn_at),
            ("critical", thresholds.critical_at),
            ("limit", thresholds.limit),
        )
    )
    return Forecast(
        horizon=horizon,
        ratio_at_horizon=ratio_at_horizon,
        answered_per_hour=answered_rate * 3600,
        drops_per_hour=drop_rate * 3600,
        basis_seconds=basis_seconds,
        crossings=crossings,
    )


def _crossing(
    name: str,
    threshold: float,
    today: DropWindow,
    answered_rate: float,
    drop_rate: float,
    now: datetime,
    remaining: float,
) -> Crossing:
    if today.answered > 0 and today.drop_ratio + 1e-9 >= threshold:
        return Crossing(name, threshold, None, already=True)  # no instant: not news each poll
    gap = threshold * today.answered - today.dropped  # drops short of the threshold, now
    closing = drop_rate - threshold * answered_rate  # how fast that gap closes, per second
    if closing <= _EPSILON:
        return Crossing(name, threshold, None)
    seconds = gap / closing
    if seconds > remaining:
        return Crossing(name, threshold, None)
    return Crossing(name, threshold, now + timedelta(seconds=max(0.0, seconds)))
