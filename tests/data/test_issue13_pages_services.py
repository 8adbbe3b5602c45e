"""Issue 13 items 11, 13 and 14 at the service level, on a seeded database (SQLite and PostgreSQL).

Expected values are derived from the stored rows and the engine's own per-period results,
never typed in.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from data import evidence_service, rectifications, services
from data.accounts import principal_by_name
from data.models import AuditLog, Rectification


def _p(db, name):
    return principal_by_name(name, db=db)


def _open_2026_with_one_unit(db, unit="C02", code="2026"):
    if not services.period_exists(code, db):
        services.create_period(_p(db, "admin"), code, "2026", db=db)
    csv = f"单位编码,支委会次数\n{unit},3\n".encode("utf-8")
    result = evidence_service.commit_upload(db, csv, "补报.csv", code, _p(db, "inspector"))
    assert result.status == "committed", evidence_service.format_commit(result)


# ---------------------------------------------------------------- 11: 尚无数据 everywhere

def test_item11_empty_period_and_units_without_evidence_are_not_scored_anywhere(seeded):
    leader = _p(seeded, "leader")
    NEW = "2027"  # a year no demo activity record falls in (records count as data in every period holding them)
    services.create_period(_p(seeded, "admin"), NEW, "2026", db=seeded)
    # An opened period without data: nothing ranked, no KPI average, no heat-map row, no trend point.
    assert services.rankings(leader, NEW, db=seeded).empty
    k = services.kpis(leader, NEW, db=seeded)
    assert k["units"] == 0 and k["top_grade_count"] == 0 and k["average"] != k["average"]
    g = services.gap_overview(leader, NEW, db=seeded)
    assert g["units"] == [] and g["rows"] == []
    trend = services.unit_trend(leader, "C05", db=seeded)
    assert NEW not in set(trend["period"]) and (trend["total"] > 0).all()
    d = services.branch_detail(leader, "C05", NEW, db=seeded)
    assert d["no_data"] is True and "grade" not in d["unit"]

    _open_2026_with_one_unit(seeded, "C02", NEW)
    ranked = services.rankings(leader, NEW, db=seeded)
    assert ranked["unit"].tolist() == ["C02"] and ranked["rank"].tolist() == [1]
    assert services.kpis(leader, NEW, db=seeded)["units"] == 1
    assert services.gap_overview(leader, NEW, db=seeded)["units"] == ["C02"]
    assert NEW in set(services.unit_trend(leader, "C02", db=seeded)["period"])
    assert NEW not in set(services.unit_trend(leader, "C05", db=seeded)["period"])
    missing = services.units_without_data(leader, NEW, db=seeded)
    assert "C05" in set(missing["unit"]) and "C02" not in set(missing["unit"])
    assert services.branch_detail(leader, "C02", NEW, db=seeded)["no_data"] is False


# ---------------------------------------------------------------- 13: 整改 deadline, correct, withdraw; 模拟测算

def test_item13_a_past_deadline_is_refused_with_a_chinese_message(seeded):
    insp = _p(seeded, "inspector")
    yesterday = dt.date.today() - dt.timedelta(days=1)
    n_before = services.count_rows(Rectification, seeded)
    with pytest.raises(services.InvalidInput, match="早于今天"):
        services.add_rectification(insp, "2026H1", "C02", "台账不全", yesterday, db=seeded)
    assert services.count_rows(Rectification, seeded) == n_before
    rid = services.add_rectification(insp, "2026H1", "C02", "台账不全", dt.date.today(), db=seeded)
    assert rid


def test_item13_a_mistaken_rectification_is_corrected_or_withdrawn_with_a_reason_and_audited(seeded):
    insp = _p(seeded, "inspector")
    due = dt.date.today() + dt.timedelta(days=10)
    rid = services.add_rectification(insp, "2026H1", "C02", "党费记录不全", due, item_code="D2", db=seeded)
    with pytest.raises(services.InvalidInput, match="理由"):
        rectifications.correct_rectification(insp, rid, "", problem="党费收缴记录不全", db=seeded)
    with pytest.raises(services.InvalidInput, match="早于今天"):
        rectifications.correct_rectification(insp, rid, "日期填错", deadline=dt.date(2020, 1, 1), db=seeded)
    rectifications.correct_rectification(insp, rid, "问题描述写错", problem="党费收缴记录不全",
                                         deadline=due + dt.timedelta(days=5), db=seeded)
    row = [r for r in services.rectification_list(insp, db=seeded).to_dict("records") if r["id"] == rid][0]
    assert row["problem"] == "党费收缴记录不全" and row["deadline"] == due + dt.timedelta(days=5)
    rectifications.withdraw_rectification(insp, rid, "误登记：该问题属于另一支部", db=seeded)
    row = [r for r in services.rectification_list(insp, db=seeded).to_dict("records") if r["id"] == rid][0]
    assert row["status"] == "已撤回" and not row["overdue"]
    with seeded.session() as s:
        actions = [(a.action, (a.after or {}).get("reason")) for a in s.scalars(
            select(AuditLog).where(AuditLog.entity == "rectification", AuditLog.entity_id == str(rid))
            .order_by(AuditLog.id)).all()]
    assert actions == [("rectification_open", None), ("rectification_correct", "问题描述写错"),
                       ("rectification_withdraw", "误登记：该问题属于另一支部")]
    # Staff may not withdraw another unit's item.
    from data.permissions import AccessDenied
    other = services.add_rectification(insp, "2026H1", "C05", "记录不全", due, db=seeded)
    with pytest.raises(AccessDenied):
        rectifications.withdraw_rectification(_p(seeded, "staff_sj"), other, "不是我们的", db=seeded)


def test_item13_what_if_takes_several_changes_at_once_and_names_the_change_at_fault(seeded):
    leader = _p(seeded, "leader")
    both = services.what_if_changes(leader, "2026H1", [("grade", "优秀", 95), ("points", "C1", 10)], db=seeded)
    one = services.what_if_period(leader, "2026H1", grade="优秀", grade_min=95, db=seeded)
    assert both.ok and not both.comparison.equals(one.comparison)
    # Applied together = applied on the table in turn: the grade line and the weight both moved.
    assert [g.min for g in both.table.grades if g.label == "优秀"] == [95]
    assert both.table.item("C1").points == 10
    # A picked indicator without a new value no longer blocks a grade-line test with a vague message.
    with pytest.raises(services.InvalidInput, match="C1"):
        services.what_if_changes(leader, "2026H1", [("points", "C1", None)], db=seeded)


# ---------------------------------------------------------------- 14: like with like; overdue per period

def test_item14_change_vs_previous_compares_like_with_like(seeded):
    leader = _p(seeded, "leader")
    # 2026H1 is the first half-year: no half-year before it, so no 「较上期」 against the 2025 annual result.
    assert services.previous_period_code("2026H1", seeded, same_kind=True) is None
    assert services.rankings(leader, "2026H1", db=seeded)["delta"].isna().all()
    _open_2026_with_one_unit(seeded, "C02")
    ranked = services.rankings(leader, "2026", db=seeded).set_index("unit")
    prev = services.score_period("2025", seeded).units.set_index("unit")
    assert ranked.loc["C02", "delta"] == pytest.approx(ranked.loc["C02", "total"] - prev.loc["C02", "total"])


def test_item14_overdue_rectification_card_counts_the_periods_own_items(seeded):
    leader = _p(seeded, "leader")
    everyone = services.rectification_list(leader, db=seeded)
    expected = {code: int(everyone[(everyone["period"] == code)]["overdue"].sum()) for code in ("2025", "2026H1")}
    assert expected["2026H1"] > 0  # the demo has overdue items in 2026H1 and none in 2025
    for code in ("2025", "2026H1"):
        assert services.kpis(leader, code, db=seeded)["overdue_rectifications"] == expected[code]
