"""先进基层党组织 shortlist: quota arithmetic, slot pass-down, conditions and reasons."""
from __future__ import annotations

import pytest

from scoring.candidates import CANDIDATE_COLUMNS, period_note, quota_for, shortlist, summary
from scoring.indicators import CandidateRules

from .conftest import item, make_table, run

ITEMS = [item("K1", "boolean", 5, ["done"], core=True), item("X2", "deduction", 95, ["n"], {"per_item": 1})]
VETO = [item("V1", "veto", 0, ["serious_violation"])]


def table(**cand):
    rules = {"grade": "优秀", "quota_pct": 15, "quota_min": 1, "require_core": True,
             "no_overdue_rectification": True, "previous_min_grade": None, "annual_only": True}
    rules.update(cand)
    return make_table(ITEMS, veto=VETO, candidates=rules)


def unit(total_lost: int, core: bool = True, veto: bool = False) -> dict:
    return {"done": float(core), "n": float(total_lost), "serious_violation": float(veto)}


def by_unit(df):
    return df.set_index("unit")


@pytest.mark.parametrize("n,pct,minimum,quota", [
    (1, 15, 1, 1), (6, 15, 1, 1), (7, 15, 1, 1), (13, 15, 1, 1), (14, 15, 1, 2), (20, 15, 1, 3),
    (33, 15, 1, 4), (100, 15, 1, 15), (30, 10, 1, 3), (5, 15, 2, 2), (40, 15, 0, 6), (3, 15, 0, 0),
])
def test_quota_is_max_of_minimum_and_floor_of_share(n, pct, minimum, quota):
    assert quota_for(CandidateRules(quota_pct=pct, quota_min=minimum), n) == quota


def test_ineligible_units_place_passes_to_the_next_eligible_one():
    t = table()
    rows = {"u1": unit(0), "u2": unit(1), "u3": unit(2), "u4": unit(15), "u5": unit(20), "u6": unit(25),
            "u7": unit(30)}
    res = run(t, rows)
    df = shortlist(t, res, "year", overdue={"u1": 1, "u5": 2}, previous_grades={})
    assert list(df.columns) == CANDIDATE_COLUMNS
    d = by_unit(df)
    assert list(df["unit"]) == ["u1", "u2", "u3"]  # u4.. are neither 优秀 nor within the quota
    assert d["quota"].tolist() == [1, 1, 1] and d["category_units"].tolist() == [7, 7, 7]
    assert d.loc["u1", "status"] == "未入选"
    assert d.loc["u1", "reason"] == "类别排名第 1，但有 1 项整改逾期未销号"
    assert d.loc["u1", "failed"] == ["整改逾期未销号"]
    assert d.loc["u2", "status"] == "候选"
    assert d.loc["u2", "reason"].startswith("类别排名第 2，等次优秀，★指标全部达标，无逾期整改")
    assert "顺延" in d.loc["u2", "reason"]
    assert d.loc["u2", "failed"] == []
    assert d.loc["u3", "status"] == "未入选"
    assert d.loc["u3", "reason"] == "类别排名第 3，符合条件，但名额已满（本类别名额 1 个）"
    assert d.loc["u3", "failed"] == ["名额已满"]
    assert summary(df) == "共 1 个候选单位：类别甲 1 个"


def test_quota_per_category_of_twenty_is_three():
    t = table()
    rows = {f"a{k:02d}": unit(k) for k in range(20)}   # a00..a09 优秀 (≥ 90)
    rows.update({f"b{k}": unit(k) for k in range(3)})  # category 乙: 3 units → quota 1
    cats = ["甲"] * 20 + ["乙"] * 3
    df = shortlist(t, run(t, rows, categories=cats), "year", overdue={}, previous_grades=None)
    chosen = df[df["status"] == "候选"]
    assert chosen["unit"].tolist() == ["a00", "a01", "a02", "b0"]
    assert by_unit(df).loc["a00", "quota"] == 3 and by_unit(df).loc["b0", "quota"] == 1
    # eligible 优秀 units beyond the quota are listed as near-misses
    full = df[df["failed"].map(lambda f: f == ["名额已满"])]
    assert full["unit"].tolist() == [f"a{k:02d}" for k in range(3, 11)] + ["b1", "b2"]
    assert "名额已满（本类别名额 3 个）" in by_unit(df).loc["a05", "reason"]
    assert list(df["category"].unique()) == ["甲", "乙"]


