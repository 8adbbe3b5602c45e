"""Pure builders for 三会一课 activity records: the entry form, the paged list, the calendar strip per
activity type and the typed-vs-records comparison. Plain values in, components out; no data or
scoring imports.
"""
from __future__ import annotations

import math

import dash_bootstrap_components as dbc
from dash import html

from components.lite import el

RHYTHM_LABELS = {"monthly": "每月", "quarterly": "每季度"}
USED_LABELS = {"typed": "填报数", "records": "活动记录"}


def _pct(p) -> str:
    return "" if p is None or (isinstance(p, float) and math.isnan(p)) else f"{p:.0f}%"


def _num(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:g}" if isinstance(v, float) else str(v)


def make_record_form(types: list[str], today: str) -> html.Div:
    """Add (or correct, once a record is loaded into it) one activity."""
    return html.Div([
        html.Div(id="records-form-mode", className="small-muted mb-1", children="新增一条活动记录"),
        dbc.Row([
            dbc.Col(dbc.Select(id="records-f-type", options=[{"label": t, "value": t} for t in types],
                               placeholder="活动类型", size="sm"), md=2),
            dbc.Col(dbc.Input(id="records-f-date", type="date", value=today, size="sm", max=today), md=2),
            dbc.Col(dbc.Input(id="records-f-topic", placeholder="主题", maxLength=200, size="sm"), md=4),
            dbc.Col(dbc.Input(id="records-f-place", placeholder="地点", maxLength=120, size="sm"), md=2),
            dbc.Col(dbc.Input(id="records-f-host", placeholder="主持人/主讲人", maxLength=64, size="sm"), md=2),
        ], className="g-2 mb-2"),
        dbc.Row([
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("应到"),
                                    dbc.Input(id="records-f-expected", type="number", min=0, step=1)], size="sm"),
                    md=2),
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("实到"),
                                    dbc.Input(id="records-f-attended", type="number", min=0, step=1)], size="sm"),
                    md=2),
            dbc.Col(dbc.Checklist(id="records-f-lectured", options=[{"label": "书记讲党课", "value": "yes"}],
                                  value=[], inline=True, className="small pt-1"), md=2),
            dbc.Col(dbc.Input(id="records-f-note", placeholder="备注（可选）", size="sm"), md=4),
            dbc.Col(dbc.Button("保存记录", id="records-save", color="danger", size="sm", className="w-100"), md=2),
        ], className="g-2"),
        html.Div(id="records-msg", className="mt-2"),
    ], id="records-form")


def _record_chip(r: dict, attachments: dict) -> dict:
    day = r["day"][8:10].lstrip("0") + "日"
    n_att = attachments.get(r["id"], 0)
    label = [day, el(html.Span, f" {_pct(r['pct'])}", className="cal-pct") if r.get("pct") is not None else None,
             el(html.Span, f" 附{n_att}", className="cal-att", title=f"佐证材料 {n_att} 个") if n_att else None]
    title = f"{r['day']} {r.get('topic') or ''}；实到 {_num(r.get('attended'))}/应到 {_num(r.get('expected'))}"
    if r.get("below"):
        title += "（出席率低于要求，不计数）"
    return el(html.Button, label, id={"type": "records-open", "id": int(r["id"])}, n_clicks=0, type="button",
                       title=title, className="cal-chip" + (" cal-below" if r.get("below") else ""))


