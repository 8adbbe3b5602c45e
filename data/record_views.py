"""Read-only views over the period's record counts for the branch and gap pages.

Every figure comes from ``ScoreResult.record_counts`` of ``services.score_period`` — the one scoring
call — so the comparison on the branch page and the 「活动规律性」 list on the gap page say exactly
what the score used (valid records after the attendance threshold, missing months/quarters of the
table's ``regular`` rule). Scoped like the unit's data: staff see their own units only.
It must not write anything.
"""
from __future__ import annotations

import math

import pandas as pd

from data import services
from data.db import Database, get_db
from data.permissions import Principal, require, require_unit, unit_scope
from data.view_frames import field_label, view_frames

REGULARITY_SORTS = {"missing": "按缺失月份（季度）数", "unit": "按单位编码", "records": "按有效记录数"}


def _counts(period_code: str, db: Database) -> pd.DataFrame:
    res = services.score_period(period_code, db)
    frame = getattr(res, "record_counts", None)
    if frame is None:
        return pd.DataFrame(columns=["unit", "field", "activity_type", "typed", "records", "below", "missing",
                                     "n_missing", "periods", "used"])
    return frame


def _clean(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def unit_comparison(principal: Principal, unit_code: str, period_code: str, db: Database | None = None) -> list[dict]:
    """Per from_records field of the unit: typed, records (valid), below, diff = typed − records,
    the months/quarters without one and which value the score used."""
    require_unit(principal, "view_scores", unit_code)
    db = db or get_db()
    counts = _counts(period_code, db)
    rows = counts[counts["unit"] == unit_code]
    table = services.table_for_period(period_code, db)
    out = []
    for r in rows.itertuples(index=False):
        typed, records = _clean(r.typed), _clean(r.records)
        out.append(dict(field=r.field, label=field_label(table, r.field), activity_type=r.activity_type, typed=typed,
                        records=records, diff=None if typed is None or records is None else typed - records,
                        below=int(r.below or 0), missing=r.missing or "", n_missing=int(r.n_missing or 0),
                        used=r.used))
    return out


def regularity(principal: Principal, period_code: str, bureau: str | None = None, sort: str = "missing",
               db: Database | None = None) -> pd.DataFrame:
    """Units × fields with at least one month/quarter without a valid record (REGULARITY_COLUMNS),
    within the principal's scope and the 局 filter; sorted as asked (REGULARITY_SORTS)."""
    require(principal, "view_scores")
    db = db or get_db()
    scope = unit_scope(principal)
    key = (("regularity",) + services._version_key(db, period_code)
           + (None if scope is None else tuple(sorted(scope)), bureau, sort))
    return services._cached(key, lambda: _regularity(scope, period_code, bureau, sort, db))


def _regularity(scope, period_code: str, bureau: str | None, sort: str, db: Database) -> pd.DataFrame:
    df = view_frames(period_code, db).regularity  # every unit's rows, most missing first
    if scope is not None:
        df = df[df["unit"].isin(scope)]
    if bureau:
        df = df[df["bureau"] == bureau]
    if sort == "unit":
        df = df.sort_values(["unit", "field"], kind="stable")
    elif sort == "records":
        df = df.sort_values(["records", "unit"], kind="stable")
    return df.reset_index(drop=True)
