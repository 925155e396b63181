"""cleanup_old_data: old notifications, logs and history deleted; old completed leagues archived.

Each cleanup is its own step, so one failure does not hide the others. Deletes run in id ranges
sized to take about `delete_batch_seconds` each, each its own transaction, with progress in the
log, so no lock is held for long and a killed run simply resumes. Leagues are archived a run at a
time (as many as take about `delete_batch_seconds`), each league's owned rows copied to the archive
tables and removed from the hot tables in the same transaction as its status change. Then VACUUM.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    update,
)

from fantasy_jobs import settings
from fantasy_jobs.batching import delete_in_id_ranges, next_width
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import (
    ARCHIVE_TABLES,
    Base,
    DataQualityResult,
    FantasyTeam,
    IngestLog,
    JobExecution,
    League,
    Notification,
    Player,
    RosterSlot,
    table_of,
    utcnow,
)

CLEANED_TABLES = (
    "notifications",
    "roster_slots",
    "ingest_logs",
    "job_executions",
    "data_quality_results",
    "leagues",
    *ARCHIVE_TABLES,
    *(t.name for t in ARCHIVE_TABLES.values()),
)


@dataclass
class StepOutcome:
    name: str
    rows: int = 0
    error: str | None = None


def batched_delete(
    ctx: JobContext, name: str, table: Table, condition: ColumnElement, batch_size: int
) -> int:
    """Delete the rows matching `condition` in id ranges of about `delete_batch_seconds` each (the
    first `batch_size` ids wide), each batch committed on its own (fantasy_jobs.batching)."""
    with ctx.engine.connect() as conn:  # one scan: how many, and the id span to walk
        total, low, high = conn.execute(
            select(func.count(), func.min(table.c.id), func.max(table.c.id)).where(condition)
        ).one()
    if ctx.dry_run or not total:
        ctx.log.info(
            "%s: %d rows %s", name, total, "would be deleted (dry run)" if ctx.dry_run else "to delete"
        )
        return total
    return delete_in_id_ranges(
        ctx.engine,
        ctx.log,
        name,
        table,
        condition,
        batch_size,
        settings.get("delete_batch_seconds"),
        total,
        (low, high),
    )


ARCHIVE_FIRST_CHUNK = 10


def archive_leagues(ctx: JobContext, cutoff) -> int:
    """Completed leagues older than `cutoff` become `archived`, their league-owned rows moved: a run of
    consecutive due leagues per transaction, as many as take about `delete_batch_seconds`."""
    due = and_(League.status == "completed", League.completed_at < cutoff)
    with ctx.engine.connect() as conn:
        ids = list(conn.execute(select(League.id).where(due).order_by(League.id)).scalars())
    if ctx.dry_run:
        ctx.log.info("archive: %d completed leagues would be archived", len(ids))
        return len(ids)
    target = settings.get("delete_batch_seconds")
    done = archived = 0
    size, best_rate = ARCHIVE_FIRST_CHUNK, 0.0
    while done < len(ids):
        chunk = ids[done : done + size]
        moved = {}
        now = utcnow()
        began = time.monotonic()
        with ctx.engine.begin() as conn:
            # status first (locks the leagues); the rows moved are those of the leagues archived at `now`
            count = conn.execute(
                update(League)
                .where(League.id >= chunk[0], League.id <= chunk[-1], due)
                .values(status="archived", archived_at=now)
            ).rowcount
            leagues = select(League.id).where(
                League.id >= chunk[0],
                League.id <= chunk[-1],
                League.status == "archived",
                League.archived_at == now,
            )
            teams = select(FantasyTeam.id).where(FantasyTeam.league_id.in_(leagues.scalar_subquery()))
            for source, archive in ARCHIVE_TABLES.items():
                hot = Base.metadata.tables[source]
                owned = (
                    hot.c.fantasy_team_id.in_(teams.scalar_subquery())
                    if source == "roster_slots"
                    else hot.c.league_id.in_(leagues.scalar_subquery())
                )
                columns = [c.name for c in hot.columns]
                conn.execute(
                    insert(archive).from_select(
                        [*columns, "archived_at"],
                        select(*hot.columns, literal(now, archive.c.archived_at.type)).where(owned),
                    )
                )
                moved[source] = conn.execute(delete(hot).where(owned)).rowcount
        elapsed = time.monotonic() - began
        done += len(chunk)
        archived += count
        ctx.log.info(
            "archive %d/%d: %d leagues (ids %d to %d) in %.2f s: %s",
            done,
            len(ids),
            count,
            chunk[0],
            chunk[-1],
            elapsed,
            ", ".join(f"{t} {n}" for t, n in moved.items()),
        )
        best_rate = max(best_rate, len(chunk) / max(elapsed, 1e-4))
        size = next_width(size, elapsed, target, best_rate, ARCHIVE_FIRST_CHUNK)
    return archived


def vacuum(ctx: JobContext) -> None:
    """VACUUM (ANALYZE) of the cleaned tables on PostgreSQL, VACUUM on SQLite; outside any transaction.

    Space reclaim is a nicety: a table that cannot be vacuumed is logged, not fatal."""
    statements = (
        [f"VACUUM (ANALYZE) {t}" for t in CLEANED_TABLES]
        if ctx.engine.dialect.name == "postgresql"
        else ["VACUUM"]
    )
    for statement in statements:
        try:
            with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(statement))
        except Exception as exc:
            ctx.log.warning("%s failed: %s", statement, exc)
    ctx.log.info("vacuum done")


def cleanup_old_data(ctx: JobContext) -> JobResult:
    batch = settings.get("cleanup_batch_size") or 1
    now = min(ctx.now, utcnow())  # retention from the real clock: a future --at never deletes young rows
    notes, logs = table_of(Notification), table_of(IngestLog)
    slots, runs, checks = table_of(RosterSlot), table_of(JobExecution), table_of(DataQualityResult)
    orphan = or_(
        not_(exists().where(FantasyTeam.id == slots.c.fantasy_team_id)),
        not_(exists().where(Player.id == slots.c.player_id)),
    )
    history = timedelta(days=settings.get("job_history_retention_days"))
    steps: list[tuple[str, Callable[[], int]]] = [
        (
            "notifications",
            lambda: batched_delete(
                ctx,
                "notifications (sent or dead)",
                notes,
                and_(
                    notes.c.status.in_(("sent", "dead")),
                    notes.c.created_at < now - timedelta(days=settings.get("notification_retention_days")),
                ),
                batch,
            ),
        ),
        (
            "archive_leagues",
            lambda: archive_leagues(ctx, now - timedelta(days=settings.get("league_archive_days"))),
        ),
        (
            "orphaned_roster_slots",
            lambda: batched_delete(ctx, "roster_slots (orphaned)", slots, orphan, batch),
        ),
        (
            "ingest_logs",
            lambda: batched_delete(
                ctx,
                "ingest_logs",
                logs,
                logs.c.started_at < now - timedelta(days=settings.get("ingest_log_retention_days")),
                batch,
            ),
        ),
        (
            "job_executions",
            # never a run still going (its own included): a crashed one is closed as `abandoned` first
            lambda: batched_delete(
                ctx,
                "job_executions",
                runs,
                (runs.c.started_at < now - history) & (runs.c.status != "running"),
                batch,
            ),
        ),
        (
            "data_quality_results",
            lambda: batched_delete(
                ctx, "data_quality_results", checks, checks.c.ran_at < now - history, batch
            ),
        ),
    ]
    outcomes = []
    for name, step in steps:
        try:
            outcomes.append(StepOutcome(name, step()))
        except Exception as exc:  # the other cleanups still run; the job fails at the end
            ctx.log.exception("cleanup step %s failed", name)
            outcomes.append(StepOutcome(name, error=f"{type(exc).__name__}: {exc}"))
    if not ctx.dry_run:
        vacuum(ctx)
    counts = {o.name: o.rows for o in outcomes}
    failed = [o for o in outcomes if o.error]
    if failed:
        raise RuntimeError(
            "cleanup steps failed: "
            + "; ".join(f"{o.name}: {o.error}" for o in failed)
            + f" (done: {counts})"
        )
    verb = "would remove" if ctx.dry_run else "removed"
    summary = f"{verb}: " + ", ".join(f"{name} {rows}" for name, rows in counts.items())
    return JobResult(sum(counts.values()), ("dry run: " if ctx.dry_run else "") + summary, {"counts": counts})
