"""Exact under any payload ESPN serves: each case ends with the database equal to ESPN's last word.

Duplicate lines, a line credited to another player, another game's summary, home and away swapped,
a summary stuck in progress, a game the scoreboard omits, a database error on one game: each is
one game's failure (counted toward giving up, logged on its call), never a stop for the others,
and the stored lines are counted against the payload. Both databases (the `engine` fixture).
"""

from __future__ import annotations

import copy
import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from fantasy_jobs.db import make_engine
from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.client import EspnError, EspnPayloadError
from fantasy_jobs.schema import (
    FantasyPoints,
    Game,
    IngestLog,
    Player,
    PlayerGameStats,
    StatCorrection,
    Team,
    TeamWeekScore,
)
from tests.conftest import REPO, VENV_BIN, airflow_env
from tests.jobs.test_ingest_convergence import add_league_starting, as_board, captured, serve_empty_boards
from tests.support import espn_world as w
from tests.support.espn_stub import Reply
from tests.support.jobs import count, run_job

CAPTURES = REPO.parent / "shared" / "espn" / "summaries"
needs_captures = pytest.mark.skipif(not CAPTURES.is_dir(), reason="../shared/espn captures are not here")


# --- helpers: what ESPN said, what the database holds ------------------------------------------


def payload_lines(summary: dict) -> dict[str, tuple[str, int]]:
    """athlete id -> (team id, points) of a summary's box score, read straight from the JSON."""
    lines = {}
    for team in summary["boxscore"]["players"]:
        block = team["statistics"][0]
        index = block["keys"].index("points")
        for athlete in block["athletes"]:
            points = int(athlete["stats"][index]) if athlete["stats"] else 0
            lines[athlete["athlete"]["id"]] = (team["team"]["id"], points)
    return lines


