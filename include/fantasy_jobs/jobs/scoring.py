"""calculate_fantasy_scores and calculate_bonuses: points per scoring profile, team week totals, bonuses.

Set-based: fantasy points are computed once per scoring profile for every stat line of the
season (INSERT ... SELECT ... ON CONFLICT), then team totals are one grouped INSERT ... SELECT
over roster slots. The cost grows with profiles x stat lines plus roster slots, not with
leagues x stat lines. Rows are rewritten only when a value changed, so a re-run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.exc import DBAPIError

from fantasy_jobs import scoring, settings
from fantasy_jobs.alerts import send_slack
from fantasy_jobs.db import analyze, create_temp_table, upsert, use_job_work_mem
from fantasy_jobs.runtime import JobContext, JobResult, last_completed_start
from fantasy_jobs.schema import (
    WRITING_BONUSES,
    Game,
    League,
    LeagueProfile,
    ScoringProfile,
    UtcDateTime,
    utcnow,
)
from fantasy_jobs.timeutil import fantasy_week, previous_week, week_start

SCORED_STATUSES = ("active", "completed")
STARTING = ", ".join(f"'{slot}'" for slot in scoring.STARTING_SLOTS)


def differs(dialect: str, left: str, right: str) -> str:
    """`left IS DISTINCT FROM right` in the dialect's words."""
    return f"{left} IS DISTINCT FROM {right}" if dialect == "postgresql" else f"{left} IS NOT {right}"


RULES_TABLE = "tmp_league_rules"
"""A temporary table of the leagues a run scores (league_id, season, weights_hash, bonus points):
the statements join it, so no bind-parameter list grows with the number of leagues."""
LEAGUE_PAGE = 5000


@dataclass
class LeagueRules:
    """What load_league_rules found: the profiles in use, how many leagues, the skipped ones."""

    profiles: dict[str, dict[str, float]]  # weights_hash -> weights
    leagues: int
    problems: list[str]


def load_league_rules(
    ctx: JobContext, conn, statuses: tuple[str, ...], *, changed_only: bool = False, only: str | None = None
) -> LeagueRules:
    """Each league's weights and bonus rules into RULES_TABLE on `conn`, a page of leagues at a time;
    a league with bad settings is reported (named, with the key), not fatal, left out and unlinked
    from its profile (so no later run totals it either).

    `changed_only`: only the leagues CHANGES_TABLE names are read and hashed in Python; the other
    leagues of `statuses` come from their stored profile link, set-based (their bonus columns are 0:
    scoring does not use them). `only`: a SELECT of the league ids to read (no others)."""
    create_temp_table(
        conn,
        RULES_TABLE,
        "league_id BIGINT PRIMARY KEY, season INTEGER NOT NULL, weights_hash VARCHAR(64) NOT NULL, "
        "weekly_high_score DOUBLE PRECISION NOT NULL, all_starters_played DOUBLE PRECISION NOT NULL",
    )
    insert_rule = text(
        f"INSERT INTO {RULES_TABLE} (league_id, season, weights_hash, weekly_high_score, all_starters_played) "
        "VALUES (:league_id, :season, :weights_hash, :weekly_high_score, :all_starters_played)"
    )
    changed = text(f"SELECT ref_id FROM {CHANGES_TABLE} WHERE kind = 'league'")
    page = (
        select(League.id, League.name, League.season, League.scoring_settings)
        .where(League.status.in_(statuses), League.id > bindparam("after"))
        .order_by(League.id)
        .limit(LEAGUE_PAGE)
    )
    if changed_only:
        page = page.where(League.id.in_(changed))
    if only is not None:
        page = page.where(League.id.in_(text(only)))
    found = LeagueRules({}, 0, [])
    after = 0
    while leagues := conn.execute(page, {"after": after}).all():
        after = leagues[-1].id
        rows, bad = [], []
        for league in leagues:
            label = f"league {league.id} ({league.name})"
            try:
                weights = scoring.league_weights(league.scoring_settings, label)
                bonuses = scoring.league_bonuses(league.scoring_settings, label)
            except scoring.ScoringSettingsError as exc:
                found.problems.append(str(exc))
                bad.append(league.id)
                ctx.log.error("%s is not scored: %s", label, exc)
                continue
            key = scoring.weights_hash(weights)
            found.profiles.setdefault(key, weights)
            rows.append({"league_id": league.id, "season": league.season, "weights_hash": key, **bonuses})
        if rows:
            conn.execute(insert_rule, rows)
            found.leagues += len(rows)
        if bad:  # at most a page of ids
            conn.execute(delete(LeagueProfile).where(LeagueProfile.league_id.in_(bad)))
    if changed_only:
        found.leagues += conn.execute(
            text(f"""
                INSERT INTO {RULES_TABLE} (league_id, season, weights_hash, weekly_high_score, all_starters_played)
                SELECT l.id, l.season, p.weights_hash, 0, 0
                FROM leagues l JOIN league_profiles lp ON lp.league_id = l.id JOIN scoring_profiles p ON p.id = lp.profile_id
                WHERE l.status IN ({", ".join(f"'{s}'" for s in statuses)}) AND l.id NOT IN ({changed})
            """)
        ).rowcount
        for key, weights in conn.execute(
            select(ScoringProfile.weights_hash, ScoringProfile.weights).where(
                ScoringProfile.weights_hash.in_(text(f"SELECT DISTINCT weights_hash FROM {RULES_TABLE}"))
            )
        ):
            found.profiles.setdefault(key, {stat: float(w) for stat, w in weights.items()})
    analyze(conn, RULES_TABLE)
    return found


def shorten(message: str, keep: int = 120) -> str:
    """A database error for a log line or Slack: its start and its end (the values can be huge)."""
    message = " ".join(message.split())
    return message if len(message) <= 2 * keep else f"{message[:keep]} ... {message[-keep:]}"


def report_problems(ctx: JobContext, problems: list[str]) -> None:
    if problems and not ctx.dry_run:
        send_slack(
            f":warning: *{ctx.job.id}*: {len(problems)} league(s) skipped for bad scoring settings:\n"
            + "\n".join(f"- {p}" for p in problems)
        )


def assign_fantasy_weeks(conn) -> int:
    """games.fantasy_week from each tip-off in league time, for the seasons scored (a few hundred games a season)."""
    seasons = select(text("season")).select_from(text(RULES_TABLE)).distinct()
    games = conn.execute(
        select(Game.id, Game.start_time, Game.fantasy_week).where(Game.season.in_(seasons.scalar_subquery()))
    ).all()
    changes = [
        {"gid": g.id, "week": week} for g in games if (week := fantasy_week(g.start_time)) != g.fantasy_week
    ]
    if changes:
        conn.execute(
            update(Game).where(Game.id == bindparam("gid")).values(fantasy_week=bindparam("week")),
            changes,
        )
    return len(changes)


