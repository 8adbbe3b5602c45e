"""Staff scope on every frame and figure a scoped service returns (issue 18, "Staff scope").

Expected unit sets come from the database and the user's assignment, not from the services;
aggregates (failed-item counts, KPIs, the work summary) are recomputed here from the
engine's per-unit rows restricted to the staff user's units.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from data import services
from data.accounts import principal_by_name
from data.models import OrgUnit, Rectification, User, UserUnit
from data.permissions import AccessDenied

PERIOD = "2026H1"


def _assigned(db, username: str) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(OrgUnit.code).join(UserUnit, UserUnit.unit_id == OrgUnit.id)
                             .join(User, User.id == UserUnit.user_id).where(User.username == username)).all())


@pytest.fixture(params=["staff", "staff_sj"])
def staff(request, app_db):
    p = principal_by_name(request.param, db=app_db)
    scope = _assigned(app_db, request.param)
    assert scope and p.unit_codes == scope
    return p, scope


def test_rankings_and_kpis_cover_only_the_staff_units(app_db, staff):
    p, scope = staff
    ranking = services.rankings(p, PERIOD, db=app_db)
    assert set(ranking["unit"]) == scope
    k = services.kpis(p, PERIOD, db=app_db)
    assert k["units"] == len(scope)
    today = dt.date.today()
    with app_db.session() as s:
        overdue = s.scalars(select(OrgUnit.code).join(Rectification, Rectification.unit_id == OrgUnit.id)
                            .where(Rectification.status.in_(["整改中", "已重开"]), Rectification.deadline < today)).all()
    assert k["overdue_rectifications"] == sum(1 for u in overdue if u in scope)
    everyone = services.kpis(principal_by_name("leader", db=app_db), PERIOD, db=app_db)
    assert everyone["overdue_rectifications"] == len(overdue)


def test_every_frame_of_the_gap_overview_is_scoped(app_db, staff):
    p, scope = staff
    g = services.gap_overview(p, PERIOD, db=app_db)
    assert set(g["units"]) == scope
    assert sum(r["units"] for r in g["rows"]) == len(scope)  # the 局 rows count the staff's units only
    assert set(g["gaps"]["unit"]) <= scope and g["n_gap_units"] <= len(scope)
    # Drilling into every group shows unit rows of the scope only, whatever group is asked for.
    for by in ("bureau", "category"):
        top = services.gap_overview(p, PERIOD, by=by, db=app_db)
        for row in top["rows"]:
            drill = services.gap_overview(p, PERIOD, by=by, group=row["key"], db=app_db)
            assert {r["key"] for r in drill["rows"]} <= scope
        other = services.gap_overview(p, PERIOD, by=by, group="市局机关支部", db=app_db)
        assert {r["key"] for r in other["rows"]} <= scope | {r["key"] for r in top["rows"]}
    # The failed-item counts: recomputed from the engine's rows of the staff units only.
    items = services.score_period(PERIOD, app_db).items
    base_areas = set(g["areas"])
    mine = items[items["unit"].isin(scope) & items["area"].isin(base_areas) & items["status"].isin(["未达标", "缺报"])]
    expected = mine.groupby("item").size().to_dict()
    shown = g["failed"].set_index("item")["units_failed"].to_dict()
    assert shown and all(expected[i] == n for i, n in shown.items())
    assert g["failed"]["units_failed"].max() <= len(scope)
    lost = services.gap_overview(principal_by_name("leader", db=app_db), PERIOD, db=app_db)
    assert set(lost["units"]) > scope  # the leader sees everyone: the scope above is a real restriction


def test_rectifications_summary_and_trend_are_scoped(app_db, staff):
    p, scope = staff
    rects = services.rectification_list(p, db=app_db)
    assert set(rects["unit"]) <= scope
    with app_db.session() as s:
        n_mine = s.scalar(select(Rectification.id).join(OrgUnit, OrgUnit.id == Rectification.unit_id)
                          .where(OrgUnit.code.in_(scope)).limit(1))
    assert (n_mine is not None) == (not rects.empty)
    summary = services.evidence_summary(p, PERIOD, db=app_db)
    assert set(summary["units"]) == {len(scope)}
    values = services.score_period(PERIOD, app_db).values
    mine = values[values.index.isin(scope)]
    # A field typed only (meeting counts come from activity records where a unit has them, see work_summary).
    row = summary.set_index("field").loc["leader_visits"]
    assert row["figure"] == pytest.approx(float(mine["leader_visits"].sum()))
    own = sorted(scope)[0]
    assert len(services.unit_trend(p, own, db=app_db)) >= 1
    other = next(u for u in services.score_period(PERIOD, app_db).units["unit"] if u not in scope)
    for call in (lambda: services.unit_trend(p, other, db=app_db),
                 lambda: services.branch_detail(p, other, PERIOD, db=app_db),
                 lambda: services.evidence_provenance(p, other, PERIOD, db=app_db)):
        with pytest.raises(AccessDenied):
            call()


def test_demo_staff_user_has_rectification_items(app_db):
    rects = services.rectification_list(principal_by_name("staff", db=app_db), db=app_db)
    assert len(rects) >= 2
