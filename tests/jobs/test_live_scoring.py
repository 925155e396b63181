"""live_scoring, the event-driven tick: it stores the box scores of the games the watcher named and
rescores exactly the lines that changed (and the team weeks of the teams that started those
players), in one transaction; the result equals a full recompute; a failure keeps nothing.

The committed world (tests/support/espn_world.py, G3 live) on both databases; leagues from
test_live_points. The watcher's events are passed as the scheduler passes them (payloads)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from fantasy_jobs.errors import PermanentJobError
from fantasy_jobs.espn import client as api
from fantasy_jobs.registry import get_job
from fantasy_jobs.runtime import RunRequest, execute
from fantasy_jobs.schema import FantasyPoints, IngestLog, PlayerGameStats, TeamWeekScore
from tests.jobs.test_live_points import DURING, G3_LATER, ROSTERED_SINCE, team_weeks, world_leagues
from tests.support import espn_world as w
from tests.support.jobs import count, run_job, snapshot

WEEK = 202630
G3_EVENT = {"id": w.G3.id, "home": "9", "away": "8", "label": "MIN (8) @ NY (9)"}


def tick(engine, now, *games, seen_at=None):
    seen_at = seen_at or datetime.now(UTC) - timedelta(seconds=5)  # the watcher's clock is the real one
    events = ({"games": list(games), "seen_at": seen_at.isoformat(), "live": 1},)
    req = RunRequest(trigger="event", logical_time=now, started_at=now, check_misfire=False, events=events)
    return execute(get_job("live_scoring"), req, engine=engine)


@pytest.fixture
def linked(engine, espn):
    """The world's leagues, linked to their profiles by a nightly scoring run before G3 tipped off."""
    world_leagues(engine)
    run_job(engine, "calculate_fantasy_scores", DURING - timedelta(hours=2))
    return engine


def test_a_tick_rescores_only_the_changed_lines_and_their_starters_team_weeks(linked, espn):
    engine = linked
    first = tick(engine, DURING, G3_EVENT)
    assert first.details["lines_changed"] == 2 and first.details["games"] == [w.G3.id]
    assert team_weeks(engine) == {("L1", WEEK): 8.0, ("L2", WEEK): 6.0, ("C1", WEEK): 6.5}
    assert 4.9 <= first.details["lag_seconds"] < 60 and first.details["events"] == 1

    again = tick(engine, DURING + timedelta(seconds=15), G3_EVENT)  # nothing new at ESPN: nothing written
    assert (
        again.details["lines_changed"],
        again.details["fantasy_points_rows"],
        again.details["team_week_rows"],
    ) == (0, 0, 0)

    espn.add(api.SUMMARY, G3_LATER.summary(), {"event": w.G3.id})  # Hana's line only
    later = tick(engine, DURING + timedelta(minutes=1), G3_EVENT)
    assert later.details["team_weeks_by"] == ("delta" if engine.dialect.name == "postgresql" else "sum")
    # her line under two profiles; the teams that START her: L1 (G) and C1 (F), not L2 (Dana) or C2
    assert (later.details["lines_changed"], later.details["fantasy_points_rows"]) == (1, 2)
    assert (later.details["team_weeks_in_scope"], later.details["team_week_rows"]) == (2, 2)
    assert team_weeks(engine) == {("L1", WEEK): 16.0, ("L2", WEEK): 6.0, ("C1", WEEK): 15.5}

    live = {t: snapshot(engine, t) for t in ("fantasy_points", "team_week_scores")}
    run_job(engine, "calculate_fantasy_scores", DURING + timedelta(minutes=2), full=True)
    assert {t: snapshot(engine, t) for t in live} == live  # the ticks equal a full recompute


