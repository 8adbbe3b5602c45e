"""Properties of the engine over generated evidence (hypothesis), on the default table."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.engine import score
from scoring.indicators import default_table

TABLE = default_table()
FIELDS = list(TABLE.evidence_fields)
VETO_FIELDS = [f for i in TABLE.veto for f in i.fields]
COUNT_ITEMS = [i for i in TABLE.items if i.rule == "count_target"]
SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def value_for(name: str):
    f = TABLE.fields[name]
    if f.kind == "bool":
        good = st.sampled_from([0.0, 1.0])
    elif f.kind == "percent":
        good = st.floats(0, 120, allow_nan=False)
    else:
        good = st.integers(0, 30).map(float) | st.floats(0, 40, allow_nan=False)
    odd = st.sampled_from([None, float("nan"), -1.0, -0.5, float("inf")])
    return st.one_of(good, good, good, odd)


def unit_evidence(veto: bool = False):
    fields = {f: value_for(f) for f in FIELDS if f not in VETO_FIELDS or not veto}
    return st.fixed_dictionaries(fields)


def frames(rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    recs = [(f"U{k}", f, v) for k, d in enumerate(rows) for f, v in d.items() if v is not None]
    ev = pd.DataFrame(recs, columns=["unit", "field", "value"])
    units = pd.DataFrame({"unit": [f"U{k}" for k in range(len(rows))], "name": "x",
                          "category": [("甲", "乙")[k % 2] for k in range(len(rows))]})
    return ev, units


judged = st.lists(st.tuples(st.sampled_from(["F2", "G2", "G4"]), st.floats(-2, 6, allow_nan=False)), max_size=3)
period = st.sampled_from(["H1", "year"])


@SETTINGS
@given(st.lists(unit_evidence(), min_size=1, max_size=6), period, judged)
def test_points_stay_within_zero_and_the_maximum(rows, kind, js):
    ev, units = frames(rows)
    adj = pd.DataFrame([("U0", i, "judgement", p) for i, p in js], columns=["unit", "item", "kind", "points"])
    res = score(TABLE, ev, units, kind, adj)
    it = res.items
    pts, mx = it["points"].to_numpy(), it["max"].to_numpy()
    assert not np.isnan(pts).any()
    assert (pts >= 0).all() and (pts <= mx + 1e-12).all()
    base = it[it["kind"] == "base"]
    full = base["item"].map({i.code: i.points for i in TABLE.items}).to_numpy(float)
    assert ((base["max"].to_numpy() == 0) | (base["max"].to_numpy() == full)).all()
    u = res.units
    assert ((u["bonus"] >= 0) & (u["bonus"] <= TABLE.bonus_cap)).all()
    assert (u["raw_points"] <= u["raw_max"] + 1e-9).all()


@SETTINGS
@given(unit_evidence(), st.sampled_from(COUNT_ITEMS), st.integers(0, 20), st.integers(1, 10), period)
def test_more_meetings_never_lower_a_count_target_item(row, it, n, more, kind):
    field = it.fields[0]
    rows = [dict(row, **{field: float(n)}), dict(row, **{field: float(n + more)})]
    ev, units = frames(rows)
    res = score(TABLE, ev, units, kind)
    items = res.items[res.items["item"] == it.code].set_index("unit")
    assert items.loc["U1", "points"] >= items.loc["U0", "points"]
    u = res.units.set_index("unit")
    assert u.loc["U1", "total"] >= u.loc["U0", "total"] or (math.isnan(u.loc["U0", "total"]))


@SETTINGS
@given(unit_evidence(veto=True), st.sampled_from(VETO_FIELDS), st.sampled_from([1.0, 2.0, 0.5]), period)
def test_a_veto_always_yields_the_veto_grade(row, field, v, kind):
    ev, units = frames([dict(row, **{field: v})])
    u = score(TABLE, ev, units, kind).unit("U0")
    assert u["veto"] and u["grade"] == TABLE.veto_grade
    assert u["rank"] == 1


@SETTINGS
@given(st.lists(unit_evidence(), min_size=1, max_size=5), st.lists(st.integers(0, 4), max_size=4), period)
def test_tied_totals_share_a_rank(rows, copies, kind):
    rows = rows + [rows[c % len(rows)] for c in copies]  # exact copies tie for sure
    ev, units = frames(rows)
    u = score(TABLE, ev, units, kind).units
    total = u["total"].to_numpy()
    for t, r in zip(total, u["rank"]):
        if math.isnan(t):
            continue
        assert r == 1 + int((total > t).sum())  # standard competition ranking
    for c in copies:
        k = len(rows) - len(copies) + copies.index(c)
        assert u["rank"].iloc[k] == u["rank"].iloc[c % (len(rows) - len(copies))]


@SETTINGS
@given(st.lists(unit_evidence(), min_size=1, max_size=6), period,
       st.lists(st.sampled_from([i.code for i in TABLE.items]), max_size=10))
def test_with_not_applicable_items_the_base_stays_within_the_total(rows, kind, na_codes):
    rows = [dict(r, has_groups=0.0, recruit_plan=0.0) if k % 2 == 0 else r for k, r in enumerate(rows)]
    ev, units = frames(rows)
    adj = pd.DataFrame([("U0", c, "not_applicable", np.nan) for c in na_codes],
                       columns=["unit", "item", "kind", "points"])
    u = score(TABLE, ev, units, kind, adj).units
    base = u["base"].dropna()
    assert ((base >= 0) & (base <= TABLE.total + 1e-9)).all()
    assert ((u["total"].dropna() <= TABLE.total + TABLE.bonus_cap + 1e-9)).all()
