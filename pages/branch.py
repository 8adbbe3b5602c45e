"""支部详情: one unit's total, grade, ranks, gap to the next grade, every item explained,
evidence provenance, inspector adjustments, self-assessment differences, 整改 items and trend.

Inspectors enter judgement scores, deductions, 不适用 marks and 整改 actions here; every
write goes through ``services`` (role and unit checked there and in ``secure_callback``).
"""
from __future__ import annotations

import datetime as dt
import math

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_grade_badge, make_section, make_status_badge, make_veto_mark
from components.charts import GRAPH_CONFIG, make_radar, make_trend
from components.documents import make_doc_buttons
from components.formats import fmt_date, fmt_datetime, fmt_points, grade_color
from components.grids import make_grid, text_col
from components.lite import el
from components.shell import make_empty, make_error_body, make_page_header, make_period_select
from data import rectifications, services
from data.permissions import AccessDenied, NotFound
from pages._access import open_page, pattern_clicked, period_options, period_search
from pages import _attachments
from components.attachments import make_no_evidence_badge
from pages._grade_override import make_override_form
from pages._records import records_panel
from pages._documents import BRANCH as DOC_BUTTONS
from scoring.glossary import period_label
from scoring.rules import fmt_number

dash.register_page(__name__, path_template="/branch/<unit_code>", name="支部详情",
                   title="支部详情 · 党建工作考核系统", nav=False, nav_key="branch")

KIND_LABELS = {"judgement": "评定分", "deduction": "扣分", "not_applicable": "认定不适用"}
RECT_ACTIONS = {"close": "销号（填写销号依据）", "recheck_pass": "回头看通过", "reopen": "回头看不通过，重开",
                "correct": "更正问题描述或期限（填写理由）", "withdraw": "撤回误登记的事项（填写理由）"}
RECT_DONE = {"close": "销号", "recheck_pass": "回头看通过", "reopen": "重开", "correct": "更正", "withdraw": "撤回"}


def _num(x) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt_number(float(x))


def _header(d: dict, period_code: str) -> html.Div:
    u = d["unit"]
    gaps = d["gaps"]
    held = str(u.get("grade_reason") or "")
    if u.get("veto"):
        gap_text = u.get("veto_reason") or "一票否决"  # the engine's reason already starts with 「一票否决：」
    elif held.startswith(("因名额限制", "直接定级", "因「")):  # points alone would not change this grade
        gap_text = held
    elif len(gaps) and "next_grade" in gaps:
        g0 = gaps.iloc[0]
        gap_text = (f"距「{g0['next_grade']}」还差 {fmt_points(g0['needed_total'])} 分"
                    f"（原始分 {_num(g0['needed_raw'])} 分）"
                    + ("" if bool(gaps["reaches"].any()) else "（仅靠本期指标无法达到）"))
    else:
        gap_text = "已是最高等次"
    n_all = d.get("n_units") or "—"
    n_cat = d.get("n_category") or "—"
    stats = dbc.Row([
        dbc.Col([html.Div("总分", className="kpi-label"),
                 html.Div(fmt_points(u["total"]), className="kpi-value", id="branch-total")], xs=6, md=2),
        dbc.Col([html.Div("等次", className="kpi-label"),
                 html.Div([make_grade_badge(u["grade"], u.get("grade_order"), id_="branch-grade"),
                           make_veto_mark(u.get("veto_reason")) if u.get("veto") else None],
                          className="kpi-value")], xs=6, md=2),
        dbc.Col([html.Div("总排名", className="kpi-label"),
                 html.Div(f"{int(u['rank'])} / {n_all}", className="kpi-value", id="branch-rank")], xs=6, md=2),
        dbc.Col([html.Div("类别排名", className="kpi-label"),
                 html.Div(f"{int(u['rank_in_category'])} / {n_cat}", className="kpi-value")], xs=6, md=2),
        dbc.Col([html.Div("基础得分 + 加分", className="kpi-label"),
                 html.Div(f"{fmt_points(u['base'])} + {fmt_points(u['bonus'])}", className="kpi-value fs-5")],
                xs=6, md=2),
        dbc.Col([html.Div("距下一等次", className="kpi-label"),
                 html.Div(gap_text, className="fw-semibold", id="branch-gap")], xs=6, md=2),
    ], className="g-2")
    why = html.Div(f"定级依据：{u['grade_reason']}", className="small-muted mt-1", id="branch-grade-reason") \
        if u.get("grade_reason") else None
    return dbc.Card(dbc.CardBody([stats, why]), className="mb-3 kpi-card")


