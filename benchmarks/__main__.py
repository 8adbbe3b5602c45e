"""`make bench`: one table of every benchmark, written to benchmarks/results/latest.json.

Rows: every page at 40 / 1,000 / 10,000 units (cold, warm, compressed bytes), load-and-score on
SQLite and PostgreSQL, the engine against its per-unit reference loop, intake of a 2,000-unit file,
the 1,000 → 10,000 scaling, the app shell's first- and repeat-visit transfer and the peak memory.
Each timed row has a baseline measured in the same run (see each module's docstring), because the
machine is shared and absolute times are noisy.

Environment: BENCH_SIZES (default "40,1000,10000"), BENCH_WARM (default 10), BENCH_COLD (default 2),
BENCH_PG (default 1: also PostgreSQL), BENCH_PG_SIZES (default "10000").
"""
from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.table import Row, pct, render, write_json

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
RSS_LIMIT = 1 << 30  # 1 GiB per worker
SCALING_LIMIT = 12.0


def _sizes(name: str, default: str) -> list[int]:
    return [int(x) for x in os.environ.get(name, default).split(",") if x.strip()]


def engine_row(n_units: int = 10_000) -> Row:
    """score() on generated frames (no database) against the per-unit loop of bench_scoring."""
    from benchmarks import bench_scoring as bs
    from scoring.indicators import default_table

    table = default_table()
    evidence, units, adjustments = bs.generate(table, n_units)
    t0 = time.perf_counter()
    result = bs.score(table, evidence, units, "year", adjustments)
    cold = (time.perf_counter() - t0) * 1000
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = bs.score(table, evidence, units, "year", adjustments)
        warm.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    ref = bs.run_reference(table, evidence, units, "year", adjustments)
    loop = (time.perf_counter() - t0) * 1000
    agree = all(c.ok for c in bs.compare(result, ref))
    ratio = loop / pct(warm, 50)
    return Row("评分引擎 score()（对照逐单位循环）", n_units, cold=cold, warm_p50=pct(warm, 50), warm_p95=pct(warm, 95),
               baseline=loop, ratio=ratio, target="≤500 ms, ≥30×, 结果一致",
               ok=agree and pct(warm, 95) <= 500 and ratio >= 30, extra={"agrees": agree})


def intake_row(n_units: int = 2000) -> list[Row]:
    from benchmarks import bench_intake

    r = bench_intake.run(n_units, repeat=2)
    return [
        Row("上传：解析并校验", n_units, warm_p50=r["parse"] * 1000, bytes=r["file_bytes"],
            baseline=r["openpyxl"] * 1000, ratio=r["openpyxl"] / r["calamine"],
            target="≤2 s（基线：openpyxl 读表；比值 = openpyxl÷calamine）", ok=r["parse"] <= 2.0,
            extra={"cells": r["cells"]}),
        Row("上传：预览（含评分影响）", n_units, warm_p50=r["preview"] * 1000, target="信息", ok=None),
        Row("上传：提交（一个事务）", n_units, warm_p50=r["commit"] * 1000, target="≤2 s", ok=r["commit"] <= 2.0),
    ]


