"""Points lost per area and the gap to the next grade, against hand-computed figures."""
from __future__ import annotations


import numpy as np
import pytest

from scoring.engine import score
from scoring.gaps import AREA_GAP_COLUMNS, GRADE_GAP_COLUMNS, area_gaps, grade_gaps, unit_gap_text

from .conftest import item, judgements, make_table, run


def test_area_gaps_columns_lost_and_pct():
    t = make_table([], areas=[("A", [item("A1", "boolean", 40, ["done"]), item("A2", "deduction", 20, ["n"],
                                                                                   {"per_item": 5})]),
                              ("B", [item("B1", "boolean", 40, ["flag"], period="annual")])])
    res = run(t, {"u0": {"done": 1, "n": 1, "flag": 0}}, "H1")
    a = area_gaps(res)
    assert list(a.columns) == AREA_GAP_COLUMNS
    a = a.set_index("area")
    assert (a.loc["A", "points"], a.loc["A", "max"], a.loc["A", "lost"]) == (55, 60, 5)
    assert a.loc["A", "pct"] == pytest.approx(55 / 60)
    assert a.loc["A", "area_name"] == "A 测试"
    assert a.loc["B", "max"] == 0 and a.loc["B", "lost"] == 0 and np.isnan(a.loc["B", "pct"])


def test_needed_raw_points_follow_the_rescaling_and_the_bonus_is_not_rescaled():
    # X1 50 不适用 → raw max 50; X3 full 30, X2 not done → raw 30, base 60; bonus 2 → total 62 (合格).
    t = make_table([item("X1", "boolean", 50, ["done"], not_applicable_when={"field": "has_groups", "equals": 0}),
                    item("X2", "boolean", 20, ["flag"]), item("X3", "deduction", 30, ["n"], {"per_item": 1})],
                   bonus=[item("J1", "bonus", 0, ["a"], {"per_unit": 1}, cap=3)])
    res = run(t, {"u0": {"has_groups": 0, "flag": 0, "n": 0, "a": 2}})
    assert res.unit("u0")["total"] == 62 and res.unit("u0")["grade"] == "合格"
    g = grade_gaps(t, res, "year")
    assert list(g.columns) == GRADE_GAP_COLUMNS
    assert len(g) == 1
    r = g.iloc[0]
    assert (r["current_grade"], r["next_grade"]) == ("合格", "良好")
    assert r["needed_total"] == 18
    assert r["needed_raw"] == 9          # (80 − 2) × 50 / 100 − 30
    assert (r["item"], r["gain"], r["gain_total"]) == ("X2", 20, 40)
    assert r["need"] == "完成“flag”可得 20 分"
    assert bool(r["reaches"]) and r["cumulative"] == 20 and r["step"] == 1


def test_core_items_come_first_then_gain():
    t = make_table([item("K1", "count_target", 4, ["n"], {"target": 4, "per_miss": 1}, core=True),
                    item("X2", "boolean", 10, ["flag"]), item("X3", "boolean", 6, ["done"]),
                    item("X4", "boolean", 80, ["ok"])])
    # K1 3 of 4 → 3; X2 0; X3 0; X4 80 → raw 83 → 良好; 优秀 needs 7 more.
    res = run(t, {"u0": {"n": 3, "flag": 0, "done": 0, "ok": 1}})
    g = grade_gaps(t, res, "year")
    assert g["item"].tolist() == ["K1", "X2"]
    assert g["gain"].tolist() == [1, 10] and g["core"].tolist() == [True, False]
    assert g["cumulative"].tolist() == [1, 11] and g["reaches"].tolist() == [False, True]
    assert g["need"].iloc[0] == "n再增加 1 次（达到 4 次）可得 1 分"


def test_unreachable_band_lists_every_item_and_reaches_nothing():
    grades = [{"label": "示范", "min": 104}, {"label": "良好", "min": 80}, {"label": "一般", "min": 0}]
    t = make_table([item("X1", "deduction", 60, ["n"], {"per_item": 1}), item("X2", "boolean", 40, ["flag"])],
                   grades=grades, bonus=[item("J1", "bonus", 0, ["a"], {"per_unit": 1}, cap=2)], bonus_cap=2)
    res = run(t, {"u0": {"n": 5, "flag": 1, "a": 1}})  # 95 + 1 = 96
    g = grade_gaps(t, res, "year")
    assert g["needed_raw"].iloc[0] == 8
    assert g["item"].tolist() == ["X1"] and g["gain"].tolist() == [5]
    assert not g["reaches"].any()
    text = unit_gap_text(g)
    assert "仍差 3 分" in text and "无法达到" in text


