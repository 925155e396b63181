"""execute(): one tracking row per run, failures recorded, long runs flagged, advisory locks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from fantasy_jobs.db import advisory_lock
from fantasy_jobs.errors import ConfigError, InvalidParamsError, JobAlreadyRunning, JobSkipped
from fantasy_jobs.ownership import close_abandoned, pid_space
from fantasy_jobs.registry import get_job
from fantasy_jobs.runtime import JobContext, JobResult, RunRequest, execute
from fantasy_jobs.schema import JobExecution, utcnow

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
        with pytest.raises(JobSkipped, match="test_job is already running") as refused:
            execute(job, request(), engine=pg_engine)
        assert isinstance(refused.value.__cause__, JobAlreadyRunning)
    finally:
        RELEASE.set()
        first.join()
    holder, second = rows(pg_engine)
    assert (holder.status, second.status) == ("completed", "skipped")
    assert f"advisory lock is held by execution {holder.id} (host {holder.hostname}, pid {os.getpid()}" in (
        second.error_message
    )
    with advisory_lock(pg_engine, "fantasy_jobs:test_job"):  # released after the run
        pass


def test_a_run_names_its_owner_and_beats_while_it_runs(engine, monkeypatch):
    monkeypatch.setenv("FANTASY_JOB_HEARTBEAT_SECONDS", "0.05")
    monkeypatch.setenv("FANTASY_JOB_STALE_SECONDS", "5")
    RELEASE.clear()
    first = threading.Thread(
        target=execute, args=(fake_job("waiting_job"), request(task_id="test_job")), kwargs={"engine": engine}
    )
    first.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            running = [r for r in rows(engine) if r.status == "running"]
            if running and running[0].heartbeat_at > running[0].started_at:
                break
            time.sleep(0.05)
    finally:
        RELEASE.set()
        first.join()
    assert running and running[0].heartbeat_at > running[0].started_at
    (row,) = rows(engine)
    assert row.status == "completed" and (row.pid, row.task_id, row.run_id) == (
        os.getpid(),
        "test_job",
        "manual__x",
    )


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_rows_whose_owner_is_gone_are_closed_as_abandoned(engine, monkeypatch):
    monkeypatch.setenv("FANTASY_JOB_STALE_SECONDS", "60")
    now = utcnow()
    gone = dead_pid()  # a pid nobody has here; on another machine it may well be alive
    here, elsewhere = pid_space(), "another-boot/pid:[4026531836]"
    base = {"trigger": "cli", "dry_run": False, "long_running": False, "status": "running", "hostname": "h"}
    owners = {  # name: (job_id, pid space, pid, started, last heartbeat)
        "stale": ("cache_cleanup", elsewhere, gone, now - timedelta(minutes=30), now - timedelta(minutes=20)),
        "fresh_elsewhere": ("cache_cleanup", elsewhere, gone, now - timedelta(minutes=30), now),
        "dead_here": ("cache_cleanup", here, gone, now - timedelta(seconds=30), now - timedelta(seconds=5)),
        "alive_here": ("cache_cleanup", here, os.getpid(), now - timedelta(seconds=30), now),
        "other_job_stale": (
            "backup_database",
            elsewhere,
            gone,
            now - timedelta(hours=2),
            now - timedelta(hours=1),
        ),
    }
    with engine.begin() as conn:
        for name, (job_id, space, pid, started, beat) in owners.items():
            conn.execute(
                insert(JobExecution).values(
                    **base,
                    job_id=job_id,
                    pid=pid,
                    started_at=started,
                    heartbeat_at=beat,
                    details={"name": name, "owner": {"pid_space": space}},
                )
            )
    assert close_abandoned(engine, "cache_cleanup", closed_by="test", dry_run=True) and all(
        r.status == "running" for r in rows(engine)
    )
    closed = close_abandoned(engine, "cache_cleanup", closed_by="the test")
    by_name = {r.details["name"]: r for r in rows(engine)}
    assert sorted(c["id"] for c in closed) == sorted([by_name["stale"].id, by_name["dead_here"].id])
    assert {n: r.status for n, r in by_name.items()} == {
        "stale": "abandoned",
        "fresh_elsewhere": "running",
        "dead_here": "abandoned",
        "alive_here": "running",
        "other_job_stale": "running",
    }
    stale = by_name["stale"]
    assert stale.execution_time_s == 600 and stale.finished_at == stale.heartbeat_at
    assert "no heartbeat for 1200 s" in stale.error_message and "closed by the test" in stale.error_message
    assert "is gone" in by_name["dead_here"].error_message
    assert close_abandoned(engine, "cache_cleanup", closed_by="again") == []  # idempotent
    assert [c["job_id"] for c in close_abandoned(engine, closed_by="the sweep")] == ["backup_database"]


def test_the_next_run_closes_its_jobs_abandoned_rows(engine, monkeypatch):
    monkeypatch.setenv("FANTASY_JOB_STALE_SECONDS", "60")
    long_ago = utcnow() - timedelta(hours=1)
    with engine.begin() as conn:
        conn.execute(
            insert(JobExecution).values(
                job_id="test_job",
                status="running",
                trigger="cli",
                hostname="gone-host",
                pid=1,
                started_at=long_ago,
                heartbeat_at=long_ago + timedelta(seconds=42),
                dry_run=False,
                long_running=False,
            )
        )
    execute(fake_job("slow_job"), request(), engine=engine)
    old, new = rows(engine)
    assert (old.status, old.execution_time_s, new.status) == ("abandoned", 42, "completed")
    assert "closed by the next run of test_job" in old.error_message


def test_heartbeat_settings_that_could_close_a_live_run_are_refused(engine, monkeypatch):
    monkeypatch.setenv("FANTASY_JOB_HEARTBEAT_SECONDS", "30")
    monkeypatch.setenv("FANTASY_JOB_STALE_SECONDS", "45")
    with pytest.raises(ConfigError, match="job_stale_seconds .45. must be at least twice"):
        execute(fake_job("slow_job"), request(), engine=engine)
    assert rows(engine) == []


def test_named_mutex_makes_a_second_holder_wait_then_time_out(engine):
    from fantasy_jobs.db import named_mutex

    holding, release = threading.Event(), threading.Event()

    def hold():
        with named_mutex(engine, "test:mutex"):
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with (
            pytest.raises(TimeoutError, match="waited 0.3 s for test:mutex"),
            named_mutex(engine, "test:mutex", 0.3),
        ):
            pass
    finally:
        release.set()
        holder.join()
    with named_mutex(engine, "test:mutex", 0.3):  # free again
        pass


def test_in_airflow_a_lock_refusal_skips_the_task_naming_the_holder(pg_engine):
    from types import SimpleNamespace

    from airflow.sdk.exceptions import AirflowSkipException

    from fantasy_jobs.runtime import run_with_context

    now = utcnow()
    with pg_engine.begin() as conn:
        holder_id = conn.execute(
            insert(JobExecution)
            .values(
                job_id="cache_cleanup",
                status="running",
                trigger="scheduled",
                hostname="worker-2",
                pid=4242,
                started_at=now,
                heartbeat_at=now,
                dag_id="fantasy_frequent",
                run_id="scheduled__a",
                task_id="cache_cleanup",
                try_number=1,
            )
            .returning(JobExecution.id)
        ).scalar_one()
    context = {
        "dag_run": SimpleNamespace(
            run_type="manual",
            logical_date=NOW,
            run_after=NOW,
            start_date=NOW,
            dag_id="fantasy_frequent",
            run_id="manual__b",
        ),
        "ti": SimpleNamespace(start_date=NOW, try_number=3, task_id="cache_cleanup", hostname="worker-1"),
        "params": {"jobs": ["cache_cleanup"], "dry_run": False},
    }
    with advisory_lock(pg_engine, "fantasy_jobs:cache_cleanup"), pytest.raises(AirflowSkipException) as skip:
        run_with_context("cache_cleanup", context, engine=pg_engine)
    holder_text = f"held by execution {holder_id} (host worker-2, pid 4242, task fantasy_frequent/scheduled__a/cache_cleanup try 1"
    assert holder_text in str(skip.value)
    holder, refused = rows(pg_engine)
    assert holder.status == "running" and refused.status == "skipped" and holder_text in refused.error_message
    assert (refused.dag_id, refused.run_id, refused.task_id, refused.try_number, refused.hostname) == (
        "fantasy_frequent",
        "manual__b",
        "cache_cleanup",
        3,
        "worker-1",
    )
