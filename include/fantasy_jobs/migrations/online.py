"""Schema changes that keep the jobs writing while they run, for use inside revisions.

On PostgreSQL a plain `CREATE INDEX` holds a lock that blocks every INSERT, UPDATE and DELETE on
the table until the build ends (minutes on `team_week_scores` at 100,000 leagues), and one
`UPDATE` of a whole large table holds its row locks and bloats it in one transaction. So:

- `create_index` / `drop_index` run `CONCURRENTLY`, outside the revision's transaction (Alembic's
  `autocommit_block`). An interrupted build leaves an INVALID index behind; the next run drops it
  and builds again, and a valid one is kept, so running a revision again is safe.
- `update_in_batches` rewrites a table a key range at a time, each range committed on its own;
  its `where` must exclude rows already done, so a killed run resumes where it stopped.

On SQLite (the demo) the same calls run the plain statements, in the upgrade's transaction: it has
one writer at a time anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext

import sqlalchemy as sa
from alembic import op

log = logging.getLogger(__name__)

BATCH_BOUNDS = (100, 1_000_000)


def dialect() -> str:
    return op.get_context().dialect.name


def offline() -> bool:
    """True when the revision only prints its SQL (`fantasy-jobs db upgrade --sql`)."""
    return op.get_context().as_sql


def execute_ddl(statement: str) -> None:
    """Run one statement verbatim: its colons are SQL, never bind parameters."""
    op.execute(sa.text(statement.replace(":", r"\:")))


def _invalid_index_exists(name: str) -> bool:
    row = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = :name AND n.nspname = current_schema() AND NOT i.indisvalid"
            ),
            {"name": name},
        )
        .first()
    )
    return row is not None


def create_index(
    name: str,
    table: str,
    columns: Sequence[str],
    *,
    unique: bool = False,
    where: str | None = None,
    include: Sequence[str] | None = None,
) -> None:
    """Build an index without blocking writes to `table` (PostgreSQL: `CREATE INDEX CONCURRENTLY`)."""
    if dialect() != "postgresql":
        op.create_index(name, table, list(columns), unique=unique, if_not_exists=True, sqlite_where=where)
        return
    with op.get_context().autocommit_block():
        if offline():
            op.execute(
                sa.text(f"-- an interrupted build of {name} is INVALID: drop it before building again")
            )
        elif _invalid_index_exists(name):
            log.warning("index %s: an interrupted build left it INVALID; dropping it to build again", name)
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(
            name,
            table,
            list(columns),
            unique=unique,
            if_not_exists=True,
            postgresql_concurrently=True,
            postgresql_where=sa.text(where) if where else None,
            postgresql_include=list(include or ()),
        )


def drop_index(name: str, table: str) -> None:
    """Drop an index without blocking writes to `table` (PostgreSQL: `DROP INDEX CONCURRENTLY`)."""
    if dialect() != "postgresql":
        op.drop_index(name, table_name=table, if_exists=True)
        return
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)


def update_in_batches(
    table: str, assignments: str, where: str, *, key: str = "id", batch: int = 10_000
) -> int:
    """`UPDATE table SET assignments WHERE where`, one `key` range of `batch` at a time, each range
    committed alone; returns the rows changed. `where` must be false for rows already rewritten
    (e.g. `new_col IS NULL`), so a run killed half-way resumes with the rest."""
    low, high = BATCH_BOUNDS
    if not low <= batch <= high:
        raise ValueError(f"batch {batch} is outside {low}..{high}")
    statement = f"UPDATE {table} SET {assignments} WHERE ({where})"
    if offline():
        op.execute(sa.text(f"-- run online, this is done {batch} rows of {key} at a time, each committed"))
        execute_ddl(statement)
        return 0
    bounds = op.get_bind().execute(sa.text(f"SELECT MIN({key}), MAX({key}) FROM {table}")).one()
    if bounds[0] is None:
        return 0
    changed = 0
    # PostgreSQL: AUTOCOMMIT, each range its own transaction. SQLite has no transactional DDL in
    # Alembic: the ranges run in the upgrade's one transaction (a demo-sized database).
    online_ranges = op.get_context().autocommit_block() if dialect() == "postgresql" else nullcontext()
    with online_ranges:
        bind = op.get_bind()
        for start in range(bounds[0], bounds[1] + 1, batch):
            result = bind.execute(
                sa.text(f"{statement} AND {key} >= :start AND {key} < :stop"),
                {"start": start, "stop": start + batch},
            )
            changed += result.rowcount
            log.info(
                "%s: %d rows rewritten (%s up to %d of %d)", table, changed, key, start + batch - 1, bounds[1]
            )
    return changed
