"""The value types the settings are made of, each a small validator with operator-worded errors.

Durations written as operators write them (``"30s"``, ``"1m30s"``, ``"500ms"``) and
:func:`format_duration` to print them back, byte sizes (``"16MB"``) and :func:`format_bytes`,
lists of campaign and in-group IDs, ``"all"``, secrets read from a file at load time
(:class:`SecretFile`), HTTP base URLs and ``HOST:PORT`` listen addresses. They live apart from
:mod:`wallboard.config` because they are not settings: each is usable on its own (the tests
validate :data:`Duration` through a ``TypeAdapter``), and inlined they would bury the sections,
the part of the configuration an operator reads, under regular expressions.
:mod:`wallboard.config` re-exports the public ones.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    SecretStr,
)
from pydantic_settings import NoDecode

from wallboard.windows.names import PACING_WINDOWS, WINDOWS

__all__ = [
    "ALERT_WINDOWS",
    "ALL",
    "GROUP_PREFIX",
    "PACING_WINDOWS",
    "AlertTarget",
    "AlertWindows",
    "AutoPauseWindows",
    "ByteSize",
    "CampaignId",
    "CampaignIds",
    "CampaignSelection",
    "Duration",
    "GroupName",
    "IngroupIds",
    "NonNegativeDuration",
    "PlainPath",
    "QuietHours",
    "Ratio",
    "SecretFile",
    "SecretFilePath",
    "ShiftEnd",
    "StatusCodes",
    "format_bytes",
    "format_duration",
    "format_quiet_hours",
    "http_base_url",
    "split_listen",
]

ALL: Literal["all"] = "all"

# --- durations ------------------------------------------------------------------------------

_NUMBER = r"\d+(?:\.\d+)?"
_DURATION_RE = re.compile(
    rf"(?:(?P<h>{_NUMBER})h)?(?:(?P<m>{_NUMBER})m(?!s))?(?:(?P<s>{_NUMBER})s)?(?:(?P<ms>{_NUMBER})ms)?",
    re.ASCII,
)
_PLAIN_NUMBER_RE = re.compile(_NUMBER, re.ASCII)
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_DURATION_HINT = 'a duration such as "30s", "2m", "1h", "1m30s", "500ms" or a number of seconds'


def _seconds_from_text(text: str) -> float:
    text = text.strip()
    if _PLAIN_NUMBER_RE.fullmatch(text):
        return float(text)
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"must be {_DURATION_HINT}")
    return sum(
        float(amount) * _UNIT_SECONDS[unit] for unit, amount in match.groupdict().items() if amount
    )


def _to_timedelta(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        seconds = _seconds_from_text(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise ValueError(f"must be {_DURATION_HINT}")
    if not math.isfinite(seconds):
        raise ValueError(f"must be {_DURATION_HINT}")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError("is far too long") from None


def _positive_duration(value: object) -> timedelta:
    duration = _to_timedelta(value)
    if duration <= timedelta(0):
        raise ValueError("must be longer than zero")
    return duration


def _non_negative_duration(value: object) -> timedelta:
    duration = _to_timedelta(value)
    if duration < timedelta(0):
        raise ValueError("must not be negative")
    return duration


Duration = Annotated[timedelta, BeforeValidator(_positive_duration)]
"""A positive duration: ``"30s"``, ``"2m"``, ``"1h"``, ``"1m30s"``, ``"500ms"`` or seconds."""

NonNegativeDuration = Annotated[timedelta, BeforeValidator(_non_negative_duration)]
"""Like :data:`Duration` but zero is allowed (``poll.jitter = "0s"`` turns jitter off)."""


def format_duration(duration: timedelta) -> str:
    """The short form operators write (``"2m"``, ``"1m30s"``, ``"500ms"``), for messages."""
    millis = round(duration.total_seconds() * 1000)
    if millis == 0:
        return "0s"
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        amount, millis = divmod(millis, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


# --- byte sizes -----------------------------------------------------------------------------

# Binary multiples, as memory limits are usually meant (nginx, Redis): "16MB" is 16 MiB.
_BYTE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_BYTE_SIZE_RE = re.compile(
    r"(?P<amount>\d+(?:\.\d+)?)\s*(?:(?P<unit>[kmg])(?:i?b)?|(?P<b>b))?", re.I
)
_BYTE_SIZE_HINT = 'a size such as "16MB", "512KB", "1GB" or a whole number of bytes'


def _byte_size(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be {_BYTE_SIZE_HINT}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _BYTE_SIZE_RE.fullmatch(value.strip())):
        unit = (match["unit"] or "").lower()
        size = math.floor(float(match["amount"]) * _BYTE_UNITS[unit])
    else:
        raise ValueError(f"must be {_BYTE_SIZE_HINT}")
    if size <= 0:
        raise ValueError("must be more than zero bytes")
    return size


ByteSize = Annotated[int, BeforeValidator(_byte_size)]
"""A size in bytes: an integer, or ``"512KB"``, ``"16MB"``, ``"1GB"`` (binary: 1KB = 1024 bytes,
``KiB``/``MiB``/``GiB`` and the bare ``K``/``M``/``G`` mean the same)."""


def format_bytes(size: int) -> str:
    """The short form operators write (``"16MB"``, ``"64KB"``, ``"1000 bytes"``), for messages."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size} bytes"


