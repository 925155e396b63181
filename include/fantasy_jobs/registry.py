"""THE job table: one entry per job. DAGs, docs, the CLI and the admin page are built from it.

Cheap to import (DAG files import it at parse time): plain dataclasses, no database, no Airflow.
A job is registered here only once it really works; later areas add their entries to `JOBS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

Group = Literal["daily", "frequent", "weekly", "live"]

DEFAULT_POOL = "default_pool"


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    group: Group
    area: str
    entrypoint: str  # "module:function", imported only when the job runs
    summary: str
    pool: str = DEFAULT_POOL
    cron: str | None = None  # None: a daily-chain job that runs after the one above it
    nominal: str = ""  # a daily-chain job's nominal time, for docs ("02:30")
    grace: int = 3600  # misfire grace, seconds
    expected: timedelta = timedelta(minutes=5)  # longer is logged and marked long_running
    timeout: timedelta = timedelta(minutes=30)
    retries: int = 3
    retry_delay: timedelta = timedelta(minutes=1)
    max_retry_delay: timedelta = timedelta(minutes=15)
    supports_dry_run: bool = True
    exclusive: bool = True  # take a PostgreSQL advisory lock: never two runs at once (queue workers opt out)
    doc: str = ""
    writes: tuple[str, ...] = ()  # app tables it changes: the task's outlets (Airflow Assets, lineage)

    @property
    def dag_id(self) -> str:
        return GROUPS[self.group].dag_id

    @property
    def schedule_text(self) -> str:
        """The job's schedule in words (league time)."""
        if self.group == "live":
            return "when a live game's box score changes at ESPN (event-driven: the live watcher in the triggerer)"
        if self.cron is None:
            return f"after the job above it in the daily chain (nominal {self.nominal})"
        return describe_cron(self.cron)

    @property
    def doc_md(self) -> str:
        lines = [
            f"### {self.name} (`{self.id}`)",
            "",
            self.summary,
            "",
            f"- **Schedule:** {self.schedule_text}" + (f" (`{self.cron}`)" if self.cron else ""),
            f"- **Pool:** `{self.pool}`; misfire grace {self.grace} s; expected under {_minutes(self.expected)}",
            f"- **Retries:** {self.retries}, exponential from {_minutes(self.retry_delay)}, capped at "
            f"{_minutes(self.max_retry_delay)}; timeout {_minutes(self.timeout)}",
            f"- **Dry run:** {'supported' if self.supports_dry_run else 'not supported'}",
            f"- **Writes (assets):** {', '.join(f'`{t}`' for t in self.writes) or 'no app table'}",
        ]
        if self.doc:
            lines += ["", self.doc.strip()]
        return "\n".join(lines)


@dataclass(frozen=True)
class GroupSpec:
    dag_id: str
    description: str
    cron: str | None  # None: one cron per job (MultipleCronTriggerTimetable), or event-driven
    max_active_runs: int
    deadline: timedelta
    deadline_from: Literal["logical_date", "queued_at"]
    jobs_required: bool  # a manual run must select at least one job
    tags: tuple[str, ...] = field(default=())
    # the trigger form's preselected jobs (None: the whole group); a harmless job where the group
    # holds ones that change data, so that "Trigger" with the defaults never resets or deletes anything
    manual_default: tuple[str, ...] | None = None
    # scheduled on the live watcher's Asset (AssetWatcher + LiveBoxScoreTrigger), not on a clock
    event_driven: bool = False

    def default_selection(self, group_job_ids: list[str]) -> list[str]:
        return list(self.manual_default) if self.manual_default else list(group_job_ids)


