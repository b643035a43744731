"""docker-compose.yml as Compose itself resolves it (``docker-compose config``), as plain data.

Why through the binary and not a YAML parser: anchors, merge keys, ``${VAR:-default}``
interpolation, profiles and relative paths are Compose's to interpret, and the file a reader
sees is not what Compose runs. Compose v1 (Debian's ``docker-compose``) prints ports and
volumes as short strings, v2 as long mappings; both are normalised here so the tests read one
model.

Compose runs on a copy of the file in a directory of its own, with a chosen environment and
``.env``: a developer's own ``.env`` or ``COMPOSE_PROFILES`` never leaks into a test, and host
paths come back relative to the project directory, to be checked against the repository.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"


@dataclass(frozen=True)
class Mount:
    """A bind mount (``source`` relative to the project directory) or a named volume."""

    kind: str  # "bind" or "volume"
    source: str
    target: str
    read_only: bool


@dataclass(frozen=True)
class Port:
    """A published port; ``host_ip`` is "" when Compose binds every interface."""

    host_ip: str
    published: int
    target: int


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    profiles: tuple[str, ...]
    command: tuple[str, ...] | None
    environment: Mapping[str, str]
    mounts: tuple[Mount, ...]
    ports: tuple[Port, ...]
    secrets: tuple[str, ...]
    aliases: tuple[str, ...]
    healthcheck: tuple[str, ...] | None
    depends_on: tuple[str, ...]

    def mount_at(self, target: str) -> Mount | None:
        """The mount whose target is ``target`` or contains it (the deepest one)."""
        path = PurePosixPath(target)
        found = [
            m for m in self.mounts if path == (t := PurePosixPath(m.target)) or t in path.parents
        ]
        return max(found, key=lambda m: len(m.target), default=None)


@dataclass(frozen=True)
class Project:
    services: Mapping[str, Service]
    secrets: Mapping[str, str]  # name -> file, relative to the project directory
    volumes: frozenset[str]
    stderr: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

    def active(self, profile: str | None) -> dict[str, Service]:
        """The services ``docker compose [--profile profile] up`` starts."""
        return {
            name: service
            for name, service in self.services.items()
            if not service.profiles or (profile is not None and profile in service.profiles)
        }

    def hostnames(self, profile: str | None) -> dict[str, Service]:
        """Every name a container of that run resolves on the network: services and aliases."""
        names: dict[str, Service] = {}
        for service in self.active(profile).values():
            for name in (service.name, *service.aliases):
                assert name not in names, f"{name} resolves to two services in profile {profile}"
                names[name] = service
        return names


def compose_config(
    binary: str,
    workdir: Path,
    *,
    profile: str | None = None,
    dotenv: str | None = None,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``docker-compose [--profile P] config [-q]`` on a copy of docker-compose.yml in
    ``workdir``, with ``dotenv`` as its ``.env`` (none when ``None``) and a clean environment."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(COMPOSE_FILE, workdir / "docker-compose.yml")
    env_file = workdir / ".env"
    env_file.unlink(missing_ok=True)
    if dotenv is not None:
        env_file.write_text(dotenv, encoding="utf-8")
    command = [binary, "--project-directory", str(workdir), "-f", str(workdir / COMPOSE_FILE.name)]
    if profile is not None:
        command += ["--profile", profile]
    command += ["config", *(["-q"] if quiet else [])]
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir)}
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=environment,
        cwd=workdir,
        timeout=60,
        check=False,
    )


def load_project(binary: str, workdir: Path, *, dotenv: str | None = None) -> Project:
    """The resolved project (every service, whatever its profile)."""
    result = compose_config(binary, workdir, dotenv=dotenv)
    assert result.returncode == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    return Project(
        services={
            name: _service(name, spec, workdir)
            for name, spec in (document.get("services") or {}).items()
        },
        secrets={
            name: _relative(spec["file"], workdir)
            for name, spec in (document.get("secrets") or {}).items()
        },
        volumes=frozenset(document.get("volumes") or {}),
        stderr=result.stderr,
        raw=document,
    )


def _service(name: str, spec: Mapping[str, Any], workdir: Path) -> Service:
    networks = spec.get("networks") or {}
    aliases: list[str] = []
    if isinstance(networks, Mapping):
        for network in networks.values():
            aliases += list((network or {}).get("aliases") or [])
    healthcheck = spec.get("healthcheck") or {}
    test = healthcheck.get("test")
    depends = spec.get("depends_on") or {}
    command = spec.get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    return Service(
        name=name,
        image=str(spec.get("image", "")),
        profiles=tuple(spec.get("profiles") or ()),
        command=None if command is None else tuple(str(part) for part in command),
        environment=_environment(spec.get("environment")),
        mounts=tuple(_mount(volume, workdir) for volume in spec.get("volumes") or ()),
        ports=tuple(_port(port) for port in spec.get("ports") or ()),
        secrets=tuple(
            item if isinstance(item, str) else str(item["source"])
            for item in spec.get("secrets") or ()
        ),
        aliases=tuple(aliases),
        healthcheck=None
        if test is None
        else tuple(shlex.split(test) if isinstance(test, str) else test),
        depends_on=tuple(depends),
    )


def _environment(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    assert isinstance(value, list)
    pairs = (str(item).split("=", 1) for item in value)
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


def _mount(value: object, workdir: Path) -> Mount:
    if isinstance(value, Mapping):
        kind, source = str(value["type"]), str(value.get("source", ""))
        read_only = bool(value.get("read_only", False))
        target = str(value["target"])
    else:
        parts = str(value).split(":")
        source, target = parts[0], parts[1]
        read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        kind = "bind" if source.startswith(("/", ".")) else "volume"
    if kind == "bind":
        source = _relative(source, workdir)
    return Mount(kind, source, target, read_only)


def _port(value: object) -> Port:
    if isinstance(value, Mapping):
        return Port(
            host_ip=str(value.get("host_ip") or ""),
            published=int(value["published"]),
            target=int(value["target"]),
        )
    text = str(value).split("/", 1)[0]
    parts = text.split(":")
    if len(parts) == 3:
        return Port(parts[0], int(parts[1]), int(parts[2]))
    if len(parts) == 2:
        return Port("", int(parts[0]), int(parts[1]))
    raise AssertionError(f"a port without a published side is not published: {value!r}")


def _relative(path: str, workdir: Path) -> str:
    """A host path as the repository names it (relative to the project directory)."""
    resolved = Path(path)
    if not resolved.is_absolute():
        resolved = workdir / resolved
    try:
        return resolved.resolve().relative_to(workdir.resolve()).as_posix()
    except ValueError:
        raise AssertionError(f"{path} lies outside the project directory") from None


def command_flag(command: Sequence[str], flag: str) -> str | None:
    """The value of ``--flag=value`` or ``--flag value`` in a command line."""
    for index, part in enumerate(command):
        if part.startswith(flag + "="):
            return part.split("=", 1)[1]
        if part == flag and index + 1 < len(command):
            return command[index + 1]
    return None
