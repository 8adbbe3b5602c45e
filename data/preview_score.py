"""The score impact of an upload preview without re-scoring the whole period.

A preview shows, for the units a file touches and the units whose rank moves, the total, rank and
grade before and after. At 10,000 units re-scoring the period for a 4-unit file took seconds (and,
after every commit, re-read half a million current values first). Here only the touched units are
scored — by the same ``scoring.engine.score`` — against their own current values read from the
database, and put in place of their rows in the period's stored result; ranks are then recomputed
over every unit (standard competition ranking, as the engine ranks).

That is exact when a unit's total and grade depend on its own data only. Two table features make
them depend on the other units: items scored by rank (rule ``rank``) and grade quotas
(``max_pct`` / ``min_pct``). For such tables ``units_after`` re-scores the whole period
(``services.score_with_changes``), as before.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from data import repo, services
from data.db import Database
from data.models import OrgUnit
from scoring.engine import score
from scoring.indicators import IndicatorTable

AFTER_COLUMNS = ["unit", "name", "total", "rank", "grade"]


def unit_local(table: IndicatorTable) -> bool:
    """True when every unit's total and grade depend on its own data only (see the module docstring)."""
    return (not any(it.rule == "rank" for it in table.items)
            and not any(gr.max_pct is not None or gr.min_pct is not None for gr in table.grades))


def current_values(db: Database, period_id: int, unit_codes) -> pd.DataFrame:
    """Current (unit, field, value) of the given units only (indexed reads, not the whole period)."""
    codes = sorted({str(c) for c in unit_codes})
    if not codes:
        return pd.DataFrame({"unit": pd.Series([], dtype="str"), "field": pd.Series([], dtype="str"),
                             "value": pd.Series([], dtype=float)})
    with db.session() as s:
        ids = list(s.scalars(select(OrgUnit.id).where(OrgUnit.code.in_(codes))))
        return repo.evidence_frame(s, period_id, ids)


def _replace(current: pd.DataFrame, new_values: pd.DataFrame) -> pd.DataFrame:
    """``current`` with the (unit, field) cells of ``new_values`` replaced (NaN value: cleared)."""
    nv = new_values[["unit", "field", "value"]].astype({"value": float})
    keys = pd.MultiIndex.from_frame(nv[["unit", "field"]].astype(str))
    keep = ~pd.MultiIndex.from_frame(current[["unit", "field"]].astype(str)).isin(keys)
    return pd.concat([current[keep], nv], ignore_index=True)


def units_after(period_code: str, period_id: int, new_values: pd.DataFrame, current: pd.DataFrame,
                db: Database) -> pd.DataFrame:
    """(unit, name, total, rank, grade) of every scored unit as if ``new_values`` were committed.

    ``current``: the current values of (at least) the units of ``new_values``, as ``current_values`` reads
    them. Stores nothing.
    """
    inp = services.scoring_inputs(period_code, db)
    if not unit_local(inp.table):
        return services.score_with_changes(period_code, new_values, db).units[AFTER_COLUMNS]
    touched = set(new_values["unit"].astype(str))
    before = services.score_period(period_code, db).units
    ev = _replace(current[current["unit"].astype(str).isin(touched)], new_values)
    adj = inp.adjustments[inp.adjustments["unit"].astype(str).isin(touched)]
    overrides = inp.overrides
    if overrides is not None and len(overrides):
        overrides = overrides[overrides["unit"].astype(str).isin(touched)]
    units = services.units_with_data(inp.units[inp.units["unit"].astype(str).isin(touched)], ev, adj)
    part = score(inp.table, ev, units[services.UNIT_COLUMNS], inp.period.kind, adj, overrides).units
    rest = before[~before["unit"].astype(str).isin(touched)]
    after = pd.concat([rest[AFTER_COLUMNS], part[AFTER_COLUMNS]], ignore_index=True)
    # The engine's ranking: highest total first, ties share the best rank, no total ranks last.
    after["rank"] = after["total"].round(10).rank(method="min", ascending=False, na_option="bottom").astype("int64")
    return after
