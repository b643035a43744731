"""``/_sim/*``: the JSON routes tests and demos use to look at and steer the simulated dialer.

These routes change the world and can inject failures, so they answer loopback clients only
(anything else gets 403), even when the API itself listens on a public address. They never
return the API password: the request log records parameters without it.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from wallboard.simulator.api import DialerWorld, RequestLog
from wallboard.simulator.faults import FaultQueue, FaultRequestError, parse_fault

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(remote: str | None) -> bool:
    """True for 127.0.0.0/8, ``::1`` and IPv4-mapped loopback; False for anything else."""
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@web.middleware
async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_loopback(request.remote):
        return _error(403, "the /_sim control routes answer loopback clients only")
    return await handler(request)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class _BadRequest(Exception):
    """A control request body that cannot be applied; becomes a 400 JSON error."""


async def _json_object(request: web.Request) -> Mapping[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _BadRequest("the body must be JSON") from None
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    return data


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class ControlRoutes:
    """Handlers for the control sub-application; see :meth:`application`."""

    def __init__(
        self,
        world: DialerWorld,
        now: Callable[[], datetime],
        advance_clock: Callable[[float], None],
        faults: FaultQueue,
        requests: RequestLog,
    ) -> None:
        self._world = world
        self._now = now
        self._advance_clock = advance_clock
        self._faults = faults
        self._requests = requests

    def application(self) -> web.Application:
        """A sub-application to mount at ``/_sim`` (its middleware enforces loopback)."""
        app = web.Application(middlewares=[loopback_only])
        app.router.add_get("/state", self._guarded(self.state))
        app.router.add_post("/faults", self._guarded(self.add_fault))
        app.router.add_delete("/faults", self._guarded(self.clear_faults))
        app.router.add_post("/campaigns/{campaign_id}", self._guarded(self.steer_campaign))
        app.router.add_get("/requests", self._guarded(self.requests))
        app.router.add_post("/clock", self._guarded(self.advance_clock))
        return app

    def _guarded(self, handler: Handler) -> Handler:
        """Advance the world to the simulated now first; turn bad bodies into 400s."""

        async def run(request: web.Request) -> web.StreamResponse:
            self._world.advance(self._now())
            try:
                return await handler(request)
            except _BadRequest as exc:
                return _error(400, str(exc))

        return run

    async def state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._world.state())

    async def add_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            spec = parse_fault(await _json_object(request))
        except FaultRequestError as exc:
            raise _BadRequest(str(exc)) from None
        self._faults.add(spec)
        return web.json_response({"queued": self._faults.pending()}, status=201)

    async def clear_faults(self, request: web.Request) -> web.StreamResponse:
        self._faults.clear()
        return web.json_response({"queued": []})

    async def steer_campaign(self, request: web.Request) -> web.StreamResponse:
        campaign_id = request.match_info["campaign_id"]
        if campaign_id not in self._world.campaigns:
            return _error(404, f"no campaign {campaign_id!r}")
        body = await _json_object(request)
        allowed = {"drop_ratio", "answered_today", "dropped_today", "active", "dial_timeout"}
        unknown = set(body) - allowed
        if unknown or not body:
            raise _BadRequest(
                "expected drop_ratio, answered_today/dropped_today, active and/or dial_timeout; "
                f"unknown: {', '.join(sorted(unknown)) or 'nothing given'}"
            )
        dial_timeout = body.get("dial_timeout")
        if dial_timeout is not None and not (_is_count(dial_timeout) and 1 <= dial_timeout <= 120):
            raise _BadRequest("dial_timeout must be an integer from 1 to 120 (seconds)")
        drop_ratio = body.get("drop_ratio")
        if drop_ratio is not None and not (_is_number(drop_ratio) and 0 <= drop_ratio <= 1):
            raise _BadRequest("drop_ratio must be a number from 0 to 1")
        answered, dropped = body.get("answered_today"), body.get("dropped_today")
        for name, value in (("answered_today", answered), ("dropped_today", dropped)):
            if value is not None and not _is_count(value):
                raise _BadRequest(f"{name} must be a non-negative integer")
        if answered is not None and dropped is not None and dropped > answered:
            raise _BadRequest("dropped_today cannot exceed answered_today (drops are answers)")
        active = body.get("active")
        if active is not None and not isinstance(active, bool):
            raise _BadRequest("active must be true or false")
        if drop_ratio is not None or answered is not None or dropped is not None:
            self._world.steer(
                campaign_id,
                drop_ratio=None if drop_ratio is None else float(drop_ratio),
                answered_today=answered,
                dropped_today=dropped,
            )
        if active is not None:
            self._world.set_active(campaign_id, active)
        if dial_timeout is not None:  # what campaigns_list prints; the ring time follows it
            self._world.campaigns[campaign_id].dial_timeout = int(dial_timeout)
        return web.json_response({"campaign_id": campaign_id, "applied": dict(body)})

    async def requests(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._requests.snapshot())

    async def advance_clock(self, request: web.Request) -> web.StreamResponse:
        seconds = (await _json_object(request)).get("advance_seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise _BadRequest("advance_seconds must be a non-negative number")
        self._advance_clock(float(seconds))
        now = self._now()
        self._world.advance(now)
        return web.json_response({"now": now.isoformat()})
