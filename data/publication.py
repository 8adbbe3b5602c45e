"""Publication: a period's complete results frozen as an immutable snapshot.

Owns publishing (``publish``), re-opening (``reopen``, admin only, with a reason),
reading snapshots (``current`` for the services, ``snapshot`` for any earlier one)
and what changed between two publications (``describe_changes``).

A snapshot holds everything a view, export or CLI output of the period shows:
the engine's frames (units with ranks and grades, items with explanations, areas,
the evidence used), the gap lists, the 先进 shortlist with the inspectors'
decisions, the units' details, the indicator table itself, the overdue 整改
counts as of the period's end, the table and data versions, who published and
when. Rows of ``publications`` are written once and never updated: publishing
again after a re-opening adds 「第 2 次发布」, and every earlier one stays
readable.

The snapshot is computed inside the publishing transaction after the period's
write lock is taken, from the rows as they are then (not from any cache), so no
write can slip between what was scored and what was frozen.
"""
from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from data import frames, repo, results_store, services
from data.db import Database, get_db
from data.models import PERIOD_STATUSES, Period, Publication, utcnow
from data.permissions import AccessDenied, NotFound, Principal, require
from scoring.candidates import SELECTED
from scoring.engine import ScoreResult
from scoring.gaps import grade_gaps
from scoring.indicators import IndicatorTable, parse_table, table_to_dict

PUBLISHED = PERIOD_STATUSES[-1]
REOPENED = PERIOD_STATUSES[1]  # 考核中
LEGACY_PUBLISHER = "（本系统启用快照前已发布）"
MAX_LISTED_CHANGES = 200


def label(number: int) -> str:
    return f"第 {number} 次发布"


@dataclass(frozen=True)
class Snapshot:
    id: int
    period_code: str
    number: int
    data_version: int
    table_version: str
    published_at: dt.datetime
    published_by: str
    as_of: dt.date
    summary: dict
    result: ScoreResult
    gaps: pd.DataFrame
    candidates: pd.DataFrame
    unit_info: pd.DataFrame
    table: IndicatorTable
    overdue: dict

    @property
    def label(self) -> str:
        return label(self.number)


# --------------------------------------------------------------------------- building

def _operator(principal: Principal | None) -> tuple[int | None, str]:
    if principal is not None:
        return principal.id, f"{principal.display_name}（{principal.username}）"
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "?"
    return None, f"命令行操作员（{who}）"


def _build(s, db: Database, p: Period, prev_grades: dict | None) -> tuple[bytes, dict, dict]:
    """Everything the period shows, computed from the rows as they are in session ``s``."""
    table = repo.table_for(p)
    info = repo.period_info(p)
    units = repo.units_frame(s, p)
    evidence = repo.evidence_frame(s, p.id)
    adjustments = repo.adjustments_frame(s, p.id)
    overrides = repo.overrides_frame(s, p.id)
    start, end = services.period_span(info)
    records = repo.records_frame(s, start, end) if table.record_fields else None
    inp = services.ScoringInputs(info, table, units, services._Lazy(lambda: evidence),
                                 services._Lazy(lambda: adjustments), services._Lazy(lambda: overrides),
                                 services._Lazy(lambda: records) if records is not None else None)
    res = services.compute_score(inp)
    gaps = grade_gaps(table, res, info.kind)
    cands = services.live_candidates(s, p.code, db, prev_grades, res=res, inp=inp)
    overdue = {str(k): int(v) for k, v in cands.attrs.get("overdue", {}).items()}
    as_of = cands.attrs["as_of"]
    cands.attrs.pop("overdue", None)
    result_frames, result_meta = frames.result_frames(res)
    payload = frames.pack({**result_frames, "gaps": gaps, "candidates": cands, "unit_info": units},
                          {"result": result_meta, "table": table_to_dict(table), "overdue": overdue})
    chosen = cands[cands["status"] == SELECTED] if len(cands) else cands
    summary = {"units": int(len(res.units)), "candidates": int(len(chosen)),
               "grades": {str(k): int(v) for k, v in res.units["grade"].value_counts().items()},
               "average": None if not len(res.units) else round(float(res.units["total"].mean()), 4)}
    return payload, summary, {"as_of": as_of}


