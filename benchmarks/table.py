"""One row of `make bench`'s table, and the table itself (printed and written to results/latest.json)."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

COLUMNS = ("benchmark", "size", "cold", "warm p50", "warm p95", "bytes", "baseline", "ratio", "target", "result")


def pct(xs, q: float) -> float:
    """The q-th percentile by nearest rank (p95 of 10 calls is the largest but one... rounded up)."""
    xs = sorted(xs)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, max(0, math.ceil(q / 100 * len(xs)) - 1))]


@dataclass
class Row:
    benchmark: str
    size: int | None = None          # units
    cold: float | None = None        # ms
    warm_p50: float | None = None    # ms
    warm_p95: float | None = None    # ms
    bytes: int | None = None         # response bytes (compressed)
    baseline: float | None = None    # ms (or the unit named in ``target``)
    ratio: float | None = None       # baseline ÷ measured (speed-up), or as ``target`` says
    target: str = ""
    ok: bool | None = None           # None: information only
    extra: dict = field(default_factory=dict)

    def cells(self) -> list[str]:
        def ms(v):
            return "" if v is None or v != v else (f"{v / 1000:.2f} s" if v >= 10_000 else f"{v:.0f} ms")

        def size(b):
            return "" if b is None else (f"{b / 1e6:.2f} MB" if b >= 1e6 else f"{b / 1e3:.1f} KB")

        return [self.benchmark, "" if self.size is None else f"{self.size:,}", ms(self.cold), ms(self.warm_p50),
                ms(self.warm_p95), size(self.bytes), self.extra.get("baseline_text") or ms(self.baseline),
                "" if self.ratio is None else f"{self.ratio:.1f}×", self.target,
                "" if self.ok is None else ("PASS" if self.ok else "FAIL")]

    def line(self) -> str:
        return " | ".join(c for c in self.cells() if c)


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)  # CJK characters take two columns


def render(rows: list[Row]) -> str:
    table = [list(COLUMNS)] + [r.cells() for r in rows]
    widths = [max(_width(r[i]) for r in table) for i in range(len(COLUMNS))]
    out = []
    for k, r in enumerate(table):
        out.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def write_json(rows: list[Row], path: Path, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)

    def clean(v):
        if isinstance(v, float) and v != v:
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    path.write_text(json.dumps({"meta": meta, "rows": [clean(asdict(r)) for r in rows]}, ensure_ascii=False,
                               indent=1), encoding="utf-8")
