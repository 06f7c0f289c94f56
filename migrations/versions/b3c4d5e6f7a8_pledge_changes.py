"""backing (issue 23 items 1, 2, 4): add-ons, shipping regions, pledge changes

Revision ID: b3c4d5e6f7a8
Revises: a2b3c4d5e6f7
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b3c4d5e6f7a8'
down_revision = 'a2b3c4d5e6f7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reward_add_ons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('price', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('sold', sa.Integer(), nullable=False),
    sa.Column('shipping', sa.String(length=10), nullable=False),
    sa.Column('shipping_fee', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shipping_rates', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price > 0', name=op.f('ck_reward_add_ons_price_positive')),
    sa.CheckConstraint('quantity IS NULL OR sold <= quantity', name=op.f('ck_reward_add_ons_never_oversold')),
    sa.CheckConstraint('sold >= 0', name=op.f('ck_reward_add_ons_sold_not_negative')),
    sa.CheckConstraint("shipping IN ('none', 'domestic', 'worldwide')", name=op.f('ck_reward_add_ons_shipping_kind')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_reward_add_ons_project_id_projects'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_add_ons'))
    )
    with op.batch_alter_table('reward_add_ons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_add_ons_project_id'), ['project_id'], unique=False)

    op.create_table('pledge_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('amount_before', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_after', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('charge_ref', sa.String(length=100), nullable=True),
    sa.Column('refund_ref', sa.String(length=100), nullable=True),
    sa.Column('old_charge_ref', sa.String(length=100), nullable=True),
    sa.Column('payment_method', sa.String(length=100), nullable=True),
    sa.Column('failure_code', sa.String(length=50), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processor_fee', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_changes_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_changes')),
    sa.UniqueConstraint('pledge_id', 'number', name=op.f('uq_pledge_changes_pledge_id_number'))
    )
    with op.batch_alter_table('pledge_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_changes_pledge_id'), ['pledge_id'], unique=False)

    with op.batch_alter_table('reward_tiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_rates', sa.JSON(), nullable=True))
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('add_ons', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('add_ons_amount', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_column('add_ons_amount')
        batch_op.drop_column('add_ons')
    with op.batch_alter_table('reward_tiers', schema=None) as batch_op:
        batch_op.drop_column('shipping_rates')
    with op.batch_alter_table('pledge_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_changes_pledge_id'))
    op.drop_table('pledge_changes')
    with op.batch_alter_table('reward_add_ons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_add_ons_project_id'))
    op.drop_table('reward_add_ons')
