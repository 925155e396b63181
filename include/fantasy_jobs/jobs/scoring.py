"""calculate_fantasy_scores and calculate_bonuses: points per scoring profile, team week totals, bonuses.

Set-based: fantasy points are computed once per scoring profile for every stat line of the
season (INSERT ... SELECT ... ON CONFLICT), then team totals are one grouped INSERT ... SELECT
over roster slots. The cost grows with profiles x stat lines plus roster slots, not with
leagues x stat lines. Rows are rewritten only when a value changed, so a re-run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError

from fantasy_jobs import scoring
from fantasy_jobs.alerts import send_slack
from fantasy_jobs.db import analyze, create_temp_table, upsert, use_job_work_mem
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import Game, League, ScoringProfile, UtcDateTime, utcnow
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


def load_league_rules(ctx: JobContext, conn, statuses: tuple[str, ...]) -> LeagueRules:
    """Each league's weights and bonus rules into RULES_TABLE on `conn`, a page of leagues at a time;
    a league with bad settings is reported (named, with the key), not fatal, and left out."""
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
    page = (
        select(League.id, League.name, League.season, League.scoring_settings)
        .where(League.status.in_(statuses), League.id > bindparam("after"))
        .order_by(League.id)
        .limit(LEAGUE_PAGE)
    )
    found = LeagueRules({}, 0, [])
    after = 0
    while leagues := conn.execute(page, {"after": after}).all():
        after = leagues[-1].id
        rows = []
        for league in leagues:
            label = f"league {league.id} ({league.name})"
            try:
                weights = scoring.league_weights(league.scoring_settings, label)
                bonuses = scoring.league_bonuses(league.scoring_settings, label)
            except scoring.ScoringSettingsError as exc:
                found.problems.append(str(exc))
                ctx.log.error("%s is not scored: %s", label, exc)
                continue
            key = scoring.weights_hash(weights)
            found.profiles.setdefault(key, weights)
            rows.append({"league_id": league.id, "season": league.season, "weights_hash": key, **bonuses})
        if rows:
            conn.execute(insert_rule, rows)
            found.leagues += len(rows)
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
            Game.__table__.update().where(Game.id == bindparam("gid")).values(fantasy_week=bindparam("week")),
            changes,
        )
    return len(changes)


SCORED_GAMES_TABLE = "tmp_scored_games"
"""The games a live run scores (game_id: the few live games, not data-sized): with
`only_listed_games`, score_profile and total_team_weeks join it instead of scoring the season."""
LISTED_GAMES = f" AND g.id IN (SELECT game_id FROM {SCORED_GAMES_TABLE})"
LISTED_TEAM_WEEKS = f"""
      AND fp.week IN (SELECT lg.fantasy_week FROM games lg WHERE lg.id IN (SELECT game_id FROM {SCORED_GAMES_TABLE}))
      AND rs.fantasy_team_id IN (
        SELECT lrs.fantasy_team_id FROM roster_slots lrs WHERE lrs.player_id IN (
          SELECT ls.player_id FROM player_game_stats ls WHERE ls.game_id IN (SELECT game_id FROM {SCORED_GAMES_TABLE})
          UNION SELECT sc.player_id FROM stat_corrections sc
          WHERE sc.kind = 'removed' AND sc.game_id IN (SELECT game_id FROM {SCORED_GAMES_TABLE})))"""
"""The team weeks a listed game can change: its weeks, for teams that roster one of its players or
a player whose line it lost (whole weeks of those teams are summed, so each total is complete)."""

EMPTIED_TEAM_WEEKS = f"""
    UPDATE team_week_scores SET points = 0, updated_at = :now
    WHERE points <> 0
      AND league_id IN (SELECT league_id FROM {RULES_TABLE})
      AND (fantasy_team_id, week) IN (
        SELECT rs.fantasy_team_id, g.fantasy_week
        FROM stat_corrections sc JOIN games g ON g.id = sc.game_id JOIN roster_slots rs ON rs.player_id = sc.player_id
        WHERE sc.kind = 'removed' AND g.fantasy_week IS NOT NULL {{listed}})
      AND NOT EXISTS (
        SELECT 1 FROM roster_slots rs
        JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
        JOIN leagues l ON l.id = ft.league_id
        JOIN league_profiles lp ON lp.league_id = l.id
        JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = rs.player_id
        JOIN games g ON g.id = fp.game_id
        WHERE rs.fantasy_team_id = team_week_scores.fantasy_team_id AND fp.week = team_week_scores.week
          AND g.season = l.season AND rs.slot IN ({STARTING})
          AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time))
