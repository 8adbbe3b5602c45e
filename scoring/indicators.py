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
MISSING_ZERO, MISSING_REPORT = "zero", "report"  # a blank field: 0 incidents, or 缺报
VETO_SET, VETO_CAP = "set", "cap"  # a veto fixes the grade, or only caps it
QUOTA_SCOPES = ("category", "all")
# Activity types a table's fields may count from records (``from_records``) unless it lists its own.
DEFAULT_ACTIVITY_TYPES = ("支部党员大会", "支委会", "党小组会", "党课", "主题党日", "组织生活会", "专题组织生活会",
                          "民主评议党员", "集中学习", "专题研讨", "党性锤炼活动", "对标共建", "谈心谈话")
REGULAR_MONTHLY, REGULAR_QUARTERLY = "monthly", "quarterly"
REGULAR_KINDS = {REGULAR_MONTHLY: "每月", REGULAR_QUARTERLY: "每季度"}
RECORD_FIELD_KINDS = ("count", "bool")  # what a count of records can stand for
AREA_BONUS, AREA_PENALTY, AREA_VETO = "加分项", "减分项", "一票否决"
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
    missing: str | None = None  # zero | report; None = the table's default_missing
    from_records: str | None = None  # activity type whose valid records give the value (count; bool: ≥1)
    regular: str | None = None  # monthly | quarterly: the rhythm the records are checked against
    min_attendance_pct: float | None = None  # a record below this attendance (%) does not count

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
    cap: float | None = None  # bonus and penalty items
    content: str = ""   # 考核内容/工作要求 (descriptive)
    method: str = ""    # 考评方式 (descriptive)
    owner: str = ""     # 考核部门 (descriptive)
    group: str | None = None  # code of the area's group (optional middle level)
    applies_to: dict | None = field(default=None, hash=False, compare=False)  # {categories: [...], kinds: [...]}
    component: str | None = None  # penalty items: the component they subtract from
    grade: str | None = None      # veto items: the grade set or capped
    mode: str = VETO_SET          # veto items: set | cap

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
class Group:
    """A middle level inside an area (二级指标 when items are 三级): its points must add up."""

    code: str
    name: str
    points: float


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    points: float
    items: tuple[Item, ...]
    groups: tuple[Group, ...] = ()
    component: str | None = None
    applies_to: dict | None = field(default=None, hash=False, compare=False)


@dataclass(frozen=True)
class Grade:
    label: str
    min: float
    max_pct: float | None = None   # at most this share of the units in the quota scope (rounded down)
    min_pct: float | None = None   # at least this share (rounded up), taken from the bottom of the grade above
    requires: tuple = field(default=(), hash=False, compare=False)  # conditions, see README


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
    penalty: tuple[Item, ...] = ()
    penalty_cap: float | None = None
    default_missing: str = MISSING_REPORT
    weights: dict = field(default_factory=dict, hash=False, compare=False)  # component → weight
    quota_scope: str = "category"
    allow_override: bool = False
    scale: float | None = None  # rescale the base to this (百分制: 100) instead of ``total``
    activity_types: tuple[str, ...] = DEFAULT_ACTIVITY_TYPES  # what ``from_records`` may name

    @property
    def record_fields(self) -> tuple[str, ...]:
        """Fields whose value may come from activity records (``from_records``), in table order."""
        return tuple(n for n, f in self.fields.items() if f.from_records)

    @property
    def base_scale(self) -> float:
        """What the base points are rescaled to: ``scale`` when given, else ``total``."""
        return self.total if self.scale is None else self.scale

    @property
    def items(self) -> tuple[Item, ...]:
        """Base (non-bonus, non-veto) items in table order."""
        return tuple(i for a in self.areas for i in a.items)

    @property
    def all_items(self) -> tuple[Item, ...]:
        return self.items + self.bonus + self.penalty + self.veto

    def missing_mode(self, name: str) -> str:
        """zero | report for a field: its own ``missing`` or the table's ``default_missing``."""
        f = self.fields.get(name)
        return (f.missing if f is not None and f.missing else None) or self.default_missing

    def area_of(self, item: Item) -> Area | None:
        for a in self.areas:
            if a.code == item.area:
                return a
        return None

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
        for gr in self.grades:  # fields a grade condition looks at (requires)
            for cond in gr.requires:
                if isinstance(cond, dict) and cond.get("field") in self.fields:
                    seen.setdefault(cond["field"], None)
        return tuple(seen)

    def grade_order(self) -> list[str]:
        """Grade labels best first."""
        return [g.label for g in self.grades]

    def with_item(self, code: str, **changes: Any) -> "IndicatorTable":
        """A copy with one item changed (points, params, core...): the what-if entry point."""
        def fix(items):
            return tuple(replace(i, **changes) if i.code == code else i for i in items)

        areas = tuple(replace(a, items=fix(a.items)) for a in self.areas)
        areas = tuple(replace(a, points=sum(i.points for i in a.items),
                              groups=tuple(replace(gr, points=sum(i.points for i in a.items if i.group == gr.code))
                                           for gr in a.groups)) for a in areas)
        return replace(self, areas=areas, bonus=fix(self.bonus), veto=fix(self.veto), penalty=fix(self.penalty))


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


