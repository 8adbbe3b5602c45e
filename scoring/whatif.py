"""What-if (模拟测算): re-score a period on a changed indicator table and report who moves.

Owns the helpers that change one thing of a table while keeping it consistent
(an item's points with its area and the table total, a parameter, a grade
boundary) and the comparison of two ScoreResults. The re-scoring is the same
``engine.score`` the real results use; nothing is stored, and neither the base
result nor the original table is modified (tables are frozen; every helper
returns a new one).

Must not store anything or import databases, files, Flask or Dash.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from scoring.engine import ROUND, ScoreResult, score
from scoring.indicators import IndicatorTable, TableProblem, validate_table

MOVER_COLUMNS = ["unit", "name", "category", "total_before", "total_after", "delta", "rank_before", "rank_after",
                 "rank_change", "grade_before", "grade_after"]


@dataclass(frozen=True, eq=False)
class WhatIf:
    """Result of one what-if run.

    ``comparison`` has every unit, ``movers`` only those whose total, rank or grade
    changed; both have ``MOVER_COLUMNS``, sorted by rank_change (biggest climb
    first), then delta (desc), then the new rank. ``rank_change`` = rank_before −
    rank_after, so positive means the unit moved up. When the changed table has
    problems, ``after`` is None, the frames are empty and ``problems`` says why.
    """

    before: ScoreResult
    after: ScoreResult | None
    table: IndicatorTable
    comparison: pd.DataFrame
    movers: pd.DataFrame
    problems: tuple[TableProblem, ...] = ()
    grade_changes: dict[str, int] = field(default_factory=dict)  # 「良好→优秀」 → number of units

    @property
    def ok(self) -> bool:
        return self.after is not None


# ---------------------------------------------------------------- table helpers
def change_points(table: IndicatorTable, item_code: str, points: float, keep_scale: bool = False) -> IndicatorTable:
    """A copy with one item's points changed; its area and ``table.total`` follow.

    ``keep_scale=True`` keeps ``table.total`` (the 100-point scale the grade lines are drawn on):
    the item then simply weighs more or less against the others, and base points are still
    raw ÷ achievable × 100. Such a table is scored with ``what_if(..., check_total=False)``.

    A bonus item's "points" are its cap (the table's total is unaffected). A tiered
    item's tier points are scaled in proportion, so the tiers keep their meaning
    and stay within the item's points. Unknown codes raise KeyError (the caller
    offers codes from the table).
    """
    item = table.item(item_code)
    points = float(points)
    if any(b.code == item_code for b in table.bonus):
        return table.with_item(item_code, cap=points)
    changes: dict[str, Any] = {"points": points}
    tiers = item.params.get("tiers")
    if item.rule == "tiered" and isinstance(tiers, (list, tuple)) and item.points > 0:
        k = points / item.points
        changes["params"] = {**item.params, "tiers": [[t, round(p * k, ROUND)] for t, p in tiers]}
    t = table.with_item(item_code, **changes)
    if keep_scale:
        return t
    return replace(t, total=float(round(sum(i.points for i in t.items), ROUND)))


def change_param(table: IndicatorTable, item_code: str, name: str, value: Any) -> IndicatorTable:
    """A copy with one parameter of one item set (e.g. ``target`` 12 → 10)."""
    item = table.item(item_code)
    return table.with_item(item_code, params={**item.params, name: value})


def change_grade_min(table: IndicatorTable, label: str, min: float) -> IndicatorTable:  # noqa: A002 - the table's word
    """A copy with one grade boundary moved (e.g. 优秀 90 → 88). Unknown labels raise KeyError."""
    if label not in [gr.label for gr in table.grades]:
        raise KeyError(label)
    return replace(table, grades=tuple(replace(gr, min=float(min)) if gr.label == label else gr
                                       for gr in table.grades))


# ---------------------------------------------------------------- comparison
def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=float if c.startswith(("total", "delta")) else (
        np.int64 if c.startswith("rank") else object)) for c in MOVER_COLUMNS}, columns=MOVER_COLUMNS)


def compare(before: ScoreResult, after: ScoreResult) -> pd.DataFrame:
    """Every unit of ``before`` with its total, rank and grade before and after (MOVER_COLUMNS)."""
    b, a = before.units, after.units
    if not len(b):
        return _empty()
    pos = pd.Index(a["unit"].to_numpy(object)).get_indexer(b["unit"].to_numpy(object))
    found = pos >= 0
    p = np.where(found, pos, 0)

    def after_col(col: str, fill):
        v = a[col].to_numpy()[p] if len(a) else np.full(len(b), fill)
        return np.where(found, v, fill)

    total_b = b["total"].to_numpy(float)
    total_a = after_col("total", np.nan).astype(float)
    rank_b = b["rank"].to_numpy(np.int64)
    rank_a = after_col("rank", 0).astype(np.int64)
    out = pd.DataFrame({
        "unit": b["unit"].to_numpy(object), "name": b["name"].to_numpy(object),
        "category": b["category"].to_numpy(object),
        "total_before": total_b, "total_after": total_a, "delta": np.round(total_a - total_b, ROUND),
        "rank_before": rank_b, "rank_after": rank_a, "rank_change": rank_b - rank_a,
        "grade_before": b["grade"].to_numpy(object), "grade_after": after_col("grade", "").astype(object),
    }, columns=MOVER_COLUMNS)
    return out.sort_values(["rank_change", "delta", "rank_after"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)


def what_if(base: ScoreResult, table_changed: IndicatorTable, evidence: pd.DataFrame, units: pd.DataFrame,
            period_kind: str, adjustments: pd.DataFrame | None = None, check_total: bool = True,
            score_kwargs: dict | None = None) -> WhatIf:
    """Score the same evidence on ``table_changed`` and compare with ``base``. Stores nothing.

    ``check_total=False`` accepts a table whose items no longer add up to its total (a weight
    changed on a kept scale, see ``change_points``). ``score_kwargs``: the activity-record arguments of
    ``score`` (records, span, record_source) the base was scored with."""
    problems = tuple(validate_table(table_changed, check_total=check_total))
    if problems:
        return WhatIf(before=base, after=None, table=table_changed, comparison=_empty(), movers=_empty(),
                      problems=problems)
    after = score(table_changed, evidence, units, period_kind, adjustments, **(score_kwargs or {}))
    comparison = compare(base, after)
    changed = ((comparison["delta"].abs() > 10.0 ** -9) | (comparison["rank_change"] != 0)
               | (comparison["grade_before"] != comparison["grade_after"]))
    movers = comparison[changed].reset_index(drop=True)
    moved = movers[movers["grade_before"] != movers["grade_after"]]
    grade_changes = (moved.groupby(moved["grade_before"] + "→" + moved["grade_after"], sort=False).size()
                     .sort_values(ascending=False).to_dict() if len(moved) else {})
    return WhatIf(before=base, after=after, table=table_changed, comparison=comparison, movers=movers,
                  grade_changes={str(k): int(v) for k, v in grade_changes.items()})
