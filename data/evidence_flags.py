"""「无佐证」: items scored 达标 with nothing behind them, and the inspectors' 佐证核查 list.

An item of a unit is 无佐证 when ``score_period`` gives it 达标 and the unit has
- no live attachment on that unit × item of the period (a file marked 不符合 does not count), and
- for an item with a field taken from records (``FieldDef.from_records``), no current activity record
  of that type dated inside the period (a file on such a record needs the record, so it is covered).

Reads only (scores come from ``data.services.score_period``; nothing here scores or writes).
"""
from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import select

from data.db import Database, get_db
from data.models import REVIEW_STATUSES, ActivityRecord, Attachment, OrgUnit, Period
from data.permissions import Principal, require, require_unit, unit_scope
from scoring.glossary import MET

PAGE_SIZE = 50
FLAG_SORTS = {"bureau": "按局、单位", "unit": "按单位编码", "item": "按指标"}
PENDING_SORTS = {"oldest": "最早上传在前", "newest": "最新上传在前", "unit": "按单位编码"}
REJECTED = REVIEW_STATUSES[1]
FLAG_COLUMNS = ["unit", "name", "bureau", "item", "item_name", "points"]


def record_types(table) -> dict[str, tuple[str, ...]]:
    """item code → the activity types its fields are counted from (empty for typed-only items)."""
    out = {}
    for item in table.all_items:
        types = []
        for f in item.fields:
            fd = table.fields.get(f)
            t = getattr(fd, "from_records", None) if fd is not None else None
            if t and t not in types:
                types.append(t)
        out[item.code] = tuple(types)
    return out


def _evidence_sets(db: Database, period_code: str, codes: set[str] | None) -> tuple[set, set]:
    """(unit, item) pairs with a live, not-rejected file; (unit, activity type) pairs with a current record."""
    with db.session() as s:
        p = s.scalar(select(Period).where(Period.code == period_code))
        q = (select(OrgUnit.code, Attachment.item_code).join(OrgUnit, OrgUnit.id == Attachment.unit_id)
             .where(Attachment.period_id == p.id, Attachment.record_id.is_(None), Attachment.deleted_at.is_(None),
                    (Attachment.review_status.is_(None)) | (Attachment.review_status != REJECTED)))
        r = (select(OrgUnit.code, ActivityRecord.activity_type).join(OrgUnit, OrgUnit.id == ActivityRecord.unit_id)
             .where(ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None),
                    ActivityRecord.held_on >= p.start_date, ActivityRecord.held_on <= p.end_date))
        if codes is not None and len(codes) <= 900:
            q, r = q.where(OrgUnit.code.in_(codes)), r.where(OrgUnit.code.in_(codes))
        files = set(map(tuple, s.execute(q.distinct()).all()))
        records = set(map(tuple, s.execute(r.distinct()).all()))
    return files, records


def no_evidence_frame(period_code: str, db: Database | None = None) -> pd.DataFrame:
    """Every 无佐证 row of the period (unit, name, bureau, item, item_name, points), unscoped."""
    from data.services import score_period, scoring_inputs

    db = db or get_db()
    res = score_period(period_code, db)
    inp = scoring_inputs(period_code, db)
    met = res.items[res.items["status"].astype(str) == MET]
    if met.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    files, records = _evidence_sets(db, period_code, None)
    types = record_types(inp.table)
    units, item_codes = met["unit"].astype(str), met["item"].astype(str)
    covered = (units + "\x1f" + item_codes).isin({f"{u}\x1f{i}" for u, i in files}).to_numpy().copy()
    for t in {t for ts in types.values() for t in ts}:  # one vectorised pass per activity type
        items_t = [code for code, ts in types.items() if t in ts]
        units_t = {u for u, kind in records if kind == t}
        covered |= (item_codes.isin(items_t) & units.isin(units_t)).to_numpy()
    flagged = met[~covered]
    bureaus = inp.units.set_index("unit")["bureau"] if "bureau" in inp.units else pd.Series(dtype=object)
    flagged_units = flagged["unit"].astype(object).tolist()  # plain codes: mapping a 10,000-category column is slow
    return pd.DataFrame({"unit": flagged["unit"].to_numpy(),
                         "name": res.units.set_index("unit")["name"].reindex(flagged_units).to_numpy(),
                         "bureau": bureaus.reindex(flagged_units).to_numpy(),
                         "item": flagged["item"].to_numpy(), "item_name": flagged["name"].to_numpy(),
                         "points": flagged["points"].to_numpy()}, columns=FLAG_COLUMNS)


