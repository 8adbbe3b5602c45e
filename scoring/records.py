"""Counts derived from activity records (三会一课 台账): pure, vectorised, no I/O.

Owns turning a records frame (``RECORD_COLUMNS``: unit, type, held_on, expected, attended — one row
per current record) into, per unit × field that says ``from_records``: the valid records in the
period's span, the records not counted for attendance, and the months / quarters of the span
without a valid record (fields with ``regular``). The engine decides which value counts; this module
only counts. Must not import databases, files, Flask or Dash.

Decisions (README「活动记录计数规则」):
- a record counts in a period when ``start_date ≤ held_on ≤ end_date`` (calendar dates, both ends
  included); a record held on the last day of a month belongs to that month, and to its quarter;
- a record is *below the attendance threshold* when the field has ``min_attendance_pct``, the
  record's expected number is > 0, its attended number is known and attended × 100 < pct × expected.
  Such a record is not counted and fills no month. A record whose expected or attended number is
  missing (or expected = 0) cannot be checked and counts as valid;
- regularity is checked over the months (``regular: monthly``) or quarters (``quarterly``) that lie
  **wholly** inside the span: a year has 12 months / 4 quarters, a first half (1 月 1 日–6 月 30 日)
  6 months / 2 quarters. A month or quarter only partly inside the span (a period starting on
  15 February, or on 1 February for quarters) is not checked: a valid record held in its part inside
  the span still counts in the total, but its absence is never a missing month. A span covering no
  whole month/quarter has nothing to miss.
- month labels are 「3 月」 and quarter labels 「第二季度」; a span crossing a new year prefixes the
  year (「2025 年 12 月」「2025 年第四季度」).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from scoring.indicators import REGULAR_MONTHLY, REGULAR_QUARTERLY, FieldDef

RECORD_COLUMNS = ("unit", "type", "held_on", "expected", "attended")
QUARTER_NAMES = ("第一季度", "第二季度", "第三季度", "第四季度")


@dataclass(frozen=True)
class FieldCounts:
    """One from_records field's counts, one element per unit (in the order of the ``units`` argument)."""

    field: str
    activity_type: str
    valid: np.ndarray      # int64: records of the type in the span that count
    below: np.ndarray      # int64: records in the span not counted (below the attendance threshold)
    any: np.ndarray        # bool: ≥ 1 record of the type in the span (counted or not)
    n_missing: np.ndarray  # int64: months/quarters of the span without a valid record (0: not regular)
    missing: np.ndarray    # object: their labels joined by 「、」 ("" when none)
    periods: int           # months/quarters checked (0 when the field has no ``regular``)
    regular: str | None = None


def _to_month(d: dt.date) -> int:
    return (d.year - 1970) * 12 + d.month - 1


def _last_day(d: dt.date) -> bool:
    return (d + dt.timedelta(days=1)).day == 1


