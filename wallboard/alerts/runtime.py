"""Assembles the alert engine for the daemon: rules, durable store, Slack, outbox, auto-pause.

The daemon builds one :class:`AlertRuntime` per process. Every instance opens the store and
follows the shared :class:`~wallboard.alerts.types.AlertView`; only the leader runs the
engine and the outbox (:meth:`AlertRuntime.lead` / :meth:`AlertRuntime.follow`), so a leader
change never sends a message twice: the new leader reads what the old one committed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time

from wallboard.alerts.autopause import pause_campaign
from wallboard.alerts.engine import AlertEngine
from wallboard.alerts.evaluate import PauseRule
from wallboard.alerts.machine import WindowPolicy
from wallboard.alerts.outbox import Outbox, Unavailable
from wallboard.alerts.rules import AlertRules
from wallboard.alerts.slack import SlackRejected, SlackSender, SlackUnavailable
from wallboard.alerts.store import AlertStore
from wallboard.alerts.types import AlertView
from wallboard.cache.base import SnapshotStore
from wallboard.snapshot import Snapshot
from wallboard.vicidial.client import VicidialClient

log = logging.getLogger(__name__)


class RulesPolicy:
    """The configured rules as the engine's :class:`~wallboard.alerts.evaluate.AlertPolicy`."""

    def __init__(self, rules: AlertRules) -> None:
        self._rules = rules

    @property
    def stale_after(self) -> float:
        return self._rules.stale_after

    def windows_for(self, campaign: str) -> tuple[str, ...]:
        return self._rules.windows_for(campaign)

    def policy(self, campaign: str, window: str) -> WindowPolicy:
        rule = self._rules.rule(campaign, window)
        return WindowPolicy(
            thresholds=rule.thresholds,
            pending=rule.pending,
            clear_margin=rule.clear_margin,
            repeat=rule.repeat,
        )

    def quiet(self, campaign: str, local: time) -> bool:
        return self._rules.quiet(campaign, local)


def pause_rule(rules: AlertRules) -> PauseRule | None:
    auto = rules.auto_pause
    if auto is None:
        return None
    return PauseRule(
        campaigns=frozenset(auto.campaigns), at=auto.at, dry_run=auto.dry_run, windows=auto.windows
    )


def classify_slack_error(error: Exception) -> Unavailable | None:
    """Slack outages and rate limits are retried; rejections (bad token, unknown channel)
    are configuration problems the outbox logs and retries slowly."""
    if isinstance(error, SlackUnavailable):
        return Unavailable(str(error), error.retry_after)
    if isinstance(error, SlackRejected):
        return None
    return Unavailable(f"{type(error).__name__}", None)


def firing_counts(view: AlertView | None) -> list[tuple[str, str, int]]:
    """``wallboard_alerts_firing``: open incidents per (campaign, severity)."""
    if view is None:
        return []
    counts = Counter((i.campaign, i.severity.value) for i in view.incidents if i.open)
    return [(campaign, severity, n) for (campaign, severity), n in sorted(counts.items())]


class AlertRuntime:
    """The engine and the outbox, run while this instance leads."""

    def __init__(
        self,
        *,
        rules: AlertRules,
        store: AlertStore,
        snapshots: SnapshotStore[Snapshot],
        view_store: SnapshotStore[AlertView],
        client: VicidialClient,
        clock: Callable[[], datetime],
        history_days: int,
        slack: SlackSender | None,
        on_notification: Callable[[str], None] = lambda _outcome: None,
        on_pause: Callable[[str, str], None] = lambda _campaign, _outcome: None,
    ) -> None:
        self._store = store
        self._view_store = view_store
        self._slack = slack
        self.outbox = Outbox(store, slack, classify=classify_slack_error, observe=on_notification)

        async def publish_view(view: AlertView) -> None:
            await view_store.publish(view)

        async def pauser(campaign: str) -> tuple[str, str]:
            return await pause_campaign(client, campaign)

        self.engine = AlertEngine(
            latest=snapshots.latest,
            store=store,
            rules=RulesPolicy(rules),
            history_days=history_days,
            clock=clock,
            publish_view=publish_view,
            wake_outbox=self.outbox.wake,
            pause_rule=pause_rule(rules),
            pauser=pauser,
            observe_pause=on_pause,
        )
        self._unsubscribe = snapshots.subscribe(lambda _snapshot: self.engine.wake())

    async def open(self) -> None:
        """Open the durable store (every instance: followers read nothing from it, but the
        leader needs it the moment it leads)."""
        await self._store.start()

    async def lead(self) -> None:
        """This instance leads: evaluate and deliver."""
        await self.engine.start()
        await self.outbox.start()

    async def follow(self) -> None:
        """Another instance leads (or we are stopping): neither evaluate nor send."""
        await self.engine.stop()
        await self.outbox.stop()

    async def close(self) -> None:
        await self.follow()
        self._unsubscribe()
        if self._slack is not None:
            await self._slack.aclose()
        await self._store.close()
