"""One hand-written set-based SQL statement per job: the same core work, as PostgreSQL does it best.

Each reference runs on a copy of the database taken just before its job runs (so it sees the
same rows) and returns the number of rows it changed. They are yardsticks, not replacements:
- calculate_fantasy_scores: points of every stat line under every distinct weight set (weights
  merged from the preset and the league's settings in SQL) and team week totals, one statement
  with a data-modifying CTE. It totals the points rows it wrote, which equals the job's totals
  here because the generated database holds no fantasy points yet.
- live_scoring (the live tick row): the same 3 lines of the in-progress game bumped (a basket
  each) with the game's score, their points upserted under every profile in use (through the
  stored league profile links) and the week totals of the teams that started those players at
  tip-off summed again from their starters' points of that week (the week's points of the
  profiles in use, a few thousand rows whatever S, with the new points of the changed lines from
  the points CTE's RETURNING, since all CTEs see one snapshot). It reads no ESPN summary and
  writes no ingest log; it counts the rows it wrote as the job does (game, lines, points, team
  weeks).
- process_notifications: marks every due row sent in one UPDATE; it does not POST the webhooks.
- data_quality_checks: one SELECT counting the same rule families (box-score arithmetic, team
  scores, double rostering, orphans, team week totals, stored points, drafts).
- cleanup_old_data: every delete and the archive move in one statement; no VACUUM (the job's
  time includes its VACUUM (ANALYZE) of the cleaned tables).
"""

from __future__ import annotations

from datetime import timedelta

from bench.live_tick import BUMPED
from fantasy_jobs import scoring
from fantasy_jobs.timeutil import fantasy_week, previous_week, week_start

STARTING = ", ".join(f"'{slot}'" for slot in scoring.STARTING_SLOTS)
STATS = scoring.SCORABLE_STATS
TZ = "America/New_York"


def _weights_columns() -> str:
    return ",\n".join(
        f"COALESCE((l.scoring_settings->'weights'->>'{stat}')::float8, {scoring.DEFAULT_WEIGHTS.get(stat, 0.0)}) AS w_{stat}"
        for stat in STATS
    )


def _points(alias: str, weights: str) -> str:
    formula = " + ".join(f"{weights}.w_{stat} * {alias}.{stat}" for stat in STATS)
    return f"CASE WHEN {alias}.did_not_play THEN 0 ELSE round(({formula})::numeric, 2) END"


def _default_points(alias: str) -> str:
    formula = " + ".join(f"{w!r} * {alias}.{stat}" for stat, w in scoring.DEFAULT_WEIGHTS.items() if w)
    return f"CASE WHEN {alias}.did_not_play THEN 0 ELSE round(({formula})::numeric, 2) END"


W_COLUMNS = ", ".join(f"w_{stat}" for stat in STATS)
# A league whose settings name an unknown stat or bonus is skipped, as the jobs skip it.
VALID_SETTINGS = f"""NOT EXISTS (
    SELECT 1 FROM jsonb_object_keys(COALESCE(l.scoring_settings->'weights', '{{}}')) k
    WHERE k NOT IN ({", ".join(f"'{s}'" for s in STATS)}))
  AND NOT EXISTS (
    SELECT 1 FROM jsonb_object_keys(COALESCE(l.scoring_settings->'bonuses', '{{}}')) k
    WHERE k NOT IN ({", ".join(f"'{b}'" for b in scoring.DEFAULT_BONUSES)}))"""

