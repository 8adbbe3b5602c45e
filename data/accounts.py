"""User accounts: argon2 password hashes, sign-in checks, creation, and the Principal of a user.

Owns the users and user_units tables' use cases. Plain-text passwords never leave
this module's function arguments (never stored, never logged, never audited).
"""
from __future__ import annotations

import hashlib
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from data.db import Database, get_db
from data.models import OrgUnit, User, utcnow
from data.permissions import ALL_ROLES, Principal, require
from data.services import InvalidInput, audit

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def principal_of(user: User) -> Principal:
    return Principal(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                     unit_codes=frozenset(u.code for u in user.units))


def get_principal(user_id: int, db: Database | None = None) -> Principal | None:
    db = db or get_db()
    with db.session() as s:
        u = s.get(User, user_id)
        return principal_of(u) if u is not None and u.active else None


def credential_stamp(password_hash: str) -> str:
    """A short digest of the stored hash: kept in the session at sign-in, so a password reset
    (a new salted hash) ends every session opened with the old password."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


def get_principal_and_stamp(user_id: int, db: Database | None = None) -> tuple[Principal | None, str | None]:
    db = db or get_db()
    with db.session() as s:
        u = s.get(User, user_id)
        if u is None or not u.active:
            return None, None
        return principal_of(u), credential_stamp(u.password_hash)


def principal_by_name(username: str, db: Database | None = None) -> Principal | None:
    db = db or get_db()
    with db.session() as s:
        u = s.scalar(select(User).where(User.username == username))
        return principal_of(u) if u is not None and u.active else None


def authenticate(username: str, password: str, ip: str | None = None, db: Database | None = None) -> Principal | None:
    """The principal when username and password match an active user; audits success and failure."""
    db = db or get_db()
    with db.session() as s:
        u = s.scalar(select(User).where(User.username == (username or "").strip()))
        ok = False
        try:
            ok = _hasher.verify(u.password_hash if u else _DUMMY_HASH, password or "") and u is not None and u.active
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            audit(s, None, "login_failed", entity="user", entity_id=username, username=(username or "")[:64], ip=ip)
            return None
        if _hasher.check_needs_rehash(u.password_hash):
            u.password_hash = _hasher.hash(password)
        u.last_login_at = utcnow()
        p = principal_of(u)
        audit(s, p, "login", entity="user", entity_id=u.username, ip=ip)
        return p


def create_user(username: str, password: str, role: str, display_name: str | None = None,
                unit_codes: list[str] | None = None, actor: Principal | None = None,
                db: Database | None = None) -> int:
    """Create a user. ``actor`` None means the CLI operator (trusted shell access)."""
    if actor is not None:
        require(actor, "manage_users")
    if not USERNAME_RE.match(username or ""):
        raise InvalidInput("用户名只能包含字母、数字、下划线、点和连字符，长度 2–64")
    if role not in ALL_ROLES:
        raise InvalidInput(f"角色应为 {'、'.join(ALL_ROLES)} 之一")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位")
    db = db or get_db()
    with db.session() as s:
        if s.scalar(select(User).where(User.username == username)):
            raise InvalidInput(f"用户名 {username} 已存在")
        units = []
        for code in unit_codes or []:
            unit = s.scalar(select(OrgUnit).where(OrgUnit.code == code))
            if unit is None:
                raise InvalidInput(f"单位编码 {code} 不存在")
            units.append(unit)
        u = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                 role=role, units=units)
        s.add(u)
        s.flush()
        audit(s, actor, "user_create", entity="user", entity_id=username, username=None if actor else "cli",
              after={"username": username, "role": role, "units": [x.code for x in units]})
        return u.id


def list_users(actor: Principal, db: Database | None = None) -> list[dict]:
    """Every account with its role and unit scope (never the hash)."""
    require(actor, "manage_users")
    db = db or get_db()
    with db.session() as s:
        return [dict(id=u.id, username=u.username, display_name=u.display_name, role=u.role, active=u.active,
                     units=[x.code for x in u.units], last_login_at=u.last_login_at, created_at=u.created_at)
                for u in s.scalars(select(User).order_by(User.id)).all()]


def set_user_active(actor: Principal, username: str, active: bool, db: Database | None = None) -> None:
    """Enable or disable an account (accounts are never deleted: the audit log names them)."""
    require(actor, "manage_users")
    if username == actor.username and not active:
        raise InvalidInput("不能停用自己的账号")
    db = db or get_db()
    with db.session() as s:
        u = s.scalar(select(User).where(User.username == username))
        if u is None:
            raise InvalidInput(f"用户 {username} 不存在")
        before = {"active": u.active}
        u.active = bool(active)
        audit(s, actor, "user_update", entity="user", entity_id=username, before=before, after={"active": u.active})


def set_user_password(actor: Principal, username: str, password: str, db: Database | None = None) -> None:
    """Reset a password (admin); the audit row records that it changed, never the value."""
    require(actor, "manage_users")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位")
    db = db or get_db()
    with db.session() as s:
        u = s.scalar(select(User).where(User.username == username))
        if u is None:
            raise InvalidInput(f"用户 {username} 不存在")
        u.password_hash = hash_password(password)
        audit(s, actor, "user_update", entity="user", entity_id=username, after={"password": "已重置"})
