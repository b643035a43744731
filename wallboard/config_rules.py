"""The cross-field rules of the configuration: keys that are each valid but wrong together.

Each rule is a function over :class:`~wallboard.config_loader.KnownValues` (the input as far as
it validated) returning ``(dotted key, message)`` findings, rather than a pydantic model
validator, because pydantic runs a model's "after" validators only when all its fields are
valid: written that way, a missing ``vicidial.pass`` or ``warn_at > critical_at`` would only be
reported once every field error was fixed. Here they run on every load, next to the field
errors, and a rule with an operand that is itself invalid (:data:`UNKNOWN`) stays silent.

:func:`config_problems` is the whole rule set; :mod:`wallboard.config` hands it to the loader
and also runs it from the settings' own validator, so a ``Settings`` built any other way obeys
the same rules. Rules read values only, never print one: no secret can reach a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from wallboard.config_loader import UNKNOWN, KnownValues
from wallboard.config_types import ALL, GROUP_PREFIX, format_duration
from wallboard.windows.names import TODAY_OFCOM, default_alerted

__all__ = ["config_problems"]

Problem = tuple[str, str]

_INTERVAL_KEYS = (
    "agents_interval",
    "stats_interval",
    "campaigns_interval",
    "hopper_interval",
    "ingroups_interval",
)


def config_problems(known: KnownValues) -> list[Problem]:
    """Every cross-field problem of the configuration, in the order of the file's sections."""
    return [
        *_one_of(known, "vicidial", "pass", "pass_file"),
        *_timezone_or_offset(known),
        *_poll_timing(known),
        *_alert_thresholds(known),
        *_web_token(known),
        *_unique_board_names(known),
        *_campaigns_polled(known),
        *_ingroups_polled(known),
        *_ofcom_windows(known),
        *_drop_groups(known),
        *_auto_pause(known),
        *_one_of(known, "slack", "token", "token_file"),
    ]


def _known(*values: Any) -> bool:
    return all(value is not UNKNOWN for value in values)


def _one_of(known: KnownValues, section: str, key: str, file_key: str) -> Iterator[Problem]:
    """A secret comes from the file or from ``*_file``: exactly one of them (when the section
    is there at all; a missing required section is pydantic's own error)."""
    if not known.given(section) or known.reported(section):
        return
    given = known.given(f"{section}.{key}"), known.given(f"{section}.{file_key}")
    if given == (False, False):
        yield f"{section}.{key}", f"required (or give {file_key})"
    elif given == (True, True):
        yield f"{section}.{key}", f"give either {key} or {file_key}, not both"


def _timezone_or_offset(known: KnownValues) -> Iterator[Problem]:
    timezone = known.value("vicidial.timezone")
    if _known(timezone) and timezone and known.given("vicidial.utc_offset"):
        yield (
            "vicidial.timezone",
            "give either timezone or utc_offset, not both (timezone follows daylight saving "
            "time; a fixed utc_offset does not)",
        )


def _poll_timing(known: KnownValues) -> Iterator[Problem]:
    """Jitter, the HTTP timeout and the stale alert must fit the poll intervals.

    An invalid interval leaves the others to reason from: the shortest interval is at most the
    shortest valid one, and the longest at least the longest valid one, so a finding against
    the valid ones holds whatever the invalid one is meant to be.
    """
    intervals = {key: known.value(f"poll.{key}") for key in _INTERVAL_KEYS}
    valid = {key: interval for key, interval in intervals.items() if _known(interval)}
    if not valid:
        return
    jitter = known.value("poll.jitter")
    key, shortest = min(valid.items(), key=lambda item: item[1])
    if _known(jitter) and jitter >= shortest:
        limit = f"poll.{key} = {format_duration(shortest)}"
        yield "poll.jitter", f"must be shorter than the shortest interval ({limit})"
    timeout = known.value("vicidial.timeout")
    if _known(timeout) and timeout >= shortest:
        yield (
            "vicidial.timeout",
            f"must be shorter than the shortest poll interval "
            f"(poll.{key} = {format_duration(shortest)})",
        )
    stale_after = known.value("alerts.stale_after")
    key, longest = max(valid.items(), key=lambda item: item[1])
    if _known(jitter, stale_after) and stale_after <= longest + jitter:
        yield (
            "alerts.stale_after",
            f"must be longer than the longest poll interval plus jitter "
            f"(poll.{key} + poll.jitter = {format_duration(longest + jitter)}), "
            "or that source always looks stale",
        )


#: (lower key, upper key, strictly below?, message at the lower key, message at the upper key)
_THRESHOLD_ORDER = (
    (
        "warn_at",
        "critical_at",
        True,
        "must be below critical_at ({upper})",
        "must be above warn_at ({lower})",
    ),
    (
        "critical_at",
        "limit",
        False,
        "must not be above limit ({upper})",
        "must not be below critical_at ({lower})",
    ),
    (
        "clear_margin",
        "warn_at",
        True,
        "must be below warn_at ({upper}), or alerts never clear",
        "must be above clear_margin ({lower}), or alerts never clear",
    ),
)
_DEFAULT = "the [alerts] default"


