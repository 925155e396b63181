"""Builds a group DAG from the registry; the DAG files in `dags/` only call `build_group_dag`.

Parse-time cost stays small: this module imports Airflow's SDK definitions and the registry,
never SQLAlchemy, the database or a connection; job code is imported inside the task.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta

from fantasy_jobs.deadlines import FantasyDeadline, deadline_in_words, deadline_variable
from fantasy_jobs.registry import GROUPS, Job, jobs_of, live_asset, table_asset
from fantasy_jobs.settings import league_timezone

START_DATE = datetime(2026, 1, 1)
PERMANENT_ERRORS = "fantasy_jobs.errors.PermanentJobError"
RETRY_BACKOFF_MULTIPLIER = 2.0  # each retry waits twice as long as the one before, up to max_retry_delay


def _running_dags_test() -> bool:
    """True inside `airflow dags test`.

    apache/airflow#73428 (open, affects 3.3.2): `airflow dags test` of a DAG that sets `deadline=`
    runs every task, then exits 1 with "'dict' object has no attribute 'hex'" in
    DagRun.update_state(). Deadlines are never evaluated under `dags test` anyway (only the
    scheduler checks them), so leaving the alert out there loses nothing, keeps CI's
    `airflow dags test` green, and every process that schedules runs (scheduler, dag-processor)
    still gets the deadline. Remove this once a release carries the fix (PR 73430).
    """
    args = sys.argv[1:3]
    return args == ["dags", "test"]


def _timetable(group: str):
    from airflow.sdk import CronTriggerTimetable, MultipleCronTriggerTimetable

    tz = str(league_timezone())
    spec = GROUPS[group]
    if spec.event_driven:  # a run each time the watcher updates the Asset (event-driven scheduling)
        return [live_asset()]
    if spec.cron:
        return CronTriggerTimetable(spec.cron, timezone=tz)
    crons = sorted({job.cron for job in jobs_of(group) if job.cron})
    return MultipleCronTriggerTimetable(*crons, timezone=tz)


def _deadline(group: str):
    """The group's deadline alert; its interval can be overridden by the Variable
    `fantasy_deadline_<group>_seconds` (see `fantasy_jobs.deadlines`)."""
    if _running_dags_test():
        return None
    # airflow.sdk exports both, but its type stub (__init__.pyi) lists neither: import their modules
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert

    spec = GROUPS[group]
    return DeadlineAlert(
        reference=FantasyDeadline(
            group=group,
            anchor=spec.deadline_from,
            default_seconds=int(spec.deadline.total_seconds()),
        ),
        interval=timedelta(0),  # the interval lives in the reference, read when the run is created
        # The UI lists alerts by name; the interval column shows 0, so the name carries it.
        name=f"{deadline_in_words(group).capitalize()}; Variable {deadline_variable(group)} overrides",
        callback=AsyncCallback("fantasy_jobs.alerts.deadline_missed_alert", kwargs={"group": group}),
    )


def _params(group: str) -> dict:
    from airflow.sdk import Param

    jobs = jobs_of(group)
    ids = [job.id for job in jobs]
    return {
        # `minItems: 1` makes the trigger form, the REST API and `dags test -c` refuse an empty
        # selection before a run exists. Airflow validates the default against the schema when
        # the DAG is parsed and for every scheduled run, so the default is never []: the whole daily
        # chain, one harmless job elsewhere (GroupSpec.manual_default); a scheduled run ignores
        # `jobs` (each job follows its cron).
        "jobs": Param(
            GROUPS[group].default_selection(ids),
            type="array",
            items={"type": "string", "enum": ids},
            uniqueItems=True,
            minItems=1,
            examples=ids,
            values_display={job.id: f"{job.name} ({job.id})" for job in jobs},
            title="Jobs to run",
            description=(
                "Manual runs only (scheduled runs follow each job's cron). Select at least one job"
                + (
                    "; all are selected by default and the chain order is kept."
                    if group == "daily"
                    else "; pick the ones to run (preselected: a harmless one)."
                )
            ),
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Report what would change and change nothing.",
        ),
        "full": Param(
            False,
            type="boolean",
            title="Full recompute",
            description="Jobs that work from what changed (calculate_fantasy_scores, league_analytics, "
            "data_quality_checks, calculate_bonuses) recompute or check everything instead.",
        ),
    }


def _doc(group: str, intro: str | None) -> str:
    spec = GROUPS[group]
    lines = [
        intro.strip() if intro else f"# {spec.dag_id}",
        "",
        spec.description,
        "",
        "| job | schedule | pool |",
        "|---|---|---|",
    ]
    for job in jobs_of(group):
        lines.append(f"| `{job.id}` ({job.name}) | {job.schedule_text} | `{job.pool}` |")
    lines += [
        "",
        f"Deadline: {deadline_in_words(group)} (a manual run's: from its trigger time);"
        f" the Variable `{deadline_variable(group)}` overrides it in seconds. A miss sends one"
        " Slack message.",
        "Trigger with params `jobs` (which jobs), `dry_run` and `full` (recompute everything). Every run is "
        "tracked in `job_executions`.",
    ]
    return "\n".join(lines)


def _retry_delays(job: Job) -> tuple[timedelta, timedelta]:
    """The job's first retry delay and cap; FANTASY_RETRY_DELAY_SECONDS (environment, parse time)
    overrides the first delay of every job, for CI and local experiments with failing jobs."""
    override = os.environ.get("FANTASY_RETRY_DELAY_SECONDS")
    if not override:
        return job.retry_delay, job.max_retry_delay
    delay = timedelta(seconds=float(override))
    return delay, max(delay, min(job.max_retry_delay, delay * 8))


def _job_task(job: Job, *, trigger_rule: str):
    from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule, task

    from fantasy_jobs.alerts import task_failure_alert
    from fantasy_jobs.runtime import run_task

    retry_delay, max_retry_delay = _retry_delays(job)
    return task(
        task_id=job.id,
        doc_md=job.doc_md,
        pool=job.pool,
        max_active_tis_per_dag=1,
        retries=job.retries,
        retry_delay=retry_delay,
        retry_exponential_backoff=RETRY_BACKOFF_MULTIPLIER,
        max_retry_delay=max_retry_delay,
        retry_policy=ExceptionRetryPolicy(
            rules=[
                RetryRule(
                    exception=PERMANENT_ERRORS,
                    action=RetryAction.FAIL,
                    reason="a retry cannot fix this error",
                )
            ]
        ),
        execution_timeout=job.timeout,
        on_failure_callback=task_failure_alert,
        trigger_rule=trigger_rule,
        outlets=[table_asset(table) for table in job.writes],  # lineage: the app tables it writes
    )(run_task)(job_id=job.id)


def build_group_dag(group: str, doc_md: str | None = None):
    """The DAG of schedule group `group` ("daily", "frequent", "weekly" or "live")."""
    from airflow.sdk import DAG, chain

    spec = GROUPS[group]
    jobs = jobs_of(group)
    tags = ["fantasy", group, *sorted({job.area for job in jobs})]
    with DAG(
        dag_id=spec.dag_id,
        description=spec.description,
        doc_md=_doc(group, doc_md),
        schedule=_timetable(group),
        start_date=START_DATE.replace(tzinfo=league_timezone()),
        catchup=False,
        max_active_runs=spec.max_active_runs,
        max_active_tasks=8,
        params=_params(group),
        tags=tags,
        deadline=_deadline(group),
    ) as dag:
        tasks = []
        for index, job in enumerate(jobs):
            if group != "daily" or index == 0:
                rule = "all_success"
            elif jobs[index - 1].id == "backup_database":
                rule = "all_done"  # a failed backup alerts but does not stop ingestion
            else:
                rule = "none_failed"  # runs after success or a deselected (skipped) job; stops on failure
            tasks.append(_job_task(job, trigger_rule=rule))
        if group == "daily" and len(tasks) > 1:
            chain(*tasks)
    return dag
