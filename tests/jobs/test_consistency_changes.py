"""calculate_analytics from its change log equals a run over every player, after every step.

On PostgreSQL statement triggers queue the players whose stat lines were written or deleted (or
whose game moved to another season) in `consistency_changes`; a run recomputes only those players'
consistency. After random season steps (the scoring test's, plus a game moved to another season
and back) the table must equal what a run over every player leaves on a copy where it was emptied.
On SQLite every run reads every player.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select, text, update

from fantasy_jobs.schema import ConsistencyChange, Game
from tests.jobs.test_scoring_incremental import NOW, STEPS, world  # noqa: F401
from tests.support.jobs import count, run_job

COLUMNS = (
    "player_id, season, games, mean_points, stddev_points, coefficient_of_variation, consistency_score, rated"
)


def consistency(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(text(f"SELECT {COLUMNS} FROM player_consistency ORDER BY 1, 2"))
        ]


def from_scratch(copy) -> list[tuple]:
    other, drop = copy()
    try:
        with other.begin() as conn:
            conn.execute(text("DELETE FROM player_consistency"))
        run_job(other, "calculate_analytics", NOW, full=True)
        return consistency(other)
    finally:
        drop()


def season_moved(conn, rng, ids) -> str:
    game = rng.choice(conn.execute(select(Game.id).order_by(Game.id)).scalars().all())
    season = rng.choice([2025, 2026])
    conn.execute(update(Game).where(Game.id == game).values(season=season))
    return f"game {game} in season {season}"


@pytest.mark.parametrize("seed", [2, 9])
def test_consistency_from_the_change_log_equals_every_player(world, seed):  # noqa: F811
    engine, copy, ids = world
    postgres = engine.dialect.name == "postgresql"
    rng = random.Random(seed)
    first = run_job(engine, "calculate_analytics", NOW)
    assert first.details["full"] and consistency(engine) == from_scratch(copy)
    steps = [*STEPS, season_moved, season_moved]
    history, scoped = [], []
    for number in range(10):
        with engine.begin() as conn:
            history += [rng.choice(steps)(conn, rng, ids) for _ in range(rng.randint(1, 3))]
        result = run_job(engine, "calculate_analytics", NOW)
        assert result.details["full"] == (not postgres), history
        if postgres:
            assert count(engine, ConsistencyChange) == 0
            scoped.append(result.details.get("player_seasons", 0))
        assert consistency(engine) == from_scratch(copy), f"after step {number}: {history}"
    quiet = run_job(engine, "calculate_analytics", NOW)
    if postgres:
        assert quiet.summary == "nothing changed since the last run" and quiet.rows_affected == 0
        assert min(scoped) < len({row[:2] for row in consistency(engine)})  # some runs read fewer players


def test_a_player_season_left_without_lines_is_removed(world):  # noqa: F811
    engine, copy, ids = world
    run_job(engine, "calculate_analytics", NOW)
    with engine.begin() as conn:
        game = conn.scalar(select(Game.id).order_by(Game.id))
        conn.execute(update(Game).where(Game.id == game).values(season=2024))
    run_job(engine, "calculate_analytics", NOW)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM player_consistency WHERE season = 2024")) > 0
    with engine.begin() as conn:
        conn.execute(update(Game).where(Game.id == game).values(season=2026))
    run_job(engine, "calculate_analytics", NOW)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM player_consistency WHERE season = 2024")) == 0
    assert consistency(engine) == from_scratch(copy)