SCORES = f"""
WITH league_weights AS (
    SELECT l.id AS league_id, l.season, {_weights_columns()}
    FROM leagues l WHERE l.status IN ('active', 'completed') AND {VALID_SETTINGS}),
profiles AS (
    SELECT row_number() OVER () AS profile_id, w.* FROM (SELECT DISTINCT {W_COLUMNS} FROM league_weights) w),
league_profile AS (
    SELECT lw.league_id, lw.season, p.profile_id FROM league_weights lw JOIN profiles p USING ({W_COLUMNS})),
points AS (
    INSERT INTO fantasy_points (profile_id, player_id, game_id, week, points, is_final, updated_at)
    SELECT p.profile_id, s.player_id, s.game_id, to_char(g.start_time AT TIME ZONE '{TZ}', 'IYYYIW')::int,
           {_points("s", "p")}, s.is_final, %(now)s
    FROM profiles p CROSS JOIN player_game_stats s JOIN games g ON g.id = s.game_id
    WHERE g.season IN (SELECT season FROM league_profile)
    ON CONFLICT (profile_id, player_id, game_id) DO UPDATE
    SET points = excluded.points, week = excluded.week, is_final = excluded.is_final, updated_at = excluded.updated_at
    WHERE fantasy_points.points IS DISTINCT FROM excluded.points OR fantasy_points.week IS DISTINCT FROM excluded.week
       OR fantasy_points.is_final IS DISTINCT FROM excluded.is_final
    RETURNING profile_id, player_id, game_id, week, points),
totals AS (
    INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points, updated_at)
    SELECT ft.league_id, rs.fantasy_team_id, pt.week, round(SUM(pt.points)::numeric, 2), 0, %(now)s
    FROM points pt JOIN games g ON g.id = pt.game_id
    JOIN league_profile lp ON lp.profile_id = pt.profile_id AND lp.season = g.season
    JOIN fantasy_teams ft ON ft.league_id = lp.league_id
    JOIN roster_slots rs ON rs.fantasy_team_id = ft.id AND rs.player_id = pt.player_id
    WHERE rs.slot IN ({STARTING}) AND rs.acquired_at <= g.start_time
      AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
    GROUP BY ft.league_id, rs.fantasy_team_id, pt.week
    ON CONFLICT (fantasy_team_id, week) DO UPDATE SET points = excluded.points, updated_at = excluded.updated_at
    WHERE team_week_scores.points IS DISTINCT FROM excluded.points
    RETURNING 1)
SELECT (SELECT COUNT(*) FROM points) + (SELECT COUNT(*) FROM totals)
"""

CONSISTENCY = f"""
WITH written AS (
    INSERT INTO player_consistency (player_id, season, games, mean_points, stddev_points, coefficient_of_variation,
        consistency_score, rated, updated_at)
    SELECT player_id, season, n, round(mean::numeric, 4), round(sd::numeric, 4), round((sd / NULLIF(mean, 0))::numeric, 4),
        CASE WHEN n >= 3 THEN round(greatest(0, least(100, 100 * (1 - sd / NULLIF(mean, 0))))::numeric, 1) END, n >= 3, %(now)s
    FROM (SELECT s.player_id, g.season, COUNT(*) AS n, AVG(s.fantasy) AS mean, stddev_samp(s.fantasy) AS sd
          FROM (SELECT s.*, {_default_points("s")}::float8 AS fantasy FROM player_game_stats s) s
          JOIN games g ON g.id = s.game_id
          WHERE s.is_final AND NOT s.did_not_play GROUP BY s.player_id, g.season) x
    ON CONFLICT (player_id, season) DO UPDATE SET games = excluded.games, mean_points = excluded.mean_points,
        stddev_points = excluded.stddev_points, coefficient_of_variation = excluded.coefficient_of_variation,
        consistency_score = excluded.consistency_score, rated = excluded.rated, updated_at = excluded.updated_at
    WHERE player_consistency.mean_points IS DISTINCT FROM excluded.mean_points
       OR player_consistency.stddev_points IS DISTINCT FROM excluded.stddev_points
       OR player_consistency.games IS DISTINCT FROM excluded.games
    RETURNING 1)
SELECT COUNT(*) FROM written
"""

