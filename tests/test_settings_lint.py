"""The settings lint: pure findings from hand-written tables, then ``wallboard check`` against the
real simulator (a current build with a short ``dial_timeout``, a build before 240718, and dialer
checks that fail) to show every lint line is printed, names its campaign and fix, and never
fails the check.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.sim import SimHandle, running_simulator
from wallboard.check import CheckReport, CheckResult, Mark, run_checks
from wallboard.compliance import CampaignCompliance
from wallboard.config import load_config
from wallboard.settings_lint import Finding, Level, lint_settings
from wallboard.vicidial.models import CampaignInfo

DIALER = "VICIdial 2.14-917a build 210616-1459"
UNDECLARED = CampaignCompliance()


def row(campaign: str, dial_timeout: int | None) -> CampaignInfo:
    return CampaignInfo(
        campaign_id=campaign,
        campaign_name=f"{campaign} campaign",
        active=True,
        user_group="ADMIN",
        dial_method="RATIO",
        dial_level=2.0,
        lead_order="DOWN",
        dial_statuses=("NEW",),
        dial_timeout=dial_timeout,
    )


def declared(
    drop_call_seconds: int | None = None, safe_harbor_message: bool | None = None
) -> CampaignCompliance:
    return CampaignCompliance(
        drop_call_seconds=drop_call_seconds, safe_harbor_message=safe_harbor_message
    )


def lint(
    campaigns: dict[str, CampaignCompliance], rows: Sequence[CampaignInfo] | None
) -> dict[str, Finding]:
    findings = lint_settings(campaigns, rows=rows, dialer=DIALER)
    by_name = {finding.name: finding for finding in findings}
    assert len(by_name) == len(findings), "every line has its own name"
    return by_name


def levels(findings: dict[str, Finding]) -> dict[str, Level]:
    return {name: finding.level for name, finding in findings.items()}


# ---------------------------------------------------------------------------- dial_timeout


@pytest.mark.parametrize(
    ("timeouts", "expected"),
    [
        # 15 s is the floor (16 CFR 310.4(b)(4)(ii)): 15 passes, 14 does not.
        ({"A": 15, "B": 26}, {"dial_timeout": Level.OK}),
        (
            {"A": 14, "B": 15},
            {"dial_timeout A": Level.WARN, "dial_timeout": Level.OK},
        ),
        (
            {"A": 0, "B": 10},
            {"dial_timeout A": Level.WARN, "dial_timeout B": Level.WARN},
        ),
        # A build before 240718 prints no dial_timeout: unknown, one warning per campaign.
        (
            {"A": None, "B": None},
            {"dial_timeout A": Level.WARN, "dial_timeout B": Level.WARN},
        ),
    ],
)
def test_dial_timeout_table(timeouts: dict[str, int | None], expected: dict[str, Level]) -> None:
    campaigns = dict.fromkeys(timeouts, UNDECLARED)
    findings = lint(campaigns, [row(c, t) for c, t in timeouts.items()])

    dial = {name: level for name, level in levels(findings).items() if "dial_timeout" in name}
    assert dial == expected


def test_a_short_dial_timeout_names_value_rule_and_fix() -> None:
    findings = lint({"SALES2": UNDECLARED}, [row("SALES2", 10)])

    reason = findings["dial_timeout SALES2"].reason
    assert reason.startswith("10 s: ")
    assert "at least 15 s or 4 rings" in reason
    assert "16 CFR 310.4(b)(4)(ii)" in reason
    assert "set SALES2's Dial Timeout to 15 or more" in reason


def test_the_passing_line_lists_each_campaigns_timeout() -> None:
    findings = lint(
        dict.fromkeys(["A", "B", "C"], UNDECLARED), [row("A", 26), row("B", 9), row("C", 15)]
    )

    assert findings["dial_timeout"].reason.startswith("15 s or more (A 26 s, C 15 s)")


def test_unknown_on_an_old_build_names_the_build() -> None:
    findings = lint({"SALES1": UNDECLARED}, [row("SALES1", None)])

    reason = findings["dial_timeout SALES1"].reason
    assert reason.startswith(f"unknown on this build: {DIALER} prints no dial_timeout")
    assert "builds from 240718" in reason
    assert "SALES1's Dial Timeout" in reason


def test_a_campaign_campaigns_list_does_not_list_is_not_skipped_silently() -> None:
    findings = lint(dict.fromkeys(["SALES1", "GONE9"], UNDECLARED), [row("SALES1", 26)])

    assert findings["dial_timeout GONE9"].level is Level.WARN
    assert "campaigns_list does not list GONE9" in findings["dial_timeout GONE9"].reason
    assert findings["dial_timeout"].level is Level.OK


def test_without_campaigns_list_the_lint_says_it_did_not_run() -> None:
    findings = lint_settings(
        {"SALES1": UNDECLARED}, rows=None, dialer=DIALER, unavailable="the login failed"
    )

    dial = [finding for finding in findings if finding.setting == "dial_timeout"]
    assert len(dial) == 1
    assert dial[0].level is Level.WARN
    assert dial[0].reason.startswith("not run: the login failed, so no campaign's dial_timeout")


def test_no_campaign_at_all_is_a_warning_not_a_pass() -> None:
    findings = lint({}, [])

    assert levels(findings) == {
        "dial_timeout": Level.WARN,
        "drop_call_seconds": Level.UNCHECKED,
        "safe_harbor_message": Level.UNCHECKED,
    }
    assert all("no campaign to check" in finding.reason for finding in findings.values())


# ---------------------------------------------------------------- declared settings


@pytest.mark.parametrize(
    ("campaigns", "expected"),
    [
        # Nothing declared: unchecked (printed as OK with "not checked"), never a pass.
        (
            {"A": declared(), "B": declared()},
            {"drop_call_seconds": Level.UNCHECKED, "safe_harbor_message": Level.UNCHECKED},
        ),
        # 2 s is the rule; 3 s is over it.
        (
            {"A": declared(2, True), "B": declared(3, True)},
            {
                "drop_call_seconds B": Level.WARN,
                "drop_call_seconds": Level.OK,
                "safe_harbor_message": Level.OK,
            },
        ),
        (
            {"A": declared(5, False), "B": declared(5, False)},
            {
                "drop_call_seconds A": Level.WARN,
                "drop_call_seconds B": Level.WARN,
                "safe_harbor_message A": Level.WARN,
                "safe_harbor_message B": Level.WARN,
            },
        ),
        (
            {"A": declared(0, None), "B": declared(None, False)},
            {
                "drop_call_seconds": Level.OK,
                "safe_harbor_message B": Level.WARN,
                "safe_harbor_message": Level.UNCHECKED,
            },
        ),
    ],
)
def test_declared_settings_table(
    campaigns: dict[str, CampaignCompliance], expected: dict[str, Level]
) -> None:
    findings = lint(campaigns, [row(c, 26) for c in campaigns])

    declared_levels = {
        name: level for name, level in levels(findings).items() if "dial_timeout" not in name
    }
    assert declared_levels == expected


def test_drop_call_seconds_over_two_gives_the_reason_and_the_fix() -> None:
    findings = lint({"SALES1": declared(drop_call_seconds=5)}, [row("SALES1", 26)])

    reason = findings["drop_call_seconds SALES1"].reason
    assert reason.startswith("declared 5 s (VICIdial's default): ")
    assert "within 2 s of the person's greeting is abandoned" in reason
    assert "16 CFR 310.4(b)(1)(iv)" in reason
    assert "Drop Call Seconds to 2 or less" in reason
    three = lint({"X": declared(drop_call_seconds=3)}, [row("X", 26)])
    assert three["drop_call_seconds X"].reason.startswith("declared 3 s: ")


def test_safe_harbor_message_false_gives_the_reason_and_the_fix() -> None:
    findings = lint({"SALES1": declared(safe_harbor_message=False)}, [row("SALES1", 26)])

    reason = findings["safe_harbor_message SALES1"].reason
    assert reason.startswith("declared false: no recorded message plays")
    assert "16 CFR 310.4(b)(4)(iii)" in reason
    assert "declare safe_harbor_message = true" in reason


def test_undeclared_lines_never_claim_compliance() -> None:
    findings = lint({"A": declared(2), "B": declared()}, [row("A", 26), row("B", 26)])

    mixed = findings["drop_call_seconds"].reason
    assert mixed.startswith("declared 2 s or less for A: ")
    assert "not declared for B; VICIdial's API does not report it" in mixed
    nothing = findings["safe_harbor_message"].reason
    assert nothing.startswith("not checked: not declared for any campaign (A, B)")


# ---------------------------------------------------------------- every campaign accounted for

_ids = st.lists(st.sampled_from(["S1", "S2", "S3", "S4", "S5"]), unique=True, max_size=5)
_declared_values = st.builds(declared, st.none() | st.integers(0, 255), st.none() | st.booleans())


@given(
    campaigns=_ids.flatmap(lambda ids: st.fixed_dictionaries({c: _declared_values for c in ids})),
    timeouts=st.dictionaries(
        st.sampled_from(["S1", "S2", "S3", "S4", "S5", "OTHER"]),
        st.none() | st.integers(0, 120),
    ),
    fetched=st.booleans(),
)
def test_every_campaign_is_on_some_line_of_every_setting(
    campaigns: dict[str, CampaignCompliance], timeouts: dict[str, int | None], fetched: bool
) -> None:
    rows = [row(c, t) for c, t in timeouts.items()] if fetched else None
    findings = lint_settings(campaigns, rows=rows, dialer=DIALER)

    assert len({f.name for f in findings}) == len(findings)
    for setting in ("dial_timeout", "drop_call_seconds", "safe_harbor_message"):
        lines = [f for f in findings if f.setting == setting]
        assert lines, "every setting has a line, even with no campaign"
        text = " ".join(f"{f.name}: {f.reason}" for f in lines)
        if setting == "dial_timeout" and (rows is None or not campaigns):
            assert [f.level for f in lines] == [Level.WARN]
            continue
        for campaign in campaigns:
            assert campaign in text, (setting, campaign, text)


# ---------------------------------------------------------------- wallboard check, real simulator

LINT_SETTINGS = ("dial_timeout", "drop_call_seconds", "safe_harbor_message")


class Run:
    """One ``run_checks``: the report, the printed text, and each line by check name."""

    def __init__(self, report: CheckReport, text: str) -> None:
        self.report = report
        self.text = text

    @property
    def names(self) -> list[str]:
        return [result.name for result in self.report.results]

    def result(self, name: str) -> CheckResult:
        (found,) = [result for result in self.report.results if result.name == name]
        return found

    def lint(self) -> dict[str, Mark]:
        return {r.name: r.mark for r in self.report.results if r.name.split()[0] in LINT_SETTINGS}


async def check(
    tmp_path: Path, sim: SimHandle, *, vicidial: str, extra: str = "", password: str = ""
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
path = "{tmp_path / "state.db"}"
{extra}
""",
        encoding="utf-8",
    )
    out = io.StringIO()
    report = await run_checks(load_config(config, environ={}), out=out)
    run = Run(report, out.getvalue())
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in run.text.splitlines()] == run.names
    assert sim.password not in run.text
    assert not password or password not in run.text
    return run


