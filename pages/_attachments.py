"""The 佐证材料 section of 支部详情: upload to an item or a record, thumbnails, downloads, delete, review.

Thin callbacks over ``data.attachments`` and ``data.evidence_flags`` (role checked by
``secure_callback``, unit scope and the published-period freeze checked again in the services).
The section lives outside ``branch-body`` and re-draws itself after each write, so it does not
disturb the rest of the page. Imported by ``pages/branch.py`` (files starting with "_" are not pages).
"""
from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.attachments import (
    make_attachment_card, make_attachment_grid, make_no_evidence_badge, make_review_modal, make_upload_form,
)
from components.cards import make_alert, make_section
from components.formats import fmt_datetime
from data import attachments, evidence_flags, services
from data.models import PERIOD_STATUSES, REVIEW_STATUSES
from data.permissions import AccessDenied, NotFound
from pages._access import decode_upload

USER_ERRORS = (attachments.InvalidAttachment, services.InvalidInput, NotFound)
MB = 1024 * 1024


def no_evidence_items(principal, unit_code: str, period_code: str) -> set[str]:
    """Item codes of the unit flagged 无佐证 (empty when the unit is not scored or not visible)."""
    try:
        return evidence_flags.unit_flags(principal, unit_code, period_code)
    except (NotFound, AccessDenied):
        return set()


def _key(key) -> tuple[str, str] | None:
    if not isinstance(key, dict) or not isinstance(key.get("unit"), str) or not isinstance(key.get("period"), str):
        return None
    return key["unit"], key["period"]


def _targets(principal, unit_code: str, period_code: str, table) -> list[dict]:
    opts = [{"label": f"指标 {i.code} {i.name}", "value": f"item:{i.code}"} for i in table.all_items]
    opts += [{"label": f"活动记录 {r['label']}"[:80], "value": f"record:{r['id']}"}
             for r in attachments.unit_records(principal, unit_code, period_code)]
    return opts


def _body(principal, unit_code: str, period_code: str, table=None, flags: set[str] | None = None) -> list:
    """``flags``: the unit's 无佐证 items when the caller has them already (the branch page's layout)."""
    table = table or services.table_for_period(period_code)
    names = {i.code: i.name for i in table.all_items}
    rows = attachments.unit_attachments(principal, unit_code, period_code)
    flags = sorted(no_evidence_items(principal, unit_code, period_code) if flags is None else flags)
    can_review = principal.can(attachments.REVIEW_ACTION)
    can_delete = principal.can(attachments.UPLOAD_ACTION)
    cards = []
    for r in rows:
        target = (f"活动记录 {r['record_label']}" if r["record_id"] is not None
                  else f"指标 {r['item']} {names.get(r['item'], '')}")
        uploaded = f"{r['uploaded_by'] or '—'} {fmt_datetime(r['uploaded_at'])}"
        deletable = can_delete and (principal.sees_all_units or r["review_status"] is None)
        cards.append(make_attachment_card(r, target, uploaded, can_review, deletable))
    if flags:
        flag_line = html.Div([make_no_evidence_badge(True), html.Span(
            f" 本期得分为达标但没有佐证材料或活动记录的指标：{'、'.join(flags)}", className="small")],
            className="mb-2", id="branch-attach-flags")
    else:
        flag_line = html.Div("本期达标的指标均有佐证材料或活动记录。", className="small-muted mb-2",
                             id="branch-attach-flags")
    return [flag_line, make_attachment_grid(cards)]


def section(principal, unit_code: str, period_code: str, table, flags: set[str] | None = None) -> html.Div:
    """The whole section (called from the branch page's layout, after its own role and scope checks;
    ``flags``: the 无佐证 items it computed for the item rows, so they are not computed twice)."""
    published = services.get_period_info(period_code).status == PERIOD_STATUSES[-1]
    form = None
    if principal.can(attachments.UPLOAD_ACTION):
        if published:
            form = html.Div("本期考核结果已发布，指标的佐证材料不能再增删。", className="small-muted mb-2")
        else:
            form = make_upload_form(_targets(principal, unit_code, period_code, table), attachments.ALLOWED_TEXT,
                                    f"单个文件不超过 {attachments.MAX_FILE_BYTES / MB:g} MB，"
                                    f"每个单位合计不超过 {attachments.MAX_UNIT_BYTES / MB:g} MB")
    return html.Div([
        dcc.Store(id="branch-attach-review-id"),
        make_section("佐证材料", [form, html.Div(id="branch-attach-msg"),
                                  html.Div(_body(principal, unit_code, period_code, table, flags), id="branch-attach-body")],
                     id_="branch-attach"),
        make_review_modal() if principal.can(attachments.REVIEW_ACTION) else None,
    ])


