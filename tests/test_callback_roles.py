"""Callback × role, with the expected roles written here from the README's role table (not read
from the declarations the decorator enforces), and real inputs that reach the service.

README「角色」table, as used below:
- 局领导: 排名总览、支部详情、差距分析、先进推荐、整改台账、指标体系（含模拟测算），只读
- 考核组: 以上全部 + 数据上传；评定分/扣分/不适用、整改登记与销号、回头看；先进推荐意见；更新考核期状态
- 党务干事: 本人负责单位的排名、支部详情、差距、整改台账；数据上传（本人单位）；指标体系；本单位自评分
- 系统管理员: 全部页面（不录入评分）+ 数据上传、审计日志、系统管理、上传指标体系新版本

On the allowed side a callback must answer 200 with output (204 would mean it returned early)
and, for a write, change the database; on the forbidden side 403 and nothing written. Signed
out, every callback gets 401.
"""
from __future__ import annotations

import datetime as dt

import base64
import json

import pytest
from sqlalchemy import func, select

from data import table_xlsx
from data.models import Adjustment, AuditLog, OrgUnit, Period
from tests.conftest import login
from tests.test_callback_matrix import DASH_INTERNAL, _callbacks, _split_output

L, I, S, A = "leader", "inspector", "staff", "admin"
EVERYONE = {L, I, S, A}
EXPECTED = {  # "module:function" -> roles allowed (from the README), is it a write
    "pages.rankings:_navigate": (EVERYONE, False),
    "pages.rankings:_export": (EVERYONE, False),
    "pages.rankings:_publish": ({I}, True),
    "pages.branch:_change_period": (EVERYONE, False),
    "pages.branch:_withdraw_adjustment": ({I}, True),
    "pages.branch:_save_adjustment": ({I}, True),
    "pages.branch:_rectify": ({I}, True),
    "pages.branch:_save_self": ({S}, True),
    "pages.gaps:_navigate": (EVERYONE, False),
    "pages.gaps:_open_unit": (EVERYONE, False),
    "pages.candidates:_navigate": ({L, I, A}, False),
    "pages.candidates:_export": ({L, I, A}, False),
    "pages.candidates:_decide": ({I}, True),
    "pages.upload:_template": ({S, I, A}, False),
    "pages.upload:_navigate": ({S, I, A}, False),
    "pages.upload:_preview": ({S, I, A}, False),
    "pages.upload:_commit": ({S, I, A}, True),
    "pages.indicators:_navigate": (EVERYONE, False),
    "pages.indicators:_download": (EVERYONE, False),
    "pages.indicators:_check_upload": ({A}, False),
    "pages.indicators:_save": ({A}, True),
    "pages.indicators:_what_if": ({L, I, A}, False),
    "pages.admin:_users": ({A}, True),
    "pages.admin:_periods": ({A}, True),
    "pages.admin:_users_import_preview": ({A}, False),
    "pages.admin:_users_import_commit": ({A}, True),
}


