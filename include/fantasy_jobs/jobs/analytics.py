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

from collections import defaultdict
from itertools import groupby

from sqlalchemy import bindparam, select, text

from fantasy_jobs import scoring
from fantasy_jobs.db import upsert
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import League, TeamWeekScore, UtcDateTime
from fantasy_jobs.stats import summarize
from fantasy_jobs.timeutil import fantasy_week

WEIGHT_SEASON, WEIGHT_RECENT, WEIGHT_CONSISTENCY = 0.50, 0.35, 0.15
MIN_RATED_GAMES = 3


def consistency_score(cv: float | None) -> float | None:
    """0-100: 100 for a player who scores the same every game, 0 once the spread reaches the mean."""
    return None if cv is None else round(max(0.0, min(100.0, 100.0 * (1.0 - cv))), 1)


def calculate_analytics(ctx: JobContext) -> JobResult:
    """player_consistency per player and season, on the default weights (final lines of games played)."""
    formula = scoring.points_sql(scoring.league_weights({}), "s")
    query = text(f"""
        SELECT s.player_id, g.season, {formula} AS points
        FROM player_game_stats s JOIN games g ON g.id = s.game_id
        WHERE s.is_final AND NOT s.did_not_play
        ORDER BY s.player_id, g.season
    """)
    rows = []
    with ctx.engine.connect() as conn:
        result = conn.execution_options(yield_per=5000).execute(query)
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
    rated = sum(r["rated"] for r in rows)
    if ctx.dry_run:
        return JobResult(
            len(rows), f"dry run: would store consistency of {len(rows)} player seasons ({rated} rated)"
        )
    with ctx.engine.begin() as conn:
        written = upsert(conn, "player_consistency", rows, ["player_id", "season"])
    return JobResult(
        written,
        f"{len(rows)} player seasons ({rated} rated, {len(rows) - rated} under "
        f"{MIN_RATED_GAMES} games): {written} new or changed",
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
                    "change_from_previous": round(summary.mean - previous, 4)
                    if previous is not None
                    else None,
                }
            )
            previous = summary.mean
    return rows


def power_rankings(weekly: dict[int, dict[int, list[tuple[int, float, float]]]]) -> list[dict]:
    rows = []
    for league_id, weeks in weekly.items():
        history: dict[int, list[float]] = defaultdict(list)  # team -> weekly totals so far
        previous_rank: dict[int, int] = {}
        ordered = sorted(weeks)
        by_week = {w: {tid: p + b for tid, p, b in weeks[w]} for w in ordered}
        for index, week in enumerate(ordered):
            for team_id, points, bonus in weeks[week]:
                history[team_id].append(points + bonus)
            teams = sorted(history)
            season = {t: sum(history[t]) for t in teams}
            recent_weeks = ordered[max(0, index - 2) : index + 1]
            recent = {t: sum(by_week[w].get(t, 0.0) for w in recent_weeks) for t in teams}
            best_season, best_recent = max(season.values()) or 1.0, max(recent.values()) or 1.0
            scores = {}
            for t in teams:
                cv = summarize(history[t]).cv
                steadiness = 1.0 if len(history[t]) < 2 or cv is None else max(0.0, 1.0 - cv)
                scores[t] = (
                    round(
                        100
                        * (
                            WEIGHT_SEASON * season[t] / best_season
                            + WEIGHT_RECENT * recent[t] / best_recent
                            + WEIGHT_CONSISTENCY * steadiness
                        ),
                        4,
                    ),
                    round(steadiness, 4),
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
                        "season_points": round(season[t], 2),
                        "recent_points": round(recent[t], 2),
                        "consistency": scores[t][1],
                    }
                )
            previous_rank = {t: rank for rank, t in enumerate(order, 1)}
    return rows


