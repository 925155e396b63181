"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temporary folder, a free port.

When the tests run as root the server runs as an unprivileged user (PostgreSQL refuses root).
Connections use a password (scram-sha-256), so password handling is exercised for real.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PASSWORD = "fantasy-test-secret"
USER = "fantasy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    return Path(found[-1]).parent if found else None


class PostgresServer:
    def __init__(self, root: Path | None = None) -> None:
        """A new server in a fresh temporary folder, or (with `root`) the kept cluster in that folder."""
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
            )
        self.bin = bin_dir
        self.existing = root is not None
        self.keep = False
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="fantasy-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = "postgres" if _user_exists("postgres") else "nobody"
            if not self.existing:
                shutil.chown(self.root, self.run_as)
        self._counter = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=True, cwd=self.root)

    def start(self) -> PostgresServer:
        if not self.existing:
            self._init()
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        return self

    def _init(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD)
        if self.run_as:
            shutil.chown(pwfile, self.run_as)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            "--pwfile",
            str(pwfile),
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "fast" if self.keep else "immediate",
                "-w",
                "stop",
            )
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def airflow_uri(self, database: str) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        import psycopg

        self._counter += 1
        name = f"{prefix}_{os.getpid()}_{self._counter}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={USER} password={PASSWORD} dbname=postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