def _gap_list(d: dict) -> html.Div:
    gaps = d["gaps"]
    if not len(gaps) or "need" not in gaps:
        return make_empty("已是最高等次或无可提升的指标")
    g0 = gaps.iloc[0]
    note = None
    if g0["item"]:
        note = html.Div(f"各项「可得分」为指标原始分；本期应得分折算为百分制后，原始分 {_num(g0['needed_raw'])} 分"
                        f"相当于总分 {fmt_points(g0['needed_total'])} 分。", className="small-muted mb-2")
    items = []
    for r in gaps.itertuples(index=False):
        if not r.item:
            items.append(html.Li(r.need))
            continue
        items.append(html.Li([html.Span("★ " if r.core else "", className="text-danger"),
                              html.Span(f"{r.item} {r.item_name}：", className="fw-semibold"), r.need,
                              html.Span(" ✓ 可达到" if r.reaches else "", className="text-success small")]))
    return html.Div([note, html.Ol(items, className="gap-list mb-0", id="branch-gap-list")])


def _row_action(code: str) -> dict:
    return el(html.Td, el(html.Button, "操作", id={"type": "branch-row-act", "item": code}, n_clicks=0, type="button",
                          className="btn btn-outline-danger btn-sm py-0 px-2 nowrap",
                          title="对该指标扣分、评定、认定不适用或登记整改"), className="text-center")


def _item_row(r, described: str, no_evidence: bool, can_act: bool) -> dict:
    """One item's row (``el``: the table has a row per item, drawn on every view)."""
    diff = r.self_diff
    self_cell = "—" if r.self_points is None or (isinstance(r.self_points, float) and
                                                  math.isnan(r.self_points)) else _num(r.self_points)
    flag = not (isinstance(diff, float) and math.isnan(diff)) and abs(diff) >= 0.5
    cells = [
        el(html.Td, ("★ " if r.core else "") + r.item, className="nowrap"),
        el(html.Td, [el(html.Div, r.name)] + ([el(html.Div, described, className="small-muted")] if described else [])),
        el(html.Td, f"{_num(r.points)} / {_num(r.max)}" if r.kind == "base" else _num(r.points),
           className="nowrap text-end"),
        el(html.Td, [make_status_badge(str(r.status)), make_no_evidence_badge(no_evidence, f"branch-noev-{r.item}")]),
        el(html.Td, [el(html.Div, r.explanation, className="explain"), el(html.Div, r.evidence, className="small-muted")]),
        el(html.Td, self_cell, className="text-end" + (" diff-high" if flag else ""),
           title=f"自评与考核得分相差 {_num(diff)} 分" if flag else None),
    ]
    return el(html.Tr, cells + ([_row_action(r.item)] if can_act else []))


def _items_table(d: dict, focus_area: str | None, can_act: bool = False) -> html.Div:
    items = d["items"]
    table = d["table"]
    names = {a.code: a.name for a in table.areas}
    areas = d["areas"].set_index("area")
    blocks = []
    order = [a.code for a in table.areas]
    if focus_area in order:
        order.remove(focus_area)
        order.insert(0, focus_area)
    described = {i.code: "；".join(f"{k}：{v}" for k, v in (("考核内容", i.content), ("考评方式", i.method),
                                                            ("考核部门", i.owner)) if v) for i in table.all_items}
    no_evidence = d.get("no_evidence", ())
    if "self_diff" not in items.columns:
        items = items.assign(self_diff=float("nan"))
    by_area: dict[str, list] = {}
    for r in items.itertuples(index=False):  # one pass (itertuples builds a row class per call)
        by_area.setdefault(str(r.area), []).append(_item_row(r, described.get(r.item), r.item in no_evidence, can_act))
    for code in order + ["加分项", "减分项", "一票否决"]:
        body = by_area.get(code)
        if not body:
            continue
        if code in names:
            a = areas.loc[code] if code in areas.index else None
            title = f"{code} {names[code]}"
            right = (f"{_num(a['points'])} / {_num(a['max'])} 分" if a is not None else "")
            groups = next((ar.groups for ar in table.areas if ar.code == code), ())
            if groups:  # subtotals of the middle level (areas[].groups)
                of = {i.code: i.group for ar in table.areas for i in ar.items}
                rows = items[items["area"] == code]
                g = rows.assign(_g=rows["item"].astype(str).map(of)).groupby("_g")[["points", "max"]].sum()
                right = "；".join(f"{gr.name} {_num(g.loc[gr.code, 'points'])} / {_num(g.loc[gr.code, 'max'])}"
                                 for gr in groups if gr.code in g.index) + f"；合计 {right}"
        else:
            title, right = code, ""
        blocks.append(el(dbc.Card, [  # el: eleven blocks of fixed parts on every view
            el(dbc.CardHeader, el(html.Div, [el(html.Span, title), el(html.Span, right, className="small-muted")],
                                  className="d-flex justify-content-between")),
            el(dbc.Table, [el(html.Thead, el(html.Tr, [el(html.Th, "编码", style={"width": "64px"}), el(html.Th, "指标"),
                                                       el(html.Th, "得分/满分", style={"width": "96px"}),
                                                       el(html.Th, "状态", style={"width": "72px"}),
                                                       el(html.Th, "说明与填报值"),
                                                       el(html.Th, "自评", style={"width": "60px"})]
                                             + ([el(html.Th, "操作", style={"width": "64px"})] if can_act else []))),
                           el(html.Tbody, body)], size="sm", hover=True, className="mb-0 table-fixed-layout"),
        ], className="mb-2" + (" border-danger" if code == focus_area else ""), id=f"branch-area-{code}"))
    return html.Div(blocks, id="branch-items")


