"""The app database's schema version, kept by Alembic (revisions in `fantasy_jobs/migrations`).

`upgrade` is what `fantasy-jobs init-db`, `load-demo` and `make run` call: it brings any database to
the head revision. A database made before migrations existed (by `create_all`, so no version
table) is recognised: checked against the baseline revision's tables, its change-log triggers
written again, stamped at the baseline, then upgraded like any other. On PostgreSQL one upgrade
runs at a time (a session advisory lock); a second waits and then finds nothing to do.

The version table is `fantasy_alembic_version`, never Airflow's `alembic_version`, so the app and
the Airflow metadata can even share a database. See README, Upgrading.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from fantasy_jobs.errors import PermanentJobError
from fantasy_jobs.schema import CHANGE_TRIGGERS, Base

log = logging.getLogger(__name__)


class _QuietAlembic(logging.Filter):
    """Keep Alembic's "Running upgrade a -> b" progress lines, drop its per-call chatter."""

    CHATTER = ("Context impl", "Will assume", "Generating static SQL")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.CHATTER)


logging.getLogger("alembic.runtime.migration").addFilter(_QuietAlembic())

VERSION_TABLE = "fantasy_alembic_version"
SCRIPT_LOCATION = "fantasy_jobs:migrations"
BASELINE = "0001"
BASELINE_COMMIT = "77da349"  # the last main without migrations: its `init-db` made the baseline schema
UPGRADE_LOCK = int.from_bytes(hashlib.sha256(b"fantasy_jobs.migrate").digest()[:8], "big", signed=True)


class MigrationError(PermanentJobError):
    """The database cannot be brought to the requested revision as it is; nothing was changed."""


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Only the app's own tables: never the web app's extra tables or Airflow's, if they share it."""
    return type_ != "table" or name in Base.metadata.tables


def context_options(dialect_name: str) -> dict[str, Any]:
    """Alembic's options for every run: `env.py`, `check` and autogenerate use the same ones."""
    return {
        "target_metadata": Base.metadata,
        "version_table": VERSION_TABLE,
        "transaction_per_migration": True,  # a revision's online (CONCURRENTLY) steps commit on their own
        "render_as_batch": dialect_name == "sqlite",  # SQLite alters a table by copying it
        "compare_type": True,
        "include_name": _include_name,
    }


def alembic_config(
    *, connection: Connection | None = None, engine: Engine | None = None, out: TextIO | None = None
) -> Config:
    config = Config(stdout=out or sys.stdout)
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")  # importable module names
    config.attributes["connection"] = connection
    config.attributes["url"] = engine.url if engine is not None else None
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    revision = script_directory().get_current_head()
    assert revision is not None, "the migrations folder has no revision"
    return revision


def current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _known(revision: str | None) -> str | None:
    """`revision` if this code has it; a database upgraded by a newer version is refused clearly."""
    if revision is None:
        return None
    try:
        script_directory().get_revision(revision)
    except CommandError:
        raise MigrationError(
            f"the database is at revision {revision}, which this code does not have (its head is {head()}): "
            "a newer version of fantasy-jobs upgraded it. Run that version, or downgrade with it first. "
            "Nothing was changed."
        ) from None
    return revision


@contextmanager
def _upgrade_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the upgrade lock (PostgreSQL: a session advisory lock, so it survives
    the commits of a revision's online steps); released when done, or by the server if killed."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Polled, one short transaction a try: a session blocked in pg_advisory_lock keeps a
            # snapshot open, and the other upgrade's CREATE INDEX CONCURRENTLY waits for every
            # older snapshot to end, so the two would deadlock.
            waited = 0.0
            while not connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": UPGRADE_LOCK}
            ).scalar():
                connection.commit()
                if waited % 30 == 0:
                    log.info("another schema upgrade of this database is running; waiting for it")
                time.sleep(0.5)
                waited += 0.5
            connection.commit()
        try:
            yield connection
        finally:
            if connection.dialect.name == "postgresql" and not connection.closed:
                try:
                    connection.rollback()
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": UPGRADE_LOCK})
                    connection.commit()
                except DBAPIError as exc:  # the server went away: it ended the session and its lock
                    log.warning(
                        "upgrade lock not released (%s): the session is gone, and its lock with it", exc
                    )


