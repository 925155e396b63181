"""`airflow dags test` of each DAG, as CI users run it, against a PostgreSQL app database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from fantasy_jobs.db import make_engine
from fantasy_jobs.demo import load_demo
from fantasy_jobs.schema import (
    Backup,
    CacheEntry,
    DataQualityResult,
    FantasyTeam,
    Game,
    JobExecution,
    PlayerGameStats,
    Team,
    create_all,
)
from tests.conftest import VENV_BIN, airflow_env
from tests.support import espn_world, league_world
from tests.support.espn_stub import EspnStub
from tests.support.jobs import count, snapshot

pytestmark = pytest.mark.airflow_cli


@pytest.fixture
def app_db(postgres):
    """A PostgreSQL app database with the demo data; yields (engine, Airflow connection URI)."""
    name = postgres.create_database("dagtest")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    load_demo(engine)
    yield engine, postgres.airflow_uri(name)
    engine.dispose()


def dags_test(
    airflow_home,
    dag_id: str,
    conn_uri: str,
    conf: dict | None = None,
    logical_date: str | None = None,
    **env: str,
):
    command = [str(VENV_BIN / "airflow"), "dags", "test", dag_id] + ([logical_date] if logical_date else [])
    if conf is not None:
        command += ["-c", json.dumps(conf)]
    return subprocess.run(
        command,
        env=airflow_env(AIRFLOW_CONN_FANTASY_DB=conn_uri, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def executions(engine):
    with engine.connect() as conn:
        return conn.execute(select(JobExecution).order_by(JobExecution.id)).all()


def slack_conn(stub) -> str:
    return json.dumps({"conn_type": "slackwebhook", "password": f"{stub.url}/services/T000/B000/XXXX"})


@pytest.fixture
def espn():
    stub = EspnStub().start()
    espn_world.serve_world(stub)
    yield stub
    stub.stop()


def test_daily_chain_backs_up_ingests_scores_and_ranks(airflow_home, postgres, espn, tmp_path):
    name = postgres.create_database("daily")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    ids = league_world.build(engine)  # the hand-checked league of tests/jobs/test_scoring.py
    done = dags_test(
        airflow_home,
        "fantasy_daily",
        postgres.airflow_uri(name),
        logical_date=espn_world.DAILY_NOW.isoformat(),
        FANTASY_BACKUP_DIR=str(tmp_path / "bk"),
        AIRFLOW_CONN_WNBA_API=espn.url,
        FANTASY_ESPN_MIN_INTERVAL="0",
        FANTASY_BOX_SCORE_OWED_HOURS="168",  # the world's G3 is still live at 02:00 (see tests/jobs/conftest.py)
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    rows = executions(engine)
    assert [(r.job_id, r.status, r.trigger, r.dag_id, r.try_number) for r in rows] == [
        ("backup_database", "completed", "manual", "fantasy_daily", 1),
        ("ingest_teams", "completed", "manual", "fantasy_daily", 1),
        ("ingest_player_stats", "completed", "manual", "fantasy_daily", 1),
        ("calculate_fantasy_scores", "completed", "manual", "fantasy_daily", 1),
        ("calculate_analytics", "completed", "manual", "fantasy_daily", 1),
        ("league_analytics", "completed", "manual", "fantasy_daily", 1),
    ]
    assert rows[0].run_id.startswith("manual__") and rows[0].peak_memory_mb > 0
    with engine.connect() as conn:
        backup = conn.execute(select(Backup)).one()
        teams = dict(conn.execute(select(Team.espn_id, Team.conference)).all())
        games = conn.execute(
            select(Game.espn_id, Game.status, Game.home_score, Game.away_score)
            .where(Game.espn_id.like("4019%"))
            .order_by(Game.espn_id)
        ).all()
        points = conn.execute(
            select(func.sum(PlayerGameStats.pts))
            .join(Game, Game.id == PlayerGameStats.game_id)
            .where(Game.espn_id.like("4019%"))
        ).scalar()
        week = dict(
            conn.execute(
                text("SELECT fantasy_team_id, points FROM team_week_scores WHERE week = 202629")
            ).all()
        )
        ranks = dict(
            conn.execute(text("SELECT fantasy_team_id, rank FROM power_rankings WHERE week = 202629")).all()
        )
    assert backup.verified and backup.path.startswith(str(tmp_path / "bk")) and backup.size_bytes > 1_000
    assert {k: v for k, v in teams.items() if not k.startswith("t")} == espn_world.CONFERENCE
    assert [tuple(g) for g in games] == [
        ("401980001", "final", 30, 27),
        ("401980002", "final", 35, 33),
        ("401980003", "in_progress", 7, 6),
    ]
    assert points == 30 + 27 + 35 + 33
    assert (week[ids["A1"]], week[ids["A2"]], week[ids["B1"]], week[ids["B2"]]) == (62.0, 65.0, 49.0, 51.0)
    assert (ranks[ids["A2"]], ranks[ids["A1"]], ranks[ids["B2"]], ranks[ids["B1"]]) == (1, 2, 1, 2)
    again = dags_test(
        airflow_home,
        "fantasy_daily",
        postgres.airflow_uri(name),
        logical_date=espn_world.DAILY_NOW.isoformat(),
        FANTASY_BACKUP_DIR=str(tmp_path / "bk"),
        AIRFLOW_CONN_WNBA_API=espn.url,
        FANTASY_ESPN_MIN_INTERVAL="0",
        FANTASY_BOX_SCORE_OWED_HOURS="168",
    )
    assert again.returncode == 0
    # the same backup rewritten; nothing else changes
    assert [r.rows_affected for r in executions(engine)[6:]] == [1, 0, 0, 0, 0, 0]


def test_frequent_dry_run_changes_nothing_then_real_run_cleans(airflow_home, app_db):
    engine, uri = app_db
    before = snapshot(engine, "cache_entries")
    expired_now = count(engine, CacheEntry, CacheEntry.expires_at < text("CURRENT_TIMESTAMP"))
    assert expired_now > 0
    dry = dags_test(airflow_home, "fantasy_frequent", uri, {"jobs": ["cache_cleanup"], "dry_run": True})
    assert dry.returncode == 0, dry.stdout[-4000:]
    assert f"dry run: would delete {expired_now} expired cache_entries rows" in dry.stdout
    assert snapshot(engine, "cache_entries") == before
    real = dags_test(airflow_home, "fantasy_frequent", uri, {"jobs": ["cache_cleanup"]})
    assert real.returncode == 0, real.stdout[-4000:]
    assert count(engine, CacheEntry) == len(before) - expired_now
    assert [(r.status, r.dry_run, r.rows_affected) for r in executions(engine)] == [
        ("completed", True, expired_now),
        ("completed", False, expired_now),
    ]


def test_weekly_resets_moves(airflow_home, app_db):
    engine, uri = app_db
    done = dags_test(airflow_home, "fantasy_weekly", uri, {"jobs": ["reset_weekly_moves"]})
    assert done.returncode == 0, done.stdout[-4000:]
    with engine.connect() as conn:
        used = (
            conn.execute(
                select(FantasyTeam.weekly_moves_used).where(FantasyTeam.moves_reset_week.is_not(None))
            )
            .scalars()
            .all()
        )
    assert used and set(used) == {0}
    (row,) = executions(engine)
    assert (row.job_id, row.status, row.rows_affected) == ("reset_weekly_moves", "completed", 30)
    # Lineage: the job's tables got an asset event carrying its rows; the skipped (unselected) jobs none.
    with sqlite3.connect(Path(airflow_home) / "airflow.db") as meta:
        events = meta.execute(
            "SELECT a.name, a.uri, e.source_task_id, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id"
            " WHERE e.source_run_id = ? ORDER BY a.name",
            (row.run_id,),
        ).fetchall()
    assert [(name, uri, task) for name, uri, task, _ in events] == [
        ("fantasy_db.fantasy_teams", "x-fantasy-db://fantasy_db/fantasy_teams", "reset_weekly_moves"),
        ("fantasy_db.leagues", "x-fantasy-db://fantasy_db/leagues", "reset_weekly_moves"),
    ]
    extra = json.loads(events[0][3])
    assert (extra["job_id"], extra["rows_affected"], extra["dry_run"], extra["table"]) == (
        "reset_weekly_moves",
        30,
        False,
        "fantasy_teams",
    )


def test_failing_job_is_retried_then_alerts_once(airflow_home, app_db, slack):
    engine, uri = app_db
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE cache_entries"))  # a database error: retried, unlike bad settings
    done = dags_test(
        airflow_home,
        "fantasy_frequent",
        uri,
        {"jobs": ["cache_cleanup"]},
        AIRFLOW_CONN_SLACK_ALERTS=slack_conn(slack),
        FANTASY_RETRY_DELAY_SECONDS="1",
    )
    assert done.returncode != 0
    rows = executions(engine)
    assert [(r.status, r.try_number) for r in rows] == [("failed", 1), ("failed", 2), ("failed", 3)]
    assert "cache_entries" in rows[0].error_message
    assert len(slack.requests) == 1, [r.body for r in slack.requests]
    message = slack.requests[0].json()["text"]
    assert "`cache_cleanup` in `fantasy_frequent`" in message and "*Try:* 3" in message
    assert "cache_entries" in message and "manual__" in message
    assert slack.requests[0].path == "/services/T000/B000/XXXX"


def test_error_a_retry_cannot_fix_fails_at_once(airflow_home, app_db, slack):
    engine, uri = app_db
    done = dags_test(
        airflow_home,
        "fantasy_frequent",
        uri,
        {"jobs": ["cache_cleanup"]},
        AIRFLOW_CONN_SLACK_ALERTS=slack_conn(slack),
        FANTASY_CACHE_BATCH_SIZE="lots",
    )
    assert done.returncode != 0
    (row,) = executions(engine)
    assert row.status == "failed" and "FANTASY_CACHE_BATCH_SIZE must be int, got 'lots'" in row.error_message
    assert len(slack.requests) == 1 and "ConfigError" in slack.requests[0].json()["text"]


def test_missing_slack_connection_is_logged_not_a_crash(airflow_home, app_db):
    engine, uri = app_db
    done = dags_test(
        airflow_home, "fantasy_frequent", uri, {"jobs": ["cache_cleanup"]}, FANTASY_CACHE_BATCH_SIZE="-1"
    )
    assert done.returncode != 0
    assert "Slack alert not sent: connection 'slack_alerts' is not configured" in done.stdout
    assert [r.status for r in executions(engine)] == ["failed"]


def test_unknown_job_in_params_is_refused(airflow_home, app_db):
    engine, uri = app_db
    done = dags_test(airflow_home, "fantasy_frequent", uri, {"jobs": ["cache_cleanup", "bogus_job"]})
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "bogus_job" in output and "is not one of" in output
    assert executions(engine) == []


def test_frequent_data_quality_checks_store_four_results(airflow_home, app_db):
    engine, uri = app_db
    done = dags_test(airflow_home, "fantasy_frequent", uri, {"jobs": ["data_quality_checks"]})
    assert done.returncode == 0, done.stdout[-4000:]
    with engine.connect() as conn:
        results = dict(conn.execute(select(DataQualityResult.check_name, DataQualityResult.status)).all())
    assert results == {
        "player_stats_consistency": "passed",
        "roster_slot_integrity": "passed",
        "score_calculation_accuracy": "passed",
        "draft_state_consistency": "passed",
    }
