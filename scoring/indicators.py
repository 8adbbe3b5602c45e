"""The declarative side of scoring: what an indicator table *is*.

Owns the frozen dataclasses of an indicator table (areas, items, bonus, veto,
grades, candidate rules), parsing a plain dict (from YAML/JSON or from the
xlsx reader in ``data/``) and validating it into a list of Chinese problems.
It must not evaluate evidence (that is ``rules.py``/``engine.py``) and must not
touch files other than the packaged default tables, databases, Flask or Dash.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import yaml

PERIOD_PRORATE = "prorate"
PERIOD_ANNUAL = "annual"
FIELD_KINDS = ("count", "hours", "percent", "bool", "people", "number")
# Keys a table may list in ``tie_break`` (display order inside a tie): name → (中文, direction).
TIE_BREAK_KEYS: dict[str, tuple[str, str]] = {
    "core_points": ("★指标得分高者在前", "desc"),
    "core_met": ("★指标达标项数多者在前", "desc"),
    "base": ("基础得分高者在前", "desc"),
    "missing_count": ("缺报项数少者在前", "asc"),
    "deductions": ("考核组扣分少者在前", "asc"),
    "code": ("按单位编码", "asc"),
}


@dataclass(frozen=True)
class FieldDef:
    """One evidence field (数据项) a unit reports."""

    name: str
    label: str
    unit: str
    kind: str
    max_per_year: float | None = None

    @property
    def header(self) -> str:
        """Column header as shown in templates: 「支委会次数（次）」."""
        return f"{self.label}（{self.unit}）"


@dataclass(frozen=True)
class Item:
    """One scored item (二级指标), a bonus item (加分项) or a veto item (一票否决)."""

    code: str
    name: str
    area: str
    points: float
    rule: str
    params: dict = field(default_factory=dict, hash=False, compare=False)
    fields: tuple[str, ...] = ()
    standard: str = ""
    core: bool = False
    period: str = PERIOD_PRORATE
    prorate: tuple[str, ...] = ()
    not_applicable_when: dict | None = field(default=None, hash=False, compare=False)
    cap: float | None = None  # bonus items only

    def params_for(self, half_year: bool) -> dict:
        """Parameters in force for the period: listed ``prorate`` params halved, rounded up."""
        params = copy.deepcopy(self.params)
        if not half_year:
            return params
        for name in self.prorate:
            if name == "tiers" and "tiers" in params:
                params["tiers"] = [[math.ceil(t / 2), p] for t, p in params["tiers"]]
            elif name in params and isinstance(params[name], (int, float)):
                params[name] = math.ceil(params[name] / 2)
        return params


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    points: float
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Grade:
    label: str
    min: float


@dataclass(frozen=True)
class CandidateRules:
    title: str = "先进基层党组织"
    annual_only: bool = True
    grade: str = "优秀"
    quota_pct: float = 15
    quota_min: int = 1
    require_core: bool = True
    no_overdue_rectification: bool = True
    previous_min_grade: str | None = None


@dataclass(frozen=True)
class IndicatorTable:
    version: str
    title: str
    total: float
    bonus_cap: float
    grades: tuple[Grade, ...]
    veto_grade: str
    tie_break: tuple[str, ...]
    candidates: CandidateRules
    fields: dict[str, FieldDef] = field(hash=False, compare=False)
    areas: tuple[Area, ...] = ()
    bonus: tuple[Item, ...] = ()
    veto: tuple[Item, ...] = ()

    @property
    def items(self) -> tuple[Item, ...]:
        """Base (non-bonus, non-veto) items in table order."""
        return tuple(i for a in self.areas for i in a.items)

    @property
    def all_items(self) -> tuple[Item, ...]:
        return self.items + self.bonus + self.veto

    def item(self, code: str) -> Item:
        for i in self.all_items:
            if i.code == code:
                return i
        raise KeyError(code)

    @property
    def core_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items if i.core)

    @property
    def evidence_fields(self) -> tuple[str, ...]:
        """Every field some item reads, in table order (gate fields included)."""
        seen: dict[str, None] = {}
        for i in self.all_items:
            for f in i.fields:
                seen.setdefault(f, None)
            if i.not_applicable_when:
                seen.setdefault(i.not_applicable_when["field"], None)
        return tuple(seen)

    def grade_order(self) -> list[str]:
        """Grade labels best first."""
        return [g.label for g in self.grades]

    def with_item(self, code: str, **changes: Any) -> "IndicatorTable":
        """A copy with one item changed (points, params, core...): the what-if entry point."""
        def fix(items):
            return tuple(replace(i, **changes) if i.code == code else i for i in items)

        areas = tuple(replace(a, items=fix(a.items)) for a in self.areas)
        areas = tuple(replace(a, points=sum(i.points for i in a.items)) for a in areas)
        return replace(self, areas=areas, bonus=fix(self.bonus), veto=fix(self.veto))


@dataclass(frozen=True)
class TableProblem:
    """A problem found while loading a table; ``where`` names the item or key."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}：{self.message}"


