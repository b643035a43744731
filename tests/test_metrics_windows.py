"""``/metrics`` for every drop window and for drop-rate groups, from hand-built snapshots."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.support.serving import serving
from tests.support.system import promtool_check_metrics
from tests.web.floor import COMPLIANCE_NOW, OFCOM, FakeStore, compliance_snapshot
from wallboard.metrics import DaemonMetrics
from wallboard.snapshot import Snapshot, SourceStatus
from wallboard.web.app import build_web_app
from wallboard.web.keys import WebContext
from wallboard.windows.names import WINDOWS

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def exposition(snapshot: Snapshot, **options: object) -> str:
    metrics = DaemonMetrics(
        latest=lambda: snapshot,
        clock=lambda: COMPLIANCE_NOW,
        limit=0.03,
        **options,  # type: ignore[arg-type]
    )
    return metrics.render().decode()


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def windowed(found: Samples, name: str, target: str) -> dict[str, float]:
    """``{window: value}`` of one metric for one campaign or group."""
    return {
        dict(labels)["window"]: value
        for (metric, labels), value in found.items()
        if metric == name and dict(labels)["campaign"] == target
    }


def test_every_window_of_every_campaign_is_a_sample() -> None:
    found = samples(exposition(compliance_snapshot()))
    ratios = windowed(found, "vicidial_campaign_drop_ratio", "SALES1")
    assert list(ratios) == list(WINDOWS), "today, 30d, period, today_ofcom, 15m, 1h"
    assert ratios["today"] == 0.022
    assert ratios["30d"] == 0.019
    assert ratios["period"] == 0.021
    assert ratios["today_ofcom"] == OFCOM.ratio  # machine-adjusted, not 22/1000
    assert ratios["today_ofcom"] != ratios["today"]
    assert ratios["15m"] == 2 / 36
    assert ratios["1h"] == 0.04
    remaining = windowed(found, "vicidial_campaign_drops_remaining", "SALES1")
    # floor(0.03 x answered) - dropped; Ofcom: floor(0.03 x (978 + 21.136) / 0.9607) - 22
    assert remaining == {
        "today": 8,
        "30d": 220,
        "period": 90,
        "today_ofcom": 9,
        "15m": 0,
        "1h": 0,
    }
    # SALES2 has no Ofcom window, SALES3 only the two every campaign has
    assert set(windowed(found, "vicidial_campaign_drop_ratio", "SALES2")) == {
        "today",
        "30d",
        "period",
        "15m",
    }
    assert set(windowed(found, "vicidial_campaign_drop_ratio", "SALES3")) == {"today", "30d"}


def test_a_group_exports_its_drop_figures_and_nothing_its_campaigns_already_do() -> None:
    found = samples(exposition(compliance_snapshot()))
    group = (("campaign", "group:EAST"),)
    assert found[("vicidial_campaign_calls_today", group)] == 3600
    assert found[("vicidial_campaign_answered_calls_today", group)] == 1800
    assert found[("vicidial_campaign_dropped_calls_today", group)] == 32
    assert windowed(found, "vicidial_campaign_drop_ratio", "group:EAST") == {
        "today": 32 / 1800,
        "30d": 500 / 28000,
        "1h": 4 / 250,
    }
    assert windowed(found, "vicidial_campaign_drops_remaining", "group:EAST")["today"] == 22
    per_campaign_only = (
        "vicidial_campaign_active",
        "vicidial_campaign_dial_level",
        "vicidial_campaign_hopper_leads",
        "vicidial_campaign_agents",
        "vicidial_campaign_calls_waiting",
    )
    leaked = [
        (name, labels)
        for name, labels in found
        if name in per_campaign_only and dict(labels).get("campaign", "").startswith("group:")
    ]
    assert leaked == [], "a group's agents would double every sum over campaigns"
    # the campaigns themselves still have theirs
    assert found[("vicidial_campaign_hopper_leads", (("campaign", "SALES1"),))] == 100


def test_drops_remaining_uses_each_targets_own_limit() -> None:
    limits = {"SALES1": 0.025, "group:EAST": 0.02}
    found = samples(
        exposition(compliance_snapshot(), limit_for=lambda target: limits.get(target, 0.03))
    )
    assert windowed(found, "vicidial_campaign_drops_remaining", "SALES1")["today"] == 3  # 25-22
    assert windowed(found, "vicidial_campaign_drops_remaining", "SALES2")["today"] == 14
    assert windowed(found, "vicidial_campaign_drops_remaining", "group:EAST")["today"] == 4


def test_no_window_sample_before_the_counts_were_ever_fetched() -> None:
    never = replace(
        compliance_snapshot(),
        sources=(SourceStatus("call_status_stats", 60.0, last_error="HTTP 500"),),
    )
    found = samples(exposition(never))
    names = {name for name, _ in found}
    assert "vicidial_campaign_drop_ratio" not in names, "a 0 % ratio must only mean no drops"
    assert "vicidial_campaign_calls_today" not in names
    assert ("vicidial_campaign_hopper_leads", (("campaign", "SALES1"),)) in found


def test_help_says_what_each_window_is() -> None:
    text = exposition(compliance_snapshot())
    helps = {
        line.split()[2]: line
        for line in text.splitlines()
        if line.startswith("# HELP vicidial_campaign_drop")
    }
    for metric in ("vicidial_campaign_drop_ratio", "vicidial_campaign_drops_remaining"):
        for window in WINDOWS:
            assert f"{window} = " in helps[metric], (metric, window)
        assert "group:NAME" in helps[metric]
        assert "refreshed every 60 s" in helps[metric]
    assert "3.0% unless set per campaign" in helps["vicidial_campaign_drops_remaining"]


async def test_promtool_accepts_every_window_and_group() -> None:
    snapshot = compliance_snapshot()
    metrics = DaemonMetrics(
        latest=lambda: snapshot,
        clock=lambda: COMPLIANCE_NOW,
        limit=0.03,
    )
    context = WebContext(store=FakeStore(snapshot), limit=0.03, metrics=metrics)
    async with (
        serving(build_web_app(context)) as url,
        aiohttp.ClientSession() as http,
        http.get(url + "/metrics") as response,
    ):
        assert response.status == 200
        text = await response.text()
    assert 'vicidial_campaign_drop_ratio{campaign="group:EAST",window="today"}' in text
    assert 'vicidial_campaign_drops_remaining{campaign="SALES1",window="today_ofcom"} 9.0' in text
    await promtool_check_metrics(text)
