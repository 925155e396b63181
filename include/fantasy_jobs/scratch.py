"""Scratch resources named after their owner: restore-check databases and folders, downloads and
backup staging folders.

Every name carries the app database it belongs to (a short tag) and the job_executions id of the run
that made it: `fantasy-restore-check-<tag>-<id>-<random>`, `fantasy_restore_check_<tag>_<id>`. A run
removes only its own, or those of its own app database whose owner row is provably over: not
`running` (completed, failed, or closed `abandoned` by the sweep the run makes first) or not there at
all. Scratch of another app database (production and staging on one server or one temp folder) or of
a live run is never touched, whatever its age; names this scheme does not make are left alone.

Folders also keep an `owner.json` (host, pid, app database) for the operator, and a folder whose
owner process is still alive on this machine is spared even if its row was closed meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

OWNER_FILE = "owner.json"
MAX_OWNERS_PER_CHECK = 500  # scratch leftovers looked at per run: a run stays cheap after a long outage


def app_database(engine) -> str:
    """The app database as an operator would name it: `postgresql db fantasy on host:port`, or the
    SQLite file's absolute path."""
    url = engine.url
    if engine.dialect.name == "sqlite":
        return f"sqlite {os.path.realpath(url.database or ':memory:')}"
    return f"{engine.dialect.name} db {url.database} on {url.host or 'localhost'}:{url.port or 5432}"


def database_tag(engine) -> str:
    """8 hex digits that tell this app database's scratch from another's.

    PostgreSQL: from the database name only, so every worker derives the same tag whatever host name
    it uses for the server (scratch databases live on that server, where names are unique); SQLite:
    from the file's real path."""
    url = engine.url
    key = (
        f"sqlite:{os.path.realpath(url.database or ':memory:')}"
        if engine.dialect.name == "sqlite"
        else f"{engine.dialect.name}:{url.database}"
    )
    return hashlib.sha256(key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class ScratchKind:
    """One kind of scratch name: `<prefix><tag><sep><id><sep>...`."""

    prefix: str
    sep: str = "-"

    def owned_prefix(self, engine, execution_id: int | None) -> str:
        """The start of the names a run makes (callers add a random part where one run makes several)."""
        if execution_id is None:
            raise ValueError(f"{self.prefix}* scratch needs a tracked run (a job_executions id) as its owner")
        return f"{self.prefix}{database_tag(engine)}{self.sep}{execution_id}{self.sep}"

    def owner_id(self, name: str, tag: str) -> int | None:
        """The job_executions id in `name` when it is scratch of the app database `tag`, else None."""
        match = re.match(rf"^{re.escape(self.prefix + tag + self.sep)}(\d+)(?:{re.escape(self.sep)}|$)", name)
        return int(match.group(1)) if match else None


RESTORE_FOLDER = ScratchKind("fantasy-restore-check-")
RESTORE_DOWNLOAD = ScratchKind("fantasy-restore-download-")
RESTORE_DATABASE = ScratchKind("fantasy_restore_check_", sep="_")
BACKUP_STAGING = ScratchKind(".partial-")
BACKUP_LOCAL_STAGING = ScratchKind("fantasy-backup-")  # an object-storage backup's local copy


def live_owners(engine, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are job_executions rows still `running` in this app database."""
    from fantasy_jobs.schema import JobExecution

    wanted = sorted(set(ids))[:MAX_OWNERS_PER_CHECK]
    if not wanted:
        return set()
    with engine.connect() as conn:
        return set(
            conn.scalars(
                select(JobExecution.id).where(JobExecution.id.in_(wanted), JobExecution.status == "running")
            )
        )


def orphans(engine, kind: ScratchKind, names: Iterable[str], own_id: int | None) -> list[str]:
    """The `names` of this app database's `kind` scratch whose owner is over (never `own_id`'s)."""
    tag = database_tag(engine)
    owned = {name: owner for name in names if (owner := kind.owner_id(name, tag)) is not None}
    live = live_owners(engine, {owner for owner in owned.values() if owner != own_id})
    return sorted(name for name, owner in owned.items() if owner != own_id and owner not in live)


def write_owner(folder: Path, engine, execution_id: int | None, job_id: str) -> None:
    """`owner.json` in a scratch folder: who made it and for which app database."""
    from fantasy_jobs.ownership import pid_space

    (folder / OWNER_FILE).write_text(
        json.dumps(
            {
                "job_id": job_id,
                "execution_id": execution_id,
                "app_database": app_database(engine),
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "pid_space": pid_space(),
            }
        )
    )


def owner_process_alive(folder: Path) -> bool:
    """The folder's owner process still runs on this machine (its owner.json says so)."""
    from fantasy_jobs.ownership import pid_alive, pid_space

    try:
        owner = json.loads((folder / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return False
    space, pid = owner.get("pid_space"), owner.get("pid")
    return (
        isinstance(pid, int)
        and space is not None
        and space == pid_space()
        and pid != os.getpid()
        and pid_alive(pid)
    )


def remove_orphaned_folders(engine, kind: ScratchKind, parent: Path, own_id: int | None, log) -> list[str]:
    """Delete this app database's `kind` folders under `parent` whose owner is over; their names."""
    try:
        names = [p.name for p in parent.iterdir() if p.is_dir() and p.name.startswith(kind.prefix)]
    except FileNotFoundError:
        return []
    tag, removed = database_tag(engine), []
    for name in orphans(engine, kind, names, own_id):
        path = parent / name
        if owner_process_alive(path):
            log.warning("kept %s: its run was closed but its process is still alive on this machine", path)
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            log.warning(
                "removed %s, left by job_executions %s, a run that is over", path, kind.owner_id(name, tag)
            )
            removed.append(name)
    return removed


def temp_root() -> Path:
    return Path(tempfile.gettempdir())
