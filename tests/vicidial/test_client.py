"""The HTTP client against the real simulator: data, every fault kind, retries, redaction."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from datetime import date, timedelta

import aiohttp
import pytest

from tests.support.sim import SimHandle, running_simulator
from wallboard.vicidial.client import VicidialClient
from wallboard.vicidial.errors import (
    ApiError,
    LoginError,
    ParseError,
    PermissionDenied,
    RequestTimeout,
    TransportError,
    VicidialError,
)


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator(seed=7) as handle:
        yield handle


class Recorder:
    """Stands in for ``asyncio.sleep`` so backoff is observable and tests never wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def make_client(
    sim: SimHandle,
    session: aiohttp.ClientSession,
    *,
    timeout: float = 2.0,
    retries: int = 2,
    password: str | None = None,
    sleep: Recorder | None = None,
) -> VicidialClient:
    return VicidialClient(
        session,
        url=sim.base_url,
        user=sim.user,
        password=sim.password if password is None else password,
        timeout=timeout,
        retries=retries,
        sleep=sleep or Recorder(),
        rng=random.Random(1),
    )


async def api_requests(sim: SimHandle, function: str) -> int:
    counts = (await sim.requests())["by_function"]
    return int(counts.get(function, 0))


async def test_fetches_match_the_simulated_world(
    sim: SimHandle, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session)
    state = await sim.state()
    version = await client.version()
    assert version.version == "2.14-202"
    assert version.tz_now == -4.0

    agents = await client.fetch_agents()
    assert sorted(a.user for a in agents) == sorted(a["user"] for a in state["agents"])
    by_user = {a["user"]: a for a in state["agents"]}
    for agent in agents:
        assert agent.full_name == by_user[agent.user]["name"]
        assert agent.calls_today == by_user[agent.user]["calls_today"]
        assert agent.pause_code == by_user[agent.user]["pause_code"]

    stats = {line.code: line for line in await client.fetch_call_stats()}
    for campaign in state["campaigns"]:
        line = stats[campaign["id"]]
        assert (line.calls, line.human_answered, line.drops) == (
            campaign["calls_today"],
            campaign["answered_today"],
            campaign["dropped_today"],
        )

    listed = {c.campaign_id: c for c in await client.fetch_campaigns()}
    for campaign in state["campaigns"]:
        assert listed[campaign["id"]].active == campaign["active"]
        assert listed[campaign["id"]].dial_level == pytest.approx(campaign["dial_level"])
        hopper = await client.fetch_hopper(campaign["id"])
        assert hopper.leads == campaign["hopper_leads"]


async def test_batches_one_request_per_data_source(
    sim: SimHandle, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session)
    await client.fetch_agents()
    await client.fetch_call_stats(["SALES1", "SALES2", "SALES3"])
    await client.fetch_campaigns()
    counts = (await sim.requests())["by_function"]
    assert counts["logged_in_agents"] == 1
    assert counts["call_status_stats"] == 1
    assert counts["campaigns_list"] == 1


async def test_past_days_come_from_query_date(
    sim: SimHandle, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session)
    day = date(2025, 9, 3) - timedelta(days=3)
    lines = await client.fetch_call_stats(["SALES1"], query_date=day)
    expected = sim.world.day_stats("SALES1", day)
    # in-group lines (the campaign's closer_campaigns) follow the campaign's, as on VICIdial
    sales1 = [line for line in lines if line.code == "SALES1"]
    assert [(line.calls, line.human_answered, line.drops) for line in sales1] == [
        (expected.calls, expected.human_answered, expected.drops)
    ]


async def test_set_campaign_active_uses_update_campaign(
    sim: SimHandle, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session)
    result = await client.set_campaign_active("SALES2", False)
    assert result.outcome == "updated"
    campaigns = {c["id"]: c for c in (await sim.state())["campaigns"]}
    assert campaigns["SALES2"]["active"] is False
    calls = (await sim.requests())["update_campaign"]
    assert [(c["campaign_id"], c["active"]) for c in calls] == [("SALES2", "N")]
    await client.set_campaign_active("SALES2", True)
    campaigns = {c["id"]: c for c in (await sim.state())["campaigns"]}
    assert campaigns["SALES2"]["active"] is True


async def test_http_500_is_retried_with_backoff_then_succeeds(
    sim: SimHandle, session: aiohttp.ClientSession
) -> None:
    sleep = Recorder()
    client = make_client(sim, session, retries=2, sleep=sleep)
    await sim.add_fault("campaigns_list", "http_500", times=2)
    assert await client.fetch_campaigns()
    assert await api_requests(sim, "campaigns_list") == 3
    assert len(sleep.delays) == 2
    # exponential with jitter: attempt n waits within [base*2^n / 2, base*2^n]
    assert 0.25 <= sleep.delays[0] <= 0.5
    assert 0.5 <= sleep.delays[1] <= 1.0


