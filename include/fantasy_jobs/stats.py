"""Descriptive statistics for the analytics jobs, in one place, with the same results on every database.

SQLite has no median or standard deviation; rather than two code paths, the jobs fetch the
values (small per group: a player's games, a league's teams) and summarise them here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


def round_half_up(value: float, digits: int) -> float:
    """`value` rounded as it prints, ties away from zero: what PostgreSQL's ROUND gives for the
    double's text, so the SQL and Python paths agree (91.05375 -> 91.0538; round() gives 91.0537
    because the double is a hair below the tie)."""
    if not math.isfinite(value):
        return value
    return float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


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
        mean=round_half_up(statistics.fmean(data), 4),
        median=round_half_up(statistics.median(data), 4),
        stddev=round_half_up(statistics.stdev(data), 4) if len(data) > 1 else None,
    )
