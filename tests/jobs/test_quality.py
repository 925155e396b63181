"""Data-quality checks: each rule, broken alone on a copy of the (clean) demo data, reports exactly its row."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from fantasy_jobs.jobs import quality
from fantasy_jobs.schema import DataQualityResult
from tests.support.jobs import run_job

NOW = datetime(2026, 6, 29, 10, 0, tzinfo=UTC)


def one(conn, sql: str, **params):
    return conn.execute(text(sql), params).first()


def run_check(engine, check):
    with engine.connect() as conn:
        return check(conn)


# Each breaker changes the demo so that exactly one rule breaks; it returns the id that rule must report.


def reb_sum(conn):
    line = one(conn, "SELECT id FROM player_game_stats WHERE NOT did_not_play ORDER BY id LIMIT 1")
    conn.execute(text("UPDATE player_game_stats SET reb = reb + 1 WHERE id = :i"), {"i": line.id})
    return line.id


def made_over_attempted(conn):
    line = one(conn, "SELECT id FROM player_game_stats WHERE fgm >= 1 ORDER BY id LIMIT 1")
    conn.execute(text("UPDATE player_game_stats SET fga = fgm - 1 WHERE id = :i"), {"i": line.id})
    return line.id


def threes_over_field_goals(conn):
    # same points: fgm' = fg3m - 1, ftm' = 2 (fgm - fg3m + 1) + ftm
    line = one(
        conn, "SELECT id, fgm, fg3m, ftm, fta FROM player_game_stats WHERE fg3m >= 1 ORDER BY id LIMIT 1"
    )
    ftm = 2 * (line.fgm - line.fg3m + 1) + line.ftm
    conn.execute(
        text("UPDATE player_game_stats SET fgm = :fgm, ftm = :ftm, fta = :fta WHERE id = :i"),
        {"fgm": line.fg3m - 1, "ftm": ftm, "fta": max(line.fta, ftm), "i": line.id},
    )
    return line.id


def points_formula(conn):
    line = one(
        conn,
        """SELECT s.id, s.game_id, s.team_id = g.home_team_id AS home FROM player_game_stats s
                        JOIN games g ON g.id = s.game_id WHERE NOT s.did_not_play ORDER BY s.id LIMIT 1""",
    )
    conn.execute(text("UPDATE player_game_stats SET pts = pts + 1 WHERE id = :i"), {"i": line.id})
    side = "home_score" if line.home else "away_score"
    conn.execute(
        text(f"UPDATE games SET {side} = {side} + 1 WHERE id = :g"), {"g": line.game_id}
    )  # totals still add up
    return line.id


def negative_stat(conn):
    line = one(conn, "SELECT id FROM player_game_stats ORDER BY id DESC LIMIT 1")
    conn.execute(text("UPDATE player_game_stats SET pf = -1 WHERE id = :i"), {"i": line.id})
    return line.id


def minutes_implausible(conn):
    line = one(conn, "SELECT id FROM player_game_stats WHERE NOT did_not_play ORDER BY id LIMIT 1")
    conn.execute(text("UPDATE player_game_stats SET minutes = 80 WHERE id = :i"), {"i": line.id})
    return line.id


def team_score_off(conn):
    game = one(conn, "SELECT id FROM games WHERE status = 'final' ORDER BY id LIMIT 1")
    conn.execute(text("UPDATE games SET home_score = home_score + 5 WHERE id = :g"), {"g": game.id})
    return game.id


def line_of_neither_team(conn):
    line = one(
        conn,
        """SELECT s.id, g.home_team_id, g.away_team_id FROM player_game_stats s JOIN games g ON g.id = s.game_id
                        WHERE s.did_not_play ORDER BY s.id LIMIT 1""",
    )
    other = one(
        conn,
        "SELECT id FROM teams WHERE id NOT IN (:a, :b) ORDER BY id LIMIT 1",
        a=line.home_team_id,
        b=line.away_team_id,
    )
    conn.execute(
        text("UPDATE player_game_stats SET team_id = :t WHERE id = :i"), {"t": other.id, "i": line.id}
    )
    return line.id


def player_on_two_teams(conn):
    slot = one(
        conn,
        """SELECT rs.player_id, ft.league_id, ft.id AS team FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
                        JOIN leagues l ON l.id = ft.league_id WHERE l.status = 'active' AND rs.released_at IS NULL ORDER BY rs.id LIMIT 1""",
    )
    other = one(
        conn,
        "SELECT id FROM fantasy_teams WHERE league_id = :l AND id <> :t ORDER BY id LIMIT 1",
        l=slot.league_id,
        t=slot.team,
    )
    freed = one(
        conn,
        "SELECT id FROM roster_slots WHERE fantasy_team_id = :t AND released_at IS NULL ORDER BY id LIMIT 1",
        t=other.id,
    )
    conn.execute(
        text("UPDATE roster_slots SET released_at = acquired_at WHERE id = :i"), {"i": freed.id}
    )  # keep 10 on the roster
    conn.execute(
        text(
            "INSERT INTO roster_slots (fantasy_team_id, player_id, slot, acquired_at) VALUES (:t, :p, 'BENCH', :at)"
        ),
        {
            "t": other.id,
            "p": slot.player_id,
            "at": "2026-06-20 00:00:00.000000" if conn.dialect.name == "sqlite" else "2026-06-20T00:00:00Z",
        },
    )
    return one(conn, "SELECT MAX(id) AS id FROM roster_slots").id


def free_agent(conn, league_id):
    return one(
        conn,
        """SELECT p.id FROM players p WHERE NOT EXISTS (SELECT 1 FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id
                        WHERE rs.player_id = p.id AND ft.league_id = :l) ORDER BY p.id LIMIT 1""",
        l=league_id,
    ).id


def _insert_slot(conn, team, player, released=False):
    at = "2026-06-20 00:00:00.000000" if conn.dialect.name == "sqlite" else "2026-06-20T00:00:00Z"
    conn.execute(
        text(
            "INSERT INTO roster_slots (fantasy_team_id, player_id, slot, acquired_at, released_at) "
            "VALUES (:t, :p, 'BENCH', :at, :rel)"
        ),
        {"t": team, "p": player, "at": at, "rel": at if released else None},
    )
    return one(conn, "SELECT MAX(id) AS id FROM roster_slots").id


def roster_too_big(conn):
    team = one(
        conn,
        "SELECT ft.id, ft.league_id FROM fantasy_teams ft JOIN leagues l ON l.id = ft.league_id WHERE l.status = 'active' ORDER BY ft.id LIMIT 1",
    )
    _insert_slot(conn, team.id, free_agent(conn, team.league_id))
    return team.id


def league_too_big(conn):
    league = one(conn, "SELECT id FROM leagues WHERE status = 'active' ORDER BY id LIMIT 1")
    conn.execute(
        text("INSERT INTO fantasy_teams (league_id, name, weekly_moves_used) VALUES (:l, 'Eleventh', 0)"),
        {"l": league.id},
    )
    return league.id


def slot_without_team(conn):
    return _insert_slot(conn, 99999, one(conn, "SELECT MIN(id) AS id FROM players").id)


def slot_without_player(conn):
    return _insert_slot(conn, one(conn, "SELECT MIN(id) AS id FROM fantasy_teams").id, 99999, released=True)


def live_slot_in_archived_league(conn):
    league = one(conn, "SELECT id FROM leagues WHERE status = 'completed' ORDER BY id LIMIT 1")
    conn.execute(text("UPDATE leagues SET status = 'archived' WHERE id = :l"), {"l": league.id})
    slot = one(
        conn,
        "SELECT rs.id FROM roster_slots rs JOIN fantasy_teams ft ON ft.id = rs.fantasy_team_id WHERE ft.league_id = :l ORDER BY rs.id LIMIT 1",
        l=league.id,
    )
    conn.execute(text("UPDATE roster_slots SET released_at = NULL WHERE id = :i"), {"i": slot.id})
    return slot.id


def stored_points_off(conn):
    row = one(
        conn,
        """SELECT fp.id FROM fantasy_points fp WHERE NOT EXISTS (SELECT 1 FROM roster_slots rs WHERE rs.player_id = fp.player_id)
                       ORDER BY fp.id LIMIT 1""",
    )  # a free agent's line: no team total depends on it
    conn.execute(text("UPDATE fantasy_points SET points = points + 1.5 WHERE id = :i"), {"i": row.id})
    return row.id


def team_total_off(conn):
    row = one(conn, "SELECT id FROM team_week_scores ORDER BY id LIMIT 1")
    conn.execute(text("UPDATE team_week_scores SET points = points + 1.5 WHERE id = :i"), {"i": row.id})
    return row.id


def weights_changed_without_rescoring(conn):
    league = one(conn, "SELECT id FROM leagues WHERE status = 'active' ORDER BY id LIMIT 1")
    settings = json.dumps({"weights": {"stl": 5}})
    conn.execute(
        text("UPDATE leagues SET scoring_settings = :s WHERE id = :l"), {"s": settings, "l": league.id}
    )
    return league.id


def missing_pick(conn):
    draft = one(conn, "SELECT id FROM drafts WHERE status = 'completed' ORDER BY id LIMIT 1")
    conn.execute(text("DELETE FROM draft_picks WHERE draft_id = :d AND pick_number = 100"), {"d": draft.id})
    return draft.id


def pick_gap(conn):
    draft = one(conn, "SELECT id FROM drafts ORDER BY id LIMIT 1")
    conn.execute(
        text("UPDATE draft_picks SET pick_number = 150 WHERE draft_id = :d AND pick_number = 100"),
        {"d": draft.id},
    )
    return draft.id


def drafted_twice(conn):
    draft = one(conn, "SELECT id FROM drafts ORDER BY id LIMIT 1")
    first = one(conn, "SELECT player_id FROM draft_picks WHERE draft_id = :d AND pick_number = 1", d=draft.id)
    last = one(conn, "SELECT id FROM draft_picks WHERE draft_id = :d AND pick_number = 100", d=draft.id)
    conn.execute(
        text("UPDATE draft_picks SET player_id = :p WHERE id = :i"), {"p": first.player_id, "i": last.id}
    )
    return last.id


def wrong_current_pick(conn):
    conn.execute(
        text(
            "INSERT INTO leagues (name, season, status, scoring_settings, max_teams, roster_size, max_weekly_moves) "
            "VALUES ('Drafting now', 2026, 'drafting', '{}', 10, 10, 3)"
        )
    )
    league = one(conn, "SELECT MAX(id) AS id FROM leagues").id
    conn.execute(
        text("INSERT INTO drafts (league_id, status, rounds, current_pick) VALUES (:l, 'in_progress', 1, 3)"),
        {"l": league},
    )
    draft = one(conn, "SELECT MAX(id) AS id FROM drafts").id
    player = one(conn, "SELECT MIN(id) AS id FROM players").id
    conn.execute(
        text(
            "INSERT INTO draft_picks (draft_id, pick_number, round, fantasy_team_id, player_id) VALUES "
            "(:d, 1, 1, 1, :p), (:d, 2, 1, 2, NULL)"
        ),
        {"d": draft, "p": player},
    )
    return draft  # pick 2 is the next unmade one, not 3


def league_status_out_of_step(conn):
    league = one(conn, "SELECT id FROM leagues WHERE status = 'active' ORDER BY id LIMIT 1")
    conn.execute(text("UPDATE leagues SET status = 'drafting' WHERE id = :l"), {"l": league.id})
    return league.id


CASES = [
    (quality.check_player_stats_consistency, "reb_equals_oreb_plus_dreb", reb_sum),
    (quality.check_player_stats_consistency, "made_at_most_attempted", made_over_attempted),
    (quality.check_player_stats_consistency, "threes_within_field_goals", threes_over_field_goals),
    (quality.check_player_stats_consistency, "points_formula", points_formula),
    (quality.check_player_stats_consistency, "no_negative_stats", negative_stat),
    (quality.check_player_stats_consistency, "minutes_plausible", minutes_implausible),
    (quality.check_player_stats_consistency, "player_points_add_up_to_team_score", team_score_off),
    (quality.check_player_stats_consistency, "player_of_neither_team", line_of_neither_team),
    (quality.check_roster_slot_integrity, "player_on_two_teams_of_a_league", player_on_two_teams),
    (quality.check_roster_slot_integrity, "roster_over_league_size", roster_too_big),
    (quality.check_roster_slot_integrity, "league_over_team_count", league_too_big),
    (quality.check_roster_slot_integrity, "slot_of_missing_team", slot_without_team),
    (quality.check_roster_slot_integrity, "slot_of_missing_player", slot_without_player),
    (quality.check_roster_slot_integrity, "active_slot_in_archived_league", live_slot_in_archived_league),
    (quality.check_score_calculation_accuracy, "fantasy_points_match_stats_and_weights", stored_points_off),
    (quality.check_score_calculation_accuracy, "team_week_total_matches_starters", team_total_off),
    (
        quality.check_score_calculation_accuracy,
        "league_scored_with_its_weights",
        weights_changed_without_rescoring,
    ),
    (quality.check_draft_state_consistency, "completed_draft_has_every_pick", missing_pick),
    (quality.check_draft_state_consistency, "pick_numbers_contiguous", pick_gap),
    (quality.check_draft_state_consistency, "player_drafted_once_per_league", drafted_twice),
    (quality.check_draft_state_consistency, "current_pick_is_next_unmade", wrong_current_pick),
    (quality.check_draft_state_consistency, "league_and_draft_status_agree", league_status_out_of_step),
]


@pytest.fixture
def scored_demo(demo_engine):
    run_job(demo_engine, "calculate_fantasy_scores", NOW)
    return demo_engine


def test_the_demo_data_reports_no_issue(scored_demo):
    for check in quality.CHECKS:
        result = run_check(scored_demo, check)
        assert (result.status, result.findings) == ("passed", []), result.check


@pytest.mark.parametrize("check,rule,breaker", CASES, ids=[c[1] for c in CASES])
def test_each_rule_reports_exactly_the_broken_row(scored_demo, check, rule, breaker):
    with scored_demo.begin() as conn:
        offending = breaker(conn)
    result = run_check(scored_demo, check)
    assert [(f.rule, f.count, f.sample) for f in result.findings] == [(rule, 1, [offending])]


def test_job_stores_results_and_sends_one_message_for_all_findings(scored_demo, slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    with scored_demo.begin() as conn:
        line = negative_stat(conn)  # pf weighs nothing, so no stored points go stale
        draft = missing_pick(conn)
    result = run_job(scored_demo, "data_quality_checks", NOW)
    assert result.rows_affected == 2 and result.details == {
        "player_stats_consistency": "failed",
        "roster_slot_integrity": "passed",
        "score_calculation_accuracy": "passed",
        "draft_state_consistency": "failed",
        "full": True,  # the first run checks the whole database
    }
    with scored_demo.connect() as conn:
        rows = {r.check_name: r for r in conn.execute(select(DataQualityResult))}
    assert set(rows) == {
        "player_stats_consistency",
        "roster_slot_integrity",
        "score_calculation_accuracy",
        "draft_state_consistency",
    }
    assert rows["player_stats_consistency"].details["findings"] == [
        {"rule": "no_negative_stats", "count": 1, "sample": [line]}
    ]
    assert (
        rows["draft_state_consistency"].issue_count == 1 and rows["roster_slot_integrity"].status == "passed"
    )
    (message,) = slack.requests
    text_ = message.json()["text"]
    assert "no_negative_stats: 1" in text_ and f"ids {line}" in text_
    assert "completed_draft_has_every_pick: 1" in text_ and f"ids {draft}" in text_


def test_no_findings_no_message(scored_demo, slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    assert run_job(scored_demo, "data_quality_checks", NOW).rows_affected == 0
    assert slack.requests == []


def test_a_check_that_raises_is_recorded_as_error_and_the_others_report(scored_demo, slack, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS",
        json.dumps({"conn_type": "slackwebhook", "password": f"{slack.url}/hook"}),
    )
    with scored_demo.begin() as conn:
        conn.execute(text("DROP TABLE draft_picks"))
        negative_stat(conn)
    with pytest.raises(RuntimeError, match="draft_state_consistency"):
        run_job(scored_demo, "data_quality_checks", NOW)
    with scored_demo.connect() as conn:
        statuses = dict(conn.execute(select(DataQualityResult.check_name, DataQualityResult.status)).all())
    assert statuses == {
        "player_stats_consistency": "failed",
        "roster_slot_integrity": "passed",
        "score_calculation_accuracy": "passed",
        "draft_state_consistency": "error",
    }
    assert len(slack.requests) == 1 and "could not run" in slack.requests[0].json()["text"]


def test_samples_are_bounded(scored_demo):
    with scored_demo.begin() as conn:
        conn.execute(text("UPDATE player_game_stats SET reb = reb + 1 WHERE NOT did_not_play"))
    (finding,) = run_check(scored_demo, quality.check_player_stats_consistency).findings
    assert finding.count > 1000 and len(finding.sample) == quality.SAMPLE
