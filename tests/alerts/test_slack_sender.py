"""The Slack sender against the real stand-in and the real slack-sdk client.

What a supervisor must be able to trust: one message per incident, kept up to date, with the
changes in order in its thread, whatever Slack does (rate limits, outages, lost answers), and
never the bot token anywhere. Time is a fake clock shared by the sender and the stand-in, so
Retry-After waits, pacing and a two-minute outage cost no real time.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.slack_server import FaultKind, SlackStandIn, running_slack
from wallboard.alerts.slack import SlackRejected, SlackSender, SlackUnavailable
from wallboard.alerts.slack_blocks import parent_message, reply_text
from wallboard.alerts.types import (
    Action,
    AutoPauseOutcome,
    Figures,
    Incident,
    Kind,
    Level,
    Notification,
    SlackThread,
)

FLOOR = "C0FLOOR001"
WRITES = ("chat.postMessage", "chat.update")
OPENED_AT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
KEY = "drop:SALES1:today:2024-05-01"


class FakeTime:
    """A monotonic clock and its sleep: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 5000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Outbox:
    """What the lead's outbox does with the sender's callbacks, in memory."""

    def __init__(self) -> None:
        self.thread: SlackThread | None = None
        self.recorded: list[SlackThread] = []
        self.pending: list[Notification] = []
        self.seq = 0

    def add(self, action: Action, incident: Incident, text: str) -> None:
        self.seq += 1
        self.pending.append(Notification(incident, action, text, incident.updated_at, self.seq))

    async def record(self, thread: SlackThread) -> None:
        self.thread = thread
        self.recorded.append(thread)

    async def delivered(self, notification: Notification) -> None:
        self.pending.remove(notification)

    async def flush(self, sender: SlackSender) -> SlackThread:
        thread = await sender.deliver(
            list(self.pending), self.thread, record=self.record, delivered=self.delivered
        )
        assert self.pending == []
        return thread

    async def flush_until_done(self, sender: SlackSender, time: FakeTime, tries: int = 50) -> int:
        """Retry like the outbox loop: wait what Slack asked (or 5 s); count the failures."""
        failures = 0
        for _ in range(tries):
            try:
                await self.flush(sender)
                return failures
            except SlackUnavailable as unavailable:
                failures += 1
                await time.sleep(unavailable.retry_after or 5.0)
        raise AssertionError("never delivered")


def incident(
    severity: Level = Level.WARNING,
    *,
    minutes: int = 0,
    ratio: float = 0.0261,
    closed: str | None = None,
    auto_pause: AutoPauseOutcome | None = None,
    key: str = KEY,
) -> Incident:
    at = OPENED_AT + timedelta(minutes=minutes)
    threshold = 0.028 if severity is Level.CRITICAL else 0.025
    return Incident(
        key=key,
        kind=Kind.DROP,
        campaign="SALES1",
        window="today",
        severity=severity,
        opened_at=OPENED_AT,
        updated_at=at,
        summary=f"SALES1 today {ratio * 100:.2f} % ({severity.value} at {threshold * 100:.2f} %)",
        figures=Figures(
            ratio=ratio,
            answered=1234,
            dropped=round(ratio * 1234),
            drops_remaining=max(0, int(0.03 * 1234) - round(ratio * 1234)),
            threshold=threshold,
            limit=0.03,
        ),
        closed_at=at if closed else None,
        close_reason=closed,
        auto_pause=auto_pause,
    )


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def slack(time: FakeTime) -> AsyncIterator[SlackStandIn]:
    async with running_slack(clock=time) as stand_in:
        yield stand_in


@pytest.fixture
async def sender(slack: SlackStandIn, time: FakeTime) -> AsyncIterator[SlackSender]:
    async with SlackSender(
        token=slack.token, channel="#floor", base_url=slack.base_url, clock=time, sleep=time.sleep
    ) as made:
        yield made


