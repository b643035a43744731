"""VICIdial's day in the dialer's time zone: midnights and DST changes, worked out by hand.

2026's DST changes (hand-derived: 2026-03-01 and 2026-11-01 are Sundays):

* America/New_York: EST (UTC-5) until Sun 2026-03-08 02:00 -> 03:00 EDT (UTC-4) at 07:00 UTC;
  back to EST on Sun 2026-11-01 at 02:00 EDT -> 01:00 EST (06:00 UTC). So 2026-03-08 is 23
  hours long (05:00 UTC to 04:00 UTC next day) and 2026-11-01 is 25 (04:00 to 05:00 UTC).
* Europe/London: GMT (UTC) until Sun 2026-03-29 01:00 UTC -> BST (UTC+1), back on Sun
  2026-10-25 at 01:00 UTC. 2026-03-29 runs 00:00 -> 23:00 UTC; 2026-10-25 runs 23:00 UTC the
  day before -> 00:00 UTC on the 26th.
* America/Santiago changes at midnight: Sat 2026-09-05 24:00 (-04) becomes Sun 01:00 (-03) at
  04:00 UTC, so 2026-09-06 has no 00:00 and begins at 01:00 on the wall clock.

A fixed offset (``utc_offset_hours``, or ``version``'s) does not follow DST.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.poller.dialer_clock import DialerClock, local_date_at

NEW_YORK = DialerClock(timezone="America/New_York")
LONDON = DialerClock(timezone="Europe/London")
SANTIAGO = DialerClock(timezone="America/Santiago")


def row_id(value: object) -> str | None:
    """Readable test ids: the zone (or offset) and the instant."""
    if isinstance(value, DialerClock):
        return value.timezone.rsplit("/", 1)[-1] or f"fixed{value.utc_offset_hours}"
    if isinstance(value, str):
        return value
    return None


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hms(hours: int, minutes: int = 0, seconds: int = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


# -- day boundaries with a time zone -----------------------------------------------------------

#: (clock, UTC instant, dialer date). Comments give the dialer's wall clock.
DAY_ROWS = [
    # New York, spring forward (23-hour day)
    (NEW_YORK, "2026-03-08T04:59:59", date(2026, 3, 7)),  # 23:59:59 EST
    (NEW_YORK, "2026-03-08T05:00:00", date(2026, 3, 8)),  # 00:00:00 EST
    (NEW_YORK, "2026-03-08T06:59:59", date(2026, 3, 8)),  # 01:59:59 EST
    (NEW_YORK, "2026-03-08T07:00:00", date(2026, 3, 8)),  # 03:00:00 EDT
    (NEW_YORK, "2026-03-09T03:59:59", date(2026, 3, 8)),  # 23:59:59 EDT
    (NEW_YORK, "2026-03-09T04:00:00", date(2026, 3, 9)),  # 00:00:00 EDT
    # New York, fall back (25-hour day)
    (NEW_YORK, "2026-11-01T03:59:59", date(2026, 10, 31)),  # 23:59:59 EDT
    (NEW_YORK, "2026-11-01T04:00:00", date(2026, 11, 1)),  # 00:00:00 EDT
    (NEW_YORK, "2026-11-01T06:30:00", date(2026, 11, 1)),  # 01:30:00 EST (the second 01:30)
    (NEW_YORK, "2026-11-02T04:00:00", date(2026, 11, 1)),  # 23:00:00 EST (not midnight yet)
    (NEW_YORK, "2026-11-02T04:59:59", date(2026, 11, 1)),  # 23:59:59 EST
    (NEW_YORK, "2026-11-02T05:00:00", date(2026, 11, 2)),  # 00:00:00 EST
    # London, spring forward
    (LONDON, "2026-03-28T23:59:59", date(2026, 3, 28)),  # 23:59:59 GMT
    (LONDON, "2026-03-29T00:00:00", date(2026, 3, 29)),  # 00:00:00 GMT
    (LONDON, "2026-03-29T22:59:59", date(2026, 3, 29)),  # 23:59:59 BST
    (LONDON, "2026-03-29T23:00:00", date(2026, 3, 30)),  # 00:00:00 BST
    # London, fall back
    (LONDON, "2026-10-24T22:59:59", date(2026, 10, 24)),  # 23:59:59 BST
    (LONDON, "2026-10-24T23:00:00", date(2026, 10, 25)),  # 00:00:00 BST
    (LONDON, "2026-10-25T23:59:59", date(2026, 10, 25)),  # 23:59:59 GMT
    (LONDON, "2026-10-26T00:00:00", date(2026, 10, 26)),  # 00:00:00 GMT
    # Santiago: the day that begins at 01:00
    (SANTIAGO, "2026-09-06T03:59:59", date(2026, 9, 5)),  # 23:59:59 -04
    (SANTIAGO, "2026-09-06T04:00:00", date(2026, 9, 6)),  # 01:00:00 -03
]


@pytest.mark.parametrize(("clock", "instant", "expected"), DAY_ROWS, ids=row_id)
def test_local_date_with_a_time_zone(clock: DialerClock, instant: str, expected: date) -> None:
    # version's offset (here a wrong +3) never overrides a configured time zone
    assert clock.local_date(utc(instant), None) == expected
    assert clock.local_date(utc(instant), 3.0) == expected


@pytest.mark.parametrize(
    ("clock", "instant", "expected"),
    [
        # just before and after each dialer midnight of the DST days: wall clock = elapsed
        (NEW_YORK, "2026-03-08T04:59:59", hms(23, 59, 59)),  # Mar 7 is a 24-hour day
        (NEW_YORK, "2026-03-08T05:00:00", hms(0)),
        (NEW_YORK, "2026-03-08T06:59:59", hms(1, 59, 59)),  # before the change
        (NEW_YORK, "2026-03-09T04:00:00", hms(0)),
        (NEW_YORK, "2026-11-01T03:59:59", hms(23, 59, 59)),
        (NEW_YORK, "2026-11-01T04:00:00", hms(0)),
        (NEW_YORK, "2026-11-01T05:30:00", hms(1, 30)),  # the first 01:30 (EDT)
        (NEW_YORK, "2026-11-02T05:00:00", hms(0)),
        (LONDON, "2026-03-29T00:00:00", hms(0)),
        (LONDON, "2026-03-29T00:59:59", hms(0, 59, 59)),  # before the change
        (LONDON, "2026-03-29T23:00:00", hms(0)),
        (LONDON, "2026-10-24T23:00:00", hms(0)),
        (LONDON, "2026-10-25T00:30:00", hms(1, 30)),  # 01:30 BST, before the change
        (LONDON, "2026-10-26T00:00:00", hms(0)),
        (SANTIAGO, "2026-09-06T03:59:59", hms(23, 59, 59)),
        # after a DST change the wall clock and "how long ago the day began" (the method's
        # docstring) part: these rows expect the time since the dialer's midnight.
        # 07:00 UTC is 03:00 EDT, but the day began at 05:00 UTC: 2 hours ago
        (NEW_YORK, "2026-03-08T07:00:00", hms(2)),
        # 23:59:59 EDT on the 23-hour day: began at 05:00 UTC the day before, 22:59:59 ago
        (NEW_YORK, "2026-03-09T03:59:59", hms(22, 59, 59)),
        # the second 01:30 (EST, 06:30 UTC): began at 04:00 UTC, 2:30 ago
        (NEW_YORK, "2026-11-01T06:30:00", hms(2, 30)),
        # 23:59:59 EST on the 25-hour day: began at 04:00 UTC the day before, 24:59:59 ago
        (NEW_YORK, "2026-11-02T04:59:59", hms(24, 59, 59)),
        # 02:00 BST (01:00 UTC): began at 00:00 UTC, 1 hour ago
        (LONDON, "2026-03-29T01:00:00", hms(1)),
        # 01:30 GMT (01:30 UTC) after falling back: began at 23:00 UTC the day before, 2:30 ago
        (LONDON, "2026-10-25T01:30:00", hms(2, 30)),
        # Santiago's first instant of 2026-09-06 reads 01:00 but the day has just begun
        (SANTIAGO, "2026-09-06T04:00:00", hms(0)),
    ],
    ids=row_id,
)
def test_time_of_day_is_how_long_ago_the_dialers_day_began(
    clock: DialerClock, instant: str, expected: timedelta
) -> None:
    assert clock.time_of_day(utc(instant), None) == expected


@pytest.mark.parametrize(
    ("clock", "instant", "expected"),
    [
        (NEW_YORK, "2026-03-08T06:59:59", -5.0),
        (NEW_YORK, "2026-03-08T07:00:00", -4.0),
        (NEW_YORK, "2026-11-01T05:59:59", -4.0),
        (NEW_YORK, "2026-11-01T06:00:00", -5.0),
        (LONDON, "2026-03-29T00:59:59", 0.0),
        (LONDON, "2026-03-29T01:00:00", 1.0),
        (LONDON, "2026-10-25T00:59:59", 1.0),
        (LONDON, "2026-10-25T01:00:00", 0.0),
        (DialerClock(utc_offset_hours=-5), "2026-07-01T12:00:00", -5.0),  # fixed: no DST
    ],
    ids=row_id,
)
def test_offset_hours_follows_dst_with_a_time_zone(
    clock: DialerClock, instant: str, expected: float
) -> None:
    assert clock.offset_hours(utc(instant), None) == expected


# -- a fixed offset does not follow DST --------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "instant", "expected_date", "expected_time"),
    [
        # -5 all year: 04:30 UTC is 23:30 the day before, in summer too
        (-5.0, "2026-07-01T04:30:00", date(2026, 6, 30), hms(23, 30)),
        (-5.0, "2026-11-01T04:30:00", date(2026, 10, 31), hms(23, 30)),
        (-5.0, "2026-01-15T04:59:59", date(2026, 1, 14), hms(23, 59, 59)),
        (-5.0, "2026-01-15T05:00:00", date(2026, 1, 15), hms(0)),
        # and across New York's spring-forward instant nothing jumps: 07:00 UTC is 02:00
        (-5.0, "2026-03-08T07:00:00", date(2026, 3, 8), hms(2)),
        # 0 all year (London's winter offset): 23:30 UTC in July is still July 1st
        (0.0, "2026-07-01T23:30:00", date(2026, 7, 1), hms(23, 30)),
        # half-hour offsets: +5:30
        (5.5, "2026-01-01T18:29:59", date(2026, 1, 1), hms(23, 59, 59)),
        (5.5, "2026-01-01T18:30:00", date(2026, 1, 2), hms(0)),
        # -3:30
        (-3.5, "2026-01-02T03:29:59", date(2026, 1, 1), hms(23, 59, 59)),
        (-3.5, "2026-01-02T03:30:00", date(2026, 1, 2), hms(0)),
    ],
)
def test_a_fixed_offset(
    offset: float, instant: str, expected_date: date, expected_time: timedelta
) -> None:
    clock = DialerClock(utc_offset_hours=offset)
    assert clock.local_date(utc(instant), None) == expected_date
    assert clock.time_of_day(utc(instant), None) == expected_time
    assert local_date_at(utc(instant), offset) == expected_date
    # the version offset is the same thing when nothing else is configured
    assert DialerClock().local_date(utc(instant), offset) == expected_date


@pytest.mark.parametrize(
    ("instant", "fixed", "zoned"),
    [
        # summer: fixed -5 says 23:30 on Jun 30; New York (EDT, -4) says 00:30 on Jul 1
        ("2026-07-01T04:30:00", date(2026, 6, 30), date(2026, 7, 1)),
        # the fall-back day itself: 04:30 UTC is 00:30 EDT on Nov 1, 23:30 Oct 31 at -5
        ("2026-11-01T04:30:00", date(2026, 10, 31), date(2026, 11, 1)),
        # winter: both agree
        ("2026-01-15T04:30:00", date(2026, 1, 14), date(2026, 1, 14)),
    ],
)
def test_a_fixed_offset_is_not_the_time_zone(instant: str, fixed: date, zoned: date) -> None:
    assert DialerClock(utc_offset_hours=-5).local_date(utc(instant), None) == fixed
    assert NEW_YORK.local_date(utc(instant), None) == zoned


# -- which source wins -------------------------------------------------------------------------

AT_2 = "2026-07-01T02:00:00"  # 22:00 EDT on Jun 30; 02:00 at offset 0; 05:00 at +3


@pytest.mark.parametrize(
    ("clock", "version_offset", "expected", "known"),
    [
        (
            DialerClock(timezone="America/New_York", utc_offset_hours=0),
            3.0,
            date(2026, 6, 30),
            True,
        ),
        (DialerClock(utc_offset_hours=-5), 3.0, date(2026, 6, 30), True),  # 21:00 at -5
        (DialerClock(utc_offset_hours=0), None, date(2026, 7, 1), True),  # 0 is an offset
        (DialerClock(), -4.0, date(2026, 6, 30), True),  # version's TZNOW: 22:00 at -4
        (DialerClock(), None, date(2026, 7, 1), False),  # nothing known yet: UTC
    ],
)
def test_the_time_zone_then_the_configured_offset_then_versions(
    clock: DialerClock, version_offset: float | None, expected: date, known: bool
) -> None:
    assert clock.local_date(utc(AT_2), version_offset) == expected
    assert clock.known(version_offset) is known


# -- the forecast horizon on DST days ----------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "now", "shift_end", "expected"),
    [
        # NY spring day (08:00 EDT): next midnight is 00:00 EDT on Mar 9 = 04:00 UTC
        (NEW_YORK, "2026-03-08T12:00:00", None, "2026-03-09T04:00:00"),
        # shift end 21:00 EDT = 01:00 UTC on Mar 9
        (NEW_YORK, "2026-03-08T12:00:00", time(21), "2026-03-09T01:00:00"),
        # asked at 01:00 EST, before the change: 21:00 is still on the EDT wall clock
        (NEW_YORK, "2026-03-08T06:00:00", time(21), "2026-03-09T01:00:00"),
        # NY fall-back day asked at 01:00 EDT: 21:00 EST = 02:00 UTC on Nov 2
        (NEW_YORK, "2026-11-01T05:00:00", time(21), "2026-11-02T02:00:00"),
        # ... and its midnight is 00:00 EST = 05:00 UTC (a 25-hour day)
        (NEW_YORK, "2026-11-01T05:00:00", None, "2026-11-02T05:00:00"),
        # 22:00 EST on Nov 1: the shift is over, the horizon is midnight
        (NEW_YORK, "2026-11-02T03:00:00", time(21), "2026-11-02T05:00:00"),
        # exactly at the shift end: over, midnight (00:00 EDT Mar 9 = 04:00 UTC)
        (NEW_YORK, "2026-03-09T01:00:00", time(21), "2026-03-09T04:00:00"),
        # London spring day asked at 00:30 GMT: 21:00 BST = 20:00 UTC; midnight 23:00 UTC
        (LONDON, "2026-03-29T00:30:00", time(21), "2026-03-29T20:00:00"),
        (LONDON, "2026-03-29T00:30:00", None, "2026-03-29T23:00:00"),
        # London fall-back day asked at 00:30 BST: 21:00 GMT = 21:00 UTC; midnight 00:00 UTC
        (LONDON, "2026-10-24T23:30:00", time(21), "2026-10-25T21:00:00"),
        (LONDON, "2026-10-24T23:30:00", None, "2026-10-26T00:00:00"),
        # fixed -5 in summer (07:00 at -5): midnight at -5 = 05:00 UTC, not New York's 04:00
        (DialerClock(utc_offset_hours=-5), "2026-07-01T12:00:00", None, "2026-07-02T05:00:00"),
        (NEW_YORK, "2026-07-01T12:00:00", None, "2026-07-02T04:00:00"),
    ],
    ids=row_id,
)
def test_horizon(clock: DialerClock, now: str, shift_end: time | None, expected: str) -> None:
    assert clock.horizon(utc(now), shift_end, None) == utc(expected)


# -- property ----------------------------------------------------------------------------------

ZONES = ["America/New_York", "Europe/London", "America/Santiago", "Australia/Lord_Howe"]


@given(
    zone=st.sampled_from(ZONES),
    now=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
)
def test_every_instant_falls_inside_its_dialer_day(zone: str, now: datetime) -> None:
    """The dialer day of ``now`` begins at or before ``now`` and the next one after it, on
    DST days too (Lord Howe's change is half an hour, Santiago's is at midnight)."""
    clock = DialerClock(timezone=zone)
    day = clock.local_date(now, None)
    assert (
        clock.instant(day, time(0), None)
        <= now
        < clock.instant(day + timedelta(days=1), time(0), None)
    )
