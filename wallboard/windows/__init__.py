"""Drop-window maths: the one place every reader and the poller take drop figures from.

Pure (numbers and instants in, numbers out; no clock, no I/O), so a campaign can never be amber
on the TV, green in Grafana and silent in Slack at the same time:

* :mod:`.grading`: the window type, drops remaining and the severity grade;
* :mod:`.names`: the window names, labels and formulas;
* :mod:`.period`: the rolling 30 days and the regulatory 30-day period, as of any day;
* :mod:`.pacing`: the 15-minute and one-hour windows from observed counter deltas;
* :mod:`.ofcom`: the UK Ofcom calendar-day rate;
* :mod:`.forecast`: today's ratio projected to the end of the shift.
"""

from wallboard.windows.grading import (
    DropWindow,
    Severity,
    Thresholds,
    WindowFigures,
    drops_remaining,
    figures,
    grade_all,
    past_days_by_campaign,
    rolling,
    severity,
    total,
)

__all__ = [
    "DropWindow",
    "Severity",
    "Thresholds",
    "WindowFigures",
    "drops_remaining",
    "figures",
    "grade_all",
    "past_days_by_campaign",
    "rolling",
    "severity",
    "total",
]
