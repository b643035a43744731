"""``/vicidial/non_agent_api.php``: the request in, VICIdial's exact text out, faults on demand.

:class:`VicidialApi` is the PHP script with the database replaced by the dialer model: it takes
one request's parameters and the simulated time and returns the body, following the script's
order of checks (version, login gate, function dispatch, source, ``api_allowed_functions``,
permission, parameters). It is synchronous and free of HTTP so its answers are deterministic.
:class:`ApiEndpoint` wraps it for aiohttp: parameter reading (GET over POST), request counting,
the simulated clock, and the injected faults of :mod:`wallboard.simulator.faults`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

from aiohttp import web

from wallboard.simulator import formats
from wallboard.simulator.auth import (
    NO_FUNCTION_ERROR,
    PERMISSIONS,
    ApiUser,
    AuthResult,
    LoginGate,
    invalid_source_error,
    lock_error,
    login_error,
    not_allowed_error,
    sanitize,
)
from wallboard.simulator.faults import (
    NGINX_502_PAGE,
    PHP_FATAL_PAGE,
    FaultKind,
    FaultQueue,
    FaultSpec,
    endless_chunks,
    garbage_body,
    truncate,
    truncate_rows,
    without_final_newline,
)
from wallboard.simulator.types import (
    DIAL_METHODS,
    AgentDayLog,
    DayStats,
    HopperLead,
    SimAgent,
    SimCampaign,
    SimInGroup,
)

log = logging.getLogger(__name__)

API_PATH = "/vicidial/non_agent_api.php"
CURRENT_BUILD = ("2.14-202", "250720-1841")
LEGACY_BUILD = ("2.14-120", "230601-1200")  # before 240718: 8-column campaigns_list
AUTO_DIAL_LIMIT = 4.0  # system_settings.auto_dial_limit default
COFFEE = frozenset({"coffee", "start_coffee", "make_coffee", "brew_coffee"})


class DialerWorld(Protocol):
    """The part of ``world.World`` the HTTP layer uses (and nothing else)."""

    campaigns: dict[str, SimCampaign]
    agents: dict[str, SimAgent]
    ingroups: dict[str, SimInGroup]
    user_groups: list[str]

    @property
    def now(self) -> datetime: ...

    @property
    def local_now(self) -> datetime: ...

    @property
    def dst(self) -> bool: ...

    def local_today(self) -> date: ...

    def advance(self, now: datetime) -> None: ...

    def day_stats(self, code: str, day: date) -> DayStats: ...

    def hopper(self, campaign_id: str) -> list[HopperLead]: ...

    def set_active(self, campaign_id: str, active: bool) -> None: ...

    def steer(
        self,
        campaign_id: str,
        *,
        drop_ratio: float | None = None,
        answered_today: int | None = None,
        dropped_today: int | None = None,
    ) -> None: ...

    def agent_day_logs(self, start: datetime, end: datetime) -> list[AgentDayLog]: ...

    def state(self) -> dict[str, object]: ...


@dataclass(frozen=True)
class ApiAnswer:
    """A response body and its HTTP status (200 for everything but the coffee joke)."""

    body: str
    status: int = 200


class Params:
    """Request parameters, each sanitised as the PHP sanitises it; missing ones read as ``""``."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self._raw = raw

    def __getitem__(self, name: str) -> str:
        return sanitize(name, self._raw.get(name, ""))


class RequestLog:
    """What the API received, for ``GET /_sim/requests``. Never holds a password."""

    def __init__(self) -> None:
        self.total = 0
        self.by_function: Counter[str] = Counter()
        self.update_campaign: list[dict[str, str]] = []

    def count(self, function: str) -> None:
        self.total += 1
        self.by_function[function or "(none)"] += 1

    def snapshot(self) -> dict[str, object]:
        return {
            "total": self.total,
            "by_function": dict(self.by_function),
            "update_campaign": [dict(entry) for entry in self.update_campaign],
        }


