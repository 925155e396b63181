"""Settings of the jobs: one home, with defaults, read at run time.

A setting `NAME` is looked up, in order, in the environment variable `FANTASY_NAME`, the Airflow
Variable `fantasy_name` (only inside a running task or CLI with Airflow configured) and its default.
Nothing here is read at DAG parse time except `timezone`, which the schedules need.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fantasy_jobs.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    kind: type
    help: str
    low: float | None = field(default=None, kw_only=True)  # inclusive bounds of a number, if any
    high: float | None = field(default=None, kw_only=True)
    floor_reason: str = field(
        default="", kw_only=True
    )  # why `low` is what it is (said when a value is below it)

    def bounds(self) -> str:
        if self.low is not None and self.high is not None:
            return f"between {self.low:g} and {self.high:g}"
        return f"at least {self.low:g}" if self.low is not None else f"at most {self.high:g}"


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("timezone", "America/New_York", str, "League time zone: crons, fantasy weeks, windows."),
        Setting("backup_dir", "", str, "Backup folder or object-storage URL; default $AIRFLOW_HOME/backups."),
        Setting("backup_keep_daily", 7, int, "How many of the newest backups to keep.", low=1, high=365),
        Setting(
            "backup_keep_weekly",
            4,
            int,
            "How many weekly backups (first of each week) to keep.",
            low=0,
            high=520,
        ),
        Setting(
            "pg_bin_dir", "", str, "Folder with pg_dump/pg_restore; default: PATH, then the newest installed."
        ),
        Setting(
            "cache_batch_size",
            5000,
            int,
            "Ids in the first delete batch of cache_cleanup (then sized by time).",
            low=1,
            high=1000000,
        ),
        Setting(
            "espn_min_interval",
            0.25,
            float,
            "Seconds between two ESPN requests (rate limit).",
            low=0,
            high=60,
        ),
        Setting(
            "espn_timeout",
            20.0,
            float,
            "Seconds an ESPN request may take in all (connect, headers, body) before it is cut and retried.",
            low=1,
            high=300,
        ),
        Setting(
            "espn_max_attempts",
            4,
            int,
            "Tries per ESPN request (429, 5xx, timeouts are retried).",
            low=1,
            high=10,
        ),
        Setting(
            "espn_backoff",
            1.0,
            float,
            "First wait before retrying an ESPN request, doubled each time.",
            low=0,
            high=300,
        ),
        Setting(
            "espn_max_body_mb",
            8,
            int,
            "Largest ESPN answer body (MB, decoded) read; a longer one is cut and retried (real ones: < 1 MB).",
            low=1,
            high=256,
        ),
        Setting(
            "ingest_days_back", 3, int, "Days of scoreboards ingest_player_stats looks back.", low=1, high=30
        ),
        Setting(
            "box_score_give_up_days",
            3,
            int,
            "Days after a final game's first failed box-score read before it is marked no_box_score.",
            low=1,
            high=365,
        ),
        Setting(
            "stat_correction_days",
            2,
            int,
            "Box scores of games that tipped off this recently are read again.",
            low=0,
            high=365,
        ),
        Setting(
            "box_score_owed_hours",
            4,
            int,
            "A game stored scheduled or in progress this long after tip-off is owed a box score "
            "(read, and counted toward giving up, until final, postponed, canceled or rescheduled).",
            low=3,
            high=168,
        ),
        Setting(
            "season_audit_min_interval",
            1.0,
            float,
            "Seconds between two ESPN requests of season_audit (gentler than espn_min_interval).",
            low=0,
            high=60,
        ),
        Setting(
            "quality_full_hours",
            24,
            int,
            "data_quality_checks checks the whole database when none did within this many hours; "
            "otherwise what changed since its last run.",
            low=1,
            high=168,
        ),
        Setting(
            "quality_scope_overlap_seconds",
            300,
            int,
            "data_quality_checks between whole passes also looks again at rows changed this long before "
            "its last run started (change times come from several processes' clocks).",
            low=0,
            high=3600,
        ),
        Setting(
            "analytics_full_days",
            7,
            int,
            "league_analytics analyses every league (calculate_analytics every player) when no such run "
            "completed within this many days; otherwise the leagues, trades and players that changed (PostgreSQL).",
            low=1,
            high=31,
        ),
        Setting(
            "scoring_full_days",
            7,
            int,
            "calculate_fantasy_scores recomputes everything when no full run completed within this many "
            "days (the safety net under the change log); otherwise it scores what changed.",
            low=1,
            high=31,
        ),
        Setting(
            "cleanup_batch_size",
            5000,
            int,
            "Ids in the first delete batch of cleanup_old_data (each its own transaction; then sized by time).",
            low=1,
            high=1000000,
        ),
        Setting(
            "delete_batch_seconds",
            0.5,
            float,
            "Target duration of one delete batch (cleanup_old_data, cache_cleanup): locks held about this long.",
            low=0.0001,
            high=60,
        ),
        Setting(
            "job_work_mem_mb",
            256,
            int,
            "PostgreSQL work_mem (MB) of the set-based jobs' transactions (scoring, analytics, data quality): "
            "their sorts and hashes stay in memory instead of spilling; 0 keeps the server's.",
            low=0,
            high=65536,
        ),
        Setting(
            "notification_retention_days",
            30,
            int,
            "Sent and dead notifications older than this are deleted.",
            low=1,
            high=3650,
        ),
        Setting(
            "league_archive_days",
            365,
            int,
            "Completed leagues older than this are archived.",
            low=30,
            high=36500,
        ),
        Setting(
            "ingest_log_retention_days",
            90,
            int,
            "ingest_logs rows older than this are deleted.",
            low=1,
            high=3650,
        ),
        Setting(
            "job_history_retention_days",
            180,
            int,
            "job_executions and data_quality_results older than this go.",
            low=1,
            high=3650,
            floor_reason='the floor: a day; 0 is not "off", it would delete the rows of runs still going',
        ),
        Setting(
            "job_heartbeat_seconds",
            30.0,
            float,
            "A running job refreshes its job_executions.heartbeat_at this often.",
            low=0.05,
            high=3600,
        ),
        Setting(
            "job_stale_seconds",
            300.0,
            float,
            "A running row without a heartbeat for this long is closed as abandoned (> 2 heartbeats).",
            low=5,
            high=86400,
        ),
        Setting("redis_key_prefix", "fantasy:", str, "The app's Redis key prefix that cache_cleanup scans."),
        Setting(
            "redis_idle_seconds",
            86400,
            int,
            "A Redis key without TTL idle longer than this is a leak.",
            low=1,
            high=31536000,
        ),
        Setting(
            "redis_scan_count",
            1000,
            int,
            "COUNT hint of each SCAN and keys per pipeline.",
            low=1,
            high=100000,
        ),
        Setting(
            "redis_invalidation_channel",
            "fantasy:cache:invalidate",
            str,
            "Channel cache_cleanup publishes on.",
        ),
        Setting("notification_batch_size", 100, int, "Notifications claimed per batch.", low=1, high=10000),
        Setting(
            "notification_in_app_batch_size",
            5000,
            int,
            "In-app notifications marked sent per statement (they need no claim: nothing is sent).",
            low=1,
            high=100000,
        ),
        Setting(
            "notification_lease_seconds",
            300.0,
            float,
            "A claim older than this returns the row to the queue.",
            low=1,
            high=86400,
        ),
        Setting(
            "notification_max_attempts",
            5,
            int,
            "Failed deliveries before a notification is dead.",
            low=1,
            high=100,
        ),
        Setting(
            "notification_backoff_seconds",
            60,
            int,
            "First retry delay of a failed delivery, doubled each time.",
            low=1,
            high=86400,
        ),
        Setting(
            "notification_time_budget_seconds",
            240.0,
            float,
            "process_notifications starts no delivery after this long (budget + request timeout <= lease).",
            low=0.1,
            high=86400,
        ),
        Setting(
            "notification_request_timeout_seconds",
            10.0,
            float,
            "Webhook request timeout (each of connect, send, answer); never more than what is left of the lease.",
            low=0.1,
            high=300,
        ),
        Setting(
            "notification_concurrency",
            64,
            int,
            "Webhook deliveries unconfirmed at once: requests in flight plus outcomes not yet committed "
            "(one keep-alive connection each).",
            low=1,
            high=1024,
        ),
        Setting(
            "airflow_retention_days",
            30,
            int,
            "cleanup_airflow_metadata: Airflow metadata rows and task log files older than this go.",
            low=7,
            high=3650,
            floor_reason='the floor: a week; 0 is not "off", it would delete live runs and the components\' own rows',
        ),
        Setting(
            "airflow_cleanup_tables",
            "dag_run,task_instance,task_instance_history,task_reschedule,xcom,log,job,asset_event,import_error",
            str,
            "Metadata tables `airflow db clean` cleans (comma-separated; their dependent tables come along).",
        ),
        Setting(
            "airflow_cleanup_batch_size",
            10000,
            int,
            "Rows per `airflow db clean` delete batch (0: one).",
            low=0,
            high=1000000,
        ),
        Setting(
            "live_poll_seconds",
            15.0,
            float,
            "The live watcher (triggerer): seconds between two looks at ESPN while a game is live or tips off soon.",
            low=2,
            high=120,
        ),
        Setting(
            "live_idle_seconds",
            300.0,
            float,
            "The live watcher between games: at most this long between two scoreboard requests.",
            low=30,
            high=3600,
        ),
        Setting(
            "live_soon_minutes",
            30,
            int,
            "The live watcher polls at the live rate from this many minutes before a tip-off.",
            low=0,
            high=240,
        ),
    )
}


def _from_variable(name: str) -> str | None:
    """An Airflow Variable `fantasy_<name>`, or None when Airflow has none or is not reachable."""
    if os.environ.get("FANTASY_SKIP_VARIABLES") == "1":
        return None
    try:
        from airflow.sdk import Variable

        value = Variable.get(f"fantasy_{name}", default=None)
    except Exception:  # outside a task, or no metadata database: the default applies
        return None
    return None if value is None else str(value)


def get(name: str, *, variables: bool = True) -> Any:
    """The current value of setting `name`, converted to its type; a bad value is a ConfigError.
    `variables=False`: the environment and the default only (the triggerer's event loop reads no
    Airflow Variable)."""
    try:
        setting = SETTINGS[name]
    except KeyError:
        raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(SETTINGS))}") from None
    raw = os.environ.get(f"FANTASY_{name.upper()}")
    source = f"environment variable FANTASY_{name.upper()}"
    if raw is None and variables:
        raw = _from_variable(name)
        source = f"Airflow Variable fantasy_{name}"
    if raw is None or raw == "":
        return setting.default
    try:
        value = setting.kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"setting {name} from {source} must be {setting.kind.__name__}, got {raw!r}"
        ) from None
    if setting.kind is float and not math.isfinite(value):  # float("nan") and float("inf") parse
        raise ConfigError(f"setting {name} from {source} must be a finite number, got {raw!r}")
    if setting.kind in (int, float) and value < 0:
        raise ConfigError(f"setting {name} from {source} must not be negative, got {raw!r}")
    if (setting.low is not None and value < setting.low) or (
        setting.high is not None and value > setting.high
    ):
        why = f" ({setting.floor_reason})" if setting.floor_reason and value < setting.low else ""
        raise ConfigError(f"setting {name} from {source} must be {setting.bounds()}, got {raw!r}{why}")
    return value


def league_timezone() -> ZoneInfo:
    """The league time zone from FANTASY_TIMEZONE (environment only: schedules need it at parse time)."""
    name = os.environ.get("FANTASY_TIMEZONE") or SETTINGS["timezone"].default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"FANTASY_TIMEZONE={name!r} is not a known IANA time zone") from None
