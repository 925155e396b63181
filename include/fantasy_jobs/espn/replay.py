"""`fantasy-jobs espn-replay`: a local ESPN stand-in that replays one of the demo's games as a live
game at the real time, to watch live scoring work under `make run` (no internet needed).

The game (the demo's latest final game, under a new ESPN id so the stored one is untouched) tips
off `start_in` seconds after the replay starts; then one more player's line appears every `every`
seconds, with that player's final numbers; after the last line ESPN calls it final, and a step
later the day's scoreboard is empty again. Every step is printed with its time, so the time each
change reached `fantasy_points` can be compared with it. Serves ESPN's scoreboard (today's
US-Eastern date; any other date: no games) and the game's summary; anything else is a 404.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from fantasy_jobs.errors import ConfigError
from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.sample import SampleGame, SampleLine, SampleTeam, scoreboard_payload
from fantasy_jobs.schema import BOX_SCORE_COLUMNS, Game, Player, PlayerGameStats, Team

EASTERN = ZoneInfo("America/New_York")
STAT_COLUMNS = (*BOX_SCORE_COLUMNS, "plus_minus")


def replayed_game(engine: Engine, espn_id: str | None = None) -> SampleGame:
    """The demo's latest final game with lines (or the game `espn_id`), as a final SampleGame under
    a new ESPN id ("9" + its own): its teams, and its lines in box-score order (home team first)."""
    with engine.connect() as conn:
        query = select(Game).where(Game.status == "final").order_by(Game.start_time.desc(), Game.id.desc())
        if espn_id:
            query = select(Game).where(Game.espn_id == espn_id)
        for game in conn.execute(query.limit(50)).all():
            columns = PlayerGameStats.__table__.c
            lines = conn.execute(
                select(
                    Player.espn_id,
                    Player.full_name,
                    Player.position,
                    PlayerGameStats.team_id,
                    PlayerGameStats.did_not_play,
                    *(columns[c] for c in STAT_COLUMNS),
                )
                .join(Player, Player.id == PlayerGameStats.player_id)
                .where(PlayerGameStats.game_id == game.id)
                .order_by(PlayerGameStats.team_id != game.home_team_id, PlayerGameStats.id)
            ).all()
            if lines:
                break
        else:
            raise ConfigError(
                f"no game {espn_id} with a box score in the app database"
                if espn_id
                else "no final game with a box score in the app database: load the demo first (`make run`)"
            )
        teams = {
            t.id: t
            for t in conn.execute(select(Team).where(Team.id.in_([game.home_team_id, game.away_team_id])))
        }

    def team(team_id: int) -> SampleTeam:
        t = teams[team_id]
        return SampleTeam(
            t.espn_id, t.abbreviation, t.location or "", t.name or t.display_name, t.color or "000000"
        )

    def sample_line(row) -> SampleLine:
        values = None if row.did_not_play else {c: getattr(row, c) or 0 for c in STAT_COLUMNS}
        return SampleLine(row.espn_id, row.full_name, row.position or "G", values)

    home = [sample_line(r) for r in lines if r.team_id == game.home_team_id]
    away = [sample_line(r) for r in lines if r.team_id != game.home_team_id]
    return SampleGame(
        "9" + game.espn_id,
        game.start_time,
        team(game.home_team_id),
        team(game.away_team_id),
        home_lines=home,
        away_lines=away,
        season=game.season,
    )


@dataclass
class Replay:
    """The replayed game as ESPN shows it `elapsed` seconds after the replay started."""

    game: SampleGame
    started: datetime  # when the replay started (real time)
    start_in: float = 60.0
    every: float = 30.0

    @property
    def lines(self) -> list[tuple[str, SampleLine]]:
        return [("home", line) for line in self.game.home_lines] + [
            ("away", line) for line in self.game.away_lines
        ]

    def step(self, now: datetime) -> int:
        """-1 before tip-off; k: the first k lines shown (0 at tip-off); len(lines) + 1: final; + 2: gone."""
        elapsed = (now - self.started).total_seconds()
        if elapsed < self.start_in:
            return -1
        return int((elapsed - self.start_in) // self.every)

    def at(self, now: datetime) -> SampleGame | None:
        step, lines = self.step(now), self.lines
        tip_off = self.started + timedelta(seconds=self.start_in)
        if step < 0:
            return replace(self.game, start=tip_off, status="scheduled", home_lines=[], away_lines=[])
        if step > len(lines) + 1:
            return None
        shown = lines[: min(step, len(lines))]
        return replace(
            self.game,
            start=tip_off,
            status="final" if step > len(lines) else "in_progress",
            home_lines=[line for side, line in shown if side == "home"],
            away_lines=[line for side, line in shown if side == "away"],
        )

    def answer(self, path: str, query: dict[str, str], now: datetime) -> tuple[int, dict]:
        game = self.at(now)
        if path == api.SCOREBOARD:
            today = now.astimezone(EASTERN).strftime("%Y%m%d")
            day = query.get("dates", today)
            return 200, scoreboard_payload([game] if game is not None and day == today else [], day)
        if path == api.SUMMARY and game is not None and query.get("event") == game.id:
            return 200, game.summary()
        return 404, {"code": 404, "message": "not part of the replay"}


def serve(replay: Replay, host: str, port: int) -> ThreadingHTTPServer:
    """Serve `replay` on host:port from a daemon thread; returns the server (shutdown() stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, body = replay.answer(url.path, dict(parse_qsl(url.query)), datetime.now(UTC))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_replay(
    engine: Engine, *, port: int, start_in: float, every: float, game: str | None, out=print
) -> int:
    """Serve the replay until the game is over (the scoreboard empty), printing each step."""
    replay = Replay(replayed_game(engine, game), datetime.now(UTC), start_in, every)
    server = serve(replay, "127.0.0.1", port)
    lines = replay.lines
    g = replay.game
    out(
        f"ESPN stand-in on http://127.0.0.1:{server.server_address[1]}: {g.away.abbreviation} @ {g.home.abbreviation} "
        f"(game {g.id}, {len(lines)} lines) tips off in {start_in:.0f} s, then a line every {every:.0f} s"
    )
    shown = -2
    try:
        while True:
            now = datetime.now(UTC)
            step = replay.step(now)
            if step != shown:
                shown = step
                stamp = now.astimezone().strftime("%H:%M:%S")
                if 0 < step <= len(lines):
                    side, line = lines[step - 1]
                    points = (line.stats or {}).get("pts", 0) if line.stats else "did not play"
                    out(f"{stamp} line {step}/{len(lines)}: {line.name} ({side}), pts {points}")
                elif step == 0:
                    out(f"{stamp} tip-off: game {g.id} in progress")
                elif step == len(lines) + 1:
                    out(f"{stamp} final")
                elif step > len(lines) + 1:
                    out(f"{stamp} game over: the scoreboard is empty again")
                    return 0
            time.sleep(0.2)
    finally:
        server.shutdown()