async def test_retries_are_bounded(sim: SimHandle, session: aiohttp.ClientSession) -> None:
    client = make_client(sim, session, retries=2)
    await sim.add_fault("campaigns_list", "http_500", times=10)
    with pytest.raises(TransportError) as caught:
        await client.fetch_campaigns()
    assert caught.value.status == 500
    assert await api_requests(sim, "campaigns_list") == 3


async def test_html_proxy_page_is_a_transport_error_without_markup(
    sim: SimHandle, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session, retries=0)
    await sim.add_fault("logged_in_agents", "html", times=1)
    with pytest.raises(TransportError) as caught:
        await client.fetch_agents()
    assert caught.value.status == 502
    assert "HTML page" in str(caught.value)
    assert "<" not in str(caught.value)


async def test_timeout(sim: SimHandle, session: aiohttp.ClientSession) -> None:
    client = make_client(sim, session, timeout=0.3, retries=1)
    await sim.add_fault("logged_in_agents", "timeout", times=2)
    with pytest.raises(RequestTimeout):
        await client.fetch_agents()
    assert await api_requests(sim, "logged_in_agents") == 2


async def test_slow_answer_times_out(sim: SimHandle, session: aiohttp.ClientSession) -> None:
    client = make_client(sim, session, timeout=0.3, retries=0)
    await sim.add_fault("call_status_stats", "slow", times=1, seconds=1.0)
    with pytest.raises(RequestTimeout):
        await client.fetch_call_stats()


async def test_connection_reset(sim: SimHandle, session: aiohttp.ClientSession) -> None:
    client = make_client(sim, session, retries=1)
    await sim.add_fault("campaigns_list", "reset", times=10)
    with pytest.raises(TransportError) as caught:
        await client.fetch_campaigns()
    assert not isinstance(caught.value, RequestTimeout)
    assert "closed the connection" in str(caught.value) or "connection" in str(caught.value)


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
async def test_damaged_bodies_are_parse_errors(
    sim: SimHandle, session: aiohttp.ClientSession, kind: str
) -> None:
    client = make_client(sim, session)
    await sim.add_fault("logged_in_agents", kind, times=1)
    with pytest.raises(ParseError) as caught:
        await client.fetch_agents()
    assert "logged_in_agents" in str(caught.value)
    # a parse error is not retried: asking again only loads the dialer
    assert await api_requests(sim, "logged_in_agents") == 1


async def test_error_answer_is_not_retried(sim: SimHandle, session: aiohttp.ClientSession) -> None:
    client = make_client(sim, session)
    await sim.add_fault("call_status_stats", "error", times=1)
    with pytest.raises(ApiError):
        await client.fetch_call_stats()
    assert await api_requests(sim, "call_status_stats") == 1


async def test_permission_error_names_the_setting_to_fix(session: aiohttp.ClientSession) -> None:
    async with running_simulator(user_level=8) as sim:
        client = make_client(sim, session)
        with pytest.raises(PermissionDenied) as caught:
            await client.fetch_call_stats()
        assert "9" in str(caught.value)
        assert "View Reports" in str(caught.value)


async def test_login_error_never_leaks_the_password(
    sim: SimHandle, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-Secret-42"
    client = make_client(sim, session, password=wrong)
    with pytest.raises(LoginError) as caught:
        await client.fetch_agents()
    assert await api_requests(sim, "logged_in_agents") == 1  # never retried
    # the simulator, like VICIdial, echoes it back in the body
    raw = await sim.raw("logged_in_agents", **{"pass": wrong})
    assert wrong in raw.text()
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value)
    assert wrong not in repr(client)
    assert wrong not in caplog.text


@pytest.mark.parametrize(
    "kind",
    [
        "timeout",
        "http_500",
        "html",
        "garbage",
        "truncated",
        "no_newline",
        "error",
        "login",
        "lock",
        "reset",
    ],
)
async def test_no_fault_leaks_the_password(
    sim: SimHandle,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(sim, session, timeout=0.3, retries=1)
    await sim.add_fault("*", kind, times=10)
    with pytest.raises(VicidialError) as caught:
        await client.fetch_agents()
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert sim.password not in text
    # no aiohttp exception (whose text embeds the URL with pass=) rides along in the chain
    error = caught.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


async def test_unreachable_server_is_a_transport_error(session: aiohttp.ClientSession) -> None:
    async with running_simulator() as sim:
        url = sim.base_url
    client = VicidialClient(session, url=url, user="u", password="p4ss-word", timeout=1, retries=0)
    with pytest.raises(TransportError) as caught:
        await client.version()
    assert "cannot connect" in str(caught.value)
    assert "p4ss-word" not in str(caught.value)
