"""Pydantic models of ESPN's WNBA payloads and their conversion to typed rows.

ESPN's quirks handled here: nearly every value is a string ("19" minutes, "4-9" made-attempted,
"+5" plus-minus); a player who did not play has empty stats (trust `didNotPlay`); the stat order
is read from each payload's `keys`, never assumed; All-Star and placeholder teams (TEAM SPOON,
TBD, ids like -1) are not franchises; optional fields may be missing; standings stats are read
by name or type, not position. Any problem raises EspnPayloadError naming the endpoint, the
field and the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from fantasy_jobs.espn.client import EspnPayloadError


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


M = TypeVar("M", bound=Model)


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse(model: type[M], payload: Any, endpoint: str) -> M:
    """Validate `payload` as `model`; the first problem becomes an error naming field and value."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        value = first.get("input")
        shown = "missing" if first["type"] == "missing" else repr(value)[:120]
        raise EspnPayloadError(
            f"{endpoint}: field {_path(first['loc'])} = {shown}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else "")
        ) from None


class PayloadProblem(ValueError):
    def __init__(self, field: str, value: Any, message: str) -> None:
        super().__init__(f"field {field} = {value!r}: {message}")


# --- shared pieces --------------------------------------------------------------------------


class Logo(Model):
    href: str


class TeamInfo(Model):
    id: str
    abbreviation: str = ""
    displayName: str = ""
    location: str | None = None
    name: str | None = None
    color: str | None = None
    logo: str | None = None
    logos: list[Logo] = []
    isActive: bool = True
    isAllStar: bool = False

    @property
    def is_franchise(self) -> bool:
        """A real WNBA team: not an All-Star side, not a TBD placeholder, a positive numeric id."""
        if not self.id.isdigit() or int(self.id) <= 0 or self.isAllStar:
            return False
        label = (self.displayName or self.abbreviation).upper()
        return self.abbreviation.upper() != "TBD" and label != "TBD" and not label.startswith("TEAM ")

    def row(self) -> dict[str, Any]:
        logo = self.logo or (self.logos[0].href if self.logos else None)
        return {
            "espn_id": self.id,
            "abbreviation": self.abbreviation,
            "location": self.location,
            "name": self.name,
            "display_name": self.displayName
            or f"{self.location or ''} {self.name or ''}".strip()
            or self.abbreviation,
            "color": self.color,
            "logo_url": logo,
            "is_active": self.isActive,
        }


class StatusType(Model):
    name: str = ""
    state: str = ""  # pre, in, post
    completed: bool = False


class Status(Model):
    type: StatusType


def game_status(status: Status) -> str:
    name = status.type.name.upper()
    if "POSTPONED" in name:
        return "postponed"
    if "CANCELED" in name or "CANCELLED" in name:
        return "canceled"
    if status.type.completed or status.type.state == "post" or name == "STATUS_FINAL":
        return "final"
    if status.type.state == "in":
        return "in_progress"
    return "scheduled"