def _opt_float(v) -> float | None:
    return None if v is None or v == "" else float(v)


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
        missing = spec.get("missing")
        if missing is not None and missing not in (MISSING_ZERO, MISSING_REPORT):
            problems.append(TableProblem(f"数据项 {name}", f"missing「{missing}」未知，应为 zero（未报按 0 计）或 report（未报为缺报）"))
        pct = spec.get("min_attendance_pct")
        if pct is not None and (isinstance(pct, bool) or not isinstance(pct, (int, float))):
            problems.append(TableProblem(f"数据项 {name}", f"min_attendance_pct「{pct}」应为 0 到 100 之间的数字（出席率百分比）"))
            pct = None
        fr, reg = spec.get("from_records"), spec.get("regular")
        fields[name] = FieldDef(name=name, label=str(spec.get("label", name)), unit=str(spec.get("unit", "")),
                                kind=kind, max_per_year=spec.get("max_per_year"),
                                missing=str(missing) if missing else None,
                                from_records=str(fr).strip() if fr not in (None, "") else None,
                                regular=str(reg).strip() if reg not in (None, "") else None,
                                min_attendance_pct=None if pct is None else float(pct))

    def item(raw: dict, area: str, default_rule: str | None = None, group: str | None = None) -> Item:
        na = raw.get("not_applicable_when")
        ap = raw.get("applies_to")
        return Item(code=str(raw["code"]), name=str(raw.get("name", raw["code"])), area=area,
                    points=float(raw.get("points", 0)), rule=str(raw.get("rule", default_rule)),
                    params=dict(raw.get("params") or {}), fields=tuple(raw.get("fields") or ()),
                    standard=str(raw.get("standard", "")), core=bool(raw.get("core", False)),
                    period=str(raw.get("period", PERIOD_PRORATE)), prorate=tuple(raw.get("prorate") or ()),
                    not_applicable_when=dict(na) if na else None,
                    cap=_opt_float(raw.get("cap")),
                    content=str(raw.get("content") or ""), method=str(raw.get("method") or ""),
                    owner=str(raw.get("owner") or ""), group=group,
                    applies_to=dict(ap) if ap else None,
                    component=str(raw["component"]) if raw.get("component") else None,
                    grade=str(raw["grade"]) if raw.get("grade") else None,
                    mode=str(raw.get("mode") or VETO_SET))

    areas = []
    for a in d["areas"]:
        code = str(a["code"])
        items = [item(i, code) for i in a.get("items") or ()]
        groups = []
        for gr in a.get("groups") or ():
            g_items = tuple(item(i, code, group=str(gr["code"])) for i in gr.get("items") or ())
            groups.append(Group(code=str(gr["code"]), name=str(gr.get("name", gr["code"])),
                                points=float(gr.get("points", sum(i.points for i in g_items)))))
            items.extend(g_items)
        ap = a.get("applies_to")
        areas.append(Area(code=code, name=str(a.get("name", code)),
                          points=float(a.get("points", sum(i.points for i in items))), items=tuple(items),
                          groups=tuple(groups), component=str(a["component"]) if a.get("component") else None,
                          applies_to=dict(ap) if ap else None))
    cand = d.get("candidates") or {}
    known = set(CandidateRules.__dataclass_fields__)
    grades = []
    for g in d["grades"]:
        req = g.get("requires") or ()
        if isinstance(req, dict):
            req = (req,)
        grades.append(Grade(str(g["label"]), float(g["min"]), max_pct=_opt_float(g.get("max_pct")),
                            min_pct=_opt_float(g.get("min_pct")), requires=tuple(dict(r) for r in req)))
    return IndicatorTable(
        version=str(d["version"]), title=str(d.get("title", d["version"])),
        total=float(d.get("total", 100)), bonus_cap=float(d.get("bonus_cap", 0)),
        grades=tuple(grades),
        veto_grade=str(d.get("veto_grade", d["grades"][-1]["label"])),
        tie_break=tuple(d.get("tie_break") or ("core_points", "code")),
        candidates=CandidateRules(**{k: v for k, v in cand.items() if k in known}),
        fields=fields, areas=tuple(areas),
        bonus=tuple(item(i, AREA_BONUS, "bonus") for i in d.get("bonus") or ()),
        veto=tuple(item(i, AREA_VETO, "veto") for i in d.get("veto") or ()),
        penalty=tuple(item(i, AREA_PENALTY, "penalty") for i in d.get("penalty") or ()),
        penalty_cap=_opt_float(d.get("penalty_cap")),
        default_missing=str(d.get("default_missing") or MISSING_REPORT),
        weights={str(k): float(v) for k, v in (d.get("weights") or {}).items()},
        quota_scope=str(d.get("quota_scope") or "category"),
        allow_override=bool(d.get("allow_override", False)),
        scale=_opt_float(d.get("scale")),
        activity_types=_activity_types(d.get("activity_types"), problems),
    )


