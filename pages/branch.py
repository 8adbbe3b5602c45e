"""支部详情: one unit's total, grade, ranks, gap to the next grade, every item explained,
evidence provenance, inspector adjustments, self-assessment differences, 整改 items and trend.

Inspectors enter judgement scores, deductions, 不适用 marks and 整改 actions here; every
write goes through ``services`` (role and unit checked there and in ``secure_callback``).
"""
from __future__ import annotations

import datetime as dt
import math
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_grade_badge, make_section, make_status_badge, make_veto_mark
from components.charts import GRAPH_CONFIG, make_radar, make_trend
from components.formats import fmt_date, fmt_datetime, fmt_points, grade_color
from components.shell import make_empty, make_error_body, make_page_header, make_period_select
from data import services
from data.permissions import AccessDenied, NotFound
from pages._access import open_page, period_options, period_search
from scoring.glossary import period_label
from scoring.rules import fmt_number

dash.register_page(__name__, path_template="/branch/<unit_code>", name="支部详情",
                   title="支部详情 · 党建工作考核系统", nav=False, nav_key="branch")

KIND_LABELS = {"judgement": "评定分", "deduction": "扣分", "not_applicable": "认定不适用"}
RECT_ACTIONS = {"close": "销号（填写销号依据）", "recheck_pass": "回头看通过", "reopen": "回头看不通过，重开"}


def _num(x) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt_number(float(x))


def _header(d: dict, period_code: str) -> html.Div:
    u = d["unit"]
    gaps = d["gaps"]
    if u.get("veto"):
        gap_text = u.get("veto_reason") or "一票否决"  # the engine's reason already starts with 「一票否决：」
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
    return dbc.Card(dbc.CardBody(stats), className="mb-3 kpi-card")


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


def _items_table(d: dict, focus_area: str | None) -> html.Div:
    items = d["items"]
    table = d["table"]
    names = {a.code: a.name for a in table.areas}
    areas = d["areas"].set_index("area")
    blocks = []
    order = [a.code for a in table.areas]
    if focus_area in order:
        order.remove(focus_area)
        order.insert(0, focus_area)
    for code in order + ["加分项", "一票否决"]:
        rows = items[items["area"] == code]
        if rows.empty:
            continue
        body = []
        for r in rows.itertuples(index=False):
            diff = r.self_diff if "self_diff" in rows.columns else float("nan")
            self_cell = "—" if r.self_points is None or (isinstance(r.self_points, float) and
                                                          math.isnan(r.self_points)) else _num(r.self_points)
            flag = not (isinstance(diff, float) and math.isnan(diff)) and abs(diff) >= 0.5
            body.append(html.Tr([
                html.Td(("★ " if r.core else "") + r.item, className="nowrap"),
                html.Td(r.name),
                html.Td(f"{_num(r.points)} / {_num(r.max)}" if r.kind == "base" else _num(r.points),
                        className="nowrap text-end"),
                html.Td(make_status_badge(str(r.status))),
                html.Td([html.Div(r.explanation, className="explain"),
                         html.Div(r.evidence, className="small-muted")]),
                html.Td(self_cell, className="text-end" + (" diff-high" if flag else ""),
                        title=f"自评与考核得分相差 {_num(diff)} 分" if flag else None),
            ]))
        if code in names:
            a = areas.loc[code] if code in areas.index else None
            title = f"{code} {names[code]}"
            right = (f"{_num(a['points'])} / {_num(a['max'])} 分" if a is not None else "")
        else:
            title, right = code, ""
        blocks.append(dbc.Card([
            dbc.CardHeader(html.Div([html.Span(title), html.Span(right, className="small-muted")],
                                    className="d-flex justify-content-between")),
            dbc.Table([html.Thead(html.Tr([html.Th("编码", style={"width": "64px"}), html.Th("指标"),
                                           html.Th("得分/满分", style={"width": "96px"}),
                                           html.Th("状态", style={"width": "72px"}), html.Th("说明与填报值"),
                                           html.Th("自评", style={"width": "60px"})])),
                       html.Tbody(body)], size="sm", hover=True, className="mb-0 table-fixed-layout"),
        ], className="mb-2" + (" border-danger" if code == focus_area else ""), id=f"branch-area-{code}"))
    return html.Div(blocks, id="branch-items")


