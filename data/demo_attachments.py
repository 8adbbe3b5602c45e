"""Demo 佐证材料: small generated PDFs (meeting minutes) and PNGs (activity photos) attached to some
units' items of the open period and to some activity records, a couple already reviewed.

Called at the end of ``data.demo.seed_database``. The files are drawn once per process with
matplotlib and checked by the same ``data.attachments.prepare`` as an upload (type by content,
re-encoding, thumbnails); the rows are written directly (the demo has no signed-in user).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from functools import lru_cache

from sqlalchemy import insert, select

from data import attachments
from data.db import Database
from data.models import REVIEW_STATUSES, ActivityRecord, Attachment, OrgUnit, Period, User

OPEN_PERIOD = "2026H1"
ITEMS = ("A1", "C1", "C2", "C4", "E1")


@lru_cache(maxsize=1)
def demo_files() -> dict[str, attachments.Prepared]:
    """name → prepared file (two PDFs, two PNGs), made once per process."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reports.fonts import chart_font

    font = chart_font()
    rc = {"font.family": [font]} if font else {}
    out = {}
    with plt.rc_context(rc):
        for name, title, lines in (
                ("支委会会议记录（演示）.pdf", "支部委员会会议记录", ["时间：2026年3月12日", "地点：党员活动室",
                                                         "应到 5 人，实到 5 人", "议题：研究部署季度党建工作"]),
                ("集中学习签到表（演示）.pdf", "集中学习签到表", ["学习主题：党的二十届四中全会精神",
                                                      "应到 12 人，实到 11 人", "主持人：支部书记"])):
            fig = plt.figure(figsize=(4.13, 5.83))  # A6 portrait
            fig.text(0.5, 0.9, title, ha="center", fontsize=14, weight="bold")
            for k, line in enumerate(lines):
                fig.text(0.1, 0.78 - 0.07 * k, line, fontsize=9)
            buf = io.BytesIO()
            fig.savefig(buf, format="pdf")
            plt.close(fig)
            out[name] = attachments.prepare(buf.getvalue(), name)
        for name, color in (("主题党日活动照片（演示）.png", "#c0392b"), ("党员大会现场（演示）.png", "#2e86c1")):
            fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
            ax.bar(range(6), [3, 5, 4, 6, 5, 7], color=color)
            ax.set_title(name.split("（")[0])
            ax.set_xticks([])
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            plt.close(fig)
            out[name] = attachments.prepare(buf.getvalue(), name)
    return out


def seed_attachments(db: Database, store=None, n_units: int = 16) -> int:
    """Attach demo files; returns the number of attachment rows written."""
    files = demo_files()
    st = store if store is not None else attachments.attachment_store.default_store()
    for prep in files.values():
        st.put(attachments._key(prep.data, prep.content_type), prep.data)
        if prep.thumbnail is not None:
            st.put(attachments._key(prep.data, prep.content_type, thumb=True), prep.thumbnail)
    names = list(files)
    with db.session() as s:
        period = s.scalar(select(Period).where(Period.code == OPEN_PERIOD))
        if period is None:
            return 0
        users = dict(s.execute(select(User.username, User.id)).all())
        staff, inspector = users.get("staff"), users.get("inspector")
        units = s.execute(select(OrgUnit.code, OrgUnit.id).order_by(OrgUnit.code)).all()
        chosen = [u for u in units if u[0].startswith("C")][:n_units] + [u for u in units if u[0] == "X0031"]
        seeded_at = dt.datetime.combine(period.start_date, dt.time(9)) + dt.timedelta(days=60)
        rows = []

        def row(unit_id, name, **where):
            prep = files[name]
            return dict(unit_id=unit_id, file_name=name, content_type=prep.content_type, size=len(prep.data),
                        sha256=hashlib.sha256(prep.data).hexdigest(),
                        storage_key=attachments._key(prep.data, prep.content_type),
                        thumbnail_key=(attachments._key(prep.data, prep.content_type, thumb=True)
                                       if prep.thumbnail is not None else None),
                        uploaded_by=staff, uploaded_at=seeded_at + dt.timedelta(hours=len(rows)), **where)

        for k, (code, uid) in enumerate(chosen):
            for j in range(1 + k % 2):
                rows.append(row(uid, names[(k + j) % len(names)], period_id=period.id,
                                item_code=ITEMS[(k + 2 * j) % len(ITEMS)]))
        records = s.execute(select(ActivityRecord.id, ActivityRecord.unit_id).where(
            ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None))
            .order_by(ActivityRecord.id).limit(8)).all()
        for k, (rid, uid) in enumerate(records):
            rows.append(row(uid, names[2 + k % 2] if k % 3 else names[0], record_id=rid))
        if rows:
            reviewed_at = seeded_at + dt.timedelta(days=20)
            rows[0].update(review_status=REVIEW_STATUSES[0], review_note="与会议记录原件一致",
                           reviewed_by=inspector, reviewed_at=reviewed_at)
            if len(rows) > 3:
                rows[3].update(review_status=REVIEW_STATUSES[1], review_note="签到表缺少参会人员签名",
                               reviewed_by=inspector, reviewed_at=reviewed_at)
            s.execute(insert(Attachment), rows)
    return len(rows)
