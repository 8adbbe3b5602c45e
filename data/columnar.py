"""Columnar reads: the scoring path's large selects into Arrow arrays, with no Python object per row.

A cold score of a 10,000-unit period reads about 470,000 evidence values. Through a DB-API cursor
that is one tuple and three Python objects per row (about 0.5 s on SQLite; psycopg's COPY hands
over one message per row, about 1 s of CPU on PostgreSQL). ADBC (Arrow Database Connectivity,
the Apache Arrow project's drivers) reads the same rows through PostgreSQL's binary COPY straight
into Arrow columns in C: about 0.2 s of client CPU.

The read runs on a connection of its own, outside any session's transaction, so it is only for
reads that a fresh session would make too (``services`` loads a period's inputs that way). On
SQLite (see ``_adbc_connect``) ``arrow_table`` returns None and the caller reads through its
session as before.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session


def _adbc_connect(url: URL):
    """An ADBC DB-API connection to the database of ``url``, or None where ADBC cannot reach it."""
    backend = url.get_backend_name()
    # Not SQLite: ADBC's driver links its own copy of the SQLite library, and two copies in one
    # process break each other's POSIX locks on the same file (sqlite.org/howtocorrupt.html, 2.2.1);
    # tried, it gave 'disk I/O error' in the next sqlite3 connection.
    if backend == "postgresql":
        import adbc_driver_postgresql.dbapi

        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return adbc_driver_postgresql.dbapi.connect(libpq, autocommit=True)
    return None


def preload(url: str) -> None:
    """Import the ADBC driver now (about 0.5 s: it brings pyarrow.dataset) when ``url`` is PostgreSQL,
    so that the server pays it at start-up instead of the first viewer of a cold score."""
    if make_url(url).get_backend_name() == "postgresql":
        import adbc_driver_postgresql.dbapi  # noqa: F401


def arrow_table(s: Session, stmt) -> pa.Table | None:
    """The rows of the Core select ``stmt`` as an Arrow table, read through ADBC on the database
    ``s`` is bound to (its own connection: what ``s`` has written and not committed is not seen).
    None when ADBC cannot open that database; the caller then reads through ``s``."""
    bind = s.get_bind()
    conn = _adbc_connect(make_url(bind.url))
    if conn is None:
        return None
    sql = str(stmt.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True,
                                                                 "render_postcompile": True}))
    with contextlib.closing(conn), contextlib.closing(conn.cursor()) as cur:
        cur.execute(sql)
        return cur.fetch_arrow_table()


def text_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow text column as an object array (nulls → NaN). Through a dictionary: one Python string
    per distinct value (a few dozen field names), not one per row."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    distinct = np.array(encoded.dictionary.to_pylist() + [np.nan], dtype=object)  # code -1 (null) → NaN
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return distinct[codes]


def numbers(column: pa.ChunkedArray | pa.Array, dtype=float) -> np.ndarray:
    """An Arrow number column as a numpy array (nulls → NaN)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        column = column.cast(pa.float64())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=dtype)
