"""Use cases of 三会一课 activity records: add one, edit (supersede), withdraw, list.

Owns every write to ``activity_records`` outside the spreadsheet import (``data/records_intake.py``,
which reuses ``validate`` and ``apply_write_rules`` from here) and the queries the pages show.

A record is dated, not tied to a period: it counts in every period whose span holds ``held_on``.
So the write rules are about dates:

* no period holds the date → refused with a message naming the periods that exist;
* every period holding it is published (已发布) → refused 「考核结果已发布」 (an admin reopens the
  period first); the unpublished ones get a new ``data_version`` in the same transaction, because
  the score of a ``from_records`` field moves with the record (the score cache is keyed by it).

Who: staff for their own units, admin for any (action ``record_activity``); every role that sees
a unit reads its records (``view_scores`` + unit scope). Rows are never updated in place: an edit
adds a new row and marks the old one superseded; a withdrawal keeps the row with a reason. Each
write appends one audit row. It must not score anything or build page components.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from data import repo
from data.db import Database, get_db
from data.models import PERIOD_STATUSES, ActivityRecord, Attachment, OrgUnit, Period, User, utcnow
from data.permissions import NotFound, Principal, require, require_unit, unit_scope
from data.services import InvalidInput, audit, lock_period, table_for_period
from scoring.glossary import period_label

PUBLISHED = PERIOD_STATUSES[-1]
# The activity types of the issue, in the statute's order; a table version may list its own
# (``IndicatorTable.activity_types``), this is the fallback for tables that do not.
DEFAULT_ACTIVITY_TYPES = ("支部党员大会", "支委会", "党小组会", "党课", "主题党日", "组织生活会", "专题组织生活会",
                          "民主评议党员", "集中学习", "专题研讨", "党性锤炼活动", "对标共建", "谈心谈话")
TEXT_LIMITS = {"topic": ("主题", 200), "place": ("地点", 120), "host": ("主持人/主讲人", 64), "note": ("备注", 2000)}
MAX_PEOPLE = 100_000
RECORD_COLUMNS = ["id", "unit", "unit_name", "activity_type", "held_on", "topic", "place", "expected", "attended",
                  "attendance_pct", "host", "secretary_lectured", "note", "source", "created_by", "created_at"]


@dataclass(frozen=True)
class RecordInput:
    """One activity as entered (form or spreadsheet row), before validation."""

    activity_type: str
    held_on: dt.date | None
    topic: str | None = None
    place: str | None = None
    expected: int | None = None
    attended: int | None = None
    host: str | None = None
    secretary_lectured: bool | None = None
    note: str | None = None


def activity_types(table) -> tuple[str, ...]:
    return tuple(getattr(table, "activity_types", None) or DEFAULT_ACTIVITY_TYPES)


# --------------------------------------------------------------------------- validation

def validate(rec: RecordInput, allowed_types: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """Problems as (field, Chinese remedy); empty when the record may be written.

    ``allowed_types`` None skips the type-list check (the caller checks it against the periods)."""
    out: list[tuple[str, str]] = []
    t = (rec.activity_type or "").strip()
    if not t:
        out.append(("activity_type", "请选择活动类型"))
    elif allowed_types is not None and t not in allowed_types:
        out.append(("activity_type", f"活动类型「{t}」不在本考核期指标体系的活动类型中；可选：{'、'.join(allowed_types)}"))
    if not isinstance(rec.held_on, dt.date):
        out.append(("held_on", "请填写活动日期（如 2026-03-05）"))
    elif rec.held_on > dt.date.today() + dt.timedelta(days=1):
        out.append(("held_on", f"活动日期 {rec.held_on.isoformat()} 在今天之后；只能登记已开展的活动"))
    for name, label in (("expected", "应到人数"), ("attended", "实到人数")):
        v = getattr(rec, name)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > MAX_PEOPLE:
            out.append((name, f"{label}应为 0 到 {MAX_PEOPLE} 之间的整数"))
    if isinstance(rec.expected, int) and isinstance(rec.attended, int) and not isinstance(rec.attended, bool) \
            and 0 <= rec.attended and 0 <= rec.expected and rec.attended > rec.expected:
        out.append(("attended", f"实到人数（{rec.attended}）不能多于应到人数（{rec.expected}）"))
    if rec.attended is not None and rec.expected is None:
        out.append(("expected", "填写了实到人数时，请同时填写应到人数"))
    for name, (label, limit) in TEXT_LIMITS.items():
        v = getattr(rec, name)
        if v is not None and len(str(v)) > limit:
            out.append((name, f"「{label}」过长：最多 {limit} 个字符（现为 {len(str(v))} 个），请缩短"))
    if rec.secretary_lectured and t and t != "党课":
        out.append(("secretary_lectured", "「书记讲党课」只适用于党课"))
    return out


def _clean(v: str | None) -> str | None:
    v = (v or "").strip()
    return v or None


# --------------------------------------------------------------------------- periods of a date

def periods_holding(s: Session, day: dt.date) -> list[Period]:
    return list(s.scalars(select(Period).where(Period.start_date <= day, Period.end_date >= day)
                          .order_by(Period.start_date)).all())


def _bump_periods_holding(s: Session, day: dt.date, unit_id: int | None = None) -> list[str]:
    """A new data version for every unpublished period whose span holds ``day`` (the score cache key)."""
    from data.periods import bump_for_dates

    return bump_for_dates(s, unit_id, [day])


def open_periods_for(s: Session, day: dt.date) -> list[Period]:
    """The unpublished periods holding ``day``, locked; InvalidInput when there are none."""
    held = periods_holding(s, day)
    if not held:
        known = "、".join(p.code for p in s.scalars(select(Period).order_by(Period.start_date)).all()) or "（无）"
        raise InvalidInput(f"{day.isoformat()} 不在任何考核期内（现有考核期：{known}）；请检查活动日期，"
                           "或请系统管理员先建立该时段的考核期")
    for p in held:
        lock_period(s, p.id)
        s.refresh(p, ["status"])
    open_ = [p for p in held if p.status != PUBLISHED]
    if not open_:
        names = "、".join(period_label(p.code) for p in held)
        raise InvalidInput(f"{day.isoformat()} 所在的{names}考核结果已发布，不能再登记或修改该日期的活动记录；"
                           "如需更正，请由系统管理员重新开放该考核期")
    return open_


def allowed_types_for(periods: list[Period]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for p in periods:
        for t in activity_types(repo.table_for(p)):
            seen.setdefault(t, None)
    return tuple(seen)


def apply_write_rules(s: Session, rec: RecordInput) -> list[str]:
    """Inside the caller's transaction: the date's periods (locked), the type check, the bump.

    Returns the codes of the periods whose data version moved; raises InvalidInput."""
    open_ = open_periods_for(s, rec.held_on)
    problems = validate(rec, allowed_types_for(open_))
    if problems:
        raise InvalidInput("；".join(m for _f, m in problems))
    return _bump_periods_holding(s, rec.held_on)


# --------------------------------------------------------------------------- writes

def _check_input(rec: RecordInput) -> None:
    problems = validate(rec)
    if problems:
        raise InvalidInput("；".join(m for _f, m in problems))


def _unit(s: Session, code: str) -> OrgUnit:
    u = s.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if u is None:
        raise NotFound(f"单位 {code} 不存在")
    return u


def _row_dict(r: ActivityRecord) -> dict:
    return dict(activity_type=r.activity_type, held_on=r.held_on, topic=r.topic, place=r.place,
                expected=r.expected, attended=r.attended, host=r.host, secretary_lectured=r.secretary_lectured,
                note=r.note)


def _new_row(unit_id: int, rec: RecordInput, principal: Principal | None) -> ActivityRecord:
    return ActivityRecord(unit_id=unit_id, activity_type=rec.activity_type.strip(), held_on=rec.held_on,
                          topic=_clean(rec.topic), place=_clean(rec.place), expected=rec.expected,
                          attended=rec.attended, host=_clean(rec.host),
                          secretary_lectured=rec.secretary_lectured if rec.activity_type == "党课" else None,
                          note=_clean(rec.note), created_by=principal.id if principal else None)


def add_record(principal: Principal | None, unit_code: str, rec: RecordInput, db: Database | None = None) -> int:
    """Record one activity of ``unit_code``; returns the new record's id. ``principal`` None = CLI operator."""
    if principal is not None:
        require_unit(principal, "record_activity", unit_code)
    _check_input(rec)
    db = db or get_db()
    with db.session() as s:
        unit = _unit(s, unit_code)
        bumped = apply_write_rules(s, rec)
        row = _new_row(unit.id, rec, principal)
        s.add(row)
        s.flush()
        audit(s, principal, "record_add", entity="activity_record", entity_id=row.id, unit_code=unit_code,
              period_code=",".join(bumped), after=_row_dict(row), username=None if principal else "cli")
        return row.id


