"""Issue 13 items 1–7: files that used to report success while storing something other than
what they say. Every case is a real file (openpyxl, with the sheet XML edited where Excel
writes what openpyxl cannot: cached error values), read through the same path as an upload."""
from __future__ import annotations

import pandas as pd
import pytest

from data.intake import IssueCode, Severity
from tests.fixtures.intake_files import (HEAD, csv_bytes, encrypted_ooxml, errors, parse, value_map, with_cells_xml,
                                         xlsx_bytes)

RATE = ["单位编码", "单位名称", "考学参考率（%）"]


# --------------------------------------------------------------------------- 1. a lone fraction

def test_a_lone_fraction_among_percentages_is_an_error_at_its_cell():
    rows = [RATE, ["C01", "市局机关第一党支部", 88], ["C02", "市局机关第二党支部", 0.95],
            ["C03", "市局机关第三党支部", 92]]
    report = parse(xlsx_bytes(rows))
    assert errors(report) == [("AMBIGUOUS_PERCENT", 3, "C")]
    msg = report.errors[0].message
    assert "填报表 第 3 行 C 列「考学参考率（%）」为「0.95」" in msg and "请填写 95 或 95%" in msg
    assert ("C02", "exam_rate") not in value_map(report)  # nothing stored for it, and the file is refused
    assert not report.ok


@pytest.mark.parametrize("n_units", [1, 200])
def test_one_cell_means_the_same_in_a_long_file_of_any_size(n_units):
    units = pd.DataFrame({"unit": [f"U{i:03d}" for i in range(n_units)], "name": [f"第{i}支部" for i in range(n_units)]})
    rows = [["单位编码", "数据项", "数值"]] + [[f"U{i:03d}", "考学参考率", 0.5 if i == 0 else 90] for i in range(n_units)]
    for data in (xlsx_bytes(rows), csv_bytes(rows)):
        report = parse(data, "long.xlsx" if data[:2] == b"PK" else "long.csv", units=units)
        assert errors(report) == [("AMBIGUOUS_PERCENT", 2, "C")]
        assert len(report.values) == n_units - 1


def test_the_same_fraction_written_as_a_percentage_is_accepted_either_way():
    rows = [RATE, ["C01", "", "95%"], ["C02", "", 95], ["C03", "", 0.95]]
    report = parse(xlsx_bytes(rows, percent=("C4",)))  # C4 formatted as a percentage: Excel shows 95%
    assert report.errors == []
    assert set(value_map(report).values()) == {95}


# --------------------------------------------------------------------------- 2. Excel error values

def test_cached_error_values_and_error_cells_are_errors_at_their_cells():
    rows = [HEAD, ["C01", "市局机关第一党支部", 1, 90, "是", 8, 6], ["C02", "市局机关第二党支部", 1, 90, "是", 8, 6]]
    data = with_cells_xml(xlsx_bytes(rows), {
        # as Excel saves =VLOOKUP(...) that found nothing, and =C3/0
        "C2": '<c r="C2" t="e"><f>VLOOKUP(A2,Sheet2!A:B,2,FALSE)</f><v>#N/A</v></c>',
        "G3": '<c r="G3" t="e"><f>C3/0</f><v>#DIV/0!</v></c>',
        # an error value typed or pasted as a value
        "D3": '<c r="D3" t="e"><v>#REF!</v></c>',
    })
    report = parse(data)
    assert errors(report) == [("EXCEL_ERROR", 2, "C"), ("EXCEL_ERROR", 3, "D"), ("EXCEL_ERROR", 3, "G")]
    by_cell = {(i.row, i.column): i for i in report.errors}
    assert by_cell[(2, "C")].value == "#N/A" and by_cell[(3, "G")].value == "#DIV/0!"
    assert "第 3 行 G 列「主题党日次数（次）」为「#DIV/0!」，是 Excel 错误值" in by_cell[(3, "G")].message
    assert report.n_blank == 0  # not taken for blank cells


def test_error_values_in_a_csv_export_are_errors_too():
    rows = [HEAD[:4], ["C01", "", "#N/A", "#DIV/0!"]]
    report = parse(csv_bytes(rows), "export.csv")
    assert errors(report) == [("EXCEL_ERROR", 2, "C"), ("EXCEL_ERROR", 2, "D")]


