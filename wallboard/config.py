"""The one validated configuration: a TOML file plus ``WALLBOARD_<SECTION>__<KEY>`` overrides.

Validate at the edge, plain frozen data inside: :func:`load_config` reads the file and the
environment once, checks every key, and hands back a frozen, typed :class:`Settings`, or raises
:class:`ConfigError` naming *every* problem with its dotted key path (``alerts.warn_at: ...``),
so an operator fixes the whole file in one pass and a bad config never starts the daemon.

The environment beats the file. Environment names are parsed by pydantic-settings'
:class:`~pydantic_settings.EnvSettingsSource` (``WALLBOARD_VICIDIAL__PASS``, JSON for lists and
tables such as ``WALLBOARD_BOARDS``), fed a mapping we choose so tests never touch
``os.environ``; the result is deep-merged over the file and validated in one go.

Secrets (the VICIdial ``pass``, the Slack ``token``, and the files they may come from) are
:class:`~pydantic.SecretStr`: reprs never show them, and error lines are built from pydantic's
location and message only, never its ``input_value``. The client reads them through the
explicit accessors :meth:`VicidialConfig.password` and :meth:`SlackConfig.token_value`.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError

__all__ = [
    "ALL",
    "AlertsConfig",
    "AutoPauseConfig",
    "BoardConfig",
    "CacheConfig",
    "CampaignSelection",
    "ConfigError",
    "Duration",
    "NonNegativeDuration",
    "PollConfig",
    "SecretFile",
    "Settings",
    "SlackConfig",
    "StateConfig",
    "VicidialConfig",
    "WebConfig",
    "format_duration",
    "load_config",
    "load_default_config",
]

ENV_PREFIX = "WALLBOARD_"
ENV_NESTED_DELIMITER = "__"
ALL: Literal["all"] = "all"
MIN_POLL_INTERVAL = timedelta(seconds=5)
_DEFAULT_CONFIG_RESOURCE = "default_config.toml"


class ConfigError(Exception):
    """The configuration is unusable; :attr:`errors` lists every problem as ``key.path: message``.

    ``str()`` is those lines, one per line, ready for the CLI to print before exiting 2.
    """

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(self.errors)


class _KeyProblems(ValueError):
    """Findings of a cross-field check, each tied to the key (relative, dotted) to change.

    Raised from model validators, where pydantic would only know the model's own location;
    :func:`_error_lines` expands it into one ``section.key: message`` line per finding.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))
        self.problems = problems


