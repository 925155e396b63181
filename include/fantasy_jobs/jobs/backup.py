"""backup_database: pg_dump (custom format) or SQLite's online backup, verified and kept 7 daily + 4 weekly.

A backup is written under a temporary name and renamed only when complete and verified, so a
killed run never leaves a file that looks like a good backup. The staging folder's name carries its
owner (this app database and the run's job_executions id): the next run, a retry included, removes
the partial of a run that is over, whatever its age, and never a live run's. Retention deletes only files whose
name this job makes (`fantasy_db-YYYYMMDDTHHMMSSZ.dump|sqlite3`). The folder is a path or an
object-storage URL (Airflow's ObjectStoragePath, e.g. s3://conn_id@bucket/prefix).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.engine import URL

from fantasy_jobs import settings
from fantasy_jobs.db import session_scope
from fantasy_jobs.errors import ConfigError, PermanentJobError
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import Backup, utcnow
from fantasy_jobs.scratch import (
    BACKUP_LOCAL_STAGING,
    BACKUP_STAGING,
    orphans,
    remove_orphaned_folders,
    temp_root,
    write_owner,
)
from fantasy_jobs.timeutil import to_league

BACKUP_NAME = re.compile(r"^fantasy_db-(\d{8}T\d{6}Z)\.(dump|sqlite3)$")
UNOWNED_PARTIAL_SECONDS = 86400
"""A staging folder named before owners were (`.partial-<random>`) is removed when older than a day."""
UNOWNED_NAME = re.compile(r"^(?:\.partial-|fantasy-backup-)[a-z0-9_]{8}$")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


# --- where backups go ---------------------------------------------------------------------


class LocalFolder:
    """A folder on this machine; a finished file is renamed into place atomically."""

    def __init__(self, path: str) -> None:
        self.path = Path(path).expanduser()
        self.path.mkdir(parents=True, exist_ok=True)

    def staging(self, ctx: JobContext) -> tempfile.TemporaryDirectory:
        prefix = BACKUP_STAGING.owned_prefix(ctx.engine, ctx.execution_id)
        return tempfile.TemporaryDirectory(prefix=prefix, dir=self.path)

    def remove_orphans(self, ctx: JobContext) -> list[str]:
        """Staging folders of this app database's runs that are over (a killed run leaves its own)."""
        removed = remove_orphaned_folders(ctx.engine, BACKUP_STAGING, self.path, ctx.execution_id, ctx.log)
        return removed + remove_unowned_partials(ctx, self.path)

    def put(self, local: Path, name: str, ctx: JobContext) -> str:
        target = self.path / name
        os.replace(local, target)
        return str(target)

    def names(self) -> list[str]:
        return [p.name for p in self.path.iterdir() if p.is_file()]

    def delete(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)

    def location(self, name: str) -> str:
        return str(self.path / name)


class ObjectStorageFolder:
    """An object-storage URL through Airflow's ObjectStoragePath: upload under an owned partial name,
    then rename."""

    def __init__(self, url: str) -> None:
        from airflow.sdk import ObjectStoragePath

        self.base = ObjectStoragePath(url)
        self.base.mkdir(parents=True, exist_ok=True)

    def staging(self, ctx: JobContext) -> tempfile.TemporaryDirectory:
        return tempfile.TemporaryDirectory(
            prefix=BACKUP_LOCAL_STAGING.owned_prefix(ctx.engine, ctx.execution_id)
        )

    def remove_orphans(self, ctx: JobContext) -> list[str]:
        """Local copies and half-uploaded objects of this app database's runs that are over."""
        removed = remove_orphaned_folders(
            ctx.engine, BACKUP_LOCAL_STAGING, temp_root(), ctx.execution_id, ctx.log
        )
        removed += remove_unowned_partials(ctx, temp_root())
        uploads = [
            p.name for p in self.base.iterdir() if p.is_file() and p.name.startswith(BACKUP_STAGING.prefix)
        ]
        for name in orphans(ctx.engine, BACKUP_STAGING, uploads, ctx.execution_id):
            (self.base / name).unlink(missing_ok=True)
            ctx.log.warning("removed the partial upload %s, left by a run that is over", self.base / name)
            removed.append(name)
        return removed

    def put(self, local: Path, name: str, ctx: JobContext) -> str:
        partial = self.base / f"{BACKUP_STAGING.owned_prefix(ctx.engine, ctx.execution_id)}{name}"
        with local.open("rb") as source, partial.open("wb") as target:
            shutil.copyfileobj(source, target, length=1024 * 1024)
        final = self.base / name
        partial.rename(final)
        return str(final)

    def names(self) -> list[str]:
        return [p.name for p in self.base.iterdir() if p.is_file()]

    def delete(self, name: str) -> None:
        (self.base / name).unlink(missing_ok=True)

    def location(self, name: str) -> str:
        return str(self.base / name)


