"""Runs one job: the gating decision, the tracking row, timing, memory, dry run and logging.

`decide()` says whether a job runs in a given DAG run (cron gating, manual selection, misfire
grace); `execute()` runs it and records one `job_executions` row; `run_task()` is the thin
Airflow adapter the DAGs call. The CLI uses `execute()` directly, so tracking is identical.
"""

from __future__ import annotations

import importlib
import logging
import os
import resource
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fantasy_jobs.errors import InvalidParamsError, JobSkipped
from fantasy_jobs.registry import GROUPS, Job, get_job, jobs_of
from fantasy_jobs.timeutil import to_league

log = logging.getLogger(__name__)

Trigger = Literal["scheduled", "manual", "cli", "event"]  # event: an asset event (the live watcher)
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class RunRequest:
    """Everything about one run of one job that the gating and the tracking need."""

    trigger: Trigger
    logical_time: datetime  # the job's "now" (aware)
    started_at: datetime  # when lateness is measured (aware)
    dry_run: bool = False
    full: bool = False  # recompute everything instead of what changed (jobs that keep track of changes)
    selected: tuple[str, ...] | None = None  # a manual run's `jobs` param
    check_misfire: bool = True  # only real scheduled runs can be late (not backfills, not manual)
    dag_id: str | None = None
    run_id: str | None = None
    try_number: int = 1
    hostname: str | None = None  # the Airflow worker's name for itself (ti.hostname); default: this machine
    task_id: str | None = None  # the Airflow task (with dag_id, run_id, try_number), if any
    events: tuple[dict[str, Any], ...] = ()  # payloads of the asset events that started an event-driven run


@dataclass(frozen=True)
class Decision:
    action: Literal["run", "not_due", "misfire"]
    reason: str
    lateness_s: float | None = None


@dataclass
class JobContext:
    """What a job function receives: its "now" in league time, dry run, the database, a logger."""

    job: Job
    now: datetime
    dry_run: bool
    engine: Any
    log: logging.Logger
    execution_id: int | None = None
    full: bool = False  # `--full` / the DAG's `full` param: recompute everything, not just what changed
    events: tuple[dict[str, Any], ...] = ()  # the watcher's event payloads (live_scoring); () otherwise


def last_completed_start(
    ctx: JobContext, *, full_only: bool = False, within=None, details: dict[str, int] | None = None
) -> datetime | None:
    """When the newest completed (not dry) run of this job started: the watermark of jobs that work
    on what changed since their last run. `full_only`: runs whose details say `full`; `within`
    (a timedelta): only runs started that recently; `details`: runs whose details hold these
    integer values."""
    from sqlalchemy import func, select

    from fantasy_jobs.schema import JobExecution, utcnow

    query = select(func.max(JobExecution.started_at)).where(
        JobExecution.job_id == ctx.job.id,
        JobExecution.status == "completed",
        JobExecution.dry_run.is_(False),
    )
    if full_only:
        query = query.where(JobExecution.details["full"].as_boolean())
    if within is not None:
        query = query.where(JobExecution.started_at > utcnow() - within)
    for key, value in (details or {}).items():
        query = query.where(JobExecution.details[key].as_integer() == value)
    with ctx.engine.connect() as conn:
        return conn.scalar(query)


