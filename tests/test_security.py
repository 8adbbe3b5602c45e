"""Issue 7's remaining guarantees: staff unit scope everywhere, formula-injection-safe exports,
an audit row for every action that can move a score, and no plain-text secrets."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from data import evidence_service, exports, services, table_xlsx
from data.accounts import create_user, principal_by_name
from data.models import AuditLog, EvidenceValue, OrgUnit
from data.permissions import AccessDenied
from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
EVIL = '=HYPERLINK("http://evil.example","点此")'


def _audit_actions(db) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditLog.action)).all())


# ----------------------------------------------------------------- unit scope

def test_staff_of_unit_a_cannot_read_unit_b_through_services(app_db):
    staff = principal_by_name("staff_sj", db=app_db)  # answers for C01 only
    assert set(services.rankings(staff, "2026H1", db=app_db)["unit"]) == {"C01"}
    services.branch_detail(staff, "C01", "2026H1", db=app_db)
    with pytest.raises(AccessDenied):
        services.branch_detail(staff, "C02", "2026H1", db=app_db)
    with pytest.raises(AccessDenied):
        services.evidence_provenance(staff, "C02", "2026H1", db=app_db)
    g = services.gap_overview(staff, "2026H1", db=app_db)
    assert g["units"] == ["C01"] and set(g["gaps"]["unit"]) <= {"C01"}
    drill = services.gap_overview(staff, "2026H1", db=app_db, group=g["rows"][0]["key"])
    assert [r["key"] for r in drill["rows"]] == ["C01"]


def test_staff_upload_for_another_unit_is_refused_in_the_callback_path(client, app_db):
    """The upload page's preview callback, POSTed directly with a file naming unit C02."""
    login(client, "staff_sj")
    import base64
    data = "单位编码,支委会次数\nC02,5\n".encode("utf-8")
    contents = "data:text/csv;base64," + base64.b64encode(data).decode()
    with app_db.session() as s:
        before = s.scalar(select(func.count()).select_from(EvidenceValue))
    payload = {"output": "upload-result.children", "outputs": {"id": "upload-result", "property": "children"},
               "inputs": [{"id": "upload-commit", "property": "n_clicks", "value": 1},
                          {"id": "upload-cancel", "property": "n_clicks", "value": None}],
               "state": [{"id": "upload-file", "property": "contents", "value": contents},
                         {"id": "upload-file", "property": "filename", "value": "x.csv"},
                         {"id": "upload-period-store", "property": "data", "value": "2026H1"}],
               "changedPropIds": ["upload-commit.n_clicks"]}
    # Find the real output key of the commit callback from Dash's map.
    dash_app = client.application.extensions["dash_app"]
    key = next(k for k in dash_app.callback_map if k.startswith("..upload-result.children"))
    payload["output"] = key
    payload["outputs"] = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]}
                          for p in key[2:-2].split("...")]
    resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert resp.status_code == 200
    message = json.dumps(resp.get_json()["response"]["upload-result"], ensure_ascii=False)
    assert "C02" in message and "未通过" in message
    with app_db.session() as s:
        assert s.scalar(select(func.count()).select_from(EvidenceValue)) == before


def test_staff_cli_import_for_another_unit_exits_non_zero_and_writes_nothing(tmp_path, demo_file):
    import shutil
    db_path = tmp_path / "cli.sqlite3"
    shutil.copy(demo_file, db_path)
    f = tmp_path / "b.csv"
    f.write_text("单位编码,支委会次数\nC02,5\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "t"}
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "import-evidence", str(f), "--period",
                          "2026H1", "--user", "staff_sj"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0
    assert "C02" in out.stdout + out.stderr


# ----------------------------------------------------------------- exports

def _assert_no_formula(xlsx: bytes) -> int:
    wb = load_workbook(io.BytesIO(xlsx))
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str) and "HYPERLINK" in c.value:
                    seen += 1
    return seen


def test_every_export_neutralises_formula_text(app_db):
    with app_db.session() as s:
        s.execute(update(OrgUnit).where(OrgUnit.code == "C03").values(name=EVIL))
    with app_db.session() as s:
        from data.models import UnitName
        s.execute(update(UnitName).where(UnitName.unit_id == select(OrgUnit.id).where(OrgUnit.code == "C03")
                                         .scalar_subquery()).values(name=EVIL))
    services.clear_cache(app_db, stored=True)  # names edited behind the services' back: no version bump
    admin = principal_by_name("admin", db=app_db)
    inspector = principal_by_name("inspector", db=app_db)
    from flask import Flask
    app = Flask("t")
    app.extensions["dangjian_db"] = app_db
    with app.app_context():
        assert _assert_no_formula(exports.rankings_xlsx(admin, "2026H1")) >= 1
        assert _assert_no_formula(exports.to_xlsx({"结果": exports.score_table("2026H1")})) >= 1
        csv = exports.to_csv(exports.score_table("2026H1")).decode("utf-8-sig")
        assert "'=HYPERLINK" in csv and "\n=HYPERLINK" not in csv and ",=HYPERLINK" not in csv
        # C03 is not a 2025 candidate, so that workbook may carry no hostile text; every workbook is
        # checked with hostile table texts too in tests/test_workbooks.py, where each must count hits.
        _assert_no_formula(exports.candidates_xlsx(inspector, "2025"))
        assert _assert_no_formula(evidence_service.template_bytes(app_db, "2026H1", admin)) >= 1


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_every_dangerous_start(text):
    assert exports.neutralise(text) == "'" + text
    assert exports.neutralise("党建" + text) == "党建" + text


# ----------------------------------------------------------------- audit

def test_audit_rows_for_each_action(app_db):
    insp = principal_by_name("inspector", db=app_db)
    admin = principal_by_name("admin", db=app_db)
    import datetime as dt
    services.set_adjustment(insp, "2026H1", "C02", "F2", "judgement", 2, "现场评定", db=app_db)
    services.set_adjustment(insp, "2026H1", "C02", "C1", "deduction", 1, "记录缺页", db=app_db)
    rid = services.add_rectification(insp, "2026H1", "C02", "台账不全", dt.date.today() + dt.timedelta(days=30), db=app_db)
    services.update_rectification(insp, rid, "close", "已补齐台账", db=app_db)
    services.decide_candidate(insp, "2026H1", "C02", "推荐", "表现突出", db=app_db)  # 2025 is published: frozen
    content = table_xlsx.xlsx_to_dict(table_xlsx.table_to_xlsx(services.table_for_period("2026H1", app_db)))[0]
    content["version"] = "2027"
    services.save_table_version(admin, content, "测试", db=app_db)
    create_user("newstaff", "Xy@123456789", "staff", unit_codes=["C02"], actor=admin, db=app_db)
    f = "单位编码,支委会次数\nC02,6\n".encode("utf-8")
    res = evidence_service.commit_upload(app_db, f, "a.csv", "2026H1", insp)
    assert res.status == "committed"
    services.set_period_status(insp, "2026H1", "已发布", db=app_db)
    actions = set(_audit_actions(app_db))
    for action in ("judgement", "deduction", "rectification_open", "rectification_close", "candidate_decision",
                   "period_publish", "table_version", "user_create", "upload"):
        assert action in actions, action


def test_no_plain_text_password_anywhere_in_the_database(app_db):
    from tests.conftest import PASSWORDS
    dump = "\n".join(app_db.engine.raw_connection().iterdump()) if app_db.is_sqlite else ""
    for pw in set(PASSWORDS.values()):
        assert pw not in dump
    assert "$argon2id$" in dump
