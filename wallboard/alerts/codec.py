"""JSON for the alert vocabulary (:mod:`wallboard.alerts.types`): lossless and strict.

The durable store (SQLite or Redis) and the cache that publishes :class:`AlertView` to every
instance keep these types as JSON, so a restarted daemon or a new leader reads back exactly what
the old one wrote: ``decode(encode(x)) == x`` for every value (floats keep every bit through
``repr``; datetimes keep their microseconds, UTC offset and IANA zone; strings any character).

Documents are plain JSON objects. Decoding ignores keys it does not know, so an older daemon
sharing a Redis with a newer one during an upgrade still reads what it needs, and rejects a
document that lacks a key or has a value of the wrong type with :class:`CodecError` naming the
field: a corrupt entry is reported, never half-read into wrong figures.

``*_to_dict`` / ``*_from_dict`` work on parsed objects, for embedding in bigger documents (the
engine's own state); :func:`dumps` / :func:`loads` turn a document into compact JSON bytes and
back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wallboard.alerts.types import (
    Action,
    AlertView,
    AutoPauseOutcome,
    Figures,
    Incident,
    Kind,
    Level,
    Notification,
    SlackThread,
)

Document = dict[str, Any]
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


class CodecError(ValueError):
    """A stored document is not valid JSON or does not describe the expected value."""


def dumps(document: Mapping[str, Any]) -> bytes:
    """Compact JSON, ASCII only (escapes keep any Python string, even a lone surrogate from a
    mangled answer, and every store takes ASCII). Non-finite floats are written as
    ``NaN``/``Infinity`` (read back by :func:`loads`) rather than refused: a figure is never
    the reason a change is lost."""
    return json.dumps(document, separators=(",", ":")).encode("ascii")


def loads(data: bytes | str) -> Document:
    """The JSON object in ``data``; :class:`CodecError` for anything else."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise CodecError(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise CodecError(f"expected a JSON object, got {type(document).__name__}")
    return document


# -- the types ------------------------------------------------------------------------------


def figures_to_dict(figures: Figures) -> Document:
    return {
        "ratio": figures.ratio,
        "answered": figures.answered,
        "dropped": figures.dropped,
        "drops_remaining": figures.drops_remaining,
        "threshold": figures.threshold,
        "limit": figures.limit,
        "previous_ratio": figures.previous_ratio,
        "forecast": figures.forecast,
    }


def figures_from_dict(document: Mapping[str, Any]) -> Figures:
    return Figures(
        ratio=_optional_float(document, "ratio"),
        answered=_int(document, "answered"),
        dropped=_int(document, "dropped"),
        drops_remaining=_int(document, "drops_remaining"),
        threshold=_float(document, "threshold"),
        limit=_float(document, "limit"),
        # Older documents have no trend: absent means unknown.
        previous_ratio=_optional_float(document, "previous_ratio")
        if "previous_ratio" in document
        else None,
        forecast=_str(document, "forecast") if "forecast" in document else "",
    )


def outcome_to_dict(outcome: AutoPauseOutcome) -> Document:
    return {
        "campaign": outcome.campaign,
        "at": _datetime_text(outcome.at),
        "dry_run": outcome.dry_run,
        "outcome": outcome.outcome,
        "detail": outcome.detail,
    }


def outcome_from_dict(document: Mapping[str, Any]) -> AutoPauseOutcome:
    return AutoPauseOutcome(
        campaign=_str(document, "campaign"),
        at=_datetime(document, "at"),
        dry_run=_bool(document, "dry_run"),
        outcome=_str(document, "outcome"),
        detail=_str(document, "detail"),
    )


def incident_to_dict(incident: Incident) -> Document:
    return {
        "key": incident.key,
        "kind": incident.kind.value,
        "campaign": incident.campaign,
        "window": incident.window,
        "severity": incident.severity.value,
        "opened_at": _datetime_text(incident.opened_at),
        "updated_at": _datetime_text(incident.updated_at),
        "summary": incident.summary,
        "figures": None if incident.figures is None else figures_to_dict(incident.figures),
        "closed_at": None if incident.closed_at is None else _datetime_text(incident.closed_at),
        "close_reason": incident.close_reason,
        "auto_pause": None if incident.auto_pause is None else outcome_to_dict(incident.auto_pause),
        "peak": None if incident.peak is None else incident.peak.value,
    }


def incident_from_dict(document: Mapping[str, Any]) -> Incident:
    figures = _optional_object(document, "figures")
    closed_at = document.get("closed_at")
    auto_pause = _optional_object(document, "auto_pause")
    return Incident(
        key=_str(document, "key"),
        kind=_enum(document, "kind", Kind),
        campaign=_str(document, "campaign"),
        window=_str(document, "window"),
        severity=_enum(document, "severity", Level),
        # Older documents have no peak: the severity they stored is all that is known.
        peak=_enum(document, "peak", Level) if document.get("peak") is not None else None,
        opened_at=_datetime(document, "opened_at"),
        updated_at=_datetime(document, "updated_at"),
        summary=_str(document, "summary"),
        figures=None if figures is None else _nested(figures_from_dict, figures, "figures"),
        closed_at=None if closed_at is None else _datetime(document, "closed_at"),
        close_reason=_optional_str(document, "close_reason"),
        auto_pause=(
            None if auto_pause is None else _nested(outcome_from_dict, auto_pause, "auto_pause")
        ),
    )


