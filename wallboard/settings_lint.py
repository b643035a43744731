"""The settings lint of ``wallboard check``: campaign settings that break the FTC safe harbor.

The drop ratio is only half of the TSR's abandoned-call safe harbor (16 CFR 310.4(b)(4)). A
campaign within 3 % can still lose the safe harbor through its settings, and VICIdial shows
none of them next to the drop rate:

* ``dial_timeout`` (printed by ``campaigns_list`` from build 240718): an unanswered call must
  ring at least 15 seconds or 4 rings before it is disconnected (310.4(b)(4)(ii)). VICIdial's
  timeout runs from dialing, so call setup eats into the ringing: 15 is the floor, not a margin.
* ``drop_call_seconds`` (VICIdial's default 5, API.md §8.5): a call not connected to a live
  agent within 2 seconds of the person's greeting is abandoned (310.4(b)(1)(iv)). VICIdial holds
  an answered call this many seconds waiting for an agent before it counts a drop, so with more
  than 2 a person can wait longer than the rule allows and the call is still counted answered:
  VICIdial's drop rate then understates the one the rule measures.
* the safe harbor message: on every abandoned call a recorded message naming the seller and its
  phone number must play (310.4(b)(4)(iii)).

The API reports neither of the last two, so they are linted as the operator declares them
(``[alerts]`` / ``[alerts.campaigns.<ID>]``); the lines say "declared" and a setting nobody
declared is said to be unchecked, never passed. A lint only ever warns: a campaign setting is
the dialer admin's decision, and ``check`` exists to verify the wallboard can run.

Pure: campaign IDs, merged compliance settings and ``campaigns_list`` rows in, findings out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from wallboard.compliance import CampaignCompliance
from wallboard.vicidial.models import CampaignInfo

__all__ = [
    "DIAL_TIMEOUT_BUILD",
    "MAX_DROP_CALL_SECONDS",
    "MIN_DIAL_TIMEOUT",
    "Finding",
    "Level",
    "lint_settings",
]

MIN_DIAL_TIMEOUT = 15  # seconds of ringing, 16 CFR 310.4(b)(4)(ii)
MAX_DROP_CALL_SECONDS = 2  # seconds after the greeting, 16 CFR 310.4(b)(1)(iv)
DIAL_TIMEOUT_BUILD = "240718"  # first build whose campaigns_list prints dial_timeout
VICIDIAL_DEFAULT_DROP_CALL_SECONDS = 5

DIAL_TIMEOUT = "dial_timeout"
DROP_CALL_SECONDS = "drop_call_seconds"
SAFE_HARBOR_MESSAGE = "safe_harbor_message"

_RING_RULE = "16 CFR 310.4(b)(4)(ii)"
_TWO_SECOND_RULE = "16 CFR 310.4(b)(1)(iv)"
_MESSAGE_RULE = "16 CFR 310.4(b)(4)(iii)"
_NOT_REPORTED = "VICIdial's API does not report it"

T = TypeVar("T")


class Level(StrEnum):
    """What a finding says about its setting."""

    OK = "ok"  # checked, within the rule
    WARN = "warn"  # breaks the rule, or could not be checked where it should have been
    UNCHECKED = "unchecked"  # nothing to check: the operator declared nothing


@dataclass(frozen=True, slots=True)
class Finding:
    """One line for the operator: ``setting`` of ``campaign`` (None: a line about several or
    none), and ``reason``: what was found, why it matters and, for a warning, the fix."""

    setting: str
    campaign: str | None
    level: Level
    reason: str

    @property
    def name(self) -> str:
        """The check's name: ``dial_timeout``, or ``dial_timeout SALES1`` for one campaign."""
        return self.setting if self.campaign is None else f"{self.setting} {self.campaign}"


