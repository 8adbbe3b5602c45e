"""Browser: activity records on the branch page (staff add a record and the count moves; the calendar strip
shows the months without one) and the records import on the upload page. Screenshots in tests/artifacts/."""
from __future__ import annotations

import datetime as dt

from tests.pages.conftest import ARTIFACTS, assert_no_horizontal_overflow, shot, wait_js, wait_text

STRIP_ROW = """([t]) => { const rows = [...document.querySelectorAll('#records-calendar-strip tbody tr')];
  const r = rows.find(x => x.querySelector('th').innerText.startsWith(t)); return r ? r.querySelector('th').innerText : ''; }"""
MISSING = """([t]) => [...document.querySelectorAll('#records-calendar-strip td.cal-missing')]
  .filter(td => td.dataset.type === t).map(td => td.dataset.month)"""


def test_branch101_staff_adds_a_record_and_the_count_moves(page_for):
    page = page_for("staff_sj")  # 市局机关第一党支部 (C01)
    page.goto(page.base_url + "/branch/C01?period=2026H1")
    page.wait_for_selector("#records-calendar-strip")
    assert page.evaluate(STRIP_ROW, ["谈心谈话"]) == ""  # the demo holds no 谈心谈话 records: no row yet
    page.select_option("#records-f-type", "谈心谈话")
    page.fill("#records-f-date", "2026-05-12")
    page.fill("#records-f-topic", "书记与组织委员谈心谈话")
    page.fill("#records-f-expected", "2")
    page.fill("#records-f-attended", "2")
    page.click("#records-save")
    wait_text(page, "#records-msg", "已登记 2026-05-12 谈心谈话")
    row = wait_js(page, STRIP_ROW, ["谈心谈话"])
    assert "1 次" in row
    wait_text(page, "#records-table", "书记与组织委员谈心谈话")
    assert_no_horizontal_overflow(page)
    shot(page, "records_branch_staff_added")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#records-panel").screenshot(path=str(ARTIFACTS / "records_panel_staff.png"))


def test_branch102_calendar_strip_shows_missing_months(page_for):
    page = page_for("inspector")
    page.goto(page.base_url + "/branch/C08?period=2026H1")  # demo: every 支委会 of C08 held in June
    page.wait_for_selector("#records-calendar-strip")
    missing = wait_js(page, MISSING, ["支委会"])
    assert missing == [f"2026-{m:02d}" for m in range(1, 6)]
    assert page.query_selector("#records-save") is None  # 考核组 reads records, does not enter them
    shot(page, "records_branch_calendar_missing")
    page.locator("#records-panel").screenshot(path=str(ARTIFACTS / "records_panel_inspector.png"))