def reply_texts(slack: SlackStandIn, parent_ts: str) -> list[str]:
    return [m.text for m in slack.replies(parent_ts)]


def a_rising_incident(outbox: Outbox) -> None:
    """Opened as a warning, escalated, reminded, then resolved 42 minutes after opening."""
    outbox.add(Action.OPENED, incident(), "opened: warning at 2.61 %")
    outbox.add(Action.ESCALATED, incident(Level.CRITICAL, minutes=5, ratio=0.029), "escalated")
    outbox.add(Action.REMINDER, incident(Level.CRITICAL, minutes=35, ratio=0.0285), "reminder")
    outbox.add(
        Action.RESOLVED,
        incident(Level.CRITICAL, minutes=42, ratio=0.0231, closed="resolved"),
        "resolved",
    )


async def test_one_parent_updated_in_place_with_replies_in_order(
    slack: SlackStandIn, sender: SlackSender
) -> None:
    outbox = Outbox()
    a_rising_incident(outbox)
    every = list(outbox.pending)
    for notification in every:  # one change at a time, as the engine produces them
        outbox.pending = [notification]
        await outbox.flush(sender)

    [parent] = slack.parents()
    assert outbox.thread == SlackThread(KEY, FLOOR, parent.ts)
    assert parent.metadata == {"event_type": "wallboard_incident", "event_payload": {"key": KEY}}
    assert parent.updates == 3  # escalation, reminder, resolution
    assert reply_texts(slack, parent.ts) == [reply_text(n) for n in every[1:]]
    assert "resolved after 42 min" in parent.text
    assert (parent.text, parent.blocks) == parent_message(every[-1].incident)
    assert [c.params["channel"] for c in slack.calls("chat.update")] == [FLOOR] * 3
    assert outbox.recorded[0] == SlackThread(KEY, FLOOR, "")  # outcome unknown, then known
    assert outbox.recorded[-1].ts == parent.ts


async def test_a_batch_updates_the_parent_once_and_replies_in_order(
    slack: SlackStandIn, sender: SlackSender
) -> None:
    outbox = Outbox()
    a_rising_incident(outbox)
    await outbox.flush(sender)  # all four at once: post the newest state, then three replies
    [parent] = slack.parents()
    assert parent.updates == 0
    assert "resolved after 42 min" in parent.text
    assert [m.text.split(" ", 1)[1] for m in slack.replies(parent.ts)] == [
        "escalated",
        "reminder",
        "resolved",
    ]


async def test_channel_name_is_resolved_once_and_update_uses_the_id(
    slack: SlackStandIn, sender: SlackSender
) -> None:
    assert await sender.resolve_channel() == FLOOR
    assert len(slack.calls("conversations.list")) >= 2  # followed the cursor to page 2
    lists = len(slack.calls("conversations.list"))
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    await outbox.flush(sender)
    outbox.add(Action.ESCALATED, incident(Level.CRITICAL, minutes=3), "escalated")
    await outbox.flush(sender)
    assert len(slack.calls("conversations.list")) == lists  # cached
    for call in slack.calls("chat.update") + slack.calls("chat.postMessage"):
        assert call.params["channel"] == FLOOR


async def test_a_channel_id_needs_no_lookup(slack: SlackStandIn, time: FakeTime) -> None:
    async with SlackSender(
        token=slack.token, channel=FLOOR, base_url=slack.base_url, clock=time, sleep=time.sleep
    ) as sender:
        assert await sender.resolve_channel() == FLOOR
    assert slack.requests == []


