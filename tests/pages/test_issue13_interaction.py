"""Issue 13 items 8–14 in a real headless Chromium at 1366×768 and 1920×1080.

Each test drives a page as a user would and fails on the behaviour the issue describes
(silent 401, reload with &t=…, same file not re-read, 0-point trend, columns cut after navigation).
"""
from __future__ import annotations

import re
import time

import pytest

from components.formats import fmt_points
from data import services
from tests.pages.conftest import PASSWORDS, shot, wait_js, wait_text

pytestmark = pytest.mark.browser
SIZES = [(1366, 768), (1920, 1080)]


def _wait_text(page, selector: str, text: str):
    wait_text(page, selector, text)


def _sign_in_again(page, username):
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("#login-submit")


@pytest.mark.parametrize("width,height", SIZES)
def test_session001_expired_session_during_a_save_signs_in_and_comes_back_with_the_typing(
        page_for, app_db, width, height):
    page = page_for("inspector", width, height)
    page.goto(page.base_url + "/branch/C05?period=2026H1")
    page.wait_for_selector("#branch-total")
    page.select_option("#branch-adj-item", "C4")
    page.fill("#branch-adj-points", "1")
    page.fill("#branch-adj-reason", "现场检查：党课记录不完整")
    page.context.clear_cookies()  # the idle timeout, as the server sees it: no session any more
    page.click("#branch-adj-save")
    page.wait_for_url(re.compile(r"/login\?"))
    assert "登录已过期，请重新登录" in page.inner_text("#login-expired")
    _sign_in_again(page, "inspector")
    page.wait_for_selector("#branch-total")
    assert page.url.endswith("/branch/C05?period=2026H1")
    page.wait_for_selector("#session-restored")
    assert page.input_value("#branch-adj-reason") == "现场检查：党课记录不完整"
    assert page.input_value("#branch-adj-item") == "C4"
    assert page.input_value("#branch-adj-points") == "1"
    # Selector and content agree: the period shown is the one selected.
    assert page.input_value("#branch-period") == "2026H1"
    shot(page, f"session_restored_{width}")
    # Nothing was saved by the refused call; saving now works.
    before = services.score_period("2026H1", app_db).unit("C05")["total"]
    page.click("#branch-adj-save")
    _wait_text(page, "#branch-adj-msg", "已保存")
    assert services.score_period("2026H1", app_db).unit("C05")["total"] < before


@pytest.mark.parametrize("width,height", SIZES)
def test_branch101_save_updates_in_place_and_the_confirmation_stays(page_for, app_db, width, height):
    page = page_for("inspector", width, height)
    page.goto(page.base_url + "/branch/C05?period=2026H1")
    page.wait_for_selector("#branch-total")
    url, history = page.url, page.evaluate("history.length")
    page.select_option("#branch-adj-item", "C4")
    page.fill("#branch-adj-points", "1")
    page.fill("#branch-adj-reason", "现场检查：党课记录不完整")
    page.locator("#branch-adj-save").scroll_into_view_if_needed()
    y = page.evaluate("window.scrollY")
    page.click("#branch-adj-save")
    _wait_text(page, "#branch-adj-msg", "已保存")
    after = services.score_period("2026H1", app_db).unit("C05")["total"]
    _wait_text(page, "#branch-total", fmt_points(after))
    time.sleep(3)
    assert wait_js(page, "() => { const a = document.querySelector('#branch-adj-msg .alert-success');"
                         " return !!a && a.offsetParent !== null && a.innerText.includes('已保存'); }", timeout=1), \
        "the confirmation vanished"
    assert page.url == url and "t=" not in page.url
    assert page.evaluate("history.length") == history
    assert abs(page.evaluate("window.scrollY") - y) < 40, "the view jumped"
    shot(page, f"branch_saved_in_place_{width}")


