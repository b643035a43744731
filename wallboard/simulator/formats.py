"""VICIdial's text output: delimiters, headers, column orders and PHP's number printing.

Everything here is pure: records from :mod:`wallboard.simulator.types` in, lists of field
strings or whole bodies out. Column names and orders are the *code* forms of API.md §5
(for example ``callerid``, not the doc's ``call_id``). PHP prints floats with 14 significant
digits and drops a trailing ``.0``; :func:`php_number` reproduces that, because a parser that
only ever saw Python's ``2.0`` would break on a real server's ``2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from wallboard.simulator.types import AgentDayLog, DayStats, HopperLead, SimAgent, SimCampaign

_DELIMITERS = {"csv": ",", "tab": "\t", "pipe": "|"}


def delimiter_for(stage: str) -> str:
    """``stage=csv|tab|pipe``; anything else (or nothing) falls back to ``|``."""
    return _DELIMITERS.get(stage, "|")


def body(lines: Iterable[str]) -> str:
    """Join response lines; every line, the last included, ends in ``\\n``."""
    return "".join(f"{line}\n" for line in lines)


def render_table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, stage: str, header: str
) -> str:
    """Rows joined by the stage delimiter, preceded by the header line when ``header=YES``.

    The header is taken as given: a build whose header is shorter than its rows (the legacy
    ``agent_status``) is reproduced, not repaired.
    """
    dl = delimiter_for(stage)
    lines = [dl.join(columns)] if header == "YES" else []
    lines.extend(dl.join(row) for row in rows)
    return body(lines)


def php_round(value: float, digits: int = 0) -> float:
    """PHP's ``round()``: half away from zero (Python's ``round`` rounds half to even)."""
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def php_number(value: float) -> str:
    """How PHP's ``echo`` prints a number: ``-4`` not ``-4.0``, ``16.7``, at most 14 digits."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.14G}"


def sec_convert(seconds: float, time_format: str) -> str:
    """VICIdial's ``sec_convert()``: ``H``/``HF`` → ``h:mm:ss``, ``M`` → ``m:ss``, ``S`` → seconds.

    Any other format prints the (rounded) seconds, as the PHP ``else`` branch does.
    """
    sec = php_round(seconds)
    if sec < 1:
        if time_format in ("HF", "H"):
            return "0:00:00"
        return "0" if time_format == "S" else "0:00"
    whole = int(sec)
    if time_format in ("HF", "H"):
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}"
    if time_format == "M":
        minutes, secs = divmod(whole, 60)
        return f"{minutes}:{secs:02d}"
    return php_number(sec)


def format_dial_level(level: float) -> str:
    """``auto_dial_level`` as stored (at most 3 decimals, no trailing zeros)."""
    return php_number(round(level, 3))


# ---------------------------------------------------------------- logged_in_agents (§5.2)
LOGGED_IN_AGENTS_COLUMNS = (
    "user",
    "campaign_id",
    "session_id",
    "status",
    "lead_id",
    "callerid",
    "calls_today",
    "full_name",
    "user_group",
    "user_level",
)
SUB_STATUS_COLUMNS = ("pause_code", "sub_status")


def logged_in_agents_columns(show_sub_status: bool) -> tuple[str, ...]:
    return LOGGED_IN_AGENTS_COLUMNS + (SUB_STATUS_COLUMNS if show_sub_status else ())


def logged_in_agent_row(agent: SimAgent, *, show_sub_status: bool) -> list[str]:
    row = [
        agent.user,
        agent.campaign_id,
        agent.session_id,
        agent.status,
        str(agent.lead_id),
        agent.callerid,
        str(agent.calls_today),
        agent.full_name,
        agent.user_group,
        str(agent.user_level),
    ]
    if show_sub_status:
        row += [agent.pause_code, agent.sub_status]
    return row


# ---------------------------------------------------------------- agent_status (§5.3)
AGENT_STATUS_COLUMNS = (
    "status",
    "callerid",
    "lead_id",
    "campaign_id",
    "calls_today",
    "full_name",
    "user_group",
    "user_level",
    "pause_code",
    "real_time_sub_status",
    "phone_number",
    "vendor_lead_code",
    "session_id",
)
# Builds before 240718 print an 8-column header over the 13-column data line (API.md §10.7).
AGENT_STATUS_LEGACY_COLUMNS = AGENT_STATUS_COLUMNS[:8]


def agent_status_row(agent: SimAgent) -> list[str]:
    return [
        agent.status,
        agent.callerid,
        str(agent.lead_id),
        agent.campaign_id,
        str(agent.calls_today),
        agent.full_name,
        agent.user_group,
        str(agent.user_level),
        agent.pause_code,
        agent.sub_status,
        agent.phone_number,
        agent.vendor_lead_code,
        agent.session_id,
    ]


