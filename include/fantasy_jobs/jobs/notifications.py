"""process_notifications: deliver the due notifications, each exactly once, whatever runs beside it.

Rows are claimed in batches with one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING (PostgreSQL; on SQLite the statement alone is atomic, one writer at a time), which marks
them `sending` with `claimed_at`. Due means: `pending` or `failed` whose `next_attempt_at` has
passed, or `sending` whose claim is older than the lease (its worker died). Delivery is in-app
(nothing to send) or an HTTP POST to the app's webhook with an `Idempotency-Key` header equal to
the notification id. Success: `sent` with `sent_at`. Failure: `attempts` + 1, `last_error`, an
exponential backoff, and `dead` after the last attempt.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, text

from fantasy_jobs import settings
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import UtcDateTime

WEBHOOK_CONN_ID = "fantasy_app_webhook"
MAX_BACKOFF = timedelta(hours=6)


def webhook_url() -> str | None:
    """The app's webhook URL from the `fantasy_app_webhook` connection (host, or schema://host:port/path)."""
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(WEBHOOK_CONN_ID)
    except Exception:
        return None
    host = conn.host or ""
    if "://" in host:
        return host
    scheme = conn.conn_type if conn.conn_type in ("http", "https") else (conn.schema or "https")
    port = f":{conn.port}" if conn.port else ""
    path = (conn.extra_dejson or {}).get("path", "")
    return f"{scheme}://{host}{port}{path}"


def claim_statement(dialect: str):
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return text(f"""
        UPDATE notifications SET status = 'sending', claimed_at = :now
        WHERE id IN (
            SELECT id FROM notifications
            WHERE (status IN ('pending', 'failed') AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
               OR (status = 'sending' AND claimed_at < :lease_cutoff)
            ORDER BY id LIMIT :batch{lock})
        RETURNING id, user_id, kind, payload, attempts
    """).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("lease_cutoff", type_=UtcDateTime()))


def count_due(conn, now: datetime, lease_cutoff: datetime) -> int:
    return conn.execute(
        text("""
        SELECT count(*) FROM notifications
        WHERE (status IN ('pending', 'failed') AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
           OR (status = 'sending' AND claimed_at < :lease_cutoff)
    """).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("lease_cutoff", type_=UtcDateTime())),
        {"now": now, "lease_cutoff": lease_cutoff},
    ).scalar()


def deliver(http: httpx.Client | None, url: str | None, row: Any) -> str | None:
    """None when delivered, else the error."""
    if row.kind == "in_app":
        return None  # the app shows it from the table: nothing to send
    if row.kind != "webhook":
        return f"unknown notification kind {row.kind!r}"
    if not url or http is None:
        return f"no {WEBHOOK_CONN_ID} connection configured"
    payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload or "{}")
    try:
        response = http.post(
            url,
            json={"id": row.id, "user_id": row.user_id, "kind": row.kind, "payload": payload},
            headers={"Idempotency-Key": str(row.id)},
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code} from webhook: {response.text[:200]}"


def process_notifications(ctx: JobContext) -> JobResult:
    batch = settings.get("notification_batch_size") or 1
    lease = timedelta(seconds=settings.get("notification_lease_seconds"))
    max_attempts = settings.get("notification_max_attempts") or 1
    backoff = timedelta(seconds=settings.get("notification_backoff_seconds"))
    budget = settings.get("notification_time_budget_seconds")
    now = ctx.now
    if ctx.dry_run:
        with ctx.engine.connect() as conn:
            due = count_due(conn, now, now - lease)
        return JobResult(due, f"dry run: {due} notifications are due")
    url = webhook_url()
    if url is None:
        ctx.log.info("no %s connection: webhook notifications will fail and back off", WEBHOOK_CONN_ID)
    sent = failed = dead = 0
    started = time.monotonic()
    claim = claim_statement(ctx.engine.dialect.name)
    with httpx.Client(timeout=10.0, headers={"User-Agent": "fantasy-jobs notifications"}) as http:
        while time.monotonic() - started < budget:
            with ctx.engine.begin() as conn:
                rows = conn.execute(claim, {"now": now, "lease_cutoff": now - lease, "batch": batch}).all()
            if not rows:
                break
            done, retry = [], []
            for row in rows:
                error = deliver(http, url, row)
                if error is None:
                    done.append({"nid": row.id})
                    continue
                attempts = row.attempts + 1
                wait = min(backoff * (2 ** (attempts - 1)), MAX_BACKOFF)
                retry.append(
                    {
                        "nid": row.id,
                        "attempts": attempts,
                        "error": error,
                        "status": "dead" if attempts >= max_attempts else "failed",
                        "next": now + wait,
                    }
                )
            with ctx.engine.begin() as conn:
                if done:
                    conn.execute(
                        text(
                            "UPDATE notifications SET status = 'sent', sent_at = :now, claimed_at = NULL, last_error = NULL "
                            "WHERE id = :nid AND status = 'sending'"
                        ).bindparams(bindparam("now", type_=UtcDateTime())),
                        [{**d, "now": now} for d in done],
                    )
                if retry:
                    conn.execute(
                        text(
                            "UPDATE notifications SET status = :status, attempts = :attempts, last_error = :error, "
                            "next_attempt_at = :next, claimed_at = NULL WHERE id = :nid AND status = 'sending'"
                        ).bindparams(bindparam("next", type_=UtcDateTime())),
                        retry,
                    )
            sent += len(done)
            dead += sum(r["status"] == "dead" for r in retry)
            failed += sum(r["status"] == "failed" for r in retry)
            ctx.log.info(
                "batch of %d: %d sent, %d to retry, %d dead (totals: %d sent)",
                len(rows),
                len(done),
                sum(r["status"] == "failed" for r in retry),
                sum(r["status"] == "dead" for r in retry),
                sent,
            )
    return JobResult(
        sent + failed + dead,
        f"{sent} sent, {failed} failed (will retry), {dead} dead",
        {"sent": sent, "failed": failed, "dead": dead},
    )
