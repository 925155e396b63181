"""The app database: an engine from the `fantasy_db` connection, sessions and advisory locks.

`fantasy_db` is read as Airflow reads any connection (`AIRFLOW_CONN_FANTASY_DB` first, then the
secrets backends and the metadata database), so the CLI and the tasks agree. Both a postgres
connection and a sqlite one (`sqlite:////abs/path.db`) work.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from fantasy_jobs import settings
from fantasy_jobs.errors import ConfigError, JobAlreadyRunning

log = logging.getLogger(__name__)

CONN_ID = "fantasy_db"
_engines: dict[str, Engine] = {}


def url_from_connection(conn) -> str:
    """A SQLAlchemy URL for an Airflow connection of type postgres or sqlite."""
    conn_type = (conn.conn_type or "").lower()
    if conn_type in ("postgres", "postgresql"):
        auth = ""
        if conn.login:
            auth = quote(conn.login, safe="")
            if conn.password:
                auth += ":" + quote(conn.password, safe="")
            auth += "@"
        host = conn.host or "localhost"
        port = f":{conn.port}" if conn.port else ""
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in (conn.extra_dejson or {}).items())
        return f"postgresql+psycopg://{auth}{host}{port}/{conn.schema or ''}" + (f"?{query}" if query else "")
    if conn_type == "sqlite":
        path = conn.schema or conn.host
        if not path:
            raise ConfigError(f"connection {CONN_ID!r} of type sqlite names no file")
        return f"sqlite:///{path}"
    raise ConfigError(f"connection {CONN_ID!r} has type {conn.conn_type!r}; expected postgres or sqlite")


def database_url(conn_id: str = CONN_ID) -> str:
    """The SQLAlchemy URL of the app database from the Airflow connection `conn_id`."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception:
        conn = None
    if conn is None:  # in Airflow's own servers (API server), read it as the core does
        try:
            from airflow.models.connection import Connection

            conn = Connection.get_connection_from_secrets(conn_id)
        except Exception:
            conn = None
    if conn is None:
        raise ConfigError(
            f"connection {conn_id!r} is not configured: set AIRFLOW_CONN_{conn_id.upper()} "
            f"(e.g. sqlite:////path/app.db or postgresql://user:pass@host:5432/db) or add it in the UI"
        )
    return url_from_connection(conn)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """A new engine for `url`, with the settings every job relies on."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url`, or for the `fantasy_db` connection; one per URL per process."""
    url = url or database_url()
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[Connection | None]:
    """Hold the PostgreSQL session advisory lock `name` for the block, or raise JobAlreadyRunning.

    On SQLite (one writer at a time anyway) this is a no-op. The lock lives on its own connection
    and ends with it, so a killed process never leaves it behind.
    """
    if engine.dialect.name != "postgresql":
        yield None
        return
    key = lock_key(name)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        if not got:
            raise JobAlreadyRunning(f"{name} is already running (advisory lock {key} is held)")
        try:
            yield conn
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


@contextmanager
def named_mutex(engine: Engine, name: str, timeout_s: float = 30.0) -> Iterator[None]:
    """Wait (up to `timeout_s`) for the database-wide mutex `name` and hold it for the block.

    Unlike advisory_lock this waits instead of refusing, and it works on SQLite too: there it is
    the database's write lock (BEGIN IMMEDIATE), which serialises every writer for the block, so
    keep the block short. On PostgreSQL a transaction-level advisory lock under lock_timeout.
    A timeout raises TimeoutError.
    """
    from sqlalchemy.exc import OperationalError

    with engine.connect() as conn:
        try:
            if engine.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT set_config('lock_timeout', :t, true)"), {"t": f"{int(timeout_s * 1000)}ms"}
                )
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})
            else:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # our own BEGIN below
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as exc:
            raise TimeoutError(f"waited {timeout_s:g} s for {name} (held by another request)") from exc
        try:
            yield
        finally:
            if engine.dialect.name == "postgresql":
                conn.rollback()  # ends the transaction: the advisory lock goes with it
            else:
                conn.exec_driver_sql("COMMIT")


