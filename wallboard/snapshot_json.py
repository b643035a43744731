"""Snapshot ↔ JSON: the public ``/api/snapshot`` shape (CONTRACT §4) and the Redis codec.

Two different jobs, kept apart on purpose:

* :func:`api_document` renders what screens and scripts read. It is computed at read time
  (``now`` is a parameter) so ``age_seconds``/``stale`` are honest at the moment of reading.
* :class:`SnapshotJsonCodec` is lossless: a follower instance decodes exactly the snapshot the
  leader encoded, so ``==`` still decides whether anything changed.

Every drop figure in the document says which figure it is (``label``, ``formula``) and what it
covers (``days``, ``since``, ``span_seconds``): VICIdial's day, a rolling 30 days, the regulatory
period and Ofcom's machine-adjusted day are different numbers, and a number shown without its
definition is how a floor ends up arguing with an auditor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from wallboard.alerts.types import AlertView, Incident
from wallboard.forecast_text import forecast_sentence, local_clock
from wallboard.snapshot import (
    AgentCounts,
    AgentView,
    CampaignView,
    DialerInfo,
    DropWindow,
    ExtraWindow,
    IngroupView,
    LoginBlock,
    Snapshot,
    SourceStatus,
)
from wallboard.windows import Thresholds, WindowFigures, figures
from wallboard.windows.forecast import Crossing, Forecast
from wallboard.windows.names import LABELS, TODAY_OFCOM, WINDOWS
from wallboard.windows.trend import TrendPoint

JsonDict = dict[str, Any]

#: The prefix of a drop-rate group's id (``group:NAME``), as in ``/metrics`` and alerts.
GROUP_PREFIX = "group:"


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
    ingroups: Sequence[str] | None = None,
    warn_at: float | None = None,
    critical_at: float | None = None,
    thresholds: Thresholds | None = None,
    alert_view: AlertView | None = None,
    thresholds_for: Callable[[str], Thresholds] | None = None,
) -> JsonDict:
    """The ``/api/snapshot`` JSON for ``snapshot`` as seen at ``now``.

    ``campaigns`` narrows the document to one board's campaigns (agents included), and to the
    drop-rate groups with at least one of them as a member; ``ingroups`` narrows the in-groups
    (and ``inbound_calls_waiting``, their sum) to one board's. ``thresholds`` grade each window
    (the windows module decides severity, never the page); without it they are built from
    ``limit``/``warn_at``/``critical_at``. ``alert_view`` (the alert engine's, shared through
    the cache) gives ``alerts`` and each window's ``alert_state``; without it, ``alerts`` is
    the given list. ``thresholds_for`` grades each campaign and group (``group:NAME``) by its
    own ``[alerts.campaigns.X]`` overrides.
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
    groups = [
        group
        for group in snapshot.groups
        if wanted is None or any(member in wanted for member in group.members)
    ]
    shown = None if wanted is None else wanted | {group.id for group in groups}
    shown_ingroups = [
        ingroup for ingroup in snapshot.ingroups if ingroups is None or ingroup.id in ingroups
    ]

    def graded(target: CampaignView) -> Thresholds:
        assert thresholds is not None
        return thresholds if thresholds_for is None else thresholds_for(target.id)

    drops = _DropContext(
        counts_known=snapshot.counts_known,
        view=alert_view,
        utc_offset_hours=snapshot.dialer.utc_offset_hours,
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
            "timezone": snapshot.dialer.timezone,
        },
        "inbound_calls_waiting": sum(g.calls_waiting for g in shown_ingroups),
        "ingroups": [
            {"id": g.id, "calls_waiting": g.calls_waiting, "total_calls": g.total_calls}
            for g in shown_ingroups
        ],
        "thresholds": {
            "limit": thresholds.limit,
            "warn_at": thresholds.warn_at,
            "critical_at": thresholds.critical_at,
            "min_answered": thresholds.min_answered,
        },
        "login": _login_document(snapshot.login_block),
        "campaigns": [
            _campaign_document(campaign, graded(campaign), drops)
            for campaign in snapshot.campaigns
            if wanted is None or campaign.id in wanted
        ],
        "drop_groups": [_group_document(group, graded(group), drops) for group in groups],
        "agents": [
            _agent_document(agent)
            for agent in snapshot.agents
            if wanted is None or agent.campaign in wanted
        ],
        "alerts": [dict(alert) for alert in alerts]
        if alert_view is None
        else alerts_document(alert_view, shown),
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


@dataclass(frozen=True, slots=True)
class _DropContext:
    """What every drop document of one snapshot shares: whether counts were ever fetched,
    the alert engine's states, and the dialer's clock for forecast times."""

    counts_known: bool
    view: AlertView | None
    utc_offset_hours: float | None

    def alert_state(self, target: str, window: str) -> str:
        return self.view.state(target, window).value if self.view is not None else "ok"


def _window_order(names: Sequence[str]) -> list[str]:
    """The known windows in the order readers show them, then any new one the poller adds."""
    return [name for name in WINDOWS if name in names] + [n for n in names if n not in WINDOWS]


