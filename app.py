"""Application factory: Flask server + Dash pages + security + CLI.

``create_app(config=None)`` builds everything and returns the Flask server (the Dash
app is ``server.extensions["dash_app"]``); ``server`` is the module-level Flask app for ``gunicorn app:server`` and ``flask --app app ...``. Configuration comes from
the ``config`` mapping, then environment variables (``DATABASE_URL``, ``SECRET_KEY``,
``SESSION_COOKIE_SECURE``/``HTTPS``, ``RATELIMIT_STORAGE_URI``, ``TRUSTED_PROXY_HOPS``...), then safe defaults.

Dash keeps its page registry and ``dash.callback`` list in module globals, so one
process holds one Dash app: tests share a single app and point it at their own
database with ``use_database``.
"""
from __future__ import annotations

import datetime as dt
import gc
import os
import secrets

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import Flask

import auth
from data.db import ROOT, Database
from http_cache import init_http

INSTANCE = ROOT / "instance"


def _secret_key() -> str:
    """SECRET_KEY from the environment; for the demo, one generated once and kept in instance/."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _env_bool(name: str, default: bool) -> bool:
    v = os.environ.get(name)
    return default if v is None else v.strip().lower() in ("1", "true", "yes", "on")


def default_config() -> dict:
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "SECRET_KEY": None,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024 * 4 // 3 + 65536,
        "MAX_UPLOAD_BYTES": int(os.environ.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_NAME": "dangjian_session",
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(minutes=int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30"))),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "REMEMBER_COOKIE_DURATION": dt.timedelta(seconds=0),
        "HTTPS": _env_bool("HTTPS", False),
        # Sign-in counters: the app database unless a Redis URL is given (shared by every worker/host).
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL"),
        "SESSION_REDIS_URL": os.environ.get("SESSION_REDIS_URL") or os.environ.get("REDIS_URL"),
        "TRUSTED_PROXY_HOPS": int(os.environ.get("TRUSTED_PROXY_HOPS", "0")),
        "LOGIN_LIMIT_USER": os.environ.get("LOGIN_LIMIT_USER", "5 per 15 minutes"),  # per (account, IP)
        "LOGIN_LIMIT_ACCOUNT": os.environ.get("LOGIN_LIMIT_ACCOUNT", "50 per 15 minutes"),
        "LOGIN_LIMIT_IP": os.environ.get("LOGIN_LIMIT_IP", "30 per 15 minutes"),
        "WTF_CSRF_TIME_LIMIT": None,
    }


def use_database(server: Flask, db: Database) -> None:
    """Point the app at a database (tests swap databases under one app)."""
    server.extensions["dangjian_db"] = db
    from data.columnar import preload
    from data.services import clear_cache

    clear_cache()
    preload(db.url)  # PostgreSQL: the columnar reader's driver, loaded before the first request


def create_app(config: dict | None = None) -> Flask:
    cfg = default_config()
    cfg.update(config or {})
    server = Flask(__name__, instance_path=str(INSTANCE))
    server.config.update(cfg)
    server.config["SECRET_KEY"] = cfg.get("SECRET_KEY") or _secret_key()
    use_database(server, Database(cfg.get("DATABASE_URL")))
    auth.init_app(server)
    init_http(server)
    import attachment_views

    attachment_views.init_app(server)  # 佐证材料 downloads and thumbnails

    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        serve_locally=True,
        external_stylesheets=[],
        external_scripts=[],
        title="党建工作考核系统",
        update_title="正在加载…",
        suppress_callback_exceptions=True,
        compress=True,  # flask-compress, configured by http_cache.init_http
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="zh-CN">')
    app.layout = _layout
    server.extensions["dash_app"] = app
    auth.finish_init(server)

    from cli import register_cli

    register_cli(server)
    return server


def _layout():
    from components.shell import make_navbar
    from data.permissions import PAGES

    p = auth.current_principal()
    links = []
    if p is not None:
        for page in dash.page_registry.values():
            name = page.get("nav_key")
            if page.get("nav") and name in PAGES and p.can_open(name):
                links.append((page["name"], page["relative_path"], page.get("nav_order", 99)))
    links.sort(key=lambda x: x[2])
    return html.Div([
        dcc.Location(id="app-location", refresh="callback-nav"),
        make_navbar(links, p.display_name if p else "", p.role_label if p else "", _csrf_token() if p else ""),
        # A spinner only while a page itself is being built (not for every callback inside it).
        dbc.Container(dcc.Loading(dash.page_container, target_components={"_pages_content": "children"},
                                  delay_show=400, color="#c0392b", type="circle", overlay_style={
                                      "visibility": "visible", "opacity": 0.6}),
                      fluid=True, className="app-main"),
    ])


def _csrf_token() -> str:
    from flask_wtf.csrf import generate_csrf

    return generate_csrf()


_default: Flask | None = None


def freeze_startup_objects() -> None:
    """Move what exists after start-up (modules, Dash's registry, the layout: about 300,000 objects)
    out of the cyclic garbage collector's reach. Without it every full collection walks them all:
    about 150 ms, in every ninth page view or so of a busy worker (``gc.freeze`` in the Python docs).
    For the long-lived server only: tests build many apps, and frozen garbage is never freed."""
    gc.collect()
    gc.freeze()


def __getattr__(name: str):
    # ``server``/``app`` are built on first access, so importing create_app (tests) builds nothing.
    global _default
    if name in ("server", "app"):
        if _default is None:
            _default = create_app()
            freeze_startup_objects()
        return _default
    raise AttributeError(name)
