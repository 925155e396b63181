"""calculate_analytics and league_analytics: player consistency, scoring trends, trade impact, power rankings.

The sums and joins run in SQL; medians and standard deviations come from `fantasy_jobs.stats`
(SQLite has neither), over small groups: one player's games, one league's teams in a week.

Power ranking formula (per league and week, over the weeks scored so far):
    score = 100 * (0.50 * season / best season
                 + 0.35 * last three weeks / best last three weeks
                 + 0.15 * consistency)
where `season` is the team's points plus bonuses so far, `last three weeks` the same over the
latest three scored weeks, and `consistency` = max(0, 1 - coefficient of variation of its weekly
points) (1 with fewer than two weeks). Ties rank by season points, then team id.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from itertools import groupby

from sqlalchemy import bindparam, text

from fantasy_jobs import scoring, settings
from fantasy_jobs.db import analyze, create_temp_table, upsert, use_job_work_mem
from fantasy_jobs.runtime import JobContext, JobResult, last_completed_start
from fantasy_jobs.schema import UtcDateTime, utcnow
from fantasy_jobs.stats import round_half_up, summarize
from fantasy_jobs.timeutil import fantasy_week

WEIGHT_SEASON, WEIGHT_RECENT, WEIGHT_CONSISTENCY = 0.50, 0.35, 0.15
MIN_RATED_GAMES = 3


def consistency_score(cv: float | None) -> float | None:
    """0-100: 100 for a player who scores the same every game, 0 once the spread reaches the mean."""
    return None if cv is None else round(max(0.0, min(100.0, 100.0 * (1.0 - cv))), 1)


CHANGED_PLAYERS = "tmp_consistency_players"
"""The players a run driven by the change log recomputes (player_id)."""


def take_consistency_changes(conn, consume: bool) -> int:
    """CHANGED_PLAYERS from `consistency_changes`; the rows read are deleted (unless a dry run)."""
    create_temp_table(conn, "tmp_consistency_taken", "id BIGINT PRIMARY KEY, player_id BIGINT NOT NULL")
    conn.execute(
        text(
            "INSERT INTO tmp_consistency_taken (id, player_id) SELECT id, player_id FROM consistency_changes"
        )
    )
    if consume:
        conn.execute(
            text("DELETE FROM consistency_changes WHERE id IN (SELECT id FROM tmp_consistency_taken)")
        )
    create_temp_table(conn, CHANGED_PLAYERS, "player_id BIGINT PRIMARY KEY")
    return conn.execute(
        text(
            f"INSERT INTO {CHANGED_PLAYERS} (player_id) SELECT DISTINCT player_id FROM tmp_consistency_taken"
        )
    ).rowcount


def remove_gone_player_seasons(conn, rows: list[dict], scoped: bool) -> int:
    """Delete the consistency of player seasons (of the players read, when `scoped`) that no longer
    have a line: all removed, or their games moved to another season. `rows` is one per player season
    (a few hundred a season), not per line."""
    create_temp_table(conn, "tmp_keep_consistency", "player_id BIGINT NOT NULL, season INTEGER NOT NULL")
    if rows:
        conn.execute(
            text("INSERT INTO tmp_keep_consistency (player_id, season) VALUES (:player_id, :season)"),
            [{"player_id": r["player_id"], "season": r["season"]} for r in rows],
        )
    scope = f"player_id IN (SELECT player_id FROM {CHANGED_PLAYERS}) AND " if scoped else ""
    return conn.execute(
        text(f"""
            DELETE FROM player_consistency
            WHERE {scope}NOT EXISTS (SELECT 1 FROM tmp_keep_consistency k
                                     WHERE k.player_id = player_consistency.player_id
                                       AND k.season = player_consistency.season)
        """)
    ).rowcount


def consistency_whole_reason(ctx: JobContext) -> str | None:
    """Why this run reads every line (None: the players the change log names)."""
    if ctx.full:
        return "asked for (--full)"
    if ctx.engine.dialect.name != "postgresql":
        return "SQLite: every player (no change log there)"
    days = settings.get("analytics_full_days")
    if last_completed_start(ctx, full_only=True, within=timedelta(days=days)) is None:
        return f"none read every player in the last {days} days (analytics_full_days)"
    return None


def calculate_analytics(ctx: JobContext) -> JobResult:
    """player_consistency per player and season, on the default weights (final lines of games played).

    On PostgreSQL a run recomputes only the players whose lines changed since the last run (the
    `consistency_changes` log); every player on the first run, with --full and when no such run
    completed within `analytics_full_days`."""
    formula = scoring.points_sql(scoring.league_weights({}), "s")
    reason = consistency_whole_reason(ctx)
    with ctx.engine.begin() as conn:
        only = ""
        if reason is None:
            # an empty log is the common case: one index probe, no scratch tables (the job's whole
            # work is a few hundred player seasons, so fixed costs would dominate a quiet run)
            queued = conn.scalar(text("SELECT EXISTS (SELECT 1 FROM consistency_changes)"))
            changed = take_consistency_changes(conn, consume=not ctx.dry_run) if queued else 0
            ctx.log.info("changes only: %d player(s) with lines changed since the last run", changed)
            if not changed:
                return JobResult(0, "nothing changed since the last run", {"full": False, "players": 0})
            only = f"AND s.player_id IN (SELECT player_id FROM {CHANGED_PLAYERS})"
        else:
            ctx.log.info("every player: %s", reason)
            if ctx.engine.dialect.name == "postgresql" and not ctx.dry_run:
                conn.execute(
                    text(
                        "DELETE FROM consistency_changes WHERE id <= (SELECT MAX(id) FROM consistency_changes)"
                    )
                )
        query = text(f"""
            SELECT s.player_id, g.season, {formula} AS points
            FROM player_game_stats s JOIN games g ON g.id = s.game_id
            WHERE s.is_final AND NOT s.did_not_play {only}
            ORDER BY s.player_id, g.season
        """)
        rows = []
        result = conn.execute(query, execution_options={"yield_per": 5000})  # this statement only
        for (player_id, season), group in groupby(result, key=lambda r: (r.player_id, r.season)):
            summary = summarize([float(r.points) for r in group])
            rated = summary.n >= MIN_RATED_GAMES
            rows.append(
                {
                    "player_id": player_id,
                    "season": season,
                    "games": summary.n,
                    "mean_points": summary.mean,
                    "stddev_points": summary.stddev,
                    "coefficient_of_variation": round(summary.cv, 4) if summary.cv is not None else None,
                    "consistency_score": consistency_score(summary.cv) if rated else None,
                    "rated": rated,
                }
            )
        rated_seasons = sum(r["rated"] for r in rows)
        details = {"full": reason is not None, "player_seasons": len(rows)}
        if ctx.dry_run:
            return JobResult(
                len(rows),
                f"dry run: would store consistency of {len(rows)} player seasons ({rated_seasons} rated)",
                details,
            )
        written = remove_gone_player_seasons(conn, rows, scoped=reason is None)
        written += upsert(conn, "player_consistency", rows, ["player_id", "season"])
    return JobResult(
        written,
        f"{len(rows)} player seasons ({rated_seasons} rated, {len(rows) - rated_seasons} under "
        f"{MIN_RATED_GAMES} games): {written} new or changed",
        details,
    )


# --- league_analytics -----------------------------------------------------------------------


def scoring_trends(weekly: dict[int, dict[int, list[tuple[int, float, float]]]]) -> list[dict]:
    rows = []
    for league_id, weeks in weekly.items():
        previous = None
        for week in sorted(weeks):
            summary = summarize([points for _, points, _ in weeks[week]])
            rows.append(
                {
                    "league_id": league_id,
                    "week": week,
                    "teams": summary.n,
                    "mean_points": summary.mean,
                    "median_points": summary.median,
                    "stddev_points": summary.stddev,
                    "change_from_previous": round_half_up(summary.mean - previous, 4)
                    if previous is not None and summary.mean is not None
                    else None,
                }
            )
            previous = summary.mean
    return rows


def season_moments(history: list[float]) -> tuple[float, float, float | None, float | None]:
    """(season, sum of squares, mean, sample standard deviation, the last two rounded to 4 decimals) of
    a team's weekly totals so far, summed in week order: the additions and formula of RANKINGS_SQL."""
    season = squares = 0.0
    for total in history:
        season += total
        squares += total * total
    n = len(history)
    mean = round_half_up(season / n, 4) if n else None
    sd = (
        round_half_up(math.sqrt(max((n * squares - season * season) / (n * (n - 1)), 0.0)), 4)
        if n > 1
        else None
    )
    return season, squares, mean, sd


