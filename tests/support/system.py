"""Optional system binaries: skip with a clear reason, or fail when CI requires them."""

from __future__ import annotations

import os
import shutil

import pytest


def require_binary(name: str, *candidates: str, package: str | None = None) -> str:
    """Return the path of a system binary the test needs.

    Skips the test when it is missing, unless ``WALLBOARD_REQUIRE_SYSTEM_DEPS=1`` (CI), where a
    missing binary is a failure: CI must never go green by skipping the real-parts tests.
    """
    for candidate in (name, *candidates):
        path = shutil.which(candidate) or (
            candidate if os.path.isabs(candidate) and os.access(candidate, os.X_OK) else None
        )
        if path:
            return path
    reason = f"{name} is not installed (apt-get install --no-install-recommends {package or name})"
    if os.environ.get("WALLBOARD_REQUIRE_SYSTEM_DEPS") == "1":
        pytest.fail(f"WALLBOARD_REQUIRE_SYSTEM_DEPS=1 but {reason}")
    pytest.skip(reason)


async def promtool_check_metrics(text: str) -> None:
    """``promtool check metrics`` on an exposition (skips or fails like require_binary)."""
    import asyncio

    promtool = require_binary("promtool", "/usr/bin/promtool", package="prometheus")
    process = await asyncio.create_subprocess_exec(
        promtool,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate(text.encode())
    assert process.returncode == 0, out.decode()
