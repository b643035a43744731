"""The simulated dialer's data, as the API layer reads it.

``world.World`` (the dialer model) owns and mutates these records; ``api`` (the HTTP layer)
only reads them to render VICIdial's text formats. Field names follow VICIdial's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

AGENT_STATUSES = ("READY", "QUEUE", "INCALL", "PAUSED", "CLOSER", "MQUEUE")
SUB_STATUSES = ("", "DEAD", "DISPO", "3-WAY", "PARK", "RING", "PREVIEW", "DIAL")
DIAL_METHODS = (
    "MANUAL",
    "RATIO",
    "INBOUND_MAN",
    "ADAPT_AVERAGE",
    "ADAPT_HARD_LIMIT",
    "ADAPT_TAPERED",
)


@dataclass
class SimCampaign:
    """One row of ``vicidial_campaigns`` plus the model's steering knobs."""

    campaign_id: str
    campaign_name: str
    active: bool
    user_group: str
    dial_method: str
    dial_level: float
    lead_order: str = "DOWN"
    dial_statuses: str = "NEW NA B A"
    dial_timeout: int = 26
    dial_prefix: str = "9"
    manual_dial_prefix: str = ""
    three_way_dial_prefix: str = ""
    hopper_level: int = 100
    adaptive_dropped_percentage: float = 3.0
    drop_call_seconds: int = 5
    # Steering: when set, each human answer is dropped with this probability instead of
    # following agent availability (``POST /_sim/campaigns/{id}``).
    forced_drop_ratio: float | None = None
    closer_campaigns: tuple[str, ...] = ()
    # Live ``vicidial_auto_calls`` rows of this campaign (ringing, waiting for an agent, or with
    # one) and those answered but not yet with an agent (status LIVE): what ``in_group_status``
    # would show for an outbound campaign id and ``user_group_status.calls_waiting`` sums.
    total_calls: int = 0
    calls_waiting: int = 0


@dataclass
class SimAgent:
    """One row of ``vicidial_live_agents`` joined with ``vicidial_users``."""

    user: str
    full_name: str
    user_group: str
    user_level: int
    campaign_id: str
    session_id: str  # conf_exten, 7 digits
    status: str  # READY, QUEUE, INCALL, PAUSED, CLOSER, MQUEUE
    lead_id: int = 0
    callerid: str = ""
    calls_today: int = 0
    pause_code: str = "LOGIN"
    sub_status: str = ""  # DEAD, DISPO, 3-WAY, PARK, RING, PREVIEW, DIAL or ""
    state_since: datetime | None = None
    phone_number: str = ""
    vendor_lead_code: str = ""


@dataclass
class HopperLead:
    """One row of ``vicidial_hopper`` as ``hopper_list`` prints it."""

    hopper_order: int
    priority: int
    lead_id: int
    list_id: int
    phone_number: str
    phone_code: str
    state: str
    status: str
    count: int
    gmt_offset: str
    rank: int
    alt: str
    hopper_source: str
    vendor_lead_code: str
    source_id: str
    age_days: int
    last_call_time: str


@dataclass
class DayStats:
    """One campaign's (or in-group's) calls on one local day, as ``call_status_stats`` sums them."""

    calls: int = 0
    human_answered: int = 0
    hourly: list[int] = field(default_factory=lambda: [0] * 24)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def drops(self) -> int:
        return self.statuses.get("DROP", 0) + self.statuses.get("XDROP", 0)


@dataclass
class SimInGroup:
    """An inbound group: live calls right now (``vicidial_auto_calls`` rows)."""

    group_id: str
    total_calls: int = 0
    calls_waiting: int = 0
    agent_users: list[str] = field(default_factory=list)


@dataclass
class AgentDayLog:
    """Per-agent totals for ``agent_stats_export`` (seconds)."""

    user: str
    campaign_id: str
    calls: int = 0
    login_sec: int = 0
    talk_sec: int = 0
    wait_sec: int = 0
    pause_sec: int = 0
    dispo_sec: int = 0
    dead_sec: int = 0
    sessions: int = 1
    pauses: int = 0
    first_login: datetime | None = None


__all__ = [
    "AGENT_STATUSES",
    "DIAL_METHODS",
    "SUB_STATUSES",
    "AgentDayLog",
    "DayStats",
    "HopperLead",
    "SimAgent",
    "SimCampaign",
    "SimInGroup",
    "date",
]
