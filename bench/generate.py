"""The app at S leagues, generated in PostgreSQL itself (INSERT ... SELECT over generate_series, COPY).

Everything is deterministic: ids follow from the league number and "random" values come from
`hashint8`, so the same S always gives the same rows. What it holds, so that every job takes its
real paths:

- WNBA: 15 franchises (COPY), 180 players (12 a team), a season of 280 final games from
  2026-05-16 to 2026-09-13 with consistent box scores (~6,700 lines; a few DNPs); the last days'
  games have no `fantasy_week` yet (the scoring job assigns it).
- Leagues, by number: 85% active (2026), 5% drafting (a draft in progress, half its picks made),
  5% completed in 2024 (due for archiving: older than a year), 5% completed in 2025 (not yet).
  Scoring settings: most on the default preset, some on one of four custom weight sets, some
  with bonus overrides, and league 9 (when it exists) with an unknown stat (skipped with an error).
- 10-12 fantasy teams a league, 13 roster slots each (7 starters, 5 BENCH, 1 IR), from a completed
  snake draft with its picks; bench swaps (one in the week the bonuses are for) and two accepted
  trades per active league that move roster slots, plus a proposed and a rejected one.
- History: team week scores for every week (points random, bonus points the sum of the bonus
  history), weekly bonuses of past weeks, and rankings and trends of the completed leagues.
- 50 x S notifications (70% sent and 8% dead, about two thirds of them past the 30-day retention;
  11% due; 10% of them webhooks), 100 x S cache entries (60% expired), 2 x S ingest logs, S job
  executions and S / 10 data quality results (about half of each past retention), a few orphaned
  roster slots.

The jobs run "at" ANCHOR, Monday 2026-09-14 06:00 league time: bonuses are for week 202637.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from fantasy_jobs.demo import TEAMS

ANCHOR = datetime(2026, 9, 14, 6, 0, tzinfo=ZoneInfo("America/New_York"))
SEASON = 2026
GAMES = 280
PLAYERS = 180  # 15 franchises x 12
ROSTER = ("G", "G", "F", "F", "C", "UTIL", "UTIL", "BENCH", "BENCH", "BENCH", "BENCH", "BENCH", "IR")
BONUS_WEEK = 202637  # the week before ANCHOR's
FIRST_WEEK, LAST_WEEK = 20, 37  # ISO weeks of the season (May 16 to Sep 13)
CUSTOM_WEIGHTS = (
    {"stl": 3, "blk": 3, "tov": -1},
    {"pts": 1, "reb": 1.2, "ast": 1.5, "fg3m": 0.5, "stl": 3, "blk": 3, "tov": -1},
    {"tov": -0.5},
    {"fgm": 2, "fga": -1, "ftm": 1, "fta": -1, "pf": -0.5},
)

_SLOTS = "ARRAY[" + ", ".join(f"'{s}'" for s in ROSTER) + "]"
_A = f"timestamptz '{ANCHOR.isoformat()}'"


def teams_in_league(league_id: int) -> int:
    return 10 + league_id % 3


def league_kind(league_id: int) -> str:
    return {0: "completed2024", 10: "completed2025", 5: "drafting"}.get(league_id % 20, "active")


def expected_counts(scale: int) -> dict[str, int]:
    """The row counts the generator must produce at `scale` leagues (checked by the test)."""
    kinds = [league_kind(i) for i in range(1, scale + 1)]
    teams = [teams_in_league(i) for i in range(1, scale + 1)]
    drafted_teams = sum(t for t, k in zip(teams, kinds, strict=True) if k != "drafting")
    active = kinds.count("active")
    return {
        "leagues": scale,
        "fantasy_teams": sum(teams),
        "drafted_roster_slots": drafted_teams * len(ROSTER),
        "draft_picks": sum(teams) * len(ROSTER),
        "drafts": scale,
        "trades": 4 * active,
        "notifications": 50 * scale,
        "cache_entries": 100 * scale,
        "games": GAMES,
        "players": PLAYERS,
    }


HELPERS = f"""
CREATE FUNCTION pg_temp.r(seed bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE
  AS $$ SELECT (hashint8($1 * 64 + $2) & 2147483647)::float8 / 2147483648 $$;
CREATE FUNCTION pg_temp.team(league bigint, k bigint) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT ($1 - 1) * 12 + $2 + 1 $$;
CREATE FUNCTION pg_temp.player(league bigint, k bigint, j bigint) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT (($1 * 37) % {PLAYERS} + $2 * 13 + $3) % {PLAYERS} + 1 $$;
CREATE TEMP VIEW lineup AS
  SELECT l.id AS league_id, l.season, l.status, l.completed_at, n.t, k, j,
         pg_temp.team(l.id, k) AS team_id, pg_temp.player(l.id, k, j) AS player_id,
         j * n.t + CASE WHEN j % 2 = 0 THEN k + 1 ELSE n.t - k END AS pick_number,
         make_timestamptz(l.season, 5, 6, 0, 0, 0, 'UTC') AS draft_at
  FROM leagues l CROSS JOIN LATERAL (SELECT (10 + l.id % 3)::int AS t) n
  CROSS JOIN LATERAL generate_series(0, n.t - 1) k CROSS JOIN generate_series(0, {len(ROSTER) - 1}) j;
-- Every team's random week scores and the bonuses they won (none yet for the active leagues'
-- bonus week): team_week_scores.bonus_points is the sum of its weekly_bonuses rows.
CREATE TEMP VIEW week_history AS
  SELECT w.*, w.awarded AND w.place = 1 AND w.high <> 0 AS high_won,
         w.awarded AND pg_temp.r(w.team_id * 64 + w.week % 100, 2) < 0.3 AND w.all_played <> 0 AS all_won
  FROM (SELECT ft.league_id, ft.id AS team_id, l.season * 100 + wk AS week, p.points,
               rank() OVER (PARTITION BY ft.league_id, wk ORDER BY p.points DESC) AS place,
               COALESCE((l.scoring_settings->'bonuses'->>'weekly_high_score')::float8, 5) AS high,
               COALESCE((l.scoring_settings->'bonuses'->>'all_starters_played')::float8, 2) AS all_played,
               NOT (l.status = 'active' AND l.season * 100 + wk >= {BONUS_WEEK}) AS awarded
        FROM fantasy_teams ft JOIN leagues l ON l.id = ft.league_id AND l.status IN ('active', 'completed')
        CROSS JOIN generate_series({FIRST_WEEK}, {LAST_WEEK}) wk
        CROSS JOIN LATERAL (SELECT round((200 + pg_temp.r(ft.id * 64 + wk, 1) * 400)::numeric, 2) AS points) p) w;