# --- what a run scores: every line (full), the queued changes, or a few live games ----------

CHANGES_TABLE = "tmp_scoring_changes"
"""The `scoring_changes` rows this run read (copied first: rows committed while it runs wait for the next run)."""
CHANGED_LINES = "tmp_changed_lines"
"""(game_id, player_id) whose points this run rewrites (or deletes, when the line is gone)."""
CHANGED_TEAM_WEEKS = "tmp_changed_team_weeks"
"""(fantasy_team_id, week) whose totals this run recomputes: rewritten, or removed when nothing is left."""
NEW_PROFILE_SEASONS = "tmp_new_profile_seasons"
"""(weights_hash, season) of leagues newly linked or changed: every line of that season is scored for it."""
PROFILE_SEASONS = "tmp_profile_seasons"
"""The (profile, season) pairs of RULES_TABLE: what each profile's scoring statement reads."""
SCORED_GAMES_TABLE = "tmp_scored_games"
"""The games a live run scores (game_id: the few live games, not data-sized)."""

SEASON_WEEKS = "SELECT DISTINCT season, fantasy_week AS week FROM games WHERE fantasy_week IS NOT NULL"


def _insert_ignore(conn, table: str, select_sql: str, params: dict | None = None) -> int:
    """INSERT the rows of `select_sql` into `table`, skipping keys already there (both dialects)."""
    return conn.execute(
        text(f"INSERT INTO {table} {select_sql} ON CONFLICT DO NOTHING"), params or {}
    ).rowcount


def take_changes(conn) -> int:
    """The queued changes, copied into CHANGES_TABLE; returns how many."""
    create_temp_table(
        conn,
        CHANGES_TABLE,
        "id BIGINT PRIMARY KEY, kind VARCHAR(8) NOT NULL, ref_id BIGINT NOT NULL, player_id BIGINT",
    )
    taken = conn.execute(
        text(
            f"INSERT INTO {CHANGES_TABLE} (id, kind, ref_id, player_id) SELECT id, kind, ref_id, player_id FROM scoring_changes"
        )
    ).rowcount
    analyze(conn, CHANGES_TABLE)
    return taken


def forget_changes(conn) -> None:
    """Delete exactly the changes this run read, in its transaction: done together or not at all."""
    conn.execute(text(f"DELETE FROM scoring_changes WHERE id IN (SELECT id FROM {CHANGES_TABLE})"))


def create_work_tables(conn) -> None:
    create_temp_table(
        conn,
        CHANGED_LINES,
        "game_id BIGINT NOT NULL, player_id BIGINT NOT NULL, PRIMARY KEY (game_id, player_id)",
    )
    create_temp_table(
        conn,
        CHANGED_TEAM_WEEKS,
        "fantasy_team_id BIGINT NOT NULL, week INTEGER NOT NULL, PRIMARY KEY (fantasy_team_id, week)",
    )


def collect_changed_lines(conn) -> int:
    """CHANGED_LINES from the queue: lines written or deleted, and every line of a game whose tip-off moved."""
    _insert_ignore(
        conn,
        CHANGED_LINES,
        f"SELECT DISTINCT ref_id, player_id FROM {CHANGES_TABLE} WHERE kind = 'line' AND player_id IS NOT NULL",
    )
    _insert_ignore(
        conn,
        CHANGED_LINES,
        f"SELECT s.game_id, s.player_id FROM player_game_stats s WHERE s.game_id IN (SELECT ref_id FROM {CHANGES_TABLE} WHERE kind = 'game')",
    )
    analyze(conn, CHANGED_LINES)
    return conn.scalar(text(f"SELECT COUNT(*) FROM {CHANGED_LINES}"))


def collect_line_team_weeks(conn) -> None:
    """The team weeks a changed line can move: its old week (the stored points') and its game's week,
    for every team that ever rostered the player (whole weeks are summed again, so each stays exact)."""
    player_weeks = f"""
        SELECT c.player_id, fp.week FROM {CHANGED_LINES} c
        JOIN fantasy_points fp ON fp.game_id = c.game_id AND fp.player_id = c.player_id
        UNION
        SELECT c.player_id, g.fantasy_week FROM {CHANGED_LINES} c JOIN games g ON g.id = c.game_id
        WHERE g.fantasy_week IS NOT NULL"""
    _insert_ignore(
        conn,
        CHANGED_TEAM_WEEKS,
        f"SELECT DISTINCT rs.fantasy_team_id, pw.week FROM ({player_weeks}) pw JOIN roster_slots rs ON rs.player_id = pw.player_id",
    )


def collect_starter_team_weeks(conn) -> None:
    """For a live tick (no tip-off moved): the team weeks a changed line can move are those of the
    teams that started the player at the game's tip-off (STARTER_POINTS counts no one else), in the
    game's week and in the stored points' week. Half the teams `collect_line_team_weeks` names at
    100,000 leagues (every team that ever rostered the player), so half the totals to sum again."""
    weeks = f"""
        SELECT c.game_id, c.player_id, fp.week FROM {CHANGED_LINES} c
        JOIN fantasy_points fp ON fp.game_id = c.game_id AND fp.player_id = c.player_id
        UNION
        SELECT c.game_id, c.player_id, g.fantasy_week FROM {CHANGED_LINES} c JOIN games g ON g.id = c.game_id
        WHERE g.fantasy_week IS NOT NULL"""
    _insert_ignore(
        conn,
        CHANGED_TEAM_WEEKS,
        f"""SELECT DISTINCT rs.fantasy_team_id, w.week FROM ({weeks}) w
            JOIN games g ON g.id = w.game_id
            JOIN roster_slots rs ON rs.player_id = w.player_id AND rs.slot IN ({STARTING})
             AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)""",
    )


def collect_roster_team_weeks(conn) -> None:
    """Every week of the season for a team whose roster changed, and for every team of a league whose
    settings, status or season changed, plus the weeks those teams hold totals for (a week whose
    games all moved away has no games left, but its total must go)."""
    teams = f"""
        SELECT ref_id AS team_id FROM {CHANGES_TABLE} WHERE kind = 'team'
        UNION SELECT ft.id FROM fantasy_teams ft WHERE ft.league_id IN (SELECT ref_id FROM {CHANGES_TABLE} WHERE kind = 'league')"""
    _insert_ignore(
        conn,
        CHANGED_TEAM_WEEKS,
        f"""SELECT DISTINCT t.team_id, w.week FROM ({teams}) t
            JOIN fantasy_teams ft ON ft.id = t.team_id JOIN leagues l ON l.id = ft.league_id
            JOIN ({SEASON_WEEKS}) w ON w.season = l.season
            UNION
            SELECT tws.fantasy_team_id, tws.week FROM team_week_scores tws WHERE tws.fantasy_team_id IN ({teams})""",
    )


