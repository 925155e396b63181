"""The live watcher: a trigger in Airflow's triggerer that fires when a live game's box score changes.

`fantasy_live` is scheduled on an Asset whose `AssetWatcher` runs `LiveBoxScoreTrigger` (Airflow 3's
event-driven scheduling). The trigger is one asyncio loop in the triggerer, no worker slot:

- while a game is live, or tips off within `live_soon_minutes`, it reads ESPN's scoreboard and each
  such game's summary every `live_poll_seconds`, and fires one event naming the games whose box score
  (the players' stat blocks) differs from the last one it saw;
- between games it makes one scoreboard request at most every `live_idle_seconds`, and sleeps until
  shortly before the next known tip-off when that comes sooner;
- an ESPN error (refused, timeout, 5xx, a payload that fails validation) is logged and retried with
  a doubling delay, capped; the loop never ends on its own, so the watcher survives ESPN outages.

Its memory is one fingerprint per watched game. After a triggerer restart the first look fires for
every live game with lines (a change may have been missed); a tick that finds nothing new writes
nothing. The event payload names each changed game with its teams (`live_scoring` cross-checks the
summary against them) and when the change was seen (the tick reports its lag behind it).

Parse time builds this object only: no I/O, no connection lookup; httpx is imported in `run`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

log = logging.getLogger(__name__)

EASTERN = ZoneInfo("America/New_York")  # ESPN files a game under the US-Eastern date of tip-off
LATE_START = timedelta(hours=4)  # a game still "scheduled" this long after its tip-off time: delayed, watched
YESTERDAY_UNTIL_HOUR = 6  # before 06:00 Eastern, last night's scoreboard too (games run past midnight)
SCOREBOARD_LIMIT = 200

GetJson = Callable[[str, dict[str, Any]], Awaitable[Any]]


def box_score_fingerprint(summary: Any) -> str | None:
    """A digest of a summary's players' stat blocks (None while no player is listed: before tip-off):
    exactly what a tick would store."""
    players = summary.get("boxscore", {}).get("players") if isinstance(summary, dict) else None
    listed = any(
        block.get("athletes")
        for team in players or []
        if isinstance(team, dict)
        for block in team.get("statistics") or []
        if isinstance(block, dict)
    )
    if not listed:
        return None
    return hashlib.sha256(json.dumps(players, sort_keys=True).encode()).hexdigest()


@dataclass
class WatchedGame:
    espn_id: str
    home_id: str
    away_id: str
    label: str
    status: str
    start_time: datetime

    def payload(self) -> dict[str, str]:
        return {"id": self.espn_id, "home": self.home_id, "away": self.away_id, "label": self.label}


@dataclass
class Look:
    """What one look at ESPN found: the games whose box score changed, how many are live, the wait."""

    changed: list[WatchedGame]
    live: int
    wait: float
    error: str | None = None


@dataclass
class LiveWatch:
    """The watcher's state and its one step (`look`), free of Airflow: the tests drive it directly."""

    poll_seconds: float = 15.0
    idle_seconds: float = 300.0
    soon: timedelta = timedelta(minutes=30)
    max_backoff_seconds: float = 300.0
    fingerprints: dict[str, str | None] = field(default_factory=dict)  # per watched game: its last box score
    errors: int = 0  # looks in a row that failed

    async def look(self, get_json: GetJson, now: datetime) -> Look:
        """Read the scoreboard (and each watched game's summary); never raises."""
        try:
            games = await self._scoreboard(get_json, now)
        except Exception as exc:  # ESPN down, slow, or a payload we cannot read: back off, keep going
            return self._failed(f"scoreboard: {_describe(exc)}")
        watched = [g for g in games.values() if self._watch(g, now)]
        changed, problems = [], []
        for game in sorted(watched, key=lambda g: g.espn_id):
            try:
                summary = await get_json(_summary_path(), {"event": game.espn_id})
            except Exception as exc:  # this game only: the others are still looked at
                problems.append(f"summary of {game.espn_id}: {_describe(exc)}")
                continue
            fingerprint = box_score_fingerprint(summary)
            before = self.fingerprints.get(game.espn_id, None)
            if fingerprint != before and (fingerprint is not None or game.espn_id in self.fingerprints):
                changed.append(game)
            self.fingerprints[game.espn_id] = fingerprint
        watched_ids = {g.espn_id for g in watched}
        for espn_id in list(
            self.fingerprints
        ):  # let go: games no longer watched, and final ones (last look done)
            if espn_id not in watched_ids or games[espn_id].status == "final":
                del self.fingerprints[espn_id]
        live = sum(1 for g in watched if g.status == "in_progress")
        if problems and not changed and len(problems) == len(watched):
            return self._failed("; ".join(problems), live=live)
        self.errors = 0
        return Look(changed, live, self._wait(games, watched, now), "; ".join(problems) or None)

    def _watch(self, game: WatchedGame, now: datetime) -> bool:
        if game.status == "in_progress":
            return True
        if game.status == "scheduled":
            return game.start_time - self.soon <= now <= game.start_time + LATE_START
        # final: looked at once more if it was watched, for its last box score
        return game.status == "final" and game.espn_id in self.fingerprints

    def _wait(self, games: dict[str, WatchedGame], watched: list[WatchedGame], now: datetime) -> float:
        if any(g.status in ("in_progress", "scheduled") for g in watched) or self.fingerprints:
            return self.poll_seconds
        upcoming = [
            g.start_time - self.soon for g in games.values() if g.status == "scheduled" and g.start_time > now
        ]
        until = min(upcoming, default=None)
        if until is None:
            return self.idle_seconds
        return min(self.idle_seconds, max(self.poll_seconds, (until - now).total_seconds()))

    def _failed(self, error: str, live: int = 0) -> Look:
        self.errors += 1
        base = self.poll_seconds if (live or self.fingerprints) else self.idle_seconds
        wait = min(self.max_backoff_seconds, max(base, self.poll_seconds * 2**self.errors))
        return Look([], live, wait, error)

    async def _scoreboard(self, get_json: GetJson, now: datetime) -> dict[str, WatchedGame]:
        from fantasy_jobs.espn import client as api
        from fantasy_jobs.espn.models import ScoreboardPayload, convert, parse

        today = now.astimezone(EASTERN)
        dates = [today.date()]
        if today.hour < YESTERDAY_UNTIL_HOUR:
            dates.insert(0, (today - timedelta(days=1)).date())
        games: dict[str, WatchedGame] = {}
        for day in dates:
            params = {"dates": f"{day:%Y%m%d}", "limit": SCOREBOARD_LIMIT}
            payload = await get_json(api.SCOREBOARD, params)
            endpoint = f"{api.SCOREBOARD}?dates={params['dates']}"
            board = parse(ScoreboardPayload, payload, endpoint)
            for row in convert(endpoint, board.games):
                if row.is_franchise_game:
                    games[row.espn_id] = WatchedGame(
                        row.espn_id,
                        row.home.id,
                        row.away.id,
                        f"{row.away.abbreviation} ({row.away.id}) @ {row.home.abbreviation} ({row.home.id})",
                        row.status,
                        row.start_time,
                    )
        return games


