"""`python -m bench.run --scale S`: generate the app at S leagues, run each job and its SQL reference.

A throwaway PostgreSQL (the tests' harness, tests/support/postgres.py) gets the schema and the
generated data (bench/generate.py). Then, for each covered job in schedule order, on the same
database: a copy is taken (CREATE DATABASE ... TEMPLATE, so the reference sees exactly what the
job will see), the job's set-based reference runs on the copy (bench/references.py), the copy is
dropped, and the job runs through `fantasy-jobs run JOB --at ANCHOR` in its own process, so its
peak RSS is its own (from the child's resource usage; the job's `job_executions` row gives its
time and rows). The live tick row runs `python -m bench.live_tick` instead (bench/live_tick.py: it
serves the in-progress game's changed box score as ESPN's summary on 127.0.0.1 and runs one
live_scoring tick from the watcher's event, as the scheduler does). A local aiohttp app stands in
for the app's webhook (bench/webhook_receiver.py); the webhook burst row sets the job's
deliveries a second beside that receiver's own ceiling, measured in the same run. One table is
printed and written as JSON to bench-results/bench-S<S>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.generate import ANCHOR, count_rows, expected_counts, generate
from bench.references import parameters, run_reference
from fantasy_jobs.schema import BOX_SCORE_COLUMNS

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

# Schedule order: the daily chain, the frequent jobs, then Monday's and Sunday's weekly jobs.
COVERED = (
    "calculate_fantasy_scores",
    "calculate_fantasy_scores_nothing_new",
    "calculate_fantasy_scores_3_games",
    "live_scoring_tick",
    "calculate_analytics",
    "calculate_analytics_nothing_new",
    "calculate_analytics_3_games",
    "league_analytics",
    "league_analytics_nothing_new",
    "league_analytics_next_day",
    "cache_cleanup",
    "process_notifications",
    "process_notifications_webhook_burst",
    "data_quality_checks",
    "data_quality_checks_nothing_new",
    "data_quality_checks_3_games",
    "reset_weekly_moves",
    "calculate_bonuses",
    "calculate_bonuses_nothing_new",
    "cleanup_old_data",
)
NEXT_DAY_SQL = """
UPDATE team_week_scores t SET points = t.points + 1.5, updated_at = now() FROM leagues l
WHERE l.id = t.league_id AND l.status = 'active' AND t.fantasy_team_id %% 2 = 0
  AND t.week = (SELECT MAX(week) FROM team_week_scores WHERE week <= %(week)s)
"""
THREE_GAMES_SQL = """
UPDATE player_game_stats SET pts = pts + 2, fgm = fgm + 1, fga = fga + 1, updated_at = now()
WHERE game_id IN (SELECT id FROM games WHERE season = 2026 ORDER BY start_time DESC, id DESC LIMIT 3)
"""
LIVE_GAME_SQL = f"""
WITH game AS (SELECT id FROM games WHERE season = 2026 ORDER BY start_time DESC, id DESC LIMIT 1),
started AS (
    UPDATE games SET status = 'in_progress', updated_at = now()
    WHERE id IN (SELECT id FROM game) AND status <> 'in_progress' RETURNING 1),
live_lines AS (
    UPDATE player_game_stats SET is_final = false, updated_at = now(),
        {", ".join(f"{c} = CASE WHEN did_not_play THEN 0 ELSE {c} END" for c in BOX_SCORE_COLUMNS)},
        plus_minus = CASE WHEN did_not_play THEN NULL ELSE plus_minus END
    WHERE game_id IN (SELECT id FROM game)
      AND (is_final OR (did_not_play AND (plus_minus IS NOT NULL OR greatest({", ".join(BOX_SCORE_COLUMNS)}) > 0)))
    RETURNING 1),
live_points AS (
    UPDATE fantasy_points SET is_final = false, updated_at = now()
    WHERE game_id IN (SELECT id FROM game) AND is_final RETURNING 1)