def collect_listed_games(conn, game_ids: list[int]) -> None:
    """CHANGED_LINES and their team weeks for a few live games: their lines, and the lines they lost."""
    create_temp_table(conn, SCORED_GAMES_TABLE, "game_id BIGINT PRIMARY KEY")
    conn.execute(
        text(f"INSERT INTO {SCORED_GAMES_TABLE} (game_id) VALUES (:game_id)"),
        [{"game_id": g} for g in sorted(set(game_ids))],
    )
    listed = f"IN (SELECT game_id FROM {SCORED_GAMES_TABLE})"
    _insert_ignore(
        conn, CHANGED_LINES, f"SELECT game_id, player_id FROM player_game_stats WHERE game_id {listed}"
    )
    _insert_ignore(
        conn,
        CHANGED_LINES,
        f"SELECT DISTINCT game_id, player_id FROM stat_corrections WHERE kind = 'removed' AND game_id {listed}",
    )
    analyze(conn, SCORED_GAMES_TABLE, CHANGED_LINES)


def score_profile(
    conn, profile_id: int, key: str, weights: dict[str, float], now, *, scope: str = "all"
) -> int:
    """Fantasy points under one profile of every stat line of the seasons its leagues play (`scope`
    "all"), or only of CHANGED_LINES and of NEW_PROFILE_SEASONS ("changed"); returns rows written."""
    dialect = conn.dialect.name
    only = ""
    if scope == "changed":
        only = f"""AND ((s.game_id, s.player_id) IN (SELECT game_id, player_id FROM {CHANGED_LINES})
                   OR g.season IN (SELECT season FROM {NEW_PROFILE_SEASONS} WHERE weights_hash = :key))"""
    statement = text(f"""
        INSERT INTO fantasy_points (profile_id, player_id, game_id, week, points, is_final, updated_at)
        SELECT :profile_id, s.player_id, s.game_id, g.fantasy_week, {scoring.points_sql(weights, "s")}, s.is_final, :now
        FROM player_game_stats s JOIN games g ON g.id = s.game_id
        WHERE g.season IN (SELECT season FROM {PROFILE_SEASONS} WHERE weights_hash = :key) AND g.fantasy_week IS NOT NULL
          {only}
        ON CONFLICT (profile_id, player_id, game_id) DO UPDATE
        SET points = excluded.points, week = excluded.week, is_final = excluded.is_final, updated_at = excluded.updated_at
        WHERE {differs(dialect, "fantasy_points.points", "excluded.points")}
           OR {differs(dialect, "fantasy_points.week", "excluded.week")}
           OR {differs(dialect, "fantasy_points.is_final", "excluded.is_final")}
    """).bindparams(bindparam("now", type_=UtcDateTime()))
    return conn.execute(statement, {"profile_id": profile_id, "key": key, "now": now}).rowcount


def delete_points_of_gone_lines(conn) -> int:
    """Points of CHANGED_LINES whose line no longer exists (a box score that dropped it)."""
    return conn.execute(
        text(f"""
            DELETE FROM fantasy_points
            WHERE (game_id, player_id) IN (SELECT game_id, player_id FROM {CHANGED_LINES})
              AND NOT EXISTS (SELECT 1 FROM player_game_stats s
                              WHERE s.game_id = fantasy_points.game_id AND s.player_id = fantasy_points.player_id)
        """)
    ).rowcount


STARTER_POINTS = f"""
    SELECT ft.league_id AS league_id, rs.fantasy_team_id AS fantasy_team_id, fp.week AS week, SUM(fp.points) AS total
    FROM roster_slots rs
    JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
    JOIN leagues l ON l.id = ft.league_id
    JOIN league_profiles lp ON lp.league_id = l.id
    JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = rs.player_id
    JOIN games g ON g.id = fp.game_id
    WHERE g.season = l.season AND rs.slot IN ({STARTING})
      AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
      {{league_filter}}
    GROUP BY ft.league_id, rs.fantasy_team_id, fp.week
"""
"""Each team's week total: its starters' points at each tip-off, through the league's profile.
Shared by the scoring job and the data-quality score check."""

TOTALS_TABLE = "tmp_team_week_totals"
EMPTIED_TABLE = "tmp_emptied_team_weeks"
CHANGED_STARTER_POINTS = STARTER_POINTS.replace(
    "FROM roster_slots rs",
    f"FROM {CHANGED_TEAM_WEEKS} cw JOIN roster_slots rs ON rs.fantasy_team_id = cw.fantasy_team_id",
).replace("AND fp.player_id = rs.player_id", "AND fp.player_id = rs.player_id AND fp.week = cw.week")
"""STARTER_POINTS of the team weeks in CHANGED_TEAM_WEEKS only, driven from them (not a filter at the end)."""


def _upsert_totals(conn, now, source: str) -> int:
    """team_week_scores.points from `source` (league_id, fantasy_team_id, week, total), rewritten only
    where the total changed, in (team, week) order, the unique index's (at 100,000 leagues that halves
    the upsert's page reads and writes)."""
    return conn.execute(
        text(f"""
            INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points, updated_at)
            SELECT league_id, fantasy_team_id, week, ROUND(CAST(total AS NUMERIC), 2), 0, :now
            FROM ({source}) AS computed WHERE true
            ORDER BY fantasy_team_id, week
            ON CONFLICT (fantasy_team_id, week) DO UPDATE
            SET points = excluded.points, league_id = excluded.league_id, updated_at = excluded.updated_at
            WHERE {differs(conn.dialect.name, "team_week_scores.points", "excluded.points")}
        """).bindparams(bindparam("now", type_=UtcDateTime())),
        {"now": now},
    ).rowcount


