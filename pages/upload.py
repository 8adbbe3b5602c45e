"""数据上传: template download, drag-and-drop upload, preview (issues; old → new values;
score and rank changes from the one scoring engine, nothing saved), then 确认提交 or 取消,
and the user's upload history.

The file travels twice: once for the preview and again on 确认提交, where the server
parses it afresh (a preview held by the browser is never trusted).
"""
from __future__ import annotations

import logging
import math

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update
from flask import after_this_request, current_app

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from components.formats import round_half_up, fmt_datetime
from components.grids import make_grid, number_col, text_col
from components.shell import make_empty, make_page_header, make_period_select
from data import evidence_service, services
from data.db import get_db
from pages._access import decode_upload, open_page, period_options, period_search
from pages._records_import import records_import_section
from scoring.glossary import period_label

dash.register_page(__name__, path="/upload", name="数据上传", title="数据上传 · 党建工作考核系统",
                   nav=True, nav_key="upload", nav_order=4)

STATUS_LABELS = {"committed": "已提交", "rejected": "未通过", "duplicate": "重复文件", "seed": "初始数据"}


def _history(principal, period_code: str):
    df = services.upload_history(principal, period_code)
    if df.empty:
        return make_empty("还没有上传记录")
    rows = [{"id": int(r.id), "file_name": r.file_name, "status": STATUS_LABELS.get(r.status, r.status),
             "n_units": int(r.n_units), "n_values": int(r.n_values), "n_changed": int(r.n_changed),
             "n_errors": int(r.n_errors), "uploader": r.uploader or "", "at": fmt_datetime(r.created_at)}
            for r in df.itertuples()]
    return make_grid("upload-history-grid", rows, [
        number_col("id", "批次", 70, places=0), text_col("file_name", "文件", 200, flex=2),
        text_col("status", "状态", 90), number_col("n_units", "单位数", 80, places=0),
        number_col("n_values", "数值", 80, places=0), number_col("n_changed", "变化", 80, places=0),
        number_col("n_errors", "错误", 70, places=0), text_col("uploader", "上传人", 120),
        text_col("at", "时间", 160)], height=300, row_id="id")


def layout(period: str | None = None, **_):
    principal, period_code, error = open_page("upload", period)
    if error:
        return error
    scope = "全部单位" if principal.sees_all_units else f"您负责的 {len(principal.unit_codes)} 个单位"
    max_bytes = int(current_app.config.get("MAX_UPLOAD_BYTES") or 10 * 1024 * 1024)
    max_mb = max_bytes / 1048576
    return html.Div([
        dcc.Location(id="upload-url", refresh="callback-nav"),
        dcc.Store(id="upload-period-store", data=period_code),
        make_page_header("数据上传", f"{period_label(period_code)} · 填报范围：{scope}",
                         right=[make_period_select("upload-period", period_options(), period_code),
                                dbc.Button("下载填报模板", id="upload-template", color="danger", outline=True,
                                           size="sm"), dcc.Download(id="upload-template-download")]),
        dbc.Row([
            dbc.Col(make_section("上传填报表", [
                dcc.Upload(id="upload-file", multiple=False, max_size=max_bytes,
                           className="upload-drop",
                           children=html.Div([html.Div("将填报表拖到此处，或点击选择文件", className="fw-semibold"),
                                              html.Div("支持 .xlsx（推荐使用模板）、.xls、.csv（UTF-8 或 GBK），"
                                                       f"也支持「单位 × 数据项 × 数值」的长表；不超过 {max_mb:g} MB"
                                                       "（更大的文件不会被读取，请拆分后上传）",
                                                       className="small-muted")])),
                html.Div(id="upload-file-name", className="small-muted mt-2"),
                html.Ol([html.Li("下载模板，按单位逐行填写（单位编码、名称已预填）；"),
                         html.Li("上传后先预览：逐条列出问题（工作表、行、列），显示新旧数值和对得分、名次的影响；"),
                         html.Li("确认无误后点击「确认提交」，全部数据一次性写入；有任何错误则一条也不写入。")],
                        className="small-muted mt-3 mb-0"),
            ]), lg=4),
            dbc.Col(make_section("预览", dcc.Loading(html.Div(make_empty("请先上传文件"), id="upload-preview",
                                                              className="upload-resets"),
                                                     delay_show=200, color="#c0392b"),
                                 right=html.Span([
                                     dbc.Button("确认提交", id="upload-commit", color="danger", size="sm",
                                                className="me-2", disabled=True),
                                     dbc.Button("取消", id="upload-cancel", color="secondary", outline=True,
                                                size="sm", disabled=True)])), lg=8),
        ], className="g-3"),
        html.Div(id="upload-result", className="upload-resets"),
        records_import_section(principal, period_code),
        make_section("上传记录", html.Div(_history(principal, period_code), id="upload-history")),
    ])



