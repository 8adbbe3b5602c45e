"""填报进度: which units have reported for a period, which have not, which still have blank fields,
and how many days are left to the 填报截止日期; the 催报 list exports as .xlsx.

Inspectors and admins see every unit, staff their own (the service scopes the rows). Thin:
``data.periods.progress`` computes everything.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_kpi_card, make_section
from components.formats import fmt_datetime
from components.grids import make_grid, text_col
from components.shell import make_empty, make_page_header, make_period_select
from data import periods, services
from pages._access import open_page, period_options, period_search
from scoring.glossary import period_label

dash.register_page(__name__, path="/progress", name="填报进度", title="填报进度 · 党建工作考核系统",
                   nav=True, nav_key="progress", nav_order=4.5)

_STATUS_STYLE = {"styleConditions": [
    {"condition": f"params.value === '{periods.NOT_YET}'", "style": {"color": "#b71c1c", "fontWeight": "600"}},
    {"condition": f"params.value === '{periods.PARTIAL}'", "style": {"color": "#9a6700", "fontWeight": "600"}}]}


def _grid(prog: periods.Progress):
    rows = [{"unit": r.unit, "unit_name": r.name, "bureau": r.bureau, "status": r.status,
             "filled": f"{int(r.n_filled)} / {int(r.n_due)}", "n_filled": int(r.n_filled),
             "blank": (f"全部 {int(r.n_due)} 项未填" if r.status == periods.NOT_YET else r.blank_fields or "—"), "last": fmt_datetime(r.last_upload) if r.last_upload is not None
             and r.last_upload == r.last_upload else "—", "uploader": r.uploader or "—"}
            for r in prog.units.itertuples()]
    return make_grid("progress-grid", rows, [
        text_col("unit", "单位编码", 118), text_col("unit_name", "单位名称", 190),
        text_col("bureau", "所属局", 110), text_col("status", "填报状态", 130, cellStyle=_STATUS_STYLE),
        text_col("filled", "已填/应填", 124),
        text_col("blank", "未填数据项", 300, flex=2, wrapText=True, autoHeight=True,
                 cellStyle={"lineHeight": "1.5", "display": "flex", "alignItems": "center"}),
        text_col("last", "最近上传", 150), text_col("uploader", "上传人", 100)],
        height=560, pagination=True, row_id="unit")


def layout(period: str | None = None, **_):
    principal, period_code, error = open_page("progress", period)
    if error:
        return error
    prog = periods.progress(principal, period_code)
    c = prog.counts
    scope = "全部单位" if principal.sees_all_units else f"您负责的 {len(principal.unit_codes)} 个单位"
    left = prog.days_left
    accent = "#b71c1c" if left is not None and left < 0 else ("#9a6700" if left is not None and left <= 3 else None)
    cards = html.Div([
        make_kpi_card("填报截止", prog.deadline.isoformat() if prog.deadline else "未设",
                      prog.deadline_text, id_="progress-deadline", accent=accent),
        make_kpi_card(periods.NOT_YET, f"{c[periods.NOT_YET]} 个", id_="progress-not-yet",
                      accent="#b71c1c" if c[periods.NOT_YET] else None),
        make_kpi_card(periods.PARTIAL, f"{c[periods.PARTIAL]} 个", id_="progress-partial"),
        make_kpi_card(periods.SUBMITTED, f"{c[periods.SUBMITTED]} / {c['units']} 个", id_="progress-done"),
    ], className="d-grid gap-3 mb-3", style={"gridTemplateColumns": "repeat(4, 1fr)"})
    late = ("截止后上传将被拒绝" if prog.late_policy == "refuse" else "截止后仍可上传，但给出逾期警告")
    header = make_page_header(
        "填报进度", f"{period_label(period_code)} · {scope} · {late}",
        right=[make_period_select("progress-period", period_options(), period_code),
               dbc.Button("导出催报名单", id="progress-export", color="danger", outline=True, size="sm",
                          disabled=c[periods.NOT_YET] + c[periods.PARTIAL] == 0),
               dcc.Download(id="progress-download")])
    body = (_grid(prog) if len(prog.units) else make_empty("本考核期没有需要填报的单位"))
    return html.Div([
        dcc.Location(id="progress-url", refresh="callback-nav"),
        dcc.Store(id="progress-period-store", data=period_code),
        header, cards,
        make_section("各单位填报情况（未报送、有数据项未填的在前）", [
            html.P("「应填」为本考核期到期的基础指标所用的数据项（加分项、一票否决项和上半年不到期的年度指标不计）；"
                   "填「清除」撤回的数值按未填计。", className="small-muted mb-2"),
            body]),
    ])


@secure_callback(Output("progress-url", "search"), Input("progress-period", "value"), prevent_initial_call=True,
                 action="view_progress")
def _navigate(period_code):
    return period_search(period_code)


@secure_callback(Output("progress-download", "data"), Input("progress-export", "n_clicks"),
                 State("progress-period-store", "data"), prevent_initial_call=True, action="view_progress")
def _export(n_clicks, period_code):
    if not n_clicks or not isinstance(period_code, str) or not services.period_exists(period_code):
        return no_update
    data = periods.reminder_xlsx(current_principal(), period_code)
    return dcc.send_bytes(data, f"催报名单_{period_code}.xlsx")