"""


def _settings_sql() -> str:
    customs = " ".join(
        f"WHEN id % 10 = {d} THEN '{{\"weights\": {_json(w)}}}'"
        for d, w in zip((3, 7, 1, 8), CUSTOM_WEIGHTS, strict=True)
    )
    return f"""CASE
        WHEN id = 9 THEN '{{"weights": {{"blocks": 2}}}}'
        WHEN id % 7 = 2 THEN '{{"bonuses": {{"weekly_high_score": 10}}}}'
        WHEN id % 11 = 6 THEN '{{"weights": {{"stl": 3, "blk": 3, "tov": -1}}, "bonuses": {{"all_starters_played": 0}}}}'
        {customs} ELSE '{{}}' END::jsonb"""


def _json(value) -> str:
    import json

    return json.dumps(value)


def _box_score_sql() -> str:
    dnp = "a.dnp"

    def stat(expr: str) -> str:
        return f"CASE WHEN {dnp} THEN 0 ELSE {expr} END"

    return f"""
    INSERT INTO player_game_stats (game_id, player_id, team_id, minutes, fgm, fga, fg3m, fg3a, ftm, fta,
        oreb, dreb, reb, ast, stl, blk, tov, pf, pts, plus_minus, did_not_play, is_final)
    SELECT g.id, p.id, p.team_id, {stat("a.minutes")}, {stat("c.fgm")}, {stat("b.fga")}, {stat("d.fg3m")},
        {stat("c.fg3a")}, {stat("d.ftm")}, {stat("c.fta")}, {stat("d.oreb")}, {stat("d.dreb")},
        {stat("d.oreb + d.dreb")}, {stat("floor(pg_temp.r(x.seed, 10) * 8)::int")},
        {stat("floor(pg_temp.r(x.seed, 11) * 4)::int")}, {stat("floor(pg_temp.r(x.seed, 12) * 3)::int")},
        {stat("floor(pg_temp.r(x.seed, 13) * 5)::int")}, {stat("floor(pg_temp.r(x.seed, 14) * 6)::int")},
        {stat("2 * (c.fgm - d.fg3m) + 3 * d.fg3m + d.ftm")},
        CASE WHEN a.dnp THEN NULL ELSE floor(pg_temp.r(x.seed, 15) * 31)::int - 15 END, a.dnp, true
    FROM games g JOIN players p ON p.team_id IN (g.home_team_id, g.away_team_id)
    CROSS JOIN LATERAL (SELECT g.id * 1000 + p.id AS seed, (p.id - 1) % 12 AS j) x
    CROSS JOIN LATERAL (SELECT (x.j = 11 OR pg_temp.r(x.seed, 0) < 0.05) AS dnp,
        CASE WHEN x.j < 5 THEN 24 + floor(pg_temp.r(x.seed, 1) * 13) ELSE 6 + floor(pg_temp.r(x.seed, 1) * 17) END::int AS minutes) a
    CROSS JOIN LATERAL (SELECT (a.minutes / 6 + floor(pg_temp.r(x.seed, 2) * (a.minutes / 2 - a.minutes / 6 + 1)))::int AS fga) b
    CROSS JOIN LATERAL (SELECT (b.fga / 4 + floor(pg_temp.r(x.seed, 3) * ((b.fga * 3) / 5 - b.fga / 4 + 1)))::int AS fgm,
        floor(pg_temp.r(x.seed, 4) * (b.fga / 2 + 1))::int AS fg3a, floor(pg_temp.r(x.seed, 6) * 7)::int AS fta) c
    CROSS JOIN LATERAL (SELECT least(floor(pg_temp.r(x.seed, 5) * (c.fg3a + 1))::int, c.fgm) AS fg3m,
        (c.fta / 2 + floor(pg_temp.r(x.seed, 7) * (c.fta - c.fta / 2 + 1)))::int AS ftm,
        floor(pg_temp.r(x.seed, 8) * 4)::int AS oreb, floor(pg_temp.r(x.seed, 9) * 8)::int AS dreb) d
    """


# (number, status, time, team A, A's roster index, team B, B's roster index): A's player goes to B
# into the slot B's player leaves, and B's player to A into A's.
TRADES = (
    (1, "accepted", "timestamptz '2026-07-01 16:00+00'", 1, 4, 2, 2),
    (2, "accepted", "timestamptz '2026-08-12 16:00+00'", 3, 5, 4, 9),
    (3, "proposed", f"{_A} - interval '1 day'", 5, 0, 6, 0),
    (4, "rejected", f"{_A} - interval '5 days'", 7, 1, 8, 1),
)
# (time, starter index, bench index, teams whose id is a multiple of): the two swap slots.
SWAPS = (
    ("timestamptz '2026-07-16 16:00+00'", 0, 7, 4),
    ("timestamptz '2026-09-10 16:00+00'", 1, 8, 5),  # inside the bonus week
)


def _trade_statements() -> list[str]:
    statements = []
    for number, status, at, ka, ja, kb, jb in TRADES:
        accepted = f"{at}" if status == "accepted" else "NULL"
        proposed = f"{at} - interval '1 day'" if status == "accepted" else at
        statements.append(f"""
            INSERT INTO trades (id, league_id, status, proposed_at, accepted_at)
            SELECT (id - 1) * 4 + {number}, id, '{status}', {proposed}, {accepted} FROM leagues WHERE status = 'active'""")
        statements.append(f"""
            INSERT INTO trade_items (trade_id, from_team_id, to_team_id, player_id)
            SELECT (id - 1) * 4 + {number}, pg_temp.team(id, {ka}), pg_temp.team(id, {kb}), pg_temp.player(id, {ka}, {ja})
            FROM leagues WHERE status = 'active'
            UNION ALL
            SELECT (id - 1) * 4 + {number}, pg_temp.team(id, {kb}), pg_temp.team(id, {ka}), pg_temp.player(id, {kb}, {jb})
            FROM leagues WHERE status = 'active'""")
        if status == "accepted":
            statements.append(f"""
                INSERT INTO roster_slots (fantasy_team_id, player_id, slot, acquired_at, released_at)
                SELECT pg_temp.team(id, {kb}), pg_temp.player(id, {ka}, {ja}), '{ROSTER[jb]}', {at}, NULL::timestamptz FROM leagues WHERE status = 'active'
                UNION ALL
                SELECT pg_temp.team(id, {ka}), pg_temp.player(id, {kb}, {jb}), '{ROSTER[ja]}', {at}, NULL::timestamptz FROM leagues WHERE status = 'active'""")
            statements.append(f"""
                UPDATE roster_slots rs SET released_at = {at} FROM leagues l
                WHERE l.status = 'active' AND rs.released_at IS NULL AND rs.acquired_at < {at}
                  AND ((rs.fantasy_team_id = pg_temp.team(l.id, {ka}) AND rs.player_id = pg_temp.player(l.id, {ka}, {ja}))
                    OR (rs.fantasy_team_id = pg_temp.team(l.id, {kb}) AND rs.player_id = pg_temp.player(l.id, {kb}, {jb})))""")
    return statements


def _swap_statements() -> list[str]:
    statements = []
    for at, ja, jb, every in SWAPS:
        teams = f"""FROM fantasy_teams ft JOIN leagues l ON l.id = ft.league_id
            CROSS JOIN LATERAL (SELECT (ft.id - 1) % 12 AS k) x
            WHERE l.status = 'active' AND ft.id % {every} = 0"""
        statements.append(f"""
            INSERT INTO roster_slots (fantasy_team_id, player_id, slot, acquired_at, released_at)
            SELECT ft.id, pg_temp.player(l.id, x.k, {ja}), '{ROSTER[jb]}', {at}, NULL::timestamptz {teams}
            UNION ALL
            SELECT ft.id, pg_temp.player(l.id, x.k, {jb}), '{ROSTER[ja]}', {at}, NULL::timestamptz {teams}""")
        statements.append(f"""
            UPDATE roster_slots rs SET released_at = {at}
            FROM (SELECT ft.id AS team_id, pg_temp.player(l.id, x.k, {ja}) AS a, pg_temp.player(l.id, x.k, {jb}) AS b {teams}) s
            WHERE rs.fantasy_team_id = s.team_id AND rs.player_id IN (s.a, s.b)
              AND rs.released_at IS NULL AND rs.acquired_at < {at}""")
    return statements


def steps(scale: int) -> list[tuple[str, list[str]]]:
    """(table, statements) in order; each step is one transaction."""
    users = 8 * scale
    return [
        (
            "players",
            [
                f"""INSERT INTO players (id, espn_id, full_name, position, jersey, height_in, weight_lb, team_id, status, profile_updated_at)
                SELECT i + 1, (9000001 + i)::text, 'Player ' || (i + 1),
                    (ARRAY['G','G','G','G','G','F','F','F','F','C','C','F'])[i % 12 + 1], (i % 55)::text,
                    68 + i % 12, 140 + i % 70, i / 12 + 1, 'active', {_A} - interval '6 days'
                FROM generate_series(0, {PLAYERS - 1}) i"""
            ],
        ),
        (
            "games",
            [
                f"""INSERT INTO games (id, espn_id, season, season_type, start_time, home_team_id, away_team_id, status, fantasy_week)
                SELECT g + 1, (401900001 + g)::text, {SEASON}, 2, st, g % 15 + 1, (g % 15 + 1 + (g / 15) % 14) % 15 + 1, 'final',
                    CASE WHEN (g * 121) / {GAMES} < 118 THEN to_char(st AT TIME ZONE 'America/New_York', 'IYYYIW')::int END
                FROM generate_series(0, {GAMES - 1}) g
                CROSS JOIN LATERAL (SELECT timestamptz '2026-05-16 23:00+00' + ((g * 121) / {GAMES}) * interval '1 day'
                    + (g % 3) * interval '30 minutes' AS st) t"""
            ],
        ),
        (
            "player_game_stats",
            [
                _box_score_sql(),
                """UPDATE games g SET home_score = t.home, away_score = t.away FROM (
                    SELECT g.id, SUM(s.pts) FILTER (WHERE s.team_id = g.home_team_id) AS home,
                           SUM(s.pts) FILTER (WHERE s.team_id = g.away_team_id) AS away
                    FROM games g JOIN player_game_stats s ON s.game_id = g.id GROUP BY g.id) t
                WHERE t.id = g.id""",
            ],
        ),
        (
            "users",
            [
                f"""INSERT INTO users (id, email, display_name, is_admin)
                SELECT n, 'user' || n || '@bench.fantasy', 'User ' || n, n = 1 FROM generate_series(1, {users}) n"""
            ],
        ),
        (
            "leagues",
            [
                f"""INSERT INTO leagues (id, name, season, status, scoring_settings, max_teams, roster_size, max_weekly_moves,
                    current_week, created_at, completed_at)
                SELECT id, 'Bench League ' || id, k.season, k.status, {_settings_sql()}, 12, {len(ROSTER)}, 3,
                    CASE WHEN k.status = 'active' THEN {BONUS_WEEK} END, make_timestamptz(k.season, 4, 1, 0, 0, 0, 'UTC'),
                    k.completed_at
                FROM generate_series(1, {scale}) id
                CROSS JOIN LATERAL (SELECT * FROM (VALUES
                    (0, 2024, 'completed', timestamptz '2024-10-01 00:00+00'),
                    (10, 2025, 'completed', timestamptz '2025-10-10 00:00+00'),
                    (5, {SEASON}, 'drafting', NULL::timestamptz)) v(m, season, status, completed_at)
                    WHERE v.m = id % 20
                    UNION ALL SELECT -1, {SEASON}, 'active', NULL WHERE id % 20 NOT IN (0, 10, 5)) k"""
            ],
        ),
        (
            "fantasy_teams",
            [
                f"""INSERT INTO fantasy_teams (id, league_id, owner_user_id, name, weekly_moves_used, moves_reset_week)
                SELECT DISTINCT ON (team_id) team_id, league_id, (team_id * 7) % {users} + 1, 'Team ' || (k + 1) || ' of ' || league_id,
                    team_id % 4, CASE WHEN status = 'active' THEN {BONUS_WEEK} END
                FROM lineup ORDER BY team_id"""
            ],
        ),
        (
            "drafts",
            [
                """INSERT INTO drafts (id, league_id, status, rounds, current_pick, started_at, completed_at)
                SELECT l.id, l.id, CASE WHEN l.status = 'drafting' THEN 'in_progress' ELSE 'completed' END, 13,
                    CASE WHEN l.status = 'drafting' THEN (10 + l.id % 3) * 13 / 2 + 1 END,
                    make_timestamptz(l.season, 5, 6, 0, 0, 0, 'UTC'),
                    CASE WHEN l.status <> 'drafting' THEN make_timestamptz(l.season, 5, 6, 3, 0, 0, 'UTC') END
                FROM leagues l"""
            ],
        ),
        (
            "draft_picks",
            [
                """INSERT INTO draft_picks (draft_id, pick_number, round, fantasy_team_id, player_id, picked_at)
                SELECT league_id, pick_number, j + 1, team_id,
                    CASE WHEN status <> 'drafting' OR pick_number <= t * 13 / 2 THEN player_id END,
                    CASE WHEN status <> 'drafting' OR pick_number <= t * 13 / 2 THEN draft_at + pick_number * interval '1 minute' END
                FROM lineup ORDER BY league_id, pick_number"""
            ],
        ),
        (
            "roster_slots",
            [
                f"""INSERT INTO roster_slots (fantasy_team_id, player_id, slot, acquired_at, released_at)
                SELECT team_id, player_id, ({_SLOTS})[j + 1], draft_at + pick_number * interval '1 minute', completed_at
                FROM lineup WHERE status <> 'drafting' ORDER BY team_id, j""",
                "ANALYZE roster_slots, fantasy_teams, leagues",  # the swaps and trades look slots up by team
                *_swap_statements(),
            ],
        ),
        ("trades", _trade_statements()),
        (
            "team_week_scores",
            [
                """INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points)
                SELECT league_id, team_id, week, points,
                    CASE WHEN high_won THEN high ELSE 0 END + CASE WHEN all_won THEN all_played ELSE 0 END
                FROM week_history ORDER BY team_id, week"""
            ],
        ),
        (
            "weekly_bonuses",
            [
                f"""INSERT INTO weekly_bonuses (league_id, week, fantasy_team_id, bonus_type, points, created_at)
                SELECT h.league_id, h.week, h.team_id, b.bonus_type, b.points, {_A} - interval '30 days'
                FROM week_history h CROSS JOIN LATERAL (VALUES
                    ('weekly_high_score', h.high, h.high_won), ('all_starters_played', h.all_played, h.all_won)
                ) b(bonus_type, points, won)
                WHERE b.won"""
            ],
        ),
        (
            "league_scoring_trends",
            [
                """INSERT INTO league_scoring_trends (league_id, week, teams, mean_points, median_points, stddev_points, change_from_previous)
                SELECT t.league_id, t.week, COUNT(*), round(AVG(t.points)::numeric, 4),
                    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t.points)::numeric, 4),
                    round(stddev_samp(t.points)::numeric, 4), NULL
                FROM team_week_scores t JOIN leagues l ON l.id = t.league_id AND l.status = 'completed'
                GROUP BY t.league_id, t.week"""
            ],
        ),
        (
            "power_rankings",
            [
                """INSERT INTO power_rankings (league_id, week, fantasy_team_id, score, rank, previous_rank, season_points, recent_points, consistency)
                SELECT t.league_id, t.week, t.fantasy_team_id, round((t.points / 6)::numeric, 4),
                    rank() OVER (PARTITION BY t.league_id, t.week ORDER BY t.points DESC, t.fantasy_team_id), NULL, t.points, t.points, 0.8
                FROM team_week_scores t JOIN leagues l ON l.id = t.league_id AND l.status = 'completed'"""
            ],
        ),
        (
            "notifications",
            [
                f"""INSERT INTO notifications (user_id, kind, payload, status, attempts, next_attempt_at, sent_at, last_error, created_at)
                SELECT n % {users} + 1, CASE WHEN n % 10 = 3 THEN 'webhook' ELSE 'in_app' END,
                    jsonb_build_object('title', 'Notification ' || n, 'body', 'Your weekly matchup is final.'),
                    v.status, v.attempts, v.next_at, CASE WHEN v.status = 'sent' THEN v.created + interval '1 minute' END,
                    CASE WHEN v.status IN ('dead', 'failed') THEN 'HTTP 500 from webhook' END, v.created
                FROM generate_series(0::bigint, {50 * scale - 1}) n
                CROSS JOIN LATERAL (SELECT n % 100 AS b, {_A} - ((n * 7919) % 90) * interval '1 day' - (n % 1440) * interval '1 minute' AS old) x
                CROSS JOIN LATERAL (SELECT
                    CASE WHEN x.b < 70 THEN 'sent' WHEN x.b < 78 THEN 'dead' WHEN x.b < 80 THEN 'failed' ELSE 'pending' END AS status,
                    CASE WHEN x.b < 70 THEN 1 WHEN x.b < 78 THEN 5 WHEN x.b < 80 THEN 2 ELSE 0 END AS attempts,
                    CASE WHEN x.b < 78 THEN NULL
                         WHEN x.b = 78 THEN {_A} - interval '10 minutes'
                         WHEN x.b = 79 THEN {_A} + interval '1 hour'
                         WHEN x.b < 90 THEN {_A} - (n % 2880) * interval '1 minute'
                         ELSE {_A} + (n % 600 + 1) * interval '1 minute' END AS next_at,
                    CASE WHEN x.b < 78 THEN x.old
                         WHEN x.b < 90 THEN {_A} - (n % 2880) * interval '1 minute' - interval '1 day'
                         ELSE {_A} - interval '1 hour' END AS created) v"""
            ],
        ),
        (
            "cache_entries",
            [
                f"""INSERT INTO cache_entries (key, value, expires_at, created_at)
                SELECT 'bench:cache:' || n, '{{"n": ' || n || '}}',
                    CASE WHEN n % 10 < 6 THEN {_A} - (n % 10080 + 1) * interval '1 minute'
                         WHEN n % 10 < 9 THEN {_A} + (n % 10080 + 1) * interval '1 minute' END,
                    {_A} - interval '8 days'
                FROM generate_series(0::bigint, {100 * scale - 1}) n"""
            ],
        ),
        (
            "ingest_logs",
            [
                f"""INSERT INTO ingest_logs (source, endpoint, started_at, finished_at, status, rows_upserted)
                SELECT 'espn', '/apis/site/v2/sports/basketball/wnba/scoreboard?dates=' || n, s, s + interval '2 seconds', 'ok', n % 50
                FROM generate_series(0::bigint, {2 * scale - 1}) n
                CROSS JOIN LATERAL (SELECT {_A} - ((n * 13) % 180) * interval '1 day' - (n % 86400) * interval '1 second' AS s) t"""
            ],
        ),
        (
            "job_executions",
            [
                f"""INSERT INTO job_executions (job_id, status, started_at, finished_at, execution_time_s, rows_affected,
                    peak_memory_mb, trigger, dry_run, long_running)
                SELECT (ARRAY['calculate_fantasy_scores','cache_cleanup','process_notifications','data_quality_checks'])[n % 4 + 1],
                    'completed', s, s + interval '3 seconds', 3.0, n % 1000, 120.0, 'scheduled', false, false
                FROM generate_series(0, {scale - 1}) n
                CROSS JOIN LATERAL (SELECT {_A} - ((n * 7) % 365) * interval '1 day' AS s) t""",
                f"""INSERT INTO data_quality_results (check_name, ran_at, status, issue_count, details)
                SELECT 'player_stats_consistency', {_A} - ((n * 11) % 365) * interval '1 day', 'passed', 0, '{{}}'
                FROM generate_series(0, {scale // 10 + 3}) n""",
            ],
        ),
        (
            "orphaned_roster_slots",
            [
                f"""INSERT INTO roster_slots (fantasy_team_id, player_id, slot, acquired_at)
                SELECT -n, 1, 'BENCH', {_A} - interval '30 days' FROM generate_series(1, {scale // 100 + 1}) n"""
            ],
        ),
    ]


