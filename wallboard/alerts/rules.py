"""The alert rules as plain values: which windows alert for a campaign, and how.

``[alerts]`` is validated once at the edge (:mod:`wallboard.config`); the engine, the TV, the
API and ``/metrics`` read these frozen values instead, built once by :func:`rules_from_config`,
so no reader merges per-campaign overrides itself and a campaign can never be graded with one
set of thresholds on the TV and alerted with another in Slack. Durations are seconds (floats),
as the engine's clock is; ratios are 0..1.

The engine asks :meth:`AlertRules.windows_for` which windows of a campaign alert and
:meth:`AlertRules.rule` how; readers grade with :meth:`AlertRules.thresholds_for`. Quiet hours
hold *warnings* only, never a critical alert (:func:`in_quiet_hours` answers for a dialer-local
time of day; the caller decides what to hold).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from wallboard.config_types import ALERT_WINDOWS, format_duration, format_quiet_hours
from wallboard.windows import Thresholds

if TYPE_CHECKING:
    from wallboard.config import AlertsConfig, Settings

__all__ = [
    "AlertRules",
    "AutoPauseRule",
    "CampaignRule",
    "WindowRule",
    "in_quiet_hours",
    "rules_from_config",
]


def in_quiet_hours(local_time: time, quiet: tuple[time, time] | None) -> bool:
    """Whether ``local_time`` (dialer time of day) falls in ``quiet = (start, end)``.

    The start minute is inside, the end minute outside; ``end < start`` wraps midnight
    (``22:00-07:00`` holds 23:30 and 06:59, not 07:00). ``None`` means no quiet hours. A time
    zone on ``local_time`` is ignored: the hours are dialer time, and so must the caller's be.
    """
    if quiet is None:
        return False
    start, end = quiet
    now = local_time.replace(tzinfo=None)
    if start <= end:
        return start <= now < end
    return now >= start or now < end


@dataclass(frozen=True, slots=True)
class WindowRule:
    """How one (campaign, window) alerts: its grading thresholds and its timing.

    ``pending``, ``repeat`` in seconds; ``clear_margin`` a ratio (an alert clears only below its
    threshold minus it); ``quiet_hours`` (dialer time, may wrap midnight) hold warnings only.
    """

    thresholds: Thresholds
    pending: float
    clear_margin: float
    repeat: float
    quiet_hours: tuple[time, time] | None

    def quiet_at(self, local_time: time) -> bool:
        """Whether a *warning* is held at this dialer time of day (a critical never is)."""
        return in_quiet_hours(local_time, self.quiet_hours)


@dataclass(frozen=True, slots=True)
class CampaignRule:
    """One campaign's alerted windows and the rule they share (the defaults merged with that
    campaign's ``[alerts.campaigns.<ID>]``)."""

    windows: tuple[str, ...]
    rule: WindowRule


@dataclass(frozen=True, slots=True)
class AutoPauseRule:
    """``[alerts.auto_pause]``: which campaigns may be paused, at what ratio, on which windows.

    The ratio must have held at or above ``at`` for the campaign's own ``pending``
    (:meth:`pending_for`), on fresh data with at least its ``min_answered`` answered calls.
    Config validation guarantees each listed window is alerted for each listed campaign and
    that ``at`` lies between those campaigns' ``critical_at`` and ``limit``.
    """

    campaigns: tuple[str, ...]
    at: float
    dry_run: bool
    windows: tuple[str, ...]
    pending: Mapping[str, float] = field(hash=False)  # seconds, per campaign

    def covers(self, campaign: str, window: str) -> bool:
        """Whether an incident of ``campaign`` in ``window`` may pause the campaign."""
        return campaign in self.campaigns and window in self.windows

    def pending_for(self, campaign: str) -> float:
        """How long (seconds) the ratio must hold at or above ``at`` before the pause."""
        return self.pending[campaign]


@dataclass(frozen=True, slots=True)
class AlertRules:
    """Every alert rule: the defaults, the campaigns that differ, the dead-man switch and the
    optional auto-pause. Any campaign without overrides (``vicidial.campaigns = "all"``
    included) follows :attr:`default`."""

    default: CampaignRule
    campaigns: Mapping[str, CampaignRule] = field(hash=False)
    stale_after: float  # seconds a floor source may be stale before ``data_stale`` opens
    auto_pause: AutoPauseRule | None

    def for_campaign(self, campaign: str) -> CampaignRule:
        """``campaign``'s windows and rule (the defaults for a campaign without overrides)."""
        return self.campaigns.get(campaign, self.default)

    def windows_for(self, campaign: str) -> tuple[str, ...]:
        """The windows that alert for ``campaign``, in the configured order (may be empty)."""
        return self.for_campaign(campaign).windows

    def rule(self, campaign: str, window: str) -> WindowRule:
        """How ``window`` of ``campaign`` is graded and timed. Every window of a campaign
        shares one rule; whether it *alerts* is :meth:`windows_for`.
        ``ValueError`` for a window name this version does not know."""
        if window not in ALERT_WINDOWS:
            raise ValueError(f"unknown window {window!r}: the windows are {ALERT_WINDOWS}")
        return self.for_campaign(campaign).rule

    def quiet(self, campaign: str, local: time) -> bool:
        """Whether ``campaign``'s warnings are held at dialer time of day ``local``."""
        return self.for_campaign(campaign).rule.quiet_at(local)

    def thresholds_for(self, campaign: str) -> Thresholds:
        """What the TV, the API and ``/metrics`` grade ``campaign``'s windows against."""
        return self.for_campaign(campaign).rule.thresholds

    def describe(self) -> str:
        """One line for ``wallboard check``: what alerts, where it differs, what may pause."""
        parts = [_describe(self.default)]
        overrides = [
            f"{campaign} ({', '.join(differences)})"
            for campaign, rule in self.campaigns.items()
            if (differences := _differences(self.default, rule))
        ]
        count = f"{len(overrides)} campaign override{'' if len(overrides) == 1 else 's'}"
        parts.append(f"{count}: {', '.join(overrides)}" if overrides else "no campaign overrides")
        parts.append(f"data_stale after {_seconds(self.stale_after)}")
        auto = self.auto_pause
        if auto is None:
            parts.append("no auto-pause")
        else:
            mode = "dry run: nothing is paused" if auto.dry_run else "pauses for real"
            parts.append(
                f"auto-pause {', '.join(auto.campaigns)} at {_percent(auto.at)} on "
                f"{' and '.join(auto.windows)} ({mode})"
            )
        return "; ".join(parts)