def test_a_dropped_line_is_removed_with_its_points_and_its_starters_totals(linked, espn):
    engine = linked
    tick(engine, DURING, G3_EVENT)
    espn.add(api.SUMMARY, dataclasses.replace(w.G3, away_lines=[]).summary(), {"event": w.G3.id})
    dropped = tick(engine, DURING + timedelta(minutes=1), G3_EVENT)
    assert (
        dropped.details["lines_changed"] == 1 and dropped.details["team_weeks_by"] == "sum"
    )  # may empty a week
    assert team_weeks(engine) == {("L1", WEEK): 8.0, ("C1", WEEK): 6.5}  # L2's only starter lost her line
    live = {t: snapshot(engine, t) for t in ("fantasy_points", "team_week_scores")}
    run_job(engine, "calculate_fantasy_scores", DURING + timedelta(minutes=2), full=True)
    assert {t: snapshot(engine, t) for t in live} == live


def test_a_failing_tick_keeps_nothing_and_its_retry_scores_everything(linked, espn):
    engine = linked
    with engine.begin() as conn:  # the team week totals refuse every new row
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'team week totals refused'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON team_week_scores FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON team_week_scores "
                    "BEGIN SELECT RAISE(ABORT, 'team week totals refused'); END"
                )
            )
    with pytest.raises(RuntimeError, match=r"live tick of 1 games rolled back, nothing kept.*refused"):
        tick(engine, DURING, G3_EVENT)
    assert count(engine, PlayerGameStats) == count(engine, FantasyPoints) == count(engine, TeamWeekScore) == 0
    with engine.connect() as conn:
        logged = conn.execute(
            select(IngestLog.status, IngestLog.rows_upserted).where(
                IngestLog.endpoint.like(f"%event={w.G3.id}%")
            )
        ).all()
    assert [tuple(r) for r in logged] == [("error", 0)]
    with engine.begin() as conn:
        conn.execute(
            text(
                "DROP TRIGGER refuse" + (" ON team_week_scores" if conn.dialect.name == "postgresql" else "")
            )
        )
    retry = tick(engine, DURING + timedelta(seconds=10), G3_EVENT)
    assert retry.details["lines_changed"] == 2
    assert team_weeks(engine) == {("L1", WEEK): 8.0, ("L2", WEEK): 6.0, ("C1", WEEK): 6.5}


def test_a_bad_summary_beside_a_good_one(linked, espn):
    """The event names G3 and a game whose summary ESPN serves for another game: G3 is stored and
    scored, the tick fails naming the other (a permanent error: no retry)."""
    engine = linked
    espn.add(api.SUMMARY, w.G2.summary(), {"event": "401980077"})
    other = {"id": "401980077", "home": "17", "away": "9", "label": "NY (9) @ LV (17)"}
    with pytest.raises(PermanentJobError, match=r"1 live box scores.*\[game 401980077\].*another game"):
        tick(engine, DURING, G3_EVENT, other)
    assert team_weeks(engine) == {("L1", WEEK): 8.0, ("L2", WEEK): 6.0, ("C1", WEEK): 6.5}


def test_an_event_that_is_not_the_watchers_is_a_clear_error(linked):
    with pytest.raises(PermanentJobError, match=r"asset event payload .* is not the live watcher's"):
        execute(
            get_job("live_scoring"),
            RunRequest(
                trigger="event",
                logical_time=DURING,
                started_at=DURING,
                check_misfire=False,
                events=({"games": [{"id": 1}]},),
            ),
            engine=linked,
        )


def test_a_manual_tick_reads_every_live_game(linked):
    result = run_job(linked, "live_scoring", DURING)
    assert result.details["games"] == [w.G3.id] and result.details["lag_seconds"] is None
    assert team_weeks(linked) == {("L1", WEEK): 8.0, ("L2", WEEK): 6.0, ("C1", WEEK): 6.5}