# ---------------------------------------------------------------- campaigns_list (§5.8)
CAMPAIGNS_LIST_COLUMNS = (
    "campaign_id",
    "campaign_name",
    "active",
    "user_group",
    "dial_method",
    "dial_level",
    "lead_order",
    "dial_statuses",
    "dial_timeout",
    "dial_prefix",
    "manual_dial_prefix",
    "three_way_dial_prefix",
)
LEGACY_CAMPAIGNS_LIST_WIDTH = 8  # builds before 240718 stop at dial_statuses


def campaigns_list_columns(*, legacy: bool) -> tuple[str, ...]:
    width = LEGACY_CAMPAIGNS_LIST_WIDTH if legacy else len(CAMPAIGNS_LIST_COLUMNS)
    return CAMPAIGNS_LIST_COLUMNS[:width]


def campaign_row(campaign: SimCampaign, *, legacy: bool) -> list[str]:
    row = [
        campaign.campaign_id,
        campaign.campaign_name,
        "Y" if campaign.active else "N",
        campaign.user_group,
        campaign.dial_method,
        format_dial_level(campaign.dial_level),
        campaign.lead_order,
        campaign.dial_statuses.strip().removesuffix(" -").strip(),
        str(campaign.dial_timeout),
        campaign.dial_prefix,
        campaign.manual_dial_prefix,
        campaign.three_way_dial_prefix,
    ]
    return row[:LEGACY_CAMPAIGNS_LIST_WIDTH] if legacy else row


# ---------------------------------------------------------------- hopper_list (§5.9)
HOPPER_LIST_COLUMNS = (
    "hopper_order",
    "priority",
    "lead_id",
    "list_id",
    "phone_number",
    "phone_code",
    "state",
    "status",
    "count",
    "gmt_offset",
    "rank",
    "alt",
    "hopper_source",
    "vendor_lead_code",
    "source_id",
    "age_days",
    "last_call_time",
)


def hopper_row(lead: HopperLead) -> list[str]:
    return [
        str(lead.hopper_order),
        str(lead.priority),
        str(lead.lead_id),
        str(lead.list_id),
        lead.phone_number,
        lead.phone_code,
        lead.state,
        lead.status,
        str(lead.count),
        lead.gmt_offset,
        str(lead.rank),
        lead.alt,
        lead.hopper_source,
        lead.vendor_lead_code,
        lead.source_id,
        str(lead.age_days),
        lead.last_call_time,
    ]


# ------------------------------------------------------------ user_group_status, in_group_status
USER_GROUP_STATUS_COLUMNS = (
    "usergroups",
    "calls_waiting",
    "agents_logged_in",
    "agents_in_calls",
    "agents_waiting",
    "agents_paused",
    "agents_in_dead_calls",
    "agents_in_dispo",
    "agents_in_dial",
)
IN_GROUP_STATUS_COLUMNS = (
    "ingroups",
    "total_calls",
    "calls_waiting",
    "agents_logged_in",
    "agents_in_calls",
    "agents_waiting",
    "agents_paused",
    "agents_in_dispo",
    "agents_in_dial",
)


@dataclass(frozen=True)
class AgentCounts:
    """The agent buckets ``user_group_status`` and ``in_group_status`` print."""

    logged_in: int = 0
    in_calls: int = 0
    waiting: int = 0
    paused: int = 0
    dead: int = 0
    dispo: int = 0
    in_dial: int = 0


def _effective_status(agent: SimAgent, *, detect_calls: bool) -> str:
    """The PHP's rewrite of ``status`` before counting (§5.4 counting rules)."""
    if agent.status in ("READY", "PAUSED") and agent.lead_id > 0:
        return "DISPO"
    if detect_calls and agent.status == "INCALL" and agent.sub_status in ("PARK", "DEAD", "DIAL"):
        return agent.sub_status
    return agent.status


def count_agents(agents: Iterable[SimAgent], *, detect_calls: bool) -> AgentCounts:
    """Count agents the way the PHP does.

    ``detect_calls`` is the ``user_group_status`` behaviour (parked, dead and manual-dial calls
    recognised); ``in_group_status`` has no such detection.
    """
    totals = dict.fromkeys(
        ("logged_in", "in_calls", "waiting", "paused", "dead", "dispo", "in_dial"), 0
    )
    for agent in agents:
        status = _effective_status(agent, detect_calls=detect_calls)
        totals["logged_in"] += 1
        totals["dead"] += status == "DEAD"
        totals["dispo"] += status == "DISPO"
        totals["paused"] += status == "PAUSED"
        totals["in_calls"] += any(s in status for s in ("INCALL", "DIAL", "QUEUE", "PARK"))
        totals["in_dial"] += "DIAL" in status
        totals["waiting"] += status in ("READY", "CLOSER")
    return AgentCounts(**totals)


def user_group_status_row(groups: str, calls_waiting: int, counts: AgentCounts) -> list[str]:
    return [
        groups,
        str(calls_waiting),
        str(counts.logged_in),
        str(counts.in_calls),
        str(counts.waiting),
        str(counts.paused),
        str(counts.dead),
        str(counts.dispo),
        str(counts.in_dial),
    ]


