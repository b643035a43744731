"""UK mode: Ofcom's calendar-day abandoned-call rate with the answering-machine correction.

VICIdial's ``ofcom_uk_drop_calc`` (API.md §8.2, ``AST_VDadapt.pl``): since Ofcom's December 2015
statement, the drops are reduced by the share of agent-answered calls that turned out to be
answering machines (some "drops" were machines AMD missed), and the rate is the adjusted drops
over agent-answered people plus the adjusted drops::

    share    = machines / (people + machines)          # agent-answered calls only
    adjusted = drops x (1 - share)
    rate     = adjusted / (people + adjusted)

VICIdial's own worked example: 29 drops, 9 agent-answered people, 7 agent-answered machines
gives share 7/16, adjusted 16.3125 and a rate of 64.44 %.

``call_status_stats`` gives status counts, not who answered, so which statuses are agent-
answered people and agent-answered machines is configuration: by default the people are the
human-answered calls that were not dropped (every human-answered status but ``DROP``/``XDROP``
is an agent's disposition) and the machines are status ``A`` (an agent's "Answering Machine"
disposition; ``AA``/``AM``/``AL`` are set by AMD, with no agent on the call).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wallboard.windows.grading import DropWindow

#: Agent-answered machines by default: VICIdial's agent disposition "A" (Answering Machine).
DEFAULT_MACHINE_STATUSES: tuple[str, ...] = ("A",)

#: Statuses that are drops (never agent-answered).
DROP_STATUSES: tuple[str, ...] = ("DROP", "XDROP")


@dataclass(frozen=True, slots=True)
class OfcomStatuses:
    """Which statuses count as agent-answered people and machines (``()`` people: every
    human-answered call that was not a drop)."""

    people: tuple[str, ...] = ()
    machines: tuple[str, ...] = DEFAULT_MACHINE_STATUSES


@dataclass(frozen=True, slots=True)
class OfcomCounts:
    """The counts the Ofcom rate needs; summable over campaigns (drop-rate groups)."""

    calls: int = 0
    people: int = 0
    machines: int = 0
    drops: int = 0

    @property
    def machine_share(self) -> float:
        handled = self.people + self.machines
        return self.machines / handled if handled else 0.0

    @property
    def adjusted_drops(self) -> float:
        return self.drops * (1.0 - self.machine_share)

    @property
    def ratio(self) -> float:
        adjusted = self.adjusted_drops
        denominator = self.people + adjusted
        return adjusted / denominator if denominator > 0 else 0.0

    def window(self) -> DropWindow:
        """As a weighted window: answered = people + drops, each drop weighing 1 - share."""
        return DropWindow(
            calls=self.calls,
            answered=self.people + self.drops,
            dropped=self.drops,
            days=1,
            drop_weight=1.0 - self.machine_share,
        )


def ofcom_counts(
    calls: int, human_answered: int, statuses: Mapping[str, int], which: OfcomStatuses
) -> OfcomCounts:
    """One campaign's (or in-group's) counts from a ``call_status_stats`` line."""
    drops = sum(statuses.get(status, 0) for status in DROP_STATUSES)
    if which.people:
        people = sum(statuses.get(status, 0) for status in which.people)
    else:
        people = max(0, human_answered - drops)
    machines = sum(statuses.get(status, 0) for status in which.machines)
    return OfcomCounts(calls=calls, people=people, machines=machines, drops=drops)


def pooled(counts: Iterable[OfcomCounts]) -> OfcomCounts:
    """Several campaigns' counts as one (a drop-rate group in UK mode)."""
    calls = people = machines = drops = 0
    for c in counts:
        calls += c.calls
        people += c.people
        machines += c.machines
        drops += c.drops
    return OfcomCounts(calls, people, machines, drops)