LEAGUE_ANALYTICS = f"""
WITH scores AS (
    SELECT t.league_id, t.week, t.fantasy_team_id, t.points, t.points + COALESCE(t.bonus_points, 0) AS total
    FROM team_week_scores t JOIN leagues l ON l.id = t.league_id
    WHERE l.status IN ('active', 'completed') AND t.week <= %(week)s),
trends AS (
    INSERT INTO league_scoring_trends (league_id, week, teams, mean_points, median_points, stddev_points,
        change_from_previous, updated_at)
    SELECT league_id, week, n, round(mean::numeric, 4), round(median::numeric, 4), round(sd::numeric, 4),
        round((mean - lag(mean) OVER (PARTITION BY league_id ORDER BY week))::numeric, 4), %(now)s
    FROM (SELECT league_id, week, COUNT(*) AS n, AVG(points) AS mean,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY points) AS median, stddev_samp(points) AS sd
          FROM scores GROUP BY league_id, week) w
    ON CONFLICT (league_id, week) DO UPDATE SET teams = excluded.teams, mean_points = excluded.mean_points,
        median_points = excluded.median_points, stddev_points = excluded.stddev_points,
        change_from_previous = excluded.change_from_previous, updated_at = excluded.updated_at
    WHERE league_scoring_trends.mean_points IS DISTINCT FROM excluded.mean_points
       OR league_scoring_trends.median_points IS DISTINCT FROM excluded.median_points
       OR league_scoring_trends.stddev_points IS DISTINCT FROM excluded.stddev_points
       OR league_scoring_trends.change_from_previous IS DISTINCT FROM excluded.change_from_previous
    RETURNING 1),
running AS (
    SELECT league_id, week, fantasy_team_id,
        SUM(total) OVER so_far AS season_points,
        SUM(total) OVER (PARTITION BY league_id, fantasy_team_id ORDER BY week ROWS 2 PRECEDING) AS recent_points,
        COUNT(*) OVER so_far AS n, stddev_samp(total) OVER so_far / NULLIF(AVG(total) OVER so_far, 0) AS cv
    FROM scores WINDOW so_far AS (PARTITION BY league_id, fantasy_team_id ORDER BY week)),
steady AS (
    SELECT r.*, CASE WHEN n < 2 OR cv IS NULL THEN 1 ELSE greatest(0, 1 - cv) END AS steadiness,
        MAX(season_points) OVER league_week AS best_season, MAX(recent_points) OVER league_week AS best_recent
    FROM running r WINDOW league_week AS (PARTITION BY league_id, week)),
scored AS (
    SELECT s.*, 100 * (0.50 * season_points / COALESCE(NULLIF(best_season, 0), 1)
                     + 0.35 * recent_points / COALESCE(NULLIF(best_recent, 0), 1) + 0.15 * steadiness) AS score
    FROM steady s),
ranked AS (
    SELECT s.*, row_number() OVER (PARTITION BY league_id, week ORDER BY score DESC, season_points DESC, fantasy_team_id) AS place
    FROM scored s),
rankings AS (
    INSERT INTO power_rankings (league_id, week, fantasy_team_id, score, rank, previous_rank, season_points,
        recent_points, consistency, updated_at)
    SELECT league_id, week, fantasy_team_id, round(score::numeric, 4), place,
        lag(place) OVER (PARTITION BY league_id, fantasy_team_id ORDER BY week),
        round(season_points::numeric, 2), round(recent_points::numeric, 2), round(steadiness::numeric, 4), %(now)s
    FROM ranked
    ON CONFLICT (league_id, week, fantasy_team_id) DO UPDATE SET score = excluded.score, rank = excluded.rank,
        previous_rank = excluded.previous_rank, season_points = excluded.season_points,
        recent_points = excluded.recent_points, consistency = excluded.consistency, updated_at = excluded.updated_at
    WHERE power_rankings.score IS DISTINCT FROM excluded.score OR power_rankings.rank IS DISTINCT FROM excluded.rank
       OR power_rankings.previous_rank IS DISTINCT FROM excluded.previous_rank
    RETURNING 1),
sides AS (
    SELECT DISTINCT t.id AS trade_id, t.league_id, x.team_id
    FROM trades t JOIN trade_items ti ON ti.trade_id = t.id
    CROSS JOIN LATERAL (VALUES (ti.from_team_id), (ti.to_team_id)) x(team_id)
    WHERE t.status = 'accepted'),
received AS (
    SELECT t.id AS trade_id, ti.to_team_id AS team_id, SUM(fp.points) AS points, COUNT(DISTINCT g.id) AS games
    FROM trades t JOIN trade_items ti ON ti.trade_id = t.id
    JOIN league_profiles lp ON lp.league_id = t.league_id
    JOIN roster_slots rs ON rs.fantasy_team_id = ti.to_team_id AND rs.player_id = ti.player_id
    JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = ti.player_id
    JOIN games g ON g.id = fp.game_id
    WHERE t.status = 'accepted' AND g.start_time > t.accepted_at AND g.start_time <= %(now)s
      AND rs.slot IN ({STARTING}) AND rs.acquired_at <= g.start_time
      AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
    GROUP BY t.id, ti.to_team_id),
given AS (
    SELECT t.id AS trade_id, ti.from_team_id AS team_id, SUM(fp.points) AS points
    FROM trades t JOIN trade_items ti ON ti.trade_id = t.id
    JOIN league_profiles lp ON lp.league_id = t.league_id
    JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = ti.player_id
    JOIN games g ON g.id = fp.game_id
    WHERE t.status = 'accepted' AND g.start_time > t.accepted_at AND g.start_time <= %(now)s
    GROUP BY t.id, ti.from_team_id),
impacts AS (
    INSERT INTO trade_impacts (trade_id, league_id, fantasy_team_id, points_received, points_given, net_points, games, updated_at)
    SELECT s.trade_id, s.league_id, s.team_id, round(COALESCE(r.points, 0)::numeric, 2), round(COALESCE(g.points, 0)::numeric, 2),
        round((COALESCE(r.points, 0) - COALESCE(g.points, 0))::numeric, 2), COALESCE(r.games, 0), %(now)s
    FROM sides s LEFT JOIN received r ON r.trade_id = s.trade_id AND r.team_id = s.team_id
    LEFT JOIN given g ON g.trade_id = s.trade_id AND g.team_id = s.team_id
    ON CONFLICT (trade_id, fantasy_team_id) DO UPDATE SET points_received = excluded.points_received,
        points_given = excluded.points_given, net_points = excluded.net_points, games = excluded.games,
        updated_at = excluded.updated_at
    WHERE trade_impacts.net_points IS DISTINCT FROM excluded.net_points OR trade_impacts.games IS DISTINCT FROM excluded.games
    RETURNING 1)
SELECT (SELECT COUNT(*) FROM trends) + (SELECT COUNT(*) FROM rankings) + (SELECT COUNT(*) FROM impacts)
"""


