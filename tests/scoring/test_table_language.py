"""The table language real bureau tables need (issue 17), each key at its boundaries.

Every expected number is worked out by hand in the comment beside it, from the
key's documented meaning; nothing here is computed by calling the engine twice.
"""
from __future__ import annotations

import copy

import pandas as pd
import pytest

from scoring.engine import score
from scoring.indicators import parse_table, table_to_dict

from .conftest import evidence, item, item_row, table_dict

STARS = [{"label": "五星", "min": 90}, {"label": "四星", "min": 80}, {"label": "三星", "min": 0}]
CLASSES = [{"label": "一类", "min": 90}, {"label": "二类", "min": 70}, {"label": "三类", "min": 0}]


def build(d: dict):
    t, problems = parse_table(d)
    assert not problems, [str(p) for p in problems]
    return t


def problems_of(d: dict) -> list[str]:
    t, problems = parse_table(d)
    assert t is None
    return [str(p) for p in problems]


def units_df(codes, categories=None, kinds=None) -> pd.DataFrame:
    codes = list(codes)
    d = {"unit": codes, "name": [f"单位{c}" for c in codes], "category": categories or ["甲"] * len(codes)}
    if kinds is not None:
        d["kind"] = kinds
    return pd.DataFrame(d)


def go(t, rows: dict, categories=None, kinds=None, adjustments=None, overrides=None, period="year"):
    ev = evidence(rows) if any(rows.values()) else pd.DataFrame(columns=["unit", "field", "value"])
    return score(t, ev, units_df(rows, categories, kinds), period, adjustments, overrides)


def unit(res, code: str) -> dict:
    return res.unit(code)


# ---------------------------------------------------------------- missing: zero | report
def test_missing_zero_means_no_finding_and_never_missing():
    d = table_dict([item("X1", "deduction", 2, ["findings"], {"per_item": 0.5}),
                    item("X2", "count_target", 2, ["meetings"], {"target": 2, "per_miss": 1})])
    d["fields"]["findings"]["missing"] = "zero"
    t = build(d)
    res = go(t, {"a": {"meetings": 2}, "b": {"findings": 1, "meetings": 2}})
    a = item_row(res, "a", "X1")
    assert (a["points"], a["status"]) == (2, "达标")       # blank findings = 0 incidents: full 2 points
    assert item_row(res, "b", "X1")["points"] == 1.5       # 2 − 1 × 0.5
    assert unit(res, "a")["missing_count"] == 0


def test_default_missing_zero_with_a_field_kept_as_report():
    d = table_dict([item("X1", "deduction", 2, ["findings"], {"per_item": 0.5}),
                    item("X2", "count_target", 2, ["meetings"], {"target": 2, "per_miss": 1})])
    d["default_missing"] = "zero"
    d["fields"]["meetings"]["missing"] = "report"
    res = go(build(d), {"a": {}})
    assert item_row(res, "a", "X1")["points"] == 2          # zero by the table default
    x2 = item_row(res, "a", "X2")
    assert (x2["points"], x2["status"]) == (0, "缺报")      # its own missing: report wins


def test_unknown_missing_mode_is_a_problem():
    d = table_dict([item("X1", "deduction", 2, ["findings"], {"per_item": 0.5})])
    d["fields"]["findings"]["missing"] = "maybe"
    assert any("missing" in p for p in problems_of(d))


# ---------------------------------------------------------------- deduction pools
def pool_table(**params):
    d = table_dict([item("X1", "deduction", 4, ["late", "notice", "report"],
                         {"per_item": {"late": 0.2, "notice": 0.3, "report": 0.5}, **params})])
    d["default_missing"] = "zero"
    return build(d)


def test_deduction_pool_shares_the_items_points_until_exhausted():
    t = pool_table()
    res = go(t, {"none": {}, "some": {"late": 5, "notice": 3, "report": 1},
                 "exact": {"report": 8}, "past": {"late": 10, "notice": 10, "report": 10}})
    # some: 5×0.2 + 3×0.3 + 1×0.5 = 1 + 0.9 + 0.5 = 2.4 → 4 − 2.4 = 1.6
    assert item_row(res, "some", "X1")["points"] == pytest.approx(1.6)
    assert item_row(res, "none", "X1")["points"] == 4
    exact = item_row(res, "exact", "X1")                     # 8 × 0.5 = 4: exactly exhausted
    assert (exact["points"], exact["status"]) == (0, "未达标")
    past = item_row(res, "past", "X1")                       # 2 + 3 + 5 = 10 > 4: floor 0
    assert past["points"] == 0 and "扣完为止" in past["explanation"]
    assert "扣完为止" not in exact["explanation"]
    assert "late 5 次×0.2 分" in item_row(res, "some", "X1")["explanation"]


