"""Per-source health: last success, last error, and how soon a failing source is retried.

Logged on transitions only (STYLE.md): one ERROR when a source starts failing, one INFO when
it recovers, never a line per failed poll. A source that fails is retried on a short backoff
(the first retry within the shortest poll interval, doubling, capped at its own interval) so
a dialer blip at start-up never leaves ``version`` or the hoppers unknown for 10 minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from wallboard.snapshot import SourceStatus

log = logging.getLogger(__name__)


class SourceHealth:
    """The :class:`SourceStatus` of every source, updated after each poll."""

    def __init__(self, intervals: Mapping[str, float], *, shortest: float) -> None:
        self._statuses = {
            name: SourceStatus(function=name, interval=interval)
            for name, interval in intervals.items()
        }
        self._failures = dict.fromkeys(intervals, 0)
        self._shortest = shortest

    def __contains__(self, name: str) -> bool:
        return name in self._statuses

    def statuses(self) -> tuple[SourceStatus, ...]:
        return tuple(self._statuses.values())

    def get(self, name: str) -> SourceStatus:
        return self._statuses[name]

    def set_interval(self, name: str, interval: float) -> None:
        """The effective interval changed (the budget stretched a slow source)."""
        self._statuses[name] = replace(self._statuses[name], interval=interval)

    def success(self, name: str, now: datetime, *, last_success: datetime | None = None) -> None:
        """``last_success`` overrides ``now`` for composite sources (the oldest hopper)."""
        status = self._statuses[name]
        if not status.ok and status.last_error is not None:
            log.info("%s: recovered", name)
        self._failures[name] = 0
        self._statuses[name] = replace(
            status,
            ok=True,
            last_success=last_success or now,
            last_error=None,
            error_kind=None,
            failing_since=None,
        )

    def set_last_success(self, name: str, moment: datetime | None) -> None:
        """The age of a composite source (the oldest hopper count), without changing ``ok``."""
        self._statuses[name] = replace(self._statuses[name], last_success=moment)

    def failure(self, name: str, kind: str, message: str, now: datetime) -> None:
        status = self._statuses[name]
        if status.failing_since is None or status.error_kind != kind:
            log.error("%s: failing (%s): %s; keeping the last good data", name, kind, message)
        self._failures[name] += 1
        self._statuses[name] = replace(
            status,
            ok=False,
            last_error=message,
            error_kind=kind,
            failing_since=status.failing_since or now,
        )

    def blocked(self, name: str, kind: str, message: str, now: datetime) -> None:
        """Not polled on purpose (login breaker open): an error, but no retry backoff."""
        status = self._statuses[name]
        self._statuses[name] = replace(
            status,
            ok=False,
            last_error=message,
            error_kind=kind,
            failing_since=status.failing_since or now,
        )

    def retry_delay(self, name: str, interval: float) -> float | None:
        """Seconds until a failing source's retry (None: it is not failing)."""
        failures = self._failures[name]
        if failures == 0:
            return None
        first = self._shortest / 2
        # Capped exponent: a dialer down all night must not overflow the float.
        return float(min(interval, first * 2.0 ** min(failures - 1, 32)))
