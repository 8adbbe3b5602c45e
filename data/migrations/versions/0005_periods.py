"""periods: reporting deadline (填报截止日期) and what happens to uploads after it

Revision ID: 0005_periods
Revises: 0001
Create Date: 2026-11-30 13:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_periods'
down_revision = '0006_table'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('periods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('late_policy', sa.String(length=8), nullable=False,
                                      server_default='warn'))


def downgrade() -> None:
    with op.batch_alter_table('periods', schema=None) as batch_op:
        batch_op.drop_column('late_policy')
        batch_op.drop_column('deadline')
