"""Exports to Excel/CSV: the score table of a period and any frame a page shows.

Every exported cell passes ``neutralise`` (``data/xlsx_safe.py``, the writer every workbook
uses): text starting with = + - @ tab or CR is prefixed with an apostrophe so a spreadsheet
never runs it as a formula.
"""
from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from data import services

from data.xlsx_safe import DANGEROUS, neutralise, neutralise_workbook  # noqa: F401  (neutralise: public here too)


def round2(values: pd.Series) -> pd.Series:
    """Two decimals, half up (四舍五入) as every page shows them: 82.125 → 82.13, not pandas' 82.12."""
    def one(v):
        if v is None or pd.isna(v):
            return None
        return float(Decimal(repr(float(v))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return values.map(one)


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
        neutralise_workbook(xw.book)  # the one writer's pass (data/xlsx_safe.py), as for every workbook
    return buf.getvalue()


def score_table(period_code: str, res=None) -> pd.DataFrame:
    """One row per unit: code, name, category, total, grade, veto, ranks, then one column per item
    (of ``res``, default the period's score: for a published period its current snapshot)."""
    res = res if res is not None else services.score_period(period_code)
    u = res.units.sort_values("display_order")
    out = pd.DataFrame({
        "单位编码": u["unit"], "单位名称": u["name"], "类别": u["category"],
        "总分": round2(u["total"]), "基础得分": round2(u["base"]), "加分": round2(u["bonus"]),
        "等次": u["grade"], "一票否决": u["veto"].map({True: "是", False: "否"}),
        "否决原因": u["veto_reason"].fillna(""), "总排名": u["rank"], "类别排名": u["rank_in_category"],
        "定级依据": u["grade_reason"].fillna(""),
    })
    items = res.items.pivot(index="unit", columns="item", values="points")
    order = [c for c in dict.fromkeys(res.items["item"]) if c in items.columns]
    items = items[order].apply(round2)
    return out.merge(items, left_on="单位编码", right_index=True, how="left").reset_index(drop=True)


def rankings_frame(principal, period_code: str, codes: list[str] | None = None) -> pd.DataFrame:
    """The ranking as shown: the rows (and order) of ``codes``, scoped to what the principal may see."""
    df = services.rankings(principal, period_code)
    if codes is not None:
        pos = {c: i for i, c in enumerate(codes)}
        df = df[df["unit"].isin(pos)].copy()
        df["_order"] = df["unit"].map(pos)
        df = df.sort_values("_order")
    return pd.DataFrame({
        "总排名": df["rank"], "类别排名": df["rank_in_category"], "单位编码": df["unit"], "单位名称": df["name"],
        "类别": df["category"], "总分": round2(df["total"]), "等次": df["grade"],
        "★达标": df["core_met"].astype(str) + "/" + df["core_due"].astype(str),
        "较上期": round2(df["delta"]), "一票否决": df["veto"].map({True: "是", False: ""}),
        "否决原因": df["veto_reason"].fillna(""), "定级依据": df["grade_reason"].fillna(""),
    }).reset_index(drop=True)


def rankings_xlsx(principal, period_code: str, codes: list[str] | None = None) -> bytes:
    return to_xlsx({"排名总览": rankings_frame(principal, period_code, codes)})


def candidates_xlsx(principal, period_code: str) -> bytes:
    df = services.candidate_list(principal, period_code)
    cols = {"unit": "单位编码", "name": "单位名称", "category": "类别", "rank_in_category": "类别排名",
            "total": "总分", "grade": "等次", "status": "结果", "reason": "理由", "decision": "考核组意见",
            "decision_note": "意见说明"}
    out = df[[c for c in cols if c in df.columns]].rename(columns=cols)
    if "总分" in out:
        out["总分"] = round2(out["总分"])
    return to_xlsx({"先进基层党组织推荐": out})
