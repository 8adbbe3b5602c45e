"""Work-summary figures (工作量统计) against sums computed here from the raw evidence rows in the database."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from data import services
from data.models import ActivityRecord, EvidenceValue, OrgUnit, Period, Rectification
from data.permissions import Principal
from data.work_summary import FIGURES, MISSING, field_totals, work_summary

PERIOD = "2026H1"
LEADER = Principal(1, "leader", "张局长", "leader")


def _raw(db, bureau=None) -> dict[str, dict[str, float]]:
    """field → {unit code: value}, from the current (not superseded) evidence rows; for a field the table
    derives from activity records, a unit with current records of that type dated in the period counts
    them (every one held; a 是/否 field counts 1) instead of its typed value (data/work_summary.py)."""
    q = (select(OrgUnit.code, OrgUnit.bureau, EvidenceValue.field, EvidenceValue.value)
         .join(OrgUnit, OrgUnit.id == EvidenceValue.unit_id).join(Period, Period.id == EvidenceValue.period_id)
         .where(Period.code == PERIOD, EvidenceValue.superseded_at.is_(None)))
    out: dict[str, dict[str, float]] = {}
    with db.session() as s:
        for code, b, field, value in s.execute(q).all():
            if bureau is None or b == bureau:
                out.setdefault(field, {})[code] = float(value)
        start, end = s.execute(select(Period.start_date, Period.end_date).where(Period.code == PERIOD)).one()
        held: dict[tuple[str, str], int] = {}
        for code, b, t in s.execute(
                select(OrgUnit.code, OrgUnit.bureau, ActivityRecord.activity_type)
                .join(OrgUnit, OrgUnit.id == ActivityRecord.unit_id)
                .where(ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None),
                       ActivityRecord.held_on >= start, ActivityRecord.held_on <= end)).all():
            if bureau is None or b == bureau:
                held[(code, t)] = held.get((code, t), 0) + 1
    table = services.table_for_period(PERIOD, db)
    for name, f in table.fields.items():
        if not f.from_records:
            continue
        for (code, t), n in held.items():
            if t == f.from_records:
                out.setdefault(name, {})[code] = 1.0 if f.kind == "bool" else float(n)
    return out


def _check(db, bureau):
    raw = _raw(db, bureau)
    s = work_summary(LEADER, PERIOD, bureau, db)
    by_key = s.figures.set_index("key")
    assert len(s.figures) == len(FIGURES)
    names = services.scoring_inputs(PERIOD, db).units.set_index("unit")["name"]
    checked = 0
    for f in FIGURES:
        row = by_key.loc[f.key]
        if f.source is None:
            assert not row["known"] and row["text"] == MISSING and row["contributors"] == []
            continue
        kind, arg = f.source
        if kind == "sum":
            expected = sum(v for field in arg for v in raw.get(field, {}).values() if v >= 0)
            who = {u for field in arg for u, v in raw.get(field, {}).items() if v > 0}
        elif kind == "yes":
            expected = sum(1 for v in raw.get(arg, {}).values() if v > 0)
            who = {u for u, v in raw.get(arg, {}).items() if v > 0}
        else:
            continue
        assert row["known"] and row["value"] == pytest.approx(expected), f.key
        assert set(row["contributors"]) == {names[u] for u in who}, f.key
        checked += 1
    assert checked >= 20
    return s


def test_figures_equal_sums_of_the_raw_evidence_rows(demo_db):
    s = _check(demo_db, None)
    assert s.figures.set_index("key").loc["committee_meetings", "value"] > 0
    assert s.figures.set_index("key").loc["units_inspected", "value"] == len(services.score_period(PERIOD, demo_db).units)


def test_figures_of_one_bureau(demo_db):
    s = _check(demo_db, "临河县局")
    units = services.scoring_inputs(PERIOD, demo_db).units
    assert s.n_units == int((units["bureau"] == "临河县局").sum())


def test_rectification_figures_count_the_period_items(demo_db):
    with demo_db.session() as s:
        rows = s.execute(select(Rectification.status, Rectification.recheck_at)
                         .join(Period, Period.id == Rectification.period_id).where(Period.code == PERIOD)).all()
    fig = work_summary(LEADER, PERIOD, db=demo_db).figures.set_index("key")["value"]
    assert fig["problems_found"] == len(rows)
    assert fig["problems_closed"] == sum(st in ("已销号", "回头看通过") for st, _ in rows)
    assert fig["problems_rechecked"] == sum(at is not None for _, at in rows)


def test_ranking_panel_and_summary_share_one_computation(demo_db):
    staff = Principal(5, "staff_sj", "x", "staff", frozenset({"C01"}))
    panel = services.evidence_summary(staff, PERIOD, demo_db)
    direct = field_totals(staff, PERIOD, db=demo_db)
    assert panel.drop(columns="contributors").equals(direct.drop(columns="contributors"))
    raw = _raw(demo_db)
    row = panel.set_index("field").loc["committee_meetings"]
    assert row["figure"] == raw["committee_meetings"]["C01"] and row["units"] == 1


def test_work_summary_on_both_databases(db):
    """SQLite and PostgreSQL give the same figures from the same demo."""
    from data.demo import seed_database

    seed_database(db)
    _check(db, "城东区局")
