"""Descriptive statistics for the analytics jobs, in one place, with the same results on every database.

SQLite has no median or standard deviation; rather than two code paths, the jobs fetch the
values (small per group: a player's games, a league's teams) and summarise them here.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    median: float | None
    stddev: float | None  # sample standard deviation (n - 1); None below 2 values

    @property
    def cv(self) -> float | None:
        """Coefficient of variation: stddev / mean (None when undefined)."""
        if self.stddev is None or not self.mean:
            return None
        return self.stddev / self.mean


def summarize(values: Sequence[float]) -> Summary:
    data = [float(v) for v in values]
    if not data:
        return Summary(0, None, None, None)
    return Summary(
        n=len(data),
        mean=round(statistics.fmean(data), 4),
        median=round(statistics.median(data), 4),
        stddev=round(statistics.stdev(data), 4) if len(data) > 1 else None,
    )