def total_team_weeks(conn, now, *, scope: str = "all") -> int:
    """team_week_scores.points from STARTER_POINTS for the leagues in RULES_TABLE: every team week
    (`scope` "all", one grouped upsert) or those of CHANGED_TEAM_WEEKS ("changed"). Then the team
    weeks of CHANGED_TEAM_WEEKS whose starters have no points left are removed (kept at 0 points while
    they hold a bonus), so the table equals a recompute from scratch: every change that can empty a
    team week (a removed line, a moved tip-off, a lineup move, a league's new weights) is in the
    change log, so only those team weeks are looked at, never the whole table."""
    league_filter = f"AND l.id IN (SELECT league_id FROM {RULES_TABLE})"
    create_temp_table(
        conn,
        TOTALS_TABLE,
        "league_id BIGINT NOT NULL, fantasy_team_id BIGINT NOT NULL, week INTEGER NOT NULL, "
        "total DOUBLE PRECISION NOT NULL, PRIMARY KEY (fantasy_team_id, week)",
    )
    conn.execute(
        text(
            f"INSERT INTO {TOTALS_TABLE} (league_id, fantasy_team_id, week, total) SELECT league_id, "
            f"fantasy_team_id, week, total FROM ({CHANGED_STARTER_POINTS.format(league_filter=league_filter)}) AS c"
        )
    )
    analyze(conn, TOTALS_TABLE)
    if scope == "all":
        written = _upsert_totals(conn, now, STARTER_POINTS.format(league_filter=league_filter))
    else:
        written = _upsert_totals(
            conn, now, f"SELECT league_id, fantasy_team_id, week, total FROM {TOTALS_TABLE}"
        )
    # the emptied keys first (a small anti-join), then the rows by their unique index
    create_temp_table(
        conn,
        EMPTIED_TABLE,
        "fantasy_team_id BIGINT NOT NULL, week INTEGER NOT NULL, PRIMARY KEY (fantasy_team_id, week)",
    )
    conn.execute(
        text(f"""
            INSERT INTO {EMPTIED_TABLE} (fantasy_team_id, week)
            SELECT cw.fantasy_team_id, cw.week FROM {CHANGED_TEAM_WEEKS} cw
            WHERE NOT EXISTS (SELECT 1 FROM {TOTALS_TABLE} t WHERE t.fantasy_team_id = cw.fantasy_team_id AND t.week = cw.week)
        """)
    )
    analyze(conn, EMPTIED_TABLE)
    # only leagues whose season has games in the database: a past season whose box scores were never
    # ingested keeps its history (it cannot be recomputed, so it is never emptied either)
    emptied = f"""(fantasy_team_id, week) IN (SELECT fantasy_team_id, week FROM {EMPTIED_TABLE})
      AND league_id IN (SELECT league_id FROM {RULES_TABLE} WHERE season IN (SELECT season FROM games WHERE fantasy_week IS NOT NULL))"""
    written += conn.execute(
        text(f"DELETE FROM team_week_scores WHERE bonus_points = 0 AND {emptied}")
    ).rowcount
    written += conn.execute(
        text(
            f"UPDATE team_week_scores SET points = 0, updated_at = :now WHERE points <> 0 AND {emptied}"
        ).bindparams(bindparam("now", type_=UtcDateTime())),
        {"now": now},
    ).rowcount
    return written


def link_league_profiles(conn, now, *, queued_only: bool = False) -> int:
    """league_profiles: each league in RULES_TABLE -> its profile, rewritten only where it changed.
    Before that, NEW_PROFILE_SEASONS gets the (profile, season) of each league newly linked or named
    in the queue (a league back from `archived` may find its profile's points stale: lines changed
    while no scored league used it). `queued_only` (a live tick, whose other leagues' rules come from
    their stored links, so equal them): only the leagues CHANGES_TABLE names."""
    queued = f"r.league_id IN (SELECT ref_id FROM {CHANGES_TABLE} WHERE kind = 'league')"
    create_temp_table(
        conn,
        NEW_PROFILE_SEASONS,
        "weights_hash VARCHAR(64) NOT NULL, season INTEGER NOT NULL, PRIMARY KEY (weights_hash, season)",
    )
    _insert_ignore(
        conn,
        NEW_PROFILE_SEASONS,
        f"""SELECT DISTINCT r.weights_hash, r.season FROM {RULES_TABLE} r
            JOIN scoring_profiles p ON p.weights_hash = r.weights_hash
            LEFT JOIN league_profiles lp ON lp.league_id = r.league_id
            WHERE (lp.profile_id IS NULL OR lp.profile_id <> p.id OR {queued})
              {f"AND {queued}" if queued_only else ""}""",
    )
    statement = text(f"""
        INSERT INTO league_profiles (league_id, profile_id, updated_at)
        SELECT r.league_id, p.id, :now FROM {RULES_TABLE} r JOIN scoring_profiles p ON p.weights_hash = r.weights_hash
        WHERE {queued if queued_only else "true"}
        ON CONFLICT (league_id) DO UPDATE SET profile_id = excluded.profile_id, updated_at = excluded.updated_at
        WHERE league_profiles.profile_id <> excluded.profile_id
    """).bindparams(bindparam("now", type_=UtcDateTime()))
    return conn.execute(statement, {"now": now}).rowcount


def score_profiles(
    ctx: JobContext,
    conn,
    profiles: dict[str, dict[str, float]],
    now,
    *,
    scope: str = "all",
    queued_links_only: bool = False,
) -> tuple[int, list[str]]:
    """The profiles stored and linked to the leagues in RULES_TABLE, then each profile's points under
    its own savepoint: a profile that fails is rolled back alone and its leagues are dropped from
    RULES_TABLE (not totalled). Returns (fantasy_points rows written, the failed profiles named)."""
    written, failed = 0, []
    upsert(
        conn,
        ScoringProfile,
        [{"weights_hash": h, "weights": w} for h, w in profiles.items()],
        ["weights_hash"],
        touch=None,
        update=False,
    )
    link_league_profiles(conn, now, queued_only=queued_links_only)
    # each profile's seasons, once: its statement reads a few rows instead of every league's rules
    create_temp_table(
        conn,
        PROFILE_SEASONS,
        "weights_hash VARCHAR(64) NOT NULL, season INTEGER NOT NULL, PRIMARY KEY (weights_hash, season)",
    )
    _insert_ignore(
        conn, PROFILE_SEASONS, f"SELECT DISTINCT weights_hash, season FROM {RULES_TABLE} WHERE true"
    )
    profile_ids = dict(conn.execute(select(ScoringProfile.weights_hash, ScoringProfile.id)).all())
    for number, (key, weights) in enumerate(profiles.items(), 1):
        try:
            with conn.begin_nested():
                rows = score_profile(conn, profile_ids[key], key, weights, now, scope=scope)
        except DBAPIError as exc:  # this profile only: its leagues keep yesterday's totals
            failed.append(f"profile {key[:10]}: {type(exc.orig).__name__}: {shorten(str(exc.orig))}")
            ctx.log.error(
                "profile %d/%d (%s) failed, its leagues are not totalled: %s",
                number,
                len(profiles),
                key[:10],
                shorten(str(exc.orig)),
            )
            conn.execute(text(f"DELETE FROM {RULES_TABLE} WHERE weights_hash = :key"), {"key": key})
            continue
        written += rows
        ctx.log.info(
            "profile %d/%d (%s): %d fantasy_points rows written", number, len(profiles), key[:10], rows
        )
    return written, failed