def test_core_items_veto_and_grade_conditions():
    t = table()
    rows = {"veto": unit(0, veto=True), "nocore": unit(0, core=False), "good": unit(4), "ok": unit(12),
            "low": unit(30), "l2": unit(31), "l3": unit(32)}
    res = run(t, rows)
    df = shortlist(t, res, "year", overdue={}, previous_grades=None)
    d = by_unit(df)
    assert d.loc["veto", "rank_in_category"] == 1 and d.loc["veto", "status"] == "未入选"
    assert "一票否决" in d.loc["veto", "failed"]
    assert "一票否决" in d.loc["veto", "reason"]
    assert d.loc["nocore", "grade"] == "优秀" and d.loc["nocore", "failed"] == ["★指标未全部达标"]
    assert d.loc["nocore", "reason"] == "类别排名第 3，但★指标有 1 项未达标"  # 95, behind veto 100 and good 96
    assert d.loc["good", "status"] == "候选"
    assert "ok" not in d.index and "low" not in d.index


def test_grade_below_required_within_quota_is_a_near_miss():
    t = table()
    rows = {f"u{k}": unit(15 + k) for k in range(7)}  # nobody 优秀
    df = shortlist(t, run(t, rows), "year", overdue={}, previous_grades=None)
    assert df["unit"].tolist() == ["u0"]
    assert df["status"].tolist() == ["未入选"]
    assert df["reason"].iloc[0] == "类别排名第 1，但等次为良好"
    assert df["failed"].iloc[0] == ["等次未达优秀"]
    assert summary(df) == "没有符合条件的候选单位"


def test_previous_year_grade_condition_and_when_it_is_skipped():
    t = table(previous_min_grade="良好", quota_pct=50)
    rows = {"u1": unit(0), "u2": unit(1), "u3": unit(2), "u4": unit(3)}  # quota 2
    res = run(t, rows)
    df = by_unit(shortlist(t, res, "year", overdue={}, previous_grades={"u1": "合格", "u2": "优秀"}))
    assert df.loc["u1", "failed"] == ["上年度等次低于良好"]
    assert df.loc["u1", "reason"] == "类别排名第 1，但上年度等次为合格"
    assert df.loc["u2", "status"] == "候选" and df.loc["u2", "reason"].endswith("上年度优秀")
    assert df.loc["u3", "status"] == "候选"  # not in last year's results: not held to it
    assert "上年度无该单位考核结果" in df.loc["u3", "reason"]
    assert df.loc["u4", "failed"] == ["名额已满"]
    skipped = by_unit(shortlist(t, res, "year", overdue={}, previous_grades=None))
    assert skipped.loc["u1", "status"] == "候选"
    assert "上年度考核结果未录入，未核对上年度等次" in skipped.loc["u1", "reason"]


def test_overdue_none_means_not_checked():
    t = table()
    rows = {f"u{k}": unit(k) for k in range(3)}
    df = shortlist(t, run(t, rows), "year")
    assert df["status"].iloc[0] == "候选"
    assert "未核对整改情况" in df["reason"].iloc[0]


def test_half_year_gives_no_candidates_and_a_note():
    t = table()
    res = run(t, {"u1": unit(0)}, "H1")
    assert period_note(t, "H1") == "先进基层党组织仅在年度考核中推荐"
    assert period_note(t, "2026H1") == "先进基层党组织仅在年度考核中推荐"
    assert period_note(t, "year") is None
    df = shortlist(t, res, "H1", overdue={}, previous_grades=None)
    assert len(df) == 0 and list(df.columns) == CANDIDATE_COLUMNS
    assert df.attrs["note"] == "先进基层党组织仅在年度考核中推荐"
    assert summary(df) == "先进基层党组织仅在年度考核中推荐"
    t2 = table(annual_only=False)
    assert period_note(t2, "H1") is None
    assert shortlist(t2, res, "H1")["status"].tolist() == ["候选"]
