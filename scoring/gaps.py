"""Gaps: where a unit lost points, and the shortest way to the next grade.

Owns two views of a :class:`~scoring.engine.ScoreResult`: points lost per area
(一级指标, the standardisation system of the table) and, for every unit below the
top grade, the items whose improvement reaches the next band, each with what it
needs in Chinese («支委会次数再增加 2 次（达到 6 次）可得 2 分»).

Works on whole arrays: the items frame is item-major with the same units for
every item, so it is reshaped to (units × items) and sorted once; no loop runs
over units. Texts are formatted once per distinct (item, evidence, gain).

Must not score (that is ``engine.score``), store anything, or import databases,
files, Flask or Dash.

Decisions:
- the gap is counted in raw points: needed_raw = (band_min − bonus) × raw_max ÷
  total − raw_points; bonus is not rescaled, 缺报 items stay in the maximum, so
  improving evidence never changes raw_max;
- an item can gain its lost points minus the inspectors' deductions, which do
  not go away when the evidence improves; an item that lost points only to a
  deduction is not listed;
- order: ★ items first, then by gainable points (desc), then table order; steps
  are whole items (each to full points) up to the first one whose cumulative
  gain reaches the band.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scoring import glossary as g
from scoring.engine import KIND_BASE, ROUND, ScoreResult, _normalise_period
from scoring.indicators import IndicatorTable, Item
from scoring.rules import RULES, fmt_in_unit, fmt_number

AREA_GAP_COLUMNS = ["unit", "area", "area_name", "points", "max", "lost", "pct"]
GRADE_GAP_COLUMNS = ["unit", "current_grade", "next_grade", "needed_total", "needed_raw", "step", "item",
                     "item_name", "area", "core", "gain", "gain_total", "need", "cumulative", "reaches"]

VETO_NEED = "一票否决，等次为{grade}，分数提升不改变等次"
NOTHING_TO_GAIN = "各项指标已无可提升的得分（考核组扣分不因改进数据而消除），无法达到{grade}"
EPS = 10.0 ** -9  # cumulative gains are compared after the engine's rounding


def area_gaps(res: ScoreResult) -> pd.DataFrame:
    """Points lost per unit × area: unit, area, area_name, points, max, lost, pct (NaN when max is 0)."""
    a = res.areas
    out = pd.DataFrame({
        "unit": a["unit"].to_numpy(object), "area": a["area"].to_numpy(object),
        "area_name": a["area_name"].to_numpy(object),
        "points": a["points"].to_numpy(float), "max": a["max"].to_numpy(float),
    })
    out["lost"] = np.round(out["max"] - out["points"], ROUND)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["pct"] = np.where(out["max"] > 0, out["points"] / out["max"].where(out["max"] > 0, 1.0), np.nan)
    return out[AREA_GAP_COLUMNS]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": pd.Series([], dtype=object), "current_grade": pd.Series([], dtype=object),
        "next_grade": pd.Series([], dtype=object), "needed_total": pd.Series([], dtype=float),
        "needed_raw": pd.Series([], dtype=float), "step": pd.Series([], dtype=np.int64),
        "item": pd.Series([], dtype=object), "item_name": pd.Series([], dtype=object),
        "area": pd.Series([], dtype=object), "core": pd.Series([], dtype=bool),
        "gain": pd.Series([], dtype=float), "gain_total": pd.Series([], dtype=float),
        "need": pd.Series([], dtype=object), "cumulative": pd.Series([], dtype=float),
        "reaches": pd.Series([], dtype=bool),
    }, columns=GRADE_GAP_COLUMNS)


def _goal_phrase(item: Item, rule, params: dict, vals: tuple[float, ...], table: IndicatorTable) -> str:
    """What full points look like for a 缺报 item: 「达到 6 次」「完成」「为 0」."""
    if item.rule == "boolean":
        return "完成"
    if item.rule == "deduction":
        return "无问题"
    goal = rule.goal(params, vals) if rule is not None and rule.goal is not None else None
    if goal is None or (isinstance(goal, float) and math.isnan(goal)):
        return ""
    f = table.fields.get(item.fields[0]) if item.fields else None
    return f"达到 {fmt_in_unit(goal, f)}"


def need_text(table: IndicatorTable, item: Item, params: dict, status: str, vals: tuple[float, ...],
              missing: tuple[str, ...], gain: float) -> str:
    """What one item needs to gain ``gain`` raw points, in Chinese, from the rule's need_template."""
    rule = RULES.get(item.rule)
    labels = [table.fields[f].label if f in table.fields else f for f in item.fields]
    f0 = table.fields.get(item.fields[0]) if item.fields else None
    gain_s = fmt_number(gain)
    if item.rule == "manual":
        if status == g.MISSING:
            return f"考核组评定（尚未评定）达到满分 {fmt_number(item.points)} 分可得 {gain_s} 分"
        return (rule.need_template if rule else "考核组评定可得 {gain} 分").format(
            points=fmt_number(item.points), gain=gain_s)
    if status == g.MISSING or rule is None:
        what = "、".join(table.fields[f].label if f in table.fields else f for f in missing) or "、".join(labels)
        phrase = _goal_phrase(item, rule, params, vals, table) if rule is not None else ""
        return f"补报{what}{f'（{phrase}）' if phrase else ''}可得 {gain_s} 分"
    goal = rule.goal(params, vals) if rule.goal is not None else None
    ctx = {"field": labels[0] if labels else item.name, "gain": gain_s, "points": fmt_number(item.points),
           "value": fmt_in_unit(vals[0] if vals else float("nan"), f0),
           "goal": fmt_in_unit(goal, f0) if goal is not None else "满分"}
    if item.rule == "count_target" and goal is not None and vals and not math.isnan(vals[0]):
        ctx["more"] = fmt_in_unit(max(0.0, math.ceil(round(goal - math.floor(vals[0]), 9))), f0)
    template = rule.need_template or "改进后可得 {gain} 分"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):  # a registered template naming a placeholder we lack
        return f"{item.name}达到满分可得 {gain_s} 分"


