"""The gap page's use case (差距分析) at any size: aggregated by 局 or category, with drill-down.

Owns ``gap_overview``: what the gap page shows for one principal, period, grouping, 局 filter and
page of rows. The arrays it works on (unit × area score rates, unit × item failures, one gap line
per unit) are derived once per period and data version for every worker (``data/view_frames.py``),
so a view costs a few masked numpy reductions, never a re-score or a per-unit loop. Must not build
layout (pages/gaps.py does) or score anything itself.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from data.db import Database
from data.permissions import Principal, require, unit_scope
from data.view_frames import view_frames
from scoring.gaps import group_rates

GROUP_BY = {"bureau": "按局汇总", "category": "按考核类别汇总"}
GROUP_LABEL = {"bureau": "局", "category": "考核类别"}
SORTS = {"gap": "按失分（多的在前）", "rank": "按得分（高的在前）", "code": "按名称 / 编码"}
HEAT_PAGE_ROWS = 30     # heat-map rows per page (groups, or units after drill-down)
GAP_LIST_LIMIT = 300    # rows of the 提分清单 grid; the rest are reached through the 局 filter / drill-down


def _order(df: pd.DataFrame, sort: str, label: str) -> pd.DataFrame:
    if sort == "rank":
        return df.sort_values(["total", label], ascending=[False, True], kind="stable", na_position="last")
    if sort == "code":
        return df.sort_values(label, kind="stable")
    return df.sort_values(["lost", label], ascending=[False, True], kind="stable")


def gap_overview(principal: Principal, period_code: str, by: str = "bureau", bureau: str | None = None,
                 group: str | None = None, sort: str = "gap", page: int = 1, db: Database | None = None) -> dict:
    """The gap page for one view.

    ``by``: group rows by 局 or 考核类别; ``bureau``: only that 局's units; ``group``: drill down into
    one group (rows become its units). Rows are paged ``HEAT_PAGE_ROWS`` at a time. Staff see their own
    units only. Returns a dict: ``level`` ("group"/"unit"), ``rows`` (label, key, units, total, lost,
    rates per area), ``n_rows``, ``page``, ``pages``, ``areas``, ``area_names``, ``failed`` (top items
    per area), ``gaps`` (at most ``GAP_LIST_LIMIT`` units' gap lines), ``n_gap_units``, ``mean_lost``,
    ``bureaus`` (the filter's choices), ``units`` (codes in scope).
    """
    require(principal, "view_scores")
    by = by if by in GROUP_BY else "bureau"
    sort = sort if sort in SORTS else "gap"
    f = view_frames(period_code, db).gap
    u = f.units
    scope = unit_scope(principal)
    mask = np.ones(len(u), dtype=bool) if scope is None else u["unit"].isin(scope).to_numpy()
    bureaus = sorted(set(u.loc[mask, "bureau"].to_numpy(object)))  # not cell by cell through the str array
    if bureau and bureau in bureaus:
        mask = mask & (u["bureau"] == bureau).to_numpy()
    else:
        bureau = None
    if group is not None and not (mask & (u[by] == group).to_numpy()).any():
        group = None
    if group is not None:
        mask = mask & (u[by] == group).to_numpy()

    sel = u[mask]
    pct = f.pct[mask]
    if group is None:
        labels, counts, rates = group_rates(pct, sel[by].to_numpy(object))
        agg = sel.groupby(by, sort=True).agg(total=("total", "mean"), lost=("lost", "mean"))
        table = pd.DataFrame({"label": labels, "key": labels, "units": counts,
                              "total": agg["total"].reindex(labels).to_numpy(float),
                              "lost": agg["lost"].reindex(labels).to_numpy(float)})
        level = "group"
    else:
        rates = pct
        table = pd.DataFrame({"label": [f"{n}（{c}）" for n, c in zip(sel["name"], sel["unit"])],
                              "key": sel["unit"].to_numpy(object), "units": 1,
                              "total": sel["total"].to_numpy(float), "lost": sel["lost"].to_numpy(float),
                              "code": sel["unit"].to_numpy(object)})
        level = "unit"
    table["_pos"] = np.arange(len(table))
    table = _order(table, sort, "code" if level == "unit" else "label")
    n_rows = len(table)
    pages = max(1, math.ceil(n_rows / HEAT_PAGE_ROWS))
    page = min(max(1, int(page or 1)), pages)
    shown = table.iloc[(page - 1) * HEAT_PAGE_ROWS: page * HEAT_PAGE_ROWS]
    shown_rates = rates[shown["_pos"].to_numpy()] if len(shown) else np.zeros((0, len(f.areas)))
    rows = [{"label": r.label, "key": r.key, "units": int(r.units), "total": r.total, "lost": r.lost,
             "rates": [None if math.isnan(x) else float(x) for x in rr]}
            for r, rr in zip(shown.itertuples(index=False), shown_rates.tolist())]

    counts = f.failed[mask].sum(axis=0) if len(f.failed_items) else np.zeros(0)
    failed = f.failed_items.assign(units_failed=counts.astype(int))
    failed = (failed[failed["units_failed"] > 0]
              .sort_values(["area", "units_failed"], ascending=[True, False], kind="stable")
              .groupby("area", sort=False).head(3).reset_index(drop=True))

    has_gap = sel["unit"].isin(f.gap_units.index).to_numpy()
    order = _order(sel[has_gap], sort, "unit")["unit"].to_numpy(object)[:GAP_LIST_LIMIT]
    gaps = f.gap_units.loc[order].reset_index()
    gaps["name"] = gaps["unit"].map(sel.set_index("unit")["name"])
    return {"level": level, "by": by, "bureau": bureau, "group": group, "sort": sort, "rows": rows,
            "n_rows": n_rows, "page": page, "pages": pages, "areas": f.areas, "area_names": f.area_names,
            "failed": failed, "gaps": gaps, "n_gap_units": int(has_gap.sum()),
            "mean_lost": float(sel["lost"].mean()) if len(sel) else float("nan"),
            "bureaus": bureaus, "units": sel["unit"].tolist()}