@dataclass
class JobResult:
    """What a job function returns: rows changed (or that would change, in a dry run) and a summary."""

    rows_affected: int = 0
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def validate_selection(group: str, selected: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """The `jobs` param of a manual run of `group`, checked: known ids of that group, at least one where required."""
    ids = [job.id for job in jobs_of(group)]
    chosen = tuple(selected or ())
    unknown = [job_id for job_id in chosen if job_id not in ids]
    if unknown:
        raise InvalidParamsError(
            f"params.jobs names {', '.join(map(repr, unknown))}, not a job of {GROUPS[group].dag_id}; "
            f"choose from: {', '.join(ids)}"
        )
    if not chosen and GROUPS[group].jobs_required:
        raise InvalidParamsError(
            f"a manual run of {GROUPS[group].dag_id} must select at least one job in params.jobs; "
            f"choose from: {', '.join(ids)}"
        )
    return chosen


def decide(job: Job, req: RunRequest) -> Decision:
    """Whether `job` runs in this run, and why (the reason is logged either way)."""
    if req.trigger == "cli":
        return Decision("run", "run from the command line")
    if req.trigger == "event":
        return Decision("run", f"started by {len(req.events)} asset event(s) of the live watcher")
    if req.trigger == "manual":
        chosen = validate_selection(job.group, req.selected)
        if job.id in chosen:
            return Decision("run", f"selected in a manual run (jobs: {', '.join(chosen)})")
        return Decision("not_due", f"not selected in this manual run (jobs: {', '.join(chosen)})")

    local = to_league(req.logical_time)
    if job.cron is not None:
        from croniter import croniter

        if not croniter.match(job.cron, local):
            return Decision(
                "not_due",
                f"not due: its schedule `{job.cron}` ({job.schedule_text}) does not match this run's "
                f"time {local:%Y-%m-%d %H:%M %Z}",
            )
    if req.check_misfire:
        lateness = (req.started_at - req.logical_time).total_seconds()
        if lateness > job.grace:
            return Decision(
                "misfire",
                f"too late to do work, skipped on purpose (misfire: started {lateness:.0f} s after its "
                f"scheduled time {local:%Y-%m-%d %H:%M %Z}, past its grace of {job.grace} s); nothing "
                "failed: the next scheduled run does the work, so no backlog piles up",
                lateness_s=lateness,
            )
        return Decision("run", f"due at {local:%Y-%m-%d %H:%M %Z} (started {max(lateness, 0):.0f} s after)")
    return Decision("run", f"due at {local:%Y-%m-%d %H:%M %Z}")


def _load(entrypoint: str) -> Callable[[JobContext], JobResult]:
    module_name, _, func_name = entrypoint.partition(":")
    return getattr(importlib.import_module(module_name), func_name)


def _peak_memory_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def _tracking_values(job: Job, req: RunRequest) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "logical_time": req.logical_time,
        "dag_id": req.dag_id,
        "run_id": req.run_id,
        "try_number": req.try_number,
        "trigger": req.trigger,
        "dry_run": req.dry_run,
        "hostname": req.hostname or socket.gethostname(),
        "pid": os.getpid(),
        "task_id": req.task_id,
    }


def record_skip(engine, job: Job, req: RunRequest, decision: Decision) -> int:
    """A `skipped` job_executions row for a misfire (a job that is merely not due writes nothing)."""
    from fantasy_jobs.db import session_scope
    from fantasy_jobs.schema import JobExecution, utcnow

    now = utcnow()
    with session_scope(engine) as session:
        row = JobExecution(
            **_tracking_values(job, req),
            status="skipped",
            started_at=now,
            finished_at=now,
            execution_time_s=0.0,
            rows_affected=0,
            error_message=decision.reason,
            details={"lateness_s": decision.lateness_s},
        )
        session.add(row)
        session.flush()
        return row.id


def execute(job: Job, req: RunRequest, *, engine=None, logger: logging.Logger | None = None) -> JobResult:
    """Run `job` once with tracking: a `running` row first, then `completed`, `failed` or `skipped`.

    First the job's own abandoned rows (owner gone) are closed; the new row names its owner and a
    heartbeat thread keeps it alive until the run ends. A run refused by the job's advisory lock
    is recorded `skipped` naming the run that holds it, and raised as JobSkipped.
    """
    from fantasy_jobs.db import get_engine, session_scope
    from fantasy_jobs.ownership import (
        Heartbeat,
        close_abandoned,
        database_now,
        heartbeat_settings,
        owner_details,
    )
    from fantasy_jobs.schema import JobExecution, utcnow

    logger = logger or logging.getLogger(f"fantasy_jobs.jobs.{job.id}")
    engine = engine or get_engine()
    if req.dry_run and not job.supports_dry_run:
        raise InvalidParamsError(f"{job.id} does not support dry_run")
    heartbeat_s, _ = heartbeat_settings()
    for closed in close_abandoned(engine, job.id, closed_by=f"the next run of {job.id}"):
        logger.warning("%s: closed abandoned execution %s: %s", job.id, closed["id"], closed["reason"])

    beat = database_now(engine)  # the first sign of life, on the clock the sweep compares with
    with session_scope(engine) as session:
        started_at = utcnow()
        row = JobExecution(
            **_tracking_values(job, req),
            status="running",
            started_at=started_at,
            heartbeat_at=beat,
            details=owner_details(beat),  # replaced by the outcome's details when the run ends
        )
        session.add(row)
        session.flush()
        execution_id = row.id
    with Heartbeat(engine, execution_id, heartbeat_s):
        return _run_tracked(job, req, engine, logger, execution_id)