async def test_a_429_storm_loses_and_duplicates_nothing(
    slack: SlackStandIn, sender: SlackSender, time: FakeTime
) -> None:
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    await outbox.flush(sender)
    slack.fail_next("ratelimited", 1, methods=["chat.update"], retry_after=3)
    slack.fail_next("ratelimited", 7, methods=["chat.postMessage"], retry_after=3)
    outbox.add(Action.ESCALATED, incident(Level.CRITICAL, minutes=5), "escalated")
    outbox.add(Action.REMINDER, incident(Level.CRITICAL, minutes=35), "reminder")
    eased = incident(Level.WARNING, minutes=40)
    outbox.add(Action.EASED, eased, "eased")
    started = time.now

    failures = await outbox.flush_until_done(sender, time)

    [parent] = slack.parents()
    assert [m.text.split(" ", 1)[1] for m in slack.replies(parent.ts)] == [
        "escalated",
        "reminder",
        "eased",
    ]
    assert failures >= 2  # the storm outlasted the in-place retries, more than once
    assert time.now - started >= 8 * 3  # every Retry-After was waited out (on the fake clock)
    assert (parent.text, parent.blocks) == parent_message(eased)  # the newest state


async def test_a_long_retry_after_is_left_to_the_outbox_and_still_honoured(
    slack: SlackStandIn, sender: SlackSender, time: FakeTime
) -> None:
    slack.fail_next("ratelimited", 1, methods=["chat.postMessage"], retry_after=120)
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    with pytest.raises(SlackUnavailable) as caught:
        await outbox.flush(sender)
    assert caught.value.retry_after == 120
    assert time.slept == []  # not waited in place
    assert outbox.pending
    assert outbox.thread == SlackThread(KEY, FLOOR, "")
    failed_at = slack.calls("chat.postMessage")[0].at

    await outbox.flush(sender)  # even if the outbox comes back early, the channel waits

    assert slack.calls("chat.postMessage")[1].at >= failed_at + 120
    assert len(slack.parents()) == 1


@pytest.mark.parametrize("how", ["503", "refuse"])
async def test_an_outage_delays_everything_and_loses_nothing(
    slack: SlackStandIn, sender: SlackSender, time: FakeTime, how: str
) -> None:
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    await outbox.flush(sender)
    if how == "503":
        await slack.go_down("503", seconds=120)
    else:
        await slack.go_down("refuse")
    a_rising_incident(outbox)
    outbox.pending = outbox.pending[1:]  # the opening was delivered before the outage
    for _ in range(2):
        with pytest.raises(SlackUnavailable):
            await outbox.flush(sender)
        await time.sleep(50)
    assert len(outbox.pending) == 3
    if how == "503":
        await time.sleep(20)  # two minutes have passed: the outage ends by itself
    else:
        await slack.come_back()
    updates_before = len(slack.calls("chat.update"))

    await outbox.flush(sender)

    [parent] = slack.parents()
    assert [m.text.split(" ", 1)[1] for m in slack.replies(parent.ts)] == [
        "escalated",
        "reminder",
        "resolved",
    ]
    assert len(slack.calls("chat.update")) == updates_before + 1  # once, to the newest state
    assert "resolved after 42 min" in parent.text


async def test_a_lost_answer_to_the_parent_post_is_found_not_reposted(
    slack: SlackStandIn, sender: SlackSender
) -> None:
    slack.fail_next("drop", methods=["chat.postMessage"])
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    with pytest.raises(SlackUnavailable):
        await outbox.flush(sender)
    assert len(slack.parents()) == 1  # Slack has it; we do not know that
    assert outbox.thread == SlackThread(KEY, FLOOR, "")
    outbox.add(Action.ESCALATED, incident(Level.CRITICAL, minutes=2), "escalated")

    await outbox.flush(sender)

    [parent] = slack.parents()
    assert outbox.thread == SlackThread(KEY, FLOOR, parent.ts)
    history = slack.calls("conversations.history")
    assert history
    assert history[0].params["include_all_metadata"] in ("1", "true", True)
    assert parent.updates == 1
    assert "CRITICAL" in parent.text
    assert [m.text.split(" ", 1)[1] for m in slack.replies(parent.ts)] == ["escalated"]


