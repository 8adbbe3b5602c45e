"""Browser checks of the security pages: the navbar's POST logout, the forced password change,
bulk account import on the admin page, and pages working under a CSP without 'unsafe-eval'."""
from __future__ import annotations

from tests.fixtures.intake_files import csv_bytes
from tests.pages.conftest import shot


def test_auth001_logout_button_ends_the_session_for_good(page_for):
    page = page_for("leader")
    page.goto(page.base_url + "/")
    page.wait_for_selector("#rankings-grid .ag-row")
    cookie = next(c for c in page.context.cookies() if c["name"] == "dangjian_session")
    page.click("#nav-logout")
    page.wait_for_selector("#login-submit")
    page.context.add_cookies([cookie])  # the saved cookie, replayed
    page.goto(page.base_url + "/")
    page.wait_for_selector("#login-submit")


def test_auth002_csp_without_unsafe_eval_keeps_charts_and_grids_working(page_for):
    page = page_for("inspector")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page.base_url + "/gaps")
    page.wait_for_selector("#gaps-heatmap .main-svg")
    page.goto(page.base_url + "/")
    page.wait_for_selector("#rankings-grid .ag-row")
    page.goto(page.base_url + "/branch/C01")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert not [e for e in errors if "Content Security Policy" in e or "unsafe-eval" in e], errors


def test_admin002_bulk_import_then_the_new_user_changes_password_and_sees_their_unit(page_for, browser, live_server,
                                                                                       tmp_path):
    page = page_for("admin")
    page.goto(page.base_url + "/admin")
    f = tmp_path / "users.csv"
    f.write_bytes(csv_bytes([["用户名", "姓名", "角色", "负责单位编码"], ["bulk_one", "批量一", "党务干事", "C04"],
                             ["bulk_two", "批量二", "局领导", ""]]))
    page.set_input_files("#admin-users-upload input[type=file]", str(f))
    page.wait_for_selector("#admin-users-import-table")
    page.click("#admin-users-import-commit")
    page.wait_for_selector("#admin-users-import-passwords")
    shot(page, "admin_bulk_import")
    cells = page.locator("#admin-users-import-passwords td").all_inner_texts()
    passwords = dict(zip(cells[0::2], cells[1::2]))
    assert set(passwords) == {"bulk_one", "bulk_two"}
    other = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        p2 = other.new_page()
        p2.goto(live_server + "/login")
        p2.fill("#username", "bulk_one")
        p2.fill("#password", passwords["bulk_one"])
        p2.click("#login-submit")
        p2.wait_for_selector("#password-forced")
        p2.goto(live_server + "/")  # nothing else opens before the change
        p2.wait_for_selector("#password-forced")
        shot(p2, "password_forced")
        p2.fill("#current", passwords["bulk_one"])
        p2.fill("#new", "Piliang-Yi-Own-2027")
        p2.fill("#confirm", "Piliang-Yi-Own-2027")
        p2.click("#password-submit")
        p2.click("#password-home")
        p2.wait_for_selector("#rankings-grid .ag-row")
        assert p2.evaluate("dash_ag_grid.getApi('rankings-grid').getDisplayedRowCount()") == 1
    finally:
        other.close()
