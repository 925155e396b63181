"""Small helpers for job tests: run a job the way the CLI does, count rows, snapshot a table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text

from fantasy_jobs.registry import get_job
from fantasy_jobs.runtime import JobResult, RunRequest, execute


def run_job(engine, job_id: str, now: datetime, *, dry_run: bool = False, full: bool = False) -> JobResult:
    req = RunRequest(
        trigger="cli", logical_time=now, started_at=now, dry_run=dry_run, full=full, check_misfire=False
    )
    return execute(get_job(job_id), req, engine=engine)


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model).where(*where))


def snapshot(engine, table: str) -> list[tuple]:
    """Every row of `table` but its bookkeeping timestamps, in id order."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).mappings().all()
    return [tuple(v for k, v in row.items() if k not in ("updated_at",)) for row in rows]