def test_deduction_round_up_counts_a_part_as_one_and_round_none_keeps_fractions():
    res = go(pool_table(), {"u": {"late": 0.5}})
    assert item_row(res, "u", "X1")["points"] == pytest.approx(3.8)   # ⌈0.5⌉ = 1 finding × 0.2
    d = table_dict([item("P1", "deduction", 5, ["platform"], {"per_item": {"platform": 10}, "round": "none"})])
    d["fields"]["platform"]["kind"] = "number"
    t = build(d)
    res = go(t, {"a": {"platform": 0.3}, "b": {"platform": 0.5}, "c": {"platform": 0.55}})
    assert item_row(res, "a", "P1")["points"] == pytest.approx(2)     # 0.3 × 10 = 3 → 5 − 3
    assert item_row(res, "b", "P1")["points"] == 0                    # 5: exhausted
    assert item_row(res, "c", "P1")["points"] == 0                    # 5.5: past


def test_severity_rates_read_every_field():
    d = table_dict([item("X1", "deduction", 10, ["warned", "light", "heavy"],
                         {"per_item": {"warned": 1, "light": 3, "heavy": 5}})])
    d["default_missing"] = "zero"
    res = go(build(d), {"two_heavy": {"heavy": 2}})
    assert item_row(res, "two_heavy", "X1")["points"] == 0             # 2 × 5 = 10 of 10


@pytest.mark.parametrize("it", [
    item("X1", "deduction", 2, ["a", "b"], {"per_item": 0.5}),                   # scalar: reads one field
    item("X1", "count_target", 2, ["a", "b"], {"target": 2, "per_miss": 1}),
    item("X1", "boolean", 2, ["a", "b"]),
    item("X1", "deduction", 2, ["a", "b"], {"per_item": {"a": 0.5}}),            # b has no rate
    item("X1", "ratio", 2, ["a", "b"], {"target": 10}),                         # target: b unread
    item("X1", "checklist", 2, ["a", "b"], {"checks": [{"field": "a", "points": 2}]}),
])
def test_validation_refuses_a_field_the_rule_does_not_read(it):
    assert any("未被评分类型" in p and "b" in p for p in problems_of(table_dict([it])))


def test_bonus_with_per_field_rates_refuses_a_field_without_a_rate():
    d = table_dict([item("X1", "boolean", 1, ["done"])],
                   bonus=[item("J1", "bonus", 0, ["x", "y"], {"per_unit": {"x": 1}}, cap=2)])
    assert any("未被评分类型" in p and "y" in p for p in problems_of(d))


# ---------------------------------------------------------------- checklist
def test_checklist_subtracts_each_unmet_check_until_exhausted():
    d = table_dict([item("X1", "checklist", 3, ["plan", "record", "photo"],
                         {"checks": [{"field": "plan", "points": 1}, {"field": "record", "points": 1},
                                     {"field": "photo", "points": 1.5}]})])
    for f in ("plan", "record", "photo"):
        d["fields"][f].update(kind="bool", unit="是/否")
    t = build(d)
    res = go(t, {"all": {"plan": 1, "record": 1, "photo": 1}, "a": {"plan": 0, "record": 1, "photo": 1},
                 "ac": {"plan": 0, "record": 1, "photo": 0}, "none": {"plan": 0, "record": 0, "photo": 0}})
    assert item_row(res, "all", "X1")["points"] == 3
    assert item_row(res, "a", "X1")["points"] == 2                    # 3 − 1
    ac = item_row(res, "ac", "X1")
    assert ac["points"] == pytest.approx(0.5)                         # 3 − 1 − 1.5
    assert "plan、photo" in ac["explanation"]
    assert item_row(res, "none", "X1")["points"] == 0                 # 3.5 > 3: floor


def test_checklist_worth_less_than_its_item_is_a_problem():
    d = table_dict([item("X1", "checklist", 3, ["plan"], {"checks": [{"field": "plan", "points": 1}]})])
    assert any("少于本项分值" in p for p in problems_of(d))


