"""Seeded databases for the data-layer tests: the 40-unit demo, with the score cache cleared."""
from __future__ import annotations

import pytest

from data import services
from data.demo import seed_database


def _seed(database):
    seed_database(database)
    services.clear_cache()
    return database


@pytest.fixture
def seeded(db):
    """The demo on SQLite and on PostgreSQL (``db`` is parametrised)."""
    return _seed(db)


@pytest.fixture
def seeded_sqlite(sqlite_db):
    """The demo on SQLite only, for tests about logic rather than the database."""
    return _seed(sqlite_db)
