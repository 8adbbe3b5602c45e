"""Use cases: what pages and the CLI ask of the system.

Every number shown, exported or printed comes from ``score_period`` (one call of
``scoring.engine.score`` per period and data version, shared by every worker through
``data/results_store.py``; a published period's frozen snapshot, ``data/publication.py``). Every function that
reads or writes checks the caller's ``Principal`` first; every write that can move
a score is one transaction that bumps the period's ``data_version`` and appends an
audit row. Pages never build queries; they call these functions.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from data import evidence_cache, frames, repo, results_store, view_frames
from data.db import Database, get_db
from data.models import (
    OPEN_RECTIFICATION, PERIOD_STATUSES, Adjustment, AuditLog, CandidateDecision, EvidenceValue, OrgUnit, Period,
    Rectification, SelfAssessment, StoredResult, TableVersion, UploadBatch, User, utcnow,
)
from data.permissions import AccessDenied, NotFound, Principal, require, require_unit, unit_scope
from scoring.candidates import shortlist
from scoring.engine import ScoreResult, score
from scoring.gaps import grade_gaps
from scoring.indicators import IndicatorTable, parse_table, table_to_dict
from scoring.whatif import WhatIf, change_grade_min, change_points, what_if
from scoring.rules import manual_range

__all__ = ["AccessDenied", "NotFound"]


# --------------------------------------------------------------------------- scoring

class _Lazy:
    """Frames loaded on first use: pages that only show a stored score never read the evidence."""

    def __init__(self, load):
        self._load, self._value, self._lock = load, None, threading.Lock()

    def get(self):
        with self._lock:
            if self._value is None:
                self._value = self._load()
            return self._value


@dataclass(frozen=True)
class ScoringInputs:
    period: repo.PeriodInfo
    table: IndicatorTable
    units: pd.DataFrame
    _evidence: _Lazy = field(repr=False, compare=False)
    _adjustments: _Lazy = field(repr=False, compare=False)
    _overrides: _Lazy = field(repr=False, compare=False)
    _records: _Lazy | None = field(default=None, repr=False, compare=False)

    @property
    def evidence(self) -> pd.DataFrame:
        return self._evidence.get()

    @property
    def records(self) -> pd.DataFrame | None:
        """Current activity records held in the period's span (``repo.records_frame``); None when the
        table derives no field from records (then they cannot move a score and are not read)."""
        if self._records is None or not self.table.record_fields:
            return None
        return self._records.get()

    @property
    def span(self) -> tuple[dt.date, dt.date]:
        return period_span(self.period)

    def score_kwargs(self, table: IndicatorTable | None = None) -> dict:
        """The activity-record arguments of ``scoring.engine.score`` for this period (scored on ``table``,
        by default the period's own: another table may derive fields from records where this one does not)."""
        records = self.records
        if records is None and table is not None and table.record_fields and self._records is not None:
            records = self._records.get()
        return {"records": records, "span": self.span, "record_source": self.period.record_source or "typed"}

    @property
    def adjustments(self) -> pd.DataFrame:
        return self._adjustments.get()

    @property
    def overrides(self) -> pd.DataFrame:
        """直接定级 (unit, grade, reason); see data/grading.py."""
        return self._overrides.get()


_UNIT_COLS = ["unit", "name", "category", "kind"]  # kind: for items that apply to 党总支 or 党支部 only
UNIT_COLUMNS = _UNIT_COLS  # the unit columns the engine is given (data/preview_score.py scores a subset)


def period_span(p: repo.PeriodInfo) -> tuple[dt.date, dt.date]:
    """[start_date, end_date] of a period (from its code when a legacy row lacks the dates)."""
    start = p.start_date or dt.date(int(p.year), 1, 1)
    end = p.end_date or (dt.date(int(p.year), 6, 30) if str(p.kind) == "H1" else dt.date(int(p.year), 12, 31))
    return start, end


def _records_loader(db: Database, info: repo.PeriodInfo) -> _Lazy:
    def load():
        start, end = period_span(info)
        with db.session() as s:
            return repo.records_frame(s, start, end)
    return _Lazy(load)


def clear_cache(db: Database | None = None, stored: bool = False) -> None:
    """Forget every worker-local copy of results; ``stored=True`` also empties the shared store of
    ``db`` (a truly cold start, for benchmarks and tests that edit rows behind the services' back)."""
    results_store.wait_stored()  # a result still being stored would come back after the clear
    results_store.clear_memory()
    evidence_cache.forget(db)
    if stored:
        with (db or get_db()).session() as s:
            s.execute(delete(StoredResult))


def pin_versions() -> None:
    """A page layout reads one version of each period, once (``results_store.pin_versions``)."""
    results_store.pin_versions()


def _version_key(db: Database, period_code: str) -> tuple:
    """(database, period, data version, table version, publication): what a derived result depends on."""
    v = _version(db, period_code)
    return (db, period_code, v.data_version, v.table_version_id, v.publication_id)


def _cached(key: tuple, build):
    """``build()`` once per key in this process, for things derived from a period's results (category
    means, per-unit gaps, shortlists, 模拟测算). Keys are (kind,) + ``_version_key`` + extra: a newer
    version of the same kind and period drops the older ones (what-if answers and the regularity
    lists are kept per question)."""
    kind, db, period_code = key[0], key[1], key[2]
    family = (kind, period_code) + (tuple(key[6:]) if kind in ("what_if", "evidence_summary", "regularity") else ())
    return results_store.memoised(db, key, build, family=family)


def _period_or_404(s: Session, code: str) -> Period:
    p = repo.get_period(s, code)
    if p is None:
        raise NotFound(f"考核期 {code} 不存在")
    return p


def _version(db: Database, period_code: str) -> results_store.Version:
    v = results_store.version(db, period_code)
    if v is None:
        raise NotFound(f"考核期 {period_code} 不存在")
    return v


def _published(v: results_store.Version) -> bool:
    return v.status == PERIOD_STATUSES[-1]


def _load_frame(db: Database, loader, period_id: int):
    def load():
        with db.session() as s:
            return loader(s, period_id)
    return _Lazy(load)


def scoring_inputs(period_code: str, db: Database | None = None) -> ScoringInputs:
    """Table, units, evidence and adjustments of the period's current version (evidence and
    adjustments read on first use). A published period's table and units are its snapshot's."""
    db = db or get_db()
    v = _version(db, period_code)

    def build():
        with db.session() as s:
            p = _period_or_404(s, period_code)
            info = repo.period_info(p)
            if _published(v):
                from data import publication

                snap = publication.current(db, v)
                table, units = snap.table, snap.unit_info
            else:
                # Kept across evidence commits (same units_version): every worker would otherwise read
                # and rebuild 10,000 units after each upload anyone makes.
                table = repo.table_for(p)
                units = results_store.memoised(db, ("units", v.period_id, v.units_version),
                                               lambda: repo.units_frame(s, p), family=("units", v.period_id))
        # The worker's copy of the current values, brought up to date (data/evidence_cache.py).
        evidence = _load_frame(db, lambda s, pid: evidence_cache.current_values(db, s, pid, v.units_version),
                               v.period_id)
        return ScoringInputs(info, table, units, evidence,
                             _load_frame(db, repo.adjustments_frame, v.period_id),
                             _load_frame(db, repo.overrides_frame, v.period_id), _records_loader(db, info))

    return results_store.memoised(db, ("inputs", v), build, family=("inputs", v.period_id))


def with_evidence(inp: ScoringInputs, evidence: pd.DataFrame) -> ScoringInputs:
    """The same inputs with another evidence frame (``data/commit_score.py``: a commit's values in place)."""
    return replace(inp, _evidence=_Lazy(lambda: evidence))


def compute_score(inp: ScoringInputs) -> ScoreResult:
    """The one call of the engine for a period's data (counted in ``results_store.STATS``)."""
    results_store.STATS.add("engine_runs")
    # The cyclic GC waits while the period is read and scored (it builds frames, not cycles): in a
    # worker holding other periods' results a full collection here costs a tenth of a second or more.
    with repo.gc_paused():
        units = units_with_data(inp.units, inp.evidence, inp.adjustments, inp.records)
        return score(inp.table, inp.evidence, units[_UNIT_COLS], inp.period.kind, inp.adjustments, inp.overrides,
                     **inp.score_kwargs())


def units_with_data(units: pd.DataFrame, evidence: pd.DataFrame,
                    adjustments: pd.DataFrame | None = None, records: pd.DataFrame | None = None) -> pd.DataFrame:
    """The units of ``units`` that have data in the period: a current evidence value, an inspector's
    current judgement or deduction (an on-site finding is data even before anything is uploaded), or a
    current activity record in the period's span (``records``: given when the table counts records).

    THE rule for 「尚无数据」: a unit (or a whole period) without data is not scored at all,
    so it is not graded, ranked, averaged, drawn in a trend or a heat map; it would otherwise
    rank at 0 points as 「不合格」 just because nothing was uploaded yet. Every view reads
    ``score_period``, which scores only these units. (A 不适用 mark alone is not data.)
    """
    has = set(evidence["unit"].unique()) if len(evidence) else set()
    if adjustments is not None and len(adjustments):
        has |= set(adjustments.loc[adjustments["kind"].isin(["judgement", "deduction"]), "unit"])
    if records is not None and len(records):
        has |= set(pd.unique(records["unit"].astype(object)))
    if units.empty or not has:
        return units.iloc[0:0]
    return units[units["unit"].isin(has)]


def units_without_data(principal: Principal, period_code: str, db: Database | None = None) -> pd.DataFrame:
    """The visible units of a period that 「尚无数据」 (the complement of ``units_with_data``)."""
    require(principal, "view_scores")
    inp = scoring_inputs(period_code, db)
    # score_period scores exactly the units with data: its (stored) result answers without reading evidence.
    scored = score_period(period_code, db).units["unit"]
    return _scoped(inp.units[~inp.units["unit"].isin(scored)], principal).reset_index(drop=True)


def score_period(period_code: str, db: Database | None = None) -> ScoreResult:
    """THE score of a period: every view, export and report reads this (units 「尚无数据」 left out).

    Published: the current publication's frozen result. Otherwise the result of the period's
    current data version, computed once and shared by every worker (``data/results_store.py``).
    """
    db = db or get_db()
    v = _version(db, period_code)
    if _published(v):
        from data import publication

        return publication.current(db, v).result
    return results_store.shared(db, v, "score", lambda: compute_score(scoring_inputs(period_code, db)),
                                frames.pack_result, frames.unpack_result)


def period_gaps(period_code: str, db: Database | None = None) -> pd.DataFrame:
    """Every unit's gap-to-next-grade list, stored with the score it is derived from."""
    db = db or get_db()
    v = _version(db, period_code)
    if _published(v):
        from data import publication

        return publication.current(db, v).gaps

    def build():
        inp = scoring_inputs(period_code, db)
        return grade_gaps(inp.table, score_period(period_code, db), inp.period.kind)

    return results_store.shared(db, v, "gaps", build, pack_gaps, unpack_gaps)


def pack_gaps(gaps: pd.DataFrame) -> bytes:
    return frames.pack({"gaps": gaps})


def unpack_gaps(payload: bytes) -> pd.DataFrame:
    return frames.unpack(payload)[0]["gaps"]


def score_with_changes(period_code: str, new_values: pd.DataFrame, db: Database | None = None) -> ScoreResult:
    """The period's score as if ``new_values`` (unit, field, value) were committed; stores nothing."""
    inp = scoring_inputs(period_code, db)
    ev = evidence_cache.with_values(inp.evidence, new_values)
    units = units_with_data(inp.units, ev, inp.adjustments, inp.records)
    return score(inp.table, ev, units[_UNIT_COLS], inp.period.kind, inp.adjustments, inp.overrides,
                 **inp.score_kwargs())


def table_for_period(period_code: str, db: Database | None = None) -> IndicatorTable:
    return scoring_inputs(period_code, db).table


def what_if_period(principal: Principal, period_code: str, item_code: str | None = None,
                   points: float | None = None, grade: str | None = None, grade_min: float | None = None,
                   db: Database | None = None) -> WhatIf:
    """模拟测算 with at most one item's points and one grade line changed (see ``what_if_changes``)."""
    changes = []
    if item_code:
        changes.append(("points", item_code, points))
    if grade:
        changes.append(("grade", grade, grade_min))
    return what_if_changes(principal, period_code, changes, db)


def what_if_changes(principal: Principal, period_code: str, changes: list[tuple[str, str, float | None]],
                    db: Database | None = None) -> WhatIf:
    """模拟测算: the period re-scored with several changes at once. Stores nothing.

    ``changes``: ("points", item code, new points) and ("grade", grade label, new lower bound), applied
    in order (a later change of the same item or grade wins). Messages name the change at fault."""
    require(principal, "what_if")
    inp = scoring_inputs(period_code, db)
    table = inp.table
    if not changes:
        raise InvalidInput("请先选择要调整的指标或等次")
    for kind, code, value in changes:
        try:
            if kind == "points":
                item = table.item(code)
                if value is None or not (0 <= float(value) <= 100):
                    raise InvalidInput(f"请填写「{code} {item.name}」的新分值（0 到 100 之间）")
                # The 100-point scale stays: grade lines keep their meaning; the item just weighs more or less.
                table = change_points(table, code, float(value), keep_scale=True)
            elif kind == "grade":
                if value is None or not (0 <= float(value) <= 200):
                    raise InvalidInput(f"请填写「{code}」的新分数线（0 到 200 之间）")
                table = change_grade_min(table, code, float(value))
            else:
                raise InvalidInput("未知的调整类型")
        except KeyError:
            raise InvalidInput(f"「{code}」不在本期指标体系中") from None
    units = units_with_data(inp.units, inp.evidence, inp.adjustments, inp.records)[_UNIT_COLS]
    db = db or get_db()
    # The same question on the same data gets the same answer: kept with the period's data version.
    question = tuple((kind, code, None if value is None else float(value)) for kind, code, value in changes)
    key = ("what_if",) + _version_key(db, period_code) + question
    return _cached(key, lambda: what_if(score_period(period_code, db), table, inp.evidence, units, inp.period.kind,
                                        inp.adjustments, check_total=False, score_kwargs=inp.score_kwargs()))


# --------------------------------------------------------------------------- periods & units

def periods(db: Database | None = None) -> list[repo.PeriodInfo]:
    db = db or get_db()

    def read():
        with db.session() as s:
            return repo.list_periods(s)
    return results_store.pinned(("periods", db), read)


def default_period_code(db: Database | None = None) -> str | None:
    """The period a page opens on: the newest one with results to show (not a just-opened period
    still at 填报中 with no evidence, which would rank every unit at 0)."""
    db = db or get_db()
    ps = periods(db)
    with db.session() as s:
        for p in ps:
            if p.status != PERIOD_STATUSES[0] or s.scalar(
                    select(EvidenceValue.id).where(EvidenceValue.period_id == p.id).limit(1)) is not None:
                return p.code
    return ps[0].code if ps else None


def period_exists(code, db: Database | None = None) -> bool:
    """True for the code of a stored period; False for anything else (None, text, a forged list...)."""
    return isinstance(code, str) and bool(code) and any(p.code == code for p in periods(db))


def get_period_info(code: str, db: Database | None = None) -> repo.PeriodInfo:
    db = db or get_db()
    with db.session() as s:
        return repo.period_info(_period_or_404(s, code))


def previous_period_code(period_code: str, db: Database | None = None, same_kind: bool = True) -> str | None:
    """The period before this one: of the same kind (a half-year with the half-year before it, a year with
    the year before: 「较上期」 and candidates compare like with like), or of any kind."""
    db = db or get_db()
    with db.session() as s:
        p = _period_or_404(s, period_code)
        prev = repo.previous_period(s, p, same_kind=same_kind)
        return prev.code if prev else None


def visible_units(principal: Principal, period_code: str, db: Database | None = None) -> pd.DataFrame:
    require(principal, "view_scores")
    units = scoring_inputs(period_code, db).units
    scope = unit_scope(principal)
    return units if scope is None else units[units["unit"].isin(scope)]


def _scoped(df: pd.DataFrame, principal: Principal) -> pd.DataFrame:
    scope = unit_scope(principal)
    return df if scope is None else df[df["unit"].isin(scope)]


# --------------------------------------------------------------------------- rankings

def rankings(principal: Principal, period_code: str, category: str | None = None,
             db: Database | None = None, bureau: str | None = None) -> pd.DataFrame:
    """One row per visible unit with data: ranks, total, grade, ★ met, change vs the previous period of the
    same kind (a half-year is never compared with a full year).

    ``bureau`` keeps the units of one 局 (ranks stay those of the whole period)."""
    require(principal, "view_scores")
    db = db or get_db()
    res = score_period(period_code, db)
    df = res.units.copy()
    prev_code = previous_period_code(period_code, db, same_kind=True)
    if prev_code:
        prev = score_period(prev_code, db).units[["unit", "total", "rank", "grade"]].rename(
            columns={"total": "prev_total", "rank": "prev_rank", "grade": "prev_grade"})
        df = df.merge(prev, on="unit", how="left")
        df["delta"] = df["total"] - df["prev_total"]
    else:
        df["prev_total"] = float("nan")
        df["prev_rank"] = float("nan")
        df["prev_grade"] = None
        df["delta"] = float("nan")
    if category:
        df = df[df["category"] == category]
    if bureau:
        units = scoring_inputs(period_code, db).units
        df = df[df["unit"].isin(units.loc[units["bureau"] == bureau, "unit"])]
    return _scoped(df, principal).sort_values("display_order").reset_index(drop=True)


def bureaus_of(period_code: str, db: Database | None = None) -> list[str]:
    """The 局 with units assessed in the period, 市局 first."""
    units = scoring_inputs(period_code, db).units
    return sorted(units["bureau"].dropna().unique().tolist(), key=lambda b: (not str(b).startswith("市"), b))


def categories(period_code: str, db: Database | None = None) -> list[str]:
    units = scoring_inputs(period_code, db).units
    return sorted(units["category"].dropna().unique().tolist())


def kpis(principal: Principal, period_code: str, db: Database | None = None,
         ranking: pd.DataFrame | None = None) -> dict:
    """Headline figures of the (visible) ranking; ``ranking`` saves recomputing it when the caller has it.

    The overdue 整改 count is the period's own (items registered in it), not every period's."""
    df = rankings(principal, period_code, db=db) if ranking is None else ranking
    db = db or get_db()
    v = _version(db, period_code)
    if _published(v):
        from data import publication

        overdue = publication.current(db, v).overdue  # as the shortlist saw it when published
    else:
        with db.session() as s:
            overdue = repo.overdue_counts(s, dt.date.today(), period_id=_period_or_404(s, period_code).id)
    scope = unit_scope(principal)
    n_overdue = sum(n for u, n in overdue.items() if scope is None or u in scope)
    top = df["grade_order"].eq(0).sum() if len(df) else 0
    return {"units": int(len(df)), "average": float(df["total"].mean()) if len(df) else float("nan"),
            "top_grade_count": int(top), "vetoed": int(df["veto"].sum()) if len(df) else 0,
            "overdue_rectifications": int(n_overdue)}


def evidence_summary(principal: Principal, period_code: str, db: Database | None = None) -> pd.DataFrame:
    """The period's figures summed over the visible units, for a half-year or annual work summary
    (「共召开支委会 ** 次、党课 ** 次……」): counts and hours summed, rates averaged, 是/否 counted.

    One computation for the ranking page's 工作量统计 panel and the work-summary documents:
    ``data.work_summary.field_totals`` (without the contributing units' names, which the panel does not show).
    """
    from data.work_summary import field_totals

    require(principal, "view_scores")
    db = db or get_db()
    # Kept per data version and unit scope (the ranking page shows it on every view); callers only read it.
    return _cached(("evidence_summary",) + _version_key(db, period_code) + (unit_scope(principal),),
                   lambda: field_totals(principal, period_code, db=db, contributors=False))


# --------------------------------------------------------------------------- branch detail

def _unit_or_404(s: Session, code: str) -> OrgUnit:
    u = s.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if u is None:
        raise NotFound(f"单位 {code} 不存在")
    return u


def branch_detail(principal: Principal, unit_code: str, period_code: str, db: Database | None = None) -> dict:
    db = db or get_db()
    # Scope before existence: a staff user gets the same 403 for an absent code and for another
    # unit's code, so codes cannot be enumerated. Others get 404 for an absent code.
    require_unit(principal, "view_scores", unit_code)
    with db.session() as s:
        _unit_or_404(s, unit_code)
    res = score_period(period_code, db)
    inp = scoring_inputs(period_code, db)
    unit_row = res.unit(unit_code)
    in_period = inp.units[inp.units["unit"] == unit_code]
    if in_period.empty:
        raise NotFound(f"单位 {unit_code} 未参加 {period_code} 考核")
    info = in_period.iloc[0].to_dict()
    if not unit_row:  # 「尚无数据」: not scored; the page shows what there is (整改, records, trend)
        with db.session() as s:
            unit = _unit_or_404(s, unit_code)
            p = _period_or_404(s, period_code)
            rects, adj = _unit_records(s, unit, p)
        return {"unit": info, "no_data": True, "rectifications": rects, "adjustments": adj,
                "trend": unit_trend(principal, unit_code, db), "table": inp.table, "period": inp.period}
    items = res.items_for(unit_code).reset_index(drop=True)
    areas = res.areas_for(unit_code).reset_index(drop=True)
    # The category's mean score rate per area, derived once per data version for every worker.
    areas = areas.merge(view_frames.category_means(period_code, db).get(unit_row["category"], _NO_AREAS),
                        on="area", how="left")
    gaps = _gaps_by_unit(period_code, db)(unit_code)
    with db.session() as s:
        unit = _unit_or_404(s, unit_code)
        p = _period_or_404(s, period_code)
        self_scores = dict(s.execute(select(SelfAssessment.item_code, SelfAssessment.points)
                                     .where(SelfAssessment.unit_id == unit.id,
                                            SelfAssessment.period_id == p.id)).all())
        rects, adj = _unit_records(s, unit, p)
    items["self_points"] = items["item"].map(self_scores)
    items["self_diff"] = items["points"] - items["self_points"]
    return {"unit": {**info, **unit_row}, "no_data": False, "items": items, "areas": areas,
            "gaps": gaps.reset_index(drop=True),
            "rectifications": rects, "adjustments": adj,
            "trend": unit_trend(principal, unit_code, db), "table": inp.table,
            "period": inp.period}


def _unit_records(s: Session, unit: OrgUnit, p: Period) -> tuple[list[dict], list[dict]]:
    """One unit's 整改 items (every period) and its adjustments in period ``p``."""
    rects = [_rect_dict(r) for r in s.scalars(
        select(Rectification).where(Rectification.unit_id == unit.id)
        .order_by(Rectification.deadline)).all()]
    adj = [dict(id=a.id, item=a.item_code, kind=a.kind, points=a.points, reason=a.reason,
                by=a.author.display_name if a.author else "", at=a.created_at,
                current=a.superseded_at is None)
           for a in s.scalars(select(Adjustment).where(Adjustment.unit_id == unit.id,
                                                       Adjustment.period_id == p.id)
                              .order_by(Adjustment.created_at.desc())).all()]
    return rects, adj


_NO_AREAS = pd.DataFrame({"area": pd.Series([], dtype=object), "category_pct": pd.Series([], dtype=float)})


def _gaps_by_unit(period_code: str, db: Database):
    """A function unit → its rows of ``period_gaps``: the gaps sorted by unit once per data version, then
    a binary search and a slice per view (splitting into thousands of small frames took a second)."""
    def build():
        gaps = period_gaps(period_code, db).sort_values("unit", kind="stable")
        keys = gaps["unit"].to_numpy(object)

        def rows_of(unit_code: str) -> pd.DataFrame:
            lo, hi = np.searchsorted(keys, unit_code, "left"), np.searchsorted(keys, unit_code, "right")
            return gaps.iloc[lo:hi]
        return rows_of

    return _cached(("gaps_by_unit",) + _version_key(db, period_code), build)


def unit_trend(principal: Principal, unit_code: str, db: Database | None = None) -> pd.DataFrame:
    """The unit's total and grade in every period it has data in (a period 「尚无数据」 is no point)."""
    require_unit(principal, "view_scores", unit_code)
    rows = []
    for p in reversed(periods(db)):
        r = score_period(p.code, db).unit(unit_code)
        if r:
            rows.append({"period": p.code, "kind": p.kind, "total": r["total"], "grade": r["grade"],
                         "rank": r["rank"]})
    return pd.DataFrame(rows, columns=["period", "kind", "total", "grade", "rank"])


def evidence_provenance(principal: Principal, unit_code: str, period_code: str,
                        db: Database | None = None, keep: int | None = None) -> pd.DataFrame:
    """Current and superseded values of one unit with where each came from.

    ``keep``: at most that many rows per field (the newest; the current value is the newest), so a
    page's size does not grow with the number of uploads; ``attrs["older"]`` counts the rows left out.
    """
    require_unit(principal, "view_scores", unit_code)
    db = db or get_db()
    cols = [EvidenceValue.field, EvidenceValue.value, EvidenceValue.raw, EvidenceValue.file_name,
            EvidenceValue.sheet, EvidenceValue.row, EvidenceValue.column, User.display_name,
            EvidenceValue.uploaded_at, EvidenceValue.superseded_at, EvidenceValue.batch_id]
    with db.session() as s:
        unit = _unit_or_404(s, unit_code)
        p = _period_or_404(s, period_code)
        where = (EvidenceValue.unit_id == unit.id, EvidenceValue.period_id == p.id)
        older = 0
        if keep is None:
            rows = s.execute(select(*cols).outerjoin(User, User.id == EvidenceValue.uploaded_by).where(*where)
                             .order_by(EvidenceValue.field, EvidenceValue.uploaded_at.desc())).all()
        else:
            newest = func.row_number().over(partition_by=EvidenceValue.field,
                                            order_by=(EvidenceValue.uploaded_at.desc(), EvidenceValue.id.desc()))
            ranked = select(EvidenceValue.id, newest.label("n")).where(*where).subquery()
            rows = s.execute(select(*cols).join(ranked, ranked.c.id == EvidenceValue.id)
                             .outerjoin(User, User.id == EvidenceValue.uploaded_by).where(ranked.c.n <= keep)
                             .order_by(EvidenceValue.field, EvidenceValue.uploaded_at.desc())).all()
            total = s.scalar(select(func.count()).select_from(EvidenceValue).where(*where))
            older = int(total) - len(rows)
    df = pd.DataFrame(rows, columns=["field", "value", "raw", "file_name", "sheet", "row", "column",
                                     "uploader", "uploaded_at", "superseded_at", "batch_id"])
    df.attrs["older"] = older
    return df


def rectification_list(principal: Principal, db: Database | None = None) -> pd.DataFrame:
    """Every 整改 item the principal may see, across units and periods, overdue ones first."""
    require(principal, "view_scores")
    db = db or get_db()
    r = Rectification
    with db.session() as s:  # columns, not ORM objects: a province's ledger holds thousands of items
        rows = s.execute(
            select(r.id, OrgUnit.code, OrgUnit.name, Period.code, r.item_code, r.problem, r.source, r.responsible,
                   r.deadline, r.status, r.closed_at, r.closed_evidence, r.recheck_at, r.recheck_result)
            .join(OrgUnit, OrgUnit.id == r.unit_id).join(Period, Period.id == r.period_id)
            .order_by(r.deadline)).all()
    df = pd.DataFrame(rows, columns=["id", "unit", "unit_name", "period", "item", "problem", "source", "responsible",
                                     "deadline", "status", "closed_at", "closed_evidence", "recheck_at",
                                     "recheck_result"])
    today = dt.date.today()
    df.insert(10, "overdue", [_overdue(st, d, today) for st, d in zip(df["status"], df["deadline"])])
    df = _scoped(df, principal)
    return df.sort_values(["overdue", "deadline"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _overdue(status: str, deadline: dt.date, today: dt.date) -> bool:
    """A 整改 item still open after its deadline."""
    return status in OPEN_RECTIFICATION and deadline < today


def _rect_dict(r: Rectification) -> dict:
    return dict(id=r.id, item=r.item_code, problem=r.problem, source=r.source, responsible=r.responsible,
                deadline=r.deadline, status=r.status, closed_at=r.closed_at, closed_evidence=r.closed_evidence,
                recheck_at=r.recheck_at, recheck_result=r.recheck_result,
                overdue=_overdue(r.status, r.deadline, dt.date.today()))


# --------------------------------------------------------------------------- gaps & candidates

def gap_overview(principal: Principal, period_code: str, by: str = "bureau", bureau: str | None = None,
                 group: str | None = None, sort: str = "gap", page: int = 1, db: Database | None = None) -> dict:
    """差距分析 aggregated by 局 or category with drill-down; see ``data.gap_views.gap_overview``."""
    from data.gap_views import gap_overview as overview

    return overview(principal, period_code, by=by, bureau=bureau, group=group, sort=sort, page=page, db=db)


def candidate_list(principal: Principal, period_code: str, db: Database | None = None) -> pd.DataFrame:
    """The 先进 shortlist with the inspectors' decisions; a published period's is its snapshot's."""
    require(principal, "view_candidates")
    db = db or get_db()
    v = _version(db, period_code)
    if _published(v):
        from data import publication

        return publication.current(db, v).candidates.copy()
    with db.session() as s:
        prev_code = previous_period_code(period_code, db)
        cache_key = (("shortlist",) + _version_key(db, period_code)
                     + ((_version_key(db, prev_code),) if prev_code else ()))
        return live_candidates(s, period_code, db, previous_grades=previous_grades(period_code, db),
                               cache_key=cache_key)


def candidates_as_of(end_date: dt.date, today: dt.date | None = None) -> dt.date:
    """The date time-dependent candidate conditions (overdue 整改) are judged on: the period's last
    day, or today while the period is still running. What happens after the period's end never
    moves its shortlist."""
    return min(today or dt.date.today(), end_date)


def previous_grades(period_code: str, db: Database) -> dict[str, str] | None:
    """Grades of the previous same-kind period (None when there is none), for the candidate rules."""
    prev_code = previous_period_code(period_code, db)
    return score_period(prev_code, db).units.set_index("unit")["grade"].to_dict() if prev_code else None


def live_candidates(s: Session, period_code: str, db: Database, previous_grades: dict | None,
                    res: ScoreResult | None = None, inp: ScoringInputs | None = None,
                    cache_key: tuple | None = None) -> pd.DataFrame:
    """The shortlist computed now from ``res`` (default: the period's score) inside session ``s``.

    ``cache_key``: keep the shortlist per (versions, overdue counts) in this process (the page's path;
    publication builds it fresh)."""
    inp = inp or scoring_inputs(period_code, db)
    res = res if res is not None else score_period(period_code, db)
    p = _period_or_404(s, period_code)
    as_of = candidates_as_of(p.end_date)
    overdue = repo.overdue_counts(s, as_of)
    dec_rows = s.execute(
        select(OrgUnit.code, CandidateDecision.decision, CandidateDecision.note, User.display_name,
               CandidateDecision.created_at)
        .join(OrgUnit, OrgUnit.id == CandidateDecision.unit_id)
        .outerjoin(User, User.id == CandidateDecision.created_by)
        .where(CandidateDecision.period_id == p.id).order_by(CandidateDecision.id)).all()
    def build():
        return shortlist(inp.table, res, inp.period.kind, overdue=overdue, previous_grades=previous_grades)

    df = build() if cache_key is None else _cached(cache_key + (tuple(sorted(overdue.items())),), build)
    decisions = {code: (d, note, by, at) for code, d, note, by, at in dec_rows}  # latest wins
    note = df.attrs.get("note")
    df = df.copy()
    df["decision"] = df["unit"].map(lambda u: decisions.get(u, (None,))[0])
    df["decision_note"] = df["unit"].map(lambda u: decisions.get(u, (None, None))[1])
    df["decision_by"] = df["unit"].map(lambda u: decisions.get(u, (None, None, None))[2])
    df.attrs.update(note=note, as_of=as_of.isoformat(), overdue=overdue)
    return df


# --------------------------------------------------------------------------- writes

def audit(s: Session, principal: Principal | None, action: str, *, entity: str | None = None,
          entity_id=None, period_code: str | None = None, unit_code: str | None = None,
          before: dict | None = None, after: dict | None = None, ip: str | None = None,
          username: str | None = None) -> None:
    """Append one audit row inside the caller's transaction."""
    s.add(AuditLog(user_id=principal.id if principal else None,
                   username=principal.username if principal else username, action=action, entity=entity,
                   entity_id=None if entity_id is None else str(entity_id), period_code=period_code,
                   unit_code=unit_code, before=_jsonable(before), after=_jsonable(after), ip=ip))


def _jsonable(d: dict | None) -> dict | None:
    if d is None:
        return None
    return {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in d.items()}


def bump(s: Session, period_id: int) -> None:
    s.execute(update(Period).where(Period.id == period_id).values(data_version=Period.data_version + 1))


class InvalidInput(ValueError):
    """A user-correctable problem with a write; the message is Chinese and shown as is."""


PUBLISHED_REFUSAL = "{code} 考核结果已发布，不能再修改；如需更正，请由系统管理员重新开放该考核期（须填写理由）"


def lock_period(s: Session, period_id: int) -> None:
    """Take the period's write lock inside the caller's transaction (SQLite: the database write
    lock; PostgreSQL: the period row), so a status read after it cannot race a publication."""
    s.execute(update(Period).where(Period.id == period_id).values(status=Period.status))
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(Period.id).where(Period.id == period_id).with_for_update())


def _not_published(p: Period, s: Session | None = None) -> None:
    """Published results must not move under the leaders' feet (uploads are refused the same way).

    With the caller's session the period is locked and its status re-read first, so a write that
    started before a publication committed is refused rather than slipped in after it."""
    if s is not None:
        lock_period(s, p.id)
        s.refresh(p, ["status"])
    if p.status == PERIOD_STATUSES[-1]:
        raise InvalidInput(PUBLISHED_REFUSAL.format(code=p.code))


def set_adjustment(principal: Principal, period_code: str, unit_code: str, item_code: str, kind: str,
                   points: float | None, reason: str, db: Database | None = None) -> int:
    """Record a judgement score / deduction / 不适用 mark; the previous one of the same kind is superseded."""
    require_unit(principal, "judge", unit_code)
    db = db or get_db()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写评分理由（必填）")
    table = table_for_period(period_code, db)
    try:
        item = table.item(item_code)
    except KeyError:
        raise InvalidInput(f"指标 {item_code} 不在本期指标体系中") from None
    if kind not in ("judgement", "deduction", "not_applicable"):
        raise InvalidInput(f"未知的评分类型 {kind}")
    if kind == "judgement" and item.rule != "manual":
        raise InvalidInput(f"{item_code} 不是考核组评定项，不能直接打分，可使用扣分")
    if kind == "judgement":
        lo, hi = manual_range(item)
        deduct = "deduct_range" in item.params
        ok = points is not None and (lo <= float(points) <= hi or (deduct and float(points) == 0))
        if not ok:
            raise InvalidInput(f"扣分应为 0（不扣）或在 {lo:g} 到 {hi:g} 之间" if deduct
                               else f"分数应在 {lo:g} 到 {hi:g} 之间")
    elif kind == "deduction":
        if points is None or not (0 <= float(points) <= item.points):
            raise InvalidInput(f"分数应在 0 到 {item.points:g} 之间")
    with db.session() as s:
        p = _period_or_404(s, period_code)
        _not_published(p, s)
        unit = _unit_or_404(s, unit_code)
        old = s.scalars(select(Adjustment).where(
            Adjustment.period_id == p.id, Adjustment.unit_id == unit.id, Adjustment.item_code == item_code,
            Adjustment.kind == kind, Adjustment.superseded_at.is_(None))).all()
        before = {"points": old[0].points, "reason": old[0].reason} if old else None
        now = utcnow()
        for o in old:
            o.superseded_at = now
        a = Adjustment(period_id=p.id, unit_id=unit.id, item_code=item_code, kind=kind,
                       points=float(points or 0), reason=reason, created_by=principal.id, created_at=now)
        s.add(a)
        s.flush()
        bump(s, p.id)
        audit(s, principal, kind, entity="adjustment", entity_id=a.id, period_code=period_code,
              unit_code=unit_code, before=before, after={"item": item_code, "points": a.points, "reason": reason})
        return a.id


def set_self_assessment(principal: Principal, period_code: str, unit_code: str, item_code: str, points: float,
                        note: str = "", db: Database | None = None) -> None:
    """A unit's own score for one item (自评分), compared with the engine's on the detail page.

    Self-assessment never moves the official score, so it does not bump the data version; it is
    audited all the same (the difference with the inspectors' score is part of the review).
    """
    require_unit(principal, "self_assess", unit_code)
    db = db or get_db()
    table = table_for_period(period_code, db)
    try:
        item = table.item(item_code)
    except KeyError:
        raise InvalidInput(f"指标 {item_code} 不在本期指标体系中") from None
    if item not in table.items:
        raise InvalidInput("加分项和一票否决项不自评")
    try:
        pts = float(points)
    except (TypeError, ValueError):
        raise InvalidInput("自评分应为数字") from None
    if not 0 <= pts <= item.points:
        raise InvalidInput(f"自评分应在 0 到 {item.points:g} 之间")
    with db.session() as s:
        p = _period_or_404(s, period_code)
        _not_published(p, s)
        unit = _unit_or_404(s, unit_code)
        row = s.scalar(select(SelfAssessment).where(SelfAssessment.period_id == p.id, SelfAssessment.unit_id == unit.id,
                                                    SelfAssessment.item_code == item_code))
        before = {"item": item_code, "points": row.points, "note": row.note} if row else \
            {"item": item_code, "points": None, "note": None}
        if row is None:
            row = SelfAssessment(period_id=p.id, unit_id=unit.id, item_code=item_code, points=pts)
            s.add(row)
        row.points, row.note, row.created_by, row.created_at = pts, (note or "").strip(), principal.id, utcnow()
        audit(s, principal, "self_assessment", entity="self_assessment", entity_id=item_code, period_code=period_code,
              unit_code=unit_code, before=before, after={"item": item_code, "points": pts, "note": row.note})


def withdraw_adjustment(principal: Principal, adjustment_id: int, db: Database | None = None) -> None:
    db = db or get_db()
    with db.session() as s:
        a = s.get(Adjustment, adjustment_id)
        if a is None or a.superseded_at is not None:
            raise NotFound("该评分记录不存在或已被替换")
        unit = s.get(OrgUnit, a.unit_id)
        require_unit(principal, "judge", unit.code)
        p = s.get(Period, a.period_id)
        _not_published(p, s)
        a.superseded_at = utcnow()
        bump(s, p.id)
        audit(s, principal, "withdraw_" + a.kind, entity="adjustment", entity_id=a.id, period_code=p.code,
              unit_code=unit.code, before={"item": a.item_code, "points": a.points, "reason": a.reason})


def check_deadline(deadline) -> None:
    """A 整改 deadline is a date from today on: one in the past would count as overdue at once."""
    if not isinstance(deadline, dt.date):
        raise InvalidInput("请填写整改期限")
    if deadline < dt.date.today():
        raise InvalidInput(f"整改期限 {deadline.isoformat()} 早于今天（{dt.date.today().isoformat()}），"
                           "请填写今天或以后的日期")


def add_rectification(principal: Principal, period_code: str, unit_code: str, problem: str, deadline: dt.date,
                      source: str = "考核组检查", item_code: str | None = None, responsible: str | None = None,
                      db: Database | None = None) -> int:
    require_unit(principal, "rectify", unit_code)
    if not (problem or "").strip():
        raise InvalidInput("请填写问题描述")
    check_deadline(deadline)
    db = db or get_db()
    with db.session() as s:
        p = _period_or_404(s, period_code)
        _not_published(p, s)
        unit = _unit_or_404(s, unit_code)
        r = Rectification(period_id=p.id, unit_id=unit.id, item_code=item_code, problem=problem.strip(),
                          source=source, responsible=responsible, deadline=deadline, created_by=principal.id)
        s.add(r)
        s.flush()
        bump(s, p.id)
        audit(s, principal, "rectification_open", entity="rectification", entity_id=r.id,
              period_code=period_code, unit_code=unit_code, after=_rect_dict(r))
        return r.id


def update_rectification(principal: Principal, rect_id: int, action: str, note: str,
                         db: Database | None = None) -> None:
    """action: close (销号, note = evidence) / recheck_pass (回头看通过) / reopen (回头看重开)."""
    db = db or get_db()
    if not (note or "").strip():
        raise InvalidInput("请填写销号依据或复查意见")
    with db.session() as s:
        r = s.get(Rectification, rect_id)
        if r is None:
            raise NotFound("整改事项不存在")
        unit = s.get(OrgUnit, r.unit_id)
        require_unit(principal, "rectify", unit.code)
        _not_published(s.get(Period, r.period_id), s)
        before = _rect_dict(r)
        today = dt.date.today()
        if action == "close" and r.status in OPEN_RECTIFICATION:
            r.status, r.closed_at, r.closed_evidence = "已销号", today, note
        elif action == "recheck_pass" and r.status == "已销号":
            r.status, r.recheck_at, r.recheck_result = "回头看通过", today, note
        elif action == "reopen" and r.status in ("已销号", "回头看通过"):
            r.status, r.recheck_at, r.recheck_result = "已重开", today, note
        else:
            raise InvalidInput(f"当前状态「{r.status}」不能执行该操作")
        bump(s, r.period_id)
        audit(s, principal, "rectification_" + action, entity="rectification", entity_id=r.id,
              period_code=s.get(Period, r.period_id).code, unit_code=unit.code, before=before, after=_rect_dict(r))


def decide_candidate(principal: Principal, period_code: str, unit_code: str, decision: str, note: str,
                     db: Database | None = None) -> None:
    require(principal, "decide_candidate")
    if decision not in ("推荐", "不推荐"):
        raise InvalidInput("请选择 推荐 或 不推荐")
    db = db or get_db()
    with db.session() as s:
        p = _period_or_404(s, period_code)
        _not_published(p, s)
        unit = _unit_or_404(s, unit_code)
        last = s.scalars(select(CandidateDecision).where(CandidateDecision.period_id == p.id,
                                                         CandidateDecision.unit_id == unit.id)
                         .order_by(CandidateDecision.created_at.desc(), CandidateDecision.id.desc()).limit(1)).first()
        s.add(CandidateDecision(period_id=p.id, unit_id=unit.id, decision=decision, note=(note or "").strip(),
                                created_by=principal.id))
        audit(s, principal, "candidate_decision", entity="candidate", entity_id=unit_code,
              period_code=period_code, unit_code=unit_code,
              before={"decision": last.decision, "note": last.note} if last else {"decision": None, "note": None},
              after={"decision": decision, "note": (note or "").strip()})


def create_period(principal: Principal, code: str, table_version: str, db: Database | None = None,
                  deadline=None, late_policy: str = "warn", record_source: str = "typed") -> str:
    """Open a new assessment period; the use case lives in ``data.periods`` (kept here for callers)."""
    from data import periods

    return periods.create_period(principal, code, table_version, db=db, deadline=deadline, late_policy=late_policy,
                                 record_source=record_source)


def set_period_status(principal: Principal, period_code: str, status: str, db: Database | None = None) -> None:
    require(principal, "publish")
    if status not in PERIOD_STATUSES:
        raise InvalidInput(f"考核期状态应为 {'、'.join(PERIOD_STATUSES)} 之一")
    db = db or get_db()
    if status == PERIOD_STATUSES[-1]:  # 已发布: the results are frozen as a snapshot
        from data import publication

        publication.publish(principal, period_code, db=db)
        return
    with db.session() as s:
        p = _period_or_404(s, period_code)
        lock_period(s, p.id)
        s.refresh(p, ["status"])
        if p.status == PERIOD_STATUSES[-1] and status != p.status:
            raise InvalidInput(f"{p.code} 考核结果已发布；重新开放须由系统管理员填写理由"
                               f"（flask --app app reopen-period {p.code} --reason …）")
        before = {"status": p.status}
        p.status = status
        audit(s, principal, "period_status", entity="period", entity_id=p.code, period_code=p.code,
              before=before, after={"status": status})


def set_period_table_version(principal: Principal, period_code: str, table_version: str,
                             db: Database | None = None) -> None:
    """Move a period to another stored indicator-table version (refused once published, or once
    evidence has been committed for it: the evidence was checked against the old version)."""
    require(principal, "manage_tables")
    db = db or get_db()
    with db.session() as s:
        p = _period_or_404(s, period_code)
        _not_published(p, s)
        tv = s.scalar(select(TableVersion).where(TableVersion.version == table_version))
        if tv is None:
            raise InvalidInput(f"指标体系版本 {table_version} 不存在")
        if s.scalar(select(UploadBatch.id).where(UploadBatch.period_id == p.id,
                                                 UploadBatch.status.in_(("committed", "seed"))).limit(1)):
            raise InvalidInput(f"{p.code} 已有提交的填报数据，不能再更换指标体系版本")
        before = {"table_version": p.table_version.version}
        p.table_version_id = tv.id
        bump(s, p.id)
        audit(s, principal, "period_table_version", entity="period", entity_id=p.code, period_code=p.code,
              before=before, after={"table_version": table_version})


def save_table_version(principal: Principal, content: dict, note: str = "", db: Database | None = None) -> str:
    """Validate and store a new indicator-table version; returns its version string."""
    require(principal, "manage_tables")
    table, problems = parse_table(content)
    if table is None:
        raise InvalidInput("；".join(map(str, problems)))
    db = db or get_db()
    with db.session() as s:
        if s.scalar(select(TableVersion).where(TableVersion.version == table.version)):
            raise InvalidInput(f"版本 {table.version} 已存在，请修改版本号后再保存")
        tv = TableVersion(version=table.version, title=table.title, content=table_to_dict(table), note=note,
                          created_by=principal.id)
        s.add(tv)
        s.flush()
        audit(s, principal, "table_version", entity="table_version", entity_id=tv.version,
              after={"version": tv.version, "title": tv.title, "items": len(table.all_items)})
        return tv.version


def table_versions(db: Database | None = None) -> list[dict]:
    db = db or get_db()
    with db.session() as s:
        return [dict(version=t.version, title=t.title, created_at=t.created_at, note=t.note)
                for t in s.scalars(select(TableVersion).order_by(TableVersion.created_at)).all()]


def get_table_version(version: str, db: Database | None = None) -> IndicatorTable | None:
    db = db or get_db()
    with db.session() as s:
        tv = s.scalar(select(TableVersion).where(TableVersion.version == version))
        return parse_table(tv.content)[0] if tv else None


def audit_entries(principal: Principal, action: str | None = None, username: str | None = None,
                  unit_code: str | None = None, limit: int = 500, db: Database | None = None) -> pd.DataFrame:
    require(principal, "view_audit")
    db = db or get_db()
    q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        q = q.where(AuditLog.action == action)
    if username:
        q = q.where(AuditLog.username == username)
    if unit_code:
        q = q.where(AuditLog.unit_code == unit_code)
    with db.session() as s:
        rows = [dict(id=a.id, at=a.at, username=a.username, action=a.action, entity=a.entity,
                     entity_id=a.entity_id, period=a.period_code, unit=a.unit_code, before=a.before,
                     after=a.after, ip=a.ip) for a in s.scalars(q).all()]
        # Names, not codes, for the audit page (today's names; the codes stay beside them).
        user_names = dict(s.execute(select(User.username, User.display_name)).all())
        unit_names = dict(s.execute(select(OrgUnit.code, OrgUnit.name)).all())
    df = pd.DataFrame(rows, columns=["id", "at", "username", "action", "entity", "entity_id", "period", "unit",
                                     "before", "after", "ip"])
    df["user_name"] = df["username"].map(user_names)
    df["unit_name"] = df["unit"].map(unit_names)
    return df


def upload_history(principal: Principal, period_code: str | None = None, db: Database | None = None) -> pd.DataFrame:
    require(principal, "upload")
    db = db or get_db()
    q = (select(UploadBatch.id, Period.code, UploadBatch.file_name, UploadBatch.status, UploadBatch.n_units,
                UploadBatch.n_values, UploadBatch.n_changed, UploadBatch.n_errors, UploadBatch.n_warnings,
                UploadBatch.created_at, User.display_name)
         .join(Period, Period.id == UploadBatch.period_id).outerjoin(User, User.id == UploadBatch.user_id)
         .order_by(UploadBatch.id.desc()).limit(200))
    if principal.role == "staff":
        q = q.where(UploadBatch.user_id == principal.id)
    if period_code:
        q = q.where(Period.code == period_code)
    with db.session() as s:
        rows = s.execute(q).all()
    return pd.DataFrame(rows, columns=["id", "period", "file_name", "status", "n_units", "n_values", "n_changed",
                                       "n_errors", "n_warnings", "created_at", "uploader"])


def count_rows(model, db: Database | None = None) -> int:
    db = db or get_db()
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))
