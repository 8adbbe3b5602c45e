"""Seeded databases for the data-layer tests: the 40-unit demo (a copy of a template seeded once per test
process, see tests/conftest.py), with the score cache cleared."""
from __future__ import annotations

import pytest

from data import services
from data.demo import seed_database


def _seeded(database):
    """``database`` was copied from the seeded template (tests/conftest.py, ``_wants_demo``)."""
    assert seed_database(database) == {"skipped": True}, "expected a copy of the seeded demo"
    services.clear_cache()
    return database


@pytest.fixture
def seeded(db):
    """The demo on SQLite and on PostgreSQL (``db`` is parametrised)."""
    return _seeded(db)


@pytest.fixture
def seeded_sqlite(sqlite_db):
    """The demo on SQLite only, for tests about logic rather than the database."""
    return _seeded(sqlite_db)