def _raise_if_any(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise _KeyProblems(problems)


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


# --- small value types ----------------------------------------------------------------------

_CAMPAIGN_ID_RE = re.compile(r"[0-9A-Za-z_]{2,8}", re.ASCII)
_INGROUP_ID_RE = re.compile(r"[-0-9A-Za-z_]{2,20}", re.ASCII)
_VICIDIAL_CREDENTIAL_RE = re.compile(r"[-_0-9A-Za-z]+", re.ASCII)
_VICIDIAL_SOURCE_RE = re.compile(r"[0-9A-Za-z]{2,20}", re.ASCII)
_BOARD_NAME_RE = re.compile(r"[a-z0-9-]+", re.ASCII)
_LISTEN_RE = re.compile(
    r"(?:\[(?P<v6>[^\]]*)\]|(?P<host>[^:\[\]]*)):(?P<port>[0-9]{1,5})", re.ASCII
)


def _string_list(value: object) -> list[str]:
    """A TOML array, or from the environment a JSON array (decoded already) or ``"A,B"``."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value]
    raise ValueError("must be a list of strings")


def _campaign_ids(value: object) -> tuple[str, ...]:
    ids = _string_list(value)
    if not ids:
        raise ValueError('must list at least one campaign ID (or be "all")')
    for campaign in ids:
        if not _CAMPAIGN_ID_RE.fullmatch(campaign):
            raise ValueError(
                f"campaign ID {campaign!r} must be 2-8 letters, digits or underscores, as in "
                "VICIdial (the stats call joins campaign IDs with dashes)"
            )
    if len(set(ids)) != len(ids):
        raise ValueError("lists a campaign ID twice")
    return tuple(ids)


def _campaign_selection(value: object) -> Literal["all"] | tuple[str, ...]:
    if isinstance(value, str) and value.strip().lower() == ALL:
        return ALL
    return _campaign_ids(value)


CampaignSelection = Annotated[
    Literal["all"] | tuple[str, ...], BeforeValidator(_campaign_selection)
]
"""``"all"`` (every campaign VICIdial lists) or specific campaign IDs."""

CampaignIds = Annotated[tuple[str, ...], BeforeValidator(_campaign_ids)]


def _ingroup_ids(value: object) -> tuple[str, ...]:
    ids = _string_list(value)
    for group in ids:
        if not _INGROUP_ID_RE.fullmatch(group):
            raise ValueError(
                f"in-group ID {group!r} must be 2-20 letters, digits, dashes or underscores"
            )
    return tuple(ids)


IngroupIds = Annotated[tuple[str, ...], BeforeValidator(_ingroup_ids)]


@dataclass(frozen=True)
class SecretFile:
    """A secret read once, at load time, from a file (``pass_file``, ``token_file``).

    Reading at load time makes an unreadable file a config error rather than a failure at the
    first poll. The path stays visible for messages; the content is a ``SecretStr``.
    """

    path: Path
    content: SecretStr


def _read_secret_file(value: object) -> SecretFile:
    if isinstance(value, SecretFile):
        return value
    if not isinstance(value, str | os.PathLike):
        raise ValueError("must be a file path")
    path = Path(value).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or type(error).__name__}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    content = text.rstrip("\r\n")
    if not content:
        raise ValueError(f"{path} is empty")
    return SecretFile(path=path, content=SecretStr(content))


SecretFilePath = Annotated[
    SecretFile,
    PlainValidator(_read_secret_file),
    PlainSerializer(lambda secret_file: str(secret_file.path), return_type=str),
]


def _http_base_url(value: str) -> str:
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


def _split_listen(listen: str) -> tuple[str, int]:
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


# --- sections -------------------------------------------------------------------------------


class _Section(BaseModel):
    """Every section is frozen and rejects keys it does not know (typos are errors)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class VicidialConfig(_Section):
    """Where and how to reach the VICIdial Non-Agent API, and which campaigns to watch."""

    url: str
    user: str
    pass_: SecretStr | None = Field(default=None, alias="pass")
    pass_file: SecretFilePath | None = None
    source: str = "wallboard"
    campaigns: CampaignSelection = ALL
    ingroups: IngroupIds = ()
    timeout: Duration = timedelta(seconds=10)
    verify_tls: bool = True
    # Hours east of UTC of the dialer's clock (VICIdial's day boundary). Unset: taken from the
    # ``version`` answer's TZNOW, which already includes daylight saving time.
    utc_offset: float | None = Field(default=None, ge=-12, le=14)

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        base = _http_base_url(url)
        if base.endswith("non_agent_api.php"):
            raise ValueError(
                "give the base URL only: the client appends /vicidial/non_agent_api.php"
            )
        return base

    @field_validator("user")
    @classmethod
    def _check_user(cls, user: str) -> str:
        if not _VICIDIAL_CREDENTIAL_RE.fullmatch(user):
            raise ValueError(
                "VICIdial keeps only letters, digits, '-' and '_' of the API user, so this user "
                "name cannot log in; use the user exactly as VICIdial stores it"
            )
        return user

    @field_validator("pass_", "pass_file")
    @classmethod
    def _check_password(
        cls, secret: SecretStr | SecretFile | None
    ) -> SecretStr | SecretFile | None:
        value = secret.content if isinstance(secret, SecretFile) else secret
        if value is not None and not _VICIDIAL_CREDENTIAL_RE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "VICIdial strips the password to letters, digits, '-' and '_', so a password "
                "with any other character (or empty) silently fails to log in; give the API "
                "user a password made of those characters only"
            )
        return secret

    @field_validator("source")
    @classmethod
    def _check_source(cls, source: str) -> str:
        if not _VICIDIAL_SOURCE_RE.fullmatch(source):
            raise ValueError(
                "must be 2-20 letters and digits: VICIdial strips every other character from "
                "source and answers 'Invalid Source' when fewer than 2 remain"
            )
        return source

    @model_validator(mode="after")
    def _one_password(self) -> Self:
        if self.pass_ is None and self.pass_file is None:
            raise _KeyProblems([("pass", "required (or give pass_file)")])
        if self.pass_ is not None and self.pass_file is not None:
            raise _KeyProblems([("pass", "give either pass or pass_file, not both")])
        return self

    def password(self) -> str:
        """The API password in clear, for the client's request only. Never log it."""
        if self.pass_file is not None:
            return self.pass_file.content.get_secret_value()
        if self.pass_ is not None:
            return self.pass_.get_secret_value()
        raise AssertionError("validation guarantees pass or pass_file")  # pragma: no cover