def _decode(pub: Publication, period_code: str) -> Snapshot:
    fr, meta = frames.unpack(pub.payload)
    table, problems = parse_table(meta["table"])
    if table is None:  # written by _build from a valid table: this is corruption
        raise RuntimeError(f"{period_code} 第 {pub.number} 次发布的指标体系无法解析：{problems}")
    return Snapshot(id=pub.id, period_code=period_code, number=pub.number, data_version=pub.data_version,
                    table_version=pub.table_version, published_at=pub.published_at,
                    published_by=pub.published_by_name, as_of=pub.as_of, summary=pub.summary or {},
                    result=frames.to_result(fr, meta["result"]), gaps=fr["gaps"], candidates=fr["candidates"],
                    unit_info=fr["unit_info"], table=table, overdue=meta.get("overdue", {}))


def _compare(prev: Snapshot, res: ScoreResult, cands: pd.DataFrame) -> dict:
    """What changed from the previous publication: totals, grades, ranks, units in/out, candidates in/out."""
    cols = ["unit", "name", "total", "grade", "rank"]
    a = prev.result.units[cols].set_index("unit")
    b = res.units[cols].set_index("unit")
    both = a.index.intersection(b.index)
    j = a.loc[both].join(b.loc[both], lsuffix="_before", rsuffix="_after")
    total_changed = (j["total_before"] - j["total_after"]).abs().fillna(0) > 1e-9
    total_changed |= j["total_before"].isna() != j["total_after"].isna()
    grade_changed = j["grade_before"].astype(object) != j["grade_after"].astype(object)
    rank_changed = j["rank_before"] != j["rank_after"]
    moved = j[total_changed | grade_changed | rank_changed].reset_index()
    moved = moved.sort_values("rank_after", kind="stable")

    def chosen(df: pd.DataFrame) -> set:
        return set(df.loc[df["status"] == SELECTED, "unit"]) if len(df) else set()

    before_c, after_c = chosen(prev.candidates), chosen(cands)
    rows = [{"unit": r.unit, "name": r.name_after,
             "total_before": None if pd.isna(r.total_before) else float(r.total_before),
             "total_after": None if pd.isna(r.total_after) else float(r.total_after),
             "grade_before": r.grade_before, "grade_after": r.grade_after,
             "rank_before": int(r.rank_before), "rank_after": int(r.rank_after)}
            for r in moved.head(MAX_LISTED_CHANGES).itertuples()]
    return {"previous": prev.number, "total_changed": int(total_changed.sum()),
            "grade_changed": int(grade_changed.sum()), "rank_changed": int(rank_changed.sum()),
            "units_added": sorted(set(b.index) - set(a.index)), "units_removed": sorted(set(a.index) - set(b.index)),
            "candidates_added": sorted(after_c - before_c), "candidates_removed": sorted(before_c - after_c),
            "units": rows}


# --------------------------------------------------------------------------- use cases

