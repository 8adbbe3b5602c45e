"""佐证材料: files attached to a unit × item of a period or to an activity record, and their review.

Owns the checks on the bytes (type detected from the content, never from the name or the
browser; size limits per file and per unit; images re-encoded without metadata; thumbnails),
the scope and freeze rules, the soft delete and the inspectors' review. Bytes go to
``data.attachment_store``; rows to ``Attachment``; every write appends an audit row. It never
serves HTTP (``pages/_attachments.py`` does) and never scores (attachments do not move a score,
so nothing here bumps a period's data version).

PDF first-page thumbnails use poppler's ``pdftoppm`` (poppler-utils is already in the Makefile's
APT_PKGS for the document previews; no extra wheel, and it runs in a subprocess with a timeout,
so a hostile PDF can only cost that process). Without it a PDF simply has no thumbnail.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data import attachment_store
from data.db import Database, get_db
from data.models import PERIOD_STATUSES, REVIEW_STATUSES, ActivityRecord, Attachment, OrgUnit, Period, utcnow
from data.permissions import AccessDenied, NotFound, Principal, require, require_unit

PUBLISHED = PERIOD_STATUSES[-1]
UPLOAD_ACTION = "upload"             # 党务干事 (own units), 考核组, 管理员 add and remove 佐证材料
REVIEW_ACTION = "review_attachment"  # 考核组 marks 已核实 / 不符合
MB = 1024 * 1024
MAX_FILE_BYTES = int(float(os.environ.get("ATTACHMENT_MAX_MB", "8")) * MB)
MAX_UNIT_BYTES = int(float(os.environ.get("ATTACHMENT_UNIT_MAX_MB", "200")) * MB)
MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded
THUMB_PX = 240
TYPE_LABELS = {"application/pdf": "PDF", "image/png": "PNG 图片", "image/jpeg": "JPEG 图片",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档",
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 工作簿"}
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}
ALLOWED_TEXT = "PDF、图片（PNG/JPEG/GIF/WebP）、Word（.docx）、Excel（.xlsx）"
IMAGE_TYPES = ("image/png", "image/jpeg")


class InvalidAttachment(ValueError):
    """A user-correctable problem (Chinese message naming the file), shown as is."""


# --------------------------------------------------------------------------- content checks

def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "[Content_Types].xml" not in names:
                return None
            types = z.read("[Content_Types].xml")[:200_000]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError):
        return None
    if any(n.lower().endswith("vbaproject.bin") for n in names) or b"macroEnabled" in types:
        return None  # .docm / .xlsm: macros are not evidence
    if "word/document.xml" in names and b"wordprocessingml.document.main+xml" in types:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if "xl/workbook.xml" in names and b"spreadsheetml.sheet.main+xml" in types:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def detect_type(data: bytes) -> str | None:
    """The content type the bytes really are (None = not an allowed kind). Name and browser type are ignored."""
    head = data[:16]
    if data[:5] == b"%PDF-":
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"PK\x03\x04":
        return _zip_kind(data)
    return None


def reencode_image(data: bytes, name: str) -> tuple[bytes, str]:
    """Decode and re-encode an image (EXIF orientation applied, every metadata chunk dropped).

    JPEG stays JPEG; PNG, GIF (first frame) and WebP become PNG. Only what Pillow could decode
    as pixels reaches the store, so a polyglot file loses whatever rode along.
    """
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise InvalidAttachment(f"图片「{name}」像素过大（{im.width}×{im.height}），请缩小后再上传")
            fmt = im.format
            im.seek(0)
            im.load()
            im = ImageOps.exif_transpose(im)
            out = io.BytesIO()
            if fmt == "JPEG":
                im.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
                return out.getvalue(), "image/jpeg"
            if im.mode not in ("RGB", "RGBA", "L", "LA"):
                im = im.convert("RGBA")
            im.save(out, "PNG", optimize=True)
            return out.getvalue(), "image/png"
    except InvalidAttachment:
        raise
    except Exception as exc:  # Pillow raises many kinds for a broken file: all mean the same to the user
        raise InvalidAttachment(f"图片「{name}」无法读取（文件已损坏或不是有效图片）") from exc


def image_thumbnail(data: bytes) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.thumbnail((THUMB_PX, THUMB_PX))
        out = io.BytesIO()
        im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB").save(out, "PNG", optimize=True)
        return out.getvalue()


def pdf_thumbnail(data: bytes, timeout: float = 20.0) -> bytes | None:
    """The first page as a PNG (``pdftoppm``), or None when poppler is absent or the PDF is unreadable."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="dangjian-thumb-") as tmp:
        src = os.path.join(tmp, "in.pdf")
        with open(src, "wb") as f:
            f.write(data)
        try:
            subprocess.run([exe, "-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to", str(THUMB_PX),
                            src, os.path.join(tmp, "out")], check=True, timeout=timeout,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(os.path.join(tmp, "out.png"), "rb") as f:
                return image_thumbnail(f.read())  # through Pillow again: a clean, small PNG
        except (subprocess.SubprocessError, OSError, ValueError):
            return None


@dataclass(frozen=True)
class Prepared:
    data: bytes
    content_type: str
    thumbnail: bytes | None


def prepare(data: bytes, name: str, max_file_bytes: int | None = None) -> Prepared:
    """Check one file's bytes and produce what is stored (raises InvalidAttachment naming the file)."""
    limit = MAX_FILE_BYTES if max_file_bytes is None else max_file_bytes
    if not data:
        raise InvalidAttachment(f"文件「{name}」是空文件")
    if len(data) > limit:
        raise InvalidAttachment(f"文件「{name}」大小 {len(data) / MB:.1f} MB，超过单个文件 {limit / MB:g} MB 的限制，"
                                "请压缩或拆分后再上传")
    kind = detect_type(data)
    if kind is None:
        raise InvalidAttachment(f"文件「{name}」的内容不是允许的类型（按文件内容识别，与扩展名无关）。"
                                f"允许：{ALLOWED_TEXT}")
    if kind.startswith("image/"):
        data, kind = reencode_image(data, name)
        return Prepared(data, kind, image_thumbnail(data))
    if kind == "application/pdf":
        return Prepared(data, kind, pdf_thumbnail(data))
    return Prepared(data, kind, None)


def _key(data: bytes, content_type: str, thumb: bool = False) -> str:
    sha = hashlib.sha256(data).hexdigest()
    ext = "png" if thumb else EXTENSIONS.get(content_type, "bin")
    return f"{sha[:2]}/{sha}{'.thumb' if thumb else ''}.{ext}"


# --------------------------------------------------------------------------- scope and freeze

def _unit(s: Session, code: str) -> OrgUnit:
    u = s.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if u is None:
        raise NotFound(f"单位 {code} 不存在")
    return u


def _period(s: Session, code: str) -> Period:
    p = s.scalar(select(Period).where(Period.code == code))
    if p is None:
        raise NotFound(f"考核期 {code} 不存在")
    return p


def periods_holding(s: Session, day: dt.date) -> list[Period]:
    return list(s.scalars(select(Period).where(Period.start_date <= day, Period.end_date >= day)
                          .order_by(Period.start_date)).all())


def _frozen_message(codes: list[str]) -> str:
    return f"{'、'.join(codes)} 考核结果已发布，佐证材料不能再修改；如需更正，请由系统管理员重新开放该考核期（须填写理由）"


def _check_item_open(p: Period) -> None:
    if p.status == PUBLISHED:
        raise InvalidAttachment(_frozen_message([p.code]))


def _check_record_open(s: Session, record: ActivityRecord) -> None:
    """A record's files are frozen once every period whose span holds its date is published."""
    holding = periods_holding(s, record.held_on)
    if holding and all(p.status == PUBLISHED for p in holding):
        raise InvalidAttachment(_frozen_message([p.code for p in holding]))


def _unit_bytes(s: Session, unit_id: int) -> int:
    return int(s.scalar(select(func.coalesce(func.sum(Attachment.size), 0))
                        .where(Attachment.unit_id == unit_id, Attachment.deleted_at.is_(None))) or 0)


def _check_unit_quota(s: Session, unit: OrgUnit, size: int, name: str, max_unit_bytes: int | None) -> None:
    limit = MAX_UNIT_BYTES if max_unit_bytes is None else max_unit_bytes
    used = _unit_bytes(s, unit.id)
    if used + size > limit:
        raise InvalidAttachment(f"文件「{name}」上传后，{unit.name} 的佐证材料合计 {(used + size) / MB:.1f} MB，"
                                f"超过每个单位 {limit / MB:g} MB 的限制；请删除不再需要的材料或压缩后再上传")


def _audit(s: Session, principal: Principal, action: str, a: Attachment, unit_code: str, period_code: str | None,
           before: dict | None = None, after: dict | None = None) -> None:
    from data.services import audit

    audit(s, principal, action, entity="attachment", entity_id=a.id, period_code=period_code, unit_code=unit_code,
          before=before, after=after)


def _store(store):
    return store if store is not None else attachment_store.default_store()


def _save(s: Session, principal: Principal, unit: OrgUnit, name: str, data: bytes, store, max_file_bytes,
          max_unit_bytes, **where) -> Attachment:
    name = (os.path.basename(str(name or "").replace("\\", "/")).strip() or "未命名文件")[:200]
    prep = prepare(data, name, max_file_bytes)
    _check_unit_quota(s, unit, len(prep.data), name, max_unit_bytes)
    st = _store(store)
    key = _key(prep.data, prep.content_type)
    st.put(key, prep.data)
    thumb_key = None
    if prep.thumbnail is not None:
        thumb_key = _key(prep.data, prep.content_type, thumb=True)
        st.put(thumb_key, prep.thumbnail)
    a = Attachment(unit_id=unit.id, file_name=name, content_type=prep.content_type, size=len(prep.data),
                   sha256=hashlib.sha256(prep.data).hexdigest(), storage_key=key, thumbnail_key=thumb_key,
                   uploaded_by=principal.id, uploaded_at=utcnow(), **where)
    s.add(a)
    s.flush()
    return a


def attach_to_item(principal: Principal, period_code: str, unit_code: str, item_code: str, file_name: str,
                   data: bytes, db: Database | None = None, store=None, max_file_bytes: int | None = None,
                   max_unit_bytes: int | None = None) -> int:
    """Attach one file to a unit × item of a period; returns the attachment id."""
    require_unit(principal, UPLOAD_ACTION, unit_code)
    db = db or get_db()
    from data.services import table_for_period

    with db.session() as s:
        p = _period(s, period_code)
        unit = _unit(s, unit_code)
    if item_code not in {i.code for i in table_for_period(period_code, db).all_items}:
        raise InvalidAttachment(f"指标 {item_code} 不在 {period_code} 的指标体系中")
    with db.session() as s:
        p = _period(s, period_code)
        from data.services import lock_period

        lock_period(s, p.id)  # a publication committing meanwhile is seen below
        s.refresh(p, ["status"])
        _check_item_open(p)
        unit = _unit(s, unit_code)
        a = _save(s, principal, unit, file_name, data, store, max_file_bytes, max_unit_bytes,
                  period_id=p.id, item_code=item_code)
        _audit(s, principal, "attach", a, unit_code, period_code,
               after={"item": item_code, "file": a.file_name, "type": a.content_type, "size": a.size})
        return a.id


def _current_record(s: Session, record_id) -> ActivityRecord:
    r = s.get(ActivityRecord, int(record_id))
    if r is None or r.superseded_at is not None or r.withdrawn_at is not None:
        raise NotFound(f"活动记录 {record_id} 不存在或已被更正、撤回")
    return r


def attach_to_record(principal: Principal, record_id: int, file_name: str, data: bytes, db: Database | None = None,
                     store=None, max_file_bytes: int | None = None, max_unit_bytes: int | None = None) -> int:
    """Attach one file (minutes, a photo) to a current activity record of a unit the user may see."""
    require(principal, UPLOAD_ACTION)
    db = db or get_db()
    with db.session() as s:
        try:
            r = _current_record(s, record_id)
        except NotFound:
            if not principal.sees_all_units:  # staff: absent and other units' records answer alike
                raise AccessDenied(UPLOAD_ACTION) from None
            raise
        unit = s.get(OrgUnit, r.unit_id)
        require_unit(principal, UPLOAD_ACTION, unit.code)
        for p in periods_holding(s, r.held_on):
            from data.services import lock_period

            lock_period(s, p.id)
            s.refresh(p, ["status"])
        _check_record_open(s, r)
        a = _save(s, principal, unit, file_name, data, store, max_file_bytes, max_unit_bytes, record_id=r.id)
        _audit(s, principal, "attach", a, unit.code, None,
               after={"record": r.id, "activity": r.activity_type, "held_on": r.held_on, "file": a.file_name,
                      "type": a.content_type, "size": a.size})
        return a.id


def _load(s: Session, attachment_id) -> tuple[Attachment, OrgUnit]:
    try:
        a = s.get(Attachment, int(attachment_id))
    except (TypeError, ValueError):
        raise NotFound("附件不存在") from None
    if a is None or a.deleted_at is not None:
        raise NotFound("附件不存在或已删除")
    return a, s.get(OrgUnit, a.unit_id)


def _scoped_load(s: Session, principal: Principal, attachment_id, action: str) -> tuple[Attachment, OrgUnit]:
    require(principal, action)
    try:
        a, unit = _load(s, attachment_id)
    except NotFound:
        # Staff get the same answer for an absent id and another unit's id: ids cannot be probed.
        if not principal.sees_all_units:
            raise AccessDenied(action) from None
        raise
    require_unit(principal, action, unit.code)
    return a, unit


def delete_attachment(principal: Principal, attachment_id: int, db: Database | None = None) -> None:
    """Soft delete (the row and the bytes stay for the audit trail; the file disappears from every view)."""
    db = db or get_db()
    with db.session() as s:
        a, unit = _scoped_load(s, principal, attachment_id, UPLOAD_ACTION)
        if a.review_status is not None and not principal.sees_all_units:
            # The unit's own staff cannot make a file an inspector has judged disappear.
            raise InvalidAttachment(f"「{a.file_name}」已由考核组核查（{a.review_status}），不能删除；如需更正请联系考核组")
        period_code = None
        if a.record_id is not None:
            _check_record_open(s, s.get(ActivityRecord, a.record_id))
        else:
            p = s.get(Period, a.period_id)
            period_code = p.code
            _check_item_open(p)
        a.deleted_at, a.deleted_by = utcnow(), principal.id
        _audit(s, principal, "attachment_delete", a, unit.code, period_code,
               before={"file": a.file_name, "item": a.item_code, "record": a.record_id})


def review_attachment(principal: Principal, attachment_id: int, status: str, note: str = "",
                      db: Database | None = None) -> None:
    """An inspector marks a file 已核实 or 不符合 (a note is required for 不符合). A review does not
    move a score, so it is allowed after publication too (it is how on-site checks are recorded)."""
    if status not in REVIEW_STATUSES:
        raise InvalidAttachment(f"核查结论应为 {' 或 '.join(REVIEW_STATUSES)}")
    note = (note or "").strip()
    if status == REVIEW_STATUSES[1] and not note:
        raise InvalidAttachment("标记「不符合」时请填写核查意见（写明问题）")
    db = db or get_db()
    with db.session() as s:
        a, unit = _scoped_load(s, principal, attachment_id, REVIEW_ACTION)
        before = {"status": a.review_status, "note": a.review_note}
        a.review_status, a.review_note = status, note or None
        a.reviewed_by, a.reviewed_at = principal.id, utcnow()
        period_code = s.get(Period, a.period_id).code if a.period_id else None
        _audit(s, principal, "attachment_review", a, unit.code, period_code, before=before,
               after={"status": status, "note": note, "file": a.file_name})


# --------------------------------------------------------------------------- reads

@dataclass(frozen=True)
class StoredFile:
    id: int
    unit_code: str
    file_name: str
    content_type: str
    storage_key: str
    thumbnail_key: str | None


def open_for_download(principal: Principal, attachment_id, db: Database | None = None) -> StoredFile:
    """The row behind a download, after the same scope check as the unit's data (403 / 404)."""
    db = db or get_db()
    with db.session() as s:
        a, unit = _scoped_load(s, principal, attachment_id, "view_scores")
        return StoredFile(a.id, unit.code, a.file_name, a.content_type, a.storage_key, a.thumbnail_key)


def read(f: StoredFile, thumbnail: bool = False, store=None) -> bytes:
    key = f.thumbnail_key if thumbnail else f.storage_key
    if key is None:
        raise NotFound("该附件没有缩略图")
    try:
        return _store(store).get(key)
    except attachment_store.MissingObject:
        raise NotFound("附件文件缺失") from None


def _row(a: Attachment, names: dict[int, str], record: ActivityRecord | None = None) -> dict:
    return {"id": a.id, "file_name": a.file_name, "content_type": a.content_type,
            "type_label": TYPE_LABELS.get(a.content_type, a.content_type), "size": a.size,
            "has_thumbnail": a.thumbnail_key is not None, "item": a.item_code, "record_id": a.record_id,
            "record_label": (f"{record.held_on:%Y-%m-%d} {record.activity_type}" +
                             (f"「{record.topic}」" if record.topic else "")) if record is not None else None,
            "uploaded_by": names.get(a.uploaded_by, ""), "uploaded_at": a.uploaded_at,
            "review_status": a.review_status, "review_note": a.review_note,
            "reviewed_by": names.get(a.reviewed_by, ""), "reviewed_at": a.reviewed_at}


def _user_names(s: Session, ids) -> dict[int, str]:
    from data.models import User

    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(s.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def unit_records(principal: Principal, unit_code: str, period_code: str, db: Database | None = None) -> list[dict]:
    """The unit's current activity records dated inside the period (targets for a record attachment)."""
    require_unit(principal, "view_scores", unit_code)
    db = db or get_db()
    with db.session() as s:
        unit, p = _unit(s, unit_code), _period(s, period_code)
        rows = s.scalars(select(ActivityRecord).where(
            ActivityRecord.unit_id == unit.id, ActivityRecord.superseded_at.is_(None),
            ActivityRecord.withdrawn_at.is_(None), ActivityRecord.held_on >= p.start_date,
            ActivityRecord.held_on <= p.end_date).order_by(ActivityRecord.held_on, ActivityRecord.id)).all()
        return [{"id": r.id, "activity_type": r.activity_type, "held_on": r.held_on, "topic": r.topic,
                 "label": f"{r.held_on:%Y-%m-%d} {r.activity_type}" + (f"「{r.topic}」" if r.topic else "")}
                for r in rows]


def unit_attachments(principal: Principal, unit_code: str, period_code: str,
                     db: Database | None = None) -> list[dict]:
    """A unit's live files for the period: on its items, and on its current records dated in the period."""
    require_unit(principal, "view_scores", unit_code)
    db = db or get_db()
    with db.session() as s:
        unit, p = _unit(s, unit_code), _period(s, period_code)
        on_items = s.scalars(select(Attachment).where(
            Attachment.unit_id == unit.id, Attachment.period_id == p.id, Attachment.record_id.is_(None),
            Attachment.deleted_at.is_(None)).order_by(Attachment.item_code, Attachment.id)).all()
        on_records = s.execute(select(Attachment, ActivityRecord).join(
            ActivityRecord, ActivityRecord.id == Attachment.record_id).where(
            Attachment.unit_id == unit.id, Attachment.deleted_at.is_(None),
            ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None),
            ActivityRecord.held_on >= p.start_date, ActivityRecord.held_on <= p.end_date)
            .order_by(ActivityRecord.held_on, Attachment.id)).all()
        names = _user_names(s, [a.uploaded_by for a in on_items] + [a.reviewed_by for a in on_items]
                            + [a.uploaded_by for a, _ in on_records] + [a.reviewed_by for a, _ in on_records])
        return [_row(a, names) for a in on_items] + [_row(a, names, r) for a, r in on_records]


def attachment_counts(db: Database | None, record_ids) -> dict[int, int]:
    """Live attachments per activity record (for the records UI): {record_id: n}, records without files absent."""
    ids = [int(i) for i in record_ids]
    if not ids:
        return {}
    db = db or get_db()
    out: dict[int, int] = {}
    with db.session() as s:
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            chunk = ids[start:start + 900]
            out.update({rid: int(n) for rid, n in s.execute(
                select(Attachment.record_id, func.count()).where(
                    Attachment.record_id.in_(chunk), Attachment.deleted_at.is_(None))
                .group_by(Attachment.record_id)).all()})
    return out
