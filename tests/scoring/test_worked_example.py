"""The worked example of the indicator-table spec, figure by figure.

The evidence is copied here from the spec (not imported from data/demo.py), so
this test checks the engine against the hand computation alone.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from scoring.engine import score
from scoring.gaps import area_gaps, grade_gaps, unit_gap_text
from scoring.rules import fmt_fixed2

UNIT = "C01"
EVIDENCE = {  # 「市局机关第一党支部」, 2026H1, as listed in the spec; 是 = 1, 否 = 0
    "study_sessions": 5, "seminar_sessions": 1, "reading_rate": 72, "ideology_review": 1, "exam_rate": 88,
    "election_on_time": 1, "cadre_training_hours": 9, "leader_visits": 1, "committee_meetings": 6,
    "general_meetings": 1, "has_groups": 0, "party_lectures": 2, "theme_days": 6, "special_org_life": 1,
    "talk_coverage": 80, "member_training_hours": 12, "dues_rate": 100, "record_errors": 1,
    "spirit_activities": 0, "benchmarking_visits": 1, "ledger_defects": 3, "rectified_rate": 75,
    "disclosure_issues": 2, "collective_review": 1, "service_done_rate": 50, "research_reports": 0,
    "publicity_items": 1, "integration_measures": 1, "care_visits": 1, "mass_activities": 1,
    "articles_city": 1, "excellent_lectures": 1,
    "serious_violation": 0, "ideology_incident": 0, "major_accident": 0,
}
F2_JUDGEMENT = 2.5

# "Points:" line of the spec.
POINTS = {
    "A1": 3, "A2": 3, "A3": 2, "A4": 2, "A5": 2,
    "B1": 3, "B3": 2, "B4": 2,
    "C1": 4, "C2": 1.5, "C4": 3, "C6": 4, "C8": 2, "C10": 0.8,
    "D1": 3, "D2": 3, "D4": 1.5, "D5": 1, "D6": 2,
    "E1": 2.5, "E2": 1, "E3": 2, "E4": 1,
    "F1": 1.5, "F2": 2.5, "F3": 1, "F4": 1.5,
    "G1": 2, "H1": 2, "H2": 3,
}
AREAS = {"A": 12, "B": 7, "C": 15.3, "D": 10.5, "E": 6.5, "F": 6.5, "G": 2, "H": 5}
ANNUAL = ["B2", "C5", "C7", "C9", "D3", "G2", "G3", "G4"]
H1_TARGETS = {"A1": 6, "A2": 1, "B4": 1, "C1": 6, "C2": 2, "C3": 6, "C4": 2, "C6": 6, "D5": 1, "D6": 1,
              "E3": 2, "F3": 1, "F4": 2, "G1": 1, "H2": 1, "D1": 16}


@pytest.fixture(scope="module")
def result(table):
    ev = pd.DataFrame({"unit": UNIT, "field": list(EVIDENCE), "value": list(EVIDENCE.values())})
    units = pd.DataFrame({"unit": [UNIT], "name": ["市局机关第一党支部"], "category": ["市局机关支部"]})
    adj = pd.DataFrame({"unit": [UNIT], "item": ["F2"], "kind": ["judgement"], "points": [F2_JUDGEMENT],
                        "reason": ["文山会海整治基本到位"]})
    return score(table, ev, units, "H1", adj)


@pytest.fixture(scope="module")
def items(result):
    return result.items.set_index("item")


def test_h1_targets_are_half_the_annual_rounded_up(table):
    for code, target in H1_TARGETS.items():
        assert table.item(code).params_for(True)["target"] == target, code
    assert table.item("B3").params_for(True)["tiers"] == [[12, 3], [8, 2], [4, 1]]
    # Rate thresholds are not pro-rated.
    assert table.item("A5").params_for(True)["tiers"] == [[95, 3], [85, 2], [70, 1]]
    assert table.item("A3").params_for(True)["full_at"] == 90


@pytest.mark.parametrize("code,points", sorted(POINTS.items()))
def test_item_points_match_the_spec(items, code, points):
    assert items.loc[code, "points"] == pytest.approx(points, abs=1e-12)


def test_every_due_item_is_listed_in_the_spec(items):
    due = items[(items["kind"] == "base") & (items["max"] > 0)]
    assert set(due.index) == set(POINTS)


@pytest.mark.parametrize("code,points", sorted(AREAS.items()))
def test_area_sums_match_the_spec(result, code, points):
    areas = result.areas.set_index("area")
    assert areas.loc[code, "points"] == pytest.approx(points, abs=1e-12)


def test_c3_is_not_applicable_and_annual_items_are_not_due(items):
    assert items.loc["C3", "status"] == "不适用"
    assert items.loc["C3", "max"] == 0
    assert "未设党小组" in items.loc["C3", "explanation"]
    for code in ANNUAL:
        assert items.loc[code, "status"] == "未到期", code
        assert items.loc[code, "max"] == 0, code
        assert items.loc[code, "points"] == 0, code


def test_raw_points_base_bonus_total_and_grade(result):
    u = result.unit(UNIT)
    assert u["raw_max"] == pytest.approx(80)
    assert u["raw_points"] == pytest.approx(64.8)
    assert u["base"] == pytest.approx(81.0)
    assert fmt_fixed2(u["base"]) == "81.00"
    assert u["bonus"] == pytest.approx(1.5)
    assert u["total"] == pytest.approx(82.5)
    assert fmt_fixed2(u["total"]) == "82.50"
    assert u["grade"] == "良好"
    assert not u["veto"]


def test_bonus_items(items):
    assert items.loc["J1", "points"] == 0.5
    assert items.loc["J2", "points"] == 1
    assert items.loc["J3", "points"] == 0 and items.loc["J4", "points"] == 0


def test_explanations_say_what_was_short(items):
    assert "少 1 次" in items.loc["A1", "explanation"]
    assert "扣 1 分" in items.loc["A1", "explanation"]
    assert "标准 6 次" in items.loc["A1", "explanation"]
    assert "共 2 档" in items.loc["A3", "explanation"]
    assert "少 1 次，扣 1.5 分" in items.loc["C2", "explanation"]
    assert "0.8 分" in items.loc["C10", "explanation"]
    assert "3 处" in items.loc["E1", "explanation"] and "扣 1.5 分" in items.loc["E1", "explanation"]
    assert "2.5 分" in items.loc["F2", "explanation"]


def test_core_items_lost_seven_raw_points(items):
    core = items[items["core"]]
    lost = (core["max"] - core["points"])
    lost = lost[lost > 0].round(10).to_dict()
    assert lost == {"A1": 1, "C2": 1.5, "D1": 1, "E1": 1.5, "E2": 2}
    assert sum(lost.values()) == pytest.approx(7)


def test_area_gaps_lost_points(result):
    a = area_gaps(result).set_index("area")
    assert a.loc["A", "lost"] == pytest.approx(3)      # 15 − 12
    assert a.loc["B", "max"] == 8 and a.loc["B", "lost"] == pytest.approx(1)  # B2 未到期
    assert a.loc["C", "max"] == 17 and a.loc["C", "lost"] == pytest.approx(1.7)
    assert a.loc["G", "max"] == 2 and a.loc["G", "lost"] == 0
    assert a.loc["E", "pct"] == pytest.approx(0.65)


def test_gap_to_excellent_is_six_raw_points_with_core_items_only(table, result):
    gaps = grade_gaps(table, result, "H1")
    assert (gaps["unit"] == UNIT).all()
    assert gaps["current_grade"].iloc[0] == "良好" and gaps["next_grade"].iloc[0] == "优秀"
    assert gaps["needed_total"].iloc[0] == pytest.approx(7.5)
    assert gaps["needed_raw"].iloc[0] == pytest.approx(6)
    assert gaps["core"].all()
    # ★ first, then by gain: E2 2, C2 1.5, E1 1.5 (table order inside the tie), A1 1 → 6.
    assert gaps["item"].tolist() == ["E2", "C2", "E1", "A1"]
    assert gaps["gain"].tolist() == [2, 1.5, 1.5, 1]
    assert gaps["cumulative"].tolist() == [2, 3.5, 5, 6]
    assert gaps["reaches"].tolist() == [False, False, False, True]
    assert gaps["gain_total"].tolist() == pytest.approx([2.5, 1.875, 1.875, 1.25])
    assert gaps["step"].tolist() == [1, 2, 3, 4]
    need = dict(zip(gaps["item"], gaps["need"]))
    assert need["A1"] == "集中学习次数再增加 1 次（达到 6 次）可得 1 分"
    assert need["C2"] == "党员大会次数再增加 1 次（达到 2 次）可得 1.5 分"
    assert need["E2"] == "按期整改销号率提高到 100% 可得 2 分"
    assert "台账问题 3 处" in need["E1"]
    text = unit_gap_text(gaps)
    assert text.startswith("距优秀还差 7.5 分") and "4 项" in text


def test_six_more_raw_points_do_reach_excellent(table):
    """The gap list is right only if doing it lands on 90 exactly: apply it and re-score."""
    better = dict(EVIDENCE, rectified_rate=100, general_meetings=2, ledger_defects=0, study_sessions=6)
    ev = pd.DataFrame({"unit": UNIT, "field": list(better), "value": list(better.values())})
    units = pd.DataFrame({"unit": [UNIT], "name": ["x"], "category": ["市局机关支部"]})
    adj = pd.DataFrame({"unit": [UNIT], "item": ["F2"], "kind": ["judgement"], "points": [F2_JUDGEMENT]})
    u = score(table, ev, units, "H1", adj).unit(UNIT)
    assert u["raw_points"] == pytest.approx(70.8)
    assert u["total"] == 90 and math.isclose(u["base"], 88.5)
    assert u["grade"] == "优秀"
