"""calculate_bonuses again for a week already awarded reads only what changed, and equals a whole pass.

The first run for a week reads every league. A later run for the same week (a retry, a manual run
after a late box score) reads only the leagues the change log (`bonus_changes`, PostgreSQL) names:
team weeks of that week written or deleted, rosters or settings changed, a line of that week
written, deleted or flagged did-not-play. After random changes to the season (the scoring test's
steps, plus did-not-play flips and bonus settings) and the nightly's rescoring, that re-run must
leave exactly what a whole pass (--full) leaves on a copy of the same database. On SQLite every
run is a whole pass.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from fantasy_jobs.schema import BonusChange, League, PlayerGameStats
from tests.jobs.test_scoring_incremental import NOW, STEPS, world  # noqa: F401
from tests.support import league_world as lw
from tests.support.jobs import count, run_job

MONDAY = datetime(2026, 7, 20, 15, 0, tzinfo=UTC)  # week 202629 (July 13-19) just ended
LW_DAILY = datetime(2026, 7, 22, 6, 0, tzinfo=UTC)  # the league world after G3
LW_MONDAY = datetime(2026, 7, 20, 9, 59, tzinfo=UTC)  # Monday 05:59 New York: week 202629 just ended
DEMO_MONDAY = datetime(2026, 6, 22, 15, 0, tzinfo=UTC)  # the demo's second week just ended
DEMO_NOW = datetime(2026, 6, 29, 15, 0, tzinfo=UTC)  # the demo's "now": its third week just ended
STATE = {
    "weekly_bonuses": "SELECT league_id, week, fantasy_team_id, bonus_type, points FROM weekly_bonuses",
    "bonus_points": "SELECT fantasy_team_id, week, bonus_points FROM team_week_scores",
}


def bonus_state(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {name: sorted(tuple(row) for row in conn.execute(text(q))) for name, q in STATE.items()}


def did_not_play_flipped(conn, rng, ids) -> str:
    line = rng.choice(conn.execute(select(PlayerGameStats.id).order_by(PlayerGameStats.id)).scalars().all())
    conn.execute(
        update(PlayerGameStats)
        .where(PlayerGameStats.id == line)
        .values(did_not_play=~PlayerGameStats.did_not_play)
    )
    return f"line {line} did-not-play flipped"


def bonus_settings(conn, rng, ids) -> str:
    league = rng.choice([ids["A"], ids["B"], ids["T"]])
    bonuses = {"weekly_high_score": rng.choice([0, 5, 12.5]), "all_starters_played": rng.choice([0, 2, 3])}
    conn.execute(update(League).where(League.id == league).values(scoring_settings={"bonuses": bonuses}))
    return f"league {league} bonuses {bonuses}"


@pytest.mark.parametrize("seed", [3, 5])
def test_a_rerun_for_an_awarded_week_equals_a_whole_pass(world, seed):  # noqa: F811
    engine, copy, ids = world
    rng = random.Random(seed)
    postgres = engine.dialect.name == "postgresql"
    run_job(engine, "calculate_fantasy_scores", NOW)
    first = run_job(engine, "calculate_bonuses", MONDAY)
    assert first.details["full"] and first.rows_affected > 0
    steps = [*STEPS, did_not_play_flipped, did_not_play_flipped, bonus_settings]
    history, scoped_leagues = [], []
    for number in range(8):
        with engine.begin() as conn:
            history += [rng.choice(steps)(conn, rng, ids) for _ in range(rng.randint(1, 3))]
        run_job(engine, "calculate_fantasy_scores", NOW)
        other, drop = copy()  # the same database before the re-run: what a whole pass makes of it
        try:
            rerun = run_job(engine, "calculate_bonuses", MONDAY)
            whole = run_job(other, "calculate_bonuses", MONDAY, full=True)
            assert whole.details["full"]
            assert bonus_state(engine) == bonus_state(other), f"after step {number}: {history}"
        finally:
            drop()
        assert rerun.details["full"] == (not postgres), history
        if postgres:
            assert count(engine, BonusChange) == 0  # every change read was consumed
            scoped_leagues.append(rerun.details["leagues"])
    quiet = run_job(engine, "calculate_bonuses", MONDAY)
    if postgres:
        assert quiet.summary == "week 202629: nothing changed since the last run" and quiet.rows_affected == 0
        assert min(scoped_leagues) < 3  # some re-runs read fewer leagues than all three


@pytest.mark.parametrize("demo_engine", ["postgresql"], indirect=True)
def test_a_rerun_reads_the_changed_league_only_and_a_new_week_reads_all(demo_engine):
    engine = demo_engine
    run_job(engine, "calculate_fantasy_scores", DEMO_NOW)
    first = run_job(engine, "calculate_bonuses", DEMO_MONDAY)
    week, leagues = first.details["week"], first.details["leagues"]
    assert first.details["full"] and leagues > 1
    assert count(engine, BonusChange) == 0  # the run's own bonus points queue nothing
    assert run_job(engine, "calculate_bonuses", DEMO_MONDAY).details == {
        "week": week,
        "full": False,
        "leagues": 0,
    }
    with engine.begin() as conn:  # a late correction lifts one team of one league in that week
        team = conn.scalar(
            text("SELECT fantasy_team_id FROM team_week_scores WHERE week = :w ORDER BY id LIMIT 1"),
            {"w": week},
        )
        conn.execute(
            text(
                "UPDATE team_week_scores SET points = points + 500 WHERE fantasy_team_id = :t AND week = :w"
            ),
            {"t": team, "w": week},
        )
    again = run_job(engine, "calculate_bonuses", DEMO_MONDAY)
    assert again.details["leagues"] == 1 and not again.details["full"]
    with engine.connect() as conn:
        awarded = conn.scalar(
            text(
                "SELECT COUNT(*) FROM weekly_bonuses WHERE fantasy_team_id = :t AND week = :w "
                "AND bonus_type = 'weekly_high_score'"
            ),
            {"t": team, "w": week},
        )
    assert awarded == 1 and again.rows_affected >= 1  # the new high score got its bonus
    # the next week's first run reads every league again, and --full does too
    next_week = run_job(engine, "calculate_bonuses", DEMO_NOW)
    assert next_week.details["full"] and next_week.details["week"] > week
    forced = run_job(engine, "calculate_bonuses", DEMO_MONDAY, full=True)
    assert forced.details["full"] and forced.details["leagues"] == leagues


def bonuses_of(engine, team: int) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT bonus_type FROM weekly_bonuses WHERE fantasy_team_id = :t AND week = 202629"),
                {"t": team},
            ).scalars()
        )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # the change log is PostgreSQL's
def test_changes_that_move_no_points_still_reach_the_rerun(engine):
    """A line flagged as played with nothing in it and a league's bonus amounts changed leave every
    team week's points as they were: only the line and league entries of the log bring them in."""
    ids = lw.build(engine)
    with engine.begin() as conn:  # league B starts without a high-score bonus (its weights kept)
        settings = conn.scalar(select(League.scoring_settings).where(League.id == ids["B"])) or {}
        conn.execute(
            update(League)
            .where(League.id == ids["B"])
            .values(scoring_settings={**settings, "bonuses": {"weekly_high_score": 0}})
        )
    run_job(engine, "calculate_fantasy_scores", LW_DAILY)
    run_job(engine, "calculate_bonuses", LW_MONDAY)
    assert "all_starters_played" not in bonuses_of(engine, ids["A1"])  # its P3 did not play G2
    assert "weekly_high_score" not in bonuses_of(engine, ids["B2"])
    with engine.begin() as conn:
        conn.execute(
            update(PlayerGameStats)
            .where(PlayerGameStats.player_id == ids["P3"], PlayerGameStats.game_id == ids["G2"])
            .values(did_not_play=False)  # he played after all: 0 points either way
        )
        conn.execute(
            update(League)
            .where(League.id == ids["B"])
            .values(scoring_settings={**settings, "bonuses": {"weekly_high_score": 5}})
        )
    with engine.connect() as conn:
        before = conn.execute(
            text("SELECT fantasy_team_id, week, points FROM team_week_scores ORDER BY 1, 2")
        ).all()
    run_job(engine, "calculate_fantasy_scores", LW_DAILY)
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT fantasy_team_id, week, points FROM team_week_scores ORDER BY 1, 2")
            ).all()
            == before
        )
    rerun = run_job(engine, "calculate_bonuses", LW_MONDAY)
    assert not rerun.details["full"]
    assert "all_starters_played" in bonuses_of(engine, ids["A1"])
    assert "weekly_high_score" in bonuses_of(engine, ids["B2"])
