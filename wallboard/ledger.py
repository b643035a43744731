"""``wallboard ledger``: the evidence an auditor asks for, one row per campaign per dialer day.

For each campaign (and ``group:NAME``) and each closed dialer day in the durable store: the
day's calls, human answers and drops as VICIdial reported them, its ratio, the rolling 30-day
and regulatory-period ratios *as of that day*, the thresholds in force that day, the alerts
raised and the auto-pause decisions taken. It reads the same stores as the daemon, read-only
(:mod:`wallboard.ledger_sources`), so it works while the daemon runs and after it stopped.

Closed days only: a day enters the store once VICIdial's midnight has passed (the poller's
backfill fetches it with ``call_status_stats&query_date``), so today never appears.

Honesty rules, because an auditor will recompute every figure:

* a day with no stored row is shown with empty figures, never as zeros, and the 30-day and
  period windows count the days that had figures (``days_30d``, ``days_period``), so a hole
  is visible instead of flattering the ratio;
* a ratio over no human answers is unknown (empty / ``null``), not 0;
* every borrowed value says where it came from: ``thresholds_source`` (``recorded`` that day
  by the daemon via :mod:`wallboard.day_record`, or ``config``: today's file),
  ``period_source`` (``config``: ``period_start``; ``recorded``: the anchor the daemon fixed;
  ``derived``: the first stored day with calls; a group runs from its own ``period_start``,
  else from its earliest member's anchor, as the daemon does) and ``clock_source`` (which
  clock turned incident and audit instants into dialer days: ``recorded`` that day,
  ``config``, or ``local``: this machine's, the last resort).

``alerts`` lists the drop incidents *opened* that dialer day, in order, as ``window:severity``
(``today:critical;30d:warning``; the severity is the worst the incident reached, so one that
escalated and later eased shows critical; incidents stored before the peak was kept show
their last severity). ``auto_pauses`` lists that day's auto-pause
decisions from the audit trail as ``HH:MM:SS outcome`` on the dialer clock (``paused``,
``would_pause``, ``refused``, ``failed``, ...). Both are empty when there were none.

The rows are a pure function of the stored data (:func:`build_rows`); :func:`load_inputs`
reads the stores and :func:`run_ledger` is the command.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from wallboard.alerts.store import AlertStoreError, AuditRecord
from wallboard.alerts.types import Incident, Kind
from wallboard.cache.history import DayTotals, HistoryStoreError, days_between
from wallboard.compliance import compliance_from_config
from wallboard.config_types import GROUP_PREFIX
from wallboard.day_record import DaySettings, offset_label, read_day_settings
from wallboard.ledger_sources import (
    DayHistory,
    IncidentHistory,
    open_ledger_sources,
)
from wallboard.windows.grading import DropWindow, Thresholds
from wallboard.windows.names import PERIOD_DAYS, WINDOWS
from wallboard.windows.period import first_active_day, period_as_of, pooled_days, rolling_as_of

if TYPE_CHECKING:
    from wallboard.config import Settings

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

FORMATS = ("csv", "json")
#: The kv key where the daemon keeps the period anchors it fixed: ``{"SALES1": "2026-10-03"}``.
PERIOD_ANCHORS_KEY = "period-anchors"

CLOSED_DAYS_NOTE = (
    "closed dialer days only: a day enters the store after VICIdial's midnight, so today is "
    "never in the ledger"
)


class LedgerUsageError(Exception):
    """The request names something the config and the store do not know (exit 2)."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a campaign's successive 30-day periods start, and who said so."""

    day: date
    source: str  # "config", "recorded" or "derived"


