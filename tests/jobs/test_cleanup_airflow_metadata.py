"""cleanup_airflow_metadata on a real, migrated Airflow metadata database (PostgreSQL): old runs,
task instances and log rows go, each DAG's newest scheduled run stays, a dry run changes nothing,
old task log files go and young ones stay."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from fantasy_jobs.db import make_engine
from fantasy_jobs.errors import ConfigError
from fantasy_jobs.schema import create_all
from tests.conftest import VENV_BIN
from tests.support.jobs import run_job

NOW = datetime(2026, 6, 28, 1, 0, tzinfo=ZoneInfo("America/New_York"))  # a Sunday 01:00
AGES = {  # (dag_id, run_type, days before NOW)
    "old_scheduled_a": ("fantasy_weekly", "scheduled", 60),
    "old_scheduled_b": ("fantasy_weekly", "scheduled", 50),  # the weekly DAG's newest scheduled run: kept
    "old_scheduled_c": ("fantasy_frequent", "scheduled", 40),
    "old_manual": ("fantasy_frequent", "manual", 35),
    "young_scheduled": ("fantasy_frequent", "scheduled", 5),
}


@pytest.fixture(scope="module")
def metadata_db(postgres):
    """A migrated Airflow metadata database on the harness's PostgreSQL; yields its libpq DSN."""
    name = postgres.create_database("airflow_meta")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = postgres.url(name).replace("+psycopg", "+psycopg2")
    subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    return postgres.airflow_uri(name)


@pytest.fixture
def seeded(metadata_db, monkeypatch, tmp_path):
    """Runs, task instances and log rows of several ages; old and young task log files."""
    with psycopg.connect(metadata_db, autocommit=True) as conn:
        conn.execute("DELETE FROM task_instance; DELETE FROM dag_run; DELETE FROM log")
        for run_id, (dag_id, run_type, days) in AGES.items():
            at = NOW.astimezone(UTC) - timedelta(days=days)
            conn.execute(
                "INSERT INTO dag_run (dag_id, run_id, run_type, run_after, logical_date, start_date, end_date,"
                " state) VALUES (%s, %s, %s, %s, %s, %s, %s, 'success')",
                (dag_id, run_id, run_type, at, at, at, at),
            )
            conn.execute(
                "INSERT INTO task_instance (id, task_id, dag_id, run_id, try_number, pool, pool_slots,"
                " start_date, end_date, state) VALUES (%s, 'job', %s, %s, 1, 'default_pool', 1, %s, %s, 'success')",
                (uuid.uuid4(), dag_id, run_id, at, at),
            )
            conn.execute("INSERT INTO log (dttm, dag_id, event) VALUES (%s, %s, 'running')", (at, dag_id))
    logs = tmp_path / "logs"
    for days, name in ((40, "old"), (5, "young")):
        path = logs / "dag_id=fantasy_frequent" / f"run_id={name}" / "task_id=job" / "attempt=1.log"
        path.parent.mkdir(parents=True)
        path.write_text("log line\n" * 10)
        stamp = (NOW - timedelta(days=days)).timestamp()
        os.utime(path, (stamp, stamp))
    notes = logs / "README.txt"  # not a log file: never touched
    notes.write_text("keep")
    os.utime(notes, (0, 0))
    monkeypatch.setenv("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(logs))
    monkeypatch.setenv("AIRFLOW_CONN_AIRFLOW_DB", metadata_db)
    # As inside a real task: once Airflow is loaded, Airflow 3 replaces the metadata URL with a
    # placeholder (supervisor.block_orm_access); the connection must win.
    import airflow.settings  # noqa: F401
    from airflow.sdk import BaseHook  # noqa: F401

    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "airflow-db-not-allowed:///")
    app = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_all(app)
    yield app, metadata_db, logs
    app.dispose()


