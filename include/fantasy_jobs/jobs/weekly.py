"""reset_weekly_moves: a new fantasy week gives every active league's teams their moves back."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update

from fantasy_jobs.runtime import JobContext, JobResult
from fantasy_jobs.schema import FantasyTeam, League
from fantasy_jobs.timeutil import fantasy_week


def reset_weekly_moves(ctx: JobContext) -> JobResult:
    """Moves used back to 0 for teams of active leagues not yet reset in this fantasy week.

    Once per week per team: a team whose `moves_reset_week` is this week (or later, when an old
    week is re-run) is left alone, so a second run in the same week changes nothing.
    """
    week = fantasy_week(ctx.now)
    due = (
        FantasyTeam.league_id.in_(select(League.id).where(League.status == "active")),
        or_(FantasyTeam.moves_reset_week.is_(None), FantasyTeam.moves_reset_week < week),
    )
    with ctx.engine.begin() as conn:
        teams, leagues = conn.execute(
            select(func.count(), func.count(FantasyTeam.league_id.distinct())).where(*due)
        ).one()
        if ctx.dry_run:
            summary = (
                f"dry run: would reset weekly moves of {teams} teams in {leagues} leagues for week {week}"
            )
            ctx.log.info(summary)
            return JobResult(teams, summary, {"week": week})
        changed = conn.execute(
            update(FantasyTeam).where(*due).values(weekly_moves_used=0, moves_reset_week=week)
        ).rowcount
        conn.execute(
            update(League)
            .where(League.status == "active")
            .where(or_(League.current_week.is_(None), League.current_week < week))
            .values(current_week=week)
        )
    summary = f"week {week}: weekly moves reset for {changed} teams in {leagues} leagues"
    ctx.log.info(summary)
    return JobResult(changed, summary, {"week": week, "leagues": leagues})
