"""单位名单 intake: every problem class named by row, column and a Chinese remedy; formats; header detection.

Pure parsing (no database): the stored units a file may refer to are passed as a frame.
"""
from __future__ import annotations

import io

import pandas as pd
import pytest

from data.intake import Severity
from data.intake.units import HEADERS, parse_units
from tests.fixtures.org_files import csv_bytes, unit_rows, xlsx

# Columns: A 单位编码, B 单位名称, C 组织类型, D 上级单位编码, E 所属局, F 层级, G 考核类别, H 书记,
# I 正式党员数, J 预备党员数, K 上次换届日期, L 是否参加考核, M 支部委员会.
BASE = [
    ["L1", "临河县局党委", "党委", "", "临河县局", "县", "", "王一", 0, 0, "", "否", ""],
    ["L11", "临河县局机关党总支", "党总支", "L1", "临河县局", "县", "县局支部", "王二", 20, 1, "2024-05-10", "是", "是"],
    ["L111", "临河县局机关第一党支部", "党支部", "L11", "临河县局", "县", "县局支部", "王三", 5, 0, "2024-05-10", "是", "否"],
    ["Q1", "青山县局党委", "党委", "", "青山县局", "县", "", "李一", 0, 0, "", "否", ""],
    ["Q11", "青山县局机关党支部", "党支部", "Q1", "青山县局", "县", "县局支部", "李二", 6, 2, "2023年6月", "", "否"],
]
FIRST = 4  # BASE[0] is on row 4 (title, blank row, header above it)


def _file(rows):
    return xlsx(rows)


def _issues(report):
    return [(i.code.name, i.row, i.column, i.severity) for i in report.issues]


def _with(index: int, column: int, value):
    rows = [list(r) for r in BASE]
    rows[index][column] = value
    return rows


def test_a_clean_file_reads_every_column():
    report = parse_units(_file(BASE), "单位名单.xlsx")
    assert report.ok and report.issues == []
    assert report.header_row == 3 and report.sheet == "单位名单"
    r = report.rows.set_index("code")
    assert r.loc["L111", "parent"] == "L11" and r.loc["L111", "members_full"] == 5
    assert r.loc["L111", "last_election"].isoformat() == "2024-05-10"
    assert r.loc["Q11", "last_election"].isoformat() == "2023-06-01"  # 「2023年6月」: the first of the month
    assert bool(r.loc["Q11", "assessed"]) is True          # blank → 是
    assert bool(r.loc["L1", "assessed"]) is False          # a 党委 is a container
    assert r.loc["L111", "has_committee"] is False and r.loc["L11", "has_committee"] is True


CASES = [
    # (name, rows, expected (code, row, column), words in the message)
    ("unknown parent", _with(2, 3, "L99"), ("UNKNOWN_PARENT", FIRST + 2, "D"), ["上级单位编码", "L99", "不存在"]),
    ("parent is itself", _with(2, 3, "L111"), ("CYCLE", FIRST + 2, "D"), ["本单位自己"]),
    ("duplicate code", _with(4, 0, "L111"), ("DUPLICATE_CODE", FIRST + 4, "A"), ["重复", f"第 {FIRST + 2} 行"]),
    ("parent in another 局", _with(4, 3, "L11"), ("PARENT_OTHER_BUREAU", FIRST + 4, "D"), ["临河县局", "青山县局"]),
    ("fractional members", _with(2, 8, "5.5"), ("NOT_INTEGER", FIRST + 2, "I"), ["正式党员数", "整数"]),
    ("members as words", _with(1, 9, "一人"), ("NOT_INTEGER", FIRST + 1, "J"), ["预备党员数", "整数"]),
    ("negative members", _with(2, 8, -3), ("NOT_INTEGER", FIRST + 2, "I"), ["不小于 0"]),
    ("bad kind", _with(2, 2, "党小组"), ("BAD_KIND", FIRST + 2, "C"), ["党委", "党总支", "党支部"]),
    ("bad level", _with(2, 5, "省"), ("BAD_LEVEL", FIRST + 2, "F"), ["市", "县"]),
    ("bad date", _with(2, 10, "去年"), ("BAD_DATE", FIRST + 2, "K"), ["日期"]),
    ("bad yes/no", _with(2, 11, "也许"), ("NOT_A_BOOL", FIRST + 2, "L"), ["是", "否"]),
    ("blank name", _with(2, 1, ""), ("MISSING_VALUE", FIRST + 2, "B"), ["单位名称为空"]),
    ("blank category", _with(2, 6, ""), ("MISSING_VALUE", FIRST + 2, "G"), ["考核类别"]),
    ("支部 as parent", [list(r) for r in BASE] + [["Q111", "青山县局某党支部", "党支部", "Q11", "青山县局", "县", "县局支部", "李三", 4, 0,
                                 "", "", ""]],
     ("PARENT_KIND", FIRST + 5, "D"), ["党支部", "不能管辖"]),
]


@pytest.mark.parametrize("name,rows,expected,words", CASES, ids=[c[0] for c in CASES])
def test_each_problem_is_named_by_row_column_and_remedy(name, rows, expected, words):
    report = parse_units(_file(rows), "单位名单.xlsx")
    errors = [(i.code.name, i.row, i.column) for i in report.errors]
    assert expected in errors, errors
    issue = next(i for i in report.errors if (i.code.name, i.row, i.column) == expected)
    assert issue.message.startswith(f"单位名单.xlsx · 单位名单 第 {expected[1]} 行 {expected[2]} 列「")
    for w in words:
        assert w in issue.message
    assert not report.ok


