"""cache_cleanup, Redis part: only leaked keys (no TTL, idle, under the prefix) go; stats and invalidation."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from tests.support.jobs import run_job

NOW = datetime(2026, 6, 29, 12, 0, tzinfo=UTC)


def test_only_idle_keys_without_ttl_under_the_prefix_are_deleted(engine, redis_conn, monkeypatch):
    monkeypatch.setenv("FANTASY_REDIS_IDLE_SECONDS", "3")
    monkeypatch.setenv("FANTASY_REDIS_SCAN_COUNT", "3")  # several SCAN pages and pipelines
    redis_conn.set("fantasy:leak:1", "x")
    redis_conn.set("fantasy:leak:2", "x")
    redis_conn.set("fantasy:leak:3", "x")
    redis_conn.set("fantasy:with_ttl:idle", "x", ex=3600)
    redis_conn.set("fantasy:fresh", "x")
    redis_conn.set("other_app:leak", "x")
    time.sleep(4.5)  # idle past the limit (the LRU clock has a one-second resolution)
    redis_conn.get("fantasy:fresh")  # touched: not idle any more
    pubsub = redis_conn.pubsub()
    pubsub.subscribe("fantasy:cache:invalidate")
    pubsub.get_message(timeout=1)  # the subscribe confirmation

    dry = run_job(engine, "cache_cleanup", NOW, dry_run=True)
    assert dry.details["redis"]["leaked"] == 3 and redis_conn.dbsize() == 6

    result = run_job(engine, "cache_cleanup", NOW)
    assert sorted(k.decode() for k in redis_conn.keys("*")) == [
        "fantasy:fresh",
        "fantasy:with_ttl:idle",
        "other_app:leak",
    ]
    stats = result.details["redis"]
    assert (stats["leaked"], stats["deleted"], stats["before"]["keys"], stats["after"]["keys"]) == (
        3,
        3,
        6,
        3,
    )
    assert stats["before"]["used_memory"] and 0 <= stats["before"]["hit_ratio"] <= 1
    message = pubsub.get_message(timeout=2)
    assert message and message["type"] == "message"
    assert json.loads(message["data"]) == {
        "source": "cache_cleanup",
        "prefix": "fantasy:",
        "deleted_keys": 3,
        "at": "2026-06-29T08:00:00-04:00",
    }
    pubsub.close()
    assert run_job(engine, "cache_cleanup", NOW).details["redis"]["deleted"] == 0


def test_without_the_connection_redis_is_reported_not_configured(engine, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_FANTASY_REDIS", raising=False)
    result = run_job(engine, "cache_cleanup", NOW)
    assert "Redis not configured" in result.summary and result.details["redis"] is None
