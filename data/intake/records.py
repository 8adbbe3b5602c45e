"""Reading an activity-record spreadsheet (one row per activity) into rows and Chinese issues.

Owns the columns of the 活动记录 import and their header words (our template's and the usual
智慧党建 app exports': 会议类型 / 召开时间 / 参会人数 …), activity-type synonyms (支部委员会会议 →
支委会), date formats (2026-03-05, 2026/3/5, 2026年3月5日, 2026.3.5, 20260305, Excel dates) and every
check on one file. It reuses the evidence intake's readers (xlsx / xls / csv incl. GBK, safety caps)
and its ``UploadIssue`` (every issue names file, sheet, row, column and says what to do).

It must not touch a database: the caller passes the units (code, name), the allowed activity
types, the period's span, the uploader's unit scope and the current records to check duplicates
against; ``data/records_intake.py`` decides what to write.

Decisions where the issue is silent:

* No unit column: every row belongs to ``default_unit`` (an app export is per branch); without one
  the file is refused, naming the missing 「单位编码」/「单位名称」 column.
* A row the same as a current record (same unit, type, date and topic) is skipped with a WARNING:
  app exports are cumulative, so importing this month's export again must not double the count.
  The same activity twice in the file is an ERROR on the second row (naming the first): a copy
  error the user should resolve, not something to guess.
* A date outside the period chosen for the import is an ERROR (import it under its own period).
* 应到/实到 are optional (attendance then cannot be checked); 实到 without 应到 is an ERROR.
"""
from __future__ import annotations

import datetime as dt
import difflib
import enum
import hashlib
import re
from dataclasses import dataclass, field

import pandas as pd

from data.intake.issues import IssueReport, Limits, Severity, UploadIssue
from data.intake.normalise import (FALSE_WORDS, TRUE_WORDS, column_letter, is_blank, key, parse_date, raw_text,
                                   text)
from data.intake.readers import Grid, open_source


@dataclass(frozen=True)
class RecordColumn:
    name: str
    header: str
    synonyms: tuple[str, ...]


COLUMNS = (
    RecordColumn("unit_code", "单位编码", ("组织编码", "党组织编码", "支部编码", "单位代码", "编码")),
    RecordColumn("unit_name", "单位名称", ("党组织名称", "组织名称", "支部名称", "所在支部", "党支部")),
    RecordColumn("activity_type", "活动类型", ("会议类型", "类型", "活动类别", "会议类别", "活动形式", "类别",
                                           "三会一课类型", "组织生活类型")),
    RecordColumn("held_on", "日期", ("活动日期", "召开时间", "时间", "会议时间", "开展时间", "召开日期", "会议日期",
                                   "活动时间", "举办时间")),
    RecordColumn("topic", "主题", ("议题", "会议主题", "活动主题", "会议名称", "活动名称", "内容", "会议内容")),
    RecordColumn("place", "地点", ("会议地点", "活动地点", "召开地点")),
    RecordColumn("expected", "应到人数", ("应到", "应参会人数", "应参加人数", "应出席人数")),
    RecordColumn("attended", "实到人数", ("参会人数", "实到", "实参会人数", "出席人数", "参加人数")),
    RecordColumn("host", "主持人/主讲人", ("主持人", "主讲人", "主持人（主讲人）", "讲课人", "授课人")),
    RecordColumn("secretary_lectured", "是否书记讲党课", ("书记讲党课", "是否书记讲课", "书记讲授")),
    RecordColumn("note", "备注", ("说明",)),
)
HEADERS = [c.header for c in COLUMNS]
_BY_NAME = {c.name: c for c in COLUMNS}
_KEYS = {key(w): c for c in COLUMNS for w in (c.header, *c.synonyms)}

