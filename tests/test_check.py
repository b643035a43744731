"""``wallboard check`` against the real simulator over HTTP: every check prints its line, a check
that cannot run says why (SKIP), features not built yet never read OK, and no secret is printed.

The checks run in-process (``run_checks`` with a ``StringIO``) for speed; tests/test_cli.py runs
the command as a real process for the exit codes.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.sim import SimHandle, running_simulator
from tests.support.slack_server import running_slack
from wallboard.check import CheckReport, CheckResult, Mark, run_checks
from wallboard.config import load_config

#: Every line of a run without [slack] or [alerts.auto_pause], in order.
EVERY_CHECK = [
    "config",
    "state.path",
    "version",
    "timezone",
    "login",
    "logged_in_agents",
    "call_status_stats",
    "campaigns_list",
    "hopper_list",
    "in_group_status",
    "update_campaign",
    "poll.max_requests_per_minute",
    "slack",
    "alerts",
    "dial_timeout",
    "drop_call_seconds",
    "safe_harbor_message",
]
VICIDIAL_AFTER_LOGIN = EVERY_CHECK[
    EVERY_CHECK.index("logged_in_agents") : EVERY_CHECK.index("poll.max_requests_per_minute")
]


@pytest.fixture
async def sim() -> AsyncIterator[SimHandle]:
    async with running_simulator() as handle:
        yield handle


class Run:
    """One ``run_checks``: the report, the printed text, and each line by check name."""

    def __init__(self, report: CheckReport, text: str) -> None:
        self.report = report
        self.text = text
        self.lines = text.splitlines()

    @property
    def names(self) -> list[str]:
        return [result.name for result in self.report.results]

    def mark(self, name: str) -> Mark:
        return self.result(name).mark

    def detail(self, name: str) -> str:
        return self.result(name).detail

    def result(self, name: str) -> CheckResult:
        (found,) = [result for result in self.report.results if result.name == name]
        return found


async def check(
    tmp_path: Path,
    sim: SimHandle,
    *,
    password: str | None = None,
    vicidial: str = 'campaigns = ["SALES1", "SALES2"]\n',
    extra: str = "",
    state: Path | None = None,
) -> Run:
    config = tmp_path / "wallboard.toml"
    config.write_text(
        f"""