SELECT (SELECT COUNT(*) FROM started) + (SELECT COUNT(*) FROM live_lines) + (SELECT COUNT(*) FROM live_points)
"""
"""The latest game in progress as earlier ticks left it: not final (game, lines, points), and its
did-not-play lines as a tick stores them, all zero (THREE_GAMES_SQL gave them a basket too, which
no box score can say of a player who did not play)."""
WEBHOOK_BURST_SQL = """
INSERT INTO notifications (user_id, kind, payload, status, attempts, created_at)
SELECT n %% (SELECT COUNT(*) FROM users) + 1, 'webhook',
       json_build_object('type', 'points_update', 'text', 'Your team scored ' || n || ' points'), 'pending', 0, %(now)s
FROM generate_series(1, 10 * %(scale)s) n
"""
VARIANTS = {
    # the nightly again, nothing new since the first (full) run: the change log is empty
    "calculate_fantasy_scores_nothing_new": ("calculate_fantasy_scores", None),
    # the nightly after a day's games: the 3 latest games' box scores changed (their lines queued)
    "calculate_fantasy_scores_3_games": ("calculate_fantasy_scores", THREE_GAMES_SQL),
    # a live tick: the latest game is in progress as earlier ticks left it (its lines and points not
    # final), and one game's box score changed since (3 lines, a basket each; bench/live_tick.py)
    "live_scoring_tick": ("live_scoring", LIVE_GAME_SQL),
    # the daily jobs again with nothing new since their first run, and after 3 games' box scores
    # changed: what each costs when little or nothing changed (a job that recomputes everything
    # shows it here)
    "calculate_analytics_nothing_new": ("calculate_analytics", None),
    "calculate_analytics_3_games": ("calculate_analytics", THREE_GAMES_SQL),
    "league_analytics_nothing_new": ("league_analytics", None),
    "calculate_bonuses_nothing_new": ("calculate_bonuses", None),
    "league_analytics_next_day": ("league_analytics", NEXT_DAY_SQL),
    # the checks again, nothing changed since the first (whole) run: only the scoped rules, on nothing
    "data_quality_checks_nothing_new": ("data_quality_checks", None),
    # and after the 3 latest games' box scores changed (not rescored: their points are stale)
    "data_quality_checks_3_games": ("data_quality_checks", THREE_GAMES_SQL),
    # the morning after a night of games: 10 x S webhooks due at once, delivered to the local
    # receiver; its ceiling (bare keep-alive connections, no HTTP library) is measured just before
    "process_notifications_webhook_burst": ("process_notifications", WEBHOOK_BURST_SQL),
}
"""Runs of a job on changed data, by name: (the job, a statement run first on the bench database, so
job and reference both see it). The next day: a day's games change the latest week of every active
league (half its teams), and league_analytics runs again: the daily case, after the first full run."""


def job_of(run: str) -> str:
    return VARIANTS.get(run, (run, None))[0]


LIVE_TICK = "live_scoring_tick"
"""The run that is not `fantasy-jobs run` but a tick from the watcher's event (bench/live_tick.py)."""


def command_of(run: str) -> list[str]:
    """The process a run is measured in."""
    if run == LIVE_TICK:
        return [str(VENV_BIN / "python"), "-m", "bench.live_tick", "--at", ANCHOR.isoformat()]
    return [str(VENV_BIN / "fantasy-jobs"), "run", job_of(run), "--at", ANCHOR.isoformat()]


def trigger_of(run: str) -> str:
    """The `job_executions.trigger` of the run's row."""
    return "event" if run == LIVE_TICK else "cli"


NOT_COVERED = {
    "ingest_teams": "reads ESPN; its work is a few hundred upserts that do not grow with leagues",
    "ingest_player_stats": "reads ESPN; a few days of box scores, independent of leagues",
    "ingest_standings": "reads ESPN; 15 rows",
    "live_game_check": "reads ESPN; scores only the few live games' lines (through the nightly's statements)",
    "update_player_profiles": "reads ESPN; ~180 players",
    "season_audit": "reads ESPN; one season's final games (about 280) at a request a second, independent of leagues",
    "backup_database": "pg_dump of the whole database: bounded by disk speed, not by the job's code",
    "verify_backup_restore": "pg_restore of the newest backup: bounded by disk speed, not by the job's code",
    "cleanup_airflow_metadata": "Airflow's own `airflow db clean` on the metadata database, not the app's",
}


def log(message: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)


