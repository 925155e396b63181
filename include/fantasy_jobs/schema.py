"""SQLAlchemy 2 models of the app tables the jobs read and write (DESIGN section 5).

The web app owns this schema in production; this is a faithful model of the tables the jobs
touch, used to create them for the demo and the tests, on PostgreSQL 15+ and SQLite alike.
Roster, draft and trade references carry no foreign keys, as in the app: orphans can exist.
Timestamps are stored in UTC (`UtcDateTime`) and come back timezone-aware on both dialects.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator):
    """A timestamp stored as UTC; naive input is rejected, output is always aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "pk": "pk_%(table_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JsonType, Any: JsonType}


def _id() -> Mapped[int]:
    return mapped_column(BigId, primary_key=True, autoincrement=True)


def _created(**kwargs: Any) -> Mapped[datetime]:
    """A creation time: set by the ORM, and by the database for rows written in plain SQL."""
    return mapped_column(UtcDateTime(), default=utcnow, server_default=func.current_timestamp(), **kwargs)


def _updated() -> Mapped[datetime]:
    return mapped_column(
        UtcDateTime(), default=utcnow, onupdate=utcnow, server_default=func.current_timestamp()
    )


# --- WNBA data (written by ingestion, keyed by ESPN ids) -----------------------------------


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = _id()
    espn_id: Mapped[str] = mapped_column(String(32), unique=True)
    abbreviation: Mapped[str] = mapped_column(String(8))
    location: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128))
    conference: Mapped[str | None] = mapped_column(String(16))
    color: Mapped[str | None] = mapped_column(String(8))
    logo_url: Mapped[str | None] = mapped_column(String(512))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = _updated()


class Player(Base):
    __tablename__ = "players"
    id: Mapped[int] = _id()
    espn_id: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(128))
    position: Mapped[str | None] = mapped_column(String(8))
    jersey: Mapped[str | None] = mapped_column(String(8))
    height_in: Mapped[float | None] = mapped_column(Float)
    weight_lb: Mapped[float | None] = mapped_column(Float)
    birth_date: Mapped[date | None] = mapped_column(Date)
    college: Mapped[str | None] = mapped_column(String(128))
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), index=True)
    status: Mapped[str | None] = mapped_column(String(32))
    injury_status: Mapped[str | None] = mapped_column(String(64))
    headshot_url: Mapped[str | None] = mapped_column(String(512))
    profile_updated_at: Mapped[datetime | None]


class Game(Base):
    __tablename__ = "games"
    id: Mapped[int] = _id()
    espn_id: Mapped[str] = mapped_column(String(32), unique=True)
    season: Mapped[int] = mapped_column(Integer, index=True)
    season_type: Mapped[int] = mapped_column(Integer, default=2)  # ESPN: 1 pre, 2 regular, 3 post
    start_time: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    home_team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id"))
    away_team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id"))
    status: Mapped[str] = mapped_column(
        String(16), default="scheduled"
    )  # scheduled in_progress final postponed canceled
    home_score: Mapped[int | None] = mapped_column(Integer)
    away_score: Mapped[int | None] = mapped_column(Integer)
    fantasy_week: Mapped[int | None] = mapped_column(
        Integer, index=True
    )  # week key of the tip-off, set by scoring
    # ingest_player_stats' memory: NULL until ESPN calls the game final, then pending (box score
    # not stored yet; status stays in_progress), stored, or no_box_score (given up; status final)
    box_score_status: Mapped[str | None] = mapped_column(String(16), index=True)
    box_score_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # failed reads
    box_score_first_failed_at: Mapped[datetime | None]
    box_score_error: Mapped[str | None] = mapped_column(Text)  # the last failure, for operators
    updated_at: Mapped[datetime] = _updated()


BOX_SCORE_COLUMNS = (
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
)
"""The counting stats of a box-score line: the columns of player_game_stats besides keys, plus_minus and flags."""


class PlayerGameStats(Base):
    __tablename__ = "player_game_stats"
    __table_args__ = (UniqueConstraint("game_id", "player_id"),)
    id: Mapped[int] = _id()
    game_id: Mapped[int] = mapped_column(BigId, ForeignKey("games.id"))
    player_id: Mapped[int] = mapped_column(BigId, ForeignKey("players.id"), index=True)
    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id"))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    fgm: Mapped[int] = mapped_column(Integer, default=0)
    fga: Mapped[int] = mapped_column(Integer, default=0)
    fg3m: Mapped[int] = mapped_column(Integer, default=0)
    fg3a: Mapped[int] = mapped_column(Integer, default=0)
    ftm: Mapped[int] = mapped_column(Integer, default=0)
    fta: Mapped[int] = mapped_column(Integer, default=0)
    oreb: Mapped[int] = mapped_column(Integer, default=0)
    dreb: Mapped[int] = mapped_column(Integer, default=0)
    reb: Mapped[int] = mapped_column(Integer, default=0)
    ast: Mapped[int] = mapped_column(Integer, default=0)
    stl: Mapped[int] = mapped_column(Integer, default=0)
    blk: Mapped[int] = mapped_column(Integer, default=0)
    tov: Mapped[int] = mapped_column(Integer, default=0)
    pf: Mapped[int] = mapped_column(Integer, default=0)
    pts: Mapped[int] = mapped_column(Integer, default=0)
    plus_minus: Mapped[int | None] = mapped_column(Integer)
    did_not_play: Mapped[bool] = mapped_column(Boolean, default=False)
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = _updated()


class StatCorrection(Base):
    """A stat that ESPN changed after it was stored final, or a line a newer box score no longer has
    (written by ingest_player_stats, season_audit and live_game_check)."""

    __tablename__ = "stat_corrections"
    id: Mapped[int] = _id()
    game_id: Mapped[int] = mapped_column(BigId, ForeignKey("games.id"), index=True)
    player_id: Mapped[int] = mapped_column(BigId, ForeignKey("players.id"))
    stat: Mapped[str] = mapped_column(String(16))  # a player_game_stats column
    # changed (a stat of a final line), added (a line new to a final box score: old_value NULL) or
    # removed (a line the newer box score lacks, final or live: one row per stat, new_value NULL);
    # NULL on rows written before this column existed (changed, or added where old_value is NULL)
    kind: Mapped[str | None] = mapped_column(String(8), index=True)
    old_value: Mapped[int | None] = mapped_column(Integer)  # NULL: the line was new
    new_value: Mapped[int | None] = mapped_column(Integer)  # NULL: the line was removed
    corrected_at: Mapped[datetime] = _created(index=True)


class Standing(Base):
    __tablename__ = "standings"
    __table_args__ = (UniqueConstraint("season", "team_id"),)
    id: Mapped[int] = _id()
    season: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id"))
    wins: Mapped[int] = mapped_column(Integer, default=0)
    losses: Mapped[int] = mapped_column(Integer, default=0)
    win_pct: Mapped[float | None] = mapped_column(Float)
    games_behind: Mapped[float | None] = mapped_column(Float)
    conference_rank: Mapped[int | None] = mapped_column(Integer)
    streak: Mapped[str | None] = mapped_column(String(16))
    home_record: Mapped[str | None] = mapped_column(String(16))
    road_record: Mapped[str | None] = mapped_column(String(16))
    last_ten: Mapped[str | None] = mapped_column(String(16))
    clincher: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = _updated()


class IngestLog(Base):
    __tablename__ = "ingest_logs"
    id: Mapped[int] = _id()
    source: Mapped[str] = mapped_column(String(32))
    endpoint: Mapped[str] = mapped_column(String(512))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    rows_upserted: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


# --- Fantasy data (written by the app, read and maintained by the jobs) --------------------


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = _id()
    email: Mapped[str] = mapped_column(String(256), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _created()


class League(Base):
    __tablename__ = "leagues"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(128))
    season: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(
        String(16), default="drafting", index=True
    )  # drafting active completed archived
    scoring_settings: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    max_teams: Mapped[int] = mapped_column(Integer, default=10)
    roster_size: Mapped[int] = mapped_column(Integer, default=10)
    max_weekly_moves: Mapped[int] = mapped_column(Integer, default=3)
    current_week: Mapped[int | None] = mapped_column(Integer)  # fantasy week key, see timeutil
    created_at: Mapped[datetime] = _created()
    completed_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]


class FantasyTeam(Base):
    __tablename__ = "fantasy_teams"
    id: Mapped[int] = _id()
    league_id: Mapped[int] = mapped_column(BigId, index=True)
    owner_user_id: Mapped[int | None] = mapped_column(BigId)
    name: Mapped[str] = mapped_column(String(128))
    weekly_moves_used: Mapped[int] = mapped_column(Integer, default=0)
    moves_reset_week: Mapped[int | None] = mapped_column(Integer)  # fantasy week key of the last reset
    created_at: Mapped[datetime] = _created()


class RosterSlot(Base):
    __tablename__ = "roster_slots"
    __table_args__ = (
        # A live tick's question, "which teams started this player at this tip-off?", answered from
        # the index alone: ~81,000 slots per player at 100,000 leagues, scattered over the table.
        Index(
            "ix_roster_slots_player_starting",
            "player_id",
            "acquired_at",
            postgresql_include=["released_at", "fantasy_team_id"],
            postgresql_where=text("slot IN ('G', 'F', 'C', 'UTIL')"),
            sqlite_where=text("slot IN ('G', 'F', 'C', 'UTIL')"),
        ),
    )
    id: Mapped[int] = _id()
    fantasy_team_id: Mapped[int] = mapped_column(BigId, index=True)
    player_id: Mapped[int] = mapped_column(BigId, index=True)
    slot: Mapped[str] = mapped_column(String(8))  # G F C UTIL BENCH IR
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    released_at: Mapped[datetime | None]


