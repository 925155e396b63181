"""The benchmark (`make bench`) at a small S, so that it never rots.

It runs the whole bench: the generator, every SQL reference on a copy of the database, and every
covered job: one through `fantasy-jobs run` in its own process as `make bench` runs them all, the
others in this process (a process start costs more than a job at this size). It checks the JSON, that every job
completed with work to do, and that the generator's row counts follow from S. No wall time is
asserted: this is a benchmark's smoke test, not a timed test.
"""

from __future__ import annotations

import json

import pytest

from bench.generate import ROSTER, expected_counts, league_kind, teams_in_league
from bench.run import COVERED, NOT_COVERED, job_of, run_bench
from fantasy_jobs.registry import JOBS

SCALE = 20
IN_A_PROCESS = "calculate_fantasy_scores"


@pytest.fixture(scope="module")
def bench(postgres, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    report = run_bench(
        postgres, SCALE, out, in_process=frozenset(COVERED) - {IN_A_PROCESS}, ceiling_seconds=1.0
    )
    return report, out


def test_generated_rows_follow_from_the_scale(bench):
    report, _ = bench
    rows = report["database"]["rows"]
    assert rows["leagues"] == SCALE
    drafted_teams = sum(teams_in_league(i) for i in range(1, SCALE + 1) if league_kind(i) != "drafting")
    assert rows["drafted_roster_slots"] == drafted_teams * len(ROSTER) == drafted_teams * 13
    assert rows["notifications"] == 50 * SCALE
    assert rows["cache_entries"] == 100 * SCALE
    assert 10 * SCALE <= rows["fantasy_teams"] <= 12 * SCALE
    for table, expected in expected_counts(SCALE).items():
        assert rows[table] == expected, table
    # every path has data: moves and trades beyond the draft, weekly history, box scores
    assert rows["roster_slots"] > rows["drafted_roster_slots"]
    assert rows["trade_items"] == 2 * rows["trades"] > 0
    assert rows["team_week_scores"] > 0 and rows["weekly_bonuses"] > 0
    assert rows["player_game_stats"] > 20 * rows["games"]


def test_every_covered_job_completed_with_work_and_a_reference(bench):
    report, _ = bench
    assert [r["job"] for r in report["jobs"]] == list(COVERED)
    assert {job_of(run) for run in COVERED} | set(NOT_COVERED) == {job.id for job in JOBS}
    for result in report["jobs"]:
        job = result["job"]
        assert result["exit_code"] == 0 and result["status"] == "completed", result
        assert result["reference"]["error"] is None, result["reference"]
        assert result["seconds"] is not None
        if job in ("calculate_fantasy_scores_nothing_new", "data_quality_checks_nothing_new"):
            assert result["rows"] == 0  # nothing changed since the last run: nothing read, nothing found
        if job.endswith("_nothing_new"):
            continue  # a re-run may find nothing to change, and so may its reference
        assert result["reference"]["rows"] > 0, job
        if job == IN_A_PROCESS:
            assert result["peak_rss_mb"] >= report["baseline_rss_mb"] > 0
        assert result["rows"] > 0, job  # the generated data gives every covered job work
        assert result["ratio"] is not None
    by_job = {r["job"]: r for r in report["jobs"]}
    # where job and reference count the same thing, they do the same work on the same rows
    for job in (
        "calculate_fantasy_scores",
        "cache_cleanup",
        "process_notifications",
        "process_notifications_webhook_burst",
        "reset_weekly_moves",
        "live_scoring_tick",
    ):
        assert by_job[job]["rows"] == by_job[job]["reference"]["rows"], job
    # the live tick: one game's box score changed, exactly its 3 changed lines rescored
    tick = by_job["live_scoring_tick"]["tick"]
    assert tick["lines_changed"] == 3 and tick["fantasy_points_rows"] > 0 and tick["team_week_rows"] > 0
    # the burst: every webhook reached the receiver once, beside the receiver's own ceiling
    hooks = by_job["process_notifications_webhook_burst"]["webhooks"]
    assert hooks["delivered"] == hooks["received"] == 10 * SCALE and hooks["duplicates"] == 0
    assert hooks["per_second"] > 0 and hooks["receiver_ceiling"] > 0
    # a day's games rewrite a small part of what the first (full) run wrote
    assert 0 < by_job["calculate_fantasy_scores_3_games"]["rows"] < by_job["calculate_fantasy_scores"]["rows"]


def test_results_are_written_as_json(bench):
    report, out = bench
    written = json.loads((out / f"bench-S{SCALE}.json").read_text())
    assert written["scale"] == SCALE
    assert {"date", "commit", "postgres", "database", "generation", "baseline_rss_mb", "jobs"} <= set(written)
    assert {"job", "scale", "seconds", "peak_rss_mb", "rows", "reference", "ratio"} <= set(written["jobs"][0])
    assert written["generation"]["tables"]["leagues"]["rows"] == SCALE
    assert len(written["jobs"]) == len(report["jobs"])


def test_online_index_bench_builds_revision_0002_beside_scoring(postgres, tmp_path):
    """`python -m bench.online_index` at S = 20: both builds measured beside real scoring runs, the
    database at head with the index valid, no probe error. (Times are reported, never asserted.)"""
    from bench.online_index import format_report, run

    report = run(postgres, 20, tmp_path)
    assert report["revision_after"] == "0002" and report["index_valid"] is True
    assert [s["scenario"] for s in report["scenarios"]] == ["plain", "online"]
    for scenario in report["scenarios"]:
        assert scenario["probe_writes"] > 0 and scenario["probe_errors"] == []
        assert scenario["scoring_runs"] >= 1 and set(scenario["scoring_exit_codes"]) == {0}
    assert json.loads((tmp_path / "online-index-S20.json").read_text()) == report
    assert "| online |" in format_report(report)