PROVENANCE_KEEP = 2  # rows per field on the page: the current value and the one it replaced


def _provenance(rows, table) -> html.Div:
    """Where each value came from. One grid (its rows are data, not a component per cell: the page
    stays light at any number of uploads, and the rows can be sorted and filtered)."""
    if rows is None or rows.empty:
        return make_empty("本期尚无填报记录")
    data = []
    for r in rows.itertuples(index=False):
        f = table.fields.get(r.field)
        current = pd.isna(r.superseded_at)
        data.append({"label": f.label if f else r.field,
                     "value": r.raw if r.raw not in (None, "") else _num(r.value),
                     "file": r.file_name, "sheet": r.sheet or "—", "row": str(r.row) if r.row else "—",
                     "column": r.column or "—", "uploader": r.uploader or "—", "at": fmt_datetime(r.uploaded_at),
                     "status": ("当前（已清除）" if pd.isna(r.value) else "当前") if current else "已被替换"})
    older = rows.attrs.get("older", 0)
    note = (html.Div(f"每个数据项显示当前值和最近 {PROVENANCE_KEEP - 1} 次被替换的值；另有 {older} 条更早的历史值"
                     "仍保存在数据库中，此处未列出。", className="small-muted mt-1", id="branch-provenance-older")
            if older else None)
    grid = make_grid("branch-provenance-grid", data, [
        text_col("label", "数据项", 160, flex=2), text_col("value", "填报值", 90), text_col("file", "文件", 160, flex=2, tooltipField="file"),
        text_col("sheet", "工作表", 90), text_col("row", "行", 60), text_col("column", "列", 60),
        text_col("uploader", "上传人", 90), text_col("at", "时间", 140),
        text_col("status", "状态", 110, cellClassRules={"text-success": "params.value !== '已被替换'",
                                                        "text-muted": "params.value === '已被替换'"})],
        height=min(420, 60 + 30 * len(data)))
    return html.Div([grid, note])


def _adjustments(d: dict) -> html.Div:
    adj = d["adjustments"]
    if not adj:
        return make_empty("考核组尚未录入评定分或扣分")
    rows = [html.Tr([html.Td(a["item"]), html.Td(KIND_LABELS.get(a["kind"], a["kind"])),
                     html.Td("—" if a["kind"] == "not_applicable" else _num(a["points"]), className="text-end"),
                     html.Td(a["reason"]), html.Td(a["by"]), html.Td(fmt_datetime(a["at"])),
                     html.Td("有效" if a["current"] else "已被替换",
                             className="text-success" if a["current"] else "text-muted")])
            for a in adj]
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in ("指标", "类型", "分值", "理由", "录入人", "时间",
                                                                "状态")])), html.Tbody(rows)],
                     size="sm", className="mb-0 small", id="branch-adjustments", responsive=True)


def _rectifications(d: dict) -> html.Div:
    rects = d["rectifications"]
    if not rects:
        return make_empty("没有整改事项")
    rows = []
    for r in rects:
        status = r["status"] + ("（逾期）" if r["overdue"] else "")
        rows.append(html.Tr([
            html.Td(r["id"]), html.Td(r["problem"]), html.Td(r["source"]), html.Td(fmt_date(r["deadline"])),
            html.Td(status, className="text-danger fw-semibold" if r["overdue"] else None),
            html.Td(r["closed_evidence"] or "—"), html.Td(r["recheck_result"] or "—"),
        ]))
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in ("编号", "问题", "来源", "整改期限", "状态", "销号依据",
                                                                "回头看")])), html.Tbody(rows)],
                     size="sm", className="mb-0 small", id="branch-rectifications", responsive=True)


