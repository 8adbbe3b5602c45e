"""系统管理 (admin): accounts (create, enable/disable, reset password) and assessment periods
(open a new period on a stored indicator-table version; edit its dates, 填报截止日期, what happens to
late uploads and — while nothing is committed — its table version). Every change is audited by the service."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from auth import current_principal, secure_callback
from components.cards import make_alert, make_section
from components.formats import fmt_date, fmt_datetime
from components.grids import make_grid, text_col
from components.shell import make_page_header
from data import accounts, periods, services
from data.models import LATE_POLICIES, RECORD_SOURCES
from data.permissions import ALL_ROLES, ROLE_LABELS
from pages._access import decode_upload, guard

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
                     html.Td(f"{fmt_date(p.start_date)} — {fmt_date(p.end_date)}"),
                     html.Td(fmt_date(p.deadline) if p.deadline else "未设"),
                     html.Td("拒绝" if p.late_policy == "refuse" else "警告"), html.Td(p.table_version),
                     html.Td(p.status)]) for p in services.periods()]
    heads = ("考核期", "类型", "起止", "填报截止日期", "逾期上传", "指标体系版本", "状态")
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)], size="sm",
                     className="mb-0", id="admin-periods")


_SOURCE_OPTIONS = [{"label": f"计分依据：{text}", "value": k} for k, text in RECORD_SOURCES.items()]

_LATE_OPTIONS = [{"label": ("截止后拒绝上传" if k == "refuse" else "截止后警告，仍可提交"), "value": k}
                 for k in LATE_POLICIES]


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
            dbc.Col(dbc.Input(id="admin-new-password", type="password", placeholder="初始密码（至少 12 位，首次登录须修改）",
                              autoComplete="new-password"), md=2),
            dbc.Col(dbc.Button("创建", id="admin-new-save", color="danger", className="w-100"), md=1),
        ], className="g-2"),
        html.H3("启用 / 停用 / 重置密码", className="h6 mt-3"),
        dbc.Row([
            dbc.Col(dbc.Input(id="admin-user", placeholder="用户名"), md=3),
            dbc.Col(dbc.Select(id="admin-user-action", value="disable", options=[
                {"label": "停用", "value": "disable"}, {"label": "启用", "value": "enable"},
                {"label": "重置密码", "value": "password"}]), md=2),
            dbc.Col(dbc.Input(id="admin-user-password", type="password", placeholder="新密码（至少 12 位；重置后须本人修改）",
                              autoComplete="new-password"), md=3),
            dbc.Col(dbc.Button("执行", id="admin-user-save", color="secondary", outline=True, className="w-100"), md=2),
        ], className="g-2"),
        html.Div(id="admin-users-msg", className="mt-2"),
        html.H3("批量导入用户", className="h6 mt-3"),
        html.P("上传 Excel 或 CSV：列为 用户名、姓名、角色（局领导/考核组/党务干事/系统管理员）、负责单位编码"
               "（可填多个，用顿号分隔）。先预览，确认后一次性创建；初始密码由系统生成，只显示一次，"
               "首次登录须修改。", className="text-muted small mb-2"),
        dcc.Upload(html.Div(["拖拽或", html.A("选择用户表"), "（.xlsx / .xls / .csv）"]), id="admin-users-upload",
                   className="upload-drop", max_size=2 * 1024 * 1024),
        html.Div(id="admin-users-import-preview", className="mt-2"),
        dbc.Button("确认导入", id="admin-users-import-commit", color="danger", className="mt-2", disabled=True),
        html.Div(id="admin-users-import-result", className="mt-2"),
    ])
    periods = make_section("考核期", [
        html.Div(_periods_table(), id="admin-periods-box"),
        html.H3("新建考核期", className="h6 mt-3"),
        dbc.Row([
            dbc.Col(dbc.Input(id="admin-period-code", placeholder="如 2026（年度）或 2027H1（上半年）"), md=3),
            dbc.Col(dbc.Select(id="admin-period-version", options=[{"label": f"指标体系 {v} 版", "value": v}
                                                                   for v in versions],
                               value=versions[-1] if versions else None), md=3),
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("填报截止"),
                                    dbc.Input(id="admin-period-deadline", type="date")]), md=4),
            dbc.Col(dbc.Button("新建", id="admin-period-save", color="danger", className="w-100"), md=2),
        ], className="g-2"),
        html.Div(id="admin-periods-msg", className="mt-2"),
        html.H3("修改考核期", className="h6 mt-3"),
        html.P("起止日期决定次数上限的折算（按考核期天数）和计入本期的活动记录；指标体系版本只能在该考核期还没有提交任何"
               "填报数据时更换；计分依据决定指标体系中可由活动记录得出的数据项按填报数还是按活动记录计分。",
               className="small-muted mb-2"),
        dbc.Row([
            dbc.Col(dbc.Select(id="admin-edit-period", placeholder="选择考核期",
                               options=[{"label": p.code, "value": p.code} for p in services.periods()]), md=2),
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("开始"), dbc.Input(id="admin-edit-start", type="date")]), md=3),
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("结束"), dbc.Input(id="admin-edit-end", type="date")]), md=3),
            dbc.Col(dbc.InputGroup([dbc.InputGroupText("填报截止"),
                                    dbc.Input(id="admin-edit-deadline", type="date")]), md=4),
        ], className="g-2"),
        dbc.Row([
            dbc.Col(dbc.Select(id="admin-edit-version", options=[{"label": f"指标体系 {v} 版", "value": v}
                                                                 for v in versions]), md=3),
            dbc.Col(dbc.Select(id="admin-edit-late", options=_LATE_OPTIONS, value="warn"), md=3),
            dbc.Col(dbc.Select(id="admin-edit-source", options=_SOURCE_OPTIONS, value="typed"), md=4),
            dbc.Col(dbc.Button("保存修改", id="admin-edit-save", color="danger", className="w-100"), md=2),
        ], className="g-2 mt-1"),
        html.Div(id="admin-edit-msg", className="mt-2"),
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
                 State("admin-period-version", "value"), State("admin-period-deadline", "value"),
                 prevent_initial_call=True, action="manage_tables")
def _periods(n_clicks, code, version, deadline):
    if not n_clicks:
        return no_update, no_update
    try:
        created = periods.create_period(current_principal(), code if isinstance(code, str) else "",
                                        version if isinstance(version, str) else "",
                                        deadline=deadline if isinstance(deadline, str) else None)
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    due = f"，填报截止日期 {deadline}" if isinstance(deadline, str) and deadline else ""
    return make_alert(f"已新建考核期 {created}（状态：填报中{due}）", "success"), _periods_table()


@secure_callback(Output("admin-edit-start", "value"), Output("admin-edit-end", "value"),
                 Output("admin-edit-deadline", "value"), Output("admin-edit-version", "value"),
                 Output("admin-edit-late", "value"), Output("admin-edit-source", "value"),
                 Input("admin-edit-period", "value"), prevent_initial_call=True, action="manage_tables")
def _load_period(code):
    """Fill the edit form with the chosen period's current settings."""
    if not isinstance(code, str) or not services.period_exists(code):
        return (no_update,) * 6
    p = services.get_period_info(code)
    return (p.start_date.isoformat(), p.end_date.isoformat(), p.deadline.isoformat() if p.deadline else None,
            p.table_version, p.late_policy, p.record_source)


