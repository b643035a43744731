"""The plain alert rules: overrides merged per campaign exactly once, quiet hours that wrap
midnight, and the one line ``wallboard check`` prints about them."""

from __future__ import annotations

from datetime import UTC, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.alerts.rules import (
    AlertRules,
    AutoPauseRule,
    WindowRule,
    in_quiet_hours,
    rules_from_config,
)
from wallboard.config import Settings, load_config, load_default_config
from wallboard.windows import Thresholds

EXAMPLE = Path(__file__).resolve().parents[2] / "wallboard.example.toml"


def settings_with(alerts: dict[str, Any], campaigns: object = ("SALES1", "SALES2")) -> Settings:
    return load_default_config({"vicidial": {"campaigns": campaigns}, "alerts": alerts})


# --- quiet hours ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "quiet", "inside"),
    [
        (time(23, 30), (time(22), time(7)), True),
        (time(22, 0), (time(22), time(7)), True),  # the start minute is inside
        (time(0, 0), (time(22), time(7)), True),
        (time(6, 59, 59), (time(22), time(7)), True),
        (time(7, 0), (time(22), time(7)), False),  # the end minute is outside
        (time(12, 0), (time(22), time(7)), False),
        (time(21, 59), (time(22), time(7)), False),
        (time(12, 0), (time(9), time(17)), True),
        (time(9, 0), (time(9), time(17)), True),
        (time(17, 0), (time(9), time(17)), False),
        (time(8, 59), (time(9), time(17)), False),
        (time(23, 0), (time(9), time(17)), False),
        (time(12, 0), None, False),
        (time(23, 30, tzinfo=UTC), (time(22), time(7)), True),  # a zone on the time is ignored
    ],
)
def test_in_quiet_hours(now: time, quiet: tuple[time, time] | None, inside: bool) -> None:
    assert in_quiet_hours(now, quiet) is inside


def minute_of(moment: time) -> int:
    return moment.hour * 60 + moment.minute


