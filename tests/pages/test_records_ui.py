"""Browser: activity records on the branch page (staff add a record and the counts — and, with 「以活动记录为准」,
the score — move; the calendar strip shows the months without one), the gap page's 活动规律性 and the
records import on the upload page. Screenshots in tests/artifacts/."""
from __future__ import annotations

from tests.pages.conftest import ARTIFACTS, assert_no_horizontal_overflow, shot, wait_js, wait_text

STRIP_ROW = """([t]) => { const rows = [...document.querySelectorAll('#records-calendar-strip tbody tr')];
  const r = rows.find(x => x.querySelector('th').innerText.startsWith(t)); return r ? r.querySelector('th').innerText : ''; }"""
MISSING = """([t]) => [...document.querySelectorAll('#records-calendar-strip td.cal-missing')]
  .filter(td => td.dataset.type === t).map(td => td.dataset.month)"""
COMPARE = """([f]) => { const r = document.querySelector(`#records-compare-table tr[data-field="${f}"]`);
  return r ? [...r.querySelectorAll('td')].map(td => td.innerText.trim()).concat([r.dataset.differs]) : null; }"""


def _panel_shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#records-panel").screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_branch101_staff_adds_a_record_with_a_photo_and_the_count_and_score_move(page_for, app_db, tmp_path):
    from data import periods
    from data.accounts import principal_by_name

    # The period scores 以活动记录为准, so the new record moves the score as well as the counts.
    periods.update_period(principal_by_name("admin", app_db), "2026H1", record_source="records", db=app_db)
    page = page_for("staff_sj")  # 市局机关第一党支部 (C01): typed 1 支部党员大会 in H1, one record (June)
    page.goto(page.base_url + "/branch/C01?period=2026H1")
    page.wait_for_selector("#records-compare-table")
    before = wait_js(page, COMPARE, ["general_meetings"])
    assert before[2:5] == ["1", "1", "0"] and before[-1] == "0"  # typed, records, difference
    total_before = page.inner_text("#branch-total")
    n_before = int(page.inner_text("#records-count").split("共 ")[1].split(" 条")[0])
    assert "1 次" in wait_js(page, STRIP_ROW, ["支部党员大会"])
    page.select_option("#records-f-type", "支部党员大会")
    page.fill("#records-f-date", "2026-03-20")
    page.fill("#records-f-topic", "一季度支部党员大会")
    page.fill("#records-f-expected", "30")
    page.fill("#records-f-attended", "28")
    page.click("#records-save")
    wait_text(page, "#records-msg", "已登记 2026-03-20 支部党员大会")
    after = wait_js(page, f"() => {{ const v = ({COMPARE})(['general_meetings']); return v && v[3] === '2' ? v : null; }}")
    assert after[2:5] == ["1", "2", "-1"] and after[-1] == "1"  # the difference an inspector checks, highlighted
    assert "2 次" in wait_js(page, STRIP_ROW, ["支部党员大会"])
    assert page.evaluate(MISSING, ["支部党员大会"]) == []  # both quarters now hold one
    wait_js(page, "([t]) => { const e = document.querySelector('#branch-total'); return e && e.innerText !== t; }",
            [total_before])
    wait_text(page, "#records-count", f"共 {n_before + 1} 条")  # the list is newest first: March is further on
    # A photo of the meeting goes to the new record (the 佐证材料 form lists it at once); its chip counts it.
    rid = int(page.inner_text("#records-msg").split("记录 #")[1].split("）")[0])
    from PIL import Image

    photo = tmp_path / "会场照片.png"
    Image.new("RGB", (64, 48), (180, 30, 30)).save(photo)
    wait_js(page, "(v) => [...document.querySelectorAll('#branch-attach-target option')].some(o => o.value === v)",
            f"record:{rid}")
    page.select_option("#branch-attach-target", f"record:{rid}")
    page.set_input_files("#branch-attach-upload input[type=file]", str(photo))
    wait_text(page, "#branch-attach-msg", "已上传")
    chip = f"#records-calendar-strip button[id*='\"id\":{rid}']"
    wait_js(page, "(s) => { const b = document.querySelector(s); return b && b.innerText.includes('附1'); }", chip)
    page.click(chip)
    wait_text(page, "#records-detail-attachments", "会场照片.png")
    page.click("#records-detail-close")
    assert_no_horizontal_overflow(page)
    shot(page, "records_branch_staff_added")
    _panel_shot(page, "records_panel_staff")


