"""WNBA ingestion from ESPN: teams, standings, box scores, player profiles, live games.

Payloads are validated before anything is written. `ingest_player_stats` stores every scoreboard
game at once, then each game's box score in its own transaction, so one bad game never blocks
the others; the database remembers games still owed a box score (`games.box_score_status`) and
every later run retries them. `update_player_profiles` refuses a suspicious roster and keeps the
others. A job that met bad items finishes the good ones, then fails naming every bad one. Each
endpoint call leaves one `ingest_logs` row (ok, invalid or error; rows counted once committed),
written in its own transaction, also when the job fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from fantasy_jobs import settings
from fantasy_jobs.alerts import send_slack
from fantasy_jobs.db import upsert, upsert_returning
from fantasy_jobs.errors import JobSkipped
from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.client import CallRecord, EspnClient, EspnError, EspnPayloadError
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
from fantasy_jobs.jobs.scoring import score_games, shorten
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import (
    BOX_SCORE_COLUMNS,
    FantasyPoints,
    Game,
    IngestLog,
    Player,
    PlayerGameStats,
    Standing,
    StatCorrection,
    Team,
    utcnow,
)

EASTERN = ZoneInfo("America/New_York")  # ESPN files a game under the US-Eastern date of tip-off
NOT_PENDING = ("final", "postponed", "canceled")
PENDING, STORED, NO_BOX_SCORE = "pending", "stored", "no_box_score"  # games.box_score_status
CORRECTED_STATS = (*BOX_SCORE_COLUMNS, "plus_minus", "did_not_play")
SCOREBOARD_LIMIT = 200  # events per scoreboard answer: a day has a handful
FREE_AGENT = "free_agent"  # players.status of a player on no franchise roster
ESPN_FAILURES = (EspnError, EspnPayloadError)


class Failures:
    """Items (games, scoreboard days, rosters) that failed while the others went on."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Exception]] = []

    def add(self, label: str, error: Exception) -> None:
        self.items.append((label, error))

    def raise_if_any(self, done: str) -> None:
        """Fail naming every bad item. Only validation errors: permanent (no Airflow retry helps
        within minutes; the next scheduled run retries); any transport error: retryable."""
        if not self.items:
            return
        text = f"{done}; {len(self.items)} failed: " + "; ".join(
            f"[{label}] {describe(e)}" for label, e in self.items
        )
        if all(isinstance(e, EspnPayloadError) for _, e in self.items):
            raise EspnPayloadError(text)
        if all(isinstance(e, ESPN_FAILURES) for _, e in self.items):
            raise EspnError(text)
        raise RuntimeError(text)  # a database error among them: retryable


def describe(error: Exception) -> str:
    """An item's error for a log line or `ingest_logs`: ESPN's own words, or the exception's type and
    the database's message (shortened: a statement's parameters can be huge)."""
    if isinstance(error, ESPN_FAILURES):
        return str(error)
    return f"{type(error).__name__}: {shorten(str(getattr(error, 'orig', None) or error))}"


def mark_failed(calls: list[CallRecord], error: Exception) -> None:
    """Calls of an item that failed after they answered (a database error while storing them, a
    summary ESPN served for another game): `error`, 0 rows; an `invalid` status stays."""
    for call in calls:
        if call.status == "ok":
            call.status, call.error, call.rows = "error", describe(error)[:2000], 0


@contextmanager
def validating(call: CallRecord) -> Iterator[None]:
    """A validation error of this call's payload marks its `ingest_logs` row `invalid`."""
    try:
        yield
    except EspnPayloadError as exc:
        if call.status == "ok":
            call.status, call.error = "invalid", str(exc)[:2000]
        raise


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
    with validating(call):
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


class Matchup(NamedTuple):
    """Who plays whom, home and away, as the scoreboard (or the stored game) says."""

    home_id: str
    away_id: str
    label: str  # "MIN (8) @ IND (5)"

    @classmethod
    def of(cls, game: GameRow) -> Matchup:
        return cls(game.home.id, game.away.id, matchup_label(game.away, game.home))


def matchup_label(away, home) -> str:
    return f"{away.abbreviation} ({away.id}) @ {home.abbreviation} ({home.id})"


