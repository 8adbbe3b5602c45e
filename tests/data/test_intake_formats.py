"""Accepted inputs: the template .xlsx, an old .xls, CSV in four encodings, the long layout; safety caps."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from data.intake import IssueCode, Limits, build_template
from tests.fixtures.intake_files import HEAD, TABLE, UNITS, csv_bytes, issues, parse, value_map, write, xlsx_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

GOOD = [HEAD,
        ["C01", "市局机关第一党支部", 6, 95, "是", 16.5, 6],
        ["C02", "市局机关第二党支部", 5, 88, "否", 12, 5]]
GOOD_VALUES = {
    ("C01", "committee_meetings"): 6, ("C01", "reading_rate"): 95, ("C01", "ideology_review"): 1,
    ("C01", "member_training_hours"): 16.5, ("C01", "theme_days"): 6,
    ("C02", "committee_meetings"): 5, ("C02", "reading_rate"): 88, ("C02", "ideology_review"): 0,
    ("C02", "member_training_hours"): 12, ("C02", "theme_days"): 5,
}


def _only_missing_columns(report) -> bool:
    return all(i.code is IssueCode.MISSING_COLUMN for i in report.issues)


def test_template_filled_with_openpyxl_is_read_back_exactly(tmp_path):
    data = build_template(TABLE, UNITS, "2026H1", "H1")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["填报表"]
    fields = list(TABLE.evidence_fields)
    assert [ws.cell(1, 3 + j).value for j in range(len(fields))] == [TABLE.fields[f].header for f in fields]
    expected = {}
    for r in range(3, 3 + len(UNITS)):
        code = ws.cell(r, 1).value
        for j, f in enumerate(fields):
            kind = TABLE.fields[f].kind
            v = ("是" if r % 2 else "否") if kind == "bool" else (80 + r if kind == "percent" else r + j % 3)
            ws.cell(r, 3 + j, v)
            expected[(code, f)] = (1.0 if v == "是" else 0.0) if kind == "bool" else float(v)
    path = tmp_path / "填报表.xlsx"
    wb.save(path)
    report = parse(path)
    assert report.issues == []
    assert (report.file_format, report.sheet, report.layout, report.header_row) == ("xlsx", "填报表", "wide", 1)
    assert report.meta["period"] == "2026H1" and report.meta["table_version"] == "2026"
    assert value_map(report) == expected
    first = report.values.iloc[0]
    assert (first["sheet"], first["row"], first["column"], first["header"]) == ("填报表", 3, "C", "集中学习次数（次）")


def test_template_layout_locked_units_validation_frozen_meta():
    data = build_template(TABLE, UNITS, "2026H1", "H1")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["填报表", "填报说明", "_meta"]
    ws = wb["填报表"]
    assert ws.freeze_panes == "C3"
    assert ws.protection.sheet
    assert ws["A2"].value == "计量单位及范围"
    assert [ws.cell(r, 1).value for r in range(3, 3 + len(UNITS))] == list(UNITS["unit"])
    assert [ws.cell(r, 2).value for r in range(3, 3 + len(UNITS))] == list(UNITS["name"])
    assert ws["A3"].protection.locked and ws["B3"].protection.locked
    assert ws.column_dimensions["C"].protection.locked is False  # value cells are unlocked
    c_comment = ws["C1"].comment.text
    assert "A1 支部集中学习" in c_comment and "少 1 次扣 1 分" in c_comment
    # 2026H1 runs 1 January – 30 June: 181 days, so a 365-a-year cap is 181 (not 365 halved, 183).
    assert ws["C2"].value == "次；0–181 的整数"
    kinds = {str(dv.sqref): (dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation}
    # Custom formulas so that 「清除」 and 「/」 pass Excel's own check as well as numbers in range.
    assert kinds["C3:C8"] == ("custom", 'IF(ISNUMBER(C3),AND(C3>=0,C3<=181,INT(C3)=C3),OR(C3="清除",C3="/"))',
                              None)
    reading = next(k for k, v in kinds.items() if v[0] == "custom" and "<=100" in v[1])
    assert reading.startswith("E3")
    assert ("list", '"是,否,清除,/"', None) in kinds.values()
    guide_text = "\n".join(str(r[0]) for r in wb["填报说明"].iter_rows(values_only=True) if r and r[0])
    assert "「清除」或「/」" in guide_text and "留空的单元格保持系统中的原值" in guide_text
    assert "请写 95 或 95%" in guide_text
    meta = wb["_meta"]
    assert meta.sheet_state == "hidden"
    assert {r[0]: r[1] for r in meta.iter_rows(values_only=True)}["period"] == "2026H1"
    guide = [r for r in wb["填报说明"].iter_rows(values_only=True) if r and r[1] == "支委会次数"][0]
    assert guide[0] == "L" and "每月召开 1 次" in guide[5]


def test_annual_template_uses_the_full_year_cap():
    ws = openpyxl.load_workbook(io.BytesIO(build_template(TABLE, UNITS, "2026", "year")))["填报表"]
    assert ws["C2"].value == "次；0–365 的整数"


def test_old_xls_fixture_is_read():
    report = parse(FIXTURES / "old_format.xls")
    assert (report.file_format, report.sheet, report.header_row, report.layout) == ("xls", "填报表", 3, "wide")
    assert issues(report) == [("MISSING_COLUMN", 3, "")]
    assert report.n_skipped == 2  # 合计 and the signature line
    assert value_map(report) == {
        ("C01", "committee_meetings"): 6, ("C01", "reading_rate"): 95, ("C01", "ideology_review"): 1,
        ("C01", "member_training_hours"): 16.5, ("C01", "theme_days"): 6,
        ("C02", "committee_meetings"): 5, ("C02", "reading_rate"): 88, ("C02", "ideology_review"): 1,
        ("C02", "member_training_hours"): 12, ("C02", "theme_days"): 5,
        ("X0031", "committee_meetings"): 4, ("X0031", "reading_rate"): 90, ("X0031", "ideology_review"): 0,
        ("X0031", "member_training_hours"): 8, ("X0031", "theme_days"): 3,
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding(tmp_path, encoding):
    path = write(tmp_path / f"填报-{encoding}.csv", csv_bytes(GOOD, encoding))
    report = parse(path)
    assert (report.file_format, report.sheet, report.layout) == ("csv", "", "wide")
    assert _only_missing_columns(report)
    assert value_map(report) == GOOD_VALUES


def test_gb18030_only_characters_survive(tmp_path):
    units = UNITS.assign(name=UNITS["name"].where(UNITS["unit"] != "C03", "市局机关第三党支部㐀"))
    rows = [HEAD[:3], ["", "市局机关第三党支部㐀", 4]]
    report = parse(write(tmp_path / "gb.csv", csv_bytes(rows, "gb18030")), units=units)
    assert value_map(report) == {("C03", "committee_meetings"): 4}


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_csv_with_tab_or_semicolon_delimiter(tmp_path, delimiter):
    report = parse(write(tmp_path / "t.csv", csv_bytes(GOOD, "utf-8", delimiter)))
    assert value_map(report) == GOOD_VALUES


def test_csv_issue_messages_have_no_sheet(tmp_path):
    rows = [HEAD[:3], ["C01", "市局机关第一党支部", "十二"]]
    report = parse(write(tmp_path / "填报.csv", csv_bytes(rows)))
    err = report.errors[0]
    assert err.message.startswith("填报.csv 第 2 行 C 列「支委会次数（次）」为「十二」，请填写阿拉伯数字")


LONG = [["单位编码", "单位名称", "数据项", "数值", "计量单位"],
        ["C01", "市局机关第一党支部", "支委会次数", 6, "次"],
        ["C01", "市局机关第一党支部", "读书心得提交率（%）", "95%", "%"],
        ["C01", "市局机关第一党支部", "专题研究意识形态工作", "是", ""],
        ["C02", "市局机关第二党支部", "支委会次数（次）", "5", "次"],
        ["C02", "市局机关第二党支部", "theme_days", 4, "次"]]


def test_long_layout_xlsx(tmp_path):
    report = parse(write(tmp_path / "长表.xlsx", xlsx_bytes(LONG, sheet="导出数据")))
    assert report.layout == "long" and report.issues == []
    assert value_map(report) == {("C01", "committee_meetings"): 6, ("C01", "reading_rate"): 95,
                                 ("C01", "ideology_review"): 1, ("C02", "committee_meetings"): 5,
                                 ("C02", "theme_days"): 4}
    row = report.values[report.values["field"] == "reading_rate"].iloc[0]
    assert (row["row"], row["column"], row["header"]) == (3, "D", "数值（数据项「读书心得提交率」）")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_long_layout_csv(tmp_path, encoding):
    report = parse(write(tmp_path / "long.csv", csv_bytes(LONG, encoding)))
    assert report.layout == "long"
    assert len(report.values) == 5 and report.ok


def test_long_layout_issue_names_the_field(tmp_path):
    rows = LONG + [["C01", "市局机关第一党支部", "主题党日次数", "五", "次"]]
    report = parse(write(tmp_path / "long.xlsx", xlsx_bytes(rows)))
    assert issues(report) == [("NOT_A_NUMBER", 7, "D")]
    assert "第 7 行 D 列「数值」（数据项「主题党日次数」）为「五」" in report.errors[0].message


def test_data_sheet_is_found_by_name_even_when_not_first(tmp_path):
    data = xlsx_bytes([["说明：请在填报表中填写"]], sheet="封面", extra_sheets={"填报表": GOOD})
    report = parse(write(tmp_path / "a.xlsx", data))
    assert report.sheet == "填报表" and value_map(report) == GOOD_VALUES


def test_hidden_sheets_are_skipped(tmp_path):
    old = [HEAD[:3], ["C01", "市局机关第一党支部", 99]]
    data = xlsx_bytes([["封面"]], sheet="封面", extra_sheets={"去年数据": old, "本期": GOOD}, hidden=("去年数据",))
    report = parse(write(tmp_path / "h.xlsx", data))
    assert report.sheet == "本期" and value_map(report) == GOOD_VALUES


def test_format_is_detected_by_content_not_extension(tmp_path):
    as_csv = parse(write(tmp_path / "really-xlsx.csv", xlsx_bytes(GOOD)))
    assert as_csv.file_format == "xlsx" and value_map(as_csv) == GOOD_VALUES
    as_xlsx = parse(write(tmp_path / "really-csv.xlsx", csv_bytes(GOOD)))
    assert as_xlsx.file_format == "csv" and value_map(as_xlsx) == GOOD_VALUES


def test_empty_and_unreadable_files(tmp_path):
    assert issues(parse(write(tmp_path / "empty.xlsx", b""))) == [("EMPTY_FILE", 0, "")]
    assert issues(parse(write(tmp_path / "blank.xlsx", xlsx_bytes([])))) == [("EMPTY_FILE", 0, "")]
    assert issues(parse(write(tmp_path / "blank.csv", b"\r\n , ,\r\n"))) == [("EMPTY_FILE", 0, "")]
    assert issues(parse(write(tmp_path / "bin.xlsx", bytes(range(256)) * 4))) == [("UNREADABLE", 0, "")]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    assert issues(parse(write(tmp_path / "zip.xlsx", buf.getvalue()))) == [("UNREADABLE", 0, "")]


def test_file_too_large_is_refused_before_reading(tmp_path):
    report = parse(write(tmp_path / "big.xlsx", xlsx_bytes(GOOD)), limits=Limits(max_bytes=1000))
    assert issues(report) == [("FILE_TOO_LARGE", 0, "")]


def _rezip(data: bytes, edit=lambda name, body: body, extra: dict[str, bytes] | None = None) -> bytes:
    """The workbook's archive written again: each member through ``edit``, then the ``extra`` members."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for m in src.infolist():
            z.writestr(m, edit(m.filename, src.read(m.filename)))
        for name, payload in (extra or {}).items():
            z.writestr(name, payload)
    return out.getvalue()


