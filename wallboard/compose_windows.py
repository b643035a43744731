"""The compliance windows of one campaign or drop-rate group: ``period``, ``today_ofcom``,
the pacing windows and the forecast, composed from what the poller knows.

Pure, like :mod:`wallboard.compose` (which calls it): the poller hands in the stored past days,
the fixed period anchors, the observed pacing windows and the settings, and gets frozen values
back. A group is composed from its members' figures the way VICIdial's Drop Rate Groups pool
them: the counts are summed, then the ratio is taken (never an average of ratios), and a day
missing for any member is missing for the group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from wallboard.compliance import CampaignCompliance, ComplianceSettings, DropGroup
from wallboard.snapshot import AgentCounts, CampaignView, ExtraWindow
from wallboard.windows import DropWindow, total
from wallboard.windows.forecast import Forecast, forecast
from wallboard.windows.names import PACE_1H, PACING_SPANS, PERIOD, TODAY_OFCOM
from wallboard.windows.ofcom import OfcomCounts, pooled
from wallboard.windows.pacing import PaceWindow
from wallboard.windows.period import period_start, pooled_days, sum_days
from wallboard.windows.trend import TrendPoint

#: Shift end (dialer time, ``None`` = midnight) → the instant it falls on for today.
Horizon = Callable[[time | None], datetime]


@dataclass(frozen=True)
class WindowInputs:
    """What the poller knows beyond today's counters.

    ``past_days`` maps each campaign to its stored past days of the rolling window (``None``
    until they are loaded for today); ``anchors`` the period anchors fixed from the store for
    campaigns without a ``period_start``; ``pace`` each target's pacing windows by name.
    """

    compliance: ComplianceSettings
    horizon: Horizon
    past_days: Mapping[str, Mapping[date, DropWindow]] | None = None
    anchors: Mapping[str, date] = field(default_factory=dict)
    pace: Mapping[str, Mapping[str, PaceWindow]] = field(default_factory=dict)
    #: Each group's pooled past days, when the caller keeps them (else pooled here).
    group_days: Mapping[str, Mapping[date, DropWindow]] | None = None
    #: Each target's points of today's ratio (the TV's sparkline).
    trend: Mapping[str, tuple[TrendPoint, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TargetFigures:
    """One target's live counts as compose hands them over."""

    today: DropWindow
    ofcom: OfcomCounts | None  # None: no stats line (counts unknown)


def extra_windows(
    target: str,
    figures: TargetFigures,
    inputs: WindowInputs,
    local_date: date,
    *,
    anchor: date | None,
    past_days: Mapping[date, DropWindow] | None,
) -> tuple[tuple[ExtraWindow, ...], Forecast | None]:
    """``target``'s extra windows (in :data:`~wallboard.windows.names.WINDOWS` order) and
    its forecast."""
    settings = inputs.compliance.for_target(target)
    extras: list[ExtraWindow] = []
    period = _period(figures.today, settings, anchor, past_days, local_date)
    if period is not None:
        extras.append(period)
    if settings.uk_ofcom:
        ofcom = figures.ofcom or OfcomCounts()
        extras.append(ExtraWindow(TODAY_OFCOM, ofcom.window()))
    paces = inputs.pace.get(target, {})
    for name in PACING_SPANS:
        pace = paces.get(name)
        if pace is not None:
            extras.append(ExtraWindow(name, pace.window, span_seconds=pace.span_seconds))
    return tuple(extras), _forecast(figures.today, paces.get(PACE_1H), settings, inputs)


def _period(
    today: DropWindow,
    settings: CampaignCompliance,
    anchor: date | None,
    past_days: Mapping[date, DropWindow] | None,
    local_date: date,
) -> ExtraWindow | None:
    anchor = settings.period_start or anchor
    if anchor is None:
        return None
    first = period_start(anchor, local_date)
    if first is None:
        return None  # the configured period has not begun
    yesterday = local_date - timedelta(days=1)
    past = sum_days(past_days, first, yesterday) if past_days is not None else DropWindow(days=0)
    window = total((today, past)) if past.days else today
    return ExtraWindow(PERIOD, window, since=first)


def _forecast(
    today: DropWindow,
    pace: PaceWindow | None,
    settings: CampaignCompliance,
    inputs: WindowInputs,
) -> Forecast | None:
    """Projected from the newest counters (``pace.as_of``): the forecast moves when a stats
    answer arrives, not at every agents poll in between."""
    if pace is None:
        return None
    horizon = inputs.horizon(settings.shift_end)
    return forecast(today, pace.window, pace.span_seconds, pace.as_of, horizon, settings.thresholds)


# -- drop-rate groups ---------------------------------------------------------------------------


def group_past_days(
    members: Sequence[str], past_days: Mapping[str, Mapping[date, DropWindow]] | None
) -> Mapping[date, DropWindow] | None:
    """Per-day sums over the members; a day some member lacks is left out (missing)."""
    if past_days is None:
        return None
    return pooled_days([past_days.get(member, {}) for member in members])


def group_anchor(
    group: DropGroup, anchors: Mapping[str, date], compliance: ComplianceSettings
) -> date | None:
    """A group's periods run from its own ``period_start``, else from its earliest member's
    start (configured or fixed)."""
    starts = [
        compliance.for_target(member).period_start or anchors.get(member)
        for member in group.campaigns
    ]
    found = [start for start in starts if start is not None]
    return min(found, default=None)


def group_view(
    group: DropGroup,
    members: Sequence[CampaignView],
    ofcom: Iterable[OfcomCounts | None],
    inputs: WindowInputs,
    local_date: date,
) -> CampaignView:
    """The group as a campaign-like view: pooled counts, its own windows and forecast."""
    summed = total(member.today for member in members) if members else DropWindow()
    today = DropWindow(summed.calls, summed.answered, summed.dropped)
    if inputs.group_days is not None and group.key in inputs.group_days:
        past_days: Mapping[date, DropWindow] | None = inputs.group_days[group.key]
    else:
        past_days = group_past_days(group.campaigns, inputs.past_days)
    past = total(past_days.values()) if past_days else DropWindow(days=0)
    # The same rule as the period and the ledger: a day some member lacks is missing.
    last_30d = total((today, past)) if past_days else today
    known = [counts for counts in ofcom if counts is not None]
    figures = TargetFigures(today, pooled(known))
    extras, projection = extra_windows(
        group.key,
        figures,
        inputs,
        local_date,
        anchor=group_anchor(group, inputs.anchors, inputs.compliance),
        past_days=past_days,
    )
    return CampaignView(
        id=group.key,
        name=group.name,
        today=figures.today,
        last_30d=last_30d,
        agents=AgentCounts(),
        extra_windows=extras,
        forecast=projection,
        members=tuple(group.campaigns),
        trend=inputs.trend.get(group.key, ()),
    )
