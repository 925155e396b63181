"""`make run` as a newcomer meets it, on a busy machine, and every README line typed as written.

A copy of the checkout (its files; `.venv` shared) in a temporary folder, and an empty environment
(`env -i` with only HOME, PATH and a free PORT). While two CPU-bound processes keep the machine
busy, `make run` starts Airflow; then, in order:

- every shell line of the README's Quick start, Command line, Operations and Live data sections
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
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import REPO
from tests.support.postgres import free_port

pytestmark = [pytest.mark.airflow_cli, pytest.mark.skipif(shutil.which("make") is None, reason="needs make")]
CHROMIUM = Path("/usr/bin/chromium")
FIRST_START = float(os.environ.get("FANTASY_FIRST_START_MINUTES", "10")) * 60
SERVER_SECTIONS = ("Command line", "Operations")  # their lines run while make run is up
SKIPPED_LINES = {"make run": "the test's own make run", "make test": "this very suite"}


# --- the README's lines ---------------------------------------------------------------------


def readme_blocks() -> dict[str, list[str]]:
    """The ```bash blocks of the sections a newcomer types from, by section, dedented."""
    text = (REPO / "README.md").read_text()
    sections = {
        title: body for title, body in re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    }
    wanted = {name: sections[name] for name in ("Quick start", "Command line", "Operations")}
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


# --- the checkout and make run --------------------------------------------------------------


def copy_checkout(dest: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) and a `.venv` that shares this one's
    packages, marked installed so `make run` does not reinstall."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    venv = dest / ".venv"
    venv.mkdir()
    for entry in (REPO / ".venv").iterdir():
        if entry.name == "pyvenv.cfg":
            shutil.copy2(entry, venv / entry.name)
        elif entry.name != ".installed":
            (venv / entry.name).symlink_to(entry)
    (venv / ".installed").touch()
    return dest


def empty_env(home: Path, port: int, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "PORT": str(port), **extra}


def start_make_run(checkout: Path, env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    handle = log.open("a")
    return subprocess.Popen(
        ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "make", "run", *args],
        cwd=checkout,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C is a SIGINT to this group, as a terminal sends it
    )


def wait_for(what: str, check, timeout: float, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{log.read_text()[-4000:]}" if log else ""))


def wait_for_api(make: subprocess.Popen, port: int, log: Path) -> None:
    """Until make run's API server answers; fails at once when make run stops first."""

    def ready() -> bool:
        if make.poll() is not None:
            raise AssertionError(f"make run stopped (exit {make.returncode}):\n{log.read_text()[-4000:]}")
        return api_answers(port)

    wait_for("the API server of make run", ready, 600, log)


def api_answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def processes_of(airflow_home: Path) -> list[str]:
    """Live processes whose environment has this Airflow home: what make run started."""
    mark = f"AIRFLOW_HOME={airflow_home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if mark in (proc / "environ").read_bytes().split(b"\0"):
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    found.append(f"{proc.name}: {command[:120]}")
        except OSError:
            continue
    return found


def ctrl_c(make: subprocess.Popen, airflow_home: Path, log: Path) -> None:
    os.killpg(make.pid, signal.SIGINT)
    make.wait(120)
    left = wait_for(
        "every process make run started to stop", lambda: not processes_of(airflow_home) or None, 90, log
    )
    assert left is None or not processes_of(airflow_home)


def failed_tries(airflow_home: Path) -> tuple[list[tuple], int]:
    """Task instances that needed more than one try or did not succeed, and how many ran."""
    with sqlite3.connect(f"file:{airflow_home / 'airflow.db'}?mode=ro", uri=True, timeout=30) as conn:
        bad = conn.execute(
            "SELECT dag_id, run_id, task_id, try_number, state FROM task_instance"
            " WHERE try_number > 1 OR state IN ('failed', 'up_for_retry', 'upstream_failed')"
        ).fetchall()
        bad += conn.execute(
            "SELECT dag_id, run_id, task_id, try_number, state FROM task_instance_history"
            " WHERE state IN ('failed', 'up_for_retry')"
        ).fetchall()
        ran = conn.execute(
            "SELECT count(*) FROM task_instance WHERE state IN ('success', 'skipped')"
        ).fetchone()[0]
    return bad, ran


def busy_machine(seconds: float) -> list[subprocess.Popen]:
    """One CPU-bound process per core for `seconds`: Airflow starts on a loaded machine."""
    burn = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass\n"
    return [subprocess.Popen([sys.executable, "-c", burn]) for _ in range(os.cpu_count() or 2)]


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


@pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="Debian's chromium is not installed"
)
def test_make_run_on_a_busy_machine_and_every_readme_line_as_typed(tmp_path):
    checkout = copy_checkout(tmp_path / "checkout")
    home = tmp_path / "home"
    home.mkdir()
    airflow_home = checkout / ".airflow"
    port = free_port()
    log = tmp_path / "make-run.log"
    blocks = readme_blocks()
    assert all(blocks.values()), {k: len(v) for k, v in blocks.items()}
    quick = [line for block in blocks["Quick start"] for line in typed_lines(block)]
    skipped = [line for line in quick if line.split("#")[0].strip() in SKIPPED_LINES]
    assert sorted(s.split("#")[0].strip() for s in skipped) == sorted(SKIPPED_LINES)

    burners = busy_machine(180)
    started = time.monotonic()
    make = start_make_run(checkout, empty_env(home, port), log)
    try:
        wait_for_api(make, port, log)
        wait_for("the scheduler", lambda: (airflow_home / "logs/components/scheduler.log").exists(), 60, log)
        env = empty_env(home, port)
        env.pop("PORT")  # the lines find make run's port in .airflow/airflow.cfg
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
        assert (
            sample and Path(sample.group(1)).is_dir() and not str(sample.group(1)).startswith(str(checkout))
        )
        shutil.rmtree(sample.group(1), ignore_errors=True)

        password = (airflow_home / "simple_auth_manager_passwords.json.generated").read_text()
        password = re.search(r'"admin": "([^"]+)"', password).group(1)
        wait_for("the login line", lambda: f"login: admin / {password}" in log.read_text(), 60, log)
        if CHROMIUM.exists():
            check_ui_in_a_browser(port, password, REPO / "test-artifacts" / "screenshots")

        time.sleep(max(0.0, FIRST_START - (time.monotonic() - started)))
        bad, ran = failed_tries(airflow_home)
        assert bad == [] and ran > 0, (bad, ran, log.read_text()[-3000:])
    finally:
        for burner in burners:
            burner.kill()
        if make.poll() is None:
            ctrl_c(make, airflow_home, log)
    assert processes_of(airflow_home) == []

    for block in blocks["Live data"]:  # Airflow is stopped: the new connection reaches no public host
        done = run_block(checkout, env, block)
        assert done.returncode == 0, (block, done.stderr[-3000:])
    got = run_block(checkout, env, "airflow connections get wnba_api -o json")
    assert "site.api.espn.com" in got.stdout, got.stdout + got.stderr
    assert not (home / "airflow").exists(), "~/airflow created"


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