def notification_to_dict(notification: Notification) -> Document:
    return {
        "incident": incident_to_dict(notification.incident),
        "action": notification.action.value,
        "text": notification.text,
        "created_at": _datetime_text(notification.created_at),
        "seq": notification.seq,
    }


def notification_from_dict(document: Mapping[str, Any]) -> Notification:
    incident = _object(document, "incident")
    return Notification(
        incident=_nested(incident_from_dict, incident, "incident"),
        action=_enum(document, "action", Action),
        text=_str(document, "text"),
        created_at=_datetime(document, "created_at"),
        seq=_int(document, "seq") if "seq" in document else 0,
    )


def thread_to_dict(thread: SlackThread) -> Document:
    return {"incident_key": thread.incident_key, "channel_id": thread.channel_id, "ts": thread.ts}


def thread_from_dict(document: Mapping[str, Any]) -> SlackThread:
    return SlackThread(
        incident_key=_str(document, "incident_key"),
        channel_id=_str(document, "channel_id"),
        ts=_str(document, "ts"),
    )


def view_to_dict(view: AlertView) -> Document:
    return {
        "incidents": [incident_to_dict(incident) for incident in view.incidents],
        "window_states": [
            [campaign, window, level.value] for campaign, window, level in view.window_states
        ],
    }


def view_from_dict(document: Mapping[str, Any]) -> AlertView:
    incidents = _list(document, "incidents")
    states = _list(document, "window_states")
    return AlertView(
        incidents=tuple(
            _nested(incident_from_dict, _as_object(item, "incidents[]"), "incidents[]")
            for item in incidents
        ),
        window_states=tuple(_window_state(item) for item in states),
    )


def _window_state(item: Any) -> tuple[str, str, Level]:
    if (
        not isinstance(item, list)
        or len(item) != 3
        or not all(isinstance(part, str) for part in item)
    ):
        raise CodecError("window_states[]: expected [campaign, window, level]")
    campaign, window, level = item
    try:
        return campaign, window, Level(level)
    except ValueError:
        raise CodecError(f"window_states[]: unknown level {level!r}") from None


# -- field readers: the type is checked, the key is named --------------------------------------


def _field(document: Mapping[str, Any], key: str) -> Any:
    try:
        return document[key]
    except KeyError:
        raise CodecError(f"missing {key!r}") from None


def _str(document: Mapping[str, Any], key: str) -> str:
    value = _field(document, key)
    if not isinstance(value, str):
        raise CodecError(f"{key}: expected a string")
    return value


def _optional_str(document: Mapping[str, Any], key: str) -> str | None:
    return None if document.get(key) is None else _str(document, key)


def _int(document: Mapping[str, Any], key: str) -> int:
    value = _field(document, key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CodecError(f"{key}: expected an integer")
    return value


def _bool(document: Mapping[str, Any], key: str) -> bool:
    value = _field(document, key)
    if not isinstance(value, bool):
        raise CodecError(f"{key}: expected true or false")
    return value


def _float(document: Mapping[str, Any], key: str) -> float:
    value = _field(document, key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise CodecError(f"{key}: expected a number")
    return float(value)


def _optional_float(document: Mapping[str, Any], key: str) -> float | None:
    return None if document.get(key) is None else _float(document, key)


def _datetime_text(moment: datetime) -> str:
    """ISO 8601, plus the zone name in brackets (RFC 9557) for a :class:`ZoneInfo` time: the
    offset alone would turn it into a fixed-offset time, which compares unequal to the
    original during a daylight-saving fold."""
    text = moment.isoformat()
    if isinstance(moment.tzinfo, ZoneInfo):
        text += f"[{moment.tzinfo.key}]"
    return text


def _datetime(document: Mapping[str, Any], key: str) -> datetime:
    text = _str(document, key)
    iso, bracket, zone = text.partition("[")
    try:
        moment = datetime.fromisoformat(iso)
        if not bracket:
            return moment
        if moment.tzinfo is None or not zone.endswith("]"):
            raise ValueError(text)
        return moment.astimezone(ZoneInfo(zone[:-1]))
    except (ValueError, ZoneInfoNotFoundError):
        raise CodecError(f"{key}: {text!r} is not an ISO 8601 date and time") from None


def _enum(document: Mapping[str, Any], key: str, enum: type[E]) -> E:
    text = _str(document, key)
    try:
        return enum(text)
    except ValueError:
        raise CodecError(f"{key}: unknown value {text!r}") from None


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = _field(document, key)
    if not isinstance(value, list):
        raise CodecError(f"{key}: expected a list")
    return value


def _object(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    return _as_object(_field(document, key), key)


def _optional_object(document: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = document.get(key)
    return None if value is None else _as_object(value, key)


def _as_object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(f"{where}: expected an object")
    return value


def _nested(decode: Callable[[Mapping[str, Any]], T], document: Mapping[str, Any], where: str) -> T:
    """Decode a nested document, prefixing any error with where it sits."""
    try:
        return decode(document)
    except CodecError as error:
        raise CodecError(f"{where}: {error}") from None
