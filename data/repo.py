"""Read queries that turn database rows into the tidy frames the scoring engine takes.

Owns every SELECT the scoring inputs need (units valid in a period with the name
they had then, current evidence, current adjustments). Pure reads: no writes here.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from data.models import OPEN_RECTIFICATION, Adjustment, EvidenceValue, OrgUnit, Period, Rectification, UnitName, User
from scoring.indicators import IndicatorTable, parse_table


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    """Rows → DataFrame. Plain tuples first: pandas probes every SQLAlchemy Row object, which
    costs seconds on half a million evidence rows."""
    return pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)


@dataclass(frozen=True)
class PeriodInfo:
    id: int
    code: str
    kind: str  # H1 / year
    year: int
    status: str
    start_date: object
    end_date: object
    table_version: str
    data_version: int


def period_info(p: Period) -> PeriodInfo:
    return PeriodInfo(p.id, p.code, p.kind, p.year, p.status, p.start_date, p.end_date,
                      p.table_version.version, p.data_version)


def get_period(s: Session, code: str) -> Period | None:
    return s.scalar(select(Period).where(Period.code == code))


def list_periods(s: Session) -> list[PeriodInfo]:
    rows = s.scalars(select(Period).order_by(Period.end_date.desc(), Period.code.desc())).all()
    return [period_info(p) for p in rows]


def table_for(p: Period) -> IndicatorTable:
    table, problems = parse_table(p.table_version.content)
    if table is None:  # stored versions were validated on save; this is corruption
        raise RuntimeError(f"指标体系版本 {p.table_version.version} 无法解析：{problems}")
    return table


def units_frame(s: Session, p: Period, codes: set[str] | None = None) -> pd.DataFrame:
    """Units that existed during the period, with the name they had at its end."""
    q = (select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.category, OrgUnit.bureau, OrgUnit.level,
                OrgUnit.kind, OrgUnit.members_full, OrgUnit.members_probationary, OrgUnit.secretary)
         .where(OrgUnit.valid_from <= p.end_date,
                or_(OrgUnit.valid_to.is_(None), OrgUnit.valid_to >= p.start_date)))
    if codes is not None:
        q = q.where(OrgUnit.code.in_(codes))
    df = _frame(s.execute(q.order_by(OrgUnit.code)).all(),
                columns=["unit_id", "unit", "name", "category", "bureau", "level", "kind",
                         "members_full", "members_probationary", "secretary"])
    if df.empty:
        return df
    hist = pd.DataFrame(s.execute(
        select(UnitName.unit_id, UnitName.name).where(
            UnitName.valid_from <= p.end_date,
            or_(UnitName.valid_to.is_(None), UnitName.valid_to >= p.end_date))).all(),
        columns=["unit_id", "period_name"])
    if not hist.empty:
        hist = hist.drop_duplicates("unit_id", keep="last")
        df = df.merge(hist, on="unit_id", how="left")
        df["name"] = df["period_name"].fillna(df["name"])
        df = df.drop(columns="period_name")
    return df


def evidence_frame(s: Session, period_id: int, unit_ids: list[int] | None = None) -> pd.DataFrame:
    q = (select(OrgUnit.code, EvidenceValue.field, EvidenceValue.value)
         .join(OrgUnit, OrgUnit.id == EvidenceValue.unit_id)
         .where(EvidenceValue.period_id == period_id, EvidenceValue.superseded_at.is_(None)))
    if unit_ids is not None:
        q = q.where(EvidenceValue.unit_id.in_(unit_ids))
    df = _frame(s.execute(q).all(), columns=["unit", "field", "value"])
    df["value"] = df["value"].astype(float)
    return df


def adjustments_frame(s: Session, period_id: int) -> pd.DataFrame:
    q = (select(OrgUnit.code, Adjustment.item_code, Adjustment.kind, Adjustment.points, Adjustment.reason,
                User.display_name)
         .join(OrgUnit, OrgUnit.id == Adjustment.unit_id)
         .outerjoin(User, User.id == Adjustment.created_by)
         .where(Adjustment.period_id == period_id, Adjustment.superseded_at.is_(None)))
    df = _frame(s.execute(q).all(), columns=["unit", "item", "kind", "points", "reason", "by"])
    df["points"] = df["points"].astype(float)
    return df


def overdue_counts(s: Session, today, period_id: int | None = None) -> dict[str, int]:
    """Open 整改 items past their deadline as of ``today``, per unit code (of one period, or of all)."""
    q = (select(OrgUnit.code, func.count(Rectification.id))
         .join(OrgUnit, OrgUnit.id == Rectification.unit_id)
         .where(Rectification.status.in_(OPEN_RECTIFICATION), Rectification.deadline < today))
    if period_id is not None:
        q = q.where(Rectification.period_id == period_id)
    rows = s.execute(q.group_by(OrgUnit.code)).all()
    return {code: n for code, n in rows}


def previous_period(s: Session, p: Period, same_kind: bool = True) -> Period | None:
    q = select(Period).where(Period.end_date < p.end_date)
    if same_kind:
        q = q.where(Period.kind == p.kind)
    return s.scalar(q.order_by(Period.end_date.desc()).limit(1))


__all__ = ["PeriodInfo", "get_period", "list_periods", "table_for", "units_frame", "evidence_frame",
           "adjustments_frame", "overdue_counts", "previous_period"]