def _safe_name(name: str | None) -> str:
    name = (name or "上传文件").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:200] or "上传文件"


def _rank(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else str(int(v))


def _grade(g) -> str:
    return g if isinstance(g, str) and g else "尚无数据"


def _fmt(v, blank: str = "（空）") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return blank
    return f"{v:g}" if isinstance(v, float) else str(v)


def _labelled(value, labels: dict[str, str]) -> str:
    """An issue's value with internal field keys (``study_sessions、…``) shown as their Chinese labels."""
    text = "" if value is None else str(value)
    parts = text.split("、")
    if parts and all(p in labels for p in parts):
        return "、".join(labels[p] for p in parts)
    return text


def _preview_body(pv, labels: dict[str, str] | None = None) -> html.Div:
    labels = labels or {}
    report = pv.report
    c = report.counts
    parts = []
    if pv.duplicate_of:
        parts.append(make_alert(f"该文件与第 {pv.duplicate_of} 批次完全相同，已经提交过，无需重复提交。", "info",
                                id_="upload-duplicate"))
    color = "success" if report.ok else "danger"
    cleared = f"、{c['cleared']} 个「清除」" if c["cleared"] else ""
    summary = (f"读取 {c['rows']} 行、{c['units']} 个单位、{c['values']} 个数值{cleared}；{c['errors']} 个错误，"
               f"{c['warnings']} 个警告。" + ("可以提交。" if report.ok else "有错误，不能提交，请修改后重新上传。"))
    parts.append(make_alert(summary, color, id_="upload-summary"))
    if report.ok and c["rows"]:
        # Blank never means "delete": say so where the user decides to commit.
        blank = (f"文件中有 {c['blank']} 个空白单元格：空白单元格保持系统中的现有数值，不会被清空。"
                 if c["blank"] else "空白单元格保持系统中的现有数值，不会被清空。")
        parts.append(make_alert(blank + "如需撤回已报送的数值，请在该单元格中填写「清除」或「/」后重新上传。", "info",
                                id_="upload-blank-note"))
    if report.issues:
        rows = [{"severity": i.severity.label, "sheet": i.sheet or "—", "row": i.row or None,
                 "column": (f"{i.column} {i.header}".strip() or "—"), "value": _labelled(i.value, labels),
                 "message": i.message}
                for i in report.errors + report.warnings]
        parts.append(html.H3("问题清单", className="h6 mt-2"))
        parts.append(make_grid("upload-issues-grid", rows, [
            text_col("severity", "级别", 80, cellStyle={"styleConditions": [
                {"condition": "params.value === '错误'", "style": {"color": "#b71c1c", "fontWeight": "600"}}]}),
            text_col("sheet", "工作表", 90), number_col("row", "行", 64, places=0), text_col("column", "列", 130),
            text_col("value", "原值", 90),
            text_col("message", "说明", 380, flex=3, wrapText=True, autoHeight=True,
                     cellStyle={"lineHeight": "1.5"})], height=300))
    if report.ok and len(pv.changes):
        rows = [{"unit": r.unit, "unit_name": r.unit_name, "field": r.field_label, "old": _fmt(r.old),
                 "new": _fmt(r.new, "（清除）"), "where": f"{r.sheet or ''} 第 {r.row} 行 {r.column}"}
                for r in pv.changes.itertuples()]
        parts.append(html.H3(f"数值变化（{len(rows)} 项）", className="h6 mt-3"))
        parts.append(make_grid("upload-changes-grid", rows, [
            text_col("unit_name", "单位", 160), text_col("field", "数据项", 140), text_col("old", "原值", 80),
            text_col("new", "新值", 80), text_col("where", "位置", 150)], height=260))
    if report.ok and len(pv.score_changes):
        sc = pv.score_changes
        rows = [{"name": r.name, "before": round_half_up(float(r.total_before)) if r.total_before == r.total_before else None,
                 "after": round_half_up(float(r.total_after)), "delta": round_half_up(float(r.delta))
                 if r.delta == r.delta else None,
                 "rank": f"{_rank(r.rank_before)} → {_rank(r.rank_after)}",
                 "grade": f"{_grade(r.grade_before)} → {_grade(r.grade_after)}"}
                for r in sc.itertuples()]
        parts.append(html.H3("对得分和名次的影响（提交前模拟计算）", className="h6 mt-3"))
        parts.append(make_grid("upload-scores-grid", rows, [
            text_col("name", "单位", 160), number_col("before", "原总分", 86), number_col("after", "新总分", 86),
            number_col("delta", "变化", 80), text_col("rank", "总排名", 100), text_col("grade", "等次", 120)],
            height=240))
    elif report.ok and not len(pv.changes) and not pv.duplicate_of:
        parts.append(make_empty("文件中的数值与系统中的现有数值相同，提交后不会有变化。"))
    return html.Div(parts)


@secure_callback(Output("upload-template-download", "data"), Input("upload-template", "n_clicks"),
                 State("upload-period-store", "data"), prevent_initial_call=True, action="upload")
def _template(n_clicks, period_code):
    if not n_clicks or not services.period_exists(period_code):
        return no_update
    data = evidence_service.template_bytes(get_db(), str(period_code), current_principal())
    return dcc.send_bytes(data, f"填报模板_{period_code}.xlsx")


@secure_callback(Output("upload-url", "search"), Input("upload-period", "value"), prevent_initial_call=True,
                 action="upload")
def _navigate(period_code):
    return period_search(period_code)


@secure_callback(Output("upload-preview", "children"), Output("upload-commit", "disabled"),
                 Output("upload-cancel", "disabled"), Output("upload-file-name", "children"),
                 Output("upload-result", "children", allow_duplicate=True),
                 Input("upload-file", "contents"), State("upload-file", "filename"),
                 State("upload-period-store", "data"), prevent_initial_call=True, action="upload")
def _preview(contents, filename, period_code):
    if not contents:
        return make_empty("请先上传文件"), True, True, "", no_update
    data = decode_upload(contents)
    name = _safe_name(filename)
    if data is None:
        return make_alert(f"文件「{name}」无法读取，请重新选择。", "danger"), True, False, name, None
    if not services.period_exists(period_code):
        return make_alert("考核期不存在", "danger"), True, False, name, None
    pv = evidence_service.preview_upload(get_db(), data, name, str(period_code), current_principal())
    can_commit = pv.report.ok and not pv.duplicate_of and (len(pv.report.values) > 0 or len(pv.report.clears) > 0)
    labels = {k: f.label for k, f in services.table_for_period(str(period_code)).fields.items()}
    return _preview_body(pv, labels), not can_commit, False, f"已选择：{name}", None


def _score_after_response(db, period_code: str) -> None:
    """Once the commit's response has been sent, this worker scores the new data version and stores it
    (``services.score_period``, shared by every worker): the next viewer in any worker loads it instead
    of computing it while a leader waits. A viewer arriving meanwhile waits for this computation
    (the store's compute lock) rather than repeating it."""
    @after_this_request
    def _hook(response):
        def score():
            try:
                services.score_period(period_code, db)
                services.period_gaps(period_code, db)
            except Exception:  # the next viewer computes it instead; nothing is lost
                logging.getLogger(__name__).exception("scoring %s after a commit failed", period_code)
        response.call_on_close(score)
        return response


@secure_callback(Output("upload-result", "children"), Output("upload-history", "children"),
                 Output("upload-file", "contents"), Output("upload-preview", "children", allow_duplicate=True),
                 Output("upload-commit", "disabled", allow_duplicate=True),
                 Output("upload-cancel", "disabled", allow_duplicate=True),
                 Input("upload-commit", "n_clicks"), Input("upload-cancel", "n_clicks"),
                 State("upload-file", "contents"), State("upload-file", "filename"),
                 State("upload-period-store", "data"), prevent_initial_call=True, action="upload")
def _commit(commit_clicks, cancel_clicks, contents, filename, period_code):
    trigger = dash.ctx.triggered_id
    p = current_principal()
    if trigger == "upload-cancel" and cancel_clicks:
        return (make_alert("已取消，未写入任何数据。", "secondary"), no_update, None, make_empty("请先上传文件"),
                True, True)
    if trigger != "upload-commit" or not commit_clicks:
        return (no_update,) * 6
    data = decode_upload(contents)
    if data is None or not services.period_exists(period_code):
        return make_alert("请先上传文件", "warning"), no_update, no_update, no_update, True, no_update
    result = evidence_service.commit_upload(get_db(), data, _safe_name(filename), str(period_code), p)
    if result.status == "committed":
        _score_after_response(get_db(), str(period_code))
    color = {"committed": "success", "duplicate": "info"}.get(result.status, "danger")
    msg = make_alert(html.Div(evidence_service.format_commit(result), className="pre-line"), color,
                     id_="upload-commit-result")
    return msg, _history(p, str(period_code)), None, make_empty("请先上传文件"), True, True
