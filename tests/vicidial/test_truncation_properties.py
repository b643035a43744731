"""A valid answer cut at any byte offset is rejected, or is a whole-row prefix that is caught
where the format allows it.

This is the property behind "answers are complete or rejected": whatever point a dying PHP, a
proxy or a dropped connection cuts an answer at, the parser either raises a
:class:`VicidialError`, or the cut fell exactly after a whole line and the parser returns what
those whole lines say. Where the request says which rows must come back (``campaigns_list``'s
configured campaigns, ``call_status_stats``'s requested campaigns) even that is an error; only
``logged_in_agents`` and ``hopper_list``, whose row count nobody knows in advance, and the
in-group lines after ``call_status_stats``'s campaigns can lose whole trailing rows unseen.

Every answer is rendered as VICIdial prints it with ``header=YES`` (the client always asks for
it), in each ``stage`` delimiter, and cut at *every* byte offset, not a sample of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.vicidial.test_parsers_properties import (
    AGENT_STATUS,
    COUNT,
    WORD,
    call_status_stats,
    campaign_row,
    campaigns,
    header_of,
    logged_in_agents,
    render,
)
from wallboard.vicidial.errors import VicidialError
from wallboard.vicidial.layouts import (
    AGENT_STATUS as AGENT_STATUS_LAYOUT,
)
from wallboard.vicidial.layouts import (
    CAMPAIGNS_LIST,
    HOPPER_LIST,
    IN_GROUP_STATUS,
    LOGGED_IN_AGENTS,
    USER_GROUP_STATUS,
)
from wallboard.vicidial.models import (
    CallStatusStats,
    HopperCount,
    InGroupStatus,
    UserGroupStatus,
)
from wallboard.vicidial.parsers import (
    parse_agent_status,
    parse_call_status_stats,
    parse_campaigns_list,
    parse_hopper_list,
    parse_in_group_status,
    parse_logged_in_agents,
    parse_user_group_status,
)

EXAMPLES = settings(max_examples=60, deadline=None)
STAGES = {"pipe": "|", "csv": ",", "tab": "\t"}


@dataclass(frozen=True)
class Answer:
    """One valid answer, how to parse it, and what a whole-row prefix of it may return.

    ``parse`` is given the (cut) text; ``rows`` is how many data lines follow the header;
    ``prefix_result(k)`` is what the parser must return for the header and the first ``k``
    rows, or ``None`` when such a prefix must be rejected (the format reveals the cut).
    """

    text: str
    header_lines: int
    parse: Callable[[str], object]
    prefix_result: Callable[[int], object | None]

    @property
    def rows(self) -> int:
        return self.text.count("\n") - self.header_lines


def never(_: int) -> None:
    return None


@st.composite
def agents_answer(draw: st.DrawFn, delimiter: str) -> Answer:
    agents = draw(logged_in_agents().filter(bool))
    rows = [[str(v) for v in dataclasses.astuple(a) if v is not None] for a in agents]
    text = render(rows, header_of(LOGGED_IN_AGENTS, len(rows[0])), delimiter)
    expected = tuple(agents)
    return Answer(
        text,
        1,
        parse_logged_in_agents,
        # Undetectable: an answer cut after whole agent rows is a smaller floor.
        lambda k: expected[:k] if k else None,
    )


@st.composite
def agent_status_answer(draw: st.DrawFn, delimiter: str) -> Answer:
    status = draw(AGENT_STATUS)
    row = [str(v) for v in dataclasses.astuple(status) if v is not None]
    width = draw(st.sampled_from([8, len(row)]))  # the 2021 build's short header, or the full
    text = render([row], header_of(AGENT_STATUS_LAYOUT, width), delimiter)
    return Answer(text, 1, parse_agent_status, never)


@st.composite
def group_status_answer(draw: st.DrawFn, delimiter: str, users: bool) -> Answer:
    groups = draw(st.lists(WORD, min_size=1, max_size=3))
    counts = draw(st.lists(COUNT, min_size=8, max_size=8))
    row = [" ".join(groups), *map(str, counts)]
    layout = USER_GROUP_STATUS if users else IN_GROUP_STATUS
    text = render([row], header_of(layout), delimiter)
    model: type[UserGroupStatus | InGroupStatus] = UserGroupStatus if users else InGroupStatus
    assert (parse_user_group_status if users else parse_in_group_status)(text) == model(
        tuple(groups), *counts
    )
    return Answer(text, 1, parse_user_group_status if users else parse_in_group_status, never)


@st.composite
def campaigns_answer(draw: st.DrawFn, delimiter: str) -> Answer:
    listed = draw(campaigns().map(lambda cs: list({c.campaign_id: c for c in cs}.values())))
    rows = [campaign_row(campaign) for campaign in listed]
    text = render(rows, header_of(CAMPAIGNS_LIST, len(rows[0])), delimiter)
    configured = [campaign.campaign_id for campaign in listed]

    def parse(cut: str) -> object:
        return parse_campaigns_list(cut, expected=configured)

    return Answer(text, 1, parse, never)


HOPPER_ROW = "0,0,796292,107,9999001095,1,NY,PDROP,7,-4.00,0,,S,1001095,A321,2681,1 YEARS"


@st.composite
def hopper_answer(draw: st.DrawFn, delimiter: str) -> Answer:
    leads = draw(st.integers(1, 6))
    rows = [HOPPER_ROW.replace("796292", str(796292 + n)).split(",") for n in range(leads)]
    text = render(rows, header_of(HOPPER_LIST), delimiter)
    return Answer(
        text,
        1,
        lambda cut: parse_hopper_list(cut, "SALES1"),
        # Undetectable: nothing says how many leads a hopper holds.
        lambda k: HopperCount("SALES1", k) if k else None,
    )


@st.composite
def call_status_stats_answer(draw: st.DrawFn) -> Answer:
    stats: list[CallStatusStats] = draw(
        call_status_stats().map(lambda ls: list({s.code: s for s in ls}.values()))
    )
    # The first lines are the requested campaigns, any after them in-groups (API.md §5.7).
    campaigns_requested = draw(st.integers(1, len(stats)))
    requested = [line.code for line in stats[:campaigns_requested]]
    lines = []
    for line in stats:
        hours = ",".join(f"{hour:02d}-{count}" for hour, count in enumerate(line.hourly))
        statuses = ",".join(f"{status}-{count}" for status, count in line.statuses.items())
        lines.append(f"{line.code}|{line.calls}|{line.human_answered}|{hours}|{statuses}|\n")

    def parse(cut: str) -> object:
        return parse_call_status_stats(cut, expected=requested)

    def prefix(k: int) -> object | None:
        # Only in-group lines may go missing unseen: every requested campaign is checked.
        return tuple(stats[:k]) if k >= campaigns_requested else None

    return Answer("".join(lines), 0, parse, prefix)


def assert_every_cut_rejected_or_a_whole_row_prefix(answer: Answer) -> None:
    full = answer.text.encode()
    answer.parse(answer.text)  # the whole answer is valid
    lines = answer.text.splitlines(keepends=True)
    boundaries = {len("".join(lines[:n]).encode()): n for n in range(len(lines) + 1)}
    rejected: list[bool] = []
    for offset in range(len(full)):
        cut = full[:offset].decode("utf-8", errors="replace")  # as the client decodes
        try:
            result = answer.parse(cut)
        except VicidialError as error:
            # IncompleteAnswer names what is missing; every other error names the function.
            missing = getattr(error, "missing", None)
            rejected.append(missing is None or bool(missing))
            continue
        # Accepted: it must be a whole-row prefix the format cannot tell from a whole answer.
        assert offset in boundaries, f"accepted a cut mid-line at byte {offset}: {cut!r}"
        rows = boundaries[offset] - answer.header_lines
        expected = answer.prefix_result(rows) if rows >= 0 else None
        assert expected is not None, f"accepted a detectable cut after {rows} rows: {cut!r}"
        assert result == expected
    assert all(rejected)


STAGE = st.sampled_from(sorted(STAGES.values()))


@EXAMPLES
@given(data=st.data(), delimiter=STAGE)
@pytest.mark.parametrize(
    "function",
    [
        "logged_in_agents",
        "agent_status",
        "user_group_status",
        "in_group_status",
        "campaigns_list",
        "hopper_list",
    ],
)
def test_a_tabular_answer_cut_anywhere_is_rejected_or_a_whole_row_prefix(
    function: str, data: st.DataObject, delimiter: str
) -> None:
    builders: dict[str, Callable[[], st.SearchStrategy[Answer]]] = {
        "logged_in_agents": lambda: agents_answer(delimiter),
        "agent_status": lambda: agent_status_answer(delimiter),
        "user_group_status": lambda: group_status_answer(delimiter, True),
        "in_group_status": lambda: group_status_answer(delimiter, False),
        "campaigns_list": lambda: campaigns_answer(delimiter),
        "hopper_list": lambda: hopper_answer(delimiter),
    }
    assert_every_cut_rejected_or_a_whole_row_prefix(data.draw(builders[function]()))


@EXAMPLES
@given(answer=call_status_stats_answer())
def test_call_status_stats_cut_anywhere_is_rejected_or_misses_only_in_groups(
    answer: Answer,
) -> None:
    assert_every_cut_rejected_or_a_whole_row_prefix(answer)


def test_the_property_sees_an_accepted_mid_line_cut() -> None:
    """The checker itself: a parser that accepted a cut mid-line would fail it."""

    def lenient(text: str) -> object:
        return text.count("\n")

    with pytest.raises(AssertionError, match="accepted a cut mid-line"):
        assert_every_cut_rejected_or_a_whole_row_prefix(
            Answer("a|b\nc|d\n", 0, lenient, lambda k: k)
        )
    with pytest.raises(AssertionError, match="accepted a detectable cut"):
        assert_every_cut_rejected_or_a_whole_row_prefix(
            Answer("a|b\nc|d\n", 0, lambda text: text.count("\n") or _reject(), never)
        )


def _reject() -> int:
    raise VicidialError("empty")
