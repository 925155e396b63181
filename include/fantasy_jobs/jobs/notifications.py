"""process_notifications: deliver the due notifications, at most once per claim, never losing one.

Rows are claimed in batches with one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING (PostgreSQL; on SQLite the statement alone is atomic, one writer at a time), which marks
them `sending` with `claimed_at` (the wall clock at the claim: it is also this claim's token).
Due means: `pending` or `failed` whose `next_attempt_at` has passed, or `sending` whose claim is
older than the lease (its worker died). The claim walks the partial index `ix_notifications_queue`
(live rows only), so its cost does not grow with the sent rows kept for 30 days.

In-app notifications need nothing sent: due ones are marked `sent` set-based first, a batch of
`notification_in_app_batch_size` per statement, without a claim. Delivery of the others is an HTTP POST to the app's webhook with an
`Idempotency-Key` header equal to the notification id, from a pool of `notification_concurrency`
threads sharing one connection pool. Before every POST the run checks its time budget and what is
left of the claim's lease (the request timeout must fit in it, with a margin to record the
outcome); a row that cannot start is released to the queue. Outcomes are committed by the main
thread as soon as deliveries end (those that end during one commit go in the next), each
conditional on the row still carrying this claim's token, and a thread starts its next POST only
once its previous outcome is committed: at any moment at most `notification_concurrency` deliveries
are unconfirmed. When a commit fails (the database is gone) no further POST starts and the run
fails; the unconfirmed rows stay `sending` and return after the lease, under the same
Idempotency-Key. Success: `sent` with `sent_at`. Failure: `attempts` + 1, `last_error`, an
exponential backoff, and `dead` after the last attempt; each run that marks rows dead sends one
Slack message.
"""

from __future__ import annotations

import json
import math
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from fantasy_jobs import settings
from fantasy_jobs.alerts import dead_notifications_message, send_slack
from fantasy_jobs.errors import ConfigError
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import UtcDateTime, utcnow

WEBHOOK_CONN_ID = "fantasy_app_webhook"
MAX_BACKOFF = timedelta(hours=6)
DEAD_EXAMPLES = 5  # last errors quoted in the Slack message

SENT, RETRY, RELEASED = "sent", "retry", "released"


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


@dataclass(frozen=True)
class QueueSettings:
    batch: int
    lease: float  # seconds
    max_attempts: int
    backoff: timedelta
    budget: float  # seconds
    timeout: float  # seconds, per request
    concurrency: int

    @property
    def margin(self) -> float:
        """Lease time kept back after a request's timeout to commit its outcome."""
        return min(5.0, 0.05 * self.lease)


def queue_settings(job_timeout: timedelta | None = None) -> QueueSettings:
    """The queue's settings, checked: a run must never outlive the claims it holds (ConfigError)."""
    cfg = QueueSettings(
        batch=settings.get("notification_batch_size"),
        lease=float(settings.get("notification_lease_seconds")),
        max_attempts=settings.get("notification_max_attempts") or 1,
        backoff=timedelta(seconds=settings.get("notification_backoff_seconds")),
        budget=float(settings.get("notification_time_budget_seconds")),
        timeout=float(settings.get("notification_request_timeout_seconds")),
        concurrency=settings.get("notification_concurrency"),
    )
    for name, value in (
        ("notification_batch_size", cfg.batch),
        ("notification_concurrency", cfg.concurrency),
        ("notification_lease_seconds", cfg.lease),
        ("notification_time_budget_seconds", cfg.budget),
        ("notification_request_timeout_seconds", cfg.timeout),
    ):
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"setting {name} must be a positive number, got {value!r}")
    if cfg.budget + cfg.timeout > cfg.lease:
        raise ConfigError(
            f"notification_time_budget_seconds ({cfg.budget:g}) + notification_request_timeout_seconds "
            f"({cfg.timeout:g}) = {cfg.budget + cfg.timeout:g} s exceeds notification_lease_seconds "
            f"({cfg.lease:g}): a delivery could still be running when its claim expires and another worker "
            "sends the same notification again; lower the budget or the timeout, or raise the lease"
        )
    if job_timeout is not None and cfg.budget + cfg.timeout >= job_timeout.total_seconds():
        raise ConfigError(
            f"notification_time_budget_seconds ({cfg.budget:g}) + notification_request_timeout_seconds "
            f"({cfg.timeout:g}) must stay under the task's execution timeout "
            f"({job_timeout.total_seconds():g} s), or the task is killed mid-delivery"
        )
    return cfg