def _registered_rules() -> set[str]:
    # Imported lazily: rules.py imports this module for the dataclasses.
    from scoring.rules import RULES

    return set(RULES)


def parse_table(data: Any) -> tuple[IndicatorTable | None, list[TableProblem]]:
    """Validate a plain dict into an IndicatorTable; never raises on bad content."""
    problems: list[TableProblem] = []
    if not isinstance(data, dict):
        return None, [TableProblem("文件", "内容不是一个指标体系（应为键值结构）")]
    try:
        table = _build(data, problems)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:  # malformed shapes
        problems.append(TableProblem("文件", f"结构不正确：{exc}"))
        return None, problems
    if table is not None:
        problems.extend(validate_table(table))
    return (None if problems else table), problems


def validate_table(table: IndicatorTable, check_total: bool = True) -> list[TableProblem]:
    """Problems of an already built table (e.g. one changed by ``with_item``); never raises.

    ``check_total=False`` skips "the items add up to the declared total": a what-if that keeps the
    100-point scale while one item weighs more is such a table (the total is then only the scale).
    """
    problems: list[TableProblem] = []
    try:
        _check(table, problems, check_total)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:  # malformed params
        problems.append(TableProblem("文件", f"结构不正确：{exc}"))
    return problems


def _build(d: dict, problems: list[TableProblem]) -> IndicatorTable | None:
    for key in ("version", "areas", "grades", "fields"):
        if key not in d:
            problems.append(TableProblem(key, "缺少必填项"))
    if not problems and not d["grades"]:
        problems.append(TableProblem("grades", "至少需要一个等次"))
    if problems:
        return None
    fields = {}
    for name, spec in (d.get("fields") or {}).items():
        spec = spec or {}
        kind = spec.get("kind", "number")
        if kind not in FIELD_KINDS:
            problems.append(TableProblem(f"数据项 {name}", f"类型「{kind}」未知，应为 {', '.join(FIELD_KINDS)}"))
        fields[name] = FieldDef(name=name, label=str(spec.get("label", name)), unit=str(spec.get("unit", "")),
                                kind=kind, max_per_year=spec.get("max_per_year"))

    def item(raw: dict, area: str, default_rule: str | None = None) -> Item:
        na = raw.get("not_applicable_when")
        return Item(code=str(raw["code"]), name=str(raw.get("name", raw["code"])), area=area,
                    points=float(raw.get("points", 0)), rule=str(raw.get("rule", default_rule)),
                    params=dict(raw.get("params") or {}), fields=tuple(raw.get("fields") or ()),
                    standard=str(raw.get("standard", "")), core=bool(raw.get("core", False)),
                    period=str(raw.get("period", PERIOD_PRORATE)), prorate=tuple(raw.get("prorate") or ()),
                    not_applicable_when=dict(na) if na else None,
                    cap=float(raw["cap"]) if raw.get("cap") is not None else None)

    areas = []
    for a in d["areas"]:
        items = tuple(item(i, str(a["code"])) for i in a.get("items") or ())
        areas.append(Area(code=str(a["code"]), name=str(a.get("name", a["code"])),
                          points=float(a.get("points", sum(i.points for i in items))), items=items))
    cand = d.get("candidates") or {}
    known = set(CandidateRules.__dataclass_fields__)
    return IndicatorTable(
        version=str(d["version"]), title=str(d.get("title", d["version"])),
        total=float(d.get("total", 100)), bonus_cap=float(d.get("bonus_cap", 0)),
        grades=tuple(Grade(str(g["label"]), float(g["min"])) for g in d["grades"]),
        veto_grade=str(d.get("veto_grade", d["grades"][-1]["label"])),
        tie_break=tuple(d.get("tie_break") or ("core_points", "code")),
        candidates=CandidateRules(**{k: v for k, v in cand.items() if k in known}),
        fields=fields, areas=tuple(areas),
        bonus=tuple(item(i, "加分项", "bonus") for i in d.get("bonus") or ()),
        veto=tuple(item(i, "一票否决", "veto") for i in d.get("veto") or ()),
    )


