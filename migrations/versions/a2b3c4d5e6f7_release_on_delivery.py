"""release on delivery (issue 26): release model, shipments

Revision ID: a2b3c4d5e6f7
Revises: f1a2b3c4d5e6
Create Date: 2026-12-07 18:00:00

`projects.release_model`: at_success (every existing campaign) or on_delivery (part of a
successful reward campaign's money is held until each backer's reward is delivered).
`shipments`, `pledge_deliveries` (one per released pledge of an on_delivery campaign) and
`delivery_payouts` (the daily batches of released remainders).
"""
from alembic import op
import sqlalchemy as sa


revision = 'a2b3c4d5e6f7'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None

MONEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('release_model', sa.String(length=20), nullable=False,
                                   server_default='at_success'))
    op.create_table(
        'shipments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('carrier', sa.String(length=60), nullable=False),
        sa.Column('tracking', sa.String(length=100), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_shipments_project_id_projects'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_shipments_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    )
    op.create_index(op.f('ix_shipments_project_id'), 'shipments', ['project_id'], unique=False)
    op.create_table(
        'delivery_payouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('settlement_id', sa.Integer(), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('ref', sa.String(length=100), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('refusals', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_delivery_payouts_project_id_projects')),
        sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'],
                                name=op.f('fk_delivery_payouts_settlement_id_settlements')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_payouts')),
    )
    op.create_index(op.f('ix_delivery_payouts_project_id'), 'delivery_payouts', ['project_id'], unique=False)
    op.create_table(
        'pledge_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pledge_id', MONEY, nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('held_amount', MONEY, nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('due_month', sa.String(length=7), nullable=True),
        sa.Column('shipment_id', sa.Integer(), nullable=True),
        sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('confirm_by', sa.DateTime(timezone=True), nullable=True),
        sa.Column('problem_reason', sa.Text(), nullable=True),
        sa.Column('problem_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('late_flagged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('released_how', sa.String(length=20), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refund_ref', sa.String(length=100), nullable=True),
        sa.Column('refund_after', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refund_attempts', sa.Integer(), nullable=False),
        sa.Column('refund_error', sa.Text(), nullable=True),
        sa.Column('parked', sa.Boolean(), nullable=False),
        sa.Column('payout_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('held_amount >= 0', name=op.f('ck_pledge_deliveries_held_not_negative')),
        sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_deliveries_pledge_id_pledges')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_pledge_deliveries_project_id_projects')),
        sa.ForeignKeyConstraint(['tier_id'], ['reward_tiers.id'],
                                name=op.f('fk_pledge_deliveries_tier_id_reward_tiers')),
        sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'],
                                name=op.f('fk_pledge_deliveries_shipment_id_shipments')),
        sa.ForeignKeyConstraint(['payout_id'], ['delivery_payouts.id'],
                                name=op.f('fk_pledge_deliveries_payout_id_delivery_payouts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_deliveries')),
        sa.UniqueConstraint('pledge_id', name=op.f('uq_pledge_deliveries_pledge_id')),
    )
    op.create_index('ix_pledge_deliveries_project_status', 'pledge_deliveries', ['project_id', 'status'],
                    unique=False)
    op.create_index(op.f('ix_pledge_deliveries_shipment_id'), 'pledge_deliveries', ['shipment_id'], unique=False)
    op.create_index(op.f('ix_pledge_deliveries_confirm_by'), 'pledge_deliveries', ['confirm_by'], unique=False)
    op.create_index(op.f('ix_pledge_deliveries_payout_id'), 'pledge_deliveries', ['payout_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_pledge_deliveries_payout_id'), table_name='pledge_deliveries')
    op.drop_index(op.f('ix_pledge_deliveries_confirm_by'), table_name='pledge_deliveries')
    op.drop_index(op.f('ix_pledge_deliveries_shipment_id'), table_name='pledge_deliveries')
    op.drop_index('ix_pledge_deliveries_project_status', table_name='pledge_deliveries')
    op.drop_table('pledge_deliveries')
    op.drop_index(op.f('ix_delivery_payouts_project_id'), table_name='delivery_payouts')
    op.drop_table('delivery_payouts')
    op.drop_index(op.f('ix_shipments_project_id'), table_name='shipments')
    op.drop_table('shipments')
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('release_model')
