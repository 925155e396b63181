"""scripts/airflow_cfg.py, which `make run` uses to write its settings into .airflow/airflow.cfg:
only the named options change; comments, secrets and every other line stay; the file stays valid
for Airflow's strict parser (no option twice)."""

from __future__ import annotations

import configparser
import importlib.util

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("airflow_cfg", REPO / "scripts" / "airflow_cfg.py")
airflow_cfg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(airflow_cfg)

GENERATED = """[core]
# The folder where your DAGs live
dags_folder = /home/me/airflow/dags
fernet_key = keep-me=
load_examples = True

[api_auth]
jwt_secret = secret==
"""


def test_named_options_change_and_everything_else_stays():
    text = airflow_cfg.set_options(
        GENERATED,
        {
            ("core", "dags_folder"): "/src/app/dags",
            ("core", "plugins_folder"): "/src/app/plugins",  # not in the file yet
            ("api", "port"): "8081",  # a section the file does not have
        },
    )
    parser = configparser.RawConfigParser(strict=True)
    parser.read_string(text)
    assert parser.get("core", "dags_folder") == "/src/app/dags"
    assert parser.get("core", "plugins_folder") == "/src/app/plugins"
    assert parser.get("api", "port") == "8081"
    assert (
        parser.get("core", "fernet_key") == "keep-me=" and parser.get("api_auth", "jwt_secret") == "secret=="
    )
    assert "# The folder where your DAGs live" in text and parser.get("core", "load_examples") == "True"
    assert airflow_cfg.set_options(text, {("core", "dags_folder"): "/src/app/dags"}) == text  # idempotent


def test_bad_arguments_are_refused(tmp_path, capsys):
    assert airflow_cfg.main([str(tmp_path / "airflow.cfg"), "dags_folder=/x"]) == 2
    assert "expected section.option=value" in capsys.readouterr().err
