"""Rule types: how one item turns evidence columns into points.

Owns the registry ``RULES`` (name → :class:`Rule`). Each rule is a small
function over whole columns (numpy arrays, one element per unit) plus the
Chinese templates that explain its result and say what would earn the missing
points. Rules never see a single unit, never raise on odd numbers and never
decide 缺报 / 不适用 / 未到期: the engine does that around them, so a rule only
has to be right for valid, reported values (NaN in, anything out: the engine
masks those rows).

Must not import pandas-level plumbing, databases, files, Flask or Dash.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Callable, Mapping

import numpy as np

from scoring.glossary import RULE_LABELS
from scoring.indicators import FieldDef, Item

# How a parameter or a fact prints: in the unit of the item's first evidence
# field (「6 次」「90%」), as points (「1.5 分」 → bare number, templates add 分),
# as a percentage, or as a plain number.
FIELD, POINTS, PCT, PLAIN = "field", "points", "pct", "plain"

EPS_DECIMALS = 9  # evidence is compared after rounding to this many decimals


@dataclass(frozen=True)
class RuleInput:
    values: tuple[np.ndarray, ...]  # one float array per item field; NaN = missing/invalid
    params: dict                    # in force for the period (H1 pro-rating done)
    points: float                   # the item's points (bonus: its cap)
    item: Item
    groups: np.ndarray | None = None  # category code per unit (rules that rank inside a category)
    # The ``regular`` rule's rhythm facts (see scoring/records.py): {"n_missing": float per unit, NaN
    # where the typed value counts (months unknown), "missing": labels per unit, "periods": months or
    # quarters checked, "regular": monthly | quarterly}. None for every other rule.
    rhythm: Mapping | None = None


@dataclass(frozen=True)
class RuleOutput:
    points: np.ndarray                                   # float, within [0, points]
    case: np.ndarray                                     # template key per unit ("main", "met", ...)
    facts: Mapping[str, tuple[np.ndarray, str]] = field(default_factory=dict)  # name → (values, print kind)


@dataclass(frozen=True)
class Rule:
    """A registered rule type. ``human_template`` explains the usual case (points lost)."""

    name: str
    label: str
    human_template: str
    params_doc: str
    fn: Callable[[RuleInput], RuleOutput]
    templates: Mapping[str, str] = field(default_factory=dict)    # other cases: "met", "zero", ...
    param_kinds: Mapping[str, str] = field(default_factory=dict)  # how each parameter prints
    need_template: str = ""                                     # gap text: what earns the lost points
    check: Callable[[Item], list[str]] | None = None            # table validation, Chinese messages
    goal: Callable[[dict, tuple[float, ...]], float | None] | None = None  # field value giving full points
    reads: Callable[[Item], tuple[str, ...]] = lambda item: item.fields[:1]  # fields the rule reads

    def template(self, case: str) -> str:
        return self.human_template if case == "main" else self.templates.get(case, self.human_template)


RULES: dict[str, Rule] = {}


def register(name: str, *, human_template: str, params_doc: str, templates: Mapping[str, str] | None = None,
             param_kinds: Mapping[str, str] | None = None, need_template: str = "",
             check: Callable[[Item], list[str]] | None = None,
             goal: Callable[[dict, tuple[float, ...]], float | None] | None = None,
             reads: Callable[[Item], tuple[str, ...]] | None = None):
    """Decorator: register a vectorised rule function under ``name``.

    ``reads`` names the fields the rule reads for an item (default: the first one only); the
    table validation refuses any other field listed on the item, so nothing is silently ignored.
    """
    def deco(fn: Callable[[RuleInput], RuleOutput]) -> Callable[[RuleInput], RuleOutput]:
        RULES[name] = Rule(name=name, label=RULE_LABELS[name], human_template=human_template,
                           params_doc=params_doc, fn=fn, templates=dict(templates or {}),
                           param_kinds=dict(param_kinds or {}), need_template=need_template,
                           check=check, goal=goal, reads=reads or (lambda item: item.fields[:1]))
        return fn
    return deco


# ---------------------------------------------------------------- formatting
def fmt_number(x: float) -> str:
    """Display a number: half-up to 2 decimals, trailing zeros dropped (81 / 82.5 / 0.8)."""
    if x is None:
        return "—"
    return _fmt_number(float(x))


@lru_cache(maxsize=65536)
def _fmt_number(x: float) -> str:
    if not math.isfinite(x):
        return "—"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    if abs(x) >= 1e15:  # absurd evidence (1e300): Decimal.quantize would overflow its context
        return f"{x:.6g}"
    d = Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def fmt_fixed2(x: float) -> str:
    """Display a total with exactly two decimals, half up (82.50)."""
    if x is None or not math.isfinite(float(x)):
        return "—"
    if abs(float(x)) >= 1e15:
        return f"{float(x):.6g}"
    return format(Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


def fmt_in_unit(x: float, f: FieldDef | None) -> str:
    """A quantity in a field's unit: 「4 次」「72%」「12 学时」; booleans as 是/否."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "未报"
    if f is None:
        return fmt_number(x)
    if f.kind == "bool":
        return "是" if x > 0 else "否"
    if f.unit == "%":
        return f"{fmt_number(x)}%"
    return f"{fmt_number(x)} {f.unit}".rstrip()


