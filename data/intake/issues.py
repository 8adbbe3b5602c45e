"""What an upload check produces: issues, limits and the report.

Owns the ``UploadIssue`` shape of STYLE.md (errors are data), the issue codes,
the safety limits and the ``UploadReport`` returned by ``parse_upload``. It
must not read files or touch a database.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import pandas as pd

VALUE_COLUMNS = ["unit", "field", "value", "raw", "sheet", "row", "column", "header"]
# Explicit clears (「清除」 or 「/」): the same columns, value always NaN.
CLEAR_COLUMNS = VALUE_COLUMNS


class Severity(enum.Enum):
    """ERROR blocks the commit; WARNING is shown and does not."""

    ERROR = "error"
    WARNING = "warning"

    @property
    def label(self) -> str:
        return "错误" if self is Severity.ERROR else "警告"


class IssueCode(enum.Enum):
    # The file as a whole
    FILE_TOO_LARGE = "file_too_large"          # more bytes than Limits.max_bytes
    ARCHIVE_TOO_LARGE = "archive_too_large"    # xlsx members too big or too compressed (zip bomb)
    TOO_MANY_CELLS = "too_many_cells"          # rows × columns over Limits.max_cells
    UNREADABLE = "unreadable"                  # not an Excel/CSV file, damaged, encrypted, bad encoding
    EMPTY_FILE = "empty_file"                  # no bytes, or no non-blank cell
    SHEET_MISSING = "sheet_missing"            # no 「填报表」 and no visible sheet with our headers
    HEADER_NOT_FOUND = "header_not_found"      # the sheet has no recognisable header row
    NO_DATA = "no_data"                        # a header but no unit rows under it
    WRONG_PERIOD = "wrong_period"              # _meta says another period
    WRONG_TABLE_VERSION = "wrong_table_version"  # _meta says another indicator-table version
    UPLOAD_NOT_ALLOWED = "upload_not_allowed"  # the user's role may not upload (service)
    UNKNOWN_PERIOD = "unknown_period"          # the period code does not exist (service)
    PERIOD_PUBLISHED = "period_published"      # results published: the period takes no more evidence (service)
    # Columns
    UNKNOWN_COLUMN = "unknown_column"          # WARNING: column ignored
    MISSING_COLUMN = "missing_column"          # WARNING: field not reported, values stay as they were
    DUPLICATE_COLUMN = "duplicate_column"      # two columns for the same field
    UNKNOWN_FIELD = "unknown_field"            # long format: 数据项 not in the table (WARNING, row ignored)
    # Rows and units
    MISSING_UNIT = "missing_unit"              # values but no 单位编码/单位名称
    UNKNOWN_UNIT = "unknown_unit"              # no such code / exact name (suggestion when close)
    UNIT_MISMATCH = "unit_mismatch"            # code and name name different units
    UNIT_NOT_ALLOWED = "unit_not_allowed"      # the uploader does not answer for this unit
    DUPLICATE_ROW = "duplicate_row"            # same unit (× field) twice
    # Cells
    NOT_A_NUMBER = "not_a_number"
    NOT_INTEGER = "not_integer"                # a count/people value with a fraction
    NOT_A_BOOL = "not_a_bool"
    NEGATIVE = "negative"
    OUT_OF_RANGE = "out_of_range"              # percent > 100, count > max_per_year (halved in H1)
    FORMULA_NO_VALUE = "formula_no_value"      # a formula without a cached result
    EXCEL_ERROR = "excel_error"                # #N/A, #DIV/0! …: an error value, typed or a formula's cached result
    AMBIGUOUS_PERCENT = "ambiguous_percent"    # a plain 0.95 in a percentage column: 95 % or 0.95 %?
    MERGED_CELLS = "merged_cells"              # a merge over unit rows (WARNING: read for every row) or fields
    SHEET_EMPTY = "sheet_empty"                # 填报表 holds no values while another sheet does
    AMBIGUOUS_SHEETS = "ambiguous_sheets"      # two sheets hold data: which one is meant?
    LATE_UPLOAD = "late_upload"                # after the period's 填报截止日期 (WARNING or ERROR, per period)
    FAR_FROM_LAST = "far_from_last"            # WARNING: > 3× or < 1/3 of last period's value


@dataclass(frozen=True)
class UploadIssue:
    """One problem in an upload, located as Excel shows it.

    ``row`` is 1-based as Excel shows it; 0 means the issue concerns the whole
    file or sheet. ``column`` is the letter ("C"), ``header`` the header text.
    """

    code: IssueCode
    sheet: str
    row: int
    column: str
    value: str
    message: str
    severity: Severity
    header: str = ""
    suggestion: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True)
class Limits:
    """Safety caps; the defaults suit a 2,000-unit template with room to spare."""

    max_bytes: int = 10 * 1024 * 1024           # upload size
    max_uncompressed: int = 50 * 1024 * 1024    # sum of xlsx member sizes once inflated
    max_ratio: float = 100.0                    # inflated ÷ compressed, per member over 1 MB
    max_members: int = 1000                     # zip entries
    max_cells: int = 200_000                    # rows × columns of the sheet read
    header_scan_rows: int = 30                  # how far down a header row is looked for


class IssueReport:
    """Errors, warnings and ``ok`` of a report holding ``issues`` (every intake report shares these)."""

    issues: list[UploadIssue]

    @property
    def errors(self) -> list[UploadIssue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[UploadIssue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class UploadReport(IssueReport):
    """Everything ``parse_upload`` found: issues and the values it accepted."""

    file_name: str
    file_hash: str
    file_format: str = ""           # xlsx / xls / csv, from the content
    sheet: str = ""                 # sheet read ("" for CSV)
    layout: str = ""                # wide (one row per unit) / long (unit × 数据项 × 数值)
    header_row: int = 0
    meta: dict = field(default_factory=dict)  # the template's _meta sheet, if any
    issues: list[UploadIssue] = field(default_factory=list)
    values: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VALUE_COLUMNS))
    # Cells that ask for the current value to be withdrawn (「清除」 / 「/」); blank cells keep it.
    clears: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CLEAR_COLUMNS))
    n_rows: int = 0                 # data rows read (blank, 合计 and footer rows excluded)
    n_blank: int = 0                # blank value cells of known units (not reported)
    n_skipped: int = 0              # 合计/总计 and signature rows skipped


    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.n_rows,
            "units": len(set(self.values["unit"]) | set(self.clears["unit"])),
            "values": len(self.values),
            "cleared": len(self.clears),
            "blank": self.n_blank,
            "skipped": self.n_skipped,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }


def format_issues(report: UploadReport) -> str:
    """The issue list in Chinese, one per line, errors first: for the CLI and logs."""
    c = report.counts
    cleared = f"、{c['cleared']} 个清除" if c["cleared"] else ""
    head = (f"文件「{report.file_name}」：读取 {c['rows']} 行、{c['units']} 个单位、{c['values']} 个数值{cleared}；"
            f"{c['errors']} 个错误，{c['warnings']} 个警告。")
    if report.ok:
        head += "可以提交。" if c["values"] or c["cleared"] else ""
    else:
        head += "有错误，未入库，请修改后重新上传。"
    ordered = report.errors + report.warnings
    return "\n".join([head] + [f"[{i.severity.label}] {i.message}" for i in ordered])