def metadata_state(dsn: str) -> dict:
    with psycopg.connect(dsn) as conn:
        return {
            "runs": sorted(r[0] for r in conn.execute("SELECT run_id FROM dag_run")),
            "task_instances": sorted(r[0] for r in conn.execute("SELECT run_id FROM task_instance")),
            "log": conn.execute("SELECT count(*) FROM log WHERE event = 'running'").fetchone()[0],
        }


def files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_dry_run_reports_the_counts_and_changes_nothing(seeded):
    app, dsn, logs = seeded
    before, files_before = metadata_state(dsn), files(logs)
    result = run_job(app, "cleanup_airflow_metadata", NOW, dry_run=True)
    assert metadata_state(dsn) == before and files(logs) == files_before
    tables = result.details["tables"]
    assert (tables["dag_run"], tables["task_instance"], tables["log"]) == (3, 4, 4)
    assert result.details["log_files"]["files"] == 1
    assert result.rows_affected == sum(tables.values()) + 1 and "dry run" in result.summary


def test_old_rows_and_logs_go_the_newest_scheduled_run_of_each_dag_stays(seeded):
    app, dsn, logs = seeded
    assert metadata_state(dsn)["runs"] == sorted(AGES)
    result = run_job(app, "cleanup_airflow_metadata", NOW)
    after = metadata_state(dsn)
    # db clean keeps each DAG's newest non-manual run (keep_last on dag_run) however old it is;
    # task instances and log rows are cleaned by their own time.
    assert after["runs"] == ["old_scheduled_b", "young_scheduled"]
    assert after["task_instances"] == ["young_scheduled"]
    assert after["log"] == 1
    assert result.details["tables"]["dag_run"] == 3
    assert files(logs) == [
        "README.txt",
        "dag_id=fantasy_frequent",
        "dag_id=fantasy_frequent/run_id=young",
        "dag_id=fantasy_frequent/run_id=young/task_id=job",
        "dag_id=fantasy_frequent/run_id=young/task_id=job/attempt=1.log",
    ]
    assert result.details["log_files"] == {"files": 1, "bytes": 90, "folders": 2}


def test_inside_a_task_without_the_airflow_db_connection_it_says_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AIRFLOW_DB", raising=False)
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "airflow-db-not-allowed:///")
    app = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    create_all(app)
    with pytest.raises(ConfigError, match="AIRFLOW_CONN_AIRFLOW_DB"):
        run_job(app, "cleanup_airflow_metadata", NOW)
    app.dispose()


def test_a_run_still_going_is_never_cleaned_however_old(seeded):
    """A DAG run and its task instance running for 45 days (a stuck run): `db clean` deletes by age
    alone, so the cutoff moves back before them; they stay, and so does everything younger."""
    app, dsn, logs = seeded
    at = NOW.astimezone(UTC) - timedelta(days=45)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO dag_run (dag_id, run_id, run_type, run_after, logical_date, start_date, state)"
            " VALUES ('fantasy_daily', 'stuck', 'manual', %s, %s, %s, 'running')",
            (at, at, at),
        )
        conn.execute(
            "INSERT INTO task_instance (id, task_id, dag_id, run_id, try_number, pool, pool_slots, start_date, state)"
            " VALUES (%s, 'job', 'fantasy_daily', 'stuck', 1, 'default_pool', 1, %s, 'running')",
            (uuid.uuid4(), at),
        )
    result = run_job(app, "cleanup_airflow_metadata", NOW)
    after = metadata_state(dsn)
    assert "stuck" in after["runs"] and "stuck" in after["task_instances"]
    # the cutoff went back to the stuck run's start: only the run older than it went (60 days; the
    # 50-day one is the weekly DAG's newest scheduled run, kept anyway)
    assert after["runs"] == sorted(
        ["old_manual", "old_scheduled_b", "old_scheduled_c", "stuck", "young_scheduled"]
    )
    assert result.details["spared_unfinished"] == "DAG run fantasy_daily/stuck"
