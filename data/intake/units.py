"""Reading an organisation-tree spreadsheet (单位名单) into unit rows and Chinese issues.

Owns the columns of the 单位名单 (their header words), header detection, and every
check on one file: cell formats (组织类型, 层级, member counts, dates, 是/否) and the
checks across rows (duplicate code, unknown parent, a parent of a lower kind or in
another 局, a cycle) plus the size warnings of the 支部工作条例. It reuses the evidence
intake's readers (xlsx / xls / csv incl. GBK, safety caps) and its ``UploadIssue``.

It must not touch a database: the caller passes the units already stored (for
parents that are not in the file) and decides what to write (``data/org.py``).

Decisions where the issue is silent:

* 「支部委员会」 is an optional column (是/否). A 党支部 with 7 or more 正式党员 and
  「否」 gets a warning; when the column is absent the check cannot be made and one
  file-level warning says so. Fewer than 3 正式党员 is always a warning.
* 是否参加考核 left blank means 「是」, except for a 党委, which is a container and
  not assessed unless the cell says 「是」.
* A parent must be of a higher kind (党委 > 党总支 > 党支部) and in the same 所属局.
"""
from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field

import pandas as pd

from data.intake.issues import IssueReport, Limits, Severity, UploadIssue
from data.intake.normalise import TRUE_WORDS, FALSE_WORDS, is_blank, key, parse_date, raw_text, text
from data.intake.readers import Grid, open_source

KINDS = ("党委", "党总支", "党支部")
KIND_RANK = {"党委": 3, "党总支": 2, "党支部": 1}
LEVELS = ("市", "县")
KIND_WORDS = {"党委": "党委", "机关党委": "党委", "党总支": "党总支", "总支": "党总支", "党总支部": "党总支",
              "党支部": "党支部", "支部": "党支部", "联合党支部": "党支部"}
LEVEL_WORDS = {"市": "市", "市级": "市", "市局": "市", "县": "县", "县级": "县", "县局": "县", "区": "县",
               "县区": "县", "县(区)": "县"}
MIN_MEMBERS = 3
COMMITTEE_AT = 7


@dataclass(frozen=True)
class UnitColumn:
    name: str                   # row key
    header: str                 # as the template writes it
    synonyms: tuple[str, ...]   # also recognised
    required: bool = False


COLUMNS = (
    UnitColumn("code", "单位编码", ("编码", "单位代码", "组织编码", "党组织编码", "单位编号"), True),
    UnitColumn("name", "单位名称", ("党组织名称", "组织名称", "支部名称", "名称"), True),
    UnitColumn("kind", "组织类型", ("党组织类型", "组织类别", "类型"), True),
    UnitColumn("parent", "上级单位编码", ("上级编码", "上级党组织编码", "上级组织编码", "上级单位代码")),
    UnitColumn("bureau", "所属局", ("所属单位", "局", "所属局名称"), True),
    UnitColumn("level", "层级", ("级别", "层次"), True),
    UnitColumn("category", "考核类别", ("分类排名类别", "排名类别", "考核分类", "类别")),
    UnitColumn("secretary", "书记", ("支部书记", "党组织书记", "书记姓名")),
    UnitColumn("members_full", "正式党员数", ("正式党员", "正式党员人数")),
    UnitColumn("members_probationary", "预备党员数", ("预备党员", "预备党员人数")),
    UnitColumn("last_election", "上次换届日期", ("换届日期", "上次换届时间", "换届时间")),
    UnitColumn("assessed", "是否参加考核", ("参加考核", "参加考核否")),
    UnitColumn("has_committee", "支部委员会", ("是否设支部委员会", "设支部委员会", "是否设立支部委员会", "支委会")),
)
HEADERS = [c.header for c in COLUMNS]
_KEYS = {key(w): c for c in COLUMNS for w in (c.header, *c.synonyms)}
ROW_COLUMNS = ["row", "code", "name", "kind", "parent", "bureau", "level", "category", "secretary", "members_full",
               "members_probationary", "last_election", "assessed", "has_committee"]


class UnitIssueCode(enum.Enum):
    UNREADABLE = "unreadable"                # the file (from the readers: size, format, zip bomb...)
    HEADER_NOT_FOUND = "header_not_found"    # no row with 单位编码 and 单位名称
    MISSING_COLUMN = "missing_column"        # a required column is absent
    NO_DATA = "no_data"
    MISSING_VALUE = "missing_value"          # a required cell is blank
    DUPLICATE_CODE = "duplicate_code"
    BAD_KIND = "bad_kind"
    BAD_LEVEL = "bad_level"
    NOT_INTEGER = "not_integer"              # member counts
    BAD_DATE = "bad_date"
    NOT_A_BOOL = "not_a_bool"
    UNKNOWN_PARENT = "unknown_parent"
    PARENT_KIND = "parent_kind"              # e.g. a 党支部 named as parent
    PARENT_OTHER_BUREAU = "parent_other_bureau"
    CYCLE = "cycle"
    CLOSED_CODE = "closed_code"              # the code of a closed or merged unit
    FEW_MEMBERS = "few_members"              # WARNING: 支部 < 3 正式党员
    NO_COMMITTEE = "no_committee"            # WARNING: 支部 ≥ 7 正式党员 without 支部委员会
    NO_COMMITTEE_COLUMN = "no_committee_column"  # WARNING: the check could not be made