def test_branch102_calendar_strip_shows_missing_months(page_for):
    page = page_for("inspector")
    page.goto(page.base_url + "/branch/C08?period=2026H1")  # demo: every 支委会 of C08 held in June
    page.wait_for_selector("#records-calendar-strip")
    assert wait_js(page, MISSING, ["支委会"]) == [f"2026-{m:02d}" for m in range(1, 6)]
    assert page.query_selector("#records-save") is None  # 考核组 reads records, does not enter them
    page.locator('#records-calendar-strip td[data-type="支委会"] .cal-chip').first.click()  # a record opens
    wait_text(page, "#records-detail-body", "研究6月份党建工作")
    assert page.query_selector("#records-withdraw") is None
    page.click("#records-detail-close")
    shot(page, "records_branch_calendar_missing")
    _panel_shot(page, "records_panel_inspector")


def test_gaps101_regularity_lists_units_with_missing_months(page_for):
    page = page_for("leader")
    page.goto(page.base_url + "/gaps?period=2026H1&bureau=%E5%B8%82%E5%B1%80%E6%9C%BA%E5%85%B3")  # 市局机关
    page.wait_for_selector("#gaps-regularity-grid .ag-row")
    text = page.inner_text("#gaps-regularity")
    assert "专卖监督管理科党支部" in text and "1 月、2 月、3 月、4 月、5 月" in text  # C08
    assert "县局" not in page.inner_text("#gaps-regularity-grid")
    assert_no_horizontal_overflow(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#gaps-regularity").screenshot(path=str(ARTIFACTS / "records_gaps_regularity.png"))


def test_upload101_staff_imports_an_app_export(page_for, tmp_path):
    page = page_for("staff")
    page.goto(page.base_url + "/upload?period=2026H1")
    page.wait_for_selector("#records-import")
    f = tmp_path / "智慧党建导出.csv"
    f.write_bytes("序号,会议类型,召开时间,会议主题,应参会人数,参会人数\n1,支部委员会会议,2026年5月28日,临时支委会,7,7\n"
                  "2,茶话会,2026/6/3,迎七一,7,6\n".encode("gbk"))
    page.select_option("#records-import-unit", "X0033")
    page.set_input_files("#records-import-file input[type=file]", str(f))
    wait_text(page, "#records-import-issues", "第 3 行 B 列「会议类型」为「茶话会」")
    assert page.is_disabled("#records-import-commit")
    page.locator("#records-import").screenshot(path=str(ARTIFACTS / "records_import_errors.png"))
    f2 = tmp_path / "智慧党建导出2.csv"
    f2.write_bytes("序号,会议类型,召开时间,会议主题,应参会人数,参会人数\n1,支部委员会会议,2026年5月28日,临时支委会,7,7\n"
                   "2,主题党日活动,2026/6/3,迎七一,7,6\n".encode("gbk"))
    page.set_input_files("#records-import-file input[type=file]", str(f2))
    wait_text(page, "#records-import-summary", "可以导入")
    page.click("#records-import-commit")
    wait_text(page, "#records-import-done", "已导入 2 条活动记录")
    page.goto(page.base_url + "/branch/X0033?period=2026H1")
    page.wait_for_selector("#records-calendar-strip")
    assert wait_js(page, """() => [...document.querySelectorAll('#records-calendar-strip td[data-month="2026-05"] .cal-chip')]
        .some(b => b.title.includes('临时支委会'))""")