def parse_time(value: str, field: str) -> datetime:
    """ESPN times: '2026-07-22T19:00Z' (minutes, Z) or with seconds."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadProblem(field, value, "not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Season(Model):
    year: int
    type: int = 2


class Competitor(Model):
    homeAway: str
    score: str | None = None
    team: TeamInfo


class Competition(Model):
    id: str | None = None
    date: str
    status: Status
    competitors: list[Competitor]


@dataclass
class GameRow:
    espn_id: str
    season: int
    season_type: int
    start_time: datetime
    status: str
    home: TeamInfo
    away: TeamInfo
    home_score: int | None
    away_score: int | None

    @property
    def is_franchise_game(self) -> bool:
        return self.home.is_franchise and self.away.is_franchise


def _score(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise PayloadProblem(field, value, "not a whole number") from None


def game_row(espn_id: str, season: Season, competition: Competition, where: str) -> GameRow:
    sides = {c.homeAway: c for c in competition.competitors}
    if set(sides) != {"home", "away"}:
        raise PayloadProblem(
            f"{where}.competitors",
            [c.homeAway for c in competition.competitors],
            "need one home and one away side",
        )
    index = {c.homeAway: i for i, c in enumerate(competition.competitors)}
    return GameRow(
        espn_id=espn_id,
        season=season.year,
        season_type=season.type,
        start_time=parse_time(competition.date, f"{where}.date"),
        status=game_status(competition.status),
        home=sides["home"].team,
        away=sides["away"].team,
        home_score=_score(sides["home"].score, f"{where}.competitors[{index['home']}].score"),
        away_score=_score(sides["away"].score, f"{where}.competitors[{index['away']}].score"),
    )


# --- teams ----------------------------------------------------------------------------------


class TeamEntry(Model):
    team: TeamInfo


class TeamsLeague(Model):
    teams: list[TeamEntry]


class TeamsSport(Model):
    leagues: list[TeamsLeague]


class TeamsPayload(Model):
    sports: list[TeamsSport]

    def teams(self) -> list[TeamInfo]:
        return [entry.team for sport in self.sports for league in sport.leagues for entry in league.teams]


# --- standings ------------------------------------------------------------------------------


class StandingStat(Model):
    name: str | None = None
    type: str | None = None
    value: float | None = None
    displayValue: str | None = None
    summary: str | None = None


class StandingEntry(Model):
    team: TeamInfo
    stats: list[StandingStat]


class StandingsTable(Model):
    entries: list[StandingEntry]


class Conference(Model):
    name: str
    abbreviation: str | None = None
    standings: StandingsTable


class SeasonType(Model):
    id: str
    startDate: str
    endDate: str


class SeasonCalendar(Model):
    year: int
    types: list[SeasonType] = []


class StandingsPayload(Model):
    children: list[Conference]
    seasons: list[SeasonCalendar] = []

    def season_window(self, year: int) -> tuple[datetime, datetime] | None:
        """Start of the regular season to the end of the playoffs of `year`, from ESPN's calendar."""
        for calendar in self.seasons:
            spans = {t.id: t for t in calendar.types}
            if calendar.year == year and "2" in spans:
                end = spans.get("3", spans["2"]).endDate
                return parse_time(spans["2"].startDate, "seasons.types.startDate"), parse_time(
                    end, "seasons.types.endDate"
                )
        return None

    def rows(self, season: int) -> list[dict[str, Any]]:
        rows = []
        for c_index, conference in enumerate(self.children):
            label = conference_label(conference)
            for e_index, entry in enumerate(conference.standings.entries):
                where = f"children[{c_index}].standings.entries[{e_index}]"
                stats = _stats_by_key(entry.stats)
                rows.append(
                    {
                        "team": entry.team,
                        "conference": label,
                        "season": season,
                        "wins": _stat_int(stats, ("wins",), where),
                        "losses": _stat_int(stats, ("losses",), where),
                        "win_pct": _stat_float(stats, ("winPercent", "winpercent"), where),
                        "games_behind": _stat_float(
                            stats, ("gamesBehind", "gamesbehind"), where, default=0.0
                        ),
                        "conference_rank": _stat_int(
                            stats, ("playoffSeed", "playoffseed"), where, default=e_index + 1
                        ),
                        "streak": _stat_text(stats, ("streak",)),
                        "home_record": _stat_text(stats, ("home", "Home")),
                        "road_record": _stat_text(stats, ("road", "Road")),
                        "last_ten": _stat_text(stats, ("lasttengames", "Last Ten Games")),
                        "clincher": _stat_text(stats, ("clincher",)),
                    }
                )
        return rows


def conference_label(conference: Conference) -> str:
    text = f"{conference.abbreviation or ''} {conference.name}".lower()
    return (
        "East"
        if "east" in text or conference.abbreviation == "E"
        else "West"
        if "west" in text or conference.abbreviation == "W"
        else conference.name
    )


def _stats_by_key(stats: list[StandingStat]) -> dict[str, StandingStat]:
    found: dict[str, StandingStat] = {}
    for stat in stats:
        for key in (stat.name, stat.type):
            if key:
                found.setdefault(key, stat)
    return found


