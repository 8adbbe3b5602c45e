"""What-if: re-scoring on a changed table, the helpers, and that nothing else changes."""
from __future__ import annotations

import pandas as pd
import pytest

from scoring.engine import score
from scoring.indicators import validate_table
from scoring.whatif import MOVER_COLUMNS, change_grade_min, change_param, change_points, what_if

from .conftest import evidence, item, make_table, units

ITEMS = [item("K1", "count_target", 10, ["m"], {"target": 4, "per_miss": 5}, core=True),
         item("X2", "deduction", 90, ["n"], {"per_item": 1}),
         ]
ROWS = {"a": {"m": 0, "n": 0},    # 0 + 90 = 90
        "b": {"m": 4, "n": 5},    # 10 + 85 = 95
        "c": {"m": 4, "n": 12}}   # 10 + 78 = 88


@pytest.fixture()
def setup():
    t = make_table(ITEMS, bonus=[item("J1", "bonus", 0, ["p"], {"per_unit": 1}, cap=2)])
    ev, un = evidence(ROWS), units(ROWS)
    return t, ev, un, score(t, ev, un, "year")


def test_raising_a_core_items_points_moves_units(setup):
    t, ev, un, base = setup
    t2 = change_points(t, "K1", 30)
    assert t2.total == 120 and t2.areas[0].points == 120 and validate_table(t2) == []
    w = what_if(base, t2, ev, un, "year")
    assert w.ok and list(w.movers.columns) == MOVER_COLUMNS
    c = w.comparison.set_index("unit")
    # after (raw max 120 = total 120): a 30 − 4 × 5 = 10 + 90 = 100, b 30 + 85 = 115, c 30 + 78 = 108
    assert c["total_before"].to_dict() == {"a": 90, "b": 95, "c": 88}
    assert c["total_after"].to_dict() == {"a": 100, "b": 115, "c": 108}
    assert c["delta"].to_dict() == {"a": 10, "b": 20, "c": 20}
    assert c["rank_before"].to_dict() == {"a": 2, "b": 1, "c": 3}
    assert c["rank_after"].to_dict() == {"a": 3, "b": 1, "c": 2}
    assert c["rank_change"].to_dict() == {"a": -1, "b": 0, "c": 1}
    assert (c.loc["c", "grade_before"], c.loc["c", "grade_after"]) == ("良好", "优秀")
    assert w.movers["unit"].tolist() == ["c", "b", "a"]  # climbers first, then by delta
    assert w.grade_changes == {"良好→优秀": 1}


def test_what_if_changes_neither_the_base_result_nor_the_table_nor_the_inputs(setup):
    t, ev, un, base = setup
    units_before, items_before = base.units.copy(deep=True), base.items.copy(deep=True)
    ev_before, un_before = ev.copy(deep=True), un.copy(deep=True)
    w = what_if(base, change_points(t, "K1", 30), ev, un, "year")
    assert w.before is base
    pd.testing.assert_frame_equal(base.units, units_before)
    pd.testing.assert_frame_equal(base.items, items_before)
    pd.testing.assert_frame_equal(ev, ev_before)
    pd.testing.assert_frame_equal(un, un_before)
    assert t.item("K1").points == 10 and t.total == 100
    # scoring the original table again gives the base figures: nothing was stored anywhere
    again = score(t, ev, un, "year")
    pd.testing.assert_frame_equal(again.units, units_before)


def test_change_param_rescores_with_the_new_target(setup):
    t, ev, un, base = setup
    w = what_if(base, change_param(t, "K1", "target", 6), ev, un, "year")
    after = w.comparison.set_index("unit")["total_after"].to_dict()
    assert after == {"a": 90, "b": 85, "c": 78}  # b, c: 2 short × 5 → K1 0
    assert t.item("K1").params["target"] == 4


def test_change_grade_min_regrades_without_changing_totals(setup):
    t, ev, un, base = setup
    t2 = change_grade_min(t, "优秀", 88)
    assert [g.min for g in t2.grades] == [88, 80, 60, 0] and t.grades[0].min == 90
    w = what_if(base, t2, ev, un, "year")
    assert w.movers["unit"].tolist() == ["c"]
    assert w.movers["delta"].tolist() == [0] and w.grade_changes == {"良好→优秀": 1}
    with pytest.raises(KeyError):
        change_grade_min(t, "卓越", 95)


def test_change_points_of_a_tiered_item_scales_its_tiers():
    t = make_table([item("T1", "tiered", 4, ["r"], {"tiers": [[95, 4], [85, 2], [70, 1]]}),
                    item("X2", "boolean", 96, ["flag"])])
    t2 = change_points(t, "T1", 8)
    assert t2.item("T1").params["tiers"] == [[95, 8], [85, 4], [70, 2]]
    assert t2.total == 100 + 4 and validate_table(t2) == []


def test_change_points_of_a_bonus_item_changes_its_cap(setup):
    t, ev, un, base = setup
    t2 = change_points(t, "J1", 1)
    assert t2.item("J1").cap == 1 and t2.total == t.total


def test_an_invalid_change_reports_problems_and_scores_nothing(setup):
    t, ev, un, base = setup
    w = what_if(base, change_points(t, "X2", -5), ev, un, "year")
    assert not w.ok and w.after is None
    assert any("分值不能为负" in p.message for p in w.problems)
    assert len(w.movers) == 0 and list(w.movers.columns) == MOVER_COLUMNS


def test_unchanged_table_moves_nobody(setup):
    t, ev, un, base = setup
    w = what_if(base, t, ev, un, "year")
    assert len(w.movers) == 0 and len(w.comparison) == 3 and w.grade_changes == {}
