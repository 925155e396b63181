"""process_notifications: exactly-once delivery under concurrency, backoff to dead, lease expiry."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from fantasy_jobs.schema import JobExecution, Notification
from tests.conftest import VENV_BIN, airflow_env
from tests.support.http_stub import HttpStub
from tests.support.jobs import count, run_job

NOW = datetime(2026, 6, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def webhook(monkeypatch):
    stub = HttpStub().start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_FANTASY_APP_WEBHOOK",
        json.dumps({"conn_type": "http", "host": f"{stub.url}/hooks/notify"}),
    )
    yield stub
    stub.stop()


def add(engine, rows: list[dict]) -> None:
    base = {
        "user_id": 7,
        "payload": {"title": "t"},
        "created_at": NOW - timedelta(hours=1),
        "next_attempt_at": None,
        "claimed_at": None,
        "sent_at": None,
    }  # every row the same keys: executemany takes the first row's
    with engine.begin() as conn:
        conn.execute(insert(Notification), [base | r for r in rows])


def states(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(Notification.id, Notification.status, Notification.attempts).order_by(Notification.id)
            )
        ]


def test_in_app_and_webhook_are_delivered_once(engine, webhook):
    add(
        engine,
        [
            {"kind": "in_app", "status": "pending"},
            {"kind": "webhook", "status": "pending"},
            {
                "kind": "webhook",
                "status": "pending",
                "next_attempt_at": NOW + timedelta(minutes=5),
            },  # not due yet
            {"kind": "webhook", "status": "sent", "sent_at": NOW - timedelta(days=1)},
        ],
    )
    result = run_job(engine, "process_notifications", NOW)
    assert result.details == {"sent": 2, "failed": 0, "dead": 0}
    assert [s for _, s, _ in states(engine)] == ["sent", "sent", "pending", "sent"]
    (request,) = webhook.requests
    body = request.json()
    assert request.path == "/hooks/notify" and request.headers["Idempotency-Key"] == str(body["id"]) == "2"
    assert body["payload"] == {"title": "t"} and body["kind"] == "webhook"
    assert run_job(engine, "process_notifications", NOW).rows_affected == 0 and len(webhook.requests) == 1


def test_failing_webhook_backs_off_then_is_dead(engine, webhook):
    webhook.status = 500
    add(engine, [{"kind": "webhook", "status": "pending"}])
    run_job(engine, "process_notifications", NOW)
    with engine.connect() as conn:
        row = conn.execute(select(Notification)).one()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, NOW + timedelta(seconds=60))
    assert "HTTP 500" in row.last_error
    run_job(
        engine, "process_notifications", NOW + timedelta(seconds=30)
    )  # before the backoff ends: untouched
    assert states(engine)[0][1:] == ("failed", 1)
    at = NOW
    for attempt, wait in ((2, 60), (3, 120), (4, 240), (5, 480)):
        at = at + timedelta(seconds=wait)
        run_job(engine, "process_notifications", at)
        assert states(engine)[0][2] == attempt
    assert states(engine)[0][1] == "dead" and len(webhook.requests) == 5
    run_job(engine, "process_notifications", at + timedelta(days=1))
    assert len(webhook.requests) == 5  # dead stays dead


def test_expired_lease_returns_the_row(engine, webhook):
    add(
        engine,
        [
            {
                "kind": "webhook",
                "status": "sending",
                "claimed_at": NOW - timedelta(minutes=10),
            },  # its worker died
            {"kind": "webhook", "status": "sending", "claimed_at": NOW - timedelta(minutes=1)},
        ],
    )  # still leased
    run_job(engine, "process_notifications", NOW)
    assert [s for _, s, _ in states(engine)] == ["sent", "sending"]
    assert [r.headers["Idempotency-Key"] for r in webhook.requests] == ["1"]


def test_dry_run_counts_due_rows(engine, webhook):
    add(
        engine,
        [
            {"kind": "webhook", "status": "pending"},
            {"kind": "in_app", "status": "failed", "next_attempt_at": NOW},
        ],
    )
    assert run_job(engine, "process_notifications", NOW, dry_run=True).rows_affected == 2
    assert webhook.requests == [] and [s for _, s, _ in states(engine)] == ["pending", "failed"]


def test_two_parallel_workers_send_each_of_1000_exactly_once(postgres, webhook):
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.schema import create_all

    name = postgres.create_database("queue")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    add(engine, [{"kind": "webhook", "status": "pending"}] * 1000)
    webhook.delay = 0.004  # slow enough that the two workers overlap
    env = airflow_env(
        AIRFLOW_CONN_FANTASY_DB=postgres.airflow_uri(name),
        FANTASY_NOTIFICATION_BATCH_SIZE="25",
        AIRFLOW_CONN_FANTASY_APP_WEBHOOK=json.dumps(
            {"conn_type": "http", "host": f"{webhook.url}/hooks/notify"}
        ),
    )
    command = [str(VENV_BIN / "fantasy-jobs"), "run", "process_notifications"]
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    keys = [r.headers["Idempotency-Key"] for r in webhook.requests]
    assert len(keys) == 1000 and len(set(keys)) == 1000
    assert count(engine, Notification, Notification.status == "sent") == 1000
    with engine.connect() as conn:
        shares = conn.execute(select(JobExecution.rows_affected)).scalars().all()
    assert len(shares) == 2 and sum(shares) == 1000 and min(shares) > 0  # both workers did part of it
    engine.dispose()