def stored_lines(engine, espn_id: str) -> dict[str, tuple[str, int]]:
    """athlete id -> (team id, points) of the game's stored lines."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Player.espn_id, Team.espn_id, PlayerGameStats.pts)
            .join(Player, Player.id == PlayerGameStats.player_id)
            .join(Team, Team.id == PlayerGameStats.team_id)
            .join(Game, Game.id == PlayerGameStats.game_id)
            .where(Game.espn_id == espn_id)
        ).all()
    return {athlete: (team, pts) for athlete, team, pts in rows}


def game_row(engine, espn_id: str):
    home = Team.__table__.alias("home")
    with engine.connect() as conn:
        return conn.execute(
            select(
                Game.status,
                Game.box_score_status,
                Game.box_score_attempts,
                home.c.espn_id.label("home"),
                Game.home_score,
                Game.away_score,
            )
            .join(home, home.c.id == Game.home_team_id)
            .where(Game.espn_id == espn_id)
        ).one()


def call_logs(engine, espn_id: str) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(IngestLog.status, IngestLog.rows_upserted, IngestLog.error)
                .where(IngestLog.endpoint.like(f"%event={espn_id}"))
                .order_by(IngestLog.id)
            )
        ]


def duplicate_line(summary: dict, *, identical: bool) -> tuple[str, str]:
    """List the home team's last athlete (a bench line) twice: the same line again, or with the stats
    of another line; returns (athlete id, name)."""
    athletes = summary["boxscore"]["players"][1]["statistics"][0]["athletes"]
    repeated = copy.deepcopy(athletes[-1] if identical else athletes[0])
    repeated["athlete"] = copy.deepcopy(athletes[-1]["athlete"])
    athletes.append(repeated)
    return repeated["athlete"]["id"], repeated["athlete"]["displayName"]


# --- 1. duplicate lines, with a valid game behind them (real captures) ---------------------------


@needs_captures
@pytest.mark.parametrize("identical", [True, False], ids=["identical", "differing"])
def test_duplicate_line_is_refused_and_the_next_game_is_stored(engine, espn, identical, monkeypatch):
    monkeypatch.setenv("FANTASY_INGEST_DAYS_BACK", "7")
    monkeypatch.setenv("FANTASY_BOX_SCORE_GIVE_UP_DAYS", "30")
    duplicated, good = captured("401857093"), captured("401857086")
    athlete, name = duplicate_line(duplicated, identical=identical)
    both = as_board(duplicated)
    both["events"] += as_board(good)["events"]  # the duplicated game first, the valid one behind it
    espn.add(api.SCOREBOARD, both, {"dates": "20260728", "limit": 200})
    espn.add(api.SUMMARY, duplicated, {"event": "401857093"})
    espn.add(api.SUMMARY, good, {"event": "401857086"})
    now = datetime(2026, 7, 29, 6, 0, tzinfo=UTC)
    serve_empty_boards(espn, now, 7)

    for attempt in (1, 2):  # every run the same: refused, counted, the other game unharmed
        with pytest.raises(
            EspnPayloadError, match=rf"\[game 401857093\] .*athlete\.id = '{athlete}'.*already listed"
        ):
            run_job(engine, "ingest_player_stats", now + timedelta(hours=attempt - 1))
        assert stored_lines(engine, "401857086") == payload_lines(good)  # every line, nothing more
        assert tuple(game_row(engine, "401857086"))[:2] == ("final", "stored")
        assert stored_lines(engine, "401857093") == {}  # nothing of the refused payload was written
        assert tuple(game_row(engine, "401857093"))[:3] == ("in_progress", "pending", attempt)
        status, rows, error = call_logs(engine, "401857093")[-1]
        assert (status, rows) == ("invalid", 0) and name in error and "athletes[" in error

    espn.add(api.SUMMARY, captured("401857093"), {"event": "401857093"})  # ESPN drops the duplicate
    run_job(engine, "ingest_player_stats", now + timedelta(hours=2))
    assert stored_lines(engine, "401857093") == payload_lines(captured("401857093"))
    assert tuple(game_row(engine, "401857093"))[:2] == ("final", "stored")


# --- 2. a box score replaces the game's lines ------------------------------------------------


def test_line_credited_to_another_player_replaces_the_old_line(engine, espn):
    run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    carmen_team = add_league_starting(engine, "1003")  # Carmen Cruz: 9 points in G1
    blair_team = add_league_starting(engine, "1002")  # Blair Brooks: did not play
    run_job(engine, "calculate_fantasy_scores", w.DAILY_NOW)
    with engine.connect() as conn:
        carmen_week = conn.scalar(
            select(TeamWeekScore.points).where(TeamWeekScore.fantasy_team_id == carmen_team)
        )
    assert carmen_week > 0

    corrected = copy.deepcopy(w.G1)  # ESPN: Carmen's line was Blair's
    carmen = corrected.home_lines.pop(2)
    corrected.home_lines[1] = w.SampleLine("1002", "Blair Brooks", stats=carmen.stats)
    summary = corrected.summary()
    espn.add(api.SUMMARY, summary, {"event": w.G1.id})
    next_day = w.DAILY_NOW + timedelta(hours=12)  # inside stat_correction_days
    serve_empty_boards(espn, next_day, 3)
    result = run_job(engine, "ingest_player_stats", next_day)

    assert stored_lines(engine, w.G1.id) == payload_lines(summary)  # Carmen's line is gone
    assert result.details["lines_removed"] == 1
    with engine.connect() as conn:
        carmen_id = conn.scalar(select(Player.id).where(Player.espn_id == "1003"))
        removed = conn.execute(
            select(StatCorrection.stat, StatCorrection.old_value, StatCorrection.new_value).where(
                StatCorrection.player_id == carmen_id, StatCorrection.kind == "removed"
            )
        ).all()
        assert conn.scalar(select(FantasyPoints.id).where(FantasyPoints.player_id == carmen_id)) is None
    assert ("pts", 9, None) in [tuple(r) for r in removed] and len(removed) == 18  # the whole line, kept

    run_job(engine, "calculate_fantasy_scores", next_day)
    with engine.connect() as conn:
        weeks = dict(conn.execute(select(TeamWeekScore.fantasy_team_id, TeamWeekScore.points)).all())
    assert carmen_team not in weeks  # her team week is totalled again: nothing left, no row
    assert weeks[blair_team] == pytest.approx(carmen_week)  # the same line, now Blair's
    assert run_job(engine, "ingest_player_stats", next_day).rows_affected == 0  # converged


# --- 3. the summary of another game, then ESPN's fix ---------------------------------------------


@pytest.mark.parametrize("wrong", ["another_id", "other_teams", "swapped"])
def test_summary_of_the_wrong_game_is_refused_until_fixed(engine, espn, wrong):
    if wrong == "another_id":  # G2's summary served under G1's id
        served, match = w.G2.summary(), r"field header\.id = '401980002': the summary of another game"
    elif wrong == "other_teams":  # G1's id, G2's teams and lines
        served = w.G2.summary()
        served["header"]["id"] = w.G1.id
        match = r"other teams than the scoreboard's MIN \(8\) @ IND \(5\)"
    else:  # home and away swapped
        swapped = copy.deepcopy(w.G1)
        swapped.home, swapped.away = w.G1.away, w.G1.home
        swapped.home_lines, swapped.away_lines = w.G1.away_lines, w.G1.home_lines
        served, match = (
            swapped.summary(),
            r"home and away swapped against the scoreboard's MIN \(8\) @ IND \(5\)",
        )
    espn.add(api.SUMMARY, served, {"event": w.G1.id})
    with pytest.raises(EspnPayloadError, match=match):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert stored_lines(engine, w.G1.id) == {}  # no phantom line
    assert stored_lines(engine, w.G2.id) == payload_lines(w.G2.summary())  # untouched
    g1 = game_row(engine, w.G1.id)
    assert (g1.status, g1.box_score_status, g1.box_score_attempts, g1.home) == (
        "in_progress",
        "pending",
        1,
        "5",
    )
    assert call_logs(engine, w.G1.id)[-1][:2] == ("invalid", 0)

    espn.add(api.SUMMARY, w.G1.summary(), {"event": w.G1.id})  # fixed the next day
    next_day = w.DAILY_NOW + timedelta(days=1)
    serve_empty_boards(espn, next_day, 3)
    run_job(engine, "ingest_player_stats", next_day)
    assert stored_lines(engine, w.G1.id) == payload_lines(w.G1.summary())
    g1 = game_row(engine, w.G1.id)
    assert (g1.status, g1.box_score_status, g1.home, g1.home_score, g1.away_score) == (
        "final",
        "stored",
        "5",
        30,
        27,
    )
    assert stored_lines(engine, w.G2.id) == payload_lines(w.G2.summary())


def test_box_score_of_a_team_not_in_the_game_is_refused(engine, espn):
    summary = w.G1.summary()
    summary["boxscore"]["players"][0]["team"] = w.NY.json()
    espn.add(api.SUMMARY, summary, {"event": w.G1.id})
    with pytest.raises(
        EspnPayloadError, match=r"boxscore\.players\[0\]\.team\.id = '9': not one of the game's teams"
    ):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert stored_lines(engine, w.G1.id) == {}


# --- 4. a summary stuck in progress while the scoreboard says final --------------------------------


def test_summary_stuck_in_progress_is_counted_and_given_up(engine, espn, slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    monkeypatch.setenv("FANTASY_BOX_SCORE_GIVE_UP_DAYS", "2")
    stuck = copy.deepcopy(w.G1)
    stuck.status = "in_progress"
    espn.add(api.SUMMARY, stuck.summary(), {"event": w.G1.id})
    for day in range(3):
        serve_empty_boards(espn, w.DAILY_NOW + timedelta(days=day), 3)
    for day in (0, 1):
        with pytest.raises(
            EspnPayloadError, match=r"status = 'in_progress': the scoreboard calls the game final"
        ):
            run_job(engine, "ingest_player_stats", w.DAILY_NOW + timedelta(days=day))
        assert tuple(game_row(engine, w.G1.id))[:3] == ("in_progress", "pending", day + 1)
        assert stored_lines(engine, w.G2.id) == payload_lines(w.G2.summary())
    assert not slack.requests
    result = run_job(engine, "ingest_player_stats", w.DAILY_NOW + timedelta(days=2))
    assert result.details["given_up"] == [w.G1.id]
    assert tuple(game_row(engine, w.G1.id))[:3] == ("final", "no_box_score", 3)
    [message] = slack.requests
    assert w.G1.id in message.json()["text"] and "in_progress" in message.json()["text"]
    assert [s for s, _, _ in call_logs(engine, w.G1.id)] == ["invalid"] * 3


# --- 5. a game stored scheduled that the scoreboard omits while it is final ------------------------


def store_scheduled(engine, game) -> None:
    """The game as an earlier run stored it from a scoreboard: scheduled, at its original time."""
    with engine.begin() as conn:
        for team in (game.home, game.away):
            conn.execute(
                Team.__table__.insert().values(
                    espn_id=team.id, abbreviation=team.abbreviation, display_name=team.abbreviation
                )
            )
        ids = dict(conn.execute(select(Team.espn_id, Team.id)).all())
        conn.execute(
            Game.__table__.insert().values(
                espn_id=game.id,
                season=2026,
                start_time=game.start,
                home_team_id=ids[game.home.id],
                away_team_id=ids[game.away.id],
                status="scheduled",
            )
        )


def test_game_stored_scheduled_and_omitted_is_read_hours_after_tip_off(engine, espn, monkeypatch):
    monkeypatch.setenv("FANTASY_BOX_SCORE_OWED_HOURS", "4")
    espn.add(api.SCOREBOARD, w.scoreboard_payload([], "20260719"), {"dates": "20260719", "limit": 200})
    store_scheduled(engine, w.G1)  # today's scoreboards omit it
    early = w.G1.start + timedelta(hours=3)  # not owed yet: maybe still playing
    serve_empty_boards(espn, early, 3)
    run_job(engine, "ingest_player_stats", early)
    assert game_row(engine, w.G1.id).status == "scheduled" and call_logs(engine, w.G1.id) == []
    later = w.G1.start + timedelta(hours=5)
    serve_empty_boards(espn, later, 3)
    run_job(engine, "ingest_player_stats", later)
    assert tuple(game_row(engine, w.G1.id))[:2] == ("final", "stored")
    assert stored_lines(engine, w.G1.id) == payload_lines(w.G1.summary())


def test_late_game_rescheduled_at_espn_is_stored_as_such(engine, espn, monkeypatch):
    monkeypatch.setenv("FANTASY_BOX_SCORE_OWED_HOURS", "4")
    espn.add(api.SCOREBOARD, w.scoreboard_payload([], "20260719"), {"dates": "20260719", "limit": 200})
    store_scheduled(engine, w.G1)
    moved = copy.deepcopy(w.G1)
    moved.status, moved.start = "scheduled", w.G1.start + timedelta(days=30)
    espn.add(api.SUMMARY, moved.summary(), {"event": w.G1.id})
    later = w.G1.start + timedelta(hours=5)
    serve_empty_boards(espn, later, 3)
    run_job(engine, "ingest_player_stats", later)  # no failure: ESPN moved the game
    with engine.connect() as conn:
        assert conn.execute(
            select(Game.status, Game.start_time, Game.box_score_attempts).where(Game.espn_id == w.G1.id)
        ).one() == (
            "scheduled",
            moved.start,
            0,
        )
    assert [s for s, _, _ in call_logs(engine, w.G1.id)] == ["ok"]
    espn.hits.clear()
    run_job(engine, "ingest_player_stats", later + timedelta(hours=1))
    assert not [h for h in espn.hits if "summary" in h]  # owed again only hours after its new tip-off


# --- 6. a database error on one game is that game's failure ------------------------------------------


def test_database_error_on_one_game_does_not_stop_the_others(engine, espn):
    with engine.begin() as conn:  # the database refuses one line of G1 (Avery Adams' 21 points)
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN IF NEW.pts = 21 THEN RAISE EXCEPTION 'line refused by the database'; END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON player_game_stats FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON player_game_stats WHEN NEW.pts = 21 "
                    "BEGIN SELECT RAISE(ABORT, 'line refused by the database'); END"
                )
            )
    with pytest.raises(RuntimeError, match=r"\[game 401980001\] .*line refused by the database") as info:
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert not isinstance(info.value, EspnPayloadError)  # retryable
    assert stored_lines(engine, w.G1.id) == {}  # its transaction rolled back whole
    assert tuple(game_row(engine, w.G1.id))[:3] == ("in_progress", "pending", 1)
    assert stored_lines(engine, w.G2.id) == payload_lines(w.G2.summary())
    status, rows, error = call_logs(engine, w.G1.id)[-1]
    assert (status, rows) == ("error", 0) and "line refused by the database" in error

    with engine.begin() as conn:
        conn.execute(
            text(
                "DROP TRIGGER refuse"
                + (" ON player_game_stats" if engine.dialect.name == "postgresql" else "")
            )
        )
    run_job(engine, "ingest_player_stats", w.DAILY_NOW + timedelta(hours=1))
    assert stored_lines(engine, w.G1.id) == payload_lines(w.G1.summary())


# --- 7. the weekly season audit -------------------------------------------------------------------


def test_season_audit_applies_late_corrections_once(engine, espn, slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    monkeypatch.setenv("FANTASY_SEASON_AUDIT_MIN_INTERVAL", "0")
    run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    g2_lines = stored_lines(engine, w.G2.id)
    # four weeks later, far outside stat_correction_days, ESPN has corrected two games
    g1 = copy.deepcopy(w.G1)  # Carmen Cruz's line was Blair Brooks'
    carmen = g1.home_lines.pop(2)
    g1.home_lines[1] = w.SampleLine("1002", "Blair Brooks", stats=carmen.stats)
    g2 = copy.deepcopy(w.G2)  # home and away were the wrong way round
    g2.home, g2.away, g2.home_lines, g2.away_lines = w.G2.away, w.G2.home, w.G2.away_lines, w.G2.home_lines
    espn.add(api.SUMMARY, g1.summary(), {"event": w.G1.id})
    espn.add(api.SUMMARY, g2.summary(), {"event": w.G2.id})
    espn.add(
        api.SCOREBOARD,
        w.scoreboard_payload([g1, g2, w.G3], "July"),
        {"dates": "20260719-20260731", "limit": 1000},
    )
    espn.add(
        api.SCOREBOARD, w.scoreboard_payload([], "August"), {"dates": "20260801-20260818", "limit": 1000}
    )
    audit_at = datetime(2026, 8, 18, 6, 30, tzinfo=UTC)  # Tuesday 02:30 Eastern

    dry = run_job(engine, "season_audit", audit_at, dry_run=True)  # reports, changes nothing
    assert dry.details["changed"] == [w.G1.id, w.G2.id] and dry.details["lines_removed"] == 1
    assert (
        stored_lines(engine, w.G1.id) == payload_lines(w.G1.summary()) and count(engine, StatCorrection) == 0
    )
    assert not slack.requests

    result = run_job(engine, "season_audit", audit_at)
    assert result.details["changed"] == [w.G1.id, w.G2.id]
    assert stored_lines(engine, w.G1.id) == payload_lines(g1.summary())  # Carmen's line gone, Blair's in
    assert stored_lines(engine, w.G2.id) == payload_lines(g2.summary()) == g2_lines  # same lines...
    g2_row = game_row(engine, w.G2.id)
    assert (g2_row.home, g2_row.home_score, g2_row.away_score) == ("9", 33, 35)  # ... NY at home now
    with engine.connect() as conn:
        kinds = conn.execute(select(StatCorrection.kind).distinct()).scalars().all()
    assert sorted(kinds) == ["changed", "removed"]
    [message] = slack.requests
    assert "2 changed" in message.json()["text"] and w.G1.id in message.json()["text"]
    assert [s for s, _, _ in call_logs(engine, w.G1.id)] == ["ok", "ok"]  # the nightly's read, the audit's

    espn.add(
        api.SCOREBOARD, w.scoreboard_payload([], "August"), {"dates": "20260801-20260825", "limit": 1000}
    )
    again = run_job(engine, "season_audit", audit_at + timedelta(days=7))  # nothing new at ESPN
    assert again.details["changed"] == [] and again.rows_affected == 0 and len(slack.requests) == 1


# --- 8. bounded requests: a drip-fed summary, an oversized one --------------------------------------


def test_drip_fed_summary_fails_its_game_in_bounded_time(engine, espn, monkeypatch):
    monkeypatch.setenv("FANTASY_ESPN_TIMEOUT", "1")
    monkeypatch.setenv("FANTASY_ESPN_MAX_ATTEMPTS", "2")
    drip = Reply(body=w.G1.summary(), drip=0.2)  # one byte every 0.2 s: about 20 minutes for the body
    espn.script(api.SUMMARY, [drip], {"event": w.G1.id})
    started = time.monotonic()
    with pytest.raises(EspnError, match=r"\[game 401980001\]"):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert time.monotonic() - started < 30  # two attempts of 1 s each, not the body's 20 minutes
    assert espn.hits.count(f"{api.SUMMARY}?event={w.G1.id}") == 2  # retried once, then the game failed
    assert drip.sent and max(drip.sent) < 50  # each attempt cut after a few bytes
    assert stored_lines(engine, w.G1.id) == {} and tuple(game_row(engine, w.G1.id))[:3] == (
        "in_progress",
        "pending",
        1,
    )
    assert stored_lines(engine, w.G2.id) == payload_lines(w.G2.summary())  # the game behind it
    assert call_logs(engine, w.G1.id)[-1][:2] == ("error", 0)


def own_peak_rss_mb(command: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, float]:
    """Run `command`; (exit code, output, its own peak RSS in MB from /proc/PID/status VmHWM, polled).

    Not `ru_maxrss`: a child started from a large parent (pytest) inherits the parent's high-water
    mark through fork/vfork and exec, so its own growth would be hidden under the parent's size."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, deadline = 0.0, time.monotonic() + timeout
    while child.poll() is None and time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            break
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
        time.sleep(0.02)
    output, _ = child.communicate(timeout=max(deadline - time.monotonic(), 1))
    return child.returncode, output, peak


