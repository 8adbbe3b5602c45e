"""Who may do what: the one access policy every page, callback, service and CLI command asks.

Pure policy over a ``Principal`` (no Flask, no database): the web layer builds a
Principal from the signed-in user, the CLI from ``--user``; services call
``require`` / ``require_unit`` before reading or writing anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field

LEADER, INSPECTOR, STAFF, ADMIN = "leader", "inspector", "staff", "admin"
ALL_ROLES = (LEADER, INSPECTOR, STAFF, ADMIN)
ROLE_LABELS = {LEADER: "局领导", INSPECTOR: "考核组", STAFF: "党务干事", ADMIN: "系统管理员"}

# action -> roles allowed. Unit scope is checked separately (staff see only their units).
ACTIONS: dict[str, tuple[str, ...]] = {
    "view_scores": ALL_ROLES,            # rankings, branch detail, gaps (staff: own units only)
    "view_candidates": (LEADER, INSPECTOR, ADMIN),
    "view_indicators": ALL_ROLES,
    "upload": (STAFF, INSPECTOR, ADMIN),
    "judge": (INSPECTOR,),               # judgement scores, deductions, 不适用 marks
    "rectify": (INSPECTOR,),             # open / close / recheck 整改 items
    "decide_candidate": (INSPECTOR,),
    "publish": (INSPECTOR,),
    "reopen_period": (ADMIN,),           # a published period back to 考核中 (reason required, audited)
    "manage_tables": (ADMIN,),
    "manage_users": (ADMIN,),
    "view_audit": (ADMIN,),
    "manage_org": (ADMIN,),              # organisation tree: import, add, rename, move, merge, close
    "view_bureaus": (LEADER, INSPECTOR, ADMIN),  # 各局对比
    "what_if": (LEADER, INSPECTOR, ADMIN),
    "view_progress": (INSPECTOR, STAFF, ADMIN),  # 填报进度 and the 催报 list (staff: own units)
    "review_attachment": (INSPECTOR,),   # 佐证材料: mark a file 已核实 / 不符合 with a note
    "view_evidence_review": (LEADER, INSPECTOR, ADMIN),  # 佐证核查: 无佐证 items and files awaiting review
    "self_assess": (STAFF,),             # a unit's own 自评分, entered by its staff  # 模拟测算: re-score with a changed table, stores nothing
    "record_activity": (STAFF, ADMIN),   # 三会一课 activity records: add, edit, withdraw, import (staff: own units)
}

# page name -> action needed to open it (the navigation shows only these).
PAGES: dict[str, str] = {
    "rankings": "view_scores",
    "branch": "view_scores",
    "gaps": "view_scores",
    "candidates": "view_candidates",
    "upload": "upload",
    "indicators": "view_indicators",
    "audit": "view_audit",
    "admin": "manage_users",
    "rectifications": "view_scores",
    "progress": "view_progress",
    "summary": "view_scores",           # 工作量统计 (work-summary figures and document downloads)
    "org": "manage_org",
    "bureaus": "view_bureaus",
    "evidence": "view_evidence_review",  # 佐证核查 (linked from 整改台账; not in the navbar)
}


class AccessDenied(Exception):
    """The principal may not do this (HTTP 403)."""


class NotFound(Exception):
    """The thing asked for does not exist (HTTP 404)."""


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    display_name: str
    role: str
    unit_codes: frozenset[str] = field(default_factory=frozenset)
    must_change_password: bool = False  # first sign-in / after an admin reset: only the password page opens

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def sees_all_units(self) -> bool:
        return self.role != STAFF

    def can(self, action: str) -> bool:
        return self.role in ACTIONS.get(action, ())

    def can_see_unit(self, unit_code: str) -> bool:
        # Codes can arrive from a forged request as lists or numbers: anything but text is no unit.
        return isinstance(unit_code, str) and (self.sees_all_units or unit_code in self.unit_codes)

    def can_open(self, page: str) -> bool:
        return self.can(PAGES[page])


def require(principal: Principal | None, action: str) -> Principal:
    if principal is None or not principal.can(action):
        raise AccessDenied(action)
    return principal


def require_unit(principal: Principal | None, action: str, unit_code: str) -> Principal:
    require(principal, action)
    if not principal.can_see_unit(unit_code):
        raise AccessDenied(f"{action}:{unit_code}")
    return principal


def unit_scope(principal: Principal) -> frozenset[str] | None:
    """None = all units; else the codes this principal may see."""
    return None if principal.sees_all_units else principal.unit_codes