def power_rankings(weekly: dict[int, dict[int, list[tuple[int, float, float]]]]) -> list[dict]:
    rows = []
    for league_id, weeks in weekly.items():
        history: dict[int, list[float]] = defaultdict(list)  # team -> weekly totals so far
        previous_rank: dict[int, int] = {}
        ordered = sorted(weeks)
        by_week = {w: {tid: p + b for tid, p, b in weeks[w]} for w in ordered}
        for index, week in enumerate(ordered):
            for team_id, total in by_week[week].items():
                history[team_id].append(total)
            teams = sorted(history)
            stats = {t: season_moments(history[t]) for t in teams}
            season = {t: stats[t][0] for t in teams}
            recent_weeks = ordered[max(0, index - 2) : index + 1]
            recent = {t: sum(by_week[w].get(t, 0.0) for w in recent_weeks) for t in teams}
            best_season, best_recent = max(season.values()) or 1.0, max(recent.values()) or 1.0
            scores = {}
            for t in teams:
                _, _, mean, sd = stats[t]
                cv = sd / mean if sd is not None and mean else None
                steadiness = 1.0 if len(history[t]) < 2 or cv is None else max(0.0, 1.0 - cv)
                scores[t] = (
                    round_half_up(
                        100
                        * (
                            WEIGHT_SEASON * season[t] / best_season
                            + WEIGHT_RECENT * recent[t] / best_recent
                            + WEIGHT_CONSISTENCY * steadiness
                        ),
                        4,
                    ),
                    round_half_up(steadiness, 4),
                )
            order = sorted(teams, key=lambda t: (-scores[t][0], -season[t], t))
            for rank, t in enumerate(order, 1):
                rows.append(
                    {
                        "league_id": league_id,
                        "week": week,
                        "fantasy_team_id": t,
                        "score": scores[t][0],
                        "rank": rank,
                        "previous_rank": previous_rank.get(t),
                        "season_points": round_half_up(season[t], 2),
                        "recent_points": round_half_up(recent[t], 2),
                        "consistency": scores[t][1],
                        "weeks_played": len(history[t]),
                        "season_total": season[t],
                        "season_squares": stats[t][1],
                    }
                )
            previous_rank = {t: rank for rank, t in enumerate(order, 1)}
    return rows


