"""What the documents that leave the system say: the inputs of 通报, 反馈单, 整改通知书 and the workbooks.

Owns gathering, not scoring and not formatting: every number comes from the use cases
in ``data.services`` (``score_period`` behind all of them, so a published period's
snapshot is used transparently), scoped by the caller's ``Principal`` exactly as the
pages are (staff: their own units only). The result objects are plain frozen
dataclasses of DataFrames and text; ``reports/`` turns them into files and never
queries anything itself.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterator

import pandas as pd
from sqlalchemy import select

from data import services
from data.db import Database, get_db
from data.models import OPEN_RECTIFICATION, PERIOD_STATUSES, OrgUnit, Period, Rectification, SelfAssessment
from data.permissions import NotFound, Principal, require, require_unit, unit_scope
from scoring.glossary import period_label


@dataclass(frozen=True)
class PeriodHeader:
    """Who/what/when of a document: the period, its table version and grade lines."""

    code: str
    label: str                 # 「2026 年上半年」
    kind: str                  # H1 / year
    year: int
    status: str
    table_version: str
    table_title: str
    grades: tuple[tuple[str, float], ...]   # (label, min) from the top grade down
    veto_grade: str
    published_at: dt.datetime | None        # when the period was last set to 已发布 (None: not published)
    generated_at: dt.datetime

    @property
    def half_label(self) -> str:
        """「上半年」/「全年」 as a work summary says it."""
        return "上半年" if self.kind == "H1" else "全年"


@dataclass(frozen=True)
class ItemInfo:
    code: str
    name: str
    area: str
    points: float
    core: bool


@dataclass(frozen=True)
class RankingBook:
    """The ranking workbook: every visible unit in display order with every item's points."""

    header: PeriodHeader
    ranking: pd.DataFrame          # services.rankings columns + bureau
    item_points: pd.DataFrame      # index unit, one column per item code (engine points)
    items: tuple[ItemInfo, ...]    # base items, then bonus, then veto (table order)
    categories: tuple[str, ...]
    areas: tuple[tuple[str, str], ...]  # (code, name)


@dataclass(frozen=True)
class BulletinData:
    """考核结果通报: counts by grade, rankings per category, top / failed units, common problems."""

    header: PeriodHeader
    ranking: pd.DataFrame                  # visible units in display order
    grade_counts: tuple[tuple[str, int], ...]
    categories: tuple[str, ...]
    top_units: pd.DataFrame                # top grade, not vetoed
    failed_units: pd.DataFrame             # vetoed or bottom grade, with ``reason``
    common_problems: pd.DataFrame          # item, name, area, area_name, units_failed, share
    area_averages: pd.DataFrame            # area, area_name, pct (mean over the visible units)
    n_units: int
    average: float


@dataclass(frozen=True)
class FeedbackData:
    """单位反馈单 of one unit."""

    header: PeriodHeader
    unit: dict                  # unit info + its ScoreResult summary row
    n_units: int
    n_category: int
    areas: pd.DataFrame         # area, area_name, points, max, pct, category_pct
    items: pd.DataFrame         # engine item rows + self_points, self_diff
    lost: pd.DataFrame          # items that lost points (points < max, base items), with explanation
    gaps: pd.DataFrame          # 提分清单 (services.period_gaps rows of this unit, ★ first as the engine orders)
    rectifications: pd.DataFrame  # open 整改 items of the unit (any period)
    has_self_assessment: bool


@dataclass(frozen=True)
class NoticeData:
    """整改通知书: one unit's open 整改 items."""

    header: PeriodHeader
    unit: dict
    items: pd.DataFrame         # id, period, item, item_name, problem, source, deadline, responsible, overdue
    number: str                 # document number 「整改〔2026H1〕C01 号」


# --------------------------------------------------------------------------- helpers

