"""Server-side session rows (``server_sessions``): read, write, delete, and end every session of a user.

Owns the SQL behind the Flask-Session store in ``session_store.py``; knows nothing of
Flask. Rows carry the signed-in user's id so an account's sessions can be ended at once.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from data.db import Database
from data.models import ServerSession, utcnow


def load(db: Database, session_id: str) -> tuple[bytes, dt.datetime] | None:
    """(data, expiry) of a live session; an expired row is deleted and reads as absent."""
    with db.session() as s:
        row = s.scalar(select(ServerSession).where(ServerSession.session_id == session_id))
        if row is None:
            return None
        if row.expiry <= utcnow():
            s.delete(row)
            return None
        return row.data, row.expiry


def save(db: Database, session_id: str, data: bytes, expiry: dt.datetime, user_id: int | None) -> None:
    with db.session() as s:
        row = s.scalar(select(ServerSession).where(ServerSession.session_id == session_id))
        if row is None:
            s.add(ServerSession(session_id=session_id, data=data, expiry=expiry, user_id=user_id))
        else:
            row.data, row.expiry, row.user_id = data, expiry, user_id


def remove(db: Database, session_id: str) -> None:
    with db.session() as s:
        s.execute(delete(ServerSession).where(ServerSession.session_id == session_id))


def remove_for_user(s, user_id: int) -> int:
    """Inside the caller's transaction: delete every stored session of ``user_id``."""
    return s.execute(delete(ServerSession).where(ServerSession.user_id == user_id)).rowcount or 0


def purge_expired(db: Database) -> int:
    with db.session() as s:
        return s.execute(delete(ServerSession).where(ServerSession.expiry <= utcnow())).rowcount or 0


def count_for_user(db: Database, user_id: int) -> int:
    with db.session() as s:
        return len(s.scalars(select(ServerSession.id).where(ServerSession.user_id == user_id)).all())
