"""Validation → issues, not exceptions: the exact (code, row, column) of every problem, all in one pass."""
from __future__ import annotations

import pandas as pd
import pytest

from data.intake import IssueCode, Severity
from tests.fixtures.intake_files import HEAD, csv_bytes, errors, issues, parse, value_map, write, xlsx_bytes

# A, B units; C 支委会次数 (count), D 读书心得提交率 (%), E 意识形态 (是/否), F 人均培训学时 (hours), G 主题党日次数


def _row(code, name, *values):
    return [code, name, *values]


def cell_issues(report):
    """Issues other than the one MISSING_COLUMN warning of a file with a few columns."""
    return [i for i in issues(report) if i[0] != "MISSING_COLUMN"]


def test_message_names_file_sheet_row_column_header_and_what_to_do(tmp_path):
    rows = [HEAD] + [_row(c, n, 6, 90, "是", 10, 6) for c, n in
                     [("C01", "市局机关第一党支部"), ("C02", "市局机关第二党支部"), ("C03", "市局机关第三党支部"),
                      ("X0011", "城东区局机关党支部"), ("X0012", "城东区局营销党支部")]]
    rows.append(_row("X0031", "临河县局机关党支部", "十二", 90, "是", 10, 6))
    report = parse(write(tmp_path / "填报表.xlsx", xlsx_bytes(rows)))
    assert cell_issues(report) == [("NOT_A_NUMBER", 7, "C")]
    issue = report.errors[0]
    assert issue.message.startswith("填报表.xlsx · 填报表 第 7 行 C 列「支委会次数（次）」为「十二」，请填写阿拉伯数字")
    assert (issue.sheet, issue.header, issue.value, issue.severity) == (
        "填报表", "支委会次数（次）", "十二", Severity.ERROR)
    assert not report.ok


def test_every_cell_problem_is_collected_in_one_pass(tmp_path):
    rows = [HEAD,
            _row("C01", "市局机关第一党支部", "十二", 120, "也许", -2, 184),   # 5 problems in one row
            _row("C02", "市局机关第二党支部", 3.5, "abc", "是", "2001", 6),
            _row("C03", "市局机关第三党支部", "6人", 90, "否", 1001, "2026-03-01")]
    report = parse(write(tmp_path / "bad.xlsx", xlsx_bytes(rows)))
    assert cell_issues(report) == [
        ("NOT_A_NUMBER", 2, "C"), ("OUT_OF_RANGE", 2, "D"), ("NOT_A_BOOL", 2, "E"), ("NEGATIVE", 2, "F"),
        ("OUT_OF_RANGE", 2, "G"),
        ("NOT_INTEGER", 3, "C"), ("NOT_A_NUMBER", 3, "D"), ("OUT_OF_RANGE", 3, "F"),
        ("NOT_A_NUMBER", 4, "C"), ("OUT_OF_RANGE", 4, "F"), ("NOT_A_NUMBER", 4, "G"),
    ]
    by_cell = {(i.row, i.column): i.message for i in report.errors}
    assert "比率应在 0–100 之间" in by_cell[(2, "D")]
    assert "超过本考核期的上限 181次（全年上限 365次，按本考核期 181 天折算）" in by_cell[(2, "G")]
    assert "超过本考核期的上限 992学时" in by_cell[(4, "F")]  # 2000 × 181 / 365 = 991.8, rounded up
    assert "须填写整数" in by_cell[(3, "C")]
    assert "「人」与该项的计量单位「次」不符" in by_cell[(4, "C")]
    # The good cells of those rows are still read (shown in the preview) — the errors block the commit.
    assert value_map(report)[("C02", "ideology_review")] == 1