# ---------------------------------------------------------------- groups
def grouped(points_g1=6):
    d = table_dict([item("Z1", "boolean", 0, ["done"])])
    d["areas"] = [{"code": "A", "name": "组织建设", "points": 10, "groups": [
        {"code": "A1", "name": "班子建设", "points": points_g1,
         "items": [item("X1", "boolean", 4, ["done"]), item("X2", "boolean", 2, ["flag"])]},
        {"code": "A2", "name": "阵地建设", "points": 4, "items": [item("X3", "boolean", 4, ["has_groups"])]}]}]
    d["total"] = 10
    for f in ("flag", "has_groups"):
        d["fields"][f] = {"label": f, "unit": "是/否", "kind": "bool"}
    return d


def test_groups_add_up_and_give_subtotals():
    t = build(grouped())
    res = go(t, {"u": {"done": 1, "flag": 0, "has_groups": 1}})
    g = res.groups.set_index("group")
    assert g.loc["A1", "points"] == 4 and g.loc["A1", "max"] == 6        # X1 4 + X2 0
    assert g.loc["A2", "points"] == 4 and g.loc["A2", "group_name"] == "阵地建设"
    again = build(table_to_dict(t))
    assert [i.group for i in again.items] == ["A1", "A1", "A2"]


def test_groups_not_adding_up_are_a_problem():
    ps = problems_of(grouped(points_g1=5))
    assert any("A/A1" in p and "6" in p and "5" in p for p in ps)


# ---------------------------------------------------------------- penalties
def penalty_table(cap=None, penalty_cap=None):
    d = table_dict([item("X1", "ratio", 50, ["rate"], {"target": 100}),
                    item("X2", "boolean", 50, ["done"], not_applicable_when={"field": "has_groups", "equals": 0})])
    d["penalty"] = [item("P1", "penalty", 0, ["warned", "light", "heavy"],
                         {"per_unit": {"warned": 1, "light": 3, "heavy": 5}}),
                    item("P2", "penalty", 0, ["platform"], {"per_unit": 10}, **({"cap": cap} if cap else {}))]
    for f in ("warned", "light", "heavy", "platform"):
        d["fields"][f] = {"label": f, "unit": "次", "kind": "number"}
    if penalty_cap:
        d["penalty_cap"] = penalty_cap
    return build(d)


def full(**extra):
    return {"rate": 100, "done": 1, "has_groups": 1, **extra}


def test_penalties_subtract_after_rescaling_past_and_without_caps():
    res = go(penalty_table(cap=4), {
        "light": full(light=3),                # 100 − 9 = 91
        "heavy": full(heavy=3),                # no cap on P1: 100 − 15 = 85
        "plat": full(platform=0.3),            # 0.3 × 10 = 3 (fractions kept) → 97
        "plat_cap": full(platform=0.5),        # 5 > cap 4 → 96
        "floor": {"rate": 10, "done": 0, "has_groups": 1, "heavy": 3},  # 5 − 15 → floor 0
        "rescaled": {"rate": 50, "has_groups": 0, "light": 1},          # X2 n/a: 25/50×100 = 50 − 3 = 47
    })
    totals = res.units.set_index("unit")["total"].to_dict()
    assert totals == pytest.approx({"light": 91, "heavy": 85, "plat": 97, "plat_cap": 96, "floor": 0,
                                    "rescaled": 47})
    assert unit(res, "heavy")["penalty"] == 15
    assert item_row(res, "plat_cap", "P2")["status"] == "减分"


def test_penalty_cap_bounds_the_sum():
    res = go(penalty_table(penalty_cap=12), {"heavy": full(heavy=3), "light": full(light=3)})
    assert unit(res, "heavy")["total"] == 88      # 15 → capped 12
    assert unit(res, "light")["total"] == 91      # 9 < 12


# ---------------------------------------------------------------- manual ranges
def test_manual_min_max_bounds_the_judgement():
    d = table_dict([item("M1", "manual", 4, [], {"min": 1, "max": 3})])
    t = build(d)
    adj = pd.DataFrame([("lo", "M1", "judgement", 0.5, "r"), ("hi", "M1", "judgement", 3.5, "r")],
                       columns=["unit", "item", "kind", "points", "reason"])
    res = go(t, {"lo": {}, "hi": {}, "none": {}}, adjustments=adj)
    assert item_row(res, "lo", "M1")["points"] == 1
    assert item_row(res, "hi", "M1")["points"] == 3
    assert item_row(res, "none", "M1")["status"] == "缺报"


