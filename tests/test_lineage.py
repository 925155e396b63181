"""Asset event extras from run_with_context: the rows a run changed, a dry run says so, a skip sets none.
(The recorded event in the metadata database: tests/dags/test_dags_cli.py::test_weekly_resets_moves.)"""

from __future__ import annotations

import pytest
from airflow.sdk.execution_time.context import OutletEventAccessors

from fantasy_jobs.registry import table_asset
from fantasy_jobs.runtime import run_with_context
from tests.test_gating import airflow_context, at


def test_a_dry_run_puts_its_rows_and_dry_run_on_each_written_tables_event(engine):
    context = airflow_context(
        "cache_cleanup",
        at("2026-06-02T14:35"),
        run_type="manual",
        start_delay=1,
        params={"jobs": ["cache_cleanup"], "dry_run": True},
    )
    context["outlet_events"] = events = OutletEventAccessors()
    result = run_with_context("cache_cleanup", context, engine=engine)
    extra = events[table_asset("cache_entries")].extra
    assert extra["dry_run"] is True and extra["rows_affected"] == result["rows_affected"]
    assert (extra["job_id"], extra["table"]) == ("cache_cleanup", "cache_entries")
    assert len(events) == 1


def test_a_skipped_job_sets_no_event_extra(engine):
    from airflow.sdk.exceptions import AirflowSkipException

    context = airflow_context("cache_cleanup", at("2026-06-02T14:35"), run_type="scheduled", start_delay=1)
    context["outlet_events"] = events = OutletEventAccessors()
    with pytest.raises(AirflowSkipException):
        run_with_context("cache_cleanup", context, engine=engine)
    assert len(events) == 0  # and Airflow records no asset event for a skipped task