def lint_settings(
    compliance: Mapping[str, CampaignCompliance],
    *,
    rows: Sequence[CampaignInfo] | None,
    dialer: str,
    unavailable: str = "campaigns_list failed",
) -> tuple[Finding, ...]:
    """Every finding for the campaigns ``compliance`` names (in its order; a key is a
    campaign ID, or a label such as ``[alerts]`` when the campaigns are unknown).

    ``rows`` is the ``campaigns_list`` answer (None when it was not fetched, ``unavailable``
    saying why); ``dialer`` names the build in messages ("VICIdial 2.14-917a build 210616").
    Per setting: a WARN line per campaign that breaks the rule, then at most one line without
    a campaign summing up the rest, so every campaign is accounted for on some line.
    """
    return (
        *_dial_timeouts(list(compliance), rows, dialer, unavailable),
        *_declared(compliance, _DROP_CALL_SECONDS_RULE),
        *_declared(compliance, _SAFE_HARBOR_RULE),
    )


def _dial_timeouts(
    campaigns: list[str], rows: Sequence[CampaignInfo] | None, dialer: str, unavailable: str
) -> Iterator[Finding]:
    if rows is None:
        reason = (
            f"not run: {unavailable}, so no campaign's dial_timeout was read to check against "
            f"the 15-second ring rule ({_RING_RULE}); fix that and run check again"
        )
        yield Finding(DIAL_TIMEOUT, None, Level.WARN, reason)
        return
    if not campaigns:
        reason = (
            "not run: no campaign to check (campaigns_list lists none for this API user), so "
            f"no dial_timeout was checked against the 15-second ring rule ({_RING_RULE})"
        )
        yield Finding(DIAL_TIMEOUT, None, Level.WARN, reason)
        return
    by_id = {row.campaign_id: row for row in rows}
    passing: list[str] = []
    for campaign in campaigns:
        row = by_id.get(campaign)
        if row is None:
            reason = (
                f"not checked: campaigns_list does not list {campaign}, so its dial_timeout is "
                f"unknown; check its Dial Timeout in VICIdial is {MIN_DIAL_TIMEOUT} s or more "
                f"({_RING_RULE})"
            )
            yield Finding(DIAL_TIMEOUT, campaign, Level.WARN, reason)
        elif row.dial_timeout is None:
            reason = (
                f"unknown on this build: {dialer} prints no dial_timeout in campaigns_list "
                f"(builds from {DIAL_TIMEOUT_BUILD} do); check {campaign}'s Dial Timeout in "
                f"VICIdial's campaign settings is {MIN_DIAL_TIMEOUT} s or more: an unanswered "
                f"call must ring at least 15 s or 4 rings ({_RING_RULE})"
            )
            yield Finding(DIAL_TIMEOUT, campaign, Level.WARN, reason)
        elif row.dial_timeout < MIN_DIAL_TIMEOUT:
            reason = (
                f"{row.dial_timeout} s: VICIdial hangs up an unanswered call after "
                f"{row.dial_timeout} s, but the FTC safe harbor needs it to ring at least 15 s "
                f"or 4 rings ({_RING_RULE}); set {campaign}'s Dial Timeout to "
                f"{MIN_DIAL_TIMEOUT} or more (it runs from dialing, so leave a few seconds "
                "for call setup)"
            )
            yield Finding(DIAL_TIMEOUT, campaign, Level.WARN, reason)
        else:
            passing.append(f"{campaign} {row.dial_timeout} s")
    if passing:
        reason = (
            f"{MIN_DIAL_TIMEOUT} s or more ({', '.join(passing)}): unanswered calls ring at "
            f"least 15 s before VICIdial hangs up ({_RING_RULE})"
        )
        yield Finding(DIAL_TIMEOUT, None, Level.OK, reason)


@dataclass(frozen=True)
class _DeclaredRule(Generic[T]):
    """A setting only the operator's declaration tells (VICIdial's API does not print it)."""

    setting: str
    value_of: Callable[[CampaignCompliance], T | None]
    within: Callable[[T], bool]
    kept: str  # the declared values within the rule, in words
    why: str  # what such a value means for the rule
    warning: Callable[[T], str]  # the WARN line's reason and fix for a value that is not