GROUPS: dict[str, GroupSpec] = {
    "daily": GroupSpec(
        dag_id="fantasy_daily",
        description="The nightly chain: backup, ingestion, scoring and analytics, in order.",
        cron="0 2 * * *",
        max_active_runs=1,
        deadline=timedelta(hours=4),  # 02:00 + 4 h: finished by 06:00
        deadline_from="logical_date",
        jobs_required=False,
    ),
    "frequent": GroupSpec(
        dag_id="fantasy_frequent",
        description="Every 5 minutes; each job runs when the run's time matches its own cron.",
        cron="*/5 * * * *",
        max_active_runs=3,
        deadline=timedelta(minutes=15),
        deadline_from="queued_at",
        jobs_required=True,
        manual_default=("cache_cleanup",),
    ),
    "weekly": GroupSpec(
        dag_id="fantasy_weekly",
        description="Weekly jobs, each at its own time.",
        cron=None,
        max_active_runs=1,
        deadline=timedelta(hours=3),
        deadline_from="queued_at",
        jobs_required=True,
        manual_default=("verify_backup_restore",),
    ),
    "live": GroupSpec(
        dag_id="fantasy_live",
        description="Event-driven: one run each time a live game's box score changes at ESPN.",
        cron=None,
        # one tick at a time: changes seen while a tick runs wait for it and start one follow-up run
        max_active_runs=1,
        deadline=timedelta(minutes=5),
        deadline_from="queued_at",
        jobs_required=True,
        manual_default=("live_scoring",),
        event_driven=True,
    ),
}


LIVE_ASSET_NAME = "espn.wnba_live_box_scores"
"""The Asset the live watcher updates when a live game's box score changes; `fantasy_live` runs on it."""

