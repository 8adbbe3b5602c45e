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

REGULARITY_COLUMNS = ["unit", "name", "bureau", "category", "field", "label", "activity_type", "rhythm", "typed",
                      "records", "below", "n_missing", "periods", "missing"]
REGULARITY_SORTS = {"missing": "按缺失月份（季度）数", "unit": "按单位编码", "records": "按有效记录数"}


def _counts(period_code: str, db: Database) -> pd.DataFrame:
    res = services.score_period(period_code, db)
    frame = getattr(res, "record_counts", None)
    if frame is None:
        return pd.DataFrame(columns=["unit", "field", "activity_type", "typed", "records", "below", "missing",
                                     "n_missing", "periods", "used"])
    return frame


def _label(table, name: str) -> str:
    f = table.fields.get(name)
    return getattr(f, "label", None) or name


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
        out.append(dict(field=r.field, label=_label(table, r.field), activity_type=r.activity_type, typed=typed,
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
    # Once per data version and question (about 45 ms at 10,000 units, on every view of the gap page).
    key = (("regularity",) + services._version_key(db, period_code)
           + (None if scope is None else tuple(sorted(scope)), bureau, sort))
    return services._cached(key, lambda: _regularity(principal, scope, period_code, bureau, sort, db))


def _regularity(principal: Principal, scope, period_code: str, bureau: str | None, sort: str,
                db: Database) -> pd.DataFrame:
    counts = _counts(period_code, db)
    counts = counts[pd.to_numeric(counts["n_missing"], errors="coerce").fillna(0) > 0]
    units = services.visible_units(principal, period_code, db)
    if scope is not None:
        counts = counts[counts["unit"].isin(scope)]
    info = units.set_index("unit")
    counts = counts[counts["unit"].isin(info.index)]
    if bureau and "bureau" in info.columns:
        counts = counts[counts["unit"].map(info["bureau"]).eq(bureau)]
    if counts.empty:
        return pd.DataFrame(columns=REGULARITY_COLUMNS)
    table = services.table_for_period(period_code, db)
    fields = counts["field"].astype(object)
    distinct = pd.unique(fields)  # a few fields: label and rhythm looked up once each, mapped per row
    labels = fields.map({f: _label(table, f) for f in distinct})
    rhythms = fields.map({f: getattr(table.fields.get(f), "regular", None) or "" for f in distinct})
    df = pd.DataFrame({
        "unit": counts["unit"].to_numpy(), "name": counts["unit"].map(info["name"]).to_numpy(),
        "bureau": counts["unit"].map(info["bureau"]).to_numpy() if "bureau" in info.columns else "",
        "category": counts["unit"].map(info["category"]).to_numpy() if "category" in info.columns else "",
        "field": counts["field"].to_numpy(), "label": labels.to_numpy(object),
        "activity_type": counts["activity_type"].to_numpy(),
        "rhythm": rhythms.to_numpy(object),
        "typed": pd.to_numeric(counts["typed"], errors="coerce").to_numpy(),
        "records": pd.to_numeric(counts["records"], errors="coerce").to_numpy(),
        "below": pd.to_numeric(counts["below"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "n_missing": pd.to_numeric(counts["n_missing"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "periods": pd.to_numeric(counts["periods"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "missing": counts["missing"].fillna("").to_numpy()}, columns=REGULARITY_COLUMNS)
    if sort == "unit":
        df = df.sort_values(["unit", "field"], kind="stable")
    elif sort == "records":
        df = df.sort_values(["records", "unit"], kind="stable")
    else:
        df = df.sort_values(["n_missing", "unit"], ascending=[False, True], kind="stable")
    return df.reset_index(drop=True)