TRADE_SIDES = """
    SELECT t.id AS trade_id, t.league_id, ti.to_team_id AS team_id, 'received' AS side, SUM(fp.points) AS points,
           COUNT(DISTINCT g.id) AS games
    FROM trades t
    JOIN trade_items ti ON ti.trade_id = t.id
    JOIN league_profiles lp ON lp.league_id = t.league_id
    JOIN roster_slots rs ON rs.fantasy_team_id = ti.to_team_id AND rs.player_id = ti.player_id
    JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = ti.player_id
    JOIN games g ON g.id = fp.game_id
    WHERE t.status = 'accepted' AND g.start_time > t.accepted_at AND g.start_time <= :now
      AND rs.slot IN ({starting}) AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
    GROUP BY t.id, t.league_id, ti.to_team_id
    UNION ALL
    SELECT t.id, t.league_id, ti.from_team_id, 'given', SUM(fp.points), COUNT(DISTINCT g.id)
    FROM trades t
    JOIN trade_items ti ON ti.trade_id = t.id
    JOIN league_profiles lp ON lp.league_id = t.league_id
    JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = ti.player_id
    JOIN games g ON g.id = fp.game_id
    WHERE t.status = 'accepted' AND g.start_time > t.accepted_at AND g.start_time <= :now
    GROUP BY t.id, t.league_id, ti.from_team_id
"""


def trade_impacts(conn, now) -> list[dict]:
    """For each side of an accepted trade, since the trade: what its received players scored for it (as
    starters) against what the players it gave away scored in their games (any lineup)."""
    sides: dict[tuple[int, int], dict] = {}
    with_teams = text(
        "SELECT t.id, t.league_id, ti.from_team_id, ti.to_team_id FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted'"
    )
    for trade_id, league_id, giver, receiver in conn.execute(with_teams):
        for team in (giver, receiver):
            sides.setdefault(
                (trade_id, team),
                {
                    "trade_id": trade_id,
                    "league_id": league_id,
                    "fantasy_team_id": team,
                    "points_received": 0.0,
                    "points_given": 0.0,
                    "games": 0,
                },
            )
    starting = ", ".join(f"'{s}'" for s in scoring.STARTING_SLOTS)
    statement = text(TRADE_SIDES.format(starting=starting)).bindparams(bindparam("now", type_=UtcDateTime()))
    for trade_id, _league, team, side, points, games in conn.execute(statement, {"now": now}):
        row = sides[(trade_id, team)]
        row["points_received" if side == "received" else "points_given"] = round(float(points or 0), 2)
        if side == "received":
            row["games"] = games
    for row in sides.values():
        row["net_points"] = round(row["points_received"] - row["points_given"], 2)
    return list(sides.values())


def league_analytics(ctx: JobContext) -> JobResult:
    with ctx.engine.connect() as conn:
        scores = conn.execute(
            select(
                TeamWeekScore.league_id,
                TeamWeekScore.week,
                TeamWeekScore.fantasy_team_id,
                TeamWeekScore.points,
                TeamWeekScore.bonus_points,
            )
            .join(League, League.id == TeamWeekScore.league_id)
            .where(League.status.in_(("active", "completed")))
            .where(TeamWeekScore.week <= fantasy_week(ctx.now))
            .order_by(TeamWeekScore.league_id, TeamWeekScore.week, TeamWeekScore.fantasy_team_id)
        ).all()
        impacts = trade_impacts(conn, ctx.now)
    weekly: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for league_id, week, team, points, bonus in scores:
        weekly[league_id][week].append((team, float(points), float(bonus or 0)))
    trends, rankings = scoring_trends(weekly), power_rankings(weekly)
    if ctx.dry_run:
        return JobResult(
            len(trends) + len(impacts) + len(rankings),
            f"dry run: {len(trends)} league weeks, {len(impacts)} trade sides, {len(rankings)} ranking rows",
        )
    with ctx.engine.begin() as conn:
        written = upsert(conn, "league_scoring_trends", trends, ["league_id", "week"])
        written += upsert(conn, "trade_impacts", impacts, ["trade_id", "fantasy_team_id"])
        written += upsert(conn, "power_rankings", rankings, ["league_id", "week", "fantasy_team_id"])
    return JobResult(
        written,
        f"{len(trends)} league weeks, {len(impacts)} trade sides, {len(rankings)} ranking rows: "
        f"{written} new or changed",
    )
