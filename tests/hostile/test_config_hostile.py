"""The config loader given hostile TOML: any document, any value at any key, any environment.

``tests/test_config.py`` checks the documented rules one by one; this file checks the edge as
a whole with hypothesis-built input. Whatever the file or the environment hold, the loader
returns :class:`Settings` or raises :class:`ConfigError`, nothing else (the CLI prints a
ConfigError's lines and exits 2; anything else would be a traceback on the operator's
terminal). Each line names a key (``section.key: message``, the file's path for a file that
is not TOML, or the environment variable), is one line, and carries none of pydantic's
internals. A value of the wrong kind at a known key is reported at that key. A secret
(``vicidial.pass``, ``slack.token``, ``web.token``) is never echoed, whatever is wrong with it
and wherever the operator put it.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.hostile.toml_text import toml_document
from wallboard.config import ConfigError, Settings, check_state_path, load_config
from wallboard.config_loader import ENV_PREFIX

PASSWORD = "Vd9-hostile_Pw"
SLACK_TOKEN = "xoxb-7777-hostile-SLACKTOKEN"
WEB_TOKEN = "web-hostile-TOKEN-0123456789"
SECRETS = (PASSWORD, SLACK_TOKEN, WEB_TOKEN)

#: A valid file's content; mutations start from here so most of a document is right and the
#: broken key is the one under test.
BASE: dict[str, Any] = {
    "vicidial": {"url": "https://dialer.example.com", "user": "wallboard", "pass": PASSWORD}
}

#: Text no error line may contain: pydantic's internals and Python's.
INTERNALS = re.compile(
    r"errors\.pydantic\.dev|input_value|input_type|\[type=|validation error|ValidationError"
    r"|Traceback|object at 0x|<class |pydantic_core|SettingsError",
)
#: An error line: a dotted key, an environment variable or a file path, then ": message".
LINE = re.compile(r"^(?P<key>.+?)(?: \(from [A-Z0-9_]+\))?: \S.*$")

EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# --- the schema, walked -------------------------------------------------------------------------


def _model(annotation: Any) -> type[BaseModel] | None:
    """The section behind ``Model`` or ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, UnionType):
        models = [
            a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        return models[0] if len(models) == 1 else None
    return None


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """``Model`` of ``tuple[Model, ...]`` (an array of tables such as ``[[boards]]``)."""
    if get_origin(annotation) is tuple:
        args = get_args(annotation)
        if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            return args[0]
    return None


def _mapping_model(annotation: Any) -> type[BaseModel] | None:
    """``Model`` of ``Mapping[str, Model]`` (a table keyed by data: ``alerts.campaigns``)."""
    args = get_args(annotation)
    if len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
        return args[1]
    return None


#: What an array of tables or a table keyed by data gets as its one element, so the element's
#: own keys can be reached: a board, a drop-rate group, a campaign's overrides.
_ELEMENT_KEY: dict[tuple[str | int, ...], str] = {("alerts", "campaigns"): "SALES1"}


def leaf_keys(model: type[BaseModel], prefix: tuple[str | int, ...] = ()) -> Iterator[Any]:
    """Every scalar or array key of the settings, as a path (``("boards", 0, "name")``)."""
    for name, info in model.model_fields.items():
        key = (*prefix, info.alias or name)
        annotation = info.annotation
        if (inner := _model(annotation)) is not None:
            yield from leaf_keys(inner, key)
        elif (item := _item_model(annotation)) is not None:
            yield from leaf_keys(item, (*key, 0))
        elif (value_model := _mapping_model(annotation)) is not None:
            yield from leaf_keys(value_model, (*key, _ELEMENT_KEY.get(key, "SALES1")))
        else:
            yield key


LEAVES = sorted(leaf_keys(Settings), key=str)
SECRET_KEYS = {("vicidial", "pass"), ("slack", "token"), ("web", "token")}
SECRET_NAMES = {"WALLBOARD_VICIDIAL__PASS", "WALLBOARD_SLACK__TOKEN", "WALLBOARD_WEB__TOKEN"}
#: The loader leaves shorter secrets unmasked: "***" would eat ordinary words of every line.
MIN_MASKED_CHARS = 4

#: The smallest valid element where a path enters an array of tables or a table that must
#: have required keys of its own, so that only the mutated key is wrong.
_SKELETONS: dict[tuple[str, ...], Any] = {
    ("boards",): [{"name": "floor"}],
    ("drop_groups",): [{"name": "outbound", "campaigns": ["SALES1"]}],
    ("slack",): {"channel": "#floor", "token": SLACK_TOKEN},
    ("alerts", "auto_pause"): {"campaigns": ["SALES1"], "at": 0.029},
}


def put(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    """Set ``path`` in ``document`` to ``value``, building valid tables on the way."""
    node: Any = document
    walked: tuple[str, ...] = ()
    for part, following in itertools.pairwise(path):
        walked = (*walked, str(part))
        if isinstance(part, int):
            node = node[part]
            continue
        if not isinstance(node.get(part), dict | list):
            skeleton = _SKELETONS.get(walked)
            node[part] = (
                _copy(skeleton)
                if skeleton is not None
                else ([] if isinstance(following, int) else {})
            )
        node = node[part]
    node[path[-1]] = value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def fresh_base() -> dict[str, Any]:
    copied: dict[str, Any] = _copy(BASE)
    return copied


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


# --- values ----------------------------------------------------------------------------------

#: Strings shaped like what each kind of key wants, and near misses of them.
PLAUSIBLE = st.sampled_from(
    [
        "",
        " ",
        "all",
        "ALL",
        "30s",
        "0s",
        "-5s",
        "1m30s",
        "500ms",
        "1e400s",
        "nan",
        "inf",
        "99999999999999999999d",
        "16MB",
        "0MB",
        "1TB",
        "-1KB",
        "SALES1",
        "SALES1,SALES2",
        "today",
        "30d",
        "15m",
        "period",
        "22:00-07:00",
        "24:00",
        "23:60",
        "00:00",
        "7",
        "https://dialer.example.com",
        "http://[::1",
        "http://u:p@h",
        "ftp://x",
        "//x",
        "redis://",
        "unix:///tmp/x.sock",
        "127.0.0.1:0",
        "[::]:8080",
        ":80",
        "0.0.0.0:99999",
        "America/New_York",
        "../../etc/passwd",
        "Etc/GMT+99",
        "/nonexistent/secret",
        "group:",
        "group:x",
        "\u0000",
        "\ufeff",
        "é" * 30,
        "x" * 5000,
        '{"SALES1": {}}',
        '["A", "B"]',
        "[",
        "null",
    ]
)
TEXT = st.text(max_size=40) | PLAUSIBLE
SECRET_TEXT = st.sampled_from(SECRETS).flatmap(
    lambda secret: st.sampled_from(
        [secret, f"{secret} ", f" {secret}!", f"{secret}\n", f"x{secret}", f"{secret}:80"]
    )
)
OFFSETS = st.integers(-23 * 60, 23 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
SCALAR = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, -1, 2**31, 65536, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 0.029, 1e-300, 1e300]),
    TEXT,
    st.dates(min_value=date(1, 1, 1)),
    st.times(),
    st.datetimes(timezones=st.none() | OFFSETS | st.just(UTC)),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "name", "SALES1", "warn_at", "x y"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)
