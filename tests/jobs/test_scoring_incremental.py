"""calculate_fantasy_scores from the change log equals a recompute from scratch, after every step.

Random sequences (seeded, so a failure replays) of what happens to a season: new games, stat
corrections, removed lines, tip-offs moved, lineup moves, trades, a league's weights changed, a
league archived and back. After each step the incremental run's derived tables on the database
are compared with a from-scratch full run on a copy of it (derived tables emptied first), on both
databases. The incremental runs accumulate on the main database; the copies are thrown away.
"""

from __future__ import annotations

import random
import shutil
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import func, insert, select, text, update

from fantasy_jobs.db import make_engine
from fantasy_jobs.schema import (
    FantasyTeam,
    Game,
    League,
    PlayerGameStats,
    RosterSlot,
    ScoringChange,
    create_all,
)
from tests.support import league_world
from tests.support.jobs import count, run_job

NOW = datetime(2026, 8, 3, 6, 0, tzinfo=UTC)
SCORED = "('active', 'completed')"
WEIGHTS = [{}, {"weights": league_world.CUSTOM}, {"weights": {"pts": 2, "tov": -2}}]
STATS = ("pts", "reb", "ast", "fg3m", "stl", "blk", "tov")


@pytest.fixture(params=["postgresql", "sqlite"])
def world(request, tmp_path):
    """(engine, copy) on a database holding the league world: `copy()` gives a scratch copy's engine
    and a function that removes it."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        name = server.create_database()
        engine = make_engine(server.url(name))

        def copy():
            engine.dispose()  # CREATE DATABASE ... TEMPLATE needs the source idle
            scratch = f"scratch_{uuid.uuid4().hex[:10]}"
            admin = server.url("postgres").replace("+psycopg", "")
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{scratch}" TEMPLATE "{name}"')
            other = make_engine(server.url(scratch))

            def drop():
                other.dispose()
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE "{scratch}"')

            return other, drop
    else:
        path = tmp_path / "app.db"
        engine = make_engine(f"sqlite:///{path}")

        def copy():
            engine.dispose()
            scratch = tmp_path / f"scratch-{uuid.uuid4().hex[:6]}.db"
            shutil.copy(path, scratch)
            other = make_engine(f"sqlite:///{scratch}")

            def drop():
                other.dispose()
                scratch.unlink()

            return other, drop

    create_all(engine)
    ids = league_world.build(engine)
    yield engine, copy, ids
    engine.dispose()


def derived(engine) -> dict[str, list[tuple]]:
    """What scoring derives, keyed so that a recompute from scratch (new profile ids) compares equal:
    points of the profiles scored leagues use, team weeks and profile links of scored leagues, weeks."""
    in_use = f"""SELECT lp.profile_id FROM league_profiles lp JOIN leagues l ON l.id = lp.league_id
                 WHERE l.status IN {SCORED}"""
    queries = {
        "fantasy_points": f"""
            SELECT p.weights_hash, fp.player_id, fp.game_id, fp.week, ROUND(CAST(fp.points AS NUMERIC), 2), fp.is_final
            FROM fantasy_points fp JOIN scoring_profiles p ON p.id = fp.profile_id
            WHERE fp.profile_id IN ({in_use})""",
        "team_week_scores": f"""
            SELECT fantasy_team_id, week, ROUND(CAST(points AS NUMERIC), 2) FROM team_week_scores
            WHERE league_id IN (SELECT id FROM leagues WHERE status IN {SCORED})""",
        "league_profiles": f"""
            SELECT lp.league_id, p.weights_hash FROM league_profiles lp JOIN scoring_profiles p ON p.id = lp.profile_id
            WHERE lp.league_id IN (SELECT id FROM leagues WHERE status IN {SCORED})""",
        "games": "SELECT id, fantasy_week FROM games",
    }
    with engine.connect() as conn:
        return {
            name: sorted(
                tuple(float(v) if hasattr(v, "is_finite") else v for v in row)
                for row in conn.execute(text(q))
            )
            for name, q in queries.items()
        }


def from_scratch(copy) -> dict[str, list[tuple]]:
    other, drop = copy()
    try:
        with other.begin() as conn:
            for table in ("fantasy_points", "team_week_scores", "league_profiles", "scoring_profiles"):
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(text("UPDATE games SET fantasy_week = NULL"))
        run_job(other, "calculate_fantasy_scores", NOW, full=True)
        return derived(other)
    finally:
        drop()


# --- what can happen to a season ---------------------------------------------------------------


def july(rng) -> datetime:
    return datetime(2026, 7, 6, 23, 0, tzinfo=UTC) + timedelta(
        days=rng.randint(0, 24), hours=rng.choice([0, 2])
    )


def new_game(conn, rng, ids) -> str:
    conn.execute(
        insert(Game).values(
            espn_id=f"g{uuid.uuid4().hex[:8]}",
            season=2026,
            start_time=july(rng),
            home_team_id=ids["W1"],
            away_team_id=ids["W2"],
            status="final",
        )
    )
    game = conn.scalar(select(func.max(Game.id)))
    players = rng.sample(["P1", "P2", "P3", "P4", "P5"], rng.randint(2, 5))
    for player in players:
        conn.execute(
            insert(PlayerGameStats).values(
                game_id=game,
                player_id=ids[player],
                team_id=ids["W1" if player in ("P1", "P2") else "W2"],
                is_final=True,
                minutes=30,
                **{stat: rng.randint(0, 12) for stat in STATS},
            )
        )
    return f"new game {game} with {', '.join(players)}"


def correction(conn, rng, ids) -> str:
    line = rng.choice(conn.execute(select(PlayerGameStats.id)).scalars().all())
    stat = rng.choice(STATS)
    conn.execute(update(PlayerGameStats).where(PlayerGameStats.id == line).values({stat: rng.randint(0, 30)}))
    return f"correction of line {line}: {stat}"


def removed_line(conn, rng, ids) -> str:
    line = rng.choice(conn.execute(select(PlayerGameStats.id)).scalars().all())
    conn.execute(PlayerGameStats.__table__.delete().where(PlayerGameStats.id == line))  # points left behind
    return f"line {line} removed"


def moved_tip_off(conn, rng, ids) -> str:
    game = rng.choice(conn.execute(select(Game.id)).scalars().all())
    conn.execute(update(Game).where(Game.id == game).values(start_time=july(rng)))
    return f"game {game} moved"


def open_slots(conn):
    return conn.execute(
        select(RosterSlot.id, RosterSlot.fantasy_team_id, RosterSlot.player_id, RosterSlot.slot).where(
            RosterSlot.released_at.is_(None)
        )
    ).all()


def lineup_move(conn, rng, ids) -> str:
    slot = rng.choice(open_slots(conn))
    at = july(rng) - timedelta(hours=5)
    new = "BENCH" if slot.slot != "BENCH" else rng.choice(["G", "F", "C", "UTIL"])
    conn.execute(update(RosterSlot).where(RosterSlot.id == slot.id).values(released_at=at))
    conn.execute(
        insert(RosterSlot).values(
            fantasy_team_id=slot.fantasy_team_id, player_id=slot.player_id, slot=new, acquired_at=at
        )
    )
    return f"team {slot.fantasy_team_id}: player {slot.player_id} {slot.slot} -> {new}"


def trade(conn, rng, ids) -> str:
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
    return f"player {slot.player_id} traded {slot.fantasy_team_id} -> {other}"


def weights_changed(conn, rng, ids) -> str:
    league = rng.choice([ids["A"], ids["B"], ids["T"]])
    settings = rng.choice(WEIGHTS)
    conn.execute(update(League).where(League.id == league).values(scoring_settings=settings))
    return f"league {league} weights {settings}"


def archived_or_back(conn, rng, ids) -> str:
    league = rng.choice([ids["A"], ids["B"], ids["T"]])
    status = conn.scalar(select(League.status).where(League.id == league))
    new = "active" if status == "archived" else rng.choice(["archived", "completed"])
    conn.execute(update(League).where(League.id == league).values(status=new))
    return f"league {league} {status} -> {new}"


STEPS = [
    new_game,
    correction,
    removed_line,
    moved_tip_off,
    lineup_move,
    trade,
    weights_changed,
    archived_or_back,
]


@pytest.mark.parametrize("seed", [1, 2, 3, 12])
def test_incremental_runs_equal_a_recompute_from_scratch(world, seed):
    engine, copy, ids = world
    rng = random.Random(seed)
    first = run_job(engine, "calculate_fantasy_scores", NOW)
    assert first.details["full"] and count(engine, ScoringChange) == 0  # the first run is full; queue emptied
    assert derived(engine) == from_scratch(copy)
    history = []
    for number in range(12):
        with engine.begin() as conn:
            history += [rng.choice(STEPS)(conn, rng, ids) for _ in range(rng.randint(1, 3))]
        result = run_job(engine, "calculate_fantasy_scores", NOW)
        assert not result.details["full"], (
            history
        )  # (a step may change nothing: a game "moved" to its own time)
        assert count(engine, ScoringChange) == 0  # every change read was consumed
        assert derived(engine) == from_scratch(copy), f"after step {number}: {history}"
    quiet = run_job(engine, "calculate_fantasy_scores", NOW)  # nothing new: nothing read, nothing written
    assert (quiet.rows_affected, quiet.details["changes"]) == (0, 0) and "nothing changed" in quiet.summary


def test_full_flag_and_weekly_safety_net(world, monkeypatch):
    engine, _, _ = world
    assert run_job(engine, "calculate_fantasy_scores", NOW).details["full"]  # none in the last 7 days
    assert not run_job(engine, "calculate_fantasy_scores", NOW).details.get("full")
    forced = run_job(engine, "calculate_fantasy_scores", NOW, full=True)
    assert forced.details["full"] and forced.details["full_reason"] == "asked for (--full)"
    with engine.begin() as conn:  # the last full run is older than scoring_full_days
        conn.execute(
            text("UPDATE job_executions SET started_at = :old"), {"old": datetime(2026, 1, 1, tzinfo=UTC)}
        )
    assert run_job(engine, "calculate_fantasy_scores", NOW).details["full"]
