"""Slack notifications through the `slack_alerts` connection: task failure and missed deadline.

Sending an alert must never crash anything: when the connection is absent the message is logged
instead, and a failed send is logged with its reason. The webhook URL is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

SLACK_CONN_ID = "slack_alerts"


def send_slack(text: str) -> bool:
    """Post `text` to the `slack_alerts` webhook; True when sent, False when logged instead."""
    try:
        from airflow.sdk import BaseHook

        BaseHook.get_connection(SLACK_CONN_ID)
    except Exception:
        log.warning(
            "Slack alert not sent: connection %r is not configured. Alert was:\n%s", SLACK_CONN_ID, text
        )
        return False
    try:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        SlackWebhookHook(slack_webhook_conn_id=SLACK_CONN_ID).send_text(text)
    except Exception as exc:  # never let an alert break a task or the triggerer
        log.error("Slack alert could not be sent (%s). Alert was:\n%s", type(exc).__name__, text)
        return False
    log.info("Slack alert sent")
    return True


def failure_message(context: dict[str, Any]) -> str:
    """One message for a task's final failure: DAG, job, run, try, error, log link."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    error = context.get("exception")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", "?")
    job_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", None) or getattr(dag_run, "run_id", "?")
    try_number = getattr(ti, "try_number", "?")
    max_tries = getattr(ti, "max_tries", None)
    log_url = getattr(ti, "log_url", None) or ""
    tries = f"{try_number}" + (f" of {max_tries + 1}" if isinstance(max_tries, int) else "")
    error_text = f"{type(error).__name__}: {error}" if error else "unknown error"
    lines = [
        f":red_circle: *Job failed*: `{job_id}` in `{dag_id}`",
        f"*Run:* `{run_id}`  *Try:* {tries}",
        f"*Error:* {error_text[:1500]}",
    ]
    if log_url:
        lines.append(f"*Log:* {log_url}")
    return "\n".join(lines)


def task_failure_alert(context: dict[str, Any]) -> None:
    """`on_failure_callback` of every job task: runs once, after the last try failed."""
    from fantasy_jobs.errors import InvalidParamsError

    error = context.get("exception")
    if isinstance(error, InvalidParamsError):
        # An operator's bad params in a manual run: the UI shows it at once; not an incident.
        log.info("No Slack alert for a manual run with invalid params: %s", error)
        return
    if getattr(error, "alerted", False):  # the job already sent its own, more specific message
        log.info("No second Slack alert: the job sent one for %s", type(error).__name__)
        return
    try:
        send_slack(failure_message(context))
    except Exception:  # building the message must not fail the callback either
        log.exception("failure alert could not be built")


def deadline_message(context: dict[str, Any] | None, group: str) -> str:
    """One message for a DAG run that missed its deadline."""
    dag_run = (context or {}).get("dag_run") or {}
    deadline = (context or {}).get("deadline") or {}
    dag_id = dag_run.get("dag_id", "?")
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id", "?")
    lines = [
        f":hourglass: *Deadline missed*: `{dag_id}` ({group} jobs)",
        f"*Run:* `{run_id}`  *State:* {dag_run.get('state', '?')}",
        f"*Queued at:* {dag_run.get('queued_at', '?')}  *Deadline:* {deadline.get('deadline_time', '?')}",
    ]
    return "\n".join(lines)


async def deadline_missed_alert(group: str = "?", context: dict[str, Any] | None = None, **_: Any) -> None:
    """The DAGs' deadline callback (runs in the triggerer): one Slack message per missed deadline."""
    await asyncio.to_thread(send_slack, deadline_message(context, group))


def dead_notifications_message(
    job_id: str, dead: int, max_attempts: int, last_errors: list[tuple[int, str]]
) -> str:
    """One message per run of the notification queue that marked notifications `dead`."""
    escape = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
    lines = [
        f":skull: *{dead} notification(s) went dead* in `{job_id}` after {max_attempts} failed attempts each;"
        " nobody will receive them unless they are re-queued.",
        "*Last errors:*",
        *(f"- notification {nid}: {(error or '?')[:300].translate(escape)}" for nid, error in last_errors),
    ]
    return "\n".join(lines)
