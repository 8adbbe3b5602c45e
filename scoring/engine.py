"""The scoring engine: an indicator table and tidy evidence in, a ScoreResult out.

Owns the order of decisions around a rule (未到期 → 不适用 → 缺报 → the rule →
the inspectors' deductions), the rescaling of the base points to the table's
total, bonus caps, vetoes, grades, rankings and the Chinese explanation of
every unit × item. Every rule runs once per item over all units at once; no
loop here runs over units.

Must not raise on odd evidence (NaN, negative numbers, text, unknown units or
fields): odd input is scored by the documented decisions and reported in
``ScoreResult.notes``. Must not import databases, files, Flask or Dash.

Decisions not spelt out by the indicator table (documented in README「计分规则要点」):
- a negative or infinite value is invalid evidence: the item is 缺报 (0 points,
  counted in the maximum, flagged 「填报为 -3，不能为负数」) — scoring it as 0
  would give full marks to a deduction item for garbage data. For bonus items an
  invalid value counts 0, for veto items 否; fields of kind ``number`` may be
  negative;
- duplicated (unit, field) rows: the last non-blank value counts;
- a judgement adjustment applies to ``manual`` items only; deductions apply to
  due, applicable, reported base items; the last judgement per unit × item counts.

The table language of issue 17 (all optional; the default table uses none of it):
- a field with ``missing: zero`` (or the table's ``default_missing``) reads blank as 0, never 缺报;
- ``applies_to`` makes an item 不适用 for other categories or unit kinds (rescaled like any 不适用);
- penalties (``penalty[]``) are subtracted after rescaling (from their component when named), and
  the total floors at 0; with ``weights`` each component is rescaled on its own and weighted, a
  component with nothing due dropping out;
- the grade is decided in order: band of the total → ``requires`` → vetoes (``set`` / ``cap``) →
  quotas → 直接定级; ``grade_reason`` names the rule that decided it (see ``_grades``).

Activity records (issue 16; only when ``score(records=..., span=...)`` is given and the table has
fields with ``from_records``): counts come from ``scoring.records.derive``; ``record_source`` picks per
unit × field the typed value or the valid-record count (bool fields: 是 with ≥ 1 valid record) before
anything else is decided, so a records count is never 缺报; the explanation of a base item reading such
a field gets the source and the counts appended (nothing when the typed value counts and the unit has
no records, so such units read exactly as without records). ``record_counts`` always describes the
records (records, below, missing, n_missing) whichever value was used (``used``).
"""
from __future__ import annotations

import math
import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scoring import glossary as g
from scoring.indicators import (MISSING_ZERO, PERIOD_ANNUAL, TIE_BREAK_KEYS, VETO_CAP, FieldDef, IndicatorTable,
                                Item)
from scoring.records import RECORD_COLUMNS
from scoring.records import derive as derive_records
from scoring.records import slots as record_slots
from scoring.rules import PLAIN, RULES, RuleInput, fmt_kind, fmt_number, rate_detail

ROUND = 10  # decimals kept on points and totals: 89.99999999999999 and 90 are one number

ITEM_COLUMNS = ["unit", "item", "area", "name", "points", "max", "status", "explanation", "evidence",
                "core", "rule", "kind", "deducted"]
AREA_COLUMNS = ["unit", "area", "area_name", "points", "max", "pct"]
UNIT_COLUMNS = ["unit", "name", "category", "raw_points", "raw_max", "base", "bonus", "total", "veto",
                "veto_reason", "grade", "grade_order", "rank", "rank_in_category", "display_order",
                "core_points", "core_met", "core_due", "missing_count", "deductions", "penalty", "grade_reason"]
GROUP_COLUMNS = ["unit", "area", "group", "group_name", "points", "max"]
COMPONENT_COLUMNS = ["unit", "component", "points", "max", "score", "weight"]
# Per unit × from_records field (see ``score(records=...)``): the typed value, the valid records,
# records not counted for attendance, the months/quarters without a valid record, which value counted.
RECORD_COUNT_COLUMNS = ["unit", "field", "activity_type", "typed", "records", "below", "missing", "n_missing",
                        "periods", "used"]
RECORD_SOURCES = ("typed", "records", "records_if_any")
USED_TYPED, USED_RECORDS = "typed", "records"

KIND_BASE, KIND_BONUS, KIND_VETO, KIND_PENALTY = "base", "bonus", "veto", "penalty"
NO_GRADE = "无法评定"  # a unit with nothing due and applicable: no base to grade

# Status codes inside the engine (several codes share one public label).
_MET, _NOT_MET, _NA_GATE, _NA_INSPECTOR, _MISSING, _INVALID, _NOT_DUE, _NA_SCOPE = range(8)
# Public status labels, in the order of the ``status`` categorical column.
STATUS_CATEGORIES = [g.MET, g.NOT_MET, g.NOT_APPLICABLE, g.MISSING, g.NOT_DUE, g.BONUS_AWARDED,
                     g.VETO_TRIGGERED, g.BONUS_NONE, g.PENALTY_APPLIED]
_S = {label: k for k, label in enumerate(STATUS_CATEGORIES)}
_STATUS_PUBLIC = np.array([_S[g.MET], _S[g.NOT_MET], _S[g.NOT_APPLICABLE], _S[g.NOT_APPLICABLE], _S[g.MISSING],
                           _S[g.MISSING], _S[g.NOT_DUE], _S[g.NOT_APPLICABLE]], dtype=np.int64)
# Codes whose rows count nothing in the maximum (不适用 either way, 未到期); 缺报 counts.
_OUT_OF_MAX = np.isin(np.arange(8), [_NA_GATE, _NA_INSPECTOR, _NOT_DUE, _NA_SCOPE])
_IS_MISSING = np.isin(np.arange(8), [_MISSING, _INVALID])  # both show as 缺报

NOT_DUE_TEXT = "上半年不考核（年度指标），未到期"
INSPECTOR_NA_TEXT = "考核组认定不适用"
MISSING_TEXT = "未报送{fields}，按缺报计 0 分"
MANUAL_MISSING_TEXT = "考核组尚未评定，按缺报计 0 分"
INVALID_TEXT = "{field}填报为 {raw}，不能为负数或无穷大，按缺报计 0 分"
GATE_NA_TEXT = "{field}为{value}，不适用"
SCOPE_NA_TEXT = "本指标仅适用于{scope}，本单位不适用"


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """Scores of one period.

    ``units`` and ``values`` follow the order of the ``units`` argument; ``areas`` has each unit's
    areas together (unit by unit, areas in table order); ``items`` has each item's rows together
    (item by item in table order — base items, then bonus, then veto — and units in the order of
    the ``units`` argument within each item). ``items_for`` and ``areas_for`` give one unit's rows.
    """

    items: pd.DataFrame
    areas: pd.DataFrame
    units: pd.DataFrame
    table_version: str = ""
    period_kind: str = g.PERIOD_YEAR
    scale: float = 100.0  # the table's total: base = raw_points / raw_max × scale
    values: pd.DataFrame = field(default_factory=pd.DataFrame)  # evidence used: unit × field, NaN = blank/invalid
    notes: tuple[str, ...] = ()
    # Per unit × component (tables with ``weights`` only): raw points, maximum, score on the table's
    # scale after the component's penalties, and the weight used (0 when the component had nothing due).
    components: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COMPONENT_COLUMNS))
    group_of: dict = field(default_factory=dict, repr=False)  # item code → (area, group code, group name)
    # Per unit × from_records field when records were given (RECORD_COUNT_COLUMNS); empty otherwise.
    record_counts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RECORD_COUNT_COLUMNS))
    _pos: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def groups(self) -> pd.DataFrame:
        """Subtotals of the optional middle level (``areas[].groups``): unit × group points and maximum."""
        if not self.group_of or not len(self.items):
            return pd.DataFrame(columns=GROUP_COLUMNS)
        it = self.items[self.items["item"].astype(str).isin(self.group_of)]
        key = it["item"].astype(str).map(lambda c: self.group_of[c][1])
        sums = (it.assign(group=key.to_numpy(), unit=it["unit"].astype(str))
                .groupby(["unit", "group"], sort=False)[["points", "max"]].sum().reset_index())
        sums["area"] = sums["group"].map({v[1]: v[0] for v in self.group_of.values()})
        sums["group_name"] = sums["group"].map({v[1]: v[2] for v in self.group_of.values()})
        return sums[GROUP_COLUMNS]

    def _position(self, code: Any) -> int | None:
        if not self._pos and len(self.units):  # built on first use: score() stays lean
            self._pos.update({u: i for i, u in enumerate(self.units["unit"].tolist())})
        return self._pos.get(code)

    def items_for(self, code: Any) -> pd.DataFrame:
        """One unit's item rows, in table order."""
        i = self._position(code)
        return self.items.iloc[0:0] if i is None else self.items.iloc[i::len(self.units)]

    def areas_for(self, code: Any) -> pd.DataFrame:
        """One unit's area rows, in table order."""
        i = self._position(code)
        if i is None:
            return self.areas.iloc[0:0]
        k = len(self.areas) // len(self.units)
        return self.areas.iloc[i * k:(i + 1) * k]

    def unit(self, code: Any) -> dict:
        """One unit's summary row as a dict ({} when the unit was not scored)."""
        i = self._position(code)
        return {} if i is None else self.units.iloc[i].to_dict()

    def ranking(self, category: str | None = None) -> pd.DataFrame:
        """Units in display order (overall, or inside one category)."""
        u = self.units if category is None else self.units[self.units["category"] == category]
        return u.sort_values("display_order").reset_index(drop=True)


