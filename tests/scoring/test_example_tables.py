"""The real published tables shipped as examples score made-up units to hand-computed totals and grades.

Sources are cited in each YAML file's header and in the README (「示例指标体系」).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from scoring.engine import score
from scoring.indicators import parse_table_yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "scoring" / "tables" / "examples"


def load(name: str):
    t, problems = parse_table_yaml((EXAMPLES / name).read_text(encoding="utf-8"))
    assert not problems, [str(p) for p in problems]
    return t


def test_every_example_loads():
    names = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    assert len(names) >= 2
    for n in names:
        load(n)


def test_wuxing_chuangping_pools_requires_and_quotas():
    t = load("wuxing_chuangping.yaml")
    findings = {
        "a1": {"innovation_project": 1}, "a2": {"innovation_project": 1}, "a3": {"innovation_project": 0},
        "a4": {"no_facilities": 1}, "a5": {"no_party_worker": 1, "pioneer_poor": 1},
        "a6": {"recruitment_irregular": 1}, "a7": {"no_venue": 1}, "a8": {"election_overdue": 1},
        "a9": {"election_overdue": 1, "committee_incomplete": 1, "inactive_half_year": 1},
        "b1": {"no_venue": 1, "recruitment_irregular": 1},
    }
    ev = pd.DataFrame([(u, f, v) for u, d in findings.items() for f, v in d.items()], columns=["unit", "field", "value"])
    units = pd.DataFrame({"unit": list(findings), "name": list(findings), "category": "机关"})
    res = score(t, ev, units, "year")
    u = res.units.set_index("unit")
    # Raw points of 35 (领导班子 15, 骨干队伍 10, 活动阵地 10; blanks are no findings), rescaled to 100:
    # a1–a3 35 → 100; a4 30 (无设施 −5); a5 30 (−3 −2); a8 30 (换届 −5) → 85.714…;
    # a6 25 (发展党员 −15 empties the 10-point pool); a7 25 (无场所 −10) → 71.43;
    # a9 20 (领导班子 −15) → 57.14; b1 15 → 42.86.
    expected_total = {"a1": 100, "a2": 100, "a3": 100, "a4": 3000 / 35, "a5": 3000 / 35, "a8": 3000 / 35,
                      "a6": 2500 / 35, "a7": 2500 / 35, "a9": 2000 / 35, "b1": 1500 / 35}
    assert u["total"].to_dict() == pytest.approx(expected_total)
    # Grades: a3 lacks an innovation project → 四星; 五星 ≤ ⌊10 × 10 %⌋ = 1: a1 keeps it (code before a2),
    # a2 → 四星; 四星 ≤ ⌊10 × 30 %⌋ = 3: a2, a3, a4 keep it, a5 and a8 → 三星 (≤ 4: fits with a6, a7).
    assert u["grade"].to_dict() == {"a1": "五星", "a2": "四星", "a3": "四星", "a4": "四星", "a5": "三星",
                                    "a8": "三星", "a6": "三星", "a7": "三星", "a9": "一星", "b1": "一星"}
    assert u.loc["a2", "grade_reason"] == "因名额限制（五星≤10%）定为四星"
    assert u.loc["a3", "grade_reason"] == "未满足五星的条件（有党建创新项目为是），定为四星"
    assert u.loc["a5", "grade_reason"] == "因名额限制（四星≤30%）定为三星"


def test_star_rating_weights_with_a_penalty_on_the_base_component():
    t = load("star_rating_2023.yaml")
    marks = {"s1": (95, 90, 0), "s2": (100, 80, 5), "s3": (90, 70, 0), "s4": (80, 60, 20), "s5": (50, 50, 0)}
    adj = pd.DataFrame([(u, code, "judgement", v, "按领域标准评定") for u, (b, p, _) in marks.items()
                        for code, v in (("JC1", b), ("PY1", p))], columns=["unit", "item", "kind", "points", "reason"])
    ev = pd.DataFrame([(u, "minus_points", m) for u, (_, _, m) in marks.items() if m],
                      columns=["unit", "field", "value"])
    units = pd.DataFrame({"unit": list(marks), "name": list(marks), "category": "机关"})
    res = score(t, ev, units, "year", adj)
    u = res.units.set_index("unit")
    # 0.7 × (基础项 − 减分项) + 0.3 × 评议项:
    # s1 0.7×95 + 0.3×90 = 93.5; s2 0.7×95 + 24 = 90.5; s3 63 + 21 = 84; s4 0.7×60 + 18 = 60; s5 50
    assert u["total"].to_dict() == pytest.approx({"s1": 93.5, "s2": 90.5, "s3": 84, "s4": 60, "s5": 50})
    # 五星级 ≤ ⌊5 × 30 %⌋ = 1: s1 keeps it, s2 → 四星级
    assert u["grade"].to_dict() == {"s1": "五星级", "s2": "四星级", "s3": "四星级", "s4": "二星级", "s5": "一星级"}
    assert u.loc["s2", "grade_reason"] == "因名额限制（五星级≤30%）定为四星级"
