"""The fantasy-jobs console script, run as operators run it."""

from __future__ import annotations

import subprocess

from sqlalchemy import create_engine, select

from fantasy_jobs.registry import schedule_markdown
from fantasy_jobs.schema import CacheEntry, JobExecution
from tests.conftest import VENV_BIN, airflow_env
from tests.support.jobs import count


def cli(*args: str, db: str | None = None) -> subprocess.CompletedProcess:
    env = airflow_env(**({"AIRFLOW_CONN_FANTASY_DB": db} if db else {}))
    return subprocess.run(
        [str(VENV_BIN / "fantasy-jobs"), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_init_load_run_on_sqlite(tmp_path):
    db = f"sqlite:///{tmp_path / 'app.db'}"
    assert "tables ready" in cli("init-db", db=db).stdout
    first = cli("load-demo", db=db)
    assert first.returncode == 0 and "player_game_stats 1512" in first.stdout
    assert "already loaded" in cli("load-demo", db=db).stdout
    engine = create_engine(db)
    before = count(engine, CacheEntry)
    dry = cli("run", "cache_cleanup", "--dry-run", "--at", "2026-06-29T08:00", db=db)
    assert dry.returncode == 0 and "would delete 30 expired" in dry.stdout
    assert count(engine, CacheEntry) == before
    real = cli("run", "cache_cleanup", "--at", "2026-06-29T08:00", db=db)
    assert real.returncode == 0 and count(engine, CacheEntry) == before - 30
    with engine.connect() as conn:
        rows = conn.execute(select(JobExecution.trigger, JobExecution.dry_run, JobExecution.status)).all()
    assert rows == [("cli", True, "completed"), ("cli", False, "completed")]


def test_postgres_connection_uri(postgres):
    uri = postgres.airflow_uri(postgres.create_database("cli"))
    assert cli("init-db", db=uri).returncode == 0
    done = cli("run", "reset_weekly_moves", "--at", "2026-06-08T05:00", db=uri)
    assert done.returncode == 0 and "weekly moves reset for 0 teams" in done.stdout
    assert "fantasy-test-secret" not in done.stdout + done.stderr


def test_jobs_markdown_is_the_registry_table():
    assert cli("jobs", "--markdown").stdout == schedule_markdown()
    assert "reset_weekly_moves" in cli("jobs").stdout


def test_bad_input_is_a_clear_error(tmp_path):
    db = f"sqlite:///{tmp_path / 'app.db'}"
    unknown = cli("run", "no_such_job", db=db)
    assert (
        unknown.returncode == 2 and "unknown job 'no_such_job'; known jobs: backup_database" in unknown.stderr
    )
    bad_time = cli("run", "cache_cleanup", "--at", "next tuesday", db=db)
    assert bad_time.returncode == 2 and "not an ISO 8601 time" in bad_time.stderr
    no_db = cli("init-db")
    assert no_db.returncode == 2 and "connection 'fantasy_db' is not configured" in no_db.stderr
