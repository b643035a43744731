"""The committed dashboard is the generator's output, reads our metrics the safe way, and fits
the provisioning and the compose mounts (Grafana itself cannot run here)."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.grafana.layout import (
    DASHBOARD,
    DASHBOARD_PROVIDERS,
    DATASOURCES,
    dashboard,
    dashboard_queries,
    host_path,
    load_yaml,
    service_running,
)
from tests.grafana.promql_shape import metric_uses, violations
from tools.grafana_dashboard import main, render
from wallboard.windows.grading import Thresholds

#: CONTRACT §5 (vicidial_campaign_calls_waiting is left out: VICIdial has no such figure).
CONTRACT = {
    "vicidial_campaign_active", "vicidial_campaign_dial_level",
    "vicidial_campaign_hopper_leads", "vicidial_campaign_calls_today",
    "vicidial_campaign_answered_calls_today", "vicidial_campaign_dropped_calls_today",
    "vicidial_campaign_drop_ratio", "vicidial_campaign_drops_remaining",
    "vicidial_ingroup_calls_waiting", "vicidial_campaign_agents",
    "vicidial_agent_calls_today", "vicidial_up", "wallboard_source_up",
    "wallboard_source_last_success_timestamp_seconds", "wallboard_data_age_seconds",
    "wallboard_poll_duration_seconds", "wallboard_api_requests_total",
    "wallboard_alerts_firing", "wallboard_notifications_total",
    "wallboard_auto_pauses_total", "wallboard_stream_clients",
}  # fmt: skip
#: Families with a ``campaign`` label: the campaign selector must filter them.
CAMPAIGN_LABELLED = {
    name
    for name in CONTRACT
    if name.startswith("vicidial_campaign_")
    or name in {"wallboard_alerts_firing", "wallboard_auto_pauses_total"}
}
#: What the issue asks the dashboard to show; each must be read by some panel.
REQUIRED = CONTRACT - {
    "vicidial_campaign_active",
    "vicidial_agent_calls_today",  # per agent: off on large floors (metrics.agent_series)
    "wallboard_source_last_success_timestamp_seconds",
}


def test_the_committed_dashboard_is_exactly_what_the_generator_writes() -> None:
    assert DASHBOARD.read_bytes() == render().encode("utf-8"), (
        "grafana/dashboards/vicidial-wallboard.json is out of date or edited by hand: "
        "run python tools/grafana_dashboard.py"
    )


def test_check_mode_fails_on_a_stale_file_and_passes_once_written(tmp_path: Path) -> None:
    output = tmp_path / "dashboard.json"
    output.write_text("{}\n")
    assert main(["--check", "--output", str(output)]) == 1
    assert output.read_text() == "{}\n", "--check writes nothing"
    assert main(["--output", str(output)]) == 0
    assert main(["--check", "--output", str(output)]) == 0


def test_every_query_takes_max_by_so_two_instances_never_double_a_figure() -> None:
    problems = [problem for _, expr in dashboard_queries() for problem in violations(expr)]
    assert problems == []


def test_the_dashboard_shows_every_required_figure_and_only_contract_names() -> None:
    read = {
        re.sub(r"_bucket$", "", use.metric)
        for _, expr in dashboard_queries()
        for use in metric_uses(expr)
    }
    assert read <= CONTRACT, read - CONTRACT
    assert read >= REQUIRED, REQUIRED - read


def test_campaign_figures_follow_the_campaign_variable() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    campaign = variables["campaign"]
    assert (campaign["multi"], campaign["includeAll"], campaign["allValue"]) == (True, True, ".*")
    assert "vicidial_campaign_drop_ratio" in campaign["query"]
    filtered = 0
    for title, expr in dashboard_queries():
        if any(u.metric in CAMPAIGN_LABELLED for u in metric_uses(expr)):
            assert 'campaign=~"$campaign' in expr, (title, expr)
            filtered += 1
    assert filtered >= 12


def test_drop_rate_panels_draw_the_warning_critical_and_limit_lines() -> None:
    thresholds = Thresholds()
    lines = [thresholds.warn_at, thresholds.critical_at, thresholds.limit]
    assert lines == [0.025, 0.028, 0.03]
    panels = [
        p
        for p in dashboard()["panels"]
        if any("vicidial_campaign_drop_ratio" in t["expr"] for t in p.get("targets", []))
    ]
    windows = {
        window
        for panel in panels
        for target in panel["targets"]
        for window in re.findall(r'window="([^"]+)"', target["expr"])
    }
    assert windows >= {"today", "30d"}
    for panel in panels:
        defaults = panel["fieldConfig"]["defaults"]
        steps = [s["value"] for s in defaults["thresholds"]["steps"]]
        assert steps == [None, *lines], panel["title"]
        assert defaults["unit"] == "percentunit"
        if panel["type"] == "timeseries":
            assert defaults["custom"]["thresholdsStyle"]["mode"] != "off", "lines drawn"


def _datasource_refs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [ref for value in node.values() for ref in _datasource_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _datasource_refs(value)]
    return []


def test_every_datasource_reference_is_the_provisioned_prometheus() -> None:
    [datasource] = load_yaml(DATASOURCES)["datasources"]
    refs = _datasource_refs(dashboard())
    assert len(refs) > 20, "panels, targets and the variable all name their datasource"
    assert {(r["type"], r["uid"]) for r in refs} == {(datasource["type"], datasource["uid"])}
    # The provisioned URL names the compose service that runs Prometheus, on its own port.
    prometheus_service, _ = service_running("prom/prometheus")
    url = urlsplit(datasource["url"])
    assert (url.hostname, url.port) == (prometheus_service, 9090)


def test_grafana_finds_the_provisioning_and_the_dashboard_through_the_compose_mounts() -> None:
    _, grafana = service_running("grafana/grafana")
    provisioning = "/etc/grafana/provisioning"
    assert host_path(grafana, f"{provisioning}/datasources/prometheus.yml") == DATASOURCES
    assert host_path(grafana, f"{provisioning}/dashboards/wallboard.yml") == DASHBOARD_PROVIDERS
    [provider] = load_yaml(DASHBOARD_PROVIDERS)["providers"]
    assert provider["type"] == "file"
    seen = host_path(grafana, f"{provider['options']['path']}/{DASHBOARD.name}")
    assert seen == DASHBOARD, "the provider's path is the mounted grafana/dashboards"


def test_compose_runs_the_grafana_release_the_sdk_generates_for() -> None:
    # "1769699379!11.6.0": the epoch, then the Grafana release the variant targets.
    sdk_grafana = version("grafana-foundation-sdk").split("!")[-1]
    major_minor = ".".join(sdk_grafana.split(".")[:2])
    _, grafana = service_running("grafana/grafana")
    tag = str(grafana["image"]).partition(":")[2]
    assert tag.startswith(major_minor + "."), (
        f"compose runs grafana/grafana:{tag or 'latest'}, the dashboard is generated for "
        f"Grafana {major_minor} (grafana-foundation-sdk {version('grafana-foundation-sdk')})"
    )
