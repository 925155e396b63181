"""Live fantasy points: live_game_check scores the live box scores it stores (is_final false) and
the team week totals they change; the nightly chain makes them final with the same values.

A small committed world (tests/support/espn_world.py, game G3 live: NY 7-6) runs on both databases;
a real capture from ../shared/espn, replayed as in progress, is skipped when the folder is absent.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, text

from fantasy_jobs import scoring
from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.models import SummaryPayload, parse
from fantasy_jobs.espn.sample import STATUS, scoreboard_payload
from fantasy_jobs.schema import (
    FantasyPoints,
    FantasyTeam,
    Game,
    IngestLog,
    League,
    Player,
    PlayerGameStats,
    RosterSlot,
    ScoringProfile,
    StatCorrection,
    Team,
    TeamWeekScore,
)
from fantasy_jobs.timeutil import fantasy_week
from tests.conftest import REPO
from tests.support import espn_world as w
from tests.support.jobs import count, run_job, snapshot

EASTERN = ZoneInfo("America/New_York")
CAPTURES = REPO.parent / "shared" / "espn"
DURING = datetime(2026, 7, 21, 0, 45, tzinfo=UTC)  # 20:45 Eastern on Jul 20: G3 is live
CUSTOM = {"weights": {"fg3m": 3, "tov": -1, "fga": -0.5}}


def profile_label(settings: dict) -> str:
    return scoring.weights_hash(scoring.league_weights(settings))


LABELS = {profile_label({}): "default", profile_label(CUSTOM): "custom"}


def add_players(engine, names: dict[str, str]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Player), [{"espn_id": i, "full_name": n} for i, n in names.items()])


def add_league(engine, name: str, settings: dict, teams: dict[str, list[tuple[str, str]]], since) -> None:
    """An active 2026 league whose teams hold (player espn id, slot) since `since`."""
    with engine.begin() as conn:
        league = conn.execute(
            insert(League)
            .values(name=name, season=2026, status="active", scoring_settings=settings)
            .returning(League.id)
        ).scalar_one()
        for team, slots in teams.items():
            team_id = conn.execute(
                insert(FantasyTeam).values(league_id=league, name=team).returning(FantasyTeam.id)
            ).scalar_one()
            for espn_id, slot in slots:
                player = conn.scalar(select(Player.id).where(Player.espn_id == espn_id))
                conn.execute(
                    insert(RosterSlot).values(
                        fantasy_team_id=team_id, player_id=player, slot=slot, acquired_at=since
                    )
                )


def points_of(engine, game_espn_id: str) -> dict[tuple[str, str], tuple[float, bool, int]]:
    """(profile, player espn id) -> (points, is_final, week) of one game."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                ScoringProfile.weights_hash,
                Player.espn_id,
                FantasyPoints.points,
                FantasyPoints.is_final,
                FantasyPoints.week,
            )
            .join(ScoringProfile, ScoringProfile.id == FantasyPoints.profile_id)
            .join(Player, Player.id == FantasyPoints.player_id)
            .join(Game, Game.id == FantasyPoints.game_id)
            .where(Game.espn_id == game_espn_id)
        ).all()
    return {(LABELS.get(r[0], r[0]), r[1]): (round(r[2], 2), bool(r[3]), r[4]) for r in rows}


def recomputed(engine, game_espn_id: str, settings_by_label: dict[str, dict]) -> dict[tuple[str, str], float]:
    """The same points from the stored lines through scoring.points (Python), for every profile."""
    columns = [PlayerGameStats.__table__.c[c] for c in (*scoring.SCORABLE_STATS, "did_not_play")]
    with engine.connect() as conn:
        lines = (
            conn.execute(
                select(Player.espn_id, *columns)
                .join(Player, Player.id == PlayerGameStats.player_id)
                .join(Game, Game.id == PlayerGameStats.game_id)
                .where(Game.espn_id == game_espn_id)
            )
            .mappings()
            .all()
        )
    return {
        (label, line["espn_id"]): scoring.points(line, scoring.league_weights(settings))
        for label, settings in settings_by_label.items()
        for line in lines
    }


def team_weeks(engine) -> dict[tuple[str, int], float]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(FantasyTeam.name, TeamWeekScore.week, TeamWeekScore.points).join(
                FantasyTeam, FantasyTeam.id == TeamWeekScore.fantasy_team_id
            )
        ).all()
    return {(r[0], r[1]): round(r[2], 2) for r in rows}


# --- the committed world: G3 (MIN @ NY) live, on both databases ------------------------------------

# G3 later in the game: Hana Hill 12 points (2 threes, 1 steal), Dana Diaz unchanged at 6.
G3_LATER = dataclasses.replace(
    w.G3,
    home_lines=[w.line("4001", "Hana Hill", fgm=5, fga=9, fg3m=2, fg3a=3, stl=1, minutes=20)],
)
ROSTERED_SINCE = datetime(2026, 7, 20, 23, 30, tzinfo=UTC)  # after G2's tip-off, before G3's