def round_sql(expression: str, digits: int, dialect: str) -> str:
    """stats.round_half_up(expression, digits) as a double on both dialects. PostgreSQL rounds NUMERIC
    only, and a double cast straight to NUMERIC keeps 15 digits (88.46124999999999 would become
    88.4612500000000 and round up); through its shortest exact text it rounds as the Python path."""
    if dialect == "postgresql":
        return f"CAST(ROUND(CAST(CAST({expression} AS TEXT) AS NUMERIC), {digits}) AS DOUBLE PRECISION)"
    return f"ROUND({expression}, {digits})"


def differs(dialect: str, left: str, right: str) -> str:
    return f"{left} IS DISTINCT FROM {right}" if dialect == "postgresql" else f"{left} IS NOT {right}"


def upsert_select(
    conn, table: str, keys: tuple[str, ...], columns: tuple[str, ...], select_sql: str, params: dict
) -> int:
    """INSERT INTO table (keys + columns, updated_at) SELECT ... ON CONFLICT (keys) DO UPDATE where a value
    differs: set-based, so nothing passes through Python; returns rows inserted or changed."""
    dialect = conn.dialect.name
    names = ", ".join((*keys, *columns, "updated_at"))
    changed = " OR ".join(differs(dialect, f"{table}.{c}", f"excluded.{c}") for c in columns)
    statement = text(f"""
        INSERT INTO {table} ({names})
        SELECT *, :now FROM ({select_sql}) AS computed WHERE true
        ON CONFLICT ({", ".join(keys)}) DO UPDATE
        SET {", ".join(f"{c} = excluded.{c}" for c in columns)}, updated_at = excluded.updated_at
        WHERE {changed}
    """).bindparams(bindparam("now", type_=UtcDateTime()))
    return conn.execute(statement, {"now": utcnow(), **params}).rowcount


TRADE_SIDES = """
    SELECT t.id AS trade_id, t.league_id, ti.to_team_id AS team_id, 'received' AS side, SUM(fp.points) AS points,
           COUNT(DISTINCT g.id) AS games
    FROM trades t
    JOIN trade_items ti ON ti.trade_id = t.id
    JOIN league_profiles lp ON lp.league_id = t.league_id
    JOIN roster_slots rs ON rs.fantasy_team_id = ti.to_team_id AND rs.player_id = ti.player_id
    JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = ti.player_id
    JOIN games g ON g.id = fp.game_id
    WHERE t.status = 'accepted' AND g.start_time > t.accepted_at AND g.start_time <= :as_of{trade_filter}
      AND rs.slot IN ({starting}) AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
    GROUP BY t.id, t.league_id, ti.to_team_id
    UNION ALL
    SELECT t.id, t.league_id, ti.from_team_id, 'given', SUM(fp.points), COUNT(DISTINCT g.id)
    FROM trades t
    JOIN trade_items ti ON ti.trade_id = t.id
    JOIN league_profiles lp ON lp.league_id = t.league_id
    JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = ti.player_id
    JOIN games g ON g.id = fp.game_id
    WHERE t.status = 'accepted' AND g.start_time > t.accepted_at AND g.start_time <= :as_of{trade_filter}
    GROUP BY t.id, t.league_id, ti.from_team_id
"""


def store_trade_impacts(conn, now, changed_only: bool = False) -> int:
    """For each side of an accepted trade, since the trade: what its received players scored for it (as
    starters) against what the players it gave away scored in their games (any lineup). One statement;
    `changed_only`: the trades in CHANGED_TRADES only."""
    dialect = conn.dialect.name
    trade_filter = f" AND t.id IN (SELECT trade_id FROM {CHANGED_TRADES})" if changed_only else ""
    starting = ", ".join(f"'{s}'" for s in scoring.STARTING_SLOTS)
    received = round_sql("COALESCE(SUM(CASE WHEN p.side = 'received' THEN p.points END), 0)", 2, dialect)
    given = round_sql("COALESCE(SUM(CASE WHEN p.side = 'given' THEN p.points END), 0)", 2, dialect)
    computed = f"""
        SELECT s.trade_id, s.fantasy_team_id, MIN(s.league_id) AS league_id,
               {received} AS points_received, {given} AS points_given,
               {round_sql(f"{received} - {given}", 2, dialect)} AS net_points,
               COALESCE(MAX(CASE WHEN p.side = 'received' THEN p.games END), 0) AS games
        FROM (SELECT t.id AS trade_id, t.league_id, ti.from_team_id AS fantasy_team_id
              FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted'{trade_filter}
              UNION
              SELECT t.id, t.league_id, ti.to_team_id
              FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted'{trade_filter}) AS s
        LEFT JOIN ({TRADE_SIDES.format(starting=starting, trade_filter=trade_filter)}) AS p
          ON p.trade_id = s.trade_id AND p.team_id = s.fantasy_team_id
        GROUP BY s.trade_id, s.fantasy_team_id
    """
    return upsert_select(
        conn,
        "trade_impacts",
        ("trade_id", "fantasy_team_id"),
        ("league_id", "points_received", "points_given", "net_points", "games"),
        computed,
        {"as_of": now},
    )


