"""pledges: requires_action (a payment waiting for the backer) and its next action

Revision ID: b18a1e2f3c40
Revises: 7a4e5f6b8c21
Create Date: 2026-12-07 06:40:00

3-D Secure and wallets (Alipay, WeChat Pay) finish a payment after the charge call has
answered. The pledge waits as `requires_action` (15 characters: the status column grows
to 20) and keeps what the backer must do next (`next_action`, JSON) until the processor's
answer arrives by webhook, the return page or reconcile.
"""
from alembic import op
import sqlalchemy as sa


revision = 'b18a1e2f3c40'
down_revision = '7a4e5f6b8c21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pledges') as batch:
        batch.alter_column('status', existing_type=sa.String(length=12), type_=sa.String(length=20),
                           existing_nullable=False)
        batch.add_column(sa.Column('next_action', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('pledges') as batch:
        batch.drop_column('next_action')
        batch.alter_column('status', existing_type=sa.String(length=20), type_=sa.String(length=12),
                           existing_nullable=False)