def _out_of_order(lower: Any, upper: Any, strict: bool) -> bool:
    return bool(lower >= upper) if strict else bool(lower > upper)


def _alert_thresholds(known: KnownValues) -> Iterator[Problem]:
    """warn_at < critical_at <= limit, and the hysteresis margin below warn_at: for the
    defaults, and for each campaign once its overrides are merged over them.

    A campaign's finding is put on the key its table sets (the other side inherited, and said
    so); a campaign that sets neither side inherits the defaults' finding, already reported.
    """
    for lower, upper, strict, at_lower, _ in _THRESHOLD_ORDER:
        low, high = known.value(f"alerts.{lower}"), known.value(f"alerts.{upper}")
        if _known(low, high) and _out_of_order(low, high, strict):
            yield f"alerts.{lower}", at_lower.format(upper=high)
    for campaign in known.keys("alerts.campaigns"):
        table = f"alerts.campaigns.{campaign}"
        for lower, upper, strict, at_lower, at_upper in _THRESHOLD_ORDER:
            sets_lower, sets_upper = (
                known.given(f"{table}.{lower}"),
                known.given(f"{table}.{upper}"),
            )
            if not (sets_lower or sets_upper):
                continue
            low, high = _merged(known, campaign, lower), _merged(known, campaign, upper)
            if not _known(low, high) or not _out_of_order(low, high, strict):
                continue
            if sets_lower:
                shown = high if sets_upper else f"{high}, {_DEFAULT}"
                yield f"{table}.{lower}", at_lower.format(upper=shown)
            else:
                yield f"{table}.{upper}", at_upper.format(lower=f"{low}, {_DEFAULT}")


def _merged(known: KnownValues, campaign: str, key: str) -> Any:
    """``alerts.<key>`` as it applies to ``campaign``: its own table's value, else the default."""
    own = f"alerts.campaigns.{campaign}.{key}"
    return known.value(own) if known.given(own) else known.value(f"alerts.{key}")


def _windows_key(known: KnownValues, campaign: str) -> str:
    own = f"alerts.campaigns.{campaign}.windows"
    return own if known.given(own) else "alerts.windows"


def _alerted(known: KnownValues, campaign: str | None) -> Any:
    """The windows alerted for ``campaign`` (``None``: the defaults), written or derived as
    :meth:`wallboard.config.AlertsConfig.alerted_windows` derives them; UNKNOWN when an
    operand is invalid."""

    def merged(key: str) -> Any:
        return known.value(f"alerts.{key}") if campaign is None else _merged(known, campaign, key)

    windows = merged("windows")
    if not _known(windows) or windows is not None:
        return windows
    period_start, uk_ofcom = merged("period_start"), merged("uk_ofcom")
    if not _known(period_start, uk_ofcom):
        return UNKNOWN
    return default_alerted(
        period_start_configured=period_start is not None, uk_ofcom=bool(uk_ofcom)
    )


def _ofcom_windows(known: KnownValues) -> Iterator[Problem]:
    """``today_ofcom`` exists only where UK mode is on: alerting it elsewhere would watch a
    window that is never computed."""
    targets: list[str | None] = [None, *known.keys("alerts.campaigns")]
    for campaign in targets:
        windows = _alerted(known, campaign)
        uk = (
            known.value("alerts.uk_ofcom")
            if campaign is None
            else _merged(known, campaign, "uk_ofcom")
        )
        if not _known(windows, uk) or uk or TODAY_OFCOM not in windows:
            continue
        if campaign is not None and not known.given(f"alerts.campaigns.{campaign}.windows"):
            continue  # inherits the default's windows: reported there
        key = "alerts.windows" if campaign is None else f"alerts.campaigns.{campaign}.windows"
        yield (
            key,
            f'"{TODAY_OFCOM}" is computed only with uk_ofcom = true'
            + ("" if campaign is None else f" (not set for {campaign})"),
        )


def _drop_groups(known: KnownValues) -> Iterator[Problem]:
    """Group names are unique, a campaign is in at most one group (as in VICIdial), and an
    ``[alerts.campaigns."group:NAME"]`` table names a group that exists."""
    names: set[str] = set()
    owner: dict[str, str] = {}
    for index in range(known.count("drop_groups")):
        name = known.value(f"drop_groups.{index}.name")
        if _known(name):
            if name in names:
                yield f"drop_groups.{index}.name", f"drop-rate group {name!r} is defined twice"
            names.add(name)
        campaigns = known.value(f"drop_groups.{index}.campaigns")
        if not _known(campaigns) or not _known(name):
            continue
        for campaign in campaigns:
            if campaign in owner and owner[campaign] != name:
                yield (
                    f"drop_groups.{index}.campaigns",
                    f"{campaign} is already in drop-rate group {owner[campaign]!r}; VICIdial "
                    "pools a campaign into one drop rate group at most",
                )
            owner.setdefault(campaign, name)
    for target in known.keys("alerts.campaigns"):
        if target.startswith(GROUP_PREFIX) and target[len(GROUP_PREFIX) :] not in names:
            yield (
                f"alerts.campaigns.{target}",
                f"no [[drop_groups]] named {target[len(GROUP_PREFIX) :]!r}, so these settings "
                "would apply to nothing",
            )