ANALYSED_STATUSES = "('active', 'completed')"
SCORED_WEEKS = f"""
    SELECT tws.league_id, tws.week, tws.fantasy_team_id, tws.points, tws.bonus_points
    FROM team_week_scores tws JOIN leagues l ON l.id = tws.league_id
    WHERE l.status IN {ANALYSED_STATUSES} AND tws.week <= :week
"""
"""The team weeks league_analytics reads: leagues active or completed, weeks up to the run's week."""

PG = "postgresql"
DIGEST_VERSION = 2
"""Part of every scores digest: raise it when the rankings formula or their stored state changes, so
every league is ranked again from its first week (and a run analyses every league until one with
this version has: `whole_run_reason`). 2: rankings keep each team's exact season so far."""
DIGEST_SQL = (
    "CAST(SUM(hashint8extended(tws.fantasy_team_id, hashfloat8extended(tws.points, "
    f"hashfloat8extended(COALESCE(tws.bonus_points, 0), {DIGEST_VERSION})))) AS TEXT)"
)
"""An order-free fingerprint of a league week's team scores (team, points, bonus): what its rankings
and those of every later week are computed from."""

WEEKS_TABLE = "tmp_league_weeks"
VANISHED_TABLE = "tmp_vanished_weeks"
DIRTY_TABLE = "tmp_rank_leagues"
RANKED_TABLE = "tmp_power_rankings"
CHANGED_LEAGUES = "tmp_analytics_leagues"
"""The leagues a run analyses: league_id; from_week, the first week whose trends and rankings may have
changed (NULL: its trade impacts only; 0: every week); context_week, the scored week before it (its
mean is the first trend's previous one)."""
CHANGED_TRADES = "tmp_analytics_trades"
"""The trades whose impact such a run computes again (trade_id)."""

_N = "NUMERIC"
_D = "DOUBLE PRECISION"

SCOPED_WEEKS = f"""
    SELECT tws.league_id, tws.week, tws.fantasy_team_id, tws.points, tws.bonus_points
    FROM team_week_scores tws JOIN {CHANGED_LEAGUES} c ON c.league_id = tws.league_id AND tws.week >= c.context_week
    WHERE tws.week <= :week AND tws.week >= (SELECT MIN(context_week) FROM {CHANGED_LEAGUES})
"""
"""The team weeks of the analysed leagues from each one's context week on (the constant lower bound lets
the planner read only those weeks through the (week, league) index)."""

TRENDS_SQL = f"""
    SELECT league_id, week, teams, mean_points, median_points, stddev_points,
           {round_sql("mean_points - LAG(mean_points) OVER league_weeks", 4, PG)} AS change_from_previous,
           scores_digest, LAG(week) OVER league_weeks AS previous_week
    FROM (SELECT tws.league_id, tws.week, COUNT(*) AS teams,
                 CAST(ROUND(AVG(CAST(tws.points AS {_N})), 4) AS {_D}) AS mean_points,
                 {round_sql("percentile_cont(0.5) WITHIN GROUP (ORDER BY tws.points)", 4, PG)} AS median_points,
                 CAST(ROUND(stddev_samp(CAST(tws.points AS {_N})), 4) AS {_D}) AS stddev_points,
                 {DIGEST_SQL} AS scores_digest
          FROM ({SCOPED_WEEKS}) AS tws GROUP BY tws.league_id, tws.week) AS weekly
    WINDOW league_weeks AS (PARTITION BY league_id ORDER BY week)
"""
"""scoring_trends() in PostgreSQL's words (the same numbers, computed where the rows are; mean and
standard deviation exact, in NUMERIC), with each league week's scores digest and the league's previous
scored week. The context week's row only gives the first analysed week its change_from_previous."""

CONTEXT_WEEK = f"""
    UPDATE {CHANGED_LEAGUES} c SET context_week = COALESCE(
        (SELECT MAX(t.week) FROM league_scoring_trends t WHERE t.league_id = c.league_id AND t.week < c.from_week),
        c.from_week)
    WHERE c.from_week > 0
"""
"""Each league's scored week before its first changed one, as stored (the weeks before from_week are
unchanged since the last run, so their stored trends are the league's scored weeks)."""

