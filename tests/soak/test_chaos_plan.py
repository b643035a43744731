"""The soak's schedule: repeatable from its seed, every fault kind in it, nothing in the way of
what each part is meant to show."""

from __future__ import annotations

import itertools

import pytest

from tests.support.chaos_plan import (
    PAUSED_CAMPAIGN,
    POLLED_FUNCTIONS,
    REQUEST_KINDS,
    SHORT,
    SoakPlan,
    SoakScale,
    bench_scale,
    make_plan,
)

SCALES = [SHORT, bench_scale(5), bench_scale(12)]


def _ids(scale: SoakScale) -> str:
    return f"{scale.name}-{scale.seconds:g}s"


def test_the_same_seed_draws_the_same_schedule() -> None:
    assert make_plan(bench_scale(), 7) == make_plan(bench_scale(), 7)
    assert make_plan(bench_scale(), 7) != make_plan(bench_scale(), 8)


@pytest.mark.parametrize("scale", SCALES, ids=_ids)
@pytest.mark.parametrize("seed", [1, 2, 3, 42])
def test_every_request_kind_is_planned_and_the_run_ends_refused(
    scale: SoakScale, seed: int
) -> None:
    plan = make_plan(scale, seed)
    assert {blip.kind for blip in plan.blips} == set(REQUEST_KINDS)
    faulted = {blip.function for blip in plan.blips} | {w.function for w in plan.windows}
    assert faulted >= set(POLLED_FUNCTIONS)
    assert plan.logins[-1].kind == scale.end_fault
    assert plan.logins[-1].at == pytest.approx(scale.seconds - scale.end_hold)
    assert all(blip.at < plan.logins[-1].at for blip in plan.blips)


@pytest.mark.parametrize("scale", SCALES, ids=_ids)
@pytest.mark.parametrize("seed", [1, 2, 3, 42])
def test_long_faults_can_be_seen_and_keep_out_of_each_others_way(
    scale: SoakScale, seed: int
) -> None:
    plan = make_plan(scale, seed)
    windows = sorted(plan.windows, key=lambda w: w.start)
    assert len(windows) == scale.windows
    for first, second in itertools.pairwise(windows):
        assert first.end < second.start
    for window in windows:
        # Longer than the stale threshold plus one poll, or no stale period could be checked.
        assert window.end - window.start > plan.timing.stale_tolerance
        assert window.kind != "truncated_row"  # a whole-row cut is invisible: never stale
        for start, end in _recovering_blackouts(plan):
            assert window.end < start or window.start > end
        assert window.end < plan.logins[-1].at
        for blip in plan.blips:
            if window.start - 1 <= blip.at <= window.end + 10:
                assert blip.function not in (window.function, "*")


def _recovering_blackouts(plan: SoakPlan) -> list[tuple[float, float]]:
    spans = plan.blackouts()
    return [span for span, login in zip(spans, plan.logins, strict=True) if login.recover]


@pytest.mark.parametrize("seed", [1, 2, 3, 42])
def test_the_bench_waits_out_a_rejected_login_and_kills_a_leader_inside_it(seed: int) -> None:
    plan = make_plan(bench_scale(), seed)
    (start, end), *_ = _recovering_blackouts(plan)
    assert end - start >= plan.timing.login_retry
    assert not [b for b in plan.blips if start - 1 <= b.at <= end]
    inside = [k for k in plan.kills if start <= k.at <= end]
    assert len(inside) == 1, "the breaker must be shown to survive a new leader"
    assert all(abs(k.at - r.at) >= 8 for k in plan.kills for r in plan.redis)
    assert plan.scale.dialer_seconds >= 30 * 60


@pytest.mark.parametrize("scale", SCALES, ids=_ids)
def test_the_first_story_gets_its_drop_figures_and_slack_faults_miss_the_outage(
    scale: SoakScale,
) -> None:
    plan = make_plan(scale, 1)
    warning = next(p for p in plan.story if p.campaign == PAUSED_CAMPAIGN and p.phase == "warning")
    critical = next(
        p for p in plan.story if p.campaign == PAUSED_CAMPAIGN and p.phase == "critical"
    )
    assert critical.ratio >= plan.timing.pause_at > plan.timing.critical_at
    assert plan.timing.warn_at <= warning.ratio < plan.timing.critical_at
    for blip in plan.blips:
        if warning.start - 1 <= blip.at <= critical.end:
            assert blip.function not in ("*", "call_status_stats")
    outage = plan.slack_outages[0]
    assert outage.end - outage.start == scale.slack_outage
    assert {f.kind for f in plan.slack_faults} >= {"ratelimited", "server_error", "drop"}
    for fault in plan.slack_faults:
        assert fault.at + fault.lasts < outage.start or fault.at > outage.end
