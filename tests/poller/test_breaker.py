"""The login circuit breaker: one probe per retry period, lock-aware, durable, closed by success.

VICIdial locks the API user after 10 failed logins in 15 minutes, so the property that matters
is a count: however requests, outcomes and time interleave, an open breaker lets through at
most one probe per ``login_retry`` (``lock_retry`` after the ``LOCK`` answer). The model-based
test below checks every permit against that rule; the examples pin the individual transitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.poller.breaker import (
    LOCKED,
    NO_LOGIN_SOURCES,
    BreakerState,
    LoginBreaker,
    Permit,
    fix_for,
)

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LOGIN_RETRY = 120.0
LOCK_RETRY = 900.0


def breaker() -> LoginBreaker:
    return LoginBreaker(login_retry=LOGIN_RETRY, lock_retry=LOCK_RETRY)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- transitions ------------------------------------------------------------------------------


def test_a_closed_breaker_lets_every_request_go() -> None:
    b = breaker()
    assert not b.is_open
    assert b.state is None
    assert [b.permit(at(s)) for s in (0, 0, 1, 3600)] == [Permit.GO] * 4


def test_a_login_error_blocks_everything_until_the_retry_period_has_passed() -> None:
    b = breaker()
    state = b.trip("bad_credentials", at(10))
    assert b.is_open
    assert state == BreakerState(
        cause="bad_credentials",
        fix=fix_for("bad_credentials"),
        opened_at=at(10),
        next_probe=at(10 + LOGIN_RETRY),
    )
    assert b.permit(at(10)) is Permit.BLOCKED
    assert b.permit(at(10 + LOGIN_RETRY - 0.001)) is Permit.BLOCKED
    assert b.permit(at(10 + LOGIN_RETRY)) is Permit.PROBE


def test_only_one_probe_is_in_flight() -> None:
    b = breaker()
    b.trip("bad_credentials", at(0))
    assert b.permit(at(LOGIN_RETRY)) is Permit.PROBE
    # Every other source asking while the probe is out is held back, even much later.
    assert b.permit(at(LOGIN_RETRY)) is Permit.BLOCKED
    assert b.permit(at(LOGIN_RETRY + 5)) is Permit.BLOCKED
    assert b.permit(at(10 * LOGIN_RETRY)) is Permit.BLOCKED


def test_a_lock_waits_for_lock_retry_not_login_retry() -> None:
    b = breaker()
    state = b.trip(LOCKED, at(0))
    assert state.next_probe == at(LOCK_RETRY)
    assert b.permit(at(LOGIN_RETRY)) is Permit.BLOCKED
    assert b.permit(at(LOCK_RETRY - 1)) is Permit.BLOCKED
    assert b.permit(at(LOCK_RETRY)) is Permit.PROBE


def test_a_probe_answered_with_lock_switches_to_lock_retry() -> None:
    b = breaker()
    b.trip("bad_credentials", at(0))
    assert b.permit(at(LOGIN_RETRY)) is Permit.PROBE
    state = b.trip(LOCKED, at(LOGIN_RETRY + 1))
    assert state.cause == LOCKED
    assert state.fix == fix_for(LOCKED)
    assert state.opened_at == at(0), "opened_at is when it first opened, not the last trip"
    assert state.next_probe == at(LOGIN_RETRY + 1 + LOCK_RETRY)
    assert b.permit(at(LOGIN_RETRY + 1 + LOGIN_RETRY)) is Permit.BLOCKED


def test_a_probe_rejected_again_schedules_the_next_one_period_later() -> None:
    b = breaker()
    b.trip("bad_credentials", at(0))
    assert b.permit(at(130)) is Permit.PROBE
    state = b.trip("bad_credentials", at(131))
    assert state.opened_at == at(0)
    assert state.next_probe == at(131 + LOGIN_RETRY)
    assert b.permit(at(131 + LOGIN_RETRY - 1)) is Permit.BLOCKED
    assert b.permit(at(131 + LOGIN_RETRY)) is Permit.PROBE


def test_a_probe_without_a_verdict_is_retried_one_period_later_with_the_same_cause() -> None:
    b = breaker()
    b.trip("ip_blocked", at(0))
    assert b.permit(at(LOGIN_RETRY)) is Permit.PROBE
    b.probe_failed(at(LOGIN_RETRY + 3))  # a timeout: VICIdial said nothing about the login
    state = b.state
    assert state is not None
    assert state.cause == "ip_blocked"
    assert state.fix == fix_for("ip_blocked")
    assert state.opened_at == at(0)
    assert state.next_probe == at(2 * LOGIN_RETRY + 3)
    assert b.permit(at(2 * LOGIN_RETRY + 2)) is Permit.BLOCKED
    assert b.permit(at(2 * LOGIN_RETRY + 3)) is Permit.PROBE


def test_a_failed_probe_during_a_lock_waits_lock_retry_again() -> None:
    b = breaker()
    b.trip(LOCKED, at(0))
    assert b.permit(at(LOCK_RETRY)) is Permit.PROBE
    b.probe_failed(at(LOCK_RETRY))
    assert b.state is not None
    assert b.state.next_probe == at(2 * LOCK_RETRY)


def test_probe_failed_on_a_closed_breaker_changes_nothing() -> None:
    b = breaker()
    b.probe_failed(at(0))
    assert not b.is_open
    assert b.permit(at(0)) is Permit.GO


def test_the_first_success_closes_it_and_says_whether_it_was_open() -> None:
    b = breaker()
    assert b.succeeded() is False  # closed already: nothing to announce
    b.trip("bad_credentials", at(0))
    assert b.permit(at(LOGIN_RETRY)) is Permit.PROBE
    assert b.succeeded() is True
    assert not b.is_open
    assert b.state is None
    assert b.permit(at(LOGIN_RETRY)) is Permit.GO
    assert b.permit(at(LOGIN_RETRY)) is Permit.GO
    assert b.succeeded() is False


def test_reopening_after_a_close_starts_a_new_episode() -> None:
    b = breaker()
    b.trip("bad_credentials", at(0))
    b.succeeded()
    state = b.trip("bad_credentials", at(1000))
    assert state.opened_at == at(1000)
    assert b.permit(at(1000)) is Permit.BLOCKED, "no probe in flight is carried over"
    assert b.permit(at(1000 + LOGIN_RETRY)) is Permit.PROBE


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cause", ["bad_credentials", LOCKED, "ip_blocked", "two_factor"])
def test_each_known_cause_has_its_own_fix(cause: str) -> None:
    fix = fix_for(cause)
    assert fix
    assert fix_for(cause, "something else") == fix, "the known sentence wins over a fallback"


def test_the_fixes_differ_per_cause() -> None:
    causes = ["bad_credentials", LOCKED, "ip_blocked", "two_factor"]
    assert len({fix_for(cause) for cause in causes}) == len(causes)


def test_an_unknown_cause_uses_the_fallback_or_the_credentials_fix() -> None:
    assert fix_for("user_inactive", "make the API user Active") == "make the API user Active"
    assert fix_for("user_inactive") == fix_for("bad_credentials")
    b = breaker()
    assert b.trip("user_inactive", at(0), "make the API user Active").fix == (
        "make the API user Active"
    )


def test_version_is_the_only_source_that_needs_no_login() -> None:
    assert frozenset({"version"}) == NO_LOGIN_SOURCES


# --- durability -------------------------------------------------------------------------------


def test_a_closed_breaker_dumps_null_and_loading_null_closes() -> None:
    b = breaker()
    assert b.dump() == b"null"
    b.trip("bad_credentials", at(0))
    b.load(b"null")
    assert not b.is_open


@pytest.mark.parametrize("cause", ["bad_credentials", LOCKED])
def test_a_restart_does_not_probe_early(cause: str) -> None:
    before = breaker()
    state = before.trip(cause, at(0))
    saved = before.dump()

    after = breaker()
    after.load(saved)
    assert after.state == state
    assert after.permit(at(1)) is Permit.BLOCKED
    assert after.permit(state.next_probe - timedelta(microseconds=1)) is Permit.BLOCKED
    assert after.permit(state.next_probe) is Permit.PROBE


def test_a_new_leader_loading_an_open_breaker_closes_on_its_first_success() -> None:
    first = breaker()
    first.trip(LOCKED, at(0))
    second = breaker()
    second.load(first.dump())
    assert second.permit(at(LOCK_RETRY)) is Permit.PROBE
    assert second.succeeded() is True
    assert second.dump() == b"null"


@given(
    cause=st.sampled_from(["bad_credentials", LOCKED, "ip_blocked", "two_factor", "other"]),
    fix=st.text(max_size=40),
    opened=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
        ),
    ),
    delay=st.integers(0, 10_000),
)
def test_dump_and_load_round_trip(cause: str, fix: str, opened: datetime, delay: int) -> None:
    before = breaker()
    before.trip(cause, opened, fix)
    if delay:
        before.probe_failed(opened + timedelta(seconds=delay))
    after = breaker()
    after.load(before.dump())
    assert after.state == before.state


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        b"",
        b"{",
        b"\xff\xfe",
        b"[]",
        b"[1, 2]",
        b"42",
        b'"open"',
        b"{}",
        b'{"cause": "bad_credentials"}',
        b'{"cause": "x", "fix": "y", "opened_at": "yesterday", "next_probe": "soon"}',
        b'{"cause": "x", "fix": "y", "opened_at": 5, "next_probe": 6}',
        b'{"cause": "x", "fix": "y", "opened_at": null, "next_probe": null}',
    ],
)
def test_an_unreadable_state_leaves_the_breaker_closed(garbage: bytes | None) -> None:
    b = breaker()
    b.trip("bad_credentials", at(0))
    b.load(garbage)
    assert not b.is_open
    assert b.permit(at(0)) is Permit.GO


@given(st.binary(max_size=200))
def test_load_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    b = breaker()
    b.load(data)
    # Whatever it made of it, the breaker still answers.
    b.permit(at(0))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@given(
    st.fixed_dictionaries(
        {
            "cause": json_values,
            "fix": json_values,
            "opened_at": json_values | st.just(T0.isoformat()),
            "next_probe": json_values | st.just(T0.isoformat()),
        }
    )
)
def test_load_never_raises_on_arbitrary_json_with_the_right_keys(
    document: dict[str, object],
) -> None:
    b = breaker()
    b.load(json.dumps(document).encode())
    b.permit(at(0))


def test_a_state_with_naive_timestamps_is_treated_as_unreadable() -> None:
    b = breaker()
    b.load(
        b'{"cause": "bad_credentials", "fix": "f", '
        b'"opened_at": "2026-11-25T09:00:00", "next_probe": "2026-11-25T09:02:00"}'
    )
    b.permit(at(0))  # must not raise: an unreadable state leaves the breaker closed


# --- the probe count, over any interleaving ---------------------------------------------------

CAUSES = ("bad_credentials", "ip_blocked", "two_factor")
OUTCOMES = ("ok", "transport", "pending", *CAUSES)


@dataclass
class Model:
    """What the breaker must do, written from the issue's rule rather than from the code."""

    login_retry: float
    lock_retry: float
    cause: str | None = None
    verdict_at: datetime | None = None  # the last trip / failed probe
    probing: bool = False
    probes: list[datetime] = field(default_factory=list)

    def retry(self) -> timedelta:
        return timedelta(seconds=self.lock_retry if self.cause == LOCKED else self.login_retry)

    def expected_permit(self, now: datetime) -> Permit:
        if self.cause is None:
            return Permit.GO
        assert self.verdict_at is not None
        if self.probing or now < self.verdict_at + self.retry():
            return Permit.BLOCKED
        return Permit.PROBE

    def trip(self, cause: str, now: datetime) -> None:
        if self.cause is None:
            self.probes = []
        self.cause, self.verdict_at, self.probing = cause, now, False

    def close(self) -> None:
        self.cause, self.verdict_at, self.probing, self.probes = None, None, False, []


events = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(0, 400)),
        st.tuples(st.just("request"), st.sampled_from(OUTCOMES)),
        st.tuples(st.just("resolve"), st.sampled_from(("ok", "transport", *CAUSES))),
        # A request sent while the breaker was closed comes back rejected after it opened.
        st.tuples(st.just("straggler"), st.sampled_from(CAUSES)),
    ),
    max_size=80,
)


def run(b: LoginBreaker, model: Model, script: list[tuple[str, object]]) -> None:
    """Play ``script`` against both; check every permit and every probe gap as we go."""
    now = T0

    def outcome_of(result: str, *, probe: bool) -> None:
        if result == "ok":
            b.succeeded()
            model.close()
        elif result == "transport":
            if probe:
                b.probe_failed(now)
                assert model.cause is not None
                model.trip(model.cause, now)
        elif result != "pending":
            b.trip(result, now)
            model.trip(result, now)

    for kind, value in script:
        if kind == "advance":
            assert isinstance(value, int)
            now += timedelta(seconds=value)
        elif kind == "request":
            assert isinstance(value, str)
            permit = b.permit(now)
            assert permit is model.expected_permit(now)
            if permit is Permit.PROBE:
                if model.probes:
                    assert now - model.probes[-1] >= model.retry()
                model.probes.append(now)
                model.probing = True
                outcome_of(value, probe=True)
            elif permit is Permit.GO and value not in ("pending", "transport"):
                outcome_of(value, probe=False)
        elif kind == "resolve" and model.probing:
            assert isinstance(value, str)
            outcome_of(value, probe=True)
        elif kind == "straggler":
            assert isinstance(value, str)
            outcome_of(value, probe=False)
        assert b.is_open == (model.cause is not None)


