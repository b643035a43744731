"""An alert store writer in a process of its own, for tests that kill it (or its Redis) hard.

``python -m tests.alerts.store_writer sqlite PATH`` or ``... redis URL PREFIX`` commits in a
loop the way the engine does, carrying on after the last round stored: round ``n`` closes
incident ``n - 1``, opens incident ``n``, queues two notifications for it and stores the
engine memory ``{"round": n}``, all in one ``commit``; then, like the Slack sender, it marks
the oldest pending notification delivered. It prints ``committed n`` once round ``n`` is
durable and runs until killed (a store error ends it with exit code 3). With ``sqlite PATH
ROUND STATEMENT`` it kills itself inside round ``ROUND``'s transaction (:class:`DieInside`).

:func:`check_consistent` is what must hold after any kill: see its docstring.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wallboard.alerts.store import (
    AlertStore,
    AlertStoreError,
    RedisAlertStore,
    SqliteAlertStore,
)
from wallboard.alerts.types import Action, Incident, Kind, Level, Notification
from wallboard.cache import connect_redis

MEMORY_KEY = "engine"
START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def incident(round_: int, *, closed: bool = False) -> Incident:
    at = START + timedelta(seconds=round_)
    opened = Incident(
        key=f"drop:C{round_}:today:2026-11-25",
        kind=Kind.DROP,
        campaign=f"C{round_}",
        window="today",
        severity=Level.WARNING,
        opened_at=at,
        updated_at=at,
        summary=f"C{round_} today 2.61 %",
    )
    if not closed:
        return opened
    return replace(opened, closed_at=at + timedelta(seconds=1), close_reason="resolved")


def round_index(notification: Notification) -> int:
    return int(notification.incident.campaign.removeprefix("C"))


async def write_forever(
    store: AlertStore, before_round: Callable[[int], None] = lambda round_: None
) -> None:
    """Commit rounds from the one after the last stored (a restarted writer carries on)."""
    await store.start()
    memory = await store.get_value(MEMORY_KEY)
    round_ = 0 if memory is None else int(json.loads(memory)["round"]) + 1
    while True:
        before_round(round_)
        changed = [incident(round_)]
        if round_:
            changed.append(incident(round_ - 1, closed=True))
        notes = [
            Notification(incident(round_), Action.OPENED, f"opened {round_}", START),
            Notification(incident(round_), Action.ESCALATED, f"escalated {round_}", START),
        ]
        memory = json.dumps({"round": round_}).encode()
        await store.commit(changed, notes, {MEMORY_KEY: memory})
        print(f"committed {round_}", flush=True)
        oldest = await store.pending(1)
        await store.mark_delivered(n.seq for n in oldest)
        round_ += 1


async def check_consistent(store: AlertStore) -> int:
    """Return the last round stored, after checking that nothing is half-written:

    * the memory names round ``n``, incident ``n`` is the only open one and no later round
      left any trace (no incident, no notification);
    * every earlier incident is closed;
    * the undelivered notifications are exactly the newest ones, seqs contiguous up to
      ``2 (n + 1)``, each pair belonging to its round (a round's two notes and its incident
      went in together, and deliveries took the oldest first).
    """
    memory = await store.get_value(MEMORY_KEY)
    assert memory is not None, "no round was stored"
    last = int(json.loads(memory)["round"])
    open_keys = [i.key for i in await store.open_incidents()]
    assert open_keys == [incident(last).key], f"memory says round {last}, open: {open_keys}"
    later = await store.get_incident(incident(last + 1).key)
    assert later is None, f"memory says round {last}, but round {last + 1} left {later}"
    for round_ in range(last):
        stored = await store.get_incident(incident(round_).key)
        assert stored == incident(round_, closed=True), f"round {round_}: {stored}"
    pending = await store.pending(10_000)
    seqs = [n.seq for n in pending]
    assert seqs, "the newest round's notes cannot all have been delivered"
    assert seqs == list(range(seqs[0], 2 * (last + 1) + 1)), f"round {last}, pending {seqs}"
    for note in pending:
        assert round_index(note) == (note.seq - 1) // 2, f"seq {note.seq}: {note}"
        assert note.incident == incident(round_index(note)), f"seq {note.seq}: {note}"
    return last


class DieInside:
    """Arms a SQLite trace at round ``at_round`` that SIGKILLs this process the moment the
    commit's statement starting with ``statement`` begins: a kill at a chosen point *inside*
    the transaction, not wherever a timer happens to land."""

    def __init__(self, store: SqliteAlertStore, at_round: int, statement: str) -> None:
        self._store = store
        self._at_round = at_round
        self._statement = statement

    def __call__(self, round_: int) -> None:
        if round_ != self._at_round:
            return
        connection = self._store._file._connection  # the test reaches in; the store has it open
        assert connection is not None
        connection.set_trace_callback(self._trace)

    def _trace(self, sql: str) -> None:
        if sql.lstrip().startswith(self._statement):
            os.kill(os.getpid(), signal.SIGKILL)


async def _main(argv: list[str]) -> int:
    """``sqlite PATH [ROUND STATEMENT]`` or ``redis URL PREFIX``."""
    store: AlertStore
    before_round: Callable[[int], None] = lambda round_: None  # noqa: E731
    if argv[0] == "sqlite":
        store = sqlite = SqliteAlertStore(argv[1])
        if len(argv) > 2:
            before_round = DieInside(sqlite, int(argv[2]), argv[3])
    else:
        store = RedisAlertStore(connect_redis(argv[1], timeout=0.5), argv[2])
    try:
        await write_forever(store, before_round)
    except AlertStoreError as error:
        print(f"store error: {error}", flush=True)
        return 3
    finally:
        await store.close()
    return 0  # pragma: no cover (the loop ends only by an error or a kill)


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1:])))
