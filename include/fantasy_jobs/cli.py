"""`fantasy-jobs`: the operators' command line (init-db, load-demo, jobs, run).

The database comes from AIRFLOW_CONN_FANTASY_DB or the `fantasy_db` Airflow connection, as in
Airflow. `run` goes through the same runtime as the DAG tasks, tracking row included.
Without AIRFLOW_HOME the checkout's `.airflow` (made by `make run`) is the Airflow home.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from fantasy_jobs.errors import JobSkipped, PermanentJobError

PROJECT_HOME = ".airflow"  # what `make run` (scripts/run_local.sh) uses as the Airflow home
_home_note = ""  # which Airflow home this process uses and why, for the first line on stderr


def use_airflow_home(cwd: Path | None = None) -> str:
    """Set AIRFLOW_HOME before anything imports Airflow (whose import creates that folder).

    AIRFLOW_HOME when set; else the `.airflow` folder of the checkout we are in (the current
    folder or a parent), or of the checkout this package is installed from; else `~/airflow`
    when it exists. With none of these, a throwaway home removed at exit: Airflow then reads
    connections from the environment only, and `~/airflow` is never created as a side effect.
    Returns a note saying which home and why.
    """
    if os.environ.get("AIRFLOW_HOME"):
        return f"Airflow home {os.environ['AIRFLOW_HOME']} (AIRFLOW_HOME)"
    cwd = (cwd or Path.cwd()).resolve()
    package_checkout = Path(__file__).resolve().parents[2]
    for folder in (cwd, *cwd.parents, package_checkout):
        if (folder / PROJECT_HOME).is_dir():
            os.environ["AIRFLOW_HOME"] = str(folder / PROJECT_HOME)
            return (
                f"Airflow home {folder / PROJECT_HOME} (the checkout's {PROJECT_HOME}; AIRFLOW_HOME is unset)"
            )
    default = Path.home() / "airflow"
    if default.is_dir():
        os.environ["AIRFLOW_HOME"] = str(default)
        return f"Airflow home {default} (Airflow's default; AIRFLOW_HOME is unset)"
    scratch = tempfile.mkdtemp(prefix="fantasy-jobs-airflow-home-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    os.environ["AIRFLOW_HOME"] = scratch
    return NO_HOME


NO_HOME = "no Airflow home (AIRFLOW_HOME is unset, no .airflow here or in a parent folder, no ~/airflow)"


def _engine():
    from fantasy_jobs.db import CONN_ID, get_engine
    from fantasy_jobs.errors import ConfigError

    try:
        engine = get_engine()
    except ConfigError as exc:
        if "is not configured" not in str(exc):
            raise
        example = f"AIRFLOW_CONN_{CONN_ID.upper()}=sqlite:////abs/path/app.db"
        if _home_note == NO_HOME:
            fix = (
                f"found {NO_HOME}. Run `make run` once in the checkout (it creates .airflow with {CONN_ID} "
                f"on .airflow/fantasy.db), set AIRFLOW_HOME to your Airflow home, or set {example}"
            )
        else:
            fix = (
                f"not in {_home_note}. Add it (`airflow connections add {CONN_ID} --conn-uri ...` or Admin > "
                f"Connections in that home's UI; `make run` adds it), or set {example}"
            )
        raise ConfigError(f"connection {CONN_ID!r} is not configured: {fix}") from None
    if _home_note:
        print(
            f"fantasy-jobs: {_home_note}; database {engine.url.render_as_string(hide_password=True)}",
            file=sys.stderr,
        )
    return engine


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

    if args.folder:
        folder = Path(args.folder)
    else:  # never into the current folder (the checkout) by surprise: a new temporary folder
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="fantasy-espn-sample-"))
    files = write_demo_sample(_engine(), folder)
    print(f"{files} ESPN-shaped files written to {folder}; point wnba_api at file://{folder.resolve()}")
    return 0


def cmd_espn_replay(args: argparse.Namespace) -> int:
    from fantasy_jobs.espn.replay import run_replay

    def out(line: str) -> None:
        print(line, flush=True)

    return run_replay(
        _engine(), port=args.port, start_in=args.start_in, every=args.every, game=args.game, out=out
    )


def _seconds(low: float, high: float):
    def parse(value: str) -> float:
        number = float(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g} seconds, got {value}")
        return number

    return parse


def _port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {value}")
    return number


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
    req = RunRequest(
        trigger="cli",
        logical_time=at,
        started_at=at,
        dry_run=args.dry_run,
        full=args.full,
        check_misfire=False,
    )
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
    sample.add_argument(
        "folder", nargs="?", help="where to write (default: a new folder in the system temp folder)"
    )
    sample.set_defaults(func=cmd_espn_sample)
    replay = sub.add_parser(
        "espn-replay",
        help="serve a local ESPN stand-in replaying a demo game as live (point wnba_api at it to watch live scoring)",
    )
    replay.add_argument(
        "--port", type=_port, default=8765, help="port on 127.0.0.1 (default 8765; 0: any free one)"
    )
    replay.add_argument(
        "--start-in", type=_seconds(0, 3600), default=60.0, help="seconds until tip-off (default 60)"
    )
    replay.add_argument(
        "--every", type=_seconds(1, 600), default=30.0, help="seconds between two new lines (default 30)"
    )
    replay.add_argument("--game", help="ESPN id of the game to replay (default: the latest final game)")
    replay.set_defaults(func=cmd_espn_replay)
    jobs = sub.add_parser("jobs", help="the job registry as a table")
    jobs.add_argument("--markdown", action="store_true", help="the README's schedule table")
    jobs.set_defaults(func=cmd_jobs)
    run = sub.add_parser("run", help="run one job now, outside Airflow, with tracking")
    run.add_argument("job_id")
    run.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    run.add_argument(
        "--full",
        action="store_true",
        help="recompute (or check) everything, not just what changed since the last run "
        "(calculate_fantasy_scores, league_analytics, data_quality_checks, calculate_bonuses)",
    )
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
    global _home_note
    _home_note = use_airflow_home()  # first: before anything imports Airflow
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
