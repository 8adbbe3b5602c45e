"""Load-and-score: ``services.score_period`` with the cache cleared (read the period's units, evidence
and adjustments from the database, then ``scoring.engine.score``), on SQLite and PostgreSQL.

Baseline, run alongside: the naive load the issue measured (every current evidence row as an ORM
object, turned into a frame row by row) plus the same score() call.
cold: nothing in memory and nothing in the shared store (``stored_results``); ``extra`` also has the CPU
time of those runs and the time another worker takes to load the stored result.
Target: ≤ 1 s at 10,000 units (issue 15 item 1).
"""
from __future__ import annotations

import time

import pandas as pd

from benchmarks.table import Row, pct

PERIOD = "2026H1"
TARGET_MS = 1000.0


def naive_load_and_score(db) -> float:
    from sqlalchemy import select

    from data import repo
    from data.models import EvidenceValue, OrgUnit
    from scoring.engine import score

    t0 = time.perf_counter()
    with db.session() as s:
        p = repo.get_period(s, PERIOD)
        codes = dict(s.execute(select(OrgUnit.id, OrgUnit.code)).all())
        rows = [{"unit": codes[e.unit_id], "field": e.field, "value": e.value}
                for e in s.scalars(select(EvidenceValue).where(EvidenceValue.period_id == p.id,
                                                               EvidenceValue.superseded_at.is_(None)))]
        ev = pd.DataFrame(rows, columns=["unit", "field", "value"])
        units = repo.units_frame(s, p)
        adj = repo.adjustments_frame(s, p.id)
        table, kind = repo.table_for(p), p.kind
    score(table, ev, units[["unit", "name", "category"]], kind, adj)
    return (time.perf_counter() - t0) * 1000


def load_rows(db, label: str, n_units: int, cold_reps: int = 2, warm_reps: int = 10) -> Row:
    from data import columnar, services

    columnar.preload(db.url)  # as the server does when it starts (app.use_database)
    cold, cpu, shared = [], [], []
    for _ in range(cold_reps):
        services.clear_cache(db, stored=True)  # nothing in memory, nothing stored: read and score
        t0, c0 = time.perf_counter(), time.process_time()
        services.score_period(PERIOD, db)
        cold.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        services.clear_cache()  # another worker: loads what this one stored
        t0 = time.perf_counter()
        services.score_period(PERIOD, db)
        shared.append((time.perf_counter() - t0) * 1000)
    warm = []
    for _ in range(warm_reps):
        t0 = time.perf_counter()
        services.score_period(PERIOD, db)
        warm.append((time.perf_counter() - t0) * 1000)
    base = naive_load_and_score(db)
    return Row(f"读取并评分 score_period（{label}）", n_units, cold=pct(cold, 95), warm_p50=pct(warm, 50),
               warm_p95=pct(warm, 95), baseline=base, ratio=base / pct(cold, 95), target="cold ≤ 1 s",
               ok=pct(cold, 95) <= TARGET_MS, extra={"cold_runs_ms": cold, "cold_cpu_ms": cpu,
                                                      "load_from_shared_store_ms": shared})


def postgres_rows(sizes: list[int]) -> list[Row]:
    """The same on a throwaway PostgreSQL cluster, seeded at each size (seeding is not timed)."""
    from benchmarks.pg import cluster, settle
    from data.db import Database
    from data.demo import seed_database

    rows = []
    for n in sizes:
        with cluster() as url:
            if url is None:
                return [Row("读取并评分 score_period（PostgreSQL）", n, target="PostgreSQL 未安装，跳过")]
            db = Database(url)
            db.upgrade()
            t0 = time.perf_counter()
            seed_database(db, n_units=n)
            settle(db)
            print(f"  seeded PostgreSQL with {n} units in {time.perf_counter() - t0:.1f} s", flush=True)
            rows.append(load_rows(db, "PostgreSQL", n))
            print(f"  {rows[-1].line()}", flush=True)
            db.dispose()
    return rows
