"""整改台账: every 整改 item across units and periods (overdue first), linked to the unit's detail page
where inspectors close (销号) and recheck (回头看) them. Staff see their own units' items."""
from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, dcc, html

from auth import current_principal, secure_callback

from components.cards import make_kpi_card
from components.documents import make_doc_buttons
from components.grids import make_grid, make_server_grid, text_col
from components.shell import make_empty, make_page_header
from data import grid_query, services
from pages._access import guard
from pages._documents import RECTIFICATIONS as DOC_BUTTONS

dash.register_page(__name__, path="/rectifications", name="整改台账", title="整改台账 · 党建工作考核系统",
                   nav=True, nav_key="rectifications", nav_order=3.5)


def _evidence_link(principal):
    """佐证核查 (无佐证 items, files awaiting review) opens from here: the navbar has no room at 1366 px."""
    if not principal.can_open("evidence"):
        return None
    return dcc.Link("佐证核查", href="/evidence", id="rect-evidence-link", className="btn btn-sm btn-outline-danger me-2")


SERVER_ROWS = 2000  # above this many items the grid keeps its rows on the server (infinite row model)
# 「2026-07-05」→「2026年7月5日」 on screen (components.formats.fmt_date); the ISO value sorts and filters.
DATE_TEXT = ("params.value ? params.value.slice(0, 4) + '年' + Number(params.value.slice(5, 7)) + '月' "
             "+ Number(params.value.slice(8, 10)) + '日' : '—'")


def _grid_frame(df):
    """One row per item as the grid shows it (markdown link, date text, status with 逾期)."""
    return pd.DataFrame({
        "id": df["id"].astype(int), "unit": df["unit"],
        "unit_link": [f"[{n}](/branch/{u}?period={p})" for n, u, p in zip(df["unit_name"], df["unit"], df["period"])],
        "unit_name": df["unit_name"], "period": df["period"], "item": df["item"].fillna("—").replace("", "—"),
        "problem": df["problem"], "source": df["source"],
        "deadline": [d.isoformat() if d else "" for d in df["deadline"]],  # sorts by date; shown as 年月日
        "status": df["status"] + df["overdue"].map({True: "（逾期）", False: ""}),
        "closed": df["closed_evidence"].fillna(""), "recheck": df["recheck_result"].fillna("")})


def _columns(server: bool) -> list[dict]:
    """Wrapped, self-sizing text cells; on the server (fixed row height) two lines and the rest in a tooltip."""
    def wrapped(field, header, width, flex=None):
        extra = {"flex": flex} if flex else {}
        if server:
            return text_col(field, header, width, wrapText=True, tooltipField=field,
                            cellStyle={"lineHeight": "1.5"}, **extra)
        return text_col(field, header, width, wrapText=True, autoHeight=True, cellStyle={"lineHeight": "1.5"}, **extra)

    return [
        text_col("status", "状态", 150, cellStyle={"styleConditions": [
            {"condition": "params.value && params.value.includes('逾期')",
             "style": {"color": "#b71c1c", "fontWeight": "600"}}]}),
        text_col("unit_link", "单位", 170, cellRenderer="markdown", tooltipField="unit_name",
                 filterValueGetter={"function": "params.data.unit_name"}),
        text_col("period", "考核期", 96), text_col("item", "指标", 80),
        wrapped("problem", "问题", 220, flex=2), wrapped("source", "来源", 170),
        text_col("deadline", "整改期限", 150, valueFormatter={"function": DATE_TEXT}),
        wrapped("closed", "销号依据", 150), wrapped("recheck", "回头看", 140)]


def layout(**_):
    principal, denied = guard("rectifications")
    if denied:
        return denied
    df = services.rectification_list(principal)
    if df.empty:
        return html.Div([make_page_header("整改台账", right=_evidence_link(principal)), make_empty("没有整改事项")])
    n_open = int(df["status"].isin(["整改中", "已重开"]).sum())  # 已撤回 items count in none of the cards
    n_overdue = int(df["overdue"].sum())
    n_closed = int(df["status"].isin(["已销号", "回头看通过"]).sum())
    cards = html.Div([make_kpi_card("整改中", f"{n_open} 项", id_="rect-open"),
                      make_kpi_card("逾期未销号", f"{n_overdue} 项", accent="#b71c1c" if n_overdue else None,
                                    id_="rect-overdue"),
                      make_kpi_card("已销号 / 回头看通过", f"{n_closed} 项", id_="rect-closed")],
                     className="d-grid gap-3 mb-3", style={"gridTemplateColumns": "repeat(3, 1fr)"})
    if len(df) > SERVER_ROWS:  # a province's ledger: rows fetched a block at a time as the user scrolls
        grid = make_server_grid("rect-grid", _columns(server=True), height=560, row_id="id")
        grid.dashGridOptions = {**grid.dashGridOptions, "rowHeight": 60, "tooltipShowDelay": 300}
        grid.className += " grid-center-cells"
    else:
        grid = make_grid("rect-grid", _grid_frame(df).to_dict("records"), _columns(server=False), height=560,
                         pagination=True, row_id="id", class_name="grid-center-cells")
    return html.Div([
        make_page_header("整改台账", "检查发现的问题、整改期限、销号依据和回头看结果；点击单位在支部详情中办理销号、回头看",
                         right=[_evidence_link(principal), make_doc_buttons("rect", DOC_BUTTONS)]),
        cards, grid,
    ])


@secure_callback(Output("rect-grid", "getRowsResponse"), Input("rect-grid", "getRowsRequest"),
                 prevent_initial_call=True, action="view_scores")
def _rows_block(request):
    """One block of the server-side grid, sorted and filtered as the grid asks (the user's scope again)."""
    request = request if isinstance(request, dict) else {}
    frame = _grid_frame(services.rectification_list(current_principal()))
    frame = grid_query.query(frame, request.get("sortModel"), request.get("filterModel"),
                             aliases={"unit_link": "unit_name"})
    block, total = grid_query.window(frame, request)
    return {"rowData": block.to_dict("records"), "rowCount": total}
