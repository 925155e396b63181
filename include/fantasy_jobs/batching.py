"""Deletes of many rows in short transactions: id ranges sized by time.

One DELETE of a million rows holds its row locks (and bloats one transaction) for its whole run;
batches of a fixed row count that re-select "the next N matching rows" re-scan every row already
deleted (dead until VACUUM), so the job slows down as it goes. Here each batch deletes the matching
rows of one primary-key range `[start, start + width)`, walking the table once in id order; the
width adapts so a batch takes about `delete_batch_seconds`, and never grows past what the best rate
seen so far deletes in that time even if every id in the range matched (a dense stretch after a
sparse one stays short). An empty range jumps straight to the next matching id. Each batch is its
own transaction, so a killed run has lost nothing and the next run resumes from what is left.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import ColumnElement, Engine, Table, delete, func, select

MIN_WIDTH = 100


def next_width(width: int, elapsed: float, target: float, best_rate: float, first_width: int) -> int:
    """The id range of the next batch: scaled toward `target` seconds (at most x2, at least /4 a step),
    capped at what `best_rate` rows/s deletes in `target` seconds, never below MIN_WIDTH (or the
    first width, when that is smaller)."""
    factor = min(2.0, max(0.25, target / max(elapsed, 1e-4)))
    cap = max(first_width, int(best_rate * target))
    return max(min(MIN_WIDTH, first_width), min(int(width * factor), cap))


def delete_in_id_ranges(
    engine: Engine,
    log: logging.Logger | logging.LoggerAdapter,
    name: str,
    table: Table,
    condition: ColumnElement,
    first_width: int,
    target_seconds: float,
    total: int | None = None,
    bounds: tuple[int | None, int | None] | None = None,
) -> int:
    """Delete the rows of `table` matching `condition`, one id range per transaction; returns rows deleted.
    `bounds`: the lowest and highest matching id when the caller already has them."""
    ids = table.c.id
    if bounds is None:
        with engine.connect() as conn:
            bounds = conn.execute(select(func.min(ids), func.max(ids)).where(condition)).one()
    start, last = bounds
    if start is None or last is None:
        return 0
    first_width = max(first_width, 1)
    done, width, best_rate, started = 0, first_width, 0.0, time.monotonic()
    while start is not None and start <= last:
        end = start + width
        began = time.monotonic()
        with engine.begin() as conn:
            deleted = conn.execute(delete(table).where(ids >= start, ids < end, condition)).rowcount
        elapsed = time.monotonic() - began
        done += deleted
        if deleted:
            best_rate = max(best_rate, deleted / max(elapsed, 1e-4))
            left = f"{max(total - done, 0)} left" if total is not None else f"last id {last}"
            log.info(
                "%s: %d done, %s, %.0f rows/s; batch of ids [%d, %d): %d rows in %.2f s",
                name,
                done,
                left,
                done / max(time.monotonic() - started, 1e-6),
                start,
                end,
                deleted,
                elapsed,
            )
            start = end
        else:  # nothing here: go straight to the next matching id
            with engine.connect() as conn:
                start = conn.scalar(select(func.min(ids)).where(ids >= end, ids <= last, condition))
        width = next_width(width, elapsed, target_seconds, best_rate, first_width)
    return done
