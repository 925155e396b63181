"""Real Airflow servers for the tests: a temporary Airflow home, the repository's DAGs and plugins,
SimpleAuthManager users with known passwords, and loopback ports chosen at run time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[2]
USERS = {"admin": "admin-secret-pw", "viewer": "viewer-secret-pw"}


class AirflowServers:
    """`airflow api-server` (and, on request, a scheduler and dag-processor) on a fresh home."""

    def __init__(self, venv_bin: Path, app_db_uri: str, extra_env: dict[str, str] | None = None) -> None:
        self.bin = venv_bin
        self.home = Path(tempfile.mkdtemp(prefix="fantasy-airflow-srv-"))
        self.port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTEST_"))}
        self.env.update(
            {
                "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
                "AIRFLOW__API_AUTH__JWT_SECRET": "fantasy-test-jwt-secret-0123456789abcdef",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW_CONN_FANTASY_DB": app_db_uri,
                "AIRFLOW_CONN_WNBA_API": "http://127.0.0.1:9",
                "FANTASY_SKIP_VARIABLES": "1",
            }
        )
        self.env.update(extra_env or {})
        (self.home / "passwords.json").write_text(json.dumps(USERS))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def prepare(self) -> AirflowServers:
        self.airflow("db", "migrate")
        self.airflow("pools", "import", str(REPO / "include/fantasy_jobs/pools.json"))
        self.airflow("dags", "reserialize")
        return self

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start `airflow ARGS` in its own process group, its output in <home>/<name>.log."""
        log = open(self.home / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [str(self.bin / "airflow"), *args],
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start(self, *components: str) -> AirflowServers:
        for component in ("api-server", *components):
            self.spawn(component, component)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.processes["api-server"].poll() is not None:
                break
            time.sleep(1)
        raise RuntimeError("api-server did not start:\n" + self.log("api-server")[-3000:])

    def log(self, component: str) -> str:
        path = self.home / f"{component}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def token(self, user: str = "admin") -> str:
        response = httpx.post(
            f"{self.url}/auth/token", json={"username": user, "password": USERS[user]}, timeout=30
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def stop(self) -> None:
        import signal

        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(self.home, ignore_errors=True)
