"""organisation tree: 支部委员会 flag and 不参加考核 date on org_units

Revision ID: 0002_org
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_org"
down_revision = '0005_periods'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("org_units") as batch:
        batch.add_column(sa.Column("has_committee", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("excluded_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("org_units") as batch:
        batch.drop_column("excluded_from")
        batch.drop_column("has_committee")
