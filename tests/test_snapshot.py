"""Pure tests of the snapshot model, composition and the JSON codec (time is a parameter)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.compose import (
    AgentState,
    DatedStats,
    SourceResults,
    compose_snapshot,
    tracked_campaign_ids,
)
from wallboard.poller.dialer_clock import DialerClock, local_date_at
from wallboard.snapshot import DropWindow, LoginBlock, SourceStatus
from wallboard.snapshot_json import SnapshotJsonCodec, api_document
from wallboard.vicidial.models import (
    CallStatusStats,
    CampaignInfo,
    LoggedInAgent,
    StatusCounts,
)
from wallboard.windows.trend import TrendPoint

NOW = datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def agent(user: str, campaign: str, status: str, lead: int = 0, sub: str = "") -> LoggedInAgent:
    return LoggedInAgent(
        user=user,
        campaign_id=campaign,
        session_id="8600051",
        status=status,
        lead_id=lead,
        callerid="",
        calls_today=3,
        full_name=f"Agent {user}",
        user_group="AGENTS",
        user_level=1,
        pause_code="LOGIN",
        sub_status=sub,
    )


def stats(code: str, calls: int, answered: int, drops: int, xdrops: int = 0) -> CallStatusStats:
    return CallStatusStats(
        code=code,
        calls=calls,
        human_answered=answered,
        hourly=tuple([0] * 23 + [calls]),
        statuses=StatusCounts({"SALE": answered - drops - xdrops, "DROP": drops, "XDROP": xdrops}),
    )


def campaign_info(campaign_id: str, active: bool = True) -> CampaignInfo:
    return CampaignInfo(
        campaign_id=campaign_id,
        campaign_name=f"Campaign {campaign_id}",
        active=active,
        user_group="---ALL---",
        dial_method="RATIO",
        dial_level=2.5,
        lead_order="DOWN",
        dial_statuses=("NEW",),
        dial_timeout=26,
        dial_prefix="9",
        manual_dial_prefix="",
        three_way_dial_prefix="",
    )


RESULTS = SourceResults(
    agents=(
        agent("1001", "SALES1", "INCALL", lead=5),
        agent("1002", "SALES1", "READY"),
        agent("1003", "SALES1", "PAUSED"),
        agent("1004", "SALES1", "PAUSED", lead=7),
        agent("1005", "SALES1", "INCALL", lead=9, sub="DEAD"),
        agent("2001", "SALES2", "READY"),
    ),
    call_stats=DatedStats(
        day=TODAY, lines=(stats("SALES1", 900, 400, 8, 1), stats("SALES2", 10, 4, 0))
    ),
    campaigns=(campaign_info("SALES1"), campaign_info("SALES2", active=False)),
    hoppers={"SALES1": 120},
)


def compose(results: SourceResults = RESULTS, **overrides: object):  # type: ignore[no-untyped-def]
    kwargs: dict[str, object] = {
        "now": NOW,
        "local_date": TODAY,
        "campaign_ids": ["SALES1", "SALES2"],
        "results": results,
        "statuses": [
            SourceStatus("logged_in_agents", 30.0, ok=True, last_success=NOW),
            SourceStatus("call_status_stats", 60.0, ok=True, last_success=NOW),
        ],
        "history": {"SALES1": DropWindow(calls=1000, answered=500, dropped=10, days=29)},
        "agent_states": {},
    }
    kwargs.update(overrides)
    return compose_snapshot(**kwargs)  # type: ignore[arg-type]


def test_campaign_figures_come_from_their_sources() -> None:
    snapshot = compose()
    sales1 = snapshot.campaign("SALES1")
    assert sales1 is not None
    assert (sales1.today.calls, sales1.today.answered, sales1.today.dropped) == (900, 400, 9)
    assert sales1.today.drop_ratio == pytest.approx(9 / 400)
    assert sales1.hopper_leads == 120
    assert sales1.active is True
    assert sales1.dial_level == 2.5
    assert sales1.agents.as_dict() == {
        "waiting": 1,
        "incall": 1,
        "paused": 1,
        "dispo": 1,
        "dead": 1,
        "dial": 0,
    }
    # 30 days = 29 stored past days + today
    assert (sales1.last_30d.answered, sales1.last_30d.dropped, sales1.last_30d.days) == (
        900,
        19,
        30,
    )
    sales2 = snapshot.campaign("SALES2")
    assert sales2 is not None
    assert sales2.active is False
    assert sales2.hopper_leads is None


def test_yesterdays_stats_are_not_shown_as_today() -> None:
    results = SourceResults(
        call_stats=DatedStats(day=TODAY - timedelta(days=1), lines=(stats("SALES1", 5, 5, 1),))
    )
    sales1 = compose(results).campaign("SALES1")
    assert sales1 is not None
    assert sales1.today.calls == 0


@pytest.mark.parametrize(
    ("answered", "dropped", "limit", "remaining"),
    [(400, 9, 0.03, 3), (100, 3, 0.03, 0), (100, 5, 0.03, 0), (0, 0, 0.03, 0), (1000, 0, 0.03, 30)],
)
def test_drops_remaining(answered: int, dropped: int, limit: float, remaining: int) -> None:
    assert DropWindow(answered=answered, dropped=dropped).drops_remaining(limit) == remaining


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_drops_remaining_never_negative_and_exact(answered: int, dropped: int) -> None:
    left = DropWindow(answered=answered, dropped=dropped).drops_remaining(0.03)
    assert left >= 0
    allowed = 3 * answered // 100  # exact integer floor(0.03 * answered)
    if dropped <= allowed:
        # `left` more drops keep the ratio at or under 3 %; one more would cross it.
        assert (dropped + left) * 100 <= 3 * answered < (dropped + left + 1) * 100
    else:
        assert left == 0


def test_local_date_follows_the_dialer_offset() -> None:
    late_evening = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    assert local_date_at(late_evening, -5.0) == date(2026, 11, 25)
    assert local_date_at(late_evening, 0.0) == date(2026, 11, 26)


def test_an_iana_timezone_follows_daylight_saving_time() -> None:
    clock = DialerClock(timezone="America/New_York")
    # 03:30 UTC is 23:30 the day before in New York in winter (UTC-5)...
    assert clock.local_date(datetime(2026, 1, 15, 3, 30, tzinfo=UTC), None) == date(2026, 1, 14)
    # ...and 23:30 in summer too, at UTC-4 (03:30 UTC would be 23:30; 04:30 is 00:30 next day)
    assert clock.local_date(datetime(2026, 7, 15, 4, 30, tzinfo=UTC), None) == date(2026, 7, 15)
    assert clock.local_date(datetime(2026, 7, 15, 3, 30, tzinfo=UTC), None) == date(2026, 7, 14)
    # the version offset is ignored when a zone is configured; without one it is used
    assert DialerClock().local_date(datetime(2026, 7, 15, 3, 30, tzinfo=UTC), -4.0) == date(
        2026, 7, 14
    )
    assert not DialerClock().known(None)
    assert clock.known(None)


def test_all_campaigns_come_from_campaigns_list_not_ingroups() -> None:
    assert tracked_campaign_ids(None, RESULTS) == ["SALES1", "SALES2"]
    only_stats = SourceResults(
        call_stats=DatedStats(
            day=TODAY, lines=(stats("SALES1", 1, 1, 0), stats("SUPPORT", 1, 1, 0))
        )
    )
    assert tracked_campaign_ids(None, only_stats, ["SUPPORT"]) == ["SALES1"]
    assert tracked_campaign_ids(["X"], RESULTS) == ["X"]


def test_staleness_is_computed_at_read_time() -> None:
    status = SourceStatus("call_status_stats", 60.0, ok=True, last_success=NOW)
    snapshot = compose(statuses=[status])
    assert not snapshot.stale(NOW + timedelta(seconds=180))
    assert snapshot.stale(NOW + timedelta(seconds=181))
    assert snapshot.age_seconds(NOW + timedelta(seconds=42)) == 42
    never = compose(statuses=[SourceStatus("hopper_list", 120.0)])
    assert never.stale(NOW)
    assert never.age_seconds(NOW) is None


def test_codec_round_trip_is_lossless() -> None:
    snapshot = compose(
        agent_states={
            "1001": AgentState("incall", NOW - timedelta(minutes=3), exact=True),
            "1002": AgentState("waiting", NOW - timedelta(minutes=1), exact=False),
        },
        login_block=LoginBlock("locked", "wait", NOW, NOW + timedelta(minutes=15)),
    )
    codec = SnapshotJsonCodec()
    decoded = codec.decode(codec.encode(snapshot))
    assert decoded == snapshot
    # health and taken_at are outside == but must survive the trip: followers age from them
    assert decoded.sources == snapshot.sources
    assert decoded.taken_at == snapshot.taken_at
    assert [a.state_since_exact for a in decoded.agents][:2] == [True, False]


def test_equality_is_content_only() -> None:
    states = {a.user: AgentState("x", NOW, exact=True) for a in RESULTS.agents or ()}
    first = compose(agent_states=states)
    later = compose(
        agent_states=states,
        now=NOW + timedelta(seconds=30),
        statuses=[SourceStatus("logged_in_agents", 30.0, ok=False, last_error="HTTP 500")],
    )
    assert later == first, "same figures, newer health: not a change"
    assert later.taken_at != first.taken_at
    changed = compose(
        agent_states=states, results=RESULTS.__class__(**{**RESULTS.__dict__, "hoppers": {}})
    )
    assert changed != first


def test_api_document_matches_the_contract_shape() -> None:
    document = api_document(compose(), NOW + timedelta(seconds=3), limit=0.03)
    assert document["taken_at"] == "2026-11-25T15:04:05Z"
    assert document["age_seconds"] == 3.0
    assert document["stale"] is False
    sales1 = document["campaigns"][0]
    assert sales1["id"] == "SALES1"
    assert sales1["drops_remaining"] == 3  # floor(0.03 * 400) - 9
    assert sales1["drop_ratio"] == pytest.approx(0.0225)
    assert set(sales1["agents"]) == {"waiting", "incall", "paused", "dispo", "dead", "dial"}
    assert {a["state"] for a in document["agents"]} == {
        "incall",
        "waiting",
        "paused",
        "dispo",
        "dead",
    }
    assert document["sources"]["logged_in_agents"]["ok"] is True
    never = compose(statuses=[SourceStatus("call_status_stats", 60.0, last_error="HTTP 500")])
    unknown = api_document(never, NOW, limit=0.03)["campaigns"][0]
    assert unknown["drop_ratio"] is None
    assert unknown["calls_today"] is None
    assert unknown["agents"]["waiting"] == 1, "other sources' figures still show"
    narrowed = api_document(compose(), NOW, limit=0.03, campaigns=["SALES2"])
    assert [c["id"] for c in narrowed["campaigns"]] == ["SALES2"]
    assert [a["user"] for a in narrowed["agents"]] == ["2001"]


def test_codec_round_trip_keeps_the_compliance_windows_groups_and_forecast() -> None:
    from tests.web.floor import compliance_snapshot

    built = compliance_snapshot()
    trend = (TrendPoint(36_000, 100, 2), TrendPoint(36_300, 120, 3))
    snapshot = replace(built, campaigns=tuple(replace(c, trend=trend) for c in built.campaigns))
    assert snapshot.groups, "the builder must carry a group"
    sales1 = snapshot.campaign("SALES1")
    assert sales1 is not None
    assert sales1.forecast is not None
    assert sales1.extra_window("today_ofcom") is not None
    codec = SnapshotJsonCodec()
    decoded = codec.decode(codec.encode(snapshot))
    assert decoded == snapshot
    # span_seconds and basis_seconds are outside == but a follower shows them too
    for ours, theirs in zip(decoded.drop_targets, snapshot.drop_targets, strict=True):
        assert [e.span_seconds for e in ours.extra_windows] == [
            e.span_seconds for e in theirs.extra_windows
        ]
        if theirs.forecast is not None:
            assert ours.forecast is not None
            assert ours.forecast.basis_seconds == theirs.forecast.basis_seconds
    assert decoded.dialer == snapshot.dialer
    assert decoded.campaigns[0].trend == trend
