"""Shared fixtures: a real PostgreSQL server, SQLite files, one DagBag, a Slack stand-in.

Airflow is configured before anything imports it: a temporary AIRFLOW_HOME, no examples, the
repository's dags/ and plugins/ folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_HOME = tempfile.mkdtemp(prefix="fantasy-airflow-home-")
os.environ.update(
    AIRFLOW_HOME=AIRFLOW_HOME,
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
    AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
    AIRFLOW__CORE__UNIT_TEST_MODE="False",
    FANTASY_SKIP_VARIABLES="1",
)
# No test may reach ESPN: unless a test points wnba_api at its local stand-in, calls fail fast here.
os.environ["AIRFLOW_CONN_WNBA_API"] = "http://127.0.0.1:9"
os.environ.pop("AIRFLOW_CONN_FANTASY_DB", None)
os.environ.pop("AIRFLOW_CONN_SLACK_ALERTS", None)

import pytest  # noqa: E402

from tests.support.http_stub import HttpStub  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request, tmp_path) -> str:
    """An empty app database URL, once on PostgreSQL and once on SQLite."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        return server.url(server.create_database())
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def engine(db_url):
    """An engine on a database with the app schema created."""
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.schema import create_all

    engine = make_engine(db_url)
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_templates(postgres, tmp_path_factory):
    """The demo data built once per dialect: a PostgreSQL template database and a SQLite file."""
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.demo import load_demo
    from fantasy_jobs.schema import create_all

    pg_name = postgres.create_database("demo_template")
    sqlite_file = tmp_path_factory.mktemp("demo") / "demo.db"
    for url in (postgres.url(pg_name), f"sqlite:///{sqlite_file}"):
        engine = make_engine(url)
        create_all(engine)
        load_demo(engine)
        engine.dispose()
    return {"postgresql": pg_name, "sqlite": sqlite_file}


@pytest.fixture(params=["postgresql", "sqlite"])
def demo_engine(request, demo_templates, postgres, tmp_path):
    """A fresh copy of the demo database, once on each dialect."""
    import shutil
    import uuid

    import psycopg

    from fantasy_jobs.db import make_engine

    if request.param == "postgresql":
        name = f"demo_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(postgres.url("postgres").replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{demo_templates["postgresql"]}"')
        url = postgres.url(name)
    else:
        copy = tmp_path / "demo.db"
        shutil.copy(demo_templates["sqlite"], copy)
        url = f"sqlite:///{copy}"
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(postgres):
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.schema import create_all

    engine = make_engine(postgres.url(postgres.create_database()))
    create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def redis_server():
    from tests.support.redis_server import RedisServer

    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis_conn(redis_server, monkeypatch):
    """`fantasy_redis` pointed at the test server, emptied first; yields a client."""
    client = redis_server.client()
    client.flushall()
    monkeypatch.setenv("AIRFLOW_CONN_FANTASY_REDIS", redis_server.uri)
    yield client
    client.close()


@pytest.fixture(scope="session")
def dagbag():
    """One DagBag for all DAG tests (parsing is the slow part)."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.fixture
def slack():
    stub = HttpStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="session")
def airflow_home():
    """A migrated Airflow metadata database (SQLite) for `airflow dags test` subprocesses."""
    env = airflow_env()
    subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    return AIRFLOW_HOME


def airflow_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "PYTEST_"))}
    env["AIRFLOW_CONN_WNBA_API"] = os.environ["AIRFLOW_CONN_WNBA_API"]
    env.pop("FANTASY_SKIP_VARIABLES", None)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env.update(extra)
    return env


def pytest_collection_finish(session):
    """The busy-machine `make run` test watches a first start for 10 minutes: when it is selected,
    its `make run` starts now and those minutes pass beside the rest of the suite."""
    from tests.support.make_run import BUSY_TEST, BusyMakeRun

    if os.environ.get("FANTASY_MAKE_RUN_AT_START", "1") != "1":
        return
    if any(item.nodeid == BUSY_TEST for item in session.items):
        root = Path(tempfile.mkdtemp(prefix="fantasy-busy-make-run-"))
        session.config.busy_make_run = BusyMakeRun(root)


def pytest_sessionfinish(session):
    started = getattr(session.config, "busy_make_run", None)
    if started is not None:
        started.stop()
        import shutil

        shutil.rmtree(started.checkout.parent, ignore_errors=True)
