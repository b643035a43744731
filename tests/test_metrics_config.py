"""``[metrics]``: validated like every section (typos and wrong types named by their key),
overridable from the environment, documented in the example and the demo config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wallboard.config import ConfigError, Settings, load_config, load_default_config

MINIMAL = """
[vicidial]
url = "https://dialer.example.com/"
user = "wallboard"
pass = "Sup3r-Secret_pw"
"""


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "wallboard.toml"
    path.write_text(MINIMAL + text, encoding="utf-8")
    return load_config(path, environ=environ or {})


def errors_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value.errors


def test_agent_series_are_on_unless_turned_off(tmp_path: Path) -> None:
    assert load(tmp_path, "").metrics.agent_series is True
    assert load(tmp_path, "[metrics]\nagent_series = false\n").metrics.agent_series is False
    assert load_default_config().metrics.agent_series is True


def test_the_environment_turns_agent_series_off(tmp_path: Path) -> None:
    settings = load(
        tmp_path, "[metrics]\nagent_series = true\n", {"WALLBOARD_METRICS__AGENT_SERIES": "false"}
    )
    assert settings.metrics.agent_series is False


def test_unknown_keys_and_wrong_types_are_named(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, '[metrics]\nagent_serie = false\nagent_series = "sometimes"\n')
    assert any(line.startswith("metrics.agent_serie:") for line in errors), errors
    assert any(line.startswith("metrics.agent_series:") for line in errors), errors


def test_the_example_documents_the_section() -> None:
    example = Path(__file__).resolve().parents[1] / "wallboard.example.toml"
    section = re.search(r"^\[metrics\]\n(.*?)(?=^\[)", example.read_text("utf-8"), re.M | re.S)
    assert section is not None
    assert re.search(r"^agent_series = true", section.group(1), re.M)
    assert load_config(example, environ={}).metrics.agent_series is True