class PollConfig(_Section):
    """How often each VICIdial figure is fetched (see CONTRACT §1 for who reads what)."""

    agents_interval: Duration = timedelta(seconds=30)
    stats_interval: Duration = timedelta(seconds=60)
    campaigns_interval: Duration = timedelta(seconds=60)
    hopper_interval: Duration = timedelta(seconds=120)
    ingroups_interval: Duration = timedelta(seconds=30)
    jitter: NonNegativeDuration = timedelta(seconds=5)
    history_days: int = Field(default=30, ge=1, le=366)
    # Pause between two past-day call_status_stats requests when filling the 30-day window,
    # so a fresh install does not fire 29 report queries at the dialer's database at once.
    history_throttle: NonNegativeDuration = timedelta(seconds=1)

    @field_validator(
        "agents_interval",
        "stats_interval",
        "campaigns_interval",
        "hopper_interval",
        "ingroups_interval",
    )
    @classmethod
    def _not_too_often(cls, interval: timedelta) -> timedelta:
        if interval < MIN_POLL_INTERVAL:
            raise ValueError(
                f"must be at least {format_duration(MIN_POLL_INTERVAL)}: "
                "polling faster only loads the dialer's database"
            )
        return interval

    @property
    def intervals(self) -> dict[str, timedelta]:
        """Every poll interval by its key name."""
        return {
            "agents_interval": self.agents_interval,
            "stats_interval": self.stats_interval,
            "campaigns_interval": self.campaigns_interval,
            "hopper_interval": self.hopper_interval,
            "ingroups_interval": self.ingroups_interval,
        }

    @property
    def shortest_interval(self) -> tuple[str, timedelta]:
        """The most frequent poll, as (key, interval)."""
        return min(self.intervals.items(), key=lambda item: item[1])

    @property
    def longest_interval(self) -> tuple[str, timedelta]:
        """The least frequent poll, as (key, interval)."""
        return max(self.intervals.items(), key=lambda item: item[1])

    @model_validator(mode="after")
    def _jitter_below_intervals(self) -> Self:
        key, shortest = self.shortest_interval
        if self.jitter >= shortest:
            limit = f"{key} = {format_duration(shortest)}"
            raise _KeyProblems(
                [("jitter", f"must be shorter than the shortest interval ({limit})")]
            )
        return self


class CacheConfig(_Section):
    """Where the snapshot lives: in this process, or in Redis shared by several instances."""

    backend: Literal["memory", "redis"] = "memory"
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", repr=False)  # may hold a password
    key_prefix: str = Field(default="wallboard", min_length=1)
    lock_ttl: Duration = timedelta(seconds=15)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return url


class WebConfig(_Section):
    """The one HTTP server (boards, API, SSE, metrics); ``listen`` is ``HOST:PORT``."""

    listen: str = "0.0.0.0:8080"

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, listen: str) -> str:
        _split_listen(listen)
        return listen.strip()

    @property
    def host(self) -> str:
        """The address to bind (IPv6 without brackets, as aiohttp wants it)."""
        return _split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        """The TCP port (0 lets the OS pick a free one)."""
        return _split_listen(self.listen)[1]