def slots(span: tuple[dt.date, dt.date], regular: str) -> tuple[int, int, list[str]]:
    """(first slot index, number of slots, labels) of the months or quarters wholly inside ``span``.

    A slot index counts months (or quarters) since January 1970, as ``held_on`` is mapped below.
    """
    start, end = _as_date(span[0]), _as_date(span[1])
    first_m = _to_month(start) + (0 if start.day == 1 else 1)
    last_m = _to_month(end) - (0 if _last_day(end) else 1)
    cross_year = start.year != end.year
    if regular == REGULAR_QUARTERLY:
        first_q = -(-first_m // 3)  # the first quarter starting at or after the first whole month
        last_q = (last_m + 1) // 3 - 1  # the last quarter ending at or before the last whole month
        n = max(0, last_q - first_q + 1)
        labels = [(f"{1970 + q // 4} 年" if cross_year else "") + QUARTER_NAMES[q % 4]
                  for q in range(first_q, first_q + n)]
        return first_q, n, labels
    n = max(0, last_m - first_m + 1)
    labels = [(f"{1970 + m // 12} 年 " if cross_year else "") + f"{m % 12 + 1} 月" for m in range(first_m, first_m + n)]
    return first_m, n, labels


def _as_date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return pd.Timestamp(v).date()


def _positions(units: pd.Index, col: pd.Series) -> np.ndarray:
    """Position of each row's unit in ``units`` (-1: not listed), hashing each distinct unit once."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        pos = np.append(units.get_indexer(col.cat.categories), -1)
        return pos[col.cat.codes.to_numpy()]
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    return np.append(units.get_indexer(uniq), -1)[codes]


def _codes(col: pd.Series, wanted: list[str]) -> np.ndarray:
    """Index of each row's type in ``wanted`` (-1: another type)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = pd.Index(col.cat.categories.astype(str).str.strip())
        return np.append(pd.Index(wanted).get_indexer(cats), -1)[col.cat.codes.to_numpy()]
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    names = pd.Index([str(x).strip() for x in uniq])
    return np.append(pd.Index(wanted).get_indexer(names), -1)[codes]


def _days(col: pd.Series) -> np.ndarray:
    """``held_on`` as days since 1970-01-01 (int64); unreadable dates → a huge sentinel (never in a span)."""
    if col.dtype.kind == "M":
        d = col.to_numpy().astype("datetime64[D]")
    else:
        d = pd.to_datetime(col, errors="coerce").to_numpy().astype("datetime64[D]")
    out = d.astype(np.int64)
    out[np.isnat(d)] = np.iinfo(np.int64).max // 4
    return out


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def empty_records() -> pd.DataFrame:
    """A records frame with no rows and the expected columns."""
    return pd.DataFrame({"unit": pd.Series([], dtype=object), "type": pd.Series([], dtype=object),
                         "held_on": pd.Series([], dtype="datetime64[ns]"),
                         "expected": pd.Series([], dtype=float), "attended": pd.Series([], dtype=float)})


def derive(records: pd.DataFrame | None, units: pd.Index, fields: Mapping[str, FieldDef],
           span: tuple[dt.date, dt.date]) -> dict[str, FieldCounts]:
    """Counts for every field with ``from_records`` in ``fields``, one element per unit of ``units``.

    Records of units not in ``units``, of types no field names, or outside the span are ignored.
    Every count is one pass over the records for all types at once: rows are keyed by
    (unit, type) and counted with ``bincount``; the months held are scattered into a
    (unit, type, month) table once per attendance threshold, and quarters are read off the months.
    """
    units = pd.Index(units)
    n = len(units)
    specs = {name: f for name, f in fields.items() if f.from_records}
    if not specs:
        return {}
    records = records if records is not None and len(records) else empty_records()
    types = sorted({f.from_records for f in specs.values()})
    k_types = len(types)
    start, end = _as_date(span[0]), _as_date(span[1])
    u = _positions(units, records["unit"])
    t = _codes(records["type"], types)
    day = _days(records["held_on"])
    keep = (u >= 0) & (t >= 0) & (day >= _day(start)) & (day <= _day(end))
    dump = n * k_types  # rows that count nowhere go to one extra bucket, dropped below
    key = np.where(keep, u.astype(np.int64) * k_types + t, dump)
    total = np.bincount(key, minlength=dump + 1)[:dump].reshape(n, k_types)
    exp = pd.to_numeric(records["expected"], errors="coerce").to_numpy(float)
    att = pd.to_numeric(records["attended"], errors="coerce").to_numpy(float)
    pcts = sorted({f.min_attendance_pct for f in specs.values() if f.min_attendance_pct is not None})
    low: dict[float | None, np.ndarray | None] = {None: None}
    below: dict[float | None, np.ndarray] = {None: np.zeros((n, k_types), dtype=np.int64)}
    if pcts:
        checkable = keep & (exp > 0) & ~np.isnan(att)
        with np.errstate(invalid="ignore"):
            for pct in pcts:
                low[pct] = checkable & (att * 100.0 < pct * exp)
                below[pct] = np.bincount(key[low[pct]], minlength=dump + 1)[:dump].reshape(n, k_types)
    # Months held, per attendance threshold in use by a regular field: (unit, type, whole month of the span).
    first_m, n_months, month_names = slots((start, end), REGULAR_MONTHLY)
    held_months: dict[float | None, np.ndarray] = {}
    regular_pcts = {f.min_attendance_pct for f in specs.values() if f.regular in (REGULAR_MONTHLY, REGULAR_QUARTERLY)}
    if regular_pcts and n_months:
        month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - first_m
        inside = keep & (month >= 0) & (month < n_months)
        slot = key * n_months + np.where(inside, month, 0)
        for pct in regular_pcts:
            sel = inside if low[pct] is None else inside & ~low[pct]
            held = np.zeros(dump * n_months, dtype=bool)
            held[slot[sel]] = True
            held_months[pct] = held.reshape(n, k_types, n_months)
    label_cache: dict[tuple, str] = {}
    out: dict[str, FieldCounts] = {}
    for name, f in specs.items():
        k = types.index(f.from_records)
        pct = f.min_attendance_pct
        b = below[pct][:, k]
        n_missing = np.zeros(n, dtype=np.int64)
        labels = np.full(n, "", dtype=object)
        periods = 0
        if f.regular in (REGULAR_MONTHLY, REGULAR_QUARTERLY):
            first, periods, names = slots((start, end), f.regular)
            if periods:
                months = held_months[pct][:, k, :]
                if f.regular == REGULAR_QUARTERLY:  # a whole quarter's three months are whole months of the span
                    cols = [[(first + j) * 3 + r - first_m for r in range(3)] for j in range(periods)]
                    held = np.stack([months[:, c].any(axis=1) for c in cols], axis=1)
                else:
                    held = months
                n_missing, labels = _missing(held, names, (f.regular, start, end), label_cache)
        out[name] = FieldCounts(field=name, activity_type=f.from_records,
                                valid=(total[:, k] - b).astype(np.int64), below=b.astype(np.int64),
                                any=total[:, k] > 0, n_missing=n_missing.astype(np.int64),
                                missing=labels, periods=periods, regular=f.regular)
    return out


def _missing(held: np.ndarray, names: list[str], kind: tuple, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """(number of slots without a record, their labels joined by 「、」) per unit; each distinct pattern
    is written once (patterns as bit masks when they fit in 62 bits, else as rows)."""
    n, s = held.shape
    n_missing = s - held.sum(axis=1)
    if s <= 62:
        mask = (~held).astype(np.int64) @ (np.int64(1) << np.arange(s, dtype=np.int64))
        uniq, inverse = np.unique(mask, return_inverse=True)
        patterns = [tuple(bool((m >> j) & 1) for j in range(s)) for m in uniq.tolist()]
    else:
        rows, inverse = np.unique(~held, axis=0, return_inverse=True)
        patterns = [tuple(r) for r in rows.tolist()]
    texts = np.empty(len(patterns), dtype=object)
    for j, p in enumerate(patterns):
        key = kind + (p,)
        text = cache.get(key)
        if text is None:
            text = cache[key] = "、".join(x for x, miss in zip(names, p) if miss)
        texts[j] = text
    return n_missing, texts[inverse.reshape(-1)]
