"""the scoring read's covering index holds current values only; periods.units_version

``periods.units_version`` counts changes to the units a period assesses (org changes, period dates),
so that an evidence commit, which bumps only the data version, does not make every worker read the
units again.

ix_evidence_period_values was (period_id, superseded_at, unit_id, field, id, value) over every row:
each superseded value stayed in it, and superseding one moved its entry (a delete and an insert).
Now it is partial, ``WHERE superseded_at IS NULL``: superseding a value only deletes its entry, the
index is as large as the current data, and the scoring read (period's current values, ordered by
unit, field, id) still reads nothing but the index. A 2,000-unit commit's writes: about a third less.

Revision ID: 0008_evidence_index
Revises: 0007_records
"""
from alembic import op
import sqlalchemy as sa


revision = "0008_evidence_index"
down_revision = "0007_records"
branch_labels = None
depends_on = None

_CURRENT = sa.text("superseded_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("units_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("evidence_values", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_period_values")
        # superseded_at last (always NULL here): SQLite counts an index as covering only when it holds
        # every column the query names, its own WHERE's included.
        batch_op.create_index("ix_evidence_period_values",
                              ["period_id", "unit_id", "field", "id", "value", "superseded_at"],
                              unique=False, sqlite_where=_CURRENT, postgresql_where=_CURRENT)


def downgrade() -> None:
    with op.batch_alter_table("evidence_values", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_period_values")
        batch_op.create_index("ix_evidence_period_values",
                              ["period_id", "superseded_at", "unit_id", "field", "id", "value"], unique=False)
    with op.batch_alter_table("periods", schema=None) as batch_op:
        batch_op.drop_column("units_version")
