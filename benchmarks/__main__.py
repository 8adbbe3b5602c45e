"""`make bench`: every benchmark, each printing its timings and the ratio against a naive baseline run alongside."""
import importlib
import sys
import time

MODULES = ["benchmarks.bench_scoring", "benchmarks.bench_intake", "benchmarks.bench_pages", "benchmarks.bench_results"]


def main() -> int:
    failed = []
    for name in MODULES:
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(name)
            rc = mod.main() if hasattr(mod, "main") else 0
        except ModuleNotFoundError as exc:
            print(f"skipped: {exc}")
            continue
        if rc:
            failed.append(name)
        print(f"({time.perf_counter() - t0:.1f} s)")
    if failed:
        print("benchmarks missing their targets:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