def test_branch102_inspector_acts_from_an_items_own_row(page_for, app_db):
    page = page_for("inspector")
    page.goto(page.base_url + "/branch/C05?period=2026H1")
    page.wait_for_selector("#branch-total")
    row_button = page.locator("#branch-items button:has-text('操作')").first
    item = page.locator("#branch-items tbody tr").first.locator("td").first.inner_text().replace("★", "").strip()
    row_button.click()
    page.wait_for_selector("#branch-row-modal.show, #branch-row-modal .modal-title")
    assert page.inner_text("#branch-row-title").startswith(item)
    page.select_option("#branch-row-kind", "deduction")
    page.fill("#branch-row-points", "0.5")
    page.fill("#branch-row-reason", "行内扣分：记录缺页")
    page.click("#branch-row-save")
    _wait_text(page, "#branch-row-msg", "已保存")
    _wait_text(page, "#branch-adjustments", "行内扣分：记录缺页")
    page.fill("#branch-row-problem", "补齐记录")
    page.click("#branch-row-rect-add")
    _wait_text(page, "#branch-row-msg", "整改事项已登记")
    _wait_text(page, "#branch-rectifications", "补齐记录")
    shot(page, "branch_row_modal")


def _file_input_value(page) -> str:
    return page.evaluate("document.querySelector('#upload-file input[type=file]').value")


@pytest.mark.parametrize("width,height", SIZES)
def test_upload101_the_same_file_name_can_be_picked_again(page_for, app_db, tmp_path, width, height):
    page = page_for("inspector", width, height)
    page.goto(page.base_url + "/upload")
    page.wait_for_selector("#upload-file")
    path = tmp_path / "填报表.csv"
    path.write_text("单位编码,支委会次数\nC02,十二\n", encoding="utf-8")
    page.set_input_files("#upload-file input[type=file]", str(path))
    _wait_text(page, "#upload-summary", "有错误")
    # A browser fires no change event for the name the control still holds: it must hold none.
    page.wait_for_function("() => document.querySelector('#upload-file input[type=file]').value === ''")
    path.write_text("单位编码,支委会次数\nC02,5\n", encoding="utf-8")  # corrected in Excel, same name
    page.set_input_files("#upload-file input[type=file]", str(path))
    _wait_text(page, "#upload-summary", "可以提交")
    assert _file_input_value(page) == ""
    page.click("#upload-cancel")
    _wait_text(page, "#upload-result", "已取消")
    assert _file_input_value(page) == ""
    page.set_input_files("#upload-file input[type=file]", str(path))
    page.wait_for_selector("#upload-commit:not([disabled])")
    page.click("#upload-commit")
    page.wait_for_selector("#upload-commit-result")
    page.wait_for_function("() => document.querySelector('#upload-file input[type=file]').value === ''")
    page.set_input_files("#upload-file input[type=file]", str(path))  # the same file once more: read again
    page.wait_for_selector("#upload-duplicate")
    shot(page, f"upload_same_file_again_{width}")


@pytest.mark.parametrize("width,height", SIZES)
def test_nodata101_an_opened_empty_period_grades_nobody_and_draws_no_zero_point(page_for, app_db, width, height):
    from data.accounts import principal_by_name

    # 2027, not 2026: a new 2026 year period already holds the demo's first-half activity records.
    services.create_period(principal_by_name("admin", db=app_db), "2027", "2026", db=app_db)
    page = page_for("leader", width, height)
    page.goto(page.base_url + "/?period=2027")
    page.wait_for_selector("#rankings-no-data")
    assert "尚无数据" in page.inner_text("#rankings-no-data")
    assert page.locator("#rankings-grid .ag-row").count() == 0
    assert "不合格" not in page.inner_text("#rankings-kpi-top") and "0 个" in page.inner_text("#rankings-kpi-units")
    shot(page, f"rankings_empty_period_{width}")
    # The unit's page in the empty period: 「尚无数据」, no total, no grade, no rank.
    page.goto(page.base_url + "/branch/C05?period=2027")
    page.wait_for_selector("#branch-no-data")
    assert page.locator("#branch-grade").count() == 0 and page.locator("#branch-rank").count() == 0
    # Nothing in 2027 says 不合格 (the trend chart may show an earlier period's grade, so it is left out).
    body = page.evaluate("""() => { const b = document.querySelector('#branch-body').cloneNode(true);
        b.querySelectorAll('.js-plotly-plot, #branch-trend').forEach(e => e.remove()); return b.innerText; }""")
    assert "尚无数据" in body and "不合格" not in body
    # Its trend, seen from any period, has no 0-point entry for 2027.
    for period in ("2027", "2026H1"):
        page.goto(page.base_url + f"/branch/C05?period={period}")
        page.wait_for_selector("#branch-trend .main-svg")
        xs = page.evaluate("document.querySelector('#branch-trend .js-plotly-plot').data[0].x")
        ys = page.evaluate("document.querySelector('#branch-trend .js-plotly-plot').data[0].y")
        assert "2027 年度" not in xs and 0 not in ys, (xs, ys)
    shot(page, f"branch_trend_after_empty_period_{width}")