def fmt_kind(x, kind: str, f: FieldDef | None) -> str:
    if kind == FIELD:
        return fmt_in_unit(x, f)
    if kind == PCT:
        return f"{fmt_number(x)}%"
    if kind in (POINTS, PLAIN):
        return fmt_number(x)
    return str(x)


# ---------------------------------------------------------------- checks
def _need_number(*names: str, positive: tuple[str, ...] = ()) -> Callable[[Item], list[str]]:
    def check(item: Item) -> list[str]:
        out = []
        for n in names:
            v = item.params.get(n)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                out.append(f"参数 {n} 缺失或不是数字")
            elif v < 0 or (n in positive and v <= 0):
                out.append(f"参数 {n} 应为{'正数' if n in positive else '非负数'}")
        return out
    return check


def _pick(cases: tuple[str, ...], index: np.ndarray) -> np.ndarray:
    """``cases[index]`` per unit. Nesting np.where over texts of different lengths copies them one
    by one (hundreds of µs per 10,000 units); picking from an object array is a plain gather."""
    return np.array(cases, dtype=object)[index]


def _pv(v: float) -> float:
    return float(np.round(v, EPS_DECIMALS))


# ---------------------------------------------------------------- rule types
@register(
    "count_target",
    human_template="{field} {value}，标准 {target}，少 {short}，扣 {lost} 分",
    templates={"met": "{field} {value}，达到标准 {target}，得满分 {points} 分"},
    params_doc="target：应达到的次数（上半年按 prorate 折半、向上取整）；per_miss：每少 1 次扣的分值；扣完为止，超出不加分。",
    param_kinds={"target": FIELD, "per_miss": POINTS},
    need_template="{field}再增加 {more}（达到 {goal}）可得 {gain} 分",
    check=_need_number("target", "per_miss"),
    goal=lambda p, v: p.get("target"),
)
def count_target(x: RuleInput) -> RuleOutput:
    v = x.values[0]
    target = float(x.params["target"])
    with np.errstate(invalid="ignore"):
        done = np.floor(v)  # only whole occurrences count
        short = np.maximum(0.0, np.ceil(np.round(target - done, EPS_DECIMALS)))
        pts = np.maximum(0.0, x.points - short * float(x.params["per_miss"]))
    return RuleOutput(pts, np.where(short > 0, "main", "met"), {"short": (short, FIELD)})


def _ratio_check(item: Item) -> list[str]:
    if "target" in item.params:
        return _need_number("target", positive=("target",))(item)
    if len(item.fields) < 2:
        return ["按比例得分需给出 target，或给出两个数据项（完成数、计划数）"]
    return []


def _ratio_goal(p: dict, v: tuple[float, ...]) -> float | None:
    if "target" in p:
        return p["target"]
    return v[1] if len(v) > 1 else None