@given(events, st.sampled_from([30.0, 120.0, 300.0]))
def test_at_most_one_probe_per_login_retry_while_open(
    script: list[tuple[str, object]], login_retry: float
) -> None:
    b = LoginBreaker(login_retry=login_retry, lock_retry=LOCK_RETRY)
    model = Model(login_retry=login_retry, lock_retry=LOCK_RETRY)
    run(b, model, script)
    # The brief's form of the rule: within any window of length login_retry, one probe at most
    # (each episode's probes; the model resets them when the breaker closes).
    gaps = [later - earlier for earlier, later in zip(model.probes, model.probes[1:], strict=False)]
    assert all(gap >= timedelta(seconds=login_retry) for gap in gaps)


lock_events = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(0, 1200)),
        st.tuples(st.just("request"), st.sampled_from((*OUTCOMES, LOCKED))),
        st.tuples(st.just("resolve"), st.sampled_from(("ok", "transport", LOCKED, *CAUSES))),
        st.tuples(st.just("straggler"), st.sampled_from((LOCKED, *CAUSES))),
    ),
    max_size=80,
)


@given(lock_events)
def test_after_a_lock_the_next_probe_waits_lock_retry(script: list[tuple[str, object]]) -> None:
    b = breaker()
    model = Model(login_retry=LOGIN_RETRY, lock_retry=LOCK_RETRY)
    run(b, model, script)


def test_an_unused_probe_permit_is_given_back_without_delaying_the_probe() -> None:
    b = breaker()
    b.trip("bad_credentials", at(0))
    assert b.permit(at(LOGIN_RETRY)) is Permit.PROBE
    b.cancel_probe()  # the request was deferred by the budget: nothing was sent
    assert b.permit(at(LOGIN_RETRY + 1)) is Permit.PROBE, "the next request probes at once"
    state = b.state
    assert state is not None
    assert state.next_probe == at(LOGIN_RETRY), "not pushed back by a probe that never went"
