"""One unit at a time on the 组织管理 page: add/edit, rename, move, merge, close, category renames.

Same rules as the 单位名单 import (``data/org.py``): an add/edit is a one-row import, and the
dated history (names, closing dates) uses the import's primitives. One transaction and one audit
row per change; admin only (``manage_org``), the CLI operator (principal ``None``) trusted.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.db import Database, get_db
from data.intake.units import COLUMNS, HEADERS, KIND_RANK
from data.models import OrgUnit, UserUnit
from data.org import (UnitImportPreview, _cell, _check, _close, _org_changed, _rename, _units, _who, commit_units,
                      default_effective_date)
from data.permissions import Principal
from data.services import InvalidInput, audit, clear_cache


def _row_csv(values: dict) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    w.writerow([_cell(values.get(c.name)) for c in COLUMNS])
    return buf.getvalue().encode("utf-8")


def save_unit(principal: Principal | None, values: dict, effective: dt.date | None = None,
              db: Database | None = None) -> UnitImportPreview:
    """Add or edit one unit (keys: the row keys of ``data.intake.units.COLUMNS``).

    The row goes through exactly the checks of a file import (a one-row 单位名单), so the
    page and the import cannot disagree. Errors raise ``InvalidInput`` with every message.
    """
    _check(principal)
    db = db or get_db()
    code = str(values.get("code") or "").strip().upper()
    if not code:
        raise InvalidInput("请填写单位编码")
    with db.session() as s:
        stored = s.scalar(select(OrgUnit).where(OrgUnit.code == code))
        if stored is not None:  # fields left out of the form keep their stored value
            base = _units(s).set_index("code").loc[code].to_dict()
            values = {**{k: base.get(k) for k in ("name", "kind", "parent", "bureau", "level", "category",
                                                   "secretary", "members_full", "members_probationary",
                                                   "last_election", "assessed", "has_committee")},
                      **{k: v for k, v in values.items() if v is not None}}
    values = {**values, "code": code}
    pv = commit_units(principal, _row_csv(values), "单位信息", effective=effective, db=db, action="unit_save")
    if not pv.ok:
        raise InvalidInput("；".join(i.message.split(" 第 2 行 ", 1)[-1] for i in pv.report.errors))
    return pv


def _unit(s: Session, code: str) -> OrgUnit:
    u = s.scalar(select(OrgUnit).where(OrgUnit.code == (code or "").strip().upper()))
    if u is None:
        raise InvalidInput(f"单位编码 {code} 不存在")
    if u.valid_to is not None:
        raise InvalidInput(f"单位 {u.code}「{u.name}」已于 {u.valid_to.isoformat()} 撤销或合并，不能再修改")
    return u


def rename_unit(principal: Principal | None, code: str, new_name: str, effective: dt.date | None = None,
                db: Database | None = None) -> None:
    _check(principal)
    new_name = " ".join((new_name or "").split())
    if not new_name:
        raise InvalidInput("请填写新名称")
    eff = effective or default_effective_date()
    db = db or get_db()
    with db.session() as s:
        u = _unit(s, code)
        if u.name == new_name:
            raise InvalidInput("新名称与现名称相同")
        if eff <= u.valid_from:
            raise InvalidInput(f"更名生效日期应晚于单位成立日期 {u.valid_from.isoformat()}")
        before = u.name
        _rename(s, u, new_name, eff)
        _org_changed(s)
        audit(s, principal, "unit_rename", entity="org_unit", entity_id=u.code, unit_code=u.code, **_who(principal),
              before={"name": before}, after={"name": new_name, "effective": eff})
    clear_cache()


def _descendants(s: Session, u: OrgUnit) -> list[OrgUnit]:
    out, frontier = [], [u.id]
    while frontier:
        kids = s.scalars(select(OrgUnit).where(OrgUnit.parent_id.in_(frontier), OrgUnit.valid_to.is_(None))).all()
        out += kids
        frontier = [k.id for k in kids]
    return out


def move_unit(principal: Principal | None, code: str, parent_code: str | None, db: Database | None = None) -> None:
    """Put a unit (and everything under it) under another parent; moving to another 局 takes its 局 along."""
    _check(principal)
    db = db or get_db()
    with db.session() as s:
        u = _unit(s, code)
        before = {"parent": s.get(OrgUnit, u.parent_id).code if u.parent_id else None, "bureau": u.bureau}
        if parent_code:
            p = _unit(s, parent_code)
            if p.id == u.id or p.id in {d.id for d in _descendants(s, u)}:
                raise InvalidInput("不能把单位移到它自己或它的下级单位之下（会形成循环）")
            if KIND_RANK.get(p.kind, 0) <= KIND_RANK.get(u.kind, 0):
                raise InvalidInput(f"{p.name}是{p.kind}，不能管辖{u.kind}；请选择党委或党总支作为上级")
            u.parent_id = p.id
            if p.bureau != u.bureau:
                for d in [u] + _descendants(s, u):
                    d.bureau = p.bureau
        else:
            u.parent_id = None
        _org_changed(s)
        audit(s, principal, "unit_move", entity="org_unit", entity_id=u.code, unit_code=u.code, **_who(principal),
              before=before, after={"parent": parent_code or None, "bureau": u.bureau})
    clear_cache()


def close_unit(principal: Principal | None, code: str, effective: dt.date, db: Database | None = None) -> None:
    """撤销: the unit takes part in no period starting on or after ``effective``; its history stays."""
    _check(principal)
    db = db or get_db()
    with db.session() as s:
        u = _unit(s, code)
        _closable(s, u, effective)
        _close(s, u, effective)
        _org_changed(s)
        audit(s, principal, "unit_close", entity="org_unit", entity_id=u.code, unit_code=u.code, **_who(principal),
              after={"closed_from": effective})
    clear_cache()


def _closable(s: Session, u: OrgUnit, effective: dt.date) -> None:
    if effective <= u.valid_from:
        raise InvalidInput(f"撤销日期应晚于单位成立日期 {u.valid_from.isoformat()}")
    kids = _descendants(s, u)
    if kids:
        raise InvalidInput(f"{u.name}下还有 {len(kids)} 个下级单位（如 {kids[0].code} {kids[0].name}），"
                           "请先将其移到其他上级或撤销")


def merge_units(principal: Principal | None, code: str, into_code: str, effective: dt.date,
                db: Database | None = None) -> None:
    """合并: ``code`` closes from ``effective`` and is recorded as merged into ``into_code``.

    Both units keep their own evidence and scores in the periods they took part in; staff who
    answered for the merged unit now also answer for the one it joined.
    """
    _check(principal)
    db = db or get_db()
    with db.session() as s:
        u = _unit(s, code)
        into = _unit(s, into_code)
        if u.id == into.id:
            raise InvalidInput("不能把单位合并到它自己")
        _closable(s, u, effective)
        _close(s, u, effective, merged_into=into)
        holders = s.scalars(select(UserUnit.user_id).where(UserUnit.unit_id == u.id)).all()
        have = set(s.scalars(select(UserUnit.user_id).where(UserUnit.unit_id == into.id)).all())
        for uid in holders:
            if uid not in have:
                s.add(UserUnit(user_id=uid, unit_id=into.id))
        _org_changed(s)
        audit(s, principal, "unit_merge", entity="org_unit", entity_id=u.code, unit_code=u.code, **_who(principal),
              before={"name": u.name}, after={"merged_into": into.code, "closed_from": effective,
                                              "staff_added": len([x for x in holders if x not in have])})
    clear_cache()


def rename_category(principal: Principal | None, old: str, new: str, db: Database | None = None) -> int:
    """Rename a 考核类别 for every open unit in it; returns how many units changed."""
    _check(principal)
    old, new = (old or "").strip(), " ".join((new or "").split())
    if not old or not new:
        raise InvalidInput("请填写原类别和新类别名称")
    db = db or get_db()
    with db.session() as s:
        n = s.execute(update(OrgUnit).where(OrgUnit.category == old, OrgUnit.valid_to.is_(None))
                      .values(category=new)).rowcount
        if not n:
            raise InvalidInput(f"没有属于类别「{old}」的单位")
        _org_changed(s)
        audit(s, principal, "category_rename", entity="category", entity_id=old[:64], **_who(principal),
              before={"category": old}, after={"category": new, "units": n})
    clear_cache()
    return n


def categories_in_use(db: Database | None = None) -> list[str]:
    db = db or get_db()
    with db.session() as s:
        return sorted(x for x in s.scalars(select(OrgUnit.category).where(OrgUnit.valid_to.is_(None)).distinct())
                      if x)


__all__ = ["save_unit", "rename_unit", "move_unit", "close_unit", "merge_units", "rename_category",
           "categories_in_use"]
