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


MAX_FUTURE = timedelta(days=1)
EARLIEST_AT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_AT = datetime(3000, 1, 1, tzinfo=UTC)  # far enough; the jobs' date arithmetic stays in range


def parse_at(text: str | None, *, allow_future: bool = False) -> datetime:
    """A CLI `--at` value (ISO 8601; no offset means league time), or now when it is None.

    An empty value, a time that is not one, a time outside 1970..2999, and (unless
    `allow_future`) a time more than a day ahead of the real clock are InvalidParamsError:
    a typo such as 2062 for 2026 must not make a job's windows reach decades ahead.
    """
    now = datetime.now(UTC)
    if text is None:
        return now.astimezone(league_timezone())
    if not text.strip():
        raise InvalidParamsError(
            "--at is empty: give an ISO 8601 time such as 2026-06-01T05:00, or leave it out for now"
        )
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidParamsError(f"--at {text!r} is not an ISO 8601 time such as 2026-06-01T05:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=league_timezone())
    try:
        in_range = EARLIEST_AT <= value.astimezone(UTC) < LATEST_AT
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:59 in New York is past datetime.max in UTC
        in_range = False
    if not in_range:
        raise InvalidParamsError(
            f"--at {text!r} is out of range: give a time between {EARLIEST_AT:%Y-%m-%d} and {LATEST_AT:%Y-%m-%d}"
        )
    if value - now > MAX_FUTURE and not allow_future:
        ahead = value - now
        raise InvalidParamsError(
            f"--at {text!r} is {ahead.days} days {ahead.seconds // 3600} h in the future (more than a day "
            f"ahead of now, {now:%Y-%m-%d %H:%M} UTC); check it for a typo, or pass --allow-future"
        )
    return value.astimezone(league_timezone())
