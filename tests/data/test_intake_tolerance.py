"""Tolerance of the spreadsheets staff really produce: each case is a real file in tmp_path."""
from __future__ import annotations

import pytest

from tests.fixtures.intake_files import HEAD, UNITS, csv_bytes, errors, issues, parse, value_map, write, xlsx_bytes


def test_title_rows_and_blank_rows_above_the_header(tmp_path):
    rows = [["2026年上半年党建工作考核填报表"], [], ["填报单位：临河县局", None, None, "填报日期：2026-07-05"], [],
            HEAD[:3], ["C01", "市局机关第一党支部", 6]]
    report = parse(write(tmp_path / "t.xlsx", xlsx_bytes(rows, merged=("A1:G1",))))
    assert report.header_row == 5
    assert value_map(report) == {("C01", "committee_meetings"): 6}
    assert report.values.iloc[0]["row"] == 6


def test_merged_two_row_header(tmp_path):
    # Row 1: 单位编码/单位名称 merged down over two rows, 「组织生活」 merged across; row 2: the fields.
    rows = [["单位编码", "单位名称", "组织生活", None, "理论学习"],
            [None, None, "支委会次数", "主题党日次数（次）", "读书心得提交率"],
            ["C01", "市局机关第一党支部", 6, 6, 90],
            ["C02", "市局机关第二党支部", 5, 4, 85]]
    data = xlsx_bytes(rows, merged=("A1:A2", "B1:B2", "C1:D1"))
    report = parse(write(tmp_path / "m.xlsx", data))
    assert report.header_row == 2
    assert [i for i in issues(report) if i[0] != "MISSING_COLUMN"] == []
    assert value_map(report) == {("C01", "committee_meetings"): 6, ("C01", "theme_days"): 6,
                                 ("C01", "reading_rate"): 90, ("C02", "committee_meetings"): 5,
                                 ("C02", "theme_days"): 4, ("C02", "reading_rate"): 85}
    assert report.values.iloc[0]["row"] == 3


def test_total_row_blank_rows_and_signature_are_skipped(tmp_path):
    rows = [HEAD[:3], ["C01", "市局机关第一党支部", 6], [], [None, None, None], ["C02", "市局机关第二党支部", 5],
            ["合  计", None, 11], ["", "总计", 11], ["填表人：王建国", None, "审核人：李明"],
            ["注：本表数据截至6月30日"]]
    report = parse(write(tmp_path / "s.xlsx", xlsx_bytes(rows)))
    assert errors(report) == []
    assert (report.n_rows, report.n_skipped) == (2, 4)
    assert value_map(report) == {("C01", "committee_meetings"): 6, ("C02", "committee_meetings"): 5}


def test_full_width_and_padded_names_codes_and_numbers(tmp_path):
    rows = [HEAD[:4], ["Ｃ０１ ", " 市局机关第一党支部　", "１２", "９５％"],
            ["", "市局机关 第二党支部", " 7 ", "８８"]]
    report = parse(write(tmp_path / "fw.xlsx", xlsx_bytes(rows)), kind="year", period="2026")
    assert errors(report) == []
    assert value_map(report) == {("C01", "committee_meetings"): 12, ("C01", "reading_rate"): 95,
                                 ("C02", "committee_meetings"): 7, ("C02", "reading_rate"): 88}
    assert report.values.iloc[0]["raw"] == "１２"  # provenance keeps what was written


@pytest.mark.parametrize("written, field, expected", [
    ("12", "committee_meetings", 12), ("12次", "committee_meetings", 12), ("12 次", "committee_meetings", 12),
    ("8学时", "member_training_hours", 8), ("8.5小时", "member_training_hours", 8.5),
    ("95%", "reading_rate", 95), ("９５％", "reading_rate", 95), ("1,000", "member_training_hours", 1000),
])
def test_numbers_written_as_text_with_units(tmp_path, written, field, expected):
    header = {"committee_meetings": "支委会次数（次）", "member_training_hours": "人均培训学时（学时）",
              "reading_rate": "读书心得提交率（%）"}[field]
    rows = [["单位编码", header], ["C01", written]]
    report = parse(write(tmp_path / "n.xlsx", xlsx_bytes(rows)), kind="year", period="2026")
    assert errors(report) == []
    assert value_map(report) == {("C01", field): expected}