def copy_wnba_teams(conn) -> int:
    """The 15 franchises of the demo, by COPY (explicit ids 1..15)."""
    columns = "id, espn_id, abbreviation, location, name, display_name, conference, color, is_active"
    with conn.cursor() as cur, cur.copy(f"COPY teams ({columns}) FROM STDIN") as copy:
        for number, (espn_id, abbreviation, location, name, conference, color) in enumerate(TEAMS, 1):
            copy.write_row(
                (number, espn_id, abbreviation, location, name, f"{location} {name}", conference, color, True)
            )
    return len(TEAMS)


def reset_sequences(conn) -> None:
    """Every serial id sequence past the explicit ids the generator wrote."""
    tables = conn.execute(
        """SELECT c.table_name FROM information_schema.columns c
           WHERE c.table_schema = 'public' AND c.column_name = 'id' AND c.column_default LIKE 'nextval%'"""
    ).fetchall()
    for (table,) in tables:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def generate(dsn: str, scale: int, log: Callable[[str], None] = print) -> dict[str, dict]:
    """Fill the (empty, schema-created) database at `dsn` with the app at `scale` leagues.

    Returns {table: {"rows": n, "seconds": s}} for each step, then VACUUM ANALYZEs everything."""
    import psycopg

    report: dict[str, dict] = {}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET work_mem = '256MB'")  # the generator's sorts and windows, not the jobs'
        # The scoring change log's triggers stay quiet: the generated season is the state a first (full)
        # scoring run starts from, not millions of changes to replay (the harness's user is a superuser).
        conn.execute("SET session_replication_role = replica")
        conn.execute(HELPERS)
        conn.commit()
        started = time.perf_counter()
        report["teams"] = {"rows": copy_wnba_teams(conn), "seconds": round(time.perf_counter() - started, 3)}
        conn.commit()
        log(f"generate: teams {report['teams']['rows']} rows in {report['teams']['seconds']:.2f} s")
        for table, statements in steps(scale):
            started = time.perf_counter()
            rows = 0
            for statement in statements:
                cur = conn.execute(statement)
                if statement.lstrip().upper().startswith("INSERT"):
                    rows += max(cur.rowcount, 0)
            conn.commit()
            seconds = round(time.perf_counter() - started, 3)
            report[table] = {"rows": rows, "seconds": seconds}
            log(f"generate: {table} {rows} rows in {seconds:.2f} s")
        reset_sequences(conn)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        log(f"generate: VACUUM (ANALYZE) in {time.perf_counter() - started:.2f} s")
    return report