@dataclass
class GamesScored:
    """What a scoring pass wrote and what it left out."""

    points: int  # fantasy_points rows written (or deleted)
    team_weeks: int  # team_week_scores rows written (or removed)
    leagues: int
    profiles: int
    skipped_leagues: list[str]  # bad scoring settings (calculate_fantasy_scores alerts on them)
    failed_profiles: list[str]
    lines: int = 0  # stat lines rescored (changed or live); every line on a full run
    team_weeks_in_scope: int = 0
    weeks_set: int = 0
    by_delta: bool = False  # a live tick's team weeks moved by their points' change (not summed again)


def score_scope(
    ctx: JobContext,
    conn,
    rules: LeagueRules,
    now,
    scope: str,
    *,
    starters_only: bool = False,
    by_delta: bool = False,
) -> GamesScored:
    """Points of the lines in scope under every profile in use, then the team weeks in scope.
    `starters_only` (a live tick): the team weeks of the teams that started a changed line's player
    (`collect_starter_team_weeks`), and no ANALYZE of the big tables for a few rows written.
    `by_delta` (a live tick on PostgreSQL, see `apply_point_deltas`): those team weeks move by the
    change of their starters' points instead of being summed again."""
    scored = GamesScored(0, 0, rules.leagues, len(rules.profiles), rules.problems, [])
    if not rules.profiles:
        return scored
    scored.weeks_set = assign_fantasy_weeks(conn)
    # before rescoring: the stored points' (old) weeks and the games' weeks
    if by_delta:
        remember_old_points(conn)
    else:
        (collect_starter_team_weeks if starters_only else collect_line_team_weeks)(conn)
    scored.points, scored.failed_profiles = score_profiles(
        ctx, conn, rules.profiles, now, scope=scope, queued_links_only=starters_only
    )
    scored.points += delete_points_of_gone_lines(conn)
    collect_roster_team_weeks(conn)
    scored.team_weeks_in_scope = conn.scalar(text(f"SELECT COUNT(*) FROM {CHANGED_TEAM_WEEKS}"))
    analyze(conn, CHANGED_TEAM_WEEKS)
    if not starters_only:
        analyze(conn, "fantasy_points", "league_profiles")
    scored.team_weeks = total_team_weeks(conn, now, scope=scope)
    if by_delta:
        moved, in_scope = apply_point_deltas(conn, now)
        scored.team_weeks += moved
        scored.team_weeks_in_scope += in_scope
    return scored


def score_games(ctx: JobContext, game_ids: list[int]) -> GamesScored:
    """Fantasy points of these games' stat lines under every profile in use (is_final as the lines
    are) and the week totals of the teams they change, in one transaction of their own.

    For live_game_check: `game_ids` are the few live games (a bounded list, not data-sized); the
    rules, statements and savepoints are calculate_fantasy_scores' own (its "changed" scope), so the
    live points equal the points the nightly computes from the same lines. The queue is left for
    the nightly, which finds these changes already applied."""
    now = utcnow()
    with ctx.engine.begin() as conn:
        rules = load_league_rules(ctx, conn, SCORED_STATUSES, changed_only=False)
        if not game_ids or not rules.profiles:
            return GamesScored(0, 0, rules.leagues, len(rules.profiles), rules.problems, [])
        create_temp_table(
            conn,
            CHANGES_TABLE,
            "id BIGINT PRIMARY KEY, kind VARCHAR(8) NOT NULL, ref_id BIGINT NOT NULL, player_id BIGINT",
        )
        create_work_tables(conn)
        collect_listed_games(conn, game_ids)
        scored = score_scope(ctx, conn, rules, now, "changed")
        scored.lines = conn.scalar(text(f"SELECT COUNT(*) FROM {CHANGED_LINES}"))
    return scored


LINE_DELTAS = "tmp_line_point_deltas"
"""A live tick's changed lines under each profile: their points before and after rescoring."""
TEAM_WEEK_DELTAS = "tmp_team_week_deltas"
STARTERS_TABLE = "tmp_changed_line_starters"


def remember_old_points(conn) -> None:
    """LINE_DELTAS: the stored points of CHANGED_LINES, before rescoring (`apply_point_deltas`)."""
    create_temp_table(
        conn,
        LINE_DELTAS,
        "profile_id BIGINT NOT NULL, game_id BIGINT NOT NULL, player_id BIGINT NOT NULL, "
        "old_points DOUBLE PRECISION, new_points DOUBLE PRECISION, PRIMARY KEY (profile_id, game_id, player_id)",
    )
    conn.execute(
        text(f"""
            INSERT INTO {LINE_DELTAS} (profile_id, game_id, player_id, old_points)
            SELECT fp.profile_id, fp.game_id, fp.player_id, fp.points FROM {CHANGED_LINES} c
            JOIN fantasy_points fp ON fp.game_id = c.game_id AND fp.player_id = c.player_id
        """)
    )


def can_apply_deltas(conn, tip_off_moved: bool) -> bool:
    """Whether a live tick may move team weeks by their points' change (PostgreSQL: exact decimal
    arithmetic): no tip-off moved, no changed line removed (its team week may have to go), and every
    stored point of the changed lines in its game's week. Otherwise the weeks are summed again."""
    if conn.dialect.name != "postgresql" or tip_off_moved:
        return False
    return not conn.scalar(
        text(f"""
            SELECT EXISTS (SELECT 1 FROM {CHANGED_LINES} c WHERE NOT EXISTS (
                       SELECT 1 FROM player_game_stats s WHERE s.game_id = c.game_id AND s.player_id = c.player_id))
                OR EXISTS (SELECT 1 FROM {CHANGED_LINES} c JOIN games g ON g.id = c.game_id
                           JOIN fantasy_points fp ON fp.game_id = c.game_id AND fp.player_id = c.player_id
                           WHERE fp.week IS DISTINCT FROM g.fantasy_week)
        """)
    )


