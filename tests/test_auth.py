"""Sign-in, the request guard, headers, rate limit, CSRF, argon2 and audit of sign-ins."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from data.models import AuditLog, User
from tests.conftest import PASSWORDS, login


def _token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def test_signed_out_page_redirects_to_login_and_api_gets_401(client):
    for path in ("/", "/branch/C01", "/gaps", "/candidates", "/upload", "/indicators", "/audit"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-dependencies").status_code == 401
    resp = client.post("/_dash-update-component", json={"output": "x.children", "inputs": []})
    assert resp.status_code == 401


def test_assets_stay_public_so_the_login_page_renders(client):
    assert client.get("/login").status_code == 200
    assert client.get("/assets/vendor/bootstrap.min.css").status_code == 200
    assert client.get("/assets/app.css").status_code == 200


def test_login_page_is_chinese_and_errors_are_uniform(client):
    body = client.get("/login").get_data(as_text=True)
    assert "党建工作考核系统" in body and 'lang="zh-CN"' in body
    wrong_pw = client.post("/login", data={"username": "leader", "password": "nope", "csrf_token": _token(client)})
    no_user = client.post("/login", data={"username": "ghost", "password": "nope", "csrf_token": _token(client)})
    assert wrong_pw.status_code == no_user.status_code == 401
    msg = re.compile(r'id="login-error">([^<]+)<')
    assert msg.search(wrong_pw.get_data(as_text=True)).group(1) == msg.search(no_user.get_data(as_text=True)).group(1)


def test_login_without_csrf_token_is_rejected(client):
    resp = client.post("/login", data={"username": "leader", "password": PASSWORDS["leader"]})
    assert resp.status_code == 400
    assert client.get("/", follow_redirects=False).status_code == 302  # still signed out


def test_rate_limit_kicks_in_after_n_failures_from_that_address_only(client, flask_app):
    old = flask_app.config["LOGIN_LIMIT_USER"]
    flask_app.config["LOGIN_LIMIT_USER"] = "3 per 15 minutes"
    try:
        codes = [client.post("/login", data={"username": "inspector", "password": "bad",
                                             "csrf_token": _token(client)}).status_code for _ in range(5)]
        assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
        # Even the right password is refused from the attacker's address while it is locked...
        ok = client.post("/login", data={"username": "inspector", "password": PASSWORDS["inspector"],
                                         "csrf_token": _token(client)})
        assert ok.status_code == 429 and "分钟后再试" in ok.get_data(as_text=True)
        # ...but the owner at another address signs in.
        owner = flask_app.test_client()
        tok = re.search(r'name="csrf_token" value="([^"]+)"', owner.get("/login").get_data(as_text=True)).group(1)
        resp = owner.post("/login", data={"username": "inspector", "password": PASSWORDS["inspector"],
                                          "csrf_token": tok}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
        assert resp.status_code == 302
    finally:
        flask_app.config["LOGIN_LIMIT_USER"] = old


def test_security_headers_and_cookie_flags(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    login_resp = client.post("/login", data={"username": "leader", "password": PASSWORDS["leader"],
                                             "csrf_token": _token(client)})
    cookie = login_resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_are_argon2_hashes(app_db):
    with app_db.session() as s:
        hashes = s.scalars(select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(pw in h for h in hashes for pw in PASSWORDS.values())


def test_sign_ins_and_failures_are_audited(client, app_db):
    login(client, "leader")
    client.post("/login", data={"username": "leader", "password": "wrong", "csrf_token": _token(client)})
    with app_db.session() as s:
        rows = s.execute(select(AuditLog.action, AuditLog.username)).all()
    assert ("login", "leader") in rows and ("login_failed", "leader") in rows


def test_logout_ends_the_session(client):
    login(client, "leader")
    assert client.get("/").status_code == 200
    token = re.search(r'"value":"([^"]+)"[^{}]*"id":"nav-logout-token"', client.get("/_dash-layout").get_data(as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_open_redirect_is_refused(client):
    resp = client.post("/login", data={"username": "leader", "password": PASSWORDS["leader"],
                                       "csrf_token": _token(client), "next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"


def test_dash_update_requires_json_and_same_origin(client):
    login(client, "leader")
    assert client.post("/_dash-update-component", data="x=1").status_code == 400
    resp = client.post("/_dash-update-component", json={}, headers={"Origin": "http://evil.example"})
    assert resp.status_code == 403


@pytest.mark.parametrize("path", ["/", "/login"])
def test_no_external_urls_in_html_or_css(client, path):
    if path == "/":
        login(client, "leader")
    html = client.get(path).get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(not re.match(r"^(https?:)?//", r) for r in refs), refs
    for css in [r for r in refs if r.endswith(".css") or ".css?" in r]:
        text = client.get(css).get_data(as_text=True)
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), css
        assert "@import" not in text


def test_a_password_reset_ends_sessions_opened_with_the_old_password(client, app_db):
    from data.accounts import principal_by_name, set_user_password

    login(client, "staff_sj")
    assert client.get("/_dash-layout").status_code == 200
    set_user_password(principal_by_name("admin", db=app_db), "staff_sj", "Brand-New-2026", db=app_db)
    assert client.get("/_dash-layout").status_code == 401
