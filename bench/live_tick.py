"""`python -m bench.live_tick --at ANCHOR`: one live_scoring tick on the bench database.

The bench's `live_scoring_tick` row runs this instead of `fantasy-jobs run` (a tick needs the live
watcher's asset event and ESPN's summary of the game). The game is the one `LIVE_GAME_SQL`
(bench/run.py) left in progress: the latest game with status `in_progress`, its lines not final, as
earlier ticks left it. Its stored box score is served back as ESPN's summary (built with
`fantasy_jobs.espn.sample`) from a local HTTP server on 127.0.0.1, with one change: the first
`BUMPED` lines that played (by player id) scored a basket each (pts + 2, fgm + 1, fga + 1). Every
other line round-trips to exactly its stored values, so the job must see exactly `BUMPED` changed
lines: that is checked on the job's result (non-zero exit otherwise). The tick itself runs as the
scheduler runs it (`trigger="event"`, the watcher's payload naming the game, seen now) through
`fantasy_jobs.runtime.execute`, so its `job_executions` row has its time, peak memory and rows.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BUMPED = 3
"""Lines of the game whose box score changed since the last tick (a basket each)."""
STAT_COLUMNS = (
    "pts",
    "fgm",
    "fga",
    "fg3m",
    "fg3a",
    "ftm",
    "fta",
    "reb",
    "ast",
    "tov",
    "stl",
    "blk",
    "oreb",
    "dreb",
    "pf",
    "plus_minus",
    "minutes",
)

GAME_SQL = """
SELECT g.id, g.espn_id, g.season, g.season_type, g.start_time, g.home_team_id, g.away_team_id,
       h.espn_id AS home_espn_id, h.abbreviation AS home_abbreviation, h.location AS home_location, h.name AS home_name,
       a.espn_id AS away_espn_id, a.abbreviation AS away_abbreviation, a.location AS away_location, a.name AS away_name
