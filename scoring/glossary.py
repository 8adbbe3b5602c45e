"""The words of the domain, English ↔ 中文, in one place.

Owns the glossary, the status labels an item can take, the Chinese labels of
the rule types and the naming of assessment periods (``2026H1`` / ``2026``).
Everything here is plain data or a pure function: no pandas, no evaluation.
"""
from __future__ import annotations

import re

# English word used in code → the Chinese word users see.
GLOSSARY: dict[str, str] = {
    "branch": "支部",
    "general_branch": "党总支",
    "unit": "考核单位",
    "category": "类别",
    "indicator": "指标",
    "indicator_table": "指标体系",
    "area": "一级指标",
    "item": "二级指标",
    "points": "分值",
    "score": "得分",
    "scoring_standard": "评分标准",
    "deduction": "扣分",
    "bonus": "加分项",
    "veto": "一票否决",
    "core": "★核心指标",
    "evidence": "数据项",
    "evidence_value": "填报值",
    "judgement": "考核组评定",
    "adjustment": "考核组调整",
    "not_applicable": "不适用",
    "missing": "缺报",
    "not_due": "未到期",
    "met": "达标",
    "not_met": "未达标",
    "period": "考核期",
    "half_year": "上半年",
    "year": "年度",
    "prorate": "按半年折算",
    "annual": "年度指标",
    "grade": "等次",
    "rank": "排名",
    "rank_in_category": "类别排名",
    "total": "总分",
    "base": "基础得分",
    "raw_points": "实得分",
    "raw_max": "应得分",
    "gap": "差距",
    "rectification": "整改",
    "overdue": "逾期",
    "closed": "销号",
    "recheck": "回头看",
    "inspection": "督查",
    "inspector": "考核组",
    "self_assessment": "自评",
    "candidate": "候选",
    "commendation": "两优一先",
    "advanced_organisation": "先进基层党组织",
    "quota": "名额",
    "what_if": "模拟测算",
    "penalty": "减分项",
    "component": "组成部分",
    "weight": "权重",
    "group": "分组（中间层级）",
    "grade_override": "直接定级",
    "grade_reason": "定级依据",
    "grade_quota": "等次名额",
    "applies_to": "适用范围",
    "content": "考核内容",
    "method": "考评方式",
    "owner": "考核部门",
}

# The same glossary read the other way (中文 → English).
GLOSSARY_ZH: dict[str, str] = {zh: en for en, zh in GLOSSARY.items()}

# Status of one unit × item row in a ScoreResult.
MET = "达标"
NOT_MET = "未达标"
NOT_APPLICABLE = "不适用"
MISSING = "缺报"
NOT_DUE = "未到期"
BASE_STATUSES = (MET, NOT_MET, NOT_APPLICABLE, MISSING, NOT_DUE)
BONUS_AWARDED = "加分"
BONUS_NONE = "无"
PENALTY_APPLIED = "减分"
VETO_TRIGGERED = "否决"
VETO_NONE = "无"

STATUS_HELP: dict[str, str] = {
    MET: "得满分",
    NOT_MET: "有扣分",
    NOT_APPLICABLE: "不计入应得分，总分按其余指标折算为百分制",
    MISSING: "未报送数据或考核组未评定，按 0 分计入，并单独标出",
    NOT_DUE: "年度指标，上半年不考核，不计入应得分",
    BONUS_AWARDED: "加分项有加分",
    VETO_TRIGGERED: "触发一票否决，等次为不合格，不参加评先评优",
}

# Chinese label of every rule type (rules.py registers one Rule per key).
RULE_LABELS: dict[str, str] = {
    "count_target": "计次达标",
    "ratio": "按比例得分",
    "stepped": "逐档扣分",
    "tiered": "分档得分",
    "boolean": "完成即得分",
    "deduction": "逐项扣分",
    "manual": "考核组评定",
    "bonus": "加分",
    "veto": "一票否决",
    "checklist": "逐项检查",
    "rank": "按名次得分",
    "penalty": "减分",
    "regular": "按月/季度规律性",
}

# Period kinds understood by the engine.
PERIOD_H1 = "H1"
PERIOD_YEAR = "year"
PERIOD_KIND_LABELS = {PERIOD_H1: "上半年", PERIOD_YEAR: "年度"}

_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*(H1)?\s*$", re.IGNORECASE)


def period_kind(period: str) -> str | None:
    """``"2026H1"`` → ``"H1"``, ``"2026"`` → ``"year"``; anything else → None (never raises)."""
    m = _PERIOD_RE.match(str(period)) if period is not None else None
    if not m:
        return None
    return PERIOD_H1 if m.group(2) else PERIOD_YEAR


def period_label(period: str) -> str:
    """``"2026H1"`` → 「2026 年上半年」, ``"2026"`` → 「2026 年度」; unknown text is returned as is."""
    m = _PERIOD_RE.match(str(period)) if period is not None else None
    if not m:
        return "" if period is None else str(period)
    return f"{m.group(1)} 年上半年" if m.group(2) else f"{m.group(1)} 年度"


def rule_label(name: str) -> str:
    return RULE_LABELS.get(name, name)


def zh(word: str) -> str:
    """Chinese for an English domain word; the word itself when the glossary lacks it."""
    return GLOSSARY.get(word, word)
