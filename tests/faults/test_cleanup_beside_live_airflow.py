"""cleanup_airflow_metadata at its smallest retention while Airflow is up and a DAG run is running.

A real api-server, scheduler and dag-processor (the `make run` way: SQLite metadata, LocalExecutor);
a `fantasy_frequent` run whose task is really running (its job waits on a table lock the test
holds) and whose start the test moves 30 days back, as a run stuck for a month would be; finished
runs, log rows and dead scheduler `job` rows 40 and 60 days old. The cleanup, a real `fantasy-jobs`
process with `airflow_retention_days=7`, must delete the old history but not the running run, its
task instance, each DAG's newest scheduled run or a live component's `job` row; then the held run
finishes, a new run is scheduled and succeeds, and the scheduler and dag-processor never stop.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from fantasy_jobs.db import make_engine
from fantasy_jobs.schema import JobExecution, create_all
from tests.conftest import VENV_BIN
from tests.support.airflow_server import AirflowServers
from tests.support.jobs import count

pytestmark = [pytest.mark.faults, pytest.mark.airflow_cli]
DAG, TASK = "fantasy_frequent", "process_notifications"


def stamp(days_ago: float) -> str:
    """A time as Airflow's SQLite metadata keeps it (naive UTC text)."""
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S.%f")


def metadata(servers: AirflowServers) -> sqlite3.Connection:
    return closing(sqlite3.connect(servers.home / "airflow.db", timeout=60))


def query(servers: AirflowServers, sql: str, *args) -> list[tuple]:
    with metadata(servers) as conn:
        return conn.execute(sql, args).fetchall()


def seed_old_history(servers: AirflowServers) -> None:
    """Finished scheduled runs (with a task instance and a log row) 60 and 40 days old, and the
    `job` rows of a scheduler and a dag-processor that died 60 days ago."""
    with metadata(servers) as conn, conn:
        for run_id, days in (("old_60", 60), ("old_40", 40)):
            at = stamp(days)
            conn.execute(
                "INSERT INTO dag_run (dag_id, run_id, run_type, run_after, logical_date, start_date, end_date,"
                " state, clear_number) VALUES (?, ?, 'scheduled', ?, ?, ?, ?, 'success', 0)",
                (DAG, run_id, at, at, at, at),
            )
            conn.execute(
                "INSERT INTO task_instance (id, task_id, dag_id, run_id, map_index, try_number, pool, pool_slots,"
                " start_date, end_date, state) VALUES (?, 'process_notifications', ?, ?, -1, 1, 'default_pool',"
                " 1, ?, ?, 'success')",
                (uuid.uuid4().hex, DAG, run_id, at, at),
            )
            conn.execute("INSERT INTO log (dttm, dag_id, event) VALUES (?, ?, 'old-event')", (at, DAG))
        for job_type in ("SchedulerJob", "DagProcessorJob"):
            conn.execute(
                "INSERT INTO job (state, job_type, start_date, end_date, latest_heartbeat, hostname, unixname)"
                " VALUES ('failed', ?, ?, ?, ?, 'old-host', 'airflow')",
                (job_type, stamp(61), stamp(60), stamp(60)),
            )


def waiting_on_locks(engine, database: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND wait_event_type = 'Lock'"),
            {"d": database},
        )


def run_state(servers: AirflowServers, run_id: str) -> str | None:
    rows = query(servers, "SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", DAG, run_id)
    return rows[0][0] if rows else None


def wait_for(what: str, condition, servers: AirflowServers, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.5)
    raise AssertionError(
        f"timed out waiting for {what}\n--- scheduler ---\n{servers.log('scheduler')[-3000:]}"
        f"\n--- dag-processor ---\n{servers.log('dag-processor')[-1500:]}"
    )


def trigger(servers: AirflowServers, run_id: str) -> None:
    servers.airflow(
        "dags", "trigger", DAG, "--run-id", run_id, "--conf", json.dumps({"jobs": ["process_notifications"]})
    )


def test_cleanup_at_the_smallest_retention_spares_the_running_run_and_the_live_scheduler(postgres):
    name = postgres.create_database("cleanup_live")
    app = make_engine(postgres.url(name))
    create_all(app)
    servers = AirflowServers(
        VENV_BIN,
        postgres.airflow_uri(name),
        # only the runs the test triggers: none of the groups' own schedules fire meanwhile
        extra_env={"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False", "FANTASY_AIRFLOW_RETENTION_DAYS": "7"},
    ).prepare()
    holder = app.connect()
    try:
        seed_old_history(servers)
        servers.start("scheduler", "dag-processor")
        live_components = wait_for(
            "the scheduler's and dag-processor's job rows",
            lambda: (
                (rows := query(servers, "SELECT id, job_type FROM job WHERE state = 'running' ORDER BY id"))
                and {t for _, t in rows} >= {"SchedulerJob", "DagProcessorJob"}
                and rows
            ),
            servers,
        )

        # a run whose task really runs: process_notifications waits on the locked queue
        holder.execute(text("LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE"))
        trigger(servers, "held")
        wait_for(
            "process_notifications to wait on the locked queue", lambda: waiting_on_locks(app, name), servers
        )
        assert run_state(servers, "held") == "running"
        with metadata(servers) as conn, conn:  # stuck for a month, as far as `db clean` can tell
            conn.execute("UPDATE dag_run SET start_date = ? WHERE run_id = 'held'", (stamp(30),))
            conn.execute(
                "UPDATE task_instance SET start_date = ? WHERE run_id = 'held' AND state = 'running'",
                (stamp(30),),
            )

        cleanup = subprocess.run(
            [str(VENV_BIN / "fantasy-jobs"), "run", "cleanup_airflow_metadata"],
            env=servers.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert cleanup.returncode == 0, cleanup.stdout[-3000:] + cleanup.stderr[-3000:]

        runs = {r for (r,) in query(servers, "SELECT run_id FROM dag_run WHERE dag_id = ?", DAG)}
        assert "old_60" not in runs, "the cleanup deleted nothing"
        assert {"held", "old_40"} <= runs  # the running run; the DAG's newest scheduled run
        assert query(
            servers, "SELECT state FROM task_instance WHERE run_id = 'held' AND task_id = ?", TASK
        ) == [("running",)]
        assert query(servers, "SELECT count(*) FROM log WHERE event = 'old-event'") == [(0,)]
        jobs_left = {i for (i,) in query(servers, "SELECT id FROM job")}
        assert {i for i, _ in live_components} <= jobs_left
        assert not query(servers, "SELECT id FROM job WHERE hostname = 'old-host'")
        assert f"DAG run {DAG}/held" in cleanup.stdout  # what moved the cutoff back, in its log

        holder.rollback()  # the held run goes on and finishes
        wait_for(
            "the held run to finish", lambda: run_state(servers, "held") in ("success", "failed"), servers
        )
        assert run_state(servers, "held") == "success"
        trigger(servers, "after_cleanup")  # and the scheduler keeps scheduling
        wait_for("a run after the cleanup", lambda: run_state(servers, "after_cleanup") == "success", servers)

        for component in ("scheduler", "dag-processor", "api-server"):
            assert servers.processes[component].poll() is None, (
                f"{component} stopped:\n{servers.log(component)[-3000:]}"
            )
        assert "UNIQUE constraint failed" not in servers.log("scheduler") + servers.log("dag-processor")
        lost = 2 - count(
            app,
            JobExecution,
            JobExecution.job_id == "process_notifications",
            JobExecution.status == "completed",
        )
        assert lost == 0
    finally:
        holder.close()
        servers.stop()
        app.dispose()