# --- small value types ----------------------------------------------------------------------

_CAMPAIGN_ID_RE = re.compile(r"[0-9A-Za-z_]{2,8}", re.ASCII)
_INGROUP_ID_RE = re.compile(r"[-0-9A-Za-z_]{2,20}", re.ASCII)
_LISTEN_RE = re.compile(
    r"(?:\[(?P<v6>[^\]]*)\]|(?P<host>[^:\[\]]*)):(?P<port>[0-9]{1,5})", re.ASCII
)


def _string_list(value: object) -> list[str]:
    """A TOML array, or from the environment a JSON array or ``"A,B"``.

    The list types are marked ``NoDecode``, so pydantic-settings hands the environment's text
    over as it is (it would insist on JSON) and the JSON is read here.
    """
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError('must be a list of strings (JSON such as ["A", "B"])') from None
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    raise ValueError("must be a list of strings")


def _campaign_id(value: object) -> str:
    if not isinstance(value, str) or not _CAMPAIGN_ID_RE.fullmatch(value):
        raise ValueError(
            f"campaign ID {value!r} must be 2-8 letters, digits or underscores, as in "
            "VICIdial (the stats call joins campaign IDs with dashes)"
        )
    return value


CampaignId = Annotated[str, BeforeValidator(_campaign_id)]
"""One campaign ID as VICIdial spells it (the key of an ``[alerts.campaigns.<ID>]`` table)."""


def _campaign_ids(value: object) -> tuple[str, ...]:
    ids = _string_list(value)
    if not ids:
        raise ValueError('must list at least one campaign ID (or be "all")')
    for campaign in ids:
        _campaign_id(campaign)
    if len(set(ids)) != len(ids):
        raise ValueError("lists a campaign ID twice")
    return tuple(ids)


def _campaign_selection(value: object) -> Literal["all"] | tuple[str, ...]:
    if isinstance(value, str) and value.strip().lower() == ALL:
        return ALL
    return _campaign_ids(value)


CampaignSelection = Annotated[
    Literal["all"] | tuple[str, ...], BeforeValidator(_campaign_selection), NoDecode
]
"""``"all"`` (every campaign VICIdial lists) or specific campaign IDs."""

CampaignIds = Annotated[tuple[str, ...], BeforeValidator(_campaign_ids), NoDecode]
"""Specific campaign IDs, at least one and none twice, with no ``"all"`` shorthand."""