def test_manual_deduct_range_starts_full_and_deducts_within_the_range():
    t = build(table_dict([item("M1", "manual", 4, [], {"deduct_range": [1, 3]})]))
    adj = pd.DataFrame([(u, "M1", "judgement", p, "r") for u, p in (("two", 2), ("small", 0.5), ("big", 5))],
                       columns=["unit", "item", "kind", "points", "reason"])
    res = go(t, {"none": {}, "two": {}, "small": {}, "big": {}}, adjustments=adj)
    n = item_row(res, "none", "M1")
    assert (n["points"], n["status"]) == (4, "达标")     # nothing entered: nothing found
    assert item_row(res, "two", "M1")["points"] == 2     # 4 − 2
    assert item_row(res, "small", "M1")["points"] == 3   # 0.5 raised to the least deduction 1
    assert item_row(res, "big", "M1")["points"] == 1     # 5 bounded by 3


def test_deduct_range_outside_the_points_is_a_problem():
    assert any("deduct_range" in p for p in problems_of(table_dict([item("M1", "manual", 2, [], {"deduct_range": [1, 3]})])))


# ---------------------------------------------------------------- veto set / cap
def veto_table():
    d = table_dict([item("X1", "ratio", 100, ["rate"], {"target": 100})], grades=CLASSES,
                   veto=[item("V1", "veto", 0, ["serious_violation"], grade="三类"),
                         item("V2", "veto", 0, ["other_veto"], grade="二类", mode="cap")])
    return build(d)


def test_veto_cap_bounds_the_grade_and_set_fixes_it():
    res = go(veto_table(), {
        "cap_high": {"rate": 100, "other_veto": 1},       # 一类 by points, capped → 二类
        "cap_low": {"rate": 50, "other_veto": 1},         # 三类 by points: a cap never raises
        "set_high": {"rate": 100, "serious_violation": 1},  # fixed 三类
        "both": {"rate": 80, "serious_violation": 1, "other_veto": 1},
        "clean": {"rate": 95},
    })
    g = res.units.set_index("unit")
    assert g["grade"].to_dict() == {"cap_high": "二类", "cap_low": "三类", "set_high": "三类", "both": "三类",
                                    "clean": "一类"}
    assert g.loc["cap_high", "grade_reason"] == "因「指标V2」，最高定为二类"
    assert g.loc["set_high", "grade_reason"] == "一票否决：指标V1，定为三类"
    assert "分数线" in g.loc["cap_low", "grade_reason"] and "分数线" in g.loc["clean", "grade_reason"]
    assert not g.loc["cap_high", "veto"] and g.loc["set_high", "veto"]


def test_veto_grade_must_be_a_listed_grade():
    d = table_dict([item("X1", "ratio", 100, ["rate"], {"target": 100})], grades=CLASSES,
                   veto=[item("V1", "veto", 0, ["serious_violation"], grade="四类")])
    assert any("四类" in p for p in problems_of(d))


# ---------------------------------------------------------------- requires
def test_grade_requires_core_a_field_value_and_a_minimum():
    grades = copy.deepcopy(STARS)
    grades[0]["requires"] = [{"core": True}, {"field": "flag", "equals": "是"}]
    grades[1]["requires"] = [{"field": "rate", "min": 90}]
    d = table_dict([item("X1", "boolean", 10, ["done"], core=True), item("X2", "ratio", 90, ["rate"], {"target": 100})],
                   grades=grades)
    d["fields"]["flag"] = {"label": "flag", "unit": "是/否", "kind": "bool"}
    t = build(d)
    res = go(t, {
        "ok": {"done": 1, "rate": 95, "flag": 1},          # 10 + 85.5 = 95.5 → 五星
        "no_flag": {"done": 1, "rate": 95, "flag": 0},     # fails 五星 (flag) → 四星 (rate ≥ 90)
        "low_rate": {"done": 1, "rate": 89, "flag": 0},    # 10 + 80.1 = 90.1: 五星 fails → 四星 fails (89 < 90) → 三星
    })
    g = res.units.set_index("unit")
    assert g["grade"].to_dict() == {"ok": "五星", "no_flag": "四星", "low_rate": "三星"}
    assert g.loc["no_flag", "grade_reason"] == "未满足五星的条件（flag为是），定为四星"
    assert "rate不低于 90%" in g.loc["low_rate", "grade_reason"]