DUE = """
    (status IN ('pending', 'failed') AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
    OR (status = 'sending' AND claimed_at < :lease_cutoff)
"""


def claim_statement(dialect: str):
    """Claim up to :batch due rows; the OR of two live statuses is served by ix_notifications_queue."""
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return text(f"""
        UPDATE notifications SET status = 'sending', claimed_at = :claimed_at
        WHERE id IN (
            SELECT id FROM notifications
            WHERE status IN ('pending', 'failed', 'sending') AND ({DUE})
            ORDER BY id LIMIT :batch{lock})
        RETURNING id, user_id, kind, payload, attempts
    """).bindparams(
        bindparam("now", type_=UtcDateTime()),
        bindparam("lease_cutoff", type_=UtcDateTime()),
        bindparam("claimed_at", type_=UtcDateTime()),
    )


def in_app_statement(dialect: str):
    """Mark up to :batch due in-app rows sent in one statement: nothing is sent for them (the app
    shows them from the table), so they need no claim, and a batch is one short transaction."""
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return text(f"""
        UPDATE notifications SET status = 'sent', sent_at = :now, claimed_at = NULL, last_error = NULL
        WHERE id IN (
            SELECT id FROM notifications
            WHERE status IN ('pending', 'failed', 'sending') AND kind = 'in_app' AND ({DUE})
            ORDER BY id LIMIT :batch{lock})
    """).bindparams(
        bindparam("now", type_=UtcDateTime()),
        bindparam("lease_cutoff", type_=UtcDateTime()),
    )


def mark_in_app_sent(ctx: JobContext, lease: timedelta, budget_end: float) -> int:
    """Every due in-app notification marked sent, set-based, `notification_in_app_batch_size` rows a
    transaction, until none is left or the time budget is spent; returns how many."""
    statement = in_app_statement(ctx.engine.dialect.name)
    batch = max(1, settings.get("notification_in_app_batch_size"))
    done = 0
    while time.monotonic() < budget_end:
        with ctx.engine.begin() as conn:
            marked = conn.execute(
                statement, {"now": ctx.now, "lease_cutoff": utcnow() - lease, "batch": batch}
            ).rowcount
        done += marked
        if marked:
            ctx.log.info("in-app: %d marked sent so far", done)
        if marked < batch:
            break
    return done


def count_due(conn, now: datetime, lease_cutoff: datetime) -> int:
    return conn.execute(
        text(
            f"SELECT count(*) FROM notifications WHERE status IN ('pending', 'failed', 'sending') AND ({DUE})"
        ).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("lease_cutoff", type_=UtcDateTime())),
        {"now": now, "lease_cutoff": lease_cutoff},
    ).scalar()


# Each outcome is written only while the row still carries this claim's token: a claim that was
# lost (lease expired, another worker took the row) never overwrites the new owner's work.
MARK_SENT = text(
    "UPDATE notifications SET status = 'sent', sent_at = :now, claimed_at = NULL, last_error = NULL "
    "WHERE id = :nid AND status = 'sending' AND claimed_at = :token"
).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("token", type_=UtcDateTime()))
MARK_RETRY = text(
    "UPDATE notifications SET status = :status, attempts = :attempts, last_error = :error, "
    "next_attempt_at = :next, claimed_at = NULL WHERE id = :nid AND status = 'sending' AND claimed_at = :token"
).bindparams(bindparam("next", type_=UtcDateTime()), bindparam("token", type_=UtcDateTime()))
RELEASE = text(
    "UPDATE notifications SET status = CASE WHEN attempts > 0 THEN 'failed' ELSE 'pending' END, "
    "claimed_at = NULL WHERE id = :nid AND status = 'sending' AND claimed_at = :token"
).bindparams(bindparam("token", type_=UtcDateTime()))


