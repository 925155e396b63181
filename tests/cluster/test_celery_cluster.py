"""The distributed deployment, natively: what docker-compose.yaml runs, as processes on loopback ports.

PostgreSQL as the metadata database, redis-server as the Celery broker, the scheduler,
dag-processor, api-server, triggerer and two Celery workers with distinct hostnames. Runs are
triggered through the REST API v2 and checked where `airflow dags test` cannot look: the tasks ran
on the workers, two heavy jobs sharing the `fantasy_db_heavy` pool never overlapped, and a deadline
shortened through its Variable reached the Slack stand-in. Every process is stopped, also on failure.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from fantasy_jobs.db import make_engine
from fantasy_jobs.deadlines import deadline_variable
from fantasy_jobs.demo import load_demo
from fantasy_jobs.schema import JobExecution, create_all
from tests.conftest import REPO, VENV_BIN
from tests.support.airflow_server import AirflowServers
from tests.support.http_stub import HttpStub
from tests.support.postgres import free_port
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.cluster, pytest.mark.airflow_cli]
WORKERS = ("worker-a", "worker-b")
WEEKLY_DEADLINE_SECONDS = "1"  # any Celery run takes longer: the weekly run is always late


@pytest.fixture(scope="module")
def cluster(postgres):
    broker, slack = RedisServer(), HttpStub().start()
    app_name, meta_name = postgres.create_database("cluster_app"), postgres.create_database("cluster_meta")
    engine = make_engine(postgres.url(app_name))
    create_all(engine)
    load_demo(engine)
    meta = postgres.url(meta_name).replace("+psycopg", "+psycopg2")
    servers = AirflowServers(
        VENV_BIN,
        postgres.airflow_uri(app_name),
        extra_env={
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{broker.port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta,
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.support.worker_hostname.hostname",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
            "AIRFLOW_CONN_SLACK_ALERTS": json.dumps(
                {"conn_type": "slackwebhook", "password": f"{slack.url}/services/X"}
            ),
            "PYTHONPATH": str(REPO),
        },
    )
    try:
        servers.prepare()
        # In the metadata database, like an operator setting it in the UI (Admin > Variables).
        servers.airflow("variables", "set", deadline_variable("weekly"), WEEKLY_DEADLINE_SECONDS)
        servers.start("scheduler", "dag-processor", "triggerer")
        for name in WORKERS:  # two "machines": own hostname, own log-server port
            servers.spawn(
                name,
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@%h",
                "--concurrency",
                "2",
                env={
                    "FANTASY_WORKER_NAME": name,
                    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                },
            )
        yield servers, engine, slack
    finally:
        servers.stop()
        broker.stop()
        slack.stop()
        engine.dispose()


def client(servers) -> httpx.Client:
    return httpx.Client(
        base_url=f"{servers.url}/api/v2", headers={"Authorization": f"Bearer {servers.token()}"}, timeout=60
    )


def wait_for_dags(api: httpx.Client, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dags = {d["dag_id"] for d in api.get("/dags").json().get("dags", [])}
        if {"fantasy_frequent", "fantasy_weekly"} <= dags:
            return
        time.sleep(2)
    raise AssertionError("the dag-processor did not register the DAGs")


def trigger(api: httpx.Client, dag_id: str, jobs: list[str]) -> str:
    response = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": {"jobs": jobs}})
    assert response.status_code == 200, response.text
    return response.json()["dag_run_id"]


def wait_for_run(api: httpx.Client, servers, dag_id: str, run_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
        if run["state"] in ("success", "failed"):
            return run
        time.sleep(2)
    raise AssertionError(
        f"{dag_id} {run_id} did not finish:\n"
        + servers.log("scheduler")[-2000:]
        + servers.log("worker-a")[-2000:]
    )


def deadline_alerts(slack: HttpStub, run_id: str, timeout: float = 90) -> list[str]:
    """The Slack stand-in's "Deadline missed" messages naming `run_id`, once one has arrived."""
    end = time.monotonic() + timeout
    while True:
        texts = [r.json()["text"] for r in slack.requests if r.method == "POST"]
        alerts = [text for text in texts if "Deadline missed" in text and f"`{run_id}`" in text]
        if alerts or time.monotonic() > end:
            return alerts
        time.sleep(1)


def task_instances(api: httpx.Client, dag_id: str, run_id: str) -> dict[str, dict]:
    return {
        ti["task_id"]: ti
        for ti in api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    }


def test_runs_land_on_the_celery_workers_pools_hold_and_deadlines_alert(cluster):
    servers, engine, slack = cluster
    api = client(servers)
    wait_for_dags(api)
    for dag_id in ("fantasy_frequent", "fantasy_weekly"):
        api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    first = trigger(api, "fantasy_frequent", ["cache_cleanup"])
    second = trigger(api, "fantasy_frequent", ["process_notifications"])
    heavy = trigger(api, "fantasy_weekly", ["calculate_bonuses", "cleanup_old_data"])
    for dag_id, run_id in (
        ("fantasy_frequent", first),
        ("fantasy_frequent", second),
        ("fantasy_weekly", heavy),
    ):
        assert wait_for_run(api, servers, dag_id, run_id)["state"] == "success"

    ran = {}
    for dag_id, run_id, job in (
        ("fantasy_frequent", first, "cache_cleanup"),
        ("fantasy_frequent", second, "process_notifications"),
    ):
        ti = task_instances(api, dag_id, run_id)[job]
        assert ti["state"] == "success" and ti["hostname"] in WORKERS, ti
        ran[job] = ti["hostname"]
    with engine.connect() as conn:
        rows = {
            r.job_id: r for r in conn.execute(select(JobExecution).where(JobExecution.trigger == "manual"))
        }
    assert (
        rows["cache_cleanup"].status == "completed" and rows["cache_cleanup"].hostname == ran["cache_cleanup"]
    )
    assert (
        rows["process_notifications"].status == "completed" and rows["process_notifications"].run_id == second
    )

    # Two heavy jobs of one run were ready together; the one-slot pool ran them one after the other.
    tis = task_instances(api, "fantasy_weekly", heavy)
    spans = sorted(
        (datetime.fromisoformat(tis[j]["start_date"]), datetime.fromisoformat(tis[j]["end_date"]))
        for j in ("calculate_bonuses", "cleanup_old_data")
    )
    assert all(
        tis[j]["state"] == "success" and tis[j]["pool"] == "fantasy_db_heavy"
        for j in ("calculate_bonuses", "cleanup_old_data")
    )
    assert spans[0][1] <= spans[1][0], f"heavy jobs overlapped: {spans}"

    # The weekly deadline, shortened to 1 s by its Variable, was missed; the triggerer ran the
    # callback, which posted to the Slack stand-in. The frequent runs kept their 15 minutes.
    alerts = deadline_alerts(slack, heavy)
    assert len(alerts) == 1, alerts or servers.log("triggerer")[-3000:]
    assert "`fantasy_weekly`" in alerts[0], alerts[0]
    for run_id in (first, second):
        assert not deadline_alerts(slack, run_id, timeout=0)
