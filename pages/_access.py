"""Shared page plumbing: who is asking, which period, and the 403/404/400 bodies.

Every page layout starts with ``guard(page_name)``; every callback is declared with
``auth.secure_callback(..., action=...)``. Files starting with "_" are not pages.
"""
from __future__ import annotations

import base64
import binascii

import dash

from auth import current_principal
from components.shell import make_error_body
from data import services
from data.permissions import NotFound, Principal
from scoring.glossary import period_label


def guard(page: str) -> tuple[Principal | None, object | None]:
    """(principal, None) when the signed-in user may open ``page``, else (None, an error body)."""
    p = current_principal()
    if p is None:
        return None, make_error_body(403, "请先登录。")
    if not p.can_open(page):
        return None, make_error_body(403)
    return p, None


def resolve_period(code: str | None) -> tuple[str | None, object | None]:
    """The period asked for in the URL (validated), else the latest one."""
    if code:
        if not services.period_exists(code):
            return None, make_error_body(404, f"考核期「{code}」不存在。")
        return code, None
    default = services.default_period_code()
    if default is None:
        return None, make_error_body(404, "系统中还没有考核期，请管理员先创建考核期并发布指标体系。")
    return default, None


def open_page(page: str, period: str | None) -> tuple[Principal | None, str | None, object | None]:
    """The prologue of every page layout: role check first, then the period from the URL.

    Returns (principal, period_code, None), or (None, None, an error body to show instead).
    """
    principal, denied = guard(page)
    if denied:
        return None, None, denied
    services.pin_versions()  # a page view reads, and reads one version of each period
    period_code, error = resolve_period(period)
    if error:
        return None, None, error
    return principal, period_code, None


def period_search(period_code: str | None, **extra: str | None):
    """The URL query for a period picked in a selector (``no_update`` for an unknown one)."""
    from urllib.parse import urlencode

    from dash import no_update

    if not services.period_exists(period_code):
        return no_update
    return "?" + urlencode({"period": period_code, **{k: v for k, v in extra.items() if v}})


def period_options() -> list[tuple[str, str]]:
    return [(p.code, f"{period_label(p.code)}（{p.status}）") for p in services.periods()]


__all__ = ["guard", "resolve_period", "open_page", "period_search", "period_options", "NotFound"]


def decode_upload(contents) -> bytes | None:
    """The bytes of a dcc.Upload ``contents`` data URL; None when it is missing or not base64."""
    if not isinstance(contents, str) or "," not in contents:
        return None
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=False)
    except (binascii.Error, ValueError):
        return None


def pattern_clicked() -> bool:
    """Whether a pattern-matching button (``{"type": …, …}`` id) was really clicked: re-drawn buttons
    fire with ``n_clicks`` 0 or None, which must not act."""
    trigger = dash.ctx.triggered_id
    return isinstance(trigger, dict) and bool(dash.ctx.triggered) and bool(dash.ctx.triggered[0].get("value"))
