"""Real headless Chromium against the live app on a fresh copy of the demo database.

Each test signs in as a demo user, drives a page as a user would and saves a screenshot
under tests/artifacts/ (kept by CI). Names follow dash-ag-grid's ``test_<page><nnn>_<what>``.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from data import services
from data.models import EvidenceValue, UploadBatch
from components.formats import fmt_points
from tests.pages.conftest import assert_no_horizontal_overflow, shot, wait_text

pytestmark = pytest.mark.browser


def _grid_ready(page, grid_id: str):
    page.wait_for_selector(f"#{grid_id} .ag-row", timeout=20_000)


@pytest.mark.parametrize("width,height", [(1366, 768), (1920, 1080)])
def test_rankings001_renders_chinese_with_demo_data(page_for, app_db, width, height):
    page = page_for("leader", width, height)
    _grid_ready(page, "rankings-grid")
    body = page.inner_text("body")
    assert "排名总览" in body and "参加考核单位" in body and "市局机关第一党支部" in body
    # The grid shows every unit, the charts drew, and the KPI matches the engine's count.
    n_units = len(services.score_period("2026H1", app_db).units)
    assert f"{n_units} 个" in page.inner_text("#rankings-kpi-units")
    page.wait_for_selector("#rankings-grade-chart .main-svg")
    page.wait_for_selector("#rankings-spread-chart .main-svg")
    assert_no_horizontal_overflow(page)
    # Chinese glyphs actually render (a CJK font is installed): a CJK string is wider than tofu-free ASCII.
    width_cjk = page.evaluate("""() => { const c = document.createElement('canvas').getContext('2d');
        c.font = '16px "Noto Sans CJK SC", sans-serif'; return c.measureText('党建考核').width; }""")
    assert width_cjk > 40
    shot(page, f"rankings_{width}x{height}")


def test_rankings002_click_unit_opens_detail(page_for, app_db):
    page = page_for("leader")
    _grid_ready(page, "rankings-grid")
    page.click("#rankings-grid a:has-text('市局机关第一党支部')")
    page.wait_for_selector("#branch-total")
    assert re.search(r"/branch/C01\?period=2026H1$", page.url)
    # The worked example of the specification, as the detail page shows it.
    assert page.inner_text("#branch-total").strip() == "82.50"
    assert page.inner_text("#branch-grade").strip() == "良好"
    assert "支委会" in page.inner_text("#branch-items")
    page.wait_for_selector("#branch-radar .main-svg")
    assert_no_horizontal_overflow(page)
    shot(page, "branch_C01")


def test_rankings003_period_selector_changes_url_and_data(page_for, app_db):
    page = page_for("leader")
    _grid_ready(page, "rankings-grid")
    assert "2026 年上半年" in page.inner_text(".page-subtitle")
    page.select_option("#rankings-period", "2025")
    page.wait_for_function("() => location.search.includes('period=2025')")
    page.wait_for_function("() => document.querySelector('.page-subtitle').innerText.includes('2025 年度')")
    _grid_ready(page, "rankings-grid")
    top = services.score_period("2025", app_db).units.sort_values("display_order").iloc[0]
    page.wait_for_function(f"() => dash_ag_grid.getApi('rankings-grid').getDisplayedRowAtIndex(0).data.name_text"
                           f" === {top['name']!r}")
    # The shared link opens the same period.
    page.goto(page.base_url + "/?period=2025&category=县局支部")
    _grid_ready(page, "rankings-grid")
    assert "2025 年度" in page.inner_text(".page-subtitle")
    shown = page.evaluate("dash_ag_grid.getApi('rankings-grid').getDisplayedRowCount()")
    assert shown == int((services.score_period("2025", app_db).units["category"] == "县局支部").sum())


def test_branch001_unknown_unit_shows_404(page_for):
    page = page_for("inspector")
    page.goto(page.base_url + "/branch/NOPE?period=2026H1")
    page.wait_for_selector("#error-404")
    assert "不存在" in page.inner_text("#error-404")


def test_branch002_staff_cannot_open_another_units_detail(page_for):
    page = page_for("staff_sj")
    page.goto(page.base_url + "/branch/C02?period=2026H1")
    page.wait_for_selector("#error-403")
    page.goto(page.base_url + "/branch/C01?period=2026H1")
    page.wait_for_selector("#branch-total")


def test_branch003_inspector_deduction_moves_the_score_and_is_audited(page_for, app_db):
    page = page_for("inspector")
    page.goto(page.base_url + "/branch/C05?period=2026H1")
    page.wait_for_selector("#branch-total")
    before = services.score_period("2026H1", app_db).unit("C05")["total"]
    page.select_option("#branch-adj-item", "C4")
    page.select_option("#branch-adj-kind", "deduction")
    page.fill("#branch-adj-points", "1")
    page.click("#branch-adj-save")  # no reason: refused, nothing written
    page.wait_for_selector("#branch-adj-msg .alert-warning")
    assert services.score_period("2026H1", app_db).unit("C05")["total"] == before
    page.fill("#branch-adj-reason", "现场检查：党课记录不完整")
    page.click("#branch-adj-save")
    wait_text(page, "#branch-adjustments", "现场检查：党课记录不完整")  # updated in place, no reload
    after = services.score_period("2026H1", app_db).unit("C05")["total"]
    assert after < before
    wait_text(page, "#branch-total", fmt_points(after))


def _count(db, model):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_upload001_bad_file_shows_issues_and_changes_nothing(page_for, app_db, tmp_path):
    page = page_for("inspector")
    page.goto(page.base_url + "/upload")
    bad = tmp_path / "填报表.csv"
    bad.write_text("单位编码,支委会次数\nC02,十二\nC03,-1\n", encoding="utf-8")
    values_before, batches_before = _count(app_db, EvidenceValue), _count(app_db, UploadBatch)
    page.set_input_files("#upload-file input[type=file]", str(bad))
    page.wait_for_selector("#upload-issues-grid .ag-row")
    text = page.inner_text("#upload-preview")
    assert "错误" in text and "十二" in text
    assert page.is_disabled("#upload-commit")
    assert _count(app_db, EvidenceValue) == values_before
    assert _count(app_db, UploadBatch) == batches_before
    shot(page, "upload_bad_file")


def test_upload002_good_file_changes_the_score_on_the_ranking(page_for, app_db, tmp_path):
    page = page_for("inspector")
    res = services.score_period("2026H1", app_db)
    good = tmp_path / "补报.csv"
    good.write_text("单位编码,支委会次数,党课次数,主题党日次数\nC02,0,0,0\n", encoding="utf-8")
    before = res.unit("C02")["total"]
    page.goto(page.base_url + "/upload")
    page.set_input_files("#upload-file input[type=file]", str(good))
    page.wait_for_selector("#upload-summary")
    page.wait_for_selector("#upload-commit:not([disabled])")
    shot(page, "upload_preview")
    page.click("#upload-commit")
    page.wait_for_selector("#upload-commit-result")
    after = services.score_period("2026H1", app_db).unit("C02")["total"]
    assert after < before
    page.goto(page.base_url + "/?period=2026H1")
    _grid_ready(page, "rankings-grid")
    shown = page.evaluate("dash_ag_grid.getApi('rankings-grid').getRowNode('C02').data.total")
    assert abs(shown - after) < 0.005


@pytest.mark.parametrize("user,visible,hidden", [
    ("leader", ["排名总览", "差距分析", "先进推荐", "整改台账", "指标体系"], ["数据上传", "审计日志", "系统管理"]),
    ("inspector", ["排名总览", "差距分析", "先进推荐", "整改台账", "数据上传", "指标体系"], ["审计日志", "系统管理"]),
    ("staff", ["排名总览", "差距分析", "整改台账", "数据上传", "指标体系"], ["先进推荐", "审计日志", "系统管理"]),
    ("admin", ["排名总览", "先进推荐", "整改台账", "数据上传", "指标体系", "审计日志", "系统管理"], []),
])
def test_nav001_each_role_sees_only_its_navigation(page_for, user, visible, hidden):
    page = page_for(user)
    nav = page.inner_text("#nav-links")
    for name in visible:
        assert name in nav, (user, name)
    for name in hidden:
        assert name not in nav, (user, name)
    assert page.inner_text("#nav-user-role").strip()


@pytest.mark.parametrize("path,selector,name", [
    ("/gaps", "#gaps-heatmap .main-svg", "gaps"),
    ("/candidates?period=2025", "#candidates-grid .ag-row", "candidates"),
    ("/indicators", "#indicators-tree", "indicators"),
    ("/upload", "#upload-file", "upload"),
    ("/audit", "#audit-grid .ag-row", "audit"),
    ("/admin", "#admin-users-grid .ag-row", "admin"),
    ("/rectifications", "#rect-grid .ag-row", "rectifications"),
])
@pytest.mark.parametrize("width,height", [(1366, 768), (1920, 1080)])
def test_pages001_every_page_renders_without_overflow(page_for, path, selector, name, width, height):
    page = page_for("admin" if name in ("audit", "admin") else "inspector", width, height)
    page.goto(page.base_url + path)
    page.wait_for_selector(selector)
    assert "系统错误" not in page.inner_text("body")
    assert_no_horizontal_overflow(page)
    shot(page, name if width == 1366 else f"{name}_{width}")


def test_admin001_create_a_staff_account_who_then_signs_in_to_their_unit_only(page_for, browser, live_server):
    page = page_for("admin")
    page.goto(page.base_url + "/admin")
    page.wait_for_selector("#admin-users-grid .ag-row")
    page.fill("#admin-new-username", "wangfang")
    page.fill("#admin-new-name", "王芳")
    page.select_option("#admin-new-role", "staff")
    page.fill("#admin-new-units", "C03")
    page.fill("#admin-new-password", "Wf@2026-pass")
    page.click("#admin-new-save")
    page.wait_for_selector("#admin-users-msg .alert-success")
    page.wait_for_selector("#admin-users-grid .ag-row[row-id='wangfang']")
    other = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        p2 = other.new_page()
        p2.goto(live_server + "/login")
        p2.fill("#username", "wangfang")
        p2.fill("#password", "Wf@2026-pass")
        p2.click("#login-submit")
        # An account an admin created must choose its own password first.
        p2.wait_for_selector("#password-forced")
        p2.fill("#current", "Wf@2026-pass")
        p2.fill("#new", "Ziji-Xuan-De-Mima-27")
        p2.fill("#confirm", "Ziji-Xuan-De-Mima-27")
        p2.click("#password-submit")
        p2.click("#password-home")
        p2.goto(live_server + "/")
        p2.wait_for_selector("#rankings-grid .ag-row")
        assert p2.evaluate("dash_ag_grid.getApi('rankings-grid').getDisplayedRowCount()") == 1
        assert "王芳" in p2.inner_text("#nav-user-name")
    finally:
        other.close()


def test_indicators001_what_if_lists_the_units_whose_grade_changes(page_for, app_db):
    page = page_for("leader")
    page.goto(page.base_url + "/indicators")
    page.wait_for_selector("#indicators-tree")
    page.select_option("#indicators-whatif-grade", "优秀")
    page.fill("#indicators-whatif-min", "95")
    page.click("#indicators-whatif-run")
    page.wait_for_selector("#indicators-whatif-summary")
    units = services.score_period("2026H1", app_db).units
    n = int(((units["grade"] == "优秀") & (units["total"] < 95)).sum())
    assert f"优秀→良好 {n} 个" in page.inner_text("#indicators-whatif-summary")
    # Stored results are untouched.
    assert services.score_period("2026H1", app_db).units["grade"].tolist() == units["grade"].tolist()
    shot(page, "indicators_what_if")


def test_gaps001_clicking_a_bureau_row_drills_down_then_a_cell_opens_that_unit_at_that_area(page_for, app_db):
    page = page_for("inspector")
    page.goto(page.base_url + "/gaps?period=2026H1&sort=code")
    page.wait_for_selector("#gaps-heatmap .nsewdrag")
    units = services.scoring_inputs("2026H1", app_db).units
    first_bureau = sorted(units["bureau"].dropna().unique())[0]
    # Each cell carries its number (issue 13 item 14): the first 局's mean score rate in area A.
    areas = services.score_period("2026H1", app_db).areas
    mine = areas[(areas["area"] == "A") & areas["unit"].isin(units.loc[units["bureau"] == first_bureau, "unit"])]
    rate = (mine["points"] / mine["max"]).mean() * 100
    assert f"{rate:.1f}" in page.evaluate("document.querySelector('#gaps-heatmap svg.main-svg').textContent")
    page.locator("#gaps-heatmap .nsewdrag").first.click(position={"x": 8, "y": 6})
    page.wait_for_selector("#gaps-back")
    assert "group=" in page.url
    first = sorted(units.loc[units["bureau"] == first_bureau, "unit"])[0]
    page.wait_for_selector("#gaps-heatmap .nsewdrag")
    page.locator("#gaps-heatmap .nsewdrag").first.click(position={"x": 8, "y": 6})
    page.wait_for_selector("#branch-total")
    assert re.search(rf"/branch/{first}\?period=2026H1&area=A$", page.url), page.url
    # The area clicked comes first and is marked.
    assert page.locator("#branch-items > div").first.get_attribute("id") == "branch-area-A"


def test_branch004_staff_enters_a_self_assessment_shown_beside_the_score(page_for, app_db):
    page = page_for("staff_sj")
    page.goto(page.base_url + "/branch/C01?period=2026H1")
    page.wait_for_selector("#branch-self-save")
    assert page.locator("#branch-adj-save").count() == 0  # staff see no inspector forms
    page.select_option("#branch-self-item", "A4")
    page.fill("#branch-self-points", "1.5")
    page.click("#branch-self-save")
    wait_text(page, "#branch-self-msg", "自评分已保存")
    wait_text(page, "#branch-area-A", "1.5")


def test_rankings004_work_summary_figures_open_on_demand(page_for, app_db):
    page = page_for("leader", 1366, 768)
    _grid_ready(page, "rankings-grid")
    page.click("#rankings-summary .accordion-button")
    page.wait_for_selector("#rankings-summary-grid .ag-row")
    ev = services.scoring_inputs("2026H1", app_db).evidence
    # A typed-only field: meeting counts follow the units' activity records where they have any.
    total = ev.loc[ev["field"] == "leader_visits", "value"].sum()
    row = page.evaluate("""() => { let out = null; dash_ag_grid.getApi('rankings-summary-grid')
        .forEachNode(n => { if (n.data.label === '联系指导次数') out = n.data.figure; }); return out; }""")
    assert row == f"{total:,.0f} 次"
    shot(page, "rankings_summary")


def test_branch005_a_vetoed_unit_says_why_once(page_for, app_db):
    units = services.score_period("2026H1", app_db).units
    vetoed = units[units["veto"]].iloc[0]
    page = page_for("leader")
    page.goto(page.base_url + f"/branch/{vetoed['unit']}?period=2026H1")
    page.wait_for_selector("#branch-gap")
    text = page.inner_text("#branch-gap")
    assert text.strip() == vetoed["veto_reason"] and text.count("一票否决") == 1
    assert page.inner_text("#branch-grade").strip() == "不合格"


def test_rankings005_a_new_period_without_evidence_says_so(page_for, app_db):
    from data.accounts import principal_by_name

    services.create_period(principal_by_name("admin", db=app_db), "2027", "2026", db=app_db)
    page = page_for("leader")
    page.wait_for_selector("#rankings-grid .ag-row")
    assert "2026 年上半年" in page.inner_text(".page-subtitle")  # still opens on the period with results
    page.goto(page.base_url + "/?period=2027")
    page.wait_for_selector("#rankings-no-data")
    assert "尚无填报数据" in page.inner_text("#rankings-no-data")


def test_rect001_staff_see_only_their_units_items_and_overdue_first(page_for, app_db):
    from data.accounts import principal_by_name

    staff = principal_by_name("staff", db=app_db)
    mine = services.rectification_list(staff, db=app_db)
    assert set(mine["unit"]) <= set(staff.unit_codes)
    everyone = services.rectification_list(principal_by_name("leader", db=app_db), db=app_db)
    assert everyone["overdue"].tolist() == sorted(everyone["overdue"].tolist(), reverse=True)
    page = page_for("staff")
    page.goto(page.base_url + "/rectifications")
    assert not mine.empty, "the demo staff user has 整改 items of their own"
    assert len(mine) < len(everyone)
    page.wait_for_selector("#rect-grid .ag-row")
    assert page.evaluate("dash_ag_grid.getApi('rect-grid').getDisplayedRowCount()") == len(mine)
