"""Missing system binaries skip locally and fail in CI (WALLBOARD_REQUIRE_SYSTEM_DEPS=1)."""

from __future__ import annotations

import pytest

from tests.support.system import require_binary

MISSING = "wallboard-no-such-binary"


def test_missing_binary_skips_with_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WALLBOARD_REQUIRE_SYSTEM_DEPS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install --no-install-recommends pkg"):
        require_binary(MISSING, package="pkg")


def test_missing_binary_fails_when_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALLBOARD_REQUIRE_SYSTEM_DEPS", "1")
    with pytest.raises(pytest.fail.Exception, match="WALLBOARD_REQUIRE_SYSTEM_DEPS=1"):
        require_binary(MISSING)


def test_present_binary_is_found() -> None:
    assert require_binary("sh").endswith("/sh")