def _provenance(rows, table) -> html.Div:
    if rows is None or rows.empty:
        return make_empty("本期尚无填报记录")
    body = []
    for r in rows.itertuples(index=False):
        f = table.fields.get(r.field)
        body.append(html.Tr([
            html.Td(f.label if f else r.field), html.Td(r.raw if r.raw not in (None, "") else _num(r.value)),
            html.Td(r.file_name), html.Td(r.sheet or "—"), html.Td(r.row if r.row else "—"),
            html.Td(r.column or "—"), html.Td(r.uploader or "—"), html.Td(fmt_datetime(r.uploaded_at)),
            html.Td(("当前（已清除）" if pd.isna(r.value) else "当前") if pd.isna(r.superseded_at) else "已被替换",
                    className="text-success" if pd.isna(r.superseded_at) else "text-muted"),
        ]))
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in ("数据项", "填报值", "文件", "工作表", "行", "列",
                                                                "上传人", "时间", "状态")])),
                      html.Tbody(body)], size="sm", striped=True, className="mb-0 small", responsive=True)


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


def _inspector_forms(d: dict, unit_code: str, period_code: str) -> html.Div:
    table = d["table"]
    item_opts = [{"label": f"{i.code} {i.name}（{fmt_number(i.points)} 分{'，考核组评定' if i.rule == 'manual' else ''}）",
                  "value": i.code} for i in table.items]
    rect_opts = [{"label": f"#{r['id']} {r['problem'][:24]}（{r['status']}）", "value": r["id"]}
                 for r in d["rectifications"]]
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
                               options=[{"label": f"#{a['id']} {a['item']} {KIND_LABELS.get(a['kind'], a['kind'])}"
                                                  + ("" if a["kind"] == "not_applicable" else f" {_num(a['points'])} 分"),
                                         "value": a["id"]} for a in d["adjustments"] if a["current"]]), md=8),
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
            dbc.Col(dbc.Input(id="branch-rect-deadline", type="date",
                              value=(dt.date.today() + dt.timedelta(days=30)).isoformat()), md=3),
        ], className="g-2 mb-2"),
        dbc.Button("登记", id="branch-rect-add", color="danger", outline=True, size="sm"),
        html.Hr(),
        html.Div("销号 / 回头看", className="fw-semibold mb-1"),
        dbc.Row([
            dbc.Col(dbc.Select(id="branch-rect-id", options=rect_opts, placeholder="选择整改事项"), md=6),
            dbc.Col(dbc.Select(id="branch-rect-action", value="close",
                               options=[{"label": v, "value": k} for k, v in RECT_ACTIONS.items()]), md=6),
        ], className="g-2 mb-2"),
        dbc.Textarea(id="branch-rect-note", placeholder="销号依据或复查意见（必填）", rows=2, className="mb-2"),
        dbc.Button("提交", id="branch-rect-update", color="danger", outline=True, size="sm"),
        html.Div(id="branch-rect-msg", className="mt-2"),
    ])
    return dbc.Row([dbc.Col(make_section("考核组评分（评定分 / 扣分 / 不适用）", adj_form), lg=6),
                    dbc.Col(make_section("登记整改 / 销号 / 回头看", rect_form), lg=6)], className="g-3")


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


