"""The optional 2026 评星定级 demo period, inspectors' 直接定级, and a new version's effect on a period."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest

from data import grading, services, table_io
from data.accounts import principal_by_name
from data.demo import seed_database
from data.permissions import AccessDenied
from scoring.indicators import Grade


@pytest.fixture
def star_db(sqlite_db):
    seed_database(sqlite_db, star_period=True)
    services.clear_cache()
    return sqlite_db


def test_the_star_period_grades_in_stars_within_quotas(star_db):
    u = services.score_period("2026", star_db).units
    assert set(u["grade"]) <= {"五星级", "四星级", "三星级", "二星级", "一星级"}
    for cat, g in u.groupby("category"):
        # 五星级 ≤ ⌊units × 10 %⌋, 四星级 ≤ ⌊units × 40 %⌋ in each category
        assert (g["grade"] == "五星级").sum() <= math.floor(len(g) * 0.1 + 1e-9), cat
        assert (g["grade"] == "四星级").sum() <= math.floor(len(g) * 0.4 + 1e-9), cat
    quota = u[u["grade_reason"].str.startswith("因名额限制")]
    assert len(quota) > 0                                 # the demo is built so the quotas bind
    assert services.score_period("2026H1", star_db).units["grade"].isin(["优秀", "良好", "合格", "不合格"]).all()


def test_an_inspector_sets_and_withdraws_a_grade_with_a_reason_and_an_audit(star_db):
    inspector = principal_by_name("inspector", star_db)
    admin = principal_by_name("admin", star_db)
    units = services.score_period("2026", star_db).units.set_index("unit")
    code = units.index[units["grade"] != "五星级"][0]
    grading.set_grade_override(inspector, "2026", code, "五星级", "年度荣获区级及以上先进基层党组织", db=star_db)
    after = services.score_period("2026", star_db).unit(code)
    assert after["grade"] == "五星级" and after["grade_reason"] == "直接定级：年度荣获区级及以上先进基层党组织"
    assert grading.current_override("2026", code, star_db)["grade"] == "五星级"
    log = services.audit_entries(admin, action="grade_override", db=star_db)
    assert log.iloc[0]["unit"] == code and log.iloc[0]["after"]["grade"] == "五星级"
    grading.set_grade_override(inspector, "2026", code, None, "核实后撤销", db=star_db)
    assert services.score_period("2026", star_db).unit(code)["grade"] == units.loc[code, "grade"]
    assert grading.current_override("2026", code, star_db) is None


def test_overrides_are_refused_without_allow_override_or_reason_or_role(star_db):
    inspector = principal_by_name("inspector", star_db)
    with pytest.raises(services.InvalidInput, match="未允许直接定级"):
        grading.set_grade_override(inspector, "2026H1", "C01", "优秀", "理由", db=star_db)
    with pytest.raises(services.InvalidInput, match="必填"):
        grading.set_grade_override(inspector, "2026", "C01", "五星级", " ", db=star_db)
    with pytest.raises(services.InvalidInput, match="不在本期"):
        grading.set_grade_override(inspector, "2026", "C01", "优秀", "理由", db=star_db)
    with pytest.raises(AccessDenied):
        grading.set_grade_override(principal_by_name("leader", star_db), "2026", "C01", "五星级", "理由", db=star_db)


def test_the_effect_of_a_new_version_lists_the_units_whose_grade_or_rank_changes(star_db):
    current = services.table_for_period("2026H1", star_db)
    lower = replace(current, version="2026b", grades=(Grade("优秀", 85),) + current.grades[1:])
    before = services.score_period("2026H1", star_db).units.set_index("unit")
    effect = table_io.period_effect("2026H1", lower, star_db)
    # Only the 优秀 line moved: exactly the non-vetoed units with 85 ≤ total < 90 go 良好 → 优秀; ranks stay.
    expected = set(before.index[(before["total"] >= 85) & (before["total"] < 90) & ~before["veto"]])
    assert expected and set(effect["unit"]) == expected
    assert (effect["grade_after"] == "优秀").all() and (effect["rank_before"] == effect["rank_after"]).all()
    assert f"等次变化 {len(expected)} 个单位" in table_io.effect_summary(effect)


def test_inspector_entries_respect_a_manual_items_range(seeded_sqlite):
    from scoring.indicators import default_table, table_to_dict

    admin = principal_by_name("admin", seeded_sqlite)
    inspector = principal_by_name("inspector", seeded_sqlite)
    d = table_to_dict(default_table())
    d["version"] = "2027-扣分范围"
    g2 = next(i for a in d["areas"] for i in a["items"] if i["code"] == "G2")
    g2["params"] = {"deduct_range": [1, 3]}            # 「扣1-3分」 on a 4-point item
    f2 = next(i for a in d["areas"] for i in a["items"] if i["code"] == "F2")
    f2["params"] = {"min": 1, "max": 2.5}
    services.save_table_version(admin, d, db=seeded_sqlite)
    services.create_period(admin, "2027", "2027-扣分范围", db=seeded_sqlite)
    for item, ok, bad in (("G2", (0, 1, 3), (0.5, 3.5)), ("F2", (1, 2.5), (0.5, 3))):
        for v in ok:
            services.set_adjustment(inspector, "2027", "C01", item, "judgement", v, "现场检查", db=seeded_sqlite)
        for v in bad:
            with pytest.raises(services.InvalidInput):
                services.set_adjustment(inspector, "2027", "C01", item, "judgement", v, "现场检查", db=seeded_sqlite)
    services.clear_cache()
    row = services.score_period("2027", seeded_sqlite).items_for("C01").set_index("item").loc["G2"]
    assert row["points"] == 1 and row["explanation"].startswith("考核组扣 3 分")   # last entry: 3 of 4 deducted
