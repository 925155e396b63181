"""reset_weekly_moves: once per fantasy week per active league; a second run changes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from fantasy_jobs.schema import FantasyTeam, League
from tests.support.jobs import run_job, snapshot

NY = ZoneInfo("America/New_York")
MONDAY_5AM = datetime(2026, 6, 8, 5, 0, tzinfo=NY)  # fantasy week 202624


def seed(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(League),
            [
                {"id": 1, "name": "Active", "season": 2026, "status": "active", "scoring_settings": {}},
                {"id": 2, "name": "Drafting", "season": 2026, "status": "drafting", "scoring_settings": {}},
                {"id": 3, "name": "Also active", "season": 2026, "status": "active", "scoring_settings": {}},
            ],
        )
        conn.execute(
            insert(FantasyTeam),
            [
                {"id": 1, "league_id": 1, "name": "A1", "weekly_moves_used": 3, "moves_reset_week": 202623},
                {"id": 2, "league_id": 1, "name": "A2", "weekly_moves_used": 1, "moves_reset_week": None},
                {"id": 3, "league_id": 2, "name": "D1", "weekly_moves_used": 2, "moves_reset_week": 202623},
                {"id": 4, "league_id": 3, "name": "B1", "weekly_moves_used": 2, "moves_reset_week": 202624},
            ],
        )


def moves(engine) -> dict[int, tuple[int, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(FantasyTeam.id, FantasyTeam.weekly_moves_used, FantasyTeam.moves_reset_week)
        )
        return {r.id: (r.weekly_moves_used, r.moves_reset_week) for r in rows}


def test_resets_active_leagues_once_per_week(engine):
    seed(engine)
    result = run_job(engine, "reset_weekly_moves", MONDAY_5AM)
    assert result.rows_affected == 2
    assert moves(engine) == {1: (0, 202624), 2: (0, 202624), 3: (2, 202623), 4: (2, 202624)}
    before = snapshot(engine, "fantasy_teams")
    again = run_job(engine, "reset_weekly_moves", MONDAY_5AM)
    assert again.rows_affected == 0 and snapshot(engine, "fantasy_teams") == before


def test_moves_used_during_the_week_are_not_reset_again(engine):
    seed(engine)
    run_job(engine, "reset_weekly_moves", MONDAY_5AM)
    with engine.begin() as conn:
        conn.execute(FantasyTeam.__table__.update().where(FantasyTeam.id == 1).values(weekly_moves_used=2))
    run_job(engine, "reset_weekly_moves", datetime(2026, 6, 10, 9, 0, tzinfo=NY))  # a manual run on Wednesday
    assert moves(engine)[1] == (2, 202624)
    run_job(engine, "reset_weekly_moves", datetime(2026, 6, 15, 5, 0, tzinfo=NY))  # next Monday
    assert moves(engine)[1] == (0, 202625)


def test_rerun_of_an_older_week_does_not_undo_a_newer_reset(engine):
    seed(engine)
    run_job(engine, "reset_weekly_moves", MONDAY_5AM)
    with engine.begin() as conn:
        conn.execute(FantasyTeam.__table__.update().where(FantasyTeam.id == 1).values(weekly_moves_used=1))
    run_job(engine, "reset_weekly_moves", datetime(2026, 6, 1, 5, 0, tzinfo=NY))  # back-fill of week 202623
    assert moves(engine)[1] == (1, 202624)


def test_dry_run_counts_and_changes_nothing(engine):
    seed(engine)
    before = snapshot(engine, "fantasy_teams")
    result = run_job(engine, "reset_weekly_moves", MONDAY_5AM, dry_run=True)
    assert result.rows_affected == 2 and "would reset weekly moves of 2 teams in 1 leagues" in result.summary
    assert snapshot(engine, "fantasy_teams") == before
