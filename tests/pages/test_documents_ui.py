"""Document buttons and the 工作量统计 page in a real browser: downloads arrive, the zip shows progress."""
from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from data import services
from tests.pages.conftest import shot

pytestmark = pytest.mark.browser


def test_documents001_ranking_workbook_button_downloads_the_workbook(page_for, app_db):
    page = page_for("leader")
    page.wait_for_selector("#rankings-grid .ag-row")
    with page.expect_download(timeout=60_000) as dl:
        page.click("#rankings-doc-workbook")
    data = open(dl.value.path(), "rb").read()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    rows = list(wb["总排名"].iter_rows(min_row=4, values_only=True))
    assert len(rows) == len(services.score_period("2026H1", app_db).units)
    assert dl.value.suggested_filename == "考核排名_2026H1.xlsx"


def test_documents002_summary_page_and_zip_with_progress(page_for, app_db):
    page = page_for("leader", 1366, 900)
    page.goto(page.base_url + "/summary?period=2026H1&bureau=临河县局")
    page.wait_for_selector("#summary-grid .ag-row")
    body = page.inner_text("body")
    assert "工作量统计" in body and "临河县局" in body and "**" in body
    assert page.is_visible("#nav-summary")
    shot(page, "summary_linhe")
    with page.expect_download(timeout=120_000) as dl:
        page.click("#summary-zip-start")
        page.wait_for_selector("#summary-job-bar", state="visible", timeout=30_000)
    assert "已完成" in page.inner_text("#summary-job-note")
    units = services.scoring_inputs("2026H1", app_db).units
    with zipfile.ZipFile(dl.value.path()) as z:
        assert len(z.namelist()) == int((units["bureau"] == "临河县局").sum())


def test_documents003_branch_buttons_for_staff_own_unit(page_for, app_db):
    page = page_for("staff_sj")
    page.goto(page.base_url + "/branch/C01?period=2026H1")
    page.wait_for_selector("#branch-total")
    with page.expect_download(timeout=60_000) as dl:
        page.click("#branch-doc-feedback-docx")
    assert dl.value.suggested_filename.startswith("反馈单_2026H1_C01")
    shot(page, "branch_doc_buttons")
