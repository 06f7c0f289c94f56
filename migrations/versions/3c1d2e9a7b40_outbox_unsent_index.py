"""outbox: a partial index of the unsent messages, in delivery order

Revision ID: 3c1d2e9a7b40
Revises: 8fbee0338d6f
Create Date: 2026-11-22 05:40:00

A delivery run claims the oldest unsent message again and again. Through the index on
sent_at, each claim visited every message sent since the last vacuum (their old, unsent
row versions); this index holds only unsent rows, in the order they are claimed.
"""
from alembic import op
import sqlalchemy as sa


revision = '3c1d2e9a7b40'
down_revision = '8fbee0338d6f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_outbox_messages_unsent', 'outbox_messages', ['created_at', 'id'], unique=False,
                    postgresql_where=sa.text('sent_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL'))


def downgrade():
    op.drop_index('ix_outbox_messages_unsent', table_name='outbox_messages')