# ---------------------------------------------------------------- quotas
def quota_table(max_pct=30, min_pct=None, scope=None, tie_break=None):
    grades = copy.deepcopy(STARS)
    grades[0]["max_pct"] = max_pct
    if min_pct is not None:
        grades[2]["min_pct"] = min_pct
    d = table_dict([item("X1", "ratio", 100, ["rate"], {"target": 100})], grades=grades)
    if scope:
        d["quota_scope"] = scope
    if tie_break:
        d["tie_break"] = tie_break
    return build(d)


TOTALS = [99, 98, 97, 96, 95, 94, 85, 84, 70, 60]


def test_quota_moves_units_beyond_it_to_the_next_grade_by_display_order():
    rows = {f"u{k}": {"rate": v} for k, v in enumerate(TOTALS)}
    res = go(quota_table(), rows)
    g = res.units.set_index("unit")
    # 6 units reach 90; ⌊10 × 30 %⌋ = 3 stay 五星, the next 3 become 四星
    assert list(g["grade"]) == ["五星"] * 3 + ["四星"] * 5 + ["三星"] * 2
    assert g.loc["u3", "grade_reason"] == "因名额限制（五星≤30%）定为四星"
    assert "分数线" in g.loc["u2", "grade_reason"]


def test_quota_tie_at_the_boundary_follows_tie_break():
    totals = [99, 98, 97, 97, 60, 60, 60, 60, 60, 60]
    rows = {f"u{k}": {"rate": v} for k, v in enumerate(totals)}
    g = go(quota_table(), rows).units.set_index("unit")
    assert (g.loc["u2", "grade"], g.loc["u3", "grade"]) == ("五星", "四星")   # tie on 97: code u2 first
    # the same tie with the codes the other way round: the earlier code keeps the slot
    rows = {"b": {"rate": 97}, "a": {"rate": 97}, "x": {"rate": 99}, "y": {"rate": 98},
            **{f"z{k}": {"rate": 60} for k in range(6)}}
    g = go(quota_table(), rows).units.set_index("unit")
    assert (g.loc["a", "grade"], g.loc["b", "grade"]) == ("五星", "四星")


def test_min_pct_takes_the_last_units_of_the_grade_above():
    rows = {f"u{k}": {"rate": v} for k, v in enumerate(TOTALS)}
    g = go(quota_table(max_pct=100, min_pct=30), rows).units.set_index("unit")
    # ⌈10 × 30 %⌉ = 3 三星 needed; 70 and 60 are 三星, so 84 (last 四星) moves down
    assert list(g["grade"]) == ["五星"] * 6 + ["四星"] + ["三星"] * 3
    assert g.loc["u7", "grade_reason"] == "因比例要求（三星≥30%）定为三星"


def test_quota_per_category_and_over_all_units():
    rows = {f"a{k}": {"rate": 99 - k} for k in range(5)} | {f"b{k}": {"rate": 94 - k} for k in range(5)}
    cats = ["甲"] * 5 + ["乙"] * 5
    g = go(quota_table(), rows, categories=cats).units.set_index("unit")
    # per category: ⌊5 × 30 %⌋ = 1 五星 each
    assert sorted(g.index[g["grade"] == "五星"]) == ["a0", "b0"]
    g = go(quota_table(scope="all"), rows, categories=cats).units.set_index("unit")
    # over all 10: 3 五星, the best three totals (99, 98, 97 all in 甲)
    assert sorted(g.index[g["grade"] == "五星"]) == ["a0", "a1", "a2"]


