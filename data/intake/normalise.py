"""Turning what people type into cells into clean keys, numbers and booleans.

Pure functions over single cells; no knowledge of sheets, units or databases.
Full-width characters, trailing spaces, numbers stored as text, unit suffixes
(「12次」「8学时」「95%」) and the usual ways of writing yes/no are accepted here.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

from scoring.indicators import FieldDef

_SPACE = re.compile(r"\s+")
# NFKC leaves these alone; people paste them from Word.
_DASHES = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\uff0d": "-"})
_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(.*)$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")

# Unit suffixes accepted after a number, by the field's unit of measure.
UNIT_SYNONYMS: dict[str, set[str]] = {
    "次": {"次", "场", "回"},
    "学时": {"学时", "小时", "课时", "h"},
    "人": {"人", "名"},
    "件": {"件", "个"},
    "项": {"项", "个"},
    "处": {"处", "个"},
    "篇": {"篇"},
    "期": {"期"},
    "%": {"%"},
}

# Written in a cell to withdraw the current value (a blank cell keeps it): documented in 填报说明.
CLEAR_WORDS = ("清除", "/")
CLEAR_KEYS = {"清除", "/", "清空"}
# Excel's error values, as cached results or typed; also how they arrive in a CSV export.
EXCEL_ERRORS = {"#n/a", "#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#getting_data", "#spill!",
                "#calc!", "#field!", "#blocked!", "#unknown!", "#connect!", "#busy!", "#python!", "#n/a!"}

TRUE_WORDS = {"是", "√", "✓", "✔", "有", "y", "yes", "true", "1", "对", "已开展", "已召开", "已完成"}
FALSE_WORDS = {"否", "×", "✗", "✘", "无", "n", "no", "false", "0", "没有", "未开展", "未召开", "未完成"}


def text(value: object) -> str:
    """A cell as clean text: NFKC (full-width → half-width), stripped; '' for blank."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return format_number(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return unicodedata.normalize("NFKC", str(value)).translate(_DASHES).strip()


def key(value: object) -> str:
    """A matching key: clean text without any whitespace, case-folded."""
    return _SPACE.sub("", text(value)).casefold()


def format_number(v: float) -> str:
    """12.0 → '12', 0.95 → '0.95': how a number is shown back to the user."""
    if isinstance(v, bool):
        return str(int(v))
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.15g}"


def raw_text(value: object) -> str:
    """The cell as written, for messages and the ``raw`` provenance column."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return format_number(value)
    return str(value).strip()


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


@dataclass(frozen=True)
class Parsed:
    """One cell read for one field: the value, or why it could not be read."""

    value: float | None = None
    problem: str | None = None    # "number" / "bool" / "unit:<suffix>" / "date" / "excel_error"
    explicit_percent: bool = False  # written with a % sign
    clear: bool = False           # 「清除」 or 「/」: withdraw the current value


def is_clear(value: object) -> bool:
    return isinstance(value, str) and key(value) in CLEAR_KEYS


def is_excel_error(value: object) -> bool:
    return isinstance(value, str) and key(value) in EXCEL_ERRORS


def parse_cell(value: object, f: FieldDef) -> Parsed:
    """Read one non-blank cell for field ``f`` (range checks are the caller's)."""
    if isinstance(value, str):
        if is_clear(value):
            return Parsed(clear=True)
        if is_excel_error(value):
            return Parsed(problem="excel_error")
    if f.kind == "bool":
        return _parse_bool(value)
    if isinstance(value, bool):
        return Parsed(problem="number")
    if isinstance(value, (int, float)):
        v = float(value)
        return Parsed(v) if math.isfinite(v) else Parsed(problem="number")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return Parsed(problem="date")
    s = _SPACE.sub("", text(value))
    m = _THOUSANDS.match(s)
    if m:
        s = m.group(0).replace(",", "") + s[m.end():]
    m = _NUMBER.match(s)
    if not m:
        return Parsed(problem="number")
    number, suffix = m.group(1), m.group(2).casefold()
    v = float(number)
    if not math.isfinite(v):
        return Parsed(problem="number")
    if not suffix:
        return Parsed(v)
    if suffix == "%":
        if f.kind == "percent":
            return Parsed(v, explicit_percent=True)
        return Parsed(problem="unit:%")
    allowed = {u.casefold() for u in UNIT_SYNONYMS.get(f.unit, set()) | {f.unit}}
    if suffix in allowed:
        return Parsed(v)
    return Parsed(problem=f"unit:{m.group(2)}")


_DATE = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
                   r"(?:\s*(?:[T ]?\d{1,2}[:：]\d{2}(?:[:：]\d{2})?|上午|下午|晚上)?.*)?$")
_MONTH = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: object, month: bool = False) -> dt.date | None:
    """A cell as a date, else None: a date/datetime, an Excel serial day number (a date cell formatted as a
    number), 「20260305」, or a written form (「2026-03-05」「2026/3/5」「2026.3.5」「2026年3月5日」, a time or
    「下午」 after it ignored). ``month``: 「2023年6月」「2023-06」 also count, as the first of the month (dates
    kept by month, such as a unit's last election)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        n = float(value)
        if n.is_integer() and 20_000 <= n <= 80_000:  # 1954 .. 2119 as Excel counts days
            return _EXCEL_EPOCH + dt.timedelta(days=int(n))
        if not (n.is_integer() and 19_000_101 <= n <= 21_001_231):
            return None
        value = str(int(n))
    s = text(value)
    m = _DATE.match(s) or _COMPACT_DATE.match(s)
    day = m.group(3) if m else None
    if m is None and month:
        m = _MONTH.match(s)
        day = "1"
    if m is None:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(day))
    except ValueError:
        return None


def _parse_bool(value: object) -> Parsed:
    if isinstance(value, bool):
        return Parsed(1.0 if value else 0.0)
    if isinstance(value, (int, float)):
        if value == 1:
            return Parsed(1.0)
        if value == 0:
            return Parsed(0.0)
        return Parsed(problem="bool")
    k = key(value)
    if k in TRUE_WORDS:
        return Parsed(1.0)
    if k in FALSE_WORDS:
        return Parsed(0.0)
    return Parsed(problem="bool")


def column_letter(index: int) -> str:
    """0 → 'A', 27 → 'AB'."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """'A' → 0, 'AB' → 27."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1
