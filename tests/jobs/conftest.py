"""Fixtures of the job tests."""

from __future__ import annotations

import pytest

from tests.support import espn_world
from tests.support.espn_stub import EspnStub


@pytest.fixture
def espn(monkeypatch):
    """The ESPN stand-in serving the small world of tests/support/espn_world.py, as `wnba_api`."""
    stub = EspnStub().start()
    espn_world.serve_world(stub)
    monkeypatch.setenv("AIRFLOW_CONN_WNBA_API", stub.url)
    monkeypatch.setenv("FANTASY_ESPN_MIN_INTERVAL", "0")
    monkeypatch.setenv("FANTASY_ESPN_BACKOFF", "0.01")
    monkeypatch.setenv("FANTASY_ESPN_TIMEOUT", "1")
    monkeypatch.setenv("FANTASY_ESPN_MAX_ATTEMPTS", "3")
    # The world keeps G3 in progress at the nightly's time (to test live lines), which real games never
    # are: a game is owed a box score only a week after tip-off here; tests of that rule set their own.
    monkeypatch.setenv("FANTASY_BOX_SCORE_OWED_HOURS", "168")
    yield stub
    stub.stop()
