"""A real ``redis-server`` for tests: loopback, a free OS-assigned port, no persistence.

Use it from a conftest::

    @pytest.fixture
    def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
        with running_redis_server(tmp_path) as server:
            yield server

``server.kill()`` / ``server.start()`` (or ``restart()``) simulate a Redis outage; the server
comes back on the same port, empty.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.system import require_binary

_START_DEADLINE = 10.0


def free_port() -> int:
    """A TCP port the OS just handed out on 127.0.0.1 (free unless someone races us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RedisServer:
    """One ``redis-server`` process; ``start``/``kill`` may be repeated (same port)."""

    binary: str
    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def start(self) -> None:
        """Start the server and return once it answers PING (or raise with its log)."""
        if self.process is not None:
            raise RuntimeError("redis-server is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                # As in production (docker-compose.yml): incidents, the alert outbox and Slack
                # message ids must survive a Redis restart, which tests do.
                "--appendonly",
                "yes",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.log_path),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL: no goodbye to clients, exactly like a crash."""
        process, self.process = self.process, None
        if process is None:
            return
        process.kill()
        process.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_DEADLINE
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self.process.returncode}:\n{self._log_tail()}"
                )
            if _answers_ping(self.port):
                return
            time.sleep(0.01)  # polling interval, not a wait for readiness
        raise RuntimeError(f"redis-server did not answer PING within {_START_DEADLINE}s")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        return "(no log)"


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def running_redis_server(directory: Path, *, attempts: int = 3) -> Iterator[RedisServer]:
    """Start ``redis-server`` on a free port under ``directory``; kill it afterwards.

    Skips the test when redis-server is missing (fails under WALLBOARD_REQUIRE_SYSTEM_DEPS=1).
    A new port is tried if another process grabbed ours between picking and binding.
    """
    binary = require_binary("redis-server", "/usr/bin/redis-server", "/usr/sbin/redis-server")
    server = RedisServer(binary=binary, directory=directory / "redis", port=free_port())
    for attempt in range(attempts):
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            server.port = free_port()
    try:
        yield server
    finally:
        server.kill()