VANISHED_SQL = f"""
    SELECT t.league_id, t.week
    FROM league_scoring_trends t JOIN {CHANGED_LEAGUES} c ON c.league_id = t.league_id AND t.week >= c.from_week
    WHERE t.week <= :week
      AND NOT EXISTS (SELECT 1 FROM {WEEKS_TABLE} w WHERE w.league_id = t.league_id AND w.week = t.week)
"""
"""Stored weeks of the analysed leagues that are gone (all their team weeks removed): their trends and
rankings are removed, and the league ranked again from there."""
DIRTY_SQL = f"""
    SELECT league_id, MIN(week) AS first_week FROM (
        SELECT w.league_id, w.week
        FROM {WEEKS_TABLE} w
        LEFT JOIN league_scoring_trends t ON t.league_id = w.league_id AND t.week = w.week
        WHERE t.scores_digest IS DISTINCT FROM w.scores_digest
        UNION ALL
        SELECT league_id, week FROM {VANISHED_TABLE}
    ) AS changed
    GROUP BY league_id
"""
"""Leagues with a week whose scores changed since they were ranked (or never ranked), or a week that
is gone: their rankings are written from `first_week` on. Earlier weeks are unchanged: the season so
far comes from the rankings stored with the week before."""
RANK_BASE = (
    f"""UPDATE {DIRTY_TABLE} d SET base_week = (SELECT MAX(t.week) FROM league_scoring_trends t
                                               WHERE t.league_id = d.league_id AND t.week < d.first_week)""",
    f"""UPDATE {DIRTY_TABLE} d SET context_week = COALESCE(
            (SELECT MAX(t.week) FROM league_scoring_trends t WHERE t.league_id = d.league_id AND t.week < d.base_week),
            d.base_week, d.first_week)""",
)
"""base_week: the league's scored week before the first changed one (its stored rankings hold each
team's season so far and rank); context_week: the two scored weeks before it, for the last-three-weeks sum."""
STALE_TRENDS = f"""
    DELETE FROM league_scoring_trends t USING {VANISHED_TABLE} v WHERE t.league_id = v.league_id AND t.week = v.week
"""
RANKED_WEEKS = f"""
    SELECT w.league_id, w.week FROM {WEEKS_TABLE} w JOIN {DIRTY_TABLE} d ON d.league_id = w.league_id AND w.week >= d.first_week
    UNION ALL
    SELECT league_id, week FROM {VANISHED_TABLE}
"""
STALE_RANKINGS = f"""
    DELETE FROM power_rankings r USING ({RANKED_WEEKS}) AS k
    WHERE r.league_id = k.league_id AND r.week = k.week
      AND NOT EXISTS (SELECT 1 FROM {RANKED_TABLE} n
                      WHERE n.league_id = r.league_id AND n.week = r.week AND n.fantasy_team_id = r.fantasy_team_id)
"""
"""Stored rankings of the weeks ranked again that the new ranking lacks: a week that is gone, a team not
seen in its league by that week (its team weeks removed). Found by (league, week), through the index."""

VARIANCE = "(n * squares - season * season) / (n * (n - 1))"
"""The sample variance from the count, sum and sum of squares (power_rankings() computes the same)."""
_SCORE = (
    f"CAST(100 AS {_D}) * ("
    f"CAST({WEIGHT_SEASON} AS {_D}) * season / best_season"
    f" + CAST({WEIGHT_RECENT} AS {_D}) * recent / best_recent"
    f" + CAST({WEIGHT_CONSISTENCY} AS {_D}) * steadiness)"
)
RANKINGS_SQL = f"""
    WITH base AS (  -- each team's season up to the base week, as the rankings stored then hold it
        SELECT d.league_id, r.fantasy_team_id, r.rank, r.weeks_played, r.season_total, r.season_squares
        FROM {DIRTY_TABLE} d
        CROSS JOIN LATERAL (  -- OFFSET 0: kept a lookup per league (through the index), not a scan of them all
            SELECT r.fantasy_team_id, r.rank, r.weeks_played, r.season_total, r.season_squares
            FROM power_rankings r WHERE r.league_id = d.league_id AND r.week = d.base_week OFFSET 0) AS r
    ),
    scores AS (  -- team weeks from the context week on: only the last weeks of the season are read
        SELECT tws.league_id, tws.week, tws.fantasy_team_id, tws.points + COALESCE(tws.bonus_points, 0) AS total
        FROM team_week_scores tws JOIN {DIRTY_TABLE} d ON d.league_id = tws.league_id AND tws.week >= d.context_week
        WHERE tws.week <= :week AND tws.week >= (SELECT MIN(context_week) FROM {DIRTY_TABLE})
    ),
    teams AS (  -- every team seen so far: those ranked in the base week, and those seen since
        SELECT league_id, fantasy_team_id, MIN(seen_from) AS seen_from
        FROM (SELECT league_id, fantasy_team_id, -1 AS seen_from FROM base
              UNION ALL
              SELECT league_id, fantasy_team_id, MIN(week) FROM scores GROUP BY league_id, fantasy_team_id) AS seen
        GROUP BY league_id, fantasy_team_id
    ),
    grid AS (  -- each of them in every later scored week of its league (power_rankings() ranks them all)
        SELECT lw.league_id, lw.week, f.fantasy_team_id, s.total, d.first_week, d.base_week
        FROM (SELECT DISTINCT league_id, week FROM scores) AS lw
        JOIN {DIRTY_TABLE} d ON d.league_id = lw.league_id
        JOIN teams f ON f.league_id = lw.league_id AND f.seen_from <= lw.week
        LEFT JOIN scores s
          ON s.league_id = lw.league_id AND s.week = lw.week AND s.fantasy_team_id = f.fantasy_team_id
    ),
    running AS (  -- sums so far in week order, the base week's row seeded with the stored season: the same
                  -- additions, in the same order, as summing the whole season
        SELECT g.league_id, g.week, g.fantasy_team_id, g.first_week, b.rank AS base_rank,
               COALESCE(SUM(CASE WHEN g.week >= g.first_week THEN g.total
                                 WHEN g.week = g.base_week THEN b.season_total END) OVER so_far, 0) AS season,
               COALESCE(b.weeks_played, 0)
                 + COUNT(CASE WHEN g.week >= g.first_week THEN g.total END) OVER so_far AS n,
               COALESCE(SUM(CASE WHEN g.week >= g.first_week THEN g.total * g.total
                                 WHEN g.week = g.base_week THEN b.season_squares END) OVER so_far, 0) AS squares,
               SUM(COALESCE(g.total, 0)) OVER (PARTITION BY g.league_id, g.fantasy_team_id ORDER BY g.week
                                               ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS recent
        FROM grid g
        LEFT JOIN base b ON b.league_id = g.league_id AND b.fantasy_team_id = g.fantasy_team_id
        WINDOW so_far AS (PARTITION BY g.league_id, g.fantasy_team_id ORDER BY g.week ROWS UNBOUNDED PRECEDING)
    ),
    moments AS (  -- the weeks ranked: mean and sample standard deviation of the weekly totals so far
        SELECT *, CASE WHEN n > 0 THEN {round_sql("season / n", 4, PG)} END AS mean4,
               CASE WHEN n > 1 THEN {round_sql(f"SQRT(GREATEST({VARIANCE}, 0))", 4, PG)} END AS sd4
        FROM running WHERE week >= first_week
    ),
    steady AS (
        SELECT *,
               CASE WHEN n < 2 OR sd4 IS NULL OR mean4 = 0 THEN CAST(1 AS {_D})
                    ELSE GREATEST(CAST(0 AS {_D}), CAST(1 AS {_D}) - sd4 / mean4) END AS steadiness,
               COALESCE(NULLIF(MAX(season) OVER league_week, 0), 1) AS best_season,
               COALESCE(NULLIF(MAX(recent) OVER league_week, 0), 1) AS best_recent
        FROM moments
        WINDOW league_week AS (PARTITION BY league_id, week)
    ),
    scored AS (
        SELECT *, {round_sql(_SCORE, 4, PG)} AS score FROM steady
    ),
    ranked AS (
        SELECT *,
               ROW_NUMBER() OVER (PARTITION BY league_id, week ORDER BY score DESC, season DESC, fantasy_team_id)
                 AS rank
        FROM scored
    )
    SELECT league_id, week, fantasy_team_id, score, rank,
           COALESCE(LAG(rank) OVER (PARTITION BY league_id, fantasy_team_id ORDER BY week), base_rank) AS previous_rank,
           {round_sql("season", 2, PG)} AS season_points,
           {round_sql("recent", 2, PG)} AS recent_points,
           {round_sql("steadiness", 4, PG)} AS consistency,
           n AS weeks_played, season AS season_total, squares AS season_squares
    FROM ranked
"""
"""power_rankings() in PostgreSQL's words, for the leagues in DIRTY_TABLE, from each one's first changed
week on: each team's running sums start from those stored with its base week's ranking and add the
weeks since, in week order (the very additions a run over the whole season makes, so the numbers are
equal to the last bit); only the two weeks before are read again, for the last-three-weeks sum. A
league never ranked has no base week: its whole season."""