@register(
    "ratio",
    human_template="{field} {value}，标准 {target}，完成 {pct}，按比例得 {got} 分（满分 {points} 分）",
    templates={
        "met": "{field} {value}，达到标准 {target}，得满分 {points} 分",
        "main2": "{field} {value}，{field2} {value2}，完成 {pct}，按比例得 {got} 分（满分 {points} 分）",
        "met2": "{field} {value}，{field2} {value2}，全部完成，得满分 {points} 分",
        "nothing": "{field2} {value2}，无考核任务，得满分 {points} 分",
    },
    params_doc="target：标准值（上半年按 prorate 折半、向上取整；比率类不折算）；不设 target 时用两个数据项，"
               "完成数 ÷ 计划数。得分 = 分值 × 完成比例，最高满分；计划数为 0 时视为无任务，得满分。",
    param_kinds={"target": FIELD},
    need_template="{field}提高到 {goal} 可得 {gain} 分",
    check=_ratio_check,
    goal=_ratio_goal,
    reads=lambda item: item.fields[:1] if "target" in item.params else item.fields[:2],
)
def ratio(x: RuleInput) -> RuleOutput:
    num = x.values[0]
    two = "target" not in x.params
    den = x.values[1] if two else np.full(num.shape, float(x.params["target"]))
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)
        pts = np.where(den > 0, np.minimum(num * x.points / np.where(den > 0, den, 1.0), x.points), x.points)
        pts = np.maximum(pts, 0.0)
        full = frac >= 1
    if two:
        case = _pick(("met2", "main2", "nothing"), np.where(den > 0, np.where(full, 0, 1), 2))
    else:
        case = np.where(full, "met", "main")
    return RuleOutput(pts, case, {"pct": (frac * 100, PCT)})


def _stepped_check(item: Item) -> list[str]:
    return _need_number("full_at", "step", "per_step", positive=("step",))(item)


@register(
    "stepped",
    human_template="{field} {value}，低于 {full_at} 共 {steps} 档，扣 {lost} 分",
    templates={"met": "{field} {value}，达到 {full_at}，得满分 {points} 分"},
    params_doc="full_at：达到即得满分的值；step：每档宽度；per_step：每档扣分。"
               "档数 = ⌈(full_at − 填报值) ÷ step⌉，不足一档按一档计；扣完为止。",
    param_kinds={"full_at": FIELD, "step": FIELD, "per_step": POINTS},
    need_template="{field}提高到 {goal} 可得 {gain} 分",
    check=_stepped_check,
    goal=lambda p, v: p.get("full_at"),
)
def stepped(x: RuleInput) -> RuleOutput:
    v = x.values[0]
    p = x.params
    with np.errstate(invalid="ignore"):
        gap = float(p["full_at"]) - v
        steps = np.where(gap > 0, np.ceil(np.round(gap / float(p["step"]), EPS_DECIMALS)), 0.0)
        pts = np.maximum(0.0, x.points - steps * float(p["per_step"]))
    return RuleOutput(pts, np.where(steps > 0, "main", "met"), {"steps": (steps, PLAIN)})


def _tiered_check(item: Item) -> list[str]:
    tiers = item.params.get("tiers")
    if not isinstance(tiers, (list, tuple)) or not tiers:
        return ["参数 tiers 缺失，应为 [[阈值, 得分], ...]"]
    for t in tiers:
        if (not isinstance(t, (list, tuple)) or len(t) != 2
                or not all(isinstance(z, (int, float)) and not isinstance(z, bool) for z in t)):
            return ["参数 tiers 格式不正确，应为 [[阈值, 得分], ...]"]
    return []


@register(
    "tiered",
    human_template="{field} {value}，属于“≥{tier}”档，得 {got} 分（满分 {points} 分）",
    templates={
        "met": "{field} {value}，达到最高档“≥{tier}”，得满分 {points} 分",
        "zero": "{field} {value}，低于最低档 {lowest}，得 0 分",
    },
    params_doc="tiers：[[阈值, 得分], ...]，阈值从高到低；从最高档起取第一个满足“填报值 ≥ 阈值”的档（含等于）。"
               "上半年仅在 prorate 列出 tiers 时阈值折半、向上取整。",
    param_kinds={},
    need_template="{field}提高到 {goal} 可得 {gain} 分",
    check=_tiered_check,
    goal=lambda p, v: p["tiers"][0][0] if p.get("tiers") else None,
)
def tiered(x: RuleInput) -> RuleOutput:
    v = x.values[0]
    tiers = [(float(t), float(p)) for t, p in x.params["tiers"]]
    pts = np.zeros(v.shape)
    tier = np.full(v.shape, np.nan)
    with np.errstate(invalid="ignore"):
        for t, p in reversed(tiers):  # lowest first, so the highest matching tier is written last
            hit = v >= t
            pts[hit] = min(p, x.points)
            tier[hit] = t
    case = np.where(np.isnan(tier), "zero", np.where(pts >= x.points, "met", "main"))
    lowest = np.full(v.shape, min(t for t, _ in tiers))
    return RuleOutput(pts, case, {"tier": (tier, FIELD), "lowest": (lowest, FIELD)})


