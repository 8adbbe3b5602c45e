"""Exports to Excel/CSV: the score table of a period and any frame a page shows.

Every exported cell passes ``neutralise``: text starting with = + - @ tab or CR is
prefixed with an apostrophe so a spreadsheet never runs it as a formula.
"""
from __future__ import annotations

import io

import pandas as pd

from data import services

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def _safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise)
    return out


def to_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM so Excel on Chinese Windows opens it correctly."""
    return _safe(df).to_csv(index=False).encode("utf-8-sig")


def to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            _safe(df).to_excel(xw, sheet_name=name[:31], index=False)
            ws = xw.sheets[name[:31]]
            ws.freeze_panes = "A2"
            for col in ws.columns:
                width = max(len(str(c.value or "")) for c in col[:200])
                ws.column_dimensions[col[0].column_letter].width = min(40, max(8, width * 1.6))
    return buf.getvalue()


def score_table(period_code: str) -> pd.DataFrame:
    """One row per unit: code, name, category, total, grade, veto, ranks, then one column per item."""
    res = services.score_period(period_code)
    u = res.units.sort_values("display_order")
    out = pd.DataFrame({
        "单位编码": u["unit"], "单位名称": u["name"], "类别": u["category"],
        "总分": u["total"].round(2), "基础得分": u["base"].round(2), "加分": u["bonus"].round(2),
        "等次": u["grade"], "一票否决": u["veto"].map({True: "是", False: "否"}),
        "否决原因": u["veto_reason"].fillna(""), "总排名": u["rank"], "类别排名": u["rank_in_category"],
    })
    items = res.items.pivot(index="unit", columns="item", values="points")
    order = [c for c in dict.fromkeys(res.items["item"]) if c in items.columns]
    items = items[order].round(2)
    return out.merge(items, left_on="单位编码", right_index=True, how="left").reset_index(drop=True)
