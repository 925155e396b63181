"""The Jobs page's data in-process: the bounded per-job recent runs and success rates (SQL, both
dialects), league times with relative hints, and a render of the autoescaped template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from fantasy_jobs import admin
from fantasy_jobs.schema import JobExecution

NOW = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # Mon 30 Nov 14:00 in New York


def add_runs(engine, job_id: str, statuses: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(JobExecution),
            [
                {
                    "job_id": job_id,
                    "status": status,
                    "started_at": NOW - timedelta(hours=len(statuses) - n),
                    "execution_time_s": float(n),
                    "trigger": "scheduled",
                    "dry_run": False,
                    "long_running": False,
                    "error_message": "<script>alert(1)</script>" if status == "failed" else None,
                }
                for n, status in enumerate(statuses)
            ],
        )


def test_the_last_30_runs_per_job_and_the_success_rate_come_from_sql(engine, monkeypatch):
    monkeypatch.setattr(admin, "_engine", lambda: engine)
    add_runs(engine, "cache_cleanup", ["failed"] * 10 + ["completed"] * 27 + ["skipped"] * 3)  # 40 runs
    add_runs(engine, "backup_database", ["running"])
    runs, stats = admin.recent_runs_per_job(["cache_cleanup", "backup_database", "ingest_teams"])
    recent = runs["cache_cleanup"]
    assert len(recent) == 30 and [r.status for r in recent][-3:] == ["skipped"] * 3
    assert recent[0].started_at < recent[-1].started_at  # oldest first, for the strip
    assert stats["cache_cleanup"] == (27, 27, 3)  # the 10 old failures fell out of the window
    assert stats["backup_database"] == (0, 0, 0) and "ingest_teams" not in runs
    strip = admin.sparkline(recent, stats["cache_cleanup"], NOW)
    assert strip["rate_text"] == "100% ok (27/27), 3 skipped" and len(strip["bars"]) == 30
    assert max(bar["h"] for bar in strip["bars"]) == admin.SPARK_HEIGHT - 2


def test_times_are_league_time_with_a_relative_hint_and_the_exact_time():
    shown = admin.when(NOW - timedelta(minutes=12), NOW)
    assert shown == {
        "text": "Mon 30 Nov 13:48",
        "rel": "12 min ago",
        "exact": "2026-11-30 13:48:00 EST (18:48:00 UTC)",
    }
    assert admin.when("2026-12-01T07:00:00+00:00", NOW)["text"] == "Tue 01 Dec 02:00"
    assert admin.relative(NOW + timedelta(hours=3), NOW) == "in 3 h"
    assert admin.relative(NOW + timedelta(hours=1, minutes=20), NOW) == "in 1 h 20 min"
    assert admin.relative(NOW - timedelta(days=3), NOW) == "3 d ago"


def test_the_template_escapes_what_the_database_says():
    page = (
        admin._templates()
        .get_template("jobs_page.html")
        .render(
            now=admin.when(NOW, NOW),
            timezone="America/New_York",
            groups=[],
            history=[
                admin.run_view(
                    {
                        "status": "failed",
                        "long_running": True,
                        "dry_run": True,
                        "error": "<script>alert(1)</script>",
                        "dag_id": "fantasy_daily",
                        "run_id": "manual__x",
                        "started_at": NOW.isoformat(),
                        "duration_s": 75.0,
                        "rows_affected": 0,
                        "job_id": "backup_database",
                        "trigger": "manual",
                    },
                    NOW,
                    "http://airflow",
                )
            ],
            statuses=admin.STATUSES,
            job_ids=["backup_database"],
            filters={"status": "failed", "job": "", "notice": ""},
            page={"total": 1, "shown": "1-1", "older": None, "newer": None},
        )
    )
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<tr class="run-failed run-long" data-status="failed">' in page
    assert "chip-dry" in page and "1 min 15 s" in page
    assert 'href="http://airflow/dags/fantasy_daily/runs/manual__x"' in page
    assert '<option value="failed" selected>' in page


def test_the_live_group_shows_games_live_the_last_tick_its_lag_and_the_days_ticks(engine, monkeypatch):
    """Both dialects: games in progress that tipped off in the last 4 h, the newest live_scoring run
    with its lag, and today's ticks (league midnight on) with the failures and the worst lag."""
    from fantasy_jobs.schema import Game, Team

    monkeypatch.setattr(admin, "_engine", lambda: engine)
    with engine.begin() as conn:
        ny, minn = (
            conn.execute(
                insert(Team).values(espn_id=i, abbreviation=a, display_name=a).returning(Team.id)
            ).scalar_one()
            for i, a in (("9", "NY"), ("8", "MIN"))
        )
        games = [
            ("1", "in_progress", NOW - timedelta(hours=1)),
            (
                "2",
                "in_progress",
                NOW - timedelta(hours=6),
            ),  # ESPN's final long ago: the nightly's to finalise
            ("3", "final", NOW - timedelta(hours=2)),
        ]
        for espn_id, status, start in games:
            conn.execute(
                insert(Game).values(
                    espn_id=espn_id,
                    status=status,
                    start_time=start,
                    season=2026,
                    home_team_id=ny,
                    away_team_id=minn,
                )
            )
        ticks = [  # (minutes before NOW, status, lag): one yesterday (league time), three today
            (17 * 60, "completed", 40.0),
            (30, "completed", 9.5),
            (20, "failed", None),
            (5, "completed", 6.25),
        ]
        conn.execute(
            insert(JobExecution),
            [
                {
                    "job_id": "live_scoring",
                    "status": status,
                    "started_at": NOW - timedelta(minutes=minutes),
                    "trigger": "event",
                    "dry_run": False,
                    "long_running": False,
                    "details": {"lag_seconds": lag, "lines_changed": 3, "games": ["1"]} if lag else {},
                }
                for minutes, status, lag in ticks
            ],
        )
    live = admin.live_status(NOW)
    assert [g["label"] for g in live["games_live"]] == ["MIN @ NY"]
    assert (live["ticks_today"], live["failed_today"], live["worst_lag_today_s"]) == (3, 1, 9.5)
    assert live["last_tick"]["lag_s"] == 6.25 and live["last_tick"]["lines_changed"] == 3
    view = admin._live_view(live, NOW)
    page = (
        admin._templates()
        .get_template("jobs_page.html")
        .render(
            now=admin.when(NOW, NOW),
            timezone="America/New_York",
            groups=[{"title": "Live", "dag_id": "fantasy_live", "deadline": "x", "jobs": [], "live": view}],
            history=[],
            statuses=admin.STATUSES,
            job_ids=[],
            filters={"status": "", "job": "", "notice": ""},
            page={"total": 0, "shown": "0", "older": None, "newer": None},
        )
    )
    assert 'data-testid="games-live">1</span> (MIN @ NY)' in page
    assert (
        'data-testid="live-lag">6.2 s</span>' in page
        and 'data-testid="ticks-today">3</span> (1 failed), worst lag 9.5 s' in page
    )


