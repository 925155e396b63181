"""calculate_fantasy_scores and calculate_bonuses: points per scoring profile, team week totals, bonuses.

Set-based: fantasy points are computed once per scoring profile for every stat line of the
season (INSERT ... SELECT ... ON CONFLICT), then team totals are one grouped INSERT ... SELECT
over roster slots. The cost grows with profiles x stat lines plus roster slots, not with
leagues x stat lines. Rows are rewritten only when a value changed, so a re-run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, text

from fantasy_jobs import scoring
from fantasy_jobs.alerts import send_slack
from fantasy_jobs.db import upsert
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import Game, League, LeagueProfile, ScoringProfile, UtcDateTime, utcnow
from fantasy_jobs.timeutil import fantasy_week, previous_week, week_start

SCORED_STATUSES = ("active", "completed")
STARTING = ", ".join(f"'{slot}'" for slot in scoring.STARTING_SLOTS)


def differs(dialect: str, left: str, right: str) -> str:
    """`left IS DISTINCT FROM right` in the dialect's words."""
    return f"{left} IS DISTINCT FROM {right}" if dialect == "postgresql" else f"{left} IS NOT {right}"


@dataclass
class LeagueRule:
    league_id: int
    season: int
    weights: dict[str, float]
    bonuses: dict[str, float]


def load_league_rules(ctx: JobContext, statuses: tuple[str, ...]) -> tuple[list[LeagueRule], list[str]]:
    """Each league's weights and bonus rules; a league with bad settings is reported, not fatal."""
    with ctx.engine.connect() as conn:
        leagues = conn.execute(
            select(League.id, League.name, League.season, League.scoring_settings).where(
                League.status.in_(statuses)
            )
        ).all()
    rules, problems = [], []
    for league in leagues:
        label = f"league {league.id} ({league.name})"
        try:
            rules.append(
                LeagueRule(
                    league.id,
                    league.season,
                    scoring.league_weights(league.scoring_settings, label),
                    scoring.league_bonuses(league.scoring_settings, label),
                )
            )
        except scoring.ScoringSettingsError as exc:
            problems.append(str(exc))
            ctx.log.error("%s is not scored: %s", label, exc)
    return rules, problems


def report_problems(ctx: JobContext, problems: list[str]) -> None:
    if problems and not ctx.dry_run:
        send_slack(
            f":warning: *{ctx.job.id}*: {len(problems)} league(s) skipped for bad scoring settings:\n"
            + "\n".join(f"- {p}" for p in problems)
        )


