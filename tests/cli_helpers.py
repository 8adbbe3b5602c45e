"""Running ``flask --app app <command>`` in-process (Flask's CliRunner) against a fresh, empty database."""
from __future__ import annotations

import contextlib

from data.db import Database


@contextlib.contextmanager
def empty_database(flask_app, path):
    """The shared app pointed at a new empty SQLite file for the duration; the previous database after."""
    from app import use_database

    previous = flask_app.extensions["dangjian_db"]
    db = Database(f"sqlite:///{path}")
    use_database(flask_app, db)
    try:
        yield db
    finally:
        use_database(flask_app, previous)
        db.dispose()


def run(flask_app, *args: str, env: dict | None = None, input: str | None = None):
    """Invoke one CLI command; returns click's Result (exit_code, output)."""
    runner = flask_app.test_cli_runner()
    return runner.invoke(args=list(args), env=env or {}, input=input, catch_exceptions=False)
