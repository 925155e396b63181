"""ESPN-shaped payloads built from plain values: the offline demo's sample and the tests' fixtures.

The shapes follow ESPN's public WNBA API (the same keys, strings where ESPN sends strings), cut
down to what the jobs read plus a little of what they ignore.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

BOX_KEYS = [
    "minutes",
    "points",
    "fieldGoalsMade-fieldGoalsAttempted",
    "threePointFieldGoalsMade-threePointFieldGoalsAttempted",
    "freeThrowsMade-freeThrowsAttempted",
    "rebounds",
    "assists",
    "turnovers",
    "steals",
    "blocks",
    "offensiveRebounds",
    "defensiveRebounds",
    "fouls",
    "plusMinus",
]
STATUS = {
    "final": {"id": "3", "name": "STATUS_FINAL", "state": "post", "completed": True, "description": "Final"},
    "in_progress": {
        "id": "2",
        "name": "STATUS_IN_PROGRESS",
        "state": "in",
        "completed": False,
        "description": "In Progress",
    },
    "scheduled": {
        "id": "1",
        "name": "STATUS_SCHEDULED",
        "state": "pre",
        "completed": False,
        "description": "Scheduled",
    },
    "postponed": {
        "id": "6",
        "name": "STATUS_POSTPONED",
        "state": "post",
        "completed": False,
        "description": "Postponed",
    },
}


@dataclass
class SampleTeam:
    id: str
    abbreviation: str
    location: str
    name: str
    color: str = "000000"
    all_star: bool = False

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uid": f"s:40~l:59~t:{self.id}",
            "slug": f"{self.location}-{self.name}".lower().replace(" ", "-"),
            "abbreviation": self.abbreviation,
            "displayName": f"{self.location} {self.name}".strip(),
            "shortDisplayName": self.name,
            "name": self.name,
            "location": self.location,
            "color": self.color,
            "isActive": True,
            "isAllStar": self.all_star,
            "logos": [
                {"href": f"https://a.espncdn.com/i/teamlogos/wnba/500/{self.abbreviation.lower()}.png"}
            ],
        }


@dataclass
class SampleLine:
    """One player's box-score line; `stats` maps our column names to numbers (None: did not play)."""

    athlete_id: str
    name: str
    position: str = "G"
    stats: dict[str, int] | None = None
    starter: bool = False

    def values(self, keys: list[str]) -> list[str]:
        s = self.stats or {}
        text = {
            "minutes": str(s.get("minutes", 0)),
            "points": str(s.get("pts", 0)),
            "fieldGoalsMade-fieldGoalsAttempted": f"{s.get('fgm', 0)}-{s.get('fga', 0)}",
            "threePointFieldGoalsMade-threePointFieldGoalsAttempted": f"{s.get('fg3m', 0)}-{s.get('fg3a', 0)}",
            "freeThrowsMade-freeThrowsAttempted": f"{s.get('ftm', 0)}-{s.get('fta', 0)}",
            "rebounds": str(s.get("reb", 0)),
            "assists": str(s.get("ast", 0)),
            "turnovers": str(s.get("tov", 0)),
            "steals": str(s.get("stl", 0)),
            "blocks": str(s.get("blk", 0)),
            "offensiveRebounds": str(s.get("oreb", 0)),
            "defensiveRebounds": str(s.get("dreb", 0)),
            "fouls": str(s.get("pf", 0)),
            "plusMinus": f"{s.get('plus_minus', 0):+d}" if s.get("plus_minus") else "0",
        }
        return [text[k] for k in keys]

    def json(self, keys: list[str]) -> dict[str, Any]:
        played = self.stats is not None
        return {
            "active": played,
            "athlete": {
                "id": self.athlete_id,
                "uid": f"s:40~l:59~a:{self.athlete_id}",
                "displayName": self.name,
                "shortName": self.name,
                "jersey": "0",
                "position": {
                    "name": self.position,
                    "displayName": self.position,
                    "abbreviation": self.position,
                },
            },
            "starter": self.starter,
            "didNotPlay": not played,
            "reason": "" if played else "COACH'S DECISION",
            "ejected": False,
            "stats": self.values(keys) if played else [],
        }