def test_vetoed_unit_gets_one_row_and_top_grade_units_none():
    t = make_table([item("X1", "boolean", 100, ["flag"])], veto=[item("V1", "veto", 0, ["serious_violation"])])
    res = run(t, {"top": {"flag": 1}, "vetoed": {"flag": 1, "serious_violation": 1}, "low": {"flag": 0}})
    g = grade_gaps(t, res, "year")
    assert "top" not in set(g["unit"])
    v = g[g["unit"] == "vetoed"]
    assert len(v) == 1
    assert v["item"].iloc[0] == "" and v["need"].iloc[0] == "一票否决，等次为不合格，分数提升不改变等次"
    assert v["current_grade"].iloc[0] == "不合格" and not v["reaches"].iloc[0]
    assert unit_gap_text(v) == "一票否决，等次为不合格，分数提升不改变等次"
    low = g[g["unit"] == "low"]
    assert low["next_grade"].tolist() == ["合格"] and low["item"].tolist() == ["X1"] and low["reaches"].all()
    assert g["unit"].tolist() == ["vetoed", "low"]  # order of the units argument


def test_points_lost_only_to_an_inspector_deduction_are_not_gainable():
    t = make_table([item("X1", "boolean", 100, ["flag"])])
    res = run(t, {"u0": {"flag": 1}}, adjustments=judgements([("u0", "X1", 15)], kind="deduction"))
    assert res.unit("u0")["total"] == 85
    g = grade_gaps(t, res, "year")
    assert len(g) == 1 and g["item"].iloc[0] == "" and "无法达到优秀" in g["need"].iloc[0]


def test_need_texts_for_each_rule_and_missing():
    t = make_table([
        item("C1", "count_target", 10, ["n"], {"target": 12, "per_miss": 1}),
        item("R1", "ratio", 10, ["h"], {"target": 32}),
        item("S1", "stepped", 10, ["rate"], {"full_at": 90, "step": 10, "per_step": 2}),
        item("T1", "tiered", 10, ["t"], {"tiers": [[24, 10], [16, 5]]}),
        item("B1", "boolean", 10, ["flag"]),
        item("D1", "deduction", 10, ["d"], {"per_item": 2}),
        item("M1", "manual", 10), item("M2", "manual", 10),
        item("Q1", "count_target", 10, ["q"], {"target": 4, "per_miss": 1}),
        item("Q2", "boolean", 10, ["done"]),
    ], grades=[{"label": "示范", "min": 104}, {"label": "不合格", "min": 0}])  # out of reach: every item listed
    res = run(t, {"u0": {"n": 10, "h": 16, "rate": 70, "t": 16, "flag": 0, "d": 2}},
              adjustments=judgements([("u0", "M1", 6)]))
    need = dict(zip(*grade_gaps(t, res, "year")[["item", "need"]].T.values))
    assert need["C1"] == "n再增加 2 次（达到 12 次）可得 2 分"
    assert need["R1"] == "h提高到 32 次 可得 5 分"
    assert need["S1"] == "rate提高到 90% 可得 4 分"
    assert need["T1"] == "t提高到 24 次 可得 5 分"
    assert need["B1"] == "完成“flag”可得 10 分"
    assert need["D1"] == "整改d 2 次（清零）可得 4 分"
    assert need["M1"] == "考核组评定达到满分 10 分可得 4 分"
    assert need["M2"].startswith("考核组评定") and "尚未评定" in need["M2"]
    assert need["Q1"] == "补报q（达到 4 次）可得 10 分"
    assert need["Q2"] == "补报done（完成）可得 10 分"


def test_h1_targets_in_need_texts_are_pro_rated():
    t = make_table([item("C1", "count_target", 20, ["n"], {"target": 12, "per_miss": 5}, prorate=["target"]),
                    item("X2", "boolean", 80, ["flag"])])
    res = run(t, {"u0": {"n": 4, "flag": 1}}, "H1")  # target 6, 2 short → 10 of 20; 80 + 10 = 90
    assert res.unit("u0")["grade"] == "优秀"
    res = run(t, {"u0": {"n": 3, "flag": 1}}, "H1")  # 3 short → 5 → 85
    g = grade_gaps(t, res, "H1")
    assert g["need"].tolist() == ["n再增加 3 次（达到 6 次）可得 15 分"]


def test_steps_restart_per_unit_and_grades_are_independent():
    t = make_table([item(f"X{k}", "boolean", 10, [f"f{k}"]) for k in range(10)])
    rows = {"a": {f"f{k}": float(k < 7) for k in range(10)},   # 70, 合格 → 良好 needs 10: one item
            "b": {f"f{k}": float(k < 8) for k in range(10)},   # 80, 良好 → 优秀 needs 10
            "c": {f"f{k}": float(k < 5) for k in range(10)}}   # 50, 不合格 → 合格 needs 10
    g = grade_gaps(t, run(t, rows), "year")
    assert g.groupby("unit", sort=False)["step"].apply(list).to_dict() == {"a": [1], "b": [1], "c": [1]}
    assert g.set_index("unit")["item"].to_dict() == {"a": "X7", "b": "X8", "c": "X5"}
    assert g.set_index("unit")["next_grade"].to_dict() == {"a": "良好", "b": "优秀", "c": "合格"}