def check_same_game(endpoint: str, game: GameRow, asked: str, expected: Matchup | None) -> None:
    """A summary must describe the game asked for, with the scoreboard's teams on the scoreboard's sides:
    ESPN has served one game's summary under another's id, and home and away swapped."""
    if game.espn_id != asked:
        raise EspnPayloadError(
            f"{endpoint}: field header.id = {game.espn_id!r}: the summary of another game "
            f"({matchup_label(game.away, game.home)}), not of game {asked}"
        )
    if expected is None or (game.home.id, game.away.id) == (expected.home_id, expected.away_id):
        return
    swapped = (game.home.id, game.away.id) == (expected.away_id, expected.home_id)
    raise EspnPayloadError(
        f"{endpoint}: field header.competitions[0].competitors = {matchup_label(game.away, game.home)!r}: "
        + ("home and away swapped against" if swapped else "other teams than")
        + f" the scoreboard's {expected.label}"
    )


def read_summary(
    client: EspnClient, espn_id: str, expected: Matchup | None, *, lines_of: tuple[str, ...] = ("final",)
) -> tuple[GameRow, list[dict] | None, CallRecord]:
    """A game's summary, validated whole before anything is written: the game (cross-checked against
    `expected`) and, when its status is in `lines_of`, its stat lines (a final box score must add up
    to the score); lines are None otherwise."""
    summary, call = fetch(client, SummaryPayload, api.SUMMARY, {"event": espn_id})
    with validating(call):
        game = convert(call.endpoint, summary.game)
        check_same_game(call.endpoint, game, espn_id, expected)
        lines = convert(call.endpoint, summary.stat_lines) if game.status in lines_of else None
        if game.status == "final" and lines is not None:
            check_box_score(call.endpoint, game, lines)
    return game, lines, call


def with_matchups(*columns):
    """SELECT `columns` of games with each game's teams (ESPN ids, abbreviations), for `matchup_of`."""
    home, away = Team.__table__.alias("home"), Team.__table__.alias("away")
    return (
        select(
            *columns,
            home.c.espn_id.label("home_espn_id"),
            home.c.abbreviation.label("home_abbreviation"),
            away.c.espn_id.label("away_espn_id"),
            away.c.abbreviation.label("away_abbreviation"),
        )
        .join(home, home.c.id == Game.home_team_id)
        .join(away, away.c.id == Game.away_team_id)
    )


def matchup_of(row) -> Matchup:
    return Matchup(
        row.home_espn_id,
        row.away_espn_id,
        f"{row.away_abbreviation} ({row.away_espn_id}) @ {row.home_abbreviation} ({row.home_espn_id})",
    )


@dataclass
class BoxScoreWrite:
    """What write_box_score changed: rows written, stats corrected, lines removed."""

    game_id: int
    rows: int = 0
    corrected: int = 0
    removed: int = 0
    changed_players: list[int] = field(
        default_factory=list
    )  # lines written or removed (bounded: one box score)


def write_game(conn, game: GameRow, values: dict[str, Any] | None = None) -> tuple[int, int, dict[str, int]]:
    """Upsert one game (its teams created when unknown); returns (rows written, the game's id, team
    ids by ESPN id).

    On PostgreSQL the upsert locks the game's row, so two jobs storing the same game's box score
    (the nightly and the season audit) take turns and each compares with what the other stored."""
    team_ids = ensure_teams(conn, [game.home, game.away])
    written = upsert(conn, Game, [game_values(game, team_ids) | (values or {})], ["espn_id"])
    return written, conn.scalar(select(Game.id).where(Game.espn_id == game.espn_id)), team_ids