async def test_a_timeout_is_an_unknown_outcome_too(slack: SlackStandIn, time: FakeTime) -> None:
    slack.fail_next("hang", methods=["chat.postMessage"])
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    async with SlackSender(
        token=slack.token,
        channel="#floor",
        base_url=slack.base_url,
        clock=time,
        sleep=time.sleep,
        timeout=0.3,
    ) as sender:
        with pytest.raises(SlackUnavailable, match="TimeoutError"):
            await outbox.flush(sender)
        await outbox.flush(sender)
    assert len(slack.parents()) == 1
    assert outbox.thread is not None
    assert outbox.thread.ts == slack.parents()[0].ts


async def test_a_reply_sent_but_not_recorded_is_not_sent_again(
    slack: SlackStandIn, sender: SlackSender
) -> None:
    """Killed between a reply and the outbox's bookkeeping: the thread itself says what got
    there (each reply carries its ``seq``)."""
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    await outbox.flush(sender)
    outbox.add(Action.ESCALATED, incident(Level.CRITICAL, minutes=5), "escalated")
    outbox.add(Action.REMINDER, incident(Level.CRITICAL, minutes=35), "reminder")
    slack.fail_next("drop", methods=["chat.postMessage"])  # the first reply's answer is lost
    batch = list(outbox.pending)
    with pytest.raises(SlackUnavailable):
        await sender.deliver(batch, outbox.thread, record=outbox.record)  # no bookkeeping

    await sender.deliver(batch, outbox.thread, record=outbox.record)

    [parent] = slack.parents()
    assert [m.text.split(" ", 1)[1] for m in slack.replies(parent.ts)] == [
        "escalated",
        "reminder",
    ]


async def test_a_deleted_parent_is_posted_again(slack: SlackStandIn, sender: SlackSender) -> None:
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    await outbox.flush(sender)
    slack.messages.clear()  # somebody deleted the message in Slack
    outbox.add(Action.ESCALATED, incident(Level.CRITICAL, minutes=5), "escalated")
    await outbox.flush(sender)
    [parent] = slack.parents()
    assert outbox.thread == SlackThread(KEY, FLOOR, parent.ts)
    assert [m.text.split(" ", 1)[1] for m in slack.replies(parent.ts)] == ["escalated"]


async def test_invalid_auth_is_rejected_and_nothing_is_dropped(
    slack: SlackStandIn, time: FakeTime
) -> None:
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    async with SlackSender(
        token="xoxb-not-the-right-one", channel=FLOOR, base_url=slack.base_url, clock=time
    ) as sender:
        with pytest.raises(SlackRejected) as caught:
            await outbox.flush(sender)
    assert caught.value.code == "invalid_auth"
    assert "token" in str(caught.value)  # says what to fix
    assert len(outbox.pending) == 1


async def test_an_invalid_auth_answer_mid_delivery_is_rejected(
    slack: SlackStandIn, sender: SlackSender
) -> None:
    slack.fail_next("invalid_auth", methods=["chat.postMessage"])
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    with pytest.raises(SlackRejected, match="invalid_auth"):
        await outbox.flush(sender)
    await outbox.flush(sender)  # once fixed, it goes through, once
    assert len(slack.parents()) == 1


@pytest.mark.parametrize(
    ("channel", "code"), [("#lobby", "not_in_channel"), ("#nowhere", "channel_not_found")]
)
async def test_a_channel_the_bot_cannot_use_is_rejected(
    slack: SlackStandIn, time: FakeTime, channel: str, code: str
) -> None:
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    async with SlackSender(
        token=slack.token, channel=channel, base_url=slack.base_url, clock=time
    ) as sender:
        with pytest.raises(SlackRejected) as caught:
            await outbox.flush(sender)
    assert caught.value.code == code
    assert "invite" in str(caught.value)
    assert slack.messages == []


