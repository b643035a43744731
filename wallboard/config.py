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

Each section checks its own keys; rules between keys (``warn_at`` below ``critical_at``,
exactly one of ``pass`` and ``pass_file``, ...) live in :mod:`wallboard.config_rules` and run on
every load next to the field checks, so one pass reports field errors, missing keys and
cross-field problems together. ``[alerts.campaigns.<ID>]`` overrides are validated like any
section and the threshold rules hold for each campaign's merged values;
:meth:`AlertsConfig.for_campaign` is the one merge, and
:func:`wallboard.alerts.rules.rules_from_config` turns the result into the plain values the
alert engine and the readers use.

This module is the public face: the sections, :class:`Settings`, :func:`load_config`,
:func:`load_default_config` and :func:`check_state_path`. The value types the sections are built
from (durations, byte sizes, ID lists, secret files) live in :mod:`wallboard.config_types` and
the TOML/environment reading and error lines in :mod:`wallboard.config_loader`; the names other
modules and the tests use are re-exported here, so ``from wallboard.config import ...`` is all a
caller needs.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from datetime import timezone as fixed_offset
from datetime import tzinfo as TzInfo
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from wallboard.config_loader import (
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    RULES_CHECKED,
    ConfigError,
    KnownValues,
    deep_merge,
    one_line,
    raise_if_any,
    read_toml_file,
    validate_settings,
)
from wallboard.config_rules import config_problems
from wallboard.config_types import (
    ALL,
    GROUP_PREFIX,
    AlertTarget,
    AlertWindows,
    AutoPauseWindows,
    ByteSize,
    CampaignIds,
    CampaignSelection,
    Duration,
    GroupName,
    IngroupIds,
    NonNegativeDuration,
    PlainPath,
    QuietHours,
    Ratio,
    SecretFile,
    SecretFilePath,
    ShiftEnd,
    StatusCodes,
    format_bytes,
    format_duration,
    format_quiet_hours,
    http_base_url,
    split_listen,
)
from wallboard.web.panels import PANELS
from wallboard.windows.names import default_alerted
from wallboard.windows.ofcom import DEFAULT_MACHINE_STATUSES

__all__ = [
    "ALL",
    "AlertsConfig",
    "AutoPauseConfig",
    "BoardConfig",
    "ByteSize",
    "CacheConfig",
    "CampaignAlertsConfig",
    "CampaignSelection",
    "ConfigError",
    "DropGroupConfig",
    "Duration",
    "MetricsConfig",
    "NonNegativeDuration",
    "PollConfig",
    "SecretFile",
    "Settings",
    "SlackConfig",
    "StateConfig",
    "VicidialConfig",
    "WebConfig",
    "check_state_path",
    "format_bytes",
    "format_duration",
    "format_quiet_hours",
    "load_config",
    "load_default_config",
]

