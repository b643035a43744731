"""The Dockerfile, checked without a Docker engine (none runs here): what it builds from, who
the container runs as, what it keeps, and its health check, run for real against a daemon.

The build itself is exercised by tests/deploy/test_packaging.py, which builds and installs the
wheel from exactly the files this Dockerfile copies.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path, PurePosixPath

import pytest

from tests.deploy import dockerfile
from tests.deploy.compose_file import ROOT
from tests.support.daemon import daemon_settings, running_daemon
from tests.support.sim import running_simulator
from wallboard.config_types import split_listen

STAGES = dockerfile.load()
FINAL = STAGES[-1]
SECRET_NAMES = re.compile(r"PASS|TOKEN|SECRET|KEY|CREDENTIAL", re.IGNORECASE)
#: Paths that hold secrets or a site's settings and must never reach an image.
NEVER_IN_CONTEXT = (
    ".env",
    "secrets/vicidial_pass",
    "wallboard.toml",
    "wallboard.db",
    ".venv/bin/python",
    ".git/config",
)


def copy_sources() -> list[str]:
    """What the stages COPY from the build context (not from another stage)."""
    sources: list[str] = []
    for stage in STAGES:
        for instruction in stage.all("COPY") + stage.all("ADD"):
            if instruction.flag("from") is None:
                sources += instruction.value.split()[:-1]
    return sources


def test_the_final_stage_runs_as_a_named_unprivileged_user() -> None:
    user = FINAL.last("USER")
    assert user is not None, "no USER: the daemon would run as root"
    uid, _, gid = user.value.partition(":")
    assert uid.isdigit(), f"USER {user.value}: numeric, so 'run as non-root' can be verified"
    assert int(uid) >= 1000, user.value  # not root, not a system account
    assert int(uid) != 65534, user.value  # not nobody
    created = " ".join(i.value for i in FINAL.all("RUN"))
    assert re.search(rf'useradd\b[^&]*--uid "?{uid}"?', created), "the user is not created"
    assert re.search(rf'groupadd\b[^&]*--gid "?{gid or uid}"?', created), "its group is not"
    assert "--shell /usr/sbin/nologin" in created
    # Nothing after USER switches back.
    after = FINAL.instructions[FINAL.instructions.index(user) :]
    assert [i for i in after if i.keyword == "USER"] == [user]


def test_the_state_directory_is_a_volume_the_user_owns_and_the_working_directory() -> None:
    workdir = FINAL.last("WORKDIR")
    volume = FINAL.last("VOLUME")
    assert workdir is not None
    assert volume is not None
    volumes = volume.exec_form()
    assert workdir.value in volumes
    created = " ".join(i.value for i in FINAL.all("RUN"))
    assert re.search(rf"install -d -o wallboard -g wallboard -m 07[05]0 {workdir.value}\b", created)


def test_the_health_check_asks_healthz_on_the_exposed_port_without_curl() -> None:
    check = FINAL.last("HEALTHCHECK")
    assert check is not None
    argv = check.exec_form()
    assert argv[0] == "python", "slim images have no curl or wget"
    url = re.search(r"http://127\.0\.0\.1:(\d+)/healthz", " ".join(argv))
    assert url, argv
    exposed = FINAL.last("EXPOSE")
    assert exposed is not None
    assert url.group(1) == exposed.value
    # The daemon listens on that port inside the container (the config default is loopback).
    host, port = split_listen(FINAL.env()["WALLBOARD_WEB__LISTEN"])
    assert (host, str(port)) == ("0.0.0.0", exposed.value)
    assert check.flag("timeout")
    assert check.flag("interval")


def test_the_command_runs_the_daemon_on_the_mounted_config() -> None:
    command = FINAL.last("CMD")
    assert command is not None
    assert command.exec_form() == ["wallboard", "run", "--config", "/etc/wallboard/wallboard.toml"]
    created = " ".join(i.value for i in FINAL.all("RUN"))
    assert "install -d -m 0755 /etc/wallboard" in created


def test_base_images_are_pinned_and_the_build_is_multi_stage() -> None:
    assert len(STAGES) >= 2
    for stage in STAGES:
        _name, _, tag = stage.base.partition(":")
        assert tag not in ("", "latest"), stage.base
        assert "$" not in stage.base, stage.base
    assert STAGES[0].base == FINAL.base, "the copied venv's interpreter must exist in both"
    copied = [i for i in FINAL.all("COPY") if i.flag("from")]
    assert copied, "the final stage takes the build's result from the build stage"
    assert not FINAL.all("ADD")


def test_every_copied_file_exists_and_reaches_the_build_context() -> None:
    sources = copy_sources()
    assert sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: no such file"
        assert not dockerfile.ignored(source), f"COPY {source}: excluded by .dockerignore"
        if path.is_dir():
            for file in path.rglob("*.py"):
                relative = file.relative_to(ROOT).as_posix()
                if "__pycache__" not in relative:
                    assert not dockerfile.ignored(relative), relative


def test_no_secret_is_baked_in() -> None:
    for source in copy_sources():
        assert not PurePosixPath(source).is_relative_to("secrets"), source
        assert source not in (".env", "wallboard.toml", "."), f"COPY {source} takes too much"
    for stage in STAGES:
        for key in stage.env():
            assert not SECRET_NAMES.search(key), f"ENV {key}: secrets come at run time"
        for instruction in stage.all("RUN"):
            assert "secret" not in instruction.value.lower(), instruction.value
    text = dockerfile.DOCKERFILE.read_text(encoding="utf-8")
    for line in dockerfile.logical_lines(text):
        if line.upper().startswith("ARG "):
            assert not SECRET_NAMES.search(line.split()[1].split("=")[0]), line


@pytest.mark.parametrize("path", NEVER_IN_CONTEXT)
def test_secrets_and_local_state_stay_out_of_the_build_context(path: str) -> None:
    assert dockerfile.ignored(path), f"{path} would be sent to the Docker daemon on every build"


def test_the_ignore_matcher_follows_dockers_rules() -> None:
    # A check of the checker: the examples must stay in, nested caches must go.
    assert not dockerfile.ignored(".env.example")
    assert dockerfile.ignored("wallboard/web/__pycache__/app.cpython-311.pyc")
    assert not dockerfile.ignored("wallboard/web/static/board.js")
    assert dockerfile.ignored("tests/deploy/test_dockerfile.py")


async def run_health_check(port: int) -> int:
    """The image's HEALTHCHECK command as Docker runs it, aimed at ``port`` on loopback."""
    check = FINAL.last("HEALTHCHECK")
    assert check is not None
    argv = [part.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for part in check.exec_form()]
    assert argv[0] == "python"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv[1:],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), 30)


async def test_the_health_check_passes_on_a_running_daemon_and_fails_once_it_stops(
    tmp_path: Path,
) -> None:
    async with running_simulator() as sim:
        settings = daemon_settings(sim.base_url, tmp_path)
        async with running_daemon(settings) as daemon:
            port = int(daemon.url.rsplit(":", 1)[1])
            assert await run_health_check(port) == 0
        assert await run_health_check(port) != 0
