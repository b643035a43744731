"""What was in force on each dialer day: the thresholds and the dialer's clock, kept as evidence.

An audit months later asks "was SALES1 over the limit the company had set *that day*?". The
config file only says what is set now, so the poller records, once per dialer day (and again
whenever they change), the thresholds of every campaign and ``group:NAME`` and the clock that
drew the day's boundaries, under ``day-settings:YYYY-MM-DD`` in the history store's key-value
area: SQLite beside the day totals, or Redis shared by every instance. ``wallboard ledger``
reads them back and falls back to the current config for a day nothing was recorded for,
saying which it used.

A record is rewritten only when its content changes, so calling :func:`record_day_settings`
on every poll costs one read. When the thresholds change during a day, the day keeps the last
values recorded: those in force when the day closed.

The value is canonical JSON (sorted keys), versioned so a later format can still read it::

    {"version": 1, "timezone": "America/New_York", "utc_offset_hours": -4.0,
     "thresholds": {"SALES1": {"limit": 0.03, "warn_at": 0.025, "critical_at": 0.028,
                               "min_answered": 50}}}
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import timezone as fixed_offset
from datetime import tzinfo as TzInfo
from types import MappingProxyType
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wallboard.cache.history import HistoryStore
from wallboard.windows.grading import Thresholds

log = logging.getLogger(__name__)

__all__ = [
    "DAY_SETTINGS_PREFIX",
    "DaySettings",
    "day_settings_key",
    "decode_day_settings",
    "encode_day_settings",
    "read_day_settings",
    "record_day_settings",
]

DAY_SETTINGS_PREFIX = "day-settings:"
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class DaySettings:
    """One dialer day's recorded settings: thresholds per target (campaign ID or
    ``group:NAME``) and the dialer clock (``timezone``, an IANA name or ``""``, and the UTC
    offset in hours the daemon used, ``None`` when unknown)."""

    thresholds: Mapping[str, Thresholds] = field(default_factory=dict)
    timezone: str = ""
    utc_offset_hours: float | None = None

    def __post_init__(self) -> None:
        ordered = {target: self.thresholds[target] for target in sorted(self.thresholds)}
        object.__setattr__(self, "thresholds", MappingProxyType(ordered))
        if self.utc_offset_hours is not None:
            object.__setattr__(self, "utc_offset_hours", float(self.utc_offset_hours))

    def tzinfo(self) -> TzInfo | None:
        """The recorded clock: the named zone when there is one (it knows DST), else the fixed
        offset, else ``None`` (nothing usable was recorded)."""
        if self.timezone:
            try:
                return ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("recorded time zone %r is unknown here", self.timezone)
        if self.utc_offset_hours is not None:
            return fixed_offset(timedelta(hours=self.utc_offset_hours))
        return None

    def clock_label(self) -> str | None:
        """How the ledger names the recorded clock (``"America/New_York"``, ``"UTC-04:00"``)."""
        zone = self.tzinfo()
        if zone is None:
            return None
        return self.timezone if isinstance(zone, ZoneInfo) else offset_label(zone)


def offset_label(zone: TzInfo) -> str:
    """``UTC±HH:MM`` for a fixed-offset zone."""
    offset = zone.utcoffset(None)
    if offset is None:
        return str(zone)
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def day_settings_key(day: date) -> str:
    """The key-value key of one dialer day's record."""
    return f"{DAY_SETTINGS_PREFIX}{day.isoformat()}"


def encode_day_settings(settings: DaySettings) -> bytes:
    """Canonical JSON bytes (equal settings give equal bytes)."""
    document = {
        "version": _FORMAT_VERSION,
        "timezone": settings.timezone,
        "utc_offset_hours": settings.utc_offset_hours,
        "thresholds": {
            target: {
                "limit": t.limit,
                "warn_at": t.warn_at,
                "critical_at": t.critical_at,
                "min_answered": t.min_answered,
            }
            for target, t in settings.thresholds.items()
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def decode_day_settings(data: bytes) -> DaySettings:
    """The settings in ``data``; :class:`ValueError` naming what is wrong when unreadable."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object")
    if document.get("version") != _FORMAT_VERSION:
        raise ValueError(f"unknown format version {document.get('version')!r}")
    timezone = document.get("timezone")
    if not isinstance(timezone, str):
        raise ValueError("timezone: expected a string")
    offset = document.get("utc_offset_hours")
    if offset is not None and not _is_number(offset):
        raise ValueError("utc_offset_hours: expected a number or null")
    targets = document.get("thresholds")
    if not isinstance(targets, dict):
        raise ValueError("thresholds: expected an object")
    return DaySettings(
        thresholds={str(target): _thresholds(target, t) for target, t in targets.items()},
        timezone=timezone,
        utc_offset_hours=None if offset is None else float(offset),
    )


def _thresholds(target: str, document: Any) -> Thresholds:
    if not isinstance(document, dict):
        raise ValueError(f"thresholds.{target}: expected an object")
    ratios = {}
    for name in ("limit", "warn_at", "critical_at"):
        value = document.get(name)
        if not _is_number(value):
            raise ValueError(f"thresholds.{target}.{name}: expected a number")
        ratios[name] = float(value)
    min_answered = document.get("min_answered")
    if not isinstance(min_answered, int) or isinstance(min_answered, bool):
        raise ValueError(f"thresholds.{target}.min_answered: expected an integer")
    return Thresholds(min_answered=min_answered, **ratios)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


async def record_day_settings(
    store: HistoryStore,
    day: date,
    thresholds: Mapping[str, Thresholds],
    *,
    utc_offset_hours: float | None,
    timezone: str,
) -> None:
    """Record what is in force on dialer day ``day``; writes only when it differs from what is
    stored (an unreadable record is replaced). Raises :class:`HistoryStoreError` on I/O."""
    wanted = DaySettings(thresholds, timezone=timezone, utc_offset_hours=utc_offset_hours)
    key = day_settings_key(day)
    stored = await store.get_value(key)
    if stored is not None:
        try:
            if decode_day_settings(stored) == wanted:
                return
        except ValueError:
            pass  # replaced below by a readable record
    await store.set_value(key, encode_day_settings(wanted))


async def read_day_settings(store: HistoryStore, day: date) -> DaySettings | None:
    """What was recorded for ``day``, or ``None`` when nothing (readable) was: an unreadable
    record is logged and read as none, so the ledger falls back to the config and says so."""
    data = await store.get_value(day_settings_key(day))
    if data is None:
        return None
    try:
        return decode_day_settings(data)
    except ValueError as error:
        log.warning("unreadable %s: %s; reading it as not recorded", day_settings_key(day), error)
        return None