def _activity_types(raw, problems: list[TableProblem]) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_ACTIVITY_TYPES
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        problems.append(TableProblem("activity_types", "应为活动类型的列表，如 [支委会, 党课, 主题党日]"))
        return DEFAULT_ACTIVITY_TYPES
    return tuple(str(x).strip() for x in raw if x is not None)


def _check(t: IndicatorTable, problems: list[TableProblem], check_total: bool = True) -> None:
    from scoring.rules import RULES

    rules = _registered_rules()
    seen: set[str] = set()
    base_codes = {i.code for i in t.items}
    bonus_codes = {i.code for i in t.bonus}
    penalty_codes = {i.code for i in t.penalty}
    labels = [g.label for g in t.grades]
    for i in t.all_items:
        where = f"指标 {i.code}"
        if i.code in seen:
            problems.append(TableProblem(where, "编码重复，每个指标的编码必须唯一"))
        seen.add(i.code)
        if i.rule not in rules:
            problems.append(TableProblem(where, f"评分类型「{i.rule}」未知，可用：{'、'.join(sorted(rules))}"))
        else:
            rule = RULES[i.rule]
            if rule.check is not None:
                problems.extend(TableProblem(where, m) for m in rule.check(i))
            unread = [f for f in i.fields if f not in rule.reads(i)]
            if unread:
                problems.append(TableProblem(where, f"数据项 {'、'.join(unread)} 未被评分类型「{rule.label}」读取，"
                                                    "请删去或改用能读取多个数据项的写法（如 per_item: {数据项: 扣分}）"))
        if i.code in base_codes and i.rule in ("bonus", "veto", "penalty"):
            problems.append(TableProblem(where, f"评分类型「{i.rule}」只能用于加分项、减分项或一票否决项"))
        elif i.code in bonus_codes and i.rule != "bonus":
            problems.append(TableProblem(where, "加分项的评分类型应为 bonus"))
        elif i.code in penalty_codes and i.rule != "penalty":
            problems.append(TableProblem(where, "减分项的评分类型应为 penalty"))
        elif (i.code not in base_codes and i.code not in bonus_codes and i.code not in penalty_codes
              and i.rule != "veto"):
            problems.append(TableProblem(where, "一票否决项的评分类型应为 veto"))
        if i.rule == "veto":
            if i.mode not in (VETO_SET, VETO_CAP):
                problems.append(TableProblem(where, f"mode「{i.mode}」未知，应为 set（定为该等次）或 cap（最高定为该等次）"))
            if i.grade is not None and i.grade not in labels:
                problems.append(TableProblem(where, f"等次「{i.grade}」不在等次列表中"))
        if i.component is not None and t.weights and i.component not in t.weights:
            problems.append(TableProblem(where, f"组成部分「{i.component}」不在 weights 中"))
        if i.applies_to is not None:
            problems.extend(TableProblem(where, m) for m in _applies_problems(i.applies_to))
        if i.not_applicable_when is not None and "field" not in i.not_applicable_when:
            problems.append(TableProblem(where, "not_applicable_when 须写明 field（据以判断不适用的数据项）"))
        for p in i.prorate:
            if p not in i.params:
                problems.append(TableProblem(where, f"prorate 中的参数 {p} 不在 params 中"))
        if i.rule == "veto" and i.points:
            problems.append(TableProblem(where, "一票否决项不能有分值"))
        if i.rule != "veto" and i.area != AREA_VETO and i.points < 0:
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
        if i.rule == "penalty" and i.cap is not None and i.cap <= 0:
            problems.append(TableProblem(where, "减分项的单项上限 cap 应为正数（不设上限可省略）"))
    problems.extend(_record_problems(t))
    for a in t.areas:
        s = sum(i.points for i in a.items)
        if not math.isclose(s, a.points):
            problems.append(TableProblem(f"一级指标 {a.code}", f"各项分值合计 {s:g} 分，与声明的 {a.points:g} 分不符"))
        for gr in a.groups:
            gs = sum(i.points for i in a.items if i.group == gr.code)
            if not math.isclose(gs, gr.points):
                problems.append(TableProblem(f"二级指标 {a.code}/{gr.code}",
                                             f"各项分值合计 {gs:g} 分，与声明的 {gr.points:g} 分不符"))
        if a.groups:
            gsum = sum(gr.points for gr in a.groups)
            if not math.isclose(gsum, a.points):
                problems.append(TableProblem(f"一级指标 {a.code}",
                                             f"各二级指标分值合计 {gsum:g} 分，与声明的 {a.points:g} 分不符"))
        if a.applies_to is not None:
            problems.extend(TableProblem(f"一级指标 {a.code}", m) for m in _applies_problems(a.applies_to))
        if t.weights and a.component not in t.weights:
            problems.append(TableProblem(f"一级指标 {a.code}",
                                         f"已设置 weights，须用 component 指明所属组成部分（可用：{'、'.join(t.weights)}）"))
    for name, w in t.weights.items():
        if not (isinstance(w, (int, float)) and w > 0):
            problems.append(TableProblem("权重", f"组成部分「{name}」的权重应为正数"))
    if t.default_missing not in (MISSING_ZERO, MISSING_REPORT):
        problems.append(TableProblem("default_missing", f"「{t.default_missing}」未知，应为 zero 或 report"))
    if t.quota_scope not in QUOTA_SCOPES:
        problems.append(TableProblem("quota_scope", f"「{t.quota_scope}」未知，应为 category（按类别）或 all（全部单位）"))
    if t.scale is not None and t.scale <= 0:
        problems.append(TableProblem("scale", "折算分制 scale 应为正数，如 100"))
    if t.penalty_cap is not None and any(i.component for i in t.penalty):
        problems.append(TableProblem("减分上限", "penalty_cap 不能与指明 component 的减分项同时使用，请改用各减分项的 cap"))
    if t.penalty_cap is not None and t.penalty_cap <= 0:
        problems.append(TableProblem("减分上限", "penalty_cap 应为正数（不设上限可省略）"))
    for gr in t.grades:
        for key in ("max_pct", "min_pct"):
            v = getattr(gr, key)
            if v is not None and not 0 <= v <= 100:
                problems.append(TableProblem(f"等次 {gr.label}", f"{key} 应在 0 到 100 之间（百分比）"))
        for cond in gr.requires:
            problems.extend(TableProblem(f"等次 {gr.label}", m) for m in _requires_problems(t, cond))
    total = sum(i.points for i in t.items)
    if check_total and not t.weights and not math.isclose(total, t.total):
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