def _ingroup_ids(value: object) -> tuple[str, ...]:
    ids = _string_list(value)
    for group in ids:
        if not _INGROUP_ID_RE.fullmatch(group):
            raise ValueError(
                f"in-group ID {group!r} must be 2-20 letters, digits, dashes or underscores"
            )
    return tuple(ids)


IngroupIds = Annotated[tuple[str, ...], BeforeValidator(_ingroup_ids), NoDecode]
"""In-group IDs as VICIdial spells them; the list may be empty."""


@dataclass(frozen=True)
class SecretFile:
    """A secret read once, at load time, from a file (``pass_file``, ``token_file``).

    Reading at load time makes an unreadable file a config error rather than a failure at the
    first poll. The path is kept for dumping the settings back, never for error lines (see
    :func:`_read_secret_file`); the content is a ``SecretStr``.
    """

    path: Path
    content: SecretStr

    def get_secret_value(self) -> str:
        """The secret in clear; the name is ``SecretStr``'s, so code that masks secrets (the
        config loader's error lines) treats both alike."""
        return self.content.get_secret_value()


MAX_SECRET_FILE_BYTES = 64 * 1024
"""A password or token is a line: a larger file is not a secret file (a log, a database
named by mistake), and reading it whole could take the daemon's memory."""

_SECRET_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY


def _read_secret_file(value: object) -> SecretFile:
    """Read the secret at the path ``value``, as UTF-8 text without its final line break.

    Error messages never repeat the path: the usual mistake with ``token_file`` is writing the
    token itself there, and the message would print it. The key in front of the message (and
    the environment variable, if one gave it) says which setting to look at.

    Only a regular file of at most :data:`MAX_SECRET_FILE_BYTES` is read. ``os.stat`` comes
    first, so a FIFO, a device or a directory is never opened; the open is non-blocking and the
    opened file is checked again, so a file swapped for a FIFO in between cannot block the
    load either, and no more than the limit (plus one byte, to notice a larger file) is read.
    """
    if isinstance(value, SecretFile):
        return value
    if not isinstance(value, str | os.PathLike):
        raise ValueError("must be a file path")
    try:
        path = Path(value).expanduser()
        data = _read_small_regular_file(path)
    except _NotASecretFile as refusal:
        raise ValueError(f"the file named there {refusal}") from None
    except RuntimeError:  # "~name" where no user "name" has a home directory
        raise ValueError(
            "cannot read the file named there: its ~name names no user with a home directory"
        ) from None
    except (ValueError, TypeError):  # a NUL character: no file can have that name
        raise ValueError("cannot read the file named there: not a usable file path") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"cannot read the file named there: {reason}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file named there is not UTF-8 text") from None
    content = text.rstrip("\r\n")
    if not content:
        raise ValueError("the file named there is empty")
    return SecretFile(path=path, content=SecretStr(content))


class _NotASecretFile(Exception):
    """A file that exists but cannot hold a secret; the text completes "the file named there"."""


_NOT_REGULAR = "is a directory, a device or a pipe, not a regular file"


def _read_small_regular_file(path: Path) -> bytes:
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise _NotASecretFile(_NOT_REGULAR)
    descriptor = os.open(path, _SECRET_FILE_FLAGS)
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _NotASecretFile(_NOT_REGULAR)
        data = file.read(MAX_SECRET_FILE_BYTES + 1)
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise _NotASecretFile(
            f"is larger than {MAX_SECRET_FILE_BYTES // 1024} KiB, not a secret file"
        )
    return data


SecretFilePath = Annotated[
    SecretFile,
    PlainValidator(_read_secret_file),
    PlainSerializer(lambda secret_file: str(secret_file.path), return_type=str),
]


def _plain_path(value: object) -> Path:
    """A path from the text the operator wrote; pydantic's own message for anything else
    ("Input is not a valid path for <class 'pathlib.Path'>") is not for operators."""
    if isinstance(value, Path):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a file path (a string)")
    if "\x00" in value:
        raise ValueError("must be a file path, and no file name has a NUL character")
    return Path(value)


