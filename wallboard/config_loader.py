"""Reading the TOML file and the environment, and reporting every problem as ``key.path: message``.

This is the mechanics of :func:`wallboard.config.load_config`, apart from what the settings
are: the TOML read, the environment parsed by pydantic-settings'
:class:`~pydantic_settings.EnvSettingsSource` from a mapping we pass (so tests never touch
``os.environ``), the deep merge that lets the environment beat the file, and the turning of
pydantic's errors into one line per problem. It is separate so :mod:`wallboard.config` reads as
the list of sections and their rules, and so the rules that keep error lines safe to print sit
in one short module to review: a line is built from pydantic's location and message, never its
``input_value``; every configured secret is masked in it, as validators quote the values they
refuse and a secret may sit at the wrong key; and it is one printable line, whatever path, key
or value it quotes. Nothing here knows a section: the settings class is a parameter.

One pass, every problem: pydantic skips a model's "after" validators as soon as one of its
fields fails, so cross-field rules written as model validators would only speak once every
field is right (a missing ``pass`` and ``warn_at > critical_at`` turned up one fix at a time).
So the cross-field rules are plain functions (``rules``) over :class:`KnownValues`, the input as
far as it validated, run on every load whether or not pydantic found field errors; a rule whose
operand is itself invalid stays silent, because that key's own line already says what is wrong.

Tables keyed by data (``[alerts.campaigns.<ID>]``, a ``Mapping`` field) are walked like
sections. Their keys are case-sensitive campaign IDs, but environment variable names are not
(``WALLBOARD_ALERTS__CAMPAIGNS__SALES2__WARN_AT`` would arrive as ``sales2`` and silently match
nothing), so such a table comes from the environment only as one JSON value. A section may name
keys it does not accept *yet* (``later_keys``): they are refused with that reason instead of a
bare "unknown key", so an operator knows the key is real and why it does nothing today.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Final, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsError

__all__ = [
    "ENV_NESTED_DELIMITER",
    "ENV_PREFIX",
    "RULES_CHECKED",
    "UNKNOWN",
    "ConfigError",
    "KeyProblems",
    "KnownValues",
    "Rules",
    "deep_merge",
    "one_line",
    "raise_if_any",
    "read_toml_file",
    "validate_settings",
]

ENV_PREFIX = "WALLBOARD_"
ENV_NESTED_DELIMITER = "__"

#: Validation context key: the caller runs the cross-field rules itself (see
#: :func:`validate_settings`), so the settings' own rule validator must not report them twice.
RULES_CHECKED: Final = "wallboard_rules_checked"

_SettingsT = TypeVar("_SettingsT", bound=BaseSettings)


class ConfigError(Exception):
    """The configuration is unusable; :attr:`errors` lists every problem as ``key.path: message``.

    ``str()`` is those lines, one per line, ready for the CLI to print before exiting 2. Each
    line goes through :func:`one_line` here, so whatever a message quotes (a file path, an
    unknown key, a value) cannot split it, forge another line or drive the terminal.
    """

    def __init__(self, errors: list[str]) -> None:
        lines = [one_line(error) for error in errors]
        super().__init__("\n".join(lines))
        self.errors = lines

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


def one_line(text: str) -> str:
    """``text`` with every character that is not printable written as Python writes it
    (``\\n``, ``\\r``, ``\\x1b``, ``\\u2028``): one line, and no terminal escapes.

    Error lines quote what the operator wrote (paths, keys, values), and TOML strings and
    quoted keys may hold any of those characters. Printable text is kept as it is, so a line
    reads as before unless it quoted something that could not be shown anyway.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


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
    settings_type: type[_SettingsT],
    file_data: dict[str, Any],
    environ: Mapping[str, str],
    rules: Rules | None = None,
) -> _SettingsT:
    """``environ`` merged over ``file_data``, validated as ``settings_type`` in one go.

    ``rules`` are the cross-field checks, run over :class:`KnownValues` of the merged input even
    when pydantic found field errors, so one load reports field errors, missing keys and
    cross-field problems together. Raises :class:`ConfigError` listing every problem, including
    ``WALLBOARD_*__*`` variables naming a section ``settings_type`` does not have.
    """
    try:
        env_data = _EnvironmentSource(settings_type, environ)()
    except SettingsError as error:
        raise ConfigError([_describe_env_json_error(error)]) from None
    errors = _unknown_env_sections(environ, settings_type.model_fields)
    table_errors = _env_names_inside_tables(environ, settings_type)
    if table_errors:  # the table's keys arrived lowercased: nothing below them is worth a word
        for path in _table_paths(settings_type):
            _drop(env_data, path)
    errors += table_errors
    env_names = frozenset(name.upper() for name in environ)
    data = deep_merge(file_data, env_data)
    secrets = _secrets(settings_type, data)
    settings: _SettingsT | None = None
    bad_locations: list[tuple[str | int, ...]] = []
    try:
        settings = settings_type.model_validate(data, context={RULES_CHECKED: rules is not None})
    except ValidationError as error:
        details = error.errors(include_url=False, include_input=False)
        errors += _error_lines(details, env_data, env_names, settings_type, secrets)
        bad_locations = [tuple(detail["loc"]) for detail in details]
    if rules is not None:
        known = KnownValues(settings_type, data, bad_locations)
        errors += [
            _line(tuple(_path(key)), message, env_data, env_names, secrets)
            for key, message in rules(known)
        ]
    if settings is not None and not errors:
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


