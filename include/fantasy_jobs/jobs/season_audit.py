"""season_audit: every final game of the season read again from ESPN, any difference applied.

The nightly reads a final game's box score again only within `stat_correction_days` of tip-off.
ESPN also corrects later (a line credited to another player, a score, home and away), so once a
week this job reads the season's scoreboards a month at a time (`dates=YYYYMMDD-YYYYMMDD`) and
the summary of every final game, at a gentle rate (`season_audit_min_interval` between requests),
cross-checks each summary against its scoreboard like the nightly does, and stores it through the
nightly's own path (`ingest.write_box_score`): lines replaced, changed stats and removed lines
recorded in `stat_corrections`, the removed lines' fantasy points deleted. The next
`calculate_fantasy_scores` totals the changed team weeks again; bonuses already awarded stand.
A game given up earlier (`no_box_score`) whose box score is now usable is stored. Games of the
season missing from the database, or final at ESPN but not stored final, are stored as the nightly
would (pending), so the next nightly reads them. One Slack message sums up a run that changed
anything. A dry run applies every change inside a transaction it rolls back: it reports exactly
what a real run would change.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from fantasy_jobs import settings
from fantasy_jobs.alerts import send_slack
from fantasy_jobs.errors import JobSkipped
from fantasy_jobs.espn.client import EspnPayloadError
from fantasy_jobs.jobs.ingest import (
    EASTERN,
    Failures,
    Matchup,
    count_board_rows,
    describe,
    espn_session,
    mark_failed,
    matchup_of,
    read_scoreboards,
    read_summary,
    store_scoreboard_games,
    validating,
    with_matchups,
    write_box_score,
)
from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import Game

MONTH_LIMIT = 1000  # events per monthly scoreboard: a month of the season has about 60


def season_months(first: date, last: date) -> list[str]:
    """`YYYYMMDD-YYYYMMDD` ranges, one per calendar month, covering first..last."""
    ranges = []
    start = first
    while start <= last:
        next_month = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(next_month - timedelta(days=1), last)
        ranges.append(f"{start:%Y%m%d}-{end:%Y%m%d}")
        start = next_month
    return ranges


def season_audit(ctx: JobContext) -> JobResult:
    """Read every final game of the current season again; store whatever ESPN changed."""
    season = ctx.now.year
    with ctx.engine.connect() as conn:
        finals = conn.execute(
            with_matchups(Game.espn_id, Game.start_time)
            .where(Game.season == season, Game.status == "final", Game.start_time <= ctx.now)
            .order_by(Game.start_time)
        ).all()
        status_in_db = dict(
            conn.execute(select(Game.espn_id, Game.status).where(Game.season == season)).all()
        )
    if not finals:
        raise JobSkipped(f"no final game of the {season} season stored yet: nothing to audit")
    first, last = (finals[0].start_time.astimezone(EASTERN).date(), ctx.now.astimezone(EASTERN).date())
    failures = Failures()
    changed: list[str] = []
    written = corrected = removed = 0
    with espn_session(ctx) as client:
        client.min_interval = max(client.min_interval, float(settings.get("season_audit_min_interval")))
        months = season_months(first, last)
        ctx.log.info(
            "season %d: %d final games stored; reading %d monthly scoreboards, then each summary, %.1f s apart",
            season,
            len(finals),
            len(months),
            client.min_interval,
        )
        board = read_scoreboards(ctx, client, months, failures, limit=MONTH_LIMIT)
        board = {k: g for k, g in board.items() if g.season == season}
        missing = [
            g
            for k, g in board.items()
            if status_in_db.get(k) is None or (g.status == "final" and status_in_db[k] != "final")
        ]
        if missing and not ctx.dry_run:
            written += store_scoreboard_games(ctx.engine, missing, status_in_db)
        if not ctx.dry_run:
            count_board_rows(client.calls)
        if missing and not ctx.dry_run:
            ctx.log.warning(
                "%d games of the season were missing or not final in the database: stored for the nightly (%s)",
                len(missing),
                ", ".join(g.espn_id for g in missing[:20]),
            )
        for number, row in enumerate(finals, 1):
            espn_id = row.espn_id
            expected = Matchup.of(board[espn_id]) if espn_id in board else matchup_of(row)
            first_call = len(client.calls)
            try:
                game, lines, call = read_summary(client, espn_id, expected)
                if lines is None:
                    with validating(call):
                        raise EspnPayloadError(
                            f"{call.endpoint}: field header.competitions[0].status = {game.status!r}: the game "
                            "is stored final (its stored box score stands)"
                        )
                with ctx.engine.connect() as conn:
                    transaction = conn.begin()
                    stored = write_box_score(conn, game, lines, final=True, box_score_stored=True)
                    if ctx.dry_run:
                        transaction.rollback()
                    else:
                        transaction.commit()
                        call.rows = stored.rows  # counted once committed
            except Exception as exc:  # this game's failure: its stored box score stands, the others go on
                mark_failed(client.calls[first_call:], exc)
                ctx.log.error("audit %d/%d: game %s failed: %s", number, len(finals), espn_id, describe(exc))
                failures.add(f"game {espn_id}", exc)
                continue
            if stored.rows:
                written += stored.rows
                corrected += stored.corrected
                removed += stored.removed
                changed.append(
                    f"{espn_id} ({game.away.abbreviation} {game.away_score} @ {game.home.abbreviation} "
                    f"{game.home_score}, {game.start_time:%Y-%m-%d}): {stored.corrected} stats corrected, "
                    f"{stored.removed} lines removed, {stored.rows} rows written"
                )
                ctx.log.warning("audit %d/%d: game %s changed: %s", number, len(finals), espn_id, changed[-1])
            else:
                ctx.log.info("audit %d/%d: game %s as stored", number, len(finals), espn_id)
    verb = "would change" if ctx.dry_run else "changed"
    summary = (
        f"season {season}: {len(finals)} final games read again, {len(changed)} {verb} "
        f"({corrected} stats corrected, {removed} lines removed, {written} rows written)"
        + (f"; {len(missing)} games stored for the nightly" if missing and not ctx.dry_run else "")
    )
    if changed and not ctx.dry_run:
        send_slack(
            f":mag: *{ctx.job.id}*: {summary}. Fantasy points follow at the next `calculate_fantasy_scores`; "
            "bonuses already awarded stand. Every change is in `stat_corrections`.\n"
            + "\n".join(f"- {line}" for line in changed[:25])
            + (f"\n- ... and {len(changed) - 25} more" if len(changed) > 25 else "")
        )
    failures.raise_if_any(summary)
    return JobResult(
        written,
        summary,
        {
            "season": season,
            "games": len(finals),
            "changed": [c.split(" ", 1)[0] for c in changed],
            "stat_corrections": corrected,
            "lines_removed": removed,
            "stored_for_nightly": [g.espn_id for g in missing],
        },
    )
