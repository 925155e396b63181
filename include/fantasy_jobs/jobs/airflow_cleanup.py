"""cleanup_airflow_metadata: Airflow's own housekeeping, `airflow db clean` and old task log files.

At the frequent group's pace the metadata database gains about half a million task instances a
year. This job runs Airflow's supported `airflow db clean` (a subprocess: Airflow 3 blocks ORM
access from task code, and the CLI is the public interface) on the tables that grow with runs,
for rows older than `airflow_retention_days`, without archive tables, in batches, failing when a
table could not be cleaned. `db clean` always keeps the newest non-manual DAG run of each DAG (its
`keep_last` rule for `dag_run`), so the scheduler keeps its continuity; it deletes by age alone, so
the cutoff is moved back before the oldest DAG run or task instance that is not finished. The
retention has a floor of 7 days (`job` rows go by their last heartbeat: a live scheduler's, dag
processor's or triggerer's is always younger). Then it deletes `*.log`
files older than the same age under the local `[logging] base_log_folder` and the folders that
leaves empty (on the worker that runs it: a shared log volume is cleaned once).

The metadata database URL: the `airflow_db` connection when defined (required inside a task,
where Airflow 3 replaces `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN` with a blocked placeholder),
otherwise the environment's own configuration (the CLI). The URL never appears in a log line.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fantasy_jobs import settings
from fantasy_jobs.errors import ConfigError
from fantasy_jobs.runtime import JobContext, JobResult

METADATA_CONN_ID = "airflow_db"
BLOCKED_MARK = "airflow-db-not-allowed"  # Airflow 3's placeholder for the metadata URL inside tasks
CHECKING = re.compile(r"^Checking table (\S+)\s*$")
FOUND = re.compile(r"^Found (\d+) rows meeting deletion criteria")


def metadata_environment() -> dict[str, str]:
    """The environment for `airflow db clean`: the `airflow_db` connection's URL when defined."""
    env = dict(os.environ)
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(METADATA_CONN_ID)
    except Exception:
        conn = None
    if conn is not None:
        from sqlalchemy.engine import make_url

        from fantasy_jobs.db import url_from_connection

        if (conn.conn_type or "").lower() not in ("postgres", "postgresql", "sqlite"):
            raise ConfigError(
                f"connection {METADATA_CONN_ID!r} has type {conn.conn_type!r}; expected postgres or sqlite "
                "(the Airflow metadata database)"
            )
        url = make_url(url_from_connection(conn))
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql+psycopg2")  # Airflow's metadata driver
        for key in ("SQL_ALCHEMY_CONN_CMD", "SQL_ALCHEMY_CONN_SECRET"):
            env.pop(f"AIRFLOW__DATABASE__{key}", None)
        env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = url.render_as_string(hide_password=False)
        return env
    if BLOCKED_MARK in env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""):
        raise ConfigError(
            f"connection {METADATA_CONN_ID!r} is not configured: Airflow 3 gives task code no access to the "
            f"metadata database, so set AIRFLOW_CONN_{METADATA_CONN_ID.upper()} on the workers to the metadata "
            "database (the same URL as [database] sql_alchemy_conn)"
        )
    return env


def cleanup_tables() -> list[str]:
    tables = [name.strip() for name in settings.get("airflow_cleanup_tables").split(",") if name.strip()]
    if not tables:
        raise ConfigError("setting airflow_cleanup_tables names no table")
    return tables


def parse_counts(output: str) -> dict[str, int]:
    """Rows meeting the deletion criteria per table, from `airflow db clean`'s output."""
    counts: dict[str, int] = {}
    table = None
    for line in output.splitlines():
        if match := CHECKING.match(line.strip()):
            table = match.group(1)
        elif (match := FOUND.match(line.strip())) and table:
            counts[table] = int(match.group(1))
            table = None
    return counts


def run_db_clean(
    env: dict[str, str], cutoff: datetime, tables: list[str], *, dry_run: bool, batch_size: int
) -> tuple[dict[str, int], str]:
    """Run `airflow db clean`; the rows meeting its deletion criteria per table, and its output."""
    command = [
        sys.executable,
        "-m",
        "airflow",
        "db",
        "clean",
        "--clean-before-timestamp",
        cutoff.astimezone(UTC).isoformat(),
        "--tables",
        ",".join(tables),
        "--skip-archive",
        "--yes",
        "--error-on-cleanup-failure",
    ]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    if dry_run:
        command.append("--dry-run")
    from fantasy_jobs.jobs.backup import run_tied  # killed with this task (timeout, SIGTERM, SIGKILL)

    done = run_tied(command, env)
    stdout, stderr = done.stdout, done.stderr
    if done.returncode != 0:
        raise RuntimeError(
            f"airflow db clean failed (exit {done.returncode}): {(stderr.strip() or stdout.strip())[-1500:]}"
        )
    counts = parse_counts(stdout)
    missing = [t for t in tables if t not in counts]
    if missing:  # the output format changed or a table is absent: say so rather than report zeros
        raise RuntimeError(
            f"airflow db clean reported no count for {', '.join(missing)}; output: {stdout[-1500:]}"
        )
    return counts, stdout