class BoardConfig(_Section):
    """One TV page: ``/boards/<name>`` shows these campaigns under this title."""

    name: str
    title: str = Field(min_length=1)
    campaigns: CampaignSelection = ALL

    @model_validator(mode="before")
    @classmethod
    def _title_defaults_to_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "title" not in data and isinstance(data.get("name"), str):
            return {**data, "title": data["name"]}
        return data

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not _BOARD_NAME_RE.fullmatch(name):
            raise ValueError("must be lowercase letters, digits and dashes (it is the URL path)")
        return name


Ratio = Annotated[float, Field(gt=0, lt=1)]


class AutoPauseConfig(_Section):
    """Campaigns the daemon may stop (``active=N``) when their drop ratio reaches ``at``."""

    campaigns: CampaignIds
    at: Ratio
    dry_run: bool = True


class AlertsConfig(_Section):
    """Drop-ratio thresholds (ratios 0..1), hysteresis, and the optional auto-pause."""

    limit: Ratio = 0.03
    warn_at: Ratio = 0.025
    critical_at: Ratio = 0.028
    min_answered: int = Field(default=50, ge=0)
    pending: Duration = timedelta(minutes=2)
    clear_margin: float = Field(default=0.002, ge=0, lt=1)
    stale_after: Duration = timedelta(minutes=3)
    auto_pause: AutoPauseConfig | None = None

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> Self:
        problems = []
        if self.warn_at >= self.critical_at:
            problems.append(("warn_at", f"must be below critical_at ({self.critical_at})"))
        if self.critical_at > self.limit:
            problems.append(("critical_at", f"must not be above limit ({self.limit})"))
        if self.clear_margin >= self.warn_at:
            problems.append(
                ("clear_margin", f"must be below warn_at ({self.warn_at}), or alerts never clear")
            )
        _raise_if_any(problems)
        return self


class SlackConfig(_Section):
    """Where alerts go; the section's absence means no Slack at all."""

    token: SecretStr | None = None
    token_file: SecretFilePath | None = None
    channel: str = Field(min_length=1)
    base_url: str = "https://slack.com/api/"

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, url: str) -> str:
        return _http_base_url(url) + "/"

    @field_validator("token", "token_file")
    @classmethod
    def _check_token(cls, secret: SecretStr | SecretFile | None) -> SecretStr | SecretFile | None:
        value = secret.content if isinstance(secret, SecretFile) else secret
        if value is not None:
            text = value.get_secret_value()
            if not text or any(character.isspace() for character in text):
                raise ValueError("must be a Slack token (xoxb-...), not empty, without spaces")
        return secret

    @model_validator(mode="after")
    def _one_token(self) -> Self:
        if self.token is None and self.token_file is None:
            raise _KeyProblems([("token", "required (or give token_file)")])
        if self.token is not None and self.token_file is not None:
            raise _KeyProblems([("token", "give either token or token_file, not both")])
        return self

    def token_value(self) -> str:
        """The bot token in clear, for the Slack client only. Never log it."""
        if self.token_file is not None:
            return self.token_file.content.get_secret_value()
        if self.token is not None:
            return self.token.get_secret_value()
        raise AssertionError("validation guarantees token or token_file")  # pragma: no cover


class StateConfig(_Section):
    """The SQLite file for history, the alert outbox and the audit log."""

    path: Path = Path("wallboard.db")


