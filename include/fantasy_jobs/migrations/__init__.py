"""The app database's Alembic migrations: `env.py`, the revisions in `versions/`, and `online`'s
helpers for changes that must not block the jobs' writes (run them with `fantasy-jobs db ...`)."""
