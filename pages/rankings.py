"""排名总览: ranking grid by period and category, grade and score distributions, KPI cards.

The layout reads everything from ``services`` (one scoring function); the period
and category live in the URL query so a link can be shared.
"""
from __future__ import annotations

import numpy as np

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_kpi_card
from components.charts import GRAPH_CONFIG, make_grade_bar, make_score_spread
from components.documents import make_doc_buttons
from components.formats import round_half_up, GRADE_COLORS, fmt_points, grade_color
from components.grids import grade_col, make_grid, make_server_grid, number_col, text_col
from components.shell import make_empty, make_page_header, make_period_select
from data import exports, grid_query, services
from data.models import PERIOD_STATUSES
from pages._access import open_page, period_options, period_search
from pages._documents import RANKINGS as DOC_BUTTONS
from scoring.glossary import period_label

dash.register_page(__name__, path="/", name="排名总览", title="排名总览 · 党建工作考核系统",
                   nav=True, nav_key="rankings", nav_order=1)

ALL = "全部"
SERVER_ROWS = 2000  # above this many units the grid keeps its rows on the server (infinite row model)


def _nullable(values: np.ndarray) -> list:
    """Floats rounded half up to 2 places (as the detail page and exports show them), NaN as None."""
    return [None if np.isnan(x) else round_half_up(x) for x in values.astype(float).tolist()]


def _rows(df, period_code: str) -> list[dict]:
    """Grid rows, built column-wise from plain lists (10,000 units in a few tens of ms)."""
    units = df["unit"].astype(object).tolist()
    names = df["name"].astype(object).tolist()
    cols = {
        "unit": units, "rank": df["rank"].astype(int).tolist(),
        "rank_in_category": df["rank_in_category"].astype(int).tolist(),
        "name": [f"[{n}](/branch/{u}?period={period_code})" for n, u in zip(names, units)],
        "name_text": names, "category": df["category"].astype(object).tolist(),
        "total": _nullable(df["total"].to_numpy()), "grade": df["grade"].astype(object).tolist(),
        "core": [f"{m}/{d}" for m, d in zip(df["core_met"].astype(int).tolist(), df["core_due"].astype(int).tolist())],
        "delta": _nullable(df["delta"].to_numpy()),
        "veto": ["否决" if v else "" for v in df["veto"].astype(bool).tolist()],
        "veto_reason": df["veto_reason"].fillna("").astype(object).tolist(),
        "grade_reason": df["grade_reason"].fillna("").astype(object).tolist() if "grade_reason" in df
        else [""] * len(units),
    }
    keys = list(cols)
    return [dict(zip(keys, row)) for row in zip(*cols.values())]


def _grid_frame(df):
    """The grid's sortable and filterable values as a frame (server-side row model): vectorised."""
    out = df[["unit", "rank", "rank_in_category", "name", "category", "grade"]].copy()
    out["name_text"] = out["name"]
    out["total"] = df["total"].round(2)
    out["delta"] = df["delta"].round(2)
    out["core"] = df["core_met"].astype(int).astype(str) + "/" + df["core_due"].astype(int).astype(str)
    out["veto"] = df["veto"].astype(bool).map({True: "否决", False: ""})
    return out


def _server_rows(principal, view, request):
    """(rows of one block, total count) for the infinite row model, as the grid's request asks."""
    view = view if isinstance(view, dict) else {}
    period_code, category = view.get("period"), view.get("category")
    if not services.period_exists(period_code):
        return [], 0
    df = services.rankings(principal, period_code, category if isinstance(category, str) else None)
    request = request if isinstance(request, dict) else {}
    frame = grid_query.query(_grid_frame(df), request.get("sortModel"), request.get("filterModel"),
                             aliases={"name": "name_text"})
    block, total = grid_query.window(frame, request)
    return _rows(df.set_index("unit").loc[block["unit"]].reset_index(), period_code), total


def _summary_rows(summary) -> list[dict]:
    rows = []
    for r in summary.itertuples(index=False):
        if r.kind == "bool":
            text = f"{int(r.figure)} 个单位"
        elif r.kind == "percent":
            text = "—" if r.figure != r.figure else f"{r.figure:.1f}%"
        else:
            text = f"{r.figure:,.1f}".rstrip("0").rstrip(".") + f" {r.unit}"
        rows.append({"label": r.label, "how": r.how, "figure": text, "reported": f"{r.reported} / {r.units}"})
    return rows


