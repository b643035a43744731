"""Every parser given bytes off the wire: only a VicidialError, and a message fit for a log line.

``tests/vicidial/test_parsers_properties.py`` proves totality on any ``str`` and on broken
answers. What reaches a parser in the daemon is bytes decoded by the client (UTF-8 with
replacement), from a dialer, a proxy or anything that answers on that URL; so here the input
is bytes, the request's ``expected`` rows are arbitrary too, and the message is held to what
a log line and ``/readyz`` can carry: bounded in length and on one line, whatever came in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.vicidial.test_parsers_properties import VALID, broken
from wallboard.vicidial.client import _decode
from wallboard.vicidial.errors import ApiError, VicidialError
from wallboard.vicidial.parsers import (
    parse_agent_status,
    parse_call_status_stats,
    parse_campaigns_list,
    parse_hopper_list,
    parse_in_group_status,
    parse_logged_in_agents,
    parse_update_campaign,
    parse_user_group_status,
    parse_version,
)

EXAMPLES = settings(max_examples=150, deadline=None)

Parse = Callable[[str, Sequence[str] | None], object]

#: Every parser, with ``expected`` where the function takes it (the others ignore it).
PARSERS: dict[str, Parse] = {
    "version": lambda text, _: parse_version(text),
    "logged_in_agents": lambda text, _: parse_logged_in_agents(text),
    "agent_status": lambda text, _: parse_agent_status(text),
    "user_group_status": lambda text, _: parse_user_group_status(text),
    "in_group_status": lambda text, _: parse_in_group_status(text),
    "campaigns_list": lambda text, expected: parse_campaigns_list(text, expected=expected),
    "hopper_list": lambda text, _: parse_hopper_list(text, "SALES1"),
    "call_status_stats": lambda text, expected: parse_call_status_stats(text, expected=expected),
    "update_campaign": lambda text, _: parse_update_campaign(text),
}
FUNCTION = st.sampled_from(sorted(PARSERS))

#: A log line's worth: the longest message (a 200-character line quoted with its prefix and
#: position) is well under this, so a 16 MB answer never becomes a 16 MB log line.
MESSAGE_CHARS = 400
LINE_BREAKS = re.compile(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")

#: Bytes that make the decoder and the line splitter work: invalid UTF-8, a BOM, NULs, bare
#: CRs, overlong and surrogate encodings, and the delimiters VICIdial uses.
AWKWARD = st.sampled_from(
    [
        b"\xff",
        b"\xfe\xff",
        b"\xef\xbb\xbf",
        b"\x00",
        b"\r",
        b"\r\n",
        b"\n",
        b"|",
        b",",
        b"\t",
        b"\xc0\xaf",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"ERROR: ",
        b"NOTICE: ",
        b"<html>",
        b"-",
        b"99999999999999999999999",
        b"1e999",
        b"nan",
    ]
)
WIRE = st.lists(st.binary(max_size=20) | AWKWARD, max_size=30).map(b"".join)
EXPECTED = st.none() | st.lists(
    st.text(max_size=10) | st.sampled_from(["SALES1", "TESTCAMP"]), max_size=4
)


def outcome(function: str, text: str, expected: Sequence[str] | None) -> VicidialError | None:
    """Parse; any exception but a VicidialError fails the test (pytest shows which)."""
    failure: VicidialError | None = None
    try:
        PARSERS[function](text, expected)
    except VicidialError as error:
        failure = error
    if failure is not None:
        assert failure.function == function, (failure.function, function)
    return failure


def assert_loggable(error: VicidialError | None) -> None:
    if error is None:
        return
    message = str(error)
    assert message, "an error says something"
    assert len(message) <= MESSAGE_CHARS, len(message)
    assert not LINE_BREAKS.search(message), repr(message)
    assert not CONTROL.search(message), repr(message)


@EXAMPLES
@given(function=FUNCTION, body=WIRE, expected=EXPECTED)
def test_any_bytes_give_a_model_or_a_bounded_one_line_vicidial_error(
    function: str, body: bytes, expected: list[str] | None
) -> None:
    assert_loggable(outcome(function, _decode(body), expected))


@EXAMPLES
@given(
    function=FUNCTION,
    text=st.text(st.characters(codec=None, categories=None), max_size=200),
    expected=EXPECTED,
)
def test_any_code_points_even_lone_surrogates_give_a_vicidial_error(
    function: str, text: str, expected: list[str] | None
) -> None:
    """Not what the client's decoder produces, but a parser is a public function: text from
    anywhere (a file, a test, a future transport) must not get past it as another exception."""
    outcome(function, text, expected)


@EXAMPLES
@given(
    answers=st.fixed_dictionaries({name: broken(text) for name, text in VALID.items()}),
    junk=st.binary(min_size=1, max_size=8),
    at=st.integers(0, 10_000),
)
def test_valid_answers_with_bytes_spliced_in_give_a_model_or_a_vicidial_error(
    answers: dict[str, str], junk: bytes, at: int
) -> None:
    for function, text in answers.items():
        body = text.encode()
        cut = at % (len(body) + 1)
        assert_loggable(outcome(function, _decode(body[:cut] + junk + body[cut:]), None))


HUGE = {
    "one 4 MB line": b"x|" * 2_000_000,
    "an ERROR line of 1 MB": b"ERROR: " + b"y" * 1_000_000 + b"\n",
    "a NOTICE line of 1 MB": b"NOTICE: " + b"z" * 1_000_000 + b"\n",
    "an HTML page of 1 MB": b"<html><body>" + b"<p>x</p>" * 125_000,
    "a field of 1 MB": b"1001|SALES1|" + b"9" * 1_000_000 + b"|INCALL|1|2|3|4|5|6|7|8\n",
    "200,000 blank lines": b"\n" * 200_000,
    "200,000 delimiters on lines": b"|\n" * 200_000,
    "random 1 MB": bytes(range(256)) * 4096,
}


@pytest.mark.parametrize("body", HUGE.values(), ids=HUGE.keys())
def test_huge_answers_are_refused_with_a_short_message(body: bytes) -> None:
    """The client lets up to ``max_response_bytes`` through: whatever that holds, the message
    that reaches the log is a line, not the answer."""
    text = _decode(body)
    for function in PARSERS:
        assert_loggable(outcome(function, text, ["SALES1"]))


@pytest.mark.parametrize("control", ["\x1b[2J", "\r", "\x00", "\u2028", "\x85", "\t", "\u202e"])
def test_an_error_line_with_control_characters_is_logged_escaped(control: str) -> None:
    """The dialer's ``ERROR:``/``NOTICE:`` text is quoted in ApiError and LoginError: what is
    not printable arrives escaped, so it can neither drive the operator's terminal nor start
    a forged log line, and the operator still sees that it was there."""
    escaped = ascii(control[0])[1:-1]
    answers = (
        f"ERROR: bad{control}INFO forged line\n",
        f"NOTICE: bad{control}INFO forged line\n",
        f"ERROR: Your IP Address is not allowed: 10.0.0.1{control}x: |wallboard|IPBLOCK|\n",
    )
    for function in PARSERS:
        for text in answers:
            error = outcome(function, text, None)
            assert error is not None, (function, text)
            message = str(error)
            assert not CONTROL.search(message), repr(message)
            assert not any(not c.isprintable() for c in message), repr(message)
            if "forged" in message or "10.0.0.1" in message:
                assert escaped in message, repr(message)


def test_a_long_error_line_of_control_characters_stays_within_the_limit() -> None:
    """Escaping makes a character up to six long: the limit counts what is shown."""
    error = outcome("version", "ERROR: " + "\x00" * 1000 + "\n", None)
    assert isinstance(error, ApiError)
    message = str(error)
    assert len(message) <= MESSAGE_CHARS, len(message)
    assert message.endswith("\\x00..."), message[-20:]


async def test_an_http_error_body_is_one_printable_line_without_the_password() -> None:
    """A 5xx body from a proxy goes into the log and /readyz: escaped, and masked before it
    is cut, so a password straddling the cut never shows half of itself."""
    import aiohttp
    from aiohttp import web

    from tests.support.serving import serving
    from wallboard.vicidial.client import VicidialClient
    from wallboard.vicidial.errors import TransportError

    password = "Sup3r-Secret_pass"
    body = "x" * 113 + password + "\x1b[2J\x00\r\nforged log line\u2028"

    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=502, text=body)

    app = web.Application()
    app.router.add_get("/vicidial/non_agent_api.php", broken)
    async with serving(app) as url, aiohttp.ClientSession() as session:
        client = VicidialClient(session, url=url, user="wallboard", password=password, retries=0)
        with pytest.raises(TransportError) as caught:
            await client.fetch_campaigns()
    message = str(caught.value)
    assert "HTTP 502" in message
    assert message.isprintable(), message
    assert "Sup3r" not in message
    assert "_pass" not in message
