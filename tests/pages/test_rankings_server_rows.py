"""The ranking grid's infinite row model callback, POSTed as the grid does (rows come from the server)."""
from __future__ import annotations

import json

from data import services
from data.accounts import principal_by_name
from tests.conftest import login


def _post(client, flask_app, request, view):
    dash_app = flask_app.extensions["dash_app"]
    with flask_app.test_request_context():
        dash_app._setup_server()
    key = next(k for k in dash_app.callback_map if "rankings-grid.getRowsResponse" in k)
    payload = {"output": key, "outputs": {"id": "rankings-grid", "property": "getRowsResponse"},
               "inputs": [{"id": "rankings-grid", "property": "getRowsRequest", "value": request}],
               "state": [{"id": "rankings-view", "property": "data", "value": view}],
               "changedPropIds": ["rankings-grid.getRowsRequest"]}
    r = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert r.status_code == 200, r.get_data()[:300]
    return r.get_json()["response"]["rankings-grid"]["getRowsResponse"]


def test_rankings_block_is_sorted_filtered_and_sliced_on_the_server(flask_app, client, app_db):
    login(client, "leader")
    ranking = services.rankings(principal_by_name("leader", db=app_db), "2026H1", db=app_db)
    cat = ranking["category"].iloc[0]
    mine = ranking[ranking["category"] == cat].sort_values(["total", "unit"], ascending=[True, True], kind="stable")
    resp = _post(client, flask_app, {"startRow": 2, "endRow": 5, "sortModel": [{"colId": "total", "sort": "asc"}],
                                     "filterModel": {"category": {"filterType": "text", "type": "equals",
                                                                  "filter": cat}}},
                 {"period": "2026H1", "category": None, "server": True})
    assert resp["rowCount"] == len(mine)
    totals = [r["total"] for r in resp["rowData"]]
    assert totals == sorted(totals) and len(totals) == 3
    assert {r["category"] for r in resp["rowData"]} == {cat}


def test_staff_get_only_their_own_units_from_the_server_rows(flask_app, client, app_db):
    login(client, "staff_sj")
    resp = _post(client, flask_app, {"startRow": 0, "endRow": 100}, {"period": "2026H1", "server": True})
    assert resp["rowCount"] == 1 and [r["unit"] for r in resp["rowData"]] == ["C01"]
    assert _post(client, flask_app, {"startRow": 0}, {"period": "nope"})["rowCount"] == 0