_FIELD_LABELS = {"start_date": "开始日期", "end_date": "结束日期", "deadline": "填报截止日期",
                 "late_policy": "逾期上传", "table_version": "指标体系版本", "record_source": "计分依据"}


@secure_callback(Output("admin-edit-msg", "children"), Output("admin-periods-box", "children", allow_duplicate=True),
                 Input("admin-edit-save", "n_clicks"), State("admin-edit-period", "value"),
                 State("admin-edit-start", "value"), State("admin-edit-end", "value"),
                 State("admin-edit-deadline", "value"), State("admin-edit-version", "value"),
                 State("admin-edit-late", "value"), State("admin-edit-source", "value"), prevent_initial_call=True,
                 action="manage_tables")
def _edit_period(n_clicks, code, start, end, deadline, version, late, source=None):
    if not n_clicks:
        return no_update, no_update
    if not isinstance(code, str) or not services.period_exists(code):
        return make_alert("请选择考核期", "warning"), no_update
    args = {"start_date": start, "end_date": end, "deadline": deadline}
    args = {k: (v if isinstance(v, str) else None) for k, v in args.items()}
    if isinstance(source, str) and source in RECORD_SOURCES:  # anything else: leave the setting as it is
        args["record_source"] = source
    try:
        changes = periods.update_period(current_principal(), code, table_version=version if isinstance(version, str)
                                        else None, late_policy=late if late in LATE_POLICIES else "warn", **args)
    except services.InvalidInput as exc:
        return make_alert(str(exc), "warning"), no_update
    if not changes:
        return make_alert("没有需要保存的修改", "secondary"), no_update

    def show(v):
        if v is None:
            return "未设"
        if v in RECORD_SOURCES:
            return RECORD_SOURCES[v]
        return {"warn": "警告", "refuse": "拒绝"}.get(v, v.isoformat() if hasattr(v, "isoformat") else str(v))

    text = "；".join(f"{_FIELD_LABELS[k]}：{show(a)} → {show(b)}" for k, (a, b) in changes.items())
    return make_alert(f"已修改考核期 {code}：{text}（已记入审计日志）", "success"), _periods_table()


