"""Every write path on a published period, POSTed to the Dash callback endpoint as the browser does
(or an attacker could): answered with 「考核结果已发布」 and nothing written (issue 12 item 5,
issue 18 item 5: withdrawing an adjustment used to say 「请选择要撤回的评分记录」)."""
from __future__ import annotations

import datetime as dt

import base64
import json

import pytest
from sqlalchemy import select

from data import publication
from data.accounts import principal_by_name
from data.models import Adjustment, Period, Rectification
from tests.conftest import login
from tests.data.test_publication import state

P = "2026H1"
REFUSED = "考核结果已发布"


def _callback(client, output: str, trigger: str):
    """The callback map entry whose outputs start with ``output`` and whose inputs include ``trigger``."""
    dash_app = client.application.extensions["dash_app"]
    for key, cb in dash_app.callback_map.items():
        if key.lstrip(".").startswith(output) and any(f"{i['id']}.{i['property']}" == trigger for i in cb["inputs"]):
            return key, cb
    raise AssertionError(f"no callback {output} ← {trigger}")


def _post(client, output: str, trigger: str, values: dict):
    key, cb = _callback(client, output, trigger)

    def spec(items):
        return [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in items]

    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]}
               for p in (key[2:-2].split("...") if key.startswith("..") else [key])]
    payload = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
               "inputs": spec(cb["inputs"]), "state": spec(cb.get("state", [])), "changedPropIds": [trigger]}
    resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return json.dumps(resp.get_json(), ensure_ascii=False)


@pytest.fixture
def published(app_db):
    publication.publish(principal_by_name("inspector", db=app_db), P, db=app_db)
    return app_db


def _ids(db):
    with db.session() as s:
        pid = s.scalar(select(Period.id).where(Period.code == P))
        adj = s.scalar(select(Adjustment.id).where(Adjustment.period_id == pid, Adjustment.superseded_at.is_(None))
                       .limit(1))
        rect = s.scalar(select(Rectification.id).where(Rectification.period_id == pid,
                                                       Rectification.status == "整改中").limit(1))
    return adj, rect


KEY = {"unit": "C02", "period": P}
CSV = "data:text/csv;base64," + base64.b64encode("单位编码,支委会次数\nC02,6\n".encode()).decode()