def _record_problems(t: IndicatorTable) -> list[TableProblem]:
    """``activity_types`` and the record attributes of fields (from_records, regular, min_attendance_pct)."""
    out: list[TableProblem] = []
    types = t.activity_types
    if not types or any(not x for x in types):
        out.append(TableProblem("activity_types", "活动类型列表不能为空，也不能含空白项"))
    dup = sorted({x for x in types if types.count(x) > 1})
    if dup:
        out.append(TableProblem("activity_types", f"活动类型「{'、'.join(dup)}」重复"))
    for name, f in t.fields.items():
        where = f"数据项 {name}"
        if f.from_records is not None:
            if f.from_records not in types:
                out.append(TableProblem(where, f"from_records「{f.from_records}」不在活动类型中，可用：{'、'.join(types)}"))
            if f.kind not in RECORD_FIELD_KINDS:
                out.append(TableProblem(where, f"from_records 只能用于次数（count）或是/否（bool）类数据项，"
                                               f"本数据项类型为 {f.kind}"))
        if f.regular is not None:
            if f.regular not in REGULAR_KINDS:
                out.append(TableProblem(where, f"regular「{f.regular}」未知，应为 monthly（每月）或 quarterly（每季度）"))
            if f.from_records is None:
                out.append(TableProblem(where, "regular 须与 from_records 同时使用（规律性按活动记录核对）"))
        if f.min_attendance_pct is not None:
            if not (math.isfinite(f.min_attendance_pct) and 0 <= f.min_attendance_pct <= 100):
                out.append(TableProblem(where, "min_attendance_pct 应在 0 到 100 之间（出席率百分比）"))
            if f.from_records is None:
                out.append(TableProblem(where, "min_attendance_pct 须与 from_records 同时使用"))
    for i in t.all_items:
        if i.rule == "regular" and i.fields:
            f = t.fields.get(i.fields[0])
            if f is not None and not f.regular:
                out.append(TableProblem(f"指标 {i.code}", f"评分类型「按月/季度规律性」要求数据项「{f.name}」写明 "
                                                         "regular: monthly 或 quarterly（并用 from_records 指明活动类型）"))
    return out