def make_calendar_strip(months: list[tuple[int, int]], types: list[str], cells: dict, rhythms: dict,
                        attachments: dict | None = None, checked: set | None = None) -> html.Div:
    """One row per activity type, one column per month of the period (rows and cells as ``el``: drawn on
    every branch-page view). A month without a record of a
    type that must be held monthly (or a quarter without one, for quarterly types) is marked 缺 —
    for the types in ``checked`` only (the unit's scored fields: not for an item 不适用 to it)."""
    attachments = attachments or {}
    cross_year = len({y for y, _m in months}) > 1
    head = [html.Th("活动类型")] + [html.Th(f"{y % 100}年{m}月" if cross_year else f"{m}月", className="text-center")
                                    for y, m in months]
    body = []
    for t in types:
        by_month = cells.get(t, {})
        rhythm = rhythms.get(t) if checked is None or t in checked else None
        valid_in = {k for k, rs in by_month.items() if any(not r.get("below") for r in rs)}
        quarter_held = {(int(k[:4]), (int(k[5:7]) - 1) // 3) for k in valid_in}
        tds = []
        for y, m in months:
            k = f"{y}-{m:02d}"
            rs = by_month.get(k, [])
            missing = (rhythm == "monthly" and k not in valid_in) or \
                (rhythm == "quarterly" and (y, (m - 1) // 3) not in quarter_held)
            content = [_record_chip(r, attachments) for r in rs] or \
                [el(html.Span, "缺" if missing else "·", className="cal-miss-text" if missing else "text-muted")]
            tds.append(el(html.Td, content, className="cal-cell" + (" cal-missing" if missing else ""),
                               **{"data-month": k, "data-type": t}))
        n = sum(len(v) for v in by_month.values())
        label = [el(html.Span, t, className="fw-semibold"), el(html.Span, f" {n} 次", className="small-muted"),
                 el(html.Div, RHYTHM_LABELS.get(rhythm, ""), className="small-muted") if rhythm else None]
        body.append(el(html.Tr, [el(html.Th, label, className="nowrap")] + tds))
    legend = html.Div(["点击日期查看该次活动；百分数为出席率；", html.Span("缺", className="cal-miss-text"),
                       "：按规定应召开而未召开的月份（季度类活动标记整季）；橙色：出席率低于要求，不计数。"],
                      className="small-muted mt-1")
    return html.Div([html.Div(html.Table([html.Thead(html.Tr(head)), html.Tbody(body)],
                                         className="table table-sm table-bordered cal-strip mb-0"),
                              className="table-responsive"), legend], id="records-calendar-strip")


def make_records_list(rows: list[dict], page: int, total: int, page_size: int) -> html.Div:
    """One page of records (newest first) with a pager; the page never grows with the history."""
    if not rows:
        return html.Div("本考核期尚无活动记录。", className="text-muted small", id="records-list-empty")
    trs = []
    for r in rows:
        att = f"{_num(r['attended'])}/{_num(r['expected'])}"
        if r.get("attendance_pct") is not None:
            att += f"（{_pct(r['attendance_pct'])}）"
        trs.append(el(html.Tr, [
            el(html.Td, str(r["held_on"]), className="nowrap"), el(html.Td, r["activity_type"], className="nowrap"),
            el(html.Td, r["topic"] or "—"), el(html.Td, r["place"] or "—"), el(html.Td, att, className="nowrap"),
            el(html.Td, r["host"] or "—", className="nowrap"), el(html.Td, r["source"], className="small-muted"),
            el(html.Td, el(html.Button, "详情", id={"type": "records-open", "id": int(r["id"])}, n_clicks=0,
                           type="button", className="btn btn-outline-secondary btn-sm py-0 px-2 nowrap")),
        ], id=f"records-row-{r['id']}"))
    pages = max(1, math.ceil(total / page_size))
    first = page * page_size + 1
    return html.Div([
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("日期", "类型", "主题", "地点", "实到/应到", "主持人",
                                                             "来源", "")])), html.Tbody(trs)],
                   className="table table-sm table-hover mb-1", id="records-table"),
        html.Div([html.Span(f"第 {first}–{first + len(rows) - 1} 条，共 {total} 条", className="small-muted",
                            id="records-count"),
                  dbc.Pagination(id="records-page", max_value=pages, active_page=page + 1, size="sm",
                                 fully_expanded=False, first_last=True, previous_next=True, className="mb-0")
                  if pages > 1 else None],
                 className="d-flex justify-content-between align-items-center"),
    ])


def make_comparison(rows: list[dict]) -> html.Div:
    """Typed value vs records per field, their difference highlighted: what an inspector checks on site."""
    if not rows:
        return html.Div("本期指标体系没有依据活动记录计数的数据项。", className="text-muted small")
    head = ["数据项", "活动类型", "填报数", "活动记录（有效）", "差额", "出席不足未计", "未开展的月份/季度", "计分依据"]
    trs = []
    for r in rows:
        diff = r.get("diff")
        differs = diff is not None and not (isinstance(diff, float) and math.isnan(diff)) and abs(diff) > 1e-9
        diff_text = "—" if diff is None or (isinstance(diff, float) and math.isnan(diff)) else \
            (f"{diff:+g}" if differs else "0")
        trs.append(el(html.Tr, [  # el: a row per counted field, drawn on every branch view
            el(html.Td, r["label"]), el(html.Td, r["activity_type"], className="nowrap"),
            el(html.Td, _num(r.get("typed")), className="text-end"),
            el(html.Td, _num(r.get("records")), className="text-end"),
            el(html.Td, diff_text, className="text-end fw-semibold" + (" text-danger" if differs else "")),
            el(html.Td, _num(r.get("below")) if r.get("below") else "", className="text-end"),
            el(html.Td, r.get("missing") or ""), el(html.Td, USED_LABELS.get(r.get("used"), r.get("used") or "")),
        ], className="table-warning" if differs else None, **{"data-field": r["field"],
                                                               "data-differs": "1" if differs else "0"}))
    n_diff = sum(1 for r in rows if r.get("diff") not in (None, 0) and not
                 (isinstance(r.get("diff"), float) and math.isnan(r["diff"])))
    note = (f"{n_diff} 项填报数与活动记录不一致（黄色标出），请现场核对台账。" if n_diff
            else "填报数与活动记录一致。")
    return html.Div([
        html.Table([html.Thead(el(html.Tr, [el(html.Th, h) for h in head])), html.Tbody(trs)],
                   className="table table-sm mb-1", id="records-compare-table"),
        html.Div(["差额 = 填报数 − 有效活动记录数。", note], className="small-muted", id="records-compare-note"),
    ])


