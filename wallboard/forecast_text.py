"""The forecast in one sentence a supervisor reads from across the room (TV, API, Slack).

A forecast (:mod:`wallboard.windows.forecast`) carries instants in UTC; the floor lives by the
dialer's clock, so every time here is shown in dialer time (``utc_offset_hours``, the offset in
force when the snapshot was taken). When the dialer's offset is unknown the time is said in UTC,
with the word, rather than passed off as local.

The sentence is about the legal limit, the one figure that matters to a regulator; the warn and
critical crossings are in the API beside it. Pure: the forecast and the offset in, text out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from wallboard.windows.forecast import Crossing, Forecast

__all__ = ["forecast_sentence", "local_clock", "percent"]


def percent(ratio: float) -> str:
    """A threshold as people write it: ``0.03`` → ``"3 %"``, ``0.025`` → ``"2.5 %"``."""
    return f"{round(ratio * 100, 2):g} %"


def local_clock(moment: datetime, utc_offset_hours: float | None) -> str | None:
    """``"HH:MM"`` on the dialer's clock (seconds dropped: a crossing at 14:40:50 is shown as
    14:40, never later than it is), or ``None`` when the dialer's offset is unknown."""
    if utc_offset_hours is None:
        return None
    local = moment + timedelta(hours=utc_offset_hours)
    return f"{local.hour:02d}:{local.minute:02d}"


def _clock_words(moment: datetime, utc_offset_hours: float | None) -> str:
    """The time for a sentence: dialer time, ``midnight`` for 00:00, or ``HH:MM UTC``."""
    local = local_clock(moment, utc_offset_hours)
    if local is None:
        return f"{moment.hour:02d}:{moment.minute:02d} UTC"
    return "midnight" if local == "00:00" else local


def _headline_crossing(forecast: Forecast) -> Crossing | None:
    """The limit's crossing, or (for a forecast without one) the highest threshold's."""
    limit = forecast.crossing("limit")
    if limit is not None:
        return limit
    return max(forecast.crossings, key=lambda crossing: crossing.ratio, default=None)


def forecast_sentence(
    forecast: Forecast, utc_offset_hours: float | None, *, subject: str = ""
) -> str:
    """``"at this pace passes 3 % around 14:40"``, ``"at this pace stays under 3 % until
    21:00"`` or ``"already over 3 %"``; with ``subject="SALES1"``: ``"at this pace SALES1
    passes 3 % around 14:40"``, ``"SALES1 is already over 3 %"``."""
    who = f"{subject} " if subject else ""
    crossing = _headline_crossing(forecast)
    if crossing is None:  # no threshold to speak of: say where the ratio is heading
        return (
            f"at this pace {who}ends near {percent(forecast.ratio_at_horizon)} "
            f"at {_clock_words(forecast.horizon, utc_offset_hours)}"
        )
    threshold = percent(crossing.ratio)
    if crossing.already:
        return f"{subject} is already over {threshold}" if subject else f"already over {threshold}"
    if crossing.at is not None:
        when = _clock_words(crossing.at, utc_offset_hours)
        return f"at this pace {who}passes {threshold} around {when}"
    until = _clock_words(forecast.horizon, utc_offset_hours)
    return f"at this pace {who}stays under {threshold} until {until}"
