"""``wallboard ledger`` against a simulated month: the rows an auditor gets, checked against the
simulator's own figures and hand-summed windows, in CSV and JSON, beside a writer holding the
state file and a running daemon, on SQLite and on Redis."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from tests.support.redis_server import RedisServer
from tests.support.sim import running_simulator
from tests.support.waiting import eventually
from tests.test_cli import answers, start_run
from wallboard.alerts.store import AlertStore, RedisAlertStore, SqliteAlertStore
from wallboard.alerts.types import AutoPauseOutcome, Incident, Kind, Level
from wallboard.cache import RedisHistoryStore, SqliteHistoryStore, connect_redis
from wallboard.cache.history import HistoryStore
from wallboard.day_record import (
    DAY_SETTINGS_PREFIX,
    DaySettings,
    read_day_settings,
    record_day_settings,
)
from wallboard.ledger import (
    COLUMNS,
    PERIOD_ANCHORS_KEY,
    Anchor,
    Clock,
    dialer_day,
    group_anchor,
    resolve_anchor,
)
from wallboard.poller.backfill import HistoryBackfill
from wallboard.vicidial.client import VicidialClient
from wallboard.windows import DropWindow, Thresholds
from wallboard.windows.period import pooled_days

TODAY = date(2025, 9, 3)  # the simulator's default dialer day
FIRST = date(2025, 8, 4)  # the backfill stores the 30 days before it
LAST = date(2025, 9, 2)
CAMPAIGNS = ("SALES1", "SALES2", "SALES3")
GROUP = "group:outbound"  # SALES1 + SALES2
TARGETS = (*CAMPAIGNS, GROUP)  # the ledger's order within a day
DELETED = ("SALES2", date(2025, 8, 20))
RECORDED_ANCHOR = date(2025, 7, 20)  # SALES1, as the daemon fixed it: periods 07-20, 08-19, ...
CONFIGURED_START = date(2025, 8, 10)  # SALES3's period_start in the config
AUGUST_15 = Thresholds(limit=0.03, warn_at=0.02, critical_at=0.025, min_answered=40)
GROUP_AUGUST_15 = Thresholds(limit=0.03, warn_at=0.021, critical_at=0.026, min_answered=100)
CONFIG_THRESHOLDS = Thresholds()  # [alerts] defaults: 0.03, 0.025, 0.028, 50

Truth = dict[tuple[str, date], tuple[int, int, int]]  # (calls, human-answered, drops)


def wal(state: Path) -> Path:
    """SQLite's write-ahead log beside the state file: there while a connection has it open."""
    return state.with_name(state.name + "-wal")


def newest_day(state: Path) -> date:
    """The newest day the state file holds (read-only, beside whoever writes it)."""
    connection = sqlite3.connect(f"{state.absolute().as_uri()}?mode=ro", uri=True)
    try:
        (newest,) = connection.execute("SELECT MAX(day) FROM day_totals").fetchone()
    finally:
        connection.close()
    return date.fromisoformat(newest)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def write_config(tmp_path: Path, *, extra: str = "") -> Path:
    """Dialer clock UTC-5 in the config, deliberately not the UTC-4 recorded for some days.
    The URL is a closed port: the ledger never calls VICIdial."""
    config = tmp_path / "wb.toml"
    config.write_text(
        f"""
[vicidial]
url = "http://127.0.0.1:9"
user = "wallboard"
pass = "wallboard-demo-pass"
campaigns = {json.dumps(list(CAMPAIGNS))}
utc_offset = -5

[alerts.campaigns.SALES3]
period_start = "{CONFIGURED_START}"

[[drop_groups]]
name = "outbound"
campaigns = ["SALES1", "SALES2"]

[state]
path = "{tmp_path / "state.db"}"
{extra}
"""
    )
    return config


def incident(
    campaign: str, window: str, severity: Level, opened_at: datetime, kind: Kind = Kind.DROP
) -> Incident:
    return Incident(
        key=f"{kind.value}:{campaign}:{window}:{opened_at.isoformat()}",
        kind=kind,
        campaign=campaign,
        window=window,
        severity=severity,
        opened_at=opened_at,
        updated_at=opened_at,
        summary=f"{campaign} {window}",
    )