@dataclass(frozen=True, slots=True)
class Clock:
    """The dialer clock that turns UTC instants into dialer days, and who said so."""

    zone: tzinfo
    label: str  # "America/New_York", "UTC-05:00"
    source: str  # "recorded", "config" or "local"


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One campaign's (or group's) dialer day; ``None`` is unknown (empty in CSV)."""

    day: date
    campaign: str
    calls: int | None
    answered: int | None
    dropped: int | None
    ratio: float | None
    ratio_30d: float | None
    days_30d: int
    period_start: date | None
    ratio_period: float | None
    days_period: int | None
    period_source: str | None
    limit: float
    warn_at: float
    critical_at: float
    min_answered: int
    thresholds_source: str
    alerts: str  # "today:critical;30d:warning": incidents opened that day, in order
    auto_pauses: str  # "10:04:05 would_pause": decisions that day, dialer time
    dialer_clock: str
    clock_source: str

    def as_dict(self) -> dict[str, Any]:
        """The row for JSON: numbers as numbers, days as ISO text, unknown as ``None``."""
        document = asdict(self)
        for name in ("day", "period_start"):
            value = document[name]
            document[name] = None if value is None else value.isoformat()
        return document


#: The CSV header and the JSON keys, in order.
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(LedgerRow))


@dataclass(frozen=True)
class LedgerInputs:
    """Everything the rows are computed from, as read from the stores and the config."""

    targets: tuple[str, ...]  # campaign IDs and "group:NAME", in output order
    days: Mapping[str, Mapping[date, DropWindow]]  # every stored day per target (groups pooled)
    covered: tuple[date, ...]  # the dialer days to show (requested ∩ stored)
    anchors: Mapping[str, Anchor] = field(default_factory=dict)
    day_settings: Mapping[date, DaySettings] = field(default_factory=dict)
    config_thresholds: Mapping[str, Thresholds] = field(default_factory=dict)
    fallback_clock: Clock = field(default_factory=lambda: Clock(UTC, "UTC", "local"))
    incidents: tuple[Incident, ...] = ()
    audits: tuple[AuditRecord, ...] = ()


# -- pure ------------------------------------------------------------------------------------


def day_windows(rows: Iterable[DayTotals]) -> dict[str, dict[date, DropWindow]]:
    """Stored rows as one single-day window per campaign per day."""
    days: dict[str, dict[date, DropWindow]] = {}
    for row in rows:
        days.setdefault(row.campaign_id, {})[row.day] = DropWindow(
            row.calls, row.answered, row.dropped, days=1
        )
    return days


def resolve_anchor(
    configured: date | None, recorded: date | None, days: Mapping[date, DropWindow]
) -> Anchor | None:
    """``period_start`` from the config, else the anchor the daemon fixed, else the first
    stored day with calls (``None``: the campaign never dialed in the stored days)."""
    if configured is not None:
        return Anchor(configured, "config")
    if recorded is not None:
        return Anchor(recorded, "recorded")
    derived = first_active_day(days.items())
    return None if derived is None else Anchor(derived, "derived")


def group_anchor(configured: date | None, members: Iterable[Anchor | None]) -> Anchor | None:
    """A drop group's periods run from its own ``period_start``, else from its earliest
    member's anchor (the daemon's rule, :func:`wallboard.compose_windows.group_anchor`; here a
    member's anchor may also be derived, and the group's row says so)."""
    if configured is not None:
        return Anchor(configured, "config")
    found = [anchor for anchor in members if anchor is not None]
    return min(found, key=lambda anchor: anchor.day, default=None)


def clock_for(day: date, day_settings: Mapping[date, DaySettings], fallback: Clock) -> Clock:
    """The clock recorded for ``day`` when there is a usable one, else ``fallback``."""
    recorded = day_settings.get(day)
    if recorded is not None:
        zone = recorded.tzinfo()
        label = recorded.clock_label()
        if zone is not None and label is not None:
            return Clock(zone, label, "recorded")
    return fallback


def dialer_day(instant: datetime, clock_of: Callable[[date], Clock]) -> date:
    """The dialer day ``instant`` (timezone-aware) fell on.

    Each day may have its own clock (recorded that day, or the fallback), so the day is the one
    whose own clock puts ``instant`` inside it. Every UTC offset is within a day of UTC, so it
    is the UTC date or a neighbour. Where two neighbours' clocks disagree, an instant near
    midnight may be claimed by both: a recorded clock beats the fallback, then the earlier day
    wins; claimed by none (an offset change at that very midnight), the UTC date's clock
    decides.
    """
    utc_day = instant.astimezone(UTC).date()
    claimed = [
        (clock.source != "recorded", candidate)
        for candidate in (utc_day - timedelta(days=1), utc_day, utc_day + timedelta(days=1))
        if instant.astimezone((clock := clock_of(candidate)).zone).date() == candidate
    ]
    if claimed:
        return min(claimed)[1]
    return instant.astimezone(clock_of(utc_day).zone).date()


def _ratio(window: DropWindow) -> float | None:
    return window.drop_ratio if window.answered > 0 else None


def _window_order(window: str) -> int:
    return WINDOWS.index(window) if window in WINDOWS else len(WINDOWS)


def build_rows(inputs: LedgerInputs) -> list[LedgerRow]:
    """The ledger: one row per covered day per target, by day then target."""

    def clock_of(day: date) -> Clock:
        return clock_for(day, inputs.day_settings, inputs.fallback_clock)

    alerts: dict[tuple[str, date], list[Incident]] = {}
    for incident in inputs.incidents:
        if incident.kind is Kind.DROP:
            key = (incident.campaign, dialer_day(incident.opened_at, clock_of))
            alerts.setdefault(key, []).append(incident)
    pauses: dict[tuple[str, date], list[AuditRecord]] = {}
    for record in inputs.audits:
        pauses.setdefault((record.campaign, dialer_day(record.at, clock_of)), []).append(record)

    rows: list[LedgerRow] = []
    for day in inputs.covered:
        clock = clock_of(day)
        recorded = inputs.day_settings.get(day)
        for target in inputs.targets:
            days = inputs.days.get(target, {})
            rows.append(
                _row(
                    target,
                    day,
                    days,
                    clock,
                    anchor=inputs.anchors.get(target),
                    recorded=None if recorded is None else recorded.thresholds.get(target),
                    configured=inputs.config_thresholds.get(target, Thresholds()),
                    incidents=alerts.get((target, day), []),
                    audits=pauses.get((target, day), []),
                )
            )
    return rows


def _row(
    target: str,
    day: date,
    days: Mapping[date, DropWindow],
    clock: Clock,
    *,
    anchor: Anchor | None,
    recorded: Thresholds | None,
    configured: Thresholds,
    incidents: Sequence[Incident],
    audits: Sequence[AuditRecord],
) -> LedgerRow:
    own = days.get(day)
    rolling = rolling_as_of(days, day, PERIOD_DAYS)
    period = None if anchor is None else period_as_of(days, anchor.day, day, PERIOD_DAYS)
    thresholds = recorded if recorded is not None else configured
    ordered_incidents = sorted(incidents, key=lambda i: (i.opened_at, _window_order(i.window)))
    ordered_audits = sorted(audits, key=lambda r: (r.at, r.seq))
    return LedgerRow(
        day=day,
        campaign=target,
        calls=None if own is None else own.calls,
        answered=None if own is None else own.answered,
        dropped=None if own is None else own.dropped,
        ratio=None if own is None else _ratio(own),
        ratio_30d=_ratio(rolling),
        days_30d=rolling.days,
        period_start=None if period is None else period[0],
        ratio_period=None if period is None else _ratio(period[1]),
        days_period=None if period is None else period[1].days,
        period_source=None if anchor is None else anchor.source,
        limit=thresholds.limit,
        warn_at=thresholds.warn_at,
        critical_at=thresholds.critical_at,
        min_answered=thresholds.min_answered,
        thresholds_source="recorded" if recorded is not None else "config",
        alerts=";".join(f"{i.window}:{i.peak_severity.value}" for i in ordered_incidents),
        auto_pauses=";".join(
            f"{r.at.astimezone(clock.zone).strftime('%H:%M:%S')} {r.outcome.outcome}"
            for r in ordered_audits
        ),
        dialer_clock=clock.label,
        clock_source=clock.source,
    )


# -- output ----------------------------------------------------------------------------------


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same number
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(rows: Sequence[LedgerRow], out: TextIO) -> None:
    """RFC 4180 CSV with a header line; unknown values are empty."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(_csv_value(getattr(row, name)) for name in COLUMNS)


