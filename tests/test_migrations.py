"""The app schema's Alembic migrations: no drift from the models, data kept across upgrades and
downgrades, databases made before migrations adopted, online index builds safe to interrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import tarfile
import time
from io import BytesIO

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect, select, text

from fantasy_jobs import migrate
from fantasy_jobs.db import make_engine
from fantasy_jobs.demo import load_demo
from fantasy_jobs.migrations import online
from fantasy_jobs.schema import Base, PlayerGameStats, Team, create_from_models
from tests.conftest import REPO, VENV_BIN, airflow_env

HEAD = migrate.head()


def cli(*args: str, db: str, extra_path: str | None = None) -> subprocess.CompletedProcess:
    env = airflow_env(AIRFLOW_CONN_FANTASY_DB=db)
    if extra_path:
        env["PYTHONPATH"] = extra_path
    return subprocess.run(
        [str(VENV_BIN / "python"), "-m", "fantasy_jobs.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def airflow_uri(db_url: str) -> str:
    """The URL as an Airflow connection URI (what AIRFLOW_CONN_FANTASY_DB holds)."""
    return db_url.replace("postgresql+psycopg://", "postgresql://")


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
            for name in Base.metadata.tables
        }


def triggers(engine) -> dict[str, str]:
    """Every change-log trigger and trigger function, its definition with whitespace collapsed."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal "
                    "UNION ALL SELECT proname || '()', prosrc FROM pg_proc WHERE proname LIKE 'fantasy%'"
                )
            ).all()
        else:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    return {name: " ".join(definition.split()) for name, definition in rows}


def snapshot(engine) -> dict:
    """Tables, columns, indexes, constraints and triggers as the database reports them."""
    inspector = inspect(engine)
    tables = {}
    for name in sorted(Base.metadata.tables):
        tables[name] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "indexes": sorted(
                (
                    i["name"],
                    tuple(i["column_names"]),
                    bool(i["unique"]),
                    sorted((k, str(v)) for k, v in i.get("dialect_options", {}).items()),  # WHERE, INCLUDE
                )
                for i in inspector.get_indexes(name)
            ),
            "uniques": sorted(
                (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(name)
            ),
            "fks": sorted(
                (f["name"], tuple(f["constrained_columns"])) for f in inspector.get_foreign_keys(name)
            ),
        }
    return {"tables": tables, "triggers": triggers(engine)}


def second_database(db_url: str, request, tmp_path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'models.db'}"
    server = request.getfixturevalue("postgres")
    return server.url(server.create_database())


def test_a_database_upgraded_to_head_does_not_drift_from_the_models(db_url, request, tmp_path):
    """Alembic's autogenerate comparison finds no difference, and the migrated database equals one
    made straight from the models (create_all of this code), change-log triggers included."""
    migrated = make_engine(db_url)
    assert migrate.upgrade(migrated).after == HEAD
    assert migrate.check(migrated) == []
    from_models = make_engine(second_database(db_url, request, tmp_path))
    create_from_models(from_models)
    assert snapshot(migrated) == snapshot(from_models)
    assert len(snapshot(migrated)["triggers"]) >= (60 if migrated.dialect.name == "postgresql" else 10)
    migrated.dispose()
    from_models.dispose()


def test_check_and_db_check_name_each_difference(engine, db_url):
    """The drift check can fail: an index dropped, a column added by hand, a trigger gone."""
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_games_season"))
        conn.execute(text("ALTER TABLE teams ADD COLUMN nickname VARCHAR(20)"))
        conn.execute(
            text(
                "DROP TRIGGER fantasy_bonus_games ON games"
                if engine.dialect.name == "postgresql"
                else "DROP TRIGGER fantasy_queue_games_update"
            )
        )
    problems = migrate.check(engine)
    assert "add_index ix_games_season" in problems
    assert any(p.startswith("remove_column") and "nickname" in p for p in problems), problems
    assert any(p.startswith("trigger fantasy_") and p.endswith("missing") for p in problems), problems
    checked = cli("db", "check", db=airflow_uri(db_url))
    assert checked.returncode == 1 and "differs: add_index ix_games_season" in checked.stdout


