"""``wallboard check``: preflight everything the config needs, one line per check, none left out.

An operator runs this once when installing, and again whenever the dialer admin changes the
API user. Each line says what was checked and, on failure, the exact setting to fix (for
example "call_status_stats needs user level 9 and View Reports"), because VICIdial's own
answers are cryptic. Nothing here changes the dialer: ``update_campaign`` is probed without
any field, which VICIdial answers with ``NOTICE: ... NO UPDATES DEFINED`` once every
permission check has passed.

Every check prints exactly one line, ``MARK name: detail``, in a fixed order; a check that
could not run still prints its line saying why, so a missing line never reads as a pass:

* ``OK``   verified, or not needed by this config, or (a settings lint) nothing declared to
  check (the line says which);
* ``WARN`` works, but not as an operator might assume: a request budget the polls cannot fit,
  a time zone that disagrees with VICIdial's, alerts that go nowhere but the log and the
  boards (no ``[slack]``), a campaign setting that breaks the FTC safe harbor or a settings
  lint that could not run (:mod:`wallboard.settings_lint`). A warning does not fail the check;
* ``FAIL`` broken; the line says what to fix;
* ``SKIP`` not run, and why (VICIdial unreachable, the login refused, no campaign to probe
  with). Counted as a failure: nothing was verified.

The settings lint comes last, its lines named after VICIdial's campaign settings
(``dial_timeout``, ``drop_call_seconds``, ``safe_harbor_message``, or ``dial_timeout SALES1``
for one campaign); it only ever prints OK or WARN, even when it could not run, because a
campaign setting is the dialer admin's call and never stops the wallboard from working.

Exit code (:attr:`CheckReport.exit_code`): ``0`` when no line is FAIL or SKIP (warnings
allowed); ``2`` when ``state.path`` is unusable, like a config error, because the daemon would
refuse to start; ``1`` otherwise. An invalid config never gets here: the CLI prints every error
with its key and exits 2. No line ever contains the VICIdial password or the Slack token.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TextIO

import aiohttp

from wallboard.compliance import CampaignCompliance, compliance_from_config
from wallboard.config import Settings, SlackConfig, check_state_path
from wallboard.config_types import GROUP_PREFIX
from wallboard.settings_lint import Finding, Level, lint_settings
from wallboard.vicidial.client import VicidialClient
from wallboard.vicidial.errors import ApiError, LoginError, VicidialError, redact
from wallboard.vicidial.models import CampaignInfo, VersionInfo
from wallboard.vicidial.parsers import parse_update_campaign

__all__ = ["CheckReport", "CheckResult", "Mark", "run_checks"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2

_LOGIN_FIX = (
    "check vicidial.user and vicidial.pass (VICIdial keeps only letters, digits, - and _), "
    "and that the API user is Active with user level 7 or more"
)


class Mark(StrEnum):
    """The verdict of one check (see the module docstring for what each means)."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CheckResult:
    """One printed line: ``name`` is the check (a VICIdial function, ``state.path``, ...)."""

    name: str
    mark: Mark
    detail: str

    @property
    def ok(self) -> bool:
        """Passed, possibly with a warning."""
        return self.mark in (Mark.OK, Mark.WARN)

    def line(self) -> str:
        return f"{self.mark.value:<4} {self.name}: {self.detail}"


@dataclass(frozen=True)
class CheckReport:
    """Every line of one run, and the exit code they add up to.

    Truthy when the check passed, so ``EXIT_OK if report else EXIT_FAILURE`` keeps working;
    :attr:`exit_code` also tells an unusable ``state.path`` (2) from a failed probe (1).
    """

    results: tuple[CheckResult, ...]

    @property
    def exit_code(self) -> int:
        if any(r.name == "state.path" and not r.ok for r in self.results):
            return EXIT_CONFIG
        return EXIT_OK if all(r.ok for r in self.results) else EXIT_FAILURE

    def __bool__(self) -> bool:
        return self.exit_code == EXIT_OK


Emit = Callable[[CheckResult], None]


async def run_checks(settings: Settings, *, out: TextIO | None = None) -> CheckReport:
    """Run every check, printing each line as it is known; return them all."""
    stream = out or sys.stdout
    secrets = [settings.vicidial.password()]
    if settings.slack is not None:
        secrets.append(settings.slack.token_value())
    results: list[CheckResult] = []

    def emit(result: CheckResult) -> None:
        results.append(result)
        print(redact(result.line(), *secrets), file=stream, flush=True)

    emit(CheckResult("config", Mark.OK, "valid"))
    emit(_check_state(settings))
    async with aiohttp.ClientSession() as session:
        vicidial = settings.vicidial
        client = VicidialClient(
            session,
            url=vicidial.url,
            user=vicidial.user,
            password=vicidial.password(),
            source=vicidial.source,
            timeout=vicidial.timeout.total_seconds(),
            retries=0,
            verify_tls=vicidial.verify_tls,
            max_response_bytes=vicidial.max_response_bytes,
        )
        dialer = _DialerChecks(client, settings, emit)
        await dialer.run()
    emit(_check_budget(settings, dialer.campaign_count))
    emit(await _check_slack(settings.slack))
    emit(_check_alerts(settings))
    for finding in _lint(settings, dialer):
        emit(_lint_line(finding))
    return CheckReport(tuple(results))


def _check_state(settings: Settings) -> CheckResult:
    problem = check_state_path(settings)
    if problem is not None:
        return CheckResult("state.path", Mark.FAIL, problem.removeprefix("state.path: "))
    return CheckResult("state.path", Mark.OK, f"{settings.state.path.absolute()} is writable")


class _DialerChecks:
    """The VICIdial checks, in order: each prints its line, or a SKIP line saying why not.

    One request per check: ``logged_in_agents`` also tells whether the login is accepted
    (VICIdial checks the login before the function), and the ``campaigns_list`` answer gives
    ``hopper_list`` a campaign to probe when ``vicidial.campaigns = "all"``.
    """

    def __init__(self, client: VicidialClient, settings: Settings, emit: Emit) -> None:
        self._client = client
        self._settings = settings
        self._emit = emit
        vicidial = settings.vicidial
        self._campaigns = None if vicidial.campaigns == "all" else list(vicidial.campaigns)
        self._listed: list[str] | None = None
        self.rows: tuple[CampaignInfo, ...] | None = None  # campaigns_list's answer
        self.rows_missing = "campaigns_list failed"  # why ``rows`` is None
        self.dialer = "VICIdial"  # the version and build, once ``version`` answered

    @property
    def campaigns(self) -> list[str] | None:
        """The campaigns the daemon would poll, when known."""
        return self._campaigns if self._campaigns is not None else self._listed

    @property
    def campaign_count(self) -> int | None:
        """How many campaigns the daemon would poll, when known."""
        if self._campaigns is not None:
            return len(self._campaigns)
        return None if self._listed is None else len(self._listed)

    def _after_login(self) -> list[str]:
        """The names of the checks that need an accepted login, in the order they run."""
        names = ["logged_in_agents", "call_status_stats", "campaigns_list", "hopper_list"]
        names.append("in_group_status")
        auto_pause = self._settings.alerts.auto_pause
        if auto_pause is None:
            names.append("update_campaign")
        else:
            names += [f"update_campaign {campaign}" for campaign in auto_pause.campaigns]
        return names

    def _not_needed(self, name: str) -> CheckResult | None:
        """The OK line of a check this config does not need (it has nothing to verify)."""
        if name == "in_group_status" and not self._settings.vicidial.ingroups:
            detail = "not needed: vicidial.ingroups is empty, so in-groups are not polled"
            return CheckResult(name, Mark.OK, detail)
        if name == "update_campaign" and self._settings.alerts.auto_pause is None:
            detail = "not needed: no [alerts.auto_pause], so no campaign is ever paused"
            return CheckResult(name, Mark.OK, detail)
        return None

    def _skip_all(self, names: list[str], reason: str) -> None:
        for name in names:
            line = self._not_needed(name) or CheckResult(name, Mark.SKIP, f"not run: {reason}")
            self._emit(line)

    async def run(self) -> None:
        client = self._client
        try:
            version = await client.version()
        except VicidialError as error:
            where = "" if client.endpoint in str(error) else f" (at {client.endpoint})"
            self._emit(CheckResult("version", Mark.FAIL, f"{error}{where}"))
            self._skip_all(
                ["timezone", "login", *self._after_login()],
                "version failed, so VICIdial is not usable at vicidial.url",
            )
            self.rows_missing = "version failed"
            return
        self.dialer = f"VICIdial {version.version} build {version.build}"
        self._emit(CheckResult("version", Mark.OK, f"reachable, {self.dialer}"))
        self._emit(_check_timezone(self._settings, version))
        if not await self._login_and_agents():
            self._skip_all(self._after_login(), "the login failed")
            self.rows_missing = "the login failed"
            return
        await self._probe(
            "call_status_stats", lambda: client.fetch_call_stats(self._campaigns), "permission OK"
        )
        await self._check_campaigns_list()
        await self._check_hopper()
        await self._check_ingroups()
        await self._check_update_campaign()

    async def _login_and_agents(self) -> bool:
        """The login and ``logged_in_agents`` lines from one request; False if refused."""
        user = self._settings.vicidial.user
        try:
            await self._client.fetch_agents(self._campaigns)
        except LoginError as error:
            fix = getattr(error, "fix", "") or _LOGIN_FIX
            self._emit(CheckResult("login", Mark.FAIL, f"{error}; {fix}"))
            return False
        except ApiError as error:  # VICIdial checks the login before the function
            self._emit(CheckResult("login", Mark.OK, f"VICIdial accepted user {user}"))
            self._emit(CheckResult("logged_in_agents", Mark.FAIL, str(error)))
        except VicidialError as error:
            reason = "not verified: logged_in_agents got no usable answer"
            self._emit(CheckResult("login", Mark.SKIP, reason))
            self._emit(CheckResult("logged_in_agents", Mark.FAIL, str(error)))
        else:
            self._emit(CheckResult("login", Mark.OK, f"VICIdial accepted user {user}"))
            self._emit(CheckResult("logged_in_agents", Mark.OK, "permission OK"))
        return True

    async def _probe(self, name: str, call: Callable[[], Awaitable[object]], ok: str) -> bool:
        try:
            await call()
        except VicidialError as error:
            self._emit(CheckResult(name, Mark.FAIL, str(error)))
            return False
        self._emit(CheckResult(name, Mark.OK, ok))
        return True

    async def _check_campaigns_list(self) -> None:
        try:
            rows = tuple(await self._client.fetch_campaigns())
        except VicidialError as error:
            self._emit(CheckResult("campaigns_list", Mark.FAIL, str(error)))
            return
        self.rows = rows
        listed = [campaign.campaign_id for campaign in rows]
        self._listed = listed
        missing = [c for c in self._campaigns or () if c not in listed]
        if missing:
            detail = (
                f"permission OK, but {', '.join(missing)} not listed: check vicidial.campaigns "
                "against VICIdial's campaign IDs, and that the API user's user group may view "
                "them (Allowed Campaigns)"
            )
            self._emit(CheckResult("campaigns_list", Mark.FAIL, detail))
        elif not listed:
            detail = (
                "permission OK, but no campaign is listed for this API user, so the board "
                "would be empty: check its user group's Allowed Campaigns"
            )
            self._emit(CheckResult("campaigns_list", Mark.FAIL, detail))
        else:
            detail = f"permission OK, {len(listed)} campaigns listed"
            self._emit(CheckResult("campaigns_list", Mark.OK, detail))

    async def _check_hopper(self) -> None:
        if self._campaigns:
            campaign = self._campaigns[0]
        elif self._listed:
            campaign = self._listed[0]
        else:
            why = "campaigns_list failed" if self._listed is None else "no campaign is listed"
            detail = (
                f"not run: {why}, so there is no campaign to probe it with "
                "(list campaigns in vicidial.campaigns to probe it anyway)"
            )
            self._emit(CheckResult("hopper_list", Mark.SKIP, detail))
            return
        await self._probe(
            "hopper_list",
            lambda: self._client.fetch_hopper(campaign),
            f"permission OK (probed with {campaign})",
        )

    async def _check_ingroups(self) -> None:
        ingroups = list(self._settings.vicidial.ingroups)
        if (line := self._not_needed("in_group_status")) is not None:
            self._emit(line)
            return
        await self._probe(
            "in_group_status", lambda: self._client.fetch_ingroups(ingroups), "permission OK"
        )

    async def _check_update_campaign(self) -> None:
        if (line := self._not_needed("update_campaign")) is not None:
            self._emit(line)
            return
        auto_pause = self._settings.alerts.auto_pause
        for campaign_id in () if auto_pause is None else auto_pause.campaigns:
            name = f"update_campaign {campaign_id}"

            async def probe(campaign_id: str = campaign_id) -> object:
                text = await self._client.request("update_campaign", {"campaign_id": campaign_id})
                return parse_update_campaign(text)

            try:
                await probe()
            except VicidialError as error:
                self._emit(CheckResult(name, Mark.FAIL, str(error)))
                continue
            mode = (
                "dry run: it will only say what it would pause"
                if auto_pause and (auto_pause.dry_run)
                else "it will be set inactive (active=N) when its guard holds"
            )
            detail = f"may pause this campaign (probed without changing anything); {mode}"
            self._emit(CheckResult(name, Mark.OK, detail))


