"""工作量统计: the figures a work summary reports for a period and a 局, each with the units behind it;
downloads of the 工作总结 skeleton (.docx) and the table (.xlsx); the 反馈单 of a whole 局 (or of
every unit) as a zip, made in the background with a progress bar."""
from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from components.documents import make_doc_buttons, make_job_progress
from components.grids import make_grid, text_col
from components.shell import make_page_header, make_period_select
from data import document_files as files
from data import documents, jobs, services
from data.work_summary import MISSING, work_summary
from pages._access import open_page, period_options
from pages._documents import USER_ERRORS, _clicked, _running, _send
from scoring.glossary import period_label

dash.register_page(__name__, path="/summary", name="工作量统计", title="工作量统计 · 党建工作考核系统",
                   nav=True, nav_key="summary", nav_order=3.7)

ALL = "__all__"
DOCS = [("docx", "工作总结 Word"), ("xlsx", "统计表 Excel")]


def _rows(figures) -> list[dict]:
    rows = []
    for k, r in enumerate(figures.itertuples()):
        rows.append({"id": k, "section": r.section[:3], "label": r.label,
                     "value": r.text if r.known else MISSING, "unit": r.unit,
                     "how": r.how if r.known else (r.note or "数据不能给出"),
                     "n": len(r.contributors) if r.known else "—",
                     "contributors": "、".join(r.contributors)})
    return rows


def layout(period: str | None = None, bureau: str | None = None, **_):
    principal, period_code, error = open_page("summary", period)
    if error:
        return error
    options = documents.bureaus(principal, period_code)
    if bureau not in options:
        bureau = None
    s = work_summary(principal, period_code, bureau)
    header = make_page_header(
        "工作量统计",
        f"{period_label(period_code)} · {s.scope_label} · {s.n_units} 个单位的填报数据和整改记录 · "
        f"「{MISSING}」表示系统数据不能给出的数字",
        right=[make_period_select("summary-period", period_options(), period_code),
               dbc.Select(id="summary-bureau", value=bureau or ALL, size="sm", className="period-select",
                          options=[{"label": "全部单位", "value": ALL}] + [{"label": b, "value": b} for b in options]),
               make_doc_buttons("summary", DOCS)])
    grid = make_grid("summary-grid", _rows(s.figures), [
        text_col("section", "部分", 80), text_col("label", "事项", 240, flex=2),
        text_col("value", "数值", 90, type="rightAligned"), text_col("unit", "单位", 70),
        text_col("how", "统计口径", 220, flex=2, wrapText=True, autoHeight=True, cellStyle={"lineHeight": "1.5"}),
        text_col("n", "涉及单位数", 100, type="rightAligned"),
        text_col("contributors", "涉及单位", 260, flex=3, tooltipField="contributors")],
        height=640, row_id="id")
    zip_form = dbc.Row([
        dbc.Col(html.Div(f"范围：{s.scope_label}（{s.n_units} 个单位，每个单位一份反馈单）"), md=5),
        dbc.Col(dbc.Select(id="summary-zip-format", value="docx", size="sm",
                           options=[{"label": "Word（.docx）", "value": "docx"},
                                    {"label": "PDF（较慢）", "value": "pdf"}]), md=3),
        dbc.Col(dbc.Button("生成反馈单压缩包", id="summary-zip-start", color="danger", outline=True, size="sm"),
                md=4),
    ], className="g-2 align-items-center mb-2 no-print")
    return html.Div([
        dcc.Location(id="summary-url", refresh="callback-nav"),
        dcc.Store(id="summary-key", data={"period": period_code, "bureau": bureau}),
        header,
        make_section("工作总结中的数字（按总结的四个部分）", grid),
        make_section("单位反馈单打包下载", [zip_form, make_job_progress("summary")]),
    ])


def _key(key) -> tuple[str, str | None] | None:
    if not isinstance(key, dict) or not services.period_exists(key.get("period")):
        return None
    bureau = key.get("bureau")
    return key["period"], bureau if isinstance(bureau, str) and bureau else None


@secure_callback(Output("summary-url", "search"), Input("summary-period", "value"), Input("summary-bureau", "value"),
                 prevent_initial_call=True, action="view_scores")
def _navigate(period_code, bureau):
    if not services.period_exists(period_code):
        return no_update
    q = {"period": period_code}
    if isinstance(bureau, str) and bureau and bureau != ALL:
        q["bureau"] = bureau
    return "?" + urlencode(q)


@secure_callback(Output("summary-doc-download", "data"), Output("summary-doc-msg", "children"),
                 *[Input(f"summary-doc-{k}", "n_clicks") for k, _ in DOCS], State("summary-key", "data"),
                 prevent_initial_call=True, action="view_scores", running=_running("summary", DOCS))
def _download(*args):
    key, fmt = _key(args[-1]), _clicked("summary")
    if key is None or fmt is None:
        return no_update, no_update
    return _send(lambda: files.summary(current_principal(), key[0], fmt, bureau=key[1]))


@secure_callback(Output("summary-job-id", "data"), Output("summary-job-poll", "disabled"),
                 Output("summary-job-note", "children"), Input("summary-zip-start", "n_clicks"),
                 State("summary-key", "data"), State("summary-zip-format", "value"), prevent_initial_call=True,
                 action="view_scores")
def _start_zip(n_clicks, key, fmt):
    key = _key(key)
    if not n_clicks or key is None:
        return no_update, no_update, no_update
    fmt = fmt if fmt in ("docx", "pdf") else "docx"
    p = current_principal()
    from data.db import get_db

    db = get_db()  # the job runs outside this request: it gets the database now
    job = jobs.start(p, "反馈单压缩包", lambda progress: files.feedback(p, key[0], fmt, bureau=key[1], db=db,
                                                                  progress=progress), user_errors=USER_ERRORS)
    return job, False, "已开始生成……"


@secure_callback(Output("summary-job-bar", "value"), Output("summary-job-bar", "label"),
                 Output("summary-job-bar", "style"), Output("summary-job-note", "children", allow_duplicate=True),
                 Output("summary-job-poll", "disabled", allow_duplicate=True), Output("summary-job-download", "data"),
                 Input("summary-job-poll", "n_intervals"), State("summary-job-id", "data"), prevent_initial_call=True,
                 action="view_scores")
def _poll(_n, job_id):
    p = current_principal()
    state = jobs.status(p, job_id)
    shown = {"height": "1.2rem"}
    if state is None:
        return no_update, no_update, no_update, no_update, True, no_update
    if state["status"] == "running":
        done, total = state["done"], state["total"]
        pct = int(100 * done / total) if total else 0
        return pct, f"{pct}%", shown, f"正在生成：{done} / {total or '…'}", False, no_update
    if state["status"] == "error":
        return 0, "", {"display": "none"}, make_alert(state["message"], "warning"), True, no_update
    got = jobs.result(p, job_id)
    if got is None:
        return no_update, no_update, no_update, "文件已过期，请重新生成", True, no_update
    name, data = got
    return 100, "100%", shown, f"已完成：{name}", True, dcc.send_bytes(data, name)
