"""Who may call what: input sanitising, the login gate and the per-function permission matrix.

VICIdial's ``non_agent_api.php`` strips every parameter to a character class before using it
(API.md §2.2), then runs ``user_authorization(...,'REPORTS',...)`` (§2.3) and, per function,
``api_allowed_functions`` and a permission query (§4). A client that gets any of these wrong
sees a specific error text; the simulator reproduces each text in its code form so the daemon's
error handling is exercised against the real strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

# Every function the wallboard needs; ``--deny`` removes entries from this explicit list.
NEEDED_FUNCTIONS = (
    "version",
    "logged_in_agents",
    "user_group_status",
    "in_group_status",
    "agent_status",
    "agent_stats_export",
    "campaigns_list",
    "hopper_list",
    "call_status_stats",
    "update_campaign",
)

# Character classes *removed* from each parameter (``preg_replace('/[^...]/','',$x)``).
_STRIP: Mapping[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for names, pattern in (
        (("user", "pass", "function", "stage", "campaign_id", "agent_user"), r"[^-_0-9a-zA-Z]"),
        (("dial_method",), r"[^-_0-9a-zA-Z]"),
        (("source", "header", "group_by_campaign", "include_ip"), r"[^0-9a-zA-Z]"),
        (("active", "show_sub_status", "time_format"), r"[^A-Z]"),
        (("campaigns", "in_groups", "user_groups", "ingroups"), r"[^-|,_0-9a-zA-Z]"),
        (("datetime_start", "datetime_end"), r"[^- +:_0-9]"),
        (("query_date",), r"[^-0-9]"),
        (("auto_dial_level",), r"[^.0-9]"),
        (("campaign_name",), r"[^- .,_0-9a-zA-Z]"),
    )
    for name in names
}


def sanitize(name: str, value: str) -> str:
    """Return ``value`` stripped the way ``non_agent_api.php`` strips parameter ``name``.

    Parameters the simulator never reads are returned unchanged.
    """
    pattern = _STRIP.get(name)
    return pattern.sub("", value) if pattern else value


@dataclass(frozen=True)
class ApiUser:
    """One ``vicidial_users`` row, reduced to the columns the API checks.

    ``password`` is excluded from ``repr`` so a logged user object never shows it.
    """

    user: str
    password: str = field(repr=False)
    user_level: int = 9
    active: bool = True
    view_reports: bool = True
    modify_campaigns: bool = True
    vdc_agent_api_access: bool = True
    api_allowed_functions: str = " ALL_FUNCTIONS "
    user_group: str = "ADMIN"

    def may_use(self, function: str) -> bool:
        """``api_allowed_functions`` contains `` <function> `` or ``ALL_FUNCTIONS``."""
        allowed = self.api_allowed_functions
        return f" {function} " in allowed or "ALL_FUNCTIONS" in allowed


def api_user(user: str, password: str, *, user_level: int = 9, deny: Iterable[str] = ()) -> ApiUser:
    """The simulator's API user: every permission the wallboard needs, minus what ``deny`` says.

    With no denials the column keeps VICIdial's default `` ALL_FUNCTIONS ``; with any, it becomes
    the explicit list of needed functions without the denied ones.
    """
    denied = set(deny)
    allowed = " ALL_FUNCTIONS "
    if denied:
        allowed = " " + " ".join(f for f in NEEDED_FUNCTIONS if f not in denied) + " "
    return ApiUser(
        user=user, password=password, user_level=user_level, api_allowed_functions=allowed
    )


class AuthResult(StrEnum):
    """``user_authorization()``'s answer (``IPBLOCK`` and ``2FA`` are never produced here)."""

    GOOD = "GOOD"
    BAD = "BAD"
    LOCK = "LOCK"


LOCK_ATTEMPTS = 10
LOCK_WINDOW = timedelta(minutes=15)


