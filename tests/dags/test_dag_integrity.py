"""Every DAG parses, carries the registry's settings, and parsing does no I/O."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from datetime import timedelta

import pytest

from fantasy_jobs.alerts import task_failure_alert
from fantasy_jobs.deadlines import FantasyDeadline
from fantasy_jobs.registry import GROUPS, JOBS, JOBS_BY_ID, jobs_of, table_asset
from tests.conftest import REPO, airflow_env

DAG_IDS = {spec.dag_id for spec in GROUPS.values()}


def declared_pools() -> set[str]:
    return set(json.loads((REPO / "include/fantasy_jobs/pools.json").read_text())) | {"default_pool"}


def all_tasks(dagbag):
    return [task for dag in dagbag.dags.values() for task in dag.tasks]


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_exactly_the_four_group_dags(dagbag):
    assert (
        set(dagbag.dag_ids)
        == DAG_IDS
        == {"fantasy_daily", "fantasy_frequent", "fantasy_weekly", "fantasy_live"}
    )


def test_the_live_group_runs_on_the_watchers_asset(dagbag):
    """`fantasy_live` has no clock: it runs on the Asset its AssetWatcher (the live watcher, a
    BaseEventTrigger in the triggerer) updates, one run at a time."""
    from airflow.triggers.base import BaseEventTrigger

    from fantasy_jobs.espn.live_watch import LiveBoxScoreTrigger
    from fantasy_jobs.registry import LIVE_ASSET_NAME

    dag = dagbag.dags["fantasy_live"]
    (asset,) = dag.timetable.asset_condition.objects
    assert asset.name == LIVE_ASSET_NAME and dag.max_active_runs == 1
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, LiveBoxScoreTrigger) and isinstance(watcher.trigger, BaseEventTrigger)
    assert watcher.trigger.serialize() == (
        "fantasy_jobs.espn.live_watch.LiveBoxScoreTrigger",
        {"base_url": None},
    )


def test_every_job_is_a_task_of_its_group_dag(dagbag):
    for job in JOBS:
        assert job.id in dagbag.dags[job.dag_id].task_ids
    assert sum(len(d.tasks) for d in dagbag.dags.values()) == len(JOBS)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_dag_settings(dagbag, group):
    spec = GROUPS[group]
    dag = dagbag.dags[spec.dag_id]
    assert {"fantasy", group} <= set(dag.tags)
    assert {job.area for job in jobs_of(group)} <= set(dag.tags)
    assert dag.catchup is False
    assert dag.max_active_runs == spec.max_active_runs
    assert "# " + spec.dag_id in dag.doc_md and all(f"`{job.id}`" in dag.doc_md for job in jobs_of(group))
    assert str(dag.timezone) == "America/New_York"
    assert dag.deadline, "a deadline alert is set outside `airflow dags test`"
    (alert,) = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
    assert alert.reference == FantasyDeadline(
        group=group, anchor=spec.deadline_from, default_seconds=int(spec.deadline.total_seconds())
    )
    assert alert.interval == timedelta(0)
    assert alert.name and f"fantasy_deadline_{group}_seconds" in alert.name and len(alert.name) <= 250
    assert dag.params["jobs"] == GROUPS[group].default_selection([j.id for j in jobs_of(group)])
    if group != "daily":  # "Trigger" with the defaults never resets moves or deletes data
        assert dag.params["jobs"] in (["cache_cleanup"], ["verify_backup_restore"], ["live_scoring"])
    assert dag.params.get_param("jobs").schema["minItems"] == 1
    assert dag.params.get_param("jobs").schema["items"]["enum"] == [j.id for j in jobs_of(group)]
    assert dag.params["dry_run"] is False


def test_every_task_has_retries_callback_timeout_pool_and_docs(dagbag):
    pools = declared_pools()
    for task in all_tasks(dagbag):
        job = JOBS_BY_ID[task.task_id]
        assert task.retries == job.retries > 0, task.task_id
        assert task.retry_exponential_backoff == 2.0
        assert task.max_retry_delay == job.max_retry_delay
        assert task_failure_alert in task.on_failure_callback
        assert task.execution_timeout == job.timeout
        assert task.pool == job.pool and task.pool in pools, f"{task.task_id}: pool {task.pool} not declared"
        assert task.max_active_tis_per_dag == 1
        assert task.doc_md and job.name in task.doc_md
        rule = task.retry_policy.rules[0]
        assert rule.serialize()["exception"] == "fantasy_jobs.errors.PermanentJobError"
        assert rule.serialize()["action"] == "fail"


def test_every_task_declares_the_app_tables_its_job_writes_as_assets(dagbag):
    from fantasy_jobs.schema import Base

    for task in all_tasks(dagbag):
        job = JOBS_BY_ID[task.task_id]
        assert [(a.name, a.uri, a.group) for a in task.outlets] == [
            (f"fantasy_db.{t}", f"x-fantasy-db://fantasy_db/{t}", "fantasy_db") for t in job.writes
        ], task.task_id
        assert set(job.writes) <= set(Base.metadata.tables), (
            f"{job.id} writes a table schema.py does not know"
        )
        assert len(set(job.writes)) == len(job.writes)
    assert not JOBS_BY_ID["cleanup_airflow_metadata"].writes  # Airflow's own tables are no app asset


def test_asset_uris_are_accepted_as_written_without_warnings():
    from fantasy_jobs.schema import Base

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for table in Base.metadata.tables:
            asset = table_asset(table)
            assert asset.uri == f"x-fantasy-db://fantasy_db/{table}" and asset.name == f"fantasy_db.{table}"


def test_registry_pools_are_declared():
    undeclared = {job.pool for job in JOBS} - declared_pools()
    assert not undeclared


def test_daily_chain_trigger_rules(dagbag):
    dag = dagbag.dags["fantasy_daily"]
    order = [job.id for job in jobs_of("daily")]
    assert order[0] == "backup_database"
    for upstream, downstream in zip(order, order[1:], strict=False):
        task = dag.get_task(downstream)
        assert upstream in task.upstream_task_ids
        assert task.trigger_rule == ("all_done" if upstream == "backup_database" else "none_failed")


PARSE_PROBE = r"""
import sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

queries = []
event.listen(Engine, "before_cursor_execute", lambda *args: queries.append(args[2]))

from airflow.sdk import BaseHook, Variable

def refuse(*args, **kwargs):
    raise AssertionError(f"lookup at parse time: {args} {kwargs}")

BaseHook.get_connection = classmethod(refuse)
Variable.get = staticmethod(refuse)

from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
heavy = sorted(m for m in sys.modules if m.startswith("fantasy_jobs.") and m.split(".")[1] in
               ("schema", "db", "jobs", "demo", "cli"))
print("QUERIES", len(queries))
print("HEAVY", ",".join(heavy))
print("DAGS", len(bag.dags))
"""


def test_parsing_makes_no_query_no_lookup_no_heavy_import():
    done = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(REPO / "dags")],
        env=airflow_env(AIRFLOW_CONN_FANTASY_DB="postgresql://nobody:secret@127.0.0.1:1/none"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = dict(
        line.partition(" ")[::2]
        for line in done.stdout.splitlines()
        if line.startswith(("QUERIES", "HEAVY", "DAGS"))
    )
    assert report == {"QUERIES": "0", "HEAVY": "", "DAGS": "4"}
