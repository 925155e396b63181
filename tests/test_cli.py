"""The fantasy-jobs console script, run as operators run it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from subprocess import PIPE

from sqlalchemy import create_engine, select

from fantasy_jobs.registry import schedule_markdown
from fantasy_jobs.schema import CacheEntry, JobExecution
from tests.conftest import REPO, VENV_BIN, airflow_env
from tests.support.jobs import count

README = REPO / "README.md"


def cli(*args: str, db: str | None = None) -> subprocess.CompletedProcess:
    env = airflow_env(**({"AIRFLOW_CONN_FANTASY_DB": db} if db else {}))
    return subprocess.run(
        [str(VENV_BIN / "fantasy-jobs"), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_init_load_run_on_sqlite(tmp_path):
    db = f"sqlite:///{tmp_path / 'app.db'}"
    assert "schema upgraded (empty) -> " in cli("init-db", db=db).stdout
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


def readme_cli_lines() -> list[list[str]]:
    """The commands of the README's "Command line" block, as an operator would type them."""
    block = README.read_text().split("## Command line", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].split() for line in block.splitlines() if line.startswith("fantasy-jobs ")]


def test_the_readmes_command_lines_work_from_a_fresh_shell_in_the_checkout(tmp_path, airflow_home):
    """No AIRFLOW_* variable, a fresh HOME, the checkout's .airflow as `make run` leaves it: every
    README line works, says which home and database it uses, and ~/airflow is never created."""
    checkout, home = tmp_path / "checkout", tmp_path / "home"
    project_home = checkout / ".airflow"
    project_home.mkdir(parents=True)
    home.mkdir()
    (checkout / "docs").mkdir()
    # the metadata database `make run` migrates, with the fantasy_db connection it adds
    shutil.copy(Path(airflow_home) / "airflow.db", project_home / "airflow.db")
    app_db = project_home / "fantasy.db"
    with sqlite3.connect(project_home / "airflow.db") as meta:
        meta.execute(
            "INSERT INTO connection (conn_id, conn_type, schema, is_encrypted, is_extra_encrypted)"
            " VALUES ('fantasy_db', 'sqlite', ?, 0, 0)",
            (str(app_db),),
        )
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(tmp_path)}
    lines = readme_cli_lines()
    assert len(lines) >= 5 and ["fantasy-jobs", "run", "cache_cleanup", "--dry-run"] in lines

    def start(line: list[str], cwd: Path) -> subprocess.Popen:
        return subprocess.Popen(
            [str(VENV_BIN / line[0]), *line[1:]], cwd=cwd, env=env, stdout=PIPE, stderr=PIPE, text=True
        )

    # in README order, except that the lines after load-demo run side by side (time budget)
    load_at = next(i for i, line in enumerate(lines) if line[1] == "load-demo")
    for stage in (lines[:load_at], [lines[load_at]], lines[load_at + 1 :]):
        running = [(line, start(line, checkout / "docs")) for line in stage]  # anywhere inside the checkout
        for line, process in running:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, (line, out, err)
            if line[1] != "jobs":
                assert f"Airflow home {project_home} (the checkout's .airflow" in err, err
                assert f"database sqlite:///{app_db}" in err
    engine = create_engine(f"sqlite:///{app_db}")
    with engine.connect() as conn:
        tracked = conn.execute(select(JobExecution.job_id, JobExecution.trigger, JobExecution.dry_run)).all()
    engine.dispose()
    assert ("cache_cleanup", "cli", True) in tracked and ("reset_weekly_moves", "cli", False) in tracked
    assert not (home / "airflow").exists(), "~/airflow created as a side effect"


def test_without_any_airflow_home_the_error_names_the_real_fixes(tmp_path, monkeypatch, capsys):
    """Outside a checkout, no AIRFLOW_HOME, no ~/airflow: exit 2 naming make run, AIRFLOW_HOME and
    AIRFLOW_CONN_FANTASY_DB, and no ~/airflow made (in-process: Airflow is imported already)."""
    from fantasy_jobs import cli

    monkeypatch.delenv("AIRFLOW_HOME")
    monkeypatch.delenv("AIRFLOW_CONN_FANTASY_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site-packages" / "fantasy_jobs" / "cli.py"))
    assert cli.main(["init-db"]) == 2
    error = capsys.readouterr().err
    assert "connection 'fantasy_db' is not configured: found no Airflow home" in error
    assert "make run" in error and "set AIRFLOW_HOME" in error and "AIRFLOW_CONN_FANTASY_DB=" in error
    assert not (tmp_path / "home" / "airflow").exists()
