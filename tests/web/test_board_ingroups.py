"""A board's ``ingroups`` choose whose calls waiting it shows: one ``in_group_status`` request
per in-group (VICIdial sums a list into one line), each board summing its own queues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.daemon import daemon_settings, running_daemon
from tests.support.sim import running_simulator
from wallboard.snapshot_json import SnapshotJsonCodec


async def test_each_board_counts_its_own_ingroups(tmp_path: Path) -> None:
    async with running_simulator() as sim:
        world: Any = sim.world
        world.ingroups["SALESLINE"].calls_waiting = 4
        world.ingroups["SALESLINE"].total_calls = 9
        world.ingroups["SUPPORT"].calls_waiting = 2
        world.ingroups["SUPPORT"].total_calls = 3
        settings = daemon_settings(
            sim.base_url,
            tmp_path,
            vicidial={"ingroups": ["SALESLINE", "SUPPORT"]},
            boards=[
                {"name": "sales", "campaigns": ["SALES1"], "ingroups": ["SALESLINE"]},
                {"name": "care", "ingroups": ["SUPPORT"]},
                {"name": "outbound", "ingroups": []},
                {"name": "floor"},
            ],
        )
        async with running_daemon(settings) as daemon:
            await daemon.wait_started()
            before = (await sim.requests())["by_function"].get("in_group_status", 0)
            await daemon.poller.poll("in_group_status")
            after = (await sim.requests())["by_function"]["in_group_status"]
            assert after - before == 2, "one request per in-group"

            whole = await daemon.snapshot()
            assert whole["ingroups"] == [
                {"id": "SALESLINE", "calls_waiting": 4, "total_calls": 9},
                {"id": "SUPPORT", "calls_waiting": 2, "total_calls": 3},
            ]
            assert whole["inbound_calls_waiting"] == 6

            expected = {"sales": 4, "care": 2, "outbound": 0, "floor": 6}
            for board, waiting in expected.items():
                status, document = await daemon.get_json(f"/api/snapshot?board={board}")
                assert status == 200, document
                assert document["inbound_calls_waiting"] == waiting, board
            status, sales = await daemon.get_json("/api/snapshot?board=sales")
            assert [g["id"] for g in sales["ingroups"]] == ["SALESLINE"]


def test_the_redis_codec_keeps_ingroups() -> None:
    from datetime import UTC, date, datetime

    from wallboard.snapshot import IngroupView, Snapshot

    snapshot = Snapshot(
        taken_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
        local_date=date(2026, 12, 2),
        inbound_calls_waiting=5,
        ingroups=(IngroupView("SALESLINE", 4, 9), IngroupView("SUPPORT", 1, 1)),
    )
    codec = SnapshotJsonCodec()
    assert codec.decode(codec.encode(snapshot)) == snapshot
