"""What the chaos soak recorded, and the few readings of it every check shares. Pure data.

Times are wall-clock seconds since the epoch (``time.time()``), the clock every process of the
soak stamps its events with: the simulator's fault log, the daemons' ``last_success``, the
soak's own log of what it did and when.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.chaos_plan import FLOOR_FUNCTIONS, POLLED_FUNCTIONS, SoakPlan
from tests.support.chaos_rig import Injection
from tests.support.chaos_watch import Hit, RequestCount, RssSample, Sample
from tests.support.slack_server import Message
from wallboard.alerts.store import AuditRecord
from wallboard.alerts.types import Incident

#: The breaker cause the daemon must name for each refusal the simulator can inject.
LOGIN_CAUSE = {"login": "bad_credentials", "lock": "locked"}


@dataclass(frozen=True)
class WindowDone:
    """A long fault: every request of ``function`` failed as ``kind`` from start to end."""

    start: float
    end: float
    function: str
    kind: str


@dataclass(frozen=True)
class LoginDone:
    """A refusal queued at ``posted`` (the simulator's log says when a request met it)."""

    posted: float
    kind: str
    recover: bool


@dataclass(frozen=True)
class KillDone:
    """The leader's process ``kill -9``ed at ``at`` and started again at ``restarted``."""

    at: float
    daemon: str
    instance: str  # the killed leader's instance name ("" when none was leading)
    restarted: float


@dataclass(frozen=True)
class RedisDone:
    """redis-server killed at ``down`` and answering again at ``up``."""

    down: float
    up: float


@dataclass
class Observed:
    """Everything the soak recorded; times are wall-clock seconds since the epoch."""

    plan: SoakPlan
    t0: float
    t_end: float
    finished: float
    stopped: float = 0.0  # when the daemons were sent SIGTERM (the store is read after)
    injections: list[Injection] = field(default_factory=list)
    windows: list[WindowDone] = field(default_factory=list)
    logins: list[LoginDone] = field(default_factory=list)
    kills: list[KillDone] = field(default_factory=list)
    redis: list[RedisDone] = field(default_factory=list)
    slack_faults: Counter[str] = field(default_factory=Counter)
    samples: list[Sample] = field(default_factory=list)
    rss: list[RssSample] = field(default_factory=list)
    requests: list[RequestCount] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    audits: list[AuditRecord] = field(default_factory=list)
    seq_total: int = 0
    #: notifications undelivered when the daemons stopped: (committed at, incident key)
    pending: list[tuple[float, str]] = field(default_factory=list)
    openings_logged: int = 0
    slack_messages: list[Message] = field(default_factory=list)
    slack_updates: int = 0
    slack_requests: int = 0
    sim_pauses: list[Mapping[str, str]] = field(default_factory=list)
    sim_total: int = 0
    ledger_rows: list[Mapping[str, Any]] = field(default_factory=list)
    ledger_exit: int = 0
    audit_exit: int = 0
    audit_lines: list[str] = field(default_factory=list)
    past_days: list[str] = field(default_factory=list)
    truth: dict[tuple[str, str], tuple[int, int, int]] = field(default_factory=dict)
    final_windows: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    dialer_seconds: float = 0.0
    secret_hits: list[Hit] = field(default_factory=list)
    scanned_items: int = 0
    scanned_bytes: int = 0
    crashes: list[str] = field(default_factory=list)
    exit_codes: dict[str, list[int]] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    our_requests: Counter[str] = field(default_factory=Counter)
    harness_errors: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """The figures the bench prints and the failures that make it exit 1."""

    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.failures.append(message)

    @property
    def passed(self) -> bool:
        return not self.failures


def hold(kind: str, timeout: float) -> float:
    """How long one injected fault keeps a request from a good answer (the client gives up on
    a held request after its timeout; an endless body is cut at the size cap at once)."""
    if kind in ("timeout", "slow"):
        return timeout
    if kind == "endless":
        return 0.5
    return 0.0


def source_of(function: str) -> str | None:
    return function if function in POLLED_FUNCTIONS else None


def reachable(samples: Iterable[Sample]) -> list[Sample]:
    return [s for s in samples if s.snapshot_stale is not None]


def between(samples: Sequence[Sample], start: float, end: float) -> list[Sample]:
    return [s for s in samples if start <= s.at <= end]


def login_injection(o: Observed, login: LoginDone) -> float | None:
    """When the simulator actually answered with the refusal (None: nothing consumed it)."""
    for injection in o.injections:
        if injection.kind == login.kind and injection.at >= login.posted - 0.5:
            return injection.at
    return None


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def failing_by_window(o: Observed, moment: float) -> set[str]:
    """The sources a long fault keeps failing at ``moment``."""
    failing: set[str] = set()
    for window in o.windows:
        if window.start <= moment <= window.end:
            failing |= set(FLOOR_FUNCTIONS) if window.function == "*" else {window.function}
    return failing


def excused(o: Observed, since: float, moment: float) -> set[str]:
    """Sources with a fault of their own between ``since`` and ``moment`` (a long one under
    way, or a short one injected): their recoveries are judged on their own."""
    faulted = {
        source
        for i in o.injections
        if since <= i.at <= moment and (source := source_of(i.function)) is not None
    }
    return failing_by_window(o, moment) | faulted


def openings_seen(samples: Iterable[Sample]) -> set[tuple[str, str]]:
    """Each incident opening the screens showed: (key, opened at)."""
    return {(a.key, a.since) for s in samples for a in s.alerts}