JOBS: tuple[Job, ...] = (
    Job(
        id="backup_database",
        writes=("backups",),
        name="Database backup",
        group="daily",
        area="maintenance",
        entrypoint="fantasy_jobs.jobs.backup:backup_database",
        summary="pg_dump (custom format) or SQLite online backup, verified, with 7 daily + 4 weekly kept.",
        pool="fantasy_db_heavy",
        cron="0 2 * * *",
        grace=3600,
        expected=timedelta(minutes=10),
        timeout=timedelta(hours=1),
        retries=2,
        retry_delay=timedelta(minutes=2),
        doc="A failed backup alerts but does not stop the ingestion below it in the chain. "
        "A dry run reports the file it would write and the files retention would delete.",
    ),
    Job(
        id="ingest_teams",
        writes=("teams", "ingest_logs"),
        name="Teams ingestion",
        group="daily",
        area="ingest",
        entrypoint="fantasy_jobs.jobs.ingest:ingest_teams",
        summary="WNBA franchises from ESPN (All-Star and placeholder teams left out), conference from the standings; upsert.",
        pool="wnba_api",
        nominal="02:30",
        expected=timedelta(minutes=2),
        timeout=timedelta(minutes=20),
        doc="Runs after the backup, even when the backup failed.",
    ),
    Job(
        id="ingest_player_stats",
        writes=(
            "teams",
            "games",
            "players",
            "player_game_stats",
            "stat_corrections",
            "fantasy_points",
            "ingest_logs",
        ),
        name="Box score ingestion",
        group="daily",
        area="ingest",
        entrypoint="fantasy_jobs.jobs.ingest:ingest_player_stats",
        summary="Box scores of every game that ended since the last final one (scoreboards of the last "
        "3 days, setting `ingest_days_back`, plus earlier games still not final); games marked final with scores.",
        pool="wnba_api",
        nominal="03:00",
        expected=timedelta(minutes=10),
        timeout=timedelta(hours=1),
        doc="Players not yet known are created from the box score. A box score whose player points do not "
        "add up to the team's score is refused as partial.",
    ),
    Job(
        id="calculate_fantasy_scores",
        writes=(
            "games",
            "scoring_profiles",
            "league_profiles",
            "fantasy_points",
            "team_week_scores",
            "scoring_changes",
        ),
        name="Fantasy scoring",
        group="daily",
        area="scoring",
        entrypoint="fantasy_jobs.jobs.scoring:calculate_fantasy_scores",
        summary="Fantasy points once per scoring profile and team week totals from the starters at each tip-off, "
        "for what changed since the last run (the scoring_changes log); everything with `full`, and at least "
        "once every `scoring_full_days` (7).",
        pool="fantasy_db_heavy",
        nominal="03:30",
        expected=timedelta(minutes=15),
        timeout=timedelta(hours=1),
        doc="Leagues with the same weights share a profile. A league whose scoring_settings are malformed is "
        "skipped with an error naming the league and the key (logged and sent to Slack); the others are scored. "
        "Database triggers log every change that can move points (stat lines, tip-offs, roster slots, league "
        "settings and status); a run rescores those lines and recomputes those team weeks only, and a re-run "
        "with nothing new reads an empty log and writes nothing. Trigger with `full` to recompute everything.",
    ),
    Job(
        id="calculate_analytics",
        writes=("player_consistency",),
        name="Player consistency",
        group="daily",
        area="analytics",
        entrypoint="fantasy_jobs.jobs.analytics:calculate_analytics",
        summary="Per player and season: games, mean and standard deviation of fantasy points (default weights), "
        "coefficient of variation and a 0-100 consistency score; under 3 games is not rated.",
        pool="fantasy_db_heavy",
        nominal="04:00",
        expected=timedelta(minutes=5),
        timeout=timedelta(minutes=30),
    ),
    Job(
        id="league_analytics",
        writes=("league_scoring_trends", "trade_impacts", "power_rankings"),
        name="League analytics",
        group="daily",
        area="analytics",
        entrypoint="fantasy_jobs.jobs.analytics:league_analytics",
        summary="Per league and week: scoring trends (mean, median, spread, change), trade impact of every "
        "accepted trade, and power rankings with the previous rank.",
        pool="fantasy_db_heavy",
        nominal="04:30",
        grace=3600,
        expected=timedelta(minutes=5),
        timeout=timedelta(minutes=30),
        doc="Power ranking: 100 x (0.50 season points / best + 0.35 last three weeks / best + 0.15 consistency), "
        "consistency = 1 - coefficient of variation of weekly points.",
    ),
    Job(
        id="cache_cleanup",
        writes=("cache_entries",),
        name="Cache cleanup",
        group="frequent",
        area="maintenance",
        entrypoint="fantasy_jobs.jobs.cache:cache_cleanup",
        summary="Deletes expired `cache_entries` rows in batches and logs cache statistics.",
        cron="*/30 * * * *",
        grace=600,
        expected=timedelta(minutes=2),
        timeout=timedelta(minutes=10),
        retries=2,
        retry_delay=timedelta(seconds=30),
        max_retry_delay=timedelta(minutes=5),
    ),
    Job(
        id="process_notifications",
        writes=("notifications",),
        name="Notification delivery",
        group="frequent",
        area="notifications",
        entrypoint="fantasy_jobs.jobs.notifications:process_notifications",
        summary="Delivers due notifications (in-app, or the app's webhook with an idempotency key); failures back "
        "off exponentially and are dead after 5 attempts.",
        cron="*/5 * * * *",
        grace=60,
        expected=timedelta(minutes=4),
        timeout=timedelta(minutes=10),
        retries=1,
        retry_delay=timedelta(seconds=30),
        max_retry_delay=timedelta(minutes=2),
        exclusive=False,
        doc="Workers may run side by side: rows are claimed with FOR UPDATE SKIP LOCKED, so no row is sent twice. "
        "The webhook is the `fantasy_app_webhook` connection.",
    ),
    Job(
        id="live_game_check",
        writes=(
            "teams",
            "games",
            "players",
            "player_game_stats",
            "scoring_profiles",
            "league_profiles",
            "fantasy_points",
            "team_week_scores",
            "stat_corrections",
            "ingest_logs",
        ),
        name="Live game check",
        group="frequent",
        area="ingest",
        entrypoint="fantasy_jobs.jobs.ingest:live_game_check",
        summary="While games are live or tip off within the hour: their live box scores (not final) and live fantasy points; otherwise skips.",
        pool="wnba_api",
        cron="0 * * * *",
        grace=3600,
        expected=timedelta(minutes=3),
        timeout=timedelta(minutes=20),
        retries=1,
    ),
    Job(
        id="data_quality_checks",
        writes=("data_quality_results",),
        name="Data quality checks",
        group="frequent",
        area="quality",
        entrypoint="fantasy_jobs.jobs.quality:data_quality_checks",
        summary="Player stats, roster slots, scores and drafts checked; results stored in data_quality_results, "
        "findings sent to Slack in one message.",
        pool="fantasy_db_heavy",
        cron="15 0,4,8,12,16,20 * * *",
        grace=3600,
        expected=timedelta(minutes=5),
        timeout=timedelta(minutes=30),
        retries=1,
        doc="Findings do not fail the job (no retries for them); a check that cannot run is recorded as `error`, "
        "the others still report, and the job fails at the end.",
    ),
    Job(
        id="ingest_standings",
        writes=("standings", "ingest_logs"),
        name="Standings ingestion",
        group="frequent",
        area="ingest",
        entrypoint="fantasy_jobs.jobs.ingest:ingest_standings",
        summary="This season's standings from ESPN, during the regular season and playoffs; upsert.",
        pool="wnba_api",
        cron="45 2,8,14,20 * * *",
        grace=3600,
        expected=timedelta(minutes=1),
        timeout=timedelta(minutes=15),
    ),
    Job(
        id="reset_weekly_moves",
        writes=("leagues", "fantasy_teams"),
        name="Weekly moves reset",
        group="weekly",
        area="fantasy",
        entrypoint="fantasy_jobs.jobs.weekly:reset_weekly_moves",
        summary="Starts a new fantasy week: every active league's teams get their weekly moves back, once per week.",
        cron="0 5 * * 1",
        grace=3600,
        expected=timedelta(minutes=1),
        timeout=timedelta(minutes=15),
    ),
    Job(
        id="calculate_bonuses",
        writes=("weekly_bonuses", "team_week_scores"),
        name="Weekly bonuses",
        group="weekly",
        area="scoring",
        entrypoint="fantasy_jobs.jobs.scoring:calculate_bonuses",
        summary="Bonuses of the fantasy week that just ended (weekly high score, all starters played), "
        "once per league and week, added to the team's bonus points.",
        pool="fantasy_db_heavy",
        cron="59 5 * * 1",
        grace=3600,
        expected=timedelta(minutes=5),
        timeout=timedelta(minutes=30),
    ),
    Job(
        id="cleanup_old_data",
        writes=(
            "notifications",
            "leagues",
            "roster_slots",
            "team_week_scores",
            "weekly_bonuses",
            "power_rankings",
            "league_scoring_trends",
            "ingest_logs",
            "job_executions",
            "data_quality_results",
        ),
        name="Old data cleanup",
        group="weekly",
        area="maintenance",
        entrypoint="fantasy_jobs.jobs.cleanup:cleanup_old_data",
        summary="Old sent/dead notifications, ingest logs and job history deleted in batches; completed leagues "
        "over a year archived with their rows; orphaned roster slots removed; then VACUUM.",
        pool="fantasy_db_heavy",
        cron="0 3 * * 0",
        grace=7200,
        expected=timedelta(minutes=20),
        timeout=timedelta(hours=2),
        retries=2,
        retry_delay=timedelta(minutes=5),
    ),
    Job(
        id="update_player_profiles",
        writes=("players", "ingest_logs"),
        name="Player profiles update",
        group="weekly",
        area="ingest",
        entrypoint="fantasy_jobs.jobs.ingest:update_player_profiles",
        summary="Rosters and bios of every franchise from ESPN; players on no roster keep their row with the team cleared.",
        pool="wnba_api",
        cron="0 2 * * 2",
        grace=7200,
        expected=timedelta(minutes=5),
        timeout=timedelta(minutes=45),
    ),
    Job(
        id="season_audit",
        writes=(
            "teams",
            "games",
            "players",
            "player_game_stats",
            "stat_corrections",
            "fantasy_points",
            "ingest_logs",
        ),
        name="Season audit",
        group="weekly",
        area="ingest",
        entrypoint="fantasy_jobs.jobs.season_audit:season_audit",
        summary="Every final game of the season read again from ESPN (monthly scoreboards, then each summary, "
        "a request a second): any difference in lines, teams or scores is stored and recorded in stat_corrections, "
        "with one Slack summary when something changed.",
        pool="wnba_api",
        cron="30 2 * * 2",
        grace=7200,
        expected=timedelta(minutes=15),
        timeout=timedelta(hours=1),
        retries=2,
        retry_delay=timedelta(minutes=5),
        doc="Runs after `update_player_profiles`. The nightly reads a box score again only within "
        "`stat_correction_days` of tip-off; this catches ESPN's later corrections (a line credited to another "
        "player, a summary of the wrong game fixed, home and away, scores) through the nightly's own path: the "
        "game's lines are replaced, removed lines lose their fantasy points, and the next `calculate_fantasy_scores` "
        "totals the team weeks again. Bonuses already awarded stand. A game that fails keeps its stored box "
        "score and is named when the job fails. A dry run applies the changes in a transaction it rolls back and "
        "reports them.",
    ),
    Job(
        id="verify_backup_restore",
        writes=("backups",),
        name="Backup restore check",
        group="weekly",
        area="maintenance",
        entrypoint="fantasy_jobs.jobs.restore:verify_backup_restore",
        summary="Restores the newest backup into a scratch database (PostgreSQL: a temporary database on the same "
        "server; SQLite: a copy in a temporary folder), compares every table's row count with the manifest "
        "written at backup time, and records the outcome on the backup's row.",
        pool="fantasy_db_heavy",
        cron="30 3 * * 6",
        grace=7200,
        expected=timedelta(minutes=15),
        timeout=timedelta(hours=1),
        retries=1,
        retry_delay=timedelta(minutes=5),
        doc="A failed restore or a row count that differs from the manifest fails the job with one Slack message. "
        "The scratch database or folder is removed afterwards, also on failure. A dry run names the backup it "
        "would restore.",
    ),
    Job(
        id="cleanup_airflow_metadata",
        name="Airflow metadata cleanup",
        group="weekly",
        area="maintenance",
        entrypoint="fantasy_jobs.jobs.airflow_cleanup:cleanup_airflow_metadata",
        summary="Airflow's own housekeeping: `airflow db clean` of task instances, DAG runs, logs and the other "
        "run tables older than `airflow_retention_days` (30), keeping each DAG's newest scheduled run; then task "
        "log files of the same age in the local log folder.",
        cron="0 1 * * 0",
        grace=7200,
        expected=timedelta(minutes=10),
        timeout=timedelta(hours=1),
        retries=1,
        retry_delay=timedelta(minutes=5),
        doc="Needs the `airflow_db` connection (the metadata database) on the workers: Airflow 3 gives task code "
        "no metadata database access of its own. A dry run reports the counts only.",
    ),
    Job(
        id="live_scoring",
        writes=(
            "teams",
            "games",
            "players",
            "player_game_stats",
            "scoring_profiles",
            "league_profiles",
            "fantasy_points",
            "team_week_scores",
            "stat_corrections",
            "ingest_logs",
        ),
        name="Live scoring",
        group="live",
        area="live",
        entrypoint="fantasy_jobs.jobs.live:live_scoring",
        summary="One tick of live scoring: the box scores of the games the live watcher saw change (not final), "
        "then the points of just the lines that changed and the week totals of the teams that started those "
        "players, in one transaction.",
        pool="wnba_api",
        expected=timedelta(seconds=30),
        timeout=timedelta(minutes=5),
        retries=1,
        retry_delay=timedelta(seconds=10),
        max_retry_delay=timedelta(seconds=30),
        doc="Runs when the live watcher (a `LiveBoxScoreTrigger` in the triggerer, the `AssetWatcher` of the Asset "
        f"`{LIVE_ASSET_NAME}`) fires: it looks at ESPN's scoreboard every `live_poll_seconds` (15) while a game is "
        "live or tips off within `live_soon_minutes` (30), and at most every `live_idle_seconds` (300) otherwise. "
        "Changes seen while a tick runs start one follow-up run after it (max one active run). A manual run "
        "reads every game live now. The hourly `live_game_check` stays as the safety net, and the nightly chain "
        "makes every line and point final.",
    ),
)

