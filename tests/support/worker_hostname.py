"""`[core] hostname_callable` for the cluster test: each Celery worker names itself from
FANTASY_WORKER_NAME, as two machines would, although both run on this one."""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("FANTASY_WORKER_NAME") or socket.getfqdn()
