"""The demo's activity records against its typed counts, derived here from the rows (not from the generator):
they agree everywhere except the documented irregular units, and the irregular patterns are really there."""
from __future__ import annotations

import collections
import datetime as dt

from sqlalchemy import select

from data.models import ActivityRecord, EvidenceValue, OrgUnit, Period

# The default table's count fields and the activity type each counts (indicator-table.md, 三会一课 rhythm).
FIELD_TYPE = {"committee_meetings": "支委会", "general_meetings": "支部党员大会", "group_meetings": "党小组会",
              "party_lectures": "党课", "theme_days": "主题党日", "study_sessions": "集中学习",
              "seminar_sessions": "专题研讨", "spirit_activities": "党性锤炼活动",
              "benchmarking_visits": "对标共建", "org_life_meeting": "组织生活会",
              "special_org_life": "专题组织生活会", "member_appraisal": "民主评议党员"}  # 是/否: one record for 是


def _load(db):
    with db.session() as s:
        spans = {c: (a, b) for c, a, b in s.execute(select(Period.code, Period.start_date, Period.end_date))}
        typed = {(p, u, f): v for p, u, f, v in s.execute(
            select(Period.code, OrgUnit.code, EvidenceValue.field, EvidenceValue.value)
            .join(Period, Period.id == EvidenceValue.period_id).join(OrgUnit, OrgUnit.id == EvidenceValue.unit_id)
            .where(EvidenceValue.superseded_at.is_(None), EvidenceValue.field.in_(FIELD_TYPE)))}
        recs = s.execute(select(OrgUnit.code, ActivityRecord.activity_type, ActivityRecord.held_on,
                                ActivityRecord.expected, ActivityRecord.attended)
                         .join(OrgUnit, OrgUnit.id == ActivityRecord.unit_id)
                         .where(ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None))).all()
    by = collections.defaultdict(list)
    for u, t, d, e, a in recs:
        for p, (lo, hi) in spans.items():
            if lo <= d <= hi:
                by[(p, u, t)].append((d, e, a))
    return typed, by


def test_records_reproduce_typed_counts_except_the_documented_differences(demo_db):
    typed, by = _load(demo_db)
    differ = {}
    for (p, u, f), v in typed.items():
        n = len(by.get((p, u, FIELD_TYPE[f]), []))
        if n != int(v):
            differ[(p, u, f)] = (int(v), n)
    # C11 and X0032 typed one 支委会 more than they recorded in 2026H1; nothing else differs.
    assert set(differ) == {("2026H1", "C11", "committee_meetings"), ("2026H1", "X0032", "committee_meetings")}
    assert all(n == v - 1 for v, n in differ.values())
    agree = len(typed) - len(differ)
    assert agree > 500  # most (unit, field) pairs of the demo are backed by records


def test_irregular_patterns_and_low_attendance_are_in_the_demo(demo_db):
    _typed, by = _load(demo_db)
    months = lambda p, u, t: {d.month for d, _e, _a in by[(p, u, t)]}  # noqa: E731
    assert months("2025", "C06", "支委会") == {12} and len(by[("2025", "C06", "支委会")]) > 1
    assert not months("2025", "C07", "支委会") & {7, 8} and not months("2025", "C07", "主题党日") & {7, 8}
    assert months("2026H1", "C08", "支委会") == {6}
    assert not months("2026H1", "C09", "主题党日") & {3, 4}
    low = {(p, u, t) for (p, u, t), rows in by.items() for _d, e, a in rows if e and a / e < 0.8}
    assert low == {("2026H1", "C10", "支委会"), ("2026H1", "X0031", "支委会")}
    # Every record is dated inside a period and never in the future.
    assert all(d <= dt.date.today() for rows in by.values() for d, _e, _a in rows)


def test_demo_periods_keep_typed_as_the_record_source(demo_db):
    with demo_db.session() as s:
        assert dict(s.execute(select(Period.code, Period.record_source)).tuples().all()) == {"2025": "typed", "2026H1": "typed"}


def test_the_score_record_counts_agree_with_typed_except_where_the_demo_differs(demo_db):
    """The engine's typed-vs-records comparison (valid records: attendance ≥ 80 % as the 2026 table asks) on
    the demo: equal everywhere but the two units that typed one more and the two with one low-attendance
    meeting; the branch view shows those differences."""
    from data import record_views, services
    from data.accounts import principal_by_name

    services.clear_cache()
    rc = services.score_period("2026H1", demo_db).record_counts
    typed, _by = _load(demo_db)
    assert len(rc) and set(rc["field"]) <= set(FIELD_TYPE)
    rc = rc[rc["typed"].notna()]
    # The engine's typed column is the stored typed value (derived here from the rows, not the engine).
    assert all(float(r.typed) == typed[("2026H1", r.unit, r.field)] for r in rc.itertuples())
    differ = {(r.unit, r.field) for r in rc.itertuples() if float(r.typed) != float(r.records)}
    assert differ == {(u, "committee_meetings") for u in ("C10", "X0031", "C11", "X0032")}
    leader = principal_by_name("leader", demo_db)
    view = {r["field"]: r for r in record_views.unit_comparison(leader, "X0031", "2026H1", db=demo_db)}
    c1 = view["committee_meetings"]
    assert c1["diff"] == 1 and c1["below"] == 1 and c1["used"] == "typed"
    assert all(r["diff"] == 0 for f, r in view.items() if f != "committee_meetings" and r["diff"] is not None)


def test_regularity_lists_the_irregular_units_within_scope_and_bureau(demo_db):
    from data import record_views, services
    from data.accounts import principal_by_name

    services.clear_cache()
    leader, staff = principal_by_name("leader", demo_db), principal_by_name("staff", demo_db)
    df = record_views.regularity(leader, "2026H1", db=demo_db)
    c08 = df[(df["unit"] == "C08") & (df["activity_type"] == "支委会")].iloc[0]
    assert c08["missing"] == "1 月、2 月、3 月、4 月、5 月" and c08["n_missing"] == 5
    c09 = df[(df["unit"] == "C09") & (df["activity_type"] == "主题党日")].iloc[0]
    assert "3 月" in c09["missing"] and "4 月" in c09["missing"]
    assert list(df["n_missing"]) == sorted(df["n_missing"], reverse=True)
    mine = record_views.regularity(staff, "2026H1", db=demo_db)
    assert set(mine["unit"]) <= set(staff.unit_codes) and len(mine)
    by_bureau = record_views.regularity(leader, "2026H1", bureau="临河县局", db=demo_db)
    assert set(by_bureau["bureau"]) == {"临河县局"}
