"""sandbox_operations.fee: what the sandbox processor kept of a successful charge

Revision ID: e4b6d2a1c3f8
Revises: d3a5c1f0b2e7
Create Date: 2026-12-07 07:00:00

Processors keep a fee on every successful charge and do not return it on a refund. Our
ledger books it (`processor_fee`); the sandbox's own book keeps it too, so that
`flask ledger reconcile` can compare the two.
"""
from alembic import op
import sqlalchemy as sa


revision = 'e4b6d2a1c3f8'
down_revision = 'd3a5c1f0b2e7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sandbox_operations') as batch:
        batch.add_column(sa.Column('fee', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))


def downgrade():
    with op.batch_alter_table('sandbox_operations') as batch:
        batch.drop_column('fee')
