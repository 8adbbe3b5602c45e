"""The upload preview in headless Chromium says that blank cells keep the current value and shows a
「清除」 as a change to 「（清除）」; a lone 0.95 is refused at its cell."""
from __future__ import annotations

import pytest

from tests.fixtures.intake_files import xlsx_bytes
from tests.pages.conftest import shot

pytestmark = pytest.mark.browser

HEAD = ["单位编码", "支委会次数（次）", "主题党日次数（次）", "考学参考率（%）"]


def test_upload101_preview_says_blank_keeps_and_shows_a_clear(page_for, app_db, tmp_path):
    page = page_for("inspector")
    page.goto(page.base_url + "/upload")
    f = tmp_path / "撤回.xlsx"
    f.write_bytes(xlsx_bytes([HEAD, ["C01", "清除", None, None], ["C02", 5, None, None]]))
    page.set_input_files("#upload-file input[type=file]", str(f))
    page.wait_for_selector("#upload-blank-note")
    note = page.inner_text("#upload-blank-note")
    assert "4 个空白单元格" in note and "保持系统中的现有数值" in note and "「清除」或「/」" in note
    assert "2 个单位、1 个数值、1 个「清除」" in page.inner_text("#upload-summary")
    page.wait_for_selector("#upload-changes-grid .ag-row")
    changes = page.inner_text("#upload-changes-grid")
    assert "（清除）" in changes and "市局机关第一党支部" in changes
    assert page.is_enabled("#upload-commit")
    shot(page, "upload_clear_preview")

    bad = tmp_path / "小数.xlsx"
    bad.write_bytes(xlsx_bytes([HEAD, ["C01", 3, None, 88], ["C02", 5, None, 0.95]]))
    page.set_input_files("#upload-file input[type=file]", str(bad))
    page.wait_for_selector("#upload-issues-grid .ag-row")
    # An arrow function: a bare expression string would be eval'd, which the CSP (no 'unsafe-eval') refuses.
    page.wait_for_function("() => document.querySelector('#upload-summary').innerText.includes('1 个错误')")
    page.wait_for_function("() => (document.querySelector('#upload-issues-grid') || {innerText: ''})"
                           ".innerText.includes('请填写 95 或 95%')")
    assert not page.is_enabled("#upload-commit")
