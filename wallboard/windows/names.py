"""The drop windows by name, with the label and formula every reader shows beside the figure.

A regulator, VICIdial and a supervisor each mean something different by "the drop rate", so a
figure is never shown without saying which one it is. The names are public: the snapshot's
``windows`` keys, the ``window`` label in ``/metrics``, ``[alerts] windows`` and Slack.
"""

from __future__ import annotations

from dataclasses import dataclass

TODAY = "today"
ROLLING_30D = "30d"
PERIOD = "period"
TODAY_OFCOM = "today_ofcom"
PACE_15M = "15m"
PACE_1H = "1h"

#: Every window, in the order readers show them.
WINDOWS: tuple[str, ...] = (TODAY, ROLLING_30D, PERIOD, TODAY_OFCOM, PACE_15M, PACE_1H)

#: Short windows that describe pacing, not the legal position: they never pause a campaign.
PACING_WINDOWS: frozenset[str] = frozenset({PACE_15M, PACE_1H})

#: The nominal span of each pacing window, in seconds.
PACING_SPANS: dict[str, float] = {PACE_15M: 15 * 60.0, PACE_1H: 60 * 60.0}

#: Days in one regulatory period (successive 30-day periods, per the FTC text) and in the
#: rolling window.
PERIOD_DAYS = 30


@dataclass(frozen=True, slots=True)
class WindowLabel:
    """How a window is named on screen and what formula its ratio is."""

    label: str
    formula: str


LABELS: dict[str, WindowLabel] = {
    TODAY: WindowLabel(
        "Today",
        "(DROP + XDROP) / human-answered since the dialer's midnight: VICIdial's own figure",
    ),
    ROLLING_30D: WindowLabel(
        "30 days",
        "drops / human-answered over the last 30 dialer days, today included (rolling)",
    ),
    PERIOD: WindowLabel(
        "Period",
        "drops / human-answered since the start of the current 30-day period "
        "(successive periods from the campaign's period start)",
    ),
    TODAY_OFCOM: WindowLabel(
        "Today (Ofcom)",
        "drops x (1 - agent-answered machine share) / (agent-answered people + those adjusted "
        "drops), calendar day: the UK Ofcom rate",
    ),
    PACE_15M: WindowLabel(
        "Last 15 min",
        "drops / human-answered over the last 15 minutes: pacing, not a legal figure",
    ),
    PACE_1H: WindowLabel(
        "Last hour",
        "drops / human-answered over the last 60 minutes: pacing, not a legal figure",
    ),
}


def default_alerted(*, period_start_configured: bool, uk_ofcom: bool) -> tuple[str, ...]:
    """The windows alerted when ``[alerts] windows`` is not written: ``today`` and ``30d``,
    ``period`` where a ``period_start`` is configured, ``today_ofcom`` in UK mode."""
    windows = [TODAY, ROLLING_30D]
    if period_start_configured:
        windows.append(PERIOD)
    if uk_ofcom:
        windows.append(TODAY_OFCOM)
    return tuple(windows)