"""
"""A team week whose starters have no points left (every line behind its total was removed from a
box score) has no row in STARTER_POINTS, so the upsert cannot lower it: it is set to 0 here. Only
team weeks of players whose lines were removed are looked at (stat_corrections' `removed` rows),
never the whole table."""


def score_profile(
    conn, profile_id: int, key: str, weights: dict[str, float], now, *, only_listed_games: bool = False
) -> int:
    """Fantasy points of every stat line of the seasons its leagues play (or only of the games in
    SCORED_GAMES_TABLE), under one profile; returns rows written."""
    dialect = conn.dialect.name
    statement = text(f"""
        INSERT INTO fantasy_points (profile_id, player_id, game_id, week, points, is_final, updated_at)
        SELECT :profile_id, s.player_id, s.game_id, g.fantasy_week, {scoring.points_sql(weights, "s")}, s.is_final, :now
        FROM player_game_stats s JOIN games g ON g.id = s.game_id
        WHERE g.season IN (SELECT season FROM {RULES_TABLE} WHERE weights_hash = :key) AND g.fantasy_week IS NOT NULL
          {LISTED_GAMES if only_listed_games else ""}
        ON CONFLICT (profile_id, player_id, game_id) DO UPDATE
        SET points = excluded.points, week = excluded.week, is_final = excluded.is_final, updated_at = excluded.updated_at
        WHERE {differs(dialect, "fantasy_points.points", "excluded.points")}
           OR {differs(dialect, "fantasy_points.week", "excluded.week")}
           OR {differs(dialect, "fantasy_points.is_final", "excluded.is_final")}
    """).bindparams(bindparam("now", type_=UtcDateTime()))
    return conn.execute(statement, {"profile_id": profile_id, "key": key, "now": now}).rowcount


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


def total_team_weeks(conn, now, *, only_listed_games: bool = False) -> int:
    """team_week_scores.points from STARTER_POINTS for the leagues in RULES_TABLE (or only the team
    weeks the games in SCORED_GAMES_TABLE change), rewritten only where the total changed. Rows go in
    (team, week) order, the unique index's: the upsert then walks index and table in order instead of
    at random (at 100,000 leagues that halves its page reads and writes)."""
    dialect = conn.dialect.name
    league_filter = f"AND l.id IN (SELECT league_id FROM {RULES_TABLE})"
    computed = STARTER_POINTS.format(
        league_filter=league_filter + (LISTED_TEAM_WEEKS if only_listed_games else "")
    )
    statement = text(f"""
        INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points, updated_at)
        SELECT league_id, fantasy_team_id, week, ROUND(CAST(total AS NUMERIC), 2), 0, :now
        FROM ({computed}) AS computed WHERE true
        ORDER BY fantasy_team_id, week
        ON CONFLICT (fantasy_team_id, week) DO UPDATE
        SET points = excluded.points, league_id = excluded.league_id, updated_at = excluded.updated_at
        WHERE {differs(dialect, "team_week_scores.points", "excluded.points")}
    """).bindparams(bindparam("now", type_=UtcDateTime()))
    written = conn.execute(statement, {"now": now}).rowcount
    emptied = text(
        EMPTIED_TEAM_WEEKS.format(
            listed=f"AND sc.game_id IN (SELECT game_id FROM {SCORED_GAMES_TABLE})"
            if only_listed_games
            else ""
        )
    ).bindparams(bindparam("now", type_=UtcDateTime()))
    return written + conn.execute(emptied, {"now": now}).rowcount


def link_league_profiles(conn, now) -> int:
    """league_profiles: each league in RULES_TABLE -> its profile, rewritten only where it changed."""
    statement = text(f"""
        INSERT INTO league_profiles (league_id, profile_id, updated_at)
        SELECT r.league_id, p.id, :now FROM {RULES_TABLE} r JOIN scoring_profiles p ON p.weights_hash = r.weights_hash
        WHERE true
        ON CONFLICT (league_id) DO UPDATE SET profile_id = excluded.profile_id, updated_at = excluded.updated_at
        WHERE league_profiles.profile_id <> excluded.profile_id
    """).bindparams(bindparam("now", type_=UtcDateTime()))
    return conn.execute(statement, {"now": now}).rowcount


def score_profiles(
    ctx: JobContext, conn, profiles: dict[str, dict[str, float]], now, *, only_listed_games: bool = False
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
    link_league_profiles(conn, now)
    profile_ids = dict(conn.execute(select(ScoringProfile.weights_hash, ScoringProfile.id)).all())
    for number, (key, weights) in enumerate(profiles.items(), 1):
        try:
            with conn.begin_nested():
                rows = score_profile(
                    conn, profile_ids[key], key, weights, now, only_listed_games=only_listed_games
                )
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
    """What score_games wrote and what it left out."""

    points: int  # fantasy_points rows written
    team_weeks: int  # team_week_scores rows written
    leagues: int
    profiles: int
    skipped_leagues: list[str]  # bad scoring settings (calculate_fantasy_scores alerts on them daily)
    failed_profiles: list[str]


def score_games(ctx: JobContext, game_ids: list[int]) -> GamesScored:
    """Fantasy points of these games' stat lines under every profile in use (is_final as the lines
    are) and the week totals of the teams they change, in one transaction of their own.

    For live_game_check: `game_ids` are the few live games (a bounded list, not data-sized) and go
    into SCORED_GAMES_TABLE; the rules, statements and savepoints are calculate_fantasy_scores' own,
    so the live points equal the points the nightly chain computes from the same lines."""
    now = utcnow()
    with ctx.engine.begin() as conn:
        rules = load_league_rules(ctx, conn, SCORED_STATUSES)
        scored = GamesScored(0, 0, rules.leagues, len(rules.profiles), rules.problems, [])
        if not game_ids or not rules.profiles:
            return scored
        create_temp_table(conn, SCORED_GAMES_TABLE, "game_id BIGINT PRIMARY KEY")
        conn.execute(
            text(f"INSERT INTO {SCORED_GAMES_TABLE} (game_id) VALUES (:game_id)"),
            [{"game_id": game_id} for game_id in sorted(set(game_ids))],
        )
        analyze(conn, SCORED_GAMES_TABLE)
        assign_fantasy_weeks(conn)
        scored.points, scored.failed_profiles = score_profiles(
            ctx, conn, rules.profiles, now, only_listed_games=True
        )
        scored.team_weeks = total_team_weeks(conn, now, only_listed_games=True)
    return scored


def calculate_fantasy_scores(ctx: JobContext) -> JobResult:
    """Points per scoring profile, then team week totals; a profile that fails is rolled back alone
    (its leagues are not totalled), the others are kept, and the job fails at the end naming it."""
    now = utcnow()
    written = totals = weeks = 0
    failed: list[str] = []
    with ctx.engine.begin() as conn:
        use_job_work_mem(conn)
        rules = load_league_rules(ctx, conn, SCORED_STATUSES)
        profiles, problems = rules.profiles, rules.problems
        ctx.log.info(
            "%d leagues share %d scoring profiles; %d leagues skipped",
            rules.leagues,
            len(profiles),
            len(problems),
        )
        if ctx.dry_run:
            return JobResult(
                0,
                f"dry run: would score {rules.leagues} leagues through {len(profiles)} profiles",
                {"profiles": len(profiles), "skipped_leagues": problems},
            )
        weeks = assign_fantasy_weeks(conn)
        written, failed = score_profiles(ctx, conn, profiles, now)
        analyze(conn, "fantasy_points", "league_profiles")
        totals = total_team_weeks(conn, now)
        written += totals
    report_problems(ctx, problems + failed)
    summary = f"{rules.leagues} leagues, {len(profiles)} profiles: {written - totals} points rows and {totals} team weeks written"
    if problems:
        summary += f"; {len(problems)} leagues skipped for bad scoring settings"
    if failed:
        raise RuntimeError(f"{summary}; {len(failed)} profile(s) failed: " + "; ".join(failed))
    return JobResult(written, summary, {"games_weeks_set": weeks, "skipped_leagues": problems})


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
    JOIN (SELECT league_id, MAX(points) AS top FROM team_week_scores WHERE week = :week GROUP BY league_id) best
      ON best.league_id = tws.league_id AND tws.points = best.top
    WHERE tws.week = :week AND tws.points > 0 AND r.weekly_high_score <> 0
"""
BONUS_QUERIES = {"weekly_high_score": HIGH_SCORE, "all_starters_played": ALL_STARTERS_PLAYED}
"""Per bonus type, one statement over every league at once: (league_id, fantasy_team_id, bonus_type, points)."""


