"""``wallboard audit``: the auto-pause audit trail, one readable line per decision.

A compliance officer asks "what did the wallboard pause, when, and why": this reads the
trail the leader writes (:meth:`AlertStore.add_audit`) from the same durable store the daemon
uses, so it works while the daemon runs (SQLite is opened read-only beside the daemon's
writer; Redis is simply read) and after it stopped. It never writes: a mistyped ``state.path``
reads as an empty trail and creates nothing.

Times are shown, and ``--since`` is read, on the dialer's clock (``vicidial.timezone`` or
``utc_offset``), else this machine's, with the UTC offset printed so a line is never
ambiguous.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo
from typing import TYPE_CHECKING, TextIO

from wallboard.alerts.store import AlertStoreError, AuditRecord, create_alert_store

if TYPE_CHECKING:
    from wallboard.config import Settings

EXIT_OK = 0
EXIT_FAILURE = 1

_MODES = {True: "dry-run", False: "real"}


def display_zone(settings: Settings) -> tzinfo:
    """The dialer's zone when configured, else this machine's local zone."""
    configured = settings.vicidial.tzinfo
    if configured is not None:
        return configured
    local = datetime.now().astimezone().tzinfo
    assert local is not None  # astimezone() always yields an aware datetime
    return local


def start_of(day: date, zone: tzinfo) -> datetime:
    """Midnight at the start of ``day`` in ``zone`` (what ``--since DAY`` means)."""
    return datetime.combine(day, time(0), tzinfo=zone)


def format_record(record: AuditRecord, zone: tzinfo) -> str:
    """One line: when, campaign, window, ratio, mode, outcome, VICIdial's answer, incident."""
    outcome = record.outcome
    when = outcome.at.astimezone(zone).isoformat(sep=" ", timespec="seconds")
    ratio = "ratio ?" if record.ratio is None else f"ratio {record.ratio * 100:.2f} %"
    detail = " ".join(outcome.detail.split()) or "-"
    return (
        f"{when}  {outcome.campaign or '-'}  {record.window or '-'}  {ratio}  "
        f"{_MODES[outcome.dry_run]}  {outcome.outcome}  VICIdial: {detail}  "
        f"(incident {record.incident_key})"
    )


def format_trail(
    records: Sequence[AuditRecord], zone: tzinfo, *, since: date | None, where: str
) -> list[str]:
    """The lines ``wallboard audit`` prints, or the one line that says the trail is empty."""
    if not records:
        after = "" if since is None else f" since {since.isoformat()}"
        return [f"no auto-pause actions recorded{after} ({where})"]
    return [format_record(record, zone) for record in records]


async def run_audit(settings: Settings, *, since: date | None, out: TextIO = sys.stdout) -> int:
    """Print the trail; exit 0, or 1 (one line on stderr) when the store cannot be read."""
    zone = display_zone(settings)
    store = create_alert_store(settings.cache, settings.state.path, read_only=True)
    try:
        records = await store.audit_since(None if since is None else start_of(since, zone))
    except AlertStoreError as error:
        print(f"wallboard: cannot read the audit trail: {error}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        await store.close()
    for line in format_trail(records, zone, since=since, where=_where(settings)):
        print(line, file=out)
    return EXIT_OK


def _where(settings: Settings) -> str:
    if settings.cache.backend == "redis":
        return f"Redis keys {settings.cache.key_prefix}:alerts:*"
    path = settings.state.path
    return f"state file {path}" if path.exists() else f"state file {path} does not exist yet"
