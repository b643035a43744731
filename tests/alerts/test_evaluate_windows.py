"""The compliance windows through the engine: each alerts like ``today`` once it holds what
its name promises, drop-rate groups alert like campaigns, UK mode alerts on its own ratio, and
today's incident carries the forecast into Slack."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from tests.alerts.test_evaluate import DAY, PENDING, Engine, Rules, at, campaign, snap
from wallboard.alerts.slack_blocks import parent_message
from wallboard.alerts.types import Action, Level
from wallboard.snapshot import CampaignView, DropWindow, ExtraWindow
from wallboard.windows.forecast import Crossing, Forecast


def with_extra(view: CampaignView, *extras: ExtraWindow) -> CampaignView:
    return replace(view, extra_windows=extras)


def period(days: int, since: date = DAY - timedelta(days=9), dropped: int = 29) -> ExtraWindow:
    # since = 9 days ago: a complete period window holds 10 days (9 past + today).
    return ExtraWindow("period", DropWindow(2000, 1000, dropped, days=days), since=since)


def test_a_period_window_with_a_missing_day_neither_raises_nor_clears() -> None:
    engine = Engine(Rules(windows=("period",)))
    holey = with_extra(campaign(), period(days=9))
    engine.run(0, snap(0, holey))
    engine.run(PENDING, snap(PENDING, holey))
    assert engine.level("SALES1", "period") is Level.OK, "a hole is not a figure to alert on"

    whole = with_extra(campaign(), period(days=10))
    engine.run(PENDING + 60, snap(PENDING + 60, whole))
    assert engine.level("SALES1", "period") is Level.PENDING
    result = engine.run(2 * PENDING + 60, snap(2 * PENDING + 60, whole))
    (opened,) = [n for n in result.notifications if n.incident.window == "period"]
    assert opened.action is Action.OPENED
    assert opened.incident.severity is Level.CRITICAL  # 29 / 1000 = 2.9 %


def test_a_pacing_window_alerts_only_once_it_covers_its_span() -> None:
    engine = Engine(Rules(windows=("15m",)))
    hot = DropWindow(300, 100, 9, days=0)  # 9 % over the last minutes
    young = with_extra(campaign(), ExtraWindow("15m", hot, span_seconds=600.0))
    for seconds in (0, PENDING, 2 * PENDING):
        engine.run(seconds, snap(seconds, young))
    assert engine.level("SALES1", "15m") is Level.OK, "10 minutes is not the last 15"

    covered = with_extra(campaign(), ExtraWindow("15m", hot, span_seconds=900.0))
    engine.run(3 * PENDING, snap(3 * PENDING, covered))
    engine.run(4 * PENDING, snap(4 * PENDING, covered))
    assert engine.level("SALES1", "15m") is Level.CRITICAL


def test_uk_mode_alerts_on_the_ofcom_ratio_not_the_plain_one() -> None:
    engine = Engine(Rules(windows=("today_ofcom",)))
    # 29 drops of 1000 answered is 2.9 % plainly; with half the agent-answered calls machines
    # each drop counts 0.5: 14.5 / (971 + 14.5) = 1.47 %, nowhere near a warning.
    ofcom = DropWindow(2000, 1000, 29, drop_weight=0.5)
    quiet = with_extra(campaign(today=29), ExtraWindow("today_ofcom", ofcom))
    for seconds in (0, PENDING, 2 * PENDING):
        engine.run(seconds, snap(seconds, quiet))
    assert engine.level("SALES1", "today_ofcom") is Level.OK

    # 40 drops at weight 0.8: 32 / (960 + 32) = 3.226 %: critical on the Ofcom figure.
    hotter = replace(ofcom, dropped=40, drop_weight=0.8)
    hot = with_extra(campaign(today=40), ExtraWindow("today_ofcom", hotter))
    engine.run(3 * PENDING, snap(3 * PENDING, hot))
    result = engine.run(4 * PENDING, snap(4 * PENDING, hot))
    (opened,) = result.notifications
    figures = opened.incident.figures
    assert figures is not None
    assert abs((figures.ratio or 0) - 32 / 992) < 1e-12
    assert figures.drops_remaining == 0


def test_a_drop_rate_group_is_alerted_like_a_campaign() -> None:
    engine = Engine(Rules(windows=("today",)))
    group = replace(campaign("group:outbound", today=29), members=("SALES1", "SALES2"))
    floor = replace(snap(0, campaign("SALES1", today=1)), groups=(group,))
    engine.run(0, floor)
    result = engine.run(PENDING, replace(floor, taken_at=at(PENDING)))
    (opened,) = result.notifications
    assert opened.incident.campaign == "group:outbound"
    assert opened.incident.key.startswith(f"drop:group:outbound:today:{DAY.isoformat()}@")
    assert engine.level("SALES1", "today") is Level.OK


def test_todays_incident_carries_the_forecast_into_slack() -> None:
    engine = Engine(Rules(windows=("today", "30d")))
    forecast = Forecast(
        horizon=at(6 * 3600),
        ratio_at_horizon=0.034,
        answered_per_hour=300.0,
        drops_per_hour=12.0,
        basis_seconds=3600.0,
        crossings=(
            Crossing("warn", 0.025, at(0), already=True),
            Crossing("critical", 0.028, at(0), already=True),
            Crossing("limit", 0.03, at(40 * 60)),
        ),
    )
    hot = replace(campaign(today=29, d30=29), forecast=forecast)
    engine.run(0, snap(0, hot, offset=-5.0))
    result = engine.run(PENDING, snap(PENDING, hot, offset=-5.0))
    by_window = {n.incident.window: n.incident for n in result.notifications}
    today, rolling = by_window["today"], by_window["30d"]
    assert today.figures is not None
    assert rolling.figures is not None
    # 15:00 UTC + 40 min = 15:40 UTC = 10:40 at the dialer's -5 h.
    assert today.figures.forecast == "at this pace SALES1 passes 3 % around 10:40"
    assert rolling.figures.forecast == "", "the forecast is about today's ratio only"
    text, blocks = parent_message(today)
    assert "Forecast: at this pace SALES1 passes 3 % around 10:40." in text
    assert any("*Forecast:* at this pace SALES1 passes 3 %" in str(block) for block in blocks)
    assert "Forecast" not in parent_message(rolling)[0]


def test_an_incident_remembers_the_worst_it_reached() -> None:
    engine = Engine(Rules(windows=("today",)))
    engine.run(0, snap(0, campaign(today=29)))  # 2.9 %: pending critical
    engine.run(PENDING, snap(PENDING, campaign(today=29)))  # opened critical
    result = engine.run(PENDING + 60, snap(PENDING + 60, campaign(today=25)))  # 2.5 %: eased
    (eased,) = result.notifications
    assert eased.action is Action.EASED
    assert eased.incident.severity is Level.WARNING
    assert eased.incident.peak_severity is Level.CRITICAL, "for an audit it went critical"
