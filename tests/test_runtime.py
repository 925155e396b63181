"""execute(): one tracking row per run, failures recorded, long runs flagged, advisory locks."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fantasy_jobs.db import advisory_lock
from fantasy_jobs.errors import InvalidParamsError, JobAlreadyRunning
from fantasy_jobs.registry import get_job
from fantasy_jobs.runtime import JobContext, JobResult, RunRequest, execute
from fantasy_jobs.schema import JobExecution

NOW = datetime(2026, 6, 29, 12, 0, tzinfo=UTC)
RELEASE = threading.Event()


def exploding_job(ctx: JobContext) -> JobResult:
    raise RuntimeError("the ESPN feed is down")


def slow_job(ctx: JobContext) -> JobResult:
    time.sleep(0.3)
    return JobResult(7, "slept")


def waiting_job(ctx: JobContext) -> JobResult:
    RELEASE.wait(10)
    return JobResult(1, "waited")


def fake_job(entrypoint: str, **changes):
    return replace(
        get_job("cache_cleanup"), id="test_job", entrypoint=f"tests.test_runtime:{entrypoint}", **changes
    )


def request(**changes) -> RunRequest:
    values = {
        "trigger": "manual",
        "logical_time": NOW,
        "started_at": NOW,
        "dag_id": "fantasy_frequent",
        "run_id": "manual__x",
        "try_number": 2,
    }
    values.update(changes)
    return RunRequest(**values)


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(JobExecution).order_by(JobExecution.id)).all()


def test_failure_is_recorded_and_reraised(engine):
    with pytest.raises(RuntimeError, match="ESPN feed is down"):
        execute(fake_job("exploding_job"), request(), engine=engine)
    (row,) = rows(engine)
    assert row.status == "failed" and row.error_message == "RuntimeError: the ESPN feed is down"
    assert (row.dag_id, row.run_id, row.try_number, row.trigger) == (
        "fantasy_frequent",
        "manual__x",
        2,
        "manual",
    )
    assert row.finished_at is not None and row.execution_time_s >= 0


def test_long_run_is_flagged(engine):
    execute(fake_job("slow_job", expected=timedelta(seconds=0.1)), request(), engine=engine)
    (row,) = rows(engine)
    assert (row.status, row.long_running, row.rows_affected) == ("completed", True, 7)
    assert row.details["summary"] == "slept" and row.execution_time_s >= 0.3


def test_dry_run_of_a_job_without_dry_run_is_refused(engine):
    with pytest.raises(InvalidParamsError, match="does not support dry_run"):
        execute(fake_job("slow_job", supports_dry_run=False), request(dry_run=True), engine=engine)
    assert rows(engine) == []


def test_advisory_lock_keeps_a_second_run_out(pg_engine):
    job = fake_job("waiting_job")
    RELEASE.clear()
    first = threading.Thread(target=execute, args=(job, request()), kwargs={"engine": pg_engine})
    first.start()
    try:
        deadline = time.monotonic() + 10
        while not any(r.status == "running" for r in rows(pg_engine)) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        with pytest.raises(JobAlreadyRunning, match="test_job is already running"):
            execute(job, request(), engine=pg_engine)
    finally:
        RELEASE.set()
        first.join()
    assert sorted(r.status for r in rows(pg_engine)) == ["completed", "failed"]
    with advisory_lock(pg_engine, "fantasy_jobs:test_job"):  # released after the run
        pass
