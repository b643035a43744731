"""VICIdial's day: midnight to midnight in the dialer's time zone, not ours.

"Today" in every VICIdial figure starts at the dialer server's local midnight (API.md §8.1).
The zone comes from, in order: ``vicidial.timezone`` (an IANA name, right across DST changes),
``vicidial.utc_offset`` (fixed hours), or the ``TZNOW`` offset of the ``version`` answer
(which already includes DST). Until one of them is known the offset is 0 and
:attr:`DialerClock.known` is False, so the poller asks VICIdial for its own "today".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class DialerClock:
    """Turns an aware UTC instant into the dialer's local date and time of day."""

    timezone: str = ""
    utc_offset_hours: float | None = None

    def local(self, now: datetime, version_offset: float | None) -> datetime:
        if self.timezone:
            return now.astimezone(ZoneInfo(self.timezone))
        offset = self.utc_offset_hours
        if offset is None:
            offset = version_offset if version_offset is not None else 0.0
        return (now + timedelta(hours=offset)).replace(tzinfo=None)

    def known(self, version_offset: float | None) -> bool:
        return (
            bool(self.timezone) or self.utc_offset_hours is not None or (version_offset is not None)
        )

    def local_date(self, now: datetime, version_offset: float | None) -> date:
        """VICIdial's day at the instant ``now``."""
        return self.local(now, version_offset).date()

    def time_of_day(self, now: datetime, version_offset: float | None) -> timedelta:
        """How long ago VICIdial's day began."""
        local = self.local(now, version_offset)
        return timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)


def local_date_at(now: datetime, utc_offset_hours: float) -> date:
    """VICIdial's day at ``now`` for a fixed offset (kept for callers with only an offset)."""
    return (now + timedelta(hours=utc_offset_hours)).date()