def _current(s: Session, record_id: int) -> tuple[ActivityRecord, OrgUnit]:
    r = s.get(ActivityRecord, record_id)
    if r is None:
        raise NotFound(f"活动记录 #{record_id} 不存在")
    return r, s.get(OrgUnit, r.unit_id)


def _check_record_access(principal: Principal | None, s: Session, record_id: int) -> tuple[ActivityRecord, OrgUnit]:
    if principal is not None:
        require(principal, "record_activity")
    r, unit = _current(s, record_id)
    if principal is not None:
        # Scope before state: another unit's record is refused the same way whether it exists or not.
        require_unit(principal, "record_activity", unit.code)
    if r.superseded_at is not None:
        raise InvalidInput(f"活动记录 #{record_id} 已被修改为新的记录，请刷新页面后对最新记录操作")
    if r.withdrawn_at is not None:
        raise InvalidInput(f"活动记录 #{record_id} 已撤回")
    return r, unit


def edit_record(principal: Principal | None, record_id: int, rec: RecordInput, db: Database | None = None) -> int:
    """Replace record ``record_id`` by a corrected one (the old row is kept, superseded); returns the new id.

    Both the old and the new date must lie in a period still open."""
    _check_input(rec)
    db = db or get_db()
    with db.session() as s:
        old, unit = _check_record_access(principal, s, record_id)
        bumped = set(apply_write_rules(s, rec))
        if old.held_on != rec.held_on:
            open_periods_for(s, old.held_on)
            bumped |= set(_bump_periods_holding(s, old.held_on))
        row = _new_row(unit.id, rec, principal)
        row.batch_id, row.file_name, row.sheet, row.row = old.batch_id, old.file_name, old.sheet, old.row
        s.add(row)
        s.flush()
        old.superseded_at = utcnow()
        old.superseded_by_id = row.id
        # The 佐证材料 (photos, minutes) belong to the activity, not to one version of its row: they
        # follow the correction, so the current record keeps them.
        s.execute(update(Attachment).where(Attachment.record_id == old.id, Attachment.deleted_at.is_(None))
                  .values(record_id=row.id))
        audit(s, principal, "record_edit", entity="activity_record", entity_id=row.id, unit_code=unit.code,
              period_code=",".join(sorted(bumped)), before={"id": old.id, **_row_dict(old)}, after=_row_dict(row),
              username=None if principal else "cli")
        return row.id