@dataclass
class SampleGame:
    id: str
    start: datetime
    home: SampleTeam
    away: SampleTeam
    status: str = "final"
    home_lines: list[SampleLine] = field(default_factory=list)
    away_lines: list[SampleLine] = field(default_factory=list)
    season: int = 2026
    season_type: int = 2
    periods: int = 4

    def score(self, side: str) -> str | None:
        if self.status == "scheduled":
            return None
        lines = self.home_lines if side == "home" else self.away_lines
        return str(sum((line.stats or {}).get("pts", 0) for line in lines))

    def competition(self) -> dict[str, Any]:
        date = self.start.strftime("%Y-%m-%dT%H:%MZ")
        status = dict(STATUS[self.status])
        if self.status == "final" and self.periods > 4:
            status["detail"] = status["shortDetail"] = "Final/OT"
        return {
            "id": self.id,
            "date": date,
            "neutralSite": False,
            "status": {"clock": 0.0, "period": self.periods, "type": status},
            "competitors": [
                {
                    "id": t.id,
                    "homeAway": side,
                    "order": i,
                    "score": self.score(side),
                    "team": t.json(),
                    "winner": self.status == "final"
                    and self.score(side)
                    == max(self.score("home") or "0", self.score("away") or "0", key=int),
                }
                for i, (side, t) in enumerate((("home", self.home), ("away", self.away)))
            ],
        }

    def event(self) -> dict[str, Any]:
        comp = self.competition()
        return {
            "id": self.id,
            "uid": f"s:40~l:59~e:{self.id}",
            "date": comp["date"],
            "name": f"{self.away.json()['displayName']} at {self.home.json()['displayName']}",
            "shortName": f"{self.away.abbreviation} @ {self.home.abbreviation}",
            "season": {"year": self.season, "type": self.season_type},
            "competitions": [comp],
            "status": comp["status"],
        }

    def summary(self, keys: list[str] | None = None) -> dict[str, Any]:
        keys = keys or BOX_KEYS
        labels = [k.split("-")[0][:3].upper() for k in keys]
        return {
            "boxscore": {
                "teams": [{"team": t.json(), "statistics": []} for t in (self.away, self.home)],
                "players": [
                    {
                        "team": t.json(),
                        "statistics": [
                            {
                                "names": labels,
                                "keys": keys,
                                "labels": labels,
                                "athletes": [line.json(keys) for line in lines],
                                "totals": [],
                            }
                        ],
                    }
                    for t, lines in ((self.away, self.away_lines), (self.home, self.home_lines))
                ],
            },
            "header": {
                "id": self.id,
                "uid": f"s:40~l:59~e:{self.id}",
                "season": {"year": self.season, "type": self.season_type},
                "competitions": [self.competition()],
            },
            "gameInfo": {"venue": {"fullName": f"{self.home.location} Arena"}},
        }


def teams_payload(teams: list[SampleTeam]) -> dict[str, Any]:
    return {
        "sports": [
            {
                "id": "40",
                "name": "Basketball",
                "leagues": [
                    {
                        "id": "59",
                        "name": "Women's National Basketball Association",
                        "abbreviation": "WNBA",
                        "teams": [{"team": t.json()} for t in teams],
                    }
                ],
            }
        ]
    }


def scoreboard_payload(games: list[SampleGame], day: str) -> dict[str, Any]:
    return {
        "leagues": [{"id": "59", "abbreviation": "WNBA"}],
        "day": {"date": day},
        "events": [g.event() for g in games],
    }


