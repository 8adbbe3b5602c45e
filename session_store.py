"""Server-side, revocable sessions with Flask-Session: the app database by default, Redis when configured.

The browser keeps only a random session id; the data lives on the server, so logging out,
an idle timeout, disabling an account or changing its password ends the session for good
(a replayed cookie opens nothing). Flask-Session does the id generation, cookie handling,
serialisation and id rotation (``regenerate``); this module only supplies the storage.

Why not Flask-Session's own SQLAlchemy backend: it needs Flask-SQLAlchemy and a second
engine of its own, and creates its table outside Alembic. Here the store is the app's
``Database`` (one engine, the table in ``data/models.py`` and migration ``0004_security``),
through the same ``ServerSideSessionInterface`` extension point the library's backends use.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask, g
from flask_session.base import ServerSideSession, ServerSideSessionInterface

from data import sessions as store
from data.db import get_db
from data.models import utcnow

# An unchanged session is written back at most this often (the idle timer moves in these steps);
# Dash fires many callbacks per page, and each would otherwise be a write.
REFRESH_EVERY = dt.timedelta(seconds=60)


class DatabaseSession(ServerSideSession):
    pass


class DatabaseSessionInterface(ServerSideSessionInterface):
    """Flask-Session storage on the app database (``server_sessions``)."""

    session_class = DatabaseSession
    ttl = False  # expired rows are refused on read and purged by ``flask session_cleanup`` / every N requests

    def __init__(self, app: Flask):
        super().__init__(app, key_prefix="", use_signer=False, permanent=True, sid_length=32,
                         serialization_format="msgpack", cleanup_n_requests=500)

    def _retrieve_session_data(self, store_id: str):
        found = store.load(get_db(), store_id)
        if found is None:
            return None
        data, expiry = found
        g._session_snapshot = (store_id, bytes(data), expiry)
        return self.serializer.decode(bytes(data))

    def _delete_session(self, store_id: str) -> None:
        store.remove(get_db(), store_id)

    def _upsert_session(self, session_lifetime: dt.timedelta, session, store_id: str) -> None:
        data = self.serializer.encode(session)
        expiry = utcnow() + session_lifetime
        snap = g.get("_session_snapshot")
        if snap and snap[0] == store_id and snap[1] == data and expiry - snap[2] < REFRESH_EVERY:
            return
        user_id = session.get("_user_id")
        store.save(get_db(), store_id, data, expiry, int(user_id) if user_id is not None else None)

    def _delete_expired_sessions(self) -> None:
        store.purge_expired(get_db())


def redis_url(app: Flask) -> str | None:
    url = app.config.get("SESSION_REDIS_URL") or app.config.get("REDIS_URL")
    return url or None


def init_app(app: Flask) -> None:
    """Install the session interface: Redis when ``SESSION_REDIS_URL``/``REDIS_URL`` is set, else the database."""
    url = redis_url(app)
    if url:
        import redis
        from flask_session.redis import RedisSessionInterface

        app.session_interface = RedisSessionInterface(app, client=redis.Redis.from_url(url), key_prefix="dangjian:sess:",
                                                      use_signer=False, permanent=True, sid_length=32)
    else:
        app.session_interface = DatabaseSessionInterface(app)


def rotate(app: Flask, session) -> None:
    """A fresh session id (sign-in): the id a visitor had before signing in is worthless after."""
    app.session_interface.regenerate(session)
