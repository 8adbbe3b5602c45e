"""Candidates for 先进基层党组织: the table's CandidateRules applied to a ScoreResult.

Owns the shortlist: quota per category, eligibility (grade, veto, ★ items,
overdue 整改, previous year's grade), the pass-down of slots in ranking display
order, and a written Chinese reason for every candidate and every near-miss.

Must not score, read rectifications or previous years itself (the caller passes
``overdue`` and ``previous_grades``), store anything, or import databases,
files, Flask or Dash.

Decisions:
- quota = max(quota_min, ⌊units in category × quota_pct ÷ 100⌋), counted over
  every scored unit of the category (vetoed ones included);
- the grade condition accepts the required grade or a better one;
- ``previous_grades`` None means the previous year is not in the database: the
  condition is skipped and the reason says so; a unit absent from it (new or
  renamed) is not held to it either, and the reason says so;
- ``overdue`` None means rectifications were not checked: skipped, and said so;
- near-misses shown: units of the required grade that are ineligible, units
  ranked within the quota of their category that are not candidates, and
  eligible units beyond the quota.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scoring import glossary as g
from scoring.engine import ScoreResult, _normalise_period
from scoring.indicators import IndicatorTable

CANDIDATE_COLUMNS = ["unit", "name", "category", "rank", "rank_in_category", "total", "grade", "status", "reason",
                     "quota", "category_units", "failed"]
SELECTED = "候选"
NOT_SELECTED = "未入选"

# Short names of the conditions, as listed in ``failed``.
FAIL_GRADE = "等次未达{grade}"
FAIL_VETO = "一票否决"
FAIL_CORE = "★指标未全部达标"
FAIL_OVERDUE = "整改逾期未销号"
FAIL_PREVIOUS = "上年度等次低于{grade}"
FAIL_QUOTA = "名额已满"


def period_note(table: IndicatorTable, period_kind: str) -> str | None:
    """「先进基层党组织仅在年度考核中推荐」 for a half-year period when the table says annual only."""
    rules = table.candidates
    if rules.annual_only and _normalise_period(period_kind) == g.PERIOD_H1:
        return f"{rules.title}仅在年度考核中推荐"
    return None


def quota_for(rules, category_units: int) -> int:
    """max(quota_min, ⌊units × quota_pct ÷ 100⌋); the product is rounded first so 20 × 15 % is exactly 3."""
    return max(int(rules.quota_min), math.floor(round(category_units * float(rules.quota_pct) / 100, 9)))


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=float if c == "total" else (np.int64 if c in (
        "rank", "rank_in_category", "quota", "category_units") else object)) for c in CANDIDATE_COLUMNS},
        columns=CANDIDATE_COLUMNS)


def shortlist(table: IndicatorTable, res: ScoreResult, period_kind: str, overdue: dict[str, int] | None = None,
              previous_grades: dict[str, str] | None = None) -> pd.DataFrame:
    """Candidates and near-misses, per category in ranking display order.

    Columns: ``CANDIDATE_COLUMNS``; ``status`` is 「候选」 or 「未入选」, ``failed`` a list of
    short condition names. A half-year period under an annual-only table gives an
    empty frame whose ``attrs["note"]`` is :func:`period_note`.
    """
    note = period_note(table, period_kind)
    if note is not None:
        out = _empty()
        out.attrs["note"] = note
        return out
    u = res.units
    if not len(u):
        return _empty()
    rules = table.candidates
    labels = [gr.label for gr in table.grades]
    order_of = {label: k for k, label in enumerate(labels)}
    need = order_of.get(rules.grade, 0)

    df = u.sort_values("display_order", kind="stable").reset_index(drop=True)
    cat = df["category"].fillna("").astype(str)
    position = df.groupby(cat, sort=False).cumcount().to_numpy() + 1
    counts = cat.map(cat.value_counts()).to_numpy(np.int64)
    quota = np.array([quota_for(rules, int(c)) for c in counts], dtype=np.int64)
    n = len(df)

    grade_ok = (df["grade_order"].to_numpy(np.int64) <= need) & df["total"].notna().to_numpy()
    veto = df["veto"].to_numpy(bool)
    core_short = (df["core_due"] - df["core_met"]).to_numpy(np.int64)
    core_ok = core_short <= 0 if rules.require_core else np.ones(n, dtype=bool)
    codes = df["unit"].to_numpy(object)
    n_overdue = (np.array([int(overdue.get(c, 0) or 0) for c in codes], dtype=np.int64) if overdue is not None
                 else np.zeros(n, dtype=np.int64))
    overdue_ok = n_overdue <= 0 if rules.no_overdue_rectification else np.ones(n, dtype=bool)
    prev_min = rules.previous_min_grade
    check_prev = bool(prev_min) and previous_grades is not None and prev_min in order_of
    prev = np.array([previous_grades.get(c) if previous_grades is not None else None for c in codes], dtype=object)
    prev_known = np.array([isinstance(p, str) and p != "" for p in prev], dtype=bool)
    prev_order = np.array([order_of.get(p, len(labels)) if k else -1 for p, k in zip(prev, prev_known)],
                          dtype=np.int64)
    prev_ok = (~prev_known | (prev_order <= order_of.get(prev_min, 0))) if check_prev else np.ones(n, dtype=bool)

    eligible = grade_ok & ~veto & core_ok & overdue_ok & prev_ok
    slot = pd.Series(eligible.astype(np.int64)).groupby(cat.to_numpy(), sort=False).cumsum().to_numpy()
    selected = eligible & (slot <= quota)
    rank_cat = df["rank_in_category"].to_numpy(np.int64)
    show = selected | (grade_ok & ~eligible) | (rank_cat <= quota) | eligible
    rows = np.flatnonzero(show)

    reasons, failed = [], []
    for i in rows:
        fails: list[str] = []
        why: list[str] = []
        if not grade_ok[i]:
            fails.append(FAIL_GRADE.format(grade=rules.grade))
            decided = str(df["grade_reason"].iat[i]) if "grade_reason" in df.columns else ""
            # A grade set by a quota, a condition or 直接定级 says so (a band of the total needs no words).
            extra = f"（{decided}）" if decided and not decided.startswith(("总分", "一票否决")) else ""
            why.append(f"等次为{df['grade'].iat[i]}{extra}" if not veto[i] else "")
        if veto[i]:
            fails.append(FAIL_VETO)
            why.append(df["veto_reason"].iat[i] or "一票否决")
        if not core_ok[i]:
            fails.append(FAIL_CORE)
            why.append(f"★指标有 {int(core_short[i])} 项未达标")
        if not overdue_ok[i]:
            fails.append(FAIL_OVERDUE)
            why.append(f"有 {int(n_overdue[i])} 项整改逾期未销号")
        if not prev_ok[i]:
            fails.append(FAIL_PREVIOUS.format(grade=prev_min))
            why.append(f"上年度等次为{prev[i]}" if prev[i] in order_of else f"上年度等次为{prev[i]}（无法比较）")
        head = f"类别排名第 {int(rank_cat[i])}"
        if fails:
            reasons.append(f"{head}，但{'、'.join(w for w in why if w)}")
        elif not selected[i]:
            fails.append(FAIL_QUOTA)
            reasons.append(f"{head}，符合条件，但名额已满（本类别名额 {int(quota[i])} 个）")
        else:
            parts = [head, f"等次{df['grade'].iat[i]}"]
            if rules.require_core:
                parts.append("★指标全部达标")
            if rules.no_overdue_rectification:
                parts.append("无逾期整改" if overdue is not None else "未核对整改情况")
            if prev_min:
                if previous_grades is None:
                    parts.append("上年度考核结果未录入，未核对上年度等次")
                elif not prev_known[i]:
                    parts.append("上年度无该单位考核结果，未核对上年度等次")
                else:
                    parts.append(f"上年度{prev[i]}")
            if position[i] > quota[i]:
                parts.append(f"排名在前的单位不符合条件，名额顺延（本类别名额 {int(quota[i])} 个）")
            reasons.append("，".join(parts))
        failed.append(fails)

    out = pd.DataFrame({
        "unit": codes[rows], "name": df["name"].to_numpy(object)[rows], "category": cat.to_numpy(object)[rows],
        "rank": df["rank"].to_numpy(np.int64)[rows], "rank_in_category": rank_cat[rows],
        "total": df["total"].to_numpy(float)[rows], "grade": df["grade"].to_numpy(object)[rows],
        "status": np.where(selected[rows], SELECTED, NOT_SELECTED).astype(object),
        "reason": np.array(reasons, dtype=object), "quota": quota[rows], "category_units": counts[rows],
        "failed": pd.Series(failed, dtype=object).to_numpy(object),
    }, columns=CANDIDATE_COLUMNS)
    # Categories in the order they first appear in the unit list, display order inside each.
    first_seen = {c: k for k, c in enumerate(pd.unique(u["category"].fillna("").astype(str)))}
    out["_c"] = out["category"].map(first_seen)
    out["_d"] = df["display_order"].to_numpy(np.int64)[rows]
    out = out.sort_values(["_c", "_d"], kind="stable").drop(columns=["_c", "_d"]).reset_index(drop=True)
    out.attrs["note"] = None
    return out


def summary(df: pd.DataFrame) -> str:
    """「共 12 个候选单位：市局机关支部 3 个、县局支部 9 个」, or the period note."""
    if df.attrs.get("note"):
        return str(df.attrs["note"])
    chosen = df[df["status"] == SELECTED]
    if not len(chosen):
        return "没有符合条件的候选单位"
    per = chosen.groupby("category", sort=False).size()
    return f"共 {len(chosen)} 个候选单位：" + "、".join(f"{c or '未分类'} {k} 个" for c, k in per.items())
