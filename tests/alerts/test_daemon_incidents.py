"""Daemon-level incidents: the dead-man switch (``data_stale``) and the login breaker.

Pure functions of a snapshot and ``now``: each test builds the sources' health at a fake
moment and checks when one incident opens, what it says, and that it resolves on recovery.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from wallboard.alerts.daemon_incidents import data_stale_step, login_step, stale_since
from wallboard.alerts.types import Action, Incident, Kind, Level, Notification
from wallboard.snapshot import LoginBlock, Snapshot, SourceStatus

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
STALE_AFTER = 180.0  # alerts.stale_after = "3m"
SECRET = "wallboard-demo-pass"  # as if a careless error text had kept VICIdial's echo
INTERVALS = {
    "logged_in_agents": 30.0,
    "call_status_stats": 60.0,
    "campaigns_list": 60.0,
    "hopper_list": 120.0,
    "in_group_status": 30.0,
    "version": 600.0,
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def source(name: str, answered: float | None, *, ok: bool = True) -> SourceStatus:
    """``name`` last answered ``answered`` s after T0 (None: never); its last error quotes
    a secret, which must never reach an incident."""
    return SourceStatus(
        function=name,
        interval=INTERVALS[name],
        ok=ok and answered is not None,
        last_success=None if answered is None else at(answered),
        last_error=None if ok else f"ERROR: Invalid Username/Password: wallboard {SECRET}",
        error_kind=None if ok else "login",
    )


def floor(
    answered: float = 0.0, login: LoginBlock | None = None, **overrides: float | None
) -> Snapshot:
    """Every source answered at ``answered`` s, except the ones overridden (None: never)."""
    sources = []
    for name in INTERVALS:
        when = overrides.get(name, answered)
        sources.append(source(name, when, ok=name not in overrides))
    return Snapshot(
        taken_at=T0, local_date=date(2026, 11, 25), sources=tuple(sources), login_block=login
    )


def stale_step(
    incident: Incident | None, snapshot: Snapshot, seconds: float
) -> tuple[Incident | None, list[Notification]]:
    return data_stale_step(incident, snapshot, at(seconds), started=T0, stale_after=STALE_AFTER)


def no_secret(incident: Incident | None, notes: list[Notification]) -> None:
    texts = [n.text for n in notes] + [n.incident.summary for n in notes]
    if incident is not None:
        texts.append(incident.summary)
    for text in texts:
        assert SECRET not in text
        assert "Password" not in text


# --- data_stale ---------------------------------------------------------------------------


def test_a_fresh_floor_raises_nothing() -> None:
    assert stale_step(None, floor(answered=0), 60) == (None, [])


def test_data_stale_opens_once_a_floor_source_has_been_stale_for_stale_after() -> None:
    snapshot = floor(answered=600, call_status_stats=0)  # stats stopped; the rest is fresh
    stats = snapshot.source("call_status_stats")
    assert stats is not None
    stale_at = stats.stale_at()  # 3 intervals after its last answer
    assert stale_at is not None
    assert stale_since(snapshot, at(600), T0) == {"call_status_stats": stale_at}

    # Stale, but not for long enough yet: nothing.
    just_before = (stale_at - T0).total_seconds() + STALE_AFTER - 0.001
    assert stale_step(None, snapshot, just_before) == (None, [])

    due = stale_at + timedelta(seconds=STALE_AFTER)
    incident, notes = data_stale_step(None, snapshot, due, started=T0, stale_after=STALE_AFTER)
    assert incident is not None
    [note] = notes
    assert note.action is Action.OPENED
    assert note.incident == incident
    assert incident.kind is Kind.DATA_STALE
    assert (incident.campaign, incident.window) == ("", "")
    assert incident.severity is Level.CRITICAL
    assert incident.opened_at == due
    assert incident.key == f"data_stale::{stale_at.isoformat()}"
    assert "call counts" in incident.summary
    assert "09:03 UTC" in incident.summary  # stale since, as a time of day
    assert "frozen" in note.text  # says what it means for the drop alerts
    no_secret(incident, notes)


def test_data_stale_is_sent_once_while_the_outage_lasts() -> None:
    snapshot = floor(answered=3600, call_status_stats=0)
    incident, notes = stale_step(None, snapshot, 400)
    assert len(notes) == 1
    key = incident.key if incident else ""
    for seconds in range(410, 3600, 10):
        incident, notes = stale_step(incident, snapshot, seconds)
        assert notes == []
        assert incident is not None
        assert incident.key == key


def test_a_source_that_never_answered_is_stale_since_the_engine_started() -> None:
    snapshot = floor(answered=0, hopper_list=None)
    assert stale_step(None, snapshot, STALE_AFTER - 1) == (None, [])
    incident, notes = stale_step(None, snapshot, STALE_AFTER)
    assert incident is not None
    assert [n.action for n in notes] == [Action.OPENED]
    assert incident.key == f"data_stale::{T0.isoformat()}"
    assert "hoppers" in incident.summary


def test_the_version_source_is_not_a_floor_source() -> None:
    snapshot = floor(answered=7200, version=0)  # version silent for two hours
    assert stale_since(snapshot, at(7200), T0) == {}
    assert stale_step(None, snapshot, 7200) == (None, [])


def test_data_stale_resolves_when_nothing_is_stale_any_more() -> None:
    incident, _ = stale_step(None, floor(answered=600, call_status_stats=0), 600)
    assert incident is not None
    resolved, notes = stale_step(incident, floor(answered=1500), 1500)
    assert resolved is None
    [note] = notes
    assert note.action is Action.RESOLVED
    assert note.incident.key == incident.key
    assert note.incident.close_reason == "resolved"
    assert note.incident.closed_at == at(1500)
    assert "15 min" in note.text  # opened at 600 s, resolved at 1500 s
    no_secret(resolved, notes)


def test_data_stale_stays_open_while_any_floor_source_is_still_stale() -> None:
    incident, _ = stale_step(None, floor(answered=600, call_status_stats=0), 600)
    # Stats are back; the hoppers have now stopped too (stale, not yet for stale_after).
    still, notes = stale_step(incident, floor(answered=1000, hopper_list=600), 1000)
    assert notes == []
    assert still is not None
    assert incident is not None
    assert still.key == incident.key
    assert "hoppers" in still.summary
    assert "call counts" not in still.summary


def test_the_summary_changes_only_when_the_stale_set_changes() -> None:
    incident, _ = stale_step(None, floor(answered=3600, call_status_stats=0), 400)
    assert incident is not None
    first = incident
    for seconds in (500, 900, 1800):  # ages grow, the set does not: nothing changes
        incident, notes = stale_step(incident, floor(answered=3600, call_status_stats=0), seconds)
        assert notes == []
        assert incident == first
    # A second source stops: the summary names it (quietly: no second notification).
    incident, notes = stale_step(
        incident, floor(answered=3600, call_status_stats=0, in_group_status=1800), 2000
    )
    assert notes == []
    assert incident is not None
    assert incident.summary != first.summary
    assert "inbound queues" in incident.summary
    assert incident.updated_at == at(2000)
    assert incident.key == first.key


def test_the_summary_is_stable_right_after_opening_with_a_second_source_stale() -> None:
    # Stats stale for long enough; hoppers stale too, but only just.
    snapshot = floor(answered=3600, call_status_stats=0, hopper_list=120)
    incident, _ = stale_step(None, snapshot, 500)
    assert incident is not None
    assert stale_since(snapshot, at(500), T0).keys() == {"call_status_stats", "hopper_list"}
    again, _ = stale_step(incident, snapshot, 501)
    assert again == incident


def test_error_texts_of_failing_sources_never_reach_the_incident() -> None:
    snapshot = floor(answered=0, logged_in_agents=0, call_status_stats=0)
    incident, notes = stale_step(None, snapshot, 1200)
    assert incident is not None
    no_secret(incident, notes)
    _, notes = stale_step(incident, floor(answered=1300), 1300)
    no_secret(None, notes)


# --- login ------------------------------------------------------------------------------------

BLOCK = LoginBlock(
    cause="bad_credentials",
    fix="check [vicidial] user and pass (or pass_file)",
    since=at(100),
    next_probe=at(100 + 120),
)


def test_no_login_incident_while_the_login_works() -> None:
    assert login_step(None, floor(), at(10)) == (None, [])


def test_the_login_incident_opens_on_the_breaker_and_names_the_cause_and_fix() -> None:
    incident, notes = login_step(None, floor(login=BLOCK), at(101))
    assert incident is not None
    [note] = notes
    assert note.action is Action.OPENED
    assert incident.kind is Kind.LOGIN
    assert (incident.campaign, incident.window) == ("", "")
    assert incident.key == f"login::{at(100).isoformat()}"
    assert "bad_credentials" in incident.summary
    assert BLOCK.fix in incident.summary
    assert "09:03 UTC" in note.text  # the next probe
    no_secret(incident, notes)

    # Still blocked: the same incident, nothing new.
    same, notes = login_step(incident, floor(login=BLOCK), at(400))
    assert (same, notes) == (incident, [])


def test_a_new_cause_updates_the_login_incident_in_place() -> None:
    incident, _ = login_step(None, floor(login=BLOCK), at(101))
    locked = LoginBlock(
        cause="locked", fix="wait for the lockout to end", since=at(100), next_probe=at(1000)
    )
    changed, notes = login_step(incident, floor(login=locked), at(200))
    assert changed is not None
    assert incident is not None
    assert changed.key == incident.key
    assert "locked" in changed.summary
    assert len(notes) == 1


def test_the_login_incident_resolves_when_the_breaker_closes() -> None:
    incident, _ = login_step(None, floor(login=BLOCK), at(101))
    assert incident is not None
    resolved, notes = login_step(incident, floor(), at(700))
    assert resolved is None
    [note] = notes
    assert note.action is Action.RESOLVED
    assert note.incident.key == incident.key
    assert note.incident.closed_at == at(700)
    assert note.incident.close_reason == "resolved"
    no_secret(resolved, notes)