def backup_folder():
    configured = settings.get("backup_dir")
    if not configured:
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        configured = os.path.join(home, "backups")
    if "://" in configured:
        return ObjectStorageFolder(configured)
    return LocalFolder(configured)


def remove_unowned_partials(ctx: JobContext, parent: Path) -> list[str]:
    """Staging folders named before they carried an owner, older than a day by the real clock."""
    removed = []
    for path in parent.iterdir():
        if not (UNOWNED_NAME.match(path.name) and path.is_dir()):
            continue
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            continue
        if age > UNOWNED_PARTIAL_SECONDS:
            shutil.rmtree(path, ignore_errors=True)
            ctx.log.warning("removed the unowned staging folder %s (%.0f h old)", path, age / 3600)
            removed.append(path.name)
    return removed


# --- retention ----------------------------------------------------------------------------


def backup_time(name: str) -> datetime | None:
    match = BACKUP_NAME.match(name)
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if match else None


def files_to_delete(names: Iterable[str], keep_daily: int, keep_weekly: int) -> list[str]:
    """Which of this job's backups retention removes: all but the `keep_daily` newest and the
    `keep_weekly` newest weekly ones (a weekly backup is the first one of its fantasy week).
    Names this job does not make are never returned."""
    ours = sorted((t, n) for n in names if (t := backup_time(n)) is not None)
    keep = {n for _, n in ours[-keep_daily:]} if keep_daily else set()
    first_of_week: dict[tuple[int, int], str] = {}
    for stamp, name in ours:
        first_of_week.setdefault(to_league(stamp).isocalendar()[:2], name)
    weekly = [first_of_week[week] for week in sorted(first_of_week)]
    if keep_weekly:
        keep.update(weekly[-keep_weekly:])
    return [name for _, name in ours if name not in keep]


# --- the two engines ----------------------------------------------------------------------


@dataclass(frozen=True)
class PgTools:
    pg_dump: str
    pg_restore: str
    major: int


def _pg_tools(server_major: int) -> PgTools:
    """pg_dump and pg_restore at least as new as the server, or a clear error."""
    configured = settings.get("pg_bin_dir")
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: -int(p.parent.name))
    candidates: list[str | None] = [configured] if configured else [None, *map(str, installed)]
    found = []
    for folder in candidates:
        dump = shutil.which("pg_dump", path=folder) if folder else shutil.which("pg_dump")
        restore = shutil.which("pg_restore", path=folder) if folder else shutil.which("pg_restore")
        if not dump or not restore:
            continue
        out = subprocess.run([dump, "--version"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", out)
        if not match:
            continue
        major = int(match.group(1))
        found.append(f"{dump} ({major})")
        if major >= server_major:
            return PgTools(dump, restore, major)
    if not found:
        raise PermanentJobError(
            "pg_dump was not found: install the PostgreSQL client (e.g. apt-get install postgresql-client) "
            "or set FANTASY_PG_BIN_DIR to the folder that holds pg_dump and pg_restore"
        )
    raise PermanentJobError(
        f"pg_dump is too old for the PostgreSQL {server_major} server: found {', '.join(found)}; "
        f"install pg_dump {server_major} or newer or set FANTASY_PG_BIN_DIR"
    )


def _pg_environment(url: URL) -> dict[str, str]:
    """libpq settings for pg_dump: the password goes through the environment, never argv or a log."""
    env = dict(os.environ)
    env.update(
        {"PGHOST": url.host or "localhost", "PGPORT": str(url.port or 5432), "PGDATABASE": url.database or ""}
    )
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = url.password
    for key, value in url.query.items():
        if key == "sslmode":
            env["PGSSLMODE"] = str(value)
    return env


def _die_with_parent(parent_pid: int):
    """A preexec_fn for Linux: the child gets SIGKILL when the thread that started it ends (that
    thread waits for the child, so only the death of the job's process ends it early)."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: the child only calls it

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def run_tied(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a tool that must not outlive the job: in its own process group, killed with that group
    on any exit (an exception, Airflow's timeout), and on Linux also by the parent-death signal."""
    process = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_die_with_parent(os.getpid()) if sys.platform == "linux" else None,  # noqa: PLW1509
    )
    try:
        stdout, stderr = process.communicate()
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def table_counts(conn) -> dict[str, int]:
    """Row count of every app table present (the manifest verify_backup_restore compares with)."""
    from sqlalchemy import inspect

    from fantasy_jobs.schema import Base

    present = set(inspect(conn).get_table_names())
    quote = conn.dialect.identifier_preparer.quote
    return {
        name: int(conn.scalar(text(f"SELECT count(*) FROM {quote(name)}")))
        for name in sorted(Base.metadata.tables)
        if name in present
    }


def dump_postgres(ctx: JobContext, target: Path) -> tuple[str, dict[str, int]]:
    with ctx.engine.connect() as conn:
        server_major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    tools = _pg_tools(server_major)
    env = _pg_environment(ctx.engine.url)
    ctx.log.info("pg_dump %d (server %d) writing custom-format dump", tools.major, server_major)
    # The manifest is counted in the snapshot pg_dump then dumps (exported, held open meanwhile).
    with ctx.engine.connect().execution_options(isolation_level="REPEATABLE READ") as snapshot:
        snapshot_id = snapshot.scalar(text("SELECT pg_export_snapshot()"))
        manifest = table_counts(snapshot)
        done = run_tied(
            [tools.pg_dump, "--format=custom", "--no-owner", "--no-password", "--snapshot", snapshot_id]
            + ["--file", str(target)],
            env,
        )
        snapshot.rollback()
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed (exit {done.returncode}): {done.stderr.strip()[-1000:]}")
    listed = run_tied([tools.pg_restore, "--list", str(target)])
    entries = [line for line in listed.stdout.splitlines() if line and not line.startswith(";")]
    if listed.returncode != 0 or not entries:
        raise RuntimeError(f"pg_restore --list could not read the dump: {listed.stderr.strip()[-1000:]}")
    return f"pg_restore --list: {len(entries)} entries", manifest


def dump_sqlite(ctx: JobContext, target: Path) -> tuple[str, dict[str, int]]:
    path = ctx.engine.url.database
    if not path or path == ":memory:":
        raise ConfigError("fantasy_db is an in-memory SQLite database; there is nothing to back up")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=4096)  # online: writers are only paused between steps
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if result != "ok":
        raise RuntimeError(f"integrity_check of the SQLite backup failed: {result}")
    from sqlalchemy import create_engine

    copy_engine = create_engine(f"sqlite:///{target}")
    try:
        with copy_engine.connect() as conn:
            manifest = table_counts(conn)  # counted in the copy itself: exactly what it holds
    finally:
        copy_engine.dispose()
    return "integrity_check: ok", manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the job ------------------------------------------------------------------------------