MIN_POLL_INTERVAL = timedelta(seconds=5)
KB = 1024
MB = 1024 * KB
# logged_in_agents, the largest answer, runs about 100 bytes a row: 10,000 agents are ~1 MB,
# so 16 MB leaves a wide margin while a runaway (or endless) body is cut long before it hurts.
DEFAULT_MAX_RESPONSE_BYTES = 16 * MB
MIN_MAX_RESPONSE_BYTES = 64 * KB
MAX_MAX_RESPONSE_BYTES = 1024 * MB
MIN_LOGIN_RETRY = timedelta(seconds=30)
# VICIdial locks an API user for 15 minutes after 10 failed logins; probing sooner only
# meets the lock again (and a wrong password would renew it).
VICIDIAL_LOCK = timedelta(minutes=15)
MIN_REQUESTS_PER_MINUTE = 5
_DEFAULT_CONFIG_RESOURCE = "default_config.toml"
_VICIDIAL_CREDENTIAL_RE = re.compile(r"[-_0-9A-Za-z]+", re.ASCII)
_VICIDIAL_SOURCE_RE = re.compile(r"[0-9A-Za-z]{2,20}", re.ASCII)
_BOARD_NAME_RE = re.compile(r"[a-z0-9-]+", re.ASCII)
# URL-unreserved characters: the token is written into ?token= and headers as it is.
_WEB_TOKEN_RE = re.compile(r"[-._~0-9A-Za-z]+", re.ASCII)
MIN_WEB_TOKEN_LENGTH = 16


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
    # The dialer's clock (VICIdial's day boundary): an IANA zone name, or hours east of UTC.
    # Neither: the ``version`` answer's TZNOW, which already includes daylight saving time.
    timezone: str = ""
    utc_offset: float | None = Field(default=None, ge=-12, le=14)
    max_response_bytes: ByteSize = DEFAULT_MAX_RESPONSE_BYTES
    login_retry: Duration = timedelta(minutes=2)
    lock_retry: Duration = VICIDIAL_LOCK

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        base = http_base_url(url)
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

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, name: str) -> str:
        name = name.strip()
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ValueError(
                    f'{name!r} is not an IANA time zone name such as "America/New_York" '
                    "(a fixed offset goes in utc_offset; if the name is right, this system "
                    "lacks the time zone database: install tzdata)"
                ) from None
        return name

    @field_validator("max_response_bytes")
    @classmethod
    def _check_max_response_bytes(cls, size: int) -> int:
        if size < MIN_MAX_RESPONSE_BYTES:
            raise ValueError(
                f"must be at least {format_bytes(MIN_MAX_RESPONSE_BYTES)}: a busy floor's "
                "ordinary answers would be rejected"
            )
        if size > MAX_MAX_RESPONSE_BYTES:
            raise ValueError(
                f"must be at most {format_bytes(MAX_MAX_RESPONSE_BYTES)}: the cap exists to keep "
                "a runaway answer from taking the daemon's memory"
            )
        return size

    @field_validator("login_retry")
    @classmethod
    def _check_login_retry(cls, retry: timedelta) -> timedelta:
        if retry < MIN_LOGIN_RETRY:
            raise ValueError(
                f"must be at least {format_duration(MIN_LOGIN_RETRY)}: each probe with a wrong "
                "password counts towards VICIdial's lock (10 failures in 15 minutes)"
            )
        return retry

    @field_validator("lock_retry")
    @classmethod
    def _check_lock_retry(cls, retry: timedelta) -> timedelta:
        if retry < VICIDIAL_LOCK:
            raise ValueError(
                f"must be at least {format_duration(VICIDIAL_LOCK)}: VICIdial's lock lasts "
                "15 minutes, so an earlier probe only meets the lock again"
            )
        return retry

    @property
    def tzinfo(self) -> TzInfo | None:
        """The dialer's zone as configured (``timezone``, else ``utc_offset``); ``None`` means
        follow the offset VICIdial's ``version`` answer reports."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        if self.utc_offset is not None:
            return fixed_offset(timedelta(hours=self.utc_offset))
        return None

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
    # Every VICIdial request of this daemon per minute, retries and backfill included; the
    # slow sources (hoppers first) are stretched to fit, the live agents and stats never.
    max_requests_per_minute: int = 20

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

    @field_validator("max_requests_per_minute")
    @classmethod
    def _check_budget(cls, budget: int) -> int:
        if budget < MIN_REQUESTS_PER_MINUTE:
            raise ValueError(
                f"must be at least {MIN_REQUESTS_PER_MINUTE}: the agents, stats and campaigns "
                "polls alone take 4 a minute at their default intervals"
            )
        return budget

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
    """The one HTTP server (boards, API, SSE, metrics); ``listen`` is ``HOST:PORT``.

    ``listen`` defaults to loopback: the daemon serves the floor's figures without a login
    unless ``token`` is set, so facing a network has to be a decision (``0.0.0.0:8080`` in the
    example and in compose, with a comment). ``token`` (or ``token_file``) is an optional
    read-only access token for the boards, ``/static``, ``/api`` and ``/metrics``; empty means
    none. It is a ``SecretStr``: reprs and error lines never show it.
    """

    listen: str = "127.0.0.1:8080"
    token: SecretStr | None = None
    token_file: SecretFilePath | None = None

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, listen: str) -> str:
        split_listen(listen)
        return listen.strip()

    @field_validator("token", "token_file")
    @classmethod
    def _check_token(cls, secret: SecretStr | SecretFile | None) -> SecretStr | SecretFile | None:
        if isinstance(secret, SecretFile):
            value = secret.content.get_secret_value()
        elif secret is not None:
            value = secret.get_secret_value()
            if not value:
                return None  # token = "" is the documented "no token"
        else:
            return None
        if len(value) < MIN_WEB_TOKEN_LENGTH or not _WEB_TOKEN_RE.fullmatch(value):
            raise ValueError(
                f"must be at least {MIN_WEB_TOKEN_LENGTH} characters of letters, digits, "
                "'-', '_', '.' and '~' (it travels in URLs and headers as it is); make one "
                'with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return secret

    @property
    def host(self) -> str:
        """The address to bind (IPv6 without brackets, as aiohttp wants it)."""
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        """The TCP port (0 lets the OS pick a free one)."""
        return split_listen(self.listen)[1]

    def token_value(self) -> str | None:
        """The access token in clear for the web layer's comparison only (``None``: no token
        required). Never log it."""
        if self.token_file is not None:
            return self.token_file.content.get_secret_value()
        if self.token is not None:
            return self.token.get_secret_value() or None
        return None


def _ingroup_selection(value: object) -> Literal["all"] | tuple[str, ...]:
    if isinstance(value, str) and value.strip().lower() == ALL:
        return ALL
    return TypeAdapter(IngroupIds).validate_python(value)


def _panels(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        names = [item.strip() for item in value.split(",") if item.strip()]
    elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        names = [item.strip() for item in value]
    else:
        raise ValueError(f"must be a list of panel names: {', '.join(PANELS)}")
    unknown = [name for name in names if name not in PANELS]
    if unknown:
        raise ValueError(
            f"unknown panel {', '.join(map(repr, unknown))}; the panels are {', '.join(PANELS)}"
        )
    if not names:
        raise ValueError(f"must name at least one panel of {', '.join(PANELS)}")
    if len(set(names)) != len(names):
        raise ValueError("names a panel twice")
    return tuple(names)


IngroupSelection = Annotated[
    Literal["all"] | tuple[str, ...], BeforeValidator(_ingroup_selection), NoDecode
]
"""``"all"`` (every in-group of ``vicidial.ingroups``) or specific in-group IDs (may be empty)."""

Panels = Annotated[tuple[str, ...], BeforeValidator(_panels), NoDecode]
"""Names from :data:`~wallboard.web.panels.PANELS`, at least one, none twice."""


class BoardConfig(_Section):
    """One TV page: ``/boards/<name>`` shows these campaigns under this title.

    ``ingroups`` are the in-groups whose calls waiting the board counts (each must be in
    ``vicidial.ingroups``, which is what is polled); ``panels`` the parts of the page it shows.
    """

    name: str
    title: str = Field(min_length=1)
    campaigns: CampaignSelection = ALL
    ingroups: IngroupSelection = ALL
    panels: Panels = PANELS

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


MIN_REPEAT = timedelta(minutes=1)


def _at_least_a_minute(repeat: timedelta | None) -> timedelta | None:
    if repeat is not None and repeat < MIN_REPEAT:
        raise ValueError(
            f"must be at least {format_duration(MIN_REPEAT)}: a reminder more often than that "
            "is noise a supervisor learns to ignore"
        )
    return repeat


class AutoPauseConfig(_Section):
    """Campaigns the daemon may stop (``active=N``) when their drop ratio reaches ``at``.

    ``windows`` are the alerted windows whose incidents may pause (``"today"`` by default);
    each must be alerted for every campaign listed here, and ``at`` must lie between those
    campaigns' ``critical_at`` and ``limit`` (see :mod:`wallboard.config_rules`).
    """

    campaigns: CampaignIds
    at: Ratio
    dry_run: bool = True
    windows: AutoPauseWindows = ("today",)


class CampaignAlertsConfig(_Section):
    """``[alerts.campaigns.<ID>]``: that campaign's overrides of the ``[alerts]`` defaults.

    A key left out (``None`` here) inherits the default; which keys were written is
    :meth:`overrides`. The cross-field rules hold for the merged values, per campaign.
    """

    limit: Ratio | None = None
    warn_at: Ratio | None = None
    critical_at: Ratio | None = None
    min_answered: int | None = Field(default=None, ge=0)
    pending: Duration | None = None
    clear_margin: float | None = Field(default=None, ge=0, lt=1)
    repeat: Duration | None = None
    windows: AlertWindows | None = None
    quiet_hours: QuietHours = None
    shift_end: ShiftEnd = None
    period_start: date | None = None
    uk_ofcom: bool | None = None
    ofcom_people_statuses: StatusCodes | None = None
    ofcom_machine_statuses: StatusCodes | None = None
    drop_call_seconds: int | None = Field(default=None, ge=0, le=255)
    safe_harbor_message: bool | None = None

    _check_repeat = field_validator("repeat")(_at_least_a_minute)

    #: Keys where writing the empty value (``""``) means something ("none", "midnight").
    _EMPTY_MEANS_NONE: ClassVar[frozenset[str]] = frozenset({"quiet_hours", "shift_end"})

    def overrides(self) -> dict[str, Any]:
        """The keys this table sets, with their values (``quiet_hours = ""`` sets "none")."""
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if name in self._EMPTY_MEANS_NONE or getattr(self, name) is not None
        }


class AlertsConfig(_Section):
    """Drop-ratio thresholds (ratios 0..1), hysteresis, reminders, the alerted windows, quiet
    hours, the compliance settings, per-campaign overrides and the optional auto-pause.

    ``windows`` unset (``None``) alerts the default windows of each campaign (``today``,
    ``30d``, ``period`` where ``period_start`` is set, ``today_ofcom`` in UK mode). The
    compliance keys (``period_start``, ``uk_ofcom`` and its statuses, ``drop_call_seconds``,
    ``safe_harbor_message``, ``shift_end``) are usually set per campaign; set here they apply
    to every campaign. Readers take plain values from
    :func:`wallboard.alerts.rules.rules_from_config` and
    :func:`wallboard.compliance.compliance_from_config`, never this section:
    :meth:`for_campaign` is the one place the overrides are merged.
    """

    limit: Ratio = 0.03
    warn_at: Ratio = 0.025
    critical_at: Ratio = 0.028
    min_answered: int = Field(default=50, ge=0)
    pending: Duration = timedelta(minutes=2)
    clear_margin: float = Field(default=0.002, ge=0, lt=1)
    stale_after: Duration = timedelta(minutes=3)
    repeat: Duration = timedelta(minutes=30)
    windows: AlertWindows | None = None
    quiet_hours: QuietHours = None
    shift_end: ShiftEnd = None
    period_start: date | None = None
    uk_ofcom: bool = False
    ofcom_people_statuses: StatusCodes = ()
    ofcom_machine_statuses: StatusCodes = DEFAULT_MACHINE_STATUSES
    drop_call_seconds: int | None = Field(default=None, ge=0, le=255)
    safe_harbor_message: bool | None = None
    campaigns: Mapping[AlertTarget, CampaignAlertsConfig] = Field(default_factory=dict)
    auto_pause: AutoPauseConfig | None = None

    _check_repeat = field_validator("repeat")(_at_least_a_minute)

    def for_campaign(self, campaign: str) -> AlertsConfig:
        """These settings as they apply to ``campaign``: its ``[alerts.campaigns.<ID>]``
        overrides merged over the defaults (the defaults alone for any other campaign)."""
        overrides = self.campaigns.get(campaign)
        if overrides is None:
            return self
        return self.model_copy(update=overrides.overrides())

    def alerted_windows(self) -> tuple[str, ...]:
        """The windows these settings alert: ``windows`` as written, else the defaults."""
        if self.windows is not None:
            return self.windows
        return default_alerted(
            period_start_configured=self.period_start is not None, uk_ofcom=self.uk_ofcom
        )


class DropGroupConfig(_Section):
    """``[[drop_groups]]``: campaigns pooled into one drop figure, like VICIdial's Drop Rate
    Groups; shown, exported (``campaign="group:NAME"``) and alerted like a campaign, with
    overrides under ``[alerts.campaigns."group:NAME"]``."""

    name: GroupName
    campaigns: CampaignIds

    @property
    def key(self) -> str:
        """The group as readers name it: ``group:NAME``."""
        return GROUP_PREFIX + self.name


class SlackConfig(_Section):
    """Where alerts go; the section's absence means no Slack at all."""

    token: SecretStr | None = None
    token_file: SecretFilePath | None = None
    channel: str = Field(min_length=1)
    base_url: str = "https://slack.com/api/"

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, url: str) -> str:
        return http_base_url(url) + "/"

    @field_validator("token", "token_file")
    @classmethod
    def _check_token(cls, secret: SecretStr | SecretFile | None) -> SecretStr | SecretFile | None:
        value = secret.content if isinstance(secret, SecretFile) else secret
        if value is not None:
            text = value.get_secret_value()
            if not text or any(character.isspace() for character in text):
                raise ValueError("must be a Slack token (xoxb-...), not empty, without spaces")
        return secret

    def token_value(self) -> str:
        """The bot token in clear, for the Slack client only. Never log it."""
        if self.token_file is not None:
            return self.token_file.content.get_secret_value()
        if self.token is not None:
            return self.token.get_secret_value()
        raise AssertionError("validation guarantees token or token_file")  # pragma: no cover


