"""Issue 13 fault suite: real `fantasy-jobs run` processes on real PostgreSQL, killed with SIGKILL
while they wait on a table lock the test holds, or cut off from a database that goes away.

Each test counts what a crash leaves behind: `running` rows after the next run or sweep (0), the
lock refusal recorded `skipped` naming the holder, pg_dump processes outliving their job (0),
stale staging folders after the next backup (0), rows young by the real clock that a future
`--at` deleted (0).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, insert, select, text

from fantasy_jobs import settings
from fantasy_jobs.db import make_engine
from fantasy_jobs.errors import ConfigError, JobSkipped
from fantasy_jobs.schema import JobExecution, Notification, create_all, utcnow
from tests.conftest import VENV_BIN, airflow_env
from tests.support.jobs import count, run_job

pytestmark = pytest.mark.faults
PAST = "2026-06-08T05:00"  # a --at in the past: every job here has something to do or nothing


@pytest.fixture
def app_db(postgres):
    """A fresh PostgreSQL app database: (engine, Airflow URI, name)."""
    name = postgres.create_database("faults")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    yield engine, postgres.airflow_uri(name), name
    engine.dispose()


@pytest.fixture
def fast_heartbeat(monkeypatch):
    """Short heartbeat and staleness for the test process and the CLI processes it starts."""
    monkeypatch.setenv("FANTASY_JOB_HEARTBEAT_SECONDS", "0.2")
    monkeypatch.setenv("FANTASY_JOB_STALE_SECONDS", "5")


def cli_env(uri: str, **extra: str) -> dict[str, str]:
    return airflow_env(AIRFLOW_CONN_FANTASY_DB=uri, FANTASY_SKIP_VARIABLES="1", **extra)


def start(uri: str, tmp_path: Path, name: str, *args: str, **env: str) -> subprocess.Popen:
    """`fantasy-jobs run ARGS` in the background, its output in tmp_path/<name>.log."""
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [str(VENV_BIN / "fantasy-jobs"), "run", *args], env=cli_env(uri, **env), stdout=log, stderr=log
    )


def cli(uri: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "fantasy-jobs"), "run", *args],
        env=cli_env(uri, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def wait_for(what: str, condition: Callable[[], object], timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def executions(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(JobExecution).order_by(JobExecution.id)).all()


def running_rows(engine) -> int:
    return count(engine, JobExecution, JobExecution.status == "running")


def waiting_on_locks(engine, database: str) -> int:
    """Backends of `database` that wait for a table lock (the jobs the test is holding up)."""
    with engine.connect() as conn:
        return conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND wait_event_type = 'Lock'"),
            {"d": database},
        )


def hold_locks(engine, *tables: str):
    """A connection holding ACCESS EXCLUSIVE locks on `tables` until it is rolled back."""
    conn = engine.connect()
    conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
    return conn


def test_sigkilled_runs_are_closed_abandoned_and_a_locked_out_run_is_skipped_naming_the_holder(
    app_db, tmp_path, fast_heartbeat
):
    engine, uri, name = app_db
    blocker = hold_locks(engine, "cache_entries", "notifications")
    cache = start(uri, tmp_path, "cache", "cache_cleanup", "--at", PAST)
    cleanup = start(uri, tmp_path, "cleanup", "cleanup_old_data", "--at", PAST)
    try:
        wait_for("both jobs to wait on the locked tables", lambda: waiting_on_locks(engine, name) == 2)
        holder = next(r for r in executions(engine) if r.job_id == "cache_cleanup")
        assert (holder.status, holder.pid, holder.hostname) == ("running", cache.pid, os.uname().nodename)
        wait_for(
            "a heartbeat from the blocked job",
            lambda: next(r for r in executions(engine) if r.id == holder.id).heartbeat_at > holder.started_at,
        )

        with pytest.raises(
            JobSkipped
        ) as refused:  # a second run, in this process, while the CLI holds the lock
            run_job(engine, "cache_cleanup", datetime.fromisoformat(PAST).replace(tzinfo=UTC))
        skipped = executions(engine)[-1]
        assert skipped.status == "skipped" and skipped.finished_at is not None
        assert f"advisory lock is held by execution {holder.id} (host {holder.hostname}, pid {cache.pid}" in (
            skipped.error_message
        )
        assert str(refused.value) == skipped.error_message

        for process in (cache, cleanup):
            process.send_signal(signal.SIGKILL)
            process.wait(10)
    finally:
        blocker.rollback()
        blocker.close()
        for process in (cache, cleanup):
            if process.poll() is None:
                process.kill()
    assert running_rows(engine) == 2  # the crash as it was before issue 13: nobody closes them

    result = run_job(engine, "cache_cleanup", datetime.fromisoformat(PAST).replace(tzinfo=UTC))
    rows = {r.id: r for r in executions(engine)}
    assert running_rows(engine) == 0
    killed = [r for r in rows.values() if r.status == "abandoned"]
    assert sorted(r.job_id for r in killed) == ["cache_cleanup", "cleanup_old_data"]
    assert "closed by the next run of cache_cleanup" in rows[holder.id].error_message
    swept = next(r for r in killed if r.job_id == "cleanup_old_data")
    assert (
        "closed by cache_cleanup's sweep" in swept.error_message
        and f"pid {cleanup.pid}" in swept.error_message
    )
    assert all(r.finished_at is not None and r.execution_time_s >= 0 for r in killed)
    assert [c["job_id"] for c in result.details["abandoned_runs"]] == ["cleanup_old_data"]
    assert sorted(r.status for r in rows.values()).count("completed") == 1


def test_a_database_that_vanishes_mid_run_leaves_a_row_the_next_run_closes(
    app_db, postgres, tmp_path, fast_heartbeat
):
    engine, uri, name = app_db
    blocker = hold_locks(engine, "cache_entries")
    job = start(uri, tmp_path, "vanish", "cache_cleanup", "--at", PAST)
    admin = psycopg.connect(postgres.url("postgres").replace("+psycopg", ""), autocommit=True)
    try:
        wait_for("the job to wait on cache_entries", lambda: waiting_on_locks(engine, name) == 1)
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        assert job.wait(60) != 0
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
        if job.poll() is None:
            job.kill()
        blocker.invalidate()
    engine.dispose()
    log = (tmp_path / "vanish.log").read_text()
    assert "could not record the failure in job_executions" in log
    assert running_rows(engine) == 1  # the failure could not be written: the row is left running

    run_job(engine, "cache_cleanup", datetime.fromisoformat(PAST).replace(tzinfo=UTC))
    first, second = executions(engine)
    assert (first.status, second.status, running_rows(engine)) == ("abandoned", "completed", 0)
    assert f"its process {job.pid}" in first.error_message and first.execution_time_s >= 0


def _processes_with_parent(parent: int, command: str) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            comm = fields[0].split("(", 1)[1]
            ppid = int(fields[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if comm == command and ppid == parent:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper is dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_sigkill_of_a_backup_kills_pg_dump_and_its_retry_removes_the_partial_however_young(
    app_db, tmp_path, fast_heartbeat, monkeypatch
):
    engine, uri, name = app_db
    folder = tmp_path / "backups"
    monkeypatch.setenv("FANTASY_BACKUP_DIR", str(folder))
    # pg_dump waits for its ACCESS SHARE lock on a table outside the app's model (the backup's
    # manifest counts only the app tables, before pg_dump starts, so it is not blocked)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE unrelated_to_the_app (id integer)"))
    blocker = hold_locks(engine, "unrelated_to_the_app")
    job = start(uri, tmp_path, "backup", "backup_database", "--at", PAST, FANTASY_BACKUP_DIR=str(folder))
    try:
        (dump,) = wait_for("pg_dump to start", lambda: _processes_with_parent(job.pid, "pg_dump"))
        wait_for("pg_dump to wait on the locked table", lambda: waiting_on_locks(engine, name) == 1)
        job.send_signal(signal.SIGKILL)
        job.wait(10)
        wait_for("pg_dump to die with its job", lambda: not _alive(dump), timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
        if job.poll() is None:
            job.kill()
    (partial,) = [p for p in folder.iterdir() if p.name.startswith(".partial-")]
    assert (partial / "owner.json").is_file()

    # the retry, seconds later: the partial is minutes old, its owner's row abandoned (pid gone)
    retry = cli(uri, "backup_database", "--at", PAST, FANTASY_BACKUP_DIR=str(folder))
    assert retry.returncode == 0, retry.stderr
    assert f"removed {partial}, left by job_executions 1, a run that is over" in retry.stdout
    assert "removed 1 partial backups of runs that are over" in retry.stdout
    assert [p.name for p in folder.iterdir()] == ["fantasy_db-20260608T090000Z.dump"]  # 05:00 league time
    assert [r.status for r in executions(engine)] == ["abandoned", "completed"]


def test_at_must_be_a_real_time_not_far_in_the_future(app_db):
    engine, uri, _ = app_db
    empty = cli(uri, "cleanup_old_data", "--at", "")
    assert empty.returncode == 2 and "--at is empty" in empty.stderr
    overflow = cli(uri, "cleanup_old_data", "--at", "9999-12-31T23:59", "--allow-future")
    assert overflow.returncode == 2 and "'9999-12-31T23:59' is out of range" in overflow.stderr
    assert "Traceback" not in overflow.stderr
    typo = cli(uri, "cleanup_old_data", "--at", "2062-11-29T03:00")
    assert typo.returncode == 2 and "in the future" in typo.stderr and "--allow-future" in typo.stderr
    assert executions(engine) == []  # refused before anything ran


def test_a_future_at_never_deletes_rows_young_by_the_real_clock(pg_engine):
    now = utcnow()
    with pg_engine.begin() as conn:
        conn.execute(
            insert(Notification),
            [
                {"user_id": 1, "kind": "in_app", "status": "sent", "created_at": now - timedelta(days=d)}
                for d in (1, 29, 31, 400)
            ],
        )
        conn.execute(
            insert(JobExecution),
            [
                {
                    "job_id": "cache_cleanup",
                    "status": "completed",
                    "trigger": "cli",
                    "started_at": now - timedelta(days=d),
                }
                for d in (1, 179, 181)
            ],
        )
    run_job(pg_engine, "cleanup_old_data", datetime(2062, 11, 29, 8, 0, tzinfo=UTC))
    with pg_engine.connect() as conn:
        ages = sorted(
            round((now - c).total_seconds() / 86400) for c in conn.scalars(select(Notification.created_at))
        )
        runs = conn.scalar(
            select(func.count()).select_from(JobExecution).where(JobExecution.started_at < now)
        )
    assert ages == [1, 29]  # 30 days' retention from the real clock, not from 2062
    assert runs == 2  # 180 days' retention: the 181-day-old row went, the two younger stayed


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_numeric_settings_refuse_nan_and_infinities(raw, monkeypatch):
    monkeypatch.setenv("FANTASY_ESPN_TIMEOUT", raw)
    with pytest.raises(ConfigError, match=f"espn_timeout .* must be a finite number, got '{raw}'"):
        settings.get("espn_timeout")


def test_a_run_killed_in_its_first_seconds_says_how_long_it_really_ran(app_db, tmp_path):
    """The default heartbeat (30 s) beats 1, 3 and 7 s after the start: a run killed after about 5 s
    is closed as `abandoned` with at least 3 s run, from its start to that last sign of life, said
    so in its message, not "ran 0 s"."""
    engine, uri, name = app_db
    blocker = hold_locks(engine, "cache_entries", "notifications")
    job = start(uri, tmp_path, "cache", "cache_cleanup", "--at", PAST)
    try:
        wait_for("the job to wait on the locked tables", lambda: waiting_on_locks(engine, name) == 1)
        started = time.monotonic()
        wait_for("its heartbeat 3 s in", lambda: time.monotonic() - started > 4.5, timeout=10)
        job.send_signal(signal.SIGKILL)
        job.wait(10)
    finally:
        blocker.rollback()
        blocker.close()
        if job.poll() is None:
            job.kill()
    run_job(engine, "cache_cleanup", datetime.fromisoformat(PAST).replace(tzinfo=UTC))
    killed = executions(engine)[0]
    assert killed.status == "abandoned" and 2.5 <= killed.execution_time_s <= 7.5, killed.error_message
    assert (
        f"ran at least {killed.execution_time_s:.1f} s: from its start to its last heartbeat"
        in killed.error_message
    )


def test_a_sweeper_whose_clock_runs_ahead_closes_no_live_run(app_db, tmp_path, monkeypatch):
    """Heartbeats and the sweep use the database's clock: a sweeper whose own clock is 10 minutes
    ahead (past `job_stale_seconds`) leaves a live run alone; the run then finishes `completed`."""
    import fantasy_jobs.schema as schema
    from fantasy_jobs.ownership import close_abandoned

    engine, uri, name = app_db
    blocker = hold_locks(engine, "cache_entries", "notifications")
    job = start(uri, tmp_path, "cache", "cache_cleanup", "--at", PAST)
    try:
        wait_for("the job to wait on the locked tables", lambda: waiting_on_locks(engine, name) == 1)
        wait_for("its first heartbeat", lambda: executions(engine)[0].heartbeat_at is not None)
        real = schema.utcnow
        monkeypatch.setattr(schema, "utcnow", lambda: real() + timedelta(minutes=10))
        assert close_abandoned(engine, closed_by="a sweeper 10 minutes ahead") == []
        monkeypatch.setattr(schema, "utcnow", real)
    finally:
        blocker.rollback()
        blocker.close()
    assert job.wait(60) == 0
    assert [r.status for r in executions(engine)] == ["completed"]


def skewed_clock(folder: Path, minutes: float) -> str:
    """A PYTHONPATH entry whose sitecustomize moves the app's clock (`schema.utcnow`) by `minutes`
    in the process that loads it: a worker whose clock is off."""
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        "from datetime import timedelta\n"
        "import fantasy_jobs.schema as schema\n"
        "_real = schema.utcnow\n"
        f"schema.utcnow = lambda: _real() + timedelta(minutes={minutes})\n"
    )
    return str(folder)


def test_a_worker_whose_clock_runs_behind_looks_alive_and_its_abandoned_run_says_how_long_it_ran(
    app_db, tmp_path, fast_heartbeat
):
    """A worker 10 minutes behind the database: its new row is not stale to a sweeper on the right
    clock, nor to its own sweep (cache_cleanup sweeps every job; before, it closed its own row as
    abandoned: "no heartbeat for 600 s"), and when it is killed after about 3 s its duration is
    measured on the database's clock, not 10 minutes longer."""
    from fantasy_jobs.ownership import close_abandoned

    engine, uri, name = app_db
    blocker = hold_locks(engine, "cache_entries", "notifications")
    skew = skewed_clock(tmp_path / "skew", -10)
    job = start(uri, tmp_path, "cache", "cache_cleanup", "--at", PAST, PYTHONPATH=skew)
    try:
        wait_for("its row", lambda: executions(engine))
        assert close_abandoned(engine, closed_by="a sweeper on the right clock") == []
        wait_for("the job to wait on the locked tables", lambda: waiting_on_locks(engine, name) == 1)
        (row,) = executions(engine)
        assert row.status == "running"  # its own sweep left it alone
        assert (utcnow() - row.started_at).total_seconds() > 590  # the worker's clock is 10 minutes behind
        time.sleep(3)
        job.send_signal(signal.SIGKILL)
        job.wait(10)
    finally:
        blocker.rollback()
        blocker.close()
        if job.poll() is None:
            job.kill()
    (closed,) = close_abandoned(engine, closed_by="the test's sweep")
    assert 2.5 <= closed["ran_s"] <= 6, closed  # not 600 s more: one clock from start to last beat