def _item_options(table) -> list[dict]:
    return [{"label": f"{i.code} {i.name}（{fmt_number(i.points)} 分{'，考核组评定' if i.rule == 'manual' else ''}）",
             "value": i.code} for i in table.items]


def _withdraw_options(d: dict) -> list[dict]:
    return [{"label": f"#{a['id']} {a['item']} {KIND_LABELS.get(a['kind'], a['kind'])}"
                      + ("" if a["kind"] == "not_applicable" else f" {_num(a['points'])} 分"), "value": a["id"]}
            for a in d["adjustments"] if a["current"]]


def _rect_options(d: dict) -> list[dict]:
    return [{"label": f"#{r['id']} {r['problem'][:24]}（{r['status']}）", "value": r["id"]} for r in d["rectifications"]]


def _today() -> str:
    return dt.date.today().isoformat()


def _inspector_forms(d: dict) -> html.Div:
    item_opts = _item_options(d["table"])
    adj_form = dbc.Form([
        dbc.Row([
            dbc.Col(dbc.Select(id="branch-adj-item", options=item_opts, placeholder="选择指标"), md=5),
            dbc.Col(dbc.Select(id="branch-adj-kind", value="deduction",
                               options=[{"label": v, "value": k} for k, v in KIND_LABELS.items()]), md=3),
            dbc.Col(dbc.Input(id="branch-adj-points", type="number", min=0, step=0.1, placeholder="分值"), md=2),
            dbc.Col(dbc.Button("保存", id="branch-adj-save", color="danger", className="w-100"), md=2),
        ], className="g-2 mb-2"),
        dbc.Textarea(id="branch-adj-reason", placeholder="理由（必填，将记入审计日志）", rows=2),
        dbc.Row([
            dbc.Col(dbc.Select(id="branch-adj-withdraw-id", placeholder="撤回一条有效的评分记录",
                               options=_withdraw_options(d)), md=8),
            dbc.Col(dbc.Button("撤回", id="branch-adj-withdraw", color="secondary", outline=True, className="w-100"),
                    md=4),
        ], className="g-2 mt-2"),
        html.Div(id="branch-adj-msg", className="mt-2"),
    ])
    rect_form = dbc.Form([
        html.Div("登记整改事项", className="fw-semibold mb-1"),
        dbc.Row([
            dbc.Col(dbc.Input(id="branch-rect-problem", placeholder="问题描述"), md=6),
            dbc.Col(dbc.Select(id="branch-rect-item", options=item_opts, placeholder="相关指标（可选）"), md=3),
            dbc.Col(dbc.Input(id="branch-rect-deadline", type="date", min=_today(),
                              value=(dt.date.today() + dt.timedelta(days=30)).isoformat()), md=3),
        ], className="g-2 mb-2"),
        dbc.Button("登记", id="branch-rect-add", color="danger", outline=True, size="sm"),
        html.Hr(),
        html.Div("销号 / 回头看 / 更正 / 撤回", className="fw-semibold mb-1"),
        dbc.Row([
            dbc.Col(dbc.Select(id="branch-rect-id", options=_rect_options(d), placeholder="选择整改事项"), md=6),
            dbc.Col(dbc.Select(id="branch-rect-action", value="close",
                               options=[{"label": v, "value": k} for k, v in RECT_ACTIONS.items()]), md=6),
        ], className="g-2 mb-2"),
        dbc.Textarea(id="branch-rect-note", placeholder="销号依据、复查意见或更正/撤回理由（必填）", rows=2,
                     className="mb-2"),
        dbc.Row([
            dbc.Col(dbc.Input(id="branch-rect-new-problem", placeholder="更正后的问题描述（仅更正时填写）", size="sm"),
                    md=8),
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("新期限"),
                                    dbc.Input(id="branch-rect-new-deadline", type="date", min=_today())],
                                   size="sm"), md=4),
        ], className="g-2 mb-2"),
        dbc.Button("提交", id="branch-rect-update", color="danger", outline=True, size="sm"),
        html.Div(id="branch-rect-msg", className="mt-2"),
    ])
    return dbc.Row([dbc.Col(make_section("考核组评分（评定分 / 扣分 / 不适用）", adj_form), lg=6),
                    dbc.Col(make_section("登记整改 / 销号 / 回头看", rect_form), lg=6)], className="g-3")


