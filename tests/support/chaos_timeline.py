"""The soak's checks over time: what every screen showed while each fault lasted, and how
soon everything came back. Pure: the record in, figures and findings out.

Ground truth is what the soak did and what the simulator applied (its fault log); what is judged
is what the daemons served (``/api/snapshot``, ``/readyz`` and the TV's heartbeat, sampled
about once a second on every instance) and what reached VICIdial (its request counters).
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tests.support.chaos_plan import FLOOR_FUNCTIONS, REQUEST_KINDS
from tests.support.chaos_record import (
    LOGIN_CAUSE,
    KillDone,
    Observed,
    RedisDone,
    Verdict,
    between,
    excused,
    hold,
    login_injection,
    overlaps,
    reachable,
    source_of,
)
from tests.support.chaos_rig import Injection

#: Samples a stale period needs on each surface to count as observed.
MIN_SAMPLES = 1
#: ``version`` (the dialer's clock, not a floor source) is polled every 10 minutes, and a
#: failing one is retried with a backoff growing towards that.
VERSION_INTERVAL = 600.0


def _kill_recovered(o: Observed, kill: KillDone) -> float | None:
    """When an instance other than the killed one led with every floor source polled since
    (but those a fault of their own kept failing)."""
    return next(
        (
            s.at
            for s in reachable(o.samples)
            if s.at > kill.at
            and s.leader
            and s.leader != kill.instance
            and all(
                (s.last_success.get(f) or 0) > kill.at
                for f in set(FLOOR_FUNCTIONS) - excused(o, kill.at, s.at)
            )
        ),
        None,
    )


def _redis_recovered(o: Observed, restart: RedisDone, daemon: str) -> float | None:
    """When ``daemon`` served fresh figures taken after Redis came back (but for sources a
    fault of their own kept failing)."""
    return next(
        (
            s.at
            for s in reachable(o.samples)
            if s.daemon == daemon
            and s.at >= restart.up
            and set(s.stale_sources) <= excused(o, restart.down, s.at)
            and (s.taken_at or 0) >= restart.up
        ),
        None,
    )


def disturbances(o: Observed) -> list[tuple[float, float, str]]:
    """Spans where something besides a request fault keeps data back (kills, Redis, logins),
    each until it was seen to recover (or its pass mark, if it never was)."""
    t = o.plan.timing
    spans = []
    for kill in o.kills:
        found = _kill_recovered(o, kill)
        end = found + 1.0 if found is not None else kill.at + t.lock_ttl + t.recovery_bound
        spans.append((kill.at, end, "leader kill"))
    daemons = sorted({s.daemon for s in o.samples})
    for restart in o.redis:
        seen = [_redis_recovered(o, restart, daemon) for daemon in daemons]
        times = [x for x in seen if x is not None]
        bound = restart.up + t.lock_ttl + t.recovery_bound
        end = max(times) + 1.0 if times and len(times) == len(seen) else bound
        spans.append((restart.down, end, "redis restart"))
    for login in o.logins:
        at = login_injection(o, login)
        if at is not None:
            wait = t.login_retry if login.kind == "login" else t.lock_retry
            spans.append((at, at + wait + t.recovery_bound, f"login {login.kind}"))
    return spans


def _successes(o: Observed) -> dict[str, list[float]]:
    """Every good answer each source had, by the daemon's clock, in order (from the samples:
    ``last_success`` moves with each poll and stays for a poll interval, so none is missed)."""
    seen: dict[str, set[float]] = {}
    for sample in o.samples:
        for name, moment in sample.last_success.items():
            if moment is not None:
                seen.setdefault(name, set()).add(moment)
    return {name: sorted(times) for name, times in seen.items()}


def _first_after(times: Sequence[float], moment: float) -> float | None:
    index = bisect.bisect_right(times, moment)
    return times[index] if index < len(times) else None


def _first_ok_after(o: Observed, source: str, moment: float) -> float | None:
    """The hopper source's ``last_success`` is its oldest campaign's: use ``ok`` instead."""
    for sample in o.samples:
        if sample.at >= moment and sample.ok.get(source):
            return sample.at
    return None


# --- the checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MustBeStale:
    start: float
    end: float
    what: str
    sources: frozenset[str]  # at least one of these must be listed stale
    login: str | None = None  # the cause /readyz and /api/snapshot must name


def must_be_stale(o: Observed) -> list[MustBeStale]:
    t = o.plan.timing
    spans = []
    for window in o.windows:
        sources = FLOOR_FUNCTIONS if window.function == "*" else (window.function,)
        spans.append(
            MustBeStale(
                window.start + t.stale_tolerance,
                window.end,
                f"{window.function} {window.kind} window",
                frozenset(sources),
            )
        )
    for login in o.logins:
        at = login_injection(o, login)
        if at is None:
            continue
        end = at + t.login_retry - 0.5 if login.recover else o.t_end
        spans.append(
            MustBeStale(
                at + t.stale_tolerance,
                end,
                f"{login.kind} blackout",
                frozenset(FLOOR_FUNCTIONS),
                login=LOGIN_CAUSE[login.kind],
            )
        )
    return spans


def check_stale_shown(o: Observed, v: Verdict, must: list[MustBeStale]) -> None:
    """Every stale period on all three surfaces of every instance that answered."""
    t = o.plan.timing
    checked = misses = 0
    for span in must:
        samples = between(reachable(o.samples), span.start, span.end)
        tv_seen = 0
        for sample in samples:
            checked += 1
            wrong = []
            if not sample.snapshot_stale or not span.sources & set(sample.stale_sources):
                wrong.append(f"/api/snapshot stale={sample.snapshot_stale}")
            if sample.readyz != 503:
                wrong.append(f"/readyz {sample.readyz}")
            if sample.tv is not None:
                tv_seen += 1
                if not sample.tv or not span.sources & set(sample.tv_sources):
                    wrong.append("TV heartbeat not stale")
            if wrong:
                misses += 1
                v.fail(
                    f"{span.what}: at +{sample.at - o.t0:.1f}s daemon {sample.daemon} showed "
                    f"fresh: {', '.join(wrong)}"
                )
        if span.end > span.start and (len(samples) < MIN_SAMPLES or tv_seen < MIN_SAMPLES):
            v.fail(
                f"{span.what}: stale period +{span.start - o.t0:.0f}-{span.end - o.t0:.0f}s "
                f"observed {len(samples)} times, on a TV {tv_seen} times"
            )
        if span.login is not None:
            named = between(reachable(o.samples), span.start - t.stale_tolerance + t.interval,
                             span.end)  # fmt: skip
            for sample in named:
                if sample.readyz_login != span.login or sample.login != span.login:
                    v.fail(
                        f"{span.what}: at +{sample.at - o.t0:.1f}s daemon {sample.daemon} "
                        f"named login {sample.login!r} (readyz {sample.readyz_login!r}), "
                        f"expected {span.login!r}"
                    )
    v.figures["stale_periods"] = f"{len(must)} periods, {checked} samples, {misses} shown fresh"


def _allowed_stale(o: Observed) -> list[tuple[float, float]]:
    """When a stale screen is explained by something the soak did."""
    t = o.plan.timing
    spans = [(0.0, o.t0)]
    spans += [(w.start, w.end + t.recovery_bound) for w in o.windows]
    spans += [(s, e) for s, e, _ in disturbances(o)]
    spans += [
        (i.at, i.at + hold(i.kind, t.timeout) + t.stale_threshold + t.recovery_bound)
        for i in o.injections
    ]
    for login in o.logins:
        at = login_injection(o, login)
        if at is not None and not login.recover:
            spans.append((at, o.finished + 60))
    return spans


def check_false_stale(o: Observed, v: Verdict) -> None:
    """A red TV with nothing wrong is a false alarm the floor learns to ignore."""
    allowed = _allowed_stale(o)
    false = []
    for sample in reachable(o.samples):
        if any(start <= sample.at <= end for start, end in allowed):
            continue
        surfaces = []
        if sample.snapshot_stale:
            surfaces.append(f"snapshot ({', '.join(sample.stale_sources)})")
        if sample.readyz != 200:
            surfaces.append(f"readyz {sample.readyz}")
        if sample.tv:
            surfaces.append("TV")
        if surfaces:
            false.append(f"+{sample.at - o.t0:.1f}s {sample.daemon}: {', '.join(surfaces)}")
    v.figures["false_stale_samples"] = len(false)
    for line in false[:10]:
        v.fail(f"stale with no fault to explain it: {line}")


def check_figures_kept(o: Observed, v: Verdict) -> None:
    """Keep the last good data on failure and say how old it is: once the floor's figures
    were on screen, no failure may replace them with unknowns (STYLE.md, HA's coordinator)."""
    answered = [s for s in reachable(o.samples) if s.at >= o.t0]
    counts = [s for s in answered if s.blank]
    agents = [s for s in answered if not s.agents]
    v.figures["blanked_samples"] = (
        f"{len(counts)} without call counts, {len(agents)} without agents"
    )
    for what, blanked in (("call counts", counts), ("agents", agents)):
        if blanked:
            first, last = blanked[0], blanked[-1]
            v.fail(
                f"figures blanked: {len(blanked)} samples from +{first.at - o.t0:.1f}s to "
                f"+{last.at - o.t0:.1f}s showed no {what} (first: daemon {first.daemon}, "
                f"leader {first.leader}, stale {first.stale_sources}); the last good figures "
                "must stay on screen with their age"
            )


def check_recoveries(o: Observed, v: Verdict) -> None:
    """Time from each fault clearing to the next good answer, against the pass marks.

    Faults on one source that follow each other before it recovered form one episode, timed
    from the last one's clearing. A recovery is not judged (``masked``) when something else
    (a leader kill, a Redis restart, a blocked login, a wildcard window) was under way while
    the soak waited for it: that delay has its own pass mark.
    """
    judge = _Recoveries(o, v)
    judge.faults()
    judge.windows()
    judge.logins()
    judge.kills()
    judge.redis()
    v.figures["max_recovery_s"] = {k: round(x, 1) for k, x in sorted(judge.worst.items())}
    v.figures["recoveries_judged"] = dict(sorted(judge.judged.items()))
    v.figures["recoveries_masked"] = judge.masked


class _Recoveries:
    """One recovery check per kind of trouble, sharing what was seen and what it found."""

    def __init__(self, o: Observed, v: Verdict) -> None:
        self.o, self.v, self.t = o, v, o.plan.timing
        self.successes = _successes(o)
        self.disturbed = disturbances(o)
        self.worst: dict[str, float] = {}
        self.judged: Counter[str] = Counter()
        self.masked = 0

    def first_success(self, source: str, moment: float) -> float | None:
        if source == "hopper_list":
            return _first_ok_after(self.o, source, moment)
        return _first_after(self.successes.get(source, []), moment)

    def note(self, category: str, took: float | None, bound: float, what: str) -> None:
        if took is None:
            self.v.fail(f"{what}: no recovery observed before the end of the run")
            return
        self.judged[category] += 1
        self.worst[category] = max(self.worst.get(category, 0.0), took)
        if took > bound:
            self.v.fail(f"{what}: recovered after {took:.1f}s (pass mark {bound:g}s)")

    def is_masked(self, start: float, found: float | None, bound: float, ignore: str = "") -> bool:
        span = (start, found if found is not None else start + bound)
        return any(overlaps(span, (s, e)) for s, e, what in self.disturbed if what != ignore)

    def faults(self) -> None:
        """Each short fault (or the last of a run of them on one source)."""
        o, t = self.o, self.t
        by_source: dict[str, list[Injection]] = {}
        for injection in o.injections:
            source = source_of(injection.function)
            if source is not None and injection.kind in REQUEST_KINDS:
                by_source.setdefault(source, []).append(injection)
        for source, injections in by_source.items():
            for index, injection in enumerate(injections):
                cleared = injection.at + hold(injection.kind, t.timeout)
                found = self.first_success(source, cleared)
                following = injections[index + 1] if index + 1 < len(injections) else None
                if following is not None and following.at < (found or float("inf")):
                    continue  # the episode goes on: timed from its last fault
                in_window = any(
                    w.function in ("*", injection.function)
                    and w.start - 1 <= injection.at <= w.end + 1
                    for w in o.windows
                )
                if in_window or self.is_masked(injection.at, found, t.recovery_bound):
                    self.masked += 1
                    continue
                if source == "version" and found is None:
                    continue  # polled every 10 minutes: its retries back off towards that
                took = None if found is None else max(0.0, found - cleared)
                bound = t.recovery_bound if source != "version" else VERSION_INTERVAL
                self.note("fault", took, bound, f"{injection.kind} on {injection.function}")

    def windows(self) -> None:
        """Each long fault, from its end."""
        o = self.o
        for window in o.windows:
            sources = FLOOR_FUNCTIONS if window.function == "*" else (window.function,)
            times = [self.first_success(source, window.end) for source in sources]
            found = None if None in times else max(x for x in times if x is not None)
            until = found if found is not None else o.finished
            again = [
                i
                for i in o.injections
                if window.end + 0.5 < i.at < until and source_of(i.function) in sources
            ]
            if again or self.is_masked(window.end, found, self.t.recovery_bound):
                self.masked += 1  # another fault on the same source before it recovered
                continue
            took = None if found is None else found - window.end
            self.note("window", took, self.t.recovery_bound, f"{window.function} window")

    def logins(self) -> None:
        """A rejected login: the breaker closes at its probe, then the figures come back."""
        o, t = self.o, self.t
        for login in o.logins:
            at = login_injection(o, login)
            if not login.recover:
                continue
            if at is None:
                self.v.fail(f"the {login.kind} fault was never consumed: no request sent")
                continue
            samples = reachable(o.samples)
            closed = next((s.at for s in samples if s.at > at + 1.0 and s.login is None), None)
            took = None if closed is None else closed - at
            what = "login breaker closing after a rejected login"
            self.note("login", took, t.login_recovery_bound, what)
            probe = at + t.login_retry - 1.0
            fresh = next(
                (
                    s.at
                    for s in samples
                    if s.at > probe and set(s.stale_sources) <= excused(o, probe, s.at)
                ),
                None,
            )
            bound = t.login_retry + t.recovery_bound
            took = None if fresh is None else fresh - at
            self.note("login", took, bound, "fresh figures after a rejected login")

    def kills(self) -> None:
        """A killed leader: a successor serving fresh figures, from the old lock's expiry."""
        t = self.t
        for kill in self.o.kills:
            found = _kill_recovered(self.o, kill)
            if self.is_masked(kill.at, found, t.lock_ttl + t.recovery_bound, "leader kill"):
                self.masked += 1
                continue
            took = None if found is None else max(0.0, found - (kill.at + t.lock_ttl))
            self.note(
                "leader", took, t.recovery_bound, f"a new leader after kill -9 of {kill.daemon}"
            )

    def redis(self) -> None:
        """A restarted Redis: every instance fresh again, from Redis answering."""
        bound = self.t.lock_ttl + self.t.recovery_bound
        for restart in self.o.redis:
            for daemon in sorted({s.daemon for s in self.o.samples}):
                found = _redis_recovered(self.o, restart, daemon)
                if self.is_masked(restart.down, found, bound, ignore="redis restart"):
                    self.masked += 1
                    continue
                took = None if found is None else max(0.0, found - restart.up)
                self.note("redis", took, bound, f"daemon {daemon} after the Redis restart")


def check_quiet_while_blocked(o: Observed, v: Verdict) -> None:
    """While the login breaker is open, not one authenticated request reaches VICIdial."""
    t = o.plan.timing
    for login in o.logins:
        at = login_injection(o, login)
        if at is None:
            continue
        wait = t.login_retry if login.kind == "login" else t.lock_retry
        end = min(at + wait - 0.5, o.finished)
        window = [c for c in o.requests if at + 1.0 <= c.at <= end]
        if len(window) < 2:
            v.fail(f"{login.kind} blackout: too few request counts to tell ({len(window)})")
            continue
        first, last = window[0], window[-1]
        sent = (last.total - last.by_function.get("version", 0)) - (
            first.total - first.by_function.get("version", 0)
        )
        v.figures[f"requests_during_{login.kind}_blackout"] = sent
        if sent:
            v.fail(
                f"{login.kind} blackout: {sent} authenticated requests reached VICIdial between "
                f"+{first.at - o.t0:.1f}s and +{last.at - o.t0:.1f}s (the breaker allows none "
                "before its probe)"
            )