def _window_document(
    name: str,
    window: DropWindow,
    graded: WindowFigures,
    alert_state: str,
    extra: ExtraWindow | None,
) -> JsonDict:
    """One window: the figures and grade, plus which figure it is (label, formula) and what it
    covers (``days``; ``since``, the first day of a period; ``span_seconds``, the span a pacing
    window actually observed). The Ofcom window also gives its machine-adjusted drop count,
    rounded like VICIdial's ``DECIMAL(12,3)``, next to the raw drops."""
    label = LABELS.get(name)
    document: JsonDict = {
        "label": label.label if label is not None else name,
        "formula": label.formula if label is not None else "",
        "calls": graded.calls,
        "answered": graded.answered,
        "dropped": graded.dropped,
        "ratio": round(graded.ratio, 6),
        "drops_remaining": graded.drops_remaining,
        "severity": graded.severity.value,
        "alert_state": alert_state,
        "days": graded.days,
        "since": None if extra is None or extra.since is None else extra.since.isoformat(),
        "span_seconds": None
        if extra is None or extra.span_seconds is None
        else round(extra.span_seconds, 1),
    }
    if name == TODAY_OFCOM:
        document["adjusted_dropped"] = round(window.weighted_drops, 3)
        document["machine_share"] = round(1.0 - window.drop_weight, 6)
    return document


def _windows_document(
    target: CampaignView, thresholds: Thresholds, context: _DropContext
) -> JsonDict:
    windows = target.windows
    extras = {extra.name: extra for extra in target.extra_windows}
    return {
        name: _window_document(
            name,
            windows[name],
            figures(windows[name], thresholds),
            context.alert_state(target.id, name),
            extras.get(name),
        )
        for name in _window_order(list(windows))
    }


def _forecast_document(
    forecast: Forecast | None, utc_offset_hours: float | None
) -> JsonDict | None:
    """Today's ratio at the current pace: where it ends up at ``horizon`` (the end of the shift,
    else the dialer's midnight), when each threshold is crossed (``at`` UTC, ``at_local`` the
    dialer's ``HH:MM``, null when the dialer's offset is unknown) and the sentence for a TV."""
    if forecast is None:
        return None
    return {
        "horizon": iso(forecast.horizon),
        "horizon_local": local_clock(forecast.horizon, utc_offset_hours),
        "ratio_at_horizon": round(forecast.ratio_at_horizon, 6),
        "answered_per_hour": round(forecast.answered_per_hour, 1),
        "drops_per_hour": round(forecast.drops_per_hour, 2),
        "basis_minutes": round(forecast.basis_seconds / 60, 1),
        "crossings": {
            crossing.name: {
                "ratio": crossing.ratio,
                "at": iso(crossing.at),
                "at_local": None
                if crossing.at is None
                else local_clock(crossing.at, utc_offset_hours),
                "already": crossing.already,
            }
            for crossing in forecast.crossings
        },
        "summary": forecast_sentence(forecast, utc_offset_hours),
    }


def _sparkline_document(target: CampaignView, thresholds: Thresholds) -> JsonDict | None:
    """Today's ratio every few minutes (x: seconds since the dialer's midnight), with the
    lines the page draws across it; ``None`` before the first point."""
    if not target.trend:
        return None
    return {
        "points": [[point.second, round(point.ratio, 6)] for point in target.trend],
        "warn_at": thresholds.warn_at,
        "critical_at": thresholds.critical_at,
        "limit": thresholds.limit,
    }


def _drop_document(target: CampaignView, thresholds: Thresholds, context: _DropContext) -> JsonDict:
    """The drop part of a campaign or group: today's flat figures (CONTRACT §4), the 30-day
    ones, every window and the forecast. Call counts are ``null`` until
    ``call_status_stats`` first answers, because a 0 % drop ratio must only ever mean "no
    drops"."""
    limit = thresholds.limit
    known = context.counts_known
    document: JsonDict = {
        "calls_today": target.today.calls,
        "answered_today": target.today.answered,
        "dropped_today": target.today.dropped,
        "drop_ratio": round(target.today.drop_ratio, 6),
        "drops_remaining": target.today.drops_remaining(limit),
        "calls_30d": target.last_30d.calls,
        "answered_30d": target.last_30d.answered,
        "dropped_30d": target.last_30d.dropped,
        "days_30d": target.last_30d.days,
        "drop_ratio_30d": round(target.last_30d.drop_ratio, 6),
        "drops_remaining_30d": target.last_30d.drops_remaining(limit),
        "windows": _windows_document(target, thresholds, context) if known else None,
        "forecast": _forecast_document(target.forecast, context.utc_offset_hours)
        if known
        else None,
        "sparkline": _sparkline_document(target, thresholds) if known else None,
    }
    if not known:
        for key in _COUNT_KEYS:
            document[key] = None
    return document