def _profile_points(alias: str, profile: str) -> str:
    """scoring.points_sql with each weight read from the profile's stored weights (NUMERIC, as the
    job's literals are)."""
    formula = " + ".join(
        f"COALESCE(CAST({profile}.weights->>'{stat}' AS NUMERIC), 0) * {alias}.{stat}" for stat in STATS
    )
    return f"CASE WHEN {alias}.did_not_play THEN 0 ELSE ROUND(CAST({formula} AS NUMERIC), 2) END"


LIVE_TICK = f"""
WITH game AS (
    SELECT id, season, start_time, fantasy_week, home_team_id, away_team_id FROM games
    WHERE status = 'in_progress' ORDER BY start_time DESC, id DESC LIMIT 1),
changed AS (
    SELECT s.game_id, s.player_id FROM player_game_stats s JOIN game g ON g.id = s.game_id
    WHERE NOT s.did_not_play ORDER BY s.player_id LIMIT {BUMPED}),
lines AS (
    UPDATE player_game_stats s SET pts = s.pts + 2, fgm = s.fgm + 1, fga = s.fga + 1, updated_at = %(now)s
    FROM changed c WHERE s.game_id = c.game_id AND s.player_id = c.player_id
    RETURNING s.*),
score AS (
    SELECT SUM(s.pts + CASE WHEN c.player_id IS NULL THEN 0 ELSE 2 END) FILTER (WHERE s.team_id = g.home_team_id) AS home,
           SUM(s.pts + CASE WHEN c.player_id IS NULL THEN 0 ELSE 2 END) FILTER (WHERE s.team_id = g.away_team_id) AS away
    FROM game g JOIN player_game_stats s ON s.game_id = g.id
    LEFT JOIN changed c ON c.game_id = s.game_id AND c.player_id = s.player_id),
scored AS (
    UPDATE games gm SET home_score = sc.home, away_score = sc.away, updated_at = %(now)s
    FROM game g, score sc
    WHERE gm.id = g.id AND (gm.home_score, gm.away_score) IS DISTINCT FROM (sc.home, sc.away)
    RETURNING 1),
profiles AS (
    SELECT sp.id, sp.weights FROM scoring_profiles sp
    WHERE sp.id IN (SELECT lp.profile_id FROM league_profiles lp JOIN leagues l ON l.id = lp.league_id
                    JOIN game g ON g.season = l.season WHERE l.status IN ('active', 'completed'))),
points AS (
    INSERT INTO fantasy_points (profile_id, player_id, game_id, week, points, is_final, updated_at)
    SELECT p.id, s.player_id, s.game_id, g.fantasy_week, {_profile_points("s", "p")}, s.is_final, %(now)s
    FROM profiles p CROSS JOIN lines s JOIN game g ON g.id = s.game_id
    ON CONFLICT (profile_id, player_id, game_id) DO UPDATE
    SET points = excluded.points, week = excluded.week, is_final = excluded.is_final, updated_at = excluded.updated_at
    WHERE fantasy_points.points IS DISTINCT FROM excluded.points OR fantasy_points.week IS DISTINCT FROM excluded.week
       OR fantasy_points.is_final IS DISTINCT FROM excluded.is_final
    RETURNING profile_id, player_id, game_id, points),
team_weeks AS (
    SELECT DISTINCT ft.league_id, rs.fantasy_team_id, lp.profile_id, l.season, g.fantasy_week AS week
    FROM changed c JOIN game g ON g.id = c.game_id
    JOIN roster_slots rs ON rs.player_id = c.player_id AND rs.slot IN ({STARTING})
     AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
    JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
    JOIN leagues l ON l.id = ft.league_id AND l.season = g.season AND l.status IN ('active', 'completed')
    JOIN league_profiles lp ON lp.league_id = l.id),
week_points AS MATERIALIZED (
    SELECT fp.profile_id, fp.player_id, gm.start_time, COALESCE(np.points, fp.points) AS points
    FROM game g JOIN fantasy_points fp ON fp.week = g.fantasy_week
    JOIN games gm ON gm.id = fp.game_id AND gm.season = g.season
    LEFT JOIN points np ON np.profile_id = fp.profile_id AND np.player_id = fp.player_id AND np.game_id = fp.game_id
    WHERE fp.profile_id IN (SELECT id FROM profiles)),
totals AS (
    INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points, updated_at)
    SELECT tw.league_id, tw.fantasy_team_id, tw.week, ROUND(CAST(SUM(wp.points) AS NUMERIC), 2), 0, %(now)s
    FROM team_weeks tw
    JOIN roster_slots rs ON rs.fantasy_team_id = tw.fantasy_team_id AND rs.slot IN ({STARTING})
    JOIN week_points wp ON wp.profile_id = tw.profile_id AND wp.player_id = rs.player_id
     AND rs.acquired_at <= wp.start_time AND (rs.released_at IS NULL OR rs.released_at > wp.start_time)
    GROUP BY tw.league_id, tw.fantasy_team_id, tw.week
    ON CONFLICT (fantasy_team_id, week) DO UPDATE SET points = excluded.points, updated_at = excluded.updated_at
    WHERE team_week_scores.points IS DISTINCT FROM excluded.points
    RETURNING 1)
SELECT (SELECT COUNT(*) FROM scored) + (SELECT COUNT(*) FROM lines) + (SELECT COUNT(*) FROM points)
     + (SELECT COUNT(*) FROM totals)
"""