def _check(t: IndicatorTable, problems: list[TableProblem], check_total: bool = True) -> None:
    from scoring.rules import RULES

    rules = _registered_rules()
    seen: set[str] = set()
    base_codes = {i.code for i in t.items}
    bonus_codes = {i.code for i in t.bonus}
    for i in t.all_items:
        where = f"指标 {i.code}"
        if i.code in seen:
            problems.append(TableProblem(where, "编码重复，每个指标的编码必须唯一"))
        seen.add(i.code)
        if i.rule not in rules:
            problems.append(TableProblem(where, f"评分类型「{i.rule}」未知，可用：{'、'.join(sorted(rules))}"))
        elif RULES[i.rule].check is not None:
            problems.extend(TableProblem(where, m) for m in RULES[i.rule].check(i))
        if i.code in base_codes and i.rule in ("bonus", "veto"):
            problems.append(TableProblem(where, f"评分类型「{i.rule}」只能用于加分项或一票否决项"))
        elif i.code in bonus_codes and i.rule != "bonus":
            problems.append(TableProblem(where, "加分项的评分类型应为 bonus"))
        elif i.code not in base_codes and i.code not in bonus_codes and i.rule != "veto":
            problems.append(TableProblem(where, "一票否决项的评分类型应为 veto"))
        if i.not_applicable_when is not None and "field" not in i.not_applicable_when:
            problems.append(TableProblem(where, "not_applicable_when 须写明 field（据以判断不适用的数据项）"))
        for p in i.prorate:
            if p not in i.params:
                problems.append(TableProblem(where, f"prorate 中的参数 {p} 不在 params 中"))
        if i.rule == "veto" and i.points:
            problems.append(TableProblem(where, "一票否决项不能有分值"))
        if i.rule != "veto" and i.area != "一票否决" and i.points < 0:
            problems.append(TableProblem(where, "分值不能为负"))
        if i.period not in (PERIOD_PRORATE, PERIOD_ANNUAL):
            problems.append(TableProblem(where, f"周期「{i.period}」未知，应为 prorate 或 annual"))
        for f in i.fields + ((i.not_applicable_when["field"],) if i.not_applicable_when
                             and "field" in i.not_applicable_when else ()):
            if f not in t.fields:
                problems.append(TableProblem(where, f"数据项「{f}」未在 fields 中定义"))
        if i.rule not in ("manual",) and not i.fields:
            problems.append(TableProblem(where, "缺少数据项（fields）"))
        tiers = i.params.get("tiers")
        well_formed = isinstance(tiers, (list, tuple)) and all(
            isinstance(t_, (list, tuple)) and len(t_) == 2
            and all(isinstance(z, (int, float)) and not isinstance(z, bool) for z in t_) for t_ in tiers)
        if tiers is not None and well_formed:
            thresholds = [t_[0] for t_ in tiers]
            pts = [t_[1] for t_ in tiers]
            if thresholds != sorted(thresholds, reverse=True) or len(set(thresholds)) != len(thresholds):
                problems.append(TableProblem(where, "分档阈值应从高到低排列且不重复"))
            if pts != sorted(pts, reverse=True) or any(p > i.points for p in pts):
                problems.append(TableProblem(where, "分档得分应从高到低且不超过该项分值"))
        if i.rule == "bonus" and (i.cap is None or i.cap <= 0):
            problems.append(TableProblem(where, "加分项须设置单项上限 cap"))
    for a in t.areas:
        s = sum(i.points for i in a.items)
        if not math.isclose(s, a.points):
            problems.append(TableProblem(f"一级指标 {a.code}", f"各项分值合计 {s:g} 分，与声明的 {a.points:g} 分不符"))
    total = sum(i.points for i in t.items)
    if check_total and not math.isclose(total, t.total):
        problems.append(TableProblem("总分", f"各项分值合计 {total:g} 分，与声明的总分 {t.total:g} 分不符"))
    mins = [g.min for g in t.grades]
    if mins != sorted(mins, reverse=True):
        problems.append(TableProblem("等次", "等次分数线应从高到低排列"))
    labels = [g.label for g in t.grades]
    if t.veto_grade not in labels:
        problems.append(TableProblem("等次", f"否决等次「{t.veto_grade}」不在等次列表中"))
    if t.candidates.grade not in labels:
        problems.append(TableProblem("评先条件", f"等次「{t.candidates.grade}」不在等次列表中"))
    if t.candidates.previous_min_grade and t.candidates.previous_min_grade not in labels:
        problems.append(TableProblem("评先条件", f"上年度等次「{t.candidates.previous_min_grade}」不在等次列表中"))
    for key in t.tie_break:
        if key not in TIE_BREAK_KEYS:
            problems.append(TableProblem("并列排序", f"排序依据「{key}」未知，可用：{'、'.join(TIE_BREAK_KEYS)}"))
    if t.bonus_cap < 0:
        problems.append(TableProblem("加分上限", "加分上限不能为负"))