def test_counts_cap_follows_the_days_of_the_period(tmp_path):
    # 2026H1 is 1 January – 30 June 2026: 31+28+31+30+31+30 = 181 days; 2028H1 (leap year) 182.
    rows = [["单位编码", "主题党日次数（次）"], ["C01", 181], ["C02", 182], ["C03", 183], ["X0011", 365],
            ["X0012", 366]]
    path = write(tmp_path / "cap.xlsx", xlsx_bytes(rows))
    assert errors(parse(path, period="2026H1", kind="H1", version="2026")) == [
        ("OUT_OF_RANGE", 3, "B"), ("OUT_OF_RANGE", 4, "B"), ("OUT_OF_RANGE", 5, "B"), ("OUT_OF_RANGE", 6, "B")]
    assert errors(parse(path, period="2028H1", kind="H1", version="2026")) == [
        ("OUT_OF_RANGE", 4, "B"), ("OUT_OF_RANGE", 5, "B"), ("OUT_OF_RANGE", 6, "B")]
    assert errors(parse(path, period="2026", kind="year")) == [("OUT_OF_RANGE", 6, "B")]


def test_percent_cap_is_100_and_negative_is_refused(tmp_path):
    rows = [["单位编码", "读书心得提交率（%）"], ["C01", 100], ["C02", 100.5], ["C03", "-5%"], ["X0011", "101%"]]
    report = parse(write(tmp_path / "pct.xlsx", xlsx_bytes(rows)))
    assert errors(report) == [("OUT_OF_RANGE", 3, "B"), ("NEGATIVE", 4, "B"), ("OUT_OF_RANGE", 5, "B")]


def test_people_must_be_whole(tmp_path):
    rows = [["单位编码", "发展计划数（人）", "实际发展数（人）"], ["C01", 2, 1.5]]
    assert errors(parse(write(tmp_path / "p.xlsx", xlsx_bytes(rows)), period="2026", kind="year")) == [
        ("NOT_INTEGER", 2, "C")]


# ---- units

def test_unit_problems(tmp_path):
    rows = [HEAD[:3],
            _row("C01", "市局机关第一党支部", 6),
            _row("C99", "", 6),                               # unknown code
            _row("C09", "市局机关第二党支部", 6),              # unknown code, known name → suggestion
            _row("C02", "市局机关第三党支部", 6),              # code and name disagree
            _row("", "", 6),                                  # values without a unit
            _row("", "市局机关第一党支部", 7),                 # duplicate of row 2 (by name)
            _row("X0031", "", 4)]
    report = parse(write(tmp_path / "u.xlsx", xlsx_bytes(rows)))
    assert errors(report) == [("UNKNOWN_UNIT", 3, "A"), ("UNKNOWN_UNIT", 4, "A"), ("UNIT_MISMATCH", 5, "B"),
                              ("MISSING_UNIT", 6, "A"), ("DUPLICATE_ROW", 7, "A")]
    msgs = [i.message for i in report.errors]
    assert "该行单位名称对应的编码是「C02」" in msgs[1]
    assert "在第 2 行已出现" in msgs[4]
    assert value_map(report) == {("C01", "committee_meetings"): 6, ("X0031", "committee_meetings"): 4}


def test_units_outside_the_uploaders_scope(tmp_path):
    rows = [HEAD[:3], _row("X0031", "临河县局机关党支部", 4), _row("C01", "市局机关第一党支部", 6),
            _row("", "市局机关第二党支部", 5)]
    report = parse(write(tmp_path / "s.xlsx", xlsx_bytes(rows)), allowed={"X0031"})
    assert errors(report) == [("UNIT_NOT_ALLOWED", 3, "A"), ("UNIT_NOT_ALLOWED", 4, "B")]
    assert "不是您负责的单位" in report.errors[0].message
    assert value_map(report) == {("X0031", "committee_meetings"): 4}


def test_a_scoped_uploader_gets_the_same_answer_for_an_absent_and_another_units_code(tmp_path):
    rows = [HEAD[:3], _row("C01", "", 6), _row("ZZ99", "", 6), _row("", "市局机关第一", 5)]
    report = parse(write(tmp_path / "s.xlsx", xlsx_bytes(rows)), allowed={"X0031"})
    other, absent, partial = report.errors
    assert other.code == absent.code
    assert other.message.replace("C01", "ZZ99").replace("第 2 行", "第 3 行") == absent.message
    # Nothing names a unit outside the scope beyond what was typed (no suggestion of 市局机关第一党支部).
    assert "党支部" not in " ".join(e.message + e.suggestion for e in report.errors)
    assert partial.suggestion == ""