class Draft(Base):
    __tablename__ = "drafts"
    id: Mapped[int] = _id()
    league_id: Mapped[int] = mapped_column(BigId, index=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled in_progress completed
    rounds: Mapped[int] = mapped_column(Integer)
    current_pick: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class DraftPick(Base):
    __tablename__ = "draft_picks"
    __table_args__ = (UniqueConstraint("draft_id", "pick_number"),)
    id: Mapped[int] = _id()
    draft_id: Mapped[int] = mapped_column(BigId)
    pick_number: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    fantasy_team_id: Mapped[int] = mapped_column(BigId)
    player_id: Mapped[int | None] = mapped_column(BigId)
    picked_at: Mapped[datetime | None]


class Trade(Base):
    __tablename__ = "trades"
    id: Mapped[int] = _id()
    league_id: Mapped[int] = mapped_column(BigId, index=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed accepted rejected canceled
    proposed_at: Mapped[datetime] = _created()
    accepted_at: Mapped[datetime | None]


class TradeItem(Base):
    __tablename__ = "trade_items"
    id: Mapped[int] = _id()
    trade_id: Mapped[int] = mapped_column(BigId, index=True)
    from_team_id: Mapped[int] = mapped_column(BigId)
    to_team_id: Mapped[int] = mapped_column(BigId)
    player_id: Mapped[int] = mapped_column(BigId)


NOTIFICATION_QUEUE_STATUSES = "status IN ('pending', 'failed', 'sending')"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_due", "status", "next_attempt_at"),
        # The live queue only (not the sent/dead rows kept 30 days): a claim walks it in id order,
        # so its cost does not grow with the history.
        Index(
            "ix_notifications_queue",
            "id",
            postgresql_where=text(NOTIFICATION_QUEUE_STATUSES),
            sqlite_where=text(NOTIFICATION_QUEUE_STATUSES),
        ),
    )
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(32))  # in_app, webhook
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending sending sent failed dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created(index=True)


class CacheEntry(Base):
    __tablename__ = "cache_entries"
    id: Mapped[int] = _id()
    key: Mapped[str] = mapped_column(String(256), unique=True)
    value: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    created_at: Mapped[datetime] = _created()


# --- Written by the jobs -------------------------------------------------------------------


class ScoringProfile(Base):
    __tablename__ = "scoring_profiles"
    id: Mapped[int] = _id()
    weights_hash: Mapped[str] = mapped_column(String(64), unique=True)
    weights: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = _created()


class LeagueProfile(Base):
    """Which scoring profile a league uses now (written by calculate_fantasy_scores)."""

    __tablename__ = "league_profiles"
    league_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    profile_id: Mapped[int] = mapped_column(BigId, index=True)
    updated_at: Mapped[datetime] = _updated()


class FantasyPoints(Base):
    __tablename__ = "fantasy_points"
    __table_args__ = (UniqueConstraint("profile_id", "player_id", "game_id"),)
    id: Mapped[int] = _id()
    profile_id: Mapped[int] = mapped_column(BigId)
    player_id: Mapped[int] = mapped_column(BigId, index=True)
    game_id: Mapped[int] = mapped_column(BigId, index=True)
    week: Mapped[int] = mapped_column(Integer, index=True)
    points: Mapped[float] = mapped_column(Float)
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = _updated()


class TeamWeekScore(Base):
    __tablename__ = "team_week_scores"
    __table_args__ = (
        UniqueConstraint("fantasy_team_id", "week"),
        # calculate_bonuses reads one week of every league
        Index("ix_team_week_scores_week_league", "week", "league_id"),
        # league_analytics reads a league's weeks from its first changed one (revision 0002)
        Index("ix_team_week_scores_league_week", "league_id", "week"),
    )
    id: Mapped[int] = _id()
    league_id: Mapped[int] = mapped_column(BigId)
    fantasy_team_id: Mapped[int] = mapped_column(BigId)
    week: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    bonus_points: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = _updated()


class WeeklyBonus(Base):
    __tablename__ = "weekly_bonuses"
    __table_args__ = (
        UniqueConstraint("league_id", "week", "fantasy_team_id", "bonus_type"),
        Index("ix_weekly_bonuses_team_week", "fantasy_team_id", "week"),  # a team's bonuses of a week
    )
    id: Mapped[int] = _id()
    league_id: Mapped[int] = mapped_column(BigId)
    week: Mapped[int] = mapped_column(Integer)
    fantasy_team_id: Mapped[int] = mapped_column(BigId)
    bonus_type: Mapped[str] = mapped_column(String(32))
    points: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = _created()


class PlayerConsistency(Base):
    __tablename__ = "player_consistency"
    __table_args__ = (UniqueConstraint("player_id", "season"),)
    id: Mapped[int] = _id()
    player_id: Mapped[int] = mapped_column(BigId)
    season: Mapped[int] = mapped_column(Integer)
    games: Mapped[int] = mapped_column(Integer)
    mean_points: Mapped[float | None] = mapped_column(Float)
    stddev_points: Mapped[float | None] = mapped_column(Float)
    coefficient_of_variation: Mapped[float | None] = mapped_column(Float)
    consistency_score: Mapped[float | None] = mapped_column(Float)
    rated: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = _updated()