_DEFAULT_BOARDS = (BoardConfig(name="floor", title="Floor"),)


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_config`, which reports every error."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
    )

    vicidial: VicidialConfig
    poll: PollConfig = PollConfig()
    cache: CacheConfig = CacheConfig()
    web: WebConfig = WebConfig()
    boards: tuple[BoardConfig, ...] = _DEFAULT_BOARDS
    alerts: AlertsConfig = AlertsConfig()
    slack: SlackConfig | None = None
    state: StateConfig = StateConfig()

    @field_validator("boards")
    @classmethod
    def _unique_boards(cls, boards: tuple[BoardConfig, ...]) -> tuple[BoardConfig, ...]:
        if not boards:
            raise ValueError("needs at least one board")
        seen: set[str] = set()
        problems = []
        for index, board in enumerate(boards):
            if board.name in seen:
                problems.append((f"{index}.name", f"board name {board.name!r} is used twice"))
            seen.add(board.name)
        _raise_if_any(problems)
        return boards

    @model_validator(mode="after")
    def _sections_agree(self) -> Self:
        problems = []
        key, shortest = self.poll.shortest_interval
        if self.vicidial.timeout >= shortest:
            problems.append(
                (
                    "vicidial.timeout",
                    f"must be shorter than the shortest poll interval "
                    f"(poll.{key} = {format_duration(shortest)})",
                )
            )
        key, longest = self.poll.longest_interval
        if self.alerts.stale_after <= longest + self.poll.jitter:
            problems.append(
                (
                    "alerts.stale_after",
                    f"must be longer than the longest poll interval plus jitter "
                    f"(poll.{key} + poll.jitter = {format_duration(longest + self.poll.jitter)}), "
                    "or that source always looks stale",
                )
            )
        polled = self.vicidial.campaigns
        if polled != ALL:
            for index, board in enumerate(self.boards):
                problems += _not_polled(f"boards.{index}.campaigns", board.campaigns, polled)
            if self.alerts.auto_pause is not None:
                problems += _not_polled(
                    "alerts.auto_pause.campaigns", self.alerts.auto_pause.campaigns, polled
                )
        _raise_if_any(problems)
        return self


def _not_polled(
    key: str, wanted: Literal["all"] | tuple[str, ...], polled: tuple[str, ...]
) -> list[tuple[str, str]]:
    missing = [] if wanted == ALL else [c for c in wanted if c not in polled]
    if not missing:
        return []
    return [(key, f"{', '.join(missing)} not in vicidial.campaigns, so never polled")]


# --- loading --------------------------------------------------------------------------------


class _EnvironmentSource(EnvSettingsSource):
    """pydantic-settings' environment parsing, reading a mapping we pass instead of os.environ."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items()}


def load_config(path: Path | None, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (TOML; ``None`` = no file) and the environment; env wins over the file.

    ``environ`` defaults to ``os.environ``. Raises :class:`ConfigError` listing every problem.
    """
    file_data: dict[str, Any] = {}
    if path is not None:
        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError([f"{path}: cannot read: {error.strerror or error}"]) from None
        except UnicodeDecodeError:
            raise ConfigError([f"{path}: not UTF-8 text"]) from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError([f"{path}: invalid TOML: {error}"]) from None
    return _validate(file_data, os.environ if environ is None else environ)


def load_default_config(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The embedded demo config (``wallboard/default_config.toml``) with ``overrides`` merged.

    ``overrides`` is nested like the file (``{"web": {"listen": "127.0.0.1:0"}}``). The
    environment is deliberately ignored: the demo must run the same on every machine.
    """
    text = resources.files("wallboard").joinpath(_DEFAULT_CONFIG_RESOURCE).read_text("utf-8")
    return _validate(_deep_merge(tomllib.loads(text), overrides or {}), {})


def _validate(file_data: dict[str, Any], environ: Mapping[str, str]) -> Settings:
    try:
        env_data = _EnvironmentSource(environ)()
    except SettingsError as error:
        raise ConfigError([_describe_env_json_error(error)]) from None
    errors = _unknown_env_sections(environ)
    try:
        settings = Settings.model_validate(_deep_merge(file_data, env_data))
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


def _unknown_env_sections(environ: Mapping[str, str]) -> list[str]:
    """``WALLBOARD_SLAK__TOKEN`` would be ignored silently by pydantic-settings: report it."""
    errors = []
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and ENV_NESTED_DELIMITER in upper[len(ENV_PREFIX) :]:
            section = upper[len(ENV_PREFIX) :].split(ENV_NESTED_DELIMITER, 1)[0].lower()
            if section not in Settings.model_fields:
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
    if isinstance(cause, _KeyProblems):
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


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``, table by table; arrays and values are replaced."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged
