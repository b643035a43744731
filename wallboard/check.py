"""``wallboard check``: preflight every VICIdial function (and Slack) the config needs.

An operator runs this once when installing, and again whenever the dialer admin changes the
API user. Each line says what was checked and, on failure, the exact setting to fix (for
example "call_status_stats needs user level 9 and View Reports"), because VICIdial's own
answers are cryptic. Nothing here changes the dialer: ``update_campaign`` is probed without
any field, which VICIdial answers with ``NOTICE: ... NO UPDATES DEFINED`` once every
permission check has passed.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO

import aiohttp

from wallboard.config import Settings, SlackConfig
from wallboard.vicidial.client import VicidialClient
from wallboard.vicidial.errors import LoginError, PermissionDenied, VicidialError, redact
from wallboard.vicidial.parsers import parse_update_campaign


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


async def run_checks(settings: Settings, *, out: TextIO | None = None) -> bool:
    """Run every check, print one line each, return True only when all pass."""
    stream = out or sys.stdout
    results: list[CheckResult] = []
    vicidial = settings.vicidial
    password = vicidial.password()
    secrets = [password]
    slack = getattr(settings, "slack", None)
    if slack is not None:
        secrets.append(slack.token_value())

    def emit(result: CheckResult) -> None:
        results.append(result)
        mark = "OK  " if result.ok else "FAIL"
        print(redact(f"{mark} {result.name}: {result.detail}", *secrets), file=stream)

    print("OK   config: valid", file=stream)
    campaigns = None if vicidial.campaigns == "all" else list(vicidial.campaigns)
    async with aiohttp.ClientSession() as session:
        client = VicidialClient(
            session,
            url=str(vicidial.url),
            user=vicidial.user,
            password=password,
            source=vicidial.source,
            timeout=vicidial.timeout.total_seconds(),
            retries=0,
            verify_tls=vicidial.verify_tls,
        )
        try:
            version = await client.version()
        except VicidialError as error:
            emit(CheckResult("version", False, f"{client.endpoint} is not reachable: {error}"))
            return False
        emit(
            CheckResult(
                "version",
                True,
                f"reachable, VICIdial {version.version} build {version.build}",
            )
        )

        async def probe(name: str, call: Callable[[], Awaitable[object]], ok: str) -> bool:
            try:
                await call()
            except PermissionDenied as error:
                emit(CheckResult(name, False, str(error)))
                return False
            except VicidialError as error:
                emit(CheckResult(name, False, str(error)))
                return False
            emit(CheckResult(name, True, ok))
            return True

        try:
            await client.fetch_agents(campaigns)
        except LoginError as error:
            # A login failure fails every later call the same way: say it once, with the fix.
            emit(
                CheckResult(
                    "login",
                    False,
                    f"{error}; check vicidial.user and vicidial.pass (VICIdial keeps only "
                    "letters, digits, - and _), and that the API user is Active with user "
                    "level 7 or more",
                )
            )
            return False
        except VicidialError:
            pass  # reported by the logged_in_agents probe below
        await probe("logged_in_agents", lambda: client.fetch_agents(campaigns), "permission OK")
        await probe(
            "call_status_stats", lambda: client.fetch_call_stats(campaigns), "permission OK"
        )
        await probe("campaigns_list", client.fetch_campaigns, "permission OK")
        first = campaigns[0] if campaigns else None
        if first is None:
            try:
                listed = await client.fetch_campaigns()
                first = listed[0].campaign_id if listed else None
            except VicidialError:
                first = None
        if first is not None:
            campaign = first
            await probe("hopper_list", lambda: client.fetch_hopper(campaign), "permission OK")
        if vicidial.ingroups:
            await probe(
                "in_group_status",
                lambda: client.fetch_ingroups(list(vicidial.ingroups)),
                "permission OK",
            )
        auto_pause = settings.alerts.auto_pause
        if auto_pause is not None:
            for campaign_id in auto_pause.campaigns:

                async def probe_update(campaign_id: str = campaign_id) -> object:
                    text = await client.request("update_campaign", {"campaign_id": campaign_id})
                    return parse_update_campaign(text)

                await probe(
                    f"update_campaign {campaign_id}",
                    probe_update,
                    "may pause this campaign (probed without changing anything)",
                )

    if slack is not None:
        emit(await _check_slack(slack))
    return all(result.ok for result in results)


async def _check_slack(slack: SlackConfig) -> CheckResult:
    """Slack ``auth.test`` with the configured token, against the configured base URL."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=slack.token_value(), base_url=str(slack.base_url), timeout=10)
    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "unknown_error") if error.response else "no answer"
        return CheckResult("slack auth.test", False, f"Slack refused the token ({code})")
    except Exception as error:  # network errors of any kind: report, never traceback
        return CheckResult(
            "slack auth.test",
            False,
            f"cannot reach Slack at {slack.base_url}: {type(error).__name__}",
        )
    team = answer.get("team", "?")
    user = answer.get("user", "?")
    return CheckResult("slack auth.test", True, f"token OK (team {team}, bot user {user})")
