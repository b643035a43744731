"""How an incident looks in Slack: the parent message (Block Kit plus a plain ``text``
fallback) and the short thread reply for each change.

Pure: an :class:`Incident` or :class:`Notification` in, JSON-ready data out, so the wording
is tested without a network and the sender (:mod:`.slack`) only moves bytes. The fallback
``text`` carries the same facts as the blocks because it is what phone notifications, screen
readers and old clients show.

The metadata helpers live here too: each parent carries its incident key (and each reply its
outbox ``seq``) in Slack message metadata, because ``chat.postMessage`` has no idempotency
key and the metadata is how a post whose answer was lost is found again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wallboard.alerts.types import (
    Action,
    AutoPauseOutcome,
    Figures,
    Incident,
    Kind,
    Level,
    Notification,
)

INCIDENT_EVENT = "wallboard_incident"
NOTIFICATION_EVENT = "wallboard_notification"

#: Slack's limit for a ``header`` block's text.
_HEADER_MAX = 150

_SEVERITY_ICON = {
    Level.CRITICAL: ":red_circle:",
    Level.WARNING: ":large_orange_circle:",
    Level.PENDING: ":white_circle:",
    Level.OK: ":large_green_circle:",
}
_CLOSED_ICON = {"resolved": ":white_check_mark:", "day_ended": ":calendar:"}
_ACTION_ICON = {
    Action.OPENED: ":rotating_light:",
    Action.ESCALATED: ":arrow_up:",
    Action.EASED: ":arrow_down:",
    Action.REMINDER: ":alarm_clock:",
    Action.INACTIVE: ":zzz:",
    Action.RESOLVED: ":white_check_mark:",
    Action.DAY_ENDED: ":calendar:",
    Action.AUTO_PAUSE: ":double_vertical_bar:",
}
_AUTO_PAUSE_WORDS = {
    "paused": "paused the campaign",
    "would_pause": "would have paused the campaign (dry run: nothing was changed)",
    "refused": "VICIdial REFUSED the pause",
    "failed": "the pause FAILED",
}


def parent_message(incident: Incident) -> tuple[str, list[dict[str, Any]]]:
    """The parent message for ``incident`` as it is now: ``(fallback text, blocks)``."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _header(incident), "emoji": True},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(incident.summary)}},
        {"type": "section", "fields": [_field(k, v) for k, v in _facts(incident)]},
    ]
    if incident.figures is not None and incident.figures.forecast:
        line = f"*Forecast:* {escape(incident.figures.forecast)}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line}})
    if incident.auto_pause is not None:
        line = f"*Auto-pause:* {escape(_auto_pause_line(incident.auto_pause))}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line}})
    context = f"incident `{escape(incident.key)}` · updated {_when(incident.updated_at)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return _fallback(incident), blocks


def reply_text(notification: Notification) -> str:
    """One thread reply: the change's own words behind an icon for the kind of change."""
    return f"{_ACTION_ICON[notification.action]} {escape(notification.text)}"


def incident_metadata(key: str) -> dict[str, Any]:
    return {"event_type": INCIDENT_EVENT, "event_payload": {"key": key}}


def notification_metadata(notification: Notification) -> dict[str, Any]:
    payload = {"key": notification.incident.key, "seq": notification.seq}
    return {"event_type": NOTIFICATION_EVENT, "event_payload": payload}


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: a campaign name or a VICIdial error is shown, never parsed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def pct(ratio: float | None) -> str:
    return "unknown" if ratio is None else f"{ratio * 100:.2f} %"


def trend(figures: Figures) -> str:
    """`` (2.61 % at the last message, ▲ 0.23 pts)``: the trend since the previous message,
    so a supervisor sees whether it is getting better or worse, not just the number."""
    before, now = figures.previous_ratio, figures.ratio
    if before is None or now is None:
        return ""
    change = (now - before) * 100
    arrow = "▲" if change > 0.005 else "▼" if change < -0.005 else "="
    return f" ({pct(before)} at the last message, {arrow} {abs(change):.2f} pts)"