def test_the_badge_is_the_newest_start_like_the_strips_last_bar_and_an_at_run_says_as_of(engine, monkeypatch):
    """A run inserted later (higher id) but started earlier (a daily chain job takes its DAG run's
    start) is not the badge: the newest start is, the strip's last bar. A `--at` run in the past
    says the time it ran as."""
    monkeypatch.setattr(admin, "_engine", lambda: engine)
    base = {
        "trigger": "cli",
        "dry_run": False,
        "long_running": False,
        "job_id": "ingest_teams",
        "logical_time": None,
    }
    with engine.begin() as conn:
        conn.execute(
            insert(JobExecution),
            [
                {**base, "status": "completed", "started_at": NOW - timedelta(minutes=5)},
                {
                    **base,
                    "status": "failed",
                    "started_at": NOW - timedelta(hours=2),  # inserted second, started first
                    "trigger": "scheduled",
                },
                {
                    **base,
                    "job_id": "reset_weekly_moves",
                    "status": "completed",
                    "started_at": NOW - timedelta(minutes=1),
                    "logical_time": datetime(2026, 6, 8, 9, 0, tzinfo=UTC),  # --at 2026-06-08T05:00
                },
            ],
        )
    last = admin.last_runs()
    runs, _ = admin.recent_runs_per_job(["ingest_teams"])
    assert last["ingest_teams"]["status"] == "completed" == runs["ingest_teams"][-1].status
    shown = admin.run_view(last["reset_weekly_moves"], NOW, "http://x")
    assert shown["as_of"]["text"] == "Mon 08 Jun 05:00"
    assert admin.run_view(last["ingest_teams"], NOW, "http://x")["as_of"] is None  # no logical time
    near = {**last["ingest_teams"], "logical_time": (NOW - timedelta(minutes=4)).isoformat()}
    assert admin.run_view(near, NOW, "http://x")["as_of"] is None  # a minute off: nothing to say