PlainPath = Annotated[Path, BeforeValidator(_plain_path)]
"""A file path written as a string (``state.path``); it need not exist yet."""


def http_base_url(value: str) -> str:
    """``http(s)://host[:port][/path]`` without a trailing ``/``; credentials are refused."""
    hint = "must be an http:// or https:// URL with a host, e.g. https://dialer.example.com"
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - parsing the port is part of the check
    except ValueError:
        raise ValueError(f"{hint} (and a port from 1 to 65535)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(hint)
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials: give them as user and pass")
    if parts.query or parts.fragment:
        raise ValueError("must not contain a query (?...) or fragment (#...)")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def split_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 host in brackets) as ``(host, port)``; ``ValueError`` says the fix."""
    match = _LISTEN_RE.fullmatch(listen.strip())
    if match is None:
        if listen.count(":") > 1 and "[" not in listen:
            raise ValueError('write an IPv6 address in brackets, e.g. "[::]:8080"')
        raise ValueError('must be "HOST:PORT", e.g. "0.0.0.0:8080" or "[::]:8080"')
    port = int(match["port"])
    if port > 65535:
        raise ValueError("port must be from 0 to 65535 (0 picks a free port)")
    if match["v6"] is not None:
        try:
            ipaddress.IPv6Address(match["v6"])
        except ValueError:
            raise ValueError("the address in brackets is not an IPv6 address") from None
        return match["v6"], port
    if not match["host"]:
        raise ValueError('needs a host: "0.0.0.0:PORT" for every interface')
    return match["host"], port


Ratio = Annotated[float, Field(gt=0, lt=1)]
"""A ratio strictly between 0 and 1, as the drop-ratio thresholds are written."""


# --- alert windows and quiet hours ----------------------------------------------------------

ALERT_WINDOWS: tuple[str, ...] = WINDOWS
"""Every drop window, in the order they are shown (any of them can alert)."""


def _quoted(names: tuple[str, ...]) -> str:
    quoted = [f'"{name}"' for name in names]
    return ", ".join(quoted[:-1]) + f" and {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _window_names(value: object) -> tuple[str, ...]:
    """A list of distinct window names (an empty list is allowed: nothing alerts)."""
    names = _string_list(value)
    for name in names:
        if name not in ALERT_WINDOWS:
            raise ValueError(f'unknown window "{name}": the windows are {_quoted(ALERT_WINDOWS)}')
    if len(set(names)) != len(names):
        raise ValueError("lists a window twice")
    return tuple(names)


def _auto_pause_windows(value: object) -> tuple[str, ...]:
    names = _string_list(value)
    for name in names:
        if name in PACING_WINDOWS:
            raise ValueError(
                f'"{name}" is a pacing window: it shows how the last minutes went, not the '
                "legal position, so it never pauses a campaign"
            )
    names = list(_window_names(names))
    if not names:
        raise ValueError(
            "must list at least one window (remove [alerts.auto_pause] to turn auto-pause off)"
        )
    return tuple(names)


AlertWindows = Annotated[tuple[str, ...], BeforeValidator(_window_names), NoDecode]
"""Alerted windows (:data:`ALERT_WINDOWS`), none twice."""

AutoPauseWindows = Annotated[tuple[str, ...], BeforeValidator(_auto_pause_windows), NoDecode]
"""The windows whose incidents may pause a campaign: alert windows, at least one, never pacing."""

_QUIET_HOURS_RE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", re.ASCII)
_QUIET_HOURS_HINT = '"" (none) or "HH:MM-HH:MM" in dialer time, such as "22:00-07:00"'


def _quiet_hours(value: object) -> tuple[time, time] | None:
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(t, time) for t in value):
        return (value[0], value[1])
    if not isinstance(value, str):
        raise ValueError(f"must be {_QUIET_HOURS_HINT}")
    text = value.strip()
    if not text:
        return None
    match = _QUIET_HOURS_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"must be {_QUIET_HOURS_HINT}")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if max(start_h, end_h) > 23 or max(start_m, end_m) > 59:
        raise ValueError(f"must be {_QUIET_HOURS_HINT}, with hours 00-23 and minutes 00-59")
    start, end = time(start_h, start_m), time(end_h, end_m)
    if start == end:
        raise ValueError(
            'starts and ends at the same minute, which says neither "never" nor "always": '
            'use "" for no quiet hours'
        )
    return start, end


def format_quiet_hours(quiet: tuple[time, time] | None) -> str:
    """``"22:00-07:00"``, or ``""`` for none: the form the file uses."""
    if quiet is None:
        return ""
    start, end = quiet
    return f"{start:%H:%M}-{end:%H:%M}"


QuietHours = Annotated[
    tuple[time, time] | None,
    BeforeValidator(_quiet_hours),
    NoDecode,
    PlainSerializer(format_quiet_hours, return_type=str),
]
"""Hours (dialer time) when warnings are held: ``(start, end)``, wrapping midnight when
``end < start``; ``None`` (written ``""``) for none. Critical alerts are never held."""


# --- compliance: shift end, status codes, drop-rate groups ----------------------------------

_SHIFT_END_HINT = '"" (midnight) or "HH:MM" in dialer time, such as "21:00"'


def _shift_end(value: object) -> time | None:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be {_SHIFT_END_HINT}")
    text = value.strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text, re.ASCII)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"must be {_SHIFT_END_HINT}, with hours 00-23 and minutes 00-59")
    end = time(int(match[1]), int(match[2]))
    if end == time(0, 0):
        raise ValueError('"00:00" is the day\'s end already: use "" for midnight')
    return end


ShiftEnd = Annotated[
    time | None,
    BeforeValidator(_shift_end),
    NoDecode,
    PlainSerializer(lambda end: "" if end is None else f"{end:%H:%M}", return_type=str),
]
"""The end of the calling day in dialer time (the forecast's horizon); ``None``: midnight."""

_STATUS_RE = re.compile(r"[0-9A-Za-z_]{1,6}", re.ASCII)


def _status_codes(value: object) -> tuple[str, ...]:
    codes = _string_list(value)
    for code in codes:
        if not _STATUS_RE.fullmatch(code):
            raise ValueError(
                f"status {code!r} must be 1-6 letters, digits or underscores, as VICIdial "
                "stores a status"
            )
    if len(set(codes)) != len(codes):
        raise ValueError("lists a status twice")
    return tuple(codes)


StatusCodes = Annotated[tuple[str, ...], BeforeValidator(_status_codes), NoDecode]
"""VICIdial status codes (``SALE``, ``A``, ...), none twice; may be empty."""

GROUP_PREFIX = "group:"
_GROUP_NAME_RE = re.compile(r"[0-9A-Za-z_-]{1,20}", re.ASCII)


def _group_name(value: object) -> str:
    if not isinstance(value, str) or not _GROUP_NAME_RE.fullmatch(value):
        raise ValueError(
            f"drop-rate group name {value!r} must be 1-20 letters, digits, '_' or '-' "
            '(it is exported as campaign="group:NAME")'
        )
    return value


GroupName = Annotated[str, BeforeValidator(_group_name)]
"""A drop-rate group's name (exported and alerted as ``group:NAME``)."""


def _alert_target(value: object) -> str:
    if isinstance(value, str) and value.startswith(GROUP_PREFIX):
        return GROUP_PREFIX + _group_name(value[len(GROUP_PREFIX) :])
    return _campaign_id(value)


AlertTarget = Annotated[str, BeforeValidator(_alert_target)]
"""The key of an ``[alerts.campaigns.<ID>]`` table: a campaign ID, or ``"group:NAME"``."""
