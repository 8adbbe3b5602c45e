"""Sign-in, the request guard, security headers, and the role-checked Dash callback decorator.

Owns everything between an HTTP request and the services: server-side sessions
(``session_store``), shared sign-in throttling (``data/throttle.py``), password change,
CSRF on the login and logout forms, the ``before_request`` guard over every
route, Chinese error pages, and ``secure_callback`` (``dash.callback`` plus a
server-side role check that a direct POST cannot skip). What a role may do is
decided in ``data/permissions.py``, not here.
"""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

import dash
from flask import (
    Blueprint, Flask, abort, current_app, g, jsonify, redirect, render_template_string, request, session, url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import session_store
from data import accounts
from data.permissions import ACTIONS, AccessDenied, NotFound, Principal

login_manager = LoginManager()
csrf = CSRFProtect()
bp = Blueprint("auth", __name__)

PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/login", "/_favicon.ico", "/favicon.ico", "/healthz")
API_PREFIXES = ("/_dash-", "/download/", "/_reload-hash")
# Open to a signed-in user who must first choose a new password.
PASSWORD_PREFIXES = ("/password", "/logout")


class WebUser(UserMixin):
    def __init__(self, principal: Principal):
        self.principal = principal
        self.id = str(principal.id)


@login_manager.user_loader
def _load_user(user_id: str):
    p, epoch = accounts.get_principal_and_epoch(int(user_id))
    if p is None or session.get("epoch") != epoch:
        # Disabled, or its sessions were ended (password change/reset, disable): this session is
        # dead for good, so drop it on the server too.
        session.clear()
        return None
    return WebUser(p)


def current_principal() -> Principal | None:
    """The signed-in user's Principal, or None (also outside a request)."""
    try:
        if current_user and current_user.is_authenticated:
            return current_user.principal
    except (AttributeError, RuntimeError):
        return None
    return None


# ----------------------------------------------------------------------------- Dash callbacks

class BadCallbackInput(Exception):
    """A callback received inputs of the wrong shape (HTTP 400)."""


# What wrong-typed inputs raise inside a callback and the services it calls.
MALFORMED = (TypeError, ValueError, KeyError, AttributeError, IndexError)


def secure_callback(*args, action: str = "view_scores", **kwargs):
    """``dash.callback`` that first checks the signed-in user may perform ``action``.

    The check runs inside the callback on the server, so a request POSTed straight to
    ``/_dash-update-component`` gets 403 and changes nothing. Unit-level checks happen
    in the services the callback calls (they raise AccessDenied → 403).
    """
    roles = ACTIONS[action]

    def decorate(fn):
        @functools.wraps(fn)
        def wrapped(*a, **k):
            p = current_principal()
            if p is None:
                abort(401)
            if p.role not in roles:
                abort(403)
            try:
                return fn(*a, **k)
            except MALFORMED as exc:
                # A forged or corrupted payload (a list where text belongs, a dict for a number...):
                # the caller gets a 400 with a Chinese message, never a traceback or a 500.
                # With the traceback: a server defect raising one of these types is answered 400 as
                # well, and the log is where it shows.
                current_app.logger.warning("malformed callback input for %s: %r", fn.__name__, exc, exc_info=exc)
                raise BadCallbackInput() from exc

        wrapped.allowed_roles = roles  # read by the callback × role matrix test
        return dash.callback(*args, **kwargs)(wrapped)

    return decorate


# ----------------------------------------------------------------------------- login / logout

LOGIN_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 · 党建工作考核系统</title>
<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css"><link rel="stylesheet" href="/assets/app.css"></head>
<body class="login-body">
<main class="login-card card shadow-sm">
  <div class="card-body p-4">
    <div class="login-emblem">党</div>
    <h1 class="h4 text-center mb-1">党建工作考核系统</h1>
    <p class="text-center text-muted small mb-4">党支部标准化规范化建设 · 考核评价</p>
    {% if error %}<div class="alert alert-danger py-2" role="alert" id="login-error">{{ error }}</div>
    {% elif notice %}<div class="alert alert-warning py-2" role="status" id="login-expired">{{ notice }}</div>{% endif %}
    <form method="post" action="/login" autocomplete="off">
      <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
      <input type="hidden" name="next" value="{{ next }}">
      <div class="mb-3"><label class="form-label" for="username">用户名</label>
        <input class="form-control" id="username" name="username" required value="{{ username }}"></div>
      <div class="mb-3"><label class="form-label" for="password">密码</label>
        <input class="form-control" id="password" name="password" type="password" required></div>
      <button class="btn btn-danger w-100" id="login-submit" type="submit">登录</button>
    </form>
    <p class="text-muted small mt-3 mb-0 text-center">仅限内网使用 · 连续输错将被暂时锁定</p>
  </div>
</main></body></html>"""

ERROR_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ code }} · 党建工作考核系统</title>
<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css"><link rel="stylesheet" href="/assets/app.css"></head>
<body class="login-body"><main class="login-card card shadow-sm"><div class="card-body p-4 text-center">
<div class="display-6 text-danger mb-2">{{ code }}</div><h1 class="h5">{{ title }}</h1>
<p class="text-muted">{{ message }}</p><a class="btn btn-outline-secondary" href="/">返回首页</a></div></main></body></html>"""

PASSWORD_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>修改密码 · 党建工作考核系统</title>
<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css"><link rel="stylesheet" href="/assets/app.css"></head>
<body class="login-body">
<main class="login-card card shadow-sm">
  <div class="card-body p-4">
    <div class="login-emblem">党</div>
    <h1 class="h4 text-center mb-3">修改密码</h1>
    {% if forced %}<div class="alert alert-warning py-2" id="password-forced">首次登录或密码已被管理员重置，请先设置新密码。</div>{% endif %}
    {% if error %}<div class="alert alert-danger py-2" role="alert" id="password-error">{{ error }}</div>{% endif %}
    {% if done %}<div class="alert alert-success py-2" id="password-done">{{ done }}</div>
    <a class="btn btn-danger w-100" href="/" id="password-home">进入系统</a>{% else %}
    <form method="post" action="/password" autocomplete="off">
      <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
      <div class="mb-3"><label class="form-label" for="current">当前密码</label>
        <input class="form-control" id="current" name="current" type="password" required autocomplete="current-password"></div>
      <div class="mb-3"><label class="form-label" for="new">新密码</label>
        <input class="form-control" id="new" name="new" type="password" required autocomplete="new-password"></div>
      <div class="mb-3"><label class="form-label" for="confirm">再次输入新密码</label>
        <input class="form-control" id="confirm" name="confirm" type="password" required autocomplete="new-password"></div>
      <p class="text-muted small">{{ policy }}</p>
      <button class="btn btn-danger w-100" id="password-submit" type="submit">修改密码</button>
    </form>
    {% if not forced %}<p class="text-center mt-3 mb-0"><a href="/" class="small">返回</a></p>{% endif %}{% endif %}
    <form method="post" action="/logout" class="text-center mt-2"><input type="hidden" name="csrf_token" value="{{ csrf_token }}">
      <button class="btn btn-link btn-sm text-muted" type="submit" id="password-logout">退出登录</button></form>
  </div>
</main></body></html>"""

ERRORS = {
    400: ("请求无效", "请求内容不完整或已过期，请刷新页面后重试。"),
    401: ("请先登录", "登录已过期或尚未登录。"),
    403: ("无权访问", "您的账号没有访问该内容的权限，如需开通请联系系统管理员。"),
    404: ("页面不存在", "您访问的页面或单位不存在，请检查地址。"),
    413: ("文件过大", "上传的文件超过大小限制，请拆分后再上传。"),
    429: ("操作过于频繁", "登录失败次数过多，请稍后再试。"),
    500: ("系统错误", "系统处理时出现错误，已记录，请稍后重试或联系管理员。"),
}


def _safe_next(target: str | None) -> str:
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _throttle():
    from data.db import get_db
    from data.throttle import make_throttle

    cfg = current_app.config
    return make_throttle(get_db(), cfg.get("RATELIMIT_STORAGE_URI"), cfg["LOGIN_LIMIT_USER"],
                         cfg["LOGIN_LIMIT_ACCOUNT"], cfg["LOGIN_LIMIT_IP"])


def _start_session(p: Principal) -> None:
    """Sign in: a new session id (the pre-login id is worthless), then the user and its session epoch."""
    session.clear()
    login_user(WebUser(p))
    session["epoch"] = accounts.get_principal_and_epoch(p.id)[1]
    session.permanent = True
    session_store.rotate(current_app, session)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, username, code = None, "", 200
    nxt = _safe_next(request.values.get("next"))
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        ip = request.remote_addr or "-"
        throttle = _throttle()
        wait = throttle.retry_after(username, ip)
        if wait:
            accounts.audit_throttled(username, ip)
            minutes = max(1, (wait + 59) // 60)
            error, code = f"登录失败次数过多，请 {minutes} 分钟后再试", 429
        else:
            p = accounts.authenticate(username, request.form.get("password") or "", ip=ip)
            if p is not None:
                throttle.succeed(username, ip)
                _start_session(p)
                return redirect("/password" if p.must_change_password else _landing(p, nxt))
            throttle.fail(username, ip)
            error, code = "用户名或密码错误", 401  # uniform: never says which one
    # assets/session_guard.js sends a user here with ?expired=401|403 when a callback was refused.
    notice = EXPIRED_NOTICE.get(request.values.get("expired", ""))
    return render_template_string(LOGIN_HTML, error=error, notice=notice, username=username[:64], next=nxt,
                                  csrf_token=generate_csrf()), code


EXPIRED_NOTICE = {"401": "登录已过期，请重新登录", "403": "登录已过期，请重新登录（如账号权限已变更，请联系系统管理员）"}


def _landing(p: Principal, nxt: str) -> str:
    """Where a sign-in lands: the page asked for; a staff member with one unit lands on its detail page
    rather than on a one-row ranking."""
    if nxt == "/" and p.role == "staff" and len(p.unit_codes) == 1:
        return f"/branch/{next(iter(p.unit_codes))}"
    return nxt


@bp.route("/logout", methods=["POST"])
def logout():
    """POST with the CSRF token only (a GET or a cross-site <img> signs nobody out); the stored session is deleted."""
    p = current_principal()
    if p is not None:
        from data.db import get_db
        from data.services import audit

        with get_db().session() as s:
            audit(s, p, "logout", entity="user", entity_id=p.username, ip=request.remote_addr)
    logout_user()
    session.clear()
    return redirect("/login")


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    """Self-service password change (current password required); forced at first sign-in and after a reset."""
    p = current_principal()
    if p is None:
        return redirect(url_for("auth.login", next="/password"))
    error = done = None
    if request.method == "POST":
        try:
            accounts.change_own_password(p, request.form.get("current") or "", request.form.get("new") or "",
                                         request.form.get("confirm") or "", ip=request.remote_addr)
        except accounts.InvalidInput as exc:
            error = str(exc)
        else:
            # Every session of the user ended with the old password; this one continues under a new id.
            fresh = accounts.get_principal(p.id)
            _start_session(fresh)
            done = "密码已修改，其他设备上的登录已全部退出。"
    return render_template_string(PASSWORD_HTML, error=error, done=done, forced=p.must_change_password and not done,
                                  csrf_token=generate_csrf(), policy=accounts.POLICY_TEXT), (400 if error else 200)


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


# ----------------------------------------------------------------------------- guard & headers

def _guard():
    path = request.path
    if path.startswith(PUBLIC_PREFIXES):
        return None
    p = current_principal()
    if p is None:
        if path.startswith(API_PREFIXES) or request.method != "GET":
            return jsonify(error="请先登录"), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    g.principal = p
    if p.must_change_password and not path.startswith(PASSWORD_PREFIXES):
        if path.startswith(API_PREFIXES) or request.method != "GET":
            return jsonify(error="请先修改密码"), 403
        return redirect("/password")
    if path.startswith("/_dash-update-component"):
        # Dash posts JSON; insisting on it (plus SameSite=Lax) keeps cross-site forms out.
        if not request.is_json:
            return jsonify(error="请求格式无效"), 400
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            return jsonify(error="跨站请求被拒绝"), 403
    return None


def _csp(app: Flask) -> str:
    dash_app = app.extensions.get("dash_app")
    hashes = " ".join(dash_app.csp_hashes()) if dash_app is not None else ""
    return ("default-src 'self'; "
            f"script-src 'self' {hashes}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _headers(response):
    h = response.headers
    h.setdefault("Content-Security-Policy", _csp(current_app))
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith(("/assets/", "/_dash-component-suites/")):
        h.setdefault("Cache-Control", "no-store")
    if https_mode(current_app):
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    h["Server"] = "dangjian"  # never the framework and its version
    return response


def https_mode(app: Flask) -> bool:
    """Served over HTTPS (``HTTPS=1`` or ``SESSION_COOKIE_SECURE``): Secure cookies and HSTS."""
    return bool(app.config.get("HTTPS") or app.config.get("SESSION_COOKIE_SECURE"))


def _error_page(code: int):
    title, message = ERRORS.get(code, ERRORS[500])
    if request.path.startswith(API_PREFIXES):
        return jsonify(error=title, message=message), code
    return render_template_string(ERROR_HTML, code=code, title=title, message=message), code


def init_app(app: Flask) -> None:
    if https_mode(app):
        app.config["SESSION_COOKIE_SECURE"] = True
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        # Client IPs (sign-in limits, audit) from X-Forwarded-For, trusting exactly this many proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    session_store.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.before_request(_guard)
    app.after_request(_headers)

    @app.errorhandler(AccessDenied)
    def _denied(_e):
        return _error_page(403)

    @app.errorhandler(NotFound)
    def _not_found(_e):
        return _error_page(404)

    @app.errorhandler(BadCallbackInput)
    def _bad_input(_e):
        return _error_page(400)

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return _error_page(400)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        return _error_page(e.code or 500)

    @app.errorhandler(Exception)
    def _any(e: Exception):
        if request.path.startswith("/_dash-update-component") and isinstance(e, MALFORMED):
            # Dash's own dispatch choking on a malformed payload (missing keys, wrong shapes).
            app.logger.warning("malformed callback payload: %r", e, exc_info=e)
            return _error_page(400)
        app.logger.exception("unhandled error", exc_info=e)
        return _error_page(500)


def finish_init(app: Flask) -> None:
    """After Dash has added its routes: exempt them from form CSRF.

    The CSP is computed per response (``_csp``): Dash adds inline scripts (the pages
    title callback) only when it sets up on the first request, and their hashes must be
    in the policy.
    """
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/_dash-") or rule.rule.startswith("/_reload-hash"):
            csrf.exempt(app.view_functions[rule.endpoint])


__all__ = ["secure_callback", "current_principal", "init_app", "finish_init", "Forbidden"]
