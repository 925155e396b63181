"""League time: a job's "now", fantasy weeks and parsing of `--at` times.

Fantasy week: Monday 00:00 to Sunday 23:59 league time, identified by an integer week key
YYYYWW (ISO year and week, which start on Monday too), e.g. 202624.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fantasy_jobs.errors import InvalidParamsError
from fantasy_jobs.settings import league_timezone


def to_league(dt: datetime) -> datetime:
    """`dt` (aware) in the league time zone."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}")
    return dt.astimezone(league_timezone())


def fantasy_week(dt: datetime) -> int:
    """The week key (YYYYWW) of the fantasy week that contains `dt`."""
    year, week, _ = to_league(dt).isocalendar()
    return year * 100 + week


def week_start(week: int) -> datetime:
    """Monday 00:00 league time of week key `week`, as an aware datetime."""
    monday = date.fromisocalendar(week // 100, week % 100, 1)
    return datetime.combine(monday, time(0), tzinfo=league_timezone())


def previous_week(week: int) -> int:
    return fantasy_week(week_start(week) - timedelta(days=1))


def parse_at(text: str | None) -> datetime:
    """A CLI `--at` value (ISO 8601; no offset means league time), or now."""
    if not text:
        return datetime.now(UTC).astimezone(league_timezone())
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParamsError(f"--at {text!r} is not an ISO 8601 time such as 2026-06-01T05:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=league_timezone())
    return value.astimezone(league_timezone())