def _env_names_inside_tables(
    environ: Mapping[str, str], settings_type: type[BaseModel]
) -> list[str]:
    """``WALLBOARD_ALERTS__CAMPAIGNS__SALES2__WARN_AT`` names a key of a data-keyed table in a
    case-insensitive variable name: refuse it, and say how to give the table instead."""
    errors = []
    for path in _table_paths(settings_type):
        table = ENV_PREFIX + ENV_NESTED_DELIMITER.join(path).upper()
        for name in sorted(environ):
            if name.upper().startswith(table + ENV_NESTED_DELIMITER):
                errors.append(
                    f"{name}: environment variable names ignore case, but the keys of "
                    f"{'.'.join(path)} do not; give the whole table as JSON in {table} "
                    """(for example {"SALES2": {"warn_at": 0.02}})"""
                )
    return errors


def _drop(data: dict[str, Any], path: tuple[str, ...]) -> None:
    """Remove the value at ``path`` from nested ``data``, if there."""
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _table_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The key paths of every ``Mapping`` field (a table keyed by data) under ``model``."""
    for name, info in model.model_fields.items():
        key = (*prefix, info.alias or name)
        if _mapping_value_type(info.annotation) is not None:
            yield key
        elif (inner := _model_type(info.annotation)) is not None:
            yield from _table_paths(inner, key)


def _error_lines(
    errors: list[ErrorDetails],
    env_data: dict[str, Any],
    env_names: frozenset[str],
    settings_type: type[BaseModel],
    secrets: Sequence[str],
) -> list[str]:
    """One ``dotted.key: message`` line per problem; built from loc and msg, never the input."""
    return [
        _line(location, message, env_data, env_names, secrets)
        for error in errors
        for location, message in _located_messages(error, settings_type)
    ]


def _line(
    location: tuple[str | int, ...],
    message: str,
    env_data: dict[str, Any],
    env_names: frozenset[str],
    secrets: Sequence[str],
) -> str:
    """``key: message``, with every secret masked in the key and in the message apart, so
    masking never eats the ``: `` between them."""
    dotted = ".".join(str(part) for part in location) or "(top level)"
    env_name = _env_name(location, env_data, env_names)
    origin = f" (from {env_name})" if env_name else ""
    return f"{_masked(dotted, secrets)}{origin}: {_masked(message, secrets)}"


# --- secrets in error lines -----------------------------------------------------------------

#: A secret shorter than this is not masked: "***" would replace ordinary words and key names
#: in every line, and a secret that short is not kept by hiding it anyway.
_MIN_MASKED_CHARS: Final = 4
_MASK: Final = "***"


def _secrets(settings_type: type[BaseModel], data: Mapping[str, Any]) -> tuple[str, ...]:
    """Every secret the input configures, longest first, in the forms a message may quote it.

    A line is built from pydantic's message, never its input, but the field validators quote
    the value they refuse (a campaign ID, a window, a time zone), and an unknown key is
    quoted as written: a password pasted at the wrong key or written as a key would be
    printed. So every line is masked with the configured secrets: the value of each field
    whose type holds a secret (``SecretStr``, and a secret file's content when the file
    reads), as written, stripped (the list validators strip items) and as ``repr`` shows it.
    The file is read a second time here; its reader refuses anything that could block.
    """
    found: set[str] = set()
    for model, name, path in _secret_fields(settings_type):
        node = _raw(data, path)
        if node is None:
            continue
        try:
            value = _field_adapter(model, name).validate_python(node)
        except ValidationError:
            continue
        reveal = getattr(value, "get_secret_value", None)
        if callable(reveal):
            secret = reveal()
            if isinstance(secret, str):
                found.add(secret)
    forms = {
        form
        for secret in found
        for form in (secret, secret.strip(), repr(secret)[1:-1], repr(secret.strip())[1:-1])
        if len(form.strip()) >= _MIN_MASKED_CHARS
    }
    return tuple(sorted(forms, key=len, reverse=True))


def _masked(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


def _secret_fields(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[type[BaseModel], str, tuple[str, ...]]]:
    """``(section, field name, key path)`` of every field under ``model``, through sections
    (not arrays of tables or tables keyed by data), whose type holds a secret."""
    for name, info in model.model_fields.items():
        key = (*prefix, info.alias or name)
        if _holds_secret(info.annotation):
            yield model, name, key
        elif (inner := _model_type(info.annotation)) is not None:
            yield from _secret_fields(inner, key)


def _holds_secret(annotation: Any) -> bool:
    """Whether ``annotation`` (through unions and ``Annotated``) names a type whose values
    reveal a secret by ``get_secret_value()``: pydantic's ``SecretStr``, a secret file."""
    if isinstance(annotation, type):
        return callable(getattr(annotation, "get_secret_value", None))
    return any(_holds_secret(arg) for arg in get_args(annotation))


