"""佐证材料 on 支部详情 in headless Chromium: an inspector marks a file 不符合 with a note; staff upload a
photo and see its thumbnail; the 佐证核查 list opens from 整改台账."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from data.models import Attachment, OrgUnit
from tests.pages.conftest import assert_no_horizontal_overflow, shot, wait_js, wait_text

pytestmark = pytest.mark.browser


def _pending_on(db, unit: str) -> int:
    with db.session() as s:
        return s.scalar(select(Attachment.id).join(OrgUnit, OrgUnit.id == Attachment.unit_id)
                        .where(OrgUnit.code == unit, Attachment.review_status.is_(None),
                               Attachment.deleted_at.is_(None)).order_by(Attachment.id).limit(1))


def test_branch201_inspector_marks_an_attachment_not_matching(page_for, app_db):
    aid = _pending_on(app_db, "C02")
    assert aid is not None
    page = page_for("inspector", 1366, 768)
    page.goto(page.base_url + "/branch/C02?period=2026H1")
    page.wait_for_selector(f"#branch-attach-{aid}")
    wait_js(page, "(id) => { const i = document.querySelector(`#branch-attach-${id} img`);"
                  " return !!i && i.complete && i.naturalWidth > 0; }", aid)  # the thumbnail really loaded
    assert "未核查" in page.inner_text(f"#branch-attach-{aid}")
    page.click(f"#branch-attach-{aid} button:has-text('核查')")
    page.wait_for_selector("#branch-attach-review-note")
    page.click("#branch-attach-review-bad")  # without a note: refused, says why
    wait_text(page, "#branch-attach-review-msg", "请填写核查意见")
    page.fill("#branch-attach-review-note", "照片与会议记录日期不一致")
    page.click("#branch-attach-review-bad")
    wait_text(page, f"#branch-attach-{aid}", "不符合")
    assert "照片与会议记录日期不一致" in page.inner_text(f"#branch-attach-{aid}")
    shot(page, "attachments_review_1366")
    with app_db.session() as s:
        a = s.get(Attachment, aid)
        assert (a.review_status, a.review_note) == ("不符合", "照片与会议记录日期不一致")
    assert_no_horizontal_overflow(page)


def test_branch202_staff_upload_a_photo_and_see_its_thumbnail(page_for, app_db):
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 140, 60)).save(buf, "JPEG")
    page = page_for("staff", 1366, 768)
    page.goto(page.base_url + "/branch/X0032?period=2026H1")
    page.wait_for_selector("#branch-attach-upload")
    page.select_option("#branch-attach-target", "item:C1")
    page.set_input_files("#branch-attach-upload input[type=file]",
                         files=[{"name": "主题党日.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}])
    wait_text(page, "#branch-attach-msg", "已上传「主题党日.jpg」")
    wait_text(page, "#branch-attach-body", "主题党日.jpg")
    wait_js(page, "() => [...document.querySelectorAll('#branch-attach-body img')].some("
                  "i => i.complete && i.naturalWidth > 0)")
    shot(page, "attachments_staff_upload_1366")
    # No review buttons for staff.
    assert page.query_selector("#branch-attach-body button:has-text('核查')") is None


def test_evidence301_review_list_opens_from_rectifications(page_for, app_db):
    page = page_for("inspector", 1366, 768)
    page.goto(page.base_url + "/rectifications")
    page.click("#rect-evidence-link")
    page.wait_for_selector("#evidence-n-flags")
    page.wait_for_selector("#evidence-flags")
    page.select_option("#evidence-bureau", "临河县局")
    wait_js(page, "() => location.search.includes('bureau=')")
    page.wait_for_selector("#evidence-flags")
    wait_js(page, "() => [...document.querySelectorAll('#evidence-flags tbody tr')].every("
                  "r => r.innerText.includes('临河县局'))")
    shot(page, "evidence_review_1366")
    assert_no_horizontal_overflow(page)
