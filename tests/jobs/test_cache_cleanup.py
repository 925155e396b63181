"""cache_cleanup (database part): expired rows go, in batches; the rest stays; dry run changes nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from fantasy_jobs.schema import CacheEntry, JobExecution
from tests.support.jobs import count, run_job

NOW = datetime(2026, 6, 29, 12, 0, tzinfo=UTC)


def seed(engine, expired: int, fresh: int, forever: int) -> None:
    rows = (
        [{"key": f"e{n}", "value": "x", "expires_at": NOW - timedelta(minutes=n + 1)} for n in range(expired)]
        + [{"key": f"f{n}", "value": "x", "expires_at": NOW + timedelta(minutes=n + 1)} for n in range(fresh)]
        + [{"key": f"p{n}", "value": "x", "expires_at": None} for n in range(forever)]
    )
    with engine.begin() as conn:
        conn.execute(insert(CacheEntry), rows)


def test_deletes_expired_rows_in_batches(engine, monkeypatch, caplog):
    monkeypatch.setenv("FANTASY_CACHE_BATCH_SIZE", "7")
    seed(engine, expired=23, fresh=5, forever=3)
    caplog.set_level(logging.INFO)
    result = run_job(engine, "cache_cleanup", NOW)
    batches = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("cache_entries (expired):")
    ]
    assert len(batches) >= 2 and "batch of ids [1, 8)" in batches[0]  # id ranges, the first 7 ids wide
    assert result.rows_affected == 23
    assert result.details["before"] == {"total": 31, "expired": 23, "no_expiry": 3}
    assert count(engine, CacheEntry) == 8
    assert count(engine, CacheEntry, CacheEntry.expires_at < NOW) == 0
    with engine.connect() as conn:
        row = conn.execute(select(JobExecution)).one()
    assert (row.status, row.rows_affected, row.trigger) == ("completed", 23, "cli")
    assert row.execution_time_s is not None and row.peak_memory_mb > 0 and row.finished_at >= row.started_at


def test_second_run_changes_nothing(engine):
    seed(engine, expired=4, fresh=2, forever=1)
    assert run_job(engine, "cache_cleanup", NOW).rows_affected == 4
    assert run_job(engine, "cache_cleanup", NOW).rows_affected == 0
    assert count(engine, CacheEntry) == 3


def test_dry_run_reports_and_changes_nothing(engine):
    seed(engine, expired=4, fresh=2, forever=1)
    result = run_job(engine, "cache_cleanup", NOW, dry_run=True)
    assert result.rows_affected == 4 and "would delete 4" in result.summary
    assert count(engine, CacheEntry) == 7
    with engine.connect() as conn:
        assert conn.scalar(select(JobExecution.dry_run)) is True


def test_job_now_is_the_logical_time_not_the_wall_clock(engine):
    seed(engine, expired=3, fresh=3, forever=0)
    # Run "as of" an hour earlier: entries that expired in the last hour were still valid then.
    result = run_job(engine, "cache_cleanup", NOW - timedelta(minutes=2, seconds=30))
    assert result.rows_affected == 1  # only the one that expired 3 minutes before NOW


def test_a_future_at_never_deletes_an_entry_live_by_the_real_clock(engine):
    real = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(CacheEntry),
            [
                {"key": "live", "value": "x", "expires_at": real + timedelta(hours=1)},
                {"key": "gone", "value": "x", "expires_at": real - timedelta(hours=1)},
            ],
        )
    result = run_job(engine, "cache_cleanup", real + timedelta(days=1))
    assert result.rows_affected == 1
    with engine.connect() as conn:
        assert conn.scalars(select(CacheEntry.key)).all() == ["live"]
