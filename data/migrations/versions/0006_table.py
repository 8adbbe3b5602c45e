"""grade overrides (直接定级)

Revision ID: 0006_table
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_table'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('grade_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('grade_overrides', schema=None) as batch_op:
        batch_op.create_index('ix_grade_override_current', ['period_id', 'unit_id', 'superseded_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('grade_overrides', schema=None) as batch_op:
        batch_op.drop_index('ix_grade_override_current')
    op.drop_table('grade_overrides')
