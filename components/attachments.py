"""Layout builders for 佐证材料: file cards with thumbnails, review badges, the 无佐证 mark.

Pure functions over plain dicts (the rows ``data.attachments.unit_attachments`` returns); no data
or scoring imports. Links point at the attachment routes (``attachment_views.py``), which check
sign-in and scope again on every request.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.lite import el

NO_EVIDENCE = "无佐证"
REVIEW_COLORS = {"已核实": "success", "不符合": "danger", None: "secondary"}
TYPE_ICONS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPG",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX"}


def file_url(attachment_id: int) -> str:
    return f"/attachments/{int(attachment_id)}/file"


def thumb_url(attachment_id: int) -> str:
    return f"/attachments/{int(attachment_id)}/thumb"


def make_no_evidence_badge(flagged: bool, id_: str | None = None):
    """The 「无佐证」 mark next to an item scored 达标 with nothing behind it (None when not flagged;
    ``el``: it can be on every item row of the branch page)."""
    if not flagged:
        return None
    kwargs = {"id": id_} if id_ else {}
    return el(dbc.Badge, NO_EVIDENCE, color="warning", text_color="dark", className="nowrap ms-1 no-evidence",
              title="该项得分为达标，但没有上传佐证材料，也没有对应的活动记录", **kwargs)


def make_review_badge(status: str | None) -> dbc.Badge:
    return dbc.Badge(status or "未核查", color=REVIEW_COLORS.get(status, "secondary"), className="nowrap")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def make_attachment_card(row: dict, target: str, uploaded: str, can_review: bool = False,
                         can_delete: bool = False) -> html.Div:
    """One file: thumbnail (or its type), name, what it supports, review state, download and actions."""
    aid = row["id"]
    if row.get("has_thumbnail"):
        picture = html.Img(src=thumb_url(aid), alt=row["file_name"], className="attach-thumb")
    else:
        picture = html.Div(TYPE_ICONS.get(row["content_type"], "文件"), className="attach-thumb attach-icon")
    review = [make_review_badge(row.get("review_status"))]
    if row.get("review_note"):
        review.append(html.Span(row["review_note"], className="small ms-1 attach-note"))
    if row.get("reviewed_by"):
        review.append(html.Span(f"（{row['reviewed_by']}）", className="small-muted"))
    actions = [html.A("下载", href=file_url(aid), className="btn btn-sm btn-outline-secondary py-0",
                      id={"type": "branch-attach-dl", "id": aid})]
    if can_review:
        actions.append(html.Button("核查", id={"type": "branch-attach-review", "id": aid}, n_clicks=0, type="button",
                                   className="btn btn-sm btn-outline-danger py-0"))
    if can_delete:
        actions.append(html.Button("删除", id={"type": "branch-attach-del", "id": aid}, n_clicks=0, type="button",
                                   className="btn btn-sm btn-link text-muted py-0",
                                   title="删除后该文件不再显示（保留审计记录）"))
    return html.Div([
        html.A(picture, href=file_url(aid), title="下载"),
        html.Div([
            html.Div(row["file_name"], className="fw-semibold text-truncate attach-name", title=row["file_name"]),
            html.Div(target, className="small text-truncate", title=target),
            html.Div(f"{row.get('type_label', '')} · {_size(int(row.get('size') or 0))} · {uploaded}",
                     className="small-muted"),
            html.Div(review, className="mt-1"),
            html.Div(actions, className="d-flex gap-1 mt-1"),
        ], className="attach-body"),
    ], className="attach-card", id=f"branch-attach-{aid}")


def make_attachment_grid(cards: list, empty_text: str = "尚未上传佐证材料") -> html.Div:
    if not cards:
        return html.Div(empty_text, className="empty-state", id="branch-attach-empty")
    return html.Div(cards, className="attach-grid", id="branch-attach-grid")


def make_upload_form(targets: list[dict], allowed: str, limit_text: str) -> html.Div:
    """Target picker (an item, or one of the unit's records) and the drop zone."""
    return html.Div([
        dbc.Row([
            dbc.Col(dbc.Select(id="branch-attach-target", options=targets,
                               value=targets[0]["value"] if targets else None, size="sm"), md=5),
            dbc.Col(dcc.Upload(html.Div(["拖放文件到此处，或 ", html.A("选择文件")]), id="branch-attach-upload",
                               multiple=False, className="attach-drop"), md=7),
        ], className="g-2 align-items-center"),
        html.Div(f"允许 {allowed}；{limit_text}。类型按文件内容识别，图片会重新编码并去除拍摄信息。",
                 className="small-muted mt-1"),
    ], className="mb-2")


def make_review_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("核查佐证材料")),
        dbc.ModalBody([
            html.Div(id="branch-attach-review-file", className="fw-semibold mb-2"),
            dbc.Label("核查意见（标记「不符合」时必填）", html_for="branch-attach-review-note"),
            dbc.Textarea(id="branch-attach-review-note", rows=3, maxLength=500),
            html.Div(id="branch-attach-review-msg", className="mt-2"),
        ]),
        dbc.ModalFooter([
            html.Button("已核实", id="branch-attach-review-ok", n_clicks=0, type="button", className="btn btn-success"),
            html.Button("不符合", id="branch-attach-review-bad", n_clicks=0, type="button", className="btn btn-danger"),
        ]),
    ], id="branch-attach-review-modal", is_open=False)