def _baseline_module() -> Any:
    script = script_directory().get_revision(BASELINE)
    assert script is not None, "the baseline revision is missing"
    return script.module


def legacy_differences(connection: Connection) -> list[str] | None:
    """For a database without a version table: None if it holds none of the baseline's tables (a
    new database); else what it lacks of the baseline, an empty list when it is the baseline."""
    tables: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = _baseline_module().TABLES
    inspector = inspect(connection)
    present = set(inspector.get_table_names()) & set(tables)
    if not present:
        return None
    missing: list[str] = []
    for table, (columns, names) in tables.items():
        if table not in present:
            missing.append(f"table {table}")
            continue
        have = {c["name"] for c in inspector.get_columns(table)}
        missing += [f"column {table}.{c}" for c in columns if c not in have]
        have_names = {i["name"] for i in inspector.get_indexes(table)}
        have_names |= {u["name"] for u in inspector.get_unique_constraints(table)}
        missing += [f"index or constraint {n} on {table}" for n in names if n not in have_names]
    return missing


def _write_baseline_triggers(connection: Connection) -> None:
    """The baseline's change-log triggers, exactly: SQLite's were only created if absent before."""
    statements = _baseline_module().TRIGGERS.get(connection.dialect.name, ())
    for statement in statements:
        if connection.dialect.name == "sqlite":
            name = re.search(r"TRIGGER IF NOT EXISTS (\w+)", statement)
            assert name, statement
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name.group(1)}")
        connection.exec_driver_sql(statement)


def _adopt(connection: Connection) -> None:
    """Stamp a pre-migrations database at the baseline, after checking it is the baseline."""
    missing = legacy_differences(connection)
    assert missing is not None
    if missing:
        shown = "; ".join(missing[:12]) + (f"; and {len(missing) - 12} more" if len(missing) > 12 else "")
        raise MigrationError(
            "this database has no schema version and is not the baseline: it lacks "
            f"{shown}. It was made by a version of fantasy-jobs older than {BASELINE_COMMIT}: bring it to "
            f"the baseline with that version first (git checkout {BASELINE_COMMIT}; fantasy-jobs init-db), "
            "then run this again. Nothing was changed."
        )
    connection.commit()  # the checks' reads
    with connection.begin():
        _write_baseline_triggers(connection)
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        context.stamp(script_directory(), BASELINE)
    log.info("database made before migrations: recognised as the baseline %s and stamped", BASELINE)


def _root_cause(exc: BaseException) -> BaseException:
    """The first error of a chain: Alembic's clean-up after a lost connection raises its own
    (PendingRollbackError) over the one that says what happened."""
    while (earlier := exc.__cause__ or exc.__context__) is not None:
        exc = earlier
    return exc


@contextmanager
def _stopped_midway(action: str) -> Iterator[None]:
    try:
        yield
    except MigrationError:
        raise
    except Exception as exc:
        cause = _root_cause(exc)
        raise MigrationError(
            f"{action} stopped: {type(cause).__name__}: {str(cause).strip().splitlines()[0]}. Revisions "
            f"finished before it stay recorded; run `fantasy-jobs db {action}` again to go on (an online "
            "index build cut short is dropped and built again)."
        ) from exc


@dataclass
class Upgrade:
    before: str | None
    after: str | None
    adopted: bool = False  # made before migrations, stamped at the baseline first


def upgrade(engine: Engine, target: str = "head", *, sql: bool = False, out: TextIO | None = None) -> Upgrade:
    """Bring the database to `target` (default: head). With `sql`, write the statements to `out`
    instead and change nothing (the database is only read, for where it stands)."""
    with _upgrade_lock(engine) as connection:
        before = _known(current_revision(connection))
        legacy = before is None and legacy_differences(connection) is not None
        connection.commit()
        if sql:
            return _print_upgrade(engine, connection, before, legacy, target, out or sys.stdout)
        if legacy:
            _adopt(connection)
            before = BASELINE  # from here on it is the baseline like any other
        with _stopped_midway("upgrade"):
            command.upgrade(alembic_config(connection=connection, out=out), target)
        after = current_revision(connection)
        connection.commit()
    if after != before:
        log.info("app database schema: %s -> %s", before or "empty", after)
    return Upgrade(before, after, adopted=legacy)