CACHE = "DELETE FROM cache_entries WHERE expires_at < %(now)s"

NOTIFICATIONS = """
UPDATE notifications SET status = 'sent', sent_at = %(now)s, claimed_at = NULL, last_error = NULL
WHERE (status IN ('pending', 'failed') AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s))
   OR (status = 'sending' AND claimed_at < %(lease_cutoff)s)
"""

QUALITY = f"""
SELECT
  (SELECT COUNT(*) FROM player_game_stats WHERE reb <> oreb + dreb OR fgm > fga OR fg3m > fg3a OR ftm > fta
      OR fg3m > fgm OR pts <> 2 * (fgm - fg3m) + 3 * fg3m + ftm OR least({", ".join(("minutes", *STATS))}) < 0
      OR minutes > 70 OR (did_not_play AND minutes > 0))
+ (SELECT COUNT(*) FROM games g JOIN (SELECT game_id, team_id, SUM(pts) AS pts FROM player_game_stats GROUP BY 1, 2) t
      ON t.game_id = g.id
   WHERE g.status = 'final' AND ((t.team_id = g.home_team_id AND t.pts <> g.home_score)
      OR (t.team_id = g.away_team_id AND t.pts <> g.away_score)
      OR t.team_id NOT IN (g.home_team_id, g.away_team_id)))
+ (SELECT COUNT(*) FROM (SELECT ft.league_id, rs.player_id FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
      WHERE rs.released_at IS NULL GROUP BY 1, 2 HAVING COUNT(DISTINCT rs.fantasy_team_id) > 1) x)
+ (SELECT COUNT(*) FROM (SELECT rs.fantasy_team_id FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
      JOIN leagues l ON l.id = ft.league_id WHERE rs.released_at IS NULL
      GROUP BY rs.fantasy_team_id, l.roster_size HAVING COUNT(*) > l.roster_size) x)
+ (SELECT COUNT(*) FROM roster_slots rs LEFT JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
      LEFT JOIN players p ON p.id = rs.player_id WHERE ft.id IS NULL OR p.id IS NULL)
+ (SELECT COUNT(*) FROM team_week_scores tws JOIN league_profiles lp ON lp.league_id = tws.league_id
   LEFT JOIN (SELECT rs.fantasy_team_id, fp.week, SUM(fp.points) AS total
              FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
              JOIN leagues l ON l.id = ft.league_id JOIN league_profiles lp ON lp.league_id = l.id
              JOIN fantasy_points fp ON fp.profile_id = lp.profile_id AND fp.player_id = rs.player_id
              JOIN games g ON g.id = fp.game_id
              WHERE g.season = l.season AND rs.slot IN ({STARTING}) AND rs.acquired_at <= g.start_time
                AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
              GROUP BY 1, 2) c ON c.fantasy_team_id = tws.fantasy_team_id AND c.week = tws.week
   WHERE abs(tws.points - COALESCE(c.total, 0)) > 0.01)
+ (SELECT COUNT(*) FROM fantasy_points fp JOIN scoring_profiles sp ON sp.id = fp.profile_id
   JOIN player_game_stats s ON s.player_id = fp.player_id AND s.game_id = fp.game_id
   CROSS JOIN LATERAL (SELECT {", ".join(f"COALESCE((sp.weights->>'{stat}')::float8, 0) AS w_{stat}" for stat in STATS)}) w
   WHERE abs(fp.points - {_points("s", "w")}) > 0.01)
+ (SELECT COUNT(*) FROM drafts d
   JOIN (SELECT draft_id, COUNT(player_id) AS made, MIN(pick_number) AS lo, MAX(pick_number) AS hi, COUNT(*) AS n,
                MIN(pick_number) FILTER (WHERE player_id IS NULL) AS next_unmade
         FROM draft_picks GROUP BY draft_id) p ON p.draft_id = d.id
   JOIN (SELECT league_id, COUNT(*) AS teams FROM fantasy_teams GROUP BY league_id) t ON t.league_id = d.league_id
   JOIN leagues l ON l.id = d.league_id
   WHERE (d.status = 'completed' AND p.made < d.rounds * t.teams) OR p.lo <> 1 OR p.hi <> p.n
      OR (d.status = 'in_progress' AND d.current_pick IS DISTINCT FROM COALESCE(p.next_unmade, p.hi + 1))
      OR (l.status = 'drafting' AND d.status = 'completed')
      OR (l.status IN ('active', 'completed', 'archived') AND d.status <> 'completed'))
+ (SELECT COUNT(*) FROM (SELECT d.league_id, dp.player_id FROM draft_picks dp JOIN drafts d ON d.id = dp.draft_id
      WHERE dp.player_id IS NOT NULL GROUP BY 1, 2 HAVING COUNT(*) > 1) x)
"""