class MetricsConfig(_Section):
    """``/metrics``: ``agent_series = false`` leaves out the per-agent series
    (``vicidial_agent_calls_today``): on a floor of thousands of agents they are most of the
    exposition and of Prometheus' series, while the campaign families already count agents."""

    agent_series: bool = True


class StateConfig(_Section):
    """The SQLite file for history, the alert outbox and the audit log."""

    path: PlainPath = Path("wallboard.db")


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
    drop_groups: tuple[DropGroupConfig, ...] = ()
    metrics: MetricsConfig = MetricsConfig()
    slack: SlackConfig | None = None
    state: StateConfig = StateConfig()

    @field_validator("boards")
    @classmethod
    def _some_board(cls, boards: tuple[BoardConfig, ...]) -> tuple[BoardConfig, ...]:
        if not boards:
            raise ValueError("needs at least one board")
        return boards

    @model_validator(mode="after")
    def _rules_hold(self, info: ValidationInfo) -> Self:
        """The cross-field rules, for settings validated without :func:`load_config` (which
        runs them itself, next to the field errors, and says so in the context)."""
        if not (info.context or {}).get(RULES_CHECKED):
            raise_if_any(config_problems(KnownValues(type(self), self)))
        return self


# --- loading --------------------------------------------------------------------------------


