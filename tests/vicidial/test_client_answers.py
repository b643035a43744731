"""The client over real HTTP: cut answers rejected, reads bounded, big parses off the loop,
login refusals classified by cause. Against the simulator unless a test needs an answer no
dialer model produces (20 MB of agents), which a plain local server then serves.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.support.serving import serving
from tests.support.sim import SimHandle, running_simulator
from wallboard.vicidial.client import DEFAULT_MAX_RESPONSE_BYTES, VicidialClient
from wallboard.vicidial.errors import (
    IncompleteAnswer,
    LoginCause,
    LoginError,
    ParseError,
    ResponseTooLarge,
    VicidialError,
)
from wallboard.vicidial.parsers import parse_logged_in_agents


class NoSleep:
    async def __call__(self, seconds: float) -> None:
        return None


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator(seed=11) as handle:
        yield handle


Outcomes = list[tuple[str, str]]

#: The metronome's period in the event-loop stall test.
TICK_SECONDS = 0.05


def make_client(
    url: str,
    session: aiohttp.ClientSession,
    *,
    user: str = "wallboard",
    password: str = "wallboard-demo-pass",
    retries: int = 2,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    outcomes: Outcomes | None = None,
) -> VicidialClient:
    def observe(function: str, outcome: str, seconds: float) -> None:
        if outcomes is not None:
            outcomes.append((function, outcome))

    return VicidialClient(
        session,
        url=url,
        user=user,
        password=password,
        timeout=5.0,
        retries=retries,
        max_response_bytes=max_response_bytes,
        observer=observe,
        sleep=NoSleep(),
        rng=random.Random(1),
    )


def sim_client(sim: SimHandle, session: aiohttp.ClientSession, **options: Any) -> VicidialClient:
    options.setdefault("user", sim.user)
    options.setdefault("password", sim.password)
    return make_client(sim.base_url, session, **options)


async def requests_for(sim: SimHandle, function: str) -> int:
    return int((await sim.requests())["by_function"].get(function, 0))


# ------------------------------------------------------------------ cut answers

CAMPAIGNS = ["SALES1", "SALES2", "SALES3", "SALES4"]

Fetch = Callable[[VicidialClient], Awaitable[object]]
FETCHES: dict[str, Fetch] = {
    "logged_in_agents": lambda client: client.fetch_agents(),
    "call_status_stats": lambda client: client.fetch_call_stats(CAMPAIGNS),
    "campaigns_list": lambda client: client.fetch_campaigns(CAMPAIGNS),
    "hopper_list": lambda client: client.fetch_hopper("SALES1"),
    "in_group_status": lambda client: client.fetch_ingroups(["SUPPORT"]),
    "user_group_status": lambda client: client.fetch_user_groups(["AGENTS"]),
    "agent_status": lambda client: client.fetch_agent_status("1001"),
    "version": lambda client: client.version(),
}


@pytest.mark.parametrize("kind", ["truncated", "no_newline"])
@pytest.mark.parametrize("function", sorted(FETCHES))
async def test_a_cut_answer_is_a_parse_error_for_every_function(
    sim: SimHandle, session: aiohttp.ClientSession, function: str, kind: str
) -> None:
    client = sim_client(sim, session)
    await FETCHES[function](client)  # whole, it parses
    await sim.add_fault(function, kind)
    with pytest.raises(ParseError) as caught:
        await FETCHES[function](client)
    assert caught.value.kind == "parse"
    assert caught.value.function == function
    assert caught.value.line is not None
    if kind == "no_newline":
        assert "answer cut off: no final newline" in str(caught.value)
    # not retried: the same request would be cut the same way or not, but costs the dialer
    assert await requests_for(sim, function) == 2


@pytest.mark.parametrize(
    "function",
    ["call_status_stats", "campaigns_list", "in_group_status", "user_group_status", "agent_status"],
)
async def test_a_cut_at_a_row_boundary_is_rejected_where_the_format_shows_it(
    sim: SimHandle, session: aiohttp.ClientSession, function: str
) -> None:
    client = sim_client(sim, session)
    await sim.add_fault(function, "truncated_row")
    with pytest.raises(ParseError) as caught:
        await FETCHES[function](client)
    assert caught.value.function == function
    if function in ("call_status_stats", "campaigns_list"):
        assert isinstance(caught.value, IncompleteAnswer)
        # the campaigns after the cut are named, in the requested order
        missing = caught.value.missing
        assert missing == tuple(CAMPAIGNS[-len(missing) :])
        assert f"{', '.join(missing)} missing from the answer (cut off" in str(caught.value)


async def test_a_one_agent_floor_cut_to_its_header_is_rejected(
    session: aiohttp.ClientSession,
) -> None:
    async with running_simulator(agents=1, campaigns=1) as sim:
        client = sim_client(sim, session)
        assert len(await client.fetch_agents()) == 1
        await sim.add_fault("logged_in_agents", "truncated_row")
        with pytest.raises(ParseError, match="no data line under it"):
            await client.fetch_agents()


async def test_a_campaign_the_dialer_does_not_list_reads_as_such(
    sim: SimHandle, session: aiohttp.ClientSession
) -> None:
    client = sim_client(sim, session)
    with pytest.raises(IncompleteAnswer) as caught:
        await client.fetch_campaigns(["SALES1", "GONE9"])
    assert str(caught.value) == (
        "campaigns_list: GONE9 missing from the answer (cut off, or not viewable by the API user)"
    )
    with pytest.raises(IncompleteAnswer, match="GONE9 missing"):
        await client.fetch_call_stats(["SALES1", "GONE9"])
    assert len(await client.fetch_campaigns()) == 4  # nothing expected, nothing checked


async def test_tabular_functions_are_asked_for_a_header(session: aiohttp.ClientSession) -> None:
    """``header=YES`` (and the pipe stage) wherever VICIdial prints one, nowhere else."""
    seen: dict[str, dict[str, str]] = {}
    answers = {
        "logged_in_agents": "user|campaign_id|session_id|status|lead_id|callerid|calls_today|"
        "full_name|user_group|user_level|pause_code|sub_status\n"
        "1001|S|8600051|READY|0||1|J|G|1|LOGIN|\n",
        "campaigns_list": "".join(f"{c}|Sales|Y|G|RATIO|1|DOWN|NEW\n" for c in CAMPAIGNS),
        "hopper_list": "0|0|1\n",
        "in_group_status": "G|0|0|0|0|0|0|0|0\n",
        "user_group_status": "G|0|0|0|0|0|0|0|0\n",
        "agent_status": "READY||0|S|1|J|G|1|||||8600051\n",
        "call_status_stats": "".join(f"{c}|0|0|||\n" for c in CAMPAIGNS),
        "version": "VERSION: 2|BUILD: 1|DATE: d|EPOCH: 1|\n",
    }

    async def handle(request: web.Request) -> web.Response:
        function = request.query["function"]
        seen[function] = dict(request.query)
        return web.Response(text=answers[function])

    app = web.Application()
    app.router.add_get("/vicidial/non_agent_api.php", handle)
    async with serving(app) as url:
        client = make_client(url, session)
        for fetch in FETCHES.values():
            await fetch(client)
    tabular = {"logged_in_agents", "campaigns_list", "hopper_list", "in_group_status"}
    tabular |= {"user_group_status", "agent_status"}
    assert set(seen) == set(FETCHES)
    for function, query in seen.items():
        if function in tabular:
            assert (query.get("header"), query.get("stage")) == ("YES", "pipe"), function
        else:
            assert "header" not in query, function
            assert "stage" not in query, function


# ------------------------------------------------------------------ bounded reads

CAP = 64 * 1024


async def test_an_endless_body_is_cut_at_the_cap_in_bounded_memory(
    sim: SimHandle, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outcomes: Outcomes = []
    client = sim_client(sim, session, max_response_bytes=CAP, outcomes=outcomes)
    await client.fetch_agents()  # about 5 KB: well under the cap
    await sim.add_fault("logged_in_agents", "endless", times=3)
    tracemalloc.start()
    try:
        started = time.monotonic()
        with pytest.raises(ResponseTooLarge) as caught:
            await client.fetch_agents()
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    error = caught.value
    assert (error.kind, error.function, error.limit) == ("too_large", "logged_in_agents", CAP)
    assert f"({CAP} bytes)" in str(error)
    assert "max_response_bytes" in str(error)
    # Never retried (the same endless body again), and abandoned at once, not at the timeout.
    assert await requests_for(sim, "logged_in_agents") == 2
    assert outcomes[-1] == ("logged_in_agents", "too_large")
    assert elapsed < 2.5
    # Held: the chunks up to the cap, and aiohttp's own read buffers; never the stream.
    assert peak < 8 * CAP, peak
    for text in (str(error), repr(error), caplog.text):
        assert sim.password not in text
        assert "pass=" not in text
    # The connection was closed, not left streaming; the next call is answered normally.
    await sim.clear_faults()
    assert len(await client.fetch_agents()) == len((await sim.state())["agents"])


async def test_an_announced_length_over_the_cap_is_refused_before_reading(
    sim: SimHandle, session: aiohttp.ClientSession
) -> None:
    whole = await sim.raw("logged_in_agents", stage="pipe", header="YES", show_sub_status="YES")
    assert int(whole.headers["Content-Length"]) > 1000
    client = sim_client(sim, session, max_response_bytes=1000)
    with pytest.raises(ResponseTooLarge, match="it announced") as caught:
        await client.fetch_agents()
    assert caught.value.limit == 1000
    assert await requests_for(sim, "logged_in_agents") == 2  # one by sim.raw, one by the client
    assert len(await client.fetch_campaigns()) == 4  # small answers still pass


def agents_body(rows: int) -> bytes:
    lines = [
        "user|campaign_id|session_id|status|lead_id|callerid|calls_today|full_name|user_group|"
        "user_level|pause_code|sub_status"
    ]
    lines += [
        f"{1000 + n}|SALES{n % 7}|{8_600_051 + n}|INCALL|{1_079_409 + n}|"
        f"V{903143713000 + n:012d}{1_079_409 + n:09d}|{n % 40}|Agent Name {n}|AGENTS|1|LOGIN|"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


async def test_a_20_mb_answer_does_not_block_the_event_loop(
    session: aiohttp.ClientSession,
) -> None:
    body = agents_body(220_000)
    assert len(body) > 20 * 1000 * 1000

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/vicidial/non_agent_api.php", handle)
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        # A metronome measuring how long the loop stalls, not a wait for a condition.
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async with serving(app) as url:
        client = make_client(url, session, max_response_bytes=32 * 1024 * 1024)
        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0)
        started = time.monotonic()
        agents = await client.fetch_agents()
        took = time.monotonic() - started
        done.set()
        await ticker
    assert len(agents) == 220_000
    assert agents[-1].user == "220999"
    # What a tick would wait had the decode and parse run on the loop (about 0.7 s here).
    started = time.monotonic()
    parse_logged_in_agents(body.decode())
    blocking = time.monotonic() - started
    assert max(gaps) < min(1.0, blocking / 2), (took, blocking, max(gaps))
    assert len(gaps) >= 3, (took, gaps)


# ------------------------------------------------------------------ login causes


async def test_login_causes_from_the_real_answers(
    sim: SimHandle, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = sim_client(sim, session)
    await sim.add_fault("logged_in_agents", "login")
    with pytest.raises(LoginError) as bad:
        await client.fetch_agents()
    await sim.add_fault("campaigns_list", "lock")
    with pytest.raises(LoginError) as locked:
        await client.fetch_campaigns()
    assert bad.value.cause is LoginCause.BAD_CREDENTIALS
    assert locked.value.cause is LoginCause.LOCKED
    assert "15 minutes after the last failure" in locked.value.fix
    assert "vicidial.user/vicidial.pass" in bad.value.fix
    for error in (bad.value, locked.value):
        assert error.kind == "login"
        for text in (str(error), repr(error), error.fix, caplog.text):
            assert sim.password not in text
    # one request each: a login refusal is never retried
    assert await requests_for(sim, "logged_in_agents") == 1
    assert await requests_for(sim, "campaigns_list") == 1


async def test_ten_wrong_passwords_lock_the_user_out_for_the_right_one_too(
    sim: SimHandle, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_pass = "Wrong-Secret-42"
    wrong = sim_client(sim, session, password=wrong_pass)
    right = sim_client(sim, session)
    errors: list[VicidialError] = []
    for _ in range(10):
        with pytest.raises(LoginError) as caught:
            await wrong.fetch_campaigns()
        assert caught.value.cause is LoginCause.BAD_CREDENTIALS
        errors.append(caught.value)
    for client in (wrong, right):
        with pytest.raises(LoginError) as caught:
            await client.fetch_agents()
        assert caught.value.cause is LoginCause.LOCKED
        assert str(caught.value) == (
            "too many failed logins for user 'wallboard': VICIdial locks it for 15 minutes"
        )
        errors.append(caught.value)
    await sim.advance(15 * 60)  # VICIdial forgets failures older than 15 minutes
    assert await right.fetch_agents()
    for error in errors:
        for text in (str(error), repr(error), error.args[0], caplog.text):
            assert wrong_pass not in text
            assert sim.password not in text


@pytest.mark.parametrize(
    ("kind", "fault_function"), [("endless", "campaigns_list"), ("no_newline", "*")]
)
async def test_new_faults_never_leak_the_password(
    sim: SimHandle,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    fault_function: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = sim_client(sim, session, max_response_bytes=CAP)
    await sim.add_fault(fault_function, kind, times=5)
    with pytest.raises(VicidialError) as caught:
        await client.fetch_campaigns()
    error = caught.value
    for text in (str(error), repr(error), caplog.text):
        assert sim.password not in text
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
