"""数据上传 · 活动记录导入: a 三会一课 record spreadsheet (ours or a 智慧党建 app export), previewed then
committed at once. Shown on the upload page to 党务干事 (own units) and 系统管理员 only.

The file travels twice, as for evidence: the preview checks it, 确认导入 re-reads and re-checks it on
the server inside one transaction (``data.records_intake``), so a preview kept by the browser is
never trusted.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update
from flask import current_app

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from data import records_intake, services
from data.intake.records import RecordsReport
from pages._access import decode_upload

NO_UNIT = "__file__"
PREVIEW_ROWS = 20
PICK_LIMIT = 300


def _unit_options(principal, period_code: str) -> list[dict]:
    units = services.visible_units(principal, period_code)
    return [{"label": "（文件中有单位编码或名称列）", "value": NO_UNIT}] + [
        {"label": f"{r.unit} {r.name}", "value": r.unit} for r in units.itertuples(index=False)]


def _unit_picker(principal, period_code: str, default: str):
    """A list of the user's units; above ``PICK_LIMIT`` units (a whole city's admin) a code box instead."""
    options = _unit_options(principal, period_code)
    if len(options) > PICK_LIMIT:
        return dbc.Input(id="records-import-unit", placeholder="单位编码（文件中有单位列时留空）", size="sm",
                         value=None if default == NO_UNIT else default)
    return dbc.Select(id="records-import-unit", options=options, value=default, size="sm")


def records_import_section(principal, period_code: str):
    if not principal.can("record_activity"):
        return None
    max_bytes = int(current_app.config.get("MAX_UPLOAD_BYTES") or 10 * 1024 * 1024)
    default = sorted(principal.unit_codes)[0] if len(principal.unit_codes) == 1 else NO_UNIT
    return make_section("导入活动记录（三会一课台账）", dbc.Row([
        dbc.Col([
            dcc.Upload(id="records-import-file", multiple=False, max_size=max_bytes, className="upload-drop",
                       children=html.Div([html.Div("将活动记录表拖到此处，或点击选择文件", className="fw-semibold"),
                                          html.Div("一行一次活动；支持 .xlsx、.xls、.csv（UTF-8 或 GBK）和智慧党建等"
                                                   "平台导出的「会议类型、召开时间、参会人数」格式", className="small-muted")])),
            html.Div(id="records-import-name", className="small-muted mt-2"),
            dbc.Label("文件没有单位列时，记录所属单位", className="small mt-2 mb-1", html_for="records-import-unit"),
            _unit_picker(principal, period_code, default),
            html.Div([dbc.Button("下载活动记录模板", id="records-import-template", color="secondary", outline=True,
                                 size="sm", className="mt-2"), dcc.Download(id="records-import-template-download")]),
            html.Ul([html.Li("日期须在本考核期内；可写 2026-03-05、2026/3/5、2026年3月5日 或 Excel 日期；"),
                     html.Li("与已登记记录相同（单位、类型、日期、主题）的行自动跳过，不会重复计数；"),
                     html.Li("有任何错误则一条也不写入。")], className="small-muted mt-2 mb-0"),
        ], lg=4),
        dbc.Col([
            html.Div(html.Div("请先选择文件", className="text-muted small"), id="records-import-preview"),
            html.Div([dbc.Button("确认导入", id="records-import-commit", color="danger", size="sm", disabled=True)],
                     className="mt-2"),
            html.Div(id="records-import-result", className="mt-2"),
        ], lg=8),
    ], className="g-3"), id_="records-import")


def _report_view(report: RecordsReport) -> html.Div:
    head = (f"读取 {len(report.rows) + report.n_skipped} 条：新增 {len(report.rows)} 条，已登记跳过 {report.n_skipped} 条；"
            f"{len(report.errors)} 个错误，{len(report.warnings)} 个警告。")
    issues = [html.Li(f"[{i.severity.label}] {i.message}", className="text-danger" if i.is_error else "text-warning")
              for i in (report.errors + report.warnings)[:200]]
    rows = report.rows.head(PREVIEW_ROWS)
    table = None
    if len(rows):
        table = html.Table([
            html.Thead(html.Tr([html.Th(h) for h in ("行", "单位", "类型", "日期", "主题", "应到", "实到")])),
            html.Tbody([html.Tr([html.Td(r.row), html.Td(r.unit), html.Td(r.activity_type), html.Td(str(r.held_on)),
                                 html.Td(r.topic or "—"), html.Td("" if r.expected is None else r.expected),
                                 html.Td("" if r.attended is None else r.attended)])
                        for r in rows.itertuples(index=False)])], className="table table-sm mb-1",
            id="records-import-table")
    more = (html.Div(f"……仅显示前 {PREVIEW_ROWS} 条", className="small-muted") if len(report.rows) > PREVIEW_ROWS
            else None)
    color = "success" if report.ok else "danger"
    return html.Div([make_alert(head + ("可以导入。" if report.ok and len(report.rows) else
                                        ("有错误，不能导入，请修改后重新选择文件。" if not report.ok else "没有新记录。")),
                                color, id_="records-import-summary"),
                     html.Ul(issues, className="small mb-2", id="records-import-issues") if issues else None,
                     table, more])


def _args(period_code, unit):
    unit = unit.strip().upper() if isinstance(unit, str) and unit.strip() and unit != NO_UNIT else None
    return (period_code if isinstance(period_code, str) else ""), unit


@secure_callback(Output("records-import-preview", "children"), Output("records-import-commit", "disabled"),
                 Output("records-import-name", "children"), Output("records-import-result", "children"),
                 Input("records-import-file", "contents"), Input("records-import-unit", "value"),
                 State("records-import-file", "filename"), State("upload-period-store", "data"),
                 prevent_initial_call=True, action="record_activity")
def _preview(contents, unit, filename, period_code):
    data = decode_upload(contents)
    if data is None:
        return no_update, True, no_update, no_update
    name = str(filename or "活动记录")[:200]
    period_code, unit = _args(period_code, unit)
    report = records_intake.preview_records(current_principal(), data, name, period_code, unit)
    return _report_view(report), not (report.ok and len(report.rows)), f"已选择：{name}", None


@secure_callback(Output("records-import-result", "children", allow_duplicate=True),
                 Output("records-import-commit", "disabled", allow_duplicate=True),
                 Input("records-import-commit", "n_clicks"), State("records-import-file", "contents"),
                 State("records-import-file", "filename"), State("upload-period-store", "data"),
                 State("records-import-unit", "value"), prevent_initial_call=True, action="record_activity")
def _commit(n_clicks, contents, filename, period_code, unit):
    data = decode_upload(contents)
    if not n_clicks or data is None:
        return no_update, no_update
    name = str(filename or "活动记录")[:200]
    period_code, unit = _args(period_code, unit)
    report, batch = records_intake.commit_records(current_principal(), data, name, period_code, unit)
    if batch is None:
        return _report_view(report), True
    return make_alert(f"已导入 {len(report.rows)} 条活动记录（批次 #{batch}），已记入审计日志；"
                      f"跳过已登记 {report.n_skipped} 条。", "success", id_="records-import-done"), True


@secure_callback(Output("records-import-template-download", "data"), Input("records-import-template", "n_clicks"),
                 prevent_initial_call=True, action="record_activity")
def _template(n_clicks):
    if not n_clicks:
        return no_update
    return dcc.send_bytes(records_intake.template_bytes(), "活动记录导入模板.xlsx")
