"""The benchmark's per-unit reference loop gives the same result as score(), so the speed-up compares like with like.

Checks every column the reference computes (points, max, status, explanation,
evidence text and deduction per unit × item; totals, grades, vetoes, ranks, ★
counts and display order per unit; points, maximum and rate per unit × area) on a few hundred
generated units of the default table, for both periods, and on hand-made edge
cases the generator rarely or never produces.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchmarks.bench_scoring import compare, generate, run_reference
from scoring.engine import score
from scoring.indicators import default_table


@pytest.fixture(scope="module")
def table():
    return default_table()


def assert_agree(result, ref):
    checks = compare(result, ref)
    bad = [(c.column, f"{c.matched}/{c.total}", c.examples) for c in checks if not c.ok]
    assert not bad, bad
    return checks


@pytest.mark.parametrize("period", ["year", "H1"])
@pytest.mark.parametrize("seed", [2026, 7])
def test_reference_agrees_with_score_on_generated_units(table, period, seed):
    ev, units, adj = generate(table, 200, seed=seed)
    result = score(table, ev, units, period, adj)
    checks = assert_agree(result, run_reference(table, ev, units, period, adj))
    by = {c.column: c for c in checks}
    assert by["explanation"].total == 200 * len(table.all_items)
    # The data reaches the interesting branches, so agreement means something.
    status = result.items["status"].astype(str)
    assert {"达标", "未达标", "不适用", "缺报"} <= set(status)
    if period == "H1":
        assert (status == "未到期").any()
    expl = result.items["explanation"].astype(str)
    assert expl.str.contains("考核组扣").any() and expl.str.contains("不能为负数").any()


def test_reference_agrees_with_score_on_edge_cases(table):
    fields = list(table.evidence_fields)
    full = {f: 1.0 for f in fields} | {"reading_rate": 90.0, "exam_rate": 95.0, "talk_coverage": 100.0,
                                       "dues_rate": 100.0, "rectified_rate": 100.0, "service_done_rate": 100.0,
                                       "cadre_training_hours": 24.0, "member_training_hours": 32.0,
                                       "record_errors": 0.0, "ledger_defects": 0.0, "serious_violation": 0.0,
                                       "ideology_incident": 0.0, "major_accident": 0.0}
    cases = {
        "E01": {},                                                       # everything as full
        "E02": {"has_groups": -1.0, "committee_meetings": math.inf},     # invalid gate, infinite count
        "E03": {"recruit_plan": 0.0, "has_groups": 0.0},                 # both gates say 不适用
        "E04": {"recruit_plan": None, "group_meetings": None},           # blanks, 缺报 naming fields
        "E05": {"reading_rate": 33.3, "member_training_hours": 7.25, "talk_coverage": 66.666,
                "exam_rate": 69.999999, "dues_rate": 99.5, "recruit_done": 3.0, "recruit_plan": 7.0},
        "E06": {"articles_city": 9.0, "articles_province": 2.0, "honours_province": 3.0,
                "excellent_lectures": 1.0, "innovation_cases": 4.0},     # capped bonus, table bonus cap
        "E07": {"serious_violation": 1.0, "major_accident": 1.0, "ideology_incident": None},
        "E08": {"study_sessions": 7.9, "record_errors": 2.2, "ledger_defects": 30.0},
        "E09": {},                                                       # E09 and E11: tied ranks
        "E10": {f: None for f in fields},                                # nothing reported
        "E11": {},
        "E12": {},                                                       # every base item 不适用: no grade
    }
    rows = []
    for unit, changes in cases.items():
        for f in fields:
            v = changes.get(f, full.get(f, 1.0))
            rows.append((unit, f, np.nan if v is None else v))
    rows += [("E01", "study_sessions", 3.0), ("E01", "study_sessions", 12.0),  # duplicates: the last counts
             ("E01", "study_sessions", np.nan), ("GHOST", "study_sessions", 5.0), ("E01", "no_such_field", 1.0)]
    evidence = pd.DataFrame(rows, columns=["unit", "field", "value"])
    units = pd.DataFrame({"unit": list(cases) + ["E01", None],
                          "name": [f"单位{k}" for k in range(len(cases) + 2)],
                          "category": ["甲", "乙"] * 6 + ["甲", "乙"]})
    adj = pd.DataFrame([
        ("E01", "F2", "judgement", 5.0, "超出满分"), ("E01", "G2", "judgement", -1.0, None),
        ("E01", "G4", "judgement", 1.5, " "), ("E01", "G4", "judgement", 2.0, "复核后"),
        ("E02", "F2", "judgement", np.nan, "无分值"), ("E02", "A1", "judgement", 3.0, "非评定项"),
        ("E01", "E1", "deduction", 1.0, "台账不全"), ("E01", "E1", "deduction", 5.0, None),
        ("E01", "F2", "deduction", 0.5, "评定项扣分"), ("E05", "A4", " Deduction ", 2.5, "记录缺失"),
        ("E05", "A2", "deduction", -1.0, "负扣分"), ("E06", "C1", "not_applicable", np.nan, "无此项工作"),
        ("E06", "G2", "not_applicable", np.nan, None), ("E03", "Z9", "deduction", 1.0, "未知指标"),
        ("E04", "A5", "something", 1.0, "未知类型"),
    ] + [("E12", it.code, "not_applicable", np.nan, "撤并") for it in table.items],
        columns=["unit", "item", "kind", "points", "reason"])
    results = {}
    for period in ("year", "H1"):
        results[period] = score(table, evidence, units, period, adj)
        assert_agree(results[period], run_reference(table, evidence, units, period, adj))
    # The cases reach the branches they were written for.
    expl = set(results["year"].items["explanation"].astype(str))
    for text in ("支委会次数填报为 无穷大，不能为负数或无穷大，按缺报计 0 分",
                 "未设党小组，不适用",
                 "发展计划数为 0 人，不适用",
                 "考核组评定 3 分（满分 3 分）：超出满分；考核组扣 0.5 分：评定项扣分",
                 "考核组认定不适用：无此项工作",
                 "未报送党小组会次数、设有党小组，按缺报计 0 分",
                 "创新案例 4 项×1 分，计 4 分，超过单项上限按 2 分计",
                 "未报送，按未发生计"):
        assert text in expl
    assert any(t.endswith("（本项扣完为止）") for t in expl)
    u = results["year"].units.set_index("unit")
    assert u.loc["E09", "rank"] == u.loc["E11", "rank"]
    assert u.loc["E09", "rank_in_category"] == u.loc["E11", "rank_in_category"]  # both in 甲
    assert u.loc["E07", "veto_reason"].count("一票否决") == 2 and u.loc["E10", "grade"] == "不合格"
    assert u.loc["E12", "grade"] == "无法评定" and u.loc["E12", "rank"] == len(u)


def test_compare_reports_a_difference(table):
    ev, units, adj = generate(table, 20, seed=3)
    result = score(table, ev, units, "year", adj)
    ref = run_reference(table, ev, units, "year", adj)
    u, item, pts, mx, status, text, evidence, deducted = ref.rows[5]
    ref.rows[5] = (u, item, pts + 0.01, mx, status, text + "。", evidence + "。", deducted + 0.5)
    ref.units[u]["rank"] += 1
    ref.units[u]["display_order"] += 1
    ref.units[u]["core_met"] += 1
    area, ap, am, pct = ref.units[u]["areas"][0]
    ref.units[u]["areas"][0] = (area, ap + 0.01, am, pct)
    by = {c.column: c for c in compare(result, ref)}
    for column in ("points", "explanation", "evidence", "deducted", "rank", "display_order", "core_met",
                   "area points"):
        assert not by[column].ok, column
    assert by["status"].ok and by["area max"].ok and by["points"].matched == by["points"].total - 1