def _print_upgrade(
    engine: Engine, connection: Connection, before: str | None, legacy: bool, target: str, out: TextIO
) -> Upgrade:
    start = before
    if legacy:
        missing = legacy_differences(connection)
        if missing:
            raise MigrationError(
                f"this database has no schema version and is not the baseline: lacks {missing}"
            )
        out.write(
            f"-- A database made before migrations: the baseline's triggers again, then stamped {BASELINE}\n"
        )
        for statement in _baseline_module().TRIGGERS.get(engine.dialect.name, ()):
            out.write(f"{statement};\n\n")
        command.stamp(alembic_config(engine=engine, out=out), BASELINE, sql=True)
        start = BASELINE
    span = f"{start}:{target}" if start else target
    command.upgrade(alembic_config(engine=engine, out=out), span, sql=True)
    return Upgrade(before, before)


def _resolve_down(before: str, target: str) -> str:
    """The revision `target` names, counted down from `before` for `-N`; never below the baseline,
    whose downgrade would drop every app table (drop the database instead, if that is the aim)."""
    script = script_directory()
    resolved: str | None
    if re.fullmatch(r"-\d+", target):
        resolved = before
        for _ in range(int(target[1:])):
            revision = script.get_revision(resolved) if resolved else None
            resolved = revision.down_revision if revision else None  # type: ignore[assignment]
    elif target == "base":
        resolved = None
    else:
        revision = script.get_revision(target)
        if revision is None:
            raise MigrationError(f"no revision {target!r} (fantasy-jobs db history lists them)")
        resolved = revision.revision
    if resolved is None:
        raise MigrationError(
            f"refusing to go below the baseline {BASELINE}: that would drop every app table and its data"
        )
    return resolved


def downgrade(engine: Engine, target: str, *, sql: bool = False, out: TextIO | None = None) -> Upgrade:
    """Take the database back to `target` (a revision, or `-1` for one step), not below the baseline."""
    with _upgrade_lock(engine) as connection:
        before = _known(current_revision(connection))
        connection.commit()
        if before is None:
            raise MigrationError("this database has no schema version: nothing to downgrade")
        revision = _resolve_down(before, target)
        if sql:
            command.downgrade(alembic_config(engine=engine, out=out), f"{before}:{revision}", sql=True)
            return Upgrade(before, before)
        with _stopped_midway("downgrade"):
            command.downgrade(alembic_config(connection=connection, out=out), revision)
        after = current_revision(connection)
        connection.commit()
    log.info("app database schema: %s -> %s", before, after)
    return Upgrade(before, after)


def history() -> str:
    out = io.StringIO()
    command.history(alembic_config(out=out), verbose=False)
    return out.getvalue()


def _trigger_names(connection: Connection) -> set[str]:
    if connection.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return {row[0] for row in connection.execute(text(query)) if row[0].startswith("fantasy_")}


def model_trigger_names(dialect_name: str) -> set[str]:
    pattern = r"CREATE (?:OR REPLACE )?TRIGGER (?:IF NOT EXISTS )?(\w+)"
    return {name for s in CHANGE_TRIGGERS.get(dialect_name, []) for name in re.findall(pattern, s)}


def check(engine: Engine) -> list[str]:
    """How the database differs from this code: its revision against head, then Alembic's
    autogenerate comparison with the models, then the change-log triggers by name. [] when none."""
    problems: list[str] = []
    with engine.connect() as connection:
        revision, newest = current_revision(connection), head()
        if revision != newest:
            problems.append(f"at revision {revision or '(none)'}, the code's head is {newest}")
        context = MigrationContext.configure(connection, opts=context_options(connection.dialect.name))
        problems += [_describe(diff) for diff in compare_metadata(context, Base.metadata)]
        have, want = _trigger_names(connection), model_trigger_names(connection.dialect.name)
        problems += [f"trigger {name} missing" for name in sorted(want - have)]
        problems += [f"trigger {name} not in the code" for name in sorted(have - want)]
    return problems


def _describe(diff: Any) -> str:
    """One autogenerate difference in words: ('add_index', Index(...)) -> 'add_index ix_...'."""
    if isinstance(diff, list):  # column modifications come grouped
        return "; ".join(_describe(d) for d in diff)
    kind, *rest = diff
    names = [str(getattr(item, "name", None) or item) for item in rest if item is not None]
    return " ".join([kind, *names[:4]])
