"""Every registered Dash callback × every role, POSTed directly as a browser would (or an attacker could).

The callback list comes from Dash's own callback map, so a new callback is covered
automatically; one registered without ``secure_callback`` fails the first test.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from data.models import Base
from data.permissions import ALL_ROLES
from tests.conftest import login

ROLE_USERS = {"leader": "leader", "inspector": "inspector", "staff": "staff", "admin": "admin"}
DASH_INTERNAL = ("_pages_", "_dash-")  # Dash's own router callbacks: each page layout checks the role itself


def _callbacks(flask_app):
    dash_app = flask_app.extensions["dash_app"]
    with flask_app.test_request_context():
        dash_app._setup_server()
    return dash_app.callback_map


def _split_output(key: str):
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        cid, prop = part.rsplit(".", 1)
        if cid.startswith("{"):
            parsed = json.loads(cid)
            wildcard = any(isinstance(v, list) for v in parsed.values())
            out.append([] if wildcard else {"id": parsed, "property": prop})
        else:
            out.append({"id": cid, "property": prop})
    return out if key.startswith("..") else out[0]


def _spec(items):
    payload = []
    for spec in items:
        cid = spec["id"]
        if isinstance(cid, str) and cid.startswith("{"):
            parsed = json.loads(cid)
            if any(isinstance(v, list) for v in parsed.values()):
                payload.append([])
                continue
            cid = parsed
        payload.append({"id": cid, "property": spec["property"], "value": None})
    return payload


def _payload(key, cb):
    inputs = _spec(cb["inputs"])
    first = next((i for i in inputs if isinstance(i, dict)), None)
    changed = [f"{first['id']}.{first['property']}"] if first and isinstance(first["id"], str) else []
    return {"output": key, "outputs": _split_output(key), "inputs": inputs, "state": _spec(cb.get("state", [])),
            "changedPropIds": changed}


def _snapshot(db):
    with db.session() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_every_callback_is_role_checked(flask_app):
    unguarded = [key for key, cb in _callbacks(flask_app).items()
                 if not any(m in key for m in DASH_INTERNAL) and "callback" in cb
                 and getattr(cb["callback"], "allowed_roles", None) is None]
    assert unguarded == [], f"callbacks registered without auth.secure_callback: {unguarded}"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_callback_role_matrix(flask_app, client, app_db, role):
    callbacks = _callbacks(flask_app)
    assert len(callbacks) >= 5
    login(client, ROLE_USERS[role])
    problems = []
    for key, cb in callbacks.items():
        allowed = getattr(cb.get("callback"), "allowed_roles", None)
        if allowed is None:
            continue  # Dash internals, covered by the layout tests
        before = _snapshot(app_db)
        resp = client.post("/_dash-update-component", data=json.dumps(_payload(key, cb)),
                           content_type="application/json")
        if role in allowed:
            if resp.status_code not in (200, 204):
                problems.append(f"{key}: {role} allowed but got {resp.status_code}")
        else:
            if resp.status_code != 403:
                problems.append(f"{key}: {role} forbidden but got {resp.status_code}")
            after = _snapshot(app_db)
            if after != before:
                problems.append(f"{key}: database changed after a forbidden call by {role}")
    assert problems == []


def test_signed_out_callback_gets_401(flask_app, client):
    for key, cb in list(_callbacks(flask_app).items())[:10]:
        resp = client.post("/_dash-update-component", data=json.dumps(_payload(key, cb)),
                           content_type="application/json")
        assert resp.status_code == 401, key