def layout(unit_code: str | None = None, period: str | None = None, area: str | None = None, **_):
    principal, period_code, error = open_page("branch", period)
    if error:
        return error
    try:
        d = services.branch_detail(principal, str(unit_code or ""), period_code)
        prov = services.evidence_provenance(principal, str(unit_code), period_code)
    except NotFound as exc:
        return make_error_body(404, f"{exc}，请检查地址或从排名总览进入。")
    except AccessDenied:
        return make_error_body(403, "您只能查看本人负责单位的考核结果。")
    u = d["unit"]
    res_units = services.score_period(period_code).units
    d["n_units"] = len(res_units)
    d["n_category"] = int((res_units["category"] == u["category"]).sum())
    areas = d["areas"]
    radar = make_radar([str(n) for n in areas["area_name"]], [0.0 if math.isnan(v) else float(v) for v in areas["pct"]],
                       [0.0 if math.isnan(v) else float(v) for v in areas["category_pct"]], u["name"])
    trend = d["trend"]
    trend_fig = make_trend([period_label(p) for p in trend["period"]], trend["total"].round(2).tolist(),
                           trend["grade"].tolist(), [grade_color(g) for g in trend["grade"]])
    secretary = u.get("secretary") if isinstance(u.get("secretary"), str) and u.get("secretary") else "—"
    subtitle = (f"{u['category']} · {u.get('bureau', '')} · 书记 {secretary} · 党员 "
                f"{int(u.get('members_full') or 0)} 名（预备 {int(u.get('members_probationary') or 0)} 名）")
    can_judge = principal.can("judge")
    return html.Div([
        dcc.Location(id="branch-url", refresh="callback-nav"),
        dcc.Store(id="branch-key", data={"unit": u["unit"], "period": period_code}),
        make_page_header(f"{u['name']}", subtitle,
                         right=[make_period_select("branch-period", period_options(), period_code),
                                dcc.Link("返回排名", href=f"/?period={period_code}",
                                         className="btn btn-sm btn-outline-secondary")]),
        _header(d, period_code),
        dbc.Row([
            dbc.Col(make_section("各一级指标得分率（与同类平均比较）",
                                 dcc.Graph(id="branch-radar", figure=radar, config=GRAPH_CONFIG)), lg=5),
            dbc.Col([make_section("距下一等次的提分清单（★核心指标优先）", _gap_list(d)),
                     make_section("历次得分", dcc.Graph(id="branch-trend", figure=trend_fig, config=GRAPH_CONFIG))],
                    lg=7),
        ], className="g-3"),
        html.H2("逐项得分", className="h6 mt-2 mb-2"),
        _items_table(d, area),
        dbc.Accordion([
            dbc.AccordionItem(_provenance(prov, d["table"]), title="数据来源（文件、工作表、行、列、上传人、时间）",
                              item_id="prov"),
        ], start_collapsed=True, className="my-3", id="branch-provenance"),
        dbc.Row([dbc.Col(make_section("考核组评定与扣分记录", _adjustments(d)), lg=6),
                 dbc.Col(make_section("整改事项清单", _rectifications(d)), lg=6)], className="g-3"),
        _inspector_forms(d, u["unit"], period_code) if can_judge else None,
        _self_form(d) if principal.can("self_assess") else None,
    ])


def _refresh(key: dict) -> str:
    return "?" + urlencode({"period": key["period"], "t": dt.datetime.now().strftime("%H%M%S%f")})


@secure_callback(Output("branch-url", "search", allow_duplicate=True), Input("branch-period", "value"),
                 State("branch-key", "data"), prevent_initial_call=True, action="view_scores")
def _change_period(period_code, key):
    return period_search(period_code)


def _key(key) -> tuple[str, str] | None:
    """(unit, period) from the page's store, or None when a direct POST sent something else."""
    if not isinstance(key, dict) or not isinstance(key.get("unit"), str) or not isinstance(key.get("period"), str):
        return None
    return key["unit"], key["period"]


@secure_callback(Output("branch-adj-msg", "children", allow_duplicate=True),
                 Output("branch-url", "search", allow_duplicate=True), Input("branch-adj-withdraw", "n_clicks"),
                 State("branch-key", "data"), State("branch-adj-withdraw-id", "value"), prevent_initial_call=True,
                 action="judge")
