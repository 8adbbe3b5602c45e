"""Issue 13.8 and 13.14 on the Flask side: where a sign-in lands and what the sign-in page says."""
from __future__ import annotations

import re

from tests.conftest import PASSWORDS


def _sign_in(client, username, next_=None):
    page = client.get("/login" + (f"?next={next_}" if next_ else "")).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"username": username, "password": PASSWORDS[username], "csrf_token": token}
    if next_:
        data["next"] = next_
    return client.post("/login", data=data)


def test_staff_with_one_unit_lands_on_its_page_others_on_the_ranking(client):
    resp = _sign_in(client, "staff_sj")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/branch/C01")
    client.get("/logout")
    assert _sign_in(client, "staff").headers["Location"].endswith("/")  # several units: the ranking
    client.get("/logout")
    assert _sign_in(client, "leader").headers["Location"].endswith("/")
    client.get("/logout")
    # A page asked for explicitly wins (e.g. coming back after an expired session).
    assert _sign_in(client, "staff_sj", "/upload").headers["Location"].endswith("/upload")


def test_sign_in_page_says_the_session_expired_only_when_it_did(client):
    assert "登录已过期，请重新登录" in client.get("/login?expired=401&next=/gaps").get_data(as_text=True)
    assert "登录已过期" not in client.get("/login").get_data(as_text=True)
    assert "登录已过期" not in client.get("/login?expired=<script>").get_data(as_text=True)
