"""verify_backup_restore: a backup is only proven by restoring it.

The newest live backup is checked against its sha256, restored into a scratch database
(PostgreSQL: a temporary database on the same server, through pg_restore; SQLite: a copy in a
temporary folder, integrity-checked), and every app table's row count is compared with the
manifest backup_database wrote in the dump's own snapshot. The scratch database or folder is
removed afterwards, also on failure. Scratch names carry their owner (this app database and the
run's job_executions id, see `fantasy_jobs.scratch`): the next run removes what a killed run left,
and never another app database's scratch or a live run's. The outcome and duration go on the backup's row (`restore_verified_at`,
`restore_result`, `restore_message`, `restore_duration_s`); a corrupted file, a failed restore or
a mismatch fails the job at once (no retry can fix it) with one Slack message.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select, text, update

from fantasy_jobs.db import make_engine, session_scope
from fantasy_jobs.errors import JobSkipped, PermanentJobError
from fantasy_jobs.jobs.backup import _pg_environment, _pg_tools, _sha256, run_tied, table_counts
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import Backup, utcnow
from fantasy_jobs.scratch import (
    RESTORE_DATABASE,
    RESTORE_DOWNLOAD,
    RESTORE_FOLDER,
    app_database,
    remove_orphaned_folders,
    temp_root,
    write_owner,
)

SCRATCH_PREFIX = RESTORE_DATABASE.prefix


class RestoreCheckFailed(PermanentJobError):
    """The newest backup did not restore, or restored with other row counts than its manifest."""

    alerted = False  # set once the job sent its own Slack message; the failure callback then stays quiet


def newest_backup(engine) -> Backup | None:
    with session_scope(engine) as session:
        row = session.scalar(
            select(Backup)
            .where(Backup.deleted_at.is_(None), Backup.verified.is_(True))
            .order_by(Backup.created_at.desc(), Backup.id.desc())
            .limit(1)
        )
        if row is not None:
            session.expunge(row)
        return row


@contextlib.contextmanager
def local_copy(ctx: JobContext, path: str) -> Iterator[Path]:
    """The backup as a local file (object-storage backups are downloaded to a temporary folder)."""
    if "://" not in path:
        yield Path(path)
        return
    from airflow.sdk import ObjectStoragePath

    prefix = RESTORE_DOWNLOAD.owned_prefix(ctx.engine, ctx.execution_id)
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        write_owner(Path(folder), ctx.engine, ctx.execution_id, ctx.job.id)
        local = Path(folder) / Path(path).name
        with ObjectStoragePath(path).open("rb") as source, local.open("wb") as target:
            shutil.copyfileobj(source, target, length=1024 * 1024)
        yield local


def _autocommit(engine):
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def drop_orphaned_scratch_databases(ctx: JobContext) -> list[str]:
    """Scratch databases of this app database's earlier runs that are over (a killed run could not
    drop its own). Dropped without FORCE: a database someone is still connected to is kept."""
    from sqlalchemy.exc import DBAPIError

    from fantasy_jobs.scratch import orphans

    with _autocommit(ctx.engine) as conn:
        names = conn.scalars(
            text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
            {"prefix": RESTORE_DATABASE.prefix + "%"},
        ).all()
        dropped = []
        for name in orphans(ctx.engine, RESTORE_DATABASE, names, ctx.execution_id):
            try:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            except DBAPIError as exc:  # 55006 object_in_use: a session is still in it
                ctx.log.warning("kept scratch database %s: %s", name, str(exc.orig).splitlines()[0])
                continue
            ctx.log.warning("dropped scratch database %s, left by a run that is over", name)
            dropped.append(name)
    return dropped


def restore_postgres(ctx: JobContext, dump: Path) -> dict[str, int]:
    """pg_restore `dump` into a temporary database on the same server; its row counts; dropped after."""
    engine, log = ctx.engine, ctx.log
    with engine.connect() as conn:
        server_major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    tools = _pg_tools(server_major)
    scratch = RESTORE_DATABASE.owned_prefix(engine, ctx.execution_id) + uuid.uuid4().hex[:6]
    owner = f"scratch of {ctx.job.id} run {ctx.execution_id} for {app_database(engine)}".replace("'", "''")
    try:
        with _autocommit(engine) as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
            conn.exec_driver_sql(f"COMMENT ON DATABASE \"{scratch}\" IS '{owner}'")  # no bind params: ':5432'
    except Exception as exc:
        raise RuntimeError(
            f"could not create the scratch database {scratch} (the fantasy_db role needs CREATEDB): "
            f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None
    scratch_url = engine.url.set(database=scratch)
    try:
        log.info("restoring %s into scratch database %s", dump.name, scratch)
        done = run_tied(
            [tools.pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", scratch]
            + [str(dump)],
            _pg_environment(scratch_url),
        )
        if done.returncode != 0:
            raise RestoreCheckFailed(
                f"pg_restore of {dump.name} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}"
            )
        scratch_engine = make_engine(scratch_url.render_as_string(hide_password=False))
        try:
            with scratch_engine.connect() as conn:
                return table_counts(conn)
        finally:
            scratch_engine.dispose()
    finally:
        with _autocommit(engine) as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        log.info("scratch database %s dropped", scratch)


def restore_sqlite(ctx: JobContext, backup: Path) -> dict[str, int]:
    """A copy of the SQLite backup in a temporary folder, integrity-checked; its row counts."""
    from sqlalchemy import create_engine

    prefix = RESTORE_FOLDER.owned_prefix(ctx.engine, ctx.execution_id)
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        write_owner(Path(folder), ctx.engine, ctx.execution_id, ctx.job.id)
        copy = Path(folder) / "restored.sqlite3"
        shutil.copyfile(backup, copy)
        ctx.log.info("restoring %s into %s", backup.name, copy)
        try:
            with contextlib.closing(sqlite3.connect(copy)) as conn:
                check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise RestoreCheckFailed(f"{backup.name} is not a readable SQLite database: {exc}") from None
        if check != "ok":
            raise RestoreCheckFailed(f"integrity_check of {backup.name} failed: {check}")
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as conn:
                return table_counts(conn)
        finally:
            engine.dispose()


def remove_orphaned_scratch(ctx: JobContext) -> list[str]:
    """What killed runs of this app database left: scratch folders and downloads, scratch databases."""
    removed = [
        *remove_orphaned_folders(ctx.engine, RESTORE_FOLDER, temp_root(), ctx.execution_id, ctx.log),
        *remove_orphaned_folders(ctx.engine, RESTORE_DOWNLOAD, temp_root(), ctx.execution_id, ctx.log),
    ]
    if ctx.engine.dialect.name == "postgresql":
        removed += drop_orphaned_scratch_databases(ctx)
    return removed


def compare(manifest: dict[str, int], restored: dict[str, int]) -> list[str]:
    """Every table whose restored row count differs from the manifest, as readable lines."""
    return [
        f"{table}: {restored.get(table, 'missing')} restored, {expected} in the manifest"
        for table, expected in sorted(manifest.items())
        if restored.get(table) != expected
    ]


def _record(engine, backup_id: int, result: str, message: str, duration: float) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(Backup)
            .where(Backup.id == backup_id)
            .values(
                restore_verified_at=utcnow(),
                restore_result=result,
                restore_message=message[:4000],
                restore_duration_s=round(duration, 3),
            )
        )


def verify_backup_restore(ctx: JobContext) -> JobResult:
    from fantasy_jobs.alerts import send_slack

    backup = newest_backup(ctx.engine)
    if backup is None:
        raise JobSkipped("no backup to verify yet: backups has no live, verified row")
    if ctx.dry_run:
        summary = f"dry run: would restore {backup.path} ({backup.backend}) and compare its row counts"
        return JobResult(1, summary, {"path": backup.path})

    started = time.perf_counter()
    leftovers = remove_orphaned_scratch(ctx)
    try:
        with local_copy(ctx, backup.path) as path:
            if not path.is_file():
                raise RestoreCheckFailed(f"backup file {backup.path} is missing")
            checksum = _sha256(path)
            if checksum != backup.checksum:
                raise RestoreCheckFailed(
                    f"backup file {backup.path} is corrupted: its sha256 {checksum[:12]}... differs from the "
                    f"{backup.checksum[:12]}... recorded when it was written"
                )
            if backup.backend == "postgresql":
                restored = restore_postgres(ctx, path)
            else:
                restored = restore_sqlite(ctx, path)
        if backup.manifest is None:
            message = f"restored {sum(restored.values())} rows; no manifest to compare (an older backup)"
        else:
            mismatches = compare(backup.manifest, restored)
            if mismatches:
                raise RestoreCheckFailed(
                    f"backup {backup.path} restored with other row counts than its manifest: "
                    + "; ".join(mismatches)
                )
            message = f"restored; row counts of {len(backup.manifest)} tables match the manifest"
    except RestoreCheckFailed as failure:
        duration = time.perf_counter() - started
        _record(ctx.engine, backup.id, "failed", str(failure), duration)
        ctx.log.error("restore check failed: %s", failure)
        send_slack(f":red_circle: *Backup restore check failed* (`verify_backup_restore`)\n{failure}"[:3000])
        failure.alerted = True
        raise
    except Exception as exc:  # e.g. the server refused the scratch database: retried, then the failure alert
        _record(
            ctx.engine, backup.id, "failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - started
        )
        raise
    duration = time.perf_counter() - started
    _record(ctx.engine, backup.id, "passed", message, duration)
    summary = f"backup {Path(backup.path).name}: {message} ({duration:.1f} s)"
    summary += f"; removed {len(leftovers)} scratch resources of runs that are over" if leftovers else ""
    details = {"path": backup.path, "tables": restored, "duration_s": round(duration, 3)}
    return JobResult(1, summary, details | {"removed_scratch": leftovers})
