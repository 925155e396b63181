"""ESPN failures: retried when a retry can help, refused with a clear error when not; nothing partial written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.client import EspnClient, EspnError, EspnPayloadError
from fantasy_jobs.schema import Game, IngestLog, Player, PlayerGameStats, Team
from tests.support import espn_world as w
from tests.support.espn_stub import EspnStub, Reply
from tests.support.jobs import count, run_job

G1_SUMMARY = {"event": w.G1.id}


def nothing_written(engine) -> bool:
    return count(engine, Game) == 0 and count(engine, PlayerGameStats) == 0 and count(engine, Player) == 0


def error_logs(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            select(IngestLog.endpoint, IngestLog.error).where(IngestLog.status == "error")
        ).all()


def test_429_then_200_is_retried_and_succeeds(engine, espn):
    espn.script(api.TEAMS, [Reply(429, b"slow down", {"Retry-After": "0"}), espn.routes[api.TEAMS][0]])
    assert run_job(engine, "ingest_teams", w.DAILY_NOW).rows_affected == 4
    assert espn.hits.count(api.TEAMS) == 2


def test_500_until_retries_run_out_fails_and_writes_nothing(engine, espn):
    espn.script(api.SUMMARY, [Reply(500, b"oops")], G1_SUMMARY)
    with pytest.raises(EspnError, match=r"HTTP 500 .* after 3 attempts"):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert nothing_written(engine)
    assert [e for e, _ in error_logs(engine)] == [f"{api.SUMMARY}?event={w.G1.id}"]


def test_truncated_json_is_a_clear_error_and_writes_nothing(engine, espn):
    body = espn.routes[f"{api.SUMMARY}?event={w.G2.id}"][0].payload()
    espn.script(api.SUMMARY, [Reply(200, body[: len(body) // 2])], {"event": w.G2.id})
    with pytest.raises(EspnPayloadError, match="event=401980002: the body is not valid JSON"):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert nothing_written(engine)  # G1 had validated already: still nothing written


def test_missing_required_field_names_the_field(engine, espn):
    summary = w.G1.summary()
    del summary["header"]["competitions"][0]["date"]
    espn.add(api.SUMMARY, summary, G1_SUMMARY)
    with pytest.raises(
        EspnPayloadError, match=r"summary\?event=401980001: field header\.competitions\[0\]\.date = missing"
    ):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert nothing_written(engine)


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
    assert nothing_written(engine)


def test_wrong_json_type_is_named_by_pydantic_path(engine, espn):
    board = {
        "events": [{"id": "1", "date": "2026-07-19T23:30Z", "season": {"year": "twenty"}, "competitions": []}]
    }
    espn.add(api.SCOREBOARD, board, {"dates": "20260719", "limit": 200})
    with pytest.raises(EspnPayloadError, match=r"field events\[0\]\.season\.year = 'twenty'"):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert nothing_written(engine)


def test_partial_box_score_is_refused(engine, espn):
    summary = w.G1.summary()
    del summary["boxscore"]["players"][1]["statistics"][0]["athletes"][0]  # drop Avery Adams' 21 points
    espn.add(api.SUMMARY, summary, G1_SUMMARY)
    with pytest.raises(
        EspnPayloadError, match="box score of IND adds up to 9 points, the game score says 30"
    ):
        run_job(engine, "ingest_player_stats", w.DAILY_NOW)
    assert nothing_written(engine)


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
