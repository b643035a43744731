"""The soak's verdict can fail: each check, given a recording with one broken promise, names
it, and says nothing of it when the same recording keeps the promise."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tests.support.chaos_plan import FLOOR_FUNCTIONS, SHORT, make_plan
from tests.support.chaos_rig import Injection
from tests.support.chaos_verdict import LoginDone, Observed, WindowDone, judge
from tests.support.chaos_watch import AlertSeen, Hit, RequestCount, Sample
from tests.support.slack_server import Message
from wallboard.alerts.types import Incident, Kind, Level

T0 = 1_000_000.0
PLAN = make_plan(SHORT, 1)


def fresh(at: float, daemon: str = "A", **changes: Any) -> Sample:
    """A healthy sample: every source answered a second ago."""
    sample = Sample(
        daemon=daemon,
        at=at,
        snapshot_stale=False,
        readyz=200,
        tv=False,
        leader="host:1:abcd",
        taken_at=at - 1,
        ok=dict.fromkeys(FLOOR_FUNCTIONS, True),
        last_success=dict.fromkeys(FLOOR_FUNCTIONS, at - 1),
        agents=10,
    )
    return replace(sample, **changes)


def stale(at: float, sources: tuple[str, ...], **changes: Any) -> Sample:
    return fresh(
        at,
        snapshot_stale=True,
        stale_sources=sources,
        readyz=503,
        tv=True,
        tv_sources=sources,
        **changes,
    )


def recording(samples: list[Sample], **changes: Any) -> Observed:
    observed = Observed(plan=PLAN, t0=T0, t_end=T0 + 34, finished=T0 + 40, samples=samples)
    for name, value in changes.items():
        setattr(observed, name, value)
    return observed


def findings(observed: Observed, needle: str) -> list[str]:
    return [f for f in judge(observed).failures if needle in f]


def agents_window(tv_at_25: bool = True) -> Observed:
    """logged_in_agents failing from +2 to +27 s: stale from +17 s (15 s threshold)."""
    samples = []
    for second in range(0, 34):
        at = T0 + second
        if 17 <= second <= 27:
            sample = stale(at, ("logged_in_agents",))
            if second == 25 and not tv_at_25:
                sample = replace(sample, tv=False, tv_sources=())
            samples.append(sample)
        else:
            samples.append(fresh(at))
    windows = [WindowDone(T0 + 2, T0 + 27, "logged_in_agents", "reset")]
    return recording(samples, windows=windows)


def test_a_stale_period_must_be_stale_on_every_surface() -> None:
    assert not findings(agents_window(), "showed fresh")
    assert findings(agents_window(tv_at_25=False), "TV heartbeat not stale")


def test_a_stale_screen_needs_a_cause() -> None:
    quiet = recording([fresh(T0 + s) for s in range(30)])
    assert not findings(quiet, "no fault to explain it")
    flagged = [*quiet.samples[:10], stale(T0 + 10, ("hopper_list",)), *quiet.samples[11:]]
    assert findings(recording(flagged), "no fault to explain it")


def test_the_last_good_figures_must_stay_on_screen() -> None:
    quiet = [fresh(T0 + s) for s in range(10)]
    assert not findings(recording(quiet), "figures blanked")
    blanked = [*quiet[:5], replace(quiet[5], blank=("SALES1",)), *quiet[6:]]
    assert findings(recording(blanked), "showed no call counts")
    agentless = [*quiet[:5], replace(quiet[5], agents=0), *quiet[6:]]
    assert findings(recording(agentless), "showed no agents")


def _recovered_after(seconds: float) -> Observed:
    """One http_500 on campaigns_list at +5 s; the next good answer ``seconds`` later."""
    samples = []
    for second in range(0, 30):
        sample = fresh(T0 + second)
        success = T0 + 5 + seconds if second >= 5 + seconds else T0 + 4
        samples.append(
            replace(sample, last_success={**sample.last_success, "campaigns_list": success})
        )
    return recording(samples, injections=[Injection(T0 + 5, "campaigns_list", "http_500")])


def test_a_cleared_fault_is_answered_well_within_a_poll() -> None:
    assert not findings(_recovered_after(4), "recovered after")
    assert findings(_recovered_after(15), "http_500 on campaigns_list: recovered after 15.0s")


def test_nothing_is_sent_while_the_login_is_refused() -> None:
    def counts(extra: int) -> list[RequestCount]:
        return [
            RequestCount(T0 + 29 + s, 100 + (extra if s > 3 else 0), {"version": 2})
            for s in range(10)
        ]

    login = [LoginDone(T0 + 29, "login", recover=False)]
    refused = [Injection(T0 + 29.2, "hopper_list", "login")]
    quiet = recording([], logins=login, injections=refused, requests=counts(0))
    assert not findings(quiet, "authenticated requests reached VICIdial")
    noisy = recording([], logins=login, injections=refused, requests=counts(3))
    assert findings(noisy, "3 authenticated requests reached VICIdial")


def _incident(key: str, *, closed: bool) -> Incident:
    at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    return Incident(
        key=key,
        kind=Kind.DROP,
        campaign="SALES1",
        window="today",
        severity=Level.CRITICAL,
        opened_at=at,
        updated_at=at,
        summary="SALES1 today drop rate 2.95 %",
        closed_at=at if closed else None,
        close_reason="resolved" if closed else None,
    )


def _slack(replies: list[int], *, parent_closed: bool = True) -> Observed:
    """One incident: opened (seq 1, the parent), then escalated and resolved (2 and 3)."""
    from wallboard.alerts.slack_blocks import parent_message

    key = "drop:SALES1:today:2026-12-02"
    incident = _incident(key, closed=True)
    shown = _incident(key, closed=parent_closed)
    parent = Message(
        channel="C0FLOOR001",
        ts="1.000001",
        text="",
        blocks=parent_message(shown)[1],
        metadata={"event_type": "wallboard_incident", "event_payload": {"key": key}},
        thread_ts=None,
    )
    messages = [parent] + [
        Message(
            channel="C0FLOOR001",
            ts=f"1.00001{n}",
            text="",
            blocks=None,
            metadata={
                "event_type": "wallboard_notification",
                "event_payload": {"key": key, "seq": seq},
            },
            thread_ts=parent.ts,
        )
        for n, seq in enumerate(replies)
    ]
    return recording(
        [],
        incidents=[incident],
        seq_total=3,
        openings_logged=1,
        slack_messages=messages,
    )


def test_every_notification_reaches_slack_exactly_once() -> None:
    assert not findings(_slack([2, 3]), "Slack")
    assert findings(_slack([2, 3, 3]), "notification 3 of drop:SALES1:today:2026-12-02 posted 2")
    assert findings(_slack([2]), "1 of 3 notifications never became a message")
    assert findings(_slack([2, 3], parent_closed=False), "not updated in place")


def test_only_the_listed_campaign_is_paused() -> None:
    listed = recording([], sim_pauses=[{"campaign_id": "SALES1", "active": "N"}])
    assert not findings(listed, "not eligible")
    other = recording([], sim_pauses=[{"campaign_id": "SALES2", "active": "N"}])
    assert findings(other, "update_campaign sent for something not eligible")


def test_an_eligible_opening_must_be_paused_once() -> None:
    opened = "2026-12-02T10:00:00Z"
    since = datetime.fromisoformat(opened.replace("Z", "+00:00")).timestamp()
    alert = AlertSeen("drop:SALES1:today:2026-12-02", opened, "drop", "SALES1", "today",
                      "critical", None)  # fmt: skip
    samples = [
        fresh(since + s, alerts=(alert,), today={"SALES1": (0.0295, 1000)}) for s in range(20)
    ]
    unpaused = Observed(plan=PLAN, t0=since, t_end=since + 20, finished=since + 20,
                        samples=samples)  # fmt: skip
    assert findings(unpaused, "but was paused 0 times")


def test_secrets_crashes_and_tracebacks_fail_the_soak() -> None:
    hit = Hit("vicidial_password", "log daemon-A", "... pass=<vicidial_password> ...")
    assert findings(recording([], secret_hits=[hit]), "secret vicidial_password found")
    assert findings(recording([], crashes=["daemon A exited by itself with 1"]), "exited")
    log = "ok\nTraceback (most recent call last):\n  File x\nValueError: boom\n"
    assert findings(recording([], logs={"daemon A": log}), "traceback in daemon A")
    assert findings(recording([], exit_codes={"A": [1]}), "exited with 1 after SIGTERM")
