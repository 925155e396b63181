"""`python -m bench.online_index --scale S`: a new index on `team_week_scores` while scoring writes.

The app at S leagues (bench/generate.py, as `make bench`) at the baseline revision 0001, then two
builds of the same index, each while `calculate_fantasy_scores --full` runs back to back in its own
processes and a probe writes one `team_week_scores` row every 20 ms on its own connection:

1. `plain`: `CREATE INDEX` in a transaction, what `create_all` did (then dropped again);
2. `online`: `fantasy-jobs db upgrade`, revision 0002 (`CREATE INDEX CONCURRENTLY`).

Measured for each: the build's seconds; every probe write's seconds (the probe inserts rows of
its own, so it never waits for a row the scoring run holds: the longest is how long the table was
closed to writes); the longest wait on a table lock that any other session showed in
`pg_stat_activity` (sampled every 100 ms; the build's own waits are not writes and are left out;
row-lock waits, one write waiting for another's row, are reported apart); the scoring runs that
overlapped the build, and whether they completed. Written to bench-results/online-index-S<S>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.generate import ANCHOR, generate
from bench.run import REPO, VENV_BIN, git_commit, job_env, log, psycopg_dsn, tracking_row

INDEX = "ix_team_week_scores_league_week"
PLAIN_INDEX = f"{INDEX}_plain"
PROBE_APP = "bench-write-probe"
BUILD_APPS = ("bench-plain-build",)


class WriteProbe(threading.Thread):
    """A new `team_week_scores` row every `interval` s, each its own transaction; records how long
    each write took (a write waits as long as a lock blocks it). Its rows are its own (league -1),
    so it never waits for a row the scoring run holds: only a lock on the table can stop it."""

    def __init__(self, dsn: str, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.dsn, self.interval = dsn, interval
        self.writes: list[tuple[float, float]] = []  # (started, seconds)
        self.errors: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True, application_name=PROBE_APP) as conn:
            number = 0
            while not self.stopping.is_set():
                number += 1
                started = time.perf_counter()
                try:
                    conn.execute(
                        "INSERT INTO team_week_scores (league_id, fantasy_team_id, week, points, bonus_points, "
                        "updated_at) VALUES (-1, %s, 1, 0, 0, now())",
                        (-number,),
                    )
                except psycopg.Error as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                self.writes.append((started, time.perf_counter() - started))
                time.sleep(self.interval)
            conn.execute("DELETE FROM team_week_scores WHERE league_id = -1")  # the next probe starts at -1

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)


class LockWatch(threading.Thread):
    """Samples `pg_stat_activity` every 100 ms: the longest lock wait of any session that is not
    the index build itself, and when a scoring statement on `team_week_scores` was running."""

    def __init__(self, dsn: str, database: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.database = dsn, database
        self.longest: dict[str, float] = {}  # "wait_event: query" -> longest wait seen
        self.scoring_on_table: list[float] = []  # sample times
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stopping.is_set():
                rows = conn.execute(
                    """SELECT wait_event_type, wait_event, application_name, state,
                              EXTRACT(EPOCH FROM clock_timestamp() - query_start), left(query, 90)
                       FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()""",
                    (self.database,),
                ).fetchall()
                now = time.perf_counter()
                for wait_type, wait_event, app, state, seconds, query in rows:
                    ddl = query.lstrip().upper().startswith(("CREATE INDEX", "DROP INDEX"))
                    if wait_type == "Lock" and not ddl and app not in BUILD_APPS:
                        key = f"{wait_event}: {' '.join(query.split())}"
                        self.longest[key] = max(self.longest.get(key, 0.0), float(seconds or 0))
                    if state == "active" and app != PROBE_APP and "team_week_scores" in query and not ddl:
                        self.scoring_on_table.append(now)
                time.sleep(0.1)

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)


class ScoringLoop(threading.Thread):
    """`fantasy-jobs run calculate_fantasy_scores --full` back to back until stopped (the run going
    on when `stop` is called finishes)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        super().__init__(daemon=True)
        self.env, self.logs = env, logs
        self.runs: list[dict] = []
        self.stopping = threading.Event()
        self.started = threading.Event()

    def run(self) -> None:
        command = [
            str(VENV_BIN / "fantasy-jobs"),
            "run",
            "calculate_fantasy_scores",
            "--full",
            "--at",
            ANCHOR.isoformat(),
        ]
        while not self.stopping.is_set():
            number = len(self.runs) + 1
            started = time.perf_counter()
            with (self.logs / f"scoring-{number}.log").open("w") as out:
                process = subprocess.Popen(
                    command, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO
                )
                self.started.set()
                code = process.wait()
            self.runs.append({"started": started, "ended": time.perf_counter(), "exit_code": code})

    def stop(self) -> None:
        self.stopping.set()
        self.join(3600)