def world_leagues(engine) -> None:
    add_players(engine, {"4001": "Hana Hill", "2001": "Dana Diaz"})
    add_league(
        engine,
        "Live",
        {},
        {"L1": [("4001", "G"), ("2001", "BENCH")], "L2": [("2001", "UTIL")]},
        ROSTERED_SINCE,
    )
    add_league(engine, "Custom", CUSTOM, {"C1": [("4001", "F")], "C2": [("2001", "IR")]}, ROSTERED_SINCE)


def test_live_points_and_totals_then_final(engine, espn):
    world_leagues(engine)
    week = 202630  # Monday Jul 20, New York

    dry = run_job(engine, "live_game_check", DURING, dry_run=True)
    assert dry.summary.startswith("dry run")
    assert count(engine, FantasyPoints) == count(engine, TeamWeekScore) == count(engine, PlayerGameStats) == 0

    result = run_job(engine, "live_game_check", DURING)
    # Hana: 7 pts + 1 three (default 8; custom 7 + 3 - 0.5 x 7 FGA = 6.5); Dana: 6 pts, 4 FGA (custom 4)
    live = {
        ("default", "4001"): (8.0, False, week),
        ("default", "2001"): (6.0, False, week),
        ("custom", "4001"): (6.5, False, week),
        ("custom", "2001"): (4.0, False, week),
    }
    assert points_of(engine, w.G3.id) == live
    assert team_weeks(engine) == {("L1", week): 8.0, ("L2", week): 6.0, ("C1", week): 6.5}
    assert (result.details["fantasy_points_rows"], result.details["team_week_rows"]) == (4, 3)
    assert result.details["games"] == [w.G3.id] and result.details["box_score_rows"] > 0
    assert "4 fantasy_points rows and 3 team weeks written" in result.summary

    before = {t: snapshot(engine, t) for t in ("fantasy_points", "team_week_scores")}
    again = run_job(engine, "live_game_check", DURING)  # same box score: nothing rewritten
    assert (again.details["fantasy_points_rows"], again.details["team_week_rows"]) == (0, 0)
    assert {t: snapshot(engine, t) for t in before} == before

    espn.add(api.SUMMARY, G3_LATER.summary(), {"event": w.G3.id})
    later = run_job(engine, "live_game_check", DURING + timedelta(minutes=40))
    # Hana: 12 + 2 threes + 2 x 1 steal = 16; custom 12 + 6 + 2 - 4.5 = 15.5
    assert team_weeks(engine) == {("L1", week): 16.0, ("L2", week): 6.0, ("C1", week): 15.5}
    assert (later.details["fantasy_points_rows"], later.details["team_week_rows"]) == (2, 2)
    live_later = points_of(engine, w.G3.id)

    # ESPN calls it final; the nightly chain stores the final lines and makes the points final
    final_g3 = dataclasses.replace(G3_LATER, status="final")
    espn.add(api.SUMMARY, final_g3.summary(), {"event": w.G3.id})
    espn.add(
        api.SCOREBOARD,
        scoreboard_payload([w.G2, final_g3, w.ALL_STAR], "20260720"),
        {"dates": "20260720", "limit": 200},
    )
    run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    run_job(engine, "calculate_fantasy_scores", w.DAILY_NOW)
    final = points_of(engine, w.G3.id)
    assert final == {key: (points, True, wk) for key, (points, _, wk) in live_later.items()}
    assert team_weeks(engine) == {("L1", week): 16.0, ("L2", week): 6.0, ("C1", week): 15.5}


def test_a_line_the_next_tick_lacks_loses_its_points_and_totals(engine, espn):
    """ESPN credited Dana Diaz's live line by mistake and drops it: the tick deletes the line and its
    points, records the removal, and L2's week (she is its one starter) goes in the same tick."""
    world_leagues(engine)
    week = 202630
    run_job(engine, "live_game_check", DURING)
    assert team_weeks(engine)[("L2", week)] == 6.0
    without_dana = dataclasses.replace(w.G3, away_lines=[])
    espn.add(api.SUMMARY, without_dana.summary(), {"event": w.G3.id})
    tick = run_job(engine, "live_game_check", DURING + timedelta(minutes=5))
    assert set(points_of(engine, w.G3.id)) == {("default", "4001"), ("custom", "4001")}
    assert team_weeks(engine) == {("L1", week): 8.0, ("C1", week): 6.5}  # L2's week: no points left
    assert tick.details["team_week_rows"] == 1
    with engine.connect() as conn:
        removed = conn.execute(
            select(Player.espn_id, StatCorrection.stat, StatCorrection.old_value)
            .join(Player, Player.id == StatCorrection.player_id)
            .where(StatCorrection.kind == "removed", StatCorrection.stat == "pts")
        ).all()
    assert [tuple(r) for r in removed] == [("2001", "pts", 6)]
    run_job(engine, "calculate_fantasy_scores", DURING + timedelta(minutes=6))  # the nightly agrees
    assert team_weeks(engine) == {("L1", week): 8.0, ("C1", week): 6.5}


