"""AG Grid's infinite row model on the server: a frame sorted, filtered and sliced as the grid asks.

``query(frame, sort_model, filter_model)`` applies the grid's ``getRowsRequest`` models (the
column filters the grids use: text and number, with one or two conditions) to a pandas frame
whose columns are the grid's fields. Pure pandas, no database: the page hands it a frame it got
from ``services``. An unknown column or filter type is ignored (the grid only sends what its
column definitions allow; anything else is a forged request, which must not raise).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

_TEXT = {
    "contains": lambda s, v: s.str.contains(v, regex=False),
    "notContains": lambda s, v: ~s.str.contains(v, regex=False),
    "equals": lambda s, v: s == v,
    "notEqual": lambda s, v: s != v,
    "startsWith": lambda s, v: s.str.startswith(v),
    "endsWith": lambda s, v: s.str.endswith(v),
}
_NUMBER = {
    "equals": lambda s, v, _: s == v,
    "notEqual": lambda s, v, _: s != v,
    "greaterThan": lambda s, v, _: s > v,
    "greaterThanOrEqual": lambda s, v, _: s >= v,
    "lessThan": lambda s, v, _: s < v,
    "lessThanOrEqual": lambda s, v, _: s <= v,
    "inRange": lambda s, v, to: (s >= v) & (s <= to),
}


def _condition(col: pd.Series, cond: dict) -> np.ndarray | None:
    kind, op = cond.get("filterType"), cond.get("type")
    if op == "blank":
        return col.isna().to_numpy() | (col.astype(str) == "").to_numpy()
    if op == "notBlank":
        return ~(col.isna().to_numpy() | (col.astype(str) == "").to_numpy())
    if kind == "text" and op in _TEXT:
        value = str(cond.get("filter") or "").lower()
        return _TEXT[op](col.fillna("").astype(str).str.lower(), value).to_numpy(bool)
    if kind == "number" and op in _NUMBER:
        try:
            value = float(cond.get("filter"))
            to = float(cond["filterTo"]) if op == "inRange" else None
        except (TypeError, ValueError, KeyError):
            return None
        return _NUMBER[op](pd.to_numeric(col, errors="coerce"), value, to).fillna(False).to_numpy(bool)
    return None


def query(frame: pd.DataFrame, sort_model: list | None, filter_model: dict | None,
          aliases: dict[str, str] | None = None) -> pd.DataFrame:
    """``frame`` filtered and sorted as the grid asks. ``aliases`` maps a grid field to the column that
    holds its sortable / filterable value (a markdown link column → its plain text)."""
    aliases = aliases or {}
    keep = np.ones(len(frame), dtype=bool)
    for field, spec in (filter_model or {}).items():
        col = aliases.get(field, field)
        if col not in frame.columns or not isinstance(spec, dict):
            continue
        conds = spec.get("conditions")
        if isinstance(conds, list) and conds:
            masks = [m for m in (_condition(frame[col], c) for c in conds if isinstance(c, dict)) if m is not None]
            if masks:
                keep &= (np.logical_or.reduce(masks) if spec.get("operator") == "OR"
                         else np.logical_and.reduce(masks))
        else:
            m = _condition(frame[col], spec)
            if m is not None:
                keep &= m
    out = frame[keep]
    by, ascending = [], []
    for s in sort_model or []:
        col = aliases.get(s.get("colId"), s.get("colId")) if isinstance(s, dict) else None
        if col in out.columns and s.get("sort") in ("asc", "desc"):
            by.append(col)
            ascending.append(s["sort"] == "asc")
    if by:
        out = out.sort_values(by, ascending=ascending, kind="stable", na_position="last")
    return out


def window(frame: pd.DataFrame, request: dict | None, limit: int = 500) -> tuple[pd.DataFrame, int]:
    """The rows ``request`` asks for (startRow ≤ i < endRow, at most ``limit``) and the total count."""
    request = request if isinstance(request, dict) else {}
    try:
        start = max(0, int(request.get("startRow") or 0))
        end = int(request.get("endRow") or start + 100)
    except (TypeError, ValueError):
        start, end = 0, 100
    end = min(max(start, end), start + limit)
    return frame.iloc[start:end], len(frame)