def period_header(period_code: str, db: Database | None = None) -> PeriodHeader:
    db = db or get_db()
    info = services.get_period_info(period_code, db)
    table = services.table_for_period(period_code, db)
    published = None
    if info.status == PERIOD_STATUSES[-1]:
        # The date of the snapshot the documents are made from (「第 N 次发布」), not of an audit row.
        from data import publication

        published = publication.snapshot(period_code, db=db).published_at
    return PeriodHeader(code=info.code, label=period_label(info.code), kind=info.kind, year=info.year,
                        status=info.status, table_version=table.version, table_title=table.title,
                        grades=tuple((g.label, float(g.min)) for g in table.grades), veto_grade=table.veto_grade,
                        published_at=published, generated_at=dt.datetime.now())


def _items(table) -> tuple[ItemInfo, ...]:
    out = [ItemInfo(i.code, i.name, a.code, float(i.points), bool(i.core)) for a in table.areas for i in a.items]
    out += [ItemInfo(i.code, i.name, "加分项", float(i.points), False) for i in table.bonus]
    out += [ItemInfo(i.code, i.name, "一票否决", float(i.points), False) for i in table.veto]
    return tuple(out)


def _visible_ranking(principal: Principal, period_code: str, db: Database, bureau: str | None) -> pd.DataFrame:
    df = services.rankings(principal, period_code, db=db)
    units = services.scoring_inputs(period_code, db).units[["unit", "bureau"]]
    df = df.merge(units, on="unit", how="left")
    if bureau:
        df = df[df["bureau"] == bureau]
    return df.reset_index(drop=True)


def bureaus(principal: Principal, period_code: str, db: Database | None = None) -> list[str]:
    """The 局 (bureaus) of the units the principal may see in the period."""
    units = services.visible_units(principal, period_code, db)
    return sorted(units["bureau"].dropna().unique().tolist())


# --------------------------------------------------------------------------- ranking workbook

def ranking_book(principal: Principal, period_code: str, db: Database | None = None) -> RankingBook:
    require(principal, "view_scores")
    db = db or get_db()
    res = services.score_period(period_code, db)
    table = services.table_for_period(period_code, db)
    df = _visible_ranking(principal, period_code, db, None)
    pts = res.items[res.items["unit"].isin(df["unit"])].pivot(index="unit", columns="item", values="points")
    items = tuple(i for i in _items(table) if i.code in pts.columns)
    cats = tuple(c for c in services.categories(period_code, db) if (df["category"] == c).any())
    return RankingBook(period_header(period_code, db), df, pts[[i.code for i in items]], items, cats,
                       tuple((a.code, a.name) for a in table.areas))


# --------------------------------------------------------------------------- 通报

def _fail_reason(row, items: pd.DataFrame, pass_line: float | None, pass_label: str | None) -> str:
    if row["veto"]:
        return str(row["veto_reason"] or "一票否决")
    lost = items[(items["unit"] == row["unit"]) & (items["kind"] == "base")].copy()
    lost["lost"] = lost["max"] - lost["points"]
    worst = lost[lost["lost"] > 0].sort_values("lost", ascending=False).head(3)
    where = "、".join(f"{r.name}（失 {round(float(r.lost), 2):g} 分）" for r in worst.itertuples())
    head = (f"总分低于「{pass_label}」线 {pass_line:g} 分" if pass_line is not None else "总分未达合格线")
    return head + (f"；失分较多：{where}" if where else "")


