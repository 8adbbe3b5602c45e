"""``components.lite.el`` sends exactly what the Dash component would (the reference: ``lite.checked()``)."""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
import pytest
from dash import html
from dash._utils import to_json

from components import lite
from components.lite import el
from data.accounts import principal_by_name


def both(build):
    fast = json.loads(to_json(build()))
    with lite.checked():
        reference = json.loads(to_json(build()))
    return fast, reference


def test_el_matches_the_component_for_every_kind_of_prop():
    def build():
        return el(html.Tr, [
            el(html.Td, ["a", None, el(html.Div, "b", className="x")], title=None, className="c",
               **{"data-month": "2026-01", "data-type": "支委会"}),
            el(html.Td, el(html.Button, "操作", id={"type": "branch-row-act", "item": "C1"}, n_clicks=0, type="button")),
            el(html.Td, None), el(dbc.Badge, "达标", color="success", text_color=None, className="nowrap"),
        ], id="row-1")
    fast, reference = both(build)
    assert fast == reference
    assert reference["props"]["children"][0]["props"]["data-month"] == "2026-01"


def test_checked_rejects_a_misspelt_prop_the_fast_form_would_send():
    el(html.Td, "x", classname="typo")  # not checked: sent as is (the browser tests would show it)
    with lite.checked(), pytest.raises(TypeError):
        el(html.Td, "x", classname="typo")


@pytest.mark.parametrize("username", ["inspector", "leader"])
def test_branch_page_json_is_the_same_built_either_way(client, app_db, username):
    """The item table (row actions for the inspector), the activity calendar and the record list."""
    import pages.branch as branch
    from auth import WebUser
    from flask_login import login_user

    def page():
        with client.application.test_request_context("/branch/C02"):
            login_user(WebUser(principal_by_name(username, db=app_db)))
            return branch.layout(unit_code="C02", period="2026H1")

    fast, reference = both(page)
    assert fast == reference
    text = json.dumps(fast, ensure_ascii=False)
    assert "records-calendar-strip" in text and "cal-chip" in text and "explain" in text
    assert "data-differs" in text and "no-evidence" in text and "table-fixed-layout" in text
    assert ('"branch-row-act"' in text) == (username == "inspector")
