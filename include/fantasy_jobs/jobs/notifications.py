"""process_notifications: deliver the due notifications, at most once per claim, never losing one.

Rows are claimed in batches with one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
RETURNING (PostgreSQL; on SQLite the statement alone is atomic, one writer at a time), which marks
them `sending` with `claimed_at` (the database's clock at the claim on PostgreSQL: it is also this claim's token).
Due means: `pending` or `failed` whose `next_attempt_at` has passed, or `sending` whose claim is
older than the lease (its worker died). The claim walks the partial index `ix_notifications_queue`
(live rows only), so its cost does not grow with the sent rows kept for 30 days.

In-app notifications need nothing sent: due ones are marked `sent` set-based first, a batch of
`notification_in_app_batch_size` per statement, without a claim. Delivery of the others is an HTTP
POST to the app's webhook with an `Idempotency-Key` header equal to the notification id, made on one
event loop (aiohttp on uvloop) over a keep-alive pool of `notification_concurrency` connections: a
thread per request and a new connection per request were what held the old path under a thousand a
second. Before every POST the run checks its time budget and what is left of the claim's lease (the
request timeout must fit in it, with a margin to record the outcome); a row that cannot start is
released to the queue. Outcomes are committed by one database thread as deliveries end (all that
end during one commit go in the next, one transaction), each conditional on the row still carrying
this claim's token, and a delivery's slot is freed only once its outcome is committed: at any moment
at most `notification_concurrency` deliveries are unconfirmed. When a commit fails (the database is
gone) no further POST starts and the run fails; the unconfirmed rows stay `sending` and return after
the lease, under the same Idempotency-Key. Success: `sent` with `sent_at`. Failure: `attempts` + 1, `last_error`, an
exponential backoff, and `dead` after the last attempt; each run that marks rows dead sends one
Slack message.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import uvloop
from sqlalchemy import Connection, bindparam, text

from fantasy_jobs import settings
from fantasy_jobs.alerts import dead_notifications_message, send_slack
from fantasy_jobs.errors import ConfigError
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import UtcDateTime, utcnow
from fantasy_jobs.webhook_client import WebhookClient, WebhookError

WEBHOOK_CONN_ID = "fantasy_app_webhook"
MAX_BACKOFF = timedelta(hours=6)
DEAD_EXAMPLES = 5  # last errors quoted in the Slack message
PROGRESS_SECONDS = 5.0  # a progress line at most this often

SENT, RETRY, RELEASED = "sent", "retry", "released"
USER_AGENT = "fantasy-jobs notifications"


def webhook_url() -> str | None:
    """The app's webhook URL from the `fantasy_app_webhook` connection: its host when that is a whole
    URL (the documented form), else built from its parts. In a URI connection
    (`http://app:8000/hooks/notify`) Airflow puts the path in `schema`: it is kept as the path
    (`http` or `https` there is the HTTP hook's scheme convention)."""
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(WEBHOOK_CONN_ID)
    except Exception:
        return None
    host = conn.host or ""
    if "://" in host:
        return host
    path = (conn.extra_dejson or {}).get("path", "")
    if conn.schema in ("http", "https"):
        scheme = conn.schema
    else:
        scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
        if conn.schema and not path:
            path = "/" + conn.schema.lstrip("/")
    port = f":{conn.port}" if conn.port else ""
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


def due_sql(dialect: str) -> str:
    """Rows due now: pending or failed and due, or claimed longer ago than the lease. On PostgreSQL
    the lease is measured on the database's clock (`now()`), never a worker's: a worker whose clock
    runs ahead would otherwise take claims another worker is still delivering. (SQLite: one
    machine, one clock.)"""
    expired = (
        "claimed_at < now() - make_interval(secs => :lease_seconds)"
        if dialect == "postgresql"
        else "claimed_at < :lease_cutoff"
    )
    return f"""
    (status IN ('pending', 'failed') AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
    OR (status = 'sending' AND {expired})
"""


def lease_params(dialect: str, lease: timedelta) -> dict:
    """The bind values of `due_sql`'s lease test for `dialect`."""
    if dialect == "postgresql":
        return {"lease_seconds": lease.total_seconds()}
    return {"lease_cutoff": utcnow() - lease}


def _lease_binds(dialect: str) -> list:
    if dialect == "postgresql":
        return [bindparam("lease_seconds")]
    return [bindparam("lease_cutoff", type_=UtcDateTime())]


def claim_statement(dialect: str):
    """Claim up to :batch due rows; the OR of two live statuses is served by ix_notifications_queue.

    `:after` is the highest id this run has claimed: the scan starts past the rows it has already
    handled, whose dead index entries would otherwise be walked again by every claim (a run makes
    one last pass from 0 for rows that came due behind it).
    Each row comes back with its webhook body built by the database (`body`, JSON text; NULL when
    the stored payload is not JSON, which only SQLite's text column can hold)."""
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    if dialect == "postgresql":
        body = (
            "CAST(json_build_object('id', id, 'user_id', user_id, 'kind', kind, 'payload', payload) AS TEXT)"
        )
    else:
        body = (
            "CASE WHEN json_valid(payload) THEN json_object('id', id, 'user_id', user_id, 'kind', kind, "
            "'payload', json(payload)) END"
        )
    # the claim's time is also its token: the database's clock on PostgreSQL (returned), the worker's on SQLite
    claimed = "now()" if dialect == "postgresql" else ":claimed_at"
    statement = text(f"""
        UPDATE notifications SET status = 'sending', claimed_at = {claimed}
        WHERE id IN (
            SELECT id FROM notifications
            WHERE status IN ('pending', 'failed', 'sending') AND ({due_sql(dialect)}) AND id > :after
            ORDER BY id LIMIT :batch{lock})
        RETURNING id, user_id, kind, attempts, {body} AS body, claimed_at
    """).bindparams(bindparam("now", type_=UtcDateTime()), *_lease_binds(dialect))
    if dialect != "postgresql":
        statement = statement.bindparams(bindparam("claimed_at", type_=UtcDateTime()))
    return statement.columns(claimed_at=UtcDateTime())


def in_app_statement(dialect: str):
    """Mark up to :batch due in-app rows sent in one statement: nothing is sent for them (the app
    shows them from the table), so they need no claim, and a batch is one short transaction."""
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return text(f"""
        UPDATE notifications SET status = 'sent', sent_at = :now, claimed_at = NULL, last_error = NULL
        WHERE id IN (
            SELECT id FROM notifications
            WHERE status IN ('pending', 'failed', 'sending') AND kind = 'in_app' AND ({due_sql(dialect)})
            ORDER BY id LIMIT :batch{lock})
    """).bindparams(bindparam("now", type_=UtcDateTime()), *_lease_binds(dialect))


def walk_queue_in_id_order(conn) -> None:
    """Keep a claim on the ordered walk of ix_notifications_queue, whatever the statistics say.

    Measured: after a burst lands between two ANALYZEs (the night's notifications), the planner
    expects a handful of due rows, picks a bitmap scan and sorts every due row to return 100, which
    made each claim cost 15-20 ms at 50,000 due rows (2.5 ms walking the index). Sorting is turned
    off for the claim's own transaction only (SET LOCAL)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_sort = off")


def mark_in_app_sent(ctx: JobContext, lease: timedelta, budget_end: float) -> int:
    """Every due in-app notification marked sent, set-based, `notification_in_app_batch_size` rows a
    transaction, until none is left or the time budget is spent; returns how many."""
    statement = in_app_statement(ctx.engine.dialect.name)
    batch = max(1, settings.get("notification_in_app_batch_size"))
    done = 0
    while time.monotonic() < budget_end:
        with ctx.engine.begin() as conn:
            walk_queue_in_id_order(conn)
            marked = conn.execute(
                statement, {"now": ctx.now, "batch": batch, **lease_params(conn.dialect.name, lease)}
            ).rowcount
        done += marked
        if marked:
            ctx.log.info("in-app: %d marked sent so far", done)
        if marked < batch:
            break
    return done


def count_due(conn, now: datetime, lease: timedelta) -> int:
    dialect = conn.dialect.name
    return conn.execute(
        text(
            f"SELECT count(*) FROM notifications WHERE status IN ('pending', 'failed', 'sending') AND ({due_sql(dialect)})"
        ).bindparams(bindparam("now", type_=UtcDateTime()), *_lease_binds(dialect)),
        {"now": now, **lease_params(dialect, lease)},
    ).scalar()


# Each outcome is written only while the row still carries this claim's token: a claim that was
# lost (lease expired, another worker took the row) never overwrites the new owner's work.
def id_set(dialect: str) -> str:
    """SQL for the set of ids bound as one parameter :ids (an array, or a JSON list on SQLite)."""
    if dialect == "postgresql":
        return "SELECT unnest(CAST(:ids AS BIGINT[]))"
    return "SELECT value FROM json_each(:ids)"


def bind_ids(dialect: str, ids: list[int]) -> Any:
    return ids if dialect == "postgresql" else json.dumps(ids)


def mark_sent_statement(dialect: str):
    """Mark a claim's delivered rows sent: one statement per commit, however many ended."""
    return text(
        "UPDATE notifications SET status = 'sent', sent_at = :now, claimed_at = NULL, last_error = NULL "
        f"WHERE id IN ({id_set(dialect)}) AND status = 'sending' AND claimed_at = :token"
    ).bindparams(bindparam("now", type_=UtcDateTime()), bindparam("token", type_=UtcDateTime()))


def release_statement(dialect: str):
    """Return a claim's rows that never started to the queue, untouched otherwise."""
    return text(
        "UPDATE notifications SET status = CASE WHEN attempts > 0 THEN 'failed' ELSE 'pending' END, "
        f"claimed_at = NULL WHERE id IN ({id_set(dialect)}) AND status = 'sending' AND claimed_at = :token"
    ).bindparams(bindparam("token", type_=UtcDateTime()))


MARK_RETRY = text(
    "UPDATE notifications SET status = :status, attempts = :attempts, last_error = :error, "
    "next_attempt_at = :next, claimed_at = NULL WHERE id = :nid AND status = 'sending' AND claimed_at = :token"
).bindparams(bindparam("next", type_=UtcDateTime()), bindparam("token", type_=UtcDateTime()))


async def deliver(http: WebhookClient | None, row: Any, no_client_reason: str = "") -> str | None:
    """POST one webhook row (the client's timeout bounds it); None when delivered, else the error."""
    if row.kind != "webhook":
        return f"unknown notification kind {row.kind!r}"
    if http is None:
        return no_client_reason or f"no {WEBHOOK_CONN_ID} connection configured"
    if row.body is None:
        return "payload is not JSON"
    try:
        answer = await http.post(row.body.encode(), str(row.id))
    except WebhookError as exc:
        return str(exc)[:500]
    if 200 <= answer.status < 300:
        return None
    return f"HTTP {answer.status} from webhook: {answer.body[:200].decode(errors='replace')}"


@dataclass
class Outcome:
    row: Any
    kind: str  # SENT, RETRY (error set) or RELEASED (never started)
    error: str | None = None
    token: datetime | None = None  # the claim it belongs to


def record(
    conn, outcomes: list[Outcome], token: datetime | None, now: datetime, cfg: QueueSettings
) -> tuple[list[dict], int]:
    """Write `outcomes` of the claim `token` in the open transaction.

    Returns the retry rows and how many outcomes found their row no longer carrying `token` (the
    claim expired and another worker took it: that worker's state is left alone).
    """
    dialect = conn.dialect.name
    sent = [o.row.id for o in outcomes if o.kind == SENT]
    released = [o.row.id for o in outcomes if o.kind == RELEASED]
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
    for statement, params in (
        (mark_sent_statement(dialect), sent and {"ids": bind_ids(dialect, sent), "now": now, "token": token}),
        (MARK_RETRY, retry),
        (release_statement(dialect), released and {"ids": bind_ids(dialect, released), "token": token}),
    ):
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
            due = count_due(conn, now, lease)
        return JobResult(due, f"dry run: {due} notifications are due")
    url = webhook_url()
    if url is None:
        ctx.log.info("no %s connection: webhook notifications will fail and back off", WEBHOOK_CONN_ID)
    delivery = Delivery(ctx, cfg, url, time.monotonic())
    try:
        delivery.totals["sent"] += mark_in_app_sent(ctx, lease, delivery.budget_end)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(delivery.run())  # interrupted, the runner cancels every request still open
        if delivery.stop_reason:
            ctx.log.info("stopped at the %s; unsent rows were returned to the queue", delivery.stop_reason)
    finally:
        if delivery.totals["dead"]:
            send_slack(
                dead_notifications_message(
                    ctx.job.id, delivery.totals["dead"], cfg.max_attempts, delivery.dead_examples
                )
            )
    totals = delivery.totals
    return JobResult(
        totals["sent"] + totals["failed"] + totals["dead"],
        f"{totals['sent']} sent, {totals['failed']} failed (will retry), {totals['dead']} dead, "
        f"{totals['released']} returned to the queue unsent",
        totals,
    )


class Delivery:
    """One run's webhook deliveries, on a private event loop with one keep-alive connection pool.

    The loop claims a batch, starts a POST per row as a slot frees (`notification_concurrency`
    slots: a slot is held from the POST's start until its outcome is committed, so at most that many
    deliveries are ever unconfirmed), and checks the budget and the claim's lease before each start.
    A recorder commits the outcomes that ended while it was busy in one transaction, in one database
    thread that also makes the claims, so the requests go on while the database works.
    """

    def __init__(self, ctx: JobContext, cfg: QueueSettings, url: str | None, started: float) -> None:
        self.ctx, self.cfg, self.url = ctx, cfg, url
        self.budget_end = started + cfg.budget
        self.stop_reason: str | None = None
        self.database_error: BaseException | None = None
        self.totals = {"sent": 0, "failed": 0, "dead": 0, "released": 0}
        self.dead_examples: list[tuple[int, str]] = []
        self.ended: list[Outcome] = []  # outcomes waiting for the recorder
        self.unconfirmed = 0  # deliveries started whose outcome is not committed yet
        self.started = started
        self.last_progress = started

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.slots = asyncio.Semaphore(self.cfg.concurrency)
        self.outcome_ready = asyncio.Event()
        self.closing = False
        self.database = ThreadPoolExecutor(1, thread_name_prefix="notify-db")
        self.conn: Connection | None = None
        self.claim_sql = claim_statement(self.ctx.engine.dialect.name)
        posts: set[asyncio.Task] = set()
        self.http = self.webhook_client()
        recorder = asyncio.create_task(self.record_outcomes())
        try:
            # the next batch is claimed while this one starts: no pause between batches
            after = 0
            claimed: asyncio.Future[tuple[datetime, Sequence[Any], float]] | None
            claimed = self.loop.run_in_executor(self.database, self.claim, after)
            while claimed is not None:
                token, rows, claim_started = await claimed
                more = not self.stop_reason and time.monotonic() < self.budget_end
                if not rows:
                    if after == 0 or not more:
                        break
                    after = 0  # one pass from the start: rows that came due behind this run
                    claimed = self.loop.run_in_executor(self.database, self.claim, after)
                    continue
                after = max(row.id for row in rows)
                claimed = self.loop.run_in_executor(self.database, self.claim, after) if more else None
                lease_end = claim_started + self.cfg.lease - self.cfg.margin
                await self.start_batch(rows, token, lease_end, posts)
            if posts:
                await asyncio.wait(posts)
        finally:
            for post in posts:
                post.cancel()  # only when interrupted: the rows stay `sending` until the lease
            self.closing = True
            self.outcome_ready.set()
            await recorder
            if self.http is not None:
                self.http.close()
            self.database.submit(self.close_connection)
            self.database.shutdown(wait=True)
        if self.database_error is not None:
            raise self.database_error

    def webhook_client(self) -> WebhookClient | None:
        self.no_client_reason = f"no {WEBHOOK_CONN_ID} connection configured"
        if not self.url:
            return None
        try:
            return WebhookClient(self.url, self.cfg.timeout, USER_AGENT)
        except ValueError as exc:
            self.no_client_reason = f"{WEBHOOK_CONN_ID}: {exc}"
            self.ctx.log.error("%s: webhook notifications will fail and back off", self.no_client_reason)
            return None

    def connection(self) -> Connection:
        """The database thread's one connection, kept for the run: no checkout or ping per commit."""
        if self.conn is None:
            self.conn = self.ctx.engine.connect()
        return self.conn

    def close_connection(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def claim(self, after: int) -> tuple[datetime, Sequence[Any], float]:
        """Runs in the database thread: claim up to a batch of due rows past id `after`, under a fresh token."""
        started = time.monotonic()
        token = utcnow()
        conn = self.connection()
        lease = timedelta(seconds=self.cfg.lease)
        with conn.begin():
            walk_queue_in_id_order(conn)
            rows = conn.execute(
                self.claim_sql,
                {
                    "now": self.ctx.now,
                    "claimed_at": token,
                    "batch": self.cfg.batch,
                    "after": after,
                    **lease_params(conn.dialect.name, lease),
                },
            ).all()
        if rows:  # PostgreSQL: the database's time of the claim; SQLite: `token` itself
            token = rows[0].claimed_at
        return token, rows, started

    async def start_batch(self, rows: Sequence[Any], token: datetime, lease_end: float, posts: set) -> None:
        """Start a POST per webhook row as slots free; the rows that may not start are released."""
        for row in rows:
            if row.kind == "in_app":  # claimed beside webhooks: nothing to send
                self.finish(Outcome(row, SENT, token=token))
                continue
            await self.slots.acquire()
            now = time.monotonic()
            lease_left = lease_end - now
            if not self.stop_reason and (now >= self.budget_end or lease_left < self.cfg.timeout):
                self.stop_reason = "time budget" if now >= self.budget_end else "lease"
            if self.stop_reason:
                self.slots.release()
                self.finish(Outcome(row, RELEASED, token=token))
                continue
            self.unconfirmed += 1
            post = asyncio.create_task(self.post(row, token))
            posts.add(post)
            post.add_done_callback(posts.discard)

    async def post(self, row: Any, token: datetime) -> None:
        try:
            error = await deliver(self.http, row, self.no_client_reason)
        except Exception as exc:  # one bad row never stops the others
            error = f"{type(exc).__name__}: {exc}"[:500]
        self.finish(Outcome(row, SENT if error is None else RETRY, error, token))

    def finish(self, outcome: Outcome) -> None:
        self.ended.append(outcome)
        self.outcome_ready.set()

    async def record_outcomes(self) -> None:
        """Commit the ended outcomes as they come, all that ended during one commit in the next."""
        while True:
            await self.outcome_ready.wait()
            self.outcome_ready.clear()
            if self.ended and self.database_error is None:
                outcomes, self.ended = self.ended, []
                try:
                    retry, lost = await self.loop.run_in_executor(self.database, self.write, outcomes)
                except Exception as exc:  # the database is gone (or a bug): nothing more can be confirmed
                    self.database_lost(exc)
                    continue
                self.count(outcomes, retry, lost)
            if self.closing and (not self.ended or self.database_error is not None):
                return

    def write(self, outcomes: list[Outcome]) -> tuple[list[dict], int]:
        """Runs in the database thread: every outcome of `outcomes` in one transaction, per claim token."""
        retry: list[dict] = []
        lost = 0
        conn = self.connection()
        with conn.begin():
            for token in dict.fromkeys(o.token for o in outcomes):
                claim_retry, claim_lost = record(
                    conn, [o for o in outcomes if o.token == token], token, self.ctx.now, self.cfg
                )
                retry += claim_retry
                lost += claim_lost
        return retry, lost

    def database_lost(self, exc: Exception) -> None:
        """No POST starts any more; the rows whose outcome is unrecorded stay `sending` until the lease."""
        self.database_error = exc
        self.stop_reason = "database"
        for _ in range(self.cfg.concurrency):
            self.slots.release()  # wake the claim loop: it sees the stop and releases the rest
        self.ctx.log.error(
            "the database cannot record outcomes: delivery stopped; about %d delivered notification(s) "
            "stay 'sending' and are sent again after the lease with the same Idempotency-Key",
            self.unconfirmed,
        )

    def count(self, outcomes: list[Outcome], retry: list[dict], lost: int) -> None:
        for o in outcomes:
            if o.kind != RELEASED and o.row.kind != "in_app":
                self.unconfirmed -= 1
                self.slots.release()  # its delivery is confirmed: another may start
        if lost > 0:
            self.ctx.log.warning(
                "%d outcome(s) not recorded: their claim expired and another worker took the row", lost
            )
        self.totals["sent"] += sum(o.kind == SENT for o in outcomes)
        self.totals["released"] += sum(o.kind == RELEASED for o in outcomes)
        for r in retry:
            self.totals[r["status"]] += 1
            if r["status"] == "dead":
                self.dead_examples.append((r["nid"], r["error"]))
                del self.dead_examples[:-DEAD_EXAMPLES]  # keep the last few
        if time.monotonic() - self.last_progress >= PROGRESS_SECONDS or self.closing:
            self.log_progress()

    def log_progress(self) -> None:
        self.last_progress = time.monotonic()
        done = sum(self.totals.values()) - self.totals["released"]
        self.ctx.log.info(
            "%d sent, %d failed, %d dead, %d returned unsent so far (%.0f a second)",
            self.totals["sent"],
            self.totals["failed"],
            self.totals["dead"],
            self.totals["released"],
            done / max(self.last_progress - self.started, 1e-3),
        )