JOBS_BY_ID: dict[str, Job] = {job.id: job for job in JOBS}

# Lineage: every app table is one Airflow Asset, named here only. A custom URI scheme takes the `x-`
# prefix: Airflow leaves such URIs as written (no provider normalizer claims them, no warning), and
# `postgres://` would need a real host, port, database and schema.
ASSET_URI_SCHEME = "x-fantasy-db"


def live_asset():
    """The Asset that `fantasy_live` is scheduled on, with its watcher: a `LiveBoxScoreTrigger` that the
    triggerer runs for as long as the DAG exists (parse time: builds the trigger object, no I/O)."""
    from airflow.sdk import Asset, AssetWatcher

    from fantasy_jobs.espn.live_watch import LiveBoxScoreTrigger

    return Asset(
        name=LIVE_ASSET_NAME,
        uri=f"{ASSET_URI_SCHEME}://espn/wnba_live_box_scores",
        group="espn",
        watchers=[AssetWatcher(name="espn_live_box_scores", trigger=LiveBoxScoreTrigger())],
    )


def table_asset(table: str):
    """The Airflow Asset of app table `table` (e.g. name `fantasy_db.player_game_stats`)."""
    from airflow.sdk import Asset

    return Asset(
        name=f"fantasy_db.{table}", uri=f"{ASSET_URI_SCHEME}://fantasy_db/{table}", group="fantasy_db"
    )


