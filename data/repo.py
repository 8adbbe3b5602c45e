"""Read queries that turn database rows into the tidy frames the scoring engine takes.

Owns every SELECT the scoring inputs need (units valid in a period with the name
they had then, current evidence, current adjustments). Pure reads: no writes here.

The large reads are set-based: a Core ``select`` runs on the driver's own cursor
(``read_frame``) and the rows go straight into columns, never through ORM objects
or SQLAlchemy ``Row``s; on PostgreSQL the evidence comes through ``COPY ... TO
STDOUT`` and pandas' C parser (``evidence_frame``).
"""
from __future__ import annotations

import contextlib
import csv
import gc
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas._libs import lib
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from data import columnar as columnar_read
from data.models import (OPEN_RECTIFICATION, RECTIFICATION_STATUSES, ActivityRecord, Adjustment, EvidenceValue,
                         GradeOverride, OrgUnit, Period, Rectification, UnitName, User)
from scoring.indicators import IndicatorTable, parse_table


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    """Rows → DataFrame. Plain tuples first: pandas probes every SQLAlchemy Row object, which
    costs seconds on half a million evidence rows."""
    return pd.DataFrame.from_records([tuple(r) for r in rows], columns=columns)


def _compiled(s: Session, stmt, literal: bool = False):
    conn = s.connection()
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True,
                                                                  "literal_binds": literal})
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[k] for k in compiled.positiontup)
    return conn, str(compiled), params


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector off while half a million row tuples are made (they hold no cycles):
    otherwise their allocation sets off collections that each walk every live object of the worker."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _fetchall(s: Session, stmt) -> list[tuple]:
    conn, sql, params = _compiled(s, stmt)
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(sql, params)
        return cur.fetchall()
    finally:
        cur.close()


def read_frame(s: Session, stmt, columns: list[str]) -> pd.DataFrame:
    """A Core select run on the DB-API cursor of the session's connection (same transaction):
    plain tuples into a frame. For plain columns (numbers, text); dates come back as the driver
    gives them."""
    with gc_paused():
        rows = _fetchall(s, stmt)
        return pd.DataFrame.from_records(rows, columns=columns, nrows=len(rows))


def read_columns(s: Session, stmt, n: int) -> list[np.ndarray]:
    """Like ``read_frame``, as ``n`` object arrays (one per selected column) with no DataFrame in
    between: on SQLite's half a million evidence rows ``DataFrame.from_records`` costs more than the fetch.

    The tuples become one 2-D object array through pandas' own C routine (the one ``from_records``
    uses): 40 ms for the evidence rows, against 80–120 ms for numpy's assignment of a list of tuples."""
    with gc_paused():
        rows = _fetchall(s, stmt)
        table = lib.to_object_array_tuples(rows) if rows else np.empty((0, n), dtype=object)
        del rows
    return [table[:, i] for i in range(n)]


def _copy_frame(s: Session, stmt, columns: list[str], dtypes: dict) -> pd.DataFrame:
    """PostgreSQL: the select's rows through COPY (CSV) and pandas' C parser: no Python object per row.
    Only for selects whose text columns can never be empty (NULL and '' both read as missing)."""
    conn, sql, _ = _compiled(s, stmt, literal=True)
    buf = io.BytesIO()
    cur = conn.connection.dbapi_connection.cursor()
    try:
        with cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buf.write(chunk)
    finally:
        cur.close()
    if not buf.tell():
        return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, object)) for c in columns}, columns=columns)
    buf.seek(0)
    return pd.read_csv(buf, header=None, names=columns, dtype=dtypes, quoting=csv.QUOTE_MINIMAL,
                       keep_default_na=False, na_values=[""])


def _dates(values: pd.Series) -> pd.Series:
    """A date column as ``read_frame`` gives it (ISO text on SQLite, ``date`` on PostgreSQL) → datetime64."""
    return pd.to_datetime(values.astype(object).where(values.notna(), None), format="ISO8601")


def unit_codes(s: Session) -> np.ndarray:
    """Unit code by unit id (an array indexed by id; ids without a unit hold None)."""
    ids = read_frame(s, select(OrgUnit.id, OrgUnit.code), ["id", "code"])
    lookup = np.full(int(ids["id"].max()) + 1 if len(ids) else 1, None, dtype=object)
    lookup[ids["id"].to_numpy(np.int64)] = ids["code"].to_numpy(object)
    return lookup


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
    deadline: object = None      # 填报截止日期 (date) or None
    late_policy: str = "warn"    # uploads after the deadline: warn / refuse
    record_source: str = "typed"  # which value counts for from_records fields (models.RECORD_SOURCES)


def period_info(p: Period) -> PeriodInfo:
    return PeriodInfo(p.id, p.code, p.kind, p.year, p.status, p.start_date, p.end_date,
                      p.table_version.version, p.data_version, p.deadline, p.late_policy or "warn",
                      p.record_source or "typed")


def get_period(s: Session, code: str) -> Period | None:
    return s.scalar(select(Period).where(Period.code == code))