LEAF = st.sampled_from(LEAVES)


#: Key text for made-up keys: any character, line breaks and terminal escapes included (an
#: unknown key is quoted in its line).
KEY_TEXT = st.text(min_size=1, max_size=8)


# --- the checks --------------------------------------------------------------------------------


def load_text(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str] | None:
    """The error lines for ``text`` as a config file (None: it loaded), after checking that
    nothing but a ConfigError came out and that every line keeps the rules."""
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    failure: ConfigError | None = None
    try:
        load_config(path, environ=environ or {})
    except ConfigError as error:  # anything else fails the test with its traceback
        failure = error
    if failure is None:
        return None
    assert failure.errors, "a ConfigError names at least one problem"
    assert str(failure) == "\n".join(failure.errors)
    for line in failure.errors:
        assert line.isprintable(), f"not one printable line: {line!r}"
        assert LINE.match(line), f"not 'key: message': {line!r}"
        assert not INTERNALS.search(line), f"pydantic or Python internals: {line!r}"
    # No ValidationError (which quotes the input) rides along as a cause or a context a
    # traceback would print.
    assert failure.__cause__ is None, repr(failure.__cause__)
    assert failure.__context__ is None or failure.__suppress_context__, repr(failure.__context__)
    return failure.errors


def secret_lines(errors: list[str] | None) -> list[str]:
    return [line for line in errors or [] if any(secret in line for secret in SECRETS)]