def _applies_problems(spec) -> list[str]:
    if not isinstance(spec, dict) or not spec or set(spec) - {"categories", "kinds"}:
        return ["applies_to 应写成 {categories: [类别, ...], kinds: [单位类型, ...]}"]
    if not all(isinstance(v, (list, tuple)) and v for v in spec.values()):
        return ["applies_to 的 categories / kinds 应为非空列表"]
    return []


REQUIRE_KEYS = ("core", "field", "component")


def _requires_problems(t: IndicatorTable, cond) -> list[str]:
    """A grade condition: {core: true} | {field: f, equals: 是} | {field: f, min: v} | {component: c, min: v}."""
    if not isinstance(cond, dict) or sum(k in cond for k in REQUIRE_KEYS) != 1:
        return ["requires 的每个条件应为 {core: true}、{field: 数据项, equals: 是} / {field: 数据项, min: 数值} "
                "或 {component: 组成部分, min: 分数} 之一"]
    if "field" in cond:
        if cond["field"] not in t.fields:
            return [f"requires 中的数据项「{cond['field']}」未在 fields 中定义"]
        if not any(k in cond for k in ("equals", "min", "max")):
            return [f"requires 中的数据项「{cond['field']}」须写 equals、min 或 max"]
    if "component" in cond:
        if cond["component"] not in t.weights:
            return [f"requires 中的组成部分「{cond['component']}」不在 weights 中"]
        if "min" not in cond:
            return ["requires 中的组成部分条件须写 min"]
    return []


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
        if i.area not in (AREA_BONUS, AREA_PENALTY, AREA_VETO):
            d["period"] = i.period
        if i.prorate:
            d["prorate"] = list(i.prorate)
        if i.not_applicable_when:
            d["not_applicable_when"] = dict(i.not_applicable_when)
        if i.cap is not None:
            d["cap"] = i.cap
        for key in ("content", "method", "owner", "component", "grade"):
            if getattr(i, key):
                d[key] = getattr(i, key)
        if i.applies_to:
            d["applies_to"] = copy.deepcopy(i.applies_to)
        if i.rule == "veto" and i.mode != VETO_SET:
            d["mode"] = i.mode
        return d

    def grade(g: Grade) -> dict:
        out: dict[str, Any] = {"label": g.label, "min": g.min}
        if g.max_pct is not None:
            out["max_pct"] = g.max_pct
        if g.min_pct is not None:
            out["min_pct"] = g.min_pct
        if g.requires:
            out["requires"] = [dict(r) for r in g.requires]
        return out

    def area(a: Area) -> dict:
        out: dict[str, Any] = {"code": a.code, "name": a.name, "points": a.points}
        if a.component:
            out["component"] = a.component
        if a.applies_to:
            out["applies_to"] = copy.deepcopy(a.applies_to)
        out["items"] = [item(i) for i in a.items if i.group is None]
        if a.groups:
            out["groups"] = [{"code": gr.code, "name": gr.name, "points": gr.points,
                              "items": [item(i) for i in a.items if i.group == gr.code]} for gr in a.groups]
        return out

    extra: dict[str, Any] = {}
    if t.penalty:
        extra["penalty"] = [item(i) for i in t.penalty]
    if t.penalty_cap is not None:
        extra["penalty_cap"] = t.penalty_cap
    if t.default_missing != MISSING_REPORT:
        extra["default_missing"] = t.default_missing
    if t.weights:
        extra["weights"] = dict(t.weights)
    if t.quota_scope != "category":
        extra["quota_scope"] = t.quota_scope
    if t.allow_override:
        extra["allow_override"] = True
    if t.scale is not None:
        extra["scale"] = t.scale
    if t.activity_types != DEFAULT_ACTIVITY_TYPES:
        extra["activity_types"] = list(t.activity_types)
    return {
        "version": t.version, "title": t.title, "total": t.total, "bonus_cap": t.bonus_cap,
        "grades": [grade(g) for g in t.grades], "veto_grade": t.veto_grade,
        "tie_break": list(t.tie_break), "candidates": dict(t.candidates.__dict__),
        "fields": {n: {k: v for k, v in f.__dict__.items() if k != "name" and v is not None}
                   for n, f in t.fields.items()},
        "areas": [area(a) for a in t.areas],
        "bonus": [item(i) for i in t.bonus],
        "veto": [{k: v for k, v in item(i).items() if k != "points"} for i in t.veto],
        **extra,
    }
