"""Issue 13 item 3: weights and bonuses out of bounds skip that league only; one failing profile
stops no other (tests/support/league_world.py: leagues A, B, T are good and checked by hand)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from fantasy_jobs import scoring
from fantasy_jobs.schema import TeamWeekScore, WeeklyBonus
from tests.jobs.test_scoring import DAILY, MONDAY, week_totals
from tests.support import league_world as lw
from tests.support.jobs import run_job

BAD_WEIGHTS = {
    "Huge": ({"weights": {"pts": 1e308}}, "weights.pts must be between -1000 and 1000, got 1e+308"),
    "Big": ({"weights": {"stl": 1e300}}, "weights.stl must be between -1000 and 1000, got 1e+300"),
    "Nan": ({"weights": {"reb": "NaN"}}, "weights.reb must be a finite number, got 'NaN'"),
    "Inf": ({"weights": {"ast": "-Infinity"}}, "weights.ast must be a finite number, got '-Infinity'"),
}
GOOD = ("A", "B", "T")


def use_slack(monkeypatch, slack) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )


def leagues_scored(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count(TeamWeekScore.league_id.distinct())))


def test_out_of_range_weights_skip_that_league_only(engine, slack, monkeypatch):
    use_slack(monkeypatch, slack)
    ids = lw.build(engine, extra_leagues={name: settings for name, (settings, _) in BAD_WEIGHTS.items()})
    result = run_job(engine, "calculate_fantasy_scores", DAILY)
    problems = result.details["skipped_leagues"]
    assert len(problems) == len(BAD_WEIGHTS)
    for name, (_, message) in BAD_WEIGHTS.items():
        assert any(f"league {ids[name]} (League {name}): scoring_settings.{message}" in p for p in problems)
        assert week_totals(engine, ids, name) == {}
    assert leagues_scored(engine) == len(GOOD)  # every good league scored, and the hand-checked totals hold
    assert week_totals(engine, ids, "A")[("A1", 202629)] == (62.0, 0.0)
    assert week_totals(engine, ids, "B")[("B2", 202629)] == (51.0, 0.0)
    (message,) = slack.requests
    assert "4 league(s) skipped for bad scoring settings" in message.json()["text"]
    assert f"league {ids['Huge']} (League Huge)" in message.json()["text"]


def test_nan_and_infinity_numbers_in_json_are_refused(tmp_path):
    """SQLite's JSON keeps bare NaN/Infinity (PostgreSQL's jsonb refuses them on write)."""
    from fantasy_jobs.db import make_engine
    from fantasy_jobs.schema import create_all

    engine = make_engine(f"sqlite:///{tmp_path / 'nan.db'}")
    create_all(engine)
    ids = lw.build(
        engine,
        extra_leagues={
            "Nan": {"weights": {"pts": float("nan")}},
            "Inf": {"bonuses": {"weekly_high_score": float("inf")}},
        },
    )
    result = run_job(engine, "calculate_fantasy_scores", DAILY)
    problems = result.details["skipped_leagues"]
    assert any(
        f"league {ids['Nan']} (League Nan): scoring_settings.weights.pts must be a finite number" in p
        for p in problems
    )
    assert any(
        f"league {ids['Inf']} (League Inf): scoring_settings.bonuses.weekly_high_score must be a finite number"
        in p
        for p in problems
    )
    assert leagues_scored(engine) == len(GOOD)
    engine.dispose()


def test_out_of_range_bonus_skips_that_league_only(engine, slack, monkeypatch):
    ids = lw.build(engine, extra_leagues={"X": {"bonuses": {"weekly_high_score": 1.7e308}}})
    run_job(engine, "calculate_fantasy_scores", DAILY)
    use_slack(monkeypatch, slack)
    result = run_job(engine, "calculate_bonuses", MONDAY)
    (problem,) = result.details["skipped_leagues"]
    assert (
        f"league {ids['X']} (League X): scoring_settings.bonuses.weekly_high_score must be between -1000 and 1000"
        in problem
    )
    assert result.rows_affected == 9  # the nine hand-checked bonuses of A, B and T (test_scoring.py)
    with engine.connect() as conn:
        leagues = set(conn.execute(select(WeeklyBonus.league_id).distinct()).scalars())
    assert leagues == {ids[league] for league in GOOD}
    assert week_totals(engine, ids, "A")[("A2", 202629)] == (65.0, 7.0)
    assert "League X" in slack.requests[-1].json()["text"]


@pytest.mark.parametrize("value", [1000, -1000, 999.5])
def test_the_documented_range_is_accepted(value):
    assert scoring.league_weights({"weights": {"pts": value}})["pts"] == value
    assert scoring.league_bonuses({"bonuses": {"all_starters_played": value}})["all_starters_played"] == value


def test_a_failing_profile_stops_no_other(pg_engine, monkeypatch):
    """Past validation (bounds lifted here), a weight that overflows the column fails its own profile only."""
    monkeypatch.setattr(scoring, "MAX_ABS_WEIGHT", float("inf"))
    ids = lw.build(pg_engine, extra_leagues={"Huge": {"weights": {"pts": 1e308}}})
    with pytest.raises(
        RuntimeError,
        match=r"4 leagues, 3 profiles: .*1 profile\(s\) failed: profile \w+: NumericValueOutOfRange: .* out of range for type double precision",
    ):
        run_job(pg_engine, "calculate_fantasy_scores", DAILY)
    assert leagues_scored(pg_engine) == len(GOOD)  # the other two profiles were written and totalled
    assert week_totals(pg_engine, ids, "A")[("A2", 202629)] == (65.0, 0.0)
    assert week_totals(pg_engine, ids, "B")[("B1", 202629)] == (49.0, 0.0)
    with pg_engine.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM fantasy_points")) == 2 * 11
