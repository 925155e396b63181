"""Ingestion converges on ESPN's truth: bad games never block good ones and are retried until
stored (or given up), stat corrections reach the points, ingest_logs tell the truth, suspicious
rosters change no player. Real captures from ../shared/espn where the scenario needs them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from fantasy_jobs import cli, scoring
from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.client import EspnError, EspnPayloadError
from fantasy_jobs.espn.sample import roster_payload
from fantasy_jobs.jobs.ingest import scoreboard_dates
from fantasy_jobs.schema import (
    FantasyPoints,
    FantasyTeam,
    Game,
    IngestLog,
    League,
    Player,
    PlayerGameStats,
    RosterSlot,
    StatCorrection,
    Team,
    TeamWeekScore,
)
from tests.conftest import REPO
from tests.support import espn_world as w
from tests.support.espn_stub import EspnStub, Reply
from tests.support.jobs import count, run_job

CAPTURES = REPO.parent / "shared" / "espn" / "summaries"
G1_SUMMARY = {"event": w.G1.id}


def serve_empty_boards(stub, now: datetime, days: int) -> None:
    """Empty scoreboards for the US-Eastern dates a run at `now` reads (unless served already)."""
    for day in scoreboard_dates(now, days):
        key = {"dates": f"{day:%Y%m%d}", "limit": 200}
        if f"{api.SCOREBOARD}?dates={key['dates']}&limit=200" not in stub.routes:
            stub.add(api.SCOREBOARD, {"events": []}, key)


def game_state(engine, espn_id: str) -> tuple:
    with engine.connect() as conn:
        game = conn.execute(
            select(Game.id, Game.status, Game.box_score_status, Game.home_score, Game.away_score).where(
                Game.espn_id == espn_id
            )
        ).one()
    lines = count(engine, PlayerGameStats, PlayerGameStats.game_id == game.id)
    return game.status, game.box_score_status, game.home_score, game.away_score, lines


def logs(engine, endpoint_part: str) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(IngestLog.status, IngestLog.rows_upserted, IngestLog.error)
                .where(IngestLog.endpoint.contains(endpoint_part))
                .order_by(IngestLog.id)
            )
        ]


# --- the scenario of the issue, with the real captures ----------------------------------------


def captured(event: str) -> dict:
    return json.loads((CAPTURES / f"{event}.json").read_text())


def as_board(summary: dict) -> dict:
    """A scoreboard holding the summary's own game (ESPN's scoreboard event has the same competition)."""
    header = summary["header"]
    competition = header["competitions"][0]
    return {
        "events": [
            {
                "id": header["id"],
                "date": competition["date"],
                "season": header["season"],
                "competitions": [competition],
            }
        ]
    }


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="../shared/espn captures are not here")
def test_invalid_summary_holds_back_only_its_game_until_fixed(engine, monkeypatch):
    monkeypatch.setenv("FANTASY_ESPN_MIN_INTERVAL", "0")
    monkeypatch.setenv("FANTASY_ESPN_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("FANTASY_INGEST_DAYS_BACK", "7")
    stub = EspnStub().start()
    monkeypatch.setenv("AIRFLOW_CONN_WNBA_API", stub.url)
    try:
        good, fixed = captured("401857086"), captured("401857093")
        broken = copy.deepcopy(fixed)
        played = next(a for a in broken["boxscore"]["players"][0]["statistics"][0]["athletes"] if a["stats"])
        played["stats"][1] = "abc"
        stub.add(api.SCOREBOARD, as_board(good), {"dates": "20260722", "limit": 200})
        stub.add(api.SCOREBOARD, as_board(fixed), {"dates": "20260728", "limit": 200})
        stub.add(api.SUMMARY, good, {"event": "401857086"})
        stub.add(api.SUMMARY, broken, {"event": "401857093"})
        now = datetime(2026, 7, 29, 6, 0, tzinfo=UTC)
        serve_empty_boards(stub, now, 7)
        with pytest.raises(EspnPayloadError, match=r"\[game 401857093\] .*stats\[1\].*'abc'"):
            run_job(engine, "ingest_player_stats", now)
        lines_086 = sum(len(t["statistics"][0]["athletes"]) for t in good["boxscore"]["players"])
        lines_093 = sum(len(t["statistics"][0]["athletes"]) for t in fixed["boxscore"]["players"])
        assert game_state(engine, "401857086") == ("final", "stored", 82, 86, lines_086)
        assert game_state(engine, "401857093") == ("in_progress", "pending", 100, 93, 0)
        [(status, rows, error)] = logs(engine, "event=401857093")
        assert status == "invalid" and rows == 0 and "'abc'" in error and "stats[1]" in error
        assert logs(engine, "event=401857086")[0][:2] == ("ok", lines_086 + 1)  # lines + the game

        # ESPN fixes the payload; weeks later, far outside the 7-day window, the game is still owed
        stub.add(api.SUMMARY, fixed, {"event": "401857093"})
        later = datetime(2026, 8, 20, 6, 0, tzinfo=UTC)
        serve_empty_boards(stub, later, 7)
        stub.hits.clear()
        run_job(engine, "ingest_player_stats", later)
        assert game_state(engine, "401857093") == ("final", "stored", 100, 93, lines_093)
        assert game_state(engine, "401857086") == ("final", "stored", 82, 86, lines_086)
        assert [h for h in stub.hits if "summary" in h] == [f"{api.SUMMARY}?event=401857093"]
        with engine.connect() as conn:
            totals = sorted(
                conn.execute(
                    select(func.sum(PlayerGameStats.pts)).group_by(PlayerGameStats.team_id)
                ).scalars()
            )
        assert totals == [82, 86, 93, 100] and count(engine, StatCorrection) == 0
    finally:
        stub.stop()


# --- stat corrections reach the points ---------------------------------------------------------


def conn_scalar(engine, statement):
    with engine.connect() as conn:
        return conn.scalar(statement)


def add_league_starting(engine, player_espn_id: str) -> int:
    """An active 2026 league whose one team starts the player all season; returns the team id."""
    with engine.begin() as conn:
        league = conn.execute(
            insert(League).values(name="L", season=2026, status="active", scoring_settings={})
        ).inserted_primary_key[0]
        team = conn.execute(insert(FantasyTeam).values(league_id=league, name="T1")).inserted_primary_key[0]
        player = conn.scalar(select(Player.id).where(Player.espn_id == player_espn_id))
        conn.execute(
            insert(RosterSlot).values(
                fantasy_team_id=team, player_id=player, slot="G", acquired_at=datetime(2026, 5, 1, tzinfo=UTC)
            )
        )
    return team


def test_correction_after_final_changes_the_line_and_the_points(engine, espn):
    run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    team = add_league_starting(engine, "1001")
    avery_id = conn_scalar(engine, select(Player.id).where(Player.espn_id == "1001"))
    run_job(engine, "calculate_fantasy_scores", w.DAILY_NOW)
    with engine.connect() as conn:
        points_before = conn.scalar(select(FantasyPoints.points).where(FantasyPoints.player_id == avery_id))
        week_before = conn.scalar(select(TeamWeekScore.points).where(TeamWeekScore.fantasy_team_id == team))

    corrected = copy.deepcopy(w.G1)
    corrected.home_lines[0].stats |= {"ast": 9, "stl": 3}  # Avery Adams: 7 -> 9 assists, 2 -> 3 steals
    espn.add(api.SUMMARY, corrected.summary(w.SHUFFLED_KEYS), G1_SUMMARY)
    next_day = w.DAILY_NOW + timedelta(hours=12)  # G1 tipped off 42.5 h before: inside the 2 days
    serve_empty_boards(espn, next_day, 3)
    result = run_job(engine, "ingest_player_stats", next_day)
    assert result.details["stat_corrections"] == 2
    with engine.connect() as conn:
        avery = conn.execute(
            select(PlayerGameStats.ast, PlayerGameStats.stl, PlayerGameStats.is_final)
            .join(Player, Player.id == PlayerGameStats.player_id)
            .where(Player.espn_id == "1001")
        ).one()
        changes = conn.execute(
            select(
                Game.espn_id,
                Player.espn_id,
                StatCorrection.stat,
                StatCorrection.old_value,
                StatCorrection.new_value,
            )
            .join(Game, Game.id == StatCorrection.game_id)
            .join(Player, Player.id == StatCorrection.player_id)
            .order_by(StatCorrection.stat)
        ).all()
    assert tuple(avery) == (9, 3, True)
    assert [tuple(c) for c in changes] == [
        ("401980001", "1001", "ast", 7, 9),
        ("401980001", "1001", "stl", 2, 3),
    ]

    rescored = run_job(engine, "calculate_fantasy_scores", next_day)
    weights = scoring.league_weights({})
    delta = 2 * weights["ast"] + 1 * weights["stl"]
    with engine.connect() as conn:
        assert conn.scalar(
            select(FantasyPoints.points).where(FantasyPoints.player_id == avery_id)
        ) == pytest.approx(points_before + delta)
        week_after = conn.scalar(select(TeamWeekScore.points).where(TeamWeekScore.fantasy_team_id == team))
    assert week_after == pytest.approx(week_before + delta) and delta > 0
    assert rescored.rows_affected == 2  # one points row, one team week: only what changed
    # the same box score again: no new correction, nothing written
    assert run_job(engine, "ingest_player_stats", next_day).rows_affected == 0
    assert count(engine, StatCorrection) == 2


# --- ingest_logs: one row per call, ok / invalid / error, rows once committed -------------------


def test_ingest_logs_tell_ok_invalid_and_error(engine, espn):
    summary = w.G1.summary()
    summary["boxscore"]["players"][1]["statistics"][0]["athletes"][0]["stats"][0] = "abc"
    espn.add(api.SUMMARY, summary, G1_SUMMARY)
    espn.script(api.SUMMARY, [Reply(503, b"down")], {"event": w.G2.id})
    with pytest.raises(EspnError) as info:
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert not isinstance(info.value, EspnPayloadError)  # a transport error among them: retryable
    assert "[game 401980001]" in str(info.value) and "[game 401980002]" in str(info.value)
    [(status, rows, error)] = logs(engine, f"event={w.G1.id}")
    assert (status, rows) == ("invalid", 0) and "stats[0] (minutes) = 'abc'" in error
    [(status, rows, error)] = logs(engine, f"event={w.G2.id}")
    assert (status, rows) == ("error", 0) and "HTTP 503" in error
    boards = logs(engine, "scoreboard")
    assert [(s, r) for s, r, _ in boards] == [("ok", 0), ("ok", 1), ("ok", 3), ("ok", 0)]  # 07-18..21
    assert count(engine, IngestLog) == 6  # one row per endpoint call
    assert count(engine, PlayerGameStats) == 0 and count(engine, Game) == 3


def test_truncated_body_is_retried_then_recovers(engine, espn):
    body = espn.routes[f"{api.SUMMARY}?event={w.G2.id}"][0].payload()
    espn.script(api.SUMMARY, [Reply(200, body[: len(body) // 2]), Reply(200, body)], {"event": w.G2.id})
    run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert espn.hits.count(f"{api.SUMMARY}?event={w.G2.id}") == 2
    assert game_state(engine, w.G2.id) == ("final", "stored", 35, 33, 4)
    assert logs(engine, f"event={w.G2.id}") == [("ok", 5, None)]  # one call, retried inside


# --- a game ESPN has no usable box score for -----------------------------------------------------


def test_all_dash_box_score_does_not_block_and_is_given_up(engine, espn, slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    monkeypatch.setenv("FANTASY_BOX_SCORE_GIVE_UP_DAYS", "2")
    summary = w.G1.summary()
    for team in summary["boxscore"]["players"]:
        for athlete in team["statistics"][0]["athletes"]:
            athlete["stats"] = ["--"] * len(athlete["stats"])
    espn.add(api.SUMMARY, summary, G1_SUMMARY)
    for day in range(4):
        serve_empty_boards(espn, w.DAILY_NOW + timedelta(days=day), 3)

    for day in (0, 1):
        with pytest.raises(EspnPayloadError, match=r"\[game 401980001\] .*adds up to 0 points"):
            run_job(engine, "ingest_player_stats", w.DAILY_NOW + timedelta(days=day))
        assert game_state(engine, w.G2.id) == ("final", "stored", 35, 33, 4)  # not blocked
        assert game_state(engine, w.G1.id) == ("in_progress", "pending", 30, 27, 0)
    assert not slack.requests
    espn.hits.clear()  # live_game_check leaves a game ESPN calls final to ingest_player_stats
    run_job(engine, "live_game_check", w.DAILY_NOW)
    assert f"{api.SUMMARY}?event={w.G1.id}" not in espn.hits and f"{api.SUMMARY}?event={w.G3.id}" in espn.hits

    result = run_job(engine, "ingest_player_stats", w.DAILY_NOW + timedelta(days=2))  # given up: no failure
    assert game_state(engine, w.G1.id) == ("final", "no_box_score", 30, 27, 0)
    with engine.connect() as conn:
        assert conn.execute(select(Game.box_score_attempts).where(Game.espn_id == w.G1.id)).scalar() == 3
    [message] = slack.requests
    assert "401980001" in message.json()["text"] and "no_box_score" in message.json()["text"]
    espn.hits.clear()
    run_job(engine, "ingest_player_stats", w.DAILY_NOW + timedelta(days=3))
    assert f"{api.SUMMARY}?event={w.G1.id}" not in espn.hits and len(slack.requests) == 1
    assert result.details["given_up"] == [w.G1.id]


# --- rosters -----------------------------------------------------------------------------------


def test_wrong_team_and_empty_rosters_change_no_player(engine, espn):
    run_job(engine, "ingest_teams", w.DAILY_NOW)
    run_job(engine, "update_player_profiles", w.DAILY_NOW)

    def players_of(*teams: str) -> list[tuple]:
        with engine.connect() as conn:
            return conn.execute(
                select(Player.espn_id, Player.team_id, Player.status, Player.injury_status)
                .join(Team, Team.id == Player.team_id)
                .where(Team.espn_id.in_(teams))
                .order_by(Player.espn_id)
            ).all()

    min_and_lv = players_of("8", "17")
    assert len(min_and_lv) == 4
    teams = {t.id: t for t in w.FRANCHISES}
    espn.add(api.ROSTER.format(team_id="8"), roster_payload(w.NY, w.ROSTERS["9"]))  # NY's roster at MIN's URL
    espn.add(api.ROSTER.format(team_id="17"), roster_payload(teams["17"], []))  # LV, empty
    espn.add(api.ROSTER.format(team_id="5"), roster_payload(w.IND, w.ROSTERS["5"][1:]))  # Avery released
    with pytest.raises(EspnPayloadError) as info:
        run_job(engine, "update_player_profiles", w.DAILY_NOW)
    message = str(info.value)
    assert "MIN (8)" in message and "roster of team NY (9)" in message
    assert "empty roster for LV (17), which has 2 players" in message
    assert players_of("8", "17") == min_and_lv  # no player of a refused team changed
    with engine.connect() as conn:
        avery = conn.execute(
            select(Player.team_id, Player.status, Player.injury_status).where(Player.espn_id == "1001")
        ).one()
    assert tuple(avery) == (None, "free_agent", None)  # was active, Day-To-Day
    assert [(s, r) for s, r, _ in logs(engine, "/roster")[-4:]] == [
        ("ok", 2),
        ("invalid", 0),
        ("invalid", 0),
        ("ok", 2),
    ]


# --- the command line: bad ESPN data is a failed job (1), not bad input (2) --------------------


def test_cli_exit_codes(espn, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FANTASY_DB", f"sqlite:///{tmp_path / 'app.db'}")
    assert cli.main(["init-db"]) == 0
    summary = w.G1.summary()
    summary["boxscore"]["players"][1]["statistics"][0]["athletes"][0]["stats"][0] = "abc"
    espn.add(api.SUMMARY, summary, G1_SUMMARY)
    assert cli.main(["run", "ingest_player_stats", "--at", "2026-07-21T02:00"]) == 1
    assert cli.main(["run", "no_such_job"]) == 2
