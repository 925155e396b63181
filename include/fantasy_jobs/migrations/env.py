"""Alembic's environment for the app database, run by `fantasy_jobs.migrate` (`fantasy-jobs db`).

The caller hands over an open connection (`config.attributes["connection"]`), or for `--sql` only a
URL; every option comes from `migrate.context_options`, so the version table is always
`fantasy_alembic_version` and Airflow's own `alembic_version` is never read or written."""

from __future__ import annotations

from alembic import context

from fantasy_jobs import migrate

config = context.config

if context.is_offline_mode():
    url = config.attributes["url"]
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **migrate.context_options(url.get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes["connection"]
    context.configure(connection=connection, **migrate.context_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()