def _columns(prev_label: str | None = None) -> list[dict]:
    return [
        number_col("rank", "总排名", 100, places=0, sort="asc"),
        number_col("rank_in_category", "类别排名", 90, places=0),
        text_col("name", "单位名称", 220, cellRenderer="markdown", tooltipField="name_text",
                 filterValueGetter={"function": "params.data.name_text"}, flex=2),
        text_col("category", "类别", 120),
        number_col("total", "总分", 90),
        {**grade_col("grade", "等次", GRADE_COLORS), "tooltipField": "grade_reason"},  # 定级依据 on hover
        text_col("core", "★达标", 80, headerTooltip="★核心指标达标项数 / 应考核项数"),
        number_col("delta", f"较{prev_label}" if prev_label else "较上期", 120,
                   headerTooltip=(f"与{prev_label}的总分之差（同类考核期相比）" if prev_label
                                  else "没有同类的上一考核期"), cellStyle={"styleConditions": [
            {"condition": "params.value > 0", "style": {"color": "#c0392b"}},
            {"condition": "params.value < 0", "style": {"color": "#1e8449"}}]},
            valueFormatter={"function": "params.value == null ? '—' : (params.value > 0 ? '▲ ' : "
                                        "(params.value < 0 ? '▼ ' : '')) + d3.format('.2f')(Math.abs(params.value))"}),
        text_col("veto", "一票否决", 90, tooltipField="veto_reason",
                 cellStyle={"styleConditions": [{"condition": "params.value", "style": {
                     "color": "#fff", "backgroundColor": "#212529", "fontWeight": "600"}}]}),
    ]


