"""Printing from the browser: Chromium's own print-to-PDF of the pages, read back with pypdf.

The print stylesheet must give clean A4 pages: every unit (not the ~14 rows a virtual-scrolling grid
has on screen), no navigation bar or buttons, a title with the period, the header row on every page.
"""
from __future__ import annotations

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from data import services
from data.permissions import Principal
from tests.pages.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def _print(page, name: str) -> PdfReader:
    page.emulate_media(media="print")
    data = page.pdf(format="A4", print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(data)
    return PdfReader(io.BytesIO(data))


# Subset fonts map some glyphs to CJK Radicals Supplement code points (⻘ for 青, ⺠ for 民) that NFKC
# leaves alone: they become a one-character wildcard here (see ``has``).
RADICALS = {c: "\x00" for c in range(0x2E80, 0x2F00)}


def has(text: str, s: str) -> bool:
    """``s`` occurs in ``text``, where a radical stands for the ideograph it was drawn for."""
    s = unicodedata.normalize("NFKC", s).replace(" ", "")
    return re.search("".join(f"(?:{re.escape(c)}|\x00)" for c in s), text) is not None


def _text(reader: PdfReader) -> str:
    # NFKC: Chromium's subset fonts map some glyphs to Kangxi radicals (⽀ U+2F40 for 支).
    # Newlines dropped: a long name may wrap inside its cell.
    return unicodedata.normalize("NFKC", "".join(p.extract_text() or "" for p in reader.pages)).translate(RADICALS).replace("\n", "")


def test_print001_ranking_page_prints_every_unit_without_nav(page_for, app_db):
    page = page_for("leader", 1366, 768)
    page.wait_for_selector("#rankings-grid .ag-row")
    on_screen = page.locator("#rankings-grid .ag-center-cols-container .ag-row").count()
    reader = _print(page, "print_rankings")
    text = _text(reader).replace(" ", "")
    names = services.score_period("2026H1", app_db).units["name"].tolist()
    assert on_screen < len(names)  # the grid scrolls virtually: the printout is not a screenshot
    missing = [n for n in names if not has(text, n)]
    assert missing == []
    assert page.locator(".print-table[data-grid=rankings-grid] tbody tr").count() == len(names)
    # No navigation bar (user name, logout, the other pages' links) and no buttons.
    for nav_text in ("张局长", "退出", "差距分析", "数据上传", "导出Excel", "排名工作簿"):
        assert nav_text not in text, nav_text
    # A title with the period.
    assert "排名总览·2026年上半年" in text
    # Printed larger, the table runs over several pages and its header row repeats on each one.
    big = PdfReader(io.BytesIO(page.pdf(format="A4", scale=1.8)))
    pages_with_units = [unicodedata.normalize("NFKC", p.extract_text() or "").translate(RADICALS).replace(" ", "")
                        for p in big.pages]
    pages_with_units = [t for t in pages_with_units if any(has(t, n) for n in names)]
    assert len(pages_with_units) >= 2
    assert all("单位名称" in t and "总排名" in t for t in pages_with_units)


def test_print002_rectification_page_prints_all_rows(page_for, app_db):
    page = page_for("inspector")
    page.goto(page.base_url + "/rectifications")
    page.wait_for_selector("#rect-grid .ag-row")
    n = len(services.rectification_list(Principal(0, "t", "t", "inspector"), app_db))
    reader = _print(page, "print_rectifications")
    text = _text(reader).replace(" ", "")
    assert page.locator(".print-table[data-grid=rect-grid] tbody tr").count() == n
    assert "整改台账" in text and "考核组李明" not in text and "导出整改台账" not in text



def test_print003_branch_detail_prints_items_without_forms(page_for, app_db):
    page = page_for("inspector")
    page.goto(page.base_url + "/branch/C01?period=2026H1")
    page.wait_for_selector("#branch-total")
    page.wait_for_selector("#branch-radar .main-svg")
    text = _text(_print(page, "print_branch_C01")).replace(" ", "")
    assert "市局机关第一党支部" in text and "2026年上半年" in text and "82.50" in text
    for item in services.score_period("2026H1", app_db).items_for("C01")["name"]:
        assert has(text, item), item
    for hidden in ("差距分析", "数据上传", "退出", "登记整改事项", "反馈单Word", "理由（必填"):  # nav, forms, buttons
        assert hidden not in text, hidden


def test_print004_candidates_page_prints_every_row(page_for, app_db):
    page = page_for("leader")
    page.goto(page.base_url + "/candidates?period=2025")  # candidates are an annual matter
    page.wait_for_selector("#candidates-grid .ag-row")
    n = len(services.candidate_list(Principal(0, "t", "t", "leader"), "2025", app_db))
    text = _text(_print(page, "print_candidates")).replace(" ", "")
    assert page.locator(".print-table[data-grid=candidates-grid] tbody tr").count() == n
    assert "2025年度" in text and "张局长" not in text and "导出Excel" not in text