def in_group_status_row(
    groups: str, total_calls: int, calls_waiting: int, counts: AgentCounts
) -> list[str]:
    return [
        groups,
        str(total_calls),
        str(calls_waiting),
        str(counts.logged_in),
        str(counts.in_calls),
        str(counts.waiting),
        str(counts.paused),
        str(counts.dispo),
        str(counts.in_dial),
    ]


# ---------------------------------------------------------------- call_status_stats (§5.7)
def call_status_line(code: str, stats: DayStats) -> str:
    """``<code>|<calls>|<human>|00-n,...,23-n|STATUS-n,...|`` with statuses in key order."""
    hours = ",".join(f"{hour:02d}-{count}" for hour, count in enumerate(stats.hourly[:24]))
    statuses = ",".join(f"{status}-{n}" for status, n in sorted(stats.statuses.items()))
    return f"{code}|{stats.calls}|{stats.human_answered}|{hours}|{statuses}|"


# ---------------------------------------------------------------- agent_stats_export (§5.6)
AGENT_STATS_COLUMNS = (
    "user",
    "full_name",
    "user_group",
    "calls",
    "login_time",
    "total_talk_time",
    "avg_talk_time",
    "avg_wait_time",
    "pct_of_queue",
    "pause_time",
    "sessions",
    "avg_session",
    "pauses",
    "avg_pause_time",
    "pause_pct",
    "pauses_per_session",
    "wait_time",
    "talk_time",
    "dispo_time",
    "dead_time",
)


def agent_stats_columns(*, group_by_campaign: bool) -> tuple[str, ...]:
    return (("campaign_id",) if group_by_campaign else ()) + AGENT_STATS_COLUMNS


def _div(dividend: float, divisor: float) -> float:
    """VICIdial's ``MathZDC``: division that answers 0 for a zero divisor."""
    return dividend / divisor if divisor else 0.0


def _sum_logs(logs: Sequence[AgentDayLog]) -> AgentDayLog:
    first = logs[0]
    return AgentDayLog(
        user=first.user,
        campaign_id=first.campaign_id,
        calls=sum(log.calls for log in logs),
        login_sec=sum(log.login_sec for log in logs),
        talk_sec=sum(log.talk_sec for log in logs),
        wait_sec=sum(log.wait_sec for log in logs),
        pause_sec=sum(log.pause_sec for log in logs),
        dispo_sec=sum(log.dispo_sec for log in logs),
        dead_sec=sum(log.dead_sec for log in logs),
        sessions=sum(log.sessions for log in logs),
        pauses=sum(log.pauses for log in logs),
    )


def agent_stats_rows(
    logs: Sequence[AgentDayLog],
    people: Mapping[str, tuple[str, str]],
    *,
    time_format: str,
    group_by_campaign: bool,
) -> list[list[str]]:
    """One row per user (or per campaign and user), computed as the PHP computes it.

    ``people`` maps a user to ``(full_name, user_group)``; unknown users print empty fields.
    ``pct_of_queue`` and ``pause_pct`` carry a literal ``%``; ``pause_time`` is raw seconds.
    """
    groups: dict[tuple[str, str], list[AgentDayLog]] = {}
    for log in logs:
        key = (log.campaign_id if group_by_campaign else "", log.user)
        groups.setdefault(key, []).append(log)
    total_calls = sum(log.calls for log in logs)

    def sec(value: float) -> str:
        return sec_convert(value, time_format)

    rows = []
    for key in sorted(groups):
        agg = _sum_logs(groups[key])
        full_name, user_group = people.get(agg.user, ("", ""))
        sessions = max(agg.sessions, 1)
        login = agg.login_sec
        if agg.pauses < 1 or login < 1:
            pct_pause = 100.0
        else:
            pct_pause = php_round(_div(agg.pause_sec, login) * 100, 1)
        has_calls = agg.calls >= 1
        cust = agg.talk_sec - agg.dead_sec if has_calls else 0
        row = [
            agg.user,
            full_name,
            user_group,
            str(agg.calls),
            sec(login),
            sec(cust),
            sec(php_round(_div(cust, agg.calls))),
            sec(php_round(_div(agg.wait_sec, agg.calls))),
            f"{php_number(php_round(_div(agg.calls, total_calls) * 100, 1))}%",
            str(agg.pause_sec),
            str(sessions),
            sec(php_round(_div(login, sessions))),
            str(agg.pauses),
            sec(php_round(_div(agg.pause_sec, agg.pauses))),
            f"{php_number(pct_pause)}%",
            php_number(php_round(_div(agg.pauses, sessions))),
            sec(agg.wait_sec if has_calls else 0),
            sec(agg.talk_sec if has_calls else 0),
            sec(agg.dispo_sec if has_calls else 0),
            sec(agg.dead_sec if has_calls else 0),
        ]
        rows.append(([key[0]] if group_by_campaign else []) + row)
    return rows
