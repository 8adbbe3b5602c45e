"""直接定级 on the branch page: a small form for inspectors, shown only when the period's table allows it.

Kept out of ``pages/branch.py`` (a page several people edit); ``branch.py`` imports it, which
registers the callback. The write goes through ``data.grading`` (role, unit, table and reason
checked there; audited).
"""
from __future__ import annotations

import datetime as dt
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from data import grading, services
from data.permissions import NotFound


def make_override_form(table, unit: dict, period_code: str) -> html.Div | None:
    """The form, or None when the table does not allow 直接定级."""
    if not table.allow_override:
        return None
    current = grading.current_override(period_code, str(unit["unit"]))
    note = (f"当前直接定级：{current['grade']}（{current['reason']}）" if current
            else f"当前等次由计分规则确定：{unit.get('grade_reason') or unit.get('grade')}")
    form = dbc.Form([
        html.Div(note, className="small-muted mb-2", id="branch-override-current"),
        dbc.Row([
            dbc.Col(dbc.Select(id="branch-override-grade", placeholder="选择等次",
                               options=[{"label": g, "value": g} for g in table.grade_order()]), md=4),
            dbc.Col(dbc.Input(id="branch-override-reason", placeholder="直接定级依据（必填），如：年度荣获区级及以上先进基层党组织"),
                    md=8),
        ], className="g-2 mb-2"),
        dbc.Button("直接定级", id="branch-override-save", color="danger", size="sm", className="me-2"),
        dbc.Button("撤销直接定级", id="branch-override-clear", color="secondary", outline=True, size="sm",
                   disabled=current is None),
        html.Div(id="branch-override-msg", className="mt-2"),
    ])
    return make_section("直接定级（指标体系允许时，须写明依据，记入审计日志）", form)


@secure_callback(Output("branch-override-msg", "children"), Output("branch-refresh", "data", allow_duplicate=True),
                 Input("branch-override-save", "n_clicks"), Input("branch-override-clear", "n_clicks"),
                 State("branch-key", "data"), State("branch-override-grade", "value"),
                 State("branch-override-reason", "value"), State("branch-refresh", "data"), prevent_initial_call=True,
                 action="judge")
def _override(save_clicks, clear_clicks, key, grade, reason, n):
    if not (save_clicks or clear_clicks) or not isinstance(key, dict) or not isinstance(key.get("unit"), str) \
            or not isinstance(key.get("period"), str):
        return no_update, no_update
    from dash import ctx

    clearing = ctx.triggered_id == "branch-override-clear"
    if not clearing and not grade:
        return make_alert("请选择等次", "warning"), no_update
    try:
        grading.set_grade_override(current_principal(), key["period"], key["unit"],
                                   None if clearing else str(grade), reason or "")
    except (services.InvalidInput, NotFound) as exc:
        return make_alert(str(exc), "warning"), no_update
    # branch-refresh re-renders the figures and rows in place (pages/branch.py), no reload.
    done = "已撤销直接定级并记入审计日志" if clearing else "已直接定级并记入审计日志"
    return (make_alert(f"{done}（{dt.datetime.now():%H:%M:%S}）", "success"),
            (n if isinstance(n, int) else 0) + 1)