def count_rows(dsn: str) -> dict[str, int]:
    """What the generated database holds, for the JSON and the test."""
    import psycopg

    queries = {
        "leagues": "SELECT COUNT(*) FROM leagues",
        "fantasy_teams": "SELECT COUNT(*) FROM fantasy_teams",
        "drafted_roster_slots": "SELECT COUNT(*) FROM roster_slots rs JOIN drafts d ON d.league_id = (rs.fantasy_team_id - 1) / 12 + 1 WHERE rs.acquired_at < d.completed_at",
        "roster_slots": "SELECT COUNT(*) FROM roster_slots",
        "draft_picks": "SELECT COUNT(*) FROM draft_picks",
        "drafts": "SELECT COUNT(*) FROM drafts",
        "trades": "SELECT COUNT(*) FROM trades",
        "trade_items": "SELECT COUNT(*) FROM trade_items",
        "notifications": "SELECT COUNT(*) FROM notifications",
        "cache_entries": "SELECT COUNT(*) FROM cache_entries",
        "games": "SELECT COUNT(*) FROM games",
        "players": "SELECT COUNT(*) FROM players",
        "player_game_stats": "SELECT COUNT(*) FROM player_game_stats",
        "team_week_scores": "SELECT COUNT(*) FROM team_week_scores",
        "weekly_bonuses": "SELECT COUNT(*) FROM weekly_bonuses",
        "users": "SELECT COUNT(*) FROM users",
    }
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in queries.items()}
