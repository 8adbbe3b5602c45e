"""Set-based writes of many rows inside a session's transaction (demo and benchmark seeding).

``insert_rows`` sends plain tuples straight to the driver: PostgreSQL's ``COPY … FROM STDIN``
(psycopg), otherwise one ``executemany`` of a prepared INSERT. At 10,000 units the demo writes about
a million evidence rows; through ORM bulk inserts (a dict per row, SQLAlchemy building parameters)
that took about 30 s of CPU, this way a few seconds. No defaults or events of the models run: the
caller passes every column it wants set.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_rows(s: Session, table: Table, columns: Sequence[str], rows: Iterable[tuple],
                constants: dict | None = None) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` in the session's transaction.

    ``rows`` hold driver-ready values (numbers, strings, None); ``constants`` (column → value, the same
    for every row) go through the column types' bind processing once, so dates and times are stored
    exactly as the ORM stores them.
    """
    conn = s.connection()
    dialect = conn.dialect
    constants = constants or {}
    extra = []
    for name, value in constants.items():
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        extra.append(process(value) if process else value)
    extra = tuple(extra)
    if extra:
        rows = (row + extra for row in rows)
    columns = list(columns) + list(constants)
    dbapi = conn.connection.driver_connection
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    quoted = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        with dbapi.cursor() as cur, cur.copy(f"COPY {quoted} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * len(columns))
    cur = dbapi.cursor()
    try:
        cur.executemany(f"INSERT INTO {quoted} ({names}) VALUES ({marks})", rows)
    finally:
        cur.close()