class LeagueScoringTrend(Base):
    __tablename__ = "league_scoring_trends"
    __table_args__ = (UniqueConstraint("league_id", "week"),)
    id: Mapped[int] = _id()
    league_id: Mapped[int] = mapped_column(BigId)
    week: Mapped[int] = mapped_column(Integer)
    teams: Mapped[int] = mapped_column(Integer)
    mean_points: Mapped[float | None] = mapped_column(Float)
    median_points: Mapped[float | None] = mapped_column(Float)
    stddev_points: Mapped[float | None] = mapped_column(Float)
    change_from_previous: Mapped[float | None] = mapped_column(Float)
    # A fingerprint of the week's team scores (PostgreSQL path): when it is unchanged, the league's power
    # rankings from this week on need no recomputing (league_analytics).
    scores_digest: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = _updated()


class TradeImpact(Base):
    __tablename__ = "trade_impacts"
    __table_args__ = (UniqueConstraint("trade_id", "fantasy_team_id"),)
    id: Mapped[int] = _id()
    trade_id: Mapped[int] = mapped_column(BigId)
    league_id: Mapped[int] = mapped_column(BigId, index=True)
    fantasy_team_id: Mapped[int] = mapped_column(BigId)
    points_received: Mapped[float] = mapped_column(Float, default=0.0)
    points_given: Mapped[float] = mapped_column(Float, default=0.0)
    net_points: Mapped[float] = mapped_column(Float, default=0.0)
    games: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = _updated()


class PowerRanking(Base):
    __tablename__ = "power_rankings"
    __table_args__ = (UniqueConstraint("league_id", "week", "fantasy_team_id"),)
    id: Mapped[int] = _id()
    league_id: Mapped[int] = mapped_column(BigId)
    week: Mapped[int] = mapped_column(Integer)
    fantasy_team_id: Mapped[int] = mapped_column(BigId)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    previous_rank: Mapped[int | None] = mapped_column(Integer)
    season_points: Mapped[float] = mapped_column(Float, default=0.0)
    recent_points: Mapped[float] = mapped_column(Float, default=0.0)
    consistency: Mapped[float | None] = mapped_column(Float)
    # The team's season so far, exact (PostgreSQL path): a later run ranks the weeks after this one
    # from these, without reading the season's team weeks again (league_analytics).
    weeks_played: Mapped[int | None] = mapped_column(Integer)
    season_total: Mapped[float | None] = mapped_column(Float)
    season_squares: Mapped[float | None] = mapped_column(Float)  # sum of the squared weekly totals
    updated_at: Mapped[datetime] = _updated()


class DataQualityResult(Base):
    __tablename__ = "data_quality_results"
    id: Mapped[int] = _id()
    check_name: Mapped[str] = mapped_column(String(64), index=True)
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16))  # passed failed error
    issue_count: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class JobExecution(Base):
    __tablename__ = "job_executions"
    __table_args__ = (Index("ix_job_executions_job_started", "job_id", "started_at"),)
    id: Mapped[int] = _id()
    job_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)  # running completed failed skipped abandoned
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    finished_at: Mapped[datetime | None]
    execution_time_s: Mapped[float | None] = mapped_column(Float)
    rows_affected: Mapped[int | None] = mapped_column(Integer)
    peak_memory_mb: Mapped[float | None] = mapped_column(Float)
    error_message: Mapped[str | None] = mapped_column(Text)
    logical_time: Mapped[datetime | None]
    dag_id: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(256))
    try_number: Mapped[int | None] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(16))  # scheduled manual cli
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    long_running: Mapped[bool] = mapped_column(Boolean, default=False)
    hostname: Mapped[str | None] = mapped_column(String(256))
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    # Ownership (issue 13): the process that runs the row, its Airflow task, and its heartbeat;
    # a `running` row whose owner is gone is closed as `abandoned` (fantasy_jobs.ownership).
    pid: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[str | None] = mapped_column(String(256))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Backup(Base):
    __tablename__ = "backups"
    id: Mapped[int] = _id()
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    backend: Mapped[str] = mapped_column(String(16))  # postgresql sqlite
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 hex
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    taken_for: Mapped[datetime] = mapped_column(UtcDateTime())  # the run's logical time
    created_at: Mapped[datetime] = _created()
    deleted_at: Mapped[datetime | None]
    # Every app table's row count in the dump's own snapshot; verify_backup_restore compares with it.
    manifest: Mapped[dict[str, int] | None] = mapped_column(JsonType)
    restore_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # last restore check
    restore_result: Mapped[str | None] = mapped_column(String(16))  # passed failed
    restore_message: Mapped[str | None] = mapped_column(Text)
    restore_duration_s: Mapped[float | None] = mapped_column(Float)


