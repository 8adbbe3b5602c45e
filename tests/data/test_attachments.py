"""佐证材料 service: type by content, limits, re-encoding, thumbnails, scope, freeze, review, soft delete."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from data import attachments
from data.attachment_store import DiskStore
from data.models import ActivityRecord, Attachment, AuditLog, OrgUnit, Period, User
from data.permissions import AccessDenied, NotFound


def principal(db, username: str):
    from data.accounts import get_principal

    with db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
    return get_principal(uid, db)


def PNG(size=(64, 48), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def JPEG_WITH_EXIF() -> bytes:
    im = Image.new("RGB", (80, 60), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS latitude
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def GIF() -> bytes:
    buf = io.BytesIO()
    Image.new("P", (20, 20), 3).save(buf, "GIF")
    return buf.getvalue()


def PDF() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(3, 4))
    fig.text(0.2, 0.5, "minutes")
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    plt.close(fig)
    return buf.getvalue()


def DOCX() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("支委会会议记录")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def XLSX() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "签到表"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def store(tmp_path):
    return DiskStore(tmp_path / "files")


# --------------------------------------------------------------------------- type by content

@pytest.mark.parametrize("make, expected", [
    (PDF, "application/pdf"), (PNG, "image/png"), (JPEG_WITH_EXIF, "image/jpeg"), (GIF, "image/gif"),
    (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_type_is_detected_from_the_content(make, expected):
    assert attachments.detect_type(make()) == expected


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    return buf.getvalue()


@pytest.mark.parametrize("data", [
    HTML, b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", b"MZ\x90\x00binary",
    _zip({"a.txt": b"x"}),  # a zip that is no Office document
    _zip({"[Content_Types].xml": b"wordprocessingml.document.main+xml", "word/document.xml": b"<w/>",
          "word/vbaProject.bin": b"macro"}),  # a macro document renamed .docx
    b"",
])
def test_anything_else_is_refused_whatever_its_name(data, seeded_sqlite, store):
    with pytest.raises(attachments.InvalidAttachment) as e:
        attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "活动照片.png", data,
                                   db=seeded_sqlite, store=store)
    assert "活动照片.png" in str(e.value)
    with seeded_sqlite.session() as s:
        assert s.scalar(select(func.count()).select_from(Attachment).where(Attachment.file_name == "活动照片.png")) == 0


def test_a_pdf_named_png_is_stored_as_pdf(seeded_sqlite, store):
    aid = attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "伪装.png", PDF(),
                                     db=seeded_sqlite, store=store)
    with seeded_sqlite.session() as s:
        assert s.get(Attachment, aid).content_type == "application/pdf"


# --------------------------------------------------------------------------- re-encoding and thumbnails

def test_images_are_re_encoded_without_metadata(seeded_sqlite, store):
    raw = JPEG_WITH_EXIF()
    assert b"SecretCameraMaker" in raw
    aid = attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "p.jpg", raw,
                                     db=seeded_sqlite, store=store)
    f = attachments.open_for_download(principal(seeded_sqlite, "inspector"), aid, db=seeded_sqlite)
    stored = attachments.read(f, store=store)
    assert f.content_type == "image/jpeg" and b"SecretCameraMaker" not in stored
    with Image.open(io.BytesIO(stored)) as im:
        assert not im.getexif() and im.size == (80, 60)


def test_gif_becomes_png(seeded_sqlite, store):
    aid = attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "a.gif", GIF(),
                                     db=seeded_sqlite, store=store)
    f = attachments.open_for_download(principal(seeded_sqlite, "inspector"), aid, db=seeded_sqlite)
    assert f.content_type == "image/png" and attachments.read(f, store=store)[:4] == b"\x89PNG"


@pytest.mark.parametrize("make, has_thumb", [(PNG, True), (PDF, True), (DOCX, False), (XLSX, False)])
def test_thumbnails_of_images_and_pdf_first_pages(make, has_thumb, seeded_sqlite, store):
    data = make((1200, 900)) if make is PNG else make()
    aid = attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "f", data,
                                     db=seeded_sqlite, store=store)
    f = attachments.open_for_download(principal(seeded_sqlite, "inspector"), aid, db=seeded_sqlite)
    if not has_thumb:
        assert f.thumbnail_key is None
        with pytest.raises(NotFound):
            attachments.read(f, thumbnail=True, store=store)
        return
    with Image.open(io.BytesIO(attachments.read(f, thumbnail=True, store=store))) as im:
        assert im.format == "PNG" and max(im.size) <= attachments.THUMB_PX
        assert max(im.size) >= attachments.THUMB_PX - 2  # scaled to the box, not a 1-pixel placeholder
        if make is PDF:  # the page was really drawn: not one flat colour
            assert len(set(im.convert("L").getdata())) > 2


# --------------------------------------------------------------------------- limits

def test_file_size_limit_names_the_file(seeded_sqlite, store):
    data = PDF()
    with pytest.raises(attachments.InvalidAttachment) as e:
        attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "大文件.pdf", data,
                                   db=seeded_sqlite, store=store, max_file_bytes=len(data) - 1)
    assert "大文件.pdf" in str(e.value) and "超过单个文件" in str(e.value)
    attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "刚好.pdf", data,
                               db=seeded_sqlite, store=store, max_file_bytes=len(data))


def test_unit_total_limit_counts_live_files_only(seeded_sqlite, store):
    insp = principal(seeded_sqlite, "inspector")
    with seeded_sqlite.session() as s:
        unit_id = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "C05"))
        used = int(s.scalar(select(func.coalesce(func.sum(Attachment.size), 0))
                            .where(Attachment.unit_id == unit_id, Attachment.deleted_at.is_(None))))
    data = PDF()
    limit = used + len(data) + len(data) // 2  # room for one more, not two
    first = attachments.attach_to_item(insp, "2026H1", "C05", "C1", "一.pdf", data, db=seeded_sqlite, store=store,
                                       max_unit_bytes=limit)
    with pytest.raises(attachments.InvalidAttachment) as e:
        attachments.attach_to_item(insp, "2026H1", "C05", "C2", "二.pdf", data, db=seeded_sqlite, store=store,
                                   max_unit_bytes=limit)
    assert "二.pdf" in str(e.value) and "每个单位" in str(e.value)
    attachments.delete_attachment(insp, first, db=seeded_sqlite)
    attachments.attach_to_item(insp, "2026H1", "C05", "C2", "二.pdf", data, db=seeded_sqlite, store=store,
                               max_unit_bytes=limit)


# --------------------------------------------------------------------------- scope

def test_staff_attach_to_their_own_units_only(seeded_sqlite, store):
    staff = principal(seeded_sqlite, "staff")  # 临河县局: X0031..X0033
    attachments.attach_to_item(staff, "2026H1", "X0031", "C1", "a.png", PNG(), db=seeded_sqlite, store=store)
    with pytest.raises(AccessDenied):
        attachments.attach_to_item(staff, "2026H1", "C02", "C1", "a.png", PNG(), db=seeded_sqlite, store=store)


def test_staff_of_another_unit_can_neither_read_delete_nor_review(seeded_sqlite, store):
    aid = attachments.attach_to_item(principal(seeded_sqlite, "inspector"), "2026H1", "C02", "C1", "a.png", PNG(),
                                     db=seeded_sqlite, store=store)
    staff = principal(seeded_sqlite, "staff")
    for call in (lambda: attachments.open_for_download(staff, aid, db=seeded_sqlite),
                 lambda: attachments.delete_attachment(staff, aid, db=seeded_sqlite),
                 lambda: attachments.review_attachment(staff, aid, "已核实", db=seeded_sqlite),
                 lambda: attachments.unit_attachments(staff, "C02", "2026H1", db=seeded_sqlite),
                 lambda: attachments.open_for_download(staff, 999_999, db=seeded_sqlite)):  # absent id: same answer
        with pytest.raises(AccessDenied):
            call()
    leader = principal(seeded_sqlite, "leader")
    assert attachments.open_for_download(leader, aid, db=seeded_sqlite).unit_code == "C02"
    with pytest.raises(AccessDenied):  # 局领导 read only
        attachments.attach_to_item(leader, "2026H1", "C02", "C1", "a.png", PNG(), db=seeded_sqlite, store=store)


# --------------------------------------------------------------------------- published freeze

def _record(db, unit: str, day: dt.date, kind: str = "支委会") -> int:
    with db.session() as s:
        uid = s.scalar(select(OrgUnit.id).where(OrgUnit.code == unit))
        r = ActivityRecord(unit_id=uid, activity_type=kind, held_on=day, topic="研究季度工作", expected=5, attended=5)
        s.add(r)
        s.flush()
        return r.id


def test_published_period_refuses_item_files(seeded_sqlite, store):
    insp = principal(seeded_sqlite, "inspector")
    with pytest.raises(attachments.InvalidAttachment) as e:
        attachments.attach_to_item(insp, "2025", "C02", "C1", "a.png", PNG(), db=seeded_sqlite, store=store)
    assert "考核结果已发布" in str(e.value)


def test_record_files_freeze_only_when_every_period_holding_the_date_is_published(seeded_sqlite, store):
    insp = principal(seeded_sqlite, "inspector")
    old = _record(seeded_sqlite, "C02", dt.date(2025, 5, 1))  # only in 2025 (已发布)
    new = _record(seeded_sqlite, "C02", dt.date(2026, 3, 1))  # in 2026H1 (考核中)
    with pytest.raises(attachments.InvalidAttachment) as e:
        attachments.attach_to_record(insp, old, "a.png", PNG(), db=seeded_sqlite, store=store)
    assert "2025" in str(e.value) and "考核结果已发布" in str(e.value)
    aid = attachments.attach_to_record(insp, new, "a.png", PNG(), db=seeded_sqlite, store=store)
    # A 2026 annual period (open) also holds March 2026: publishing 2026H1 alone does not freeze it.
    from data import services
    from data.publication import publish

    admin = principal(seeded_sqlite, "admin")
    services.create_period(admin, "2026", "2026", db=seeded_sqlite)
    publish(insp, "2026H1", db=seeded_sqlite)
    attachments.attach_to_record(insp, new, "b.png", PNG(color=(1, 2, 3)), db=seeded_sqlite, store=store)
    publish(insp, "2026", db=seeded_sqlite)
    with pytest.raises(attachments.InvalidAttachment):
        attachments.attach_to_record(insp, new, "c.png", PNG(color=(4, 5, 6)), db=seeded_sqlite, store=store)
    with pytest.raises(attachments.InvalidAttachment):
        attachments.delete_attachment(insp, aid, db=seeded_sqlite)


def test_records_that_were_superseded_or_withdrawn_take_no_files(seeded_sqlite, store):
    rid = _record(seeded_sqlite, "C02", dt.date(2026, 3, 1))
    with seeded_sqlite.session() as s:
        s.get(ActivityRecord, rid).withdrawn_at = dt.datetime(2026, 3, 2)
    with pytest.raises(NotFound):
        attachments.attach_to_record(principal(seeded_sqlite, "inspector"), rid, "a.png", PNG(), db=seeded_sqlite,
                                     store=store)


# --------------------------------------------------------------------------- review, delete, counts

def test_review_by_inspector_with_note_and_audit(seeded, store):
    db = seeded
    insp = principal(db, "inspector")
    aid = attachments.attach_to_item(insp, "2026H1", "C02", "C1", "a.png", PNG(), db=db, store=store)
    with pytest.raises(attachments.InvalidAttachment):
        attachments.review_attachment(insp, aid, "不符合", "  ", db=db)  # a note is required
    with pytest.raises(attachments.InvalidAttachment):
        attachments.review_attachment(insp, aid, "通过", "x", db=db)
    for role in ("admin", "leader"):
        with pytest.raises(AccessDenied):
            attachments.review_attachment(principal(db, role), aid, "已核实", db=db)
    attachments.review_attachment(insp, aid, "不符合", "签到表缺少签名", db=db)
    row = next(r for r in attachments.unit_attachments(insp, "C02", "2026H1", db=db) if r["id"] == aid)
    assert (row["review_status"], row["review_note"], row["reviewed_by"]) == ("不符合", "签到表缺少签名", "考核组李明")
    with db.session() as s:
        log = s.scalars(select(AuditLog).where(AuditLog.action == "attachment_review",
                                               AuditLog.entity_id == str(aid))).all()
        assert len(log) == 1 and log[0].after["status"] == "不符合" and log[0].before["status"] is None
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "attach", AuditLog.entity_id == str(aid))) == 1


def test_soft_delete_hides_the_file_and_keeps_the_row(seeded_sqlite, store):
    insp = principal(seeded_sqlite, "inspector")
    aid = attachments.attach_to_item(insp, "2026H1", "C02", "C1", "a.png", PNG(), db=seeded_sqlite, store=store)
    key = attachments.open_for_download(insp, aid, db=seeded_sqlite).storage_key
    attachments.delete_attachment(insp, aid, db=seeded_sqlite)
    assert aid not in {r["id"] for r in attachments.unit_attachments(insp, "C02", "2026H1", db=seeded_sqlite)}
    with pytest.raises(NotFound):
        attachments.open_for_download(insp, aid, db=seeded_sqlite)
    with seeded_sqlite.session() as s:
        a = s.get(Attachment, aid)
        assert a.deleted_at is not None and a.deleted_by == insp.id
    assert store.exists(key)


def test_attachment_counts_per_record(seeded_sqlite, store):
    insp = principal(seeded_sqlite, "inspector")
    r1, r2, r3 = (_record(seeded_sqlite, "C02", dt.date(2026, m, 3)) for m in (2, 3, 4))
    a = attachments.attach_to_record(insp, r1, "a.png", PNG(), db=seeded_sqlite, store=store)
    attachments.attach_to_record(insp, r1, "b.pdf", PDF(), db=seeded_sqlite, store=store)
    attachments.attach_to_record(insp, r2, "c.png", PNG(), db=seeded_sqlite, store=store)
    assert attachments.attachment_counts(seeded_sqlite, [r1, r2, r3]) == {r1: 2, r2: 1}
    attachments.delete_attachment(insp, a, db=seeded_sqlite)
    assert attachments.attachment_counts(seeded_sqlite, [r1, r2, r3]) == {r1: 1, r2: 1}
    assert attachments.attachment_counts(seeded_sqlite, []) == {}
    with seeded_sqlite.session() as s:
        assert s.scalar(select(Period.status).where(Period.code == "2026H1")) == "考核中"


def test_staff_cannot_delete_a_file_an_inspector_has_reviewed(seeded_sqlite, store):
    staff, insp = principal(seeded_sqlite, "staff"), principal(seeded_sqlite, "inspector")
    aid = attachments.attach_to_item(staff, "2026H1", "X0031", "C1", "签到表.png", PNG(), db=seeded_sqlite,
                                     store=store)
    attachments.review_attachment(insp, aid, "不符合", "缺签名", db=seeded_sqlite)
    with pytest.raises(attachments.InvalidAttachment) as e:
        attachments.delete_attachment(staff, aid, db=seeded_sqlite)
    assert "签到表.png" in str(e.value)
    attachments.delete_attachment(insp, aid, db=seeded_sqlite)
    with pytest.raises(NotFound):
        attachments.open_for_download(insp, aid, db=seeded_sqlite)