def _header_widths(page, grid_id: str) -> dict:
    """Each column's rendered width and whether its header text is cut off (scrollWidth > clientWidth)."""
    return page.evaluate("""(id) => { const out = {};
        document.querySelectorAll(`#${id} .ag-header-cell`).forEach(h => {
            const col = h.getAttribute('col-id'); const t = h.querySelector('.ag-header-cell-text');
            if (col && t) out[col] = {w: h.getBoundingClientRect().width, cut: t.scrollWidth > t.clientWidth + 1}; });
        return out; }""", grid_id)


@pytest.mark.parametrize("width,height", SIZES)
def test_layout101_ranking_columns_keep_their_width_after_navigating_away_and_back(page_for, width, height):
    page = page_for("leader", width, height)
    page.wait_for_selector("#rankings-grid .ag-header-cell[col-id='rank']")
    first = _header_widths(page, "rankings-grid")
    for col in ("rank", "rank_in_category", "name", "core", "total"):
        assert not first[col]["cut"], (col, first[col])
    for away in ("#nav-gaps", "#nav-rectifications"):
        page.click(away)
        page.wait_for_selector("#gaps-heatmap, #rect-grid, .empty-state")
        page.click("#nav-home")
        page.wait_for_selector("#rankings-grid .ag-row")
        page.wait_for_timeout(800)
        again = _header_widths(page, "rankings-grid")
        for col in ("rank", "rank_in_category", "core", "category"):
            assert again[col]["w"] >= first[col]["w"] - 1 and not again[col]["cut"], (away, col, first[col], again[col])
    page.select_option("#rankings-period", "2025")
    page.wait_for_function("() => location.search.includes('period=2025')")
    page.wait_for_selector("#rankings-grid .ag-row")
    page.wait_for_timeout(800)
    after_period = _header_widths(page, "rankings-grid")
    for col in ("rank", "rank_in_category", "core", "category"):
        assert not after_period[col]["cut"], (col, after_period[col])
    page.go_back()
    page.wait_for_function("() => location.search.includes('period=2026H1') || location.search === ''")
    page.wait_for_selector("#rankings-grid .ag-row")
    page.wait_for_timeout(1500)
    shot(page, f"rankings_after_navigation_{width}")


