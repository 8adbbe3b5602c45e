"""Parsing and validating one uploaded evidence file into an ``UploadReport``.

Owns the rules of issue 5: which sheet is read, where the header is, wide
(one row per unit) and long (unit × 数据项 × 数值) layouts, unit matching,
the tolerance of real-world files and every cell check (number, whole number,
是/否, negative, range, far from last period). All issues are collected in one
pass; nothing raises on bad user data.

It must not touch a database or decide who the uploader is: the caller passes
the units of the period, the codes the uploader may report for and last
period's values (``data/evidence_service.py`` does).

Decisions where the issue is silent (documented in tests/data/test_intake_*):

* Percent fields are stored as 0–100, and one cell means the same in any file
  (wide or long, one unit or two thousand): a cell with a percent number format
  is read as Excel shows it (0.95 → 95 %); 「95%」 written as text is 95; a
  plain number above 1 is a percentage (88 → 88 %), 0 is 0; a plain number in
  (0, 1] (0.95, 1) is ambiguous — 95 % or 0.95 %? — and is an ERROR at its cell
  asking for 95 or 95%. Nothing is guessed from the other cells of the column.
* 「清除」 or 「/」 in a value cell withdraws the unit's current value (stored as
  a clear with provenance); a blank cell keeps the current value.
* Excel error values (#N/A, #DIV/0! …, typed or a formula's cached result) are
  errors at their cells, never read as blank.
* A merged cell spanning several unit rows of one field column is read for
  every row it covers (a WARNING names the range); a merge across several
  field columns of a data row is an ERROR (which field is meant?).
* The sheet 「填报表」 is read; when it holds no values while another sheet
  does, or when two sheets hold data, the file is refused naming the sheets.
* A unit is identified by its code when the code is known (names change between
  years; a different name under a known code is accepted). An unknown code is
  an error even when the name is known, and a name that is not an exact match
  (after NFKC and whitespace removal) is an error with a suggestion.
* ``max_per_year`` applies to every field that declares it (counts, hours,
  people), prorated to the period's actual days and rounded up (2026H1 has 181
  days: a 365-a-year cap becomes 181); without dates a half year halves it.
* Far-from-last (WARNING) compares with the value passed in
  ``previous_values``; a previous value of 0, blank, 是/否 fields and pairs
  where both values are below ``FAR_MIN`` (small counts, where 0 against 1 is
  noise) are not compared. The units that differ are grouped into one warning
  per field.
* Missing field columns are reported once (one WARNING listing them); those
  fields keep their current values.
"""
from __future__ import annotations

import difflib
import hashlib
import math
import re
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from data.intake import headers as H
from data.intake.issues import CLEAR_COLUMNS, VALUE_COLUMNS, IssueCode, Limits, Severity, UploadIssue, UploadReport
from data.intake.normalise import (Parsed, column_index, column_letter, format_number, is_blank, key, parse_cell,
                                   raw_text)
from data.intake.readers import Grid, Source, open_source
from scoring.indicators import FieldDef, IndicatorTable

PERIOD_HEADERS = ("考核期", "期间", "考核周期", "所属期", "period")
PERIOD_KEYS = {key(h) for h in PERIOD_HEADERS}
_UNIT_ROW_KEYS = {key(H.UNIT_ROW_MARK), key("计量单位"), key("计量单位及要求"), key("单位及范围")}
_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
MAX_SUGGESTIONS = 50  # difflib over every unit name is O(units); suggest for this many unknown units only
FAR_RATIO = 3.0
FAR_MIN = 5.0  # compare only when the larger of the two values is at least this
FAR_LISTED = 8  # units named in a grouped far-from-last warning


# --------------------------------------------------------------------------- public entry

def parse_upload(data: bytes, file_name: str, table: IndicatorTable, units: pd.DataFrame, period_code: str,
                 period_kind: str, table_version: str, allowed_units: set[str] | frozenset[str] | None = None,
                 previous_values: pd.DataFrame | None = None, limits: Limits = Limits(),
                 period_dates: tuple | None = None) -> UploadReport:
    """Read ``data`` and check it against the period; never raises on bad content.

    ``units``: the period's units (columns ``unit`` = code, ``name``). ``allowed_units``:
    codes the uploader may report for (None = all). ``previous_values``: (unit, field,
    value[, source]) of the period compared with for FAR_FROM_LAST (``source`` names it). Returns an ``UploadReport``
    whose ``values`` (unit, field, value, raw, sheet, row, column, header) holds every
    accepted value, ``clears`` every 「清除」 cell; a report with any ERROR must not be committed.
    ``period_dates``: (start, end) of the period, for caps prorated to its days.
    """
    report = UploadReport(file_name=file_name, file_hash=hashlib.sha256(data or b"").hexdigest())
    source, issues = open_source(data or b"", file_name, limits)
    report.issues.extend(issues)
    if source is None:
        return report
    try:
        _Parser(report, source, table, units, period_code, period_kind, table_version, allowed_units,
                previous_values, limits, period_dates).run()
    finally:
        source.close()
    report.issues.sort(key=_issue_order)
    return report


def _issue_order(i: UploadIssue) -> tuple:
    return (i.row, column_index(i.column) if i.column else -1, i.severity is not Severity.ERROR)


# --------------------------------------------------------------------------- helpers

def field_for_header(k: str, fkeys: dict[str, str]) -> str | None:
    """Field name for a header key: exact, or with bracketed parts (unit, range, notes) removed."""
    if k in fkeys:
        return fkeys[k]
    bare = _PARENS.sub("", k)
    if bare and bare in fkeys:
        return fkeys[bare]
    return None


def period_days(period_code: str, period_kind: str, period_dates: tuple | None = None) -> tuple[int, int] | None:
    """(days in the period, days in its year), from its dates or, failing those, from its code."""
    import calendar
    import datetime as dt

    if period_dates is None:
        m = re.match(r"^(\d{4})", period_code or "")
        if not m:
            return None
        y = int(m.group(1))
        period_dates = (dt.date(y, 1, 1), dt.date(y, 6, 30) if period_kind == "H1" else dt.date(y, 12, 31))
    start, end = period_dates
    if start is None or end is None or end < start:
        return None
    return (end - start).days + 1, 366 if calendar.isleap(start.year) else 365