def duration(seconds: float) -> str:
    """``"42 min"``, ``"2 h 05 min"``: how long an incident lasted, to the minute."""
    minutes = max(0, int(seconds // 60))
    if minutes < 1:
        return "under a minute"
    hours, rest = divmod(minutes, 60)
    return f"{minutes} min" if hours == 0 else f"{hours} h {rest:02d} min"


def state_line(incident: Incident) -> str:
    """Open and how bad, or how it ended: "resolved after 42 min", "day ended at 2.61 %"."""
    if incident.closed_at is None:
        return f"open, {incident.severity.value}"
    if incident.close_reason == "day_ended":
        ratio = None if incident.figures is None else incident.figures.ratio
        return "day ended" if ratio is None else f"day ended at {pct(ratio)}"
    lasted = duration((incident.closed_at - incident.opened_at).total_seconds())
    return f"{incident.close_reason or 'closed'} after {lasted}"


def _header(incident: Incident) -> str:
    subject = _subject(incident)
    if incident.closed_at is None:
        icon, word = _SEVERITY_ICON[incident.severity], incident.severity.value.upper()
    else:
        reason = incident.close_reason or "closed"
        icon = _CLOSED_ICON.get(reason, ":white_check_mark:")
        word = f"{reason.replace('_', ' ').upper()} (was {incident.severity.value})"
    text = f"{icon} {word}: {subject}"
    return text if len(text) <= _HEADER_MAX else text[: _HEADER_MAX - 1] + "…"


def _subject(incident: Incident) -> str:
    if incident.kind is Kind.DROP:
        return f"{incident.campaign} {incident.window} drop rate"
    if incident.kind is Kind.DATA_STALE:
        return "floor data is stale"
    return "VICIdial login is blocked"


def _facts(incident: Incident) -> list[tuple[str, str]]:
    """Label → value, in reading order (at most 10: Slack's limit for section fields)."""
    facts: list[tuple[str, str]] = []
    if incident.campaign:
        facts.append(("Campaign", incident.campaign))
    if incident.window:
        facts.append(("Window", incident.window))
    figures = incident.figures
    if figures is not None:
        facts += [
            ("Drop rate", pct(figures.ratio) + trend(figures)),
            ("Answered", f"{figures.answered:,}"),
            ("Drops", f"{figures.dropped:,}"),
            ("Drops remaining", f"{figures.drops_remaining:,}"),
            ("Threshold", f"{pct(figures.threshold)} ({incident.severity.value})"),
            ("Limit", pct(figures.limit)),
        ]
    facts += [("Opened", _when(incident.opened_at)), ("State", state_line(incident))]
    return facts


def _fallback(incident: Incident) -> str:
    """The same facts as the blocks, in one plain paragraph."""
    head = _header(incident)
    figures = incident.figures
    parts = [f"{head}.", escape(incident.summary)]
    if figures is not None:
        parts.append(
            f"Drop rate {pct(figures.ratio)}{trend(figures)}: answered {figures.answered:,}, drops "
            f"{figures.dropped:,}, drops remaining {figures.drops_remaining:,}; threshold "
            f"{pct(figures.threshold)} ({incident.severity.value}), limit {pct(figures.limit)}."
        )
        if figures.forecast:
            parts.append(f"Forecast: {escape(figures.forecast)}.")
    parts.append(f"Opened {_when(incident.opened_at)}; {state_line(incident)}.")
    if incident.auto_pause is not None:
        parts.append(f"Auto-pause: {escape(_auto_pause_line(incident.auto_pause))}")
    return " ".join(parts)


def _auto_pause_line(outcome: AutoPauseOutcome) -> str:
    words = _AUTO_PAUSE_WORDS.get(outcome.outcome, outcome.outcome)
    line = f"{words} {outcome.campaign} at {_when(outcome.at)}"
    return f"{line}: {outcome.detail}" if outcome.detail else line


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{escape(value)}"}


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M %Z").rstrip()