def deliver(http: httpx.Client | None, url: str | None, row: Any, timeout: float | None = None) -> str | None:
    """None when delivered, else the error."""
    if row.kind == "in_app":
        return None  # the app shows it from the table: nothing to send
    if row.kind != "webhook":
        return f"unknown notification kind {row.kind!r}"
    if not url or http is None:
        return f"no {WEBHOOK_CONN_ID} connection configured"
    try:
        payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload or "{}")
    except ValueError as exc:
        return f"payload is not JSON: {exc}"[:500]
    try:
        response = http.post(
            url,
            json={"id": row.id, "user_id": row.user_id, "kind": row.kind, "payload": payload},
            headers={"Idempotency-Key": str(row.id)},
            **({"timeout": httpx.Timeout(timeout)} if timeout is not None else {}),
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code} from webhook: {response.text[:200]}"


@dataclass
class Outcome:
    row: Any
    kind: str  # SENT, RETRY (error set) or RELEASED (never started)
    error: str | None = None


class Delivery:
    """One run's delivery gates: the budget and lease checked before each POST, the unconfirmed-delivery slots."""

    def __init__(self, cfg: QueueSettings, url: str | None, http: httpx.Client, started: float) -> None:
        self.cfg, self.url, self.http = cfg, url, http
        self.budget_end = started + cfg.budget
        self.stop = threading.Event()  # set when the database cannot record outcomes
        self.slots = threading.Semaphore(cfg.concurrency)  # unconfirmed deliveries (in flight or uncommitted)
        self.stop_reason: str | None = None

    def attempt(self, row: Any, lease_end: float) -> Outcome:
        """Runs in a pool thread: POST `row` if the budget and the claim's lease still allow it."""
        while not self.slots.acquire(timeout=0.1):
            if self.stop.is_set():
                return Outcome(row, RELEASED)
        now = time.monotonic()
        lease_left = lease_end - now
        if self.stop.is_set() or now >= self.budget_end or lease_left < self.cfg.timeout:
            self.stop_reason = self.stop_reason or (
                "database" if self.stop.is_set() else "time budget" if now >= self.budget_end else "lease"
            )
            self.slots.release()
            return Outcome(row, RELEASED)
        try:
            error = deliver(self.http, self.url, row, timeout=min(self.cfg.timeout, lease_left))
        except Exception as exc:  # one bad row never stops the others
            error = f"{type(exc).__name__}: {exc}"[:500]
        return Outcome(row, SENT if error is None else RETRY, error)


def record(
    conn, outcomes: list[Outcome], token: datetime, now: datetime, cfg: QueueSettings
) -> tuple[list[dict], int]:
    """Write `outcomes` of the claim `token` in the open transaction.

    Returns the retry rows and how many outcomes found their row no longer carrying `token` (the
    claim expired and another worker took it: that worker's state is left alone).
    """
    sent = [{"nid": o.row.id, "now": now, "token": token} for o in outcomes if o.kind == SENT]
    released = [{"nid": o.row.id, "token": token} for o in outcomes if o.kind == RELEASED]
    retry = []
    for o in outcomes:
        if o.kind != RETRY:
            continue
        attempts = o.row.attempts + 1
        wait_for = min(cfg.backoff * (2 ** (attempts - 1)), MAX_BACKOFF)
        retry.append(
            {
                "nid": o.row.id,
                "attempts": attempts,
                "error": o.error,
                "status": "dead" if attempts >= cfg.max_attempts else "failed",
                "next": now + wait_for,
                "token": token,
            }
        )
    written = 0
    for statement, params in ((MARK_SENT, sent), (MARK_RETRY, retry), (RELEASE, released)):
        if params:
            count = conn.execute(statement, params).rowcount
            written = -1 if count < 0 or written < 0 else written + count  # -1: the driver cannot tell
    return retry, 0 if written < 0 else len(outcomes) - written


