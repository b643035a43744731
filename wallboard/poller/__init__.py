"""The poller: the only writer of snapshots (see :mod:`wallboard.poller.poller`)."""

from wallboard.poller.plan import BudgetPlan, PollPlan, budget_plan, plan_from_config
from wallboard.poller.poller import HISTORY_JOB, Poller

__all__ = ["HISTORY_JOB", "BudgetPlan", "PollPlan", "Poller", "budget_plan", "plan_from_config"]