RESET_MOVES = """
WITH teams AS (
    UPDATE fantasy_teams ft SET weekly_moves_used = 0, moves_reset_week = %(week)s FROM leagues l
    WHERE l.id = ft.league_id AND l.status = 'active' AND (ft.moves_reset_week IS NULL OR ft.moves_reset_week < %(week)s)
    RETURNING 1),
leagues_now AS (
    UPDATE leagues SET current_week = %(week)s
    WHERE status = 'active' AND (current_week IS NULL OR current_week < %(week)s) RETURNING 1)
SELECT (SELECT COUNT(*) FROM teams)
"""

BONUSES = f"""
WITH rules AS (
    SELECT id AS league_id,
        COALESCE((scoring_settings->'bonuses'->>'weekly_high_score')::float8, 5) AS high,
        COALESCE((scoring_settings->'bonuses'->>'all_starters_played')::float8, 2) AS all_played
    FROM leagues l WHERE status = 'active' AND {VALID_SETTINGS}),
week_scores AS (
    SELECT t.league_id, t.fantasy_team_id, t.points, MAX(t.points) OVER (PARTITION BY t.league_id) AS best
    FROM team_week_scores t JOIN rules r ON r.league_id = t.league_id AND r.high <> 0 WHERE t.week = %(week)s),
week_lines AS (
    SELECT s.player_id, g.start_time FROM player_game_stats s JOIN games g ON g.id = s.game_id
    WHERE g.fantasy_week = %(week)s AND NOT s.did_not_play),
starter_slots AS (
    SELECT ft.league_id, rs.fantasy_team_id, rs.id,
        bool_or(wl.player_id IS NOT NULL) AS played
    FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
    JOIN rules r ON r.league_id = ft.league_id AND r.all_played <> 0
    LEFT JOIN week_lines wl ON wl.player_id = rs.player_id AND rs.acquired_at <= wl.start_time
        AND (rs.released_at IS NULL OR rs.released_at > wl.start_time)
    WHERE rs.slot IN ({STARTING}) AND rs.acquired_at < %(week_end)s
      AND (rs.released_at IS NULL OR rs.released_at > %(week_start)s)
    GROUP BY ft.league_id, rs.fantasy_team_id, rs.id),
awards AS (
    SELECT ws.league_id, ws.fantasy_team_id, 'weekly_high_score' AS bonus_type, r.high AS points
    FROM week_scores ws JOIN rules r USING (league_id) WHERE ws.points > 0 AND ws.points = ws.best
    UNION ALL
    SELECT s.league_id, s.fantasy_team_id, 'all_starters_played', r.all_played
    FROM starter_slots s JOIN rules r USING (league_id)
    GROUP BY s.league_id, s.fantasy_team_id, r.all_played HAVING bool_and(s.played)),
added AS (
    INSERT INTO weekly_bonuses (league_id, week, fantasy_team_id, bonus_type, points, created_at)
    SELECT league_id, %(week)s, fantasy_team_id, bonus_type, points, %(now)s FROM awards
    ON CONFLICT (league_id, week, fantasy_team_id, bonus_type) DO NOTHING
    RETURNING fantasy_team_id, points),
totals AS (
    SELECT fantasy_team_id, SUM(points) AS total FROM (
        SELECT fantasy_team_id, points FROM weekly_bonuses WHERE week = %(week)s
        UNION ALL SELECT fantasy_team_id, points FROM added) b
    GROUP BY fantasy_team_id),
updated AS (
    UPDATE team_week_scores t SET bonus_points = x.total FROM totals x
    WHERE t.week = %(week)s AND t.fantasy_team_id = x.fantasy_team_id AND t.bonus_points IS DISTINCT FROM x.total
    RETURNING 1)
SELECT (SELECT COUNT(*) FROM added)
"""