def _declared(
    compliance: Mapping[str, CampaignCompliance], rule: _DeclaredRule[T]
) -> Iterator[Finding]:
    """A warning per campaign that declares a value breaking the rule, then one line for the
    campaigns declared within it and those that declared nothing (unchecked, never passed)."""
    setting = rule.setting
    if not compliance:
        yield Finding(setting, None, Level.UNCHECKED, "not checked: no campaign to check")
        return
    passing: list[str] = []
    undeclared: list[str] = []
    for campaign, settings in compliance.items():
        value = rule.value_of(settings)
        if value is None:
            undeclared.append(campaign)
        elif rule.within(value):
            passing.append(campaign)
        else:
            yield Finding(setting, campaign, Level.WARN, rule.warning(value))
    if not passing and not undeclared:
        return
    unchecked = (
        f"not declared for {_campaigns(undeclared, len(compliance), 'any')}; {_NOT_REPORTED}, "
        f"so declare {setting} under [alerts] or [alerts.campaigns.<ID>] as it is set in "
        "VICIdial to have it checked"
    )
    if not passing:
        yield Finding(setting, None, Level.UNCHECKED, f"not checked: {unchecked}")
        return
    named = _campaigns(passing, len(compliance), "every")
    reason = f"declared {rule.kept} for {named}: {rule.why}"
    if undeclared:
        reason += f"; {unchecked}"
    yield Finding(setting, None, Level.OK, reason)


def _campaigns(campaigns: list[str], total: int, quantifier: str) -> str:
    """``SALES1, SALES2``, or ``every campaign (SALES1, SALES2)`` when they are all of them."""
    named = ", ".join(campaigns)
    return f"{quantifier} campaign ({named})" if len(campaigns) == total > 1 else named


def _drop_call_seconds_warning(seconds: int) -> str:
    default = " (VICIdial's default)" if seconds == VICIDIAL_DEFAULT_DROP_CALL_SECONDS else ""
    return (
        f"declared {seconds} s{default}: VICIdial holds an answered call up to {seconds} s for "
        f"an agent before counting a drop, but a call not connected to a live agent within "
        f"{MAX_DROP_CALL_SECONDS} s of the person's greeting is abandoned ({_TWO_SECOND_RULE}), "
        "so people wait longer than the rule allows and VICIdial's drop rate counts fewer "
        f"drops than the rule does; set the campaign's Drop Call Seconds to "
        f"{MAX_DROP_CALL_SECONDS} or less in VICIdial, then declare the new value"
    )


def _safe_harbor_warning(_: bool) -> str:
    return (
        "declared false: no recorded message plays when VICIdial drops a call, but the FTC "
        "safe harbor requires one, naming the seller and its phone number, on every call no "
        f"agent takes within 2 s of the greeting ({_MESSAGE_RULE}); set the campaign's Drop Action "
        "to play one (AUDIO with a Safe Harbor Audio file, or MESSAGE with a Safe Harbor "
        "Exten), then declare safe_harbor_message = true"
    )


_DROP_CALL_SECONDS_RULE = _DeclaredRule[int](
    setting=DROP_CALL_SECONDS,
    value_of=lambda settings: settings.drop_call_seconds,
    within=lambda seconds: seconds <= MAX_DROP_CALL_SECONDS,
    kept=f"{MAX_DROP_CALL_SECONDS} s or less",
    why=f"a call no agent takes within 2 s of the greeting is a drop ({_TWO_SECOND_RULE})",
    warning=_drop_call_seconds_warning,
)
_SAFE_HARBOR_RULE = _DeclaredRule[bool](
    setting=SAFE_HARBOR_MESSAGE,
    value_of=lambda settings: settings.safe_harbor_message,
    within=lambda plays: plays,
    kept="true",
    why=f"a recorded message plays on every drop ({_MESSAGE_RULE})",
    warning=_safe_harbor_warning,
)
