"""Correcting and withdrawing a mistaken 整改 item (issue 13).

Owns the two writes an inspector needs when a 整改 item was registered by mistake or with
wrong details: ``correct_rectification`` (problem, item, deadline) and
``withdraw_rectification`` (status 「已撤回」: no longer open, never overdue). Both require
a reason, check role and unit scope, run in one transaction and append an audit row with
the item before and after. Registering, closing and rechecking stay in ``data.services``.
"""
from __future__ import annotations

import datetime as dt

from data.db import Database, get_db
from data.models import OPEN_RECTIFICATION, OrgUnit, Period, Rectification
from data.permissions import NotFound, Principal, require_unit
from data.services import InvalidInput, _rect_dict, audit, bump, check_deadline, table_for_period

WITHDRAWN = "已撤回"


def _load(s, rect_id: int, principal: Principal) -> tuple[Rectification, str, str]:
    r = s.get(Rectification, rect_id)
    if r is None:
        raise NotFound("整改事项不存在")
    unit = s.get(OrgUnit, r.unit_id)
    require_unit(principal, "rectify", unit.code)
    return r, unit.code, s.get(Period, r.period_id).code


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写更正或撤回的理由（必填，将记入审计日志）")
    return reason


def correct_rectification(principal: Principal, rect_id: int, reason: str, problem: str | None = None,
                          deadline: dt.date | None = None, item_code: str | None = None,
                          db: Database | None = None) -> None:
    """Correct an open 整改 item's problem text, related item or deadline (None keeps a field)."""
    reason = _reason(reason)
    db = db or get_db()
    with db.session() as s:
        r, unit_code, period_code = _load(s, rect_id, principal)
        if r.status not in OPEN_RECTIFICATION:
            raise InvalidInput(f"整改事项当前状态为「{r.status}」，只能更正整改中的事项")
        before = _rect_dict(r)
        if problem is not None:
            if not problem.strip():
                raise InvalidInput("请填写问题描述")
            r.problem = problem.strip()
        if deadline is not None:
            check_deadline(deadline)
            r.deadline = deadline
        if item_code is not None:
            if item_code:
                try:
                    table_for_period(period_code, db).item(item_code)
                except KeyError:
                    raise InvalidInput(f"指标 {item_code} 不在本期指标体系中") from None
            r.item_code = item_code or None
        after = _rect_dict(r)
        if {k: after[k] for k in ("problem", "deadline", "item")} == {k: before[k] for k in
                                                                      ("problem", "deadline", "item")}:
            raise InvalidInput("没有需要更正的内容")
        bump(s, r.period_id)
        audit(s, principal, "rectification_correct", entity="rectification", entity_id=r.id,
              period_code=period_code, unit_code=unit_code, before=before, after={**after, "reason": reason})


def withdraw_rectification(principal: Principal, rect_id: int, reason: str, db: Database | None = None) -> None:
    """Withdraw a 整改 item registered by mistake: it stays on record as 「已撤回」 with the reason."""
    reason = _reason(reason)
    db = db or get_db()
    with db.session() as s:
        r, unit_code, period_code = _load(s, rect_id, principal)
        if r.status == WITHDRAWN:
            raise InvalidInput("该整改事项已撤回")
        before = _rect_dict(r)
        r.status, r.recheck_at, r.recheck_result = WITHDRAWN, dt.date.today(), f"撤回：{reason}"
        bump(s, r.period_id)
        audit(s, principal, "rectification_withdraw", entity="rectification", entity_id=r.id,
              period_code=period_code, unit_code=unit_code, before=before, after={**_rect_dict(r), "reason": reason})
