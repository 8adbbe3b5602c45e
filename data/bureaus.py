"""各局对比: the 局 (市局机关, each 县局) side by side for one period.

Reads only ``services.score_period`` results and the units the same scoring call
used (their 所属局), so every figure agrees with the ranking. No writes, no queries of
its own.
"""
from __future__ import annotations

import pandas as pd

from data import services
from data.db import Database
from data.permissions import Principal, require


def _by_bureau(period_code: str, db: Database | None) -> pd.DataFrame:
    res = services.score_period(period_code, db)
    units = services.scoring_inputs(period_code, db).units[["unit", "bureau", "level"]]
    return res.units.merge(units, on="unit", how="left")


def bureau_comparison(principal: Principal, period_code: str, db: Database | None = None) -> dict:
    """Per 局: units assessed, average total, grade counts, 一票否决 count, and the change in the
    average from the previous period of the same kind (NaN when the 局 had no units then)."""
    require(principal, "view_bureaus")
    df = _by_bureau(period_code, db)
    grades = services.table_for_period(period_code, db).grade_order()
    rows = []
    for bureau, g in df.groupby("bureau", sort=False):
        row = {"bureau": bureau, "level": g["level"].mode().iloc[0] if len(g) else "", "units": int(len(g)),
               "average": float(g["total"].mean()), "best": float(g["total"].max()),
               "worst": float(g["total"].min()), "vetoed": int(g["veto"].sum())}
        for grade in grades:
            row[f"grade:{grade}"] = int((g["grade"] == grade).sum())
        rows.append(row)
    out = pd.DataFrame(rows, columns=["bureau", "level", "units", "average", "best", "worst", "vetoed",
                                      *[f"grade:{g}" for g in grades]])  # no unit with data yet: no rows
    prev_code = services.previous_period_code(period_code, db, same_kind=True)
    out["prev_average"] = float("nan")
    if prev_code and len(out):
        prev = _by_bureau(prev_code, db).groupby("bureau")["total"].mean()
        out["prev_average"] = out["bureau"].map(prev).astype(float)
    out["delta"] = out["average"] - out["prev_average"] if len(out) else []
    if len(out):
        out = out.sort_values(["average", "bureau"], ascending=[False, True]).reset_index(drop=True)
        out.insert(0, "rank", out["average"].rank(method="min", ascending=False).astype(int))
    return {"rows": out, "grades": grades, "previous": prev_code}


__all__ = ["bureau_comparison"]
