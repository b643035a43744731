"""The alert types as JSON: every value survives the round trip; bad documents name the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.alerts import codec
from wallboard.alerts.types import (
    Action,
    AlertView,
    AutoPauseOutcome,
    Figures,
    Incident,
    Kind,
    Level,
    Notification,
    SlackThread,
)

# Any Python string, lone surrogates included (a mangled answer may carry one).
texts = st.text(st.characters(exclude_categories=()), max_size=40)
# Whole seconds: Python 3.11 drops a sub-second UTC offset when parsing ISO 8601, and no zone
# has ever had one (local mean times of old dates have whole seconds, and are covered).
offsets = st.integers(min_value=-86_399, max_value=86_399).map(lambda s: timedelta(seconds=s))
zones = st.none() | st.just(UTC) | st.builds(timezone, offsets) | st.timezones()


def _fold_only_where_it_counts(moment: datetime) -> datetime:
    """``fold`` picks one of two wall times only in an IANA zone's repeated hour; elsewhere it
    changes nothing, and ISO 8601 (rightly) does not carry it."""
    other = moment.replace(fold=1 - moment.fold)
    if moment.tzinfo is not None and other.utcoffset() != moment.utcoffset():
        return moment
    return moment.replace(fold=0)


moments = st.datetimes(timezones=zones, allow_imaginary=False).map(_fold_only_where_it_counts)
floats = st.floats(allow_nan=False)  # NaN != NaN; infinities are kept

figures = st.builds(
    Figures,
    ratio=st.none() | floats,
    answered=st.integers(),
    dropped=st.integers(),
    drops_remaining=st.integers(),
    threshold=floats,
    limit=floats,
)
outcomes = st.builds(
    AutoPauseOutcome,
    campaign=texts,
    at=moments,
    dry_run=st.booleans(),
    outcome=texts,
    detail=texts,
)
incidents = st.builds(
    Incident,
    key=texts,
    kind=st.sampled_from(Kind),
    campaign=texts,
    window=texts,
    severity=st.sampled_from(Level),
    opened_at=moments,
    updated_at=moments,
    summary=texts,
    figures=st.none() | figures,
    closed_at=st.none() | moments,
    close_reason=st.none() | texts,
    auto_pause=st.none() | outcomes,
)
notifications = st.builds(
    Notification,
    incident=incidents,
    action=st.sampled_from(Action),
    text=texts,
    created_at=moments,
    seq=st.integers(min_value=0),
)
threads = st.builds(SlackThread, incident_key=texts, channel_id=texts, ts=texts)
views = st.builds(
    AlertView,
    incidents=st.lists(incidents, max_size=3).map(tuple),
    window_states=st.lists(st.tuples(texts, texts, st.sampled_from(Level)), max_size=4).map(tuple),
)


def _same(a: object, b: object) -> None:
    """Equal, and equal in every datetime's zone and fold too (``==`` on aware datetimes
    compares instants only)."""
    assert a == b
    assert repr(a) == repr(b)


@given(incidents)
def test_incidents_round_trip(incident: Incident) -> None:
    _same(
        codec.incident_from_dict(codec.loads(codec.dumps(codec.incident_to_dict(incident)))),
        incident,
    )


@given(notifications)
def test_notifications_round_trip(notification: Notification) -> None:
    document = codec.loads(codec.dumps(codec.notification_to_dict(notification)))
    _same(codec.notification_from_dict(document), notification)


@given(threads)
def test_threads_round_trip(thread: SlackThread) -> None:
    _same(codec.thread_from_dict(codec.loads(codec.dumps(codec.thread_to_dict(thread)))), thread)


@given(outcomes)
def test_auto_pause_outcomes_round_trip(outcome: AutoPauseOutcome) -> None:
    document = codec.loads(codec.dumps(codec.outcome_to_dict(outcome)))
    _same(codec.outcome_from_dict(document), outcome)


@given(views)
def test_alert_views_round_trip(view: AlertView) -> None:
    _same(codec.view_from_dict(codec.loads(codec.dumps(codec.view_to_dict(view)))), view)


def test_a_zoned_time_in_the_autumn_fold_keeps_its_zone_and_fold() -> None:
    zone = ZoneInfo("America/New_York")
    second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=zone)  # the second 01:30 (EST)
    text = codec.outcome_to_dict(AutoPauseOutcome("S", second, True, "x", ""))["at"]
    assert text == "2026-11-01T01:30:00-05:00[America/New_York]"
    back = codec.outcome_from_dict(
        {"campaign": "S", "at": text, "dry_run": True, "outcome": "x", "detail": ""}
    )
    assert back.at.tzinfo is zone
    assert back.at.fold == 1
    assert back.at == second


def test_unknown_keys_are_ignored_for_older_readers() -> None:
    thread = SlackThread("k", "C1", "1.2")
    document = {**codec.thread_to_dict(thread), "added_later": [1, 2]}
    assert codec.thread_from_dict(document) == thread


def _incident_document(**changes: Any) -> dict[str, Any]:
    at = datetime(2026, 11, 25, 15, tzinfo=UTC)
    base = Incident(
        "k",
        Kind.DROP,
        "S",
        "today",
        Level.WARNING,
        at,
        at,
        "s",
        Figures(0.03, 1, 0, 0, 0.025, 0.03),
    )
    document = codec.incident_to_dict(base)
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key": None}, "key: expected a string"),
        ({"kind": "flood"}, "kind: unknown value 'flood'"),
        ({"opened_at": "yesterday"}, "opened_at: 'yesterday' is not an ISO 8601"),
        ({"opened_at": "2026-11-25T10:00:00[America/New_York]"}, "opened_at"),  # naive + zone
        ({"opened_at": "2026-11-25T10:00:00-05:00[Mars/Olympus]"}, "opened_at"),
        ({"figures": {"ratio": 0.1}}, "figures: missing 'answered'"),
        (
            {"figures": {**codec.figures_to_dict(Figures(None, 1, 0, 0, 0, 0)), "answered": True}},
            "figures: answered: expected an integer",
        ),
        ({"figures": "high"}, "figures: expected an object"),
        ({"auto_pause": {"campaign": "S"}}, "auto_pause: missing 'at'"),
    ],
)
def test_bad_documents_are_refused_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(codec.CodecError, match=message.replace("[", r"\[").replace("(", r"\(")):
        codec.incident_from_dict(_incident_document(**changes))


def test_missing_keys_and_non_objects_are_refused() -> None:
    document = _incident_document()
    del document["summary"]
    with pytest.raises(codec.CodecError, match="missing 'summary'"):
        codec.incident_from_dict(document)
    with pytest.raises(codec.CodecError, match="expected a JSON object"):
        codec.loads(b"[1, 2]")
    with pytest.raises(codec.CodecError, match="not JSON"):
        codec.loads(b"{broken")
    with pytest.raises(codec.CodecError, match="window_states"):
        codec.view_from_dict({"incidents": [], "window_states": [["S", "today", "purple"]]})


def test_documents_are_ascii_json_with_infinities_kept() -> None:
    figures = Figures(float("inf"), 1, 0, 0, 0.025, 0.03)
    data = codec.dumps({"figures": codec.figures_to_dict(figures), "name": "Zoë \ud800"})
    assert data.isascii()
    assert json.loads(data)["name"] == "Zoë \ud800"
    assert codec.figures_from_dict(codec.loads(data)["figures"]) == figures
