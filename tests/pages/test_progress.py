"""填报进度 in headless Chromium: the units that have not reported are listed, the 催报 list downloads,
staff see only their own units."""
from __future__ import annotations

import datetime as dt
import re
import io

import openpyxl
import pytest

from data import evidence_service as es
from data import periods, services
from data.accounts import principal_by_name
from tests.fixtures.intake_files import xlsx_bytes
from tests.pages.conftest import assert_no_horizontal_overflow, shot

pytestmark = pytest.mark.browser


def _open_period_with_one_report(db):
    admin = principal_by_name("admin", db=db)
    deadline = dt.date.today() + dt.timedelta(days=5)
    periods.create_period(admin, "2026", "2026", db, deadline=deadline)
    res = es.commit_upload(db, xlsx_bytes([["单位编码", "支委会次数（次）"], ["C01", 3]]), "一支部.xlsx", "2026", admin)
    assert res.status == "committed"
    services.clear_cache()
    return deadline


@pytest.mark.parametrize("width,height", [(1366, 768), (1920, 1080)])
def test_progress001_lists_the_units_that_have_not_reported(page_for, app_db, width, height):
    deadline = _open_period_with_one_report(app_db)
    n_units = len(services.visible_units(principal_by_name("admin", db=app_db), "2026", db=app_db))
    page = page_for("inspector", width, height)
    page.goto(page.base_url + "/progress?period=2026")
    page.wait_for_selector("#progress-grid .ag-row")
    assert f"{n_units - 1} 个" in page.inner_text("#progress-not-yet")
    assert "距填报截止还有 5 天" in page.inner_text("#progress-deadline")
    assert deadline.isoformat() in page.inner_text("#progress-deadline")
    first = page.locator("#progress-grid .ag-row[row-index='0']")
    assert "未报送" in first.inner_text() and "C02" in first.inner_text()  # not yet first, by code
    assert re.search(r"全部 \d+ 项未填", first.inner_text())
    assert_no_horizontal_overflow(page)
    shot(page, f"progress_{width}x{height}")
    with page.expect_download() as info:
        page.click("#progress-export")
    data = open(info.value.path(), "rb").read()
    rows = list(openpyxl.load_workbook(io.BytesIO(data))["催报名单"].iter_rows(values_only=True))
    statuses = {r[0]: r[3] for r in rows[1:]}
    assert len(statuses) == n_units and statuses["C01"] == "有数据项未填" and statuses["C02"] == "未报送"


def test_progress002_staff_see_only_their_own_units(page_for, app_db):
    _open_period_with_one_report(app_db)
    staff = principal_by_name("staff", db=app_db)
    page = page_for("staff")
    page.goto(page.base_url + "/progress?period=2026")
    page.wait_for_selector("#progress-grid .ag-row")
    codes = page.locator("#progress-grid .ag-center-cols-container .ag-row").all_inner_texts()
    shown = {c for c in staff.unit_codes if any(c in t for t in codes)}
    assert shown == set(staff.unit_codes)
    assert "C02" not in " ".join(codes)
    assert "填报进度" in page.inner_text("#app-navbar")


def test_progress003_leader_has_no_progress_page(page_for, app_db):
    page = page_for("leader")
    page.goto(page.base_url + "/progress")
    page.wait_for_selector("text=无权访问")
    assert "填报进度" not in page.inner_text("#app-navbar")