def _import_report(report):
    from data.permissions import ROLE_LABELS as LABELS

    issues = [html.Li(("错误：" if i.error else "提示：") + i.message,
                      className="text-danger" if i.error else "text-muted") for i in report.issues]
    rows = [html.Tr([html.Td(u["row"]), html.Td(u["username"]), html.Td(u["name"]), html.Td(LABELS[u["role"]]),
                     html.Td("、".join(u["units"]) or "—")]) for u in report.users]
    table = dbc.Table([html.Thead(html.Tr([html.Th(h) for h in ("行", "用户名", "姓名", "角色", "负责单位")])),
                       html.Tbody(rows)], size="sm", id="admin-users-import-table") if rows else None
    head = (make_alert(f"校验通过：将创建 {len(report.users)} 个账号，确认后一次性写入。", "info") if report.ok
            else make_alert("文件未通过校验，不会创建任何账号；请按下列提示修改后重新上传。", "warning"))
    return html.Div([head, html.Ul(issues, className="small") if issues else None, table])


@secure_callback(Output("admin-users-import-preview", "children"), Output("admin-users-import-commit", "disabled"),
                 Input("admin-users-upload", "contents"), State("admin-users-upload", "filename"),
                 prevent_initial_call=True, action="manage_users")
def _users_import_preview(contents, filename):
    from data import user_import

    data = decode_upload(contents)
    if data is None:
        return make_alert("请上传用户表文件", "warning"), True
    report = user_import.parse_users(data, str(filename or "用户表")[:120])
    return _import_report(report), not report.ok


@secure_callback(Output("admin-users-import-result", "children"), Output("admin-users", "children", allow_duplicate=True),
                 Output("admin-users-import-commit", "disabled", allow_duplicate=True),
                 Input("admin-users-import-commit", "n_clicks"), State("admin-users-upload", "contents"),
                 State("admin-users-upload", "filename"), prevent_initial_call=True, action="manage_users")
def _users_import_commit(n_clicks, contents, filename):
    from data import user_import

    if not n_clicks:
        return no_update, no_update, no_update
    data = decode_upload(contents)
    if data is None:
        return make_alert("请上传用户表文件", "warning"), no_update, True
    p = current_principal()
    report, created = user_import.commit_users(p, data, str(filename or "用户表")[:120])
    if not created:
        return _import_report(report), no_update, True
    rows = [html.Tr([html.Td(u), html.Td(html.Code(pw))]) for u, pw in created]
    return html.Div([
        make_alert(f"已创建 {len(created)} 个账号（已记入审计日志）。初始密码只显示这一次，请立即转交本人；"
                   "首次登录须修改密码。", "success"),
        dbc.Table([html.Thead(html.Tr([html.Th("用户名"), html.Th("初始密码")])), html.Tbody(rows)], size="sm",
                  id="admin-users-import-passwords"),
    ]), _users_grid(p), True


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
