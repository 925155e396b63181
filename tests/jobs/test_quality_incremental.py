"""data_quality_checks on what changed: each scoped rule finds a row broken since the last run exactly
as the whole-database check does, and nothing broken before it; the day's first run and --full
check everything; the roster, draft and league-weights rules run only in the whole pass."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from fantasy_jobs.jobs import quality
from fantasy_jobs.schema import DataQualityResult, JobExecution, utcnow
from tests.jobs.test_quality import CASES, NOW, minutes_implausible, negative_stat, one
from tests.support.jobs import run_job

TOUCHED = {  # the table whose change time a rule's offending id moves (what the project's writers set)
    "player_points_add_up_to_team_score": "games",
    "fantasy_points_match_stats_and_weights": "fantasy_points",
    "team_week_total_matches_starters": "team_week_scores",
}
SCOPED_CASES = [c for c in CASES if c[0].__name__.removeprefix("check_") in quality.SCOPED_CHECKS]
SCOPED_CASES = [c for c in SCOPED_CASES if c[1] != "league_scored_with_its_weights"]


def touch(conn, rule: str, row_id: int) -> None:
    table = TOUCHED.get(rule, "player_game_stats")
    conn.execute(text(f"UPDATE {table} SET updated_at = :now WHERE id = :i"), {"now": utcnow(), "i": row_id})


def findings(engine, check, since=None) -> list[tuple[str, int, list]]:
    with engine.connect() as conn:
        return [(f.rule, f.count, f.sample) for f in check(conn, since).findings]


@pytest.fixture
def scored_demo(demo_engine):
    run_job(demo_engine, "calculate_fantasy_scores", NOW)
    return demo_engine


@pytest.mark.parametrize("check,rule,breaker", SCOPED_CASES, ids=[c[1] for c in SCOPED_CASES])
def test_a_row_broken_since_is_found_as_the_whole_check_finds_it(scored_demo, check, rule, breaker):
    since = utcnow() - timedelta(seconds=1)
    with scored_demo.begin() as conn:
        offending = breaker(conn)
        touch(conn, rule, offending)
    whole = findings(scored_demo, check)
    assert whole == [(rule, 1, [offending])]
    assert findings(scored_demo, check, since) == whole  # the scoped run sees the same
    assert findings(scored_demo, check, utcnow() + timedelta(seconds=1)) == []  # and only what changed


def test_points_changed_under_a_team_find_its_stale_totals_like_the_whole_check(scored_demo):
    """A rostered player's stored points move and nobody rescored: the scoped run must reach the team
    weeks through the points alone (their totals did not change) and find what the whole run finds."""
    since = utcnow() - timedelta(seconds=1)
    with scored_demo.begin() as conn:
        row = one(  # points a team's week total counts: a starter's, through the league's profile
            conn,
            f"""SELECT fp.id FROM fantasy_points fp JOIN games g ON g.id = fp.game_id
               JOIN roster_slots rs ON rs.player_id = fp.player_id AND rs.slot IN ({quality.STARTING})
                AND rs.acquired_at <= g.start_time AND (rs.released_at IS NULL OR rs.released_at > g.start_time)
               JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
               JOIN leagues l ON l.id = ft.league_id AND l.season = g.season
               JOIN league_profiles lp ON lp.league_id = l.id AND lp.profile_id = fp.profile_id
               ORDER BY fp.id LIMIT 1""",
        )
        conn.execute(
            text("UPDATE fantasy_points SET points = points + 5, updated_at = :now WHERE id = :i"),
            {"now": utcnow(), "i": row.id},
        )
    whole = findings(scored_demo, quality.check_score_calculation_accuracy)
    assert {rule for rule, _, _ in whole} == {
        "fantasy_points_match_stats_and_weights",
        "team_week_total_matches_starters",
    }
    assert findings(scored_demo, quality.check_score_calculation_accuracy, since) == whole


def written_an_hour_ago(conn) -> None:
    """Every change time an hour back: before the 5 minutes (quality_scope_overlap_seconds) a scope
    looks back past the last run."""
    for table in ("player_game_stats", "games", "fantasy_points", "team_week_scores"):
        conn.execute(text(f"UPDATE {table} SET updated_at = :t"), {"t": utcnow() - timedelta(hours=1)})


def runs(engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            r.details
            for r in conn.execute(
                select(JobExecution.details)
                .where(JobExecution.job_id == "data_quality_checks")
                .order_by(JobExecution.id)
            )
        ]


def test_the_days_first_run_is_whole_the_next_ones_look_at_changes(scored_demo, monkeypatch):
    with scored_demo.begin() as conn:
        old = negative_stat(conn)  # broken before the first run
        written_an_hour_ago(conn)
    first = run_job(scored_demo, "data_quality_checks", NOW)
    assert first.details["full"] is True and first.rows_affected == 1

    with scored_demo.begin() as conn:
        new = minutes_implausible(conn)  # minutes weigh nothing: no stored points go stale
        touch(conn, "minutes_plausible", new)
    second = run_job(scored_demo, "data_quality_checks", NOW)
    assert second.details == {
        "player_stats_consistency": "failed",
        "score_calculation_accuracy": "passed",
        "full": False,
    }
    with scored_demo.connect() as conn:
        latest = (
            conn.execute(
                select(DataQualityResult.details)
                .where(DataQualityResult.check_name == "player_stats_consistency")
                .order_by(DataQualityResult.id.desc())
            )
            .scalars()
            .first()
        )
    assert latest["findings"] == [{"rule": "minutes_plausible", "count": 1, "sample": [new]}]
    assert latest["scope"].startswith("changes since the last run")

    with scored_demo.begin() as conn:
        written_an_hour_ago(conn)
    third = run_job(scored_demo, "data_quality_checks", NOW)  # nothing changed since the second
    assert third.rows_affected == 0 and third.details["full"] is False

    forced = run_job(scored_demo, "data_quality_checks", NOW, full=True)  # --full: both, and every check
    assert forced.rows_affected == 2 and set(forced.details) >= {
        "roster_slot_integrity",
        "draft_state_consistency",
    }
    with scored_demo.connect() as conn:
        latest = (
            conn.execute(
                select(DataQualityResult.details)
                .where(DataQualityResult.check_name == "player_stats_consistency")
                .order_by(DataQualityResult.id.desc())
            )
            .scalars()
            .first()
        )
    assert {s for f in latest["findings"] for s in f["sample"]} == {old, new}

    monkeypatch.setenv("FANTASY_QUALITY_FULL_HOURS", "1")
    with scored_demo.begin() as conn:  # the last whole run is over an hour old: the next one is whole
        conn.execute(
            text("UPDATE job_executions SET started_at = :t WHERE job_id = 'data_quality_checks'"),
            {"t": utcnow() - timedelta(hours=2)},
        )
    assert run_job(scored_demo, "data_quality_checks", NOW).details["full"] is True
    assert [d["full"] for d in runs(scored_demo)] == [True, False, False, True, True]