def write_json(rows: Sequence[LedgerRow], out: TextIO) -> None:
    """A JSON list of objects with the CSV's keys; unknown values are ``null``."""
    json.dump([row.as_dict() for row in rows], out, indent=1, allow_nan=False)
    out.write("\n")


# -- loading ---------------------------------------------------------------------------------


def config_clock(settings: Settings) -> Clock:
    """``vicidial.timezone`` / ``utc_offset`` from the config, else this machine's zone."""
    vicidial = settings.vicidial
    zone = vicidial.tzinfo
    if zone is not None:
        label = vicidial.timezone if isinstance(zone, ZoneInfo) else offset_label(zone)
        return Clock(zone, label, "config")
    local = datetime.now().astimezone().tzinfo
    assert local is not None  # astimezone() always yields an aware datetime
    return Clock(local, offset_label(local), "local")


def recorded_anchors(data: bytes | None) -> dict[str, date]:
    """The daemon's ``period-anchors`` record; unreadable parts are logged and ignored (the
    anchor is then derived, and the row says so)."""
    if data is None:
        return {}
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning("unreadable %s record; period anchors will be derived", PERIOD_ANCHORS_KEY)
        return {}
    if not isinstance(document, dict):
        log.warning("unreadable %s record; period anchors will be derived", PERIOD_ANCHORS_KEY)
        return {}
    anchors: dict[str, date] = {}
    for target, text in document.items():
        try:
            anchors[str(target)] = date.fromisoformat(str(text))
        except ValueError:
            log.warning("unreadable period anchor %r for %s; it will be derived", text, target)
    return anchors


