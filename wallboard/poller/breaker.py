"""The login circuit breaker: a rejected login stops every source that needs one.

VICIdial locks an API user after 10 failed logins in 15 minutes (API.md §2.3), and while it is
locked the operator cannot log in either, not even with the right password. Polling on schedule
after ``ERROR: Login incorrect`` trips that lock within two minutes. So a login error is not a
transient failure: the breaker opens, no source that needs a login sends anything, and exactly
one authenticated request probes every ``login_retry`` (``lock_retry`` after the ``LOCK``
answer, whose lock lasts 15 minutes). The first probe that succeeds closes it.

Pure state with ``now`` as a parameter; the poller asks :meth:`LoginBreaker.permit` before
every authenticated request. The state is plain JSON so the poller keeps it in the durable
store: a restart or a new leader does not probe early.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

#: Sources that VICIdial answers without a login (the breaker never stops them).
NO_LOGIN_SOURCES = frozenset({"version"})

#: The ``LoginError.cause`` value of VICIdial's ``|LOCK|`` answer.
LOCKED = "locked"

_FIXES = {
    "bad_credentials": (
        "VICIdial rejected the login: check vicidial.user and vicidial.pass, and that the API "
        "user is Active with user level 7 or more"
    ),
    LOCKED: (
        "VICIdial locked the API user after 10 failed logins in 15 minutes; it unlocks 15 "
        "minutes after the last failure. Fix vicidial.user/pass first"
    ),
    "ip_blocked": (
        "VICIdial refuses this daemon's IP address: add it to the API user group's "
        "api_ip_list (Admin > User Groups)"
    ),
    "two_factor": (
        "VICIdial asks this API user for two-factor authentication, which an API cannot give: "
        "set the user's 2FA override"
    ),
}


class Permit(Enum):
    """What the breaker says to one authenticated request."""

    GO = "go"  # closed: send it
    PROBE = "probe"  # open, probe due: send this one, it decides
    BLOCKED = "blocked"  # open: do not send


@dataclass(frozen=True, slots=True)
class BreakerState:
    """Why the breaker is open and when it will try again."""

    cause: str
    fix: str
    opened_at: datetime
    next_probe: datetime


def fix_for(cause: str, fallback: str = "") -> str:
    """One sentence for the operator per cause."""
    return _FIXES.get(cause, fallback or _FIXES["bad_credentials"])


class LoginBreaker:
    """Open on a login error; one probe per retry period; closed by the first success."""

    def __init__(self, *, login_retry: float, lock_retry: float) -> None:
        self._login_retry = timedelta(seconds=login_retry)
        self._lock_retry = timedelta(seconds=lock_retry)
        self._state: BreakerState | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState | None:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state is not None

    def permit(self, now: datetime) -> Permit:
        """May an authenticated request go now? At most one probe is in flight."""
        if self._state is None:
            return Permit.GO
        if self._probing or now < self._state.next_probe:
            return Permit.BLOCKED
        self._probing = True
        return Permit.PROBE

    def trip(self, cause: str, now: datetime, fix: str = "") -> BreakerState:
        """A login error: open (or stay open) and schedule the next probe."""
        retry = self._lock_retry if cause == LOCKED else self._login_retry
        opened = self._state.opened_at if self._state is not None else now
        self._state = BreakerState(
            cause=cause, fix=fix_for(cause, fix), opened_at=opened, next_probe=now + retry
        )
        self._probing = False
        return self._state

    def probe_failed(self, now: datetime) -> None:
        """The probe got no verdict (timeout, transport): try again one period later."""
        if self._state is not None:
            self.trip(self._state.cause, now, self._state.fix)

    def cancel_probe(self) -> None:
        """The probe permit was not used (nothing was sent): the next request may probe."""
        self._probing = False

    def succeeded(self) -> bool:
        """A login was accepted: close. Returns True if the breaker was open."""
        was_open = self._state is not None
        self._state = None
        self._probing = False
        return was_open

    # -- durability -------------------------------------------------------------------------

    def dump(self) -> bytes:
        """The state as JSON (``null`` when closed), for the durable store."""
        state = self._state
        if state is None:
            return b"null"
        return json.dumps(
            {
                "cause": state.cause,
                "fix": state.fix,
                "opened_at": state.opened_at.isoformat(),
                "next_probe": state.next_probe.isoformat(),
            }
        ).encode()

    def load(self, data: bytes | None) -> None:
        """Restore what :meth:`dump` wrote; anything unreadable leaves the breaker closed."""
        try:
            document = json.loads(data) if data else None
            if document is None:
                self._state = None
                return
            state = BreakerState(
                cause=str(document["cause"]),
                fix=str(document["fix"]),
                opened_at=datetime.fromisoformat(document["opened_at"]),
                next_probe=datetime.fromisoformat(document["next_probe"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            self._state = None
            return
        naive = state.opened_at.tzinfo is None or state.next_probe.tzinfo is None
        self._state = None if naive else state