def _line(text: str) -> str:
    return f"{text}\n"


def _split(value: str, separator: str) -> list[str]:
    return [item for item in value.split(separator) if item]


class VicidialApi:
    """The Non-Agent API script over a dialer model; see the module docstring."""

    def __init__(
        self,
        world: DialerWorld,
        gate: LoginGate,
        requests: RequestLog,
        *,
        legacy_build: bool = False,
        gmt_offset: float = -5.0,
    ) -> None:
        self._world = world
        self._gate = gate
        self._requests = requests
        self._legacy = legacy_build
        self._gmt_offset = gmt_offset
        self._functions: dict[str, Callable[[Params, ApiUser], str]] = {
            "logged_in_agents": self._logged_in_agents,
            "campaigns_list": self._campaigns_list,
            "hopper_list": self._hopper_list,
            "call_status_stats": self._call_status_stats,
            "in_group_status": self._in_group_status,
            "user_group_status": self._user_group_status,
            "agent_status": self._agent_status,
            "agent_stats_export": self._agent_stats_export,
            "update_campaign": self._update_campaign,
        }

    # ------------------------------------------------------------------ entry points
    def respond(self, raw: Mapping[str, str], now: datetime) -> ApiAnswer:
        """Answer one request at simulated time ``now`` (the world is already advanced)."""
        p = Params(raw)
        function = p["function"]
        if function == "version":
            return ApiAnswer(_line(self._version()))
        if function in COFFEE:
            return ApiAnswer(f"Coffee: {function}|Error 418 I'm a teapot", status=418)
        user, password = p["user"], p["pass"]
        result, account = self._gate.check(user, password, now)
        if result is AuthResult.LOCK:
            return ApiAnswer(_line(lock_error(user)))
        if account is None:
            return ApiAnswer(_line(login_error(user, password)))
        handler = self._functions.get(function)
        if handler is None:
            return ApiAnswer(_line(NO_FUNCTION_ERROR))
        refusal = self._preflight(function, p, account)
        text = refusal if refusal is not None else handler(p, account)
        if function == "update_campaign":
            self._record_update(p, now, text)
        return ApiAnswer(text)

    def error_text(self, raw: Mapping[str, str]) -> str:
        """The requested function's own ``ERROR:`` line (its permission error), for faults.

        Functions without a permission error (``version``, unknown names) get
        ``ERROR: NO FUNCTION SPECIFIED``.
        """
        p = Params(raw)
        permission = PERMISSIONS.get(p["function"])
        if permission is None:
            return _line(NO_FUNCTION_ERROR)
        return _line(permission.error(p["user"]))

    # ------------------------------------------------------------------ shared checks
    def _preflight(self, function: str, p: Params, account: ApiUser) -> str | None:
        """Source (or campaigns), ``api_allowed_functions``, then the permission query."""
        source = p["source"]
        if function == "call_status_stats":
            if len(p["campaigns"]) < 2:
                return formats.body(
                    [
                        f"ERROR: call_status_stats INVALID OR MISSING CAMPAIGNS - {source}",
                        f"ERROR: Invalid Source: |{source}|",
                    ]
                )
        elif len(source) < 2:
            return _line(invalid_source_error(source))
        if not account.may_use(function):
            return _line(not_allowed_error(account.user, function))
        permission = PERMISSIONS[function]
        if not permission.allows(account):
            return _line(permission.error(account.user))
        return None

    def _record_update(self, p: Params, now: datetime, text: str) -> None:
        entry = {
            "campaign_id": p["campaign_id"],
            "active": p["active"],
            "at": now.isoformat(),
            "result": text.split("\n", 1)[0],
        }
        for optional in ("auto_dial_level", "dial_method"):
            if p[optional]:
                entry[optional] = p[optional]
        self._requests.update_campaign.append(entry)

    # ------------------------------------------------------------------ functions
    def _version(self) -> str:
        version, build = LEGACY_BUILD if self._legacy else CURRENT_BUILD
        world = self._world
        tz = f"{self._gmt_offset:.2f}"
        # PHP: $SERVER_GMT is the DB string, incremented (becoming a number) only during DST.
        tz_now = formats.php_number(self._gmt_offset + 1) if world.dst else tz
        return (
            f"VERSION: {version}|BUILD: {build}|"
            f"DATE: {world.local_now:%Y-%m-%d %H:%M:%S}|EPOCH: {int(world.now.timestamp())}|"
            f"DST: {int(world.dst)}|TZ: {tz}|TZNOW: {tz_now}|"
        )

    def _logged_in_agents(self, p: Params, account: ApiUser) -> str:
        agents = list(self._world.agents.values())
        if campaigns := p["campaigns"]:
            wanted = set(campaigns.split("|"))
            agents = [a for a in agents if a.campaign_id in wanted]
        if groups := p["user_groups"]:
            wanted_groups = set(groups.split("|"))
            agents = [a for a in agents if a.user_group in wanted_groups]
        if not agents:
            return _line(
                f"ERROR: logged_in_agents NO LOGGED IN AGENTS: {account.user}|{p['agent_user']}"
            )
        show = p["show_sub_status"] == "YES"
        return formats.render_table(
            formats.logged_in_agents_columns(show),
            (formats.logged_in_agent_row(a, show_sub_status=show) for a in agents),
            stage=p["stage"],
            header=p["header"],
        )

    def _campaigns_list(self, p: Params, account: ApiUser) -> str:
        campaigns = list(self._world.campaigns.values())
        if campaign_id := p["campaign_id"]:
            campaigns = [c for c in campaigns if c.campaign_id == campaign_id]
        if not campaigns:
            return _line(
                f"ERROR: campaigns_list THIS USER HAS NO VIEWABLE CAMPAIGNS: {account.user}|"
            )
        return formats.render_table(
            formats.campaigns_list_columns(legacy=self._legacy),
            (formats.campaign_row(c, legacy=self._legacy) for c in campaigns),
            stage=p["stage"],
            header=p["header"],
        )

    def _hopper_list(self, p: Params, account: ApiUser) -> str:
        campaign_id = p["campaign_id"]
        if campaign_id not in self._world.campaigns:
            return _line(
                f"ERROR: hopper_list THIS CAMPAIGN DOES NOT EXIST: |{account.user}|{campaign_id}"
            )
        leads = self._world.hopper(campaign_id)
        if not leads:
            return _line(
                "ERROR: hopper_list THERE ARE NO LEADS IN THE HOPPER FOR THIS CAMPAIGN: "
                f"{account.user}|{campaign_id}"
            )
        return formats.render_table(
            formats.HOPPER_LIST_COLUMNS,
            (formats.hopper_row(lead) for lead in leads),
            stage=p["stage"],
            header=p["header"],
        )

    def _call_status_stats(self, p: Params, account: ApiUser) -> str:
        """One line per requested campaign, then per in-group; ``stage``/``header`` ignored.

        Requested codes the world does not know print nothing. ``query_date`` picks the day
        (default today); ``query_time``, ``end_date``, ``end_time`` and ``statuses`` are not
        modelled.
        """
        world = self._world
        requested = p["campaigns"]
        codes = requested.split("-")
        if "ALLCAMPAIGNS" in codes or "---ALL---" in requested:
            campaigns = sorted(world.campaigns)
        else:
            campaigns = sorted({c for c in codes if c in world.campaigns})
        if ingroups_param := p["ingroups"]:
            ingroups = set(_split(ingroups_param, "-"))
        else:
            ingroups = {
                group for cid in campaigns for group in world.campaigns[cid].closer_campaigns
            }
        day = self._query_day(p["query_date"])
        lines = [
            formats.call_status_line(code, self._day_stats(code, day))
            for code in campaigns + sorted(g for g in ingroups if g in world.ingroups)
        ]
        return formats.body(lines)

    def _query_day(self, query_date: str) -> date | None:
        today = self._world.local_today()
        if not query_date:
            return today
        try:
            day = date.fromisoformat(query_date)
        except ValueError:
            return None
        return day if day <= today else None

    def _day_stats(self, code: str, day: date | None) -> DayStats:
        return DayStats() if day is None else self._world.day_stats(code, day)

    def _user_group_status(self, p: Params, account: ApiUser) -> str:
        groups = p["user_groups"]
        if not groups:
            return _line(f"ERROR: user_group_status INVALID SEARCH PARAMETERS: {account.user}|")
        wanted = set(groups.split("|"))
        agents = [a for a in self._world.agents.values() if a.user_group in wanted]
        # Every LIVE call in the user's campaigns and in-groups, whatever groups were asked for.
        calls_waiting = sum(g.calls_waiting for g in self._world.ingroups.values()) + sum(
            c.calls_waiting for c in self._world.campaigns.values()
        )
        row = formats.user_group_status_row(
            groups.replace("|", " "), calls_waiting, formats.count_agents(agents, detect_calls=True)
        )
        return formats.render_table(
            formats.USER_GROUP_STATUS_COLUMNS, [row], stage=p["stage"], header=p["header"]
        )

    def _in_group_status(self, p: Params, account: ApiUser) -> str:
        groups = p["in_groups"]
        if not groups:
            return _line(f"ERROR: in_group_status INVALID SEARCH PARAMETERS: {account.user}|")
        wanted = set(groups.split("|"))
        found = [g for gid, g in self._world.ingroups.items() if gid in wanted]
        # vicidial_auto_calls.campaign_id also holds outbound campaign ids (API.md §5.5).
        outbound = [c for cid, c in self._world.campaigns.items() if cid in wanted]
        users = {user for g in found for user in g.agent_users}
        agents = [a for a in self._world.agents.values() if a.user in users]
        row = formats.in_group_status_row(
            groups.replace("|", " "),
            sum(g.total_calls for g in found) + sum(c.total_calls for c in outbound),
            sum(g.calls_waiting for g in found) + sum(c.calls_waiting for c in outbound),
            formats.count_agents(agents, detect_calls=False),
        )
        return formats.render_table(
            formats.IN_GROUP_STATUS_COLUMNS, [row], stage=p["stage"], header=p["header"]
        )

    def _agent_status(self, p: Params, account: ApiUser) -> str:
        agent_user = p["agent_user"]
        if not 0 < len(agent_user) < 100:
            return _line(
                f"ERROR: agent_status INVALID SEARCH PARAMETERS: {account.user}|{agent_user}"
            )
        agent = self._world.agents.get(agent_user)
        if agent is None:
            known = agent_user in self._known_users()
            reason = "AGENT NOT LOGGED IN" if known else "AGENT NOT FOUND"
            return _line(f"ERROR: agent_status {reason}: {account.user}|{agent_user}")
        columns = (
            formats.AGENT_STATUS_LEGACY_COLUMNS if self._legacy else formats.AGENT_STATUS_COLUMNS
        )
        return formats.render_table(
            columns, [formats.agent_status_row(agent)], stage=p["stage"], header=p["header"]
        )

    def _known_users(self) -> set[str]:
        """Agent users that exist: logged in now, or seen in today's agent log."""
        world = self._world
        midnight = datetime.combine(world.local_today(), time())
        logged = world.agent_day_logs(midnight, world.local_now)
        return set(world.agents) | {entry.user for entry in logged}

    def _agent_stats_export(self, p: Params, account: ApiUser) -> str:
        agent_user, campaign_id = p["agent_user"], p["campaign_id"]
        start, end = p["datetime_start"], p["datetime_end"]
        if not (len(start) == 19 and len(end) == 19):
            return _line(
                "ERROR: agent_stats_export INVALID SEARCH PARAMETERS: "
                f"{account.user}|{agent_user}|{start}|{end}|{campaign_id}"
            )
        start, end = start.replace("+", " "), end.replace("+", " ")
        logs = self._agent_logs(start, end)
        if 0 < len(agent_user) < 21:
            logs = [entry for entry in logs if entry.user == agent_user]
        if 0 < len(campaign_id) < 9:
            logs = [entry for entry in logs if entry.campaign_id == campaign_id]
        if not logs:
            return _line(
                "ERROR: agent_stats_export NO RECORDS FOUND - "
                f"{account.user}|{agent_user}|{start}|{end}|{campaign_id}"
            )
        group_by_campaign = p["group_by_campaign"] == "YES"
        people = {a.user: (a.full_name, a.user_group) for a in self._world.agents.values()}
        rows = formats.agent_stats_rows(
            logs,
            people,
            time_format=p["time_format"] or "HF",
            group_by_campaign=group_by_campaign,
        )
        return formats.render_table(
            formats.agent_stats_columns(group_by_campaign=group_by_campaign),
            rows,
            stage=p["stage"],
            header=p["header"],
        )

    def _agent_logs(self, start: str, end: str) -> list[AgentDayLog]:
        try:
            first = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
            last = datetime.strptime(end, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return []
        last = min(last, self._world.local_now)
        if last < first:
            return []
        return self._world.agent_day_logs(first, last)

    def _update_campaign(self, p: Params, account: ApiUser) -> str:
        """``active`` is applied to the model; ``auto_dial_level``/``dial_method`` are validated."""
        user, campaign_id = account.user, p["campaign_id"]
        if not 2 <= len(campaign_id) <= 8:
            return _line(
                "ERROR: update_campaign YOU MUST USE ALL REQUIRED FIELDS: "
                f"|{user}|{campaign_id}|{p['campaign_name']}|{campaign_id}"
            )
        if campaign_id not in self._world.campaigns:
            return _line(f"ERROR: update_campaign CAMPAIGN DOES NOT EXIST: |{user}|{campaign_id}")
        updates = 0
        if level := p["auto_dial_level"]:
            limit = AUTO_DIAL_LIMIT + 0.001
            if not _is_number(level) or float(level) > limit:
                return _optional_field_error(
                    user, f"AUTO DIAL LEVEL MUST BE FROM 0 TO {formats.php_number(limit)}", level
                )
            updates += 1
        if method := p["dial_method"]:
            if method not in DIAL_METHODS:
                return _optional_field_error(user, "DIAL METHOD IS NOT VALID", method)
            updates += 1
        active = p["active"]
        if active:
            if active not in ("Y", "N"):
                return _optional_field_error(user, "ACTIVE MUST BE Y OR N", active)
            updates += 1
        if not updates:
            return _line(f"NOTICE: update_campaign NO UPDATES DEFINED: |{user}|")
        if active:
            self._world.set_active(campaign_id, active == "Y")
        return _line(f"SUCCESS: update_campaign CAMPAIGN HAS BEEN UPDATED - {user}|{campaign_id}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _optional_field_error(user: str, message: str, value: str) -> str:
    return _line(f"ERROR: update_campaign {message}, THIS IS AN OPTIONAL FIELD: |{user}|{value}")


# ---------------------------------------------------------------------- HTTP
async def read_params(request: web.Request) -> dict[str, str]:
    """``$_GET`` first, then ``$_POST``; within each, a repeated name keeps its last value."""
    params: dict[str, str] = {}
    if request.method == "POST":
        for name, value in (await request.post()).items():
            if isinstance(value, str):
                params[name] = value
    params.update({name: value for name, value in request.query.items()})
    return params


def text_response(text: str | bytes, *, status: int = 200) -> web.Response:
    """PHP's default headers: ``text/html; charset=utf-8`` and no caching."""
    response = web.Response(status=status, content_type="text/html", charset="utf-8")
    response.body = text.encode() if isinstance(text, str) else text
    response.headers["Cache-Control"] = "no-cache, must-revalidate"
    response.headers["Pragma"] = "no-cache"
    return response


class ApiEndpoint:
    """The aiohttp handler: clock, world advance, counting, then the answer or a queued fault."""

    def __init__(
        self,
        api: VicidialApi,
        world: DialerWorld,
        now: Callable[[], datetime],
        faults: FaultQueue,
        requests: RequestLog,
        stopping: asyncio.Event,
        *,
        seed: int,
        slow_seconds: float,
    ) -> None:
        self._api = api
        self._world = world
        self._now = now
        self._faults = faults
        self._requests = requests
        self._stopping = stopping
        self._seed = seed
        self._slow_seconds = slow_seconds
        self._garbage_served = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await read_params(request)
        function = sanitize("function", raw.get("function", ""))
        now = self._now()
        self._world.advance(now)
        self._requests.count(function)
        fault = self._faults.take(function)
        if fault is None:
            answer = self._api.respond(raw, now)
            return text_response(answer.body, status=answer.status)
        log.info("simulator: injecting %s fault into %s", fault.kind.value, function or "(none)")
        return await self._inject(fault, request, raw, now)

    async def _inject(
        self, fault: FaultSpec, request: web.Request, raw: Mapping[str, str], now: datetime
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind is FaultKind.TIMEOUT:
            await self._stopping.wait()  # a client giving up cancels this handler
            return _drop_connection(request)
        if kind is FaultKind.RESET:
            return _drop_connection(request)
        if kind is FaultKind.HTTP_500:
            return text_response(PHP_FATAL_PAGE, status=500)
        if kind is FaultKind.HTML:
            return web.Response(status=502, text=NGINX_502_PAGE, content_type="text/html")
        if kind is FaultKind.GARBAGE:
            self._garbage_served += 1
            return text_response(garbage_body(self._seed, self._garbage_served))
        if kind is FaultKind.ERROR:
            return text_response(self._api.error_text(raw))
        if kind is FaultKind.LOGIN:
            p = Params(raw)
            return text_response(_line(login_error(p["user"], p["pass"])))
        if kind is FaultKind.LOCK:
            return text_response(_line(lock_error(Params(raw)["user"])))
        answer = self._api.respond(raw, now)
        if kind is FaultKind.TRUNCATED:
            return text_response(truncate(answer.body.encode()), status=answer.status)
        if kind is FaultKind.TRUNCATED_ROW:
            return text_response(truncate_rows(answer.body.encode()), status=answer.status)
        if kind is FaultKind.NO_NEWLINE:
            return text_response(without_final_newline(answer.body.encode()), status=answer.status)
        if kind is FaultKind.ENDLESS:
            return await self._stream_endless(request, answer.body.encode())
        delay = self._slow_seconds if fault.seconds is None else fault.seconds
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        except TimeoutError:
            return text_response(answer.body, status=answer.status)
        return _drop_connection(request)

    async def _stream_endless(self, request: web.Request, full: bytes) -> web.StreamResponse:
        """Stream ``full`` and then its rows forever, until the client leaves or we stop.

        ``write`` waits for the socket to drain (back-pressure), so at most about one chunk is
        buffered here however long it runs; a client that stops reading stalls the writer
        rather than growing memory. Chunked transfer encoding: no length is announced.
        """
        response = web.StreamResponse(status=200)
        response.content_type = "text/html"
        response.charset = "utf-8"
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for chunk in endless_chunks(full):
                if self._stopping.is_set():
                    break
                await response.write(chunk)
                await asyncio.sleep(0)  # let other requests in even when the client keeps up
        except ConnectionError:
            pass  # the client hung up: writing to its closed socket raises ConnectionResetError
        _drop_connection(request)
        return response


def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket without an answer; the returned response is never written."""
    if request.transport is not None:
        request.transport.close()
    return web.Response()


__all__ = [
    "API_PATH",
    "ApiAnswer",
    "ApiEndpoint",
    "DialerWorld",
    "Params",
    "RequestLog",
    "VicidialApi",
    "read_params",
    "text_response",
]
