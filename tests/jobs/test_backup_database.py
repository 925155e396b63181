"""backup_database: a verified backup that restores, retention over 40 days, clear tool errors."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, text

from fantasy_jobs.demo import load_demo
from fantasy_jobs.errors import PermanentJobError
from fantasy_jobs.jobs.backup import files_to_delete
from fantasy_jobs.schema import Backup, Base, JobExecution, utcnow
from fantasy_jobs.scratch import BACKUP_LOCAL_STAGING, BACKUP_STAGING, database_tag
from tests.support.jobs import run_job
from tests.support.postgres import PASSWORD, postgres_bin_dir

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 29, 2, 0, tzinfo=NY)


@pytest.fixture
def backup_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "backups"
    monkeypatch.setenv("FANTASY_BACKUP_DIR", str(folder))
    return folder


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.scalar(text(f"SELECT count(*) FROM {name}")) for name in sorted(Base.metadata.tables)
        }


def test_backup_is_verified_recorded_and_restores_with_the_same_rows(engine, backup_dir, postgres):
    load_demo(engine)
    result = run_job(engine, "backup_database", NOW)
    files = sorted(p.name for p in backup_dir.iterdir())
    suffix = "dump" if engine.dialect.name == "postgresql" else "sqlite3"
    assert files == [f"fantasy_db-20260629T060000Z.{suffix}"]
    path = backup_dir / files[0]
    with engine.connect() as conn:
        row = conn.execute(select(Backup)).one()
    assert row.path == str(path) and row.verified and row.size_bytes == path.stat().st_size
    assert row.checksum == hashlib.sha256(path.read_bytes()).hexdigest() == result.details["sha256"]

    expected = row_counts(engine)
    expected["backups"] -= 1  # the backups row is written after the dump was taken
    if engine.dialect.name == "postgresql":
        target = postgres.create_database("restored")
        subprocess.run(
            [
                str(postgres_bin_dir() / "pg_restore"),
                "--no-owner",
                "-h",
                "127.0.0.1",
                "-p",
                str(postgres.port),
                "-U",
                "fantasy",
                "-d",
                target,
                str(path),
            ],
            env={"PGPASSWORD": PASSWORD},
            check=True,
            capture_output=True,
        )
        from fantasy_jobs.db import make_engine

        restored = make_engine(postgres.url(target))
    else:
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        from fantasy_jobs.db import make_engine

        restored = make_engine(f"sqlite:///{path}")
    assert row_counts(restored) == expected
    assert expected["player_game_stats"] > 1000
    restored.dispose()


def test_same_run_twice_rewrites_the_same_backup(engine, backup_dir):
    run_job(engine, "backup_database", NOW)
    run_job(engine, "backup_database", NOW)
    assert len(list(backup_dir.iterdir())) == 1
    with engine.connect() as conn:
        assert len(conn.execute(select(Backup)).all()) == 1


def test_no_partial_file_is_left_and_dry_run_writes_nothing(engine, backup_dir):
    result = run_job(engine, "backup_database", NOW, dry_run=True)
    assert "would write" in result.summary
    assert not backup_dir.exists() or list(backup_dir.iterdir()) == []
    run_job(engine, "backup_database", NOW)
    assert [p.name for p in backup_dir.iterdir() if "partial" in p.name] == []


def test_retention_over_40_days_keeps_7_daily_and_4_weekly(tmp_path, monkeypatch, backup_dir):
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.schema import create_all

    engine = make_engine(f"sqlite:///{tmp_path / 'small.db'}")
    create_all(engine)
    (backup_dir).mkdir(parents=True)
    (backup_dir / "notes.txt").write_text("not ours")
    (backup_dir / "fantasy_db-manual.sqlite3").write_text("not ours either")
    first = datetime(2026, 3, 2, 2, 0, tzinfo=NY)  # a Monday
    for day in range(40):
        run_job(engine, "backup_database", first + timedelta(days=day))
    kept = sorted(p.name for p in backup_dir.iterdir())
    # Daily: the 7 newest (Apr 4-10). Weekly: the first backup of each of the 4 newest weeks
    # (weeks starting Mar 16, Mar 23, Mar 30, Apr 6; Apr 6 is already a daily one).
    # 02:00 New York is 07:00 UTC before DST (Mar 8) and 06:00 UTC after.
    expected = sorted(
        [f"fantasy_db-202603{d:02d}T060000Z.sqlite3" for d in (16, 23, 30)]
        + [f"fantasy_db-202604{d:02d}T060000Z.sqlite3" for d in range(4, 11)]
        + ["notes.txt", "fantasy_db-manual.sqlite3"]
    )
    assert kept == expected
    with engine.connect() as conn:
        live = conn.execute(select(Backup.path).where(Backup.deleted_at.is_(None))).scalars().all()
    assert sorted(Path(p).name for p in live) == [n for n in expected if n.endswith("Z.sqlite3")]
    engine.dispose()


def test_retention_rule_ignores_foreign_names():
    names = ["x.dump", "fantasy_db-20260101T000000Z.dump", "fantasy_db-20260102T000000Z.dump"]
    assert files_to_delete(names, keep_daily=1, keep_weekly=0) == ["fantasy_db-20260101T000000Z.dump"]


def test_object_storage_url_works_through_objectstoragepath(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("FANTASY_BACKUP_DIR", f"file://{tmp_path}/remote")
    result = run_job(engine, "backup_database", NOW)
    names = [p.name for p in (tmp_path / "remote").iterdir()]
    assert len(names) == 1 and names[0].startswith("fantasy_db-20260629T060000Z")
    assert result.details["path"].startswith("file://")


def test_missing_pg_dump_is_a_clear_permanent_error(pg_engine, backup_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("FANTASY_PG_BIN_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(PermanentJobError, match="pg_dump was not found"):
        run_job(pg_engine, "backup_database", NOW)


def test_too_old_pg_dump_is_a_clear_permanent_error(pg_engine, backup_dir, monkeypatch, tmp_path):
    tools = tmp_path / "oldbin"
    tools.mkdir()
    for name in ("pg_dump", "pg_restore"):
        script = tools / name
        script.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) 9.6.24'\n")
        script.chmod(0o755)
    monkeypatch.setenv("FANTASY_PG_BIN_DIR", str(tools))
    with pytest.raises(PermanentJobError, match=r"pg_dump is too old for the PostgreSQL \d+ server"):
        run_job(pg_engine, "backup_database", NOW)
    assert not backup_dir.exists() or list(backup_dir.iterdir()) == []


def test_password_reaches_pg_dump_only_through_the_environment(pg_engine, backup_dir, monkeypatch, tmp_path):
    """A pg_dump stand-in records its argv and PGPASSWORD, then calls the real one."""
    real = postgres_bin_dir()
    tools = tmp_path / "spy"
    tools.mkdir()
    (tools / "pg_dump").write_text(
        f'#!/bin/sh\necho "$@" > {tmp_path}/argv\necho "$PGPASSWORD" > {tmp_path}/env\nexec {real}/pg_dump "$@"\n'
    )
    (tools / "pg_restore").symlink_to(real / "pg_restore")
    (tools / "pg_dump").chmod(0o755)
    monkeypatch.setenv("FANTASY_PG_BIN_DIR", str(tools))
    result = run_job(pg_engine, "backup_database", NOW)
    assert PASSWORD not in (tmp_path / "argv").read_text()
    assert (tmp_path / "env").read_text().strip() == PASSWORD
    assert PASSWORD not in str(result.details) and PASSWORD not in result.summary


def execution(engine, status: str) -> int:
    """A backup_database row in `status`: the owner of a staging folder."""
    with engine.begin() as conn:
        return conn.execute(
            insert(JobExecution)
            .values(job_id="backup_database", status=status, trigger="cli", started_at=utcnow())
            .returning(JobExecution.id)
        ).scalar_one()


def half_a_dump(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "fantasy_db-20260601T060000Z.dump").write_bytes(b"half a dump")
    return folder


def test_a_partial_of_a_run_that_is_over_goes_whatever_its_age_a_live_runs_stays(engine, backup_dir):
    killed, live = execution(engine, "abandoned"), execution(engine, "running")
    tag = database_tag(engine)
    other = "0" * 8 if tag != "0" * 8 else "1" * 8
    orphaned = half_a_dump(backup_dir / f"{BACKUP_STAGING.prefix}{tag}-{killed}-a1b2c3d4")  # a minute old
    kept = {
        half_a_dump(backup_dir / f"{BACKUP_STAGING.prefix}{tag}-{live}-e5f6g7h8").name,  # running
        half_a_dump(backup_dir / f"{BACKUP_STAGING.prefix}{other}-{killed}-i9j0k1l2").name,  # another app db
        half_a_dump(backup_dir / ".partial-young123").name,  # unowned (an older version), under a day
    }
    unowned_old = half_a_dump(backup_dir / ".partial-old45678")
    two_days_ago = time.time() - 2 * 86400
    os.utime(unowned_old, (two_days_ago, two_days_ago))
    result = run_job(engine, "backup_database", NOW)
    assert sorted(result.details["removed_partials"]) == sorted([orphaned.name, unowned_old.name])
    assert "removed 2 partial backups of runs that are over" in result.summary
    assert {p.name for p in backup_dir.iterdir() if p.is_dir()} == kept


def test_a_partial_upload_to_object_storage_of_a_run_that_is_over_goes(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("FANTASY_BACKUP_DIR", f"file://{tmp_path}/remote")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    killed, live = execution(engine, "failed"), execution(engine, "running")
    tag = database_tag(engine)
    (tmp_path / "remote").mkdir()
    upload = tmp_path / "remote" / f"{BACKUP_STAGING.prefix}{tag}-{killed}-fantasy_db-20260601T060000Z.dump"
    uploading = tmp_path / "remote" / f"{BACKUP_STAGING.prefix}{tag}-{live}-fantasy_db-20260602T060000Z.dump"
    for path in (upload, uploading):
        path.write_bytes(b"half")
    local = half_a_dump(temp / f"{BACKUP_LOCAL_STAGING.prefix}{tag}-{killed}-abcdefgh")
    result = run_job(engine, "backup_database", NOW)
    assert sorted(result.details["removed_partials"]) == sorted([upload.name, local.name])
    assert sorted(p.name for p in (tmp_path / "remote").iterdir()) == [
        uploading.name,
        "fantasy_db-20260629T060000Z.dump"
        if engine.dialect.name == "postgresql"
        else "fantasy_db-20260629T060000Z.sqlite3",
    ]
    assert list(temp.iterdir()) == []
