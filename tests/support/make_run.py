"""`make run` in a copy of the checkout, started the way a newcomer starts it (`env -i`), for the
tests in tests/test_make_run.py. The busy-machine start begins when the session does (see
`pytest_collection_finish` in conftest), so its 10-minute first-start window runs beside the rest of
the suite instead of after it."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[2]
BUSY_TEST = "tests/test_make_run.py::test_make_run_on_a_busy_machine_and_every_readme_line_as_typed"


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
        # as from a terminal: a suite started in the background (`make test &` in a script) has
        # SIGINT ignored, which its children inherit and bash may not undo
        preexec_fn=_sigint_as_in_a_terminal,
    )


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


class BusyMakeRun:
    """`make run` in a fresh copy, started while one CPU-bound process per core keeps the machine
    busy until its API server answers (at most `burn_s`)."""

    def __init__(self, root: Path, burn_s: float = 300) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.checkout = copy_checkout(root / "checkout")
        self.home = root / "home"
        self.home.mkdir()
        self.airflow_home = self.checkout / ".airflow"
        self.port = free_port()
        self.log = root / "make-run.log"
        self.burners = busy_machine(burn_s)
        self.started = time.monotonic()
        self.make = start_make_run(self.checkout, empty_env(self.home, self.port), self.log)
        self.api_after_s: float | None = None
        threading.Thread(target=self._cool_down, args=(burn_s,), daemon=True).start()

    def _cool_down(self, burn_s: float) -> None:
        deadline = self.started + burn_s
        while time.monotonic() < deadline and self.make.poll() is None:
            if api_answers(self.port):
                self.api_after_s = time.monotonic() - self.started
                break
            time.sleep(1)
        self._stop_burners()

    def _stop_burners(self) -> None:
        for burner in self.burners:
            burner.kill()
            burner.wait()

    def stop(self) -> None:
        self._stop_burners()
        if self.make.poll() is None:
            ctrl_c(self.make, self.airflow_home, self.log)
