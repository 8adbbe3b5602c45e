"""Shared fixtures: temp databases (SQLite always, PostgreSQL 15 from the system binaries) and the demo.

The PostgreSQL cluster is throwaway: initdb in a temp dir, a free port, stopped at
the end of the session. When running as root it runs as the ``postgres`` (or
``nobody``) user, because initdb refuses root.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from data.db import Database

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


def _run(cmd: list[str], user: str | None) -> None:
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)


@pytest.fixture(scope="session")
def pg_server():
    """URL prefix of a running throwaway PostgreSQL 15 cluster."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN} (make test installs Debian's postgresql)")
    user = _pg_user()
    tmp = Path(tempfile.mkdtemp(prefix="dangjian-pg-"))
    data = tmp / "data"
    if user:
        shutil.chown(tmp, user)
    port = _free_port()
    _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "test", "--auth=trust", "-E", "UTF8",
          "--locale=C.UTF-8"], user)
    _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "-o",
          f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off", "start"], user)
    try:
        yield f"postgresql+psycopg://test@127.0.0.1:{port}"
    finally:
        try:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


_pg_counter = iter(range(10_000))


def _new_pg_database(base_url: str, template: str | None = None) -> str:
    """A new database on the test cluster (a copy of ``template`` when given); its URL."""
    import psycopg

    name = f"t{os.getpid()}_{next(_pg_counter)}"
    with psycopg.connect(base_url.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"{base_url}/{name}"


class _Templates:
    """Per test process: a migrated database, and one with the demo seeded, made once; each test gets a
    copy (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL). Migrating and seeding
    for every test took 2–4 s each, most of the data-layer tests' time."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.made: dict[tuple[str, bool], str] = {}

    def _build(self, url: str, seeded: bool) -> None:
        from data import services
        from data.demo import seed_database

        database = Database(url)
        database.upgrade()
        if seeded:
            seed_database(database)
        if url.startswith("sqlite"):
            with database.engine.connect() as conn:  # every row in the main file, no -wal beside it
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        services.clear_cache()  # also waits for results still being stored in the background
        database.dispose()  # a PostgreSQL template must have no connections

    def sqlite(self, seeded: bool, path: Path) -> str:
        key = ("sqlite", seeded)
        if key not in self.made:
            src = self.tmp / f"template-{'seeded' if seeded else 'empty'}.sqlite3"
            self._build(f"sqlite:///{src}", seeded)
            self.made[key] = str(src)
        shutil.copy(self.made[key], path)
        return f"sqlite:///{path}"

    def postgresql(self, seeded: bool, base_url: str) -> str:
        key = ("postgresql", seeded)
        if key not in self.made:
            url = _new_pg_database(base_url)
            self._build(url, seeded)
            self.made[key] = url.rsplit("/", 1)[1]
        return _new_pg_database(base_url, template=self.made[key])


@pytest.fixture(scope="session")
def _templates(tmp_path_factory) -> _Templates:
    return _Templates(tmp_path_factory.mktemp("templates"))


def _wants_demo(request) -> bool:
    """Whether the test also asks for the seeded demo (``seeded`` / ``seeded_sqlite`` in tests/data)."""
    return bool({"seeded", "seeded_sqlite"} & set(request.fixturenames))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, _templates):
    """An empty, migrated database (the seeded demo when the test asks for ``seeded``); every
    data-layer test using it runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        url = _templates.sqlite(_wants_demo(request), tmp_path / "test.sqlite3")
    else:
        url = _templates.postgresql(_wants_demo(request), request.getfixturevalue("pg_server"))
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(request, tmp_path, _templates):
    database = Database(_templates.sqlite(_wants_demo(request), tmp_path / "test.sqlite3"))
    yield database
    database.dispose()


@pytest.fixture(scope="session", autouse=True)
def attachment_dir(tmp_path_factory):
    """佐证材料 written by the demo and the app go to a temp folder, not the repository's instance/."""
    from data import attachment_store

    store = attachment_store.DiskStore(tmp_path_factory.mktemp("attachments"))
    attachment_store.set_default_store(store)
    yield store
    attachment_store.set_default_store(None)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, _templates):
    """A migrated SQLite database with the default 40-unit demo (read-only use): a copy of the seeded
    template, which holds every row in its main file, so copies of this file (``app_db``) do too."""
    database = Database(_templates.sqlite(True, tmp_path_factory.mktemp("demo") / "demo.sqlite3"))
    yield database
    database.dispose()


PASSWORDS = {"admin": "Xitong-Guanli-2026", "leader": "Juzhang-Kaohe-2026", "inspector": "Kaohezu-Jiancha-2026",
             "staff": "Linhe-Dangwu-2026", "staff_sj": "Shiju-Yizhibu-2026"}


@pytest.fixture(scope="session")
def demo_file(demo_db) -> Path:
    return Path(demo_db.url.split("///", 1)[1])


@pytest.fixture(scope="session")
def flask_app():
    from app import create_app

    return create_app({"SECRET_KEY": "test-secret", "LOGIN_LIMIT_USER": "1000 per minute",
                       "LOGIN_LIMIT_ACCOUNT": "1000 per minute", "LOGIN_LIMIT_IP": "1000 per minute",
                       "DATABASE_URL": "sqlite://", "RATELIMIT_STORAGE_URI": None, "SESSION_REDIS_URL": None})


@pytest.fixture
def app_db(flask_app, demo_file, tmp_path):
    """A private copy of the demo database, plugged into the shared app."""
    from app import use_database
    from data.db import Database

    path = tmp_path / "app.sqlite3"
    shutil.copy(demo_file, path)
    database = Database(f"sqlite:///{path}")
    use_database(flask_app, database)
    yield database
    database.dispose()


@pytest.fixture
def client(flask_app, app_db):
    return flask_app.test_client()


def login(client, username: str):
    """Sign a Flask test client in as a demo user (fetches the CSRF token from the form)."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": username, "password": PASSWORDS[username], "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