FROM games g JOIN teams h ON h.id = g.home_team_id JOIN teams a ON a.id = g.away_team_id
WHERE g.status = 'in_progress' ORDER BY g.start_time DESC, g.id DESC LIMIT 1
"""
LINES_SQL = f"""
SELECT s.player_id, s.team_id, p.espn_id, p.full_name, p.position, s.did_not_play, {", ".join(f"s.{c}" for c in STAT_COLUMNS)}
FROM player_game_stats s JOIN players p ON p.id = s.player_id
WHERE s.game_id = :game_id ORDER BY s.player_id
"""

log = logging.getLogger("bench.live_tick")


def live_game(engine) -> tuple[object, list]:
    """The in-progress game (with its teams) and its stored lines, by player id."""
    from sqlalchemy import text

    with engine.connect() as conn:
        game = conn.execute(text(GAME_SQL)).first()
        if game is None:
            raise RuntimeError("no game in progress: LIVE_GAME_SQL (bench/run.py) must run first")
        lines = conn.execute(text(LINES_SQL), {"game_id": game.id}).all()
    if not lines:
        raise RuntimeError(f"game {game.espn_id} has no stat lines")
    return game, lines


def changed_summary(game, lines) -> tuple[dict, list[str]]:
    """ESPN's summary of `game`: its stored lines, the first BUMPED that played with a basket more
    each; returns (the summary, the ESPN ids of the changed players)."""
    from fantasy_jobs.espn.sample import SampleGame, SampleLine, SampleTeam

    home = SampleTeam(
        game.home_espn_id, game.home_abbreviation, game.home_location or "", game.home_name or ""
    )
    away = SampleTeam(
        game.away_espn_id, game.away_abbreviation, game.away_location or "", game.away_name or ""
    )
    sides: dict[int, list[SampleLine]] = {game.home_team_id: [], game.away_team_id: []}
    bumped: list[str] = []
    for line in lines:
        if line.team_id not in sides:
            raise RuntimeError(
                f"player {line.espn_id}'s line is for team {line.team_id}, not one of the game's"
            )
        stats = None
        if not line.did_not_play:
            stats = {c: getattr(line, c) for c in STAT_COLUMNS}
            if stats["plus_minus"] is None:
                raise RuntimeError(f"player {line.espn_id} played with no plus_minus: it cannot round-trip")
            if len(bumped) < BUMPED:
                stats.update(pts=stats["pts"] + 2, fgm=stats["fgm"] + 1, fga=stats["fga"] + 1)
                bumped.append(line.espn_id)
        sides[line.team_id].append(SampleLine(line.espn_id, line.full_name, line.position or "G", stats))
    if len(bumped) < BUMPED:
        raise RuntimeError(f"game {game.espn_id}: only {len(bumped)} lines that played, {BUMPED} needed")
    sample = SampleGame(
        id=game.espn_id,
        start=game.start_time.astimezone(UTC),  # the summary's date is UTC, to the minute
        home=home,
        away=away,
        status="in_progress",
        home_lines=sides[game.home_team_id],
        away_lines=sides[game.away_team_id],
        season=game.season,
        season_type=game.season_type or 2,
    )
    return sample.summary(), bumped


class SummaryServer:
    """ESPN's summary route for one game on 127.0.0.1 (any other path or game: 404)."""

    def __init__(self, espn_id: str, summary: dict) -> None:
        from fantasy_jobs.espn.client import SUMMARY

        body = json.dumps(summary).encode()
        served = self.served = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                if url.path == SUMMARY and parse_qs(url.query).get("event") == [espn_id]:
                    served.append(self.path)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_error(404)

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                log.info("summary server: %s", format % args)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SummaryServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def tick(engine, at: datetime):
    """Read the live game, serve its changed summary, run one live_scoring tick on `engine` "at"
    `at`; returns the job's result. Raises when the job did not see exactly BUMPED
    changed lines. Sets AIRFLOW_CONN_WNBA_API and FANTASY_ESPN_MIN_INTERVAL in os.environ."""
    from fantasy_jobs.registry import get_job
    from fantasy_jobs.runtime import RunRequest, execute

    game, lines = live_game(engine)
    summary, bumped = changed_summary(game, lines)
    label = f"{game.away_abbreviation} ({game.away_espn_id}) @ {game.home_abbreviation} ({game.home_espn_id})"
    log.info(
        "game %s (%s, %s): %d lines; changed: players %s (a basket each)",
        game.espn_id,
        label,
        game.start_time.astimezone(UTC).isoformat(),
        len(lines),
        ", ".join(bumped),
    )
    with SummaryServer(game.espn_id, summary) as server:
        os.environ["AIRFLOW_CONN_WNBA_API"] = server.url
        os.environ["FANTASY_ESPN_MIN_INTERVAL"] = "0"
        event = {
            "games": [
                {"id": game.espn_id, "home": game.home_espn_id, "away": game.away_espn_id, "label": label}
            ],
            "seen_at": datetime.now(UTC).isoformat(),
            "live": 1,
        }
        request = RunRequest(
            trigger="event", logical_time=at, started_at=at, check_misfire=False, events=(event,)
        )
        result = execute(get_job("live_scoring"), request, engine=engine)
        if len(server.served) != 1:
            raise RuntimeError(f"the summary was served {len(server.served)} times, not once")
    details = result.details or {}
    log.info(
        "tick: lines_changed %s, fantasy_points rows %s, team weeks in scope %s, team week rows %s, "
        "box score rows %s, lag %s s",
        details.get("lines_changed"),
        details.get("fantasy_points_rows"),
        details.get("team_weeks_in_scope"),
        details.get("team_week_rows"),
        details.get("box_score_rows"),
        details.get("lag_seconds"),
    )
    if details.get("lines_changed") != BUMPED:
        raise RuntimeError(
            f"the tick saw {details.get('lines_changed')} changed lines, not the {BUMPED} changed: "
            "a line did not round-trip through the summary"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_tick", description=__doc__.splitlines()[0])
    parser.add_argument("--at", required=True, help="the job's 'now' (ISO 8601 with offset)")
    args = parser.parse_args(argv)
    from fantasy_jobs.cli import use_airflow_home

    use_airflow_home()  # as `fantasy-jobs run` does, before anything imports Airflow
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from fantasy_jobs.db import get_engine

    try:
        result = tick(get_engine(), datetime.fromisoformat(args.at))
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"live_scoring: {result.summary or 'done'} ({result.rows_affected} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