@register(
    "boolean",
    human_template="{field}：否，不得分",
    templates={"met": "{field}：是，得满分 {points} 分"},
    params_doc="无参数。填报“是”（1）得满分，“否”（0）不得分。",
    need_template="完成“{field}”可得 {gain} 分",
    check=lambda item: [],
    goal=lambda p, v: 1.0,
)
def boolean(x: RuleInput) -> RuleOutput:
    with np.errstate(invalid="ignore"):
        done = x.values[0] > 0
    return RuleOutput(np.where(done, x.points, 0.0), np.where(done, "met", "main"))


def deduction_rates(item: Item) -> dict[str, float]:
    """{field: points per incident} of a deduction item (a plain per_item applies to its one field)."""
    per = item.params.get("per_item", 0)
    if isinstance(per, Mapping):
        return {f: float(per[f]) for f in item.fields if f in per}
    return {f: float(per) for f in item.fields[:1]}


def _deduction_check(item: Item) -> list[str]:
    per = item.params.get("per_item")
    out = []
    if isinstance(per, Mapping):
        vals = list(per.values())
        if not per or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in vals):
            out.append("参数 per_item 应为 {数据项: 每处扣分}，扣分为非负数")
        extra = [f for f in per if f not in item.fields]
        if extra:
            out.append(f"参数 per_item 中的数据项 {'、'.join(map(str, extra))} 不在 fields 中")
    else:
        out.extend(_need_number("per_item")(item))
    if item.params.get("round", "up") not in ("up", "none"):
        out.append("参数 round 应为 up（不足一处按一处计）或 none（按实际数值计，如倍数、小数）")
    return out


@register(
    "deduction",
    human_template="{field} {value}，每处扣 {per_item} 分，扣 {lost} 分",
    templates={"met": "{field} {value}，不扣分，得满分 {points} 分",
               "pool": "{detail}，合计扣 {raw} 分",
               "pool_floor": "{detail}，合计扣 {raw} 分，本项 {points} 分扣完为止",
               "pool_met": "{detail}，不扣分，得满分 {points} 分"},
    params_doc="per_item：每处问题扣的分值，或 {数据项: 每处扣分, …}（多个数据项共用本项分值，扣完为止）；"
               "round：up（默认，不足一处按一处计）或 none（按实际数值计，用于倍数、小数）。",
    param_kinds={"per_item": POINTS},
    need_template="整改{field} {value}（清零）可得 {gain} 分",
    check=_deduction_check,
    goal=lambda p, v: 0.0,
    reads=lambda item: tuple(deduction_rates(item)),
)
def deduction(x: RuleInput) -> RuleOutput:
    rates = deduction_rates(x.item)
    up = x.params.get("round", "up") != "none"
    pooled = isinstance(x.params.get("per_item"), Mapping)
    with np.errstate(invalid="ignore"):
        lost = np.zeros(x.values[0].shape)
        for f, v in zip(x.item.fields, x.values):
            if f in rates:
                n = np.ceil(np.round(v, EPS_DECIMALS)) if up else v
                lost = lost + n * rates[f]
        lost = np.round(lost, 10)
        pts = np.maximum(0.0, x.points - lost)
    if not pooled:
        return RuleOutput(pts, np.where(lost > 0, "main", "met"))
    case = _pick(("pool_met", "pool", "pool_floor"), np.where(lost <= 0, 0, np.where(lost > x.points, 2, 1)))
    return RuleOutput(pts, case, {"raw": (lost, POINTS)})


