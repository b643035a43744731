"""Classifying a VICIdial answer before any parsing: data, "nothing here", or which error.

VICIdial answers HTTP 200 to everything and puts the outcome in the body: data rows, or an
``ERROR:``/``NOTICE:``/``SUCCESS:`` line, or (through a proxy) an HTML page.
:func:`classify_answer` turns the failure shapes into the exception tree of
:mod:`wallboard.vicidial.errors` and recognises the two "nothing here" errors that are really
results (no logged-in agents, an empty hopper).

It is separate from :mod:`wallboard.vicidial.parsers` because it is not parsing and it has
more than one user: every parser calls it first, whatever the function, and its messages (above
all :data:`REQUIRED_PERMISSIONS`, the VICIdial setting each function needs) are what
``wallboard check`` (:mod:`wallboard.check`) prints as the fix. One module for the login and
permission wording keeps the poll log and the preflight saying the same thing, and keeps the
rule "never copy the password VICIdial echoes back" in one place to review.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from ._text import first_content_line, require_final_newline, shorten, shown
from .errors import (
    ApiError,
    HtmlResponseError,
    LoginCause,
    LoginError,
    ParseError,
    PermissionDenied,
)

__all__ = [
    "REQUIRED_PERMISSIONS",
    "Answer",
    "classify_answer",
]

REQUIRED_PERMISSIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "version": "version needs no login",
        **{
            name: f"{name} needs user level 7, View Reports and Agent API Access"
            for name in (
                "logged_in_agents",
                "agent_status",
                "user_group_status",
                "in_group_status",
                "agent_stats_export",
                "user_details",
            )
        },
        "campaigns_list": "campaigns_list needs user level 8, View Reports and Agent API Access",
        "hopper_list": "hopper_list needs user level 8, View Reports and Agent API Access",
        "call_status_stats": "call_status_stats needs user level 9 and View Reports",
        "call_dispo_report": "call_dispo_report needs user level 9 and View Reports",
        "update_campaign": (
            "update_campaign needs user level 8, Modify Campaigns and Agent API Access"
        ),
        "blind_monitor": "blind_monitor needs user level 7 and Agent API Access",
    }
)
"""The VICIdial user settings each function needs (API.md §4), as the fix to print.