TREND_COLUMNS = ("teams", "mean_points", "median_points", "stddev_points", "change_from_previous")
RANKING_COLUMNS = ("score", "rank", "previous_rank", "season_points", "recent_points", "consistency")
RANKING_STATE = ("weeks_played", "season_total", "season_squares")
RANKED_COLUMNS = (
    "league_id BIGINT NOT NULL, week INTEGER NOT NULL, fantasy_team_id BIGINT NOT NULL, score DOUBLE PRECISION, "
    "rank INTEGER, previous_rank INTEGER, season_points DOUBLE PRECISION, recent_points DOUBLE PRECISION, "
    "consistency DOUBLE PRECISION, weeks_played BIGINT, season_total DOUBLE PRECISION, "
    "season_squares DOUBLE PRECISION, PRIMARY KEY (league_id, week, fantasy_team_id)"
)
LEAGUE_WEEKS = (
    f"SELECT COUNT(*) FROM (SELECT DISTINCT league_id, week FROM ({SCORED_WEEKS}) AS scored) AS weeks"
)


def scope_every_league(conn) -> None:
    """CHANGED_LEAGUES: every analysed league, from its first week (a run from scratch)."""
    create_temp_table(
        conn,
        CHANGED_LEAGUES,
        "league_id BIGINT PRIMARY KEY, from_week INTEGER, context_week INTEGER, trades BOOLEAN NOT NULL",
    )
    conn.execute(
        text(f"""
            INSERT INTO {CHANGED_LEAGUES} (league_id, from_week, context_week, trades)
            SELECT id, 0, 0, true FROM leagues WHERE status IN {ANALYSED_STATUSES}""")
    )
    analyze(conn, CHANGED_LEAGUES)