def backup_database(ctx: JobContext) -> JobResult:
    backend = ctx.engine.dialect.name
    if backend not in ("postgresql", "sqlite"):
        raise ConfigError(f"backup_database supports PostgreSQL and SQLite, not {backend}")
    folder = backup_folder()
    stamp = ctx.now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"fantasy_db-{stamp}.{'dump' if backend == 'postgresql' else 'sqlite3'}"
    keep_daily, keep_weekly = settings.get("backup_keep_daily"), settings.get("backup_keep_weekly")
    existing = folder.names()

    if ctx.dry_run:
        doomed = files_to_delete({*existing, name}, keep_daily, keep_weekly)
        summary = f"dry run: would write {folder.location(name)} and delete {len(doomed)} old backups"
        ctx.log.info("%s: %s", summary, ", ".join(doomed) or "none")
        return JobResult(1 + len(doomed), summary, {"would_write": name, "would_delete": doomed})

    orphaned = folder.remove_orphans(ctx)
    with folder.staging(ctx) as staging:
        write_owner(Path(staging), ctx.engine, ctx.execution_id, ctx.job.id)
        local = Path(staging) / name
        verification, manifest = (
            dump_postgres(ctx, local) if backend == "postgresql" else dump_sqlite(ctx, local)
        )
        size, checksum = local.stat().st_size, _sha256(local)
        location = folder.put(local, name, ctx)
    ctx.log.info("backup written: %s (%d bytes, sha256 %s; %s)", location, size, checksum, verification)

    with session_scope(ctx.engine) as session:
        row = session.scalar(select(Backup).where(Backup.path == location))
        if row is None:
            row = Backup(path=location, backend=backend, taken_for=ctx.now)
            session.add(row)
        row.size_bytes, row.checksum, row.verified, row.created_at, row.deleted_at = (
            size,
            checksum,
            True,
            utcnow(),
            None,
        )
        row.manifest = manifest

    doomed = files_to_delete(folder.names(), keep_daily, keep_weekly)
    for old in doomed:
        folder.delete(old)
        ctx.log.info("retention: deleted %s", old)
    if doomed:
        with session_scope(ctx.engine) as session:
            session.execute(
                update(Backup)
                .where(Backup.path.in_([folder.location(n) for n in doomed]), Backup.deleted_at.is_(None))
                .values(deleted_at=utcnow())
            )
    summary = f"backup {name} ({size} bytes) verified; retention deleted {len(doomed)} old backups"
    summary += f"; removed {len(orphaned)} partial backups of runs that are over" if orphaned else ""
    return JobResult(
        1 + len(doomed),
        summary,
        {"path": location, "size": size, "sha256": checksum, "deleted": doomed, "removed_partials": orphaned},
    )
