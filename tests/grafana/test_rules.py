"""The Prometheus rules: promtool validates them and runs their unit tests; they aggregate like
the dashboard, use the daemon's default thresholds and reach Prometheus through compose."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.grafana.layout import (
    PROMETHEUS_CONFIG,
    RULES,
    RULES_TESTS,
    compose,
    host_path,
    load_yaml,
    service_running,
)
from tests.grafana.promql_shape import violations
from tests.support.system import require_binary
from wallboard.config import AlertsConfig


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_binary("promtool", "/usr/bin/promtool", package="prometheus")


def run(promtool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def test_promtool_accepts_the_rules_and_the_config_that_loads_them(promtool: str) -> None:
    checked = run(promtool, "check", "rules", RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = run(promtool, "check", "config", PROMETHEUS_CONFIG)
    assert config.returncode == 0, config.stdout + config.stderr
    assert "1 rule files found" in config.stdout + config.stderr


def test_the_rules_unit_tests_pass(promtool: str) -> None:
    result = run(promtool, "test", "rules", RULES_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_unit_tests_catch_a_rule_that_forgets_the_minimum_answered_count(
    promtool: str, tmp_path: Path
) -> None:
    weakened = RULES.read_text().replace(
        "(vicidial_campaign_answered_calls_today) >= 50",
        "(vicidial_campaign_answered_calls_today) >= 0",
    )
    assert weakened != RULES.read_text()
    (tmp_path / "rules.yml").write_text(weakened)
    (tmp_path / "rules_test.yml").write_text(RULES_TESTS.read_text())
    result = run(promtool, "test", "rules", tmp_path / "rules_test.yml")
    assert result.returncode != 0, "a rule alerting on 40 answered calls must fail the tests"
    assert "VicidialDropRatio" in result.stdout + result.stderr


def test_every_alert_has_a_case_that_fires_and_one_that_does_not() -> None:
    cases: dict[str, set[bool]] = {name: set() for name in alerts()}
    for test in load_yaml(RULES_TESTS)["tests"]:
        for case in test.get("alert_rule_test", []):
            cases[case["alertname"]].add(bool(case.get("exp_alerts")))
    assert cases == {name: {True, False} for name in cases}, cases


def test_every_rule_takes_max_by_like_the_dashboard() -> None:
    problems = [problem for rule in rules() for problem in violations(rule["expr"])]
    assert problems == []


def test_the_drop_and_stale_rules_use_the_daemon_defaults() -> None:
    defaults = AlertsConfig()
    by_name = alerts()
    for name, ratio in (
        ("VicidialDropRatioWarning", defaults.warn_at),
        ("VicidialDropRatioCritical", defaults.critical_at),
    ):
        expr = by_name[name]["expr"]
        assert expr.count(f">= {ratio:g}") == 2, (name, expr)  # the today and 30-day branches
        assert f"answered_calls_today) >= {defaults.min_answered}" in expr
        assert by_name[name]["for"] == f"{defaults.pending.total_seconds() / 60:g}m"
    stale = by_name["WallboardDataStale"]["expr"]
    assert stale.endswith(f"> {defaults.stale_after.total_seconds():g}")


def test_prometheus_reads_the_config_and_the_rules_through_the_compose_mount() -> None:
    _, prometheus = service_running("prom/prometheus")
    config_path = "/etc/prometheus/prometheus.yml"
    assert host_path(prometheus, config_path) == PROMETHEUS_CONFIG
    config = load_yaml(PROMETHEUS_CONFIG)
    for rule_file in config["rule_files"]:
        seen = host_path(prometheus, str(Path(config_path).parent / rule_file))
        assert seen == RULES, rule_file
    # Every target is a daemon service of the compose file, on the port the daemon listens on.
    services = compose()["services"]
    [job] = config["scrape_configs"]
    assert job["job_name"] == "wallboard", "the daemon-down alerts match up{job='wallboard'}"
    targets = [t for static in job["static_configs"] for t in static["targets"]]
    assert len(targets) == 2
    for target in targets:
        host, port = target.split(":")
        assert host in services, target
        published = [str(p).rsplit(":", 1)[-1] for p in services[host].get("ports", [])]
        assert port in published, (target, published)