def standings_payload(
    season: int,
    conferences: dict[str, list[tuple[SampleTeam, int, int]]],
    calendar: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """`conferences`: {"Eastern Conference": [(team, wins, losses), ...]}; calendar: regular start, regular end, playoffs end."""
    children = []
    for name, rows in conferences.items():
        leader = rows[0][1] - rows[0][2] if rows else 0
        entries = []
        for seed, (team, wins, losses) in enumerate(rows, 1):
            behind = (leader - (wins - losses)) / 2
            entries.append(
                {
                    "team": team.json(),
                    "stats": [
                        {"name": "wins", "type": "wins", "value": float(wins), "displayValue": str(wins)},
                        {
                            "name": "losses",
                            "type": "losses",
                            "value": float(losses),
                            "displayValue": str(losses),
                        },
                        {
                            "name": "winPercent",
                            "type": "winpercent",
                            "value": wins / max(wins + losses, 1),
                            "displayValue": f"{wins / max(wins + losses, 1):.3f}".lstrip("0"),
                        },
                        {
                            "name": "gamesBehind",
                            "type": "gamesbehind",
                            "value": behind,
                            "displayValue": "-" if behind == 0 else str(behind),
                        },
                        {
                            "name": "playoffSeed",
                            "type": "playoffseed",
                            "value": float(seed),
                            "displayValue": str(seed),
                        },
                        {"name": "streak", "type": "streak", "value": 1.0, "displayValue": "W1"},
                        {
                            "name": "overall",
                            "type": "total",
                            "displayValue": f"{wins}-{losses}",
                            "summary": f"{wins}-{losses}",
                        },
                        {
                            "name": "Home",
                            "type": "home",
                            "displayValue": f"{wins // 2}-{losses // 2}",
                            "summary": f"{wins // 2}-{losses // 2}",
                        },
                        {
                            "name": "Road",
                            "type": "road",
                            "displayValue": f"{wins - wins // 2}-{losses - losses // 2}",
                            "summary": f"{wins - wins // 2}-{losses - losses // 2}",
                        },
                        {
                            "name": "Last Ten Games",
                            "type": "lasttengames",
                            "displayValue": "6-4",
                            "summary": "6-4",
                        },
                    ],
                }
            )
        abbreviation = "E" if name.lower().startswith("east") else "W"
        children.append(
            {
                "id": "5" if abbreviation == "E" else "6",
                "name": name,
                "abbreviation": abbreviation,
                "isConference": True,
                "standings": {"entries": entries},
            }
        )
    payload: dict[str, Any] = {
        "name": "Women's National Basketball Association Standings",
        "children": children,
    }
    if calendar:
        start, end, playoffs_end = calendar
        payload["seasons"] = [
            {
                "year": season,
                "startDate": start,
                "endDate": playoffs_end,
                "types": [
                    {"id": "2", "name": "Regular Season", "startDate": start, "endDate": end},
                    {"id": "3", "name": "Postseason", "startDate": end, "endDate": playoffs_end},
                ],
            }
        ]
    return payload


def roster_payload(team: SampleTeam, athletes: list[dict[str, Any]], season: int = 2026) -> dict[str, Any]:
    return {
        "timestamp": "2026-06-01T00:00:00Z",
        "status": "success",
        "season": {"year": season, "displayName": str(season), "type": 2, "name": "Regular Season"},
        "athletes": athletes,
        "team": team.json(),
    }


def athlete_json(
    athlete_id: str,
    name: str,
    position: str = "G",
    *,
    jersey: str | None = "1",
    height: float = 72.0,
    weight: float | None = 170.0,
    born: str | None = "1998-05-04T07:00Z",
    college: str | None = "UConn",
    injury: str | None = None,
    headshot: bool = True,
) -> dict[str, Any]:
    first, _, last = name.partition(" ")
    data: dict[str, Any] = {
        "id": athlete_id,
        "uid": f"s:40~l:59~a:{athlete_id}",
        "firstName": first,
        "lastName": last,
        "fullName": name,
        "displayName": name,
        "shortName": f"{first[:1]}. {last}",
        "height": height,
        "displayHeight": f"{int(height) // 12}' {int(height) % 12}\"",
        "position": {"name": position, "displayName": position, "abbreviation": position},
        "injuries": [{"status": injury, "type": {"description": injury}}] if injury else [],
        "status": {"id": "1", "name": "Active", "type": "active", "abbreviation": "Active"},
        "birthPlace": {},
    }
    if jersey is not None:
        data["jersey"] = jersey
    if weight is not None:
        data["weight"], data["displayWeight"] = weight, f"{int(weight)} lbs"
    if born:
        data["dateOfBirth"] = born
    if college:
        data["college"] = {"id": "1", "name": college, "shortName": college}
    if headshot:
        data["headshot"] = {
            "href": f"https://a.espncdn.com/i/headshots/wnba/players/full/{athlete_id}.png",
            "alt": name,
        }
    return data