def layout(period: str | None = None, category: str | None = None, bureau: str | None = None, **_):
    principal, period_code, error = open_page("rankings", period)
    if error:
        return error
    bureaus = services.bureaus_of(period_code)
    bureau = bureau if bureau in bureaus else None
    all_df = services.rankings(principal, period_code, bureau=bureau)
    # Tabs only for categories the user can see units in (staff see their own units only).
    # Masks compared once on object arrays: a str column's == costs a few ms at 10,000 units each time.
    unit_category = all_df["category"].to_numpy(object)
    in_category = {c: unit_category == c for c in services.categories(period_code)}
    cats = [c for c, m in in_category.items() if m.any()]
    if category and category not in cats:
        category = None
    df = all_df if not category else all_df[in_category[category]]
    kpi = services.kpis(principal, period_code, ranking=all_df)
    table = services.table_for_period(period_code)
    grades = table.grade_order()
    unit_grade = all_df["grade"].to_numpy(object)
    counts = [int((unit_grade == g).sum()) for g in grades]
    groups = {c: all_df.loc[in_category[c], "total"].round(2).to_numpy() for c in cats}
    names = {c: all_df.loc[in_category[c], "name"].to_numpy(dtype=object) for c in cats}
    prev = services.previous_period_code(period_code, same_kind=True)
    top = grades[0] if grades else "优秀"

    publish = []
    if principal.can("publish"):
        status = services.get_period_info(period_code).status
        publish = [dbc.Select(id="rankings-status", value=status, size="sm", className="period-select",
                              options=[{"label": f"状态：{v}", "value": v} for v in PERIOD_STATUSES]),
                   dbc.Button("更新状态", id="rankings-status-save", color="secondary", outline=True, size="sm"),
                   html.Span(id="rankings-status-msg", className="small-muted")]
    header = make_page_header(
        "排名总览", f"{period_label(period_code)} · 指标体系 {table.version} 版 · "
                    + (f"「较上期」对比 {period_label(prev)}" if prev else "无同类上期（「较上期」不比较上半年与全年）"),
        right=[make_period_select("rankings-period", period_options(), period_code),
               dbc.Select(id="rankings-bureau", value=bureau or ALL, size="sm", className="period-select",
                          options=[{"label": "全部局", "value": ALL}] + [{"label": b, "value": b} for b in bureaus]),
               *publish,
               dbc.Button("导出 Excel", id="rankings-export", color="danger", outline=True, size="sm",
                          disabled=df.empty),
               dcc.Download(id="rankings-download"), make_doc_buttons("rankings", DOC_BUTTONS)])
    kpis = dbc.Row([
        dbc.Col(make_kpi_card("参加考核单位", f"{kpi['units']} 个", id_="rankings-kpi-units"), md=3, xs=6),
        dbc.Col(make_kpi_card("平均分", fmt_points(kpi["average"]), id_="rankings-kpi-average"), md=3, xs=6),
        dbc.Col(make_kpi_card(f"{top}单位", f"{kpi['top_grade_count']} 个",
                              accent=grade_color(top) if kpi["top_grade_count"] else None,
                              note=f"一票否决 {kpi['vetoed']} 个", id_="rankings-kpi-top"), md=3, xs=6),
        dbc.Col(dcc.Link(make_kpi_card("逾期未销号整改", f"{kpi['overdue_rectifications']} 项",
                                       accent="#b71c1c" if kpi["overdue_rectifications"] else None,
                                       note="查看整改台账 ›", id_="rankings-kpi-overdue"),
                         href="/rectifications", className="text-decoration-none text-reset"), md=3, xs=6),
    ], className="g-3 mb-3")
    tabs = dbc.Tabs([dbc.Tab(label=ALL, tab_id=ALL)] + [dbc.Tab(label=c, tab_id=c) for c in cats],
                    id="rankings-tabs", active_tab=category or ALL, className="mb-2")
    prev_label = period_label(prev) if prev else None
    if not len(df):
        grid = make_empty("本期尚无数据：数据上传后才评定等次、排名")
    elif len(df) > SERVER_ROWS:  # thousands of units: rows are fetched block by block as the user scrolls
        grid = make_server_grid("rankings-grid", _columns(prev_label), height=620, row_id="unit")
    else:
        grid = make_grid("rankings-grid", _rows(df, period_code), _columns(prev_label), height=620, row_id="unit",
                         keep_sort=True)
    # Beside the grid on wide screens (≥1400 px); below it, side by side, on a 1366 px laptop so the
    # grid keeps room for every column.
    charts = make_empty("尚无数据，不绘制分布图") if all_df.empty else dbc.Row([
        dbc.Col(dbc.Card([dbc.CardHeader("等次分布"), dbc.CardBody(dcc.Graph(
            id="rankings-grade-chart", figure=make_grade_bar(grades, counts, [grade_color(g, i) for i, g in
                                                                               enumerate(grades)]),
            config=GRAPH_CONFIG))], className="h-100"), xxl=12, md=6),
        dbc.Col(dbc.Card([dbc.CardHeader("分类得分分布"), dbc.CardBody(dcc.Graph(
            id="rankings-spread-chart", figure=make_score_spread(groups, names), config=GRAPH_CONFIG))],
            className="h-100"), xxl=12, md=6),
    ], className="g-3")
    # Collapsed, and filled when opened (``_summary``): the totals of 40 fields over every unit are
    # recomputed after each upload, and most views of the ranking never open them.
    n_scope = len(services.visible_units(principal, period_code))
    summary_box = dbc.Accordion([dbc.AccordionItem(
        html.Div(make_empty("展开后加载……"), id="rankings-summary-body"),
        title=f"本期工作量统计（{n_scope} 个单位的填报数据汇总，可用于撰写工作总结）",
        item_id="summary")], start_collapsed=True, className="mt-3", id="rankings-summary")
    empty_note = None
    missing = services.units_without_data(principal, period_code)
    if len(missing) and all_df.empty:
        empty_note = dbc.Alert(f"{period_label(period_code)}尚无数据。尚无填报数据的单位不评定等次、不排名，"
                               "数据上传后自动计分。", color="warning", className="py-2", id="rankings-no-data")
    elif len(missing):
        empty_note = dbc.Alert(f"另有 {len(missing)} 个单位尚无数据，不评定等次、不参与排名："
                               + "、".join(missing["name"].astype(str).head(8))
                               + ("等" if len(missing) > 8 else "") + "。",
                               color="secondary", className="py-2", id="rankings-no-data")
    pub_note = _publication_note(period_code)
    if pub_note is not None:
        empty_note = html.Div([pub_note, empty_note]) if empty_note is not None else pub_note
    return html.Div([
        dcc.Location(id="rankings-url", refresh="callback-nav"),
        dcc.Store(id="rankings-view", data={"period": period_code, "category": category,
                                            "server": len(df) > SERVER_ROWS}),
        header, empty_note, kpis,
        dbc.Row([
            dbc.Col([tabs, grid, html.Div("点击单位名称查看支部详情；表头可排序、筛选；导出内容与当前显示一致。",
                                          className="small-muted mt-1")], xxl=8, xs=12),
            dbc.Col(charts, xxl=4, xs=12, className="mt-3 mt-xxl-0"),
        ], className="g-3"),
        summary_box,
    ])