def _auto_pause(known: KnownValues) -> Iterator[Problem]:
    """Auto-pause acts on an alerted window's incident, past the critical threshold and no
    later than the limit, for every campaign it lists (with that campaign's overrides)."""
    if not known.given("alerts.auto_pause") or known.reported("alerts.auto_pause"):
        return
    campaigns = known.value("alerts.auto_pause.campaigns")
    if not _known(campaigns):
        return
    windows = known.value("alerts.auto_pause.windows")
    if _known(windows):
        for window in windows:
            missing = [
                campaign
                for campaign in campaigns
                if _known(alerted := _alerted(known, campaign)) and window not in alerted
            ]
            if missing:
                keys = sorted({_windows_key(known, campaign) for campaign in missing})
                # (the windows a campaign alerts may be derived: see _alerted)
                yield (
                    "alerts.auto_pause.windows",
                    f'"{window}" is not alerted for {", ".join(missing)} ({", ".join(keys)}); '
                    "auto-pause acts only on an alert's incident, so alert on that window or "
                    "leave it out here",
                )
    at = known.value("alerts.auto_pause.at")
    if not _known(at):
        return
    early: dict[float, list[str]] = {}
    late: dict[float, list[str]] = {}
    for campaign in campaigns:
        critical_at = _merged(known, campaign, "critical_at")
        limit = _merged(known, campaign, "limit")
        if _known(critical_at) and at < critical_at:
            early.setdefault(critical_at, []).append(campaign)
        if _known(limit) and at > limit:
            late.setdefault(limit, []).append(campaign)
    for critical_at, names in early.items():
        yield (
            "alerts.auto_pause.at",
            f"must be at least critical_at ({critical_at} for {', '.join(names)}): auto-pause "
            "is the last resort after the critical alert, never for a campaign only at warning",
        )
    for limit, names in late.items():
        yield (
            "alerts.auto_pause.at",
            f"must not be above limit ({limit} for {', '.join(names)}): a pause after the legal "
            "limit is passed comes too late to keep the campaign within it",
        )


def _web_token(known: KnownValues) -> Iterator[Problem]:
    """The web token is optional, so at most one of ``token`` and ``token_file``; an empty
    ``token = ""`` (the example's "none") does not count as given."""
    if not known.given("web.token_file"):
        return
    token = known.value("web.token")
    if _known(token) and token is not None and token.get_secret_value():
        yield "web.token", "give either token or token_file, not both"


def _ingroups_polled(known: KnownValues) -> Iterator[Problem]:
    """A board's in-group that ``vicidial.ingroups`` leaves out is never polled: its calls
    waiting would read 0 forever, which on a TV looks like a quiet queue."""
    polled = known.value("vicidial.ingroups")
    if not _known(polled):
        return
    for index in range(known.count("boards")):
        key = f"boards.{index}.ingroups"
        ingroups = known.value(key)
        if not _known(ingroups) or ingroups == ALL:
            continue
        missing = [group for group in ingroups if group not in polled]
        if missing:
            yield key, f"{', '.join(missing)} not in vicidial.ingroups, so never polled"


def _unique_board_names(known: KnownValues) -> Iterator[Problem]:
    seen: set[str] = set()
    for index in range(known.count("boards")):
        name = known.value(f"boards.{index}.name")
        if not _known(name):
            continue
        if name in seen:
            yield f"boards.{index}.name", f"board name {name!r} is used twice"
        seen.add(name)


def _campaigns_polled(known: KnownValues) -> Iterator[Problem]:
    """A board, alert override or auto-pause campaign that ``vicidial.campaigns`` leaves out is
    never polled, so whatever is configured for it would silently do nothing."""
    polled = known.value("vicidial.campaigns")
    if not _known(polled) or polled == ALL:
        return
    for campaign in known.keys("alerts.campaigns"):
        if campaign.startswith(GROUP_PREFIX):
            continue  # a group's members are checked below
        if campaign not in polled:
            yield (
                f"alerts.campaigns.{campaign}",
                f"{campaign} not in vicidial.campaigns, so never polled",
            )
    wanted = [f"boards.{index}.campaigns" for index in range(known.count("boards"))]
    wanted.append("alerts.auto_pause.campaigns")
    wanted += [f"drop_groups.{index}.campaigns" for index in range(known.count("drop_groups"))]
    for key in wanted:
        campaigns = known.value(key)
        if not _known(campaigns) or campaigns is None or campaigns == ALL:
            continue
        missing = [campaign for campaign in campaigns if campaign not in polled]
        if missing:
            yield key, f"{', '.join(missing)} not in vicidial.campaigns, so never polled"
