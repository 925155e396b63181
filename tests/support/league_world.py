"""A small fantasy world whose numbers can be checked on paper (see tests/jobs/test_scoring.py).

WNBA: teams W1 and W2; players P1, P2 (W1) and P3, P4, P5 (W2). Fantasy week 202629 runs
Mon 2026-07-13 to Sun 07-19 (New York); G1 tips Tue 07-14, G2 Thu 07-16; G3 tips Tue 07-21 (202630).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from fantasy_jobs.schema import (
    FantasyTeam,
    Game,
    League,
    Player,
    PlayerGameStats,
    RosterSlot,
    Team,
    Trade,
    TradeItem,
)

SEASON_START = datetime(2026, 7, 1, tzinfo=UTC)
SWITCH = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)  # Wednesday: the trade and the benching
G1_AT = datetime(2026, 7, 14, 23, 0, tzinfo=UTC)
G2_AT = datetime(2026, 7, 16, 23, 0, tzinfo=UTC)
G3_AT = datetime(2026, 7, 21, 23, 0, tzinfo=UTC)
WEEK, NEXT_WEEK = 202629, 202630
CUSTOM = {"pts": 1, "reb": 1.5, "ast": 2, "stl": 3, "blk": 3, "tov": -1, "fg3m": 0.5}

# (player, game): stats; default points in the comment (PTS+REB+AST+3PM + 2 STL + 2 BLK)
LINES = {
    ("P1", "G1"): dict(pts=10, reb=5, ast=2, fg3m=1, stl=1, tov=3),  # 20    custom 22.0
    ("P1", "G2"): dict(pts=20, reb=2, fg3m=2, blk=1),  # 26                  custom 27.0
    ("P1", "G3"): dict(pts=5),  # 5
    ("P2", "G1"): dict(pts=8, reb=4, ast=4),  # 16                           custom 22.0
    ("P2", "G2"): dict(pts=12, reb=6, ast=1, blk=2),  # 23                   custom 29.0
    ("P3", "G1"): dict(pts=15, reb=10, ast=3, stl=2, blk=1),  # 34
    ("P3", "G2"): None,  # did not play: 0
    ("P4", "G1"): dict(pts=6, reb=2),  # 8
    ("P4", "G2"): dict(pts=9, reb=3, ast=2, tov=4),  # 14
    ("P5", "G1"): dict(pts=4),  # 4
    ("P5", "G2"): dict(pts=8),  # 8
}


def build(engine, extra_leagues: dict[str, dict] | None = None) -> dict[str, int]:
    """Insert the world; returns ids by name (teams, players, games, fantasy teams, leagues)."""
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        for name in ("W1", "W2"):
            conn.execute(insert(Team).values(espn_id=f"t{name}", abbreviation=name, display_name=name))
            ids[name] = conn.scalar(select(Team.id).where(Team.espn_id == f"t{name}"))
        for name, team in (("P1", "W1"), ("P2", "W1"), ("P3", "W2"), ("P4", "W2"), ("P5", "W2")):
            conn.execute(insert(Player).values(espn_id=f"p{name}", full_name=name, team_id=ids[team]))
            ids[name] = conn.scalar(select(Player.id).where(Player.espn_id == f"p{name}"))
        for name, at in (("G1", G1_AT), ("G2", G2_AT), ("G3", G3_AT)):
            conn.execute(
                insert(Game).values(
                    espn_id=f"g{name}",
                    season=2026,
                    start_time=at,
                    home_team_id=ids["W1"],
                    away_team_id=ids["W2"],
                    status="final",
                )
            )
            ids[name] = conn.scalar(select(Game.id).where(Game.espn_id == f"g{name}"))
        team_of = {"P1": "W1", "P2": "W1", "P3": "W2", "P4": "W2", "P5": "W2"}
        for (player, game), stats in LINES.items():
            values = {k: 0 for k in ("pts", "reb", "ast", "fg3m", "stl", "blk", "tov")} | (stats or {})
            conn.execute(
                insert(PlayerGameStats).values(
                    game_id=ids[game],
                    player_id=ids[player],
                    team_id=ids[team_of[player]],
                    did_not_play=stats is None,
                    is_final=True,
                    minutes=0 if stats is None else 30,
                    **values,
                )
            )
        leagues = {"A": {}, "B": {"weights": CUSTOM}, "T": {}, **(extra_leagues or {})}
        for league, settings in leagues.items():
            conn.execute(
                insert(League).values(
                    name=f"League {league}", season=2026, status="active", scoring_settings=settings
                )
            )
            ids[league] = conn.scalar(select(League.id).where(League.name == f"League {league}"))
            for n in (1, 2):
                conn.execute(insert(FantasyTeam).values(league_id=ids[league], name=f"{league}{n}"))
                ids[f"{league}{n}"] = conn.scalar(
                    select(FantasyTeam.id).where(FantasyTeam.name == f"{league}{n}")
                )

        def slot(team, player, slot_name, start=SEASON_START, end=None):
            conn.execute(
                insert(RosterSlot).values(
                    fantasy_team_id=ids[team],
                    player_id=ids[player],
                    slot=slot_name,
                    acquired_at=start,
                    released_at=end,
                )
            )

        # League A: P2 traded A1 -> A2 and P3 A2 -> A1 on Wednesday; P4 benched by A2 at the same time.
        slot("A1", "P1", "G")
        slot("A1", "P2", "F", end=SWITCH)
        slot("A1", "P3", "C", start=SWITCH)
        slot("A2", "P3", "C", end=SWITCH)
        slot("A2", "P2", "F", start=SWITCH)
        slot("A2", "P4", "UTIL", end=SWITCH)
        slot("A2", "P4", "BENCH", start=SWITCH)
        slot("A2", "P5", "IR")
        conn.execute(insert(Trade).values(league_id=ids["A"], status="accepted", accepted_at=SWITCH))
        trade = conn.scalar(select(Trade.id).where(Trade.league_id == ids["A"]))
        conn.execute(
            insert(TradeItem),
            [
                {
                    "trade_id": trade,
                    "from_team_id": ids["A1"],
                    "to_team_id": ids["A2"],
                    "player_id": ids["P2"],
                },
                {
                    "trade_id": trade,
                    "from_team_id": ids["A2"],
                    "to_team_id": ids["A1"],
                    "player_id": ids["P3"],
                },
            ],
        )
        # League B (custom weights): B1 starts P1, B2 starts P2.
        slot("B1", "P1", "G")
        slot("B2", "P2", "G")
        # League T: a tie for the week's high score, 46 each.
        slot("T1", "P1", "G")
        slot("T2", "P3", "C")
        slot("T2", "P5", "UTIL")
        for league in extra_leagues or {}:
            slot(f"{league}1", "P1", "G")
    return ids