@pytest.mark.parametrize("width,height", SIZES)
def test_layout102_pager_headers_alignment_and_names(page_for, app_db, width, height):
    page = page_for("admin", width, height)
    page.goto(page.base_url + "/rectifications")
    page.wait_for_selector("#rect-grid .ag-row")
    n = page.evaluate("dash_ag_grid.getApi('rect-grid').getDisplayedRowCount()")
    _wait_text(page, "#rect-grid .ag-paging-row-summary-panel", f"第 1–{n} 条，共 {n} 条")
    _wait_text(page, "#rect-grid .ag-paging-description", "第 1 页，共 1 页")
    assert " 至 " not in page.inner_text("#rect-grid .ag-paging-panel")
    # Two-line cells and one-line cells of a row share one vertical centre.
    offsets = page.evaluate("""() => { const row = [...document.querySelectorAll('#rect-grid .ag-center-cols-container .ag-row')]
            .sort((a, b) => b.getBoundingClientRect().height - a.getBoundingClientRect().height)[0];
        return [...row.querySelectorAll('.ag-cell')].filter(c => c.innerText.trim()).map(c => {
            const r = document.createRange(); r.selectNodeContents(c); const t = r.getBoundingClientRect();
            const b = c.getBoundingClientRect(); return Math.round((t.top + t.bottom) / 2 - (b.top + b.bottom) / 2); }); }""")
    assert max(abs(o) for o in offsets) <= 3, offsets
    shot(page, f"rectifications_{width}")
    # Half-width tables: no header broken one character per line.
    page.goto(page.base_url + "/branch/C02?period=2026H1")
    page.wait_for_selector("#branch-adjustments th")
    heights = page.evaluate("[...document.querySelectorAll('#branch-adjustments th')].map(t => t.getBoundingClientRect().height)")
    assert max(heights) < 40, heights
    # The audit page shows names, not JSON or internal keys.
    page.goto(page.base_url + "/audit")
    page.wait_for_selector("#audit-grid .ag-row")
    rows = page.evaluate("""() => { const out = []; dash_ag_grid.getApi('audit-grid').forEachNode(n => out.push(n.data));
        return out; }""")
    text = " ".join(f"{r['before']} {r['after']} {r['user']} {r['unit']}" for r in rows)
    assert "{" not in text and '"points"' not in text and "reason" not in text
    assert any("（inspector）" in r["user"] for r in rows)
    assert any(re.fullmatch(r"\S+（[A-Z]\d+）", r["unit"]) for r in rows)
    assert not any("nan" in (r["period"], r["unit"], r["object"]) for r in rows)
    shot(page, f"audit_{width}")


def test_upload102_issue_list_names_fields_in_chinese(page_for, app_db, tmp_path):
    page = page_for("inspector")
    page.goto(page.base_url + "/upload")
    f = tmp_path / "部分.csv"
    f.write_text("单位编码,支委会次数\nC02,3\n", encoding="utf-8")
    page.set_input_files("#upload-file input[type=file]", str(f))
    page.wait_for_selector("#upload-issues-grid .ag-row")
    values = page.evaluate("""() => { const out = []; dash_ag_grid.getApi('upload-issues-grid')
        .forEachNode(n => out.push(n.data.value || '')); return out.join(' '); }""")
    assert not re.search(r"[a-z]+_[a-z]+", values), values


def test_rankings101_sort_order_survives_the_back_button(page_for, app_db):
    page = page_for("leader")
    page.wait_for_selector("#rankings-grid .ag-row")
    page.click("#rankings-grid .ag-header-cell[col-id='name'] .ag-header-cell-label")
    page.wait_for_function("() => dash_ag_grid.getApi('rankings-grid').getColumnState()"
                           ".some(c => c.colId === 'name' && c.sort === 'asc')")
    first = page.evaluate("dash_ag_grid.getApi('rankings-grid').getDisplayedRowAtIndex(0).data.unit")
    page.wait_for_timeout(500)
    page.click(f"#rankings-grid .ag-row[row-id='{first}'] a")
    page.wait_for_selector("#branch-total")
    page.go_back()
    page.wait_for_selector("#rankings-grid .ag-row")
    page.wait_for_function("() => dash_ag_grid.getApi('rankings-grid').getColumnState()"
                           ".some(c => c.colId === 'name' && c.sort === 'asc')", timeout=10_000)
    assert page.evaluate("dash_ag_grid.getApi('rankings-grid').getDisplayedRowAtIndex(0).data.unit") == first