class ScoringChange(Base):
    """The scoring change log: one row per change that can move fantasy points or team week totals,
    written by database triggers (`CHANGE_TRIGGERS`) on the tables whatever writes them (the app,
    ingestion, an operator's SQL). `calculate_fantasy_scores` recomputes what the rows it read
    name and deletes exactly those rows in the same transaction, so a change committed during a run
    waits for the next one: no clock, no watermark.

    kind `line` (ref_id a game, player_id): a stat line written or deleted; `game` (ref_id): a tip-off
    or season changed; `team` (ref_id a fantasy team): a roster slot written or deleted; `league`
    (ref_id): a league created, deleted, or its scoring settings, status or season changed."""

    __tablename__ = "scoring_changes"
    id: Mapped[int] = _id()
    kind: Mapped[str] = mapped_column(String(8))
    ref_id: Mapped[int] = mapped_column(BigInteger)
    player_id: Mapped[int | None] = mapped_column(BigInteger)
    queued_at: Mapped[datetime] = _created()


class AnalyticsChange(Base):
    """The league analytics change log (PostgreSQL), written by database triggers: one row per league
    a statement touched, with the first week whose trends and rankings it may have changed
    (`from_week`): team weeks written or deleted (their first week), a league's status or season
    changed (0: every week); NULL when its trade impacts are affected (a trade or its items changed,
    the points of a traded player written or deleted, his roster slots on the team that received
    him, a game's tip-off moved, the league's scoring profile changed). `league_analytics` recomputes those leagues' trends and
    rankings from that week on and their trade impacts, and deletes exactly the rows it read. On
    SQLite nothing feeds it: league analytics there recomputes everything (a demo-sized database)."""

    __tablename__ = "analytics_changes"
    id: Mapped[int] = _id()
    league_id: Mapped[int] = mapped_column(BigInteger)
    from_week: Mapped[int | None] = mapped_column(Integer)
    queued_at: Mapped[datetime] = _created()


class BonusChange(Base):
    """The calculate_bonuses change log (PostgreSQL), written by database triggers, for a re-run of a
    week already awarded: (league, week) team week scores written or deleted; (league, NULL) its
    roster slots or settings changed; (NULL, week, player) a stat line of that player in that week's
    games written, deleted, or its did-not-play flag or game changed, or its game moved to another
    week. The first run for a week reads every league; a later one for the same week only the
    leagues these rows name, and deletes the rows it read. On SQLite nothing feeds it: every run
    reads every league (a demo-sized database)."""

    __tablename__ = "bonus_changes"
    id: Mapped[int] = _id()
    league_id: Mapped[int | None] = mapped_column(BigInteger)
    week: Mapped[int | None] = mapped_column(Integer)
    player_id: Mapped[int | None] = mapped_column(BigInteger)
    queued_at: Mapped[datetime] = _created()


class ConsistencyChange(Base):
    """The calculate_analytics change log (PostgreSQL), written by statement triggers: one row per
    player whose stat lines a statement wrote or deleted, or whose game moved to another season.
    The job recomputes those players' consistency and deletes exactly the rows it read. On SQLite
    nothing feeds it: every run reads every line (a demo-sized database)."""

    __tablename__ = "consistency_changes"
    id: Mapped[int] = _id()
    player_id: Mapped[int] = mapped_column(BigInteger)
    queued_at: Mapped[datetime] = _created()