def _row_modal(d: dict) -> dbc.Modal:
    """Act on one item from its own row: 扣分, 评定, 不适用 or 登记整改, without scrolling to the forms."""
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(id="branch-row-title")),
        dbc.ModalBody([
            dcc.Store(id="branch-row-item"),
            html.Div("评分", className="fw-semibold mb-1"),
            dbc.Row([
                dbc.Col(dbc.Select(id="branch-row-kind", value="deduction",
                                   options=[{"label": v, "value": k} for k, v in KIND_LABELS.items()]), md=5),
                dbc.Col(dbc.Input(id="branch-row-points", type="number", min=0, step=0.1, placeholder="分值"), md=3),
                dbc.Col(dbc.Button("保存", id="branch-row-save", color="danger", className="w-100"), md=4),
            ], className="g-2 mb-2"),
            dbc.Textarea(id="branch-row-reason", placeholder="理由（必填，将记入审计日志）", rows=2, className="mb-3"),
            html.Div("登记整改", className="fw-semibold mb-1"),
            dbc.Row([
                dbc.Col(dbc.Input(id="branch-row-problem", placeholder="问题描述"), md=7),
                dbc.Col(dbc.Input(id="branch-row-deadline", type="date", min=_today(),
                                  value=(dt.date.today() + dt.timedelta(days=30)).isoformat()), md=5),
            ], className="g-2 mb-2"),
            dbc.Button("登记整改", id="branch-row-rect-add", color="danger", outline=True, size="sm"),
            html.Div(id="branch-row-msg", className="mt-3"),
        ]),
        dbc.ModalFooter(dbc.Button("关闭", id="branch-row-close", color="secondary", outline=True, size="sm")),
    ], id="branch-row-modal", is_open=False, centered=True, size="lg")


def _self_form(d: dict) -> dbc.Card:
    table = d["table"]
    opts = [{"label": f"{i.code} {i.name}（满分 {fmt_number(i.points)}）", "value": i.code} for i in table.items]
    return make_section("本单位自评分（与考核得分对照，不影响考核得分）", dbc.Form([
        dbc.Row([
            dbc.Col(dbc.Select(id="branch-self-item", options=opts, placeholder="选择指标"), md=5),
            dbc.Col(dbc.Input(id="branch-self-points", type="number", min=0, step=0.1, placeholder="自评分"), md=2),
            dbc.Col(dbc.Input(id="branch-self-note", placeholder="说明（可选）"), md=3),
            dbc.Col(dbc.Button("保存", id="branch-self-save", color="danger", className="w-100"), md=2),
        ], className="g-2"),
        html.Div(id="branch-self-msg", className="mt-2"),
    ]))


def _detail(principal, unit_code: str, period_code: str):
    """(detail dict, provenance) or (None, an error body)."""
    try:
        d = services.branch_detail(principal, str(unit_code or ""), period_code)
        prov = services.evidence_provenance(principal, str(unit_code), period_code, keep=PROVENANCE_KEEP)
        d["no_evidence"] = _attachments.no_evidence_items(principal, str(unit_code), period_code)
    except NotFound as exc:
        return None, make_error_body(404, f"{exc}，请检查地址或从排名总览进入。")
    except AccessDenied:
        return None, make_error_body(403, "您只能查看本人负责单位的考核结果。")
    return d, prov


def _trend_graph(d: dict) -> dcc.Graph:
    trend = d["trend"]
    fig = make_trend([period_label(p) for p in trend["period"]], trend["total"].round(2).tolist(),
                     trend["grade"].tolist(), [grade_color(g) for g in trend["grade"]])
    return dcc.Graph(id="branch-trend", figure=fig, config=GRAPH_CONFIG)


def _records(d: dict, prov) -> list:
    return [
        dbc.Accordion([
            dbc.AccordionItem(_provenance(prov, d["table"]), title="数据来源（文件、工作表、行、列、上传人、时间）",
                              item_id="prov"),
        ], start_collapsed=True, className="my-3", id="branch-provenance"),
        dbc.Row([dbc.Col(make_section("考核组评定与扣分记录", _adjustments(d)), lg=6),
                 dbc.Col(make_section("整改事项清单", _rectifications(d)), lg=6)], className="g-3"),
    ]