# ---------------------------------------------------------------- components and weights
def weighted_table(requires=None, penalty=False):
    d = table_dict([], areas=[("A", [item("X1", "ratio", 70, ["base_rate"], {"target": 100})]),
                              ("B", [item("Y1", "ratio", 30, ["review_rate"], {"target": 100})])],
                   grades=copy.deepcopy(CLASSES))
    d["areas"][0]["component"] = "基础"
    d["areas"][1]["component"] = "评议"
    d["areas"][1]["applies_to"] = {"categories": ["甲"]}
    d["weights"] = {"基础": 0.7, "评议": 0.3}
    d["fields"]["base_rate"]["unit"] = d["fields"]["review_rate"]["unit"] = "%"
    if requires:
        d["grades"][0]["requires"] = requires
    if penalty:
        d["penalty"] = [item("P1", "penalty", 0, ["heavy"], {"per_unit": 5}, component="基础")]
        d["fields"]["heavy"] = {"label": "heavy", "unit": "次", "kind": "count", "missing": "zero"}
    return build(d)


def test_components_are_rescaled_and_weighted_and_a_missing_one_drops_out():
    res = go(weighted_table(), {"both": {"base_rate": 80, "review_rate": 90},
                                "only_base": {"base_rate": 90}}, categories=["甲", "乙"])
    # both: 基础 56/70 → 80, 评议 27/30 → 90: 0.7 × 80 + 0.3 × 90 = 83
    assert unit(res, "both")["total"] == pytest.approx(83)
    # only_base: 评议 not applicable to 乙 → weight renormalised: 基础 63/70 → 90 alone
    assert unit(res, "only_base")["total"] == pytest.approx(90)
    c = res.components.set_index(["unit", "component"])
    assert c.loc[("only_base", "评议"), "weight"] == 0 and c.loc[("both", "评议"), "score"] == pytest.approx(90)


def test_component_penalty_subtracts_from_its_component_before_weighting():
    res = go(weighted_table(penalty=True), {"u": {"base_rate": 80, "review_rate": 90, "heavy": 1}})
    # 基础 80 − 5 = 75 → 0.7 × 75 + 0.3 × 90 = 52.5 + 27 = 79.5
    assert unit(res, "u")["total"] == pytest.approx(79.5)


def test_grade_requires_a_minimum_in_another_component():
    t = weighted_table(requires=[{"component": "评议", "min": 85}])
    res = go(t, {"hi": {"base_rate": 100, "review_rate": 90}, "lo": {"base_rate": 100, "review_rate": 80}},
             categories=["甲", "甲"])
    # hi: 0.7 × 100 + 0.3 × 90 = 97, 评议 90 ≥ 85 → 一类; lo: 94, 评议 80 < 85 → 二类
    assert unit(res, "hi")["grade"] == "一类" and unit(res, "lo")["grade"] == "二类"


def test_area_without_a_component_under_weights_is_a_problem():
    d = table_dict([item("X1", "ratio", 100, ["rate"], {"target": 100})])
    d["weights"] = {"基础": 1}
    assert any("component" in p for p in problems_of(d))


# ---------------------------------------------------------------- applies_to
def test_applies_to_marks_other_units_not_applicable_and_rescales():
    d = table_dict([item("X1", "boolean", 6, ["done"]),
                    item("X2", "boolean", 4, ["flag"], applies_to={"kinds": ["党总支"]})])
    res = go(build(d), {"zong": {"done": 1, "flag": 0}, "zhi": {"done": 1}}, kinds=["党总支", "党支部"])
    # on the table's 10-point scale — 党总支: 6 + 0 of 10 → 6; 党支部: X2 不适用 → 6 of 6 → 10
    assert unit(res, "zong")["total"] == 6 and unit(res, "zhi")["total"] == 10
    x2 = item_row(res, "zhi", "X2")
    assert x2["status"] == "不适用" and "党总支" in x2["explanation"] and x2["max"] == 0


# ---------------------------------------------------------------- rank
def test_rank_by_place_list_shares_points_on_ties_within_the_category():
    d = table_dict([item("R1", "rank", 10, ["output"], {"points_by_place": [10, 8, 6]})])
    rows = {"a": {"output": 50}, "b": {"output": 40}, "c": {"output": 40}, "d": {"output": 30}, "e": {"output": 20}}
    res = go(build(d), rows, categories=["甲", "甲", "甲", "甲", "乙"])
    got = {u: item_row(res, u, "R1")["points"] for u in rows}
    # 甲: places 1, 2, 2, 4 → 10, 8, 8, 0 (no 4th entry); 乙: e alone is first → 10
    assert got == {"a": 10, "b": 8, "c": 8, "d": 0, "e": 10}
    assert "排名第 2 名" in item_row(res, "c", "R1")["explanation"]


