"""Who owns a `running` job_executions row, the heartbeat that keeps it alive, and the sweep that
closes the rows whose owner is gone.

A run records its owner (host, pid, and the Airflow task instance when there is one) and a
background thread refreshes `heartbeat_at` every `job_heartbeat_seconds`. A `running` row is
abandoned when its heartbeat is older than `job_stale_seconds`, or at once when its owner ran in
this process's pid namespace (same machine, same container) and that pid is no longer alive.
`close_abandoned()` marks such rows `abandoned` with how long they ran (until their last
heartbeat) and why; the next run of the job and `cache_cleanup` call it. A heartbeat column works the same on PostgreSQL and SQLite, unlike an
advisory lock, and survives a lost connection that would silently drop a lock.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from fantasy_jobs import settings
from fantasy_jobs.errors import ConfigError

log = logging.getLogger(__name__)

SWEEP_LIMIT = 1000  # rows looked at per sweep: a sweep stays cheap even after a long outage


FIRST_BEAT_SECONDS = 1.0
"""The first heartbeat comes this soon after the start; the next ones twice as late each time, up to
`job_heartbeat_seconds`."""


def heartbeat_settings() -> tuple[float, float]:
    """(heartbeat interval, stale threshold) in seconds, checked against each other."""
    interval, stale = settings.get("job_heartbeat_seconds"), settings.get("job_stale_seconds")
    if interval <= 0 or stale < 2 * interval:
        raise ConfigError(
            f"setting job_stale_seconds ({stale:g}) must be at least twice job_heartbeat_seconds "
            f"({interval:g}), and the heartbeat positive: a live run must never look abandoned"
        )
    return interval, stale


@functools.cache
def pid_space() -> str | None:
    """Which pid numbering this process lives in: the boot id and the pid namespace (Linux).

    Two processes see the same pids exactly when these agree, whatever their host names say
    (Airflow records ti.hostname, containers may share a host name with host networking), so
    only then can a pid be checked; None elsewhere, and the heartbeat alone decides.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}"


def owner_details(started_on_database_clock: datetime) -> dict[str, Any]:
    """What a new `running` row keeps in `details`: its pid space, so that a sweep can check its pid,
    and its start on the database's clock, so that an abandoned run's duration is measured on one
    clock (heartbeats are the database's; `started_at` is the worker's, like the data's change times)."""
    return {"owner": {"pid_space": pid_space(), "started": started_on_database_clock.isoformat()}}


def owner_start(row: Any) -> datetime:
    """When the row's run started on the database's clock (`started_at` for rows made before)."""
    recorded = ((row.details or {}).get("owner") or {}).get("started")
    try:
        return datetime.fromisoformat(recorded) if recorded else row.started_at
    except (TypeError, ValueError):
        return row.started_at


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def owner_text(row: Any) -> str:
    """`execution 17 (host h, pid 42, task fantasy_daily/scheduled__.../ingest_teams try 1)`."""
    text = f"execution {row.id} (host {row.hostname or '?'}, pid {row.pid if row.pid is not None else '?'}"
    if row.dag_id and row.run_id:
        text += f", task {row.dag_id}/{row.run_id}/{row.task_id or row.job_id} try {row.try_number}"
    return text + f", started {row.started_at:%Y-%m-%d %H:%M:%S} UTC)"


def database_now(engine) -> datetime:
    """The clock heartbeats are compared on: the database's on PostgreSQL (workers on several
    machines beat with `now()`), this machine's on SQLite (one machine)."""
    from fantasy_jobs.schema import UtcDateTime, utcnow

    if engine.dialect.name != "postgresql":
        return utcnow()
    with engine.connect() as conn:
        return conn.scalar(select(func.now().cast(UtcDateTime())))


def abandon_reason(row: Any, now: datetime, stale_s: float) -> str | None:
    """Why the `running` `row` is abandoned at `now`, or None while its owner may be alive."""
    last = row.heartbeat_at or row.started_at
    silent = (now - last).total_seconds()
    if silent > stale_s:
        return f"no heartbeat for {silent:.0f} s (stale after {stale_s:g} s)"
    space = ((row.details or {}).get("owner") or {}).get("pid_space")
    if row.pid is not None and space is not None and space == pid_space() and not pid_alive(row.pid):
        return f"its process {row.pid} on {row.hostname} is gone"
    return None


