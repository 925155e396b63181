"""`make run` as a newcomer meets it, on a busy machine, and every README line typed as written.

A copy of the checkout (its files; `.venv` shared) in a temporary folder, and an empty environment
(`env -i` with only HOME, PATH and a free PORT). `make run` starts Airflow while one CPU-bound
process per core keeps the machine busy until its API server answers; it starts when the session
does (conftest's `pytest_collection_finish`), so its first 10 minutes pass beside the rest of the
suite, which loads the machine too. Then, in order:

- every shell line of the README's Quick start, Command line, Operations, Upgrading and Live data sections
  runs verbatim in `env -i bash` with only `source scripts/env.sh` before it and exits 0 (the
  lines that need the server while `make run` is up; Live data after it stopped, so no job can
  reach ESPN); `~/airflow` is never created;
- a real browser logs in with the printed password: Airflow's UI defaults to league time and the
  Jobs page lists the jobs;
- in the first FANTASY_FIRST_START_MINUTES (10) no task failed a try: every task instance that ran
  did so on its first try, the README lines' runs included;
- Ctrl-C stops every process `make run` started (none is left with its Airflow home);
- `make run DB=postgres` reaches the UI with the demo data on a local PostgreSQL cluster, and
  Ctrl-C stops that cluster too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import REPO
from tests.support.make_run import (
    BusyMakeRun,
    copy_checkout,
    ctrl_c,
    empty_env,
    failed_tries,
    processes_of,
    start_make_run,
    wait_for,
    wait_for_api,
)
from tests.support.postgres import free_port

pytestmark = [pytest.mark.airflow_cli, pytest.mark.skipif(shutil.which("make") is None, reason="needs make")]
CHROMIUM = Path("/usr/bin/chromium")
FIRST_START = float(os.environ.get("FANTASY_FIRST_START_MINUTES", "10")) * 60
SERVER_SECTIONS = ("Command line", "Operations", "Upgrading")  # their lines run while make run is up
SKIPPED_LINES = {"make run": "the test's own make run", "make test": "this very suite"}


# --- the README's lines ---------------------------------------------------------------------


def readme_blocks() -> dict[str, list[str]]:
    """The ```bash blocks of the sections a newcomer types from, by section, dedented."""
    text = (REPO / "README.md").read_text()
    sections = {
        title: body for title, body in re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    }
    wanted = {name: sections[name] for name in ("Quick start", *SERVER_SECTIONS)}
    wanted["Live data"] = sections["WNBA data from ESPN"].split("**Live data:**", 1)[1].split("\n**", 1)[0]
    blocks: dict[str, list[str]] = {}
    for name, body in wanted.items():
        found = re.findall(r"^( *)```bash\n(.*?)^\1```", body, flags=re.M | re.S)
        blocks[name] = [textwrap.dedent(code) for _, code in found]
    return blocks


def typed_lines(block: str) -> list[str]:
    """The block's commands as typed: continuation lines joined."""
    return [
        line for line in block.replace("\\\n", " ").splitlines() if line.strip() and not line.startswith("#")
    ]


def run_block(
    checkout: Path, env: dict[str, str], block: str, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`block` in a new bash in an empty environment, after the README's set-up line only."""
    script = (
        "source scripts/env.sh\n"
        "set -eo pipefail\n"
        "trap 'echo \"README line failed (exit $?): $BASH_COMMAND\" >&2' ERR\n" + block
    )
    return subprocess.run(
        ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "bash", "-c", script],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check_ui_in_a_browser(port: int, password: str, shots: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.plugins.test_jobs_page_browser import CHROMIUM_ARGS

    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/", wait_until="networkidle")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", password)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda u: "login" not in u, timeout=60_000)
        assert page.evaluate("localStorage.getItem('timezone')") == '"America/New_York"'
        page.goto(f"{url}/fantasy/jobs", wait_until="networkidle")
        body = page.locator("body").inner_text()
        assert "backup_database" in body and "live_scoring" in body
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "make-run-jobs-page.png"), full_page=True)
        browser.close()


# --- the test -------------------------------------------------------------------------------


def busy_make_run(request, tmp_path_factory) -> BusyMakeRun:
    """The instance the session started at collection (see conftest), or one started now."""
    started = getattr(request.config, "busy_make_run", None)
    if started is None:
        started = request.config.busy_make_run = BusyMakeRun(tmp_path_factory.mktemp("busy-make-run"))
    return started


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="Debian's chromium is not installed"
)
def test_make_run_on_a_busy_machine_and_every_readme_line_as_typed(request, tmp_path_factory):
    run = busy_make_run(request, tmp_path_factory)
    checkout, airflow_home, log = run.checkout, run.airflow_home, run.log
    blocks = readme_blocks()
    assert all(blocks.values()), {k: len(v) for k, v in blocks.items()}
    quick = [line for block in blocks["Quick start"] for line in typed_lines(block)]
    skipped = [line for line in quick if line.split("#")[0].strip() in SKIPPED_LINES]
    assert sorted(s.split("#")[0].strip() for s in skipped) == sorted(SKIPPED_LINES)
    env = empty_env(run.home, run.port)
    env.pop("PORT")  # the lines find make run's port in .airflow/airflow.cfg
    try:
        wait_for_api(run.make, run.port, log)
        print(f"make run's API answered {run.api_after_s or 0:.0f} s after the start on the busy machine")
        wait_for("the scheduler", lambda: (airflow_home / "logs/components/scheduler.log").exists(), 60, log)
        outputs = []
        for block in blocks["Quick start"]:
            rest = "\n".join(line for line in typed_lines(block) if line not in skipped)
            done = run_block(checkout, env, rest)
            assert done.returncode == 0, (rest, done.stdout[-2000:], done.stderr[-3000:])
        for section in SERVER_SECTIONS:
            for block in blocks[section]:
                done = run_block(checkout, env, block)
                assert done.returncode == 0, (section, block, done.stdout[-2000:], done.stderr[-3000:])
                outputs.append(done.stdout)
        sample = re.search(r"files written to (\S+);", "\n".join(outputs))
        assert sample and Path(sample.group(1)).is_dir() and not sample.group(1).startswith(str(checkout))
        shutil.rmtree(sample.group(1), ignore_errors=True)

        password = (airflow_home / "simple_auth_manager_passwords.json.generated").read_text()
        password = re.search(r'"admin": "([^"]+)"', password).group(1)
        wait_for("the login line", lambda: f"login: admin / {password}" in log.read_text(), 60, log)
        if CHROMIUM.exists():
            check_ui_in_a_browser(run.port, password, REPO / "test-artifacts" / "screenshots")

        time.sleep(max(0.0, FIRST_START - (time.monotonic() - run.started)))
        bad, ran = failed_tries(airflow_home)
        assert bad == [] and ran > 0, (bad, ran, log.read_text()[-3000:])
    finally:
        run.stop()
    assert processes_of(airflow_home) == []

    for block in blocks["Live data"]:  # Airflow is stopped: the new connection reaches no public host
        done = run_block(checkout, env, block)
        assert done.returncode == 0, (block, done.stderr[-3000:])
    got = run_block(checkout, env, "airflow connections get wnba_api -o json")
    assert "site.api.espn.com" in got.stdout, got.stdout + got.stderr

    # without env.sh, AIRFLOW_HOME alone: the airflow.cfg make run wrote names the same folders
    bare = subprocess.run(
        ["env", "-i", f"HOME={run.home}", f"AIRFLOW_HOME={airflow_home}", str(checkout / ".venv/bin/airflow")]
        + ["dags", "list", "--local", "-o", "plain"],
        cwd=run.home,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bare.returncode == 0 and "fantasy_daily" in bare.stdout, bare.stdout[-2000:] + bare.stderr[-2000:]
    assert "DeadlineReferenceNotRegistered" not in bare.stdout + bare.stderr
    assert not (run.home / "airflow").exists(), "~/airflow created"


@pytest.mark.skipif(
    not Path("/usr/lib/postgresql").is_dir() and not os.environ.get("CI"), reason="no PostgreSQL"
)
def test_make_run_db_postgres_serves_the_demo_from_a_local_cluster(tmp_path):
    checkout = copy_checkout(tmp_path / "checkout")
    home = tmp_path / "home"
    home.mkdir()
    airflow_home = checkout / ".airflow"
    port, pg_port = free_port(), free_port()
    log = tmp_path / "make-run-postgres.log"
    make = start_make_run(checkout, empty_env(home, port, FANTASY_PG_PORT=str(pg_port)), log, "DB=postgres")
    cluster = None
    try:
        wait_for_api(make, port, log)
        text = wait_for(
            "the login line", lambda: "login: admin / " in log.read_text() and log.read_text(), 60, log
        )
        assert "connection fantasy_db: PostgreSQL postgresql://...@127.0.0.1:" in text
        cluster = re.search(r"initdb (\S+)", text).group(1)
        with psycopg.connect(f"postgresql://fantasy:fantasy@127.0.0.1:{pg_port}/fantasy") as conn:
            leagues = conn.execute("SELECT count(*) FROM leagues").fetchone()[0]
        assert leagues > 0
        token = httpx.post(
            f"http://127.0.0.1:{port}/auth/token",
            json={
                "username": "admin",
                "password": re.search(r"login: admin / (\S+)", text).group(1),
            },
            timeout=30,
        ).json()["access_token"]
        jobs = httpx.get(
            f"http://127.0.0.1:{port}/fantasy/api/v1/admin/jobs",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert jobs.status_code == 200 and "backup_database" in jobs.text
    finally:
        if make.poll() is None:
            ctrl_c(make, airflow_home, log)
        if cluster:
            shutil.rmtree(cluster, ignore_errors=True)
    assert "stopping PostgreSQL" in log.read_text()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://fantasy:fantasy@127.0.0.1:{pg_port}/fantasy", connect_timeout=3)
