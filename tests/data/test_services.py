"""Use cases on a seeded database, on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from data import services
from data.accounts import principal_by_name
from data.models import Adjustment, AuditLog, Period
from data.permissions import AccessDenied


def _p(db, name):
    return principal_by_name(name, db=db)


def test_worked_example_unit_scores_82_50_good(seeded):
    units = services.score_period("2026H1", seeded).units.set_index("unit")
    assert round(units.loc["C01", "total"], 10) == 82.5
    assert units.loc["C01", "grade"] == "良好"


def test_demo_has_a_believable_spread(seeded):
    for code in ("2025", "2026H1"):
        grades = services.score_period(code, seeded).units["grade"].value_counts()
        assert grades.get("优秀", 0) >= 1 and grades.get("不合格", 0) >= 1
        assert grades.get("良好", 0) + grades.get("合格", 0) > len(grades) // 2
    u = services.score_period("2026H1", seeded).units
    assert u["veto"].sum() == 1
    assert u["rank"].duplicated().any(), "the demo should contain a tie"


def test_old_period_shows_the_name_the_unit_had_then(seeded):
    old = services.score_period("2025", seeded).units.set_index("unit")
    new = services.score_period("2026H1", seeded).units.set_index("unit")
    assert old.loc["C03", "name"] == "市局机关综合党支部"
    assert new.loc["C03", "name"] == "市局机关第三党支部"


def test_deduction_moves_score_supersedes_and_is_audited(seeded):
    inspector = _p(seeded, "inspector")
    before = services.score_period("2026H1", seeded).units.set_index("unit").loc["C01", "total"]
    services.set_adjustment(inspector, "2026H1", "C01", "C1", "deduction", 1, "支委会记录缺签到", db=seeded)
    after = services.score_period("2026H1", seeded).units.set_index("unit").loc["C01", "total"]
    assert after == pytest.approx(before - 1 / 80 * 100)
    services.set_adjustment(inspector, "2026H1", "C01", "C1", "deduction", 0.5, "复核后改为扣 0.5 分", db=seeded)
    again = services.score_period("2026H1", seeded).units.set_index("unit").loc["C01", "total"]
    assert again == pytest.approx(before - 0.5 / 80 * 100)
    with seeded.session() as s:
        rows = s.scalars(select(Adjustment).where(Adjustment.item_code == "C1", Adjustment.kind == "deduction")).all()
        assert len(rows) == 2 and sum(r.superseded_at is None for r in rows) == 1
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "deduction", AuditLog.unit_code == "C01")
                          .order_by(AuditLog.id)).all()
        assert [(a.username, a.after["points"]) for a in audit] == [("inspector", 1.0), ("inspector", 0.5)]
        assert audit[1].before == {"points": 1.0, "reason": "支委会记录缺签到"}


def test_adjustment_without_reason_or_by_leader_changes_nothing(seeded):
    with seeded.session() as s:
        version = s.scalar(select(Period.data_version).where(Period.code == "2026H1"))
    with pytest.raises(services.InvalidInput):
        services.set_adjustment(_p(seeded, "inspector"), "2026H1", "C01", "C1", "deduction", 1, "  ", db=seeded)
    with pytest.raises(AccessDenied):
        services.set_adjustment(_p(seeded, "leader"), "2026H1", "C01", "C1", "deduction", 1, "理由", db=seeded)
    with seeded.session() as s:
        assert s.scalar(select(Period.data_version).where(Period.code == "2026H1")) == version


def test_staff_sees_only_their_units(seeded):
    staff = _p(seeded, "staff")
    rows = services.rankings(staff, "2026H1", db=seeded)
    assert len(rows) > 0 and set(rows["unit"]) == set(staff.unit_codes)
    with pytest.raises(AccessDenied):
        services.branch_detail(staff, "C01", "2026H1", db=seeded)
    detail = services.branch_detail(staff, sorted(staff.unit_codes)[0], "2026H1", db=seeded)
    assert detail["unit"]["unit"] in staff.unit_codes


def test_score_cache_follows_data_version(seeded):
    a = services.score_period("2026H1", seeded)
    assert services.score_period("2026H1", seeded) is a
    services.set_adjustment(_p(seeded, "inspector"), "2026H1", "C02", "F2", "judgement", 1, "复核", db=seeded)
    assert services.score_period("2026H1", seeded) is not a


def test_rectification_lifecycle_is_audited(seeded):
    import datetime as dt

    insp = _p(seeded, "inspector")
    rid = services.add_rectification(insp, "2026H1", "C02", "党费收缴记录不全", dt.date.today() + dt.timedelta(days=30), db=seeded)
    services.update_rectification(insp, rid, "close", "已补齐收缴记录", db=seeded)
    services.update_rectification(insp, rid, "reopen", "回头看发现 9 月仍未足额", db=seeded)
    with pytest.raises(services.InvalidInput):
        services.update_rectification(insp, rid, "recheck_pass", "状态不对", db=seeded)
    with seeded.session() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.entity == "rectification")).all()
    assert actions == ["rectification_open", "rectification_close", "rectification_reopen"]


def test_cache_drops_older_data_versions_of_a_period_but_keeps_other_periods(sqlite_db):
    from data import results_store
    from data import services as sv

    sv.clear_cache()
    built = []

    def key(kind, period, version):
        return (kind, sqlite_db, period, version, 7, None)

    for k in [key("score", "2026H1", 1), key("gaps", "2026H1", 1), key("score", "2025", 3)]:
        sv._cached(k, lambda k=k: built.append(k) or k)
    sv._cached(key("score", "2026H1", 2), lambda: "new")
    keys = set(results_store._memory(sqlite_db).items)
    assert key("score", "2026H1", 1) not in keys  # the older version of the same kind and period is gone
    assert {key("gaps", "2026H1", 1), key("score", "2025", 3), key("score", "2026H1", 2)} <= keys
    assert sv._cached(key("score", "2025", 3), lambda: "rebuilt") == key("score", "2025", 3)  # still cached
    # What-if answers are kept per question: a second question does not evict the first.
    q1, q2 = key("what_if", "2026H1", 2) + (("points", "A1", 5.0),), key("what_if", "2026H1", 2) + (("points", "A1", 6.0),)
    sv._cached(q1, lambda: 1)
    sv._cached(q2, lambda: 2)
    assert sv._cached(q1, lambda: "again") == 1
    sv.clear_cache()
