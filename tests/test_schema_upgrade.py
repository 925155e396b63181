"""A database made by an earlier version of the model gets the new columns and indexes."""

from __future__ import annotations

from sqlalchemy import inspect, text

from fantasy_jobs.schema import add_missing_columns_and_indexes, create_all


def test_create_all_adds_missing_columns_and_indexes_and_keeps_rows(engine):
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO teams (espn_id, abbreviation, location, name, display_name, is_active) "
                "VALUES ('5', 'IND', 'Indiana', 'Fever', 'Indiana Fever', true)"
            )
        )
        conn.execute(text("DROP INDEX ix_games_box_score_status"))
        conn.execute(text("ALTER TABLE games DROP COLUMN box_score_attempts"))
        conn.execute(text("ALTER TABLE games DROP COLUMN box_score_status"))
    assert "box_score_attempts" not in {c["name"] for c in inspect(engine).get_columns("games")}

    create_all(engine)

    columns = {c["name"]: c for c in inspect(engine).get_columns("games")}
    assert {"box_score_attempts", "box_score_status"} <= set(columns)
    assert columns["box_score_attempts"]["nullable"] is False
    assert "ix_games_box_score_status" in {i["name"] for i in inspect(engine).get_indexes("games")}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO games (espn_id, season, season_type, start_time, home_team_id, away_team_id, status) "
                "SELECT '1', 2026, 2, CURRENT_TIMESTAMP, id, id, 'scheduled' FROM teams"
            )
        )
        assert conn.execute(text("SELECT box_score_attempts FROM games")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM teams")).scalar_one() == 1
    assert add_missing_columns_and_indexes(engine) == []  # nothing left to add