def write_box_score(
    conn,
    game: GameRow,
    lines: list[dict],
    *,
    final: bool,
    status: str | None = None,
    box_score_stored: bool = False,
) -> BoxScoreWrite:
    """Store one game and its box score, which replaces the game's lines: a line absent from it is
    deleted with its fantasy points. Changes to lines already final, and every removed line, go to
    `stat_corrections`. `box_score_stored` marks the game's box score stored (and forgets earlier
    failures)."""
    written, game_id, team_ids = write_game(conn, game, {"status": status} if status else None)
    if box_score_stored:  # bookkeeping, not ESPN's data: not counted as a change
        conn.execute(
            update(Game)
            .where(
                Game.id == game_id,
                or_(
                    Game.box_score_status.is_distinct_from(STORED),
                    Game.box_score_first_failed_at.is_not(None),
                    Game.box_score_error.is_not(None),
                ),
            )
            .values(box_score_status=STORED, box_score_first_failed_at=None, box_score_error=None)
        )
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
    rows = [
        {
            "game_id": game_id,
            "player_id": player_ids[line["athlete"].id],
            "team_id": team_ids[line["team"].id],
            **{k: v for k, v in line.items() if k not in ("team", "athlete")},
            "is_final": final,
        }
        for line in lines
    ]
    result = BoxScoreWrite(game_id)
    result.corrected, removed = record_line_changes(conn, game_id, rows, utcnow())
    if removed:
        # at most a box score's players: the list never grows with the data
        conn.execute(
            delete(PlayerGameStats).where(
                PlayerGameStats.game_id == game_id, PlayerGameStats.player_id.in_(removed)
            )
        )
        conn.execute(
            delete(FantasyPoints).where(
                FantasyPoints.game_id == game_id, FantasyPoints.player_id.in_(removed)
            )
        )
        result.removed = len(removed)
    written_players = upsert_returning(conn, PlayerGameStats, rows, ["game_id", "player_id"], "player_id")
    result.changed_players = sorted({*written_players, *removed})
    result.rows = written + result.removed + len(written_players)
    return result


def record_line_changes(conn, game_id: int, rows: list[dict], now: datetime) -> tuple[int, list[int]]:
    """Compare the game's stored lines with the new box score's `rows`: stats changed on lines
    already final (and lines new to a final box score) go to `stat_corrections` as `changed` and
    `added`; a stored line the new box score lacks goes there as `removed` (every stat, new value
    NULL), final or not. Returns (stats corrected, player ids of the removed lines)."""
    stored = {
        line.player_id: line
        for line in conn.execute(
            select(
                PlayerGameStats.player_id,
                PlayerGameStats.is_final,
                *(PlayerGameStats.__table__.c[c] for c in CORRECTED_STATS),
            ).where(PlayerGameStats.game_id == game_id)
        )
    }
    new_players = {row["player_id"] for row in rows}
    removed = sorted(p for p in stored if p not in new_players)
    changes = [
        {
            "game_id": game_id,
            "player_id": player_id,
            "stat": stat,
            "kind": "removed",
            "old_value": _stat_value(stored[player_id]._mapping[stat]),
            "new_value": None,
            "corrected_at": now,
        }
        for player_id in removed
        for stat in CORRECTED_STATS
    ]
    corrected = 0
    if any(
        line.is_final for line in stored.values()
    ):  # a first final box score (maybe after live lines) corrects nothing
        for row in rows:
            old = stored.get(row["player_id"])
            for stat in CORRECTED_STATS:
                new_value = _stat_value(row[stat])
                old_value = None if old is None else _stat_value(old._mapping[stat])
                if old_value != new_value and (old is not None or new_value):
                    corrected += 1
                    changes.append(
                        {
                            "game_id": game_id,
                            "player_id": row["player_id"],
                            "stat": stat,
                            "kind": "added" if old is None else "changed",
                            "old_value": old_value,
                            "new_value": new_value,
                            "corrected_at": now,
                        }
                    )
    if changes:
        conn.execute(insert(StatCorrection), changes)
    return corrected, removed


def _stat_value(value) -> int | None:
    return None if value is None else int(value)


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
            with validating(teams_call):
                raise EspnPayloadError(f"{teams_call.endpoint}: no franchise among {len(teams)} teams")
        standings, standings_call = fetch(client, StandingsPayload, api.STANDINGS, {"season": season})
        with validating(standings_call):
            conference = {
                row["team"].id: row["conference"]
                for row in convert(standings_call.endpoint, standings.rows, season)
            }
        with ctx.engine.connect() as conn:
            known = dict(conn.execute(select(Team.espn_id, Team.conference)).all())
        rows = [t.row() | {"conference": conference.get(t.id) or known.get(t.id)} for t in franchises]
        if skipped:
            ctx.log.info("not franchises, left out: %s", ", ".join(skipped))
        if ctx.dry_run:
            return JobResult(len(rows), f"dry run: would upsert {len(rows)} franchises", {"skipped": skipped})
        with ctx.engine.begin() as conn:
            written = upsert(conn, Team, rows, ["espn_id"])
        teams_call.rows, standings_call.rows = len(rows), len(conference)  # counted once committed
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
        with validating(call):
            window = convert(call.endpoint, standings.season_window, season)
        window = window or season_window_from_games(ctx.engine, season)
        if window is None:
            raise JobSkipped(
                f"no {season} season calendar from ESPN and no {season} games known: nothing to update"
            )
        start, end = window
        if not start <= ctx.now <= end:
            raise JobSkipped(
                f"outside the {season} season ({start:%Y-%m-%d} to {end:%Y-%m-%d}, regular season and playoffs)"
            )
        with validating(call):
            rows = convert(call.endpoint, standings.rows, season)
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
        call.rows = len(rows)
    return JobResult(written, f"standings of {len(rows)} teams for {season}, {written} new or changed")


