"""Time-in-state: exact when seen happening, a lower bound at start-up, kept across restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.poller.agent_states import AgentState, StateSinceTracker

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
GAP = timedelta(seconds=90)  # what the poller passes: 3 x agents_interval (30 s)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- one run ----------------------------------------------------------------------------------


def test_agents_seen_at_start_up_get_a_lower_bound_not_a_fact() -> None:
    tracker = StateSinceTracker()
    states = tracker.update({"1001": "INCALL", "1002": "READY"}, at(0))
    assert states == {
        "1001": AgentState("INCALL", at(0), exact=False),
        "1002": AgentState("READY", at(0), exact=False),
    }


def test_a_state_change_seen_between_two_polls_is_exact() -> None:
    tracker = StateSinceTracker()
    tracker.update({"1001": "INCALL"}, at(0))
    states = tracker.update({"1001": "READY"}, at(30))
    assert states["1001"] == AgentState("READY", at(30), exact=True)


def test_an_agent_logging_in_after_start_up_is_exact() -> None:
    tracker = StateSinceTracker()
    tracker.update({"1001": "INCALL"}, at(0))
    states = tracker.update({"1001": "INCALL", "1003": "PAUSED"}, at(30))
    assert states["1003"] == AgentState("PAUSED", at(30), exact=True)
    assert states["1001"] == AgentState("INCALL", at(0), exact=False)


def test_an_empty_first_poll_still_counts_as_the_start() -> None:
    # Nobody logged in at start-up: whoever appears next was seen logging in.
    tracker = StateSinceTracker()
    assert tracker.update({}, at(0)) == {}
    assert tracker.update({"1001": "READY"}, at(30))["1001"].exact is True


def test_the_same_state_keeps_its_since_over_many_polls() -> None:
    tracker = StateSinceTracker()
    tracker.update({"1001": "INCALL"}, at(0))
    tracker.update({"1001": "READY"}, at(30))
    for poll in range(2, 20):
        states = tracker.update({"1001": "READY"}, at(30 * poll))
        assert states["1001"] == AgentState("READY", at(30), exact=True)


def test_an_agent_who_logs_out_is_forgotten_and_starts_over_on_return() -> None:
    tracker = StateSinceTracker()
    tracker.update({"1001": "READY"}, at(0))
    tracker.update({}, at(30))
    states = tracker.update({"1001": "READY"}, at(60))
    assert states["1001"] == AgentState("READY", at(60), exact=True)


def test_update_returns_a_copy_the_caller_may_keep() -> None:
    tracker = StateSinceTracker()
    first = tracker.update({"1001": "READY"}, at(0))
    first["1001"] = AgentState("X", at(-100), exact=True)
    assert tracker.update({"1001": "READY"}, at(30))["1001"] == AgentState(
        "READY", at(0), exact=False
    )


@given(
    st.lists(
        st.dictionaries(st.sampled_from(["1001", "1002", "1003"]), st.sampled_from("ABC")),
        min_size=1,
        max_size=15,
    )
)
def test_since_is_the_first_poll_of_the_current_run_of_each_state(
    polls: list[dict[str, str]],
) -> None:
    tracker = StateSinceTracker()
    for index, states in enumerate(polls):
        result = tracker.update(states, at(30 * index))
        assert set(result) == set(states)
        for user, state in states.items():
            start = index
            while start > 0 and polls[start - 1].get(user) == state:
                start -= 1
            assert result[user].state == state
            assert result[user].since == at(30 * start)
            # Only a run that began on the very first poll is a lower bound.
            assert result[user].exact is (start > 0)


# --- needs_save / mark_saved ------------------------------------------------------------------

REFRESH = timedelta(seconds=30)


def test_needs_save_says_when_the_map_needs_writing() -> None:
    tracker = StateSinceTracker()
    assert tracker.needs_save(at(0), REFRESH), "never saved"
    tracker.update({"1001": "READY"}, at(0))
    assert tracker.needs_save(at(0), REFRESH)
    tracker.mark_saved(at(0))
    assert not tracker.needs_save(at(0), REFRESH)
    tracker.update({"1001": "READY"}, at(10))  # same state, saved recently: nothing to write
    assert not tracker.needs_save(at(10), REFRESH)
    assert tracker.needs_save(at(30), REFRESH), "refreshed at least every interval"
    tracker.mark_saved(at(30))
    tracker.update({"1001": "INCALL"}, at(40))
    assert tracker.needs_save(at(40), REFRESH)
    tracker.mark_saved(at(40))
    tracker.update({}, at(50))  # logged out
    assert tracker.needs_save(at(50), REFRESH)


def test_a_change_stays_unsaved_until_saved() -> None:
    tracker = StateSinceTracker()
    tracker.mark_saved(at(0))
    tracker.update({"1001": "READY"}, at(1))
    tracker.update({"1001": "READY"}, at(2))
    assert tracker.needs_save(at(2), REFRESH), "a failed write must be retried"


# --- across restarts --------------------------------------------------------------------------


def restarted(data: bytes | None, now: datetime, max_gap: timedelta = GAP) -> StateSinceTracker:
    tracker = StateSinceTracker()
    tracker.restore(data, now, max_gap)
    return tracker


def test_an_agent_in_the_same_state_keeps_since_across_a_restart() -> None:
    before = StateSinceTracker()
    before.update({"1001": "INCALL"}, at(0))
    before.update({"1001": "READY", "1002": "PAUSED"}, at(30))
    saved = before.dump(at(30))

    after = restarted(saved, at(60))
    states = after.update({"1001": "READY", "1002": "PAUSED"}, at(60))
    assert states == {
        "1001": AgentState("READY", at(30), exact=True),
        "1002": AgentState("PAUSED", at(30), exact=True),
    }
    assert not after.needs_save(at(45), REFRESH), "a restored map that still holds is saved"


def test_a_restored_lower_bound_stays_a_lower_bound() -> None:
    before = StateSinceTracker()
    before.update({"1001": "INCALL"}, at(0))
    after = restarted(before.dump(at(0)), at(45))
    assert after.update({"1001": "INCALL"}, at(45))["1001"] == AgentState(
        "INCALL", at(0), exact=False
    )


def test_after_a_restart_a_changed_state_is_exact_and_a_newcomer_is_a_lower_bound() -> None:
    before = StateSinceTracker()
    before.update({"1001": "INCALL"}, at(0))
    after = restarted(before.dump(at(0)), at(60))
    states = after.update({"1001": "READY", "1009": "PAUSED"}, at(60))
    assert states["1001"] == AgentState("READY", at(60), exact=True)
    # 1009 was not in the map: already in this state when we started watching.
    assert states["1009"] == AgentState("PAUSED", at(60), exact=False)
    assert after.needs_save(at(60), REFRESH)


def test_a_map_saved_exactly_max_gap_ago_is_still_trusted() -> None:
    before = StateSinceTracker()
    before.update({"1001": "READY"}, at(0))
    after = restarted(before.dump(at(0)), at(0) + GAP)
    assert after.update({"1001": "READY"}, at(0) + GAP)["1001"].since == at(0)


def test_a_map_older_than_max_gap_is_ignored() -> None:
    before = StateSinceTracker()
    before.update({"1001": "READY"}, at(0))
    late = at(0) + GAP + timedelta(seconds=1)
    after = restarted(before.dump(at(0)), late)
    assert after.update({"1001": "READY"}, late)["1001"] == AgentState("READY", late, exact=False)


def test_a_map_from_the_future_is_ignored() -> None:
    # Another instance with a clock ahead of ours: its times would read as negative ages.
    before = StateSinceTracker()
    before.update({"1001": "READY"}, at(100))
    after = restarted(before.dump(at(100)), at(40))
    assert after.update({"1001": "READY"}, at(40))["1001"] == AgentState(
        "READY", at(40), exact=False
    )


def test_a_quiet_floor_keeps_its_times_across_a_restart() -> None:
    # The poller's protocol: update on every agents poll, write when needs_save says so.
    before = StateSinceTracker()
    saved = b""
    for poll in range(6):  # three minutes of agents who stay on their calls
        now = at(30 * poll)
        before.update({"1001": "INCALL", "1002": "INCALL"}, now)
        if before.needs_save(now, REFRESH):
            saved = before.dump(now)
            before.mark_saved(now)
    # The daemon restarts right after the last poll (one agents interval later).
    after = restarted(saved, at(180))
    states = after.update({"1001": "INCALL", "1002": "INCALL"}, at(180))
    assert states["1001"].since == at(0), "the agent has been on this call for three minutes"


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=6),
        # "START" is the state everyone had at start-up: those agents keep a lower bound.
        st.tuples(st.sampled_from(["START", "READY", "INCALL", "PAUSED"]), st.integers(0, 3600)),
        max_size=10,
    ),
    st.integers(0, 90),
)
def test_dump_and_restore_round_trip(agents: dict[str, tuple[str, int]], later: int) -> None:
    before = StateSinceTracker()
    current = dict.fromkeys(agents, "START")
    before.update(current, at(-10_000))
    for user, (state, since) in sorted(agents.items(), key=lambda item: item[1][1]):
        current[user] = state
        before.update(current, at(since))
    expected = before.update(current, at(3600))
    saved = before.dump(at(3600))

    after = restarted(saved, at(3600 + later))
    assert after.update(current, at(3600 + later)) == expected


def test_dump_is_compact_json_with_the_save_time() -> None:
    tracker = StateSinceTracker()
    tracker.update({"1001": "READY"}, at(0))
    document = json.loads(tracker.dump(at(5)))
    assert document == {
        "saved_at": at(5).isoformat(),
        "agents": {"1001": ["READY", at(0).isoformat(), False]},
    }


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        b"",
        b"{",
        b"\xff",
        b"[]",
        b"42",
        b"{}",
        b'{"saved_at": "not a time", "agents": {}}',
        b'{"saved_at": 5, "agents": {}}',
        b'{"agents": {}}',
        b'{"saved_at": "2026-11-25T09:00:00+00:00"}',
        b'{"saved_at": "2026-11-25T09:00:00+00:00", "agents": {"1001": "READY"}}',
        b'{"saved_at": "2026-11-25T09:00:00+00:00", "agents": {"1001": ["READY", "x", 1]}}',
        b'{"saved_at": "2026-11-25T09:00:00+00:00", "agents": {"1001": ["READY"]}}',
        b'{"saved_at": "2026-11-25T09:00:00+00:00", "agents": {"1001": 7}}',
    ],
)
def test_an_unreadable_map_is_ignored(garbage: bytes | None) -> None:
    after = restarted(garbage, at(30))
    assert after.update({"1001": "READY"}, at(30))["1001"] == AgentState(
        "READY", at(30), exact=False
    )


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(
            b'{"saved_at": "2026-11-25T09:00:00+00:00", "agents": []}', id="agents-a-list"
        ),
        pytest.param(
            b'{"saved_at": "2026-11-25T09:00:00+00:00", "agents": null}', id="agents-null"
        ),
        pytest.param(b'{"saved_at": "2026-11-25T09:00:00", "agents": {}}', id="naive-saved_at"),
    ],
)
def test_a_well_formed_but_wrong_shaped_map_is_ignored(garbage: bytes) -> None:
    after = restarted(garbage, at(30))
    assert after.update({"1001": "READY"}, at(30))["1001"].exact is False


@given(st.binary(max_size=300))
def test_restore_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    restarted(data, at(30)).update({"1001": "READY"}, at(30))
