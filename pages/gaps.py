"""差距分析: score rate per 一级指标, aggregated by 局 or 考核类别, with drill-down into a group's
units, the items most often failed per area, and each unit's gap-to-next-grade list.

Click a group row → that group's units; click a unit cell → the unit's detail at that area.
The heat map and the list are bounded (paged rows, at most ``GAP_LIST_LIMIT`` list rows), so the
page stays the same size at 40 or 10,000 units. Everything comes from ``services.gap_overview``.
"""
from __future__ import annotations

import math
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from auth import secure_callback
from components.cards import make_section
from components.charts import GRAPH_CONFIG, make_heatmap
from components.formats import GRADE_COLORS, fmt_points, round_half_up
from components.grids import grade_col, make_grid, number_col, text_col
from components.shell import make_empty, make_page_header, make_period_select
from data import services
from data.gap_views import GROUP_BY, GROUP_LABEL, HEAT_PAGE_ROWS, SORTS
from pages._access import open_page, period_options, period_search
from pages._regularity import regularity_section
from scoring.glossary import period_label

dash.register_page(__name__, path="/gaps", name="差距分析", title="差距分析 · 党建工作考核系统",
                   nav=True, nav_key="gaps", nav_order=2)

ALL_BUREAUS = "__all__"
GROUP_PREFIX = "group:"
AUTO = {"width": "auto"}  # the four selectors side by side  # customdata of a group row (a unit row carries the unit code)


def _auto(select):
    select.style = AUTO
    return select


def _page_number(page) -> int:
    try:
        return max(1, int(page))
    except (TypeError, ValueError):
        return 1


def _search(period_code: str, **params) -> str:
    return "?" + urlencode({"period": period_code, **{k: v for k, v in params.items() if v not in (None, "")}})


def layout(period: str | None = None, by: str | None = None, bureau: str | None = None, group: str | None = None,
           sort: str | None = None, page: str | None = None, **_):
    principal, period_code, error = open_page("gaps", period)
    if error:
        return error
    if bureau == ALL_BUREAUS:
        bureau = None
    g = services.gap_overview(principal, period_code, by=by or "bureau", bureau=bureau or None,
                              group=group or None, sort=sort or "gap", page=_page_number(page))
    by, bureau, group, sort = g["by"], g["bureau"], g["group"], g["sort"]
    header = make_page_header(
        "差距分析", f"{period_label(period_code)} · 对照党支部标准化规范化建设评价体系的各一级指标",
        right=[_auto(make_period_select("gaps-period", period_options(), period_code)),
               dbc.Select(id="gaps-by", value=by, size="sm", className="period-select", style=AUTO,
                          options=[{"label": v, "value": k} for k, v in GROUP_BY.items()]),
               dbc.Select(id="gaps-bureau", value=bureau or ALL_BUREAUS, size="sm", className="period-select",
                          style=AUTO, options=[{"label": "全部局", "value": ALL_BUREAUS}]
                          + [{"label": b, "value": b} for b in g["bureaus"]]),
               dbc.Select(id="gaps-sort", value=sort, size="sm", className="period-select", style=AUTO,
                          options=[{"label": v, "value": k} for k, v in SORTS.items()])])
    stores = [dcc.Location(id="gaps-url", refresh="callback-nav"),
              dcc.Store(id="gaps-period-store", data=period_code),
              dcc.Store(id="gaps-view-store", data={"by": by, "bureau": bureau, "group": group, "sort": sort})]
    if not g["rows"]:
        return html.Div([*stores, header, make_empty("本期暂无考核结果")])

    cols = g["areas"]
    area_names = g["area_names"]
    rows = g["rows"]
    z = [[None if v is None else round(v * 100, 1) for v in r["rates"]] for r in rows]
    unit_level = g["level"] == "unit"
    if unit_level:
        ylabels = [r["label"] for r in rows]
        custom = [[r["key"]] * len(cols) for r in rows]
        hover = "点击查看该单位"
    else:
        ylabels = [f"{r['label']}（{r['units']} 个单位）" for r in rows]
        custom = [[GROUP_PREFIX + r["key"]] * len(cols) for r in rows]
        hover = f"各单位得分率的平均值；点击查看该{GROUP_LABEL[by]}的单位"
    # Short two-line labels keep the axis readable at 1366 px; the hover shows the same text.
    xlabels = [f"{c}<br>{area_names[c][:5]}" + (f"<br>{area_names[c][5:10]}" if len(area_names[c]) > 5 else "")
               for c in cols]
    fig = make_heatmap(z, xlabels, ylabels, custom, hover_note=hover)

    what = "单位" if unit_level else GROUP_LABEL[by]
    title = (f"{group} · 各单位一级指标得分率（点击格子查看该单位）" if unit_level
             else f"各{GROUP_LABEL[by]}一级指标平均得分率（点击一行查看其单位）")
    crumbs = []
    if unit_level:
        crumbs.append(dcc.Link(f"‹ 返回全部{GROUP_LABEL[by]}", id="gaps-back", className="small",
                               href="/gaps" + _search(period_code, by=by, bureau=bureau, sort=sort)))
    pager = []
    if g["pages"] > 1:
        pager = [dbc.Pagination(id="gaps-page", max_value=g["pages"], active_page=g["page"], size="sm",
                                fully_expanded=False, first_last=True, previous_next=True, className="mb-0 mt-2")]
    first = (g["page"] - 1) * HEAT_PAGE_ROWS + 1
    count_note = html.Span(f"第 {first}–{first + len(rows) - 1} 个，共 {g['n_rows']} 个{what}",
                           className="small-muted", id="gaps-count")

    failed = g["failed"]
    per_area = []
    for c in cols:
        f = failed[failed["area"] == c]
        if f.empty:
            continue
        per_area.append(html.Li([html.Span(f"{c} {area_names[c]}：", className="fw-semibold"),
                                 "；".join(f"{r.item} {r.name}（{int(r.units_failed)} 个单位）" for r in f.itertuples())]))

    gaps = g["gaps"]
    gap_rows = [{"unit": r.unit, "name": r.name, "name_link": f"[{r.name}](/branch/{r.unit}?period={period_code})",
                 "grade": r.current_grade, "next": r.next_grade,
                 "needed": None if r.needed_total != r.needed_total else round_half_up(float(r.needed_total)),
                 "reach": "可达到" if r.reaches else "本期难以达到", "steps": r.steps}
                for r in gaps.itertuples(index=False)]
    gap_grid = make_grid("gaps-unit-grid", gap_rows, [
        text_col("name_link", "单位", 200, cellRenderer="markdown", tooltipField="name",
                 filterValueGetter={"function": "params.data.name"}),
        grade_col("grade", "等次", GRADE_COLORS, width=80), text_col("next", "目标", 80),
        number_col("needed", "还差（总分）", 100, headerTooltip="距下一等次还差的总分；提分清单中的可得分为指标原始分"),
        text_col("reach", "能否达到", 110),
        text_col("steps", "提分清单（★核心指标优先）", 420, flex=3, wrapText=True, autoHeight=True,
                 cellStyle={"lineHeight": "1.5", "paddingTop": "4px", "paddingBottom": "4px"}),
    ], height=520, row_id="unit", pagination=True, page_size=50) if gap_rows else make_empty("所有单位均已达到最高等次")
    n_gap = g["n_gap_units"]
    list_note = f"共 {n_gap} 个单位未达最高等次"
    if n_gap > len(gap_rows):
        list_note += f"，显示{SORTS[sort].replace('按', '按照')}的前 {len(gap_rows)} 个（请按局筛选或点击热力图查看其余单位）"
    mean_lost = g["mean_lost"]
    list_note += f"；平均失分 {fmt_points(mean_lost) if not math.isnan(mean_lost) else '—'} 分（原始分）"
    return html.Div([
        *stores, header,
        dbc.Row([
            dbc.Col(make_section(title, html.Div([
                html.Div(crumbs + [count_note], className="d-flex gap-3 align-items-center mb-1"),
                dcc.Graph(id="gaps-heatmap", figure=fig, config=GRAPH_CONFIG), *pager])), xl=8),
            dbc.Col(make_section("各一级指标最常失分的指标",
                                 html.Ul(per_area, className="gap-list mb-0", id="gaps-failed")
                                 if per_area else make_empty("没有失分项")), xl=4),
        ], className="g-3"),
        make_section("各单位距下一等次的提分清单", gap_grid,
                     right=html.Span(list_note, className="small-muted", id="gaps-list-note")),
        regularity_section(principal, period_code, bureau),
    ])