def _withdraw_adjustment(n_clicks, key, adj_id):
    if not n_clicks or _key(key) is None:
        return no_update, no_update
    try:
        services.withdraw_adjustment(current_principal(), int(adj_id))
    except (TypeError, ValueError):
        return make_alert("请选择要撤回的评分记录", "warning"), no_update
    except (services.InvalidInput, NotFound) as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert("已撤回并记入审计日志", "success"), _refresh(key)


@secure_callback(Output("branch-adj-msg", "children"), Output("branch-url", "search", allow_duplicate=True),
                 Input("branch-adj-save", "n_clicks"), State("branch-key", "data"), State("branch-adj-item", "value"),
                 State("branch-adj-kind", "value"), State("branch-adj-points", "value"),
                 State("branch-adj-reason", "value"), prevent_initial_call=True, action="judge")
def _save_adjustment(n_clicks, key, item, kind, points, reason):
    if not n_clicks or _key(key) is None:
        return no_update, no_update
    if not item:
        return make_alert("请选择指标", "warning"), no_update
    try:
        pts = None if points in (None, "") else float(points)
        services.set_adjustment(current_principal(), key.get("period"), key.get("unit"), item, kind or "",
                                pts, reason or "")
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    except (TypeError, ValueError):
        return make_alert("分值应为数字", "warning"), no_update
    from data.periods import not_due_warning

    not_due = not_due_warning(key.get("period"), item)
    if not_due:
        return make_alert("已保存并记入审计日志。注意：" + not_due, "warning"), _refresh(key)
    return make_alert("已保存并记入审计日志", "success"), _refresh(key)


@secure_callback(Output("branch-rect-msg", "children"), Output("branch-url", "search", allow_duplicate=True),
                 Input("branch-rect-add", "n_clicks"), Input("branch-rect-update", "n_clicks"),
                 State("branch-key", "data"), State("branch-rect-problem", "value"), State("branch-rect-item", "value"),
                 State("branch-rect-deadline", "value"), State("branch-rect-id", "value"),
                 State("branch-rect-action", "value"), State("branch-rect-note", "value"),
                 prevent_initial_call=True, action="rectify")
def _rectify(add_clicks, update_clicks, key, problem, item, deadline, rect_id, action, note):
    trigger = dash.ctx.triggered_id
    if _key(key) is None or trigger not in ("branch-rect-add", "branch-rect-update"):
        return no_update, no_update
    p = current_principal()
    try:
        if trigger == "branch-rect-add":
            if not add_clicks:
                return no_update, no_update
            try:
                due = dt.date.fromisoformat(str(deadline))
            except ValueError:
                return make_alert("请填写整改期限", "warning"), no_update
            services.add_rectification(p, key.get("period"), key.get("unit"), problem or "", due,
                                       item_code=item or None)
        else:
            if not update_clicks:
                return no_update, no_update
            if not str(rect_id or "").isdigit():
                return make_alert("请选择整改事项", "warning"), no_update
            services.update_rectification(p, int(rect_id), action or "", note or "")
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    except NotFound as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert("已保存并记入审计日志", "success"), _refresh(key)


@secure_callback(Output("branch-self-msg", "children"), Output("branch-url", "search", allow_duplicate=True),
                 Input("branch-self-save", "n_clicks"), State("branch-key", "data"), State("branch-self-item", "value"),
                 State("branch-self-points", "value"), State("branch-self-note", "value"),
                 prevent_initial_call=True, action="self_assess")
def _save_self(n_clicks, key, item, points, note):
    if not n_clicks or _key(key) is None:
        return no_update, no_update
    if not item or points in (None, ""):
        return make_alert("请选择指标并填写自评分", "warning"), no_update
    try:
        services.set_self_assessment(current_principal(), key.get("period"), key.get("unit"), item, points, note or "")
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert("自评分已保存", "success"), _refresh(key)
