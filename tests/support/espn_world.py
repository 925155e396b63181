"""A small WNBA world in ESPN's shape for the ingestion tests: numbers you can check on paper.

Four franchises, an All-Star side and a TBD placeholder; on the US-Eastern dates 2026-07-19 and
2026-07-20: a final game, a final overtime game, a game in progress and an All-Star game.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.sample import (
    BOX_KEYS,
    SampleGame,
    SampleLine,
    SampleTeam,
    athlete_json,
    roster_payload,
    scoreboard_payload,
    standings_payload,
    teams_payload,
)

IND = SampleTeam("5", "IND", "Indiana", "Fever", "002d62")
MIN = SampleTeam("8", "MIN", "Minnesota", "Lynx", "266092")
LV = SampleTeam("17", "LV", "Las Vegas", "Aces", "a7a9ac")
NY = SampleTeam("9", "NY", "New York", "Liberty", "86cebc")
SPOON = SampleTeam("133383", "SPO", "", "TEAM SPOON", all_star=True)
COOP = SampleTeam("133384", "COOP", "", "TEAM COOP", all_star=True)
TBD = SampleTeam("-1", "TBD", "", "TBD")
FRANCHISES = [IND, MIN, LV, NY]
CONFERENCE = {"5": "East", "9": "East", "8": "West", "17": "West"}


def line(
    athlete_id,
    name,
    *,
    fgm=0,
    fga=0,
    fg3m=0,
    fg3a=0,
    ftm=0,
    fta=0,
    oreb=0,
    dreb=0,
    ast=0,
    stl=0,
    blk=0,
    tov=0,
    pf=0,
    minutes=20,
    pm=0,
    starter=False,
) -> SampleLine:
    stats = {
        "minutes": minutes,
        "fgm": fgm,
        "fga": fga,
        "fg3m": fg3m,
        "fg3a": fg3a,
        "ftm": ftm,
        "fta": fta,
        "oreb": oreb,
        "dreb": dreb,
        "reb": oreb + dreb,
        "ast": ast,
        "stl": stl,
        "blk": blk,
        "tov": tov,
        "pf": pf,
        "pts": 2 * (fgm - fg3m) + 3 * fg3m + ftm,
        "plus_minus": pm,
    }
    return SampleLine(athlete_id, name, stats=stats, starter=starter)


def dnp(athlete_id, name) -> SampleLine:
    return SampleLine(athlete_id, name, stats=None)


# G1: MIN 27 @ IND 30, final (Jul 19 19:30 Eastern). Points: 21+0+9 = 30 and 18+9 = 27.
G1 = SampleGame(
    "401980001",
    datetime(2026, 7, 19, 23, 30, tzinfo=UTC),
    IND,
    MIN,
    home_lines=[
        line(
            "1001",
            "Avery Adams",
            fgm=8,
            fga=15,
            fg3m=2,
            fg3a=5,
            ftm=3,
            fta=4,
            oreb=1,
            dreb=6,
            ast=7,
            stl=2,
            blk=1,
            tov=3,
            pf=2,
            minutes=34,
            pm=5,
            starter=True,
        ),
        dnp("1002", "Blair Brooks"),
        line(
            "1003",
            "Carmen Cruz",
            fgm=4,
            fga=9,
            fg3m=1,
            fg3a=3,
            ftm=0,
            fta=0,
            oreb=2,
            dreb=3,
            ast=1,
            minutes=18,
            pm=-2,
        ),
    ],
    away_lines=[
        line(
            "2001",
            "Dana Diaz",
            fgm=7,
            fga=14,
            fg3m=1,
            fg3a=4,
            ftm=3,
            fta=3,
            oreb=0,
            dreb=4,
            ast=5,
            stl=1,
            tov=2,
            minutes=32,
            pm=-5,
            starter=True,
        ),
        line(
            "2002",
            "Elena Evans",
            fgm=3,
            fga=6,
            fg3m=1,
            fg3a=1,
            ftm=2,
            fta=2,
            oreb=3,
            dreb=5,
            blk=3,
            minutes=25,
            pm=-1,
        ),
    ],
)
# G2: NY 33 @ LV 35 after overtime (Jul 20 19:00 Eastern).
G2 = SampleGame(
    "401980002",
    datetime(2026, 7, 20, 23, 0, tzinfo=UTC),
    LV,
    NY,
    periods=5,
    home_lines=[
        line(
            "3001",
            "Fatima Fox",
            fgm=10,
            fga=20,
            fg3m=3,
            fg3a=8,
            ftm=6,
            fta=6,
            oreb=1,
            dreb=8,
            ast=4,
            minutes=44,
            pm=2,
            starter=True,
        ),
        line("3002", "Gia Gray", fgm=3, fga=5, fg3m=0, fg3a=0, ftm=0, fta=2, dreb=2, minutes=15),
    ],
    away_lines=[
        line(
            "4001",
            "Hana Hill",
            fgm=12,
            fga=25,
            fg3m=4,
            fg3a=9,
            ftm=5,
            fta=7,
            oreb=2,
            dreb=3,
            ast=6,
            stl=3,
            minutes=45,
            pm=-2,
            starter=True,
        ),
        dnp("4002", "Imani Ives"),
    ],
)
# G3: MIN @ NY in progress (Jul 20 20:00 Eastern), partial numbers.
G3 = SampleGame(
    "401980003",
    datetime(2026, 7, 21, 0, 0, tzinfo=UTC),
    NY,
    MIN,
    status="in_progress",
    periods=2,
    home_lines=[line("4001", "Hana Hill", fgm=3, fga=7, fg3m=1, fg3a=2, minutes=12)],
    away_lines=[line("2001", "Dana Diaz", fgm=2, fga=4, ftm=2, fta=2, minutes=11)],
)
ALL_STAR = SampleGame(
    "401980009",
    datetime(2026, 7, 20, 20, 0, tzinfo=UTC),
    SPOON,
    COOP,
    home_lines=[line("1001", "Avery Adams", fgm=1, fga=1)],
    away_lines=[line("2001", "Dana Diaz", fgm=1, fga=1)],
)
# The daily run after those evenings: 02:00 Eastern on Jul 21.
DAILY_NOW = datetime(2026, 7, 21, 6, 0, tzinfo=UTC)
SHUFFLED_KEYS = list(reversed(BOX_KEYS))  # the stat order must come from `keys`

ROSTERS = {
    "5": [
        athlete_json("1001", "Avery Adams", "G", injury="Day-To-Day"),
        athlete_json("1002", "Blair Brooks", "F", weight=None, headshot=False),
        athlete_json("1003", "Carmen Cruz", "C", jersey=None),
    ],
    "8": [
        athlete_json("2001", "Dana Diaz", "G"),
        athlete_json("2002", "Elena Evans", "F", college=None, born=None),
    ],
    "17": [athlete_json("3001", "Fatima Fox", "G"), athlete_json("3002", "Gia Gray", "F")],
    "9": [athlete_json("4001", "Hana Hill", "G"), athlete_json("4002", "Imani Ives", "C")],
}
TEAM_OF = {athlete["id"]: team for team, athletes in ROSTERS.items() for athlete in athletes}


def serve_world(stub) -> None:
    """Every endpoint of the world on the stub."""
    stub.add(api.TEAMS, teams_payload([*FRANCHISES, SPOON, COOP, TBD]))
    stub.add(
        api.STANDINGS,
        standings_payload(
            2026,
            {
                "Eastern Conference": [(IND, 20, 10), (NY, 15, 15)],
                "Western Conference": [(LV, 22, 8), (MIN, 18, 12)],
            },
            calendar=("2026-05-08T07:00Z", "2026-09-25T06:59Z", "2026-10-20T06:59Z"),
        ),
        {"season": 2026},
    )
    boards = {
        "20260717": [],
        "20260718": [],
        "20260719": [G1],
        "20260720": [G2, G3, ALL_STAR],
        "20260721": [],
    }
    for day, games in boards.items():
        stub.add(api.SCOREBOARD, scoreboard_payload(games, day), {"dates": day, "limit": 200})
    stub.add(api.SUMMARY, G1.summary(SHUFFLED_KEYS), {"event": G1.id})
    for game in (G2, G3, ALL_STAR):
        stub.add(api.SUMMARY, game.summary(), {"event": game.id})
    teams = {t.id: t for t in FRANCHISES}
    for team_id, athletes in ROSTERS.items():
        stub.add(api.ROSTER.format(team_id=team_id), roster_payload(teams[team_id], athletes))