def _check_timezone(settings: Settings, version: VersionInfo) -> CheckResult:
    """The configured dialer zone against the offset VICIdial reports (TZNOW, DST included),
    at the dialer's own clock (its ``EPOCH``), since the two decide where VICIdial's day
    starts."""
    vicidial = settings.vicidial
    reported = version.tz_now
    zone = vicidial.tzinfo
    if zone is None:
        if reported is None:
            detail = (
                "VICIdial's version answer reports no offset (TZNOW): set vicidial.timezone "
                "so the wallboard knows where the dialer's day starts"
            )
            return CheckResult("timezone", Mark.WARN, detail)
        detail = f"following the offset VICIdial reports ({_utc(reported)} now, DST included)"
        return CheckResult("timezone", Mark.OK, detail)
    key = "vicidial.timezone" if vicidial.timezone else "vicidial.utc_offset"
    dialer_now = datetime.fromtimestamp(version.epoch, UTC)
    offset = zone.utcoffset(dialer_now) or timedelta(0)
    configured = offset.total_seconds() / 3600
    shown = f"{key} ({vicidial.timezone or vicidial.utc_offset}) is {_utc(configured)} now"
    if reported is None:
        return CheckResult("timezone", Mark.OK, f"{shown}; VICIdial reports no offset to compare")
    if abs(configured - reported) > 1 / 120:  # more than 30 seconds apart
        detail = (
            f"{shown}, but VICIdial reports {_utc(reported)}: the wallboard's day would not "
            f"start at VICIdial's midnight; correct {key}"
        )
        return CheckResult("timezone", Mark.WARN, detail)
    return CheckResult("timezone", Mark.OK, f"{shown}, as VICIdial reports")


def _utc(hours: float) -> str:
    """``UTC-4``, ``UTC+5:30``."""
    minutes = round(hours * 60)
    sign = "-" if minutes < 0 else "+"
    whole, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{whole}" + (f":{rest:02d}" if rest else "")


