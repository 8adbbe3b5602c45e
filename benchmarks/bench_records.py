"""Benchmark: what counting activity records adds to a cold score.

Run from the repository root: ``python -m benchmarks.bench_records [--units N] [--per-unit R]``
(default 10,000 units × 200 records each = 2,000,000 records). Generates the default table's
evidence as ``bench_scoring`` does, plus R records per unit (the table's activity types, dates
over the year, attendance with some blanks and some below 80 %), then in one run scores the same
frames without records and with them (``record_source="records"``: every from_records field
derived, regularity checked), each the first call on its frames (best of ``--repeat`` runs), and
prints both times, their difference and ratio, and the derivation alone
(``scoring.records.derive``). Target (issue 16): the records add at most 1 s. ``main()`` returns
0 when the target is met.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

import numpy as np
import pandas as pd

from scoring.engine import score
from scoring.indicators import IndicatorTable, default_table
from scoring.records import derive

TARGET_EXTRA_SECONDS = 1.0
SPAN = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def generate_records(table: IndicatorTable, units: pd.Series, per_unit: int, seed: int = 16) -> pd.DataFrame:
    """``per_unit`` records for every unit, as ``data.repo.records_frame`` returns them (categorical unit
    and type, datetime64 dates, float attendance with NaN for blanks), ordered by unit like the read."""
    rng = np.random.default_rng(seed)
    codes = pd.Index(units.to_numpy(object))
    n = len(codes) * per_unit
    types = sorted({f.from_records for f in table.fields.values() if f.from_records}) or list(table.activity_types)
    unit_codes = np.repeat(np.arange(len(codes), dtype=np.int32), per_unit)
    held = np.datetime64("2026-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")
    expected = rng.integers(3, 40, n).astype(float)
    attended = np.floor(expected * rng.uniform(0.6, 1.0, n))
    expected[rng.random(n) < 0.05] = np.nan
    attended[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({
        "unit": pd.Categorical.from_codes(unit_codes, categories=codes),
        "type": pd.Categorical.from_codes(rng.integers(0, len(types), n).astype(np.int16), categories=types),
        "held_on": held.astype("datetime64[ns]"), "expected": expected, "attended": attended})


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(n_units: int = 10_000, per_unit: int = 200, repeat: int = 2) -> dict:
    from benchmarks.bench_scoring import generate

    table = default_table()
    evidence, units, adjustments = generate(table, n_units)
    records = generate_records(table, units["unit"], per_unit)

    # The engine never changes its inputs and keeps nothing between calls (only the formatting of
    # numbers is memoised): one small call first, so neither side pays the import and first-use costs.
    small = units.iloc[:50]
    score(table, evidence, small, "year", adjustments, records=records, span=SPAN, record_source="records")

    def plain():
        return score(table, evidence, units, "year", adjustments)

    def with_records():
        return score(table, evidence, units, "year", adjustments, records=records, span=SPAN,
                     record_source="records")

    t_plain, _ = _best(plain, repeat)
    t_records, res = _best(with_records, repeat)
    fields = {n: f for n, f in table.fields.items() if f.from_records}
    t_derive, _ = _best(lambda: derive(records, pd.Index(units["unit"].to_numpy(object)), fields, SPAN), repeat)
    return {"units": n_units, "records": len(records), "plain": t_plain, "with_records": t_records,
            "extra": t_records - t_plain, "ratio": t_records / t_plain, "derive": t_derive,
            "record_rows": len(res.record_counts)}


def row(n_units: int = 10_000, per_unit: int = 200):
    """The line of ``make bench``'s table."""
    from benchmarks.table import Row

    r = run(n_units, per_unit)
    return Row(f"活动记录计数（每单位 {per_unit} 条，共 {r['records']:,} 条）", n_units, cold=r["with_records"] * 1000,
               baseline=r["plain"] * 1000, ratio=r["ratio"], target="增加 ≤1 s（基线：同一数据不含活动记录）",
               ok=r["extra"] <= TARGET_EXTRA_SECONDS,
               extra={"extra_ms": r["extra"] * 1000, "derive_ms": r["derive"] * 1000})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--per-unit", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args(argv)
    r = run(a.units, a.per_unit, a.repeat)
    print(f"{r['units']:,} 个单位 × {a.per_unit} 条 = {r['records']:,} 条活动记录")
    print(f"  score() 不含活动记录   {r['plain'] * 1000:8.0f} ms")
    print(f"  score() 含活动记录     {r['with_records'] * 1000:8.0f} ms（record_counts {r['record_rows']:,} 行）")
    print(f"  增加                   {r['extra'] * 1000:8.0f} ms（比值 {r['ratio']:.2f}×；目标 ≤ "
          f"{TARGET_EXTRA_SECONDS * 1000:.0f} ms）")
    print(f"  其中 derive() 单独     {r['derive'] * 1000:8.0f} ms")
    ok = r["extra"] <= TARGET_EXTRA_SECONDS
    print("达标" if ok else "未达标")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
