"""When each agent entered its current state, kept across polls, restarts and leader changes.

VICIdial's ``logged_in_agents`` has no "since" column, so the poll that first sees an agent
in a state is the best estimate. An agent seen in a state at start-up (no record of them, or
a record too old to trust) gets the start-up time with ``exact=False``: a lower bound that the
TV shows as "≥ 4:07". Later transitions happen between two polls, so they are exact to within
one poll interval.

The map is plain JSON so the poller keeps it in the durable store (SQLite or Redis): after a
restart, or when another instance takes over, an agent still in the same state keeps its
time, instead of every tile reading 0:18.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from wallboard.compose import AgentState

__all__ = ["AgentState", "StateSinceTracker"]


def _aware(text: object) -> datetime:
    """An ISO timestamp with a time zone (a naive one is unreadable here: raise)."""
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return moment


class StateSinceTracker:
    """Remembers each logged-in agent's state and since when; forgets agents who log out."""

    def __init__(self) -> None:
        self._seen: dict[str, AgentState] = {}
        self._first_update = True
        self._changed = False
        self._saved_at: datetime | None = None

    def restore(self, data: bytes | None, now: datetime, max_gap: timedelta) -> None:
        """Start from a saved map, unless it is older than ``max_gap``.

        A longer gap means the agents may have left and re-entered their state unseen, so
        the saved times would overstate how long they have been in it.
        """
        self._first_update = True
        if not data:
            return
        try:
            document = json.loads(data)
            if not isinstance(document, dict) or not isinstance(document.get("agents"), dict):
                return
            saved_at = _aware(document["saved_at"])
            agents = {
                str(user): AgentState(str(state), _aware(since), bool(exact))
                for user, (state, since, exact) in document["agents"].items()
            }
            fresh = timedelta(0) <= now - saved_at <= max_gap
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        if fresh:
            self._seen = agents
            self._saved_at = saved_at

    def update(self, states: Mapping[str, str], now: datetime) -> dict[str, AgentState]:
        """The agents' states at ``now`` → each one's state, since when, and whether exact."""
        seen: dict[str, AgentState] = {}
        exact_if_new = not self._first_update
        for user, state in states.items():
            previous = self._seen.get(user)
            if previous is not None and previous.state == state:
                seen[user] = previous
            else:
                # A change we saw happen is exact to one poll; an agent already in this state
                # when we started watching is only a lower bound.
                changed_under_watch = previous is not None or exact_if_new
                seen[user] = AgentState(state, now, changed_under_watch)
        if seen != self._seen:
            self._changed = True
        self._seen = seen
        self._first_update = False
        return dict(seen)

    def needs_save(self, now: datetime, refresh: timedelta) -> bool:
        """Write the map when it changed, and at least every ``refresh`` even when it did not:
        :meth:`restore` trusts a map only as old as its ``saved_at``, so on a quiet floor a
        map saved only on change would be thrown away at the next restart."""
        if self._changed or self._saved_at is None:
            return True
        return now - self._saved_at >= refresh

    def mark_saved(self, now: datetime) -> None:
        self._changed = False
        self._saved_at = now

    def dump(self, now: datetime) -> bytes:
        """The map as JSON for the durable store."""
        return json.dumps(
            {
                "saved_at": now.isoformat(),
                "agents": {
                    user: [a.state, a.since.isoformat(), a.exact] for user, a in self._seen.items()
                },
            },
            separators=(",", ":"),
        ).encode()
