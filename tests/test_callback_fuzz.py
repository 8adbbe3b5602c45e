"""Wrong-typed inputs to every callback (lists, dicts, huge strings, None, numbers): never a 500.

Each callback is POSTed as a signed-in user of a role allowed to call it, with every input
and state set to one hostile value, then with each input alone made hostile (the others left
as the page would send them: None). A 400 carries a Chinese message.
"""
from __future__ import annotations

import json

import pytest

from tests.conftest import login
from tests.test_callback_matrix import DASH_INTERNAL, _callbacks, _split_output

BAD_VALUES = {
    "list": ["C01", ["x"], {"a": 1}],
    "dict": {"unit": "C01", "rowData": [1, 2], "$where": 1},
    "huge": "党" * 200_000,
    "none": None,
    "number": -1e308,
    "nested": [[[[{"x": [None]}]]]],
}
USER_OF_ROLE = {"admin": "admin", "inspector": "inspector", "leader": "leader", "staff": "staff"}


def _items(specs, value):
    out = []
    for spec in specs:
        cid = spec["id"]
        if isinstance(cid, str) and cid.startswith("{"):
            parsed = json.loads(cid)
            if any(isinstance(v, list) for v in parsed.values()):
                out.append([{"id": {k: ("x" if isinstance(v, list) else v) for k, v in parsed.items()},
                             "property": spec["property"], "value": value}])
                continue
            cid = parsed
        out.append({"id": cid, "property": spec["property"], "value": value})
    return out


def _payload(key, cb, inputs_value, state_value, only: int | None = None):
    inputs = _items(cb["inputs"], None)
    if only is None:
        inputs = _items(cb["inputs"], inputs_value)
    else:
        inputs[only] = _items([cb["inputs"][only]], inputs_value)[0]
    first = inputs[only or 0] if inputs else None
    changed = []
    if isinstance(first, dict):
        cid = first["id"] if isinstance(first["id"], str) else json.dumps(first["id"], separators=(",", ":"))
        changed = [f"{cid}.{first['property']}"]
    return {"output": key, "outputs": _split_output(key), "inputs": inputs,
            "state": _items(cb.get("state", []), state_value), "changedPropIds": changed}


def _roles_by_callback(flask_app):
    out = {}
    for key, cb in _callbacks(flask_app).items():
        roles = getattr(cb.get("callback"), "allowed_roles", None)
        if roles and not any(m in key for m in DASH_INTERNAL):
            out[key] = roles[0]
    return out


@pytest.mark.timeout(900)
def test_no_callback_answers_500_to_wrong_typed_inputs(flask_app, client, app_db):
    callbacks = _callbacks(flask_app)
    by_role: dict[str, list[str]] = {}
    for key, role in _roles_by_callback(flask_app).items():
        by_role.setdefault(role, []).append(key)
    assert sum(len(v) for v in by_role.values()) >= 20
    problems, n = [], 0
    for role, keys in by_role.items():
        c = flask_app.test_client()
        login(c, USER_OF_ROLE[role])
        for key in keys:
            cb = callbacks[key]
            payloads = [_payload(key, cb, v, v) for v in BAD_VALUES.values()]
            payloads += [_payload(key, cb, v, None, only=i) for i in range(len(cb["inputs"]))
                         for v in (BAD_VALUES["list"], BAD_VALUES["dict"], BAD_VALUES["huge"])]
            for payload in payloads:
                n += 1
                resp = c.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
                if resp.status_code >= 500:
                    problems.append(f"{key} as {role}: {resp.status_code}")
                elif resp.status_code == 400:
                    body = resp.get_json() or {}
                    if "请求" not in json.dumps(body, ensure_ascii=False):
                        problems.append(f"{key}: 400 without a Chinese message")
    assert n > 100
    assert problems == [], problems


def test_malformed_dash_payloads_are_400_not_500(client):
    login(client, "leader")
    for body in ({}, {"output": 5}, {"output": "x.y", "inputs": "nope"}, {"output": ["a"], "outputs": {}}, []):
        resp = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
        assert resp.status_code in (400, 204), (body, resp.status_code)


def test_a_400_for_malformed_input_logs_its_traceback(flask_app, client, caplog):
    """The same exception types come from a server defect as from a forged payload; the answer is 400
    either way, so the warning must carry the traceback for the defect to be found."""
    callbacks = _callbacks(flask_app)
    login(client, "leader")
    answered_400 = 0
    with caplog.at_level("WARNING"):
        for key, role in _roles_by_callback(flask_app).items():
            if role != "leader":
                continue
            payload = _payload(key, callbacks[key], BAD_VALUES["dict"], BAD_VALUES["dict"])
            resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
            answered_400 += resp.status_code == 400
    assert answered_400, "no leader callback rejected a dict where text belongs"
    malformed = [r for r in caplog.records if "malformed callback" in r.getMessage()]
    assert len(malformed) >= answered_400
    assert all(r.exc_info and r.exc_info[2] is not None for r in malformed)