def log_folder() -> Path | None:
    """The local task log folder (`[logging] base_log_folder`), or None when there is none."""
    from airflow.configuration import conf

    configured = conf.get("logging", "base_log_folder", fallback="")
    if not configured:
        return None
    folder = Path(configured).expanduser()
    if not folder.is_absolute() or folder == Path(folder.anchor):
        raise ConfigError(
            f"[logging] base_log_folder {configured!r} must be an absolute folder, not the root"
        )
    return folder if folder.is_dir() else None


def remove_old_logs(folder: Path, cutoff: datetime, *, dry_run: bool) -> dict[str, int]:
    """Delete `*.log` files last written before `cutoff`, then the folders left empty (never `folder`)."""
    limit = cutoff.timestamp()
    files = size = folders = 0
    for dirpath, _dirnames, filenames in os.walk(folder, topdown=False):
        for name in filenames:
            if not name.endswith(".log"):
                continue
            path = Path(dirpath) / name
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue
            if not path.is_file() or path.is_symlink() or stat.st_mtime >= limit:
                continue
            files += 1
            size += stat.st_size
            if not dry_run:
                path.unlink(missing_ok=True)
        if not dry_run and Path(dirpath) != folder:
            try:
                os.rmdir(dirpath)  # only succeeds when empty
                folders += 1
            except OSError:
                pass
    return {"files": files, "bytes": size, "folders": folders}


UNFINISHED_RUNS = ("queued", "running")
UNFINISHED_TASKS = (
    "scheduled",
    "queued",
    "running",
    "deferred",
    "up_for_retry",
    "up_for_reschedule",
    "restarting",
)


def oldest_unfinished_start(env: dict[str, str]) -> tuple[datetime, str] | None:
    """The start of the oldest DAG run or task instance that is not finished (and what it is):
    `airflow db clean` deletes by age alone (`start_date`), so the cutoff must stay before it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    raw = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    if not raw:
        from airflow.configuration import conf

        raw = conf.get("database", "sql_alchemy_conn")
    url = make_url(raw)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # ours; Airflow's own driver may be absent
    runs = ", ".join(f"'{s}'" for s in UNFINISHED_RUNS)
    tasks = ", ".join(f"'{s}'" for s in UNFINISHED_TASKS)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text(f"""
                    SELECT start_date, 'DAG run ' || dag_id || '/' || run_id FROM dag_run
                    WHERE state IN ({runs}) AND start_date IS NOT NULL
                    UNION ALL
                    SELECT start_date, 'task ' || dag_id || '/' || run_id || '/' || task_id FROM task_instance
                    WHERE state IN ({tasks}) AND start_date IS NOT NULL
                    ORDER BY 1 LIMIT 1
                """)
            ).first()
    finally:
        engine.dispose()
    if found is None:
        return None
    start = found[0] if isinstance(found[0], datetime) else datetime.fromisoformat(str(found[0]))
    return (start if start.tzinfo else start.replace(tzinfo=UTC)), found[1]


def cleanup_airflow_metadata(ctx: JobContext) -> JobResult:
    from fantasy_jobs.schema import utcnow

    days = settings.get("airflow_retention_days")
    # from the real clock when --at is later: a future --at never reaches young rows
    cutoff = min(ctx.now, utcnow()) - timedelta(days=days)
    tables = cleanup_tables()
    env = metadata_environment()
    spared = None
    oldest = oldest_unfinished_start(env)
    if oldest is not None and oldest[0] <= cutoff:
        cutoff, spared = oldest[0] - timedelta(seconds=1), oldest[1]
        ctx.log.warning(
            "cutoff moved back to %s: %s is not finished yet (started then); nothing unfinished is cleaned",
            cutoff.isoformat(),
            spared,
        )
    ctx.log.info(
        "airflow db clean%s: rows before %s (%d days) in %s",
        " (dry run)" if ctx.dry_run else "",
        cutoff.isoformat(),
        days,
        ", ".join(tables),
    )
    counts, _output = run_db_clean(
        env, cutoff, tables, dry_run=ctx.dry_run, batch_size=settings.get("airflow_cleanup_batch_size")
    )
    for table, rows in sorted(counts.items()):
        ctx.log.info("%s: %d rows %s", table, rows, "would be deleted" if ctx.dry_run else "deleted")
    folder = log_folder()
    logs = (
        remove_old_logs(folder, cutoff, dry_run=ctx.dry_run)
        if folder
        else {"files": 0, "bytes": 0, "folders": 0}
    )
    verb = "would delete" if ctx.dry_run else "deleted"
    rows = sum(counts.values())
    summary = (
        f"{'dry run: ' if ctx.dry_run else ''}metadata rows before {cutoff:%Y-%m-%d %H:%M %Z}: {verb} {rows} "
        f"({', '.join(f'{t} {n}' for t, n in sorted(counts.items()) if n) or 'none'}); "
        f"task logs in {folder or 'no local log folder'}: {verb} {logs['files']} files ({logs['bytes']} bytes)"
        + ("" if ctx.dry_run else f", {logs['folders']} emptied folders")
    )
    return JobResult(
        rows + logs["files"],
        summary,
        {
            "cutoff": cutoff.isoformat(),
            "spared_unfinished": spared,
            "tables": counts,
            "log_files": logs,
            "dry_run": ctx.dry_run,
        },
    )
