"""The records benchmark runs at a small size and measures what it says: the same frames scored with and
without records, the records counted as a plain loop counts them."""
from __future__ import annotations

import pandas as pd

from benchmarks import bench_records
from scoring.indicators import default_table


def test_bench_records_runs_small_and_its_records_are_what_derive_counts():
    r = bench_records.run(n_units=40, per_unit=30, repeat=1)
    assert r["records"] == 1200 and r["plain"] > 0 and r["with_records"] > 0
    assert r["record_rows"] > 0 and bench_records.main(["--units", "20", "--per-unit", "10", "--repeat", "1"]) in (0, 1)


def test_generated_records_follow_the_records_frame_contract():
    t = default_table()
    units = pd.Series([f"U{i}" for i in range(5)])
    df = bench_records.generate_records(t, units, 7)
    assert list(df.columns) == ["unit", "type", "held_on", "expected", "attended"] and len(df) == 35
    assert set(df["type"].astype(str)) <= {f.from_records for f in t.fields.values() if f.from_records}
    assert df["held_on"].min() >= pd.Timestamp("2026-01-01") and df["held_on"].max() <= pd.Timestamp("2026-12-31")
    assert (df.groupby("unit", observed=True).size() == 7).all()