def bulletin_data(principal: Principal, period_code: str, db: Database | None = None,
                  top_problems: int = 8) -> BulletinData:
    require(principal, "view_scores")
    db = db or get_db()
    header = period_header(period_code, db)
    res = services.score_period(period_code, db)
    df = _visible_ranking(principal, period_code, db, None)
    grades = [g for g, _ in header.grades]
    counts = tuple((g, int((df["grade"] == g).sum())) for g in grades)
    cats = tuple(c for c in services.categories(period_code, db) if (df["category"] == c).any())
    top = df[(df["grade"] == grades[0]) & ~df["veto"].astype(bool)] if grades else df.iloc[0:0]
    bottom = grades[-1] if grades else None
    failed = df[df["veto"].astype(bool) | (df["grade"] == bottom)].copy()
    pass_line = header.grades[-2][1] if len(header.grades) >= 2 else None
    pass_label = header.grades[-2][0] if len(header.grades) >= 2 else None
    items = res.items[res.items["unit"].isin(failed["unit"])]
    failed["reason"] = [_fail_reason(r, items, pass_line, pass_label) for _, r in failed.iterrows()]
    ov = services.gap_overview(principal, period_code, db=db)
    area_names = ov["area_names"]
    problems = ov["failed"].sort_values(["units_failed", "area", "item"], ascending=[False, True, True],
                                        kind="stable").head(top_problems).copy()
    problems["area_name"] = problems["area"].map(area_names)
    problems["share"] = problems["units_failed"] / max(1, len(df))
    areas = res.areas[res.areas["unit"].isin(df["unit"])]
    avg = (areas.groupby("area", sort=False)["pct"].mean().rename("pct").reset_index())
    avg["area_name"] = avg["area"].map(area_names)
    return BulletinData(header=header, ranking=df, grade_counts=counts, categories=cats,
                        top_units=top.reset_index(drop=True), failed_units=failed.reset_index(drop=True),
                        common_problems=problems.reset_index(drop=True),
                        area_averages=avg[["area", "area_name", "pct"]], n_units=len(df),
                        average=float(df["total"].mean()) if len(df) else float("nan"))


# --------------------------------------------------------------------------- 反馈单

def _rect_frame(s, unit_ids: list[int]) -> pd.DataFrame:
    today = dt.date.today()
    rows = s.execute(
        select(Rectification.unit_id, Rectification.id, Period.code, Rectification.item_code, Rectification.problem,
               Rectification.source, Rectification.deadline, Rectification.responsible, Rectification.status)
        .join(Period, Period.id == Rectification.period_id)
        .where(Rectification.unit_id.in_(unit_ids), Rectification.status.in_(OPEN_RECTIFICATION))
        .order_by(Rectification.deadline, Rectification.id)).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=["unit_id", "id", "period", "item", "problem", "source",
                                                         "deadline", "responsible", "status"])
    df["overdue"] = df["deadline"].map(lambda d: d is not None and d < today).astype(bool)
    return df


def feedback_units(principal: Principal, period_code: str, unit_code: str | None = None,
                   bureau: str | None = None, db: Database | None = None) -> list[str]:
    """The unit codes a feedback request covers, checked against the principal's scope."""
    db = db or get_db()
    if unit_code:
        with db.session() as s:
            if s.scalar(select(OrgUnit.id).where(OrgUnit.code == unit_code)) is None:
                raise NotFound(f"单位 {unit_code} 不存在")
        require_unit(principal, "view_scores", unit_code)
        units = services.scoring_inputs(period_code, db).units
        if unit_code not in set(units["unit"]):
            raise NotFound(f"单位 {unit_code} 未参加 {period_code} 考核")
        return [unit_code]
    units = services.visible_units(principal, period_code, db)
    if bureau:
        units = units[units["bureau"] == bureau]
        if units.empty:
            raise NotFound(f"没有可查看的「{bureau}」单位")
    order = services.score_period(period_code, db).units.set_index("unit")["display_order"]
    return sorted(units["unit"].tolist(), key=lambda u: (order.get(u, 1e9), u))


