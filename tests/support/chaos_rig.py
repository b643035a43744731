"""The soak's moving parts, each a real process: the simulator, redis-server and two daemons.

Nothing in-process can stand in for a daemon that is ``kill -9``ed: it must lose its memory
between two instructions, so both daemon instances are ``python -m wallboard run`` processes
sharing one Redis (cache backend ``redis``), each with its own port and log file per start.
A daemon that exits when the soak did not ask it to is a crash; so is a non-zero exit after a
``SIGTERM``.

The secrets are distinctive random values (:func:`make_secrets`) so a scan that finds one
finds a leak, never a coincidence; the daemons read them from their config file, the
simulator from its environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets as token
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.chaos_plan import CAMPAIGNS, INGROUPS, PAUSED_CAMPAIGN, SoakPlan, Timing
from tests.support.chaos_sim import PASSWORD_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The Slack stand-in's ``#floor`` (``chat.update`` wants the ID).
CHANNEL = "C0FLOOR001"
#: The Redis key prefix the daemons use (``cache.key_prefix``).
KEY_PREFIX = "soak"
_CONTROL_TIMEOUT = aiohttp.ClientTimeout(total=10.0)
#: A function the daemon never calls: a fault queued on it is only a way to read the queue.
MARKER_FUNCTION = "agent_status"


@dataclass(frozen=True)
class Secrets:
    """The values that must never leak. Both fit what VICIdial and Slack accept."""

    vicidial_password: str = field(repr=False)
    slack_token: str = field(repr=False)

    def named(self) -> dict[str, str]:
        return {"vicidial_password": self.vicidial_password, "slack_token": self.slack_token}


def make_secrets() -> Secrets:
    return Secrets(
        vicidial_password=f"SoakPw-{token.token_hex(8)}",
        slack_token=f"xoxb-soak-{token.token_hex(10)}",
    )


@dataclass(frozen=True)
class Injection:
    """A fault the simulator applied to a request, by the wall clock."""

    at: float
    function: str
    kind: str


def dialer_offset(now: datetime) -> float:
    """A UTC offset that puts the simulated dialer (and the daemons' idea of its day) at mid
    morning, whatever the hour: no run crosses the dialer's midnight by accident."""
    return float(max(-12, min(14, 10 - now.astimezone(UTC).hour)))


class SimProcess:
    """``python -m tests.support.chaos_sim``: the simulator and its fault log."""

    def __init__(self, plan: SoakPlan, secrets: Secrets, log: Path) -> None:
        self._plan = plan
        self._secrets = secrets
        self._log = log
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""
        self.injections: list[Injection] = []
        self._reader: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        now = datetime.now(UTC)
        env = dict(os.environ, **{PASSWORD_ENV: self._secrets.vicidial_password})
        with self._log.open("wb") as errors:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.support.chaos_sim",
                "--seed", str(self._plan.seed), "--speed", str(self._plan.scale.speed),
                "--start", now.isoformat(), "--gmt-offset", str(dialer_offset(now)),
                "--slow-seconds", str(2 * self._plan.timing.timeout),
                "--campaigns", str(len(CAMPAIGNS)),
                stdout=asyncio.subprocess.PIPE, stderr=errors, cwd=REPO_ROOT, env=env,
            )  # fmt: skip
        assert self.process.stdout is not None
        first = await asyncio.wait_for(self.process.stdout.readline(), 30.0)
        if not first:
            raise RuntimeError(f"the simulator did not start:\n{self._log.read_text()[-2000:]}")
        self.url = json.loads(first)["url"]
        self._reader = asyncio.create_task(self._read_injections())
        self._http = aiohttp.ClientSession(timeout=_CONTROL_TIMEOUT)

    async def _read_injections(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            event = json.loads(line)
            self.injections.append(Injection(event["at"], event["function"], event["kind"]))

    async def control(self, method: str, path: str, body: object = None) -> Any:
        assert self._http is not None
        async with self._http.request(method, f"{self.url}/_sim{path}", json=body) as response:
            document = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"{method} /_sim{path} -> {response.status}: {document}")
            return document

    async def fault(self, function: str, kind: str, times: int) -> None:
        await self.control("POST", "/faults", {"function": function, "kind": kind, "times": times})

    async def clear_faults(self) -> None:
        await self.control("DELETE", "/faults")

    async def end_window(self, function: str, kind: str) -> None:
        """Stop a long fault but keep the short ones still queued behind it.

        The control API clears all or nothing, so the queue is read first (the answer to a
        ``POST`` lists it: a marker on ``agent_status``, which the daemon never calls), then
        cleared, then everything but the window and the marker is queued again.
        """
        marker = {"function": MARKER_FUNCTION, "kind": "error", "times": 1}
        queued = (await self.control("POST", "/faults", marker))["queued"]
        await self.clear_faults()
        for entry in queued:
            if entry["function"] == MARKER_FUNCTION or (
                entry["function"] == function and entry["kind"] == kind
            ):
                continue
            await self.fault(entry["function"], entry["kind"], int(entry["remaining"]))

    async def steer(self, campaign: str, **body: Any) -> None:
        await self.control("POST", f"/campaigns/{campaign}", body)

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.control("GET", "/state")
        return result

    async def requests(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.control("GET", "/requests")
        return result

    async def api(self, function: str, **params: str) -> str:
        """Ask the simulated VICIdial directly (the truth the ledger is compared with)."""
        assert self._http is not None
        query = {
            "source": "soak",
            "user": "wallboard",
            "pass": self._secrets.vicidial_password,
            "function": function,
            **params,
        }
        async with self._http.get(f"{self.url}/vicidial/non_agent_api.php", params=query) as r:
            return await r.text()

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10.0)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 5.0)


