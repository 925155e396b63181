"""`fantasy-jobs`: the operators' command line (init-db, load-demo, jobs, run).

The database comes from AIRFLOW_CONN_FANTASY_DB or the `fantasy_db` Airflow connection, as in
Airflow. `run` goes through the same runtime as the DAG tasks, tracking row included.
"""

from __future__ import annotations

import argparse
import logging
import sys

from fantasy_jobs.errors import JobSkipped, PermanentJobError


def _engine():
    from fantasy_jobs.db import get_engine

    return get_engine()


def cmd_init_db(_: argparse.Namespace) -> int:
    from fantasy_jobs.schema import create_all

    engine = _engine()
    tables = create_all(engine)
    print(f"{len(tables)} tables ready on {engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_load_demo(_: argparse.Namespace) -> int:
    from fantasy_jobs.demo import load_demo
    from fantasy_jobs.schema import create_all

    engine = _engine()
    create_all(engine)
    counts = load_demo(engine)
    if not counts:
        print("demo data already loaded; nothing changed")
    else:
        print("demo data loaded: " + ", ".join(f"{table} {n}" for table, n in counts.items()))
    return 0


def cmd_espn_sample(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fantasy_jobs.espn.demo_sample import write_demo_sample

    files = write_demo_sample(_engine(), Path(args.folder))
    print(
        f"{files} ESPN-shaped files written to {args.folder}; point wnba_api at file://{Path(args.folder).resolve()}"
    )
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    from fantasy_jobs.registry import JOBS, schedule_markdown

    if args.markdown:
        sys.stdout.write(schedule_markdown())
        return 0
    header = ("JOB", "GROUP", "SCHEDULE", "POOL", "GRACE", "RETRIES")
    rows = [(j.id, j.dag_id, j.schedule_text, j.pool, f"{j.grace}s", str(j.retries)) for j in JOBS]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from fantasy_jobs.registry import get_job
    from fantasy_jobs.runtime import RunRequest, execute
    from fantasy_jobs.timeutil import parse_at

    job = get_job(args.job_id)
    at = parse_at(args.at, allow_future=args.allow_future)
    req = RunRequest(trigger="cli", logical_time=at, started_at=at, dry_run=args.dry_run, check_misfire=False)
    try:
        result = execute(job, req, engine=_engine())
    except JobSkipped as skip:
        print(f"{job.id}: skipped: {skip}")
        return 0
    print(f"{job.id}: {result.summary or 'done'} ({result.rows_affected} rows)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fantasy-jobs", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create the app tables on the fantasy_db database").set_defaults(
        func=cmd_init_db
    )
    sub.add_parser("load-demo", help="create the tables and load the demo data once").set_defaults(
        func=cmd_load_demo
    )
    sample = sub.add_parser(
        "espn-sample", help="write the offline demo's ESPN payloads from the demo database"
    )
    sample.add_argument("folder")
    sample.set_defaults(func=cmd_espn_sample)
    jobs = sub.add_parser("jobs", help="the job registry as a table")
    jobs.add_argument("--markdown", action="store_true", help="the README's schedule table")
    jobs.set_defaults(func=cmd_jobs)
    run = sub.add_parser("run", help="run one job now, outside Airflow, with tracking")
    run.add_argument("job_id")
    run.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    run.add_argument(
        "--at",
        help="the job's 'now' (ISO 8601; without offset: league time); default now; "
        "at most a day ahead of the real clock",
    )
    run.add_argument(
        "--allow-future", action="store_true", help="accept an --at more than a day in the future"
    )
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from fantasy_jobs.errors import ConfigError, InvalidParamsError

    try:
        return args.func(args)
    except PermanentJobError as exc:
        print(f"error: {exc}", file=sys.stderr)
        # 2 is bad command-line input only (job id, params, --at, setting or connection);
        # any other failure of the job, bad ESPN data included, is 1
        return 2 if isinstance(exc, (InvalidParamsError, ConfigError)) else 1
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
