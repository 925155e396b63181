"""data_quality_checks: four checks over the app database, findings stored and sent to Slack.

The first run of a day (none whole within `quality_full_hours`) and `--full` check the whole
database; the other runs check what changed since the last run with the rules that can: box-score
lines and games changed, fantasy points changed, team week totals changed or holding a player whose
points changed. Roster, draft and league-weights rules keep to the whole-database pass.

Each check is a handful of set-based queries, one per rule; a rule returns how many rows break it
and a bounded sample of their ids. The job runs all four (one that raises is recorded as `error`
and the others still run), stores one `data_quality_results` row per check, logs each, and sends
one Slack message summarising every finding. Findings do not fail the job; a check that could not
run does, after the others have reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, text

from fantasy_jobs import scoring, settings
from fantasy_jobs.alerts import send_slack
from fantasy_jobs.db import analyze, create_temp_table, use_job_work_mem
from fantasy_jobs.jobs.scoring import CHANGED_STARTER_POINTS, CHANGED_TEAM_WEEKS, STARTER_POINTS
from fantasy_jobs.runtime import JobContext, JobResult, last_completed_start
from fantasy_jobs.schema import (
    BOX_SCORE_COLUMNS,
    DataQualityResult,
    League,
    LeagueProfile,
    ScoringProfile,
    UtcDateTime,
    utcnow,
)

SAMPLE = 20
TOLERANCE = 0.01
MAX_MINUTES = 70  # regulation is 40; several overtimes stay below this
STARTING = ", ".join(f"'{slot}'" for slot in scoring.STARTING_SLOTS)


@dataclass
class Finding:
    rule: str
    count: int
    sample: list[Any]


@dataclass
class CheckResult:
    check: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else "failed" if self.findings else "passed"

    @property
    def issue_count(self) -> int:
        return sum(f.count for f in self.findings)


def run_rules(conn, check: str, rules: dict[str, str], params: dict | None = None) -> CheckResult:
    """Each rule is a SELECT of offending ids (column `id`); count and sample come from one query."""
    result = CheckResult(check)
    for rule, sql in rules.items():
        rows = conn.execute(
            text(
                f"SELECT id, COUNT(*) OVER () AS total FROM ({sql}) AS offending ORDER BY id LIMIT {SAMPLE}"
            ),
            params or {},
        ).all()
        if rows:
            result.findings.append(Finding(rule, rows[0].total, [r.id for r in rows]))
    return result


# --- 1. player stats ------------------------------------------------------------------------

STAT_COLUMNS = BOX_SCORE_COLUMNS
PLAYER_STATS_RULES = {
    "reb_equals_oreb_plus_dreb": "SELECT id FROM player_game_stats WHERE reb <> oreb + dreb",
    "made_at_most_attempted": "SELECT id FROM player_game_stats WHERE fgm > fga OR fg3m > fg3a OR ftm > fta",
    "threes_within_field_goals": "SELECT id FROM player_game_stats WHERE fg3m > fgm",
    "points_formula": "SELECT id FROM player_game_stats WHERE pts <> 2 * (fgm - fg3m) + 3 * fg3m + ftm",
    "no_negative_stats": "SELECT id FROM player_game_stats WHERE "
    + " OR ".join(f"{c} < 0" for c in STAT_COLUMNS),
    "minutes_plausible": f"SELECT id FROM player_game_stats WHERE minutes > {MAX_MINUTES} OR (did_not_play AND minutes > 0)",
    "player_points_add_up_to_team_score": """
        SELECT g.id AS id FROM games g
        WHERE g.status = 'final' AND g.home_score IS NOT NULL AND (
            g.home_score <> (SELECT COALESCE(SUM(s.pts), 0) FROM player_game_stats s WHERE s.game_id = g.id AND s.team_id = g.home_team_id)
         OR g.away_score <> (SELECT COALESCE(SUM(s.pts), 0) FROM player_game_stats s WHERE s.game_id = g.id AND s.team_id = g.away_team_id))
          AND EXISTS (SELECT 1 FROM player_game_stats s WHERE s.game_id = g.id)""",
    "player_of_neither_team": """
        SELECT s.id AS id FROM player_game_stats s JOIN games g ON g.id = s.game_id
        WHERE s.team_id <> g.home_team_id AND s.team_id <> g.away_team_id""",
}


CHANGED_LINE = "SELECT id FROM player_game_stats WHERE updated_at >= :since"
CHANGED_GAME = """
    SELECT id FROM games WHERE updated_at >= :since
    UNION SELECT game_id FROM player_game_stats WHERE updated_at >= :since"""
PLAYER_STATS_SCOPE = {
    rule: CHANGED_GAME if rule == "player_points_add_up_to_team_score" else CHANGED_LINE
    for rule in PLAYER_STATS_RULES
}
"""What a rule's offending id must be among in a run scoped to changes: the lines changed since the
last run, or for a game's rule the games changed or holding a changed line. The box scores do not
grow with the leagues, so the rules still read them whole and only their findings are scoped."""


def scoped(rules: dict[str, str], scope: dict[str, str]) -> dict[str, str]:
    return {rule: f"SELECT r.id FROM ({sql}) r WHERE r.id IN ({scope[rule]})" for rule, sql in rules.items()}


def check_player_stats_consistency(conn, since=None) -> CheckResult:
    """Box-score arithmetic, plausible values, team totals, and lines of players of neither team."""
    if since is None:
        return run_rules(conn, "player_stats_consistency", PLAYER_STATS_RULES)
    return run_rules(
        conn, "player_stats_consistency", scoped(PLAYER_STATS_RULES, PLAYER_STATS_SCOPE), {"since": since}
    )


# --- 2. roster slots ------------------------------------------------------------------------

FAR_FUTURE = "'9999-12-31'"
ROSTER_RULES = {
    # Pairs are sought only among the slots of (league, player) pairs more than one team ever rostered
    # (one grouped pass, computed once): a self-join of every slot on player would pair each slot with
    # the player's slots in every league.
    "player_on_two_teams_of_a_league": f"""
        WITH shared AS (
            SELECT rs.id, rs.player_id, rs.fantasy_team_id, ft.league_id, rs.acquired_at, rs.released_at
            FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
            JOIN (SELECT ft2.league_id, rs2.player_id
                  FROM roster_slots rs2 JOIN fantasy_teams ft2 ON ft2.id = rs2.fantasy_team_id
                  GROUP BY ft2.league_id, rs2.player_id
                  HAVING MIN(rs2.fantasy_team_id) <> MAX(rs2.fantasy_team_id)) pairs
              ON pairs.league_id = ft.league_id AND pairs.player_id = rs.player_id)
        SELECT b.id AS id
        FROM shared a
        JOIN shared b ON b.league_id = a.league_id AND b.player_id = a.player_id
          AND b.id > a.id AND b.fantasy_team_id <> a.fantasy_team_id
        WHERE a.acquired_at < COALESCE(b.released_at, {FAR_FUTURE}) AND b.acquired_at < COALESCE(a.released_at, {FAR_FUTURE})""",
    "roster_over_league_size": """
        SELECT ft.id AS id FROM fantasy_teams ft JOIN leagues l ON l.id = ft.league_id
        WHERE (SELECT COUNT(*) FROM roster_slots rs WHERE rs.fantasy_team_id = ft.id AND rs.released_at IS NULL) > l.roster_size""",
    "league_over_team_count": """
        SELECT l.id AS id FROM leagues l WHERE (SELECT COUNT(*) FROM fantasy_teams ft WHERE ft.league_id = l.id) > l.max_teams""",
    "slot_of_missing_team": "SELECT rs.id AS id FROM roster_slots rs WHERE NOT EXISTS (SELECT 1 FROM fantasy_teams ft WHERE ft.id = rs.fantasy_team_id)",
    "slot_of_missing_player": "SELECT rs.id AS id FROM roster_slots rs WHERE NOT EXISTS (SELECT 1 FROM players p WHERE p.id = rs.player_id)",
    "active_slot_in_archived_league": """
        SELECT rs.id AS id FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
        JOIN leagues l ON l.id = ft.league_id WHERE l.status = 'archived' AND rs.released_at IS NULL""",
}


def check_roster_slot_integrity(conn, since=None) -> CheckResult:
    """Double rostering, oversized rosters and leagues, orphaned slots, live slots in archived leagues."""
    return run_rules(conn, "roster_slot_integrity", ROSTER_RULES)


# --- 3. scores ------------------------------------------------------------------------------


def check_score_calculation_accuracy(conn, since=None) -> CheckResult:
    """Stored fantasy points against points recomputed by the scoring code, and team week totals
    against the sum of their starters' points (tolerance 0.01).

    Scoped to changes (`since`): the points of lines or points rows changed since then, and the team
    weeks whose total changed or that roster a player whose points changed, summed again from their
    own starters only (the scoring job's statement, driven from those team weeks). Whether each
    league is scored with its own weights is a whole-database rule (leagues keep no change time)."""
    params = {} if since is None else {"since": since}
    profiles = conn.execute(select(ScoringProfile.id, ScoringProfile.weights)).all()
    rules: dict[str, str] = {}
    recomputed = []
    for profile in profiles:
        weights = {stat: float(w) for stat, w in (profile.weights or {}).items()}
        changed = "" if since is None else " AND (fp.updated_at >= :since OR s.updated_at >= :since)"
        recomputed.append(f"""
            SELECT fp.id AS id FROM fantasy_points fp JOIN player_game_stats s ON s.player_id = fp.player_id AND s.game_id = fp.game_id
            WHERE fp.profile_id = {int(profile.id)} AND ABS(fp.points - ({scoring.points_sql(weights, "s")})) > {TOLERANCE}{changed}""")
    if recomputed:
        rules["fantasy_points_match_stats_and_weights"] = " UNION ALL ".join(recomputed)
    result = run_rules(conn, "score_calculation_accuracy", rules, params)
    if since is None:
        wrong = leagues_not_scored_with_their_weights(conn)
        if wrong:
            result.findings.append(wrong)
        totals = f"""
            SELECT tws.id AS id FROM team_week_scores tws
            JOIN league_profiles lp ON lp.league_id = tws.league_id
            LEFT JOIN ({STARTER_POINTS.format(league_filter="")}) AS computed
              ON computed.fantasy_team_id = tws.fantasy_team_id AND computed.week = tws.week
            WHERE ABS(tws.points - COALESCE(computed.total, 0)) > {TOLERANCE}"""
    else:
        collect_changed_team_weeks(conn, since)
        totals = f"""
            SELECT tws.id AS id FROM {CHANGED_TEAM_WEEKS} cw
            JOIN team_week_scores tws ON tws.fantasy_team_id = cw.fantasy_team_id AND tws.week = cw.week
            JOIN league_profiles lp ON lp.league_id = tws.league_id
            LEFT JOIN ({CHANGED_STARTER_POINTS.format(league_filter="")}) AS computed
              ON computed.fantasy_team_id = tws.fantasy_team_id AND computed.week = tws.week
            WHERE ABS(tws.points - COALESCE(computed.total, 0)) > {TOLERANCE}"""
    result.findings.extend(
        run_rules(conn, "score_calculation_accuracy", {"team_week_total_matches_starters": totals}).findings
    )
    return result


def collect_changed_team_weeks(conn, since) -> int:
    """CHANGED_TEAM_WEEKS: the team weeks whose stored total changed since `since`, and every week of
    a team that rostered a player whose points or line changed then (in the week of those points)."""
    create_temp_table(
        conn,
        CHANGED_TEAM_WEEKS,
        "fantasy_team_id BIGINT NOT NULL, week INTEGER NOT NULL, PRIMARY KEY (fantasy_team_id, week)",
    )
    player_weeks = """
        SELECT player_id, week FROM fantasy_points WHERE updated_at >= :since
        UNION SELECT s.player_id, g.fantasy_week FROM player_game_stats s JOIN games g ON g.id = s.game_id
        WHERE s.updated_at >= :since AND g.fantasy_week IS NOT NULL"""
    added = conn.execute(
        text(f"""
            INSERT INTO {CHANGED_TEAM_WEEKS} (fantasy_team_id, week)
            SELECT fantasy_team_id, week FROM team_week_scores WHERE updated_at >= :since
            UNION SELECT rs.fantasy_team_id, pw.week FROM ({player_weeks}) pw JOIN roster_slots rs ON rs.player_id = pw.player_id
        """).bindparams(bindparam("since", type_=UtcDateTime())),
        {"since": since},
    ).rowcount
    analyze(conn, CHANGED_TEAM_WEEKS)
    return added


def leagues_not_scored_with_their_weights(conn, page: int = 5000) -> Finding | None:
    """Leagues whose profile's hash is not the hash of their own weights, a page of leagues at a time
    (the weights are read in Python, never every league at once)."""
    query = (
        select(League.id, League.scoring_settings, ScoringProfile.weights_hash)
        .join(LeagueProfile, LeagueProfile.league_id == League.id)
        .join(ScoringProfile, ScoringProfile.id == LeagueProfile.profile_id)
        .where(League.id > bindparam("after"))
        .order_by(League.id)
        .limit(page)
    )
    total, after = 0, 0
    sample: list[int] = []
    while leagues := conn.execute(query, {"after": after}).all():
        after = leagues[-1].id
        for league in leagues:
            try:
                expected = scoring.weights_hash(
                    scoring.league_weights(league.scoring_settings, f"league {league.id}")
                )
            except scoring.ScoringSettingsError:
                expected = None
            if expected != league.weights_hash:
                total += 1
                if len(sample) < SAMPLE:
                    sample.append(int(league.id))
    return Finding("league_scored_with_its_weights", total, sample) if total else None


# --- 4. drafts ------------------------------------------------------------------------------

DRAFT_RULES = {
    "completed_draft_has_every_pick": """
        SELECT d.id AS id FROM drafts d WHERE d.status = 'completed' AND
          (SELECT COUNT(*) FROM draft_picks p WHERE p.draft_id = d.id AND p.player_id IS NOT NULL)
          < d.rounds * (SELECT COUNT(*) FROM fantasy_teams ft WHERE ft.league_id = d.league_id)""",
    "pick_numbers_contiguous": """
        SELECT draft_id AS id FROM draft_picks GROUP BY draft_id
        HAVING MIN(pick_number) <> 1 OR MAX(pick_number) <> COUNT(*)""",
    "player_drafted_once_per_league": """
        SELECT p.id AS id FROM (
            SELECT dp.id, d.league_id, dp.player_id,
                   MIN(dp.id) OVER (PARTITION BY d.league_id, dp.player_id) AS first_id
            FROM draft_picks dp JOIN drafts d ON d.id = dp.draft_id
            JOIN (SELECT d2.league_id, dp2.player_id FROM draft_picks dp2 JOIN drafts d2 ON d2.id = dp2.draft_id
                  WHERE dp2.player_id IS NOT NULL GROUP BY d2.league_id, dp2.player_id HAVING COUNT(*) > 1) twice
              ON twice.league_id = d.league_id AND twice.player_id = dp.player_id) p
        WHERE p.id > p.first_id""",
    "current_pick_is_next_unmade": """
        SELECT d.id AS id FROM drafts d WHERE d.status = 'in_progress' AND d.current_pick IS DISTINCT FROM COALESCE(
          (SELECT MIN(p.pick_number) FROM draft_picks p WHERE p.draft_id = d.id AND p.player_id IS NULL),
          (SELECT MAX(p.pick_number) + 1 FROM draft_picks p WHERE p.draft_id = d.id), 1)""",
    "league_and_draft_status_agree": """
        SELECT l.id AS id FROM leagues l JOIN drafts d ON d.league_id = l.id
        WHERE (l.status = 'drafting' AND d.status = 'completed')
           OR (l.status IN ('active', 'completed', 'archived') AND d.status <> 'completed')""",
}


def check_draft_state_consistency(conn, since=None) -> CheckResult:
    """Completed drafts complete, pick numbers contiguous, no player drafted twice in a league,
    an in-progress draft's current pick the next unmade one, league and draft status in step."""
    rules = dict(DRAFT_RULES)
    if conn.dialect.name == "sqlite":
        rules["current_pick_is_next_unmade"] = rules["current_pick_is_next_unmade"].replace(
            "IS DISTINCT FROM", "IS NOT"
        )
    return run_rules(conn, "draft_state_consistency", rules)


CHECKS: tuple[Callable[[Any, datetime | None], CheckResult], ...] = (
    check_player_stats_consistency,
    check_roster_slot_integrity,
    check_score_calculation_accuracy,
    check_draft_state_consistency,
)


def slack_summary(results: list[CheckResult]) -> str:
    lines = [":mag: *Data quality findings*"]
    for result in results:
        for finding in result.findings:
            ids = ", ".join(map(str, finding.sample[:5])) + (" ..." if finding.count > 5 else "")
            lines.append(f"- `{result.check}` / {finding.rule}: {finding.count} (ids {ids})")
        if result.error:
            lines.append(f"- `{result.check}`: could not run: {result.error[:300]}")
    return "\n".join(lines)


SCOPED_CHECKS = frozenset({"player_stats_consistency", "score_calculation_accuracy"})
"""The checks whose rules can look at what changed alone; the others run in the whole-database pass."""


def check_scope(ctx: JobContext) -> tuple[datetime | None, str]:
    """(since, why): what this run looks at; since None: the whole database (asked for, or none
    completed within `quality_full_hours`: the first run of each day, and the first run ever)."""
    if ctx.full:
        return None, "whole database, asked for (--full)"
    hours = settings.get("quality_full_hours")
    if last_completed_start(ctx, full_only=True, within=timedelta(hours=hours)) is None:
        return None, f"whole database: none checked in the last {hours} h (quality_full_hours)"
    last = last_completed_start(ctx)
    if last is None:  # cannot be after a whole-database run above; said plainly if it ever is
        return None, "whole database: no completed run to look back from"
    # rows changed shortly before the last run started are looked at again: change times are
    # written by several processes' clocks
    overlap = timedelta(seconds=settings.get("quality_scope_overlap_seconds"))
    return last - overlap, f"changes since the last run ({last:%Y-%m-%d %H:%M:%S} UTC, less {overlap})"


def data_quality_checks(ctx: JobContext) -> JobResult:
    since, scope = check_scope(ctx)
    ctx.log.info("checking %s", scope)
    results: list[CheckResult] = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        if since is not None and name not in SCOPED_CHECKS:
            ctx.log.info("%s: whole-database rules only, left to the daily whole-database pass", name)
            continue
        try:
            with ctx.engine.connect() as conn:
                use_job_work_mem(conn)
                result = check(conn, since)
        except Exception as exc:  # recorded; the other checks still run
            result = CheckResult(name, error=f"{type(exc).__name__}: {exc}"[:2000])
            ctx.log.error("check %s could not run: %s", name, result.error)
        results.append(result)
        for finding in result.findings:
            ctx.log.warning(
                "%s: %s: %d (sample ids %s)", result.check, finding.rule, finding.count, finding.sample
            )
        if result.status == "passed":
            ctx.log.info("%s: passed", result.check)
    if not ctx.dry_run:
        now = utcnow()
        with ctx.engine.begin() as conn:
            conn.execute(
                insert(DataQualityResult),
                [
                    {
                        "check_name": r.check,
                        "ran_at": now,
                        "status": r.status,
                        "issue_count": r.issue_count,
                        "details": {
                            "findings": [f.__dict__ for f in r.findings],
                            "error": r.error,
                            "scope": scope,
                        },
                    }
                    for r in results
                ],
            )
        if any(r.findings or r.error for r in results):
            send_slack(slack_summary(results))
    errors = [r for r in results if r.error]
    issues = sum(r.issue_count for r in results)
    if errors:
        raise RuntimeError(
            f"{len(errors)} check(s) could not run: " + "; ".join(f"{r.check}: {r.error}" for r in errors)
        )
    summary = f"{issues} issues in {sum(1 for r in results if r.findings)} of {len(results)} checks ({scope})"
    return JobResult(issues, summary, {**{r.check: r.status for r in results}, "full": since is None})