def write_config(
    path: Path,
    *,
    timing: Timing,
    sim_url: str,
    redis_url: str,
    slack_base_url: str,
    secrets: Secrets,
    port: int,
) -> Path:
    """A ``wallboard run`` config for one soak instance: the short end of every setting."""
    t = timing
    campaigns = json.dumps(list(CAMPAIGNS))
    state = path.parent / f"{path.stem}-state"
    state.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""# written by the chaos soak (tests/support/chaos_rig.py)
[vicidial]
url = "{sim_url}"
user = "wallboard"
pass = "{secrets.vicidial_password}"
campaigns = {campaigns}
ingroups = {json.dumps(list(INGROUPS))}
timeout = "{t.timeout:g}s"
max_response_bytes = "1MB"
login_retry = "{t.login_retry:g}s"
lock_retry = "{t.lock_retry:g}s"

[poll]
agents_interval = "{t.interval:g}s"
stats_interval = "{t.interval:g}s"
campaigns_interval = "{t.interval:g}s"
hopper_interval = "{t.interval:g}s"
ingroups_interval = "{t.interval:g}s"
jitter = "{t.jitter:g}s"
history_days = 30
history_throttle = "0s"
max_requests_per_minute = 1000

[cache]
backend = "redis"
redis_url = "{redis_url}"
key_prefix = "{KEY_PREFIX}"
lock_ttl = "{t.lock_ttl:g}s"

[web]
listen = "127.0.0.1:{port}"

[[boards]]
name = "floor"
title = "Soak floor"
campaigns = "all"

[alerts]
limit = {t.limit}
warn_at = {t.warn_at}
critical_at = {t.critical_at}
clear_margin = {t.clear_margin}
min_answered = {t.min_answered}
pending = "{t.pending:g}s"
stale_after = "{t.stale_after:g}s"
repeat = "{t.repeat:g}s"

[alerts.auto_pause]
campaigns = ["{PAUSED_CAMPAIGN}"]
at = {t.pause_at}
dry_run = false
windows = ["today"]

[slack]
token = "{secrets.slack_token}"
channel = "#floor"
base_url = "{slack_base_url}"

[state]
path = "{state / "wallboard.db"}"
"""
    )
    return path


class DaemonProcess:
    """One daemon instance: started, ``kill -9``ed and started again on the same port."""

    def __init__(self, name: str, config: Path, port: int, logs: Path) -> None:
        self.name = name
        self.config = config
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._logs = logs
        self.process: asyncio.subprocess.Process | None = None
        self.incarnation = 0
        self.log_files: list[Path] = []
        self.crashes: list[str] = []
        self.exit_codes: list[int] = []
        self._expected_exit = False
        self._watcher: asyncio.Task[None] | None = None
        self.started_at: list[float] = []

    @property
    def pid(self) -> int | None:
        process = self.process
        return None if process is None or process.returncode is not None else process.pid

    async def start(self) -> None:
        self.incarnation += 1
        log = self._logs / f"daemon-{self.name}-{self.incarnation}.log"
        self.log_files.append(log)
        self._expected_exit = False
        with log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "wallboard", "--log-level", "DEBUG",
                "run", "--config", str(self.config),
                stdout=out, stderr=asyncio.subprocess.STDOUT, cwd=REPO_ROOT,
            )  # fmt: skip
        self.started_at.append(time.time())
        self._watcher = asyncio.create_task(self._watch(self.process, log))

    async def _watch(self, process: asyncio.subprocess.Process, log: Path) -> None:
        code = await process.wait()
        if not self._expected_exit:
            text = await asyncio.to_thread(log.read_text, errors="replace")
            tail = "\n".join(text.splitlines()[-15:])
            self.crashes.append(f"daemon {self.name} exited by itself with {code}:\n{tail}")

    async def kill(self) -> None:
        """``kill -9``: no shutdown hook, no flush."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        self._expected_exit = True
        process.send_signal(signal.SIGKILL)
        await process.wait()

    async def terminate(self, within: float = 15.0) -> int | None:
        """``SIGTERM`` and its exit code (a clean stop is 0); ``None`` if it was not running."""
        process = self.process
        if process is None or process.returncode is not None:
            return None
        self._expected_exit = True
        process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), within)
        except TimeoutError:
            process.kill()
            await process.wait()
            code = -9
        self.exit_codes.append(code)
        return code

    async def answers(self, http: aiohttp.ClientSession, path: str = "/healthz") -> bool:
        try:
            async with http.get(self.url + path, timeout=_CONTROL_TIMEOUT) as response:
                return response.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    def log_text(self) -> str:
        return "\n".join(f.read_text(errors="replace") for f in self.log_files if f.exists())


async def run_cli(*args: str, within: float = 60.0) -> tuple[int, str]:
    """``python -m wallboard ARGS``: exit code and everything it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wallboard", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=REPO_ROOT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        return -9, "timed out"
    return int(process.returncode or 0), output.decode("utf-8", "replace")
