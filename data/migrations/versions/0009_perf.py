"""a covering index for the scoring read of a period's current evidence

Revision ID: 0009_perf
Revises: 0001
"""
from alembic import op

revision = "0009_perf"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_evidence_period_current", "evidence_values",
                    ["period_id", "superseded_at", "unit_id", "field", "value"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_evidence_period_current", table_name="evidence_values")
