"""ESPN failures: retried when a retry can help, refused with a clear error when not; a bad game
is not stored final (nothing partial of it written) and never blocks the good ones."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.client import EspnClient, EspnError, EspnPayloadError
from fantasy_jobs.schema import Game, IngestLog, PlayerGameStats, Team
from tests.support import espn_world as w
from tests.support.espn_stub import EspnStub, Reply
from tests.support.jobs import count, run_job

G1_SUMMARY = {"event": w.G1.id}


def games_stored(engine) -> dict[str, tuple]:
    """status, box_score_status and stat lines of every stored game, by ESPN id."""
    with engine.connect() as conn:
        games = conn.execute(select(Game.id, Game.espn_id, Game.status, Game.box_score_status)).all()
        lines = dict(
            conn.execute(
                select(PlayerGameStats.game_id, func.count()).group_by(PlayerGameStats.game_id)
            ).all()
        )
    return {g.espn_id: (g.status, g.box_score_status, lines.get(g.id, 0)) for g in games}


def only_bad_game_held_back(engine, bad: str) -> bool:
    """The bad game is known (scoreboard status) but not final, with no line; the others landed."""
    stored = games_stored(engine)
    good = {w.G1.id: ("final", "stored", 5), w.G2.id: ("final", "stored", 4)}
    return (
        stored.pop(bad) == ("in_progress", "pending", 0)
        and stored.pop(w.G3.id) == ("in_progress", None, 0)
        and stored == {g: v for g, v in good.items() if g != bad}
    )


def error_logs(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            select(IngestLog.endpoint, IngestLog.error).where(IngestLog.status == "error")
        ).all()


def test_429_then_200_is_retried_and_succeeds(engine, espn):
    espn.script(api.TEAMS, [Reply(429, b"slow down", {"Retry-After": "0"}), espn.routes[api.TEAMS][0]])
    assert run_job(engine, "ingest_teams", w.DAILY_NOW).rows_affected == 4
    assert espn.hits.count(api.TEAMS) == 2


def test_500_until_retries_run_out_fails_the_game_not_the_others(engine, espn):
    espn.script(api.SUMMARY, [Reply(500, b"oops")], G1_SUMMARY)
    with pytest.raises(EspnError, match=r"\[game 401980001\] .*HTTP 500 .* after 3 attempts") as info:
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert not isinstance(info.value, EspnPayloadError)  # retryable: Airflow retries the task
    assert only_bad_game_held_back(engine, w.G1.id)
    assert [e for e, _ in error_logs(engine)] == [f"{api.SUMMARY}?event={w.G1.id}"]


def test_truncated_json_every_time_is_a_clear_retryable_error(engine, espn):
    body = espn.routes[f"{api.SUMMARY}?event={w.G2.id}"][0].payload()
    espn.script(api.SUMMARY, [Reply(200, body[: len(body) // 2])], {"event": w.G2.id})
    with pytest.raises(EspnError, match="event=401980002: the body is not complete JSON") as info:
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert not isinstance(info.value, EspnPayloadError)
    assert espn.hits.count(f"{api.SUMMARY}?event={w.G2.id}") == 3  # retried like a 5xx
    assert only_bad_game_held_back(engine, w.G2.id)  # G1 validated: stored final


def test_missing_required_field_names_the_field(engine, espn):
    summary = w.G1.summary()
    del summary["header"]["competitions"][0]["date"]
    espn.add(api.SUMMARY, summary, G1_SUMMARY)
    with pytest.raises(
        EspnPayloadError, match=r"summary\?event=401980001: field header\.competitions\[0\]\.date = missing"
    ):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert only_bad_game_held_back(engine, w.G1.id)


def test_wrong_type_names_the_field_and_value(engine, espn):
    summary = w.G1.summary()
    summary["boxscore"]["players"][1]["statistics"][0]["athletes"][0]["stats"][2] = "8/15"
    espn.add(api.SUMMARY, summary, G1_SUMMARY)
    with pytest.raises(EspnPayloadError) as info:
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    message = str(info.value)
    assert (
        "boxscore.players[1].statistics[0].athletes[0].stats[2] (fieldGoalsMade-fieldGoalsAttempted)"
        in message
    )
    assert "'8/15'" in message and "made-attempted pair" in message
    assert only_bad_game_held_back(engine, w.G1.id)


def test_wrong_json_type_is_named_by_pydantic_path(engine, espn):
    board = {
        "events": [{"id": "1", "date": "2026-07-19T23:30Z", "season": {"year": "twenty"}, "competitions": []}]
    }
    espn.add(api.SCOREBOARD, board, {"dates": "20260719", "limit": 200})
    with pytest.raises(EspnPayloadError, match=r"field events\[0\]\.season\.year = 'twenty'"):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    stored = games_stored(engine)  # the other days' scoreboards landed
    assert stored == {w.G2.id: ("final", "stored", 4), w.G3.id: ("in_progress", None, 0)}


def test_partial_box_score_is_refused(engine, espn):
    summary = w.G1.summary()
    del summary["boxscore"]["players"][1]["statistics"][0]["athletes"][0]  # drop Avery Adams' 21 points
    espn.add(api.SUMMARY, summary, G1_SUMMARY)
    with pytest.raises(
        EspnPayloadError, match="box score of IND adds up to 9 points, the game score says 30"
    ):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert only_bad_game_held_back(engine, w.G1.id)


def test_timeout_is_retried_then_fails(engine, espn):
    espn.script(api.TEAMS, [Reply(200, b"{}", delay=1.5)])
    with pytest.raises(EspnError, match=r"ReadTimeout.* after 3 attempts"):
        run_job(engine, "ingest_teams", w.DAILY_NOW)
    assert count(engine, Team) == 0
    assert len(error_logs(engine)) == 1


def test_client_honours_retry_after_and_sends_its_user_agent():
    stub = EspnStub().start()
    try:
        stub.script("/x", [Reply(429, b"", {"Retry-After": "7"}), Reply(503, b""), Reply(200, {"ok": True})])
        waits: list[float] = []
        client = EspnClient(base_url=stub.url, min_interval=0, backoff=0.5, sleep=waits.append)
        payload, call = client.get_json("/x")
        assert payload == {"ok": True} and call.status == "ok"
        assert waits == [7.0, 1.0]  # Retry-After, then the second backoff step
        assert set(stub.user_agents) == {api.USER_AGENT} and "fantasy-jobs" in api.USER_AGENT
    finally:
        stub.stop()


def test_client_spaces_requests_and_does_not_retry_404():
    stub = EspnStub().start()
    try:
        stub.add("/x", {"ok": True})
        waits: list[float] = []
        client = EspnClient(base_url=stub.url, min_interval=5, sleep=waits.append)
        client.get_json("/x")
        client.get_json("/x")
        assert len(waits) == 1 and 4 < waits[0] <= 5
        with pytest.raises(EspnPayloadError, match="HTTP 404"):
            client.get_json("/missing")
        assert stub.hits.count("/missing") == 1
    finally:
        stub.stop()
