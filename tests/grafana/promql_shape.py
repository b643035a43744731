"""How a PromQL expression aggregates each metric it reads: the ``max by`` rule, checked.

Two daemon instances export the same cached gauges, so a gauge read without ``max by`` doubles
(``sum``) or splits (no aggregation) every figure. Counters are per process and are summed over
their ``rate``/``increase``. This is a small bracket walk, not a PromQL parser: enough for the
expressions we write (``max by (labels) (metric{...})``), and it flags any other shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: A metric name of ours (or Prometheus's ``up``), not part of a recorded ``level:name:op``.
_METRIC = re.compile(r"(?<![\w:])((?:vicidial|wallboard)_[a-z_]+|up)(?![\w:(])")
_AGGREGATION = re.compile(r"\b(sum|max|min|avg|count)\s+by\s*\([^()]*\)\s*$")
_FUNCTION = re.compile(r"\b([a-z_]+)\s*$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
#: Counters and histogram buckets: each process counts its own events.
_COUNTER = re.compile(r"_(total|bucket|count|sum)$")


@dataclass(frozen=True)
class Use:
    """One metric read: its name and the calls around it, innermost first."""

    metric: str
    wrappers: tuple[str, ...]


def metric_uses(expr: str) -> list[Use]:
    """Every metric the expression reads, with its enclosing aggregations and functions."""
    blanked = _STRING.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', expr)
    return [Use(m.group(1), _wrappers(blanked, m.start())) for m in _METRIC.finditer(blanked)]


def _wrappers(expr: str, position: int) -> tuple[str, ...]:
    found: list[str] = []
    depth = 0
    for index in range(position - 1, -1, -1):
        char = expr[index]
        if char == ")":
            depth += 1
        elif char == "(" and depth:
            depth -= 1
        elif char == "(":
            before = expr[:index]
            aggregation = _AGGREGATION.search(before)
            function = _FUNCTION.search(before)
            if aggregation:
                found.append(f"{aggregation.group(1)} by")
            elif function and function.group(1) not in {"by", "on", "and", "or", "unless"}:
                found.append(function.group(1))
            else:
                found.append("(")
    return tuple(found)


def violations(expr: str) -> list[str]:
    """Why ``expr`` could double or split a figure across daemon instances (empty: it can't)."""
    problems = []
    uses = metric_uses(expr)
    if not uses:
        problems.append(f"reads none of our metrics: {expr}")
    for use in uses:
        wrappers = [w for w in use.wrappers if w != "("]
        if _COUNTER.search(use.metric):
            ok = wrappers[:2] in (["rate", "sum by"], ["increase", "sum by"])
            rule = "sum by (...) (rate(...)) or (increase(...))"
        else:
            ok = wrappers[:1] == ["max by"]
            rule = "max by (...) (...)"
        if not ok:
            problems.append(f"{use.metric} is read as {wrappers or 'bare'}, not {rule}: {expr}")
    return problems