def psycopg_dsn(server, database: str) -> str:
    return server.url(database).replace("+psycopg", "")


def admin(server, statement: str) -> None:
    import psycopg

    with psycopg.connect(psycopg_dsn(server, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def end_sessions(server, database: str) -> None:
    """End every session on `database` (a killed job's backend runs on until it notices) and wait."""
    import psycopg

    with psycopg.connect(psycopg_dsn(server, "postgres"), autocommit=True) as conn:
        for _ in range(100):
            left = conn.execute(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            ).fetchone()[0]
            if not left:
                return
            time.sleep(0.1)


def job_env(server, database: str, webhook_url: str, airflow_home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "PYTEST_"))}
    env.update(
        AIRFLOW_HOME=airflow_home,
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        FANTASY_SKIP_VARIABLES="1",
        AIRFLOW_CONN_FANTASY_DB=server.airflow_uri(database),
        AIRFLOW_CONN_FANTASY_APP_WEBHOOK=webhook_url,
        AIRFLOW_CONN_WNBA_API="http://127.0.0.1:9",  # no job here may reach ESPN
        # the runs follow each other within minutes, not hours: a scope of "changed since the last
        # run" must not reach back over the previous runs' writes
        FANTASY_QUALITY_SCOPE_OVERLAP_SECONDS="0",
    )
    return env


def run_process(
    command: list[str], env: dict[str, str], log_path: Path, timeout: float | None = None
) -> tuple[int | None, float, float]:
    """Run `command` to completion or SIGKILL it after `timeout` seconds.

    Returns (exit code, or None when killed for time; wall seconds; peak RSS in MB of that process,
    from its own resource usage)."""
    started = time.perf_counter()
    killed = False
    with log_path.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - started > timeout and not killed:
                process.kill()
                killed = True
            time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    return (
        (None if killed else process.returncode),
        time.perf_counter() - started,
        round(usage.ru_maxrss / 1024, 1),
    )


def tracking_row(dsn: str, job_id: str, trigger: str = "cli") -> dict:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        row = conn.execute(
            """SELECT status, execution_time_s, rows_affected, peak_memory_mb, error_message, details
               FROM job_executions WHERE job_id = %s AND trigger = %s ORDER BY id DESC LIMIT 1""",
            (job_id, trigger),
        ).fetchone()
    return row or {}


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def run_inline(run: str, env: dict[str, str]) -> tuple[int, float, None]:
    """Run `run` inside this process through `fantasy_jobs.runtime.execute` (no per-job RSS); the
    live tick through bench/live_tick.py's `tick`.

    For the smoke test only, where a process start per job would cost more than the jobs."""
    from unittest import mock

    from fantasy_jobs.db import make_engine
    from fantasy_jobs.registry import get_job
    from fantasy_jobs.runtime import RunRequest, execute

    job_id = job_of(run)
    started = time.perf_counter()
    request = RunRequest(trigger="cli", logical_time=ANCHOR, started_at=ANCHOR, check_misfire=False)
    engine = make_engine(env["AIRFLOW_CONN_FANTASY_DB"])
    code = 0
    try:
        with mock.patch.dict(os.environ, env):
            if run == LIVE_TICK:
                from bench.live_tick import tick

                tick(engine, ANCHOR)
            else:
                execute(get_job(job_id), request, engine=engine)
    except Exception as exc:
        log(f"{run}: failed in process: {type(exc).__name__}: {exc}")
        code = 1
    finally:
        engine.dispose()
    return code, time.perf_counter() - started, None


