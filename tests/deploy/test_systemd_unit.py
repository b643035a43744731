"""contrib/wallboard.service: systemd's own verdict (``systemd-analyze verify`` and its offline
security score), and what it hands the daemon checked against the real config loader."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.deploy.compose_file import ROOT
from tests.support.system import require_binary
from wallboard.config import load_config

UNIT = ROOT / "contrib" / "wallboard.service"
#: systemd-analyze security's exposure, 0 (locked down) to 10, times ten: "OK" is below 2.
MAX_EXPOSURE = 20
Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str, *, commented: bool = False) -> Unit:
    """Sections of keys, each key with every value in order (systemd allows repeats).

    ``commented`` reads ``#Key=value`` lines too: the optional settings the unit documents.
    """
    unit: Unit = defaultdict(lambda: defaultdict(list))
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if commented and re.match(r"#[A-Z][A-Za-z]+=", line):
            line = line[1:]
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        unit[section][key.strip()].append(value.strip())
    return unit


UNIT_TEXT = UNIT.read_text(encoding="utf-8")
SERVICE = parse_unit(UNIT_TEXT)["Service"]


def one(key: str) -> str:
    values = SERVICE[key]
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def test_it_runs_the_daemon_on_its_configuration_directory() -> None:
    argv = one("ExecStart").split()
    assert argv[0].startswith("/")
    assert argv[0].endswith("/wallboard")
    assert argv[1:3] == ["run", "--config"]
    config = Path(argv[3])
    assert config.parent == Path("/etc") / one("ConfigurationDirectory")
    assert one("WorkingDirectory") == f"/var/lib/{one('StateDirectory')}"
    assert one("Type") == "exec"


def test_it_restarts_on_failure_but_not_on_a_bad_config() -> None:
    assert one("Restart") == "on-failure"
    assert one("RestartPreventExitStatus") == "2"  # wallboard's exit code for a bad config
    unit = parse_unit(UNIT_TEXT)["Unit"]
    assert unit["StartLimitBurst"]
    assert unit["StartLimitIntervalSec"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DynamicUser", "yes"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallArchitectures", "native"),
        ("UMask", "0077"),
    ],
)
def test_it_is_hardened(key: str, value: str) -> None:
    assert one(key) == value


def test_the_password_comes_as_a_credential_never_in_the_unit() -> None:
    credentials = dict(v.split(":", 1) for v in SERVICE["LoadCredential"])
    assert set(credentials) == {"vicidial_pass"}
    assert Path(credentials["vicidial_pass"]).parent == Path("/etc") / one("ConfigurationDirectory")
    environment = dict(v.split("=", 1) for v in SERVICE["Environment"])
    assert environment["WALLBOARD_VICIDIAL__PASS_FILE"] == "%d/vicidial_pass"
    assert not [k for k in environment if k.endswith(("__PASS", "__TOKEN"))]


def test_every_variable_it_sets_or_documents_is_a_real_config_key(tmp_path: Path) -> None:
    """The unit's variables (the optional, commented ones too) fed to the real loader with
    ``%d`` as a directory of credential files: a misspelt key is a config error there."""
    service = parse_unit(UNIT_TEXT, commented=True)["Service"]
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    samples = {
        "vicidial_pass": "a-valid-api-password",
        "slack_token": "xoxb-1234-sample",
        "web_token": "a-board-token-of-enough-length",
    }
    for entry in service["LoadCredential"]:
        name = entry.split(":", 1)[0]
        (credentials / name).write_text(samples[name] + "\n", encoding="utf-8")
    environ = {
        key: value.replace("%d", str(credentials))
        for key, value in (v.split("=", 1) for v in service["Environment"])
        if key.startswith("WALLBOARD_")
    }
    assert {"WALLBOARD_VICIDIAL__PASS_FILE", "WALLBOARD_SLACK__TOKEN_FILE"} <= set(environ)
    # wallboard.example.toml as the unit's comment says to install it: without `pass`.
    example = (ROOT / "wallboard.example.toml").read_text(encoding="utf-8")
    config = tmp_path / "wallboard.toml"
    config.write_text(re.sub(r"(?m)^(pass|token) = .*\n", "", example), encoding="utf-8")
    settings = load_config(config, environ=environ)
    assert settings.vicidial.password() == samples["vicidial_pass"]
    assert settings.slack is not None
    assert settings.slack.token_value() == samples["slack_token"]
    assert settings.web.token_value() == samples["web_token"]


def _unit_with_this_wallboard(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this environment's ``wallboard`` (verify checks that
    the program exists), everything else untouched."""
    wallboard = Path(sys.executable).parent / "wallboard"
    assert wallboard.exists()
    unit = tmp_path / "wallboard.service"
    unit.write_text(
        re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={wallboard}", UNIT_TEXT), encoding="utf-8"
    )
    return unit


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze", package="systemd")
    unit = _unit_with_this_wallboard(tmp_path)
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wallboard.service" not in result.stderr, result.stderr  # no warning about the unit


def test_systemd_rates_the_unit_locked_down(tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze", package="systemd")
    unit = _unit_with_this_wallboard(tmp_path)
    result = subprocess.run(
        [analyze, "security", "--offline=yes", f"--threshold={MAX_EXPOSURE}", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Overall exposure level for wallboard.service" in result.stdout
