"""HTTP routes that serve 佐证材料: the file (always a download) and its thumbnail (a re-encoded PNG).

Sign-in is enforced by ``auth``'s request guard; the unit scope by ``data.attachments.open_for_download``
(the same rule as the unit's data: staff only their own units → 403). What the browser receives
is never decided by the stored bytes: the file goes out with ``Content-Disposition: attachment``
and the type detected at upload (a neutral ``application/octet-stream`` for documents), the
thumbnail as ``image/png``; every response carries ``X-Content-Type-Options: nosniff`` and a
sandboxing CSP, so even bytes that are HTML (a tampered store) are never rendered as a page.
"""
from __future__ import annotations

import io
import os

from flask import Blueprint, Flask, abort, send_file

from auth import current_principal
from data import attachments

bp = Blueprint("attachments", __name__)
SAFE_INLINE = ("image/png", "image/jpeg")  # only what Pillow re-encoded at upload
SANDBOX_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; sandbox"


def _harden(resp):
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = SANDBOX_CSP
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _download_name(f: attachments.StoredFile) -> str:
    stem = os.path.splitext(f.file_name)[0] or "附件"
    return f"{stem}.{attachments.EXTENSIONS.get(f.content_type, 'bin')}"


@bp.route("/attachments/<int:attachment_id>/file")
def download(attachment_id: int):
    p = current_principal()
    if p is None:
        abort(401)
    f = attachments.open_for_download(p, attachment_id)
    data = attachments.read(f)
    mimetype = f.content_type if f.content_type in SAFE_INLINE else "application/octet-stream"
    resp = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=_download_name(f),
                     max_age=0)
    return _harden(resp)


@bp.route("/attachments/<int:attachment_id>/thumb")
def thumbnail(attachment_id: int):
    p = current_principal()
    if p is None:
        abort(401)
    f = attachments.open_for_download(p, attachment_id)
    data = attachments.read(f, thumbnail=True)
    resp = send_file(io.BytesIO(data), mimetype="image/png", as_attachment=False, max_age=0)
    return _harden(resp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
