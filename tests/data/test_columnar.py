"""The columnar (ADBC → Arrow, PostgreSQL) read of a period's evidence gives exactly the frame the
session read gives (SQLite: the session read itself): the same rows in the same order, the same dtypes, values to the bit.
"""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select, update

from data import columnar, repo, services
from data.db import Database
from data.models import EvidenceValue, OrgUnit, Period, utcnow

P = "2026H1"


def _like(row: EvidenceValue, **changes) -> EvidenceValue:
    """A new current row with ``row``'s provenance (batch, file, cell) and ``changes``."""
    keep = {c: getattr(row, c) for c in ("period_id", "unit_id", "field", "value", "raw", "batch_id", "file_name",
                                         "sheet", "row", "column", "uploaded_by")}
    return EvidenceValue(**{**keep, **changes})


def _frames(db, period_id):
    with db.session() as s:
        return repo.evidence_frame(s, period_id), repo.evidence_frame(s, period_id, columnar=True)


def test_columnar_read_equals_the_session_read(seeded):
    db = seeded
    with db.session() as s:
        p = repo.get_period(s, P)
        pid = p.id
        unit = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "C01"))
        # values a text round trip would change, an explicit clear (NULL), and a superseded row
        first = s.scalars(select(EvidenceValue).where(EvidenceValue.period_id == pid,
                                                     EvidenceValue.unit_id == unit,
                                                     EvidenceValue.superseded_at.is_(None))
                          .order_by(EvidenceValue.field)).all()
        first[0].superseded_at = utcnow()
        s.add(_like(first[0], value=0.1 + 0.2))
        first[1].value = 1 / 3
        first[2].superseded_at = utcnow()
        s.add(_like(first[2], value=None))
        cleared, replaced = first[2].field, first[0].field
    plain, col = _frames(db, pid)
    pd.testing.assert_frame_equal(col, plain, check_exact=True)
    assert len(col) > 1000
    assert col["unit"].dtype == plain["unit"].dtype == "str"
    mine = col[col["unit"] == "C01"].set_index("field")["value"]
    assert mine[replaced] == 0.1 + 0.2 and (mine == 1 / 3).any()
    assert cleared not in mine.index
    with db.session() as s:  # PostgreSQL: the ADBC path ran, not the fallback; SQLite: never ADBC
        assert (columnar.arrow_table(s, select(Period.id)) is not None) == (not db.is_sqlite)


def test_sqlite_is_never_opened_by_a_second_sqlite_library(tmp_path):
    """ADBC's SQLite driver links its own SQLite: two copies in one process corrupt each other's locks."""
    for url in ("sqlite://", f"sqlite:///{tmp_path}/x.sqlite3"):
        db = Database(url)
        with db.session() as s:
            assert columnar.arrow_table(s, select(1)) is None
        db.dispose()


def test_empty_period_reads_empty_frame(seeded):
    db = seeded
    with db.session() as s:
        pid = repo.get_period(s, P).id
        s.execute(update(EvidenceValue).where(EvidenceValue.period_id == pid).values(superseded_at=utcnow()))
    plain, col = _frames(db, pid)
    assert col.empty and list(col.columns) == list(plain.columns) == ["unit", "field", "value"]


def test_score_period_reads_through_adbc_and_scores_as_before(seeded):
    """The cold score reads the columnar frame; its totals equal a score from the session read."""
    from scoring.engine import score

    db = seeded
    services.clear_cache(db, stored=True)
    result = services.score_period(P, db)
    inp = services.scoring_inputs(P, db)
    with db.session() as s:
        plain = repo.evidence_frame(s, repo.get_period(s, P).id)
    units = services.units_with_data(inp.units, plain, inp.adjustments, inp.records)
    again = score(inp.table, plain, units[services.UNIT_COLUMNS], inp.period.kind, inp.adjustments,
                  inp.overrides, **inp.score_kwargs())
    pd.testing.assert_frame_equal(result.units.reset_index(drop=True), again.units.reset_index(drop=True))


@pytest.mark.parametrize("url", ["mysql://x@localhost/db"])
def test_unknown_backend_is_not_opened(url):
    from sqlalchemy.engine import make_url

    assert columnar._adbc_connect(make_url(url)) is None
