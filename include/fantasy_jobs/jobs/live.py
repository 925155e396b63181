"""live_scoring: one tick of event-driven live scoring (the `fantasy_live` DAG).

The live watcher (`fantasy_jobs.espn.live_watch`, in the triggerer) names the games whose box score
changed; a tick reads just those summaries, then, in ONE transaction, stores their box scores (not
final) and rescores just the lines that changed: their points under every profile in use and the
week totals of the teams that started those players. A failure anywhere rolls the whole tick back,
so its retry sees the same changes again: nothing is left half-scored. A game whose summary fails
validation is left out (named in the failure) and the others are still stored.

Ticks never overlap: the DAG allows one active run (changes seen meanwhile start one follow-up
run) and the job takes its advisory lock. The nightly chain still makes every line final.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from fantasy_jobs.db import use_job_work_mem
from fantasy_jobs.errors import JobSkipped
from fantasy_jobs.espn.client import EspnPayloadError
from fantasy_jobs.jobs.ingest import (
    Failures,
    Matchup,
    describe,
    espn_session,
    live_games_now,
    mark_failed,
    read_summary,
    write_box_score,
    write_game,
)
from fantasy_jobs.jobs.scoring import score_changed_lines
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import Game, utcnow


def games_of_events(events: tuple[dict, ...]) -> tuple[dict[str, Matchup], datetime | None]:
    """The games the watcher's events name (each with the matchup it saw) and when it saw the
    earliest of those changes; a malformed event is a clear error."""
    games: dict[str, Matchup] = {}
    seen: list[datetime] = []
    for event in events:
        try:
            for game in event["games"]:
                games[str(game["id"])] = Matchup(str(game["home"]), str(game["away"]), str(game["label"]))
            seen.append(datetime.fromisoformat(event["seen_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise EspnPayloadError(
                f"asset event payload {str(event)[:200]!r} is not the live watcher's ({type(exc).__name__}: {exc})"
            ) from None
    return games, min(seen, default=None)


def tip_off_of(conn, espn_id: str) -> tuple | None:
    row = conn.execute(
        select(Game.start_time, Game.season, Game.fantasy_week).where(Game.espn_id == espn_id)
    ).first()
    return None if row is None else tuple(row)


def live_scoring(ctx: JobContext) -> JobResult:
    """Store the changed games' live box scores and rescore exactly the lines that changed."""
    games, seen_at = games_of_events(ctx.events)
    failures = Failures()
    with espn_session(ctx) as client:
        if not ctx.events:  # a manual run: every game live now
            live, on_board = live_games_now(ctx, client)
            games = {espn_id: expected for espn_id, expected in live.items() if expected is not None}
            if not games:
                raise JobSkipped(
                    f"no game in progress or tipping off within the hour ({on_board} on today's scoreboard)"
                )
        read = []
        for espn_id, expected in sorted(games.items()):
            first_call = len(client.calls)
            try:
                game, lines, call = read_summary(client, espn_id, expected, lines_of=("final", "in_progress"))
                read.append((game, lines, call))
            except Exception as exc:  # this game's summary only: the others go on
                mark_failed(client.calls[first_call:], exc)
                ctx.log.error("live game %s failed: %s", espn_id, describe(exc))
                failures.add(f"game {espn_id}", exc)
        lines_read = sum(len(lines or []) for _, lines, _ in read)
        if ctx.dry_run:
            failures.raise_if_any(f"dry run: {len(read)} of {len(games)} live box scores usable")
            return JobResult(lines_read, f"dry run: would store the live box scores of {len(read)} games")
        try:
            with ctx.engine.begin() as conn:
                use_job_work_mem(conn)
                changed: list[tuple[int, int]] = []
                moved = False
                written = 0
                for game, lines, call in read:
                    before = tip_off_of(conn, game.espn_id)
                    if lines is None:  # not under way yet: its state only
                        call.rows = write_game(conn, game)[0]
                    else:
                        # ESPN's "final" stays in_progress here: ingest_player_stats makes it and its lines final
                        status = "in_progress" if game.status == "final" else None
                        stored = write_box_score(conn, game, lines, final=False, status=status)
                        call.rows = stored.rows
                        changed += [(stored.game_id, player) for player in stored.changed_players]
                    moved = moved or (before is not None and tip_off_of(conn, game.espn_id) != before)
                    written += call.rows
                scored = score_changed_lines(ctx, conn, changed, tip_off_moved=moved)
                if scored.failed_profiles:
                    raise RuntimeError(
                        f"{len(scored.failed_profiles)} profile(s) failed: "
                        + "; ".join(scored.failed_profiles)
                    )
        except Exception as exc:  # rolled back whole: the retry (or the next tick) sees the same changes
            mark_failed([call for _, _, call in read], exc)
            raise RuntimeError(
                f"live tick of {len(read)} games rolled back, nothing kept: {describe(exc)}"
            ) from exc
    committed = utcnow()
    lag = None if seen_at is None else round((committed - seen_at).total_seconds(), 1)
    summary = (
        f"{len(read)} live box scores: {written} rows written, {len(changed)} lines changed; "
        f"{scored.points} fantasy_points rows and {scored.team_weeks} team weeks written"
        f" ({scored.team_weeks_in_scope} team weeks in scope)"
        + ("" if lag is None else f"; committed {lag:.1f} s after the watcher saw the change")
    )
    details = {
        "games": sorted(games),
        "box_score_rows": written,
        "lines_changed": len(changed),
        "fantasy_points_rows": scored.points,
        "team_week_rows": scored.team_weeks,
        "team_weeks_in_scope": scored.team_weeks_in_scope,
        "tip_off_moved": moved,
        "team_weeks_by": "delta" if scored.by_delta else "sum",
        "seen_at": None if seen_at is None else seen_at.isoformat(),
        "lag_seconds": lag,
        "events": len(ctx.events),
        "skipped_leagues": scored.skipped_leagues,
    }
    ctx.log.info("%s", summary)
    failures.raise_if_any(summary)
    return JobResult(written + scored.points + scored.team_weeks, summary, details)
