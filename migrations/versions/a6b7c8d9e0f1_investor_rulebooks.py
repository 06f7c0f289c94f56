"""investor rulebooks (issue 24): reference FX rates, per-commitment acknowledgement

Revision ID: a6b7c8d9e0f1
Revises: f5a6b7c8d9e0
Create Date: 2026-12-07 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a6b7c8d9e0f1'
down_revision = 'f5a6b7c8d9e0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fx_rates',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('per_usd', sa.String(length=32), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_fx_rates_updated_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('currency', name=op.f('pk_fx_rates'))
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risks_acknowledged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_column('risks_acknowledged_at')
    op.drop_table('fx_rates')
