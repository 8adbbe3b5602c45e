"""Issue 13 item 7: an inspector's entry on an item not due in the period (a 年度 item in H1) is
saved, and the branch page says it will not count — through the real callback, as the browser posts it."""
from __future__ import annotations

import json

from sqlalchemy import select

from data.models import Adjustment
from tests.conftest import login
from tests.test_callback_matrix import _callbacks, _split_output


def _post_adjustment(client, flask_app, item: str):
    key = next(k for k, cb in _callbacks(flask_app).items()
               if "branch-adj-msg.children" in k and any(i["id"] == "branch-adj-save" for i in cb["inputs"]))
    values = {"branch-key": {"unit": "C02", "period": "2026H1"}, "branch-adj-item": item,
              "branch-adj-kind": "judgement" if item == "G2" else "deduction", "branch-adj-points": 1,
              "branch-adj-reason": "现场检查", "branch-refresh": 0}
    cb = _callbacks(flask_app)[key]
    state = [{"id": s["id"], "property": s["property"], "value": values[s["id"]]} for s in cb["state"]]
    payload = {"output": key, "outputs": _split_output(key), "changedPropIds": ["branch-adj-save.n_clicks"],
               "inputs": [{"id": "branch-adj-save", "property": "n_clicks", "value": 1}], "state": state}
    resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return json.dumps(resp.get_json(), ensure_ascii=False)


def test_entry_on_an_annual_item_in_h1_is_saved_with_a_warning(flask_app, client, app_db):
    login(client, "inspector")
    body = _post_adjustment(client, flask_app, "G2")
    assert "已保存并记入审计日志" in body and "不会计入该考核期的得分" in body and "G2 业务工作实绩" in body
    with app_db.session() as s:
        assert s.scalar(select(Adjustment).where(Adjustment.item_code == "G2", Adjustment.reason == "现场检查"))
    body = _post_adjustment(client, flask_app, "C1")  # due in H1: no warning
    assert "已保存并记入审计日志" in body and "不会计入" not in body