def publish(principal: Principal | None, period_code: str, db: Database | None = None) -> Snapshot:
    """Freeze the period's complete results as the next publication and set it 已发布.

    ``principal`` None is the CLI operator (a shell on the server). Refused when already published.
    """
    if principal is not None:
        require(principal, "publish")
    db = db or get_db()
    # Other periods are read first: once this period is locked (on SQLite: the database write lock)
    # a score of another period could not be stored.
    prev_grades = services.previous_grades(period_code, db)
    user_id, who = _operator(principal)
    with db.session() as s:
        p = repo.get_period(s, period_code)
        if p is None:
            raise NotFound(f"考核期 {period_code} 不存在")
        services.lock_period(s, p.id)
        s.refresh(p)
        if p.status == PUBLISHED:
            n = s.scalar(select(func.max(Publication.number)).where(Publication.period_id == p.id)) or 1
            raise services.InvalidInput(f"{p.code} 考核结果已发布（{label(n)}）；如需更正，请由系统管理员先重新开放")
        payload, summary, extra = _build(s, db, p, prev_grades)
        last = s.scalar(select(Publication).where(Publication.period_id == p.id)
                        .order_by(Publication.number.desc()).limit(1))
        number = (last.number + 1) if last is not None else 1
        if last is not None:
            fr, meta = frames.unpack(payload)
            summary["changes"] = _compare(_decode(last, p.code), frames.to_result(fr, meta["result"]),
                                          fr["candidates"])
        before = {"status": p.status}
        p.status = PUBLISHED
        pub = Publication(period_id=p.id, number=number, data_version=p.data_version,
                          table_version=p.table_version.version, published_at=utcnow(), published_by=user_id,
                          published_by_name=who[:64], as_of=dt.date.fromisoformat(extra["as_of"]),
                          summary=summary, payload=payload)
        s.add(pub)
        s.flush()
        services.audit(s, principal, "period_publish", entity="period", entity_id=p.code, period_code=p.code,
                       before=before, after={"status": PUBLISHED, "publication": number,
                                             "data_version": p.data_version, "table_version": pub.table_version,
                                             "units": summary["units"], "candidates": summary["candidates"]},
                       username=None if principal else who[:64])
        snap = _decode(pub, p.code)
    return snap


def reopen(principal: Principal | None, period_code: str, reason: str, db: Database | None = None) -> int:
    """Admin only: set a published period back to 考核中 so corrections can be made; the reason is
    audited. The publications stay as they were. Returns the number of the publication re-opened."""
    if principal is None or not principal.can("reopen_period"):
        raise AccessDenied("reopen_period")
    reason = (reason or "").strip()
    if not reason:
        raise services.InvalidInput("请填写重新开放的理由（必填，记入审计日志）")
    db = db or get_db()
    with db.session() as s:
        p = repo.get_period(s, period_code)
        if p is None:
            raise NotFound(f"考核期 {period_code} 不存在")
        services.lock_period(s, p.id)
        s.refresh(p)
        if p.status != PUBLISHED:
            raise services.InvalidInput(f"{p.code} 尚未发布（当前状态：{p.status}），无需重新开放")
        n = s.scalar(select(func.max(Publication.number)).where(Publication.period_id == p.id)) or 0
        p.status = REOPENED
        p.units_version = (p.units_version or 0) + 1  # org changes made while it was published now apply
        services.audit(s, principal, "period_reopen", entity="period", entity_id=p.code, period_code=p.code,
                       before={"status": PUBLISHED, "publication": n},
                       after={"status": REOPENED, "reason": reason[:2000]})
    return n


def current(db: Database, v: results_store.Version) -> Snapshot:
    """The snapshot a published period's views read (cached per worker by publication id).

    A period marked 已发布 before snapshots existed is frozen here on first read, once."""
    if v.publication_id is None:
        _freeze_legacy(db, v.period_code)
        v = results_store.version(db, v.period_code)
    return results_store.memoised(db, ("publication", v.publication_id), lambda: _load(db, v.publication_id))


def _load(db: Database, publication_id: int) -> Snapshot:
    with db.session() as s:
        pub = s.get(Publication, publication_id)
        code = s.scalar(select(Period.code).where(Period.id == pub.period_id))
        return _decode(pub, code)


def _freeze_legacy(db: Database, period_code: str) -> None:
    prev_grades = services.previous_grades(period_code, db)
    try:
        with db.session() as s:
            p = repo.get_period(s, period_code)
            services.lock_period(s, p.id)
            if s.scalar(select(Publication.id).where(Publication.period_id == p.id).limit(1)) is not None:
                return  # another worker froze it first
            payload, summary, extra = _build(s, db, p, prev_grades)
            s.add(Publication(period_id=p.id, number=1, data_version=p.data_version,
                              table_version=p.table_version.version, published_at=utcnow(), published_by=None,
                              published_by_name=LEGACY_PUBLISHER, as_of=dt.date.fromisoformat(extra["as_of"]),
                              summary=summary, payload=payload))
    except IntegrityError:
        pass


def freeze_published(db: Database) -> list[str]:
    """Give every period marked 已发布 without a snapshot its snapshot now (demo seed, upgrades)."""
    with db.session() as s:
        codes = [c for c, in s.execute(select(Period.code).where(
            Period.status == PUBLISHED, ~select(Publication.id).where(Publication.period_id == Period.id).exists())
            .order_by(Period.end_date)).all()]
    for code in codes:
        _freeze_legacy(db, code)
    return codes


def publications(period_code: str, db: Database | None = None) -> list[dict]:
    """Every publication of the period, oldest first (no payloads)."""
    db = db or get_db()
    with db.session() as s:
        rows = s.execute(select(Publication.number, Publication.published_at, Publication.published_by_name,
                                Publication.data_version, Publication.table_version, Publication.as_of,
                                Publication.summary)
                         .join(Period, Period.id == Publication.period_id).where(Period.code == period_code)
                         .order_by(Publication.number)).all()
    return [dict(number=n, label=label(n), published_at=at, published_by=by, data_version=dv, table_version=tv,
                 as_of=as_of, summary=summary or {}) for n, at, by, dv, tv, as_of, summary in rows]


def snapshot(period_code: str, number: int | None = None, db: Database | None = None) -> Snapshot:
    """Publication ``number`` of the period (default: the newest), whatever the period's status now."""
    db = db or get_db()
    with db.session() as s:
        q = select(Publication.id).join(Period, Period.id == Publication.period_id).where(Period.code == period_code)
        q = q.where(Publication.number == int(number)) if number is not None else \
            q.order_by(Publication.number.desc()).limit(1)
        pid = s.scalar(q)
    if pid is None:
        raise NotFound(f"考核期 {period_code} 没有{label(number) if number else '发布记录'}")
    return results_store.memoised(db, ("publication", pid), lambda: _load(db, pid))


def describe(snap: Snapshot) -> str:
    """「第 2 次发布：2026-11-30 14:02，考核组李明（inspector）；数据版本 12，指标体系 2026 版」"""
    at = snap.published_at.strftime("%Y-%m-%d %H:%M") if snap.published_at else ""
    return (f"{snap.label}：{at}，{snap.published_by}；数据版本 {snap.data_version}，"
            f"指标体系 {snap.table_version} 版；整改逾期按 {snap.as_of.isoformat()} 核对")


def describe_changes(summary: dict, limit: int = 20) -> list[str]:
    """Chinese lines saying what changed since the previous publication (empty for the first one)."""
    ch = summary.get("changes")
    if not ch:
        return []
    lines = [f"与{label(ch['previous'])}相比：{ch['total_changed']} 个单位总分变化，{ch['grade_changed']} 个单位等次变化，"
             f"{ch['rank_changed']} 个单位排名变化"]
    if ch["units_added"] or ch["units_removed"]:
        lines.append(f"新增单位 {len(ch['units_added'])} 个，减少单位 {len(ch['units_removed'])} 个")
    if ch["candidates_added"] or ch["candidates_removed"]:
        lines.append("先进候选：新增 " + ("、".join(ch["candidates_added"]) or "无") + "；移出 "
                     + ("、".join(ch["candidates_removed"]) or "无"))
    if not (ch["total_changed"] or ch["grade_changed"] or ch["rank_changed"] or ch["candidates_added"]
            or ch["candidates_removed"] or ch["units_added"] or ch["units_removed"]):
        lines.append("考核结果没有变化")

    def pts(x):
        return "—" if x is None else f"{x:.2f}"

    for r in ch["units"][:limit]:
        grade = f"，等次 {r['grade_before']} → {r['grade_after']}" if r["grade_before"] != r["grade_after"] else ""
        lines.append(f"  {r['unit']} {r['name']}：总分 {pts(r['total_before'])} → {pts(r['total_after'])}，"
                     f"排名 {r['rank_before']} → {r['rank_after']}{grade}")
    more = len(ch["units"]) - limit
    if more > 0:
        lines.append(f"  …… 另有 {more} 个单位有变化")
    return lines