def row_limit(f: FieldDef, period_kind: str, days: tuple[int, int] | None = None) -> float | None:
    """The upper bound of a field in a period: max_per_year prorated to the period's days
    (``days`` = (days in the period, days in its year)), rounded up; without days a half year
    halves it."""
    if f.kind == "percent":
        return 100.0
    if f.max_per_year is None:
        return None
    if days is not None:
        n, year = days
        # Exact rational arithmetic: 365 × 181 / 365 must be 181, not 181.00000000000003 → 182.
        return float(min(f.max_per_year, math.ceil(Fraction(f.max_per_year) * n / year)))
    return float(math.ceil(f.max_per_year / 2)) if period_kind == "H1" else float(f.max_per_year)


def period_matches(text_value: str, period_code: str) -> bool:
    """「2026H1」「2026年上半年」「2026上半年」 for 2026H1; 「2026」「2026年度」「2026年」 for 2026."""
    k = key(text_value).replace("年", "")
    m = re.match(r"^(\d{4})(h1)?$", key(period_code))
    if not m:
        return k == key(period_code)
    year, half = m.group(1), bool(m.group(2))
    options = {f"{year}h1", f"{year}上半", f"{year}上半度"} if half else {year, f"{year}度", f"{year}全"}
    return k in options


def _is_subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


@dataclass
class _Column:
    index: int
    letter: str
    header: str
    kind: str  # code / name / field / long_field / long_value / period / ignored / unknown
    field: str | None = None


@dataclass
class _Row:
    index: int          # 0-based grid row
    unit: str | None    # resolved unit code (None when unknown / not allowed)
    known: bool = False  # the unit exists but its values are not taken (not allowed, duplicate)


# --------------------------------------------------------------------------- the parser

