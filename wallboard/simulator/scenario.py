"""The demo's story: a busy mid-morning floor where one campaign's drop rate climbs and recovers.

``wallboard demo`` has to show the drop-rate alerts working within a couple of minutes of being
started, at any hour, without anyone typing ``curl``. A natural simulated floor cannot promise
that: its campaigns wander around the warning line on their own, so the demo would show
either nothing or several campaigns alerting at once. So the demo tells a story instead:

* the dialer clock starts at 10:30 in the simulator's zone (:func:`default_start`), when the
  floor is busy and every campaign has answered enough calls to be graded;
* the other campaigns are calmed once (their drops today cut to :data:`CALM_OTHERS`, new
  answers dropped with probability :data:`CALM_DROP_PROBABILITY`), so only the story alerts;
* one campaign's drop ratio today follows :class:`DropStory`, a pure function of the seconds
  since the story began: calm, through warning to critical, then back below warning minus the
  clear margin, again every :attr:`DropStory.period` seconds.

The steering is the simulator's own (:meth:`World.steer`, the method behind
``POST /_sim/campaigns/{id}``): each tick keeps the campaign's answered calls as the model
grows them and sets today's drops to ``round(ratio × answered)``. Recovering therefore lowers
today's drop count, which no real dialer does; it keeps the counts of a demo that runs for
hours at mid-morning size instead of growing the answered calls without bound.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from wallboard.simulator.world import World, us_dst
from wallboard.windows import Thresholds

log = logging.getLogger(__name__)

#: The campaign the story is about, and when the dialer clock starts (local time).
STORY_CAMPAIGN = "SALES1"
MID_MORNING = time(10, 30)
#: Enough answered calls that one drop moves the ratio by 0.1 % at most, so every step of the
#: story lands where it is meant to (and far above any sensible ``min_answered``).
ANSWERED_FLOOR = 1000
#: The other campaigns: today's ratio cut to at most this once, new answers dropped this often.
CALM_OTHERS = 0.012
CALM_DROP_PROBABILITY = 0.01
#: How often the runner re-applies the story (seconds): finer than any poll interval.
TICK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Keyframe:
    """The story's drop ratio ``at`` seconds into a cycle; ``note`` is logged when reached."""

    at: float
    ratio: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class DropStory:
    """The steered campaign's drop ratio today as a function of elapsed seconds (pure).

    Linear between keyframes, constant after the last one until the cycle ends, then the same
    again. Build it with :meth:`for_thresholds` so the plateaus sit between the alert lines.
    """

    keyframes: tuple[Keyframe, ...]
    period: float = 300.0

    def __post_init__(self) -> None:
        times = [frame.at for frame in self.keyframes]
        if not times or times[0] != 0 or times != sorted(times) or times[-1] >= self.period:
            raise ValueError("keyframes must start at 0, ascend and end before the period")

    @classmethod
    def for_thresholds(
        cls, thresholds: Thresholds | None = None, clear_margin: float = 0.002
    ) -> DropStory:
        """Calm, warning at ~28 s, critical at ~65 s, back below warning − margin by ~2 min.

        Each alert line is crossed by a ramp and then held for more than half a minute, long
        enough for a 10 s stats poll, a 15 s ``pending`` and a late evaluation to see it.
        """
        thresholds = thresholds or Thresholds()
        warn, critical, limit = thresholds.warn_at, thresholds.critical_at, thresholds.limit
        calm = max(0.0, warn - clear_margin - 0.003)
        step = (critical - warn) / 3
        over = max(limit - critical, step)
        return cls(
            keyframes=(
                Keyframe(0, calm, "calm"),
                Keyframe(15, calm, "drops climbing towards warning"),
                Keyframe(30, warn + step),
                Keyframe(60, warn + 2 * step, "drops climbing towards critical"),
                Keyframe(70, critical + over / 2),
                Keyframe(105, critical + 0.75 * over, "recovering"),
                Keyframe(125, calm, "calm again until the next cycle"),
            ),
            period=300.0,
        )

    def ratio_at(self, elapsed: float) -> float:
        """The target drop ratio ``elapsed`` seconds after the story began."""
        offset = max(0.0, elapsed) % self.period
        frames = self.keyframes
        for before, after in itertools.pairwise(frames):
            if before.at <= offset < after.at:
                share = (offset - before.at) / (after.at - before.at)
                return before.ratio + share * (after.ratio - before.ratio)
        return frames[-1].ratio

    def keyframe_at(self, elapsed: float) -> tuple[int, Keyframe]:
        """(cycle number, the last keyframe reached): the runner logs each one once."""
        cycle, offset = divmod(max(0.0, elapsed), self.period)
        reached = [frame for frame in self.keyframes if frame.at <= offset]
        return int(cycle), reached[-1]


def steered_counts(ratio: float, answered: int, floor: int = ANSWERED_FLOOR) -> tuple[int, int]:
    """(answered, dropped) that put today's ratio at ``ratio``, with at least ``floor`` answered."""
    answered = max(answered, floor)
    return answered, min(answered, round(ratio * answered))