def scenario(name: str, dsn: str, database: str, env: dict[str, str], logs: Path, build) -> dict:
    """Run `build()` while scoring and the probe write; returns what was measured."""
    probe, watch, scoring = WriteProbe(dsn), LockWatch(dsn, database), ScoringLoop(env, logs / name)
    (logs / name).mkdir(parents=True, exist_ok=True)
    watch.start()
    probe.start()
    scoring.start()
    scoring.started.wait(60)
    time.sleep(5)  # the scoring run is well under way, its transaction open
    log(f"{name}: building while scoring run 1 goes on")
    build_started = time.perf_counter()
    build()
    build_ended = time.perf_counter()
    log(f"{name}: built in {build_ended - build_started:.1f} s; waiting for the scoring run going on")
    scoring.stop()
    probe.stop()
    watch.stop()
    during = [s for t, s in probe.writes if t < build_ended and t + s > build_started]
    overlapping = [r for r in scoring.runs if r["started"] < build_ended and r["ended"] > build_started]
    # a table lock ("relation") is what an index build can cause; a row lock ("transactionid",
    # "tuple") is a write waiting for another transaction's write of the same row
    table_waits = {k: v for k, v in watch.longest.items() if k.startswith("relation:")}
    longest_wait = max(table_waits.items(), key=lambda kv: kv[1], default=(None, 0.0))
    longest_row_wait = max(
        (v for k, v in watch.longest.items() if not k.startswith("relation:")), default=0.0
    )
    return {
        "scenario": name,
        "build_seconds": round(build_ended - build_started, 2),
        "probe_writes": len(probe.writes),
        "probe_writes_during_build": len(during),
        "probe_longest_write_s": round(max((s for _, s in probe.writes), default=0.0), 3),
        "probe_writes_over_1s": sum(1 for _, s in probe.writes if s > 1.0),
        "probe_errors": probe.errors[:5],
        "longest_table_lock_wait_s": round(longest_wait[1], 2),
        "longest_table_lock_wait_query": longest_wait[0],
        "longest_row_lock_wait_s": round(longest_row_wait, 2),
        "scoring_runs": len(scoring.runs),
        "scoring_runs_overlapping_build": len(overlapping),
        "scoring_exit_codes": [r["exit_code"] for r in scoring.runs],
        "scoring_samples_on_team_week_scores_during_build": sum(
            1 for t in watch.scoring_on_table if build_started <= t <= build_ended
        ),
    }


def run(server, scale: int, out_dir: Path) -> dict:
    import psycopg

    from fantasy_jobs.db import make_engine
    from fantasy_jobs.migrate import upgrade

    out_dir.mkdir(parents=True, exist_ok=True)
    logs = out_dir / f"online-index-S{scale}-logs"
    logs.mkdir(exist_ok=True)
    database = server.create_database(f"bench_online_s{scale}")
    dsn = psycopg_dsn(server, database)
    engine = make_engine(server.url(database))
    upgrade(engine, "0001")  # the baseline: the index of revision 0002 is not there yet
    engine.dispose()
    log(f"online index: S = {scale} leagues into {database} at revision 0001")
    generate(dsn, scale, log)
    env = job_env(server, database, "http://127.0.0.1:9", tempfile.mkdtemp(prefix="fantasy-bench-airflow-"))
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM team_week_scores").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('team_week_scores'))").fetchone()[0]
    log(f"online index: team_week_scores has {rows:,} rows ({size})")

    def plain_build() -> None:
        with psycopg.connect(dsn, application_name=BUILD_APPS[0]) as conn:
            conn.execute(f"CREATE INDEX {PLAIN_INDEX} ON team_week_scores (league_id, week)")

    def online_build() -> None:
        with (logs / "db-upgrade.log").open("w") as out:
            subprocess.run(
                [str(VENV_BIN / "fantasy-jobs"), "db", "upgrade"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                check=True,
            )

    results = [scenario("plain", dsn, database, env, logs, plain_build)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP INDEX CONCURRENTLY {PLAIN_INDEX}")
    results.append(scenario("online", dsn, database, env, logs, online_build))
    with psycopg.connect(dsn) as conn:
        revision = conn.execute("SELECT version_num FROM fantasy_alembic_version").fetchone()[0]
        valid = conn.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
            (INDEX,),
        ).fetchone()
    scoring = tracking_row(dsn, "calculate_fantasy_scores")
    report = {
        "scale": scale,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "team_week_scores": {"rows": rows, "size": size},
        "revision_after": revision,
        "index_valid": bool(valid and valid[0]),
        "last_scoring_status": scoring.get("status"),
        "scenarios": results,
    }
    path = out_dir / f"online-index-S{scale}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(format_report(report))
    log(f"online index: results written to {path}")
    return report


def format_report(report: dict) -> str:
    lines = [
        f"S = {report['scale']:,}: team_week_scores {report['team_week_scores']['rows']:,} rows "
        f"({report['team_week_scores']['size']}); after: revision {report['revision_after']}, "
        f"index valid {report['index_valid']}; commit {report['commit']}, {report['date']}",
        "",
        "| build | seconds | probe writes (during build) | longest write (s) | writes > 1 s | longest table-lock wait, any session (s) | scoring runs overlapping | scoring exit codes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["scenarios"]:
        lines.append(
            f"| {r['scenario']} | {r['build_seconds']} | {r['probe_writes']:,} ({r['probe_writes_during_build']:,}) | "
            f"{r['probe_longest_write_s']} | {r['probe_writes_over_1s']} | {r['longest_table_lock_wait_s']} | "
            f"{r['scoring_runs_overlapping_build']} | {r['scoring_exit_codes']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.online_index", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10_000, help="leagues (S); default 10000")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench-results", help="folder of the JSON and logs"
    )
    args = parser.parse_args(argv)
    from tests.support.postgres import PostgresServer

    server = PostgresServer().start()
    try:
        report = run(server, args.scale, args.out)
    finally:
        server.stop()
    online = next(r for r in report["scenarios"] if r["scenario"] == "online")
    ok = (
        report["revision_after"] == "0002"
        and report["index_valid"]
        and not online["probe_errors"]
        and all(code == 0 for r in report["scenarios"] for code in r["scoring_exit_codes"])
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
