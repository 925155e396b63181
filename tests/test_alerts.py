"""Slack messages: failure and deadline text, delivery to the webhook, logged when not configured."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from fantasy_jobs import alerts
from fantasy_jobs.errors import InvalidParamsError

DEADLINE_CONTEXT = {
    "dag_run": {
        "dag_id": "fantasy_daily",
        "dag_run_id": "scheduled__2026-06-02T06:00:00+00:00",
        "state": "running",
        "queued_at": "2026-06-02T06:00:03Z",
    },
    "deadline": {"id": "0195", "deadline_time": "2026-06-02T10:00:00Z"},
}


def failure_context(error: Exception) -> dict:
    ti = SimpleNamespace(
        dag_id="fantasy_frequent",
        task_id="cache_cleanup",
        run_id="manual__1",
        try_number=3,
        max_tries=2,
        log_url="http://127.0.0.1:8080/dags/fantasy_frequent/runs/manual__1",
    )
    return {"ti": ti, "exception": error}


def test_failure_message_names_dag_job_run_try_error_and_log():
    text = alerts.failure_message(failure_context(RuntimeError("boom")))
    assert "`cache_cleanup` in `fantasy_frequent`" in text
    assert "`manual__1`" in text and "*Try:* 3 of 3" in text
    assert "RuntimeError: boom" in text and "http://127.0.0.1:8080/dags/fantasy_frequent" in text


def test_deadline_message_names_the_run_and_the_deadline():
    text = alerts.deadline_message(DEADLINE_CONTEXT, "daily")
    assert "Deadline missed" in text and "`fantasy_daily`" in text
    assert "scheduled__2026-06-02T06:00:00+00:00" in text and "2026-06-02T10:00:00Z" in text


def test_deadline_callback_posts_to_the_webhook(slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    asyncio.run(alerts.deadline_missed_alert(group="daily", context=DEADLINE_CONTEXT))
    assert len(slack.requests) == 1
    assert "Deadline missed" in slack.requests[0].json()["text"]


def test_unreachable_webhook_is_logged_not_raised(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": "http://127.0.0.1:9/x"}),
    )
    assert alerts.send_slack("hello") is False


def test_without_connection_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SLACK_ALERTS", raising=False)
    assert alerts.send_slack("hello") is False


def test_bad_params_do_not_page_anyone(slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    alerts.task_failure_alert(failure_context(InvalidParamsError("must select at least one job")))
    assert slack.requests == []
    alerts.task_failure_alert(failure_context(RuntimeError("real trouble")))
    assert len(slack.requests) == 1
