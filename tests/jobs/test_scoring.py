"""Scoring, bonuses and analytics on a league small enough to check by hand (tests/support/league_world.py).

Worked example, league A (ESPN's default weights: PTS, REB, AST, 3PM 1; STL, BLK 2; TO 0), week 202629:
  A1: G1 P1 20 (G) + P2 16 (F)           = 36;  G2 P1 26 + P3 0 (C, received in the trade, did not play) = 26 -> 62
  A2: G1 P3 34 (C) + P4 8 (UTIL)         = 42;  G2 P2 23 (F, received) + P4 benched, P5 on IR         = 23 -> 65
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from fantasy_jobs import scoring
from fantasy_jobs.schema import FantasyPoints, ScoringProfile, TeamWeekScore
from tests.support import league_world as lw
from tests.support.jobs import count, run_job, snapshot

DAILY = datetime(2026, 7, 22, 6, 0, tzinfo=UTC)  # after G3
MONDAY = datetime(2026, 7, 20, 9, 59, tzinfo=UTC)  # Monday 05:59 New York: week 202629 just ended


def week_totals(engine, ids, league: str) -> dict[tuple[str, int], tuple[float, float]]:
    names = {ids[f"{league}1"]: f"{league}1", ids[f"{league}2"]: f"{league}2"}
    with engine.connect() as conn:
        rows = conn.execute(select(TeamWeekScore).where(TeamWeekScore.league_id == ids[league])).all()
    return {(names[r.fantasy_team_id], r.week): (round(r.points, 2), round(r.bonus_points, 2)) for r in rows}


def test_points_and_team_totals(engine):
    ids = lw.build(engine)
    run_job(engine, "calculate_fantasy_scores", DAILY)
    assert week_totals(engine, ids, "A") == {
        ("A1", 202629): (62.0, 0.0),
        ("A2", 202629): (65.0, 0.0),
        ("A1", 202630): (5.0, 0.0),
    }
    # custom weights: P1 22 + 27, P2 22 + 29
    assert week_totals(engine, ids, "B") == {
        ("B1", 202629): (49.0, 0.0),
        ("B2", 202629): (51.0, 0.0),
        ("B1", 202630): (5.0, 0.0),
    }
    assert week_totals(engine, ids, "T") == {
        ("T1", 202629): (46.0, 0.0),
        ("T2", 202629): (46.0, 0.0),
        ("T1", 202630): (5.0, 0.0),
    }
    with engine.connect() as conn:
        assert (
            conn.scalar(select(text("count(*)")).select_from(ScoringProfile)) == 2
        )  # A and T share the default profile
        weeks = dict(conn.execute(select(FantasyPoints.game_id, FantasyPoints.week).distinct()).all())
    assert weeks == {ids["G1"]: 202629, ids["G2"]: 202629, ids["G3"]: 202630}
    assert count(engine, FantasyPoints) == 2 * 11  # every stat line once per profile, not per league


def test_rerun_changes_nothing(engine):
    lw.build(engine)
    first = run_job(engine, "calculate_fantasy_scores", DAILY)
    before = {t: snapshot(engine, t) for t in ("fantasy_points", "team_week_scores", "scoring_profiles")}
    again = run_job(engine, "calculate_fantasy_scores", DAILY)
    assert first.rows_affected > 0 and again.rows_affected == 0
    assert {t: snapshot(engine, t) for t in before} == before


def test_only_changed_inputs_are_rewritten(engine):
    ids = lw.build(engine)
    run_job(engine, "calculate_fantasy_scores", DAILY)
    with engine.begin() as conn:  # a stat correction: P4 gets 2 more points in G1 (he was A2's UTIL then)
        conn.execute(
            text("UPDATE player_game_stats SET pts = pts + 2 WHERE player_id = :p AND game_id = :g"),
            {"p": ids["P4"], "g": ids["G1"]},
        )
    result = run_job(engine, "calculate_fantasy_scores", DAILY)
    assert (
        result.rows_affected == 2 + 1
    )  # one line under each of the 2 profiles, one team week (A2; T has no P4)
    assert week_totals(engine, ids, "A")[("A2", 202629)] == (67.0, 0.0)


def test_malformed_settings_fail_that_league_only(engine):
    ids = lw.build(engine, extra_leagues={"M": {"weights": {"dunks": 2}}, "N": {"weights": {"pts": "lots"}}})
    result = run_job(engine, "calculate_fantasy_scores", DAILY)
    problems = result.details["skipped_leagues"]
    assert any(f"league {ids['M']} (League M)" in p and "unknown stat 'dunks'" in p for p in problems)
    assert any(
        f"league {ids['N']} (League N)" in p and "weights.pts must be a number, got 'lots'" in p
        for p in problems
    )
    assert week_totals(engine, ids, "M") == {} and week_totals(engine, ids, "A")[("A1", 202629)] == (
        62.0,
        0.0,
    )


def test_points_formula_matches_in_python_and_sql(engine):
    ids = lw.build(engine)
    run_job(engine, "calculate_fantasy_scores", DAILY)
    weights = scoring.league_weights({"weights": lw.CUSTOM})
    with engine.connect() as conn:
        profile = conn.scalar(
            select(ScoringProfile.id).where(ScoringProfile.weights_hash == scoring.weights_hash(weights))
        )
        stored = {
            (r.player_id, r.game_id): r.points
            for r in conn.execute(select(FantasyPoints).where(FantasyPoints.profile_id == profile))
        }
    line = dict(lw.LINES[("P4", "G2")])
    assert scoring.points(line, weights) == 13.5 == stored[(ids["P4"], ids["G2"])]
    assert stored[(ids["P3"], ids["G2"])] == 0.0


def test_bonuses_once_per_week_with_a_tie(engine):
    ids = lw.build(engine)
    run_job(engine, "calculate_fantasy_scores", DAILY)
    first = run_job(engine, "calculate_bonuses", MONDAY)
    # A: A2 has the high score (65) and every A2 starter played; A1's P3 did not play after the trade.
    # B: B2 high score (51); both B starters played. T: T1 and T2 tie at 46; T2's P3 played G1 (C all week).
    with engine.connect() as conn:
        awarded = sorted(
            conn.execute(
                text("SELECT fantasy_team_id, bonus_type, points FROM weekly_bonuses WHERE week = 202629")
            ).all()
        )
    names = {ids[f"{league}{n}"]: f"{league}{n}" for league in "ABT" for n in (1, 2)}
    assert sorted((names[t], b, p) for t, b, p in awarded) == sorted(
        [
            ("A2", "weekly_high_score", 5.0),
            ("A2", "all_starters_played", 2.0),
            ("B2", "weekly_high_score", 5.0),
            ("B1", "all_starters_played", 2.0),
            ("B2", "all_starters_played", 2.0),
            ("T1", "weekly_high_score", 5.0),
            ("T2", "weekly_high_score", 5.0),
            ("T1", "all_starters_played", 2.0),
            ("T2", "all_starters_played", 2.0),
        ]
    )
    assert first.rows_affected == 9
    assert week_totals(engine, ids, "A")[("A2", 202629)] == (65.0, 7.0)
    assert week_totals(engine, ids, "T")[("T1", 202629)] == (46.0, 7.0)
    again = run_job(engine, "calculate_bonuses", MONDAY)
    manual = run_job(
        engine, "calculate_bonuses", datetime(2026, 7, 21, 15, 0, tzinfo=UTC)
    )  # Tuesday, same week
    assert again.rows_affected == 0 and manual.rows_affected == 0
    assert week_totals(engine, ids, "A")[("A2", 202629)] == (65.0, 7.0)
    run_job(engine, "calculate_fantasy_scores", DAILY)  # re-scoring keeps the bonus
    assert week_totals(engine, ids, "A")[("A2", 202629)] == (65.0, 7.0)


def test_player_consistency(engine):
    ids = lw.build(engine)
    run_job(engine, "calculate_analytics", DAILY)
    with engine.connect() as conn:
        rows = {r.player_id: r for r in conn.execute(text("SELECT * FROM player_consistency")).all()}
    p1 = rows[ids["P1"]]  # 20, 26, 5: mean 17, sample sd sqrt(117) = 10.8167, cv 0.6363
    assert (p1.games, p1.mean_points, p1.stddev_points, p1.rated) == (3, 17.0, 10.8167, True)
    assert p1.coefficient_of_variation == 0.6363 and p1.consistency_score == 36.4
    p3 = rows[ids["P3"]]  # 34 and a did-not-play: one game, not rated, still stored
    assert (p3.games, p3.mean_points, p3.stddev_points, p3.rated, p3.consistency_score) == (
        1,
        34.0,
        None,
        False,
        None,
    )
    assert (rows[ids["P2"]].games, rows[ids["P2"]].rated) == (2, False)
    before = snapshot(engine, "player_consistency")
    assert (
        run_job(engine, "calculate_analytics", DAILY).rows_affected == 0
        and snapshot(engine, "player_consistency") == before
    )


def test_league_analytics_trends_trades_and_rankings(engine):
    ids = lw.build(engine)
    run_job(engine, "calculate_fantasy_scores", DAILY)
    run_job(engine, "league_analytics", DAILY)
    with engine.connect() as conn:
        trends = {
            r.week: r
            for r in conn.execute(
                text("SELECT * FROM league_scoring_trends WHERE league_id = :l"), {"l": ids["A"]}
            )
        }
        impacts = {r.fantasy_team_id: r for r in conn.execute(text("SELECT * FROM trade_impacts")).all()}
        ranks = {
            (r.week, r.fantasy_team_id): r
            for r in conn.execute(text("SELECT * FROM power_rankings WHERE league_id = :l"), {"l": ids["A"]})
        }
    week = trends[202629]  # 62 and 65
    assert (
        week.teams,
        week.mean_points,
        week.median_points,
        week.stddev_points,
        week.change_from_previous,
    ) == (2, 63.5, 63.5, 2.1213, None)
    assert (trends[202630].teams, trends[202630].mean_points, trends[202630].change_from_previous) == (
        1,
        5.0,
        -58.5,
    )
    # Since the trade: A1's P3 scored 0 for it (did not play G2); P2, given away, scored 23 in G2. A2 the mirror.
    a1, a2 = impacts[ids["A1"]], impacts[ids["A2"]]
    assert (a1.points_received, a1.points_given, a1.net_points, a1.games) == (0.0, 23.0, -23.0, 1)
    assert (a2.points_received, a2.points_given, a2.net_points, a2.games) == (23.0, 0.0, 23.0, 1)
    # Week 202629: A2 100 (best everywhere); A1 100 * (0.85 * 62/65 + 0.15) = 96.0769
    assert (ranks[(202629, ids["A2"])].rank, ranks[(202629, ids["A2"])].score) == (1, 100.0)
    assert (
        ranks[(202629, ids["A1"])].rank,
        ranks[(202629, ids["A1"])].score,
        ranks[(202629, ids["A1"])].previous_rank,
    ) == (2, 96.0769, None)
    # Week 202630: A1 67 season, spread 62/5 -> consistency 0: 85.0; A2 65 season: 100 * (0.85 * 65/67 + 0.15) = 97.4627
    assert (
        ranks[(202630, ids["A2"])].rank,
        ranks[(202630, ids["A2"])].score,
        ranks[(202630, ids["A2"])].previous_rank,
    ) == (1, 97.4627, 1)
    assert (
        ranks[(202630, ids["A1"])].rank,
        ranks[(202630, ids["A1"])].score,
        ranks[(202630, ids["A1"])].previous_rank,
    ) == (2, 85.0, 2)
    before = {t: snapshot(engine, t) for t in ("league_scoring_trends", "trade_impacts", "power_rankings")}
    assert run_job(engine, "league_analytics", DAILY).rows_affected == 0
    assert {t: snapshot(engine, t) for t in before} == before


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"weights": {"dunks": 1}}, "unknown stat 'dunks'"),
        ({"weights": {"pts": "x"}}, "must be a number, got 'x'"),
        ({"weights": {"pts": True}}, "must be a number, got True"),
        ({"weights": [1, 2]}, "weights must be an object"),
        ({"bonuses": {"mvp": 3}}, "unknown rule 'mvp'"),
    ],
)
def test_settings_errors_name_the_league_and_key(settings, message):
    with pytest.raises(scoring.ScoringSettingsError, match=message) as info:
        scoring.league_weights(settings, "league 7 (X)")
        scoring.league_bonuses(settings, "league 7 (X)")
    assert "league 7 (X)" in str(info.value)
