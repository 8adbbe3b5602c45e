"""Excel workbooks: the ranking workbook, the 整改台账 export and the 工作量统计 table (openpyxl).

Every text cell passes ``data.exports.neutralise`` (no formula injection); numbers keep
their engine value and get a number format (two decimals, percentages), so the cell shows
what the page shows and the value stays exact. Sheets print on A4 landscape, fitted to
the width, with the header rows repeated and 「第 N 页 共 M 页」 at the foot.
"""
from __future__ import annotations

import io
import math
import re

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from data.exports import neutralise

GRADE_FILL = {"优秀": ("C0392B", "FDEDEC"), "良好": ("B9770E", "FEF5E7"), "合格": ("1F618D", "EBF5FB"),
              "不合格": ("424949", "EAEDED")}
FONT = "仿宋_GB2312"
HEAD_FONT = "黑体"
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")
NUM2 = "0.00"
DELTA = "+0.00;-0.00;0.00"
PCT = "0.0%"
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _text(v):
    """A cell value: text neutralised, NaN → empty, numpy scalars → Python."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    if isinstance(v, bool):
        return "是" if v else ""
    return neutralise(v) if isinstance(v, str) else v


def _width(value) -> float:
    s = "" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))
    return sum(2.1 if ord(ch) > 0x2E7F else 1.1 for ch in s)


def sheet_name(name: str, used: set[str]) -> str:
    base = BAD_SHEET_CHARS.sub("_", name)[:31] or "Sheet"
    out, k = base, 2
    while out in used:
        out = f"{base[:28]}_{k}"
        k += 1
    used.add(out)
    return out


def write_table(ws: Worksheet, title: str, subtitle: str, columns: list[tuple[str, str, str | None]],
                df: pd.DataFrame, max_width: float = 48, grade_col: str | None = None,
                wrap: set[str] = frozenset()) -> None:
    """Title (row 1), subtitle (row 2), header (row 3), data from row 4.

    ``columns``: (frame column, Chinese header, number format or None).
    """
    n = len(columns)
    ws.append([_text(title)])
    ws.append([_text(subtitle)])
    ws.append([_text(h) for _, h, _ in columns])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, n))
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(1, n))
    ws["A1"].font = Font(name="方正小标宋简体", size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    ws["A2"].font = Font(name=FONT, size=10, color="595959")
    ws["A2"].alignment = Alignment(horizontal="center")
    widths = [_width(h) + 2 for _, h, _ in columns]
    for j in range(1, n + 1):
        c = ws.cell(row=3, column=j)
        c.font, c.fill, c.border = Font(name=HEAD_FONT, size=10, bold=True), HEAD_FILL, BORDER
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    values = [df[col].tolist() if col in df.columns else [None] * len(df) for col, _, _ in columns]
    body_font = Font(name=FONT, size=10)
    for i, row in enumerate(zip(*values), start=4):
        ws.append([_text(v) for v in row])
        for j, (col, _, fmt) in enumerate(columns, start=1):
            c = ws.cell(row=i, column=j)
            c.font, c.border = body_font, BORDER
            if fmt:
                c.number_format = fmt
            if col in wrap:
                c.alignment = Alignment(wrap_text=True, vertical="top")
            w = _width(c.value) + 2
            if w > widths[j - 1]:
                widths[j - 1] = w
            if col == grade_col and c.value in GRADE_FILL:
                fg, bg = GRADE_FILL[c.value]
                c.font = Font(name=FONT, size=10, bold=True, color=fg)
                c.fill = PatternFill("solid", fgColor=bg)
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max_width, max(6.0, w))
    last = 3 + len(df)
    ws.auto_filter.ref = f"A3:{get_column_letter(n)}{max(last, 3)}"
    print_setup(ws, title)


def print_setup(ws: Worksheet, title: str, header_rows: str = "3:3") -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.print_title_rows = header_rows
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.font = FONT + ",Regular"  # Excel writes &"name,style"
    ws.oddHeader.center.text = title.replace("&", "&&")
    ws.oddHeader.center.font = FONT + ",Regular"


def to_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- ranking workbook

def _ranking_frame(book, df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["core_text"] = out["core_met"].astype(int).astype(str) + "/" + out["core_due"].astype(int).astype(str)
    out["core_rate"] = [m / d if d else None for m, d in zip(out["core_met"], out["core_due"])]
    out["veto_text"] = out["veto"].map(lambda v: "否决" if bool(v) else "")
    pts = book.item_points.reindex(out["unit"])
    for i in book.items:
        out["item:" + i.code] = pts[i.code].to_numpy()
    return out


def ranking_workbook(book) -> bytes:
    """Overall sheet, one sheet per category, and a 说明 sheet (``book``: data.documents.RankingBook)."""
    h = book.header
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    columns = [("rank", "总排名", "0"), ("rank_in_category", "类别排名", "0"), ("unit", "单位编码", None),
               ("name", "单位名称", None), ("category", "类别", None), ("bureau", "所属", None),
               ("total", "总分", NUM2), ("grade", "等次", None), ("base", "基础得分", NUM2), ("bonus", "加分", NUM2),
               ("core_text", "★达标", None), ("core_rate", "★达标率", PCT), ("delta", "较上期", DELTA),
               ("veto_text", "一票否决", None), ("veto_reason", "否决原因", None)]
    columns += [("item:" + i.code, f"{'★' if i.core else ''}{i.code} {i.name}（{i.points:g}分）", NUM2)
                for i in book.items]
    frame = _ranking_frame(book, book.ranking)
    stamp = f"指标体系 {h.table_version} 版 · 状态：{h.status} · 生成时间 {h.generated_at:%Y-%m-%d %H:%M}"
    for cat in (None,) + tuple(book.categories):
        df = frame if cat is None else frame[frame["category"] == cat]
        if cat is not None:
            df = df.sort_values(["rank_in_category", "display_order"])
        label = "全部单位" if cat is None else cat
        ws = wb.create_sheet(sheet_name("总排名" if cat is None else cat, used))
        write_table(ws, f"{h.label}党建工作考核排名（{label}）", f"类别：{label} · {stamp}", columns, df,
                    max_width=30, grade_col="grade", wrap=set())
        ws.freeze_panes = "E4"
        for j in range(len(columns) - len(book.items) + 1, len(columns) + 1):  # item headers: narrow, wrapped
            ws.column_dimensions[get_column_letter(j)].width = 12
        ws.row_dimensions[3].height = 60
    notes = wb.create_sheet(sheet_name("说明", used))
    rows = [("考核期", h.label + f"（{h.code}）"), ("指标体系", f"{h.table_title}（{h.table_version} 版）"),
            ("考核期状态", h.status),
            ("发布日期", f"{h.published_at:%Y-%m-%d}" if h.published_at
             else "已发布（系统中没有发布日期记录）" if h.status == "已发布" else "尚未发布"),
            ("等次线", "；".join(f"{g} ≥ {m:g} 分" for g, m in h.grades if m > 0)
             + f"；其余为「{h.grades[-1][0]}」" if h.grades else ""),
            ("一票否决", f"发生一票否决事项的单位等次为「{h.veto_grade}」，不得参加评先评优，分数照算、照常排名"),
            ("排名规则", "标准竞争排名（1、2、2、4）；同分时按★核心指标得分、单位编码排序"),
            ("分数", "总分 = 折算后的基础得分 + 加分；显示保留两位小数（四舍五入），单元格保存完整数值"),
            ("单位数", f"{len(book.ranking)} 个（按导出人权限范围）"),
            ("生成时间", f"{h.generated_at:%Y-%m-%d %H:%M}")]
    notes.append([_text(f"{h.label}党建工作考核排名 · 说明")])
    notes["A1"].font = Font(name="方正小标宋简体", size=14, bold=True)
    for k, v in rows:
        notes.append([_text(k), _text(v)])
    for r in notes.iter_rows(min_row=2):
        r[0].font = Font(name=HEAD_FONT, size=10, bold=True)
        r[1].font = Font(name=FONT, size=10)
        r[1].alignment = Alignment(wrap_text=True, vertical="top")
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 90
    print_setup(notes, f"{h.label}党建工作考核排名 · 说明", header_rows="1:1")
    return to_bytes(wb)


# --------------------------------------------------------------------------- 整改台账

def rectification_workbook(df: pd.DataFrame, generated_at) -> bytes:
    out = df.copy()
    out["status_text"] = [s + ("（逾期）" if o else "") for s, o in zip(out["status"], out["overdue"])]
    out["item_text"] = [f"{i} {n}" if i and isinstance(n, str) else (i or "") for i, n in
                        zip(out["item"], out.get("item_name", [None] * len(out)))]
    for c in ("deadline", "closed_at", "recheck_at"):
        out[c] = pd.to_datetime(out[c], errors="coerce")
    columns = [("id", "编号", "0"), ("status_text", "状态", None), ("unit", "单位编码", None),
               ("unit_name", "单位名称", None), ("period", "考核期", None), ("item_text", "相关指标", None),
               ("problem", "问题", None), ("source", "来源", None), ("responsible", "责任人", None),
               ("deadline", "整改期限", "yyyy-mm-dd"), ("closed_at", "销号日期", "yyyy-mm-dd"),
               ("closed_evidence", "销号依据", None), ("recheck_at", "回头看日期", "yyyy-mm-dd"),
               ("recheck_result", "回头看结果", None)]
    wb = Workbook()
    ws = wb.active
    ws.title = "整改台账"
    n_open = int(out["status"].isin(["整改中", "已重开"]).sum())
    write_table(ws, "党建工作检查整改台账",
                f"共 {len(out)} 项，整改中 {n_open} 项，逾期未销号 {int(out['overdue'].sum())} 项 · "
                f"导出时间 {generated_at:%Y-%m-%d %H:%M}", columns, out, max_width=40,
                wrap={"problem", "closed_evidence", "recheck_result", "source"})
    for col, w in (("G", 40), ("H", 24), ("L", 30), ("N", 30)):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = "E4"
    for i, overdue in enumerate(out["overdue"].tolist(), start=4):
        if overdue:
            ws.cell(row=i, column=2).font = Font(name=FONT, size=10, bold=True, color="B71C1C")
    return to_bytes(wb)


# --------------------------------------------------------------------------- 工作量统计

def summary_workbook(summary) -> bytes:
    """Work-summary figures (「**」 where the data cannot give one) and every field's total."""
    wb = Workbook()
    ws = wb.active
    ws.title = "工作量统计"
    fig = summary.figures.copy()
    fig["cell"] = [v if k else "**" for k, v in zip(fig["known"], fig["value"])]
    fig["section_short"] = fig["section"].str.slice(0, 3)
    fig["contrib_text"] = fig["contributors"].map(lambda c: "、".join(c))
    fig["n_contrib"] = [len(c) if k else None for k, c in zip(fig["known"], fig["contributors"])]
    title = f"{summary.period_label}党建工作量统计（{summary.scope_label}）"
    write_table(ws, title, f"{summary.n_units} 个单位的填报数据与整改记录 · 「**」表示数据不能给出，需人工填写",
                [("section_short", "部分", None), ("label", "事项", None), ("cell", "数值", "#,##0.##"),
                 ("unit", "单位", None), ("how", "统计口径", None), ("n_contrib", "涉及单位数", "0"),
                 ("contrib_text", "涉及单位", None), ("note", "说明", None)], fig, max_width=60,
                wrap={"contrib_text", "how"})
    ws.column_dimensions["G"].width = 60
    ws.freeze_panes = "C4"
    f = summary.fields.copy()
    f["contrib_text"] = f["contributors"].map(lambda c: "、".join(c))
    ws2 = wb.create_sheet("数据项汇总")
    write_table(ws2, f"{summary.period_label}填报数据汇总（{summary.scope_label}）",
                "次数、学时、人数为合计；比率为平均；是/否为「是」的单位数",
                [("label", "数据项", None), ("how", "统计方式", None), ("figure", "数值", "#,##0.##"),
                 ("unit", "计量单位", None), ("reported", "填报单位数", "0"), ("units", "单位总数", "0"),
                 ("contrib_text", "涉及单位", None)], f, max_width=60, wrap={"contrib_text"})
    ws2.column_dimensions["G"].width = 60
    return to_bytes(wb)
