"""league_analytics on PostgreSQL ranks again only what changed (issue 14, item 7).

Each league week's trend row keeps a digest of its team scores; a run ranks only the leagues with a
changed week, and only from that week on. The rows it leaves alone and the rows it rewrites must
equal what a full recompute gives.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from fantasy_jobs.jobs import analytics
from fantasy_jobs.timeutil import fantasy_week
from tests.support.jobs import run_job

DAILY = datetime(2026, 6, 29, 8, 0, tzinfo=UTC)
MONDAYS = (datetime(2026, 6, 15, 9, 59, tzinfo=UTC), datetime(2026, 6, 22, 9, 59, tzinfo=UTC))
RANKINGS = "SELECT league_id, week, fantasy_team_id, score, rank, previous_rank, season_points, recent_points, consistency FROM power_rankings ORDER BY 1, 2, 3"


def rankings(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text(RANKINGS))]


def ranking_stamps(conn) -> dict[tuple, datetime]:
    """(league, week, team) -> updated_at: which rows a run rewrote."""
    return {
        (r.league_id, r.week, r.fantasy_team_id): r.updated_at
        for r in conn.execute(text("SELECT league_id, week, fantasy_team_id, updated_at FROM power_rankings"))
    }


def full_recompute(engine) -> list[tuple]:
    """The rankings from scratch on the same scores (nothing stored to compare digests with), rolled back."""
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(text("DELETE FROM league_scoring_trends"))
        conn.execute(text("DELETE FROM power_rankings"))
        analytics.store_in_sql(conn, fantasy_week(DAILY))
        rows = rankings(conn)
        transaction.rollback()
    return rows


@pytest.fixture
def scored(demo_engine):
    run_job(demo_engine, "calculate_fantasy_scores", DAILY)
    for monday in MONDAYS:
        run_job(demo_engine, "calculate_bonuses", monday)
    run_job(demo_engine, "league_analytics", DAILY)
    return demo_engine


def change_score(engine, *, newest: bool) -> tuple[int, int]:
    """Add 7.5 points to one team's newest (or oldest) scored week; returns (league, week)."""
    with engine.begin() as conn:
        league, week, team = conn.execute(
            text(
                "SELECT league_id, week, fantasy_team_id FROM team_week_scores "
                f"ORDER BY week {'DESC' if newest else 'ASC'}, league_id, fantasy_team_id LIMIT 1"
            )
        ).one()
        conn.execute(
            text(
                "UPDATE team_week_scores SET points = points + 7.5 WHERE fantasy_team_id = :t AND week = :w"
            ),
            {"t": team, "w": week},
        )
    return league, week


@pytest.mark.parametrize("demo_engine", ["postgresql"], indirect=True)
def test_a_second_run_with_nothing_changed_ranks_nothing(scored, caplog):
    with scored.connect() as conn:
        before, stamps = rankings(conn), ranking_stamps(conn)
        weeks = conn.scalar(text("SELECT COUNT(*) FROM league_scoring_trends"))
    assert before and weeks
    caplog.set_level(logging.INFO)
    result = run_job(scored, "league_analytics", DAILY)
    with scored.connect() as conn:
        assert rankings(conn) == before
        assert ranking_stamps(conn) == stamps
    # the change log is empty: nothing is read, nothing ranked, nothing written
    assert result.summary == "nothing changed since the last run" and result.rows_affected == 0


@pytest.mark.parametrize("demo_engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("newest", [True, False], ids=["current-week", "past-week-correction"])
def test_a_changed_week_reranks_its_league_from_that_week_only(scored, newest, caplog):
    with scored.connect() as conn:
        stamps = ranking_stamps(conn)
    league, week = change_score(scored, newest=newest)
    with scored.connect() as conn:
        weeks_to_rank = conn.scalar(
            text("SELECT COUNT(*) FROM league_scoring_trends WHERE league_id = :l AND week >= :w"),
            {"l": league, "w": week},
        )
    caplog.set_level(logging.INFO)
    run_job(scored, "league_analytics", DAILY)
    from_stored = 1 if newest else 0  # the newest week starts from the season stored with the week before
    assert (
        f"1 league(s) with changed scores ({from_stored} from the season so far stored with an earlier week), "
        f"{weeks_to_rank} league week(s) to rank"
    ) in caplog.text
    with scored.connect() as conn:
        after, new_stamps = rankings(conn), ranking_stamps(conn)
    rewritten = {key for key, stamp in new_stamps.items() if stamp != stamps.get(key)}
    assert rewritten, "the changed week's rankings were not recomputed"
    assert {key[0] for key in rewritten} == {league}  # no other league touched
    assert min(key[1] for key in rewritten) == week  # no earlier week touched
    if not newest:  # a correction in the first week moves the season totals of every later week
        assert len({key[1] for key in rewritten}) > 1
    assert after == full_recompute(scored)  # and what it left alone is still right


@pytest.mark.parametrize("demo_engine", ["postgresql"], indirect=True)
def test_a_run_that_fails_while_ranking_keeps_no_digest_and_the_next_run_ranks_the_change(
    scored, monkeypatch
):
    """Digests and rankings commit together: a run that dies between them must not leave the new
    digest behind, or the changed week would never be ranked."""
    league, week = change_score(scored, newest=True)
    with scored.connect() as conn:
        stale_digest = digest_of(conn, league, week)
        stale = rankings(conn)
    monkeypatch.setattr(analytics, "RANKINGS_SQL", "SELECT no_such_column FROM power_rankings")
    with pytest.raises(Exception, match="no_such_column"):
        run_job(scored, "league_analytics", DAILY)
    with scored.connect() as conn:
        assert digest_of(conn, league, week) == stale_digest  # rolled back with the rankings
        assert rankings(conn) == stale
    monkeypatch.undo()
    run_job(scored, "league_analytics", DAILY)
    with scored.connect() as conn:
        assert digest_of(conn, league, week) != stale_digest
        after = rankings(conn)
    assert after != stale
    assert after == full_recompute(scored)


def digest_of(conn, league: int, week: int) -> str | None:
    return conn.scalar(
        text("SELECT scores_digest FROM league_scoring_trends WHERE league_id = :l AND week = :w"),
        {"l": league, "w": week},
    )


def test_the_set_based_jobs_raise_work_mem_for_their_own_transaction_only(pg_engine, monkeypatch):
    from fantasy_jobs.db import use_job_work_mem

    with pg_engine.connect() as conn:
        default = conn.scalar(text("SHOW work_mem"))
        conn.commit()
        with conn.begin():
            use_job_work_mem(conn)
            assert conn.scalar(text("SHOW work_mem")) == "256MB"
        assert conn.scalar(text("SHOW work_mem")) == default  # SET LOCAL: gone with the transaction
        conn.commit()
        monkeypatch.setenv("FANTASY_JOB_WORK_MEM_MB", "0")
        with conn.begin():
            use_job_work_mem(conn)
            assert conn.scalar(text("SHOW work_mem")) == default