@secure_callback(Output("gaps-url", "search"), Input("gaps-period", "value"), Input("gaps-by", "value"),
                 Input("gaps-bureau", "value"), Input("gaps-sort", "value"), State("gaps-view-store", "data"),
                 prevent_initial_call=True, action="view_scores")
def _navigate(period_code, by, bureau, sort, view):
    """A new period, grouping or 局 starts from the top (no drill-down, first page); a new sort keeps
    the drill-down."""
    view = view if isinstance(view, dict) else {}
    group = view.get("group") if ctx.triggered_id == "gaps-sort" else None
    return period_search(period_code, by=by if by in GROUP_BY else None,
                         bureau=bureau if isinstance(bureau, str) and bureau != ALL_BUREAUS else None,
                         group=group if isinstance(group, str) else None,
                         sort=sort if sort in SORTS else None)


@secure_callback(Output("gaps-url", "href", allow_duplicate=True), Input("gaps-page", "active_page"),
                 State("gaps-period-store", "data"), State("gaps-view-store", "data"),
                 prevent_initial_call=True, action="view_scores")
def _turn_page(page, period_code, view):
    if not services.period_exists(period_code) or not isinstance(view, dict):
        return no_update
    clean = {k: view.get(k) for k in ("by", "bureau", "group", "sort") if isinstance(view.get(k), str)}
    return "/gaps" + _search(period_code, **clean, page=_page_number(page))


@secure_callback(Output("gaps-url", "href"), Input("gaps-heatmap", "clickData"), State("gaps-period-store", "data"),
                 State("gaps-view-store", "data"), prevent_initial_call=True, action="view_scores")
def _open(click, period_code, view):
    try:
        point = click["points"][0]
        key = str(point["customdata"])
        area = str(point["x"]).split("<br>")[0]
    except (TypeError, KeyError, IndexError):
        return no_update
    if not services.period_exists(period_code):
        return no_update
    if key.startswith(GROUP_PREFIX):
        view = view if isinstance(view, dict) else {}
        clean = {k: view.get(k) for k in ("by", "bureau", "sort") if isinstance(view.get(k), str)}
        return "/gaps" + _search(period_code, **clean, group=key[len(GROUP_PREFIX):])
    return f"/branch/{key}?" + urlencode({"period": period_code, "area": area})
