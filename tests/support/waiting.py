"""Wait on a condition with a deadline (never a fixed sleep standing in for an outcome)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

#: How often a condition is re-checked: the polling step, not a guess at how long things take.
POLL_STEP = 0.02


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float = 10.0, what: str = ""
) -> float:
    """Poll ``condition`` (sync or async) until true; return the seconds it took."""
    started = time.monotonic()
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within}s: {what or condition!r}")
        await asyncio.sleep(POLL_STEP)
