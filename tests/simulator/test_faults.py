"""Injected faults: the queue's rules, and every kind as a client really sees it over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import time
import tracemalloc
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.sim import DEFAULT_START, SimHandle, running_simulator
from tests.support.waiting import eventually
from wallboard.simulator.faults import (
    ENDLESS_CHUNK_BYTES,
    FaultKind,
    FaultQueue,
    FaultRequestError,
    FaultSpec,
    endless_chunks,
    garbage_body,
    parse_fault,
    truncate,
    truncate_rows,
    without_final_newline,
)
from wallboard.simulator.server import SimulatorOptions, start_simulator


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator() as handle:
        yield handle


# ------------------------------------------------------------------ pure rules
def test_parse_fault_defaults_and_validation() -> None:
    assert parse_fault({"kind": "reset"}) == FaultSpec("*", FaultKind.RESET, 1, None)
    assert parse_fault({"function": "hopper_list", "kind": "slow", "times": 3, "seconds": 0.5}) == (
        FaultSpec("hopper_list", FaultKind.SLOW, 3, 0.5)
    )
    bad_bodies: list[object] = [
        [],
        {"kind": "explode"},
        {"kind": "reset", "times": 0},
        {"kind": "reset", "times": True},
        {"kind": "slow", "seconds": -1},
        {"kind": "reset", "function": ""},
        {"kind": "reset", "when": "now"},
    ]
    for bad in bad_bodies:
        with pytest.raises(FaultRequestError):
            parse_fault(bad)


def test_queue_consumes_in_order_per_match() -> None:
    queue = FaultQueue()
    queue.add(FaultSpec("hopper_list", FaultKind.HTML, 2))
    queue.add(FaultSpec("*", FaultKind.RESET, 1))
    queue.add(FaultSpec("hopper_list", FaultKind.GARBAGE, 1))
    assert queue.take("campaigns_list") == FaultSpec("*", FaultKind.RESET, 1)
    assert queue.take("campaigns_list") is None
    kinds = [queue.take("hopper_list") for _ in range(4)]
    assert [k.kind if k else None for k in kinds] == [
        FaultKind.HTML,
        FaultKind.HTML,
        FaultKind.GARBAGE,
        None,
    ]
    queue.add(FaultSpec("*", FaultKind.ERROR, 5))
    assert queue.pending() == [{"function": "*", "kind": "error", "remaining": 5}]
    queue.clear()
    assert queue.take("anything") is None


def test_truncate_cuts_mid_line_and_garbage_is_seeded() -> None:
    full = b"SALES1|2|1|x|\nSALES2|3|1|y|\n"
    cut = truncate(full)
    assert full.startswith(cut)
    assert 0 < len(cut) < len(full)
    assert not cut.endswith(b"\n")
    assert truncate(b"a\nb\n") == b"a"
    assert garbage_body(1, 1) == garbage_body(1, 1)
    assert garbage_body(1, 1) != garbage_body(1, 2)
    assert garbage_body(1, 1) != garbage_body(2, 1)


def test_truncate_rows_keeps_whole_lines_and_the_final_newline() -> None:
    header, one, two, three = b"h|x\n", b"A|1\n", b"B|2\n", b"C|3\n"
    assert truncate_rows(header + one) == header  # a one-row answer: the header alone
    assert truncate_rows(header + one + two) == header + one
    assert truncate_rows(header + one + two + three) == header + one
    assert truncate_rows(one + two + three + header) == one + two
    assert truncate_rows(b"ERROR: x\n") == b""  # one line: nothing left
    for full in (header + one, header + one + two + three, b"a\r\nb\r\nc\r\n"):
        cut = truncate_rows(full)
        assert full.startswith(cut)
        assert len(cut) < len(full)
        assert cut.endswith(b"\n")


def test_without_final_newline() -> None:
    assert without_final_newline(b"a|1\nb|2\n") == b"a|1\nb|2"
    assert without_final_newline(b"a|1\r\n") == b"a|1"
    assert without_final_newline(b"a|1") == b"a|1"


def test_endless_chunks_repeat_the_rows_after_the_whole_body() -> None:
    full = b"h|x\nA|1\nB|2\n"
    chunks = endless_chunks(full)
    assert next(chunks) == full
    again = next(chunks)
    assert again == b"A|1\nB|2\n" * (ENDLESS_CHUNK_BYTES // 8)
    assert next(chunks) == again
    single = endless_chunks(b"ERROR: x\n")
    assert next(single) == b"ERROR: x\n"
    assert next(single).startswith(b"ERROR: x\nERROR: x\n")
    assert list(itertools.islice(endless_chunks(b""), 2)) == [b"", b"\n" * ENDLESS_CHUNK_BYTES]


# ------------------------------------------------------------------ over HTTP
async def test_timeout_holds_until_the_client_gives_up_without_blocking_others(
    sim: SimHandle,
) -> None:
    await sim.add_fault("hopper_list", "timeout")
    params = {"function": "hopper_list", "user": sim.user, "pass": sim.password}
    params |= {"source": "test", "campaign_id": "SALES1"}
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        async with sim.session.get(
            sim.api_url, params=params, timeout=aiohttp.ClientTimeout(total=0.3)
        ) as response:
            await response.read()
    assert time.monotonic() - started < 5
    assert (await sim.call("hopper_list", campaign_id="SALES1")).startswith("0|")


async def test_held_request_does_not_block_others_and_ends_at_shutdown() -> None:
    options = SimulatorOptions(speed=0, start=DEFAULT_START)
    simulator = await start_simulator(options)
    async with aiohttp.ClientSession() as session:
        control = f"{simulator.base_url}/_sim"
        async with session.post(f"{control}/faults", json={"kind": "timeout"}) as r:
            assert r.status == 201
        held = asyncio.ensure_future(session.get(simulator.api_url, params={"function": "x"}))

        async def server_holds_it() -> bool:
            async with session.get(f"{control}/requests") as r:
                return bool((await r.json())["total"] == 1)

        await eventually(server_holds_it, within=5, what="the server holds the request")
        async with session.get(simulator.api_url, params={"function": "version"}) as r:
            assert (await r.text()).startswith("VERSION: ")
        started = time.monotonic()
        await simulator.close()
        assert time.monotonic() - started < 3
        with pytest.raises(aiohttp.ClientError):
            await held


async def test_reset_closes_the_connection(sim: SimHandle) -> None:
    # aiohttp resends an idempotent request once after a dropped connection, so one reset is
    # invisible to a GET; two make the client fail.
    await sim.add_fault("*", "reset", times=1)
    assert (await sim.call("campaigns_list")).startswith("SALES1|")
    assert (await sim.requests())["total"] == 2
    await sim.add_fault("*", "reset", times=3)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await sim.call("campaigns_list")  # first try and its resend
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await sim.call("campaigns_list", method="POST")  # POST is never resent
    assert (await sim.call("campaigns_list")).startswith("SALES1|")


async def test_slow_answers_correctly_after_the_delay(sim: SimHandle) -> None:
    expected = await sim.call("campaigns_list")
    await sim.add_fault("campaigns_list", "slow", seconds=0.3)
    started = time.monotonic()
    assert await sim.call("campaigns_list") == expected
    assert time.monotonic() - started >= 0.3


async def test_slow_default_is_the_server_option() -> None:
    async with running_simulator(slow_seconds=0.2) as sim:
        await sim.add_fault("version", "slow")
        started = time.monotonic()
        assert (await sim.call("version")).startswith("VERSION: ")
        assert time.monotonic() - started >= 0.2


async def test_html_is_a_proxy_502_page(sim: SimHandle) -> None:
    await sim.add_fault("logged_in_agents", "html")
    answer = await sim.raw("logged_in_agents")
    assert answer.status == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in answer.text()
    assert "nginx" in answer.text()


async def test_http_500_is_a_php_fatal_error(sim: SimHandle) -> None:
    await sim.add_fault("*", "http_500")
    answer = await sim.raw("call_status_stats", campaigns="SALES1")
    assert answer.status == 500
    assert "<b>Fatal error</b>" in answer.text()


async def test_garbage_is_random_bytes_the_same_for_the_same_seed() -> None:
    bodies = []
    for _ in range(2):
        async with running_simulator(seed=5) as sim:
            await sim.add_fault("*", "garbage", times=2)
            first, second = await sim.raw("version"), await sim.raw("version")
            assert (first.status, second.status) == (200, 200)
            assert first.body != second.body
            bodies.append((first.body, second.body))
    assert bodies[0] == bodies[1]
    assert not bodies[0][0].startswith(b"VERSION")


async def test_truncated_is_a_cut_prefix_of_the_real_body(sim: SimHandle) -> None:
    await sim.add_fault("logged_in_agents", "truncated")
    cut = await sim.raw("logged_in_agents", stage="csv")
    real = await sim.raw("logged_in_agents", stage="csv")
    assert cut.status == 200
    assert len(cut.body) < len(real.body)
    assert real.body.startswith(cut.body)
    assert not cut.body.endswith(b"\n")


async def test_truncated_row_is_the_real_body_cut_after_a_whole_line(sim: SimHandle) -> None:
    real = await sim.raw("campaigns_list", stage="csv", header="YES")
    await sim.add_fault("campaigns_list", "truncated_row")
    cut = await sim.raw("campaigns_list", stage="csv", header="YES")
    assert cut.status == 200
    assert real.body.startswith(cut.body)
    assert cut.body.endswith(b"\n")
    real_lines = real.body.splitlines()
    assert cut.body.splitlines() == real_lines[: (len(real_lines) + 1) // 2]
    assert 1 < len(cut.body.splitlines()) < len(real_lines)


async def test_truncated_row_leaves_a_one_row_answer_its_header(sim: SimHandle) -> None:
    await sim.add_fault("user_group_status", "truncated_row")
    cut = await sim.call("user_group_status", user_groups="AGENTS", header="YES")
    assert cut == "usergroups|calls_waiting|agents_logged_in|agents_in_calls|agents_waiting|" + (
        "agents_paused|agents_in_dead_calls|agents_in_dispo|agents_in_dial\n"
    )


async def test_no_newline_is_the_real_body_without_its_last_newline(sim: SimHandle) -> None:
    real = await sim.raw("call_status_stats", campaigns="SALES1-SALES2")
    await sim.add_fault("*", "no_newline", times=2)
    cut = await sim.raw("call_status_stats", campaigns="SALES1-SALES2")
    assert real.body.endswith(b"|\n")
    assert cut.body == real.body[:-1]
    assert await sim.call("hopper_list", campaign_id="NOSUCH") == (
        "ERROR: hopper_list THIS CAMPAIGN DOES NOT EXIST: |wallboard|NOSUCH"
    )


async def test_lock_is_the_real_lock_out_text(sim: SimHandle) -> None:
    await sim.add_fault("logged_in_agents", "lock")
    assert await sim.call("logged_in_agents") == (
        "ERROR: Too many login attempts, try again in 15 minutes: |wallboard|LOCK|\n"
    )
    # An injected lock is not the real one: the next request logs in.
    assert (await sim.call("logged_in_agents")).startswith("1")


async def stream(sim: SimHandle, function: str, **params: str) -> aiohttp.ClientResponse:
    query = {"source": "test", "user": sim.user, "pass": sim.password, "function": function}
    return await sim.session.get(sim.api_url, params=query | params)


async def test_endless_streams_plausible_rows_without_buffering(sim: SimHandle) -> None:
    real = await sim.call("logged_in_agents", header="YES")
    await sim.add_fault("logged_in_agents", "endless")
    wanted = 20 * 1024 * 1024
    tracemalloc.start()
    try:
        response = await stream(sim, "logged_in_agents", header="YES")
        assert response.status == 200
        assert response.content_length is None  # chunked: nothing announced
        received = 0
        head = b""
        async for chunk in response.content.iter_chunked(64 * 1024):
            if len(head) < len(real) + 4096:
                head += chunk
            received += len(chunk)
            if received >= wanted:
                break
        response.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The real answer first, then its rows again and again.
    text = head.decode()
    assert text.startswith(real)
    rows = real.splitlines(keepends=True)[1:]
    assert text[len(real) :].startswith("".join(rows))
    # Simulator and client share this process: 20 MB went through, a few chunks were held.
    assert peak < 4 * 1024 * 1024, peak
    # The simulator noticed the hang-up and serves the next request normally.
    assert (await sim.call("logged_in_agents", header="YES")).startswith("user|")


async def test_endless_ends_when_the_simulator_stops() -> None:
    simulator = await start_simulator(SimulatorOptions(speed=0, start=DEFAULT_START))
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{simulator.base_url}/_sim/faults", json={"kind": "endless"}) as r:
            assert r.status == 201
        response = await session.get(simulator.api_url, params={"function": "version"})
        assert (await response.content.readexactly(9)) == b"VERSION: "
        closing = asyncio.ensure_future(simulator.close())

        async def drain() -> None:
            async for _ in response.content.iter_chunked(64 * 1024):
                pass

        started = time.monotonic()
        with pytest.raises(aiohttp.ClientPayloadError):
            await asyncio.wait_for(drain(), timeout=10)
        await asyncio.wait_for(closing, timeout=10)
        assert time.monotonic() - started < 5
        response.close()


async def test_error_is_the_functions_own_error_text(sim: SimHandle) -> None:
    await sim.add_fault("*", "error", times=2)
    assert await sim.call("hopper_list", campaign_id="SALES1") == (
        "ERROR: hopper_list USER DOES NOT HAVE PERMISSION TO GET CAMPAIGN INFO: |wallboard|0|\n"
    )
    assert await sim.call("campaign_stats") == "ERROR: NO FUNCTION SPECIFIED\n"


async def test_login_fault_echoes_the_password(sim: SimHandle) -> None:
    await sim.add_fault("campaigns_list", "login")
    assert await sim.call("campaigns_list") == (
        "ERROR: Login incorrect, please try again: |wallboard|wallboard-demo-pass|BAD|\n"
    )
    assert (await sim.call("campaigns_list")).startswith("SALES1|")


async def test_times_are_consumed_then_answers_are_normal(sim: SimHandle) -> None:
    await sim.add_fault("hopper_list", "html", times=2)
    statuses = [(await sim.raw("hopper_list", campaign_id="SALES1")).status for _ in range(3)]
    assert statuses == [502, 502, 200]


async def test_function_filter_versus_star(sim: SimHandle) -> None:
    await sim.add_fault("hopper_list", "http_500")
    assert (await sim.raw("campaigns_list")).status == 200
    assert (await sim.raw("hopper_list", campaign_id="SALES1")).status == 500
    await sim.add_fault("*", "http_500")
    assert (await sim.raw("campaigns_list")).status == 500
    assert (await sim.raw("hopper_list", campaign_id="SALES1")).status == 200


async def test_clear_and_bad_fault_requests(sim: SimHandle) -> None:
    await sim.add_fault("*", "html", times=5)
    await sim.clear_faults()
    assert (await sim.raw("version")).status == 200
    async with sim.session.post(
        f"{sim.base_url}/_sim/faults", json={"function": "*", "kind": "meltdown", "times": 1}
    ) as response:
        assert response.status == 400
        assert "meltdown" in (await response.json())["error"]
    async with sim.session.post(f"{sim.base_url}/_sim/faults", data=b"{not json") as response:
        assert response.status == 400
    log = await sim.requests()
    assert log["total"] == 1