def load_config(path: Path | None, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (TOML; ``None`` = no file) and the environment; env wins over the file.

    ``environ`` defaults to ``os.environ``. Raises :class:`ConfigError` listing every problem.
    """
    file_data: dict[str, Any] = {} if path is None else read_toml_file(path)
    environ = os.environ if environ is None else environ
    return validate_settings(Settings, file_data, environ, config_problems)


def load_default_config(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The embedded demo config (``wallboard/default_config.toml``) with ``overrides`` merged.

    ``overrides`` is nested like the file (``{"web": {"listen": "127.0.0.1:0"}}``). The
    environment is deliberately ignored: the demo must run the same on every machine.
    """
    text = resources.files("wallboard").joinpath(_DEFAULT_CONFIG_RESOURCE).read_text("utf-8")
    data = deep_merge(tomllib.loads(text), overrides or {})
    return validate_settings(Settings, data, {}, config_problems)


# --- the state file -------------------------------------------------------------------------


def check_state_path(settings: Settings) -> str | None:
    """Why the daemon could not write ``state.path``, as one line for the operator; ``None``
    when it can.

    Called by ``wallboard check`` and before the daemon starts (exit 2): a directory that is
    missing or read-only would otherwise surface as SQLite errors retried forever. SQLite writes
    the database and, beside it, its journal, so both the file and its directory must be
    writable. Nothing persistent is created: a temporary file is made and removed again. The
    line quotes the path through :func:`one_line`: a line break in it cannot split the line.
    """
    where = settings.state.path.absolute()
    try:
        problem = _state_path_problem(where)
    except OSError as error:  # e.g. a parent directory this user may not even look into
        problem = _unwritable(where.parent, error)
    return None if problem is None else one_line(problem)


def _state_path_problem(where: Path) -> str | None:
    if where.is_dir():
        return (
            f"state.path: {where} is a directory; give a file path inside it, "
            f"such as {where / 'wallboard.db'}"
        )
    directory = where.parent
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        return f"state.path: directory {directory} {what}; create it or change state.path"
    if where.exists() and not where.is_file():
        return f"state.path: {where} is not a regular file; give a path for the SQLite file"
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".wallboard-check-"):
            pass
    except OSError as error:
        return _unwritable(directory, error)
    if where.exists():
        try:
            with where.open("r+b"):
                pass
        except OSError as error:
            return _unwritable(where, error)
    return None


def _unwritable(target: Path, error: OSError) -> str:
    reason = error.strerror or type(error).__name__
    return (
        f"state.path: cannot write {target} ({reason}); the daemon keeps its SQLite file and "
        "journal there: make it writable by the daemon's user or change state.path"
    )