def _run_tracked(job: Job, req: RunRequest, engine, logger: logging.Logger, execution_id: int) -> JobResult:
    """The body of execute() once the `running` row exists and beats."""
    from contextlib import ExitStack

    from sqlalchemy import update

    from fantasy_jobs.db import advisory_lock, session_scope
    from fantasy_jobs.errors import JobAlreadyRunning
    from fantasy_jobs.ownership import owner_text, running_holder
    from fantasy_jobs.schema import JobExecution, utcnow

    def finish(**values: Any) -> None:
        with session_scope(engine) as session:
            session.execute(update(JobExecution).where(JobExecution.id == execution_id).values(**values))

    now = to_league(req.logical_time)
    logger.info(
        "%s: starting (execution %s, now=%s, trigger=%s, dry_run=%s, try %s)",
        job.id,
        execution_id,
        now.isoformat(),
        req.trigger,
        req.dry_run,
        req.try_number,
    )
    started = time.perf_counter()
    try:
        func = _load(job.entrypoint)
        ctx = JobContext(
            job=job,
            now=now,
            dry_run=req.dry_run,
            engine=engine,
            log=logger,
            execution_id=execution_id,
            full=req.full,
            events=req.events,
        )
        with ExitStack() as stack:
            if job.exclusive and not req.dry_run:
                try:
                    stack.enter_context(advisory_lock(engine, f"fantasy_jobs:{job.id}"))
                except JobAlreadyRunning as refused:
                    holder = running_holder(engine, job.id, execution_id)
                    by = owner_text(holder) if holder is not None else "a run without a `running` row"
                    raise JobSkipped(
                        f"{job.id} is already running: its advisory lock is held by {by}"
                    ) from refused
            result = func(ctx)
    except JobSkipped as skip:
        logger.info("%s: skipped: %s", job.id, skip)
        finish(
            status="skipped",
            finished_at=utcnow(),
            execution_time_s=round(time.perf_counter() - started, 3),
            rows_affected=0,
            peak_memory_mb=_peak_memory_mb(),
            error_message=str(skip),
        )
        raise
    except BaseException as exc:  # includes Airflow's task timeout, which is a BaseException
        elapsed = time.perf_counter() - started
        message = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        logger.error("%s: failed after %.1f s: %s", job.id, elapsed, message)
        try:
            finish(
                status="failed",
                finished_at=utcnow(),
                execution_time_s=round(elapsed, 3),
                peak_memory_mb=_peak_memory_mb(),
                error_message=message,
            )
        except Exception:  # the database may be what failed; the original error matters more
            logger.exception("%s: could not record the failure in job_executions", job.id)
        raise
    elapsed = time.perf_counter() - started
    long_running = elapsed > job.expected.total_seconds()
    if long_running:
        logger.warning(
            "%s: long running: took %.1f s, expected under %.0f s",
            job.id,
            elapsed,
            job.expected.total_seconds(),
        )
    finish(
        status="completed",
        finished_at=utcnow(),
        execution_time_s=round(elapsed, 3),
        rows_affected=result.rows_affected,
        peak_memory_mb=_peak_memory_mb(),
        long_running=long_running,
        details={"summary": result.summary, **result.details},
    )
    logger.info(
        "%s: completed in %.1f s: %s rows %s. %s",
        job.id,
        elapsed,
        result.rows_affected,
        "would change (dry run)" if req.dry_run else "affected",
        result.summary,
    )
    return result


