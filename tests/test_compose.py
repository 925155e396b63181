"""docker-compose.yaml against what the cluster test runs natively and what the repository holds.

No Docker engine runs here, so the compose file is checked statically: the pinned Airflow version,
commands that exist in the installed CLI, mounted paths that exist, the connections the jobs use,
pools created from the pools file, health checks everywhere, and no literal secrets.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.conftest import REPO, VENV_BIN, airflow_env

COMPOSE = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = {
    name: s for name, s in SERVICES.items() if name.startswith("airflow-") and name != "airflow-postgres"
}
CONNECTIONS_USED = {"fantasy_db", "wnba_api", "slack_alerts", "fantasy_redis", "fantasy_app_webhook"}


def pinned(package: str) -> str:
    line = next(
        line
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line.lower().startswith(f"{package}==")
    )
    return line.split("==")[1]


def airflow_commands() -> list[list[str]]:
    commands = []
    for service in AIRFLOW_SERVICES.values():
        command = service.get("command")
        if isinstance(command, str):
            commands.append(command.split())
        elif service.get("entrypoint") == "/bin/bash":
            script = command[-1]
            commands += [
                line.split()[1:] for line in script.splitlines() if line.strip().startswith("airflow ")
            ]
    return commands


def test_same_airflow_version_as_requirements():
    version = pinned("apache-airflow")
    assert re.search(
        rf"^FROM apache/airflow:{re.escape(version)}-python3\.11$", (REPO / "Dockerfile").read_text(), re.M
    )
    assert pinned("apache-airflow-providers-celery") and pinned("apache-airflow-providers-redis")


@pytest.mark.parametrize("command", airflow_commands(), ids=lambda c: " ".join(c))
def test_every_airflow_command_exists_in_the_installed_cli(command):
    words = [w for w in command if not w.startswith("/") and "." not in w][
        :2
    ]  # the subcommand, not its arguments
    done = subprocess.run(
        [str(VENV_BIN / "airflow"), *words, "--help"],
        env=airflow_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-500:]


def test_the_services_the_cluster_test_runs_are_all_here():
    commands = {" ".join(c[:2]) if c[0] == "celery" else c[0] for c in airflow_commands()}
    assert {
        "api-server",
        "scheduler",
        "dag-processor",
        "triggerer",
        "celery worker",
        "db",
        "pools",
    } <= commands
    env = COMPOSE["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" and env[
        "AIRFLOW__CELERY__BROKER_URL"
    ].startswith("redis://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert SERVICES["app-postgres"]["profiles"] == ["app"] and SERVICES["app-redis"]["profiles"] == ["app"]


def test_every_mounted_host_path_exists():
    mounts = [v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", []) if v.startswith("./")]
    mounts += [v.split(":")[0] for v in COMPOSE["x-airflow-common"]["volumes"] if v.startswith("./")]
    assert {"./dags", "./include", "./plugins"} <= set(mounts)
    for path in mounts:
        assert (REPO / path).exists(), path


def test_the_image_holds_the_package_dags_and_plugins_and_leaves_local_state_out():
    """A worker on another machine or a Helm pod has only the image: every COPY source must exist,
    and the build context must not ship the virtualenv, the local Airflow home or git history."""
    copies = re.findall(r"^COPY (?:--\S+ )*(.+) (\S+)$", (REPO / "Dockerfile").read_text(), re.M)
    sources = {src for srcs, _ in copies for src in srcs.split()}
    assert {"requirements.txt", "include", "dags", "plugins"} <= sources
    for source in sources:
        assert (REPO / source).exists(), source
    assert ("dags", "/opt/airflow/dags") in copies and ("plugins", "/opt/airflow/plugins") in copies
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".venv", ".airflow", ".git", "test-artifacts"} <= ignored


def test_every_connection_the_jobs_use_is_provided_from_the_env_file():
    assert COMPOSE["x-airflow-common"]["env_file"] == [".env"]
    example = (REPO / ".env.example").read_text()
    provided = {m.group(1).lower() for m in re.finditer(r"^#?\s*AIRFLOW_CONN_([A-Z_]+)=", example, re.M)}
    assert provided >= CONNECTIONS_USED
    used_in_code = set(
        re.findall(r'CONN_ID = "(\w+)"', "".join(p.read_text() for p in (REPO / "include").rglob("*.py")))
    )
    # airflow_db is the metadata database the compose file itself runs: set there, from AIRFLOW_DB_*.
    assert used_in_code <= CONNECTIONS_USED | {"airflow_db"}
    assert (
        "${AIRFLOW_DB_PASSWORD}@airflow-postgres/"
        in COMPOSE["x-airflow-common"]["environment"]["AIRFLOW_CONN_AIRFLOW_DB"]
    )


def test_init_creates_the_pools_from_the_pools_file():
    script = SERVICES["airflow-init"]["command"][-1]
    assert "airflow pools import /opt/airflow/include/fantasy_jobs/pools.json" in script
    assert (
        REPO / "include/fantasy_jobs/pools.json"
    ).exists() and "./include:/opt/airflow/include" in COMPOSE["x-airflow-common"]["volumes"]
    assert "AIRFLOW_ADMIN_PASSWORD" in script and "passwords.json" in script


def test_init_upgrades_the_app_schema_after_the_metadata():
    script = SERVICES["airflow-init"]["command"][-1]
    assert script.index("airflow db migrate") < script.index("fantasy-jobs db upgrade")
    depends = SERVICES["airflow-init"]["depends_on"]
    assert depends["app-postgres"] == {"condition": "service_healthy", "required": False}
    assert {"redis", "airflow-postgres"} <= set(depends)


def test_every_service_has_a_health_check():
    assert all("healthcheck" in service for service in SERVICES.values()), [
        n for n, s in SERVICES.items() if "healthcheck" not in s
    ]


def test_no_literal_secrets_in_the_compose_file():
    """Passwords and secrets come from .env (`${NAME}`, no default), never written in the file."""
    reference = re.compile(r"^\$\{[A-Z_]+\}$")
    environments = [COMPOSE["x-airflow-common"]["environment"]] + [
        s.get("environment") or {} for s in SERVICES.values()
    ]
    for env in environments:
        for key, value in env.items():
            if re.search("PASSWORD|SECRET", key) and not key.endswith("_FILE"):
                assert reference.match(str(value)), f"{key}={value}"
    text = (REPO / "docker-compose.yaml").read_text()
    for password in re.findall(r"://[^:/@\s]*:([^@\s]+)@", text):
        assert reference.match(password), password
    for password in re.findall(r'"--requirepass", "([^"]+)"', text):
        assert reference.match(password), password