class LoginGate:
    """Credentials, ``user_level > 6``, ``active='Y'`` and the failed-login lock.

    Failed logins are remembered per existing user with their simulated time; with
    ``LOCK_ATTEMPTS`` failures inside ``LOCK_WINDOW`` every further attempt, right or wrong,
    answers ``LOCK`` until the oldest failure ages out. Unknown users are never locked (VICIdial
    has no row to count on).
    """

    def __init__(self, users: Iterable[ApiUser]) -> None:
        self._users = {u.user: u for u in users}
        self._failures: dict[str, list[datetime]] = {}

    def check(self, user: str, password: str, now: datetime) -> tuple[AuthResult, ApiUser | None]:
        """Authenticate sanitised ``user``/``password`` at simulated time ``now``."""
        known = self._users.get(user)
        if known is None:
            return AuthResult.BAD, None
        recent = [t for t in self._failures.get(user, []) if now - t < LOCK_WINDOW]
        self._failures[user] = recent
        if len(recent) >= LOCK_ATTEMPTS:
            return AuthResult.LOCK, None
        if known.password == password and known.active and known.user_level > 6:
            recent.clear()
            return AuthResult.GOOD, known
        recent.append(now)
        return AuthResult.BAD, None


@dataclass(frozen=True)
class FunctionPermission:
    """The per-function permission query of §4 and the error it prints when it finds no row."""

    min_level: int
    reason: str
    agent_api: bool = True
    view_reports: bool = True
    modify_campaigns: bool = False
    trailing_pipe: bool = True

    def allows(self, user: ApiUser) -> bool:
        return (
            user.active
            and user.user_level >= self.min_level
            and (user.vdc_agent_api_access or not self.agent_api)
            and (user.view_reports or not self.view_reports)
            and (user.modify_campaigns or not self.modify_campaigns)
        )

    def error(self, user: str) -> str:
        """``ERROR: <reason>: |<user>|0|`` (``update_campaign`` has no trailing pipe)."""
        tail = "|" if self.trailing_pipe else ""
        return f"ERROR: {self.reason}: |{user}|0{tail}"


def _perm(function: str, min_level: int, what: str, **flags: bool) -> FunctionPermission:
    reason = f"{function} USER DOES NOT HAVE PERMISSION TO {what}"
    return FunctionPermission(min_level, reason, **flags)


PERMISSIONS: Mapping[str, FunctionPermission] = {
    "logged_in_agents": _perm("logged_in_agents", 7, "GET AGENT INFO"),
    "agent_status": _perm("agent_status", 7, "GET AGENT INFO"),
    "agent_stats_export": _perm("agent_stats_export", 7, "GET AGENT INFO"),
    "user_group_status": _perm("user_group_status", 7, "GET USER GROUP INFO"),
    "in_group_status": _perm("in_group_status", 7, "GET IN-GROUP INFO"),
    "campaigns_list": _perm("campaigns_list", 8, "GET CAMPAIGN INFO"),
    "hopper_list": _perm("hopper_list", 8, "GET CAMPAIGN INFO"),
    "call_status_stats": _perm("call_status_stats", 9, "VIEW STATS", agent_api=False),
    "update_campaign": _perm(
        "update_campaign",
        8,
        "UPDATE CAMPAIGNS",
        view_reports=False,
        modify_campaigns=True,
        trailing_pipe=False,
    ),
}


def login_error(user: str, password: str) -> str:
    """The login failure text; VICIdial echoes the (sanitised) password back."""
    return f"ERROR: Login incorrect, please try again: |{user}|{password}|BAD|"


def lock_error(user: str) -> str:
    return f"ERROR: Too many login attempts, try again in 15 minutes: |{user}|LOCK|"


def not_allowed_error(user: str, function: str) -> str:
    """The ``api_allowed_functions`` refusal."""
    return f"ERROR: auth USER DOES NOT HAVE PERMISSION TO USE THIS FUNCTION: |{user}|{function}|"


def invalid_source_error(source: str) -> str:
    """The two-line refusal for a ``source`` shorter than 2 characters (no trailing newline)."""
    return f"ERROR: Invalid Source - {source}\nERROR: Invalid Source: |{source}|"


NO_FUNCTION_ERROR = "ERROR: NO FUNCTION SPECIFIED"