def _body(principal, d: dict, prov, period_code: str, area: str | None) -> list:
    """Everything a write can change: figures, charts, item rows and the record lists (re-rendered in place)."""
    if d.get("no_data"):
        note = dbc.Alert([html.Div("尚无数据", className="fw-semibold", id="branch-no-data"),
                          html.Div(f"该单位在{period_label(period_code)}还没有填报数据：暂不评定等次、不参与排名，"
                                   "数据上传后自动计分。")], color="secondary", className="mb-3")
        return [note, make_section("历次得分", _trend_graph(d)), *_records(d, prov)]
    u = d["unit"]
    res_units = services.score_period(period_code).units
    d["n_units"] = len(res_units)
    d["n_category"] = int((res_units["category"] == u["category"]).sum())
    areas = d["areas"]
    radar = make_radar([str(n) for n in areas["area_name"]], [0.0 if math.isnan(v) else float(v) for v in areas["pct"]],
                       [0.0 if math.isnan(v) else float(v) for v in areas["category_pct"]], u["name"])
    return [
        _header(d, period_code),
        dbc.Row([
            dbc.Col(make_section("各一级指标得分率（与同类平均比较）",
                                 dcc.Graph(id="branch-radar", figure=radar, config=GRAPH_CONFIG)), lg=5),
            dbc.Col([make_section("距下一等次的提分清单（★核心指标优先）", _gap_list(d)),
                     make_section("历次得分", _trend_graph(d))], lg=7),
        ], className="g-3"),
        html.H2("逐项得分", className="h6 mt-2 mb-2"),
        _items_table(d, area, can_act=principal.can("judge")),
        *_records(d, prov),
    ]


def layout(unit_code: str | None = None, period: str | None = None, area: str | None = None, **_):
    principal, period_code, error = open_page("branch", period)
    if error:
        return error
    d, prov = _detail(principal, unit_code, period_code)
    if d is None:
        return prov
    u = d["unit"]
    secretary = u.get("secretary") if isinstance(u.get("secretary"), str) and u.get("secretary") else "—"
    subtitle = (f"{u['category']} · {u.get('bureau', '')} · 书记 {secretary} · 党员 "
                f"{int(u.get('members_full') or 0)} 名（预备 {int(u.get('members_probationary') or 0)} 名）")
    can_judge = principal.can("judge")
    return html.Div([
        dcc.Location(id="branch-url", refresh="callback-nav"),
        dcc.Store(id="branch-key", data={"unit": u["unit"], "period": period_code, "area": area}),
        dcc.Store(id="branch-refresh", data=0),
        make_page_header(f"{u['name']}", subtitle,
                         right=[make_period_select("branch-period", period_options(), period_code),
                                dcc.Link("返回排名", href=f"/?period={period_code}",
                                         className="btn btn-sm btn-outline-secondary"),
                                make_doc_buttons("branch", DOC_BUTTONS)]),
        html.Div(_body(principal, d, prov, period_code, area), id="branch-body"),
        # The forms that act on the items come right after them; records and files, which re-draw
        # after a save, come below so the view does not move under the inspector.
        _inspector_forms(d) if can_judge else None,
        _row_modal(d) if can_judge else None,
        make_override_form(d["table"], u, period_code) if can_judge else None,
        _self_form(d) if principal.can("self_assess") else None,
        records_panel(principal, u["unit"], period_code, d["table"]),
        _attachments.section(principal, u["unit"], period_code, d["table"], d["no_evidence"]),
    ])


@secure_callback(Output("branch-url", "search", allow_duplicate=True), Input("branch-period", "value"),
                 State("branch-key", "data"), prevent_initial_call=True, action="view_scores")
def _change_period(period_code, key):
    return period_search(period_code)


def _key(key) -> tuple[str, str] | None:
    """(unit, period) from the page's store, or None when a direct POST sent something else."""
    if not isinstance(key, dict) or not isinstance(key.get("unit"), str) or not isinstance(key.get("period"), str):
        return None
    return key["unit"], key["period"]


def _bumped(n) -> int:
    return (n if isinstance(n, int) else 0) + 1


@secure_callback(Output("branch-body", "children"), Output("branch-adj-withdraw-id", "options"),
                 Output("branch-rect-id", "options"), Input("branch-refresh", "data"), State("branch-key", "data"),
                 prevent_initial_call=True, action="judge")