# --- ingest_player_stats --------------------------------------------------------------------


def scoreboard_dates(now: datetime, days_back: int) -> list[date]:
    """The US-Eastern dates from `days_back` days ago through today."""
    today = now.astimezone(EASTERN).date()
    return [today - timedelta(days=d) for d in range(days_back, -1, -1)]


def read_scoreboards(
    ctx: JobContext, client: EspnClient, days: list, failures: Failures, limit: int = SCOREBOARD_LIMIT
) -> dict[str, GameRow]:
    """The franchise games of each scoreboard (one day, or a range of days `YYYYMMDD-YYYYMMDD`); a
    scoreboard that fails is named in `failures` and the others go on. The caller sets each call's
    rows (its games) once they are committed: `count_board_rows`."""
    found: dict[str, GameRow] = {}
    for day in days:
        dates = day if isinstance(day, str) else f"{day:%Y%m%d}"
        try:
            board, call = fetch(client, ScoreboardPayload, api.SCOREBOARD, {"dates": dates, "limit": limit})
            with validating(call):
                games = convert(call.endpoint, board.games)
        except ESPN_FAILURES as exc:
            failures.add(f"scoreboard {dates}", exc)
            continue
        call.read = len(games)
        for game in games:
            if game.is_franchise_game:
                found[game.espn_id] = game
            else:
                ctx.log.info(
                    "game %s (%s @ %s) is not between franchises; left out",
                    game.espn_id,
                    game.away.abbreviation,
                    game.home.abbreviation,
                )
    return found


def count_board_rows(calls: list[CallRecord]) -> None:
    """Scoreboard calls' rows: their games, once stored."""
    for call in calls:
        call.rows = call.read or call.rows


@dataclass
class OwedGame:
    """A game whose summary a run reads, and why: `final` (ESPN called it final, not stored final
    yet), `late` (stored scheduled or in progress long after tip-off) or `correction` (stored final,
    recent enough for ESPN's stat corrections)."""

    espn_id: str
    reason: str
    start_time: datetime
    matchup: Matchup


def not_final_problem(owed: OwedGame, game: GameRow, now: datetime, owed_before: datetime) -> str | None:
    """Why a summary that is not final does not settle the game it was read for (None: it does:
    the game was postponed, canceled or rescheduled, and its new state is stored)."""
    field = f"field header.competitions[0].status = {game.status!r}"
    if owed.reason == "final":
        return f"{field}: the scoreboard calls the game final"
    if owed.reason == "correction":
        return f"{field}: the game is stored final (its stored box score stands)"
    if game.status in ("postponed", "canceled") or (
        game.status == "scheduled" and game.start_time > owed_before
    ):
        return None
    hours = (now - game.start_time).total_seconds() / 3600
    return f"{field}: not final {hours:.0f} h after tip-off ({game.start_time:%Y-%m-%d %H:%M} UTC)"


