"""Baseline: the app schema as `fantasy-jobs init-db` made it before migrations (main at 77da349).

Every table, index and constraint of the models then, and the change-log triggers
(`CHANGE_TRIGGERS`) of each dialect, written out so this revision never changes when the models
do. Frozen: a schema change is a new revision (README, Upgrading). A database made by that
version (no `fantasy_alembic_version` table) is recognised by `fantasy_jobs.migrate` against
`TABLES` and stamped here instead of running `upgrade()`.

Revision ID: 0001
Revises: (none)
Created: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from fantasy_jobs.migrations.online import execute_ddl

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger(), nullable=False),
        sa.Column("from_week", sa.Integer(), nullable=True),
        sa.Column(
            "queued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_changes")),
    )
    op.create_table(
        "archived_league_scoring_trends",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column(
            "league_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column("week", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column("teams", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column("mean_points", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("median_points", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("stddev_points", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("change_from_previous", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("scores_digest", sa.String(length=40), autoincrement=False, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), autoincrement=False, nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archived_league_scoring_trends")),
    )
    op.create_table(
        "archived_power_rankings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column(
            "league_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column("week", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column(
            "fantasy_team_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column("score", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("rank", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column("previous_rank", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column("season_points", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("recent_points", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("consistency", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("weeks_played", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column("season_total", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("season_squares", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), autoincrement=False, nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archived_power_rankings")),
    )
    op.create_table(
        "archived_roster_slots",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column(
            "fantasy_team_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column(
            "player_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column("slot", sa.String(length=8), autoincrement=False, nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), autoincrement=False, nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), autoincrement=False, nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archived_roster_slots")),
    )
    op.create_table(
        "archived_team_week_scores",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column(
            "league_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column(
            "fantasy_team_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column("week", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column("points", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("bonus_points", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), autoincrement=False, nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archived_team_week_scores")),
    )
    op.create_table(
        "archived_weekly_bonuses",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column(
            "league_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column("week", sa.Integer(), autoincrement=False, nullable=True),
        sa.Column(
            "fantasy_team_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=True,
        ),
        sa.Column("bonus_type", sa.String(length=32), autoincrement=False, nullable=True),
        sa.Column("points", sa.Float(), autoincrement=False, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), autoincrement=False, nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archived_weekly_bonuses")),
    )
    op.create_table(
        "backups",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("taken_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "manifest",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("restore_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restore_result", sa.String(length=16), nullable=True),
        sa.Column("restore_message", sa.Text(), nullable=True),
        sa.Column("restore_duration_s", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backups")),
        sa.UniqueConstraint("path", name=op.f("uq_backups_path")),
    )
    op.create_table(
        "bonus_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger(), nullable=True),
        sa.Column("week", sa.Integer(), nullable=True),
        sa.Column("player_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "queued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonus_changes")),
    )
    op.create_table(
        "cache_entries",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_cache_entries_key")),
    )
    op.create_index(op.f("ix_cache_entries_expires_at"), "cache_entries", ["expires_at"], unique=False)
    op.create_table(
        "consistency_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("player_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "queued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consistency_changes")),
    )
    op.create_table(
        "data_quality_results",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("check_name", sa.String(length=64), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issue_count", sa.Integer(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_quality_results")),
    )
    op.create_index(
        op.f("ix_data_quality_results_check_name"), "data_quality_results", ["check_name"], unique=False
    )
    op.create_index(op.f("ix_data_quality_results_ran_at"), "data_quality_results", ["ran_at"], unique=False)
    op.create_table(
        "draft_picks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("draft_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pick_number", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("fantasy_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("player_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_picks")),
        sa.UniqueConstraint("draft_id", "pick_number", name=op.f("uq_draft_picks_draft_id_pick_number")),
    )
    op.create_table(
        "drafts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("current_pick", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    op.create_index(op.f("ix_drafts_league_id"), "drafts", ["league_id"], unique=False)
    op.create_table(
        "fantasy_points",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("profile_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("player_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("game_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fantasy_points")),
        sa.UniqueConstraint(
            "profile_id", "player_id", "game_id", name=op.f("uq_fantasy_points_profile_id_player_id_game_id")
        ),
    )
    op.create_index(op.f("ix_fantasy_points_game_id"), "fantasy_points", ["game_id"], unique=False)
    op.create_index(op.f("ix_fantasy_points_player_id"), "fantasy_points", ["player_id"], unique=False)
    op.create_index(op.f("ix_fantasy_points_week"), "fantasy_points", ["week"], unique=False)
    op.create_table(
        "fantasy_teams",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("weekly_moves_used", sa.Integer(), nullable=False),
        sa.Column("moves_reset_week", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fantasy_teams")),
    )
    op.create_index(op.f("ix_fantasy_teams_league_id"), "fantasy_teams", ["league_id"], unique=False)
    op.create_table(
        "ingest_logs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=512), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_upserted", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_logs")),
    )
    op.create_index(op.f("ix_ingest_logs_started_at"), "ingest_logs", ["started_at"], unique=False)
    op.create_table(
        "job_executions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("execution_time_s", sa.Float(), nullable=True),
        sa.Column("rows_affected", sa.Integer(), nullable=True),
        sa.Column("peak_memory_mb", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("logical_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dag_id", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=256), nullable=True),
        sa.Column("try_number", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("long_running", sa.Boolean(), nullable=False),
        sa.Column("hostname", sa.String(length=256), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.String(length=256), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_executions")),
    )
    op.create_index("ix_job_executions_job_started", "job_executions", ["job_id", "started_at"], unique=False)
    op.create_index(op.f("ix_job_executions_started_at"), "job_executions", ["started_at"], unique=False)
    op.create_index(op.f("ix_job_executions_status"), "job_executions", ["status"], unique=False)
    op.create_table(
        "league_profiles",
        sa.Column(
            "league_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("profile_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("league_id", name=op.f("pk_league_profiles")),
    )
    op.create_index(op.f("ix_league_profiles_profile_id"), "league_profiles", ["profile_id"], unique=False)
    op.create_table(
        "league_scoring_trends",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("teams", sa.Integer(), nullable=False),
        sa.Column("mean_points", sa.Float(), nullable=True),
        sa.Column("median_points", sa.Float(), nullable=True),
        sa.Column("stddev_points", sa.Float(), nullable=True),
        sa.Column("change_from_previous", sa.Float(), nullable=True),
        sa.Column("scores_digest", sa.String(length=40), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_league_scoring_trends")),
        sa.UniqueConstraint("league_id", "week", name=op.f("uq_league_scoring_trends_league_id_week")),
    )
    op.create_table(
        "leagues",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "scoring_settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("max_teams", sa.Integer(), nullable=False),
        sa.Column("roster_size", sa.Integer(), nullable=False),
        sa.Column("max_weekly_moves", sa.Integer(), nullable=False),
        sa.Column("current_week", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leagues")),
    )
    op.create_index(op.f("ix_leagues_status"), "leagues", ["status"], unique=False)
    op.create_table(
        "notifications",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_created_at"), "notifications", ["created_at"], unique=False)
    op.create_index(
        "ix_notifications_queue",
        "notifications",
        ["id"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'failed', 'sending')"),
        sqlite_where=sa.text("status IN ('pending', 'failed', 'sending')"),
    )
    op.create_index(
        "ix_notifications_status_due", "notifications", ["status", "next_attempt_at"], unique=False
    )
    op.create_table(
        "player_consistency",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("player_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column("mean_points", sa.Float(), nullable=True),
        sa.Column("stddev_points", sa.Float(), nullable=True),
        sa.Column("coefficient_of_variation", sa.Float(), nullable=True),
        sa.Column("consistency_score", sa.Float(), nullable=True),
        sa.Column("rated", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_player_consistency")),
        sa.UniqueConstraint("player_id", "season", name=op.f("uq_player_consistency_player_id_season")),
    )
    op.create_table(
        "power_rankings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("fantasy_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("previous_rank", sa.Integer(), nullable=True),
        sa.Column("season_points", sa.Float(), nullable=False),
        sa.Column("recent_points", sa.Float(), nullable=False),
        sa.Column("consistency", sa.Float(), nullable=True),
        sa.Column("weeks_played", sa.Integer(), nullable=True),
        sa.Column("season_total", sa.Float(), nullable=True),
        sa.Column("season_squares", sa.Float(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_power_rankings")),
        sa.UniqueConstraint(
            "league_id",
            "week",
            "fantasy_team_id",
            name=op.f("uq_power_rankings_league_id_week_fantasy_team_id"),
        ),
    )
    op.create_table(
        "roster_slots",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("fantasy_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("player_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slot", sa.String(length=8), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_slots")),
    )
    op.create_index(
        op.f("ix_roster_slots_fantasy_team_id"), "roster_slots", ["fantasy_team_id"], unique=False
    )
    op.create_index(op.f("ix_roster_slots_player_id"), "roster_slots", ["player_id"], unique=False)
    op.create_index(
        "ix_roster_slots_player_starting",
        "roster_slots",
        ["player_id", "acquired_at"],
        unique=False,
        postgresql_include=["released_at", "fantasy_team_id"],
        postgresql_where=sa.text("slot IN ('G', 'F', 'C', 'UTIL')"),
        sqlite_where=sa.text("slot IN ('G', 'F', 'C', 'UTIL')"),
    )
    op.create_table(
        "scoring_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref_id", sa.BigInteger(), nullable=False),
        sa.Column("player_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "queued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_changes")),
    )
    op.create_table(
        "scoring_profiles",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("weights_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "weights",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_profiles")),
        sa.UniqueConstraint("weights_hash", name=op.f("uq_scoring_profiles_weights_hash")),
    )
    op.create_table(
        "team_week_scores",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("fantasy_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("bonus_points", sa.Float(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_week_scores")),
        sa.UniqueConstraint("fantasy_team_id", "week", name=op.f("uq_team_week_scores_fantasy_team_id_week")),
    )
    op.create_index(op.f("ix_team_week_scores_league_id"), "team_week_scores", ["league_id"], unique=False)
    op.create_index(
        "ix_team_week_scores_week_league", "team_week_scores", ["week", "league_id"], unique=False
    )
    op.create_table(
        "teams",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("espn_id", sa.String(length=32), nullable=False),
        sa.Column("abbreviation", sa.String(length=8), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("conference", sa.String(length=16), nullable=True),
        sa.Column("color", sa.String(length=8), nullable=True),
        sa.Column("logo_url", sa.String(length=512), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("espn_id", name=op.f("uq_teams_espn_id")),
    )
    op.create_table(
        "trade_impacts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("trade_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("league_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("fantasy_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points_received", sa.Float(), nullable=False),
        sa.Column("points_given", sa.Float(), nullable=False),
        sa.Column("net_points", sa.Float(), nullable=False),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_impacts")),
        sa.UniqueConstraint(
            "trade_id", "fantasy_team_id", name=op.f("uq_trade_impacts_trade_id_fantasy_team_id")
        ),
    )
    op.create_index(op.f("ix_trade_impacts_league_id"), "trade_impacts", ["league_id"], unique=False)
    op.create_table(
        "trade_items",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("trade_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("to_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("player_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_items")),
    )
    op.create_index(op.f("ix_trade_items_trade_id"), "trade_items", ["trade_id"], unique=False)
    op.create_table(
        "trades",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "proposed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
    )
    op.create_index(op.f("ix_trades_league_id"), "trades", ["league_id"], unique=False)
    op.create_table(
        "users",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("email", sa.String(length=256), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "weekly_bonuses",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("league_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("fantasy_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bonus_type", sa.String(length=32), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_bonuses")),
        sa.UniqueConstraint(
            "league_id",
            "week",
            "fantasy_team_id",
            "bonus_type",
            name=op.f("uq_weekly_bonuses_league_id_week_fantasy_team_id_bonus_type"),
        ),
    )
    op.create_index(
        "ix_weekly_bonuses_team_week", "weekly_bonuses", ["fantasy_team_id", "week"], unique=False
    )
    op.create_table(
        "games",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("espn_id", sa.String(length=32), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("season_type", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("home_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("away_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("home_score", sa.Integer(), nullable=True),
        sa.Column("away_score", sa.Integer(), nullable=True),
        sa.Column("fantasy_week", sa.Integer(), nullable=True),
        sa.Column("box_score_status", sa.String(length=16), nullable=True),
        sa.Column("box_score_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("box_score_first_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("box_score_error", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["away_team_id"], ["teams.id"], name=op.f("fk_games_away_team_id_teams")),
        sa.ForeignKeyConstraint(["home_team_id"], ["teams.id"], name=op.f("fk_games_home_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_games")),
        sa.UniqueConstraint("espn_id", name=op.f("uq_games_espn_id")),
    )
    op.create_index(op.f("ix_games_box_score_status"), "games", ["box_score_status"], unique=False)
    op.create_index(op.f("ix_games_fantasy_week"), "games", ["fantasy_week"], unique=False)
    op.create_index(op.f("ix_games_season"), "games", ["season"], unique=False)
    op.create_index(op.f("ix_games_start_time"), "games", ["start_time"], unique=False)
    op.create_table(
        "players",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("espn_id", sa.String(length=32), nullable=False),
        sa.Column("full_name", sa.String(length=128), nullable=False),
        sa.Column("position", sa.String(length=8), nullable=True),
        sa.Column("jersey", sa.String(length=8), nullable=True),
        sa.Column("height_in", sa.Float(), nullable=True),
        sa.Column("weight_lb", sa.Float(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("college", sa.String(length=128), nullable=True),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("injury_status", sa.String(length=64), nullable=True),
        sa.Column("headshot_url", sa.String(length=512), nullable=True),
        sa.Column("profile_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_players_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_players")),
        sa.UniqueConstraint("espn_id", name=op.f("uq_players_espn_id")),
    )
    op.create_index(op.f("ix_players_team_id"), "players", ["team_id"], unique=False)
    op.create_table(
        "standings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("losses", sa.Integer(), nullable=False),
        sa.Column("win_pct", sa.Float(), nullable=True),
        sa.Column("games_behind", sa.Float(), nullable=True),
        sa.Column("conference_rank", sa.Integer(), nullable=True),
        sa.Column("streak", sa.String(length=16), nullable=True),
        sa.Column("home_record", sa.String(length=16), nullable=True),
        sa.Column("road_record", sa.String(length=16), nullable=True),
        sa.Column("last_ten", sa.String(length=16), nullable=True),
        sa.Column("clincher", sa.String(length=8), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_standings_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standings")),
        sa.UniqueConstraint("season", "team_id", name=op.f("uq_standings_season_team_id")),
    )
    op.create_table(
        "player_game_stats",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("game_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("player_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("fgm", sa.Integer(), nullable=False),
        sa.Column("fga", sa.Integer(), nullable=False),
        sa.Column("fg3m", sa.Integer(), nullable=False),
        sa.Column("fg3a", sa.Integer(), nullable=False),
        sa.Column("ftm", sa.Integer(), nullable=False),
        sa.Column("fta", sa.Integer(), nullable=False),
        sa.Column("oreb", sa.Integer(), nullable=False),
        sa.Column("dreb", sa.Integer(), nullable=False),
        sa.Column("reb", sa.Integer(), nullable=False),
        sa.Column("ast", sa.Integer(), nullable=False),
        sa.Column("stl", sa.Integer(), nullable=False),
        sa.Column("blk", sa.Integer(), nullable=False),
        sa.Column("tov", sa.Integer(), nullable=False),
        sa.Column("pf", sa.Integer(), nullable=False),
        sa.Column("pts", sa.Integer(), nullable=False),
        sa.Column("plus_minus", sa.Integer(), nullable=True),
        sa.Column("did_not_play", sa.Boolean(), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["game_id"], ["games.id"], name=op.f("fk_player_game_stats_game_id_games")),
        sa.ForeignKeyConstraint(
            ["player_id"], ["players.id"], name=op.f("fk_player_game_stats_player_id_players")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_player_game_stats_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_player_game_stats")),
        sa.UniqueConstraint("game_id", "player_id", name=op.f("uq_player_game_stats_game_id_player_id")),
    )
    op.create_index(op.f("ix_player_game_stats_player_id"), "player_game_stats", ["player_id"], unique=False)
    op.create_table(
        "stat_corrections",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("game_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("player_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stat", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=True),
        sa.Column("old_value", sa.Integer(), nullable=True),
        sa.Column("new_value", sa.Integer(), nullable=True),
        sa.Column(
            "corrected_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["game_id"], ["games.id"], name=op.f("fk_stat_corrections_game_id_games")),
        sa.ForeignKeyConstraint(
            ["player_id"], ["players.id"], name=op.f("fk_stat_corrections_player_id_players")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_corrections")),
    )
    op.create_index(
        op.f("ix_stat_corrections_corrected_at"), "stat_corrections", ["corrected_at"], unique=False
    )
    op.create_index(op.f("ix_stat_corrections_game_id"), "stat_corrections", ["game_id"], unique=False)
    op.create_index(op.f("ix_stat_corrections_kind"), "stat_corrections", ["kind"], unique=False)
    for statement in TRIGGERS.get(op.get_context().dialect.name, ()):
        execute_ddl(statement)


def downgrade() -> None:
    raise RuntimeError(
        "refusing to downgrade below the baseline: that would drop every app table and its data "
        "(drop the database itself if that is what you want)"
    )


TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "analytics_changes": (("id", "league_id", "from_week", "queued_at"), ()),
    "archived_league_scoring_trends": (
        (
            "id",
            "league_id",
            "week",
            "teams",
            "mean_points",
            "median_points",
            "stddev_points",
            "change_from_previous",
            "scores_digest",
            "updated_at",
            "archived_at",
        ),
        (),
    ),
    "archived_power_rankings": (
        (
            "id",
            "league_id",
            "week",
            "fantasy_team_id",
            "score",
            "rank",
            "previous_rank",
            "season_points",
            "recent_points",
            "consistency",
            "weeks_played",
            "season_total",
            "season_squares",
            "updated_at",
            "archived_at",
        ),
        (),
    ),
    "archived_roster_slots": (
        ("id", "fantasy_team_id", "player_id", "slot", "acquired_at", "released_at", "archived_at"),
        (),
    ),
    "archived_team_week_scores": (
        ("id", "league_id", "fantasy_team_id", "week", "points", "bonus_points", "updated_at", "archived_at"),
        (),
    ),
    "archived_weekly_bonuses": (
        ("id", "league_id", "week", "fantasy_team_id", "bonus_type", "points", "created_at", "archived_at"),
        (),
    ),
    "backups": (
        (
            "id",
            "path",
            "backend",
            "size_bytes",
            "checksum",
            "verified",
            "taken_for",
            "created_at",
            "deleted_at",
            "manifest",
            "restore_verified_at",
            "restore_result",
            "restore_message",
            "restore_duration_s",
        ),
        ("uq_backups_path",),
    ),
    "bonus_changes": (("id", "league_id", "week", "player_id", "queued_at"), ()),
    "cache_entries": (
        ("id", "key", "value", "expires_at", "created_at"),
        ("ix_cache_entries_expires_at", "uq_cache_entries_key"),
    ),
    "consistency_changes": (("id", "player_id", "queued_at"), ()),
    "data_quality_results": (
        ("id", "check_name", "ran_at", "status", "issue_count", "details"),
        ("ix_data_quality_results_check_name", "ix_data_quality_results_ran_at"),
    ),
    "draft_picks": (
        ("id", "draft_id", "pick_number", "round", "fantasy_team_id", "player_id", "picked_at"),
        ("uq_draft_picks_draft_id_pick_number",),
    ),
    "drafts": (
        ("id", "league_id", "status", "rounds", "current_pick", "started_at", "completed_at"),
        ("ix_drafts_league_id",),
    ),
    "fantasy_points": (
        ("id", "profile_id", "player_id", "game_id", "week", "points", "is_final", "updated_at"),
        (
            "ix_fantasy_points_game_id",
            "ix_fantasy_points_player_id",
            "ix_fantasy_points_week",
            "uq_fantasy_points_profile_id_player_id_game_id",
        ),
    ),
    "fantasy_teams": (
        ("id", "league_id", "owner_user_id", "name", "weekly_moves_used", "moves_reset_week", "created_at"),
        ("ix_fantasy_teams_league_id",),
    ),
    "ingest_logs": (
        ("id", "source", "endpoint", "started_at", "finished_at", "status", "rows_upserted", "error"),
        ("ix_ingest_logs_started_at",),
    ),
    "job_executions": (
        (
            "id",
            "job_id",
            "status",
            "started_at",
            "finished_at",
            "execution_time_s",
            "rows_affected",
            "peak_memory_mb",
            "error_message",
            "logical_time",
            "dag_id",
            "run_id",
            "try_number",
            "trigger",
            "dry_run",
            "long_running",
            "hostname",
            "details",
            "pid",
            "task_id",
            "heartbeat_at",
        ),
        ("ix_job_executions_job_started", "ix_job_executions_started_at", "ix_job_executions_status"),
    ),
    "league_profiles": (("league_id", "profile_id", "updated_at"), ("ix_league_profiles_profile_id",)),
    "league_scoring_trends": (
        (
            "id",
            "league_id",
            "week",
            "teams",
            "mean_points",
            "median_points",
            "stddev_points",
            "change_from_previous",
            "scores_digest",
            "updated_at",
        ),
        ("uq_league_scoring_trends_league_id_week",),
    ),
    "leagues": (
        (
            "id",
            "name",
            "season",
            "status",
            "scoring_settings",
            "max_teams",
            "roster_size",
            "max_weekly_moves",
            "current_week",
            "created_at",
            "completed_at",
            "archived_at",
        ),
        ("ix_leagues_status",),
    ),
    "notifications": (
        (
            "id",
            "user_id",
            "kind",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "claimed_at",
            "sent_at",
            "last_error",
            "created_at",
        ),
        ("ix_notifications_created_at", "ix_notifications_queue", "ix_notifications_status_due"),
    ),
    "player_consistency": (
        (
            "id",
            "player_id",
            "season",
            "games",
            "mean_points",
            "stddev_points",
            "coefficient_of_variation",
            "consistency_score",
            "rated",
            "updated_at",
        ),
        ("uq_player_consistency_player_id_season",),
    ),
    "power_rankings": (
        (
            "id",
            "league_id",
            "week",
            "fantasy_team_id",
            "score",
            "rank",
            "previous_rank",
            "season_points",
            "recent_points",
            "consistency",
            "weeks_played",
            "season_total",
            "season_squares",
            "updated_at",
        ),
        ("uq_power_rankings_league_id_week_fantasy_team_id",),
    ),
    "roster_slots": (
        ("id", "fantasy_team_id", "player_id", "slot", "acquired_at", "released_at"),
        ("ix_roster_slots_fantasy_team_id", "ix_roster_slots_player_id", "ix_roster_slots_player_starting"),
    ),
    "scoring_changes": (("id", "kind", "ref_id", "player_id", "queued_at"), ()),
    "scoring_profiles": (
        ("id", "weights_hash", "weights", "created_at"),
        ("uq_scoring_profiles_weights_hash",),
    ),
    "team_week_scores": (
        ("id", "league_id", "fantasy_team_id", "week", "points", "bonus_points", "updated_at"),
        (
            "ix_team_week_scores_league_id",
            "ix_team_week_scores_week_league",
            "uq_team_week_scores_fantasy_team_id_week",
        ),
    ),
    "teams": (
        (
            "id",
            "espn_id",
            "abbreviation",
            "location",
            "name",
            "display_name",
            "conference",
            "color",
            "logo_url",
            "is_active",
            "updated_at",
        ),
        ("uq_teams_espn_id",),
    ),
    "trade_impacts": (
        (
            "id",
            "trade_id",
            "league_id",
            "fantasy_team_id",
            "points_received",
            "points_given",
            "net_points",
            "games",
            "updated_at",
        ),
        ("ix_trade_impacts_league_id", "uq_trade_impacts_trade_id_fantasy_team_id"),
    ),
    "trade_items": (
        ("id", "trade_id", "from_team_id", "to_team_id", "player_id"),
        ("ix_trade_items_trade_id",),
    ),
    "trades": (("id", "league_id", "status", "proposed_at", "accepted_at"), ("ix_trades_league_id",)),
    "users": (("id", "email", "display_name", "is_admin", "created_at"), ("uq_users_email",)),
    "weekly_bonuses": (
        ("id", "league_id", "week", "fantasy_team_id", "bonus_type", "points", "created_at"),
        ("ix_weekly_bonuses_team_week", "uq_weekly_bonuses_league_id_week_fantasy_team_id_bonus_type"),
    ),
    "games": (
        (
            "id",
            "espn_id",
            "season",
            "season_type",
            "start_time",
            "home_team_id",
            "away_team_id",
            "status",
            "home_score",
            "away_score",
            "fantasy_week",
            "box_score_status",
            "box_score_attempts",
            "box_score_first_failed_at",
            "box_score_error",
            "updated_at",
        ),
        (
            "ix_games_box_score_status",
            "ix_games_fantasy_week",
            "ix_games_season",
            "ix_games_start_time",
            "uq_games_espn_id",
        ),
    ),
    "players": (
        (
            "id",
            "espn_id",
            "full_name",
            "position",
            "jersey",
            "height_in",
            "weight_lb",
            "birth_date",
            "college",
            "team_id",
            "status",
            "injury_status",
            "headshot_url",
            "profile_updated_at",
        ),
        ("ix_players_team_id", "uq_players_espn_id"),
    ),
    "standings": (
        (
            "id",
            "season",
            "team_id",
            "wins",
            "losses",
            "win_pct",
            "games_behind",
            "conference_rank",
            "streak",
            "home_record",
            "road_record",
            "last_ten",
            "clincher",
            "updated_at",
        ),
        ("uq_standings_season_team_id",),
    ),
    "player_game_stats": (
        (
            "id",
            "game_id",
            "player_id",
            "team_id",
            "minutes",
            "fgm",
            "fga",
            "fg3m",
            "fg3a",
            "ftm",
            "fta",
            "oreb",
            "dreb",
            "reb",
            "ast",
            "stl",
            "blk",
            "tov",
            "pf",
            "pts",
            "plus_minus",
            "did_not_play",
            "is_final",
            "updated_at",
        ),
        ("ix_player_game_stats_player_id", "uq_player_game_stats_game_id_player_id"),
    ),
    "stat_corrections": (
        ("id", "game_id", "player_id", "stat", "kind", "old_value", "new_value", "corrected_at"),
        ("ix_stat_corrections_corrected_at", "ix_stat_corrections_game_id", "ix_stat_corrections_kind"),
    ),
}
"""Each table's columns, and its index and unique-constraint names, as the baseline made them."""