def _archive_moves() -> str:
    from fantasy_jobs.schema import ARCHIVE_TABLES

    parts = []
    for source, archive in ARCHIVE_TABLES.items():
        owned = (
            "fantasy_team_id IN (SELECT id FROM fantasy_teams WHERE league_id IN (SELECT id FROM due_leagues))"
            if source == "roster_slots"
            else "league_id IN (SELECT id FROM due_leagues)"
        )
        parts.append(f"""
moved_{source} AS (DELETE FROM {source} WHERE {owned} RETURNING *),
archived_{source} AS (INSERT INTO {archive.name} SELECT *, %(now)s FROM moved_{source} RETURNING 1),""")
    return "".join(parts)


CLEANUP = f"""
WITH notes AS (
    DELETE FROM notifications WHERE status IN ('sent', 'dead') AND created_at < %(notes_cutoff)s RETURNING 1),
due_leagues AS (
    SELECT id FROM leagues WHERE status = 'completed' AND completed_at < %(archive_cutoff)s),
{_archive_moves()}
archived AS (
    UPDATE leagues SET status = 'archived', archived_at = %(now)s WHERE id IN (SELECT id FROM due_leagues) RETURNING 1),
orphans AS (
    DELETE FROM roster_slots rs WHERE NOT EXISTS (SELECT 1 FROM fantasy_teams ft WHERE ft.id = rs.fantasy_team_id)
       OR NOT EXISTS (SELECT 1 FROM players p WHERE p.id = rs.player_id) RETURNING 1),
logs AS (DELETE FROM ingest_logs WHERE started_at < %(logs_cutoff)s RETURNING 1),
runs AS (DELETE FROM job_executions WHERE started_at < %(history_cutoff)s RETURNING 1),
checks AS (DELETE FROM data_quality_results WHERE ran_at < %(history_cutoff)s RETURNING 1)
SELECT (SELECT COUNT(*) FROM notes) + (SELECT COUNT(*) FROM archived) + (SELECT COUNT(*) FROM orphans)
     + (SELECT COUNT(*) FROM logs) + (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM checks)
"""