def store_in_sql(conn, week: int, log=None, scoped: bool = False) -> int:
    """Trends and rankings computed and written by PostgreSQL: memory stays flat however many leagues.

    Trends are computed for the league weeks in CHANGED_LEAGUES' scope (`scoped`; else every league,
    every week); power rankings only for the leagues whose scores changed since they were ranked (a
    digest per league week, stored with its trend), and there only from the first changed week on,
    from the season so far stored with the week before: past weeks are not read again every day."""
    if not scoped:
        scope_every_league(conn)
    create_temp_table(
        conn,
        WEEKS_TABLE,
        "league_id BIGINT NOT NULL, week INTEGER NOT NULL, teams INTEGER NOT NULL, mean_points DOUBLE PRECISION, "
        "median_points DOUBLE PRECISION, stddev_points DOUBLE PRECISION, change_from_previous DOUBLE PRECISION, "
        "scores_digest VARCHAR(40), previous_week INTEGER, PRIMARY KEY (league_id, week)",
    )
    conn.execute(text(f"INSERT INTO {WEEKS_TABLE} {TRENDS_SQL}"), {"week": week})
    conn.execute(
        text(
            f"DELETE FROM {WEEKS_TABLE} w USING {CHANGED_LEAGUES} c "
            "WHERE c.league_id = w.league_id AND w.week < c.from_week"
        )
    )
    create_temp_table(
        conn,
        VANISHED_TABLE,
        "league_id BIGINT NOT NULL, week INTEGER NOT NULL, PRIMARY KEY (league_id, week)",
    )
    create_temp_table(
        conn,
        DIRTY_TABLE,
        "league_id BIGINT PRIMARY KEY, first_week INTEGER NOT NULL, base_week INTEGER, context_week INTEGER",
    )
    analyze(conn, WEEKS_TABLE)
    conn.execute(text(f"INSERT INTO {VANISHED_TABLE} (league_id, week) {VANISHED_SQL}"), {"week": week})
    conn.execute(text(f"INSERT INTO {DIRTY_TABLE} (league_id, first_week) {DIRTY_SQL}"))
    for statement in RANK_BASE:
        conn.execute(text(statement))
    analyze(conn, VANISHED_TABLE, DIRTY_TABLE)
    removed = conn.execute(text(STALE_TRENDS)).rowcount
    dirty, from_stored, weeks = conn.execute(
        text(
            f"SELECT COUNT(*), COUNT(base_week), (SELECT COUNT(*) FROM ({RANKED_WEEKS}) AS k) FROM {DIRTY_TABLE}"
        )
    ).one()
    if log is not None:
        log.info(
            "power rankings: %s league(s) with changed scores (%s from the season so far stored with an "
            "earlier week), %s league week(s) to rank",
            dirty,
            from_stored,
            weeks,
        )
    written = removed + upsert_select(
        conn,
        "league_scoring_trends",
        ("league_id", "week"),
        (*TREND_COLUMNS, "scores_digest"),
        f"SELECT league_id, week, {', '.join((*TREND_COLUMNS, 'scores_digest'))} FROM {WEEKS_TABLE}",
        {},
    )
    if not dirty:
        return written
    create_temp_table(conn, RANKED_TABLE, RANKED_COLUMNS)
    ranked = (*RANKING_COLUMNS, *RANKING_STATE)
    conn.execute(
        text(
            f"INSERT INTO {RANKED_TABLE} (league_id, week, fantasy_team_id, {', '.join(ranked)}) {RANKINGS_SQL}"
        ),
        {"week": week},
    )
    analyze(conn, RANKED_TABLE)
    written += conn.execute(text(STALE_RANKINGS)).rowcount
    return written + upsert_select(
        conn,
        "power_rankings",
        ("league_id", "week", "fantasy_team_id"),
        ranked,
        f"SELECT league_id, week, fantasy_team_id, {', '.join(ranked)} FROM {RANKED_TABLE}",
        {},
    )


def store_in_python(conn, week: int) -> int:
    """Trends and rankings through scoring_trends() and power_rankings(), for SQLite (no median or
    standard deviation in its SQL; a small database there)."""
    rows = conn.execute(
        text(f"{SCORED_WEEKS} ORDER BY tws.league_id, tws.week, tws.fantasy_team_id"), {"week": week}
    ).all()
    weekly: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for league_id, week_key, team, points, bonus in rows:
        weekly[league_id][week_key].append((team, float(points), float(bonus or 0)))
    trends, ranks = scoring_trends(weekly), power_rankings(weekly)
    written = remove_stale(conn, "league_scoring_trends", ("league_id", "week"), trends, week)
    written += remove_stale(conn, "power_rankings", ("league_id", "week", "fantasy_team_id"), ranks, week)
    written += upsert(conn, "league_scoring_trends", trends, ["league_id", "week"])
    return written + upsert(conn, "power_rankings", ranks, ["league_id", "week", "fantasy_team_id"])


def remove_stale(conn, table: str, keys: tuple[str, ...], rows: list[dict], week: int) -> int:
    """Delete the rows of `table` of the analysed leagues (up to `week`) that the computed `rows` no
    longer hold: a week whose team weeks are gone, a team no longer seen by that week."""
    scratch = f"tmp_keep_{table}"
    create_temp_table(conn, scratch, ", ".join(f"{k} BIGINT NOT NULL" for k in keys))
    if rows:
        conn.execute(
            text(f"INSERT INTO {scratch} ({', '.join(keys)}) VALUES ({', '.join(':' + k for k in keys)})"),
            [{k: r[k] for k in keys} for r in rows],
        )
    match = " AND ".join(f"k.{k} = {table}.{k}" for k in keys)
    return conn.execute(
        text(f"""
            DELETE FROM {table}
            WHERE week <= :week AND league_id IN (SELECT league_id FROM {scratch})
              AND NOT EXISTS (SELECT 1 FROM {scratch} k WHERE {match})
        """),
        {"week": week},
    ).rowcount


