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


# ---------------------------------------------------------------- readable columns (issue 13 item 15, issue 17)
from data.table_xlsx import META_SHEET, read_table_xlsx, standard_mismatches  # noqa: E402
from tests.scoring.test_table_language import STARS, table_dict, item  # noqa: E402


def _sheet_rows(data: bytes, sheet: str) -> list[list]:
    return [list(r) for r in load_workbook(io.BytesIO(data))[sheet].iter_rows(values_only=True)]


def _edit(data: bytes, edit) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    edit(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_parameters_have_readable_columns_and_grades_a_chinese_block():
    data = table_to_xlsx(default_table())
    rows = _sheet_rows(data, ITEM_SHEET)
    head = rows[1]
    a1 = dict(zip(head, next(r for r in rows if "A1" in r)))
    a5 = dict(zip(head, next(r for r in rows if "A5" in r)))
    assert (a1["目标值"], a1["每少一次扣分"], a1["其他参数"]) == (12, 1, None)
    assert a5["分档"] == "95→3；85→2；70→1"
    meta = _sheet_rows(data, META_SHEET)
    assert ["等次", "分数线", "最多占比（%）", "最少占比（%）", "定级条件"] in meta
    assert any(r[:2] == ["优秀", 90] for r in meta) and any(r[:2] == ["版本号", "2026"] for r in meta)
    assert not any("{" in str(c) for r in rows[2:] for c in r if c)   # no JSON for the default table's parameters


def test_every_new_key_round_trips_through_the_workbook():
    import copy as _copy
    d = table_dict([item("X1", "deduction", 4, ["a", "b"], {"per_item": {"a": 1, "b": 2}, "round": "none"},
                         content="考核内容（含括号）", method="查阅资料", owner="组织部", applies_to={"kinds": ["党总支"]}),
                    item("X2", "checklist", 2, ["c1", "c2"], {"checks": [{"field": "c1", "points": 1},
                                                                         {"field": "c2", "points": 1}]}),
                    item("X3", "rank", 3, ["out"], {"points_by_place": [3, 2, 1]}),
                    item("X4", "manual", 3, [], {"deduct_range": [1, 3]})],
                   grades=_copy.deepcopy(STARS),
                   veto=[item("V1", "veto", 0, ["serious_violation"], grade="四星", mode="cap")])
    d["areas"][0]["name"] = "组织建设（含党小组）"
    d["grades"][0].update(max_pct=30, requires=[{"core": True}, {"field": "c1", "equals": "是"}])
    d["grades"][2]["min_pct"] = 5
    d.update(default_missing="zero", quota_scope="all", allow_override=True, scale=100)
    d["penalty"] = [item("P1", "penalty", 0, ["c"], {"per_unit": 1.5}, cap=3)]
    d["fields"]["c"] = {"label": "c", "unit": "次", "kind": "count", "missing": "report"}
    t, problems = parse_table(d)
    assert not problems, problems
    read = read_table_xlsx(table_to_xlsx(t))
    assert read.problems == [] and read.warnings == []
    back, problems = parse_table(read.content)
    assert problems == [] and table_to_dict(back) == table_to_dict(t)
    assert back.areas[0].name == "组织建设（含党小组）"   # not cut at the first 「（」


def test_an_unknown_column_is_a_warning_naming_its_column():
    data = _edit(table_to_xlsx(default_table()), lambda wb: wb[ITEM_SHEET].cell(row=2, column=60, value="备注"))
    read = read_table_xlsx(data)
    assert read.problems == [] and read.content is not None
    assert [str(w) for w in read.warnings][0].startswith(f"{ITEM_SHEET} BH 列「备注」")


def test_a_bad_tier_cell_names_its_row_and_column():
    def edit(wb):
        ws = wb[ITEM_SHEET]
        head = [c.value for c in ws[2]]
        row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=head.index("编码") + 1).value == "A5")
        ws.cell(row=row, column=head.index("分档") + 1, value="95→三；85→2")
    read = read_table_xlsx(_edit(table_to_xlsx(default_table()), edit))
    assert read.content is None
    assert any("指标明细 第 7 行" in str(p) and "「分档」" in str(p) for p in read.problems)


def test_a_standard_whose_numbers_disagree_with_the_parameters_is_flagged():
    t = default_table()
    assert standard_mismatches(t) == []
    changed = t.with_item("A1", params={"target": 10, "per_miss": 2})
    flags = standard_mismatches(changed)
    assert any(f.startswith("A1") and "1 分" in f for f in flags)          # text still says 扣 1 分
    assert any(f.startswith("A1") and "不少于 12 次" in f for f in flags)   # and 全年不少于 12 次


# ---------------------------------------------------------------- activity records (issue 16)
def test_record_attributes_and_activity_types_round_trip_through_the_workbook():
    from pathlib import Path

    from scoring.indicators import parse_table_yaml

    path = Path(__file__).resolve().parents[2] / "scoring" / "tables" / "examples" / "records_regular.yaml"
    t, _ = parse_table_yaml(path.read_text(encoding="utf-8"))
    data = table_to_xlsx(t)
    wb = load_workbook(io.BytesIO(data))
    fs = wb["数据项"]
    assert [c.value for c in fs[1]][6:] == ["活动记录类型", "规律性", "最低出席率（%）"]
    assert [c.value for c in fs[2]][6:] == ["支委会", "每月", 80]
    back, problems = parse_table(xlsx_to_dict(data)[0])
    assert problems == [] and back.fields == t.fields and back.activity_types == ("支委会", "主题党日", "党课")
    assert [i.params for i in back.all_items] == [i.params for i in t.all_items]  # per_miss_period, cap


def test_a_bad_attendance_cell_names_its_row_and_column_and_diff_names_record_changes():
    def edit(wb):
        wb["数据项"].cell(row=11, column=9, value="八成")
    read = read_table_xlsx(_edit(table_to_xlsx(default_table()), edit))
    assert any(str(p).startswith("数据项 第 11 行 I 列「最低出席率（%）」") for p in read.problems)
    t = default_table()
    f = t.fields["committee_meetings"]
    new = replace(t, fields={**t.fields, "committee_meetings": replace(f, regular="quarterly", min_attendance_pct=60)},
                  activity_types=t.activity_types[:-1] + ("谈心谈话活动",))
    diff = diff_tables(t, new)
    assert "数据项 committee_meetings 规律性：monthly → quarterly" in diff
    assert "数据项 committee_meetings 最低出席率：80.0 → 60" in diff
    assert any(d.startswith("活动类型：") for d in diff)
