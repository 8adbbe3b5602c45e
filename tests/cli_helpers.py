"""Running ``flask --app app <command>`` in-process (Flask's CliRunner) instead of in a subprocess.

A subprocess costs about 2.4 s of CPU just to import the app; the in-process run uses the session's shared
app (``flask_app`` in tests/conftest.py: Dash keeps its pages in module globals, so one process holds one
app) pointed at the test's own database for the duration (``app_database``).

``flask_cli`` returns what ``subprocess.run(..., capture_output=True, text=True)`` would: ``returncode``,
``stdout`` and ``stderr`` kept apart, and an exception escaping a command (which a real process prints as a
traceback, exit status 1) as exit status 1 with the formatted traceback in ``stderr``. Each call starts as
a new process would: no in-process results (``services.clear_cache``), and the results being stored in the
background are written before it returns (``results_store.wait_stored``, what the process's atexit does).

``real_flask`` runs the real ``python -m flask --app app`` subprocess: each converted test file keeps one
such test, so the real entry point stays covered.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from data.db import Database

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def app_database(flask_app, url_or_path):
    """The shared app pointed at the database (a URL, or the path of a SQLite file) for the duration;
    the previous database after, and this one disposed."""
    from app import use_database

    url = str(url_or_path) if "://" in str(url_or_path) else f"sqlite:///{url_or_path}"
    previous = flask_app.extensions["dangjian_db"]
    db = Database(url)
    use_database(flask_app, db)
    try:
        yield db
    finally:
        use_database(flask_app, previous)
        db.dispose()


@contextlib.contextmanager
def empty_database(flask_app, path):
    """The shared app pointed at a new empty SQLite file for the duration; the previous database after."""
    with app_database(flask_app, path) as db:
        yield db


def run(flask_app, *args: str, env: dict | None = None, input: str | None = None):
    """Invoke one CLI command; returns click's Result (exit_code, output). Exceptions propagate."""
    runner = flask_app.test_cli_runner()
    return runner.invoke(args=list(args), env=env or {}, input=input, catch_exceptions=False)


@dataclass
class CliResult:
    """What ``subprocess.run(["flask", "--app", "app", *args], capture_output=True, text=True)`` returns."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    exception: BaseException | None = None  # a crash (not SystemExit), also formatted into stderr


def flask_cli(flask_app, *args: str, env: dict | None = None, input: str | None = None) -> CliResult:
    """``flask --app app *args`` in-process against the app's current database (see ``app_database``).

    ``env`` is applied to ``os.environ`` for the call only (a ``None`` value removes the variable); stdin
    is ``input`` (never a terminal)."""
    import data.db as db_module
    from data import results_store, services

    db = flask_app.extensions["dangjian_db"]
    services.clear_cache()  # a new process has no results in memory (the shared store is kept)
    # A real process that reached get_db() outside the app context would open DATABASE_URL, i.e. the
    # same database: the same here, never the default instance/ database.
    previous_current, db_module._current = db_module._current, db
    try:
        result = flask_app.test_cli_runner().invoke(args=list(args), env=env or {}, input=input,
                                                    catch_exceptions=True)
        results_store.wait_stored()  # what the process's atexit handler does
    finally:
        db_module._current = previous_current
    stderr, exception = result.stderr, None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exception = result.exception
        stderr += "".join(traceback.format_exception(*result.exc_info))
        assert result.exit_code != 0
    return CliResult(list(args), result.exit_code, result.stdout, stderr, exception)


def real_flask(db_url: str, *args: str, env: dict | None = None, cwd: Path | None = None,
               timeout: int = 300) -> subprocess.CompletedProcess:
    """The real ``python -m flask --app app *args`` in a subprocess (text output), on ``db_url``.

    From a ``cwd`` other than the repository the app is found through ``PYTHONPATH``."""
    full_env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "t", "PYTHONIOENCODING": "utf-8",
                **(env or {})}
    if cwd is not None:
        full_env["PYTHONPATH"] = str(ROOT)
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout)
