"""process_notifications: once per claim under concurrency, backoff to dead, lease expiry, budget, pool, claim plan."""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select, text

from fantasy_jobs.errors import ConfigError
from fantasy_jobs.jobs.notifications import Outcome, claim_statement, queue_settings, record
from fantasy_jobs.schema import JobExecution, Notification, utcnow
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
    assert result.details == {"sent": 2, "failed": 0, "dead": 0, "released": 0}
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
    wall = utcnow()  # leases are measured on the wall clock (they are about live workers), not the run's time
    add(
        engine,
        [
            {
                "kind": "webhook",
                "status": "sending",
                "claimed_at": wall - timedelta(minutes=10),
            },  # worker died
            {
                "kind": "webhook",
                "status": "sending",
                "claimed_at": wall - timedelta(minutes=1),
            },  # still leased
        ],
    )
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


@contextlib.contextmanager
def job_log():
    """The job's log lines, from a handler on its own logger (Airflow may reconfigure propagation)."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger("fantasy_jobs.jobs.process_notifications")
    logger.addHandler(handler)
    log = SimpleNamespace(lines=lines, text="")
    try:
        yield log
    finally:
        logger.removeHandler(handler)
        log.text = "\n".join(lines)


def queue_env(monkeypatch, **values) -> None:
    """Queue settings for an in-process run, e.g. lease_seconds=2 -> FANTASY_NOTIFICATION_LEASE_SECONDS."""
    for name, value in values.items():
        monkeypatch.setenv(f"FANTASY_NOTIFICATION_{name.upper()}", str(value))


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"time_budget_seconds": 250, "request_timeout_seconds": 60}, "exceeds notification_lease_seconds"),
        ({"concurrency": 0}, "notification_concurrency .* must be between 1 and 1024"),
        ({"time_budget_seconds": 595, "lease_seconds": 900}, "execution timeout"),
    ],
)
def test_settings_that_let_a_run_outlive_its_claims_are_refused(
    tmp_path, webhook, monkeypatch, values, named
):
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.schema import create_all

    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")  # the check is before any SQL: one dialect
    create_all(engine)
    add(engine, [{"kind": "webhook", "status": "pending"}])
    queue_env(monkeypatch, **values)
    with pytest.raises(ConfigError, match=named):
        run_job(engine, "process_notifications", NOW)
    assert webhook.requests == [] and states(engine) == [(1, "pending", 0)]  # nothing claimed
    engine.dispose()


def test_webhooks_go_out_concurrently_within_the_pool(engine, webhook, monkeypatch):
    queue_env(monkeypatch, concurrency=4, batch_size=10)
    webhook.delay = 0.05
    add(
        engine,
        [{"kind": "webhook", "status": "pending"}] * 30 + [{"kind": "in_app", "status": "pending"}] * 5,
    )
    with job_log() as log:
        result = run_job(engine, "process_notifications", NOW)
    assert result.details == {"sent": 35, "failed": 0, "dead": 0, "released": 0}
    assert 1 < webhook.max_in_flight <= 4
    assert sorted(webhook.per_key().values()) == [1] * 30
    assert {s for _, s, _ in states(engine)} == {"sent"}
    assert "35 sent, 0 failed, 0 dead, 0 returned unsent so far" in log.text  # progress
    assert "not recorded" not in log.text  # rowcounts add up


def test_the_budget_is_checked_before_every_delivery(engine, webhook, monkeypatch):
    """A slow webhook: deliveries stop at the budget, mid-batch; the rest go back to the queue untouched."""
    queue_env(monkeypatch, concurrency=1, time_budget_seconds=0.5, request_timeout_seconds=1, lease_seconds=2)
    webhook.delay = 0.2  # each delivery takes at least 0.2 s: at most 3 can start within 0.5 s
    add(engine, [{"kind": "webhook", "status": "pending"}] * 10)
    result = run_job(engine, "process_notifications", NOW)
    posted = webhook.per_key()
    assert len(posted) <= 3 and set(posted.values()) <= {1}
    assert result.details == {"sent": len(posted), "failed": 0, "dead": 0, "released": 10 - len(posted)}
    with engine.connect() as conn:
        rows = conn.execute(select(Notification.id, Notification.status, Notification.claimed_at)).all()
    assert {(str(r.id) in posted, r.status, r.claimed_at) for r in rows} == {
        (True, "sent", None),
        (False, "pending", None),
    }


def test_dead_notifications_send_one_slack_message_per_run(engine, webhook, slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    queue_env(monkeypatch, max_attempts=1)
    webhook.status_for = lambda r: 500 if r.headers["Idempotency-Key"] in ("2", "4") else None
    add(engine, [{"kind": "webhook", "status": "pending"}] * 5)  # two bad ones beside three good ones
    result = run_job(engine, "process_notifications", NOW)
    assert result.details == {"sent": 3, "failed": 0, "dead": 2, "released": 0}
    assert [s for _, s, _ in states(engine)] == ["sent", "dead", "sent", "dead", "sent"]
    (message,) = [r.json()["text"] for r in slack.requests]
    assert "2 notification(s) went dead" in message and "`process_notifications`" in message
    assert "notification 2: HTTP 500" in message and "notification 4: HTTP 500" in message
    assert webhook.url not in message  # the webhook's address stays out of Slack
    run_job(engine, "process_notifications", NOW + timedelta(days=1))  # nothing new went dead
    assert len(slack.requests) == 1


def test_a_claim_uses_the_live_queue_index_not_the_sent_history(pg_engine):
    """30 days of sent rows beside a short queue: the claim walks ix_notifications_queue, no Seq Scan."""
    with pg_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO notifications (user_id, kind, payload, status, attempts, sent_at, created_at) "
                "SELECT 1, 'webhook', '{}', CASE WHEN g % 500 = 0 THEN 'pending' ELSE 'sent' END, 0, now(), now() "
                "FROM generate_series(1, 50000) g"
            )
        )
        conn.execute(text("ANALYZE notifications"))
    claim = claim_statement("postgresql").element  # the text of the claim (typed columns aside)
    with pg_engine.begin() as conn:
        plan = "\n".join(
            conn.execute(
                text(f"EXPLAIN {claim.text}").bindparams(*claim._bindparams.values()),
                {"now": NOW, "lease_seconds": 300.0, "batch": 100, "after": 0},
            ).scalars()
        )
    assert "Index Scan using ix_notifications_queue" in plan, plan
    assert "Seq Scan" not in plan and "LockRows" in plan, plan  # FOR UPDATE SKIP LOCKED kept


def test_an_expired_claim_never_overwrites_the_new_owner(engine):
    """A worker whose lease ran out records its outcome too late: the row now belongs to another claim."""
    old_claim, new_claim = utcnow() - timedelta(minutes=10), utcnow()
    add(engine, [{"kind": "webhook", "status": "sending", "claimed_at": new_claim}])
    with engine.connect() as conn:
        row = conn.execute(select(Notification)).one()
    cfg = queue_settings()
    with engine.begin() as conn:
        assert record(conn, [Outcome(row, "sent")], old_claim, NOW, cfg) == ([], 1)
        assert record(conn, [Outcome(row, "retry", "HTTP 500")], old_claim, NOW, cfg)[1] == 1
    with engine.connect() as conn:
        after = conn.execute(select(Notification)).one()
    assert (after.status, after.claimed_at, after.attempts) == ("sending", new_claim, 0)
    with engine.begin() as conn:  # the owner's own outcome is written
        assert record(conn, [Outcome(row, "sent")], new_claim, NOW, cfg) == ([], 0)
    assert states(engine) == [(1, "sent", 0)]


def test_in_app_rows_are_marked_sent_set_based_in_batches(engine, webhook, monkeypatch, caplog):
    monkeypatch.setenv("FANTASY_NOTIFICATION_IN_APP_BATCH_SIZE", "7")
    add(
        engine,
        [{"kind": "in_app", "status": "pending"}] * 20
        + [{"kind": "in_app", "status": "failed", "attempts": 2, "next_attempt_at": NOW}]
        + [{"kind": "in_app", "status": "pending", "next_attempt_at": NOW + timedelta(hours=1)}]  # not due
        + [{"kind": "webhook", "status": "pending"}],
    )
    with caplog.at_level(logging.INFO):
        result = run_job(engine, "process_notifications", NOW)
    assert result.details["sent"] == 22
    assert [s for _, s, _ in states(engine)] == ["sent"] * 21 + ["pending", "sent"]
    assert len(webhook.requests) == 1  # only the webhook row is POSTed
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("in-app:")]
    assert progress == [
        "in-app: 7 marked sent so far",
        "in-app: 14 marked sent so far",
        "in-app: 21 marked sent so far",
    ]
