"""The job-centric admin API and page, served inside the Airflow API server under /fantasy.

Operators think in jobs ("did the standings update run? run the cache cleanup now"), the Airflow
UI in DAGs and tasks; this bridges them. Authentication and permissions are the API server's own
(apache/airflow issues 72655 and 72935: plugin routes are not protected by default): every route
resolves the user with Airflow's `get_user` dependency (a bearer token or the UI's session cookie;
none: 401) and asks the configured auth manager whether that user may read, or trigger, the job's
group DAG (403 otherwise).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

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


def _authorized(user, dag_id: str, method: Literal["GET", "POST"], run: bool = False) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    return get_auth_manager().is_authorized_dag(
        method=method,
        access_entity=DagAccessEntity.RUN if run else None,
        details=DagDetails(id=dag_id),
        user=user,
    )


def _require(user, dag_id: str, method: Literal["GET", "POST"], run: bool = False) -> None:
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
    """Each job's newest run by start time (then id), the order of its bar strip: the badge and the
    strip's last bar are the same run. One small indexed lookup per registry job."""
    from sqlalchemy import select, union_all

    from fantasy_jobs.schema import JobExecution as E

    newest = [
        select(E).where(E.job_id == job.id).order_by(E.started_at.desc(), E.id.desc()).limit(1).subquery()
        for job in JOBS
    ]
    with _engine().connect() as conn:
        rows = conn.execute(union_all(*(select(*part.c) for part in newest))).all()
    return {row.job_id: execution_json(row) for row in rows}