def apply_point_deltas(conn, now) -> tuple[int, int]:
    """A live tick's team weeks on PostgreSQL: each team that started a changed line's player at the
    tip-off (leagues scored through their stored profile, not those the queue names: their weeks are
    summed again) gets its week's total moved by the change of those lines' points, in NUMERIC.

    Exact, not approximate: a line's points are ROUND(..., 2) values, a stored total is the ROUND(2) of
    their sum, and a float8 cast to NUMERIC gives back its 15 significant digits, so old total + (new -
    old) is the very decimal a full recompute sums. A team week that had no starter points yet is
    inserted (its total is the new points); one left unchanged is not written. Returns (rows written,
    team weeks in scope). Instead of summing ~795,000 slot-and-points rows again for 50,000 team weeks
    at 100,000 leagues, it reads the changed players' starting slots from one partial index."""
    conn.execute(
        text(f"""
            INSERT INTO {LINE_DELTAS} (profile_id, game_id, player_id, new_points)
            SELECT fp.profile_id, fp.game_id, fp.player_id, fp.points FROM {CHANGED_LINES} c
            JOIN fantasy_points fp ON fp.game_id = c.game_id AND fp.player_id = c.player_id
            ON CONFLICT (profile_id, game_id, player_id) DO UPDATE SET new_points = excluded.new_points
        """)
    )
    analyze(conn, LINE_DELTAS)  # a few rows: the plan looks the players' slots up, never scans them all
    create_temp_table(
        conn,
        TEAM_WEEK_DELTAS,
        "league_id BIGINT NOT NULL, fantasy_team_id BIGINT NOT NULL, week INTEGER NOT NULL, "
        "delta NUMERIC NOT NULL, PRIMARY KEY (fantasy_team_id, week)",
    )
    # First the starting slots at each changed line's tip-off, once per line (index only), with
    # their team's league; then each profile's change joins them: never a slot lookup per profile.
    # A table of its own, analysed: the planner then hashes the leagues, links and rules (100,000
    # rows each at 100,000 leagues) instead of probing them once per slot.
    create_temp_table(
        conn,
        STARTERS_TABLE,
        "fantasy_team_id BIGINT NOT NULL, league_id BIGINT NOT NULL, week INTEGER NOT NULL, "
        "season INTEGER NOT NULL, game_id BIGINT NOT NULL, player_id BIGINT NOT NULL",
    )
    conn.execute(
        text(f"""
            INSERT INTO {STARTERS_TABLE} (fantasy_team_id, league_id, week, season, game_id, player_id)
            SELECT rs.fantasy_team_id, ft.league_id, g.fantasy_week, g.season, c.game_id, c.player_id
            FROM {CHANGED_LINES} c
            JOIN games g ON g.id = c.game_id
            JOIN roster_slots rs ON rs.player_id = c.player_id AND rs.slot IN ({STARTING})
             AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
            JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
            WHERE g.fantasy_week IS NOT NULL
        """)
    )
    analyze(conn, STARTERS_TABLE)
    in_scope = conn.execute(
        text(f"""
            INSERT INTO {TEAM_WEEK_DELTAS} (league_id, fantasy_team_id, week, delta)
            SELECT s.league_id, s.fantasy_team_id, s.week,
                   SUM(COALESCE(CAST(d.new_points AS NUMERIC), 0) - COALESCE(CAST(d.old_points AS NUMERIC), 0))
            FROM {STARTERS_TABLE} s
            JOIN leagues l ON l.id = s.league_id AND l.season = s.season
            JOIN league_profiles lp ON lp.league_id = l.id
            JOIN {LINE_DELTAS} d ON d.profile_id = lp.profile_id AND d.game_id = s.game_id AND d.player_id = s.player_id
            WHERE l.id IN (SELECT league_id FROM {RULES_TABLE})
              AND l.id NOT IN (SELECT ref_id FROM {CHANGES_TABLE} WHERE kind = 'league')
            GROUP BY s.league_id, s.fantasy_team_id, s.week
        """)
    ).rowcount
    written = conn.execute(
        text(f"""
            INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points, updated_at)
            SELECT d.league_id, d.fantasy_team_id, d.week, ROUND(d.delta, 2), 0, :now FROM {TEAM_WEEK_DELTAS} d
            WHERE d.delta <> 0 OR NOT EXISTS (
                SELECT 1 FROM team_week_scores t WHERE t.fantasy_team_id = d.fantasy_team_id AND t.week = d.week)
            ORDER BY d.fantasy_team_id, d.week
            ON CONFLICT (fantasy_team_id, week) DO UPDATE
            SET points = ROUND(CAST(team_week_scores.points AS NUMERIC) + CAST(excluded.points AS NUMERIC), 2),
                updated_at = excluded.updated_at
        """).bindparams(bindparam("now", type_=UtcDateTime())),
        {"now": now},
    ).rowcount
    return written, in_scope


def score_changed_lines(
    ctx: JobContext, conn, lines: list[tuple[int, int]], *, tip_off_moved: bool = False
) -> GamesScored:
    """For live_scoring, on the tick's own transaction `conn`: the points of just these (game id,
    player id) lines (written or removed by the tick; at most a few box scores, never data-sized)
    and the week totals of the teams that started those players at the tip-off (every team that
    rostered them when `tip_off_moved`). Leagues are scored through their stored profile link, set-
    based (a league whose settings changed since the nightly keeps its old profile until then); a
    league without a link yet is linked and its season scored and totalled here; the
    statements are calculate_fantasy_scores' own, so live points equal the nightly's. The queue is
    left for the nightly, which finds these changes already applied."""
    now = utcnow()
    create_temp_table(
        conn,
        CHANGES_TABLE,
        "id BIGINT PRIMARY KEY, kind VARCHAR(8) NOT NULL, ref_id BIGINT NOT NULL, player_id BIGINT",
    )  # no roster or game change of the queue is this tick's business (the nightly's)...
    # ...but a league no scoring run has linked to its profile yet (new since the nightly, or a fresh
    # demo) is read and linked here, and its season totalled, so that its live points are not missing
    conn.execute(
        text(f"""
            INSERT INTO {CHANGES_TABLE} (id, kind, ref_id)
            SELECT l.id, 'league', l.id FROM leagues l
            WHERE l.status IN ({", ".join(f"'{s}'" for s in SCORED_STATUSES)})
              AND NOT EXISTS (SELECT 1 FROM league_profiles lp WHERE lp.league_id = l.id)
        """)
    )
    rules = load_league_rules(ctx, conn, SCORED_STATUSES, changed_only=True)
    if not lines or not rules.profiles:
        return GamesScored(0, 0, rules.leagues, len(rules.profiles), rules.problems, [])
    create_work_tables(conn)
    conn.execute(
        text(f"INSERT INTO {CHANGED_LINES} (game_id, player_id) VALUES (:game_id, :player_id)"),
        [{"game_id": g, "player_id": p} for g, p in sorted(set(lines))],
    )
    analyze(conn, CHANGED_LINES)
    by_delta = can_apply_deltas(conn, tip_off_moved)
    scored = score_scope(ctx, conn, rules, now, "changed", starters_only=not tip_off_moved, by_delta=by_delta)
    scored.lines = len(set(lines))
    scored.by_delta = by_delta
    return scored