def keys_named(errors: list[str]) -> set[str]:
    keys = set()
    for line in errors:
        match = LINE.match(line)
        assert match is not None
        keys.add(match["key"])
    return keys


@EXAMPLES
@given(mutations=st.lists(st.tuples(LEAF, VALUE), min_size=1, max_size=4))
def test_any_values_at_known_keys_give_settings_or_key_lines(
    tmp_path: Path, mutations: list[tuple[tuple[str | int, ...], Any]]
) -> None:
    document = fresh_base()
    for path, value in mutations:
        put(document, path, value)
    load_text(tmp_path, toml_document(document))


@EXAMPLES
@given(path=LEAF, table=st.dictionaries(st.sampled_from(["zz", "a b"]), SCALAR, min_size=1))
def test_a_table_where_a_value_belongs_is_reported_at_that_key(
    tmp_path: Path, path: tuple[str | int, ...], table: dict[str, Any]
) -> None:
    """No scalar or array key takes a table: the error names exactly the key given one."""
    document = fresh_base()
    put(document, path, table)
    errors = load_text(tmp_path, toml_document(document))
    assert errors is not None, f"{dotted(path)} = {table!r} was accepted"
    assert dotted(path) in keys_named(errors), (dotted(path), errors)


SECTIONS = sorted({str(path[0]) for path in LEAVES} | {"alerts.auto_pause", "alerts.campaigns"})


@EXAMPLES
@given(section=st.sampled_from(SECTIONS), value=SCALAR | st.lists(SCALAR, min_size=1, max_size=2))
def test_a_value_where_a_table_belongs_is_reported_at_that_table(
    tmp_path: Path, section: str, value: Any
) -> None:
    document = fresh_base()
    if section in ("boards", "drop_groups"):
        assume(not isinstance(value, list))  # an array is right there: its items are checked
    put(document, tuple(section.split(".")), value)
    errors = load_text(tmp_path, toml_document(document))
    assert errors is not None, f"{section} = {value!r} was accepted"
    assert any(key == section or key.startswith(section + ".") for key in keys_named(errors))


@EXAMPLES
@given(path=st.sampled_from(sorted(SECRET_KEYS)), value=SECRET_TEXT | VALUE)
def test_a_bad_secret_is_never_echoed(tmp_path: Path, path: tuple[str, ...], value: Any) -> None:
    """Whatever is wrong with a secret (a space, a type, a table), its line never shows it,
    nor does any other line."""
    document = fresh_base()
    put(document, path, value)
    assert secret_lines(load_text(tmp_path, toml_document(document))) == []


MISSPELT = [("vicidial", "pas"), ("vicidial", "password"), ("slack", "tokn"), ("pass",)]


@EXAMPLES
@given(path=st.sampled_from(MISSPELT), value=SECRET_TEXT | VALUE)
def test_a_secret_at_a_misspelt_key_is_never_echoed(
    tmp_path: Path, path: tuple[str, ...], value: Any
) -> None:
    document = fresh_base()
    put(document, path, value)
    errors = load_text(tmp_path, toml_document(document))
    assert errors is not None
    assert secret_lines(errors) == []


NAMES = st.sampled_from(["vicidial", "poll", "alerts", "web", "slack", "boards", "nope"])
KEY_NAMES = st.sampled_from(sorted({str(path[-1]) for path in LEAVES}))


@EXAMPLES
@given(
    document=st.dictionaries(
        NAMES | KEY_TEXT,
        st.dictionaries(KEY_NAMES, VALUE) | VALUE,
        max_size=5,
    )
)
def test_any_document_gives_settings_or_key_lines(tmp_path: Path, document: dict[str, Any]) -> None:
    load_text(tmp_path, toml_document(document))