# ---------------------------------------------------------------- inputs
def _normalise_period(period_kind: str) -> str:
    if period_kind in (g.PERIOD_H1, g.PERIOD_YEAR):
        return period_kind
    text = str(period_kind).strip()
    if text.upper() == "H1":
        return g.PERIOD_H1
    if text.lower() in ("year", "y", "annual", "全年", "年度"):
        return g.PERIOD_YEAR
    kind = g.period_kind(text)
    if kind is None:  # a programming error, not user data
        raise ValueError(f"period_kind must be 'H1' or 'year', got {period_kind!r}")
    return kind


# The dtype a frame gives a column built from an object array of text ("str" in pandas 3).
_TEXT = pd.Series(np.array([""], dtype=object)).dtype


def _text(values: pd.Series | pd.Index, positions: np.ndarray | None = None) -> Any:
    """``values.to_numpy(object)`` (at ``positions``) for a frame column, without checking every string again.

    A frame infers a column's dtype from an object array by looking at every value. Values that
    already are such text keep their array, which gives the same column. Only for values that
    hold some text wherever they hold blanks: a text column of blanks only would be inferred as
    object (the engine's unit, name and category columns have no blanks at all).
    """
    if values.dtype == _TEXT and len(values) and (positions is None or len(positions)):
        return values.array if positions is None else values.array.take(positions)
    obj = values.to_numpy(object)
    return obj if positions is None else obj[positions]


def _clean_units(units: pd.DataFrame | None, notes: list[str]) -> pd.DataFrame:
    if units is None or "unit" not in getattr(units, "columns", ()):
        notes.append("考核单位名单缺少 unit 列，未评分")
        return pd.DataFrame({"unit": pd.Series([], dtype=object), "name": [], "category": []})
    listed = units["unit"].notna()
    u = units if listed.all() else units.loc[listed]  # only read below: no copy needed
    dup = u["unit"].duplicated()
    if dup.any():
        notes.append(f"考核单位名单中有 {int(dup.sum())} 个重复的单位编码，按第一次出现计")
        u = u.loc[~dup]
    cols = {"unit": _text(u["unit"])}
    for col in ("name", "category"):
        cols[col] = _text(u[col].fillna("")) if col in u.columns else np.full(len(u), "", dtype=object)
    if "kind" in u.columns:  # 党支部 / 党总支 …, for applies_to.kinds
        cols["kind"] = u["kind"].fillna("").astype(str).to_numpy(object)
    return pd.DataFrame(cols)


