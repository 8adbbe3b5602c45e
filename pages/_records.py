"""支部详情 · 活动记录: the unit's 三会一课 records of the period on the branch page.

The typed-vs-records comparison (from the period's score), a calendar strip per activity type, the
add/correct form (党务干事 for their own units, 系统管理员), the paged list and a record's detail
dialog (更正 / 撤回). Thin callbacks: every read and write goes through ``data.activity_records`` /
``data.record_views``, which check role and unit scope again; ``secure_callback`` checks the role first.
"""
from __future__ import annotations

import datetime as dt

import dash
from dash import ALL, Input, Output, State, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from components.records import (
    make_calendar_strip, make_comparison, make_record_detail, make_record_form, make_record_modal, make_records_list,
)
from data import activity_records as ar
from data import record_views, services
from data.permissions import AccessDenied, NotFound
from pages._access import pattern_clicked

PAGE_SIZE = 10


def _key(key) -> tuple[str, str] | None:
    if not isinstance(key, dict) or not isinstance(key.get("unit"), str) or not isinstance(key.get("period"), str):
        return None
    return key["unit"], key["period"]


def _calendar(principal, unit: str, period: str, compared: list[dict]):
    cal = ar.unit_calendar(principal, unit, period)
    shown = [t for t in cal["types"] if t in cal["cells"] or t in cal["regular"] or t in cal["thresholds"]]
    checked = {r["activity_type"] for r in compared}  # the unit's scored fields (not 不适用 / not due)
    return make_calendar_strip(cal["months"], shown, cal["cells"], cal["regular"], attachment_counts(principal, cal),
                               checked=checked)


def attachment_counts(principal, cal: dict) -> dict:
    """record id -> number of 佐证材料 (the records are the unit's, already scope-checked by unit_calendar)."""
    from data import attachments

    ids = [r["id"] for months in cal["cells"].values() for rs in months.values() for r in rs]
    return attachments.attachment_counts(None, ids)


def _record_files(principal, unit: str, period: str, rid: int) -> list[dict]:
    from data import attachments

    return [f for f in attachments.unit_attachments(principal, unit, period) if f.get("record_id") == rid]


