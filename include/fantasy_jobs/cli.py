"""`fantasy-jobs`: the operators' command line (init-db, db, load-demo, jobs, run).

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
    from fantasy_jobs.migrate import upgrade

    engine = _engine()
    result = upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    if result.adopted:
        print(f"a database made before migrations: recognised as the baseline and stamped on {where}")
    if result.before == result.after:
        print(f"schema already at revision {result.after} (head) on {where}")
    else:
        print(f"schema upgraded {result.before or '(empty)'} -> {result.after} (head) on {where}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    """`fantasy-jobs db ...`: the schema revision of the fantasy_db database (README, Upgrading)."""
    from fantasy_jobs import migrate

    if args.db_command == "history":
        print(migrate.history(), end="")
        return 0
    if args.db_command == "revision":
        return _new_revision(args)
    engine = _engine()
    _logs_to_stderr()  # stdout carries the answer (the SQL of --sql) alone
    if args.db_command == "current":
        with engine.connect() as connection:
            revision = migrate.current_revision(connection)
            legacy = revision is None and migrate.legacy_differences(connection) is not None
        head = migrate.head()
        state = "head" if revision == head else f"head is {head}"
        if legacy:
            state = "made before migrations; `fantasy-jobs db upgrade` stamps it at the baseline"
        print(f"{revision or '(none)'} ({state})")
        return 0
    if args.db_command == "check":
        problems = migrate.check(engine)
        for problem in problems:
            print(f"differs: {problem}")
        if problems:
            print(f"{len(problems)} difference(s) between the database and the code", file=sys.stderr)
            return 1
        print(f"database at head {migrate.head()} and equal to the models")
        return 0
    if args.db_command == "upgrade":
        result = migrate.upgrade(engine, args.revision, sql=args.sql)
    else:
        result = migrate.downgrade(engine, args.revision, sql=args.sql)
    if not args.sql:  # with --sql, stdout is the script alone
        moved = result.before != result.after
        print(
            f"schema {result.before or '(empty)'} -> {result.after}"
            if moved
            else f"schema already at {result.after}"
        )
    return 0


def _logs_to_stderr() -> None:
    """Airflow's logging setup (done when the connection is read) logs to stdout; move it."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)


def _new_revision(args: argparse.Namespace) -> int:
    """A new revision file in the package's versions folder (with --autogenerate: the differences
    between the fantasy_db database, at head, and the models, as a first draft to review)."""
    from alembic import command

    from fantasy_jobs import migrate

    head = migrate.head()
    number = f"{int(head) + 1:04d}"
    config = migrate.alembic_config()
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():  # the new file formatted as `make lint` wants it
        config.set_section_option("post_write_hooks", "hooks", "ruff")
        config.set_section_option("post_write_hooks", "ruff.type", "exec")
        config.set_section_option("post_write_hooks", "ruff.executable", str(ruff))
        config.set_section_option("post_write_hooks", "ruff.options", "format REVISION_SCRIPT_FILENAME")
    options = {"message": args.message, "rev_id": number, "autogenerate": args.autogenerate}
    if args.autogenerate:
        engine = _engine()
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.revision(config, **options)
    else:
        command.revision(config, **options)
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
    sub.add_parser(
        "init-db", help="create or upgrade the app tables on the fantasy_db database (to head)"
    ).set_defaults(func=cmd_init_db)
    db = sub.add_parser(
        "db", help="the database schema's revision: upgrade, downgrade, current, history, check"
    )
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="bring the schema to a revision (default: head)")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default head)")
    down = db_sub.add_parser("downgrade", help="take the schema back to a revision")
    down.add_argument("revision", help="target revision, or -1 for one step back")
    for parser_ in (up, down):
        parser_.add_argument("--sql", action="store_true", help="print the SQL it would run, change nothing")
    db_sub.add_parser("current", help="the database's revision")
    db_sub.add_parser("history", help="every revision, newest first")
    db_sub.add_parser(
        "check", help="exit 1 if the database is not at head or differs from the models (drift)"
    )
    revision = db_sub.add_parser("revision", help="write a new revision file (developers)")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes")
    revision.add_argument(
        "--autogenerate",
        action="store_true",
        help="draft it from the differences between the fantasy_db database (at head) and the models",
    )
    db.set_defaults(func=cmd_db)
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
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # import-time chatter
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