def test_indicators101_what_if_several_changes_highlight_and_reset(page_for, app_db):
    page = page_for("leader")
    page.goto(page.base_url + "/indicators")
    page.wait_for_selector("#indicators-whatif-add")
    page.select_option("#indicators-whatif-item", "C1")
    page.fill("#indicators-whatif-points", "10")
    page.click("#indicators-whatif-add")
    _wait_text(page, "#indicators-whatif-pending", "C1 分值改为 10")
    assert page.input_value("#indicators-whatif-item") == ""
    page.select_option("#indicators-whatif-grade", "优秀")
    page.fill("#indicators-whatif-min", "95")
    page.click("#indicators-whatif-run")
    page.wait_for_selector("#indicators-whatif-summary")
    leader = __import__("data.accounts", fromlist=["x"]).principal_by_name("leader", db=app_db)
    w = services.what_if_changes(leader, "2026H1", [("points", "C1", 10.0), ("grade", "优秀", 95.0)], db=app_db)
    assert "共 2 项调整" in page.inner_text("#indicators-whatif-summary")
    changed = set(w.movers.loc[w.movers["grade_before"] != w.movers["grade_after"], "unit"])
    assert changed
    # The summary can arrive before the grid has mounted: wait for its API and its first rows.
    page.wait_for_function("""() => { try { return dash_ag_grid.getApi('indicators-whatif-grid')
        .getDisplayedRowCount() > 0; } catch (e) { return false; } }""")
    page.wait_for_selector("#indicators-whatif-grid .ag-center-cols-container .ag-row")
    marked = set(page.evaluate("[...document.querySelectorAll('#indicators-whatif-grid .ag-center-cols-container "
                               ".whatif-grade-changed')].map(r => r.getAttribute('row-id'))"))
    shown = set(page.evaluate("""() => { const out = []; dash_ag_grid.getApi('indicators-whatif-grid')
        .forEachNodeAfterFilterAndSort((n, i) => { if (i < 12) out.push(n.data.unit); }); return out; }"""))
    assert marked == changed & shown and marked
    shot(page, "indicators_what_if_several")
    # Reset, then a grade-line test alone: no stale indicator, no 「分值应在 0 到 100 之间」.
    page.select_option("#indicators-whatif-item", "C2")
    page.click("#indicators-whatif-reset")
    page.wait_for_function("() => !document.querySelector('#indicators-whatif-result').innerText.trim()")
    assert page.input_value("#indicators-whatif-item") == "" and page.input_value("#indicators-whatif-grade") == ""
    page.select_option("#indicators-whatif-grade", "优秀")
    page.fill("#indicators-whatif-min", "95")
    page.click("#indicators-whatif-run")
    _wait_text(page, "#indicators-whatif-summary", "共 1 项调整")
    assert "0 到 100" not in page.inner_text("#indicators-whatif-result")


def test_candidates101_empty_list_has_no_stray_semicolon_and_no_export(page_for, app_db):
    from data.accounts import principal_by_name

    services.create_period(principal_by_name("admin", db=app_db), "2027", "2026", db=app_db)
    page = page_for("leader")
    page.goto(page.base_url + "/candidates?period=2027")
    page.wait_for_selector("#candidates-summary")
    assert page.inner_text("#candidates-summary").strip() == "候选 0 个"
    assert page.is_disabled("#candidates-export")
    page.goto(page.base_url + "/candidates?period=2025")
    page.wait_for_selector("#candidates-grid .ag-row")
    assert not page.is_disabled("#candidates-export")
    assert not page.inner_text("#candidates-summary").strip().endswith("；")


@pytest.mark.parametrize("width,height", SIZES)
def test_layout103_every_page_after_navigation_has_whole_headers_and_no_overflow(page_for, width, height):
    from tests.pages.conftest import assert_no_horizontal_overflow

    page = page_for("admin", width, height)
    page.wait_for_selector("#rankings-grid .ag-row")
    links = page.evaluate("[...document.querySelectorAll('#nav-links a')].map(a => a.id)")
    assert len(links) >= 7
    for link in links + ["nav-home"]:
        page.click(f"#{link}")
        page.wait_for_selector("#_pages_content .page-header, #_pages_content .error-body")
        page.wait_for_timeout(1200)
        assert "系统错误" not in page.inner_text("body")
        assert_no_horizontal_overflow(page)
        cut = page.evaluate("""() => [...document.querySelectorAll('.ag-header-cell-text')]
            .filter(t => t.offsetParent && t.scrollWidth > t.clientWidth + 1).map(t => t.innerText)""")
        assert cut == [], (link, cut)
        wrapped = page.evaluate("""() => [...document.querySelectorAll('.table > thead th')]
            .filter(t => t.offsetParent && t.getBoundingClientRect().height > 44).map(t => t.innerText)""")
        assert wrapped == [], (link, wrapped)
