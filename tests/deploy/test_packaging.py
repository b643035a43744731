"""The wheel: built without a warning from exactly what the Dockerfile copies, complete (the
page's static files, the demo config, the typing marker, the ``wallboard`` command), and
working once installed the way pipx installs it, in an environment of its own.

Built offline (``--no-build-isolation --no-index``, with the venv's setuptools, which the dev
extra pins to the same floor as the build system) and with pip's configuration ignored, so
neither the network nor the machine's pip settings decide the outcome.
"""

from __future__ import annotations

import asyncio
import email.parser
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.deploy.compose_file import ROOT
from tests.deploy.test_dockerfile import copy_sources

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
NAME = PYPROJECT["project"]["name"]
VERSION = PYPROJECT["project"]["version"]


@dataclass(frozen=True)
class Built:
    wheel: Path
    output: str  # everything pip and the build backend printed


def _clean_environment() -> dict[str, str]:
    """No PYTHONDONTWRITEBYTECODE (setuptools warns that it cannot byte-compile) and no pip
    settings from the environment."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PIP_") and key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The wheel, built from a copy of the Dockerfile's COPY sources only."""
    source = tmp_path_factory.mktemp("context")
    for relative in copy_sources():
        origin = ROOT / relative
        if origin.is_dir():
            shutil.copytree(origin, source / relative, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, source / relative)
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "wheel", "-v", "--no-deps",
         "--no-build-isolation", "--no-index", "--wheel-dir", str(dist), "."],
        cwd=source, capture_output=True, text=True, timeout=300, check=False,
        env=_clean_environment(),
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    (wheel,) = dist.glob("*.whl")
    return Built(wheel, output)


def test_the_build_prints_no_warning(built: Built) -> None:
    noisy = [
        line
        for line in built.output.splitlines()
        if "warning" in line.lower() or "deprecat" in line.lower()
    ]
    assert not noisy, "\n".join(noisy)


def test_the_wheel_is_named_and_licensed_as_the_project(built: Built) -> None:
    assert built.wheel.name == f"{NAME.replace('-', '_')}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(built.wheel) as wheel:
        metadata_text = wheel.read(f"{NAME.replace('-', '_')}-{VERSION}.dist-info/METADATA")
    metadata = email.parser.BytesParser().parsebytes(metadata_text)
    assert metadata["License-Expression"] == "AGPL-3.0-or-later"
    assert metadata["License"] is None, "the deprecated free-text field"
    assert metadata["Requires-Python"] == PYPROJECT["project"]["requires-python"]
    assert metadata.get_all("Provides-Extra") == ["dashboards", "dev"]


def _members(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_carries_the_files_the_package_reads_at_run_time(built: Built) -> None:
    members = _members(built.wheel)
    static = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "wallboard" / "web" / "static").iterdir()
        if path.is_file()
    }
    assert static
    assert static <= members, static - members
    assert {"wallboard/default_config.toml", "wallboard/py.typed"} <= members
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "wallboard").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert modules <= members, modules - members
    assert not [m for m in members if m.startswith(("tests/", "bench/", "tools/", "contrib/"))]


def test_the_wheel_declares_the_wallboard_command(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        entry_points = wheel.read(f"{NAME.replace('-', '_')}-{VERSION}.dist-info/entry_points.txt")
    assert "[console_scripts]\nwallboard = wallboard.cli:main" in entry_points.decode()


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed in it, as pipx makes one; its
    dependencies come from this environment's site-packages (a .pth line), so nothing is
    downloaded, but the package itself is only the wheel's copy."""
    venv = tmp_path_factory.mktemp("pipx") / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "--python", str(python), "install",
         "--no-deps", "--no-index", "--root-user-action=ignore", str(built.wheel)],
        capture_output=True, text=True, timeout=300, check=False, env=_clean_environment(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def _run(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "wallboard"), *args],
        capture_output=True, text=True, timeout=60, check=False, cwd=venv,
        env=_clean_environment(),
    )  # fmt: skip


def test_the_installed_command_runs_from_the_wheels_copy(installed: Path) -> None:
    assert _run(installed, "--help").returncode == 0
    version = _run(installed, "--version")
    assert version.returncode == 0
    assert VERSION in version.stdout
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import wallboard; print(wallboard.__file__)"],
        capture_output=True, text=True, timeout=60, check=True, cwd=installed,
    ).stdout  # fmt: skip
    assert Path(where.strip()).is_relative_to(installed), where


async def test_the_installed_demo_serves_the_board_and_its_static_files(installed: Path) -> None:
    """``wallboard demo`` from the wheel alone: the embedded config, the simulator and the
    page's files all come out of the installed package."""
    process = await asyncio.create_subprocess_exec(
        str(installed / "bin" / "wallboard"), "demo", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=installed, env=_clean_environment(),
    )  # fmt: skip
    assert process.stdout is not None
    try:
        url = await asyncio.wait_for(_board_url(process.stdout), 60)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/boards/floor") as response:
                assert response.status == 200
                page = await response.text()
            scripts = [part.split('"')[0] for part in page.split('src="')[1:]]
            assert any(s.startswith("/static/board.js") for s in scripts), page[:2000]
            for script in scripts:
                async with session.get(url + script) as response:
                    assert response.status == 200, script
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def _board_url(stream: asyncio.StreamReader) -> str:
    seen: list[str] = []
    async for raw in _lines(stream):
        seen.append(raw)
        if "Wallboard demo running:" in raw:
            url: str = raw.split("Wallboard demo running:", 1)[1].strip().rstrip("/")
            return url
    raise AssertionError("the demo ended before serving:\n" + "".join(seen))


async def _lines(stream: asyncio.StreamReader) -> AsyncIterator[str]:
    while line := await stream.readline():
        yield line.decode(errors="replace")
