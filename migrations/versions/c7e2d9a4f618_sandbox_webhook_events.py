"""sandbox: webhook events it owes our endpoint, and payments that wait for the backer

Revision ID: c7e2d9a4f618
Revises: b18a1e2f3c40
Create Date: 2026-12-07 09:10:00

The sandbox processor now models Stripe's asynchronous payments: a charge may wait as
`requires_action` (15 characters: the status column grows to 20) until the backer finishes
it on the sandbox's bank or wallet page, or it is `canceled`. Every change it makes queues a
signed webhook event, delivered in the background and retried (`sandbox_webhook_events`).
"""
from alembic import op
import sqlalchemy as sa


revision = 'c7e2d9a4f618'
down_revision = 'b18a1e2f3c40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sandbox_webhook_events',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deliver_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_webhook_events'))
    )
    op.create_index('ix_sandbox_webhook_events_undelivered', 'sandbox_webhook_events', ['created_at', 'id'],
                    unique=False, postgresql_where=sa.text('delivered_at IS NULL'),
                    sqlite_where=sa.text('delivered_at IS NULL'))
    with op.batch_alter_table('sandbox_operations') as batch:
        batch.alter_column('status', existing_type=sa.String(length=12), type_=sa.String(length=20),
                           existing_nullable=False)


def downgrade():
    # `requires_action` does not fit the old column: a payment still waiting is abandoned.
    op.execute("UPDATE sandbox_operations SET status = 'canceled' WHERE status = 'requires_action'")
    with op.batch_alter_table('sandbox_operations') as batch:
        batch.alter_column('status', existing_type=sa.String(length=20), type_=sa.String(length=12),
                           existing_nullable=False)
    op.drop_index('ix_sandbox_webhook_events_undelivered', table_name='sandbox_webhook_events')
    op.drop_table('sandbox_webhook_events')
