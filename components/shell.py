"""The application frame: navigation bar, page header, 403/404 bodies, empty and loading states."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html


def make_navbar(links: list[tuple[str, str, int]], user_name: str, role_label: str,
                csrf_token: str = "") -> dbc.Navbar:
    nav = [dbc.NavItem(dbc.NavLink(name, href=href, active="exact", id=f"nav-{href.strip('/') or 'home'}"))
           for name, href, _ in links]
    user = []
    if user_name:
        # Sign-out is a POST carrying the CSRF token: a link or <img> elsewhere cannot sign anyone out.
        logout = html.Form([dcc.Input(type="hidden", name="csrf_token", value=csrf_token, id="nav-logout-token"),
                            html.Button("退出", type="submit", className="btn btn-sm btn-outline-light",
                                        id="nav-logout")], method="POST", action="/logout", className="d-inline m-0")
        user = [html.Span([html.Span(user_name, id="nav-user-name", className="fw-semibold"),
                           html.Span(role_label, id="nav-user-role", className="badge bg-light text-danger ms-2")],
                          className="text-white me-3"),
                html.A("修改密码", href="/password", className="btn btn-sm btn-link text-white me-2",
                       id="nav-password"),
                logout]
    return dbc.Navbar(
        dbc.Container([
            html.A([html.Span("党", className="brand-emblem"), html.Span("党建工作考核系统", className="brand-text")],
                   href="/", className="navbar-brand d-flex align-items-center"),
            dbc.Nav(nav, navbar=True, className="me-auto", id="nav-links"),
            html.Div(user, className="d-flex align-items-center"),
        ], fluid=True),
        color="danger", dark=True, className="app-navbar mb-3", id="app-navbar",
    )


def make_page_header(title: str, subtitle: str | None = None, right=None) -> html.Div:
    return html.Div([
        html.Div([html.H1(title, className="page-title"),
                  html.Div(subtitle, className="page-subtitle") if subtitle else None]),
        html.Div(right, className="page-header-right") if right is not None else None,
    ], className="page-header")


def make_error_body(code: int, message: str | None = None) -> html.Div:
    titles = {403: "无权访问", 404: "未找到", 400: "请求无效"}
    default = {403: "您的账号没有访问该内容的权限，如需开通请联系系统管理员。",
               404: "您访问的单位或页面不存在，请检查地址或从排名总览进入。",
               400: "地址中的参数无效。"}
    return html.Div([
        html.Div(str(code), className="error-code"),
        html.H2(titles.get(code, "出错了"), className="h4"),
        html.P(message or default.get(code, ""), className="text-muted"),
        dcc.Link("返回排名总览", href="/", className="btn btn-outline-danger"),
    ], className="error-body", id=f"error-{code}")


def make_empty(message: str = "暂无数据") -> html.Div:
    return html.Div(message, className="empty-state")


def make_loading(children, id_: str | None = None):
    kwargs = {"id": id_} if id_ else {}
    return dcc.Loading(children, type="default", color="#c0392b", delay_show=300, **kwargs)


def make_period_select(id_: str, periods: list[tuple[str, str]], value: str | None) -> dbc.Select:
    return dbc.Select(id=id_, options=[{"label": label, "value": code} for code, label in periods],
                      value=value, className="period-select", size="sm")