TRIGGERS: dict[str, tuple[str, ...]] = {
    "postgresql": (
        """CREATE OR REPLACE FUNCTION fantasy_queue_player_game_stats() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.game_id IS DISTINCT FROM NEW.game_id OR OLD.player_id IS DISTINCT FROM NEW.player_id)) THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES ('line', OLD.game_id, OLD.player_id);
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES ('line', NEW.game_id, NEW.player_id);
          END IF;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_queue_player_game_stats AFTER INSERT OR UPDATE OR DELETE ON player_game_stats FOR EACH ROW EXECUTE FUNCTION fantasy_queue_player_game_stats()""",
        """CREATE OR REPLACE FUNCTION fantasy_queue_games() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND NOT (OLD.start_time IS DISTINCT FROM NEW.start_time OR OLD.season IS DISTINCT FROM NEW.season) THEN RETURN NULL; END IF;
          IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.id IS DISTINCT FROM NEW.id)) THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES ('game', OLD.id, NULL);
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES ('game', NEW.id, NULL);
          END IF;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_queue_games AFTER UPDATE ON games FOR EACH ROW EXECUTE FUNCTION fantasy_queue_games()""",
        """CREATE OR REPLACE FUNCTION fantasy_queue_roster_slots() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.fantasy_team_id IS DISTINCT FROM NEW.fantasy_team_id)) THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES ('team', OLD.fantasy_team_id, NULL);
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES ('team', NEW.fantasy_team_id, NULL);
          END IF;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_queue_roster_slots AFTER INSERT OR UPDATE OR DELETE ON roster_slots FOR EACH ROW EXECUTE FUNCTION fantasy_queue_roster_slots()""",
        """CREATE OR REPLACE FUNCTION fantasy_queue_leagues() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND NOT (OLD.scoring_settings IS DISTINCT FROM NEW.scoring_settings OR OLD.status IS DISTINCT FROM NEW.status OR OLD.season IS DISTINCT FROM NEW.season) THEN RETURN NULL; END IF;
          IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.id IS DISTINCT FROM NEW.id)) THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES ('league', OLD.id, NULL);
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES ('league', NEW.id, NULL);
          END IF;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_queue_leagues AFTER INSERT OR UPDATE OR DELETE ON leagues FOR EACH ROW EXECUTE FUNCTION fantasy_queue_leagues()""",
        """DROP TRIGGER IF EXISTS fantasy_analytics_tws_insert ON team_week_scores""",
        """CREATE OR REPLACE FUNCTION fantasy_changes_tws_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              WITH weeks AS (SELECT league_id, week FROM (SELECT league_id, week FROM new_rows) AS touched GROUP BY league_id, week),
                   bonus AS (INSERT INTO bonus_changes (league_id, week) SELECT league_id, week FROM weeks
                             WHERE current_setting('fantasy.writing_bonuses', true) IS DISTINCT FROM 'on')
              INSERT INTO analytics_changes (league_id, from_week)
              SELECT league_id, MIN(week) FROM weeks GROUP BY league_id;
              RETURN NULL;
            END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_changes_tws_insert AFTER INSERT ON team_week_scores REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_changes_tws_insert()""",
        """DROP TRIGGER IF EXISTS fantasy_analytics_tws_update ON team_week_scores""",
        """CREATE OR REPLACE FUNCTION fantasy_changes_tws_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              WITH weeks AS (SELECT league_id, week FROM (SELECT league_id, week FROM old_rows UNION ALL SELECT league_id, week FROM new_rows) AS touched GROUP BY league_id, week),
                   bonus AS (INSERT INTO bonus_changes (league_id, week) SELECT league_id, week FROM weeks
                             WHERE current_setting('fantasy.writing_bonuses', true) IS DISTINCT FROM 'on')
              INSERT INTO analytics_changes (league_id, from_week)
              SELECT league_id, MIN(week) FROM weeks GROUP BY league_id;
              RETURN NULL;
            END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_changes_tws_update AFTER UPDATE ON team_week_scores REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_changes_tws_update()""",
        """DROP TRIGGER IF EXISTS fantasy_analytics_tws_delete ON team_week_scores""",
        """CREATE OR REPLACE FUNCTION fantasy_changes_tws_delete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              WITH weeks AS (SELECT league_id, week FROM (SELECT league_id, week FROM old_rows) AS touched GROUP BY league_id, week),
                   bonus AS (INSERT INTO bonus_changes (league_id, week) SELECT league_id, week FROM weeks
                             WHERE current_setting('fantasy.writing_bonuses', true) IS DISTINCT FROM 'on')
              INSERT INTO analytics_changes (league_id, from_week)
              SELECT league_id, MIN(week) FROM weeks GROUP BY league_id;
              RETURN NULL;
            END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_changes_tws_delete AFTER DELETE ON team_week_scores REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_changes_tws_delete()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_fp_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO analytics_changes (league_id, from_week) SELECT DISTINCT t.league_id, CAST(NULL AS INTEGER) FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted' AND ti.player_id IN (SELECT player_id FROM (SELECT player_id FROM new_rows) AS touched);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_fp_insert AFTER INSERT ON fantasy_points REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_analytics_fp_insert()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_fp_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO analytics_changes (league_id, from_week) SELECT DISTINCT t.league_id, CAST(NULL AS INTEGER) FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted' AND ti.player_id IN (SELECT player_id FROM (SELECT player_id FROM old_rows UNION ALL SELECT player_id FROM new_rows) AS touched);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_fp_update AFTER UPDATE ON fantasy_points REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_analytics_fp_update()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_fp_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO analytics_changes (league_id, from_week) SELECT DISTINCT t.league_id, CAST(NULL AS INTEGER) FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted' AND ti.player_id IN (SELECT player_id FROM (SELECT player_id FROM old_rows) AS touched);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_fp_delete AFTER DELETE ON fantasy_points REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_analytics_fp_delete()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_rs_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO analytics_changes (league_id, from_week) SELECT DISTINCT t.league_id, CAST(NULL AS INTEGER) FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted' AND (ti.to_team_id, ti.player_id) IN (SELECT fantasy_team_id, player_id FROM (SELECT fantasy_team_id, player_id FROM new_rows) AS touched);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_rs_insert AFTER INSERT ON roster_slots REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_analytics_rs_insert()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_rs_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO analytics_changes (league_id, from_week) SELECT DISTINCT t.league_id, CAST(NULL AS INTEGER) FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted' AND (ti.to_team_id, ti.player_id) IN (SELECT fantasy_team_id, player_id FROM (SELECT fantasy_team_id, player_id FROM old_rows UNION ALL SELECT fantasy_team_id, player_id FROM new_rows) AS touched);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_rs_update AFTER UPDATE ON roster_slots REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_analytics_rs_update()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_rs_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO analytics_changes (league_id, from_week) SELECT DISTINCT t.league_id, CAST(NULL AS INTEGER) FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted' AND (ti.to_team_id, ti.player_id) IN (SELECT fantasy_team_id, player_id FROM (SELECT fantasy_team_id, player_id FROM old_rows) AS touched);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_rs_delete AFTER DELETE ON roster_slots REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_analytics_rs_delete()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_games() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO analytics_changes (league_id, from_week) SELECT DISTINCT t.league_id, CAST(NULL AS INTEGER) FROM trades t JOIN trade_items ti ON ti.trade_id = t.id WHERE t.status = 'accepted' AND  ti.player_id IN (
            SELECT s.player_id FROM player_game_stats s
            WHERE s.game_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                WHERE o.start_time IS DISTINCT FROM n.start_time));
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_games AFTER UPDATE ON games REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_analytics_games()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_leagues() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.status IS DISTINCT FROM NEW.status OR OLD.season IS DISTINCT FROM NEW.season THEN
            INSERT INTO analytics_changes (league_id, from_week) VALUES (NEW.id, 0);
          END IF;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_leagues AFTER UPDATE ON leagues FOR EACH ROW EXECUTE FUNCTION fantasy_analytics_leagues()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_trades() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            INSERT INTO analytics_changes (league_id) VALUES (OLD.league_id);
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO analytics_changes (league_id) VALUES (NEW.league_id);
          END IF;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_trades AFTER INSERT OR UPDATE OR DELETE ON trades FOR EACH ROW EXECUTE FUNCTION fantasy_analytics_trades()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_league_profiles() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            INSERT INTO analytics_changes (league_id) VALUES (OLD.league_id);
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO analytics_changes (league_id) VALUES (NEW.league_id);
          END IF;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_league_profiles AFTER INSERT OR UPDATE OF profile_id OR DELETE ON league_profiles FOR EACH ROW EXECUTE FUNCTION fantasy_analytics_league_profiles()""",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_trade_items() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO analytics_changes (league_id)
          SELECT league_id FROM trades WHERE id IN (
            SELECT CASE WHEN TG_OP = 'DELETE' THEN OLD.trade_id ELSE NEW.trade_id END
            UNION SELECT CASE WHEN TG_OP = 'UPDATE' THEN OLD.trade_id END);
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_analytics_trade_items AFTER INSERT OR UPDATE OR DELETE ON trade_items FOR EACH ROW EXECUTE FUNCTION fantasy_analytics_trade_items()""",
        """CREATE OR REPLACE FUNCTION fantasy_bonus_rs_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO bonus_changes (league_id, week, player_id) SELECT DISTINCT ft.league_id, CAST(NULL AS INTEGER), CAST(NULL AS BIGINT) FROM fantasy_teams ft WHERE ft.id IN (SELECT fantasy_team_id FROM new_rows);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_bonus_rs_insert AFTER INSERT ON roster_slots REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_bonus_rs_insert()""",
        """CREATE OR REPLACE FUNCTION fantasy_bonus_rs_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO bonus_changes (league_id, week, player_id) SELECT DISTINCT ft.league_id, CAST(NULL AS INTEGER), CAST(NULL AS BIGINT) FROM fantasy_teams ft WHERE ft.id IN (SELECT fantasy_team_id FROM old_rows UNION ALL SELECT fantasy_team_id FROM new_rows);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_bonus_rs_update AFTER UPDATE ON roster_slots REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_bonus_rs_update()""",
        """CREATE OR REPLACE FUNCTION fantasy_bonus_rs_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO bonus_changes (league_id, week, player_id) SELECT DISTINCT ft.league_id, CAST(NULL AS INTEGER), CAST(NULL AS BIGINT) FROM fantasy_teams ft WHERE ft.id IN (SELECT fantasy_team_id FROM old_rows);
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_bonus_rs_delete AFTER DELETE ON roster_slots REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_bonus_rs_delete()""",
        """CREATE OR REPLACE FUNCTION fantasy_bonus_pgs_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO bonus_changes (league_id, week, player_id) SELECT DISTINCT CAST(NULL AS BIGINT), g.fantasy_week, r.player_id FROM (SELECT game_id, player_id FROM new_rows) AS r JOIN games g ON g.id = r.game_id WHERE g.fantasy_week IS NOT NULL;
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_bonus_pgs_insert AFTER INSERT ON player_game_stats REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_bonus_pgs_insert()""",
        """CREATE OR REPLACE FUNCTION fantasy_bonus_pgs_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO bonus_changes (league_id, week, player_id) SELECT DISTINCT CAST(NULL AS BIGINT), g.fantasy_week, r.player_id FROM (SELECT o.game_id, o.player_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.did_not_play IS DISTINCT FROM n.did_not_play OR o.game_id IS DISTINCT FROM n.game_id OR o.player_id IS DISTINCT FROM n.player_id UNION ALL SELECT n.game_id, n.player_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.did_not_play IS DISTINCT FROM n.did_not_play OR o.game_id IS DISTINCT FROM n.game_id OR o.player_id IS DISTINCT FROM n.player_id) AS r JOIN games g ON g.id = r.game_id WHERE g.fantasy_week IS NOT NULL;
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_bonus_pgs_update AFTER UPDATE ON player_game_stats REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_bonus_pgs_update()""",
        """CREATE OR REPLACE FUNCTION fantasy_bonus_pgs_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO bonus_changes (league_id, week, player_id) SELECT DISTINCT CAST(NULL AS BIGINT), g.fantasy_week, r.player_id FROM (SELECT game_id, player_id FROM old_rows) AS r JOIN games g ON g.id = r.game_id WHERE g.fantasy_week IS NOT NULL;
                  RETURN NULL;
                END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_bonus_pgs_delete AFTER DELETE ON player_game_stats REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_bonus_pgs_delete()""",
        """CREATE OR REPLACE FUNCTION fantasy_bonus_games() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO bonus_changes (week, player_id)
          SELECT o.fantasy_week, s.player_id FROM old_rows o JOIN new_rows n ON n.id = o.id JOIN player_game_stats s ON s.game_id = n.id WHERE o.fantasy_week IS DISTINCT FROM n.fantasy_week AND o.fantasy_week IS NOT NULL UNION SELECT n.fantasy_week, s.player_id FROM old_rows o JOIN new_rows n ON n.id = o.id JOIN player_game_stats s ON s.game_id = n.id WHERE o.fantasy_week IS DISTINCT FROM n.fantasy_week AND n.fantasy_week IS NOT NULL;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_bonus_games AFTER UPDATE ON games REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_bonus_games()""",
        """CREATE OR REPLACE FUNCTION fantasy_bonus_leagues() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.scoring_settings IS DISTINCT FROM NEW.scoring_settings OR OLD.status IS DISTINCT FROM NEW.status OR OLD.season IS DISTINCT FROM NEW.season THEN
            INSERT INTO bonus_changes (league_id) VALUES (NEW.id);
          END IF;
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_bonus_leagues AFTER UPDATE ON leagues FOR EACH ROW EXECUTE FUNCTION fantasy_bonus_leagues()""",
        """CREATE OR REPLACE FUNCTION fantasy_consistency_pgs_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO consistency_changes (player_id) SELECT player_id FROM new_rows;
              RETURN NULL;
            END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_consistency_pgs_insert AFTER INSERT ON player_game_stats REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_consistency_pgs_insert()""",
        """CREATE OR REPLACE FUNCTION fantasy_consistency_pgs_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO consistency_changes (player_id) SELECT player_id FROM old_rows UNION SELECT player_id FROM new_rows;
              RETURN NULL;
            END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_consistency_pgs_update AFTER UPDATE ON player_game_stats REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_consistency_pgs_update()""",
        """CREATE OR REPLACE FUNCTION fantasy_consistency_pgs_delete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO consistency_changes (player_id) SELECT player_id FROM old_rows;
              RETURN NULL;
            END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_consistency_pgs_delete AFTER DELETE ON player_game_stats REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_consistency_pgs_delete()""",
        """CREATE OR REPLACE FUNCTION fantasy_consistency_games() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO consistency_changes (player_id)
          SELECT DISTINCT s.player_id FROM player_game_stats s
          WHERE s.game_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                              WHERE o.season IS DISTINCT FROM n.season);
          RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER fantasy_consistency_games AFTER UPDATE ON games REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fantasy_consistency_games()""",
    ),
    "sqlite": (
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_player_game_stats_insert AFTER INSERT ON player_game_stats FOR EACH ROW BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('line', NEW.game_id, NEW.player_id, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_player_game_stats_update AFTER UPDATE ON player_game_stats FOR EACH ROW BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('line', OLD.game_id, OLD.player_id, CURRENT_TIMESTAMP); INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('line', NEW.game_id, NEW.player_id, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_player_game_stats_delete AFTER DELETE ON player_game_stats FOR EACH ROW BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('line', OLD.game_id, OLD.player_id, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_games_update AFTER UPDATE ON games FOR EACH ROW WHEN OLD.start_time IS NOT NEW.start_time OR OLD.season IS NOT NEW.season BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('game', OLD.id, NULL, CURRENT_TIMESTAMP); INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('game', NEW.id, NULL, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_roster_slots_insert AFTER INSERT ON roster_slots FOR EACH ROW BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('team', NEW.fantasy_team_id, NULL, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_roster_slots_update AFTER UPDATE ON roster_slots FOR EACH ROW BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('team', OLD.fantasy_team_id, NULL, CURRENT_TIMESTAMP); INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('team', NEW.fantasy_team_id, NULL, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_roster_slots_delete AFTER DELETE ON roster_slots FOR EACH ROW BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('team', OLD.fantasy_team_id, NULL, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_leagues_insert AFTER INSERT ON leagues FOR EACH ROW BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('league', NEW.id, NULL, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_leagues_update AFTER UPDATE ON leagues FOR EACH ROW WHEN OLD.scoring_settings IS NOT NEW.scoring_settings OR OLD.status IS NOT NEW.status OR OLD.season IS NOT NEW.season BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('league', OLD.id, NULL, CURRENT_TIMESTAMP); INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('league', NEW.id, NULL, CURRENT_TIMESTAMP); END""",
        """CREATE TRIGGER IF NOT EXISTS fantasy_queue_leagues_delete AFTER DELETE ON leagues FOR EACH ROW BEGIN INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES ('league', OLD.id, NULL, CURRENT_TIMESTAMP); END""",
    ),
}
"""The change-log triggers (scoring, analytics, bonus and consistency change tables) per dialect."""
