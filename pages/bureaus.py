"""各局对比: each 局's units, average total, grade distribution and change from the last period of the
same kind, for leaders, inspectors and admins. Every figure comes from ``data.bureaus`` (which reads
``services.score_period``); a 局 links to the ranking filtered by it."""
from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from auth import secure_callback
from components.charts import GRAPH_CONFIG
from components.formats import GRADE_COLORS, round_half_up
from components.grids import make_grid, number_col, text_col
from components.org import make_bureau_bars
from components.shell import make_empty, make_page_header, make_period_select
from data.bureaus import bureau_comparison
from pages._access import open_page, period_options, period_search
from scoring.glossary import period_label

dash.register_page(__name__, path="/bureaus", name="各局对比", title="各局对比 · 党建工作考核系统",
                   nav=True, nav_key="bureaus", nav_order=1.5)


def _num(v):
    return None if v is None or v != v else round_half_up(float(v))


def layout(period: str | None = None, **_):
    principal, period_code, error = open_page("bureaus", period)
    if error:
        return error
    data = bureau_comparison(principal, period_code)
    df, grades, prev = data["rows"], data["grades"], data["previous"]
    header = make_page_header(
        "各局对比", f"{period_label(period_code)} · " + (f"较上期对比 {period_label(prev)}" if prev else "无上一同类考核期"),
        right=[make_period_select("bureaus-period", period_options(), period_code)])
    if df.empty:
        return html.Div([dcc.Location(id="bureaus-url", refresh="callback-nav"), header,
                         make_empty("本期没有参加考核的单位")])
    rows = []
    for r in df.to_dict("records"):
        link = "/?" + urlencode({"period": period_code, "bureau": r["bureau"]})
        rows.append({"rank": r["rank"], "bureau": f"[{r['bureau']}]({link})", "bureau_text": r["bureau"],
                     "level": r["level"], "units": r["units"], "average": _num(r["average"]),
                     "delta": _num(r["delta"]), "best": _num(r["best"]), "worst": _num(r["worst"]),
                     "vetoed": r["vetoed"], **{f"g{i}": r[f"grade:{g}"] for i, g in enumerate(grades)}})
    nofilter = {"filter": False, "headerClass": "nowrap"}
    cols = [number_col("rank", "名次", 76, places=0, **nofilter),
            text_col("bureau", "所属局", 150, cellRenderer="markdown",
                     filterValueGetter={"function": "params.data.bureau_text"}),
            text_col("level", "层级", 76, **nofilter), number_col("units", "单位数", 90, places=0, **nofilter),
            number_col("average", "平均分", 96, **nofilter),
            number_col("delta", "较上期", 96, **nofilter, valueFormatter={"function": (
                "params.value == null ? '—' : (params.value > 0 ? '▲ ' : (params.value < 0 ? '▼ ' : '')) "
                "+ d3.format('.2f')(Math.abs(params.value))")}),
            number_col("best", "最高分", 90, **nofilter), number_col("worst", "最低分", 90, **nofilter)]
    cols += [number_col(f"g{i}", g, 84, places=0, **nofilter,
                        cellStyle={"color": GRADE_COLORS.get(g, "#333")}) for i, g in enumerate(grades)]
    cols.append(number_col("vetoed", "一票否决", 96, places=0, **nofilter))
    grid = make_grid("bureaus-grid", rows, cols, height=min(620, 60 + 42 * len(rows)), row_id="bureau_text")
    fig = make_bureau_bars(df["bureau"].tolist(), df["average"].astype(float).tolist(),
                           [None if d != d else float(d) for d in df["delta"].tolist()])
    return html.Div([
        dcc.Location(id="bureaus-url", refresh="callback-nav"), header,
        dbc.Row([
            dbc.Col(dbc.Card([dbc.CardHeader("各局得分与等次分布"), dbc.CardBody([
                grid, html.Div("平均分为该局参加本期考核单位总分的平均；「较上期」与上一个同类考核期的平均分相比；"
                               "点击局名查看该局的排名。", className="small-muted mt-1")])]), xxl=8, xs=12),
            dbc.Col(dbc.Card([dbc.CardHeader("平均总分"), dbc.CardBody(dcc.Graph(
                id="bureaus-chart", figure=fig, config=GRAPH_CONFIG))]), xxl=4, xs=12),
        ], className="g-3"),
    ])


@secure_callback(Output("bureaus-url", "search"), Input("bureaus-period", "value"), prevent_initial_call=True,
                 action="view_bureaus")
def _navigate(period_code):
    return period_search(period_code)
