"""Reading the TOML file and the environment, and reporting every problem as ``key.path: message``.

This is the mechanics of :func:`wallboard.config.load_config`, apart from what the settings
are: the TOML read, the environment parsed by pydantic-settings'
:class:`~pydantic_settings.EnvSettingsSource` from a mapping we pass (so tests never touch
``os.environ``), the deep merge that lets the environment beat the file, and the turning of
pydantic's errors into one line per problem. It is separate so :mod:`wallboard.config` reads as
the list of sections and their rules, and so the rule that keeps secrets out of error lines
(built from pydantic's location and message, never its ``input_value``) sits in one short module
to review. Nothing here knows a section: the settings class is a parameter.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsError

__all__ = [
    "ENV_NESTED_DELIMITER",
    "ENV_PREFIX",
    "ConfigError",
    "KeyProblems",
    "deep_merge",
    "raise_if_any",
    "read_toml_file",
    "validate_settings",
]

ENV_PREFIX = "WALLBOARD_"
ENV_NESTED_DELIMITER = "__"

_SettingsT = TypeVar("_SettingsT", bound=BaseSettings)


class ConfigError(Exception):
    """The configuration is unusable; :attr:`errors` lists every problem as ``key.path: message``.

    ``str()`` is those lines, one per line, ready for the CLI to print before exiting 2.
    """

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(self.errors)


class KeyProblems(ValueError):
    """Findings of a cross-field check, each tied to the key (relative, dotted) to change.

    Raised from model validators, where pydantic would only know the model's own location;
    :func:`_error_lines` expands it into one ``section.key: message`` line per finding.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))
        self.problems = problems


def raise_if_any(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise KeyProblems(problems)


class _EnvironmentSource(EnvSettingsSource):
    """pydantic-settings' environment parsing, reading a mapping we pass instead of os.environ."""

    def __init__(self, settings_type: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_type)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items()}


def read_toml_file(path: Path) -> dict[str, Any]:
    """The TOML table in ``path``; an unreadable or invalid file is a :class:`ConfigError`."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror or error}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{path}: invalid TOML: {error}"]) from None


def validate_settings(
    settings_type: type[_SettingsT], file_data: dict[str, Any], environ: Mapping[str, str]
) -> _SettingsT:
    """``environ`` merged over ``file_data``, validated as ``settings_type`` in one go.

    Raises :class:`ConfigError` listing every problem, including ``WALLBOARD_*__*`` variables
    naming a section ``settings_type`` does not have.
    """
    try:
        env_data = _EnvironmentSource(settings_type, environ)()
    except SettingsError as error:
        raise ConfigError([_describe_env_json_error(error)]) from None
    errors = _unknown_env_sections(environ, settings_type.model_fields)
    try:
        settings = settings_type.model_validate(deep_merge(file_data, env_data))
    except ValidationError as error:
        errors += _error_lines(error.errors(include_url=False, include_input=False), env_data)
    else:
        if not errors:
            return settings
    # Raised outside the except block: the ValidationError (whose text may quote a secret)
    # must not ride along as __context__ into a traceback.
    raise ConfigError(errors)


def _describe_env_json_error(error: SettingsError) -> str:
    """pydantic-settings failed to decode a JSON value; name the section, not the value."""
    match = re.search(r'field "(\w+)"', str(error))
    section = match[1] if match else "environment"
    return (
        f"{section} (from {ENV_PREFIX}{section.upper()}*): a value is not valid JSON "
        f"({error.__cause__ or error})"
    )


def _unknown_env_sections(environ: Mapping[str, str], sections: Collection[str]) -> list[str]:
    """``WALLBOARD_SLAK__TOKEN`` would be ignored silently by pydantic-settings: report it."""
    errors = []
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and ENV_NESTED_DELIMITER in upper[len(ENV_PREFIX) :]:
            section = upper[len(ENV_PREFIX) :].split(ENV_NESTED_DELIMITER, 1)[0].lower()
            if section not in sections:
                errors.append(f"{name}: unknown section {section!r} (environment)")
    return errors


def _error_lines(errors: list[ErrorDetails], env_data: dict[str, Any]) -> list[str]:
    """One ``dotted.key: message`` line per problem; built from loc and msg, never the input."""
    lines = []
    for error in errors:
        for location, message in _located_messages(error):
            dotted = ".".join(str(part) for part in location) or "(top level)"
            env_name = _env_name(location, env_data)
            origin = f" (from {env_name})" if env_name else ""
            lines.append(f"{dotted}{origin}: {message}")
    return lines


def _located_messages(error: ErrorDetails) -> Iterator[tuple[tuple[str | int, ...], str]]:
    location = tuple(error["loc"])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, KeyProblems):
        for key, message in cause.problems:
            yield (*location, *key.split(".")), message
    elif error["type"] == "value_error" and isinstance(cause, Exception):
        yield location, str(cause)
    elif error["type"] == "extra_forbidden":
        yield location, "unknown key"
    elif error["type"] == "missing":
        yield location, "required key is missing"
    else:
        yield location, error["msg"]


def _env_name(location: tuple[str | int, ...], env_data: dict[str, Any]) -> str:
    """The environment variable that supplied the value at ``location``, or ``""``."""
    node: Any = env_data
    parts: list[str] = []
    for part in location:
        if not isinstance(node, dict):
            break  # a JSON value from one variable covers everything below it
        if str(part) not in node:
            return ""
        node = node[str(part)]
        parts.append(str(part))
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(parts).upper() if parts else ""


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``, table by table; arrays and values are replaced."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged
