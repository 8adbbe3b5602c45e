"""Serving 佐证材料: sign-in and unit scope on the server, always a download (never inline HTML), nosniff."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from data import attachment_store, attachments
from data.models import Attachment
from tests.conftest import login
from tests.data.test_attachments import HTML, PDF, PNG, principal


def _attach(db, unit="X0031", name="照片.png", data=None, item="C1") -> int:
    return attachments.attach_to_item(principal(db, "inspector"), "2026H1", unit, item, name, data or PNG(), db=db)


def _safe(resp):
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "text/html" not in resp.headers["Content-Type"]
    assert "sandbox" in resp.headers["Content-Security-Policy"]


def test_download_is_an_attachment_with_the_detected_type(client, app_db):
    pdf = _attach(app_db, name="会议记录.png", data=PDF())  # a PDF named .png: served as what it is
    png = _attach(app_db, name="照片.png")
    login(client, "staff")
    r = client.get(f"/attachments/{pdf}/file")
    assert r.status_code == 200
    _safe(r)
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E8%AE%B0%E5%BD%95.pdf" in r.headers["Content-Disposition"]
    assert r.data[:5] == b"%PDF-"
    r = client.get(f"/attachments/{png}/file")
    _safe(r)
    assert r.headers["Content-Type"] == "image/png" and r.headers["Content-Disposition"].startswith("attachment;")
    r = client.get(f"/attachments/{png}/thumb")
    _safe(r)
    assert r.headers["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(r.data)) as im:
        assert im.format == "PNG"


def test_html_disguised_as_png_is_refused_at_upload(app_db):
    with pytest.raises(attachments.InvalidAttachment) as e:
        _attach(app_db, name="活动照片.png", data=HTML)
    assert "活动照片.png" in str(e.value)


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf"])
def test_html_bytes_in_the_store_are_still_served_as_a_download(client, app_db, content_type):
    """A tampered store (HTML written straight under a file's key) never reaches the browser as a page."""
    aid = _attach(app_db, data=PNG() if content_type == "image/png" else PDF())
    with app_db.session() as s:
        a = s.get(Attachment, aid)
        key, thumb = a.storage_key, a.thumbnail_key
    store = attachment_store.default_store()
    original = store.get(key), store.get(thumb)
    try:
        store.put(key, HTML)
        store.put(thumb, HTML)
        login(client, "inspector")
        for url in (f"/attachments/{aid}/file", f"/attachments/{aid}/thumb"):
            r = client.get(url)
            assert r.status_code == 200 and r.data == HTML
            _safe(r)
        assert client.get(f"/attachments/{aid}/file").headers["Content-Disposition"].startswith("attachment;")
        assert client.get(f"/attachments/{aid}/thumb").headers["Content-Type"] == "image/png"
    finally:
        store.put(key, original[0])
        store.put(thumb, original[1])


def test_staff_of_another_unit_get_403_and_signed_out_users_the_login(client, app_db):
    aid = _attach(app_db, unit="C02")
    r = client.get(f"/attachments/{aid}/file")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    login(client, "staff")  # 临河县局, not C02
    for url in (f"/attachments/{aid}/file", f"/attachments/{aid}/thumb", "/attachments/999999/file"):
        r = client.get(url)
        assert r.status_code == 403, url
        assert b"\x89PNG" not in r.data


def test_deleted_and_unknown_files_are_404_for_inspectors(client, app_db):
    aid = _attach(app_db, unit="C02")
    attachments.delete_attachment(principal(app_db, "inspector"), aid, db=app_db)
    login(client, "inspector")
    assert client.get(f"/attachments/{aid}/file").status_code == 404
    assert client.get("/attachments/999999/file").status_code == 404


def test_demo_files_are_served(client, app_db):
    with app_db.session() as s:
        aid = s.scalar(select(Attachment.id).where(Attachment.content_type == "application/pdf").limit(1))
    login(client, "leader")
    r = client.get(f"/attachments/{aid}/thumb")
    assert r.status_code == 200 and r.data[:4] == b"\x89PNG"
