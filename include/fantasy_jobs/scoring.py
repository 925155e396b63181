"""The one definition of fantasy scoring: weights, scoring profiles and the points formula.

A league's weights are ESPN's WNBA points preset with any weight in its `scoring_settings`
("weights": {"stl": 3, ...}) overriding. Leagues with the same normalised weights share one
scoring profile, keyed by a hash of those weights. The same formula is available as a SQL
expression (for the set-based jobs) and as a Python function (for checks and tests).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from fantasy_jobs.errors import PermanentJobError

# ESPN's WNBA points preset (DESIGN section 5).
DEFAULT_WEIGHTS: dict[str, float] = {
    "pts": 1.0,
    "reb": 1.0,
    "ast": 1.0,
    "fg3m": 1.0,
    "stl": 2.0,
    "blk": 2.0,
    "tov": 0.0,
}
# Every stat a league may weight: columns of player_game_stats.
SCORABLE_STATS = (
    "pts",
    "reb",
    "oreb",
    "dreb",
    "ast",
    "stl",
    "blk",
    "tov",
    "fgm",
    "fga",
    "fg3m",
    "fg3a",
    "ftm",
    "fta",
    "pf",
)
# Bonus rules and their default points (a league's scoring_settings "bonuses" overrides; 0 turns one off).
DEFAULT_BONUSES: dict[str, float] = {"weekly_high_score": 5.0, "all_starters_played": 2.0}
# Bounds of a league's settings: finite numbers with |value| <= these, so no job's arithmetic can
# overflow a column (a stat line's points stay far inside double precision and NUMERIC).
MAX_ABS_WEIGHT = 1000.0
MAX_ABS_BONUS = 1000.0
STARTING_SLOTS = ("G", "F", "C", "UTIL")
BENCH_SLOTS = ("BENCH", "IR")


class ScoringSettingsError(PermanentJobError):
    """A league's scoring_settings cannot be used (unknown stat, non-numeric weight)."""


def _number(value: Any, where: str, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ScoringSettingsError(f"{where} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ScoringSettingsError(f"{where} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ScoringSettingsError(f"{where} must be a finite number, got {value!r}")
    if abs(number) > limit:
        raise ScoringSettingsError(f"{where} must be between {-limit:g} and {limit:g}, got {number:g}")
    return number


def league_weights(scoring_settings: Mapping[str, Any] | None, league: str = "league") -> dict[str, float]:
    """The full weight of every scorable stat for a league: the preset, overridden by its settings."""
    settings = scoring_settings or {}
    if not isinstance(settings, Mapping):
        raise ScoringSettingsError(
            f"{league}: scoring_settings must be an object, got {type(settings).__name__}"
        )
    overrides = settings.get("weights", {}) or {}
    if not isinstance(overrides, Mapping):
        raise ScoringSettingsError(f"{league}: scoring_settings.weights must be an object, got {overrides!r}")
    weights = {stat: DEFAULT_WEIGHTS.get(stat, 0.0) for stat in SCORABLE_STATS}
    for key, value in overrides.items():
        if key not in weights:
            raise ScoringSettingsError(
                f"{league}: scoring_settings.weights has unknown stat {key!r}; known: {', '.join(SCORABLE_STATS)}"
            )
        weights[key] = _number(value, f"{league}: scoring_settings.weights.{key}", MAX_ABS_WEIGHT)
    return {stat: round(weight, 6) for stat, weight in weights.items()}


def league_bonuses(scoring_settings: Mapping[str, Any] | None, league: str = "league") -> dict[str, float]:
    """Points of each bonus rule for a league: the defaults, overridden by its settings."""
    settings = scoring_settings or {}
    if not isinstance(settings, Mapping):
        raise ScoringSettingsError(
            f"{league}: scoring_settings must be an object, got {type(settings).__name__}"
        )
    overrides = settings.get("bonuses", {}) or {}
    if not isinstance(overrides, Mapping):
        raise ScoringSettingsError(f"{league}: scoring_settings.bonuses must be an object, got {overrides!r}")
    bonuses = dict(DEFAULT_BONUSES)
    for key, value in overrides.items():
        if key not in bonuses:
            raise ScoringSettingsError(
                f"{league}: scoring_settings.bonuses has unknown rule {key!r}; known: {', '.join(DEFAULT_BONUSES)}"
            )
        bonuses[key] = _number(value, f"{league}: scoring_settings.bonuses.{key}", MAX_ABS_BONUS)
    return bonuses


def weights_hash(weights: Mapping[str, float]) -> str:
    """The key of a scoring profile: sha256 of the normalised weights (every stat, sorted)."""
    normal = {stat: round(float(weights.get(stat, 0.0)), 6) for stat in SCORABLE_STATS}
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()


def points(line: Mapping[str, Any], weights: Mapping[str, float]) -> float:
    """Fantasy points of one stat line (a mapping of stat columns), rounded to 2 decimals."""
    if line.get("did_not_play"):
        return 0.0
    return round(sum(weights.get(stat, 0.0) * (line.get(stat) or 0) for stat in SCORABLE_STATS), 2)


def points_sql(weights: Mapping[str, float], alias: str = "s") -> str:
    """The same formula as SQL over a player_game_stats row aliased `alias` (weights are validated numbers)."""
    terms = [f"{float(w)!r} * {alias}.{stat}" for stat, w in weights.items() if w and stat in SCORABLE_STATS]
    formula = " + ".join(terms) if terms else "0"
    return f"CASE WHEN {alias}.did_not_play THEN 0 ELSE ROUND(CAST({formula} AS NUMERIC), 2) END"