def test_leagues_no_scoring_run_has_linked_yet_are_linked_and_totalled_by_the_tick(engine, espn):
    """A fresh database (the demo before its first nightly): the tick links the leagues to their
    profiles and scores their season, so live points are there at once, equal to a full recompute."""
    world_leagues(engine)
    first = tick(engine, DURING, G3_EVENT)
    assert team_weeks(engine) == {("L1", WEEK): 8.0, ("L2", WEEK): 6.0, ("C1", WEEK): 6.5}
    assert first.details["lines_changed"] == 2
    live = {t: snapshot(engine, t) for t in ("fantasy_points", "team_week_scores", "scoring_profiles")}
    run_job(engine, "calculate_fantasy_scores", DURING + timedelta(minutes=1), full=True)
    assert {t: snapshot(engine, t) for t in live} == live


@pytest.mark.parametrize("seed", [3, 11])
def test_random_ticks_equal_a_full_recompute(engine, espn, seed):
    """Ticks of random changes (new lines, baskets, rebounds, a did-not-play flag) under weights with
    decimals, in leagues whose teams start, bench or released the players at random: after every tick
    the points and the team weeks equal a full recompute (PostgreSQL moves the totals by their
    points' change, SQLite sums them again)."""
    import random

    from tests.jobs.test_live_points import add_league, add_players

    rng = random.Random(seed)
    home = {f"50{i:02d}": f"Home {i}" for i in range(6)}
    away = {f"60{i:02d}": f"Away {i}" for i in range(6)}
    add_players(engine, home | away)
    players = list(home) + list(away)
    for n in range(5):
        weights = {
            stat: round(rng.uniform(-1.5, 3.5), rng.choice([1, 2, 3]))
            for stat in rng.sample(["pts", "reb", "ast", "fga", "fg3m", "stl", "tov"], 3)
        }
        teams = {}
        for t in range(3):
            chosen = rng.sample(players, 5)
            teams[f"T{n}{t}"] = [(p, rng.choice(["G", "F", "C", "UTIL", "BENCH", "IR"])) for p in chosen]
        add_league(engine, f"Random {n}", {"weights": weights}, teams, ROSTERED_SINCE)
    run_job(engine, "calculate_fantasy_scores", DURING - timedelta(hours=2))
    stats = {p: None for p in players}  # None: not in the box score yet

    def box(side: dict) -> list:
        lines = []
        for p, name in side.items():
            s = stats[p]
            if s is None:
                continue
            lines.append(w.dnp(p, name) if s == "dnp" else w.line(p, name, **s))
        return lines

    for step in range(6):
        for p in rng.sample(players, rng.randint(1, 4)):
            current = (
                stats[p]
                if isinstance(stats[p], dict)
                else {"fgm": 0, "fga": 0, "fg3m": 0, "dreb": 0, "ast": 0, "stl": 0}
            )
            if rng.random() < 0.15:
                stats[p] = "dnp"
                continue
            made = rng.randint(0, 2)
            three = min(made, rng.randint(0, 1))
            stats[p] = {
                "fgm": current["fgm"] + made,
                "fga": current["fga"] + made + rng.randint(0, 2),
                "fg3m": current["fg3m"] + three,
                "dreb": current["dreb"] + rng.randint(0, 2),
                "ast": current["ast"] + rng.randint(0, 1),
                "stl": current["stl"] + rng.randint(0, 1),
            }
            stats[p]["fg3a"] = stats[p]["fg3m"]
        game = dataclasses.replace(w.G3, home_lines=box(home), away_lines=box(away))
        espn.add(api.SUMMARY, game.summary(), {"event": w.G3.id})
        result = tick(engine, DURING + timedelta(minutes=step), G3_EVENT)
        assert result.details["team_weeks_by"] == ("delta" if engine.dialect.name == "postgresql" else "sum")
        live = {t: snapshot(engine, t) for t in ("fantasy_points", "team_week_scores")}
        run_job(engine, "calculate_fantasy_scores", DURING + timedelta(minutes=step, seconds=30), full=True)
        assert {t: snapshot(engine, t) for t in live} == live, f"seed {seed}, tick {step}"
