"""系统管理 (admin): accounts (create, enable/disable, reset password) and assessment periods
(open a new period on a stored indicator-table version). Every change is audited by the service."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from components.formats import fmt_date, fmt_datetime
from components.grids import make_grid, text_col
from components.shell import make_page_header
from data import accounts, services
from data.permissions import ALL_ROLES, ROLE_LABELS
from pages._access import guard

dash.register_page(__name__, path="/admin", name="系统管理", title="系统管理 · 党建工作考核系统",
                   nav=True, nav_key="admin", nav_order=8)


def _users_grid(principal):
    rows = [{"username": u["username"], "display_name": u["display_name"], "role": ROLE_LABELS.get(u["role"], u["role"]),
             "units": "、".join(u["units"]) if u["units"] else ("全部" if u["role"] != "staff" else "—"),
             "active": "启用" if u["active"] else "已停用", "last_login": fmt_datetime(u["last_login_at"])}
            for u in accounts.list_users(principal)]
    return make_grid("admin-users-grid", rows, [
        text_col("username", "用户名", 110), text_col("display_name", "姓名", 140), text_col("role", "角色", 100),
        text_col("units", "负责单位", 200, flex=2), text_col("active", "状态", 80),
        text_col("last_login", "最近登录", 150)], height=320, row_id="username")


def _periods_table():
    rows = [html.Tr([html.Td(p.code), html.Td("上半年" if p.kind == "H1" else "年度"),
                     html.Td(f"{fmt_date(p.start_date)} — {fmt_date(p.end_date)}"), html.Td(p.table_version),
                     html.Td(p.status)]) for p in services.periods()]
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in ("考核期", "类型", "起止", "指标体系版本", "状态")])),
                      html.Tbody(rows)], size="sm", className="mb-0", id="admin-periods")


def layout(**_):
    principal, denied = guard("admin")
    if denied:
        return denied
    versions = [v["version"] for v in services.table_versions()]
    role_opts = [{"label": ROLE_LABELS[r], "value": r} for r in ALL_ROLES]
    users = make_section("用户", [
        html.Div(_users_grid(principal), id="admin-users"),
        html.H3("新建用户", className="h6 mt-3"),
        dbc.Row([
            dbc.Col(dbc.Input(id="admin-new-username", placeholder="用户名（字母、数字）"), md=2),
            dbc.Col(dbc.Input(id="admin-new-name", placeholder="姓名"), md=2),
            dbc.Col(dbc.Select(id="admin-new-role", options=role_opts, value="staff"), md=2),
            dbc.Col(dbc.Input(id="admin-new-units", placeholder="负责单位编码，逗号分隔（党务干事必填）"), md=3),
            dbc.Col(dbc.Input(id="admin-new-password", type="password", placeholder="初始密码（至少 8 位）",
                              autoComplete="new-password"), md=2),
            dbc.Col(dbc.Button("创建", id="admin-new-save", color="danger", className="w-100"), md=1),
        ], className="g-2"),
        html.H3("启用 / 停用 / 重置密码", className="h6 mt-3"),
        dbc.Row([
            dbc.Col(dbc.Input(id="admin-user", placeholder="用户名"), md=3),
            dbc.Col(dbc.Select(id="admin-user-action", value="disable", options=[
                {"label": "停用", "value": "disable"}, {"label": "启用", "value": "enable"},
                {"label": "重置密码", "value": "password"}]), md=2),
            dbc.Col(dbc.Input(id="admin-user-password", type="password", placeholder="新密码（重置密码时填写）",
                              autoComplete="new-password"), md=3),
            dbc.Col(dbc.Button("执行", id="admin-user-save", color="secondary", outline=True, className="w-100"), md=2),
        ], className="g-2"),
        html.Div(id="admin-users-msg", className="mt-2"),
    ])
    periods = make_section("考核期", [
        html.Div(_periods_table(), id="admin-periods-box"),
        html.H3("新建考核期", className="h6 mt-3"),
        dbc.Row([
            dbc.Col(dbc.Input(id="admin-period-code", placeholder="如 2026（年度）或 2027H1（上半年）"), md=4),
            dbc.Col(dbc.Select(id="admin-period-version", options=[{"label": f"指标体系 {v} 版", "value": v}
                                                                   for v in versions],
                               value=versions[-1] if versions else None), md=4),
            dbc.Col(dbc.Button("新建", id="admin-period-save", color="danger", className="w-100"), md=2),
        ], className="g-2"),
        html.Div(id="admin-periods-msg", className="mt-2"),
        html.H3("重新开放已发布的考核期", className="h6 mt-3"),
        html.P("已发布的考核结果是冻结的快照；确需更正时在此重新开放（状态回到「考核中」，理由记入审计日志），"
               "更正后由考核组再次发布，记为「第 2 次发布」，早先的发布仍可查。", className="small-muted mb-2"),
        dbc.Row([
            dbc.Col(dbc.Select(id="admin-reopen-period", placeholder="选择已发布的考核期",
                               options=[{"label": p.code, "value": p.code} for p in services.periods()
                                        if p.status == "已发布"]), md=3),
            dbc.Col(dbc.Input(id="admin-reopen-reason", placeholder="重新开放的理由（必填）", maxLength=500), md=5),
            dbc.Col(dbc.Button("重新开放", id="admin-reopen-save", color="secondary", outline=True,
                               className="w-100"), md=2),
        ], className="g-2"),
        html.Div(id="admin-reopen-msg", className="mt-2"),
    ])
    return html.Div([make_page_header("系统管理", "用户、考核期；指标体系版本在「指标体系」页上传；所有变更记入审计日志"),
                     users, periods])


@secure_callback(Output("admin-users-msg", "children"), Output("admin-users", "children"),
                 Input("admin-new-save", "n_clicks"), Input("admin-user-save", "n_clicks"),
                 State("admin-new-username", "value"), State("admin-new-name", "value"),
                 State("admin-new-role", "value"), State("admin-new-units", "value"),
                 State("admin-new-password", "value"), State("admin-user", "value"),
                 State("admin-user-action", "value"), State("admin-user-password", "value"),
                 prevent_initial_call=True, action="manage_users")
def _users(new_clicks, user_clicks, username, name, role, units, password, target, action, new_password):
    p = current_principal()
    trigger = dash.ctx.triggered_id
    try:
        if trigger == "admin-new-save" and new_clicks:
            codes = [c.strip() for c in (units or "").replace("，", ",").split(",") if c.strip()]
            if role == "staff" and not codes:
                return make_alert("党务干事须指定负责的单位编码", "warning"), no_update
            accounts.create_user((username or "").strip(), password or "", role or "", display_name=name or None,
                                 unit_codes=codes, actor=p)
            msg = f"已创建用户 {username}"
        elif trigger == "admin-user-save" and user_clicks:
            target = (target or "").strip()
            if action == "password":
                accounts.set_user_password(p, target, new_password or "")
                msg = f"已重置 {target} 的密码"
            else:
                accounts.set_user_active(p, target, action == "enable")
                msg = f"已{'启用' if action == 'enable' else '停用'} {target}"
        else:
            return no_update, no_update
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert(msg + "（已记入审计日志）", "success"), _users_grid(p)


@secure_callback(Output("admin-periods-msg", "children"), Output("admin-periods-box", "children"),
                 Input("admin-period-save", "n_clicks"), State("admin-period-code", "value"),
                 State("admin-period-version", "value"), prevent_initial_call=True, action="manage_tables")
def _periods(n_clicks, code, version):
    if not n_clicks:
        return no_update, no_update
    try:
        created = services.create_period(current_principal(), code or "", version or "")
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    return make_alert(f"已新建考核期 {created}（状态：填报中）", "success"), _periods_table()


@secure_callback(Output("admin-reopen-msg", "children"), Output("admin-periods-box", "children", allow_duplicate=True),
                 Input("admin-reopen-save", "n_clicks"), State("admin-reopen-period", "value"),
                 State("admin-reopen-reason", "value"), prevent_initial_call=True, action="reopen_period")
def _reopen(n_clicks, period_code, reason):
    from data import publication

    if not n_clicks:
        return no_update, no_update
    if not services.period_exists(period_code):
        return make_alert("请选择已发布的考核期", "warning"), no_update
    try:
        n = publication.reopen(current_principal(), period_code, reason if isinstance(reason, str) else "")
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    return (make_alert(f"已重新开放 {period_code}（状态：考核中，已记入审计日志）；{publication.label(n)}的结果仍保留可查，"
                       f"再次发布将记为{publication.label(n + 1)}", "success"), _periods_table())