def ingest_player_stats(ctx: JobContext) -> JobResult:
    """Every scoreboard game of the window with its status, then one transaction per box score.

    Box scores read (`OwedGame`): games final at ESPN not yet stored final (from any date: the
    database remembers them as `box_score_status='pending'`), games stored scheduled or in progress
    more than `box_score_owed_hours` after tip-off (whatever the scoreboard says, or omits), and
    games that tipped off within `stat_correction_days` (ESPN corrects stats for a day or two).
    Anything that goes wrong with one game (ESPN, its payload, the database) is that game's failure:
    counted on the game toward giving up, named when the job fails at the end, never a stop for the
    other games.
    """
    dates = scoreboard_dates(ctx.now, settings.get("ingest_days_back"))
    correction_since = ctx.now - timedelta(days=settings.get("stat_correction_days"))
    owed_before = ctx.now - timedelta(hours=settings.get("box_score_owed_hours"))
    give_up_after = timedelta(days=settings.get("box_score_give_up_days"))
    failures = Failures()
    with espn_session(ctx) as client:
        scheduled = read_scoreboards(ctx, client, dates, failures)
        with ctx.engine.connect() as conn:
            status_in_db = dict(
                conn.execute(select(Game.espn_id, Game.status).where(Game.espn_id.in_(list(scheduled)))).all()
            )
        written = 0 if ctx.dry_run else store_scoreboard_games(ctx.engine, scheduled.values(), status_in_db)
        count_board_rows(client.calls)
        wanted = {g.espn_id: g for g in box_scores_owed(ctx.engine, owed_before, correction_since, ctx.now)}
        for espn_id, game in scheduled.items():  # in a dry run nothing was stored pending
            if game.status == "final" and status_in_db.get(espn_id) != "final" and espn_id not in wanted:
                wanted[espn_id] = OwedGame(espn_id, "final", game.start_time, Matchup.of(game))
        reasons = [g.reason for g in wanted.values()]
        ctx.log.info(
            "%d scoreboard games in %s..%s; %d box scores to read (%d final at ESPN, %d late, %d for stat corrections)",
            len(scheduled),
            dates[0],
            dates[-1],
            len(wanted),
            reasons.count("final"),
            reasons.count("late"),
            reasons.count("correction"),
        )
        finals = lines_total = corrected = removed = read = 0
        given_up: list[str] = []
        for number, owed in enumerate(sorted(wanted.values(), key=lambda g: g.start_time), 1):
            espn_id = owed.espn_id
            expected = Matchup.of(scheduled[espn_id]) if espn_id in scheduled else owed.matchup
            first_call = len(client.calls)
            try:
                game, lines, call = read_summary(client, espn_id, expected)
                if lines is None:
                    with validating(call):
                        problem = not_final_problem(owed, game, ctx.now, owed_before)
                        if problem:
                            raise EspnPayloadError(f"{call.endpoint}: {problem}")
                    read += 1
                    ctx.log.info(
                        "box score %d/%d: game %s is %s at ESPN (tip-off %s UTC); stored as such",
                        number,
                        len(wanted),
                        espn_id,
                        game.status,
                        f"{game.start_time:%Y-%m-%d %H:%M}",
                    )
                    if not ctx.dry_run:
                        with ctx.engine.begin() as conn:
                            call.rows = write_game(conn, game)[0]
                        written += call.rows
                    continue
                read += 1
                finals += 1
                lines_total += len(lines)
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
                if ctx.dry_run:
                    continue
                with ctx.engine.begin() as conn:
                    stored = write_box_score(conn, game, lines, final=True, box_score_stored=True)
                call.rows = stored.rows  # counted once committed
                written += stored.rows
                corrected += stored.corrected
                removed += stored.removed
                if stored.corrected or stored.removed:
                    ctx.log.warning(
                        "game %s: %d stats corrected, %d lines removed by ESPN (see stat_corrections)",
                        espn_id,
                        stored.corrected,
                        stored.removed,
                    )
            except Exception as exc:  # this game's failure, whatever it is: the others go on
                mark_failed(client.calls[first_call:], exc)
                if owed.reason == "correction":  # the stored final box score stands; read again next run
                    ctx.log.warning("stat-correction read of game %s failed: %s", espn_id, describe(exc))
                elif not ctx.dry_run and record_failure(ctx, espn_id, exc, give_up_after):
                    given_up.append(espn_id)  # alerted once on Slack; no longer a failure
                else:
                    ctx.log.error("game %s failed: %s", espn_id, describe(exc))
                    failures.add(f"game {espn_id}", exc)
        if ctx.dry_run:
            failures.raise_if_any(f"dry run: {read} of {len(wanted)} box scores usable")
            return JobResult(
                lines_total, f"dry run: would mark {finals} games final with {lines_total} stat lines"
            )
    summary = (
        f"{finals} games final, {len(scheduled)} scoreboard games, {corrected} stats corrected, "
        f"{removed} lines removed, {written} rows written"
        + (f", box score given up for {', '.join(given_up)}" if given_up else "")
    )
    failures.raise_if_any(summary)
    return JobResult(
        written,
        summary,
        {
            "dates": [d.isoformat() for d in dates],
            "box_scores": read,
            "stat_corrections": corrected,
            "lines_removed": removed,
            "given_up": given_up,
        },
    )