@pytest.mark.parametrize("written, expected", [
    ("是", 1), ("否", 0), ("√", 1), ("×", 0), ("有", 1), ("无", 0), ("Y", 1), ("n", 0), ("已开展", 1), (1, 1), (0, 0),
    (True, 1), (False, 0),
])
def test_yes_no_words(tmp_path, written, expected):
    rows = [["单位编码", "专题研究意识形态工作（是/否）"], ["C01", written]]
    report = parse(write(tmp_path / "b.xlsx", xlsx_bytes(rows)))
    assert errors(report) == []
    assert value_map(report) == {("C01", "ideology_review"): expected}


# ---- percent: one cell means the same in any file (issue 13 item 1)

def test_percent_formatted_cell_is_scaled(tmp_path):
    rows = [["单位编码", "读书心得提交率（%）"], ["C01", 0.95], ["C02", 88]]
    report = parse(write(tmp_path / "p.xlsx", xlsx_bytes(rows, percent=("B2",))))
    assert value_map(report) == {("C01", "reading_rate"): 95, ("C02", "reading_rate"): 88}
    assert report.values.iloc[0]["raw"] == "95%"


def test_a_column_of_fractions_is_not_guessed_each_fraction_is_an_error(tmp_path):
    rows = [["单位编码", "读书心得提交率（%）", "考学参考率（%）"], ["C01", 0.95, "0.9"], ["C02", 1, 0.875],
            ["C03", 0, 50]]
    report = parse(write(tmp_path / "p.xlsx", xlsx_bytes(rows)))
    assert errors(report) == [("AMBIGUOUS_PERCENT", 2, "B"), ("AMBIGUOUS_PERCENT", 2, "C"),
                              ("AMBIGUOUS_PERCENT", 3, "B"), ("AMBIGUOUS_PERCENT", 3, "C")]
    assert value_map(report) == {("C03", "reading_rate"): 0, ("C03", "exam_rate"): 50}


def test_zero_and_numbers_above_one_are_percentages_as_written(tmp_path):
    rows = [["单位编码", "读书心得提交率（%）"], ["C01", 1.5], ["C02", 0], ["C03", 100]]
    report = parse(write(tmp_path / "p.xlsx", xlsx_bytes(rows)))
    assert report.errors == []
    assert value_map(report) == {("C01", "reading_rate"): 1.5, ("C02", "reading_rate"): 0,
                                 ("C03", "reading_rate"): 100}


def test_text_percent_is_read_as_written_even_below_one(tmp_path):
    rows = [["单位编码", "读书心得提交率（%）"], ["C01", "0.5%"], ["C02", "90%"]]
    report = parse(write(tmp_path / "p.xlsx", xlsx_bytes(rows)))
    assert report.errors == []
    assert value_map(report) == {("C01", "reading_rate"): 0.5, ("C02", "reading_rate"): 90}


# ---- units and headers

def test_units_by_code_only_or_by_exact_name_only(tmp_path):
    by_code = parse(write(tmp_path / "c.csv", csv_bytes([["单位代码", "支委会次数"], ["X0031", 4]])))
    assert value_map(by_code) == {("X0031", "committee_meetings"): 4}
    by_name = parse(write(tmp_path / "n.csv", csv_bytes([["党支部名称", "支委会次数"], ["临河县局机关党支部", 4]])))
    assert value_map(by_name) == {("X0031", "committee_meetings"): 4}


def test_known_code_with_a_former_name_is_accepted(tmp_path):
    rows = [HEAD[:3], ["C03", "市局机关综合党支部", 4]]  # renamed unit: the code is its identity
    report = parse(write(tmp_path / "r.xlsx", xlsx_bytes(rows)))
    assert errors(report) == [] and value_map(report) == {("C03", "committee_meetings"): 4}


