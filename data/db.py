"""Database engine, sessions and schema upgrades.

Owns the connection (``DATABASE_URL``; default SQLite under ``instance/`` with WAL
and foreign keys on) and the one ``session_scope()`` every write goes through.
Knows nothing of Flask routes or Dash.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "instance" / "dangjian.sqlite3"


def default_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"


def normalise_url(url: str) -> str:
    # Heroku-style postgres:// and plain postgresql:// both mean psycopg 3 here.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Database:
    """An engine plus a session factory; one per application (and per test)."""

    def __init__(self, url: str | None = None):
        self.url = normalise_url(url or default_url())
        self.engine: Engine = _make_engine(self.url)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commit on success, roll back on any exception."""
        session = self.Session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    session_scope = session

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision."""
        from alembic import command

        command.upgrade(alembic_config(self.url), "head")

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # 64 MB of page cache (default 2 MB): a 2,000-unit commit rewrites two indexes of a table
            # of millions of rows; with the default the same index pages are read again and again.
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "data" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_current: Database | None = None


def set_current(db: Database) -> None:
    global _current
    _current = db


def get_db() -> Database:
    """The Database of the running Flask app, else the one set by ``set_current``."""
    try:
        from flask import current_app, has_app_context

        if has_app_context() and "dangjian_db" in current_app.extensions:
            return current_app.extensions["dangjian_db"]
    except ImportError:  # pragma: no cover
        pass
    global _current
    if _current is None:
        _current = Database()
    return _current
