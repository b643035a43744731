"""Daemon-level incidents: the dead-man switch (``data_stale``) and the login breaker.

Pure functions of the snapshot, the previous incident and ``now``. A drop alert can only be as
good as the data under it, so when the data stops it is not a drop alert that fires (the drop
windows freeze instead) but one ``data_stale`` incident, once any floor source has been stale
continuously for ``alerts.stale_after``; and one ``login`` incident, naming the cause, while
the login circuit breaker stops the polling. Both resolve on recovery and go to Slack like any
other incident, with ``campaign`` empty.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from wallboard.alerts.types import Action, Incident, Kind, Level, Notification
from wallboard.snapshot import Snapshot

_SOURCE_WORDS = {
    "logged_in_agents": "agents",
    "call_status_stats": "call counts",
    "campaigns_list": "campaigns",
    "hopper_list": "hoppers",
    "in_group_status": "inbound queues",
}


def stale_since(snapshot: Snapshot, now: datetime, started: datetime) -> dict[str, datetime]:
    """Each stale floor source and since when it has been stale (continuously).

    A source that never answered has been stale since the engine started watching.
    """
    since: dict[str, datetime] = {}
    for name in snapshot.stale_sources(now):
        status = snapshot.source(name)
        moment = status.stale_at() if status is not None else None
        since[name] = moment if moment is not None else started
    return since


def data_stale_step(
    incident: Incident | None,
    snapshot: Snapshot,
    now: datetime,
    *,
    started: datetime,
    stale_after: float,
) -> tuple[Incident | None, list[Notification]]:
    """Open, refresh or resolve the one ``data_stale`` incident."""
    since = stale_since(snapshot, now, started)
    overdue = {
        name: moment
        for name, moment in since.items()
        if now - moment >= timedelta(seconds=stale_after)
    }
    if incident is None:
        if not overdue:
            return None, []
        summary = _stale_summary(since, now)
        opened = _daemon_incident(Kind.DATA_STALE, min(overdue.values()), summary, now)
        text = f"DATA NOT UPDATING: {summary}; drop alerts are frozen until it recovers"
        return opened, [Notification(opened, Action.OPENED, text, now)]
    if not since:
        closed = replace(incident, updated_at=now, closed_at=now, close_reason="resolved")
        lasted = int((now - incident.opened_at).total_seconds() // 60)
        text = f"data updating again after {lasted} min; drop alerts evaluate again"
        return None, [Notification(closed, Action.RESOLVED, text, now)]
    summary = _stale_summary(since, now)
    if summary == incident.summary:
        return incident, []
    return replace(incident, summary=summary, updated_at=now), []


def login_step(
    incident: Incident | None, snapshot: Snapshot, now: datetime
) -> tuple[Incident | None, list[Notification]]:
    """Open the ``login`` incident while the breaker is open; resolve when it closes."""
    block = snapshot.login_block
    if block is None:
        if incident is None:
            return None, []
        closed = replace(incident, updated_at=now, closed_at=now, close_reason="resolved")
        return None, [
            Notification(closed, Action.RESOLVED, "VICIdial accepts the login again", now)
        ]
    summary = f"VICIdial refuses the wallboard's login ({block.cause}): {block.fix}"
    if incident is not None:
        if incident.summary == summary:
            return incident, []
        changed = replace(incident, summary=summary, updated_at=now)
        return changed, [Notification(changed, Action.ESCALATED, summary, now)]
    opened = _daemon_incident(Kind.LOGIN, block.since, summary, now)
    text = f"{summary}. Polling is stopped; next try {block.next_probe:%H:%M} UTC"
    return opened, [Notification(opened, Action.OPENED, text, now)]


def _daemon_incident(kind: Kind, since: datetime, summary: str, now: datetime) -> Incident:
    """A daemon-level incident (no campaign, no window), keyed by when its cause began."""
    return Incident(
        key=f"{kind}::{since.isoformat()}",
        kind=kind,
        campaign="",
        window="",
        severity=Level.CRITICAL,
        opened_at=now,
        updated_at=now,
        summary=summary,
    )


def _stale_summary(since: dict[str, datetime], now: datetime) -> str:
    """Which figures stopped and since when (times, not ages: the summary changes only when
    the set of stale sources does)."""
    parts = [
        f"{_SOURCE_WORDS.get(name, name)} (stale since {moment:%H:%M} UTC)"
        for name, moment in sorted(since.items(), key=lambda item: item[1])
    ]
    return "no fresh " + ", ".join(parts)