async def test_a_server_error_is_unavailable(slack: SlackStandIn, sender: SlackSender) -> None:
    slack.fail_next("server_error", methods=["chat.postMessage"])
    outbox = Outbox()
    outbox.add(Action.OPENED, incident(), "opened")
    with pytest.raises(SlackUnavailable, match="HTTP 500"):
        await outbox.flush(sender)
    await outbox.flush(sender)
    assert len(slack.parents()) == 1


async def test_at_most_one_write_per_second_per_channel(
    slack: SlackStandIn, sender: SlackSender, time: FakeTime
) -> None:
    outbox = Outbox()
    a_rising_incident(outbox)
    await outbox.flush(sender)
    for minutes in range(50, 56):
        outbox.add(Action.REMINDER, incident(Level.CRITICAL, minutes=minutes), "reminder")
    await outbox.flush(sender)
    other = Outbox()
    other.add(Action.OPENED, incident(key="drop:SALES2:today:2024-05-01"), "opened")
    await other.flush(sender)

    writes = [c.at for c in slack.calls() if c.method in WRITES]
    assert len(writes) == 4 + 1 + 6 + 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(writes)]
    assert min(gaps) >= 1.0
    assert max(gaps) < 1.5  # paced, not throttled beyond the limit
    reads = [c for c in slack.calls() if c.method not in WRITES]
    assert reads  # reads are not paced: nothing forces them apart


async def test_concurrent_deliveries_share_the_channel_pace(
    slack: SlackStandIn, sender: SlackSender
) -> None:
    first, second = Outbox(), Outbox()
    first.add(Action.OPENED, incident(), "opened")
    second.add(Action.OPENED, incident(key="drop:SALES2:today:2024-05-01"), "opened")
    await sender.resolve_channel()
    await asyncio.gather(first.flush(sender), second.flush(sender))
    writes = [c.at for c in slack.calls() if c.method in WRITES]
    assert len(writes) == 2
    assert writes[1] - writes[0] >= 1.0


async def test_one_incident_per_delivery() -> None:
    sender = SlackSender(token="xoxb-x", channel=FLOOR, base_url="http://127.0.0.1:9/api/")
    mixed = [
        Notification(incident(), Action.OPENED, "a", OPENED_AT, 1),
        Notification(incident(key="drop:SALES2:today:x"), Action.OPENED, "b", OPENED_AT, 2),
    ]
    with pytest.raises(ValueError, match="one incident"):
        await sender.deliver(mixed, None, record=Outbox().record)
    with pytest.raises(ValueError, match="at least one"):
        await sender.deliver([], None, record=Outbox().record)


