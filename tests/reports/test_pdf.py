"""PDF through LibreOffice: page counts, extractable Chinese text, CJK fonts embedded, first pages as PNG.

LibreOffice is slow to start, so the three documents convert once, together, in a module fixture.
``make test`` installs Debian's libreoffice-writer-nogui and poppler-utils; without them these skip.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from data import documents, services
from data.permissions import Principal
from reports import bulletin, pdf, unit_sheets

PERIOD = "2026H1"
LEADER = Principal(1, "leader", "张局长", "leader")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Subset fonts map some glyphs to CJK Radicals Supplement code points (⻘ for 青, ⺠ for 民) that NFKC
# leaves alone: they become a one-character wildcard here (see ``has``).
RADICALS = {c: "\x00" for c in range(0x2E80, 0x2F00)}


def has(text: str, s: str) -> bool:
    """``s`` occurs in ``text``, where a radical stands for the ideograph it was drawn for."""
    s = unicodedata.normalize("NFKC", s).replace(" ", "")
    return re.search("".join(f"(?:{re.escape(c)}|\x00)" for c in s), text) is not None

pytestmark = pytest.mark.skipif(pdf.soffice_path() is None,
                                reason="LibreOffice (soffice) not installed: make test installs libreoffice-writer-nogui")


@pytest.fixture(scope="module")
def pdfs(demo_db):
    docs = {
        "bulletin.docx": bulletin.bulletin_docx(documents.bulletin_data(LEADER, PERIOD, demo_db)),
        "feedback_C01.docx": unit_sheets.feedback_docx(
            next(documents.feedback_sheets(LEADER, PERIOD, ["C01"], demo_db))),
        "notice_X0052.docx": unit_sheets.notice_docx(documents.notice_data(LEADER, PERIOD, "X0052", demo_db)),
    }
    out = pdf.docx_to_pdf_many(docs)
    ARTIFACTS.mkdir(exist_ok=True)
    for name, data in out.items():
        (ARTIFACTS / name).write_bytes(data)
    return {Path(k).stem: PdfReader(io.BytesIO(v)) for k, v in out.items()}


def _text(page) -> str:
    return unicodedata.normalize("NFKC", page.extract_text() or "").translate(RADICALS).replace(" ", "").replace("\n", "")


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for f in fonts.values():
            names.add(str(f.get_object().get("/BaseFont")))
    return names


def test_pdf_pages_are_numbered_and_counted(pdfs):
    for name, reader in pdfs.items():
        n = len(reader.pages)
        assert n >= 1, name
        # The footer 「— N —」 of the last page is the page count: no page lost or blank at the end.
        assert f"—{n}—" in _text(reader.pages[-1]), name
    assert len(pdfs["notice_X0052"].pages) == 2  # the notice, then the reply form on its own page
    assert len(pdfs["bulletin"].pages) >= 3


def test_pdf_text_is_chinese_and_matches_the_engine(pdfs, demo_db):
    res = services.score_period(PERIOD, demo_db)
    first = _text(pdfs["bulletin"].pages[0])
    assert "关于2026年上半年党建工作考核结果的通报" in first
    everything = "".join(_text(p) for p in pdfs["bulletin"].pages)
    for name in res.units["name"]:
        assert has(everything, name), name
    fb = "".join(_text(p) for p in pdfs["feedback_C01"].pages)
    assert has(fb, "市局机关第一党支部") and "总分82.50分" in fb and "「良好」" in fb
    notice = "".join(_text(p) for p in pdfs["notice_X0052"].pages)
    assert "整改通知书" in notice and "整改情况回执" in notice and "整改措施" in notice


def test_pdf_embeds_chinese_fonts_for_the_official_names(pdfs):
    for name, reader in pdfs.items():
        fonts = _fonts(reader)
        assert any("CJK" in f for f in fonts), (name, fonts)
        assert not any("DejaVu" in f for f in fonts), (name, fonts)  # no fallback to a Latin-only face


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")
def test_first_pages_render_to_png(pdfs):
    from PIL import Image

    for stem in ("bulletin", "feedback_C01", "notice_X0052"):
        out = ARTIFACTS / f"{stem}_page1"
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(ARTIFACTS / f"{stem}.pdf"),
                        str(out)], check=True, timeout=120)
        img = Image.open(f"{out}.png").convert("L")
        assert img.size[0] > 500 and img.size[1] > 700
        lo, hi = img.getextrema()
        dark = sum(img.histogram()[:128])
        assert lo < 60 and hi > 240 and dark > 2000, stem  # text on a white page, not a blank sheet
