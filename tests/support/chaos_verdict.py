"""The soak's verdict: what was recorded against what had to happen. Pure: data in, findings out.

Every promise is checked against ground truth that does not come from the daemon's own
opinion of itself: the simulator's log of the faults it applied (with the wall clock), the
times the soak killed a leader or Redis, the Slack stand-in's stored messages, the
simulator's log of ``update_campaign`` calls and its own figures for past days. The daemon's
samples (``/api/snapshot``, ``/readyz``, the TV stream) are what is being judged.

The pass marks, in the daemon's own terms (:class:`~tests.support.chaos_plan.Timing`):

* stale: from a fault's start plus the stale threshold (three intervals) plus one poll until it
  clears, every sample of every reachable instance says stale on all three surfaces; a blocked
  login is named on ``/readyz`` and ``/api/snapshot`` within one poll;
* recovery: a cleared fault is followed by a good answer within one poll interval plus
  :attr:`Timing.tolerance`; a login error by a closed breaker within ``login_retry`` plus
  tolerance, and not one authenticated request before that probe (nor after ``LOCK``);
* a killed leader's successor (or a restarted Redis) serves fresh figures within one poll
  plus tolerance of the lock expiring (of Redis answering again);
* Slack: one parent per incident (updated in place: its header matches the incident's final
  state), one reply per notification, none missing, none twice;
* auto-pause: only the listed campaign, at most once per incident opening, and once for every
  opening that held above the line on trusted data for well over ``pending``;
* the 30-day window and ``wallboard ledger`` hold every past day exactly once, with the
  dialer's own figures; memory stays under a ceiling and does not keep growing;
* no crash, no traceback, no 5xx from our routes, no secret anywhere.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from tests.support.chaos_plan import FLOOR_FUNCTIONS, PAUSED_CAMPAIGN, REQUEST_KINDS
from tests.support.chaos_record import (
    KillDone,
    LoginDone,
    Observed,
    RedisDone,
    Verdict,
    WindowDone,
    openings_seen,
    reachable,
)
from tests.support.chaos_timeline import (
    check_false_stale,
    check_figures_kept,
    check_quiet_while_blocked,
    check_recoveries,
    check_stale_shown,
    must_be_stale,
)
from tests.support.chaos_watch import RssSample, epoch
from tests.support.slack_server import Message
from wallboard.alerts.slack_blocks import INCIDENT_EVENT, NOTIFICATION_EVENT, parent_message

__all__ = ["KillDone", "LoginDone", "Observed", "RedisDone", "Verdict", "WindowDone", "judge"]

#: Memory ceiling for one daemon instance (MB), and how much it may still grow in the second
#: half of a long-lived instance's life (MB): a leak shows as steady growth, not a peak.
RSS_CEILING_MB = 250.0
RSS_GROWTH_MB = 20.0
#: An instance must live this long before its growth is judged (seconds).
RSS_MIN_LIFE = 120.0
#: A notification committed this close to the stop may still be on its way (seconds).
IN_FLIGHT = 10.0
_TRACEBACK = re.compile(r"^Traceback \(most recent call last\):", re.MULTILINE)


def judge(o: Observed) -> Verdict:
    """Every check; the figures and the failures."""
    v = Verdict()
    _harness(o, v)
    _crashes(o, v)
    _secrets(o, v)
    check_stale_shown(o, v, must_be_stale(o))
    check_false_stale(o, v)
    check_figures_kept(o, v)
    check_recoveries(o, v)
    check_quiet_while_blocked(o, v)
    _slack(o, v)
    _pauses(o, v)
    _history(o, v)
    _memory(o, v)
    _counts(o, v)
    return v


def _harness(o: Observed, v: Verdict) -> None:
    for error in o.harness_errors:
        v.fail(f"the soak itself failed: {error}")


def _crashes(o: Observed, v: Verdict) -> None:
    v.figures["crashes"] = len(o.crashes)
    for crash in o.crashes:
        v.fail(crash)
    for daemon, codes in o.exit_codes.items():
        for code in codes:
            if code != 0:
                v.fail(f"daemon {daemon} exited with {code} after SIGTERM (a clean stop is 0)")
    tracebacks = 0
    for name, text in o.logs.items():
        for match in _TRACEBACK.finditer(text):
            tracebacks += 1
            excerpt = text[max(0, match.start() - 300) : match.start() + 900]
            v.fail(f"traceback in {name}:\n{excerpt}")
        for line in text.splitlines():
            if "unexpected error" in line:
                v.fail(f"{name}: {line.strip()}")
    v.figures["tracebacks"] = tracebacks
    for error in o.server_errors:
        v.fail(f"5xx from our own route: {error}")


def _secrets(o: Observed, v: Verdict) -> None:
    v.figures["secret_scan"] = (
        f"{len(o.secret_hits)} hits in {o.scanned_items} items ({o.scanned_bytes / 1e6:.1f} MB)"
    )
    for hit in o.secret_hits[:20]:
        v.fail(f"secret {hit.secret} found in {hit.where}: ...{hit.excerpt}...")


def _metadata(message: Message, event: str) -> Mapping[str, Any]:
    metadata = message.metadata or {}
    if metadata.get("event_type") != event:
        return {}
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, dict) else {}


def _header(blocks: list[Any] | None) -> str:
    if not blocks:
        return ""
    first = blocks[0]
    return str(first.get("text", {}).get("text", "")) if isinstance(first, dict) else ""


def _slack(o: Observed, v: Verdict) -> None:
    """Every notification the daemons committed is in Slack exactly once."""
    # Committed in the last moments before the stop: in flight, not lost (the next leader
    # would deliver them; tests/alerts shows undelivered notifications survive a restart).
    in_flight = [(at, key) for at, key in o.pending if at >= o.stopped - IN_FLIGHT]
    stuck = len(o.pending) - len(in_flight)
    settling = {key for _, key in in_flight}
    parents = Counter(
        str(p["key"])
        for m in o.slack_messages
        if m.thread_ts is None and (p := _metadata(m, INCIDENT_EVENT)).get("key")
    )
    replies = Counter(
        (str(p["key"]), int(p["seq"]))
        for m in o.slack_messages
        if m.thread_ts is not None
        and isinstance((p := _metadata(m, NOTIFICATION_EVENT)).get("seq"), int)
    )
    duplicates = sum(n - 1 for n in parents.values()) + sum(n - 1 for n in replies.values())
    for key, n in parents.items():
        if n > 1:
            v.fail(f"Slack: incident {key} has {n} parent messages (one expected)")
    for (key, seq), n in replies.items():
        if n > 1:
            v.fail(f"Slack: notification {seq} of {key} posted {n} times")
    known = {i.key: i for i in o.incidents}
    for key in parents:
        if key not in known:
            v.fail(f"Slack: a parent for {key}, which no daemon recorded")
    missing_parents = [key for key in known if key not in parents and key not in settling]
    for key in missing_parents:
        v.fail(f"Slack: incident {key} was recorded but never posted")
    by_key = {str(p["key"]): m for m in o.slack_messages if (p := _metadata(m, INCIDENT_EVENT))}
    for key, incident in known.items():
        message = by_key.get(key)
        if message is None or key in settling:
            continue
        wanted = _header(parent_message(incident)[1])
        if _header(message.blocks) != wanted:
            v.fail(
                f"Slack: parent of {key} shows {_header(message.blocks)!r}, the incident ended "
                f"as {wanted!r} (not updated in place)"
            )
    # Every committed notification is one Slack message: an opening is its incident's parent,
    # any other change a reply in its thread.
    openings = max(o.openings_logged, len(openings_seen(o.samples)))
    expected = o.seq_total
    delivered = len(replies) + len(parents)
    lost = max(0, expected - delivered - len(in_flight))
    v.figures["notifications"] = (
        f"{o.seq_total} committed ({openings} openings of {len(known)} incidents): "
        f"expected {expected} Slack messages, delivered {delivered}, duplicated {duplicates}, "
        f"lost {lost}, in flight at the stop {len(in_flight)}, parent updates {o.slack_updates}"
    )
    v.figures["notifications_expected"] = expected
    v.figures["notifications_delivered"] = delivered
    v.figures["notifications_duplicated"] = duplicates
    if stuck:
        v.fail(
            f"Slack: {stuck} notifications committed more than {IN_FLIGHT:g}s before the stop "
            "were still undelivered"
        )
    if lost:
        reply_seqs = {seq for _, seq in replies}
        without_reply = [seq for seq in range(1, o.seq_total + 1) if seq not in reply_seqs]
        v.fail(
            f"Slack: {lost} of {expected} notifications never became a message ({len(parents)} "
            f"parents for {openings} openings; seqs without a reply: {without_reply[:24]})"
        )
    reopened = Counter(key for key, _ in openings_seen(o.samples))
    for key, times in sorted(reopened.items()):
        if times > 1:
            v.fail(
                f"Slack: {key} was opened {times} times (resolved in between) under one key: "
                "the later openings got no message of their own (OPENED is never a reply; the "
                "old parent is only rewritten) and each replaced the earlier one in the store"
            )


def _pauses(o: Observed, v: Verdict) -> None:
    """Auto-pause: the listed campaign only, once per eligible incident opening."""
    t = o.plan.timing
    for pause in o.sim_pauses:
        if pause.get("campaign_id") != PAUSED_CAMPAIGN or pause.get("active") != "N":
            v.fail(f"update_campaign sent for something not eligible: {dict(pause)}")
    for record in o.audits:
        if record.campaign != PAUSED_CAMPAIGN:
            v.fail(f"auto-pause recorded for {record.campaign}, which is not listed")
    openings = sorted(
        {(a.key, a.since) for s in o.samples for a in s.alerts if a.campaign == PAUSED_CAMPAIGN
         and a.window == "today"},
        key=lambda item: item[1],
    )  # fmt: skip
    eligible = ambiguous = 0
    for index, (key, since) in enumerate(openings):
        start = _iso_epoch(since)
        end = _iso_epoch(openings[index + 1][1]) if index + 1 < len(openings) else o.finished
        records = [
            r for r in o.audits if r.incident_key == key and start <= r.at.timestamp() < end + 1
        ]
        held = _longest_hold(o, start, end, t.pause_at)
        if len(records) > 1:
            v.fail(f"auto-pause: {len(records)} pauses for one opening of {key}")
        if held >= t.pending + 8.0:
            eligible += 1
            if len(records) != 1:
                v.fail(
                    f"auto-pause: {key} opened at {since} held >= {t.pause_at:.2%} on trusted "
                    f"data for {held:.0f}s, but was paused {len(records)} times"
                )
        elif held > 0:
            ambiguous += 1
        elif records:
            v.fail(f"auto-pause: {key} paused although no sample showed it over the line")
    paused = sum(1 for r in o.audits if r.outcome.outcome == "paused")
    sent = len(o.sim_pauses)
    if not paused <= sent <= len(o.audits):
        v.fail(f"auto-pause: {sent} update_campaign calls for {len(o.audits)} decisions")
    v.figures["pauses"] = (
        f"{sent} update_campaign calls, {len(o.audits)} audit records "
        f"({', '.join(sorted(r.outcome.outcome for r in o.audits)) or 'none'}); "
        f"{len(openings)} openings of {PAUSED_CAMPAIGN}, {eligible} clearly eligible, "
        f"{ambiguous} borderline"
    )
    if not eligible and o.plan.scale.name == "bench":
        v.fail("auto-pause was never exercised: no opening held over the line long enough")


def _iso_epoch(text: str) -> float:
    moment = epoch(text)
    return 0.0 if moment is None else moment


def _longest_hold(o: Observed, start: float, end: float, line: float) -> float:
    """The longest run of samples, inside an opening, with the paused campaign at or above the
    auto-pause line on trusted data (stats answered and fresh)."""
    best = run_start = 0.0
    running = False
    for sample in reachable(o.samples):
        if not start <= sample.at <= end:
            continue
        today = sample.today.get(PAUSED_CAMPAIGN)
        trusted = sample.ok.get("call_status_stats") and "call_status_stats" not in set(
            sample.stale_sources
        )
        over = today is not None and today[0] >= line and bool(trusted)
        if over and not running:
            running, run_start = True, sample.at
        elif not over and running:
            running = False
            best = max(best, sample.at - run_start)
        if running:
            best = max(best, sample.at - run_start)
    return best


def _history(o: Observed, v: Verdict) -> None:
    """The ledger has each past day once with VICIdial's own figures; the 30-day window is
    exactly those days plus today."""
    if o.ledger_exit != 0:
        v.fail(f"wallboard ledger exited with {o.ledger_exit}")
    if o.audit_exit != 0:
        v.fail(f"wallboard audit exited with {o.audit_exit}")
    rows = Counter((str(r["campaign"]), str(r["day"])) for r in o.ledger_rows)
    doubles = [key for key, n in rows.items() if n > 1]
    gaps = []
    wrong = []
    for (campaign, day), (calls, answered, dropped) in o.truth.items():
        row = next(
            (r for r in o.ledger_rows if r["campaign"] == campaign and r["day"] == day), None
        )
        if row is None or row.get("answered") is None:
            gaps.append((campaign, day))
        elif (row["calls"], row["answered"], row["dropped"]) != (calls, answered, dropped):
            wrong.append(
                f"{campaign} {day}: ledger {row['calls']}/{row['answered']}/{row['dropped']}, "
                f"VICIdial {calls}/{answered}/{dropped}"
            )
    for key in doubles:
        v.fail(f"ledger: {key[0]} {key[1]} appears {rows[key]} times")
    for campaign, day in gaps[:10]:
        v.fail(f"ledger: {campaign} {day} has no figures (a gap)")
    for line in wrong[:10]:
        v.fail(f"ledger: {line}")
    mismatched = 0
    for campaign, windows in o.final_windows.items():
        past = [o.truth.get((campaign, day)) for day in o.past_days]
        if None in past:
            continue
        today, rolling = windows.get("today"), windows.get("30d")
        if today is None or rolling is None:
            v.fail(f"30d: {campaign} has no today/30d window at the end")
            continue
        answered = sum(p[1] for p in past if p is not None) + int(today["answered"])
        dropped = sum(p[2] for p in past if p is not None) + int(today["dropped"])
        days = int(rolling.get("days") or 0)
        if (int(rolling["answered"]), int(rolling["dropped"]), days) != (
            answered,
            dropped,
            len(o.past_days) + 1,
        ):
            mismatched += 1
            v.fail(
                f"30d: {campaign} shows {rolling['answered']} answered / {rolling['dropped']} "
                f"dropped over {days} days; the past days and today add up to {answered} / "
                f"{dropped} over {len(o.past_days) + 1}"
            )
    v.figures["history"] = (
        f"{len(o.ledger_rows)} ledger rows for {len(o.truth)} campaign-days: {len(gaps)} gaps, "
        f"{len(doubles)} doubles, {len(wrong)} wrong; 30d windows off: {mismatched}"
    )


def _memory(o: Observed, v: Verdict) -> None:
    by_process: dict[tuple[str, int], list[RssSample]] = {}
    for sample in o.rss:
        by_process.setdefault((sample.daemon, sample.pid), []).append(sample)
    peak = max((s.rss_kb for s in o.rss), default=0) / 1024
    v.figures["peak_rss_mb"] = round(peak, 1)
    if peak > RSS_CEILING_MB:
        v.fail(f"memory: a daemon reached {peak:.0f} MB (ceiling {RSS_CEILING_MB:g} MB)")
    growths = []
    for (daemon, pid), samples in by_process.items():
        life = samples[-1].at - samples[0].at
        if life < RSS_MIN_LIFE:
            continue
        first, last = samples[0].at, samples[-1].at
        middle = [s.rss_kb for s in samples if first + life * 0.25 <= s.at < first + life * 0.5]
        final = [s.rss_kb for s in samples if s.at >= last - life * 0.25]
        growth = (max(final) - max(middle)) / 1024
        growths.append(f"{daemon}/{pid}: {growth:+.1f} MB over {life:.0f}s")
        if growth > RSS_GROWTH_MB:
            v.fail(f"memory: daemon {daemon} (pid {pid}) kept growing: {growth:+.1f} MB")
    v.figures["rss_growth"] = "; ".join(growths) or "no instance lived long enough to judge"


def _counts(o: Observed, v: Verdict) -> None:
    kinds = Counter(i.kind for i in o.injections)
    v.figures["faults_injected"] = dict(sorted(kinds.items()))
    v.figures["faults_total"] = sum(kinds.values())
    functions = Counter(i.function for i in o.injections)
    v.figures["faults_by_function"] = dict(sorted(functions.items()))
    v.figures["infrastructure"] = (
        f"{len(o.kills)} leader kill -9, {len(o.redis)} Redis restarts, "
        f"Slack: {dict(sorted(o.slack_faults.items()))}"
    )
    v.figures["requests"] = (
        f"{o.sim_total} to VICIdial, {sum(o.our_requests.values())} to our routes, "
        f"{o.slack_requests} to Slack"
    )
    v.figures["dialer_minutes"] = round(o.dialer_seconds / 60, 1)
    v.figures["wall_seconds"] = round(o.t_end - o.t0, 1)
    # version is polled every ten minutes (and by each new leader): a fault queued for it may
    # wait beyond the run, so it is counted but not required.
    unfaulted = sorted(set(FLOOR_FUNCTIONS) - set(functions))
    if unfaulted:
        v.fail(f"functions never faulted (no request consumed a fault): {', '.join(unfaulted)}")
    planned = {kind for kind in REQUEST_KINDS} | {login.kind for login in o.logins}
    never = sorted(planned - set(kinds))
    if never:
        v.fail(f"fault kinds never injected (no request consumed them): {', '.join(never)}")
    scale = o.plan.scale
    if o.dialer_seconds < 0.9 * scale.dialer_seconds:
        v.fail(
            f"the simulator covered {o.dialer_seconds / 60:.1f} dialer minutes, "
            f"{scale.dialer_seconds / 60:.0f} were planned"
        )
