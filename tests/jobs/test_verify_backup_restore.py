"""verify_backup_restore: a good backup verifies; a corrupted file, a dump that does not restore and a
manifest mismatch each fail with a clear message and one Slack message; nothing is left behind."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, text, update

from fantasy_jobs import alerts
from fantasy_jobs.db import make_engine
from fantasy_jobs.errors import JobSkipped
from fantasy_jobs.jobs.backup import _sha256
from fantasy_jobs.jobs.restore import SCRATCH_PREFIX, RestoreCheckFailed
from fantasy_jobs.schema import Backup, JobExecution, utcnow
from fantasy_jobs.scratch import RESTORE_DOWNLOAD, RESTORE_FOLDER, database_tag
from tests.support.jobs import run_job

NY = ZoneInfo("America/New_York")
BACKUP_AT = datetime(2026, 6, 27, 2, 0, tzinfo=NY)
CHECK_AT = datetime(2026, 6, 27, 3, 30, tzinfo=NY)  # Saturday 03:30


@pytest.fixture
def setup(demo_engine, tmp_path, monkeypatch, slack):
    """A demo database with one backup; Slack pointed at the stand-in; temporary files in tmp_path."""
    monkeypatch.setenv("FANTASY_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run_job(demo_engine, "backup_database", BACKUP_AT)
    return demo_engine, scratch


def backup_row(engine) -> Backup:
    with engine.connect() as conn:
        return conn.execute(select(Backup)).one()


def assert_nothing_left(engine, scratch: Path) -> None:
    assert list(scratch.iterdir()) == [], "no temporary folder or file is left"
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            left = conn.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": SCRATCH_PREFIX + "%"}
            ).all()
        assert left == [], "no scratch database is left"


def test_a_good_backup_verifies_and_the_outcome_is_recorded(setup, slack):
    engine, scratch = setup
    manifest = backup_row(engine).manifest
    assert manifest["player_game_stats"] > 1000 and manifest["backups"] == 0  # counted in the dump's snapshot
    dry = run_job(engine, "verify_backup_restore", CHECK_AT, dry_run=True)
    assert "would restore" in dry.summary and backup_row(engine).restore_result is None
    result = run_job(engine, "verify_backup_restore", CHECK_AT)
    row = backup_row(engine)
    assert row.restore_result == "passed" and row.restore_verified_at is not None
    assert row.restore_duration_s > 0 and "match the manifest" in row.restore_message
    assert result.details["tables"] == manifest
    assert slack.requests == []
    assert_nothing_left(engine, scratch)


def corrupt(row: Backup) -> None:
    data = bytearray(Path(row.path).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])  # always a change
    Path(row.path).write_bytes(bytes(data))


def test_a_corrupted_file_fails_with_one_alert(setup, slack):
    engine, scratch = setup
    corrupt(backup_row(engine))
    with pytest.raises(RestoreCheckFailed, match="is corrupted: its sha256"):
        run_job(engine, "verify_backup_restore", CHECK_AT)
    row = backup_row(engine)
    assert row.restore_result == "failed" and "corrupted" in row.restore_message
    (message,) = slack.requests
    assert "Backup restore check failed" in message.json()["text"] and row.path in message.json()["text"]
    assert_nothing_left(engine, scratch)


def test_a_dump_that_does_not_restore_fails_with_one_alert(setup, slack):
    engine, scratch = setup
    row = backup_row(engine)
    Path(row.path).write_bytes(Path(row.path).read_bytes()[:4096])  # truncated, checksum updated to match
    with engine.begin() as conn:
        conn.execute(update(Backup).values(checksum=_sha256(Path(row.path))))
    expected = "pg_restore of .* failed" if engine.dialect.name == "postgresql" else "SQLite"
    with pytest.raises(RestoreCheckFailed, match=expected):
        run_job(engine, "verify_backup_restore", CHECK_AT)
    assert backup_row(engine).restore_result == "failed"
    assert len(slack.requests) == 1
    assert_nothing_left(engine, scratch)


def test_a_manifest_mismatch_fails_with_one_alert_naming_the_table(setup, slack):
    engine, scratch = setup
    manifest = dict(backup_row(engine).manifest)
    manifest["players"] += 1
    with engine.begin() as conn:
        conn.execute(update(Backup).values(manifest=manifest))
    with pytest.raises(RestoreCheckFailed, match=r"players: \d+ restored, \d+ in the manifest"):
        run_job(engine, "verify_backup_restore", CHECK_AT)
    (message,) = slack.requests
    assert (
        f"players: {manifest['players'] - 1} restored, {manifest['players']} in the manifest"
        in message.json()["text"]
    )
    assert backup_row(engine).restore_result == "failed"
    assert_nothing_left(engine, scratch)


def test_no_backup_yet_is_a_skip_and_the_failure_callback_stays_quiet_after_the_jobs_alert(
    engine, slack, monkeypatch
):
    with pytest.raises(JobSkipped, match="no backup to verify"):
        run_job(engine, "verify_backup_restore", CHECK_AT)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    error = RestoreCheckFailed("mismatch")
    error.alerted = True
    alerts.task_failure_alert({"exception": error})
    alerts.task_failure_alert({"exception": RuntimeError("boom")})
    assert len(slack.requests) == 1 and "boom" in slack.requests[0].json()["text"]


def test_a_backup_in_object_storage_is_downloaded_restored_and_the_download_removed(tmp_path, monkeypatch):
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.schema import create_all

    engine = make_engine(f"sqlite:///{tmp_path / 'small.db'}")
    create_all(engine)
    monkeypatch.setenv("FANTASY_BACKUP_DIR", f"file://{tmp_path}/remote")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run_job(engine, "backup_database", BACKUP_AT)
    assert backup_row(engine).path.startswith("file://")
    run_job(engine, "verify_backup_restore", CHECK_AT)
    assert backup_row(engine).restore_result == "passed"
    assert_nothing_left(engine, scratch)
    engine.dispose()


def execution(engine, status: str) -> int:
    """A job_executions row of verify_backup_restore in `status`: the owner of some scratch."""
    with engine.begin() as conn:
        return conn.execute(
            insert(JobExecution)
            .values(job_id="verify_backup_restore", status=status, trigger="cli", started_at=utcnow())
            .returning(JobExecution.id)
        ).scalar_one()


def scratch_databases(engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": SCRATCH_PREFIX + "%"}
            )
        )


def test_scratch_of_runs_that_are_over_is_removed_a_live_runs_and_another_databases_are_kept(setup):
    """What killed runs left (their rows abandoned or failed) goes at the next start, whatever its
    age; a running row's scratch, another app database's and names this job does not make stay."""
    engine, scratch = setup
    over = [execution(engine, "abandoned"), execution(engine, "failed")]
    live = execution(engine, "running")
    tag = database_tag(engine)
    other = "0" * 8 if tag != "0" * 8 else "1" * 8
    leftovers = {f"{RESTORE_FOLDER.prefix}{tag}-{i}-x" for i in over}
    leftovers.add(f"{RESTORE_DOWNLOAD.prefix}{tag}-{over[0]}-y")
    kept = {f"{RESTORE_FOLDER.prefix}{tag}-{live}-z", f"{RESTORE_FOLDER.prefix}{other}-{over[0]}-w"}
    kept.add(f"{RESTORE_FOLDER.prefix}unowned")
    for name in leftovers | kept:
        (scratch / name).mkdir()
        (scratch / name / "restored.sqlite3").write_bytes(b"x" * 1000)
    if engine.dialect.name == "postgresql":
        doomed = {f"{SCRATCH_PREFIX}{tag}_{i}_ab" for i in over}
        spared = {f"{SCRATCH_PREFIX}{tag}_{live}_ab", f"{SCRATCH_PREFIX}{other}_{over[0]}_ab"}
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in doomed | spared:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        leftovers |= doomed
    try:
        result = run_job(engine, "verify_backup_restore", CHECK_AT)
        assert sorted(result.details["removed_scratch"]) == sorted(leftovers)
        assert f"removed {len(leftovers)} scratch resources" in result.summary
        assert {p.name for p in scratch.iterdir()} == kept
        if engine.dialect.name == "postgresql":
            assert scratch_databases(engine) == spared
    finally:
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for name in scratch_databases(engine):
                    conn.execute(text(f'DROP DATABASE "{name}"'))


@pytest.mark.parametrize("demo_engine", ["postgresql"], indirect=True)
def test_an_orphaned_scratch_database_someone_is_connected_to_is_kept(setup, postgres):
    """A scratch database whose owner row is over but that a session still uses is not force-dropped
    (PostgreSQL waits 5 s for the session to leave, then refuses)."""
    engine, _ = setup
    name = f"{SCRATCH_PREFIX}{database_tag(engine)}_{execution(engine, 'abandoned')}_ab"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    user = make_engine(postgres.url(name))
    try:
        with user.connect() as session:
            session.execute(text("SELECT 1"))
            result = run_job(engine, "verify_backup_restore", CHECK_AT)
            assert result.details["removed_scratch"] == [] and scratch_databases(engine) == {name}
        user.dispose()
        assert run_job(engine, "verify_backup_restore", CHECK_AT).details["removed_scratch"] == [name]
        assert scratch_databases(engine) == set()
    finally:
        user.dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