def _runs(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(first value, length) of each run of equal neighbours in a text column; None without long runs.

    Evidence comes unit by unit and adjustments item by item: hashing one value per run is far
    cheaper than hashing every string, and comparing neighbours is cheap.
    """
    if not isinstance(values.dtype, pd.StringDtype) or len(values) < 2:
        return None
    v = values.to_numpy(object)
    try:
        head = v[:1001]
        if (head[1:] != head[:-1]).mean() > 0.25:  # a sample first: most rows change (the field column)
            return None
        start = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
    except TypeError:  # pd.NA cannot say whether it differs
        return None
    if len(start) * 4 > len(v):
        return None
    return v[start], np.diff(np.append(start, len(v)))


def _lookup(index: pd.Index, values: pd.Series) -> np.ndarray:
    """``index.get_indexer(values)``, hashing as little text as possible (categories or runs once).

    Always a new array, which the caller may change in place.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        pos = np.append(index.get_indexer(values.cat.categories), -1)
        return pos[values.cat.codes.to_numpy()]  # code -1 (blank) picks the last entry
    runs = _runs(values)
    if runs is not None:
        return np.repeat(index.get_indexer(runs[0]), runs[1])
    return index.get_indexer(values)


def _factorize(values: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize(values)`` (blank → -1), hashing one value per run of equal neighbours."""
    runs = _runs(values)
    if runs is None:
        return pd.factorize(values, use_na_sentinel=True)
    codes, uniq = pd.factorize(runs[0], use_na_sentinel=True)  # first appearances start runs: same order
    return np.repeat(codes, runs[1]), uniq


def _repeats(flat: np.ndarray, size: int) -> bool:
    """Whether some position in ``flat`` (0 ≤ position < size) occurs more than once."""
    seen = np.zeros(size, dtype=bool)
    seen[flat] = True
    return int(np.count_nonzero(seen)) < len(flat)


def _evidence_matrix(table: IndicatorTable, evidence: pd.DataFrame | None, unit_index: pd.Index,
                     notes: list[str]) -> tuple[dict[str, int], np.ndarray]:
    """Raw values as a (units × fields) float matrix; NaN = not reported.

    The matrix is column-major: each field's column is contiguous for the rules, and the
    ``values`` frame can wrap it without a copy.
    """
    fields = list(table.evidence_fields)
    col = {f: j for j, f in enumerate(fields)}
    raw = np.full((len(fields), len(unit_index)), np.nan).T
    if evidence is None or len(evidence) == 0:
        return col, raw
    missing_cols = [c for c in ("unit", "field", "value") if c not in evidence.columns]
    if missing_cols:
        notes.append(f"数据缺少列 {'、'.join(missing_cols)}，全部按缺报处理")
        return col, raw
    ui = _lookup(unit_index, evidence["unit"])
    fi = _lookup(pd.Index(fields), evidence["field"])
    value = evidence["value"]
    if value.dtype.kind not in "fiub":
        value = pd.to_numeric(value, errors="coerce")
    value = np.asarray(value, dtype=float)
    if ui.min(initial=0) < 0:
        n = pd.unique(np.asarray(evidence["unit"])[ui < 0]).size
        notes.append(f"数据中有 {n} 个单位不在本期考核名单中，已忽略")
    if ui.min(initial=0) < 0 or fi.min(initial=0) < 0:
        known = (ui >= 0) & (fi >= 0)
        ui, fi, value = ui[known], fi[known], value[known]
    flat = fi  # positions in the field-major matrix, computed in place (fi is our own array)
    flat *= len(unit_index)
    flat += ui
    if _repeats(flat, raw.size):
        # Some (unit, field) has several rows: blanks do not count, then the last value counts.
        # (Without repeats, blank rows may stay: they write NaN over NaN.)
        reported = ~np.isnan(value)
        flat, value = flat[reported], value[reported]
        if _repeats(flat, raw.size):
            last = len(flat) - 1 - np.unique(flat[::-1], return_index=True)[1]
            notes.append("数据中同一单位同一数据项有重复行，按最后一行计")
            flat, value = flat[last], value[last]
    raw.T.reshape(-1)[flat] = value  # raw.T is C-contiguous: reshape is a view
    return col, raw


@dataclass
class _Reasons:
    """Text for some units only (adjustments touch few rows): kept sparse, so nothing runs over all units.

    ``rows`` are unit positions in ascending order, ``codes`` index the few distinct ``texts``.
    """

    rows: np.ndarray
    codes: np.ndarray
    texts: np.ndarray


@dataclass
class _Adjustments:
    judgement: dict[str, tuple[np.ndarray, _Reasons]]   # item → (values per unit, NaN = none; reasons)
    deduction: dict[str, tuple[np.ndarray, _Reasons]]   # item → (sum of points per unit; suffix text)
    not_applicable: dict[str, _Reasons]  # item → the units marked 不适用 and why


_FEW = 64  # below this many rows, numbering keys in Python beats numpy's per-call overhead

_ADJ_KINDS = ("judgement", "deduction", "not_applicable")


def _codes_and_text(values: pd.Series, fmt) -> tuple[np.ndarray, np.ndarray]:
    """Format each distinct value once (there are few reasons and few point values): codes into texts."""
    codes, uniq = _factorize(values)
    texts = np.array([fmt(v) for v in uniq] + [fmt(None)], dtype=object)
    return np.where(codes < 0, len(uniq), codes), texts  # blank picks the last entry


def _suffix(reason) -> str:
    r = "" if reason is None or (isinstance(reason, float) and math.isnan(reason)) else str(reason).strip()
    return f"：{r}" if r else ""


def _last_per_key(flat: np.ndarray) -> np.ndarray:
    """Row numbers keeping the last row of each key (later entries overrule earlier ones)."""
    return len(flat) - 1 - np.unique(flat[::-1], return_index=True)[1]


def _adjustments(adjustments: pd.DataFrame | None, table: IndicatorTable, unit_index: pd.Index,
                 notes: list[str]) -> _Adjustments:
    out = _Adjustments({}, {}, {})
    if adjustments is None or len(adjustments) == 0:
        return out
    if not {"unit", "item", "kind"} <= set(adjustments.columns):
        notes.append("考核组调整缺少 unit、item 或 kind 列，已忽略")
        return out
    n = len(unit_index)
    codes = [i.code for i in table.items]
    u = _lookup(unit_index, adjustments["unit"])
    it = _lookup(pd.Index(codes), adjustments["item"])
    kc, kinds = _factorize(adjustments["kind"])
    kind_id = np.array([_ADJ_KINDS.index(k.strip().lower()) if isinstance(k, str) and k.strip().lower()
                        in _ADJ_KINDS else -1 for k in kinds] + [-1], dtype=np.int64)[kc]
    pts = (pd.to_numeric(adjustments["points"], errors="coerce").to_numpy(float) if "points" in adjustments
           else np.full(len(adjustments), np.nan))
    why, why_texts = (_codes_and_text(adjustments["reason"], _suffix) if "reason" in adjustments
                      else (np.zeros(len(adjustments), dtype=np.int64), np.array([""], dtype=object)))
    ignored = (u < 0) | (it < 0) | (kind_id < 0)
    if ignored.any():
        notes.append(f"考核组调整中有 {int(ignored.sum())} 条的单位、指标或类型无法识别，已忽略")
    flat = it.astype(np.int64) * max(n, 1) + u

    manual = np.array([i.rule == "manual" for i in table.items], dtype=bool)
    j = ~ignored & (kind_id == 0) & np.isfinite(pts)
    if (j & ~manual[it]).any():
        notes.append("考核组评定分只适用于“考核组评定”类指标，其余已忽略")
    j = np.flatnonzero(j & manual[it])
    j = j[_last_per_key(flat[j])]
    for m in np.unique(it[j]):
        sel = j[it[j] == m]  # sorted by unit: the keys are item × units + unit
        vals = np.full(n, np.nan)
        vals[u[sel]] = pts[sel]
        out.judgement[codes[m]] = (vals, _Reasons(u[sel], why[sel], why_texts))

    d = np.flatnonzero(~ignored & (kind_id == 1) & np.isfinite(pts) & (pts > 0))
    if len(d):
        pc, pt = _codes_and_text(pd.Series(pts[d]),
                                 lambda p: "" if p is None else f"；考核组扣 {fmt_number(p)} 分")
        text = pt[pc] + why_texts[why[d]]
        keys, inverse = np.unique(flat[d], return_inverse=True)
        sums = np.bincount(inverse, weights=pts[d])
        joined = np.empty(len(keys), dtype=object)
        counts = np.bincount(inverse)
        single = counts[inverse] == 1
        joined[inverse[single]] = text[single]
        for k in np.flatnonzero(counts > 1):  # few: several deductions on one unit × item
            joined[k] = "".join(text[inverse == k])
        jc, jt = pd.factorize(joined)
        for m in np.unique(keys // max(n, 1)):
            sel = keys // max(n, 1) == m
            rows = keys[sel] % max(n, 1)  # ascending, as the keys are sorted
            ded = np.zeros(n)
            ded[rows] = sums[sel]
            out.deduction[codes[m]] = (ded, _Reasons(rows, jc[sel], np.asarray(jt, dtype=object)))

    na = np.flatnonzero(~ignored & (kind_id == 2))
    na = na[_last_per_key(flat[na])]
    for m in np.unique(it[na]):
        sel = na[it[na] == m]
        out.not_applicable[codes[m]] = _Reasons(u[sel], why[sel], why_texts)
    return out


# ---------------------------------------------------------------- explanation
class _Blank(dict):
    def __missing__(self, key: str) -> str:  # a template naming an unknown placeholder shows it as is
        return "{" + key + "}"


def _column_codes(c: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0 ≤ code < width of one column: equal values (and all blanks) share a code.

    The evidence is mostly small counts, percentages and half hours: those are numbered by
    arithmetic (value × 2 − lowest + 1, blank → 0), which is several times cheaper than hashing.
    Anything else (fractions, infinities, text) is hashed. Either way -0.0 and 0.0 are one value,
    as they are for pd.factorize.
    """
    n = len(c)
    if c.dtype.kind in "iu" and n and c.min() >= 0 and c.max() < 64:  # small codes: use as they are
        return c.astype(np.int64), int(c.max()) + 1
    if c.dtype.kind == "f" and n:
        t = c * 2.0
        lo, hi = np.fmin.reduce(t), np.fmax.reduce(t)  # NaN only when every value is blank
        if -2**31 <= lo <= hi <= 2**31 and hi - lo <= 4 * n:
            blank = np.isnan(t)
            if ((np.rint(t) == t) | blank).all():  # whole or half numbers: the shift below is exact
                t -= lo - 1.0
                t[blank] = 0.0
                return t.astype(np.int64), int(hi - lo) + 2
    if c.dtype.kind == "U" and n:  # a rule's cases: a handful of short strings, compared one by one
        codes, left = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
        for k in range(8):
            same = c == c[left.argmax()]
            codes[same] = k
            left &= ~same
            if not left.any():
                return codes, k + 1
    codes, uniq = pd.factorize(c, use_na_sentinel=True)
    return codes + 1, len(uniq) + 1


def _first_appearance(key: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber ``key`` (0 ≤ key < span) in order of first appearance; also the first row of each code."""
    n = len(key)
    if n <= _FEW:  # a handful of rows (adjusted units): a dict is cheaper than a dozen array passes
        seen: dict[int, int] = {}
        codes, first = [], []
        for row, v in enumerate(key.tolist()):
            c = seen.get(v)
            if c is None:
                c = seen[v] = len(first)
                first.append(row)
            codes.append(c)
        return np.array(codes, dtype=np.int64), np.array(first, dtype=np.int64)
    if span > 4 * n + 1024:  # sparse keys: hash them; the first row of code c is where the running
        key, _ = pd.factorize(key)  # maximum of the codes first reaches c
        return key, np.flatnonzero(np.diff(np.maximum.accumulate(key), prepend=-1) > 0)
    first_at = np.full(span, n, dtype=np.int64)
    np.minimum.at(first_at, key, np.arange(n))
    present = np.flatnonzero(first_at < n)
    order = np.argsort(first_at[present])
    renumber = np.empty(span, dtype=np.int64)
    renumber[present[order]] = np.arange(len(order))
    return renumber[key], first_at[present[order]]


def _dedupe(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of identical rows over the given columns, and the first row of each code.

    Codes are numbered in order of first appearance. The columns' codes are combined into
    one mixed-radix key, so only one key per row is renumbered.
    """
    n = len(columns[0])
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for c in columns:
        codes, width = _column_codes(c)
        if span * width >= 2**62:  # re-number before the mixed-radix key could overflow
            key, kept = pd.factorize(key)
            span = len(kept)
        key = key * width + codes
        span *= width
    return _first_appearance(key, span)


class _EvidenceText:
    """「支委会召开次数=4；……」 for one item's rows; each field's part is formatted once per distinct value."""

    def __init__(self, labels: list[tuple[str, FieldDef | None]]):
        self.labels = labels
        self.parts: list[dict[float, str]] = [{} for _ in labels]

    def __call__(self, row: list[float]) -> str:
        out = []
        for (label, f), cache, v in zip(self.labels, self.parts, row):
            if v is None or v != v:  # blank (NaN never finds itself in a dict)
                out.append(f"{label}=未报")
                continue
            part = cache.get(v)
            if part is None:
                if f is not None and f.kind == "bool" and v >= 0:
                    s = "是" if v > 0 else "否"
                else:
                    s = fmt_number(v) + ("%" if f is not None and f.unit == "%" else "")
                part = cache[v] = f"{label}={s}"
            out.append(part)
        return "；".join(out)


def _label(table: IndicatorTable, name: str) -> tuple[str, FieldDef | None]:
    f = table.fields.get(name)
    return (f.label if f else name), f


_DETAIL_RULES = ("bonus", "penalty", "deduction")  # rules whose templates use {detail}


class _RuleContext:
    """Template values of one item's rule for the first row of each distinct key (``first``).

    ``text`` formats one of those rows with values set in this order (a later name wins): name,
    points, got, lost, cap, field/value per field, the numeric parameters, the rule's facts, and
    the bonus detail. What is the same for every unit (name, points, cap, fields, parameters) is
    written into each case's template once; per row only the unit's own values are formatted, and
    only those the template uses (the others could not change the text).
    """

    _names: dict[str, frozenset[str]] = {}  # template → the names it uses (templates are few)
    _parsed: dict[str, tuple | None] = {}  # template → its parts (see _parse)
    _fmt = string.Formatter()

    def __init__(self, table: IndicatorTable, item: Item, rule, params: dict, points: float, out,
                 first: np.ndarray):
        self.table, self.item, self.rule, self.points = table, item, rule, points
        self.labels = [_label(table, f) for f in item.fields]
        self.f0 = self.labels[0][1] if self.labels else None
        # got, lost and value are the unit's own; none of them shares a name with these.
        self.fixed = {"name": item.name, "points": fmt_number(points),
                      "cap": fmt_number(item.cap if item.cap is not None else points)}
        self.value_keys = []
        for k, (label, _) in enumerate(self.labels):
            suffix = "" if k == 0 else str(k + 1)
            self.fixed["field" + suffix] = label
            self.value_keys.append("value" + suffix)
        self.params = {k: fmt_kind(v, rule.param_kinds.get(k, PLAIN), self.f0) for k, v in params.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)}
        # The rule's result at the first rows, as Python values (one gather per array, not per row).
        self.cases = [str(c) for c in out.case[first].tolist()]
        self.got = out.points[first].tolist()
        self.facts = {k: (arr[first].tolist(), kind) for k, (arr, kind) in out.facts.items()}
        self.compiled: dict[str, tuple[str, frozenset[str], bool]] = {}

    @classmethod
    def _uses(cls, template: str) -> frozenset[str]:
        names = cls._names.get(template)
        if names is None:  # "{a.b}" / "{a[0]}" look up "a", as format_map does
            names = frozenset(f.split(".")[0].split("[")[0] for _, f, _, _ in cls._fmt.parse(template)
                              if f is not None)
            cls._names[template] = names
        return names

    @classmethod
    def _parse(cls, template: str) -> tuple | None:
        """The template's parts as (literal with braces escaped, name, spec, conversion, placeholder);
        None when a name is an attribute or index lookup or a spec nests a field (formatted in full)."""
        if template in cls._parsed:
            return cls._parsed[template]
        parts = []
        for literal, name, spec, conv in cls._fmt.parse(template):
            if name is not None and (name != name.split(".")[0].split("[")[0] or "{" in (spec or "")):
                parts = None
                break
            placeholder = None if name is None else (
                "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}")
            parts.append((literal.replace("{", "{{").replace("}", "}}"), name, spec or "", conv, placeholder))
        cls._parsed[template] = None if parts is None else tuple(parts)
        return cls._parsed[template]

    def _compile(self, case: str) -> tuple[str, frozenset[str], bool]:
        """(template with the fixed values written in, names left to fill per row, whether it is partial)."""
        template = self.rule.template(case)
        uses = self._uses(template)
        parsed = self._parse(template)
        if parsed is None:
            return template, uses, False
        dynamic = frozenset(n for n in uses if n in self.facts or (n == "detail" and self.rule.name in _DETAIL_RULES)
                            or (n not in self.params and (n in ("got", "lost") or n in self.value_keys)))
        fixed = _Blank(self.fixed)
        fixed.update(self.params)
        out = []
        for literal, name, spec, conv, placeholder in parsed:
            out.append(literal)
            if name is None:
                continue
            if name in dynamic:
                out.append(placeholder)
            else:
                text = fixed[name] if not spec and not conv else \
                    self._fmt.format_field(self._fmt.convert_field(fixed[name], conv), spec)
                out.append(str(text).replace("{", "{{").replace("}", "}}"))
        return "".join(out), dynamic, True

    def text(self, k: int, vals: list[float]) -> str:
        """The explanation for the ``k``-th first row, whose field values are ``vals``."""
        case = self.cases[k]
        compiled = self.compiled.get(case)
        if compiled is None:
            compiled = self.compiled[case] = self._compile(case)
        template, uses, partial = compiled
        ctx = _Blank() if partial else _Blank(self.fixed)
        if "got" in uses:
            ctx["got"] = fmt_number(self.got[k])
        if "lost" in uses:
            ctx["lost"] = fmt_number(self.points - self.got[k])
        for j, (key, (_, f)) in enumerate(zip(self.value_keys, self.labels)):
            if key in uses:
                ctx[key] = fmt_kind(vals[j], "field", f)
        if not partial:
            ctx.update(self.params)  # parameters were always set after the unit's values
        for name, (values, kind) in self.facts.items():
            if name in uses:
                if kind == "field_names":  # 「a、b」 of field names → their labels
                    ctx[name] = "、".join(_label(self.table, f)[0] for f in str(values[k]).split("、") if f)
                else:
                    ctx[name] = fmt_kind(values[k], kind, self.f0)
        if self.rule.name in _DETAIL_RULES and "detail" in uses:
            ctx["detail"] = rate_detail(self.item, tuple(vals), self.table.fields)
        return template.format_map(ctx)


# ---------------------------------------------------------------- scoring
class _Text:
    """A text column kept as codes into distinct strings (few per item), extended row by row when needed."""

    def __init__(self, codes: np.ndarray, texts: np.ndarray):
        self.codes, self.texts = np.asarray(codes, dtype=np.int64), texts

    def assign(self, rows: np.ndarray, text: str) -> None:
        """Give the given rows one text instead of theirs."""
        if len(rows):
            self.codes = self.codes.copy()  # codes may be shared with another column
            self.codes[rows] = len(self.texts)
            self.texts = np.concatenate([self.texts, np.array([text], dtype=object)])

    def append(self, rows: np.ndarray, codes: np.ndarray, suffixes: np.ndarray) -> None:
        """Append ``suffixes[codes]`` to the given rows (ascending); a blank suffix adds nothing.

        Each distinct (text, suffix) pair is joined once, in order of its first row, so the distinct
        strings appear in the same order as if every row had been extended on its own.
        """
        keep = (suffixes != "")[codes]
        rows, codes = rows[keep], codes[keep]
        if not len(rows):
            return
        # The pair key already lies in [0, texts × suffixes): number it directly, no hashing
        # (most calls touch a handful of rows, where _dedupe's set-up would dominate).
        pair, first = _first_appearance(self.codes[rows] * len(suffixes) + codes, len(self.texts) * len(suffixes))
        extra = self.texts[self.codes[rows[first]]] + suffixes[codes[first]]
        self.codes = self.codes.copy()
        self.codes[rows] = len(self.texts) + pair
        self.texts = np.concatenate([self.texts, extra])


def _code_dtype(n_categories: int) -> type:
    """The integer type pandas keeps a categorical's codes in: codes built in it are not converted again."""
    for t in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(t).max:
            return t
    return np.int64


def _categorical(columns: list[_Text]) -> pd.Categorical:
    """Item-major categorical over several items' text columns, with one category per distinct string."""
    if not columns:
        return pd.Categorical([])
    offsets = np.cumsum([0] + [len(c.texts) for c in columns])
    remap, cats = pd.factorize(np.concatenate([c.texts for c in columns]))
    remap = remap.astype(_code_dtype(len(cats)))
    codes = np.concatenate([remap[offsets[j]:offsets[j + 1]][c.codes] for j, c in enumerate(columns)])
    return pd.Categorical.from_codes(codes, categories=cats)


@dataclass
class _ItemText:
    """What the items frame still needs of an item once its numbers are in the block."""

    item: Item
    kind: str
    status: np.ndarray
    explanation: _Text
    evidence: _Text


@dataclass
class _ItemColumns:
    item: Item
    kind: str
    points: np.ndarray
    max: np.ndarray
    status: np.ndarray      # codes into STATUS_CATEGORIES
    explanation: _Text
    evidence: _Text
    deducted: np.ndarray
    code: np.ndarray | None = None  # internal status codes (base items)


def _field_values(raw: np.ndarray, col: dict[str, int], names: tuple[str, ...], table: IndicatorTable):
    """(raw columns, valid columns with invalid → NaN, invalid mask) for some fields."""
    n = raw.shape[0]
    raws, vals, bad = [], [], np.zeros(n, dtype=bool)
    for name in names:
        r = raw[:, col[name]] if name in col else np.full(n, np.nan)
        f = table.fields.get(name)
        with np.errstate(invalid="ignore"):
            inv = np.isinf(r) | ((r < 0) if (f is None or f.kind != "number") else np.zeros(n, dtype=bool))
        raws.append(r)
        vals.append(np.where(inv, np.nan, np.round(r, 9)))
        bad |= inv
    return raws, vals, bad


# ---------------------------------------------------------------- activity records
@dataclass
class _FieldRecords:
    """One from_records field once the period's record source has decided, per unit, which value counts.

    The explanation suffix comes in two parts, each a code per unit into a few texts: the source and
    counts (「；依据活动记录：支委会 10 次；1 次出席率低于 80%，不计入」) and the missing months
    (「；3 月、7 月未召开」, only where the records count; the regular rule's own text names them).
    """

    counts: Any            # scoring.records.FieldCounts
    used: np.ndarray       # bool per unit: the records' count is the value scored
    code: np.ndarray       # int64 per unit → texts
    texts: np.ndarray      # object
    month_code: np.ndarray  # int64 per unit → month_texts (0: nothing to add)
    month_texts: np.ndarray
    missing_code: np.ndarray  # float per unit: distinct missing-month pattern where records count, else 0


@dataclass
class _Records:
    fields: dict[str, _FieldRecords]
    frame: pd.DataFrame


def _period_slots(regular: str | None, span, half: bool) -> int:
    """Months/quarters a regular field is checked over: from the span, or the period kind without one."""
    if span is not None:
        return record_slots(span, regular)[1]
    per_year = 4 if regular == "quarterly" else 12
    return per_year // 2 if half else per_year


def _record_suffixes(fc, used: np.ndarray, pct: float | None) -> tuple:
    """Per unit: a code into suffix texts saying which value counted and what the records hold, and a
    code into the missing-month texts."""
    # The few distinct (used, any, valid, below) combinations, numbered arithmetically (counts are small).
    v, b = fc.valid, fc.below
    width_v, width_b = int(v.max(initial=0)) + 1, int(b.max(initial=0)) + 1
    key = ((used.astype(np.int64) * 2 + fc.any) * width_v + v) * width_b + b
    uniq, code = np.unique(key, return_inverse=True)
    texts = np.empty(len(uniq), dtype=object)
    t = fc.activity_type
    for j, kv in enumerate(uniq.tolist()):
        bb = kv % width_b
        vv = (kv // width_b) % width_v
        anyr = (kv // width_b // width_v) % 2
        u = kv // width_b // width_v // 2
        low = f"{bb} 次出席率低于 {fmt_number(pct)}%，不计入" if bb and pct is not None else ""
        if u:
            texts[j] = f"；依据活动记录：{t} {vv} 次" + (f"；{low}" if low else "")
        elif anyr:
            texts[j] = f"；依据填报值（活动记录：{t} {vv} 次{'，' + low if low else ''}）"
        else:
            texts[j] = ""
    mcode, labels = pd.factorize(fc.missing)
    month_code = np.where(used, mcode + 1, 0).astype(np.int64)
    month_texts = np.array([""] + [f"；{m}未召开" if m else "" for m in labels], dtype=object)
    return code.reshape(-1).astype(np.int64), texts, month_code, month_texts, month_code.astype(float)


def _apply_records(table: IndicatorTable, records: pd.DataFrame, span, source: str, unit_index: pd.Index,
                   col: dict[str, int], raw: np.ndarray, half: bool) -> _Records:
    """Derive the record counts, write the counted ones into ``raw`` and build the record_counts frame."""
    specs = {f: table.fields[f] for f in table.record_fields}
    counts = derive_records(records, unit_index, specs, span)
    n = len(unit_index)
    out: dict[str, _FieldRecords] = {}
    rows_all, parts = [], {c: [] for c in ("typed", "records", "below", "missing", "n_missing", "periods", "used")}
    names = list(counts)
    for name, fc in counts.items():
        f = specs[name]
        j = col.get(name)
        typed = raw[:, j].copy() if j is not None else np.full(n, np.nan)
        if source == "records":
            used = np.ones(n, dtype=bool)
        elif source == "records_if_any":
            used = fc.any.copy()
        else:
            used = np.zeros(n, dtype=bool)
        if j is not None and used.any():
            value = (fc.valid > 0).astype(float) if f.kind == "bool" else fc.valid.astype(float)
            raw[used, j] = value[used]
        out[name] = _FieldRecords(fc, used, *_record_suffixes(fc, used, f.min_attendance_pct))
        rows = np.flatnonzero(~np.isnan(typed) | fc.any)
        rows_all.append(rows)
        parts["typed"].append(typed[rows])
        parts["records"].append(fc.valid[rows])
        parts["below"].append(fc.below[rows])
        parts["missing"].append(fc.missing[rows])
        parts["n_missing"].append(fc.n_missing[rows])
        parts["periods"].append(np.full(len(rows), fc.periods, dtype=np.int64))
        parts["used"].append(used[rows])
    if not names:
        return _Records(out, pd.DataFrame(columns=RECORD_COUNT_COLUMNS))
    which = np.repeat(np.arange(len(names)), [len(r) for r in rows_all])
    cat = {c: np.concatenate(v) for c, v in parts.items()}
    frame = pd.DataFrame({
        "unit": _text(unit_index, np.concatenate(rows_all)),
        "field": np.array(names, dtype=object)[which],
        "activity_type": np.array([counts[x].activity_type for x in names], dtype=object)[which],
        "typed": cat["typed"].astype(float), "records": cat["records"].astype(np.int64),
        "below": cat["below"].astype(np.int64), "missing": cat["missing"].astype(object),
        "n_missing": cat["n_missing"].astype(np.int64), "periods": cat["periods"],
        "used": np.array([USED_TYPED, USED_RECORDS], dtype=object)[cat["used"].astype(np.int64)],
    }, columns=RECORD_COUNT_COLUMNS)
    return _Records(out, frame)


def _rhythm(table: IndicatorTable, name: str, rec: _Records | None, span, half: bool, n: int) -> dict:
    """The ``regular`` rule's facts for one field (see RuleInput.rhythm)."""
    f = table.fields.get(name)
    regular = f.regular if f is not None else None
    fr = rec.fields.get(name) if rec is not None else None
    if fr is None:
        return {"n_missing": None, "missing": None, "periods": _period_slots(regular, span, half),
                "regular": regular, "code": None}
    fc = fr.counts
    return {"n_missing": np.where(fr.used, fc.n_missing.astype(float), np.nan),
            "missing": np.where(fr.used, fc.missing, ""), "periods": fc.periods, "regular": regular,
            "code": fr.missing_code}


def _score_base(table: IndicatorTable, item: Item, raw: np.ndarray, col: dict[str, int], half: bool,
                adj: _Adjustments, applies: np.ndarray | None = None, groups: np.ndarray | None = None,
                scope_text: str = "", rec: _Records | None = None, span=None) -> _ItemColumns:
    n = raw.shape[0]
    rule = RULES.get(item.rule)
    params = item.params_for(half)
    pts_full = float(item.points)
    is_manual = item.rule == "manual"
    if is_manual:
        jv, jwhy = adj.judgement.get(item.code, (np.full(n, np.nan), None))
        raws, vals, bad = [jv], [jv], np.zeros(n, dtype=bool)
    else:
        raws, vals, bad = _field_values(raw, col, item.fields, table)
        jwhy = None
    missing = np.zeros(n, dtype=bool)
    for r in raws:
        missing |= np.isnan(r)
    if is_manual and "deduct_range" in item.params:
        missing[:] = False  # no deduction entered: nothing found, full points

    code = np.full(n, _NOT_MET, dtype=np.int8)
    gate_raw = None
    gate_name = (item.not_applicable_when or {}).get("field")
    if gate_name:
        (gate_raw,), (gate_val,), gate_bad = _field_values(raw, col, (gate_name,), table)
        equals = item.not_applicable_when.get("equals", 0)
        with np.errstate(invalid="ignore"):
            gate_na = gate_val == np.round(float(equals), 9)
        missing |= np.isnan(gate_raw)
        bad |= gate_bad

    not_due = item.period == PERIOD_ANNUAL and half
    if rule is None:  # unknown rule type: validation reports it; score it as 缺报 so nothing is made up
        out_pts, out = np.zeros(n), None
        missing[:] = True
    elif not_due:  # every row ends up 未到期 below: the rule's result would not be used
        out_pts, out = np.zeros(n), None
    else:
        if applies is not None and item.rule == "rank":  # ranked among the units it applies to only
            vals = [np.where(applies, v, np.nan) for v in vals]
        rhythm = _rhythm(table, item.fields[0], rec, span, half, n) if item.rule == "regular" and item.fields else None
        out = rule.fn(RuleInput(tuple(vals), params, pts_full, item, groups, rhythm))
        out_pts = np.round(out.points, ROUND)
        code = np.where(out_pts >= pts_full, np.int8(_MET), code)  # np.where: dense masks assign slowly

    code[missing] = _MISSING
    code[bad] = _INVALID
    if gate_name:
        code[gate_na] = _NA_GATE  # a valid gate saying 不适用 wins over blank or invalid item values
    if applies is not None:
        code[~applies] = _NA_SCOPE  # the unit's category or kind is not one the item applies to
    if not_due:
        code[:] = _NOT_DUE
    # Up to here the status follows from the evidence alone, so the evidence is the key of the
    # explanations; the inspectors' marks and deductions below change a few rows afterwards.
    evidence_code = code.copy()
    insp_why = None if not_due else adj.not_applicable.get(item.code)
    if insp_why is not None:
        code[insp_why.rows] = _NA_INSPECTOR

    if not_due:  # 未到期 overrides every other status: nothing is scored or counted, no adjustment applies
        points, deducted, mx = np.zeros(n), np.zeros(n), np.zeros(n)
        jwhy = ded_txt = None
    else:
        scored = code <= _NOT_MET
        points = np.where(scored, out_pts, 0.0)
        deducted = np.zeros(n)
        ded, ded_txt = adj.deduction.get(item.code, (None, None))
        if ded_txt is not None:  # deductions touch few units: only their rows change (status included)
            rows = ded_txt.rows[scored[ded_txt.rows]]
            after = np.maximum(0.0, np.round(out_pts[rows] - ded[rows], ROUND))
            points[rows] = after
            deducted[rows] = np.round(out_pts[rows] - after, ROUND)
            code[rows] = np.where(after >= pts_full, np.int8(_MET), np.int8(_NOT_MET))
        mx = np.where(_OUT_OF_MAX[code], 0.0, pts_full)

    # Explanations: formatted once per distinct evidence (which decides the status before the
    # inspectors' adjustments) and broadcast.
    gate_extra = gate_raw is not None and gate_name not in item.fields
    key_cols = raws + ([gate_raw] if gate_extra else []) + ([applies.astype(float)] if applies is not None else [])
    if item.rule == "regular" and rec is not None and item.fields and item.fields[0] in rec.fields:
        key_cols.append(rec.fields[item.fields[0]].missing_code)  # the missing months are in the text
    key, first = _dedupe(*(key_cols or [evidence_code]))  # no fields at all: the status alone
    names = list(item.fields) + ([gate_name] if gate_extra else [])
    gate_pos = names.index(gate_name) if gate_raw is not None else -1
    labels = [_label(table, f) for f in names]
    if is_manual:
        labels = [("考核组评定", None)]
    expl_u = np.empty(len(first), dtype=object)
    evid_u = np.empty(len(first), dtype=object)
    context = _RuleContext(table, item, rule, params, pts_full, out, first) if out is not None else None
    evidence_text = _EvidenceText(labels)
    # The first row of each key, gathered once as Python numbers.
    values_first = [c[first].tolist() for c in key_cols]
    rows = list(zip(*values_first)) if values_first else [()] * len(first)
    for k, (c, row) in enumerate(zip(evidence_code[first].tolist(), rows)):
        evid_u[k] = evidence_text(row) if not is_manual or not math.isnan(row[0]) else "考核组评定=未评定"
        if c == _NOT_DUE:
            expl_u[k] = NOT_DUE_TEXT
        elif c == _NA_SCOPE:
            expl_u[k] = SCOPE_NA_TEXT.format(scope=scope_text)
        elif c == _NA_GATE:
            na = item.not_applicable_when
            expl_u[k] = (f"{na['reason']}，不适用" if na.get("reason") else
                         _gate_text(*labels[gate_pos], row[gate_pos]))
        elif c == _INVALID:
            j = next((j for j, v in enumerate(row) if math.isinf(v) or v < 0), 0)
            expl_u[k] = INVALID_TEXT.format(field=labels[j][0], raw=fmt_number(row[j]) if math.isfinite(row[j])
                                            else ("无穷大" if math.isinf(row[j]) else "未报"))
        elif c == _MISSING:
            if is_manual:
                expl_u[k] = MANUAL_MISSING_TEXT
            elif rule is None:
                expl_u[k] = f"评分类型「{item.rule}」未知，按缺报计 0 分"
            else:
                expl_u[k] = MISSING_TEXT.format(fields="、".join(lb for (lb, _), v in zip(labels, row)
                                                                   if math.isnan(v)))
        else:
            expl_u[k] = context.text(k, row)
    explanation = _Text(key, expl_u)
    if rec is not None and not is_manual:
        shown = np.flatnonzero(~np.isin(evidence_code, (_NOT_DUE, _NA_SCOPE, _NA_GATE)))
        for f in item.fields:
            fr = rec.fields.get(f)
            if fr is not None and len(shown):
                explanation.append(shown, fr.code[shown], fr.texts)
                if item.rule != "regular":  # the regular rule's text names the missing months itself
                    explanation.append(shown, fr.month_code[shown], fr.month_texts)
    if insp_why is not None:
        explanation.assign(insp_why.rows, INSPECTOR_NA_TEXT)
    if jwhy is not None:
        judged = code[jwhy.rows] <= _NOT_MET
        explanation.append(jwhy.rows[judged], jwhy.codes[judged], jwhy.texts)
    if ded_txt is not None:
        hit = scored[ded_txt.rows] & (ded_txt.texts != "")[ded_txt.codes]
        rows, codes = ded_txt.rows[hit], ded_txt.codes[hit]
        # Points that would go below 0 say so: the floored texts follow the plain ones.
        floor = np.round(out_pts[rows] - ded[rows], ROUND) < 0
        explanation.append(rows, codes + np.where(floor, len(ded_txt.texts), 0),
                           np.concatenate([ded_txt.texts, ded_txt.texts + "（本项扣完为止）"]))
    if insp_why is not None:
        explanation.append(insp_why.rows, insp_why.codes, insp_why.texts)
    return _ItemColumns(item, KIND_BASE, points, mx, _STATUS_PUBLIC[code], explanation, _Text(key, evid_u),
                        deducted, code)


def _gate_text(label: str, f: FieldDef | None, v: float) -> str:
    """「未设党小组，不适用」「发展计划数为 0 人，不适用」."""
    if f is not None and f.kind == "bool":
        if v > 0:
            return f"{label}为是，不适用"
        for yes, no in (("设有", "未设"), ("有", "无"), ("是否", "未")):
            if label.startswith(yes):
                return f"{no}{label[len(yes):]}，不适用"
        return f"{label}为否，不适用"
    return GATE_NA_TEXT.format(field=label, value=" " + fmt_kind(v, "field", f))


def _score_extra(table: IndicatorTable, item: Item, raw: np.ndarray, col: dict[str, int],
                 kind: str) -> _ItemColumns:
    """Bonus and veto rows: blank or invalid evidence counts 0 / 否."""
    n = raw.shape[0]
    rule = RULES.get(item.rule)
    raws, vals, _ = _field_values(raw, col, item.fields, table)
    cap = float(item.cap if item.cap is not None else (math.inf if kind == KIND_PENALTY else item.points))
    if rule is None or not vals:
        out_pts, case, out = np.zeros(n), np.full(n, "none", dtype=object), None
    else:
        out = rule.fn(RuleInput(tuple(vals), item.params_for(False), cap, item))
        out_pts, case = np.round(out.points, ROUND), out.case
    # Rules work row by row, so the case follows from the raw values: as for base items, the
    # values alone are the key (numbering the case's text would cost more than the rule).
    key, first = _dedupe(*raws) if raws else (np.zeros(n, dtype=np.int64), np.zeros(min(n, 1), dtype=int))
    labels = [_label(table, f) for f in item.fields]
    expl_u = np.empty(len(first), dtype=object)
    evid_u = np.empty(len(first), dtype=object)
    context = _RuleContext(table, item, rule, item.params_for(False), cap, out, first) if out is not None else None
    evidence_text = _EvidenceText(labels)
    values_first = [c[first].tolist() for c in raws]
    rows = list(zip(*values_first)) if values_first else [()] * len(first)
    for k, (i, row) in enumerate(zip(first.tolist(), rows)):
        evid_u[k] = evidence_text(row)
        if out is None:
            expl_u[k] = f"评分类型「{item.rule}」未知，未计分" if rule is None else "未设数据项"
            continue
        text = context.text(k, [0.0 if math.isnan(v) else v for v in row])
        if kind == KIND_VETO and case[i] == "none" and any(math.isnan(v) for v in row):
            text = "未报送，按未发生计"
        expl_u[k] = text
    if kind == KIND_BONUS:
        status = np.where(out_pts > 0, _S[g.BONUS_AWARDED], _S[g.BONUS_NONE])
        mx = np.full(n, cap)
    elif kind == KIND_PENALTY:  # points hold what is subtracted; nothing counts in the maximum
        status = np.where(out_pts > 0, _S[g.PENALTY_APPLIED], _S[g.BONUS_NONE])
        mx = np.zeros(n)
    else:
        status = np.where(case == "main", _S[g.VETO_TRIGGERED], _S[g.VETO_NONE])
        out_pts, mx = np.zeros(n), np.zeros(n)
    return _ItemColumns(item, kind, out_pts, mx, status, _Text(key, expl_u), _Text(key, evid_u), np.zeros(n))


def _penalties(table: IndicatorTable, cols: list[tuple[Item, np.ndarray]], n: int
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(all penalty points per unit, the part of them per named component).

    Item caps are applied by the rule; ``penalty_cap`` caps the sum (validation keeps it apart from
    component penalties, so the cap never has to be shared out between components).
    """
    total = np.zeros(n)
    per_comp: dict[str, np.ndarray] = {}
    for it, pts in cols:
        total = total + pts
        if it.component:
            per_comp[it.component] = per_comp.get(it.component, np.zeros(n)) + pts
    total = np.round(total, ROUND)
    if table.penalty_cap is not None:
        total = np.minimum(total, table.penalty_cap)
    return total, {c: np.round(v, ROUND) for c, v in per_comp.items()}


def _weighted(table: IndicatorTable, unit_index: pd.Index, pts: dict[str, np.ndarray], mx: dict[str, np.ndarray],
              penalty: dict[str, np.ndarray]) -> tuple[np.ndarray, pd.DataFrame, dict[str, np.ndarray]]:
    """Each component rescaled to the table's scale, less its penalties (floor 0), then weighted.

    A component with nothing due and applicable for a unit drops out and the other weights are
    renormalised (as 不适用 items drop out of a component).
    """
    n = len(unit_index)
    num, den = np.zeros(n), np.zeros(n)
    scores: dict[str, np.ndarray] = {}
    rows = []
    for c, w in table.weights.items():
        p, m = np.round(pts[c], ROUND), np.round(mx[c], ROUND)
        with np.errstate(invalid="ignore", divide="ignore"):
            sc = np.where(m > 0, np.round(p * table.base_scale / np.where(m > 0, m, 1), ROUND), np.nan)
        if c in penalty:
            sc = np.where(np.isnan(sc), sc, np.maximum(0.0, np.round(sc - penalty[c], ROUND)))
        present = m > 0
        num += np.where(present, w * np.nan_to_num(sc), 0.0)
        den += np.where(present, w, 0.0)
        scores[c] = sc
        rows.append(pd.DataFrame({"unit": unit_index.to_numpy(object), "component": c, "points": p, "max": m,
                                  "score": sc, "weight": np.where(present, w, 0.0)}))
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(den > 0, np.round(num / np.where(den > 0, den, 1), ROUND), np.nan)
    frame = pd.concat(rows, ignore_index=True)[COMPONENT_COLUMNS] if rows else pd.DataFrame(columns=COMPONENT_COLUMNS)
    return base, frame, scores


@dataclass
class _GradeFacts:
    """What grade conditions (``grades[].requires``) may look at."""

    raw: np.ndarray
    col: dict[str, int]
    core_met: np.ndarray
    core_due: np.ndarray
    components: dict[str, np.ndarray]


def _condition(table: IndicatorTable, cond: dict, facts: _GradeFacts, n: int) -> tuple[np.ndarray, str]:
    """(units meeting one grade condition, its Chinese wording)."""
    if "core" in cond:
        return facts.core_met >= facts.core_due, "★指标全部达标"
    if "component" in cond:
        sc = facts.components.get(cond["component"], np.full(n, np.nan))
        with np.errstate(invalid="ignore"):
            return np.round(sc, ROUND) >= float(cond["min"]), f"{cond['component']}得分不低于 {fmt_number(cond['min'])} 分"
    name = cond["field"]
    label, f = _label(table, name)
    v = facts.raw[:, facts.col[name]] if name in facts.col else np.full(n, np.nan)
    with np.errstate(invalid="ignore"):
        if "equals" in cond:
            want = cond["equals"]
            want_v = {"是": 1.0, "否": 0.0, True: 1.0, False: 0.0}.get(want, want)
            return np.round(v, 9) == np.round(float(want_v), 9), f"{label}为{want}"
        ok = np.ones(n, dtype=bool)
        words = []
        if "min" in cond:
            ok &= v >= float(cond["min"])
            words.append(f"{label}不低于 {fmt_kind(float(cond['min']), 'field', f)}")
        if "max" in cond:
            ok &= v <= float(cond["max"])
            words.append(f"{label}不高于 {fmt_kind(float(cond['max']), 'field', f)}")
    return ok, "、".join(words)


def _grades(table: IndicatorTable, total: np.ndarray, veto_hits: list[tuple[Item, np.ndarray]],
            facts: _GradeFacts, u: pd.DataFrame, display: np.ndarray, overrides: pd.DataFrame | None,
            notes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grade, grade order, the rule that decided it) per unit, in this order of decisions:

    1. the band of the total (first grade from the top whose ``min`` the total reaches);
    2. ``requires``: a unit failing a grade's condition moves down one grade (checked again there);
    3. vetoes: ``mode: set`` fixes the grade (worst of several), ``mode: cap`` only bounds it;
    4. quotas, grade by grade from the top, per ``quota_scope``: beyond ``max_pct`` (rounded down) the
       last units in display order move down; short of ``min_pct`` (rounded up) the last units in
       display order of the better grades move into it;
    5. inspectors' 直接定级 (only when the table allows it).
    """
    labels = [gr.label for gr in table.grades]
    nl, n = len(labels), len(total)
    order = np.full(n, nl, dtype=np.int64)
    valid = ~np.isnan(total)
    with np.errstate(invalid="ignore"):
        for k in range(nl - 1, -1, -1):  # lowest band first, better bands overwrite
            order[np.round(total, ROUND) >= table.grades[k].min] = k
        order[valid & (order == nl)] = nl - 1  # below every band: the last one
    band = [f"总分达到{gr.label}分数线 {fmt_number(gr.min)} 分" for gr in table.grades]
    if nl > 1:
        band[-1] = f"总分低于{labels[-2]}分数线 {fmt_number(table.grades[-2].min)} 分"
    reason = np.array(band + [""], dtype=object)[order]

    for k, gr in enumerate(table.grades[:-1]):
        for cond in gr.requires:
            ok, words = _condition(table, cond, facts, n)
            fail = (order == k) & valid & ~ok
            if fail.any():
                order[fail] = k + 1
                reason[fail] = f"未满足{gr.label}的条件（{words}），定为{labels[k + 1]}"

    fixed = np.full(n, -1, dtype=np.int64)
    for it, hit in veto_hits:
        target = labels.index(it.grade or table.veto_grade) if (it.grade or table.veto_grade) in labels else nl - 1
        hit = hit & valid
        if it.mode == VETO_CAP:
            lower = hit & (order < target)
            order[lower] = target
            reason[lower] = f"因「{it.name}」，最高定为{labels[target]}"
        else:
            worse = hit & (target >= fixed)
            fixed[worse] = target
            reason[worse] = f"一票否决：{it.name}，定为{labels[target]}"
    order = np.where(fixed >= 0, fixed, order)

    if any(gr.max_pct is not None or gr.min_pct is not None for gr in table.grades) and n:
        scope = (np.zeros(n, dtype=np.int64) if table.quota_scope == "all"
                 else pd.factorize(u["category"].to_numpy(object))[0])
        by_display = np.argsort(display, kind="stable")
        for k, gr in enumerate(table.grades):
            for s_ in np.unique(scope[valid]):
                in_scope = by_display[(scope[by_display] == s_) & valid[by_display]]
                size = len(in_scope)
                if gr.max_pct is not None and k + 1 < nl:
                    allowed = math.floor(round(size * gr.max_pct / 100, 9))
                    members = in_scope[order[in_scope] == k]
                    moved = members[allowed:]
                    order[moved] = k + 1
                    reason[moved] = f"因名额限制（{gr.label}≤{fmt_number(gr.max_pct)}%）定为{labels[k + 1]}"
                if gr.min_pct is not None:
                    needed = math.ceil(round(size * gr.min_pct / 100, 9))
                    have = int((order[in_scope] == k).sum())
                    if have < needed:
                        better = in_scope[order[in_scope] < k][::-1][:needed - have]  # last in display order first
                        order[better] = k
                        reason[better] = f"因比例要求（{gr.label}≥{fmt_number(gr.min_pct)}%）定为{gr.label}"

    if overrides is not None and len(overrides) and {"unit", "grade"} <= set(overrides.columns):
        if not table.allow_override:
            notes.append(f"指标体系未允许直接定级（allow_override），{len(overrides)} 条直接定级未采用")
        else:
            pos = pd.Index(u["unit"].to_numpy(object)).get_indexer(overrides["unit"].to_numpy(object))
            why = overrides["reason"].to_numpy(object) if "reason" in overrides else [""] * len(overrides)
            for p, gl, r in zip(pos, overrides["grade"].to_numpy(object), why):
                if p >= 0 and gl in labels and valid[p]:
                    order[p] = labels.index(gl)
                    reason[p] = f"直接定级：{r}" if r else "直接定级"
    names = np.array(labels + [NO_GRADE], dtype=object)
    return names[order], order, reason


def _competition_rank(total: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Standard competition ranking (1, 2, 2, 4) by total desc; NaN totals rank last (tied).

    As pandas' ``rank(method="min", ascending=False, na_option="bottom")`` (per group when
    ``groups`` is given), with one sort instead of a groupby.
    """
    t = np.round(total, ROUND)
    key = np.where(np.isnan(t), np.inf, -t)  # highest first; blanks last, tied with each other
    pos = np.arange(len(t))
    if groups is None:
        order = np.argsort(key)  # ties share a rank whatever their order
        k = key[order]
        tie_start = np.maximum.accumulate(np.where(np.concatenate(([True], k[1:] != k[:-1])), pos, 0))
        rank = np.empty(len(t), dtype=np.int64)
        rank[order] = tie_start + 1
        return rank
    group = pd.factorize(groups)[0]
    order = np.argsort(key)
    order = order[np.argsort(group[order], kind="stable")]  # per group, by key within it
    k, group = key[order], group[order]
    new_group = np.concatenate(([True], group[1:] != group[:-1]))
    new_value = np.concatenate(([True], k[1:] != k[:-1]))
    group_start = np.maximum.accumulate(np.where(new_group, pos, 0))
    tie_start = np.maximum.accumulate(np.where(new_group | new_value, pos, 0))
    rank = np.empty(len(t), dtype=np.int64)
    rank[order] = tie_start - group_start + 1
    return rank


def _display_order(table: IndicatorTable, units: pd.DataFrame, cols: dict[str, np.ndarray],
                   sorted_position: np.ndarray) -> np.ndarray:
    """1, 2, ... by total desc, then the table's tie-breaks, then the unit code as text.

    ``sorted_position`` is each unit's place when the codes as numpy text are sorted. For codes
    that already are pandas text without NUL (numpy's fixed-width text drops trailing NULs) that
    orders the distinct codes exactly as a rank of the text does, without sorting again.
    """
    total = np.round(cols["total"], ROUND)
    keys: list[np.ndarray] = [np.where(np.isnan(total), np.inf, -total)]
    code = units["unit"]
    if code.dtype == _TEXT and "\x00" not in "".join(code.to_numpy(object)):  # no blank codes: see _clean_units
        code_rank = sorted_position
    else:
        code_rank = pd.Series(code.astype(str)).rank(method="dense").to_numpy()
    for name in list(table.tie_break) + ["code"]:
        spec = TIE_BREAK_KEYS.get(name)
        if spec is None:
            continue
        if name == "code":
            keys.append(code_rank)
            break
        v = np.nan_to_num(np.round(cols[name].astype(float), ROUND), nan=0.0)
        keys.append(-v if spec[1] == "desc" else v)
    order = np.lexsort(tuple(reversed(keys)))
    display = np.empty(len(order), dtype=np.int64)
    display[order] = np.arange(1, len(order) + 1)
    return display


def _applies_mask(spec: dict | None, u: pd.DataFrame) -> np.ndarray | None:
    """Units an ``applies_to`` covers (None: every unit): category in ``categories`` and kind in ``kinds``."""
    if not spec:
        return None
    ok = np.ones(len(u), dtype=bool)
    if spec.get("categories"):
        ok &= u["category"].isin([str(c) for c in spec["categories"]]).to_numpy()
    if spec.get("kinds"):
        kinds = u["kind"] if "kind" in u.columns else pd.Series([""] * len(u))
        ok &= kinds.isin([str(c) for c in spec["kinds"]]).to_numpy()
    return ok


def _scope_text(*specs: dict | None) -> str:
    parts = []
    for spec in specs:
        if spec:
            parts.extend("、".join(map(str, spec.get(k) or ())) for k in ("categories", "kinds") if spec.get(k))
    return "；".join(parts)


def score(table: IndicatorTable, evidence: pd.DataFrame, units: pd.DataFrame, period_kind: str,
          adjustments: pd.DataFrame | None = None, overrides: pd.DataFrame | None = None, *,
          records: pd.DataFrame | None = None, span: tuple | None = None,
          record_source: str = "typed") -> ScoreResult:
    """Score every unit in ``units`` against ``table`` for an ``"H1"`` or ``"year"`` period.

    ``units`` may carry a ``kind`` column (党支部 / 党总支 …) for items with ``applies_to.kinds``;
    ``overrides`` (unit, grade, reason) are inspectors' 直接定级, applied only when the table
    says ``allow_override: true``.

    ``records`` (scoring.records.RECORD_COLUMNS, current records only) with ``span`` = (start_date,
    end_date) feed the fields that say ``from_records``; ``record_source`` decides per unit × field
    which value counts: ``typed`` (the typed value; records are shown beside it), ``records`` (the
    count of valid records) or ``records_if_any`` (the records when the unit has ≥ 1 record of that
    type in the span, else the typed value). ``record_counts`` of the result lists both. Without
    ``records`` the result is exactly what it was before records existed (``regular`` items then
    score the typed value, checked over the span's months, or the period's 6/12 without a span).
    """
    if record_source not in RECORD_SOURCES:  # the caller's setting, not user data
        raise ValueError(f"record_source must be one of {RECORD_SOURCES}, got {record_source!r}")
    kind = _normalise_period(period_kind)
    half = kind == g.PERIOD_H1
    notes: list[str] = []
    u = _clean_units(units, notes)
    n = len(u)
    unit_index = pd.Index(_text(u["unit"]))
    col, raw = _evidence_matrix(table, evidence, unit_index, notes)
    rec = None
    if records is not None and table.record_fields:
        lacking = [c for c in RECORD_COLUMNS if c not in getattr(records, "columns", ())]
        if span is None:
            notes.append("未给出考核期起止日期，活动记录未使用")
        elif lacking:
            notes.append(f"活动记录缺少列 {'、'.join(lacking)}，未使用")
        else:
            rec = _apply_records(table, records, span, record_source, unit_index, col, raw, half)
    for f, j in col.items():  # missing: zero — a blank is 0 incidents, never 缺报
        if table.missing_mode(f) == MISSING_ZERO:
            c = raw[:, j]
            c[np.isnan(c)] = 0.0
    adj = _adjustments(adjustments, table, unit_index, notes)
    uses_rank = any(it.rule == "rank" for it in table.items)
    cat_codes = pd.factorize(u["category"].to_numpy(object))[0] if uses_rank else None
    comp_names = list(table.weights)

    # ---- items (item-major: every unit's row of the first item, then the next item ...)
    # Each item's columns are contiguous slices of the frame's blocks: written once, in order.
    specs = ([(it, KIND_BASE) for it in table.items] + [(it, KIND_BONUS) for it in table.bonus]
             + [(it, KIND_PENALTY) for it in table.penalty] + [(it, KIND_VETO) for it in table.veto])
    k = len(specs)
    # The float columns are written straight into one (columns × rows) block, the layout pandas
    # would consolidate them into anyway: the frame wraps it instead of copying 3 long columns.
    float_cols = ["points", "max", "deducted"]  # the evidence itself is in ``values`` (unit × field)
    block = np.empty((len(float_cols), n * k))
    # Per-unit sums are added item by item in table order while an item's columns are at hand,
    # so each item's arrays can go as soon as they are in the block (less memory to fault in).
    area_of = {it.code: j for j, a in enumerate(table.areas) for it in a.items}
    area_pts, area_max = [np.zeros(n) for _ in table.areas], [np.zeros(n) for _ in table.areas]
    comp_pts, comp_max = ({c: np.zeros(n) for c in comp_names}, {c: np.zeros(n) for c in comp_names})
    penalty_cols: list[tuple[Item, np.ndarray]] = []
    raw_points, raw_max, deductions, core_points = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    core_met, core_due, missing_count = (np.zeros(n, dtype=np.int64) for _ in range(3))
    bonus_cols, veto_cols, cols_all = [], [], []
    for j, (it, kind_) in enumerate(specs):
        if kind_ == KIND_BASE:
            area = table.areas[area_of[it.code]]
            applies = _applies_mask(area.applies_to, u)
            own = _applies_mask(it.applies_to, u)
            if own is not None:
                applies = own if applies is None else applies & own
            c = _score_base(table, it, raw, col, half, adj, applies, cat_codes,
                            _scope_text(area.applies_to, it.applies_to), rec, span)
        else:
            c = _score_extra(table, it, raw, col, kind_)
        for row, values in zip(block, (c.points, c.max, c.deducted)):
            row[j * n:(j + 1) * n] = values
        if kind_ == KIND_BASE:
            area_pts[area_of[it.code]] += c.points
            area_max[area_of[it.code]] += c.max
            raw_points += c.points
            raw_max += c.max
            deductions += c.deducted
            missing_count += _IS_MISSING[c.code]
            if it.core:
                core_points += c.points
                core_met += c.code == _MET
                core_due += c.max > 0
            if comp_names and area.component in comp_pts:
                comp_pts[area.component] += c.points
                comp_max[area.component] += c.max
        elif kind_ == KIND_BONUS:
            bonus_cols.append(c.points)
        elif kind_ == KIND_PENALTY:
            penalty_cols.append((it, c.points))
        else:
            veto_cols.append(c)
        cols_all.append(_ItemText(it, kind_, c.status, c.explanation, c.evidence))

    def per_item(values: list) -> pd.Categorical:
        codes, cats = pd.factorize(np.array(values, dtype=object))
        return pd.Categorical.from_codes(np.repeat(codes.astype(_code_dtype(len(cats))), n), categories=cats)

    its = [c.item for c in cols_all]
    # Unit categories sorted by code, so sorting the column sorts by unit code as with plain text.
    by_code = np.argsort(unit_index.to_numpy(object).astype(str), kind="stable")
    unit_code = np.empty(n, dtype=_code_dtype(n))
    unit_code[by_code] = np.arange(n)
    status = np.concatenate([c.status for c in cols_all]).astype(np.int8, copy=False)
    others = pd.DataFrame({
        "unit": pd.Categorical.from_codes(np.tile(unit_code, k), categories=unit_index[by_code]),
        "item": per_item([i.code for i in its]),
        "area": per_item([i.area for i in its]),
        "name": per_item([i.name for i in its]),
        "status": pd.Categorical.from_codes(status, categories=STATUS_CATEGORIES),
        "explanation": _categorical([c.explanation for c in cols_all]),
        "evidence": _categorical([c.evidence for c in cols_all]),
        "core": np.repeat(np.array([i.core and c.kind == KIND_BASE for i, c in zip(its, cols_all)], dtype=bool), n),
        "rule": per_item([i.rule for i in its]),
        "kind": per_item([c.kind for c in cols_all]),
    }, copy=False)
    # Side by side, then in column order: both steps keep the blocks as they are (no copies).
    items = pd.concat([pd.DataFrame(block.T, columns=float_cols, copy=False), others], axis=1)[ITEM_COLUMNS]

    # ---- areas
    area_rows = []
    for a, ap, am in zip(table.areas, area_pts, area_max):
        ap = np.round(ap, ROUND)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(am > 0, ap / np.where(am > 0, am, 1), np.nan)
        area_rows.append((a, ap, am, pct))
    na_ = len(area_rows)
    # As for the items: the float columns go straight into the one block pandas would stack them into.
    area_block = np.empty((3, n * na_))
    grid = area_block.reshape(3, n, na_)
    for j, (_, ap, am, pct) in enumerate(area_rows):
        grid[0, :, j], grid[1, :, j], grid[2, :, j] = ap, am, pct
    area_text = pd.DataFrame({
        "unit": _text(unit_index, np.repeat(np.arange(n), na_)),
        "area": _text(pd.Series(np.array([a.code for a, *_ in area_rows], dtype=object)), np.tile(np.arange(na_), n)),
        "area_name": _text(pd.Series(np.array([a.name for a, *_ in area_rows], dtype=object)),
                           np.tile(np.arange(na_), n)),
    })
    areas = pd.concat([area_text, pd.DataFrame(area_block.T, columns=AREA_COLUMNS[3:], copy=False)], axis=1)

    # ---- units
    raw_points, raw_max = np.round(raw_points, ROUND), np.round(raw_max, ROUND)
    with np.errstate(invalid="ignore", divide="ignore"):
        base_pts = np.where(raw_max > 0, np.round(raw_points * table.base_scale / np.where(raw_max > 0, raw_max, 1),
                                                  ROUND), np.nan)
    bonus_sum = np.round(np.sum(bonus_cols, axis=0), ROUND) if bonus_cols else np.zeros(n)
    bonus_pts = np.minimum(bonus_sum, table.bonus_cap) if table.bonus_cap >= 0 else bonus_sum
    penalty_pts, comp_penalty = _penalties(table, penalty_cols, n)
    components = pd.DataFrame(columns=COMPONENT_COLUMNS)
    comp_scores: dict[str, np.ndarray] = {}
    if comp_names:
        base_pts, components, comp_scores = _weighted(table, unit_index, comp_pts, comp_max, comp_penalty)
    total = np.round(base_pts + bonus_pts, ROUND)
    general_penalty = penalty_pts - sum(comp_penalty.values()) if comp_penalty else penalty_pts
    if penalty_cols:
        total = np.maximum(0.0, np.round(total - general_penalty, ROUND))  # subtracted after rescaling, floor 0
    display = _display_order(table, u, {"total": total, "core_points": np.round(core_points, ROUND),
                                        "core_met": core_met, "base": base_pts, "missing_count": missing_count,
                                        "deductions": np.round(deductions, ROUND)}, unit_code) if n \
        else np.zeros(0, dtype=np.int64)
    veto = np.zeros(n, dtype=bool)
    veto_reason = np.full(n, "", dtype=object)
    veto_hits = []
    for c in veto_cols:
        hit = c.status == _S[g.VETO_TRIGGERED]
        veto_hits.append((c.item, hit))
        if c.item.mode == VETO_CAP:
            continue
        again = hit & veto
        veto_reason[again] = veto_reason[again] + "；"
        veto_reason[hit] = veto_reason[hit] + f"一票否决：{c.item.name}"
        veto |= hit
    facts = _GradeFacts(raw, col, core_met, core_due, comp_scores)
    grade, grade_order, grade_reason = _grades(table, total, veto_hits, facts, u, display, overrides, notes)
    deductions = np.round(deductions, ROUND)
    units_df = pd.DataFrame({
        "unit": _text(unit_index), "name": _text(u["name"]), "category": _text(u["category"]),
        "raw_points": raw_points, "raw_max": raw_max, "base": base_pts, "bonus": bonus_pts, "total": total,
        "veto": veto, "veto_reason": veto_reason, "grade": grade, "grade_order": grade_order,
        "rank": _competition_rank(total) if n else np.zeros(0, dtype=np.int64),
        "rank_in_category": _competition_rank(total, u["category"].to_numpy(object)) if n
        else np.zeros(0, dtype=np.int64),
        "display_order": display,
        "core_points": np.round(core_points, ROUND), "core_met": core_met, "core_due": core_due,
        "missing_count": missing_count, "deductions": deductions, "penalty": penalty_pts,
        "grade_reason": grade_reason,
    }, columns=UNIT_COLUMNS)
    if (raw_max <= 0).any():
        notes.append(f"有 {int((raw_max <= 0).sum())} 个单位本期没有应考核的指标，等次记为「{NO_GRADE}」")

    # Every rule has read the raw values: the matrix itself becomes the evidence used (invalid → NaN).
    # Field by field, so the masks stay small.
    for j in range(raw.shape[1]):
        c = raw[:, j]
        c[np.isinf(c) | (c < 0)] = np.nan
    values = pd.DataFrame(raw, index=unit_index, columns=list(col), copy=False)
    group_of = {it.code: (a.code, it.group, next(gr.name for gr in a.groups if gr.code == it.group))
                for a in table.areas for it in a.items if it.group is not None}
    return ScoreResult(items=items, areas=areas, units=units_df, table_version=table.version, scale=table.base_scale,
                       period_kind=kind, values=values, notes=tuple(notes), components=components,
                       group_of=group_of, **({"record_counts": rec.frame} if rec is not None else {}))