def withdraw_record(principal: Principal | None, record_id: int, reason: str, db: Database | None = None) -> None:
    """Withdraw a record entered by mistake (kept, with the reason; it no longer counts)."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("请填写撤回理由（至少 2 个字）")
    if len(reason) > 500:
        raise InvalidInput("撤回理由过长：最多 500 个字符")
    db = db or get_db()
    with db.session() as s:
        r, unit = _check_record_access(principal, s, record_id)
        open_periods_for(s, r.held_on)
        bumped = _bump_periods_holding(s, r.held_on)
        r.withdrawn_at = utcnow()
        r.withdrawn_by = principal.id if principal else None
        r.withdraw_reason = reason
        audit(s, principal, "record_withdraw", entity="activity_record", entity_id=r.id, unit_code=unit.code,
              period_code=",".join(bumped), before=_row_dict(r), after={"reason": reason},
              username=None if principal else "cli")


# --------------------------------------------------------------------------- reading

def _current_filter():
    return (ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None))


def _span(s: Session, period_code: str) -> Period:
    p = repo.get_period(s, period_code)
    if p is None:
        raise NotFound(f"考核期 {period_code} 不存在")
    return p


def _frame(s: Session, stmt) -> pd.DataFrame:
    rows = s.execute(stmt).all()
    out = []
    for r, code, name, by in rows:
        pct = (100.0 * r.attended / r.expected) if r.expected and r.attended is not None else None
        out.append(dict(id=r.id, unit=code, unit_name=name, activity_type=r.activity_type, held_on=r.held_on,
                        topic=r.topic or "", place=r.place or "", expected=r.expected, attended=r.attended,
                        attendance_pct=pct, host=r.host or "", secretary_lectured=r.secretary_lectured,
                        note=r.note or "", source=(f"{r.file_name} 第 {r.row} 行" if r.batch_id else "页面录入"),
                        created_by=by or "", created_at=r.created_at))
    return pd.DataFrame(out, columns=RECORD_COLUMNS)


def unit_records(principal: Principal, unit_code: str, period_code: str, page: int = 0, page_size: int = 20,
                 activity_type: str | None = None, db: Database | None = None) -> tuple[pd.DataFrame, int]:
    """One page of a unit's current records dated in the period (newest first) and the total count."""
    require_unit(principal, "view_scores", unit_code)
    db = db or get_db()
    page, page_size = max(0, int(page)), min(max(1, int(page_size)), 200)
    with db.session() as s:
        unit = _unit(s, unit_code)
        p = _span(s, period_code)
        where = (ActivityRecord.unit_id == unit.id, *_current_filter(),
                 ActivityRecord.held_on >= p.start_date, ActivityRecord.held_on <= p.end_date)
        if activity_type:
            where += (ActivityRecord.activity_type == activity_type,)
        total = s.scalar(select(func.count()).select_from(ActivityRecord).where(*where))
        stmt = (select(ActivityRecord, OrgUnit.code, OrgUnit.name, User.display_name)
                .join(OrgUnit, OrgUnit.id == ActivityRecord.unit_id)
                .outerjoin(User, User.id == ActivityRecord.created_by)
                .where(*where).order_by(ActivityRecord.held_on.desc(), ActivityRecord.id.desc())
                .offset(page * page_size).limit(page_size))
        return _frame(s, stmt), int(total or 0)


def unit_calendar(principal: Principal, unit_code: str, period_code: str, db: Database | None = None) -> dict:
    """The calendar strip's data: months of the period and, per activity type, the records of each month.

    ``{"months": [(year, month), ...], "types": [...], "cells": {type: {"YYYY-MM": [record dicts]}},
    "thresholds": {type: min_attendance_pct or None}}``; every record dict holds id, day, attended,
    expected, pct, below (under the table's attendance threshold for that type)."""
    require_unit(principal, "view_scores", unit_code)
    db = db or get_db()
    with db.session() as s:
        unit = _unit(s, unit_code)
        p = _span(s, period_code)
        rows = s.scalars(select(ActivityRecord).where(
            ActivityRecord.unit_id == unit.id, *_current_filter(),
            ActivityRecord.held_on >= p.start_date, ActivityRecord.held_on <= p.end_date)
            .order_by(ActivityRecord.held_on)).all()
        start, end = p.start_date, p.end_date
    months = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    table = table_for_period(period_code, db)  # the one the period is scored with (parsed once per version)
    thresholds = record_thresholds(table)
    cells: dict[str, dict[str, list]] = {}
    for r in rows:
        pct = (100.0 * r.attended / r.expected) if r.expected and r.attended is not None else None
        thr = thresholds.get(r.activity_type)
        cells.setdefault(r.activity_type, {}).setdefault(f"{r.held_on:%Y-%m}", []).append(
            dict(id=r.id, day=r.held_on.isoformat(), attended=r.attended, expected=r.expected, pct=pct,
                 topic=r.topic or "", below=bool(thr is not None and pct is not None and pct < thr)))
    types = list(activity_types(table))
    types += [t for t in cells if t not in types]
    return {"months": months, "types": types, "cells": cells, "thresholds": thresholds,
            "regular": record_rhythms(table)}


def _record_fields(table) -> list:
    return [f for f in (getattr(table, "fields", None) or {}).values() if getattr(f, "from_records", None)]


def record_thresholds(table) -> dict[str, float | None]:
    """activity type -> the table's min_attendance_pct for the field counted from it (None: no threshold)."""
    out: dict[str, float | None] = {}
    for f in _record_fields(table):
        pct = getattr(f, "min_attendance_pct", None)
        if out.get(f.from_records) is None:
            out[f.from_records] = pct
    return out


def record_rhythms(table) -> dict[str, str]:
    """activity type -> "monthly" / "quarterly" when the table asks for that rhythm."""
    return {f.from_records: f.regular for f in _record_fields(table) if getattr(f, "regular", None)}


def record_counts_by_unit(principal: Principal, period_code: str, db: Database | None = None) -> pd.DataFrame:
    """Current records per unit × type dated in the period (unit, activity_type, records, below_pct_80…):
    the raw tally, for views that need it without scoring; scoped to what the principal sees."""
    require(principal, "view_scores")
    db = db or get_db()
    scope = unit_scope(principal)
    with db.session() as s:
        p = _span(s, period_code)
        stmt = (select(OrgUnit.code, ActivityRecord.activity_type, func.count())
                .join(OrgUnit, OrgUnit.id == ActivityRecord.unit_id)
                .where(*_current_filter(), ActivityRecord.held_on >= p.start_date,
                       ActivityRecord.held_on <= p.end_date)
                .group_by(OrgUnit.code, ActivityRecord.activity_type))
        if scope is not None:
            stmt = stmt.where(OrgUnit.code.in_(sorted(scope) or [""]))
        rows = s.execute(stmt).all()
    return pd.DataFrame(rows, columns=["unit", "activity_type", "records"])


def record_history(principal: Principal, record_id: int, db: Database | None = None) -> list[dict]:
    """A record and the rows it superseded (newest first), for the 修改记录 view."""
    require(principal, "view_scores")
    db = db or get_db()
    with db.session() as s:
        r, unit = _current(s, record_id)
        require_unit(principal, "view_scores", unit.code)
        chain = [r]
        while True:
            prev = s.scalar(select(ActivityRecord).where(ActivityRecord.superseded_by_id == chain[-1].id))
            if prev is None:
                break
            chain.append(prev)
        return [dict(id=x.id, **_row_dict(x), superseded_at=x.superseded_at, withdrawn_at=x.withdrawn_at,
                     withdraw_reason=x.withdraw_reason) for x in chain]


def get_record(principal: Principal, record_id: int, db: Database | None = None) -> dict:
    db = db or get_db()
    require(principal, "view_scores")
    with db.session() as s:
        r, unit = _current(s, record_id)
        require_unit(principal, "view_scores", unit.code)
        return dict(id=r.id, unit=unit.code, current=r.superseded_at is None and r.withdrawn_at is None,
                    **_row_dict(r))


__all__ = ["DEFAULT_ACTIVITY_TYPES", "RecordInput", "activity_types", "add_record", "edit_record", "withdraw_record",
           "unit_records", "unit_calendar", "validate", "record_counts_by_unit"]
