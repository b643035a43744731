"""The client's retries must fit in one poll interval so polls never overlap."""

from __future__ import annotations

import pytest

from wallboard.daemon import retry_budget


@pytest.mark.parametrize(
    ("timeout", "interval", "retries"),
    [(10, 30, 1), (5, 30, 2), (10, 60, 2), (25, 30, 0), (2, 5, 0), (1, 5, 2)],
)
def test_retries_fit_inside_one_poll_interval(
    timeout: float, interval: float, retries: int
) -> None:
    assert retry_budget(timeout, interval) == retries
    # worst case: every attempt times out, plus up to ~2 s of backoff
    assert (retry_budget(timeout, interval) + 1) * timeout <= interval - 2 or retries == 0