def default_start(now: datetime, gmt_offset: float = -5.0) -> datetime:
    """Today at 10:30 on the simulator's clock (its ``gmt_offset`` plus US DST), as aware time.

    "Today" is the simulator's local date at the real instant ``now``, so the demo's floor is
    mid-morning of the day the user sees on the board, whatever hour they start it.
    """
    standard = now.astimezone(UTC) + timedelta(hours=gmt_offset)
    local_day = (standard + timedelta(hours=1 if us_dst(standard.date()) else 0)).date()
    return datetime.combine(local_day, MID_MORNING, tzinfo=simulator_zone(local_day, gmt_offset))


def simulator_zone(day: date, gmt_offset: float = -5.0) -> timezone:
    """The simulator's fixed UTC offset on ``day`` (its ``gmt_offset``, plus an hour in DST)."""
    return timezone(timedelta(hours=gmt_offset + (1 if us_dst(day) else 0)))


def parse_start(text: str, gmt_offset: float = -5.0) -> datetime:
    """``--start``: ISO 8601; without an offset it is the simulator's local time that day."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-25T10:30 or 2026-11-25T10:30-05:00)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=simulator_zone(value.date(), gmt_offset))
    return value


@dataclass(frozen=True, slots=True)
class Steered:
    """What one :meth:`ScenarioRunner.step` set: for the log and the tests."""

    elapsed: float
    ratio: float
    answered: int
    dropped: int


class ScenarioRunner:
    """Applies a :class:`DropStory` to a simulator's world on a short tick.

    ``now`` is the simulator's clock: the story runs in simulated seconds, like the world and
    (in the demo) the daemon. Steps are synchronous and never await, so on the simulator's
    event loop no API request sees a half-applied step.
    """

    def __init__(
        self,
        world: World,
        now: Callable[[], datetime],
        story: DropStory | None = None,
        *,
        campaign_id: str = STORY_CAMPAIGN,
        answered_floor: int = ANSWERED_FLOOR,
    ) -> None:
        if campaign_id not in world.campaigns:
            raise ValueError(f"the simulator has no campaign {campaign_id!r}")
        self._world = world
        self._now = now
        self._story = story or DropStory.for_thresholds()
        self._campaign_id = campaign_id
        self._floor = answered_floor
        self._started = now()
        self._calmed = False
        self._logged: tuple[int, float] | None = None

    @property
    def campaign_id(self) -> str:
        return self._campaign_id

    @property
    def story(self) -> DropStory:
        return self._story

    def step(self) -> Steered:
        """Bring the world to now and put the campaign's ratio where the story says."""
        now = self._now()
        self._world.advance(now)
        if not self._calmed:
            self._calm_the_others()
            self._calmed = True
        elapsed = (now - self._started).total_seconds()
        ratio = self._story.ratio_at(elapsed)
        today = self._world.day_stats(self._campaign_id, self._world.local_today())
        answered, dropped = steered_counts(ratio, today.human_answered, self._floor)
        self._world.steer(self._campaign_id, answered_today=answered, dropped_today=dropped)
        self._log_progress(elapsed, answered, dropped)
        return Steered(elapsed=elapsed, ratio=ratio, answered=answered, dropped=dropped)

    async def run(self, tick: float = TICK_SECONDS) -> None:
        """Step every ``tick`` real seconds until cancelled."""
        while True:
            self.step()
            await asyncio.sleep(tick)

    def _calm_the_others(self) -> None:
        """Only the story should alert: cut the rest of the floor's drops once, keep them low.

        The story's own campaign gets a drop probability of 0 so that between two ticks its
        natural drops do not nudge the ratio off the story.
        """
        today = self._world.local_today()
        for campaign_id in self._world.campaigns:
            if campaign_id == self._campaign_id:
                self._world.steer(campaign_id, drop_ratio=0.0)
                continue
            stats = self._world.day_stats(campaign_id, today)
            calm = min(stats.drops, int(CALM_OTHERS * stats.human_answered))
            self._world.steer(campaign_id, drop_ratio=CALM_DROP_PROBABILITY, dropped_today=calm)

    def _log_progress(self, elapsed: float, answered: int, dropped: int) -> None:
        cycle, frame = self._story.keyframe_at(elapsed)
        if not frame.note or self._logged == (cycle, frame.at):
            return
        self._logged = (cycle, frame.at)
        log.info(
            "demo story: %s %s (drops today %d of %d answered, %.2f %%)",
            self._campaign_id,
            frame.note,
            dropped,
            answered,
            100 * dropped / answered,
        )


__all__ = [
    "ANSWERED_FLOOR",
    "STORY_CAMPAIGN",
    "DropStory",
    "Keyframe",
    "ScenarioRunner",
    "Steered",
    "default_start",
    "parse_start",
    "simulator_zone",
    "steered_counts",
]