def store_scoreboard_games(engine, games, status_in_db: dict[str, str]) -> int:
    """Every scoreboard game at once, with its status. A game final at ESPN whose box score is not
    stored yet stays `in_progress` with `box_score_status='pending'` (final comes with the box
    score); a game already final in the database keeps its final state and scores."""
    games = [g for g in games if status_in_db.get(g.espn_id) != "final"]
    if not games:
        return 0
    with engine.begin() as conn:
        team_ids = ensure_teams(conn, [t for g in games for t in (g.home, g.away)])
        rows = [
            game_values(g, team_ids)
            | ({"status": "in_progress", "box_score_status": PENDING} if g.status == "final" else {})
            for g in games
        ]
        pending = [r for r in rows if r.get("box_score_status")]
        others = [r for r in rows if not r.get("box_score_status")]
        return upsert(conn, Game, pending, ["espn_id"]) + upsert(conn, Game, others, ["espn_id"])


def box_scores_owed(
    engine, owed_before: datetime, correction_since: datetime, now: datetime
) -> list[OwedGame]:
    """Games owed a box score (`final`: pending; `late`: stored scheduled or in progress, tip-off
    before `owed_before`, never given up) and final games recent enough for stat corrections."""
    late = Game.status.in_(("scheduled", "in_progress")) & (Game.start_time < owed_before)
    recent = (
        (Game.status == "final")
        & or_(Game.box_score_status.is_(None), Game.box_score_status == STORED)
        & (Game.start_time >= correction_since)
        & (Game.start_time <= now)
    )
    with engine.connect() as conn:
        rows = conn.execute(
            with_matchups(Game.espn_id, Game.status, Game.box_score_status, Game.start_time)
            .where((Game.box_score_status == PENDING) | (late & Game.box_score_status.is_(None)) | recent)
            .order_by(Game.start_time)
        ).all()
    return [
        OwedGame(
            r.espn_id,
            "final" if r.box_score_status == PENDING else "correction" if r.status == "final" else "late",
            r.start_time,
            matchup_of(r),
        )
        for r in rows
    ]


def record_failure(ctx: JobContext, espn_id: str, error: Exception, give_up_after: timedelta) -> bool:
    """Count a failed box-score read on the game; True when it was given up just now.

    A game still failing `box_score_give_up_days` after its first failure is marked
    `no_box_score` (final with the scoreboard's score, when ESPN called it final) with one Slack
    message, and is not read again."""
    now = ctx.now
    with ctx.engine.begin() as conn:
        game = conn.execute(
            select(
                Game.id,
                Game.status,
                Game.box_score_status,
                Game.box_score_attempts,
                Game.box_score_first_failed_at,
                Game.start_time,
                Game.home_score,
                Game.away_score,
            ).where(Game.espn_id == espn_id)
        ).first()
        if game is None:
            return False
        first = game.box_score_first_failed_at or now
        values: dict[str, Any] = {
            "box_score_attempts": Game.box_score_attempts + 1,
            "box_score_first_failed_at": first,
            "box_score_error": str(error)[:2000],
        }
        give_up = now - first >= give_up_after
        if give_up:
            values["box_score_status"] = NO_BOX_SCORE
            if game.box_score_status == PENDING:
                values["status"] = "final"
        conn.execute(update(Game).where(Game.id == game.id).values(**values))
    if give_up:
        ctx.log.warning("game %s: no usable box score since %s; given up", espn_id, first)
        send_slack(
            f":warning: *{ctx.job.id}*: gave up on the box score of game `{espn_id}` "
            f"(tip-off {game.start_time:%Y-%m-%d %H:%M} UTC) after {game.box_score_attempts + 1} failed reads "
            f"since {first:%Y-%m-%d %H:%M} UTC. It is marked `no_box_score`"
            + (
                f" and counts as final with the scoreboard's score {game.away_score}-{game.home_score}"
                if game.box_score_status == PENDING
                else ""
            )
            + "; its players get no stat lines from it. Set `games.box_score_status` back to "
            f"`pending` to try again.\n*Last error:* {str(error)[:1000]}"
        )
    return give_up


