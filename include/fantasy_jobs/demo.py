"""Deterministic demo data for `make run` and the tests: every job has real work to do on it.

The WNBA side: the 15 franchises of 2026 (real ESPN ids and names), 12 made-up players each,
three weeks of final games with consistent box scores (points, rebounds and team scores add
up) and a fourth week still scheduled. The fantasy side: three active leagues of 10 teams (one
with custom weights), each with a completed snake draft, rosters built from it, a bench swap and
an accepted trade mid-season; one completed league of 2024; notifications in every state and
cache entries, some expired. The same seed always gives the same rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from fantasy_jobs import schema as s
from fantasy_jobs.timeutil import fantasy_week

SEED = 2026
SEASON = 2026
FIRST_GAME_DAY = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # Monday 19:30 New York
ANCHOR = datetime(2026, 6, 29, 12, 0, tzinfo=UTC)  # "now" of the demo: the Monday after three weeks
DEMO_EMAIL_DOMAIN = "demo.fantasy"
STARTING_SLOTS = ("G", "G", "F", "F", "C", "UTIL")
ROSTER_SLOTS = (*STARTING_SLOTS, "BENCH", "BENCH", "BENCH", "IR")

# ESPN id, abbreviation, location, name, conference, colour
TEAMS = (
    ("20", "ATL", "Atlanta", "Dream", "East", "e31837"),
    ("19", "CHI", "Chicago", "Sky", "East", "5091cd"),
    ("18", "CON", "Connecticut", "Sun", "East", "f05023"),
    ("5", "IND", "Indiana", "Fever", "East", "002d62"),
    ("9", "NY", "New York", "Liberty", "East", "86cebc"),
    ("16", "WSH", "Washington", "Mystics", "East", "e03a3e"),
    ("131935", "TOR", "Toronto", "Tempo", "East", "6b2c91"),
    ("3", "DAL", "Dallas", "Wings", "West", "002b5c"),
    ("129689", "GS", "Golden State", "Valkyries", "West", "b38fcf"),
    ("17", "LV", "Las Vegas", "Aces", "West", "a7a9ac"),
    ("6", "LA", "Los Angeles", "Sparks", "West", "552583"),
    ("8", "MIN", "Minnesota", "Lynx", "West", "266092"),
    ("11", "PHX", "Phoenix", "Mercury", "West", "3c286e"),
    ("132052", "POR", "Portland", "Fire", "West", "c8102e"),
    ("14", "SEA", "Seattle", "Storm", "West", "2c5235"),
)
FIRST_NAMES = (
    "Avery",
    "Blair",
    "Carmen",
    "Dana",
    "Elena",
    "Fatima",
    "Gia",
    "Hana",
    "Imani",
    "Jada",
    "Kiara",
    "Lena",
    "Maya",
    "Nia",
    "Olivia",
    "Paige",
    "Quinn",
    "Rhyne",
    "Sasha",
    "Tamara",
    "Uma",
    "Vera",
    "Wren",
    "Ximena",
    "Yara",
    "Zoe",
)
LAST_NAMES = (
    "Adebayo",
    "Brooks",
    "Castillo",
    "Dubois",
    "Evans",
    "Fontaine",
    "Garcia",
    "Holloway",
    "Ibarra",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Mbeki",
    "Novak",
    "Okafor",
    "Petrova",
    "Quintero",
    "Ramos",
    "Sato",
    "Turner",
    "Usman",
    "Vasquez",
    "Whitfield",
    "Xu",
    "Yilmaz",
    "Zeller",
)
POSITIONS = ("G", "G", "G", "G", "G", "F", "F", "F", "F", "C", "C", "F")
STAT_KEYS = s.BOX_SCORE_COLUMNS
CUSTOM_WEIGHTS = {"pts": 1.0, "reb": 1.2, "ast": 1.5, "fg3m": 0.5, "stl": 3.0, "blk": 3.0, "tov": -1.0}


def is_loaded(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                select(func.count()).select_from(s.User).where(s.User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))
            )
        )


def _box_line(rng: random.Random, starter: bool) -> dict[str, int]:
    """One player's consistent stat line: pts and reb are derived, made never exceeds attempted."""
    minutes = rng.randint(24, 36) if starter else rng.randint(6, 22)
    fga = rng.randint(minutes // 6, minutes // 2)
    fgm = rng.randint(fga // 4, (fga * 3) // 5)
    fg3a = rng.randint(0, max(fga // 2, 0))
    fg3m = min(rng.randint(0, fg3a), fgm)
    fta = rng.randint(0, 6)
    ftm = rng.randint(fta // 2, fta)
    oreb, dreb = rng.randint(0, 3), rng.randint(0, 7)
    return {
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
        "ast": rng.randint(0, 7),
        "stl": rng.randint(0, 3),
        "blk": rng.randint(0, 2),
        "tov": rng.randint(0, 4),
        "pf": rng.randint(0, 5),
        "pts": 2 * (fgm - fg3m) + 3 * fg3m + ftm,
    }


def _ids(conn, model, column, values) -> dict[Any, int]:
    return dict(conn.execute(select(column, model.id).where(column.in_(values))).all())


def load_demo(engine: Engine) -> dict[str, int]:
    """Insert the demo rows once; a second call finds them and changes nothing. Returns row counts."""
    if is_loaded(engine):
        return {}
    rng = random.Random(SEED)
    counts: dict[str, int] = {}
    with engine.begin() as conn:

        def add(model, rows: list[dict[str, Any]]) -> None:
            if rows:
                conn.execute(insert(model), rows)
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + len(rows)

        # --- WNBA ---------------------------------------------------------------------------
        add(
            s.Team,
            [
                {
                    "espn_id": e,
                    "abbreviation": a,
                    "location": loc,
                    "name": n,
                    "display_name": f"{loc} {n}",
                    "conference": conf,
                    "color": col,
                    "logo_url": None,
                    "is_active": True,
                }
                for e, a, loc, n, conf, col in TEAMS
            ],
        )
        team_ids = _ids(conn, s.Team, s.Team.espn_id, [t[0] for t in TEAMS])
        players, number = [], 0
        for espn_team, *_ in TEAMS:
            for slot in range(12):
                number += 1
                players.append(
                    {
                        "espn_id": str(9_000_000 + number),
                        "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                        "position": POSITIONS[slot],
                        "jersey": str(rng.randint(0, 55)),
                        "height_in": float(rng.randint(68, 79)),
                        "weight_lb": float(rng.randint(140, 210)),
                        "birth_date": datetime(
                            1994 + rng.randint(0, 9), rng.randint(1, 12), rng.randint(1, 28)
                        ).date(),
                        "college": rng.choice(
                            ("UConn", "South Carolina", "Stanford", "Iowa", "LSU", "Baylor", None)
                        ),
                        "team_id": team_ids[espn_team],
                        "status": "active",
                        "injury_status": None,
                        "headshot_url": None,
                        "profile_updated_at": ANCHOR - timedelta(days=6),
                    }
                )
        add(s.Player, players)
        player_rows = conn.execute(select(s.Player.id, s.Player.team_id).order_by(s.Player.id)).all()
        roster_of: dict[int, list[int]] = {}
        for pid, tid in player_rows:
            if tid is not None:  # every demo player has a team
                roster_of.setdefault(tid, []).append(pid)

        games, espn_game = [], 401_900_000
        franchise_ids = [team_ids[t[0]] for t in TEAMS]
        for day in range(28):
            tip = FIRST_GAME_DAY + timedelta(days=day)
            order = franchise_ids[:]
            rng.shuffle(order)
            for g in range(3):
                espn_game += 1
                games.append(
                    {
                        "espn_id": str(espn_game),
                        "season": SEASON,
                        "season_type": 2,
                        "start_time": tip + timedelta(minutes=30 * g),
                        "home_team_id": order[2 * g],
                        "away_team_id": order[2 * g + 1],
                        "status": "final" if day < 21 else "scheduled",
                    }
                )
        add(s.Game, games)
        stats: list[dict[str, Any]] = []
        final_scores: dict[int, tuple[int, int]] = {}
        for game_id, home, away, status in conn.execute(
            select(s.Game.id, s.Game.home_team_id, s.Game.away_team_id, s.Game.status).order_by(s.Game.id)
        ).all():
            if status != "final":
                continue
            totals = {}
            for team in (home, away):
                totals[team] = 0
                for index, pid in enumerate(roster_of[team]):
                    if index == 11 or rng.random() < 0.05:  # the twelfth player and a few others sit out
                        stats.append(
                            {
                                "game_id": game_id,
                                "player_id": pid,
                                "team_id": team,
                                "did_not_play": True,
                                "is_final": True,
                                "plus_minus": None,
                                **dict.fromkeys(STAT_KEYS, 0),
                            }
                        )
                        continue
                    line = _box_line(rng, starter=index < 5)
                    totals[team] += line["pts"]
                    stats.append(
                        {
                            "game_id": game_id,
                            "player_id": pid,
                            "team_id": team,
                            "did_not_play": False,
                            "is_final": True,
                            "plus_minus": rng.randint(-15, 15),
                            **line,
                        }
                    )
            if totals[home] == totals[away]:  # no ties in basketball: one more free throw for the home side
                extra = next(x for x in reversed(stats) if x["team_id"] == home and not x["did_not_play"])
                extra["ftm"] += 1
                extra["fta"] = max(extra["fta"], extra["ftm"])
                extra["pts"] += 1
                totals[home] += 1
            final_scores[game_id] = (totals[home], totals[away])
        add(s.PlayerGameStats, stats)
        for game_id, (home_score, away_score) in final_scores.items():
            conn.execute(
                update(s.Game)
                .where(s.Game.id == game_id)
                .values(home_score=home_score, away_score=away_score)
            )

        # --- Fantasy ------------------------------------------------------------------------
        add(
            s.User,
            [{"email": f"admin@{DEMO_EMAIL_DOMAIN}", "display_name": "Demo Admin", "is_admin": True}]
            + [
                {
                    "email": f"manager{n:02d}@{DEMO_EMAIL_DOMAIN}",
                    "display_name": f"Manager {n:02d}",
                    "is_admin": False,
                }
                for n in range(1, 31)
            ],
        )
        user_ids = [
            uid for (uid,) in conn.execute(select(s.User.id).where(~s.User.is_admin).order_by(s.User.id))
        ]
        draft_time = FIRST_GAME_DAY - timedelta(days=10)
        this_week = fantasy_week(ANCHOR)
        leagues = [
            ("Hoops Society", SEASON, "active", {}, None),
            ("Custom Weights League", SEASON, "active", {"weights": CUSTOM_WEIGHTS}, None),
            ("Office League", SEASON, "active", {"weights": {"tov": -0.5}}, None),
            ("Old Timers 2024", 2024, "completed", {}, datetime(2024, 10, 20, tzinfo=UTC)),
        ]
        all_player_ids = [pid for pid, _ in player_rows]
        for index, (name, season, status, scoring, completed_at) in enumerate(leagues):
            conn.execute(
                insert(s.League).values(
                    name=name,
                    season=season,
                    status=status,
                    scoring_settings=scoring,
                    max_teams=10,
                    roster_size=10,
                    max_weekly_moves=3,
                    current_week=this_week - 1 if status == "active" else None,
                    completed_at=completed_at,
                )
            )
            league_id = conn.execute(select(func.max(s.League.id))).scalar_one()
            owners = user_ids[(index % 3) * 10 : (index % 3) * 10 + 10]
            conn.execute(
                insert(s.FantasyTeam),
                [
                    {
                        "league_id": league_id,
                        "owner_user_id": owner,
                        "name": f"{name.split()[0]} Team {n + 1}",
                        "weekly_moves_used": rng.randint(0, 3),
                        "moves_reset_week": this_week - 1 if status == "active" else None,
                    }
                    for n, owner in enumerate(owners)
                ],
            )
            counts["leagues"] = counts.get("leagues", 0) + 1
            counts["fantasy_teams"] = counts.get("fantasy_teams", 0) + len(owners)
            team_list = [
                tid
                for (tid,) in conn.execute(
                    select(s.FantasyTeam.id)
                    .where(s.FantasyTeam.league_id == league_id)
                    .order_by(s.FantasyTeam.id)
                )
            ]
            drafted_at = draft_time if season == SEASON else datetime(2024, 5, 1, tzinfo=UTC)
            conn.execute(
                insert(s.Draft).values(
                    league_id=league_id,
                    status="completed",
                    rounds=10,
                    current_pick=None,
                    started_at=drafted_at,
                    completed_at=drafted_at + timedelta(hours=2),
                )
            )
            draft_id = conn.scalar(select(func.max(s.Draft.id)))
            pool = rng.sample(all_player_ids, 100)
            picks, slots = [], []
            for pick in range(100):
                rnd = pick // 10
                team = team_list[pick % 10] if rnd % 2 == 0 else team_list[9 - pick % 10]  # snake order
                picks.append(
                    {
                        "draft_id": draft_id,
                        "pick_number": pick + 1,
                        "round": rnd + 1,
                        "fantasy_team_id": team,
                        "player_id": pool[pick],
                        "picked_at": drafted_at + timedelta(minutes=pick),
                    }
                )
                released = completed_at  # the completed league's rosters ended with its season
                slots.append(
                    {
                        "fantasy_team_id": team,
                        "player_id": pool[pick],
                        "slot": ROSTER_SLOTS[rnd],
                        "acquired_at": drafted_at + timedelta(minutes=pick),
                        "released_at": released,
                    }
                )
            add(s.DraftPick, picks)
            add(s.RosterSlot, slots)
            if status != "active":
                continue
            # A bench swap in week 2 (Thursday): team 1's first guard and its first bench player change places.
            swap_at = FIRST_GAME_DAY + timedelta(days=10, hours=-12)
            _move(conn, team_list[0], "G", "BENCH", swap_at)
            # An accepted trade in week 2 (Wednesday): team 2's C for team 3's first F, same slots kept.
            trade_at = FIRST_GAME_DAY + timedelta(days=9, hours=-10)
            _trade(conn, league_id, team_list[1], team_list[2], trade_at)
            counts["trades"] = counts.get("trades", 0) + 3
            conn.execute(
                insert(s.Trade),
                [
                    {"league_id": league_id, "status": "proposed", "proposed_at": ANCHOR - timedelta(days=1)},
                    {"league_id": league_id, "status": "rejected", "proposed_at": ANCHOR - timedelta(days=5)},
                ],
            )

        # --- Notifications and cache ----------------------------------------------------------
        notes = []
        for n in range(40):
            state = ("pending", "pending", "sent", "sent", "dead", "failed", "pending", "sent")[n % 8]
            created = ANCHOR - timedelta(days=(n * 3) % 60, hours=n)
            notes.append(
                {
                    "user_id": user_ids[n % len(user_ids)],
                    "kind": "webhook" if n % 3 == 0 else "in_app",
                    "payload": {
                        "title": f"Demo notification {n + 1}",
                        "body": "Your weekly matchup is final.",
                    },
                    "status": state,
                    "attempts": {"pending": 0, "sent": 1, "dead": 5, "failed": 2}[state],
                    "next_attempt_at": created if state in ("pending", "failed") else None,
                    "sent_at": created + timedelta(minutes=1) if state == "sent" else None,
                    "last_error": "HTTP 500 from webhook" if state in ("dead", "failed") else None,
                    "created_at": created,
                }
            )
        add(s.Notification, notes)
        add(
            s.CacheEntry,
            [
                {
                    "key": f"demo:cache:{n:03d}",
                    "value": f'{{"n": {n}}}',
                    "expires_at": None if n % 10 == 9 else ANCHOR + timedelta(hours=(n % 10) - 6),
                    "created_at": ANCHOR - timedelta(hours=12),
                }
                for n in range(50)
            ],
        )
    return counts


def _move(conn, team_id: int, starter_slot: str, bench_slot: str, at: datetime) -> None:
    """Swap the team's first `starter_slot` player with its first `bench_slot` player at `at`."""
    rs = s.RosterSlot
    current = conn.execute(
        select(rs.id, rs.player_id, rs.slot)
        .where(rs.fantasy_team_id == team_id, rs.released_at.is_(None))
        .order_by(rs.id)
    ).all()
    starter = next(r for r in current if r.slot == starter_slot)
    bench = next(r for r in current if r.slot == bench_slot)
    conn.execute(update(rs).where(rs.id.in_([starter.id, bench.id])).values(released_at=at))
    conn.execute(
        insert(rs),
        [
            {
                "fantasy_team_id": team_id,
                "player_id": starter.player_id,
                "slot": bench_slot,
                "acquired_at": at,
            },
            {
                "fantasy_team_id": team_id,
                "player_id": bench.player_id,
                "slot": starter_slot,
                "acquired_at": at,
            },
        ],
    )


def _trade(conn, league_id: int, team_a: int, team_b: int, at: datetime) -> None:
    """Team A's C goes to team B and team B's first F to team A, each into the slot the other left."""
    rs = s.RosterSlot
    slot_a = conn.execute(
        select(rs).where(rs.fantasy_team_id == team_a, rs.released_at.is_(None), rs.slot == "C")
    ).first()
    slot_b = conn.execute(
        select(rs)
        .where(rs.fantasy_team_id == team_b, rs.released_at.is_(None), rs.slot == "F")
        .order_by(rs.id)
    ).first()
    conn.execute(
        insert(s.Trade).values(
            league_id=league_id, status="accepted", proposed_at=at - timedelta(days=1), accepted_at=at
        )
    )
    trade_id = conn.scalar(select(func.max(s.Trade.id)))
    conn.execute(
        insert(s.TradeItem),
        [
            {
                "trade_id": trade_id,
                "from_team_id": team_a,
                "to_team_id": team_b,
                "player_id": slot_a.player_id,
            },
            {
                "trade_id": trade_id,
                "from_team_id": team_b,
                "to_team_id": team_a,
                "player_id": slot_b.player_id,
            },
        ],
    )
    conn.execute(update(rs).where(rs.id.in_([slot_a.id, slot_b.id])).values(released_at=at))
    conn.execute(
        insert(rs),
        [
            {"fantasy_team_id": team_b, "player_id": slot_a.player_id, "slot": "F", "acquired_at": at},
            {"fantasy_team_id": team_a, "player_id": slot_b.player_id, "slot": "C", "acquired_at": at},
        ],
    )