INCIDENTS = (
    # 04:30 UTC is 00:30 on the 20th by the UTC-4 recorded for that day (23:30 on the 19th by
    # the config's UTC-5): the recorded clock decides.
    incident("SALES1", "today", Level.CRITICAL, datetime(2025, 8, 20, 4, 30, tzinfo=UTC)),
    incident("SALES1", "30d", Level.WARNING, datetime(2025, 8, 20, 15, 0, tzinfo=UTC)),
    # Nothing recorded around the 24th: the config's UTC-5 puts 04:30 UTC on the 24th.
    incident("SALES2", "today", Level.WARNING, datetime(2025, 8, 25, 4, 30, tzinfo=UTC)),
    incident(GROUP, "30d", Level.CRITICAL, datetime(2025, 8, 22, 16, 0, tzinfo=UTC)),
    incident("", "", Level.CRITICAL, datetime(2025, 8, 22, 16, 0, tzinfo=UTC), Kind.DATA_STALE),
)
AUDITS = (
    (AutoPauseOutcome("SALES1", datetime(2025, 8, 21, 15, 4, 5, tzinfo=UTC), True,
                      "would_pause", "dry run: nothing sent to VICIdial"), 0.0291),
    # 03:59 UTC on the 20th is 23:59 on the 19th by the UTC-4 recorded for the 19th.
    (AutoPauseOutcome("SALES1", datetime(2025, 8, 20, 3, 59, tzinfo=UTC), False,
                      "refused", "ERROR: update_campaign USER DOES NOT HAVE PERMISSION"), None),
)  # fmt: skip
EXPECTED_ALERTS = {
    ("SALES1", date(2025, 8, 20)): "today:critical;30d:warning",
    ("SALES2", date(2025, 8, 24)): "today:warning",
    (GROUP, date(2025, 8, 22)): "30d:critical",
}
EXPECTED_PAUSES = {
    ("SALES1", date(2025, 8, 21)): "10:04:05 would_pause",
    ("SALES1", date(2025, 8, 19)): "23:59:00 refused",
}


async def record_evidence(history: HistoryStore, alerts: AlertStore) -> None:
    """What the daemon would have written beside the day totals during the month."""
    await history.set_value(
        PERIOD_ANCHORS_KEY, json.dumps({"SALES1": RECORDED_ANCHOR.isoformat()}).encode()
    )
    await record_day_settings(
        history,
        date(2025, 8, 15),
        {"SALES1": AUGUST_15, GROUP: GROUP_AUGUST_15},
        utc_offset_hours=-4,
        timezone="America/New_York",
    )
    for day in (date(2025, 8, 19), date(2025, 8, 20)):
        await record_day_settings(
            history, day, {"SALES1": CONFIG_THRESHOLDS}, utc_offset_hours=-4.0, timezone=""
        )
    for item in INCIDENTS:
        await alerts.put_incident(item)
    for outcome, ratio in AUDITS:
        await alerts.add_audit(
            outcome,
            incident_key=f"drop:{outcome.campaign}:today:{outcome.at.date()}",
            ratio=ratio,
            window="today",
        )


@dataclass
class Month:
    config: Path
    state: Path
    truth: Truth


async def fill_month(tmp_path: Path, *, seed: int = 7) -> Month:
    """30 past days fetched from the simulator by the poller's own backfill, one of them then
    deleted, plus the evidence; the simulator's own figures for those days as the truth."""

    async def gate() -> None:
        return None

    state = tmp_path / "state.db"
    async with running_simulator(seed=seed) as sim, aiohttp.ClientSession() as session:
        client = VicidialClient(session, url=sim.base_url, user=sim.user, password=sim.password)
        history = SqliteHistoryStore(state)
        alerts = SqliteAlertStore(state)
        try:
            backfill = HistoryBackfill(client, history, days=31, gate=gate)
            assert await backfill.refresh(list(CAMPAIGNS), TODAY, timedelta(hours=12)) == 30
            await record_evidence(history, alerts)
        finally:
            await history.close()
            await alerts.close()
        truth: Truth = {}
        for campaign in CAMPAIGNS:
            for day in days(FIRST, LAST):
                stats = sim.world.day_stats(campaign, day)  # the simulator's truth, not our parse
                truth[campaign, day] = (stats.calls, stats.human_answered, stats.drops)
    with sqlite3.connect(state) as connection:  # the deliberate hole
        connection.execute(
            "DELETE FROM day_totals WHERE campaign_id = ? AND day = ?",
            (DELETED[0], DELETED[1].isoformat()),
        )
    connection.close()
    del truth[DELETED]
    for day in days(FIRST, LAST):  # the group: its members' sums, where every member has a day
        one, two = truth.get(("SALES1", day)), truth.get(("SALES2", day))
        if one is not None and two is not None:
            truth[GROUP, day] = (one[0] + two[0], one[1] + two[1], one[2] + two[2])
    return Month(write_config(tmp_path), state, truth)