def grade_gaps(table: IndicatorTable, res: ScoreResult, period_kind: str) -> pd.DataFrame:
    """For each unit below the top grade, the items that reach the next band (see the module docstring).

    Columns: ``GRADE_GAP_COLUMNS``. Vetoed units get one row with item "" and the
    veto text; a unit that cannot reach the band lists every improvable item with
    ``reaches`` False.
    """
    units = res.units
    n = len(units)
    if n == 0 or not len(table.grades):
        return _empty()
    half = _normalise_period(period_kind) == g.PERIOD_H1
    labels = [gr.label for gr in table.grades]
    mins = np.array([gr.min for gr in table.grades], dtype=float)
    order = units["grade_order"].to_numpy(np.int64)
    veto = units["veto"].to_numpy(bool)
    total = units["total"].to_numpy(float)
    raw_points = units["raw_points"].to_numpy(float)
    raw_max = units["raw_max"].to_numpy(float)
    bonus = units["bonus"].to_numpy(float)
    if "penalty" in units.columns:  # penalties come off after rescaling: the base must make them up too
        bonus = bonus - units["penalty"].to_numpy(float)
    grade = units["grade"].to_numpy(object)
    codes = units["unit"].to_numpy(object)

    graded = (order > 0) & (order < len(labels)) & ~np.isnan(total) & (raw_max > 0)
    climbing = graded & ~veto
    nxt = np.clip(order - 1, 0, len(labels) - 1)
    band = mins[nxt]
    with np.errstate(invalid="ignore", divide="ignore"):
        needed_total = np.round(band - total, ROUND)
        needed_raw = np.round((band - bonus) * raw_max / table.base_scale - raw_points, ROUND)
        scale = np.where(raw_max > 0, table.base_scale / np.where(raw_max > 0, raw_max, 1.0), np.nan)

    # ---- items as a (units × items) grid
    it = res.items
    k = len(it) // n
    first = it.iloc[::n]  # one row per item
    kinds = first["kind"].to_numpy(object)
    base_cols = np.flatnonzero(kinds == KIND_BASE)
    item_codes = first["item"].to_numpy(object)[base_cols]
    items = [table.item(c) for c in item_codes]

    def grid(col: str, dtype) -> np.ndarray:
        return it[col].to_numpy(dtype).reshape(k, n)[base_cols].T

    pts, mx, ded = grid("points", float), grid("max", float), grid("deducted", float)
    status = np.asarray(it["status"].cat.codes.to_numpy().reshape(k, n)[base_cols].T)
    status_labels = np.asarray(it["status"].cat.categories, dtype=object)
    gain = np.round(np.maximum(0.0, mx - ded) - pts, ROUND)
    take = (gain > EPS) & climbing[:, None]

    rows_u, rows_i = np.nonzero(take)
    core = np.array([i.core for i in items], dtype=bool)
    # ★ first, then gain desc, then table order: one lexsort over every unit's rows.
    sort = np.lexsort((rows_i, -gain[rows_u, rows_i], ~core[rows_i], rows_u))
    rows_u, rows_i = rows_u[sort], rows_i[sort]
    gains = gain[rows_u, rows_i]
    cum_all = np.cumsum(gains)
    starts = np.flatnonzero(np.r_[True, rows_u[1:] != rows_u[:-1]]) if len(rows_u) else np.zeros(0, dtype=int)
    group = np.cumsum(np.r_[True, rows_u[1:] != rows_u[:-1]]) - 1 if len(rows_u) else np.zeros(0, dtype=int)
    offset = (cum_all[starts] - gains[starts])[group] if len(rows_u) else np.zeros(0)
    cumulative = np.round(cum_all - offset, ROUND)
    step = np.arange(len(rows_u)) - starts[group] + 1 if len(rows_u) else np.zeros(0, dtype=int)
    need_u = needed_raw[rows_u]
    reached = cumulative >= need_u - EPS
    before = np.round(cumulative - gains, ROUND)
    can = np.zeros(n, dtype=bool)
    if len(rows_u):
        can[rows_u[reached]] = True
    # Reachable units keep the prefix up to the first reaching step; the others keep every item.
    keep = ~can[rows_u] | (before < need_u - EPS)
    rows_u, rows_i, gains, cumulative, step = rows_u[keep], rows_i[keep], gains[keep], cumulative[keep], step[keep]
    reaches = reached[keep]

    # ---- texts, once per distinct (item, status, evidence, gain)
    need = _need_column(table, res, items, half, rows_u, rows_i, status_labels[status[rows_u, rows_i]], gains,
                        codes)

    frames = []
    if len(rows_u):
        frames.append(pd.DataFrame({
            "unit": codes[rows_u], "current_grade": grade[rows_u],
            "next_grade": np.asarray(labels, dtype=object)[nxt[rows_u]],
            "needed_total": needed_total[rows_u], "needed_raw": needed_raw[rows_u], "step": step.astype(np.int64),
            "item": item_codes[rows_i], "item_name": np.array([items[j].name for j in rows_i], dtype=object),
            "area": np.array([items[j].area for j in rows_i], dtype=object), "core": core[rows_i],
            "gain": gains, "gain_total": np.round(gains * scale[rows_u], ROUND), "need": need,
            "cumulative": cumulative, "reaches": reaches,
            "_pos": rows_u,
        }))
    stuck = climbing.copy()
    if len(rows_u):
        stuck[rows_u] = False
    special = np.flatnonzero(veto | stuck)
    if len(special):
        vetoed = veto[special]
        frames.append(pd.DataFrame({
            "unit": codes[special], "current_grade": grade[special],
            "next_grade": np.where(vetoed, "", np.asarray(labels, dtype=object)[nxt[special]]),
            "needed_total": np.where(vetoed, np.nan, needed_total[special]),
            "needed_raw": np.where(vetoed, np.nan, needed_raw[special]),
            "step": np.ones(len(special), dtype=np.int64), "item": "", "item_name": "", "area": "",
            "core": False, "gain": 0.0, "gain_total": 0.0,
            "need": [VETO_NEED.format(grade=table.veto_grade) if v else NOTHING_TO_GAIN.format(grade=labels[nxt[p]])
                     for v, p in zip(vetoed, special)],
            "cumulative": 0.0, "reaches": False, "_pos": special,
        }))
    if not frames:
        return _empty()
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out = out.sort_values(["_pos", "step"], kind="stable").drop(columns="_pos").reset_index(drop=True)
    return out[GRADE_GAP_COLUMNS]


