"""Every generated file opened with its reading library; its numbers checked against the engine.

The expected values come from ``services.score_period`` (the engine's result for the demo
period) and from the raw database rows, never from the document builders themselves.
"""
from __future__ import annotations

import io
import warnings
import zipfile
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from lxml import etree

from data import document_files as files
from data import documents, services
from data.models import OPEN_RECTIFICATION
from data.permissions import AccessDenied, Principal

PERIOD = "2026H1"
LEADER = Principal(1, "leader", "张局长", "leader")
STAFF_LINHE = None  # built from the demo database (its unit codes)


def r2(x: float) -> str:
    return str(Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def res(demo_db):
    return services.score_period(PERIOD, demo_db)


@pytest.fixture(scope="module")
def staff(demo_db):
    units = services.scoring_inputs(PERIOD, demo_db).units
    codes = frozenset(units.loc[units["bureau"] == "临河县局", "unit"])
    return Principal(4, "staff", "临河县局党务干事", "staff", codes)


def _docx_text(data: bytes) -> tuple[Document, str]:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.append("\t".join(c.text for c in row.cells))
    return doc, "\n".join(parts)


def _xml_parts_parse(data: bytes) -> None:
    """Every XML part of an OOXML package is well-formed (what Excel/Word check before 'repairing')."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(z.read(name))


# --------------------------------------------------------------------------- ranking workbook

def test_ranking_workbook_numbers_equal_the_engine(demo_db, res):
    name, data = files.ranking_workbook(LEADER, PERIOD, demo_db)
    assert name.endswith(".xlsx")
    _xml_parts_parse(data)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cats = sorted(res.units["category"].unique())
    assert wb.sheetnames == ["总排名", *sorted(cats, key=lambda c: services.categories(PERIOD, demo_db).index(c)),
                             "说明"]
    ws = wb["总排名"]
    assert "2026 年上半年" in ws["A1"].value and "指标体系 2026 版" in ws["A2"].value
    header = [c.value for c in ws[3]]
    col = {h: i for i, h in enumerate(header)}
    engine = res.units.set_index("unit")
    items = res.items.set_index(["unit", "item"])["points"]
    item_cols = {h.split(" ")[0].lstrip("★"): i for h, i in col.items() if "分）" in str(h)}
    assert set(item_cols) == set(res.items["item"])
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert [r[col["单位编码"]] for r in rows] == res.units.sort_values("display_order")["unit"].tolist()
    for r in rows:
        u = engine.loc[r[col["单位编码"]]]
        assert r[col["总分"]] == pytest.approx(u["total"], abs=1e-9)
        assert (r[col["总排名"]], r[col["类别排名"]], r[col["等次"]]) == (u["rank"], u["rank_in_category"], u["grade"])
        assert r[col["单位名称"]] == u["name"]
        for code, j in item_cols.items():
            assert r[j] == pytest.approx(items[(r[col["单位编码"]], code)], abs=1e-9)
    first = ws.cell(row=4, column=col["总分"] + 1)
    assert first.number_format == "0.00"
    assert ws.cell(row=4, column=col["★达标率"] + 1).number_format == "0.0%"
    assert ws.freeze_panes == "E4" and ws.auto_filter.ref.startswith("A3:")
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$3:$3"
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert ws.column_dimensions["D"].width >= 2 * max(len(n) for n in res.units["name"])  # names not cut off
    for cat in cats:
        got = [r[2] for r in wb[cat].iter_rows(min_row=4, values_only=True)]
        assert sorted(got) == sorted(res.units.loc[res.units["category"] == cat, "unit"])
    notes = {r[0]: r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert "2026" in notes["指标体系"] and "优秀 ≥ 90 分" in notes["等次线"] and notes["发布日期"] == "尚未发布"
    # Reads back as data too (pandas through openpyxl).
    df = pd.read_excel(io.BytesIO(data), sheet_name="总排名", header=2)
    assert len(df) == len(res.units)


def test_staff_workbook_has_only_their_units(demo_db, staff):
    _, data = files.ranking_workbook(staff, PERIOD, demo_db)
    ws = openpyxl.load_workbook(io.BytesIO(data))["总排名"]
    assert {r[2] for r in ws.iter_rows(min_row=4, values_only=True)} == set(staff.unit_codes)


def test_workbook_text_cells_are_formula_safe():
    from reports.workbook import _text

    assert _text("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert _text("@SUM(A1)") == "'@SUM(A1)"


# --------------------------------------------------------------------------- 通报

def test_bulletin_docx_matches_the_engine(demo_db, res):
    name, data = files.bulletin(LEADER, PERIOD, "docx", demo_db)
    assert name.endswith(".docx")
    _xml_parts_parse(data)
    doc, text = _docx_text(data)
    assert doc.paragraphs[0].text == "关于 2026 年上半年党建工作考核结果的通报"
    counts = res.units["grade"].value_counts()
    for g in ("优秀", "良好", "合格", "不合格"):
        assert f"「{g}」{int(counts.get(g, 0))} 个" in text
    assert f"平均得分 {r2(res.units['total'].mean())} 分" in text
    # One ranking table per category, every unit with its total as shown on the page.
    rows = {}
    for t in doc.tables:
        if [c.text for c in t.rows[0].cells][:3] == ["类别排名", "单位名称", "总分"]:
            for row in t.rows[1:]:
                cells = [c.text for c in row.cells]
                rows[cells[1]] = cells
    assert len(rows) == len(res.units)
    for u in res.units.itertuples():
        assert rows[u.name][2] == r2(u.total)
        assert rows[u.name][0] == str(u.rank_in_category) and rows[u.name][4] == str(u.rank)
    vetoed = res.units[res.units["veto"]]
    for u in vetoed.itertuples():
        assert u.name in text and u.veto_reason in text
    top = res.units[(res.units["grade"] == "优秀") & ~res.units["veto"]]
    assert all(n in text for n in top["name"])
    # Common problems from the gap analysis: the most-failed item and its count.
    failed = res.items[(res.items["kind"] == "base") & res.items["status"].isin(["未达标", "缺报"])]
    worst = failed.groupby("item").size().sort_values(ascending=False)
    assert f"（{worst.index[0]}）：{int(worst.iloc[0])} 个单位未达标或缺报" in text
    assert "下一步工作" in text and "待编辑" in text
    # Two charts (PNG), official layout: A4, body 仿宋_GB2312 named for East Asian text, zh-CN.
    assert len(doc.inline_shapes) == 2
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert round(sec.top_margin.mm) == 37 and round(sec.left_margin.mm) == 28
    rfonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert doc.styles["Normal"].font.size.pt == 16
    title_run = doc.paragraphs[0].runs[0]._element
    assert title_run.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "方正小标宋简体"
    assert "PAGE" in doc.sections[0].footer._element.xml


def test_charts_render_chinese_without_missing_glyphs():
    from reports import charts
    from reports.fonts import chart_font

    assert chart_font() is not None, "no CJK font for matplotlib (Debian fonts-noto-cjk)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.grade_distribution([("优秀", 3), ("良好", 5), ("合格", 2), ("不合格", 1)])
        png2 = charts.area_averages(["政治建设与理论学习", "组织生活"], [81.5, 66.0])
    assert not [w for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png2[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- 反馈单 / 整改通知书

def test_feedback_sheet_of_the_worked_example(demo_db, res):
    name, data = files.feedback(LEADER, PERIOD, "docx", unit_code="C01", db=demo_db)
    assert "C01" in name and name.endswith(".docx")
    _xml_parts_parse(data)
    _, text = _docx_text(data)
    u = res.unit("C01")
    assert "市局机关第一党支部" in text
    assert f"总分 {r2(u['total'])} 分" in text and "82.50" in text and "「良好」" in text
    assert f"排名第 {u['rank']} 位" in text and f"排名第 {u['rank_in_category']} 位" in text
    items = res.items_for("C01")
    lost = items[(items["kind"] == "base") & (items["points"] < items["max"])]
    assert len(lost) > 0
    for r in lost.itertuples():  # the Chinese explanation of every point lost
        assert r.explanation in text
    for a in res.areas_for("C01").itertuples():
        assert f"{a.area} {a.area_name}" in text
    gaps = services.period_gaps(PERIOD, demo_db)
    for need in gaps.loc[gaps["unit"] == "C01", "need"]:
        assert need in text


def test_feedback_zip_for_one_bureau(demo_db, res, staff):
    name, data = files.feedback(LEADER, PERIOD, "zip", bureau="临河县局", db=demo_db)
    assert name.endswith(".zip")
    units = services.scoring_inputs(PERIOD, demo_db).units
    expected = units[units["bureau"] == "临河县局"]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        assert len(names) == len(expected)
        for code, unit_name in zip(expected["unit"], expected["name"]):
            member = next(n for n in names if f"_{code}_" in n)
            _, text = _docx_text(z.read(member))
            assert f"{unit_name}：" in text and f"总分 {r2(res.unit(code)['total'])} 分" in text


def test_staff_get_only_their_own_feedback(demo_db, staff):
    own = sorted(staff.unit_codes)[0]
    assert files.feedback(staff, PERIOD, "docx", unit_code=own, db=demo_db)[0].endswith(".docx")
    with pytest.raises(AccessDenied):
        files.feedback(staff, PERIOD, "docx", unit_code="C01", db=demo_db)
    with pytest.raises(AccessDenied):
        files.notice(staff, PERIOD, "C08", "docx", demo_db)
    _, data = files.feedback(staff, PERIOD, "zip", db=demo_db)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert len(z.namelist()) == len(staff.unit_codes)


def test_notice_lists_open_items_and_has_a_reply_section(demo_db):
    rects = services.rectification_list(LEADER, demo_db)
    open_items = rects[(rects["unit"] == "X0052") & rects["status"].isin(OPEN_RECTIFICATION)]
    assert len(open_items) >= 2
    _, data = files.notice(LEADER, PERIOD, "X0052", "docx", demo_db)
    _xml_parts_parse(data)
    doc, text = _docx_text(data)
    assert "整改通知书" in text and "整改〔2026H1〕X0052 号" in text and "石桥县局营销党支部：" in text
    for problem in open_items["problem"]:
        assert text.count(problem) == 2  # in the notice and in the reply form
    reply = [t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["序号", "存在问题", "整改措施", "完成时限",
                                                                          "责任人"]]
    assert len(reply) == 1 and len(reply[0].rows) == len(open_items) + 1
    closed = rects[(rects["unit"] == "X0052") & ~rects["status"].isin(OPEN_RECTIFICATION)]
    for problem in set(closed["problem"]) - set(open_items["problem"]):
        assert problem not in text


def test_rectification_register_export(demo_db):
    rects = services.rectification_list(LEADER, demo_db)
    name, data = files.rectification_workbook(LEADER, demo_db)
    _xml_parts_parse(data)
    ws = openpyxl.load_workbook(io.BytesIO(data))["整改台账"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows] == rects["id"].tolist()
    assert [r[6] for r in rows] == rects["problem"].tolist()
    assert sum("逾期" in r[1] for r in rows) == int(rects["overdue"].sum())


def test_published_period_documents_say_when_it_was_published(demo_db, tmp_path):
    """A published period: the workbook's 说明 gives the publication date and the numbers are score_period's."""
    import shutil

    from data.db import Database

    path = tmp_path / "pub.sqlite3"
    shutil.copy(demo_db.url.split("///", 1)[1], path)
    db = Database(f"sqlite:///{path}")
    try:
        services.set_period_status(Principal(3, "inspector", "考核组李明", "inspector"), PERIOD, "已发布", db)
        header = documents.period_header(PERIOD, db)
        assert header.status == "已发布" and header.published_at is not None
        _, data = files.ranking_workbook(LEADER, PERIOD, db)
        wb = openpyxl.load_workbook(io.BytesIO(data))
        notes = {r[0]: r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)}
        assert notes["发布日期"] == f"{header.published_at:%Y-%m-%d}"
        totals = {r[2]: r[6] for r in wb["总排名"].iter_rows(min_row=4, values_only=True)}
        assert totals == pytest.approx(services.score_period(PERIOD, db).units.set_index("unit")["total"].to_dict())
    finally:
        db.dispose()


def test_summary_documents_fill_known_figures_and_star_the_rest(demo_db):
    from data.work_summary import work_summary

    s = work_summary(LEADER, PERIOD, db=demo_db)
    _, data = files.summary(LEADER, PERIOD, "docx", db=demo_db)
    _xml_parts_parse(data)
    _, text = _docx_text(data)
    for r in s.figures.itertuples():
        if not r.known:
            assert f"{r.label} ** {r.unit}" in text
        else:
            assert f"{r.label} {r.text} {r.unit}" in text
    _, xdata = files.summary(LEADER, PERIOD, "xlsx", db=demo_db)
    ws = openpyxl.load_workbook(io.BytesIO(xdata))["工作量统计"]
    cells = {r[1]: r[2] for r in ws.iter_rows(min_row=4, values_only=True)}
    for r in s.figures.itertuples():
        assert cells[r.label] == (pytest.approx(r.value) if r.known else "**")


def test_unknown_format_is_a_chinese_message(demo_db):
    with pytest.raises(files.UnsupportedFormat, match="文件格式"):
        files.bulletin(LEADER, PERIOD, "odt", demo_db)