def unit_flags(principal: Principal, unit_code: str, period_code: str, db: Database | None = None) -> set[str]:
    """The item codes flagged 无佐证 for one unit (branch page, every view): the same rule as
    ``no_evidence_frame`` on one unit's few dozen items, without building its frames (14 → 4 ms a view);
    tests/data/test_evidence_flags.py requires the two to agree on every unit."""
    from data.services import score_period, table_for_period

    require_unit(principal, "view_scores", unit_code)
    db = db or get_db()
    items = score_period(period_code, db).items_for(unit_code)
    met = [i for i, status in zip(items["item"].astype(object), items["status"].astype(object)) if status == MET]
    if not met:
        return set()
    files, records = _evidence_sets(db, period_code, {unit_code})
    held = {t for u, t in records if u == unit_code}
    types = record_types(table_for_period(period_code, db))
    return {i for i in met if (unit_code, i) not in files and not held.intersection(types.get(i, ()))}


def pending_frame(period_code: str, db: Database | None = None) -> pd.DataFrame:
    """Live files of the period awaiting review (未核查): on unit × item, and on records dated in the period."""
    db = db or get_db()
    cols = ["id", "unit", "name", "bureau", "target", "file_name", "uploaded_at"]
    with db.session() as s:
        p = s.scalar(select(Period).where(Period.code == period_code))
        base = (select(Attachment.id, OrgUnit.code, OrgUnit.name, OrgUnit.bureau, Attachment.item_code,
                       Attachment.file_name, Attachment.uploaded_at)
                .join(OrgUnit, OrgUnit.id == Attachment.unit_id)
                .where(Attachment.deleted_at.is_(None), Attachment.review_status.is_(None)))
        on_items = s.execute(base.where(Attachment.period_id == p.id, Attachment.record_id.is_(None))).all()
        on_records = s.execute(
            select(Attachment.id, OrgUnit.code, OrgUnit.name, OrgUnit.bureau, ActivityRecord.activity_type,
                   ActivityRecord.held_on, Attachment.file_name, Attachment.uploaded_at)
            .join(OrgUnit, OrgUnit.id == Attachment.unit_id)
            .join(ActivityRecord, ActivityRecord.id == Attachment.record_id)
            .where(Attachment.deleted_at.is_(None), Attachment.review_status.is_(None),
                   ActivityRecord.superseded_at.is_(None), ActivityRecord.withdrawn_at.is_(None),
                   ActivityRecord.held_on >= p.start_date, ActivityRecord.held_on <= p.end_date)).all()
    rows = [(i, u, n, b, f"指标 {item}", fn, at) for i, u, n, b, item, fn, at in on_items]
    rows += [(i, u, n, b, f"活动记录 {d:%Y-%m-%d} {t}", fn, at) for i, u, n, b, t, d, fn, at in on_records]
    return pd.DataFrame(rows, columns=cols)


def _scoped(df: pd.DataFrame, principal: Principal, bureau: str | None) -> pd.DataFrame:
    scope = unit_scope(principal)
    if scope is not None:
        df = df[df["unit"].isin(scope)]
    if bureau:
        df = df[df["bureau"] == bureau]
    return df


def _page(df: pd.DataFrame, page: int, size: int) -> tuple[pd.DataFrame, int, int]:
    pages = max(1, math.ceil(len(df) / size))
    page = min(max(1, page), pages)
    return df.iloc[(page - 1) * size: page * size].reset_index(drop=True), page, pages


def review_overview(principal: Principal, period_code: str, bureau: str | None = None, flag_sort: str = "bureau",
                    pending_sort: str = "oldest", flag_page: int = 1, pending_page: int = 1,
                    page_size: int = PAGE_SIZE, db: Database | None = None) -> dict:
    """The 佐证核查 page: 无佐证 items and files awaiting review, filtered by 局, sorted and paged here."""
    require(principal, "view_evidence_review")
    db = db or get_db()
    flags = _scoped(no_evidence_frame(period_code, db), principal, bureau)
    flag_sort = flag_sort if flag_sort in FLAG_SORTS else "bureau"
    by = {"bureau": ["bureau", "unit", "item"], "unit": ["unit", "item"], "item": ["item", "unit"]}[flag_sort]
    flags = flags.sort_values(by, kind="stable")
    pending = _scoped(pending_frame(period_code, db), principal, bureau)
    pending_sort = pending_sort if pending_sort in PENDING_SORTS else "oldest"
    if pending_sort == "unit":
        pending = pending.sort_values(["unit", "uploaded_at", "id"], kind="stable")
    else:
        pending = pending.sort_values(["uploaded_at", "id"], ascending=pending_sort == "oldest", kind="stable")
    flag_rows, flag_page, flag_pages = _page(flags, flag_page, page_size)
    pend_rows, pending_page, pending_pages = _page(pending, pending_page, page_size)
    from data.services import bureaus_of

    return {"flags": flag_rows, "n_flags": len(flags), "flag_page": flag_page, "flag_pages": flag_pages,
            "flag_units": int(flags["unit"].nunique()), "flag_sort": flag_sort,
            "pending": pend_rows, "n_pending": len(pending), "pending_page": pending_page,
            "pending_pages": pending_pages, "pending_sort": pending_sort,
            "bureau": bureau, "bureaus": bureaus_of(period_code, db)}
