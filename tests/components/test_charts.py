"""The figure builders return dicts (components/charts.py); plotly's own classes are the check.

``go.Figure(fig)`` validates every property name and value (it raises on a misspelt one) and fills in
what a ``go.Figure`` would: if the dict comes back unchanged, the browser gets exactly the figure
the validated classes would have sent, template included.
"""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from dash._utils import to_json

from components import charts

AREAS = ["组织建设", "党员管理", "组织生活", "制度建设", "阵地建设", "作用发挥", "群团工作", "党风廉政"]
rng = np.random.default_rng(7)
FIGURES = {
    "grade_bar": lambda: charts.make_grade_bar(["好", "较好", "一般", "差"], [12, 20, 5, 1],
                                               ["#27ae60", "#2980b9", "#f39c12", "#c0392b"]),
    "score_spread_points": lambda: charts.make_score_spread(
        {"机关": [91.5, 88.0, float("nan"), 79.25], "基层": [85.0]}, {"机关": ["甲", "乙", "丙", "丁"]}),
    "score_spread_computed": lambda: charts.make_score_spread(
        {"基层": np.concatenate([rng.normal(88, 3, 900), [40.0, 41.5]])},
        {"基层": [f"单位{i}" for i in range(902)]}),
    "radar": lambda: charts.make_radar(AREAS, [0.8] * 8, [0.7, 0.6, 0.9, 1.0, 0.5, 0.75, 0.8, 0.65], "某支部"),
    "trend": lambda: charts.make_trend(["2025年上半年", "2025年度"], [88.5, 91.25], ["好", "好"], ["#27ae60", "#27ae60"]),
    "heatmap": lambda: charts.make_heatmap([[92.5, None], [40.0, 100.0]], ["A<br>组织", "B<br>党员"], ["甲局", "乙局"],
                                           [["group:甲局"] * 2, ["group:乙局"] * 2], hover_note="点击"),
}


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_passes_through_go_figure_unchanged(name):
    fig = FIGURES[name]()
    validated = go.Figure(fig)  # raises ValueError on any property plotly does not know or accept
    assert json.loads(to_json(fig)) == json.loads(to_json(validated))


def test_the_figures_carry_the_template_go_figure_applies():
    assert charts.make_trend(["2025年度"], [90.0], ["好"], ["#27ae60"])["layout"]["template"] == \
        json.loads(to_json(go.Figure().layout.template))


def test_a_misspelt_property_is_caught_by_the_check():
    fig = FIGURES["radar"]()
    fig["layout"]["polar"]["radialaxis"]["tickfont_colour"] = "#000"
    with pytest.raises(ValueError):
        go.Figure(fig)
