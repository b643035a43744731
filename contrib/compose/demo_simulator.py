"""The demo stack's VICIdial: ``wallboard simulate`` with the dialer in a zone where it is
mid-morning now (docker-compose.yml, service ``simulator``, profile ``demo``).

Why a zone and not a clock: the simulated floor follows shifts in the dialer's local time, so
at night it is empty. ``wallboard demo`` sets the simulator's clock to 10:30 and makes its
in-process daemon follow that clock; the compose demo runs the real ``wallboard run`` on the
real clock, which cannot follow anything. So the simulator keeps the real instant and moves its
UTC offset (``--gmt-offset``) instead: the daemons take the dialer's offset from VICIdial's
``version`` answer, so both agree on the dialer's day and time, and the floor is busy at any
hour. Everything else is ``wallboard simulate`` as documented (CONTRACT §7).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from wallboard.cli import main
from wallboard.simulator.scenario import simulator_zone

#: The simulator's listen address inside its container: the daemons reach it as simulator:8081.
HOST, PORT = "0.0.0.0", 8081  # noqa: S104 - its own network namespace; nothing is published
#: The local time of day the floor should be at when the demo starts (busy, before lunch).
TARGET = timedelta(hours=10, minutes=30)
#: Offsets the simulator can take: whole hours, one per hour of the day.
OFFSETS = range(-12, 12)


def local_time_of_day(now: datetime, offset: int) -> timedelta:
    """The time of day on the simulator's clock at ``now`` with ``--gmt-offset offset`` (the
    simulator adds an hour during US daylight saving time, as VICIdial servers there do)."""
    standard = now.astimezone(UTC) + timedelta(hours=offset)
    local = now.astimezone(simulator_zone(standard.date(), offset))
    return timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)


def mid_morning_offset(now: datetime) -> int:
    """The whole-hour ``--gmt-offset`` that puts the simulator's clock closest to 10:30."""
    return min(OFFSETS, key=lambda offset: abs(local_time_of_day(now, offset) - TARGET))


def simulate_arguments(now: datetime, extra: Sequence[str] = ()) -> list[str]:
    """The ``wallboard`` command line: listen where the daemons look, mid-morning offset."""
    offset = mid_morning_offset(now)
    return [
        "simulate",
        "--host",
        HOST,
        "--port",
        str(PORT),
        "--gmt-offset",
        str(offset),
        *extra,
    ]


if __name__ == "__main__":
    sys.exit(main(simulate_arguments(datetime.now(UTC), sys.argv[1:])))
