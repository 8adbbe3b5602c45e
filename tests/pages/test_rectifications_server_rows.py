"""整改台账 at a province's size: above ``SERVER_ROWS`` items the grid keeps its rows on the server and
asks for blocks (AG Grid's infinite row model), sorted, filtered and scoped there."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from dash._utils import to_json

from data import services
from data.accounts import principal_by_name
from tests.conftest import login
from tests.test_admin_record_source import _post


@pytest.fixture
def server_rows(monkeypatch):
    import pages.rectifications as rect

    monkeypatch.setattr(rect, "SERVER_ROWS", 3)
    return rect


def _layout(client, app_db, username, rect):
    from auth import WebUser
    from flask_login import login_user

    with client.application.test_request_context("/rectifications"):
        login_user(WebUser(principal_by_name(username, db=app_db)))
        return json.loads(to_json(rect.layout()))


def _grid(node):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == "rect-grid":
            return node["props"]
        for v in node.get("props", {}).values() if "props" in node else node.values():
            found = _grid(v)
            if found:
                return found
    if isinstance(node, list):
        for v in node:
            found = _grid(v)
            if found:
                return found
    return None


def test_a_large_ledger_sends_no_rows_with_the_page(client, app_db, server_rows):
    grid = _grid(_layout(client, app_db, "inspector", server_rows))
    assert grid["rowModelType"] == "infinite" and grid.get("rowData") is None
    assert grid["dashGridOptions"]["rowHeight"] == 60  # fixed: the infinite model cannot size rows to content


def test_blocks_are_sorted_filtered_and_scoped_on_the_server(flask_app, client, app_db, server_rows):
    everything = services.rectification_list(principal_by_name("inspector", db=app_db), db=app_db)
    assert len(everything) > 3
    login(client, "inspector")
    req = {"startRow": 0, "endRow": 3, "sortModel": [{"colId": "deadline", "sort": "desc"}], "filterModel": {}}
    block = _post(client, flask_app, "pages.rectifications:_rows_block", {"rect-grid.getRowsRequest": req})
    rows = block["rect-grid"]["getRowsResponse"]
    assert rows["rowCount"] == len(everything) and len(rows["rowData"]) == 3
    want = everything.sort_values("deadline", ascending=False, kind="stable").head(3)
    assert [r["id"] for r in rows["rowData"]] == want["id"].astype(int).tolist()
    unit = everything["unit_name"].iloc[0]
    req = {"startRow": 0, "endRow": 100, "sortModel": [],
           "filterModel": {"unit_link": {"filterType": "text", "type": "equals", "filter": unit}}}
    rows = _post(client, flask_app, "pages.rectifications:_rows_block",
                 {"rect-grid.getRowsRequest": req})["rect-grid"]["getRowsResponse"]
    assert rows["rowCount"] == int((everything["unit_name"] == unit).sum()) >= 1
    assert {r["unit_name"] for r in rows["rowData"]} == {unit}

    login(client, "staff")  # a staff member's blocks hold their own units' items only
    mine = services.rectification_list(principal_by_name("staff", db=app_db), db=app_db)
    rows = _post(client, flask_app, "pages.rectifications:_rows_block",
                 {"rect-grid.getRowsRequest": {"startRow": 0, "endRow": 100}})["rect-grid"]["getRowsResponse"]
    assert rows["rowCount"] == len(mine) < len(everything)
    assert {r["unit"] for r in rows["rowData"]} == set(mine["unit"])


@pytest.mark.parametrize("server", [False, True])
def test_rect001_deadlines_show_as_dates_and_sort_by_date(page_for, app_db, monkeypatch, server):
    """The 整改期限 column reads 「2026年7月5日」 and sorts chronologically (「12月」 after 「9月」), in the
    browser's own grid and in the server-side one."""
    import pages.rectifications as rect
    from tests.pages.conftest import wait_js

    if server:
        monkeypatch.setattr(rect, "SERVER_ROWS", 3)
    page = page_for("inspector")
    page.goto(page.base_url + "/rectifications")
    # The server-side grid draws placeholder rows (「—」) until its first block arrives.
    shown = wait_js(page, """() => { const c = document.querySelector('#rect-grid .ag-row [col-id=deadline]');
        return c && c.innerText.includes('年') ? c.innerText : null; }""")
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", shown.strip()), shown
    header = page.locator("#rect-grid .ag-header-cell[col-id=deadline] .ag-header-cell-label")
    header.click()
    header.click()  # descending: not the order the ledger opens in (overdue, i.e. earliest, first)
    each = "forEachNode" if server else "forEachNodeAfterFilterAndSort"
    order = wait_js(page, """(each) => { const api = dash_ag_grid.getApi('rect-grid'); const out = [];
        api[each](n => { if (n.data) out.push(n.data.deadline); });
        const desc = [...out].sort().reverse(); return out.length > 3 && out.join() === desc.join() ? out : null; }""",
                    each)
    dates = [dt.date.fromisoformat(d) for d in order]  # the sorted value is the date itself, not its text
    assert dates == sorted(dates, reverse=True) and dates[0] > dates[-1]