def _stat_text(stats: dict[str, StandingStat], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if key in stats:
            stat = stats[key]
            return stat.summary or stat.displayValue
    return None


def _stat_float(stats, keys, where, default=None) -> float | None:
    for key in keys:
        if key in stats:
            stat = stats[key]
            if stat.value is not None:
                return float(stat.value)
            if stat.displayValue in (None, "", "-", "--"):
                return default
            try:
                return float(stat.displayValue)
            except ValueError:
                raise PayloadProblem(
                    f"{where}.stats[{key}].displayValue", stat.displayValue, "not a number"
                ) from None
    return default


def _stat_int(stats, keys, where, default=None) -> int:
    value = _stat_float(stats, keys, where, default)
    if value is None:
        raise PayloadProblem(f"{where}.stats", keys[0], "missing")
    return int(value)


# --- rosters --------------------------------------------------------------------------------


class Position(Model):
    abbreviation: str | None = None


class College(Model):
    name: str | None = None


class Headshot(Model):
    href: str


class InjuryType(Model):
    description: str | None = None


class Injury(Model):
    status: str | None = None
    type: InjuryType | None = None


class AthleteStatus(Model):
    type: str | None = None
    name: str | None = None


class RosterAthlete(Model):
    id: str
    fullName: str | None = None
    displayName: str
    position: Position | None = None
    jersey: str | None = None
    height: float | None = None
    weight: float | None = None
    dateOfBirth: str | None = None
    college: College | None = None
    headshot: Headshot | None = None
    injuries: list[Injury] = []
    status: AthleteStatus | None = None

    def row(self, where: str) -> dict[str, Any]:
        birth: date | None = None
        if self.dateOfBirth:
            birth = parse_time(self.dateOfBirth, f"{where}.dateOfBirth").date()
        injury = self.injuries[0] if self.injuries else None
        return {
            "espn_id": self.id,
            "full_name": self.fullName or self.displayName,
            "position": self.position.abbreviation if self.position else None,
            "jersey": self.jersey,
            "height_in": self.height,
            "weight_lb": self.weight,
            "birth_date": birth,
            "college": self.college.name if self.college else None,
            "status": (self.status.type or self.status.name) if self.status else None,
            "injury_status": (injury.status or (injury.type.description if injury.type else None))
            if injury
            else None,
            "headshot_url": self.headshot.href if self.headshot else None,
        }


class RosterPayload(Model):
    team: TeamInfo
    athletes: list[RosterAthlete] = []

    def player_rows(self) -> list[dict[str, Any]]:
        return [athlete.row(f"athletes[{i}]") for i, athlete in enumerate(self.athletes)]


# --- scoreboard -----------------------------------------------------------------------------


class Event(Model):
    id: str
    date: str
    season: Season
    competitions: list[Competition]


class ScoreboardPayload(Model):
    events: list[Event] = []

    def games(self) -> list[GameRow]:
        games = []
        for index, event in enumerate(self.events):
            if not event.competitions:
                raise PayloadProblem(f"events[{index}].competitions", [], "an event without a competition")
            games.append(
                game_row(event.id, event.season, event.competitions[0], f"events[{index}].competitions[0]")
            )
        return games


# --- game summary (box score) ---------------------------------------------------------------

STAT_KEYS = {
    "minutes": ("minutes",),
    "points": ("pts",),
    "fieldGoalsMade-fieldGoalsAttempted": ("fgm", "fga"),
    "threePointFieldGoalsMade-threePointFieldGoalsAttempted": ("fg3m", "fg3a"),
    "freeThrowsMade-freeThrowsAttempted": ("ftm", "fta"),
    "rebounds": ("reb",),
    "offensiveRebounds": ("oreb",),
    "defensiveRebounds": ("dreb",),
    "assists": ("ast",),
    "steals": ("stl",),
    "blocks": ("blk",),
    "turnovers": ("tov",),
    "fouls": ("pf",),
    "plusMinus": ("plus_minus",),
}
REQUIRED_KEYS = [k for k in STAT_KEYS if k != "plusMinus"]
EMPTY = {"", "--", "-"}
PAIR = re.compile(r"^(\d+)-(\d+)$")
SIGNED = re.compile(r"^[+-]?\d+$")


class BoxAthlete(Model):
    id: str
    displayName: str
    position: Position | None = None
    jersey: str | None = None
    headshot: Headshot | None = None


class BoxLine(Model):
    athlete: BoxAthlete
    didNotPlay: bool = False
    stats: list[str] = []


class StatBlock(Model):
    keys: list[str]
    athletes: list[BoxLine]


class TeamBox(Model):
    team: TeamInfo
    statistics: list[StatBlock]


class Boxscore(Model):
    players: list[TeamBox] = []


class HeaderCompetition(Competition):
    pass


class Header(Model):
    id: str
    season: Season
    competitions: list[HeaderCompetition]


class SummaryPayload(Model):
    header: Header
    boxscore: Boxscore

    def game(self) -> GameRow:
        if not self.header.competitions:
            raise PayloadProblem("header.competitions", [], "no competition")
        return game_row(
            self.header.id, self.header.season, self.header.competitions[0], "header.competitions[0]"
        )

    def stat_lines(self) -> list[dict[str, Any]]:
        """One row per player: `team` and `athlete` objects plus the box-score columns.

        Refused before anything is stored: a team that is not one of the game's two (or is listed
        twice), and an athlete listed more than once, identical or not (one line per player and
        game is all the database can hold; which of two differing lines is ESPN's is unknowable)."""
        game = self.game()
        sides = {game.home.id: "home", game.away.id: "away"}
        lines: list[dict[str, Any]] = []
        teams_seen: dict[str, int] = {}
        athletes_seen: dict[str, str] = {}
        for t_index, team_box in enumerate(self.boxscore.players):
            team_id = team_box.team.id
            if team_id not in sides:
                raise PayloadProblem(
                    f"boxscore.players[{t_index}].team.id",
                    team_id,
                    f"not one of the game's teams ({game.away.abbreviation} {game.away.id} @ "
                    f"{game.home.abbreviation} {game.home.id})",
                )
            if team_id in teams_seen:
                raise PayloadProblem(
                    f"boxscore.players[{t_index}].team.id",
                    team_id,
                    f"team already listed at boxscore.players[{teams_seen[team_id]}]",
                )
            teams_seen[team_id] = t_index
            for s_index, block in enumerate(team_box.statistics):
                where = f"boxscore.players[{t_index}].statistics[{s_index}]"
                missing = [k for k in REQUIRED_KEYS if k not in block.keys]
                if missing:
                    raise PayloadProblem(f"{where}.keys", missing, "required stat keys are missing")
                for a_index, line in enumerate(block.athletes):
                    at = f"{where}.athletes[{a_index}]"
                    if line.athlete.id in athletes_seen:
                        raise PayloadProblem(
                            f"{at}.athlete.id",
                            line.athlete.id,
                            f"{line.athlete.displayName} is already listed at {athletes_seen[line.athlete.id]}",
                        )
                    athletes_seen[line.athlete.id] = at
                    lines.append(_stat_line(team_box.team, block.keys, line, at))
        return lines


def _stat_line(team: TeamInfo, keys: list[str], line: BoxLine, where: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "team": team,
        "athlete": line.athlete,
        "did_not_play": line.didNotPlay,
        "plus_minus": None,
    }
    for names in STAT_KEYS.values():
        for column in names:
            row.setdefault(column, 0)
    if line.didNotPlay or not line.stats:
        row["did_not_play"] = True
        return row
    if len(line.stats) != len(keys):
        raise PayloadProblem(f"{where}.stats", line.stats, f"{len(line.stats)} values for {len(keys)} keys")
    for index, (key, raw) in enumerate(zip(keys, line.stats, strict=True)):
        columns = STAT_KEYS.get(key)
        if columns is None:
            continue
        field, value = f"{where}.stats[{index}] ({key})", raw.strip()
        if value in EMPTY:
            continue
        if len(columns) == 2:
            match = PAIR.match(value)
            if not match:
                raise PayloadProblem(field, raw, "not a made-attempted pair like '4-9'")
            made, attempted = int(match.group(1)), int(match.group(2))
            if made > attempted:
                raise PayloadProblem(field, raw, "more made than attempted")
            row[columns[0]], row[columns[1]] = made, attempted
        elif not SIGNED.match(value):
            raise PayloadProblem(field, raw, "not a whole number")
        else:
            number = int(value)
            if number < 0 and key != "plusMinus":
                raise PayloadProblem(field, raw, "negative")
            row[columns[0]] = number
    return row


def convert(endpoint: str, func, *args):
    """Run a row conversion; a PayloadProblem becomes EspnPayloadError naming the endpoint."""
    try:
        return func(*args)
    except PayloadProblem as exc:
        raise EspnPayloadError(f"{endpoint}: {exc}") from None
