"""WNBA ingestion from ESPN: teams, standings, box scores, player profiles, live games.

Every job fetches and validates all of its payloads first, then writes in one transaction, so a
bad or partial response writes nothing. Upserts are keyed by ESPN ids. Each endpoint call leaves
one `ingest_logs` row (written in its own transaction, also when the job fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from fantasy_jobs import settings
from fantasy_jobs.db import upsert
from fantasy_jobs.errors import JobSkipped
from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.client import EspnClient, EspnPayloadError
from fantasy_jobs.espn.models import (
    GameRow,
    RosterPayload,
    ScoreboardPayload,
    StandingsPayload,
    SummaryPayload,
    TeamInfo,
    TeamsPayload,
    convert,
    parse,
)
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import Game, IngestLog, Player, PlayerGameStats, Standing, Team, utcnow

EASTERN = ZoneInfo("America/New_York")  # ESPN files a game under the US-Eastern date of tip-off
NOT_PENDING = ("final", "postponed", "canceled")


@contextmanager
def espn_session(ctx: JobContext) -> Iterator[EspnClient]:
    """An ESPN client whose calls are written to `ingest_logs` when the block ends, however it ends."""
    client = api.client_from_settings()
    try:
        yield client
    finally:
        client.close()
        if client.calls and not ctx.dry_run:
            with ctx.engine.begin() as conn:
                conn.execute(
                    insert(IngestLog),
                    [
                        {
                            "source": "espn",
                            "endpoint": c.endpoint,
                            "started_at": c.started_at,
                            "finished_at": c.finished_at or utcnow(),
                            "status": c.status,
                            "rows_upserted": c.rows,
                            "error": c.error,
                        }
                        for c in client.calls
                    ],
                )


def fetch(client: EspnClient, model, path: str, params: dict | None = None):
    payload, call = client.get_json(path, params)
    return parse(model, payload, call.endpoint), call


def ensure_teams(conn, teams: list[TeamInfo]) -> dict[str, int]:
    """Team ids by ESPN id; franchises seen in a game but not yet known are created."""
    unique = {t.id: t for t in teams}
    if unique:
        upsert(conn, Team, [t.row() for t in unique.values()], ["espn_id"], update=False)
    return dict(conn.execute(select(Team.espn_id, Team.id).where(Team.espn_id.in_(list(unique)))).all())


def game_values(game: GameRow, team_ids: dict[str, int]) -> dict[str, Any]:
    return {
        "espn_id": game.espn_id,
        "season": game.season,
        "season_type": game.season_type,
        "start_time": game.start_time,
        "home_team_id": team_ids[game.home.id],
        "away_team_id": team_ids[game.away.id],
        "status": game.status,
        "home_score": game.home_score,
        "away_score": game.away_score,
    }


def check_box_score(endpoint: str, game: GameRow, lines: list[dict]) -> None:
    """A final box score's player points must add up to each team's score (a partial payload won't)."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line["team"].id] = totals.get(line["team"].id, 0) + line["pts"]
    for team, score in ((game.home, game.home_score), (game.away, game.away_score)):
        if score is not None and totals.get(team.id, 0) != score:
            raise EspnPayloadError(
                f"{endpoint}: box score of {team.abbreviation} adds up to {totals.get(team.id, 0)} points, "
                f"the game score says {score}"
            )


def write_box_score(conn, game: GameRow, lines: list[dict], *, final: bool, status: str | None = None) -> int:
    """Upsert one game, its unknown players and its stat lines; returns rows written."""
    team_ids = ensure_teams(conn, [game.home, game.away])
    written = upsert(
        conn, Game, [game_values(game, team_ids) | ({"status": status} if status else {})], ["espn_id"]
    )
    game_id = conn.scalar(select(Game.id).where(Game.espn_id == game.espn_id))
    athletes = {line["athlete"].id: line for line in lines}
    if athletes:
        upsert(
            conn,
            Player,
            [
                {
                    "espn_id": a_id,
                    "full_name": line["athlete"].displayName,
                    "position": line["athlete"].position.abbreviation if line["athlete"].position else None,
                    "jersey": line["athlete"].jersey,
                    "team_id": team_ids.get(line["team"].id),
                    "headshot_url": line["athlete"].headshot.href if line["athlete"].headshot else None,
                }
                for a_id, line in athletes.items()
            ],
            ["espn_id"],
            touch=None,
            update=False,
        )
    player_ids = dict(
        conn.execute(select(Player.espn_id, Player.id).where(Player.espn_id.in_(list(athletes)))).all()
    )
    rows = []
    for line in lines:
        values = {k: v for k, v in line.items() if k not in ("team", "athlete")}
        rows.append(
            {
                "game_id": game_id,
                "player_id": player_ids[line["athlete"].id],
                "team_id": team_ids[line["team"].id],
                **values,
                "is_final": final,
            }
        )
    return written + upsert(conn, PlayerGameStats, rows, ["game_id", "player_id"])


# --- ingest_teams ---------------------------------------------------------------------------


def ingest_teams(ctx: JobContext) -> JobResult:
    """Franchises from ESPN's teams list; the conference comes from the standings when missing."""
    season = ctx.now.year
    with espn_session(ctx) as client:
        teams_payload, teams_call = fetch(client, TeamsPayload, api.TEAMS)
        teams = teams_payload.teams()
        franchises = [t for t in teams if t.is_franchise]
        skipped = sorted(f"{t.abbreviation or '?'} ({t.id})" for t in teams if not t.is_franchise)
        if not franchises:
            raise EspnPayloadError(f"{teams_call.endpoint}: no franchise among {len(teams)} teams")
        standings, standings_call = fetch(client, StandingsPayload, api.STANDINGS, {"season": season})
        conference = {
            row["team"].id: row["conference"]
            for row in convert(standings_call.endpoint, standings.rows, season)
        }
        with ctx.engine.connect() as conn:
            known = dict(conn.execute(select(Team.espn_id, Team.conference)).all())
        rows = [t.row() | {"conference": conference.get(t.id) or known.get(t.id)} for t in franchises]
        teams_call.rows, standings_call.rows = len(rows), len(conference)
        if skipped:
            ctx.log.info("not franchises, left out: %s", ", ".join(skipped))
        if ctx.dry_run:
            return JobResult(len(rows), f"dry run: would upsert {len(rows)} franchises", {"skipped": skipped})
        with ctx.engine.begin() as conn:
            written = upsert(conn, Team, rows, ["espn_id"])
    return JobResult(written, f"{len(rows)} franchises, {written} new or changed", {"skipped": skipped})


# --- ingest_standings -----------------------------------------------------------------------


def season_window_from_games(engine, season: int) -> tuple[datetime, datetime] | None:
    from sqlalchemy import func

    with engine.connect() as conn:
        first, last = conn.execute(
            select(func.min(Game.start_time), func.max(Game.start_time)).where(Game.season == season)
        ).one()
    if first is None:
        return None
    return first - timedelta(days=1), last + timedelta(days=1)


def ingest_standings(ctx: JobContext) -> JobResult:
    """This season's standings, only during the regular season and playoffs."""
    season = ctx.now.year
    with espn_session(ctx) as client:
        standings, call = fetch(client, StandingsPayload, api.STANDINGS, {"season": season})
        window = convert(call.endpoint, standings.season_window, season) or season_window_from_games(
            ctx.engine, season
        )
        if window is None:
            raise JobSkipped(
                f"no {season} season calendar from ESPN and no {season} games known: nothing to update"
            )
        start, end = window
        if not start <= ctx.now <= end:
            raise JobSkipped(
                f"outside the {season} season ({start:%Y-%m-%d} to {end:%Y-%m-%d}, regular season and playoffs)"
            )
        rows = convert(call.endpoint, standings.rows, season)
        call.rows = len(rows)
        if ctx.dry_run:
            return JobResult(len(rows), f"dry run: would upsert standings of {len(rows)} teams")
        with ctx.engine.begin() as conn:
            team_ids = ensure_teams(conn, [row["team"] for row in rows])
            values = [
                {k: v for k, v in row.items() if k not in ("team", "conference")}
                | {"team_id": team_ids[row["team"].id]}
                for row in rows
            ]
            written = upsert(conn, Standing, values, ["season", "team_id"])
    return JobResult(written, f"standings of {len(rows)} teams for {season}, {written} new or changed")


# --- ingest_player_stats --------------------------------------------------------------------


def scoreboard_dates(now: datetime, days_back: int) -> list[date]:
    """The US-Eastern dates from `days_back` days ago through today."""
    today = now.astimezone(EASTERN).date()
    return [today - timedelta(days=d) for d in range(days_back, -1, -1)]


def ingest_player_stats(ctx: JobContext) -> JobResult:
    """Box scores of the games that ended since the last final one; the games marked final with scores."""
    dates = scoreboard_dates(ctx.now, settings.get("ingest_days_back"))
    window_start = datetime.combine(dates[0], datetime.min.time(), tzinfo=EASTERN)
    with espn_session(ctx) as client:
        scheduled: dict[str, GameRow] = {}
        for day in dates:
            board, call = fetch(
                client, ScoreboardPayload, api.SCOREBOARD, {"dates": f"{day:%Y%m%d}", "limit": 200}
            )
            games = convert(call.endpoint, board.games)
            call.rows = len(games)
            for game in games:
                if game.is_franchise_game:
                    scheduled[game.espn_id] = game
                else:
                    ctx.log.info(
                        "game %s (%s @ %s) is not between franchises; left out",
                        game.espn_id,
                        game.away.abbreviation,
                        game.home.abbreviation,
                    )
        with ctx.engine.connect() as conn:
            status_in_db = dict(
                conn.execute(select(Game.espn_id, Game.status).where(Game.espn_id.in_(list(scheduled)))).all()
            )
            earlier = (
                conn.execute(
                    select(Game.espn_id).where(
                        Game.status.not_in(NOT_PENDING), Game.start_time < window_start
                    )
                )
                .scalars()
                .all()
            )
        wanted = [
            g for g, game in scheduled.items() if game.status == "final" and status_in_db.get(g) != "final"
        ]
        wanted += [g for g in earlier if g not in wanted]
        ctx.log.info(
            "%d scoreboard games in %s..%s; %d box scores to fetch (%d from earlier days)",
            len(scheduled),
            dates[0],
            dates[-1],
            len(wanted),
            len(earlier),
        )
        summaries: list[tuple[GameRow, list[dict]]] = []
        for number, espn_id in enumerate(wanted, 1):
            summary, call = fetch(client, SummaryPayload, api.SUMMARY, {"event": espn_id})
            game = convert(call.endpoint, summary.game)
            lines = convert(call.endpoint, summary.stat_lines) if game.status == "final" else []
            if lines:
                check_box_score(call.endpoint, game, lines)
            call.rows = len(lines)
            summaries.append((game, lines))
            ctx.log.info(
                "box score %d/%d: game %s %s %s-%s %s (%d lines)",
                number,
                len(wanted),
                espn_id,
                game.away.abbreviation,
                game.away_score,
                game.home_score,
                game.home.abbreviation,
                len(lines),
            )
        finals = sum(1 for game, _ in summaries if game.status == "final")
        if ctx.dry_run:
            lines_total = sum(len(lines) for _, lines in summaries)
            return JobResult(
                lines_total, f"dry run: would mark {finals} games final with {lines_total} stat lines"
            )
        written = 0
        with ctx.engine.begin() as conn:
            franchise_games = [
                g for g in scheduled.values() if g.espn_id not in {s.espn_id for s, _ in summaries}
            ]
            if franchise_games:
                team_ids = ensure_teams(conn, [t for g in franchise_games for t in (g.home, g.away)])
                # a game already final in the database keeps its final state and scores
                rows = [
                    game_values(g, team_ids)
                    for g in franchise_games
                    if status_in_db.get(g.espn_id) != "final"
                ]
                written += upsert(conn, Game, rows, ["espn_id"])
            for game, lines in summaries:
                written += write_box_score(conn, game, lines, final=game.status == "final")
    return JobResult(
        written,
        f"{finals} games final, {len(scheduled)} scoreboard games, {written} rows written",
        {"dates": [d.isoformat() for d in dates], "box_scores": len(summaries)},
    )


# --- update_player_profiles -----------------------------------------------------------------


def update_player_profiles(ctx: JobContext) -> JobResult:
    """Every franchise roster: bio, team, injury; players on no roster keep their row, team cleared."""
    with ctx.engine.connect() as conn:
        teams = conn.execute(
            select(Team.espn_id, Team.id, Team.abbreviation).where(Team.is_active).order_by(Team.id)
        ).all()
    if not teams:
        raise JobSkipped("no teams in the database yet: ingest_teams fills them")
    rows: dict[str, dict] = {}
    with espn_session(ctx) as client:
        for number, team in enumerate(teams, 1):
            roster, call = fetch(client, RosterPayload, api.ROSTER.format(team_id=team.espn_id))
            players = convert(call.endpoint, roster.player_rows)
            call.rows = len(players)
            for player in players:
                rows[player["espn_id"]] = player | {"team_id": team.id}
            ctx.log.info("roster %d/%d: %s, %d players", number, len(teams), team.abbreviation, len(players))
        if ctx.dry_run:
            return JobResult(
                len(rows), f"dry run: would update {len(rows)} player profiles from {len(teams)} rosters"
            )
        now = utcnow()
        with ctx.engine.begin() as conn:
            written = upsert(conn, Player, list(rows.values()), ["espn_id"], touch="profile_updated_at")
            released = conn.execute(
                update(Player)
                .where(Player.team_id.is_not(None), Player.espn_id.not_in(list(rows)))
                .values(team_id=None, profile_updated_at=now)
            ).rowcount
    return JobResult(
        written + released,
        f"{len(rows)} players on {len(teams)} rosters: {written} new or changed, "
        f"{released} no longer on a roster",
    )


# --- live_game_check ------------------------------------------------------------------------


def live_game_check(ctx: JobContext) -> JobResult:
    """While a game is live or tips off within the hour: its live box score, not final."""
    now = ctx.now
    with ctx.engine.connect() as conn:
        from_db = set(
            conn.execute(
                select(Game.espn_id).where(
                    (Game.status == "in_progress")
                    | (
                        (Game.status == "scheduled")
                        & Game.start_time.between(now - timedelta(hours=4), now + timedelta(hours=1))
                    )
                )
            ).scalars()
        )
        final_in_db = set(conn.execute(select(Game.espn_id).where(Game.status == "final")).scalars())
    with espn_session(ctx) as client:
        board, call = fetch(
            client,
            ScoreboardPayload,
            api.SCOREBOARD,
            {"dates": f"{now.astimezone(EASTERN):%Y%m%d}", "limit": 200},
        )
        games = convert(call.endpoint, board.games)
        call.rows = len(games)
        live = {
            g.espn_id
            for g in games
            if g.is_franchise_game
            and (
                g.status == "in_progress"
                or (g.status == "scheduled" and now <= g.start_time <= now + timedelta(hours=1))
            )
        }
        live |= {
            g for g in from_db if g not in {x.espn_id for x in games if x.status in ("postponed", "canceled")}
        }
        live -= final_in_db
        if not live:
            raise JobSkipped(
                f"no game in progress or tipping off within the hour ({len(games)} on today's scoreboard)"
            )
        summaries = []
        for espn_id in sorted(live):
            summary, call = fetch(client, SummaryPayload, api.SUMMARY, {"event": espn_id})
            game = convert(call.endpoint, summary.game)
            lines = convert(call.endpoint, summary.stat_lines)
            call.rows = len(lines)
            summaries.append((game, lines))
        if ctx.dry_run:
            return JobResult(
                sum(len(x) for _, x in summaries),
                f"dry run: would write live box scores of {len(summaries)} games",
            )
        written = 0
        with ctx.engine.begin() as conn:
            for game, lines in summaries:
                # A game ESPN calls final stays in_progress here: ingest_player_stats makes it and its lines final.
                status = "in_progress" if game.status == "final" else None
                written += write_box_score(conn, game, lines, final=False, status=status)
    return JobResult(written, f"live box scores of {len(summaries)} games: {written} rows written")