TWO_CAMPAIGNS = 'campaigns = ["SALES1", "SALES2"]\n'
DECLARED = """
[alerts]
drop_call_seconds = 5
[alerts.campaigns.SALES1]
drop_call_seconds = 2
safe_harbor_message = false
"""


async def test_check_warns_about_a_short_dial_timeout_and_declared_settings(
    tmp_path: Path,
) -> None:
    async with running_simulator() as sim:
        # The simulator's control route sets the campaign's Dial Timeout, which the real
        # campaigns_list answer then prints.
        await sim.steer("SALES2", dial_timeout=10)
        run = await check(tmp_path, sim, vicidial=TWO_CAMPAIGNS, extra=DECLARED)

    assert run.lint() == {
        "dial_timeout SALES2": Mark.WARN,
        "dial_timeout": Mark.OK,
        "drop_call_seconds SALES2": Mark.WARN,
        "drop_call_seconds": Mark.OK,
        "safe_harbor_message SALES1": Mark.WARN,
        "safe_harbor_message": Mark.OK,
    }
    assert run.names[-6:] == list(run.lint()), "the lint comes last"
    assert "WARN dial_timeout SALES2: 10 s: VICIdial hangs up" in run.text
    assert run.result("dial_timeout").detail.startswith("15 s or more (SALES1 26 s)")
    assert "declared 5 s (VICIdial's default)" in run.result("drop_call_seconds SALES2").detail
    assert run.result("drop_call_seconds").detail.startswith("declared 2 s or less for SALES1")
    assert "not checked: not declared for SALES2" in run.result("safe_harbor_message").detail
    assert "Drop Action" in run.result("safe_harbor_message SALES1").detail
    assert run.report.exit_code == 0, "a lint never fails the check"