def test_rank_proportional_to_the_first():
    d = table_dict([item("R1", "rank", 10, ["output"], {"proportional": True})])
    res = go(build(d), {"a": {"output": 50}, "b": {"output": 40}, "c": {"output": 30}, "d": {}})
    got = {u: item_row(res, u, "R1")["points"] for u in "abcd"}
    assert got == pytest.approx({"a": 10, "b": 8, "c": 6, "d": 0})
    assert item_row(res, "d", "R1")["status"] == "缺报"


# ---------------------------------------------------------------- 直接定级
def test_override_needs_allow_override_and_says_so():
    d = table_dict([item("X1", "ratio", 100, ["rate"], {"target": 100})], grades=CLASSES)
    ov = pd.DataFrame({"unit": ["a"], "grade": ["一类"], "reason": ["荣获区级先进基层党组织"]})
    res = go(build(d), {"a": {"rate": 50}}, overrides=ov)
    assert unit(res, "a")["grade"] == "三类" and any("直接定级" in n for n in res.notes)
    d["allow_override"] = True
    res = go(build(d), {"a": {"rate": 50}}, overrides=ov)
    assert unit(res, "a")["grade"] == "一类"
    assert unit(res, "a")["grade_reason"] == "直接定级：荣获区级先进基层党组织"


# ---------------------------------------------------------------- round trip
def test_every_new_key_survives_table_to_dict():
    d = table_dict([item("X1", "deduction", 4, ["a", "b"], {"per_item": {"a": 1, "b": 2}, "round": "none"},
                         content="考核内容", method="查阅资料", owner="组织部", applies_to={"categories": ["甲"]})],
                   grades=copy.deepcopy(STARS),
                   veto=[item("V1", "veto", 0, ["serious_violation"], grade="四星", mode="cap")])
    d["grades"][0].update(max_pct=30, requires=[{"core": True}])
    d["grades"][2]["min_pct"] = 5
    d.update(default_missing="zero", quota_scope="all", allow_override=True)
    d["penalty"] = [item("P1", "penalty", 0, ["c"], {"per_unit": 1}, cap=3)]
    d["fields"]["c"] = {"label": "c", "unit": "次", "kind": "count", "missing": "report"}
    t = build(d)
    again = build(table_to_dict(t))
    assert table_to_dict(again) == table_to_dict(t)
    x1 = again.item("X1")
    assert (x1.content, x1.method, x1.owner, x1.applies_to) == ("考核内容", "查阅资料", "组织部", {"categories": ["甲"]})
    assert again.grades[0].max_pct == 30 and again.grades[2].min_pct == 5 and again.allow_override
    assert again.veto[0].mode == "cap" and again.penalty[0].cap == 3 and again.fields["c"].missing == "report"


def test_a_candidate_held_back_by_a_grade_quota_is_told_so():
    from scoring.candidates import shortlist

    from dataclasses import replace

    t = quota_table()
    t = replace(t, candidates=replace(t.candidates, quota_pct=50))   # 5 slots: ranks 1–5 are listed
    rows = {f"u{k}": {"rate": v} for k, v in enumerate(TOTALS)}
    res = go(t, rows)
    out = shortlist(t, res, "year").set_index("unit")
    # u3 (96) reached 90 but the 五星 quota (3 of 10) moved it to 四星: its reason names the quota
    assert out.loc["u3", "status"] == "未入选"
    assert "因名额限制（五星≤30%）定为四星" in out.loc["u3", "reason"]


def test_the_gap_to_the_next_grade_counts_penalties():
    from scoring.gaps import grade_gaps

    t = penalty_table()
    res = go(t, {"u": full(rate=90, light=1)})   # 50 × 0.9 + 50 = 95, − 3 = 92 ≥ 90 → 优秀
    assert unit(res, "u")["grade"] == "优秀"
    res = go(t, {"u": full(rate=80, light=2)})   # 40 + 50 = 90 − 6 = 84 → 良好
    gaps = grade_gaps(t, res, "year")
    first = gaps[gaps["unit"] == "u"].iloc[0]
    # to reach 90 the base must be 96 (90 + 6 of penalty): raw points needed = 96 − 90 = 6 (scale 100 = raw 100)
    assert first["needed_raw"] == pytest.approx(6) and first["needed_total"] == pytest.approx(6)
