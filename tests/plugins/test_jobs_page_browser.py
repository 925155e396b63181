"""The Jobs page in a real browser (Debian's Chromium driven by Playwright) against real Airflow servers.

Log in, open the Jobs page, press "Run now" on cache_cleanup, wait until the scheduler has run it
and the page shows it completed, then open the DAG's trigger form in Airflow's own UI and see the
`jobs` multi-select. Screenshots are kept under test-artifacts/screenshots (git-ignored).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from fantasy_jobs.db import make_engine
from fantasy_jobs.demo import load_demo
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


@pytest.fixture(scope="module")
def cluster(postgres):
    name = postgres.create_database("browser")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    load_demo(engine)
    servers = AirflowServers(VENV_BIN, postgres.airflow_uri(name)).prepare()
    servers.start("scheduler", "dag-processor")
    yield servers, engine
    servers.stop()
    engine.dispose()


@pytest.fixture(scope="module")
def page(cluster):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


def log_in(page, url: str) -> None:
    page.goto(f"{url}/", wait_until="networkidle")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", USERS["admin"])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: "login" not in u, timeout=60_000)


def status_of(page, job_id: str) -> str:
    return page.locator(f"tr[data-job='{job_id}'] [data-testid=status]").inner_text().strip()


def manual_runs(engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(JobExecution.status).where(
                    JobExecution.job_id == "cache_cleanup", JobExecution.trigger == "manual"
                )
            ).scalars()
        )


def test_run_now_from_the_jobs_page_then_the_trigger_form(cluster, page):
    servers, engine = cluster
    log_in(page, servers.url)
    page.goto(f"{servers.url}/", wait_until="networkidle")
    page.get_by_role("link", name="Fantasy jobs").first.click()  # the nav entry of the plugin
    page.wait_for_url("**/plugin/fantasy-jobs")
    page.frame_locator("iframe").locator("h1", has_text="Fantasy jobs").wait_for(timeout=30_000)
    page.screenshot(path=str(SHOTS / "1-jobs-in-airflow-nav.png"), full_page=True)

    page.goto(f"{servers.url}/fantasy/jobs", wait_until="networkidle")
    assert page.locator("h1").inner_text() == "Fantasy jobs"
    assert manual_runs(engine) == []  # (a scheduled run may already have happened: only manual ones count)
    page.locator("tr[data-job='cache_cleanup'] button", has_text="Run now").click()
    page.wait_for_function(
        "document.getElementById('message').textContent.startsWith('Triggered fantasy_frequent')",
        timeout=30_000,
    )
    page.screenshot(path=str(SHOTS / "2-run-now-triggered.png"), full_page=True)
    deadline = time.monotonic() + 240
    while status_of(page, "cache_cleanup") != "completed" or manual_runs(engine) != ["completed"]:
        assert time.monotonic() < deadline, servers.log("scheduler")[-3000:]
        time.sleep(3)
        page.goto(f"{servers.url}/fantasy/jobs", wait_until="networkidle")
    page.screenshot(path=str(SHOTS / "3-cache-cleanup-completed.png"), full_page=True)

    page.goto(f"{servers.url}/dags/fantasy_frequent", wait_until="networkidle")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Jobs to run").first.wait_for(timeout=30_000)
    page.screenshot(path=str(SHOTS / "4-trigger-form-jobs-multiselect.png"), full_page=True)
    assert dialog.get_by_text("Dry run").count() >= 1


def test_screenshots_are_kept():
    assert SHOTS.is_dir() and len(list(SHOTS.glob("*.png"))) == 4