def close_abandoned(
    engine, job_id: str | None = None, *, closed_by: str, dry_run: bool = False
) -> list[dict[str, Any]]:
    """Close the `running` rows (of `job_id`, or of every job) whose owner is gone; returns them.

    Each row becomes `abandoned` with finished_at = its last heartbeat and execution_time_s = how
    long it ran until then. The UPDATE re-checks `status = 'running'` and the heartbeat it saw,
    so a row whose owner finishes or beats meanwhile is left alone. `dry_run` only reports.
    """
    from fantasy_jobs.schema import JobExecution

    _, stale = heartbeat_settings()
    now = database_now(engine)
    query = select(JobExecution).where(JobExecution.status == "running")
    if job_id is not None:
        query = query.where(JobExecution.job_id == job_id)
    with engine.connect() as conn:
        running = conn.execute(query.order_by(JobExecution.id).limit(SWEEP_LIMIT)).all()
    closed = []
    for row in running:
        reason = abandon_reason(row, now, stale)
        if reason is None:
            continue
        last = row.heartbeat_at or row.started_at
        ran = round(max((last - owner_start(row)).total_seconds(), 0.0), 3)
        lived = (
            f"ran at least {ran:.1f} s: from its start to its last heartbeat at {last:%Y-%m-%d %H:%M:%S} UTC"
            if row.heartbeat_at is not None
            else f"ran less than {FIRST_BEAT_SECONDS:g} s: it stopped before its first heartbeat"
        )
        message = (
            f"abandoned: {reason}; owner {owner_text(row)}; {lived}; "
            f"closed by {closed_by} at {now:%Y-%m-%d %H:%M:%S} UTC"
        )
        if not dry_run:
            with engine.begin() as conn:
                done = conn.execute(
                    update(JobExecution)
                    .where(
                        JobExecution.id == row.id,
                        JobExecution.status == "running",
                        func.coalesce(JobExecution.heartbeat_at, JobExecution.started_at) == last,
                    )
                    .values(status="abandoned", finished_at=last, execution_time_s=ran, error_message=message)
                ).rowcount
            if not done:
                continue
            log.warning("job_executions %s (%s): %s", row.id, row.job_id, message)
        closed.append({"id": row.id, "job_id": row.job_id, "ran_s": ran, "reason": reason})
    return closed


def running_holder(engine, job_id: str, exclude_id: int) -> Any | None:
    """The oldest other `running` row of `job_id`: the run that holds the job's lock (abandoned
    rows were closed before; newer ones are runs being refused like this one)."""
    from fantasy_jobs.schema import JobExecution

    with engine.connect() as conn:
        return conn.execute(
            select(JobExecution)
            .where(
                JobExecution.job_id == job_id,
                JobExecution.status == "running",
                JobExecution.id != exclude_id,
            )
            .order_by(JobExecution.id)
            .limit(1)
        ).first()


class Heartbeat:
    """A daemon thread that refreshes `heartbeat_at` of one row until stopped.

    A failed beat (the database is down) is logged and retried at the next tick; the sweep
    decides what a long silence means.
    """

    def __init__(self, engine, execution_id: int, interval: float) -> None:
        self.engine, self.execution_id, self.interval = engine, execution_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{execution_id}", daemon=True)

    def beat(self) -> bool:
        from fantasy_jobs.schema import JobExecution, utcnow

        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(JobExecution)
                    .where(JobExecution.id == self.execution_id, JobExecution.status == "running")
                    .values(heartbeat_at=func.now() if self.engine.dialect.name == "postgresql" else utcnow())
                ).rowcount
            )

    def _run(self) -> None:
        # 1, 2, 4, ... s after the start, then every `interval`: a run killed in its first seconds
        # still leaves a sign of life close to its end, so its abandoned row says how long it ran
        delay = min(FIRST_BEAT_SECONDS, self.interval)
        while not self._stop.wait(delay):
            delay = min(delay * 2, self.interval)
            try:
                if not self.beat():
                    log.warning(
                        "job_executions %s is no longer `running` (closed as abandoned?); "
                        "this run's outcome is still written when it ends",
                        self.execution_id,
                    )
            except Exception as exc:  # noqa: BLE001 (the job goes on; the sweep judges silence)
                log.warning("heartbeat of job_executions %s failed: %s", self.execution_id, exc)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(60)
