"""The default indicator table, its documentation in the README, and the loader's problems."""
from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest

from scoring.indicators import (default_table, parse_table, parse_table_yaml, table_to_dict,
                                validate_table)
from scoring.rules import RULES

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    m = re.search(rf"^###\s+{re.escape(title)}\s*$(.*?)(?=^##)", text, flags=re.M | re.S)
    assert m, f"README has no section「{title}」"
    return m.group(1)


# ---------------------------------------------------------------- default table
def test_default_table_items_sum_to_the_declared_total(table):
    assert math.isclose(sum(i.points for i in table.items), table.total)
    assert table.total == 100 and table.bonus_cap == 5
    for a in table.areas:
        assert math.isclose(sum(i.points for i in a.items), a.points), a.code
    assert [a.points for a in table.areas] == [15, 10, 25, 15, 10, 10, 10, 5]


def test_default_table_has_the_specs_core_bonus_and_veto_items(table):
    assert set(table.core_codes) == {"A1", "B1", "C1", "C2", "C4", "C6", "C7", "D1", "D2", "E1", "E2"}
    assert [b.code for b in table.bonus] == ["J1", "J2", "J3", "J4"]
    assert [b.cap for b in table.bonus] == [3, 2, 3, 2]
    assert [v.code for v in table.veto] == ["V1", "V2", "V3"]
    assert [(g.label, g.min) for g in table.grades] == [("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0)]
    annual = {i.code for i in table.items if i.period == "annual"}
    assert annual == {"B2", "C5", "C7", "C9", "D3", "G2", "G3", "G4"}


def test_every_item_names_a_registered_rule(table):
    for i in table.all_items:
        assert i.rule in RULES, i.code
    assert validate_table(table) == []


def test_every_rule_type_is_documented_in_the_readme_reference():
    section = readme_section("评分类型参考")
    for name, rule in RULES.items():
        assert f"`{name}`" in section, name
        assert rule.label in section, rule.label


def test_every_evidence_field_of_the_default_table_is_in_the_readme(table):
    text = README.read_text(encoding="utf-8")
    missing = [f for f in table.evidence_fields if f not in text]
    assert missing == []


def test_table_round_trips_through_a_dict(table):
    again, problems = parse_table(table_to_dict(table))
    assert problems == []
    assert again.items == table.items and again.bonus == table.bonus and again.veto == table.veto
    assert [i.params for i in again.all_items] == [i.params for i in table.all_items]


# ---------------------------------------------------------------- loader problems
def _broken(change) -> list[str]:
    d = copy.deepcopy(table_to_dict(default_table()))
    change(d)
    table, problems = parse_table(d)  # must not raise
    assert table is None
    return [str(p) for p in problems]


def _item(d: dict, code: str) -> dict:
    return next(i for a in d["areas"] for i in a["items"] if i["code"] == code)


def test_unknown_rule_type_is_a_problem():
    msgs = _broken(lambda d: _item(d, "A1").update(rule="monthly_magic"))
    assert any("A1" in m and "monthly_magic" in m and "未知" in m for m in msgs)


def test_points_not_adding_up_is_a_problem():
    msgs = _broken(lambda d: _item(d, "A1").update(points=5))
    assert any("一级指标 A" in m and "16" in m and "15" in m for m in msgs)
    assert any("总分" in m and "101" in m for m in msgs)


def test_duplicate_codes_are_a_problem():
    msgs = _broken(lambda d: _item(d, "A2").update(code="A1"))
    assert any("A1" in m and "重复" in m for m in msgs)


def test_veto_with_points_is_a_problem():
    msgs = _broken(lambda d: d["veto"][0].update(points=2))
    assert any("V1" in m and "一票否决项不能有分值" in m for m in msgs)


def test_tiers_out_of_order_are_a_problem():
    msgs = _broken(lambda d: _item(d, "A5")["params"].update(tiers=[[70, 1], [85, 2], [95, 3]]))
    assert any("A5" in m and "从高到低" in m for m in msgs)


def test_missing_evidence_field_is_a_problem():
    msgs = _broken(lambda d: d["fields"].pop("committee_meetings"))
    assert any("C1" in m and "committee_meetings" in m and "未在 fields 中定义" in m for m in msgs)
    msgs = _broken(lambda d: _item(d, "A1").update(fields=[]))
    assert any("A1" in m and "缺少数据项" in m for m in msgs)


@pytest.mark.parametrize("text", ["", "- just\n- a list", "version: [unclosed", "version: x\nareas: 3\ngrades: []\n"])
def test_malformed_files_give_problems_not_exceptions(text):
    table, problems = parse_table_yaml(text)
    assert table is None and problems
    assert all(p.message for p in problems)


def test_bad_params_give_problems_not_exceptions():
    msgs = _broken(lambda d: _item(d, "A1")["params"].update(target="十二"))
    assert any("A1" in m and "target" in m for m in msgs)
    msgs = _broken(lambda d: _item(d, "A5")["params"].update(tiers="95→3"))
    assert any("A5" in m and "tiers" in m for m in msgs)
