"""Live scoring end to end under real Airflow: api-server, scheduler, dag-processor and triggerer,
the live watcher polling a local ESPN stand-in at the real time, on both app databases.

A game tips off later today: the watcher waits, and no `fantasy_live` run is created. The game goes
live and a player's line changes twice: each time the points in the app database follow within
60 s of the change at the stand-in. The game ends and the scoreboard empties: no further run.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from fantasy_jobs import scoring
from fantasy_jobs.db import make_engine
from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.live_watch import EASTERN
from fantasy_jobs.espn.sample import scoreboard_payload
from fantasy_jobs.schema import FantasyPoints, FantasyTeam, Player, TeamWeekScore, create_all
from tests.conftest import VENV_BIN
from tests.jobs.test_live_points import CUSTOM, world_leagues
from tests.support import espn_world as w
from tests.support.airflow_server import AirflowServers
from tests.support.espn_stub import EspnStub
from tests.support.jobs import run_job

pytestmark = pytest.mark.airflow_cli
BOUND = 60  # seconds from a change at ESPN to the new points committed
POLL = "3"  # the watcher's live interval here (15 s by default)
OTHER_DAGS = ("fantasy_daily", "fantasy_frequent", "fantasy_weekly")


def hana(fgm: int, fga: int):
    return w.line("4001", "Hana Hill", fgm=fgm, fga=fga, fg3m=1, fg3a=2, minutes=12)


def expected_points(line) -> list[float]:
    """Hana's points under the two leagues' weights (default and CUSTOM), by scoring's Python formula."""
    stats = {**line.stats, "did_not_play": False}
    return sorted(round(scoring.points(stats, scoring.league_weights(s)), 2) for s in ({}, CUSTOM))


def serve(stub: EspnStub, game, now: datetime) -> None:
    """Today's (and yesterday's) scoreboard with `game` (None: no game), and its summary."""
    day = now.astimezone(EASTERN)
    for offset in (0, 1):
        date = (day - timedelta(days=offset)).strftime("%Y%m%d")
        games = [game] if game is not None and offset == 0 else []
        stub.add(api.SCOREBOARD, scoreboard_payload(games, date), {"dates": date, "limit": 200})
    if game is not None:
        stub.add(api.SUMMARY, game.summary(), {"event": game.id})


