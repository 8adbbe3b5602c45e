"""差距分析: units × areas heat map of the standardization system, the items most often
failed per area, and each unit's gap-to-next-grade list. Click a cell → the unit's detail."""
from __future__ import annotations

import math
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import secure_callback
from components.cards import make_section
from components.charts import GRAPH_CONFIG, make_heatmap
from components.formats import round_half_up, GRADE_COLORS, fmt_points
from components.grids import grade_col, make_grid, number_col, text_col
from components.shell import make_empty, make_page_header, make_period_select
from data import services
from pages._access import open_page, period_options, period_search
from scoring.glossary import period_label

dash.register_page(__name__, path="/gaps", name="差距分析", title="差距分析 · 党建工作考核系统",
                   nav=True, nav_key="gaps", nav_order=2)

SORTS = {"gap": "按总差距（失分多的在前）", "rank": "按排名", "code": "按单位编码"}


def layout(period: str | None = None, sort: str | None = None, **_):
    principal, period_code, error = open_page("gaps", period)
    if error:
        return error
    sort = sort if sort in SORTS else "gap"
    g = services.gap_overview(principal, period_code)
    heat, names, area_names = g["heat"], g["names"], g["area_names"]
    res_units = services.rankings(principal, period_code).set_index("unit")
    header = make_page_header("差距分析", f"{period_label(period_code)} · 对照党支部标准化规范化建设评价体系的各一级指标",
                              right=[make_period_select("gaps-period", period_options(), period_code),
                                     dbc.Select(id="gaps-sort", value=sort, size="sm", className="period-select",
                                                options=[{"label": v, "value": k} for k, v in SORTS.items()])])
    if heat.empty:
        return html.Div([dcc.Location(id="gaps-url", refresh="callback-nav"), header, make_empty("本期暂无考核结果")])
    lost = g["lost"].groupby("unit")["lost"].sum()
    units = list(heat.index)
    if sort == "gap":
        units.sort(key=lambda u: (-float(lost.get(u, 0)), u))
    elif sort == "rank":
        units.sort(key=lambda u: (int(res_units.loc[u, "display_order"]) if u in res_units.index else 10**9, u))
    else:
        units.sort()
    cols = [c for c in area_names if c in heat.columns]
    z = [[None if math.isnan(heat.loc[u, c]) else round(float(heat.loc[u, c]) * 100, 1) for c in cols] for u in units]
    ylabels = [f"{names.get(u, u)}（{u}）" for u in units]
    custom = [[u for _ in cols] for u in units]
    # Short two-line labels keep the axis readable at 1366 px; the hover shows the same text.
    xlabels = [f"{c}<br>{area_names[c][:5]}" + (f"<br>{area_names[c][5:10]}" if len(area_names[c]) > 5 else "")
               for c in cols]
    fig = make_heatmap(z, xlabels, ylabels, custom)

    failed = g["failed"]
    per_area = []
    for c in cols:
        f = failed[failed["area"] == c].head(3)
        if f.empty:
            continue
        per_area.append(html.Li([html.Span(f"{c} {area_names[c]}：", className="fw-semibold"),
                                 "；".join(f"{r.item} {r.name}（{int(r.units_failed)} 个单位）" for r in f.itertuples())]))
    gaps = g["gaps"]
    gap_rows = []
    if len(gaps) and "need" in gaps:
        for unit, grp in gaps.groupby("unit", sort=False):
            first = grp.iloc[0]
            steps = [f"{r.item} {r.need}" for r in grp.itertuples() if r.item]
            gap_rows.append({"unit": unit, "name": names.get(unit, unit),
                             "name_link": f"[{names.get(unit, unit)}](/branch/{unit}?period={period_code})",
                             "grade": first["current_grade"], "next": first["next_grade"],
                             "needed": round_half_up(float(first["needed_total"]))
                             if not math.isnan(first["needed_total"]) else None,
                             "reach": "可达到" if bool(grp["reaches"].any()) else "本期难以达到",
                             "steps": "；".join(steps) if steps else first["need"]})
    gap_grid = make_grid("gaps-unit-grid", gap_rows, [
        text_col("name_link", "单位", 200, cellRenderer="markdown", tooltipField="name",
                 filterValueGetter={"function": "params.data.name"}),
        grade_col("grade", "等次", GRADE_COLORS, width=80), text_col("next", "目标", 80),
        number_col("needed", "还差（总分）", 100, headerTooltip="距下一等次还差的总分；提分清单中的可得分为指标原始分"), text_col("reach", "能否达到", 110),
        text_col("steps", "提分清单（★核心指标优先）", 420, flex=3, wrapText=True, autoHeight=True,
                 cellStyle={"lineHeight": "1.5", "paddingTop": "4px", "paddingBottom": "4px"}),
    ], height=520, row_id="unit") if gap_rows else make_empty("所有单位均已达到最高等次")
    return html.Div([
        dcc.Location(id="gaps-url", refresh="callback-nav"),
        dcc.Store(id="gaps-period-store", data=period_code),
        header,
        dbc.Row([
            dbc.Col(make_section("各单位一级指标得分率（点击格子查看该单位）",
                                 dcc.Graph(id="gaps-heatmap", figure=fig, config=GRAPH_CONFIG)), xl=8),
            dbc.Col(make_section("各一级指标最常失分的指标",
                                 html.Ul(per_area, className="gap-list mb-0", id="gaps-failed")
                                 if per_area else make_empty("没有失分项")), xl=4),
        ], className="g-3"),
        make_section("各单位距下一等次的提分清单", gap_grid, right=html.Span(
            f"共 {len(gap_rows)} 个单位未达最高等次；平均失分 {fmt_points(float(lost.mean()))} 分（原始分）",
            className="small-muted")),
    ])


@secure_callback(Output("gaps-url", "search"), Input("gaps-period", "value"), Input("gaps-sort", "value"),
                 prevent_initial_call=True, action="view_scores")
def _navigate(period_code, sort):
    return period_search(period_code, sort=sort if sort in SORTS else "gap")


@secure_callback(Output("gaps-url", "href"), Input("gaps-heatmap", "clickData"), State("gaps-period-store", "data"),
                 prevent_initial_call=True, action="view_scores")
def _open_unit(click, period_code):
    try:
        point = click["points"][0]
        unit = str(point["customdata"])
        area = str(point["x"]).split("<br>")[0]
    except (TypeError, KeyError, IndexError):
        return no_update
    if not services.period_exists(period_code):
        return no_update
    return f"/branch/{unit}?" + urlencode({"period": period_code, "area": area})