def _summary_path() -> str:
    from fantasy_jobs.espn import client as api

    return api.SUMMARY


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


class LiveBoxScoreTrigger(BaseEventTrigger):
    """Fires `{"games": [...], "seen_at": ..., "live": n}` when a live game's box score changes.

    `base_url`: ESPN's API base (None: the `wnba_api` connection, read when the trigger starts).
    The intervals come from the settings `live_poll_seconds`, `live_idle_seconds` and
    `live_soon_minutes` (environment only: `FANTASY_LIVE_POLL_SECONDS`...), read at start."""

    def __init__(self, base_url: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", {"base_url": self.base_url}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from fantasy_jobs import settings

        watch = LiveWatch(
            poll_seconds=settings.get("live_poll_seconds", variables=False),
            idle_seconds=settings.get("live_idle_seconds", variables=False),
            soon=timedelta(minutes=settings.get("live_soon_minutes", variables=False)),
        )
        base_url = self.base_url or await _base_url_of_connection()
        self.log.info(
            "watching %s: every %.0f s while a game is live or tips off within %s, every %.0f s at most otherwise",
            base_url,
            watch.poll_seconds,
            watch.soon,
            watch.idle_seconds,
        )
        while True:
            async with _espn_http(base_url) as get_json:
                while True:
                    now = datetime.now(UTC)
                    look = await watch.look(get_json, now)
                    if look.error:
                        self.log.warning(
                            "ESPN look failed (%d in a row), next look in %.0f s: %s",
                            watch.errors,
                            look.wait,
                            look.error,
                        )
                    if look.changed:
                        self.log.info(
                            "box score changed: %s (%d live)",
                            ", ".join(g.espn_id for g in look.changed),
                            look.live,
                        )
                        yield TriggerEvent(
                            {
                                "games": [g.payload() for g in look.changed],
                                "seen_at": now.isoformat(),
                                "live": look.live,
                            }
                        )
                    await asyncio.sleep(look.wait)
                    if self.base_url is None and not watch.fingerprints:
                        # between games: an operator's change of the `wnba_api` connection takes effect
                        latest = await _base_url_of_connection(unreadable=base_url)
                        if latest != base_url:
                            self.log.info("connection wnba_api changed: watching %s", latest)
                            base_url = latest
                            break


async def _base_url_of_connection(unreadable: str | None = None) -> str:
    """The `wnba_api` connection's base URL; ESPN's own when none is configured. When it cannot be
    read (the API server restarting, a bad host), `unreadable` if given: the watcher keeps its base."""
    from fantasy_jobs.espn import client as api

    try:
        from airflow.sdk import BaseHook

        return api.base_url_of(await BaseHook.aget_connection(api.CONN_ID))
    except Exception as exc:
        if unreadable is not None:
            return unreadable
        log.info(
            "connection %r not readable (%s); using %s", api.CONN_ID, _describe(exc), api.DEFAULT_BASE_URL
        )
        return api.DEFAULT_BASE_URL


class _espn_http:
    """`async with _espn_http(base) as get_json`: GET a JSON answer within the ESPN client's deadline
    and size limit (`espn_timeout`, `espn_max_body_mb`); a non-200 answer or a body that is not JSON raises."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def __aenter__(self) -> GetJson:
        from pathlib import Path

        import httpx

        from fantasy_jobs import settings
        from fantasy_jobs.espn import client as api

        transport, base = None, self.base_url
        if base.startswith("file://"):
            transport, base = api.FileTransport(Path(base.removeprefix("file://"))), "http://sample.invalid"
        timeout = float(settings.get("espn_timeout", variables=False))
        limit = int(float(settings.get("espn_max_body_mb", variables=False)) * api.MB)
        self.http = httpx.AsyncClient(
            base_url=base,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": api.USER_AGENT, "Accept": "application/json"},
        )

        async def get_json(path: str, params: dict[str, Any]) -> Any:
            async def read() -> bytes:
                async with self.http.stream("GET", path, params=params) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > limit:
                            raise ValueError(f"answer larger than {limit} bytes")
                    if response.status_code == 404 and transport is not None and path == api.SCOREBOARD:
                        return b'{"events": []}'  # the offline sample: a day it has no file for has no games
                    if response.status_code != 200:
                        raise httpx.HTTPStatusError(
                            f"HTTP {response.status_code} from {path}",
                            request=response.request,
                            response=response,
                        )
                    return bytes(body)

            return json.loads(await asyncio.wait_for(read(), timeout))

        return get_json

    async def __aexit__(self, *exc) -> None:
        await self.http.aclose()
