"""先进推荐: the 先进基层党组织 shortlist from the engine with reasons, near-misses with why,
the quota used; inspectors mark 推荐 / 不推荐 with a note; export of the list."""
from __future__ import annotations

import math
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from components.formats import round_half_up, GRADE_COLORS
from components.grids import grade_col, make_grid, number_col, text_col
from components.shell import make_empty, make_page_header, make_period_select
from data import exports, services
from pages._access import open_page, period_options, period_search
from scoring.candidates import period_note
from scoring.glossary import period_label

dash.register_page(__name__, path="/candidates", name="先进推荐", title="先进推荐 · 党建工作考核系统",
                   nav=True, nav_key="candidates", nav_order=3)


def _rows(df, period_code: str) -> list[dict]:
    rows = []
    for r in df.to_dict("records"):
        total = r.get("total")
        rows.append({"unit": r["unit"], "name": r["name"],
                     "name_link": f"[{r['name']}](/branch/{r['unit']}?period={period_code})",
                     "category": r.get("category"), "rank_in_category": r.get("rank_in_category"),
                     "total": None if total is None or (isinstance(total, float) and math.isnan(total))
                     else round_half_up(float(total)), "grade": r.get("grade"), "status": r.get("status"),
                     "reason": r.get("reason"), "quota": r.get("quota"),
                     "decision": r.get("decision") or "", "decision_note": r.get("decision_note") or ""})
    return rows


def _columns() -> list[dict]:
    return [
        text_col("status", "结果", 86, cellStyle={"styleConditions": [
            {"condition": "params.value === '候选'", "style": {"color": "#b71c1c", "fontWeight": "700"}}]}),
        text_col("name_link", "单位", 190, cellRenderer="markdown", tooltipField="name",
                 filterValueGetter={"function": "params.data.name"}),
        text_col("category", "类别", 110), number_col("rank_in_category", "类别排名", 100, places=0),
        number_col("total", "总分", 80), grade_col("grade", "等次", GRADE_COLORS),
        text_col("reason", "理由", 360, flex=3, wrapText=True, autoHeight=True,
                 cellStyle={"lineHeight": "1.5", "paddingTop": "4px", "paddingBottom": "4px"}),
        text_col("decision", "考核组意见", 116), text_col("decision_note", "意见说明", 160, wrapText=True),
    ]


def layout(period: str | None = None, **_):
    principal, period_code, error = open_page("candidates", period)
    if error:
        return error
    table = services.table_for_period(period_code)
    info = services.get_period_info(period_code)
    df = services.candidate_list(principal, period_code)
    note = period_note(table, info.kind)
    rules = table.candidates
    cond = (f"条件：等次「{rules.grade}」；名额为各类别单位数的 {rules.quota_pct:g}%（向下取整，至少 {rules.quota_min} 个）"
            + ("；★核心指标全部达标" if rules.require_core else "")
            + ("；无逾期未销号整改" if rules.no_overdue_rectification else "")
            + (f"；上年度「{rules.previous_min_grade}」及以上" if rules.previous_min_grade else "") + "；无一票否决。")
    header = make_page_header(f"{rules.title}推荐", f"{period_label(period_code)} · 按指标体系 {table.version} 版的评先条件",
                              right=[make_period_select("candidates-period", period_options(), period_code),
                                     dbc.Button("导出 Excel", id="candidates-export", color="danger", outline=True,
                                                size="sm", disabled=not len(df),
                                                title="名单为空，无可导出内容" if not len(df) else None),
                                     dcc.Download(id="candidates-download")])
    n_cand = int((df["status"] == "候选").sum()) if len(df) else 0
    quotas = (df.drop_duplicates("category")[["category", "quota", "category_units"]]
              if len(df) and "quota" in df else None)
    quota_text = ("；".join(f"{r.category} {int(r.category_units)} 个单位，名额 {int(r.quota)} 个"
                           for r in quotas.itertuples()) if quotas is not None and len(quotas) else "")
    body = [html.P(cond, className="small-muted mb-2", id="candidates-conditions")]
    if note:
        body.append(make_alert(note, "warning", id_="candidates-note"))
    summary = [html.Span(f"候选 {n_cand} 个", className="fw-semibold")] + ([f"；{quota_text}"] if quota_text else [])
    body.append(html.Div(summary,
                         className="mb-2", id="candidates-summary"))
    body.append(make_grid("candidates-grid", _rows(df, period_code), _columns(), height=520, row_id="unit")
                if len(df) else make_empty("本期没有候选单位或接近条件的单位"))
    decide = None
    if principal.can("decide_candidate") and len(df):
        decide = make_section("考核组意见", dbc.Form([
            dbc.Row([
                dbc.Col(dbc.Select(id="candidates-unit", placeholder="选择单位",
                                   options=[{"label": f"{r['name']}（{r['status']}）", "value": r["unit"]}
                                            for r in df.to_dict("records")]), md=4),
                dbc.Col(dbc.Select(id="candidates-decision", value="推荐",
                                   options=[{"label": v, "value": v} for v in ("推荐", "不推荐")]), md=2),
                dbc.Col(dbc.Input(id="candidates-note-input", placeholder="说明（可选）"), md=4),
                dbc.Col(dbc.Button("保存", id="candidates-save", color="danger", className="w-100"), md=2),
            ], className="g-2"),
            html.Div(id="candidates-msg", className="mt-2"),
        ]))
    return html.Div([dcc.Location(id="candidates-url", refresh="callback-nav"),
                     dcc.Store(id="candidates-period-store", data=period_code),
                     header, make_section("候选名单与未入选原因", body), decide])


@secure_callback(Output("candidates-url", "search", allow_duplicate=True), Input("candidates-period", "value"),
                 prevent_initial_call=True, action="view_candidates")
def _navigate(period_code):
    return period_search(period_code)


@secure_callback(Output("candidates-download", "data"), Input("candidates-export", "n_clicks"),
                 State("candidates-period-store", "data"), prevent_initial_call=True, action="view_candidates")
def _export(n_clicks, period_code):
    if not n_clicks or not services.period_exists(period_code):
        return no_update
    return dcc.send_bytes(exports.candidates_xlsx(current_principal(), str(period_code)),
                          f"先进基层党组织推荐_{period_code}.xlsx")


@secure_callback(Output("candidates-msg", "children"), Output("candidates-url", "search", allow_duplicate=True),
                 Input("candidates-save", "n_clicks"), State("candidates-period-store", "data"),
                 State("candidates-unit", "value"), State("candidates-decision", "value"),
                 State("candidates-note-input", "value"), prevent_initial_call=True, action="decide_candidate")
def _decide(n_clicks, period_code, unit, decision, note):
    if not n_clicks or not period_code:
        return no_update, no_update
    if not unit:
        return make_alert("请选择单位", "warning"), no_update
    try:
        services.decide_candidate(current_principal(), str(period_code), str(unit), decision or "", note or "")
    except (services.InvalidInput, services.NotFound) as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert("已保存并记入审计日志", "success"), "?" + urlencode({"period": period_code, "saved": unit})