Every function but ``version`` also needs an active user of level 7 or more and the function in
the user's API Allowed Functions (or ``ALL_FUNCTIONS``). ``wallboard check`` prints these.
"""


class Answer(StrEnum):
    """What kind of answer a body is, once the failure shapes have been raised."""

    DATA = "data"
    """Rows (or, for ``update_campaign`` and ``version``, the status line) to parse."""
    NO_DATA = "no_data"
    """A documented "nothing here" answer: no logged-in agents, no leads in the hopper."""


_HTML_MARKERS: Final = ("<html", "<!doctype", "<head", "<body")
_HTML_SNIFF_CHARS: Final = 512
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_NO_DATA_MARKERS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "logged_in_agents": ("NO LOGGED IN AGENTS",),
        "hopper_list": ("NO LEADS IN THE HOPPER",),
    }
)
_NOTICE_IS_RESULT: Final = frozenset({"update_campaign"})
_LOGIN_MARKERS: Final = (
    "Login incorrect",
    "Too many login attempts",
    "Your IP Address is not allowed",
    "Invalid Username/Password",
)
_ALLOWED_FUNCTIONS_DENIAL: Final = "auth USER DOES NOT HAVE PERMISSION TO USE THIS FUNCTION"


def classify_answer(function: str, text: str) -> Answer:
    """Raise the error an answer stands for, or say whether it carries data.

    * empty body → :class:`ParseError`;
    * an HTML page → :class:`HtmlResponseError`;
    * login refused (bad user/pass, locked, IP blocked, 2FA) → :class:`LoginError` with its
      :class:`~wallboard.vicidial.errors.LoginCause`, whose message never contains the
      password VICIdial echoes back;
    * no final newline → :class:`ParseError` ("answer cut off"). This comes after the two
      above on purpose: a cut HTML page is still a proxy's page, and a cut login refusal is
      still a refusal (its cause is in the words before the user name), so the error kind,
      and the login circuit breaker that keys on it, stay right. Everything else, error lines
      included, must be whole: a "nothing here" line cut off is not a trustworthy zero;
    * a permission error → :class:`PermissionDenied` naming the VICIdial setting to fix;
    * ``NO FUNCTION SPECIFIED`` (an unknown function) and any other ``ERROR:`` →
      :class:`ApiError`, except the function's "nothing here" errors → :attr:`Answer.NO_DATA`;
    * a ``NOTICE:`` line → :class:`ApiError`, except for ``update_campaign`` where it is the
      result.
    """
    first = first_content_line(text)
    if not first:
        raise ParseError("empty answer", function=function)
    if _looks_like_html(text):
        raise HtmlResponseError(_html_message(text), function=function)
    if first.startswith("ERROR:"):
        detail = first[len("ERROR:") :].strip()
        if any(marker in detail for marker in _LOGIN_MARKERS):
            message, cause = _login_refusal(detail)
            raise LoginError(message, function=function, cause=cause)
        require_final_newline(function, text)
        return _classify_error(function, detail, first)
    require_final_newline(function, text)
    if first.startswith("NOTICE:") and function not in _NOTICE_IS_RESULT:
        raise ApiError(shorten(first), function=function)
    return Answer.DATA


def _classify_error(function: str, detail: str, first: str) -> Answer:
    if _ALLOWED_FUNCTIONS_DENIAL in detail:
        raise PermissionDenied(
            f"the API user may not use {function}: add {function} to the user's "
            "API Allowed Functions (or ALL_FUNCTIONS)",
            function=function,
        )
    if "USER DOES NOT HAVE PERMISSION" in detail:
        fix = REQUIRED_PERMISSIONS.get(
            function, f"{function} needs permissions this user lacks (see NON-AGENT_API.txt)"
        )
        raise PermissionDenied(f"the API user may not use {function}: {fix}", function=function)
    if detail.startswith("NO FUNCTION SPECIFIED"):
        raise ApiError(f"this VICIdial does not know function {function}", function=function)
    if any(marker in detail for marker in _NO_DATA_MARKERS.get(function, ())):
        return Answer.NO_DATA
    if detail.startswith("Invalid Source"):
        raise ApiError(
            f"{shorten(first)} (source must keep at least 2 letters or digits)",
            function=function,
        )
    raise ApiError(shorten(first), function=function)


_BAD_FORM_FIELDS: Final = 4  # "|<user>|<pass>|<code>|" split after the first "|"


def _login_refusal(detail: str) -> tuple[str, LoginCause]:
    """Describe a login refusal and its cause from its structure, never copying the password.

    VICIdial prints ``...: |<user>|<pass>|BAD|`` (or ``2FA``), ``...: |<user>|LOCK|``,
    ``...: <ip>: |<user>|IPBLOCK|`` and, from the Agent API, ``...: |<user>|<pass>|...|``.
    The cause comes from the words before the data, except ``2FA``, which shares its words
    with ``BAD`` and is read only from a complete ``|user|pass|code|`` (so a pass, or a cut
    answer, can never pass for a code). Of the data only the user (the field right after
    ``: |``) is copied; text without that shape names no user, since the field after a ``|``
    might then be the password.
    """
    head, bar, data = detail.partition("|")
    structured = bool(bar) and head.rstrip().endswith(":")
    fields = data.split("|") if structured else []
    user = shown(fields[0]) if len(fields) >= 2 else "(not shown)"
    if "Too many login attempts" in head:
        return (
            f"too many failed logins for user {user}: VICIdial locks it for 15 minutes",
            LoginCause.LOCKED,
        )
    if "Your IP Address is not allowed" in head:
        address = head.partition("allowed:")[2].strip().partition(": ")[0].rstrip(":")
        return (
            f"VICIdial does not allow API calls from this address ({shorten(address, 60)}): "
            "check the user group's API IP list",
            LoginCause.IP_BLOCKED,
        )
    if len(fields) == _BAD_FORM_FIELDS and fields[2] == "2FA" and not fields[3]:
        return (
            f"login refused for user {user}: two-factor authentication is required "
            "(give the API user a 2FA override)",
            LoginCause.TWO_FACTOR,
        )
    return (
        f"login incorrect for user {user} (wrong user or pass, inactive user, "
        "user level below 7, or the pass has characters VICIdial strips)",
        LoginCause.BAD_CREDENTIALS,
    )


def _looks_like_html(text: str) -> bool:
    head = text[:_HTML_SNIFF_CHARS].lower()
    return any(marker in head for marker in _HTML_MARKERS)


def _html_message(text: str) -> str:
    match = _TITLE.search(text[:4096])
    title = " ".join(match.group(1).split()) if match else ""
    suffix = f" (title {shown(title, 80)})" if title else ""
    return f"got an HTML page instead of API text, typically a proxy or PHP error{suffix}"
