"""`fantasy-jobs espn-replay`, the stand-in that replays a demo game as live for `make run`: its
timeline (scheduled, a line at a time, final, gone), and, served for real by the command, live
ticks on the demo data that score each new line for the demo's leagues (both databases)."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.models import SummaryPayload, convert, parse
from fantasy_jobs.espn.replay import Replay, replayed_game
from fantasy_jobs.registry import get_job
from fantasy_jobs.runtime import RunRequest, execute
from fantasy_jobs.schema import FantasyPoints, Game, TeamWeekScore
from tests.conftest import VENV_BIN, airflow_env
from tests.support.postgres import free_port


def test_the_timeline_of_a_replayed_game(demo_engine):
    game = replayed_game(demo_engine)
    lines = len(game.home_lines) + len(game.away_lines)
    assert lines >= 10 and game.id.startswith("9")
    start = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    replay = Replay(game, start, start_in=60, every=30)
    before = replay.at(start + timedelta(seconds=30))
    assert before.status == "scheduled" and before.start == start + timedelta(seconds=60)
    assert not before.home_lines + before.away_lines
    third = replay.at(start + timedelta(seconds=60 + 3 * 30 + 1))
    assert third.status == "in_progress" and len(third.home_lines + third.away_lines) == 3
    final = replay.at(start + timedelta(seconds=60 + (lines + 1) * 30))
    assert final.status == "final" and len(final.home_lines + final.away_lines) == lines
    assert replay.at(start + timedelta(seconds=60 + (lines + 2) * 30)) is None
    status, board = replay.answer(api.SCOREBOARD, {"dates": "20261204"}, start + timedelta(seconds=61))
    assert status == 200 and [e["id"] for e in board["events"]] == [game.id]
    assert replay.answer(api.SCOREBOARD, {"dates": "20261203"}, start)[1]["events"] == []
    assert replay.answer(api.SUMMARY, {"event": "1"}, start)[0] == 404


def test_live_ticks_score_each_new_line_of_the_replay(demo_engine, monkeypatch):
    url = demo_engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    port = free_port()
    replay = subprocess.Popen(
        [
            str(VENV_BIN / "fantasy-jobs"),
            "espn-replay",
            "--port",
            str(port),
            "--start-in",
            "0",
            "--every",
            "3",
        ],
        env=airflow_env(AIRFLOW_CONN_FANTASY_DB=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    monkeypatch.setenv("AIRFLOW_CONN_WNBA_API", f"http://127.0.0.1:{port}")  # the ticks read the replay
    monkeypatch.setenv("FANTASY_ESPN_MIN_INTERVAL", "0")
    try:
        seen = []
        while "ESPN stand-in" not in (banner := replay.stdout.readline()) and banner and len(seen) < 20:
            seen.append(banner)  # Airflow's own start-up lines come first
        assert f"ESPN stand-in on http://127.0.0.1:{port}" in banner, "".join(seen) + banner
        game_id = banner.split("(game ")[1].split(",")[0]
        summary = httpx.get(
            f"http://127.0.0.1:{port}{api.SUMMARY}", params={"event": game_id}, timeout=10
        ).json()
        game = convert("summary", parse(SummaryPayload, summary, "summary").game)
        event = {
            "games": [{"id": game_id, "home": game.home.id, "away": game.away.id, "label": "replay"}],
            "seen_at": datetime.now(UTC).isoformat(),
            "live": 1,
        }
        totals = []
        for _ in range(3):
            time.sleep(3.2)
            now = datetime.now(UTC)
            result = execute(
                get_job("live_scoring"),
                RunRequest(
                    trigger="event", logical_time=now, started_at=now, check_misfire=False, events=(event,)
                ),
                engine=demo_engine,
            )
            assert result.details["lines_changed"] >= 1, result.summary
            with demo_engine.connect() as conn:
                game_db = conn.scalar(select(Game.id).where(Game.espn_id == game_id))
                points = conn.scalar(select(func.count()).where(FantasyPoints.game_id == game_db))
                week = conn.scalar(select(Game.fantasy_week).where(Game.id == game_db))
                totals.append(
                    conn.scalar(
                        select(func.count()).where(TeamWeekScore.week == week, TeamWeekScore.points > 0)
                    )
                )
            assert points > 0
        assert totals[-1] > 0  # the demo's teams that start the replayed players got live totals
    finally:
        replay.terminate()
        replay.wait(10)