def full_run_due(ctx: JobContext) -> str | None:
    """Why this run recomputes everything (None: it scores the queued changes only): no completed
    full run within `scoring_full_days` (the safety net; also the first run after an upgrade)."""
    days = settings.get("scoring_full_days")
    last_full = last_completed_start(ctx, full_only=True, within=timedelta(days=days))
    if last_full is None:
        return f"no full recompute completed in the last {days} days (scoring_full_days)"
    return None


def calculate_fantasy_scores(ctx: JobContext) -> JobResult:
    """Points and team week totals of what changed since the last run (the `scoring_changes` queue),
    or of everything (`full`: asked for, or the weekly safety net). A profile that fails is rolled
    back alone (its leagues are not totalled), the others are kept, and the job fails at the end
    naming it; the queue is then kept whole for the next run."""
    now = utcnow()
    reason = "asked for (--full)" if ctx.full else full_run_due(ctx)
    full = reason is not None
    with ctx.engine.begin() as conn:
        use_job_work_mem(conn)
        queued = take_changes(conn)
        if not full and queued == 0:
            return JobResult(
                0,
                "nothing changed since the last run: no line, game, roster or league to rescore",
                {"full": False, "changes": 0},
            )
        rules = load_league_rules(ctx, conn, SCORED_STATUSES, changed_only=not full)
        ctx.log.info(
            "%s: %d queued changes; %d leagues share %d scoring profiles; %d leagues skipped",
            f"full recompute, {reason}" if full else "changes only",
            queued,
            rules.leagues,
            len(rules.profiles),
            len(rules.problems),
        )
        if ctx.dry_run:
            return JobResult(
                queued,
                f"dry run: would {'recompute ' + str(rules.leagues) + ' leagues' if full else 'apply ' + str(queued) + ' queued changes'} through {len(rules.profiles)} profiles",
                {
                    "profiles": len(rules.profiles),
                    "skipped_leagues": rules.problems,
                    "full": full,
                    "changes": queued,
                },
            )
        create_work_tables(conn)
        collect_changed_lines(conn)
        scored = score_scope(ctx, conn, rules, now, "all" if full else "changed")
        scored.lines = conn.scalar(text(f"SELECT COUNT(*) FROM {CHANGED_LINES}"))
        if not scored.failed_profiles:
            forget_changes(conn)
    report_problems(ctx, rules.problems + scored.failed_profiles)
    summary = (
        f"{'full recompute' if full else f'{queued} queued changes'}: {rules.leagues} leagues, {len(rules.profiles)} profiles: "
        f"{scored.points} points rows and {scored.team_weeks} team weeks written"
        + ("" if full else f" ({scored.lines} lines and {scored.team_weeks_in_scope} team weeks in scope)")
    )
    if rules.problems:
        summary += f"; {len(rules.problems)} leagues skipped for bad scoring settings"
    if scored.failed_profiles:
        raise RuntimeError(
            f"{summary}; {len(scored.failed_profiles)} profile(s) failed: "
            + "; ".join(scored.failed_profiles)
        )
    return JobResult(
        scored.points + scored.team_weeks,
        summary,
        {
            "full": full,
            "full_reason": reason,
            "changes": queued,
            "lines": scored.lines,
            "team_weeks_in_scope": scored.team_weeks_in_scope,
            "games_weeks_set": scored.weeks_set,
            "skipped_leagues": rules.problems,
        },
    )


# --- calculate_bonuses ----------------------------------------------------------------------


def _starter_overlaps(alias: str) -> str:
    return (
        f"{alias}.slot IN ({STARTING}) AND {alias}.acquired_at < :week_end "
        f"AND ({alias}.released_at IS NULL OR {alias}.released_at > :week_start)"
    )


AWARDS_TABLE = "tmp_bonus_awards"
ALL_STARTERS_PLAYED = f"""
    SELECT ft.league_id, ft.id, 'all_starters_played', r.all_starters_played
    FROM fantasy_teams ft JOIN {RULES_TABLE} r ON r.league_id = ft.league_id
    WHERE r.all_starters_played <> 0
      AND EXISTS (SELECT 1 FROM roster_slots rs WHERE rs.fantasy_team_id = ft.id AND {_starter_overlaps("rs")})
      AND NOT EXISTS (
        SELECT 1 FROM roster_slots rs
        WHERE rs.fantasy_team_id = ft.id AND {_starter_overlaps("rs")}
          AND NOT EXISTS (
            SELECT 1 FROM player_game_stats s JOIN games g ON g.id = s.game_id
            WHERE s.player_id = rs.player_id AND NOT s.did_not_play AND g.fantasy_week = :week
              AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)))
"""
HIGH_SCORE = f"""
    SELECT tws.league_id, tws.fantasy_team_id, 'weekly_high_score', r.weekly_high_score
    FROM team_week_scores tws
    JOIN {RULES_TABLE} r ON r.league_id = tws.league_id
    JOIN (SELECT league_id, MAX(points) AS top FROM team_week_scores
          WHERE week = :week AND league_id IN (SELECT league_id FROM {RULES_TABLE}) GROUP BY league_id) best
      ON best.league_id = tws.league_id AND tws.points = best.top
    WHERE tws.week = :week AND tws.points > 0 AND r.weekly_high_score <> 0
"""
BONUS_QUERIES = {"weekly_high_score": HIGH_SCORE, "all_starters_played": ALL_STARTERS_PLAYED}
"""Per bonus type, one statement over every league at once: (league_id, fantasy_team_id, bonus_type, points)."""


BONUS_LEAGUES = "tmp_bonus_leagues"
"""The leagues a re-run for an awarded week reads (league_id): those the change log names for that week."""


