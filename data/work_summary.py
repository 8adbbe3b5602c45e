"""工作量统计: the figures a half-year or annual work summary reports, counted from the period's evidence.

Owns two things: ``field_totals`` (every evidence field summed, averaged or counted over
the units in scope, with the units that contributed — the 工作量统计 panel of the
ranking page and this module's figures both read it), and ``FIGURES``, the declarative
list of what a work summary says (「开展党性锤炼活动 ** 场次」) and which fields give it.
A figure the data cannot give (中心组学习天数, 表彰人数…) has no source and is shown as
「**」, never as 0, so nobody mistakes it for a count.

The evidence read is the engine's own (``score_period(...).values``: current values,
invalid ones blank), so the figures and the scores never disagree. For a field the table
derives from activity records (``from_records``), a unit with records of that type in the
period counts its records held (every current record, also those below the attendance
threshold: the meeting took place) whatever the period's record source; a unit without
records counts its typed value. The 统计方式 says how many units were counted from records.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select

from data import services
from data.db import Database, get_db
from data.models import OrgUnit, Period, Rectification
from data.permissions import NotFound, Principal, require, unit_scope

MISSING = "**"


@dataclass(frozen=True)
class Figure:
    """One figure of the work summary.

    ``source``: ``("sum", fields)`` adds the fields' values; ``("yes", field)`` counts units that
    answered 是; ``("units", None)`` counts the units assessed; ``("rect", status)`` counts 整改 items
    of the period (``all`` / ``closed`` / ``rechecked``); ``None``: the data cannot give it (「**」).
    """

    key: str
    section: str      # the heading of the work summary it belongs to
    label: str
    unit: str
    source: tuple | None
    note: str = ""


SECTIONS = ("（一）深化学习机制，在思想政治上打基础", "（二）突出对标对表，在履职成效上找差距",
            "（三）找准实践点位，在党业融合上提能力", "（四）坚持心系基层，在深化服务上下实功")
S1, S2, S3, S4 = SECTIONS

FIGURES: tuple[Figure, ...] = (
    Figure("center_group_days", S1, "中心组理论集中学习", "天", None, "党组中心组学习不在支部填报数据中"),
    Figure("expert_lectures", S1, "邀请党校专家学者讲授理论辅导课", "场", None, "不在支部填报数据中"),
    Figure("training_sessions", S1, "党支部书记暨党务工作者培训、党员培训", "场次", None, "填报数据只有学时，没有场次"),
    Figure("cadre_training_hours", S1, "支部书记、委员参加培训", "学时", ("sum", ("cadre_training_hours",))),
    Figure("study_sessions", S1, "支部集中学习", "次", ("sum", ("study_sessions",))),
    Figure("seminar_sessions", S1, "专题学习研讨", "次", ("sum", ("seminar_sessions",))),
    Figure("committee_meetings", S1, "支部委员会会议", "次", ("sum", ("committee_meetings",))),
    Figure("general_meetings", S1, "支部党员大会", "次", ("sum", ("general_meetings",))),
    Figure("group_meetings", S1, "党小组会", "次", ("sum", ("group_meetings",))),
    Figure("party_lectures", S1, "党课", "次", ("sum", ("party_lectures",))),
    Figure("theme_days", S1, "主题党日活动", "次", ("sum", ("theme_days",))),
    Figure("org_life_meeting", S2, "召开年度组织生活会的党支部", "个", ("yes", "org_life_meeting")),
    Figure("special_org_life", S2, "召开专题组织生活会的党支部", "个", ("yes", "special_org_life")),
    Figure("member_appraisal", S2, "开展民主评议党员的党支部", "个", ("yes", "member_appraisal")),
    Figure("units_inspected", S2, "党建工作检查覆盖党支部", "个", ("units", None)),
    Figure("problems_found", S2, "检查发现问题并登记整改", "项", ("rect", "all")),
    Figure("problems_closed", S2, "已整改销号", "项", ("rect", "closed")),
    Figure("problems_rechecked", S2, "“回头看”复查", "项", ("rect", "rechecked")),
    Figure("benchmarking_visits", S2, "对标共建交流", "次", ("sum", ("benchmarking_visits",))),
    Figure("honoured_members", S2, "表彰优秀共产党员", "名", None, "表彰名单不在系统中"),
    Figure("honoured_workers", S2, "表彰优秀党务工作者", "名", None, "表彰名单不在系统中"),
    Figure("honoured_orgs", S2, "表彰先进基层党组织", "个", None, "系统只给出候选名单，表彰由党组决定"),
    Figure("short_videos", S2, "作风转变专题短视频", "部", None, "不在支部填报数据中"),
    Figure("publicity_items", S2, "宣传作品", "件", ("sum", ("publicity_items",))),
    Figure("articles", S3, "信息、心得被市级以上刊用", "篇", ("sum", ("articles_city", "articles_province"))),
    Figure("excellent_lectures", S3, "评选出优秀党课作品", "个", ("sum", ("excellent_lectures",))),
    Figure("spirit_activities", S3, "开展党性锤炼活动", "场次", ("sum", ("spirit_activities",))),
    Figure("research_project", S3, "形成思想政治课题成果的党支部", "个", ("yes", "research_project")),
    Figure("integration_measures", S3, "制定党建与业务融合措施", "项", ("sum", ("integration_measures",))),
    Figure("innovation_cases", S3, "党建创新案例", "项", ("sum", ("innovation_cases",))),
    Figure("research_reports", S4, "形成专题调研报告", "篇", ("sum", ("research_reports",))),
    Figure("leader_visits", S4, "党组成员联系指导基层", "次", ("sum", ("leader_visits",))),
    Figure("service_projects", S4, "“我为群众办实事”项目", "项", None, "填报数据只有完成率，没有项目数"),
    Figure("disclosure_issues", S4, "制作公开栏", "期", ("sum", ("disclosure_issues",))),
    Figure("collective_review", S4, "集体审议涉及切身利益事项的党支部", "个", ("yes", "collective_review")),
    Figure("rules_reviewed", S4, "审议涉及切身利益的制度", "项", None, "填报数据只有是否审议，没有制度项数"),
    Figure("care_visits", S4, "开展关怀慰问的党支部", "个", ("yes", "care_visits")),
    Figure("mass_activities", S4, "开展群团活动", "次", ("sum", ("mass_activities",))),
)


@dataclass(frozen=True)
class WorkSummary:
    period_code: str
    period_label: str
    kind: str                  # H1 / year
    scope_label: str           # 「全部单位」 or the bureau
    bureau: str | None
    n_units: int
    figures: pd.DataFrame      # key, section, label, unit, known, value (NaN unless known), text ("**" unless
    #                            known), how, contributors, note
    fields: pd.DataFrame       # field_totals of the same scope


def _scope_units(principal: Principal, period_code: str, bureau: str | None, db: Database) -> pd.DataFrame:
    units = services.visible_units(principal, period_code, db)
    if bureau:
        units = units[units["bureau"] == bureau]
        if units.empty:
            raise NotFound(f"没有可查看的「{bureau}」单位")
    return units


def field_totals(principal: Principal, period_code: str, bureau: str | None = None,
                 db: Database | None = None, contributors: bool = True) -> pd.DataFrame:
    """Every evidence field over the units in scope: counts and hours summed, rates averaged, 是/否 counted;
    with how many units reported it and the names of the units that contributed (value > 0; empty lists
    when ``contributors`` is False: the ranking page's totals, recomputed by every worker after a commit)."""
    require(principal, "view_scores")
    db = db or get_db()
    table = services.scoring_inputs(period_code, db).table
    res = services.score_period(period_code, db)
    units = _scope_units(principal, period_code, bureau, db)
    values = res.values[res.values.index.isin(set(units["unit"]))]
    rc = res.record_counts
    rc = rc[rc["unit"].isin(set(units["unit"]))] if len(rc) else rc
    rc_by_field = {f: g for f, g in rc.groupby(rc["field"].astype(object), sort=False)} if len(rc) else {}
    name_of = pd.Series(units["name"].to_numpy(object), index=pd.Index(units["unit"].to_numpy(object)))
    n_units = len(units)
    rows = []
    for name in table.evidence_fields:
        f = table.fields[name]
        col = values[name] if name in values.columns else pd.Series(dtype=float)
        n_records = 0
        if f.from_records and len(rc) and len(col):
            col, n_records = _with_records(col, rc_by_field.get(name, rc.iloc[0:0]), f.kind == "bool")
        got = int(col.notna().sum())
        if f.kind == "bool":
            figure = float((col > 0).sum())
        elif f.kind == "percent":
            figure = float(col.mean()) if got else float("nan")
        else:
            figure = float(col.sum())
        contrib = _names(name_of, col.index[(col > 0).to_numpy()]) if contributors and f.kind != "percent" else []
        how = "「是」的单位数" if f.kind == "bool" else "平均" if f.kind == "percent" else "合计"
        if n_records:
            how += f"（其中 {n_records} 个单位按活动记录条数统计）"
        rows.append({"field": name, "label": f.label, "unit": f.unit, "kind": f.kind, "how": how,
                     "figure": figure, "reported": got, "units": n_units, "contributors": contrib})
    return pd.DataFrame(rows, columns=["field", "label", "unit", "kind", "how", "figure", "reported", "units",
                                       "contributors"])


def _names(name_of: pd.Series, codes: pd.Index) -> list[str]:
    """The units' names (the code where a unit has none), in the order of ``codes``; vectorised: the
    ranking page sums 40 fields over 10,000 units after every commit."""
    codes = np.asarray(codes, dtype=object)
    names = name_of.reindex(codes).to_numpy(object)
    return np.where(pd.isna(names), codes, names).tolist()


def _with_records(col: pd.Series, rc: pd.DataFrame, is_bool: bool) -> tuple[pd.Series, int]:
    """A field's values per unit: the records held where a unit has any (bool: 1), else the typed value
    (the score may have used a records count of 0 there); and the number of units counted from records."""
    rc = rc.drop_duplicates("unit").set_index("unit").reindex(col.index)
    held = (rc["records"] + rc["below"]).astype(float)
    counted = (held > 0).fillna(False).astype(bool)
    typed_used = rc["used"].isna() | (rc["used"] == "typed")
    out = col.astype(float).where(typed_used, rc["typed"].astype(float))
    out = out.where(~counted, (held > 0).astype(float) if is_bool else held)
    return out, int(counted.sum())


def _rect_counts(period_code: str, codes: set[str], db: Database) -> dict[str, list[str]]:
    """Unit codes per 整改 figure (one entry per item), for the period's items of the units in scope."""
    with db.session() as s:
        rows = s.execute(select(OrgUnit.code, Rectification.status, Rectification.recheck_at)
                         .join(OrgUnit, OrgUnit.id == Rectification.unit_id)
                         .join(Period, Period.id == Rectification.period_id)
                         .where(Period.code == period_code)).all()
    rows = [r for r in rows if r[0] in codes]
    return {"all": [c for c, _, _ in rows],
            "closed": [c for c, st, _ in rows if st in ("已销号", "回头看通过")],
            "rechecked": [c for c, _, at in rows if at is not None]}


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return MISSING
    text = f"{value:,.1f}".rstrip("0").rstrip(".")
    return text


def work_summary(principal: Principal, period_code: str, bureau: str | None = None,
                 db: Database | None = None) -> WorkSummary:
    """The work-summary figures of a period for the units in scope (all visible units, or one 局)."""
    db = db or get_db()
    info = services.get_period_info(period_code, db)
    fields = field_totals(principal, period_code, bureau, db)
    units = _scope_units(principal, period_code, bureau, db)
    names = units.set_index("unit")["name"]
    by_field = fields.set_index("field")
    known = set(by_field.index)
    rect = _rect_counts(period_code, set(units["unit"]), db)
    rows = []
    for f in FIGURES:
        value: float | None = None
        contributors: list[str] = []
        how = ""
        src = f.source
        if src is not None and src[0] == "sum" and all(x in known for x in src[1]):
            value = float(sum(by_field.loc[x, "figure"] for x in src[1]))
            contributors = list(dict.fromkeys(n for x in src[1] for n in by_field.loc[x, "contributors"]))
            how = "合计：" + "＋".join(by_field.loc[x, "label"] for x in src[1])
            if any("按活动记录" in by_field.loc[x, "how"] for x in src[1]):
                how += "；有活动记录的单位按记录条数统计"
        elif src is not None and src[0] == "yes" and src[1] in known:
            value = float(by_field.loc[src[1], "figure"])
            contributors = list(by_field.loc[src[1], "contributors"])
            how = f"「{by_field.loc[src[1], 'label']}」为是的单位数"
            if "按活动记录" in by_field.loc[src[1], "how"]:
                how += "；有活动记录的单位按记录判断"
        elif src is not None and src[0] == "units":
            value = float(len(units))
            contributors = names.tolist()
            how = "参加本期考核的单位数"
        elif src is not None and src[0] == "rect":
            codes = rect[src[1]]
            value = float(len(codes))
            contributors = list(dict.fromkeys(names.get(c, c) for c in codes))
            how = {"all": "本期登记的整改事项", "closed": "本期整改事项中已销号或回头看通过的",
                   "rechecked": "本期整改事项中已回头看复查的"}[src[1]]
        rows.append({"key": f.key, "section": f.section, "label": f.label, "unit": f.unit, "known": value is not None,
                     "value": float("nan") if value is None else value,
                     "text": _fmt(value, f.unit), "how": how or "数据不能给出", "contributors": contributors,
                     "note": f.note})
    figures = pd.DataFrame(rows, columns=["key", "section", "label", "unit", "known", "value", "text", "how",
                                          "contributors", "note"])
    scope = bureau or ("全部单位" if unit_scope(principal) is None else "本人负责的单位")
    from scoring.glossary import period_label

    return WorkSummary(period_code=period_code, period_label=period_label(period_code), kind=info.kind,
                       scope_label=scope, bureau=bureau, n_units=len(units), figures=figures, fields=fields)


__all__ = ["MISSING", "Figure", "FIGURES", "SECTIONS", "WorkSummary", "field_totals", "work_summary"]