def test_ten_thousand_units_gaps_cover_every_unit_below_the_top_grade():
    # Speed is measured in `make bench`, not here: this checks the result at scale.
    from benchmarks.bench_scoring import generate
    from scoring.indicators import default_table

    t = default_table()
    ev, units, adj = generate(t, 10_000)
    res = score(t, ev, units, "year", adj)
    g = grade_gaps(t, res, "year")
    below = res.units[(res.units["grade_order"] > 0)]
    assert set(g["unit"]) == set(below["unit"])
    # Every reachable unit's cumulative gain on its last step covers what it needs.
    last = g.groupby("unit").tail(1)
    ok = last[last["reaches"]]
    assert (ok["cumulative"] >= ok["needed_raw"] - 1e-9).all()


# ---------------------------------------------------------------- aggregated views for the gap page
def _three_units():
    t = make_table([], areas=[("A", [item("A1", "boolean", 40, ["done"]), item("A2", "deduction", 20, ["n"],
                                                                                   {"per_item": 5})]),
                              ("B", [item("B1", "boolean", 40, ["flag"], period="annual")])])
    ev = {"u0": {"done": 1, "n": 1, "flag": 0}, "u1": {"done": 0, "n": 0, "flag": 1}, "u2": {"n": 4, "flag": 1}}
    return t, run(t, ev, "H1")


def test_area_rate_matrix_is_the_pivot_of_area_gaps_in_unit_order():
    from scoring.gaps import area_rate_matrix

    t, res = _three_units()
    pct, areas = area_rate_matrix(res)
    want = area_gaps(res).pivot(index="unit", columns="area", values="pct").loc[res.units["unit"], areas]
    assert areas == ["A", "B"]
    np.testing.assert_allclose(pct, want.to_numpy(float), equal_nan=True)
    assert pct[0, 0] == pytest.approx(55 / 60) and np.isnan(pct[:, 1]).all()  # B is annual: max 0 in H1


def test_failed_matrix_marks_not_met_and_missing_base_items():
    from scoring.gaps import failed_matrix

    t, res = _three_units()
    failed, items = failed_matrix(res, t)
    assert items["item"].tolist() == ["A1", "A2", "B1"]
    it = res.items.set_index(["unit", "item"])["status"].astype(str)
    for u_pos, u in enumerate(res.units["unit"]):
        for j, code in enumerate(items["item"]):
            assert failed[u_pos, j] == (it[(u, code)] in ("未达标", "缺报")), (u, code)
    assert failed[2, 0]  # u2 did not report 'done': 缺报


def test_group_rates_average_units_and_skip_areas_without_a_maximum():
    from scoring.gaps import group_rates

    pct = np.array([[0.5, np.nan], [1.0, 0.2], [0.3, 0.4]])
    labels, counts, means = group_rates(pct, np.array(["乙局", "甲局", "乙局"], dtype=object))
    assert sorted(labels) == labels and set(labels) == {"甲局", "乙局"}
    assert dict(zip(labels, counts.tolist())) == {"甲局": 1, "乙局": 2}
    by = dict(zip(labels, means.tolist()))
    assert by["乙局"][0] == pytest.approx((0.5 + 0.3) / 2) and by["乙局"][1] == pytest.approx(0.4)
    assert by["甲局"] == pytest.approx([1.0, 0.2])


def test_unit_gap_summary_one_line_per_unit_from_the_gap_steps():
    from scoring.gaps import unit_gap_summary

    t = make_table([item("X1", "boolean", 30, ["done"]), item("X2", "boolean", 30, ["flag"], core=True),
                    item("X3", "deduction", 40, ["n"], {"per_item": 10})])
    res = run(t, {"u0": {"done": 0, "flag": 0, "n": 0}, "u1": {"done": 1, "flag": 1, "n": 0}})
    g = grade_gaps(t, res, "year")
    s = unit_gap_summary(g).set_index("unit")
    assert set(s.index) == set(g["unit"]) and "u1" not in s.index  # u1 is at the top grade
    rows = g[g["unit"] == "u0"]
    assert s.loc["u0", "steps"] == "；".join(f"{i} {n}" for i, n in zip(rows["item"], rows["need"]))
    assert s.loc["u0", "needed_total"] == rows["needed_total"].iloc[0]
    assert bool(s.loc["u0", "reaches"]) == bool(rows["reaches"].any())