def choose_targets(
    requested: Sequence[str],
    configured: Sequence[str] | None,
    stored: Iterable[str],
    groups: Mapping[str, tuple[str, ...]],
) -> tuple[str, ...]:
    """The targets to show, sorted: those requested (each must be a configured group, or a campaign
    in the config or the store), else the configured campaigns (every stored one when the
    config says ``all``) and every group."""
    stored_ids = set(stored)
    if requested:
        for target in requested:
            if target.startswith(GROUP_PREFIX):
                if target not in groups:
                    known = ", ".join(sorted(groups)) or "none configured"
                    raise LedgerUsageError(f"{target}: no such drop group ({known})")
            elif target not in stored_ids and target not in (configured or ()):
                raise LedgerUsageError(
                    f"{target}: not in the config's campaigns and nothing stored for it"
                )
        return tuple(sorted(set(requested)))
    campaigns = sorted(stored_ids) if configured is None else list(configured)
    return tuple(sorted({*campaigns, *groups}))


async def load_inputs(
    settings: Settings,
    history: DayHistory,
    alerts: IncidentHistory,
    *,
    first: date,
    last: date,
    requested: Sequence[str] = (),
) -> LedgerInputs:
    """Read what the rows of ``first`` .. ``last`` need. Raises :class:`LedgerUsageError`,
    :class:`HistoryStoreError` or :class:`AlertStoreError`."""
    compliance = compliance_from_config(settings)
    groups = {group.key: group.campaigns for group in compliance.groups}
    selection = settings.vicidial.campaigns
    configured = None if selection == "all" else tuple(selection)

    stored = day_windows(await history.stored_days(last))
    targets = choose_targets(requested, configured, stored, groups)
    days: dict[str, Mapping[date, DropWindow]] = {}
    involved: set[str] = set()
    for target in targets:
        members = groups.get(target, (target,))
        involved.update(members)
        days[target] = (
            pooled_days([stored.get(m, {}) for m in members])
            if target in groups
            else stored.get(target, {})
        )
    present = sorted({day for campaign in involved for day in stored.get(campaign, {})})
    covered = tuple(
        day for day in days_between(first, last) if present and present[0] <= day <= present[-1]
    )

    fixed = recorded_anchors(await history.get_value(PERIOD_ANCHORS_KEY))

    def anchor_of(campaign: str) -> Anchor | None:
        configured = compliance.for_target(campaign).period_start
        return resolve_anchor(configured, fixed.get(campaign), stored.get(campaign, {}))

    anchors: dict[str, Anchor] = {}
    for target in targets:
        anchor = (
            group_anchor(
                compliance.for_target(target).period_start,
                (anchor_of(member) for member in groups[target]),
            )
            if target in groups
            else anchor_of(target)
        )
        if anchor is not None:
            anchors[target] = anchor

    day_settings: dict[date, DaySettings] = {}
    if covered:
        around = days_between(covered[0] - timedelta(days=1), covered[-1] + timedelta(days=1))
        for day in around:
            recorded = await read_day_settings(history, day)
            if recorded is not None:
                day_settings[day] = recorded

    since = datetime.combine(first - timedelta(days=2), time(), tzinfo=UTC)
    incidents = tuple(i for i in await alerts.all_incidents() if i.opened_at >= since)
    audits = tuple(await alerts.audit_since(since))
    return LedgerInputs(
        targets=targets,
        days=days,
        covered=covered,
        anchors=anchors,
        day_settings=day_settings,
        config_thresholds={t: compliance.for_target(t).thresholds for t in targets},
        fallback_clock=config_clock(settings),
        incidents=incidents,
        audits=audits,
    )


