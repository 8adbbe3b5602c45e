"""cheaper supersedes: ix_evidence_current without superseded_at; superseded_by_id without a FOREIGN KEY

A commit that replaces a value inserts the new row and marks the old one superseded. Two parts of
that mark cost more than the write itself (2,000-unit file, ~75,000 values replaced, SQLite):

* ``ix_evidence_current`` held ``superseded_at``, so each mark moved the row's entry (a delete and an
  insert). Current values are read through the partial index ``ix_evidence_period_values`` (0008);
  what still needs this one is a unit's history, by (period, unit, field). Without the column a mark
  leaves it alone.
* The self-referencing FOREIGN KEY on ``superseded_by_id`` made SQLite's UPDATE about twice as slow
  (0.50 s → 0.24 s for the 75,000 marks). The pointer is written in one place only
  (``evidence_service._insert_and_supersede``), to the id of a row inserted in the same transaction,
  and evidence rows are never deleted, so it cannot dangle; tests check it on both databases.

Revision ID: 0009_supersede_writes
Revises: 0008_evidence_index
"""
from alembic import op


revision = "0009_supersede_writes"
down_revision = "0008_evidence_index"
branch_labels = None
depends_on = None

# 0001 left the constraint unnamed: PostgreSQL named it by its default rule; SQLite's batch mode
# (which copies the table) finds it through this naming convention.
_PG_NAME = "evidence_values_superseded_by_id_fkey"
_SQLITE_CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
_SQLITE_NAME = "fk_evidence_values_superseded_by_id_evidence_values"


def _drop_pointer_fk(batch_op) -> None:
    if op.get_bind().dialect.name == "postgresql":
        batch_op.drop_constraint(_PG_NAME, type_="foreignkey")
    else:
        batch_op.drop_constraint(_SQLITE_NAME, type_="foreignkey")


def upgrade() -> None:
    with op.batch_alter_table("evidence_values", schema=None, naming_convention=_SQLITE_CONVENTION) as batch_op:
        batch_op.drop_index("ix_evidence_current")
        batch_op.create_index("ix_evidence_current", ["period_id", "unit_id", "field"], unique=False)
        _drop_pointer_fk(batch_op)


def downgrade() -> None:
    name = _PG_NAME if op.get_bind().dialect.name == "postgresql" else _SQLITE_NAME
    with op.batch_alter_table("evidence_values", schema=None, naming_convention=_SQLITE_CONVENTION) as batch_op:
        batch_op.create_foreign_key(name, "evidence_values", ["superseded_by_id"], ["id"])
        batch_op.drop_index("ix_evidence_current")
        batch_op.create_index("ix_evidence_current", ["period_id", "unit_id", "field", "superseded_at"],
                              unique=False)