# --- update_player_profiles -----------------------------------------------------------------


def update_player_profiles(ctx: JobContext) -> JobResult:
    """Every franchise roster: bio, team, injury. A roster of another team, or an empty roster for a
    team that has players, is refused (its players stay as they are); the others land. Players on
    no roster get team cleared, status `free_agent` and no injury."""
    with ctx.engine.connect() as conn:
        teams = conn.execute(
            select(Team.espn_id, Team.id, Team.abbreviation).where(Team.is_active).order_by(Team.id)
        ).all()
        players_on = dict(
            conn.execute(
                select(Player.team_id, func.count())
                .where(Player.team_id.is_not(None))
                .group_by(Player.team_id)
            ).all()
        )
    if not teams:
        raise JobSkipped("no teams in the database yet: ingest_teams fills them")
    failures = Failures()
    rows: dict[str, dict] = {}
    landed: dict[int, tuple[CallRecord, list[str]]] = {}
    with espn_session(ctx) as client:
        for number, team in enumerate(teams, 1):
            label = f"{team.abbreviation} ({team.espn_id})"
            try:
                roster, call = fetch(client, RosterPayload, api.ROSTER.format(team_id=team.espn_id))
                with validating(call):
                    if roster.team.id != team.espn_id:
                        raise EspnPayloadError(
                            f"{call.endpoint}: roster of team {roster.team.abbreviation} ({roster.team.id}) "
                            f"served for {label}; refused, no player changed"
                        )
                    players = convert(call.endpoint, roster.player_rows)
                    if not players and players_on.get(team.id):
                        raise EspnPayloadError(
                            f"{call.endpoint}: empty roster for {label}, which has {players_on[team.id]} "
                            "players; refused, no player changed"
                        )
            except ESPN_FAILURES as exc:
                failures.add(f"roster of {label}", exc)
                continue
            for player in players:
                rows[player["espn_id"]] = player | {"team_id": team.id}
            landed[team.id] = (call, [p["espn_id"] for p in players])
            ctx.log.info("roster %d/%d: %s, %d players", number, len(teams), team.abbreviation, len(players))
        if ctx.dry_run:
            failures.raise_if_any(f"dry run: {len(landed)} of {len(teams)} rosters usable")
            return JobResult(
                len(rows), f"dry run: would update {len(rows)} player profiles from {len(teams)} rosters"
            )
        now = utcnow()
        released = 0
        with ctx.engine.begin() as conn:
            written = upsert(conn, Player, list(rows.values()), ["espn_id"], touch="profile_updated_at")
            for team_id, (_, espn_ids) in landed.items():  # one roster's ids per statement
                released += conn.execute(
                    update(Player)
                    .where(Player.team_id == team_id, Player.espn_id.not_in(espn_ids))
                    .values(team_id=None, status=FREE_AGENT, injury_status=None, profile_updated_at=now)
                ).rowcount
            # players already on no roster (released before this rule) get the same state
            released += conn.execute(
                update(Player)
                .where(
                    Player.team_id.is_(None),
                    or_(
                        Player.status.is_(None),
                        Player.status != FREE_AGENT,
                        Player.injury_status.is_not(None),
                    ),
                )
                .values(status=FREE_AGENT, injury_status=None, profile_updated_at=now)
            ).rowcount
        for call, espn_ids in landed.values():
            call.rows = len(espn_ids)  # counted once committed
    summary = (
        f"{len(rows)} players on {len(landed)} of {len(teams)} rosters: {written} new or changed, "
        f"{released} no longer on a roster"
    )
    failures.raise_if_any(summary)
    return JobResult(written + released, summary)


# --- live_game_check ------------------------------------------------------------------------