def summary(inputs: LedgerInputs, rows: Sequence[LedgerRow], first: date, last: date) -> str:
    """One line for people (stderr), so the data on stdout stays machine-readable."""
    if not rows:
        return (
            f"wallboard ledger: no stored day from {first} to {last} for "
            f"{', '.join(inputs.targets) or 'any campaign'} ({CLOSED_DAYS_NOTE})"
        )
    recorded = sum(1 for day in inputs.covered if day in inputs.day_settings)
    return (
        f"wallboard ledger: {len(rows)} row(s), {len(inputs.targets)} campaign(s)/group(s), "
        f"{inputs.covered[0]} to {inputs.covered[-1]}; thresholds recorded for {recorded} of "
        f"{len(inputs.covered)} days, the current config's otherwise ({CLOSED_DAYS_NOTE})"
    )


async def run_ledger(
    settings: Settings,
    *,
    first: date,
    last: date,
    campaigns: Sequence[str] = (),
    output_format: str = "csv",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print the ledger; exit 0, 1 (a store cannot be read) or 2 (a bad request)."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if first > last:
        print(f"wallboard ledger: --from {first} is after --to {last}", file=err)
        return EXIT_USAGE
    if output_format not in FORMATS:
        print(f"wallboard ledger: --format must be one of {', '.join(FORMATS)}", file=err)
        return EXIT_USAGE
    history, alerts = open_ledger_sources(settings.cache, settings.state.path)
    try:
        inputs = await load_inputs(
            settings, history, alerts, first=first, last=last, requested=campaigns
        )
    except LedgerUsageError as error:
        print(f"wallboard ledger: {error}", file=err)
        return EXIT_USAGE
    except (HistoryStoreError, AlertStoreError) as error:
        print(f"wallboard ledger: cannot read the durable store: {error}", file=err)
        return EXIT_FAILURE
    finally:
        await history.close()
        await alerts.close()
    rows = build_rows(inputs)
    if output_format == "json":
        write_json(rows, out)
    else:
        write_csv(rows, out)
    print(summary(inputs, rows, first, last), file=err)
    return EXIT_OK
