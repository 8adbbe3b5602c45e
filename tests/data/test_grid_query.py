"""The infinite row model's server side: sort, filter and window as AG Grid asks."""
from __future__ import annotations

import pandas as pd

from data.grid_query import query, window

FRAME = pd.DataFrame({"unit": ["a", "b", "c", "d"], "name_text": ["城东支部", "城西支部", "临河支部", "城东二支部"],
                      "total": [91.5, 78.0, None, 85.25], "grade": ["优秀", "合格", None, "良好"]})


def test_sort_by_number_descending_puts_blanks_last():
    out = query(FRAME, [{"colId": "total", "sort": "desc"}], None)
    assert out["unit"].tolist() == ["a", "d", "b", "c"]


def test_text_filter_through_an_alias_and_number_range():
    out = query(FRAME, None, {"name": {"filterType": "text", "type": "contains", "filter": "城东"}},
                aliases={"name": "name_text"})
    assert out["unit"].tolist() == ["a", "d"]
    out = query(FRAME, None, {"total": {"filterType": "number", "type": "inRange", "filter": 80, "filterTo": 90}})
    assert out["unit"].tolist() == ["d"]


def test_two_conditions_joined_by_or_and_blank():
    spec = {"filterType": "text", "operator": "OR", "conditions": [
        {"filterType": "text", "type": "equals", "filter": "优秀"},
        {"filterType": "text", "type": "equals", "filter": "合格"}]}
    assert query(FRAME, None, {"grade": spec})["unit"].tolist() == ["a", "b"]
    assert query(FRAME, None, {"grade": {"filterType": "text", "type": "blank"}})["unit"].tolist() == ["c"]


def test_forged_models_are_ignored_not_raised():
    out = query(FRAME, [{"colId": "nope", "sort": "sideways"}, "x"],
                {"nope": {"filterType": "text", "type": "contains", "filter": "a"},
                 "total": {"filterType": "number", "type": "greaterThan", "filter": "many"}, "grade": "x"})
    assert out["unit"].tolist() == ["a", "b", "c", "d"]


def test_window_slices_and_caps_the_block():
    rows, total = window(FRAME, {"startRow": 1, "endRow": 3})
    assert rows["unit"].tolist() == ["b", "c"] and total == 4
    rows, _ = window(FRAME, {"startRow": "x"})
    assert rows["unit"].tolist() == ["a", "b", "c", "d"]
    rows, _ = window(FRAME, {"startRow": 0, "endRow": 10 ** 9}, limit=2)
    assert len(rows) == 2