def _campaign_document(
    campaign: CampaignView, thresholds: Thresholds, context: _DropContext
) -> JsonDict:
    """One campaign: its settings and agents, and its drop figures."""
    return {
        "id": campaign.id,
        "name": campaign.name,
        "is_group": False,
        "active": campaign.active,
        "dial_method": campaign.dial_method,
        "dial_level": campaign.dial_level,
        "hopper_leads": campaign.hopper_leads,
        **_drop_document(campaign, thresholds, context),
        "agents": campaign.agents.as_dict(),
        "calls_waiting": campaign.calls_waiting,
    }


def _group_document(group: CampaignView, thresholds: Thresholds, context: _DropContext) -> JsonDict:
    """One drop-rate group: only its drop figures (a group has no agents, hopper or dial level
    of its own; those belong to its campaigns)."""
    return {
        "id": group.id,
        "name": group.name or group.id.removeprefix(GROUP_PREFIX),
        "is_group": True,
        "members": list(group.members),
        **_drop_document(group, thresholds, context),
    }


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
            "ingroups": [[g.id, g.calls_waiting, g.total_calls] for g in snapshot.ingroups],
            "leader": snapshot.leader,
            "login_block": _login_document(snapshot.login_block),
            "dialer": [
                snapshot.dialer.version,
                snapshot.dialer.build,
                snapshot.dialer.utc_offset_hours,
                snapshot.dialer.timezone,
            ],
            "campaigns": [_encode_view(c) for c in snapshot.campaigns],
            "groups": [_encode_view(g) for g in snapshot.groups],
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
        version, build, offset, *rest = document["dialer"]
        return Snapshot(
            taken_at=_required_time(document["taken_at"]),
            local_date=date.fromisoformat(document["local_date"]),
            inbound_calls_waiting=document["inbound_calls_waiting"],
            ingroups=tuple(IngroupView(*row) for row in document.get("ingroups", ())),
            leader=document.get("leader", ""),
            login_block=_decode_login(document.get("login_block")),
            dialer=DialerInfo(
                version=version,
                build=build,
                utc_offset_hours=offset,
                timezone=rest[0] if rest else "",
            ),
            campaigns=tuple(_decode_view(c) for c in document["campaigns"]),
            groups=tuple(_decode_view(g) for g in document.get("groups", ())),
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


def _encode_window(w: DropWindow) -> list[Any]:
    return [w.calls, w.answered, w.dropped, w.days, w.drop_weight]


def _decode_window(row: list[Any]) -> DropWindow:
    calls, answered, dropped, days, *weight = row
    return DropWindow(calls, answered, dropped, days, float(weight[0]) if weight else 1.0)


def _encode_view(c: CampaignView) -> JsonDict:
    return {
        "id": c.id,
        "name": c.name,
        "active": c.active,
        "dial_method": c.dial_method,
        "dial_level": c.dial_level,
        "hopper_leads": c.hopper_leads,
        "today": _encode_window(c.today),
        "last_30d": _encode_window(c.last_30d),
        "agents": c.agents.as_dict(),
        "calls_waiting": c.calls_waiting,
        "extra": [
            [
                e.name,
                _encode_window(e.window),
                e.since.isoformat() if e.since else None,
                e.span_seconds,
            ]
            for e in c.extra_windows
        ],
        "forecast": _encode_forecast(c.forecast),
        "members": list(c.members),
        "trend": [[p.second, p.answered, p.dropped] for p in c.trend],
    }


def _decode_view(c: JsonDict) -> CampaignView:
    return CampaignView(
        id=c["id"],
        name=c["name"],
        active=c["active"],
        dial_method=c["dial_method"],
        dial_level=c["dial_level"],
        hopper_leads=c["hopper_leads"],
        today=_decode_window(c["today"]),
        last_30d=_decode_window(c["last_30d"]),
        agents=AgentCounts(**c["agents"]),
        calls_waiting=c["calls_waiting"],
        extra_windows=tuple(
            ExtraWindow(
                name=name,
                window=_decode_window(window),
                since=date.fromisoformat(since) if since else None,
                span_seconds=span,
            )
            for name, window, since, span in c.get("extra", ())
        ),
        forecast=_decode_forecast(c.get("forecast")),
        members=tuple(c.get("members", ())),
        trend=tuple(TrendPoint(s, a, d) for s, a, d in c.get("trend", ())),
    )


def _encode_forecast(f: Forecast | None) -> JsonDict | None:
    if f is None:
        return None
    return {
        "horizon": iso(f.horizon),
        "ratio_at_horizon": f.ratio_at_horizon,
        "answered_per_hour": f.answered_per_hour,
        "drops_per_hour": f.drops_per_hour,
        "basis_seconds": f.basis_seconds,
        "crossings": [[x.name, x.ratio, iso(x.at), x.already] for x in f.crossings],
    }


def _decode_forecast(document: Any) -> Forecast | None:
    if not document:
        return None
    return Forecast(
        horizon=_required_time(document["horizon"]),
        ratio_at_horizon=document["ratio_at_horizon"],
        answered_per_hour=document["answered_per_hour"],
        drops_per_hour=document["drops_per_hour"],
        basis_seconds=document["basis_seconds"],
        crossings=tuple(
            Crossing(name, ratio, _parse_time(at), bool(already))
            for name, ratio, at, already in document["crossings"]
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
