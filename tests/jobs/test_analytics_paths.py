"""league_analytics computes in SQL on PostgreSQL and in Python on SQLite: both give the same rows.

Both paths run on the same PostgreSQL demo data (scored, with bonuses), made harder with a team that
misses a week, a team that joins late and a week of zero points; the stored rows must be equal.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from fantasy_jobs.jobs import analytics
from fantasy_jobs.timeutil import fantasy_week
from tests.support.jobs import run_job

DAILY = datetime(2026, 6, 29, 8, 0, tzinfo=UTC)
MONDAYS = (datetime(2026, 6, 15, 9, 59, tzinfo=UTC), datetime(2026, 6, 22, 9, 59, tzinfo=UTC))
TABLES = {
    "league_scoring_trends": ("league_id", "week", *analytics.TREND_COLUMNS),
    "power_rankings": ("league_id", "week", "fantasy_team_id", *analytics.RANKING_COLUMNS),
}


def stored(conn) -> dict[str, list[tuple]]:
    return {
        table: [
            tuple(row)
            for row in conn.execute(text(f"SELECT {', '.join(cols)} FROM {table} ORDER BY 1, 2, 3"))
        ]
        for table, cols in TABLES.items()
    }


@pytest.mark.parametrize("demo_engine", ["postgresql"], indirect=True)
def test_sql_and_python_paths_store_the_same_rows(demo_engine):
    run_job(demo_engine, "calculate_fantasy_scores", DAILY)
    for monday in MONDAYS:
        run_job(demo_engine, "calculate_bonuses", monday)
    with demo_engine.begin() as conn:
        first, last = conn.execute(text("SELECT MIN(week), MAX(week) FROM team_week_scores")).one()
        team = conn.scalar(text("SELECT MIN(fantasy_team_id) FROM team_week_scores"))
        conn.execute(
            text("DELETE FROM team_week_scores WHERE fantasy_team_id = :t AND week > :w"),
            {"t": team, "w": first},
        )
        conn.execute(
            text("DELETE FROM team_week_scores WHERE fantasy_team_id = :t AND week = :w"),
            {"t": team + 1, "w": first},
        )
        conn.execute(
            text("UPDATE team_week_scores SET points = 0 WHERE fantasy_team_id = :t AND week = :w"),
            {"t": team + 2, "w": last},
        )
    week = fantasy_week(DAILY)
    results = {}
    for in_sql in (False, True):
        with demo_engine.begin() as conn:
            conn.execute(text("DELETE FROM league_scoring_trends"))
            conn.execute(text("DELETE FROM power_rankings"))
            written = (analytics.store_in_sql if in_sql else analytics.store_in_python)(conn, week)
            results[in_sql] = (written, stored(conn))
    python, sql = results[False], results[True]
    assert python[1]["power_rankings"] and python[1]["league_scoring_trends"]
    for table in TABLES:  # row by row, so a difference names its rows
        assert len(sql[1][table]) == len(python[1][table]), table
        assert [(p, q) for p, q in zip(python[1][table], sql[1][table], strict=True) if p != q] == [], table
    assert sql == python
    # the job takes the SQL path on PostgreSQL: it finds the rankings and trends in place, adds the trade impacts
    result = run_job(demo_engine, "league_analytics", DAILY)
    with demo_engine.connect() as conn:
        assert stored(conn) == sql[1]
        assert result.rows_affected == conn.scalar(text("SELECT COUNT(*) FROM trade_impacts")) > 0
