"""league_analytics from its change log equals an analysis from scratch, after every step.

The same random season histories as the scoring test (new games, corrections, removed lines,
tip-offs moved, lineup moves, trades, weights changed, leagues archived and back), plus accepted
trades with their items and bonuses changed. After each step the nightly runs as in production
(calculate_fantasy_scores, then league_analytics, both from their change logs) and the analytics
tables are compared with a copy of the database where they were emptied and league_analytics
analysed every league (--full). On SQLite league_analytics always analyses every league.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text, update

from fantasy_jobs.schema import AnalyticsChange, FantasyTeam, RosterSlot, Trade, TradeItem
from fantasy_jobs.timeutil import fantasy_week
from tests.jobs.test_scoring_incremental import NOW, SCORED, STEPS, july, open_slots, world  # noqa: F401
from tests.support.jobs import count, run_job

WEEK = fantasy_week(NOW)
ANALYSED = f"""
    l.status IN {SCORED} AND {{alias}}.week <= {WEEK}
    AND EXISTS (SELECT 1 FROM team_week_scores w WHERE w.league_id = {{alias}}.league_id AND w.week = {{alias}}.week)"""
QUERIES = {  # keyed rows of what league_analytics derives, for the leagues and weeks it analyses: exactly
    "league_scoring_trends": f"""
        SELECT t.league_id, t.week, t.teams, t.mean_points, t.median_points, t.stddev_points, t.change_from_previous
        FROM league_scoring_trends t JOIN leagues l ON l.id = t.league_id WHERE {ANALYSED.format(alias="t")}""",
    "power_rankings": f"""
        SELECT r.league_id, r.week, r.fantasy_team_id, r.score, r.rank, r.previous_rank, r.season_points,
               r.recent_points, r.consistency,
               r.weeks_played, r.season_total, r.season_squares
        FROM power_rankings r JOIN leagues l ON l.id = r.league_id WHERE {ANALYSED.format(alias="r")}""",
    "trade_impacts": """
        SELECT trade_id, fantasy_team_id, league_id, ROUND(CAST(points_received AS NUMERIC), 2),
               ROUND(CAST(points_given AS NUMERIC), 2), ROUND(CAST(net_points AS NUMERIC), 2), games
        FROM trade_impacts""",
}


def derived(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            name: sorted(
                tuple(None if v is None else float(v) if hasattr(v, "is_finite") else v for v in row)
                for row in conn.execute(text(q))
            )
            for name, q in QUERIES.items()
        }


def from_scratch(copy) -> dict[str, list[tuple]]:
    other, drop = copy()
    try:
        with other.begin() as conn:
            for table in QUERIES:
                conn.execute(text(f"DELETE FROM {table}"))
        run_job(other, "league_analytics", NOW, full=True)
        return derived(other)
    finally:
        drop()


def accepted_trade(conn, rng, ids) -> str:
    """A trade accepted between two teams of a league: the slot moves, the trade and its item are stored."""
    slot = rng.choice(open_slots(conn))
    league = conn.scalar(select(FantasyTeam.league_id).where(FantasyTeam.id == slot.fantasy_team_id))
    other = rng.choice(
        conn.execute(
            select(FantasyTeam.id).where(
                FantasyTeam.league_id == league, FantasyTeam.id != slot.fantasy_team_id
            )
        )
        .scalars()
        .all()
    )
    at = july(rng) - timedelta(hours=5)
    conn.execute(update(RosterSlot).where(RosterSlot.id == slot.id).values(released_at=at))
    conn.execute(
        insert(RosterSlot).values(fantasy_team_id=other, player_id=slot.player_id, slot="G", acquired_at=at)
    )
    trade_id = conn.execute(
        insert(Trade).values(league_id=league, status="accepted", accepted_at=at).returning(Trade.id)
    ).scalar_one()
    conn.execute(
        insert(TradeItem).values(
            trade_id=trade_id, from_team_id=slot.fantasy_team_id, to_team_id=other, player_id=slot.player_id
        )
    )
    return f"trade {trade_id}: player {slot.player_id} {slot.fantasy_team_id} -> {other}"


def bonus_changed(conn, rng, ids) -> str:
    """What calculate_bonuses does to a team week: its bonus points change."""
    row = rng.choice(conn.execute(text("SELECT id FROM team_week_scores ORDER BY id")).scalars().all())
    bonus = rng.choice([0, 5, 10])
    conn.execute(text("UPDATE team_week_scores SET bonus_points = :b WHERE id = :i"), {"b": bonus, "i": row})
    return f"team week {row} bonus {bonus}"


@pytest.mark.parametrize("seed", [4, 7, 10])
def test_analytics_from_the_change_log_equal_an_analysis_from_scratch(world, seed):  # noqa: F811
    engine, copy, ids = world
    rng = random.Random(seed)
    run_job(engine, "calculate_fantasy_scores", NOW)
    first = run_job(engine, "league_analytics", NOW)
    assert first.details["full"]
    assert derived(engine) == from_scratch(copy)
    steps = [*STEPS, accepted_trade, accepted_trade, bonus_changed]
    history = []
    from_stored = 0
    for number in range(10):
        with engine.begin() as conn:
            history += [rng.choice(steps)(conn, rng, ids) for _ in range(rng.randint(1, 3))]
        run_job(engine, "calculate_fantasy_scores", NOW)
        result = run_job(engine, "league_analytics", NOW)
        assert result.details["full"] == (engine.dialect.name == "sqlite"), history
        if engine.dialect.name == "postgresql":
            assert count(engine, AnalyticsChange) == 0  # every change read was consumed
            from_stored += result.details.get("ranked_from_stored_season", 0)
        assert derived(engine) == from_scratch(copy), f"after step {number}: {history}"
    if (
        engine.dialect.name == "postgresql"
    ):  # the runs ranked leagues from a stored season so far, not all from scratch
        assert from_stored > 0
    quiet = run_job(engine, "league_analytics", NOW)
    if engine.dialect.name == "postgresql":
        assert quiet.summary == "nothing changed since the last run" and quiet.rows_affected == 0


def test_full_flag_and_the_weekly_safety_net(world, monkeypatch):  # noqa: F811
    engine, _, _ = world
    run_job(engine, "calculate_fantasy_scores", NOW)
    assert run_job(engine, "league_analytics", NOW).details["full"]  # the first run
    second = run_job(engine, "league_analytics", NOW).details
    assert second["full"] == (engine.dialect.name == "sqlite")
    forced = run_job(engine, "league_analytics", NOW, full=True).details
    assert forced["full"] and forced["full_reason"] == "asked for (--full)"
    with engine.begin() as conn:  # the last full run is older than analytics_full_days
        conn.execute(text("UPDATE job_executions SET started_at = started_at - INTERVAL '8 days'")) if (
            engine.dialect.name == "postgresql"
        ) else conn.execute(text("UPDATE job_executions SET started_at = datetime(started_at, '-8 days')"))
    assert run_job(engine, "league_analytics", NOW).details["full"]
