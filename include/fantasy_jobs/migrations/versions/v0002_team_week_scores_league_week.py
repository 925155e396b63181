"""team_week_scores: index (league_id, week) in place of (league_id), built online.

`league_analytics` reads each changed league's team weeks from its first changed week on
(`league_id = ? AND week >= ?`); the one-column index made it read every week of the league. The
new index serves both that and every lookup by league alone, so the old one goes. Both steps run
`CONCURRENTLY` on PostgreSQL: `calculate_fantasy_scores` keeps writing the table meanwhile.

Revision ID: 0002
Revises: 0001
Created: 2026-12-04
"""

from __future__ import annotations

from fantasy_jobs.migrations import online

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    online.create_index("ix_team_week_scores_league_week", "team_week_scores", ["league_id", "week"])
    online.drop_index("ix_team_week_scores_league_id", "team_week_scores")


def downgrade() -> None:
    online.create_index("ix_team_week_scores_league_id", "team_week_scores", ["league_id"])
    online.drop_index("ix_team_week_scores_league_week", "team_week_scores")
