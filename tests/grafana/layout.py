"""Where the compose file puts our Grafana and Prometheus files inside the containers.

Grafana and Prometheus cannot run here (no container engine), so the tests check the next best
thing: every path one file names inside a container is a bind mount of a file in this repo.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
GRAFANA = ROOT / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "vicidial-wallboard.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "wallboard.yml"
PROMETHEUS_CONFIG = GRAFANA / "prometheus" / "prometheus.yml"
RULES = GRAFANA / "prometheus" / "rules.yml"
RULES_TESTS = GRAFANA / "prometheus" / "rules_test.yml"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return document


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target, as Grafana would send them (variables unset)."""
    return [
        (panel["title"], target["expr"])
        for panel in dashboard()["panels"]
        for target in panel.get("targets", [])
    ]


def compose() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(COMPOSE)
    return document


def service_running(image: str) -> tuple[str, dict[str, Any]]:
    """The one compose service whose image is ``image`` (any tag)."""
    found = [
        (name, service)
        for name, service in compose()["services"].items()
        if str(service.get("image", "")).split(":")[0] == image
    ]
    assert len(found) == 1, f"expected one service running {image}, found {found}"
    return found[0]


def _bind_mounts(service: dict[str, Any]) -> list[tuple[Path, PurePosixPath]]:
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") != "bind":
                continue
            source, target = str(volume["source"]), str(volume["target"])
        else:
            source, target, *_ = str(volume).split(":")
            if not source.startswith((".", "/")):  # a named volume
                continue
        mounts.append(((COMPOSE.parent / source).resolve(), PurePosixPath(target)))
    return mounts


def host_path(service: dict[str, Any], container_path: str) -> Path | None:
    """The repo file a container sees at ``container_path`` (the deepest bind mount wins)."""
    wanted = PurePosixPath(container_path)
    best: tuple[Path, PurePosixPath] | None = None
    for source, target in _bind_mounts(service):
        if (wanted == target or target in wanted.parents) and (
            best is None or len(target.parts) > len(best[1].parts)
        ):
            best = (source, target)
    if best is None:
        return None
    source, target = best
    return source.joinpath(*wanted.relative_to(target).parts)