times = st.times()
minutes = st.integers(min_value=0, max_value=24 * 60 - 1).map(lambda m: time(m // 60, m % 60))


@given(now=times, start=minutes, end=minutes)
def test_quiet_hours_are_the_minutes_from_start_until_end_around_the_clock(
    now: time, start: time, end: time
) -> None:
    # The same answer from arithmetic modulo a day: how far past the start `now` is, against
    # how long the quiet hours last (wrapping midnight when end is earlier than start).
    if start == end:
        return  # refused by the config: neither "never" nor "always"
    length = (minute_of(end) - minute_of(start)) % (24 * 60)
    since_start = (minute_of(now) - minute_of(start)) % (24 * 60)
    assert in_quiet_hours(now, (start, end)) is (since_start < length)


@given(now=times, start=minutes, end=minutes)
def test_swapping_start_and_end_gives_the_other_hours(now: time, start: time, end: time) -> None:
    if start != end:
        assert in_quiet_hours(now, (start, end)) is not in_quiet_hours(now, (end, start))


# --- rules from the configuration ---------------------------------------------------------------


def test_rules_from_the_full_example() -> None:
    rules = rules_from_config(load_config(EXAMPLE, environ={}))

    defaults = Thresholds(limit=0.03, warn_at=0.025, critical_at=0.028, min_answered=50)
    assert rules.rule("SALES1", "today") == WindowRule(
        thresholds=defaults, pending=120.0, clear_margin=0.002, repeat=1800.0, quiet_hours=None
    )
    assert rules.rule("SALES1", "30d") == rules.rule("SALES1", "today")
    assert rules.windows_for("SALES1") == ("today", "30d")
    sales2 = rules.rule("SALES2", "today")
    assert sales2.thresholds == Thresholds(
        limit=0.03, warn_at=0.02, critical_at=0.026, min_answered=50
    )
    assert sales2.quiet_hours == (time(21), time(8))
    assert (sales2.pending, sales2.clear_margin, sales2.repeat) == (120.0, 0.002, 1800.0)
    assert rules.thresholds_for("SALES2") == sales2.thresholds
    assert rules.thresholds_for("SALES1") == defaults
    assert rules.thresholds_for("NEWONE") == defaults  # any other campaign: the defaults
    assert rules.stale_after == 180.0
    assert rules.auto_pause == AutoPauseRule(
        campaigns=("SALES1",), at=0.029, dry_run=True, windows=("today",), pending={"SALES1": 120}
    )


def test_every_override_reaches_its_campaign_and_no_other() -> None:
    settings = settings_with(
        {
            "quiet_hours": "22:00-07:00",
            "campaigns": {
                "SALES2": {
                    "limit": 0.029,
                    "warn_at": 0.02,
                    "critical_at": 0.026,
                    "min_answered": 100,
                    "pending": "5m",
                    "clear_margin": 0.001,
                    "repeat": "15m",
                    "windows": ["today"],
                    "quiet_hours": "",
                }
            },
        }
    )
    rules = rules_from_config(settings)

    assert rules.rule("SALES2", "today") == WindowRule(
        thresholds=Thresholds(limit=0.029, warn_at=0.02, critical_at=0.026, min_answered=100),
        pending=300.0,
        clear_margin=0.001,
        repeat=900.0,
        quiet_hours=None,
    )
    assert rules.windows_for("SALES2") == ("today",)
    assert rules.windows_for("SALES1") == ("today", "30d")
    assert rules.rule("SALES1", "today").quiet_hours == (time(22), time(7))
    assert rules.quiet("SALES1", time(23)) is True
    assert rules.quiet("SALES2", time(23)) is False  # "" overrides the default quiet hours
    assert rules.rule("SALES1", "today").quiet_at(time(12)) is False


OVERRIDES: dict[str, st.SearchStrategy[Any]] = {
    "warn_at": st.sampled_from([0.01, 0.015, 0.02]),
    "critical_at": st.sampled_from([0.022, 0.026]),
    "limit": st.sampled_from([0.028, 0.03, 0.05]),
    "min_answered": st.integers(min_value=0, max_value=500),
    "clear_margin": st.sampled_from([0.0, 0.001, 0.005]),
    "pending": st.integers(min_value=1, max_value=3600),
    "repeat": st.integers(min_value=60, max_value=7200),
    "windows": st.sampled_from([[], ["today"], ["30d"], ["30d", "today"]]),
    "quiet_hours": st.sampled_from(["", "22:00-07:00", "09:00-17:00"]),
}


@given(st.fixed_dictionaries({}, optional=OVERRIDES))
def test_a_campaign_takes_what_it_sets_and_inherits_the_rest(overrides: dict[str, Any]) -> None:
    # Every combination the strategies draw is valid (thresholds below the defaults' ones),
    # so the settings load and only the merge is under test.
    if "warn_at" not in overrides and "critical_at" in overrides:
        overrides["warn_at"] = 0.02  # critical_at 0.022 would sit below the default warn_at
    settings = settings_with({"campaigns": {"SALES2": overrides}})
    rules = rules_from_config(settings)
    defaults = settings.alerts
    rule = rules.rule("SALES2", "today")

    def expected(key: str) -> Any:
        return overrides.get(key, getattr(defaults, key))

    assert rule.thresholds.warn_at == expected("warn_at")
    assert rule.thresholds.critical_at == expected("critical_at")
    assert rule.thresholds.limit == expected("limit")
    assert rule.thresholds.min_answered == expected("min_answered")
    assert rule.clear_margin == expected("clear_margin")
    assert rule.pending == overrides.get("pending", defaults.pending.total_seconds())
    assert rule.repeat == overrides.get("repeat", defaults.repeat.total_seconds())
    quiet = {"": None, "22:00-07:00": (time(22), time(7)), "09:00-17:00": (time(9), time(17))}
    assert rule.quiet_hours == quiet[overrides.get("quiet_hours", "")]
    assert rules.windows_for("SALES2") == tuple(overrides.get("windows", ("today", "30d")))
    assert settings.alerts.campaigns["SALES2"].overrides().keys() == overrides.keys()
    assert rules.rule("SALES1", "today") == rules.default.rule


def test_auto_pause_waits_for_each_campaigns_own_pending() -> None:
    settings = settings_with(
        {
            "pending": "2m",
            "campaigns": {"SALES2": {"pending": "5m"}},
            "auto_pause": {"campaigns": ["SALES1", "SALES2"], "at": 0.029, "dry_run": False},
        }
    )
    auto_pause = rules_from_config(settings).auto_pause

    assert auto_pause is not None
    assert (auto_pause.pending_for("SALES1"), auto_pause.pending_for("SALES2")) == (120.0, 300.0)
    assert auto_pause.dry_run is False
    assert auto_pause.covers("SALES1", "today")
    assert not auto_pause.covers("SALES1", "30d")  # only "today" unless listed
    assert not auto_pause.covers("OTHER", "today")


def test_no_auto_pause_section_means_none() -> None:
    assert rules_from_config(load_default_config()).auto_pause is None


def test_an_unknown_window_is_a_programming_error() -> None:
    rules = rules_from_config(load_default_config())
    assert rules.rule("SALES1", "period") == rules.default.rule  # every window is known now
    with pytest.raises(ValueError, match="unknown window 'week'"):
        rules.rule("SALES1", "week")


def test_default_windows_follow_the_compliance_settings() -> None:
    settings = settings_with(
        {
            "campaigns": {
                "SALES1": {"period_start": "2026-11-01"},
                "SALES2": {"uk_ofcom": True},
                "SALES3": {"period_start": "2026-11-01", "windows": ["today"]},
            }
        },
        campaigns=("SALES1", "SALES2", "SALES3"),
    )
    rules = rules_from_config(settings)
    assert rules.windows_for("SALES1") == ("today", "30d", "period")
    assert rules.windows_for("SALES2") == ("today", "30d", "today_ofcom")
    assert rules.windows_for("SALES3") == ("today",)  # written windows win
    assert rules.windows_for("OTHER") == ("today", "30d")


def test_rules_are_frozen_plain_values() -> None:
    rules = rules_from_config(load_config(EXAMPLE, environ={}))

    with pytest.raises(AttributeError):
        rules.stale_after = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        rules.campaigns["SALES1"] = rules.default  # type: ignore[index]
    assert isinstance(rules, AlertRules)
    assert hash(rules.default) == hash(rules.for_campaign("SALES1"))


# --- what wallboard check says -------------------------------------------------------------------


def test_describe_names_the_windows_overrides_and_auto_pause() -> None:
    line = rules_from_config(load_config(EXAMPLE, environ={})).describe()

    assert line == (
        "drop alerts on today and 30d: warning at 2.5 %, critical at 2.8 %, limit 3 %, from 50 "
        "answered, pending 2m, clear margin 0.2 %, reminders every 30m, no quiet hours; "
        "1 campaign override: SALES2 (alerts on today, 30d and period, warning at 2 %, "
        "critical at 2.6 %, quiet hours 21:00-08:00); data_stale after 3m; auto-pause SALES1 "
        "at 2.9 % on today (dry run: "
        "nothing is paused)"
    )


def test_describe_without_overrides_or_auto_pause() -> None:
    settings = settings_with(
        {
            "windows": ["today"],
            "quiet_hours": "22:00-07:00",
            "campaigns": {"SALES1": {"warn_at": 0.025}, "SALES2": {"windows": []}},
        }
    )
    line = rules_from_config(settings).describe()

    assert line.startswith("drop alerts on today: ")
    assert "quiet hours 22:00-07:00" in line
    # SALES1 sets the default's own value: nothing differs, so it is not counted.
    assert "1 campaign override: SALES2 (alerts on no window)" in line
    assert line.endswith("; data_stale after 3m; no auto-pause")
    assert timedelta(seconds=rules_from_config(settings).stale_after) == timedelta(minutes=3)