def _manual_check(item: Item) -> list[str]:
    p = item.params
    out = []
    if "deduct_range" in p:
        r = p["deduct_range"]
        if (not isinstance(r, (list, tuple)) or len(r) != 2
                or not all(isinstance(z, (int, float)) and not isinstance(z, bool) for z in r)
                or not 0 <= r[0] <= r[1] <= item.points):
            out.append(f"参数 deduct_range 应为 [最少扣分, 最多扣分]，且 0 ≤ 最少 ≤ 最多 ≤ 分值 {item.points:g}")
    for k in ("min", "max"):
        if k in p and (not isinstance(p[k], (int, float)) or isinstance(p[k], bool) or not 0 <= p[k] <= item.points):
            out.append(f"参数 {k} 应在 0 到分值 {item.points:g} 之间")
    if "min" in p and "max" in p and not out and p["min"] > p["max"]:
        out.append("参数 min 不能大于 max")
    return out


def manual_range(item: Item) -> tuple[float, float]:
    """What an inspector may enter: the judgement score range, or for deduct_range the deduction range."""
    p = item.params
    if "deduct_range" in p:
        return float(p["deduct_range"][0]), float(p["deduct_range"][1])
    return float(p.get("min", 0)), float(p.get("max", item.points))


@register(
    "manual",
    human_template="考核组评定 {got} 分（满分 {points} 分）",
    templates={"met": "考核组评定 {got} 分（满分 {points} 分）",
               "deduct": "考核组扣 {lost} 分",
               "deduct_none": "考核组未扣分，得满分 {points} 分"},
    params_doc="分值由考核组录入（调整类型 judgement），须注明理由。可选 min/max：评定分的范围（默认 0 到分值），"
               "应评未评按缺报计 0 分；或 deduct_range: [a, b]：考核组录入扣分（0 表示不扣，否则在 a 到 b 之间，"
               "如「扣1-3分」），未录入即未扣分、得满分。",
    need_template="考核组评定达到满分 {points} 分可得 {gain} 分",
    check=_manual_check,
    reads=lambda item: (),
)
def manual(x: RuleInput) -> RuleOutput:
    p = x.params
    v = x.values[0]
    if "deduct_range" in p:
        lo, hi = float(p["deduct_range"][0]), float(p["deduct_range"][1])
        d = np.nan_to_num(v, nan=0.0)
        d = np.where(d > 0, np.clip(d, lo, hi), 0.0)
        pts = np.maximum(0.0, x.points - d)
        return RuleOutput(pts, np.where(d > 0, "deduct", "deduct_none"))
    pts = np.clip(np.nan_to_num(v, nan=0.0), float(p.get("min", 0)), float(p.get("max", x.points)))
    pts = np.minimum(pts, x.points)
    return RuleOutput(pts, np.where(pts >= x.points, "met", "main"))


def _bonus_rates(item: Item) -> dict[str, float]:
    per = item.params.get("per_unit", 1)
    if isinstance(per, Mapping):
        return {f: float(per.get(f, 0)) for f in item.fields}
    return {f: float(per) for f in item.fields}


def _bonus_check(item: Item) -> list[str]:
    per = item.params.get("per_unit")
    if per is None:
        return ["参数 per_unit 缺失（每项加分值，或 {数据项: 每项加分值}）"]
    vals = per.values() if isinstance(per, Mapping) else [per]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in vals):
        return ["参数 per_unit 应为非负数"]
    if isinstance(per, Mapping) and set(per) - set(item.fields):
        return [f"参数 per_unit 中的数据项 {'、'.join(sorted(set(per) - set(item.fields)))} 不在 fields 中"]
    return []