def take_changes(conn) -> tuple[int, int]:
    """CHANGED_LEAGUES from the queued leagues (their rows then deleted, exactly those: a change
    committed during the run waits for the next), each from the first week queued for it (none for a
    league not analysed), and CHANGED_TRADES, the accepted trades of the leagues queued for their
    trade impacts (team weeks alone do not change those). Returns (leagues, trades)."""
    create_temp_table(
        conn, "tmp_analytics_taken", "id BIGINT PRIMARY KEY, league_id BIGINT NOT NULL, from_week INTEGER"
    )
    conn.execute(
        text(
            "INSERT INTO tmp_analytics_taken (id, league_id, from_week) "
            "SELECT id, league_id, from_week FROM analytics_changes"
        )
    )
    conn.execute(text("DELETE FROM analytics_changes WHERE id IN (SELECT id FROM tmp_analytics_taken)"))
    create_temp_table(
        conn,
        CHANGED_LEAGUES,
        "league_id BIGINT PRIMARY KEY, from_week INTEGER, context_week INTEGER, trades BOOLEAN NOT NULL",
    )
    leagues = conn.execute(
        text(f"""
            INSERT INTO {CHANGED_LEAGUES} (league_id, from_week, context_week, trades)
            SELECT t.league_id, CASE WHEN l.status IN {ANALYSED_STATUSES} THEN MIN(t.from_week) END,
                   CASE WHEN l.status IN {ANALYSED_STATUSES} THEN MIN(t.from_week) END,
                   bool_or(t.from_week IS NULL)
            FROM tmp_analytics_taken t LEFT JOIN leagues l ON l.id = t.league_id
            GROUP BY t.league_id, l.status""")
    ).rowcount
    conn.execute(text(CONTEXT_WEEK))
    create_temp_table(conn, CHANGED_TRADES, "trade_id BIGINT PRIMARY KEY")
    trades = conn.execute(
        text(f"""
            INSERT INTO {CHANGED_TRADES} (trade_id) SELECT t.id FROM trades t
            WHERE t.status = 'accepted' AND t.league_id IN (SELECT league_id FROM {CHANGED_LEAGUES} WHERE trades)""")
    ).rowcount
    analyze(conn, CHANGED_LEAGUES, CHANGED_TRADES)
    return leagues, trades


def forget_all_changes(conn) -> None:
    """A whole run covers every queued change: the rows there when it started are deleted."""
    conn.execute(text("DELETE FROM analytics_changes WHERE id <= (SELECT MAX(id) FROM analytics_changes)"))


def whole_run_reason(ctx: JobContext, in_sql: bool) -> str | None:
    """Why this run analyses every league (None: the leagues the change log names)."""
    if ctx.full:
        return "asked for (--full)"
    if not in_sql:
        return "SQLite: every league (no change log there)"
    days = settings.get("analytics_full_days")
    if last_completed_start(ctx, full_only=True, within=timedelta(days=days)) is None:
        return f"none analysed every league in the last {days} days (analytics_full_days)"
    if last_completed_start(ctx, full_only=True, details={"version": DIGEST_VERSION}) is None:
        return f"the rankings' stored state changed (version {DIGEST_VERSION}): every league is ranked again"
    return None


def league_analytics(ctx: JobContext, in_sql: bool | None = None) -> JobResult:
    """Scoring trends, trade impacts and power rankings of active and completed leagues.

    On PostgreSQL every number is computed and written by SQL statements (window functions,
    percentile_cont, stddev_samp), so memory does not grow with the leagues; on SQLite the same
    formulas run in Python (`in_sql` picks a path; a test compares both on the same data).
    On PostgreSQL a run analyses the leagues the change log names (`analytics_changes`: team weeks
    written or deleted, status or season changed, trades changed, points of a traded player
    written): their trends and rankings from the first week changed, and their trade impacts; every
    league on the first run, with --full, and when no such run completed within `analytics_full_days`
    (the safety net)."""
    week = fantasy_week(ctx.now)
    if in_sql is None:
        in_sql = ctx.engine.dialect.name == "postgresql"
    reason = whole_run_reason(ctx, in_sql)
    changed_only = reason is None
    with ctx.engine.begin() as conn:
        use_job_work_mem(conn)
        if ctx.dry_run:
            league_weeks = conn.scalar(text(LEAGUE_WEEKS), {"week": week})
            return JobResult(league_weeks, f"dry run: would analyse {league_weeks} league weeks")
        if changed_only:
            leagues, trades = take_changes(conn)
            ctx.log.info(
                "changes only: %d league(s) and %d trade(s) changed since the last run", leagues, trades
            )
            if not leagues:
                return JobResult(0, "nothing changed since the last run", {"full": False, "leagues": 0})
            written = store_in_sql(conn, week, ctx.log, scoped=True)
            league_weeks = conn.scalar(text(f"SELECT COUNT(*) FROM {WEEKS_TABLE}"))
            ranked, from_stored = conn.execute(
                text(f"SELECT COUNT(*), COUNT(base_week) FROM {DIRTY_TABLE}")
            ).one()
            written += store_trade_impacts(conn, ctx.now, changed_only=True)
            details = {
                "full": False,
                "leagues": leagues,
                "trades": trades,
                "ranked_leagues": ranked,
                "ranked_from_stored_season": from_stored,
            }
        else:
            ctx.log.info("every league: %s", reason)
            if in_sql:
                forget_all_changes(conn)
            league_weeks = conn.scalar(text(LEAGUE_WEEKS), {"week": week})
            written = store_in_sql(conn, week, ctx.log) if in_sql else store_in_python(conn, week)
            written += store_trade_impacts(conn, ctx.now)
            details = {"full": True, "full_reason": reason, "version": DIGEST_VERSION}
    summary = f"{league_weeks} league weeks (trends, power rankings) and trade impacts: {written} rows new or changed"
    ctx.log.info("%s (computed in %s)", summary, "SQL" if in_sql else "Python")
    return JobResult(written, summary, details)