@dataclass
class UnitsReport(IssueReport):
    """What ``parse_units`` found: the unit rows and the issues."""

    file_name: str
    file_hash: str
    sheet: str = ""
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # row key -> column letter
    issues: list[UploadIssue] = field(default_factory=list)
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROW_COLUMNS))


def format_unit_issues(report: UnitsReport) -> str:
    head = (f"文件「{report.file_name}」：读取 {len(report.rows)} 个单位；{len(report.errors)} 个错误，"
            f"{len(report.warnings)} 个警告。" + ("" if report.ok else "有错误，未写入任何数据，请修改后重新导入。"))
    return "\n".join([head] + [f"[{i.severity.label}] {i.message}" for i in report.errors + report.warnings])


def parse_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    k = key(value)
    if k in TRUE_WORDS or k in ("参加", "设立", "已设", "已设立"):
        return True
    if k in FALSE_WORDS or k in ("不参加", "未设", "未设立", "不设"):
        return False
    return None


def _count(value) -> int | None:
    """A whole, non-negative number of members (「12」「12人」「１２」), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() and value >= 0 else None
    s = re.sub(r"\s+", "", text(value))
    s = re.sub(r"(人|名)$", "", s)
    if re.fullmatch(r"\d+", s):
        return int(s)
    if re.fullmatch(r"\d+\.0+", s):
        return int(float(s))
    return None


class _Parser:
    def __init__(self, report: UnitsReport, existing: pd.DataFrame):
        self.r = report
        self.file = report.file_name
        self.existing = existing  # code, name, kind, bureau, parent, closed (bool)

    def where(self, row: int, col: str = "") -> tuple[str, str, str]:
        loc = f"{self.file} · {self.r.sheet}" if self.r.sheet else self.file
        if not row:
            return loc, "", ""
        letter = self.r.columns.get(col, "")
        header = next((c.header for c in COLUMNS if c.name == col), "")
        loc += f" 第 {row} 行"
        if letter:
            loc += f" {letter} 列「{header}」"
        return loc, letter, header

    def issue(self, code: UnitIssueCode, row: int, col: str, value, remedy: str,
              severity: Severity = Severity.ERROR) -> None:
        loc, letter, header = self.where(row, col)
        shown = raw_text(value) if not isinstance(value, str) else value
        what = f"为「{shown}」，" if shown else "："
        self.r.issues.append(UploadIssue(code=code, sheet=self.r.sheet, row=row, column=letter, value=shown,
                                         message=f"{loc}{what}{remedy}", severity=severity,
                                         header=header))

    def file_issue(self, code: UnitIssueCode, message: str, severity: Severity = Severity.ERROR) -> None:
        self.r.issues.append(UploadIssue(code=code, sheet=self.r.sheet, row=0, column="", value="",
                                         message=message, severity=severity))

    # ------------------------------------------------------------------ header
    def find_header(self, grid: Grid, limits: Limits) -> tuple[int, dict[str, int]] | None:
        for i, row in enumerate(grid.rows[:limits.header_scan_rows]):
            cols: dict[str, int] = {}
            for c, v in enumerate(row):
                col = _KEYS.get(key(v))
                if col is not None and col.name not in cols:
                    cols[col.name] = c
            if "code" in cols and "name" in cols and len(cols) >= 3:
                return i, cols
        return None

    def pick(self, source, limits: Limits) -> tuple[Grid, int, dict[str, int]] | None:
        for s in source.sheets:
            if not s.visible and source.format != "csv":
                continue
            grid, issues = source.grid(s.name)
            if issues:
                self.r.issues.extend(issues)
                return None
            found = self.find_header(grid, limits) if grid is not None else None
            if found:
                return grid, *found
        self.file_issue(UnitIssueCode.HEADER_NOT_FOUND,
                        f"{self.file}：没有找到表头行（须含「单位编码」「单位名称」等列）；"
                        "请下载单位名单模板，按模板的列名填写")
        return None

    # ------------------------------------------------------------------ rows
    def run(self, data: bytes, limits: Limits) -> None:
        source, issues = open_source(data, self.file, limits)
        if source is None:
            self.r.issues.extend(issues)
            return
        try:
            picked = self.pick(source, limits)
        finally:
            source.close()
        if picked is None:
            return
        grid, h, cols = picked
        from data.intake.normalise import column_letter

        self.r.sheet = grid.name
        self.r.header_row = h + 1
        self.r.columns = {name: column_letter(c) for name, c in cols.items()}
        missing = [c.header for c in COLUMNS if c.required and c.name not in cols]
        if missing:
            self.file_issue(UnitIssueCode.MISSING_COLUMN,
                            f"{self.file} · {grid.name or 'CSV'} 第 {h + 1} 行的表头缺少"
                            f"{'、'.join(f'「{m}」' for m in missing)}列；请按单位名单模板补齐这些列")
            return
        rows = []
        for i in range(h + 1, len(grid.rows)):
            raw = grid.rows[i]
            cells = {name: (raw[c] if c < len(raw) else None) for name, c in cols.items()}
            if all(is_blank(v) for v in cells.values()):
                continue
            rows.append(self.read_row(i + 1, cells))
        rows = [r for r in rows if r is not None]
        if not rows:
            self.file_issue(UnitIssueCode.NO_DATA, f"{self.file}：表头下没有单位，请逐行填写单位后再导入")
            return
        if "has_committee" not in cols:
            self.file_issue(UnitIssueCode.NO_COMMITTEE_COLUMN,
                            f"{self.file}：没有「支部委员会」列（是/否），无法检查正式党员 7 人以上的党支部是否设立"
                            "支部委员会；如需检查，请增加该列", Severity.WARNING)
        df = pd.DataFrame(rows, columns=ROW_COLUMNS)
        self.cross_checks(df)
        self.r.rows = df

    def read_row(self, n: int, cells: dict) -> dict | None:
        out: dict = {"row": n}
        # Names keep their own characters (「县（区）局」 stays full-width); codes are NFKC-normalised.
        for name in ("name", "bureau", "category", "secretary"):
            v = re.sub(r"\s+", " ", raw_text(cells.get(name))).strip() if name in cells else ""
            # Our own exports write 「'=…」 so a spreadsheet never runs it: read it back as written.
            out[name] = v[1:] if v[:1] == "'" and v[1:2] in ("=", "+", "-", "@") else v
        for name in ("code", "parent"):
            out[name] = re.sub(r"\s+", "", text(cells.get(name))).upper() if name in cells else ""
        for name, label in (("code", "单位编码"), ("name", "单位名称"), ("bureau", "所属局")):
            if not out[name]:
                self.issue(UnitIssueCode.MISSING_VALUE, n, name, "", f"{label}为空，请填写")
        k = key(cells.get("kind"))
        out["kind"] = KIND_WORDS.get(k)
        if out["kind"] is None:
            self.issue(UnitIssueCode.BAD_KIND, n, "kind", cells.get("kind") or "",
                       "组织类型应为「党委」「党总支」或「党支部」之一，请改正")
        lv = LEVEL_WORDS.get(key(cells.get("level")).replace("（", "(").replace("）", ")"))
        out["level"] = lv
        if lv is None:
            self.issue(UnitIssueCode.BAD_LEVEL, n, "level", cells.get("level") or "",
                       "层级应为「市」或「县」，请改正")
        for name, label in (("members_full", "正式党员数"), ("members_probationary", "预备党员数")):
            v = cells.get(name)
            if is_blank(v):
                out[name] = 0
                continue
            c = _count(v)
            if c is None:
                self.issue(UnitIssueCode.NOT_INTEGER, n, name, v, f"{label}应为不小于 0 的整数（人数），请改正")
            out[name] = c
        v = cells.get("last_election")
        out["last_election"] = None
        if not is_blank(v):
            out["last_election"] = parse_date(v, month=True)
            if out["last_election"] is None:
                self.issue(UnitIssueCode.BAD_DATE, n, "last_election", v,
                           "不是日期，请填写如「2024-05-10」或「2024年5月」")
        v = cells.get("assessed")
        if is_blank(v):
            out["assessed"] = out["kind"] != "党委"
        else:
            out["assessed"] = parse_bool(v)
            if out["assessed"] is None:
                self.issue(UnitIssueCode.NOT_A_BOOL, n, "assessed", v, "是否参加考核应填「是」或「否」")
        v = cells.get("has_committee")
        out["has_committee"] = None if is_blank(v) else parse_bool(v)
        if not is_blank(v) and out["has_committee"] is None:
            self.issue(UnitIssueCode.NOT_A_BOOL, n, "has_committee", v, "支部委员会应填「是」（已设立）或「否」")
        if out["assessed"] and out["kind"] != "党委" and not out["category"]:
            self.issue(UnitIssueCode.MISSING_VALUE, n, "category", "",
                       "考核类别为空：参加考核的单位须填写考核类别（分类排名的类别，如「县局支部」）")
        if out["kind"] == "党支部" and out["members_full"] is not None and "members_full" in cells:
            m = out["members_full"]
            if m < MIN_MEMBERS:
                self.issue(UnitIssueCode.FEW_MEMBERS, n, "members_full", cells.get("members_full") or "0",
                           f"正式党员不足 {MIN_MEMBERS} 人：党支部须有 3 名以上正式党员，请核实人数或与其他支部组成联合党支部",
                           Severity.WARNING)
            elif m >= COMMITTEE_AT and out["has_committee"] is False:
                self.issue(UnitIssueCode.NO_COMMITTEE, n, "has_committee", cells.get("has_committee"),
                           f"正式党员 {m} 人（7 人以上）但未设支部委员会：按《中国共产党支部工作条例（试行）》"
                           "应设立支部委员会，请核实", Severity.WARNING)
        return out

    def cross_checks(self, df: pd.DataFrame) -> None:
        ex = self.existing
        closed = set(ex.loc[ex["closed"].astype(bool), "code"]) if len(ex) else set()
        first: dict[str, int] = {}
        for r in df.itertuples():
            if not r.code:
                continue
            if r.code in first:
                self.issue(UnitIssueCode.DUPLICATE_CODE, r.row, "code", r.code,
                           f"单位编码重复（第 {first[r.code]} 行已有该编码），每个单位只能出现一次，请删除或改正其中一行")
            else:
                first[r.code] = r.row
            if r.code in closed:
                self.issue(UnitIssueCode.CLOSED_CODE, r.row, "code", r.code,
                           "是已撤销或已合并单位的编码，编码不能重复使用；请为新单位另编一个编码")
        in_file = df.drop_duplicates("code").set_index("code")
        open_ex = ex[~ex["closed"].astype(bool)].set_index("code") if len(ex) else pd.DataFrame(columns=["kind", "bureau", "parent"])

        def info(code: str):
            if code in in_file.index:
                row = in_file.loc[code]
                return row["kind"], row["bureau"], row["parent"]
            if code in open_ex.index:
                row = open_ex.loc[code]
                return row["kind"], row["bureau"], row["parent"] or ""
            return None

        for r in df.itertuples():
            if not r.parent or not r.code:
                continue
            if r.parent == r.code:
                self.issue(UnitIssueCode.CYCLE, r.row, "parent", r.parent,
                           "上级单位编码是本单位自己，请填写上级党组织的编码，没有上级则留空")
                continue
            p = info(r.parent)
            if p is None:
                self.issue(UnitIssueCode.UNKNOWN_PARENT, r.row, "parent", r.parent,
                           "上级单位编码在本文件和系统中都不存在（或已撤销），请核对编码，或先导入上级单位")
                continue
            pkind, pbureau, _ = p
            if r.kind and pkind and KIND_RANK.get(pkind, 0) <= KIND_RANK.get(r.kind, 0):
                self.issue(UnitIssueCode.PARENT_KIND, r.row, "parent", r.parent,
                           f"上级单位是{pkind}，不能管辖{r.kind}；上级应为层级更高的党委或党总支，请改正")
            if r.bureau and pbureau and pbureau != r.bureau:
                self.issue(UnitIssueCode.PARENT_OTHER_BUREAU, r.row, "parent", r.parent,
                           f"上级单位属于「{pbureau}」，本单位所属局为「{r.bureau}」；上级须在同一个局，"
                           "请改正上级单位编码或所属局")
        # Cycles: follow each chain upwards (file rows override stored parents).
        reported: set[str] = set()
        for r in df.itertuples():
            seen = [r.code]
            cur = r.parent
            while cur and cur not in seen:
                p = info(cur)
                if p is None:
                    break
                seen.append(cur)
                cur = p[2]
            if cur == r.code and r.code not in reported and len(seen) > 1:
                reported.update(seen)  # one issue per loop, on its first row
                self.issue(UnitIssueCode.CYCLE, r.row, "parent", r.parent,
                           f"上下级关系形成循环（{' → '.join(seen + [r.code])}），请改正其中一个单位的上级单位编码")


def parse_units(data: bytes, file_name: str, existing: pd.DataFrame | None = None,
                limits: Limits | None = None) -> UnitsReport:
    """Read and check a 单位名单. ``existing``: stored units (code, name, kind, bureau, parent, closed)."""
    report = UnitsReport(file_name=file_name, file_hash=hashlib.sha256(data or b"").hexdigest())
    if existing is None:
        existing = pd.DataFrame(columns=["code", "name", "kind", "bureau", "parent", "closed"])
    _Parser(report, existing).run(data, limits or Limits())
    report.issues.sort(key=lambda i: (i.severity is not Severity.ERROR, i.row, i.column))
    return report


__all__ = ["COLUMNS", "HEADERS", "KINDS", "LEVELS", "UnitIssueCode", "UnitsReport", "parse_units",
           "format_unit_issues", "parse_bool", "parse_date"]
