"""Ingestion jobs against a local ESPN stand-in: rows match the fixtures, re-runs change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from fantasy_jobs.errors import JobSkipped
from fantasy_jobs.schema import Game, IngestLog, JobExecution, Player, PlayerGameStats, Standing, Team
from tests.support import espn_world as w
from tests.support.jobs import count, run_job, snapshot


def teams_by_espn(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(select(Team.espn_id, Team.abbreviation, Team.conference, Team.display_name)).all()
    return {r.espn_id: (r.abbreviation, r.conference, r.display_name) for r in rows}


def lines_by_athlete(engine, game_espn_id: str) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Player.espn_id.label("athlete"), *PlayerGameStats.__table__.c)
            .join(Player, Player.id == PlayerGameStats.player_id)
            .join(Game, Game.id == PlayerGameStats.game_id)
            .where(Game.espn_id == game_espn_id)
        ).all()
    return {row.athlete: row for row in rows}


def test_ingest_teams_keeps_franchises_with_conference(engine, espn):
    result = run_job(engine, "ingest_teams", w.DAILY_NOW)
    assert result.rows_affected == 4 and result.details["skipped"] == [
        "COOP (133384)",
        "SPO (133383)",
        "TBD (-1)",
    ]
    assert teams_by_espn(engine) == {
        "5": ("IND", "East", "Indiana Fever"),
        "8": ("MIN", "West", "Minnesota Lynx"),
        "17": ("LV", "West", "Las Vegas Aces"),
        "9": ("NY", "East", "New York Liberty"),
    }
    before = snapshot(engine, "teams")
    assert run_job(engine, "ingest_teams", w.DAILY_NOW).rows_affected == 0
    assert snapshot(engine, "teams") == before
    with engine.connect() as conn:
        logs = conn.execute(select(IngestLog.endpoint, IngestLog.status, IngestLog.rows_upserted)).all()
    assert ("/apis/site/v2/sports/basketball/wnba/teams", "ok", 4) in logs
    assert ("/apis/v2/sports/basketball/wnba/standings?season=2026", "ok", 4) in logs


def test_abbreviation_change_updates_the_same_team(engine, espn):
    run_job(engine, "ingest_teams", w.DAILY_NOW)
    w.IND.abbreviation = "INF"
    try:
        w.serve_world(espn)
        assert run_job(engine, "ingest_teams", w.DAILY_NOW).rows_affected == 1
    finally:
        w.IND.abbreviation = "IND"
    assert teams_by_espn(engine)["5"][0] == "INF" and count(engine, Team) == 4


def test_ingest_player_stats_marks_final_games_with_their_box_scores(engine, espn):
    result = run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    with engine.connect() as conn:
        games = {g.espn_id: g for g in conn.execute(select(Game)).all()}
    assert set(games) == {"401980001", "401980002", "401980003"}  # no All-Star game
    assert (games["401980001"].status, games["401980001"].home_score, games["401980001"].away_score) == (
        "final",
        30,
        27,
    )
    assert (games["401980002"].status, games["401980002"].home_score, games["401980002"].away_score) == (
        "final",
        35,
        33,
    )
    assert games["401980003"].status == "in_progress"
    assert games["401980001"].start_time == datetime(2026, 7, 19, 23, 30, tzinfo=UTC)

    g1 = lines_by_athlete(engine, "401980001")  # served with its stat keys in reverse order
    avery = g1["1001"]
    assert (avery.pts, avery.fgm, avery.fga, avery.fg3m, avery.fg3a, avery.ftm, avery.fta) == (
        21,
        8,
        15,
        2,
        5,
        3,
        4,
    )
    assert (avery.oreb, avery.dreb, avery.reb, avery.ast, avery.stl, avery.blk, avery.tov, avery.pf) == (
        1,
        6,
        7,
        7,
        2,
        1,
        3,
        2,
    )
    assert (avery.minutes, avery.plus_minus, avery.is_final, avery.did_not_play) == (34, 5, True, False)
    blair = g1["1002"]
    assert blair.did_not_play and blair.pts == 0 and blair.minutes == 0 and blair.is_final
    assert sum(line.pts for line in g1.values()) == 57
    assert sorted(lines_by_athlete(engine, "401980002")) == ["3001", "3002", "4001", "4002"]
    assert lines_by_athlete(engine, "401980003") == {}  # live lines come from live_game_check
    assert count(engine, Player) == 9  # created from the box scores
    assert result.details["box_scores"] == 2

    before = {t: snapshot(engine, t) for t in ("games", "player_game_stats", "players")}
    espn.hits.clear()
    assert run_job(engine, "ingest_player_stats", w.DAILY_NOW).rows_affected == 0
    assert {t: snapshot(engine, t) for t in before} == before
    # finals of the last stat_correction_days (2) are read again for corrections, nothing else
    assert sorted(hit for hit in espn.hits if "summary" in hit) == [
        f"/apis/site/v2/sports/basketball/wnba/summary?event={g}" for g in ("401980001", "401980002")
    ]
    espn.hits.clear()
    later = datetime(2026, 7, 23, 6, 0, tzinfo=UTC)  # both games older than 2 days now
    for day in ("20260722", "20260723"):
        espn.add(
            "/apis/site/v2/sports/basketball/wnba/scoreboard", {"events": []}, {"dates": day, "limit": 200}
        )
    run_job(engine, "ingest_player_stats", later)
    assert not [hit for hit in espn.hits if "summary" in hit]  # finals are not fetched again


def test_earlier_game_still_not_final_is_fetched(engine, espn):
    run_job(engine, "ingest_teams", w.DAILY_NOW)
    with engine.begin() as conn:
        ids = dict(conn.execute(select(Team.espn_id, Team.id)).all())
        conn.execute(
            insert(Game).values(
                espn_id="401980001",
                season=2026,
                start_time=datetime(2026, 7, 10, 23, 0, tzinfo=UTC),
                home_team_id=ids["5"],
                away_team_id=ids["8"],
                status="scheduled",
            )
        )
    later = datetime(2026, 7, 25, 6, 0, tzinfo=UTC)  # Jul 19 is out of the 3-day window now
    for day in ("20260722", "20260723", "20260724", "20260725"):
        espn.add(
            "/apis/site/v2/sports/basketball/wnba/scoreboard", {"events": []}, {"dates": day, "limit": 200}
        )
    run_job(engine, "ingest_player_stats", later)
    with engine.connect() as conn:
        assert conn.execute(
            select(Game.status, Game.home_score).where(Game.espn_id == "401980001")
        ).one() == ("final", 30)
    assert len(lines_by_athlete(engine, "401980001")) == 5


def test_ingest_standings_in_season_and_skipped_outside(engine, espn):
    run_job(engine, "ingest_teams", w.DAILY_NOW)
    assert run_job(engine, "ingest_standings", w.DAILY_NOW).rows_affected == 4
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Team.abbreviation,
                Standing.wins,
                Standing.losses,
                Standing.conference_rank,
                Standing.games_behind,
                Standing.home_record,
                Standing.last_ten,
            )
            .join(Team, Team.id == Standing.team_id)
            .order_by(Team.abbreviation)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("IND", 20, 10, 1, 0.0, "10-5", "6-4"),
        ("LV", 22, 8, 1, 0.0, "11-4", "6-4"),
        ("MIN", 18, 12, 2, 4.0, "9-6", "6-4"),
        ("NY", 15, 15, 2, 5.0, "7-7", "6-4"),
    ]
    assert run_job(engine, "ingest_standings", w.DAILY_NOW).rows_affected == 0
    with pytest.raises(JobSkipped, match="outside the 2026 season"):
        run_job(engine, "ingest_standings", datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    with engine.connect() as conn:
        assert (
            conn.execute(select(JobExecution.status).order_by(JobExecution.id.desc())).first()[0] == "skipped"
        )


def test_update_player_profiles_fills_bios_and_releases_players(engine, espn):
    run_job(engine, "ingest_teams", w.DAILY_NOW)
    with engine.begin() as conn:
        ind = conn.scalar(select(Team.id).where(Team.espn_id == "5"))
        conn.execute(insert(Player).values(espn_id="999", full_name="Gone Player", team_id=ind))
    result = run_job(engine, "update_player_profiles", w.DAILY_NOW)
    assert result.rows_affected == 10  # 9 players written, 1 released
    with engine.connect() as conn:
        players = {p.espn_id: p for p in conn.execute(select(Player)).all()}
        team_of = dict(conn.execute(select(Team.id, Team.espn_id)).all())
    assert players["999"].team_id is None
    assert {p: team_of[players[p].team_id] for p in w.TEAM_OF} == w.TEAM_OF
    avery, blair, carmen = players["1001"], players["1002"], players["1003"]
    assert (avery.position, avery.height_in, avery.weight_lb, avery.college, avery.injury_status) == (
        "G",
        72.0,
        170.0,
        "UConn",
        "Day-To-Day",
    )
    assert str(avery.birth_date) == "1998-05-04" and avery.headshot_url.endswith("/1001.png")
    assert blair.weight_lb is None and blair.headshot_url is None and carmen.jersey is None
    assert players["2002"].birth_date is None and players["2002"].college is None
    before = snapshot(engine, "players")
    assert run_job(engine, "update_player_profiles", w.DAILY_NOW).rows_affected == 0
    assert snapshot(engine, "players") == before


def test_live_game_check_ingests_live_box_scores_not_final(engine, espn):
    during = datetime(2026, 7, 21, 0, 45, tzinfo=UTC)  # 20:45 Eastern on Jul 20
    run_job(engine, "live_game_check", during)
    with engine.connect() as conn:
        assert conn.execute(
            select(Game.status, Game.home_score, Game.away_score).where(Game.espn_id == "401980003")
        ).one() == ("in_progress", 7, 6)
    lines = lines_by_athlete(engine, "401980003")
    assert sorted(lines) == ["2001", "4001"] and not any(line.is_final for line in lines.values())
    assert lines["4001"].pts == 7
    # the daily ingestion later makes them final once ESPN says so
    w.G3.status = "final"
    try:
        w.serve_world(espn)
        run_job(engine, "ingest_player_stats", datetime(2026, 7, 21, 6, 0, tzinfo=UTC))
    finally:
        w.G3.status = "in_progress"
    assert all(line.is_final for line in lines_by_athlete(engine, "401980003").values())


def test_live_game_check_skips_when_nothing_is_live(engine, espn):
    quiet = datetime(2026, 7, 18, 16, 0, tzinfo=UTC)
    with pytest.raises(JobSkipped, match="no game in progress or tipping off within the hour"):
        run_job(engine, "live_game_check", quiet)
    assert count(engine, Game) == 0


def test_dry_runs_write_nothing(engine, espn):
    for job in ("ingest_teams", "ingest_player_stats", "ingest_standings"):
        result = run_job(engine, job, w.DAILY_NOW, dry_run=True)
        assert result.rows_affected > 0 and result.summary.startswith("dry run")
    assert count(engine, Team) == 0 and count(engine, Game) == 0 and count(engine, IngestLog) == 0
