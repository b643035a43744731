"""Pacing windows (the last 15 minutes, the last hour) from observed deltas of today's counters.

VICIdial computes ``_fivemin``/``_hour`` figures but no API returns them (API.md §8.3), so the
poller remembers each campaign's ``call_status_stats`` counters at every good answer and a
pacing window is "today's counters now minus today's counters one span ago". Only what was
observed counts: right after a start (or midnight) the span actually covered is shorter than
the window's name, and the window says so in ``span_seconds`` instead of pretending.

Windows are measured back from the newest sample, not from the reader's clock, so they (and the
forecast built on them) change when a new answer arrives, never merely because time passed
between two polls; a stats source that stops answering is the stale machinery's business.

Today's counters only grow during a dialer day. A counter that shrinks means VICIdial's day
restarted under us (or a re-count): the samples before it are discarded rather than guessed
across, so a delta is never negative or stitched across two days.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from wallboard.windows.grading import DropWindow
from wallboard.windows.names import PACING_SPANS

#: How long samples are kept: the longest pacing window plus room for one late poll.
KEEP = timedelta(seconds=max(PACING_SPANS.values()) + 5 * 60)


@dataclass(frozen=True, slots=True)
class CounterSample:
    """One campaign's today counters at one good ``call_status_stats`` answer."""

    at: datetime
    calls: int
    answered: int
    dropped: int

    def grew_from(self, earlier: CounterSample) -> bool:
        return (
            self.calls >= earlier.calls
            and self.answered >= earlier.answered
            and self.dropped >= earlier.dropped
        )


@dataclass(frozen=True, slots=True)
class PaceWindow:
    """The deltas up to ``as_of`` (the newest sample's time) over the span actually observed:
    from the newest sample at least the nominal span older (so up to one poll longer than
    the name), or from the oldest one kept while there is none that old (shorter)."""

    window: DropWindow
    span_seconds: float
    as_of: datetime


def pace_window(samples: Sequence[CounterSample], span: float) -> PaceWindow | None:
    """Counters of the newest sample minus those of the newest sample at least ``span``
    seconds older than it (or the oldest one kept, for a shorter span); ``None`` without
    samples. One sample is a window of nothing over 0 s: observed, and honest about it."""
    if not samples:
        return None
    latest = samples[-1]
    cutoff = latest.at - timedelta(seconds=span)
    base = samples[0]
    for sample in samples[:-1]:
        if sample.at <= cutoff:
            base = sample
        else:
            break
    dropped = latest.dropped - base.dropped
    # A call re-dispositioned as DROP after it was answered adds a drop but no answer within
    # the span; it is still a human answer of today, so it is counted as answered here rather
    # than letting the ratio pass 100 %.
    window = DropWindow(
        calls=latest.calls - base.calls,
        answered=max(latest.answered - base.answered, dropped),
        dropped=dropped,
        days=0,
    )
    return PaceWindow(window, (latest.at - base.at).total_seconds(), latest.at)


class PaceTracker:
    """Each campaign's recent counter samples for one dialer day (the poller owns one)."""

    def __init__(self, keep: timedelta = KEEP) -> None:
        self._keep = keep
        self._day: date | None = None
        self._samples: dict[str, deque[CounterSample]] = {}

    @property
    def day(self) -> date | None:
        return self._day

    def observe(self, day: date, at: datetime, counters: Mapping[str, DropWindow]) -> None:
        """Record today's counters of each campaign as of ``at`` (a good stats answer)."""
        if day != self._day:
            self._day = day
            self._samples = {}
        for campaign, window in counters.items():
            sample = CounterSample(at, window.calls, window.answered, window.dropped)
            samples = self._samples.setdefault(campaign, deque())
            if samples and (sample.at <= samples[-1].at or not sample.grew_from(samples[-1])):
                if sample.at <= samples[-1].at:
                    continue  # an answer older than the one kept: nothing new
                samples.clear()  # the counters restarted: never stitch across
            samples.append(sample)
            while len(samples) > 2 and samples[1].at <= at - self._keep:
                samples.popleft()

    def window(self, campaign: str, span: float) -> PaceWindow | None:
        """``campaign``'s pacing window of ``span`` seconds up to its newest sample."""
        samples = self._samples.get(campaign)
        if not samples:
            return None
        return pace_window(list(samples), span)

    def windows(self, campaign: str) -> dict[str, PaceWindow]:
        """Every pacing window of ``campaign`` (none before its first sample)."""
        found = {}
        for name, span in PACING_SPANS.items():
            pace = self.window(campaign, span)
            if pace is not None:
                found[name] = pace
        return found

    # -- durability: a restart (or a new leader) keeps the last hour --------------------------

    def dump(self) -> dict[str, Any]:
        return {
            "day": self._day.isoformat() if self._day else None,
            "samples": {
                campaign: [[s.at.isoformat(), s.calls, s.answered, s.dropped] for s in samples]
                for campaign, samples in self._samples.items()
            },
        }

    def load(self, document: object) -> None:
        """Restore :meth:`dump`'s output; raises ``ValueError`` on anything malformed (not a
        mapping, rows out of time order, counters that shrink): a restart never resumes from
        samples it cannot vouch for."""
        try:
            if not isinstance(document, Mapping):
                raise TypeError("not an object")
            day = date.fromisoformat(document["day"]) if document.get("day") else None
            stored = document["samples"]
            if not isinstance(stored, Mapping):
                raise TypeError("samples is not an object")
            samples = {str(campaign): deque(_samples(rows)) for campaign, rows in stored.items()}
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"bad pacing samples: {error}") from None
        self._day = day
        self._samples = samples


def _samples(rows: Iterable[Any]) -> list[CounterSample]:
    found: list[CounterSample] = []
    for at, calls, answered, dropped in rows:
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("sample time without a zone")
        counts = (int(calls), int(answered), int(dropped))
        if min(counts) < 0:
            raise ValueError("negative counter")
        sample = CounterSample(moment, *counts)
        if found and (sample.at <= found[-1].at or not sample.grew_from(found[-1])):
            raise ValueError("samples out of order or shrinking")
        found.append(sample)
    return found
