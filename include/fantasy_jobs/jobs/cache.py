"""cache_cleanup: expired `cache_entries` rows, deleted in bounded batches, with statistics."""

from __future__ import annotations

import time

from sqlalchemy import delete, func, select

from fantasy_jobs import settings
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import CacheEntry


def cache_statistics(engine, now) -> dict[str, int]:
    """Entries in the cache table: total, expired at `now`, without expiry."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                func.count(),
                func.count().filter(CacheEntry.expires_at < now),
                func.count().filter(CacheEntry.expires_at.is_(None)),
            )
        ).one()
    return {"total": row[0], "expired": row[1], "no_expiry": row[2]}


def delete_expired_entries(ctx: JobContext, batch_size: int) -> int:
    """Delete rows expired at ctx.now, `batch_size` at a time, each batch its own transaction."""
    done, started = 0, time.monotonic()
    expired_ids = select(CacheEntry.id).where(CacheEntry.expires_at < ctx.now).limit(batch_size)
    while True:
        with ctx.engine.begin() as conn:
            deleted = conn.execute(
                delete(CacheEntry).where(CacheEntry.id.in_(expired_ids.scalar_subquery()))
            ).rowcount
        done += deleted
        if deleted:
            rate = done / max(time.monotonic() - started, 1e-6)
            ctx.log.info("cache_entries: %d expired rows deleted so far (%.0f rows/s)", done, rate)
        if deleted < batch_size:
            return done


def cache_cleanup(ctx: JobContext) -> JobResult:
    """Expired rows of `cache_entries` deleted (the Redis part comes with the fantasy_redis connection)."""
    batch_size = settings.get("cache_batch_size") or 1
    before = cache_statistics(ctx.engine, ctx.now)
    ctx.log.info(
        "cache_entries before: %(total)d rows, %(expired)d expired, %(no_expiry)d without expiry", before
    )
    if ctx.dry_run:
        summary = f"dry run: would delete {before['expired']} expired cache_entries rows of {before['total']}"
        ctx.log.info(summary)
        return JobResult(before["expired"], summary, {"before": before})
    deleted = delete_expired_entries(ctx, batch_size)
    after = cache_statistics(ctx.engine, ctx.now)
    summary = f"deleted {deleted} expired cache_entries rows; {after['total']} remain"
    return JobResult(deleted, summary, {"before": before, "after": after, "batch_size": batch_size})