def _publication_note(period_code: str):
    """A published period: which publication is shown, by whom, and what changed since the previous one."""
    info = services.get_period_info(period_code)
    if info.status != PERIOD_STATUSES[-1]:
        return None
    from data import publication

    snap = publication.snapshot(period_code)
    lines = publication.describe_changes(snap.summary, limit=10)
    return dbc.Alert([html.Div(f"已发布的考核结果（不再变动）· {publication.describe(snap)}", className="fw-semibold"),
                      html.Div("\n".join(lines), className="pre-line small mt-1") if lines else None],
                     color="secondary", className="py-2", id="rankings-publication")


@secure_callback(Output("rankings-url", "search"), Input("rankings-period", "value"),
                 Input("rankings-tabs", "active_tab"), Input("rankings-bureau", "value"), prevent_initial_call=True,
                 action="view_scores")
def _navigate(period_code, tab, bureau=None):
    return period_search(period_code, category=tab if tab != ALL else None,
                         bureau=bureau if isinstance(bureau, str) and bureau != ALL else None)


@secure_callback(Output("rankings-summary-body", "children"), Input("rankings-summary", "active_item"),
                 State("rankings-period", "value"), prevent_initial_call=True, action="view_scores")
def _summary(active_item, period_code):
    if active_item != "summary" or not isinstance(period_code, str) or not services.period_exists(period_code):
        return no_update
    summary = services.evidence_summary(current_principal(), period_code)
    return make_grid("rankings-summary-grid", _summary_rows(summary), [
        text_col("label", "数据项", 200, flex=2), text_col("how", "统计方式", 150),
        text_col("figure", "数值", 140, type="rightAligned"), text_col("reported", "填报单位数", 120)], height=420)


@secure_callback(Output("rankings-grid", "getRowsResponse"), Input("rankings-grid", "getRowsRequest"),
                 State("rankings-view", "data"), prevent_initial_call=True, action="view_scores")
def _rows_block(request, view):
    rows, total = _server_rows(current_principal(), view, request)
    return {"rowData": rows, "rowCount": total}


@secure_callback(Output("rankings-download", "data"), Input("rankings-export", "n_clicks"),
                 State("rankings-grid", "virtualRowData"), State("rankings-period", "value"),
                 State("rankings-grid", "getRowsRequest"), State("rankings-view", "data"),
                 prevent_initial_call=True, action="view_scores")
def _export(n_clicks, shown_rows, period_code, request, view):
    if not n_clicks or not services.period_exists(period_code):
        return no_update
    # Only the codes and their order come from the browser; every figure is re-read on the server.
    codes = [r.get("unit") for r in (shown_rows or []) if isinstance(r, dict)]
    if isinstance(view, dict) and view.get("server"):  # rows on the server: the grid's sort and filter
        req = request if isinstance(request, dict) else {}
        df = services.rankings(current_principal(), period_code,
                               view.get("category") if isinstance(view.get("category"), str) else None)
        codes = grid_query.query(_grid_frame(df), req.get("sortModel"), req.get("filterModel"),
                                 aliases={"name": "name_text"})["unit"].tolist()
    data = exports.rankings_xlsx(current_principal(), period_code, codes)
    return dcc.send_bytes(data, f"排名总览_{period_code}.xlsx")


@secure_callback(Output("rankings-status-msg", "children"), Input("rankings-status-save", "n_clicks"),
                 State("rankings-period", "value"), State("rankings-status", "value"), prevent_initial_call=True,
                 action="publish")
def _publish(n_clicks, period_code, status):
    if not n_clicks or not services.period_exists(period_code):
        return no_update
    if status not in PERIOD_STATUSES:
        return "状态无效"
    try:
        services.set_period_status(current_principal(), period_code, status)
    except services.InvalidInput as exc:
        return str(exc)
    if status == PERIOD_STATUSES[-1]:
        from data import publication

        snap = publication.snapshot(period_code)
        changes = publication.describe_changes(snap.summary, limit=5)
        return html.Span([f"已发布（{snap.label}，已记入审计日志）", *(
            [html.Br(), html.Span("\n".join(changes), className="pre-line")] if changes else [])],
            id="rankings-publish-result")
    return f"已更新为「{status}」（已记入审计日志）"
