"""The job-centric admin API and page, served inside the Airflow API server under /fantasy.

Operators think in jobs ("did the standings update run? run the cache cleanup now"), the Airflow
UI in DAGs and tasks; this bridges them. Authentication and permissions are the API server's own
(apache/airflow issues 72655 and 72935: plugin routes are not protected by default): every route
resolves the user with Airflow's `get_user` dependency (a bearer token or the UI's session cookie;
none: 401) and asks the configured auth manager whether that user may read, or trigger, the job's
group DAG (403 otherwise).
"""

from __future__ import annotations

import html
import threading
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, StrictBool

from fantasy_jobs.registry import GROUPS, JOBS, JOBS_BY_ID, Job

PREFIX = "/fantasy"
MAX_PAGE = 500
MAX_OFFSET = 1_000_000
STATUSES = ("running", "completed", "failed", "skipped", "abandoned")
# FastAPI's own /docs and /openapi.json would be public: they are served below behind the login.
app = FastAPI(
    title="Fantasy jobs admin", description=__doc__, docs_url=None, redoc_url=None, openapi_url=None
)


def _user_dependency():
    from airflow.api_fastapi.core_api.security import get_user

    return get_user


CurrentUser = Annotated[Any, Depends(_user_dependency())]


def _authorized(user, dag_id: str, method: str, run: bool = False) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    return get_auth_manager().is_authorized_dag(
        method=method,
        access_entity=DagAccessEntity.RUN if run else None,
        details=DagDetails(id=dag_id),
        user=user,
    )


def _require(user, dag_id: str, method: str, run: bool = False) -> None:
    if not _authorized(user, dag_id, method, run):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"Forbidden: you may not {'trigger' if run else 'read'} {dag_id}"
        )


def _engine():
    from fantasy_jobs.db import get_engine

    return get_engine()


@app.get("/openapi.json", include_in_schema=False)
def openapi_schema(user: CurrentUser) -> dict[str, Any]:
    """The OpenAPI schema, for signed-in users only."""
    return app.openapi()


@app.get("/docs", include_in_schema=False)
def api_docs(user: CurrentUser) -> HTMLResponse:
    """Swagger UI, for signed-in users only (relative URL: works behind a reverse proxy)."""
    from fastapi.openapi.docs import get_swagger_ui_html

    return get_swagger_ui_html(openapi_url="openapi.json", title="Fantasy jobs admin API")


def next_run(job: Job, now: datetime) -> datetime | None:
    """The job's next scheduled start in league time (a daily-chain job: the chain's next start)."""
    from croniter import croniter

    from fantasy_jobs.settings import league_timezone

    cron = job.cron or GROUPS[job.group].cron
    return croniter(cron, now.astimezone(league_timezone())).get_next(datetime) if cron else None


def last_runs() -> dict[str, dict[str, Any]]:
    from sqlalchemy import func, select

    from fantasy_jobs.schema import JobExecution

    latest = select(func.max(JobExecution.id)).group_by(JobExecution.job_id).scalar_subquery()
    with _engine().connect() as conn:
        rows = conn.execute(select(JobExecution).where(JobExecution.id.in_(latest))).all()
    return {row.job_id: execution_json(row) for row in rows}


def execution_json(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "job_id": row.job_id,
        "status": row.status,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "duration_s": row.execution_time_s,
        "rows_affected": row.rows_affected,
        "error": row.error_message,
        "dag_id": row.dag_id,
        "run_id": row.run_id,
        "try_number": row.try_number,
        "trigger": row.trigger,
        "dry_run": row.dry_run,
        "long_running": row.long_running,
        "peak_memory_mb": row.peak_memory_mb,
    }


def job_json(job: Job, last: dict | None, now: datetime) -> dict[str, Any]:
    from fantasy_jobs.settings import league_timezone

    upcoming = next_run(job, now)
    return {
        "id": job.id,
        "name": job.name,
        "group": job.group,
        "dag_id": job.dag_id,
        "area": job.area,
        "cron": job.cron,
        "schedule": job.schedule_text,
        "timezone": str(league_timezone()),
        "pool": job.pool,
        "next_run": upcoming.isoformat() if upcoming else None,
        "supports_dry_run": job.supports_dry_run,
        "summary": job.summary,
        "last_run": last,
    }


@app.get("/api/v1/admin/jobs")
def list_jobs(user: CurrentUser) -> dict[str, Any]:
    """Every registered job the user may see, with its schedule, next start and last run."""
    readable = {spec.dag_id for spec in GROUPS.values() if _authorized(user, spec.dag_id, "GET")}
    now, last = datetime.now(UTC), last_runs()
    jobs = [job_json(job, last.get(job.id), now) for job in JOBS if job.dag_id in readable]
    return {"jobs": jobs, "total_entries": len(jobs)}


