"""The DAGs' deadline reference, evaluated the way Airflow core does it: in the caller's session,
against a migrated Airflow metadata database (SQLite), the Variable from the metastore or the
environment. The real scheduler and triggerer path is in tests/cluster/test_celery_cluster.py."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from fantasy_jobs.deadlines import FantasyDeadline, deadline_variable

QUEUED = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
LOGICAL = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # 02:00 in New York


@pytest.fixture
def session(airflow_home):
    """An Airflow ORM session on the metadata database, rolled back afterwards."""
    from airflow.utils.session import create_session

    with create_session() as session:
        yield session
        session.rollback()


def add_run(
    session,
    run_id: str,
    logical_date: datetime | None,
    run_after: datetime = QUEUED,
    queued_at: datetime = QUEUED,
):
    from airflow.models import DagRun
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    run = DagRun(
        dag_id="fantasy_test",
        run_id=run_id,
        run_type=DagRunType.MANUAL if logical_date is None else DagRunType.SCHEDULED,
        logical_date=logical_date,
        run_after=run_after,
        state=DagRunState.QUEUED,
    )
    session.add(run)
    session.flush()
    run.queued_at = queued_at
    session.flush()
    return run


def set_variable(session, group: str, value: str) -> None:
    from airflow.models import Variable

    Variable.set(deadline_variable(group), value, session=session)
    session.flush()


def evaluate(reference: FantasyDeadline, session, run_id: str) -> datetime | None:
    """What the scheduler does when it creates a run: decode the stored reference, evaluate it."""
    from airflow.serialization.decoders import decode_deadline_reference
    from airflow.serialization.encoders import encode_deadline_reference

    stored = decode_deadline_reference(encode_deadline_reference(reference))
    return stored.evaluate_with(session=session, interval=timedelta(0), dag_id="fantasy_test", run_id=run_id)


WEEKLY = FantasyDeadline(group="weekly", anchor="queued_at", default_seconds=3 * 3600)
DAILY = FantasyDeadline(group="daily", anchor="logical_date", default_seconds=4 * 3600)


def test_the_stored_reference_is_found_through_the_plugin():
    from airflow.serialization.decoders import decode_deadline_reference
    from airflow.serialization.encoders import encode_deadline_reference

    stored = encode_deadline_reference(WEEKLY)
    assert stored["__class_path"] == "fantasy_jobs.deadlines.FantasyDeadline"
    assert decode_deadline_reference(stored).inner_ref == WEEKLY


def test_without_the_variable_the_default_interval_applies(session):
    add_run(session, "q1", logical_date=None)
    assert evaluate(WEEKLY, session, "q1") == QUEUED + timedelta(hours=3)


def test_a_metastore_variable_shortens_it_and_leaves_the_callers_session_intact(session):
    run = add_run(session, "q2", logical_date=None)
    set_variable(session, "weekly", "5")
    assert evaluate(WEEKLY, session, "q2") == QUEUED + timedelta(seconds=5)
    # Airflow 3.3.2's VariableInterval closes this session here (the scheduler then crashes).
    assert run in session and session.is_active
    assert evaluate(DAILY, session, "q2") != QUEUED + timedelta(seconds=5), "one group's Variable only"


def test_an_environment_variable_wins_like_in_airflows_lookup_order(session, monkeypatch):
    add_run(session, "q3", logical_date=None)
    set_variable(session, "weekly", "5")
    monkeypatch.setenv("AIRFLOW_VAR_FANTASY_DEADLINE_WEEKLY_SECONDS", "60")
    assert evaluate(WEEKLY, session, "q3") == QUEUED + timedelta(seconds=60)


@pytest.mark.parametrize("value", ["soon", "0", "-30", "1.5"])
def test_a_malformed_variable_falls_back_to_the_default_with_a_warning(session, caplog, value):
    add_run(session, "q4", logical_date=None)
    set_variable(session, "weekly", value)
    with caplog.at_level(logging.WARNING, logger="fantasy_jobs.deadlines"):
        assert evaluate(WEEKLY, session, "q4") == QUEUED + timedelta(hours=3)
    assert "fantasy_deadline_weekly_seconds" in caplog.text and "default deadline" in caplog.text


def test_scheduled_runs_anchor_on_the_logical_date_manual_runs_on_their_trigger_time(session):
    add_run(session, "scheduled", logical_date=LOGICAL, run_after=LOGICAL, queued_at=LOGICAL)
    add_run(session, "manual", logical_date=None, run_after=QUEUED)
    assert evaluate(DAILY, session, "scheduled") == LOGICAL + timedelta(hours=4)  # 06:00 league time
    assert evaluate(DAILY, session, "manual") == QUEUED + timedelta(hours=4)


def test_a_run_created_late_counts_from_when_it_was_queued(session):
    """The catch-up run of 02:00 created at a first start in the afternoon is not born overdue."""
    afternoon = LOGICAL + timedelta(hours=9)
    add_run(session, "catch-up", logical_date=LOGICAL, run_after=LOGICAL, queued_at=afternoon)
    deadline = evaluate(DAILY, session, "catch-up")
    assert deadline == afternoon + timedelta(hours=4) and deadline > afternoon


def test_the_deadline_in_words():
    from fantasy_jobs.deadlines import deadline_in_words

    assert deadline_in_words("daily").startswith("finish by 06:00 league time")
    assert deadline_in_words("frequent") == "within 15 min of being queued"
    assert deadline_in_words("weekly") == "within 3 h of being queued"


def test_an_unknown_run_has_no_deadline(session):
    assert evaluate(WEEKLY, session, "no-such-run") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"anchor": "start_date"}, "anchor must be one of"), ({"default_seconds": 0}, "must be positive")],
)
def test_bad_reference_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FantasyDeadline(group="weekly", **kwargs)
