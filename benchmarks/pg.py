"""A throwaway PostgreSQL cluster on 127.0.0.1 for benchmarks and the load test (as tests/conftest.py's
``pg_server``): initdb in a temp dir, a free port, fsync off, removed on exit. None when the
PostgreSQL binaries are not installed."""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    return None


def _run(cmd: list[str], user: str | None) -> None:
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)


@contextlib.contextmanager
def cluster(max_connections: int = 100):
    """Yields the URL of a new empty database ``bench`` in a fresh cluster (None without PostgreSQL)."""
    if not (PG_BIN / "initdb").exists():
        yield None
        return
    user = _user()
    tmp = Path(tempfile.mkdtemp(prefix="dangjian-pg-bench-"))
    if user:
        shutil.chown(tmp, user)
    data, port = tmp / "data", _free_port()
    _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8",
          "--locale=C.UTF-8"], user)
    _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "-o",
          f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections={max_connections}",
          "start"], user)
    try:
        import psycopg

        with psycopg.connect(f"postgresql://bench@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench"')
        yield f"postgresql+psycopg://bench@127.0.0.1:{port}/bench"
    finally:
        try:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def settle(db) -> None:
    """``VACUUM ANALYZE`` after a bulk seed, as autovacuum does on a live database soon after a large load:
    planner statistics, and the visibility map that lets the scoring read stay in its covering index.
    Without it the first measurements depend on whether autovacuum has happened to run yet."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