def test_demo_data_upgrades_from_the_baseline_to_head_and_back_one_step(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine, migrate.BASELINE)
    load_demo(engine)
    before = table_counts(engine)
    assert before["player_game_stats"] > 1000 and before["roster_slots"] > 100

    def team_week_indexes() -> set[str]:
        return {i["name"] for i in inspect(engine).get_indexes("team_week_scores")}

    assert "ix_team_week_scores_league_id" in team_week_indexes()
    result = migrate.upgrade(engine)
    assert (result.before, result.after) == (migrate.BASELINE, HEAD)
    assert table_counts(engine) == before
    assert "ix_team_week_scores_league_week" in team_week_indexes()
    assert "ix_team_week_scores_league_id" not in team_week_indexes()

    down = cli("db", "downgrade", "-1", db=airflow_uri(db_url))
    assert down.returncode == 0, down.stderr
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.BASELINE
    assert table_counts(engine) == before
    assert "ix_team_week_scores_league_id" in team_week_indexes()
    assert "ix_team_week_scores_league_week" not in team_week_indexes()

    below = cli("db", "downgrade", "-1", db=airflow_uri(db_url))  # below the baseline: refused
    assert below.returncode == 1 and "refusing to go below the baseline" in below.stderr
    assert table_counts(engine) == before
    migrate.upgrade(engine)
    assert migrate.check(engine) == []
    engine.dispose()