class _Parser:
    def __init__(self, report: UploadReport, source: Source, table: IndicatorTable, units: pd.DataFrame,
                 period_code: str, period_kind: str, table_version: str, allowed_units, previous_values,
                 limits: Limits, period_dates: tuple | None = None):
        self.r = report
        self.src = source
        self.table = table
        self.period_code = period_code
        self.period_kind = period_kind
        self.table_version = table_version
        self.allowed = set(allowed_units) if allowed_units is not None else None
        self.limits = limits
        self.file = report.file_name
        self.sheet = ""
        self.fkeys = H.field_keys(table)
        self.fields = {n: table.fields[n] for n in table.evidence_fields}
        codes = units["unit"].astype(str).tolist() if len(units) else []
        names = units["name"].astype(str).tolist() if len(units) else []
        if self.allowed is not None:
            # A scoped uploader (staff) sees only their own units: another unit's code or name reads
            # exactly like an absent one, and no message or suggestion names a unit outside the scope.
            kept = [(c, n) for c, n in zip(codes, names) if c in self.allowed]
            codes, names = [c for c, _ in kept], [n for _, n in kept]
        self.unit_name = dict(zip(codes, names))
        self.code_map = {key(c): c for c in codes}
        self.name_map: dict[str, list[str]] = {}
        for c, n in zip(codes, names):
            self.name_map.setdefault(key(n), []).append(c)
        self.prev: dict[tuple[str, str], float] = {}
        self.prev_label = "上期"
        if previous_values is not None and len(previous_values):
            pv = previous_values.dropna(subset=["value"])
            if self.allowed is not None:  # a staff user's file: only their units' last values matter
                pv = pv[pv["unit"].isin(self.allowed)]
            self.prev = {(u, f): float(v) for u, f, v in zip(pv["unit"].tolist(), pv["field"].tolist(),
                                                              pv["value"].tolist())}
            if "source" in pv.columns and len(pv):
                self.prev_label = f"上期（{pv['source'].iloc[0]}）"
        self.n_suggested = 0
        self.days = period_days(period_code, period_kind, period_dates)
        self.values: list[tuple] = []
        self.clears: list[tuple] = []
        # field → [(unit, row, value, last)] of far-from-last values, reported grouped per field
        self.far: dict[str, list[tuple]] = {}

    # ---------------------------------------------------------------- issues
    def where(self, row: int, letter: str = "", header: str = "") -> str:
        loc = f"{self.file} · {self.sheet}" if self.sheet else self.file
        if not row:
            return loc
        loc += f" 第 {row} 行"
        if letter:
            loc += f" {letter} 列"
            if header:
                loc += f"「{header}」"
        return loc

    def issue(self, code: IssueCode, message: str, row: int = 0, letter: str = "", header: str = "",
              value: str = "", severity: Severity = Severity.ERROR, suggestion: str = "") -> None:
        self.r.issues.append(UploadIssue(code=code, sheet=self.sheet, row=row, column=letter, value=value,
                                         message=message, severity=severity, header=header,
                                         suggestion=suggestion))

    # ---------------------------------------------------------------- flow
    def run(self) -> None:
        r = self.r
        r.file_format = self.src.format
        self._check_meta()
        grid = self._pick_sheet()
        if grid is None:
            return
        self.sheet = r.sheet = grid.name
        if not any(not is_blank(v) for row in grid.rows for v in row):
            self.issue(IssueCode.EMPTY_FILE,
                       f"{self.where(0)}：工作表中没有任何内容，请填写后重新上传")
            return
        found = self._find_header(grid)
        if found is None:
            self.issue(IssueCode.HEADER_NOT_FOUND,
                       f"{self.where(0)}：前 {self.limits.header_scan_rows} 行中没有找到表头（须有「单位编码」或"
                       "「单位名称」列，以及数据项列或「数据项」「数值」列；长表也可用英文表头 unit_code、field、value）；"
                       "请使用系统导出的填报模板")
            return
        header_row, columns, start = found
        r.header_row = header_row + 1
        layout_long = (not any(c.kind == "field" for c in columns)
                       and any(c.kind == "long_field" for c in columns)
                       and any(c.kind == "long_value" for c in columns))
        r.layout = "long" if layout_long else "wide"
        self._column_issues(grid, columns, start, layout_long)
        self._merged_data_cells(grid, columns, start, layout_long)
        if layout_long:
            self._long(grid, columns, start)
        else:
            self._wide(grid, columns, start)
        self._far_warnings()
        if r.n_rows == 0 and not r.errors:
            self.issue(IssueCode.NO_DATA, f"{self.where(0)}：表头（第 {r.header_row} 行）下没有单位数据行，"
                                          "请在表头下方逐行填写各单位的数据")
        elif not self.values and not self.clears and not r.errors:
            # A template sent back unfilled must not pass as 「已提交：0 个数值」.
            self.issue(IssueCode.NO_DATA, f"{self.where(0)}：{r.n_rows} 个单位行中没有填写任何数值（空白单元格保持"
                                          "系统中的原值，本次不会有任何变化）；请填写数据后重新上传")
        r.values = pd.DataFrame(self.values, columns=VALUE_COLUMNS)
        r.clears = pd.DataFrame(self.clears, columns=CLEAR_COLUMNS)

    # ---------------------------------------------------------------- meta & sheet
    def _check_meta(self) -> None:
        meta = self.src.meta()
        self.r.meta = meta
        if not meta:
            return
        got_period = meta.get("period", "")
        if got_period and got_period != self.period_code:
            self.issue(IssueCode.WRONG_PERIOD,
                       f"{self.file}：该文件是「{got_period}」考核期的填报模板，当前导入的考核期是"
                       f"「{self.period_code}」；请下载本期模板重新填写，或选择正确的考核期",
                       value=got_period)
        got_version = meta.get("table_version", "")
        if got_version and got_version != self.table_version:
            self.issue(IssueCode.WRONG_TABLE_VERSION,
                       f"{self.file}：该文件按指标体系「{got_version}」版生成，本考核期使用「{self.table_version}」版；"
                       "数据项可能不同，请下载本期模板重新填写", value=got_version)

    def _pick_sheet(self) -> Grid | None:
        sheets = self.src.sheets
        if self.src.format == "csv":
            grid, issues = self.src.grid(sheets[0].name)
            self.r.issues.extend(issues)
            return grid
        skip = {key(H.GUIDE_SHEET), key(H.META_SHEET)}
        named = [s for s in sheets if key(s.name) == key(H.DATA_SHEET)]
        others = [s for s in sheets if s.visible and key(s.name) not in skip and s not in named]
        if named:
            grid, issues = self.src.grid(named[0].name)
            self.r.issues.extend(issues)
            if grid is None:
                return None
            filled = [s.name for s in others if self._sheet_has_values(s.name)]
            if filled and not self._has_values(grid):
                self.sheet = grid.name
                self.issue(IssueCode.SHEET_EMPTY,
                           f"{self.file}：工作表「{grid.name}」中没有填写任何数值，而工作表"
                           f"{'、'.join(f'「{n}」' for n in filled)}中有数据；系统只读取「{H.DATA_SHEET}」，"
                           f"请把数据填在「{H.DATA_SHEET}」中（或删除空白的「{H.DATA_SHEET}」并把填好的工作表改名为"
                           f"「{H.DATA_SHEET}」）后重新上传", value="、".join(filled))
                return None
            if filled:
                self._ambiguous([grid.name] + filled)
                return None
            return grid
        # No 「填报表」: the one visible sheet with a recognisable header (hidden sheets are skipped).
        with_header: list[Grid] = []
        filled_grids: list[Grid] = []
        for s in others:
            grid, issues = self.src.grid(s.name)
            if issues:
                self.r.issues.extend(issues)
                return None
            if grid is not None and self._find_header(grid) is not None:
                with_header.append(grid)
                if self._has_values(grid):
                    filled_grids.append(grid)
        if len(filled_grids) > 1:
            self._ambiguous([g.name for g in filled_grids])
            return None
        if filled_grids or with_header:
            return (filled_grids or with_header)[0]
        if len(others) == 1:  # one sheet: report on it (empty / no header) rather than "sheet missing"
            grid, issues = self.src.grid(others[0].name)
            self.r.issues.extend(issues)
            return grid
        names = "、".join(f"「{s.name}」" for s in sheets if s.visible) or "（无可见工作表）"
        self.issue(IssueCode.SHEET_MISSING,
                   f"{self.file}：没有名为「{H.DATA_SHEET}」的工作表，其他可见工作表 {names} 中也没有找到表头；"
                   "请使用系统导出的填报模板，数据填在「填报表」工作表中")
        return None

    def _ambiguous(self, names: list[str]) -> None:
        shown = "、".join(f"「{n}」" for n in names)
        self.issue(IssueCode.AMBIGUOUS_SHEETS,
                   f"{self.file}：{len(names)} 个工作表（{shown}）都填有数据，系统无法判断以哪个为准；"
                   f"请只保留一个填好的「{H.DATA_SHEET}」工作表（删除或清空其他工作表）后重新上传",
                   value="、".join(names))

    def _sheet_has_values(self, name: str) -> bool:
        grid, issues = self.src.grid(name)
        return grid is not None and not issues and self._has_values(grid)

    def _has_values(self, grid: Grid) -> bool:
        """Does any data row under the sheet's header hold a value (or an error value) in a value column?"""
        found = self._find_header(grid)
        if found is None:
            return False
        _, columns, start = found
        is_long = not any(c.kind == "field" for c in columns)
        value_cols = [c for c in columns if c.kind == ("long_value" if is_long else "field")]
        unit_cols = [c for c in columns if c.kind in ("code", "name")]
        if grid.error_cells or grid.formula_blank:
            idx = {c.index for c in value_cols}
            if any(r >= start and c in idx for r, c in (*grid.error_cells, *grid.formula_blank)):
                return True
        for row in grid.rows[start:]:
            if self._skip_row(row, unit_cols, value_cols) is not None:
                continue
            if any(c.index < len(row) and not is_blank(row[c.index]) for c in value_cols):
                return True
        return False

    # ---------------------------------------------------------------- header
    def _classify(self, value) -> tuple[str, str | None]:
        k = key(value)
        if not k:
            return "blank", None
        if k in H.CODE_KEYS:
            return "code", None
        if k in H.NAME_KEYS:
            return "name", None
        f = field_for_header(k, self.fkeys)
        if f is not None:
            return "field", f
        if k in H.LONG_FIELD_KEYS:
            return "long_field", None
        if k in H.LONG_VALUE_KEYS:
            return "long_value", None
        if k in PERIOD_KEYS:
            return "period", None
        if k in H.IGNORED_KEYS or _PARENS.sub("", k) in H.IGNORED_KEYS:
            return "ignored", None
        return "unknown", None

    def _find_header(self, grid: Grid):
        """(header row index, columns, first data row index) or None."""
        n_scan = min(len(grid.rows), self.limits.header_scan_rows)
        head = [list(row) for row in grid.rows[:n_scan + 1]]
        for (r0, c0), (r1, c1) in grid.merged:  # a merged header cell names every column it spans
            if r0 >= len(head):
                continue
            v = head[r0][c0] if c0 < len(head[r0]) else None
            for rr in range(r0, min(r1, len(head) - 1) + 1):
                for cc in range(c0, c1 + 1):
                    while len(head[rr]) <= cc:
                        head[rr].append("")
                    head[rr][cc] = v
        for i in range(n_scan):
            kinds = [self._classify(v) for v in head[i]]
            has_unit = any(k in ("code", "name") for k, _ in kinds)
            n_field = sum(k == "field" for k, _ in kinds)
            is_long = any(k == "long_field" for k, _ in kinds) and any(k == "long_value" for k, _ in kinds)
            below = [self._classify(v) for v in head[i + 1]] if i + 1 < len(head) else []
            below_fields = sum(k == "field" for k, _ in below)
            if not has_unit or not (n_field or is_long or below_fields):
                continue
            width = max(len(head[i]), len(below))
            top = head[i] + [""] * (width - len(head[i]))
            low = (head[i + 1] + [""] * (width - len(head[i + 1]))) if below else [""] * width
            kinds += [("blank", None)] * (width - len(kinds))
            below += [("blank", None)] * (width - len(below))
            # A second header row: sub-headers under merged group headers, the unit columns
            # blank or repeating the (vertically merged) header.
            two_rows = bool(below_fields) and all(
                below[c][0] in ("blank", kinds[c][0]) for c in range(width) if kinds[c][0] in ("code", "name"))
            columns = []
            for c in range(width):
                kind, fname = kinds[c]
                text_ = "" if is_blank(top[c]) else str(top[c]).strip()
                if two_rows and kind not in ("code", "name", "field", "long_field", "long_value", "period"):
                    bkind, bname = below[c]
                    if bkind != "blank" or kind == "blank":
                        kind, fname = bkind, bname
                        text_ = "" if is_blank(low[c]) else str(low[c]).strip()
                columns.append(_Column(c, column_letter(c), " ".join(text_.split()), kind, fname))
            start = i + 2 if two_rows else i + 1
            return (i + 1 if two_rows else i), columns, start
        return None

    def _column_issues(self, grid: Grid, columns: list[_Column], start: int, layout_long: bool) -> None:
        hr = self.r.header_row
        seen: dict[str, _Column] = {}
        labels = {self.fields[n].header: n for n in self.fields}
        for c in columns:
            if c.kind in ("code", "name", "long_field", "long_value", "period"):
                if c.kind in seen:
                    first = seen[c.kind]
                    self.issue(IssueCode.DUPLICATE_COLUMN,
                               f"{self.where(hr, c.letter, c.header)}与 {first.letter} 列「{first.header}」重复，"
                               "该列已忽略；请删除重复的列", row=hr, letter=c.letter, header=c.header,
                               value=c.header, severity=Severity.WARNING)
                    c.kind = "ignored"
                else:
                    seen[c.kind] = c
            elif c.kind == "field":
                if layout_long:
                    c.kind = "ignored"
                    continue
                k = "field:" + c.field
                if k in seen:
                    first = seen[k]
                    self.issue(IssueCode.DUPLICATE_COLUMN,
                               f"{self.where(hr, c.letter, c.header)}与 {first.letter} 列「{first.header}」是同一数据项"
                               f"「{self.fields[c.field].label}」，无法判断以哪一列为准；请删除其中一列",
                               row=hr, letter=c.letter, header=c.header, value=c.header)
                    c.kind = "ignored"
                else:
                    seen[k] = c
            elif c.kind == "unknown":
                close = difflib.get_close_matches(c.header, list(labels), n=1, cutoff=0.6)
                hint = f"（是否应为「{close[0]}」？）" if close else ""
                self.issue(IssueCode.UNKNOWN_COLUMN,
                           f"{self.where(hr, c.letter, c.header)}不是本期指标体系的数据项{hint}，该列已忽略；"
                           "如需填报请使用模板中的列名", row=hr, letter=c.letter, header=c.header, value=c.header,
                           severity=Severity.WARNING, suggestion=close[0] if close else "")
            elif c.kind == "blank":
                if any(c.index < len(row) and not is_blank(row[c.index]) for row in grid.rows[start:]):
                    c.kind = "unknown"
                    self.issue(IssueCode.UNKNOWN_COLUMN,
                               f"{self.where(hr, c.letter)} 列有数据但没有表头，该列已忽略；请填写表头或删除该列",
                               row=hr, letter=c.letter, severity=Severity.WARNING)
        if not layout_long:
            missing = [n for n in self.fields if "field:" + n not in seen]
            if missing:
                names = "、".join(f"「{self.fields[n].label}」" for n in missing[:10])
                if len(missing) > 10:
                    names += f" 等 {len(missing)} 项"
                self.issue(IssueCode.MISSING_COLUMN,
                           f"{self.where(hr)}：表头中没有 {len(missing)} 个数据项的列（{names}）；"
                           "这些数据项本次不更新（保持系统中的原值），如需填报请使用本期模板",
                           row=hr, value="、".join(self.fields[n].label for n in missing), severity=Severity.WARNING)

    def _merged_data_cells(self, grid: Grid, columns: list[_Column], start: int, layout_long: bool) -> None:
        """Merged cells below the header. Excel keeps a merge's value in its top-left cell only, so
        a reader that looks at cells alone gives the other rows nothing and they silently keep
        their old values. A merge down one field column (「是」 over two units) is read for every
        row it covers, with a WARNING naming the range; a merge across field columns is an ERROR.
        In the long layout a merge down the unit, 数据项 or 数值 column (one unit over its rows)
        is read the same way."""
        if not grid.merged:
            return
        kinds = {c.index: c for c in columns}
        fill_kinds = {"field"} if not layout_long else {"code", "name", "long_field", "long_value"}
        value_kind = "long_value" if layout_long else "field"
        for (r0, c0), (r1, c1) in sorted(grid.merged):
            if r0 < start or (r0 == r1 and c0 == c1):
                continue  # header merges are read by _find_header
            spanned = [kinds[c] for c in range(c0, c1 + 1) if c in kinds and kinds[c].kind != "ignored"]
            values = [c for c in spanned if c.kind == value_kind]
            ref = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
            top = grid.rows[r0][c0] if r0 < len(grid.rows) and c0 < len(grid.rows[r0]) else None
            shown = raw_text(top)
            if c1 > c0 and len(values) > 1:
                head = values[0]
                self.issue(IssueCode.MERGED_CELLS,
                           f"{self.where(r0 + 1, head.letter, head.header)}：单元格 {ref} 跨 {len(values)} 个数据项合并"
                           f"（值「{shown}」），无法判断属于哪个数据项；请取消合并，在每个数据项的单元格中分别填写",
                           row=r0 + 1, letter=head.letter, header=head.header, value=shown)
                continue
            if r1 == r0 or not any(c.kind in fill_kinds for c in spanned):
                continue
            for c in spanned:
                if c.kind not in fill_kinds:
                    continue
                for rr in range(r0 + 1, min(r1, len(grid.rows) - 1) + 1):
                    row = grid.rows[rr]
                    while len(row) <= c.index:
                        row.append("")
                    if is_blank(row[c.index]):
                        row[c.index] = top
            if values and not is_blank(top):
                head = values[0]
                self.issue(IssueCode.MERGED_CELLS,
                           f"{self.where(r0 + 1, head.letter, head.header)}：单元格 {ref} 是合并单元格，值「{shown}」"
                           f"已分别记入第 {r0 + 1}–{r1 + 1} 行的每个单位；如只属于其中一个单位，请取消合并后重新上传",
                           row=r0 + 1, letter=head.letter, header=head.header, value=shown,
                           severity=Severity.WARNING)

    def _far_warnings(self) -> None:
        """One WARNING per field listing the units whose value is far from last period's."""
        for name, hits in self.far.items():
            f = self.fields[name]
            letter, header = hits[0][4], hits[0][5]
            listed = "、".join(f"{u}（第 {row} 行：{format_number(round(x, 4))}，上期 {format_number(round(last, 4))}）"
                              for u, row, x, last, _l, _h in hits[:FAR_LISTED])
            more = f" 等 {len(hits)} 个" if len(hits) > FAR_LISTED else ""
            self.issue(IssueCode.FAR_FROM_LAST,
                       f"{f.label}：{len(hits)} 个单位与{self.prev_label}差异较大（相差超过 {FAR_RATIO:g} 倍）："
                       f"{listed}{more}；请核实是否填错（如无误可以提交）",
                       row=hits[0][1], letter=letter, header=header, value=str(len(hits)),
                       severity=Severity.WARNING)

    # ---------------------------------------------------------------- rows & units
    def _skip_row(self, row: list, unit_cols: list[_Column], value_cols: list[_Column]) -> str | None:
        """'blank' / 'total' / 'footer' / 'header' (repeated, e.g. on every printed page) /
        'unitrow' (the template's 计量单位及范围 row) / None (a data row)."""
        def cell(c):
            return row[c.index] if c.index < len(row) else None

        unit_texts = [key(cell(c)) for c in unit_cols]
        if any(t in self.code_map or t in self.name_map for t in unit_texts if t):
            return None  # a known unit, even one whose name starts like 「总计…」
        first = next((key(v) for v in row if not is_blank(v)), "")
        if any(t in _UNIT_ROW_KEYS for t in unit_texts) or first in _UNIT_ROW_KEYS:
            return "unitrow"
        if any(t in H.CODE_KEYS or t in H.NAME_KEYS for t in unit_texts if t):
            return "header"
        if any(t.startswith(H.TOTAL_KEYS) for t in unit_texts if t) or first.startswith(H.TOTAL_KEYS):
            return "total"
        if first and first.startswith(H.FOOTER_KEYS):
            return "footer"
        if all(is_blank(cell(c)) for c in unit_cols) and all(is_blank(cell(c)) for c in value_cols):
            return "blank"
        return None

    def _resolve_unit(self, i: int, row: list, code_col: _Column | None, name_col: _Column | None) -> _Row:
        excel_row = i + 1
        code_raw = row[code_col.index] if code_col is not None and code_col.index < len(row) else None
        name_raw = row[name_col.index] if name_col is not None and name_col.index < len(row) else None
        code_txt = "" if is_blank(code_raw) else " ".join(str(code_raw if not isinstance(code_raw, float)
                                                             else format_number(code_raw)).split())
        name_txt = "" if is_blank(name_raw) else " ".join(str(name_raw).split())
        by_code = self.code_map.get(key(code_raw)) if code_txt else None
        by_name = self.name_map.get(key(name_raw), []) if name_txt else []
        if not code_txt and not name_txt:
            col = code_col or name_col
            self.issue(IssueCode.MISSING_UNIT,
                       f"{self.where(excel_row, col.letter, col.header)}为空，但该行填有数据；"
                       "请填写单位编码或单位名称，或删除该行", row=excel_row, letter=col.letter, header=col.header)
            return _Row(i, None)
        unit = None
        if code_txt:
            if by_code is None and self.allowed is not None:
                self.issue(IssueCode.UNIT_NOT_ALLOWED,
                           f"{self.where(excel_row, code_col.letter, code_col.header)}为「{code_txt}」，"
                           "不是您负责的单位编码；请删除该行，或由负责该单位的党务干事上传",
                           row=excel_row, letter=code_col.letter, header=code_col.header, value=code_txt)
                return _Row(i, None)
            if by_code is None:
                hint, sugg = self._suggest_code(code_txt, name_txt, by_name)
                self.issue(IssueCode.UNKNOWN_UNIT,
                           f"{self.where(excel_row, code_col.letter, code_col.header)}为「{code_txt}」，"
                           f"系统中没有这个单位编码{hint}；请按模板填写正确的单位编码",
                           row=excel_row, letter=code_col.letter, header=code_col.header, value=code_txt,
                           suggestion=sugg)
                return _Row(i, None)
            unit = by_code
            if name_txt and by_name and by_code not in by_name:
                other = by_name[0]
                self.issue(IssueCode.UNIT_MISMATCH,
                           f"{self.where(excel_row, name_col.letter, name_col.header)}为「{name_txt}」（编码 {other}），"
                           f"与 {code_col.letter} 列单位编码「{code_txt}」（{self.unit_name[by_code]}）不是同一单位；"
                           "请核对该行的单位编码和名称", row=excel_row, letter=name_col.letter,
                           header=name_col.header, value=name_txt)
                return _Row(i, None)
        else:
            if len(by_name) > 1:
                self.issue(IssueCode.UNKNOWN_UNIT,
                           f"{self.where(excel_row, name_col.letter, name_col.header)}为「{name_txt}」，"
                           f"系统中有 {len(by_name)} 个同名单位（编码 {'、'.join(by_name)}）；请增加「单位编码」列并填写编码",
                           row=excel_row, letter=name_col.letter, header=name_col.header, value=name_txt)
                return _Row(i, None)
            if not by_name and self.allowed is not None:
                self.issue(IssueCode.UNIT_NOT_ALLOWED,
                           f"{self.where(excel_row, name_col.letter, name_col.header)}为「{name_txt}」，"
                           "不是您负责的单位；请删除该行，或由负责该单位的党务干事上传",
                           row=excel_row, letter=name_col.letter, header=name_col.header, value=name_txt)
                return _Row(i, None)
            if not by_name:
                sugg = self._suggest_name(name_txt)
                hint = (f"；是否应为「{self.unit_name[sugg]}」（编码 {sugg}）？相近名称不会自动匹配，"
                        "请填写完整的单位名称或单位编码") if sugg else "；请填写完整的单位名称或单位编码"
                self.issue(IssueCode.UNKNOWN_UNIT,
                           f"{self.where(excel_row, name_col.letter, name_col.header)}为「{name_txt}」，"
                           f"系统中没有这个单位{hint}", row=excel_row, letter=name_col.letter,
                           header=name_col.header, value=name_txt,
                           suggestion=f"{sugg} {self.unit_name[sugg]}" if sugg else "")
                return _Row(i, None)
            unit = by_name[0]
        if self.allowed is not None and unit not in self.allowed:
            col = code_col if code_txt else name_col
            self.issue(IssueCode.UNIT_NOT_ALLOWED,
                       f"{self.where(excel_row, col.letter, col.header)}为「{unit} {self.unit_name[unit]}」，"
                       "您不负责该单位，不能上传它的数据；请删除该行，或由负责该单位的党务干事上传",
                       row=excel_row, letter=col.letter, header=col.header, value=code_txt or name_txt)
            return _Row(i, None, known=True)
        return _Row(i, unit, known=True)

    def _suggest_name(self, name_txt: str) -> str | None:
        if self.n_suggested >= MAX_SUGGESTIONS:
            return None
        self.n_suggested += 1
        k = key(name_txt)
        names = {key(n): c for c, n in self.unit_name.items()}
        # 「第一支部」 for 「市局机关第一党支部」: every character, in order → the shortest such name.
        subseq = [n for n in names if len(k) >= 2 and _is_subsequence(k, n)]
        if subseq:
            return names[min(subseq, key=lambda n: (len(n), n))]
        close = difflib.get_close_matches(k, list(names), n=1, cutoff=0.6)
        return names[close[0]] if close else None

    def _suggest_code(self, code_txt: str, name_txt: str, by_name: list[str]) -> tuple[str, str]:
        if len(by_name) == 1:
            c = by_name[0]
            return f"（该行单位名称对应的编码是「{c}」）", f"{c} {self.unit_name[c]}"
        if self.n_suggested >= MAX_SUGGESTIONS:
            return "", ""
        self.n_suggested += 1
        close = difflib.get_close_matches(key(code_txt), list(self.code_map), n=1, cutoff=0.6)
        if close:
            c = self.code_map[close[0]]
            return f"（是否应为「{c}」{self.unit_name[c]}？）", f"{c} {self.unit_name[c]}"
        return "", ""

    # ---------------------------------------------------------------- wide
    def _wide(self, grid: Grid, columns: list[_Column], start: int) -> None:
        code_col = next((c for c in columns if c.kind == "code"), None)
        name_col = next((c for c in columns if c.kind == "name"), None)
        unit_cols = [c for c in (code_col, name_col) if c is not None]
        value_cols = [c for c in columns if c.kind == "field"]
        period_col = next((c for c in columns if c.kind == "period"), None)
        rows: list[_Row] = []
        first_row_of: dict[str, int] = {}
        for i, row in self._data_rows(grid, start, unit_cols, value_cols, period_col):
            res = self._resolve_unit(i, row, code_col, name_col)
            if res.unit is not None:
                if res.unit in first_row_of:
                    col = code_col or name_col
                    self.issue(IssueCode.DUPLICATE_ROW,
                               f"{self.where(i + 1, col.letter, col.header)}：单位「{res.unit} "
                               f"{self.unit_name[res.unit]}」在第 {first_row_of[res.unit]} 行已出现，同一单位只能填一行；"
                               "请合并为一行后重新上传", row=i + 1, letter=col.letter, header=col.header,
                               value=res.unit)
                    res = _Row(i, None, known=True)
                else:
                    first_row_of[res.unit] = i + 1
            rows.append(res)
        for c in value_cols:
            cells = [(res, grid.rows[res.index][c.index] if c.index < len(grid.rows[res.index]) else None)
                     for res in rows]
            self._column(grid, c, self.fields[c.field], cells, c.letter, c.header)

    def _data_rows(self, grid: Grid, start: int, unit_cols: list[_Column], value_cols: list[_Column],
                   period_col: _Column | None):
        """(index, cells) of the data rows from ``start`` on, in either layout. Blank rows are passed
        over; total, footer and repeated header rows are passed over and counted as skipped; each
        data row is counted and its 考核期 cell (if the sheet has one) checked."""
        for i in range(start, len(grid.rows)):
            row = grid.rows[i]
            skip = self._skip_row(row, unit_cols, value_cols)
            if skip is not None:
                if skip in ("total", "footer", "header"):
                    self.r.n_skipped += 1
                continue
            self.r.n_rows += 1
            if period_col is not None:
                self._check_period_cell(i, row, period_col)
            yield i, row

    def _check_period_cell(self, i: int, row: list, col: _Column) -> None:
        v = row[col.index] if col.index < len(row) else None
        if is_blank(v) or period_matches(str(v if not isinstance(v, float) else format_number(v)),
                                         self.period_code):
            return
        raw = str(v if not isinstance(v, float) else format_number(v)).strip()
        self.issue(IssueCode.WRONG_PERIOD,
                   f"{self.where(i + 1, col.letter, col.header)}为「{raw}」，与当前导入的考核期「{self.period_code}」不符；"
                   "请只上传本考核期的数据", row=i + 1, letter=col.letter, header=col.header, value=raw)

    # ---------------------------------------------------------------- long
    def _long(self, grid: Grid, columns: list[_Column], start: int) -> None:
        code_col = next((c for c in columns if c.kind == "code"), None)
        name_col = next((c for c in columns if c.kind == "name"), None)
        fcol = next(c for c in columns if c.kind == "long_field")
        vcol = next(c for c in columns if c.kind == "long_value")
        period_col = next((c for c in columns if c.kind == "period"), None)
        unit_cols = [c for c in (code_col, name_col) if c is not None]
        by_field: dict[str, list] = {}
        first_row_of: dict[tuple[str, str], int] = {}
        unit_cache: dict[tuple, tuple[str | None, bool]] = {}
        for i, row in self._data_rows(grid, start, unit_cols, [fcol, vcol], period_col):
            ftext = row[fcol.index] if fcol.index < len(row) else None
            fname = field_for_header(key(ftext), self.fkeys) if not is_blank(ftext) else None
            ident = tuple(key(row[c.index]) if c.index < len(row) else "" for c in unit_cols)
            # One unit spans many rows: report an unknown unit once per distinct spelling.
            if ident in unit_cache:
                unit, known = unit_cache[ident]
                res = _Row(i, unit, known)
            else:
                res = self._resolve_unit(i, row, code_col, name_col)
                unit_cache[ident] = (res.unit, res.known)
            if fname is None:
                shown = "" if is_blank(ftext) else str(ftext).strip()
                if shown:
                    self.issue(IssueCode.UNKNOWN_FIELD,
                               f"{self.where(i + 1, fcol.letter, fcol.header)}为「{shown}」，不是本期指标体系的数据项，"
                               "该行已忽略；请使用模板或「填报说明」中的数据项名称", row=i + 1, letter=fcol.letter,
                               header=fcol.header, value=shown, severity=Severity.WARNING)
                else:
                    self.issue(IssueCode.UNKNOWN_FIELD,
                               f"{self.where(i + 1, fcol.letter, fcol.header)}为空，无法判断该行是哪个数据项，"
                               "该行已忽略；请填写数据项名称", row=i + 1, letter=fcol.letter, header=fcol.header,
                               severity=Severity.WARNING)
                continue
            if res.unit is not None:
                k = (res.unit, fname)
                if k in first_row_of:
                    self.issue(IssueCode.DUPLICATE_ROW,
                               f"{self.where(i + 1, fcol.letter, fcol.header)}：单位「{res.unit} {self.unit_name[res.unit]}」"
                               f"的数据项「{self.fields[fname].label}」在第 {first_row_of[k]} 行已出现；"
                               "同一单位的同一数据项只能填一行，请删除重复行", row=i + 1, letter=fcol.letter,
                               header=fcol.header, value=str(ftext).strip())
                    res = _Row(i, None, True)
                else:
                    first_row_of[k] = i + 1
            v = row[vcol.index] if vcol.index < len(row) else None
            by_field.setdefault(fname, []).append((res, v))
        for fname, cells in by_field.items():
            f = self.fields[fname]
            self._column(grid, vcol, f, cells, vcol.letter, vcol.header, note=f"（数据项「{f.label}」）")

    # ---------------------------------------------------------------- cells
    def _column(self, grid: Grid, col: _Column, f: FieldDef, cells: list, letter: str, header: str,
                note: str = "") -> None:
        """Parse and check one field's cells (a wide column, or the long rows of one 数据项).

        The hot path (a plain number in a known unit's row) creates no objects but the
        value tuple: a 2,000-unit template has ~100,000 such cells.
        """
        pct_cells = grid.percent_cells
        blanks = grid.formula_blank
        err_cells = grid.error_cells
        ci = col.index
        is_bool = f.kind == "bool"
        memo: dict[str, Parsed] = {}
        # (row, cell, number or None, problem or None, written with %, percent-formatted cell)
        parsed: list[tuple] = []
        append = parsed.append
        for res, v in cells:
            if blanks and (res.index, ci) in blanks:
                formula = blanks[(res.index, ci)]
                self.issue(IssueCode.FORMULA_NO_VALUE,
                           f"{self.where(res.index + 1, letter, header)}{note}是公式「{formula}」，但文件中没有保存"
                           "计算结果（系统不会计算公式）；请在 Excel 中打开并保存后重新上传，或直接填写数值",
                           row=res.index + 1, letter=letter, header=header, value=formula)
                continue
            if err_cells and (res.index, ci) in err_cells:
                append((res, err_cells[(res.index, ci)], None, "excel_error", False, False))
                continue
            pc = bool(pct_cells) and (res.index, ci) in pct_cells
            if v.__class__ is float and not is_bool:
                if v - v == 0:  # finite (NaN and ±inf give NaN)
                    append((res, v, v, None, False, pc))
                else:
                    append((res, v, None, "number", False, pc))
                continue
            if is_blank(v):
                if res.unit is not None:
                    self.r.n_blank += 1
                continue
            if isinstance(v, str):  # the same few spellings recur down a column (是/否, 「12」)
                p = memo.get(v)
                if p is None:
                    p = memo[v] = parse_cell(v, f)
            else:
                p = parse_cell(v, f)
            if p.clear:
                if res.unit is not None:
                    self.clears.append((res.unit, f.name, math.nan, " ".join(str(v).split())[:255], self.sheet,
                                        res.index + 1, letter, header if not note else f"{header}{note}"))
                continue
            append((res, v, p.value, p.problem, p.explicit_percent, pc))
        limit = row_limit(f, self.period_kind, self.days)
        whole = f.kind in ("count", "people")
        percent = f.kind == "percent"
        prev = self.prev if (self.prev and not is_bool) else None
        name, sheet = f.name, self.sheet
        value_header = header if not note else f"{header}{note}"
        raw_memo: dict = {}
        out = self.values.append
        for res, v, x, problem, explicit, pc in parsed:
            if pc:
                raw = _raw(v, True)
            else:
                rk = (v.__class__, v)  # True == 1.0: keep the type in the key
                raw = raw_memo.get(rk)
                if raw is None:
                    raw = raw_memo[rk] = _raw(v, False)
            if problem is not None:
                self._cell_problem(res, letter, header, note, raw, problem, f)
                continue
            if percent and not explicit:
                if pc:
                    x = round(x * 100, 10)
                elif 0 < x <= 1:
                    # 0.95 is 95 % to one writer and 0.95 % to another: never guessed from the column.
                    pct = format_number(round(x * 100, 10))
                    self._cell_issue(IssueCode.AMBIGUOUS_PERCENT, res, letter, header, note, raw,
                                     f"比率按百分数填写，无法判断是 {pct}% 还是 {raw}%；请填写 {pct} 或 {pct}%"
                                     f"（如确为 {raw}%，请写「{raw}%」）")
                    continue
            if x < 0:
                self._cell_issue(IssueCode.NEGATIVE, res, letter, header, note, raw, "不能为负数；请填写 0 或正数")
                continue
            if whole and not float(x).is_integer():
                what = "次数" if f.kind == "count" else "人数"
                self._cell_issue(IssueCode.NOT_INTEGER, res, letter, header, note, raw,
                                 f"该项为{what}（{f.unit}），须填写整数")
                continue
            if limit is not None and x > limit:
                if percent:
                    msg = "比率应在 0–100 之间；请填写百分数（如 95 或 95%）"
                else:
                    if self.days is not None and self.days[0] < self.days[1]:
                        half = f"（全年上限 {format_number(f.max_per_year)}{f.unit}，按本考核期 {self.days[0]} 天折算）"
                    else:
                        half = ""
                    msg = f"超过本考核期的上限 {format_number(limit)}{f.unit}{half}；请核实后重新填写"
                self._cell_issue(IssueCode.OUT_OF_RANGE, res, letter, header, note, raw, msg)
                continue
            unit = res.unit
            if unit is None:
                continue
            if prev is not None:
                last = prev.get((unit, name))
                if (last is not None and last > 0 and max(x, last) >= FAR_MIN
                        and (x > last * FAR_RATIO or x < last / FAR_RATIO)):
                    self.far.setdefault(name, []).append((unit, res.index + 1, x, last, letter, value_header))
            out((unit, name, float(x), raw, sheet, res.index + 1, letter, value_header))

    def _cell_issue(self, code: IssueCode, res: _Row, letter: str, header: str, note: str, raw: str, msg: str,
                    severity: Severity = Severity.ERROR) -> None:
        row = res.index + 1
        self.issue(code, f"{self.where(row, letter, header)}{note}为「{raw}」，{msg}", row=row, letter=letter,
                   header=header, value=raw, severity=severity)

    def _cell_problem(self, res: _Row, letter: str, header: str, note: str, raw: str, problem: str,
                      f: FieldDef) -> None:
        if problem == "bool":
            code, msg = IssueCode.NOT_A_BOOL, "请填写「是」或「否」（也可用 √/×、有/无）"
        elif problem == "excel_error":
            code, msg = (IssueCode.EXCEL_ERROR,
                         "是 Excel 错误值（公式出错或引用的数据不存在），不能作为填报数据；请在 Excel 中修正公式，"
                         "或直接填写数值")
        elif problem == "date":
            code, msg = IssueCode.NOT_A_NUMBER, "单元格是日期格式；请把单元格格式改为「常规」后填写阿拉伯数字"
        elif problem.startswith("unit:"):
            code, msg = (IssueCode.NOT_A_NUMBER,
                         f"「{problem[5:]}」与该项的计量单位「{f.unit}」不符；请只填写阿拉伯数字（按「{f.unit}」计）")
        else:
            code, msg = IssueCode.NOT_A_NUMBER, "请填写阿拉伯数字" + ("（如 95 或 95%）" if f.kind == "percent" else "（如 12）")
        self._cell_issue(code, res, letter, header, note, raw, msg)


def _raw(v, percent_cell: bool) -> str:
    """The cell as written (``raw_text``) on one line, at most 255 characters; a cell formatted as a
    percentage shows as one (0.95 → 95%)."""
    if percent_cell and isinstance(v, (int, float)) and not isinstance(v, bool):
        return format_number(round(v * 100, 10)) + "%"
    return " ".join(raw_text(v).split())[:255]


__all__ = ["parse_upload", "field_for_header", "row_limit", "period_matches", "PERIOD_HEADERS"]
