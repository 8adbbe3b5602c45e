"""系统管理 → 修改考核期: the 计分依据 (record source) select loads the period's setting and saves a change
through ``periods.update_period`` (audited, new data version, refused once published)."""
from __future__ import annotations

import json

from sqlalchemy import select

from data.models import AuditLog, Period
from tests.conftest import login
from tests.test_callback_roles import A, _name, _ours, _payload


def _post(client, flask_app, name, values):
    key, cb = next((k, c) for k, c in _ours(flask_app).items() if _name(c) == name)
    resp = client.post("/_dash-update-component", data=json.dumps(_payload(key, cb, values)),
                       content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_json()["response"]


def test_admin_sets_the_record_source_of_a_period(flask_app, client, app_db):
    login(client, A)
    loaded = _post(client, flask_app, "pages.admin:_load_period", {"admin-edit-period.value": "2026H1"})
    assert loaded["admin-edit-source"]["value"] == "typed"
    with app_db.session() as s:
        p = s.scalar(select(Period).where(Period.code == "2026H1"))
        version, start, end = p.data_version, p.start_date.isoformat(), p.end_date.isoformat()
        deadline = p.deadline.isoformat() if p.deadline else None
        table, late = p.table_version.version, p.late_policy
    out = _post(client, flask_app, "pages.admin:_edit_period", {
        "admin-edit-save.n_clicks": 1, "admin-edit-period.value": "2026H1", "admin-edit-start.value": start,
        "admin-edit-end.value": end, "admin-edit-deadline.value": deadline, "admin-edit-version.value": table,
        "admin-edit-late.value": late, "admin-edit-source.value": "records"})
    assert "计分依据：以填报数为准（活动记录仅作对照） → 以活动记录为准" in json.dumps(out, ensure_ascii=False)
    with app_db.session() as s:
        p = s.scalar(select(Period).where(Period.code == "2026H1"))
        assert (p.record_source, p.data_version) == ("records", version + 1)
        log = s.scalar(select(AuditLog).where(AuditLog.action == "period_update").order_by(AuditLog.id.desc()))
        assert log.after == {"record_source": "records"}
    # A value that is not a record source leaves the setting as it is.
    out = _post(client, flask_app, "pages.admin:_edit_period", {
        "admin-edit-save.n_clicks": 1, "admin-edit-period.value": "2026H1", "admin-edit-start.value": start,
        "admin-edit-end.value": end, "admin-edit-deadline.value": deadline, "admin-edit-version.value": table,
        "admin-edit-late.value": late, "admin-edit-source.value": "<script>"})
    assert "没有需要保存的修改" in json.dumps(out, ensure_ascii=False)
    # A published period refuses the change (2025 is published in the demo).
    out = _post(client, flask_app, "pages.admin:_edit_period", {
        "admin-edit-save.n_clicks": 1, "admin-edit-period.value": "2025", "admin-edit-source.value": "records"})
    assert "考核结果已发布" in json.dumps(out, ensure_ascii=False)
