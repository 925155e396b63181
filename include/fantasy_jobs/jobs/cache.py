"""cache_cleanup: expired `cache_entries` rows in batches sized by time, then leaked keys of the app's Redis cache.

Redis (when the `fantasy_redis` connection exists): SCAN over the app's key prefix (never KEYS),
in pipelined batches; a key without a TTL that nobody has touched for longer than
`redis_idle_seconds` is a leak and is deleted. The job logs the key count, memory and hit ratio
from INFO and publishes an invalidation message so app processes can prune in-process caches.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from fantasy_jobs import settings
from fantasy_jobs.batching import delete_in_id_ranges
from fantasy_jobs.ownership import close_abandoned
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import CacheEntry, table_of, utcnow


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


def expiry_time(ctx: JobContext):
    """Rows expired by then go: the earlier of the run's time and the real clock, so a run with a
    future `--at` never deletes an entry that is still live."""
    return min(ctx.now, utcnow())


def delete_expired_entries(ctx: JobContext, batch_size: int) -> int:
    """Delete rows expired at `expiry_time` in id ranges of about `delete_batch_seconds` each (the
    first `batch_size` ids wide), each batch its own transaction (fantasy_jobs.batching)."""
    table = table_of(CacheEntry)
    return delete_in_id_ranges(
        ctx.engine,
        ctx.log,
        "cache_entries (expired)",
        table,
        table.c.expires_at < expiry_time(ctx),
        batch_size,
        settings.get("delete_batch_seconds"),
    )


REDIS_CONN_ID = "fantasy_redis"


def redis_client():
    """A client for the `fantasy_redis` connection, or None when it is not configured."""
    try:
        from airflow.sdk import BaseHook

        BaseHook.get_connection(REDIS_CONN_ID)
    except Exception:
        return None
    from airflow.providers.redis.hooks.redis import RedisHook

    return RedisHook(redis_conn_id=REDIS_CONN_ID).get_conn()


def redis_statistics(client) -> dict[str, Any]:
    info = client.info()
    hits, misses = info.get("keyspace_hits", 0), info.get("keyspace_misses", 0)
    return {
        "keys": client.dbsize(),
        "used_memory": info.get("used_memory_human"),
        "hit_ratio": round(hits / (hits + misses), 4) if hits + misses else None,
    }


def leaked_keys(client, prefix: str, idle_limit: int, count: int):
    """Yield batches of keys under `prefix` with no TTL and idle longer than `idle_limit` seconds."""
    batch: list = []
    for key in client.scan_iter(match=f"{prefix}*", count=count):
        batch.append(key)
        if len(batch) >= count:
            yield _leaked(client, batch, idle_limit)
            batch = []
    if batch:
        yield _leaked(client, batch, idle_limit)


def _leaked(client, keys: list, idle_limit: int) -> list:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.ttl(key)  # TTL and OBJECT IDLETIME do not touch the key's access time
        pipe.object("idletime", key)
    answers = pipe.execute()
    return [
        key
        for key, ttl, idle in zip(keys, answers[::2], answers[1::2], strict=True)
        if ttl == -1 and idle is not None and idle > idle_limit
    ]


def clean_redis(ctx: JobContext, client) -> dict[str, Any]:
    prefix, idle_limit = settings.get("redis_key_prefix"), settings.get("redis_idle_seconds")
    count = settings.get("redis_scan_count") or 100
    before = redis_statistics(client)
    ctx.log.info("redis before: %(keys)d keys, memory %(used_memory)s, hit ratio %(hit_ratio)s", before)
    found = deleted = 0
    for batch in leaked_keys(client, prefix, idle_limit, count):
        found += len(batch)
        if batch and not ctx.dry_run:
            pipe = client.pipeline(transaction=False)
            for key in batch:
                pipe.unlink(key)
            deleted += sum(pipe.execute())
            ctx.log.info("redis: %d leaked keys deleted so far", deleted)
    after = redis_statistics(client)
    if not ctx.dry_run:
        channel = settings.get("redis_invalidation_channel")
        message = json.dumps(
            {"source": "cache_cleanup", "prefix": prefix, "deleted_keys": deleted, "at": ctx.now.isoformat()}
        )
        receivers = client.publish(channel, message)
        ctx.log.info("published invalidation on %s to %d subscribers", channel, receivers)
    ctx.log.info("redis after: %(keys)d keys, memory %(used_memory)s, hit ratio %(hit_ratio)s", after)
    return {"leaked": found, "deleted": deleted, "before": before, "after": after}


def cache_cleanup(ctx: JobContext) -> JobResult:
    """Expired rows of `cache_entries`, then leaked keys in Redis when `fantasy_redis` is configured."""
    batch_size = settings.get("cache_batch_size") or 1
    abandoned = close_abandoned(ctx.engine, closed_by="cache_cleanup's sweep", dry_run=ctx.dry_run)
    before = cache_statistics(ctx.engine, expiry_time(ctx))
    ctx.log.info(
        "cache_entries before: %(total)d rows, %(expired)d expired, %(no_expiry)d without expiry", before
    )
    if ctx.dry_run:
        deleted, after = before["expired"], before
    else:
        deleted = delete_expired_entries(ctx, batch_size)
        after = cache_statistics(ctx.engine, expiry_time(ctx))
    client = redis_client()
    if client is None:
        ctx.log.info(
            "Redis not configured (no %s connection): only the database cache was cleaned", REDIS_CONN_ID
        )
        redis = None
    else:
        redis = clean_redis(ctx, client)
    verb = "dry run: would delete" if ctx.dry_run else "deleted"
    summary = f"{verb} {deleted} expired cache_entries rows of {before['total']}"
    summary += (
        "; Redis not configured"
        if redis is None
        else f"; {redis['leaked']} leaked Redis keys"
        + ("" if ctx.dry_run else f", {redis['deleted']} deleted")
    )
    rows = deleted + (redis["leaked"] if redis and ctx.dry_run else redis["deleted"] if redis else 0)
    return JobResult(
        rows,
        summary + f"; {len(abandoned)} abandoned job runs {'found' if ctx.dry_run else 'closed'}",
        {
            "before": before,
            "after": after,
            "batch_size": batch_size,
            "redis": redis,
            "abandoned_runs": abandoned,
        },
    )
