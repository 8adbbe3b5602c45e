"""直接定级: an inspector sets a unit's grade outright, with a reason, when the table allows it.

Owns recording and withdrawing a grade override (superseded, never updated; audited; one
transaction) and reading the current one for a unit. The engine applies overrides last (see
``scoring.engine._grades``); a table without ``allow_override: true`` refuses them here and
ignores stored ones there.
"""
from __future__ import annotations

from sqlalchemy import select

from data.db import Database, get_db
from data.models import GradeOverride, utcnow
from data.permissions import Principal, require_unit
from data.services import (InvalidInput, _not_published, _period_or_404, _unit_or_404, audit, bump,
                           table_for_period)


def set_grade_override(principal: Principal, period_code: str, unit_code: str, grade: str | None, reason: str,
                       db: Database | None = None) -> int:
    """Record 直接定级 ``grade`` for a unit (None withdraws the current one); returns the row id."""
    require_unit(principal, "judge", unit_code)
    db = db or get_db()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写直接定级的依据（必填），如「年度荣获区级及以上先进基层党组织」")
    table = table_for_period(period_code, db)
    if not table.allow_override:
        raise InvalidInput(f"本期指标体系（{table.version} 版）未允许直接定级")
    if grade is not None and grade not in table.grade_order():
        raise InvalidInput(f"等次「{grade}」不在本期指标体系的等次中（{'、'.join(table.grade_order())}）")
    with db.session() as s:
        p = _period_or_404(s, period_code)
        _not_published(p)
        unit = _unit_or_404(s, unit_code)
        old = s.scalars(select(GradeOverride).where(
            GradeOverride.period_id == p.id, GradeOverride.unit_id == unit.id,
            GradeOverride.superseded_at.is_(None))).all()
        before = {"grade": old[0].grade, "reason": old[0].reason} if old else None
        if grade is None and not (old and old[0].grade):
            raise InvalidInput("该单位本期没有直接定级，无需撤销")
        now = utcnow()
        for o in old:
            o.superseded_at = now
        row = GradeOverride(period_id=p.id, unit_id=unit.id, grade=grade, reason=reason, created_by=principal.id,
                            created_at=now)
        s.add(row)
        s.flush()
        bump(s, p.id)
        audit(s, principal, "grade_override" if grade else "grade_override_withdrawn", entity="grade_override",
              entity_id=row.id, period_code=period_code, unit_code=unit_code, before=before,
              after={"grade": grade, "reason": reason})
        return row.id


def current_override(period_code: str, unit_code: str, db: Database | None = None) -> dict | None:
    """{grade, reason} of the unit's current 直接定级, or None."""
    db = db or get_db()
    with db.session() as s:
        p = _period_or_404(s, period_code)
        unit = _unit_or_404(s, unit_code)
        row = s.scalar(select(GradeOverride).where(
            GradeOverride.period_id == p.id, GradeOverride.unit_id == unit.id, GradeOverride.superseded_at.is_(None)))
        return {"grade": row.grade, "reason": row.reason} if row is not None and row.grade else None