[vicidial]
url = "{sim.base_url}"
user = "{sim.user}"
pass = "{password or sim.password}"
timeout = "3s"
{vicidial}
[state]
path = "{state or tmp_path / "state.db"}"
{extra}
""",
        encoding="utf-8",
    )
    out = io.StringIO()
    report = await run_checks(load_config(config, environ={}), out=out)
    run = Run(report, out.getvalue())
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in run.lines] == run.names
    assert sim.password not in run.text
    return run


async def test_a_well_configured_dialer_passes_with_every_line(
    sim: SimHandle, tmp_path: Path
) -> None:
    run = await check(tmp_path, sim)

    assert run.names == EVERY_CHECK
    assert run.report.exit_code == 0
    assert run.report
    assert {name for name in EVERY_CHECK if run.mark(name) is not Mark.OK} == {"alerts"}
    assert run.lines[0] == "OK   config: valid"
    assert "permission OK (probed with SALES1)" in run.detail("hopper_list")
    assert "not needed" in run.detail("in_group_status")
    assert "no [slack]" in run.detail("alerts"), "alerts that reach no one but the log warn"


async def test_hopper_line_stays_when_campaigns_list_failed(sim: SimHandle, tmp_path: Path) -> None:
    await sim.add_fault("campaigns_list", "error", times=1)

    run = await check(tmp_path, sim, vicidial='campaigns = "all"\n')

    assert run.names == EVERY_CHECK
    assert run.mark("campaigns_list") is Mark.FAIL
    assert run.mark("hopper_list") is Mark.SKIP
    assert "campaigns_list failed" in run.detail("hopper_list")
    assert "unknown as campaigns_list did not answer" in run.detail("poll.max_requests_per_minute")
    assert run.report.exit_code == 1


async def test_a_skipped_check_fails_the_run(sim: SimHandle, tmp_path: Path) -> None:
    # The only failure is a check that could not run: nothing verified it, so no pass.
    await sim.add_fault("logged_in_agents", "http_500", times=1)

    run = await check(tmp_path, sim)

    assert run.mark("login") is Mark.SKIP
    assert "not verified" in run.detail("login")
    assert run.mark("logged_in_agents") is Mark.FAIL
    for name in ("call_status_stats", "campaigns_list", "hopper_list"):
        assert run.mark(name) is Mark.OK, name  # the others still ran
    assert run.report.exit_code == 1


async def test_a_refused_login_skips_every_later_dialer_check(
    sim: SimHandle, tmp_path: Path
) -> None:
    run = await check(tmp_path, sim, password="Not-The-Pass-99")

    assert run.names == EVERY_CHECK
    assert run.mark("login") is Mark.FAIL
    assert "vicidial.pass" in run.detail("login")
    for name in VICIDIAL_AFTER_LOGIN:
        if name in ("in_group_status", "update_campaign"):
            assert run.mark(name) is Mark.OK
            assert "not needed" in run.detail(name)
        else:
            assert run.mark(name) is Mark.SKIP, name
            assert run.detail(name) == "not run: the login failed"
    assert "Not-The-Pass-99" not in run.text
    # One login attempt only: each further one would count towards VICIdial's lock.
    assert (await sim.requests())["by_function"] == {"version": 1, "logged_in_agents": 1}
    assert run.report.exit_code == 1


async def test_an_unreachable_dialer_skips_everything_after_version(
    sim: SimHandle, tmp_path: Path
) -> None:
    await sim.add_fault("version", "http_500", times=1)

    run = await check(tmp_path, sim)

    assert run.names == EVERY_CHECK
    assert run.mark("version") is Mark.FAIL
    assert "HTTP 500" in run.detail("version")
    for name in ("timezone", "login", "logged_in_agents", "call_status_stats", "hopper_list"):
        assert run.mark(name) is Mark.SKIP, name
        assert "version failed" in run.detail(name)
    assert run.report.exit_code == 1


async def test_user_level_too_low_names_the_fix_per_function(tmp_path: Path) -> None:
    async with running_simulator(user_level=8) as sim:
        run = await check(tmp_path, sim)

    assert run.mark("login") is Mark.OK
    assert run.mark("logged_in_agents") is Mark.OK
    assert run.mark("call_status_stats") is Mark.FAIL
    assert "user level 9" in run.detail("call_status_stats")
    assert run.mark("campaigns_list") is Mark.OK
    assert run.report.exit_code == 1


async def test_a_denied_function_fails_only_its_own_line(tmp_path: Path) -> None:
    async with running_simulator(deny=("hopper_list",)) as sim:
        run = await check(tmp_path, sim)

    failing = [r.name for r in run.report.results if r.mark in (Mark.FAIL, Mark.SKIP)]
    assert failing == ["hopper_list"]
    assert "Allowed Functions" in run.detail("hopper_list")


async def test_a_configured_campaign_vicidial_does_not_list_fails(
    sim: SimHandle, tmp_path: Path
) -> None:
    run = await check(tmp_path, sim, vicidial='campaigns = ["SALES1", "GONE9"]\n')

    assert run.mark("campaigns_list") is Mark.FAIL
    assert "GONE9 not listed" in run.detail("campaigns_list")


async def test_ingroups_are_probed_when_configured(sim: SimHandle, tmp_path: Path) -> None:
    run = await check(tmp_path, sim, vicidial='campaigns = ["SALES1"]\ningroups = ["SALESLINE"]\n')

    assert run.mark("in_group_status") is Mark.OK
    assert run.detail("in_group_status") == "permission OK"


AUTO_PAUSE = '[alerts.auto_pause]\ncampaigns = ["SALES1", "SALES2"]\nat = 0.029\n'


async def test_auto_pause_permission_is_verified_without_pausing(
    sim: SimHandle, tmp_path: Path
) -> None:
    run = await check(tmp_path, sim, extra=AUTO_PAUSE)

    for campaign in ("SALES1", "SALES2"):
        name = f"update_campaign {campaign}"
        assert run.mark(name) is Mark.OK
        assert "probed without changing anything" in run.detail(name)
    assert "update_campaign" not in run.names
    assert run.report.exit_code == 0
    requests = await sim.requests()
    assert [entry["campaign_id"] for entry in requests["update_campaign"]] == ["SALES1", "SALES2"]
    assert all(campaign["active"] for campaign in (await sim.state())["campaigns"])


async def test_auto_pause_without_the_permission_fails(tmp_path: Path) -> None:
    async with running_simulator(deny=("update_campaign",)) as sim:
        run = await check(tmp_path, sim, extra=AUTO_PAUSE)

    assert run.mark("update_campaign SALES1") is Mark.FAIL
    assert run.report.exit_code == 1


async def test_slack_token_and_channel_are_verified_without_posting(
    sim: SimHandle, tmp_path: Path
) -> None:
    async with running_slack() as slack:
        section = (
            f'[slack]\ntoken = "{slack.token}"\nchannel = "#floor"\nbase_url = "{slack.base_url}"\n'
        )
        good = await check(tmp_path, sim, extra=section)
        bad = await check(tmp_path, sim, extra=section.replace(slack.token, "xoxb-wrong-5678"))

    assert good.mark("slack") is Mark.OK
    assert "token verified (auth.test" in good.detail("slack")
    assert "channel #floor is C0FLOOR001" in good.detail("slack")
    assert slack.calls("chat.postMessage") == [], "check sends nothing"
    assert good.report.exit_code == 0
    assert slack.token not in good.text
    assert bad.mark("slack") is Mark.FAIL
    assert "invalid_auth" in bad.detail("slack")
    assert "xoxb-wrong-5678" not in bad.text
    assert bad.report.exit_code == 1


async def test_an_unusable_state_path_exits_2_and_still_runs_the_rest(
    sim: SimHandle, tmp_path: Path
) -> None:
    run = await check(tmp_path, sim, state=tmp_path)  # a directory, not a file

    assert run.names == EVERY_CHECK
    assert run.mark("state.path") is Mark.FAIL
    assert "is a directory" in run.detail("state.path")
    assert run.mark("call_status_stats") is Mark.OK
    assert run.report.exit_code == 2
    assert not run.report


@pytest.mark.parametrize(
    ("vicidial", "mark", "fragment"),
    [
        ('timezone = "America/New_York"\n', Mark.OK, "UTC-4 now, as VICIdial reports"),
        ("utc_offset = -4\n", Mark.OK, "as VICIdial reports"),
        ('timezone = "Europe/London"\n', Mark.WARN, "VICIdial reports UTC-4"),
        ("utc_offset = -5\n", Mark.WARN, "correct vicidial.utc_offset"),
        ("", Mark.OK, "following the offset VICIdial reports (UTC-4 now"),
    ],
)
async def test_the_configured_zone_is_compared_with_vicidials(
    sim: SimHandle, tmp_path: Path, vicidial: str, mark: Mark, fragment: str
) -> None:
    # The simulator's dialer runs at GMT-5 with daylight saving time in force: TZNOW -4.
    run = await check(tmp_path, sim, vicidial=vicidial)

    assert run.mark("timezone") is mark
    assert fragment in run.detail("timezone")


async def test_live_polls_over_the_request_budget_warn(sim: SimHandle, tmp_path: Path) -> None:
    fast = (
        '[poll]\nagents_interval = "5s"\nstats_interval = "5s"\ncampaigns_interval = "5s"\n'
        'jitter = "1s"\n'
    )

    run = await check(tmp_path, sim, extra=fast)

    assert run.mark("poll.max_requests_per_minute") is Mark.WARN
    assert "cannot fit the budget" in run.detail("poll.max_requests_per_minute")
    assert run.report.exit_code == 0
