"""Document buttons of the ranking, branch and 整改台账 pages: thin callbacks over ``data.document_files``.

Imported by those pages (files starting with "_" are not pages themselves). Every callback
is a ``secure_callback`` (role checked on the server, in the callback-matrix test); unit scope
is checked again by the services the builders call. While a file is being made the buttons
are disabled and a note says so (``running``); the 10,000-unit zip runs as a background job
with a progress bar on the 工作量统计 page.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, no_update

from auth import current_principal, secure_callback
from components.documents import BUSY_TEXT, doc_button_id
from components.cards import make_alert
from data import document_files as files
from data import services
from data.permissions import NotFound
from reports.pdf import PdfUnavailable

RANKINGS = [("workbook", "排名工作簿"), ("bulletin-docx", "通报 Word"), ("bulletin-pdf", "通报 PDF")]
BRANCH = [("feedback-docx", "反馈单 Word"), ("feedback-pdf", "反馈单 PDF"), ("notice-docx", "整改通知书 Word"),
          ("notice-pdf", "整改通知书 PDF")]
RECTIFICATIONS = [("register", "导出整改台账")]
USER_ERRORS = (NotFound, PdfUnavailable, files.UnsupportedFormat, services.InvalidInput)


def _running(prefix: str, items) -> list:
    return ([(Output(f"{prefix}-doc-busy", "children"), BUSY_TEXT, "")]
            + [(Output(doc_button_id(prefix, k), "disabled"), True, False) for k, _ in items])


def _send(build):
    try:
        name, data = build()
    except USER_ERRORS as exc:
        return no_update, make_alert(str(exc), "warning")
    return dcc.send_bytes(data, name), ""


def _clicked(prefix: str) -> str | None:
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, str) or not trigger.startswith(f"{prefix}-doc-"):
        return None
    if not any(t.get("value") for t in dash.ctx.triggered):
        return None  # a button rendered, not clicked
    return trigger[len(prefix) + 5:]


@secure_callback(Output("rankings-doc-download", "data"), Output("rankings-doc-msg", "children"),
                 *[Input(doc_button_id("rankings", k), "n_clicks") for k, _ in RANKINGS],
                 State("rankings-period", "value"), prevent_initial_call=True, action="view_scores",
                 running=_running("rankings", RANKINGS))
def _rankings_documents(*args):
    period_code = args[-1]
    key = _clicked("rankings")
    if key is None or not services.period_exists(period_code):
        return no_update, no_update
    p = current_principal()
    if key == "workbook":
        return _send(lambda: files.ranking_workbook(p, period_code))
    return _send(lambda: files.bulletin(p, period_code, key.split("-")[1]))


@secure_callback(Output("branch-doc-download", "data"), Output("branch-doc-msg", "children"),
                 *[Input(doc_button_id("branch", k), "n_clicks") for k, _ in BRANCH],
                 State("branch-key", "data"), prevent_initial_call=True, action="view_scores",
                 running=_running("branch", BRANCH))
def _branch_documents(*args):
    key_data = args[-1]
    key = _clicked("branch")
    if (key is None or not isinstance(key_data, dict) or not isinstance(key_data.get("unit"), str)
            or not services.period_exists(key_data.get("period"))):
        return no_update, no_update
    p, unit, period_code = current_principal(), key_data["unit"], key_data["period"]
    kind, fmt = key.split("-")
    if kind == "feedback":
        return _send(lambda: files.feedback(p, period_code, fmt, unit_code=unit))
    return _send(lambda: files.notice(p, period_code, unit, fmt))


@secure_callback(Output("rect-doc-download", "data"), Output("rect-doc-msg", "children"),
                 Input(doc_button_id("rect", "register"), "n_clicks"), prevent_initial_call=True,
                 action="view_scores", running=_running("rect", RECTIFICATIONS))
def _rectification_documents(n_clicks):
    if not n_clicks:
        return no_update, no_update
    return _send(lambda: files.rectification_workbook(current_principal()))
