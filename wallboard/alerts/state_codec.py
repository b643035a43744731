"""The engine's memory (:class:`~wallboard.alerts.evaluate.EngineState`) as JSON, durably.

Incidents use :mod:`wallboard.alerts.codec` (the store's lossless encoding); the rest is the
per-window machine state. Anything unreadable yields an empty state: the engine then rebuilds
its memory from the open incidents in the store, which is always safe (no duplicate opens).
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from wallboard.alerts.codec import incident_from_dict, incident_to_dict
from wallboard.alerts.evaluate import EngineState
from wallboard.alerts.machine import Track
from wallboard.alerts.types import Level

log = logging.getLogger(__name__)


def dump_engine_state(state: EngineState) -> bytes:
    document = {
        "started": state.started.isoformat(),
        "tracks": [
            {
                "campaign": campaign,
                "window": window,
                "level": track.level.value,
                "pending_since": _time(track.pending_since),
                "incident": incident_to_dict(track.incident) if track.incident else None,
                "last_reminder": _time(track.last_reminder),
                "inactive_since": _time(track.inactive_since),
                "day": None if track.day is None else track.day.isoformat(),
                "notified_ratio": track.notified_ratio,
            }
            for (campaign, window), track in sorted(state.tracks.items())
        ],
        "data_stale": incident_to_dict(state.data_stale) if state.data_stale else None,
        "login": incident_to_dict(state.login) if state.login else None,
        "pause_since": [
            [campaign, window, moment.isoformat()]
            for (campaign, window), moment in sorted(state.pause_since.items())
        ],
    }
    return json.dumps(document, separators=(",", ":")).encode()


def load_engine_state(data: bytes, now: datetime) -> EngineState:
    try:
        document: Any = json.loads(data)
        tracks = {
            (str(t["campaign"]), str(t["window"])): Track(
                level=Level(t["level"]),
                pending_since=_parse(t["pending_since"]),
                incident=incident_from_dict(t["incident"]) if t["incident"] else None,
                last_reminder=_parse(t["last_reminder"]),
                inactive_since=_parse(t["inactive_since"]),
                day=date.fromisoformat(t["day"]) if t.get("day") else None,
                notified_ratio=t.get("notified_ratio"),
            )
            for t in document["tracks"]
        }
        return EngineState(
            started=_parse(document["started"]) or now,
            tracks=tracks,
            data_stale=incident_from_dict(document["data_stale"])
            if document["data_stale"]
            else None,
            login=incident_from_dict(document["login"]) if document["login"] else None,
            pause_since={
                (str(c), str(w)): datetime.fromisoformat(m) for c, w, m in document["pause_since"]
            },
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("alerts: stored engine state unreadable (%s); rebuilt from incidents", error)
        return EngineState(started=now)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(text: Any) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text))
