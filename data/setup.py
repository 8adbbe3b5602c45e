"""Production start: what ``flask --app app init-db`` does on top of the schema upgrade.

Owns the first-run state of an empty database: the shipped default indicator table
stored as a version (when no version exists), and the first admin account (when no
admin exists). Safe to run again: each step checks before it writes. The password
comes from the caller (environment or a hidden prompt, see ``cli.py``), never from
an argument, and is never logged.
"""
from __future__ import annotations

from sqlalchemy import func, select

from data.db import Database, get_db
from data.models import OrgUnit, Period, TableVersion, User
from data.services import audit
from scoring.indicators import default_table, table_to_dict

ADMIN_USERNAME = "admin"


def ensure_default_table(db: Database | None = None) -> str | None:
    """Store scoring/tables/2026.yaml as a version when the database has none; its version, else None."""
    db = db or get_db()
    with db.session() as s:
        if s.scalar(select(TableVersion.id).limit(1)) is not None:
            return None
        t = default_table()
        s.add(TableVersion(version=t.version, title=t.title, content=table_to_dict(t), note="系统内置默认版本"))
        audit(s, None, "table_version", entity="table_version", entity_id=t.version, username="init-db",
              after={"version": t.version, "title": t.title, "items": len(t.all_items)})
        return t.version


def admin_exists(db: Database | None = None) -> bool:
    db = db or get_db()
    with db.session() as s:
        return s.scalar(select(User.id).where(User.role == "admin", User.active.is_(True)).limit(1)) is not None


def create_admin(password: str, username: str = ADMIN_USERNAME, db: Database | None = None) -> str:
    from data.accounts import create_user

    create_user(username, password, "admin", display_name="系统管理员", db=db)
    return username


def state(db: Database | None = None) -> dict:
    """What is there: counts the next-steps text is based on."""
    db = db or get_db()
    with db.session() as s:
        return {"table_versions": s.scalar(select(func.count()).select_from(TableVersion)),
                "units": s.scalar(select(func.count()).select_from(OrgUnit)),
                "periods": s.scalar(select(func.count()).select_from(Period)),
                "versions": s.scalars(select(TableVersion.version).order_by(TableVersion.id)).all()}