def main() -> int:
    from benchmarks import bench_load, bench_pages

    started = time.perf_counter()
    sizes = _sizes("BENCH_SIZES", "40,1000,10000")
    warm_reps = int(os.environ.get("BENCH_WARM", "10"))
    cold_reps = int(os.environ.get("BENCH_COLD", "2"))
    rows: list[Row] = []
    by_size: dict[int, dict[str, Row]] = {}

    print("== 页面（Flask test client，经 Dash 路由回调；响应按 br 压缩计）", flush=True)
    app = bench_pages.make_app()
    for n in sizes:
        print(f"-- {n:,} units", flush=True)
        # At 10,000 units one cold call is seconds of database reading: one per page keeps the run short.
        page_rows = bench_pages.page_rows(app, n, cold_reps if n < 10_000 else 1, warm_reps)
        rows += page_rows
        by_size[n] = {r.benchmark: r for r in page_rows}
        db = bench_pages.database(n)
        load = bench_load.load_rows(db, "SQLite", n)
        rows.append(load)
        by_size[n]["load"] = load
        print(f"  {load.line()}", flush=True)

    transfer = bench_pages.transfer(app)
    rows.append(Row("首次访问传输（HTML+JS+CSS）", bytes=transfer["first_visit_bytes"],
                    baseline=None, target="信息（未压缩 %.1f MB）" % (transfer["first_visit_uncompressed"] / 1e6),
                    extra=transfer))
    rows.append(Row("再次访问传输（浏览器缓存）", bytes=transfer["repeat_visit_bytes"],
                    target=f"{transfer['cached_for_a_year']}/{transfer['files']} 个文件缓存一年", ok=None))

    if 1000 in by_size and 10_000 in by_size:
        for key, label in (("load", "读取并评分"), ("排名总览 /", "排名总览 冷启动"), ("差距分析 /gaps", "差距分析 冷启动")):
            a, b = by_size[1000].get(key), by_size[10_000].get(key)
            if a and b and a.cold and b.cold:
                r = b.cold / a.cold
                rows.append(Row(f"规模 1,000→10,000：{label}", 10_000, cold=b.cold, baseline=a.cold, ratio=r,
                                target="≤12×", ok=r <= SCALING_LIMIT))

    if os.environ.get("BENCH_PG", "1") == "1":
        print("== PostgreSQL", flush=True)
        rows += bench_load.postgres_rows(_sizes("BENCH_PG_SIZES", "10000"))

    print("== 评分引擎", flush=True)
    rows.append(engine_row())
    print(f"  {rows[-1].line()}", flush=True)
    print("== 活动记录计数（10,000 个单位 × 200 条）", flush=True)
    from benchmarks import bench_records

    rows.append(bench_records.row())
    print(f"  {rows[-1].line()}", flush=True)
    print("== 上传 2,000 个单位", flush=True)
    rows += intake_row()

    print("== 单个应用进程的峰值内存", flush=True)
    out = subprocess.run([sys.executable, "-m", "benchmarks.worker_rss", str(max(sizes))], capture_output=True,
                         text=True, timeout=1200, cwd=Path(__file__).resolve().parent.parent)
    try:
        peak = int(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print(out.stdout[-2000:], out.stderr[-2000:])
        peak = None
    suite = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rows.append(Row("峰值内存（一个应用进程打开全部页面）", max(sizes), bytes=peak, target="≤1 GiB/worker",
                    ok=peak is not None and peak <= RSS_LIMIT, extra={"bench_process_peak_bytes": suite}))
    elapsed = time.perf_counter() - started
    print()
    print(render(rows))
    print(f"\ncold = 清空缓存后的 p95（{cold_reps} 次，10,000 个单位时 1 次）；warm = 缓存命中时 {warm_reps} 次的 p50/p95；"
          "页面的 baseline = 每次都从数据库重算（冷启动中位数），ratio = baseline ÷ warm p95；"
          "读取并评分的 baseline = 逐行 ORM 对象读取 + score()。")
    cpu = [f"{r.benchmark.split()[0]} {r.extra['warm_cpu_p95_ms']:.0f}" for r in rows
           if r.size == max(sizes) and "warm_cpu_p95_ms" in r.extra]
    if cpu:
        print(f"{max(sizes):,} 个单位热缓存的服务器 CPU 时间 p95（ms，不含等待 CPU 的排队）：" + "，".join(cpu))
    print(f"首次访问 {transfer['first_visit_bytes'] / 1e6:.2f} MB（未压缩 {transfer['first_visit_uncompressed'] / 1e6:.2f} MB），"
          f"再次访问 {transfer['repeat_visit_bytes'] / 1e3:.1f} KB。")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared); "
          f"total {elapsed:.0f} s")
    write_json(rows, RESULTS, {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                               "python": sys.version.split()[0], "cpus": os.cpu_count(), "seconds": elapsed,
                               "sizes": sizes})
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    failed = [r.benchmark for r in rows if r.ok is False]
    if failed:
        print("FAIL:", "；".join(dict.fromkeys(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
