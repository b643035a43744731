"""Compose a :class:`~wallboard.snapshot.Snapshot` from the latest result of each source.

Pure: no I/O, time is a parameter. The poller calls :func:`compose_snapshot` after every poll;
a source that failed simply contributes its previous result, so a failing ``hopper_list`` never
blanks the calls-today figures (the failure shows in that source's status instead).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from wallboard.compose_windows import TargetFigures, WindowInputs, extra_windows, group_view
from wallboard.snapshot import (
    AGENT_STATES,
    AgentCounts,
    AgentView,
    CampaignView,
    DialerInfo,
    ExtraWindow,
    IngroupView,
    LoginBlock,
    Snapshot,
    SourceStatus,
)
from wallboard.vicidial.models import (
    CallStatusStats,
    CampaignInfo,
    InGroupStatus,
    LoggedInAgent,
    VersionInfo,
    agent_state,
)
from wallboard.windows import DropWindow, rolling
from wallboard.windows.ofcom import OfcomCounts, OfcomStatuses, ofcom_counts


@dataclass(frozen=True, slots=True)
class DatedStats:
    """A ``call_status_stats`` answer and the dialer-local day it was taken for."""

    day: date
    lines: tuple[CallStatusStats, ...]


@dataclass(frozen=True, slots=True)
class AgentState:
    """An agent's state, since when, and whether that time was seen (``exact``) or is only
    a lower bound (the agent was already in the state when the daemon started watching)."""

    state: str
    since: datetime
    exact: bool


@dataclass(frozen=True)
class SourceResults:
    """The latest good answer of each source (``None`` until the first success)."""

    agents: tuple[LoggedInAgent, ...] | None = None
    call_stats: DatedStats | None = None
    campaigns: tuple[CampaignInfo, ...] | None = None
    hoppers: Mapping[str, int] = field(default_factory=dict)
    ingroups: Mapping[str, InGroupStatus] | None = None  # by in-group, each asked alone
    version: VersionInfo | None = None


def tracked_campaign_ids(
    configured: Sequence[str] | None,
    results: SourceResults,
    ingroups: Iterable[str] = (),
) -> list[str]:
    """The campaigns on show: the configured list, or every campaign VICIdial lists."""
    if configured is not None:
        return list(configured)
    if results.campaigns is not None:
        return [campaign.campaign_id for campaign in results.campaigns]
    if results.call_stats is not None:
        excluded = set(ingroups)
        return [line.code for line in results.call_stats.lines if line.code not in excluded]
    if results.agents is not None:
        return sorted({agent.campaign_id for agent in results.agents})
    return []


def compose_snapshot(
    *,
    now: datetime,
    local_date: date,
    campaign_ids: Sequence[str],
    results: SourceResults,
    statuses: Sequence[SourceStatus],
    history: Mapping[str, DropWindow] | None,
    agent_states: Mapping[str, AgentState],
    leader: str = "",
    login_block: LoginBlock | None = None,
    windows: WindowInputs | None = None,
    dialer_offset_hours: float | None = None,
    dialer_timezone: str = "",
) -> Snapshot:
    """Build the snapshot.

    ``history`` holds each campaign's summed past days of the 30-day window (``None`` while
    they are not known for today: the window is then today alone, and says so in ``days``).
    ``agent_states`` is each agent's state, since when, and whether that time is exact.
    ``windows`` adds the compliance windows, the forecast and the drop-rate groups (None: only
    ``today`` and ``30d``, as in tests of other things); ``dialer_offset_hours`` is the
    dialer's UTC offset in force (``version``'s when not given).
    """
    infos = {c.campaign_id: c for c in results.campaigns or ()}
    stats: dict[str, CallStatusStats] = {}
    if results.call_stats is not None and results.call_stats.day == local_date:
        stats = {line.code: line for line in results.call_stats.lines}
    agents = results.agents or ()
    states = {agent.user: agent_state(agent).value for agent in agents}
    per_campaign: dict[str, Counter[str]] = {}
    for agent in agents:
        per_campaign.setdefault(agent.campaign_id, Counter())[states[agent.user]] += 1

    campaigns = []
    ofcom_by_campaign: dict[str, OfcomCounts | None] = {}
    for campaign_id in campaign_ids:
        info = infos.get(campaign_id)
        line = stats.get(campaign_id)
        today = (
            DropWindow(calls=line.calls, answered=line.human_answered, dropped=line.drops)
            if line is not None
            else DropWindow()
        )
        past = None if history is None else history.get(campaign_id, DropWindow(days=0))
        counts = per_campaign.get(campaign_id, Counter())
        extras: tuple[ExtraWindow, ...] = ()
        projection = None
        if windows is not None:
            ofcom = _ofcom(line, windows.compliance.for_target(campaign_id).ofcom)
            ofcom_by_campaign[campaign_id] = ofcom
            extras, projection = extra_windows(
                campaign_id,
                TargetFigures(today, ofcom),
                windows,
                local_date,
                anchor=windows.anchors.get(campaign_id),
                past_days=None
                if windows.past_days is None
                else windows.past_days.get(campaign_id, {}),
            )
        campaigns.append(
            CampaignView(
                id=campaign_id,
                name=info.campaign_name if info else "",
                active=info.active if info else None,
                dial_method=info.dial_method if info else "",
                dial_level=info.dial_level if info else None,
                hopper_leads=results.hoppers.get(campaign_id),
                today=today,
                last_30d=rolling(today, past),
                agents=AgentCounts(**{state: counts.get(state, 0) for state in AGENT_STATES}),
                # No Non-Agent API function gives waiting calls per outbound campaign;
                # inbound queues are ``inbound_calls_waiting`` (in_group_status).
                calls_waiting=None,
                extra_windows=extras,
                forecast=projection,
                trend=windows.trend.get(campaign_id, ()) if windows is not None else (),
            )
        )
    groups: list[CampaignView] = []
    if windows is not None:
        by_id = {campaign.id: campaign for campaign in campaigns}
        for group in windows.compliance.groups:
            members = [by_id[member] for member in group.campaigns if member in by_id]
            if len(members) < len(group.campaigns):
                continue  # a member is not on the floor: a partial sum is not the group's figure
            groups.append(
                group_view(
                    group,
                    members,
                    [ofcom_by_campaign.get(member) for member in group.campaigns],
                    windows,
                    local_date,
                )
            )

    agent_views = tuple(
        _agent_view(agent, states[agent.user], agent_states.get(agent.user), now)
        for agent in sorted(agents, key=lambda a: (a.campaign_id, a.user))
    )
    ingroup_views = tuple(
        IngroupView(id=ingroup, calls_waiting=status.calls_waiting, total_calls=status.total_calls)
        for ingroup, status in (results.ingroups or {}).items()
    )
    version = results.version
    return Snapshot(
        taken_at=now,
        local_date=local_date,
        campaigns=tuple(campaigns),
        groups=tuple(groups),
        agents=agent_views,
        sources=tuple(statuses),
        inbound_calls_waiting=sum(view.calls_waiting for view in ingroup_views),
        ingroups=ingroup_views,
        dialer=DialerInfo(
            version=version.version if version else "",
            build=version.build if version else "",
            utc_offset_hours=dialer_offset_hours
            if dialer_offset_hours is not None
            else (version.tz_now if version else None),
            timezone=dialer_timezone,
        ),
        leader=leader,
        login_block=login_block,
    )


def _ofcom(line: CallStatusStats | None, which: OfcomStatuses) -> OfcomCounts | None:
    if line is None:
        return None
    return ofcom_counts(line.calls, line.human_answered, line.statuses, which)


def _agent_view(
    agent: LoggedInAgent, state: str, since: AgentState | None, now: datetime
) -> AgentView:
    return AgentView(
        user=agent.user,
        name=agent.full_name,
        campaign=agent.campaign_id,
        state=state,
        status=agent.status,
        sub_status=agent.sub_status or "",
        pause_code=agent.pause_code or "",
        calls_today=agent.calls_today,
        state_since=since.since if since is not None else now,
        state_since_exact=since.exact if since is not None else False,
    )