def _list(principal, unit: str, period: str, page: int):
    df, total = ar.unit_records(principal, unit, period, page=page, page_size=PAGE_SIZE)
    if page and df.empty and total:  # the page ran off the end after a withdrawal
        page = max(0, (total - 1) // PAGE_SIZE)
        df, total = ar.unit_records(principal, unit, period, page=page, page_size=PAGE_SIZE)
    return make_records_list(df.to_dict("records"), page, total, PAGE_SIZE)


def _parts(principal, unit: str, period: str, page: int = 0) -> tuple:
    compared = record_views.unit_comparison(principal, unit, period)
    return make_comparison(compared), _calendar(principal, unit, period, compared), _list(principal, unit, period, page)


def records_panel(principal, unit: str, period: str, table) -> html.Div:
    """The section on the branch page (its parts re-drawn by ``_view`` after a write or a page turn)."""
    compare, calendar, listing = _parts(principal, unit, period)
    from dash import dcc

    can_write = principal.can("record_activity") and principal.can_see_unit(unit)
    form = make_record_form(list(ar.activity_types(table)), dt.date.today().isoformat()) if can_write else None
    return html.Div([
        html.A(id="records"),
        dcc.Store(id="records-refresh", data=0),
        dcc.Store(id="records-edit-id", data=None),
        dcc.Store(id="records-detail-id", data=None),
        make_section("填报数与活动记录对照（差额即现场核对重点）", html.Div(compare, id="records-compare"),
                     id_="records-compare-section"),
        make_section("活动日历（每月开展情况）", html.Div(calendar, id="records-calendar"),
                     id_="records-calendar-section"),
        make_section("活动记录", [form, html.Hr() if form else None, html.Div(listing, id="records-list")],
                     id_="records-section"),
        make_record_modal(),
    ], id="records-panel")


@secure_callback(Output("records-compare", "children"), Output("records-calendar", "children"),
                 Output("records-list", "children"), Input("records-refresh", "data"),
                 Input("records-page", "active_page"), State("branch-key", "data"), prevent_initial_call=True,
                 action="view_scores")
def _view(n, page, key):
    """Re-draw the comparison, the strip and the list after a write (refresh) or a page turn."""
    if _key(key) is None:
        return no_update, no_update, no_update
    p = current_principal()
    page = max(0, int(page) - 1) if isinstance(page, int) and dash.ctx.triggered_id == "records-page" else 0
    try:
        return _parts(p, key["unit"], key["period"], page)
    except NotFound:
        return no_update, no_update, no_update


def _int(v) -> int | None:
    if v in (None, ""):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(v) from None
    if not f.is_integer():
        raise ValueError(v)
    return int(f)


def _input(type_, date, topic, place, expected, attended, host, lectured, note) -> ar.RecordInput:
    try:
        day = dt.date.fromisoformat(str(date)) if date else None
    except ValueError:
        day = None
    return ar.RecordInput(activity_type=str(type_ or ""), held_on=day, topic=topic, place=place,
                          expected=_int(expected), attended=_int(attended), host=host,
                          secretary_lectured=bool(lectured) if isinstance(lectured, list) else None, note=note)


def _branch_body(principal, key):
    """The branch page's figures, re-drawn after a write: with 「以活动记录为准」 the score moves with it."""
    from pages import branch

    d, prov = branch._detail(principal, key["unit"], key["period"])
    return prov if d is None else branch._body(principal, d, prov, key["period"], key.get("area"))


def _attach_targets(principal, key):
    """The 佐证材料 form's targets with the new record in them (a photo can go to it straight away)."""
    from pages import _attachments

    try:
        return _attachments._targets(principal, key["unit"], key["period"], services.table_for_period(key["period"]))
    except (NotFound, AccessDenied):
        return no_update


@secure_callback(Output("records-msg", "children"), Output("records-refresh", "data"),
                 Output("records-edit-id", "data"), Output("records-form-mode", "children"),
                 Output("branch-body", "children", allow_duplicate=True),
                 Output("branch-attach-target", "options", allow_duplicate=True),
                 Input("records-save", "n_clicks"), State("branch-key", "data"), State("records-edit-id", "data"),
                 State("records-f-type", "value"), State("records-f-date", "value"), State("records-f-topic", "value"),
                 State("records-f-place", "value"), State("records-f-expected", "value"),
                 State("records-f-attended", "value"), State("records-f-host", "value"),
                 State("records-f-lectured", "value"), State("records-f-note", "value"),
                 State("records-refresh", "data"), prevent_initial_call=True, action="record_activity")
def _save(n_clicks, key, edit_id, type_, date, topic, place, expected, attended, host, lectured, note, n):
    if not n_clicks or _key(key) is None:
        return (no_update,) * 6
    p = current_principal()
    try:
        rec = _input(type_, date, topic, place, expected, attended, host, lectured, note)
    except ValueError:
        return make_alert("应到、实到人数应为整数", "warning"), no_update, no_update, no_update, no_update, no_update
    try:
        if isinstance(edit_id, int):
            new = ar.edit_record(p, edit_id, rec)
            done = f"已更正为记录 #{new}（原记录 #{edit_id} 保留备查）"
        else:
            new = ar.add_record(p, key["unit"], rec)
            done = f"已登记 {rec.held_on} {rec.activity_type}（记录 #{new}）"
    except (ar.InvalidInput, NotFound) as exc:
        return make_alert(str(exc), "warning"), no_update, no_update, no_update, no_update, no_update
    refreshed = (n if isinstance(n, int) else 0) + 1
    return (make_alert(f"{done}，已记入审计日志（{dt.datetime.now():%H:%M:%S}）", "success"), refreshed, None,
            "新增一条活动记录", _branch_body(p, key), _attach_targets(p, key))


@secure_callback(Output("records-refresh", "data", allow_duplicate=True), Input("branch-attach-msg", "children"),
                 State("records-refresh", "data"), State("branch-key", "data"), prevent_initial_call=True,
                 action="view_scores")
def _after_attachment(msg, n, key):
    """A file uploaded or removed in 佐证材料: the calendar's file counts are re-drawn."""
    if not msg or _key(key) is None:
        return no_update
    return (n if isinstance(n, int) else 0) + 1


@secure_callback(Output("records-detail", "is_open"), Output("records-detail-body", "children"),
                 Output("records-detail-id", "data"), Output("records-detail-msg", "children"),
                 Input({"type": "records-open", "id": ALL}, "n_clicks"), Input("records-detail-close", "n_clicks"),
                 State("branch-key", "data"), prevent_initial_call=True, action="view_scores")
def _open(clicks, close, key):
    trigger = dash.ctx.triggered_id
    if trigger == "records-detail-close":
        return False, no_update, None, None
    # Re-drawn chips fire with n_clicks 0: only a real click opens the dialog.
    if not pattern_clicked() or _key(key) is None:
        return no_update, no_update, no_update, no_update
    p = current_principal()
    try:
        rid = int(trigger.get("id"))
        d = ar.get_record(p, rid)
        history = ar.record_history(p, rid)
    except (NotFound, TypeError, ValueError):
        return no_update, no_update, no_update, no_update
    if d["unit"] != key["unit"]:
        return no_update, no_update, no_update, no_update
    can_write = p.can("record_activity") and p.can_see_unit(d["unit"])
    files = _record_files(p, key["unit"], key["period"], rid)
    return True, make_record_detail(d, history, can_write, files), rid, None


@secure_callback(Output("records-detail-msg", "children", allow_duplicate=True),
                 Output("records-refresh", "data", allow_duplicate=True),
                 Output("records-detail", "is_open", allow_duplicate=True),
                 Output("branch-body", "children", allow_duplicate=True),
                 Input("records-withdraw", "n_clicks"), State("records-detail-id", "data"),
                 State("records-withdraw-reason", "value"), State("branch-key", "data"), State("records-refresh", "data"),
                 prevent_initial_call=True, action="record_activity")
def _withdraw(n_clicks, rid, reason, key, n):
    if not n_clicks or not isinstance(rid, int) or _key(key) is None:
        return no_update, no_update, no_update, no_update
    p = current_principal()
    try:
        ar.withdraw_record(p, rid, reason or "")
    except (ar.InvalidInput, NotFound) as exc:
        return make_alert(str(exc), "warning"), no_update, no_update, no_update
    return None, (n if isinstance(n, int) else 0) + 1, False, _branch_body(p, key)


@secure_callback(Output("records-f-type", "value"), Output("records-f-date", "value"),
                 Output("records-f-topic", "value"), Output("records-f-place", "value"),
                 Output("records-f-expected", "value"), Output("records-f-attended", "value"),
                 Output("records-f-host", "value"), Output("records-f-lectured", "value"),
                 Output("records-f-note", "value"), Output("records-edit-id", "data", allow_duplicate=True),
                 Output("records-form-mode", "children", allow_duplicate=True),
                 Output("records-detail", "is_open", allow_duplicate=True),
                 Input("records-edit", "n_clicks"), State("records-detail-id", "data"), State("branch-key", "data"),
                 prevent_initial_call=True, action="record_activity")
def _load_for_edit(n_clicks, rid, key):
    """更正: the record's values into the form; saving then supersedes it."""
    if not n_clicks or not isinstance(rid, int) or _key(key) is None:
        return (no_update,) * 12
    p = current_principal()
    try:
        d = ar.get_record(p, rid)
    except NotFound:
        return (no_update,) * 12
    if d["unit"] != key["unit"] or not p.can_see_unit(d["unit"]):
        raise AccessDenied("record_activity")
    return (d["activity_type"], d["held_on"].isoformat(), d.get("topic"), d.get("place"), d.get("expected"),
            d.get("attended"), d.get("host"), ["yes"] if d.get("secretary_lectured") else [], d.get("note"), rid,
            html.Span(f"正在更正记录 #{rid}：修改后点「保存记录」，原记录保留备查", className="text-danger"), False)