def test_near_miss_name_is_suggested_never_matched(tmp_path):
    rows = [["单位名称", "支委会次数（次）"], ["第一支部", 6], ["城东区局机关支部", 5], ["完全不相干", 3]]
    report = parse(write(tmp_path / "near.xlsx", xlsx_bytes(rows)))
    assert errors(report) == [("UNKNOWN_UNIT", 2, "A"), ("UNKNOWN_UNIT", 3, "A"), ("UNKNOWN_UNIT", 4, "A")]
    first, second, third = report.errors
    assert first.suggestion == "C01 市局机关第一党支部"
    assert "是否应为「市局机关第一党支部」（编码 C01）？相近名称不会自动匹配" in first.message
    assert second.suggestion == "X0011 城东区局机关党支部"
    assert third.suggestion == ""
    assert report.values.empty


@pytest.mark.parametrize("header", ["支委会次数", "支委会次数(次)", "支委会次数（次）\n", "支委会次数\n（次）",
                                    "支委会 次数（次）", "支委会次数（次）（0-183）", "committee_meetings"])
def test_header_spellings(tmp_path, header):
    report = parse(write(tmp_path / "h.xlsx", xlsx_bytes([["单位编码", header], ["C01", 6]])))
    assert value_map(report) == {("C01", "committee_meetings"): 6}


def test_columns_in_any_order_with_ignored_extras(tmp_path):
    rows = [["序号", "主题党日次数（次）", "单位名称", "备注", "单位编码", "支委会次数（次）"],
            [1, 6, "市局机关第一党支部", "无", "C01", 5]]
    report = parse(write(tmp_path / "o.xlsx", xlsx_bytes(rows)))
    assert [i for i in issues(report) if i[0] != "MISSING_COLUMN"] == []
    assert value_map(report) == {("C01", "theme_days"): 6, ("C01", "committee_meetings"): 5}


def test_blank_cells_are_not_reported_and_not_errors(tmp_path):
    rows = [HEAD[:4], ["C01", "市局机关第一党支部", None, 90], ["C02", "市局机关第二党支部", "  ", None]]
    report = parse(write(tmp_path / "b.xlsx", xlsx_bytes(rows)))
    assert errors(report) == []
    assert report.n_blank == 3
    assert value_map(report) == {("C01", "reading_rate"): 90}


def test_rows_for_units_without_values_are_read_but_write_nothing(tmp_path):
    rows = [HEAD[:3], ["C01", "市局机关第一党支部", None], ["C02", "市局机关第二党支部", 4]]
    report = parse(write(tmp_path / "e.xlsx", xlsx_bytes(rows)))
    assert report.n_rows == 2 and value_map(report) == {("C02", "committee_meetings"): 4}


def test_repeated_header_rows_are_skipped_and_known_units_never_look_like_totals(tmp_path):
    units = UNITS.assign(name=UNITS["name"].where(UNITS["unit"] != "C03", "总计划科党支部"))
    rows = [HEAD[:3], ["C01", "市局机关第一党支部", 6], HEAD[:3], ["", "总计划科党支部", 4], ["合计", None, 10]]
    report = parse(write(tmp_path / "p.xlsx", xlsx_bytes(rows)), units=units)
    assert errors(report) == []
    assert (report.n_rows, report.n_skipped) == (2, 2)
    assert value_map(report) == {("C01", "committee_meetings"): 6, ("C03", "committee_meetings"): 4}


def test_merged_cells_at_the_bottom_of_a_short_sheet(tmp_path):
    rows = [HEAD[:3], ["C01", "市局机关第一党支部", 6], ["填表人：", None, None]]
    report = parse(write(tmp_path / "m.xlsx", xlsx_bytes(rows, merged=("A3:C3",))))
    assert value_map(report) == {("C01", "committee_meetings"): 6}
