"""整改台账: every 整改 item across units and periods (overdue first), linked to the unit's detail page
where inspectors close (销号) and recheck (回头看) them. Staff see their own units' items."""
from __future__ import annotations

import dash
from dash import dcc, html

from components.cards import make_kpi_card
from components.documents import make_doc_buttons
from components.formats import fmt_date
from components.grids import make_grid, text_col
from components.shell import make_empty, make_page_header
from data import services
from pages._access import guard
from pages._documents import RECTIFICATIONS as DOC_BUTTONS

dash.register_page(__name__, path="/rectifications", name="整改台账", title="整改台账 · 党建工作考核系统",
                   nav=True, nav_key="rectifications", nav_order=3.5)


def _evidence_link(principal):
    """佐证核查 (无佐证 items, files awaiting review) opens from here: the navbar has no room at 1366 px."""
    if not principal.can_open("evidence"):
        return None
    return dcc.Link("佐证核查", href="/evidence", id="rect-evidence-link", className="btn btn-sm btn-outline-danger me-2")


def layout(**_):
    principal, denied = guard("rectifications")
    if denied:
        return denied
    df = services.rectification_list(principal)
    if df.empty:
        return html.Div([make_page_header("整改台账", right=_evidence_link(principal)), make_empty("没有整改事项")])
    rows = [{"id": int(r.id), "unit": r.unit,
             "unit_link": f"[{r.unit_name}](/branch/{r.unit}?period={r.period})", "unit_name": r.unit_name,
             "period": r.period, "item": r.item or "—", "problem": r.problem, "source": r.source,
             "deadline": fmt_date(r.deadline), "status": r.status + ("（逾期）" if r.overdue else ""),
             "closed": r.closed_evidence or "", "recheck": r.recheck_result or ""} for r in df.itertuples()]
    n_open = int(df["status"].isin(["整改中", "已重开"]).sum())  # 已撤回 items count in none of the cards
    n_overdue = int(df["overdue"].sum())
    n_closed = int(df["status"].isin(["已销号", "回头看通过"]).sum())
    cards = html.Div([make_kpi_card("整改中", f"{n_open} 项", id_="rect-open"),
                      make_kpi_card("逾期未销号", f"{n_overdue} 项", accent="#b71c1c" if n_overdue else None,
                                    id_="rect-overdue"),
                      make_kpi_card("已销号 / 回头看通过", f"{n_closed} 项", id_="rect-closed")],
                     className="d-grid gap-3 mb-3", style={"gridTemplateColumns": "repeat(3, 1fr)"})
    return html.Div([
        make_page_header("整改台账", "检查发现的问题、整改期限、销号依据和回头看结果；点击单位在支部详情中办理销号、回头看",
                         right=[_evidence_link(principal), make_doc_buttons("rect", DOC_BUTTONS)]),
        cards,
        make_grid("rect-grid", rows, [
            text_col("status", "状态", 150, cellStyle={"styleConditions": [
                {"condition": "params.value.includes('逾期')", "style": {"color": "#b71c1c", "fontWeight": "600"}}]}),
            text_col("unit_link", "单位", 170, cellRenderer="markdown", tooltipField="unit_name",
                     filterValueGetter={"function": "params.data.unit_name"}),
            text_col("period", "考核期", 96), text_col("item", "指标", 80),
            text_col("problem", "问题", 220, flex=2, wrapText=True, autoHeight=True, cellStyle={"lineHeight": "1.5"}),
            text_col("source", "来源", 170, wrapText=True, autoHeight=True, cellStyle={"lineHeight": "1.5"}),
            text_col("deadline", "整改期限", 150),
            text_col("closed", "销号依据", 150, wrapText=True, autoHeight=True, cellStyle={"lineHeight": "1.5"}),
            text_col("recheck", "回头看", 140, wrapText=True, autoHeight=True, cellStyle={"lineHeight": "1.5"})],
            height=560, pagination=True, row_id="id", class_name="grid-center-cells"),
    ])