@pytest.fixture
async def month(tmp_path: Path) -> Month:
    return await fill_month(tmp_path)


async def ledger(*args: str, limit: float = 60) -> tuple[int, str, str]:
    """``python -m wallboard ledger ARGS`` as an operator runs it: (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wallboard", "ledger", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), limit)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def by_key(rows: list[dict[str, Any]]) -> dict[tuple[str, date], dict[str, Any]]:
    return {(row["campaign"], date.fromisoformat(row["day"])): row for row in rows}


def summed(truth: Truth, target: str, first: date, last: date) -> tuple[int, int]:
    """Hand-summed (human-answered, drops) over the stored days in [first, last]."""
    answered = dropped = 0
    for (campaign, day), (_, day_answered, day_dropped) in truth.items():
        if campaign == target and first <= day <= last:
            answered += day_answered
            dropped += day_dropped
    return answered, dropped


def stored_count(truth: Truth, campaign: str, first: date, last: date) -> int:
    return sum(1 for (c, day) in truth if c == campaign and first <= day <= last)


# -- the month ---------------------------------------------------------------------------------


async def test_the_csv_ledger_of_a_simulated_month(month: Month) -> None:
    code, out, err = await ledger(
        "--config", str(month.config), "--from", "2025-07-01", "--to", "2025-09-30"
    )
    assert code == 0, err
    assert "closed dialer days only" in err
    rows = csv_rows(out)

    # one row per campaign (and group) per stored dialer day, by day then campaign; the
    # requested range is clipped to the days the store holds (today is not among them)
    assert [(r["day"], r["campaign"]) for r in rows] == [
        (day.isoformat(), target) for day in days(FIRST, LAST) for target in TARGETS
    ]
    table = by_key(rows)

    # the day's figures are the simulator's own (a group's: its members' sums); the deleted
    # day is empty, never zeros, for its campaign and for the group it belongs to
    for target in TARGETS:
        for day in days(FIRST, LAST):
            row = table[target, day]
            if (target, day) not in month.truth:
                assert day == DELETED[1]
                assert target in (DELETED[0], GROUP)
                assert (row["calls"], row["answered"], row["dropped"], row["ratio"]) == (
                    "", "", "", ""
                )  # fmt: skip
                continue
            calls, answered, dropped = month.truth[target, day]
            assert (int(row["calls"]), int(row["answered"]), int(row["dropped"])) == (
                calls, answered, dropped
            )  # fmt: skip
            assert float(row["ratio"]) == dropped / answered

    # the 30-day window as of each day is the hand-summed one, and the hole shows in days_30d
    for target in TARGETS:
        for day in days(FIRST, LAST):
            first = day - timedelta(days=29)
            answered, dropped = summed(month.truth, target, first, day)
            row = table[target, day]
            assert float(row["ratio_30d"]) == dropped / answered, (target, day)
            assert int(row["days_30d"]) == stored_count(month.truth, target, first, day)
    assert table["SALES1", LAST]["days_30d"] == "30"
    assert table["SALES2", LAST]["days_30d"] == "29", "the deleted day is missing, not zero"
    assert table[GROUP, LAST]["days_30d"] == "29"
    assert table["SALES2", date(2025, 8, 19)]["days_30d"] == "16"
    assert table["SALES2", date(2025, 8, 21)]["days_30d"] == "17"


async def test_period_boundaries_fall_every_30_days_from_the_anchor(month: Month) -> None:
    code, out, err = await ledger(
        "--config", str(month.config), "--from", FIRST.isoformat(), "--to", LAST.isoformat()
    )
    assert code == 0, err
    table = by_key(csv_rows(out))

    # SALES1: the anchor the daemon recorded, 2025-07-20; the next period starts 30 days on.
    # The group runs from its earliest member's anchor: SALES1's too.
    boundary = RECORDED_ANCHOR + timedelta(days=30)
    assert boundary == date(2025, 8, 19)
    for target in ("SALES1", GROUP):
        for day in days(FIRST, LAST):
            row = table[target, day]
            start = RECORDED_ANCHOR if day < boundary else boundary
            assert (row["period_start"], row["period_source"]) == (start.isoformat(), "recorded")
            answered, dropped = summed(month.truth, target, start, day)
            assert float(row["ratio_period"]) == dropped / answered, (target, day)
            assert int(row["days_period"]) == stored_count(month.truth, target, start, day)
    assert table["SALES1", boundary - timedelta(days=1)]["days_period"] == "15"  # 08-04..08-18
    first_of_period = table["SALES1", boundary]
    assert first_of_period["ratio_period"] == first_of_period["ratio"]

    # SALES3: period_start from the config; no period before it
    for day in days(FIRST, LAST):
        row = table["SALES3", day]
        assert row["period_source"] == "config"
        if day < CONFIGURED_START:
            assert (row["period_start"], row["ratio_period"], row["days_period"]) == ("", "", "")
        else:
            assert row["period_start"] == CONFIGURED_START.isoformat()
            assert int(row["days_period"]) == (day - CONFIGURED_START).days + 1
            answered, dropped = summed(month.truth, "SALES3", CONFIGURED_START, day)
            assert float(row["ratio_period"]) == dropped / answered

    # SALES2: nothing fixed, so derived from the first stored day with calls
    first_active = min(d for (c, d), figures in month.truth.items() if c == "SALES2" and figures[0])
    row = table["SALES2", LAST]
    assert (row["period_start"], row["period_source"]) == (first_active.isoformat(), "derived")
    # the SALES2 period skips the hole instead of counting it as a day of zeros
    assert table["SALES2", LAST]["days_period"] == str((LAST - first_active).days)


async def test_thresholds_alerts_and_auto_pauses_land_on_their_dialer_day(month: Month) -> None:
    code, out, err = await ledger(
        "--config", str(month.config), "--from", FIRST.isoformat(), "--to", LAST.isoformat()
    )
    assert code == 0, err
    assert "thresholds recorded for 3 of 30 days" in err
    table = by_key(csv_rows(out))

    def thresholds(row: dict[str, str]) -> tuple[Thresholds, str]:
        values = Thresholds(
            limit=float(row["limit"]),
            warn_at=float(row["warn_at"]),
            critical_at=float(row["critical_at"]),
            min_answered=int(row["min_answered"]),
        )
        return values, row["thresholds_source"]

    august_15 = date(2025, 8, 15)
    assert thresholds(table["SALES1", august_15]) == (AUGUST_15, "recorded")
    assert thresholds(table[GROUP, august_15]) == (GROUP_AUGUST_15, "recorded")
    assert thresholds(table["SALES2", august_15]) == (CONFIG_THRESHOLDS, "config")
    assert thresholds(table["SALES1", august_15 + timedelta(days=1)]) == (
        CONFIG_THRESHOLDS, "config"
    )  # fmt: skip
    assert thresholds(table["SALES1", date(2025, 8, 19)]) == (CONFIG_THRESHOLDS, "recorded")

    for (target, day), row in table.items():
        assert row["alerts"] == EXPECTED_ALERTS.get((target, day), ""), (target, day)
        assert row["auto_pauses"] == EXPECTED_PAUSES.get((target, day), ""), (target, day)
        recorded_clock = {
            august_15: "America/New_York",
            date(2025, 8, 19): "UTC-04:00",
            date(2025, 8, 20): "UTC-04:00",
        }.get(day)
        if recorded_clock is None:
            assert (row["dialer_clock"], row["clock_source"]) == ("UTC-05:00", "config")
        else:
            assert (row["dialer_clock"], row["clock_source"]) == (recorded_clock, "recorded")


async def test_the_json_ledger_holds_the_same_rows_as_numbers_and_nulls(month: Month) -> None:
    args = ("--config", str(month.config), "--from", FIRST.isoformat(), "--to", LAST.isoformat())
    code, csv_out, err = await ledger(*args)
    assert code == 0, err
    code, json_out, err = await ledger(*args, "--format", "json")
    assert code == 0, err
    documents = json.loads(json_out)
    assert isinstance(documents, list)
    assert all(list(document) == list(COLUMNS) for document in documents)

    def as_csv(value: Any) -> str:
        if value is None:
            return ""
        return repr(value) if isinstance(value, float) else str(value)

    assert [{k: as_csv(v) for k, v in d.items()} for d in documents] == csv_rows(csv_out)

    table = by_key(documents)
    row = table["SALES1", LAST]
    calls, answered, dropped = month.truth["SALES1", LAST]
    assert (row["calls"], row["answered"], row["dropped"]) == (calls, answered, dropped)
    assert row["ratio"] == dropped / answered
    assert isinstance(row["ratio"], float)
    assert 0 < row["ratio_30d"] < 1
    assert row["days_30d"] == 30
    assert row["limit"] == 0.03
    assert row["min_answered"] == 50
    hole = table[DELETED]
    assert (hole["calls"], hole["answered"], hole["dropped"], hole["ratio"]) == (None,) * 4
    assert hole["days_30d"] == 16
    before = table["SALES3", FIRST]
    assert (before["period_start"], before["ratio_period"], before["days_period"]) == (None,) * 3


async def test_campaign_selects_campaigns_and_groups(month: Month) -> None:
    code, out, err = await ledger(
        "--config", str(month.config), "--from", "2025-08-19", "--to", "2025-08-21",
        "--campaign", GROUP, "--campaign", "SALES2",
    )  # fmt: skip
    assert code == 0, err
    rows = csv_rows(out)
    assert [(r["day"], r["campaign"]) for r in rows] == [
        (day, target)
        for day in ("2025-08-19", "2025-08-20", "2025-08-21")
        for target in ("SALES2", GROUP)
    ]
    assert by_key(rows)[GROUP, date(2025, 8, 20)]["calls"] == ""


# -- beside the daemon --------------------------------------------------------------------------


async def test_it_reads_while_a_writer_holds_the_state_file(month: Month) -> None:
    """The daemon's connection is open and in the middle of a write transaction: the ledger
    reads the committed days without waiting and writes nothing."""
    writer = sqlite3.connect(month.state, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO day_totals (campaign_id, day, calls, answered, dropped, fetched_at)"
            " VALUES ('SALES1', ?, 10, 5, 1, 'now')",
            (TODAY.isoformat(),),
        )
        assert wal(month.state).exists()
        args = ("--config", str(month.config), "--from", "2025-09-01", "--to", TODAY.isoformat())
        code, out, err = await ledger(*args)
        assert code == 0, err
        rows = csv_rows(out)
        assert {r["day"] for r in rows} == {"2025-09-01", "2025-09-02"}, "uncommitted: not read"
        writer.execute("COMMIT")
        code, out, err = await ledger(*args)
        assert code == 0, err
        today = [r for r in csv_rows(out) if r["day"] == TODAY.isoformat()]
        assert [(r["campaign"], r["calls"]) for r in today] == [
            ("SALES1", "10"), ("SALES2", ""), ("SALES3", ""), (GROUP, "")
        ]  # fmt: skip
    finally:
        writer.close()


async def test_it_reads_while_the_daemon_runs_and_after_it_stopped(tmp_path: Path) -> None:
    """A real ``wallboard run`` on the month's state file. Its dialer day comes from the wall
    clock (the simulator's clock is frozen in 2025), so it backfills days of its own, after the
    month, while the ledger reads: the month reads the same before, during and after, and the
    days the daemon writes show up while it runs."""
    filled = await fill_month(tmp_path)
    args = ("--config", str(filled.config), "--from", FIRST.isoformat(), "--to", LAST.isoformat())
    code, before, err = await ledger(*args)
    assert code == 0, err
    assert not wal(filled.state).exists(), "read as immutable: no side files"

    async with running_simulator(seed=7) as sim:
        text = filled.config.read_text().replace("http://127.0.0.1:9", sim.base_url)
        filled.config.write_text(text + '\n[web]\nlisten = "127.0.0.1:0"\n')
        process, url = await start_run(filled.config)
        try:
            async with aiohttp.ClientSession() as session:
                await eventually(
                    lambda: answers(session, url + "/readyz"), within=30, what="daemon ready"
                )
            assert wal(filled.state).exists(), "the daemon holds the state file open"
            await eventually(
                lambda: newest_day(filled.state) > LAST, within=30, what="the daemon stores a day"
            )
            code, during, err = await ledger(*args)
            assert code == 0, err
            written = newest_day(filled.state).isoformat()
            code, live, err = await ledger(
                "--config", str(filled.config), "--from", written, "--to", written
            )
            assert code == 0, err
            assert [(r["day"], r["campaign"]) for r in csv_rows(live)] == [
                (written, target) for target in TARGETS
            ]
            assert all(r["calls"] != "" for r in csv_rows(live)[:3]), "the daemon's day is read"
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    assert process.returncode == 0
    code, after, err = await ledger(*args)
    assert code == 0, err

    # The daemon may fix period anchors or record settings of its own; the stored figures
    # are the same whether it runs beside the ledger or not.
    def figures(text: str) -> dict[tuple[str, date], tuple[str, ...]]:
        names = ("calls", "answered", "dropped", "ratio", "ratio_30d", "days_30d")
        return {key: tuple(row[n] for n in names) for key, row in by_key(csv_rows(text)).items()}

    assert len(figures(before)) == 30 * len(TARGETS)
    assert figures(during) == figures(before)
    assert figures(after) == figures(before)


# -- Redis ---------------------------------------------------------------------------------------


async def test_redis_backend_gives_the_same_ledger(
    month: Month, redis_server: RedisServer, tmp_path: Path
) -> None:
    prefix = "wb-ledger"
    sqlite_history = SqliteHistoryStore(month.state)
    history = RedisHistoryStore(connect_redis(redis_server.url), prefix)
    alerts = RedisAlertStore(connect_redis(redis_server.url), prefix)
    try:
        await history.put(await sqlite_history.get(CAMPAIGNS, FIRST, LAST))
        await record_evidence(history, alerts)
    finally:
        await sqlite_history.close()
        await history.close()
        await alerts.close()
    redis_dir = tmp_path / "redis-config"
    redis_dir.mkdir()
    config = write_config(
        redis_dir,
        extra=f'[cache]\nbackend = "redis"\nredis_url = "{redis_server.url}"\n'
        f'key_prefix = "{prefix}"\n',
    )
    for output_format in ("csv", "json"):
        args = ("--from", FIRST.isoformat(), "--to", LAST.isoformat(), "--format", output_format)
        code, from_sqlite, err = await ledger("--config", str(month.config), *args)
        assert code == 0, err
        code, from_redis, err = await ledger("--config", str(config), *args)
        assert code == 0, err
        assert from_redis == from_sqlite
    assert not (redis_dir / "state.db").exists()

    redis_server.kill()
    code, _out, err = await ledger("--config", str(config), "--from", "2025-08-01", "--to",
                                  "2025-08-02", limit=30)  # fmt: skip
    assert code == 1, err
    assert "cannot read the durable store" in err
    assert "Traceback" not in err


# -- exit codes ----------------------------------------------------------------------------------


async def test_bad_usage_exits_2_and_an_unreadable_store_exits_1(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    base = ("--config", str(config))
    code, _, err = await ledger(*base, "--from", "2025-08-05", "--to", "2025-08-04")
    assert code == 2
    assert "--from 2025-08-05 is after --to 2025-08-04" in err
    code, _, err = await ledger(*base, "--from", "2025-8-5", "--to", "2025-08-04")
    assert code == 2
    assert "'2025-8-5' is not a date (YYYY-MM-DD)" in err
    code, _, err = await ledger(*base, "--from", "2025-08-01", "--to", "2025-08-04", "--format",
                                "xml")  # fmt: skip
    assert code == 2
    code, _, err = await ledger(*base, "--from", "2025-08-01")
    assert code == 2
    assert "--to" in err

    # no state file yet: nothing to audit, said plainly, and nothing created
    code, out, err = await ledger(*base, "--from", "2025-08-01", "--to", "2025-08-04")
    assert code == 1
    assert out == ""
    assert f"state file {tmp_path / 'state.db'} does not exist" in err
    assert not (tmp_path / "state.db").exists()

    (tmp_path / "state.db").write_bytes(b"this is not a database, it is a shopping list\n" * 50)
    code, _, err = await ledger(*base, "--from", "2025-08-01", "--to", "2025-08-04")
    assert code == 1
    assert "cannot read the durable store" in err
    assert "Traceback" not in err

    bad = write_config(tmp_path, extra='[alerts]\nlimit = "lots"\n')
    code, _, err = await ledger("--config", str(bad), "--from", "2025-08-01", "--to", "2025-08-04")
    assert code == 2
    assert "alerts.limit" in err
    assert "Traceback" not in err


async def test_unknown_campaign_or_group_exits_2(month: Month) -> None:
    base = ("--config", str(month.config), "--from", "2025-08-01", "--to", "2025-08-04")
    code, out, err = await ledger(*base, "--campaign", "NOSUCH")
    assert code == 2
    assert out == ""
    assert "NOSUCH: not in the config's campaigns" in err
    code, out, err = await ledger(*base, "--campaign", "group:nosuch")
    assert code == 2
    assert "group:nosuch: no such drop group (group:outbound)" in err
    code, out, err = await ledger(*base, "--from", "2024-01-01", "--to", "2024-01-31")
    assert code == 0
    assert csv_rows(out) == []
    assert "no stored day" in err


# -- day records -------------------------------------------------------------------------------


class Clockwork:
    """A settable clock for the history store's ``updated_at``."""

    def __init__(self) -> None:
        self.now = datetime(2025, 8, 15, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def updated_at(path: Path, key: str) -> str | None:
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT updated_at FROM kv WHERE key = ?", (key,)).fetchone()
    connection.close()
    return None if row is None else str(row[0])


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[SqliteHistoryStore, Clockwork, Path]]:
    clock = Clockwork()
    path = tmp_path / "h.db"
    history = SqliteHistoryStore(path, clock=clock)
    try:
        yield history, clock, path
    finally:
        await history.close()


async def test_day_settings_are_written_only_when_they_change(
    store: tuple[SqliteHistoryStore, Clockwork, Path],
) -> None:
    history, clock, path = store
    day = date(2025, 8, 15)
    key = f"{DAY_SETTINGS_PREFIX}2025-08-15"
    assert key == "day-settings:2025-08-15"
    assert await read_day_settings(history, day) is None

    thresholds = {"SALES1": AUGUST_15, GROUP: GROUP_AUGUST_15}
    await record_day_settings(
        history, day, thresholds, utc_offset_hours=-4, timezone="America/New_York"
    )
    first_write = updated_at(path, key)
    assert first_write is not None

    clock.now += timedelta(minutes=1)
    await record_day_settings(
        history, day, dict(reversed(thresholds.items())), utc_offset_hours=-4.0,
        timezone="America/New_York",
    )  # fmt: skip
    assert updated_at(path, key) == first_write, "same content: not rewritten"

    clock.now += timedelta(minutes=1)
    await record_day_settings(
        history, day, {"SALES1": AUGUST_15}, utc_offset_hours=-4, timezone="America/New_York"
    )
    assert updated_at(path, key) != first_write, "a target fewer: rewritten"
    recorded = await read_day_settings(history, day)
    assert recorded == DaySettings({"SALES1": AUGUST_15}, "America/New_York", -4.0)
    assert recorded.tzinfo() == ZoneInfo("America/New_York")
    assert recorded.clock_label() == "America/New_York"
    assert await read_day_settings(history, day + timedelta(days=1)) is None


async def test_an_unreadable_day_record_reads_as_none_and_is_replaced(
    store: tuple[SqliteHistoryStore, Clockwork, Path],
) -> None:
    history, _, _ = store
    day = date(2025, 8, 16)
    await history.set_value(f"{DAY_SETTINGS_PREFIX}{day}", b'{"version": 99}')
    assert await read_day_settings(history, day) is None
    await record_day_settings(history, day, {}, utc_offset_hours=None, timezone="")
    recorded = await read_day_settings(history, day)
    assert recorded == DaySettings({}, "", None)
    assert recorded.tzinfo() is None
    assert recorded.clock_label() is None


# -- pure pieces -------------------------------------------------------------------------------


def fixed(hours: int, source: str = "recorded") -> Clock:
    zone = timezone(timedelta(hours=hours))
    return Clock(zone, f"UTC{hours:+03d}:00", source)


def clocks(table: dict[date, Clock], fallback: Clock) -> Callable[[date], Clock]:
    return lambda day: table.get(day, fallback)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # America/New_York leaves DST at 02:00 on 2025-11-02: the day is 25 hours long
        (datetime(2025, 11, 2, 3, 59, tzinfo=UTC), date(2025, 11, 1)),  # 23:59 EDT
        (datetime(2025, 11, 2, 4, 0, tzinfo=UTC), date(2025, 11, 2)),  # 00:00 EDT
        (datetime(2025, 11, 3, 4, 59, tzinfo=UTC), date(2025, 11, 2)),  # 23:59 EST
        (datetime(2025, 11, 3, 5, 0, tzinfo=UTC), date(2025, 11, 3)),  # 00:00 EST
    ],
)
def test_a_dialer_day_follows_the_zone_across_dst(instant: datetime, expected: date) -> None:
    zone = Clock(ZoneInfo("America/New_York"), "America/New_York", "config")
    assert dialer_day(instant, clocks({}, zone)) == expected


