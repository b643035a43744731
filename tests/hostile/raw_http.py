"""HTTP over a bare socket: requests no client library would send, answers read as bytes.

aiohttp's client (rightly) refuses to send a NUL in a path, a 20 KB header or a request line
with junk after the version; a scanner on the floor LAN sends them anyway. :func:`exchange`
writes the bytes given and reads the answer until the server closes the connection (every
request here says ``Connection: close``, and aiohttp closes after a refused request).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from multidict import CIMultiDict, CIMultiDictProxy

from wallboard.web.security import SECURITY_HEADERS

#: The answer, if any, must come within this; a hang is a finding too.
ANSWER_SECONDS = 10.0


@dataclass(frozen=True)
class RawAnswer:
    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes


def parse_answer(data: bytes) -> RawAnswer:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    match = re.fullmatch(r"HTTP/\d\.\d (\d{3}) ?(.*)", status_line)
    assert match, f"not an HTTP answer: {data[:200]!r}"
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, _, value = line.partition(":")
        headers.add(name.strip(), value.strip())
    return RawAnswer(int(match[1]), match[2], CIMultiDictProxy(headers), body)


async def exchange(url: str, request: bytes) -> RawAnswer:
    """Send ``request`` as it is to the server at ``url``; the whole answer."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), ANSWER_SECONDS)
    finally:
        writer.close()
    return parse_answer(data)


def get(target: str | bytes, *headers: bytes, method: bytes = b"GET") -> bytes:
    """A request for ``target`` with ``headers`` (each ``b"Name: value"``), closing after."""
    raw_target = target.encode("latin-1") if isinstance(target, str) else target
    lines = [method + b" " + raw_target + b" HTTP/1.1", b"Host: wallboard", *headers]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""])


def assert_hardened(answer: RawAnswer, what: object) -> None:
    """Our security headers, and no header naming the server software's version."""
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (what, name, answer.headers.get(name))
    leaks = [
        f"{k}: {v}" for k, v in answer.headers.items() if re.search(r"aiohttp|python", v, re.I)
    ]
    assert leaks == [], (what, leaks)