def list_periods(s: Session) -> list[PeriodInfo]:
    rows = s.scalars(select(Period).options(joinedload(Period.table_version))
                     .order_by(Period.end_date.desc(), Period.code.desc())).all()
    return [period_info(p) for p in rows]


def table_for(p: Period) -> IndicatorTable:
    table, problems = parse_table(p.table_version.content)
    if table is None:  # stored versions were validated on save; this is corruption
        raise RuntimeError(f"指标体系版本 {p.table_version.version} 无法解析：{problems}")
    return table


def units_frame(s: Session, p: Period, codes: set[str] | None = None) -> pd.DataFrame:
    """Units assessed in the period, with the name they had then.

    A unit is in when it existed during the period (opened by its end, not closed before its
    start) and was not marked 不参加考核 (``excluded_from``) on or before the period's end. Its
    name is the one valid on the period's last day, or on its own last day when it closed
    (merged) during the period: old periods keep showing old names.
    """
    q = (select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.category, OrgUnit.bureau, OrgUnit.level,
                OrgUnit.kind, OrgUnit.members_full, OrgUnit.members_probationary, OrgUnit.secretary,
                OrgUnit.valid_to)
         .where(OrgUnit.valid_from <= p.end_date,
                or_(OrgUnit.valid_to.is_(None), OrgUnit.valid_to >= p.start_date),
                or_(OrgUnit.excluded_from.is_(None), OrgUnit.excluded_from > p.end_date)))
    if codes is not None:
        q = q.where(OrgUnit.code.in_(codes))
    df = read_frame(s, q.order_by(OrgUnit.code),
                    columns=["unit_id", "unit", "name", "category", "bureau", "level", "kind",
                             "members_full", "members_probationary", "secretary", "valid_to"])
    if df.empty:
        return df.drop(columns="valid_to")
    hist = read_frame(s, select(UnitName.unit_id, UnitName.name, UnitName.valid_from, UnitName.valid_to)
                      .where(UnitName.valid_from <= p.end_date)
                      .order_by(UnitName.unit_id, UnitName.valid_from, UnitName.id),
                      columns=["unit_id", "period_name", "name_from", "name_to"])
    if not hist.empty:
        end = pd.Timestamp(p.end_date)
        valid_to = _dates(df["valid_to"])
        as_of = pd.Series(valid_to.where(valid_to.notna() & (valid_to <= end), end).to_numpy(),
                          index=df["unit_id"].to_numpy())
        hist = hist[hist["unit_id"].isin(as_of.index)]
        hist = hist.assign(name_from=_dates(hist["name_from"]), name_to=_dates(hist["name_to"]))
        day = hist["unit_id"].map(as_of)
        valid = (hist["name_from"] <= day) & (hist["name_to"].isna() | (hist["name_to"] >= day))
        hist = hist[valid.astype(bool)].drop_duplicates("unit_id", keep="last")[["unit_id", "period_name"]]
        df = df.merge(hist, on="unit_id", how="left")
        df["name"] = df["period_name"].fillna(df["name"])
        df = df.drop(columns="period_name")
    return df.drop(columns="valid_to")


def evidence_frame(s: Session, period_id: int, unit_ids: list[int] | None = None, *,
                   columnar: bool = False) -> pd.DataFrame:
    """The period's current values (unit, field, value), in a fixed order: by unit, field, then row id,
    so that if a unit × field ever had two current rows the newest would come last every time
    (the engine keeps the last one). Read through the covering index ix_evidence_period_values.

    ``columnar``: read through ADBC into Arrow columns on a connection of its own (``data/columnar.py``):
    only for a read a fresh session would make, since what ``s`` has written is not seen."""
    # A current NULL is an explicit clear (「清除」): the unit has no value for the field.
    current = and_(EvidenceValue.period_id == int(period_id), EvidenceValue.superseded_at.is_(None),
                   EvidenceValue.value.is_not(None))
    if unit_ids is not None:
        current = and_(current, EvidenceValue.unit_id.in_([int(u) for u in unit_ids]))
    order = (EvidenceValue.unit_id, EvidenceValue.field, EvidenceValue.id)
    q = select(EvidenceValue.unit_id, EvidenceValue.field, EvidenceValue.value).where(current).order_by(*order)
    tab = columnar_read.arrow_table(s, q) if columnar else None
    if tab is not None and tab.num_rows:
        ids, fields, values = (columnar_read.numbers(tab.column(0), np.int64),
                               columnar_read.text_values(tab.column(1)), columnar_read.numbers(tab.column(2)))
    elif s.get_bind().dialect.name == "postgresql":
        raw = _copy_frame(s, q, ["unit_id", "field", "value"], {"unit_id": np.int64, "field": str, "value": float})
        ids, fields, values = (raw["unit_id"].to_numpy(np.int64), raw["field"].to_numpy(object),
                               raw["value"].to_numpy(float))
    else:
        ids, fields, values = read_columns(s, q, 3)
        ids, values = ids.astype(np.int64), values.astype(float)
    # Unit codes through the distinct ids (about 10,000 strings converted instead of 470,000).
    positions, distinct_ids = pd.factorize(ids)
    units = pd.array(unit_codes(s)[distinct_ids] if len(ids) else np.array([], dtype=object), dtype="str")
    return pd.DataFrame({"unit": units.take(positions),
                         "field": pd.array(fields, dtype="str"),
                         "value": values}, columns=["unit", "field", "value"])


def records_frame(s: Session, start, end, unit_ids: list[int] | None = None) -> pd.DataFrame:
    """The current activity records held in [start, end] (both included), as the engine takes them:
    ``scoring.records.RECORD_COLUMNS`` = unit (categorical code), type (categorical), held_on
    (datetime64), expected, attended (float, NaN = not filled).

    Current = neither superseded nor withdrawn. Set-based like ``evidence_frame`` (driver cursor,
    COPY on PostgreSQL; no ORM object per row), through ix_activity_current / ix_activity_held_on,
    ordered by unit, date and id.
    """
    cond = and_(ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None),
                ActivityRecord.held_on >= start, ActivityRecord.held_on <= end)
    if unit_ids is not None:
        cond = and_(cond, ActivityRecord.unit_id.in_([int(u) for u in unit_ids]))
    cols = ["unit_id", "type", "held_on", "expected", "attended"]
    q = (select(ActivityRecord.unit_id, ActivityRecord.activity_type, ActivityRecord.held_on,
                ActivityRecord.expected, ActivityRecord.attended).where(cond)
         .order_by(ActivityRecord.unit_id, ActivityRecord.held_on, ActivityRecord.id))
    if s.get_bind().dialect.name == "postgresql":
        raw = _copy_frame(s, q, cols, {"unit_id": np.int64, "type": str, "held_on": str, "expected": float,
                                       "attended": float})
    else:
        raw = read_frame(s, q, cols)
    ids = raw["unit_id"].to_numpy(np.int64)
    codes, uniq = pd.factorize(ids)
    by_id = unit_codes(s) if len(ids) else np.array([], dtype=object)
    unit = pd.Categorical.from_codes(codes, categories=pd.Index(by_id[uniq] if len(uniq) else [], dtype=object))
    held = raw["held_on"]
    if held.dtype.kind != "M":  # ISO text (SQLite, COPY) or date objects (a driver's own conversion)
        held = pd.to_datetime(held.astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    return pd.DataFrame({"unit": unit, "type": pd.Categorical(raw["type"].to_numpy(object)),
                         "held_on": held.to_numpy(dtype="datetime64[ns]"),
                         "expected": pd.to_numeric(raw["expected"], errors="coerce").to_numpy(float),
                         "attended": pd.to_numeric(raw["attended"], errors="coerce").to_numpy(float)})


def adjustments_frame(s: Session, period_id: int) -> pd.DataFrame:
    q = (select(OrgUnit.code, Adjustment.item_code, Adjustment.kind, Adjustment.points, Adjustment.reason,
                User.display_name)
         .join(OrgUnit, OrgUnit.id == Adjustment.unit_id)
         .outerjoin(User, User.id == Adjustment.created_by)
         .where(Adjustment.period_id == period_id, Adjustment.superseded_at.is_(None)))
    df = read_frame(s, q.order_by(Adjustment.id), columns=["unit", "item", "kind", "points", "reason", "by"])
    df["points"] = df["points"].astype(float)
    return df


def overrides_frame(s: Session, period_id: int) -> pd.DataFrame:
    """Current 直接定级 of a period (withdrawals, grade None, are not listed)."""
    q = (select(OrgUnit.code, GradeOverride.grade, GradeOverride.reason, User.display_name, GradeOverride.created_at)
         .join(OrgUnit, OrgUnit.id == GradeOverride.unit_id)
         .outerjoin(User, User.id == GradeOverride.created_by)
         .where(GradeOverride.period_id == period_id, GradeOverride.superseded_at.is_(None),
                GradeOverride.grade.is_not(None)))
    return _frame(s.execute(q).all(), columns=["unit", "grade", "reason", "by", "at"])


def overdue_counts(s: Session, as_of, period_id: int | None = None) -> dict[str, int]:
    """整改 items that were open and past their deadline on the date ``as_of``, per unit code.

    Open on that date: not closed (销号) by then — closed later counts as open then — or
    reopened (回头看重开) by then. With ``as_of`` = today this is the items open now and overdue. ``period_id``: that period's items only.
    """
    open_then = or_(Rectification.closed_at.is_(None), Rectification.closed_at > as_of,
                    and_(Rectification.status == OPEN_RECTIFICATION[-1], Rectification.recheck_at <= as_of))
    q = (select(OrgUnit.code, func.count(Rectification.id))
         .join(OrgUnit, OrgUnit.id == Rectification.unit_id)
         # A withdrawn item (已撤回, entered by mistake) was never a problem of the unit.
         .where(Rectification.deadline < as_of, open_then, Rectification.status != RECTIFICATION_STATUSES[-1]))
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
           "overrides_frame", "adjustments_frame", "overdue_counts", "previous_period"]