# What apps and people write for each activity type (keys compared with ``key``).
TYPE_SYNONYMS = {
    "支部党员大会": ("党员大会", "支部大会", "全体党员大会", "支部党员大会会议", "党员大会会议"),
    "支委会": ("支部委员会", "支部委员会会议", "支委会议", "支委会会议", "支委扩大会", "支委扩大会议"),
    "党小组会": ("党小组会议", "党小组学习会", "党小组活动"),
    "党课": ("讲党课", "专题党课", "党课学习", "上党课"),
    "主题党日": ("主题党日活动", "固定党日", "固定主题党日", "党日活动", "党日", "支部主题党日"),
    "组织生活会": ("年度组织生活会", "支部组织生活会"),
    "专题组织生活会": ("专题组织生活会会议",),
    "民主评议党员": ("民主评议", "民主评议党员大会", "党员民主评议"),
    "集中学习": ("理论学习", "政治理论学习", "集体学习", "支部集中学习"),
    "专题研讨": ("专题学习研讨", "研讨交流", "专题研讨会", "学习研讨"),
    "党性锤炼活动": ("党性锤炼", "红色教育", "党性教育", "实地研学"),
    "对标共建": ("共建活动", "支部共建", "联学共建", "对标共建交流"),
    "谈心谈话": ("谈心谈话活动", "谈话谈心"),
}
TEXT_LIMITS = {"topic": 200, "place": 120, "host": 64, "note": 2000}
ROW_COLUMNS = ["row", "unit", "activity_type", "held_on", "topic", "place", "expected", "attended", "host",
               "secretary_lectured", "note"]


class RecordIssueCode(enum.Enum):
    UNREADABLE = "unreadable"                # size, format, zip bomb, encoding (from the readers)
    HEADER_NOT_FOUND = "header_not_found"    # no row with a date and a type column
    MISSING_COLUMN = "missing_column"        # no unit column and no default unit
    NO_DATA = "no_data"
    MISSING_VALUE = "missing_value"          # type or date blank
    UNKNOWN_UNIT = "unknown_unit"
    UNIT_MISMATCH = "unit_mismatch"          # code and name name different units
    UNIT_NOT_ALLOWED = "unit_not_allowed"    # outside the uploader's units
    BAD_TYPE = "bad_type"                    # not one of the table's activity types
    BAD_DATE = "bad_date"
    OUT_OF_PERIOD = "out_of_period"          # dated outside the period of the import
    FUTURE_DATE = "future_date"
    NOT_INTEGER = "not_integer"              # 应到 / 实到
    ATTENDED_OVER = "attended_over"          # 实到 > 应到
    ATTENDED_WITHOUT_EXPECTED = "attended_without_expected"
    NOT_A_BOOL = "not_a_bool"
    TOO_LONG = "too_long"
    DUPLICATE_ROW = "duplicate_row"          # the same activity twice in the file (ERROR)
    ALREADY_RECORDED = "already_recorded"    # the same as a current record (WARNING, skipped)
    REFUSED = "refused"                      # role, period unknown or published (service)


@dataclass
class RecordsReport(IssueReport):
    file_name: str
    file_hash: str
    file_format: str = ""
    sheet: str = ""
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # row key -> column letter
    headers: dict[str, str] = field(default_factory=dict)  # row key -> the header as the file writes it
    issues: list[UploadIssue] = field(default_factory=list)
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROW_COLUMNS))
    n_skipped: int = 0  # rows already recorded


def format_record_issues(report: RecordsReport) -> str:
    head = (f"文件「{report.file_name}」：读取 {len(report.rows) + report.n_skipped} 条活动记录"
            f"（新增 {len(report.rows)} 条，已登记跳过 {report.n_skipped} 条）；{len(report.errors)} 个错误，"
            f"{len(report.warnings)} 个警告。" + ("" if report.ok else "有错误，未写入任何记录，请修改后重新导入。"))
    return "\n".join([head] + [f"[{i.severity.label}] {i.message}" for i in report.errors + report.warnings])


def canonical_type(value, allowed: tuple[str, ...]) -> str | None:
    k = key(value)
    if not k:
        return None
    for t in allowed:
        if key(t) == k:
            return t
    for t, words in TYPE_SYNONYMS.items():
        if t in allowed and k in {key(w) for w in words}:
            return t
    return None