async def test_check_on_a_build_before_240718_says_dial_timeout_is_unknown(
    tmp_path: Path,
) -> None:
    async with running_simulator(legacy_build=True) as sim:
        run = await check(tmp_path, sim, vicidial=TWO_CAMPAIGNS)

    version = run.result("version").detail.removeprefix("reachable, ")
    assert "build 2" in version
    for campaign in ("SALES1", "SALES2"):
        line = run.result(f"dial_timeout {campaign}")
        assert line.mark is Mark.WARN
        assert line.detail.startswith(f"unknown on this build: {version} prints no dial_timeout")
    assert "dial_timeout" not in run.names, "nothing passed, so no OK line"
    assert run.result("drop_call_seconds").mark is Mark.OK
    assert run.result("drop_call_seconds").detail.startswith("not checked: not declared")
    assert run.report.exit_code == 0


async def test_check_with_compliant_declarations_prints_only_ok_lines(tmp_path: Path) -> None:
    declared_ok = "[alerts]\ndrop_call_seconds = 2\nsafe_harbor_message = true\n"
    async with running_simulator() as sim:
        run = await check(tmp_path, sim, vicidial=TWO_CAMPAIGNS, extra=declared_ok)

    assert run.lint() == dict.fromkeys(LINT_SETTINGS, Mark.OK)
    assert "for every campaign (SALES1, SALES2)" in run.result("safe_harbor_message").detail
    assert run.report.exit_code == 0