def asset_event_extra(job: Job, req: RunRequest, result: JobResult) -> dict[str, Any]:
    """What the asset events of a finished run carry: the rows it changed, and whether it was a dry
    run (then nothing changed; Airflow records the event of a successful task all the same)."""
    return {
        "job_id": job.id,
        "rows_affected": result.rows_affected,
        "dry_run": req.dry_run,
        "summary": result.summary[:500],
    }


def set_asset_extras(context: Any, job: Job, extra: dict[str, Any]) -> None:
    """Put `extra` on the asset event of each table the job writes (a skipped task emits none)."""
    events = context.get("outlet_events") if hasattr(context, "get") else None
    if events is None or not job.writes:
        return
    from fantasy_jobs.registry import table_asset

    for table in job.writes:
        events[table_asset(table)].extra = {**extra, "table": table}


def asset_event_payloads(context: Any) -> tuple[dict[str, Any], ...]:
    """The payloads of the asset events a run consumed (a watcher's TriggerEvent payload is stored
    in the event's extra under "payload"), oldest first."""
    found = []
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            payload = (getattr(event, "extra", None) or {}).get("payload")
            if isinstance(payload, dict):
                found.append((str(getattr(event, "timestamp", "")), payload))
    return tuple(payload for _, payload in sorted(found, key=lambda item: item[0]))


def run_task(job_id: str) -> dict[str, Any]:
    """The task callable of every job in the group DAGs (imports stay here, out of parse time)."""
    from airflow.sdk import get_current_context

    return run_with_context(job_id, get_current_context())


def run_with_context(job_id: str, context: Any, engine=None) -> dict[str, Any]:
    """Gate and run `job_id` for the DAG run described by an Airflow task `context`."""
    from airflow.sdk.exceptions import AirflowSkipException

    from fantasy_jobs.db import get_engine
    from fantasy_jobs.schema import utcnow

    job = get_job(job_id)
    dag_run, ti, params = context["dag_run"], context["ti"], context["params"]
    run_type = getattr(dag_run.run_type, "value", dag_run.run_type)
    logical_time = dag_run.logical_date or dag_run.run_after
    scheduled = run_type in ("scheduled", "backfill")
    event = run_type == "asset_triggered"
    # In the daily chain lateness is measured once, at the chain's start: a job that waited on the
    # one above it is not late. Other groups measure each task's own start.
    started_at = (dag_run.start_date if job.group == "daily" else ti.start_date) or utcnow()
    req = RunRequest(
        trigger="scheduled" if scheduled else "event" if event else "manual",
        logical_time=logical_time,
        started_at=started_at,
        dry_run=bool(params.get("dry_run", False)),
        full=bool(params.get("full", False)),
        selected=None if scheduled else tuple(params.get("jobs") or ()),
        check_misfire=run_type == "scheduled",
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        try_number=ti.try_number,
        hostname=getattr(ti, "hostname", None),
        task_id=getattr(ti, "task_id", None) or job.id,
        events=asset_event_payloads(context) if event else (),
    )
    decision = decide(job, req)
    if decision.action == "misfire":
        log.warning("%s: %s", job.id, decision.reason)
        record_skip(engine or get_engine(), job, req, decision)
        raise AirflowSkipException(decision.reason)
    log.info("%s: %s", job.id, decision.reason)
    if decision.action == "not_due":
        raise AirflowSkipException(decision.reason)
    try:
        result = execute(job, req, engine=engine, logger=log)
    except JobSkipped as skip:
        raise AirflowSkipException(f"{job.id}: {skip}") from None
    set_asset_extras(context, job, asset_event_extra(job, req, result))
    return {
        "job_id": job.id,
        "rows_affected": result.rows_affected,
        "summary": result.summary,
        "dry_run": req.dry_run,
    }


__all__ = ["Decision", "JobContext", "JobResult", "RunRequest", "decide", "execute", "run_task"]
