"""The indicator table as the office Excel sheet: round trip, bad files as problems, and the diff."""
from __future__ import annotations

import io
from dataclasses import replace

from openpyxl import load_workbook

from data.table_xlsx import ITEM_SHEET, diff_tables, table_to_xlsx, xlsx_to_dict
from scoring.indicators import default_table, parse_table, table_to_dict


def test_round_trip_keeps_every_detail_of_the_default_table():
    t = default_table()
    content, problems = xlsx_to_dict(table_to_xlsx(t))
    assert problems == []
    back, problems = parse_table(content)
    assert problems == [] and table_to_dict(back) == table_to_dict(t)
    assert diff_tables(t, back) == ["与当前版本没有差异"]


def test_the_sheet_uses_the_office_column_layout():
    ws = load_workbook(io.BytesIO(table_to_xlsx(default_table())))[ITEM_SHEET]
    assert [c.value for c in ws[2]][:8] == ["序号", "一级指标", "二级指标", "考核内容", "评分标准", "分值", "数据项", "类型"]


def test_an_edited_sheet_with_a_wrong_point_total_is_reported_not_raised():
    wb = load_workbook(io.BytesIO(table_to_xlsx(default_table())))
    ws = wb[ITEM_SHEET]
    ws["F3"] = 9  # A1 4 → 9: the items no longer add up to 100
    buf = io.BytesIO()
    wb.save(buf)
    content, problems = xlsx_to_dict(buf.getvalue())
    table, problems = parse_table(content)
    assert table is None and any("合计" in str(p) for p in problems)
    assert xlsx_to_dict(b"not a workbook")[1][0].message.startswith("不是有效")


def test_diff_names_changes_to_items_fields_grades_and_rules():
    t = default_table()
    f = t.fields["committee_meetings"]
    new = replace(t.with_item("C1", points=5, core=False), veto_grade="合格", total=101,
                  fields={**t.fields, "committee_meetings": replace(f, label="支部委员会会议次数")})
    diff = diff_tables(t, new)
    assert "C1 分值：4 → 5" in diff and "C1 ★核心：是 → 否" in diff
    assert "一票否决等次：不合格 → 合格" in diff and "基础分总分：100 → 101" in diff
    assert "数据项 committee_meetings 名称：支委会次数 → 支部委员会会议次数" in diff
