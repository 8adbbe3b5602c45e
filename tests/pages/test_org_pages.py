"""Browser tests of 组织管理 (/org), 各局对比 (/bureaus) and the ranking's 局 filter, in headless Chromium."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from data import services
from data.models import AuditLog, OrgUnit
from tests.fixtures.org_files import BUREAUS, unit_rows, xlsx
from tests.pages.conftest import assert_no_horizontal_overflow, shot

pytestmark = pytest.mark.browser


def _count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_org001_admin_imports_a_units_file_and_sees_the_tree(page_for, app_db, tmp_path):
    rows = unit_rows()
    path = tmp_path / "单位名单.xlsx"
    path.write_bytes(xlsx(rows))
    before = _count(app_db, OrgUnit)
    page = page_for("admin")
    page.goto(page.base_url + "/org")
    page.wait_for_selector("#org-tree")
    page.set_input_files("#org-upload input[type=file]", str(path))
    page.wait_for_selector("#org-summary")
    assert f"新增 {len(rows)} 个" in page.inner_text("#org-summary")
    page.wait_for_selector("#org-changes-grid .ag-row")
    assert _count(app_db, OrgUnit) == before  # the preview writes nothing
    shot(page, "org_import_preview")
    page.wait_for_selector("#org-commit:not([disabled])")
    page.click("#org-commit")
    page.wait_for_selector("#org-import-done")
    assert _count(app_db, OrgUnit) == before + len(rows)
    with app_db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "units_import")) == 1
    tree = page.locator("#org-tree")
    for bureau in BUREAUS:
        assert tree.locator(f"details[data-bureau='{bureau}']").count() == 1
    # Three levels: 党委 → 党总支 → 党支部, nested in the page as in the file.
    zhibu = tree.locator("li[data-code='B02Z1'] li[data-code='B02Z103']")
    assert tree.locator("li[data-code='B02'] li[data-code='B02Z1']").count() == 1 and zhibu.count() == 1
    page.click("details[data-bureau='临河县局'] > summary")
    assert "临河县局第1总支第3党支部" in zhibu.inner_text()
    assert_no_horizontal_overflow(page)
    shot(page, "org_tree")


def test_org002_only_the_admin_opens_the_org_page(page_for):
    for user in ("leader", "inspector", "staff"):
        page = page_for(user)
        page.goto(page.base_url + "/org")
        page.wait_for_selector("#error-403")
        assert page.locator("#nav-org").count() == 0


def test_bureaus001_shows_every_bureau(page_for, app_db):
    page = page_for("leader")
    page.click("#nav-bureaus")
    page.wait_for_selector("#bureaus-grid .ag-row")
    inputs = services.scoring_inputs("2026H1", app_db)
    bureaus = sorted(inputs.units["bureau"].unique())
    shown = page.evaluate("(() => { const out = []; dash_ag_grid.getApi('bureaus-grid')"
                          ".forEachNode(n => out.push([n.data.bureau_text, n.data.units])); return out; })()")
    assert sorted(b for b, _ in shown) == bureaus
    per = inputs.units.groupby("bureau").size().to_dict()
    assert {b: n for b, n in shown} == per
    page.wait_for_selector("#bureaus-chart .main-svg")
    assert_no_horizontal_overflow(page)
    shot(page, "bureaus")
    page.click("#bureaus-grid a:has-text('临河县局')")
    page.wait_for_selector("#rankings-grid .ag-row")
    n = page.evaluate("dash_ag_grid.getApi('rankings-grid').getDisplayedRowCount()")
    assert n == per["临河县局"]


def test_rankings101_bureau_filter(page_for, app_db):
    page = page_for("inspector")
    page.wait_for_selector("#rankings-bureau")
    page.select_option("#rankings-bureau", "青山县局")
    page.wait_for_function("() => decodeURIComponent(location.search).includes('bureau=青山县局')")
    page.wait_for_function("() => dash_ag_grid.getApi('rankings-grid') && "
                           "dash_ag_grid.getApi('rankings-grid').getDisplayedRowCount() < 10")
    units = services.scoring_inputs("2026H1", app_db).units
    expected = set(units.loc[units["bureau"] == "青山县局", "unit"])
    shown = page.evaluate("(() => { const out = []; dash_ag_grid.getApi('rankings-grid')"
                          ".forEachNode(n => out.push(n.data.unit)); return out; })()")
    assert set(shown) == expected
    shot(page, "rankings_bureau")


def test_org003_admin_edits_renames_and_merges_on_the_page(page_for, app_db):
    page = page_for("admin")
    page.goto(page.base_url + "/org")
    page.wait_for_selector("#org-tree")
    # Load a unit, change its secretary only: every other field stays as stored.
    page.fill("#org-f-code", "C05")
    page.click("#org-load")
    page.wait_for_function("() => document.querySelector('#org-f-name').value === '人事教育科党支部'")
    page.fill("#org-f-secretary", "钱七")
    page.click("#org-unit-save")
    page.wait_for_selector("#org-unit-saved")
    with app_db.session() as s:
        c05 = s.scalar(select(OrgUnit).where(OrgUnit.code == "C05"))
        assert (c05.secretary, c05.kind, c05.category) == ("钱七", "党支部", "市局机关支部")
    # Rename from 1 July 2026: the first half-year keeps the old name.
    page.fill("#org-op-code", "C06")
    page.select_option("#org-op", "rename")
    page.fill("#org-op-value", "财务审计党支部")
    page.fill("#org-op-date", "2026-07-01")
    page.click("#org-op-save")
    page.wait_for_selector("#org-op-done")
    assert "财务审计党支部" in page.inner_text("#org-tree")
    services.clear_cache()
    assert services.score_period("2026H1", app_db).unit("C06")["name"] == "财务审计科党支部"
    # Merge C07 into C06 from 2026-01-01: gone from 2026H1, still in 2025.
    page.fill("#org-op-code", "C07")
    page.select_option("#org-op", "merge")
    page.fill("#org-op-value", "C06")
    page.fill("#org-op-date", "2026-01-01")
    page.click("#org-op-save")
    page.wait_for_function("() => document.querySelector('#org-op-msg').innerText.includes('已将 C07 合并到 C06')")
    services.clear_cache()
    assert not services.score_period("2026H1", app_db).unit("C07")
    assert services.score_period("2025", app_db).unit("C07")
    shot(page, "org_edit")