def _rerender_for_inspector(n, key):
    """After a write: the affected parts re-drawn in place (no reload, no new history entry, no jump)."""
    if not n or _key(key) is None:
        return no_update, no_update, no_update
    p = current_principal()
    d, prov = _detail(p, key["unit"], key["period"])
    if d is None:
        return prov, no_update, no_update
    return _body(p, d, prov, key["period"], key.get("area")), _withdraw_options(d), _rect_options(d)


@secure_callback(Output("branch-body", "children", allow_duplicate=True), Input("branch-self-msg", "children"),
                 State("branch-key", "data"), prevent_initial_call=True, action="self_assess")
def _rerender_for_staff(msg, key):
    if not msg or _key(key) is None:
        return no_update
    p = current_principal()
    d, prov = _detail(p, key["unit"], key["period"])
    return prov if d is None else _body(p, d, prov, key["period"], key.get("area"))


@secure_callback(Output("branch-adj-msg", "children", allow_duplicate=True),
                 Output("branch-refresh", "data", allow_duplicate=True), Input("branch-adj-withdraw", "n_clicks"),
                 State("branch-key", "data"), State("branch-adj-withdraw-id", "value"),
                 State("branch-refresh", "data"), prevent_initial_call=True, action="judge")
def _withdraw_adjustment(n_clicks, key, adj_id, n):
    if not n_clicks or _key(key) is None:
        return no_update, no_update
    try:
        services.withdraw_adjustment(current_principal(), int(adj_id))
    except (services.InvalidInput, NotFound) as exc:  # first: InvalidInput is a ValueError too
        return make_alert(str(exc), "warning"), no_update
    except (TypeError, ValueError):
        return make_alert("请选择要撤回的评分记录", "warning"), no_update
    return make_alert("已撤回并记入审计日志", "success"), _bumped(n)


def _adjust(key, item, kind, points, reason):
    """Shared by the form and an item's own row: (message, saved?)."""
    if not item:
        return make_alert("请选择指标", "warning"), False
    try:
        pts = None if points in (None, "") else float(points)
        services.set_adjustment(current_principal(), key.get("period"), key.get("unit"), item, kind or "",
                                pts, reason or "")
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), False
    except (TypeError, ValueError):
        return make_alert("分值应为数字", "warning"), False
    from data.periods import not_due_warning

    label = KIND_LABELS.get(kind, "评分")
    saved = f"{item} {label}已保存并记入审计日志（{dt.datetime.now():%H:%M:%S}）"
    not_due = not_due_warning(key.get("period"), item)
    if not_due:
        return make_alert(saved + "。注意：" + not_due, "warning"), True
    return make_alert(saved, "success"), True


@secure_callback(Output("branch-adj-msg", "children"), Output("branch-refresh", "data", allow_duplicate=True),
                 Input("branch-adj-save", "n_clicks"), State("branch-key", "data"), State("branch-adj-item", "value"),
                 State("branch-adj-kind", "value"), State("branch-adj-points", "value"),
                 State("branch-adj-reason", "value"), State("branch-refresh", "data"), prevent_initial_call=True,
                 action="judge")
def _save_adjustment(n_clicks, key, item, kind, points, reason, n):
    if not n_clicks or _key(key) is None:
        return no_update, no_update
    msg, saved = _adjust(key, item, kind, points, reason)
    return msg, (_bumped(n) if saved else no_update)


