"""VICIdial's day: midnight to midnight in the dialer's time zone, not ours.

"Today" in every VICIdial figure starts at the dialer server's local midnight (API.md §8.1).
The zone comes from, in order: ``vicidial.timezone`` (an IANA name, right across DST changes),
``vicidial.utc_offset`` (fixed hours), or the ``TZNOW`` offset of the ``version`` answer
(which already includes DST). Until one of them is known the offset is 0 and
:attr:`DialerClock.known` is False, so the poller asks VICIdial for its own "today".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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

    def offset_hours(self, now: datetime, version_offset: float | None) -> float | None:
        """The dialer's UTC offset in force at ``now`` (DST included with a time zone);
        ``None`` while nothing tells it."""
        if self.timezone:
            offset = now.astimezone(ZoneInfo(self.timezone)).utcoffset()
            return offset.total_seconds() / 3600 if offset is not None else None
        if self.utc_offset_hours is not None:
            return self.utc_offset_hours
        return version_offset

    def instant(self, day: date, at: time, version_offset: float | None) -> datetime:
        """The UTC instant of dialer-local ``day`` at ``at`` (with a time zone, the offset of
        that moment: a shift end on a DST day is where the wall clock says)."""
        if self.timezone:
            local = datetime.combine(day, at, tzinfo=ZoneInfo(self.timezone))
            return local.astimezone(UTC)
        offset = self.utc_offset_hours
        if offset is None:
            offset = version_offset if version_offset is not None else 0.0
        return datetime.combine(day, at, tzinfo=UTC) - timedelta(hours=offset)

    def horizon(
        self, now: datetime, shift_end: time | None, version_offset: float | None
    ) -> datetime:
        """The end of today's calling: ``shift_end`` today if it is still ahead, else the
        dialer's next midnight (when VICIdial's day, and so today's ratio, ends anyway)."""
        today = self.local_date(now, version_offset)
        midnight = self.instant(today + timedelta(days=1), time(0, 0), version_offset)
        if shift_end is None:
            return midnight
        end = self.instant(today, shift_end, version_offset)
        return end if end > now else midnight

    def time_of_day(self, now: datetime, version_offset: float | None) -> timedelta:
        """How long ago VICIdial's day began (not the wall clock: on a DST day they differ
        by the hour the clocks moved)."""
        midnight = self.instant(self.local_date(now, version_offset), time(0, 0), version_offset)
        return now - midnight


def local_date_at(now: datetime, utc_offset_hours: float) -> date:
    """VICIdial's day at ``now`` for a fixed offset (kept for callers with only an offset)."""
    return (now + timedelta(hours=utc_offset_hours)).date()