def hana_points(engine) -> dict[str, float]:
    """Hana Hill's live points in the live game, by league team that starts her (through its profile)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(FantasyPoints.points)
            .join(Player, Player.id == FantasyPoints.player_id)
            .where(Player.espn_id == "4001", FantasyPoints.game_id.in_(select_live_game()))
        ).scalars()
        return sorted(round(p, 2) for p in rows)


def select_live_game():
    from fantasy_jobs.schema import Game

    return select(Game.id).where(Game.espn_id == w.G3.id)


def l1_total(engine) -> float | None:
    with engine.connect() as conn:
        return conn.scalar(
            select(TeamWeekScore.points)
            .join(FantasyTeam, FantasyTeam.id == TeamWeekScore.fantasy_team_id)
            .where(FantasyTeam.name == "L1")
        )


def live_runs(servers: AirflowServers, token: str) -> list[dict]:
    response = httpx.get(
        f"{servers.url}/api/v2/dags/fantasy_live/dagRuns",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["dag_runs"]


def wait_for(condition, timeout: float, what: str, servers: AirflowServers):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(
        f"{what}: not within {timeout:.0f} s\n--- triggerer ---\n{servers.log('triggerer')[-3000:]}"
        f"\n--- scheduler ---\n{servers.log('scheduler')[-2000:]}"
    )


def burst_while_a_tick_is_held(engine, stub, servers, token, live, now, before: int):
    """Five changes while a tick is held (its game row locked by another transaction): that run
    stays active, the changes seen meanwhile start exactly ONE follow-up run, not five, and the
    points end at the last change."""
    from sqlalchemy import text

    runs_before = before
    with engine.connect() as conn:
        conn.execute(text("SELECT 1 FROM games WHERE espn_id = :id FOR UPDATE"), {"id": w.G3.id})
        line = hana(5, 9)
        serve(stub, dataclasses.replace(live, home_lines=[line]), now)
        wait_for(
            lambda: any(r["state"] == "running" for r in live_runs(servers, token)[runs_before:]),
            60,
            "a tick blocked on the locked game",
            servers,
        )
        for fgm in range(6, 10):  # four more changes, seen while the tick waits
            line = hana(fgm, 12)
            serve(stub, dataclasses.replace(live, home_lines=[line]), now)
            time.sleep(float(POLL) + 2)
        assert len(live_runs(servers, token)) == runs_before + 1  # the held tick only: the rest wait queued
        conn.rollback()
    wait_for(lambda: hana_points(engine) == expected_points(line), BOUND, "points after the burst", servers)
    runs = wait_for(
        lambda: (r := live_runs(servers, token)) and all(x["state"] == "success" for x in r) and r,
        120,
        "the burst's runs finished",
        servers,
    )
    assert len(runs) == runs_before + 2, [r["dag_run_id"] for r in runs]  # the held tick and ONE follow-up
    return line


@pytest.fixture(params=["postgresql", "sqlite"])
def app_db(request, tmp_path):
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        name = server.create_database("live")
        return server.url(name), server.airflow_uri(name)
    path = tmp_path / "app.db"
    return f"sqlite:///{path}", f"sqlite:///{path}"


def test_points_follow_espn_within_a_minute_and_nothing_runs_between_games(app_db):
    url, airflow_uri = app_db
    engine = make_engine(url)
    create_all(engine)
    stub = EspnStub().start()
    world_leagues(engine)  # Hana Hill starts for L1 (default weights) and C1 (custom weights)
    now = datetime.now(UTC)
    game = dataclasses.replace(
        w.G3, start=now + timedelta(hours=3), status="scheduled", home_lines=[], away_lines=[]
    )
    serve(stub, game, now)
    run_job(engine, "calculate_fantasy_scores", now)  # the nightly has linked the leagues to their profiles
    servers = AirflowServers(
        VENV_BIN,
        airflow_uri,
        extra_env={
            "AIRFLOW_CONN_WNBA_API": stub.url,
            "FANTASY_LIVE_POLL_SECONDS": POLL,
            "FANTASY_LIVE_IDLE_SECONDS": "30",
            "FANTASY_ESPN_MIN_INTERVAL": "0",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
        },
    ).prepare()
    try:
        for dag_id in OTHER_DAGS:  # only the live group here
            servers.airflow("dags", "pause", dag_id)
        servers.start("scheduler", "dag-processor", "triggerer")
        token = servers.token()
        wait_for(lambda: "watching" in servers.log("triggerer"), 180, "the watcher started", servers)

        # before tip-off: the scoreboard is read, no summary, no run
        time.sleep(10)
        assert live_runs(servers, token) == []
        assert not [h for h in stub.hits if h.startswith(api.SUMMARY)]

        # tip-off: the game goes live with Hana's first basket
        changes = []
        line = hana(1, 2)
        live = dataclasses.replace(
            game, start=now - timedelta(minutes=1), status="in_progress", home_lines=[line]
        )
        serve(stub, live, now)
        changed_at = time.monotonic()
        first = wait_for(lambda: hana_points(engine), 30 + BOUND, "the first live points", servers)
        changes.append(time.monotonic() - changed_at)
        assert first == expected_points(line)

        for fgm, fga in ((2, 4), (4, 7)):
            line = hana(fgm, fga)
            live = dataclasses.replace(live, home_lines=[line])
            serve(stub, live, now)
            changed_at = time.monotonic()
            wait_for(
                lambda line=line: hana_points(engine) == expected_points(line),
                BOUND,
                f"points after {fgm} baskets",
                servers,
            )
            changes.append(time.monotonic() - changed_at)
            # L1 starts Hana alone (Dana sits on its bench): its week total is her default-weights points
            assert l1_total(engine) == round(scoring.points({**line.stats}, scoring.league_weights({})), 2)
        print(f"ESPN change -> points committed: {', '.join(f'{c:.1f} s' for c in changes)}")
        assert max(changes) < BOUND, changes

        runs = wait_for(
            lambda: (r := live_runs(servers, token)) and all(x["state"] == "success" for x in r) and r,
            120,
            "every live run finished",
            servers,
        )
        assert 3 <= len(runs) <= 6, [r["dag_run_id"] for r in runs]  # one per change (a restart may add one)

        if engine.dialect.name == "postgresql":
            line = burst_while_a_tick_is_held(engine, stub, servers, token, live, now, len(runs))
            live = dataclasses.replace(live, home_lines=[line])

        # the game ends and the day's scoreboard empties: the watcher goes idle, no more runs
        serve(stub, dataclasses.replace(live, status="final"), now)
        time.sleep(2 * float(POLL) + 5)
        serve(stub, None, now)
        settled = len(live_runs(servers, token))
        time.sleep(20)
        assert len(live_runs(servers, token)) == settled
    finally:
        servers.stop()
        stub.stop()
        engine.dispose()
