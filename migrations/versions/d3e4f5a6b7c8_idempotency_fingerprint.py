"""pledges remember a fingerprint of the request that created them

Revision ID: d3e4f5a6b7c8
Revises: c2d3e4f5a6b7
Create Date: 2026-12-07 12:30:00

The SHA-256 (hex) of what the request that made the pledge asked for (route and canonical
JSON body): the same Idempotency-Key sent again with another body answers 409
`idempotency_key_reused` instead of the first pledge. Null for pledges made before, and for
those made on the web (one key per rendered form).
"""
from alembic import op
import sqlalchemy as sa


revision = 'd3e4f5a6b7c8'
down_revision = 'c2d3e4f5a6b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pledges') as batch:
        batch.add_column(sa.Column('request_fingerprint', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('pledges') as batch:
        batch.drop_column('request_fingerprint')