@register(
    "bonus",
    human_template="{detail}，加 {got} 分",
    templates={
        "capped": "{detail}，计 {raw} 分，超过单项上限按 {cap} 分计",
        "none": "无加分",
    },
    params_doc="per_unit：每项加分值，或 {数据项: 每项加分值}；cap（写在指标上）：单项上限。"
               "全部加分项合计不超过指标体系的 bonus_cap；加分不折算，一票否决的单位照加。未报按 0 计。",
    check=_bonus_check,
    reads=lambda item: tuple(f for f in item.fields if not isinstance(item.params.get("per_unit"), Mapping)
                             or f in item.params["per_unit"]),
)
def bonus(x: RuleInput) -> RuleOutput:
    rates = _bonus_rates(x.item)
    raw = np.zeros(x.values[0].shape if x.values else (0,))
    for f, v in zip(x.item.fields, x.values):
        raw = raw + rates[f] * np.nan_to_num(np.maximum(v, 0.0), nan=0.0)
    raw = np.round(raw, 10)
    cap = float(x.item.cap if x.item.cap is not None else x.points)
    pts = np.minimum(raw, cap)
    case = _pick(("none", "capped", "main"), np.where(raw <= 0, 0, np.where(raw > cap, 1, 2)))
    return RuleOutput(pts, case, {"raw": (raw, POINTS)})


@register(
    "veto",
    human_template="发生“{name}”（{field}：是），一票否决",
    templates={"none": "未发生"},
    params_doc="无参数。填报“是”（1）即一票否决：等次定为否决等次（默认不合格），不得参加评先评优；"
               "分数照算、照常排名。未报按“否”计。",
    check=lambda item: [],
    reads=lambda item: item.fields,
)
def veto(x: RuleInput) -> RuleOutput:
    with np.errstate(invalid="ignore"):
        hit = np.zeros(x.values[0].shape, dtype=bool) if x.values else np.zeros(0, dtype=bool)
        for v in x.values:
            hit |= v > 0
    return RuleOutput(np.zeros(hit.shape), np.where(hit, "main", "none"))


@register(
    "penalty",
    human_template="{detail}，减 {got} 分",
    templates={
        "capped": "{detail}，计 {raw} 分，超过单项上限按 {cap} 分计",
        "none": "无减分",
    },
    params_doc="per_unit：每项减分值，或 {数据项: 每项减分值}（小数、倍数按实际数值计）；cap（写在指标上）：单项上限，"
               "可省略（不设上限）；component（写在指标上）：从哪个组成部分扣（设有 weights 时）。"
               "减分在折算为百分制之后扣除，合计不超过 penalty_cap（如设），总分最低为 0。未报按 0 计。",
    check=_bonus_check,
    reads=lambda item: tuple(f for f in item.fields if not isinstance(item.params.get("per_unit"), Mapping)
                             or f in item.params["per_unit"]),
)
def penalty(x: RuleInput) -> RuleOutput:
    return bonus(x)


def _regular_check(item: Item) -> list[str]:
    out = _need_number("per_miss_period")(item)
    if "cap" in item.params:
        out.extend(_need_number("cap", positive=("cap",))(item))
    return out


@register(
    "regular",
    human_template="{field} {value}，其中 {missing}未召开，扣 {lost} 分",
    templates={
        "met": "{field} {value}，{span}均已召开，得满分 {points} 分",
        "typed": "{field} {value}（填报值，无法核对月份），应召开 {span}，按少 {n_missing}{per}计，扣 {lost} 分",
        "typed_met": "{field} {value}（填报值，未核对月份），不少于 {span}，得满分 {points} 分",
        "none": "本期没有完整的月份或季度需核对，得满分 {points} 分",
    },
    params_doc="数据项须写明 from_records（活动类型）和 regular: monthly（每月）或 quarterly（每季度）。"
               "per_miss_period：考核期内每有一个月（季度）没有有效活动记录扣的分值；cap：最多扣的分值（可省略，"
               "扣完本项分值为止）。只核对完整落在考核期内的月份（季度）：全年 12 个月 / 4 个季度，上半年 6 个月 / "
               "2 个季度。依据填报值计分时无法核对月份，按「应召开月（季）数 − 填报次数」计未召开的月（季）数。",
    param_kinds={"per_miss_period": POINTS, "cap": POINTS},
    need_template="补齐未召开的月份（季度）的活动可得 {gain} 分",
    check=_regular_check,
)
def regular(x: RuleInput) -> RuleOutput:
    v = x.values[0]
    n = v.shape
    rh = x.rhythm or {}
    periods = float(rh.get("periods", 0))
    per = "个季度" if rh.get("regular") == "quarterly" else "个月"
    known = rh.get("n_missing")
    known = np.full(n, np.nan) if known is None else np.asarray(known, dtype=float)
    with np.errstate(invalid="ignore"):
        typed_miss = np.maximum(0.0, periods - np.floor(v))
    miss = np.where(np.isnan(known), typed_miss, known)
    lost = miss * float(x.params["per_miss_period"])
    if "cap" in x.params:
        lost = np.minimum(lost, float(x.params["cap"]))
    pts = np.maximum(0.0, x.points - lost)
    if periods <= 0:
        case = np.full(n, "none", dtype=object)
    else:
        case = _pick(("met", "main", "typed_met", "typed"),
                     np.where(np.isnan(known), 2, 0) + np.where(miss > 0, 1, 0))
    labels = rh.get("missing")
    labels = np.full(n, "", dtype=object) if labels is None else np.asarray(labels, dtype=object)
    return RuleOutput(pts, case, {"missing": (labels, "text"), "n_missing": (miss, PLAIN),
                                  "span": (np.full(n, f"{int(periods)} {per}", dtype=object), "text"),
                                  "per": (np.full(n, f" {per}", dtype=object), "text")})