def _deadline(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


@secure_callback(Output("branch-rect-msg", "children"), Output("branch-refresh", "data", allow_duplicate=True),
                 Input("branch-rect-add", "n_clicks"), Input("branch-rect-update", "n_clicks"),
                 State("branch-key", "data"), State("branch-rect-problem", "value"), State("branch-rect-item", "value"),
                 State("branch-rect-deadline", "value"), State("branch-rect-id", "value"),
                 State("branch-rect-action", "value"), State("branch-rect-note", "value"),
                 State("branch-rect-new-problem", "value"), State("branch-rect-new-deadline", "value"),
                 State("branch-refresh", "data"), prevent_initial_call=True, action="rectify")
def _rectify(add_clicks, update_clicks, key, problem, item, deadline, rect_id, action, note, new_problem,
             new_deadline, n):
    trigger = dash.ctx.triggered_id
    if _key(key) is None or trigger not in ("branch-rect-add", "branch-rect-update"):
        return no_update, no_update
    p = current_principal()
    try:
        if trigger == "branch-rect-add":
            if not add_clicks:
                return no_update, no_update
            due = _deadline(deadline)
            if due is None:
                return make_alert("请填写整改期限", "warning"), no_update
            services.add_rectification(p, key.get("period"), key.get("unit"), problem or "", due,
                                       item_code=item or None)
            done = "整改事项已登记并记入审计日志"
        else:
            if not update_clicks:
                return no_update, no_update
            if not str(rect_id or "").isdigit():
                return make_alert("请选择整改事项", "warning"), no_update
            if action == "withdraw":
                rectifications.withdraw_rectification(p, int(rect_id), note or "")
            elif action == "correct":
                new_due = _deadline(new_deadline) if new_deadline else None
                if new_deadline and new_due is None:
                    return make_alert("更正后的整改期限无效", "warning"), no_update
                rectifications.correct_rectification(p, int(rect_id), note or "",
                                                     problem=(new_problem or None), deadline=new_due)
            else:
                services.update_rectification(p, int(rect_id), action or "", note or "")
            done = f"#{rect_id} {RECT_DONE.get(action, '')}已保存并记入审计日志"
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    except NotFound as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert(f"{done}（{dt.datetime.now():%H:%M:%S}）", "success"), _bumped(n)


@secure_callback(Output("branch-row-modal", "is_open"), Output("branch-row-item", "data"),
                 Output("branch-row-title", "children"), Output("branch-row-msg", "children", allow_duplicate=True),
                 Input({"type": "branch-row-act", "item": ALL}, "n_clicks"), Input("branch-row-close", "n_clicks"),
                 State("branch-key", "data"), prevent_initial_call=True, action="judge")
def _open_row(row_clicks, close_clicks, key):
    trigger = dash.ctx.triggered_id
    if trigger == "branch-row-close":
        return False, no_update, no_update, no_update
    # Re-drawn rows fire with n_clicks 0: only a real click opens the dialog.
    if not pattern_clicked() or _key(key) is None:
        return no_update, no_update, no_update, no_update
    code = str(trigger.get("item", ""))
    try:
        item = services.table_for_period(key["period"]).item(code)
    except (KeyError, services.NotFound):
        return no_update, no_update, no_update, no_update
    title = f"{item.code} {item.name}（{fmt_number(item.points)} 分{'，考核组评定' if item.rule == 'manual' else ''}）"
    return True, item.code, title, None


@secure_callback(Output("branch-row-msg", "children"), Output("branch-refresh", "data", allow_duplicate=True),
                 Input("branch-row-save", "n_clicks"), Input("branch-row-rect-add", "n_clicks"),
                 State("branch-key", "data"), State("branch-row-item", "data"), State("branch-row-kind", "value"),
                 State("branch-row-points", "value"), State("branch-row-reason", "value"),
                 State("branch-row-problem", "value"), State("branch-row-deadline", "value"),
                 State("branch-refresh", "data"), prevent_initial_call=True, action="judge")
def _row_save(save_clicks, rect_clicks, key, item, kind, points, reason, problem, deadline, n):
    trigger = dash.ctx.triggered_id
    if _key(key) is None or not isinstance(item, str) or not item:
        return no_update, no_update
    if trigger == "branch-row-save" and save_clicks:
        msg, saved = _adjust(key, item, kind, points, reason)
        return msg, (_bumped(n) if saved else no_update)
    if trigger == "branch-row-rect-add" and rect_clicks:
        p = current_principal()
        if not p.can("rectify"):
            return make_alert("您没有登记整改的权限", "warning"), no_update
        due = _deadline(deadline)
        if due is None:
            return make_alert("请填写整改期限", "warning"), no_update
        try:
            services.add_rectification(p, key["period"], key["unit"], problem or "", due, item_code=item)
        except services.InvalidInput as exc:
            return make_alert(str(exc), "warning"), no_update
        return make_alert(f"{item} 整改事项已登记并记入审计日志（{dt.datetime.now():%H:%M:%S}）", "success"), _bumped(n)
    return no_update, no_update


@secure_callback(Output("branch-self-msg", "children"), Input("branch-self-save", "n_clicks"),
                 State("branch-key", "data"), State("branch-self-item", "value"),
                 State("branch-self-points", "value"), State("branch-self-note", "value"),
                 prevent_initial_call=True, action="self_assess")
def _save_self(n_clicks, key, item, points, note):
    if not n_clicks or _key(key) is None:
        return no_update
    if not item or points in (None, ""):
        return make_alert("请选择指标并填写自评分", "warning")
    try:
        services.set_self_assessment(current_principal(), key.get("period"), key.get("unit"), item, points, note or "")
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning")
    return make_alert(f"自评分已保存（{dt.datetime.now():%H:%M:%S}）", "success")
