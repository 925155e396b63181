"""Which jobs run in which DAG run: cron gating, manual selection, misfire grace."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fantasy_jobs.errors import InvalidParamsError
from fantasy_jobs.registry import JOBS, get_job
from fantasy_jobs.runtime import RunRequest, decide, run_with_context
from fantasy_jobs.schema import JobExecution

NY = ZoneInfo("America/New_York")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def scheduled(logical: datetime, late: float = 0) -> RunRequest:
    return RunRequest(trigger="scheduled", logical_time=logical, started_at=logical + timedelta(seconds=late))


# 2026-06-01 is a Monday, 2026-06-02 a Tuesday.
N = "process_notifications"  # every 5 minutes
CASES = {
    "2026-06-01T02:00": {"backup_database", "cache_cleanup", "live_game_check", N},
    "2026-06-01T05:00": {"reset_weekly_moves", "cache_cleanup", "live_game_check", N},
    "2026-06-01T05:59": {"calculate_bonuses"},
    "2026-06-02T02:00": {"backup_database", "cache_cleanup", "live_game_check", "update_player_profiles", N},
    "2026-06-02T02:45": {"ingest_standings", N},
    "2026-06-02T04:15": {"data_quality_checks", N},
    "2026-06-02T05:00": {"cache_cleanup", "live_game_check", N},
    "2026-06-02T14:05": {N},
    "2026-06-02T14:30": {"cache_cleanup", N},
    "2026-06-02T14:35": {N},
    "2026-06-02T14:45": {"ingest_standings", N},
    "2026-06-02T15:47": set(),
    "2026-06-03T23:00": {"cache_cleanup", "live_game_check", N},
    "2026-06-07T03:00": {"cleanup_old_data", "cache_cleanup", "live_game_check", N},
    "2026-06-08T05:00": {"reset_weekly_moves", "cache_cleanup", "live_game_check", N},
}


@pytest.mark.parametrize("logical", sorted(CASES))
def test_exactly_the_due_jobs_run(logical):
    when = at(logical)
    # The daily chain only runs in its own DAG's 02:00 runs; its first job carries that cron.
    runs = {job.id for job in JOBS if job.cron and decide(job, scheduled(when)).action == "run"}
    assert runs == CASES[logical]


def test_not_due_reason_names_the_schedule_and_time():
    decision = decide(get_job("cache_cleanup"), scheduled(at("2026-06-02T14:05")))
    assert decision.action == "not_due"
    assert "*/30 * * * *" in decision.reason and "2026-06-02 14:05 EDT" in decision.reason


def test_misfire_past_grace_skips_with_lateness():
    job = get_job("cache_cleanup")  # grace 600 s
    on_time = decide(job, scheduled(at("2026-06-02T14:30"), late=599))
    late = decide(job, scheduled(at("2026-06-02T14:30"), late=4210))
    assert on_time.action == "run"
    assert late.action == "misfire" and late.lateness_s == 4210
    assert "started 4210 s after" in late.reason and "grace of 600 s" in late.reason


def test_manual_runs_are_never_late_and_follow_the_selection():
    job = get_job("cache_cleanup")
    logical = at("2026-06-02T14:07")
    manual = RunRequest(
        trigger="manual",
        logical_time=logical,
        started_at=logical + timedelta(days=2),
        selected=("cache_cleanup",),
        check_misfire=False,
    )
    assert decide(job, manual).action == "run"
    other = RunRequest(
        trigger="manual", logical_time=logical, started_at=logical, selected=("backup_database",)
    )
    with pytest.raises(InvalidParamsError, match="'backup_database', not a job of fantasy_frequent"):
        decide(job, other)


def test_daily_manual_run_defaults_to_all_and_others_need_a_selection():
    logical = at("2026-06-02T10:00")
    daily = RunRequest(
        trigger="manual", logical_time=logical, started_at=logical, selected=("backup_database",)
    )
    assert decide(get_job("backup_database"), daily).action == "run"
    empty = RunRequest(trigger="manual", logical_time=logical, started_at=logical, selected=())
    with pytest.raises(InvalidParamsError, match="must select at least one job"):
        decide(get_job("reset_weekly_moves"), empty)


def test_unknown_job_is_refused_with_the_known_ids():
    logical = at("2026-06-02T10:00")
    req = RunRequest(
        trigger="manual", logical_time=logical, started_at=logical, selected=("cache_cleanup", "nope")
    )
    with pytest.raises(InvalidParamsError) as info:
        decide(get_job("cache_cleanup"), req)
    assert "'nope'" in str(info.value) and "cache_cleanup" in str(info.value)


def airflow_context(job_id: str, logical: datetime, *, run_type: str, start_delay: float, params=None):
    """The parts of an Airflow task context that run_with_context reads."""
    start = logical + timedelta(seconds=start_delay)
    return {
        "dag_run": SimpleNamespace(
            run_type=run_type,
            logical_date=logical,
            run_after=logical,
            start_date=start,
            dag_id=get_job(job_id).dag_id,
            run_id=f"{run_type}__{logical.isoformat()}",
        ),
        "ti": SimpleNamespace(start_date=start, try_number=1),
        "params": params or {"jobs": [], "dry_run": False},
    }


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def runtime_log():
    """Messages of the runtime's logger (Airflow reroutes root logging, so caplog sees nothing)."""
    logger = logging.getLogger("fantasy_jobs.runtime")
    handler = ListHandler()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def test_misfire_in_a_dag_run_writes_a_skipped_row_and_logs_lateness(engine, runtime_log):
    from airflow.sdk.exceptions import AirflowSkipException

    context = airflow_context("cache_cleanup", at("2026-06-02T14:30"), run_type="scheduled", start_delay=900)
    with pytest.raises(AirflowSkipException, match="started 900 s after"):
        run_with_context("cache_cleanup", context, engine=engine)
    assert any("misfire: started 900 s after" in message for message in runtime_log)
    with engine.connect() as conn:
        rows = conn.execute(
            select(JobExecution.status, JobExecution.error_message, JobExecution.details)
        ).all()
    assert len(rows) == 1 and rows[0].status == "skipped" and rows[0].details["lateness_s"] == 900


def test_not_due_job_writes_nothing(engine):
    from airflow.sdk.exceptions import AirflowSkipException

    context = airflow_context("cache_cleanup", at("2026-06-02T14:35"), run_type="scheduled", start_delay=1)
    with pytest.raises(AirflowSkipException, match="not due"):
        run_with_context("cache_cleanup", context, engine=engine)
    with engine.connect() as conn:
        assert conn.execute(select(JobExecution.id)).all() == []


def test_late_manual_run_runs_and_is_tracked_as_manual(engine):
    context = airflow_context(
        "cache_cleanup",
        at("2026-06-02T14:35"),
        run_type="manual",
        start_delay=86400,
        params={"jobs": ["cache_cleanup"], "dry_run": False},
    )
    result = run_with_context("cache_cleanup", context, engine=engine)
    assert result["job_id"] == "cache_cleanup"
    with engine.connect() as conn:
        row = conn.execute(select(JobExecution)).one()
    assert (row.status, row.trigger, row.try_number) == ("completed", "manual", 1)