def newest_verified_backup() -> dict[str, Any] | None:
    """The newest backup whose restore check passed (verify_backup_restore), for the Jobs page."""
    from sqlalchemy import select

    from fantasy_jobs.schema import Backup

    with _engine().connect() as conn:
        row = conn.execute(
            select(Backup)
            .where(Backup.restore_result == "passed")
            .order_by(Backup.restore_verified_at.desc(), Backup.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return {
        "path": row.path,
        "taken_for": row.taken_for.isoformat() if row.taken_for else None,
        "restore_verified_at": row.restore_verified_at.isoformat() if row.restore_verified_at else None,
        "restore_duration_s": row.restore_duration_s,
        "message": row.restore_message,
        "deleted": row.deleted_at is not None,
    }


def execution_json(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "job_id": row.job_id,
        "status": row.status,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "logical_time": row.logical_time.isoformat() if row.logical_time else None,
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


LIVE_GAME_HOURS = 4  # a game in progress in the database whose tip-off is older is no longer live (the nightly finalises it)


def live_status(now: datetime) -> dict[str, Any]:
    """The live group at a glance: games live now (in progress, tipped off in the last 4 h), the last
    tick (live_scoring), its lag (from the watcher seeing the change to the points committed) and
    the day's ticks (since midnight, league time) with their worst lag. A few aggregate queries."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from fantasy_jobs.schema import Game, JobExecution, Team
    from fantasy_jobs.settings import league_timezone

    local = now.astimezone(league_timezone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    home, away = Team.__table__.alias("home"), Team.__table__.alias("away")
    lag = JobExecution.details["lag_seconds"].as_float()
    today = (JobExecution.job_id == "live_scoring") & (JobExecution.started_at >= midnight)
    with _engine().connect() as conn:
        games = conn.execute(
            select(Game.espn_id, away.c.abbreviation, home.c.abbreviation, Game.start_time)
            .join(home, home.c.id == Game.home_team_id)
            .join(away, away.c.id == Game.away_team_id)
            .where(Game.status == "in_progress", Game.start_time > now - timedelta(hours=LIVE_GAME_HOURS))
            .order_by(Game.start_time, Game.espn_id)
            .limit(20)
        ).all()
        ticks, failed, worst = conn.execute(
            select(
                func.count(),
                func.count().filter(JobExecution.status == "failed"),
                func.max(lag),
            ).where(today)
        ).one()
        last = conn.execute(
            select(JobExecution)
            .where(JobExecution.job_id == "live_scoring")
            .order_by(JobExecution.started_at.desc(), JobExecution.id.desc())
            .limit(1)
        ).first()
    details = (last.details or {}) if last is not None else {}
    return {
        "games_live": [{"id": g[0], "label": f"{g[1]} @ {g[2]}", "tip_off": g[3].isoformat()} for g in games],
        "ticks_today": ticks,
        "failed_today": failed,
        "worst_lag_today_s": worst,
        "last_tick": None
        if last is None
        else {
            **execution_json(last),
            "lag_s": details.get("lag_seconds"),
            "lines_changed": details.get("lines_changed"),
            "games": details.get("games", []),
        },
    }


@app.get("/api/v1/admin/jobs")
def list_jobs(user: CurrentUser) -> dict[str, Any]:
    """Every registered job the user may see, with its schedule, next start and last run; the
    newest verified backup and the live group's state (if the user may read those DAGs)."""
    readable = {spec.dag_id for spec in GROUPS.values() if _authorized(user, spec.dag_id, "GET")}
    now, last = datetime.now(UTC), last_runs()
    jobs = [job_json(job, last.get(job.id), now) for job in JOBS if job.dag_id in readable]
    backup = newest_verified_backup() if JOBS_BY_ID["verify_backup_restore"].dag_id in readable else None
    live = live_status(now) if GROUPS["live"].dag_id in readable else None
    return {"jobs": jobs, "total_entries": len(jobs), "newest_verified_backup": backup, "live": live}


@app.get("/api/v1/admin/jobs/history")
def history(
    user: CurrentUser,
    job_id: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """`job_executions`, newest first; filter by job and status; paged with limit and offset."""
    from sqlalchemy import ColumnElement, func, select

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
    where: list[ColumnElement[bool]] = [JobExecution.job_id.in_([j.id for j in JOBS if j.dag_id in readable])]
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
    default = GROUPS[job.group].default_selection(
        [j.id for j in JOBS if j.group == job.group]
    )  # the param's default
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
        dag_run = trigger_dag(
            job.dag_id,
            triggered_by=DagRunTriggeredByType.REST_API,
            conf={"jobs": [job_id], "dry_run": dry_run},
            triggering_user_name=user.get_name(),
        )
        if dag_run is None:  # Airflow found no DAG to trigger
            raise HTTPException(status.HTTP_409_CONFLICT, f"{job.dag_id} could not be triggered; try again")
        run_id = dag_run.run_id
    base = str(request.base_url).rstrip("/")
    triggered = (_parse(dag_run.run_after) or datetime.now(UTC)).astimezone(_tz())  # run ids stay UTC
    return {
        "job_id": job_id,
        "dag_id": job.dag_id,
        "dag_run_id": run_id,
        "triggered_at": f"{triggered:%a %d %b %H:%M:%S %Z}",
        "dry_run": dry_run,
        "url": f"{base}/dags/{job.dag_id}/runs/{run_id}",
    }


# --- the page -------------------------------------------------------------------------------

SPARK_RUNS = 30  # bars per job in the page's strip
SPARK_HEIGHT, SPARK_BAR, SPARK_GAP = 22, 4, 1
PAGE_SIZE = 25


def recent_runs_per_job(job_ids: list[str], per_job: int = SPARK_RUNS) -> tuple[dict, dict]:
    """The last `per_job` executions of each job (oldest first) and each job's success rate over them.

    One bounded query per page: a UNION ALL of one `ORDER BY started_at DESC LIMIT n` per job
    (the registry's fixed list, each walking the (job_id, started_at) index), so the cost does
    not grow with the history kept; the success rate is aggregated in SQL over the same rows.
    """
    from sqlalchemy import case, func, select, union_all

    from fantasy_jobs.schema import JobExecution as E

    if not job_ids:
        return {}, {}
    columns = (E.job_id, E.status, E.started_at, E.execution_time_s, E.long_running, E.dry_run, E.id)
    parts = [
        select(*columns)
        .where(E.job_id == job_id)
        .order_by(E.started_at.desc(), E.id.desc())
        .limit(per_job)
        .subquery()
        for job_id in job_ids
    ]
    recent = union_all(*(select(*part.c) for part in parts)).subquery("recent")
    finished = recent.c.status.in_(("completed", "failed", "abandoned"))
    rates = select(
        recent.c.job_id,
        func.sum(case((recent.c.status == "completed", 1), else_=0)).label("ok"),
        func.sum(case((finished, 1), else_=0)).label("finished"),
        func.sum(case((recent.c.status == "skipped", 1), else_=0)).label("skipped"),
    ).group_by(recent.c.job_id)
    with _engine().connect() as conn:
        rows = conn.execute(select(recent).order_by(recent.c.job_id, recent.c.started_at, recent.c.id)).all()
        stats = {
            r.job_id: (int(r.ok or 0), int(r.finished or 0), int(r.skipped or 0)) for r in conn.execute(rates)
        }
    runs: dict[str, list] = {}
    for row in rows:
        runs.setdefault(row.job_id, []).append(row)
    return runs, stats


def _tz():
    from fantasy_jobs.settings import league_timezone

    return league_timezone()


def _parse(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relative(moment: datetime, now: datetime) -> str:
    """'in 3 h', '12 min ago', 'just now', 'in 2 d'."""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    if size < 60:
        return "in under a minute" if seconds > 5 else "just now"  # clocks of two hosts differ a little
    if size < 3600:
        amount = f"{size // 60:.0f} min"
    elif size < 48 * 3600:
        hours, minutes = divmod(int(size // 60), 60)
        amount = f"{hours} h" + (f" {minutes} min" if hours < 3 and minutes else "")
    else:
        amount = f"{size // 86400:.0f} d"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def when(value: Any, now: datetime) -> dict[str, str] | None:
    """A time for the page: 'Mon 30 Nov 02:00' in league time, a relative hint, the exact time."""
    moment = _parse(value)
    if moment is None:
        return None
    local = moment.astimezone(_tz())
    return {
        "text": f"{local:%a %d %b %H:%M}",
        "rel": relative(moment, now),
        "exact": f"{local:%Y-%m-%d %H:%M:%S %Z} ({moment.astimezone(UTC):%H:%M:%S} UTC)",
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


AS_OF_CLI = timedelta(minutes=5)
AS_OF_ANY = timedelta(days=1)


def as_of(run: dict[str, Any], now: datetime) -> dict[str, str] | None:
    """The time a run ran as, when it is not about when it started: `fantasy-jobs run --at` more than
    5 minutes off, or any run more than a day off (a cleared or caught-up old run)."""
    started, logical = _parse(run.get("started_at")), _parse(run.get("logical_time"))
    if started is None or logical is None:
        return None
    gap = abs(started - logical)
    if gap > AS_OF_ANY or (run.get("trigger") == "cli" and gap > AS_OF_CLI):
        return when(logical, now)
    return None


def too_late(run: dict[str, Any]) -> bool:
    """A misfire: a scheduled run that started past its grace and skipped on purpose."""
    return run["status"] == "skipped" and "misfire" in (run.get("error") or "")


def _late_summary(run: dict[str, Any]) -> str:
    """'started 11 h 46 min after its time; nothing failed' for a misfire (the full text on hover)."""
    import re

    found = re.search(r"started (\d+) s after", run.get("error") or "")
    late = _duration(float(found.group(1))) if found else "too long"
    return f"started {late} after its time, past its grace; nothing failed, the next run does the work"


def run_view(run: dict[str, Any], now: datetime, base_url: str) -> dict[str, Any]:
    """One `job_executions` row as the page shows it: badge, marks, times in league time, link."""
    chips = []
    if run["long_running"]:
        chips.append({"kind": "long", "text": "long running"})
    if run["dry_run"]:
        chips.append({"kind": "dry", "text": "dry run"})
    if too_late(run):
        chips.append({"kind": "late", "text": "too late"})
    row_class = f"run-{run['status']}" + (" run-long" if run["long_running"] else "")
    run_url = (
        f"{base_url}/dags/{run['dag_id']}/runs/{run['run_id']}" if run["dag_id"] and run["run_id"] else None
    )
    return {
        **run,
        "chips": chips,
        "row_class": row_class,
        "started": when(run["started_at"], now) or {"text": "", "rel": "", "exact": ""},
        "as_of": as_of(run, now),
        "duration": _duration(run["duration_s"]),
        "rows": run["rows_affected"],
        "message": _late_summary(run) if too_late(run) else (run["error"] or "")[:240],
        "message_full": run["error"] or "",
        "run_url": run_url,
    }


def sparkline(rows: list, stats: tuple[int, int, int] | None, now: datetime) -> dict[str, Any]:
    """Geometry of a job's bar strip: one bar per run, oldest left, height by duration, colour by outcome."""
    longest = max((r.execution_time_s or 0 for r in rows), default=0) or 1
    bars = []
    for index, row in enumerate(rows):
        height = max(3, round((row.execution_time_s or 0) / longest * (SPARK_HEIGHT - 2)))
        started = when(row.started_at, now)
        title = (
            f"{started['text'] if started else ''} · {row.status} · {_duration(row.execution_time_s) or '-'}"
        )
        title += " · long running" * bool(row.long_running) + " · dry run" * bool(row.dry_run)
        bars.append(
            {
                "x": index * (SPARK_BAR + SPARK_GAP),
                "y": SPARK_HEIGHT - height,
                "h": height,
                "status": row.status,
                "long": bool(row.long_running),
                "title": title,
            }
        )
    ok, finished, skipped_runs = stats or (0, 0, 0)
    skipped = f"{skipped_runs} skipped" if skipped_runs else ""
    if finished:
        rate = f"{100 * ok / finished:.0f}% ok ({ok}/{finished})" + (f", {skipped}" if skipped else "")
    else:
        rate = f"{skipped or 'running'}, none finished yet"
    return {
        "bars": bars,
        "width": max(1, len(bars) * (SPARK_BAR + SPARK_GAP)),
        "height": SPARK_HEIGHT,
        "bar_width": SPARK_BAR,
        "rate_text": rate,
    }


def _verified_view(verified: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """The newest verified backup with its times as the page shows times."""
    if not verified:
        return None
    return {
        **verified,
        "taken": when(verified["taken_for"], now),
        "checked": when(verified["restore_verified_at"], now),
    }


def _live_view(live: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """The live group's line on the page: games live, last tick (when, how it ended, its lag), today."""
    if live is None:
        return None
    last = live["last_tick"]
    worst = live["worst_lag_today_s"]
    return {
        "games": live["games_live"],
        "ticks_today": live["ticks_today"],
        "failed_today": live["failed_today"],
        "worst_lag": None if worst is None else f"{worst:.1f} s",
        "last": None
        if last is None
        else {
            "status": last["status"],
            "started": when(last["started_at"], now),
            "lag": None if last["lag_s"] is None else f"{last['lag_s']:.1f} s",
            "lines": last["lines_changed"],
        },
    }


def _templates():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("fantasy_jobs", "templates"), autoescape=select_autoescape(["html"])
    )


@app.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    user: CurrentUser,
    status_: Annotated[str | None, Query(alias="status")] = None,
    job: str | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """The Jobs page: jobs by schedule group with badges, sparklines and Run now; the filtered history.

    Server-rendered (Jinja2, autoescaped): readable without JavaScript; only Run now needs it.
    """
    from urllib.parse import urlencode

    now = datetime.now(UTC)
    base = str(request.base_url).rstrip("/")
    data = list_jobs(user)
    visible = [j["id"] for j in data["jobs"]]
    notice = ""
    if status_ and status_ not in STATUSES:
        notice, status_ = f"Unknown status {status_!r}: showing every status.", None
    if job and job not in visible:
        notice, job = f"Unknown job {job!r}: showing every job.", None
    found = history(user, job or None, status_ or None, PAGE_SIZE, offset)
    runs, stats = recent_runs_per_job(visible)
    groups = []
    for group, spec in GROUPS.items():
        jobs = []
        for item in (j for j in data["jobs"] if j["group"] == group):
            last = item["last_run"]
            jobs.append(
                {
                    **item,
                    "next": when(item["next_run"], now),
                    "last_run": run_view(last, now, base) if last else None,
                    "spark": sparkline(runs.get(item["id"], []), stats.get(item["id"]), now),
                }
            )
        if jobs:
            from fantasy_jobs.deadlines import deadline_in_words

            groups.append(
                {
                    "title": group.title(),
                    "dag_id": spec.dag_id,
                    "deadline": deadline_in_words(group),
                    "jobs": jobs,
                    "live": _live_view(data.get("live"), now) if spec.event_driven else None,
                }
            )

    def page_link(to: int) -> str:
        query = {k: v for k, v in (("status", status_), ("job", job), ("offset", to)) if v}
        return "jobs" + (f"?{urlencode(query)}" if query else "") + "#history"

    total, shown = found["total_entries"], len(found["executions"])
    html_text = (
        _templates()
        .get_template("jobs_page.html")
        .render(
            now=when(now, now),
            timezone=str(_tz()),
            groups=groups,
            verified=_verified_view(data.get("newest_verified_backup"), now),
            history=[run_view(r, now, base) for r in found["executions"]],
            statuses=STATUSES,
            job_ids=visible,
            filters={"status": status_ or "", "job": job or "", "notice": notice},
            page={
                "total": total,
                "shown": f"{offset + 1}-{offset + shown}" if shown else "0",
                "older": page_link(offset + PAGE_SIZE) if offset + shown < total else None,
                "newer": page_link(max(0, offset - PAGE_SIZE)) if offset else None,
            },
        )
    )
    return HTMLResponse(html_text)