def jobs_of(group: str) -> list[Job]:
    """The group's jobs in registry order (for the daily group: the chain order)."""
    return [job for job in JOBS if job.group == group]


def get_job(job_id: str) -> Job:
    """The job with this id; an unknown id is an error naming the known ones."""
    from fantasy_jobs.errors import InvalidParamsError

    try:
        return JOBS_BY_ID[job_id]
    except KeyError:
        raise InvalidParamsError(f"unknown job {job_id!r}; known jobs: {', '.join(JOBS_BY_ID)}") from None


def describe_cron(cron: str) -> str:
    """A cron expression in words, e.g. 'At 05:00 AM, only on Monday'."""
    try:
        from cron_descriptor import Options, get_description

        options = Options()
        options.use_24hour_time_format = True
        return get_description(cron, options)
    except Exception:  # a description is a nicety; never fail over it
        return cron


def _minutes(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def schedule_markdown() -> str:
    """The schedule table the README embeds (`fantasy-jobs jobs --markdown`)."""
    rows = [
        "| job id | group (DAG) | schedule (league time) | cron | pool | grace | retries | timeout |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for job in JOBS:
        rows.append(
            f"| `{job.id}` | {job.group} (`{job.dag_id}`) | {job.schedule_text} | "
            f"{'`' + job.cron + '`' if job.cron else '-'} | `{job.pool}` | {job.grace} s | "
            f"{job.retries} | {_minutes(job.timeout)} |"
        )
    return "\n".join(rows) + "\n"


def run_windows(job: Job, start, days: int = 7) -> list[tuple]:
    """(start, end) of each expected run of `job` in the `days` after `start` (aware, league time).

    A daily-chain job without a cron starts when the jobs above it are expected to finish.
    """
    from datetime import timedelta as _td

    from croniter import croniter

    if job.cron is not None:
        cron, offset = job.cron, _td(0)
    else:
        chain = jobs_of(job.group)
        cron = next(j.cron for j in chain if j.cron)
        offset = sum((j.expected for j in chain[: chain.index(job)]), _td(0))
    end = start + _td(days=days)
    windows, it = [], croniter(cron, start - _td(seconds=1))
    while (fire := it.get_next(type(start))) < end:
        windows.append((fire + offset, fire + offset + job.expected))
    return windows


def schedule_conflicts(
    jobs: tuple[Job, ...] | list[Job] = JOBS, *, start=None, pool: str = "fantasy_db_heavy"
) -> list[str]:
    """Pairs of jobs of `pool` whose expected runs overlap during one week, as readable lines."""
    from datetime import datetime as _dt

    from fantasy_jobs.settings import league_timezone

    start = start or _dt(2026, 6, 1, tzinfo=league_timezone())  # any Monday
    runs = sorted((s, e, job.id) for job in jobs if job.pool == pool for s, e in run_windows(job, start))
    conflicts = []
    for index, (s1, e1, a) in enumerate(runs):
        for s2, _e2, b in runs[index + 1 :]:
            if s2 >= e1:
                break
            conflicts.append(f"{a} ({s1:%a %H:%M}-{e1:%H:%M}) overlaps {b} (from {s2:%a %H:%M})")
    return conflicts
