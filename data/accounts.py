"""User accounts: argon2 password hashes, sign-in checks, creation, and the Principal of a user.

Owns the users and user_units tables' use cases. Plain-text passwords never leave
this module's function arguments (never stored, never logged, never audited).
"""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from data import passwords
from data.db import Database, get_db
from data.models import OrgUnit, User, utcnow
from data.passwords import POLICY_TEXT
from data.permissions import ALL_ROLES, Principal, require
from data.services import InvalidInput, audit
from data.sessions import remove_for_user

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
USERNAME_MAX = 64  # users.username
MIN_PASSWORD = passwords.MIN_LENGTH

__all__ = ["InvalidInput", "POLICY_TEXT"]


def check_password(password: str, username: str) -> None:
    """Raise InvalidInput naming every policy problem (``data/passwords.py``)."""
    problems = passwords.check(password, username)
    if problems:
        raise InvalidInput("；".join(problems))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def principal_of(user: User) -> Principal:
    return Principal(id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                     unit_codes=frozenset(u.code for u in user.units),
                     must_change_password=bool(user.must_change_password))


def get_principal(user_id: int, db: Database | None = None) -> Principal | None:
    db = db or get_db()
    with db.session() as s:
        u = s.get(User, user_id)
        return principal_of(u) if u is not None and u.active else None


def get_principal_and_epoch(user_id: int, db: Database | None = None) -> tuple[Principal | None, int | None]:
    """The active user's Principal and session epoch (a session from an older epoch is dead)."""
    db = db or get_db()
    with db.session() as s:
        u = s.get(User, user_id)
        if u is None or not u.active:
            return None, None
        return principal_of(u), u.session_epoch or 0


def end_sessions(s, u: User) -> None:
    """Inside the caller's transaction: every session of ``u`` ends now (new epoch, stored sessions deleted)."""
    u.session_epoch = (u.session_epoch or 0) + 1
    remove_for_user(s, u.id)


def principal_by_name(username: str, db: Database | None = None) -> Principal | None:
    db = db or get_db()
    with db.session() as s:
        u = s.scalar(select(User).where(User.username == username))
        return principal_of(u) if u is not None and u.active else None


def authenticate(username: str, password: str, ip: str | None = None, db: Database | None = None) -> Principal | None:
    """The principal when username and password match an active user; audits success and failure.

    Any text is accepted and answered the same way: a name too long for the column is simply
    unknown (the failure is audited with the name cut to the column's length).
    """
    db = db or get_db()
    username = username if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    name = username.strip()
    with db.session() as s:
        u = s.scalar(select(User).where(User.username == name)) if 0 < len(name) <= USERNAME_MAX else None
        ok = False
        try:
            ok = _hasher.verify(u.password_hash if u else _DUMMY_HASH, password[:1024]) and u is not None and u.active
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            audit(s, None, "login_failed", entity="user", entity_id=name[:USERNAME_MAX], username=name[:USERNAME_MAX],
                  ip=(ip or "")[:64] or None)
            return None
        if _hasher.check_needs_rehash(u.password_hash):
            u.password_hash = _hasher.hash(password)
        u.last_login_at = utcnow()
        p = principal_of(u)
        audit(s, p, "login", entity="user", entity_id=u.username, ip=(ip or "")[:64] or None)
        return p


def audit_throttled(username: str, ip: str | None, db: Database | None = None) -> None:
    """A sign-in refused by the throttle (the password was not even checked)."""
    db = db or get_db()
    name = (username if isinstance(username, str) else "").strip()[:USERNAME_MAX]
    with db.session() as s:
        audit(s, None, "login_throttled", entity="user", entity_id=name, username=name, ip=(ip or "")[:64] or None)


def change_own_password(principal: Principal, current: str, new: str, confirm: str, ip: str | None = None,
                        db: Database | None = None) -> None:
    """Self-service change: the current password is required; every other session of the user ends."""
    db = db or get_db()
    if new != confirm:
        raise InvalidInput("两次输入的新密码不一致")
    with db.session() as s:
        u = s.get(User, principal.id)
        if u is None or not u.active:
            raise InvalidInput("账号不存在或已停用")
        try:
            _hasher.verify(u.password_hash, current or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise InvalidInput("当前密码不正确") from None
        check_password(new, u.username)
        if new == current:
            raise InvalidInput("新密码不能与当前密码相同")
        u.password_hash = hash_password(new)
        u.must_change_password = False
        end_sessions(s, u)
        audit(s, principal, "password_change", entity="user", entity_id=u.username, ip=(ip or "")[:64] or None,
              after={"password": "已修改"})


def create_user(username: str, password: str, role: str, display_name: str | None = None,
                unit_codes: list[str] | None = None, actor: Principal | None = None,
                db: Database | None = None, must_change: bool | None = None) -> int:
    """Create a user. ``actor`` None means the CLI operator (trusted shell access).

    An account an admin creates must choose its own password at first sign-in (``must_change``
    defaults to True when ``actor`` is given).
    """
    if actor is not None:
        require(actor, "manage_users")
    if not USERNAME_RE.match(username or ""):
        raise InvalidInput("用户名只能包含字母、数字、下划线、点和连字符，长度 2–64")
    if role not in ALL_ROLES:
        raise InvalidInput(f"角色应为 {'、'.join(ALL_ROLES)} 之一")
    if display_name is not None and len(display_name) > 64:
        raise InvalidInput("姓名不能超过 64 个字符")
    check_password(password, username)
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
                 role=role, units=units, must_change_password=(actor is not None) if must_change is None else must_change)
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
        if not u.active:
            end_sessions(s, u)
        audit(s, actor, "user_update", entity="user", entity_id=username, before=before, after={"active": u.active})


def set_user_password(actor: Principal, username: str, password: str, db: Database | None = None) -> None:
    """Reset a password (admin); the audit row records that it changed, never the value."""
    require(actor, "manage_users")
    db = db or get_db()
    with db.session() as s:
        u = s.scalar(select(User).where(User.username == username))
        if u is None:
            raise InvalidInput(f"用户 {username} 不存在")
        check_password(password, username)
        u.password_hash = hash_password(password)
        # The holder of a reset password must choose their own at the next sign-in; open sessions end.
        u.must_change_password = True
        end_sessions(s, u)
        audit(s, actor, "user_update", entity="user", entity_id=username,
              before={"must_change_password": False}, after={"password": "已重置", "must_change_password": True})