async def test_without_campaigns_list_the_lint_warns_it_did_not_run(tmp_path: Path) -> None:
    async with running_simulator() as sim:
        await sim.add_fault("campaigns_list", "error", times=1)
        failed = await check(tmp_path, sim, vicidial=TWO_CAMPAIGNS, extra=DECLARED)

    line = failed.result("dial_timeout")
    assert line.mark is Mark.WARN
    assert line.detail.startswith("not run: campaigns_list failed, so no campaign's dial_timeout")
    # The declared settings need no dialer: still linted for the configured campaigns.
    assert failed.result("drop_call_seconds SALES2").mark is Mark.WARN
    assert failed.result("campaigns_list").mark is Mark.FAIL
    assert all(mark in (Mark.OK, Mark.WARN) for mark in failed.lint().values())
    assert failed.report.exit_code == 1  # from campaigns_list, not from the lint


async def test_a_refused_login_leaves_the_lint_saying_why(tmp_path: Path) -> None:
    async with running_simulator() as sim:
        run = await check(tmp_path, sim, vicidial=TWO_CAMPAIGNS, password="Not-The-Pass-99")

    assert run.result("login").mark is Mark.FAIL
    line = run.result("dial_timeout")
    assert line.mark is Mark.WARN
    assert line.detail.startswith("not run: the login failed")


async def test_all_campaigns_and_no_campaigns_list_lints_declarations_where_written(
    tmp_path: Path,
) -> None:
    async with running_simulator() as sim:
        await sim.add_fault("campaigns_list", "http_500", times=1)
        run = await check(tmp_path, sim, vicidial='campaigns = "all"\n', extra=DECLARED)

    assert run.lint() == {
        "dial_timeout": Mark.WARN,
        "drop_call_seconds [alerts]": Mark.WARN,
        "drop_call_seconds": Mark.OK,
        "safe_harbor_message SALES1": Mark.WARN,
        "safe_harbor_message": Mark.OK,
    }
    assert "not declared for [alerts]" in run.result("safe_harbor_message").detail