def test_error_cells_of_an_old_xls_are_errors_too():
    import io

    import xlwt

    wb = xlwt.Workbook()
    wb.add_sheet("说明").write(0, 0, "x")   # another sheet first: errors are found in the sheet read
    ws = wb.add_sheet("填报表")
    for c, h in enumerate(["单位编码", "支委会次数", "主题党日次数"]):
        ws.write(0, c, h)
    ws.write(1, 0, "C01")
    ws.write(1, 1, 3)
    ws.row(1).set_cell_error(2, "#DIV/0!")  # a BOOLERR record, as Excel 97-2003 stores an error value
    ws.write(2, 0, "C02")
    ws.row(2).set_cell_error(1, 0x2A)       # #N/A
    ws.write(2, 2, 4)
    buf = io.BytesIO()
    wb.save(buf)
    report = parse(buf.getvalue(), "旧表.xls")
    assert errors(report) == [("EXCEL_ERROR", 2, "C"), ("EXCEL_ERROR", 3, "B")]
    assert [i.value for i in report.errors] == ["#DIV/0!", "#N/A"]
    assert value_map(report) == {("C01", "committee_meetings"): 3, ("C02", "theme_days"): 4}


# --------------------------------------------------------------------------- 3. merged cells

def test_a_vertical_merge_over_two_unit_rows_is_read_for_both_and_named():
    rows = [HEAD, ["C01", "市局机关第一党支部", 2, 90, "是", 8, 6], ["C02", "市局机关第二党支部", 3, 80, None, 9, 5]]
    report = parse(xlsx_bytes(rows, merged=("E2:E3",)))
    values = value_map(report)
    assert values[("C01", "ideology_review")] == 1 and values[("C02", "ideology_review")] == 1
    row_of = {(u, f): r for u, f, r in zip(report.values["unit"], report.values["field"], report.values["row"])}
    assert row_of[("C02", "ideology_review")] == 3  # provenance: the unit's own row
    warn = [i for i in report.issues if i.code is IssueCode.MERGED_CELLS]
    assert len(warn) == 1 and warn[0].severity is Severity.WARNING
    assert "E2:E3 是合并单元格" in warn[0].message and "第 2–3 行的每个单位" in warn[0].message


def test_a_merge_across_two_fields_is_an_error():
    rows = [HEAD, ["C01", "市局机关第一党支部", 2, None, "是", 8, 6]]
    report = parse(xlsx_bytes(rows, merged=("C2:D2",)))
    assert errors(report) == [("MERGED_CELLS", 2, "C")]
    assert "跨 2 个数据项合并" in report.errors[0].message


def test_a_unit_merged_over_its_rows_in_the_long_layout():
    rows = [["单位编码", "数据项", "数值"], ["C01", "支委会次数", 3], [None, "主题党日次数", 4], ["C02", "支委会次数", 5]]
    report = parse(xlsx_bytes(rows, merged=("A2:A3",)))
    assert report.errors == []
    assert value_map(report) == {("C01", "committee_meetings"): 3, ("C01", "theme_days"): 4,
                                 ("C02", "committee_meetings"): 5}


# --------------------------------------------------------------------------- 4. which sheet

FILLED = [HEAD[:3], ["C01", "市局机关第一党支部", 3], ["C02", "市局机关第二党支部", 4]]
BLANK = [HEAD[:3], ["C01", "市局机关第一党支部", None], ["C02", "市局机关第二党支部", None]]


def test_a_blank_data_sheet_beside_a_filled_copy_names_the_copy():
    report = parse(xlsx_bytes(BLANK, extra_sheets={"填报表 (2)": FILLED}))
    assert [(i.code.name, i.sheet) for i in report.errors] == [("SHEET_EMPTY", "填报表")]
    assert "「填报表」中没有填写任何数值" in report.errors[0].message
    assert "「填报表 (2)」中有数据" in report.errors[0].message
    assert report.values.empty


