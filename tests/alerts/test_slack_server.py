"""The Slack stand-in answers like Slack, through the real slack-sdk client.

If the stand-in were more forgiving than Slack (a channel name accepted by ``chat.update``,
metadata returned without asking), the sender's tests would pass against it and fail in
production; these tests pin the behaviours the sender relies on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack_server import SlackStandIn, running_slack

FLOOR = "C0FLOOR001"
META = {"event_type": "wallboard_incident", "event_payload": {"key": "drop:SALES1:today:x"}}


def client(slack: SlackStandIn, token: str | None = None, timeout: int = 10) -> AsyncWebClient:
    # No retry handlers: these tests look at each answer as Slack gives it.
    return AsyncWebClient(
        token=token or slack.token, base_url=slack.base_url, timeout=timeout, retry_handlers=[]
    )


async def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def test_auth_test_checks_the_token_and_records_calls_without_it() -> None:
    async with running_slack() as slack:
        good = await client(slack).auth_test()
        assert good["ok"] is True
        assert good["user_id"] == "U0001"
        bad = await error_of(client(slack, "xoxb-wrong-0000").auth_test())
        assert bad.response["error"] == "invalid_auth"
        # A token in the form body (Slack accepts that too) is checked and not recorded.
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{slack.base_url}auth.test", data={"token": slack.token}
            ) as answer:
                assert (await answer.json())["ok"] is True
            async with session.post(f"{slack.base_url}auth.test") as answer:
                assert (await answer.json())["error"] == "not_authed"
    assert [c.method for c in slack.requests] == ["auth.test"] * 4
    assert slack.token not in repr(slack.requests)


async def test_conversations_list_pages_with_a_cursor() -> None:
    async with running_slack() as slack:
        web = client(slack)
        names: dict[str, str] = {}
        cursor: str | None = None
        pages = 0
        while True:
            page = await web.conversations_list(cursor=cursor, limit=200)
            pages += 1
            names.update({c["name"]: c["id"] for c in page["channels"]})
            cursor = page["response_metadata"]["next_cursor"] or None
            if cursor is None:
                break
    assert pages >= 2  # the page size is capped, whatever the limit asked for
    assert names["floor"] == FLOOR
    assert len(names) == len(slack.channels)


async def test_post_takes_ids_and_names_update_takes_ids_only() -> None:
    async with running_slack() as slack:
        web = client(slack)
        by_hash = await web.chat_postMessage(channel="#floor", text="one")
        by_name = await web.chat_postMessage(channel="floor", text="two")
        by_id = await web.chat_postMessage(channel=FLOOR, text="three")
        assert {by_hash["channel"], by_name["channel"], by_id["channel"]} == {FLOOR}
        assert by_hash["ts"] < by_name["ts"] < by_id["ts"]

        named = await error_of(web.chat_update(channel="#floor", ts=by_id["ts"], text="x"))
        assert named.response["error"] == "channel_not_found"
        missing = await error_of(web.chat_update(channel=FLOOR, ts="1.000001", text="x"))
        assert missing.response["error"] == "message_not_found"
        await web.chat_update(channel=FLOOR, ts=by_id["ts"], text="three, edited")

        unknown = await error_of(web.chat_postMessage(channel="#nowhere", text="x"))
        assert unknown.response["error"] == "channel_not_found"
        outside = await error_of(web.chat_postMessage(channel="#lobby", text="x"))
        assert outside.response["error"] == "not_in_channel"
        with pytest.warns(UserWarning, match="text"):  # slack-sdk warns, Slack refuses
            empty = await error_of(web.chat_postMessage(channel=FLOOR, text=""))
        assert empty.response["error"] == "no_text"
    assert [m.text for m in slack.parents()] == ["one", "two", "three, edited"]
    assert slack.parents()[2].updates == 1


async def test_history_is_newest_first_with_metadata_only_when_asked() -> None:
    async with running_slack() as slack:
        web = client(slack)
        first = await web.chat_postMessage(channel=FLOOR, text="parent", metadata=META)
        await web.chat_postMessage(channel=FLOOR, text="later")
        reply_meta = {"event_type": "wallboard_notification", "event_payload": {"seq": 7}}
        await web.chat_postMessage(
            channel=FLOOR, thread_ts=first["ts"], text="reply", metadata=reply_meta
        )

        plain = await web.conversations_history(channel=FLOOR)
        assert [m["text"] for m in plain["messages"]] == ["later", "parent"]  # no replies
        assert all("metadata" not in m for m in plain["messages"])
        assert plain["messages"][1]["reply_count"] == 1

        full = await web.conversations_history(channel=FLOOR, include_all_metadata=True)
        assert full["messages"][1]["metadata"] == META

        thread = await web.conversations_replies(
            channel=FLOOR, ts=first["ts"], include_all_metadata=True
        )
        assert [m["text"] for m in thread["messages"]] == ["parent", "reply"]
        assert thread["messages"][1]["metadata"] == reply_meta

        by_name = await error_of(web.conversations_history(channel="#floor"))
        assert by_name.response["error"] == "channel_not_found"
        bad_thread = await error_of(web.chat_postMessage(channel=FLOOR, thread_ts="9.9", text="x"))
        assert bad_thread.response["error"] == "thread_not_found"


async def test_history_pages_with_a_cursor() -> None:
    async with running_slack() as slack:
        slack.history_page_size = 2
        web = client(slack)
        for n in range(5):
            await web.chat_postMessage(channel=FLOOR, text=f"m{n}")
        seen: list[str] = []
        cursor: str | None = None
        while True:
            page = await web.conversations_history(channel=FLOOR, cursor=cursor, limit=50)
            seen += [m["text"] for m in page["messages"]]
            cursor = page["response_metadata"]["next_cursor"] or None
            if cursor is None:
                assert page["has_more"] is False
                break
    assert seen == ["m4", "m3", "m2", "m1", "m0"]


async def test_rate_limit_server_error_and_invalid_auth_faults() -> None:
    async with running_slack() as slack:
        web = client(slack)
        slack.fail_next("ratelimited", 2, methods=["chat.postMessage"], retry_after=7)
        await web.auth_test()  # another method is not affected
        for _ in range(2):
            limited = await error_of(web.chat_postMessage(channel=FLOOR, text="x"))
            assert limited.response.status_code == 429
            assert limited.response.headers["Retry-After"] == "7"
            assert limited.response["error"] == "ratelimited"
        await web.chat_postMessage(channel=FLOOR, text="after the storm")

        slack.fail_next("server_error")
        broken = await error_of(web.auth_test())
        assert broken.response.status_code == 500

        slack.fail_next("invalid_auth")
        refused = await error_of(web.auth_test())
        assert refused.response["error"] == "invalid_auth"
        assert (await web.auth_test())["ok"] is True
    assert [m.text for m in slack.messages] == ["after the storm"]


async def test_accept_then_drop_stores_the_message_but_never_answers() -> None:
    async with running_slack() as slack:
        web = client(slack)
        slack.fail_next("drop", methods=["chat.postMessage"])
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await web.chat_postMessage(channel=FLOOR, text="lost answer", metadata=META)
        assert [m.text for m in slack.parents()] == ["lost answer"]
        history = await web.conversations_history(channel=FLOOR, include_all_metadata=True)
        assert history["messages"][0]["metadata"] == META


async def test_hang_stores_the_message_and_the_client_times_out() -> None:
    async with running_slack() as slack:
        slack.fail_next("hang", methods=["chat.postMessage"])
        web = client(slack, timeout=1)
        with pytest.raises(asyncio.TimeoutError):
            await web.chat_postMessage(channel=FLOOR, text="no answer")
        assert [m.text for m in slack.parents()] == ["no answer"]


async def test_outage_503_ends_by_the_stand_in_clock() -> None:
    now = [100.0]
    async with running_slack(clock=lambda: now[0]) as slack:
        web = client(slack)
        await slack.go_down("503", seconds=120)
        down = await error_of(web.auth_test())
        assert down.response.status_code == 503
        now[0] += 119
        assert (await error_of(web.auth_test())).response.status_code == 503
        now[0] += 1
        assert (await web.auth_test())["ok"] is True
    assert [c.at for c in slack.requests] == [100.0, 219.0, 220.0]


async def test_outage_refuses_connections_until_it_comes_back_on_the_same_port() -> None:
    async with running_slack() as slack:
        web = client(slack)
        base_url = slack.base_url
        await slack.go_down("refuse")
        with pytest.raises(aiohttp.ClientConnectorError):
            await web.auth_test()
        assert slack.requests == []  # nothing got through
        await slack.come_back()
        assert slack.base_url == base_url
        assert (await web.auth_test())["ok"] is True
        with pytest.raises(ValueError, match="come_back"):
            await slack.go_down("refuse", seconds=5)