@app.get("/api/v1/admin/jobs/history")
def history(
    user: CurrentUser,
    job_id: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """`job_executions`, newest first; filter by job and status; paged with limit and offset."""
    from sqlalchemy import func, select

    from fantasy_jobs.schema import JobExecution

    if job_id is not None and job_id not in JOBS_BY_ID:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"unknown job {job_id!r}; known jobs: {', '.join(JOBS_BY_ID)}"
        )
    if status_ is not None and status_ not in STATUSES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, f"unknown status {status_!r}; known: {', '.join(STATUSES)}"
        )
    readable = [s.dag_id for s in GROUPS.values() if _authorized(user, s.dag_id, "GET")]
    where = [JobExecution.job_id.in_([j.id for j in JOBS if j.dag_id in readable])]
    if job_id:
        where.append(JobExecution.job_id == job_id)
    if status_:
        where.append(JobExecution.status == status_)
    with _engine().connect() as conn:
        total = conn.scalar(select(func.count()).select_from(JobExecution).where(*where))
        rows = conn.execute(
            select(JobExecution)
            .where(*where)
            .order_by(JobExecution.started_at.desc(), JobExecution.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    return {
        "executions": [execution_json(r) for r in rows],
        "total_entries": total,
        "limit": limit,
        "offset": offset,
    }


class RunBody(BaseModel):
    """The body of a run request: `dry_run` must be a JSON boolean ("false" is refused, 422)."""

    model_config = ConfigDict(extra="forbid")
    dry_run: StrictBool = False


# A task in one of these states (None: not created yet) has not done its job in that run yet.
UNFINISHED_TASK_STATES = (
    None,
    "scheduled",
    "queued",
    "running",
    "up_for_retry",
    "up_for_reschedule",
    "deferred",
    "restarting",
)
_trigger_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


def active_manual_run(session, job: Job) -> str | None:
    """The run id of a queued or running manual run of the job's DAG that selects the job and
    has not finished its task yet, or None."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    runs = session.execute(
        select(DagRun.run_id, DagRun.state, DagRun.conf)
        .where(
            DagRun.dag_id == job.dag_id,
            DagRun.run_type == "manual",
            DagRun.state.in_(("queued", "running")),
        )
        .order_by(DagRun.id)
    ).all()
    default = [] if GROUPS[job.group].jobs_required else [j.id for j in JOBS if j.group == job.group]
    for run_id, state, conf in runs:
        if job.id not in ((conf or {}).get("jobs", default) or ()):  # no `jobs`: the param's default
            continue
        task_state = session.scalar(
            select(TaskInstance.state).where(
                TaskInstance.dag_id == job.dag_id,
                TaskInstance.run_id == run_id,
                TaskInstance.task_id == job.id,
            )
        )
        if state == "queued" or task_state in UNFINISHED_TASK_STATES:
            return run_id
    return None


@app.post("/api/v1/admin/jobs/{job_id}/run", responses={409: {"description": "already queued or running"}})
def run_job(
    request: Request, job_id: str, user: CurrentUser, body: Annotated[RunBody | None, Body()] = None
) -> Any:
    """Trigger the job's group DAG with {"jobs": [job_id]} (and `dry_run`); returns the DAG run and a UI link.

    A job that already has a queued or running manual run is not triggered again: 409 with that
    run's id. The check and the trigger run under a mutex named after the job in the app database
    (a PostgreSQL advisory lock, SQLite's write lock), so concurrent requests, also from other API
    server workers or machines, are served one after the other and only the first triggers.
    """
    job = JOBS_BY_ID.get(job_id)
    if job is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"unknown job {job_id!r}; known jobs: {', '.join(JOBS_BY_ID)}"
        )
    _require(user, job.dag_id, "POST", run=True)
    dry_run = (body or RunBody()).dry_run
    if dry_run and not job.supports_dry_run:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{job_id} does not support dry_run")
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType

    from fantasy_jobs.db import named_mutex

    with _trigger_locks[job.id], named_mutex(_engine(), f"fantasy_admin:run:{job.id}"):
        with create_session() as session:
            dag = session.get(DagModel, job.dag_id)
            if dag is None:
                raise HTTPException(
                    status.HTTP_409_CONFLICT, f"{job.dag_id} is not parsed yet; wait for the dag-processor"
                )
            if dag.is_paused:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    f"{job.dag_id} is paused: unpause it in the Airflow UI before running {job_id}",
                )
            active = active_manual_run(session, job)
        if active is not None:
            return JSONResponse(
                status_code=status.HTTP_409_CONFLICT,
                content={
                    "detail": f"{job_id} already has a queued or running manual run: {active}",
                    "job_id": job_id,
                    "dag_id": job.dag_id,
                    "dag_run_id": active,
                },
            )
        run_id = trigger_dag(
            job.dag_id,
            triggered_by=DagRunTriggeredByType.REST_API,
            conf={"jobs": [job_id], "dry_run": dry_run},
            triggering_user_name=user.get_name(),
        ).run_id
    base = str(request.base_url).rstrip("/")
    return {
        "job_id": job_id,
        "dag_id": job.dag_id,
        "dag_run_id": run_id,
        "dry_run": dry_run,
        "url": f"{base}/dags/{job.dag_id}/runs/{run_id}",
    }


# --- the page -------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a202c}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.35rem .5rem;border-bottom:1px solid #e2e8f0;text-align:left}
.badge{padding:.1rem .5rem;border-radius:.6rem;font-size:.8rem;color:#fff}.completed{background:#2f855a}.failed{background:#c53030}
.running{background:#2b6cb0}.skipped{background:#718096}.abandoned{background:#975a16}.never{background:#a0aec0}.warn{color:#c05621;font-weight:600}
button{padding:.25rem .7rem;border:1px solid #2b6cb0;background:#ebf8ff;border-radius:.3rem;cursor:pointer}
#message{margin:.6rem 0;font-weight:600}tr.run-failed{background:#fff5f5}tr.run-long{background:#fffaf0}
tr.run-abandoned{background:#fffaf0}
"""
SCRIPT = """
async function runJob(jobId) {
  const dry = document.getElementById('dry-' + jobId);
  const response = await fetch('api/v1/admin/jobs/' + jobId + '/run', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({dry_run: dry ? dry.checked : false})});
  const data = await response.json();
  document.getElementById('message').textContent = response.ok
    ? 'Triggered ' + data.dag_id + ' run ' + data.dag_run_id : 'Could not run ' + jobId + ': ' + data.detail;
  setTimeout(() => location.reload(), 3000);
}
setTimeout(() => location.reload(), 15000);
"""


def _badge(state: str | None) -> str:
    state = state or "never"
    return f'<span class="badge {html.escape(state)}" data-testid="status">{html.escape(state)}</span>'


@app.get("/jobs", response_class=HTMLResponse)
def jobs_page(user: CurrentUser) -> HTMLResponse:
    """The Jobs page: jobs by schedule group, last-run badges, Run now, the latest history."""
    data = list_jobs(user)
    recent = history(user, None, None, 25, 0)["executions"]
    esc = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Fantasy jobs</title><style>{STYLE}</style></head><body>",
        "<h1>Fantasy jobs</h1><div id='message' role='status'></div>",
    ]
    for group, spec in GROUPS.items():
        jobs = [j for j in data["jobs"] if j["group"] == group]
        if not jobs:
            continue
        parts.append(
            f"<h2>{esc(group.title())} &middot; <code>{esc(spec.dag_id)}</code></h2><table><tr><th>Job</th><th>Schedule "
            f"({esc(jobs[0]['timezone'])})</th><th>Pool</th><th>Next</th><th>Last run</th><th>Started</th><th>Duration</th><th></th></tr>"
        )
        for job in jobs:
            last = job["last_run"] or {}
            duration = f"{last['duration_s']:.1f} s" if last.get("duration_s") is not None else ""
            dry = (
                f"<label><input type='checkbox' id='dry-{esc(job['id'])}'> dry run</label>"
                if job["supports_dry_run"]
                else ""
            )
            parts.append(
                f"<tr data-job='{esc(job['id'])}'><td><b>{esc(job['name'])}</b><br><code>{esc(job['id'])}</code></td>"
                f"<td>{esc(job['schedule'])}</td><td><code>{esc(job['pool'])}</code></td><td>{esc(job['next_run'] or '')}</td>"
                f"<td>{_badge(last.get('status'))}{' <span class=warn>long running</span>' if last.get('long_running') else ''}"
                f"<br><small>{esc((last.get('error') or '')[:140])}</small></td><td>{esc(last.get('started_at') or '')}</td>"
                f"<td>{duration}</td><td><button onclick=\"runJob('{esc(job['id'])}')\">Run now</button> {dry}</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        "<h2>Latest runs</h2><table><tr><th>Job</th><th>Status</th><th>Started</th><th>Duration</th><th>Rows</th>"
        "<th>Trigger</th><th>Run</th><th>Error</th></tr>"
    )
    for run in recent:
        marks = (" <span class=warn>long running</span>" if run["long_running"] else "") + (
            " (dry run)" if run["dry_run"] else ""
        )
        parts.append(
            f"<tr class='run-{esc(run['status'])}'><td><code>{esc(run['job_id'])}</code></td><td>{_badge(run['status'])}{marks}</td>"
            f"<td>{esc(run['started_at'] or '')}</td><td>{run['duration_s'] if run['duration_s'] is not None else ''}</td>"
            f"<td>{run['rows_affected'] if run['rows_affected'] is not None else ''}</td><td>{esc(run['trigger'])}</td>"
            f"<td><small>{esc(run['run_id'] or '')}</small></td><td><small>{esc((run['error'] or '')[:200])}</small></td></tr>"
        )
    parts.append(f"</table><script>{SCRIPT}</script></body></html>")
    return HTMLResponse("".join(parts))