def test_two_sheets_with_data_are_not_silently_picked_from():
    report = parse(xlsx_bytes(FILLED, extra_sheets={"填报表 (2)": FILLED}))
    assert [i.code.name for i in report.errors] == ["AMBIGUOUS_SHEETS"]
    assert "「填报表」、「填报表 (2)」" in report.errors[0].message
    # Without a sheet called 填报表 either: two filled copies are still two.
    report = parse(xlsx_bytes(FILLED, sheet="Sheet1", extra_sheets={"Sheet2": FILLED}))
    assert [i.code.name for i in report.errors] == ["AMBIGUOUS_SHEETS"]


def test_a_template_sent_back_blank_is_not_a_success():
    report = parse(xlsx_bytes(BLANK))
    assert errors(report) == [("NO_DATA", 0, "")]
    assert "没有填写任何数值" in report.errors[0].message


def test_a_hidden_old_copy_does_not_count_as_a_second_sheet():
    report = parse(xlsx_bytes(FILLED, extra_sheets={"旧": FILLED}, hidden=("旧",)))
    assert report.errors == [] and len(report.values) == 2


# --------------------------------------------------------------------------- 6. clearing a value

@pytest.mark.parametrize("word", ["清除", "/", "／", " 清除 "])
def test_clear_words_are_clears_and_blank_cells_are_not(word):
    rows = [HEAD, ["C01", "市局机关第一党支部", word, None, word, 8, None]]
    report = parse(xlsx_bytes(rows))
    assert report.errors == []
    assert value_map(report) == {("C01", "member_training_hours"): 8}
    assert sorted(zip(report.clears["unit"], report.clears["field"], report.clears["column"])) == [
        ("C01", "committee_meetings", "C"), ("C01", "ideology_review", "E")]
    assert report.counts["cleared"] == 2 and report.counts["blank"] == 2


def test_clear_in_the_long_layout():
    rows = [["单位编码", "数据项", "数值"], ["C01", "支委会次数", "清除"], ["C01", "主题党日次数", 4]]
    report = parse(csv_bytes(rows), "long.csv")
    assert report.errors == []
    assert list(zip(report.clears["unit"], report.clears["field"], report.clears["row"])) == [
        ("C01", "committee_meetings", 2)]


# --------------------------------------------------------------------------- 7. smaller items

def test_long_layout_with_the_cli_english_headers():
    rows = [["unit_code", "field", "value"], ["C01", "committee_meetings", 3], ["C02", "theme_days", 4]]
    for data, name in ((xlsx_bytes(rows), "export.xlsx"), (csv_bytes(rows), "export.csv")):
        report = parse(data, name)
        assert report.errors == [] and report.layout == "long"
        assert value_map(report) == {("C01", "committee_meetings"): 3, ("C02", "theme_days"): 4}


def test_header_not_found_names_the_accepted_english_headers():
    report = parse(csv_bytes([["a", "b"], ["1", "2"]]), "x.csv")
    assert errors(report) == [("HEADER_NOT_FOUND", 0, "")]
    assert "unit_code、field、value" in report.errors[0].message


def test_a_password_protected_workbook_is_named_as_such():
    report = parse(encrypted_ooxml(), "加密.xlsx")
    assert errors(report) == [("UNREADABLE", 0, "")]
    msg = report.errors[0].message
    assert "设置了打开密码" in msg and "清空密码" in msg and "97-2003" not in msg


def test_h1_caps_use_the_periods_181_days_and_the_dates_given():
    import datetime as dt

    rows = [["单位编码", "主题党日次数（次）"], ["C01", 181], ["C02", 182]]
    assert errors(parse(xlsx_bytes(rows))) == [("OUT_OF_RANGE", 3, "B")]
    # A period whose dates were edited (1 January – 31 July: 212 days) allows up to 212.
    from data.intake import parse_upload
    from tests.fixtures.intake_files import TABLE, UNITS

    report = parse_upload(xlsx_bytes(rows), "f.xlsx", TABLE, UNITS, "2026H1", "H1", "2026",
                          period_dates=(dt.date(2026, 1, 1), dt.date(2026, 7, 31)))
    assert report.errors == []
