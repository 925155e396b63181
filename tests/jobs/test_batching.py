"""Deletes in id ranges sized by time (fantasy_jobs.batching), used by cleanup_old_data and cache_cleanup."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from fantasy_jobs.batching import MIN_WIDTH, delete_in_id_ranges, next_width
from fantasy_jobs.schema import CacheEntry
from tests.support.jobs import count

NOW = datetime(2026, 6, 29, 12, 0, tzinfo=UTC)


def test_width_follows_the_time_target_within_bounds():
    assert next_width(1000, 0.25, 0.5, 10_000, 1000) == 2000  # fast: doubles at most
    assert next_width(1000, 0.001, 0.5, 10_000_000, 1000) == 2000
    assert next_width(4000, 1.0, 0.5, 10_000, 1000) == 2000  # slow: shrinks toward the target
    assert next_width(4000, 60.0, 0.5, 10_000, 1000) == 1000  # at most /4 a step
    assert next_width(150, 9.0, 0.5, 0, 100) == MIN_WIDTH
    assert next_width(10, 9.0, 0.5, 0, 7) == 7  # a first width below MIN_WIDTH is the floor
    # a sparse stretch is fast, but a range never spans more ids than the best rate deletes in the target
    assert next_width(8000, 0.01, 0.5, 4000, 1000) == 2000


def test_clusters_far_apart_are_deleted_in_few_short_batches(engine, caplog):
    expired, fresh = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    rows = []
    for base in (1, 5_000_000):  # two clusters with a gap of millions of ids between them
        for n in range(300):
            rows.append({"id": base + n, "key": f"k{base + n}", "expires_at": expired if n % 3 else fresh})
    with engine.begin() as conn:
        conn.execute(insert(CacheEntry), rows)
    table = CacheEntry.__table__
    caplog.set_level(logging.INFO, logger="batching-test")
    done = delete_in_id_ranges(
        engine, logging.getLogger("batching-test"), "cache", table, table.c.expires_at < NOW, 100, 0.5
    )
    assert done == 400 and count(engine, CacheEntry) == 200
    assert count(engine, CacheEntry, CacheEntry.expires_at < NOW) == 0
    batches = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cache: ")]
    assert 3 <= len(batches) <= 8, batches  # the gap is jumped, not walked 100 ids at a time
    assert "cache: 400 done" in batches[-1]