def _need_column(table: IndicatorTable, res: ScoreResult, items: list[Item], half: bool, rows_u: np.ndarray,
                 rows_i: np.ndarray, status: np.ndarray, gains: np.ndarray, codes: np.ndarray) -> np.ndarray:
    out = np.empty(len(rows_u), dtype=object)
    if not len(rows_u):
        return out
    values = res.values
    vpos = (values.index.get_indexer(pd.Index(codes)) if len(values) else np.full(len(codes), -1))
    vcol = {f: j for j, f in enumerate(values.columns)}
    vmat = values.to_numpy(float) if len(values) else np.zeros((0, 0))
    width = max([len(i.fields) + (1 if i.not_applicable_when else 0) for i in items] + [1])
    # Evidence per row: the item's fields then its gate field (NaN when absent).
    ev = np.full((len(rows_u), width), np.nan)
    for j in np.unique(rows_i):
        sel = np.flatnonzero(rows_i == j)
        names = list(items[j].fields) + ([items[j].not_applicable_when["field"]] if items[j].not_applicable_when
                                         else [])
        for c, f in enumerate(names):
            if f in vcol:
                p = vpos[rows_u[sel]]
                ok = p >= 0
                col = np.full(len(sel), np.nan)
                col[ok] = vmat[p[ok], vcol[f]]
                ev[sel, c] = col
    key = pd.DataFrame(ev)
    key["_item"] = rows_i
    key["_status"] = status
    key["_gain"] = gains
    grp = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(grp, return_index=True)
    params = {}
    texts = np.empty(len(first), dtype=object)
    for gi, r in enumerate(first):
        j = int(rows_i[r])
        item = items[j]
        if j not in params:
            params[j] = item.params_for(half)
        names = list(item.fields) + ([item.not_applicable_when["field"]] if item.not_applicable_when else [])
        row = ev[r, :len(names)]
        missing = tuple(f for f, v in zip(names, row) if math.isnan(v))
        texts[gi] = need_text(table, item, params[j], str(status[r]), tuple(float(v) for v in row[:len(item.fields)]),
                              missing, float(gains[r]))
    return texts[grp]  # np.unique returns the group numbers 0..G-1 in order, so texts[g] is group g's text