def _checks(item: Item) -> list[tuple[str, float]]:
    return [(str(c["field"]), float(c["points"])) for c in item.params.get("checks") or ()]


def _checklist_check(item: Item) -> list[str]:
    checks = item.params.get("checks")
    if not isinstance(checks, (list, tuple)) or not checks:
        return ["参数 checks 缺失，应为 [{field: 数据项, points: 分值}, ...]"]
    for c in checks:
        if (not isinstance(c, Mapping) or "field" not in c or not isinstance(c.get("points"), (int, float))
                or isinstance(c.get("points"), bool) or c["points"] <= 0):
            return ["参数 checks 的每一项应为 {field: 数据项, points: 正数分值}"]
    out = []
    listed = [c["field"] for c in checks]
    extra = [f for f in listed if f not in item.fields]
    if extra:
        out.append(f"参数 checks 中的数据项 {'、'.join(map(str, extra))} 不在 fields 中")
    total = sum(float(c["points"]) for c in checks)
    if total < item.points - 1e-9:
        out.append(f"各检查项分值合计 {total:g} 分，少于本项分值 {item.points:g} 分（全部未完成仍会得分）")
    return out


@register(
    "checklist",
    human_template="未完成：{failed}，扣 {lost} 分",
    templates={"met": "各项要求均已完成，得满分 {points} 分", "floor": "未完成：{failed}，本项 {points} 分扣完为止"},
    params_doc="checks：[{field: 数据项, points: 分值}, ...]，每项为是/否要求，共用本项分值：未完成的扣去其分值，扣完为止。",
    need_template="完成全部要求可得 {gain} 分",
    check=_checklist_check,
    reads=lambda item: tuple(c[0] for c in _checks(item)),
)
def checklist(x: RuleInput) -> RuleOutput:
    checks = _checks(x.item)
    pos = {f: k for k, f in enumerate(x.item.fields)}
    n = x.values[0].shape if x.values else (0,)
    lost = np.zeros(n)
    failed = np.full(n, "", dtype=object)
    for f, p in checks:
        with np.errstate(invalid="ignore"):
            miss = ~(x.values[pos[f]] > 0)
        lost = lost + np.where(miss, p, 0.0)
        label = x.item.fields[pos[f]]
        failed = np.where(miss, np.where(failed == "", label, failed + "、" + label), failed)
    pts = np.maximum(0.0, x.points - lost)
    case = _pick(("met", "main", "floor"), np.where(lost <= 0, 0, np.where(lost > x.points, 2, 1)))
    return RuleOutput(pts, case, {"failed": (failed, "field_names")})


def _rank_check(item: Item) -> list[str]:
    p = item.params
    if "points_by_place" in p:
        v = p["points_by_place"]
        if (not isinstance(v, (list, tuple)) or not v
                or not all(isinstance(z, (int, float)) and not isinstance(z, bool) and 0 <= z <= item.points for z in v)):
            return [f"参数 points_by_place 应为 [第1名得分, 第2名得分, ...]，每个在 0 到分值 {item.points:g} 之间"]
    elif not p.get("proportional"):
        return ["排名得分须给出 points_by_place（按名次给分）或 proportional: true（与第一名之比 × 分值）"]
    if p.get("order", "desc") not in ("desc", "asc"):
        return ["参数 order 应为 desc（数值大者在前，默认）或 asc（数值小者在前）"]
    if p.get("scope", "category") not in ("category", "all"):
        return ["参数 scope 应为 category（类别内排名，默认）或 all（全部单位排名）"]
    return []