def live_games_now(ctx: JobContext, client: EspnClient) -> tuple[dict[str, Matchup | None], int]:
    """The games live now or tipping off within the hour (today's scoreboard, and the database's
    in-progress games and games due to have started in the last 4 h), each with the matchup its
    summary must show; games final in the database are ingest_player_stats' business. Also returns
    how many games today's scoreboard lists."""
    now = ctx.now
    with ctx.engine.connect() as conn:
        from_db = {
            row.espn_id: matchup_of(row)
            for row in conn.execute(
                with_matchups(Game.espn_id).where(
                    (Game.status == "in_progress")
                    | (
                        (Game.status == "scheduled")
                        & Game.start_time.between(now - timedelta(hours=4), now + timedelta(hours=1))
                    )
                )
            )
        }
        # final at ESPN already (box score pending or given up): ingest_player_stats' business
        final_in_db = set(
            conn.execute(
                select(Game.espn_id).where((Game.status == "final") | Game.box_score_status.is_not(None))
            ).scalars()
        )
    board, call = fetch(
        client,
        ScoreboardPayload,
        api.SCOREBOARD,
        {"dates": f"{now.astimezone(EASTERN):%Y%m%d}", "limit": SCOREBOARD_LIMIT},
    )
    with validating(call):
        games = {g.espn_id: g for g in convert(call.endpoint, board.games)}
    call.rows = len(games)  # nothing of the scoreboard itself is written
    live = {
        g.espn_id
        for g in games.values()
        if g.is_franchise_game
        and (
            g.status == "in_progress"
            or (g.status == "scheduled" and now <= g.start_time <= now + timedelta(hours=1))
        )
    }
    off = {g.espn_id for g in games.values() if g.status in ("postponed", "canceled")}
    live = (live | (set(from_db) - off)) - final_in_db
    return {
        espn_id: Matchup.of(games[espn_id]) if espn_id in games else from_db.get(espn_id)
        for espn_id in sorted(live)
    }, len(games)


def live_game_check(ctx: JobContext) -> JobResult:
    """While a game is live or tips off within the hour: its live box score, not final, then the
    provisional fantasy points of those lines and the team week totals they change (scoring.score_games).
    Each game is read and stored on its own: one bad summary never holds back the other games."""
    failures = Failures()
    with espn_session(ctx) as client:
        live, on_board = live_games_now(ctx, client)
        if not live:
            raise JobSkipped(
                f"no game in progress or tipping off within the hour ({on_board} on today's scoreboard)"
            )
        game_ids: list[int] = []
        with_lines: list[str] = []
        lines_read = written = 0
        for espn_id, expected in live.items():
            first_call = len(client.calls)
            try:
                game, lines, call = read_summary(client, espn_id, expected, lines_of=("final", "in_progress"))
                lines_read += len(lines or [])
                if ctx.dry_run:
                    continue
                with ctx.engine.begin() as conn:
                    if lines is None:  # not under way: its state only
                        call.rows = write_game(conn, game)[0]
                    else:
                        # A game ESPN calls final stays in_progress here: ingest_player_stats makes it and its lines final.
                        status = "in_progress" if game.status == "final" else None
                        stored = write_box_score(conn, game, lines, final=False, status=status)
                        call.rows = stored.rows
                        game_ids.append(stored.game_id)
                        with_lines += [espn_id] if lines else []
                written += call.rows
            except Exception as exc:  # this game's failure: the other games go on
                mark_failed(client.calls[first_call:], exc)
                ctx.log.error("live game %s failed: %s", espn_id, describe(exc))
                failures.add(f"game {espn_id}", exc)
        if ctx.dry_run:
            failures.raise_if_any(
                f"dry run: {len(live) - len(failures.items)} of {len(live)} live box scores usable"
            )
            return JobResult(lines_read, f"dry run: would write live box scores of {len(live)} games")
    # The box scores are committed (and logged) first: a failure while scoring them loses no stat
    # line, and the points are derived data the next run or the nightly chain recomputes.
    summary = f"live box scores of {len(game_ids)} games: {written} rows written"
    try:
        scored = score_games(ctx, game_ids)
    except SQLAlchemyError as exc:
        raise RuntimeError(
            f"{summary}; scoring them failed (the box scores are kept): {shorten(str(getattr(exc, 'orig', exc)))}"
        ) from exc
    summary += f"; {scored.points} fantasy_points rows and {scored.team_weeks} team weeks written"
    details = {
        "games": with_lines,
        "box_score_rows": written,
        "fantasy_points_rows": scored.points,
        "team_week_rows": scored.team_weeks,
        "profiles": scored.profiles,
        "skipped_leagues": scored.skipped_leagues,
    }
    if scored.failed_profiles:
        raise RuntimeError(
            f"{summary}; {len(scored.failed_profiles)} profile(s) failed: "
            + "; ".join(scored.failed_profiles)
        )
    failures.raise_if_any(summary)
    return JobResult(written + scored.points + scored.team_weeks, summary, details)
