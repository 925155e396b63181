"""The offline demo's ESPN: a folder of ESPN-shaped payloads written from the demo database.

`make run` writes it under the Airflow home and points `wnba_api` at it (`file://...`), so the
daily DAG ingests end to end with no internet. Games the demo left scheduled get deterministic
box scores here, so the ingestion has real work: it marks them final.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from fantasy_jobs.espn import client as api
from fantasy_jobs.espn.sample import (
    SampleGame,
    SampleLine,
    SampleTeam,
    athlete_json,
    roster_payload,
    scoreboard_payload,
    standings_payload,
    teams_payload,
)
from fantasy_jobs.schema import BOX_SCORE_COLUMNS, Game, Player, PlayerGameStats, Standing, Team

EASTERN = "America/New_York"
STAT_COLUMNS = (*BOX_SCORE_COLUMNS, "plus_minus")


def _write(root: Path, path: str, payload: dict, query: str | None = None) -> None:
    target = root / path.lstrip("/")
    target = target / f"{query}.json" if query else target.with_name(target.name + ".json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload, indent=1))


def _generated_lines(game_id: str, roster: list[tuple[str, str, str]]) -> list[SampleLine]:
    from fantasy_jobs.demo import _box_line  # the demo's own stat-line generator

    rng = random.Random(int(game_id))
    lines = []
    for index, (espn_id, name, position) in enumerate(roster):
        if index == len(roster) - 1:
            lines.append(SampleLine(espn_id, name, position, None))
            continue
        stats = _box_line(rng, starter=index < 5)
        lines.append(
            SampleLine(
                espn_id, name, position, {**stats, "plus_minus": rng.randint(-12, 12)}, starter=index < 5
            )
        )
    return lines


def write_demo_sample(engine: Engine, root: Path) -> int:
    """Write the sample folder from the demo database; returns the number of files."""
    from zoneinfo import ZoneInfo

    root.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        teams = conn.execute(select(Team).order_by(Team.id)).all()
        players = conn.execute(
            select(
                Player.id,
                Player.espn_id,
                Player.full_name,
                Player.position,
                Player.team_id,
                Player.jersey,
                Player.height_in,
                Player.weight_lb,
                Player.birth_date,
                Player.college,
            ).order_by(Player.id)
        ).all()
        games = conn.execute(select(Game).order_by(Game.start_time, Game.id)).all()
        stats = conn.execute(select(PlayerGameStats)).all()
        standings = {s.team_id: s for s in conn.execute(select(Standing)).all()}
    sample_team = {
        t.id: SampleTeam(
            t.espn_id, t.abbreviation, t.location or "", t.name or t.display_name, t.color or "000000"
        )
        for t in teams
    }
    conference = {t.id: t.conference for t in teams}
    roster_of: dict[int, list] = {}
    for p in players:
        roster_of.setdefault(p.team_id, []).append(p)
    player_by_id = {p.id: p for p in players}
    files = 0

    all_star = SampleTeam("133383", "SPO", "", "TEAM SPOON", all_star=True)
    _write(root, api.TEAMS, teams_payload([*sample_team.values(), all_star]))
    files += 1

    wins: dict[int, list[int]] = {t.id: [0, 0] for t in teams}
    for g in games:
        if g.status == "final" and g.home_score is not None:
            home_won = g.home_score > g.away_score
            wins[g.home_team_id][0 if home_won else 1] += 1
            wins[g.away_team_id][1 if home_won else 0] += 1
    tables: dict[str, list] = {"Eastern Conference": [], "Western Conference": []}
    for team_id, (won, lost) in sorted(wins.items(), key=lambda item: -item[1][0]):
        if team_id in standings:
            won, lost = standings[team_id].wins, standings[team_id].losses
        key = "Eastern Conference" if conference[team_id] == "East" else "Western Conference"
        tables[key].append((sample_team[team_id], won, lost))
    season = games[0].season if games else 2026
    _write(
        root,
        api.STANDINGS,
        standings_payload(
            season,
            tables,
            calendar=(f"{season}-05-08T07:00Z", f"{season}-09-25T06:59Z", f"{season}-10-20T06:59Z"),
        ),
    )
    files += 1

    for team in teams:
        athletes = [
            athlete_json(
                p.espn_id,
                p.full_name,
                p.position or "G",
                jersey=p.jersey,
                height=p.height_in or 72.0,
                weight=p.weight_lb,
                born=f"{p.birth_date}T07:00Z" if p.birth_date else None,
                college=p.college,
            )
            for p in roster_of.get(team.id, [])
        ]
        _write(
            root,
            api.ROSTER.format(team_id=team.espn_id),
            roster_payload(sample_team[team.id], athletes, season),
        )
        files += 1

    lines_of: dict[tuple[int, int], list[SampleLine]] = {}
    for s in stats:
        p = player_by_id[s.player_id]
        values = None if s.did_not_play else {c: getattr(s, c) or 0 for c in STAT_COLUMNS}
        lines_of.setdefault((s.game_id, s.team_id), []).append(
            SampleLine(p.espn_id, p.full_name, p.position or "G", values)
        )
    by_day: dict[str, list[SampleGame]] = {}
    eastern = ZoneInfo(EASTERN)
    for g in games:
        home, away = sample_team[g.home_team_id], sample_team[g.away_team_id]
        if g.status == "final":
            home_lines, away_lines = (
                lines_of.get((g.id, g.home_team_id), []),
                lines_of.get((g.id, g.away_team_id), []),
            )
        else:
            home_lines = _generated_lines(
                g.espn_id, [(p.espn_id, p.full_name, p.position or "G") for p in roster_of[g.home_team_id]]
            )
            away_lines = _generated_lines(
                g.espn_id + "1",
                [(p.espn_id, p.full_name, p.position or "G") for p in roster_of[g.away_team_id]],
            )
        sample = SampleGame(
            g.espn_id,
            g.start_time,
            home,
            away,
            status="final",
            home_lines=home_lines,
            away_lines=away_lines,
            season=g.season,
        )
        if sample.score("home") == sample.score("away"):  # no ties: one more free throw for the home side
            line, played = next((x, x.stats) for x in sample.home_lines if x.stats)
            line.stats = {
                **played,
                "ftm": played["ftm"] + 1,
                "fta": played["fta"] + 1,
                "pts": played["pts"] + 1,
            }
        _write(root, api.SUMMARY, sample.summary(), f"event={g.espn_id}")
        by_day.setdefault(f"{g.start_time.astimezone(eastern):%Y%m%d}", []).append(sample)
        files += 1
    for day, day_games in by_day.items():
        _write(root, api.SCOREBOARD, scoreboard_payload(day_games, day), f"dates={day}&limit=200")
        files += 1
    _write(root, api.SCOREBOARD, {"events": []})  # any other day: no games
    return files + 1