@register(
    "rank",
    human_template="{field} {value}，排名第 {place} 名，得 {got} 分（满分 {points} 分）",
    templates={"met": "{field} {value}，排名第 {place} 名，得满分 {points} 分"},
    params_doc="按某数据项在类别内（scope: category，默认）或全部单位（scope: all）中的名次给分。"
               "points_by_place：[第1名得分, 第2名得分, ...]，名次超出列表的得 0 分；或 proportional: true："
               "得分 = 本单位数值 ÷ 第一名数值 × 分值。order：desc（默认，数值大者在前）或 asc。"
               "并列者名次相同（1、2、2、4），得分相同。只在本项有效填报的单位之间排名。",
    check=_rank_check,
)
def rank(x: RuleInput) -> RuleOutput:
    v = x.values[0]
    p = x.params
    asc = p.get("order", "desc") == "asc"
    n = len(v)
    groups = x.groups if (x.groups is not None and p.get("scope", "category") == "category") else np.zeros(n, dtype=np.int64)
    key = np.where(np.isnan(v), np.nan, v if asc else -v)
    place = np.full(n, np.nan)
    best = np.full(n, np.nan)
    df = pd_rank(key, groups)
    place[:] = df[0]
    best[:] = df[1]
    if "points_by_place" in p:
        table = np.array([float(z) for z in p["points_by_place"]] + [0.0])
        idx = np.where(np.isnan(place), len(table) - 1, np.minimum(np.nan_to_num(place, nan=1) - 1, len(table) - 1))
        pts = table[idx.astype(np.int64)]
    else:
        first = np.abs(best)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(first > 0, (np.abs(v) if not asc else first / np.where(v > 0, v, np.nan)) /
                            (first if not asc else 1.0), 1.0)
        pts = np.clip(np.nan_to_num(frac * x.points, nan=0.0), 0.0, x.points)
    pts = np.minimum(pts, x.points)
    return RuleOutput(pts, np.where(pts >= x.points, "met", "main"), {"place": (place, PLAIN)})


def pd_rank(key: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(competition rank 1, 2, 2, 4 of ``key`` ascending inside each group; the best key of the group)."""
    import pandas as pd  # local: only the rank rule needs it

    s = pd.Series(key)
    g = pd.Series(groups)
    place = s.groupby(g).rank(method="min", ascending=True).to_numpy()
    best = s.groupby(g).transform("min").to_numpy()
    return place, best


def rate_detail(item: Item, values: tuple[float, ...], fields: Mapping[str, FieldDef]) -> str:
    """The {detail} of a bonus, penalty or pooled deduction: 「市级刊用 1 篇×0.5 分、…」."""
    if item.rule == "deduction":
        rates = deduction_rates(item)
        rates = {f: rates.get(f, 0.0) for f in item.fields}
        parts = []
        for f, v in zip(item.fields, values):
            if v is not None and not math.isnan(v) and v > 0 and rates[f] > 0:
                fd = fields.get(f)
                parts.append(f"{fd.label if fd else f} {fmt_in_unit(v, fd)}×{fmt_number(rates[f])} 分")
        return "、".join(parts) if parts else "未发现问题"
    return bonus_detail(item, values, fields)


def bonus_detail(item: Item, values: tuple[float, ...], fields: Mapping[str, FieldDef]) -> str:
    """「市级刊用 1 篇×0.5 分、优秀党课作品 1 件×1 分」 for one unit's bonus evidence."""
    rates = _bonus_rates(item)
    parts = []
    for f, v in zip(item.fields, values):
        if v is not None and not math.isnan(v) and v > 0 and rates[f] > 0:
            fd = fields.get(f)
            parts.append(f"{fd.label if fd else f} {fmt_in_unit(v, fd)}×{fmt_number(rates[f])} 分")
    return "、".join(parts) if parts else "无"
