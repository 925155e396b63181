"""Issue 14 item 2: no job's SQL carries a bind-parameter list that grows with the data.

PostgreSQL's protocol refuses more than 65,535 parameters in one statement, so an IN list of
every league id fails above that many leagues. Rather than build 65,536 leagues, every statement
the jobs send is counted on the demo plus more leagues than the bound: none may carry more than a
small constant number of parameters, except fixed-size batches of rows (executemany, or
SQLAlchemy's multi-row INSERT pages) whose size does not depend on the number of leagues.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text

from tests.support.jobs import run_job

DAILY = datetime(2026, 6, 29, 8, 0, tzinfo=UTC)  # the demo's Monday, early: scores through its third week
MONDAY = datetime(2026, 6, 22, 9, 59, tzinfo=UTC)  # Monday 05:59 New York: bonuses of the third demo week
EXTRA_LEAGUES = 150
MAX_PARAMETERS = 32  # any single statement: a few dates, ids, limits
MAX_BATCH_ROWS = 1000  # rows per executemany or multi-row INSERT page
JOBS = (
    ("calculate_fantasy_scores", DAILY),
    ("calculate_bonuses", MONDAY),
    ("calculate_analytics", DAILY),
    ("league_analytics", DAILY),
    ("reset_weekly_moves", MONDAY),
    ("data_quality_checks", DAILY),
    ("cache_cleanup", DAILY),
    ("cleanup_old_data", DAILY),
)


def add_leagues(engine, n: int) -> None:
    """n more active leagues of two teams each, rostered like the demo's first team (two profiles in all)."""
    with engine.begin() as conn:
        conn.execute(
            text("""
                INSERT INTO leagues (name, season, status, scoring_settings, max_teams, roster_size, max_weekly_moves, created_at)
                SELECT 'Clone ' || g, season, 'active',
                       CASE WHEN g % 2 = 0 THEN CAST('{"weights": {"tov": -1}}' AS JSONB) ELSE scoring_settings END,
                       max_teams, roster_size, max_weekly_moves, created_at
                FROM leagues CROSS JOIN generate_series(1, :n) AS g WHERE id = (SELECT MIN(id) FROM leagues)
            """),
            {"n": n},
        )
        conn.execute(
            text("""
                INSERT INTO fantasy_teams (league_id, name, weekly_moves_used, created_at)
                SELECT l.id, 'Clone team ' || t, 1, l.created_at FROM leagues l CROSS JOIN generate_series(1, 2) AS t
                WHERE l.name LIKE 'Clone %'
            """)
        )
        conn.execute(
            text("""
                INSERT INTO roster_slots (fantasy_team_id, player_id, slot, acquired_at, released_at)
                SELECT ft.id, rs.player_id, rs.slot, rs.acquired_at, rs.released_at
                FROM fantasy_teams ft CROSS JOIN roster_slots rs
                WHERE ft.name LIKE 'Clone team %' AND rs.fantasy_team_id = (SELECT MIN(id) FROM fantasy_teams)
            """)
        )
        conn.execute(text("ANALYZE"))  # as autovacuum would have by the time the jobs run


@pytest.mark.parametrize("demo_engine", ["postgresql"], indirect=True)
def test_no_statement_grows_with_the_leagues(demo_engine):
    add_leagues(demo_engine, EXTRA_LEAGUES)
    seen: list[tuple[str, int, int, str]] = []  # (job, rows in the batch, parameters per row, SQL)
    current = {"job": ""}

    @event.listens_for(demo_engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if executemany and isinstance(parameters, dict):  # one page of a multi-row INSERT: name__<row>
            per_row = len({name.rsplit("__", 1)[0] for name in parameters})
            rows = len(parameters) // max(per_row, 1)
        elif executemany:
            rows, per_row = len(parameters), max((len(p) for p in parameters), default=0)
        else:
            rows, per_row = 1, len(parameters or ())
        seen.append((current["job"], rows, per_row, statement[:200]))

    for job, at in JOBS:
        current["job"] = job
        run_job(demo_engine, job, at)
    with demo_engine.connect() as conn:
        scored = conn.scalar(text("SELECT COUNT(DISTINCT league_id) FROM team_week_scores"))
        bonused = conn.scalar(text("SELECT COUNT(DISTINCT league_id) FROM weekly_bonuses"))
    assert scored >= EXTRA_LEAGUES + 3 and bonused >= EXTRA_LEAGUES  # the clones were really worked on
    too_wide = [s for s in seen if s[2] > MAX_PARAMETERS]
    too_long = [s for s in seen if s[1] > MAX_BATCH_ROWS]
    assert too_wide == [] and too_long == []
    assert {job for job, *_ in seen} == {job for job, _ in JOBS}
