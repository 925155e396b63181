"""The operator's first hour in a real browser (Debian's Chromium driven by Playwright) against real
Airflow servers (api-server, scheduler, dag-processor) started once for the module.

In order: the first start (the catch-up runs created at start-up skip as "too late", and no deadline
is missed), the Jobs page with every badge state and a sparkline, "Run now" and its link to the DAG
run, then an empty "Jobs to run" refused by the trigger form, the REST API and `airflow dags test`.
Screenshots are kept under test-artifacts/screenshots (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import insert, select, text

from fantasy_jobs.db import make_engine
from fantasy_jobs.demo import load_demo
from fantasy_jobs.registry import jobs_of
from fantasy_jobs.schema import JobExecution, create_all
from tests.conftest import REPO, VENV_BIN
from tests.support.airflow_server import USERS, AirflowServers

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-artifacts" / "screenshots"
pytestmark = [
    pytest.mark.airflow_cli,
    # make test installs chromium; outside CI a machine without it skips, in CI it must fail
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"), reason="Debian's chromium is not installed"
    ),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WEEKLY_JOBS = [job.id for job in jobs_of("weekly")]
EXPECTED_SHOTS = [
    "1-first-start-jobs-page.png",
    "2-first-start-daily-run-deadline.png",
    "3-run-now-link.png",
    "4-run-now-opens-the-dag-run.png",
    "5-trigger-form-refuses-empty-jobs.png",
    "6-badges-and-sparklines.png",
    "7-history-filtered-failed.png",
]


@pytest.fixture(scope="module")
def cluster(postgres):
    name = postgres.create_database("browser")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    load_demo(engine)
    # a task the loaded machine fails to start is retried in seconds, not minutes
    servers = AirflowServers(
        VENV_BIN, postgres.airflow_uri(name), extra_env={"FANTASY_RETRY_DELAY_SECONDS": "2"}
    ).prepare()
    servers.start("scheduler", "dag-processor")
    yield servers, engine
    servers.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def page(cluster):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        log_in(page, cluster[0].url)
        yield page
        browser.close()


def log_in(page, url: str) -> None:
    page.goto(f"{url}/", wait_until="networkidle")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", USERS["admin"])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: "login" not in u, timeout=60_000)


def shot(page, name: str) -> None:
    assert name in EXPECTED_SHOTS
    page.screenshot(path=str(SHOTS / name), full_page=True)


def row(page, job_id: str):
    return page.locator(f"tr[data-job='{job_id}']")


def status_of(page, job_id: str) -> str:
    return row(page, job_id).locator("[data-testid=status]").inner_text().strip()


def executions(engine, job_id: str, trigger: str) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(JobExecution.status, JobExecution.error_message).where(
                    JobExecution.job_id == job_id, JobExecution.trigger == trigger
                )
            ).all()
        )


def wait_for(check, what: str, servers, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what}:\n" + servers.log("scheduler")[-3000:]
        time.sleep(2)
    return result


def metadata(servers, query: str, *args) -> list[tuple]:
    """Airflow's own metadata database (SQLite in the servers' home), read-only."""
    with sqlite3.connect(f"file:{servers.home / 'airflow.db'}?mode=ro", uri=True) as conn:
        return conn.execute(query, args).fetchall()


def test_first_start_skips_late_runs_as_too_late_and_misses_no_deadline(cluster, page):
    """The catch-up run of today's 02:00 is created at start-up, hours late: its jobs skip as
    "too late" (grey, not red), its deadline counts from when it was queued, nothing is missed."""
    servers, engine = cluster
    skipped = wait_for(
        lambda: executions(engine, "backup_database", "scheduled"), "the daily catch-up run", servers
    )
    assert skipped[0][0] == "skipped" and skipped[0][1].startswith("too late to do work")
    assert "nothing failed" in skipped[0][1]
    (run_id, queued_at, logical_date) = metadata(
        servers,
        "SELECT run_id, queued_at, logical_date FROM dag_run WHERE dag_id = 'fantasy_daily' AND run_type = 'scheduled'",
    )[0]
    deadlines = wait_for(
        lambda: (
            metadata(
                servers,
                "SELECT d.deadline_time, d.missed FROM deadline d JOIN dag_run r ON r.id = d.dagrun_id WHERE r.run_id = ?",
                run_id,
            )
            or [m for m in [servers.log("scheduler")] if f"Deadline of fantasy_daily/{run_id}" in m]
        ),
        "the daily run's deadline",
        servers,
        timeout=60,
    )
    log = servers.log("scheduler")
    assert f"Deadline of fantasy_daily/{run_id}: 4:00:00 after queued_at" in log and "(created late)" in log
    if isinstance(deadlines[0], tuple):  # still stored (not yet pruned by the run's end): not missed
        deadline_time, missed = deadlines[0]
        assert not missed and str(deadline_time) > str(queued_at) > str(logical_date)

    page.goto(f"{servers.url}/fantasy/jobs", wait_until="networkidle")
    assert status_of(page, "backup_database") == "skipped"
    assert row(page, "backup_database").locator(".chip-late").inner_text() == "too late"
    late = row(page, "backup_database").locator(".note")
    assert "nothing failed" in late.inner_text() and late.get_attribute("title").startswith(
        "too late to do work"
    )
    assert "Deadline: finish by 06:00 league time" in page.locator("body").inner_text()
    shot(page, "1-first-start-jobs-page.png")

    page.goto(f"{servers.url}/dags/fantasy_daily/runs/{run_id}", wait_until="networkidle")
    page.get_by_text("fantasy_daily").first.wait_for(timeout=30_000)
    shot(page, "2-first-start-daily-run-deadline.png")
    alerts = httpx.get(
        f"{servers.url}/ui/dags/fantasy_daily/deadlineAlerts",
        headers={"Authorization": f"Bearer {servers.token()}"},
        timeout=30,
    ).json()
    names = json.dumps(alerts)
    assert "Finish by 06:00 league time" in names, names


def test_run_now_links_to_the_dag_run(cluster, page):
    servers, engine = cluster
    page.goto(f"{servers.url}/", wait_until="networkidle")
    page.get_by_role("link", name="Jobs", exact=True).first.click()  # the plugin's short nav entry
    page.wait_for_url("**/plugin/fantasy-jobs")
    frame = page.frame_locator("iframe")
    frame.locator("h1", has_text="Fantasy jobs").wait_for(timeout=30_000)

    assert executions(engine, "cache_cleanup", "manual") == []
    frame.locator("tr[data-job='cache_cleanup'] button", has_text="Run now").click()
    link = frame.locator("[data-testid=run-link]")
    link.wait_for(timeout=30_000)
    href = link.get_attribute("href")
    assert href.startswith(f"{servers.url}/dags/fantasy_frequent/runs/manual__"), href
    banner = frame.locator("#message").inner_text()
    assert re.search(
        r"for cache_cleanup at \w{3} \d\d \w{3} \d\d:\d\d:\d\d E[SD]T \(league time\)", banner
    ), banner
    # Airflow's own pages default to league time too (no zone picked in this browser)
    assert page.evaluate("localStorage.getItem('timezone')") == '"America/New_York"'
    shot(page, "3-run-now-link.png")
    link.click()
    run_path = href.removeprefix(servers.url)
    page.wait_for_url(lambda url: run_path in url, timeout=30_000)  # Airflow's UI, not the iframe
    page.get_by_text("cache_cleanup").first.wait_for(timeout=30_000)
    wait_for(
        lambda: executions(engine, "cache_cleanup", "manual") == [("completed", None)], "Run now", servers
    )
    page.reload(wait_until="networkidle")
    shot(page, "4-run-now-opens-the-dag-run.png")


def frequent_runs(servers) -> int:
    return metadata(servers, "SELECT count(*) FROM dag_run WHERE dag_id = 'fantasy_frequent'")[0][0]


def test_an_empty_jobs_selection_is_refused_before_a_run_exists(cluster, page):
    servers, _ = cluster
    dags_test = subprocess.Popen(  # in the background while the browser works (time budget)
        [str(VENV_BIN / "airflow"), "dags", "test", "fantasy_weekly", "-c", '{"jobs": []}'],
        env=servers.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    before = frequent_runs(servers)
    page.goto(f"{servers.url}/dags/fantasy_frequent", wait_until="networkidle")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Jobs to run").first.wait_for(timeout=30_000)
    dialog.locator("#element_jobs input").first.click()
    for _ in range(6):  # remove every preselected job from the multi-select
        page.keyboard.press("Backspace")
    dialog.get_by_text(
        "Trigger Dag - fantasy_frequent"
    ).click()  # close the options menu (Escape closes the dialog)
    assert dialog.locator("#element_jobs").inner_text().strip() == "Select one or multiple values"
    # the required multi-select is empty: the form marks its section and disables Trigger
    expect(dialog.get_by_role("button", name="Trigger")).to_be_disabled(timeout=10_000)
    shot(page, "5-trigger-form-refuses-empty-jobs.png")
    assert frequent_runs(servers) == before

    # `dags test` writes the same SQLite metadata: done first, so the API's answer is never a
    # "database is locked" 500 instead of its verdict on the request
    out, _ = dags_test.communicate(timeout=180)
    headers = {"Authorization": f"Bearer {servers.token()}"}
    refused = httpx.post(
        f"{servers.url}/api/v2/dags/fantasy_weekly/dagRuns",
        json={"logical_date": None, "conf": {"jobs": []}},
        headers=headers,
        timeout=30,
    )
    assert 400 <= refused.status_code < 500 and "jobs" in refused.text, refused.text
    listed = httpx.get(
        f"{servers.url}/api/v2/dags/fantasy_weekly/dagRuns?run_type=manual", headers=headers, timeout=30
    )
    assert listed.json()["total_entries"] == 0

    assert dags_test.returncode != 0 and "should be non-empty" in out.replace(
        "is too short", "should be non-empty"
    ), out[-2000:]


def seed_badges(engine) -> str:
    """Every badge state on jobs no scheduled run touches during the test (daily and weekly), and
    30 runs of a weekly job that no catch-up run touched (which one depends on the weekday) for its
    sparkline; the catch-up runs' rows are moved a day back, so these are the newest starts. Returns
    that job."""
    with engine.connect() as conn:
        touched = set(conn.execute(select(JobExecution.job_id).distinct()).scalars())
    spark_job = next(job for job in WEEKLY_JOBS if job not in touched)
    now = datetime.now(UTC)
    base = {
        "rows_affected": 3,
        "trigger": "scheduled",
        "dry_run": False,
        "long_running": False,
        "error_message": None,
    }
    outcomes = ["completed"] * 4 + ["failed"] + ["completed"] * 3 + ["skipped"] + ["completed"]
    rows = [
        {
            **base,
            "job_id": spark_job,
            "status": outcomes[n % len(outcomes)],
            "started_at": now - timedelta(days=30 - n, minutes=5),
            "finished_at": now - timedelta(days=30 - n),
            "execution_time_s": 20.0 + (n * 7) % 40,
            "long_running": n == 27,
            "error_message": "ESPN timeout" if outcomes[n % len(outcomes)] == "failed" else None,
        }
        for n in range(30)
    ]
    rows += [
        {
            **base,
            "job_id": "ingest_teams",
            "status": "completed",
            "started_at": now - timedelta(minutes=9),
            "finished_at": now - timedelta(minutes=8),
            "execution_time_s": 41.0,
        },
        {
            **base,
            "job_id": "ingest_player_stats",
            "status": "failed",
            "started_at": now - timedelta(minutes=7),
            "finished_at": now - timedelta(minutes=6),
            "execution_time_s": 12.5,
            "error_message": "EspnPayloadError: games[3].competitors: field required",
        },
        {
            **base,
            "job_id": "calculate_fantasy_scores",
            "status": "running",
            "long_running": True,
            "started_at": now - timedelta(minutes=50),
            "finished_at": None,
            "execution_time_s": None,
        },
        {
            **base,
            "job_id": "calculate_analytics",
            "status": "completed",
            "dry_run": True,
            "trigger": "manual",
            "started_at": now - timedelta(minutes=4),
            "finished_at": now - timedelta(minutes=4),
            "execution_time_s": 1.2,
        },
        {
            **base,
            "job_id": "league_analytics",
            "status": "abandoned",
            "started_at": now - timedelta(hours=3),
            "finished_at": now - timedelta(hours=2),
            "execution_time_s": None,
            "error_message": "abandoned: its worker stopped heartbeating",
        },
    ]
    with engine.begin() as conn:
        # the badge is each job's newest start: the catch-up runs move a day back, out of the way
        conn.execute(text("UPDATE job_executions SET started_at = started_at - interval '1 day'"))
        conn.execute(insert(JobExecution), rows)
    return spark_job


def test_badges_sparklines_filters_and_times(cluster, page):
    servers, engine = cluster
    unfinished = (
        "SELECT count(*) FROM dag_run WHERE dag_id != 'fantasy_frequent' AND state IN ('queued', 'running')"
    )
    wait_for(lambda: metadata(servers, unfinished)[0][0] == 0, "the daily and weekly catch-up runs", servers)
    spark_job = seed_badges(engine)
    page.goto(f"{servers.url}/fantasy/jobs", wait_until="networkidle")
    expected = {
        "ingest_teams": "completed",
        "ingest_player_stats": "failed",
        "calculate_fantasy_scores": "running",
        "calculate_analytics": "completed",
        "league_analytics": "abandoned",
        spark_job: "completed",
    }
    assert {job: status_of(page, job) for job in expected} == expected
    assert row(page, "ingest_player_stats").get_attribute("class") == "run-failed"
    assert "long running" in row(page, "calculate_fantasy_scores").inner_text()
    assert "dry run" in row(page, "calculate_analytics").inner_text()
    bars = row(page, spark_job).locator("[data-testid=sparkline] rect")
    assert bars.count() == 30 and row(page, spark_job).locator("rect.failed").count() == 3
    assert (
        row(page, spark_job).locator("[data-testid=success-rate]").inner_text().startswith("89% ok (24/27)")
    )
    started = row(page, "ingest_teams").locator(".when").nth(1)
    assert started.locator(".rel").inner_text() in ("9 min ago", "10 min ago")
    assert "EST" in started.get_attribute("title") or "EDT" in started.get_attribute("title")
    # neutral rows keep readable badges: the badge has its own colours, the row none
    assert (
        row(page, "ingest_teams").evaluate("r => getComputedStyle(r).backgroundColor") == "rgba(0, 0, 0, 0)"
    )
    shot(page, "6-badges-and-sparklines.png")

    page.goto(f"{servers.url}/fantasy/jobs?status=failed&job={spark_job}", wait_until="networkidle")
    assert metadata(servers, "SELECT count(*) FROM deadline WHERE missed")[0][0] == 0, "no deadline missed"
    history = page.locator("[data-testid=history] tbody tr")
    assert history.count() == 3 and all(
        s == "failed" for s in history.evaluate_all("rs => rs.map(r => r.dataset.status)")
    )
    shot(page, "7-history-filtered-failed.png")


def test_screenshots_are_kept():
    assert sorted(p.name for p in SHOTS.glob("*.png")) == EXPECTED_SHOTS