def test_duplicate_unit_field_in_long_layout(tmp_path):
    rows = [["单位编码", "数据项", "数值"], ["C01", "支委会次数", 6], ["C01", "主题党日次数", 6],
            ["C01", "支委会次数（次）", 7], ["C01", "不存在的数据项", 1], ["C01", "", 2]]
    report = parse(write(tmp_path / "l.csv", csv_bytes(rows)))
    assert issues(report) == [("DUPLICATE_ROW", 4, "B"), ("UNKNOWN_FIELD", 5, "B"), ("UNKNOWN_FIELD", 6, "B")]
    assert [i.severity for i in report.issues] == [Severity.ERROR, Severity.WARNING, Severity.WARNING]


def test_unknown_unit_in_long_layout_is_reported_once_per_spelling(tmp_path):
    rows = [["单位名称", "数据项", "数值"], ["第一支部", "支委会次数", 6], ["第一支部", "主题党日次数", 6]]
    report = parse(write(tmp_path / "l.xlsx", xlsx_bytes(rows)))
    assert errors(report) == [("UNKNOWN_UNIT", 2, "A")]


# ---- columns

def test_column_problems(tmp_path):
    rows = [["单位编码", "支委会次数（次）", "支委会数", "主题党日次数", "支委会次数", None],
            ["C01", 6, 1, 6, 7, None], ["C02", 5, 1, 5, 5, "x"]]
    report = parse(write(tmp_path / "c.xlsx", xlsx_bytes(rows)))
    assert issues(report) == [("MISSING_COLUMN", 1, ""), ("UNKNOWN_COLUMN", 1, "C"), ("DUPLICATE_COLUMN", 1, "E"),
                              ("UNKNOWN_COLUMN", 1, "F")]
    unknown = report.issues[1]
    assert unknown.severity is Severity.WARNING and unknown.suggestion == "支委会次数（次）"
    assert report.issues[2].severity is Severity.ERROR
    assert report.issues[0].severity is Severity.WARNING
    assert value_map(report) == {("C01", "committee_meetings"): 6, ("C02", "committee_meetings"): 5,
                                 ("C01", "theme_days"): 6, ("C02", "theme_days"): 5}


def test_missing_columns_are_one_warning_and_do_not_block(tmp_path):
    report = parse(write(tmp_path / "m.xlsx", xlsx_bytes([HEAD[:3], ["C01", "市局机关第一党支部", 6]])))
    assert issues(report) == [("MISSING_COLUMN", 1, "")]
    assert report.ok
    assert "表头中没有 46 个数据项的列" in report.issues[0].message


# ---- file-level

def test_wrong_period_and_table_version_in_meta(tmp_path):
    data = xlsx_bytes([HEAD[:3], ["C01", "市局机关第一党支部", 6]],
                      meta={"period": "2025", "table_version": "2025"})
    report = parse(write(tmp_path / "old.xlsx", data))
    assert errors(report)[:2] == [("WRONG_PERIOD", 0, ""), ("WRONG_TABLE_VERSION", 0, "")]
    assert "该文件是「2025」考核期的填报模板，当前导入的考核期是「2026H1」" in report.errors[0].message
    assert not report.ok


def test_right_period_in_meta_passes(tmp_path):
    data = xlsx_bytes([HEAD[:3], ["C01", "市局机关第一党支部", 6]], meta={"period": "2026H1", "table_version": "2026"})
    assert errors(parse(write(tmp_path / "ok.xlsx", data))) == []


def test_period_column_in_an_export(tmp_path):
    rows = [["考核期", "单位编码", "数据项", "数值"], ["2026年上半年", "C01", "支委会次数", 6],
            ["2026H1", "C02", "支委会次数", 6], ["2025年度", "C03", "支委会次数", 6]]
    report = parse(write(tmp_path / "p.csv", csv_bytes(rows)))
    assert errors(report) == [("WRONG_PERIOD", 4, "A")]