def _raw(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    """The input's value at ``path``, or None."""
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _located_messages(
    error: ErrorDetails, settings_type: type[BaseModel]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    location = tuple(error["loc"])
    if location and location[-1] == "[key]":  # a table key that failed: name the key itself
        location = location[:-1]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, KeyProblems):
        for key, message in cause.problems:
            yield (*location, *key.split(".")), message
    elif error["type"] == "value_error" and isinstance(cause, Exception):
        yield location, str(cause)
    elif error["type"] == "extra_forbidden":
        yield location, _later_key_reason(settings_type, location) or "unknown key"
    elif error["type"] == "missing":
        yield location, "required key is missing"
    else:
        yield location, error["msg"]


def _later_key_reason(settings_type: type[BaseModel], location: tuple[str | int, ...]) -> str:
    """Why the section at ``location[:-1]`` refuses the key ``location[-1]`` for now, if it says
    (its ``later_keys`` class attribute: key -> reason), else ``""``."""
    annotation: Any = settings_type
    for part in location[:-1]:
        annotation = _step(annotation, part)
        if annotation is None:
            return ""
    model = _model_type(annotation)
    later: Mapping[str, str] = getattr(model, "later_keys", {}) if model is not None else {}
    return later.get(str(location[-1]), "") if location else ""


def _env_name(
    location: tuple[str | int, ...], env_data: dict[str, Any], env_names: frozenset[str]
) -> str:
    """The environment variable that supplied the value at ``location``, or ``""``.

    ``env_names`` (upper case) tells a variable that exists from one the path would spell: a
    JSON table (``WALLBOARD_ALERTS__CAMPAIGNS``) decodes into nested keys no variable names.
    """
    node: Any = env_data
    parts: list[str] = []
    for part in location:
        if not isinstance(node, dict):
            break  # a JSON value from one variable covers everything below it
        if str(part) not in node:
            return ""
        node = node[str(part)]
        parts.append(str(part))
    for end in range(len(parts), 0, -1):
        name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(parts[:end]).upper()
        if name in env_names:
            return name
    return ""


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


# --- what validated -------------------------------------------------------------------------


class _Unknown:
    """The type of :data:`UNKNOWN`."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""A key whose value failed validation, sits under a failed location, or is absent with no
default: a cross-field rule with an unknown operand stays silent."""


class KnownValues:
    """The settings input as far as it validated, read by dotted key (``"poll.jitter"``).

    ``data`` is the merged input (or a validated model: the settings' own rule validator passes
    itself). A key present in the input is validated alone, as its field declares it; a key
    absent from the input reads as its field's default. A key that pydantic reported an error
    at, under or above (``error_locations``) is :data:`UNKNOWN`, so a rule never reasons from a
    value already reported as wrong, and never from a field validator's rejection of it.
    """

    def __init__(
        self,
        settings_type: type[BaseModel],
        data: Mapping[str, Any] | BaseModel,
        error_locations: Iterable[tuple[str | int, ...]] = (),
    ) -> None:
        self._type = settings_type
        self._data = data
        self._bad = tuple(error_locations)

    def value(self, key: str) -> Any:
        """The validated value at ``key`` (the field's default when absent), or UNKNOWN."""
        path = _path(key)
        if any(_overlaps(path, bad) for bad in self._bad):
            return UNKNOWN
        found = self._walk(path, defaults=True)
        if found is None:
            return UNKNOWN
        node, adapter = found
        try:
            return adapter.validate_python(node)
        except ValidationError:
            return UNKNOWN

    def given(self, key: str) -> bool:
        """Whether the input sets ``key`` (valid or not); defaults do not count."""
        found = self._walk(_path(key), defaults=False)
        return found is not None and found[0] is not None

    def reported(self, key: str) -> bool:
        """Whether pydantic reported an error at ``key`` or above it (a section of the wrong
        type, say), so that nothing below it is worth a further word."""
        path = _text(_path(key))
        return any(path[: len(bad)] == _text(bad) for bad in self._bad)

    def count(self, key: str) -> int:
        """How many items the array at ``key`` has (its default when absent; 0 if not an array)."""
        found = self._walk(_path(key), defaults=True)
        node = None if found is None else found[0]
        return len(node) if isinstance(node, list | tuple) else 0

    def keys(self, key: str) -> list[str]:
        """The keys of the table at ``key`` (a ``Mapping`` field), in input order, leaving out
        any key that itself failed validation (a malformed campaign ID, say)."""
        path = _path(key)
        found = self._walk(path, defaults=True)
        node = None if found is None else found[0]
        if not isinstance(node, Mapping):
            return []
        failed = {_text(bad)[len(path)] for bad in self._bad if _is_key_error(path, bad)}
        return [str(name) for name in node if str(name) not in failed]

    def _walk(
        self, path: Sequence[str | int], *, defaults: bool
    ) -> tuple[Any, TypeAdapter[Any]] | None:
        """The raw node at ``path`` and the adapter that validates it, or None if unreachable."""
        node: Any = self._data
        annotation: Any = self._type
        adapter: TypeAdapter[Any] | None = None
        for part in path:
            if node is None:
                return None
            value_type = _mapping_value_type(annotation)
            if value_type is not None:
                if not isinstance(node, Mapping) or str(part) not in node:
                    return None
                node, annotation, adapter = node[str(part)], value_type, _adapter(value_type)
                continue
            if isinstance(part, int):
                item_type = _item_type(annotation)
                if item_type is None or not isinstance(node, list | tuple):
                    return None
                if not 0 <= part < len(node):
                    return None
                node, annotation, adapter = node[part], item_type, _adapter(item_type)
                continue
            model = _model_type(annotation)
            name = None if model is None else _field_name(model, part)
            if model is None or name is None:
                return None
            info = model.model_fields[name]
            if isinstance(node, BaseModel):
                node = getattr(node, name)
            elif isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, Mapping) and defaults and not info.is_required():
                node = info.get_default(call_default_factory=True)
            else:
                return None
            annotation, adapter = info.annotation, _field_adapter(model, name)
        if adapter is None:
            return None
        return node, adapter