def assign_fantasy_weeks(conn, seasons: set[int]) -> int:
    """games.fantasy_week from each tip-off in league time (a few hundred games a season)."""
    games = conn.execute(
        select(Game.id, Game.start_time, Game.fantasy_week).where(Game.season.in_(seasons))
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


def score_profile(conn, profile_id: int, weights: dict[str, float], seasons: set[int], now) -> int:
    """Fantasy points of every stat line of `seasons` under one profile; returns rows written."""
    dialect = conn.dialect.name
    statement = text(f"""
        INSERT INTO fantasy_points (profile_id, player_id, game_id, week, points, is_final, updated_at)
        SELECT :profile_id, s.player_id, s.game_id, g.fantasy_week, {scoring.points_sql(weights, "s")}, s.is_final, :now
        FROM player_game_stats s JOIN games g ON g.id = s.game_id
        WHERE g.season IN :seasons AND g.fantasy_week IS NOT NULL
        ON CONFLICT (profile_id, player_id, game_id) DO UPDATE
        SET points = excluded.points, week = excluded.week, is_final = excluded.is_final, updated_at = excluded.updated_at
        WHERE {differs(dialect, "fantasy_points.points", "excluded.points")}
           OR {differs(dialect, "fantasy_points.week", "excluded.week")}
           OR {differs(dialect, "fantasy_points.is_final", "excluded.is_final")}
    """).bindparams(bindparam("seasons", expanding=True), bindparam("now", type_=UtcDateTime()))
    return conn.execute(
        statement, {"profile_id": profile_id, "seasons": sorted(seasons), "now": now}
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


def total_team_weeks(conn, league_ids: list[int], now) -> int:
    """team_week_scores.points from STARTER_POINTS, rewritten only where the total changed."""
    dialect = conn.dialect.name
    computed = STARTER_POINTS.format(league_filter="AND l.id IN :league_ids")
    statement = text(f"""
        INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points, updated_at)
        SELECT league_id, fantasy_team_id, week, ROUND(CAST(total AS NUMERIC), 2), 0, :now
        FROM ({computed}) AS computed WHERE true
        ON CONFLICT (fantasy_team_id, week) DO UPDATE
        SET points = excluded.points, league_id = excluded.league_id, updated_at = excluded.updated_at
        WHERE {differs(dialect, "team_week_scores.points", "excluded.points")}
    """).bindparams(bindparam("league_ids", expanding=True), bindparam("now", type_=UtcDateTime()))
    return conn.execute(statement, {"league_ids": league_ids, "now": now}).rowcount


def calculate_fantasy_scores(ctx: JobContext) -> JobResult:
    rules, problems = load_league_rules(ctx, SCORED_STATUSES)
    profiles: dict[str, tuple[dict[str, float], set[int], list[int]]] = {}
    for rule in rules:
        weights, seasons, leagues = profiles.setdefault(
            scoring.weights_hash(rule.weights), (rule.weights, set(), [])
        )
        seasons.add(rule.season)
        leagues.append(rule.league_id)
    ctx.log.info(
        "%d leagues share %d scoring profiles; %d leagues skipped", len(rules), len(profiles), len(problems)
    )
    if ctx.dry_run:
        return JobResult(
            0,
            f"dry run: would score {len(rules)} leagues through {len(profiles)} profiles",
            {"profiles": len(profiles), "skipped_leagues": problems},
        )
    now = utcnow()
    written = 0
    with ctx.engine.begin() as conn:
        weeks = assign_fantasy_weeks(conn, {s for _, seasons, _ in profiles.values() for s in seasons})
        upsert(
            conn,
            ScoringProfile,
            [{"weights_hash": h, "weights": w} for h, (w, _, _) in profiles.items()],
            ["weights_hash"],
            touch=None,
            update=False,
        )
        profile_ids = dict(conn.execute(select(ScoringProfile.weights_hash, ScoringProfile.id)).all())
        upsert(
            conn,
            LeagueProfile,
            [
                {"league_id": lid, "profile_id": profile_ids[h]}
                for h, (_, _, leagues) in profiles.items()
                for lid in leagues
            ],
            ["league_id"],
        )
        for number, (key, (weights, seasons, leagues)) in enumerate(profiles.items(), 1):
            rows = score_profile(conn, profile_ids[key], weights, seasons, now)
            written += rows
            ctx.log.info(
                "profile %d/%d (%s, %d leagues): %d fantasy_points rows written",
                number,
                len(profiles),
                key[:10],
                len(leagues),
                rows,
            )
        totals = total_team_weeks(conn, [r.league_id for r in rules], now) if rules else 0
        written += totals
    report_problems(ctx, problems)
    summary = f"{len(rules)} leagues, {len(profiles)} profiles: {written - totals} points rows and {totals} team weeks written"
    if problems:
        summary += f"; {len(problems)} leagues skipped for bad scoring settings"
    return JobResult(written, summary, {"games_weeks_set": weeks, "skipped_leagues": problems})


# --- calculate_bonuses ----------------------------------------------------------------------


def _starter_overlaps(alias: str) -> str:
    return (
        f"{alias}.slot IN ({STARTING}) AND {alias}.acquired_at < :week_end "
        f"AND ({alias}.released_at IS NULL OR {alias}.released_at > :week_start)"
    )


ALL_STARTERS_PLAYED = f"""
    SELECT ft.id FROM fantasy_teams ft
    WHERE ft.league_id = :league_id
      AND EXISTS (SELECT 1 FROM roster_slots rs WHERE rs.fantasy_team_id = ft.id AND {_starter_overlaps("rs")})
      AND NOT EXISTS (
        SELECT 1 FROM roster_slots rs
        WHERE rs.fantasy_team_id = ft.id AND {_starter_overlaps("rs")}
          AND NOT EXISTS (
            SELECT 1 FROM player_game_stats s JOIN games g ON g.id = s.game_id
            WHERE s.player_id = rs.player_id AND NOT s.did_not_play AND g.fantasy_week = :week
              AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)))
"""
HIGH_SCORE = """
    SELECT fantasy_team_id FROM team_week_scores
    WHERE league_id = :league_id AND week = :week AND points > 0
      AND points = (SELECT MAX(points) FROM team_week_scores WHERE league_id = :league_id AND week = :week)
"""
BONUS_QUERIES = {
    "weekly_high_score": text(HIGH_SCORE),
    "all_starters_played": text(ALL_STARTERS_PLAYED).bindparams(
        bindparam("week_start", type_=UtcDateTime()), bindparam("week_end", type_=UtcDateTime())
    ),
}


def calculate_bonuses(ctx: JobContext) -> JobResult:
    """Bonuses of the fantasy week that just ended, once per league and week."""
    week = previous_week(fantasy_week(ctx.now))
    bounds = {"week": week, "week_start": week_start(week), "week_end": week_start(fantasy_week(ctx.now))}
    rules, problems = load_league_rules(ctx, ("active",))
    awards: list[dict] = []
    with ctx.engine.connect() as conn:
        for rule in rules:
            for bonus_type, statement in BONUS_QUERIES.items():
                if not rule.bonuses.get(bonus_type):
                    continue
                params = {**bounds, "league_id": rule.league_id}
                if bonus_type == "weekly_high_score":
                    params = {"league_id": rule.league_id, "week": week}
                for (team_id,) in conn.execute(statement, params):
                    awards.append(
                        {
                            "league_id": rule.league_id,
                            "week": week,
                            "fantasy_team_id": team_id,
                            "bonus_type": bonus_type,
                            "points": rule.bonuses[bonus_type],
                        }
                    )
    ctx.log.info("week %d: %d bonuses for %d leagues", week, len(awards), len(rules))
    if ctx.dry_run:
        return JobResult(
            len(awards), f"dry run: week {week}: would award {len(awards)} bonuses", {"week": week}
        )
    dialect = ctx.engine.dialect.name
    with ctx.engine.begin() as conn:
        added = (
            upsert(
                conn,
                "weekly_bonuses",
                awards,
                ["league_id", "week", "fantasy_team_id", "bonus_type"],
                touch=None,
                update=False,
            )
            if awards
            else 0
        )
        total = "(SELECT COALESCE(SUM(wb.points), 0) FROM weekly_bonuses wb WHERE wb.fantasy_team_id = team_week_scores.fantasy_team_id AND wb.week = team_week_scores.week)"
        conn.execute(
            text(
                f"UPDATE team_week_scores SET bonus_points = {total} WHERE week = :week AND {differs(dialect, 'bonus_points', total)}"
            ),
            {"week": week},
        )
    report_problems(ctx, problems)
    return JobResult(
        added,
        f"week {week}: {added} new bonuses ({len(awards) - added} already awarded)",
        {"week": week, "skipped_leagues": problems},
    )