async def test_the_token_never_appears_anywhere(
    slack: SlackStandIn, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[Exception] = []
    outbox = Outbox()
    a_rising_incident(outbox)
    async with SlackSender(
        token=slack.token, channel="#floor", base_url=slack.base_url, clock=time, sleep=time.sleep
    ) as sender:
        faults: tuple[FaultKind, ...] = ("ratelimited", "server_error", "drop", "invalid_auth")
        for fault in faults:
            slack.fail_next(fault, 3, methods=WRITES, retry_after=1)
            with pytest.raises((SlackUnavailable, SlackRejected)) as caught:
                await outbox.flush(sender)
            errors.append(caught.value)
            slack.clear_faults()
        await outbox.flush(sender)
        await slack.go_down("refuse")
        outbox.add(Action.REMINDER, incident(Level.CRITICAL, minutes=50), "reminder")
        try:
            await outbox.flush(sender)
        except SlackUnavailable as error:
            errors.append(error)
        shown = repr(sender)
    async with SlackSender(
        token="xoxb-wrong-9999", channel="#floor", base_url=slack.base_url, clock=time
    ) as wrong:
        await slack.come_back()
        try:
            await wrong.resolve_channel()
        except SlackRejected as error:
            errors.append(error)

    assert len(errors) >= 4
    for secret in (slack.token, "xoxb-wrong-9999"):
        assert secret not in caplog.text
        assert all(secret not in f"{e!s} {e!r} {e.args}" for e in errors)
        assert secret not in repr(slack.requests)
        assert secret not in repr(slack.messages)
        assert secret not in shown
    assert "slack_sdk" in caplog.text  # the client's debug log was captured, and is clean


def test_the_parent_shows_every_fact_in_blocks_and_text() -> None:
    text, blocks = parent_message(incident(Level.CRITICAL, ratio=0.0285))
    rendered = str(blocks)
    for fact in ("SALES1", "today", "2.85 %", "1,234", "35", "Drops remaining", "2.80 %", "3.00 %"):
        assert fact in rendered
    for fact in ("SALES1", "today", "2.85 %", "answered 1,234", "drops 35", "drops remaining 2"):
        assert fact in text
    assert "threshold 2.80 % (critical), limit 3.00 %" in text
    assert "Opened 2024-05-01 10:00 UTC; open, critical." in text
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"].startswith(":red_circle: CRITICAL")
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert len(fields) <= 10  # Slack's limit


def test_closed_incidents_say_how_they_ended() -> None:
    resolved = incident(Level.WARNING, minutes=42, ratio=0.0231, closed="resolved")
    day_end = incident(Level.WARNING, minutes=600, ratio=0.0261, closed="day_ended")
    long = incident(Level.CRITICAL, minutes=125, ratio=0.0231, closed="resolved")
    assert "resolved after 42 min" in parent_message(resolved)[0]
    assert "resolved after 2 h 05 min" in parent_message(long)[0]
    text, blocks = parent_message(day_end)
    assert "day ended at 2.61 %" in text
    assert "day ended at 2.61 %" in str(blocks)
    assert "resolved" not in text.lower()  # a day's end is never "resolved"
    assert blocks[0]["text"]["text"].startswith(":calendar: DAY ENDED")


def test_auto_pause_is_shown_and_outside_text_is_escaped() -> None:
    refused = AutoPauseOutcome(
        campaign="SALES1",
        at=OPENED_AT + timedelta(minutes=7),
        dry_run=False,
        outcome="refused",
        detail="ERROR: <user> lacks modify_campaigns & more: set it in Admin > Users",
    )
    text, blocks = parent_message(incident(Level.CRITICAL, auto_pause=refused))
    assert "VICIdial REFUSED the pause SALES1 at 2024-05-01 10:07 UTC" in text
    assert "&lt;user&gt; lacks modify_campaigns &amp; more" in text
    assert "<user>" not in str(blocks)
    dry = replace(refused, dry_run=True, outcome="would_pause", detail="")
    assert "dry run" in parent_message(incident(auto_pause=dry))[0]


def test_daemon_level_incidents_render_without_figures() -> None:
    stale = Incident(
        key="data_stale::2024-05-01T10:00:00+00:00",
        kind=Kind.DATA_STALE,
        campaign="",
        window="",
        severity=Level.CRITICAL,
        opened_at=OPENED_AT,
        updated_at=OPENED_AT,
        summary="call_status_stats stale for 2 min",
    )
    text, blocks = parent_message(stale)
    assert blocks[0]["text"]["text"] == ":red_circle: CRITICAL: floor data is stale"
    assert "call_status_stats stale for 2 min" in text
    assert "Drop rate" not in text
    assert "Campaign" not in str(blocks)
    assert len(blocks[0]["text"]["text"]) <= 150


def test_the_parent_shows_the_trend_since_the_last_message() -> None:
    from wallboard.alerts.slack_blocks import trend
    from wallboard.alerts.types import Figures

    up = Figures(0.0284, 1000, 28, 2, 0.028, 0.03, previous_ratio=0.0261)
    assert trend(up) == " (2.61 % at the last message, ▲ 0.23 pts)"
    down = Figures(0.0250, 1000, 25, 5, 0.025, 0.03, previous_ratio=0.0284)
    assert "▼ 0.34 pts" in trend(down)
    assert trend(Figures(0.02, 1000, 20, 10, 0.025, 0.03)) == "", "no previous message"