def run_bench(
    server,
    scale: int,
    out_dir: Path,
    jobs: tuple[str, ...] = COVERED,
    max_job_seconds: float | None = None,
    in_process: frozenset[str] = frozenset(),
    ceiling_seconds: float = 5.0,
) -> dict:
    """The whole benchmark on a running PostgresServer; returns (and writes) the results.

    A job is killed after its own execution timeout (the registry's), or `max_job_seconds` if less.
    Jobs named in `in_process` run inside this process (the test's shortcut): no peak RSS, no kill."""
    import psycopg

    from fantasy_jobs.db import make_engine
    from fantasy_jobs.registry import get_job
    from fantasy_jobs.schema import create_all

    out_dir.mkdir(parents=True, exist_ok=True)
    logs = out_dir / "logs"
    logs.mkdir(exist_ok=True)
    database = kept_database(server, scale) if server.existing else None
    if database:
        dsn = psycopg_dsn(server, database)
        engine = make_engine(server.url(database))
        create_all(engine)  # what `fantasy-jobs init-db` does after an upgrade: new columns, indexes
        engine.dispose()
        log(f"bench: resuming database {database} as the previous run left it (no generation)")
        generation, generation_seconds = "resumed: the database as a previous run left it", None
    else:
        database = server.create_database(f"bench_s{scale}")
        dsn = psycopg_dsn(server, database)
        engine = make_engine(server.url(database))
        create_all(engine)
        engine.dispose()
        log(f"bench: S = {scale} leagues into database {database} on port {server.port}")
        started = time.perf_counter()
        generation = generate(dsn, scale, log)
        generation_seconds = round(time.perf_counter() - started, 1)
    counts = count_rows(dsn)
    log(
        f"database: {counts}"
        if generation_seconds is None
        else f"generate: done in {generation_seconds:.1f} s: {counts}"
    )
    with psycopg.connect(dsn) as conn:
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        pg_version = conn.execute("SHOW server_version").fetchone()[0]

    webhook = WebhookReceiver(logs / f"S{scale}-webhook-receiver.log", ceiling_seconds)
    airflow_home = tempfile.mkdtemp(prefix="fantasy-bench-airflow-")
    env = job_env(server, database, webhook.url, airflow_home)
    _, _, baseline = run_process(
        [
            str(VENV_BIN / "python"),
            "-c",
            "import fantasy_jobs.cli, fantasy_jobs.runtime; from fantasy_jobs.db import get_engine; "
            "get_engine().connect().close()",
        ],
        env,
        logs / f"S{scale}-baseline.log",
    )
    log(f"baseline: a process that imports the CLI and connects peaks at {baseline} MB")
    header = {
        "scale": scale,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "postgres": pg_version,
        "cpus": os.cpu_count(),
        "anchor": ANCHOR.isoformat(),
        "database": {"size": size, "rows": counts, "expected": expected_counts(scale)},
        "generation": {"seconds": generation_seconds, "tables": generation},
        "baseline_rss_mb": baseline,
        "not_covered": NOT_COVERED,
    }
    results = []
    try:
        for name in jobs:
            job_id, prepare = VARIANTS.get(name, (name, None))
            if prepare:
                with psycopg.connect(dsn) as conn:
                    cur = conn.execute(prepare, {**parameters(ANCHOR), "scale": scale})
                    changed = cur.fetchone()[0] if cur.description else cur.rowcount
                log(f"{name}: {changed} rows changed first")
            copy = f"{database}_ref"
            copy_started = time.perf_counter()
            end_sessions(server, database)  # CREATE DATABASE ... TEMPLATE needs the source idle
            admin(server, f'CREATE DATABASE "{copy}" TEMPLATE "{database}" STRATEGY FILE_COPY')
            copy_seconds = time.perf_counter() - copy_started
            try:
                ref_seconds, ref_rows = run_reference(psycopg_dsn(server, copy), job_id, ANCHOR)
                ref_error = None
            except Exception as exc:  # a broken reference must not hide the job's numbers
                ref_seconds, ref_rows, ref_error = None, None, f"{type(exc).__name__}: {exc}"[:500]
            finally:
                admin(server, f'DROP DATABASE "{copy}" WITH (FORCE)')
            log(
                f"{name}: reference {ref_seconds if ref_seconds is None else round(ref_seconds, 3)} s, "
                f"{ref_rows} rows (copy took {copy_seconds:.1f} s){' ERROR ' + ref_error if ref_error else ''}"
            )
            timeout = get_job(job_id).timeout.total_seconds()
            if max_job_seconds is not None:
                timeout = min(timeout, max_job_seconds)
            webhook.before(name, env)
            if name in in_process:
                code, wall, rss = run_inline(name, env)
            else:
                code, wall, rss = run_process(command_of(name), env, logs / f"S{scale}-{name}.log", timeout)
            row = tracking_row(dsn, job_id, trigger_of(name))
            seconds = row.get("execution_time_s")
            webhooks = webhook.measured(name, row, seconds)
            status = row.get("status", "not recorded")
            if code is None:
                status, seconds = f"killed after {timeout:.0f} s", None
            elif code != 0 and status == "completed":
                status = f"exit code {code}"  # the job completed, its run's own check did not (the tick's)
            result = {
                "job": name,
                "scale": scale,
                "exit_code": code,
                "status": status,
                "seconds": seconds,
                "process_seconds": round(wall, 3),
                "peak_rss_mb": rss,
                "tracked_peak_memory_mb": row.get("peak_memory_mb"),
                "rows": row.get("rows_affected") if code is not None else None,
                "error": row.get("error_message"),
                "reference": {
                    "seconds": None if ref_seconds is None else round(ref_seconds, 3),
                    "rows": ref_rows,
                    "error": ref_error,
                },
                "ratio": round(seconds / ref_seconds, 2) if seconds and ref_seconds else None,
                **({"webhooks": webhooks} if webhooks else {}),
                **({"tick": tick_details(row)} if name == LIVE_TICK else {}),
            }
            results.append(result)
            write_report(out_dir, {**header, "jobs": results})  # so far: a crash keeps what was measured
            log(
                f"{name}: {result['status']} in {seconds} s ({wall:.1f} s with process start), "
                f"peak RSS {rss} MB, {result['rows']} rows, ratio {result['ratio']}"
            )
    finally:
        webhook.stop()
    report = {**header, "jobs": results}
    path = write_report(out_dir, report)
    print(format_table(report))
    log(f"bench: results written to {path}")
    return report


