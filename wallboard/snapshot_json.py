"""Snapshot ↔ JSON: the public ``/api/snapshot`` shape (CONTRACT §4) and the Redis codec.

Two different jobs, kept apart on purpose:

* :func:`api_document` renders what screens and scripts read. It is computed at read time
  (``now`` is a parameter) so ``age_seconds``/``stale`` are honest at the moment of reading.
* :class:`SnapshotJsonCodec` is lossless: a follower instance decodes exactly the snapshot the
  leader encoded, so ``==`` still decides whether anything changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from wallboard.alerts.types import AlertView, Incident
from wallboard.snapshot import (
    AgentCounts,
    AgentView,
    CampaignView,
    DialerInfo,
    DropWindow,
    LoginBlock,
    Snapshot,
    SourceStatus,
)
from wallboard.windows import Thresholds, WindowFigures, figures

JsonDict = dict[str, Any]


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z`` (what browsers and Grafana parse without surprises)."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def api_document(
    snapshot: Snapshot,
    now: datetime,
    *,
    limit: float,
    alerts: Sequence[Mapping[str, Any]] = (),
    campaigns: Sequence[str] | None = None,
    warn_at: float | None = None,
    critical_at: float | None = None,
    thresholds: Thresholds | None = None,
    alert_view: AlertView | None = None,
    thresholds_for: Callable[[str], Thresholds] | None = None,
) -> JsonDict:
    """The ``/api/snapshot`` JSON for ``snapshot`` as seen at ``now``.

    ``campaigns`` narrows the document to one board's campaigns (agents included).
    ``thresholds`` grade each window (the windows module decides severity, never the page);
    without it they are built from ``limit``/``warn_at``/``critical_at``. ``alert_view`` (the
    alert engine's, shared through the cache) gives ``alerts`` and each window's
    ``alert_state``; without it, ``alerts`` is the given list. ``thresholds_for`` grades each
    campaign by its own ``[alerts.campaigns.X]`` overrides.
    """
    wanted = set(campaigns) if campaigns is not None else None
    age = snapshot.age_seconds(now)
    if thresholds is None:
        defaults = Thresholds()
        thresholds = Thresholds(
            limit=limit,
            warn_at=defaults.warn_at if warn_at is None else warn_at,
            critical_at=defaults.critical_at if critical_at is None else critical_at,
        )
    return {
        "taken_at": iso(snapshot.taken_at),
        "generated_at": iso(now),
        "age_seconds": None if age is None else round(age, 1),
        "stale": snapshot.stale(now),
        "stale_sources": snapshot.stale_sources(now),
        "local_date": snapshot.local_date.isoformat(),
        "leader": snapshot.leader,
        "dialer": {
            "version": snapshot.dialer.version,
            "build": snapshot.dialer.build,
            "utc_offset_hours": snapshot.dialer.utc_offset_hours,
        },
        "inbound_calls_waiting": snapshot.inbound_calls_waiting,
        "thresholds": {
            "limit": thresholds.limit,
            "warn_at": thresholds.warn_at,
            "critical_at": thresholds.critical_at,
            "min_answered": thresholds.min_answered,
        },
        "login": _login_document(snapshot.login_block),
        "campaigns": [
            _campaign_document(
                campaign,
                thresholds if thresholds_for is None else thresholds_for(campaign.id),
                counts_known=snapshot.counts_known,
                view=alert_view,
            )
            for campaign in snapshot.campaigns
            if wanted is None or campaign.id in wanted
        ],
        "agents": [
            _agent_document(agent)
            for agent in snapshot.agents
            if wanted is None or agent.campaign in wanted
        ],
        "alerts": [dict(alert) for alert in alerts]
        if alert_view is None
        else alerts_document(alert_view, wanted),
        "sources": {status.function: _source_document(status, now) for status in snapshot.sources},
    }


def _login_document(block: LoginBlock | None) -> JsonDict | None:
    """The login breaker, when open: why, the fix, and when it probes next."""
    if block is None:
        return None
    return {
        "cause": block.cause,
        "fix": block.fix,
        "since": iso(block.since),
        "next_probe": iso(block.next_probe),
    }


def alerts_document(view: AlertView, campaigns: set[str] | None = None) -> list[JsonDict]:
    """Open incidents, CONTRACT §4 shape plus ``kind``, ``auto_pause``, ``key`` and
    ``summary``. Daemon-level incidents (``campaign`` empty) show on every board."""
    return [
        _alert_document(incident)
        for incident in view.incidents
        if campaigns is None or not incident.campaign or incident.campaign in campaigns
    ]


def _alert_document(incident: Incident) -> JsonDict:
    figures = incident.figures
    pause = incident.auto_pause
    return {
        "campaign": incident.campaign,
        "severity": incident.severity.value,
        "window": incident.window,
        "value": None if figures is None or figures.ratio is None else round(figures.ratio, 6),
        "since": iso(incident.opened_at),
        "kind": incident.kind.value,
        "key": incident.key,
        "summary": incident.summary,
        "drops_remaining": None if figures is None else figures.drops_remaining,
        "auto_pause": None
        if pause is None
        else {
            "at": iso(pause.at),
            "dry_run": pause.dry_run,
            "outcome": pause.outcome,
            "detail": pause.detail,
        },
    }


def _window_document(window: WindowFigures, alert_state: str) -> JsonDict:
    return {
        "calls": window.calls,
        "answered": window.answered,
        "dropped": window.dropped,
        "ratio": round(window.ratio, 6),
        "drops_remaining": window.drops_remaining,
        "severity": window.severity.value,
        "alert_state": alert_state,
        "days": window.days,
    }


def _campaign_document(
    campaign: CampaignView,
    thresholds: Thresholds,
    *,
    counts_known: bool,
    view: AlertView | None = None,
) -> JsonDict:
    """One campaign; call counts are ``null`` until ``call_status_stats`` first answers,
    because a 0 % drop ratio must only ever mean "no drops"."""
    limit = thresholds.limit
    graded = {name: figures(window, thresholds) for name, window in campaign.windows.items()}
    document: JsonDict = {
        "id": campaign.id,
        "name": campaign.name,
        "active": campaign.active,
        "dial_method": campaign.dial_method,
        "dial_level": campaign.dial_level,
        "hopper_leads": campaign.hopper_leads,
        "calls_today": campaign.today.calls,
        "answered_today": campaign.today.answered,
        "dropped_today": campaign.today.dropped,
        "drop_ratio": round(campaign.today.drop_ratio, 6),
        "drops_remaining": campaign.today.drops_remaining(limit),
        "calls_30d": campaign.last_30d.calls,
        "answered_30d": campaign.last_30d.answered,
        "dropped_30d": campaign.last_30d.dropped,
        "days_30d": campaign.last_30d.days,
        "drop_ratio_30d": round(campaign.last_30d.drop_ratio, 6),
        "drops_remaining_30d": campaign.last_30d.drops_remaining(limit),
        "agents": campaign.agents.as_dict(),
        "calls_waiting": campaign.calls_waiting,
        "windows": {
            name: _window_document(
                window, view.state(campaign.id, name).value if view is not None else "ok"
            )
            for name, window in graded.items()
        }
        if counts_known
        else None,
    }
    if not counts_known:
        for key in _COUNT_KEYS:
            document[key] = None
    return document


_COUNT_KEYS = (
    "calls_today",
    "answered_today",
    "dropped_today",
    "drop_ratio",
    "drops_remaining",
    "calls_30d",
    "answered_30d",
    "dropped_30d",
    "drop_ratio_30d",
    "drops_remaining_30d",
)


def _agent_document(agent: AgentView) -> JsonDict:
    return {
        "user": agent.user,
        "name": agent.name,
        "campaign": agent.campaign,
        "state": agent.state,
        "status": agent.status,
        "sub_status": agent.sub_status,
        "pause_code": agent.pause_code,
        "calls_today": agent.calls_today,
        "state_since": iso(agent.state_since),
        "state_since_exact": agent.state_since_exact,
    }


def _source_document(status: SourceStatus, now: datetime) -> JsonDict:
    age = status.age(now)
    return {
        "ok": status.ok,
        "stale": status.stale(now),
        "last_success": iso(status.last_success),
        "age_seconds": None if age is None else round(age, 1),
        "error": status.last_error,
        "error_kind": status.error_kind,
        "failing_since": iso(status.failing_since),
        "interval_seconds": status.interval,
    }


class SnapshotJsonCodec:
    """Lossless JSON encoding of :class:`Snapshot` for the Redis backend."""

    def encode(self, snapshot: Snapshot) -> bytes:
        document = {
            "taken_at": iso(snapshot.taken_at),
            "local_date": snapshot.local_date.isoformat(),
            "inbound_calls_waiting": snapshot.inbound_calls_waiting,
            "leader": snapshot.leader,
            "login_block": _login_document(snapshot.login_block),
            "dialer": [
                snapshot.dialer.version,
                snapshot.dialer.build,
                snapshot.dialer.utc_offset_hours,
            ],
            "campaigns": [
                {
                    "id": c.id,
                    "name": c.name,
                    "active": c.active,
                    "dial_method": c.dial_method,
                    "dial_level": c.dial_level,
                    "hopper_leads": c.hopper_leads,
                    "today": [c.today.calls, c.today.answered, c.today.dropped, c.today.days],
                    "last_30d": [
                        c.last_30d.calls,
                        c.last_30d.answered,
                        c.last_30d.dropped,
                        c.last_30d.days,
                    ],
                    "agents": c.agents.as_dict(),
                    "calls_waiting": c.calls_waiting,
                }
                for c in snapshot.campaigns
            ],
            "agents": [
                [
                    a.user,
                    a.name,
                    a.campaign,
                    a.state,
                    a.status,
                    a.sub_status,
                    a.pause_code,
                    a.calls_today,
                    iso(a.state_since),
                    a.state_since_exact,
                ]
                for a in snapshot.agents
            ],
            "sources": [
                {
                    "function": s.function,
                    "interval": s.interval,
                    "ok": s.ok,
                    "last_success": iso(s.last_success),
                    "last_error": s.last_error,
                    "error_kind": s.error_kind,
                    "failing_since": iso(s.failing_since),
                }
                for s in snapshot.sources
            ],
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(self, data: bytes) -> Snapshot:
        document = json.loads(data)
        version, build, offset = document["dialer"]
        return Snapshot(
            taken_at=_required_time(document["taken_at"]),
            local_date=date.fromisoformat(document["local_date"]),
            inbound_calls_waiting=document["inbound_calls_waiting"],
            leader=document.get("leader", ""),
            login_block=_decode_login(document.get("login_block")),
            dialer=DialerInfo(version=version, build=build, utc_offset_hours=offset),
            campaigns=tuple(
                CampaignView(
                    id=c["id"],
                    name=c["name"],
                    active=c["active"],
                    dial_method=c["dial_method"],
                    dial_level=c["dial_level"],
                    hopper_leads=c["hopper_leads"],
                    today=DropWindow(*c["today"]),
                    last_30d=DropWindow(*c["last_30d"]),
                    agents=AgentCounts(**c["agents"]),
                    calls_waiting=c["calls_waiting"],
                )
                for c in document["campaigns"]
            ),
            agents=tuple(
                AgentView(
                    user=a[0],
                    name=a[1],
                    campaign=a[2],
                    state=a[3],
                    status=a[4],
                    sub_status=a[5],
                    pause_code=a[6],
                    calls_today=a[7],
                    state_since=_required_time(a[8]),
                    state_since_exact=bool(a[9]) if len(a) > 9 else True,
                )
                for a in document["agents"]
            ),
            sources=tuple(
                SourceStatus(
                    function=s["function"],
                    interval=s["interval"],
                    ok=s["ok"],
                    last_success=_parse_time(s["last_success"]),
                    last_error=s["last_error"],
                    error_kind=s["error_kind"],
                    failing_since=_parse_time(s["failing_since"]),
                )
                for s in document["sources"]
            ),
        )


def _decode_login(document: Any) -> LoginBlock | None:
    if not document:
        return None
    return LoginBlock(
        cause=document["cause"],
        fix=document["fix"],
        since=_required_time(document["since"]),
        next_probe=_required_time(document["next_probe"]),
    )


def _required_time(text: str) -> datetime:
    moment = _parse_time(text)
    if moment is None:
        raise ValueError("missing timestamp")
    return moment
