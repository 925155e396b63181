"""Settings an operator can get wrong: a retention of 0 (read as "off") or below its floor, a lease
of 1e308, a concurrency of 100,000. Each is refused before the job touches anything, through the
real command line: exit 2, naming the setting, the value and the bounds (and why the floor is
there); nothing deleted. Every numeric setting has bounds."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from fantasy_jobs.schema import JobExecution
from fantasy_jobs.settings import SETTINGS
from tests.conftest import VENV_BIN, airflow_env


def test_every_numeric_setting_has_bounds():
    unbounded = [
        s.name for s in SETTINGS.values() if s.kind in (int, float) and (s.low is None or s.high is None)
    ]
    assert unbounded == []


def run(db: str, job: str, **settings: str) -> subprocess.CompletedProcess:
    env = airflow_env(AIRFLOW_CONN_FANTASY_DB=db, **{f"FANTASY_{k.upper()}": v for k, v in settings.items()})
    return subprocess.run(
        [str(VENV_BIN / "fantasy-jobs"), "run", job], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("job", "setting", "value", "says"),
    [
        (
            "cleanup_old_data",
            "job_history_retention_days",
            "0",
            "between 1 and 3650, got '0' (the floor: a day",
        ),
        (
            "cleanup_airflow_metadata",
            "airflow_retention_days",
            "0",
            "between 7 and 3650, got '0' (the floor: a week",
        ),
        ("cleanup_airflow_metadata", "airflow_retention_days", "6", "between 7 and 3650, got '6'"),
        ("process_notifications", "notification_lease_seconds", "1e308", "between 1 and 86400, got '1e308'"),
        ("process_notifications", "notification_concurrency", "100000", "between 1 and 1024, got '100000'"),
    ],
)
def test_a_setting_out_of_bounds_is_refused_before_anything_runs(tmp_path, job, setting, value, says):
    db = f"sqlite:///{tmp_path / 'app.db'}"
    assert (
        subprocess.run(
            [str(VENV_BIN / "fantasy-jobs"), "init-db"],
            env=airflow_env(AIRFLOW_CONN_FANTASY_DB=db),
            capture_output=True,
        ).returncode
        == 0
    )
    # a run of the job that is still going: a cleanup at retention 0 would have deleted its row
    engine = create_engine(db)
    with engine.begin() as conn:
        conn.execute(
            JobExecution.__table__.insert().values(
                job_id="calculate_fantasy_scores",
                started_at=datetime(2020, 1, 1, tzinfo=UTC),  # old: any retention would reach it
                status="running",
                trigger="scheduled",
                dry_run=False,
                long_running=False,
            )
        )
    done = run(db, job, **{setting: value})
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"setting {setting} from environment variable FANTASY_{setting.upper()} must be {says}" in done.stderr
    )
    with engine.connect() as conn:
        kept = conn.scalar(select(func.count()).where(JobExecution.status == "running"))
    engine.dispose()
    assert kept == 1


def test_cleanup_old_data_never_deletes_a_running_row(tmp_path):
    """At its smallest retention, beside finished rows as old: the finished ones go, the running one
    (a run still going, however long) stays."""
    db = f"sqlite:///{tmp_path / 'app.db'}"
    subprocess.run(
        [str(VENV_BIN / "fantasy-jobs"), "init-db"],
        env=airflow_env(AIRFLOW_CONN_FANTASY_DB=db),
        check=True,
        capture_output=True,
    )
    engine = create_engine(db)
    old = datetime(2020, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for status in ("running", "completed", "failed", "abandoned"):
            conn.execute(
                JobExecution.__table__.insert().values(
                    job_id="calculate_fantasy_scores",
                    status=status,
                    started_at=old,
                    trigger="scheduled",
                    dry_run=False,
                    long_running=False,
                )
            )
    done = run(db, "cleanup_old_data", job_history_retention_days="1")
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        left = conn.execute(select(JobExecution.status).where(JobExecution.started_at == old)).scalars().all()
    engine.dispose()
    assert left == ["running"]