def upsert(
    conn: Connection,
    table,
    rows: list[dict],
    keys: list[str],
    *,
    touch: str | None = "updated_at",
    update: bool = True,
) -> int:
    """INSERT ... ON CONFLICT (keys) DO UPDATE on PostgreSQL and SQLite; returns rows written.

    A conflicting row is updated only when a value differs (IS DISTINCT FROM), so running the
    same upsert twice writes nothing the second time and `touch` (a timestamp column set to now
    on every real change) stays put. With `update=False` existing rows are left alone.
    """
    return len(upsert_returning(conn, table, rows, keys, keys[0], touch=touch, update=update))


def upsert_returning(
    conn: Connection,
    table,
    rows: list[dict],
    keys: list[str],
    returning: str,
    *,
    touch: str | None = "updated_at",
    update: bool = True,
) -> list:
    """`upsert`, returning column `returning` of each row really inserted or updated (for a caller
    that acts on exactly what changed, e.g. a live tick rescoring only the changed lines)."""
    if not rows:
        return []
    from sqlalchemy import or_

    from fantasy_jobs.schema import utcnow

    if isinstance(table, str):
        from fantasy_jobs.schema import Base

        table = Base.metadata.tables[table]
    table = getattr(table, "__table__", table)
    from sqlalchemy.dialects import postgresql, sqlite

    # the two dialects' INSERT .. ON CONFLICT share this interface, not a type
    insert: Any = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    columns = [c for c in rows[0] if c not in keys] if update else []
    now = utcnow()
    if touch and touch in table.c:
        rows = [{**row, touch: now} for row in rows]
    statement = insert(table)
    changed = or_(*(table.c[c].is_distinct_from(statement.excluded[c]) for c in columns)) if columns else None
    values = {c: statement.excluded[c] for c in columns}
    if values and touch and touch in table.c:
        values[touch] = statement.excluded[touch]
    if values:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=values, where=changed)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    # RETURNING counts the rows really inserted or updated on both dialects (executemany's rowcount may be -1)
    statement = statement.returning(table.c[returning])
    written: list = []
    for start in range(0, len(rows), 1000):
        written += conn.execute(statement, rows[start : start + 1000]).scalars().all()
    return written


def take_write_lock(conn) -> None:
    """SQLite: make the transaction just begun a write transaction now (BEGIN IMMEDIATE, waiting up
    to the busy timeout for another writer). A transaction that reads first and writes later would
    otherwise fail at once with "database is locked" when another process committed in between
    (SQLite cannot upgrade a read snapshot that is no longer the newest); seen with the README's
    commands run side by side. Call it first in the transaction; PostgreSQL: nothing to do."""
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_temp_table(conn, name: str, columns: str) -> None:
    """A fresh temporary table on this connection (dropped at commit on PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"DROP TABLE IF EXISTS pg_temp.{name}"))
        conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns}) ON COMMIT DROP"))
    else:
        conn.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
        conn.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns})"))


def analyze(conn, *tables: str) -> None:
    """Fresh planner statistics for tables this transaction filled (PostgreSQL counts its own new rows;
    without them a join over a table written minutes ago is planned as if it were empty)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {', '.join(tables)}"))


def use_job_work_mem(conn) -> None:
    """This transaction's work_mem on PostgreSQL: `job_work_mem_mb` (a few statements grouping and
    sorting millions of rows; the server's default of 4 MB makes them spill to disk in hundreds of batches).
    And no JIT: it compiles each statement's expressions when the plan's cost estimate is high, which
    for these one-off statements costs more than it saves (1 s of a 3 s ranking statement, measured)."""
    if conn.dialect.name == "sqlite":
        take_write_lock(conn)
        return
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text("SET LOCAL jit = off"))
    megabytes = settings.get("job_work_mem_mb")
    if megabytes > 0:
        conn.execute(text(f"SET LOCAL work_mem = '{int(megabytes)}MB'"))