def _redraw(key) -> list:
    return _body(current_principal(), key["unit"], key["period"])


@secure_callback(Output("branch-attach-msg", "children"), Output("branch-attach-body", "children"),
                 Input("branch-attach-upload", "contents"), State("branch-attach-upload", "filename"),
                 State("branch-attach-target", "value"), State("branch-key", "data"),
                 prevent_initial_call=True, action="upload")
def _upload(contents, filename, target, key):
    if _key(key) is None or not contents:
        return no_update, no_update
    data = decode_upload(contents)
    name = filename if isinstance(filename, str) else "未命名文件"
    if data is None:
        return make_alert(f"文件「{name}」读取失败，请重新选择", "warning"), no_update
    if not isinstance(target, str) or ":" not in target:
        return make_alert("请先选择材料对应的指标或活动记录", "warning"), no_update
    kind, _, ref = target.partition(":")
    p = current_principal()
    try:
        if kind == "item":
            attachments.attach_to_item(p, key["period"], key["unit"], ref, name, data)
        elif kind == "record" and ref.isdigit():
            attachments.attach_to_record(p, int(ref), name, data)
        else:
            return make_alert("请先选择材料对应的指标或活动记录", "warning"), no_update
    except USER_ERRORS as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert(f"已上传「{name}」", "success"), _redraw(key)


def _clicked_id(kind: str) -> int | None:
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or trigger.get("type") != kind or not isinstance(trigger.get("id"), int):
        return None
    if not any(t.get("value") for t in dash.ctx.triggered):
        return None  # the buttons were drawn, not clicked
    return trigger["id"]


@secure_callback(Output("branch-attach-msg", "children", allow_duplicate=True),
                 Output("branch-attach-body", "children", allow_duplicate=True),
                 Input({"type": "branch-attach-del", "id": ALL}, "n_clicks"), State("branch-key", "data"),
                 prevent_initial_call=True, action="upload")
def _delete(_clicks, key):
    aid = _clicked_id("branch-attach-del")
    if aid is None or _key(key) is None:
        return no_update, no_update
    try:
        attachments.delete_attachment(current_principal(), aid)
    except USER_ERRORS as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert("已删除该佐证材料", "success"), _redraw(key)


@secure_callback(Output("branch-attach-review-modal", "is_open"), Output("branch-attach-review-id", "data"),
                 Output("branch-attach-review-file", "children"), Output("branch-attach-review-note", "value"),
                 Output("branch-attach-review-msg", "children"),
                 Input({"type": "branch-attach-review", "id": ALL}, "n_clicks"), State("branch-key", "data"),
                 prevent_initial_call=True, action="review_attachment")
def _open_review(_clicks, key):
    aid = _clicked_id("branch-attach-review")
    if aid is None or _key(key) is None:
        return (no_update,) * 5
    try:
        f = attachments.open_for_download(current_principal(), aid)
    except NotFound:
        return (no_update,) * 5
    return True, aid, f.file_name, "", None


@secure_callback(Output("branch-attach-review-msg", "children", allow_duplicate=True),
                 Output("branch-attach-review-modal", "is_open", allow_duplicate=True),
                 Output("branch-attach-body", "children", allow_duplicate=True),
                 Input("branch-attach-review-ok", "n_clicks"), Input("branch-attach-review-bad", "n_clicks"),
                 State("branch-attach-review-id", "data"), State("branch-attach-review-note", "value"),
                 State("branch-key", "data"), prevent_initial_call=True, action="review_attachment")
def _save_review(ok, bad, aid, note, key):
    trigger = dash.ctx.triggered_id
    if trigger not in ("branch-attach-review-ok", "branch-attach-review-bad") or not (ok or bad):
        return no_update, no_update, no_update
    if not isinstance(aid, int) or _key(key) is None:
        return no_update, no_update, no_update
    status = REVIEW_STATUSES[0] if trigger == "branch-attach-review-ok" else REVIEW_STATUSES[1]
    try:
        attachments.review_attachment(current_principal(), aid, status, note if isinstance(note, str) else "")
    except USER_ERRORS as exc:
        return make_alert(str(exc), "warning"), no_update, no_update
    return None, False, _redraw(key)
