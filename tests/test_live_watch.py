"""The live watcher (the trigger `fantasy_live` is scheduled on) against the local ESPN stand-in over
real HTTP: it fires on a box-score change and only then, backs off between games, survives ESPN
errors, and lets a game go once its final box score was looked at. `LiveWatch.look` is driven at
chosen times; `LiveBoxScoreTrigger.run` is driven as the triggerer drives it, at the real time."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.live_watch import EASTERN, LiveBoxScoreTrigger, LiveWatch, _espn_http
from fantasy_jobs.espn.sample import scoreboard_payload
from tests.support import espn_world as w
from tests.support.espn_stub import EspnStub, Reply

DURING = datetime(2026, 7, 21, 0, 45, tzinfo=UTC)  # 20:45 Eastern on Jul 20: G3 is live, G2 final
BOARD = {"dates": "20260720", "limit": 200}


@pytest.fixture
def stub():
    stub = EspnStub().start()
    w.serve_world(stub)
    yield stub
    stub.stop()


def look(watch: LiveWatch, stub: EspnStub, now: datetime):
    async def go():
        async with _espn_http(stub.url) as get_json:
            return await watch.look(get_json, now)

    return asyncio.run(go())


def summaries(stub: EspnStub) -> list[str]:
    return [hit for hit in stub.hits if hit.startswith(api.SUMMARY)]


def test_fires_on_a_change_and_stays_quiet_without_one(stub):
    watch = LiveWatch(poll_seconds=15)
    first = look(watch, stub, DURING)  # nothing seen yet: the live game's box score counts as new
    assert [g.payload() for g in first.changed] == [
        {"id": w.G3.id, "home": "9", "away": "8", "label": "MIN (8) @ NY (9)"}
    ]
    assert (first.live, first.wait, first.error) == (1, 15, None)
    assert summaries(stub) == [f"{api.SUMMARY}?event={w.G3.id}"]  # G2 (final) is not looked at

    quiet = [look(watch, stub, DURING + timedelta(seconds=15 * i)) for i in (1, 2, 3)]
    assert [q.changed for q in quiet] == [[], [], []] and {q.wait for q in quiet} == {15}

    later = dataclasses.replace(
        w.G3, home_lines=[w.line("4001", "Hana Hill", fgm=4, fga=8, fg3m=1, fg3a=2, minutes=13)]
    )
    stub.add(api.SUMMARY, later.summary(), {"event": w.G3.id})
    changed = look(watch, stub, DURING + timedelta(minutes=1))
    assert [g.espn_id for g in changed.changed] == [w.G3.id]
    assert look(watch, stub, DURING + timedelta(minutes=2)).changed == []


def test_survives_espn_errors_and_backs_off(stub):
    watch = LiveWatch(poll_seconds=10, max_backoff_seconds=60)
    look(watch, stub, DURING)
    stub.script(
        api.SCOREBOARD,
        [Reply(503, b"down")] * 4 + [Reply(body=scoreboard_payload([w.G2, w.G3, w.ALL_STAR], "20260720"))],
        BOARD,
    )
    waits = []
    for i in range(4):
        failed = look(watch, stub, DURING + timedelta(seconds=i))
        assert failed.changed == [] and "scoreboard" in failed.error and "503" in failed.error
        waits.append(failed.wait)
    assert waits == [20, 40, 60, 60] and watch.errors == 4  # doubling, capped
    back = look(watch, stub, DURING + timedelta(minutes=5))
    assert (back.error, back.wait, watch.errors, back.changed) == (None, 10, 0, [])  # same box score: quiet

    stub.script(api.SUMMARY, [Reply(body=b"{not json")], {"event": w.G3.id})  # a cut-off summary
    broken = look(watch, stub, DURING + timedelta(minutes=6))
    assert broken.changed == [] and "summary of 401980003" in broken.error and watch.errors == 1
    stub.add(api.SUMMARY, dataclasses.replace(w.G3, away_lines=[]).summary(), {"event": w.G3.id})
    assert [g.espn_id for g in look(watch, stub, DURING + timedelta(minutes=7)).changed] == [w.G3.id]


def test_between_games_one_scoreboard_request_per_idle_interval(stub):
    """Between games only the scoreboard is read, once per idle interval, or once more `soon` before
    the next tip-off when that comes first; inside that window, the live rate."""
    night = datetime(2026, 7, 19, 14, 0, tzinfo=UTC)  # 10:00 Eastern; G1 tips off at 19:30
    watch = LiveWatch(poll_seconds=15, idle_seconds=3600, soon=timedelta(minutes=30))
    stub.add(
        api.SCOREBOARD,
        scoreboard_payload([dataclasses.replace(w.G1, status="scheduled")], "20260719"),
        {"dates": "20260719", "limit": 200},
    )
    idle = look(watch, stub, night)
    assert (idle.changed, idle.live, idle.wait) == ([], 0, 3600)  # tip-off at 23:30 UTC: 9 h away
    assert summaries(stub) == []
    soon = look(watch, stub, datetime(2026, 7, 19, 22, 30, tzinfo=UTC))  # 1 h before: wake 30 min before it
    assert soon.wait == 1800
    inside = look(watch, stub, datetime(2026, 7, 19, 23, 10, tzinfo=UTC))  # 20 min before tip-off
    assert inside.wait == 15 and summaries(stub) == [f"{api.SUMMARY}?event={w.G1.id}"]

    empty = LiveWatch(idle_seconds=300)
    stub.add(api.SCOREBOARD, scoreboard_payload([], "20260717"), {"dates": "20260717", "limit": 200})
    assert look(empty, stub, datetime(2026, 7, 17, 15, 0, tzinfo=UTC)).wait == 300


def test_a_game_seen_final_gets_one_last_look_then_is_let_go(stub):
    watch = LiveWatch()
    look(watch, stub, DURING)
    final = dataclasses.replace(w.G3, status="final")
    stub.add(api.SCOREBOARD, scoreboard_payload([w.G2, final, w.ALL_STAR], "20260720"), BOARD)
    stub.add(api.SUMMARY, final.summary(), {"event": w.G3.id})
    last = look(watch, stub, DURING + timedelta(minutes=1))
    assert [g.espn_id for g in last.changed] == [] and watch.fingerprints == {}  # same lines, final now
    hits = len(summaries(stub))
    after = look(watch, stub, DURING + timedelta(minutes=2))
    assert after.wait == watch.idle_seconds and len(summaries(stub)) == hits  # nothing watched any more


def test_the_trigger_fires_events_at_the_real_time(stub, monkeypatch):
    """`run()` as the triggerer runs it: an event at the first look, none while nothing changes, one
    after the box score changes."""
    monkeypatch.setenv("FANTASY_LIVE_POLL_SECONDS", "2")
    now = datetime.now(UTC)
    live = dataclasses.replace(w.G3, start=now - timedelta(minutes=40))
    day = now.astimezone(EASTERN)
    for offset in (0, 1):
        date = (day - timedelta(days=offset)).strftime("%Y%m%d")
        stub.add(
            api.SCOREBOARD,
            scoreboard_payload([live] if offset == 0 else [], date),
            {"dates": date, "limit": 200},
        )
    stub.add(api.SUMMARY, live.summary(), {"event": live.id})

    async def watch():
        events = []

        async def consume():
            async for event in LiveBoxScoreTrigger(base_url=stub.url).run():
                events.append(event)

        consumer = asyncio.ensure_future(consume())
        await asyncio.sleep(5)  # the first look fires; four more looks see nothing new
        quiet = len(events)
        later = dataclasses.replace(live, away_lines=[w.line("2001", "Dana Diaz", fgm=3, fga=5, minutes=14)])
        stub.add(api.SUMMARY, later.summary(), {"event": live.id})
        deadline = asyncio.get_running_loop().time() + 10
        while len(events) < 2 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        consumer.cancel()
        return quiet, events

    quiet, events = asyncio.run(watch())
    assert quiet == 1 and len(events) == 2
    assert (
        [g["id"] for g in events[0].payload["games"]]
        == [live.id]
        == [g["id"] for g in events[1].payload["games"]]
    )
    assert events[1].payload["live"] == 1 and datetime.fromisoformat(events[1].payload["seen_at"]) > now


def test_the_trigger_serializes_for_the_triggerer():
    classpath, kwargs = LiveBoxScoreTrigger().serialize()
    assert classpath == "fantasy_jobs.espn.live_watch.LiveBoxScoreTrigger" and kwargs == {"base_url": None}


def test_the_offline_sample_without_a_scoreboard_for_today_is_a_quiet_day(tmp_path):
    """`make run`'s wnba_api is a folder of samples (file://): a day it has no file for has no games,
    not an ESPN error to back off from."""
    watch = LiveWatch(idle_seconds=300)

    async def go():
        async with _espn_http(f"file://{tmp_path}") as get_json:
            return await watch.look(get_json, DURING)

    quiet = asyncio.run(go())
    assert (quiet.changed, quiet.error, quiet.wait, watch.errors) == ([], None, 300, 0)


def test_a_game_about_to_tip_off_fires_only_once_players_are_listed(stub):
    """Inside the `soon` window the game's summary is read at the live rate, but a box score without
    players is not a change: no tick before the first line."""
    watch = LiveWatch()
    pregame = dataclasses.replace(
        w.G3, status="scheduled", start=DURING + timedelta(minutes=10), home_lines=[], away_lines=[]
    )
    stub.add(api.SCOREBOARD, scoreboard_payload([w.G2, pregame, w.ALL_STAR], "20260720"), BOARD)
    stub.add(api.SUMMARY, pregame.summary(), {"event": w.G3.id})
    assert [look(watch, stub, DURING + timedelta(seconds=s)).changed for s in (0, 15)] == [[], []]
    assert len(summaries(stub)) == 2
    stub.add(api.SCOREBOARD, scoreboard_payload([w.G2, w.G3, w.ALL_STAR], "20260720"), BOARD)
    stub.add(api.SUMMARY, w.G3.summary(), {"event": w.G3.id})
    assert [g.espn_id for g in look(watch, stub, DURING + timedelta(seconds=30)).changed] == [w.G3.id]
