"""Helpers for the scoring tests: small hand-made tables and tidy evidence.

Tables are built from plain dicts through ``parse_table`` (the loader users go
through), so a test states exactly the items it needs and nothing depends on
the default table unless the test is about it.
"""
from __future__ import annotations

import pandas as pd
import pytest

from scoring.engine import score
from scoring.indicators import IndicatorTable, default_table, parse_table

GRADES = [{"label": "优秀", "min": 90}, {"label": "良好", "min": 80}, {"label": "合格", "min": 60},
          {"label": "不合格", "min": 0}]
BOOL_FIELDS = {"has_groups", "done", "flag", "serious_violation", "other_veto"}
PCT_FIELDS = {"rate"}


def table_dict(items: list[dict], *, bonus: list[dict] | None = None, veto: list[dict] | None = None,
               bonus_cap: float = 5, total: float | None = None, grades: list[dict] | None = None,
               candidates: dict | None = None, areas: list[tuple[str, list[dict]]] | None = None) -> dict:
    """A table dict: one area「A 测试」 holding ``items`` (or the given ``areas``), fields declared as used."""
    areas = areas or [("A", items)]
    names: list[str] = []
    for _, its in areas:
        for it in its:
            names += list(it.get("fields", []))
            if it.get("not_applicable_when"):
                names.append(it["not_applicable_when"]["field"])
    for it in (bonus or []) + (veto or []):
        names += list(it.get("fields", []))
    fields = {}
    for n in dict.fromkeys(names):
        kind = "bool" if n in BOOL_FIELDS else ("percent" if n in PCT_FIELDS else "count")
        unit = "是/否" if kind == "bool" else ("%" if kind == "percent" else "次")
        fields[n] = {"label": n, "unit": unit, "kind": kind}
    all_points = sum(float(i.get("points", 0)) for _, its in areas for i in its)
    d = {
        "version": "test", "title": "测试", "total": all_points if total is None else total,
        "bonus_cap": bonus_cap, "grades": grades or GRADES, "veto_grade": (grades or GRADES)[-1]["label"],
        "tie_break": ["core_points", "code"], "fields": fields,
        "areas": [{"code": code, "name": f"{code} 测试", "items": [dict(i) for i in its]} for code, its in areas],
        "bonus": bonus or [], "veto": veto or [],
    }
    if candidates is not None:
        d["candidates"] = candidates
    elif grades is not None:
        d["candidates"] = {"grade": grades[0]["label"]}
    return d


def make_table(items: list[dict], **kw) -> IndicatorTable:
    table, problems = parse_table(table_dict(items, **kw))
    assert not problems, problems
    return table


def item(code: str, rule: str, points: float, fields=(), params=None, **kw) -> dict:
    d = {"code": code, "name": f"指标{code}", "points": points, "rule": rule, "fields": list(fields),
         "params": params or {}}
    d.update(kw)
    return d


def evidence(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """{unit: {field: value}} → tidy evidence (unit, field, value)."""
    recs = [(u, f, v) for u, d in rows.items() for f, v in d.items()]
    return pd.DataFrame(recs, columns=["unit", "field", "value"])


def units(codes, categories=None, names=None) -> pd.DataFrame:
    codes = list(codes)
    return pd.DataFrame({"unit": codes,
                         "name": names or [f"单位{c}" for c in codes],
                         "category": categories or ["类别甲"] * len(codes)})


def judgements(rows: list[tuple[str, str, float]], kind: str = "judgement") -> pd.DataFrame:
    return pd.DataFrame([(u, i, kind, p, "理由") for u, i, p in rows],
                        columns=["unit", "item", "kind", "points", "reason"])


def run(table: IndicatorTable, rows: dict[str, dict[str, float]], period: str = "year", adjustments=None,
        categories=None):
    return score(table, evidence(rows), units(rows, categories), period, adjustments)


def item_row(res, unit: str, code: str) -> dict:
    it = res.items
    r = it[(it["unit"] == unit) & (it["item"] == code)]
    assert len(r) == 1, (unit, code)
    return r.iloc[0].to_dict()


@pytest.fixture(scope="session")
def table() -> IndicatorTable:
    return default_table()