def _with_member(data: bytes, name: str, payload: bytes) -> bytes:
    return _rezip(data, extra={name: payload})


def test_zip_bomb_is_refused(tmp_path):
    bomb = _with_member(xlsx_bytes(GOOD), "xl/media/image1.bin", b"\0" * (60 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024  # small on disk, 60 MB inflated
    report = parse(write(tmp_path / "bomb.xlsx", bomb))
    assert issues(report) == [("ARCHIVE_TOO_LARGE", 0, "")]
    assert report.values.empty


def test_highly_compressed_member_is_refused(tmp_path):
    dense = _with_member(xlsx_bytes(GOOD), "xl/media/image1.bin", b"\0" * (3 * 1024 * 1024))
    assert issues(parse(write(tmp_path / "dense.xlsx", dense))) == [("ARCHIVE_TOO_LARGE", 0, "")]


def test_sheet_extent_over_the_cell_cap_is_refused_before_loading(tmp_path):
    data = xlsx_bytes(GOOD + [[None] * 3 + ["x"]])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb["填报表"]["ZZ300000"] = 1
    buf = io.BytesIO()
    wb.save(buf)
    report = parse(write(tmp_path / "wide.xlsx", buf.getvalue()))
    assert issues(report) == [("TOO_MANY_CELLS", 0, "")]


def test_csv_over_the_cell_cap_is_refused(tmp_path):
    report = parse(write(tmp_path / "c.csv", csv_bytes(GOOD)), limits=Limits(max_cells=10))
    assert issues(report) == [("TOO_MANY_CELLS", 0, "")]


def _set_cached(data: bytes, ref: str, cached: str, error: bool = False) -> bytes:
    """Give the formula in ``ref`` a cached result, as Excel does when it saves: ``<v>7</v>``, or
    for an error result ``t="e"`` on the cell and ``<v>#N/A</v>``. (openpyxl writes an empty
    ``<v></v>`` or ``<v/>`` for a formula.)"""
    def edit(name: str, body: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            pattern = rb'<c r="' + ref.encode() + rb'"([^>]*)>\s*(<f>[^<]*</f>)\s*<v\s*(?:/>|>\s*</v>)'
            typed = b' t="e"' if error else b""
            body, n = re.subn(pattern, lambda m: b'<c r="' + ref.encode() + b'"' + re.sub(rb'\s*t="\w+"', b"", m.group(1))
                              + typed + b">" + m.group(2) + b"<v>" + cached.encode() + b"</v>", body)
            assert n == 1, body[:500]
        return body
    return _rezip(data, edit)


def test_formula_cached_value_is_taken_and_never_evaluated(tmp_path):
    rows = [HEAD[:3], ["C01", "市局机关第一党支部", None], ["C02", "市局机关第二党支部", 3]]
    data = xlsx_bytes(rows, formulas={"C2": "=C3+1"})
    data = _set_cached(data, "C2", "7")  # the formula would give 4; the file says 7
    report = parse(write(tmp_path / "f.xlsx", data))
    assert report.errors == []
    assert value_map(report)[("C01", "committee_meetings")] == 7


def test_formula_without_cached_value_is_flagged(tmp_path):
    rows = [HEAD[:4], ["C01", "市局机关第一党支部", None, 90], ["C02", "市局机关第二党支部", 3, 80]]
    report = parse(write(tmp_path / "f.xlsx", xlsx_bytes(rows, formulas={"C2": "=SUM(C3:C3)+1"})))
    assert errors_only(report) == [("FORMULA_NO_VALUE", 2, "C")]
    assert "是公式「=SUM(C3:C3)+1」" in report.errors[0].message
    assert ("C01", "committee_meetings") not in value_map(report)


def errors_only(report):
    return [(i.code.name, i.row, i.column) for i in report.errors]
