"""Fault suite of the notification queue (issue 13): a database lost mid-run, SIGKILL mid-batch, a webhook
that hangs, a second worker once the lease has passed.

Each test counts, at the webhook stand-in, the deliveries per Idempotency-Key (at most 1, plus at most the
deliveries unconfirmed when the fault struck: `notification_concurrency`), and in the table the
notifications lost (0: every row ends sent, or back in the queue as pending/failed, never stuck).
Settings are small (leases of 2 s) so the suite is fast; no test asserts a wall time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from fantasy_jobs.db import make_engine
from fantasy_jobs.schema import Notification, create_all, utcnow
from tests.conftest import VENV_BIN, airflow_env
from tests.support.http_stub import HttpStub
from tests.support.jobs import run_job

pytestmark = pytest.mark.faults

LEASE = 2.0
QUEUE = {"lease_seconds": LEASE, "time_budget_seconds": 1, "request_timeout_seconds": 1, "batch_size": 10}


@pytest.fixture
def db(postgres):
    name = postgres.create_database("notify_faults")
    engine = make_engine(postgres.url(name))
    create_all(engine)
    engine.name_in_server = name
    yield engine
    engine.dispose()


@pytest.fixture
def webhook(monkeypatch):
    stub = HttpStub().start()
    monkeypatch.setenv("AIRFLOW_CONN_FANTASY_APP_WEBHOOK", hook_connection(stub))
    yield stub
    stub.stop()


def hook_connection(stub: HttpStub) -> str:
    return json.dumps({"conn_type": "http", "host": f"{stub.url}/hooks/notify"})


def settings_env(**values) -> dict[str, str]:
    return {f"FANTASY_NOTIFICATION_{k.upper()}": str(v) for k, v in {**QUEUE, **values}.items()}


def use_settings(monkeypatch, **values) -> None:
    for key, value in settings_env(**values).items():
        monkeypatch.setenv(key, value)


def worker(postgres, db, webhook: HttpStub, **values) -> subprocess.Popen:
    """A real `fantasy-jobs run process_notifications` process."""
    env = airflow_env(
        AIRFLOW_CONN_FANTASY_DB=postgres.airflow_uri(db.name_in_server),
        AIRFLOW_CONN_FANTASY_APP_WEBHOOK=hook_connection(webhook),
        FANTASY_SKIP_VARIABLES="1",
        **settings_env(**values),
    )
    command = [str(VENV_BIN / "fantasy-jobs"), "run", "process_notifications"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def add_webhooks(engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Notification),
            [{"user_id": 7, "kind": "webhook", "payload": {"n": i}, "status": "pending"} for i in range(n)],
        )


def statuses(engine) -> dict[str, str]:
    """Status per notification id (as the Idempotency-Key string)."""
    with engine.connect() as conn:
        return {str(i): s for i, s in conn.execute(select(Notification.id, Notification.status))}


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def wait_out_the_lease(engine) -> None:
    """Sleep until every claim still held is older than the lease (on the wall clock, as workers see it)."""
    with engine.connect() as conn:
        newest = conn.scalar(select(func.max(Notification.claimed_at)))
    if newest is not None:
        time.sleep(max(0.0, (newest + timedelta(seconds=LEASE + 0.05) - utcnow()).total_seconds()))


def drain(engine, runs: int = 10) -> None:
    """Later runs of the queue, after the lease, until nothing is due."""
    wait_out_the_lease(engine)
    for _ in range(runs):
        if run_job(engine, "process_notifications", utcnow()).rows_affected == 0:
            return
    raise AssertionError("the queue did not drain")


def test_sigkill_mid_batch_resends_at_most_the_unconfirmed_deliveries(postgres, db, webhook, monkeypatch):
    concurrency = 4
    add_webhooks(db, 40)
    webhook.delay = 0.05
    proc = worker(postgres, db, webhook, concurrency=concurrency, batch_size=40)  # one claim of all 40
    wait_for(lambda: len(webhook.requests) >= 12 or proc.poll() is not None)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = webhook.per_key()
    after_kill = statuses(db)
    unconfirmed = {key for key in before if after_kill[key] != "sent"}
    assert len(unconfirmed) <= concurrency  # each outcome was committed as its delivery ended
    assert set(after_kill.values()) <= {"sent", "sending", "pending"}

    use_settings(monkeypatch, concurrency=concurrency, batch_size=40)
    drain(db)
    per_key = webhook.per_key()
    assert set(statuses(db).values()) == {"sent"} and len(per_key) == 40  # none lost
    twice = {key for key, n in per_key.items() if n > 1}
    assert max(per_key.values()) <= 2 and twice <= unconfirmed  # only what was in flight at the kill


def test_database_lost_mid_run_stops_delivery_at_once(postgres, db, webhook, monkeypatch):
    concurrency = 2
    add_webhooks(db, 40)
    name = db.name_in_server
    admin_url = postgres.url("postgres").replace("+psycopg", "")
    lost = threading.Event()

    def database_goes_away(request) -> None:
        if len(webhook.requests) == 5 and not lost.is_set():  # during the 5th POST
            lost.set()
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
                )

    webhook.on_request = database_goes_away
    webhook.delay = 0.02
    use_settings(monkeypatch, concurrency=concurrency)
    try:
        with pytest.raises(DBAPIError):
            run_job(db, "process_notifications", utcnow())
        posted = len(webhook.requests)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    # No POST once the outcomes could not be recorded: only what was already unconfirmed then.
    assert 5 <= posted <= 4 + concurrency
    first = webhook.per_key()
    recorded = statuses(db)
    assert set(recorded.values()) <= {"sent", "sending", "pending"}
    unconfirmed = {key for key in first if recorded[key] != "sent"}
    assert 1 <= len(unconfirmed) <= concurrency

    drain(db)
    per_key = webhook.per_key()
    assert set(statuses(db).values()) == {"sent"} and len(per_key) == 40  # none lost
    assert {key for key, n in per_key.items() if n > 1} <= unconfirmed and max(per_key.values()) <= 2


def test_hanging_webhook_stops_at_the_budget_and_is_not_sent_twice_after_the_lease(db, webhook, monkeypatch):
    webhook.hang = True  # never answers: every request runs into its timeout
    add_webhooks(db, 6)
    use_settings(monkeypatch, concurrency=2, time_budget_seconds=1, request_timeout_seconds=0.5)
    now = utcnow()
    first = run_job(db, "process_notifications", now)
    tried = webhook.per_key()
    # Each request lasts its 0.5 s timeout; none starts after the 1 s budget: at most 2 rounds of 2.
    assert len(tried) <= 4 and set(tried.values()) <= {1}
    assert first.details == {"sent": 0, "failed": len(tried), "dead": 0, "released": 6 - len(tried)}

    time.sleep(LEASE)  # a second worker once the first run's claims have expired, at the same run time
    run_job(db, "process_notifications", now)
    per_key = webhook.per_key()
    assert set(per_key.values()) == {1}  # nobody was sent twice
    with db.connect() as conn:
        rows = conn.execute(select(Notification.id, Notification.status, Notification.attempts)).all()
    assert {(r.status, r.attempts) for r in rows if str(r.id) in per_key} == {("failed", 1)}
    assert {(r.status, r.attempts) for r in rows if str(r.id) not in per_key} <= {("pending", 0)}


def test_a_second_worker_after_the_lease_sends_nothing_twice(postgres, db, webhook, monkeypatch):
    """The first worker's batch needs 2x the lease; a second one starts once the lease has passed."""
    add_webhooks(db, 20)
    webhook.delay = 0.3  # 20 rows, 2 at a time: 3 s of work in one claimed batch of 20, the lease is 2 s
    settings = {"concurrency": 2, "batch_size": 20}
    first = worker(postgres, db, webhook, **settings)
    wait_for(lambda: webhook.requests or first.poll() is not None)
    claimed_at = utcnow()
    time.sleep(max(0.0, (claimed_at + timedelta(seconds=LEASE + 0.1) - utcnow()).total_seconds()))
    use_settings(monkeypatch, **settings)
    second = run_job(db, "process_notifications", utcnow())  # the second worker, in this process
    output = first.communicate(timeout=60)[0]
    assert first.returncode == 0, output
    assert second.details["sent"] > 0  # it found rows the first worker returned to the queue
    assert set(webhook.per_key().values()) == {1}  # at most once, across both workers
    assert set(statuses(db).values()) <= {"sent", "pending"}  # nothing stuck in `sending`

    webhook.delay = 0.0
    drain(db)
    assert Counter(statuses(db).values()) == {"sent": 20} and set(webhook.per_key().values()) == {1}


def test_a_worker_whose_clock_runs_15_s_ahead_takes_no_live_claim(postgres, db, webhook, monkeypatch):
    """The lease is measured on the database's clock: a second worker whose own clock runs 15 s
    ahead (more than the lease) finds the first worker's claims still live, so nothing is sent
    twice; before, it took them as expired and re-sent what the first was delivering."""
    from fantasy_jobs.jobs import notifications

    add_webhooks(db, 20)
    webhook.delay = 0.3  # 20 rows, 2 at a time: 3 s of deliveries in one claimed batch
    settings = {"concurrency": 2, "batch_size": 20, "lease_seconds": 10, "time_budget_seconds": 5}
    first = worker(postgres, db, webhook, **settings)
    wait_for(lambda: webhook.requests or first.poll() is not None)
    use_settings(monkeypatch, **settings)
    ahead = timedelta(seconds=15)
    monkeypatch.setattr(notifications, "utcnow", lambda: utcnow() + ahead)
    second = run_job(db, "process_notifications", utcnow() + ahead)
    output = first.communicate(timeout=60)[0]
    assert first.returncode == 0, output
    assert second.details["sent"] == 0
    assert Counter(statuses(db).values()) == {"sent": 20} and set(webhook.per_key().values()) == {1}
