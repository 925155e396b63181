"""The admin API against a real Airflow API server with the PostgreSQL app database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert

from fantasy_jobs.db import make_engine
from fantasy_jobs.registry import JOBS
from fantasy_jobs.schema import Backup, JobExecution, create_all
from tests.conftest import VENV_BIN
from tests.support.airflow_server import AirflowServers

pytestmark = pytest.mark.airflow_cli
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def app_db(postgres):
    name = postgres.create_database("admin")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(JobExecution),
            [
                {
                    "job_id": job,
                    "status": status,
                    "started_at": T0 + timedelta(minutes=n),
                    "finished_at": T0 + timedelta(minutes=n, seconds=3),
                    "execution_time_s": 3.0,
                    "rows_affected": n,
                    "trigger": "scheduled",
                    "error_message": "boom" if status == "failed" else None,
                    "dry_run": False,
                    "long_running": False,
                }
                for n, (job, status) in enumerate(
                    [("cache_cleanup", "completed")] * 30
                    + [("backup_database", "failed"), ("cache_cleanup", "failed")]
                )
            ],
        )
        backup = {
            "backend": "postgresql",
            "size_bytes": 1,
            "checksum": "0" * 64,
            "verified": True,
            "taken_for": T0,
        }
        conn.execute(
            insert(Backup),
            [
                {**backup, "path": "/b/older.dump", "restore_result": "passed", "restore_verified_at": T0},
                {
                    **backup,
                    "path": "/b/newest.dump",
                    "restore_result": "passed",
                    "restore_verified_at": T0 + timedelta(days=7),
                },
                {
                    **backup,
                    "path": "/b/broken.dump",
                    "restore_result": "failed",
                    "restore_verified_at": T0 + timedelta(days=8),
                },
            ],
        )
    yield engine, postgres.airflow_uri(name)
    engine.dispose()


@pytest.fixture(scope="module")
def server(app_db):
    servers = AirflowServers(VENV_BIN, app_db[1]).prepare()
    servers.start()
    yield servers
    servers.stop()


def api(server, method: str, path: str, user: str | None = "admin", **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.token(user)}"} if user else {}
    return httpx.request(
        method, f"{server.url}/fantasy/api/v1/admin{path}", headers=headers, timeout=60, **kwargs
    )


def test_lists_every_job_with_schedule_and_last_run(server):
    response = api(server, "GET", "/jobs")
    assert response.status_code == 200, response.text
    jobs = {job["id"]: job for job in response.json()["jobs"]}
    assert set(jobs) == {job.id for job in JOBS}
    assert response.json()["newest_verified_backup"]["path"] == "/b/newest.dump"
    cache = jobs["cache_cleanup"]
    assert (cache["dag_id"], cache["cron"], cache["schedule"], cache["timezone"], cache["pool"]) == (
        "fantasy_frequent",
        "*/30 * * * *",
        "Every 30 minutes",
        "America/New_York",
        "default_pool",
    )
    assert (
        cache["next_run"] and cache["last_run"]["status"] == "failed" and cache["last_run"]["error"] == "boom"
    )
    assert cache["last_run"]["duration_s"] == 3.0 and cache["last_run"]["started_at"].startswith(
        "2026-06-01T12:31"
    )
    assert (
        jobs["ingest_teams"]["last_run"] is None
        and "after the job above it" in jobs["ingest_teams"]["schedule"]
    )


def test_history_is_newest_first_paged_and_filtered(server):
    page = api(server, "GET", "/jobs/history", params={"limit": 5, "offset": 0}).json()
    assert page["total_entries"] == 32 and len(page["executions"]) == 5
    assert [e["rows_affected"] for e in page["executions"]] == [31, 30, 29, 28, 27]
    second = api(server, "GET", "/jobs/history", params={"limit": 5, "offset": 5}).json()
    assert [e["rows_affected"] for e in second["executions"]] == [26, 25, 24, 23, 22]
    failed = api(server, "GET", "/jobs/history", params={"status": "failed"}).json()
    assert [(e["job_id"], e["status"]) for e in failed["executions"]] == [
        ("cache_cleanup", "failed"),
        ("backup_database", "failed"),
    ]
    by_job = api(server, "GET", "/jobs/history", params={"job_id": "backup_database"}).json()
    assert by_job["total_entries"] == 1
    assert api(server, "GET", "/jobs/history", params={"job_id": "nope"}).status_code == 404


def test_trigger_creates_the_dag_run_with_the_right_conf(server):
    response = api(server, "POST", "/jobs/cache_cleanup/run", json={"dry_run": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dag_id"] == "fantasy_frequent" and body["url"].endswith(
        f"/dags/fantasy_frequent/runs/{body['dag_run_id']}"
    )
    token = server.token("admin")
    run = httpx.get(
        f"{server.url}/api/v2/dags/fantasy_frequent/dagRuns/{body['dag_run_id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert run["conf"] == {"jobs": ["cache_cleanup"], "dry_run": True} and run["run_type"] == "manual"


def test_without_a_token_401_everywhere(server):
    for method, path in (("GET", "/jobs"), ("GET", "/jobs/history"), ("POST", "/jobs/cache_cleanup/run")):
        assert api(server, method, path, user=None).status_code == 401
    assert httpx.get(f"{server.url}/fantasy/jobs", timeout=30).status_code == 401


def test_unknown_job_is_404_naming_the_known_ids(server):
    response = api(server, "POST", "/jobs/not_a_job/run")
    assert response.status_code == 404
    assert (
        "unknown job 'not_a_job'" in response.json()["detail"]
        and "cache_cleanup" in response.json()["detail"]
    )


def test_viewer_may_read_but_not_trigger(server):
    assert api(server, "GET", "/jobs", user="viewer").status_code == 200
    response = api(server, "POST", "/jobs/cache_cleanup/run", user="viewer")
    assert response.status_code == 403 and "fantasy_frequent" in response.json()["detail"]


def test_paused_dag_is_refused_with_a_clear_message(server):
    token = server.token("admin")
    headers = {"Authorization": f"Bearer {token}"}
    httpx.patch(
        f"{server.url}/api/v2/dags/fantasy_weekly", json={"is_paused": True}, headers=headers, timeout=30
    ).raise_for_status()
    try:
        response = api(server, "POST", "/jobs/reset_weekly_moves/run")
        assert response.status_code == 409 and "fantasy_weekly is paused" in response.json()["detail"]
    finally:
        httpx.patch(
            f"{server.url}/api/v2/dags/fantasy_weekly", json={"is_paused": False}, headers=headers, timeout=30
        )


def test_the_jobs_page_renders_with_a_token(server):
    response = httpx.get(
        f"{server.url}/fantasy/jobs", headers={"Authorization": f"Bearer {server.token()}"}, timeout=30
    )
    assert response.status_code == 200 and "<h1>Fantasy jobs</h1>" in response.text
    assert (
        "Run now" in response.text
        and "fantasy_weekly" in response.text
        and 'class="badge badge-failed"' in response.text
    )
    assert "Newest verified backup: <code>/b/newest.dump</code>" in response.text


def test_a_second_run_request_while_one_is_queued_is_409_naming_it(server):
    first = api(server, "POST", "/jobs/ingest_standings/run", json={"dry_run": False})
    assert first.status_code == 200, first.text
    again = api(server, "POST", "/jobs/ingest_standings/run")
    assert again.status_code == 409 and again.json()["dag_run_id"] == first.json()["dag_run_id"]
    assert first.json()["dag_run_id"] in again.json()["detail"]


def test_20_concurrent_run_requests_start_one_run(server):
    token = server.token("admin")

    def post(_):
        return httpx.post(
            f"{server.url}/fantasy/api/v1/admin/jobs/data_quality_checks/run",
            headers={"Authorization": f"Bearer {token}"},
            json={},
            timeout=120,
        )

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 19, [a.text for a in answers if a.status_code not in (200, 409)]
    (started,) = [a.json()["dag_run_id"] for a in answers if a.status_code == 200]
    assert {a.json()["dag_run_id"] for a in answers} == {started}
    runs = httpx.get(
        f"{server.url}/api/v2/dags/fantasy_frequent/dagRuns",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()["dag_runs"]
    assert [r["dag_run_id"] for r in runs if "data_quality_checks" in (r["conf"] or {}).get("jobs", [])] == [
        started
    ]


def test_strict_booleans_and_bounded_paging_are_422(server):
    for body in ({"dry_run": "false"}, {"dry_run": 1}, {"dry_run": None}, {"dryrun": True}):
        response = api(server, "POST", "/jobs/calculate_analytics/run", json=body)
        assert response.status_code == 422, (body, response.text)
    for params in ({"offset": 10**20}, {"offset": -1}, {"limit": 501}, {"limit": 0}, {"status": "bogus"}):
        assert api(server, "GET", "/jobs/history", params=params).status_code == 422, params
    assert api(server, "GET", "/jobs/history", params={"status": "abandoned"}).json()["total_entries"] == 0


def test_docs_and_openapi_need_a_login(server):
    for path in ("/fantasy/docs", "/fantasy/openapi.json", "/fantasy/redoc"):
        assert httpx.get(f"{server.url}{path}", timeout=30).status_code in (401, 404), path
    headers = {"Authorization": f"Bearer {server.token('viewer')}"}
    schema = httpx.get(f"{server.url}/fantasy/openapi.json", headers=headers, timeout=30)
    assert schema.status_code == 200 and "/api/v1/admin/jobs/{job_id}/run" in schema.json()["paths"]
    docs = httpx.get(f"{server.url}/fantasy/docs", headers=headers, timeout=30)
    assert docs.status_code == 200 and "openapi.json" in docs.text


def test_an_abandoned_run_shows_as_abandoned(server, app_db):
    engine, _ = app_db
    with engine.begin() as conn:
        conn.execute(
            insert(JobExecution).values(
                job_id="backup_database",
                status="abandoned",
                started_at=T0 + timedelta(hours=1),
                finished_at=T0 + timedelta(hours=1, seconds=40),
                execution_time_s=40.0,
                trigger="scheduled",
                error_message="abandoned: its process 4242 on worker-1 is gone",
                dry_run=False,
                long_running=False,
            )
        )
    jobs = {job["id"]: job for job in api(server, "GET", "/jobs").json()["jobs"]}
    assert jobs["backup_database"]["last_run"]["status"] == "abandoned"
    found = api(server, "GET", "/jobs/history", params={"status": "abandoned"}).json()
    assert [e["duration_s"] for e in found["executions"]] == [40.0]
    page = httpx.get(
        f"{server.url}/fantasy/jobs", headers={"Authorization": f"Bearer {server.token()}"}, timeout=30
    ).text
    assert 'class="badge badge-abandoned"' in page and '<tr class="run-abandoned"' in page
