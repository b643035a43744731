"""Today's drop ratio over the day, a point every few minutes: the TV's sparkline.

A number says where a campaign is; a line says where it is going. The poller records each
campaign's (and group's) today counters at most once per :data:`STEP` of dialer time, from the
good ``call_status_stats`` answers it already has, and the snapshot carries the points, so the
page draws the trend without a request of its own and the snapshot changes at most once per
step for it. A quiet floor adds no point (the ratio did not move; the page runs the line flat
from the last point to now), so a static dialer changes nothing. At VICIdial's midnight the line
starts again, like today's counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from wallboard.windows.grading import DropWindow

#: Seconds of dialer time between two points: 288 points for a whole day at most.
STEP = 300


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """Today's counters at ``second`` (seconds since the dialer's midnight)."""

    second: int
    answered: int
    dropped: int

    @property
    def ratio(self) -> float:
        return self.dropped / self.answered if self.answered else 0.0


class TrendTracker:
    """Each target's points for one dialer day."""

    def __init__(self, step: int = STEP) -> None:
        self._step = step
        self._day: date | None = None
        self._points: dict[str, list[TrendPoint]] = {}

    def observe(self, day: date, second: int, counters: Mapping[str, DropWindow]) -> bool:
        """Record the counters if a step has passed since each target's last point (or it
        has none); returns whether anything was added (so the caller saves only then)."""
        if day != self._day:
            self._day = day
            self._points = {}
        added = False
        for target, window in counters.items():
            points = self._points.setdefault(target, [])
            if points and second - points[-1].second < self._step:
                continue
            if points and (window.answered, window.dropped) == (
                points[-1].answered,
                points[-1].dropped,
            ):
                continue  # nothing happened: the line runs flat from its last point to now
            points.append(TrendPoint(second, window.answered, window.dropped))
            added = True
        return added

    def points(self, target: str) -> tuple[TrendPoint, ...]:
        return tuple(self._points.get(target, ()))

    def dump(self) -> dict[str, Any]:
        return {
            "day": self._day.isoformat() if self._day else None,
            "points": {
                target: [[p.second, p.answered, p.dropped] for p in points]
                for target, points in self._points.items()
            },
        }

    def load(self, document: object) -> None:
        """Restore :meth:`dump`'s output; ``ValueError`` on anything malformed."""
        try:
            if not isinstance(document, Mapping):
                raise TypeError("not an object")
            day = date.fromisoformat(document["day"]) if document.get("day") else None
            stored = document["points"]
            if not isinstance(stored, Mapping):
                raise TypeError("points is not an object")
            points = {
                str(target): [TrendPoint(int(s), int(a), int(d)) for s, a, d in rows]
                for target, rows in stored.items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"bad trend points: {error}") from None
        for rows in points.values():
            seconds = [p.second for p in rows]
            if seconds != sorted(set(seconds)) or any(
                min(p.second, p.answered, p.dropped) < 0 or p.dropped > p.answered for p in rows
            ):
                raise ValueError("bad trend points: out of order or impossible counts")
        self._day = day
        self._points = points