def make_record_detail(d: dict, history: list[dict], can_write: bool, files: list[dict] | None = None) -> html.Div:
    """A record's fields, its earlier versions and (for writers) 更正 / 撤回."""
    def line(k, v):
        return html.Div([html.Span(k + "：", className="text-muted"), html.Span(v if v not in (None, "") else "—")])

    pct = (f"（{100 * d['attended'] / d['expected']:.0f}%）" if d.get("expected") and d.get("attended") is not None
           else "")
    body = [line("活动类型", d["activity_type"]), line("日期", str(d["held_on"])), line("主题", d.get("topic")),
            line("地点", d.get("place")), line("应到/实到", f"{_num(d.get('expected'))} / {_num(d.get('attended'))}{pct}"),
            line("主持人/主讲人", d.get("host")), line("备注", d.get("note"))]
    if d["activity_type"] == "党课":
        body.append(line("书记讲党课", "是" if d.get("secretary_lectured") else "否"))
    if not d.get("current"):
        body.append(dbc.Alert("该记录已被更正或撤回，不再计数。", color="secondary", className="py-1 mt-2 mb-0"))
    if len(history) > 1:
        body.append(html.Div([html.Div("修改记录", className="fw-semibold mt-2 small")] + [
            html.Div(f"#{h['id']}：{h['held_on']} {h['activity_type']} {h.get('topic') or ''} "
                     f"实到 {_num(h.get('attended'))}/{_num(h.get('expected'))}", className="small-muted")
            for h in history[1:]]))
    files = files or []
    body.append(html.Div([html.Div(f"佐证材料（{len(files)} 个）", className="fw-semibold mt-2 small")] + [
        html.Div([html.A(f["file_name"], href=f"/attachments/{f['id']}/file", className="small"),
                  html.Span(f" {f.get('type_label') or ''}" + (f" · {f['review_status']}" if f.get("review_status")
                                                                 else " · 未核查"), className="small-muted")])
        for f in files] + ([html.Div("可在本页「佐证材料」中上传到该记录。", className="small-muted")] if not files else []),
        id="records-detail-attachments"))
    if can_write and d.get("current"):
        body.append(html.Hr())
        body.append(dbc.Row([
            dbc.Col(dbc.Button("更正（载入表单）", id="records-edit", color="secondary", outline=True, size="sm"),
                    width="auto"),
            dbc.Col(dbc.Input(id="records-withdraw-reason", placeholder="撤回理由（必填）", size="sm")),
            dbc.Col(dbc.Button("撤回", id="records-withdraw", color="danger", outline=True, size="sm"), width="auto"),
        ], className="g-2"))
    return html.Div(body)


def make_record_modal() -> dbc.Modal:
    return dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("活动记录", id="records-detail-title")),
                      dbc.ModalBody(html.Div(id="records-detail-body")),
                      dbc.ModalFooter([html.Div(id="records-detail-msg", className="me-auto"),
                                       dbc.Button("关闭", id="records-detail-close", color="secondary", size="sm")])],
                     id="records-detail", is_open=False, size="lg")


def make_regularity_grid_rows(df_rows: list[dict], period_code: str) -> list[dict]:
    """Rows of the gap page's 「活动规律性」 grid with a markdown link to each unit's calendar strip."""
    return [{**r, "name_link": f"[{r['name']}](/branch/{r['unit']}?period={period_code}#records)"} for r in df_rows]


def records_anchor() -> html.A:
    return html.A(id="records")


__all__ = ["make_record_form", "make_calendar_strip", "make_records_list", "make_comparison", "make_record_detail",
           "make_record_modal", "make_regularity_grid_rows", "records_anchor"]