class WebhookReceiver:
    """The bench's webhook stand-in, in its own process (bench/webhook_receiver.py), and the
    throughput of the burst run measured against it."""

    def __init__(self, log_path: Path, ceiling_seconds: float) -> None:
        self.ceiling_seconds = ceiling_seconds
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "bench.webhook_receiver", "serve"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the webhook receiver did not start (see {log_path})")
        self.ceiling: int | None = None
        self.stats_before: dict = {}

    def stats(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.url.removesuffix("/hook") + "/stats", timeout=10) as answer:
            return json.loads(answer.read())

    def before(self, run: str, env: dict[str, str]) -> None:
        """Before the burst: the receiver's ceiling, with as many connections as the job uses."""
        if run != "process_notifications_webhook_burst":
            return
        connections = env.get("FANTASY_NOTIFICATION_CONCURRENCY") or "64"
        out = subprocess.run(
            [
                str(VENV_BIN / "python"),
                "-m",
                "bench.webhook_receiver",
                "ceiling",
                self.url,
                "--seconds",
                str(self.ceiling_seconds),
                "--connections",
                connections,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        self.ceiling = json.loads(out)["requests_per_second"]
        self.stats_before = self.stats()
        log(f"{run}: the receiver's ceiling is {self.ceiling:,} POSTs a second ({connections} connections)")

    def measured(self, run: str, row: dict, seconds: float | None) -> dict | None:
        if run != "process_notifications_webhook_burst":
            return None
        after = self.stats()
        received = after["requests"] - self.stats_before["requests"]
        # webhooks that reached the receiver over the job's whole time (in-app rows marked sent in
        # the same run, set-based, count in `sent` but not here)
        per_second = round(received / seconds) if seconds else None
        return {
            "delivered": (row.get("details") or {}).get("sent") or 0,
            "per_second": per_second,
            "receiver_ceiling": self.ceiling,
            "share_of_ceiling": round(per_second / self.ceiling, 3) if per_second and self.ceiling else None,
            "received": received,
            "duplicates": after["duplicates"] - self.stats_before["duplicates"],
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def tick_details(row: dict) -> dict:
    """What the live tick did, from its `job_executions` details."""
    details = row.get("details") or {}
    keys = (
        "lines_changed",
        "box_score_rows",
        "fantasy_points_rows",
        "team_weeks_in_scope",
        "team_week_rows",
        "lag_seconds",
    )
    return {key: details.get(key) for key in keys}


def kept_database(server, scale: int) -> str | None:
    """The bench database of scale `scale` in a kept cluster (`--resume`), dropping a leftover copy."""
    import psycopg

    with psycopg.connect(psycopg_dsn(server, "postgres"), autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY oid", (f"bench_s{scale}_%",)
            )
        ]
        for name in (n for n in names if n.endswith("_ref")):
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    names = [n for n in names if not n.endswith("_ref")]
    return names[-1] if names else None


def write_report(out_dir: Path, report: dict) -> Path:
    path = out_dir / f"bench-S{report['scale']}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path


def format_table(report: dict) -> str:
    """The results as a Markdown table (also what the README shows)."""

    def num(value, digits: int = 2) -> str:
        return "-" if value is None else f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"

    lines = [
        f"S = {report['scale']:,} leagues, {report['database']['size']}, PostgreSQL {report['postgres']}, "
        f"{report['cpus']} CPUs, commit {report['commit']}, {report['date']}; "
        f"process baseline {report['baseline_rss_mb']} MB",
        "",
        "| job | S | status | wall time (s) | peak RSS (MB) | rows | reference (s) | reference rows | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["jobs"]:
        ref = r["reference"]
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:,.1f}x"
        lines.append(
            f"| {r['job']} | {r['scale']:,} | {r['status']} | {num(r['seconds'])} | {num(r['peak_rss_mb'], 0)} | "
            f"{num(r['rows'])} | {num(ref['seconds'], 3)} | {num(ref['rows'])} | {ratio} |"
        )
    for r in report["jobs"]:
        if tick := r.get("tick"):
            lines += [
                "",
                f"{r['job']}: one game's box score changed ({num(tick['lines_changed'])} lines); "
                f"{num(tick['box_score_rows'])} box score rows, {num(tick['fantasy_points_rows'])} fantasy_points rows "
                f"and {num(tick['team_week_rows'])} team weeks written of {num(tick['team_weeks_in_scope'])} in scope; "
                f"committed {num(tick['lag_seconds'], 1)} s after the event was made",
            ]
        if hook := r.get("webhooks"):
            share = "-" if hook["share_of_ceiling"] is None else f"{hook['share_of_ceiling']:.0%}"
            lines += [
                "",
                f"{r['job']}: {num(hook['per_second'])} webhooks a second over the job's time "
                f"({num(hook['received'])} received, {num(hook['duplicates'])} duplicates; "
                f"{num(hook['delivered'])} rows sent in all, in-app ones included); the receiver's own ceiling "
                f"{num(hook['receiver_ceiling'])} a second: {share} of it",
            ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1000, help="leagues (S); default 1000")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench-results", help="folder of the JSON and logs"
    )
    parser.add_argument(
        "--jobs", help=f"comma-separated subset of the covered jobs (in this order): {','.join(COVERED)}"
    )
    parser.add_argument(
        "--max-job-seconds",
        type=float,
        help="kill a job after this long (default: its own execution timeout from the registry)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the PostgreSQL cluster (and its generated database) after the run; prints its folder",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="FOLDER",
        help="start a cluster kept by --keep and run the jobs on its database as it was left (no generation): "
        "jobs earlier in the order have already changed it",
    )
    args = parser.parse_args(argv)
    if args.resume and not (args.resume / "data" / "PG_VERSION").exists():
        parser.error(f"--resume {args.resume}: not a kept PostgreSQL cluster (no data/PG_VERSION)")
    jobs = COVERED
    if args.jobs:
        chosen = [j.strip() for j in args.jobs.split(",") if j.strip()]
        unknown = [j for j in chosen if j not in COVERED]
        if unknown:
            parser.error(f"not a covered job: {', '.join(unknown)}; covered: {', '.join(COVERED)}")
        jobs = tuple(j for j in COVERED if j in chosen)
    from tests.support.postgres import PostgresServer

    server = PostgresServer(args.resume).start()
    server.keep = bool(args.keep or args.resume)
    try:
        report = run_bench(server, args.scale, args.out, jobs, args.max_job_seconds)
    finally:
        server.stop()
        if server.keep:
            log(
                f"bench: cluster kept in {server.root}; next: python -m bench.run --scale {args.scale} --resume {server.root}"
            )
    failed = [r["job"] for r in report["jobs"] if r["status"] != "completed"]
    if failed:
        log(f"bench: jobs not completed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