def _pg_consistency_triggers() -> list[str]:
    statements = []
    for event, rows in (
        ("INSERT", ("new_rows",)),
        ("UPDATE", ("old_rows", "new_rows")),
        ("DELETE", ("old_rows",)),
    ):
        function = f"fantasy_consistency_pgs_{event.lower()}"
        source = " UNION ".join(f"SELECT player_id FROM {r}" for r in rows)
        referencing = " ".join(f"{'OLD' if r == 'old_rows' else 'NEW'} TABLE AS {r}" for r in rows)
        statements += [
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO consistency_changes (player_id) {source};
              RETURN NULL;
            END $$""",
            f"CREATE OR REPLACE TRIGGER {function} AFTER {event} ON player_game_stats "
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    statements += [
        """CREATE OR REPLACE FUNCTION fantasy_consistency_games() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO consistency_changes (player_id)
          SELECT DISTINCT s.player_id FROM player_game_stats s
          WHERE s.game_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                              WHERE o.season IS DISTINCT FROM n.season);
          RETURN NULL;
        END $$""",
        "CREATE OR REPLACE TRIGGER fantasy_consistency_games AFTER UPDATE ON games "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION fantasy_consistency_games()",
    ]
    return statements


WRITING_BONUSES = "fantasy.writing_bonuses"
"""Set (SET LOCAL ... 'on') by calculate_bonuses in its transaction: the bonus points it writes to team
weeks queue league analytics (rankings count bonuses) but not bonus_changes (its own output)."""


def _pg_team_week_triggers() -> list[str]:
    """Statement triggers (transition tables) on team_week_scores, fantasy_points, roster_slots and
    games (tip-off moved), row triggers on leagues, league_profiles, trades and trade items: a scoring
    run writing millions of team weeks queues each league once per statement, not once per row."""
    statements = []
    # a team week written or deleted: its league, from the first week touched, in analytics_changes,
    # and (league, week) in bonus_changes, from one pass over the statement's rows. The rest affect trade
    # impacts only: a points row written or deleted (the leagues with an accepted trade of that player:
    # a trade's impact counts the points of the players it gave away in any lineup, which no team
    # week of theirs may show), a roster slot of a traded player on the team that received him (his
    # starts count), a game's tip-off moved (which games came after a trade)
    traded = (
        "SELECT DISTINCT t.league_id, CAST(NULL AS INTEGER) FROM trades t JOIN trade_items ti ON ti.trade_id = t.id "
        "WHERE t.status = 'accepted' AND "
    )
    for event, rows in (
        ("INSERT", ("new_rows",)),
        ("UPDATE", ("old_rows", "new_rows")),
        ("DELETE", ("old_rows",)),
    ):
        function = f"fantasy_changes_tws_{event.lower()}"
        source = " UNION ALL ".join(f"SELECT league_id, week FROM {r}" for r in rows)
        referencing = " ".join(f"{'OLD' if r == 'old_rows' else 'NEW'} TABLE AS {r}" for r in rows)
        statements += [
            f"DROP TRIGGER IF EXISTS fantasy_analytics_tws_{event.lower()} ON team_week_scores",  # before 2026-12
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              WITH weeks AS (SELECT league_id, week FROM ({source}) AS touched GROUP BY league_id, week),
                   bonus AS (INSERT INTO bonus_changes (league_id, week) SELECT league_id, week FROM weeks
                             WHERE current_setting('{WRITING_BONUSES}', true) IS DISTINCT FROM 'on')
              INSERT INTO analytics_changes (league_id, from_week)
              SELECT league_id, MIN(week) FROM weeks GROUP BY league_id;
              RETURN NULL;
            END $$""",
            f"CREATE OR REPLACE TRIGGER {function} AFTER {event} ON team_week_scores "
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    queued = {
        "fantasy_points": (
            "player_id",
            traded + "ti.player_id IN (SELECT player_id FROM ({rows}) AS touched)",
        ),
        "roster_slots": (
            "fantasy_team_id, player_id",
            traded
            + "(ti.to_team_id, ti.player_id) IN (SELECT fantasy_team_id, player_id FROM ({rows}) AS touched)",
        ),
    }
    short = {"fantasy_points": "fp", "roster_slots": "rs"}
    for table, (column, select_leagues) in queued.items():
        for event, rows in (
            ("INSERT", ("new_rows",)),
            ("UPDATE", ("old_rows", "new_rows")),
            ("DELETE", ("old_rows",)),
        ):
            function = f"fantasy_analytics_{short[table]}_{event.lower()}"
            source = " UNION ALL ".join(f"SELECT {column} FROM {r}" for r in rows)
            referencing = " ".join(f"{'OLD' if r == 'old_rows' else 'NEW'} TABLE AS {r}" for r in rows)
            statements += [
                f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO analytics_changes (league_id, from_week) {select_leagues.format(rows=source)};
                  RETURN NULL;
                END $$""",
                f"CREATE OR REPLACE TRIGGER {function} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ]
    statements += [
        f"""CREATE OR REPLACE FUNCTION fantasy_analytics_games() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO analytics_changes (league_id, from_week) {traded} ti.player_id IN (
            SELECT s.player_id FROM player_game_stats s
            WHERE s.game_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                WHERE o.start_time IS DISTINCT FROM n.start_time));
          RETURN NULL;
        END $$""",
        "CREATE OR REPLACE TRIGGER fantasy_analytics_games AFTER UPDATE ON games "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION fantasy_analytics_games()",
    ]
    # leagues (status, season: which leagues are analysed), their scoring profile (whose points a
    # trade's impact counts), trades: row triggers, small tables
    statements += [
        """CREATE OR REPLACE FUNCTION fantasy_analytics_leagues() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.status IS DISTINCT FROM NEW.status OR OLD.season IS DISTINCT FROM NEW.season THEN
            INSERT INTO analytics_changes (league_id, from_week) VALUES (NEW.id, 0);
          END IF;
          RETURN NULL;
        END $$""",
        "CREATE OR REPLACE TRIGGER fantasy_analytics_leagues AFTER UPDATE ON leagues "
        "FOR EACH ROW EXECUTE FUNCTION fantasy_analytics_leagues()",
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
        "CREATE OR REPLACE TRIGGER fantasy_analytics_trades AFTER INSERT OR UPDATE OR DELETE ON trades "
        "FOR EACH ROW EXECUTE FUNCTION fantasy_analytics_trades()",
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
        "CREATE OR REPLACE TRIGGER fantasy_analytics_league_profiles AFTER INSERT OR UPDATE OF profile_id OR DELETE "
        "ON league_profiles FOR EACH ROW EXECUTE FUNCTION fantasy_analytics_league_profiles()",
        """CREATE OR REPLACE FUNCTION fantasy_analytics_trade_items() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO analytics_changes (league_id)
          SELECT league_id FROM trades WHERE id IN (
            SELECT CASE WHEN TG_OP = 'DELETE' THEN OLD.trade_id ELSE NEW.trade_id END
            UNION SELECT CASE WHEN TG_OP = 'UPDATE' THEN OLD.trade_id END);
          RETURN NULL;
        END $$""",
        "CREATE OR REPLACE TRIGGER fantasy_analytics_trade_items AFTER INSERT OR UPDATE OR DELETE ON trade_items "
        "FOR EACH ROW EXECUTE FUNCTION fantasy_analytics_trade_items()",
    ]
    return statements


def _pg_trigger(
    table: str,
    kind: str,
    ref: str,
    player: str | None,
    update_if: str = "",
    events: str = "INSERT OR UPDATE OR DELETE",
) -> list[str]:
    """A PostgreSQL row trigger queueing (kind, ref, player) of the new row, and of the old row on a
    delete or on an update that moved the row; an update is queued only when `update_if` holds."""
    function = f"fantasy_queue_{table}"

    def values(row: str) -> str:
        return f"('{kind}', {row}.{ref}, {f'{row}.{player}' if player else 'NULL'})"

    moved = f"OLD.{ref} IS DISTINCT FROM NEW.{ref}" + (
        f" OR OLD.{player} IS DISTINCT FROM NEW.{player}" if player else ""
    )
    skip = f"IF TG_OP = 'UPDATE' AND NOT ({update_if}) THEN RETURN NULL; END IF;" if update_if else ""
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {skip}
          IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({moved})) THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES {values("OLD")};
          END IF;
          IF TG_OP <> 'DELETE' THEN
            INSERT INTO scoring_changes (kind, ref_id, player_id) VALUES {values("NEW")};
          END IF;
          RETURN NULL;
        END $$""",
        f"CREATE OR REPLACE TRIGGER {function} AFTER {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def _sqlite_trigger(
    table: str,
    kind: str,
    ref: str,
    player: str | None,
    when: str = "",
    events: tuple[str, ...] = ("INSERT", "UPDATE", "DELETE"),
) -> list[str]:
    statements = []
    for event in events:
        rows = {"INSERT": ["NEW"], "DELETE": ["OLD"]}.get(event.split()[0], ["OLD", "NEW"])
        inserts = " ".join(
            f"INSERT INTO scoring_changes (kind, ref_id, player_id, queued_at) VALUES "
            f"('{kind}', {row}.{ref}, {f'{row}.{player}' if player else 'NULL'}, CURRENT_TIMESTAMP);"
            for row in rows
        )
        name = f"fantasy_queue_{table}_{event.split()[0].lower()}"
        condition = f" WHEN {when}" if when and event.startswith("UPDATE") else ""
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} FOR EACH ROW{condition} BEGIN {inserts} END"
        )
    return statements