@EXAMPLES
@given(text=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_any_text_gives_settings_or_key_lines(tmp_path: Path, text: str) -> None:
    """Not TOML at all (or TOML by accident): the file's path and the parser's position."""
    assume("\x00" not in text)
    load_text(tmp_path, text)


ENV_NAMES = st.sampled_from(
    [
        *sorted(
            {
                ENV_PREFIX + dotted(path).replace(".", "__").upper()
                for path in LEAVES
                if 0 not in path
            }
        ),
        "WALLBOARD_BOARDS",
        "WALLBOARD_DROP_GROUPS",
        "WALLBOARD_ALERTS__CAMPAIGNS",
        "WALLBOARD_ALERTS__CAMPAIGNS__SALES1__WARN_AT",
        "WALLBOARD_SLAK__TOKEN",
        "WALLBOARD_VICIDIAL",
        "WALLBOARD___",
        "wallboard_vicidial__pass",
    ]
)
ENV_VALUES = (
    TEXT
    | SECRET_TEXT
    | st.sampled_from(
        ["[]", "{}", '[{"name": 1}]', '{"SALES1": []}', '{"SALES1": {"warn_at": "x"}}', "[1,"]
    )
)


@EXAMPLES
@given(environ=st.dictionaries(ENV_NAMES, ENV_VALUES, min_size=1, max_size=4))
def test_any_environment_gives_settings_or_key_lines(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    assume(all("\x00" not in value for value in environ.values()))  # no OS allows it
    errors = load_text(tmp_path, toml_document(fresh_base()), environ)
    # What the operator configured as a secret (the file's pass, a secret variable) appears in
    # no line, even where the same text went to another key too. The SECRETS at other keys
    # alone are just text to the loader; secrets under 4 characters are not masked.
    configured = {PASSWORD} | {
        value.strip() for name, value in environ.items() if name.upper() in SECRET_NAMES
    }
    leaked = [
        line
        for line in errors or []
        for secret in configured
        if len(secret) >= MIN_MASKED_CHARS and secret in line
    ]
    assert leaked == [], (configured, leaked)


def test_the_walk_reaches_every_section_and_the_secrets(tmp_path: Path) -> None:
    """The generators above are only as good as the keys they reach."""
    reached = {path[0] for path in LEAVES}
    assert reached == set(Settings.model_fields), reached
    assert set(LEAVES) >= SECRET_KEYS
    assert ("alerts", "campaigns", "SALES1", "warn_at") in LEAVES
    assert ("boards", 0, "name") in LEAVES
    assert ("alerts", "auto_pause", "at") in LEAVES
    document = fresh_base()
    put(document, ("boards", 0, "title"), "Floor")
    put(document, ("alerts", "auto_pause", "dry_run"), True)
    put(document, ("slack", "channel"), "#floor")
    assert load_text(tmp_path, toml_document(document)) is None, "the skeletons are valid"


def test_toml_dates_and_times_at_every_key_are_lines_not_crashes(tmp_path: Path) -> None:
    """TOML's own date and time values (no JSON or environment can give them), every key."""
    for value in (date(2026, 11, 25), time(12, 30), datetime(2026, 11, 25, 12, 0, tzinfo=UTC)):
        for path in LEAVES:
            document = fresh_base()
            put(document, path, value)
            load_text(tmp_path, toml_document(document))


# --- defects found here, fixed, and held ---------------------------------------------------


def _errors(tmp_path: Path, document: dict[str, Any]) -> list[str]:
    path = tmp_path / "defect.toml"
    path.write_text(toml_document(document), encoding="utf-8")
    try:
        load_config(path, environ={})
    except ConfigError as error:
        return error.errors
    raise AssertionError("the document loaded")


def _pass_file_errors(tmp_path: Path, pass_file: str) -> list[str]:
    document = fresh_base()
    del document["vicidial"]["pass"]
    put(document, ("vicidial", "pass_file"), pass_file)
    return _errors(tmp_path, document)


def test_a_secret_written_as_its_file_path_is_not_echoed(tmp_path: Path) -> None:
    """The token written into ``token_file`` instead of ``token``: the line names the key and
    says the file is missing, without printing the path (which is the token)."""
    paths: list[tuple[str, str]] = [
        ("slack", "token_file"),
        ("vicidial", "pass_file"),
        ("web", "token_file"),
    ]
    for path in paths:
        document = fresh_base()
        if path[0] == "vicidial":
            del document["vicidial"]["pass"]
        put(document, path, SLACK_TOKEN)
        errors = _errors(tmp_path, document)
        assert secret_lines(errors) == [], path
        assert (
            f"{dotted(path)}: cannot read the file named there: No such file or directory" in errors
        ), errors


def test_a_secret_pasted_at_another_key_is_not_echoed(tmp_path: Path) -> None:
    """Validators quote the value they refuse (which campaign ID of the list is wrong); a
    configured secret in it is masked, and the line still names the key."""
    cases: list[tuple[tuple[str | int, ...], Any]] = [
        (("vicidial", "campaigns"), [PASSWORD]),
        (("vicidial", "campaigns"), f"SALES1,{PASSWORD} "),
        (("vicidial", "ingroups"), [f"{WEB_TOKEN}!"]),
        (("vicidial", "timezone"), PASSWORD),
        (("alerts", "windows"), [SLACK_TOKEN]),
        (("alerts", "auto_pause", "windows"), [SLACK_TOKEN]),
        (("alerts", "ofcom_people_statuses"), [PASSWORD]),
        (("drop_groups", 0, "name"), PASSWORD + "!"),
        (("vicidial", PASSWORD), 1),  # the secret written as a key
    ]
    for path, value in cases:
        document = fresh_base()
        put(document, ("slack",), {"channel": "#floor", "token": SLACK_TOKEN})
        put(document, ("web", "token"), WEB_TOKEN)
        put(document, path, value)
        errors = _errors(tmp_path, document)
        assert secret_lines(errors) == [], (path, errors)
        assert any("***" in line for line in errors), (path, errors)


def test_a_secret_read_from_its_file_is_masked_elsewhere_too(tmp_path: Path) -> None:
    secret_file = tmp_path / "pass"
    secret_file.write_text(PASSWORD + "\n", encoding="utf-8")
    document = fresh_base()
    del document["vicidial"]["pass"]
    put(document, ("vicidial", "pass_file"), str(secret_file))
    put(document, ("vicidial", "timezone"), PASSWORD)
    errors = _errors(tmp_path, document)
    assert errors == [
        "vicidial.timezone: '***' is not an IANA time zone name such as \"America/New_York\" "
        "(a fixed offset goes in utc_offset; if the name is right, this system lacks the time "
        "zone database: install tzdata)"
    ]


def test_a_secret_from_the_environment_is_masked_at_another_key(tmp_path: Path) -> None:
    environ = {
        "WALLBOARD_VICIDIAL__PASS": "Env-Secret_42",
        "WALLBOARD_VICIDIAL__CAMPAIGNS": "Env-Secret_42",
    }
    errors = load_text(tmp_path, toml_document(fresh_base()), environ)
    assert errors is not None
    assert not any("Env-Secret_42" in line for line in errors), errors
    assert any(
        line.startswith(
            "vicidial.campaigns (from WALLBOARD_VICIDIAL__CAMPAIGNS): campaign ID '***'"
        )
        for line in errors
    ), errors


def test_a_line_break_in_a_file_path_stays_in_one_line(tmp_path: Path) -> None:
    document = fresh_base()
    put(document, ("state", "path"), "/nonexistent\nvicidial.pass: forged line/wallboard.db")
    del document["vicidial"]["pass"]
    put(document, ("vicidial", "pass_file"), "/nonexistent/pass\nforged: line")
    errors = _errors(tmp_path, document)
    assert errors == [
        "vicidial.pass_file: cannot read the file named there: No such file or directory"
    ]


def test_a_bad_toml_file_path_is_quoted_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "a\nforged: line\x1b[2J.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    (line,) = caught.value.errors
    assert line.isprintable(), repr(line)
    assert "a\\nforged: line\\x1b[2J.toml: cannot read: No such file or directory" in line


def test_a_state_path_problem_is_one_line(tmp_path: Path) -> None:
    directory = tmp_path / "gone\nstate.path: forged\u2028"
    document = fresh_base()
    put(document, ("state", "path"), str(directory / "wallboard.db"))
    path = tmp_path / "state.toml"
    path.write_text(toml_document(document), encoding="utf-8")
    problem = check_state_path(load_config(path, environ={}))
    assert problem is not None
    assert problem.isprintable(), repr(problem)
    assert "gone\\nstate.path: forged\\u2028 does not exist" in problem


def test_a_line_break_in_a_key_stays_in_one_line(tmp_path: Path) -> None:
    document = fresh_base()
    document["vicidial"]["x\nvicidial.pass"] = 1
    document["web"] = {"\r": 1, "\x1b]0;title\x07": 2, "\u2028": 3}
    errors = _errors(tmp_path, document)
    assert sorted(errors) == [
        "vicidial.x\\nvicidial.pass: unknown key",
        "web.\\r: unknown key",
        "web.\\u2028: unknown key",
        "web.\\x1b]0;title\\x07: unknown key",
    ]


@pytest.mark.parametrize("value", [[], 7, True, 1.5, time(12, 0), ["wallboard.db"]])
def test_a_state_path_of_the_wrong_type_is_worded_for_an_operator(
    tmp_path: Path, value: Any
) -> None:
    document = fresh_base()
    put(document, ("state", "path"), value)
    assert _errors(tmp_path, document) == ["state.path: must be a file path (a string)"]


def test_a_state_path_with_a_nul_is_refused_at_load(tmp_path: Path) -> None:
    document = fresh_base()
    put(document, ("state", "path"), "wall\x00board.db")
    assert _errors(tmp_path, document) == [
        "state.path: must be a file path, and no file name has a NUL character"
    ]


def test_a_secret_file_that_cannot_be_a_secret_is_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge"
    huge.write_text("a" * 2_000_000)
    assert _pass_file_errors(tmp_path, str(huge)) == [
        "vicidial.pass_file: the file named there is larger than 64 KiB, not a secret file"
    ]


def test_a_secret_file_of_64_kib_is_read_and_one_byte_more_is_not(tmp_path: Path) -> None:
    limit = tmp_path / "limit"
    limit.write_text("a" * 65_536)
    document = fresh_base()
    del document["vicidial"]["pass"]
    put(document, ("vicidial", "pass_file"), str(limit))
    path = tmp_path / "limit.toml"
    path.write_text(toml_document(document), encoding="utf-8")
    assert load_config(path, environ={}).vicidial.password() == "a" * 65_536
    limit.write_text("a" * 65_537)
    assert _pass_file_errors(tmp_path, str(limit)) == [
        "vicidial.pass_file: the file named there is larger than 64 KiB, not a secret file"
    ]


NOT_REGULAR = (
    "vicidial.pass_file: the file named there is a directory, a device or a pipe, "
    "not a regular file"
)


@pytest.mark.timeout(30)  # a reader that opens the FIFO blocks: fail, do not hang the run
def test_a_fifo_a_device_or_a_directory_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/zero"), tmp_path):
        assert _pass_file_errors(tmp_path, str(target)) == [NOT_REGULAR], target


def test_a_symlink_to_a_secret_file_is_followed(tmp_path: Path) -> None:
    """Docker and Kubernetes mount secrets as symlinks: the file behind one is read."""
    (tmp_path / "real").write_text(PASSWORD + "\n", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    document = fresh_base()
    del document["vicidial"]["pass"]
    put(document, ("vicidial", "pass_file"), str(tmp_path / "link"))
    path = tmp_path / "link.toml"
    path.write_text(toml_document(document), encoding="utf-8")
    assert load_config(path, environ={}).vicidial.password() == PASSWORD


@pytest.mark.parametrize(
    ("pass_file", "message"),
    [
        (
            "~no-such-user-here/pass",
            "cannot read the file named there: its ~name names no user with a home directory",
        ),
        ("pa\x00ss", "cannot read the file named there: not a usable file path"),
        ("x" * 5000, "cannot read the file named there: File name too long"),
    ],
)
def test_a_secret_file_path_no_file_can_have_is_a_line(
    tmp_path: Path, pass_file: str, message: str
) -> None:
    assert _pass_file_errors(tmp_path, pass_file) == [f"vicidial.pass_file: {message}"]