CASES = {  # name: (user, output, trigger, values)
    "judgement": ("inspector", "branch-adj-msg.children", "branch-adj-save.n_clicks", {
        "branch-adj-save.n_clicks": 1, "branch-key.data": KEY, "branch-adj-item.value": "F2",
        "branch-adj-kind.value": "judgement", "branch-adj-points.value": 2, "branch-adj-reason.value": "现场评定"}),
    "deduction": ("inspector", "branch-adj-msg.children", "branch-adj-save.n_clicks", {
        "branch-adj-save.n_clicks": 1, "branch-key.data": KEY, "branch-adj-item.value": "C1",
        "branch-adj-kind.value": "deduction", "branch-adj-points.value": 1, "branch-adj-reason.value": "缺页"}),
    "not_applicable": ("inspector", "branch-adj-msg.children", "branch-adj-save.n_clicks", {
        "branch-adj-save.n_clicks": 1, "branch-key.data": KEY, "branch-adj-item.value": "C3",
        "branch-adj-kind.value": "not_applicable", "branch-adj-reason.value": "未设党小组"}),
    "withdraw": ("inspector", "branch-adj-msg.children", "branch-adj-withdraw.n_clicks", {
        "branch-adj-withdraw.n_clicks": 1, "branch-key.data": KEY, "branch-adj-withdraw-id.value": "ADJ"}),
    "self_assessment": ("staff_sj", "branch-self-msg.children", "branch-self-save.n_clicks", {
        "branch-self-save.n_clicks": 1, "branch-key.data": {"unit": "C01", "period": P},
        "branch-self-item.value": "A1", "branch-self-points.value": 3, "branch-self-note.value": "自评"}),
    "rectification_add": ("inspector", "branch-rect-msg.children", "branch-rect-add.n_clicks", {
        "branch-rect-add.n_clicks": 1, "branch-key.data": KEY, "branch-rect-problem.value": "台账不全",
        "branch-rect-deadline.value": (dt.date.today() + dt.timedelta(days=30)).isoformat()}),
    "rectification_close": ("inspector", "branch-rect-msg.children", "branch-rect-update.n_clicks", {
        "branch-rect-update.n_clicks": 1, "branch-key.data": KEY, "branch-rect-id.value": "RECT",
        "branch-rect-action.value": "close", "branch-rect-note.value": "已补齐"}),
    "candidate_decision": ("inspector", "candidates-msg.children", "candidates-save.n_clicks", {
        "candidates-save.n_clicks": 1, "candidates-period-store.data": P, "candidates-unit.value": "C02",
        "candidates-decision.value": "推荐", "candidates-note-input.value": "突出"}),
    "status_back": ("inspector", "rankings-status-msg.children", "rankings-status-save.n_clicks", {
        "rankings-status-save.n_clicks": 1, "rankings-period.value": P, "rankings-status.value": "考核中"}),
    "upload_preview": ("inspector", "upload-preview.children", "upload-file.contents", {
        "upload-file.contents": CSV, "upload-file.filename": "a.csv", "upload-period-store.data": P}),
    "upload_commit": ("inspector", "upload-result.children", "upload-commit.n_clicks", {
        "upload-commit.n_clicks": 1, "upload-file.contents": CSV, "upload-file.filename": "a.csv",
        "upload-period-store.data": P}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_write_callback_is_refused_on_a_published_period(client, published, case):
    user, output, trigger, values = CASES[case]
    adj, rect = _ids(published)
    values = {k: (str(adj) if v == "ADJ" else str(rect) if v == "RECT" else v) for k, v in values.items()}
    login(client, user)
    before = state(published)
    body = _post(client, output, trigger, values)
    assert REFUSED in body, body[:500]
    assert "请选择要撤回的评分记录" not in body
    assert state(published) == before


def test_the_same_callback_writes_once_the_period_is_reopened(client, published):
    """Shows the payloads above reach the services: re-opened, the judgement is saved."""
    publication.reopen(principal_by_name("admin", db=published), P, "更正", db=published)
    login(client, "inspector")
    before = state(published)
    _, output, trigger, values = CASES["judgement"]
    body = _post(client, output, trigger, values)
    assert "已保存" in body
    assert state(published)["adjustments"] == before["adjustments"] + 1


def test_publishing_from_the_ranking_page_freezes_a_snapshot_and_labels_it(client, app_db):
    login(client, "inspector")
    body = _post(client, "rankings-status-msg.children", "rankings-status-save.n_clicks", {
        "rankings-status-save.n_clicks": 1, "rankings-period.value": P, "rankings-status.value": "已发布"})
    assert "第 1 次发布" in body
    assert publication.snapshot(P, db=app_db).number == 1


def test_the_admin_page_reopens_with_a_reason_only_and_audits_it(client, published):
    from data import services
    from data.models import AuditLog

    login(client, "admin")
    values = {"admin-reopen-save.n_clicks": 1, "admin-reopen-period.value": P, "admin-reopen-reason.value": " "}
    body = _post(client, "admin-reopen-msg.children", "admin-reopen-save.n_clicks", values)
    assert "理由" in body and services.get_period_info(P, published).status == "已发布"
    values["admin-reopen-reason.value"] = "C02 评定有误"
    body = _post(client, "admin-reopen-msg.children", "admin-reopen-save.n_clicks", values)
    assert "已重新开放" in body and "第 2 次发布" in body
    assert services.get_period_info(P, published).status == "考核中"
    with published.session() as s:
        row = s.scalar(select(AuditLog).where(AuditLog.action == "period_reopen"))
    assert row.username == "admin" and row.after["reason"] == "C02 评定有误"


def test_the_reopen_callback_is_forbidden_to_inspectors(client, published):
    login(client, "inspector")
    key, cb = _callback(client, "admin-reopen-msg.children", "admin-reopen-save.n_clicks")
    before = state(published)
    payload = {"output": key, "outputs": [{"id": "admin-reopen-msg", "property": "children"},
                                          {"id": "admin-periods-box", "property": "children"}],
               "inputs": [{"id": "admin-reopen-save", "property": "n_clicks", "value": 1}],
               "state": [{"id": "admin-reopen-period", "property": "value", "value": P},
                         {"id": "admin-reopen-reason", "property": "value", "value": "想改"}],
               "changedPropIds": ["admin-reopen-save.n_clicks"]}
    resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert resp.status_code == 403
    assert state(published) == before
