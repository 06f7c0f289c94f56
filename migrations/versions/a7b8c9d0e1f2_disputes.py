"""disputes: backers' chargebacks, as the payment processor reports them

Revision ID: a7b8c9d0e1f2
Revises: f1c2d3e4a5b6
Create Date: 2026-12-07 09:00:00

One row per processor dispute (at most one per pledge: a charge is disputed once), with
where our books took the pledge's money from and what was asked of the firm's connected
account (crowdfund/services/disputes.py). A pledge's status may now also be `disputed`
(pledges.status is a String(20): no change to the table).
"""
from alembic import op
import sqlalchemy as sa


revision = 'a7b8c9d0e1f2'
down_revision = 'f1c2d3e4a5b6'
branch_labels = None
depends_on = None

MONEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('processor_ref', sa.String(length=100), nullable=False),
    sa.Column('pledge_id', MONEY, nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('fee', MONEY, nullable=False),
    sa.Column('reason', sa.String(length=50), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('evidence_due_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evidence_url', sa.String(length=500), nullable=True),
    sa.Column('pledge_status_before', sa.String(length=20), nullable=False),
    sa.Column('booked', sa.Boolean(), nullable=False),
    sa.Column('totals_moved', sa.Boolean(), nullable=False),
    sa.Column('withheld_from_payout', sa.Boolean(), nullable=False),
    sa.Column('reversal_ref', sa.String(length=100), nullable=True),
    sa.Column('reversal_error', sa.Text(), nullable=True),
    sa.Column('repay_ref', sa.String(length=100), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_disputes_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes')),
    sa.UniqueConstraint('pledge_id', name=op.f('uq_disputes_pledge_id')),
    sa.UniqueConstraint('processor_ref', name=op.f('uq_disputes_processor_ref'))
    )


def downgrade():
    op.drop_table('disputes')