def rules_from_config(settings: Settings) -> AlertRules:
    """The plain rules of ``settings.alerts``, overrides merged per campaign."""
    alerts = settings.alerts
    campaigns = {
        campaign: _campaign_rule(alerts.for_campaign(campaign)) for campaign in alerts.campaigns
    }
    auto_pause = None
    if alerts.auto_pause is not None:
        config = alerts.auto_pause
        pending = {
            campaign: alerts.for_campaign(campaign).pending.total_seconds()
            for campaign in config.campaigns
        }
        auto_pause = AutoPauseRule(
            campaigns=tuple(config.campaigns),
            at=config.at,
            dry_run=config.dry_run,
            windows=tuple(config.windows),
            pending=MappingProxyType(pending),
        )
    return AlertRules(
        default=_campaign_rule(alerts),
        campaigns=MappingProxyType(campaigns),
        stale_after=alerts.stale_after.total_seconds(),
        auto_pause=auto_pause,
    )


def _campaign_rule(alerts: AlertsConfig) -> CampaignRule:
    rule = WindowRule(
        thresholds=Thresholds(
            limit=alerts.limit,
            warn_at=alerts.warn_at,
            critical_at=alerts.critical_at,
            min_answered=alerts.min_answered,
        ),
        pending=alerts.pending.total_seconds(),
        clear_margin=alerts.clear_margin,
        repeat=alerts.repeat.total_seconds(),
        quiet_hours=alerts.quiet_hours,
    )
    return CampaignRule(windows=alerts.alerted_windows(), rule=rule)


# --- describing ------------------------------------------------------------------------------


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.4g} %"


def _seconds(seconds: float) -> str:
    return format_duration(timedelta(seconds=seconds))


def _windows(windows: tuple[str, ...]) -> str:
    if not windows:
        return "no window"
    return windows[0] if len(windows) == 1 else f"{', '.join(windows[:-1])} and {windows[-1]}"


def _quiet(quiet: tuple[time, time] | None) -> str:
    return f"quiet hours {format_quiet_hours(quiet)}" if quiet else "no quiet hours"


def _describe(campaign: CampaignRule) -> str:
    rule = campaign.rule
    thresholds = rule.thresholds
    return (
        f"drop alerts on {_windows(campaign.windows)}: warning at {_percent(thresholds.warn_at)}, "
        f"critical at {_percent(thresholds.critical_at)}, limit {_percent(thresholds.limit)}, "
        f"from {thresholds.min_answered} answered, pending {_seconds(rule.pending)}, "
        f"clear margin {_percent(rule.clear_margin)}, reminders every {_seconds(rule.repeat)}, "
        f"{_quiet(rule.quiet_hours)}"
    )


def _differences(default: CampaignRule, campaign: CampaignRule) -> list[str]:
    """What ``campaign`` does differently from the defaults, in the words of :func:`_describe`."""
    ours, theirs = campaign.rule, default.rule
    found = []
    if campaign.windows != default.windows:
        found.append(f"alerts on {_windows(campaign.windows)}")
    pairs = (
        ("warning at", ours.thresholds.warn_at, theirs.thresholds.warn_at),
        ("critical at", ours.thresholds.critical_at, theirs.thresholds.critical_at),
        ("limit", ours.thresholds.limit, theirs.thresholds.limit),
        ("clear margin", ours.clear_margin, theirs.clear_margin),
    )
    found += [f"{label} {_percent(mine)}" for label, mine, other in pairs if mine != other]
    if ours.thresholds.min_answered != theirs.thresholds.min_answered:
        found.append(f"from {ours.thresholds.min_answered} answered")
    if ours.pending != theirs.pending:
        found.append(f"pending {_seconds(ours.pending)}")
    if ours.repeat != theirs.repeat:
        found.append(f"reminders every {_seconds(ours.repeat)}")
    if ours.quiet_hours != theirs.quiet_hours:
        found.append(_quiet(ours.quiet_hours))
    return found