def test_a_cycle_through_several_units_is_reported_once_with_the_loop():
    rows = [list(r) for r in BASE] + [
        ["Z1", "甲党委", "党委", "Z2", "青山县局", "县", "", "", 0, 0, "", "", ""],
        ["Z2", "乙党委", "党委", "Z1", "青山县局", "县", "", "", 0, 0, "", "", ""],
    ]
    report = parse_units(_file(rows), "u.xlsx")
    cycles = [i for i in report.errors if i.code.name == "CYCLE"]
    assert [(i.row, i.column) for i in cycles] == [(FIRST + 5, "D")]
    assert "Z1 → Z2 → Z1" in cycles[0].message


def test_a_parent_stored_in_the_system_is_accepted_and_its_局_checked():
    existing = pd.DataFrame([dict(code="S1", name="市局机关党委", kind="党委", bureau="市局机关", parent="",
                                  closed=False),
                             dict(code="OLD", name="已撤销党委", kind="党委", bureau="市局机关", parent="", closed=True),
                             dict(code="OLD2", name="已合并党委", kind="党委", bureau="市局机关", parent="", closed=True)])
    rows = [["S11", "市局机关第一党支部", "党支部", "S1", "市局机关", "市", "市局机关支部", "", 5, 0, "", "", ""],
            ["S12", "临河某党支部", "党支部", "S1", "临河县局", "县", "县局支部", "", 5, 0, "", "", ""],
            ["S13", "挂在撤销单位下", "党支部", "OLD2", "市局机关", "市", "市局机关支部", "", 5, 0, "", "", ""],
            ["OLD", "重用编码", "党支部", "", "市局机关", "市", "市局机关支部", "", 5, 0, "", "", ""]]
    report = parse_units(_file(rows), "u.xlsx", existing)
    got = {(i.code.name, i.row, i.column) for i in report.errors}
    assert got == {("PARENT_OTHER_BUREAU", FIRST + 1, "D"), ("UNKNOWN_PARENT", FIRST + 2, "D"),
                   ("CLOSED_CODE", FIRST + 3, "A")}


def test_size_warnings_of_the_branch_regulations():
    rows = _with(2, 8, 2)                               # 支部 with 2 正式党员
    rows[4][8], rows[4][12] = 9, "否"                    # 9 正式党员, no 支部委员会
    report = parse_units(_file(rows), "u.xlsx")
    assert report.ok  # warnings do not block
    warnings = {(i.code.name, i.row, i.column) for i in report.warnings}
    assert warnings == {("FEW_MEMBERS", FIRST + 2, "I"), ("NO_COMMITTEE", FIRST + 4, "M")}
    few = next(i for i in report.warnings if i.code.name == "FEW_MEMBERS")
    assert "3 名以上正式党员" in few.message and few.severity is Severity.WARNING
    # A 党总支 is not a 支部: no warning for it whatever its size.
    assert not any(i.row == FIRST + 1 for i in report.warnings)


def test_without_a_committee_column_one_file_warning_says_the_check_was_not_made():
    rows = [r[:12] for r in BASE]
    report = parse_units(xlsx(rows, headers=HEADERS[:12]), "u.xlsx")
    assert report.ok
    assert [(i.code.name, i.row) for i in report.warnings] == [("NO_COMMITTEE_COLUMN", 0)]


def test_missing_required_column_and_missing_header():
    report = parse_units(xlsx([r[:4] + r[5:] for r in BASE], headers=HEADERS[:4] + HEADERS[5:]), "u.xlsx")
    assert [(i.code.name, i.row) for i in report.errors] == [("MISSING_COLUMN", 0)]
    assert "「所属局」" in report.errors[0].message
    report = parse_units(xlsx([["a", "b"]], headers=["甲", "乙"]), "u.xlsx")
    assert [i.code.name for i in report.errors] == ["HEADER_NOT_FOUND"]


def test_gbk_csv_with_synonym_headers_and_full_width_digits():
    headers = ["编码", "党组织名称", "类型", "上级编码", "所属局", "级别", "类别", "支部书记", "正式党员", "预备党员",
               "换届时间", "参加考核", "是否设支部委员会"]
    rows = [list(r) for r in BASE]
    rows[2][8] = "５人"
    report = parse_units(csv_bytes(rows, "gbk", headers=headers), "单位名单.csv")
    assert report.ok, report.issues
    assert report.rows.set_index("code").loc["L111", "members_full"] == 5
    assert len(report.rows) == len(BASE)


def test_old_xls_files_are_read():
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("名单")
    ws.write(0, 0, "2026年组织机构名单")
    for c, h in enumerate(HEADERS):
        ws.write(2, c, h)
    for r, row in enumerate(BASE, start=3):
        for c, v in enumerate(row):
            if v != "":
                ws.write(r, c, v)
    buf = io.BytesIO()
    wb.save(buf)
    report = parse_units(buf.getvalue(), "单位名单.xls")
    assert report.ok, report.issues
    assert list(report.rows["code"]) == [r[0] for r in BASE]


def test_the_three_level_fixture_is_clean():
    rows = unit_rows()
    report = parse_units(_file(rows), "u.xlsx")
    assert report.ok and len(report.rows) == len(rows) >= 100
    assert set(report.rows["kind"]) == {"党委", "党总支", "党支部"}
