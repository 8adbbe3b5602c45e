"""Benchmark: the vectorised engine against a plain per-unit Python loop.

Run from the repository root: ``python -m benchmarks.bench_scoring [--units N] [--period year|H1]``.
Generates N units (default 10,000) × every evidence field of the default table
with a seeded numpy generator (blanks, negative values, 不适用 gates, vetoes,
inspector judgements, deductions and 不适用 markings included), times
``scoring.engine.score`` (best of 3) and a straightforward reference loop over
units written with dicts only, checks that both give the same totals (to 1e-9)
and grades, and prints both times and the ratio; then times the use cases built on
the result (``area_gaps``, ``grade_gaps``, ``shortlist``). ``main()`` returns 0
only when the results agree and both targets (≤ 0.5 s, ≥ 30×) are met.

The reference loop is deliberately independent of ``scoring.rules``: it is a
second implementation of the rules in docs/rules.md, so agreement means
something. It computes totals and grades only (no explanation text).
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import pandas as pd

from scoring.candidates import shortlist
from scoring.engine import score
from scoring.gaps import area_gaps, grade_gaps
from scoring.indicators import IndicatorTable, default_table

TARGET_SECONDS = 0.5
TARGET_SPEEDUP = 30.0


# ---------------------------------------------------------------- data
def generate(table: IndicatorTable, n_units: int, seed: int = 2026):
    """Tidy evidence, units and adjustments for ``n_units`` synthetic units."""
    rng = np.random.default_rng(seed)
    codes = np.array([f"U{i:05d}" for i in range(n_units)], dtype=object)
    cats = np.array(["市局机关支部", "县局支部", "直属单位支部"], dtype=object)
    units = pd.DataFrame({"unit": codes, "name": [f"第{i}党支部" for i in range(n_units)],
                          "category": cats[rng.integers(0, 3, n_units)]})
    cols = {}
    for name, f in table.fields.items():
        if f.kind == "bool":
            p = 0.02 if name in ("serious_violation", "ideology_incident", "major_accident") else (
                0.8 if name == "has_groups" else 0.85)
            v = (rng.random(n_units) < p).astype(float)
        elif f.kind == "percent":
            v = np.minimum(100, rng.integers(40, 111, n_units)).astype(float)
        elif name.startswith(("articles", "honours", "excellent", "innovation")):
            v = rng.poisson(0.6, n_units).astype(float)
        elif name in ("record_errors", "ledger_defects"):
            v = rng.poisson(1.2, n_units).astype(float)
        elif name == "recruit_plan":
            v = rng.integers(0, 4, n_units).astype(float)
        elif name == "recruit_done":
            v = rng.integers(0, 4, n_units).astype(float)
        elif f.kind == "hours":
            v = rng.integers(0, 40, n_units).astype(float) + rng.choice([0, 0.5], n_units)
        else:
            v = rng.poisson(9 if "meeting" in name or name in ("study_sessions", "theme_days") else 2.5,
                            n_units).astype(float)
        blank = rng.random(n_units) < 0.02
        v[blank] = np.nan
        negative = rng.random(n_units) < 0.002
        v[negative] = -1.0
        cols[name] = v
    evidence = pd.DataFrame({
        "unit": np.repeat(codes, len(cols)),
        "field": np.tile(np.array(list(cols), dtype=object), n_units),
        "value": np.column_stack(list(cols.values())).ravel(),
    })
    evidence = evidence[evidence["value"].notna() | (rng.random(len(evidence)) < 0.5)]  # absent or NaN
    manual = [i.code for i in table.items if i.rule == "manual"]
    rows = []
    for code in manual:
        judged = rng.random(n_units) < 0.95
        pts = np.round(rng.uniform(-0.5, table.item(code).points + 0.5, n_units) * 2) / 2
        rows.append(pd.DataFrame({"unit": codes[judged], "item": code, "kind": "judgement",
                                  "points": pts[judged], "reason": "现场评定", "by": "考核组"}))
    base_codes = np.array([i.code for i in table.items if i.rule != "manual"], dtype=object)
    k = n_units // 5
    rows.append(pd.DataFrame({"unit": codes[rng.integers(0, n_units, k)],
                              "item": base_codes[rng.integers(0, len(base_codes), k)], "kind": "deduction",
                              "points": rng.choice([0.5, 1.0, 2.5], k), "reason": "台账不全", "by": "考核组"}))
    k = n_units // 50
    rows.append(pd.DataFrame({"unit": codes[rng.integers(0, n_units, k)],
                              "item": base_codes[rng.integers(0, len(base_codes), k)], "kind": "not_applicable",
                              "points": np.nan, "reason": "无此项工作", "by": "考核组"}))
    adjustments = pd.concat(rows, ignore_index=True)
    return evidence.reset_index(drop=True), units, adjustments


# ---------------------------------------------------------------- reference
def reference(table: IndicatorTable, records, unit_rows, half: bool, adjustment_rows):
    """Totals and grades by a per-unit loop over dicts; the rules as docs/rules.md states them."""
    fields = table.fields
    ev: dict = {}
    for u, f, v in records:
        if v == v:  # not NaN: the last non-blank value counts
            ev.setdefault(u, {})[f] = v
    judge, ded, na = {}, {}, set()
    for u, item, kind, pts in adjustment_rows:
        if kind == "judgement" and pts == pts:
            judge[(u, item)] = pts
        elif kind == "deduction" and pts == pts and pts > 0 and math.isfinite(pts):
            ded[(u, item)] = ded.get((u, item), 0.0) + pts
        elif kind == "not_applicable":
            na.add((u, item))

    def valid(d, f):
        v = d.get(f)
        if v is None or v != v:
            return None, False
        if math.isinf(v) or (v < 0 and fields[f].kind != "number"):
            return None, True
        return round(v, 9), False

    params = {it.code: it.params_for(half) for it in table.items}  # once per item, not per unit
    out = {}
    for u, _name, _cat in unit_rows:
        d = ev.get(u, {})
        raw_points = raw_max = 0.0
        for it in table.items:
            if half and it.period == "annual":
                continue
            if (u, it.code) in na:
                continue
            p = params[it.code]
            full = it.points
            if it.rule == "manual":
                j = judge.get((u, it.code))
                if j is None:
                    raw_max += full
                    continue
                got = min(max(j, 0.0), full)
            else:
                vals, bad = [], False
                for f in it.fields:
                    v, b = valid(d, f)
                    vals.append(v)
                    bad = bad or b
                gate = it.not_applicable_when
                if gate:
                    gv, gb = valid(d, gate["field"])
                    if gv is not None and gv == gate.get("equals", 0):
                        continue
                    if gv is None:
                        raw_max += full
                        continue
                if bad or any(v is None for v in vals):
                    raw_max += full
                    continue
                v = vals[0]
                if it.rule == "count_target":
                    short = max(0.0, math.ceil(round(p["target"] - math.floor(v), 9)))
                    got = max(0.0, full - short * p["per_miss"])
                elif it.rule == "ratio":
                    den = p["target"] if "target" in p else vals[1]
                    got = full if den <= 0 else min(v * full / den, full)
                elif it.rule == "stepped":
                    gap = p["full_at"] - v
                    steps = math.ceil(round(gap / p["step"], 9)) if gap > 0 else 0
                    got = max(0.0, full - steps * p["per_step"])
                elif it.rule == "tiered":
                    got = 0.0
                    for t, tp in p["tiers"]:
                        if v >= t:
                            got = min(tp, full)
                            break
                elif it.rule == "boolean":
                    got = full if v > 0 else 0.0
                elif it.rule == "deduction":
                    got = max(0.0, full - math.ceil(v) * p["per_item"])
                else:
                    raise ValueError(it.rule)
            got = max(0.0, round(got, 10) - ded.get((u, it.code), 0.0))
            raw_points += got
            raw_max += full
        bonus = 0.0
        for it in table.bonus:
            per = it.params["per_unit"]
            s = 0.0
            for f in it.fields:
                v, _ = valid(d, f)
                rate = per.get(f, 0) if isinstance(per, dict) else per
                s += rate * (v or 0.0)
            bonus += min(s, it.cap)
        bonus = min(bonus, table.bonus_cap)
        vetoed = any((valid(d, f)[0] or 0) > 0 for it in table.veto for f in it.fields)
        base = round(raw_points * table.total / raw_max, 10) if raw_max > 0 else float("nan")
        total = round(base + bonus, 10)
        grade = table.veto_grade if vetoed else next(
            (gr.label for gr in table.grades if total >= gr.min), table.grades[-1].label)
        out[u] = (total, grade)
    return out


# ---------------------------------------------------------------- main
def best_of(n: int, fn):
    best, result = math.inf, None
    for _ in range(n):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when the results agree and both targets are met, 1 otherwise."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--period", choices=["year", "H1"], default="year")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    table = default_table()
    evidence, units, adjustments = generate(table, args.units)
    half = args.period == "H1"

    def loop():
        # The loop starts from the same DataFrames as score(), so turning them into rows is timed too.
        records = zip(evidence["unit"].tolist(), evidence["field"].tolist(), evidence["value"].tolist())
        unit_rows = zip(units["unit"].tolist(), units["name"].tolist(), units["category"].tolist())
        adj_rows = zip(adjustments["unit"].tolist(), adjustments["item"].tolist(),
                       adjustments["kind"].tolist(), adjustments["points"].tolist())
        return reference(table, records, unit_rows, half, adj_rows)

    score(table, evidence, units, args.period, adjustments)  # warm-up (imports, caches)
    t_vec, result = best_of(args.repeat, lambda: score(table, evidence, units, args.period, adjustments))
    t_loop, ref = best_of(args.repeat, loop)

    got = result.units.set_index("unit")
    want_total = np.array([ref[u][0] for u in got.index])
    want_grade = np.array([ref[u][1] for u in got.index], dtype=object)
    same_total = np.allclose(got["total"].to_numpy(), want_total, rtol=0, atol=1e-9, equal_nan=True)
    same_grade = bool((got["grade"].to_numpy(object) == want_grade).all())
    ratio = t_loop / t_vec
    fast, far = t_vec <= TARGET_SECONDS, ratio >= TARGET_SPEEDUP

    # The use cases built on a result (cheap, so timed here too).
    rng = np.random.default_rng(7)
    codes = units["unit"].to_numpy(object)
    overdue = {u: 1 for u in codes[rng.random(len(codes)) < 0.05]}
    previous = dict(zip(codes, rng.choice(["优秀", "良好", "合格"], len(codes))))
    t_area, _ = best_of(args.repeat, lambda: area_gaps(result))
    t_gap, gaps = best_of(args.repeat, lambda: grade_gaps(table, result, args.period))
    t_cand, cands = best_of(args.repeat, lambda: shortlist(table, result, "year", overdue, previous))
    below = set(got.index[got["grade_order"].to_numpy() > 0])
    gaps_cover = set(gaps["unit"]) == below

    def mark(ok: bool) -> str:
        return "met" if ok else "MISSED"

    print(f"units: {args.units:,}  items: {len(table.all_items)}  evidence rows: {len(evidence):,}  "
          f"adjustments: {len(adjustments):,}  period: {args.period}")
    print(f"score():            {t_vec * 1000:8.1f} ms  (best of {args.repeat}; "
          f"target ≤ {TARGET_SECONDS * 1000:.0f} ms: {mark(fast)})")
    print(f"per-unit loop:      {t_loop * 1000:8.1f} ms  (best of {args.repeat}; totals and grades only, no texts)")
    print(f"speed-up:           {ratio:8.1f}×  (target ≥ {TARGET_SPEEDUP:.0f}×: {mark(far)})")
    print(f"identical totals:   {same_total}  identical grades: {same_grade}  "
          f"(grades: {got['grade'].value_counts().to_dict()})")
    print(f"area_gaps():        {t_area * 1000:8.1f} ms  ({len(got) * len(table.areas):,} unit × area rows)")
    print(f"grade_gaps():       {t_gap * 1000:8.1f} ms  ({len(gaps):,} steps for {gaps['unit'].nunique():,} units; "
          f"covers every unit below the top grade: {gaps_cover})")
    print(f"shortlist():        {t_cand * 1000:8.1f} ms  ({int((cands['status'] == '候选').sum()):,} candidates, "
          f"{len(cands):,} rows; annual rules applied)")
    if not (same_total and same_grade):
        bad = np.flatnonzero(~np.isclose(got["total"].to_numpy(), want_total, rtol=0, atol=1e-9, equal_nan=True))
        print("first differences:", [(got.index[i], got["total"].iloc[i], want_total[i]) for i in bad[:5]])
        return 1
    if not gaps_cover:
        print("grade_gaps() missed units below the top grade")
        return 1
    return 0 if (fast and far) else 1


if __name__ == "__main__":
    sys.exit(main())