#: A cross-field rule set: (dotted key, message) for every problem it finds.
Rules = Callable[[KnownValues], list[tuple[str, str]]]


def _path(key: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in key.split(".")]


def _text(path: Sequence[str | int]) -> tuple[str, ...]:
    """A location with every part as text: a table key ``"12"`` and the dotted key's ``12``
    (read as a list index by :func:`_path`) are the same place."""
    return tuple(str(part) for part in path)


def _overlaps(path: Sequence[str | int], bad: Sequence[str | int]) -> bool:
    """One location lies at, under or above the other."""
    shorter = min(len(path), len(bad))
    return _text(path[:shorter]) == _text(bad[:shorter])


def _is_key_error(table: Sequence[str | int], bad: Sequence[str | int]) -> bool:
    """``bad`` is where pydantic reports a key of ``table`` that failed: ``(..., key, "[key]")``."""
    return (
        len(bad) == len(table) + 2
        and _text(bad[: len(table)]) == _text(table)
        and bad[-1] == "[key]"
    )


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation one level below ``annotation`` at ``part`` (a section's field, an array's
    item, a table's value), or None."""
    if (value_type := _mapping_value_type(annotation)) is not None:
        return value_type
    if isinstance(part, int):
        return _item_type(annotation)
    model = _model_type(annotation)
    name = None if model is None else _field_name(model, part)
    return None if model is None or name is None else model.model_fields[name].annotation


def _model_type(annotation: Any) -> type[BaseModel] | None:
    """The model behind ``Model`` or ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, UnionType):
        models = [arg for arg in get_args(annotation) if arg is not NoneType]
        if len(models) == 1:
            return _model_type(models[0])
    return None


def _item_type(annotation: Any) -> Any:
    """``X`` of ``tuple[X, ...]`` or ``list[X]``, else None."""
    if get_origin(annotation) in (tuple, list):
        args = get_args(annotation)
        if args and (len(args) == 1 or args[1:] == (Ellipsis,)):
            return args[0]
    return None


def _mapping_value_type(annotation: Any) -> Any:
    """``X`` of ``Mapping[str, X]`` or ``dict[str, X]`` (a table keyed by data), else None."""
    if get_origin(annotation) in (dict, Mapping):
        args = get_args(annotation)
        if len(args) == 2:
            return args[1]
    return None


def _field_name(model: type[BaseModel], key: str) -> str | None:
    """The field a key of the input names (its alias, as in the file, or its own name)."""
    for name, info in model.model_fields.items():
        if key in (info.alias, name):
            return name
    return None


@cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """Validates one field's value alone: its type and constraints, not its field validators
    (their rejections reach the rules as error locations instead)."""
    info = model.model_fields[name]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    return TypeAdapter(annotation)


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)