def calculate_bonuses(ctx: JobContext) -> JobResult:
    """Bonuses of the fantasy week that just ended, once per league and week, for all leagues at once.

    Settings are validated up front (finite, within scoring.MAX_ABS_BONUS), so a league's bonus
    cannot overflow a column or fail the statements the other leagues share."""
    week = previous_week(fantasy_week(ctx.now))
    bounds = {"week": week, "week_start": week_start(week), "week_end": week_start(fantasy_week(ctx.now))}
    dialect = ctx.engine.dialect.name
    with ctx.engine.begin() as conn:
        rules = load_league_rules(ctx, conn, ("active",))
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
        if ctx.dry_run:
            return JobResult(awards, f"dry run: week {week}: would award {awards} bonuses", {"week": week})
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
                FROM (SELECT fantasy_team_id, SUM(points) AS total FROM weekly_bonuses WHERE week = :week
                      GROUP BY fantasy_team_id) AS agg
                WHERE team_week_scores.fantasy_team_id = agg.fantasy_team_id AND team_week_scores.week = :week
                  AND {differs(dialect, "team_week_scores.bonus_points", "agg.total")}
            """),
            {"week": week},
        )
        # ... and 0 for a team with none
        conn.execute(
            text("""
                UPDATE team_week_scores SET bonus_points = 0
                WHERE week = :week AND bonus_points <> 0 AND NOT EXISTS (
                    SELECT 1 FROM weekly_bonuses wb
                    WHERE wb.fantasy_team_id = team_week_scores.fantasy_team_id AND wb.week = team_week_scores.week)
            """),
            {"week": week},
        )
    report_problems(ctx, problems)
    return JobResult(
        added,
        f"week {week}: {added} new bonuses ({awards - added} already awarded)",
        {"week": week, "skipped_leagues": problems},
    )