def parse_table_yaml(text: str) -> tuple[IndicatorTable | None, list[TableProblem]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return None, [TableProblem("文件", f"YAML 格式错误：{exc}")]
    return parse_table(data)


def default_table_text(version: str = "2026") -> str:
    return resources.files("scoring").joinpath("tables", f"{version}.yaml").read_text(encoding="utf-8")


def default_table(version: str = "2026") -> IndicatorTable:
    table, problems = parse_table_yaml(default_table_text(version))
    if table is None:  # the shipped table is ours: a problem here is a bug
        raise ValueError("; ".join(map(str, problems)))
    return table


def table_to_dict(t: IndicatorTable) -> dict:
    """Inverse of parse_table, for storing a version and for the xlsx exporter."""
    def item(i: Item) -> dict:
        d: dict[str, Any] = {"code": i.code, "name": i.name, "points": i.points, "rule": i.rule,
                             "standard": i.standard, "fields": list(i.fields)}
        if i.params:
            d["params"] = copy.deepcopy(i.params)
        if i.core:
            d["core"] = True
        if i.area not in ("加分项", "一票否决"):
            d["period"] = i.period
        if i.prorate:
            d["prorate"] = list(i.prorate)
        if i.not_applicable_when:
            d["not_applicable_when"] = dict(i.not_applicable_when)
        if i.cap is not None:
            d["cap"] = i.cap
        return d

    return {
        "version": t.version, "title": t.title, "total": t.total, "bonus_cap": t.bonus_cap,
        "grades": [{"label": g.label, "min": g.min} for g in t.grades], "veto_grade": t.veto_grade,
        "tie_break": list(t.tie_break), "candidates": dict(t.candidates.__dict__),
        "fields": {n: {k: v for k, v in f.__dict__.items() if k != "name" and v is not None}
                   for n, f in t.fields.items()},
        "areas": [{"code": a.code, "name": a.name, "points": a.points, "items": [item(i) for i in a.items]}
                  for a in t.areas],
        "bonus": [item(i) for i in t.bonus],
        "veto": [{k: v for k, v in item(i).items() if k != "points"} for i in t.veto],
    }