def test_header_not_found_sheet_missing_and_no_data(tmp_path):
    no_header = xlsx_bytes([["这是一份工作总结"], ["支委会开了 6 次"]])
    assert issues(parse(write(tmp_path / "a.xlsx", no_header))) == [("HEADER_NOT_FOUND", 0, "")]
    two_sheets = xlsx_bytes([["总结"]], sheet="总结", extra_sheets={"附表": [["一", "二"]]})
    assert issues(parse(write(tmp_path / "b.xlsx", two_sheets))) == [("SHEET_MISSING", 0, "")]
    header_only = xlsx_bytes([HEAD, [], ["合计", None, 0]])
    assert errors(parse(write(tmp_path / "c.xlsx", header_only))) == [("NO_DATA", 0, "")]


def test_issues_never_raise_on_odd_cells(tmp_path):
    import datetime as dt

    rows = [HEAD[:4], ["C01", "市局机关第一党支部", dt.datetime(2026, 3, 1), float("inf")],
            [12345, None, "", "NaN"]]
    report = parse(write(tmp_path / "odd.xlsx", xlsx_bytes(rows)))
    assert ("NOT_A_NUMBER", 2, "C") in errors(report)
    assert ("UNKNOWN_UNIT", 3, "A") in errors(report)


# ---- far from last period (WARNING)

def test_far_from_last_period_warns_once_per_field_without_blocking(tmp_path):
    previous = pd.DataFrame({"unit": ["C01", "C02", "C03", "X0011", "X0012", "X0031"],
                             "field": ["committee_meetings", "committee_meetings", "committee_meetings",
                                       "committee_meetings", "ideology_review", "theme_days"],
                             "value": [6, 6, 6, 0, 1, 1]})
    rows = [["单位编码", "支委会次数（次）", "专题研究意识形态工作", "主题党日次数（次）"],
            ["C01", 19, None, None], ["C02", 1, None, None], ["C03", 18, None, None], ["X0011", 5, None, None],
            ["X0012", None, "否", None], ["X0031", 30, None, 4]]
    report = parse(write(tmp_path / "far.xlsx", xlsx_bytes(rows)), previous=previous)
    # C01 (19 vs 6) and C02 (1 vs 6) in one warning; C03 (18 < 3 × 6) no; a previous 0 is not compared;
    # 是/否 is not compared; 4 against 1 are both small counts: noise, not compared.
    assert cell_issues(report) == [("FAR_FROM_LAST", 2, "B")]
    assert all(i.severity is Severity.WARNING for i in report.issues)
    assert report.ok and len(report.values) == 7
    msg = next(i.message for i in report.issues if i.code is IssueCode.FAR_FROM_LAST)
    assert msg.startswith("支委会次数：2 个单位与上期差异较大")
    assert "C01（第 2 行：19，上期 6）" in msg and "C02（第 3 行：1，上期 6）" in msg and "C03" not in msg


def test_far_from_last_names_the_period_compared_with(tmp_path):
    previous = pd.DataFrame({"unit": ["C01"], "field": ["committee_meetings"], "value": [6.0],
                             "source": ["2025 年度，次数和学时按半年折算"]})
    report = parse(write(tmp_path / "f.xlsx", xlsx_bytes([["单位编码", "支委会次数"], ["C01", 1]])),
                   previous=previous)
    assert "与上期（2025 年度，次数和学时按半年折算）差异较大" in report.issues[-1].message


def test_issues_are_sorted_by_row_then_column(tmp_path):
    rows = [HEAD[:4], ["C01", "市局机关第一党支部", 6, "x"], ["C99", "", "y", 50]]
    report = parse(write(tmp_path / "o.xlsx", xlsx_bytes(rows)))
    assert issues(report) == [("MISSING_COLUMN", 1, ""), ("NOT_A_NUMBER", 2, "D"), ("UNKNOWN_UNIT", 3, "A"),
                              ("NOT_A_NUMBER", 3, "C")]


@pytest.mark.parametrize("value", ["十二", "12个", "十二次"])
def test_chinese_numerals_and_foreign_units_are_not_guessed(tmp_path, value):
    report = parse(write(tmp_path / "z.xlsx", xlsx_bytes([["单位编码", "支委会次数（次）"], ["C01", value]])))
    assert errors(report) == [("NOT_A_NUMBER", 2, "B")]