def feedback_sheets(principal: Principal, period_code: str, unit_codes: list[str],
                    db: Database | None = None) -> Iterator[FeedbackData]:
    """One FeedbackData per unit, in the order given; bulk reads so a bureau or 10,000 units stay cheap."""
    require(principal, "view_scores")
    scope = unit_scope(principal)
    for code in unit_codes:
        if scope is not None and code not in scope:
            require_unit(principal, "view_scores", code)
    db = db or get_db()
    header = period_header(period_code, db)
    res = services.score_period(period_code, db)
    inp = services.scoring_inputs(period_code, db)
    gaps = services.period_gaps(period_code, db)
    info = inp.units.set_index("unit")
    cat_sizes = res.units["category"].value_counts()
    cat_of = res.units.set_index("unit")["category"]
    cat_avg = res.areas.assign(category=res.areas["unit"].map(cat_of)).groupby(["category", "area"])["pct"].mean()
    gaps_by_unit = {u: g for u, g in gaps.groupby("unit", sort=False)} if len(gaps) else {}
    ids = [int(info.loc[c, "unit_id"]) for c in unit_codes if c in info.index]
    with db.session() as s:
        p = s.scalar(select(Period).where(Period.code == period_code))
        self_rows = s.execute(select(SelfAssessment.unit_id, SelfAssessment.item_code, SelfAssessment.points)
                              .where(SelfAssessment.period_id == p.id, SelfAssessment.unit_id.in_(ids))).all()
        rects = _rect_frame(s, ids)
    self_by_unit: dict[int, dict[str, float]] = {}
    for uid, item, pts in self_rows:
        self_by_unit.setdefault(uid, {})[item] = float(pts)
    rects_by_unit = {u: g.drop(columns="unit_id") for u, g in rects.groupby("unit_id", sort=False)}
    item_names = {i.code: i.name for i in _items(inp.table)}
    for code in unit_codes:
        row = res.unit(code)
        if not row or code not in info.index:
            raise NotFound(f"单位 {code} 未参加 {period_code} 考核")
        uid = int(info.loc[code, "unit_id"])
        items = res.items_for(code).reset_index(drop=True).copy()
        selfs = self_by_unit.get(uid, {})
        items["self_points"] = items["item"].map(selfs)
        items["self_diff"] = items["points"] - items["self_points"]
        areas = res.areas_for(code).reset_index(drop=True).copy()
        areas["category_pct"] = [cat_avg.get((row["category"], a), float("nan")) for a in areas["area"]]
        base = items[items["kind"] == "base"]
        lost = base[(base["points"] < base["max"]) | base["status"].isin(["缺报"])].reset_index(drop=True)
        r = rects_by_unit.get(uid, pd.DataFrame(columns=list(rects.columns.drop("unit_id"))))
        r = r.assign(item_name=r["item"].map(item_names))
        yield FeedbackData(header=header, unit={**info.loc[code].to_dict(), **row, "unit": code},
                           n_units=len(res.units), n_category=int(cat_sizes.get(row["category"], 0)),
                           areas=areas, items=items, lost=lost,
                           gaps=gaps_by_unit.get(code, gaps.iloc[0:0]).reset_index(drop=True),
                           rectifications=r.reset_index(drop=True), has_self_assessment=bool(selfs))


# --------------------------------------------------------------------------- 整改通知书 and 整改台账

def notice_data(principal: Principal, period_code: str, unit_code: str, db: Database | None = None) -> NoticeData:
    db = db or get_db()
    (code,) = feedback_units(principal, period_code, unit_code=unit_code, db=db)
    sheet = next(feedback_sheets(principal, period_code, [code], db))
    return NoticeData(header=sheet.header, unit=sheet.unit, items=sheet.rectifications,
                      number=f"整改〔{period_code}〕{code} 号")


def rectification_register(principal: Principal, db: Database | None = None) -> pd.DataFrame:
    """The 整改台账 as the page shows it (every visible item, overdue first)."""
    db = db or get_db()
    df = services.rectification_list(principal, db)
    names = {}
    for p in services.periods(db):
        table = services.table_for_period(p.code, db)
        names.update({(p.code, i.code): i.name for i in _items(table)})
    df = df.assign(item_name=[names.get((p, i)) if i else None for p, i in zip(df["period"], df["item"])])
    return df


__all__ = ["PeriodHeader", "ItemInfo", "RankingBook", "BulletinData", "FeedbackData", "NoticeData", "period_header",
           "bureaus", "ranking_book", "bulletin_data", "feedback_units", "feedback_sheets", "notice_data",
           "rectification_register"]