REFERENCES: dict[str, str] = {
    "calculate_fantasy_scores": SCORES,
    "live_scoring": LIVE_TICK,
    "calculate_analytics": CONSISTENCY,
    "league_analytics": LEAGUE_ANALYTICS,
    "cache_cleanup": CACHE,
    "process_notifications": NOTIFICATIONS,
    "data_quality_checks": QUALITY,
    "reset_weekly_moves": RESET_MOVES,
    "calculate_bonuses": BONUSES,
    "cleanup_old_data": CLEANUP,
}


def parameters(now) -> dict:
    """The bind values every reference may use, for a run "at" `now` (aware)."""
    this_week = fantasy_week(now)
    week = previous_week(this_week)
    return {
        "now": now,
        "week": this_week,
        "lease_cutoff": now - timedelta(seconds=300),
        "notes_cutoff": now - timedelta(days=30),
        "archive_cutoff": now - timedelta(days=365),
        "logs_cutoff": now - timedelta(days=90),
        "history_cutoff": now - timedelta(days=180),
        "bonus_week": week,
        "week_start": week_start(week),
        "week_end": week_start(this_week),
    }


def run_reference(dsn: str, job_id: str, now) -> tuple[float, int]:
    """Run `job_id`'s reference on the database at `dsn` in one transaction; (seconds, rows)."""
    import time

    import psycopg

    sql = REFERENCES[job_id]
    params = parameters(now)
    if job_id == "calculate_bonuses":
        params = {**params, "week": params["bonus_week"]}
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        cur = conn.execute(sql, params)
        rows = cur.fetchone()[0] if cur.description else cur.rowcount
        conn.commit()
        return time.perf_counter() - started, int(rows or 0)
