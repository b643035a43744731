"""A real Prometheus scrapes the daemon; every Grafana dashboard query runs against it."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.daemon import DaemonHandle, daemon_settings, running_daemon
from tests.support.sim import running_simulator
from tests.support.system import require_binary
from tests.support.waiting import eventually

DASHBOARD = Path(__file__).parent.parent / "grafana" / "dashboards" / "vicidial-wallboard.json"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dashboard_queries() -> list[str]:
    document = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in document["panels"] for t in p["targets"]]
    return [q.replace("$campaign", ".*") for q in queries]


@pytest.fixture
async def prometheus(tmp_path: Path) -> AsyncIterator[tuple[str, DaemonHandle]]:
    binary = require_binary("prometheus", "/usr/bin/prometheus")
    async with running_simulator(seed=9) as sim:
        settings = daemon_settings(sim.base_url, tmp_path)
        async with running_daemon(settings) as daemon:
            await daemon.wait_started()
            target = daemon.url.removeprefix("http://")
            config = tmp_path / "prometheus.yml"
            config.write_text(
                "global:\n  scrape_interval: 1s\n"
                "scrape_configs:\n  - job_name: wallboard\n"
                f"    static_configs:\n      - targets: ['{target}']\n"
            )
            port = free_port()
            process = await asyncio.create_subprocess_exec(
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                yield f"http://127.0.0.1:{port}", daemon
            finally:
                process.terminate()
                await process.wait()


async def query(session: aiohttp.ClientSession, base: str, expr: str) -> dict[str, Any]:
    async with session.get(f"{base}/api/v1/query", params={"query": expr}) as response:
        result: dict[str, Any] = await response.json()
        return result


async def test_prometheus_scrapes_and_every_dashboard_query_works(
    prometheus: tuple[str, DaemonHandle],
) -> None:
    base, daemon = prometheus
    async with aiohttp.ClientSession() as session:

        async def scraped_twice() -> bool:
            try:
                answer = await query(session, base, "count_over_time(vicidial_up[1m])")
            except aiohttp.ClientError:
                return False
            results = answer.get("data", {}).get("result", [])
            return bool(results) and float(results[0]["value"][1]) >= 2

        await eventually(scraped_twice, within=60, what="two scrapes of the daemon")
        answer = await query(session, base, 'up{job="wallboard"}')
        assert answer["data"]["result"][0]["value"][1] == "1"

        snapshot = await daemon.snapshot()
        answer = await query(session, base, "vicidial_campaign_calls_today")
        scraped = {r["metric"]["campaign"]: float(r["value"][1]) for r in answer["data"]["result"]}
        assert scraped == {c["id"]: c["calls_today"] for c in snapshot["campaigns"]}

        for expr in dashboard_queries():
            answer = await query(session, base, expr)
            assert answer["status"] == "success", (expr, answer)
            if "rate(" not in expr and "histogram_quantile" not in expr:
                assert answer["data"]["result"], f"no data for dashboard query {expr}"


def test_dashboard_only_uses_contract_metric_names() -> None:
    contract = {
        "vicidial_campaign_active", "vicidial_campaign_dial_level",
        "vicidial_campaign_hopper_leads", "vicidial_campaign_calls_today",
        "vicidial_campaign_answered_calls_today", "vicidial_campaign_dropped_calls_today",
        "vicidial_campaign_drop_ratio", "vicidial_campaign_drops_remaining",
        "vicidial_campaign_calls_waiting", "vicidial_campaign_agents",
        "vicidial_agent_calls_today", "vicidial_up", "wallboard_source_up",
        "wallboard_source_last_success_timestamp_seconds", "wallboard_data_age_seconds",
        "wallboard_poll_duration_seconds", "wallboard_api_requests_total",
        "wallboard_alerts_firing", "wallboard_notifications_total",
        "wallboard_auto_pauses_total", "wallboard_stream_clients",
    }  # fmt: skip
    names = set()
    for expr in dashboard_queries():
        names |= set(re.findall(r"\b((?:vicidial|wallboard)_[a-z_]+)", expr))
    bases = {re.sub(r"_(bucket|sum|count)$", "", name) for name in names}
    assert bases <= contract, bases - contract