def test_each_day_is_judged_by_its_own_recorded_clock() -> None:
    at = datetime(2025, 8, 20, 4, 30, tzinfo=UTC)
    recorded = {day: fixed(-4) for day in (date(2025, 8, 19), date(2025, 8, 20))}
    config = fixed(-5, "config")
    assert dialer_day(at, clocks(recorded, config)) == date(2025, 8, 20)  # 00:30 at UTC-4
    assert dialer_day(at, clocks({}, config)) == date(2025, 8, 19)  # 23:30 at UTC-5


def test_a_group_day_needs_every_member() -> None:
    one, two = date(2025, 8, 1), date(2025, 8, 2)
    sales1 = {one: DropWindow(100, 40, 1), two: DropWindow(90, 30, 2)}
    sales2 = {two: DropWindow(10, 5, 1)}
    assert pooled_days([sales1, sales2]) == {two: DropWindow(100, 35, 3, days=1)}
    assert pooled_days([]) == {}


def test_a_recorded_clock_beats_the_fallback_where_both_claim_an_instant() -> None:
    # 23:30 on the 19th by the fallback's UTC-5 and 00:30 on the 20th by the UTC-4 recorded
    # for the 20th: the recorded clock wins; with both recorded, the earlier day does.
    at = datetime(2025, 8, 20, 4, 30, tzinfo=UTC)
    config = fixed(-5, "config")
    assert dialer_day(at, clocks({date(2025, 8, 20): fixed(-4)}, config)) == date(2025, 8, 20)
    both = {date(2025, 8, 19): fixed(-5), date(2025, 8, 20): fixed(-4)}
    assert dialer_day(at, clocks(both, fixed(0, "config"))) == date(2025, 8, 19)


def test_anchors_come_from_the_config_then_the_daemon_then_the_data() -> None:
    quiet, busy = date(2025, 8, 1), date(2025, 8, 2)
    stored = {quiet: DropWindow(0, 0, 0), busy: DropWindow(10, 4, 0)}
    configured, fixed = date(2025, 7, 1), date(2025, 7, 15)
    assert resolve_anchor(configured, fixed, stored) == Anchor(configured, "config")
    assert resolve_anchor(None, fixed, stored) == Anchor(fixed, "recorded")
    assert resolve_anchor(None, None, stored) == Anchor(busy, "derived"), (
        "a day of zeros is not a start"
    )
    assert resolve_anchor(None, None, {quiet: DropWindow(0, 0, 0)}) is None
    members = [Anchor(busy, "derived"), None, Anchor(fixed, "recorded")]
    assert group_anchor(None, members) == Anchor(fixed, "recorded")
    assert group_anchor(configured, members) == Anchor(configured, "config")
    assert group_anchor(None, [None]) is None