def test_a_scoring_failure_keeps_the_live_box_score(engine, espn):
    world_leagues(engine)
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
                    "CREATE TRIGGER refuse BEFORE INSERT ON team_week_scores "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON team_week_scores "
                    "BEGIN SELECT RAISE(ABORT, 'team week totals refused'); END"
                )
            )
    with pytest.raises(RuntimeError, match=r"live box scores of 1 games.*box scores are kept.*refused"):
        run_job(engine, "live_game_check", DURING)
    with engine.connect() as conn:
        lines = conn.execute(select(PlayerGameStats.pts, PlayerGameStats.is_final)).all()
        logged = conn.execute(
            select(IngestLog.rows_upserted).where(IngestLog.endpoint.like(f"%event={w.G3.id}%"))
        ).all()
    assert sorted(lines) == [(6, False), (7, False)] and logged == [(3,)]  # the game and its 2 lines
    assert count(engine, FantasyPoints) == 0  # the scoring transaction is rolled back whole

    with engine.begin() as conn:
        conn.execute(
            text(
                "DROP TRIGGER refuse" + (" ON team_week_scores" if conn.dialect.name == "postgresql" else "")
            )
        )
    result = run_job(engine, "live_game_check", DURING)
    assert (result.details["fantasy_points_rows"], result.details["team_week_rows"]) == (4, 3)


# --- a real capture replayed as in progress --------------------------------------------------------


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="../shared/espn captures are not here")
def test_captured_game_live_points_equal_the_final_points(engine, espn, monkeypatch):
    """401857093 (TOR 93 @ MIN 100, 7 did-not-play lines) served in progress, then final."""
    monkeypatch.setenv("FANTASY_BOX_SCORE_OWED_HOURS", "4")  # the default: no world game is in this database
    final_payload = json.loads((CAPTURES / "summaries" / "401857093.json").read_text())
    live_payload = copy.deepcopy(final_payload)
    competition = live_payload["header"]["competitions"][0]
    competition["status"]["type"] = dict(STATUS["in_progress"])
    summary = parse(SummaryPayload, final_payload, "401857093.json")
    game, lines = summary.game(), summary.stat_lines()
    tip_off = game.start_time
    during = tip_off + timedelta(hours=1, minutes=30)
    # the scoreboards around it are served empty: the game is live because the database says so, and
    # the daily run days later reads it as a game still not final from before its window
    for day in range(-1, 7):
        espn.add(
            api.SCOREBOARD,
            {"events": []},
            {"dates": f"{tip_off.astimezone(EASTERN).date() + timedelta(days=day):%Y%m%d}", "limit": 200},
        )
    espn.add(api.SUMMARY, live_payload, {"event": game.espn_id})
    with engine.begin() as conn:
        conn.execute(
            insert(Team),
            [
                {"espn_id": t.id, "abbreviation": t.abbreviation, "display_name": t.abbreviation}
                for t in (game.home, game.away)
            ],
        )
        teams = dict(conn.execute(select(Team.espn_id, Team.id)).all())
        conn.execute(
            insert(Game).values(
                espn_id=game.espn_id,
                season=game.season,
                start_time=tip_off,
                home_team_id=teams[game.home.id],
                away_team_id=teams[game.away.id],
                status="in_progress",
            )
        )
    home = [line["athlete"] for line in lines if line["team"].id == game.home.id]
    away = [line["athlete"] for line in lines if line["team"].id == game.away.id]
    dnp = next(line["athlete"] for line in lines if line["did_not_play"])
    add_players(
        engine, {a.id: a.displayName for a in {a.id: a for a in [*home[:3], *away[:3], dnp]}.values()}
    )
    since = tip_off - timedelta(days=3)
    add_league(
        engine,
        "Default",
        {},
        {
            "Home": [(home[0].id, "G"), (home[1].id, "F"), (home[2].id, "BENCH")],
            "Away": [(away[0].id, "C"), (away[1].id, "UTIL"), (dnp.id, "G")],
        },
        since,
    )
    add_league(
        engine, "Custom", CUSTOM, {"Mixed": [(home[2].id, "G"), (away[2].id, "F"), (dnp.id, "C")]}, since
    )

    result = run_job(engine, "live_game_check", during)
    live = points_of(engine, game.espn_id)
    live_totals = team_weeks(engine)
    assert len(live) == 2 * len(lines) and not any(is_final for _, is_final, _ in live.values())
    assert {key: p for key, (p, _, _) in live.items()} == recomputed(
        engine, game.espn_id, {"default": {}, "custom": CUSTOM}
    )
    assert result.details["fantasy_points_rows"] == 2 * len(lines) and result.details["team_week_rows"] == 3
    week = fantasy_week(tip_off)
    assert set(live_totals) == {("Home", week), ("Away", week), ("Mixed", week)}
    assert all(points > 0 for points in live_totals.values())

    espn.add(api.SUMMARY, final_payload, {"event": game.espn_id})
    daily = during + timedelta(days=5)
    assert run_job(engine, "ingest_player_stats", daily).summary.startswith("1 games final")
    run_job(engine, "calculate_fantasy_scores", daily)
    final = points_of(engine, game.espn_id)
    assert final == {key: (points, True, wk) for key, (points, _, wk) in live.items()}
    assert team_weeks(engine) == live_totals
