"""Issue 18 findings 5–8 as the attacks: long username on PostgreSQL, 404 vs 403 for staff,
audit before → after and an append-only audit table, and the HTTPS headers."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, text

from data import evidence_service, services
from data.accounts import principal_by_name
from data.db import Database
from data.models import AuditLog
from tests.conftest import _new_pg_database, login


def _token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


@pytest.fixture
def pg_db(pg_server):
    database = Database(_new_pg_database(pg_server))
    database.upgrade()
    yield database
    database.dispose()


def test_a_65_character_username_on_postgresql_is_a_failed_sign_in_not_a_500(flask_app, pg_db):
    from app import use_database

    use_database(flask_app, pg_db)
    try:
        client = flask_app.test_client()
        name = "u" * 65
        resp = client.post("/login", data={"username": name, "password": "whatever-it-is", "csrf_token": _token(client)})
        assert resp.status_code == 401
        huge = client.post("/login", data={"username": "党" * 5000, "password": "x" * 100_000,
                                           "csrf_token": _token(client)})
        assert huge.status_code == 401
        with pg_db.session() as s:
            rows = s.execute(select(AuditLog.action, AuditLog.username).where(AuditLog.action == "login_failed")).all()
        assert ("login_failed", name[:64]) in rows and len(rows) == 2
    finally:
        use_database(flask_app, Database("sqlite://"))


def test_audit_rows_cannot_be_updated_or_deleted_on_postgresql(pg_db):
    with pg_db.session() as s:
        services.audit(s, None, "login_failed", entity="user", entity_id="x", username="x")
    for stmt in ("UPDATE audit_log SET username = 'forged'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with pg_db.engine.begin() as conn:
                conn.execute(text(stmt))
    with pg_db.session() as s:
        assert s.scalar(select(AuditLog.username)) == "x"


@pytest.mark.parametrize("code", ["C02", "NOPE99"])
def test_staff_get_the_same_answer_for_another_units_code_and_an_absent_one(app_db, code):
    from data.permissions import AccessDenied

    with pytest.raises(AccessDenied):
        services.branch_detail(principal_by_name("staff_sj", db=app_db), code, "2026H1", db=app_db)
    # Others still learn that an absent code is absent.
    if code == "NOPE99":
        from data.permissions import NotFound

        with pytest.raises(NotFound):
            services.branch_detail(principal_by_name("leader", db=app_db), code, "2026H1", db=app_db)


def test_branch_page_body_is_identical_for_absent_and_not_yours(client, app_db):
    from dash import html  # noqa: F401  (the page module needs a Dash app: the shared one is built)
    from flask import g  # noqa: F401

    login(client, "staff_sj")
    import pages.branch as branch

    def body(code):
        with client.application.test_request_context(f"/branch/{code}"):
            from flask_login import login_user

            from auth import WebUser
            login_user(WebUser(principal_by_name("staff_sj", db=app_db)))
            return str(branch.layout(branch_id=code))

    assert body("C02") == body("NOPE99")
    assert "403" in body("C02")


def test_audit_records_before_and_after(app_db):
    insp = principal_by_name("inspector", db=app_db)
    staff = principal_by_name("staff_sj", db=app_db)
    from data import publication

    publication.reopen(principal_by_name("admin", db=app_db), "2025", "补充评先意见", db=app_db)  # 2025 is published
    services.decide_candidate(insp, "2025", "C02", "推荐", "表现突出", db=app_db)
    services.decide_candidate(insp, "2025", "C02", "不推荐", "复核后不推荐", db=app_db)
    services.set_self_assessment(staff, "2026H1", "C01", "C1", 3, "第一次", db=app_db)
    services.set_self_assessment(staff, "2026H1", "C01", "C1", 4, "补充了记录", db=app_db)
    with app_db.session() as s:
        old = {(r[0], r[1]): r[2] for r in s.execute(text(
            "SELECT u.code, e.field, e.value FROM evidence_values e JOIN org_units u ON u.id = e.unit_id "
            "JOIN periods p ON p.id = e.period_id WHERE p.code = '2026H1' AND e.superseded_at IS NULL "
            "AND u.code = 'C02' AND e.field IN ('committee_meetings', 'theme_days')")).all()}
    assert old, "the demo has current values for C02"
    f = "单位编码,支委会次数,主题党日次数\nC02,11,9\n".encode("utf-8")
    assert evidence_service.commit_upload(app_db, f, "a.csv", "2026H1", insp).status == "committed"
    with app_db.session() as s:
        rows = s.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    decisions = [r for r in rows if r.action == "candidate_decision"]
    assert decisions[-2].before == {"decision": None, "note": None}
    assert decisions[-1].before == {"decision": "推荐", "note": "表现突出"}
    assert decisions[-1].after == {"decision": "不推荐", "note": "复核后不推荐"}
    notes = [r for r in rows if r.action == "self_assessment"]
    assert notes[-1].before["note"] == "第一次" and notes[-1].after["note"] == "补充了记录"
    upload = [r for r in rows if r.action == "upload"][-1]
    changes = {(u, f): (o, n) for u, f, o, n in evidence_service.upload_changes(upload.after)}
    assert changes == {("C02", "committee_meetings"): (old.get(("C02", "committee_meetings")), 11.0),
                       ("C02", "theme_days"): (old.get(("C02", "theme_days")), 9.0)}


def test_the_audit_page_shows_each_changed_value():
    from pages.audit import describe
    from scoring.indicators import default_table

    labels = {k: f.label for k, f in default_table().fields.items()}
    text_ = describe({"file_name": "a.csv", "changes": [{"unit": "C02", "field": "committee_meetings", "old": 4.0,
                                                        "new": 11.0}, {"unit": "C02", "field": "theme_days",
                                                                       "old": None, "new": 9.0}]}, labels)
    assert f"C02 {labels['committee_meetings']}：4 → 11" in text_ and f"C02 {labels['theme_days']}：空 → 9" in text_
    assert "committee_meetings" not in text_  # field keys are shown by their Chinese labels
    # Rows written now keep the changes as four lists: the same text.
    columns = {"unit": ["C02", "C02"], "field": ["committee_meetings", "theme_days"], "old": [4.0, None],
               "new": [11.0, 9.0]}
    assert describe({"file_name": "a.csv", "changes": columns}, labels) == text_
    # 75,000 changes: the cell's 4,000 characters, without formatting every change.
    many = {"unit": [f"U{i:05d}" for i in range(75000)], "field": ["theme_days"] * 75000, "old": [1.0] * 75000,
            "new": [2.0] * 75000}
    long_text = describe({"changes": many}, labels)
    assert len(long_text) == 4000 and long_text.startswith(f"；U00000 {labels['theme_days']}：1 → 2；U00001 ")


# ----------------------------------------------------------------- headers

def test_no_hsts_over_plain_http_and_no_server_version(client):
    resp = client.get("/login")
    assert "Strict-Transport-Security" not in resp.headers
    assert resp.headers["Server"] == "dangjian"
    assert "unsafe-eval" not in resp.headers["Content-Security-Policy"]


def test_https_mode_sends_hsts_and_secure_cookies(flask_app, client):
    old = flask_app.config.get("HTTPS"), flask_app.config["SESSION_COOKIE_SECURE"]
    flask_app.config["HTTPS"], flask_app.config["SESSION_COOKIE_SECURE"] = True, True
    try:
        resp = client.get("/login")
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "Secure" in resp.headers["Set-Cookie"]
    finally:
        flask_app.config["HTTPS"], flask_app.config["SESSION_COOKIE_SECURE"] = old


def test_https_setting_turns_on_secure_cookies_at_start():
    import auth
    from flask import Flask

    app = Flask("t")
    app.config.update(HTTPS=True, SESSION_COOKIE_SECURE=False, SECRET_KEY="x")
    # init_app's first step, on its own (the full init needs the one Dash app of the process)
    if auth.https_mode(app):
        app.config["SESSION_COOKIE_SECURE"] = True
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert dt  # keep import


def test_over_long_text_never_reaches_a_column_as_a_database_error(db):
    """On both databases: user-facing columns refuse with a Chinese message, log columns are cut."""
    from data.models import OrgUnit, Period, Rectification, TableVersion

    with db.session() as s:
        services.audit(s, None, "x" * 50, entity="e" * 50, entity_id="i" * 500, username="u" * 100, ip="1" * 100)
    with db.session() as s:
        row = s.scalar(select(AuditLog))
        assert (len(row.action), len(row.entity_id), len(row.username), len(row.ip)) == (32, 64, 64, 64)
    with db.session() as s:
        tv = TableVersion(version="v", title="t", content={})
        unit = OrgUnit(code="U1", name="n", level="市", category="c", bureau="b", valid_from=dt.date(2026, 1, 1))
        s.add_all([tv, unit])
        s.flush()
        p = Period(code="P", kind="year", year=2026, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31),
                   table_version_id=tv.id)
        s.add(p)
    with pytest.raises(services.InvalidInput, match="责任人.*最多 32 个字符"):
        with db.session() as s:
            s.add(Rectification(period_id=p.id, unit_id=unit.id, problem="p", source="s", responsible="人" * 33,
                                deadline=dt.date(2026, 12, 31)))
    with db.session() as s:
        assert s.scalar(select(Rectification.id)) is None
