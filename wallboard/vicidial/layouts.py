"""The column layouts of VICIdial's row-printing functions (API.md §5), mapped by position.

Each :class:`~wallboard.vicidial._text.Layout` lists one function's columns in the order VICIdial
prints them, with the older header spellings accepted at each position (API.md §10: old builds
print short headers) and the row widths each build prints. They are data, not logic, and more
than the parsers read them: :func:`~wallboard.vicidial._text.read_table` checks a header against
them, :class:`~wallboard.vicidial._text.RowWidth` holds rows to their widths, and the tests build
headers from them, so they live in a table of their own rather than between parser code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ._text import Layout, Widths

__all__ = [
    "AGENT_STATUS",
    "CAMPAIGNS_LIST",
    "HOPPER_LIST",
    "IN_GROUP_STATUS",
    "LOGGED_IN_AGENTS",
    "USER_GROUP_STATUS",
]


def _layout(
    function: str,
    *columns: str | tuple[str, ...],
    widths: Widths,
    header_quirks: Mapping[int, frozenset[int]] | None = None,
) -> Layout:
    return Layout(
        function=function,
        columns=tuple((column,) if isinstance(column, str) else column for column in columns),
        widths=widths,
        header_quirks=MappingProxyType(dict(header_quirks or {})),
    )


def _widths(*exact: int, at_least: int | None, description: str) -> Widths:
    return Widths(frozenset(exact), at_least, description)


LOGGED_IN_AGENTS: Final = _layout(
    "logged_in_agents",
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
    "pause_code",
    "sub_status",
    # 10 without show_sub_status, 12 with it; a newer build may append columns.
    widths=_widths(10, at_least=12, description="10, or 12 with show_sub_status"),
)
AGENT_STATUS: Final = _layout(
    "agent_status",
    "status",
    ("callerid", "call_id"),  # the doc's header says call_id, the code prints callerid
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
    "computer_ip",
    # 13, plus computer_ip when VICIdial found one (API.md §5.3).
    widths=_widths(at_least=13, description="at least 13"),
    header_quirks={
        8: frozenset((13, 14)),  # 2021 builds: the header stops at user_level (API.md §10)
        14: frozenset((13, 14)),  # the header may name computer_ip that the row lacks
    },
)
USER_GROUP_STATUS: Final = _layout(
    "user_group_status",
    "usergroups",
    "calls_waiting",
    "agents_logged_in",
    "agents_in_calls",
    "agents_waiting",
    "agents_paused",
    "agents_in_dead_calls",
    "agents_in_dispo",
    "agents_in_dial",
    widths=_widths(at_least=9, description="at least 9"),
)
IN_GROUP_STATUS: Final = _layout(
    "in_group_status",
    "ingroups",
    "total_calls",
    "calls_waiting",
    "agents_logged_in",
    "agents_in_calls",
    "agents_waiting",
    "agents_paused",
    "agents_in_dispo",
    "agents_in_dial",
    widths=_widths(at_least=9, description="at least 9"),
)
CAMPAIGNS_LIST: Final = _layout(
    "campaigns_list",
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
    # 12 since build 240718, 8 (through dial_statuses) before it (API.md §10).
    widths=_widths(8, at_least=12, description="12, or 8 from builds before 240718"),
)
HOPPER_LIST: Final = _layout(
    "hopper_list",
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
    # Only the lead count is read; a row must at least reach lead_id to count as a lead.
    widths=_widths(at_least=3, description="at least 3 (through lead_id)"),
)