def test_oversized_summary_fails_its_game_with_flat_memory(espn, tmp_path):
    """Through `fantasy-jobs run` in its own process: its peak RSS stays near the process baseline
    (about 125 MB: Airflow's imports) while the server offers 400 MB."""
    huge = Reply(filler=400 * 1024 * 1024)
    espn.script(api.SUMMARY, [huge], {"event": w.G1.id})
    db = f"sqlite:///{tmp_path / 'app.db'}"
    env = airflow_env(
        AIRFLOW_CONN_FANTASY_DB=db,
        AIRFLOW_CONN_WNBA_API=espn.url,
        FANTASY_ESPN_MIN_INTERVAL="0",
        FANTASY_ESPN_BACKOFF="0.01",
        FANTASY_ESPN_MAX_ATTEMPTS="2",
        FANTASY_ESPN_MAX_BODY_MB="8",
        FANTASY_BOX_SCORE_OWED_HOURS="168",
    )
    command = [str(VENV_BIN / "fantasy-jobs")]
    assert subprocess.run([*command, "init-db"], env=env, capture_output=True, timeout=120).returncode == 0
    code, output, peak = own_peak_rss_mb(
        [*command, "run", "ingest_player_stats", "--at", w.DAILY_NOW.isoformat()], env, timeout=300
    )
    assert code == 1 and "8 MB" in output
    assert 50 < peak < 200  # measured; a 400 MB body read whole would be far above
    engine = make_engine(db)
    try:
        assert espn.hits.count(f"{api.SUMMARY}?event={w.G1.id}") == 2
        assert huge.sent and max(huge.sent) < 64 * 1024 * 1024  # cut long before the end
        assert stored_lines(engine, w.G2.id) == payload_lines(w.G2.summary())
        assert call_logs(engine, w.G1.id)[-1][:2] == ("error", 0)
    finally:
        engine.dispose()
