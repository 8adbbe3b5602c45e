"""模拟测算 and 自评分 through the services: role- and unit-checked, and neither moves a stored score."""
from __future__ import annotations

import pytest

from data import services
from data.accounts import principal_by_name
from data.permissions import AccessDenied


def test_raising_a_grade_line_downgrades_exactly_the_units_between_old_and_new_line(seeded_sqlite):
    leader = principal_by_name("leader", db=seeded_sqlite)
    base = services.score_period("2026H1", seeded_sqlite).units
    version_before = services.get_period_info("2026H1", seeded_sqlite).data_version
    w = services.what_if_period(leader, "2026H1", grade="优秀", grade_min=95, db=seeded_sqlite)
    assert w.ok
    expected = set(base.loc[(base["grade"] == "优秀") & (base["total"] < 95), "unit"])
    moved = set(w.movers.loc[w.movers["grade_before"] != w.movers["grade_after"], "unit"])
    assert moved == expected and expected
    assert w.grade_changes.get("优秀→良好") == len(expected)
    # Nothing stored: the period's data version and the real results are unchanged.
    assert services.get_period_info("2026H1", seeded_sqlite).data_version == version_before
    assert services.score_period("2026H1", seeded_sqlite).units["grade"].tolist() == base["grade"].tolist()


def test_changing_an_items_points_keeps_the_100_point_scale(seeded_sqlite):
    inspector = principal_by_name("inspector", db=seeded_sqlite)
    w = services.what_if_period(inspector, "2026H1", item_code="C1", points=10, db=seeded_sqlite)
    assert w.ok and len(w.movers) > 0
    assert w.table.total == 100 and w.table.item("C1").points == 10
    assert (w.after.units["base"] <= 100 + 1e-9).all()
    # A unit with C1 full cannot lose: (raw + 6) / (max + 6) ≥ raw / max on the same scale.
    items = w.before.items[w.before.items["item"] == "C1"].set_index("unit")
    full = items[items["status"] == "达标"].index
    assert len(full) and (w.comparison.set_index("unit").loc[full, "delta"] >= -1e-9).all()
    # An annual item changed in a half-year moves nobody: it is not due.
    assert services.what_if_period(inspector, "2026H1", item_code="B2", points=0, db=seeded_sqlite).movers.empty


def test_staff_may_not_run_what_if_and_bad_input_is_a_chinese_message(seeded_sqlite):
    with pytest.raises(AccessDenied):
        services.what_if_period(principal_by_name("staff", db=seeded_sqlite), "2026H1", grade="优秀", grade_min=95, db=seeded_sqlite)
    with pytest.raises(services.InvalidInput, match="不在本期指标体系中"):
        services.what_if_period(principal_by_name("leader", db=seeded_sqlite), "2026H1", item_code="ZZ", points=3, db=seeded_sqlite)


def test_self_assessment_is_scoped_bounded_audited_and_never_moves_the_score(seeded_sqlite):
    from sqlalchemy import select

    from data.models import AuditLog

    staff = principal_by_name("staff_sj", db=seeded_sqlite)  # C01 only
    before = services.score_period("2026H1", seeded_sqlite).unit("C01")["total"]
    services.set_self_assessment(staff, "2026H1", "C01", "C1", 3.5, "记录齐全", db=seeded_sqlite)
    services.set_self_assessment(staff, "2026H1", "C01", "C1", 4, "补充了 6 月记录", db=seeded_sqlite)  # replaces
    d = services.branch_detail(staff, "C01", "2026H1", db=seeded_sqlite)
    row = d["items"].set_index("item").loc["C1"]
    assert row["self_points"] == 4 and row["self_diff"] == row["points"] - 4
    assert services.score_period("2026H1", seeded_sqlite).unit("C01")["total"] == before
    with seeded_sqlite.session() as s:
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "self_assessment")).all()) == 2
    with pytest.raises(AccessDenied):
        services.set_self_assessment(staff, "2026H1", "C02", "C1", 3, db=seeded_sqlite)
    with pytest.raises(AccessDenied):
        services.set_self_assessment(principal_by_name("inspector", db=seeded_sqlite), "2026H1", "C01", "C1", 3, db=seeded_sqlite)
    with pytest.raises(services.InvalidInput, match="0 到 4"):
        services.set_self_assessment(staff, "2026H1", "C01", "C1", 5, db=seeded_sqlite)
    with pytest.raises(services.InvalidInput, match="不自评"):
        services.set_self_assessment(staff, "2026H1", "C01", "J1", 1, db=seeded_sqlite)


def test_evidence_summary_sums_counts_averages_rates_and_counts_yes_for_visible_units(seeded_sqlite):
    import pandas as pd

    inspector = principal_by_name("inspector", db=seeded_sqlite)
    ev = services.scoring_inputs("2026H1", seeded_sqlite).evidence
    summary = services.evidence_summary(inspector, "2026H1", db=seeded_sqlite).set_index("field")
    # A typed-only count (meeting counts follow activity records where a unit has them: data/work_summary.py).
    assert summary.loc["leader_visits", "figure"] == ev.loc[ev["field"] == "leader_visits", "value"].sum()
    assert summary.loc["dues_rate", "figure"] == pytest.approx(ev.loc[ev["field"] == "dues_rate", "value"].mean())
    assert summary.loc["ideology_review", "figure"] == (ev.loc[ev["field"] == "ideology_review", "value"] > 0).sum()
    assert summary.loc["committee_meetings", "units"] == 40
    # Staff see the sums of their own units only.
    staff = principal_by_name("staff_sj", db=seeded_sqlite)  # C01
    mine = services.evidence_summary(staff, "2026H1", db=seeded_sqlite).set_index("field")
    c01 = ev[ev["unit"] == "C01"].set_index("field")["value"]
    assert mine.loc["committee_meetings", "figure"] == c01["committee_meetings"] == 6
    assert mine.loc["committee_meetings", "units"] == 1
    # C01 has no 党小组 (the worked example): nothing reported, so the sum is 0 and no unit counts.
    assert (mine.loc["group_meetings", "figure"], mine.loc["group_meetings", "reported"]) == (0, 0)
    assert pd.isna(services.evidence_summary(staff, "2026H1", db=seeded_sqlite).set_index("field")
                   .loc["reading_rate", "figure"]) is False