def take_bonus_changes(conn, bounds: dict, consume: bool) -> int:
    """BONUS_LEAGUES from `bonus_changes`: leagues queued for the week (or for any week), and the leagues
    with the queued player in a starting slot during the week. Every row read is deleted (unless
    `consume` is false: a dry run): rows of other weeks concern no re-run, as each week's first run
    reads every league. Returns the leagues."""
    create_temp_table(
        conn, "tmp_bonus_taken", "id BIGINT PRIMARY KEY, league_id BIGINT, week INTEGER, player_id BIGINT"
    )
    conn.execute(
        text(
            "INSERT INTO tmp_bonus_taken (id, league_id, week, player_id) "
            "SELECT id, league_id, week, player_id FROM bonus_changes"
        )
    )
    if consume:
        conn.execute(text("DELETE FROM bonus_changes WHERE id IN (SELECT id FROM tmp_bonus_taken)"))
    create_temp_table(conn, BONUS_LEAGUES, "league_id BIGINT PRIMARY KEY")
    leagues = conn.execute(
        text(f"""
            INSERT INTO {BONUS_LEAGUES} (league_id)
            SELECT league_id FROM tmp_bonus_taken
            WHERE league_id IS NOT NULL AND (week IS NULL OR week = :week)
            UNION
            SELECT ft.league_id FROM tmp_bonus_taken t
            JOIN roster_slots rs ON rs.player_id = t.player_id
            JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
            WHERE t.league_id IS NULL AND t.week = :week AND {_starter_overlaps("rs")}
        """).bindparams(
            bindparam("week_start", type_=UtcDateTime()), bindparam("week_end", type_=UtcDateTime())
        ),
        bounds,
    ).rowcount
    analyze(conn, BONUS_LEAGUES)
    return leagues


def bonus_whole_pass_reason(ctx: JobContext, week: int) -> str | None:
    """Why this run reads every league (None: the leagues the change log names for the week)."""
    if ctx.full:
        return "asked for (--full)"
    if ctx.engine.dialect.name != "postgresql":
        return "SQLite: every league (no change log there)"
    if last_completed_start(ctx, details={"week": week}) is None:
        return f"the first run for week {week}"
    return None


def calculate_bonuses(ctx: JobContext) -> JobResult:
    """Bonuses of the fantasy week that just ended, once per league and week, for all leagues at once.

    Settings are validated up front (finite, within scoring.MAX_ABS_BONUS), so a league's bonus
    cannot overflow a column or fail the statements the other leagues share. The first run for a
    week (and --full) reads every league; a later run for the same week (a retry, a manual run) only
    the leagues whose team weeks, rosters, settings or players' lines changed since (`bonus_changes`,
    PostgreSQL)."""
    week = previous_week(fantasy_week(ctx.now))
    bounds = {"week": week, "week_start": week_start(week), "week_end": week_start(fantasy_week(ctx.now))}
    dialect = ctx.engine.dialect.name
    reason = bonus_whole_pass_reason(ctx, week)
    with ctx.engine.begin() as conn:
        if dialect == "postgresql":  # its own bonus points are not a change to re-read
            conn.execute(text(f"SET LOCAL {WRITING_BONUSES} = 'on'"))
        scope = ""
        if reason is None:
            changed = take_bonus_changes(conn, bounds, consume=not ctx.dry_run)
            ctx.log.info("week %d: changes only: %d league(s) changed since the last run", week, changed)
            if not changed:
                return JobResult(
                    0,
                    f"week {week}: nothing changed since the last run",
                    {"week": week, "full": False, "leagues": 0},
                )
            scope = f" AND league_id IN (SELECT league_id FROM {BONUS_LEAGUES})"
        else:
            ctx.log.info("week %d: every league: %s", week, reason)
            if dialect == "postgresql" and not ctx.dry_run:
                conn.execute(
                    text("DELETE FROM bonus_changes WHERE id <= (SELECT MAX(id) FROM bonus_changes)")
                )
        rules = load_league_rules(
            ctx, conn, ("active",), only=None if reason else f"SELECT league_id FROM {BONUS_LEAGUES}"
        )
        problems = rules.problems
        create_temp_table(
            conn,
            AWARDS_TABLE,
            "league_id BIGINT NOT NULL, fantasy_team_id BIGINT NOT NULL, bonus_type VARCHAR(32) NOT NULL, "
            "points DOUBLE PRECISION NOT NULL",
        )
        for bonus_type, statement in BONUS_QUERIES.items():
            params = {"week": week} if bonus_type == "weekly_high_score" else bounds
            found = conn.execute(
                text(
                    f"INSERT INTO {AWARDS_TABLE} (league_id, fantasy_team_id, bonus_type, points) {statement}"
                ).bindparams(
                    *(
                        bindparam(name, type_=UtcDateTime())
                        for name in ("week_start", "week_end")
                        if f":{name}" in statement
                    )
                ),
                params,
            ).rowcount
            ctx.log.info("week %d: %s: %d teams qualify", week, bonus_type, found)
        awards = conn.scalar(text(f"SELECT COUNT(*) FROM {AWARDS_TABLE}"))
        ctx.log.info("week %d: %d bonuses for %d leagues", week, awards, rules.leagues)
        details = {"week": week, "full": reason is not None, "leagues": rules.leagues}
        if ctx.dry_run:
            return JobResult(awards, f"dry run: week {week}: would award {awards} bonuses", details)
        added = conn.execute(
            text(f"""
                INSERT INTO weekly_bonuses (league_id, week, fantasy_team_id, bonus_type, points, created_at)
                SELECT league_id, :week, fantasy_team_id, bonus_type, points, :now FROM {AWARDS_TABLE} WHERE true
                ON CONFLICT (league_id, week, fantasy_team_id, bonus_type) DO NOTHING
            """).bindparams(bindparam("now", type_=UtcDateTime())),
            {"week": week, "now": utcnow()},
        ).rowcount
        analyze(
            conn, "weekly_bonuses"
        )  # the week's rows are new: planned as absent, the anti-join goes quadratic
        # team_week_scores.bonus_points = the week's bonuses of the team: one join with the aggregate...
        conn.execute(
            text(f"""
                UPDATE team_week_scores SET bonus_points = agg.total
                FROM (SELECT fantasy_team_id, SUM(points) AS total FROM weekly_bonuses WHERE week = :week{scope}
                      GROUP BY fantasy_team_id) AS agg
                WHERE team_week_scores.fantasy_team_id = agg.fantasy_team_id AND team_week_scores.week = :week
                  AND {differs(dialect, "team_week_scores.bonus_points", "agg.total")}
            """),
            {"week": week},
        )
        # ... and 0 for a team with none
        conn.execute(
            text(f"""
                UPDATE team_week_scores SET bonus_points = 0
                WHERE week = :week AND bonus_points <> 0{scope} AND NOT EXISTS (
                    SELECT 1 FROM weekly_bonuses wb
                    WHERE wb.fantasy_team_id = team_week_scores.fantasy_team_id AND wb.week = team_week_scores.week)
            """),
            {"week": week},
        )
    report_problems(ctx, problems)
    return JobResult(
        added,
        f"week {week}: {added} new bonuses ({awards - added} already awarded)"
        + ("" if reason else f"; {rules.leagues} changed league(s) read"),
        {**details, "skipped_leagues": problems},
    )
