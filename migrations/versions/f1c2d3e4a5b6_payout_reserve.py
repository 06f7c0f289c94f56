"""settlements: the payout's due date, the reserve held back, and when a waiting one is due

Revision ID: f1c2d3e4a5b6
Revises: e4b6d2a1c3f8
Create Date: 2026-12-07 08:00:00

A successful campaign's payout now waits PAYOUT_DELAY after success, pays the firm's net
minus a reserve (PAYOUT_RESERVE_BPS), and pays the reserve by a second payout after
PAYOUT_RESERVE_DAYS (crowdfund/workflows/payouts.py). A settlement waiting for either, or
for the processor's balance, is `waiting_for_payout` until `due_at`; `payout_refusals`
numbers the idempotency key of each new try after the processor refused one.
"""
from alembic import op
import sqlalchemy as sa


revision = 'f1c2d3e4a5b6'
down_revision = 'e4b6d2a1c3f8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('settlements') as batch:
        batch.add_column(sa.Column('payout_due_at', sa.DateTime(timezone=True), nullable=True))
        # Existing rows held nothing back: 0, then the column keeps no server default (as the model).
        batch.add_column(sa.Column('reserve_amount', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                   nullable=False, server_default='0'))
        batch.add_column(sa.Column('reserve_ref', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('reserve_due_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('payout_refusals', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('settlements') as batch:
        batch.alter_column('reserve_amount', server_default=None)
        batch.alter_column('payout_refusals', server_default=None)


def downgrade():
    with op.batch_alter_table('settlements') as batch:
        batch.drop_column('payout_refusals')
        batch.drop_column('due_at')
        batch.drop_column('reserve_due_at')
        batch.drop_column('reserve_ref')
        batch.drop_column('reserve_amount')
        batch.drop_column('payout_due_at')
