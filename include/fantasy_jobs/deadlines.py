"""The DAGs' deadline: a run's anchor time plus the group's interval, which an Airflow Variable
may override (`fantasy_deadline_<group>_seconds`, e.g. to shorten it while testing an alert).

Why a custom deadline reference and not Airflow's `VariableInterval`: in 3.3.2 the scheduler
resolves a `VariableInterval` with `Variable.get()`, whose metastore lookup opens the scheduler's
own scoped session, commits and closes it in the middle of DAG-run creation (the scheduler then
dies with DetachedInstanceError; fixed upstream by apache/airflow#71968), and a missing Variable
aborts the run's creation (apache/airflow#68917). This reference reads the Variable through the
same secrets backends in the same order (environment `AIRFLOW_VAR_...` first, then the metadata
database) but hands the metastore the session it was given, and any missing or malformed value
falls back to the group's default with a warning: a deadline alert never stops a run.

The class is registered with Airflow through `plugins/fantasy_deadlines.py` (the scheduler and
API server look custom references up there); the DAG side only serializes its three fields, so
parsing a DAG imports nothing from Airflow core.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.definitions.deadline import REFERENCE_TYPE_FIELD, BaseDeadlineReference

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

ANCHORS = ("logical_date", "queued_at")


def deadline_variable(group: str) -> str:
    """The Airflow Variable whose value (whole seconds) overrides `group`'s deadline interval."""
    return f"fantasy_deadline_{group}_seconds"


def parse_seconds(raw: Any, key: str) -> timedelta | None:
    """A positive whole number of seconds as a timedelta; None (and a warning) for anything else."""
    try:
        seconds = int(str(raw).strip())
    except (TypeError, ValueError):
        log.warning("Variable %s=%r is not a whole number of seconds; using the default deadline", key, raw)
        return None
    if seconds <= 0:
        log.warning("Variable %s=%r must be positive; using the default deadline", key, raw)
        return None
    return timedelta(seconds=seconds)


def _span(interval: timedelta) -> str:
    """3 h, 15 min, 1 h 30 min."""
    minutes = int(interval.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return " ".join(
        part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if part
    )


def deadline_in_words(group: str) -> str:
    """The group's default deadline as operators say it, e.g. "finish by 06:00 league time"."""
    from fantasy_jobs.registry import GROUPS

    spec = GROUPS[group]
    fields = (spec.cron or "").split()
    if (
        spec.deadline_from == "logical_date"
        and len(fields) == 5
        and fields[0].isdigit()
        and fields[1].isdigit()
    ):
        start = datetime(2000, 1, 1, int(fields[1]), int(fields[0]))
        return (
            f"finish by {start + spec.deadline:%H:%M} league time"
            f" (or within {_span(spec.deadline)} of being queued when created late)"
        )
    return f"within {_span(spec.deadline)} of being queued"


@dataclass(frozen=True)
class FantasyDeadline(BaseDeadlineReference):
    """Deadline = the later of the run's anchor (`logical_date`, or `queued_at`) and its queue
    time, plus the group's interval.

    A manual run has no logical date; its anchor is then the time it was triggered (`run_after`).
    The DeadlineAlert's own interval is zero: the interval lives here so that it can be read
    from the Variable when the run is created.
    """

    group: str = "daily"
    anchor: str = "logical_date"
    default_seconds: int = 3600

    required_kwargs: ClassVar[set[str]] = {"dag_id", "run_id"}

    def __post_init__(self) -> None:
        if self.anchor not in ANCHORS:
            raise ValueError(f"anchor must be one of {ANCHORS}, got {self.anchor!r}")
        if self.default_seconds <= 0:
            raise ValueError(f"default_seconds must be positive, got {self.default_seconds!r}")

    @property
    def variable_key(self) -> str:
        return deadline_variable(self.group)

    def serialize_reference(self) -> dict[str, Any]:
        return {
            REFERENCE_TYPE_FIELD: self.reference_name,
            "group": self.group,
            "anchor": self.anchor,
            "default_seconds": self.default_seconds,
        }

    @classmethod
    def deserialize_reference(cls, reference_data: dict[str, Any]) -> FantasyDeadline:
        return cls(
            group=reference_data["group"],
            anchor=reference_data["anchor"],
            default_seconds=int(reference_data["default_seconds"]),
        )

    def interval(self, session: Session) -> timedelta:
        """The Variable's override when it is set and valid, else the group's default."""
        default = timedelta(seconds=self.default_seconds)
        try:
            raw = _variable_value(self.variable_key, session)
        except Exception:  # a broken secrets backend must not stop the run from being created
            log.exception("Variable %s could not be read; using the default deadline", self.variable_key)
            return default
        if raw is None:
            return default
        return parse_seconds(raw, self.variable_key) or default

    def _evaluate_with(self, *, session: Session, dag_id: str, run_id: str, **_: Any) -> datetime | None:
        """Called by Airflow core when the run is created; `session` is the caller's own.

        The deadline counts from the later of the run's anchor and the time it was queued: a
        run created late (the catch-up run at a first start, a deployment in the afternoon) gets
        the group's whole interval from its creation instead of a deadline already in the past.
        """
        from airflow.models import DagRun
        from sqlalchemy import func, select

        column = DagRun.queued_at if self.anchor == "queued_at" else DagRun.logical_date
        row = session.execute(
            select(func.coalesce(column, DagRun.run_after), DagRun.queued_at).where(
                DagRun.dag_id == dag_id, DagRun.run_id == run_id
            )
        ).first()
        if row is None or row[0] is None:
            log.warning("No DAG run %s/%s to anchor its deadline on", dag_id, run_id)
            return None
        anchor, queued_at = row
        queued_at = queued_at or datetime.now(UTC)  # evaluated as the run is created: now is its queue time
        start = max(anchor, queued_at)
        interval = self.interval(session)
        log.info(
            "Deadline of %s/%s: %s after %s (%s)",
            dag_id,
            run_id,
            interval,
            f"{self.anchor} {anchor.isoformat()}"
            if start == anchor
            else f"queued_at {start.isoformat()} (created late)",
            "from Variable " + self.variable_key
            if interval != timedelta(seconds=self.default_seconds)
            else "default",
        )
        return start + interval


def _variable_value(key: str, session: Session) -> str | None:
    """`key` from Airflow's secrets backends in their configured order, the metastore queried
    in `session` (never a new scoped session inside the caller's transaction)."""
    from airflow.configuration import ensure_secrets_loaded
    from airflow.secrets.metastore import MetastoreBackend

    for backend in ensure_secrets_loaded():
        if isinstance(backend, MetastoreBackend):
            value = backend.get_variable(key, session=session)
        else:
            value = backend.get_variable(key)
        if value is not None:
            return value
    return None
