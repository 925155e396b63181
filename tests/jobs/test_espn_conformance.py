"""Every real ESPN capture in ../shared/espn parses into rows that agree with themselves.

Skipped cleanly when the folder is absent. The captures are read in place, never copied.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.models import RosterPayload, StandingsPayload, SummaryPayload, parse
from fantasy_jobs.schema import Game, PlayerGameStats, Team
from tests.conftest import REPO
from tests.support.espn_stub import EspnStub
from tests.support.jobs import run_job

CAPTURES = REPO.parent / "shared" / "espn"
pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason="../shared/espn captures are not here")


def captures(kind: str) -> list[Path]:
    return sorted((CAPTURES / kind).rglob("*.json")) if CAPTURES.is_dir() else []


@pytest.mark.parametrize("path", captures("summaries"), ids=lambda p: p.stem)
def test_box_scores_add_up_to_the_team_scores(path):
    summary = parse(SummaryPayload, json.loads(path.read_text()), path.name)
    game = summary.game()
    lines = summary.stat_lines()
    assert game.status == "final" and game.is_franchise_game
    for team, score in ((game.home, game.home_score), (game.away, game.away_score)):
        team_lines = [line for line in lines if line["team"].id == team.id]
        assert sum(line["pts"] for line in team_lines) == score
        for line in team_lines:
            assert line["pts"] == 2 * (line["fgm"] - line["fg3m"]) + 3 * line["fg3m"] + line["ftm"]
            assert line["reb"] == line["oreb"] + line["dreb"]
            assert line["fgm"] <= line["fga"] and line["fg3m"] <= line["fg3a"] and line["ftm"] <= line["fta"]
            if line["did_not_play"]:
                assert line["minutes"] == 0 and line["pts"] == 0


def test_known_facts_of_the_captured_games():
    facts = {}
    for path in captures("summaries"):
        summary = parse(SummaryPayload, json.loads(path.read_text()), path.name)
        game = summary.game()
        dnp = sum(line["did_not_play"] for line in summary.stat_lines())
        facts[game.espn_id] = (
            game.away.abbreviation,
            game.away_score,
            game.home.abbreviation,
            game.home_score,
            dnp,
        )
    assert facts == {
        "401857086": ("PHX", 86, "LA", 82, 3),
        "401856989": ("LA", 111, "PHX", 102, 7),
        "401857093": ("TOR", 93, "MIN", 100, 7),
    }


ROSTER_SIZES = {
    "3": 16,
    "5": 14,
    "6": 14,
    "8": 15,
    "9": 15,
    "11": 15,
    "14": 14,
    "16": 14,
    "17": 14,
    "18": 14,
    "19": 15,
    "20": 14,
    "129689": 15,
    "131935": 16,
    "132052": 16,
}


@pytest.mark.parametrize("path", captures("rosters"), ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_rosters_yield_their_players(path):
    roster = parse(RosterPayload, json.loads(path.read_text()), path.name)
    rows = roster.player_rows()
    if not roster.team.is_franchise:
        assert rows == [] and path.stem in ("-1", "-2", "133383", "133384")
        return
    if path.parent.name == "2026":
        assert len(rows) == ROSTER_SIZES[path.stem]
    assert len({r["espn_id"] for r in rows}) == len(rows)
    assert all(r["full_name"] and r["position"] for r in rows)


def test_2026_rosters_are_the_15_franchises():
    franchises = {
        p.stem
        for p in captures("rosters")
        if p.parent.name == "2026"
        and parse(RosterPayload, json.loads(p.read_text()), p.name).team.is_franchise
    }
    assert franchises == set(ROSTER_SIZES)


@pytest.mark.parametrize("year,teams,east", [(2026, 15, 7), (2025, 13, 6)])
def test_standings_read_by_name(year, teams, east):
    standings = parse(
        StandingsPayload, json.loads((CAPTURES / "standings" / f"{year}.json").read_text()), f"{year}.json"
    )
    rows = standings.rows(year)
    assert len(rows) == teams and sum(r["conference"] == "East" for r in rows) == east
    assert all(r["wins"] + r["losses"] > 0 for r in rows)
    first = {r["team"].abbreviation: r for r in rows}
    if year == 2026:
        assert (first["IND"]["wins"], first["IND"]["losses"]) == (24, 12) and first["IND"]["clincher"] is None
    else:
        assert (first["ATL"]["wins"], first["ATL"]["losses"], first["ATL"]["conference_rank"]) == (30, 14, 1)
        assert first["ATL"]["clincher"]


def test_captured_box_scores_through_the_job(engine, monkeypatch):
    """The three captured games, known in the database as not final, are ingested end to end."""
    stub = EspnStub().start()
    try:
        payloads = {p.stem: json.loads(p.read_text()) for p in captures("summaries")}
        for event, payload in payloads.items():
            stub.add(api.SUMMARY, payload, {"event": event})
        now = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
        for day in ("20260829", "20260830", "20260831", "20260901"):
            stub.add(api.SCOREBOARD, {"events": []}, {"dates": day, "limit": 200})
        monkeypatch.setenv("AIRFLOW_CONN_WNBA_API", stub.url)
        monkeypatch.setenv("FANTASY_ESPN_MIN_INTERVAL", "0")
        with engine.begin() as conn:
            conn.execute(
                insert(Team),
                [
                    {"espn_id": i, "abbreviation": a, "display_name": a}
                    for i, a in (("6", "LA"), ("11", "PHX"), ("8", "MIN"), ("131935", "TOR"))
                ],
            )
            ids = dict(conn.execute(select(Team.espn_id, Team.id)).all())
            conn.execute(
                insert(Game),
                [
                    {
                        "espn_id": "401857086",
                        "season": 2026,
                        "start_time": datetime(2026, 7, 22, 19, tzinfo=UTC),
                        "home_team_id": ids["6"],
                        "away_team_id": ids["11"],
                        "status": "scheduled",
                    },
                    {
                        "espn_id": "401856989",
                        "season": 2026,
                        "start_time": datetime(2026, 6, 14, 2, tzinfo=UTC),
                        "home_team_id": ids["11"],
                        "away_team_id": ids["6"],
                        "status": "scheduled",
                    },
                    {
                        "espn_id": "401857093",
                        "season": 2026,
                        "start_time": datetime(2026, 7, 29, tzinfo=UTC),
                        "home_team_id": ids["8"],
                        "away_team_id": ids["131935"],
                        "status": "in_progress",
                    },
                ],
            )
        run_job(engine, "ingest_player_stats", now)
        with engine.connect() as conn:
            scores = conn.execute(
                select(Game.espn_id, Game.status, Game.home_score, Game.away_score).order_by(Game.espn_id)
            ).all()
            totals = conn.execute(
                select(Game.espn_id, PlayerGameStats.team_id, func.sum(PlayerGameStats.pts))
                .join(Game, Game.id == PlayerGameStats.game_id)
                .group_by(Game.espn_id, PlayerGameStats.team_id)
            ).all()
        assert [tuple(s) for s in scores] == [
            ("401856989", "final", 102, 111),
            ("401857086", "final", 82, 86),
            ("401857093", "final", 100, 93),
        ]
        assert sorted(t[2] for t in totals) == sorted([102, 111, 82, 86, 100, 93])
    finally:
        stub.stop()