def _people(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() and 0 <= value <= 100_000 else None
    s = re.sub(r"\s+", "", text(value))
    s = re.sub(r"(人|名)$", "", s)
    if re.fullmatch(r"\d{1,6}(\.0+)?", s):
        return int(float(s))
    return None


def _bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    k = key(value)
    if k in TRUE_WORDS or k in ("书记讲", "书记讲授"):
        return True
    if k in FALSE_WORDS:
        return False
    return None


@dataclass(frozen=True)
class Context:
    """What the parser needs to know from outside (given by the service)."""

    units: pd.DataFrame                      # code, name (every current unit)
    allowed_types: tuple[str, ...]
    start: dt.date
    end: dt.date
    period_code: str
    scope: frozenset[str] | None = None      # None: every unit
    default_unit: str | None = None
    existing: frozenset = frozenset()        # (unit, type, date, topic) of current records
    today: dt.date = field(default_factory=dt.date.today)


class _Parser:
    def __init__(self, report: RecordsReport, ctx: Context):
        self.r, self.ctx, self.file = report, ctx, report.file_name
        self.by_code = {str(c).upper(): str(c) for c in ctx.units["code"]}
        self.by_name: dict[str, list[str]] = {}
        for c, n in zip(ctx.units["code"], ctx.units["name"]):
            self.by_name.setdefault(key(n), []).append(str(c))

    def issue(self, code: RecordIssueCode, row: int, col: str, value, remedy: str,
              severity: Severity = Severity.ERROR) -> None:
        loc = f"{self.file} · {self.r.sheet}" if self.r.sheet else self.file
        letter = self.r.columns.get(col, "")
        header = self.r.headers.get(col) or (_BY_NAME[col].header if col in _BY_NAME else "")
        if row:
            loc += f" 第 {row} 行"
        if letter:
            loc += f" {letter} 列「{header}」"
        shown = value if isinstance(value, str) else raw_text(value)
        what = f"为「{shown}」，" if shown else "："
        self.r.issues.append(UploadIssue(code=code, sheet=self.r.sheet, row=row, column=letter, value=shown,
                                         message=f"{loc}{what}{remedy}", severity=severity, header=header))

    def file_issue(self, code: RecordIssueCode, message: str) -> None:
        self.r.issues.append(UploadIssue(code=code, sheet=self.r.sheet, row=0, column="", value="",
                                         message=message, severity=Severity.ERROR))

    def find_header(self, grid: Grid, limits: Limits) -> tuple[int, dict[str, int]] | None:
        for i, row in enumerate(grid.rows[:limits.header_scan_rows]):
            cols: dict[str, int] = {}
            for c, v in enumerate(row):
                col = _KEYS.get(key(v))
                if col is not None and col.name not in cols:
                    cols[col.name] = c
            if "activity_type" in cols and "held_on" in cols:
                return i, cols
        return None

    def run(self, data: bytes, limits: Limits) -> None:
        source, issues = open_source(data, self.file, limits)
        if source is None:
            self.r.issues.extend(UploadIssue(code=RecordIssueCode.UNREADABLE, sheet=i.sheet, row=0, column="",
                                             value=i.value, message=i.message, severity=i.severity)
                                 for i in issues)
            return
        self.r.file_format = source.format
        picked = None
        try:
            for s in source.sheets:
                if not s.visible and source.format != "csv":
                    continue
                grid, problems = source.grid(s.name)
                if problems:
                    self.r.issues.extend(UploadIssue(code=RecordIssueCode.UNREADABLE, sheet=p.sheet, row=p.row,
                                                     column=p.column, value=p.value, message=p.message,
                                                     severity=p.severity) for p in problems)
                    return
                found = self.find_header(grid, limits) if grid is not None else None
                if found:
                    picked = (grid, *found)
                    break
        finally:
            source.close()
        if picked is None:
            self.file_issue(RecordIssueCode.HEADER_NOT_FOUND,
                            f"{self.file}：没有找到表头行（须含「活动类型」和「日期」两列，也可写作「会议类型」"
                            "「召开时间」等）；请按活动记录模板的列名填写")
            return
        grid, h, cols = picked
        self.r.sheet = grid.name
        self.r.header_row = h + 1
        self.r.columns = {name: column_letter(c) for name, c in cols.items()}
        self.r.headers = {name: text(grid.rows[h][c]) for name, c in cols.items()}
        if "unit_code" not in cols and "unit_name" not in cols and not self.ctx.default_unit:
            self.file_issue(RecordIssueCode.MISSING_COLUMN,
                            f"{self.file} · {grid.name or 'CSV'} 第 {h + 1} 行的表头缺少「单位编码」或「单位名称」列；"
                            "请增加该列，或在导入时选择这些记录所属的单位")
            return
        rows, first_seen = [], {}
        for i in range(h + 1, len(grid.rows)):
            raw = grid.rows[i]
            cells = {name: (raw[c] if c < len(raw) else None) for name, c in cols.items()}
            if all(is_blank(v) for v in cells.values()):
                continue
            if key(cells.get("unit_name") or cells.get("activity_type")) in ("合计", "总计", "小计"):
                continue
            row = self.read_row(i + 1, cells)
            if row is None:
                continue
            k = (row["unit"], row["activity_type"], row["held_on"], row["topic"] or "")
            if k in first_seen:
                self.issue(RecordIssueCode.DUPLICATE_ROW, i + 1, "held_on", row["held_on"].isoformat(),
                           f"与第 {first_seen[k]} 行是同一单位、同一类型、同一日期、同一主题的活动，重复了；"
                           "请删去重复的一行（同一天确有两次活动的，请写明不同主题）")
                continue
            first_seen[k] = i + 1
            if k in self.ctx.existing:
                self.issue(RecordIssueCode.ALREADY_RECORDED, i + 1, "held_on", row["held_on"].isoformat(),
                           "该活动（同一单位、类型、日期、主题）已有登记，本行跳过，不会重复计数",
                           Severity.WARNING)
                self.r.n_skipped += 1
                continue
            rows.append(row)
        if not rows and not self.r.n_skipped and not self.r.errors:
            self.file_issue(RecordIssueCode.NO_DATA, f"{self.file}：表头下没有活动记录，请逐行填写后再导入")
            return
        self.r.rows = pd.DataFrame(rows, columns=ROW_COLUMNS)

    def unit_of(self, n: int, cells: dict) -> str | None:
        code_raw, name_raw = cells.get("unit_code"), cells.get("unit_name")
        code = re.sub(r"\s+", "", text(code_raw)).upper()
        name_key = key(name_raw)
        if not code and not name_key:
            if self.ctx.default_unit:
                return self.ctx.default_unit
            col = "unit_code" if "unit_code" in self.r.columns else "unit_name"
            self.issue(RecordIssueCode.MISSING_VALUE, n, col, "", "单位为空，请填写单位编码或单位名称")
            return None
        by_code = self.by_code.get(code) if code else None
        if code and by_code is None:
            self.issue(RecordIssueCode.UNKNOWN_UNIT, n, "unit_code", raw_text(code_raw),
                       "系统中没有这个单位编码；请核对（可在排名总览或组织管理中查看编码）")
            return None
        by_name = self.by_name.get(name_key, []) if name_key else []
        if name_key and not by_name:
            close = difflib.get_close_matches(text(name_raw), [str(x) for x in self.ctx.units["name"]], n=1)
            hint = f"（是否为「{close[0]}」？）" if close else ""
            if by_code is None:
                self.issue(RecordIssueCode.UNKNOWN_UNIT, n, "unit_name", raw_text(name_raw),
                           f"系统中没有这个单位名称{hint}；请填写系统中的单位全称或单位编码")
                return None
        if by_code and by_name and by_code not in by_name:
            self.issue(RecordIssueCode.UNIT_MISMATCH, n, "unit_name", raw_text(name_raw),
                       f"与单位编码「{by_code}」不是同一个单位；请核对编码和名称")
            return None
        if by_code is None and len(by_name) > 1:
            self.issue(RecordIssueCode.UNKNOWN_UNIT, n, "unit_name", raw_text(name_raw),
                       "有多个单位同名；请增加「单位编码」列区分")
            return None
        unit = by_code or by_name[0]
        if self.ctx.scope is not None and unit not in self.ctx.scope:
            col = "unit_code" if code else "unit_name"
            self.issue(RecordIssueCode.UNIT_NOT_ALLOWED, n, col, raw_text(code_raw if code else name_raw),
                       "不是您负责的单位，不能导入其活动记录；请删去此行或由该单位的党务干事导入")
            return None
        return unit

    def read_row(self, n: int, cells: dict) -> dict | None:
        errors_before = len(self.r.errors)
        unit = self.unit_of(n, cells)
        t_raw = cells.get("activity_type")
        t = canonical_type(t_raw, self.ctx.allowed_types)
        if is_blank(t_raw):
            self.issue(RecordIssueCode.MISSING_VALUE, n, "activity_type", "", "活动类型为空，请填写（如「支委会」）")
        elif t is None:
            close = difflib.get_close_matches(text(t_raw), list(self.ctx.allowed_types), n=1, cutoff=0.4)
            hint = f"是否为「{close[0]}」？" if close else ""
            self.issue(RecordIssueCode.BAD_TYPE, n, "activity_type", raw_text(t_raw),
                       f"不是本考核期指标体系的活动类型；{hint}可填：{'、'.join(self.ctx.allowed_types)}")
        d_raw = cells.get("held_on")
        day = parse_date(d_raw)
        if is_blank(d_raw):
            self.issue(RecordIssueCode.MISSING_VALUE, n, "held_on", "", "日期为空，请填写活动日期（如 2026-03-05）")
        elif day is None:
            self.issue(RecordIssueCode.BAD_DATE, n, "held_on", raw_text(d_raw),
                       "无法识别为日期；请写成 2026-03-05、2026/3/5 或 2026年3月5日")
        elif day > self.ctx.today:
            self.issue(RecordIssueCode.FUTURE_DATE, n, "held_on", day.isoformat(),
                       "在今天之后；只能导入已开展的活动，请核对日期")
        elif not (self.ctx.start <= day <= self.ctx.end):
            self.issue(RecordIssueCode.OUT_OF_PERIOD, n, "held_on", day.isoformat(),
                       f"不在考核期 {self.ctx.period_code}（{self.ctx.start.isoformat()} 至 {self.ctx.end.isoformat()}）"
                       "内；请删去此行，或在导入时选择该日期所在的考核期")
        people = {}
        for name, label in (("expected", "应到人数"), ("attended", "实到人数")):
            v = cells.get(name)
            if is_blank(v):
                people[name] = None
                continue
            p = _people(v)
            if p is None:
                self.issue(RecordIssueCode.NOT_INTEGER, n, name, raw_text(v), f"{label}应为不小于 0 的整数")
            people[name] = p
        if people.get("attended") is not None and people.get("expected") is not None \
                and people["attended"] > people["expected"]:
            self.issue(RecordIssueCode.ATTENDED_OVER, n, "attended", str(people["attended"]),
                       f"实到人数多于应到人数（{people['expected']}）；请核对")
        if people.get("attended") is not None and people.get("expected") is None and is_blank(cells.get("expected")):
            self.issue(RecordIssueCode.ATTENDED_WITHOUT_EXPECTED, n, "attended", str(people["attended"]),
                       "填写了实到人数但没有应到人数；请补填应到人数，才能计算参会率")
        texts = {}
        for name, limit in TEXT_LIMITS.items():
            v = re.sub(r"\s+", " ", raw_text(cells.get(name))).strip() if name in cells else ""
            if len(v) > limit:
                self.issue(RecordIssueCode.TOO_LONG, n, name, v[:20] + "…",
                           f"过长：最多 {limit} 个字符（现为 {len(v)} 个），请缩短")
            texts[name] = v or None
        lectured = None
        if not is_blank(cells.get("secretary_lectured")):
            lectured = _bool(cells.get("secretary_lectured"))
            if lectured is None:
                self.issue(RecordIssueCode.NOT_A_BOOL, n, "secretary_lectured", raw_text(cells["secretary_lectured"]),
                           "请填写「是」或「否」")
        if len(self.r.errors) > errors_before:
            return None
        return dict(row=n, unit=unit, activity_type=t, held_on=day, **texts, expected=people.get("expected"),
                    attended=people.get("attended"), secretary_lectured=lectured if t == "党课" else None)


def parse_records(data: bytes, file_name: str, ctx: Context, limits: Limits | None = None) -> RecordsReport:
    """Read and check an activity-record file against ``ctx``; never raises on bad input."""
    report = RecordsReport(file_name=file_name, file_hash=hashlib.sha256(data or b"").hexdigest())
    _Parser(report, ctx).run(data, limits or Limits())
    report.issues.sort(key=lambda i: (i.severity is not Severity.ERROR, i.row, i.column))
    return report


def template_frame(allowed: tuple[str, ...]) -> pd.DataFrame:
    """An empty 活动记录 sheet with our headers and two example rows."""
    return pd.DataFrame([
        ["C01", "市局机关第一党支部", "支委会", "2026-03-05", "研究三月份党建工作", "党员活动室", 7, 7, "张三", "", ""],
        ["C01", "市局机关第一党支部", "党课", "2026-03-20", "学习贯彻党的二十大精神", "会议室", 25, 23, "张三", "是", ""],
    ], columns=HEADERS)


__all__ = ["COLUMNS", "Context", "HEADERS", "RecordIssueCode", "RecordsReport", "TYPE_SYNONYMS", "canonical_type",
           "format_record_issues", "parse_date", "parse_records", "template_frame"]