def unit_gap_text(rows: pd.DataFrame) -> str:
    """One line of Chinese for one unit's grade_gaps rows.

    「距优秀还差 7.5 分（指标得分需再得 6 分）：改进 4 项（★ 4 项）即可达到——E2 检查问题整改销号、…」.
    """
    if rows is None or not len(rows):
        return "已是最高等次"
    r0 = rows.iloc[0]
    if r0["item"] == "":
        return str(r0["need"])
    head = (f"距{r0['next_grade']}还差 {fmt_number(r0['needed_total'])} 分"
            f"（指标得分需再得 {fmt_number(r0['needed_raw'])} 分）")
    names = "、".join(f"{'★' if c else ''}{i} {n}" for i, n, c in
                      zip(rows["item"], rows["item_name"], rows["core"]))
    n_core = int(rows["core"].sum())
    if bool(rows["reaches"].any()):
        return f"{head}：改进 {len(rows)} 项（★ {n_core} 项）即可达到——{names}"
    short = float(r0["needed_raw"]) - float(rows["cumulative"].iloc[-1])
    return f"{head}：{len(rows)} 项全部改进后仍差 {fmt_number(short)} 分，本期无法达到——{names}"


# ---------------------------------------------------------------- aggregated views (the gap page at scale)
def area_rate_matrix(res: ScoreResult) -> tuple[np.ndarray, list[str]]:
    """Score rate (0–1) per unit × area as a (units × areas) array in ``res.units`` order, NaN where the
    area's maximum is 0; and the area codes. ``res.areas`` keeps each unit's areas together in table
    order, so this is a reshape, not a pivot."""
    n = len(res.units)
    a = res.areas
    if n == 0 or len(a) == 0:
        return np.zeros((n, 0)), []
    k = len(a) // n
    codes = a["area"].to_numpy(object)[:k].tolist()
    pts = a["points"].to_numpy(float).reshape(n, k)
    mx = a["max"].to_numpy(float).reshape(n, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(mx > 0, pts / np.where(mx > 0, mx, 1.0), np.nan)
    return pct, codes


def failed_matrix(res: ScoreResult, table: IndicatorTable) -> tuple[np.ndarray, pd.DataFrame]:
    """Which units failed which base items (未达标 or 缺报) as a (units × items) bool array, and the
    items (item, name, area) in table order. Items of no area of the table are left out."""
    n = len(res.units)
    it = res.items
    area_codes = {a.code for a in table.areas}
    if n == 0 or len(it) == 0:
        return np.zeros((n, 0), dtype=bool), pd.DataFrame(columns=["item", "name", "area"])
    k = len(it) // n
    first = it.iloc[::n]
    keep = np.flatnonzero((first["kind"].to_numpy(object) == KIND_BASE)
                          & first["area"].isin(area_codes).to_numpy())
    status = it["status"].astype(object).to_numpy().reshape(k, n)[keep].T
    failed = (status == g.NOT_MET) | (status == g.MISSING)
    meta = first.iloc[keep][["item", "name", "area"]].reset_index(drop=True)
    return failed, meta


def group_rates(pct: np.ndarray, groups: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
    """Mean score rate per group × area (each unit counts once; areas a unit has no maximum in are skipped).

    Returns the group labels (sorted), the number of units per group and a (groups × areas) array.
    """
    labels, inverse = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    n_g, k = len(labels), pct.shape[1] if pct.ndim == 2 else 0
    counts = np.bincount(inverse, minlength=n_g)
    sums = np.zeros((n_g, k))
    seen = np.zeros((n_g, k))
    ok = ~np.isnan(pct)
    np.add.at(sums, inverse, np.where(ok, pct, 0.0))
    np.add.at(seen, inverse, ok.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(seen > 0, sums / np.where(seen > 0, seen, 1.0), np.nan)
    return labels.tolist(), counts, means


def unit_gap_summary(gaps: pd.DataFrame) -> pd.DataFrame:
    """One row per unit of a ``grade_gaps`` frame: unit, current_grade, next_grade, needed_total,
    reaches (any step reaches the band) and steps (「B1 支委会次数再增加 2 次…；…」, or the single
    veto / nothing-to-gain text). Units keep the order of ``gaps``."""
    cols = ["unit", "current_grade", "next_grade", "needed_total", "reaches", "steps"]
    if gaps is None or not len(gaps):
        return pd.DataFrame(columns=cols)
    first = gaps.drop_duplicates("unit", keep="first").set_index("unit")
    real = gaps[gaps["item"] != ""]
    # Joined in one pass over the rows (a groupby-agg with str.join runs Python per group: ~1 s at 10,000 units).
    joined: dict = {}
    for u, text in zip(real["unit"].to_numpy(object),
                       (real["item"].astype(str) + " " + real["need"].astype(str)).to_numpy(object)):
        joined.setdefault(u, []).append(text)
    steps = pd.Series({u: "；".join(parts) for u, parts in joined.items()}, dtype=object)
    out = pd.DataFrame({
        "unit": first.index.to_numpy(object),
        "current_grade": first["current_grade"].to_numpy(object),
        "next_grade": first["next_grade"].to_numpy(object),
        "needed_total": first["needed_total"].to_numpy(float),
        "reaches": gaps.groupby("unit", sort=False)["reaches"].any().reindex(first.index).to_numpy(bool),
    })
    out["steps"] = steps.reindex(first.index).fillna(first["need"]).to_numpy(object)
    return out[cols]
