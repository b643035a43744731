"""What to poll and how often: plain values built once from the config.

Readers of this module (the poller, the daemon, ``wallboard check`` and ``bench/api_load.py``)
get numbers, never the pydantic ``Settings``. The request budget lives here too, because it
decides the *effective* interval of the slow sources: on a 100-campaign floor ``hopper_list``
(one request per campaign) would cost 50 requests a minute at the configured 120 s, so its
cycle is stretched until the whole daemon stays under ``poll.max_requests_per_minute``. The
stale threshold then follows the stretched interval, so a slow hopper is not called stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wallboard.compliance import ComplianceSettings, compliance_from_config
from wallboard.config import Settings

#: Share of the slow budget kept free for the 30-day backfill and retries of slow sources.
SLOW_HEADROOM = 0.2

#: The sources that are never slowed by the budget: what the floor watches live.
PRIORITY_SOURCES = ("logged_in_agents", "call_status_stats", "campaigns_list", "in_group_status")


@dataclass(frozen=True)
class PollPlan:
    """What to poll and how often (seconds); built from the config by :func:`plan_from_config`."""

    campaigns: tuple[str, ...] | None  # None = every campaign VICIdial lists
    ingroups: tuple[str, ...] = ()
    agents_interval: float = 30.0
    stats_interval: float = 60.0
    campaigns_interval: float = 60.0
    hopper_interval: float = 120.0
    ingroups_interval: float = 30.0
    version_interval: float = 600.0
    jitter: float = 5.0
    history_days: int = 30
    history_interval: float = 600.0
    history_throttle: float = 1.0
    utc_offset_hours: float | None = None  # overrides version's TZNOW when set
    timezone: str = ""  # IANA name; wins over both offsets when set
    max_requests_per_minute: float = 20.0
    login_retry: float = 120.0
    lock_retry: float = 900.0
    #: What the windows, groups and forecast of each campaign need (``[alerts]``, groups).
    compliance: ComplianceSettings = field(default_factory=ComplianceSettings)

    def intervals(self) -> dict[str, float]:
        """Source name (the VICIdial function) → configured poll interval."""
        sources = {
            "version": self.version_interval,
            "logged_in_agents": self.agents_interval,
            "call_status_stats": self.stats_interval,
            "campaigns_list": self.campaigns_interval,
            "hopper_list": self.hopper_interval,
        }
        if self.ingroups:
            sources["in_group_status"] = self.ingroups_interval
        return sources

    def requests_per_round(self, source: str) -> int:
        """Requests one round of a live source costs: ``in_group_status`` asks per in-group
        (VICIdial sums a list into one line), every other live source asks once."""
        return max(1, len(self.ingroups)) if source == "in_group_status" else 1

    @property
    def shortest_interval(self) -> float:
        return min(self.intervals().values())


def plan_from_config(settings: Settings) -> PollPlan:
    """Translate the validated config into a :class:`PollPlan`."""
    vicidial = settings.vicidial
    poll = settings.poll
    campaigns = None if vicidial.campaigns == "all" else tuple(vicidial.campaigns)
    return PollPlan(
        campaigns=campaigns,
        ingroups=tuple(vicidial.ingroups),
        agents_interval=poll.agents_interval.total_seconds(),
        stats_interval=poll.stats_interval.total_seconds(),
        campaigns_interval=poll.campaigns_interval.total_seconds(),
        hopper_interval=poll.hopper_interval.total_seconds(),
        ingroups_interval=poll.ingroups_interval.total_seconds(),
        jitter=poll.jitter.total_seconds(),
        history_days=poll.history_days,
        history_throttle=poll.history_throttle.total_seconds(),
        utc_offset_hours=vicidial.utc_offset,
        timezone=getattr(vicidial, "timezone", "") or "",
        max_requests_per_minute=float(getattr(poll, "max_requests_per_minute", 20)),
        login_retry=_seconds(getattr(vicidial, "login_retry", None), 120.0),
        lock_retry=_seconds(getattr(vicidial, "lock_retry", None), 900.0),
        compliance=compliance_from_config(settings),
    )


def _seconds(value: object, default: float) -> float:
    total_seconds = getattr(value, "total_seconds", None)
    return float(total_seconds()) if callable(total_seconds) else default


@dataclass(frozen=True)
class BudgetPlan:
    """How the request budget is shared, for one campaign count.

    ``priority_per_minute`` is what the never-slowed sources cost; ``slow_per_minute`` what
    the rest (hoppers, ``version``, backfill, retries) may use; ``hopper_interval`` the
    effective time for one full round of ``hopper_list`` over every campaign, and
    ``hopper_spacing`` the gap between two of its requests (they are spread, not bursts).
    ``over_budget`` is True when the plan cannot fit the budget (the live sources alone, or
    with the minimum share the hoppers and ``version`` need): the daemon still runs (the
    floor's figures come first) and says so at start-up and in ``check``.
    """

    budget_per_minute: float
    priority_per_minute: float
    slow_per_minute: float
    hopper_interval: float
    hopper_spacing: float
    over_budget: bool

    def describe(self) -> str:
        return (
            f"{self.priority_per_minute:.1f} requests/min for agents, stats, campaigns and "
            f"in-groups; hoppers every {self.hopper_interval:.0f} s "
            f"(one request every {self.hopper_spacing:.1f} s); "
            f"budget {self.budget_per_minute:g}/min"
        )


def budget_plan(plan: PollPlan, campaign_count: int) -> BudgetPlan:
    """Share ``plan.max_requests_per_minute`` between the live sources and the slow ones."""
    intervals = plan.intervals()
    priority = sum(
        plan.requests_per_round(name) * 60.0 / intervals[name]
        for name in PRIORITY_SOURCES
        if name in intervals
    )
    budget = plan.max_requests_per_minute
    version_cost = 60.0 / plan.version_interval
    # Never less than one slow request a minute: hoppers and the 30-day history must move.
    slow = max(1.0, budget - priority)
    for_hoppers = max(0.5, slow * (1 - SLOW_HEADROOM) - version_cost)
    count = max(1, campaign_count)
    hopper_interval = max(plan.hopper_interval, 60.0 * count / for_hoppers)
    # Decided after stretching: the minimum slow share can push a plan whose live sources
    # just fit over the budget, and that must be said too.
    over = priority + 60.0 * count / hopper_interval + version_cost > budget + 1e-9
    return BudgetPlan(
        budget_per_minute=budget,
        priority_per_minute=priority,
        slow_per_minute=slow,
        hopper_interval=hopper_interval,
        hopper_spacing=hopper_interval / count,
        over_budget=over,
    )