SETTINGS_CHANGED = (
    "OLD.scoring_settings IS DISTINCT FROM NEW.scoring_settings OR OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.season IS DISTINCT FROM NEW.season"
)


def _pg_bonus_triggers() -> list[str]:
    """Statement triggers (transition tables) feeding `bonus_changes`: one row per league (or per
    week and player) a statement touched, not one per row written. Team weeks feed it through
    `_pg_team_week_triggers` (one pass for both logs)."""
    line_weeks = (
        "SELECT DISTINCT CAST(NULL AS BIGINT), g.fantasy_week, r.player_id FROM ({rows}) AS r "
        "JOIN games g ON g.id = r.game_id WHERE g.fantasy_week IS NOT NULL"
    )
    queued = {
        "roster_slots": (
            "fantasy_team_id",
            "SELECT DISTINCT ft.league_id, CAST(NULL AS INTEGER), CAST(NULL AS BIGINT) FROM fantasy_teams ft "
            "WHERE ft.id IN ({rows})",
        ),
        "player_game_stats": ("game_id, player_id", line_weeks),
    }
    short = {"roster_slots": "rs", "player_game_stats": "pgs"}
    watched = {
        "player_game_stats": ("did_not_play", "game_id", "player_id")
    }  # its flag or game, not its stats
    statements = []
    for table, (column, select_rows) in queued.items():
        for event, rows in (
            ("INSERT", ("new_rows",)),
            ("UPDATE", ("old_rows", "new_rows")),
            ("DELETE", ("old_rows",)),
        ):
            source = " UNION ALL ".join(f"SELECT {column} FROM {r}" for r in rows)
            if event == "UPDATE" and table in watched:  # rows whose watched columns changed, old and new
                changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in watched[table])
                source = " UNION ALL ".join(
                    f"SELECT {', '.join(f'{side}.{c.strip()}' for c in column.split(','))} "
                    f"FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {changed}"
                    for side in ("o", "n")
                )
            function = f"fantasy_bonus_{short[table]}_{event.lower()}"
            referencing = " ".join(f"{'OLD' if r == 'old_rows' else 'NEW'} TABLE AS {r}" for r in rows)
            statements += [
                f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  INSERT INTO bonus_changes (league_id, week, player_id) {select_rows.format(rows=source)};
                  RETURN NULL;
                END $$""",
                f"CREATE OR REPLACE TRIGGER {function} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ]
    moved = (
        "SELECT {side}.fantasy_week, s.player_id FROM old_rows o JOIN new_rows n ON n.id = o.id "
        "JOIN player_game_stats s ON s.game_id = n.id "
        "WHERE o.fantasy_week IS DISTINCT FROM n.fantasy_week AND {side}.fantasy_week IS NOT NULL"
    )
    statements += [
        f"""CREATE OR REPLACE FUNCTION fantasy_bonus_games() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO bonus_changes (week, player_id)
          {moved.format(side="o")} UNION {moved.format(side="n")};
          RETURN NULL;
        END $$""",
        "CREATE OR REPLACE TRIGGER fantasy_bonus_games AFTER UPDATE ON games "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION fantasy_bonus_games()",
        f"""CREATE OR REPLACE FUNCTION fantasy_bonus_leagues() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF {SETTINGS_CHANGED} THEN
            INSERT INTO bonus_changes (league_id) VALUES (NEW.id);
          END IF;
          RETURN NULL;
        END $$""",
        "CREATE OR REPLACE TRIGGER fantasy_bonus_leagues AFTER UPDATE ON leagues "
        "FOR EACH ROW EXECUTE FUNCTION fantasy_bonus_leagues()",
    ]
    return statements


TIP_OFF_CHANGED = "OLD.start_time IS DISTINCT FROM NEW.start_time OR OLD.season IS DISTINCT FROM NEW.season"
CHANGE_TRIGGERS = {
    "postgresql": [
        *_pg_trigger("player_game_stats", "line", "game_id", "player_id"),
        *_pg_trigger("games", "game", "id", None, TIP_OFF_CHANGED, "UPDATE"),
        *_pg_trigger("roster_slots", "team", "fantasy_team_id", None),
        *_pg_trigger("leagues", "league", "id", None, SETTINGS_CHANGED),
        *_pg_team_week_triggers(),
        *_pg_bonus_triggers(),
        *_pg_consistency_triggers(),
    ],
    "sqlite": [
        *_sqlite_trigger("player_game_stats", "line", "game_id", "player_id"),
        *_sqlite_trigger(
            "games", "game", "id", None, TIP_OFF_CHANGED.replace("IS DISTINCT FROM", "IS NOT"), ("UPDATE",)
        ),
        *_sqlite_trigger("roster_slots", "team", "fantasy_team_id", None),
        *_sqlite_trigger(
            "leagues", "league", "id", None, SETTINGS_CHANGED.replace("IS DISTINCT FROM", "IS NOT")
        ),
    ],
}
"""What feeds `scoring_changes` and (PostgreSQL) `analytics_changes`, `bonus_changes` and
`consistency_changes`, per dialect. Revisions create them (the baseline has them frozen); a change
here is a new revision that runs the changed statements, or the drift test fails."""


def install_change_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        for statement in CHANGE_TRIGGERS.get(engine.dialect.name, []):
            conn.exec_driver_sql(statement)


# --- Archive tables: what cleanup_old_data moves out of the hot tables ---------------------

ARCHIVED_SOURCES = (
    "roster_slots",
    "team_week_scores",
    "weekly_bonuses",
    "power_rankings",
    "league_scoring_trends",
)


def _archive_table(source: Table) -> Table:
    """A copy of `source`'s columns (ids kept, no constraints) plus `archived_at`."""
    columns = [Column(c.name, c.type, primary_key=c.primary_key, autoincrement=False) for c in source.columns]
    columns.append(Column("archived_at", UtcDateTime(), nullable=False, default=utcnow))
    return Table(f"archived_{source.name}", Base.metadata, *columns)


ARCHIVE_TABLES: dict[str, Table] = {
    name: _archive_table(Base.metadata.tables[name]) for name in ARCHIVED_SOURCES
}


def table_of(model: type[Base]) -> Table:
    """The model's Table: SQLAlchemy types `__table__` as any FromClause, Core's bulk statements
    and the batching helpers want the Table it is."""
    table = model.__table__
    assert isinstance(table, Table), model
    return table


def create_all(engine: Engine) -> list[str]:
    """Bring the database to the head revision (`fantasy_jobs.migrate.upgrade`: a new one created,
    an older one upgraded, safe to run again); returns the app's table names."""
    from fantasy_jobs.migrate import upgrade

    upgrade(engine)
    return sorted(Base.metadata.tables)


def create_from_models(engine: Engine) -> None:
    """The models' schema straight from this code, no migrations: what the drift test compares a
    migrated database with (`fantasy-jobs db check` compares with the models themselves)."""
    Base.metadata.create_all(engine)
    install_change_triggers(engine)