def process_notifications(ctx: JobContext) -> JobResult:
    cfg = queue_settings(ctx.job.timeout)
    lease = timedelta(seconds=cfg.lease)
    now = ctx.now  # due-ness, sent_at and backoff follow the run's time; the lease follows the wall clock
    if ctx.dry_run:
        with ctx.engine.connect() as conn:
            due = count_due(conn, now, utcnow() - lease)
        return JobResult(due, f"dry run: {due} notifications are due")
    url = webhook_url()
    if url is None:
        ctx.log.info("no %s connection: webhook notifications will fail and back off", WEBHOOK_CONN_ID)
    totals = {"sent": 0, "failed": 0, "dead": 0, "released": 0}
    dead_examples: list[tuple[int, str]] = []
    started = time.monotonic()
    claim = claim_statement(ctx.engine.dialect.name)
    limits = httpx.Limits(max_connections=cfg.concurrency, max_keepalive_connections=cfg.concurrency)
    headers = {"User-Agent": "fantasy-jobs notifications"}
    pool = ThreadPoolExecutor(cfg.concurrency, thread_name_prefix="notify")
    http = httpx.Client(timeout=cfg.timeout, limits=limits, headers=headers)
    delivery = Delivery(cfg, url, http, started)
    try:
        totals["sent"] += mark_in_app_sent(ctx, lease, delivery.budget_end)
        while time.monotonic() < delivery.budget_end and not delivery.stop_reason:
            claim_started = time.monotonic()
            token = utcnow()
            with ctx.engine.begin() as conn:
                rows = conn.execute(
                    claim,
                    {"now": now, "lease_cutoff": token - lease, "claimed_at": token, "batch": cfg.batch},
                ).all()
            if not rows:
                break
            lease_end = claim_started + cfg.lease - cfg.margin
            run_batch(ctx, delivery, pool, rows, token, lease_end, totals, dead_examples)
        if delivery.stop_reason:
            ctx.log.info("stopped at the %s; unsent rows were returned to the queue", delivery.stop_reason)
    except BaseException:  # a failed commit, a task timeout, SIGTERM: no POST starts any more
        delivery.stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # in-flight requests end within their timeout
        http.close()
        if totals["dead"]:
            send_slack(
                dead_notifications_message(ctx.job.id, totals["dead"], cfg.max_attempts, dead_examples)
            )
    return JobResult(
        totals["sent"] + totals["failed"] + totals["dead"],
        f"{totals['sent']} sent, {totals['failed']} failed (will retry), {totals['dead']} dead, "
        f"{totals['released']} returned to the queue unsent",
        totals,
    )


def run_batch(
    ctx: JobContext,
    delivery: Delivery,
    pool: ThreadPoolExecutor,
    rows: list[Any],
    token: datetime,
    lease_end: float,
    totals: dict[str, int],
    dead_examples: list[tuple[int, str]],
) -> None:
    """Deliver one claimed batch, committing outcomes as deliveries end; raises when a commit fails."""
    outcomes = [Outcome(row, SENT) for row in rows if row.kind == "in_app"]
    pending: set[Future] = {
        pool.submit(delivery.attempt, row, lease_end) for row in rows if row.kind != "in_app"
    }
    while outcomes or pending:
        if outcomes:
            try:
                with ctx.engine.begin() as conn:
                    retry, lost = record(conn, outcomes, token, ctx.now, delivery.cfg)
            except SQLAlchemyError:
                delivery.stop.set()
                wait(pending)
                unconfirmed = sum(o.kind != RELEASED for o in outcomes) + sum(
                    f.result().kind != RELEASED for f in pending
                )
                ctx.log.error(
                    "the database cannot record outcomes: delivery stopped; %d delivered notification(s) "
                    "stay 'sending' and are sent again after the lease with the same Idempotency-Key",
                    unconfirmed,
                )
                raise
            for o in outcomes:
                if o.kind != RELEASED and o.row.kind != "in_app":
                    delivery.slots.release()  # its delivery is confirmed: the thread may start another
            if lost > 0:
                ctx.log.warning(
                    "%d outcome(s) not recorded: their claim expired and another worker took the row", lost
                )
            totals["sent"] += sum(o.kind == SENT for o in outcomes)
            totals["released"] += sum(o.kind == RELEASED for o in outcomes)
            for r in retry:
                totals[r["status"]] += 1
                if r["status"] == "dead":
                    dead_examples.append((r["nid"], r["error"]))
                    del dead_examples[:-DEAD_EXAMPLES]  # keep the last few
            outcomes = []
        if pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            outcomes = [f.result() for f in done]
    ctx.log.info(
        "batch of %d done (totals: %d sent, %d failed, %d dead, %d returned unsent)",
        len(rows),
        totals["sent"],
        totals["failed"],
        totals["dead"],
        totals["released"],
    )