def previous_main(tmp_path) -> str:
    """The package as main had it before migrations (BASELINE_COMMIT), unpacked from git."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", migrate.BASELINE_COMMIT, "include"], capture_output=True
    )
    if archive.returncode != 0:
        pytest.skip(f"commit {migrate.BASELINE_COMMIT} not in this clone: {archive.stderr[:200]!r}")
    folder = tmp_path / f"main-{migrate.BASELINE_COMMIT}"
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return str(folder / "include")


def test_a_database_made_by_the_previous_main_is_stamped_and_upgraded(db_url, tmp_path):
    """`load-demo` of main before migrations (its create_all), then this code's `init-db`: recognised,
    stamped at the baseline, upgraded to head; every row kept; the triggers still feed the change
    log, and the nightly scores on it."""
    uri = airflow_uri(db_url)
    old = cli("load-demo", db=uri, extra_path=previous_main(tmp_path))
    assert old.returncode == 0 and "demo data loaded" in old.stdout, old.stderr
    engine = make_engine(db_url)
    assert not inspect(engine).has_table(migrate.VERSION_TABLE)
    before = table_counts(engine)

    current = cli("db", "current", db=uri)
    assert current.stdout.startswith("(none) (made before migrations")
    sql = cli("db", "upgrade", "--sql", db=uri)
    assert sql.returncode == 0 and f"INSERT INTO {migrate.VERSION_TABLE}" in sql.stdout
    assert not inspect(engine).has_table(migrate.VERSION_TABLE)  # --sql changed nothing

    upgraded = cli("init-db", db=uri)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "recognised as the baseline and stamped" in upgraded.stdout
    assert f"schema upgraded {migrate.BASELINE} -> {HEAD} (head)" in upgraded.stdout
    assert table_counts(engine) == before
    assert migrate.check(engine) == []
    with engine.begin() as conn:
        queued = conn.execute(text("SELECT COUNT(*) FROM scoring_changes")).scalar_one()
        line = conn.execute(select(PlayerGameStats.id).limit(1)).scalar_one()
        conn.execute(text("UPDATE player_game_stats SET pts = pts + 1 WHERE id = :id"), {"id": line})
        assert conn.execute(text("SELECT COUNT(*) FROM scoring_changes")).scalar_one() > queued
    scored = cli("run", "calculate_fantasy_scores", "--full", "--at", "2026-06-29T08:00", db=uri)
    assert scored.returncode == 0, scored.stderr
    again = cli("init-db", db=uri)
    assert f"schema already at revision {HEAD} (head)" in again.stdout
    engine.dispose()


def test_an_older_database_is_refused_with_what_it_lacks_and_left_unchanged(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine, migrate.BASELINE)
    with engine.begin() as conn:  # as if made before box_score_attempts existed
        conn.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
        conn.execute(text("ALTER TABLE games DROP COLUMN box_score_attempts"))
    refused = cli("init-db", db=airflow_uri(db_url))
    assert refused.returncode == 1
    assert "lacks column games.box_score_attempts" in refused.stderr
    assert (
        f"git checkout {migrate.BASELINE_COMMIT}" in refused.stderr
        and "Nothing was changed" in refused.stderr
    )
    assert not inspect(engine).has_table(migrate.VERSION_TABLE)
    assert "ix_team_week_scores_league_week" not in {
        i["name"] for i in inspect(engine).get_indexes("team_week_scores")
    }
    engine.dispose()


def test_a_database_upgraded_by_a_newer_version_is_refused_unchanged(engine, db_url):
    """Code rolled back after a newer version upgraded the database: a clear refusal, no change."""
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '0099'"))
    for command in (("init-db",), ("db", "upgrade"), ("db", "downgrade", "-1")):
        refused = cli(*command, db=airflow_uri(db_url))
        assert refused.returncode == 1, command
        assert "at revision 0099, which this code does not have" in refused.stderr, refused.stderr
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == "0099"


def test_upgrade_sql_prints_the_statements_and_changes_nothing(db_url):
    engine = make_engine(db_url)
    printed = cli("db", "upgrade", "--sql", db=airflow_uri(db_url))
    assert printed.returncode == 0, printed.stderr
    assert (
        "CREATE TABLE teams" in printed.stdout and f"CREATE TABLE {migrate.VERSION_TABLE}" in printed.stdout
    )
    assert "INFO" not in printed.stdout  # the logs go to stderr: stdout is a script
    if engine.dialect.name == "postgresql":
        assert (
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_team_week_scores_league_week ON team_week_scores"
            in printed.stdout
        )
        assert "CREATE OR REPLACE TRIGGER fantasy_queue_player_game_stats" in printed.stdout
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_two_upgrades_at_once_both_succeed(postgres):
    """A second worker upgrading the same new database waits for the first, then has nothing to do."""
    url = postgres.url(postgres.create_database())
    env = airflow_env(AIRFLOW_CONN_FANTASY_DB=airflow_uri(url))
    command = [str(VENV_BIN / "fantasy-jobs"), "db", "upgrade"]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(out for out, _ in outputs) == [f"schema (empty) -> {HEAD}\n", f"schema already at {HEAD}\n"]
    engine = make_engine(url)
    assert migrate.check(engine) == []
    engine.dispose()


def index_state(conn, name: str) -> bool | None:
    """True valid, False INVALID (an interrupted concurrent build), None absent."""
    return conn.execute(
        text(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :n"
        ),
        {"n": name},
    ).scalar()


@pytest.mark.parametrize("interruption", ["process killed", "connection cut"])
def test_an_interrupted_concurrent_index_build_is_dropped_and_built_again(postgres, interruption):
    """Revision 0002's CREATE INDEX CONCURRENTLY waits for an open writer; there the upgrade process
    is SIGKILLed and its backend ended, or only its backend ended (the database gone from under a
    live process: it exits 1 with that error). Either way an INVALID index is left and the revision
    is not recorded; the next upgrade drops the invalid index, builds it and records 0002. No
    write was blocked meanwhile."""
    url = postgres.url(postgres.create_database())
    engine = make_engine(url)
    migrate.upgrade(engine, migrate.BASELINE)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points, updated_at) "
                "SELECT n % 7, n, 3, n, 0, now() FROM generate_series(1, 500) n"
            )
        )
    writer = engine.connect()
    writer.execute(
        text("UPDATE team_week_scores SET points = points + 1 WHERE fantasy_team_id = 1")
    )  # left open
    env = airflow_env(AIRFLOW_CONN_FANTASY_DB=airflow_uri(url))
    upgrade = subprocess.Popen(
        [str(VENV_BIN / "fantasy-jobs"), "db", "upgrade"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watcher = engine.connect()
    build_pid = None
    for _ in range(600):
        build_pid = watcher.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' "
                "AND wait_event_type = 'Lock'"
            )
        ).scalar()
        watcher.commit()
        if build_pid:
            break
        time.sleep(0.1)
    assert build_pid, "the concurrent build never waited for the open writer"
    # while the build waits, a new session writes the table at once: no write is blocked
    with engine.begin() as other:
        started = time.perf_counter()
        other.execute(text("UPDATE team_week_scores SET points = points + 1 WHERE fantasy_team_id = 2"))
        assert time.perf_counter() - started < 1.0
    if interruption == "process killed":
        os.kill(upgrade.pid, signal.SIGKILL)
        upgrade.wait(30)
    watcher.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": build_pid})
    watcher.commit()
    if interruption == "connection cut":
        _, err = upgrade.communicate(timeout=60)
        assert upgrade.returncode == 1
        last = err.decode().strip().splitlines()[-1]
        assert last.startswith("error: upgrade stopped: AdminShutdown: terminating connection"), last
        assert "run `fantasy-jobs db upgrade` again" in last
    writer.commit()
    writer.close()
    assert index_state(watcher, "ix_team_week_scores_league_week") is False
    assert migrate.current_revision(watcher) == migrate.BASELINE
    watcher.commit()

    again = subprocess.run(
        [str(VENV_BIN / "fantasy-jobs"), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stderr
    assert "INVALID; dropping it to build again" in again.stderr
    assert index_state(watcher, "ix_team_week_scores_league_week") is True
    assert index_state(watcher, "ix_team_week_scores_league_id") is None
    assert migrate.current_revision(watcher) == HEAD
    watcher.close()
    assert migrate.check(engine) == []
    engine.dispose()


def test_update_in_batches_commits_each_range_and_resumes(db_url, caplog):
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            Team.__table__.insert(),
            [{"espn_id": str(n), "abbreviation": "T", "display_name": f"Team {n}"} for n in range(350)],
        )

    def backfill(batch: int) -> int:
        with engine.connect() as conn:
            options = {**migrate.context_options(engine.dialect.name), "transaction_per_migration": False}
            context = MigrationContext.configure(conn, opts=options)  # one revision's transaction
            with Operations.context(context), context.begin_transaction():
                changed = online.update_in_batches("teams", "color = 'ff0000'", "color IS NULL", batch=batch)
            conn.commit()  # as migrate.upgrade does after the revisions (SQLite's one transaction)
            return changed

    caplog.set_level("INFO", logger="fantasy_jobs.migrations.online")
    assert backfill(100) == 350
    assert sum("rows rewritten" in r.getMessage() for r in caplog.records) == 4  # ids 1..350: 4 ranges
    with engine.begin() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM teams WHERE color = 'ff0000'")).scalar_one() == 350
        conn.execute(text("UPDATE teams SET color = NULL WHERE id > 230"))  # as if killed after 3 ranges
    assert backfill(100) == 120
    assert backfill(100) == 0
    with pytest.raises(ValueError, match="outside 100..1000000"):
        backfill(10)
    engine.dispose()


def test_db_revision_autogenerate_drafts_the_difference(tmp_path, monkeypatch, capsys):
    """A developer's `fantasy-jobs db revision -m ... --autogenerate` (on a copy of the migrations
    folder): the next number, the difference between database and models as operations, ruff-formatted."""
    import shutil

    from fantasy_jobs import cli

    folder = tmp_path / "migrations"
    shutil.copytree(
        REPO / "include/fantasy_jobs/migrations", folder, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", str(folder))
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_games_season"))  # the models have it, the database not
    engine.dispose()
    monkeypatch.setenv("AIRFLOW_CONN_FANTASY_DB", url)
    assert cli.main(["db", "revision", "-m", "games season index", "--autogenerate"]) == 0
    written = folder / "versions" / f"v{int(HEAD) + 1:04d}_games_season_index.py"
    source = written.read_text()
    assert f'down_revision: str | None = "{HEAD}"' in source  # formatted: double quotes
    assert 'batch_op.create_index(batch_op.f("ix_games_season"), ["season"]' in source  # SQLite: batch mode
    assert not (REPO / "include/fantasy_jobs/migrations/versions" / written.name).exists()
