"""What the page views derive from a period's score, built once per data version for every worker.

Owns ``ViewFrames``: the gap page's arrays (unit × area score rates, unit × item failures, one gap
line per unit) and the 活动规律性 rows of every unit; and the category means the branch page's radar
compares with. All three come from the score and its gap lists alone, and each took 20–140 ms per
worker and version at 10,000 units: with an upload committed every few seconds, every worker paid
them again on its next view.

So they are derived by ``build`` and ``build_means`` and shared like the score (``results_store.shared``,
kinds "views" and "means"): a small upload's commit builds them in its own transaction (``data/commit_score.py``),
otherwise the first worker to need them does; the others load them (a few ms). A published period
derives them from its snapshot, once per worker. Must not build layout or score anything.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data import frames, results_store
from data.db import Database, get_db
from scoring.gaps import area_gaps, area_rate_matrix, failed_matrix, unit_gap_summary

NO_GROUP = "（未设置）"
REGULARITY_COLUMNS = ["unit", "name", "bureau", "category", "field", "label", "activity_type", "rhythm", "typed",
                      "records", "below", "n_missing", "periods", "missing"]


@dataclass(frozen=True)
class GapFrames:
    """Everything the gap page derives from one ScoreResult (rows in ``res.units`` order)."""

    units: pd.DataFrame         # unit, name, category, bureau, total, display_order, lost
    pct: np.ndarray             # units × areas score rate (0–1, NaN where the maximum is 0)
    areas: list[str]
    area_names: dict[str, str]
    failed: np.ndarray          # units × base items: 未达标 or 缺报
    failed_items: pd.DataFrame  # item, name, area (columns of ``failed``)
    gap_units: pd.DataFrame     # unit_gap_summary, indexed by unit


@dataclass(frozen=True)
class ViewFrames:
    """The gap page's frames (kind "views"); the branch page's category means are stored apart (kind
    "means", a few hundred bytes: a branch view should not load the gap page's 600 KB)."""

    gap: GapFrames
    regularity: pd.DataFrame                 # REGULARITY_COLUMNS, every unit, most missing first


def build(inp, res, gaps: pd.DataFrame) -> ViewFrames:
    """From the period's inputs (table, units), its score and its gap lists (``services.period_gaps``)."""
    return ViewFrames(_gap_frames(inp, res, gaps), _regularity(inp, res))


def _gap_frames(inp, res, gaps: pd.DataFrame) -> GapFrames:
    meta = inp.units.set_index("unit")
    u = res.units[["unit", "name", "category", "total", "display_order"]].copy()
    u["category"] = u["category"].fillna(NO_GROUP).replace("", NO_GROUP)
    u["bureau"] = u["unit"].map(meta["bureau"]).fillna(NO_GROUP).replace("", NO_GROUP).to_numpy(object)
    lost = area_gaps(res).groupby("unit", sort=False)["lost"].sum()
    u["lost"] = u["unit"].map(lost).fillna(0.0).to_numpy(float)
    pct, areas = area_rate_matrix(res)
    failed, items = failed_matrix(res, inp.table)
    return GapFrames(u.reset_index(drop=True), pct, areas, {a.code: a.name for a in inp.table.areas},
                     failed, items, unit_gap_summary(gaps).set_index("unit"))


def build_means(res) -> dict[str, pd.DataFrame]:
    """category → (area, category_pct): the mean score rate of the category's units per area."""
    a = res.areas[["unit", "area", "pct"]].merge(res.units[["unit", "category"]], on="unit")
    means = a.groupby(["category", "area"], sort=False)["pct"].mean().rename("category_pct").reset_index()
    return {c: g[["area", "category_pct"]].reset_index(drop=True) for c, g in means.groupby("category")}


def field_label(table, name: str) -> str:
    """A field's Chinese label in ``table`` (its name when it has none)."""
    f = table.fields.get(name)
    return getattr(f, "label", None) or name


def _regularity(inp, res) -> pd.DataFrame:
    """Units × fields with at least one month/quarter without a valid record, most missing first."""
    counts = getattr(res, "record_counts", None)
    if counts is None or counts.empty:
        return pd.DataFrame(columns=REGULARITY_COLUMNS)
    counts = counts[pd.to_numeric(counts["n_missing"], errors="coerce").fillna(0) > 0]
    info = inp.units.set_index("unit")
    counts = counts[counts["unit"].isin(info.index)]
    if counts.empty:
        return pd.DataFrame(columns=REGULARITY_COLUMNS)
    table = inp.table
    fields = counts["field"].astype(object)
    distinct = pd.unique(fields)  # a few fields: label and rhythm looked up once each, mapped per row
    labels = fields.map({f: field_label(table, f) for f in distinct})
    rhythms = fields.map({f: getattr(table.fields.get(f), "regular", None) or "" for f in distinct})
    df = pd.DataFrame({
        "unit": counts["unit"].to_numpy(), "name": counts["unit"].map(info["name"]).to_numpy(),
        "bureau": counts["unit"].map(info["bureau"]).to_numpy() if "bureau" in info.columns else "",
        "category": counts["unit"].map(info["category"]).to_numpy() if "category" in info.columns else "",
        "field": counts["field"].to_numpy(), "label": labels.to_numpy(object),
        "activity_type": counts["activity_type"].to_numpy(),
        "rhythm": rhythms.to_numpy(object),
        "typed": pd.to_numeric(counts["typed"], errors="coerce").to_numpy(),
        "records": pd.to_numeric(counts["records"], errors="coerce").to_numpy(),
        "below": pd.to_numeric(counts["below"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "n_missing": pd.to_numeric(counts["n_missing"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "periods": pd.to_numeric(counts["periods"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "missing": counts["missing"].fillna("").to_numpy()}, columns=REGULARITY_COLUMNS)
    return df.sort_values(["n_missing", "unit"], ascending=[False, True], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- stored form

def pack(v: ViewFrames) -> bytes:
    g = v.gap
    return frames.pack({
        "units": g.units, "pct": pd.DataFrame(g.pct, columns=[f"a{i}" for i in range(g.pct.shape[1])]),
        "failed": pd.DataFrame(g.failed, columns=[f"i{i}" for i in range(g.failed.shape[1])]),
        "failed_items": g.failed_items, "gap_units": g.gap_units, "regularity": v.regularity,
    }, {"areas": list(g.areas), "area_names": g.area_names,
        "pct_rows": int(g.pct.shape[0]), "failed_rows": int(g.failed.shape[0])})


def unpack(payload: bytes) -> ViewFrames:
    f, meta = frames.unpack(payload)
    pct = f["pct"].to_numpy(float).reshape(meta["pct_rows"], len(f["pct"].columns))
    failed = f["failed"].to_numpy(bool).reshape(meta["failed_rows"], len(f["failed"].columns))
    gap = GapFrames(f["units"], pct, list(meta["areas"]), dict(meta["area_names"]), failed, f["failed_items"],
                    f["gap_units"])
    return ViewFrames(gap, f["regularity"])


def pack_means(means: dict[str, pd.DataFrame]) -> bytes:
    """A few dozen numbers: JSON (float repr round-trips exactly), not a frame container, whose fixed
    cost (about 5 ms to unpack) every branch view after a commit would pay."""
    return json.dumps({c: {"area": m["area"].tolist(), "category_pct": m["category_pct"].tolist(),
                           "dtype": str(m["area"].dtype)} for c, m in means.items()}, ensure_ascii=False).encode()


def unpack_means(payload: bytes) -> dict[str, pd.DataFrame]:
    return {c: pd.DataFrame({"area": pd.Series(m["area"], dtype=m["dtype"]),
                             "category_pct": pd.Series(m["category_pct"], dtype=float)})
            for c, m in json.loads(payload).items()}


def _shared(period_code: str, db: Database | None, kind: str, compute, encode, decode):
    from data import services

    db = db or get_db()
    v = services._version(db, period_code)
    if services._published(v):  # from the snapshot, once per worker
        return services._cached((kind,) + services._version_key(db, period_code), lambda: compute(db))
    return results_store.shared(db, v, kind, lambda: compute(db), encode, decode)


def view_frames(period_code: str, db: Database | None = None) -> ViewFrames:
    """The gap page's frames at the period's current version (a published period: from its snapshot)."""
    from data import services

    return _shared(period_code, db, "views", lambda db: build(
        services.scoring_inputs(period_code, db), services.score_period(period_code, db),
        services.period_gaps(period_code, db)), pack, unpack)


def category_means(period_code: str, db: Database | None = None) -> dict[str, pd.DataFrame]:
    """The branch page's category means at the period's current version."""
    from data import services

    return _shared(period_code, db, "means", lambda db: build_means(services.score_period(period_code, db)),
                   pack_means, unpack_means)