def _b64(data: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _inputs(name: str, role: str, db, n: int) -> dict:
    """Real values for each ``id.property`` of the callback, as the page would send them."""
    unit = "X0031" if role == S else "C02"  # staff (临河县局) answers for X0031
    key = {"unit": unit, "period": "2026H1"}
    with db.session() as s:
        adj = s.scalar(select(Adjustment.id).join(OrgUnit, OrgUnit.id == Adjustment.unit_id)
                       .join(Period, Period.id == Adjustment.period_id)
                       .where(Adjustment.superseded_at.is_(None), Period.code == "2026H1"))
    evidence = _b64(f"单位编码,支委会次数\n{unit},{3 + n % 3}\n".encode())
    from data import services

    table = services.table_for_period("2026H1", db)
    content = table_xlsx.table_to_dict(table)
    content["version"] = f"m{n}"
    from scoring.indicators import parse_table

    xlsx = _b64(table_xlsx.table_to_xlsx(parse_table(content)[0]), "application/octet-stream")
    users = _b64(f"用户名,姓名,角色,负责单位编码\nmatrix{n},矩阵,党务干事,C05\n".encode())
    return {
        "pages.rankings:_navigate": {"rankings-period.value": "2025", "rankings-tabs.active_tab": "all"},
        "pages.rankings:_export": {"rankings-export.n_clicks": 1, "rankings-grid.virtualRowData": [{"unit": unit}],
                                   "rankings-period.value": "2026H1"},
        "pages.rankings:_publish": {"rankings-status-save.n_clicks": 1, "rankings-period.value": "2026H1",
                                    "rankings-status.value": "考核中"},
        "pages.branch:_change_period": {"branch-period.value": "2025", "branch-key.data": key},
        "pages.branch:_withdraw_adjustment": {"branch-adj-withdraw.n_clicks": 1, "branch-key.data": key,
                                              "branch-adj-withdraw-id.value": str(adj)},
        "pages.branch:_save_adjustment": {"branch-adj-save.n_clicks": 1, "branch-key.data": key,
                                          "branch-adj-item.value": "C1", "branch-adj-kind.value": "deduction",
                                          "branch-adj-points.value": 0.5, "branch-adj-reason.value": "记录缺页"},
        "pages.branch:_rectify": {"branch-rect-add.n_clicks": 1, "branch-key.data": key,
                                  "branch-rect-problem.value": "台账不全", "branch-rect-item.value": "E1",
                                  "branch-rect-deadline.value": (dt.date.today() + dt.timedelta(days=30)).isoformat()},
        "pages.branch:_save_self": {"branch-self-save.n_clicks": 1, "branch-key.data": key,
                                    "branch-self-item.value": "C1", "branch-self-points.value": 3,
                                    "branch-self-note.value": "自评"},
        "pages.gaps:_navigate": {"gaps-period.value": "2025", "gaps-sort.value": "gap"},
        "pages.gaps:_open_unit": {"gaps-heatmap.clickData": {"points": [{"customdata": unit, "x": "A"}]},
                                  "gaps-period-store.data": "2026H1"},
        "pages.candidates:_navigate": {"candidates-period.value": "2025"},
        "pages.candidates:_export": {"candidates-export.n_clicks": 1, "candidates-period-store.data": "2025"},
        "pages.candidates:_decide": {"candidates-save.n_clicks": 1, "candidates-period-store.data": "2025",
                                     "candidates-unit.value": "C02", "candidates-decision.value": "推荐",
                                     "candidates-note-input.value": "表现突出"},
        "pages.upload:_template": {"upload-template.n_clicks": 1, "upload-period-store.data": "2026H1"},
        "pages.upload:_navigate": {"upload-period.value": "2025"},
        "pages.upload:_preview": {"upload-file.contents": evidence, "upload-file.filename": "a.csv",
                                  "upload-period-store.data": "2026H1"},
        "pages.upload:_commit": {"upload-commit.n_clicks": 1, "upload-file.contents": evidence,
                                 "upload-file.filename": "a.csv", "upload-period-store.data": "2026H1"},
        "pages.indicators:_navigate": {"indicators-period.value": "2025"},
        "pages.indicators:_download": {"indicators-download-btn.n_clicks": 1, "indicators-period-store.data": "2026H1"},
        "pages.indicators:_check_upload": {"indicators-upload.contents": xlsx, "indicators-upload.filename": "t.xlsx",
                                           "indicators-period-store.data": "2026H1"},
        "pages.indicators:_save": {"indicators-save.n_clicks": 1, "indicators-upload.contents": xlsx,
                                   "indicators-upload.filename": "t.xlsx", "indicators-note.value": "矩阵"},
        "pages.indicators:_what_if": {"indicators-whatif-run.n_clicks": 1, "indicators-period-store.data": "2026H1",
                                      "indicators-whatif-grade.value": "优秀", "indicators-whatif-min.value": 95},
        "pages.admin:_users": {"admin-new-save.n_clicks": 1, "admin-new-username.value": f"matrix_u{n}",
                               "admin-new-name.value": "矩阵", "admin-new-role.value": "leader",
                               "admin-new-units.value": "", "admin-new-password.value": "Matrix-User-Pass-1"},
        "pages.admin:_periods": {"admin-period-save.n_clicks": 1, "admin-period-code.value": f"20{30 + n}",
                                 "admin-period-version.value": "2026"},
        "pages.admin:_users_import_preview": {"admin-users-upload.contents": users,
                                             "admin-users-upload.filename": "u.csv"},
        "pages.admin:_users_import_commit": {"admin-users-import-commit.n_clicks": 1,
                                            "admin-users-upload.contents": users, "admin-users-upload.filename": "u.csv"},
    }[name]


def _name(cb) -> str:
    fn = cb["callback"]
    fn = getattr(fn, "__wrapped__", fn)
    return f"{fn.__module__}:{fn.__name__}"


def _payload(key, cb, values: dict) -> dict:
    def spec(items):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in items]
    inputs = spec(cb["inputs"])
    changed = [f"{i['id']}.{i['property']}" for i in inputs if i["value"] is not None][:1]
    return {"output": key, "outputs": _split_output(key), "inputs": inputs, "state": spec(cb.get("state", [])),
            "changedPropIds": changed}


def _ours(flask_app):
    return {key: cb for key, cb in _callbacks(flask_app).items()
            if "callback" in cb and not any(m in key for m in DASH_INTERNAL)}


def _writes(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditLog))


def test_the_table_names_every_callback(flask_app):
    assert sorted(_name(cb) for cb in _ours(flask_app).values()) == sorted(EXPECTED)


@pytest.mark.parametrize("role", [L, I, S, A])
def test_callback_role_matrix_from_the_readme(flask_app, client, app_db, role):
    login(client, role)
    problems = []
    for n, (key, cb) in enumerate(_ours(flask_app).items()):
        name = _name(cb)
        allowed, write = EXPECTED[name]
        before = _writes(app_db)
        resp = client.post("/_dash-update-component", data=json.dumps(_payload(key, cb, _inputs(name, role, app_db, n))),
                           content_type="application/json")
        after = _writes(app_db)
        if role in allowed:
            if resp.status_code != 200:
                problems.append(f"{name}: {role} allowed but got {resp.status_code}")
            elif write and after == before:
                problems.append(f"{name}: {role} allowed but nothing was written: {resp.get_data(as_text=True)[:200]}")
        else:
            if resp.status_code != 403:
                problems.append(f"{name}: {role} forbidden but got {resp.status_code}")
            if after != before:
                problems.append(f"{name}: forbidden call by {role} wrote to the database")
    assert problems == []


def test_signed_out_every_callback_gets_401(flask_app, client, app_db):
    callbacks = _ours(flask_app)
    for n, (key, cb) in enumerate(callbacks.items()):
        resp = client.post("/_dash-update-component",
                           data=json.dumps(_payload(key, cb, _inputs(_name(cb), A, app_db, n))),
                           content_type="application/json")
        assert resp.status_code == 401, _name(cb)
    assert len(callbacks) == len(EXPECTED)
