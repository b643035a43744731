"""A running VICIdial simulator for tests: real HTTP on 127.0.0.1, an OS-assigned port.

Usage::

    async with running_simulator(seed=3) as sim:
        text = await sim.call("logged_in_agents", stage="csv", header="YES")
        await sim.add_fault("hopper_list", "timeout", times=1)
        await sim.advance(60)          # move the simulated clock (speed is 0 by default)

By default time is frozen (``speed=0``) at :data:`DEFAULT_START`, so answers only change when
a test calls :meth:`SimHandle.advance`; pass ``speed=`` and/or ``start=`` to change that. Any
other :class:`~wallboard.simulator.server.SimulatorOptions` field can be given as a keyword.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp

from wallboard.simulator.server import (
    WORLD_KEY,
    RunningSimulator,
    SimulatorOptions,
    start_simulator,
)
from wallboard.simulator.world import World

# A Wednesday, 10:37:13 local time at GMT-5 during DST (the API.md §5.1 sample).
DEFAULT_START = datetime(2025, 9, 3, 14, 37, 13, tzinfo=UTC)


@dataclass(frozen=True)
class RawAnswer:
    """One HTTP answer as received."""

    status: int
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8")


class SimHandle:
    """Addresses, credentials and control helpers of one running simulator."""

    def __init__(self, simulator: RunningSimulator, session: aiohttp.ClientSession) -> None:
        self.simulator = simulator
        self.session = session
        self.base_url = simulator.base_url
        self.api_url = simulator.api_url
        self.user = simulator.options.user
        self.password = simulator.options.password

    @property
    def world(self) -> World:
        """The simulator's dialer model (same process), for comparing answers with its state."""
        return self.simulator.app[WORLD_KEY]

    async def call(self, function: str, *, method: str = "GET", **params: str) -> str:
        """Call the API as the configured user (``source=test`` unless given); the body text."""
        return (await self.raw(function, method=method, **params)).text()

    async def raw(self, function: str, *, method: str = "GET", **params: str) -> RawAnswer:
        """Call the API and keep status, headers and the undecoded body."""
        query = {"source": "test", "user": self.user, "pass": self.password, "function": function}
        query.update(params)
        if method == "POST":
            request = self.session.post(self.api_url, data=query)
        else:
            request = self.session.get(self.api_url, params=query)
        async with request as response:
            return RawAnswer(response.status, dict(response.headers), await response.read())

    async def _control(self, method: str, path: str, body: object = None) -> Any:
        async with self.session.request(method, f"{self.base_url}/_sim{path}", json=body) as r:
            payload = await r.json()
            if r.status >= 400:
                raise AssertionError(f"{method} /_sim{path} -> {r.status}: {payload}")
            return payload

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._control("GET", "/state")
        return result

    async def add_fault(
        self, function: str, kind: str, times: int = 1, *, seconds: float | None = None
    ) -> None:
        body: dict[str, Any] = {"function": function, "kind": kind, "times": times}
        if seconds is not None:
            body["seconds"] = seconds
        await self._control("POST", "/faults", body)

    async def clear_faults(self) -> None:
        await self._control("DELETE", "/faults")

    async def steer(self, campaign: str, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._control("POST", f"/campaigns/{campaign}", changes)
        return result

    async def requests(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._control("GET", "/requests")
        return result

    async def advance(self, seconds: float) -> datetime:
        """Move the simulated clock forward; returns the new simulated now."""
        result = await self._control("POST", "/clock", {"advance_seconds": seconds})
        return datetime.fromisoformat(result["now"])


@asynccontextmanager
async def running_simulator(**options: Any) -> AsyncIterator[SimHandle]:
    """Start a simulator (frozen clock at :data:`DEFAULT_START` unless overridden)."""
    chosen = replace(SimulatorOptions(speed=0.0, start=DEFAULT_START), **options)
    simulator = await start_simulator(chosen, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            yield SimHandle(simulator, session)
    finally:
        await simulator.close()
