"""Typed, immutable records of what VICIdial's Non-Agent API prints.

One record per output line of a function (see ``shared/vicidial/API.md`` §5). Frozen dataclasses
so the poller can compare snapshots with ``==`` and push to TVs only on change, and so nothing
downstream can mutate data another reader is looking at. Field names follow VICIdial's columns;
values are converted to the Python type the column holds (counts are ``int``, the dial level is
``float``, ``Y``/``N`` is ``bool``). A column an older build does not print is ``None``, which is
different from a column printed empty (``""``).

:func:`agent_state` lives here because it is a pure function of one record: it applies the same
counting rules as VICIdial's own ``user_group_status`` (API.md §5.4), so the wallboard's buckets
match the ones supervisors already know.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "AgentState",
    "AgentStatus",
    "CallStatusStats",
    "CampaignInfo",
    "CampaignUpdate",
    "HopperCount",
    "InGroupStatus",
    "LoggedInAgent",
    "StatusCounts",
    "UpdateOutcome",
    "UserGroupStatus",
    "VersionInfo",
    "agent_state",
]


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """The ``version`` answer: which VICIdial build and what time/zone the server thinks it is.

    ``dst``, ``tz`` and ``tz_now`` are ``None`` for answers that do not carry them (the Agent
    API's ``version`` prints only VERSION, BUILD, DATE and EPOCH).
    """

    version: str
    build: str
    date: str
    epoch: int
    dst: bool | None
    tz: float | None
    tz_now: float | None


@dataclass(frozen=True, slots=True)
class LoggedInAgent:
    """One row of ``logged_in_agents``: an agent session as ``vicidial_live_agents`` holds it.

    ``pause_code`` and ``sub_status`` are ``None`` when the answer has no such columns (the call
    was made without ``show_sub_status=YES``); with them, an empty value is ``""``.
    """

    user: str
    campaign_id: str
    session_id: str
    status: str
    lead_id: int
    callerid: str
    calls_today: int
    full_name: str
    user_group: str
    user_level: int
    pause_code: str | None = None
    sub_status: str | None = None


class AgentState(StrEnum):
    """The wallboard's agent buckets: the same ones VICIdial's ``user_group_status`` counts."""

    WAITING = "waiting"
    INCALL = "incall"
    PAUSED = "paused"
    DISPO = "dispo"
    DEAD = "dead"
    DIAL = "dial"


_INCALL_STATUSES = frozenset({"INCALL", "QUEUE", "MQUEUE"})
_INCALL_SUB_STATUSES = frozenset({"PARK", "3-WAY"})
_WAITING_STATUSES = frozenset({"READY", "CLOSER"})


def agent_state(agent: LoggedInAgent) -> AgentState:
    """Bucket one agent the way VICIdial's ``user_group_status`` does (API.md §5.4).

    The rules are applied in this order, first match wins:

    1. ``PAUSED`` or ``READY`` with a lead (``lead_id > 0``): the agent is dispositioning.
    2. sub-status ``DISPO``: dispositioning.
    3. ``INCALL`` with sub-status ``DEAD``: the customer hung up, the agent has not.
    4. sub-status ``DIAL``: a manual call that has not been answered yet.
    5. ``INCALL``/``QUEUE``/``MQUEUE`` or sub-status ``PARK``/``3-WAY``: on a call.
    6. ``READY``/``CLOSER``: waiting for a call.
    7. ``PAUSED``: paused.

    A status this table does not know (a future VICIdial) counts as paused: it is neither
    available for calls nor talking, which is the cautious reading for a drop-rate board.
    """
    status = agent.status
    sub_status = agent.sub_status or ""
    if status in ("PAUSED", "READY") and agent.lead_id > 0:
        return AgentState.DISPO
    if sub_status == "DISPO":
        return AgentState.DISPO
    if status == "INCALL" and sub_status == "DEAD":
        return AgentState.DEAD
    if sub_status == "DIAL":
        return AgentState.DIAL
    if status in _INCALL_STATUSES or sub_status in _INCALL_SUB_STATUSES:
        return AgentState.INCALL
    if status in _WAITING_STATUSES:
        return AgentState.WAITING
    return AgentState.PAUSED


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """One row of ``campaigns_list``.

    ``dial_level`` is ``auto_dial_level``, the live value for ADAPT_* methods. Builds before
    240718 print only the first eight columns; the last four are then ``None``.
    """

    campaign_id: str
    campaign_name: str
    active: bool
    user_group: str
    dial_method: str
    dial_level: float
    lead_order: str
    dial_statuses: tuple[str, ...]
    dial_timeout: int | None = None
    dial_prefix: str | None = None
    manual_dial_prefix: str | None = None
    three_way_dial_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class HopperCount:
    """How many leads sit in one campaign's hopper (``hopper_list`` row count)."""

    campaign_id: str
    leads: int


class StatusCounts(Mapping[str, int]):
    """An immutable, hashable ``{status: count}`` mapping, in the order VICIdial printed it.

    A plain ``dict`` would make :class:`CallStatusStats` unhashable and let readers mutate a
    shared snapshot. Compares equal to any mapping with the same items (``== {"DROP": 3}``).
    A status given twice is summed.
    """

    __slots__ = ("_counts",)

    _counts: dict[str, int]

    def __init__(self, items: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        counts: dict[str, int] = {}
        for status, count in pairs:
            counts[status] = counts.get(status, 0) + count
        self._counts = counts

    def __getitem__(self, status: str) -> int:
        return self._counts[status]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __hash__(self) -> int:
        return hash(frozenset(self._counts.items()))

    def __repr__(self) -> str:
        return f"StatusCounts({self._counts!r})"


@dataclass(frozen=True, slots=True)
class CallStatusStats:
    """One line of ``call_status_stats``: today's (or ``query_date``'s) calls of one code.

    ``code`` is a campaign ID (counted from ``vicidial_log``) or an in-group ID (counted from
    ``vicidial_closer_log``); the answer does not say which, the caller knows what it asked for.
    ``human_answered`` already includes DROP and XDROP. ``hourly[h]`` is the number of calls in
    hour ``h`` (0-23) of the server's local day.
    """

    code: str
    calls: int
    human_answered: int
    hourly: tuple[int, ...]
    statuses: StatusCounts

    @property
    def drops(self) -> int:
        """Dropped calls: ``DROP`` plus ``XDROP`` (VICIdial's ``drops_today``)."""
        return self.statuses.get("DROP", 0) + self.statuses.get("XDROP", 0)

    @property
    def drop_ratio(self) -> float:
        """Drops per human-answered call (``drops_answers_today_pct`` / 100); 0.0 if none."""
        if self.human_answered <= 0:
            return 0.0
        return self.drops / self.human_answered


@dataclass(frozen=True, slots=True)
class InGroupStatus:
    """The ``in_group_status`` line: live calls and agents of a set of in-groups together.

    ``total_calls`` and ``calls_waiting`` are calls right now, not calls today.
    """

    ingroups: tuple[str, ...]
    total_calls: int
    calls_waiting: int
    agents_logged_in: int
    agents_in_calls: int
    agents_waiting: int
    agents_paused: int
    agents_in_dispo: int
    agents_in_dial: int


@dataclass(frozen=True, slots=True)
class UserGroupStatus:
    """The ``user_group_status`` line: agent counts of a set of user groups together.

    ``calls_waiting`` is global to the API user's allowed campaigns and in-groups, not filtered
    by the requested user groups (API.md §5.4).
    """

    usergroups: tuple[str, ...]
    calls_waiting: int
    agents_logged_in: int
    agents_in_calls: int
    agents_waiting: int
    agents_paused: int
    agents_in_dead_calls: int
    agents_in_dispo: int
    agents_in_dial: int


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """The ``agent_status`` line for one logged-in agent.

    ``computer_ip`` is ``None`` unless the call asked for ``include_ip=YES`` and VICIdial found
    one.
    """

    status: str
    callerid: str
    lead_id: int
    campaign_id: str
    calls_today: int
    full_name: str
    user_group: str
    user_level: int
    pause_code: str
    real_time_sub_status: str
    phone_number: str
    vendor_lead_code: str
    session_id: str
    computer_ip: str | None = None


UpdateOutcome = Literal["updated", "no_updates", "hopper_reset"]


@dataclass(frozen=True, slots=True)
class CampaignUpdate:
    """What ``update_campaign`` reported.

    ``outcome`` is ``updated`` when the campaign row changed, else ``hopper_reset`` when only the
    hopper was reset, else ``no_updates`` (VICIdial's NOTICE for a request that changed nothing,
    for example a lowercase ``active=n``, which VICIdial strips to empty). ``campaign_id`` is
    ``None`` when VICIdial did not print it (the NO UPDATES notice prints only the user).
    ``lines`` keeps VICIdial's status lines for the audit log.
    """

    outcome: UpdateOutcome
    user: str
    campaign_id: str | None
    hopper_reset: bool
    lines: tuple[str, ...]
