"""Each rule type on hand-computed cases, and the engine's decisions around rules.

Every expected number below is worked out by hand from the spec's wording; the
tables are built for the test so the cases state their own parameters.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.engine import score
from scoring.rules import RULES

from .conftest import item, item_row, judgements, make_table, run


def one(rule: str, points: float, fields, params=None, values=None, period="year", **kw):
    """Score units u0, u1, ... each reporting one set of values for a one-item table."""
    t = make_table([item("X1", rule, points, fields, params, **kw)])
    rows = {f"u{k}": v for k, v in enumerate(values)}
    res = run(t, rows, period)
    return [item_row(res, u, "X1") for u in rows], res


# ---------------------------------------------------------------- count_target
def test_count_target_deducts_per_missing_meeting():
    rows, _ = one("count_target", 4, ["n"], {"target": 12, "per_miss": 1},
                  [{"n": 12}, {"n": 11}, {"n": 13}, {"n": 9}, {"n": 0}, {"n": 11.9}])
    assert [r["points"] for r in rows] == [4, 3, 4, 1, 0, 3]  # 11.9 meetings are 11 whole ones
    assert [r["status"] for r in rows] == ["达标", "未达标", "达标", "未达标", "未达标", "未达标"]
    assert "少 1 次" in rows[1]["explanation"] and "扣 1 分" in rows[1]["explanation"]
    assert "达到标准 12 次" in rows[0]["explanation"]


def test_count_target_fractional_per_miss_floors_at_zero():
    rows, _ = one("count_target", 3, ["n"], {"target": 4, "per_miss": 1.5},
                  [{"n": 3}, {"n": 2}, {"n": 1}, {"n": 0}])
    assert [r["points"] for r in rows] == [1.5, 0, 0, 0]


def test_count_target_h1_halves_the_target_rounding_up():
    rows, _ = one("count_target", 3, ["n"], {"target": 5, "per_miss": 1}, [{"n": 3}, {"n": 2}],
                  period="H1", prorate=["target"])
    assert [r["points"] for r in rows] == [3, 2]  # target ⌈5/2⌉ = 3


# ---------------------------------------------------------------- ratio
def test_ratio_with_target_is_proportional_and_capped():
    rows, _ = one("ratio", 4, ["h"], {"target": 32}, [{"h": 32}, {"h": 24}, {"h": 40}, {"h": 0}, {"h": 8}])
    assert [r["points"] for r in rows] == [4, 3, 4, 0, 1]
    assert rows[2]["status"] == "达标"


def test_ratio_of_two_fields_and_no_plan():
    rows, _ = one("ratio", 2, ["done", "plan"], {}, [{"done": 1, "plan": 2}, {"done": 3, "plan": 2},
                                                     {"done": 0, "plan": 4}, {"done": 0, "plan": 0}])
    assert [r["points"] for r in rows] == [1, 2, 0, 2]  # plan 0 without a gate: nothing to do, full marks


def test_ratio_not_applicable_when_plan_is_zero_via_gate(table):
    t = make_table([item("X1", "ratio", 2, ["done", "plan"], {}, not_applicable_when={"field": "plan", "equals": 0}),
                    item("X2", "boolean", 8, ["flag"])])
    res = run(t, {"u0": {"done": 0, "plan": 0, "flag": 1}, "u1": {"done": 1, "plan": 2, "flag": 1}})
    r0, r1 = item_row(res, "u0", "X1"), item_row(res, "u1", "X1")
    assert (r0["status"], r0["max"], r0["points"]) == ("不适用", 0, 0)
    assert (r1["status"], r1["points"]) == ("未达标", 1)
    u = res.units.set_index("unit")
    assert u.loc["u0", "raw_max"] == 8 and u.loc["u0", "base"] == 10  # 8 / 8 × total 10
    assert u.loc["u1", "raw_max"] == 10 and u.loc["u1", "base"] == 9


# ---------------------------------------------------------------- stepped
def test_stepped_counts_whole_steps_rounded_up():
    rows, _ = one("stepped", 3, ["rate"], {"full_at": 90, "step": 10, "per_step": 0.5},
                  [{"rate": 90}, {"rate": 100}, {"rate": 89.99}, {"rate": 80}, {"rate": 72}, {"rate": 0}])
    # 90 → 0 steps; 89.99 → 1; 80 → exactly 1; 72 → 18/10 → 2; 0 → 9 steps → floor 0
    assert [r["points"] for r in rows] == [3, 3, 2.5, 2.5, 2, 0]


# ---------------------------------------------------------------- tiered
def test_tiered_thresholds_are_inclusive():
    rows, _ = one("tiered", 3, ["rate"], {"tiers": [[95, 3], [85, 2], [70, 1]]},
                  [{"rate": 95}, {"rate": 94.99}, {"rate": 85}, {"rate": 70}, {"rate": 69.9}, {"rate": 0}])
    assert [r["points"] for r in rows] == [3, 2, 2, 1, 0, 0]
    assert "低于最低档" in rows[4]["explanation"]


def test_tiered_thresholds_prorate_in_h1_only_when_listed():
    rows, _ = one("tiered", 3, ["n"], {"tiers": [[24, 3], [16, 2], [8, 1]]}, [{"n": 12}, {"n": 9}, {"n": 3}],
                  period="H1", prorate=["tiers"])
    assert [r["points"] for r in rows] == [3, 2, 0]  # tiers 12 / 8 / 4
    rows, _ = one("tiered", 3, ["n"], {"tiers": [[24, 3], [16, 2], [8, 1]]}, [{"n": 12}], period="H1")
    assert rows[0]["points"] == 1


# ---------------------------------------------------------------- boolean, deduction, manual
def test_boolean_done_or_not():
    rows, _ = one("boolean", 2, ["done"], {}, [{"done": 1}, {"done": 0}])
    assert [r["points"] for r in rows] == [2, 0]
    assert [r["status"] for r in rows] == ["达标", "未达标"]


def test_deduction_per_incident_floors_at_zero():
    rows, _ = one("deduction", 4, ["n"], {"per_item": 0.5}, [{"n": 0}, {"n": 1}, {"n": 3}, {"n": 8}, {"n": 20}])
    assert [r["points"] for r in rows] == [4, 3.5, 2.5, 0, 0]


def test_manual_judgement_is_clipped_and_missing_is_reported_missing():
    t = make_table([item("M1", "manual", 3), item("X2", "boolean", 97, ["flag"])])
    ev = {u: {"flag": 1} for u in ("u0", "u1", "u2", "u3")}
    adj = judgements([("u0", "M1", 2.5), ("u1", "M1", 5), ("u2", "M1", -1)])
    res = run(t, ev, adjustments=adj)
    got = [item_row(res, u, "M1") for u in ev]
    assert [r["points"] for r in got] == [2.5, 3, 0, 0]
    assert got[3]["status"] == "缺报" and got[3]["max"] == 3
    assert "尚未评定" in got[3]["explanation"]
    assert res.unit("u3")["raw_max"] == 100 and res.unit("u3")["base"] == 97


def test_judgement_last_one_counts():
    t = make_table([item("M1", "manual", 4)])
    adj = judgements([("u0", "M1", 1), ("u0", "M1", 3)])
    res = run(t, {"u0": {}}, adjustments=adj)
    assert item_row(res, "u0", "M1")["points"] == 3


def test_inspector_deduction_applies_after_the_rule_and_floors_at_zero():
    t = make_table([item("X1", "boolean", 2, ["done"])])
    adj = judgements([("u0", "X1", 0.5), ("u1", "X1", 5)], kind="deduction")
    res = run(t, {"u0": {"done": 1}, "u1": {"done": 1}}, adjustments=adj)
    assert item_row(res, "u0", "X1")["points"] == 1.5
    assert item_row(res, "u0", "X1")["deducted"] == 0.5
    assert item_row(res, "u1", "X1")["points"] == 0
    assert "扣完为止" in item_row(res, "u1", "X1")["explanation"]


# ---------------------------------------------------------------- 缺报 / 不适用 / 未到期
def test_negative_value_is_missing_not_zero():
    rows, res = one("deduction", 4, ["n"], {"per_item": 0.5}, [{"n": -3}])
    r = rows[0]
    assert (r["status"], r["points"], r["max"]) == ("缺报", 0, 4)
    assert "不能为负数" in r["explanation"]
    assert res.unit("u0")["missing_count"] == 1


def test_missing_value_is_missing_and_counts_in_the_maximum():
    t = make_table([item("X1", "count_target", 4, ["n"], {"target": 2, "per_miss": 1}),
                    item("X2", "boolean", 96, ["flag"])])
    res = run(t, {"u0": {"flag": 1}, "u1": {"flag": 1, "n": float("nan")}})
    for u in ("u0", "u1"):
        r = item_row(res, u, "X1")
        assert (r["status"], r["points"], r["max"]) == ("缺报", 0, 4)
        assert "未报送" in r["explanation"]
        assert res.unit(u)["raw_max"] == 100 and res.unit(u)["base"] == 96


def test_missing_gate_field_makes_the_item_missing_not_not_applicable():
    t = make_table([item("X1", "count_target", 2, ["n"], {"target": 2, "per_miss": 1},
                         not_applicable_when={"field": "has_groups", "equals": 0}),
                    item("X2", "boolean", 8, ["flag"])])
    res = run(t, {"u0": {"n": 2, "flag": 1}, "u1": {"n": 2, "has_groups": 0, "flag": 1},
                  "u2": {"n": 1, "has_groups": 1, "flag": 1}})
    assert item_row(res, "u0", "X1")["status"] == "缺报"
    assert item_row(res, "u1", "X1")["status"] == "不适用"
    assert item_row(res, "u2", "X1")["points"] == 1


def test_not_applicable_by_inspector_mark_rescales():
    t = make_table([item("X1", "boolean", 4, ["done"]), item("X2", "boolean", 6, ["flag"])])
    adj = pd.DataFrame({"unit": ["u0"], "item": ["X1"], "kind": ["not_applicable"], "points": [np.nan],
                        "reason": ["本期无此项工作"]})
    res = run(t, {"u0": {"done": 0, "flag": 1}, "u1": {"done": 0, "flag": 1}}, adjustments=adj)
    r = item_row(res, "u0", "X1")
    assert (r["status"], r["max"]) == ("不适用", 0)
    assert "考核组认定不适用" in r["explanation"] and "本期无此项工作" in r["explanation"]
    assert res.unit("u0")["base"] == 10 and res.unit("u1")["base"] == 6


def test_annual_item_is_not_due_in_h1_and_due_in_the_year():
    t = make_table([item("X1", "boolean", 2, ["done"], period="annual"), item("X2", "boolean", 8, ["flag"])])
    rows = {"u0": {"flag": 1}}  # X1 not reported: 未到期 wins over 缺报 in H1
    h1 = run(t, rows, "H1")
    r = item_row(h1, "u0", "X1")
    assert (r["status"], r["max"], r["points"]) == ("未到期", 0, 0)
    assert h1.unit("u0")["base"] == 10
    year = run(t, rows, "year")
    assert item_row(year, "u0", "X1")["status"] == "缺报"
    assert year.unit("u0")["base"] == 8


# ---------------------------------------------------------------- bonus and veto
BONUS = [item("J1", "bonus", 0, ["a", "b"], {"per_unit": {"a": 0.5, "b": 1}}, cap=3),
         item("J2", "bonus", 0, ["c"], {"per_unit": 1}, cap=2),
         item("J3", "bonus", 0, ["d"], {"per_unit": 2}, cap=3)]
VETO = [item("V1", "veto", 0, ["serious_violation"]), item("V2", "veto", 0, ["other_veto"])]


def _bonus_table(**kw):
    return make_table([item("X1", "boolean", 100, ["flag"])], bonus=BONUS, veto=VETO, **kw)


def test_bonus_per_item_cap_and_table_wide_cap():
    t = _bonus_table(bonus_cap=5)
    res = run(t, {"u0": {"flag": 0, "a": 1, "c": 1},           # 0.5 + 1
                  "u1": {"flag": 0, "a": 4, "b": 2},           # J1 2 + 2 = 4 → capped 3
                  "u2": {"flag": 0, "a": 10, "c": 5, "d": 1},  # 3 + 2 + 2 = 7 → table cap 5
                  "u3": {"flag": 0}})                          # missing bonus fields count 0
    u = res.units.set_index("unit")
    assert u.loc["u0", "bonus"] == 1.5
    assert item_row(res, "u1", "J1")["points"] == 3
    assert "超过单项上限" in item_row(res, "u1", "J1")["explanation"]
    assert u.loc["u1", "bonus"] == 3
    assert u.loc["u2", "bonus"] == 5
    assert u.loc["u3", "bonus"] == 0
    assert u.loc["u2", "total"] == 5  # base 0 + bonus; bonus is not rescaled


def test_bonus_is_not_rescaled_with_not_applicable_items():
    t = make_table([item("X1", "boolean", 50, ["flag"]),
                    item("X2", "boolean", 50, ["done"], not_applicable_when={"field": "has_groups", "equals": 0})],
                   bonus=BONUS[1:2])
    res = run(t, {"u0": {"flag": 1, "has_groups": 0, "done": 0, "c": 1}})
    assert res.unit("u0")["base"] == 100 and res.unit("u0")["total"] == 101


def test_veto_sets_the_grade_but_keeps_points_bonus_and_rank():
    t = _bonus_table()
    res = run(t, {"u0": {"flag": 1, "serious_violation": 1, "c": 2},
                  "u1": {"flag": 1, "other_veto": float("nan")},   # missing veto field counts 否
                  "u2": {"flag": 0}})
    u = res.units.set_index("unit")
    assert bool(u.loc["u0", "veto"]) and u.loc["u0", "grade"] == "不合格"
    assert u.loc["u0", "total"] == 102 and u.loc["u0", "bonus"] == 2
    assert u.loc["u0", "rank"] == 1  # ranked by its total like the others
    assert "一票否决" in u.loc["u0", "veto_reason"]
    assert not u.loc["u1", "veto"] and u.loc["u1", "grade"] == "优秀"
    assert item_row(res, "u1", "V2")["explanation"] == "未报送，按未发生计"
    assert u.loc["u2", "grade"] == "不合格" and not u.loc["u2", "veto"]


def test_two_vetoes_are_both_named():
    res = run(_bonus_table(), {"u0": {"flag": 1, "serious_violation": 1, "other_veto": 1}})
    reason = res.unit("u0")["veto_reason"]
    assert reason.count("一票否决") == 2 and "；" in reason


# ---------------------------------------------------------------- ranking and grades
def test_tied_totals_share_a_rank_competition_style():
    t = make_table([item("X1", "deduction", 10, ["n"], {"per_item": 1})])
    res = run(t, {"a": {"n": 0}, "b": {"n": 1}, "c": {"n": 1}, "d": {"n": 2}})
    u = res.units.set_index("unit")
    assert u["rank"].to_dict() == {"a": 1, "b": 2, "c": 2, "d": 4}
    # display order inside the tie: ★ points (equal here), then unit code
    assert u.loc["b", "display_order"] < u.loc["c", "display_order"]


def test_ranks_within_category():
    t = make_table([item("X1", "deduction", 10, ["n"], {"per_item": 1})])
    rows = {"a": {"n": 0}, "b": {"n": 1}, "c": {"n": 2}, "d": {"n": 3}, "e": {"n": 3}}
    res = run(t, rows, categories=["甲", "乙", "甲", "乙", "乙"])
    u = res.units.set_index("unit")
    assert u["rank"].to_dict() == {"a": 1, "b": 2, "c": 3, "d": 4, "e": 4}
    assert u["rank_in_category"].to_dict() == {"a": 1, "c": 2, "b": 1, "d": 2, "e": 2}
    assert list(res.ranking("乙")["unit"]) == ["b", "d", "e"]


def test_display_order_breaks_ties_by_core_points():
    t = make_table([item("K1", "boolean", 5, ["done"], core=True), item("X2", "boolean", 5, ["flag"])])
    res = run(t, {"a": {"done": 0, "flag": 1}, "b": {"done": 1, "flag": 0}})
    u = res.units.set_index("unit")
    assert u.loc["a", "rank"] == u.loc["b", "rank"] == 1
    assert u.loc["b", "display_order"] == 1  # more ★ points first, although "a" sorts first by code


def test_exact_grade_boundary_after_rescaling_is_the_higher_grade():
    # 18.9 of 21 due points is 90 % exactly, though 18.9 × 100 / 21 = 89.99999999999999 in floating point.
    assert 18.9 * 100 / 21 < 90
    t = make_table([item("X1", "ratio", 21, ["rate"], {"target": 100}),
                    item("X2", "boolean", 79, ["done"], not_applicable_when={"field": "has_groups", "equals": 0})])
    res = run(t, {"u0": {"rate": 90, "has_groups": 0}, "u1": {"rate": 89.9, "has_groups": 0}})
    u = res.units.set_index("unit")
    assert u.loc["u0", "raw_points"] == pytest.approx(18.9) and u.loc["u0", "raw_max"] == 21
    assert u.loc["u0", "total"] == 90
    assert u.loc["u0", "grade"] == "优秀"
    assert u.loc["u1", "grade"] == "良好"


def test_each_band_boundary_is_inclusive():
    t = make_table([item("X1", "ratio", 100, ["rate"], {"target": 100})])
    res = run(t, {"a": {"rate": 90}, "b": {"rate": 80}, "c": {"rate": 79.99}, "d": {"rate": 60}, "e": {"rate": 59.99}})
    assert res.units.set_index("unit")["grade"].to_dict() == {"a": "优秀", "b": "良好", "c": "合格", "d": "合格",
                                                              "e": "不合格"}


def test_every_registered_rule_is_exercised_here():
    used = {"count_target", "ratio", "stepped", "tiered", "boolean", "deduction", "manual", "bonus", "veto",
            "checklist", "rank", "penalty", "regular"}  # checklist, rank, penalty: test_table_language.py;
    # regular: tests/scoring/test_records.py
    assert set(RULES) == used


def test_odd_evidence_never_raises():
    t = make_table([item("X1", "count_target", 4, ["n"], {"target": 2, "per_miss": 1})])
    ev = pd.DataFrame({"unit": ["u0", "u0", "zz", "u1"], "field": ["n", "n", "n", "unknown"],
                       "value": ["十二", float("inf"), 3, 1]})
    res = score(t, ev, pd.DataFrame({"unit": ["u0", "u1"]}), "year")
    assert item_row(res, "u0", "X1")["status"] == "缺报"
    assert any("不在本期考核名单" in n for n in res.notes)


@pytest.mark.parametrize("rule,params", [("count_target", {"target": 12, "per_miss": 1}),
                                         ("deduction", {"per_item": 0.5}), ("ratio", {"target": 32})])
def test_absurdly_large_evidence_is_scored_and_explained_without_raising(rule, params):
    rows, _ = one(rule, 4, ["n"], params, [{"n": 1e300}, {"n": 2.5e17}])
    assert all(0 <= r["points"] <= 4 for r in rows)
    assert all(r["explanation"] for r in rows)
    assert "1e+300" in rows[0]["evidence"] or "1e+300" in rows[0]["explanation"]


def test_items_are_item_by_item_and_the_per_unit_accessors_pick_one_units_rows():
    t = make_table([item("X1", "count_target", 4, ["n"], {"target": 4, "per_miss": 1}),
                    item("X2", "boolean", 2, ["done"])])
    res = run(t, {"u0": {"n": 4, "done": 1}, "u1": {"n": 1, "done": 0}, "u2": {"n": 3}})
    # Documented order: every unit's row of the first item, then the next item (units in input order).
    assert list(zip(res.items["item"], res.items["unit"])) == [
        ("X1", "u0"), ("X1", "u1"), ("X1", "u2"), ("X2", "u0"), ("X2", "u1"), ("X2", "u2")]
    for u in ("u0", "u1", "u2"):
        got = res.items_for(u)
        assert list(got["unit"]) == [u, u] and list(got["item"]) == ["X1", "X2"]
        assert got["points"].tolist() == res.items[res.items["unit"] == u]["points"].tolist()
        assert list(res.areas_for(u)["unit"]) == [u] * len(t.areas)
        assert res.unit(u)["total"] == res.units.set_index("unit").loc[u, "total"]
    assert res.items_for("u1")["points"].tolist() == [1.0, 0.0]
    assert res.items_for("nobody").empty and res.areas_for("nobody").empty and res.unit("nobody") == {}