def _check_budget(settings: Settings, campaign_count: int | None) -> CheckResult:
    """``poll.max_requests_per_minute`` against the polls it can never slow down."""
    from wallboard.poller.plan import budget_plan, plan_from_config

    name = "poll.max_requests_per_minute"
    budget = budget_plan(plan_from_config(settings), campaign_count or 1)
    if campaign_count is None:
        shares = (
            f"{budget.priority_per_minute:.1f} requests/min for agents, stats, campaigns and "
            f"in-groups; budget {budget.budget_per_minute:g}/min (how often each hopper is "
            "polled depends on the campaign count, unknown as campaigns_list did not answer)"
        )
    else:
        shares = f"{budget.describe()}, for {campaign_count} campaigns"
    if budget.over_budget:
        detail = (
            f"{shares}: the polls cannot fit the budget (the live ones are never slowed, and "
            "hoppers and version need at least a little); they run anyway (the floor's "
            "figures come first), so raise the budget or the intervals"
        )
        return CheckResult(name, Mark.WARN, detail)
    return CheckResult(name, Mark.OK, shares)


async def _check_slack(slack: SlackConfig | None) -> CheckResult:
    """Slack ``auth.test`` with the configured token, against the configured base URL."""
    if slack is None:
        return CheckResult("slack", Mark.OK, "not configured (no [slack] section): nothing sent")
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=slack.token_value(), base_url=slack.base_url, timeout=10)
    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "unknown_error") if error.response else "no answer"
        return CheckResult("slack", Mark.FAIL, f"auth.test: Slack refused the token ({code})")
    except Exception as error:  # network errors of any kind: report, never traceback
        detail = f"auth.test: cannot reach Slack at {slack.base_url}: {type(error).__name__}"
        return CheckResult("slack", Mark.FAIL, detail)
    team = answer.get("team", "?")
    user = answer.get("user", "?")
    from wallboard.alerts.slack import SlackError, SlackSender

    sender = SlackSender(token=slack.token_value(), channel=slack.channel, base_url=slack.base_url)
    try:
        channel_id = await sender.resolve_channel()
    except SlackError as error:
        return CheckResult("slack", Mark.FAIL, f"token OK (team {team}), but {error}")
    finally:
        await sender.aclose()
    detail = (
        f"token verified (auth.test: team {team}, bot user {user}); channel {slack.channel} "
        f"is {channel_id}; nothing was posted"
    )
    return CheckResult("slack", Mark.OK, detail)


def _check_alerts(settings: Settings) -> CheckResult:
    """What ``[alerts]`` configures, merged as the engine would read it, so an operator sees
    the alerted windows, the campaigns that differ and what may be paused."""
    from wallboard.alerts.rules import rules_from_config

    detail = rules_from_config(settings).describe()
    if settings.slack is None:
        detail += "; no [slack]: alerts show on the boards, in /api/snapshot and in the log only"
        return CheckResult("alerts", Mark.WARN, detail)
    return CheckResult("alerts", Mark.OK, detail)


def _lint(settings: Settings, dialer: _DialerChecks) -> tuple[Finding, ...]:
    """The settings lint over the campaigns the daemon would poll, each with its merged
    compliance settings. When they are unknown (``campaigns = "all"`` and no
    ``campaigns_list``), the declarations are still linted where they are written: each
    ``[alerts.campaigns.<ID>]`` and, as ``[alerts]``, the defaults every other campaign gets."""
    compliance = compliance_from_config(settings)
    campaigns = dialer.campaigns
    targets: dict[str, CampaignCompliance]
    if campaigns is not None:
        targets = {campaign: compliance.for_target(campaign) for campaign in campaigns}
    else:
        targets = {
            target: values
            for target, values in compliance.targets.items()
            if not target.startswith(GROUP_PREFIX)
        }
        targets["[alerts]"] = compliance.default
    return lint_settings(
        targets, rows=dialer.rows, dialer=dialer.dialer, unavailable=dialer.rows_missing
    )


_LINT_MARKS = {Level.OK: Mark.OK, Level.UNCHECKED: Mark.OK, Level.WARN: Mark.WARN}


def _lint_line(finding: Finding) -> CheckResult:
    """A lint finding as a check line: OK or WARN only, so a lint never fails the check."""
    return CheckResult(finding.name, _LINT_MARKS[finding.level], finding.reason)
