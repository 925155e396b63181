"""Restore checks and backups own their scratch: real `fantasy-jobs run` processes.

- Two app databases on one PostgreSQL server (production and staging) verify their backups at the
  same moment: staging's run starts and finishes while production's `pg_restore` is in the middle of
  its scratch database, and both pass.
- A SQLite restore check killed with SIGKILL mid-copy leaves its scratch folder (a full-size copy);
  the next run removes it and passes.

Each counts what was lost (a good backup recorded failed), leaked (scratch left) or harmed.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text

from fantasy_jobs.db import make_engine
from fantasy_jobs.jobs.restore import SCRATCH_PREFIX
from fantasy_jobs.schema import Backup
from fantasy_jobs.scratch import RESTORE_FOLDER, database_tag
from tests.faults.test_crashed_runs import PAST, cli, start, wait_for
from tests.support.postgres import postgres_bin_dir

pytestmark = pytest.mark.faults


def demo_copy(postgres, template: str, label: str):
    """A PostgreSQL app database holding the demo data: (engine, Airflow URI)."""
    name = f"{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.url("postgres").replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return make_engine(postgres.url(name)), postgres.airflow_uri(name)


def restore_outcome(engine) -> list[tuple[str | None, str | None]]:
    with engine.connect() as conn:
        return conn.execute(select(Backup.restore_result, Backup.restore_message)).all()


def scratch_databases(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.scalars(
            text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": SCRATCH_PREFIX + "%"}
        ).all()


def gated_pg_restore(folder: Path, gate: Path) -> Path:
    """pg_dump and pg_restore that run the real ones, except that a restore into a database first
    says so (`gate/started`) and waits for `gate/go`."""
    real = postgres_bin_dir()
    folder.mkdir()
    (folder / "pg_dump").symlink_to(real / "pg_dump")
    script = folder / "pg_restore"
    script.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" --dbname "*)\n'
        f'  touch "{gate}/started"\n'
        f'  while [ ! -e "{gate}/go" ]; do sleep 0.05; done;;\n'
        "esac\n"
        f'exec "{real}/pg_restore" "$@"\n'
    )
    script.chmod(0o755)
    return folder


def test_two_app_databases_on_one_server_verify_their_backups_at_the_same_moment(
    postgres, demo_templates, tmp_path
):
    production, production_uri = demo_copy(postgres, demo_templates["postgresql"], "production")
    staging, staging_uri = demo_copy(postgres, demo_templates["postgresql"], "staging")
    gate = tmp_path / "gate"
    gate.mkdir()
    tools = gated_pg_restore(tmp_path / "tools", gate)
    try:
        for uri, label in ((production_uri, "production"), (staging_uri, "staging")):
            done = cli(uri, "backup_database", "--at", PAST, FANTASY_BACKUP_DIR=str(tmp_path / label))
            assert done.returncode == 0, done.stdout + done.stderr

        first = start(
            production_uri,
            tmp_path,
            "production-verify",
            "verify_backup_restore",
            "--at",
            PAST,
            FANTASY_BACKUP_DIR=str(tmp_path / "production"),
            FANTASY_PG_BIN_DIR=str(tools),
        )
        try:
            wait_for("production's pg_restore to start", lambda: (gate / "started").exists(), timeout=60)
            (held,) = scratch_databases(production)  # production's scratch, mid-restore

            second = cli(
                staging_uri,
                "verify_backup_restore",
                "--at",
                PAST,
                FANTASY_BACKUP_DIR=str(tmp_path / "staging"),
            )
            assert second.returncode == 0, second.stdout + second.stderr
            assert scratch_databases(production) == [held], "staging's run touched production's scratch"

            (gate / "go").touch()
            assert first.wait(120) == 0, (tmp_path / "production-verify.log").read_text()[-3000:]
        finally:
            (gate / "go").touch()
            if first.poll() is None:
                first.kill()
        outcomes = [restore_outcome(production), restore_outcome(staging)]
        failed = [o for rows in outcomes for o in rows if o[0] != "passed"]
        assert failed == [], failed  # good backups recorded failed: 0
        assert scratch_databases(production) == []  # scratch left behind: 0
        assert held.startswith(f"{SCRATCH_PREFIX}{database_tag(production)}_")  # named after its owner
    finally:
        production.dispose()
        staging.dispose()


def test_a_killed_sqlite_restore_check_leaves_a_copy_the_next_run_removes(demo_templates, tmp_path):
    app_file = tmp_path / "app.db"
    shutil.copy(demo_templates["sqlite"], app_file)
    with sqlite3.connect(app_file) as conn:  # a database big enough to catch the copy in the middle
        conn.execute("CREATE TABLE ballast (b BLOB)")
        conn.executemany("INSERT INTO ballast VALUES (randomblob(1000000))", [()] * 150)
    uri, temp = f"sqlite:///{app_file}", tmp_path / "tmp"
    temp.mkdir()
    env = {"FANTASY_BACKUP_DIR": str(tmp_path / "backups"), "TMPDIR": str(temp)}
    done = cli(uri, "backup_database", "--at", PAST, **env)
    assert done.returncode == 0, done.stdout + done.stderr

    check = start(uri, tmp_path, "verify", "verify_backup_restore", "--at", PAST, **env)
    try:
        copy = wait_for(
            "the restore copy to be written",
            lambda: next(iter(temp.glob(f"{RESTORE_FOLDER.prefix}*/restored.sqlite3")), None),
            timeout=60,
        )
        check.send_signal(signal.SIGKILL)
        assert check.wait(10) == -signal.SIGKILL
    finally:
        if check.poll() is None:
            check.kill()
    leftover = copy.parent
    assert leftover.is_dir() and (leftover / "owner.json").is_file()
    left_bytes = sum(p.stat().st_size for p in leftover.iterdir())

    again = cli(uri, "verify_backup_restore", "--at", PAST, **env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"removed {leftover}, left by job_executions" in again.stdout
    assert not leftover.exists(), f"{left_bytes} bytes leaked"
    assert list(temp.glob(f"{RESTORE_FOLDER.prefix}*")) == []  # leaked scratch folders: 0
    engine = make_engine(uri)
    try:
        assert [r for r, _ in restore_outcome(engine)] == ["passed"]
    finally:
        engine.dispose()
    assert os.path.getsize(app_file) > 150_000_000
