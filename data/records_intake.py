"""Use cases of the activity-record import: preview and one atomic commit.

The same discipline as the evidence intake (``data/evidence_service.py``): the file is checked
by ``data.intake.records.parse_records`` (every problem with file, sheet, row, column and a
Chinese remedy); a preview writes nothing; a commit re-reads everything inside ONE transaction
(period locked, status re-read, duplicates re-checked) and writes an ``UploadBatch``
(``file_format="records"``) plus every row with its provenance (batch, file, sheet, row), bumps
the data version of every unpublished period holding one of the dates and appends one audit row —
or writes nothing at all.

Who: staff for their own units, admin for any (``record_activity``). Refusals are issues in the
report, never exceptions.
"""
from __future__ import annotations

import hashlib

import pandas as pd
from sqlalchemy import select

from data import repo
from data.activity_records import activity_types
from data.db import Database, get_db
from data.intake.issues import Limits, Severity, UploadIssue
from data.intake.records import Context, RecordIssueCode, RecordsReport, parse_records
from data.models import PERIOD_STATUSES, ActivityRecord, OrgUnit, Period, UploadBatch, utcnow
from data.periods import bump_for_dates
from data.permissions import Principal, unit_scope
from data.services import audit, lock_period
from scoring.glossary import period_label

PUBLISHED = PERIOD_STATUSES[-1]
FILE_FORMAT = "records"


def _refused(data: bytes, file_name: str, message: str) -> RecordsReport:
    r = RecordsReport(file_name=file_name, file_hash=hashlib.sha256(data or b"").hexdigest())
    r.issues.append(UploadIssue(code=RecordIssueCode.REFUSED, sheet="", row=0, column="", value="",
                                message=message, severity=Severity.ERROR))
    return r


def _context(s, p: Period, principal: Principal | None, default_unit: str | None) -> Context:
    units = pd.DataFrame(s.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.valid_to.is_(None))).all(),
                         columns=["code", "name"])
    scope = unit_scope(principal) if principal is not None else None
    existing = frozenset(
        (code, t, d, topic or "") for code, t, d, topic in s.execute(
            select(OrgUnit.code, ActivityRecord.activity_type, ActivityRecord.held_on, ActivityRecord.topic)
            .join(OrgUnit, OrgUnit.id == ActivityRecord.unit_id)
            .where(ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None),
                   ActivityRecord.held_on >= p.start_date, ActivityRecord.held_on <= p.end_date)).all())
    return Context(units=units, allowed_types=activity_types(repo.table_for(p)), start=p.start_date,
                   end=p.end_date, period_code=p.code, scope=scope, default_unit=default_unit or None,
                   existing=existing)


def _check(s, data: bytes, file_name: str, period_code: str, principal: Principal | None,
           default_unit: str | None) -> tuple[Period | None, RecordsReport | None]:
    if principal is not None and not principal.can("record_activity"):
        return None, _refused(data, file_name, f"{file_name}：当前账号不能导入活动记录；请由党务干事或系统管理员导入")
    if principal is not None and unit_scope(principal) is not None and not unit_scope(principal):
        return None, _refused(data, file_name, f"{file_name}：当前账号未分配负责的单位，不能导入；请联系管理员分配单位")
    p = repo.get_period(s, str(period_code or ""))
    if p is None:
        return None, _refused(data, file_name, f"{file_name}：考核期「{period_code}」不存在；请选择系统中已有的考核期")
    if default_unit:
        scope = unit_scope(principal) if principal is not None else None
        exists = s.scalar(select(OrgUnit.id).where(OrgUnit.code == default_unit)) is not None
        if not exists or (scope is not None and default_unit not in scope):
            return None, _refused(data, file_name, f"{file_name}：所选单位「{default_unit}」不存在或不是您负责的单位")
    return p, None


def _published(file_name: str, p: Period) -> str:
    return (f"{file_name}：{period_label(p.code)}的考核结果已发布，不再接收活动记录；"
            "如需更正，请联系系统管理员重新开放该考核期")


def preview_records(principal: Principal | None, data: bytes, file_name: str, period_code: str,
                    default_unit: str | None = None, db: Database | None = None,
                    limits: Limits | None = None) -> RecordsReport:
    """Check the file; nothing is written. ``principal`` None = the CLI operator (every unit)."""
    db = db or get_db()
    with db.session() as s:
        p, refused = _check(s, data, file_name, period_code, principal, default_unit)
        if refused is not None:
            return refused
        if p.status == PUBLISHED:
            return _refused(data, file_name, _published(file_name, p))
        ctx = _context(s, p, principal, default_unit)
    return parse_records(data, file_name, ctx, limits)


def commit_records(principal: Principal | None, data: bytes, file_name: str, period_code: str,
                   default_unit: str | None = None, db: Database | None = None,
                   limits: Limits | None = None) -> tuple[RecordsReport, int | None]:
    """Check and write in one transaction: (report, batch id) — batch id None when nothing was written."""
    db = db or get_db()
    with db.session() as s:
        p, refused = _check(s, data, file_name, period_code, principal, default_unit)
        if refused is not None:
            return refused, None
        lock_period(s, p.id)  # serialise with publication and with another import of the same period
        s.refresh(p, ["status"])
        if p.status == PUBLISHED:
            return _refused(data, file_name, _published(file_name, p)), None
        report = parse_records(data, file_name, _context(s, p, principal, default_unit), limits)
        if not report.ok or report.rows.empty:
            return report, None
        rows = report.rows
        units = dict(s.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.code.in_(sorted(set(rows["unit"])))))
                     .all())
        now = utcnow()
        batch = UploadBatch(period_id=p.id, user_id=principal.id if principal else None, file_name=file_name,
                            file_hash=report.file_hash, file_format=FILE_FORMAT, status="committed",
                            n_units=len(units), n_values=len(rows), n_changed=len(rows),
                            n_warnings=len(report.warnings), committed_at=now)
        s.add(batch)
        s.flush()
        s.add_all([ActivityRecord(unit_id=units[r.unit], activity_type=r.activity_type, held_on=r.held_on,
                                  topic=r.topic, place=r.place, expected=_int(r.expected), attended=_int(r.attended),
                                  host=r.host, secretary_lectured=r.secretary_lectured, note=r.note,
                                  batch_id=batch.id, file_name=file_name, sheet=report.sheet or None, row=int(r.row),
                                  created_by=principal.id if principal else None, created_at=now)
                   for r in rows.itertuples(index=False)])
        bumped = bump_for_dates(s, None, sorted(set(rows["held_on"])))
        audit(s, principal, "records_import", entity="upload_batch", entity_id=batch.id, period_code=p.code,
              after={"file": file_name, "records": len(rows), "units": len(units), "skipped": report.n_skipped,
                     "periods": ",".join(bumped)}, username=None if principal else "cli")
        return report, batch.id


def _int(v) -> int | None:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else int(v)


def template_bytes() -> bytes:
    """The 活动记录导入模板 (xlsx): our headers with two example rows."""
    import io

    from data.intake.records import template_frame

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        template_frame(()).to_excel(xw, sheet_name="活动记录", index=False)
    return buf.getvalue()
