"""cleanup_old_data: counts per table before and after, dry run, archive completeness, a killed run resumed."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from fantasy_jobs.schema import (
    ARCHIVE_TABLES,
    DataQualityResult,
    FantasyTeam,
    IngestLog,
    JobExecution,
    League,
    LeagueScoringTrend,
    Notification,
    Player,
    PowerRanking,
    RosterSlot,
    TeamWeekScore,
    WeeklyBonus,
)
from tests.conftest import VENV_BIN, airflow_env
from tests.support.jobs import count, run_job

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # Sunday 03:00 New York
# What each cleanup step finds in seed(): rows deleted, leagues archived
STEP_COUNTS = {
    "notifications": 5,
    "archive_leagues": 1,
    "orphaned_roster_slots": 2,
    "ingest_logs": 2,
    "job_executions": 2,
    "data_quality_results": 1,
}


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def seed(engine) -> dict[str, int]:
    ids = {}
    with engine.begin() as conn:
        conn.execute(
            insert(Notification),
            [
                *(
                    {"user_id": 1, "kind": "in_app", "status": "sent", "created_at": ago(40)}
                    for _ in range(3)
                ),
                *(
                    {"user_id": 1, "kind": "in_app", "status": "dead", "created_at": ago(45)}
                    for _ in range(2)
                ),
                {"user_id": 1, "kind": "in_app", "status": "sent", "created_at": ago(10)},
                *(
                    {"user_id": 1, "kind": "in_app", "status": "pending", "created_at": ago(90)}
                    for _ in range(2)
                ),
                {"user_id": 1, "kind": "in_app", "status": "sending", "created_at": ago(90)},
                {"user_id": 1, "kind": "in_app", "status": "failed", "created_at": ago(90)},
            ],
        )
        conn.execute(insert(Player).values(espn_id="p1", full_name="P One"))
        player = conn.scalar(select(Player.id))
        for name, status, completed in (
            ("old", "completed", ago(800)),
            ("recent", "completed", ago(100)),
            ("live", "active", None),
        ):
            conn.execute(
                insert(League).values(
                    name=name, season=2024, status=status, completed_at=completed, scoring_settings={}
                )
            )
            league = conn.scalar(select(League.id).where(League.name == name))
            ids[name] = league
            conn.execute(insert(FantasyTeam).values(league_id=league, name=f"{name} team"))
            team = conn.scalar(select(FantasyTeam.id).where(FantasyTeam.league_id == league))
            conn.execute(
                insert(RosterSlot),
                [
                    {"fantasy_team_id": team, "player_id": player, "slot": s, "acquired_at": ago(900)}
                    for s in ("G", "BENCH")
                ],
            )
            conn.execute(
                insert(TeamWeekScore),
                [
                    {"league_id": league, "fantasy_team_id": team, "week": w, "points": 10.0}
                    for w in (202420, 202421)
                ],
            )
            conn.execute(
                insert(WeeklyBonus).values(
                    league_id=league,
                    week=202420,
                    fantasy_team_id=team,
                    bonus_type="weekly_high_score",
                    points=5,
                )
            )
            conn.execute(
                insert(PowerRanking).values(
                    league_id=league, week=202420, fantasy_team_id=team, score=1.0, rank=1
                )
            )
            conn.execute(insert(LeagueScoringTrend).values(league_id=league, week=202420, teams=1))
        conn.execute(
            insert(RosterSlot),
            [
                {
                    "fantasy_team_id": 9999,
                    "player_id": player,
                    "slot": "G",
                    "acquired_at": ago(5),
                },  # team missing
                {
                    "fantasy_team_id": ids["live"],
                    "player_id": 8888,
                    "slot": "F",
                    "acquired_at": ago(5),
                },  # player missing
            ],
        )
        conn.execute(
            insert(IngestLog),
            [
                {"source": "espn", "endpoint": "/x", "started_at": ago(d), "status": "ok"}
                for d in (100, 95, 10)
            ],
        )
        conn.execute(
            insert(JobExecution),
            [
                {"job_id": "x", "status": "completed", "started_at": ago(d), "trigger": "cli"}
                for d in (200, 190, 10)
            ],
        )
        conn.execute(
            insert(DataQualityResult),
            [{"check_name": "c", "ran_at": ago(d), "status": "passed", "details": {}} for d in (200, 5)],
        )
    return ids


def counts(engine) -> dict[str, int]:
    models = {
        "notifications": Notification,
        "roster_slots": RosterSlot,
        "team_week_scores": TeamWeekScore,
        "weekly_bonuses": WeeklyBonus,
        "power_rankings": PowerRanking,
        "league_scoring_trends": LeagueScoringTrend,
        "ingest_logs": IngestLog,
        "job_executions": JobExecution,
        "data_quality_results": DataQualityResult,
    }
    found = {name: count(engine, model) for name, model in models.items()}
    found.update({archive.name: count(engine, archive) for archive in ARCHIVE_TABLES.values()})
    return found


def test_cleanup_counts_before_and_after(engine):
    seed(engine)
    before = counts(engine)
    assert before["notifications"] == 10 and before["roster_slots"] == 8
    result = run_job(engine, "cleanup_old_data", NOW)
    after = counts(engine)
    assert result.details["counts"] == STEP_COUNTS
    assert after == {
        "notifications": 5,
        "roster_slots": 4,
        "team_week_scores": 4,
        "weekly_bonuses": 2,
        "power_rankings": 2,
        "league_scoring_trends": 2,
        "ingest_logs": 1,
        "job_executions": 1 + 1,
        "data_quality_results": 1,
        "archived_roster_slots": 2,
        "archived_team_week_scores": 2,
        "archived_weekly_bonuses": 1,
        "archived_power_rankings": 1,
        "archived_league_scoring_trends": 1,
    }  # job_executions: the recent row and this run's own
    with engine.connect() as conn:
        statuses = sorted(conn.execute(select(Notification.status)).scalars())
        leagues = dict(conn.execute(select(League.name, League.status)).all())
    assert statuses == [
        "failed",
        "pending",
        "pending",
        "sending",
        "sent",
    ]  # pending, sending, failed never touched
    assert leagues == {"old": "archived", "recent": "completed", "live": "active"}


def test_every_league_owned_row_is_in_its_archive(engine):
    ids = seed(engine)
    with engine.connect() as conn:
        team = conn.scalar(select(FantasyTeam.id).where(FantasyTeam.league_id == ids["old"]))
        owned = {
            "roster_slots": set(
                conn.execute(select(RosterSlot.id).where(RosterSlot.fantasy_team_id == team)).scalars()
            ),
            "team_week_scores": set(
                conn.execute(select(TeamWeekScore.id).where(TeamWeekScore.league_id == ids["old"])).scalars()
            ),
            "weekly_bonuses": set(
                conn.execute(select(WeeklyBonus.id).where(WeeklyBonus.league_id == ids["old"])).scalars()
            ),
            "power_rankings": set(
                conn.execute(select(PowerRanking.id).where(PowerRanking.league_id == ids["old"])).scalars()
            ),
            "league_scoring_trends": set(
                conn.execute(
                    select(LeagueScoringTrend.id).where(LeagueScoringTrend.league_id == ids["old"])
                ).scalars()
            ),
        }
    run_job(engine, "cleanup_old_data", NOW)
    with engine.connect() as conn:
        for source, archive in ARCHIVE_TABLES.items():
            archived = set(conn.execute(select(archive.c.id)).scalars())
            still_hot = set(conn.execute(text(f"SELECT id FROM {source}")).scalars())
            assert archived == owned[source], source
            assert not archived & still_hot, source
        row = conn.execute(select(ARCHIVE_TABLES["team_week_scores"])).first()
    assert row.points == 10.0 and row.archived_at is not None


def test_dry_run_reports_every_count_and_changes_nothing(engine):
    seed(engine)
    before = counts(engine)
    result = run_job(engine, "cleanup_old_data", NOW, dry_run=True)
    assert result.details["counts"] == STEP_COUNTS
    after = counts(engine)
    after["job_executions"] -= 1  # the dry run's own tracking row
    assert after == before


def test_second_run_changes_nothing(engine):
    seed(engine)
    run_job(engine, "cleanup_old_data", NOW)
    again = run_job(engine, "cleanup_old_data", NOW)
    assert again.rows_affected == 0


def test_one_failing_step_does_not_hide_the_others(engine):
    seed(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE ingest_logs"))
    try:
        run_job(engine, "cleanup_old_data", NOW)
    except RuntimeError as exc:
        assert "ingest_logs" in str(exc) and "'data_quality_results': 1" in str(exc)
    else:
        raise AssertionError("the failed step must fail the job")
    assert count(engine, Notification) == 5 and count(engine, DataQualityResult) == 1


def test_killed_run_resumes_to_the_correct_final_state(postgres):
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.schema import create_all

    name = postgres.create_database("kill")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    old, keep = 30_000, 500
    with engine.begin() as conn:
        conn.execute(
            insert(Notification),
            [{"user_id": 1, "kind": "in_app", "status": "sent", "created_at": ago(60)}] * old
            + [{"user_id": 1, "kind": "in_app", "status": "pending", "created_at": ago(60)}] * keep,
        )
    env = airflow_env(
        AIRFLOW_CONN_FANTASY_DB=postgres.airflow_uri(name),
        FANTASY_CLEANUP_BATCH_SIZE="200",
        FANTASY_DELETE_BATCH_SECONDS="0.0001",
    )
    command = [str(VENV_BIN / "fantasy-jobs"), "run", "cleanup_old_data", "--at", NOW.isoformat()]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    progress = 0
    for line in first.stdout:
        if "notifications (sent or dead):" in line and " done, " in line:
            progress += 1
            if progress == 3:  # a few batches committed, many left
                first.kill()
                break
    first.wait(30)
    assert progress == 3 and first.returncode != 0
    remaining = count(engine, Notification, Notification.status == "sent")
    assert 0 < remaining < old  # stopped part-way: some batches done, the rest untouched
    assert count(engine, Notification, Notification.status == "pending") == keep
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert count(engine, Notification, Notification.status == "sent") == 0
    assert count(engine, Notification, Notification.status == "pending") == keep
    with engine.connect() as conn:
        statuses = [s for (s,) in conn.execute(select(JobExecution.status).order_by(JobExecution.id))]
    assert statuses == ["abandoned", "completed"]  # the next run closed the killed run's row
    engine.dispose()
