"""Issue 18 findings 1–3, written as the attacks that broke them: sessions that outlive logout,
GET logout, per-worker sign-in limits, and weak passwords."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select, update

from data import accounts, passwords
from data.accounts import principal_by_name
from data.models import AuditLog, ServerSession, User
from tests.conftest import PASSWORDS, login

COOKIE = "dangjian_session"


def _form_token(client, path="/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _replay(flask_app, cookie: str):
    """A different browser (the thief) presenting a saved cookie."""
    thief = flask_app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def _logout(client):
    return client.post("/logout", data={"csrf_token": _form_token(client, "/password")})


def test_a_cookie_saved_before_logout_opens_nothing_afterwards(flask_app, client, app_db):
    login(client, "leader")
    saved = _cookie(client)
    assert _replay(flask_app, saved).get("/_dash-layout").status_code == 200
    assert _logout(client).status_code == 302
    thief = _replay(flask_app, saved)
    assert thief.get("/_dash-layout").status_code == 401
    assert thief.get("/").status_code == 302
    with app_db.session() as s:
        assert s.scalar(select(func.count()).select_from(ServerSession).where(ServerSession.session_id == saved)) == 0


def test_get_logout_signs_nobody_out(client):
    login(client, "leader")
    cookie = _cookie(client)
    resp = client.get("/logout")  # what an <img src="/logout"> on another page sends
    assert resp.status_code != 302
    assert _cookie(client) == cookie
    assert client.get("/").status_code == 200


def test_logout_without_the_csrf_token_is_refused(client):
    login(client, "leader")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_disabling_a_user_ends_their_sessions_and_re_enabling_does_not_revive_them(flask_app, client, app_db):
    login(client, "leader")
    saved = _cookie(client)
    admin = principal_by_name("admin", db=app_db)
    accounts.set_user_active(admin, "leader", False, db=app_db)
    accounts.set_user_active(admin, "leader", True, db=app_db)
    assert _replay(flask_app, saved).get("/_dash-layout").status_code == 401
    with app_db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "leader"))
        assert s.scalar(select(func.count()).select_from(ServerSession).where(ServerSession.user_id == uid)) == 0


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(flask_app, client, app_db):
    other = login(flask_app.test_client(), "staff_sj")
    login(client, "staff_sj")
    before = _cookie(client)
    new = "Zhibu-Xin-Mima-2027"
    resp = client.post("/password", data={"csrf_token": _form_token(client, "/password"), "current": PASSWORDS["staff_sj"],
                                          "new": new, "confirm": new})
    assert resp.status_code == 200 and "密码已修改" in resp.get_data(as_text=True)
    assert other.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-layout").status_code == 200
    assert _cookie(client) != before  # this session continues under a new id
    assert accounts.authenticate("staff_sj", new, db=app_db) is not None
    with app_db.session() as s:
        assert "password_change" in s.scalars(select(AuditLog.action)).all()


def test_password_change_needs_the_current_password_and_the_policy(client):
    login(client, "leader")
    bad = client.post("/password", data={"csrf_token": _form_token(client, "/password"), "current": "wrong",
                                         "new": "Quite-Long-Enough-1", "confirm": "Quite-Long-Enough-1"})
    assert bad.status_code == 400 and "当前密码不正确" in bad.get_data(as_text=True)
    weak = client.post("/password", data={"csrf_token": _form_token(client, "/password"),
                                          "current": PASSWORDS["leader"], "new": "12345678", "confirm": "12345678"})
    assert weak.status_code == 400 and "至少 12 位" in weak.get_data(as_text=True)


def test_the_password_page_is_in_every_roles_navigation(client):
    for user in PASSWORDS:
        c = client.application.test_client()
        login(c, user)
        layout = json.dumps(c.get("/_dash-layout").get_json(), ensure_ascii=False)
        assert '"nav-password"' in layout and '"/password"' in layout and '"nav-logout"' in layout, user
        assert c.get("/password").status_code == 200


def test_an_admin_reset_ends_sessions_and_forces_a_change_at_next_sign_in(flask_app, client, app_db):
    login(client, "staff")
    accounts.set_user_password(principal_by_name("admin", db=app_db), "staff", "Reset-By-Admin-77", db=app_db)
    assert client.get("/_dash-layout").status_code == 401
    fresh = flask_app.test_client()
    resp = fresh.post("/login", data={"username": "staff", "password": "Reset-By-Admin-77",
                                      "csrf_token": _form_token(fresh)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/password")
    # Until the password is changed, pages and callbacks are closed.
    assert fresh.get("/").status_code == 302 and fresh.get("/").headers["Location"].endswith("/password")
    assert fresh.post("/_dash-update-component", json={}).status_code == 403
    new = "Linhe-Own-Choice-2027"
    fresh.post("/password", data={"csrf_token": _form_token(fresh, "/password"), "current": "Reset-By-Admin-77",
                                  "new": new, "confirm": new})
    assert fresh.get("/").status_code == 200


def test_session_id_is_rotated_at_sign_in(flask_app, client, app_db):
    client.get("/login")
    before = _cookie(client)  # the anonymous session holding the login form's CSRF token
    login(client, "leader")
    after = _cookie(client)
    assert after != before
    assert _replay(flask_app, before).get("/_dash-layout").status_code == 401


def test_an_idle_session_expires_on_the_server(flask_app, client, app_db):
    login(client, "leader")
    with app_db.session() as s:
        s.execute(update(ServerSession).values(expiry=dt.datetime(2000, 1, 1)))
    assert client.get("/_dash-layout").status_code == 401


def test_session_data_lives_on_the_server_not_in_the_cookie(client, app_db):
    login(client, "leader")
    cookie = _cookie(client)
    assert "." not in cookie and len(cookie) < 64  # a random id, not a signed payload
    with app_db.session() as s:
        assert s.scalar(select(ServerSession.user_id).where(ServerSession.session_id == cookie)) is not None


# ----------------------------------------------------------------- passwords

@pytest.mark.parametrize("pw", ["12345678", "aaaaaaaa", "aaaaaaaaaaaaaa", "q1w2e3r4t5y6", "1qaz2wsx3edc"])
def test_weak_passwords_are_refused(pw):
    assert passwords.check(pw, "someone")


def test_every_long_entry_of_the_bundled_list_is_refused_even_in_capitals():
    long_common = [p for p in passwords.common_passwords() if len(p) >= 12]
    assert len(long_common) > 100
    assert all(passwords.check(p.upper(), "x") for p in long_common)


def test_passwords_containing_the_username_are_refused_and_composition_is_free():
    assert any("用户名" in m for m in passwords.check("my-zhangsan-password", "ZhangSan"))
    assert passwords.check("correct horse battery staple", "zhangsan") == []
    assert passwords.check("党建工作考核系统很好用啊", "zhangsan") == []
    assert passwords.check(passwords.generate(), "zhangsan") == []


def test_weak_password_refused_by_create_and_reset(app_db):
    admin = principal_by_name("admin", db=app_db)
    with pytest.raises(accounts.InvalidInput, match="至少 12 位"):
        accounts.create_user("weakling", "12345678", "leader", actor=admin, db=app_db)
    with pytest.raises(accounts.InvalidInput, match="用户名"):
        accounts.set_user_password(admin, "leader", "leader-is-my-password", db=app_db)


def test_demo_passwords_meet_the_policy():
    for user, pw in PASSWORDS.items():
        assert passwords.check(pw, user) == [], user
